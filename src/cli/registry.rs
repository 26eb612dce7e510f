//! The node types a command reads: every node linked into the program, plus the models of
//! the catalog named by `--catalog` / `WIRO_CATALOG`, or `wiro-catalog.json` in the working
//! folder when it exists. Read once per process.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::models::catalog::Catalog;
use crate::node::Registry;

static CATALOG_PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
static CATALOG: OnceLock<Result<Option<Catalog>, String>> = OnceLock::new();
static REGISTRY: OnceLock<Result<Registry, String>> = OnceLock::new();

/// Remembers the catalog the command line named (once, before any command runs).
pub(super) fn use_catalog(path: Option<PathBuf>) {
    let _ = CATALOG_PATH.set(path);
}

/// The catalog the command line named, or the default file when it exists; read once (its
/// models are shared, so a copy is cheap).
pub(super) fn catalog() -> Result<Option<Catalog>, String> {
    CATALOG
        .get_or_init(|| Catalog::discover(CATALOG_PATH.get().and_then(|path| path.as_deref())))
        .clone()
}

/// The registry: static node types, then the catalog's models (a static node wins over a
/// catalog model of the same id). The error says which catalog could not be read.
pub(super) fn registry() -> Result<Registry, String> {
    REGISTRY.get_or_init(new_registry).clone()
}

/// A registry of its own, sharing nothing built with [`registry`]'s: for a listing that builds
/// every node's spec and can let each go once it is written.
pub(super) fn new_registry() -> Result<Registry, String> {
    let registry = Registry::from_inventory();
    Ok(match catalog()? {
        Some(catalog) => registry.with_source(&catalog),
        None => registry,
    })
}

/// [`registry`], or the exit code after saying why it could not be read.
pub(super) fn registry_or_exit() -> Result<Registry, u8> {
    registry().map_err(|problem| {
        eprintln!("error: {problem}");
        super::EXIT_INVALID
    })
}
