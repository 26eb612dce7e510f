//! The Tool/Detail parameter list (id, type, label, default, required, options, min, max),
//! read off a model's JSON Schema so the allowed values are written once, in the models layer.

use serde_json::{json, Map, Value};

/// The Tool/Detail parameter list, from the model's JSON Schema and its wire defaults.
pub(crate) fn parameter_list(schema: &Value, defaults: &Map<String, Value>) -> Vec<Value> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let file = name
                .strip_suffix("Url")
                .filter(|_| property["format"] == "uri");
            let values: Vec<String> = match (&property["enum"], &property["type"]) {
                (Value::Array(values), _) => values
                    .iter()
                    .filter(|value| !value.is_null())
                    .map(|value| match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
                (_, Value::String(kind)) if kind == "boolean" => {
                    vec!["false".into(), "true".into()]
                }
                _ => Vec::new(),
            };
            let kind = if file.is_some() {
                "fileinput"
            } else if !values.is_empty() {
                "select"
            } else if property["x-ui-widget"] == "textarea" {
                "textarea"
            } else if property.get("maximum").is_some() {
                "number"
            } else {
                "text"
            };
            let mut entry = json!({
                "id": file.unwrap_or(name),
                "type": kind,
                "label": property["title"].as_str().unwrap_or(name),
                "description": property["description"].as_str().unwrap_or_default(),
                "default": defaults.get(name).cloned().unwrap_or(json!("")),
                "required": required.contains(&name.as_str()),
            });
            if !values.is_empty() {
                entry["options"] = values
                    .iter()
                    .map(|value| json!({"label": value, "value": value}))
                    .collect();
            }
            for (limit, keys) in [
                ("min", ["minimum", "minLength"]),
                ("max", ["maximum", "maxLength"]),
            ] {
                if let Some(value) = keys.iter().find_map(|key| property.get(*key)) {
                    entry[limit] = json!(value.to_string());
                }
            }
            entry
        })
        .collect()
}
