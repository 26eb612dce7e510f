//! What one Run of a described model makes ([`OutputPlan`]): how many files, how big, how
//! long, from which seed, read off its `emulated` rules and the Run's parameters (defaults
//! from Tool/Detail filling the gaps). Values outside what the media encoders take are
//! clamped: the Run route's checks refuse them first, this only keeps a run from failing.

use serde_json::{Map, Value};

use super::super::described::{EmulatedModel, OutputKind};
use super::super::media::png::MAX_SIDE;

/// Most images one run makes.
const MAX_COUNT: u32 = 16;
/// Longest clip one run makes (the described models ask for at most 10 s).
const MAX_VIDEO_SECONDS: u32 = 60;
/// Reading speed of the emulated voice.
const CHARACTERS_PER_SECOND: f64 = 15.0;
/// The video size when nothing decides it.
const DEFAULT_VIDEO: [u32; 2] = [960, 540];
/// The image size when nothing decides it.
const DEFAULT_IMAGE: [u32; 2] = [1024, 1024];

/// What one Run makes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutputPlan {
    /// Video, images, audio or text.
    pub kind: OutputKind,
    /// How many files (images); 1 for the other kinds.
    pub count: u32,
    /// Pixel size of an image or video frame (0 for sound and text).
    pub width: u32,
    pub height: u32,
    /// Length of a video or sound (0 for images and text).
    pub seconds: f64,
    /// Picks the picture or the pitch; equal seeds give equal files.
    pub seed: u64,
    /// The prompt (or the text read aloud), for the text answer.
    pub prompt: String,
}

impl EmulatedModel {
    /// What a Run with these parameters makes; `fallback_seed` when the Run sets none (the
    /// task id makes a good one: a task's files never change).
    pub fn plan(&self, parameters: &Map<String, Value>, fallback_seed: u64) -> OutputPlan {
        let rules = &self.emulated;
        let number = |id: &Option<String>| id.as_deref().and_then(|id| self.number(parameters, id));
        let seed = rules
            .seed
            .as_deref()
            .and_then(|id| self.value(parameters, id)?.parse::<u64>().ok())
            .unwrap_or(fallback_seed);
        let mut plan = OutputPlan {
            kind: rules.kind,
            count: 1,
            width: 0,
            height: 0,
            seconds: 0.0,
            seed,
            prompt: self.prompt(parameters),
        };
        match rules.kind {
            OutputKind::Video => {
                let (width, height) = self.video_size(parameters);
                plan.width = width;
                plan.height = height;
                let seconds = number(&rules.seconds).unwrap_or(5.0).round();
                plan.seconds = f64::from(clamp(seconds, 1, MAX_VIDEO_SECONDS));
            }
            OutputKind::Images => {
                let [default_width, default_height] = rules.default_size.unwrap_or(DEFAULT_IMAGE);
                let scale = number(&rules.scale).unwrap_or(1.0);
                let side = |id: &Option<String>, default: u32| {
                    let pixels = number(id).unwrap_or(f64::from(default)) * scale;
                    clamp(pixels.round(), 1, MAX_SIDE)
                };
                plan.width = side(&rules.width, default_width);
                plan.height = side(&rules.height, default_height);
                plan.count = clamp(number(&rules.count).unwrap_or(1.0).round(), 1, MAX_COUNT);
            }
            OutputKind::Audio => {
                let seconds = match rules.seconds_from_text.as_deref() {
                    Some(id) => {
                        let text = self.value(parameters, id).unwrap_or_default();
                        text.chars().count() as f64 / CHARACTERS_PER_SECOND
                    }
                    None => number(&rules.seconds).unwrap_or(5.0),
                };
                let speed = number(&rules.speed)
                    .filter(|speed| *speed > 0.0)
                    .unwrap_or(1.0);
                // At least half a second: an empty text still makes a file that plays.
                plan.seconds = (seconds / speed).clamp(0.5, super::super::media::wav::MAX_SECONDS);
            }
            OutputKind::Text => {}
        }
        plan
    }

    /// A video frame size: the quality's short side in the aspect ratio's shape, both sides
    /// even (H.264 needs it).
    fn video_size(&self, parameters: &Map<String, Value>) -> (u32, u32) {
        let rules = &self.emulated;
        let [default_width, default_height] = rules.default_size.unwrap_or(DEFAULT_VIDEO);
        let short = rules
            .quality
            .as_deref()
            .and_then(|id| self.value(parameters, id))
            .and_then(|quality| quality.trim_end_matches(['p', 'P']).parse::<f64>().ok());
        let aspect = rules
            .aspect
            .as_deref()
            .and_then(|id| self.value(parameters, id))
            .and_then(|aspect| {
                let (w, h) = aspect.split_once(':')?;
                Some((w.trim().parse::<f64>().ok()?, h.trim().parse::<f64>().ok()?))
            })
            .filter(|(w, h)| *w > 0.0 && *h > 0.0)
            .unwrap_or((f64::from(default_width), f64::from(default_height)));
        let short = short.unwrap_or_else(|| f64::from(default_width.min(default_height)));
        let (w, h) = aspect;
        let (width, height) = if w >= h {
            (short * w / h, short)
        } else {
            (short, short * h / w)
        };
        let even = |side: f64, most: u32| clamp((side / 2.0).round() * 2.0, 16, most) & !1;
        if width >= height {
            (even(width, 3840), even(height, 2160))
        } else {
            (even(width, 2160), even(height, 3840))
        }
    }
}

/// A rounded, finite number as `u32` within `least..=most`.
fn clamp(value: f64, least: u32, most: u32) -> u32 {
    if value.is_nan() {
        return least;
    }
    // Within u32 after the clamp, so the cast is exact.
    value.clamp(f64::from(least), f64::from(most)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use super::super::super::described::named as model;

    fn run(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn a_video_takes_its_size_from_quality_and_aspect_and_its_length_from_duration() {
        let v5 = model("PixVerse", "text-to-video-v5");
        let plan = v5.plan(&run(json!({"prompt": "x"})), 9);
        assert_eq!((plan.width, plan.height, plan.seconds), (960, 540, 5.0));
        assert_eq!(plan.seed, 9);
        let plan = v5.plan(
            &run(
                json!({"prompt": "x", "quality": "1080p", "aspectRatio": "9:16",
                "duration": "8", "seed": "42"}),
            ),
            9,
        );
        assert_eq!((plan.width, plan.height, plan.seconds), (1080, 1920, 8.0));
        assert_eq!(plan.seed, 42);
        let plan = v5.plan(&run(json!({"quality": "360p", "aspectRatio": "4:3"})), 0);
        assert_eq!((plan.width, plan.height), (480, 360));
        let frames = model("acme-labs", "frames-to-video");
        let plan = frames.plan(&run(json!({"duration": 3})), 0);
        assert_eq!((plan.width, plan.height, plan.seconds), (960, 540, 3.0));
    }

    #[test]
    fn images_count_and_size_come_from_their_parameters() {
        let studio = model("wiro", "image-studio");
        let plan = studio.plan(&run(json!({"prompt": "x"})), 1);
        assert_eq!((plan.count, plan.width, plan.height), (2, 1024, 1024));
        let plan = studio.plan(
            &run(json!({"numberOfOutputs": "4", "width": "512", "height": 9000})),
            1,
        );
        assert_eq!((plan.count, plan.width, plan.height), (4, 512, MAX_SIDE));
        let upscaler = model("wiro", "legacy-upscaler");
        let plan = upscaler.plan(&run(json!({"scale": "4"})), 1);
        assert_eq!((plan.count, plan.width, plan.height), (1, 1536, 1536));
        assert_eq!(upscaler.plan(&run(json!({})), 1).width, 1024);
    }

    #[test]
    fn speech_lasts_as_long_as_reading_the_text() {
        let speech = model("wiro", "speech");
        let text = "a".repeat(45);
        assert_eq!(speech.plan(&run(json!({"text": text})), 1).seconds, 3.0);
        let plan = speech.plan(&run(json!({"text": text, "speed": "1.5"})), 1);
        assert!((plan.seconds - 2.0).abs() < 1e-9);
        assert_eq!(speech.plan(&run(json!({"text": ""})), 1).seconds, 0.5);
    }
}
