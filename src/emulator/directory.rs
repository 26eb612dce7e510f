//! Every model Tool/List and Tool/Detail know: the described ones (data, in `described`:
//! the crate's built-in PixVerse v4 first) and the generated ones (`synthetic`), with the
//! list's filters (`search`, `slugowner`, `categories`, `tags`), order (`sort`, `order`)
//! and paging (`start`, `limit`), all read loosely as Wiro does. Each described model also
//! keeps the [`CatalogModel`] a client would derive from its own Tool/Detail answer, built on
//! first use (for a built-in model, the crate's own entry, with its rules): a Run's body is
//! checked with it, so the emulator and its clients read the definitions the same way.

use std::sync::{Arc, OnceLock};

use serde_json::{json, Map, Value};

use crate::models::builtin;
use crate::models::catalog::CatalogModel;

use super::answer::text_field;
use super::described::{as_text, described, EmulatedModel};
use super::synthetic::synthetic_models;

/// The described and generated models of one emulator.
#[derive(Debug)]
pub(crate) struct Directory {
    models: Vec<Entry>,
}

/// One described or generated model, and what clients derive from it (built on first use:
/// a large synthetic catalog is mostly listed, rarely run).
#[derive(Debug)]
struct Entry {
    model: Arc<EmulatedModel>,
    catalog: OnceLock<Result<Arc<CatalogModel>, String>>,
}

/// A model a Run can be sent to: how it is emulated and how its definitions read.
#[derive(Debug, Clone)]
pub(crate) struct Runnable {
    pub model: Arc<EmulatedModel>,
    pub catalog: Arc<CatalogModel>,
}

/// One page of Tool/List: how many models matched, and those on the page.
#[derive(Debug)]
pub(crate) struct Page {
    pub total: usize,
    pub tools: Vec<Value>,
}

impl Directory {
    /// The described models plus `synthetic` generated ones.
    pub fn new(synthetic: usize) -> Self {
        let models = described()
            .iter()
            .cloned()
            .chain(synthetic_models(synthetic))
            .map(|model| Entry {
                model: Arc::new(model),
                catalog: OnceLock::new(),
            })
            .collect();
        Self { models }
    }

    fn entry(&self, owner: &str, project: &str) -> Option<&Entry> {
        self.models
            .iter()
            .find(|entry| entry.model.is_named(owner, project))
    }

    /// The described or generated model named by raw or clean slugs, in any letter case.
    pub fn find(&self, owner: &str, project: &str) -> Option<&EmulatedModel> {
        self.entry(owner, project).map(|entry| entry.model.as_ref())
    }

    /// The described or generated model a Run names, with the [`CatalogModel`] its own
    /// Tool/Detail answer makes; `None` for a model it does not know, `Some(Err)` when its
    /// answer cannot be read as a client would (a broken model file).
    pub fn runnable(&self, owner: &str, project: &str) -> Option<Result<Runnable, String>> {
        let entry = self.entry(owner, project)?;
        let catalog = entry.catalog.get_or_init(|| {
            if let Some(model) = builtin::model(&entry.model.slug()) {
                return Ok(Arc::clone(model));
            }
            let tool = entry.model.detail();
            CatalogModel::from_answers(&tool, &json!({ "tool": [tool] }), "emulated").map(Arc::new)
        });
        Some(catalog.clone().map(|catalog| Runnable {
            model: Arc::clone(&entry.model),
            catalog,
        }))
    }

    /// The Tool/Detail MODEL object of any known model.
    pub fn detail(&self, owner: &str, project: &str) -> Option<Value> {
        self.find(owner, project).map(EmulatedModel::detail)
    }

    /// The raw slug (`slugowner/slugproject`) of the model `owner/project` names, raw or
    /// clean, in any letter case; `None` for a model it does not know.
    pub fn raw_slug(&self, owner: &str, project: &str) -> Option<String> {
        self.find(owner, project).map(EmulatedModel::slug)
    }

    /// A few slugs for an error message, and how many more there are.
    pub fn some_slugs(&self) -> String {
        const SHOWN: usize = 12;
        let all: Vec<String> = self.models.iter().map(|entry| entry.model.slug()).collect();
        let mut text = all
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if all.len() > SHOWN {
            text.push_str(&format!(" and {} more (see Tool/List)", all.len() - SHOWN));
        }
        text
    }

    /// The Tool/List answer for a request body.
    pub fn list(&self, request: &Map<String, Value>) -> Page {
        let words: Vec<String> = text_field(request, "search")
            .map(|search| search.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default();
        let owner = text_field(request, "slugowner");
        let wanted = |key: &str| -> Vec<String> {
            [key.to_owned(), format!("{key}[]")]
                .iter()
                .filter_map(|key| request.get(key))
                .flat_map(strings)
                .collect()
        };
        let (categories, tags) = (wanted("categories"), wanted("tags"));
        let mut tools: Vec<Value> = self
            .models
            .iter()
            .map(|entry| entry.model.summary())
            .filter(|tool| {
                let field = |name: &str| tool.get(name).and_then(Value::as_str).unwrap_or_default();
                let owner_fits = owner.as_deref().is_none_or(|owner| {
                    owner.eq_ignore_ascii_case(field("slugowner"))
                        || owner.eq_ignore_ascii_case(field("cleanslugowner"))
                });
                let haystack = [
                    "title",
                    "slugowner",
                    "slugproject",
                    "cleanslugowner",
                    "cleanslugproject",
                    "description",
                ]
                .map(|name| field(name).to_lowercase())
                .join(" ");
                let has = |name: &str, wanted: &[String]| {
                    let held = tool.get(name).map(strings).unwrap_or_default();
                    wanted.is_empty() || wanted.iter().any(|one| held.contains(one))
                };
                owner_fits
                    && words.iter().all(|word| haystack.contains(word.as_str()))
                    && has("categories", &categories)
                    && has("tags", &tags)
            })
            .collect();
        let descending =
            text_field(request, "order").is_some_and(|order| order.eq_ignore_ascii_case("desc"));
        let sort = text_field(request, "sort")
            .unwrap_or_default()
            .to_lowercase();
        // `id` and `title` sort; `relevance`, `time` and the rest keep the catalog's order
        // (the emulator has no ratings or history), which `order` does not turn around.
        let key = |tool: &Value, name: &str| tool.get(name).and_then(as_text).unwrap_or_default();
        match sort.as_str() {
            "id" => tools.sort_by_key(|tool| {
                let id = key(tool, "id");
                (id.parse::<u64>().unwrap_or(0), id)
            }),
            "title" => tools.sort_by_key(|tool| key(tool, "title").to_lowercase()),
            _ => {}
        }
        if descending && matches!(sort.as_str(), "id" | "title") {
            tools.reverse();
        }
        let total = tools.len();
        let number = |name: &str| text_field(request, name)?.parse::<usize>().ok();
        let start = number("start").unwrap_or(0).min(total);
        let limit = number("limit").filter(|limit| *limit > 0).unwrap_or(total);
        let tools = tools.into_iter().skip(start).take(limit).collect();
        Page { total, tools }
    }
}

/// The strings of a value: a string (or a string holding a JSON list), or a list of them.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().filter_map(as_text).collect(),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => items.iter().filter_map(as_text).collect(),
            _ => text
                .split(',')
                .map(|one| one.trim().to_owned())
                .filter(|one| !one.is_empty())
                .collect(),
        },
        other => as_text(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(directory: &Directory, request: Value) -> (usize, Vec<String>) {
        let page = directory.list(request.as_object().unwrap());
        let slugs = page
            .tools
            .iter()
            .map(|tool| {
                format!(
                    "{}/{}",
                    tool["slugowner"].as_str().unwrap(),
                    tool["slugproject"].as_str().unwrap()
                )
            })
            .collect();
        (page.total, slugs)
    }

    #[test]
    fn the_list_filters_sorts_and_pages() {
        let directory = Directory::new(0);
        let (total, all) = list(&directory, json!({}));
        assert_eq!(total, 11);
        assert_eq!(all[0], "PixVerse/text-to-video-v4");
        assert!(all.contains(&"Acme Labs/frames to video".to_owned()));

        let (total, found) = list(&directory, json!({"search": "PIXVERSE video"}));
        assert_eq!(total, 3, "{found:?}");
        let (_, found) = list(
            &directory,
            json!({"search": "frames", "slugowner": "ACME-LABS"}),
        );
        assert_eq!(found, ["Acme Labs/frames to video"]);
        let (total, _) = list(&directory, json!({"slugowner": "wiro"}));
        assert_eq!(total, 7);
        // A string holding a JSON list, as the upscaler's categories are.
        let (_, found) = list(&directory, json!({"categories[]": ["upscale"]}));
        assert_eq!(found, ["wiro/legacy-upscaler"]);

        let (total, page) = list(
            &directory,
            json!({"start": "2", "limit": 3, "sort": "id", "order": "DESC"}),
        );
        assert_eq!((total, page.len()), (11, 3));
        assert_eq!(page[0], "wiro/speech");
        let (_, empty) = list(&directory, json!({"start": "50"}));
        assert!(empty.is_empty());
    }

    #[test]
    fn every_model_is_runnable_with_the_fields_its_detail_publishes() {
        let directory = Directory::new(8);
        for entry in &directory.models {
            let slug = entry.model.slug();
            let (owner, project) = slug.split_once('/').unwrap();
            let runnable = directory.runnable(owner, project).unwrap().unwrap();
            assert_eq!(runnable.catalog.fields().len(), entry.model.items().count());
            let again = directory.runnable(owner, project).unwrap().unwrap();
            assert!(Arc::ptr_eq(&runnable.catalog, &again.catalog), "built once");
        }
        let frames = directory.runnable("ACME-LABS", "Frames-To-Video").unwrap();
        assert_eq!(frames.unwrap().catalog.fields()[0].wire, "firstFrameUrl");
        let v4 = directory
            .runnable("pixverse", "TEXT-to-video-v4")
            .unwrap()
            .unwrap();
        assert!(v4.catalog.is_built_in() && !v4.catalog.rules.is_empty());
        assert!(directory.runnable("pixverse", "text-to-video-v9").is_none());
        assert_eq!(
            directory
                .raw_slug("acme-labs", "FRAMES-TO-VIDEO")
                .as_deref(),
            Some("Acme Labs/frames to video")
        );
        assert_eq!(
            directory
                .raw_slug("pixverse", "text-to-video-v4")
                .as_deref(),
            Some("PixVerse/text-to-video-v4")
        );
    }

    #[test]
    fn every_model_has_a_detail_and_synthetic_ones_join_the_list() {
        let directory = Directory::new(300);
        assert_eq!(directory.list(&Map::new()).total, 311);
        let detail = directory.detail("PIXVERSE", "Text-To-Video-V4").unwrap();
        assert!(detail["parameters"].is_array());
        let detail = directory.detail("acme labs", "FRAMES-TO-VIDEO").unwrap();
        assert_eq!(detail["cleanslugproject"], "frames-to-video");
        assert!(directory.detail("synthetic-lab", "model-0300").is_some());
        assert!(directory.detail("wiro", "nothing").is_none());
        assert!(directory
            .some_slugs()
            .ends_with("and 299 more (see Tool/List)"));
    }
}
