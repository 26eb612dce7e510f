//! Every model Tool/List and Tool/Detail know: PixVerse v4's two (typed, in `catalog`), the
//! described ones (data, in `described`) and the generated ones (`synthetic`), with the
//! list's filters (`search`, `slugowner`, `categories`, `tags`), order (`sort`, `order`)
//! and paging (`start`, `limit`), all read loosely as Wiro does.

use serde_json::{Map, Value};

use super::answer::text_field;
use super::catalog::{self, MODELS};
use super::described::{as_text, described, EmulatedModel};
use super::synthetic::synthetic_models;

/// The described and generated models of one emulator.
#[derive(Debug)]
pub(crate) struct Directory {
    models: Vec<EmulatedModel>,
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
        let mut models = described().to_vec();
        models.extend(synthetic_models(synthetic));
        Self { models }
    }

    /// The described or generated model named by raw or clean slugs, in any letter case.
    pub fn find(&self, owner: &str, project: &str) -> Option<&EmulatedModel> {
        self.models
            .iter()
            .find(|model| model.is_named(owner, project))
    }

    /// The Tool/Detail MODEL object of any known model.
    pub fn detail(&self, owner: &str, project: &str) -> Option<Value> {
        catalog::find(owner, project)
            .map(catalog::Model::detail)
            .or_else(|| self.find(owner, project).map(EmulatedModel::detail))
    }

    /// A few slugs for an error message, and how many more there are.
    pub fn some_slugs(&self) -> String {
        const SHOWN: usize = 12;
        let all: Vec<String> = MODELS
            .iter()
            .map(catalog::Model::slug)
            .chain(self.models.iter().map(EmulatedModel::slug))
            .collect();
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
        let mut tools: Vec<Value> = MODELS
            .iter()
            .map(catalog::Model::summary)
            .chain(self.models.iter().map(EmulatedModel::summary))
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
