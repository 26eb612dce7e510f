//! `wiro/model.run`: runs any model on Wiro with a parameters object; returns the task handle.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::support::{submit_run, StartedTask};
use crate::models::builtin;
use crate::models::catalog::misspelled_numbers;
use crate::models::ParameterProblem;
use crate::node::{InputProblem, NodeContext, NodeError, PricedRun, TypedNode};

/// Runs any model.
#[derive(Debug, Default)]
pub struct ModelRun;

/// The model and its parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRunInput {
    /// The model as `owner/model`, e.g. `PixVerse/text-to-video-v4`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$"))]
    #[schemars(extend("x-runs-model" = true))]
    pub model: String,
    /// The model's parameters; values are sent as strings, as Wiro's docs do.
    #[serde(default)]
    #[schemars(extend("x-file-kind-by-name" = true))]
    pub parameters: Map<String, Value>,
}

#[async_trait]
impl TypedNode for ModelRun {
    type Input = ModelRunInput;
    type Output = StartedTask;
    const TYPE_ID: &'static str = "wiro/model.run";
    const TITLE: &'static str = "Run model";
    const CATEGORY: &'static str = "models";
    const DESCRIPTION: &'static str = "Starts a task of any Wiro model (Run/{owner}/{model}) and returns its handle as soon as it is accepted. Costs money; never sent twice.";
    const SPENDS_MONEY: bool = true;

    fn check_partial(inputs: &Map<String, Value>) -> Vec<InputProblem> {
        match (inputs.get("model"), inputs.get("parameters")) {
            // The whole object wired from another node: judged when the node runs.
            (_, Some(Value::Object(parameters))) if parameters.contains_key("$from") => Vec::new(),
            (Some(Value::String(model)), Some(Value::Object(parameters)))
                if !parameters.values().any(holds_a_wire) =>
            {
                known_model_problems(model, parameters)
            }
            // A field wired from another node is judged when the node runs.
            (Some(Value::String(model)), Some(Value::Object(parameters))) => {
                let literal = (parameters.iter())
                    .filter(|(_, value)| !holds_a_wire(value))
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                let problems = known_model_problems(model, &literal);
                // Only what the literal fields break: a wired field may still bring a
                // value that is required.
                (problems.into_iter())
                    .filter(|problem| problem.rule != "required")
                    .collect()
            }
            _ => Vec::new(), // judged when the node runs
        }
    }

    fn priced_run(inputs: &Map<String, Value>, linked: &BTreeSet<String>) -> Option<PricedRun> {
        if linked.contains("model") {
            return None;
        }
        let model = inputs.get("model")?.as_str()?;
        match inputs.get("parameters") {
            // Each literal field is priced as written; a field wired from another node is
            // unknown, and so is a price that depends on it.
            Some(Value::Object(parameters)) if !parameters.contains_key("$from") => {
                let wired: BTreeSet<String> = (parameters.iter())
                    .filter(|(_, value)| holds_a_wire(value))
                    .map(|(name, _)| name.clone())
                    .collect();
                Some(PricedRun::literal(model, parameters, &wired))
            }
            // The whole object comes from another node, or holds a reference no wire
            // explains: no parameter is known.
            Some(Value::Object(_)) => None,
            _ if linked.contains("parameters") => None,
            _ => Some(PricedRun::literal(model, &Map::new(), &BTreeSet::new())),
        }
    }

    fn sent_run(input: &Self::Input) -> Option<PricedRun> {
        Some(PricedRun::literal(
            &input.model,
            &input.parameters,
            &BTreeSet::new(),
        ))
    }

    fn check(input: &Self::Input) -> Vec<InputProblem> {
        known_model_problems(&input.model, &input.parameters)
    }

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        submit_run(ctx, &input.model, &input.parameters).await
    }
}

/// The parameters every Run takes besides the model's own (API.md, "Run a model").
const COMMON_PARAMETERS: [&str; 2] = ["callbackUrl", "projectid"];

/// The problems of a built-in model's parameters, each at `parameters/FIELD`: its
/// definitions and the rules between them, a whole number spelled otherwise (`"8.0"` would
/// go out as written), and a name that is one of the model's in another letter case
/// (`Quality` for `quality`: names are matched exactly, so the model's own would not be
/// set). A name the model's published parameters do not hold at all is sent as written:
/// models gain options over time. None for any other model (the server judges those).
fn known_model_problems(model: &str, parameters: &Map<String, Value>) -> Vec<InputProblem> {
    let Some(model) = builtin::model(model) else {
        return Vec::new();
    };
    let fields = model.fields();
    let mut problems = model.check_wire(parameters).err().unwrap_or_default();
    problems.extend(misspelled_numbers(fields, parameters));
    let exact = |name: &str| {
        COMMON_PARAMETERS.contains(&name)
            || (fields.iter()).any(|field| field.wire == name || field.id == name)
    };
    for name in parameters.keys().filter(|name| !exact(name)) {
        let Some(meant) = (fields.iter()).find(|field| field.wire.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        problems.push(ParameterProblem::new(
            name,
            "parameter-name",
            format!(
                "{}/{} has {:?}, spelled so: names are matched exactly, and {name:?} would leave {:?} at its default",
                model.slugowner, model.slugproject, meant.wire, meant.wire
            ),
        ));
    }
    problems.into_iter().map(at_parameter).collect()
}

/// A parameter's problem at `parameters/FIELD`.
fn at_parameter(problem: ParameterProblem) -> InputProblem {
    let path = if problem.field.is_empty() {
        "parameters".to_owned()
    } else {
        format!("parameters/{}", problem.field)
    };
    InputProblem::new(path, problem.rule, problem.message)
}

/// Whether `value` holds a `{"$from": ...}` anywhere (a value another node gives).
fn holds_a_wire(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key("$from") || map.values().any(holds_a_wire),
        Value::Array(items) => items.iter().any(holds_a_wire),
        _ => false,
    }
}

crate::register_node!(ModelRun);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parameters_with_a_wired_field_are_priced_from_their_literal_fields() {
        let linked = BTreeSet::from(["parameters".to_owned()]);
        let inputs = json!({"model": "pixverse/text-to-video-v4", "parameters":
            {"prompt": {"$from": "wait.task.id"}, "quality": "1080p", "duration": 5}});
        let run =
            <ModelRun as TypedNode>::priced_run(inputs.as_object().unwrap(), &linked).unwrap();
        assert_eq!(run.parameters["quality"], "1080p", "not the default 540p");
        assert_eq!(run.unknown, ["prompt"]);
        assert!(!run.parameters.contains_key("prompt"));
        // The whole object from another node: nothing to price from.
        let inputs = json!({"model": "pixverse/text-to-video-v4",
            "parameters": {"$from": "maker.parameters"}});
        assert!(
            <ModelRun as TypedNode>::priced_run(inputs.as_object().unwrap(), &linked).is_none()
        );
    }

    #[test]
    fn a_built_in_slug_in_any_case_gets_its_models_rules() {
        let parameters = json!({ "prompt": "a fox", "quality": "1080p", "duration": "8" });
        let parameters = parameters.as_object().unwrap();
        let problems = known_model_problems("pixverse/TEXT-to-video-v4", parameters);
        assert_eq!(
            (problems[0].path.as_str(), problems[0].rule.as_str()),
            ("parameters/duration", "pixverse/1080p-max-5s")
        );
        assert!(known_model_problems("someone/else", parameters).is_empty());
    }

    #[test]
    fn a_whole_number_spelled_otherwise_is_refused_before_it_is_sent_with_the_spelling_to_send() {
        // Sent as written, "7.0" and 8.0 would reach the server as "7.0" and "8.0".
        let input = |parameters: &Value| ModelRunInput {
            model: "PixVerse/text-to-video-v4".into(),
            parameters: parameters.as_object().unwrap().clone(),
        };
        let parameters = json!({ "prompt": "a fox", "seed": "7.0", "duration": 8.0 });
        // Refused when the workflow is checked, before any node of it runs ...
        let node = json!({ "model": "PixVerse/text-to-video-v4", "parameters": parameters });
        assert_eq!(ModelRun::check_partial(node.as_object().unwrap()).len(), 2);
        // ... and again when the Run is about to be sent.
        let problems = ModelRun::check(&input(&parameters));
        let found: Vec<(&str, &str)> = problems
            .iter()
            .map(|problem| (problem.path.as_str(), problem.rule.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("parameters/duration", "whole-number"),
                ("parameters/seed", "whole-number")
            ]
        );
        assert!(
            problems[1].message.contains("send \"7\""),
            "{}",
            problems[1].message
        );
        // Written as the model reads them, numbers or strings, they pass.
        for fine in [
            json!({ "prompt": "a fox", "seed": "7", "duration": 8 }),
            json!({ "prompt": "a fox", "seed": 7, "duration": "5" }),
        ] {
            let problems = ModelRun::check(&input(&fine));
            assert!(problems.is_empty(), "{fine}: {problems:?}");
        }
    }

    #[test]
    fn a_name_of_the_model_in_another_letter_case_is_refused_a_new_one_is_sent() {
        let node = json!({ "model": "PixVerse/text-to-video-v4", "parameters":
            {"prompt": "a fox", "Quality": "720p", "duration": "8", "callbackUrl": "https://example.com/hook",
             "anOptionAddedLater": "on"}});
        let problems = ModelRun::check_partial(node.as_object().unwrap());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].path.as_str(), problems[0].rule.as_str()),
            ("parameters/Quality", "parameter-name")
        );
        assert!(problems[0].message.contains("has \"quality\""));
        // A field wired from another node: the literal ones are still judged.
        let node = json!({ "model": "PixVerse/text-to-video-v4", "parameters":
            {"prompt": {"$from": "writer.text"}, "motionmode": "fast"}});
        let problems = ModelRun::check_partial(node.as_object().unwrap());
        let rules: Vec<&str> = problems.iter().map(|p| p.rule.as_str()).collect();
        assert_eq!(rules, ["parameter-name"], "{problems:?}");
    }

    #[test]
    fn a_reference_no_wire_explains_leaves_the_price_unknown() {
        let inputs = json!({"model": "pixverse/text-to-video-v4",
            "parameters": {"$from": "x", "prompt": "p", "quality": "1080p", "duration": "5"}});
        let none = BTreeSet::new();
        assert!(<ModelRun as TypedNode>::priced_run(inputs.as_object().unwrap(), &none).is_none());
    }
}
