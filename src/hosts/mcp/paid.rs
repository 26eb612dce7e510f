//! A call of a paid tool: checked, priced, accepted by the user (or under the call's cap),
//! journaled, sent once, then followed. Nothing is sent for a refused input, a declined
//! price, a price above a cap or the budget, or a call repeated within the window.

use std::sync::Arc;

use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use serde_json::{Map, Value};

use super::consent::{Asking, Consent};
use super::follow::{follow, RunReport};
use super::journal::{call_key, Earlier};
use super::tools::CAP;
use super::Host;
use crate::api::{Estimate, TaskHandle};
use crate::node::{InputProblem, Node, NodeError, NodeEvent, PortKind, ProgressSink};

/// A refusal: an error result whose text says why and that nothing was sent.
pub(crate) fn refused(why: impl Into<String>) -> CallToolResponse {
    CallToolResponse::Complete(CallToolResult::error(vec![ContentBlock::text(why.into())]))
}

/// The refusal of arguments that break the node's schema, rules or walls: every problem,
/// each naming its field and rule.
pub(crate) fn refused_inputs(tool: &str, problems: &[InputProblem]) -> CallToolResponse {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    refused(format!(
        "invalid arguments for {tool}; nothing was sent:\n{}",
        lines.join("\n")
    ))
}

/// Runs the paid `node` for the call `tool` with `arguments`.
pub(crate) async fn call(
    host: &Arc<Host>,
    tool: &str,
    node: Arc<dyn Node>,
    mut arguments: Map<String, Value>,
    request: &CallToolRequestParams,
    ctx: &RequestContext<RoleServer>,
) -> CallToolResponse {
    let cap = match arguments.remove(CAP) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_f64().is_some_and(|usd| usd >= 0.0) => n.as_f64(),
        Some(other) => {
            return refused(format!(
                "{CAP}: must be a number of dollars, 0 or more (got {other}); nothing was sent"
            ))
        }
    };
    let inputs = Value::Object(arguments);
    let problems = crate::node::check(node.as_ref(), &host.walls, &inputs);
    if !problems.is_empty() {
        return refused_inputs(tool, &problems);
    }
    let key = call_key(tool, &inputs);
    // One call per intent at a time: the same call sent again while the first is being
    // asked about or sent waits here, then finds the first call's task in the journal.
    let claim = host.claim(&key).await;
    match host.journal.earlier(&key, host.config.repeat_window) {
        Some(Earlier::Task(record)) => {
            // Following needs no claim: the next identical call need not wait for this one.
            drop(claim);
            let mut report = follow(host, *record, host.config.wait, ctx).await;
            report.repeated = true;
            return CallToolResponse::Complete(report.into_result());
        }
        Some(Earlier::Unknown { at_ms }) => {
            // The same call sent a Run whose answer was lost (the server stopped meanwhile):
            // Task/List decides whether it created a task before anything is sent again.
            match reconcile(host, tool, node.as_ref(), &key, &inputs, at_ms).await {
                Ok(Some(record)) => {
                    drop(claim);
                    let mut report = follow(host, record, host.config.wait, ctx).await;
                    report.repeated = true;
                    return CallToolResponse::Complete(report.into_result());
                }
                Ok(None) => {} // it created nothing: the call goes on as a new one
                Err(why) => {
                    return refused(format!(
                        "the same call sent a Run at {at_ms} ms after the epoch whose answer was lost, and whether it created a task cannot be told ({why}); to never pay twice nothing was sent. Look for the task in Wiro's dashboard, or call again later."
                    ))
                }
            }
        }
        None => {}
    }
    let price = host.price(node.as_ref(), &inputs).await;
    if let Some(why) = host.consent.refusal(&price, cap) {
        return refused(why);
    }
    let title = node.spec().title.to_string();
    let summary = summary(&inputs);
    let accepted = match (&request.request_state, Asking::of(ctx)) {
        (Some(state), _) => host.consent.answer_of_round(
            state,
            &key,
            &price,
            request.input_responses.as_ref(),
        ),
        (None, Asking::InRounds) => {
            return CallToolResponse::InputRequired(
                host.consent.ask_in_round(&key, &title, &price, &summary),
            )
        }
        (None, Asking::InSession) => Consent::ask_in_session(ctx, &title, &price, &summary).await,
        (None, Asking::No) => match cap {
            Some(_) => Ok(true),
            None => Err(format!(
                "this client cannot ask the user to accept a price; pass {CAP} (the most this call may spend, in dollars). Price: {}. Nothing was sent.",
                price_words(&price)
            )),
        },
    };
    match accepted {
        Ok(true) => {}
        Ok(false) => return refused("the user declined the price; nothing was sent"),
        Err(why) => return refused(why),
    }
    let reserved = match host.consent.reserve(&price, cap) {
        Ok(reserved) => reserved,
        Err(why) => return refused(why),
    };
    if super::tasks::wanted(ctx) {
        let run = super::tasks::AcceptedRun {
            tool: tool.to_owned(),
            node,
            key,
            inputs,
            price_usd: price.usd(),
            reserved,
            claim,
        };
        return CallToolResponse::Task(super::tasks::start(host, run));
    }
    // The Run goes on in its own task: a client that leaves while it is being sent must not
    // cut it off between the server accepting it and the journal recording its task.
    let started = host.inflight.spawn({
        let (host, tool, price_usd) = (Arc::clone(host), tool.to_owned(), price.usd());
        async move {
            let sent = send(&host, &tool, node, &key, inputs, price_usd).await;
            drop(claim);
            host.after_send(&sent, reserved);
            sent
        }
    });
    let record = match started.await {
        Ok(Ok(record)) => record,
        Ok(Err(error)) => return refused(format!("{tool}: {error}")),
        Err(join) => return refused(format!("{tool}: the Run's task ended abnormally: {join}")),
    };
    let report = follow(host, record, host.config.wait, ctx).await;
    CallToolResponse::Complete(report.into_result())
}

/// Sends the Run: journaled as being sent, then its task journaled the moment it is known.
pub(crate) async fn send(
    host: &Arc<Host>,
    tool: &str,
    node: Arc<dyn Node>,
    key: &str,
    inputs: Value,
    price_usd: Option<f64>,
) -> Result<super::journal::TaskRecord, NodeError> {
    let journal_failed = |error: std::io::Error| {
        NodeError::Panicked(format!(
            "the journal ({}) could not be written: {error}; nothing was sent",
            host.journal.path().display()
        ))
    };
    host.journal.sending(key, tool).map_err(journal_failed)?;
    let recorder = {
        let (host, key, tool) = (Arc::clone(host), key.to_owned(), tool.to_owned());
        ProgressSink::recording(move |event| match event {
            NodeEvent::TaskStarted(task) => host
                .journal
                .started(&key, &tool, &task, price_usd)
                .map(drop)
                .map_err(|error| error.to_string()),
            _ => Ok(()),
        })
    };
    let mut ctx = host.node_context(super::tools::tool_name(&node.spec().type_id));
    ctx.progress = recorder;
    ctx.tasks = host.slots.clone();
    let outputs = match crate::node::invoke(node.as_ref(), &ctx, inputs).await {
        Ok(outputs) => outputs,
        Err(error) => {
            if error.fate().leaves_nothing_started() {
                let _ = host.journal.not_started(key);
            }
            return Err(error);
        }
    };
    let handle = started_task(node.as_ref(), &outputs)
        .ok_or_else(|| NodeError::Panicked("the node gave no task handle for its Run".into()))?;
    if let Some(record) = host.journal.task(&handle.taskid) {
        return Ok(record);
    }
    // The task was accepted but the journal could not record it as it started: try again.
    // Either way this server answers for it now (follow, stop); only a restart would not.
    match host.journal.started(key, tool, &handle, price_usd) {
        Ok(record) => Ok(record),
        Err(error) => {
            tracing::error!(task = handle.taskid, %error, "a started task could not be journaled");
            Ok(super::journal::TaskRecord {
                handle,
                tool: tool.to_owned(),
                price_usd,
                ended: None,
            })
        }
    }
}

/// Looks for the task of a Run sent at `at_ms` whose answer was lost: `Some` (journaled now)
/// when Task/List shows it, `None` when the Run created nothing (journaled: it may be sent
/// again), an error when the listing cannot tell.
async fn reconcile(
    host: &Arc<Host>,
    tool: &str,
    node: &dyn Node,
    key: &str,
    inputs: &Value,
    at_ms: u64,
) -> Result<Option<super::journal::TaskRecord>, String> {
    let sent_at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(at_ms);
    // Tasks this server already knows (its slots hold the journal's) belong to other
    // calls, and those other runs here hold to them.
    let client = &host.config.client;
    let slots = &host.slots;
    match crate::node::find_started_task(client, slots, node, inputs, None, sent_at).await {
        crate::api::RunLookup::Found { handle, .. } => {
            let price = host.price(node, inputs).await.usd();
            match host.journal.started(key, tool, &handle, price) {
                Ok(record) => Ok(Some(record)),
                Err(error) => Err(format!(
                    "the journal could not record task {}: {error}",
                    handle.taskid
                )),
            }
        }
        crate::api::RunLookup::NotCreated { .. } => {
            host.journal
                .not_started(key)
                .map_err(|error| error.to_string())?;
            Ok(None)
        }
        crate::api::RunLookup::CannotTell { reason } => Err(reason),
    }
}

/// The task a paid node's outputs hold, on its `started_task` port.
fn started_task(node: &dyn Node, outputs: &Value) -> Option<TaskHandle> {
    let port = node.spec().kinds.ports(PortKind::StartedTask).next()?;
    serde_json::from_value(outputs.get(port)?.clone()).ok()
}

/// The settings of a call in a line: each argument, long texts cut.
fn summary(inputs: &Value) -> String {
    let Value::Object(map) = inputs else {
        return String::new();
    };
    map.iter()
        .map(|(name, value)| {
            format!(
                "{name}: {}",
                crate::node::cut(&crate::node::shown(value), 80)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A price in words.
fn price_words(price: &Estimate) -> String {
    match price {
        Estimate::Known { usd, basis } => format!("about ${usd:.4} ({basis})"),
        Estimate::Unknown { reason } => format!("unknown before running ({reason})"),
    }
}

/// The report of [`FOLLOW`] for a task this server started.
pub(crate) async fn follow_again(
    host: &Arc<Host>,
    task_id: &str,
    wait: Option<u64>,
    ctx: &RequestContext<RoleServer>,
) -> CallToolResponse {
    let Some(record) = host.journal.task(task_id) else {
        return refused(format!(
            "task {task_id:?} was not started by this server's calls; only those can be followed"
        ));
    };
    let wait = wait.map_or(host.config.wait, |seconds| {
        std::time::Duration::from_secs(seconds.clamp(1, 600))
    });
    let report: RunReport = follow(host, record, wait, ctx).await;
    CallToolResponse::Complete(report.into_result())
}
