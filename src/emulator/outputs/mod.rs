//! The outputs of a model's Run, by kind: PNG images, a WAV sound, an H.264 MP4 (through the
//! shared clip cache), or a text answer with no file.
//!
//! Two steps, so the Run route and the task driver each take the part they need:
//! [`make_outputs`] renders (CPU work: call it on a blocking thread) and
//! [`store_outputs`] puts files under `/cdn` and answers the task's `outputs` records;
//! [`render`] is the first on a blocking thread, clips encoded, for a running task. The price of a Run is [`EmulatedModel::price`] of its
//! [`EmulatedModel::plan`].

pub(crate) mod plan;
mod price;

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{json, Map, Value};

use crate::api::wire::{OutputFile, WireNumber};

use super::basics::random_hex;
use super::described::{EmulatedModel, OutputKind};
use super::media::{png::encode_png, wav::encode_wav};
use super::state::Shared;
use super::video::VideoSpec;

/// Frames per second of every emulated clip.
pub(crate) const FPS: u32 = 24;

/// One output, rendered but not yet stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MadeOutput {
    /// The file name Task/Detail shows (`0.png`, `1.png`, `0.wav`, `0.mp4`); empty for text.
    pub name: String,
    /// `image/png`, `audio/wav`, `video/mp4`, or `raw` for a text answer.
    pub content_type: String,
    /// The bytes, the clip to encode, or the text.
    pub body: MadeBody,
}

/// What an output holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MadeBody {
    /// A file already encoded (PNG, WAV).
    File(Bytes),
    /// A clip still to encode: the clip cache encodes equal specs once and keeps them on disk.
    Video(VideoSpec),
    /// A text answer, served in the output's `content.message`.
    Text(String),
}

/// Renders what a Run of `model` with `parameters` makes; `fallback_seed` when the Run sets
/// no seed. CPU-bound (up to four 1536² PNGs): call it on a blocking thread.
pub(crate) fn make_outputs(
    model: &EmulatedModel,
    parameters: &Map<String, Value>,
    fallback_seed: u64,
) -> Result<Vec<MadeOutput>, String> {
    let plan = model.plan(parameters, fallback_seed);
    let made = match plan.kind {
        OutputKind::Images => (0..plan.count)
            .map(|index| {
                let seed = plan.seed.wrapping_add(u64::from(index));
                let png = encode_png(plan.width, plan.height, seed).map_err(|e| e.to_string())?;
                Ok(MadeOutput {
                    name: format!("{index}.png"),
                    content_type: "image/png".into(),
                    body: MadeBody::File(Bytes::from(png)),
                })
            })
            .collect::<Result<Vec<_>, String>>()?,
        OutputKind::Audio => vec![MadeOutput {
            name: "0.wav".into(),
            content_type: "audio/wav".into(),
            body: MadeBody::File(Bytes::from(encode_wav(plan.seconds, plan.seed))),
        }],
        OutputKind::Video => vec![MadeOutput {
            name: "0.mp4".into(),
            content_type: "video/mp4".into(),
            body: MadeBody::Video(VideoSpec {
                width: plan.width,
                height: plan.height,
                // Whole seconds already: the plan rounds a clip's length.
                seconds: plan.seconds as u32,
                fps: FPS,
                seed: plan.seed,
            }),
        }],
        OutputKind::Text => vec![MadeOutput {
            name: String::new(),
            content_type: "raw".into(),
            body: MadeBody::Text(answer(&plan.prompt)),
        }],
    };
    Ok(made)
}

/// The chat answer: the same prompt always gets the same words.
fn answer(prompt: &str) -> String {
    let words = prompt.split_whitespace().count();
    let characters = prompt.chars().count();
    let quoted: String = prompt.chars().take(200).collect();
    let more = if characters > 200 { "…" } else { "" };
    format!(
        "You asked: \"{quoted}{more}\" ({words} words, {characters} characters). \
         This is the Wiro emulator's answer; a real model would reply here."
    )
}

/// Stores rendered outputs under `/cdn` (encoding clips through the shared cache) and
/// answers the records for the task's `outputs`: files with `id, name, contenttype, size,
/// url`; a text answer as `{"content": {"message": ...}}` with an empty `url`.
pub(crate) async fn store_outputs(
    shared: &Shared,
    made: Vec<MadeOutput>,
) -> Result<Vec<OutputFile>, String> {
    let mut outputs = Vec::with_capacity(made.len());
    for output in made {
        let mut extra = Map::new();
        extra.insert("parentid".into(), json!(random_hex(32)));
        let (size, url) = match output.body {
            MadeBody::File(bytes) => {
                let size = bytes.len() as u64;
                let url = shared.store_file(&output.name, &output.content_type, bytes);
                (Some(size), url)
            }
            MadeBody::Video(spec) => {
                let clip = shared
                    .clips
                    .get(spec)
                    .await
                    .map_err(|problem| format!("VideoError: {problem}"))?;
                let size = clip.len;
                let url = shared.store_clip(&output.name, &output.content_type, clip);
                (Some(size), url)
            }
            MadeBody::Text(message) => {
                extra.insert(
                    "content".into(),
                    json!({"message": message, "raw": message}),
                );
                (None, String::new())
            }
        };
        outputs.push(OutputFile {
            id: random_hex(32),
            name: output.name,
            contenttype: output.content_type,
            size: size.map(WireNumber::from),
            url,
            seal: None,
            extra,
        });
    }
    Ok(outputs)
}

/// [`make_outputs`] on a blocking thread, with every clip encoded into the shared cache:
/// what a running task of a described model makes, ready for [`store_outputs`] once the task
/// ends. Nothing is stored yet, so a task killed meanwhile leaves no file behind.
pub(crate) async fn render(
    shared: &Shared,
    model: Arc<EmulatedModel>,
    parameters: Map<String, Value>,
    fallback_seed: u64,
) -> Result<Vec<MadeOutput>, String> {
    let made =
        tokio::task::spawn_blocking(move || make_outputs(&model, &parameters, fallback_seed))
            .await
            .map_err(|problem| format!("the output renderer failed: {problem}"))??;
    for output in &made {
        if let MadeBody::Video(spec) = &output.body {
            shared
                .clips
                .get(*spec)
                .await
                .map_err(|problem| format!("VideoError: {problem}"))?;
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::super::config::EmulatorConfig;
    use super::super::image_size::dimensions;
    use super::*;
    use tokio_util::sync::CancellationToken;

    use super::super::described::named as model;

    fn run(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn file(output: &MadeOutput) -> &Bytes {
        match &output.body {
            MadeBody::File(bytes) => bytes,
            other => panic!("not a file: {other:?}"),
        }
    }

    #[test]
    fn images_are_pngs_of_the_asked_size_one_per_output() {
        let made = make_outputs(
            model("wiro", "image-studio"),
            &run(json!({"prompt": "x", "numberOfOutputs": "3", "width": "320", "height": 256})),
            5,
        )
        .unwrap();
        let names: Vec<&str> = made.iter().map(|output| output.name.as_str()).collect();
        assert_eq!(names, ["0.png", "1.png", "2.png"]);
        for output in &made {
            assert_eq!(output.content_type, "image/png");
            assert_eq!(dimensions(file(output)), Some((320, 256)));
        }
        assert_ne!(file(&made[0]), file(&made[1]));
        let one = make_outputs(model("wiro", "unpublished"), &Map::new(), 1).unwrap();
        assert_eq!(dimensions(file(&one[0])), Some((512, 512)));
    }

    #[test]
    fn speech_is_a_wav_as_long_as_the_text() {
        let made = make_outputs(
            model("wiro", "speech"),
            &run(json!({"text": "a".repeat(30)})),
            5,
        )
        .unwrap();
        assert_eq!(
            (made[0].name.as_str(), made[0].content_type.as_str()),
            ("0.wav", "audio/wav")
        );
        let wav = file(&made[0]);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(wav.len(), 44 + 2 * 2 * 22_050);
    }

    #[test]
    fn a_video_is_a_clip_to_encode_and_chat_is_a_text() {
        let made = make_outputs(
            model("pixverse", "text-to-video-v5"),
            &run(json!({"prompt": "x", "quality": "720p", "duration": "8", "seed": "3"})),
            5,
        )
        .unwrap();
        let spec = VideoSpec {
            width: 1280,
            height: 720,
            seconds: 8,
            fps: FPS,
            seed: 3,
        };
        assert_eq!(made[0].body, MadeBody::Video(spec));
        let chat = model("wiro", "chat");
        let asked = run(json!({"prompt": "why is the sky blue"}));
        let made = make_outputs(chat, &asked, 5).unwrap();
        let MadeBody::Text(text) = &made[0].body else {
            panic!("{made:?}")
        };
        assert!(text.contains("why is the sky blue"), "{text}");
        assert_eq!(make_outputs(chat, &asked, 6).unwrap(), made);
    }

    #[tokio::test]
    async fn stored_outputs_are_served_and_described() {
        let shared = Shared::new(
            EmulatorConfig::default(),
            "http://emulator".into(),
            CancellationToken::new(),
        );
        let store = |owner: &str, project: &str, parameters: Map<String, Value>| {
            let model = Arc::new(model(owner, project).clone());
            let shared = &shared;
            async move {
                let made = render(shared, model, parameters, 1).await.unwrap();
                store_outputs(shared, made).await.unwrap()
            }
        };
        let frames = run(json!({"duration": 2, "firstFrame": "a", "lastFrame": "b"}));
        let clip = store("acme-labs", "frames-to-video", frames).await;
        assert_eq!(clip[0].contenttype, "video/mp4");
        let served = shared.file_by_url(&clip[0].url).unwrap();
        assert_eq!(Some(served.body.len()), clip[0].size_bytes());

        let collage = store("wiro", "collage", Map::new()).await;
        let served = shared.file_by_url(&collage[0].url).unwrap();
        assert_eq!(served.content_type, "image/png");
        assert_eq!(
            dimensions(served.body.in_memory().unwrap()),
            Some((1024, 1024))
        );

        let chat = run(json!({"prompt": "hello"}));
        let answer = store("wiro", "chat", chat).await;
        let record = serde_json::to_value(&answer[0]).unwrap();
        assert!(record["content"]["message"]
            .as_str()
            .unwrap()
            .contains("hello"));
        assert_eq!(record["url"], "");
    }
}
