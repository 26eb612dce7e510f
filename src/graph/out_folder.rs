//! The output folder a run writes to, checked before anything is sent: that it can be
//! written, that nothing stands where the run writes its journal, results, row folders and
//! downloads (found after the Runs, any of them would stop a run that has paid, or lose its
//! results), and that a table's journal still accounts for what its results say was paid.
//! Also how a path a run recorded is compared with the folder however either was written.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::journal::holds_rows;
use super::rows::{
    counted, downloads, first_few, results_file, row_name, Cell, Table, TableFlow, REPLACED,
};
use super::{Workflow, JOURNAL_FILE};
use crate::api::{is_link, safe_relative, LocalFile};
use crate::node::Registry;

/// The output folder (`shown` as the user named it) must be a folder, or not exist yet (it
/// is made): said in the user's words before anything is asked of the server.
pub fn writable(out: &Path, shown: &str) -> Result<(), String> {
    // The folder, or the nearest one above it that exists (the run makes the rest), must be
    // a folder that takes a file: a journal that cannot be written stops the run, and better
    // before the first Run than after it.
    let (existing, metadata) = out
        .ancestors()
        .map(|at| {
            if at.as_os_str().is_empty() {
                Path::new(".")
            } else {
                at
            }
        })
        .find_map(|at| Some((at, std::fs::metadata(at).ok()?)))
        .ok_or_else(|| format!("{shown}: no part of it exists"))?;
    if !metadata.is_dir() {
        return Err(format!(
            "{shown}: {} is a file, not a folder: name a folder for the downloads and the journal",
            existing.display()
        ));
    }
    let probe = existing.join(format!(".wiro-nodes-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => Err(format!(
            "{shown}: cannot write in {} ({error}): name a folder you can write to",
            existing.display()
        )),
    }
}

/// `path` as the same place is named however it was written: made absolute from the working
/// folder and without its `.` parts (`out`, `./out` and `/work/out` alike), `..` and links
/// left as they are. How a run compares a path it recorded with its output folder.
pub(crate) fn lexical(path: &Path) -> PathBuf {
    let absolute = match path.is_absolute() {
        true => path.to_path_buf(),
        false => std::env::current_dir().unwrap_or_default().join(path),
    };
    absolute
        .components()
        .filter(|part| !matches!(part, std::path::Component::CurDir))
        .collect()
}

/// `path` within `out`, however either was written (see [`lexical`]); `None` outside it,
/// and when a `..` follows (`out/../elsewhere` is not inside `out`).
pub(crate) fn within(out: &Path, path: &Path) -> Option<PathBuf> {
    let path = lexical(path);
    let inside = path.strip_prefix(lexical(out)).ok()?;
    let plain = |part: std::path::Component| matches!(part, std::path::Component::Normal(_));
    inside.components().all(plain).then(|| inside.to_path_buf())
}

/// What the run writes in the output folder must not find something else in its place: the journal
/// (a file), for a table the results (files) and each row's folder, and the folders its
/// downloads are written into (`flow`'s own, or each row's whose folder exists). Found after
/// the Runs, any of them would stop a run that has paid, or lose its results.
pub fn free_for(
    out: &Path,
    shown: &str,
    flow: &Workflow,
    registry: &Registry,
    rows: Option<&TableFlow>,
    json: bool,
) -> Result<(), String> {
    // What stands at `name`, when it is not what the run writes there (a folder, or not).
    let in_the_way = |name: &str, folder: bool| -> Option<String> {
        let path = out.join(name);
        // A link may lead anywhere (a shared workspace's `row-0002 -> ~/.ssh`): the run
        // neither writes through one nor moves files out of where one leads.
        if is_link(&path) {
            return Some(format!("{name} is a link"));
        }
        let what = match std::fs::metadata(&path) {
            Ok(metadata) if metadata.is_dir() == folder => return None,
            Ok(metadata) if metadata.is_dir() => "is a folder",
            Ok(_) => "is a file",
            Err(_) => return None,
        };
        Some(format!("{name} {what}"))
    };
    let mut files = vec![JOURNAL_FILE];
    if rows.is_some() {
        files.push(results_file(false));
        if json {
            files.push(results_file(true));
        }
    }
    let mut found: Vec<String> = files
        .into_iter()
        .filter_map(|name| in_the_way(name, false))
        .collect();
    if let Some(rows) = rows {
        let folders = rows.table().rows.iter().map(|row| row_name(row.line));
        let folders = folders.chain([REPLACED.to_owned()]);
        found.extend(folders.filter_map(|name| in_the_way(&name, true)));
    }
    if !found.is_empty() {
        return Err(format!(
            "{shown}: {}, where the run writes its own: move it, or name another output folder",
            first_few(&found, "place")
        ));
    }
    let downloads = downloads(flow, registry);
    let taken = match rows {
        None => download_folders_taken(out, flow, &downloads),
        // Nothing stands inside a row's folder that does not exist yet.
        Some(rows) => (0..rows.len())
            .filter(|&index| out.join(row_name(rows.table().rows[index].line)).is_dir())
            .flat_map(|index| download_folders_taken(out, &rows.row(index), &downloads))
            .collect(),
    };
    match taken.as_slice() {
        [] => Ok(()),
        _ => Err(format!(
            "{shown}: {}: name another directory, or move the file",
            first_few(&taken, "place")
        )),
    }
}

/// Where a download of `flow` would make its folder and finds a file (`directory` naming the
/// journal, or a clip of an earlier run) or a link (which may lead out of the output folder,
/// where a run writes nothing): each place, with the node's input that names it.
fn download_folders_taken(out: &Path, flow: &Workflow, downloads: &[bool]) -> Vec<String> {
    let mut found = Vec::new();
    for (node, _) in flow.nodes.iter().zip(downloads).filter(|(_, d)| **d) {
        let Some(directory) = node.inputs.get("directory").and_then(Value::as_str) else {
            continue; // the output folder itself, or wired: known only when it arrives
        };
        let taken = first_in_the_way(out, &safe_relative(directory));
        found.extend(taken.map(|why| format!("{}.directory {directory:?} {why}", node.id)));
    }
    found
}

/// Why the download folder `folder` (relative to `out`) cannot be made or written in, if it
/// cannot: the first of its folders that is a link (which may lead anywhere) or a file.
fn first_in_the_way(out: &Path, folder: &Path) -> Option<String> {
    let mut made = PathBuf::new();
    for part in folder.iter() {
        made.push(part);
        let at = out.join(&made);
        if is_link(&at) {
            let why = "it may lead out of the output folder, and a run writes only inside it";
            return Some(format!("goes through {}, a link ({why})", made.display()));
        }
        match std::fs::metadata(&at) {
            Ok(found) if found.is_dir() => continue,
            Ok(_) => return Some(format!("makes a folder where {} is a file", made.display())),
            Err(_) => return None, // made by the run from here on
        }
    }
    None
}

/// A table's earlier results must be known to the journal beside them, or running would pay
/// for those rows again without a word: `results.csv` listing tasks the journal does not
/// hold (it was deleted, cut, or replaced by another flow's `--fresh` run), or, with no
/// results and a journal that never ran a table, row folders of this table holding files.
/// Tasks in a journal `--fresh` kept aside (`wiro-journal.earlier*.jsonl`) count only while
/// the journal is a table's (a `--fresh` run of a table killed before its end goes on).
/// Said before anything is sent; `--fresh` is the way to pay again.
pub fn journal_knows_results(out: &Path, shown: &str, rows: &TableFlow) -> Result<(), String> {
    // Read as it is: a line torn within a letter is no reason to call the journal lost.
    let read = |path: &Path| {
        String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
    };
    let journal = read(&out.join(JOURNAL_FILE));
    let a_table_s = holds_rows(&journal);
    let mut known: std::collections::HashSet<String> = task_ids_in(&journal).collect();
    if a_table_s {
        for kept in LocalFile::kept_beside(&out.join(JOURNAL_FILE)) {
            known.extend(task_ids_in(&read(&kept)));
        }
    }
    let results = out.join(results_file(false));
    let listed = listed_tasks(&results);
    let unknown: Vec<String> = (listed.iter())
        .filter(|task| !known.contains(task.as_str()))
        .cloned()
        .collect();
    let why = "running would pay for those rows again. Put the journal back, or run with --fresh to pay for every row again";
    if !unknown.is_empty() {
        return Err(format!(
            "{shown}: {} lists {} that the journal {} does not hold ({}): the journal was deleted, cut or replaced (or the results table edited: put it back, or delete it), and {why}",
            results.display(),
            counted(unknown.len(), "paid task"),
            out.join(JOURNAL_FILE).display(),
            first_few(&unknown, "task"),
        ));
    }
    if a_table_s || !listed.is_empty() {
        return Ok(());
    }
    let with_files: Vec<String> = (rows.table().rows.iter())
        .map(|row| row_name(row.line))
        .filter(|name| {
            std::fs::read_dir(out.join(name)).is_ok_and(|mut entries| entries.next().is_some())
        })
        .collect();
    match with_files.as_slice() {
        [] => Ok(()),
        _ => Err(format!(
            "{shown}: {} of this table hold files of an earlier run, and no journal of a table run is there to say which rows they paid for: {why}",
            first_few(&with_files, "row folder"),
        )),
    }
}

/// The tasks a results table lists, whatever each row's outcome (a failed row's task may
/// have been paid: it ended, and its download failed); none when there is none to read.
fn listed_tasks(results: &Path) -> Vec<String> {
    let Ok(table) = Table::read(results) else {
        return Vec::new(); // none yet, or not ours to read
    };
    let Some(tasks) = table.columns.iter().position(|column| column == "tasks") else {
        return Vec::new();
    };
    (table.rows.iter())
        .filter_map(|row| match &row.cells[tasks] {
            Some(Cell::Text(text)) => Some(text.lines().map(str::to_owned).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        // A spreadsheet or pandas may have written the id `2254` as `2254.0`.
        .map(|task| match task.strip_suffix(".0") {
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => id.to_owned(),
            _ => task,
        })
        .filter(|task| !task.is_empty())
        .collect()
}

/// Every task id a journal's text names: a started task's (`"taskid":"…"`) or a task
/// record's (`"id":"…"`, a wait on a task the flow names), whatever line holds it. Other ids
/// (an output file's) may come along: they only make the check above more lenient.
fn task_ids_in(text: &str) -> impl Iterator<Item = String> + '_ {
    ["\"taskid\":\"", "\"id\":\""]
        .into_iter()
        .flat_map(move |mark| {
            text.match_indices(mark).filter_map(move |(at, _)| {
                let rest = &text[at + mark.len()..];
                rest.find('"').map(|end| rest[..end].to_owned())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::rows::Row;

    #[cfg(unix)]
    #[test]
    fn a_download_folder_through_a_link_or_a_file_is_named() {
        let out = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let link = |name: &str| {
            std::os::unix::fs::symlink(elsewhere.path(), out.path().join(name)).unwrap()
        };
        std::fs::create_dir_all(out.path().join("a")).unwrap();
        link("clips");
        link("a/b");
        std::fs::write(out.path().join("notes"), "a file").unwrap();
        let why = |folder: &str| first_in_the_way(out.path(), Path::new(folder));
        let through = |name: &str| {
            let reason = "it may lead out of the output folder, and a run writes only inside it";
            Some(format!("goes through {name}, a link ({reason})"))
        };
        assert_eq!(why("clips"), through("clips"));
        assert_eq!(why("clips/hd"), through("clips"));
        assert_eq!(why("a/b/c"), through("a/b"));
        assert_eq!(
            why("notes/x"),
            Some("makes a folder where notes is a file".into())
        );
        assert_eq!(why("a/new/deeper"), None);
    }

    #[test]
    fn results_or_row_folders_no_journal_accounts_for_stop_a_table() {
        let out = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(out.path().join(name), text).unwrap();
        let flow: Workflow = serde_json::from_str(
            r#"{"version": 1, "nodes": [{"id": "video", "type": "pixverse/text-to-video-v4", "inputs": {"prompt": "x"}}]}"#,
        )
        .unwrap();
        let table = Table {
            columns: vec!["video.prompt".into()],
            rows: vec![Row {
                line: 2,
                cells: vec![Some(Cell::Text("a fox".into()))],
            }],
            blank: Vec::new(),
        };
        let registry = Registry::from_inventory();
        let rows = TableFlow::new(&flow, &table, &registry).unwrap();
        let check = || journal_knows_results(out.path(), "--out out", &rows);
        // A failed row's task counts too (it may have been paid: its download failed).
        write(
            "results.csv",
            "row,outcome,tasks,cost,files,error\n2,done,\"11\n12\",0.45,,\n3,failed,13,0,,x\n",
        );
        let row = r#"{"node":"row-0002","key":"c","event":"row"}"#;
        let started = r#"{"node":"row-0002-video","key":"k","event":{"task_started":{"task":{"taskid":"11","socketaccesstoken":"t"}}}}"#;
        let record = r#"{"node":"row-0002-wait","key":"k","event":{"finished":{"outputs":{"task":{"id":"12"}}}}}"#;
        write(JOURNAL_FILE, &format!("{started}\n{record}\n"));
        let refused = check().unwrap_err();
        assert!(
            refused.contains("lists 1 paid task that the journal") && refused.contains("(13)"),
            "{refused}"
        );
        // A journal --fresh kept aside counts while the journal is a table's.
        write("wiro-journal.earlier.jsonl", r#"{"x":{"taskid":"13"}}"#);
        assert!(
            check().is_err(),
            "another flow's --fresh journal: the table's was set aside"
        );
        write(JOURNAL_FILE, &format!("{row}\n{started}\n{record}\n"));
        assert_eq!(check(), Ok(()));
        // Ids as a spreadsheet may write them back.
        write(
            "results.csv",
            "row,outcome,tasks,cost,files,error\n2,done,11.0,0.45,,\n",
        );
        assert_eq!(check(), Ok(()));
        // No results, no journal of a table, and the row's folder holds a file.
        std::fs::remove_file(out.path().join("results.csv")).unwrap();
        write(JOURNAL_FILE, "");
        assert_eq!(check(), Ok(()), "nothing ran here");
        std::fs::create_dir(out.path().join("row-0002")).unwrap();
        write("row-0002/row-0002-save-0.mp4", "a paid video");
        assert!(check()
            .unwrap_err()
            .contains("row-0002 of this table hold files"));
    }
}
