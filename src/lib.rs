//! wiro-nodes
pub mod api;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod models;
