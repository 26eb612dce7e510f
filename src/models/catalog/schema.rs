//! A catalog model's input schema: JSON Schema 2020-12 with real types, derived from its
//! [`Field`]s, so every form, validator and host reads a catalog model as it reads a
//! hand-written node.

use serde_json::{json, Map, Value};

use super::field::{Field, FieldKind, FilesForm};
use crate::models::file_kind::{kind_of_parameter, FILE_KIND_KEY};

/// The keyword holding a parameter as Wiro describes it (`id`, `type`, the `wire` name, and
/// what this crate noted about it).
pub const WIRO_PARAMETER_KEY: &str = "x-wiro-parameter";

/// The keyword holding a fractional step of a number (see [`crate::node::vocabulary`]).
pub const STEP_KEY: &str = "x-step";

/// The keyword holding the labels of an `enum`'s values, where a label says more than its
/// value.
pub const ENUM_LABELS_KEY: &str = "x-enum-labels";

/// What a URL Wiro fetches looks like: `http://` or `https://` (any case), a host, no spaces.
pub const HTTP_URL_PATTERN: &str = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+\S*$";

/// The schema of the input object of a model with these fields.
pub fn input_schema(title: &str, fields: &[Field]) -> Value {
    let mut properties = Map::with_capacity(fields.len());
    let mut required = Vec::new();
    for field in fields {
        properties.insert(field.id.clone(), property(field));
        if field.required {
            required.push(Value::String(field.id.clone()));
        }
    }
    // Moved in, not through `json!`: that would copy every property once more.
    let mut schema = Map::with_capacity(6);
    schema.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    schema.insert("title".into(), format!("{title}: inputs").into());
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("required".into(), Value::Array(required));
    schema.insert("additionalProperties".into(), false.into());
    Value::Object(schema)
}

/// The schema of one field.
fn property(field: &Field) -> Value {
    let mut schema = Map::with_capacity(8);
    schema.insert("title".into(), field.title.clone().into());
    let mut description = field.description.clone();
    for note in &field.notes {
        if !description.is_empty() {
            description.push(' ');
        }
        description.push_str(&format!("(Note: {note}.)"));
    }
    if !description.is_empty() {
        schema.insert("description".into(), description.into());
    }
    let mut set = |key: &str, value: Value| {
        schema.insert(key.to_owned(), value);
    };
    match &field.kind {
        FieldKind::Text {
            multiline,
            min_length,
            max_length,
        } => {
            set("type", "string".into());
            if let Some(low) = min_length {
                set("minLength", (*low).into());
            }
            if let Some(high) = max_length {
                set("maxLength", (*high).into());
            }
            if *multiline {
                set("x-ui-widget", "textarea".into());
            }
        }
        FieldKind::Integer {
            minimum,
            maximum,
            step,
        } => {
            set("type", "integer".into());
            if let Some(low) = minimum {
                set("minimum", (*low).into());
            }
            if let Some(high) = maximum {
                set("maximum", (*high).into());
            }
            if let Some(step) = step {
                set("multipleOf", (*step).into());
            }
        }
        FieldKind::Number {
            minimum,
            maximum,
            step,
        } => {
            set("type", "number".into());
            // A fractional step is no `multipleOf`: stock validators judge that in binary
            // floating point, where 0.7 is no multiple of 0.1. The node checks it instead.
            let step_key = match step {
                Some(step) if step.fract() == 0.0 => "multipleOf",
                _ => STEP_KEY,
            };
            for (key, bound) in [("minimum", minimum), ("maximum", maximum), (step_key, step)] {
                if let Some(number) = bound.and_then(serde_json::Number::from_f64) {
                    set(key, Value::Number(number));
                }
            }
        }
        FieldKind::Choice { options, numbers } => {
            let typed = |value: &String| match value.parse::<i64>() {
                Ok(number) if *numbers => Value::from(number),
                _ => Value::String(value.clone()),
            };
            set("type", if *numbers { "integer" } else { "string" }.into());
            set(
                "enum",
                options.iter().map(|(value, _)| typed(value)).collect(),
            );
            if options.iter().any(|(value, label)| value != label) {
                let labels: Map<String, Value> = options
                    .iter()
                    .map(|(value, label)| (value.clone(), label.clone().into()))
                    .collect();
                set(ENUM_LABELS_KEY, Value::Object(labels));
            }
        }
        FieldKind::Switch { .. } => set("type", "boolean".into()),
        FieldKind::File => {
            set("type", "string".into());
            set("format", "uri".into());
            // Wiro fetches it: only an http(s) address with a host can be fetched.
            set("pattern", HTTP_URL_PATTERN.into());
            set("x-ui-widget", "file-url".into());
        }
        FieldKind::Files { form } => {
            set("type", "array".into());
            let mut item = json!({ "type": "string", "format": "uri" });
            if *form == FilesForm::CommaSeparated {
                item["pattern"] = "^[^,]*$".into();
            }
            set("items", item);
            set("x-ui-widget", "file-urls".into());
        }
        FieldKind::Unknown { .. } => set("type", "string".into()),
    }
    // Files, one or several: the kind the parameter's name says they are.
    if matches!(field.kind, FieldKind::File | FieldKind::Files { .. }) {
        if let Some(kind) = kind_of_parameter(&field.id) {
            set(FILE_KIND_KEY, kind.into());
        }
    }
    if let Some(default) = &field.default {
        set("default", default.clone());
    }
    if field.nullable {
        // `null` is "not set": the model's own default (none) applies.
        if let Some(kind) = schema.get("type").cloned() {
            schema.insert("type".into(), json!([kind, "null"]));
        }
        if let Some(Value::Array(values)) = schema.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    let mut set = |key: &str, value: Value| {
        schema.insert(key.to_owned(), value);
    };
    let mut wiro = Map::with_capacity(3);
    wiro.insert("id".into(), field.id.clone().into());
    wiro.insert("type".into(), field.type_name.clone().into());
    if field.wire != field.id {
        wiro.insert("wire".into(), field.wire.clone().into());
    }
    set(WIRO_PARAMETER_KEY, Value::Object(wiro));
    Value::Object(schema)
}
