//! `PixVerse/text-to-video-v4`: a 5 or 8 second video from a text prompt.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient;
use super::options::{AspectRatio, Duration, MotionMode, Quality, Style};
use super::rules::{self, Known};
use crate::models::{ModelParameters, ParameterProblem};

/// A video made by PixVerse v4 from a text prompt alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "PixVerse v4 text to video", transform = rules::add_to_schema)]
pub struct TextToVideoV4 {
    /// What the video should show: subject, action, scene, camera and mood, in up to 2048 characters.
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

    /// The shape of the frame, width to height.
    #[serde(default)]
    #[schemars(title = "Aspect ratio")]
    pub aspect_ratio: AspectRatio,

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

impl TextToVideoV4 {
    /// A request for `prompt` with every other parameter at its default.
    pub fn new(prompt: impl Into<String>) -> Self {
        Self {
            prompt: prompt.into(),
            negative_prompt: String::new(),
            aspect_ratio: AspectRatio::default(),
            duration: Duration::default(),
            quality: Quality::default(),
            motion_mode: MotionMode::default(),
            style: None,
            seed: None,
            watermark: false,
        }
    }
}

impl ModelParameters for TextToVideoV4 {
    const SLUG: &'static str = "PixVerse/text-to-video-v4";

    fn validate(&self) -> Result<(), Vec<ParameterProblem>> {
        let known = Known {
            quality: Some(self.quality),
            duration: Some(self.duration),
            motion_mode: Some(self.motion_mode),
        };
        let problems = rules::check_shared(&self.prompt, &self.negative_prompt, self.seed, known);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn to_wire(&self) -> Map<String, Value> {
        let fields = [
            ("prompt", self.prompt.clone()),
            ("negativePrompt", self.negative_prompt.clone()),
            ("aspectRatio", self.aspect_ratio.to_string()),
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

    fn parse(input: Value) -> TextToVideoV4 {
        serde_json::from_value(input).unwrap()
    }

    fn rules_of(problems: &[ParameterProblem]) -> Vec<(&str, &str)> {
        problems
            .iter()
            .map(|p| (p.field.as_str(), p.rule))
            .collect()
    }

    fn schema_validator() -> jsonschema::Validator {
        let schema = serde_json::to_value(schemars::schema_for!(TextToVideoV4)).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    }

    #[test]
    fn a_prompt_alone_gets_every_default() {
        let params = parse(json!({ "prompt": "a fox in snow" }));
        assert_eq!(params, TextToVideoV4::new("a fox in snow"));
        assert_eq!(params.aspect_ratio, AspectRatio::Landscape16x9);
        assert_eq!(params.duration, Duration::Seconds5);
        assert_eq!(params.quality, Quality::P540);
        assert_eq!(params.motion_mode, MotionMode::Normal);
        assert_eq!(
            (params.style, params.seed, params.watermark),
            (None, None, false)
        );
        assert_eq!(params.validate(), Ok(()));
    }

    #[test]
    fn a_wire_body_of_strings_reads_the_same_as_native_json() {
        let wire = parse(json!({
            "prompt": "a fox in snow", "negativePrompt": "", "aspectRatio": "9:16",
            "duration": "5", "quality": "720p", "motionMode": "fast", "style": "",
            "seed": "", "Watermark": "false", "callbackUrl": "https://example.com/hook"
        }));
        let native = parse(json!({
            "prompt": "a fox in snow", "aspectRatio": "9:16", "duration": 5,
            "quality": "720p", "motionMode": "fast", "style": null, "seed": null,
            "Watermark": false
        }));
        assert_eq!(wire, native);

        let wire = parse(json!({
            "prompt": "p", "duration": "8", "seed": "123", "Watermark": "true", "style": "clay"
        }));
        assert_eq!(wire.duration, Duration::Seconds8);
        assert_eq!(wire.seed, Some(123));
        assert!(wire.watermark);
        assert_eq!(wire.style, Some(Style::Clay));
    }

    #[test]
    fn unknown_values_are_errors_that_name_the_field() {
        for (input, field) in [
            (
                json!({ "prompt": "p", "duration": "10" }),
                "duration: \"10\"",
            ),
            (json!({ "prompt": "p", "quality": "4k" }), "quality: \"4k\""),
            (json!({ "prompt": "p", "style": "noir" }), "style: \"noir\""),
            (json!({ "prompt": "p", "seed": "abc" }), "seed: \"abc\""),
            (json!({ "prompt": "p", "seed": -1 }), "seed: -1"),
            (
                json!({ "prompt": "p", "Watermark": "yes" }),
                "Watermark: \"yes\"",
            ),
        ] {
            let err = serde_json::from_value::<TextToVideoV4>(input)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(field), "{err}");
        }
        let err =
            serde_json::from_value::<TextToVideoV4>(json!({ "prompt": "p", "style": "noir" }))
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("anime, 3d_animation, clay, comic, cyberpunk"),
            "{err}"
        );
    }

    #[test]
    fn serializing_gives_native_json_forms() {
        let mut params = TextToVideoV4::new("p");
        params.seed = Some(7);
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({
                "prompt": "p", "negativePrompt": "", "aspectRatio": "16:9", "duration": 5,
                "quality": "540p", "motionMode": "normal", "style": null, "seed": 7,
                "Watermark": false
            })
        );
    }

    #[test]
    fn the_wire_form_is_all_strings() {
        let wire = TextToVideoV4::new("a fox").to_wire();
        assert_eq!(
            Value::Object(wire),
            json!({
                "prompt": "a fox", "negativePrompt": "", "aspectRatio": "16:9", "duration": "5",
                "quality": "540p", "motionMode": "normal", "style": "", "seed": "",
                "Watermark": "false"
            })
        );

        let mut params = TextToVideoV4::new("a fox");
        params.style = Some(Style::Animation3d);
        params.seed = Some(42);
        params.watermark = true;
        params.duration = Duration::Seconds8;
        let wire = params.to_wire();
        assert!(wire.values().all(Value::is_string));
        assert_eq!(wire["style"], "3d_animation");
        assert_eq!(wire["seed"], "42");
        assert_eq!(wire["Watermark"], "true");
        assert_eq!(wire["duration"], "8");
        // The wire form reads back to the same parameters.
        assert_eq!(parse(Value::Object(wire)), params);
    }

    #[test]
    fn each_cross_field_rule_is_rejected_with_its_field_rule_and_value() {
        let cases = [
            (
                Quality::P1080,
                Duration::Seconds8,
                MotionMode::Normal,
                "duration",
                rules::MAX_5S_AT_1080P,
                "8 s",
            ),
            (
                Quality::P1080,
                Duration::Seconds5,
                MotionMode::Fast,
                "motionMode",
                rules::NOT_FAST_AT_1080P,
                "fast",
            ),
            (
                Quality::P720,
                Duration::Seconds8,
                MotionMode::Fast,
                "duration",
                rules::FAST_NEEDS_5S,
                "8 s",
            ),
        ];
        for (quality, duration, motion_mode, field, rule, value) in cases {
            let mut params = TextToVideoV4::new("p");
            (params.quality, params.duration, params.motion_mode) =
                (quality, duration, motion_mode);
            let problems = params.validate().unwrap_err();
            assert_eq!(rules_of(&problems), [(field, rule)]);
            assert!(problems[0].message.contains(value), "{}", problems[0]);
        }
        let mut params = TextToVideoV4::new("p");
        (params.quality, params.duration) = (Quality::P1080, Duration::Seconds8);
        assert_eq!(
            params.validate().unwrap_err()[0].to_string(),
            "duration: 8 s is not available at 1080p (PixVerse allows only 5 s at 1080p); \
             choose 5 s or a lower quality"
        );
    }

    #[test]
    fn validation_does_not_rewrite_the_choice() {
        let mut params = TextToVideoV4::new("p");
        (params.quality, params.duration) = (Quality::P1080, Duration::Seconds8);
        let before = params.clone();
        let _ = params.validate();
        assert_eq!(params, before);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let params = parse(json!({
            "prompt": "", "negativePrompt": "x".repeat(2049), "quality": "1080p",
            "duration": 8, "motionMode": "fast", "seed": 2147483648u64
        }));
        let problems = params.validate().unwrap_err();
        assert_eq!(
            rules_of(&problems),
            [
                ("prompt", rules::MIN_LENGTH),
                ("negativePrompt", rules::MAX_LENGTH),
                ("seed", rules::RANGE),
                ("duration", rules::MAX_5S_AT_1080P),
                ("motionMode", rules::NOT_FAST_AT_1080P),
                ("duration", rules::FAST_NEEDS_5S),
            ]
        );
        assert!(problems[2].message.contains("2147483648"));
    }

    #[test]
    fn the_schema_is_valid_json_schema_2020_12() {
        let schema = serde_json::to_value(schemars::schema_for!(TextToVideoV4)).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        jsonschema::draft202012::meta::validate(&schema).unwrap();
    }

    #[test]
    fn the_schema_describes_each_field_for_a_form() {
        let schema = serde_json::to_value(schemars::schema_for!(TextToVideoV4)).unwrap();
        let props = &schema["properties"];
        assert_eq!(schema["required"], json!(["prompt"]));
        assert_eq!(props["duration"]["type"], "integer");
        assert_eq!(props["duration"]["enum"], json!([5, 8]));
        assert_eq!(props["duration"]["default"], 5);
        assert_eq!(
            props["quality"]["enum"],
            json!(["360p", "540p", "720p", "1080p"])
        );
        assert_eq!(props["quality"]["default"], "540p");
        assert_eq!(props["aspectRatio"]["default"], "16:9");
        assert_eq!(props["motionMode"]["default"], "normal");
        assert_eq!(props["Watermark"]["default"], false);
        assert_eq!(props["prompt"]["maxLength"], 2048);
        assert_eq!(props["prompt"]["minLength"], 1);
        assert_eq!(props["prompt"]["x-ui-widget"], "textarea");
        assert_eq!(props["negativePrompt"]["x-ui-widget"], "textarea");
        assert_eq!(props["seed"]["minimum"], 0);
        assert_eq!(props["seed"]["maximum"], 2147483647);
        assert!(props["prompt"]["description"].is_string());
        assert_eq!(schema["allOf"].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn the_schema_alone_accepts_valid_input_and_rejects_each_rule_break() {
        let validator = schema_validator();
        for valid in [
            json!({ "prompt": "a fox" }),
            json!({ "prompt": "a fox", "quality": "1080p" }),
            json!({ "prompt": "a fox", "duration": 8 }),
            json!({ "prompt": "a fox", "motionMode": "fast", "quality": "720p" }),
            json!({ "prompt": "é".repeat(2048), "seed": 2147483647, "style": "anime" }),
            json!({ "prompt": "a fox", "seed": null, "style": null }),
        ] {
            assert!(validator.is_valid(&valid), "{valid}");
        }
        for invalid in [
            json!({ "prompt": "a fox", "quality": "1080p", "duration": 8 }),
            json!({ "prompt": "a fox", "quality": "1080p", "motionMode": "fast" }),
            json!({ "prompt": "a fox", "motionMode": "fast", "duration": 8 }),
            json!({ "prompt": "x".repeat(2049) }),
            json!({ "prompt": "a fox", "seed": 2147483648u64 }),
            json!({ "prompt": "" }),
            json!({ "prompt": "a fox", "duration": 6 }),
            json!({ "negativePrompt": "no prompt" }),
        ] {
            assert!(!validator.is_valid(&invalid), "{invalid}");
        }
    }
}
