//! Port types read from node schemas, so edges can be checked: a `TaskHandle` output may feed
//! a `TaskHandle` input, a `string` a `string`, and so on.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

/// What flows through a port (or a field inside one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortType {
    /// The shared type's name (`TaskHandle`, `OutputFile`, ...), when it has one.
    pub name: Option<String>,
    /// JSON types allowed (`string`, `object`, ...); empty means anything.
    pub json_types: BTreeSet<String>,
    /// For lists: what the items are.
    pub items: Option<Box<PortType>>,
}

impl PortType {
    /// The type of the port `port` (and `path` inside it) in a node's input or output schema;
    /// `None` when the schema has no such port or field.
    pub fn of(root: &Value, port: &str, path: &[String]) -> Option<Self> {
        let mut schema = resolve(root, root.get("properties")?.get(port)?);
        for step in path {
            schema = if let Some(fields) = schema.get("properties") {
                // A declared type's fields are all it promises; any other is a typo that
                // would fail only after the run was paid for.
                resolve(root, fields.get(step)?)
            } else if let (Some(items), true) = (schema.get("items"), step.parse::<usize>().is_ok())
            {
                resolve(root, items)
            } else if schema
                .get("additionalProperties")
                .is_some_and(|a| a != &Value::Bool(false))
                || schema.get("properties").is_none() && schema.get("items").is_none()
            {
                return Some(Self::any());
            } else {
                return None;
            };
        }
        Some(Self::describe(root, schema))
    }

    fn any() -> Self {
        Self {
            name: None,
            json_types: BTreeSet::new(),
            items: None,
        }
    }

    fn describe(root: &Value, schema: &Value) -> Self {
        let name = schema
            .get("title")
            .and_then(Value::as_str)
            .filter(|_| schema.get("properties").is_some())
            .map(str::to_owned);
        let mut json_types: BTreeSet<String> = match schema.get("type") {
            Some(Value::String(kind)) => [kind.clone()].into(),
            Some(Value::Array(kinds)) => kinds
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ if schema.get("properties").is_some() => ["object".to_owned()].into(),
            _ if schema.get("enum").is_some() || schema.get("const").is_some() => {
                let values = schema
                    .get("enum")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_else(|| schema.get("const").cloned().into_iter().collect());
                values.iter().map(json_type).collect()
            }
            _ => BTreeSet::new(),
        };
        json_types.remove("null");
        let items = schema
            .get("items")
            .map(|items| Box::new(Self::describe(root, resolve(root, items))));
        Self {
            name,
            json_types,
            items,
        }
    }

    /// Whether a value of type `self` may flow into an input of type `input`.
    pub fn fits(&self, input: &PortType) -> bool {
        if self.json_types.is_empty() || input.json_types.is_empty() {
            return true; // one side takes or gives anything: judged when the node runs
        }
        if let (Some(mine), Some(theirs)) = (&self.name, &input.name) {
            if mine != theirs {
                return false;
            }
        }
        let widened = |types: &BTreeSet<String>| {
            let mut types = types.clone();
            if types.contains("integer") {
                types.insert("number".into());
            }
            types
        };
        if widened(&self.json_types).is_disjoint(&input.json_types) {
            return false;
        }
        match (&self.items, &input.items) {
            (Some(mine), Some(theirs)) => mine.fits(theirs),
            _ => true,
        }
    }
}

impl fmt::Display for PortType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.name {
            return f.write_str(name);
        }
        if let (Some(items), true) = (&self.items, self.json_types.contains("array")) {
            return write!(f, "list of {items}");
        }
        if self.json_types.is_empty() {
            return f.write_str("any");
        }
        let kinds: Vec<&str> = self.json_types.iter().map(String::as_str).collect();
        f.write_str(&kinds.join(" or "))
    }
}

/// Follows `$ref` to `#/$defs/...` and unwraps `Option`'s `anyOf [T, null]`.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..8 {
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            match target
                .strip_prefix("#/$defs/")
                .and_then(|name| root.get("$defs")?.get(name))
            {
                Some(found) => schema = found,
                None => return schema,
            }
        } else if let Some(Value::Array(options)) =
            schema.get("anyOf").or_else(|| schema.get("oneOf"))
        {
            let not_null: Vec<&Value> = options
                .iter()
                .filter(|option| option.get("type") != Some(&Value::String("null".into())))
                .collect();
            match not_null.as_slice() {
                [only] => schema = only,
                _ => return schema,
            }
        } else {
            return schema;
        }
    }
    schema
}

fn json_type(value: &Value) -> String {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
    .to_owned()
}
