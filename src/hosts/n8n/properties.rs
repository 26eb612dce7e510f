//! n8n node properties from a node's input JSON Schema: enums become options, defaults,
//! ranges, required flags and descriptions carry over, `x-ui-widget: textarea` gives a text
//! area, connectable ports (a task handle, output files) take the previous item's field, and
//! optional empty-by-default inputs go into an "Options" collection, as n8n nodes do.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::names::display_name;
use crate::models::catalog::ENUM_LABELS_KEY;
use crate::node::{NodeSpec, PortType};

/// The name of the collection that holds optional inputs.
pub const OPTIONS_COLLECTION: &str = "wiroOptions";

/// Where the bridge finds an input's value among the n8n parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// A plain parameter of the same name.
    Value,
    /// A JSON parameter of the same name: an object from an expression, or JSON text.
    Json,
    /// A field of the options collection, absent unless the user added it.
    Option,
}

/// One input port as an n8n parameter.
#[derive(Debug, Clone)]
pub struct Field {
    /// The port's name (also the parameter's name).
    pub port: String,
    /// Where the bridge reads it.
    pub source: Source,
    /// The n8n property (`INodeProperties`) as JSON.
    pub property: Value,
}

/// The properties of a node: the fields in schema order, then the options collection, and a
/// notice naming the cross-field rules when the schema has any.
pub fn properties(spec: &NodeSpec) -> (Vec<Value>, Vec<Field>) {
    let fields = fields(spec);
    let mut properties = Vec::new();
    if let Some(notice) = rules_notice(spec) {
        properties.push(notice);
    }
    properties.extend(
        fields
            .iter()
            .filter(|field| field.source != Source::Option)
            .map(|field| field.property.clone()),
    );
    let options: Vec<Value> = fields
        .iter()
        .filter(|field| field.source == Source::Option)
        .map(|field| field.property.clone())
        .collect();
    if !options.is_empty() {
        properties.push(json!({
            "displayName": "Options",
            "name": OPTIONS_COLLECTION,
            "type": "collection",
            "placeholder": "Add option",
            "default": {},
            "options": options,
        }));
    }
    (properties, fields)
}

/// Every input port as a field, in schema order.
pub fn fields(spec: &NodeSpec) -> Vec<Field> {
    let root = &spec.inputs;
    let required = spec.required_inputs();
    spec.input_ports()
        .into_iter()
        .map(|port| {
            let declared = &root["properties"][port];
            let schema = resolve(root, declared);
            field(root, port, declared, schema, required.contains(&port))
        })
        .collect()
}

/// One input port as a field: where the bridge reads it and the n8n property, whose kind
/// follows the port's JSON type (structured, enum, boolean, number, else string).
fn field(root: &Value, port: &str, declared: &Value, schema: &Value, required: bool) -> Field {
    let kind = PortType::of(root, port, &[]);
    let types = kind
        .as_ref()
        .map(|k| k.json_types.clone())
        .unwrap_or_default();
    let default = declared.get("default").or_else(|| schema.get("default"));
    let structured = types.is_empty() || types.contains("object") || types.contains("array");
    let optional = !required && default.is_none_or(Value::is_null);
    let source = if structured {
        Source::Json
    } else if optional {
        Source::Option
    } else {
        Source::Value
    };
    let mut property = Map::new();
    property.insert("displayName".into(), title(port, declared).into());
    property.insert("name".into(), port.into());
    if structured {
        json_property(&mut property, port, kind.as_ref(), &types, default);
    } else if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let labels = schema.get(ENUM_LABELS_KEY).and_then(Value::as_object);
        options_property(&mut property, values, labels, default);
    } else if types.contains("boolean") {
        boolean_property(&mut property, default);
    } else if types.contains("integer") || types.contains("number") {
        number_property(&mut property, schema, &types, default);
    } else {
        string_property(&mut property, schema, default);
    }
    if required {
        property.insert("required".into(), true.into());
    }
    let description = description(declared, schema);
    if !description.is_empty() {
        property.insert("description".into(), description.into());
    }
    Field {
        port: port.to_owned(),
        source,
        property: property.into(),
    }
}

/// The port's `title`, else its name made readable.
fn title(port: &str, declared: &Value) -> String {
    declared
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| display_name(port))
}

/// The port's description on one line, or empty when it has none.
fn description(declared: &Value, schema: &Value) -> String {
    declared
        .get("description")
        .or_else(|| schema.get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .replace('\n', " ")
}

/// An object, a list or anything: a JSON parameter. A connectable port (a task handle, output
/// files) defaults to the previous item's field of the same name.
fn json_property(
    property: &mut Map<String, Value>,
    port: &str,
    kind: Option<&PortType>,
    types: &BTreeSet<String>,
    default: Option<&Value>,
) {
    let connectable = kind
        .is_some_and(|k| k.name.is_some() || k.items.as_ref().is_some_and(|i| i.name.is_some()));
    let default = if connectable {
        // The previous node's output of the same name: ports with one meaning share names
        // (`task`, `outputs`), so a chain works with no expressions typed by hand.
        format!("={{{{ $json.{port} }}}}")
    } else {
        match default.filter(|d| !d.is_null()) {
            Some(value) => serde_json::to_string_pretty(value).unwrap_or_default(),
            None if types.contains("array") => "[]".into(),
            None => "{}".into(),
        }
    };
    property.insert("type".into(), "json".into());
    property.insert("default".into(), default.into());
}

/// An enum: a list of options (`null` is left out), defaulting to the schema's default or
/// else the first option.
fn options_property(
    property: &mut Map<String, Value>,
    values: &[Value],
    labels: Option<&Map<String, Value>>,
    default: Option<&Value>,
) {
    let label = |value: &Value| {
        value
            .as_str()
            .and_then(|text| labels?.get(text)?.as_str())
            .map(str::to_owned)
    };
    let options: Vec<Value> = values
        .iter()
        .filter(|value| !value.is_null())
        .map(|value| {
            let name = label(value).unwrap_or_else(|| option_name(value));
            json!({"name": name, "value": value})
        })
        .collect();
    let default = default
        .filter(|d| !d.is_null())
        .or_else(|| values.iter().find(|v| !v.is_null()))
        .cloned()
        .unwrap_or(Value::Null);
    property.insert("type".into(), "options".into());
    property.insert("options".into(), options.into());
    property.insert("default".into(), default);
}

/// A boolean: a switch, off unless the schema says otherwise.
fn boolean_property(property: &mut Map<String, Value>, default: Option<&Value>) {
    let default = default.and_then(Value::as_bool).unwrap_or(false);
    property.insert("type".into(), "boolean".into());
    property.insert("default".into(), default.into());
}

/// A number, with the schema's range; an integer takes no decimals. Without a default it
/// starts at the minimum, so the first value shown is a valid one.
fn number_property(
    property: &mut Map<String, Value>,
    schema: &Value,
    types: &BTreeSet<String>,
    default: Option<&Value>,
) {
    let mut options = Map::new();
    for (keyword, option) in [("minimum", "minValue"), ("maximum", "maxValue")] {
        if let Some(bound) = schema.get(keyword) {
            options.insert(option.into(), bound.clone());
        }
    }
    if !types.contains("number") {
        options.insert("numberPrecision".into(), 0.into());
    }
    let default = default
        .filter(|d| d.is_number())
        .or_else(|| schema.get("minimum"))
        .cloned()
        .unwrap_or_else(|| 0.into());
    property.insert("type".into(), "number".into());
    property.insert("default".into(), default);
    if !options.is_empty() {
        property.insert("typeOptions".into(), options.into());
    }
}

/// Text, in a text area when the schema asks for one (`x-ui-widget: textarea`).
fn string_property(property: &mut Map<String, Value>, schema: &Value, default: Option<&Value>) {
    let default = default.and_then(Value::as_str).unwrap_or_default();
    property.insert("type".into(), "string".into());
    property.insert("default".into(), default.into());
    if schema.get("x-ui-widget").and_then(Value::as_str) == Some("textarea") {
        property.insert("typeOptions".into(), json!({"rows": 4}));
    }
}

/// A notice listing the schema's cross-field rules (`allOf` entries with an `x-rule-id`).
fn rules_notice(spec: &NodeSpec) -> Option<Value> {
    let rules: Vec<String> = spec
        .inputs
        .get("allOf")
        .and_then(Value::as_array)?
        .iter()
        .filter(|rule| rule.get("x-rule-id").is_some())
        .filter_map(|rule| rule.get("title").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    if rules.is_empty() {
        return None;
    }
    Some(json!({
        "displayName": format!(
            "Checked before anything is sent: {}.",
            rules.join("; ")
        ),
        "name": "wiroRules",
        "type": "notice",
        "default": "",
    }))
}

fn option_name(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Follows a local `$ref` (`#/$defs/Name`) once; other schemas are returned as they are.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix("#/"))
        .and_then(|path| root.pointer(&format!("/{path}")))
        .unwrap_or(schema)
}
