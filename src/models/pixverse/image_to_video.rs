//! `PixVerse/image-to-video-v4`: a 5 or 8 second video that starts from an image.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient;
use super::options::{Duration, MotionMode, Quality, Style};
use super::rules::{self, Known};
use crate::models::{ModelParameters, ParameterProblem};

/// A video made by PixVerse v4 that starts from an image; the image decides the aspect ratio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "PixVerse v4 image to video", transform = rules::add_to_schema)]
pub struct ImageToVideoV4 {
    /// The first frame of the video: a public http(s) URL of an image, such as the url a file upload returns.
    #[schemars(
        title = "Input image URL",
        url,
        pattern(r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+\S*$")
    )]
    pub input_image_url: String,

    /// What should happen in the video: action, camera and mood, in up to 2048 characters.
    #[schemars(
        title = "Prompt",
        length(min = 1, max = rules::MAX_PROMPT_CHARS),
        extend("x-ui-widget" = "textarea")
    )]
    pub prompt: String,

    /// What the video should avoid, e.g. "blurry, text, watermark"; up to 2048 characters. Empty for nothing.
    #[serde(default)]
    #[schemars(
        title = "Negative prompt",
        length(max = rules::MAX_PROMPT_CHARS),
        extend("x-ui-widget" = "textarea")
    )]
    pub negative_prompt: String,

    /// Length of the video in seconds. 8 s is not available at 1080p or with fast motion.
    #[serde(default)]
    #[schemars(title = "Duration (seconds)")]
    pub duration: Duration,

    /// Resolution of the video; 360p is the fast "Turbo" quality. 1080p allows only 5 s and normal motion.
    #[serde(default)]
    #[schemars(title = "Quality")]
    pub quality: Quality,

    /// How fast things move. Fast motion allows only 5 s and is not available at 1080p.
    #[serde(default)]
    #[schemars(title = "Motion mode")]
    pub motion_mode: MotionMode,

    /// A visual style for the whole video; empty for none.
    #[serde(default, deserialize_with = "lenient::style")]
    #[schemars(title = "Style")]
    pub style: Option<Style>,

    /// The same seed with the same settings gives a similar video; empty for a random seed.
    #[serde(default, deserialize_with = "lenient::seed")]
    #[schemars(title = "Seed", range(max = rules::MAX_SEED))]
    pub seed: Option<u32>,

    /// Whether PixVerse puts its watermark on the video.
    #[serde(rename = "Watermark", default, deserialize_with = "lenient::watermark")]
    #[schemars(title = "Watermark")]
    pub watermark: bool,
}

impl ImageToVideoV4 {
    /// A request to animate the image at `input_image_url` as `prompt` says, every other
    /// parameter at its default.
    pub fn new(input_image_url: impl Into<String>, prompt: impl Into<String>) -> Self {
        Self {
            input_image_url: input_image_url.into(),
            prompt: prompt.into(),
            negative_prompt: String::new(),
            duration: Duration::default(),
            quality: Quality::default(),
            motion_mode: MotionMode::default(),
            style: None,
            seed: None,
            watermark: false,
        }
    }
}

impl ModelParameters for ImageToVideoV4 {
    const SLUG: &'static str = "PixVerse/image-to-video-v4";

    fn validate(&self) -> Result<(), Vec<ParameterProblem>> {
        let mut problems = Vec::new();
        rules::check_http_url("inputImageUrl", &self.input_image_url, &mut problems);
        let known = Known {
            quality: Some(self.quality),
            duration: Some(self.duration),
            motion_mode: Some(self.motion_mode),
        };
        problems.extend(rules::check_shared(
            &self.prompt,
            &self.negative_prompt,
            self.seed,
            known,
        ));
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn to_wire(&self) -> Map<String, Value> {
        let fields = [
            ("inputImageUrl", self.input_image_url.clone()),
            ("prompt", self.prompt.clone()),
            ("negativePrompt", self.negative_prompt.clone()),
            ("duration", self.duration.to_string()),
            ("quality", self.quality.to_string()),
            ("motionMode", self.motion_mode.to_string()),
            (
                "style",
                self.style.map(|s| s.to_string()).unwrap_or_default(),
            ),
            ("seed", self.seed.map(|s| s.to_string()).unwrap_or_default()),
            ("Watermark", self.watermark.to_string()),
        ];
        fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Value::String(value)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const IMAGE: &str = "https://cdn1.wiro.ai/uploads/cat.png";

    #[test]
    fn an_image_and_a_prompt_get_every_default() {
        let params: ImageToVideoV4 =
            serde_json::from_value(json!({ "inputImageUrl": IMAGE, "prompt": "the cat yawns" }))
                .unwrap();
        assert_eq!(params, ImageToVideoV4::new(IMAGE, "the cat yawns"));
        assert_eq!(params.validate(), Ok(()));
    }

    #[test]
    fn a_wire_body_reads_and_the_wire_form_is_all_strings() {
        let body = json!({
            "inputImageUrl": IMAGE, "prompt": "the cat yawns", "negativePrompt": "",
            "duration": "8", "quality": "720p", "motionMode": "normal", "style": "",
            "seed": "99", "Watermark": "false"
        });
        let params: ImageToVideoV4 = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(params.duration, Duration::Seconds8);
        assert_eq!(params.seed, Some(99));
        assert_eq!(Value::Object(params.to_wire()), body);
    }

    #[test]
    fn a_file_path_is_not_an_image_url() {
        let params = ImageToVideoV4::new("/home/me/cat.png", "the cat yawns");
        let problems = params.validate().unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(
            (problems[0].field.as_str(), problems[0].rule),
            ("inputImageUrl", rules::URL)
        );
        assert!(problems[0].message.contains("/home/me/cat.png"));
    }

    #[test]
    fn the_cross_field_rules_hold_and_every_problem_is_reported() {
        let mut params = ImageToVideoV4::new("cat.png", "");
        (params.quality, params.motion_mode) = (Quality::P1080, MotionMode::Fast);
        let problems = params.validate().unwrap_err();
        let rules: Vec<_> = problems.iter().map(|p| p.rule).collect();
        assert_eq!(
            rules,
            [rules::URL, rules::MIN_LENGTH, rules::NOT_FAST_AT_1080P]
        );
    }

    #[test]
    fn the_schema_has_no_aspect_ratio_and_carries_the_rules() {
        let schema = serde_json::to_value(schemars::schema_for!(ImageToVideoV4)).unwrap();
        jsonschema::draft202012::meta::validate(&schema).unwrap();
        assert_eq!(schema["required"], json!(["inputImageUrl", "prompt"]));
        assert_eq!(schema["properties"]["inputImageUrl"]["format"], "uri");
        assert!(schema["properties"].get("aspectRatio").is_none());

        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(validator.is_valid(&json!({ "inputImageUrl": IMAGE, "prompt": "p" })));
        assert!(!validator.is_valid(
            &json!({ "inputImageUrl": IMAGE, "prompt": "p", "quality": "1080p", "duration": 8 })
        ));
        for not_a_url in [
            "cat.png",
            "/home/me/cat.png",
            "ftp://example.com/cat.png",
            "https://",
        ] {
            let input = json!({ "inputImageUrl": not_a_url, "prompt": "p" });
            assert!(!validator.is_valid(&input), "{not_a_url}");
        }
    }
}
