#![cfg(feature = "cli")]
//! A catalogue of mistakes and hostile inputs, each run through `wiro-nodes run` as a user
//! would: every one exits 2 with a message that names the field or the rule, and not one
//! request reaches the server — nothing is spent on a mistake.

use crate::common;
use std::path::Path;
use std::process::Stdio;

use serde_json::{json, Value};
use wiro_nodes::emulator::EmulatorConfig;

/// One bad input: the workflow (or raw text), extra arguments and environment, and what the
/// message must say.
struct Case {
    name: &'static str,
    workflow: Workflow,
    args: Vec<&'static str>,
    env: Vec<(&'static str, &'static str)>,
    says: &'static str,
}

enum Workflow {
    Json(Value),
    Text(&'static str),
}

fn case(name: &'static str, workflow: Value, says: &'static str) -> Case {
    Case {
        name,
        workflow: Workflow::Json(workflow),
        args: Vec::new(),
        env: Vec::new(),
        says,
    }
}

fn text(name: &'static str, workflow: &'static str, says: &'static str) -> Case {
    Case {
        workflow: Workflow::Text(workflow),
        ..case(name, Value::Null, says)
    }
}

fn with_args(args: Vec<&'static str>, case: Case) -> Case {
    Case { args, ..case }
}

fn with_env(env: Vec<(&'static str, &'static str)>, case: Case) -> Case {
    Case { env, ..case }
}

fn one(node: Value) -> Value {
    json!({ "version": 1, "nodes": [node] })
}

fn video(inputs: Value) -> Value {
    one(json!({ "id": "video", "type": "pixverse/text-to-video-v4", "inputs": inputs }))
}

fn upload(path: &str) -> Value {
    one(json!({ "id": "image", "type": "wiro/file.upload", "inputs": { "path": path } }))
}

fn chain(wait_inputs: Value) -> Value {
    json!({ "version": 1, "nodes": [
        { "id": "video", "type": "pixverse/text-to-video-v4", "inputs": { "prompt": "a fox" } },
        { "id": "wait", "type": "wiro/task.wait", "inputs": wait_inputs },
    ] })
}

fn catalogue() -> Vec<Case> {
    let huge_prompt = "x".repeat(50 * 1024 * 1024);
    vec![
        text("an array", "[1, 2, 3]", "a workflow is a JSON object"),
        text("not JSON", "{ not json", "not JSON"),
        case(
            "no nodes field",
            json!({ "version": 1 }),
            "nodes is missing",
        ),
        case(
            "version as text",
            json!({ "version": "one", "nodes": [] }),
            "version must be a whole number",
        ),
        case(
            "version 2",
            json!({ "version": 2, "nodes": [{ "id": "a", "type": "wiro/task.detail", "inputs": {} }] }),
            "format version 2",
        ),
        case(
            "an unknown top field",
            json!({ "version": 1, "nodez": [] }),
            "unknown field \"nodez\"",
        ),
        case(
            "a node that is text",
            json!({ "version": 1, "nodes": ["video"] }),
            "nodes[0] must be an object",
        ),
        case(
            "a numeric node id",
            json!({ "version": 1, "nodes": [{ "id": 7, "type": "wiro/task.detail" }] }),
            "nodes[0].id must be text",
        ),
        case(
            "a node without type",
            json!({ "version": 1, "nodes": [{ "id": "a" }] }),
            "nodes[0].type is missing",
        ),
        case(
            "inputs as a list",
            json!({ "version": 1, "nodes": [{ "id": "a", "type": "wiro/task.detail", "inputs": [] }] }),
            "nodes[0].inputs must be an object",
        ),
        case(
            "an unknown node type",
            one(json!({ "id": "a", "type": "wiro/nope", "inputs": {} })),
            "unknown node type",
        ),
        case(
            "two nodes with one id",
            json!({ "version": 1, "nodes": [
                { "id": "a", "type": "pixverse/text-to-video-v4", "inputs": { "prompt": "x" } },
                { "id": "a", "type": "pixverse/text-to-video-v4", "inputs": { "prompt": "y" } }] }),
            "two nodes have this id",
        ),
        case(
            "a node id with spaces",
            one(json!({ "id": "my node", "type": "wiro/task.detail", "inputs": {} })),
            "node id must be",
        ),
        case(
            "no nodes at all",
            json!({ "version": 1, "nodes": [] }),
            "no nodes",
        ),
        case(
            "an unknown input",
            video(json!({ "prompt": "x", "qualty": "540p" })),
            "has no input \"qualty\"",
        ),
        case(
            "a missing prompt",
            video(json!({ "quality": "540p" })),
            "input \"prompt\" is required",
        ),
        case(
            "an unknown quality",
            video(json!({ "prompt": "x", "quality": "4k" })),
            "quality",
        ),
        case(
            "1080p for 8 s",
            video(json!({ "prompt": "x", "quality": "1080p", "duration": 8 })),
            "pixverse/1080p-max-5s",
        ),
        case(
            "1080p fast",
            video(json!({ "prompt": "x", "quality": "1080p", "motionMode": "fast" })),
            "pixverse/1080p-not-fast",
        ),
        case(
            "fast for 8 s",
            video(json!({ "prompt": "x", "motionMode": "fast", "duration": 8 })),
            "pixverse/fast-needs-5s",
        ),
        case(
            "a prompt of spaces",
            video(json!({ "prompt": "   \t " })),
            "not-blank",
        ),
        case(
            "a 50 MB prompt",
            video(json!({ "prompt": huge_prompt })),
            "input \"prompt\": is 52,428,800 characters long; at most 2,048 [maxLength]",
        ),
        case(
            "a prompt over 2048 characters",
            video(json!({ "prompt": "y".repeat(2049) })),
            "input \"prompt\": is 2,049 characters long; at most 2,048 [maxLength]",
        ),
        case(
            "a seed out of range",
            video(json!({ "prompt": "x", "seed": 4_000_000_000u64 })),
            "seed",
        ),
        case(
            "a watermark that is text",
            video(json!({ "prompt": "x", "Watermark": "maybe" })),
            "Watermark",
        ),
        case(
            "a reference to a missing node",
            chain(json!({ "task": { "$from": "nobody.task" } })),
            "not in the workflow",
        ),
        case(
            "a reference to a missing port",
            chain(json!({ "task": { "$from": "video.handle" } })),
            "has no output \"handle\"",
        ),
        case(
            "a reference into a missing field",
            json!({ "version": 1, "nodes": [
                { "id": "video", "type": "pixverse/text-to-video-v4", "inputs": { "prompt": "a fox" } },
                { "id": "wait", "type": "wiro/task.wait", "inputs": { "task": { "$from": "video.task" } } },
                { "id": "get", "type": "wiro/output.download",
                  "inputs": { "outputs": [{ "$from": "wait.task.nosuchfield" }] } }] }),
            "has no field \"nosuchfield\"",
        ),
        case(
            "a reference that is a number",
            chain(json!({ "task": { "$from": 42 } })),
            "a reference is",
        ),
        case(
            "a reference with extra fields",
            chain(json!({ "task": { "$from": "video.task", "x": 1 } })),
            "other fields",
        ),
        case(
            "a malformed reference in model.run's parameters",
            one(json!({ "id": "run", "type": "wiro/model.run",
                "inputs": { "model": "someone/model", "parameters": { "prompt": { "$from": 42 } } } })),
            "a reference is",
        ),
        case(
            "a node referring to itself",
            one(json!({ "id": "wait", "type": "wiro/task.wait",
                "inputs": { "task": { "$from": "wait.task" } } })),
            "cycle",
        ),
        case(
            "a cycle of two",
            json!({ "version": 1, "nodes": [
                { "id": "a", "type": "wiro/task.detail", "inputs": { "task": { "$from": "b.task.handle" } } },
                { "id": "b", "type": "wiro/task.wait", "inputs": { "task": { "$from": "a.detail" } } }] }),
            "cycle",
        ),
        case(
            "an edge between different types",
            json!({ "version": 1, "nodes": [
                { "id": "image", "type": "wiro/file.upload", "inputs": { "path": "meadow.png" } },
                { "id": "wait", "type": "wiro/task.wait", "inputs": { "task": { "$from": "image.file" } } }] }),
            "edge-type",
        ),
        case(
            "model.run with PixVerse at 1080p for 8 s",
            one(json!({ "id": "run", "type": "wiro/model.run",
                "inputs": { "model": "pixverse/text-to-video-v4",
                    "parameters": { "prompt": "x", "quality": "1080p", "duration": "8" } } })),
            "parameters/duration",
        ),
        case(
            "model.run with a malformed slug",
            one(
                json!({ "id": "run", "type": "wiro/model.run", "inputs": { "model": "no slash" } }),
            ),
            "model",
        ),
        case(
            "a wait that never waits",
            chain(json!({ "task": { "$from": "video.task" }, "timeout_seconds": 0 })),
            "timeout_seconds",
        ),
        case(
            "a poll every two hours",
            chain(json!({ "task": { "$from": "video.task" }, "poll_seconds": 7200 })),
            "poll_seconds",
        ),
        case(
            "an upload of a missing file",
            upload("missing.png"),
            "no such file",
        ),
        case(
            "an upload of a folder",
            upload("folder.png"),
            "regular-file",
        ),
        case("an upload of a program", upload("tool.exe"), "file-type"),
        case(
            "an upload whose content is not its name",
            upload("fake.png"),
            "file-content",
        ),
        case(
            "an upload through a symlink out of the folder",
            upload("link.txt"),
            "outside the folders",
        ),
        case(
            "an upload of ../outside.png",
            upload("../outside.png"),
            "outside the folders",
        ),
        case(
            "an upload of an absolute path elsewhere",
            upload("/etc/hostname"),
            "outside the folders",
        ),
        case("an upload over 100 MB", upload("huge.mp4"), "max-size"),
        case(
            "a download from this machine's loopback",
            one(json!({ "id": "grab", "type": "wiro/output.download",
                "inputs": { "outputs": [{ "url": "http://127.0.0.1:1/secret", "name": "x" }] } })),
            "not handed out by the API",
        ),
        case(
            "a missing upload beside an independent paid node",
            json!({ "version": 1, "nodes": [
                { "id": "image", "type": "wiro/file.upload", "inputs": { "path": "missing.png" } },
                { "id": "video", "type": "pixverse/text-to-video-v4",
                  "inputs": { "prompt": "paid, and independent" } }] }),
            "no such file",
        ),
        with_args(
            vec!["--set", "no-equals-sign"],
            case(
                "a --set without =",
                video(json!({ "prompt": "x" })),
                "NODE.INPUT=VALUE",
            ),
        ),
        with_args(
            vec!["--set", "ghost.prompt=x"],
            case(
                "a --set for a missing node",
                video(json!({ "prompt": "x" })),
                "no node \"ghost\"",
            ),
        ),
        with_args(
            vec!["--concurrency", "0"],
            case(
                "no concurrency at all",
                video(json!({ "prompt": "x" })),
                "concurrency",
            ),
        ),
    ]
}

/// Cases whose environment points elsewhere: no emulator is asked.
fn settings_catalogue() -> Vec<Case> {
    let ok = || video(json!({ "prompt": "x" }));
    vec![
        with_env(
            vec![("WIRO_API_KEY", "k"), ("WIRO_BASE_URL", "not a url")],
            case("a base URL that is not a URL", ok(), "WIRO_BASE_URL"),
        ),
        with_env(
            vec![
                ("WIRO_API_KEY", "k"),
                ("WIRO_BASE_URL", "file:///etc/passwd"),
            ],
            case("a file:// base URL", ok(), "file://"),
        ),
        with_env(
            vec![
                ("WIRO_API_KEY", "k"),
                ("WIRO_SOCKET_URL", "http://127.0.0.1:1/v1"),
            ],
            case("a socket URL that is not ws", ok(), "WIRO_SOCKET_URL"),
        ),
        with_env(
            vec![
                ("WIRO_API_KEY", ""),
                ("WIRO_BASE_URL", "http://127.0.0.1:1/v1"),
            ],
            case("an address without a key", ok(), "WIRO_API_KEY"),
        ),
    ]
}

/// The folder the workflows live in, with the files the upload cases need.
fn flow_folder(root: &Path) -> std::path::PathBuf {
    let flow = root.join("flow");
    std::fs::create_dir(&flow).unwrap();
    let meadow = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/meadow.png");
    std::fs::copy(meadow, flow.join("meadow.png")).unwrap();
    std::fs::create_dir(flow.join("folder.png")).unwrap();
    std::fs::write(flow.join("tool.exe"), b"MZ\x90\x00").unwrap();
    std::fs::write(flow.join("fake.png"), b"MZ\x90\x00 not an image").unwrap();
    std::fs::write(root.join("outside.png"), b"\x89PNG\r\n\x1a\n").unwrap();
    let huge = std::fs::File::create(flow.join("huge.mp4")).unwrap();
    huge.set_len(101 * 1024 * 1024).unwrap(); // sparse: takes no disk
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", flow.join("link.txt")).unwrap();
    #[cfg(not(unix))]
    std::fs::write(flow.join("link.txt"), "no symlinks here").unwrap();
    flow
}

async fn assert_refused(
    mut command: tokio::process::Command,
    flow: &Path,
    index: usize,
    case: &Case,
) {
    let file = flow.join(format!("case-{index}.json"));
    match &case.workflow {
        Workflow::Json(value) => std::fs::write(&file, value.to_string()).unwrap(),
        Workflow::Text(text) => std::fs::write(&file, text).unwrap(),
    }
    command
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(flow.join("out"))
        .args(&case.args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in &case.env {
        command.env(name, value);
    }
    let output = command.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let shown = wiro_nodes::node::cut(&stderr, 2000);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}: expected exit 2 (refused, nothing sent)\n{shown}",
        case.name
    );
    assert!(
        stderr.contains(case.says),
        "{}: the message should say {:?}:\n{shown}",
        case.name,
        case.says
    );
    assert!(
        stderr.len() < 20_000,
        "{}: the message repeats the input whole ({} bytes)",
        case.name,
        stderr.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_exits_2_naming_the_problem_and_sends_nothing() {
    let emulator = common::emulator(EmulatorConfig::with_speed(100.0)).await;
    let root = tempfile::tempdir().unwrap();
    let flow = flow_folder(root.path());
    let cases = catalogue();
    for (index, case) in cases.iter().enumerate() {
        assert_refused(common::binary_for(&emulator), &flow, index, case).await;
    }
    let settings = settings_catalogue();
    for (index, case) in settings.iter().enumerate() {
        assert_refused(common::binary(), &flow, cases.len() + index, case).await;
    }
    assert!(cases.len() + settings.len() >= 40);
    let stats = emulator.stats();
    assert_eq!(stats.requests.values().sum::<u64>(), 0, "{stats:?}");
    assert_eq!(stats.runs_accepted, 0);
}

#[tokio::test]
async fn an_out_that_is_a_file_is_refused_before_any_request() {
    let emulator = common::emulator(EmulatorConfig::with_speed(100.0)).await;
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("wf.json");
    std::fs::write(&file, video(json!({ "prompt": "x" })).to_string()).unwrap();
    let taken = root.path().join("results.txt");
    std::fs::write(&taken, "not a folder").unwrap();
    // A file, below a file, or where nothing can be written (/proc refuses files even to
    // root): each names what is wrong.
    let cases = [
        (taken.clone(), "results.txt is a file, not a folder"),
        (taken.join("videos"), "results.txt is a file, not a folder"),
        ("/proc/wiro-nodes-out".into(), "cannot write in /proc"),
    ];
    for (out, why) in cases {
        let output = common::binary_for(&emulator)
            .arg("run")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(why) && stderr.contains("nothing was sent"),
            "{stderr}"
        );
    }
    let stats = emulator.stats();
    assert_eq!(stats.requests.values().sum::<u64>(), 0, "{stats:?}");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "not a folder");
}
