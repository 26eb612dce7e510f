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
    let Some(path) = inside(&state.workspace, &request.name) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{} leads outside the workspace (a link)", request.name),
        );
    };
    let written = write_new(&path, async |file: &mut tokio::fs::File| {
        file.write_all(text.as_bytes()).await
    });
    match written.await {
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
        let relative = format!("{UPLOADS_DIR}/{name}");
        let folder = state.workspace.join(UPLOADS_DIR);
        if let Err(error) = tokio::fs::create_dir_all(&folder).await {
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
        }
        let Some(path) = inside(&state.workspace, &relative) else {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{relative} leads outside the workspace (a link)"),
            );
        };
        let stored = write_new(&path, async |file: &mut tokio::fs::File| {
            while let Some(chunk) = field.chunk().await.map_err(std::io::Error::other)? {
                file.write_all(&chunk).await?;
            }
            Ok(())
        });
        return match stored.await {
            Ok(()) => Json(json!({ "path": relative })).into_response(),
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

/// `root/relative` when `relative` stays inside `root`: no `..`, no absolute path, and no
/// symbolic link on the way that leads out (the deepest part of it that exists, resolved,
/// is inside `root` resolved). A workspace someone else wrote may hold links to anywhere.
pub(super) fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    let plain = relative
        .components()
        .all(|part| matches!(part, Component::Normal(_)));
    if !plain {
        return None;
    }
    let joined = root.join(relative);
    let real_root = root.canonicalize().ok()?;
    let mut probe = joined.as_path();
    loop {
        match probe.canonicalize() {
            Ok(real) => return real.starts_with(&real_root).then_some(joined),
            // A link to nothing (yet): where it leads is not known to be inside.
            Err(_) if probe.symlink_metadata().is_ok() => return None,
            // Not there yet (a file about to be written): its folder.
            Err(_) => probe = probe.parent()?,
        }
    }
}

/// Writes `path` (checked with [`inside`]) whole: into a new temporary file beside it,
/// renamed over it, so that a link left at `path` is replaced, never followed.
async fn write_new(
    path: &Path,
    bytes: impl AsyncFnOnce(&mut tokio::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = path.with_file_name(format!(".{name}.{}.part", std::process::id()));
    let written = async {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
            .await?;
        bytes(&mut file).await?;
        file.sync_all().await?;
        tokio::fs::rename(&temporary, path).await
    };
    let result = written.await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temporary).await;
    }
    result
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
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert!(inside(root, "download-0.mp4").is_some());
        assert!(inside(root, "sub/a.mp4").is_some());
        assert!(inside(root, "../secret").is_none());
        assert!(inside(root, "/etc/passwd").is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_that_leads_out_is_outside_whatever_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        std::fs::create_dir_all(root.join("uploads")).unwrap();
        std::fs::write(elsewhere.path().join("secret.env"), "KEY=1").unwrap();
        std::fs::write(root.join("uploads/kept.csv"), "a.b\n1\n").unwrap();
        let link = |name: &str, to: &Path| std::os::unix::fs::symlink(to, root.join(name)).unwrap();
        link("uploads/table.csv", &elsewhere.path().join("secret.env"));
        link("uploads/new.csv", &elsewhere.path().join("not-yet"));
        link("out", elsewhere.path());
        link("in.csv", &root.join("uploads/kept.csv"));
        assert!(
            inside(&root, "uploads/table.csv").is_none(),
            "a link to a file"
        );
        assert!(
            inside(&root, "uploads/new.csv").is_none(),
            "a link to nothing yet"
        );
        assert!(
            inside(&root, "out/secret.env").is_none(),
            "a link to a folder"
        );
        assert!(inside(&root, "out/anything").is_none());
        assert!(
            inside(&root, "in.csv").is_some(),
            "a link that stays inside"
        );
        assert!(inside(&root, "uploads/fresh.csv").is_some());
    }
}
