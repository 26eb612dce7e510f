//! The output folder a run writes to, checked before anything is sent: that it can be
//! written, and that nothing stands where the run writes its journal, results and row
//! folders (found after the Runs, any of them would stop a run that has paid, or lose its
//! results).

use std::path::Path;

use super::rows::{first_few, results_file, row_name, TableFlow, REPLACED};
use super::JOURNAL_FILE;

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

/// What the run writes in the output folder must not find something else in its place: the journal
/// (a file), and for a table the results (files) and each row's folder. Found after the Runs,
/// any of them would stop a run that has paid, or lose its results.
pub fn free_for(
    out: &Path,
    shown: &str,
    rows: Option<&TableFlow>,
    json: bool,
) -> Result<(), String> {
    // What stands at `name`, when it is not what the run writes there (a folder, or not).
    let in_the_way = |name: &str, folder: bool| -> Option<String> {
        let path = out.join(name);
        // A link may lead anywhere (a shared workspace's `row-0002 -> ~/.ssh`): the run
        // neither writes through one nor moves files out of where one leads.
        if std::fs::symlink_metadata(&path).is_ok_and(|found| found.is_symlink()) {
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
    match found.as_slice() {
        [] => Ok(()),
        _ => Err(format!(
            "{shown}: {}, where the run writes its own: move it, or name another output folder",
            first_few(&found, "place")
        )),
    }
}
