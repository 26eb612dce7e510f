//! `POST /Run/{owner}/{model}`: checks the parameters, applies the concurrency and balance
//! limits, creates the task and starts its lifecycle.
//!
//! PixVerse v4's bodies are checked by the models layer's typed parameters; every other
//! model's by the [`CatalogModel`](crate::models::catalog::CatalogModel) its own Tool/Detail
//! answer makes, the derivation clients use, so a body a client builds from the catalog is
//! one the emulator takes. Every problem is answered at once, one error item per field, and
//! a refused Run creates nothing (files its form carried are removed again). The body is
//! JSON or multipart (see `run_body`).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::api::wire::{codes, ApiErrorItem, RunAccepted};
use crate::models::catalog::Field;
use crate::models::ParameterProblem;

use super::super::answer::{deliver, failures, refuse, success};
use super::super::catalog::{self, Model};
use super::super::directory::Runnable;
use super::super::faults::Operation;
use super::super::gate::gate;
use super::super::lifecycle::{self, failure_reason};
use super::super::state::Shared;
use super::super::work::Work;
use super::run_admission::{admit, injected_refusal};
use super::run_body::read_body;

/// Parameters every model takes, which are not the model's own.
const COMMON: [&str; 2] = ["callbackUrl", "projectid"];

/// The model a Run names.
enum Target {
    /// PixVerse v4, checked by its typed parameters.
    PixVerse(&'static Model),
    /// A described or generated model, checked by its catalog definitions.
    Described(Runnable),
}

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
    let mut body = match read_body(&shared, request, target.fields()).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let checked = match target.check(&body.parameters) {
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
fn find(shared: &Shared, owner: &str, project: &str) -> Result<Target, Response> {
    if let Some(model) = catalog::find(owner, project) {
        return Ok(Target::PixVerse(model));
    }
    match shared.directory.runnable(owner, project) {
        Some(Ok(runnable)) => Ok(Target::Described(runnable)),
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

impl Target {
    /// The model's typed parameters, for placing a form's file parts (none for PixVerse).
    fn fields(&self) -> &[Field] {
        match self {
            Target::PixVerse(_) => &[],
            Target::Described(runnable) => runnable.catalog.fields(),
        }
    }

    /// Checks a Run's body and says what the run will make and cost; `Err` lists every
    /// problem.
    fn check(&self, parameters: &Map<String, Value>) -> Result<Checked, Vec<ParameterProblem>> {
        match self {
            Target::PixVerse(model) => {
                let own: Map<String, Value> = parameters
                    .iter()
                    .filter(|(name, _)| !COMMON.contains(&name.as_str()))
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                let plan = model.plan(&own)?;
                Ok(Checked {
                    slug: model.slug(),
                    price: plan.price,
                    work: Work::Clip(plan),
                })
            }
            Target::Described(Runnable { model, catalog }) => {
                // Parameters the model does not have (`callbackUrl`, ...) are ignored.
                let inputs = catalog.from_wire(parameters)?;
                // The price does not depend on the seed the outputs are drawn from.
                let price = model.price(&inputs, &model.plan(&inputs, 0));
                Ok(Checked {
                    slug: model.slug(),
                    price,
                    work: Work::Described {
                        model: Arc::clone(model),
                        inputs,
                    },
                })
            }
        }
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
