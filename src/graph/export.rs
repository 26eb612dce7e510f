//! The exported schemas: one file per node type, an index, and the workflow format's schema,
//! as `wiro-nodes schema --write node-schemas` writes them.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::Workflow;
use crate::node::vocabulary::{meta_schema, META_SCHEMA_FILE};
use crate::node::{schema_value, NodeSpec, Registry};

/// The file name of a node type's schema: `wiro/task.wait` → `wiro.task.wait.json`.
pub fn schema_file_name(type_id: &str) -> String {
    format!("{}.json", type_id.replace('/', "."))
}

/// One node type's schema document: its spec with input and output schemas.
pub fn node_schema_document(spec: &NodeSpec) -> Value {
    json!({
        "type": spec.type_id,
        "version": spec.version,
        "title": spec.title,
        "category": spec.category,
        "description": spec.description,
        "spends_money": spec.spends_money,
        "transfers_files": spec.transfers_files,
        "kinds": spec.kinds,
        "inputs": spec.inputs,
        "outputs": spec.outputs,
    })
}

/// The JSON Schema of the workflow document.
pub fn workflow_schema() -> Value {
    let mut schema = schema_value::<Workflow>();
    if let Value::Object(map) = &mut schema {
        map.insert(
            "$id".into(),
            json!("https://github.com/wiro-nodes/wiro-nodes/node-schemas/workflow.schema.json"),
        );
    }
    schema
}

/// Every exported file by its path in the schema folder: `index.json`, `workflow.schema.json`,
/// one per node type, and the meta-schema of our keywords ([`META_SCHEMA_FILE`]).
pub fn schema_files(registry: &Registry) -> BTreeMap<String, Value> {
    let mut files = BTreeMap::new();
    let mut index = Vec::new();
    for spec in registry.specs() {
        let file = schema_file_name(&spec.type_id);
        index.push(json!({
            "type": spec.type_id,
            "version": spec.version,
            "title": spec.title,
            "category": spec.category,
            "spends_money": spec.spends_money,
            "file": file,
        }));
        files.insert(file, node_schema_document(spec));
    }
    files.insert(
        "index.json".into(),
        json!({ "workflow": "workflow.schema.json", "vocabulary": META_SCHEMA_FILE, "nodes": index }),
    );
    files.insert("workflow.schema.json".into(), workflow_schema());
    files.insert(META_SCHEMA_FILE.into(), meta_schema());
    files
}

/// A file's text as written: pretty JSON with a final newline.
pub fn schema_file_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
