//! `wiro-nodes catalog sync | list | diff`: reads models from Wiro (or the embedded emulator)
//! into the catalog file, lists it, and shows what changed.

use std::path::{Path, PathBuf};

use super::backend::{self, FetchArgs};
use super::{EXIT_FAILED, EXIT_INVALID};
use crate::models::catalog::{diff, sync, Catalog, ModelChange, SyncScope, DEFAULT_CATALOG_FILE};

/// How many Tool/Detail requests a sync sends at once.
const PARALLEL_READS: usize = 8;

/// What to do with the catalog.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum CatalogCommand {
    /// Read models (Tool/List, then Tool/Detail) into the catalog file (--catalog,
    /// WIRO_CATALOG, or wiro-catalog.json here), and print what changed.
    Sync {
        /// Models to read, as owner/project (e.g. pixverse/text-to-video-v5).
        models: Vec<String>,
        /// Read the models Tool/List finds for these words.
        #[arg(long, conflicts_with = "all")]
        search: Option<String>,
        /// Read every model Tool/List lists; models no longer listed leave the catalog.
        #[arg(long, conflicts_with = "models")]
        all: bool,
        /// Sync even when the catalog was read from another server (e.g. the embedded
        /// emulator, when WIRO_API_KEY is not set, over a catalog of the real API).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        fetch: FetchArgs,
    },
    /// List the catalog's models.
    List {
        /// Print JSON for machines.
        #[arg(long)]
        json: bool,
    },
    /// Show what changed: against an older catalog file, or (without one) against what the
    /// server says now about the catalog's models (nothing is written).
    Diff {
        /// An older catalog file.
        old: Option<PathBuf>,
        /// Print JSON for machines.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        fetch: FetchArgs,
    },
}

pub(crate) async fn catalog(command: CatalogCommand, path: Option<&Path>) -> u8 {
    let path = path
        .unwrap_or(Path::new(DEFAULT_CATALOG_FILE))
        .to_path_buf();
    match command {
        CatalogCommand::Sync {
            models,
            search,
            all,
            replace,
            fetch,
        } => {
            let scope = match (all, search) {
                (true, _) => SyncScope::All,
                (false, Some(words)) => SyncScope::Search(words),
                (false, None) if !models.is_empty() => SyncScope::Models(models),
                (false, None) => {
                    eprintln!(
                        "error: name models (owner/project), or give --search WORDS or --all"
                    );
                    return EXIT_INVALID;
                }
            };
            sync_file(&path, &scope, &fetch, replace).await
        }
        CatalogCommand::List { json } => match existing(&path) {
            Ok(catalog) => {
                list(&catalog, json);
                0
            }
            Err(code) => code,
        },
        CatalogCommand::Diff { old, json, fetch } => {
            let current = match existing(&path) {
                Ok(catalog) => catalog,
                Err(code) => return code,
            };
            let (before, after) = match old {
                Some(old) => match Catalog::load(&old) {
                    Ok(old) => (old, current),
                    Err(problem) => {
                        eprintln!("error: {problem}");
                        return EXIT_INVALID;
                    }
                },
                None => {
                    let slugs = current
                        .models
                        .iter()
                        .map(|m| format!("{}/{}", m.slugowner, m.slugproject))
                        .collect();
                    // Empty: a model that can no longer be read shows as removed.
                    let mut fresh = Catalog::new(&current.server);
                    if let Err(code) = read(&mut fresh, &SyncScope::Models(slugs), &fetch).await {
                        return code;
                    }
                    (current, fresh)
                }
            };
            print_changes(&diff(&before, &after), json);
            0
        }
    }
}

/// The catalog at `path`, or exit 2 saying how to make one.
fn existing(path: &Path) -> Result<Catalog, u8> {
    if !path.exists() {
        eprintln!(
            "error: no catalog at {}; make one with `wiro-nodes catalog sync --all` (or name models)",
            path.display()
        );
        return Err(EXIT_INVALID);
    }
    Catalog::load(path).map_err(|problem| {
        eprintln!("error: {problem}");
        EXIT_INVALID
    })
}

async fn sync_file(path: &Path, scope: &SyncScope, fetch: &FetchArgs, replace: bool) -> u8 {
    let mut catalog = if path.exists() {
        match existing(path) {
            Ok(catalog) => catalog,
            Err(code) => return code,
        }
    } else {
        Catalog::new("")
    };
    let before = catalog.clone();
    if let Err(code) = read(&mut catalog, scope, fetch).await {
        return code;
    }
    let server_changed = !before.server.is_empty() && before.server != catalog.server;
    if server_changed && !replace {
        eprintln!(
            "error: {} was read from {}; this sync read from {} (no WIRO_API_KEY: the embedded emulator?). Nothing was written; pass --replace to sync it from there anyway, or --catalog for another file",
            path.display(),
            before.server,
            catalog.server
        );
        return EXIT_INVALID;
    }
    if let Err(problem) = catalog.save(path) {
        eprintln!("error: {problem}");
        return EXIT_FAILED;
    }
    let changes = diff(&before, &catalog);
    print_changes(&changes, false);
    outln!(
        "{}: {} models ({} changed)",
        path.display(),
        catalog.models.len(),
        changes.len()
    );
    0
}

/// Reads `scope` into `catalog`, saying which models failed; exit 1 when the list itself
/// could not be read.
async fn read(catalog: &mut Catalog, scope: &SyncScope, fetch: &FetchArgs) -> Result<(), u8> {
    let backend = backend::connect(fetch).await.map_err(|error| {
        eprintln!("error: {error}");
        error.exit_code()
    })?;
    let report = sync(&backend.client, catalog, scope, PARALLEL_READS)
        .await
        .map_err(|error| {
            eprintln!("error: the models could not be listed: {error}");
            EXIT_FAILED
        })?;
    for (model, why) in &report.failed {
        eprintln!("warning: {model} was not read: {why}");
    }
    if report.dropped > 0 {
        eprintln!(
            "{} models are no longer listed and left the catalog",
            report.dropped
        );
    }
    Ok(())
}

fn list(catalog: &Catalog, json: bool) {
    if json {
        let models: Vec<serde_json::Value> = catalog
            .models
            .iter()
            .map(|model| {
                serde_json::json!({
                    "type": model.type_id,
                    "title": model.display_title(),
                    "makes": model.output_kind(),
                    "parameters": model.fields().len(),
                    "typed": model.untyped_because().is_none(),
                    "read_at": model.read_at,
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&models).unwrap_or_default()
        );
        return;
    }
    for model in &catalog.models {
        let typed = match model.untyped_because() {
            Some(reason) => format!("  (untyped: {reason})"),
            None => String::new(),
        };
        outln!(
            "{}  {}  [{}, {} parameters, read {}]{typed}",
            model.type_id,
            model.display_title(),
            model.output_kind(),
            model.fields().len(),
            model.read_at
        );
    }
}

fn print_changes(changes: &[ModelChange], json: bool) {
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(changes).unwrap_or_default()
        );
        return;
    }
    if changes.is_empty() {
        outln!("no changes");
    }
    for change in changes {
        outln!("{} {}", change.change, change.type_id);
        for detail in &change.details {
            outln!("    {detail}");
        }
    }
}
