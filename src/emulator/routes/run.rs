//! `POST /Run/{owner}/{model}`: checks the parameters, applies the concurrency and balance
//! limits, creates the task and starts its lifecycle.
//!
//! A body is checked by the [`CatalogModel`](crate::models::catalog::CatalogModel) of its
//! model: the crate's own entry for a built-in model (PixVerse v4, with its rules), else the
//! one its own Tool/Detail answer makes, the derivation clients use, so a body a client
//! builds from the catalog is one the emulator takes. Every problem is answered at once, one error item per field, and
//! a refused Run creates nothing (files its form carried are removed again). The body is
//! JSON or multipart (see `run_body`).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::api::wire::{codes, ApiErrorItem, RunAccepted};
use crate::models::ParameterProblem;

use super::super::answer::{deliver, failures, refuse, success};
use super::super::directory::Runnable;
use super::super::faults::Operation;
use super::super::gate::gate;
use super::super::lifecycle::{self, failure_reason};
use super::super::state::Shared;
use super::super::work::Work;
use super::run_admission::{admit, injected_refusal};
use super::run_body::read_body;

/// A Run whose parameters passed: which model (raw slug), what it costs, what it makes.
struct Checked {
    slug: String,
    price: f64,
    work: Work,
}

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
    let target = match find(&shared, &owner, &project) {
        Ok(target) => target,
        Err(answer) => return answer,
    };
    let mut body = match read_body(&shared, request, target.catalog.fields()).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let checked = match check(&shared, &target, &body.parameters) {
        Ok(checked) => checked,
        Err(problems) => {
            body.discard(&shared);
            return parameters_refused(&problems);
        }
    };
    if let Some(answer) = injected_refusal(&shared, fault, checked.price) {
        body.discard(&shared);
        return answer;
    }
    let stop = shared.shutdown.child_token();
    let parameters = std::mem::take(&mut body.parameters);
    let admitted = admit(&shared, &checked.slug, checked.price, parameters, &stop);
    let (taskid, socketaccesstoken) = match admitted {
        Ok(created) => created,
        Err(answer) => {
            body.discard(&shared);
            return answer;
        }
    };
    shared.count_run();
    let fail = failure_reason(&checked.work, fault);
    let driver = lifecycle::drive(
        Arc::clone(&shared),
        taskid.clone(),
        checked.work,
        fail,
        stop,
    );
    tokio::spawn(driver);
    deliver(
        fault,
        &success(&RunAccepted {
            taskid,
            socketaccesstoken,
        }),
    )
}

/// The model `owner/project` names (raw or clean slugs, any letter case), or the answer
/// that refuses the Run: an unknown model (naming the ones there are), or one whose own
/// definitions do not read.
fn find(shared: &Shared, owner: &str, project: &str) -> Result<Runnable, Response> {
    match shared.directory.runnable(owner, project) {
        Some(Ok(runnable)) => Ok(runnable),
        Some(Err(problem)) => Err(refuse(
            codes::GENERAL,
            format!("model {owner}/{project} cannot run: its definitions do not read: {problem}"),
        )),
        None => Err(refuse(
            codes::NOT_FOUND,
            format!(
                "unknown model {owner}/{project}: the emulator runs {}",
                shared.directory.some_slugs()
            ),
        )),
    }
}

/// Checks a Run's body against the model's definitions and rules and says what the run
/// will make and cost; `Err` lists every problem. Parameters the model does not have
/// (`callbackUrl`, ...) are ignored.
fn check(
    shared: &Shared,
    Runnable { model, catalog }: &Runnable,
    parameters: &Map<String, Value>,
) -> Result<Checked, Vec<ParameterProblem>> {
    let inputs = catalog.check_wire(parameters)?;
    // The price does not depend on the seed the outputs are drawn from.
    let price = model.price(&inputs, &model.plan(&inputs, 0));
    Ok(Checked {
        slug: model.slug(),
        price,
        work: Work::new(shared, Arc::clone(model), inputs),
    })
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
