//! The catalog file: which models, read when, from which server; loaded and written as
//! pretty JSON in a stable order, so a catalog committed next to workflows diffs well.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::CatalogModel;

/// The environment variable naming the catalog file when `--catalog` is not given.
pub const CATALOG_ENV: &str = "WIRO_CATALOG";

/// The catalog read when neither `--catalog` nor [`CATALOG_ENV`] names one, if it exists in
/// the working folder; `catalog sync` writes it there by default.
pub const DEFAULT_CATALOG_FILE: &str = "wiro-catalog.json";

/// What the file's `format` field says; a reader refuses other formats.
const FORMAT: &str = "wiro-nodes catalog 1";

/// A set of models read from Wiro.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// The file format's name and version.
    #[serde(default = "format")]
    pub format: String,
    /// The API the models were read from.
    #[serde(default)]
    pub server: String,
    /// The models, ordered by type id.
    #[serde(default)]
    pub models: Vec<Arc<CatalogModel>>,
    /// Where the catalog was read from, for messages.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

fn format() -> String {
    FORMAT.to_owned()
}

impl Catalog {
    /// An empty catalog of `server`.
    pub fn new(server: &str) -> Self {
        Self {
            format: format(),
            server: server.to_owned(),
            models: Vec::new(),
            path: None,
        }
    }

    /// Reads a catalog file; the error says which file and what is wrong with it.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read(path)
            .map_err(|error| format!("cannot read the catalog {}: {error}", path.display()))?;
        let mut catalog: Catalog = serde_json::from_slice(&text).map_err(|error| {
            format!(
                "the catalog {} is not a catalog file: {error}",
                path.display()
            )
        })?;
        if catalog.format != FORMAT {
            return Err(format!(
                "the catalog {} is in format {:?}; this wiro-nodes reads {FORMAT:?}",
                path.display(),
                catalog.format
            ));
        }
        catalog.path = Some(path.to_path_buf());
        Ok(catalog)
    }

    /// The catalog a command reads: `explicit` (`--catalog`, or [`CATALOG_ENV`] through
    /// clap), else [`DEFAULT_CATALOG_FILE`] in the working folder when it exists, else none.
    pub fn discover(explicit: Option<&Path>) -> Result<Option<Self>, String> {
        match explicit {
            Some(path) => Self::load(path).map(Some),
            None => {
                let default = Path::new(DEFAULT_CATALOG_FILE);
                if !default.is_file() {
                    return Ok(None);
                }
                // Nobody asked for this file: one that cannot be read is said, and left out.
                match Self::load(default) {
                    Ok(catalog) => Ok(Some(catalog)),
                    Err(problem) => {
                        eprintln!("warning: {problem}; going on without a catalog (name one with --catalog)");
                        Ok(None)
                    }
                }
            }
        }
    }

    /// Writes the catalog as pretty JSON, through a temporary file so a reader never sees
    /// half a catalog.
    pub fn save(&mut self, path: &Path) -> Result<(), String> {
        self.models.sort_by(|a, b| a.type_id.cmp(&b.type_id));
        // Through a value, so each model's parameters (kept as the text they were read from)
        // are indented like the rest and the file diffs well.
        let mut value = serde_json::to_value(&*self).map_err(|error| error.to_string())?;
        if let Some(entries) = value.get_mut("models").and_then(Value::as_array_mut) {
            for (entry, model) in entries.iter_mut().zip(&self.models) {
                // A model read from a file has no stored schema (it is skipped on load).
                if let Some(entry) = entry.as_object_mut() {
                    entry
                        .entry("inputs")
                        .or_insert_with(|| model.input_schema());
                }
            }
        }
        let mut text = serde_json::to_vec_pretty(&value).map_err(|error| error.to_string())?;
        text.push(b'\n');
        let temporary = path.with_extension("json.part");
        std::fs::write(&temporary, &text)
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(|error| format!("cannot write the catalog {}: {error}", path.display()))?;
        self.path = Some(path.to_path_buf());
        Ok(())
    }

    /// The model with this node type id.
    pub fn model(&self, type_id: &str) -> Option<&Arc<CatalogModel>> {
        self.models.iter().find(|model| model.type_id == type_id)
    }

    /// Puts `model` in, replacing the one with its type id.
    pub fn upsert(&mut self, model: CatalogModel) {
        let model = Arc::new(model);
        match self.models.iter_mut().find(|m| m.type_id == model.type_id) {
            Some(slot) => *slot = model,
            None => self.models.push(model),
        }
    }
}

/// Now as RFC 3339 in UTC, to the second: `2026-12-04T11:24:34Z`.
pub(super) fn now_utc() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_date(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The calendar date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_date(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(20_426), (2025, 12, 4));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
    }

    #[test]
    fn a_file_of_another_format_is_refused_by_name() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("c.json");
        std::fs::write(&path, r#"{"format": "something else", "models": []}"#).unwrap();
        let problem = Catalog::load(&path).unwrap_err();
        assert!(
            problem.contains("c.json") && problem.contains("format"),
            "{problem}"
        );
    }
}
