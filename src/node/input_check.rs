//! `InputCheck`: a node's inputs judged against its spec — unknown ports and the input
//! schema (types, enums, ranges, required ports) — with messages in the user's words. Every
//! node type built from a schema (typed nodes, catalog models) checks its inputs here.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::{InputProblem, NodeSpec};

/// The compiled input schema of one node type, built the first time inputs are checked.
#[derive(Default)]
pub struct InputCheck {
    validator: OnceLock<Option<jsonschema::Validator>>,
}

impl std::fmt::Debug for InputCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputCheck")
            .field("compiled", &self.validator.get().is_some())
            .finish()
    }
}

impl InputCheck {
    fn validator(&self, spec: &NodeSpec) -> Option<&jsonschema::Validator> {
        self.validator
            .get_or_init(|| {
                // Compiled as draft 7: the schemas are 2020-12 documents written only with
                // keywords draft 7 shares, meaning the same (a test holds them to that), and
                // draft 7's meta-schema, which every build checks the schema against, compiles
                // in a fraction of 2020-12's: that was most of a process's first input check.
                match jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft7)
                    .should_validate_formats(true)
                    .build(&spec.inputs)
                {
                    Ok(validator) => Some(validator),
                    Err(error) => {
                        // A schema derived from Rust types or a catalog always compiles; if
                        // not, the node still checks its inputs before running.
                        tracing::error!(node = %spec.type_id, %error, "input schema does not compile");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// Every problem with `inputs` that the spec shows, and the literal inputs (those not in
    /// `linked`, whose values come from other nodes later and count as present, unjudged).
    pub fn problems(
        &self,
        spec: &NodeSpec,
        inputs: &Map<String, Value>,
        linked: &BTreeSet<String>,
    ) -> (Vec<InputProblem>, Map<String, Value>) {
        let ports: BTreeSet<&str> = spec.input_ports().into_iter().collect();
        let mut problems: Vec<InputProblem> = inputs
            .keys()
            .chain(linked.iter())
            .filter(|name| !ports.contains(name.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|name| {
                InputProblem::new(
                    name.as_str(),
                    "unknown-input",
                    format!(
                        "{} has no input {name:?}; its inputs are: {}",
                        spec.type_id,
                        spec.input_ports().join(", ")
                    ),
                )
            })
            .collect();
        let literal: Map<String, Value> = inputs
            .iter()
            .filter(|(name, _)| !linked.contains(*name))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        if let Some(validator) = self.validator(spec) {
            let instance = Value::Object(literal.clone());
            for error in validator.iter_errors(&instance) {
                let schema_path = error.schema_path().as_str();
                // Cross-field rules come from the node's own checks, in better words.
                if schema_path.starts_with("/allOf") {
                    continue;
                }
                let (path, rule) = match error.kind() {
                    jsonschema::error::ValidationErrorKind::Required { property } => {
                        let name = property.as_str().unwrap_or_default().to_owned();
                        if linked.contains(&name) {
                            continue;
                        }
                        (name, "required".to_owned())
                    }
                    _ => (
                        error
                            .instance_path()
                            .as_str()
                            .trim_start_matches('/')
                            .to_owned(),
                        schema_path
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    ),
                };
                let message = match rule.as_str() {
                    "required" => format!("input {path:?} is required"),
                    _ => schema_message(&error),
                };
                problems.push(InputProblem::new(path, rule, message));
            }
        }
        // A value of the wrong type fails its list of choices too: the type says it.
        let mistyped: BTreeSet<String> = problems
            .iter()
            .filter(|problem| problem.rule == "type")
            .map(|problem| problem.path.clone())
            .collect();
        problems.retain(|problem| {
            !(matches!(problem.rule.as_str(), "enum" | "const") && mistyped.contains(&problem.path))
        });
        problems.extend(super::file_kind::literal_url_problems(spec, &literal));
        (problems, literal)
    }
}

/// A schema error in the user's words: a length as a count against the limit ("is 2,049
/// characters long; at most 2,048"), anything else with the value cut to a readable length
/// (the validator would repeat a 50 MB prompt whole) and the rule's limit whole.
fn schema_message(error: &jsonschema::ValidationError) -> String {
    use jsonschema::error::ValidationErrorKind;
    let length = || {
        error
            .instance()
            .as_str()
            .map_or(0, |text| text.chars().count() as u64)
    };
    match error.kind() {
        ValidationErrorKind::MaxLength { limit } => format!(
            "is {} characters long; at most {}",
            grouped(length()),
            grouped(*limit)
        ),
        ValidationErrorKind::MinLength { limit } => format!(
            "is {} characters long; at least {}",
            grouped(length()),
            grouped(*limit)
        ),
        // Every choice, not the first two and a count: the user picks one of them.
        ValidationErrorKind::Enum { options } => {
            let choices: Vec<String> = (options.as_array().into_iter().flatten())
                .map(super::shown)
                .collect();
            let shown = super::shown(error.instance());
            format!("{shown} is not one of the choices: {}", choices.join(", "))
        }
        _ => error
            .masked_with(super::shown(error.instance()))
            .to_string(),
    }
}

/// `2049` as `2,049`.
fn grouped(number: u64) -> String {
    let digits = number.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}
