//! The shape of a workflow document, checked before serde reads it, so that every message
//! names the field in the user's words (`nodes[2].type`), says what was expected, and cuts what
//! it repeats — not "invalid type: sequence, expected struct Workflow with 3 elements".

use serde_json::Value;

use crate::node::shown;

/// Every problem with the document's shape, one sentence each; empty when serde can read it.
pub(crate) fn shape_problems(document: &Value) -> Vec<String> {
    let Value::Object(top) = document else {
        return vec![format!(
            "a workflow is a JSON object with \"version\" and \"nodes\"; this is {}",
            kind(document)
        )];
    };
    let mut problems = Vec::new();
    for key in top.keys() {
        if !["version", "description", "nodes"].contains(&key.as_str()) {
            problems.push(format!(
                "unknown field {:?}; a workflow has \"version\", \"description\" and \"nodes\"",
                crate::node::cut(key, 40)
            ));
        }
    }
    match top.get("version") {
        None | Some(Value::Null) => {}
        Some(version) if version.as_u64().is_some() => {}
        Some(other) => problems.push(format!(
            "version must be a whole number (1); it is {}",
            shown(other)
        )),
    }
    if !matches!(
        top.get("description"),
        None | Some(Value::String(_) | Value::Null)
    ) {
        problems.push("description must be text".to_owned());
    }
    let nodes = match top.get("nodes") {
        Some(Value::Array(nodes)) => nodes,
        Some(other) => {
            problems.push(format!(
                "nodes must be a list of nodes; it is {}",
                kind(other)
            ));
            return problems;
        }
        None => {
            problems.push("nodes is missing: a workflow lists its nodes in \"nodes\"".to_owned());
            return problems;
        }
    };
    for (index, node) in nodes.iter().enumerate() {
        let at = format!("nodes[{index}]");
        let Value::Object(fields) = node else {
            problems.push(format!(
                "{at} must be an object with \"id\", \"type\" and \"inputs\"; it is {}",
                kind(node)
            ));
            continue;
        };
        for key in fields.keys() {
            if !["id", "type", "inputs"].contains(&key.as_str()) {
                problems.push(format!(
                    "{at}: unknown field {:?}; a node has \"id\", \"type\" and \"inputs\"",
                    crate::node::cut(key, 40)
                ));
            }
        }
        for field in ["id", "type"] {
            match fields.get(field) {
                Some(Value::String(_)) => {}
                Some(other) => {
                    problems.push(format!("{at}.{field} must be text; it is {}", shown(other)))
                }
                None => problems.push(format!("{at}.{field} is missing")),
            }
        }
        match fields.get("inputs") {
            None | Some(Value::Object(_)) => {}
            Some(other) => problems.push(format!(
                "{at}.inputs must be an object of input names to values; it is {}",
                kind(other)
            )),
        }
    }
    problems
}

/// What kind of JSON value this is, for a person.
fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => format!("true/false ({value})"),
        Value::Number(_) => format!("a number ({value})"),
        Value::String(_) => format!("text ({})", shown(value)),
        Value::Array(items) => format!("a list of {} items", items.len()),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_problem_names_its_field_in_plain_words() {
        assert_eq!(
            shape_problems(&json!([1, 2, 3])),
            ["a workflow is a JSON object with \"version\" and \"nodes\"; this is a list of 3 items"]
        );
        let problems = shape_problems(&json!({
            "version": "one", "nodez": [],
        }));
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("unknown field \"nodez\"")),
            "{problems:?}"
        );
        assert!(problems
            .iter()
            .any(|p| p.starts_with("version must be a whole number")));
        assert!(problems.iter().any(|p| p.starts_with("nodes is missing")));
        let problems = shape_problems(&json!({ "nodes": [
            { "id": 7, "type": "wiro/task.wait", "inputs": [] }, "text"
        ] }));
        assert_eq!(
            problems,
            [
                "nodes[0].id must be text; it is 7",
                "nodes[0].inputs must be an object of input names to values; it is a list of 0 items",
                "nodes[1] must be an object with \"id\", \"type\" and \"inputs\"; it is text (\"text\")",
            ]
        );
        assert!(shape_problems(&json!({ "version": 1, "nodes": [] })).is_empty());
    }
}
