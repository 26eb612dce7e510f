//! Reading Tool/Detail's parameter definitions: the one reader of [`ModelParameter`]s, from
//! JSON text or from a JSON value. From text (a catalog of hundreds of models) the list is
//! read straight into typed parameters: no JSON value of the list is built first, only of the
//! fields this crate does not model.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::lenient::string_or_number;
use super::tool::{ModelParameter, ParameterOption};
use super::WireNumber;

/// A parameter list from its JSON text: flat, or in groups (an entry with `items` and no
/// `id`), or a string holding either. `null`, an empty or unparsable string and anything that
/// is not a list mean no parameters; a definition of an impossible shape is named.
pub fn read_parameter_list(text: &str) -> Result<Vec<ModelParameter>, String> {
    let text = text.trim();
    if text.starts_with('"') {
        let inner: String =
            serde_json::from_str(text).map_err(|problem| format!("parameters: {problem}"))?;
        let inner = inner.trim();
        // A string that holds no JSON list is no list (as a string in a string is not).
        if !inner.starts_with('[') || serde_json::from_str::<&RawValue>(inner).is_err() {
            return Ok(Vec::new());
        }
        return read_parameter_list(inner);
    }
    if !text.starts_with('[') {
        return Ok(Vec::new());
    }
    let entries: Vec<Entry> =
        serde_json::from_str(text).map_err(|problem| format!("parameters: {problem}"))?;
    Ok(entries.into_iter().flat_map(|entry| entry.0).collect())
}

/// A parameter list held in a JSON value (a Tool/Detail answer), read as its text is.
pub fn read_parameter_value(value: Option<&Value>) -> Result<Vec<ModelParameter>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => read_parameter_list(&value.to_string()),
    }
}

impl<'de> Deserialize<'de> for ModelParameter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut read = deserializer.deserialize_map(DefinitionVisitor { groups: false })?;
        Ok(read.pop().unwrap_or_else(ModelParameter::blank))
    }
}

/// One entry of a parameter list: a group's parameters, or one parameter.
struct Entry(Vec<ModelParameter>);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(DefinitionVisitor { groups: true })
            .map(Entry)
    }
}

/// Reads one definition object. With `groups`, an object with an `items` list and no `id` is
/// a group: its items are the parameters (read as text, so only from a text reader).
struct DefinitionVisitor {
    groups: bool,
}

impl<'de> Visitor<'de> for DefinitionVisitor {
    type Value = Vec<ModelParameter>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a parameter definition (an object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut parameter = ModelParameter::blank();
        let mut items: Option<Box<RawValue>> = None;
        let mut has_id = false;
        while let Some(key) = map.next_key::<String>()? {
            let named = |problem: serde_json::Error| de::Error::custom(format!("{key}: {problem}"));
            match key.as_str() {
                "items" if self.groups => items = Some(map.next_value()?),
                "id" => {
                    has_id = true;
                    parameter.id = string_or_number(map.next_value::<Value>()?).map_err(named)?;
                }
                "type" => {
                    parameter.kind = string_or_number(map.next_value::<Value>()?).map_err(named)?
                }
                "label" => {
                    parameter.label = string_or_number(map.next_value::<Value>()?).map_err(named)?
                }
                "default" => parameter.default = map.next_value::<Option<Value>>()?,
                "required" => parameter.required = loose_bool(&map.next_value::<Value>()?),
                "options" => parameter.options = map.next_value::<Options>()?.0,
                "min" => parameter.min = map.next_value()?,
                "max" => parameter.max = map.next_value()?,
                "step" => parameter.step = map.next_value()?,
                _ => {
                    let value = map.next_value::<Value>()?;
                    parameter.extra.insert(key, value);
                }
            }
        }
        match items {
            Some(items) if !has_id && items.get().trim_start().starts_with('[') => {
                let members: Vec<ModelParameter> =
                    serde_json::from_str(items.get()).map_err(de::Error::custom)?;
                Ok(members)
            }
            Some(items) => {
                let value = serde_json::from_str(items.get()).map_err(de::Error::custom)?;
                parameter.extra.insert("items".into(), value);
                Ok(vec![parameter])
            }
            None => Ok(vec![parameter]),
        }
    }
}

impl ModelParameter {
    /// A parameter with nothing said about it.
    fn blank() -> Self {
        Self {
            id: String::new(),
            kind: String::new(),
            label: String::new(),
            default: None,
            required: false,
            options: Vec::new(),
            min: None::<WireNumber>,
            max: None,
            step: None,
            extra: Map::new(),
        }
    }
}

/// `true`, `"true"`, `"1"`, `"yes"` and non-zero numbers are yes; anything else is no.
fn loose_bool(value: &Value) -> bool {
    match value {
        Value::Bool(flag) => *flag,
        Value::String(text) => matches!(text.trim(), "true" | "1" | "yes"),
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        _ => false,
    }
}

/// A `select`'s options: a list of `{label, value}` objects, strings or numbers, or a string
/// holding such a list; anything else is no options.
struct Options(Vec<ParameterOption>);

impl<'de> Deserialize<'de> for Options {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OptionsVisitor)
    }
}

struct OptionsVisitor;

impl<'de> Visitor<'de> for OptionsVisitor {
    type Value = Options;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a list of options")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Options, A::Error> {
        let mut options = Vec::new();
        while let Some(option) = seq.next_element::<OptionEntry>()? {
            options.push(option.0);
        }
        Ok(Options(options))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Options, E> {
        let text = text.trim();
        if !text.starts_with('[') {
            return Ok(Options(Vec::new()));
        }
        match serde_json::from_str(text) {
            Ok(options) => Ok(options),
            // A list held in a string is read as the list is: an option it cannot read is
            // named; a string that is no JSON at all is no list.
            Err(problem) if serde_json::from_str::<&RawValue>(text).is_ok() => {
                Err(de::Error::custom(problem))
            }
            Err(_) => Ok(Options(Vec::new())),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Options, E> {
        Ok(Options(Vec::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Options, E> {
        Ok(Options(Vec::new()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Options, E> {
        Ok(Options(Vec::new()))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Options, E> {
        Ok(Options(Vec::new()))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Options, E> {
        Ok(Options(Vec::new()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Options, E> {
        Ok(Options(Vec::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Options, A::Error> {
        // An object is no list: read past it.
        de::IgnoredAny::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Options(Vec::new()))
    }
}

/// One option: an object is read as `{label, value}`; a string or any other value is both.
struct OptionEntry(ParameterOption);

impl<'de> Deserialize<'de> for OptionEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OptionVisitor)
    }
}

struct OptionVisitor;

impl OptionVisitor {
    fn both(text: String) -> OptionEntry {
        OptionEntry(ParameterOption {
            label: text.clone(),
            value: text,
        })
    }
}

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = OptionEntry;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an option")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OptionEntry, A::Error> {
        ParameterOption::deserialize(de::value::MapAccessDeserializer::new(map)).map(OptionEntry)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<OptionEntry, E> {
        Ok(Self::both(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<OptionEntry, E> {
        Ok(Self::both(text))
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<OptionEntry, E> {
        Ok(Self::both(flag.to_string()))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<OptionEntry, E> {
        Ok(Self::both(Value::from(number).to_string()))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<OptionEntry, E> {
        Ok(Self::both(Value::from(number).to_string()))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<OptionEntry, E> {
        Ok(Self::both(Value::from(number).to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<OptionEntry, E> {
        Ok(Self::both("null".to_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<OptionEntry, A::Error> {
        let list = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Self::both(list.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ids(parameters: &[ModelParameter]) -> Vec<&str> {
        parameters.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn flat_grouped_and_string_held_lists_read_alike() {
        let flat = json!([
            {"id": "prompt", "type": "textarea", "required": "true", "note": "Say it."},
            {"id": "seed", "type": "number", "min": "0", "max": 9, "default": null}
        ]);
        let grouped = json!([
            {"title": "Text", "items": [flat[0].clone()]},
            {"title": "More", "items": [flat[1].clone()]}
        ]);
        let from_flat = read_parameter_list(&flat.to_string()).unwrap();
        assert_eq!(ids(&from_flat), ["prompt", "seed"]);
        assert!(from_flat[0].required);
        assert_eq!(from_flat[0].extra["note"], "Say it.");
        assert_eq!(from_flat[1].default, None);
        assert_eq!(
            from_flat[1].min.as_ref().and_then(WireNumber::as_f64),
            Some(0.0)
        );
        assert_eq!(
            read_parameter_list(&grouped.to_string()).unwrap(),
            from_flat
        );
        let held = Value::String(grouped.to_string());
        assert_eq!(read_parameter_value(Some(&held)).unwrap(), from_flat);
        // The value reader is the text reader.
        assert_eq!(read_parameter_value(Some(&grouped)).unwrap(), from_flat);
        let one: ModelParameter = serde_json::from_value(flat[0].clone()).unwrap();
        assert_eq!(one, from_flat[0]);
    }

    #[test]
    fn options_of_every_shape_and_a_parameter_with_items_of_its_own() {
        let list = json!([{
            "id": "style", "type": "select",
            "options": [{"label": "Anime", "value": "anime"}, "clay", 5, {"value": 7}],
            "items": ["kept", "as", "said"]
        }, {
            "id": "size", "type": "select", "options": "[\"s\", \"m\"]"
        }, {
            "id": "odd", "type": "select", "options": {"not": "a list"}
        }]);
        let read = read_parameter_list(&list.to_string()).unwrap();
        let values = |p: &ModelParameter| -> Vec<(String, String)> {
            p.options
                .iter()
                .map(|o| (o.label.clone(), o.value.clone()))
                .collect()
        };
        assert_eq!(
            values(&read[0]),
            [
                ("Anime".into(), "anime".into()),
                ("clay".into(), "clay".into()),
                ("5".into(), "5".into()),
                (String::new(), "7".into())
            ]
        );
        assert_eq!(read[0].extra["items"], json!(["kept", "as", "said"]));
        assert_eq!(
            values(&read[1]),
            [("s".into(), "s".into()), ("m".into(), "m".into())]
        );
        assert!(read[2].options.is_empty());
    }

    #[test]
    fn no_list_is_no_parameters_and_an_impossible_entry_is_named() {
        for nothing in [
            "null",
            "\"\"",
            "\"null\"",
            "{}",
            "5",
            "\"not json\"",
            "\"\\\"[\\\"\"",
        ] {
            assert_eq!(read_parameter_list(nothing).unwrap(), [], "{nothing}");
        }
        let problem = read_parameter_list(r#"[{"id": "a", "min": [1]}]"#).unwrap_err();
        assert!(problem.contains("parameters"), "{problem}");
        let held =
            json!([{"id": "a", "type": "select", "options": "[{\"label\": {\"en\": \"x\"}}]"}]);
        let problem = read_parameter_list(&held.to_string()).unwrap_err();
        assert!(problem.contains("expected a string"), "{problem}");
        let problem = read_parameter_list(r#"["prompt"]"#).unwrap_err();
        assert!(problem.contains("parameter definition"), "{problem}");
    }
}
