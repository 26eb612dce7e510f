//! Tables of rows through one workflow: a CSV, TSV or JSON Lines file whose columns name
//! inputs (`NODE.INPUT`, as `--set` does) runs the flow once per row, checked whole before the
//! first Run, with one results table.
//!
//! A table is read by [`Table::read`] and matched with the flow by [`TableFlow`], which gives
//! each row's copy of the flow (its node ids prefixed by [`row_name`]) when it is needed.
//! [`Executor::run_rows`](crate::graph::Executor::run_rows) streams the rows through the
//! executor, a window at a time, and gives each row's [`RowResult`]; [`write_results`] writes
//! the results table. [`expand`] makes the whole table one workflow, for hosts that run one
//! document, and [`row_results`] sums such a run up per row.

mod after_run;
mod expand;
mod results;
mod stream;
mod table;

pub use after_run::{
    left_running_warnings, set_aside_earlier_files, stale_row_folders, SetAside, REPLACED,
};
pub(crate) use expand::downloads;
pub use expand::{
    check_rows, expand, problems_by_row, row_name, row_node, split_row, RowProblems, TableFlow,
};
pub use results::{results_file, row_results, write_results, RowOutcome, RowResult};
pub use stream::{LeftRunning, RowsReport};
pub(crate) use table::{counted, first_few};
pub use table::{Cell, Row, Table};
