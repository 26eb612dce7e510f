//! The emulator runs every model it describes, as the real server would: a body a client
//! builds from the model's own Tool/Detail (through `CatalogModel::to_wire`) runs to
//! `task_postprocess_end` with the outputs the model makes (PNGs, a WAV, an MP4, a chat
//! answer) and its published price; a body that breaks the definitions is refused naming
//! every field at once and creates nothing; raw slugs, multipart files, Task/List, the
//! socket, Kill, limits and failing prompts work as for PixVerse v4.
#![cfg(feature = "emulator")]

use crate::common;

use common::*;
use futures_util::future::join_all;
use serde_json::{json, Value};
use wiro_nodes::api::{Client, Task};
use wiro_nodes::emulator::{EmulatorConfig, EmulatorHandle};
use wiro_nodes::models::catalog::CatalogModel;

/// What a finished task must hold.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This many PNGs of this size.
    Images(usize, u32, u32),
    /// One MP4 of this size and length.
    Video(u16, u16, f64),
    /// One WAV.
    Sound,
    /// A chat answer quoting the prompt.
    Answer(&'static str),
}

/// A model, typed inputs that are valid for it (small and short), what it must make, and
/// what it costs by its published prices.
fn cases() -> Vec<(&'static str, Value, Expect, f64)> {
    vec![
        (
            "pixverse/text-to-video-v5",
            json!({"prompt": "a fox", "quality": "360p", "aspectRatio": "9:16", "seed": 7}),
            Expect::Video(360, 640, 5.0),
            0.45,
        ),
        (
            "acme-labs/frames-to-video",
            json!({"firstFrame": "https://example.com/a.png",
                "lastFrame": "https://example.com/b.png", "duration": 2, "motion": 0.25}),
            Expect::Video(960, 540, 2.0),
            0.072,
        ),
        (
            "wiro/image-studio",
            json!({"prompt": "a lighthouse", "numberOfOutputs": 3, "width": 256, "height": 320,
                "style": "photo", "guidance": 2.5}),
            Expect::Images(3, 256, 320),
            0.06,
        ),
        (
            "wiro/storyboard-video",
            json!({"referenceImages": ["https://example.com/a.png", "https://example.com/b.png"],
                "duration": "4"}),
            Expect::Video(960, 540, 4.0),
            0.3,
        ),
        (
            "wiro/speech",
            json!({"text": "Hello there, emulator.", "voice": "sage", "speed": 1.5}),
            Expect::Sound,
            0.01,
        ),
        (
            "wiro/chat",
            json!({"prompt": "why is the sky blue", "temperature": 0.2, "stream": false}),
            Expect::Answer("why is the sky blue"),
            0.001,
        ),
        (
            "wiro/legacy-upscaler",
            json!({"inputImageUrl": "https://example.com/a.png", "scale": "2"}),
            Expect::Images(1, 1024, 1024),
            0.01,
        ),
        (
            "wiro/unpublished",
            json!({}),
            Expect::Images(1, 512, 512),
            0.002,
        ),
    ]
}

/// The model as a client's catalog reads it from the emulator's Tool/Detail.
async fn catalog_model(client: &Client, slug: &str) -> CatalogModel {
    let answer = client.tool_detail(slug).await.expect("Tool/Detail answers");
    CatalogModel::from_answers(&answer["tool"][0], &answer, "now").expect("the detail reads")
}

/// Runs `inputs` on `slug` the way a catalog node does, to the task's end.
async fn run_typed(client: &Client, slug: &str, inputs: &Value) -> Task {
    let model = catalog_model(client, slug).await;
    let body = model.to_wire(inputs.as_object().unwrap());
    let handle = client
        .run(&model.run_slug(), &body)
        .await
        .unwrap_or_else(|error| panic!("{slug}: {error}"));
    client
        .wait_for_task(&handle, &quick_wait(), |_| {})
        .await
        .unwrap_or_else(|error| panic!("{slug}: {error}"))
}

async fn check_outputs(slug: &str, task: &Task, expect: Expect) {
    let outputs = &task.outputs;
    match expect {
        Expect::Images(count, width, height) => {
            assert_eq!(outputs.len(), count, "{slug}: {outputs:?}");
            for output in outputs {
                assert_eq!(output.contenttype, "image/png", "{slug}");
                let png = download(&output.url).await;
                let size = imagesize::blob_size(&png).expect("a PNG header");
                assert_eq!((size.width, size.height), (width as usize, height as usize));
            }
        }
        Expect::Video(width, height, seconds) => {
            assert_eq!(outputs.len(), 1, "{slug}");
            assert_eq!(outputs[0].contenttype, "video/mp4", "{slug}");
            let (w, h, s, codec) = mp4_facts(&download(&outputs[0].url).await);
            assert_eq!((w, h, codec.as_str()), (width, height, "avc1"), "{slug}");
            assert!((s - seconds).abs() < 0.05, "{slug}: {s} s");
        }
        Expect::Sound => {
            assert_eq!(outputs.len(), 1, "{slug}");
            assert_eq!(outputs[0].contenttype, "audio/wav", "{slug}");
            let wav = download(&outputs[0].url).await;
            assert_eq!((&wav[..4], &wav[8..12]), (&b"RIFF"[..], &b"WAVE"[..]));
        }
        Expect::Answer(prompt) => {
            assert_eq!(outputs.len(), 1, "{slug}");
            let record = serde_json::to_value(&outputs[0]).unwrap();
            let message = record["content"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(prompt), "{slug}: {record}");
            assert_eq!(record["url"], "", "a text answer has no file");
        }
    }
}

#[tokio::test]
async fn every_model_runs_to_its_end_with_its_outputs_and_price() {
    let emulator = start(EmulatorConfig::with_speed(1000.0)).await;
    let client = client(&emulator);
    let runs = cases().into_iter().map(|(slug, inputs, expect, price)| {
        let client = &client;
        async move {
            let task = run_typed(client, slug, &inputs).await;
            assert_eq!(task.status.as_str(), "task_postprocess_end", "{slug}");
            assert!(task.succeeded(), "{slug}: {:?}", task.debugerror);
            let charged = task.totalcost.as_ref().and_then(|cost| cost.as_f64());
            assert!(
                (charged.unwrap() - price).abs() < 1e-9,
                "{slug}: {charged:?}"
            );
            check_outputs(slug, &task, expect).await;
        }
    });
    join_all(runs).await;
}

fn messages(answer: &Value) -> Vec<String> {
    assert_eq!(answer["result"], false, "{answer}");
    answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| {
            assert_eq!(error["code"], 0, "{error}");
            error["message"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn task_count(emulator: &EmulatorHandle) -> Value {
    post(emulator, "Task/List", json!({})).await.1["total"].clone()
}

#[tokio::test]
async fn bad_parameters_are_refused_naming_every_field_and_create_nothing() {
    let emulator = fast().await;
    let (status, answer) = post(
        &emulator,
        "Run/WIRO/Image-Studio",
        json!({"style": "oil", "width": 5000, "numberOfOutputs": "2"}),
    )
    .await;
    assert_eq!(status, 200);
    let said = messages(&answer);
    assert_eq!(said.len(), 3, "{said:?}");
    for (field, rule) in [
        ("prompt:", "required"),
        ("width:", "maximum"),
        ("style:", "enum"),
    ] {
        assert!(
            said.iter()
                .any(|message| message.starts_with(field) && message.contains(rule)),
            "{field} {rule} in {said:?}"
        );
    }
    let (_, answer) = post(
        &emulator,
        "Run/wiro/chat",
        json!({"prompt": "hi", "temperature": "3", "max_tokens": "lots"}),
    )
    .await;
    let said = messages(&answer);
    assert!(said[0].starts_with("temperature:"), "{said:?}");
    assert!(said[1].starts_with("max_tokens:"), "{said:?}");
    assert_eq!(task_count(&emulator).await, "0");

    let (_, answer) = post(&emulator, "Run/wiro/nothing", json!({})).await;
    assert_eq!(answer["errors"][0]["code"], 1);
    let message = answer["errors"][0]["message"].as_str().unwrap();
    for known in [
        "PixVerse/text-to-video-v4",
        "Acme Labs/frames to video",
        "wiro/chat",
    ] {
        assert!(message.contains(known), "{known} in {message}");
    }
}

#[tokio::test]
async fn raw_slugs_multipart_files_task_list_and_the_socket_work() {
    let emulator = fast().await;
    let sent = json!({"firstFrameUrl": "https://example.com/a.png",
        "lastFrameUrl": "https://example.com/b.png", "duration": "2", "projectid": "7"});
    let (_, answer) = post(&emulator, "Run/Acme Labs/frames to video", sent.clone()).await;
    let token = answer["socketaccesstoken"]
        .as_str()
        .expect("a task")
        .to_owned();
    let frames = follow(&emulator, &token).await;
    let statuses: Vec<&str> = frames.iter().filter_map(|f| f["type"].as_str()).collect();
    assert_eq!(
        statuses.last(),
        Some(&"task_postprocess_end"),
        "{statuses:?}"
    );
    assert!(statuses.windows(2).all(|w| rank(w[0]) <= rank(w[1])));
    let last = frames.last().unwrap();
    assert_eq!(last["message"][0]["contenttype"], "video/mp4", "{last}");

    for name in ["acme-labs/frames-to-video", "ACME LABS/Frames To Video"] {
        let (_, list) = post(&emulator, "Task/List", json!({"modelName": name})).await;
        assert_eq!(list["total"], "1", "{name}: {list}");
        assert_eq!(list["tasklist"][0]["parameters"], sent);
    }
    let (_, list) = post(&emulator, "Task/List", json!({"modelName": "wiro/chat"})).await;
    assert_eq!(list["total"], "0");

    let png = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/meadow.png")).unwrap();
    let part = || reqwest::multipart::Part::bytes(png.clone()).file_name("meadow.png");
    let form = reqwest::multipart::Form::new()
        .part("inputImage", part())
        .part("inputImage", part())
        .text("layout", "row");
    let answer = post_form(&emulator, "Run/wiro/collage", form).await;
    let task = wait_end(&emulator, answer["taskid"].as_str().expect("a task")).await;
    assert_eq!(task["pexit"], "0", "{task}");
    let urls = task["parameters"]["inputImageUrl"].as_str().unwrap();
    let urls: Vec<&str> = urls.split(',').collect();
    assert_eq!(urls.len(), 2, "{task}");
    assert_eq!(emulator.served_bytes(urls[1]).await.unwrap(), png);
}

#[tokio::test]
async fn killed_and_failed_tasks_are_not_billed_and_limits_hold() {
    let emulator = start(EmulatorConfig {
        balance: Some(5.0),
        max_running: Some(1),
        max_queued: Some(0),
        ..EmulatorConfig::with_speed(40.0)
    })
    .await;
    let small = json!({"prompt": "x", "numberOfOutputs": "1", "width": "256", "height": "256"});
    let (_, answer) = post(&emulator, "Run/wiro/image-studio", small.clone()).await;
    let taskid = answer["taskid"].as_str().expect("a task").to_owned();
    wait_status(&emulator, &taskid, "task_start").await;
    let (_, refused) = post(&emulator, "Run/wiro/chat", json!({"prompt": "x"})).await;
    assert_eq!(refused["errors"][0]["code"], 96, "{refused}");
    let (_, killed) = post(&emulator, "Task/Kill", json!({"taskid": taskid})).await;
    assert_eq!(killed["tasklist"][0]["status"], "task_cancel", "{killed}");
    let task = wait_end(&emulator, &taskid).await;
    assert_eq!(task["totalcost"], "0");
    assert!(task["outputs"].as_array().unwrap().is_empty());
    assert_eq!(emulator.balance(), Some(5.0));

    let asked = json!({"prompt": "[emulator:fail] please"});
    let (_, answer) = post(&emulator, "Run/wiro/chat", asked).await;
    let task = wait_end(&emulator, answer["taskid"].as_str().expect("a task")).await;
    assert_eq!(
        (&task["pexit"], &task["totalcost"]),
        (&json!("1"), &json!("0"))
    );
    assert!(task["debugerror"].as_str().unwrap().contains("on purpose"));
    assert_eq!(emulator.balance(), Some(5.0));

    let (_, answer) = post(&emulator, "Run/wiro/image-studio", small).await;
    let task = wait_end(&emulator, answer["taskid"].as_str().expect("a task")).await;
    assert_eq!(task["pexit"], "0", "{task}");
    let left = emulator.balance().unwrap();
    assert!((left - 4.98).abs() < 1e-9, "{left}");
}

#[tokio::test]
async fn generated_models_run_too() {
    let emulator = start(EmulatorConfig {
        synthetic_models: 4,
        ..EmulatorConfig::with_speed(1000.0)
    })
    .await;
    let client = client(&emulator);
    let inputs = json!({"prompt": "a small test", "text": "a small test"});
    let runs = [
        "synthetic/model-0001",
        "synthetic/model-0002",
        "synthetic-lab/model-0003",
        "synthetic/model-0004",
    ]
    .map(|slug| run_typed(&client, slug, &inputs));
    let kinds: Vec<String> = join_all(runs)
        .await
        .iter()
        .map(|task| {
            assert!(task.succeeded(), "{task:?}");
            task.outputs[0].contenttype.clone()
        })
        .collect();
    assert_eq!(kinds, ["audio/wav", "raw", "video/mp4", "image/png"]);
}
