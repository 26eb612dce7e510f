//! `wiro/output.download`: a task's output files onto the local disk, streamed and checked.

use std::path::Path;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::{leads_out, link_below, safe_file_name, safe_relative, LocalFile, OutputFile};
use crate::node::{InputProblem, NodeContext, NodeError, NodeEvent, TypedNode, Walls};

/// Downloads output files.
#[derive(Debug, Default)]
pub struct OutputDownload;

/// The files to download and where to put them.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputDownloadInput {
    /// The files, e.g. a finished task's `outputs`.
    pub outputs: Vec<OutputFile>,
    /// A folder inside the run's output folder; empty for the output folder itself.
    #[serde(default)]
    pub directory: Option<String>,
    /// Put before each file name; by default the node's id and a dash, so that outputs of
    /// several tasks (all named `0.mp4`) do not overwrite each other.
    #[serde(default)]
    pub prefix: Option<String>,
}

/// The files on disk.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct OutputDownloadOutput {
    /// Each downloaded file: path, size, sha256, content type.
    pub files: Vec<LocalFile>,
}

#[async_trait]
impl TypedNode for OutputDownload {
    type Input = OutputDownloadInput;
    type Output = OutputDownloadOutput;
    const TYPE_ID: &'static str = "wiro/output.download";
    const TITLE: &'static str = "Download outputs";
    const CATEGORY: &'static str = "outputs";
    const TRANSFERS_FILES: bool = true;
    const DESCRIPTION: &'static str = "Downloads output files to local disk: streamed in constant memory, resumed after a dropped connection, size-checked, renamed into place when complete. A chat model's text answer is saved as a .txt file.";

    /// A literal URL must be one this host may fetch (see [`crate::api::FetchRules`]): an
    /// output the API handed out (sealed), or on an allowed host. Outputs that come from other
    /// nodes are judged when they arrive, by the client. A literal `directory` or `prefix`
    /// that leads out of the output folder is refused.
    fn check_local(walls: &Walls, inputs: &Map<String, Value>) -> Vec<InputProblem> {
        let mut problems = where_problems(inputs);
        let Some(Value::Array(outputs)) = inputs.get("outputs") else {
            return problems;
        };
        for (position, output) in outputs.iter().enumerate() {
            let Some(output) = output.as_object().filter(|o| !o.contains_key("$from")) else {
                continue;
            };
            // A text answer has no URL: nothing is fetched for it.
            let Some(url) = output
                .get("url")
                .and_then(Value::as_str)
                .filter(|url| !url.is_empty())
            else {
                continue; // the schema check names an odd URL
            };
            let seal = output.get("seal").and_then(Value::as_str);
            if let Err(reason) = walls.fetch.check_source(url, seal) {
                problems.push(InputProblem::new(
                    format!("outputs/{position}/url"),
                    "fetch-allowed",
                    format!("{} is not fetched: {reason}", crate::node::cut(url, 200)),
                ));
            }
        }
        problems
    }

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        let directory = match input.directory.as_deref().filter(|d| !d.is_empty()) {
            Some(sub) => ctx.output_dir.join(safe_relative(sub)),
            None => ctx.output_dir.clone(),
        };
        no_link_on_the_way(ctx, input.directory.as_deref(), &directory)?;
        let prefix = input
            .prefix
            .unwrap_or_else(|| format!("{}-", safe_file_name(&ctx.node_id)));
        ctx.progress.phase("downloading");
        let mut files = Vec::with_capacity(input.outputs.len());
        let mut taken = std::collections::HashSet::new();
        for output in &input.outputs {
            if let (Some(text), true) = (output.text_answer(), output.url.is_empty()) {
                let name =
                    distinct_name(&format!("{prefix}{}", text_file_name(output)), &mut taken);
                files.push(LocalFile::write_text(&directory, &name, text).await?);
                continue;
            }
            let name = distinct_name(
                &format!("{prefix}{}", safe_file_name(&output.name)),
                &mut taken,
            );
            let progress = ctx.progress.clone();
            let shown = name.clone();
            let download = ctx
                .client
                .download_output(output, &directory, &name, move |p| {
                    progress.emit(NodeEvent::Transfer {
                        file: shown.clone(),
                        done: p.received,
                        total: p.total,
                    })
                });
            let file = tokio::select! {
                file = download => file?,
                _ = ctx.cancel.cancelled() => return Err(NodeError::Cancelled { stopped: None }),
            };
            files.push(file);
        }
        Ok(OutputDownloadOutput { files })
    }
}

/// The file a text answer is saved as: the output's name (or `answer`) ending in `.txt`.
fn text_file_name(output: &OutputFile) -> String {
    let name = safe_file_name(&output.name);
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ if output.name.trim().is_empty() => "answer",
        _ => &name,
    };
    format!("{stem}.txt")
}

/// A literal `directory` stays inside the output folder and a literal `prefix` is part of a
/// file name: a way out is refused, not quietly turned into a folder inside.
fn where_problems(inputs: &Map<String, Value>) -> Vec<InputProblem> {
    let mut problems = Vec::new();
    if let Some(Value::String(directory)) = inputs.get("directory") {
        if leads_out(directory) {
            problems.push(InputProblem::new(
                "directory",
                "inside-output-folder",
                format!("{directory:?} leads out of the folder files are written in (the output folder; a row's own in a table): name a folder inside it, such as \"clips\""),
            ));
        }
    }
    if let Some(Value::String(prefix)) = inputs.get("prefix") {
        if prefix.contains(['/', '\\', ':']) || prefix.starts_with('.') {
            problems.push(InputProblem::new(
                "prefix",
                "file-name-part",
                format!("{prefix:?} is not part of a file name (no '/', '\\', ':' or leading '.'): put folders in `directory`"),
            ));
        }
    }
    problems
}

/// The folder files go in (`directory`, as the input `named` it) must not be reached through
/// a link inside the output folder: a link may lead anywhere, and a run writes only inside
/// its output folder. Checked before anything is downloaded (validation refuses the links it
/// can see; this catches a wired `directory` and a link made since).
fn no_link_on_the_way(
    ctx: &NodeContext,
    named: Option<&str>,
    directory: &Path,
) -> Result<(), NodeError> {
    let Some(link) = link_below(&ctx.output_dir, directory) else {
        return Ok(());
    };
    let link = link.strip_prefix(&ctx.output_dir).unwrap_or(link);
    Err(NodeError::InvalidInputs(vec![InputProblem::new(
        "directory",
        "inside-output-folder",
        format!(
            "{:?} goes through {}, a link: it may lead out of the folder files are written in, and files are written only inside it; remove the link, or name another folder",
            named.unwrap_or_default(),
            link.display(),
        ),
    )]))
}

/// `name`, or `stem-2.ext`, `stem-3.ext`, ... when an earlier output of this call took it.
fn distinct_name(name: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let (stem, ending) = match name.rsplit_once('.') {
        Some((stem, ending)) if !stem.is_empty() => (stem, format!(".{ending}")),
        _ => (name, String::new()),
    };
    let mut candidate = name.to_owned();
    let mut number = 1;
    while !taken.insert(candidate.clone()) {
        number += 1;
        candidate = format!("{stem}-{number}{ending}");
    }
    candidate
}

crate::register_node!(OutputDownload);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_or_prefix_that_leads_out_is_refused_before_the_run() {
        let check = |inputs: Value| {
            let problems = where_problems(inputs.as_object().unwrap());
            problems.iter().map(|p| p.rule.clone()).collect::<Vec<_>>()
        };
        for directory in ["../../evil", "/tmp/evil", "a/../../b", "C:\\evil"] {
            let rules = check(serde_json::json!({"outputs": [], "directory": directory}));
            assert_eq!(rules, ["inside-output-folder"], "{directory}");
        }
        for prefix in ["../../evil", "a/b-", ".hidden-"] {
            let rules = check(serde_json::json!({"outputs": [], "prefix": prefix}));
            assert_eq!(rules, ["file-name-part"], "{prefix}");
        }
        let fine = serde_json::json!({"outputs": [], "directory": "clips/2024", "prefix": "a-"});
        assert!(check(fine).is_empty());
    }

    #[test]
    fn outputs_with_one_name_get_distinct_files() {
        let mut taken = std::collections::HashSet::new();
        let names: Vec<String> = ["0.mp4", "0.mp4", "0.mp4", "log"]
            .iter()
            .map(|name| distinct_name(name, &mut taken))
            .collect();
        assert_eq!(names, ["0.mp4", "0-2.mp4", "0-3.mp4", "log"]);
    }

    #[test]
    fn subfolders_stay_inside_the_output_folder() {
        assert_eq!(safe_relative("../../etc"), std::path::PathBuf::from("etc"));
        assert_eq!(
            safe_relative("videos/run1"),
            std::path::PathBuf::from("videos/run1")
        );
    }
}
