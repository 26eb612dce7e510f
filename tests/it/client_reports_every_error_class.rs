#![cfg(feature = "emulator")]
//! Each documented failure reaches the caller as the variant it is, with the server's words.

use crate::common;
use std::path::Path;

use wiro_nodes::api::{Client, ClientConfig, Credentials, Error, TaskLookup};
use wiro_nodes::emulator::{EmulatorConfig, Fault, Operation};

#[tokio::test]
async fn wrong_secret_is_an_authentication_error() {
    let emulator = common::fast_emulator().await;
    let config = emulator.client_config();
    let config = ClientConfig {
        credentials: Credentials::new(emulator.api_key(), "not-the-secret"),
        ..config
    };
    let client = Client::new(config).unwrap();
    let error = client
        .task_detail(TaskLookup::Id("1".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Authentication { status: 401, .. }),
        "{error}"
    );
    assert!(
        !error.to_string().contains("not-the-secret"),
        "the secret never shows: {error}"
    );
}

#[tokio::test]
async fn key_only_projects_work_without_a_signature() {
    let emulator = common::emulator(EmulatorConfig::with_speed(400.0).key_only()).await;
    let config = ClientConfig {
        credentials: Credentials::key_only(emulator.api_key()),
        ..emulator.client_config()
    };
    let client = Client::new(config).unwrap();
    client.folder_create("plain", None).await.unwrap();
    // And a signed project refuses a key alone, saying so.
    let signed = common::fast_emulator().await;
    let config = ClientConfig {
        credentials: Credentials::key_only(signed.api_key()),
        ..signed.client_config()
    };
    let error = Client::new(config)
        .unwrap()
        .folder_create("plain", None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Authentication { .. }) && error.to_string().contains("signature"),
        "{error}"
    );
}

#[tokio::test]
async fn business_refusals_map_to_their_variants() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let video = common::small_video("x");

    emulator.inject(Operation::Run, Fault::InsufficientBalance, 1);
    let error = client
        .run("PixVerse/text-to-video-v4", &video)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::InsufficientBalance { .. }),
        "{error}"
    );

    emulator.inject(Operation::Run, Fault::ConcurrencyLimit, 1);
    let error = client
        .run("PixVerse/text-to-video-v4", &video)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ConcurrencyLimit { .. }), "{error}");

    let error = client
        .run("PixVerse/no-such-model", &video)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error}");

    let error = client
        .task_detail(TaskLookup::Id("999999".into()))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error}");

    // The server's own validation message comes through word for word.
    let mut bad = video.clone();
    bad.insert("quality".into(), "1080p".into());
    bad.insert("duration".into(), "8".into());
    let error = client
        .run("PixVerse/text-to-video-v4", &bad)
        .await
        .unwrap_err();
    match &error {
        Error::Rejected {
            code: 0, message, ..
        } => assert!(message.contains("duration"), "{message}"),
        other => panic!("{other}"),
    }
    assert_eq!(
        emulator.stats().runs_accepted,
        0,
        "no refused Run started a task"
    );
}

#[tokio::test]
async fn server_errors_and_rate_limits_surface_after_retries() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    emulator.inject(Operation::TaskDetail, Fault::ServerError, 10);
    let error = client
        .task_detail(TaskLookup::Id("1".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Server { status: 500, .. }),
        "{error}"
    );
    assert!(error.is_transient());
    assert_eq!(
        emulator.stats().requests(Operation::TaskDetail),
        4,
        "max_attempts tries"
    );

    let emulator = common::fast_emulator().await;
    let client = Client::new(
        emulator
            .client_config()
            .with_retry(wiro_nodes::api::RetryPolicy::none()),
    )
    .unwrap();
    emulator.inject(
        Operation::FolderCreate,
        Fault::RateLimited {
            retry_after: std::time::Duration::from_secs(7),
        },
        1,
    );
    let error = client.folder_create("x", None).await.unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { retry_after: Some(wait), .. } if wait.as_secs() == 7),
        "{error}"
    );
}

#[tokio::test]
async fn an_unreadable_answer_is_a_protocol_error_with_status_and_snippet() {
    // A server that answers HTML, as a proxy in front of the API might.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let body = "<html>Bad gateway page</html>";
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let config =
        ClientConfig::new(Credentials::new("k", "s")).with_base_url(format!("http://{addr}/v1"));
    let error = Client::new(config)
        .unwrap()
        .task_detail(TaskLookup::Id("1".into()))
        .await
        .unwrap_err();
    match error {
        Error::Protocol {
            status, snippet, ..
        } => {
            assert_eq!(status, 200);
            assert!(snippet.contains("Bad gateway page"));
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn nothing_reaches_the_server_when_a_connection_cannot_be_made() {
    let config = ClientConfig::new(Credentials::new("k", "s"))
        .with_base_url("http://127.0.0.1:9/v1")
        .with_retry(common::quick_retries());
    let error = Client::new(config)
        .unwrap()
        .folder_create("x", None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Connection { .. }), "{error}");
    assert!(error.is_connect(), "the refused connect is kept: {error:?}");
    assert!(!error.is_timeout(), "{error:?}");
    let source = std::error::Error::source(&error).expect("the transport error is kept");
    assert!(
        source.downcast_ref::<reqwest::Error>().is_some(),
        "{source:?}"
    );
}

#[tokio::test]
async fn uploads_the_api_would_refuse_are_refused_before_sending() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("tool.exe");
    std::fs::write(&program, b"MZ").unwrap();
    let error = client.upload(&program, None).await.unwrap_err();
    assert!(
        matches!(&error, Error::InvalidArgument { field, .. } if field == "file"),
        "{error}"
    );

    // A sparse file just over the limit: refused from its size, never read or sent.
    let big = dir.path().join("big.mp4");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(wiro_nodes::api::wire::MAX_UPLOAD_BYTES + 1)
        .unwrap();
    let error = client.upload(&big, None).await.unwrap_err();
    assert!(error.to_string().contains("at most"), "{error}");

    let error = client
        .upload(Path::new("/no/such/file.png"), None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error}");
    assert_eq!(
        emulator.stats().requests(Operation::Upload),
        0,
        "the server saw no upload"
    );
}

#[tokio::test]
async fn a_failed_task_reports_its_debugerror_and_id_and_costs_nothing() {
    let emulator = common::fast_emulator().await;
    let client = common::client(&emulator);
    emulator.inject(Operation::Run, Fault::TaskFails, 1);
    let handle = client
        .run("PixVerse/text-to-video-v4", &common::small_video("doomed"))
        .await
        .unwrap();
    let error = client
        .wait_for_task(&handle, &common::quick_wait(), |_| {})
        .await
        .unwrap_err();
    match &error {
        Error::TaskFailed {
            taskid,
            pexit,
            debugerror,
            ..
        } => {
            assert_eq!(taskid, &handle.taskid);
            assert_ne!(pexit, "0");
            assert!(!debugerror.is_empty());
        }
        other => panic!("{other}"),
    }
    assert!(error.to_string().contains(&handle.taskid));
    let task = client
        .task_detail(TaskLookup::Id(handle.taskid.clone()))
        .await
        .unwrap();
    assert_eq!(task.total_cost().unwrap_or(0.0), 0.0);
}
