//! The local Wiro-compatible server.
pub mod video;
