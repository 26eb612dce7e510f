//! `Walls`: what a node may reach. Workflows are shared like any document, and an uploaded
//! file gets a public URL: so a workflow reads only inside its own folder (and the folders its
//! user allowed), judged on the real path — symlinks and `..` resolved — never on the name;
//! and it fetches only what the API handed out or the operator allowed ([`FetchRules`]).

use std::path::{Path, PathBuf};

use crate::api::FetchRules;

/// The folders nodes may read files from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FileAccess {
    /// Any file the process can read: for a program that names its own files (`node exec`,
    /// an engine embedding the crate).
    #[default]
    Anywhere,
    /// Only files inside these folders (kept as their real paths).
    Inside(Vec<PathBuf>),
}

impl FileAccess {
    /// Only inside `folders` (those that do not exist allow nothing).
    pub fn inside<P: AsRef<Path>>(folders: impl IntoIterator<Item = P>) -> Self {
        Self::Inside(
            folders
                .into_iter()
                .filter_map(|folder| std::fs::canonicalize(folder.as_ref()).ok())
                .collect(),
        )
    }

    /// The real path of `path` (symlinks and `..` resolved), if the file exists and may be
    /// read; otherwise a sentence for the user that says why not and how to allow it.
    pub fn check(&self, path: &Path) -> Result<PathBuf, String> {
        let real = std::fs::canonicalize(path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => format!("{}: no such file", path.display()),
            _ => format!("{}: {error}", path.display()),
        })?;
        match self {
            Self::Anywhere => Ok(real),
            Self::Inside(folders) if folders.iter().any(|folder| real.starts_with(folder)) => {
                Ok(real)
            }
            Self::Inside(folders) => {
                let shown = if real == path {
                    String::new()
                } else {
                    format!(" (really {})", real.display())
                };
                Err(format!(
                    "{}{shown} is outside the folders this workflow may read ({}); only files in those are read (to allow another folder: --allow-read DIR for run and the editor, --files DIR for mcp)",
                    path.display(),
                    folders
                        .iter()
                        .map(|folder| folder.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
    }
}

/// What a node may reach, judged before anything is sent: where relative paths are read
/// from, which files may be read, and which URLs may be fetched.
#[derive(Debug, Clone)]
pub struct Walls {
    /// Relative paths are taken from here (a workflow's folder).
    pub input_dir: PathBuf,
    /// Which files may be read.
    pub access: FileAccess,
    /// Which URLs may be fetched: the client's own rules, which it enforces again on every
    /// request.
    pub fetch: FetchRules,
}

impl Walls {
    /// `path` as a node reads it: absolute as given, relative ones inside `input_dir`.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.input_dir.join(path)
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_or_dot_dot_out_of_the_folder_is_refused_by_its_real_path() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("flow");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("ok.png"), b"x").unwrap();
        std::fs::write(root.path().join("outside.png"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", folder.join("link.txt")).unwrap();
        let access = FileAccess::inside([&folder]);
        assert!(access.check(&folder.join("ok.png")).is_ok());
        let link = access.check(&folder.join("link.txt")).unwrap_err();
        assert!(
            link.contains("really /etc/passwd") && link.contains("--allow-read"),
            "{link}"
        );
        assert!(access.check(&folder.join("../outside.png")).is_err());
        assert!(FileAccess::inside([root.path()])
            .check(&folder.join("../outside.png"))
            .is_ok());
        assert!(access
            .check(&folder.join("missing.png"))
            .unwrap_err()
            .contains("no such file"));
    }
}
