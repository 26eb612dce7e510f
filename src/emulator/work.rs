//! What a running task makes: PixVerse v4's clip (by its [`Plan`]) or a described model's
//! outputs (by `outputs`). The work starts when the task reaches `task_start`, runs beside
//! the task's log lines (stopped if the task is killed) and is stored under `/cdn` only when
//! the task ends, so a killed task leaves no file behind.

use std::sync::Arc;

use serde_json::{json, Map, Value};
use tokio_util::task::AbortOnDropHandle;

use crate::api::wire::{OutputFile, WireNumber};

use super::basics::random_hex;
use super::catalog::Plan;
use super::clips::Clip;
use super::described::{EmulatedModel, OutputKind};
use super::image_size::dimensions;
use super::outputs::{render, store_outputs, MadeOutput};
use super::state::Shared;
use super::video::VideoSpec;

/// Frames per second of every PixVerse v4 clip.
const FPS: u32 = 24;

/// What a task was asked to make.
#[derive(Debug, Clone)]
pub(crate) enum Work {
    /// A PixVerse v4 clip.
    Clip(Plan),
    /// The outputs of a described (or generated) model, from the Run's typed inputs.
    Described {
        model: Arc<EmulatedModel>,
        inputs: Map<String, Value>,
    },
}

/// What the work made, not yet stored.
#[derive(Debug)]
pub(crate) enum Made {
    Clip(Clip),
    Outputs(Vec<MadeOutput>),
}

/// Work in progress: dropping it stops it (a clip another task waits for is not affected:
/// the clip cache's cell is shared, not this task).
pub(crate) type Making = AbortOnDropHandle<Result<Made, String>>;

impl Work {
    /// The text `[emulator:fail]` is looked for in: the prompt, or the text read aloud.
    pub fn prompt(&self) -> String {
        match self {
            Work::Clip(plan) => plan.prompt.clone(),
            Work::Described { model, inputs } => {
                let rules = &model.emulated;
                [&rules.prompt, &rules.seconds_from_text]
                    .into_iter()
                    .flatten()
                    .find_map(|id| model.value(inputs, id))
                    .unwrap_or_default()
            }
        }
    }

    /// Starts making the outputs of task `id` (whose number seeds them when the Run set no
    /// seed, so a task's files never change).
    pub fn start(&self, shared: &Arc<Shared>, id: &str) -> Making {
        let shared = Arc::clone(shared);
        let seed = seed_of(id);
        let handle = match self.clone() {
            Work::Clip(plan) => {
                let spec = clip_spec(&shared, &plan, seed);
                tokio::spawn(async move {
                    let clip = shared.clips.get(spec).await;
                    clip.map(Made::Clip)
                        .map_err(|problem| format!("VideoError: {problem}"))
                })
            }
            Work::Described { model, inputs } => tokio::spawn(async move {
                render(&shared, model, inputs, seed)
                    .await
                    .map(Made::Outputs)
            }),
        };
        AbortOnDropHandle::new(handle)
    }

    /// The log line `line` of `lines` a running task writes.
    pub fn progress(&self, shared: &Shared, id: &str, line: u32, lines: u32) -> String {
        match self {
            Work::Clip(plan) => {
                let spec = clip_spec(shared, plan, seed_of(id));
                let frames = spec.seconds * spec.fps;
                format!("generating frame {}/{frames}", frames * line / lines)
            }
            Work::Described { model, inputs } => {
                let plan = model.plan(inputs, seed_of(id));
                let what = match plan.kind {
                    OutputKind::Images => {
                        format!("{} image(s) of {}×{}", plan.count, plan.width, plan.height)
                    }
                    OutputKind::Video => format!(
                        "a {} s clip of {}×{}",
                        plan.seconds, plan.width, plan.height
                    ),
                    OutputKind::Audio => format!("{:.1} s of speech", plan.seconds),
                    OutputKind::Text => "an answer".to_owned(),
                };
                format!("generating {what}: step {line}/{lines}")
            }
        }
    }
}

/// Stores what the work made and answers the task's `outputs` records.
pub(crate) async fn store(shared: &Shared, made: Made) -> Result<Vec<OutputFile>, String> {
    match made {
        Made::Outputs(made) => store_outputs(shared, made).await,
        Made::Clip(clip) => {
            let size = clip.len;
            let url = shared.store_clip("0.mp4", "video/mp4", clip);
            let mut extra = Map::new();
            extra.insert("parentid".into(), json!(random_hex(32)));
            Ok(vec![OutputFile {
                id: random_hex(32),
                name: "0.mp4".into(),
                contenttype: "video/mp4".into(),
                size: Some(WireNumber::from(size)),
                url,
                seal: None,
                extra,
            }])
        }
    }
}

/// A seed derived from the task id.
fn seed_of(id: &str) -> u64 {
    let id: u64 = id.parse().unwrap_or(0);
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33
}

/// The clip a PixVerse v4 plan makes: its frame size follows the input image's shape when it
/// has one (an upload of this emulator).
fn clip_spec(shared: &Shared, plan: &Plan, fallback_seed: u64) -> VideoSpec {
    let image = plan
        .input_image_url
        .as_deref()
        .and_then(|url| shared.file_by_url(url))
        .and_then(|file| file.body.in_memory().and_then(|bytes| dimensions(bytes)));
    let (width, height) = plan.frame_size(image);
    VideoSpec {
        width,
        height,
        seconds: plan.seconds,
        fps: FPS,
        seed: plan.seed.map(u64::from).unwrap_or(fallback_seed),
    }
}
