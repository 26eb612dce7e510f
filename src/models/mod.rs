//! Typed parameter sets for the models this crate runs on Wiro, with their rules.
//!
//! Each model is one struct that implements [`ModelParameters`]. The same struct:
//!
//! - reads a node's JSON input *and* the all-strings body that Wiro receives (deserialization is
//!   lenient about `"5"` versus `5`),
//! - describes itself as a JSON Schema (2020-12) through [`schemars::JsonSchema`], including the
//!   cross-field rules, so a form renderer or any standard validator sees the same rules,
//! - checks itself with [`ModelParameters::validate`], which reports every broken rule at once,
//!   before any money is spent,
//! - turns itself into the body of `POST /Run/{owner}/{model}` with [`ModelParameters::to_wire`].
//!
//! ```
//! use wiro_nodes::models::pixverse::{rules, Duration, Quality, TextToVideoV4};
//! use wiro_nodes::models::ModelParameters;
//!
//! let mut params = TextToVideoV4::new("a red fox running through fresh snow");
//! assert!(params.validate().is_ok());
//! assert_eq!(params.to_wire()["duration"], "5");
//!
//! params.quality = Quality::P1080;
//! params.duration = Duration::Seconds8;
//! let problems = params.validate().unwrap_err();
//! assert_eq!(problems[0].field, "duration");
//! assert_eq!(problems[0].rule, rules::MAX_5S_AT_1080P);
//! ```
//!
//! # Layout
//!
//! - [`pixverse`]: PixVerse v4 text-to-video and image-to-video.

pub mod catalog;
mod known;
pub mod pixverse;

pub use known::check_known_model;

/// One broken rule in a parameter set: which field, which rule, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ParameterProblem {
    /// The parameter's name as the wire spells it, e.g. `duration`.
    pub field: String,
    /// A stable id of the broken rule, e.g. `pixverse/1080p-max-5s` or `max-length`.
    pub rule: &'static str,
    /// What is wrong and how to fix it, without the field name in front.
    pub message: String,
}

impl ParameterProblem {
    /// A problem with `field` that breaks `rule`, explained by `message`.
    pub fn new(field: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule,
            message: message.into(),
        }
    }
}

/// A typed parameter set of one model on Wiro.
pub trait ModelParameters:
    serde::Serialize
    + serde::de::DeserializeOwned
    + schemars::JsonSchema
    + Clone
    + Send
    + Sync
    + 'static
{
    /// The model's slug as Wiro spells it in /Run/{owner}/{model}, e.g. "PixVerse/text-to-video-v4".
    const SLUG: &'static str;

    /// Every problem at once (per-field limits and cross-field rules); empty Ok means sendable.
    fn validate(&self) -> Result<(), Vec<ParameterProblem>>;

    /// The parameters as the wire wants them: a JSON object whose values are all strings ("5", "false", "" for an unset seed/style).
    fn to_wire(&self) -> serde_json::Map<String, serde_json::Value>;
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
