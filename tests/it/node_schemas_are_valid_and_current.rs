//! `node-schemas/` is complete and matches the code, every schema is valid JSON Schema
//! 2020-12, and a standard validator enforces the PixVerse rules from the exported file alone —
//! as the node's own checks do, with messages naming the field and the rule.
//!
//! After changing a node, refresh the files with `cargo run -- schema --write node-schemas`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};
use wiro_nodes::graph::{schema_file_text, schema_files};
use wiro_nodes::node::vocabulary::{self, META_SCHEMA_FILE};
use wiro_nodes::node::Registry;

fn exported() -> Vec<(String, Value)> {
    schema_files(&Registry::from_inventory())
        .into_iter()
        .collect()
}

/// Every file under `dir`, by its path from there (`meta/wiro-nodes-vocabulary.json`).
fn files_under(dir: &Path, prefix: &str, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            files_under(&entry.path(), &format!("{name}/"), found);
        } else {
            found.insert(name);
        }
    }
}

#[test]
fn committed_schema_files_match_the_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("node-schemas");
    let mut stale = Vec::new();
    for (name, value) in exported() {
        let on_disk = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
        if on_disk != schema_file_text(&value) {
            stale.push(name);
        }
    }
    let expected: BTreeSet<String> = exported().into_iter().map(|(name, _)| name).collect();
    let mut present = BTreeSet::new();
    files_under(&dir, "", &mut present);
    let extra: Vec<&String> = present.difference(&expected).collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "node-schemas/ drifted from the code (stale or missing: {stale:?}; not produced: {extra:?}); run `cargo run -- schema --write node-schemas`"
    );
}

#[test]
fn every_schema_is_valid_2020_12() {
    for (name, document) in exported() {
        let schemas: Vec<&Value> = match name.as_str() {
            "index.json" => continue,
            META_SCHEMA_FILE => vec![&document],
            "workflow.schema.json" => vec![&document],
            _ => vec![&document["inputs"], &document["outputs"]],
        };
        for schema in schemas {
            assert_eq!(
                schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{name}"
            );
            if let Err(error) = jsonschema::draft202012::meta::validate(schema) {
                panic!("{name} is not valid JSON Schema 2020-12: {error}");
            }
        }
    }
}

/// Every `x-` keyword in `schema`, with where it stands (values of `enum`, `const`,
/// `default` and `examples` are data, not schemas, and the names under `properties` and
/// `$defs` are names, not keywords).
fn x_keywords(schema: &Value, at: &str, found: &mut Vec<(String, String)>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                if key.starts_with("x-") {
                    found.push((at.to_owned(), key.clone()));
                    continue;
                }
                if matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                    continue;
                }
                match (key.as_str(), value) {
                    ("properties" | "$defs" | "patternProperties", Value::Object(children)) => {
                        for (name, child) in children {
                            x_keywords(child, &format!("{at}/{key}/{name}"), found);
                        }
                    }
                    _ => x_keywords(value, &format!("{at}/{key}"), found),
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                x_keywords(item, &format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_x_keyword_is_in_the_vocabulary_and_its_value_has_the_declared_shape() {
    let meta = jsonschema::draft202012::new(&vocabulary::meta_schema()).unwrap();
    let mut unknown = Vec::new();
    for (name, document) in exported() {
        let schemas: Vec<&Value> = match name.as_str() {
            "index.json" | META_SCHEMA_FILE => continue,
            "workflow.schema.json" => vec![&document],
            _ => vec![&document["inputs"], &document["outputs"]],
        };
        for schema in schemas {
            let mut found = Vec::new();
            x_keywords(schema, &name, &mut found);
            unknown.extend(
                found
                    .into_iter()
                    .filter(|(_, keyword)| vocabulary::keyword(keyword).is_none()),
            );
            let errors: Vec<String> = meta.iter_errors(schema).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
    }
    assert!(
        unknown.is_empty(),
        "keywords not in node::vocabulary::KEYWORDS: {unknown:?}"
    );
}

fn pixverse_input_schema() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("node-schemas/pixverse.text-to-video-v4.json");
    let document: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    document["inputs"].clone()
}

fn broken_inputs() -> Vec<(Value, &'static str, &'static str)> {
    vec![
        (
            json!({"prompt": "x", "quality": "1080p", "duration": 8}),
            "duration",
            "pixverse/1080p-max-5s",
        ),
        (
            json!({"prompt": "x", "quality": "1080p", "motionMode": "fast"}),
            "motionMode",
            "pixverse/1080p-not-fast",
        ),
        (
            json!({"prompt": "x", "motionMode": "fast", "duration": 8}),
            "duration",
            "pixverse/fast-needs-5s",
        ),
        (json!({"prompt": "x".repeat(2049)}), "prompt", "maxLength"),
        (
            json!({"prompt": "x", "seed": 2147483648u64}),
            "seed",
            "maximum",
        ),
        (json!({"prompt": "x", "quality": "4k"}), "quality", "enum"),
        (
            json!({"prompt": "x", "aspectRatio": "2:1"}),
            "aspectRatio",
            "enum",
        ),
        (json!({"prompt": "x", "duration": 6}), "duration", "enum"),
        (json!({"negativePrompt": "x"}), "prompt", "required"),
    ]
}

#[test]
fn a_standard_validator_enforces_the_rules_from_the_exported_schema_alone() {
    let validator = jsonschema::draft202012::new(&pixverse_input_schema()).unwrap();
    let valid = json!({"prompt": "A rabbit and a turtle race", "quality": "1080p", "duration": 5,
                       "motionMode": "normal", "aspectRatio": "9:16", "seed": 42, "style": "anime"});
    assert!(validator.is_valid(&valid));
    assert!(validator.is_valid(&json!({"prompt": "x", "motionMode": "fast", "duration": 5})));
    for (input, field, _) in broken_inputs() {
        assert!(
            !validator.is_valid(&input),
            "{field}: the schema accepted {input}"
        );
    }
}

#[test]
fn the_node_rejects_the_same_inputs_naming_field_and_rule() {
    let registry = Registry::from_inventory();
    let node = registry.get("pixverse/text-to-video-v4").unwrap();
    let ok = json!({"prompt": "x", "quality": "1080p", "duration": 5});
    assert_eq!(
        node.check_inputs(ok.as_object().unwrap(), &BTreeSet::new()),
        vec![]
    );
    for (input, field, rule) in broken_inputs() {
        let problems = node.check_inputs(input.as_object().unwrap(), &BTreeSet::new());
        assert!(
            problems.iter().any(|p| p.path == field && p.rule == rule),
            "{input}: expected {field} [{rule}], got {problems:?}"
        );
        let shown = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        assert!(shown.contains(field), "{shown}");
    }
    let both = json!({"prompt": "x", "quality": "1080p", "duration": 8, "motionMode": "fast"});
    let problems = node.check_inputs(both.as_object().unwrap(), &BTreeSet::new());
    let rules: BTreeSet<&str> = problems.iter().map(|p| p.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "pixverse/1080p-max-5s",
            "pixverse/1080p-not-fast",
            "pixverse/fast-needs-5s"
        ]
        .into(),
        "every broken rule at once"
    );
    let message = &problems[0].message;
    assert!(
        message.contains("1080p") && message.contains('8'),
        "{message}"
    );
}

/// Keywords that mean the same in draft 7 as in 2020-12: the nodes compile their input
/// validators as draft 7 (its meta-schema is far cheaper to build at start-up).
const DRAFT7_SHARED: &[&str] = &[
    "$schema",
    "$defs",
    "$ref",
    "title",
    "description",
    "default",
    "examples",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minItems",
    "maxItems",
    "uniqueItems",
    "readOnly",
    "writeOnly",
];

/// Annotations that may stand beside a `$ref` (draft 7 ignores a `$ref`'s siblings).
const REF_SIBLINGS: &[&str] = &["$ref", "title", "description", "default", "examples"];

fn draft7_problems(schema: &Value, at: &str, problems: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("$ref") {
                for key in map.keys().filter(|k| !REF_SIBLINGS.contains(&k.as_str())) {
                    problems.push(format!("{at}: {key:?} beside $ref"));
                }
            }
            for (key, value) in map {
                let named_children = matches!(key.as_str(), "properties" | "$defs");
                if !named_children
                    && !key.starts_with("x-")
                    && !DRAFT7_SHARED.contains(&key.as_str())
                {
                    problems.push(format!("{at}: keyword {key:?} is not in draft 7"));
                }
                if key.starts_with("x-")
                    || matches!(key.as_str(), "enum" | "const" | "default" | "examples")
                {
                    continue;
                }
                match (named_children, value) {
                    (true, Value::Object(children)) => {
                        for (name, child) in children {
                            draft7_problems(child, &format!("{at}/{key}/{name}"), problems);
                        }
                    }
                    _ => draft7_problems(value, &format!("{at}/{key}"), problems),
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                draft7_problems(item, &format!("{at}/{index}"), problems);
            }
        }
        _ => {}
    }
}

#[test]
fn input_schemas_mean_the_same_as_draft_7() {
    let registry = Registry::from_inventory();
    let mut problems = Vec::new();
    for spec in registry.specs() {
        draft7_problems(&spec.inputs, &spec.type_id, &mut problems);
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The formats JSON Schema 2020-12 defines (its format vocabulary).
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Every `format` in `value`, with where it stands.
fn formats(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("format", Value::String(format)) => {
                        found.push((at.to_owned(), format.clone()))
                    }
                    _ => formats(child, &format!("{at}/{key}"), found),
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                formats(item, &format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_published_format_is_a_standard_one_so_strict_validators_take_the_schemas() {
    let mut odd = Vec::new();
    for (name, schema) in exported() {
        let mut found = Vec::new();
        formats(&schema, &name, &mut found);
        odd.extend(
            found
                .into_iter()
                .filter(|(_, format)| !STANDARD_FORMATS.contains(&format.as_str())),
        );
    }
    assert!(odd.is_empty(), "formats no standard defines: {odd:?}");
}
