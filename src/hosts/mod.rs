//! Hosts: everything that runs our nodes inside something else, each a thin adapter over
//! [`node`](crate::node) that never reimplements validation or the money rules.
//!
//! - [`n8n`] — generates an n8n community node package whose nodes run `wiro-nodes node exec`.

pub mod n8n;
