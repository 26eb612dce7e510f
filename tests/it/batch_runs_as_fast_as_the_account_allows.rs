#![cfg(feature = "emulator")]
//! A batch bigger than the account's limit on active tasks: a code-96 refusal starts nothing,
//! so the Run waits for one of the batch's own tasks to end and is sent again. Every chain
//! finishes, each Run is accepted exactly once, and the run learns the limit and says so.

use crate::common;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wiro_nodes::emulator::EmulatorConfig;
use wiro_nodes::graph::{JournalEvent, Workflow, JOURNAL_FILE};

/// `chains` text-to-video → wait → download chains at 360p, with one seed so the emulator
/// encodes the clip once.
fn batch(chains: usize) -> Workflow {
    let mut nodes = Vec::new();
    for chain in 0..chains {
        nodes.push(
            json!({ "id": format!("v{chain}"), "type": "pixverse/text-to-video-v4",
            "inputs": { "prompt": format!("clip number {chain}"), "quality": "360p", "seed": 7 } }),
        );
        nodes.push(
            json!({ "id": format!("v{chain}-wait"), "type": "wiro/task.wait",
            "inputs": { "task": { "$from": format!("v{chain}.task") }, "poll_seconds": 0.05 } }),
        );
        nodes.push(
            json!({ "id": format!("v{chain}-get"), "type": "wiro/output.download",
            "inputs": { "outputs": { "$from": format!("v{chain}-wait.outputs") } } }),
        );
    }
    serde_json::from_value(json!({ "version": 1, "nodes": nodes })).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_chains_on_an_account_allowing_five_tasks_all_finish_paid_once() {
    let emulator = common::emulator(EmulatorConfig {
        max_running: Some(5),
        max_queued: Some(0),
        ..EmulatorConfig::with_speed(2000.0)
    })
    .await;
    let out = tempfile::tempdir().unwrap();
    let report = common::executor(&emulator, out.path())
        .run(&batch(200), CancellationToken::new(), |_| {})
        .await
        .unwrap();
    assert!(
        report.succeeded(),
        "{:#?}",
        report
            .nodes
            .iter()
            .find(|n| !matches!(n.outcome, wiro_nodes::graph::NodeOutcome::Finished))
    );
    assert_eq!(report.files().len(), 200);
    assert_eq!(
        emulator.stats().runs_accepted,
        200,
        "each Run accepted exactly once"
    );
    let tasks = &report.tasks;
    assert!(tasks.refusals >= 1, "the limit was met: {tasks:?}");
    assert_eq!((tasks.limit, tasks.learned), (Some(5), true), "{tasks:?}");
    assert!(tasks.peak <= 5, "{tasks:?}");

    // The journal says what happened: a refused Run is journaled as refused, never as paid.
    let journal = std::fs::read_to_string(out.path().join(JOURNAL_FILE)).unwrap();
    let refused = journal
        .lines()
        .filter(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|entry| serde_json::from_value::<JournalEvent>(entry).ok())
                .is_some_and(|event| matches!(event, JournalEvent::Refused { .. }))
        })
        .count() as u64;
    assert_eq!(refused, tasks.refusals);
}

#[tokio::test]
async fn a_run_refused_for_the_rate_or_the_limit_is_sent_again_within_the_same_run() {
    use std::time::Duration;
    use wiro_nodes::emulator::{Fault, Operation};
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    emulator.inject(
        Operation::Run,
        Fault::RateLimited {
            retry_after: Duration::from_secs(1),
        },
        1,
    );
    // No task of this run is active when the 96 comes: the account's other tasks fill it,
    // so the Run backs off and tries again.
    emulator.inject(Operation::Run, Fault::ConcurrencyLimit, 1);
    let report = common::executor(&emulator, out.path())
        .run(
            &common::example("text-to-video.json"),
            CancellationToken::new(),
            |_| {},
        )
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(emulator.stats().runs_accepted, 1);
    assert_eq!(report.tasks.refusals, 2);
    assert_eq!(
        report.tasks.limit, None,
        "nothing learned: none of the run's tasks was active"
    );
}
