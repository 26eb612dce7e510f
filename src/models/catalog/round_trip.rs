//! A property test: for random parameter definitions, in the loose forms Wiro publishes,
//! random valid typed inputs go to the wire and back unchanged, the derived schema accepts
//! them and every default, and refuses values out of range or not offered.

use serde_json::{json, Map, Value};

use super::{from_wire, input_schema, to_wire, to_wire_every, Field, FieldKind};

/// A loose number: sometimes a JSON number, sometimes a string holding it.
fn loose(rng: &mut fastrand::Rng, number: f64) -> Value {
    if rng.bool() {
        Value::String(number.to_string())
    } else {
        json!(number)
    }
}

fn definition(rng: &mut fastrand::Rng, index: usize) -> Value {
    let mut definition = loose_definition(rng, index);
    // Our own key: the node takes `null` for "not set".
    if rng.usize(..4) == 0 {
        definition["nullable"] = json!(true);
    }
    definition
}

fn loose_definition(rng: &mut fastrand::Rng, index: usize) -> Value {
    let id = format!("p{index}{}", ["", "Url", "Count", "_mode"][rng.usize(..4)]);
    let required =
        [json!(true), json!("true"), json!(false), json!("false")][rng.usize(..4)].clone();
    match rng.usize(..9) {
        0 => json!({"id": id, "type": "text", "required": required, "max": loose(rng, 50.0)}),
        1 => json!({"id": id, "type": "textarea", "label": "select-thing"}),
        2 if rng.bool() => {
            // Whole numbers the node takes as numbers (our own key).
            let values: Vec<String> = (0..rng.usize(1..5))
                .map(|n| (n * 3 + 5).to_string())
                .collect();
            json!({"id": id, "type": "select", "valuetype": "integer",
                   "options": values, "default": values[0]})
        }
        2 | 3 => {
            let count = rng.usize(1..6);
            let options: Vec<Value> = (0..count)
                .map(|n| json!({"label": format!("Option {n}"), "value": format!("v{n}")}))
                .collect();
            let kind = ["select", "selectwithcover"][rng.usize(..2)];
            json!({"id": id, "type": kind,
                   "options": options, "default": format!("v{}", rng.usize(..count))})
        }
        4 => {
            let (on, off) = [("true", "false"), ("on", "off"), ("True", "False")][rng.usize(..3)];
            json!({"id": id, "type": "select", "default": off,
                   "options": [{"label": "a", "value": on}, {"label": "b", "value": off}]})
        }
        5 => {
            let step = [1.0, 2.0, 64.0, 5.0][rng.usize(..4)];
            let low = step * rng.i32(-3..3) as f64;
            let high = low + step * rng.i32(1..40) as f64;
            let kind = ["range", "number", "integer"][rng.usize(..3)];
            json!({"id": id, "type": kind,
                   "min": loose(rng, low), "max": loose(rng, high), "step": loose(rng, step),
                   "default": loose(rng, low + step)})
        }
        6 => {
            let step = [0.5, 0.1, 0.05, 0.25][rng.usize(..4)];
            json!({"id": id, "type": "float", "min": loose(rng, 0.0), "max": loose(rng, 2.0),
                   "step": loose(rng, step), "default": loose(rng, 1.0)})
        }
        7 => {
            let kind = ["fileinput", "multifileinput", "combinefileinput"][rng.usize(..3)];
            json!({"id": id, "type": kind, "required": required})
        }
        _ => {
            let kind = ["colorpicker", "multiselect", "date"][rng.usize(..3)];
            json!({"id": id, "type": kind, "default": "#123456"})
        }
    }
}

/// A random value the field allows.
fn valid_value(rng: &mut fastrand::Rng, field: &Field) -> Value {
    if field.nullable && !field.required && rng.usize(..3) == 0 {
        return Value::Null;
    }
    valid_set_value(rng, field)
}

/// A random value the field allows, other than `null`.
fn valid_set_value(rng: &mut fastrand::Rng, field: &Field) -> Value {
    let url =
        |rng: &mut fastrand::Rng| json!(format!("https://cdn.example/f{}.png", rng.u32(..1000)));
    match &field.kind {
        FieldKind::Text { max_length, .. } => {
            let length = rng.usize(1..=max_length.unwrap_or(30).min(30) as usize);
            json!("é x,"
                .repeat(length)
                .chars()
                .take(length)
                .collect::<String>())
        }
        FieldKind::Integer {
            minimum,
            maximum,
            step,
        } => {
            let step = step.unwrap_or(1);
            let low = minimum.unwrap_or(-100);
            let high = maximum.unwrap_or(100);
            let steps = (high - low) / step;
            json!(low + step * rng.i64(0..=steps))
        }
        FieldKind::Number {
            minimum,
            maximum,
            step,
        } => {
            let step = step.unwrap_or(0.125);
            let low = minimum.unwrap_or(0.0);
            let high = maximum.unwrap_or(10.0);
            let steps = ((high - low) / step).floor() as i64;
            let value = low + step * rng.i64(0..=steps) as f64;
            // As a person types it: as many decimals as the step has.
            let decimals = step.to_string().split('.').nth(1).map_or(0, str::len);
            serde_json::from_str(&format!("{value:.decimals$}")).unwrap()
        }
        FieldKind::Choice { options, numbers } => {
            let value = &options[rng.usize(..options.len())].0;
            match value.parse::<i64>() {
                Ok(number) if *numbers => json!(number),
                _ => json!(value),
            }
        }
        FieldKind::Switch { .. } => json!(rng.bool()),
        FieldKind::File => url(rng),
        FieldKind::Files { .. } => Value::Array((0..rng.usize(1..4)).map(|_| url(rng)).collect()),
        FieldKind::Unknown { .. } => json!(format!("#{:06x}", rng.u32(..0xffffff))),
    }
}

fn normalise_numbers(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) && !n.is_i64() => {
            json!(n.as_f64().unwrap() as i64)
        }
        other => other.clone(),
    }
}

#[test]
fn random_definitions_round_trip_through_the_wire_and_the_schema() {
    let mut rng = fastrand::Rng::with_seed(20261204);
    for round in 0..400 {
        let definitions: Vec<Value> = (0..rng.usize(1..8))
            .map(|i| definition(&mut rng, i))
            .collect();
        let fields: Vec<Field> = definitions
            .iter()
            .filter_map(|d| Field::read(&serde_json::from_value(d.clone()).unwrap()))
            .collect();
        let schema = input_schema("random", &fields);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("round {round}: {e}\n{schema:#}"));
        let mut inputs = Map::new();
        for field in &fields {
            if field.required || rng.bool() {
                inputs.insert(
                    field.id.clone(),
                    normalise_numbers(&valid_value(&mut rng, field)),
                );
            }
            if let Some(default) = &field.default {
                let alone = json!({ field.id.clone(): default });
                let problems: Vec<String> = validator
                    .iter_errors(&alone)
                    .filter(|e| {
                        !matches!(
                            e.kind(),
                            jsonschema::error::ValidationErrorKind::Required { .. }
                        )
                    })
                    .map(|e| e.to_string())
                    .collect();
                assert!(
                    problems.is_empty(),
                    "round {round}: default of {}: {problems:?}",
                    field.id
                );
            }
        }
        let instance = Value::Object(inputs.clone());
        let problems: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| e.to_string())
            .collect();
        assert!(
            problems.is_empty(),
            "round {round}: {problems:?}\n{instance:#}\n{schema:#}"
        );
        let body = to_wire(&fields, &inputs);
        for value in body.values() {
            assert!(
                value.is_string() || value.is_array(),
                "round {round}: {value} on the wire"
            );
        }
        let back =
            from_wire(&fields, &body).unwrap_or_else(|p| panic!("round {round}: {p:?}\n{body:?}"));
        // `null` is "not set": it goes as `""` and comes back absent.
        let set: Map<String, Value> = inputs
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(id, value)| (id.clone(), value.clone()))
            .collect();
        assert_eq!(back, set, "round {round}: {body:?}");
        // A body that names every parameter reads back as the inputs plus the defaults.
        let every = to_wire_every(&fields, &inputs);
        assert_eq!(every.len(), fields.len(), "round {round}");
        let back = from_wire(&fields, &every)
            .unwrap_or_else(|p| panic!("round {round}: {p:?}\n{every:?}"));
        let mut expected = set.clone();
        for field in &fields {
            if let (false, Some(default)) = (inputs.contains_key(&field.id), &field.default) {
                expected.insert(field.id.clone(), default.clone());
            }
        }
        assert_eq!(back, expected, "round {round}: {every:?}");
    }
}

#[test]
fn the_schema_refuses_out_of_range_numbers_and_options_not_offered() {
    let definitions = json!([
        {"id": "width", "type": "number", "min": "256", "max": "1536", "step": "64"},
        {"id": "quality", "type": "select", "options": ["540p", "720p"]},
        {"id": "motion", "type": "float", "min": 0, "max": 1, "step": "0.05"}
    ]);
    let fields: Vec<Field> = definitions
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| Field::read(&serde_json::from_value(d.clone()).unwrap()))
        .collect();
    let schema = input_schema("t", &fields);
    let validator = jsonschema::validator_for(&schema).unwrap();
    for bad in [
        json!({"width": 2048}),
        json!({"width": 300}),
        json!({"quality": "4k"}),
        json!({"motion": 1.5}),
        json!({"width": "1024"}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad} was accepted");
    }
    // A fractional step is the node's own check: stock validators judge `multipleOf` in
    // binary floating point (0.7 would be refused for a step of 0.1).
    let off = super::off_step(&fields, json!({"motion": 0.33}).as_object().unwrap());
    assert_eq!(off[0].rule, "multipleOf");
    assert!(super::off_step(&fields, json!({"motion": 0.7}).as_object().unwrap()).is_empty());
    let problems = from_wire(
        &fields,
        json!({"width": "2048", "quality": "4k"})
            .as_object()
            .unwrap(),
    )
    .unwrap_err();
    assert_eq!(problems[0].rule, "maximum");
    assert!(
        problems[1].message.contains("540p, 720p"),
        "{}",
        problems[1].message
    );
}

#[test]
fn a_file_parameter_with_a_url_twin_of_its_own_leaves_the_url_to_the_twin() {
    let summary = json!({"slugowner": "a", "slugproject": "b"});
    let detail = json!({"tool": [{"parameters": [
        {"id": "inputImage", "type": "fileinput"},
        {"id": "inputImageUrl", "type": "text"}
    ]}]});
    let model = super::CatalogModel::from_answers(&summary, &detail, "now").unwrap();
    let wires: Vec<&str> = model.fields().iter().map(|f| f.wire.as_str()).collect();
    assert_eq!(wires, ["inputImageUrl"]);
}
