//! `File/FolderCreate` and `File/Upload`: folders and stored files, served back under `/cdn`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Map};

use crate::api::wire::{
    codes, upload_content_type, FileList, UploadedFile, WireNumber, MAX_UPLOAD_BYTES, UPLOAD_TYPES,
};

use super::super::answer::{deliver, refuse, success, text_field};
use super::super::basics::{now_secs, random_hex};
use super::super::faults::Operation;
use super::super::gate::{gate, gate_json};
use super::super::state::Shared;

/// Bytes read from a refused upload before giving up on answering politely: past this the
/// connection is simply closed.
const DRAIN_LIMIT: u64 = MAX_UPLOAD_BYTES + 16 * 1024 * 1024;

/// `POST /File/FolderCreate {"name", "parentid"?}`.
pub(crate) async fn folder_create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (fault, request) = match gate_json(&shared, Operation::FolderCreate, &headers, &body).await
    {
        Ok(opened) => opened,
        Err(answer) => return answer,
    };
    let Some(name) = text_field(&request, "name") else {
        return refuse(codes::GENERAL, "name is required: the new folder's name");
    };
    if name.len() > 255
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return refuse(
            codes::GENERAL,
            format!("name {name:?} is not allowed: use 1 to 255 letters, digits, '-' and '_'"),
        );
    }
    let parentid = text_field(&request, "parentid").or_else(|| text_field(&request, "parentId"));
    if let Some(parent) = parentid.as_deref() {
        if !shared.folder_exists(parent) {
            return refuse(
                codes::NOT_FOUND,
                format!("parentid {parent:?}: no such folder"),
            );
        }
    }
    let folder = shared.create_folder(&name, parentid);
    deliver(fault, &success(&FileList { list: vec![folder] }))
}

/// What an upload part turned out to be.
pub(crate) enum Received {
    /// Stored bytes with their content type.
    Stored {
        content_type: &'static str,
        bytes: Bytes,
    },
    /// Refused, with the reason for the error envelope.
    Refused(String),
}

/// Reads one file part, enforcing the type and size rules of File/Upload. `read_so_far`
/// counts the bytes of the whole request, so a huge body is cut off at [`DRAIN_LIMIT`].
pub(crate) async fn receive_file(
    mut field: axum::extract::multipart::Field<'_>,
    read_so_far: &mut u64,
) -> Result<Received, String> {
    let file_name = field.file_name().unwrap_or_default().to_owned();
    let content_type = upload_content_type(&file_name);
    let mut kept: Option<Vec<u8>> = content_type.map(|_| Vec::new());
    let mut size: u64 = 0;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|problem| format!("could not read the multipart body: {problem}"))?
    {
        size += chunk.len() as u64;
        *read_so_far += chunk.len() as u64;
        if *read_so_far > DRAIN_LIMIT {
            return Err(format!(
                "{file_name:?} is larger than the {MAX_UPLOAD_BYTES}-byte (100 MB) upload limit"
            ));
        }
        match kept.as_mut() {
            Some(bytes) if size <= MAX_UPLOAD_BYTES => bytes.extend_from_slice(&chunk),
            _ => kept = None,
        }
    }
    let Some(content_type) = content_type else {
        let accepted: Vec<&str> = UPLOAD_TYPES.iter().map(|(ending, _)| *ending).collect();
        return Ok(Received::Refused(format!(
            "file {file_name:?}: this type is not accepted; accepted endings: {}",
            accepted.join(", ")
        )));
    };
    match kept {
        Some(bytes) => Ok(Received::Stored {
            content_type,
            bytes: Bytes::from(bytes),
        }),
        None => Ok(Received::Refused(format!(
            "file {file_name:?} has {size} bytes, more than the {MAX_UPLOAD_BYTES}-byte (100 MB) upload limit"
        ))),
    }
}

/// `POST /File/Upload` (multipart: `file`, optional `folderid`).
pub(crate) async fn upload(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let headers = request.headers().clone();
    let fault = match gate(&shared, Operation::Upload, Some(&headers)).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    let mut multipart = match Multipart::from_request(request, &()).await {
        Ok(multipart) => multipart,
        Err(problem) => {
            return refuse(
                codes::GENERAL,
                format!("File/Upload takes multipart/form-data with a `file` part: {problem}"),
            )
        }
    };
    let mut folderid: Option<String> = None;
    let mut file: Option<(String, Received)> = None;
    let mut read_so_far = 0;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(problem) => {
                return refuse(
                    codes::GENERAL,
                    format!("could not read the multipart body: {problem}"),
                )
            }
        };
        match field.name() {
            Some("file") if file.is_none() => {
                let name = field.file_name().unwrap_or_default().to_owned();
                match receive_file(field, &mut read_so_far).await {
                    Ok(received) => file = Some((name, received)),
                    Err(problem) => return refuse(codes::GENERAL, problem),
                }
            }
            Some("folderid") => match field.text().await {
                Ok(text) if !text.trim().is_empty() => folderid = Some(text.trim().to_owned()),
                Ok(_) => {}
                Err(problem) => {
                    return refuse(
                        codes::GENERAL,
                        format!("could not read folderid: {problem}"),
                    )
                }
            },
            _ => {
                if let Err(problem) = drain(field, &mut read_so_far).await {
                    return refuse(codes::GENERAL, problem);
                }
            }
        }
    }
    let Some((name, received)) = file else {
        return refuse(
            codes::GENERAL,
            "the multipart body has no `file` part (the bytes, with a filename)",
        );
    };
    let (content_type, bytes) = match received {
        Received::Stored {
            content_type,
            bytes,
        } => (content_type, bytes),
        Received::Refused(reason) => return refuse(codes::GENERAL, reason),
    };
    if let Some(folder) = folderid.as_deref() {
        if !shared.folder_exists(folder) {
            return refuse(
                codes::NOT_FOUND,
                format!("folderid {folder:?}: no such folder"),
            );
        }
    }
    let size = bytes.len();
    let url = shared.store_file(&name, content_type, bytes);
    let mut extra = Map::new();
    extra.insert("addedtime".into(), json!(now_secs().to_string()));
    extra.insert("accesskey".into(), json!(random_hex(16)));
    let stored = UploadedFile {
        id: random_hex(32),
        name: url.rsplit('/').next().unwrap_or_default().to_owned(),
        contenttype: content_type.to_owned(),
        size: Some(WireNumber::from(size)),
        url,
        parentid: folderid,
        extra,
    };
    deliver(fault, &success(&FileList { list: vec![stored] }))
}

/// Reads and discards a part the route does not use.
pub(crate) async fn drain(
    mut field: axum::extract::multipart::Field<'_>,
    read_so_far: &mut u64,
) -> Result<(), String> {
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|problem| format!("could not read the multipart body: {problem}"))?
    {
        *read_so_far += chunk.len() as u64;
        if *read_so_far > DRAIN_LIMIT {
            return Err("the request body is larger than the upload limit".into());
        }
    }
    Ok(())
}
