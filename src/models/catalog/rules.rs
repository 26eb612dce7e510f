//! Rules between a model's parameters, which Tool/Detail has no field for (they live in its
//! free text, like PixVerse's "1080p allows only 5 s"): stated as data on a catalog entry,
//! checked on a node's inputs and on a Run's body, and written into the input schema as
//! `if`/`then` blocks, so a stock validator enforces them too.
//!
//! A broken rule is reported, never repaired: which choice gives way is the user's call.
//!
//! ```
//! use wiro_nodes::models::catalog::ModelRule;
//! use serde_json::json;
//!
//! let rule: ModelRule = serde_json::from_value(json!({
//!     "id": "pixverse/1080p-max-5s", "if": {"quality": "1080p"}, "forbids": {"duration": 8},
//!     "message": "8 s is not available at 1080p"
//! })).unwrap();
//! assert_eq!(rule.forbids.keys().next().map(String::as_str), Some("duration"));
//! ```

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::field::Field;
use super::wire::typed_value;
use crate::models::ParameterProblem;

/// One rule between parameters, or on one parameter beyond its definition.
///
/// Either `if` and `forbids`: when every parameter of `if` has its value, no parameter of
/// `forbids` may have its value (each one that does is a problem on that parameter; a rule
/// without `if` never applies); or `not_blank`: that text parameter, when given, holds more
/// than white space. Values are written as the wire or the node spells them (`8` or `"8"`);
/// a parameter left out counts as its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRule {
    /// A stable id, reported with every problem: `pixverse/1080p-max-5s`.
    pub id: String,
    /// The rule in a few words, for the schema: "1080p cannot be 8 s".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// The rule as a sentence, for the schema.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// What a broken rule says, after the parameter's name.
    pub message: String,
    /// The values that make the rule apply.
    #[serde(rename = "if", default, skip_serializing_if = "Map::is_empty")]
    pub when: Map<String, Value>,
    /// The values not allowed while it applies.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub forbids: Map<String, Value>,
    /// A text parameter that must not be white space alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_blank: Option<String>,
}

impl ModelRule {
    /// The problems of typed `inputs` with this rule; parameters in `unknown` (their values
    /// come later) break nothing.
    pub fn problems(
        &self,
        fields: &[Field],
        inputs: &Map<String, Value>,
        unknown: &BTreeSet<String>,
    ) -> Vec<ParameterProblem> {
        if let Some(id) = &self.not_blank {
            let blank = inputs
                .get(id)
                .and_then(Value::as_str)
                .is_some_and(|text| !text.is_empty() && text.trim().is_empty());
            return blank
                .then(|| ParameterProblem::new(id, &self.id, &self.message))
                .into_iter()
                .collect();
        }
        let has = |id: &String, wanted: &Value| -> bool {
            if unknown.contains(id) {
                return false;
            }
            let Some(field) = fields.iter().find(|field| field.id == *id) else {
                return false;
            };
            let value = inputs.get(id).or(field.default.as_ref());
            match (value, typed_value(field, wanted)) {
                (Some(value), Some(wanted)) => typed_value(field, value) == Some(wanted),
                _ => false,
            }
        };
        if self.when.is_empty() || !self.when.iter().all(|(id, value)| has(id, value)) {
            return Vec::new();
        }
        self.forbids
            .iter()
            .filter(|(id, value)| has(id, value))
            .map(|(id, _)| ParameterProblem::new(id, &self.id, &self.message))
            .collect()
    }

    /// The rule as a JSON Schema `if`/`then` block, `None` for a rule no schema states. The
    /// `if` requires its parameters: one left out takes its default, and a rule that a
    /// default alone would break is a broken model definition.
    pub fn schema_block(&self, fields: &[Field]) -> Option<Value> {
        if self.when.is_empty() || self.forbids.is_empty() {
            return None;
        }
        let typed = |id: &String, value: &Value| {
            fields
                .iter()
                .find(|field| field.id == *id)
                .and_then(|field| typed_value(field, value))
                .unwrap_or_else(|| value.clone())
        };
        let when: Map<String, Value> = self
            .when
            .iter()
            .map(|(id, value)| (id.clone(), json!({ "const": typed(id, value) })))
            .collect();
        let forbids: Map<String, Value> = self
            .forbids
            .iter()
            .map(|(id, value)| (id.clone(), json!({ "not": { "const": typed(id, value) } })))
            .collect();
        let mut block = Map::new();
        if !self.title.is_empty() {
            block.insert("title".into(), self.title.clone().into());
        }
        if !self.description.is_empty() {
            block.insert("description".into(), self.description.clone().into());
        }
        block.insert(RULE_ID_KEY.into(), self.id.clone().into());
        block.insert(
            "if".into(),
            json!({ "properties": when, "required": self.when.keys().collect::<Vec<_>>() }),
        );
        block.insert("then".into(), json!({ "properties": forbids }));
        Some(Value::Object(block))
    }
}

/// The keyword naming the rule of an `if`/`then` block (see [`crate::node::vocabulary`]).
pub const RULE_ID_KEY: &str = "x-rule-id";

/// Every problem of typed `inputs` with `rules`, in the order of the rules.
pub fn rule_problems(
    rules: &[ModelRule],
    fields: &[Field],
    inputs: &Map<String, Value>,
    unknown: &BTreeSet<String>,
) -> Vec<ParameterProblem> {
    rules
        .iter()
        .flat_map(|rule| rule.problems(fields, inputs, unknown))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(definition: Value) -> Field {
        Field::read(&serde_json::from_value(definition).unwrap()).unwrap()
    }

    fn fields() -> Vec<Field> {
        vec![
            field(json!({"id": "quality", "type": "select", "default": "540p",
                "options": ["540p", "1080p"]})),
            field(json!({"id": "duration", "type": "select", "default": "5",
                "valuetype": "integer", "options": ["5", "8"]})),
            field(json!({"id": "prompt", "type": "textarea"})),
        ]
    }

    fn rule(value: Value) -> ModelRule {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_rule_judges_values_in_either_form_and_defaults_for_absent_ones() {
        let short = rule(json!({"id": "max-5s", "if": {"quality": "1080p"},
            "forbids": {"duration": "8"}, "message": "too long"}));
        let inputs = |value: Value| value.as_object().cloned().unwrap();
        let none = BTreeSet::new();
        for broken in [
            json!({"quality": "1080p", "duration": 8}),
            json!({"quality": "1080p", "duration": "8"}),
        ] {
            let problems = short.problems(&fields(), &inputs(broken), &none);
            assert_eq!(problems.len(), 1);
            assert_eq!(
                (problems[0].field.as_str(), problems[0].rule.as_str()),
                ("duration", "max-5s")
            );
        }
        for fine in [
            json!({"quality": "1080p"}),
            json!({"duration": 8}),
            json!({}),
        ] {
            assert!(short.problems(&fields(), &inputs(fine), &none).is_empty());
        }
        let linked = BTreeSet::from(["duration".to_owned()]);
        let partial = inputs(json!({"quality": "1080p", "duration": 8}));
        assert!(short.problems(&fields(), &partial, &linked).is_empty());
        let block = short.schema_block(&fields()).unwrap();
        assert_eq!(block["then"]["properties"]["duration"]["not"]["const"], 8);
        assert_eq!(block["if"]["required"], json!(["quality"]));
    }

    #[test]
    fn a_blank_text_breaks_not_blank_and_an_empty_one_does_not() {
        let blank = rule(json!({"id": "not-blank", "not_blank": "prompt", "message": "blank"}));
        let none = BTreeSet::new();
        let spaces = json!({"prompt": " \t "});
        assert_eq!(
            blank
                .problems(&fields(), spaces.as_object().unwrap(), &none)
                .len(),
            1
        );
        let empty = json!({"prompt": ""});
        assert!(blank
            .problems(&fields(), empty.as_object().unwrap(), &none)
            .is_empty());
        assert!(blank.schema_block(&fields()).is_none());
    }
}
