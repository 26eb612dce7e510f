//! Generated models for benchmarks and tests (`EmulatorConfig::synthetic_models`,
//! `wiro-nodes emulator --synthetic-models N`): model `n` always looks the same, and the set
//! varies what a catalog reader must cope with: every parameter type (documented, seen, and
//! unknown ones), `required` as a boolean or a string, numbers as numbers or strings, raw
//! slugs with capitals and spaces, and all three ways of publishing a price. Their outputs
//! are small (256² images, 320×180 clips of two or three seconds) so running them is cheap.

use serde_json::{json, Map, Value};

use super::described::{Emulated, EmulatedModel, OutputKind};

/// Parameter types the extra items rotate through (`checkbox` and `colorpicker` are types
/// no public source documents: readers must keep them as strings).
const TYPES: [&str; 11] = [
    "select",
    "range",
    "number",
    "float",
    "text",
    "fileinput",
    "multifileinput",
    "combinefileinput",
    "selectwithcover",
    "colorpicker",
    "checkbox",
];

/// `count` generated models, numbered from 1.
pub(crate) fn synthetic_models(count: usize) -> Vec<EmulatedModel> {
    (1..=count).map(synthetic_model).collect()
}

/// Generated model number `n`.
pub(crate) fn synthetic_model(n: usize) -> EmulatedModel {
    let kind = [
        OutputKind::Images,
        OutputKind::Audio,
        OutputKind::Text,
        OutputKind::Video,
    ][n % 4];
    let (owner, clean_owner) = if n.is_multiple_of(3) {
        ("Synthetic Lab", "synthetic-lab")
    } else {
        ("synthetic", "synthetic")
    };
    let clean_project = format!("model-{n:04}");
    let project = if n.is_multiple_of(2) {
        format!("Model {n:04}")
    } else {
        clean_project.clone()
    };
    let (kind_name, category) = match kind {
        OutputKind::Images => ("images", "image-generation"),
        OutputKind::Audio => ("a sound", "audio-generation"),
        OutputKind::Text => ("a text answer", "llm"),
        OutputKind::Video => ("a video", "video-generation"),
    };

    let prompt_id = if kind == OutputKind::Audio {
        "text"
    } else {
        "prompt"
    };
    let mut main = vec![json!({
        "id": prompt_id, "type": "textarea", "label": "Prompt", "default": "",
        "required": if n.is_multiple_of(2) { json!(true) } else { json!("true") },
    })];
    let mut emulated = Emulated {
        kind,
        count: None,
        width: None,
        height: None,
        quality: None,
        aspect: None,
        default_size: None,
        scale: None,
        seconds: None,
        seconds_from_text: None,
        speed: None,
        seed: None,
        prompt: Some(prompt_id.into()),
        image: None,
        aspects: Vec::new(),
    };
    match kind {
        OutputKind::Images => {
            main.push(
                json!({"id": "numberOfOutputs", "type": "range", "label": "numberofoutputs",
                "note": "numberofoutputs-help", "required": false, "default": "1",
                "min": 1, "max": 4, "step": 1}),
            );
            emulated.count = Some("numberOfOutputs".into());
            emulated.default_size = Some([256, 256]);
        }
        OutputKind::Audio => emulated.seconds_from_text = Some("text".into()),
        OutputKind::Video => {
            main.push(
                json!({"id": "duration", "type": "select", "label": "Duration",
                "required": "false", "default": "2",
                "options": [{"label": "2 s", "value": "2"}, {"label": "3 s", "value": "3"}]}),
            );
            emulated.seconds = Some("duration".into());
            emulated.default_size = Some([320, 180]);
        }
        OutputKind::Text => {}
    }
    let extras: Vec<Value> = (0..3 + n % 4)
        .map(|k| extra_item(TYPES[(n + k * 5) % TYPES.len()], k, n))
        .collect();

    let mut tool = Map::new();
    for (key, value) in [
        ("id", json!((900_000 + n).to_string())),
        ("title", json!(format!("Synthetic model {n}"))),
        ("slugowner", json!(owner)),
        ("slugproject", json!(project)),
        ("cleanslugowner", json!(clean_owner)),
        ("cleanslugproject", json!(clean_project)),
        (
            "description",
            json!(format!(
                "Generated model {n} for catalog benchmarks: makes {kind_name} from {} parameters.",
                main.len() + extras.len()
            )),
        ),
        ("computingtime", json!("2")),
        ("categories", json!(["synthetic", category])),
        ("tags", json!(["synthetic"])),
        ("marketplace", json!("1")),
        ("onlymembers", json!("0")),
    ] {
        tool.insert(key.into(), value);
    }
    let tier = |inputs: Value, method: &str| json!([{"inputs": inputs, "price": 0.01, "priceMethod": method}]);
    match n % 3 {
        0 => {
            tool.insert("dynamicprice".into(), tier(json!({}), "cpr"));
        }
        1 => {
            let text = tier(json!({}), "cpo").to_string();
            tool.insert("dynamicprice".into(), json!(text));
        }
        _ => {
            tool.insert("cps".into(), json!("0.002"));
            tool.insert("approximatelycost".into(), json!("0.004"));
        }
    }
    tool.insert(
        "parameters".into(),
        json!([{"title": "Main", "items": main}, {"title": "More", "items": extras}]),
    );
    EmulatedModel { tool, emulated }
}

/// The `k`-th extra parameter of model `n`, of type `kind`: optional, with a default.
fn extra_item(kind: &str, k: usize, n: usize) -> Value {
    let id = format!("{kind}{k}");
    let label = format!("Setting {k}");
    let numbers_as_text = (n + k).is_multiple_of(2);
    let number = |value: f64| {
        if numbers_as_text {
            json!(value.to_string())
        } else {
            json!(value)
        }
    };
    let options = |cover: bool| -> Value {
        ["low", "medium", "high"]
            .iter()
            .map(|value| {
                let mut option = json!({"label": value, "value": value});
                if cover {
                    option["cover"] =
                        json!(format!("https://cdn1.wiro.ai/emulator/covers/{value}.png"));
                }
                option
            })
            .collect()
    };
    let mut item =
        json!({"id": id, "type": kind, "label": label, "required": "false", "default": ""});
    match kind {
        "select" | "selectwithcover" => {
            item["options"] = options(kind == "selectwithcover");
            item["default"] = json!("medium");
        }
        "range" | "number" => {
            item["min"] = number(0.0);
            item["max"] = number(100.0);
            item["step"] = number(1.0);
            item["default"] = json!("50");
        }
        "float" => {
            item["min"] = number(0.0);
            item["max"] = number(1.0);
            item["step"] = number(0.05);
            item["default"] = json!("0.5");
        }
        "colorpicker" => item["default"] = json!("#808080"),
        "checkbox" => item["default"] = json!("false"),
        "text" => item["placeholder"] = json!("anything"),
        _ => item["note"] = json!("A file, or its URL."),
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::wire::ModelDetail;

    #[test]
    fn generated_models_are_stable_varied_and_readable() {
        let models = synthetic_models(24);
        assert_eq!(synthetic_model(7), models[6]);
        let mut types = std::collections::BTreeSet::new();
        for model in &models {
            let answer = json!({"tool": [model.detail()]});
            let read = ModelDetail::from_answer(&model.slug(), &answer).unwrap();
            assert_eq!(read.parameters.len(), model.items().count());
            types.extend(read.parameters.iter().map(|p| p.kind.clone()));
            assert!(model.is_named(
                model.field("cleanslugowner"),
                model.field("cleanslugproject")
            ));
        }
        for kind in TYPES {
            assert!(types.contains(kind), "{kind} never appears");
        }
        assert_eq!(models[5].slug(), "Synthetic Lab/Model 0006");
        let kinds: std::collections::HashSet<_> = models
            .iter()
            .map(|m| format!("{:?}", m.emulated.kind))
            .collect();
        assert_eq!(kinds.len(), 4);
    }
}
