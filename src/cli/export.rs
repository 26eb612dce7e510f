//! `wiro-nodes export n8n DIR`: writes the n8n community node package generated from the
//! node specs.

use std::path::PathBuf;

use super::EXIT_FAILED;
use crate::hosts::n8n::{Package, PACKAGE_NAME};
use crate::models::catalog::DEFAULT_CATALOG_FILE;
use crate::node::{matches_pattern, Registry};

/// What to export.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ExportCommand {
    /// An n8n community node package: one n8n node per node type, and credentials. Load it
    /// with N8N_CUSTOM_EXTENSIONS=DIR or install it into ~/.n8n/custom (npm install DIR).
    N8n {
        /// The folder to write (created if missing; a folder holding an earlier export is
        /// refreshed, any other non-empty folder refused).
        dir: PathBuf,
        /// Only the catalog models whose type id matches (`*` for any characters, e.g.
        /// `pixverse/*`); repeatable. Without it, every catalog model. The built-in node types
        /// are always exported.
        #[arg(long = "models", value_name = "PATTERN")]
        models: Vec<String>,
    },
}

/// The exported catalog models' definitions, as `dist/wiro-catalog.json` in the package (the
/// bridge hands it to every `node exec`); no file when no catalog model is exported.
fn write_package_catalog(dir: &std::path::Path, registry: &Registry) -> Result<(), String> {
    let path = dir.join("dist").join(DEFAULT_CATALOG_FILE);
    let Some(mut catalog) = super::registry::catalog()? else {
        let _ = std::fs::remove_file(&path);
        return Ok(());
    };
    let built_in = Registry::from_inventory();
    catalog.models.retain(|model| {
        registry.get(&model.type_id).is_some()
            && built_in.get(&model.type_id).is_none()
            && !model.publishes_no_parameters()
    });
    if catalog.models.is_empty() {
        let _ = std::fs::remove_file(&path);
        return Ok(());
    }
    catalog.save(&path)
}

pub(crate) fn export(command: ExportCommand) -> u8 {
    match command {
        ExportCommand::N8n { dir, models } => {
            let registry = match super::registry::registry_or_exit() {
                Ok(registry) => registry,
                Err(code) => return code,
            };
            let built_in = Registry::from_inventory();
            let registry = registry.filtered(|type_id| {
                built_in.get(type_id).is_some()
                    || models.is_empty()
                    || models
                        .iter()
                        .any(|pattern| matches_pattern(pattern, type_id))
            });
            let package = Package::generate(&registry);
            if let Err(error) = package.write_to(&dir) {
                eprintln!("error: {error}");
                return EXIT_FAILED;
            }
            if let Err(error) = write_package_catalog(&dir, &registry) {
                eprintln!("error: {error}");
                return EXIT_FAILED;
            }
            outln!(
                "Wrote {PACKAGE_NAME} ({} nodes) to {}.",
                registry.len(),
                dir.display()
            );
            outln!(
                "Load it: N8N_CUSTOM_EXTENSIONS={} n8n start   (wiro-nodes must be on n8n's PATH, or set WIRO_NODES_BIN)",
                std::fs::canonicalize(&dir).unwrap_or(dir).display()
            );
            0
        }
    }
}
