//! `status`, `result` and `cancel` of a batch on Temporal (a table too big for one workflow,
//! run in parts): the batch's parts, and one results table gathered from every part.

use std::path::Path;

use super::EXIT_FAILED;
use crate::hosts::temporal::messages::{part_id, resume_chain};
use crate::hosts::temporal::{client, BatchReport, PartState};

/// Prints the batch's status and each part's, with the running part's own progress.
pub(crate) async fn status(connection: &temporalio_client::Client, id: &str, json: bool) -> u8 {
    let status = match client::status(connection, id).await {
        Ok(status) => status,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    let report = match client::batch_progress(connection, id).await {
        Ok(report) => report,
        Err(error) if json => {
            super::temporal::print_json(&serde_json::json!({
                "status": format!("{status:?}"),
                "progress_error": error,
            }));
            return 0;
        }
        Err(error) => {
            println!("{id} {status:?} ({error})");
            return 0;
        }
    };
    if json {
        super::temporal::print_json(&serde_json::json!({
            "status": format!("{status:?}"),
            "report": report,
        }));
        return 0;
    }
    println!("{id} {status:?}: {}", report.summary());
    print_parts(&report);
    for part in &report.parts {
        if part.state == PartState::Running {
            match client::progress(connection, &part.id).await {
                Ok(progress) => println!(
                    "  {}: {}",
                    part.id,
                    progress
                        .rows_summary()
                        .unwrap_or_else(|| progress.summary())
                ),
                Err(error) => println!("  {}: ({error})", part.id),
            }
        }
    }
    0
}

/// Waits for the batch to close and prints its report; with `results`, gathers every part's
/// rows into one results table there, as `run --rows` writes it.
pub(crate) async fn show_result(
    connection: &temporalio_client::Client,
    id: &str,
    json: bool,
    results: Option<&Path>,
) -> u8 {
    let report = match client::batch_result(connection, id).await {
        Ok(report) => report,
        // Terminated (or failed): no result, but its last state is still there to read.
        Err(error) => match client::batch_progress(connection, id).await {
            Ok(report) => {
                eprintln!("note: {error}; what follows is its last state");
                report
            }
            Err(_) => {
                eprintln!("error: {error}");
                return EXIT_FAILED;
            }
        },
    };
    if json {
        super::temporal::print_json(&report);
    } else {
        println!("{id}: {}", report.summary());
        print_parts(&report);
        for refused in &report.refused_rows {
            println!(
                "  row {} refused before submitting: {}",
                refused.row, refused.problems
            );
        }
    }
    let rows_failed = match results {
        Some(folder) => match results_table(connection, &report, folder, json).await {
            Ok(code) => code,
            Err(code) => return code,
        },
        None => None,
    };
    super::temporal::exit_status(report.cancelled, rows_failed, report.succeeded())
}

/// Writes the batch's results table into `folder`, each part's rows read from its report.
async fn results_table(
    connection: &temporalio_client::Client,
    report: &BatchReport,
    folder: &Path,
    json: bool,
) -> Result<Option<u8>, u8> {
    let registry = super::registry::registry_or_exit()?;
    let mut reports = Vec::with_capacity(report.parts.len());
    for (index, part) in report.parts.iter().enumerate() {
        let started = !matches!(
            part.state,
            PartState::Pending | PartState::Skipped | PartState::Failed
        );
        let ran = match started {
            true => Some(part.id.clone()),
            // A resumed batch that did not run a part: its rows stand as the batch it
            // resumes (or the one before that) left them.
            false => ran_before(connection, &report.batch_id, index).await?,
        };
        let Some(ran) = ran else {
            reports.push(None);
            continue;
        };
        match client::result(connection, &ran).await {
            Ok(part_report) => reports.push(Some(part_report)),
            Err(error) => {
                eprintln!("error: part {ran}: {error}");
                return Err(EXIT_FAILED);
            }
        }
    }
    use crate::hosts::temporal::rows::{batch_row_results, refused_results_of};
    let rows = batch_row_results(report, &reports, &registry);
    let refused = refused_results_of(&report.refused_rows);
    Ok(super::rows::finish(folder, rows, &refused, json))
}

/// The latest execution of part `index` in the batches `batch` resumed, if any ran it.
async fn ran_before(
    connection: &temporalio_client::Client,
    batch: &str,
    index: usize,
) -> Result<Option<String>, u8> {
    for earlier in resume_chain(batch).iter().skip(1) {
        let id = part_id(earlier, index);
        match client::status_if_any(connection, &id).await {
            Ok(None) => continue,
            Ok(Some(_)) => return Ok(Some(id)),
            Err(error) => {
                eprintln!("error: {error}");
                return Err(EXIT_FAILED);
            }
        }
    }
    Ok(None)
}

/// One line per part: its id, rows, state, and how its rows ended.
fn print_parts(report: &BatchReport) {
    for part in &report.parts {
        let rows = format!("rows {}–{}", part.first_row, part.last_row);
        let state = format!("{:?}", part.state).to_lowercase();
        let ended = match part.state {
            PartState::Ended => format!(
                ": {} done, {} not done, ${}",
                part.done,
                part.failed,
                crate::graph::dollars(part.cost)
            ),
            _ => String::new(),
        };
        let why = part
            .message
            .as_deref()
            .map(|message| format!(" ({message})"))
            .unwrap_or_default();
        println!("  {} [{rows}] {state}{ended}{why}", part.id);
    }
}
