//! The editor runs a table of rows through the open workflow as `run --rows` does: every row
//! is checked before anything runs (a refused row named by its row and column, in the CLI's
//! words), the table's total price is shown and capped by a max cost, each row ends with its task, cost and files,
//! `results.csv` can be downloaded, and the same table again pays for nothing.
#![cfg(feature = "editor")]

use std::collections::BTreeMap;

use crate::common;
use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use wiro_nodes::hosts::editor::{EditorHandle, TOKEN_HEADER};

fn flow() -> Value {
    json!({
        "version": 1,
        "nodes": [
            { "id": "video", "type": "pixverse/text-to-video-v4",
              "inputs": { "prompt": "x", "quality": "360p", "duration": 5 } },
            { "id": "wait", "type": "wiro/task.wait",
              "inputs": { "task": { "$from": "video.task" }, "poll_seconds": 0.05 } },
            { "id": "save", "type": "wiro/output.download",
              "inputs": { "outputs": { "$from": "wait.outputs" } } }
        ]
    })
}

/// Three rows as a spreadsheet exports them: a BOM, a quoted comma, UTF-8.
const TABLE: &str =
    "\u{feff}video.prompt,video.seed\r\n\"a fox, running\",1\r\nÇa va — naïve,2\r\nthe sea,3\r\n";

/// Row 3 asks for a quality PixVerse does not make.
const BAD_TABLE: &str = "video.prompt,video.quality\nfox,360p\n\"fox, again\",4k\n";

fn store(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join("uploads")).unwrap();
    std::fs::write(dir.join("uploads").join(name), text).unwrap();
}

async fn post(editor: &EditorHandle, path: &str, body: Value) -> (u16, Value) {
    let answer = http()
        .post(format!("{}{path}", editor_base(editor)))
        .header(TOKEN_HEADER, editor.token())
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

/// A run of a table as the page follows it: its `run_started`, the files each node's own end
/// (`finished` or `resumed`) linked before the run ended, and its `run_finished`.
struct TableRun {
    started: Value,
    files_live: BTreeMap<String, Value>,
    end: Value,
}

/// Starts a run of the table and follows its events.
async fn run_table(editor: &EditorHandle, table: &str) -> TableRun {
    let (status, answer) = post(
        editor,
        "/api/run",
        json!({ "workflow": flow(), "rows": table }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    // A page that connects after the start sees the whole run from its first event.
    let events = format!("ws://{}/api/events?token={}", editor.addr(), editor.token());
    let (mut socket, _) = tokio_tungstenite::connect_async(&events).await.unwrap();
    let mut started = Value::Null;
    let mut files_live = BTreeMap::new();
    loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            panic!("the socket closed before the run ended");
        };
        let event: Value = serde_json::from_str(&text).unwrap();
        match event["kind"].as_str() {
            Some("run_started") => started = event,
            Some("finished" | "resumed") => {
                let node = event["node"].as_str().unwrap().to_owned();
                files_live.insert(node, event["files"].clone());
            }
            Some("run_finished") => {
                return TableRun {
                    started,
                    files_live,
                    end: event,
                }
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_table_is_checked_whole_and_priced_before_anything_runs() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    store(dir.path(), "bad.csv", BAD_TABLE);
    store(dir.path(), "table.csv", TABLE);

    let (status, check) = post(
        &editor,
        "/api/rows",
        json!({ "workflow": flow(), "table": "uploads/bad.csv" }),
    )
    .await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["rows"][0]["row"], 2, "{check}");
    assert_eq!(check["rows"][0]["problems"], json!([]), "{check}");
    assert_eq!(check["rows"][1]["row"], 3, "{check}");
    assert_eq!(check["rows"][1]["cells"]["video.prompt"], "fox, again");
    let refused = check["rows"][1]["problems"][0].as_str().unwrap();
    assert!(
        refused.starts_with("row 3, column video.quality: "),
        "{refused}"
    );
    assert!(check.get("total").is_none(), "a refused table has no price");

    let (status, answer) = post(
        &editor,
        "/api/run",
        json!({ "workflow": flow(), "rows": "uploads/bad.csv" }),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["table_problems"], json!([refused]), "{answer}");
    assert_eq!(emulator.stats().runs_accepted, 0, "nothing was sent");

    let (_, check) = post(
        &editor,
        "/api/rows",
        json!({ "workflow": flow(), "table": "uploads/table.csv" }),
    )
    .await;
    assert_eq!(check["problems"], json!([]), "{check}");
    assert_eq!(check["columns"], json!(["video.prompt", "video.seed"]));
    assert_eq!(check["rows"].as_array().unwrap().len(), 3, "{check}");
    assert_eq!(check["rows"][1]["cells"]["video.prompt"], "Ça va — naïve");
    let total = check["total"].as_f64().expect("the table's total price");
    assert!((total - 3.0 * 0.45).abs() < 1e-9, "{check}");

    let (status, capped) = post(
        &editor,
        "/api/run",
        json!({ "workflow": flow(), "rows": "uploads/table.csv", "max_cost": 1.0 }),
    )
    .await;
    assert_eq!(status, 422, "{capped}");
    assert!(
        capped["error"]
            .as_str()
            .unwrap()
            .starts_with("the estimated price $1.35 exceeds the max cost $1.00;"),
        "{capped}"
    );

    let (_, outside) = post(
        &editor,
        "/api/rows",
        json!({ "workflow": flow(), "table": "../table.csv" }),
    )
    .await;
    assert!(
        outside["problems"][0]
            .as_str()
            .unwrap()
            .contains("inside the workspace"),
        "{outside}"
    );
    assert_eq!(emulator.stats().runs_accepted, 0, "checks run nothing");
}

#[tokio::test]
async fn the_rows_endpoint_is_guarded_like_every_other() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    store(dir.path(), "table.csv", TABLE);
    let body = json!({ "workflow": flow(), "table": "uploads/table.csv" });
    let url = format!("{}/api/rows", editor_base(&editor));
    let without = http().post(&url).json(&body).send().await.unwrap();
    assert_eq!(without.status().as_u16(), 401);
    let foreign = http()
        .post(&url)
        .header(TOKEN_HEADER, editor.token())
        .header("origin", "http://127.0.0.1:1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 403);
}

#[tokio::test]
async fn a_table_runs_each_row_to_its_files_and_results_and_runs_again_for_free() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    store(dir.path(), "table.csv", TABLE);

    let TableRun {
        started,
        files_live,
        end,
    } = run_table(&editor, "uploads/table.csv").await;
    let rows = started["rows"]
        .as_array()
        .expect("the rows and their nodes");
    assert_eq!(rows.len(), 3, "{started}");
    assert_eq!(
        rows[0],
        json!({ "row": 2, "nodes": ["row-0002-video", "row-0002-wait", "row-0002-save"] })
    );
    assert_eq!(end["outcome"], "succeeded", "{end}");
    let results = end["rows"].as_array().expect("each row's result");
    assert_eq!(results.len(), 3, "{end}");
    for (result, line) in results.iter().zip(2..) {
        assert_eq!(result["row"], line, "{result}");
        assert_eq!(result["outcome"], "done", "{result}");
        assert_eq!(result["tasks"].as_array().unwrap().len(), 1, "{result}");
        assert!((result["cost"].as_f64().unwrap() - 0.45).abs() < 1e-9);
        let file = &result["files"][0];
        let name = file["name"].as_str().unwrap();
        assert!(name.starts_with(&format!("row-{line:04}/")), "{name}");
        // The page could link the file when the row's download ended, before the run did.
        assert_eq!(
            files_live[&format!("row-{line:04}-save")],
            json!([file]),
            "{files_live:?}"
        );
        let video = http()
            .get(format!(
                "{}{}?token={}",
                editor_base(&editor),
                file["url"].as_str().unwrap(),
                editor.token()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(video.headers()["content-type"], "video/mp4");
    }
    assert_eq!(emulator.stats().runs_accepted, 3);

    let link = end["results"]["url"].as_str().expect("the results table");
    let csv = http()
        .get(format!(
            "{}{link}?token={}&download=true",
            editor_base(&editor),
            editor.token()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv,
        std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap()
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "row,outcome,tasks,cost,files,error");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].starts_with("2,done,"), "{csv}");

    // Waits until the run has wholly ended (its end is published just before), then the same
    // table again: every row is in the journal.
    editor.stop_run().await;
    let TableRun {
        files_live,
        end: again,
        ..
    } = run_table(&editor, "uploads/table.csv").await;
    assert_eq!(again["outcome"], "succeeded", "{again}");
    assert_eq!(
        files_live["row-0003-save"][0]["name"], end["rows"][1]["files"][0]["name"],
        "a resumed row links the files it kept"
    );
    let done = again["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["outcome"] == "done")
        .count();
    assert_eq!(done, 3, "{again}");
    assert_eq!(emulator.stats().runs_accepted, 3, "nothing is paid twice");

    // A row edited after its Run was paid: the max cost caps the whole run, the $0.45 paid
    // for its earlier cells with it, so the table's $1.35 does not fit under $1.35.
    editor.stop_run().await;
    store(
        dir.path(),
        "table.csv",
        &TABLE.replace("the sea", "the lake"),
    );
    let (status, capped) = post(
        &editor,
        "/api/run",
        json!({ "workflow": flow(), "rows": "uploads/table.csv", "max_cost": 1.35 }),
    )
    .await;
    assert_eq!(status, 422, "{capped}");
    assert!(
        capped["error"].as_str().unwrap().starts_with(
            "the estimated price $1.80, counting 1 task that earlier runs here paid (or will be charged) for cells no row of the table has now, exceeds the max cost $1.35;"
        ),
        "{capped}"
    );
    assert_eq!(emulator.stats().runs_accepted, 3, "nothing was sent");
}

#[tokio::test]
async fn a_row_that_changed_and_failed_has_the_earlier_video_moved_aside_and_told() {
    // Enough credit for one video.
    let emulator = common::emulator(wiro_nodes::emulator::EmulatorConfig {
        balance: Some(0.45),
        ..wiro_nodes::emulator::EmulatorConfig::with_speed(400.0)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let editor = editor(&emulator, dir.path()).await;
    store(dir.path(), "table.csv", "video.prompt\nboat\n");
    let first = run_table(&editor, "uploads/table.csv").await.end;
    assert_eq!(first["outcome"], "succeeded", "{first}");
    assert_eq!(first["notes"], json!([]), "{first}");
    editor.stop_run().await;

    // Another prompt, which the account cannot pay for: the row fails, and the boat's video
    // is not left in its folder as if it were the row's result.
    store(dir.path(), "table.csv", "video.prompt\na new boat\n");
    let again = run_table(&editor, "uploads/table.csv").await.end;
    assert_eq!(again["outcome"], "failed", "{again}");
    let video = "row-0002/row-0002-save-0.mp4";
    assert!(!dir.path().join("out").join(video).exists(), "{again}");
    assert!(dir.path().join("out/replaced").join(video).exists());
    let notes = again["notes"].as_array().expect("the run's notes");
    let said = |at: usize, start: &str| notes[at].as_str().unwrap().starts_with(start);
    assert!(
        notes.len() == 2
            && said(0, "warning: earlier runs in this folder also paid $0.45 for 1 task of cells this table no longer has")
            && said(1, "note: 1 file in row folders was not its row's result now"),
        "{again}"
    );

    // A row folder of no row of the table (an earlier, longer table's) is named, as the CLI
    // names it.
    std::fs::create_dir_all(dir.path().join("out/row-0009")).unwrap();
    editor.stop_run().await;
    let third = run_table(&editor, "uploads/table.csv").await.end;
    let notes = third["notes"].to_string();
    assert!(
        notes.contains("1 row folder in")
            && notes.contains("belongs to no row of this table")
            && notes.contains(": row-0009"),
        "{third}"
    );
}

/// A workspace someone else wrote may hold links out of it: the editor neither reads a table
/// through one nor writes an upload or a saved workflow through one.
#[cfg(unix)]
#[tokio::test]
async fn links_in_the_workspace_lead_nowhere_outside_it() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.env");
    let victim = outside.path().join("victim.txt");
    std::fs::write(&secret, "export WIRO_API_SECRET=hush\n").unwrap();
    std::fs::write(&victim, "ORIGINAL").unwrap();
    store(dir.path(), "table.csv", TABLE);
    let link = |name: &str, to: &std::path::Path| {
        std::os::unix::fs::symlink(to, dir.path().join(name)).unwrap()
    };
    link("uploads/leak.csv", &secret);
    link("uploads/photo.png", &victim);
    link("flow.json", &victim);
    let editor = editor(&emulator, dir.path()).await;

    let (status, answer) = post(
        &editor,
        "/api/rows",
        json!({ "workflow": flow(), "table": "uploads/leak.csv" }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["problems"][0]
            .as_str()
            .is_some_and(|problem| problem.contains("a table is a file inside the workspace")),
        "{answer}"
    );
    assert!(!answer.to_string().contains("hush"), "{answer}");

    let (status, answer) = post(
        &editor,
        "/api/save",
        json!({ "name": "flow.json", "workflow": flow() }),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"PWNED".to_vec()).file_name("photo.png"),
    );
    let uploaded = http()
        .post(format!("{}/api/files", editor_base(&editor)))
        .header(TOKEN_HEADER, editor.token())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status().as_u16(), 422);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "ORIGINAL");

    // A table inside the workspace still checks.
    let (status, answer) = post(
        &editor,
        "/api/rows",
        json!({ "workflow": flow(), "table": "uploads/table.csv" }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

/// What stands where the run writes is found before any Run, as the CLI finds it in --out.
#[tokio::test]
async fn a_table_whose_results_could_not_be_written_sends_nothing() {
    let emulator = fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    store(dir.path(), "table.csv", TABLE);
    std::fs::create_dir_all(dir.path().join("out/results.csv")).unwrap();
    std::fs::write(dir.path().join("out/row-0002"), "not a folder").unwrap();
    // A shared workspace's row folder that leads elsewhere: nothing is written or moved there.
    let elsewhere = tempfile::tempdir().unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("out/row-0003")).unwrap();
    let editor = editor(&emulator, dir.path()).await;
    let (status, answer) = post(
        &editor,
        "/api/run",
        json!({ "workflow": flow(), "rows": "uploads/table.csv" }),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("results.csv is a folder")
            && error.contains("row-0002 is a file")
            && (cfg!(not(unix)) || error.contains("row-0003 is a link"))
            && error.ends_with("nothing was sent"),
        "{answer}"
    );
    assert_eq!(emulator.stats().runs_accepted, 0);
}
