//! The models the emulator describes as data: the crate's built-in models
//! ([`crate::models::builtin`], PixVerse v4) and one JSON file per model under `models/`, each
//! `{"tool": MODEL, "emulated": EMULATED}`. `tool` is the object Tool/Detail answers, word for
//! word, with the real API's loose typing kept on purpose (numbers as strings, `required` as
//! `"true"`, `dynamicprice` as an array or as a string holding one, untranslated labels,
//! `parameters: null`) so clients are tested against it. `emulated` says what a Run makes
//! ([`Emulated`]), read into a typed struct so a misspelt rule fails a test, not a run.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The embedded model files, in the order Tool/List shows them.
const FILES: [(&str, &str); 9] = [
    (
        "pixverse-text-to-video-v5",
        include_str!("models/pixverse-text-to-video-v5.json"),
    ),
    (
        "acme-labs-frames-to-video",
        include_str!("models/acme-labs-frames-to-video.json"),
    ),
    (
        "wiro-image-studio",
        include_str!("models/wiro-image-studio.json"),
    ),
    ("wiro-collage", include_str!("models/wiro-collage.json")),
    (
        "wiro-storyboard-video",
        include_str!("models/wiro-storyboard-video.json"),
    ),
    ("wiro-speech", include_str!("models/wiro-speech.json")),
    ("wiro-chat", include_str!("models/wiro-chat.json")),
    (
        "wiro-legacy-upscaler",
        include_str!("models/wiro-legacy-upscaler.json"),
    ),
    (
        "wiro-unpublished",
        include_str!("models/wiro-unpublished.json"),
    ),
];

/// What a Run of a model makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OutputKind {
    /// One H.264 MP4.
    Video,
    /// One or more PNG files.
    Images,
    /// One WAV file.
    Audio,
    /// A text answer in `outputs[0].content.message`, no file.
    Text,
}

/// How the emulator makes a model's outputs: which Run parameters decide how many, how big
/// and how long. Every field but `kind` names a parameter (its value on the Run, else its
/// Tool/Detail `default`) or gives a fallback.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Emulated {
    /// What a Run makes.
    pub kind: OutputKind,
    /// The parameter holding the number of images (one when absent).
    #[serde(default)]
    pub count: Option<String>,
    /// The parameters holding an image's width and height in pixels.
    #[serde(default)]
    pub width: Option<String>,
    #[serde(default)]
    pub height: Option<String>,
    /// A video's quality (`540p`: the short side) and aspect ratio (`16:9`).
    #[serde(default)]
    pub quality: Option<String>,
    #[serde(default)]
    pub aspect: Option<String>,
    /// The size when no parameter decides it, `[width, height]`.
    #[serde(default)]
    pub default_size: Option<[u32; 2]>,
    /// A factor the size is multiplied by (an upscaler's `scale`).
    #[serde(default)]
    pub scale: Option<String>,
    /// The parameter holding a video's or sound's length in seconds.
    #[serde(default)]
    pub seconds: Option<String>,
    /// The parameter whose text is read aloud: its length decides the seconds.
    #[serde(default)]
    pub seconds_from_text: Option<String>,
    /// A reading speed the seconds are divided by.
    #[serde(default)]
    pub speed: Option<String>,
    /// The parameter holding the seed (else the caller's fallback seed).
    #[serde(default)]
    pub seed: Option<String>,
    /// The parameter holding the prompt: a text answer is built from it, `[emulator:fail]`
    /// in it fails the task, and `[emulator:slow]` makes it run 100 times slower.
    #[serde(default)]
    pub prompt: Option<String>,
    /// The parameter holding an input image whose shape, the nearest of `aspects`, decides
    /// a video's aspect ratio (given to the plan as its `aspect` parameter).
    #[serde(default)]
    pub image: Option<String>,
    /// The aspect ratios (`"16:9"`, ...) an input image's shape is matched to.
    #[serde(default)]
    pub aspects: Vec<String>,
}

/// A model described as data: its Tool/Detail object and how the emulator runs it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct EmulatedModel {
    /// The MODEL object of Tool/Detail, as served.
    pub tool: Map<String, Value>,
    /// How a Run's outputs are made.
    pub emulated: Emulated,
}

/// The described model named `owner/project` (raw or clean slugs, any case), for tests.
#[cfg(test)]
pub(crate) fn named(owner: &str, project: &str) -> &'static EmulatedModel {
    described()
        .iter()
        .find(|model| model.is_named(owner, project))
        .unwrap_or_else(|| panic!("no described model {owner}/{project}"))
}

/// The models of the built-in and the embedded files. A file that does not read is left out and logged; the
/// tests read every one, so that never ships.
pub(crate) fn described() -> &'static [EmulatedModel] {
    static MODELS: std::sync::OnceLock<Vec<EmulatedModel>> = std::sync::OnceLock::new();
    MODELS.get_or_init(|| {
        crate::models::builtin::FILES
            .iter()
            .chain(&FILES)
            .filter_map(|(name, text)| match serde_json::from_str(text) {
                Ok(model) => Some(model),
                Err(problem) => {
                    tracing::error!(%problem, "the emulator's model file {name}.json does not read");
                    None
                }
            })
            .collect()
    })
}

impl EmulatedModel {
    /// A string field of `tool` (empty when absent).
    pub fn field(&self, name: &str) -> &str {
        self.tool
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The raw slug, `slugowner/slugproject` (may hold capitals and spaces).
    pub fn slug(&self) -> String {
        format!("{}/{}", self.field("slugowner"), self.field("slugproject"))
    }

    /// Whether `owner`/`project` name this model: raw or clean slugs, any letter case.
    pub fn is_named(&self, owner: &str, project: &str) -> bool {
        let fits = |given: &str, raw: &str, clean: &str| {
            given.eq_ignore_ascii_case(raw) || given.eq_ignore_ascii_case(clean)
        };
        fits(owner, self.field("slugowner"), self.field("cleanslugowner"))
            && fits(
                project,
                self.field("slugproject"),
                self.field("cleanslugproject"),
            )
    }

    /// The Tool/List entry: the model without its parameters, readme and samples.
    pub fn summary(&self) -> Value {
        let mut summary = self.tool.clone();
        for detail_only in ["parameters", "readme", "inspire", "samples"] {
            summary.remove(detail_only);
        }
        Value::Object(summary)
    }

    /// The Tool/Detail entry.
    pub fn detail(&self) -> Value {
        Value::Object(self.tool.clone())
    }

    /// The parameter items of every group (none when `parameters` is `null`).
    pub fn items(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.tool
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|group| group.get("items")?.as_array())
            .flatten()
            .filter_map(Value::as_object)
    }

    /// The parameter item with this id.
    pub fn item(&self, id: &str) -> Option<&Map<String, Value>> {
        self.items()
            .find(|item| item.get("id").and_then(Value::as_str) == Some(id))
    }

    /// A parameter's value as text: the Run's, else its Tool/Detail default; `None` when
    /// both are empty.
    pub fn value(&self, parameters: &Map<String, Value>, id: &str) -> Option<String> {
        parameters
            .get(id)
            .and_then(as_text)
            .or_else(|| self.item(id)?.get("default").and_then(as_text))
    }

    /// A parameter's value as a number (see [`Self::value`]).
    pub fn number(&self, parameters: &Map<String, Value>, id: &str) -> Option<f64> {
        self.value(parameters, id)?
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
    }

    /// The Run's prompt (empty when the model has none).
    pub fn prompt(&self, parameters: &Map<String, Value>) -> String {
        self.emulated
            .prompt
            .as_deref()
            .and_then(|id| self.value(parameters, id))
            .unwrap_or_default()
    }
}

/// A JSON value as trimmed text: strings, numbers and booleans, an array's items joined by
/// commas; `None` for empty text, `null` and objects.
pub(crate) fn as_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Array(items) => items
            .iter()
            .filter_map(as_text)
            .collect::<Vec<_>>()
            .join(","),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::wire::ModelDetail;
    use serde_json::json;

    #[test]
    fn every_file_reads_and_the_client_reads_every_detail() {
        assert_eq!(
            described().len(),
            crate::models::builtin::FILES.len() + FILES.len()
        );
        for model in described() {
            let detail = json!({"result": true, "errors": [], "tool": [model.detail()]});
            let read = ModelDetail::from_answer(&model.slug(), &detail)
                .unwrap_or_else(|problem| panic!("{}: {problem}", model.slug()));
            let items = model.items().count();
            assert_eq!(read.parameters.len(), items, "{}", model.slug());
            assert!(model.summary().get("parameters").is_none());
        }
    }

    #[test]
    fn the_api_traps_are_there() {
        let find = named;
        let frames = find("ACME-LABS", "Frames To Video");
        assert_eq!(frames.slug(), "Acme Labs/frames to video");
        assert!(find("acme labs", "frames-to-video").is_named("acme-labs", "frames-to-video"));
        assert_eq!(frames.item("firstFrame").unwrap()["required"], "true");
        assert_eq!(frames.tool["cps"], "0.012");
        assert!(frames.tool.get("dynamicprice").is_none());

        let v5 = find("pixverse", "text-to-video-v5");
        assert!(v5.tool["dynamicprice"].is_array());
        let aspect = v5.item("aspectRatio").unwrap();
        assert_eq!(aspect["type"], "selectwithcover");
        assert!(aspect["options"][0]["cover"].is_string());
        assert_eq!(v5.item("seed").unwrap()["max"], "2147483647");

        let studio = find("wiro", "image-studio");
        assert!(studio.tool["dynamicprice"].is_string());
        assert_eq!(
            studio.item("numberOfOutputs").unwrap()["note"],
            "numberofoutputs-help"
        );
        assert_eq!(studio.item("tint").unwrap()["type"], "colorpicker");
        assert_eq!(
            find("wiro", "speech").item("voice").unwrap()["label"],
            "select-voice"
        );
        assert!(find("wiro", "unpublished").tool["parameters"].is_null());
        assert_eq!(find("wiro", "unpublished").items().count(), 0);
    }

    #[test]
    fn values_fall_back_to_the_published_defaults() {
        let studio = described()
            .iter()
            .find(|model| model.is_named("wiro", "image-studio"))
            .unwrap();
        let run = json!({"width": 512, "prompt": "  a cat "});
        let run = run.as_object().unwrap();
        assert_eq!(studio.number(run, "width"), Some(512.0));
        assert_eq!(studio.number(run, "height"), Some(1024.0));
        assert_eq!(studio.value(run, "tint").as_deref(), Some("#336699"));
        assert_eq!(studio.prompt(run), "a cat");
        assert_eq!(as_text(&json!(["a", "b"])).as_deref(), Some("a,b"));
    }
}
