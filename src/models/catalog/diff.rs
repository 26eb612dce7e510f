//! What changed between two reads of the catalog: models that came or went, parameters a
//! model gained or lost, options that appeared or disappeared, types, defaults, whether a
//! parameter takes `null` or whole numbers, the rules between parameters, prices.

use std::collections::BTreeSet;

use serde::Serialize;

use super::field::{Field, FieldKind};
use super::{Catalog, CatalogModel};

/// The changes of one model, in sentences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelChange {
    /// The node type id.
    #[serde(rename = "type")]
    pub type_id: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// What changed, one line each (empty for a model added or removed).
    pub details: Vec<String>,
}

/// The changes from `old` to `new`, ordered by type id.
pub fn diff(old: &Catalog, new: &Catalog) -> Vec<ModelChange> {
    let ids: BTreeSet<&str> = old
        .models
        .iter()
        .chain(&new.models)
        .map(|model| model.type_id.as_str())
        .collect();
    let mut changes = Vec::new();
    for id in ids {
        let change = match (old.model(id), new.model(id)) {
            (None, Some(_)) => ModelChange {
                type_id: id.to_owned(),
                change: "added",
                details: Vec::new(),
            },
            (Some(_), None) => ModelChange {
                type_id: id.to_owned(),
                change: "removed",
                details: Vec::new(),
            },
            (Some(before), Some(after)) => {
                let details = model_details(before, after);
                if details.is_empty() {
                    continue;
                }
                ModelChange {
                    type_id: id.to_owned(),
                    change: "changed",
                    details,
                }
            }
            (None, None) => continue,
        };
        changes.push(change);
    }
    changes
}

fn model_details(before: &CatalogModel, after: &CatalogModel) -> Vec<String> {
    let mut details = Vec::new();
    for field in before.fields() {
        if !after.fields().iter().any(|f| f.id == field.id) {
            details.push(format!("lost parameter {}", field.id));
        }
    }
    for field in after.fields() {
        match before.fields().iter().find(|f| f.id == field.id) {
            None => details.push(format!(
                "gained parameter {} ({}{})",
                field.id,
                field.type_name,
                if field.required { ", required" } else { "" }
            )),
            Some(old) => field_details(old, field, &mut details),
        }
    }
    if before.rules != after.rules {
        details.push("the rules between its parameters changed".to_owned());
    }
    if before.prices != after.prices {
        details.push("prices changed".to_owned());
    }
    if before.untyped_because() != after.untyped_because() {
        match after.untyped_because() {
            Some(reason) => details.push(format!("is no longer typed: {reason}")),
            None => details.push("now publishes its parameters".to_owned()),
        }
    }
    details
}

fn field_details(old: &Field, new: &Field, details: &mut Vec<String>) {
    let id = &new.id;
    if old.type_name != new.type_name {
        details.push(format!(
            "{id}: type {} became {}",
            old.type_name, new.type_name
        ));
    }
    let flipped = |before: bool, now: bool, became: &str, stopped: &str| {
        (before != now).then(|| format!("{id}: {}", if now { became } else { stopped }))
    };
    details.extend(flipped(
        old.required,
        new.required,
        "became required",
        "is no longer required",
    ));
    if old.default != new.default {
        let shown = |value: &Option<serde_json::Value>| {
            value
                .as_ref()
                .map_or_else(|| "none".to_owned(), ToString::to_string)
        };
        details.push(format!(
            "{id}: default {} became {}",
            shown(&old.default),
            shown(&new.default)
        ));
    }
    details.extend(flipped(
        old.nullable,
        new.nullable,
        "now takes null (not set)",
        "no longer takes null",
    ));
    if let (
        FieldKind::Choice {
            options: before,
            numbers: numbers_before,
        },
        FieldKind::Choice {
            options: after,
            numbers,
        },
    ) = (&old.kind, &new.kind)
    {
        details.extend(flipped(
            *numbers_before,
            *numbers,
            "its options are now taken as whole numbers",
            "its options are no longer taken as whole numbers",
        ));
        let values = |options: &[(String, String)]| -> BTreeSet<String> {
            options.iter().map(|(value, _)| value.clone()).collect()
        };
        let (before, after) = (values(before), values(after));
        for gained in after.difference(&before) {
            details.push(format!("{id}: gained option {gained:?}"));
        }
        for lost in before.difference(&after) {
            details.push(format!("{id}: lost option {lost:?}"));
        }
    } else if old.type_name == new.type_name && old.kind != new.kind {
        details.push(format!("{id}: its limits changed"));
    }
}
