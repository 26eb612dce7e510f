//! [`BatchWorkflow`]: a table too big for one workflow, run as one durable batch of parts.
//! Each part is a child [`GraphWorkflow`] of the flow once per row, for as many rows as one
//! workflow holds (`limits`), downloading into the batch's folder (the first batch's, for a
//! resume: one folder a table); the parts run one after
//! another, so the account's slots are shared as one workflow shares them and a lost Run is
//! never matched to another part's task. A cancelled batch cancels its running part (which
//! stops its tasks) and starts no more; a resumed batch resumes each part from the same part
//! of the batch it resumes.

use std::time::Duration;

use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ApplicationFailure, ChildWorkflowOptions, ParentClosePolicy, WorkflowContext,
    WorkflowContextView, WorkflowResult, WorkflowTermination,
};

use super::activities::PartResume;
use super::calls::describe;
use super::limits::{resume_room, too_big};
use super::messages::{
    batch_folder, part_id, BatchInput, BatchReport, PartLine, PartResumeCall, PartState, Resume,
    WorkflowInput,
};
use super::rows::part_ended;
use super::workflow::{now_ms, registry, GraphWorkflow};
use crate::api::FIND_RUN_CLOCK_MARGIN;
use crate::graph::rows::{expand, Table};

/// Runs a table's parts one after another; the `progress` query shows each part's state.
#[workflow]
#[derive(Default)]
pub struct BatchWorkflow {
    report: BatchReport,
}

#[workflow_methods]
impl BatchWorkflow {
    /// Checks that every part makes a valid document (one that does not fails the batch
    /// before anything starts), then runs the parts in table order.
    #[run(name = "wiro.batch.1")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: BatchInput,
    ) -> WorkflowResult<BatchReport> {
        let batch_id = ctx.workflow_id().to_owned();
        let parts = input.parts();
        let mut documents = Vec::with_capacity(parts.len());
        for part in &parts {
            let expanded = expand(&input.flow, part, registry()).map_err(|problems| {
                ApplicationFailure::non_retryable(format!(
                    "the batch's flow does not take its table; nothing was started: {}",
                    problems.join("; ")
                ))
            })?;
            if let Err(problems) = crate::graph::validate(&expanded, registry()) {
                let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
                return Err(ApplicationFailure::non_retryable(format!(
                    "the batch is invalid; nothing was started: {}",
                    lines.join("; ")
                ))
                .into());
            }
            documents.push(expanded);
        }
        let folder = (input.folder.clone()).unwrap_or_else(|| batch_folder(&batch_id).to_owned());
        ctx.state_mut(|state| state.report = initial_report((&batch_id, &folder), &input, &parts));
        let ctx = &*ctx;
        // When the last Run of what ran before was accepted, at the latest: a resumed
        // batch's first part follows the Runs of the batch it resumes.
        let mut last_run_ms = input.resumes.as_ref().map(|_| now_ms(ctx));
        for (index, (part, document)) in parts.iter().zip(documents).enumerate() {
            if ctx.cancellation_token().is_cancelled() {
                skip_part(ctx, index);
                continue;
            }
            let mut child = WorkflowInput {
                workflow: document,
                concurrency: input.concurrency,
                reconcile_minutes: input.reconcile_minutes,
                resume: None,
                refused_rows: Vec::new(),
                payload_limit: input.payload_limit,
                folder: Some(folder.clone()),
            };
            if let Some(old) = &input.resumes {
                match resume_of_part(ctx, &input, (index, part), old, &child).await {
                    Ok(resume) => child.resume = resume,
                    Err(_) if ctx.cancellation_token().is_cancelled() => {
                        skip_part(ctx, index);
                        continue;
                    }
                    Err(why) => {
                        set_part(ctx, index, PartState::Failed, Some(why));
                        continue;
                    }
                }
            }
            if let Some(why) = too_big(&child, registry()) {
                // A part's input that does not fit would fail every workflow task, and the
                // batch would wait for ever.
                let what = match child.resume {
                    Some(_) => "its resume",
                    None => "its input",
                };
                let why = format!("{what} is too big for one Temporal workflow: {why}");
                set_part(ctx, index, PartState::Failed, Some(why));
                continue;
            }
            if let Some(last_run_ms) = last_run_ms {
                after_last_run(ctx, index, last_run_ms).await;
            }
            if ctx.cancellation_token().is_cancelled() {
                skip_part(ctx, index);
                continue;
            }
            set_part(ctx, index, PartState::Running, None);
            if let Some(last) = run_part(ctx, index, &part_id(&batch_id, index), child).await {
                last_run_ms = Some(last);
            }
        }
        let cancelled = ctx.cancellation_token().is_cancelled();
        let report = ctx.state_mut(|s| {
            s.report.cancelled = cancelled;
            s.report.clone()
        });
        if cancelled {
            return Err(WorkflowTermination::cancelled_with_details(report));
        }
        Ok(report)
    }

    /// Where each part stands (each part's own `progress` says where its rows stand).
    #[query]
    pub fn progress(&self, _ctx: &WorkflowContextView) -> BatchReport {
        self.report.clone()
    }
}

/// Waits, on a durable timer, until a lost Run's search (which looks back
/// [`FIND_RUN_CLOCK_MARGIN`] before the Run was sent, for a task not claimed by its own
/// workflow) can no longer see the tasks the part before accepted at `last_run_ms`: two rows
/// of different parts with the same parameters would otherwise take one task. A part of
/// real tasks (minutes each) ends later than that anyway.
async fn after_last_run(ctx: &WorkflowContext<BatchWorkflow>, index: usize, last_run_ms: u64) {
    let clear_at = last_run_ms + FIND_RUN_CLOCK_MARGIN.as_millis() as u64 + 2_000;
    let now = now_ms(ctx);
    if now < clear_at {
        let why = "waiting a minute from the last Run before it, so that a lost Run's search cannot take that Run's task".to_owned();
        set_part(ctx, index, PartState::Pending, Some(why));
        ctx.timer(Duration::from_millis(clear_at - now)).await;
    }
}

/// Runs one part as a child workflow to its end and notes how it ended; gives when its last
/// paid Run was accepted: as its report says, or, for a part cancelled or failed (whose
/// report is not read here), when it ended. The child is cancelled
/// with the batch (and waited for while it stops its tasks), and asked to stop should the
/// batch be ended any other way.
async fn run_part(
    ctx: &WorkflowContext<BatchWorkflow>,
    index: usize,
    id: &str,
    input: WorkflowInput,
) -> Option<u64> {
    let options = ChildWorkflowOptions::builder()
        .workflow_id(id.to_owned())
        .parent_close_policy(ParentClosePolicy::RequestCancel)
        .build();
    let started = match ctx
        .start_child_workflow(GraphWorkflow::run, input, options)
        .await
    {
        Ok(started) => {
            ctx.state_mut(|s| s.report.parts[index].child_started = true);
            started
        }
        Err(error) if error.as_cancelled().is_some() => {
            skip_part(ctx, index);
            return None;
        }
        Err(error) => {
            set_part(ctx, index, PartState::Failed, Some(error.to_string()));
            return None;
        }
    };
    match started.result().await {
        Ok(report) => {
            ctx.state_mut(|s| part_ended(&mut s.report.parts[index], &report, registry()));
            (report.last_run_ms > 0).then_some(report.last_run_ms)
        }
        Err(error) if error.as_cancelled().is_some() => {
            set_part(ctx, index, PartState::Cancelled, None);
            Some(now_ms(ctx))
        }
        Err(error) => {
            set_part(ctx, index, PartState::Failed, Some(error.to_string()));
            Some(now_ms(ctx))
        }
    }
}

/// What part `index` takes over from the batch `old` resumes: from the same part there, or
/// of the batch that one resumed when it never started that part, or from its rows in the
/// workflow that first ran the table whole (`None` when none did), carrying no more than its
/// input has room for.
async fn resume_of_part(
    ctx: &WorkflowContext<BatchWorkflow>,
    input: &BatchInput,
    (index, part): (usize, &Table),
    old: &str,
    child: &WorkflowInput,
) -> Result<Option<Resume>, String> {
    let call = PartResumeCall {
        old_batch: old.to_owned(),
        began_as: input.began_as.clone(),
        part: index,
        flow: input.flow.clone(),
        table: part.clone(),
        room: resume_room(child),
    };
    // A read of a few seconds: a worker that dies while it runs is noticed within a minute.
    let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(60))
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(2))
                .maximum_attempts(5)
                .build(),
        )
        .build();
    ctx.execute_activity(PartResume, call, options)
        .await
        .map_err(|error| {
            format!(
                "what part {} of {old} finished could not be read: {}",
                index + 1,
                describe(&error)
            )
        })
}

fn initial_report(
    (batch_id, folder): (&str, &str),
    input: &BatchInput,
    parts: &[Table],
) -> BatchReport {
    BatchReport {
        batch_id: batch_id.to_owned(),
        folder: folder.to_owned(),
        payload_limit: input.payload_limit,
        began_as: input.began_as.clone(),
        parts: parts
            .iter()
            .enumerate()
            .map(|(index, part)| PartLine {
                id: part_id(batch_id, index),
                first_row: part.rows.first().map_or(0, |row| row.line),
                last_row: part.rows.last().map_or(0, |row| row.line),
                rows: part.rows.len(),
                lines: part.rows.iter().map(|row| row.line).collect(),
                ..PartLine::default()
            })
            .collect(),
        refused_rows: input.refused_rows.clone(),
        cancelled: false,
    }
}

/// Notes that the batch was cancelled before part `index` started.
fn skip_part(ctx: &WorkflowContext<BatchWorkflow>, index: usize) {
    let why = "the batch was cancelled before it started".to_owned();
    set_part(ctx, index, PartState::Skipped, Some(why));
}

fn set_part(
    ctx: &WorkflowContext<BatchWorkflow>,
    index: usize,
    state: PartState,
    message: Option<String>,
) {
    ctx.state_mut(|s| {
        let line = &mut s.report.parts[index];
        line.state = state;
        line.message = message;
    });
}
