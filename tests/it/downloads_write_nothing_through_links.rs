#![cfg(all(feature = "cli", unix))]
//! A run writes files only inside its output folder, whatever links someone left in it: a
//! link where a download's partial file goes is replaced, never written through, and a
//! download folder reached through a link (`clips -> /tmp/outside`, or a link deeper down) is
//! refused before any request, or, when only the run can see it, before the download.

use crate::common;
use std::path::{Path, PathBuf};

use serde_json::json;

/// The text-to-video example, whose download saves `download-0.mp4` in the output folder.
fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/text-to-video.json")
}

/// The text-to-video example with its download node's `directory` set to `directory`.
fn flow_saving_into(dir: &Path, directory: &str) -> PathBuf {
    let mut flow: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap();
    flow["nodes"][2]["inputs"]["directory"] = json!(directory);
    let file = dir.join("flow.json");
    std::fs::write(&file, flow.to_string()).unwrap();
    file
}

/// Whether `folder` holds nothing.
fn empty(folder: &Path) -> bool {
    std::fs::read_dir(folder).unwrap().next().is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_file_that_is_a_link_is_replaced_never_written_through() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "someone else's file").unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&victim, out.join(".download-0.mp4.part")).unwrap();
    let output = common::binary_for(&emulator)
        .arg("run")
        .arg(example())
        .arg("--out")
        .arg(&out)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"someone else's file");
    let saved = std::fs::symlink_metadata(out.join("download-0.mp4")).unwrap();
    assert!(saved.is_file(), "the video is a file of the output folder");
    assert_eq!(
        common::mp4_size_and_seconds(&out.join("download-0.mp4")),
        (960, 540, 5.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_folder_through_a_link_is_refused_before_any_request() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("a")).unwrap();
    std::os::unix::fs::symlink(outside.path(), out.join("clips")).unwrap();
    std::os::unix::fs::symlink(outside.path(), out.join("a/b")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("none"), out.join("gone")).unwrap();
    for (directory, link) in [("clips", "clips"), ("a/b/c", "a/b"), ("gone", "gone")] {
        let flow = flow_saving_into(dir.path(), directory);
        let output = common::binary_for(&emulator)
            .arg("run")
            .arg(&flow)
            .arg("--out")
            .arg(&out)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{directory}: {stderr}");
        let said = format!("download.directory {directory:?} goes through {link}, a link");
        assert!(
            stderr.contains(&said) && stderr.contains("nothing was sent"),
            "{said:?} in:\n{stderr}"
        );
    }
    let stats = emulator.stats();
    assert_eq!(stats.requests.values().sum::<u64>(), 0, "{stats:?}");
    assert!(
        empty(outside.path()),
        "nothing was written where a link led"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_only_the_run_sees_stops_the_download_before_it_writes() {
    let emulator = common::fast_emulator().await;
    let video = common::finished_video(&common::client(&emulator)).await;
    let out = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), out.path().join("clips")).unwrap();
    // `node exec` has no run to look at its output folder first: the node itself refuses.
    let inputs = json!({ "outputs": [video], "directory": "clips" });
    let output = common::binary_for(&emulator)
        .args(["node", "exec", "wiro/output.download", "--inputs"])
        .arg(inputs.to_string())
        .arg("--out")
        .arg(out.path())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(r#""clips" goes through clips, a link"#),
        "{stderr}"
    );
    assert!(
        empty(outside.path()),
        "nothing was written where the link led"
    );
}
