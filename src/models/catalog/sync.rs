//! Reading models from Wiro into a catalog: Tool/List pages for which models there are, then
//! one Tool/Detail per model, a bounded number at once (the client honours 429's
//! `Retry-After`). One model that cannot be read is reported and never breaks the sync.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::file::now_utc;
use super::{Catalog, CatalogModel};
use crate::api::{Client, Error as ApiError};

/// Which models a sync reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncScope {
    /// These models, as `owner/project` (raw or clean slugs, any letter case).
    Models(Vec<String>),
    /// The models Tool/List finds for these words.
    Search(String),
    /// Every model Tool/List lists; models no longer listed leave the catalog.
    All,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Models read and written into the catalog.
    pub read: usize,
    /// Models that could not be read: slug, and why.
    pub failed: Vec<(String, String)>,
    /// Models left out because they were no longer listed (`All` only).
    pub dropped: usize,
}

/// How many models Tool/List is asked for per page.
const PAGE: u64 = 100;

/// Reads the models of `scope` into `catalog`, at most `parallel` Tool/Detail requests at
/// once. Fails only when Tool/List itself cannot be read.
pub async fn sync(
    client: &Client,
    catalog: &mut Catalog,
    scope: &SyncScope,
    parallel: usize,
) -> Result<SyncReport, ApiError> {
    let summaries = match scope {
        SyncScope::Models(slugs) => slugs
            .iter()
            .map(|slug| {
                let (owner, project) = slug.split_once('/').unwrap_or((slug.as_str(), ""));
                serde_json::json!({ "slugowner": owner, "slugproject": project })
            })
            .collect(),
        SyncScope::Search(words) => list(client, Some(words)).await?,
        SyncScope::All => list(client, None).await?,
    };
    let read_at = now_utc();
    let gate = Arc::new(Semaphore::new(parallel.max(1)));
    let mut reads = JoinSet::new();
    for (position, summary) in summaries.into_iter().enumerate() {
        let (client, gate, read_at) = (client.clone(), gate.clone(), read_at.clone());
        reads.spawn(async move {
            let _permit = gate.acquire_owned().await;
            (position, read_one(&client, &summary, &read_at).await)
        });
    }
    let mut results = Vec::new();
    let mut lost_reads = 0;
    while let Some(joined) = reads.join_next().await {
        match joined {
            Ok(result) => results.push(result),
            Err(_) => lost_reads += 1,
        }
    }
    results.sort_by_key(|(position, _)| *position);
    let mut report = SyncReport::default();
    let mut seen = Vec::new();
    for (_, result) in results {
        match result {
            Ok(model) => {
                seen.push(model.type_id.clone());
                catalog.upsert(model);
                report.read += 1;
            }
            Err(failure) => report.failed.push(failure),
        }
    }
    if lost_reads > 0 {
        report.failed.push((
            "(some models)".into(),
            format!("{lost_reads} reads ended abnormally"),
        ));
    }
    if *scope == SyncScope::All && report.failed.is_empty() {
        let before = catalog.models.len();
        catalog.models.retain(|model| seen.contains(&model.type_id));
        report.dropped = before - catalog.models.len();
    }
    catalog.server = client.config().base_url.to_string();
    Ok(report)
}

/// Every model Tool/List gives, page by page, until a page comes back short or `total` is
/// reached.
async fn list(client: &Client, search: Option<&str>) -> Result<Vec<Value>, ApiError> {
    let mut models = Vec::new();
    loop {
        let answer = client.tool_list(models.len() as u64, PAGE, search).await?;
        let page: Vec<Value> = match answer.get("tool") {
            Some(Value::Array(tools)) => tools.clone(),
            _ => Vec::new(),
        };
        let total = match answer.get("total") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(t)) => t.trim().parse().ok(),
            _ => None,
        };
        // A server may cap `limit` below ours: only an empty page or the total ends the list.
        let empty = page.is_empty();
        models.extend(page);
        if empty || total.is_some_and(|total| models.len() as u64 >= total) {
            return Ok(models);
        }
    }
}

/// One model's Tool/Detail, read into a catalog entry; the error names the model.
async fn read_one(
    client: &Client,
    summary: &Value,
    read_at: &str,
) -> Result<CatalogModel, (String, String)> {
    let slug = |key: &str| summary.get(key).and_then(Value::as_str).unwrap_or_default();
    let (owner, project) = (slug("slugowner"), slug("slugproject"));
    let name = format!("{owner}/{project}");
    let answer = client
        .tool_detail_of(owner, project)
        .await
        .map_err(|error| (name.clone(), error.to_string()))?;
    CatalogModel::from_answers(summary, &answer, read_at).map_err(|problem| (name, problem))
}
