//! `scripts/curl-flow.sh`, the docs' flow with curl, openssl and python3, passes against the
//! emulator with the values the handle gives. Without one of those tools the test fails when
//! `CI` is set (CI must run it); elsewhere it says loudly that it was skipped.
#![cfg(feature = "emulator")]

use crate::common;
use std::process::Stdio;

use common::*;

fn installed(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg(if tool == "openssl" {
            "version"
        } else {
            "--version"
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether this runs on CI (`CI` set to anything but empty, `0` or `false`).
fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

#[tokio::test]
async fn the_curl_script_runs_the_docs_flow_against_the_emulator() {
    let missing: Vec<&str> = ["curl", "openssl", "python3"]
        .into_iter()
        .filter(|tool| !installed(tool))
        .collect();
    if !missing.is_empty() {
        assert!(
            !on_ci(),
            "CI is set but {} not installed: this test must run on CI (install them, e.g. \
             apt-get install -y curl openssl python3)",
            missing.join(", ")
        );
        eprintln!(
            "SKIPPED the_curl_script_runs_the_docs_flow_against_the_emulator: {} not installed \
             (with CI=true this is a failure)",
            missing.join(", ")
        );
        return;
    }
    let emulator = fast().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/curl-flow.sh");
    let output_file = tempfile::Builder::new().suffix(".mp4").tempfile().unwrap();
    let output = tokio::process::Command::new("bash")
        .arg(script)
        .env("WIRO_BASE_URL", emulator.base_url())
        .env("WIRO_API_KEY", emulator.api_key())
        .env("WIRO_API_SECRET", emulator.api_secret().unwrap())
        .env("WIRO_TIMEOUT_SECONDS", "120")
        .env("WIRO_OUTPUT", output_file.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "script failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("status task_postprocess_end"), "{stdout}");
    assert!(stdout.contains(": an MP4"), "{stdout}");
    let bytes = std::fs::read(output_file.path()).unwrap();
    let (width, height, _, codec) = mp4_facts(&bytes);
    assert_eq!((width, height, codec.as_str()), (960, 540, "avc1"));
    assert_eq!(emulator.stats().runs_accepted, 1);
}
