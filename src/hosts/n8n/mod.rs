//! The n8n host: generates an n8n community node package from the node specs, so that it
//! never drifts from them. Each node type becomes an n8n node whose properties come from its
//! input JSON Schema; running it spawns `wiro-nodes node exec` (the bridge, `bridge.js`), which
//! checks every item's inputs before anything is sent, follows the task, and stops it when
//! n8n cancels the execution.
//!
//! ```
//! use wiro_nodes::hosts::n8n::Package;
//! use wiro_nodes::node::Registry;
//!
//! let package = Package::generate(&Registry::from_inventory());
//! assert!(package.file("package.json").is_some());
//! // package.write_to(std::path::Path::new("n8n-nodes-wiro"))?;
//! ```
//!
//! Layout of the package: `package.json` (with its `n8n` section), `README.md`,
//! `dist/bridge.js`, `dist/credentials/WiroNodesApi.credentials.js`, and one
//! `dist/nodes/CLASS/CLASS.node.js` (plus its icon) per node type. Plain CommonJS: nothing to
//! compile.

mod names;
mod properties;
mod templates;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::node::Registry;

pub use names::{class_name, node_name};
pub use properties::{fields, properties, Field, Source, OPTIONS_COLLECTION};

/// The npm package's name.
pub const PACKAGE_NAME: &str = "n8n-nodes-wiro-nodes";
/// The credentials type's name in n8n.
pub const CREDENTIALS_NAME: &str = "wiroNodesApi";

/// Why the package could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A file or folder could not be written or cleared.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The folder holds something else; nothing is overwritten.
    #[error("{0} is not empty and holds no {PACKAGE_NAME} package; choose an empty folder")]
    NotOurs(PathBuf),
}

/// One file of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// Its path inside the package, with `/` separators.
    pub path: String,
    /// Its text.
    pub contents: String,
}

/// A generated n8n community node package.
#[derive(Debug, Clone)]
pub struct Package {
    files: Vec<PackageFile>,
}

impl Package {
    /// The package for every node type in the registry.
    pub fn generate(registry: &Registry) -> Self {
        let mut files = Vec::new();
        let mut node_files = Vec::new();
        for spec in registry.specs() {
            let class = class_name(&spec.type_id);
            let path = format!("dist/nodes/{class}/{class}.node.js");
            files.push(PackageFile {
                path: path.clone(),
                contents: templates::node_file(spec),
            });
            files.push(PackageFile {
                path: format!("dist/nodes/{class}/wiro.svg"),
                contents: templates::ICON.to_owned(),
            });
            node_files.push(path);
        }
        let credentials = format!("dist/credentials/{}.credentials.js", credentials_class());
        files.push(PackageFile {
            path: credentials.clone(),
            contents: templates::credentials_file(),
        });
        files.push(PackageFile {
            path: "dist/bridge.js".into(),
            contents: templates::BRIDGE.to_owned(),
        });
        files.push(PackageFile {
            path: "package.json".into(),
            contents: templates::package_json(&node_files, &credentials),
        });
        files.push(PackageFile {
            path: "README.md".into(),
            contents: templates::readme(registry),
        });
        Self { files }
    }

    /// Every file, nodes first.
    pub fn files(&self) -> &[PackageFile] {
        &self.files
    }

    /// One file's text by its path inside the package.
    pub fn file(&self, path: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|file| file.path == path)
            .map(|file| file.contents.as_str())
    }

    /// `package.json`, parsed.
    pub fn manifest(&self) -> Value {
        self.file("package.json")
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or(Value::Null)
    }

    /// Writes the package into `dir` (created if missing). A folder that already holds this
    /// package is refreshed: its `dist/` is replaced, so removed nodes disappear; any other
    /// non-empty folder is refused.
    ///
    /// # Errors
    ///
    /// When `dir` holds something else, or a file cannot be written.
    pub fn write_to(&self, dir: &Path) -> Result<(), ExportError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ExportError::Io { path, source }
        };
        if dir.exists() {
            let empty = std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
            if !empty && !holds_our_package(dir) {
                return Err(ExportError::NotOurs(dir.to_owned()));
            }
            let dist = dir.join("dist");
            if dist.exists() {
                std::fs::remove_dir_all(&dist).map_err(io(&dist))?;
            }
        }
        for file in &self.files {
            let path = dir.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, &file.contents).map_err(io(&path))?;
        }
        Ok(())
    }
}

/// The credentials class (and file) name.
pub fn credentials_class() -> String {
    let mut chars = CREDENTIALS_NAME.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn holds_our_package(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .is_some_and(|manifest| manifest["name"] == PACKAGE_NAME)
}
