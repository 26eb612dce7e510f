//! The models built into the crate: PixVerse v4 text-to-video and image-to-video, each one
//! file of data under `src/models/builtin/`, which every program has without a catalog file.
//!
//! A file is `{"tool": MODEL, "rules": [...], "emulated": {...}}`: `tool` is the model as
//! Tool/Detail states it (parameters with options, defaults and limits, `dynamicprice`), read
//! the way every catalog model is read; `rules` are the rules between its parameters
//! ([`super::catalog::ModelRule`]), which Tool/Detail has no field for; `emulated`
//! says what the emulator makes for a Run. The emulator serves Tool/List, Tool/Detail, its Run
//! checks and its prices from these same files, so what a client prices from Tool/Detail is
//! what a task then costs.
//!
//! Two keys of our own on a parameter say what Tool/Detail cannot: `"valuetype": "integer"`
//! (a select of whole numbers that the node takes as numbers: `"duration": 5`) and
//! `"nullable": true` (the node takes `null` for "not set", sent as `""`).
//!
//! A built-in model's node wins over a catalog file's entry of the same model: the registry
//! holds the built-in ones before any catalog is added. Its Run names every parameter, as this
//! crate has always sent PixVerse v4's, and its price is asked from the server's Tool/Detail
//! (the `dynamicprice` here is the emulator's price list).
//!
//! ```
//! use wiro_nodes::models::builtin;
//!
//! let model = builtin::model("pixverse/image-to-video-v4").expect("built in");
//! assert!(model.is_built_in());
//! assert_eq!(model.fields()[0].id, "inputImageUrl");
//! assert_eq!(builtin::models().len(), 2);
//! ```

use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::{json, Value};

use super::catalog::{Catalog, CatalogModel, ModelRule};

/// The built-in model files, in the order Tool/List shows them: `(name, text)`.
pub const FILES: [(&str, &str); 2] = [
    (
        "pixverse-text-to-video-v4",
        include_str!("pixverse-text-to-video-v4.json"),
    ),
    (
        "pixverse-image-to-video-v4",
        include_str!("pixverse-image-to-video-v4.json"),
    ),
];

/// What `read_at` says for a built-in model.
const BUILT_IN: &str = "built in";

/// The built-in models, as a catalog (a node source like a catalog file).
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut catalog = Catalog::new(BUILT_IN);
        catalog.models = FILES
            .iter()
            .filter_map(|(name, text)| match read(text) {
                Ok(model) => Some(Arc::new(model)),
                Err(problem) => {
                    // The tests read every file, so this never ships.
                    tracing::error!(%problem, "the built-in model {name}.json does not read");
                    None
                }
            })
            .collect();
        catalog
    })
}

/// Every built-in model.
pub fn models() -> &'static [Arc<CatalogModel>] {
    &catalog().models
}

/// The built-in model `owner/project` names: raw or clean slugs, in any letter case.
pub fn model(slug: &str) -> Option<&'static Arc<CatalogModel>> {
    let (owner, project) = slug.split_once('/')?;
    models().iter().find(|model| {
        let fits = |given: &str, raw: &str, clean: &str| {
            given.eq_ignore_ascii_case(raw) || given.eq_ignore_ascii_case(clean)
        };
        fits(owner, &model.slugowner, &model.cleanslugowner)
            && fits(project, &model.slugproject, &model.cleanslugproject)
    })
}

/// One file's model: its `tool` read as Tool/Detail's answer, with its `rules`.
fn read(text: &str) -> Result<CatalogModel, String> {
    let file: Value = serde_json::from_str(text).map_err(|error| error.to_string())?;
    let tool = file.get("tool").cloned().unwrap_or(Value::Null);
    let mut model = CatalogModel::from_answers(&tool, &json!({ "tool": [tool] }), BUILT_IN)?;
    if let Some(reason) = model.untyped_because() {
        return Err(reason.to_owned());
    }
    model.rules = match file.get("rules") {
        Some(rules) => {
            Vec::<ModelRule>::deserialize(rules).map_err(|error| format!("rules: {error}"))?
        }
        None => Vec::new(),
    };
    model.built_in = true;
    // The schema stored with the model was derived before its rules were known.
    model.inputs = model.input_schema();
    Ok(model)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::models::catalog::FieldKind;

    fn body(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn every_file_reads_and_every_rule_names_parameters_the_model_has() {
        assert_eq!(models().len(), FILES.len());
        for model in models() {
            let ids: BTreeSet<&str> = model.fields().iter().map(|f| f.id.as_str()).collect();
            for rule in &model.rules {
                let named = rule
                    .when
                    .keys()
                    .chain(rule.forbids.keys())
                    .chain(rule.not_blank.iter());
                for id in named {
                    assert!(
                        ids.contains(id.as_str()),
                        "{}: {} has no {id}",
                        model.type_id,
                        rule.id
                    );
                }
            }
            // No default breaks a rule: a parameter left out never makes a Run invalid.
            assert!(model
                .rule_problems(&Default::default(), &BTreeSet::new())
                .is_empty());
        }
    }

    #[test]
    fn slugs_match_raw_or_clean_in_any_case() {
        assert!(model("PixVerse/text-to-video-v4").is_some());
        assert!(model("pixverse/TEXT-to-video-v4").is_some());
        assert!(model("pixverse/text-to-video-v5").is_none());
        assert!(model("nonsense").is_none());
    }

    #[test]
    fn the_parameters_are_typed_as_the_node_takes_them() {
        let text = model("pixverse/text-to-video-v4").unwrap();
        let field = |id: &str| text.fields().iter().find(|f| f.id == id).unwrap();
        assert!(matches!(
            field("duration").kind,
            FieldKind::Choice { numbers: true, .. }
        ));
        assert_eq!(field("duration").default, Some(json!(5)));
        assert!(field("seed").nullable && field("style").nullable);
        assert!(matches!(field("Watermark").kind, FieldKind::Switch { .. }));
        let image = model("pixverse/image-to-video-v4").unwrap();
        assert_eq!(image.fields()[0].kind, FieldKind::File);
        assert_eq!(image.fields()[0].wire, "inputImageUrl");
    }

    #[test]
    fn the_run_body_names_every_parameter_as_a_string() {
        let model = model("pixverse/text-to-video-v4").unwrap();
        let wire = model.to_wire(&body(json!({"prompt": "a fox"})));
        assert_eq!(
            Value::Object(wire),
            json!({
                "prompt": "a fox", "negativePrompt": "", "aspectRatio": "16:9", "duration": "5",
                "quality": "540p", "motionMode": "normal", "style": "", "seed": "",
                "Watermark": "false"
            })
        );
        let wire = model.to_wire(&body(json!({"prompt": "p", "style": "3d_animation",
            "seed": 42, "Watermark": true, "duration": 8, "quality": "360p"})));
        assert!(wire.values().all(Value::is_string));
        assert_eq!(
            (
                &wire["style"],
                &wire["seed"],
                &wire["Watermark"],
                &wire["duration"]
            ),
            (
                &json!("3d_animation"),
                &json!("42"),
                &json!("true"),
                &json!("8")
            )
        );
        let image = super::model("pixverse/image-to-video-v4").unwrap();
        let wire = image.to_wire(&body(json!({"inputImageUrl": "https://h/a.png",
            "prompt": "p", "seed": null, "style": null})));
        let names: Vec<&str> = wire.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "inputImageUrl",
                "prompt",
                "negativePrompt",
                "duration",
                "quality",
                "motionMode",
                "style",
                "seed",
                "Watermark"
            ]
        );
        assert_eq!((&wire["seed"], &wire["style"]), (&json!(""), &json!("")));
    }

    #[test]
    fn whole_numbers_written_with_a_fraction_meet_the_rules_and_go_out_whole() {
        // A spreadsheet writes 8 as 8.0: it is still 8 s at 1080p, refused before sending.
        let model = model("pixverse/text-to-video-v4").unwrap();
        let inputs = body(json!({"prompt": "p", "quality": "1080p", "duration": 8.0}));
        let problems = model.rule_problems(&inputs, &BTreeSet::new());
        assert!(
            problems.iter().any(|p| p.rule == "pixverse/1080p-max-5s"),
            "{problems:?}"
        );
        let wire = model.to_wire(&body(json!({"prompt": "p", "duration": 8.0, "seed": 42.0})));
        assert_eq!(
            (&wire["duration"], &wire["seed"]),
            (&json!("8"), &json!("42"))
        );
    }

    #[test]
    fn a_wire_body_reads_in_any_loose_form_and_every_problem_is_told() {
        let model = model("pixverse/text-to-video-v4").unwrap();
        let inputs = model
            .check_wire(&body(
                json!({"prompt": "p", "duration": "8", "Watermark": "False",
                "style": "", "seed": " 7 "}),
            ))
            .unwrap();
        assert_eq!(inputs["duration"], 8);
        assert_eq!(inputs["seed"], 7);
        assert_eq!(inputs["Watermark"], false);
        let problems = model
            .check_wire(&body(
                json!({"prompt": "", "quality": "1080p", "duration": 8,
                "motionMode": "fast", "seed": "-1", "aspectRatio": "2:1"}),
            ))
            .unwrap_err();
        let found: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.field.as_str(), p.rule.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("prompt", "required"),
                ("aspectRatio", "enum"),
                ("seed", "minimum"),
                ("duration", "pixverse/1080p-max-5s"),
                ("motionMode", "pixverse/1080p-not-fast"),
                ("duration", "pixverse/fast-needs-5s"),
            ]
        );
    }
}
