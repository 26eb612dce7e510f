#![cfg(feature = "cli")]
//! The price before paying: each paid node's estimate from the model's published prices, the
//! same figure the run is then charged, and `--max-cost` refusing a run that would cost more —
//! with nothing sent but the price look-ups.

use crate::common;
use std::process::Stdio;

use tokio_util::sync::CancellationToken;
use wiro_nodes::emulator::{EmulatorConfig, Operation};
use wiro_nodes::graph::price_workflow;
use wiro_nodes::node::Registry;

#[tokio::test]
async fn the_estimate_of_each_example_is_what_the_emulator_then_charges() {
    let emulator = common::fast_emulator().await;
    for example in ["text-to-video.json", "image-to-video.json", "batch.json"] {
        let workflow = common::example(example);
        let client = common::client(&emulator);
        let price = price_workflow(&workflow, &Registry::from_inventory(), &client).await;
        let estimate = price.total().expect("PixVerse prices are known up front");
        assert!(estimate > 0.0, "{example}: {price:?}");
        let out = tempfile::tempdir().unwrap();
        let report = common::executor(&emulator, out.path())
            .run(&workflow, CancellationToken::new(), |_| {})
            .await
            .unwrap();
        assert!(report.succeeded(), "{example}: {report:#?}");
        assert!(
            (report.total_cost() - estimate).abs() < 1e-9,
            "{example}: estimated {estimate}, charged {}",
            report.total_cost()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_over_max_cost_exits_2_having_sent_only_price_look_ups() {
    let emulator = common::emulator(EmulatorConfig::with_speed(100.0)).await;
    let workflow = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/batch.json");
    let out = tempfile::tempdir().unwrap();
    let output = common::binary_for(&emulator)
        .arg("run")
        .arg(&workflow)
        .args(["--max-cost", "0.10", "--out"])
        .arg(out.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("exceeds --max-cost $0.10"), "{stderr}");
    assert!(
        stderr.contains("price of "),
        "each paid node's price is shown: {stderr}"
    );
    let stats = emulator.stats();
    assert_eq!(stats.runs_accepted, 0);
    assert_eq!(stats.requests(Operation::Run), 0);
    assert_eq!(
        stats.requests.values().sum::<u64>(),
        stats.requests(Operation::ToolDetail),
        "nothing but Tool/Detail: {stats:?}"
    );
    assert_eq!(stats.requests(Operation::ToolDetail), 1, "once per model");
}
