#![cfg(feature = "emulator")]
//! Task/List pages through the project's tasks newest first, filtered by model; and
//! Task/InputOutputDelete removes a finished task's files from the CDN, once or twice, and
//! refuses a task that is still running or does not exist.

use crate::common;
use wiro_nodes::api::{Error, TaskListQuery, TaskLookup};
use wiro_nodes::emulator::EmulatorConfig;

#[tokio::test]
async fn tasks_are_listed_newest_first_by_model_and_page() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let mut ids = Vec::new();
    for prompt in ["one", "two", "three"] {
        let handle = client
            .run("PixVerse/text-to-video-v4", &common::small_video(prompt))
            .await
            .unwrap();
        ids.push(handle.taskid);
    }
    let mut image = common::small_video("four");
    image.remove("aspectRatio");
    image.insert("inputImageUrl".into(), "https://example.com/a.png".into());
    client
        .run("PixVerse/image-to-video-v4", &image)
        .await
        .unwrap();

    let everything = client.task_list(&TaskListQuery::default()).await.unwrap();
    assert_eq!(everything.total, Some(4));
    assert!(everything.is_last());

    let first = client
        .task_list(&TaskListQuery::of_model("pixverse/TEXT-to-video-v4").page(0, 2))
        .await
        .unwrap();
    assert_eq!(first.total, Some(3));
    let listed: Vec<&str> = first.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(listed, [ids[2].as_str(), ids[1].as_str()]);
    assert!(!first.is_last());
    let second = client
        .task_list(&TaskListQuery::of_model("PixVerse/text-to-video-v4").page(2, 2))
        .await
        .unwrap();
    assert_eq!(second.tasks.len(), 1);
    assert_eq!(second.tasks[0].id, ids[0]);
    assert_eq!(
        second.tasks[0].extra["modelslugproject"],
        "text-to-video-v4"
    );
    assert!(second.is_last());
}

#[tokio::test]
async fn a_finished_task_files_are_deleted_and_deleting_again_is_fine() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let handle = client
        .run(
            "PixVerse/text-to-video-v4",
            &common::small_video("delete me"),
        )
        .await
        .unwrap();
    let task = client
        .wait_for_task(&handle, &common::quick_wait(), |_| {})
        .await
        .unwrap();
    let url = task.outputs[0].url.clone();
    assert_eq!(common::http().get(&url).send().await.unwrap().status(), 200);

    client
        .delete_task_files(TaskLookup::Token(handle.socketaccesstoken.clone()))
        .await
        .unwrap();
    assert_eq!(common::http().get(&url).send().await.unwrap().status(), 404);
    let after = client.task_detail(&handle.taskid).await.unwrap();
    assert!(after.outputs.is_empty());
    assert!(after.succeeded(), "the record stays");
    // Again, and by id (its token is read first): still fine.
    client.delete_task_files(&handle.taskid).await.unwrap();
}

#[tokio::test]
async fn a_running_or_unknown_task_is_refused_in_the_server_words() {
    let emulator = common::emulator(EmulatorConfig::with_speed(0.05)).await;
    let client = common::client(&emulator);
    let handle = client
        .run(
            "PixVerse/text-to-video-v4",
            &common::small_video("still going"),
        )
        .await
        .unwrap();
    match client
        .delete_task_files(TaskLookup::Token(handle.socketaccesstoken.clone()))
        .await
    {
        Err(Error::Rejected { message, .. }) => {
            assert!(
                message.contains("must be completed or cancelled"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    match client
        .delete_task_files(TaskLookup::Token("no-such-token".into()))
        .await
    {
        Err(Error::NotFound { message }) => {
            assert!(message.contains("task-not-exist"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    client.stop_task(&handle).await.unwrap();
    client
        .delete_task_files(TaskLookup::Token(handle.socketaccesstoken.clone()))
        .await
        .unwrap();
}
