//! What kind of file a node's input takes, read from its spec: each literal URL given to an
//! input that takes another kind than its name says is a `file-kind` problem (the kinds and
//! keywords themselves are [`crate::models::file_kind`]'s).

use serde_json::{Map, Value};

use super::{InputProblem, NodeSpec};
use crate::models::file_kind::{
    a_kind, kind_of_parameter, kind_of_url, FILE_KIND_BY_NAME_KEY, FILE_KIND_KEY,
};

/// The kind of file the input `port` of `spec` takes, if it says; with `key`, the kind the
/// entry `key` of that (object) input takes.
pub fn kind_taken<'a>(spec: &'a NodeSpec, port: &str, key: Option<&str>) -> Option<&'a str> {
    let schema = &spec.inputs["properties"][port];
    match key {
        None => schema[FILE_KIND_KEY].as_str(),
        Some(key) if schema[FILE_KIND_BY_NAME_KEY] == true => kind_of_parameter(key),
        Some(_) => None,
    }
}

/// Every literal URL in `literal` given to an input that takes another kind of file than the
/// URL's name says (a `.csv` to an image input), each a `file-kind` problem; the inputs of
/// [`FILE_KIND_BY_NAME_KEY`] are judged entry by entry.
pub fn literal_url_problems(spec: &NodeSpec, literal: &Map<String, Value>) -> Vec<InputProblem> {
    let mut problems = Vec::new();
    for (port, value) in literal {
        if let Some(wanted) = kind_taken(spec, port, None) {
            url_problems(port, value, wanted, &mut problems);
        }
        if let Value::Object(entries) = value {
            for (key, value) in entries {
                if let Some(wanted) = kind_taken(spec, port, Some(key)) {
                    url_problems(&format!("{port}/{key}"), value, wanted, &mut problems);
                }
            }
        }
    }
    problems
}

/// A `file-kind` problem at `path` for each URL in `value` (one, or a list) that names
/// another kind than `wanted`.
fn url_problems(path: &str, value: &Value, wanted: &str, problems: &mut Vec<InputProblem>) {
    let urls: Vec<&str> = match value {
        Value::String(url) => vec![url.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for url in urls {
        match kind_of_url(url) {
            Some(kind) if kind != wanted => problems.push(InputProblem::new(
                path,
                "file-kind",
                format!(
                    "{} names {}; this input takes {}",
                    super::cut(url, 80),
                    a_kind(kind),
                    a_kind(wanted)
                ),
            )),
            _ => {}
        }
    }
}
