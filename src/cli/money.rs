//! How the command line writes an amount of money: dollars as Wiro bills them, written once in
//! [`graph::usd`](crate::graph::usd) so every host says an amount alike.

pub(crate) use crate::graph::usd as money;
