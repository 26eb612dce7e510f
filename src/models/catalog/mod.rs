//! The model catalog: every Wiro model a typed node, read from the model's own published
//! parameters (Tool/Detail), kept in a file a user commits next to their workflows.
//!
//! A model is data, not a Rust type: [`CatalogModel`] keeps the definitions as Wiro sent
//! them, and derives [`Field`]s (real types, bounds, choices, the wire name), the input
//! schema ([`input_schema`]) and the one mapping between typed inputs and the Run body
//! ([`to_wire`], [`from_wire`]). `nodes::CatalogNode` serves a model as a node type; the
//! registry takes the catalog as a source beside `inventory`.
//!
//! ```
//! use wiro_nodes::models::catalog::CatalogModel;
//! use serde_json::json;
//!
//! let summary = json!({"slugowner": "Acme Labs", "slugproject": "frames to video",
//!     "cleanslugowner": "acme-labs", "cleanslugproject": "frames-to-video"});
//! let detail = json!({"tool": [{"parameters": [{"title": "Video", "items": [
//!     {"id": "firstFrame", "type": "fileinput", "required": "true"},
//!     {"id": "duration", "type": "range", "min": "2", "max": "10", "step": "1", "default": "5"}
//! ]}]}]});
//! let model = CatalogModel::from_answers(&summary, &detail, "2026-12-04T00:00:00Z").unwrap();
//! assert_eq!(model.type_id, "acme-labs/frames-to-video");
//! let inputs = json!({"firstFrame": "https://cdn.example/a.png", "duration": 7});
//! let body = model.to_wire(inputs.as_object().unwrap());
//! assert_eq!(body["firstFrameUrl"], "https://cdn.example/a.png");
//! assert_eq!(body["duration"], "7");
//! assert_eq!(model.from_wire(&body).unwrap(), *inputs.as_object().unwrap());
//! ```

mod diff;
mod field;
mod file;
mod model;
#[cfg(test)]
mod round_trip;
mod rules;
mod schema;
mod sync;
mod wire;

pub use diff::{diff, ModelChange};
pub use field::{Field, FieldKind, FilesForm};
pub use file::{Catalog, CATALOG_ENV, DEFAULT_CATALOG_FILE};
pub use model::{clean_slug, type_id_of, CatalogModel};
pub use rules::{rule_problems, ModelRule, RULE_ID_KEY};
pub use schema::{input_schema, ENUM_LABELS_KEY, STEP_KEY, WIRO_PARAMETER_KEY};
pub use sync::{sync, SyncReport, SyncScope};
pub use wire::{from_wire, misspelled_numbers, off_step, read_wire, to_wire, to_wire_every};
