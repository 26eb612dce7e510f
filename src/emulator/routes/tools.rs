//! `Tool/List` and `Tool/Detail`: every model the emulator knows (see `directory`).
//!
//! The docs describe these answers only loosely; the emulator answers
//! `{"result", "errors", "total", "tool": [...]}` for the list (summaries, no `parameters`;
//! `start`, `limit`, `search`, `slugowner`, `categories`, `tags`, `sort` and `order` are
//! honoured) and `{"result", "errors", "tool": [MODEL]}` for one model, named by raw or clean
//! slugs in any letter case, where MODEL carries its `parameters` groups and its prices.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;

use crate::api::wire::codes;

use super::super::answer::{deliver, refuse, text_field};
use super::super::faults::Operation;
use super::super::gate::gate_json;
use super::super::state::Shared;

/// `POST /Tool/List`: one page of the models that fit the filters.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fault, request) = match gate_json(&shared, Operation::ToolList, &headers, &body).await {
        Ok(opened) => opened,
        Err(answer) => return answer,
    };
    let page = shared.directory.list(&request);
    deliver(
        fault,
        &json!({"result": true, "errors": [], "total": page.total.to_string(), "tool": page.tools}),
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
    match shared.directory.detail(&owner, &project) {
        Some(model) => deliver(
            fault,
            &json!({"result": true, "errors": [], "tool": [model]}),
        ),
        None => refuse(
            codes::NOT_FOUND,
            format!(
                "unknown model {owner}/{project}: the emulator knows {}",
                shared.directory.some_slugs()
            ),
        ),
    }
}
