#![cfg(feature = "emulator")]
//! A Run whose answer was lost is looked up with Task/List: the task it created is found
//! (and only once, however many identical Runs were lost), a Run cut before the task was
//! created is shown as not created, and a listing that fails says it cannot tell.

use crate::common;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use wiro_nodes::api::{Error, RunLookup};
use wiro_nodes::emulator::{Fault, Operation};

const MODEL: &str = "PixVerse/text-to-video-v4";

#[tokio::test]
async fn an_answer_lost_after_the_task_was_created_finds_that_task() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    // Another task of the model, with other parameters, and one of the same parameters from
    // long before (it must not be taken for this Run's).
    client
        .run(MODEL, &common::small_video("another prompt"))
        .await
        .unwrap();
    let parameters = common::small_video("a lighthouse in fog");
    let sent_at = SystemTime::now();
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    let lost = client.run(MODEL, &parameters).await.unwrap_err();
    assert!(matches!(lost, Error::OutcomeUnknown { .. }), "{lost}");
    assert_eq!(
        emulator.stats().runs_accepted,
        2,
        "the server created the task"
    );

    let lookup = client
        .find_run(MODEL, &parameters, sent_at, &HashSet::new())
        .await
        .unwrap();
    let RunLookup::Found {
        handle, matches, ..
    } = lookup
    else {
        panic!("{lookup:?}")
    };
    assert_eq!(matches, 1);
    assert!(!handle.socketaccesstoken.is_empty());
    let task = client
        .wait_for_task(&handle, &common::quick_wait(), |_| {})
        .await
        .unwrap();
    assert!(task.succeeded());
    assert_eq!(
        task.parameters.as_ref().unwrap()["prompt"],
        "a lighthouse in fog"
    );
    assert_eq!(emulator.stats().runs_accepted, 2, "nothing was sent again");

    // Claimed by this caller already: it is not offered again.
    let claimed: HashSet<String> = [handle.taskid.clone()].into();
    let again = client
        .find_run(MODEL, &parameters, sent_at, &claimed)
        .await
        .unwrap();
    assert!(matches!(again, RunLookup::NotCreated { .. }), "{again:?}");
}

#[tokio::test]
async fn an_answer_cut_before_the_task_was_created_is_shown_as_not_created() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let parameters = common::small_video("a paper boat");
    // A task of the same parameters, sent more than the clock margin before this Run (as if
    // the Run went out that much later), is not this Run's.
    client.run(MODEL, &parameters).await.unwrap();
    let sent_at =
        SystemTime::now() + wiro_nodes::api::FIND_RUN_CLOCK_MARGIN + Duration::from_secs(2);
    emulator.inject(Operation::Run, Fault::DropBeforeEffect, 1);
    let lost = client.run(MODEL, &parameters).await.unwrap_err();
    assert!(matches!(lost, Error::OutcomeUnknown { .. }), "{lost}");
    assert_eq!(emulator.stats().runs_accepted, 1, "no task was created");

    let lookup = client
        .find_run(MODEL, &parameters, sent_at, &HashSet::new())
        .await
        .unwrap();
    assert!(matches!(lookup, RunLookup::NotCreated { .. }), "{lookup:?}");
}

#[tokio::test]
async fn identical_lost_runs_adopt_distinct_tasks() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let parameters = common::small_video("the same prompt twice");
    let sent_at = SystemTime::now();
    emulator.inject(Operation::Run, Fault::DropConnection, 2);
    for _ in 0..2 {
        assert!(client.run(MODEL, &parameters).await.is_err());
    }
    let mut claimed = HashSet::new();
    for expected_matches in [2, 1] {
        match client
            .find_run(MODEL, &parameters, sent_at, &claimed)
            .await
            .unwrap()
        {
            RunLookup::Found {
                handle, matches, ..
            } => {
                assert_eq!(matches, expected_matches);
                assert!(claimed.insert(handle.taskid));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(claimed.len(), 2, "two tasks, each adopted once");
    let third = client
        .find_run(MODEL, &parameters, sent_at, &claimed)
        .await
        .unwrap();
    assert!(matches!(third, RunLookup::NotCreated { .. }), "{third:?}");
}

#[tokio::test]
async fn a_listing_that_fails_cannot_tell() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    emulator.inject(Operation::TaskList, Fault::ServerError, 100);
    let lookup = client
        .find_run(
            MODEL,
            &common::small_video("x"),
            SystemTime::now(),
            &HashSet::new(),
        )
        .await
        .unwrap();
    match lookup {
        RunLookup::CannotTell { reason } => {
            assert!(reason.contains("Task/List failed"), "{reason}");
            assert!(reason.contains("500"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(client
        .find_run(
            "not-a-slug",
            &common::small_video("x"),
            SystemTime::now(),
            &HashSet::new()
        )
        .await
        .is_err());
}

#[tokio::test]
async fn a_lost_run_of_a_model_whose_raw_slug_has_spaces_finds_its_task() {
    // Clients run it by its clean slug; its task records name the raw one (`Acme Labs`).
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let model = "acme-labs/frames-to-video";
    let frame = common::finished_video(&client).await.url;
    let parameters: serde_json::Map<String, serde_json::Value> = serde_json::json!({
        "firstFrameUrl": frame, "lastFrameUrl": frame, "duration": "2"
    })
    .as_object()
    .unwrap()
    .clone();
    let sent_at = SystemTime::now();
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    let lost = client.run(model, &parameters).await.unwrap_err();
    assert!(matches!(lost, Error::OutcomeUnknown { .. }), "{lost}");
    let lookup = client
        .find_run(model, &parameters, sent_at, &HashSet::new())
        .await
        .unwrap();
    assert!(
        matches!(lookup, RunLookup::Found { .. }),
        "the task of a lost Run is found, not sent again: {lookup:?}"
    );
}
