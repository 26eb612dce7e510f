//! Our own JSON Schema keywords (`x-port-type`, `x-rule-id`, `x-ui-widget`, ...), listed once
//! in [`KEYWORDS`], and the JSON Schema 2020-12 vocabulary meta-schema built from that list.
//!
//! The published schemas keep the standard `$schema`
//! (`https://json-schema.org/draft/2020-12/schema`), so every stock tool takes them as they are.
//! A strict validator (Ajv's default) must be told our keywords: the meta-schema
//! ([`meta_schema`], published as `node-schemas/meta/wiro-nodes-vocabulary.json`) names them
//! and describes each one's value, so a tool can register them as annotations and check their
//! values. Every keyword is an annotation: none of them changes what a schema accepts.
//!
//! Adding a keyword is one entry in [`KEYWORDS`]; the meta-schema and the published file follow.

use serde_json::{json, Map, Value};

use super::{CHANGES_NO_RESULT_KEY, PORT_TYPE_KEY};
use crate::models::file_kind::{
    FILE_KIND_BY_NAME_KEY, FILE_KIND_KEY, FILE_KIND_MADE_KEY, FILE_KIND_OF_KEY,
    FILE_KIND_OF_TASK_KEY, RUNS_MODEL_KEY,
};

/// The `$id` of the meta-schema that describes our keywords.
pub const META_SCHEMA_ID: &str = "https://wiro-nodes.dev/schema/2026-12/meta/nodes";

/// The URI of our vocabulary, as the meta-schema's `$vocabulary` names it.
pub const VOCABULARY_URI: &str = "https://wiro-nodes.dev/schema/2026-12/vocab/nodes";

/// Where the meta-schema is published, relative to the schema folder (`node-schemas/`).
pub const META_SCHEMA_FILE: &str = "meta/wiro-nodes-vocabulary.json";

/// The JSON Schema 2020-12 meta-schema our meta-schema extends.
pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// The standard 2020-12 vocabularies, all required, as the standard meta-schema lists them.
const STANDARD_VOCABULARIES: [&str; 7] = [
    "core",
    "applicator",
    "unevaluated",
    "validation",
    "meta-data",
    "format-annotation",
    "content",
];

/// One of our schema keywords.
#[derive(Debug, Clone, Copy)]
pub struct Keyword {
    /// The keyword as it stands in a schema, e.g. `x-port-type`.
    pub name: &'static str,
    /// What it means, for the people and tools that read the meta-schema.
    pub description: &'static str,
    /// The JSON Schema its value must match (without the description).
    shape: fn() -> Value,
}

impl Keyword {
    /// The JSON Schema of the keyword's value, its description included.
    pub fn schema(&self) -> Value {
        let mut schema = Map::new();
        schema.insert("description".into(), self.description.into());
        if let Value::Object(shape) = (self.shape)() {
            schema.extend(shape);
        }
        Value::Object(schema)
    }
}

/// Every keyword of our vocabulary.
pub const KEYWORDS: &[Keyword] = &[
    Keyword {
        name: PORT_TYPE_KEY,
        description: "The shared port type this schema is (TaskHandle, Task, OutputFile, \
                      UploadedFile, Folder, LocalFile): engines join an output to an input of \
                      the same type and read a port's kind from it, never from a value's shape.",
        shape: || json!({ "type": "string", "minLength": 1 }),
    },
    Keyword {
        name: FILE_KIND_KEY,
        description: "The kind of file an input that takes a file's URL takes (image, video, \
                      audio): a file of another kind, as its name says (a local file's ending, \
                      the last part of a URL's path), is refused before any request. A catalog \
                      model's is read from its parameter's name, as Wiro publishes no field \
                      for it.",
        shape: || json!({ "enum": ["image", "video", "audio", "document", "archive"] }),
    },
    Keyword {
        name: FILE_KIND_OF_KEY,
        description: "An output that is the URL of the file named by another input of the \
                      same node (wiro/file.upload's url, of its path): the file's kind is what \
                      that input's name says, judged against the x-file-kind of the input the \
                      output feeds.",
        shape: || json!({ "type": "string", "minLength": 1 }),
    },
    Keyword {
        name: FILE_KIND_MADE_KEY,
        description: "A model node's started task: the kind of files the task makes (video), \
                      read from the model's categories when they say one kind plainly.",
        shape: || json!({ "enum": ["image", "video", "audio"] }),
    },
    Keyword {
        name: FILE_KIND_OF_TASK_KEY,
        description: "An output that holds the files of the task another input of the same \
                      node names (wiro/task.wait's outputs and task record, of its task): the \
                      URL of its first file is of the x-file-kind-made of the node that \
                      started that task, judged against the x-file-kind of the input it feeds.",
        shape: || json!({ "type": "string", "minLength": 1 }),
    },
    Keyword {
        name: RUNS_MODEL_KEY,
        description: "The input that names the model a generic node runs (wiro/model.run's \
                      model): given literally, the files its task makes are of the kind that \
                      model's node says (x-file-kind-made).",
        shape: || json!({ "type": "boolean" }),
    },
    Keyword {
        name: FILE_KIND_BY_NAME_KEY,
        description: "An object input whose keys are a model's parameters (wiro/model.run's \
                      parameters): a key that names a kind of file (inputImageUrl, firstFrame, \
                      videoUrl) takes that kind, as x-file-kind says for a typed input.",
        shape: || json!({ "type": "boolean" }),
    },
    Keyword {
        name: CHANGES_NO_RESULT_KEY,
        description: "An input that changes how a node works, never what it gives (a wait's \
                      timeout and polling interval): a run that finished it once takes its \
                      result again when only such inputs changed.",
        shape: || json!({ "type": "boolean" }),
    },
    Keyword {
        name: "x-rule-id",
        description: "The stable id of the cross-field rule this subschema states (e.g. \
                      pixverse/1080p-max-5s), the same id a node's own check reports.",
        shape: || json!({ "type": "string", "minLength": 1 }),
    },
    Keyword {
        name: "x-ui-widget",
        description: "A hint for form renderers: the widget that suits the field, such as \
                      textarea (a long text) or local-file (a path on this machine).",
        shape: || json!({ "type": "string", "minLength": 1, "examples": ["textarea", "local-file"] }),
    },
    Keyword {
        name: "x-enum-labels",
        description: "Labels for a field's allowed values, for a person choosing one: each key \
                      is an allowed value as text (a number as JSON writes it), each value its \
                      label.",
        shape: || json!({ "type": "object", "additionalProperties": { "type": "string" } }),
    },
    Keyword {
        name: "x-step",
        description: "A number's allowed values are whole multiples of this fraction (0.05, 0.1). \
                      Written instead of `multipleOf` for fractional steps, which stock validators \
                      judge in binary floating point (0.7 is not a multiple of 0.1 there); the \
                      node checks it with decimal tolerance.",
        shape: || json!({ "type": "number", "exclusiveMinimum": 0 }),
    },
    Keyword {
        name: "x-wiro-parameter",
        description: "The model parameter this field stands for, as Wiro's Tool/Detail \
                      describes it: its id and type there, the field a Run sends (wire) when \
                      that is not the id, and a note.",
        shape: || {
            json!({
                "type": "object",
                "required": ["id", "type"],
                "properties": {
                    "id": { "type": "string", "description": "The parameter's id in Tool/Detail." },
                    "type": { "type": "string", "description": "The parameter's type in Tool/Detail (text, select, number, ...)." },
                    "wire": { "type": "string", "description": "The field the Run sends, when it is not the id." },
                    "note": { "type": "string", "description": "Anything a person should know about the parameter." }
                }
            })
        },
    },
];

/// The keyword of our vocabulary with this name.
pub fn keyword(name: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|keyword| keyword.name == name)
}

/// The meta-schema of our vocabulary: the standard 2020-12 meta-schema (its vocabularies, and
/// `allOf` it) plus the shape of each of our keywords. `$dynamicAnchor: meta` makes the shapes
/// apply in every subschema when a schema is validated against it.
pub fn meta_schema() -> Value {
    let mut vocabularies: Map<String, Value> = STANDARD_VOCABULARIES
        .iter()
        .map(|name| {
            (
                format!("https://json-schema.org/draft/2020-12/vocab/{name}"),
                Value::Bool(true),
            )
        })
        .collect();
    // Not required: our keywords are annotations a processor may ignore.
    vocabularies.insert(VOCABULARY_URI.into(), Value::Bool(false));
    let properties: Map<String, Value> = KEYWORDS
        .iter()
        .map(|keyword| (keyword.name.to_owned(), keyword.schema()))
        .collect();
    json!({
        "$schema": DRAFT_2020_12,
        "$id": META_SCHEMA_ID,
        "$vocabulary": vocabularies,
        "$dynamicAnchor": "meta",
        "title": "wiro-nodes schema keywords",
        "description": "JSON Schema 2020-12 with the annotation keywords wiro-nodes writes in \
                        its node schemas. Each is described under properties.",
        "allOf": [{ "$ref": DRAFT_2020_12 }],
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meta_schema_is_a_valid_2020_12_schema_naming_every_keyword() {
        let meta = meta_schema();
        jsonschema::draft202012::meta::validate(&meta).unwrap();
        for keyword in KEYWORDS {
            assert!(keyword.name.starts_with("x-"), "{}", keyword.name);
            assert_eq!(
                meta["properties"][keyword.name]["description"],
                keyword.description
            );
        }
        assert_eq!(meta["$vocabulary"][VOCABULARY_URI], false);
    }

    #[test]
    fn the_meta_schema_checks_keyword_values_in_every_subschema() {
        let validator = jsonschema::draft202012::new(&meta_schema()).unwrap();
        let good = json!({ "properties": { "quality": {
            "enum": ["540p", "1080p"],
            "x-enum-labels": { "540p": "540p (fast)", "1080p": "1080p" },
            "x-wiro-parameter": { "id": "quality", "type": "select" } } } });
        assert!(validator.is_valid(&good));
        let nested_bad = json!({ "$defs": { "Task": { "x-port-type": 7 } } });
        assert!(!validator.is_valid(&nested_bad));
        let no_id = json!({ "properties": { "q": { "x-wiro-parameter": { "type": "select" } } } });
        assert!(!validator.is_valid(&no_id));
        assert!(keyword("x-rule-id").is_some() && keyword("x-nope").is_none());
    }
}
