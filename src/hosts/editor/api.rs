//! The page's API, apart from runs: node specs, validation, edge checks, open, save, input
//! files and output files. Every route sits behind the [guard](super::guard).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Multipart, Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use super::{catalog, AppState};
use crate::graph::{price_workflow, validate_for_run, Workflow};

/// Where files chosen in the page are stored, inside the workspace.
pub const UPLOADS_DIR: &str = "uploads";

/// A JSON error answer.
pub fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Reads a workflow the page sent, in exactly the CLI's format; an answer saying why not.
pub fn parse_workflow(value: Value) -> Result<Workflow, String> {
    // Through the CLI's reader, so the page gets the same words (the shape check names the
    // field, e.g. nodes[2].type).
    Workflow::from_json(&value.to_string()).map_err(|error| format!("not a workflow: {error}"))
}

/// `GET /api/nodes`: the catalog (see [`catalog::catalog`]).
pub async fn nodes(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(state.catalog.clone())
}

/// `GET /api/session`: what the editor works with. Never credentials.
pub async fn session(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({
        "backend": state.backend,
        "workspace": state.workspace,
        "out": state.out_dir,
        "uploads": UPLOADS_DIR,
    }))
}

/// `POST /api/validate` with a workflow: the executor's own problem list (empty when valid),
/// including what `run` checks on this machine (the files upload nodes would read).
pub async fn validate_workflow(
    State(state): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> Response {
    let workflow = match parse_workflow(body) {
        Ok(workflow) => workflow,
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let files = state.walls();
    let problems = validate_for_run(&workflow, &state.registry, &files)
        .err()
        .unwrap_or_default();
    if !problems.is_empty() {
        return Json(json!({ "problems": problems })).into_response();
    }
    // A valid workflow's price, as `wiro-nodes validate` prints it: each paid node's estimate
    // from the model's published prices (Tool/Detail), and the total when all are known.
    let price = price_workflow(&workflow, &state.registry, &state.client).await;
    Json(json!({ "problems": problems, "price": price, "total": price.total() })).into_response()
}

/// The question `POST /api/fits` answers.
#[derive(Debug, Deserialize)]
pub struct FitsQuestion {
    from_type: String,
    from_port: String,
    #[serde(default)]
    path: Vec<String>,
    to_type: String,
    to_port: String,
}

/// `POST /api/fits`: may this output (or a field inside it) feed this input?
pub async fn fits(
    State(state): State<Arc<AppState>>,
    Json(question): Json<FitsQuestion>,
) -> Json<Value> {
    Json(catalog::fits(
        &state.registry,
        &question.from_type,
        &question.from_port,
        &question.path,
        &question.to_type,
        &question.to_port,
    ))
}

/// `POST /api/open` with a file's text: the workflow it holds, or why it is not one.
pub async fn open(body: String) -> Response {
    match Workflow::from_json(&body) {
        Ok(workflow) => Json(json!({ "workflow": workflow })).into_response(),
        Err(error) => refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("not a workflow: {error}"),
        ),
    }
}

/// What `POST /api/save` takes.
#[derive(Debug, Deserialize)]
pub struct SaveRequest {
    name: String,
    workflow: Value,
}

/// `POST /api/save`: writes the workflow into the workspace as `wiro-nodes run` reads it.
pub async fn save(
    State(state): State<Arc<AppState>>,
    Json(request): Json<SaveRequest>,
) -> Response {
    let name_ok = request.name.ends_with(".json")
        && request.name.len() <= 120
        && request
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !request.name.starts_with('.');
    if !name_ok {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a file name is letters, digits, '-', '_' and '.', ending in .json",
        );
    }
    let workflow = match parse_workflow(request.workflow) {
        Ok(workflow) => workflow,
        Err(message) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
    };
    let mut text = match serde_json::to_string_pretty(&workflow) {
        Ok(text) => text,
        Err(error) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    };
    text.push('\n');
    let path = state.workspace.join(&request.name);
    match tokio::fs::write(&path, text).await {
        Ok(()) => Json(json!({ "path": path })).into_response(),
        Err(error) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{}: {error}", path.display()),
        ),
    }
}

/// `POST /api/files` (multipart, part `file`): stores a file chosen in the page in the
/// workspace's `uploads/` folder and answers its path relative to the workspace — the value
/// an upload node's `path` takes, here and in the CLI.
pub async fn store_file(State(state): State<Arc<AppState>>, mut form: Multipart) -> Response {
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return refuse(StatusCode::BAD_REQUEST, "no part named \"file\""),
            Err(error) => return refuse(StatusCode::BAD_REQUEST, error.to_string()),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = crate::api::safe_file_name(field.file_name().unwrap_or("file"));
        let folder = state.workspace.join(UPLOADS_DIR);
        let stored = async {
            tokio::fs::create_dir_all(&folder).await?;
            let mut file = tokio::fs::File::create(folder.join(&name)).await?;
            while let Some(chunk) = field.chunk().await.map_err(std::io::Error::other)? {
                file.write_all(&chunk).await?;
            }
            file.sync_all().await
        };
        return match stored.await {
            Ok(()) => Json(json!({ "path": format!("{UPLOADS_DIR}/{name}") })).into_response(),
            Err(error) => refuse(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        };
    }
}

/// Options of `GET /api/output/PATH`.
#[derive(Debug, Deserialize)]
pub struct OutputQuery {
    /// Ask the browser to save the file instead of showing it.
    #[serde(default)]
    download: bool,
}

/// `GET /api/output/PATH`: a file the run wrote in the output folder, streamed.
pub async fn output(
    State(state): State<Arc<AppState>>,
    UrlPath(path): UrlPath<String>,
    Query(query): Query<OutputQuery>,
) -> Response {
    let Some(file) = inside(&state.out_dir, &path) else {
        return refuse(StatusCode::NOT_FOUND, "no such output");
    };
    let opened = match tokio::fs::File::open(&file).await {
        Ok(opened) => opened,
        Err(_) => return refuse(StatusCode::NOT_FOUND, "no such output"),
    };
    let length = opened.metadata().await.map(|m| m.len()).unwrap_or_default();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().replace('"', ""))
        .unwrap_or_default();
    let disposition = if query.download {
        format!("attachment; filename=\"{name}\"")
    } else {
        "inline".to_owned()
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(opened));
    (
        [
            (header::CONTENT_TYPE, content_type(&file).to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// `root/relative` when `relative` stays inside `root` (no `..`, no absolute path).
pub(super) fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    relative
        .components()
        .all(|part| matches!(part, Component::Normal(_)))
        .then(|| root.join(relative))
}

fn content_type(file: &Path) -> &'static str {
    match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        Some("mov") => "video/quicktime",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("wav") => "audio/wav",
        Some("mp3") => "audio/mpeg",
        Some("m4a") => "audio/mp4",
        Some("ogg") => "audio/ogg",
        Some("json") => "application/json",
        Some("txt" | "md" | "csv") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::inside;
    use std::path::Path;

    #[test]
    fn an_output_path_cannot_leave_the_output_folder() {
        let root = Path::new("/tmp/out");
        assert!(inside(root, "download-0.mp4").is_some());
        assert!(inside(root, "sub/a.mp4").is_some());
        assert!(inside(root, "../secret").is_none());
        assert!(inside(root, "/etc/passwd").is_none());
    }
}
