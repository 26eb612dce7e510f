//! `POST /Run/{owner}/{model}`: checks the parameters with the models layer, applies the
//! concurrency and balance limits, creates the task and starts its lifecycle.
//!
//! The body is JSON, or multipart where text parts are parameters and file parts are stored
//! like uploads and passed on as their URL (a part `inputImage` becomes `inputImageUrl`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use axum::response::Response;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::api::wire::{codes, ApiErrorItem, RunAccepted};
use crate::models::ParameterProblem;

use super::super::answer::{deliver, failures, json_object, refuse, success};
use super::super::basics::lock;
use super::super::catalog::{self, Model, Plan};
use super::super::faults::{Fault, Operation};
use super::super::gate::gate;
use super::super::lifecycle::{self, failure_reason};
use super::super::state::Shared;
use super::super::task_book::TaskBook;
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
    let (model, plan) = match plan_run(&owner, &project, &parameters) {
        Ok(planned) => planned,
        Err(answer) => return answer,
    };
    if let Some(answer) = injected_refusal(&shared, fault, plan.price) {
        return answer;
    }
    let stop = shared.shutdown.child_token();
    let (taskid, socketaccesstoken) = match admit(&shared, model, plan.price, parameters, &stop) {
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

/// The model the path names and what a Run of it with these parameters would do, or the
/// answer that refuses them: an unknown model, or parameters the model's rules reject.
fn plan_run(
    owner: &str,
    project: &str,
    parameters: &Map<String, Value>,
) -> Result<(&'static Model, Plan), Response> {
    let Some(model) = catalog::find(owner, project) else {
        return Err(refuse(
            codes::NOT_FOUND,
            format!(
                "unknown model {owner}/{project}: the emulator runs {}",
                catalog::slugs()
            ),
        ));
    };
    let model_parameters: Map<String, Value> = parameters
        .iter()
        .filter(|(name, _)| !COMMON.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    match model.plan(&model_parameters) {
        Ok(plan) => Ok((model, plan)),
        Err(problems) => Err(parameters_refused(&problems)),
    }
}

/// One error item per parameter problem, naming its field and rule.
fn parameters_refused(problems: &[ParameterProblem]) -> Response {
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
    failures(&items)
}

/// The refusal a fault asks for, whatever the account's real limits are.
fn injected_refusal(shared: &Shared, fault: Option<Fault>, price: f64) -> Option<Response> {
    match fault {
        Some(Fault::ConcurrencyLimit) => Some(concurrency_refused(shared, "fault injection")),
        Some(Fault::InsufficientBalance) => {
            Some(balance_refused(shared, price, None, "fault injection"))
        }
        _ => None,
    }
}

/// Takes the task into the book, or refuses it with Wiro's code 96 or 97. The limits are
/// checked under the same lock that creates the task, so two Runs cannot both take the last
/// place or the last dollar. Returns the task's id and socket access token.
fn admit(
    shared: &Shared,
    model: &Model,
    price: f64,
    parameters: Map<String, Value>,
    stop: &CancellationToken,
) -> Result<(String, String), Response> {
    let callback_url = parameters
        .get("callbackUrl")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(str::to_owned);
    let mut book = lock(&shared.tasks);
    if let Some(answer) = over_limits(shared, &book, price) {
        return Err(answer);
    }
    Ok(create_task(
        &mut book,
        model,
        parameters,
        price,
        callback_url,
        stop.clone(),
    ))
}

/// The refusal when the account has no place left for another task (code 96) or its balance,
/// less what unfinished tasks are promised, is below the price (code 97).
fn over_limits(shared: &Shared, book: &TaskBook, price: f64) -> Option<Response> {
    let unfinished = book.unfinished();
    let available = book.balance.map(|balance| balance - book.reserved());
    // Slots plus queue places: past that, Wiro's concurrency limit (code 96).
    let limit = shared
        .config
        .max_running
        .zip(shared.config.max_queued)
        .map(|(running, queued)| running + queued);
    if let Some(limit) = limit.filter(|limit| unfinished >= *limit) {
        return Some(concurrency_refused(
            shared,
            &format!("{unfinished} task(s) running or queued, the project allows {limit}"),
        ));
    }
    available
        .filter(|available| *available < price)
        .map(|available| balance_refused(shared, price, Some(available), "balance"))
}

/// Creates the task and returns its id and socket access token.
fn create_task(
    book: &mut TaskBook,
    model: &Model,
    parameters: Map<String, Value>,
    price: f64,
    callback_url: Option<String>,
    stop: CancellationToken,
) -> (String, String) {
    let id = book.create(parameters, price, callback_url, stop);
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
    (id, token)
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
    if multipart {
        read_form(shared, request).await
    } else {
        read_json(request).await
    }
}

/// A JSON body, which must be an object.
async fn read_json(request: Request) -> Result<Map<String, Value>, Response> {
    let body = Bytes::from_request(request, &()).await.map_err(|problem| {
        refuse(
            codes::GENERAL,
            format!("could not read the body: {problem}"),
        )
    })?;
    json_object(&body)
}

/// A multipart form: text parts are parameters, file parts are stored (see
/// [`store_file_part`]), parts without a name are read and dropped.
async fn read_form(shared: &Shared, request: Request) -> Result<Map<String, Value>, Response> {
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
            let (key, url) =
                store_file_part(shared, field, name, &file_name, &mut read_so_far).await?;
            parameters.insert(key, Value::String(url));
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

/// Stores a file part as File/Upload would, under the rules of an upload. Returns the
/// parameter it becomes: the part's name with `Url` appended (unless it ends so already),
/// and the stored file's URL.
async fn store_file_part(
    shared: &Shared,
    field: Field<'_>,
    name: String,
    file_name: &str,
    read_so_far: &mut u64,
) -> Result<(String, String), Response> {
    let received = receive_file(field, read_so_far)
        .await
        .map_err(|problem| refuse(codes::GENERAL, format!("{name}: {problem}")))?;
    match received {
        Received::Stored {
            content_type,
            bytes,
        } => {
            let url = shared.store_file(file_name, content_type, bytes);
            let key = if name.ends_with("Url") {
                name
            } else {
                format!("{name}Url")
            };
            Ok((key, url))
        }
        Received::Refused(reason) => Err(refuse(codes::GENERAL, format!("{name}: {reason}"))),
    }
}
