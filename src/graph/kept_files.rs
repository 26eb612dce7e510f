//! Files a run wrote, found again where runs keep them: a table's row that moved to another
//! line (a line inserted above it, the table sorted) takes the files it wrote under its
//! earlier line into its own row folder, and a node whose file is gone from where it wrote it
//! takes it back from beside it (`NAME.earlier.EXT`) or from `OUT/replaced/`, where a table
//! moves a row's files when its cells change (an edit undone). Not fetched again: the server
//! may no longer hold them (a `wiro/task.files.delete` after the download, or its time
//! limit).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::executor::ActiveRun;
use super::out_folder::within;
use super::resume::{moves_with_row, Resume};
use super::rows::{counted, row_name, split_row, REPLACED};
use super::RunError;
use crate::api::{is_link, through_a_link, LocalFile};
use crate::node::Node;

impl ActiveRun<'_> {
    /// For the node at `position` of a row that moved here from other lines with the same
    /// cells: when it writes its files into the row's folder, and finished there under those
    /// other lines with these same inputs (its `directory` aside), those files moved into
    /// this row's folder, its outputs naming them, noted under its `key` and `journal_name`.
    pub(super) async fn moved_here(
        &self,
        position: usize,
        target: &dyn Node,
        inputs: &Value,
        (key, journal_name): (&str, &str),
        note: &impl Fn(String),
    ) -> Result<Option<Resume>, RunError> {
        let spec = target.spec();
        let id = &self.workflow.nodes[position].id;
        let Some((line, node)) = split_row(id) else {
            return Ok(None);
        };
        if moves_with_row(spec) || self.earlier_lines.is_empty() {
            return Ok(None);
        }
        let here = row_name(line);
        let inside = (inputs.get("directory").and_then(Value::as_str))
            .and_then(|directory| directory.strip_prefix(here.as_str()))
            .filter(|rest| rest.is_empty() || rest.starts_with('/'));
        let Some(inside) = inside else {
            return Ok(None);
        };
        for earlier in &self.earlier_lines {
            let mut there = inputs.clone();
            there["directory"] = Value::String(format!("{earlier}{inside}"));
            let (there_key, _) = self.key(position, target, &there);
            let name = format!("{earlier}-{node}");
            let Some(Resume::Finished(outputs)) =
                self.journal.resume(&name, id, &there_key, false, false)
            else {
                continue;
            };
            let files = spec.kinds.local_files(&outputs);
            if files.is_empty() {
                continue;
            }
            let out = self.executor.options.output_dir.clone();
            let (from, to) = (earlier.clone(), here.clone());
            let kinds = spec.kinds.clone();
            let moved = tokio::task::spawn_blocking(move || {
                // Written in another output folder, the files are looked for in this one.
                let (outputs, _) = in_this_folder(&out, outputs, &files);
                let files = kinds.local_files(&outputs);
                Some((outputs, move_files(&out, &files, &from, &to)?))
            });
            let Some((outputs, moved)) = moved.await.ok().flatten() else {
                continue;
            };
            note(format!(
                "its row moved from {earlier}: {} it wrote there moved into {here}, not downloaded again",
                counted(moved.len(), "file")
            ));
            let found = Resume::Finished(with_paths(outputs, &moved));
            self.note_under(journal_name, key, Some(&found))?;
            return Ok(Some(found));
        }
        Ok(None)
    }
}

/// Moves `files`, written in the row folder `from` inside `out`, into the row folder `to`
/// (a name the node gave them, `row-0003-save-0.mp4`, becomes `row-0004-save-0.mp4`), each
/// from wherever its bytes are (see [`find_bytes`]; at its new name already, when a run was
/// killed after moving it); a file of other bytes at a new name is kept aside as a download
/// keeps one. `None`, and nothing moved, when a file is nowhere or outside `from`; `None` too
/// when a move fails part way (the node downloads again). Each file's (old, new) path.
fn move_files(
    out: &Path,
    files: &[LocalFile],
    from: &str,
    to: &str,
) -> Option<Vec<(PathBuf, PathBuf)>> {
    let _one_at_a_time = lock_moves();
    let mut moves = Vec::with_capacity(files.len());
    for file in files {
        let inside = within(out, &file.path)?;
        let mut parts = inside.components();
        if parts.next()?.as_os_str() != from {
            return None;
        }
        let inside = parts.as_path();
        let name = inside.file_name()?.to_string_lossy();
        let renamed = match name.strip_prefix(&format!("{from}-")) {
            Some(rest) => inside.with_file_name(format!("{to}-{rest}")),
            None => inside.to_path_buf(),
        };
        let target = out.join(to).join(renamed);
        // A run killed after a move and before its journal line finds the file moved.
        let source = find_bytes(out, file, &[&target])?;
        moves.push((file, source, target));
    }
    let mut moved = Vec::with_capacity(moves.len());
    for (file, source, target) in moves {
        if put(file, &source, &target).is_none() {
            // Another file took its place since it was found: found again, once.
            put(file, &find_bytes(out, file, &[&target])?, &target)?;
        }
        moved.push((file.path.clone(), target));
    }
    Some(moved)
}

/// Rows run at once, and two that swapped lines each take a file from the folder the other
/// fills: one move at a time in the process, each finding its file after the last ended.
fn lock_moves() -> std::sync::MutexGuard<'static, ()> {
    static MOVING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    MOVING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Puts the bytes of `file`, found at `source`, at `target`: a file of other bytes there is
/// kept aside as a download keeps one. The bytes are checked once in place: a download of
/// the row now at `source`'s line may have put its own file there since it was found, and
/// that file goes back (beside `source` when that is taken again), nothing moved.
fn put(file: &LocalFile, source: &Path, target: &Path) -> Option<()> {
    if source == target {
        return Some(());
    }
    let placed = LocalFile {
        path: target.to_path_buf(),
        ..file.clone()
    };
    std::fs::create_dir_all(target.parent()?).ok()?;
    placed.keep_earlier().ok()?;
    std::fs::rename(source, target).ok()?;
    if placed.changed().is_none() {
        return Some(());
    }
    let back = match std::fs::symlink_metadata(source) {
        Ok(_) => crate::api::unused_name(&crate::api::earlier_name(source)),
        Err(_) => source.to_path_buf(),
    };
    let _ = std::fs::rename(target, back);
    None
}

/// Puts a file a node wrote back where it wrote it, from where runs keep files (see
/// [`find_bytes`]); where it was found, or `None` when it is nowhere.
pub(super) fn take_back(out: &Path, file: &LocalFile) -> Option<PathBuf> {
    let _one_at_a_time = lock_moves();
    let source = find_bytes(out, file, &[])?;
    put(file, &source, &file.path)?;
    Some(source)
}

/// Where the bytes `file` records are: where it was written, at one of `also`, beside it
/// (`NAME.earlier.EXT`), or in `OUT/replaced/` in the folder of the same name (a file there
/// of its size and SHA-256, whatever its name). Blocking: it hashes candidates of its size.
fn find_bytes(out: &Path, file: &LocalFile, also: &[&Path]) -> Option<PathBuf> {
    // A link may lead anywhere (a shared folder's `replaced -> ~/videos`): no file is taken
    // through one, nor is one taken.
    let holds = |path: &Path| !is_link(path) && holds_bytes(file, path);
    let replaced = (within(out, &file.path).as_deref())
        .and_then(Path::parent)
        .map(|inside| out.join(REPLACED).join(inside))
        .filter(|folder| !through_a_link(out, folder));
    let of_its_size = |folder: &PathBuf| {
        let entries = std::fs::read_dir(folder).into_iter().flatten().flatten();
        let sized = |entry: &std::fs::DirEntry| {
            (entry.metadata()).is_ok_and(|found| found.is_file() && found.len() == file.size)
        };
        entries
            .filter(sized)
            .map(|entry| entry.path())
            .collect::<Vec<_>>()
    };
    std::iter::once(file.path.clone())
        .chain(also.iter().map(|path| path.to_path_buf()))
        .chain(LocalFile::kept_beside(&file.path))
        .chain(replaced.iter().flat_map(of_its_size))
        .find(|path| holds(path))
}

/// `outputs` with its files named inside `out` when they were written in another output
/// folder (`out` copied or renamed since, or named from another working folder): a file
/// recorded as `old-out/row-0002/a.mp4` that is not inside `out` is found at `out`'s
/// `row-0002/a.mp4` (the longest such tail first) holding the bytes recorded. Each file's
/// (recorded, now) path with it; none, and `outputs` as they were, when none moved.
/// Blocking: it hashes the files it finds.
pub(super) fn in_this_folder(
    out: &Path,
    outputs: Value,
    files: &[LocalFile],
) -> (Value, Vec<(PathBuf, PathBuf)>) {
    let mut moved = Vec::new();
    for file in files
        .iter()
        .filter(|file| within(out, &file.path).is_none())
    {
        // Only a tail of plain names: a `..` could lead out of `out`.
        let parts: Vec<_> = file.path.components().collect();
        let plain = |part: &std::path::Component| matches!(part, std::path::Component::Normal(_));
        let first_plain = (0..parts.len())
            .rev()
            .find(|at| !plain(&parts[*at]))
            .map_or(1, |at| at + 1)
            .max(1);
        let found = (first_plain..parts.len())
            .map(|skip| out.join(parts[skip..].iter().collect::<PathBuf>()))
            .find(|candidate| !through_a_link(out, candidate) && holds_bytes(file, candidate));
        if let Some(found) = found {
            moved.push((file.path.clone(), found));
        }
    }
    match moved.is_empty() {
        true => (outputs, moved),
        false => (with_paths(outputs, &moved), moved),
    }
}

/// Whether the file at `path` holds the bytes `file` records (its size and SHA-256).
fn holds_bytes(file: &LocalFile, path: &Path) -> bool {
    let candidate = LocalFile {
        path: path.to_path_buf(),
        ..file.clone()
    };
    candidate.changed().is_none()
}

/// `outputs` with every path in `moved` named by its new place.
fn with_paths(mut outputs: Value, moved: &[(PathBuf, PathBuf)]) -> Value {
    fn walk(value: &mut Value, moved: &[(String, String)]) {
        match value {
            Value::String(text) => {
                if let Some((_, new)) = moved.iter().find(|(old, _)| old == text) {
                    *text = new.clone();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, moved)),
            Value::Object(fields) => fields.values_mut().for_each(|field| walk(field, moved)),
            _ => {}
        }
    }
    let moved: Vec<(String, String)> = (moved.iter())
        .map(|(old, new)| (old.display().to_string(), new.display().to_string()))
        .collect();
    walk(&mut outputs, &moved);
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(out: &Path, path: &str, bytes: &str) -> LocalFile {
        let path = out.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        LocalFile {
            path,
            size: bytes.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(bytes.as_bytes())),
            contenttype: "video/mp4".into(),
        }
    }

    use serde_json::json;
    use sha2::Digest;

    #[test]
    fn a_file_gone_from_where_it_was_written_is_taken_back_from_replaced_by_its_bytes() {
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        let file = written(out, "row-0002/row-0002-save-0.mp4", "the boat");
        // A table's end moved it aside under another name; another file of its size is there.
        std::fs::create_dir_all(out.join("replaced/row-0002")).unwrap();
        std::fs::write(
            out.join("replaced/row-0002/row-0002-save-0.mp4"),
            "the ship",
        )
        .unwrap();
        std::fs::rename(
            &file.path,
            out.join("replaced/row-0002/row-0002-save-0.earlier.mp4"),
        )
        .unwrap();
        assert_eq!(
            take_back(out, &file),
            Some(out.join("replaced/row-0002/row-0002-save-0.earlier.mp4"))
        );
        assert_eq!(file.changed(), None);
        std::fs::remove_file(&file.path).unwrap();
        assert_eq!(take_back(out, &file), None, "nowhere now");
        // Nothing is taken through a link out of the folder, nor is a link taken.
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("mine.mp4"), "the boat").unwrap();
        std::fs::remove_dir_all(out.join("replaced/row-0002")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), out.join("replaced/row-0002")).unwrap();
        assert_eq!(take_back(out, &file), None);
        std::os::unix::fs::symlink(elsewhere.path().join("mine.mp4"), &file.path).unwrap();
        assert_eq!(find_bytes(out, &file, &[]), None);
        assert!(elsewhere.path().join("mine.mp4").exists());
    }

    #[test]
    fn a_file_that_took_the_found_one_s_place_is_put_back_not_moved() {
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        let file = written(out, "row-0003/row-0003-save-0.mp4", "the mug");
        // Found there, then the row now on line 3 downloaded its own file over it (a
        // download keeps the earlier file beside it).
        let kept = out.join("row-0003/row-0003-save-0.earlier.mp4");
        std::fs::rename(&file.path, &kept).unwrap();
        std::fs::write(&file.path, "the cup").unwrap();
        let target = out.join("row-0004/row-0004-save-0.mp4");
        assert_eq!(put(&file, &file.path, &target), None);
        assert_eq!(std::fs::read_to_string(&file.path).unwrap(), "the cup");
        assert!(!target.exists(), "nothing moved");
        // Found again, beside it.
        let moved = move_files(out, std::slice::from_ref(&file), "row-0003", "row-0004");
        assert_eq!(moved, Some(vec![(file.path.clone(), target.clone())]));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "the mug");
        assert!(!kept.exists());
    }

    #[test]
    fn files_written_in_the_folder_this_one_was_copied_from_are_read_here_by_plain_names() {
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        let here = written(out, "row-0002/row-0002-save-0.mp4", "the kite");
        let recorded = |path: &str| LocalFile {
            path: PathBuf::from(path),
            ..here.clone()
        };
        let outputs = json!({"files": [{"path": "old/row-0002/row-0002-save-0.mp4"}]});
        let (outputs, moved) = in_this_folder(
            out,
            outputs,
            &[recorded("old/row-0002/row-0002-save-0.mp4")],
        );
        assert_eq!(
            moved,
            [(
                PathBuf::from("old/row-0002/row-0002-save-0.mp4"),
                here.path.clone()
            )]
        );
        assert_eq!(
            outputs["files"][0]["path"],
            json!(here.path.display().to_string())
        );
        // No tail that leads out through `..`: `x/../elsewhere/...` is read as `elsewhere/...`.
        std::fs::create_dir_all(out.join("elsewhere")).unwrap();
        let (_, moved) = in_this_folder(
            out,
            json!({}),
            &[recorded("x/../row-0002/row-0002-save-0.mp4")],
        );
        assert_eq!(moved[0].1, here.path, "the tail after the `..` only");
        assert_eq!(within(out, &out.join("row-0002/../../etc")), None);
    }

    #[test]
    fn a_moved_row_s_files_found_at_their_new_names_are_not_moved_again() {
        let out = tempfile::tempdir().unwrap();
        let out = out.path();
        let file = written(out, "row-0003/clips/row-0003-save-0.mp4", "the mug");
        // A run killed after the move and before its journal line.
        let moved = out.join("row-0004/clips/row-0004-save-0.mp4");
        std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
        std::fs::rename(&file.path, &moved).unwrap();
        let found = move_files(out, std::slice::from_ref(&file), "row-0003", "row-0004");
        assert_eq!(found, Some(vec![(file.path.clone(), moved.clone())]));
        assert_eq!(std::fs::read_to_string(moved).unwrap(), "the mug");
        assert_eq!(
            move_files(out, &[file], "row-0002", "row-0004"),
            None,
            "not from row-0002"
        );
    }
}
