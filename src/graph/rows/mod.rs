//! Tables of rows through one workflow: a CSV, TSV or JSON Lines file whose columns name
//! inputs (`NODE.INPUT`, as `--set` does) runs the flow once per row, checked whole before the
//! first Run, with one results table.
//!
//! A table is read by [`Table::read`], turned into one workflow by [`expand`] (each row a copy
//! of the flow, its node ids prefixed by [`row_name`]), run like any workflow, and summed up
//! per row by [`row_results`] and [`write_results`].

mod expand;
mod results;
mod table;

pub use expand::{describe_place, expand, row_name, split_row};
pub use results::{row_results, write_results, RowResult};
pub use table::{Cell, Row, Table};
