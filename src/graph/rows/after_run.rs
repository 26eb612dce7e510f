//! What a run over a table leaves to tidy and tell when it ends, for every host that runs one:
//! files a row folder holds that are not its row's result now, moved aside to
//! `OUT/replaced/`, row folders of no row of the table, and paid tasks an earlier run started
//! for cells the table no longer has.

use std::path::{Path, PathBuf};

use super::{counted, first_few, row_name, LeftRunning, RowOutcome, RowResult};
use crate::api::{is_link, through_a_link, unused_name};
use crate::graph::out_folder::lexical;
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
/// and a pipeline collecting it takes no other row's video; a row `--skip-invalid-rows`
/// refused has no result, so what its folder holds goes too. Rows not started (a cancelled
/// run) keep their folders as they are.
pub fn set_aside_earlier_files(out: &Path, results: &[RowResult]) -> SetAside {
    let mut moved = Vec::new();
    let mut warnings = Vec::new();
    let ran = |result: &&RowResult| {
        matches!(
            result.outcome,
            RowOutcome::Done | RowOutcome::Failed | RowOutcome::Cancelled | RowOutcome::Refused
        )
    };
    if is_link(&out.join(REPLACED)) {
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
        if is_link(&folder) {
            continue;
        }
        let aside = out.join(REPLACED).join(row_name(result.row));
        // A result's files as the run wrote them (from the working folder), or within `out`.
        let its_files: Vec<PathBuf> = (result.files.iter())
            .flat_map(|file| [lexical(file), lexical(&out.join(file))])
            .collect();
        for (path, inside) in files_within(&folder) {
            if its_files.contains(&lexical(&path)) {
                continue;
            }
            let target = unused_name(&aside.join(&inside));
            let shown = format!(
                "{}/{}",
                row_name(result.row),
                target.strip_prefix(&aside).unwrap_or(&inside).display()
            );
            let parent = target.parent().unwrap_or(&aside);
            if through_a_link(out, parent) {
                warnings.push(format!(
                    "{shown} is not row {}'s result now and was not moved aside: a link stands in {}",
                    result.row,
                    parent.display()
                ));
                continue;
            }
            match std::fs::create_dir_all(parent).and_then(|()| std::fs::rename(&path, &target)) {
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
            "{} in row folders {} not {} row's result now (an earlier run's: other cells, another flow, or before --fresh): moved to {}: {}",
            counted(moved.len(), "file"),
            if moved.len() == 1 { "was" } else { "were" },
            if moved.len() == 1 { "its" } else { "their" },
            out.join(REPLACED).display(),
            first_few(&moved, "file")
        )
    });
    SetAside { note, warnings }
}

/// The files in `folder` and the folders inside it, each with its path within `folder`:
/// not through links (which lead anywhere), and not the hidden ones (a download's partial
/// file).
fn files_within(folder: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut files = Vec::new();
    let mut folders = vec![PathBuf::new()];
    while let Some(inside) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(folder.join(&inside)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => folders.push(inside.join(&name)),
                Ok(kind) if kind.is_file() => files.push((entry.path(), inside.join(&name))),
                _ => {}
            }
        }
    }
    files.sort();
    files
}

/// Which paid tasks an earlier run started for cells the table no longer has (a row edited,
/// or the flow, while its task ran) are still running: they are billed when they end, and no
/// row waits for them; how to stop one. Then those that ended with a charge no run saw
/// (their run stopped before their end), with what each cost; then those an earlier run saw
/// end with a charge, which this table's results do not list: a warning each.
pub fn left_running_warnings(left: &[LeftRunning]) -> Vec<String> {
    // Each with its task's id (a lost Run no task is known of has nothing to stop or read).
    let known = left
        .iter()
        .filter_map(|left| Some((left, &*left.task.as_ref()?.taskid)));
    let (seen, left): (Vec<Known>, Vec<Known>) = known.partition(|(left, _)| left.seen);
    let (running, ended): (Vec<Known>, Vec<Known>) = left
        .into_iter()
        .partition(|(left, _)| left.charged.is_none());
    let mut said = Vec::new();
    if let Some((_, first)) = running.first() {
        let named: Vec<String> = (running.iter())
            .map(|(left, taskid)| format!("task {taskid} ({})", left.shown()))
            .collect();
        let one = running.len() == 1;
        said.push(format!(
            "{} an earlier run started for cells this table no longer has (or for another flow) {}: {}. No row waits for {}; to stop {}: wiro-nodes node exec wiro/task.kill --inputs '{{\"task\":{{\"taskid\":\"{}\"}}}}'",
            counted(running.len(), "paid task"),
            if one { "is still running, and is billed when it ends" } else { "are still running, and are billed when they end" },
            first_few(&named, "task"),
            if one { "it" } else { "them" },
            if one { "it" } else { "one" },
            first
        ));
    }
    if !ended.is_empty() {
        let (named, total) = with_charges(&ended);
        let one = ended.len() == 1;
        said.push(format!(
            "{} an earlier run started for cells this table no longer has (or for another flow) ended after that run stopped, charged {total} in all, which no row's results include: {}. {} outputs are on the server (wiro-nodes node exec wiro/task.detail --inputs '{{\"task\":{{\"taskid\":\"{}\"}}}}')",
            counted(ended.len(), "paid task"),
            first_few(&named, "task"),
            if one { "Its" } else { "Their" },
            ended[0].1
        ));
    }
    if !seen.is_empty() {
        let (named, total) = with_charges(&seen);
        said.push(format!(
            "earlier runs in this folder also paid {total} for {} of cells this table no longer has (or of another flow), which its results do not list: {}",
            counted(seen.len(), "task"),
            first_few(&named, "task"),
        ));
    }
    said
}

/// A task left running, with its id.
type Known<'a> = (&'a LeftRunning, &'a str);

/// Each task named with its node and charge, and what they were charged in all.
fn with_charges(left: &[Known]) -> (Vec<String>, String) {
    let named = (left.iter())
        .map(|(left, taskid)| {
            let cost = usd(left.charged.unwrap_or_default());
            format!("task {taskid} ({}, {cost})", left.shown())
        })
        .collect();
    let total = usd(sum_usd(left.iter().filter_map(|(left, _)| left.charged)));
    (named, total)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_deep_in_a_row_folder_that_are_not_its_result_are_moved_aside_never_over_another() {
        let out = tempfile::tempdir().unwrap();
        let clips = out.path().join("row-0007/clips");
        std::fs::create_dir_all(&clips).unwrap();
        for name in ["save-0.mp4", "earlier.mp4", ".save-1.mp4.part"] {
            std::fs::write(clips.join(name), name).unwrap();
        }
        std::fs::create_dir_all(out.path().join("replaced/row-0007/clips")).unwrap();
        std::fs::write(
            out.path().join("replaced/row-0007/clips/earlier.mp4"),
            "older",
        )
        .unwrap();
        let mut done = RowResult::new(7, RowOutcome::Done);
        done.files = vec![PathBuf::from("row-0007/clips/save-0.mp4")];
        let set_aside = set_aside_earlier_files(out.path(), &[done]);
        assert_eq!(set_aside.warnings, Vec::<String>::new());
        assert!(
            (set_aside.note.unwrap()).ends_with(": row-0007/clips/earlier-2.mp4"),
            "moved beside the file an earlier table's end moved there"
        );
        let read = |path: &str| std::fs::read_to_string(out.path().join(path)).unwrap();
        assert_eq!(read("replaced/row-0007/clips/earlier-2.mp4"), "earlier.mp4");
        assert_eq!(read("replaced/row-0007/clips/earlier.mp4"), "older");
        assert_eq!(read("row-0007/clips/save-0.mp4"), "save-0.mp4");
        assert!(
            clips.join(".save-1.mp4.part").exists(),
            "a partial file stays"
        );
    }

    #[test]
    fn nothing_is_moved_aside_through_a_link_in_the_replaced_folder() {
        let out = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join("row-0002")).unwrap();
        std::fs::write(out.path().join("row-0002/old.mp4"), "paid").unwrap();
        std::fs::create_dir_all(out.path().join(REPLACED)).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), out.path().join("replaced/row-0002")).unwrap();
        let failed = RowResult::new(2, RowOutcome::Failed);
        let set_aside = set_aside_earlier_files(out.path(), &[failed]);
        assert!(
            set_aside.warnings[0].contains("was not moved aside: a link stands in"),
            "{:?}",
            set_aside.warnings
        );
        assert!(out.path().join("row-0002/old.mp4").exists());
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }
}
