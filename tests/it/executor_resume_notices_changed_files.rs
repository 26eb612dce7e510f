#![cfg(feature = "emulator")]
//! A resumed run notices the files around it: a changed input image is uploaded (and animated)
//! anew, and a deleted or overwritten download is fetched again without paying for a new task.

use crate::common;
use tokio_util::sync::CancellationToken;
use wiro_nodes::emulator::Operation;
use wiro_nodes::graph::{Executor, NodeOutcome, RunOptions, RunReport};
use wiro_nodes::node::Registry;

async fn run(
    emulator: &wiro_nodes::emulator::EmulatorHandle,
    inputs: &std::path::Path,
    out: &std::path::Path,
) -> RunReport {
    let options = RunOptions {
        input_dir: inputs.to_path_buf(),
        ..common::run_options(out)
    };
    let executor = Executor::new(
        Registry::from_inventory(),
        common::client(emulator),
        options,
    );
    let report = executor
        .run(
            &common::example("image-to-video.json"),
            CancellationToken::new(),
            |_| {},
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:#?}");
    report
}

#[tokio::test]
async fn changed_inputs_and_missing_outputs_are_noticed() {
    let emulator = common::fast_emulator().await;
    let inputs = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let image = inputs.path().join("meadow.png");
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/meadow.png");
    std::fs::copy(&shipped, &image).unwrap();

    run(&emulator, inputs.path(), out.path()).await;
    let again = run(&emulator, inputs.path(), out.path()).await;
    assert!(
        again
            .nodes
            .iter()
            .all(|n| n.outcome == NodeOutcome::Resumed),
        "{again:#?}"
    );
    assert_eq!(emulator.stats().requests(Operation::Upload), 1);

    // The video file was deleted: downloaded again, nothing paid.
    std::fs::remove_file(&again.files()[0]).unwrap();
    let refetched = run(&emulator, inputs.path(), out.path()).await;
    let download = refetched.nodes.iter().find(|n| n.id == "download").unwrap();
    assert_eq!(download.outcome, NodeOutcome::Finished);
    assert!(refetched.files()[0].exists());
    assert_eq!(emulator.stats().runs_accepted, 1);

    // Another video written over it (another run into the same folder, say), the same size:
    // fetched again, nothing paid.
    let video = refetched.files()[0].clone();
    let right = std::fs::read(&video).unwrap();
    let mut other = right.clone();
    let middle = other.len() / 2;
    other[middle] ^= 0xff;
    std::fs::write(&video, &other).unwrap();
    let restored = run(&emulator, inputs.path(), out.path()).await;
    let download = restored.nodes.iter().find(|n| n.id == "download").unwrap();
    assert_eq!(download.outcome, NodeOutcome::Finished);
    assert!(
        std::fs::read(&video).unwrap() == right,
        "the run's own video is back"
    );
    assert_eq!(emulator.stats().runs_accepted, 1);

    // A new picture at the same path: a new upload and a new video.
    let mut bytes = std::fs::read(&shipped).unwrap();
    bytes.extend_from_slice(b"trailing bytes make it another file");
    std::fs::write(&image, bytes).unwrap();
    let changed = run(&emulator, inputs.path(), out.path()).await;
    assert_eq!(
        changed
            .nodes
            .iter()
            .find(|n| n.id == "image")
            .unwrap()
            .outcome,
        NodeOutcome::Finished
    );
    assert_eq!(emulator.stats().requests(Operation::Upload), 2);
    assert_eq!(emulator.stats().runs_accepted, 2);
}
