//! One model parameter as a typed field: what Tool/Detail said (loose types, strings for
//! numbers, keys for labels) read into a [`Field`] with a real type, bounds, choices and the
//! wire name it travels under.

use serde_json::Value;

use crate::api::ModelParameter;

/// What kind of value a parameter takes, with its limits, as read from its definition.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// Free text (`text`, `textarea`); lengths from `min` / `max`.
    Text {
        /// A `textarea`: forms show several lines.
        multiline: bool,
        /// The shortest allowed length.
        min_length: Option<u64>,
        /// The longest allowed length.
        max_length: Option<u64>,
    },
    /// A whole number (`number`, `range` with whole steps and bounds).
    Integer {
        /// The smallest value.
        minimum: Option<i64>,
        /// The largest value.
        maximum: Option<i64>,
        /// Allowed values are multiples of this (written only when the range starts on one).
        step: Option<i64>,
    },
    /// A number with a fraction (`float`, or a `range` / `number` with fractional steps).
    Number {
        /// The smallest value.
        minimum: Option<f64>,
        /// The largest value.
        maximum: Option<f64>,
        /// Allowed values are multiples of this (written only when the range starts on one).
        step: Option<f64>,
    },
    /// One of listed values (`select`, `selectwithcover`).
    Choice {
        /// Each allowed value with what a form shows for it.
        options: Vec<(String, String)>,
        /// The values are whole numbers and the node takes them as numbers (`5`, sent as
        /// `"5"`): a definition says so with `"valuetype": "integer"`.
        numbers: bool,
    },
    /// A `select` of exactly two values that mean yes and no (`true`/`false`, `on`/`off`):
    /// a boolean, sent as the model's own spelling.
    Switch {
        /// What the wire says for `true`.
        on: String,
        /// What the wire says for `false`.
        off: String,
    },
    /// One file, given as a URL (`fileinput`, or an older model's `...Url` text parameter).
    File,
    /// Several files, given as URLs (`multifileinput`, `combinefileinput`).
    Files {
        /// How the wire carries them.
        form: FilesForm,
    },
    /// A type this crate does not know: a string, sent as written.
    Unknown {
        /// The type name Wiro gave.
        type_name: String,
    },
}

/// How several files travel in a Run's JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilesForm {
    /// One string of comma-separated URLs (`multifileinput`).
    CommaSeparated,
    /// A JSON array of URLs (`combinefileinput`).
    List,
}

/// One model parameter, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The parameter's id: the node's input port.
    pub id: String,
    /// The name the Run sends the value under: the id, or `{id}Url` for files given as URLs.
    pub wire: String,
    /// The type Wiro named (`select`, `fileinput`, ...).
    pub type_name: String,
    /// What the value is.
    pub kind: FieldKind,
    /// A Run must carry it.
    pub required: bool,
    /// The value used when it is left out, in the field's type.
    pub default: Option<Value>,
    /// A title for forms, from the label (or the id when the label is an untranslated key).
    pub title: String,
    /// Help for forms: the note and description, when they are sentences.
    pub description: String,
    /// The node takes `null` for it, meaning "not set" (sent as `""`): a definition says so
    /// with `"nullable": true`.
    pub nullable: bool,
    /// What this crate had to decide about a definition it found odd, for people.
    pub notes: Vec<String>,
}

impl Field {
    /// The field of one parameter definition; `None` for a definition without an id.
    pub fn read(parameter: &ModelParameter) -> Option<Self> {
        let id = parameter.id.trim();
        if id.is_empty() {
            return None;
        }
        let type_name = parameter.kind.trim().to_ascii_lowercase();
        let mut notes = Vec::new();
        let kind = kind_of(parameter, &type_name, &mut notes);
        let wire = match (&kind, type_name.as_str()) {
            (FieldKind::File, "fileinput") => format!("{id}Url"),
            (FieldKind::Files { form }, _) if *form == FilesForm::CommaSeparated => {
                format!("{id}Url")
            }
            _ => id.to_owned(),
        };
        let mut field = Self {
            id: id.to_owned(),
            wire,
            type_name,
            kind,
            required: parameter.required,
            default: None,
            title: title(id, &parameter.label),
            description: description(parameter),
            nullable: parameter.extra.get("nullable") == Some(&Value::Bool(true)),
            notes,
        };
        field.default = field.typed_default(parameter.default.as_ref());
        Some(field)
    }

    /// The definition's default in the field's type; `None` for "none" (`""`) and for a
    /// default the field itself would refuse (noted).
    fn typed_default(&mut self, default: Option<&Value>) -> Option<Value> {
        let default = default?;
        if matches!(default, Value::Null) || default.as_str().is_some_and(|t| t.trim().is_empty()) {
            return None;
        }
        let typed = super::wire::typed_value(self, default);
        match typed {
            Some(value) if super::wire::fits(self, &value) => Some(value),
            _ => {
                self.notes.push(format!(
                    "its published default {default} does not fit; none is used"
                ));
                None
            }
        }
    }
}

fn kind_of(parameter: &ModelParameter, type_name: &str, notes: &mut Vec<String>) -> FieldKind {
    let number =
        |value: &Option<crate::api::wire::WireNumber>| value.as_ref().and_then(|n| n.as_f64());
    let (min, max, step) = (
        number(&parameter.min),
        number(&parameter.max),
        number(&parameter.step).filter(|step| *step > 0.0),
    );
    let (min, max) = match (min, max) {
        (Some(low), Some(high)) if low > high => {
            notes.push(format!(
                "its minimum {low} is above its maximum {high}; neither is used"
            ));
            (None, None)
        }
        bounds => bounds,
    };
    match type_name {
        "text" | "textarea" if parameter.id.ends_with("Url") && type_name == "text" => {
            FieldKind::File
        }
        "text" | "textarea" => FieldKind::Text {
            multiline: type_name == "textarea",
            min_length: min.filter(|n| *n > 0.0).map(|n| n as u64),
            max_length: max.filter(|n| *n > 0.0).map(|n| n as u64),
        },
        "select" | "selectwithcover" | "radio" => choice(parameter, notes),
        "fileinput" => FieldKind::File,
        "multifileinput" => FieldKind::Files {
            form: FilesForm::CommaSeparated,
        },
        "combinefileinput" => FieldKind::Files {
            form: FilesForm::List,
        },
        "number" | "range" | "float" | "integer" | "slider" => {
            let whole = |n: Option<f64>| n.is_none_or(|n| n.fract() == 0.0);
            let default_whole = match &parameter.default {
                Some(Value::Number(n)) => n.as_f64().is_none_or(|n| n.fract() == 0.0),
                Some(Value::String(t)) => {
                    t.trim().parse::<f64>().map_or(true, |n| n.fract() == 0.0)
                }
                _ => true,
            };
            if type_name != "float" && whole(min) && whole(max) && whole(step) && default_whole {
                let step = step.map(|s| s as i64);
                let on_grid = |s: i64| min.is_none_or(|m| (m as i64).rem_euclid(s) == 0);
                FieldKind::Integer {
                    minimum: min.map(|n| n as i64),
                    maximum: max.map(|n| n as i64),
                    step: step.filter(|s| *s > 1 && on_grid(*s)),
                }
            } else {
                let on_grid = |s: f64| min.is_none_or(|m| is_multiple(m, s));
                FieldKind::Number {
                    minimum: min,
                    maximum: max,
                    step: step.filter(|s| on_grid(*s)),
                }
            }
        }
        _ => {
            notes.push(format!(
                "its type {type_name:?} is not one this crate knows; the value is sent as written"
            ));
            FieldKind::Unknown {
                type_name: type_name.to_owned(),
            }
        }
    }
}

/// `value` is a whole multiple of `step`, as far as decimal fractions allow.
pub(super) fn is_multiple(value: f64, step: f64) -> bool {
    let ratio = value / step;
    (ratio - ratio.round()).abs() < 1e-9
}

fn choice(parameter: &ModelParameter, notes: &mut Vec<String>) -> FieldKind {
    let mut options: Vec<(String, String)> = Vec::new();
    for option in &parameter.options {
        if options.iter().any(|(value, _)| *value == option.value) {
            notes.push(format!("the option {:?} is listed twice", option.value));
            continue;
        }
        let label = if option.label.trim().is_empty() {
            option.value.clone()
        } else {
            option.label.clone()
        };
        options.push((option.value.clone(), label));
    }
    let values: Vec<String> = options
        .iter()
        .map(|(v, _)| v.to_ascii_lowercase())
        .collect();
    for (on, off) in [("true", "false"), ("on", "off"), ("yes", "no")] {
        if values.len() == 2 && values.contains(&on.to_owned()) && values.contains(&off.to_owned())
        {
            let spelled = |word: &str| {
                options
                    .iter()
                    .find(|(value, _)| value.eq_ignore_ascii_case(word))
                    .map(|(value, _)| value.clone())
                    .unwrap_or_else(|| word.to_owned())
            };
            return FieldKind::Switch {
                on: spelled(on),
                off: spelled(off),
            };
        }
    }
    if options.is_empty() {
        notes.push("a select without options: any text is sent".to_owned());
        return FieldKind::Unknown {
            type_name: parameter.kind.clone(),
        };
    }
    let numbers = parameter.extra.get("valuetype").and_then(Value::as_str) == Some("integer");
    if numbers
        && options
            .iter()
            .any(|(value, _)| value.parse::<i64>().is_err())
    {
        notes.push("its values are not all whole numbers: they are taken as text".to_owned());
        return FieldKind::Choice {
            options,
            numbers: false,
        };
    }
    FieldKind::Choice { options, numbers }
}

/// An untranslated key (`select-model`, `numberofoutputs`): lowercase, no spaces.
fn is_key(text: &str) -> bool {
    let text = text.trim();
    !text.is_empty()
        && !text.contains(' ')
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
        && (text.contains('-') || text.contains('_') || text.len() > 12)
}

/// The label, or the id in words when the label is missing or an untranslated key.
fn title(id: &str, label: &str) -> String {
    let label = label.trim();
    if !label.is_empty() && !is_key(label) {
        return label.to_owned();
    }
    let mut words = String::new();
    let mut previous_lower = false;
    for c in id.chars() {
        if c == '_' || c == '-' {
            words.push(' ');
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower {
            words.push(' ');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        words.push(c.to_ascii_lowercase());
    }
    let mut chars = words.trim().chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_else(|| id.to_owned())
}

/// The note and description, when they are sentences rather than keys.
fn description(parameter: &ModelParameter) -> String {
    ["note", "description", "help"]
        .iter()
        .filter_map(|key| parameter.extra.get(*key)?.as_str())
        .map(str::trim)
        .filter(|text| !text.is_empty() && !is_key(text))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(definition: Value) -> Field {
        Field::read(&serde_json::from_value(definition).unwrap()).unwrap()
    }

    #[test]
    fn numbers_as_strings_become_typed_bounds_and_defaults() {
        let width = field(
            json!({"id": "width", "type": "number", "min": "256", "max": "1536",
            "step": "64", "default": "1024", "required": "true"}),
        );
        assert_eq!(
            width.kind,
            FieldKind::Integer {
                minimum: Some(256),
                maximum: Some(1536),
                step: Some(64)
            }
        );
        assert_eq!(width.default, Some(json!(1024)));
        assert!(width.required);
        let motion = field(json!({"id": "motion", "type": "float", "min": 0, "max": 1,
            "step": "0.05", "default": "0.5"}));
        assert_eq!(motion.default, Some(json!(0.5)));
        assert!(matches!(motion.kind, FieldKind::Number { step: Some(s), .. } if s == 0.05));
    }

    #[test]
    fn a_step_off_the_grid_of_zero_is_not_a_multiple_of_rule() {
        let odd = field(json!({"id": "n", "type": "range", "min": 1, "max": 9, "step": 2}));
        assert!(matches!(odd.kind, FieldKind::Integer { step: None, .. }));
    }

    #[test]
    fn switches_files_and_unknown_types_are_recognised() {
        let watermark = field(
            json!({"id": "Watermark", "type": "select", "default": "false",
            "options": [{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}]}),
        );
        assert_eq!(
            watermark.kind,
            FieldKind::Switch {
                on: "true".into(),
                off: "false".into()
            }
        );
        assert_eq!(watermark.default, Some(json!(false)));
        let image = field(json!({"id": "inputImage", "type": "fileinput"}));
        assert_eq!(image.wire, "inputImageUrl");
        let legacy = field(json!({"id": "inputImageUrl", "type": "text"}));
        assert_eq!(
            (legacy.kind, legacy.wire.as_str()),
            (FieldKind::File, "inputImageUrl")
        );
        let tint = field(json!({"id": "tint", "type": "colorpicker", "default": "#336699"}));
        assert!(matches!(tint.kind, FieldKind::Unknown { .. }));
        assert_eq!(tint.default, Some(json!("#336699")));
        assert_eq!(tint.notes.len(), 1);
    }

    #[test]
    fn untranslated_labels_give_way_to_the_id_in_words() {
        let count = field(json!({"id": "numberOfOutputs", "type": "range",
            "label": "numberofoutputs", "note": "numberofoutputs-help"}));
        assert_eq!(count.title, "Number of outputs");
        assert_eq!(count.description, "");
        let voice = field(
            json!({"id": "voice", "type": "select", "label": "select-voice",
            "options": ["a", "b"]}),
        );
        assert_eq!(voice.title, "Voice");
        let prompt = field(
            json!({"id": "prompt", "type": "textarea", "label": "Prompt",
            "note": "What to show."}),
        );
        assert_eq!(
            (prompt.title.as_str(), prompt.description.as_str()),
            ("Prompt", "What to show.")
        );
    }

    #[test]
    fn a_default_the_field_refuses_is_dropped_with_a_note() {
        let quality = field(json!({"id": "quality", "type": "select", "default": "4k",
            "options": ["540p", "720p"]}));
        assert_eq!(quality.default, None);
        assert!(quality.notes[0].contains("default"));
    }
}
