//! A Run's body as parameters: a JSON object, or a multipart form whose text parts are
//! parameters and whose file parts are stored as File/Upload would store them, each passed
//! on as its URL under the name the model reads it by (see [`place`]).

use axum::body::Bytes;
use axum::extract::multipart::Field as Part;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::api::wire::codes;
use crate::models::catalog::{Field, FieldKind, FilesForm};

use super::super::answer::{json_object, refuse};
use super::super::state::Shared;
use super::files::{drain, receive_file, Received};

/// The parameters of a Run, and the files its form stored.
#[derive(Debug, Default)]
pub(super) struct RunBody {
    /// The parameters as sent, file parts replaced by the URLs of the stored files.
    pub parameters: Map<String, Value>,
    /// The URLs of the files stored from file parts.
    pub stored: Vec<String>,
}

impl RunBody {
    /// Removes the stored files again: the Run was refused, and nothing it sent stays.
    pub fn discard(&self, shared: &Shared) {
        for url in &self.stored {
            shared.remove_file_by_url(url);
        }
    }
}

/// Where a value of a form part goes among the parameters.
#[derive(Debug, PartialEq)]
enum Place {
    /// Under this name, replacing an earlier value.
    One(String),
    /// Appended to the comma-separated URLs under this name (`multifileinput`).
    Joined(String),
    /// Appended to the list under this name (`combinefileinput`).
    List(String),
}

/// Where part `name` goes: for a file parameter of the model (`fields`, by its id or wire
/// name), where that parameter is read from; else, for a file, `{name}Url` (PixVerse v4's
/// `inputImage` becomes `inputImageUrl`), and for text, `name`.
fn place(fields: &[Field], name: &str, is_file: bool) -> Place {
    let field = fields
        .iter()
        .find(|field| field.id == name || field.wire == name);
    match field.map(|field| (&field.kind, field.wire.clone())) {
        Some((FieldKind::File, wire)) if is_file => Place::One(wire),
        Some((FieldKind::Files { form }, wire)) => match form {
            FilesForm::CommaSeparated => Place::Joined(wire),
            FilesForm::List => Place::List(wire),
        },
        _ if is_file && !name.ends_with("Url") => Place::One(format!("{name}Url")),
        _ => Place::One(name.to_owned()),
    }
}

/// Puts `value` where `place` says.
fn put(parameters: &mut Map<String, Value>, place: Place, value: String) {
    match place {
        Place::One(name) => {
            parameters.insert(name, Value::String(value));
        }
        Place::Joined(name) => match parameters.get_mut(&name) {
            Some(Value::String(joined)) if !joined.trim().is_empty() => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => {
                parameters.insert(name, Value::String(value));
            }
        },
        Place::List(name) => match parameters.get_mut(&name) {
            Some(Value::Array(list)) => list.push(Value::String(value)),
            _ => {
                parameters.insert(name, Value::Array(vec![Value::String(value)]));
            }
        },
    }
}

/// The body as parameters; `fields` are the model's typed parameters.
pub(super) async fn read_body(
    shared: &Shared,
    request: Request,
    fields: &[Field],
) -> Result<RunBody, Response> {
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
        return Ok(RunBody {
            parameters: json_object(&body)?,
            stored: Vec::new(),
        });
    }
    let mut body = RunBody::default();
    match read_form(shared, request, fields, &mut body).await {
        Ok(()) => Ok(body),
        Err(answer) => {
            body.discard(shared);
            Err(answer)
        }
    }
}

/// A multipart form: text parts are parameters, file parts are stored (see
/// [`store_file_part`]), parts without a name are read and dropped.
async fn read_form(
    shared: &Shared,
    request: Request,
    fields: &[Field],
    body: &mut RunBody,
) -> Result<(), Response> {
    let form_problem = |problem: String| {
        refuse(
            codes::GENERAL,
            format!("could not read the form: {problem}"),
        )
    };
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|problem| form_problem(problem.to_string()))?;
    let mut read_so_far = 0;
    while let Some(part) = form
        .next_field()
        .await
        .map_err(|problem| form_problem(problem.to_string()))?
    {
        let Some(name) = part
            .name()
            .map(str::to_owned)
            .filter(|name| !name.is_empty())
        else {
            drain(part, &mut read_so_far)
                .await
                .map_err(|problem| refuse(codes::GENERAL, problem))?;
            continue;
        };
        let (value, is_file) = match part.file_name().map(str::to_owned) {
            Some(file_name) => {
                let url =
                    store_file_part(shared, part, &name, &file_name, &mut read_so_far).await?;
                body.stored.push(url.clone());
                (url, true)
            }
            None => {
                let text = part.text().await.map_err(|problem| {
                    refuse(
                        codes::GENERAL,
                        format!("could not read part {name}: {problem}"),
                    )
                })?;
                (text, false)
            }
        };
        put(&mut body.parameters, place(fields, &name, is_file), value);
    }
    Ok(())
}

/// Stores a file part as File/Upload would, under the rules of an upload, and returns the
/// stored file's URL.
async fn store_file_part(
    shared: &Shared,
    part: Part<'_>,
    name: &str,
    file_name: &str,
    read_so_far: &mut u64,
) -> Result<String, Response> {
    let received = receive_file(part, read_so_far)
        .await
        .map_err(|problem| refuse(codes::GENERAL, format!("{name}: {problem}")))?;
    match received {
        Received::Stored {
            content_type,
            bytes,
        } => Ok(shared.store_file(file_name, content_type, bytes)),
        Received::Refused(reason) => Err(refuse(codes::GENERAL, format!("{name}: {reason}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> Vec<Field> {
        [
            json!({"id": "firstFrame", "type": "fileinput"}),
            json!({"id": "inputImageUrl", "type": "text"}),
            json!({"id": "photos", "type": "multifileinput"}),
            json!({"id": "referenceImages", "type": "combinefileinput"}),
            json!({"id": "prompt", "type": "text"}),
        ]
        .into_iter()
        .map(|item| Field::read(&serde_json::from_value(item).unwrap()).unwrap())
        .collect()
    }

    #[test]
    fn parts_go_where_the_model_reads_them() {
        let fields = fields();
        let mut parameters = Map::new();
        for (name, value, is_file) in [
            ("firstFrame", "u1", true),
            ("inputImageUrl", "u2", true),
            ("photos", "u3", true),
            ("photos", "u4", true),
            ("referenceImages", "u5", true),
            ("referenceImages", "u6", false),
            ("prompt", "hello", false),
            ("poster", "u7", true),
        ] {
            put(&mut parameters, place(&fields, name, is_file), value.into());
        }
        assert_eq!(
            Value::Object(parameters),
            json!({"firstFrameUrl": "u1", "inputImageUrl": "u2", "photosUrl": "u3,u4",
                "referenceImages": ["u5", "u6"], "prompt": "hello", "posterUrl": "u7"})
        );
    }
}
