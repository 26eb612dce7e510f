//! `POST /Run/{owner}/{model}`: checks the parameters with the models layer, applies the
//! concurrency and balance limits, creates the task and starts its lifecycle.
//!
//! The body is JSON, or multipart where text parts are parameters and file parts are stored
//! like uploads and passed on as their URL (a part `inputImage` becomes `inputImageUrl`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::api::wire::{codes, ApiErrorItem, RunAccepted};

use super::super::answer::{deliver, failures, json_object, refuse, success};
use super::super::basics::lock;
use super::super::catalog;
use super::super::faults::{Fault, Operation};
use super::super::gate::gate;
use super::super::lifecycle::{self, failure_reason};
use super::super::state::Shared;
use super::files::{drain, receive_file, Received};

/// Parameters every model takes, which are not the model's own.
const COMMON: [&str; 2] = ["callbackUrl", "projectid"];

/// Runs a model.
pub(crate) async fn run(
    State(shared): State<Arc<Shared>>,
    Path((owner, project)): Path<(String, String)>,
    request: Request,
) -> Response {
    let headers = request.headers().clone();
    let fault = match gate(&shared, Operation::Run, Some(&headers)).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    let parameters = match read_parameters(&shared, request).await {
        Ok(parameters) => parameters,
        Err(answer) => return answer,
    };
    let Some(model) = catalog::find(&owner, &project) else {
        return refuse(
            codes::NOT_FOUND,
            format!(
                "unknown model {owner}/{project}: the emulator runs {}",
                catalog::slugs()
            ),
        );
    };
    let model_parameters: Map<String, Value> = parameters
        .iter()
        .filter(|(name, _)| !COMMON.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let plan = match model.plan(&model_parameters) {
        Ok(plan) => plan,
        Err(problems) => {
            let items: Vec<ApiErrorItem> = problems
                .iter()
                .map(|problem| {
                    ApiErrorItem::new(
                        codes::GENERAL,
                        format!(
                            "{}: {} (rule {})",
                            problem.field, problem.message, problem.rule
                        ),
                    )
                })
                .collect();
            return failures(&items);
        }
    };
    match fault {
        Some(Fault::ConcurrencyLimit) => return concurrency_refused(&shared, "fault injection"),
        Some(Fault::InsufficientBalance) => {
            return balance_refused(&shared, plan.price, None, "fault injection")
        }
        _ => {}
    }
    let callback_url = parameters
        .get("callbackUrl")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned);
    let stop = shared.shutdown.child_token();
    let created = {
        let mut book = lock(&shared.tasks);
        let unfinished = book.unfinished();
        let available = book.balance.map(|balance| balance - book.reserved());
        // Slots plus queue places: past that, Wiro's concurrency limit (code 96).
        let limit = shared
            .config
            .max_running
            .zip(shared.config.max_queued)
            .map(|(running, queued)| running + queued);
        if let Some(limit) = limit.filter(|limit| unfinished >= *limit) {
            Err(concurrency_refused(
                &shared,
                &format!("{unfinished} task(s) running or queued, the project allows {limit}"),
            ))
        } else if let Some(available) = available.filter(|available| *available < plan.price) {
            Err(balance_refused(
                &shared,
                plan.price,
                Some(available),
                "balance",
            ))
        } else {
            let id = book.create(parameters, plan.price, callback_url, stop.clone());
            let slug = model.slug();
            let (owner, project) = slug.split_once('/').unwrap_or((&slug, ""));
            let token = book
                .by_id
                .get_mut(&id)
                .and_then(|entry| {
                    // Task/List filters on these, as Wiro's records carry them.
                    let extra = &mut entry.record.extra;
                    extra.insert("modelslugowner".into(), Value::from(owner));
                    extra.insert("modelslugproject".into(), Value::from(project));
                    entry.record.socketaccesstoken.clone()
                })
                .unwrap_or_default();
            Ok((id, token))
        }
    };
    let (taskid, socketaccesstoken) = match created {
        Ok(created) => created,
        Err(answer) => return answer,
    };
    shared.count_run();
    let fail = failure_reason(&plan, fault);
    tokio::spawn(lifecycle::drive(
        Arc::clone(&shared),
        taskid.clone(),
        plan,
        fail,
        stop,
    ));
    deliver(
        fault,
        &success(&RunAccepted {
            taskid,
            socketaccesstoken,
        }),
    )
}

fn concurrency_refused(shared: &Shared, why: &str) -> Response {
    shared.count_refused_run(codes::CONCURRENCY_LIMIT);
    refuse(
        codes::CONCURRENCY_LIMIT,
        format!(
            "concurrency limit reached ({why}): wait for a running task to end, then run again"
        ),
    )
}

fn balance_refused(shared: &Shared, price: f64, available: Option<f64>, why: &str) -> Response {
    shared.count_refused_run(codes::INSUFFICIENT_BALANCE);
    let available = available
        .map(|available| format!(", the balance allows ${available:.2}"))
        .unwrap_or_default();
    refuse(
        codes::INSUFFICIENT_BALANCE,
        format!("insufficient balance ({why}): this run costs ${price:.2}{available}; add credits and run again"),
    )
}

/// The body as parameters: a JSON object, or the parts of a multipart form.
async fn read_parameters(
    shared: &Shared,
    request: Request,
) -> Result<Map<String, Value>, Response> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().starts_with("multipart/"));
    if !multipart {
        let body = Bytes::from_request(request, &()).await.map_err(|problem| {
            refuse(
                codes::GENERAL,
                format!("could not read the body: {problem}"),
            )
        })?;
        return json_object(&body);
    }
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|problem| {
            refuse(
                codes::GENERAL,
                format!("could not read the form: {problem}"),
            )
        })?;
    let mut parameters = Map::new();
    let mut read_so_far = 0;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(problem) => {
                return Err(refuse(
                    codes::GENERAL,
                    format!("could not read the multipart body: {problem}"),
                ))
            }
        };
        let Some(name) = field
            .name()
            .map(str::to_owned)
            .filter(|name| !name.is_empty())
        else {
            drain(field, &mut read_so_far)
                .await
                .map_err(|problem| refuse(codes::GENERAL, problem))?;
            continue;
        };
        if let Some(file_name) = field.file_name().map(str::to_owned) {
            let received = receive_file(field, &mut read_so_far)
                .await
                .map_err(|problem| refuse(codes::GENERAL, format!("{name}: {problem}")))?;
            match received {
                Received::Stored {
                    content_type,
                    bytes,
                } => {
                    let url = shared.store_file(&file_name, content_type, bytes);
                    let key = if name.ends_with("Url") {
                        name
                    } else {
                        format!("{name}Url")
                    };
                    parameters.insert(key, Value::String(url));
                }
                Received::Refused(reason) => {
                    return Err(refuse(codes::GENERAL, format!("{name}: {reason}")))
                }
            }
        } else {
            let text = field.text().await.map_err(|problem| {
                refuse(
                    codes::GENERAL,
                    format!("could not read part {name}: {problem}"),
                )
            })?;
            parameters.insert(name, Value::String(text));
        }
    }
    Ok(parameters)
}
