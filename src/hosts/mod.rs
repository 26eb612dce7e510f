//! Hosts: the nodes run by engines other than the reference executor.

#[cfg(feature = "temporal")]
pub mod temporal;
