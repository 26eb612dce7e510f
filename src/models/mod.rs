//! The models this crate runs on Wiro, as data: every model is a [`catalog::CatalogModel`]
//! (its slug, parameter definitions as Tool/Detail states them, the input schema and the Run
//! body derived from them, its prices, and rules between its parameters), served as a node
//! type by the one generic `nodes::CatalogNode`.
//!
//! Two sources give models: [`builtin`], the models built into the crate (PixVerse v4
//! text-to-video and image-to-video, with their cross-field rules), which every program has;
//! and a catalog file a user syncs from Wiro ([`catalog::Catalog`]), which adds the rest.
//!
//! ```
//! use wiro_nodes::models::builtin;
//! use serde_json::json;
//!
//! let model = builtin::model("PixVerse/text-to-video-v4").expect("built in");
//! let body = json!({ "prompt": "a red fox", "quality": "1080p", "duration": "8" });
//! let problems = model.check_wire(body.as_object().unwrap()).unwrap_err();
//! assert_eq!(problems[0].field, "duration");
//! assert_eq!(problems[0].rule, "pixverse/1080p-max-5s");
//! ```
//!
//! # Layout
//!
//! - [`catalog`]: a model as data, its typed fields, schema, wire mapping and rules; the
//!   catalog file and `catalog sync`.
//! - [`builtin`]: the models built into the crate.
//! - [`file_kind`]: the kind of file a name says, and the kind a parameter takes.

pub mod builtin;
pub mod catalog;
pub mod file_kind;

/// One broken rule in a parameter set: which field, which rule, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ParameterProblem {
    /// The parameter's name as the wire spells it, e.g. `duration`.
    pub field: String,
    /// A stable id of the broken rule, e.g. `pixverse/1080p-max-5s` or `maxLength`.
    pub rule: String,
    /// What is wrong and how to fix it, without the field name in front.
    pub message: String,
}

impl ParameterProblem {
    /// A problem with `field` that breaks `rule`, explained by `message`.
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

// Messages repeat values cut to a readable length, in every layer above this one.

/// How long a value may be when a message repeats it.
const SHOWN_CHARS: usize = 80;

/// `text` cut to `limit` characters, with how much was left out: a 50 MB prompt must not come
/// back whole in an error message.
pub fn cut(text: &str, limit: usize) -> String {
    let count = text.chars().count();
    if count <= limit {
        return text.to_owned();
    }
    let kept: String = text.chars().take(limit).collect();
    format!("{kept}… ({} more characters)", count - limit)
}

/// A JSON value as a message shows it: compact, cut to a readable length.
pub fn shown(value: &serde_json::Value) -> String {
    cut(&value.to_string(), SHOWN_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_prints_its_field_then_its_message() {
        let problem = ParameterProblem::new("seed", "range", "2147483648 is too large");
        assert_eq!(problem.to_string(), "seed: 2147483648 is too large");
    }
}
