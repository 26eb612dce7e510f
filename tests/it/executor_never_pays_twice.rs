#![cfg(feature = "emulator")]
//! Running the same workflow again never pays twice for one intent: a Run whose answer was lost
//! is adopted when Task/List shows its task, sent once more only when the list proves none was
//! made, and never sent again when the list cannot tell; a refused Run is sent again, a task
//! stopped by Ctrl-C is replaced once, and a finished run costs nothing more.

use crate::common;
use tokio_util::sync::CancellationToken;
use wiro_nodes::api::TaskStatus;
use wiro_nodes::emulator::{EmulatorConfig, EmulatorHandle, Fault, Operation};
use wiro_nodes::graph::{NodeOutcome, RunEvent, RunReport};
use wiro_nodes::node::NodeEvent;

async fn run_example(
    emulator: &EmulatorHandle,
    out: &std::path::Path,
    cancel_at: Option<TaskStatus>,
) -> RunReport {
    let executor = common::executor(emulator, out);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    executor
        .run(
            &common::example("text-to-video.json"),
            cancel,
            move |event| {
                if let RunEvent::Progress {
                    event: NodeEvent::TaskStatus { status },
                    ..
                } = &event
                {
                    if Some(status) == cancel_at.as_ref() {
                        trigger.cancel();
                    }
                }
            },
        )
        .await
        .unwrap()
}

fn outcome<'a>(report: &'a RunReport, node: &str) -> &'a NodeOutcome {
    &report.nodes.iter().find(|n| n.id == node).unwrap().outcome
}

#[tokio::test]
async fn a_run_whose_answer_was_lost_after_the_task_was_created_is_adopted_not_resent() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    let report = run_example(&emulator, out.path(), None).await;
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(
        report.files().len(),
        1,
        "the adopted task's video is downloaded"
    );
    assert_eq!(emulator.stats().runs_accepted, 1, "one Run, paid once");
    assert_eq!(emulator.stats().requests(Operation::Run), 1);
    assert!(
        report.total_cost() > 0.0,
        "the adopted task's cost is reported"
    );
}

#[tokio::test]
async fn a_run_whose_answer_was_lost_before_any_task_was_created_is_sent_once_more() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    emulator.inject(Operation::Run, Fault::DropBeforeEffect, 1);
    let report = run_example(&emulator, out.path(), None).await;
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(emulator.stats().runs_accepted, 1, "one task, paid once");
    assert_eq!(
        emulator.stats().requests(Operation::Run),
        2,
        "sent once more"
    );
}

#[tokio::test]
async fn the_last_resend_s_lost_answer_is_looked_for_too_and_its_task_adopted() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    // Three sendings lost before any task was made, then one lost after its task was made.
    emulator.inject(Operation::Run, Fault::DropBeforeEffect, 3);
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    let report = run_example(&emulator, out.path(), None).await;
    assert!(report.succeeded(), "{report:#?}");
    assert_eq!(emulator.stats().runs_accepted, 1, "one task, paid once");
    assert_eq!(emulator.stats().requests(Operation::Run), 4);
    assert!(report.total_cost() > 0.0, "its cost is reported");
}

#[tokio::test]
async fn a_run_whose_every_sending_was_lost_before_any_task_says_nothing_was_started() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    emulator.inject(Operation::Run, Fault::DropBeforeEffect, 4);
    let first = run_example(&emulator, out.path(), None).await;
    assert!(
        matches!(outcome(&first, "video"), NodeOutcome::Failed(m)
            if m.contains("sent 4 times") && m.contains("nothing was started") && !m.contains("may have been accepted")),
        "{first:#?}"
    );
    assert_eq!(emulator.stats().runs_accepted, 0);
    let second = run_example(&emulator, out.path(), None).await;
    assert!(second.succeeded(), "{second:#?}");
    assert_eq!(emulator.stats().runs_accepted, 1, "paid once");
}

#[tokio::test]
async fn a_fresh_run_whose_answer_was_lost_adopts_its_own_task_not_the_earlier_run_s() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    let first = run_example(&emulator, out.path(), None).await;
    assert!(first.succeeded(), "{first:#?}");
    // Told to pay again at once, its answer lost after the task was made: the task list
    // holds both tasks, and the earlier run's is not this run's.
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    let mut options = common::run_options(out.path());
    options.fresh = true;
    let executor = wiro_nodes::graph::Executor::new(
        wiro_nodes::node::Registry::from_inventory(),
        common::client(&emulator),
        options,
    );
    let cancel = CancellationToken::new();
    let fresh = (executor.run(&common::example("text-to-video.json"), cancel, |_| {}))
        .await
        .unwrap();
    assert!(fresh.succeeded(), "{fresh:#?}");
    assert_eq!(emulator.stats().runs_accepted, 2, "paid again, as told");
    let task = |report: &RunReport| {
        let video = report.nodes.iter().find(|n| n.id == "video").unwrap();
        video.tasks.clone()
    };
    assert_eq!(task(&fresh).len(), 1);
    assert_ne!(
        task(&fresh),
        task(&first),
        "its own task, the one it paid for"
    );
}

#[tokio::test]
async fn a_lost_answer_the_first_run_could_not_settle_is_adopted_by_the_next_run() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    // Every try of the first run's one Task/List fails (the client tries 4 times).
    emulator.inject(Operation::TaskList, Fault::ServerError, 4);
    let first = run_example(&emulator, out.path(), None).await;
    assert!(
        matches!(outcome(&first, "video"), NodeOutcome::Failed(m) if m.contains("could not tell")),
        "{first:#?}"
    );
    let second = run_example(&emulator, out.path(), None).await;
    assert!(second.succeeded(), "{second:#?}");
    assert_eq!(
        second.files().len(),
        1,
        "the adopted task's video is downloaded"
    );
    assert_eq!(emulator.stats().runs_accepted, 1, "paid once");
    assert_eq!(
        emulator.stats().requests(Operation::Run),
        1,
        "never sent again"
    );
}

#[tokio::test]
async fn a_run_whose_answer_was_lost_is_not_sent_again_when_the_task_list_cannot_tell() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    emulator.inject(Operation::TaskList, Fault::ServerError, 100);
    let first = run_example(&emulator, out.path(), None).await;
    assert!(
        matches!(outcome(&first, "video"), NodeOutcome::Failed(m) if m.contains("not sent again unless the task list shows it created nothing")),
        "{first:#?}"
    );
    let second = run_example(&emulator, out.path(), None).await;
    match outcome(&second, "video") {
        NodeOutcome::Failed(message) => assert!(
            message.contains("--fresh") && message.contains("paid"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(emulator.stats().runs_accepted, 1, "one Run for one intent");
    assert_eq!(emulator.stats().requests(Operation::Run), 1);
}

#[tokio::test]
async fn a_refused_run_is_tried_again_by_the_next_run() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    emulator.inject(Operation::Run, Fault::InsufficientBalance, 1);
    let first = run_example(&emulator, out.path(), None).await;
    assert!(
        matches!(outcome(&first, "video"), NodeOutcome::Failed(m) if m.contains("balance")),
        "{first:#?}"
    );
    let second = run_example(&emulator, out.path(), None).await;
    assert!(second.succeeded(), "{second:#?}");
    assert_eq!(emulator.stats().runs_accepted, 1);
}

#[tokio::test]
async fn after_ctrl_c_killed_the_task_the_next_run_submits_once_more_then_resumes() {
    let emulator = common::emulator(EmulatorConfig::with_speed(3.0)).await;
    let out = tempfile::tempdir().unwrap();
    let first = run_example(&emulator, out.path(), Some(TaskStatus::Start)).await;
    assert!(first.cancelled);
    assert_eq!(first.stopped_tasks()[0].how, "killed");

    let second = run_example(&emulator, out.path(), None).await;
    assert!(second.succeeded(), "{second:#?}");
    assert_eq!(
        emulator.stats().runs_accepted,
        2,
        "the killed task is replaced, once"
    );

    let third = run_example(&emulator, out.path(), None).await;
    assert!(third.succeeded());
    assert!(
        third
            .nodes
            .iter()
            .all(|n| n.outcome == NodeOutcome::Resumed),
        "{third:#?}"
    );
    assert_eq!(
        emulator.stats().runs_accepted,
        2,
        "a finished run costs nothing more"
    );
}

#[tokio::test]
async fn a_failed_task_is_submitted_again_but_a_finished_one_is_not() {
    let emulator = common::fast_emulator().await;
    let out = tempfile::tempdir().unwrap();
    emulator.inject(Operation::Run, Fault::TaskFails, 1);
    let first = run_example(&emulator, out.path(), None).await;
    assert!(
        matches!(outcome(&first, "wait"), NodeOutcome::Failed(m) if m.contains("failed")),
        "{first:#?}"
    );
    // Its end was seen (failed, charged nothing): not named as a task that may be billed.
    assert_eq!(first.tasks_not_seen_ending(), Vec::<&str>::new());
    assert_eq!(first.total_cost(), 0.0);
    let second = run_example(&emulator, out.path(), None).await;
    assert!(second.succeeded(), "{second:#?}");
    assert_eq!(emulator.stats().runs_accepted, 2);
}
