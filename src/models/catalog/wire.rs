//! The one mapping between a catalog node's typed inputs and the Run body Wiro reads, both
//! ways: numbers and switches as strings, files as `{id}Url` (comma-separated for several) or
//! a list; and back, for a server (the emulator) or a reconciliation reading a sent body.

use serde_json::{Map, Number, Value};

use super::field::{is_multiple, Field, FieldKind, FilesForm};
use crate::models::ParameterProblem;

/// The Run body for typed `inputs` (ports without a field are left out; so are absent ones:
/// the model uses its defaults).
pub fn to_wire(fields: &[Field], inputs: &Map<String, Value>) -> Map<String, Value> {
    let mut body = Map::new();
    for field in fields {
        let Some(value) = inputs.get(&field.id) else {
            continue;
        };
        body.insert(field.wire.clone(), typed_wire_value(field, value));
    }
    body
}

/// The Run body for typed `inputs` that names every parameter, as Wiro's docs write a Run:
/// one left out is sent as its default, or `""` (none) when it has no default.
pub fn to_wire_every(fields: &[Field], inputs: &Map<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .map(|field| {
            let value = match inputs.get(&field.id).or(field.default.as_ref()) {
                Some(value) => typed_wire_value(field, value),
                None => Value::String(String::new()),
            };
            (field.wire.clone(), value)
        })
        .collect()
}

/// A value as the wire spells it, read in the field's type first where it can be: a whole
/// number written `8.0` goes out as `"8"`, the spelling the model's options and prices use.
fn typed_wire_value(field: &Field, value: &Value) -> Value {
    let whole = matches!(
        field.kind,
        FieldKind::Integer { .. } | FieldKind::Choice { numbers: true, .. }
    );
    match typed_value(field, value).filter(|_| whole) {
        Some(typed) => wire_value(field, &typed),
        None => wire_value(field, value),
    }
}

/// The parameters of a Run body sent as written (`wiro/model.run`) that the model reads as
/// a whole number but that would go out spelled otherwise: `"seed": "7.0"` or `8.0` pass as 7
/// and 8 (and meet the model's rules as those), but the server would get `"7.0"` and `"8.0"`.
/// Each is refused with the spelling to send.
pub fn misspelled_numbers(fields: &[Field], body: &Map<String, Value>) -> Vec<ParameterProblem> {
    let mut problems = Vec::new();
    for field in fields {
        let Some(sent) = body.get(&field.wire).or_else(|| body.get(&field.id)) else {
            continue;
        };
        let spelled = typed_wire_value(field, sent);
        if wire_value(field, sent) != spelled {
            problems.push(ParameterProblem::new(
                &field.id,
                "whole-number",
                format!(
                    "{} would be sent as written; send {spelled} (the model reads whole numbers written so)",
                    crate::models::shown(sent)
                ),
            ));
        }
    }
    problems
}

/// One typed value as the wire spells it.
fn wire_value(field: &Field, value: &Value) -> Value {
    match (&field.kind, value) {
        (FieldKind::Switch { on, off }, Value::Bool(flag)) => {
            Value::String(if *flag { on.clone() } else { off.clone() })
        }
        (FieldKind::Files { form }, Value::Array(urls)) => match form {
            FilesForm::CommaSeparated => Value::String(
                urls.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            FilesForm::List => value.clone(),
        },
        (_, Value::String(_)) => value.clone(),
        (_, Value::Number(number)) => Value::String(number.to_string()),
        (_, Value::Bool(flag)) => Value::String(flag.to_string()),
        (_, Value::Null) => Value::String(String::new()),
        (_, other) => other.clone(),
    }
}

/// The inputs among `inputs` that are off their field's fractional step (0.33 where the step
/// is 0.05): a rule the schema states only as an annotation (`x-step`), since stock
/// validators judge fractional `multipleOf` in binary floating point.
pub fn off_step(fields: &[Field], inputs: &Map<String, Value>) -> Vec<ParameterProblem> {
    fields
        .iter()
        .filter_map(|field| {
            let FieldKind::Number {
                step: Some(step), ..
            } = field.kind
            else {
                return None;
            };
            let number = inputs.get(&field.id)?.as_f64()?;
            (!is_multiple(number, step)).then(|| {
                ParameterProblem::new(
                    &field.id,
                    "multipleOf",
                    format!("{number} is not a multiple of {step}"),
                )
            })
        })
        .collect()
}

/// The typed inputs of a Run `body`, and every problem a server would refuse it for: a
/// missing required parameter, a value of the wrong type, out of range or not offered.
/// Parameters the model does not have are ignored, as Wiro does.
pub fn from_wire(
    fields: &[Field],
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<ParameterProblem>> {
    let (inputs, problems) = read_wire(fields, body);
    if problems.is_empty() {
        Ok(inputs)
    } else {
        Err(problems)
    }
}

/// The typed inputs of a Run `body` that read, and the problems of those that do not (see
/// [`from_wire`]): rules between parameters can then still judge the readable ones, so every
/// problem of a body is told at once.
pub fn read_wire(
    fields: &[Field],
    body: &Map<String, Value>,
) -> (Map<String, Value>, Vec<ParameterProblem>) {
    let mut inputs = Map::new();
    let mut problems = Vec::new();
    for field in fields {
        let sent = body
            .get(&field.wire)
            .or_else(|| body.get(&field.id))
            .filter(|value| !is_empty(value));
        let Some(sent) = sent else {
            if field.required {
                problems.push(ParameterProblem::new(
                    &field.id,
                    "required",
                    "is required; this model cannot run without it",
                ));
            }
            continue;
        };
        match typed_value(field, sent) {
            Some(value) => match problem(field, &value) {
                None => {
                    inputs.insert(field.id.clone(), value);
                }
                Some((rule, message)) => {
                    problems.push(ParameterProblem::new(&field.id, rule, message))
                }
            },
            None => problems.push(ParameterProblem::new(
                &field.id,
                "type",
                format!("{} is not {}", crate::models::shown(sent), expected(field)),
            )),
        }
    }
    (inputs, problems)
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// A loose value (a wire string, a number as text, a published default) in the field's type;
/// `None` when it cannot be read as one.
pub(super) fn typed_value(field: &Field, value: &Value) -> Option<Value> {
    let text = || match value {
        Value::String(text) => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    };
    match &field.kind {
        FieldKind::Integer { .. } => match value {
            Value::Number(number) if number.is_i64() || number.is_u64() => Some(value.clone()),
            _ => {
                let text = text()?;
                let parsed = text.parse::<i64>().ok().or_else(|| {
                    let float = text.parse::<f64>().ok()?;
                    (float.fract() == 0.0 && float.abs() < 9e15).then_some(float as i64)
                })?;
                Some(Value::from(parsed))
            }
        },
        FieldKind::Number { .. } => {
            let number = match value {
                Value::Number(number) => number.as_f64()?,
                _ => text()?.parse::<f64>().ok()?,
            };
            // A whole number stays an integer in JSON: `2`, not `2.0`.
            if number.fract() == 0.0 && number.abs() < 9e15 {
                Some(Value::from(number as i64))
            } else {
                Number::from_f64(number).map(Value::Number)
            }
        }
        FieldKind::Switch { on, off } => match value {
            Value::Bool(flag) => Some(Value::Bool(*flag)),
            _ => {
                let text = text()?;
                if text.eq_ignore_ascii_case(on) {
                    Some(Value::Bool(true))
                } else if text.eq_ignore_ascii_case(off) {
                    Some(Value::Bool(false))
                } else {
                    None
                }
            }
        },
        FieldKind::Files { .. } => match value {
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(|url| Value::String(url.trim().to_owned()))
                })
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
            Value::String(text) => Some(Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|url| !url.is_empty())
                    .map(|url| Value::String(url.to_owned()))
                    .collect(),
            )),
            _ => None,
        },
        FieldKind::Choice { numbers: true, .. } => {
            let text = text()?;
            // `8.0` (a spreadsheet's number) is the whole number 8, as for an integer.
            text.parse::<i64>()
                .ok()
                .or_else(|| {
                    let float = text.parse::<f64>().ok()?;
                    (float.fract() == 0.0 && float.abs() < 9e15).then_some(float as i64)
                })
                .map(Value::from)
        }
        FieldKind::Text { .. }
        | FieldKind::Choice { .. }
        | FieldKind::File
        | FieldKind::Unknown { .. } => match value {
            Value::String(text) => Some(Value::String(text.clone())),
            Value::Number(_) | Value::Bool(_) => text().map(Value::String),
            _ => None,
        },
    }
}

/// The value is one the field allows.
pub(super) fn fits(field: &Field, value: &Value) -> bool {
    problem(field, value).is_none()
}

/// The rule a typed value breaks, and why, in the words the node's schema would use.
fn problem(field: &Field, value: &Value) -> Option<(&'static str, String)> {
    let shown = crate::models::shown(value);
    match &field.kind {
        FieldKind::Integer {
            minimum,
            maximum,
            step,
        } => range_problem(
            value.as_i64()? as f64,
            minimum.map(|n| n as f64),
            maximum.map(|n| n as f64),
            step.map(|n| n as f64),
        ),
        FieldKind::Number {
            minimum,
            maximum,
            step,
        } => range_problem(value.as_f64()?, *minimum, *maximum, *step),
        FieldKind::Choice { options, .. } => {
            let text = match value {
                Value::Number(number) => number.to_string(),
                _ => value.as_str()?.to_owned(),
            };
            if options.iter().any(|(allowed, _)| *allowed == text) {
                return None;
            }
            let allowed: Vec<&str> = options.iter().map(|(value, _)| value.as_str()).collect();
            Some((
                "enum",
                format!(
                    "{shown} is not one of the offered values: {}",
                    allowed.join(", ")
                ),
            ))
        }
        FieldKind::Text {
            min_length,
            max_length,
            ..
        } => {
            let length = value.as_str()?.chars().count() as u64;
            if let Some(high) = max_length.filter(|high| length > *high) {
                return Some((
                    "maxLength",
                    format!("is {length} characters long; at most {high}"),
                ));
            }
            if let Some(low) = min_length.filter(|low| length < *low) {
                return Some((
                    "minLength",
                    format!("is {length} characters long; at least {low}"),
                ));
            }
            None
        }
        FieldKind::Files {
            form: FilesForm::CommaSeparated,
        } => value
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .any(|url| url.contains(','))
            .then(|| {
                (
                    "pattern",
                    "a URL holds a comma, which this model's list of URLs cannot carry".to_owned(),
                )
            }),
        FieldKind::File => {
            let url = value.as_str()?;
            (!is_http_url(url)).then(|| {
                (
                    "pattern",
                    format!("{shown} is not an http(s) URL; give a public http:// or https:// address, such as the url a file upload returns"),
                )
            })
        }
        FieldKind::Switch { .. } | FieldKind::Files { .. } | FieldKind::Unknown { .. } => None,
    }
}

/// `http://` or `https://` (any case), then a host (after any `user@`; an IPv6 literal in
/// brackets), a port of digits if any, and no white space or control characters: what the
/// schema's `HTTP_URL_PATTERN` says, and more, for a server that reads a Run body.
fn is_http_url(text: &str) -> bool {
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, after)| after);
    let (host, port) = match host_and_port.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':').unwrap_or(after)),
            None => return false,
        },
        None => host_and_port.split_once(':').unwrap_or((host_and_port, "")),
    };
    !host.is_empty() && port.chars().all(|c| c.is_ascii_digit())
}

/// The bound or step `number` breaks, in the words the node's schema would use.
fn range_problem(
    number: f64,
    minimum: Option<f64>,
    maximum: Option<f64>,
    step: Option<f64>,
) -> Option<(&'static str, String)> {
    if let Some(low) = minimum.filter(|low| number < *low) {
        return Some((
            "minimum",
            format!("{number} is less than the minimum of {low}"),
        ));
    }
    if let Some(high) = maximum.filter(|high| number > *high) {
        return Some((
            "maximum",
            format!("{number} is greater than the maximum of {high}"),
        ));
    }
    if let Some(step) = step.filter(|step| !is_multiple(number, *step)) {
        return Some((
            "multipleOf",
            format!("{number} is not a multiple of {step}"),
        ));
    }
    None
}

/// What a field takes, for a type error.
fn expected(field: &Field) -> &'static str {
    match field.kind {
        FieldKind::Integer { .. } | FieldKind::Choice { numbers: true, .. } => "a whole number",
        FieldKind::Number { .. } => "a number",
        FieldKind::Switch { .. } => "a yes/no value the model knows",
        FieldKind::Files { .. } => "a list of URLs",
        _ => "text",
    }
}

#[cfg(test)]
mod tests {
    use super::is_http_url;

    #[test]
    fn a_url_to_fetch_needs_an_http_scheme_and_a_host() {
        for good in [
            "https://cdn1.wiro.ai/uploads/cat.png",
            "http://127.0.0.1:8080/file?id=3",
            "HTTPS://example.com",
            "http://[::1]:3000/x.png",
        ] {
            assert!(is_http_url(good), "{good}");
        }
        for bad in [
            "",
            "cat.png",
            "/tmp/cat.png",
            "file:///tmp/cat.png",
            "ftp://example.com/cat.png",
            "https://",
            "https:///cat.png",
            "https://exa mple.com/",
            "héllo://x",
            "https://user@/a.png",
            "https://example.com:port/x.png",
            "https://example.com/\u{7}bell",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
