//! `Tool/List` and `Tool/Detail`: the models the emulator runs and their parameter lists.
//!
//! The docs describe these answers only loosely; the emulator answers
//! `{"result", "errors", "total", "tool": [...]}` for the list and `{"result", "errors",
//! "tool": [MODEL]}` for one model, where MODEL carries `parameters` entries with `id`,
//! `type` (`text`, `textarea`, `select`, `number`, `fileinput`), `label`, `default`,
//! `required`, `options[{label, value}]`, `min` and `max`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use crate::api::wire::codes;

use super::super::answer::{deliver, refuse, text_field};
use super::super::catalog::{self, MODELS};
use super::super::faults::Operation;
use super::super::gate::gate_json;
use super::super::state::Shared;

/// `POST /Tool/List`: every model (filters are accepted and ignored).
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = match gate_json(&shared, Operation::ToolList, &headers, &body).await {
        Ok((fault, _)) => fault,
        Err(answer) => return answer,
    };
    let tools: Vec<Value> = MODELS.iter().map(catalog::Model::summary).collect();
    deliver(
        fault,
        &json!({"result": true, "errors": [], "total": tools.len().to_string(), "tool": tools}),
    )
}

/// `POST /Tool/Detail {"slugowner", "slugproject"}`: one model with its parameters.
pub(crate) async fn detail(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fault, request) = match gate_json(&shared, Operation::ToolDetail, &headers, &body).await {
        Ok(opened) => opened,
        Err(answer) => return answer,
    };
    let (Some(owner), Some(project)) = (
        text_field(&request, "slugowner"),
        text_field(&request, "slugproject"),
    ) else {
        return refuse(
            codes::GENERAL,
            "slugowner and slugproject are required, e.g. PixVerse and text-to-video-v4",
        );
    };
    match catalog::find(&owner, &project) {
        Some(model) => deliver(
            fault,
            &json!({"result": true, "errors": [], "tool": [model.detail()]}),
        ),
        None => refuse(
            codes::NOT_FOUND,
            format!(
                "unknown model {owner}/{project}: the emulator runs {}",
                catalog::slugs()
            ),
        ),
    }
}
