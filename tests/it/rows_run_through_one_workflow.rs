#![cfg(feature = "cli")]
//! `run --rows TABLE`: a spreadsheet's CSV (a BOM, quoted commas, UTF-8) runs the flow once per
//! row at the account's limit, with a results table; an impossible row or a price over
//! `--max-cost` sends nothing; running again pays for nothing, and a changed row runs alone.

use crate::common;
use std::path::Path;
use std::process::{Output, Stdio};

use wiro_nodes::emulator::{EmulatorConfig, Fault, Operation};

const FLOW: &str = r#"{"version": 1, "nodes": [
 {"id": "video", "type": "pixverse/text-to-video-v4", "inputs": {"prompt": "x", "quality": "360p", "duration": 5}},
 {"id": "wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "video.task"}, "poll_seconds": 0.05}},
 {"id": "save", "type": "wiro/output.download", "inputs": {"outputs": {"$from": "wait.outputs"}}}]}"#;

/// A 12-row table as a spreadsheet exports it.
fn table(changed_row: Option<usize>) -> String {
    let mut text = String::from("\u{feff}video.prompt,video.seed\r\n");
    for row in 0..12 {
        let prompt = match changed_row {
            Some(changed) if changed == row => format!("\"a new prompt, row {row}\""),
            _ => format!("\"a fox, scene {row} — « naïve »\""),
        };
        text.push_str(&format!("{prompt},{row}\r\n"));
    }
    text
}

async fn run(
    emulator: &wiro_nodes::emulator::EmulatorHandle,
    dir: &Path,
    rows: &str,
    extra: &[&str],
) -> Output {
    common::binary_for(emulator)
        .current_dir(dir)
        .args(["run", "flow.json", "--rows", rows, "--out", "out"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap()
}

/// A fast emulator and a folder where the table "a boat, a mug" ran through [`FLOW`] to its end.
async fn boat_and_mug_run() -> (wiro_nodes::emulator::EmulatorHandle, tempfile::TempDir) {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na boat\na mug\n",
    )
    .unwrap();
    let first = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    (emulator, dir)
}

/// Starts `run flow.json --rows table.csv --out out` in `dir` and kills it (SIGKILL: no
/// chance to tidy up) once the emulator has accepted `runs` Runs.
async fn run_killed_after(emulator: &wiro_nodes::emulator::EmulatorHandle, dir: &Path, runs: u64) {
    let mut run = common::binary_for(emulator)
        .current_dir(dir)
        .args(["run", "flow.json", "--rows", "table.csv", "--out", "out"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while emulator.stats().runs_accepted < runs {
        assert!(
            std::time::Instant::now() < deadline,
            "the run did not get going"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    run.start_kill().unwrap();
    run.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_rows_give_twelve_runs_files_and_results_and_resume_pays_for_nothing() {
    let emulator = common::emulator(EmulatorConfig {
        max_running: Some(4),
        max_queued: Some(0),
        ..EmulatorConfig::with_speed(200.0)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(dir.path().join("table.csv"), table(None)).unwrap();
    let output = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 12);
    assert!(
        stderr.contains("rows: 12/12 done, 0 failed, 0 in flight"),
        "the progress line counts rows: {stderr}"
    );
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    let lines: Vec<&str> = results.lines().collect();
    assert_eq!(lines.len(), 13, "a header and 12 rows:\n{results}");
    assert!(lines[1].starts_with("2,done,"), "{results}");
    for row in 2..=13 {
        let folder = dir.path().join(format!("out/row-{row:04}"));
        let files: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
        assert_eq!(files.len(), 1, "{}", folder.display());
    }

    // The same command again: every row is in the journal, nothing is sent. With --json, the
    // rows' results come on stdout too, and in results.jsonl beside results.csv.
    let again = run(&emulator, dir.path(), "table.csv", &["--json"]).await;
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(emulator.stats().runs_accepted, 12, "nothing is paid twice");
    // Progress counts what this run spent (nothing); the summary, what the table cost in all.
    let stderr = String::from_utf8_lossy(&again.stderr);
    let progress = stderr
        .lines()
        .rfind(|line| line.contains("rows: 12/12 done"));
    assert!(
        progress.is_some_and(|line| line.ends_with("spent $0.00")),
        "{stderr}"
    );
    assert!(stderr.contains("charged for its rows"), "{stderr}");
    assert!(
        stderr.contains("the price counts every Run, also those an earlier run already paid for"),
        "the price of a resume is said to be the whole table's: {stderr}"
    );
    let stdout = String::from_utf8(again.stdout).unwrap();
    let printed: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(printed.len(), 12, "{stdout}");
    assert!(
        printed.iter().all(|row| row["outcome"] == "done"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/results.jsonl")).unwrap(),
        stdout
    );
    assert!(dir.path().join("out/results.csv").exists());

    // One row's prompt changed: that row alone runs again.
    std::fs::write(dir.path().join("table.csv"), table(Some(5))).unwrap();
    let changed = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert!(
        changed.status.success(),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    assert_eq!(
        emulator.stats().runs_accepted,
        13,
        "only the changed row ran"
    );

    // The last two lines gone: nothing runs, and their folders are named as no row's.
    let shorter: String = table(Some(5)).split_inclusive("\r\n").take(11).collect();
    std::fs::write(dir.path().join("table.csv"), shorter).unwrap();
    let shrunk = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&shrunk.stderr);
    assert!(shrunk.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 13, "{stderr}");
    assert!(
        stderr.contains("2 row folders in out belong to no row of this table")
            && stderr.contains("row-0012, row-0013"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impossible_row_or_a_total_over_max_cost_sends_nothing() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(
        dir.path().join("bad.csv"),
        "video.prompt,video.quality\nfox,360p\n\"fox, again\",4k\n",
    )
    .unwrap();
    let refused = run(&emulator, dir.path(), "bad.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("row 3, column video.quality"), "{stderr}");
    // Skipping every row leaves nothing to run: that is no success.
    std::fs::write(
        dir.path().join("all-bad.csv"),
        "video.quality
4k
999p
",
    )
    .unwrap();
    let args = ["--skip-invalid-rows"];
    let nothing_left = run(&emulator, dir.path(), "all-bad.csv", &args).await;
    let stderr = String::from_utf8_lossy(&nothing_left.stderr);
    assert_eq!(nothing_left.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("every row was refused"), "{stderr}");

    std::fs::write(dir.path().join("table.csv"), table(None)).unwrap();
    let capped = run(&emulator, dir.path(), "table.csv", &["--max-cost", "1.00"]).await;
    let stderr = String::from_utf8_lossy(&capped.stderr);
    assert_eq!(capped.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("exceeds --max-cost"), "{stderr}");
    for no_cap in ["nan", "inf", "1e400", "-1"] {
        let output = run(&emulator, dir.path(), "table.csv", &["--max-cost", no_cap]).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "--max-cost {no_cap}: {stderr}"
        );
        assert!(stderr.contains("is no cap"), "{stderr}");
    }
    assert_eq!(emulator.stats().runs_accepted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_killed_halfway_resumes_with_one_run_per_row_overall() {
    let emulator = common::emulator(EmulatorConfig {
        max_running: Some(4),
        max_queued: Some(0),
        ..EmulatorConfig::with_speed(10.0)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(dir.path().join("table.csv"), table(None)).unwrap();
    run_killed_after(&emulator, dir.path(), 6).await;
    let killed_at = emulator.stats().runs_accepted;
    assert!(killed_at < 12, "killed halfway: {killed_at} Runs so far");
    let second = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        emulator.stats().runs_accepted,
        12,
        "one Run per row overall"
    );
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    assert_eq!(
        results
            .lines()
            .filter(|line| line.contains(",done,"))
            .count(),
        12,
        "{results}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_edited_while_its_task_ran_names_the_task_left_running() {
    let emulator = common::emulator(EmulatorConfig::with_speed(50.0)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    // Row 2's task runs for seconds: the run is killed while it runs.
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\n[emulator:slow] a boat\na mug\n",
    )
    .unwrap();
    run_killed_after(&emulator, dir.path(), 2).await;

    // The user edits row 2 and runs again: the boat's task is no row's now, and still runs.
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na new boat\na mug\n",
    )
    .unwrap();
    // --max-cost caps the whole run: the table's two Runs ($0.90) and the $0.45 paid for
    // the row's earlier cells do not fit under $0.90.
    let capped = run(&emulator, dir.path(), "table.csv", &["--max-cost", "0.90"]).await;
    let stderr = String::from_utf8_lossy(&capped.stderr);
    assert_eq!(capped.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("earlier runs here paid $0.45 for cells no row of this table has now")
            && stderr.contains("the estimated price $1.35 exceeds --max-cost $0.90"),
        "{stderr}"
    );
    assert_eq!(emulator.stats().runs_accepted, 2, "nothing was sent");
    let again = run(&emulator, dir.path(), "table.csv", &["--max-cost", "1.35"]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 3, "{stderr}");
    assert!(
        stderr.contains("warning: 1 paid task an earlier run started")
            && stderr.contains("(row-0002-video)")
            && stderr.contains("wiro/task.kill"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_edited_after_its_run_was_killed_names_the_task_that_ended_and_what_it_cost() {
    let emulator = common::emulator(EmulatorConfig::with_speed(5.0)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na boat\na mug\n",
    )
    .unwrap();
    run_killed_after(&emulator, dir.path(), 2).await;
    // Both tasks end on the server, billed, with no run waiting for them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while emulator.stats().succeeded < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the tasks did not end"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // The user edits row 2: the boat's task is no row's now; the mug's row takes its own.
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na new boat\na mug\n",
    )
    .unwrap();
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 3, "{stderr}");
    assert!(
        stderr.contains("warning: 1 paid task an earlier run started")
            && stderr.contains("(row-0002-video, $0.45)")
            && stderr.contains("charged $0.45 in all, which no row's results include"),
        "{stderr}"
    );
    // Said once the run that stopped could not: the mug's task, in its row's results, is not.
    assert!(!stderr.contains("row-0003-video"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_edited_after_its_task_was_paid_names_what_earlier_runs_paid_beside_the_table() {
    let (emulator, dir) = boat_and_mug_run().await;
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na new boat\na mug\n",
    )
    .unwrap();
    // The cap counts the $0.45 the boat's finished task was charged.
    let capped = run(&emulator, dir.path(), "table.csv", &["--max-cost", "0.90"]).await;
    let stderr = String::from_utf8_lossy(&capped.stderr);
    assert_eq!(capped.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "earlier runs here paid $0.45 for cells no row of this table has now, 1 task ("
        ),
        "{stderr}"
    );
    assert_eq!(emulator.stats().runs_accepted, 2, "nothing was sent");
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 3, "{stderr}");
    assert!(
        stderr.contains("warning: earlier runs in this folder also paid $0.45 for 1 task of cells this table no longer has")
            && stderr.contains("(row-0002-video, $0.45)")
            && stderr.contains("$0.90 charged for its rows"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_whose_journal_was_lost_or_cut_pays_for_nothing_until_told_fresh() {
    let (emulator, dir) = boat_and_mug_run().await;
    let journal = dir.path().join("out/wiro-journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    // Cut to its first lines (the boat's task only), then gone: each refused, nothing sent.
    let cut: String = text
        .lines()
        .take(4)
        .map(|line| format!("{line}\n"))
        .collect();
    for (what, kept) in [("cut", Some(cut)), ("deleted", None)] {
        match &kept {
            Some(lines) => std::fs::write(&journal, lines).unwrap(),
            None => std::fs::remove_file(&journal).unwrap(),
        }
        let again = run(&emulator, dir.path(), "table.csv", &[]).await;
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert_eq!(again.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains("that the journal")
                && stderr.contains("--fresh to pay for every row again; nothing was sent"),
            "{what}: {stderr}"
        );
        assert_eq!(emulator.stats().runs_accepted, 2, "{what}: {stderr}");
    }
    // Told to, it pays again; a run after a --fresh one interrupted would find the earlier
    // tasks in the journal --fresh kept aside.
    let fresh = run(&emulator, dir.path(), "table.csv", &["--fresh"]).await;
    assert!(
        fresh.status.success(),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    assert_eq!(emulator.stats().runs_accepted, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_that_moved_take_their_files_along_when_the_server_no_longer_holds_them() {
    use wiro_nodes::emulator::Operation;
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    // The server's copies are deleted once downloaded.
    let flow = FLOW.replace(
        "]}",
        r#", {"id": "cleanup", "type": "wiro/task.files.delete", "inputs": {"task": {"$from": "video.task"}, "after": {"$from": "save.files"}}}]}"#,
    );
    std::fs::write(dir.path().join("flow.json"), flow).unwrap();
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na boat\na mug\n",
    )
    .unwrap();
    let first = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let boat = std::fs::read(dir.path().join("out/row-0002/row-0002-save-0.mp4")).unwrap();
    let mug = std::fs::read(dir.path().join("out/row-0003/row-0003-save-0.mp4")).unwrap();
    let downloads = emulator.stats().requests(Operation::Download);

    // A line inserted above them, then the table sorted: each row keeps its paid video.
    for table in [
        "video.prompt\na fox\na boat\na mug\n",
        "video.prompt\na boat\na fox\na mug\n",
    ] {
        std::fs::write(dir.path().join("table.csv"), table).unwrap();
        let again = run(&emulator, dir.path(), "table.csv", &[]).await;
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(again.status.success(), "{table}: {stderr}");
        assert_eq!(emulator.stats().runs_accepted, 3, "{table}: {stderr}");
    }
    let at = |path: &str| std::fs::read(dir.path().join("out").join(path)).unwrap();
    assert_eq!(at("row-0002/row-0002-save-0.mp4"), boat);
    assert_eq!(at("row-0004/row-0004-save-0.mp4"), mug);
    assert_eq!(
        emulator.stats().requests(Operation::Download),
        downloads + 1,
        "the fox's video alone was downloaded"
    );
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    assert!(
        results.contains("row-0004/row-0004-save-0.mp4") && !results.contains("failed"),
        "{results}"
    );

    // An edit undone: the boat's video comes back from replaced/, paid and fetched once.
    for (table, runs) in [
        ("video.prompt\na ship\na fox\na mug\n", 4),
        ("video.prompt\na boat\na fox\na mug\n", 4),
    ] {
        std::fs::write(dir.path().join("table.csv"), table).unwrap();
        let again = run(&emulator, dir.path(), "table.csv", &[]).await;
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(again.status.success(), "{table}: {stderr}");
        assert_eq!(emulator.stats().runs_accepted, runs, "{table}: {stderr}");
    }
    assert_eq!(at("row-0002/row-0002-save-0.mp4"), boat);
    assert_eq!(
        emulator.stats().requests(Operation::Download),
        downloads + 2,
        "the fox's and the ship's videos alone were downloaded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_whose_runs_no_node_waits_for_names_what_its_total_leaves_out() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let flow = r#"{"version": 1, "nodes": [
     {"id": "video", "type": "pixverse/text-to-video-v4", "inputs": {"prompt": "x", "quality": "360p", "duration": 5}}]}"#;
    std::fs::write(dir.path().join("flow.json"), flow).unwrap();
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na boat\na mug\n",
    )
    .unwrap();
    let ran = run(&emulator, dir.path(), "table.csv", &["--json"]).await;
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(ran.status.success(), "{stderr}");
    assert!(
        stderr.contains("$0.00 charged for its rows")
            && stderr.contains(
                "not counted: 2 tasks whose end this run did not see, billed if they succeed"
            ),
        "{stderr}"
    );
    let lines = std::fs::read_to_string(dir.path().join("out/results.jsonl")).unwrap();
    assert_eq!(lines.matches("\"not_counted\":[\"").count(), 2, "{lines}");
    // Their cost is not known: not written as 0, which would read as free.
    let csv = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    let costs: Vec<&str> = (csv.lines().skip(1))
        .map(|line| line.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(costs, ["", ""], "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_output_folder_written_another_way_is_the_same_folder() {
    let (emulator, dir) = boat_and_mug_run().await;
    let absolute = dir.path().join("out").display().to_string();
    for out in ["./out", absolute.as_str(), "out/"] {
        let again = common::binary_for(&emulator)
            .current_dir(dir.path())
            .args(["run", "flow.json", "--rows", "table.csv", "--out", out])
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(again.status.success(), "{out}: {stderr}");
        assert!(!stderr.contains("moved to"), "{out}: {stderr}");
        let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
        assert!(
            results.contains(",row-0002/row-0002-save-0.mp4,"),
            "{out}: {results}"
        );
        assert!(
            dir.path().join("out/row-0002/row-0002-save-0.mp4").exists(),
            "{out}"
        );
    }
    assert_eq!(emulator.stats().runs_accepted, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_alike_whose_answers_were_lost_adopt_a_task_each_when_run_again() {
    use wiro_nodes::emulator::{Fault, Operation};
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(dir.path().join("table.csv"), "video.prompt\nfox\nfox\n").unwrap();
    // Both Runs are accepted and their answers lost, and the task list cannot tell: both rows
    // fail, saying their Runs may have been paid.
    emulator.inject(Operation::Run, Fault::DropConnection, 2);
    emulator.inject(Operation::TaskList, Fault::ServerError, 1000);
    let first = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(emulator.stats().runs_accepted, 2);

    // The list answers now: each row adopts a task of its own, and nothing is sent again.
    emulator.clear_faults();
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 2, "{stderr}");
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    let tasks: Vec<&str> = (results.lines().skip(1))
        .map(|line| line.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(tasks.len(), 2, "{results}");
    assert_ne!(tasks[0], tasks[1], "one task each\n{results}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_row_does_not_stop_the_others_and_the_results_say_which() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na fox\n\"a fox [emulator:fail]\"\na hare\n",
    )
    .unwrap();
    let output = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("results.csv"),
        "names the results: {stderr}"
    );
    assert!(
        stderr.contains("rows: 2/3 done, 1 failed"),
        "the progress line: {stderr}"
    );
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    let outcomes: Vec<&str> = results
        .lines()
        .skip(1)
        .map(|line| line.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(outcomes, ["done", "failed", "done"], "{results}");
    assert!(
        std::fs::read_dir(dir.path().join("out/row-0004")).is_ok(),
        "the row after the failed one has its file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_invalid_rows_are_listed_in_the_results_and_nothing_else_is_refused() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    // Two blank lines a spreadsheet leaves below its data: no Runs, and said so.
    let table = "video.prompt,video.quality\nfox,360p\n\"fox, again\",4k\nowl,360p\n,\n,\n";
    std::fs::write(dir.path().join("table.csv"), table).unwrap();

    let refused = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("rows 5, 6 have every cell empty: left out"),
        "{stderr}"
    );
    assert_eq!(emulator.stats().runs_accepted, 0, "nothing is sent");

    let output = run(&emulator, dir.path(), "table.csv", &["--skip-invalid-rows"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the user asked to skip it: {stderr}"
    );
    assert_eq!(emulator.stats().runs_accepted, 2);
    assert!(stderr.contains("2 done, 0 not done, 1 refused"), "{stderr}");
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    let lines: Vec<&str> = results.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "every row of the table has its line:\n{results}"
    );
    assert!(lines[1].starts_with("2,done,"), "{results}");
    assert!(
        lines[2].starts_with("3,refused,,0,,") && lines[2].contains("column video.quality"),
        "{results}"
    );
    assert!(lines[3].starts_with("4,done,"), "{results}");

    // A video an earlier run made for the row's other cells is no result of the refused
    // row: it goes to replaced/, so a pipeline gathering row folders does not take it.
    let stale = dir.path().join("out/row-0003/row-0003-save-0.mp4");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, "an earlier 720p video").unwrap();
    let again = run(&emulator, dir.path(), "table.csv", &["--skip-invalid-rows"]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 2, "nothing paid again");
    assert!(!stale.exists(), "{stderr}");
    let aside = dir.path().join("out/replaced/row-0003/row-0003-save-0.mp4");
    assert_eq!(
        std::fs::read_to_string(aside).unwrap(),
        "an earlier 720p video"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_inserted_above_finished_rows_runs_alone() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    let rows = "fox,1\nowl,2\nthe same,3\nthe same,3\n";
    std::fs::write(
        dir.path().join("table.csv"),
        format!("video.prompt,video.seed\n{rows}"),
    )
    .unwrap();
    let first = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        emulator.stats().runs_accepted,
        4,
        "two rows alike still run twice"
    );

    // A row inserted at the top moves every other row down a line: only it is paid for.
    let moved = format!("video.prompt,video.seed\n\"a new one, first\",9\n{rows}");
    std::fs::write(dir.path().join("table.csv"), moved).unwrap();
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(
        emulator.stats().runs_accepted,
        5,
        "only the new row ran: {stderr}"
    );
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    let lines: Vec<&str> = results.lines().collect();
    assert_eq!(lines.len(), 6, "{results}");
    for (line, row) in lines[1..].iter().zip(2..) {
        assert!(line.starts_with(&format!("{row},done,")), "{results}");
        let file = dir
            .path()
            .join(format!("out/row-{row:04}/row-{row:04}-save-0.mp4"));
        assert!(file.exists(), "{} for\n{results}", file.display());
    }
    // The two alike rows kept their two tasks.
    let tasks: Vec<&str> = lines[4..]
        .iter()
        .map(|line| line.split(',').nth(2).unwrap())
        .collect();
    assert_ne!(tasks[0], tasks[1], "{results}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_alike_far_apart_each_pay_once_and_keep_their_tasks_when_run_again() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    // One task at a time: row 31 starts long after row 2 has its task.
    let mut table = String::from("video.prompt,video.seed\n");
    for row in 2..=31 {
        match row {
            2 | 31 => table.push_str("the same,7\n"),
            _ => table.push_str(&format!("scene {row},{row}\n")),
        }
    }
    std::fs::write(dir.path().join("table.csv"), table).unwrap();
    let tasks_of = |results: &str, row: usize| -> String {
        let line = results
            .lines()
            .find(|line| line.starts_with(&format!("{row},done,")))
            .unwrap_or_else(|| panic!("row {row} done in\n{results}"));
        line.split(',').nth(2).unwrap().to_owned()
    };
    let first = run(&emulator, dir.path(), "table.csv", &["--max-tasks", "1"]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(emulator.stats().runs_accepted, 30, "one Run a row");
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    let (two, last) = (tasks_of(&results, 2), tasks_of(&results, 31));
    assert_ne!(two, last, "row 31 has a task of its own\n{results}");

    let again = run(&emulator, dir.path(), "table.csv", &["--max-tasks", "1"]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(
        emulator.stats().runs_accepted,
        30,
        "nothing paid again: {stderr}"
    );
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    assert_eq!((tasks_of(&results, 2), tasks_of(&results, 31)), (two, last));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_that_fails_after_its_cells_changed_keeps_no_earlier_video_in_its_folder() {
    // Enough credit for the first two videos only.
    let emulator = common::emulator(EmulatorConfig {
        balance: Some(0.9),
        ..EmulatorConfig::with_speed(400.0)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(dir.path().join("table.csv"), "video.prompt\nboat\nmug\n").unwrap();
    let first = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let video = |row: &str| dir.path().join(format!("out/{row}/{row}-save-0.mp4"));
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(
        video("row-0002").exists() && video("row-0003").exists(),
        "{stderr}"
    );

    // Row 2 asks for another video, which the account cannot pay for: it fails.
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na new boat\nmug\n",
    )
    .unwrap();
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{stderr}");
    assert!(
        !video("row-0002").exists(),
        "the boat's video is not the new row's result: {stderr}"
    );
    let aside = dir.path().join("out/replaced/row-0002/row-0002-save-0.mp4");
    assert!(aside.exists(), "moved aside, not deleted: {stderr}");
    assert!(stderr.contains("moved to"), "{stderr}");
    assert!(
        video("row-0003").exists(),
        "the mug's row finished: its file stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_run_again_under_new_cells_keeps_its_earlier_paid_video() {
    let emulator = common::emulator(EmulatorConfig::with_speed(400.0)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(dir.path().join("table.csv"), "video.prompt\nboat\nmug\n").unwrap();
    let first = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let video = dir.path().join("out/row-0002/row-0002-save-0.mp4");
    let boat = std::fs::read(&video).unwrap();

    // Row 2 asks for another video, which downloads under the same name.
    std::fs::write(
        dir.path().join("table.csv"),
        "video.prompt\na new boat\nmug\n",
    )
    .unwrap();
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 3, "{stderr}");
    let new_boat = std::fs::read(&video).unwrap();
    assert_ne!(new_boat, boat, "the row's folder holds its new video");
    let aside = dir
        .path()
        .join("out/replaced/row-0002/row-0002-save-0.earlier.mp4");
    assert_eq!(
        std::fs::read(&aside).ok(),
        Some(boat),
        "the earlier paid video is kept, not overwritten: {stderr}"
    );
    assert!(stderr.contains("moved to"), "{stderr}");
}

/// Sets a file's modification time, as `touch` or a checkout would.
fn set_time(path: &Path, time: std::time::SystemTime) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(time).unwrap();
}

/// A folder with an image-to-video flow uploading the table's `image.path` (else `a.png`),
/// and the shipped meadow picture under each of `images`.
fn image_flow(images: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let flow = r#"{"version": 1, "nodes": [
     {"id": "image", "type": "wiro/file.upload", "inputs": {"path": "a.png"}},
     {"id": "video", "type": "pixverse/image-to-video-v4", "inputs": {"inputImageUrl": {"$from": "image.url"}, "prompt": "x", "quality": "360p", "duration": 5}},
     {"id": "wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "video.task"}, "poll_seconds": 0.05}},
     {"id": "save", "type": "wiro/output.download", "inputs": {"outputs": {"$from": "wait.outputs"}}}]}"#;
    std::fs::write(dir.path().join("flow.json"), flow).unwrap();
    let png = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/meadow.png"));
    for name in images {
        std::fs::write(dir.path().join(name), png.as_ref().unwrap()).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_uploads_that_moved_or_were_sorted_pay_for_nothing_again() {
    let emulator = common::fast_emulator().await;
    let dir = image_flow(&["a.png", "b.png"]);
    // One image under two prompts: each row's upload has its own URL, which its Run reads.
    let rows = "a.png,dawn\na.png,dusk\nb.png,dawn\n";
    let table = |top: &str| format!("image.path,video.prompt\n{top}{rows}");
    std::fs::write(dir.path().join("table.csv"), table("")).unwrap();
    let first = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(emulator.stats().runs_accepted, 3);

    // A line inserted at the top, uploading the same image: the moved rows keep their
    // uploads' URLs, so their Runs' inputs are the same and nothing is paid again.
    std::fs::write(dir.path().join("table.csv"), table("a.png,noon\n")).unwrap();
    for expected in [4, 4] {
        let again = run(&emulator, dir.path(), "table.csv", &[]).await;
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(again.status.success(), "{stderr}");
        assert_eq!(
            emulator.stats().runs_accepted,
            expected,
            "only the new row ran: {stderr}"
        );
    }
    // Sorted: every row moved; nothing is paid again, and each row keeps its video.
    let sorted = "image.path,video.prompt\na.png,dawn\na.png,dusk\na.png,noon\nb.png,dawn\n";
    std::fs::write(dir.path().join("table.csv"), sorted).unwrap();
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 4, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_one_image_swapped_or_with_a_free_cell_edited_pay_only_for_new_prompts() {
    let emulator = common::fast_emulator().await;
    let dir = image_flow(&["a.png"]);
    // Each place uploads the image for itself (its own URL): a Run is the same intent
    // whichever upload of the file it reads.
    let steps = [
        ("video.prompt\nfox\nfox\n", 2),
        ("video.prompt\nfox\ncat\n", 3),
        ("video.prompt\ncat\nfox\n", 3), // swapped
        (
            "video.prompt,wait.poll_seconds\nbee,0.06\ncat,0.06\nfox,0.06\n",
            4,
        ),
    ];
    for (table, runs) in steps {
        std::fs::write(dir.path().join("table.csv"), table).unwrap();
        let ran = run(&emulator, dir.path(), "table.csv", &[]).await;
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert!(ran.status.success(), "{stderr}");
        let journal =
            std::fs::read_to_string(dir.path().join("out/wiro-journal.jsonl")).unwrap_or_default();
        assert_eq!(
            emulator.stats().runs_accepted,
            runs,
            "{table}{stderr}{journal}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_touched_copied_or_spelled_another_way_is_not_paid_for_again() {
    let emulator = common::fast_emulator().await;
    let dir = image_flow(&["a.png"]);
    let image = dir.path().join("a.png");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(90);
    let steps: [(&str, &dyn Fn(), u64); 5] = [
        ("a.png", &|| {}, 1),
        // A `touch`, a `git checkout` or a copy over it: a new time, the same bytes.
        (
            "a.png",
            &|| {
                set_time(&image, later);
            },
            1,
        ),
        ("./a.png", &|| {}, 1),
        (
            "copies/a.png",
            &|| {
                std::fs::create_dir_all(dir.path().join("copies")).unwrap();
                std::fs::copy(&image, dir.path().join("copies/a.png")).unwrap();
            },
            1,
        ),
        // Other bytes: a new intent.
        (
            "a.png",
            &|| {
                let mut bytes = std::fs::read(&image).unwrap();
                bytes.extend_from_slice(b"one more chunk");
                std::fs::write(&image, bytes).unwrap();
            },
            2,
        ),
    ];
    for (path, before, runs) in steps {
        before();
        let table = format!("image.path,video.prompt\n{path},fox\n");
        std::fs::write(dir.path().join("table.csv"), &table).unwrap();
        let ran = run(&emulator, dir.path(), "table.csv", &[]).await;
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert!(ran.status.success(), "{stderr}");
        assert_eq!(emulator.stats().runs_accepted, runs, "{table}{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_keyed_by_the_bytes_its_upload_sent_not_by_the_file_now() {
    let emulator = common::fast_emulator().await;
    let dir = image_flow(&["a.png"]);
    std::fs::write(dir.path().join("table.csv"), "video.prompt\nfox\n").unwrap();
    let first = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert!(first.status.success());
    assert_eq!(emulator.stats().runs_accepted, 1);
    // Other bytes behind the same size and time: the upload is taken from the journal (its
    // URL serves the bytes it sent), so its Run is the one already paid for.
    let image = dir.path().join("a.png");
    let stamp = std::fs::metadata(&image).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&image).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&image, bytes).unwrap();
    set_time(&image, stamp);
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 1, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_run_is_looked_for_as_it_was_sent_though_its_image_was_uploaded_again() {
    // The Run creates its task but its answer is cut, and the task list cannot tell.
    let mut config = EmulatorConfig::with_speed(400.0);
    config.faults = vec!["run=drop:1".parse().unwrap(), "list=500:6".parse().unwrap()];
    let emulator = common::emulator(config).await;
    let dir = image_flow(&["a.png"]);
    std::fs::write(dir.path().join("table.csv"), "video.prompt\nfox\n").unwrap();
    let first = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("may have been accepted"), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 1);
    // Touched: the image is uploaded again (another URL), but the Run is the same intent, and
    // the task list is asked for the Run as it was sent: its task is adopted, not paid again.
    let image = dir.path().join("a.png");
    set_time(
        &image,
        std::time::SystemTime::now() + std::time::Duration::from_secs(90),
    );
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 1, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_read_deep_inside_a_run_s_parameters_keys_the_run_by_the_file_too() {
    let emulator = common::fast_emulator().await;
    let dir = image_flow(&["a.png"]);
    let flow = r#"{"version": 1, "nodes": [
     {"id": "image", "type": "wiro/file.upload", "inputs": {"path": "a.png"}},
     {"id": "video", "type": "wiro/model.run", "inputs": {"model": "PixVerse/image-to-video-v4", "parameters": {}}},
     {"id": "wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "video.task"}, "poll_seconds": 0.05}}]}"#;
    std::fs::write(dir.path().join("flow.json"), flow).unwrap();
    let row = |prompt: &str| {
        format!(
            r#"{{"video.parameters": {{"inputImageUrl": {{"$from": "image.url"}}, "prompt": "{prompt}", "quality": "360p", "duration": "5"}}}}"#
        )
    };
    for (prompts, runs) in [
        (["fox", "fox"], 2),
        (["fox", "cat"], 3),
        (["cat", "fox"], 3),
    ] {
        let table = format!("{}\n{}\n", row(prompts[0]), row(prompts[1]));
        std::fs::write(dir.path().join("table.jsonl"), table).unwrap();
        let ran = run(&emulator, dir.path(), "table.jsonl", &[]).await;
        let stderr = String::from_utf8_lossy(&ran.stderr);
        assert!(ran.status.success(), "{stderr}");
        assert_eq!(
            emulator.stats().runs_accepted,
            runs,
            "{prompts:?}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_stands_where_the_run_writes_is_named_before_any_request() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(dir.path().join("table.csv"), table(None)).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("results.csv")).unwrap();
    std::fs::create_dir_all(out.join("wiro-journal.jsonl")).unwrap();
    std::fs::write(out.join("row-0003"), "a file where row 3's folder goes").unwrap();
    std::os::unix::fs::symlink("/nonexistent/folder", out.join("row-0005")).unwrap();
    let output = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "wiro-journal.jsonl is a folder, results.csv is a folder, row-0003 is a file, row-0005 is a link, where the run writes its own"
        ) && stderr.contains("nothing was sent"),
        "{stderr}"
    );
    let stats = emulator.stats();
    assert_eq!(stats.requests.values().sum::<u64>(), 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_folder_where_a_file_stands_is_named_before_any_request() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let flow = FLOW.replace(
        r#""inputs": {"outputs""#,
        r#""inputs": {"directory": "clips/hd", "outputs""#,
    );
    std::fs::write(dir.path().join("flow.json"), &flow).unwrap();
    std::fs::write(dir.path().join("table.csv"), table(None)).unwrap();
    // An earlier run left row 3's folder, and in it a file named as the folder this flow makes.
    std::fs::create_dir_all(dir.path().join("out/row-0003")).unwrap();
    std::fs::write(dir.path().join("out/row-0003/clips"), "an earlier file").unwrap();
    let output = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(r#"row-0003-save.directory "row-0003/clips/hd" makes a folder where row-0003/clips is a file: name another directory, or move the file; nothing was sent"#),
        "{stderr}"
    );
    // A flow run once, its download folder naming the journal.
    let journal = flow.replace("clips/hd", "wiro-journal.jsonl");
    std::fs::write(dir.path().join("flow.json"), journal).unwrap();
    std::fs::write(dir.path().join("out/wiro-journal.jsonl"), "").unwrap();
    let output = common::binary_for(&emulator)
        .current_dir(dir.path())
        .args(["run", "flow.json", "--out", "out"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(r#"save.directory "wiro-journal.jsonl" makes a folder where wiro-journal.jsonl is a file"#),
        "{stderr}"
    );
    let stats = emulator.stats();
    assert_eq!(stats.requests.values().sum::<u64>(), 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_balance_refuses_a_run_no_other_row_sends_one() {
    let mut config = EmulatorConfig::with_speed(100.0);
    config.faults = vec!["run=97".parse().unwrap()];
    let emulator = common::emulator(config).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(dir.path().join("table.csv"), table(None)).unwrap();
    let output = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let runs = emulator.stats().requests[&wiro_nodes::emulator::Operation::Run];
    assert_eq!(
        runs, 1,
        "one refusal for the balance, then no Run: {stderr}"
    );
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    let not_sent = results
        .lines()
        .filter(|line| line.contains("not sent: an earlier Run of this run was refused"))
        .count();
    assert_eq!(not_sent, 11, "{results}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_never_takes_the_task_a_run_in_another_folder_holds() {
    let (emulator, dir) = boat_and_mug_run().await;
    let state = tempfile::tempdir().unwrap();
    let in_folder = |out: &'static str| {
        let mut command = common::binary_for(&emulator);
        command
            .current_dir(dir.path())
            .env("WIRO_STATE_DIR", state.path())
            .args(["run", "flow.json", "--rows", "one.csv", "--out", out])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    std::fs::write(dir.path().join("one.csv"), "video.prompt\na kite\n").unwrap();
    let first = in_folder("first").output().await.unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // The same row in another folder a moment later, its Run's answer lost after its task
    // was made: the task list holds both tasks; the first folder's is not this one's.
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    let second = in_folder("second").output().await.unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 4, "{stderr}");
    let task = |out: &str| {
        let results = std::fs::read_to_string(dir.path().join(out).join("results.csv")).unwrap();
        results
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(2)
            .unwrap()
            .to_owned()
    };
    assert_ne!(
        task("first"),
        task("second"),
        "each folder holds the task it paid for"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_folder_renamed_or_copied_resumes_from_its_own_files() {
    let (emulator, dir) = boat_and_mug_run().await;
    // The server's copies are gone (deleted after the download, or expired): a download
    // sent now would fail.
    emulator.inject(Operation::Download, Fault::ServerError, 100);
    std::fs::rename(dir.path().join("out"), dir.path().join("moved")).unwrap();
    let again = common::binary_for(&emulator)
        .current_dir(dir.path())
        .args(["run", "flow.json", "--rows", "table.csv", "--out", "moved"])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 2, "{stderr}");
    assert_eq!(
        emulator.stats().requests(Operation::Download),
        2,
        "{stderr}"
    );
    let results = std::fs::read_to_string(dir.path().join("moved/results.csv")).unwrap();
    assert!(
        results.contains("row-0002/row-0002-save-0.mp4") && !results.contains("out/"),
        "{results}"
    );
    assert!(!dir.path().join("moved/replaced").exists(), "{stderr}");

    // A copy resumes from the copy's files, not the folder it was copied from.
    let copy = dir.path().join("copy");
    std::fs::create_dir_all(copy.join("row-0002")).unwrap();
    std::fs::create_dir_all(copy.join("row-0003")).unwrap();
    for name in [
        "wiro-journal.jsonl",
        "results.csv",
        "row-0002/row-0002-save-0.mp4",
        "row-0003/row-0003-save-0.mp4",
    ] {
        std::fs::copy(dir.path().join("moved").join(name), copy.join(name)).unwrap();
    }
    let copied = common::binary_for(&emulator)
        .current_dir(dir.path())
        .args([
            "run",
            "flow.json",
            "--rows",
            "table.csv",
            "--out",
            "copy",
            "--json",
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&copied.stdout);
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert_eq!(emulator.stats().runs_accepted, 2);
    assert!(
        stdout.contains("\"row-0002/row-0002-save-0.mp4\"") && !stdout.contains("moved/"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_s_own_claimed_task_is_adopted_whatever_the_folder_is_called() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    std::fs::write(dir.path().join("one.csv"), "video.prompt\na kite\n").unwrap();
    let run_in = |out: &'static str| {
        let mut command = common::binary_for(&emulator);
        command
            .current_dir(dir.path())
            .env("WIRO_STATE_DIR", state.path())
            .args(["run", "flow.json", "--rows", "one.csv", "--out", out]);
        command
    };
    let first = run_in("out").output().await.unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // Killed after the task was claimed and before the journal's line of it reached the
    // disk (a power cut): the journal ends at the Run's `submitting` line.
    let journal = dir.path().join("out/wiro-journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let sent = text.find("\"submitting\"").expect("the Run's line");
    let end = sent + text[sent..].find('\n').unwrap() + 1;
    std::fs::write(&journal, &text[..end]).unwrap();
    std::fs::remove_file(dir.path().join("out/results.csv")).unwrap(); // not written yet
    std::os::unix::fs::symlink(dir.path().join("out"), dir.path().join("link")).unwrap();
    let again = run_in("link").output().await.unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(
        emulator.stats().runs_accepted,
        1,
        "its own task adopted: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_counts_no_task_a_row_still_takes_after_other_cells_changed_or_came_back() {
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    let with = |cells: &str| {
        std::fs::write(
            dir.path().join("table.csv"),
            format!("video.prompt,save.prefix\n{cells}\n"),
        )
        .unwrap()
    };
    // Cells A: the Run fails every time, nothing paid.
    emulator.inject(Operation::Run, Fault::DropBeforeEffect, 4);
    with("a boat,a");
    let failed = run(&emulator, dir.path(), "table.csv", &[]).await;
    assert_eq!(failed.status.code(), Some(1));
    // Cells B: paid once. Then only the download's prefix changes: the video's task is
    // still the row's, so the cap of one video holds.
    with("a kite,a");
    assert!(run(&emulator, dir.path(), "table.csv", &[])
        .await
        .status
        .success());
    with("a kite,b");
    let prefix = run(&emulator, dir.path(), "table.csv", &["--max-cost", "0.45"]).await;
    assert!(
        prefix.status.success(),
        "{}",
        String::from_utf8_lossy(&prefix.stderr)
    );
    assert_eq!(emulator.stats().runs_accepted, 1);
    // Back to A (paid now), then A again under a cap of both videos: the kite's task is
    // another's, the boat's the row's own.
    with("a boat,a");
    assert!(run(&emulator, dir.path(), "table.csv", &[])
        .await
        .status
        .success());
    assert_eq!(emulator.stats().runs_accepted, 2);
    let back = run(&emulator, dir.path(), "table.csv", &["--max-cost", "0.90"]).await;
    let stderr = String::from_utf8_lossy(&back.stderr);
    assert!(back.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "earlier runs here paid $0.45 for cells no row of this table has now, 1 task"
        ),
        "{stderr}"
    );
    assert_eq!(emulator.stats().runs_accepted, 2);
}

/// The one-row table "a boat" run through [`FLOW`] with its Run's answer lost (its task was
/// made: 2221) while the task list fails, so the run could not tell: it failed the row.
/// The task list still fails.
async fn a_lost_run_no_one_could_check() -> (wiro_nodes::emulator::EmulatorHandle, tempfile::TempDir)
{
    let emulator = common::fast_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("flow.json"), FLOW).unwrap();
    with_prompt(dir.path(), "a boat");
    emulator.inject(Operation::Run, Fault::DropConnection, 1);
    emulator.inject(Operation::TaskList, Fault::ServerError, 1000);
    let lost = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&lost.stderr);
    assert_eq!(lost.status.code(), Some(1), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 1, "{stderr}");
    (emulator, dir)
}

/// Writes `table.csv` in `dir`: one row, `prompt` in `video.prompt`.
fn with_prompt(dir: &Path, prompt: &str) {
    let table = format!("video.prompt\n{prompt}\n");
    std::fs::write(dir.join("table.csv"), table).unwrap()
}

/// A Run whose answer was lost while the task list could not be read, so its run could not
/// tell whether it made a task, then the row edited: the next run's cap finds and counts
/// the task that Run made, and journals it, so a run after it asks nothing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_counts_the_task_of_a_lost_run_for_cells_since_edited() {
    let (emulator, dir) = a_lost_run_no_one_could_check().await;
    let with = |prompt: &str| with_prompt(dir.path(), prompt);

    // While the task list still fails, the lost Run counts at the row's price.
    with("a kite");
    let unsure = run(&emulator, dir.path(), "table.csv", &["--max-cost", "0.45"]).await;
    let stderr = String::from_utf8_lossy(&unsure.stderr);
    assert_eq!(unsure.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("$0.45 for cells no row of this table has now, 1 task (a Run of row-0002-video whose answer was lost, which may have started one)"),
        "{stderr}"
    );
    emulator.clear_faults();

    let capped = run(&emulator, dir.path(), "table.csv", &["--max-cost", "0.45"]).await;
    let stderr = String::from_utf8_lossy(&capped.stderr);
    assert_eq!(capped.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "earlier runs here paid $0.45 for cells no row of this table has now, 1 task (2221)"
        ),
        "{stderr}"
    );
    assert_eq!(emulator.stats().runs_accepted, 1, "{stderr}");
    let lists = emulator.stats().requests(Operation::TaskList);
    let both = run(&emulator, dir.path(), "table.csv", &["--max-cost", "0.90"]).await;
    let stderr = String::from_utf8_lossy(&both.stderr);
    assert!(both.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 2, "{stderr}");
    assert_eq!(
        emulator.stats().requests(Operation::TaskList),
        lists,
        "the task found was journaled: {stderr}"
    );
}

/// The same lost Run, its task found by the end of a run without a cap (after the row's
/// new cells were written down): the next run's cap still counts it as the old cells'.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_runs_task_found_by_a_run_without_a_cap_still_counts_under_the_next_cap() {
    let (emulator, dir) = a_lost_run_no_one_could_check().await;
    emulator.clear_faults();
    with_prompt(dir.path(), "a kite");
    let uncapped = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&uncapped.stderr);
    assert!(uncapped.status.success(), "{stderr}");
    assert!(
        stderr.contains("2221"),
        "the boat's task is named: {stderr}"
    );
    assert_eq!(emulator.stats().runs_accepted, 2, "{stderr}");
    let capped = run(&emulator, dir.path(), "table.csv", &["--max-cost", "0.45"]).await;
    let stderr = String::from_utf8_lossy(&capped.stderr);
    assert_eq!(capped.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("1 task (2221)"), "{stderr}");
}

/// The paid node renamed in the flow: a new intent (its Runs go again), but what the old
/// name paid is counted by the cap and named, not forgotten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_counts_what_a_paid_node_paid_under_a_name_the_flow_no_longer_has() {
    let (emulator, dir) = boat_and_mug_run().await;
    let renamed = FLOW
        .replace("\"id\": \"video\"", "\"id\": \"clip\"")
        .replace("video.task", "clip.task");
    std::fs::write(dir.path().join("flow.json"), renamed).unwrap();
    std::fs::write(dir.path().join("table.csv"), "clip.prompt\na boat\na mug\n").unwrap();
    let capped = run(&emulator, dir.path(), "table.csv", &["--max-cost", "0.90"]).await;
    let stderr = String::from_utf8_lossy(&capped.stderr);
    assert_eq!(capped.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "earlier runs here paid $0.90 for cells no row of this table has now, 2 tasks"
        ),
        "{stderr}"
    );
    assert_eq!(emulator.stats().runs_accepted, 2, "{stderr}");
    let both = run(&emulator, dir.path(), "table.csv", &["--max-cost", "1.80"]).await;
    let stderr = String::from_utf8_lossy(&both.stderr);
    assert!(both.status.success(), "{stderr}");
    assert!(
        stderr.contains("earlier runs in this folder also paid $0.90 for 2 tasks"),
        "{stderr}"
    );
    assert_eq!(emulator.stats().runs_accepted, 4, "{stderr}");
}

/// A wait's timeout or polling changed in the flow: the finished waits are taken again, not
/// waited again (a task whose files a later node deleted would fail a second wait).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waits_patience_changed_takes_its_finished_result_again() {
    let (emulator, dir) = boat_and_mug_run().await;
    let patient = FLOW.replace(
        "\"poll_seconds\": 0.05",
        "\"poll_seconds\": 0.1, \"timeout_seconds\": 600",
    );
    assert_ne!(patient, FLOW);
    std::fs::write(dir.path().join("flow.json"), patient).unwrap();
    let sockets = emulator.stats().requests(Operation::Socket);
    let again = run(&emulator, dir.path(), "table.csv", &[]).await;
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 2, "{stderr}");
    assert_eq!(
        emulator.stats().requests(Operation::Socket),
        sockets,
        "no task was waited for again: {stderr}"
    );
    let results = std::fs::read_to_string(dir.path().join("out/results.csv")).unwrap();
    assert!(
        results.contains(",done,") && !results.contains("failed"),
        "{results}"
    );
}
