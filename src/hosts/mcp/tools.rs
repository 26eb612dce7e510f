//! The tools: one per node type of the registry, named from its type id, with its input and
//! output schemas and a description that says what it costs; and three of the server's own
//! (find a model, follow a task, stop a task). Listed in a fixed order: by type id, then ours.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::follow::RunReport;
use crate::node::{schema_value, Node, NodeSpec, Registry};

/// The tool that finds models by words and returns their schemas.
pub const FIND: &str = "wiro_find_models";
/// The tool that waits again for a task a call started, and brings back its files.
pub const FOLLOW: &str = "wiro_follow_task";
/// The tool that stops a task a call started (cancel while queued, kill once running).
pub const STOP: &str = "wiro_stop_task";
/// The argument of every paid tool that caps what one call may spend, in dollars.
pub const CAP: &str = "max_cost_usd";

/// Node types that act on any task of the account, not only on the server's own: offered
/// only when `--tools` names them, and marked destructive.
pub const ACCOUNT_WIDE: [&str; 3] = [
    "wiro/task.kill",
    "wiro/task.cancel",
    "wiro/task.files.delete",
];

/// The longest tool name many clients accept (`^[A-Za-z0-9_-]{1,64}$`).
const MAX_NAME: usize = 64;
/// Tools per page of `tools/list`: a catalog of hundreds of models in one answer passes the
/// 1 MiB a client takes in one message (the Python SDK's limit for a server-sent event).
pub const PAGE: usize = 64;

/// The tool name of a node type: `wiro/file.upload` → `wiro_file_upload`,
/// `pixverse/text-to-video-v5` → `pixverse_text-to-video-v5`. Only letters, digits, `_` and
/// `-`, at most 64 characters (a longer id keeps its start and a short hash of the whole).
pub fn tool_name(type_id: &str) -> String {
    let name: String = type_id
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            _ => '_',
        })
        .collect();
    if name.len() <= MAX_NAME {
        return name;
    }
    let digest = super::journal::digest(type_id.as_bytes());
    format!("{}-{}", &name[..MAX_NAME - 9], &digest[..8])
}

/// Arguments of [`FIND`].
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindArgs {
    /// Words to look for in the models' ids, titles and descriptions, e.g. `video image`.
    pub words: String,
    /// How many models to return at most.
    #[serde(default = "ten")]
    #[schemars(range(min = 1, max = 50))]
    pub limit: usize,
}

fn ten() -> usize {
    10
}

/// One model [`FIND`] found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FoundTool {
    /// The tool to call.
    pub tool: String,
    /// The node type behind it.
    pub node_type: String,
    /// Its title.
    pub title: String,
    /// What it does.
    pub description: String,
    /// Calling it starts a paid Run.
    pub spends_money: bool,
    /// The JSON Schema of its arguments.
    pub input_schema: Value,
}

/// What [`FIND`] answers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Found {
    /// The best matches first.
    pub models: Vec<FoundTool>,
}

/// Arguments of [`FOLLOW`].
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowArgs {
    /// The task a call of this server started (its `task_id`).
    pub task_id: String,
    /// Seconds to wait at most this time; the server's wait when left out.
    #[schemars(range(min = 1, max = 600))]
    pub wait_seconds: Option<u64>,
}

/// Arguments of [`STOP`].
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopArgs {
    /// The task a call of this server started (its `task_id`).
    pub task_id: String,
}

/// What [`STOP`] answers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Stopped {
    /// The task.
    pub task_id: String,
    /// `cancelled` (it was queued), `killed` (it was running) or `already ended`.
    pub how: String,
}

/// The tools of one server: names to node types, and the list, built once when first asked.
pub struct ToolBook {
    registry: Registry,
    by_name: BTreeMap<String, String>,
    listed: OnceLock<Vec<Tool>>,
}

impl ToolBook {
    /// The tools of `registry`'s node types. A node type whose tool name another took (two
    /// ids that differ only in punctuation) is left out, with a warning.
    pub fn new(registry: &Registry) -> Self {
        let mut by_name = BTreeMap::new();
        for type_id in registry.type_ids() {
            let name = tool_name(type_id);
            if [FIND, FOLLOW, STOP].contains(&name.as_str()) || by_name.contains_key(&name) {
                tracing::warn!(type_id, tool = name, "tool name taken; node type left out");
                continue;
            }
            by_name.insert(name, type_id.to_owned());
        }
        Self {
            registry: registry.clone(),
            by_name,
            listed: OnceLock::new(),
        }
    }

    /// The node type a tool runs.
    pub fn type_of(&self, tool: &str) -> Option<&str> {
        self.by_name.get(tool).map(String::as_str)
    }

    /// Every tool: the node types' by type id, then the server's own.
    pub fn list(&self) -> &[Tool] {
        self.listed.get_or_init(|| {
            let mut names: Vec<(&String, &String)> = self.by_name.iter().collect();
            names.sort_by(|a, b| a.1.cmp(b.1));
            let mut tools: Vec<Tool> = names
                .into_iter()
                .filter_map(|(name, type_id)| {
                    let node = self.registry.get(type_id)?;
                    Some(node_tool(name, node.as_ref()))
                })
                .collect();
            tools.extend(own_tools());
            tools
        })
    }

    /// One page of [`ToolBook::list`]: the tools from `cursor` (the position, as the previous
    /// page's `nextCursor` said; the start when `None`) and the cursor of the next page.
    pub fn page(&self, cursor: Option<&str>) -> Result<(&[Tool], Option<String>), String> {
        let all = self.list();
        let start = match cursor {
            None => 0,
            Some(cursor) => cursor
                .parse::<usize>()
                .ok()
                .filter(|start| *start <= all.len())
                .ok_or_else(|| format!("{cursor:?} is not a cursor this server gave"))?,
        };
        let end = (start + PAGE).min(all.len());
        let next = (end < all.len()).then(|| end.to_string());
        Ok((&all[start..end], next))
    }

    /// The node types whose id, title, description or category hold the most of `words`.
    pub fn find(&self, words: &str, limit: usize) -> Found {
        let words: Vec<String> = words
            .split_whitespace()
            .map(str::to_lowercase)
            .filter(|word| !word.is_empty())
            .collect();
        let mut scored: Vec<(usize, &String, &NodeSpec)> = self
            .by_name
            .iter()
            .filter_map(|(name, type_id)| {
                let spec = self.registry.get(type_id)?.spec();
                let text = format!(
                    "{} {} {} {}",
                    spec.type_id, spec.title, spec.description, spec.category
                )
                .to_lowercase();
                let score = words.iter().filter(|word| text.contains(*word)).count();
                (score > 0).then_some((score, name, spec))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.type_id.cmp(&b.2.type_id)));
        Found {
            models: scored
                .into_iter()
                .take(limit)
                .map(|(_, name, spec)| FoundTool {
                    tool: name.clone(),
                    node_type: spec.type_id.to_string(),
                    title: spec.title.to_string(),
                    description: spec.description.to_string(),
                    spends_money: spec.spends_money,
                    input_schema: Value::Object(input_schema(spec)),
                })
                .collect(),
        }
    }
}

/// The tool of one node type.
fn node_tool(name: &str, node: &dyn Node) -> Tool {
    let spec = node.spec();
    let output = if spec.spends_money {
        schema_value::<RunReport>()
    } else {
        spec.outputs.clone()
    };
    let mut tool = Tool::new(
        name.to_owned(),
        description(spec, published_price(node)),
        Arc::new(input_schema(spec)),
    );
    tool.title = Some(spec.title.to_string());
    tool.output_schema = as_object(output).map(Arc::new);
    let mut hints = ToolAnnotations::default();
    hints.title = Some(spec.title.to_string());
    let destructive = ACCOUNT_WIDE.contains(&spec.type_id.as_ref());
    // Reading a task, listing, waiting: nothing changes. Uploads, downloads, Runs change
    // something; kill, cancel and delete destroy.
    let read_only = !spec.spends_money
        && !spec.transfers_files
        && !destructive
        && matches!(spec.category.as_ref(), "tasks" | "models");
    hints.read_only_hint = Some(read_only);
    hints.destructive_hint = Some(destructive);
    hints.open_world_hint = Some(true);
    tool.annotations = Some(hints);
    tool
}

/// A paid node's price with its default settings, when its model's prices came with it (a
/// catalog model): no request is made to list tools.
fn published_price(node: &dyn Node) -> Option<String> {
    if !node.spec().spends_money {
        return None;
    }
    let run = node.priced_run(&Map::new(), &BTreeSet::new())?;
    let detail = run.published.as_ref()?;
    match crate::api::estimate(detail, &run.parameters) {
        crate::api::Estimate::Known { usd, .. } => Some(format!(
            "With the default settings a Run costs about ${usd:.4}."
        )),
        crate::api::Estimate::Unknown { .. } => None,
    }
}

/// A node's description, and for a paid node what calling it does with money.
fn description(spec: &NodeSpec, price: Option<String>) -> String {
    if !spec.spends_money {
        return spec.description.to_string();
    }
    let price = price.unwrap_or_else(|| "Its price depends on the settings.".into());
    format!(
        "{} {price} Costs money: each call starts one paid Run on Wiro. Before it is sent the user is \
         asked to accept its price; a client that cannot ask must pass `{CAP}` (dollars) and a \
         price above it, or unknown, sends nothing. The call waits a while, then answers with \
         the task and its files, or with the task to follow with `{FOLLOW}`. The same call \
         repeated shortly after answers with the first call's task instead of paying again.",
        spec.description
    )
}

/// A node's input schema; a paid node's also takes [`CAP`].
fn input_schema(spec: &NodeSpec) -> JsonObject {
    let mut schema = as_object(spec.inputs.clone()).unwrap_or_default();
    if spec.spends_money {
        let properties = schema
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(properties) = properties {
            properties.insert(
                CAP.into(),
                json!({
                    "type": "number",
                    "minimum": 0,
                    "description": "The most this call may spend, in dollars: a price above it, or unknown, sends nothing. Required when the client cannot ask the user to accept the price."
                }),
            );
        }
    }
    schema
}

/// The server's own tools.
fn own_tools() -> Vec<Tool> {
    let own = |name: &str, description: &str, input: Value, output: Value, read_only: bool| {
        let mut tool = Tool::new(
            name.to_owned(),
            description.to_owned(),
            Arc::new(as_object(input).unwrap_or_default()),
        );
        tool.output_schema = as_object(output).map(Arc::new);
        let mut hints = ToolAnnotations::default();
        hints.read_only_hint = Some(read_only);
        hints.destructive_hint = Some(!read_only);
        tool.annotations = Some(hints);
        tool
    };
    vec![
        own(
            FIND,
            "Finds models (and the other tools) by words, best match first, with the schema of their arguments. Free.",
            schema_value::<FindArgs>(),
            schema_value::<Found>(),
            true,
        ),
        own(
            FOLLOW,
            "Waits again for a task a paid call of this server started, and brings back its files (as resources) or its text. Free: waiting never pays again.",
            schema_value::<FollowArgs>(),
            schema_value::<RunReport>(),
            true,
        ),
        own(
            STOP,
            "Stops a task a paid call of this server started: cancels it while queued (not billed), kills it once running.",
            schema_value::<StopArgs>(),
            schema_value::<Stopped>(),
            false,
        ),
    ]
}

/// A JSON object, or `None` for any other value.
fn as_object(value: Value) -> Option<JsonObject> {
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_keep_to_what_clients_accept() {
        assert_eq!(tool_name("wiro/file.upload"), "wiro_file_upload");
        assert_eq!(
            tool_name("pixverse/text-to-video-v5"),
            "pixverse_text-to-video-v5"
        );
        let long = format!("owner/{}", "x".repeat(80));
        let name = tool_name(&long);
        assert_eq!(name.len(), 64);
        assert_ne!(name, tool_name(&format!("owner/{}y", "x".repeat(80))));
    }

    #[test]
    fn every_node_type_is_a_tool_and_paid_ones_take_a_cap() {
        let registry = Registry::from_inventory();
        let book = ToolBook::new(&registry);
        let tools = book.list();
        assert_eq!(tools.len(), registry.len() + 3);
        let paid = tools
            .iter()
            .find(|tool| tool.name == "pixverse_text-to-video-v4")
            .expect("the PixVerse tool");
        assert!(paid.input_schema["properties"][CAP].is_object());
        assert!(paid.description.as_deref().unwrap_or("").contains(CAP));
        assert_eq!(
            paid.output_schema.as_ref().expect("an output schema")["type"],
            "object"
        );
        let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        assert_eq!(&names[names.len() - 3..], &[FIND, FOLLOW, STOP]);
    }

    #[test]
    fn pages_cover_every_tool_once() {
        let registry = Registry::from_inventory();
        let book = ToolBook::new(&registry);
        let (mut seen, mut cursor) = (Vec::new(), None);
        loop {
            let (tools, next) = book.page(cursor.as_deref()).expect("a page");
            assert!(tools.len() <= PAGE);
            seen.extend(tools.iter().map(|tool| tool.name.to_string()));
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let all: Vec<String> = book
            .list()
            .iter()
            .map(|tool| tool.name.to_string())
            .collect();
        assert_eq!(seen, all);
        assert!(book.page(Some("not a cursor")).is_err());
    }

    #[test]
    fn find_ranks_by_words() {
        let book = ToolBook::new(&Registry::from_inventory());
        let found = book.find("text video", 3);
        assert_eq!(found.models[0].node_type, "pixverse/text-to-video-v4");
        assert!(found.models[0].input_schema["properties"]["prompt"].is_object());
    }
}
