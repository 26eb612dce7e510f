//! What a running task makes: a model's outputs (by `outputs`), planned from its Run's
//! typed inputs. The work starts when the task reaches `task_start`, runs beside the task's
//! log lines (stopped if the task is killed) and is stored under `/cdn` only when the task
//! ends, so a killed task leaves no file behind.

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio_util::task::AbortOnDropHandle;

use crate::api::wire::OutputFile;

use super::described::{EmulatedModel, OutputKind};
use super::image_size::dimensions;
use super::outputs::{render, store_outputs, MadeOutput, FPS};
use super::state::Shared;

/// What a task was asked to make: the outputs of a model, from the Run's typed inputs.
#[derive(Debug, Clone)]
pub(crate) struct Work {
    pub model: Arc<EmulatedModel>,
    pub inputs: Map<String, Value>,
}

/// What the work made, not yet stored.
pub(crate) type Made = Vec<MadeOutput>;

/// Work in progress: dropping it stops it (a clip another task waits for is not affected:
/// the clip cache's cell is shared, not this task).
pub(crate) type Making = AbortOnDropHandle<Result<Made, String>>;

impl Work {
    /// The work of a Run of `model`. A model whose clip takes the shape of an input image
    /// (`emulated.image`, PixVerse v4's image-to-video) gets that image's aspect ratio, the
    /// nearest of `emulated.aspects`, as the aspect parameter its plan reads; an image this
    /// emulator does not hold leaves the default shape.
    pub fn new(shared: &Shared, model: Arc<EmulatedModel>, mut inputs: Map<String, Value>) -> Self {
        let rules = &model.emulated;
        if let (Some(image), Some(aspect)) = (&rules.image, &rules.aspect) {
            let shape = inputs
                .get(image)
                .and_then(Value::as_str)
                .and_then(|url| shared.file_by_url(url))
                .and_then(|file| file.body.in_memory().and_then(|bytes| dimensions(bytes)));
            if let Some(nearest) = shape.and_then(|shape| nearest_aspect(&rules.aspects, shape)) {
                inputs.insert(aspect.clone(), Value::String(nearest));
            }
        }
        Self { model, inputs }
    }

    /// The text `[emulator:fail]` (and `[emulator:slow]`) is looked for in: the prompt, or the
    /// text read aloud.
    pub fn prompt(&self) -> String {
        let rules = &self.model.emulated;
        [&rules.prompt, &rules.seconds_from_text]
            .into_iter()
            .flatten()
            .find_map(|id| self.model.value(&self.inputs, id))
            .unwrap_or_default()
    }

    /// Starts making the outputs of task `id` (whose number seeds them when the Run set no
    /// seed, so a task's files never change).
    pub fn start(&self, shared: &Arc<Shared>, id: &str) -> Making {
        let shared = Arc::clone(shared);
        let (model, inputs, seed) = (Arc::clone(&self.model), self.inputs.clone(), seed_of(id));
        AbortOnDropHandle::new(tokio::spawn(async move {
            render(&shared, model, inputs, seed).await
        }))
    }

    /// The log line `line` of `lines` a running task writes.
    pub fn progress(&self, id: &str, line: u32, lines: u32) -> String {
        let plan = self.model.plan(&self.inputs, seed_of(id));
        let what = match plan.kind {
            OutputKind::Images => {
                format!("{} image(s) of {}×{}", plan.count, plan.width, plan.height)
            }
            OutputKind::Video => {
                // As PixVerse's own log counts a clip: by frames.
                let frames = plan.seconds as u32 * FPS;
                return format!("generating frame {}/{frames}", frames * line / lines);
            }
            OutputKind::Audio => format!("{:.1} s of speech", plan.seconds),
            OutputKind::Text => "an answer".to_owned(),
        };
        format!("generating {what}: step {line}/{lines}")
    }
}

/// Stores what the work made and answers the task's `outputs` records.
pub(crate) async fn store(shared: &Shared, made: Made) -> Result<Vec<OutputFile>, String> {
    store_outputs(shared, made).await
}

/// A seed derived from the task id.
fn seed_of(id: &str) -> u64 {
    let id: u64 = id.parse().unwrap_or(0);
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33
}

/// Of `aspects` (`"16:9"`, ...), the one closest to a `width`×`height` image, by the
/// logarithm of the ratios (so 2:1 and 1:2 are equally far from 1:1).
fn nearest_aspect(aspects: &[String], (width, height): (u32, u32)) -> Option<String> {
    let ratio = |w: f64, h: f64| (w.max(1.0) / h.max(1.0)).ln();
    let wanted = ratio(f64::from(width), f64::from(height));
    aspects
        .iter()
        .filter_map(|aspect| {
            let (w, h) = aspect.split_once(':')?;
            let distance = ratio(w.trim().parse().ok()?, h.trim().parse().ok()?) - wanted;
            Some((distance.abs(), aspect))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, aspect)| aspect.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_takes_the_nearest_listed_aspect() {
        let aspects: Vec<String> = ["16:9", "4:3", "1:1", "3:4", "9:16"]
            .map(String::from)
            .to_vec();
        assert_eq!(nearest_aspect(&aspects, (600, 800)).as_deref(), Some("3:4"));
        assert_eq!(
            nearest_aspect(&aspects, (1080, 1920)).as_deref(),
            Some("9:16")
        );
        assert_eq!(
            nearest_aspect(&aspects, (1000, 1000)).as_deref(),
            Some("1:1")
        );
        assert_eq!(nearest_aspect(&[], (1, 1)), None);
    }
}
