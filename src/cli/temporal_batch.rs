//! `status`, `result` and `cancel` of a batch on Temporal (a table too big for one workflow,
//! run in parts): the batch's parts, and one results table gathered from every part.

use std::path::Path;

use super::EXIT_FAILED;
use crate::hosts::temporal::messages::{part_id, resume_chain};
use crate::hosts::temporal::rows::{part_ended, rows_of};
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
        Ok(mut report) => {
            if status != temporalio_client::WorkflowExecutionStatus::Running {
                settle_parts(connection, &mut report).await;
            }
            report
        }
        Err(error) if json => {
            super::temporal::print_json(&serde_json::json!({
                "status": format!("{status:?}"),
                "progress_error": error,
            }));
            return 0;
        }
        Err(error) => {
            outln!("{id} {status:?} ({error})");
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
    outln!("{id} {status:?}: {}", report.summary());
    print_parts(&report);
    for part in &report.parts {
        if part.state == PartState::Running {
            match client::progress(connection, &part.id).await {
                Ok(progress) => outln!(
                    "  {}: {}",
                    part.id,
                    progress
                        .rows_summary()
                        .unwrap_or_else(|| progress.summary())
                ),
                Err(error) => outln!("  {}: ({error})", part.id),
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
    let report = match client::batch_result_or_last_state(connection, id).await {
        Ok((report, None)) => report,
        // Terminated (or failed): no result, but its last state is still there to read.
        Ok((mut report, Some(why))) => {
            eprintln!("note: {why}; what follows is its last state");
            settle_parts(connection, &mut report).await;
            report
        }
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
    };
    if json {
        super::temporal::print_json(&report);
    } else {
        outln!("{id}: {}", report.summary());
        print_parts(&report);
        super::temporal::print_refused(&report.refused_rows);
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
    // The report of the workflow the table first ran as whole, read when first needed.
    let mut began = None;
    for (index, part) in report.parts.iter().enumerate() {
        let started = match part.state {
            PartState::Pending | PartState::Skipped => false,
            // Failed before its workflow started (its resume could not be read, its input
            // did not fit), or its workflow was ended from outside the batch.
            PartState::Failed => exists(connection, &part.id).await?,
            _ => true,
        };
        let ran = match started {
            true => Some(part.id.clone()),
            // A resumed batch that did not run a part: its rows stand as the batch it
            // resumes (or the one before that) left them.
            false => ran_before(connection, &report.batch_id, index).await?,
        };
        let Some(ran) = ran else {
            // No batch ran it: its rows stand as the workflow that ran the table whole
            // left them, if one did.
            if let (Some(whole), None) = (&report.began_as, &began) {
                began = Some(whole_report(connection, whole).await?);
            }
            reports.push(began.as_ref().map(|whole| rows_of(whole, &part.lines)));
            continue;
        };
        match client::result_or_last_state(connection, &ran).await {
            Ok((part_report, why)) => {
                if let Some(why) = why {
                    eprintln!("note: part {ran}: {why}; its rows stand as it left them");
                }
                reports.push(Some(part_report));
            }
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

/// The report of `whole`, the workflow that ran the batch's table whole (its last state, if
/// it was ended from outside).
async fn whole_report(
    connection: &temporalio_client::Client,
    whole: &str,
) -> Result<crate::hosts::temporal::Report, u8> {
    match client::result_or_last_state(connection, whole).await {
        Ok((report, _)) => Ok(report),
        Err(error) => {
            eprintln!("error: {whole}: {error}");
            Err(EXIT_FAILED)
        }
    }
}

/// A closed batch's parts as they ended: a batch ended from outside (terminated) leaves the
/// part it ran "running" in its last state, while that part's workflow, asked to stop with
/// it, went on to its own end; the parts after it never start.
async fn settle_parts(connection: &temporalio_client::Client, report: &mut BatchReport) {
    use temporalio_client::WorkflowExecutionStatus as Status;
    let Ok(registry) = super::registry::registry_or_exit() else {
        return;
    };
    for part in &mut report.parts {
        if part.state == PartState::Pending {
            part.state = PartState::Skipped;
            part.message = Some("its batch was ended before it started".into());
        }
        if part.state != PartState::Running {
            continue;
        }
        match client::status_if_any(connection, &part.id).await {
            Ok(Some(Status::Completed)) => {
                if let Ok(ended) = client::result(connection, &part.id).await {
                    part_ended(part, &ended, &registry);
                }
            }
            Ok(Some(Status::Canceled)) => {
                part.state = PartState::Cancelled;
                part.message = Some("stopped when its batch was ended".into());
            }
            Ok(Some(Status::Running)) | Ok(None) | Err(_) => {}
            Ok(Some(other)) => {
                part.state = PartState::Failed;
                part.message = Some(format!("its workflow ended {other:?}"));
            }
        }
    }
}

/// Whether the execution `id` exists.
async fn exists(connection: &temporalio_client::Client, id: &str) -> Result<bool, u8> {
    client::status_if_any(connection, id)
        .await
        .map(|status| status.is_some())
        .map_err(|error| {
            eprintln!("error: {error}");
            EXIT_FAILED
        })
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
                ": {} done, {} not done, {}",
                part.done,
                part.failed,
                crate::graph::usd(part.cost)
            ),
            _ => String::new(),
        };
        let why = part
            .message
            .as_deref()
            .map(|message| format!(" ({message})"))
            .unwrap_or_default();
        outln!("  {} [{rows}] {state}{ended}{why}", part.id);
    }
}
