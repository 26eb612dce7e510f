#![cfg(feature = "emulator")]
//! Cancelling a run — or dropping its future — stops the remote task it owns: Cancel while
//! queued, Kill while running; the report says which.

use crate::common;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wiro_nodes::api::TaskStatus;
use wiro_nodes::emulator::EmulatorConfig;
use wiro_nodes::graph::{NodeOutcome, RunEvent};
use wiro_nodes::node::NodeEvent;

async fn cancel_when(
    config: EmulatorConfig,
    status: TaskStatus,
) -> (
    wiro_nodes::graph::RunReport,
    wiro_nodes::emulator::EmulatorHandle,
) {
    let emulator = common::emulator(config).await;
    let out = tempfile::tempdir().unwrap();
    let executor = common::executor(&emulator, out.path());
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let report = executor
        .run(
            &common::example("text-to-video.json"),
            cancel,
            move |event| {
                if let RunEvent::Progress {
                    event: NodeEvent::TaskStatus { status: seen },
                    ..
                } = &event
                {
                    if *seen == status {
                        trigger.cancel();
                    }
                }
            },
        )
        .await
        .unwrap();
    (report, emulator)
}

#[tokio::test]
async fn cancelling_a_running_task_kills_it() {
    let (report, emulator) = cancel_when(EmulatorConfig::with_speed(1.0), TaskStatus::Start).await;
    assert!(report.cancelled && !report.succeeded());
    let stopped = report.stopped_tasks();
    assert_eq!(stopped.len(), 1, "{report:#?}");
    assert_eq!(stopped[0].how, "killed");
    let wait = report.nodes.iter().find(|n| n.id == "wait").unwrap();
    assert_eq!(wait.outcome, NodeOutcome::Cancelled);
    assert!(matches!(
        report
            .nodes
            .iter()
            .find(|n| n.id == "download")
            .unwrap()
            .outcome,
        NodeOutcome::Skipped(_)
    ));
    assert_eq!(emulator.stats().cancelled, 1);
}

#[tokio::test]
async fn cancelling_a_queued_task_cancels_it() {
    let config = EmulatorConfig {
        max_running: Some(0),
        ..EmulatorConfig::with_speed(50.0)
    };
    let (report, emulator) = cancel_when(config, TaskStatus::Queue).await;
    let stopped = report.stopped_tasks();
    assert_eq!(stopped.len(), 1, "{report:#?}");
    assert_eq!(stopped[0].how, "cancelled");
    assert_eq!(emulator.stats().cancelled, 1);
}

#[tokio::test]
async fn dropping_the_run_future_still_stops_the_task() {
    let emulator = common::emulator(EmulatorConfig::with_speed(0.5)).await;
    let out = tempfile::tempdir().unwrap();
    let executor = common::executor(&emulator, out.path());
    let workflow = common::example("text-to-video.json");
    // Give up on the run (drop its future) once the wait node follows the task: the first
    // status it reports. (The run node also reports `task_queue`, before anything waits.)
    let (seen, mut task_seen) = tokio::sync::mpsc::unbounded_channel();
    let run = executor.run(&workflow, CancellationToken::new(), move |event| {
        if let RunEvent::Progress {
            node,
            event: NodeEvent::TaskStatus { .. },
        } = &event
        {
            if node == "wait" {
                let _ = seen.send(());
            }
        }
    });
    tokio::select! {
        report = run => panic!("the run ended before its task was seen: {report:?}"),
        _ = task_seen.recv() => {}
        _ = tokio::time::sleep(Duration::from_secs(60)) => panic!("no task status within 60 s"),
    }
    assert_eq!(emulator.stats().runs_accepted, 1);
    for _ in 0..100 {
        if emulator.stats().cancelled == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the task was not stopped after the run was dropped: {:?}",
        emulator.stats()
    );
}

#[tokio::test]
async fn a_task_that_ended_before_the_stop_came_is_counted_as_charged() {
    // The Kill answers 3 s late; by then the running task has finished (and is billed). At
    // speed 10 the task runs about 2 s: the cancel, sent when it starts, comes before its end
    // even on a busy machine (at 50 it sometimes ended first).
    let mut config = EmulatorConfig::with_speed(10.0);
    config.faults = vec!["kill=slow@3000".parse().unwrap()];
    let (report, emulator) = cancel_when(config, TaskStatus::Start).await;
    let stopped = report.stopped_tasks();
    assert_eq!(stopped.len(), 1, "{report:#?}");
    assert_eq!(stopped[0].how, "already ended");
    assert_eq!(emulator.stats().succeeded, 1);
    assert_eq!(
        report.total_cost(),
        0.45,
        "what the finished task was billed: {report:#?}"
    );
}
