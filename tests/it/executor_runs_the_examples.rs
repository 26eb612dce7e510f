#![cfg(feature = "emulator")]
//! The executor runs the shipped examples end to end on the emulator: text to video at the
//! requested size, image to video from an uploaded image, and a batch in parallel.

use crate::common;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use wiro_nodes::graph::RunEvent;

#[tokio::test]
async fn text_to_video_writes_a_960x540_five_second_mp4() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    let executor = common::executor(&emulator, out.path());
    let report = executor
        .run(
            &common::example("text-to-video.json"),
            CancellationToken::new(),
            |_| {},
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let files = report.files();
    assert_eq!(files.len(), 1);
    assert_eq!(common::mp4_size_and_seconds(&files[0]), (960, 540, 5.0));
    assert!(files[0].starts_with(out.path()));
    assert!(report.total_cost() > 0.0);
    assert_eq!(emulator.stats().runs_accepted, 1);
}

#[tokio::test]
async fn set_changes_the_size_to_1080_by_1920() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    let mut workflow = common::example("text-to-video.json");
    workflow.set_input("video.quality=1080p").unwrap();
    workflow.set_input("video.aspectRatio=9:16").unwrap();
    let executor = common::executor(&emulator, out.path());
    let report = executor
        .run(&workflow, CancellationToken::new(), |_| {})
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(
        common::mp4_size_and_seconds(&report.files()[0]),
        (1080, 1920, 5.0)
    );
}

#[tokio::test]
async fn image_to_video_uploads_the_image_and_generates_from_its_url() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    let executor = common::executor(&emulator, out.path());
    let report = executor
        .run(
            &common::example("image-to-video.json"),
            CancellationToken::new(),
            |_| {},
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let upload = report.nodes.iter().find(|n| n.id == "image").unwrap();
    let url = upload.outputs.as_ref().unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let wait = report.nodes.iter().find(|n| n.id == "wait").unwrap();
    let parameters = &wait.outputs.as_ref().unwrap()["task"]["parameters"];
    assert_eq!(
        parameters["inputImageUrl"],
        url.as_str(),
        "the task ran on the uploaded image"
    );
    assert_eq!(
        emulator
            .stats()
            .requests(wiro_nodes::emulator::Operation::Upload),
        1
    );
    // meadow.png is 16:9, so 540p gives 960x540.
    assert_eq!(
        common::mp4_size_and_seconds(&report.files()[0]),
        (960, 540, 5.0)
    );
}

#[tokio::test]
async fn the_batch_runs_its_prompts_in_parallel() {
    // Tasks of about 450 ms: the three Runs (which leave one at a time) are all answered
    // before the first task ends, also when every test runs at once on two cores.
    let emulator = common::emulator(wiro_nodes::emulator::EmulatorConfig::with_speed(10.0)).await;
    let out = tempfile::tempdir().unwrap();
    let executor = common::executor(&emulator, out.path());
    let events: Arc<Mutex<Vec<(Instant, RunEvent)>>> = Arc::default();
    let log = Arc::clone(&events);
    let report = executor
        .run(
            &common::example("batch.json"),
            CancellationToken::new(),
            move |event| log.lock().unwrap().push((Instant::now(), event)),
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let files = report.files();
    assert_eq!(files.len(), 3);
    assert!(files.iter().all(|f| f.parent().unwrap().ends_with("batch")));
    let sizes: Vec<(u16, u16)> = files
        .iter()
        .map(|f| {
            let (w, h, _) = common::mp4_size_and_seconds(f);
            (w, h)
        })
        .collect();
    assert!(
        sizes.contains(&(640, 360)) && sizes.contains(&(360, 640)) && sizes.contains(&(360, 360)),
        "{sizes:?}"
    );
    // All three generations were started before the first wait finished.
    let events = events.lock().unwrap();
    let first_wait_done = events
        .iter()
        .find(|(_, e)| matches!(e, RunEvent::Finished { node, .. } if node.ends_with("-wait")))
        .map(|(at, _)| *at)
        .unwrap();
    let waits_started = events
        .iter()
        .filter(|(at, e)| {
            matches!(e, RunEvent::Started { node, .. } if node.ends_with("-wait"))
                && *at < first_wait_done
        })
        .count();
    assert_eq!(waits_started, 3, "the three waits overlapped");
}
