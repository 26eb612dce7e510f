//! `invoke`: the one way a host runs a single node — `node exec`, a Temporal activity, the
//! executor, an MCP tool call. The inputs are judged first (the walls: files it may read, URLs
//! it may fetch; then, in the node's `run`, the schema and its rules), so nothing is sent for
//! a problem; then the
//! node runs in its context; a node that panics comes back as [`NodeError::Panicked`] (what
//! it did remotely is unknown), never as a host that falls over. What a failure left behind
//! is the error's [`fate`](NodeError::fate).

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use serde_json::Value;

use super::{InputProblem, Node, NodeContext, NodeError, Walls};

/// Every problem with complete `inputs` that can be seen before anything is sent: the schema,
/// the node's rules, and what `walls` let it reach. Empty when the node may run.
pub fn check(node: &dyn Node, walls: &Walls, inputs: &Value) -> Vec<InputProblem> {
    let Value::Object(map) = inputs else {
        return vec![InputProblem::new(
            "",
            "type",
            "the inputs must be a JSON object of port names to values",
        )];
    };
    let mut problems = Vec::new();
    for (name, value) in map {
        references(value, name, &mut problems);
    }
    problems.extend(node.check_inputs(map, &BTreeSet::new()));
    problems.extend(node.check_local(walls, map));
    problems
}

/// Each `{"$from": ...}` in `value` (at `path`): a workflow's wire, which a single node's
/// call has no node to take from. Left in, it would be sent as it is, or priced as if the
/// field were not there.
fn references(value: &Value, path: &str, problems: &mut Vec<InputProblem>) {
    match value {
        Value::Object(map) if map.contains_key("$from") => problems.push(InputProblem::new(
            path,
            "reference",
            "a {\"$from\": ...} reference takes another node's output inside a workflow; a single node's call takes values only",
        )),
        Value::Object(map) => {
            for (name, inner) in map {
                references(inner, &format!("{path}/{name}"), problems);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                references(inner, &format!("{path}/{index}"), problems);
            }
        }
        _ => {}
    }
}

/// Runs `node` on `inputs` in `ctx`: the walls of the context judged first (the node's own
/// `run` judges the schema and rules, so they are not checked twice), then run; a panic is
/// caught and reported as [`NodeError::Panicked`].
pub async fn invoke(node: &dyn Node, ctx: &NodeContext, inputs: Value) -> Result<Value, NodeError> {
    if let Value::Object(map) = &inputs {
        let problems = node.check_local(&ctx.walls(), map);
        if !problems.is_empty() {
            return Err(NodeError::InvalidInputs(problems));
        }
    }
    match AssertUnwindSafe(node.run(ctx, inputs)).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(NodeError::Panicked(panic_message(panic.as_ref()))),
    }
}

/// What a panic said, when it said it in words.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::typed::Typed;
    use crate::node::TypedNode;

    #[derive(Default)]
    struct Brittle;

    /// How the node should fail.
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct BrittleIn {
        /// At most 3 characters.
        #[schemars(length(max = 3))]
        word: String,
    }

    #[async_trait::async_trait]
    impl TypedNode for Brittle {
        type Input = BrittleIn;
        type Output = serde_json::Value;
        const TYPE_ID: &'static str = "test/brittle";
        const TITLE: &'static str = "Brittle";
        const CATEGORY: &'static str = "test";
        const DESCRIPTION: &'static str = "Panics on every word it is given.";
        async fn run(&self, _: &NodeContext, input: BrittleIn) -> Result<Value, NodeError> {
            panic!("cannot take {:?}", input.word)
        }
    }

    #[tokio::test]
    async fn a_panicking_node_fails_its_host_nothing_and_bad_inputs_never_run() {
        let client = crate::api::Client::new(crate::api::ClientConfig::new(
            crate::api::Credentials::key_only("key"),
        ))
        .expect("a client");
        let ctx = NodeContext::new("brittle", client, std::env::temp_dir());
        let node = Typed::<Brittle>::new();
        let error = invoke(&node, &ctx, serde_json::json!({ "word": "ab" }))
            .await
            .expect_err("it panics");
        assert!(
            matches!(&error, NodeError::Panicked(message) if message.contains("cannot take \"ab\"")),
            "{error}"
        );
        assert!(!error.fate().leaves_nothing_started());
        let refused = invoke(&node, &ctx, serde_json::json!({ "word": "abcd" }))
            .await
            .expect_err("refused");
        assert!(
            matches!(&refused, NodeError::InvalidInputs(problems) if problems[0].path == "word"),
            "{refused}"
        );
    }

    #[test]
    fn a_single_call_refuses_a_workflows_reference_wherever_it_sits() {
        let client = crate::api::Client::new(crate::api::ClientConfig::new(
            crate::api::Credentials::key_only("key"),
        ))
        .expect("a client");
        let walls = NodeContext::new("brittle", client, std::env::temp_dir()).walls();
        let node = Typed::<Brittle>::new();
        let inputs = serde_json::json!({ "word": [{"deep": {"$from": "x.y", "more": 1}}] });
        let problems = check(&node, &walls, &inputs);
        let found: Vec<(&str, &str)> = (problems.iter())
            .map(|problem| (problem.path.as_str(), problem.rule.as_str()))
            .collect();
        assert_eq!(found[0], ("word/0/deep", "reference"), "{problems:?}");
    }
}
