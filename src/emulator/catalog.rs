//! The models the emulator knows, how their Run bodies are checked (with the `models` layer,
//! every problem at once), what a run will make and cost (by `prices`), and their Tool/Detail
//! descriptions.

use serde_json::{json, Map, Value};

use crate::models::pixverse::{
    frame_size, rules, AspectRatio, ImageToVideoV4, Quality, TextToVideoV4,
};
use crate::models::{ModelParameters, ParameterProblem};

use super::parameter_list::parameter_list;
use super::prices::{clip_price, dynamicprice};

/// Which kind of clip a model makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    TextToVideo,
    ImageToVideo,
}

/// A model the emulator can run.
#[derive(Debug)]
pub(crate) struct Model {
    owner: &'static str,
    project: &'static str,
    kind: Kind,
    title: &'static str,
    description: &'static str,
}

/// Every model the emulator runs.
pub(crate) const MODELS: [Model; 2] = [
    Model {
        owner: "PixVerse",
        project: "text-to-video-v4",
        kind: Kind::TextToVideo,
        title: "PixVerse v4 Text to Video",
        description: "A 5 or 8 second video from a text prompt (emulated: a synthetic H.264 clip of the requested size and length).",
    },
    Model {
        owner: "PixVerse",
        project: "image-to-video-v4",
        kind: Kind::ImageToVideo,
        title: "PixVerse v4 Image to Video",
        description: "A 5 or 8 second video that starts from an image (emulated: a synthetic H.264 clip in the image's shape).",
    },
];

/// The model with this slug, matched case-insensitively as Wiro does.
pub(crate) fn find(owner: &str, project: &str) -> Option<&'static Model> {
    MODELS.iter().find(|model| {
        model.owner.eq_ignore_ascii_case(owner) && model.project.eq_ignore_ascii_case(project)
    })
}

/// What a valid Run will make.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub quality: Quality,
    /// `None` for image-to-video: the image decides.
    pub aspect: Option<AspectRatio>,
    pub seconds: u32,
    pub seed: Option<u32>,
    pub prompt: String,
    pub input_image_url: Option<String>,
    /// What a success costs, in dollars.
    pub price: f64,
}

impl Plan {
    /// The frame size for an image of `image` pixels (or 16:9 when unknown).
    pub fn frame_size(&self, image: Option<(u32, u32)>) -> (u32, u32) {
        let aspect = self
            .aspect
            .or_else(|| image.map(|(width, height)| nearest_aspect(width, height)))
            .unwrap_or_default();
        frame_size(self.quality, aspect)
    }
}

/// The aspect ratio closest to `width:height`.
pub(crate) fn nearest_aspect(width: u32, height: u32) -> AspectRatio {
    let wanted = (f64::from(width.max(1)) / f64::from(height.max(1))).ln();
    AspectRatio::ALL
        .iter()
        .copied()
        .min_by(|a, b| {
            let distance = |aspect: AspectRatio| {
                let (w, h) = frame_size(Quality::P360, aspect);
                (f64::from(w) / f64::from(h)).ln() - wanted
            };
            distance(*a).abs().total_cmp(&distance(*b).abs())
        })
        .unwrap_or_default()
}

impl Model {
    /// `Owner/project`.
    pub fn slug(&self) -> String {
        format!("{}/{}", self.owner, self.project)
    }

    /// Checks a Run's model parameters and says what the run will make; `Err` lists every
    /// problem.
    pub fn plan(&self, parameters: &Map<String, Value>) -> Result<Plan, Vec<ParameterProblem>> {
        match self.kind {
            Kind::TextToVideo => {
                let p: TextToVideoV4 = read(parameters, TextToVideoV4::new("x"))?;
                Ok(Plan {
                    quality: p.quality,
                    aspect: Some(p.aspect_ratio),
                    seconds: p.duration.seconds(),
                    seed: p.seed,
                    price: clip_price(p.quality, p.motion_mode, p.duration),
                    prompt: p.prompt,
                    input_image_url: None,
                })
            }
            Kind::ImageToVideo => {
                let p: ImageToVideoV4 = read(
                    parameters,
                    ImageToVideoV4::new("https://example.com/a.png", "x"),
                )?;
                Ok(Plan {
                    quality: p.quality,
                    aspect: None,
                    seconds: p.duration.seconds(),
                    seed: p.seed,
                    price: clip_price(p.quality, p.motion_mode, p.duration),
                    prompt: p.prompt,
                    input_image_url: Some(p.input_image_url),
                })
            }
        }
    }

    /// The Tool/List entry.
    pub fn summary(&self) -> Value {
        json!({
            "id": self.slug(),
            "slugowner": self.owner,
            "slugproject": self.project,
            "cleanslugowner": self.owner.to_ascii_lowercase(),
            "cleanslugproject": self.project,
            "title": self.title,
            "description": self.description,
            "categories": ["video-generation"],
        })
    }

    /// The Tool/Detail entry: the summary, the parameter list and the price tiers.
    pub fn detail(&self) -> Value {
        let (schema, defaults) = match self.kind {
            Kind::TextToVideo => (
                serde_json::to_value(schemars::schema_for!(TextToVideoV4)),
                TextToVideoV4::new("").to_wire(),
            ),
            Kind::ImageToVideo => (
                serde_json::to_value(schemars::schema_for!(ImageToVideoV4)),
                ImageToVideoV4::new("", "").to_wire(),
            ),
        };
        let mut detail = self.summary();
        if let (Value::Object(detail), Ok(schema)) = (&mut detail, schema) {
            detail.insert(
                "parameters".into(),
                Value::Array(parameter_list(&schema, &defaults)),
            );
            detail.insert("dynamicprice".into(), dynamicprice());
        }
        detail
    }
}

/// Reads a wire body into a model's parameters, reporting every problem: each field that
/// cannot be read is tried alone against a valid `base`, then the readable rest is validated.
fn read<M: ModelParameters>(
    parameters: &Map<String, Value>,
    base: M,
) -> Result<M, Vec<ParameterProblem>> {
    let base = serde_json::to_value(&base)
        .ok()
        .and_then(|value| value.as_object().cloned())
        .unwrap_or_default();
    let schema = serde_json::to_value(schemars::schema_for!(M)).unwrap_or(Value::Null);
    let known: Vec<String> = schema["properties"]
        .as_object()
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();

    let mut problems = Vec::new();
    let mut readable = base.clone();
    for name in &required {
        if !parameters.contains_key(*name) {
            problems.push(ParameterProblem::new(
                *name,
                "required",
                "is required; this model cannot run without it",
            ));
        }
    }
    for (name, value) in parameters.iter().filter(|(name, _)| known.contains(name)) {
        let mut probe = base.clone();
        probe.insert(name.clone(), value.clone());
        match serde_json::from_value::<M>(Value::Object(probe)) {
            Ok(_) => {
                readable.insert(name.clone(), value.clone());
            }
            Err(problem) => problems.push(unreadable(name, &problem.to_string())),
        }
    }
    match serde_json::from_value::<M>(Value::Object(readable)) {
        Ok(parsed) => {
            if let Err(found) = parsed.validate() {
                for problem in found {
                    let already = problems.iter().any(|p| p.field == problem.field);
                    if !already {
                        problems.push(problem);
                    }
                }
            }
            if problems.is_empty() {
                Ok(parsed)
            } else {
                Err(problems)
            }
        }
        Err(problem) => {
            problems.push(ParameterProblem::new("body", "type", problem.to_string()));
            Err(problems)
        }
    }
}

/// The problem for a field whose value cannot be read; the models layer's own message is
/// kept (it names the allowed values), without the field name it starts with.
fn unreadable(field: &str, message: &str) -> ParameterProblem {
    let message = message
        .strip_prefix(&format!("{field}: "))
        .unwrap_or(message)
        .to_owned();
    let rule = match field {
        "seed" => rules::RANGE,
        "aspectRatio" | "duration" | "quality" | "motionMode" | "style" => rules::ONE_OF,
        _ => "type",
    };
    ParameterProblem::new(field, rule, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn slugs_match_case_insensitively() {
        assert!(find("pixverse", "TEXT-to-video-v4").is_some());
        assert!(find("PixVerse", "text-to-video-v5").is_none());
    }

    #[test]
    fn a_docs_body_makes_a_plan() {
        let model = find("PixVerse", "text-to-video-v4").unwrap();
        let plan = model
            .plan(&body(
                json!({"prompt": "x", "quality": "1080p", "aspectRatio": "9:16",
                "duration": "5", "seed": "", "Watermark": "false", "style": ""}),
            ))
            .unwrap();
        assert_eq!(plan.frame_size(None), (1080, 1920));
        assert_eq!(plan.seconds, 5);
        assert_eq!(plan.seed, None);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let model = find("PixVerse", "text-to-video-v4").unwrap();
        let problems = model
            .plan(&body(
                json!({"prompt": "y".repeat(2049), "quality": "1080p",
                "duration": "8", "motionMode": "fast", "aspectRatio": "2:1", "seed": "-3"}),
            ))
            .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for field in ["aspectRatio", "seed", "prompt", "duration", "motionMode"] {
            assert!(fields.contains(&field), "{field} missing in {problems:?}");
        }
        let problems = model.plan(&body(json!({"quality": "540p"}))).unwrap_err();
        assert_eq!(problems[0].field, "prompt");
        assert_eq!(problems[0].rule, "required");
    }

    #[test]
    fn image_to_video_follows_the_image_shape() {
        let model = find("pixverse", "image-to-video-v4").unwrap();
        let plan = model
            .plan(&body(
                json!({"prompt": "x", "inputImageUrl": "http://h/a.png", "quality": "360p"}),
            ))
            .unwrap();
        assert_eq!(plan.frame_size(Some((600, 800))), (360, 480));
        assert_eq!(plan.frame_size(None), (640, 360));
        assert_eq!(nearest_aspect(1080, 1920), AspectRatio::Portrait9x16);
    }

    #[test]
    fn tool_detail_lists_each_parameter() {
        let detail = find("PixVerse", "image-to-video-v4").unwrap().detail();
        let parameters = detail["parameters"].as_array().unwrap();
        assert_eq!(parameters[0]["id"], "inputImage");
        assert_eq!(parameters[0]["type"], "fileinput");
        assert_eq!(parameters[0]["required"], true);
        let duration = parameters.iter().find(|p| p["id"] == "duration").unwrap();
        assert_eq!(duration["default"], "5");
        assert_eq!(duration["options"][1]["value"], "8");
        let seed = parameters.iter().find(|p| p["id"] == "seed").unwrap();
        assert_eq!(seed["max"], "2147483647");
    }
}
