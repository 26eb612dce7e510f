//! What a run over a table leaves to tidy and tell when it ends, for every host that runs one:
//! files a row folder holds that are not its row's result now, moved aside to
//! `OUT/replaced/`, row folders of no row of the table, and paid tasks an earlier run started
//! for cells the table no longer has.

use std::path::Path;

use super::{counted, first_few, row_name, LeftRunning, RowOutcome, RowResult};
use crate::graph::{sum_usd, usd};

/// Where files a row's folder held that are not its result now are moved, inside `--out`.
pub const REPLACED: &str = "replaced";

/// What [`set_aside_earlier_files`] did, in words a host shows as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetAside {
    /// What was moved and where, when anything was: one note.
    pub note: Option<String>,
    /// Files that should have been moved and could not be, each with why.
    pub warnings: Vec<String>,
}

/// Moves out of each row folder the files that are not its row's result now: a row that
/// failed or was cancelled in this run, or finished with other files, where an earlier run
/// left files under other cells (a row changed or moved, a flow's node renamed). They go to
/// `out/replaced/row-0007/` (never deleted), so that `row-*/` holds each row's results only
/// and a pipeline collecting it takes no other row's video. Rows not started (a cancelled
/// run) and refused rows keep their folders as they are.
pub fn set_aside_earlier_files(out: &Path, results: &[RowResult]) -> SetAside {
    let mut moved = Vec::new();
    let mut warnings = Vec::new();
    let ran = |result: &&RowResult| {
        matches!(
            result.outcome,
            RowOutcome::Done | RowOutcome::Failed | RowOutcome::Cancelled
        )
    };
    let link = |path: &Path| std::fs::symlink_metadata(path).is_ok_and(|found| found.is_symlink());
    if link(&out.join(REPLACED)) {
        warnings.push(format!(
            "{} is a link: nothing was moved aside through it",
            out.join(REPLACED).display()
        ));
        return SetAside {
            note: None,
            warnings,
        };
    }
    for result in results.iter().filter(ran) {
        let folder = out.join(row_name(result.row));
        // A row folder that is a link leads anywhere: nothing is moved out of it.
        if link(&folder) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&folder).map(|entries| entries.flatten()) else {
            continue;
        };
        for entry in entries {
            let path = entry.path();
            let name = entry.file_name();
            let partial = name.to_string_lossy().starts_with('.');
            // A result's files are named as the run wrote them, under `out`.
            let kept = (result.files.iter()).any(|file| *file == path || out.join(file) == path);
            if kept || partial || !entry.file_type().is_ok_and(|kind| kind.is_file()) {
                continue;
            }
            let aside = out.join(REPLACED).join(row_name(result.row));
            let mut target = aside.join(&name);
            for n in 1.. {
                if !target.exists() {
                    break;
                }
                target = aside.join(format!("{}.{n}", name.to_string_lossy()));
            }
            let shown = format!(
                "{}/{}",
                row_name(result.row),
                target.file_name().unwrap_or(&name).to_string_lossy()
            );
            match std::fs::create_dir_all(&aside).and_then(|()| std::fs::rename(&path, &target)) {
                Ok(()) => moved.push(shown),
                Err(error) => warnings.push(format!(
                    "{shown} is not row {}'s result now and could not be moved aside: {error}",
                    result.row
                )),
            }
        }
    }
    let note = (!moved.is_empty()).then(|| {
        format!(
            "{} in row folders {} not {} row's result now (an earlier run's, under other cells): moved to {}: {}",
            counted(moved.len(), "file"),
            if moved.len() == 1 { "was" } else { "were" },
            if moved.len() == 1 { "its" } else { "their" },
            out.join(REPLACED).display(),
            first_few(&moved, "file")
        )
    });
    SetAside { note, warnings }
}

/// Which paid tasks an earlier run started for cells the table no longer has (a row edited,
/// or the flow, while its task ran) are still running: they are billed when they end, and no
/// row waits for them; how to stop one. Then those that ended with a charge no run saw
/// (their run stopped before their end), with what each cost: a warning each.
pub fn left_running_warnings(left: &[LeftRunning]) -> Vec<String> {
    let (running, ended): (Vec<&LeftRunning>, Vec<&LeftRunning>) =
        left.iter().partition(|left| left.charged.is_none());
    let mut said = Vec::new();
    if let Some(first) = running.first() {
        let named: Vec<String> = (running.iter())
            .map(|left| format!("task {} ({})", left.task.taskid, left.node))
            .collect();
        let one = running.len() == 1;
        said.push(format!(
            "{} an earlier run started for cells this table no longer has (or for another flow) {}: {}. No row waits for {}; to stop {}: wiro-nodes node exec wiro/task.kill --inputs '{{\"task\":{{\"taskid\":\"{}\"}}}}'",
            counted(running.len(), "paid task"),
            if one { "is still running, and is billed when it ends" } else { "are still running, and are billed when they end" },
            first_few(&named, "task"),
            if one { "it" } else { "them" },
            if one { "it" } else { "one" },
            first.task.taskid
        ));
    }
    if !ended.is_empty() {
        let named: Vec<String> = (ended.iter())
            .map(|left| {
                let cost = usd(left.charged.unwrap_or_default());
                format!("task {} ({}, {cost})", left.task.taskid, left.node)
            })
            .collect();
        let total = usd(sum_usd(ended.iter().filter_map(|left| left.charged)));
        let one = ended.len() == 1;
        said.push(format!(
            "{} an earlier run started for cells this table no longer has (or for another flow) ended after that run stopped, charged {total} in all, which no row's results include: {}. {} outputs are on the server (wiro-nodes node exec wiro/task.detail --inputs '{{\"task\":{{\"taskid\":\"{}\"}}}}')",
            counted(ended.len(), "paid task"),
            first_few(&named, "task"),
            if one { "Its" } else { "Their" },
            ended[0].task.taskid
        ));
    }
    said
}

/// Names the row folders in `out` (`row-0009/`) of no row in `results`: an earlier run's over
/// a longer table, or lines that moved. They are left alone (they hold the user's files), and
/// named, so a pipeline that reads `row-*/` knows. `None` when there are none.
pub fn stale_row_folders(out: &Path, results: &[RowResult]) -> Option<String> {
    let rows: std::collections::HashSet<usize> = results.iter().map(|row| row.row).collect();
    let Ok(entries) = std::fs::read_dir(out) else {
        return None;
    };
    let mut stale: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| {
            let line = name
                .strip_prefix("row-")
                .and_then(|n| n.parse::<usize>().ok());
            line.is_some_and(|line| *name == row_name(line) && !rows.contains(&line))
        })
        .collect();
    stale.sort();
    (!stale.is_empty()).then(|| {
        format!(
            "{} in {} {} to no row of this table (an earlier run's, over more or other lines): {}",
            counted(stale.len(), "row folder"),
            out.display(),
            if stale.len() == 1 {
                "belongs"
            } else {
                "belong"
            },
            first_few(&stale, "row folder")
        )
    })
}
