//! `wiro/file.upload`: a local file into Wiro's storage; its URL feeds model inputs.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::api::wire::UploadedFile;
use serde_json::{Map, Value};

use super::upload_checks::check_upload;
use crate::node::{InputProblem, NodeContext, NodeError, NodeEvent, SentFile, TypedNode, Walls};

/// Uploads a local file.
#[derive(Debug, Default)]
pub struct FileUpload;

/// The file to upload.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileUploadInput {
    /// The local file; a relative path is taken from the workflow's folder. At most 100 MB;
    /// images jpg png gif webp heic, video mp4 webm mov, audio mp3 wav m4a, documents pdf csv
    /// docx xlsx pptx txt md epub, or zip.
    #[schemars(length(min = 1), extend("x-ui-widget" = "local-file"))]
    pub path: String,
    /// The folder to upload into (from `wiro/folder.create`); empty for the default folder.
    #[serde(default)]
    pub folderid: Option<String>,
}

/// The stored file.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FileUploadOutput {
    /// The stored file with its details (its `url` is the file named by `path`).
    #[schemars(extend("x-file-kind-of" = "path"))]
    pub file: UploadedFile,
    /// The file's public URL: connect it to a model input such as `inputImageUrl`.
    #[schemars(extend("x-file-kind-of" = "path"))]
    pub url: String,
    /// The SHA-256 (lowercase hex) of the bytes sent: the file as the server got it. A paid
    /// node reading this upload is journaled by it, so the same bytes are not paid for twice.
    pub sha256: String,
}

#[async_trait]
impl TypedNode for FileUpload {
    type Input = FileUploadInput;
    type Output = FileUploadOutput;
    const TYPE_ID: &'static str = "wiro/file.upload";
    const TITLE: &'static str = "Upload file";
    const CATEGORY: &'static str = "files";
    const TRANSFERS_FILES: bool = true;
    const DESCRIPTION: &'static str = "Uploads a local file to the Wiro project's storage (File/Upload, streamed from disk) and gives its public URL for model inputs.";

    /// A changed file at the same path is a new upload.
    fn resume_facts(input_dir: &std::path::Path, inputs: &serde_json::Value) -> serde_json::Value {
        let Some(path) = inputs.get("path").and_then(serde_json::Value::as_str) else {
            return serde_json::Value::Null;
        };
        let path = input_dir.join(path);
        match std::fs::metadata(&path) {
            Ok(metadata) => serde_json::json!({
                "size": metadata.len(),
                "modified": metadata
                    .modified()
                    .ok()
                    .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|since| since.as_nanos().to_string()),
            }),
            Err(_) => serde_json::Value::Null,
        }
    }

    fn sent_file(files: &Walls, inputs: &Value) -> Option<SentFile> {
        let path = check_upload(files, inputs.get("path")?.as_str()?).ok()?;
        // The name `run` gives the server: the file's own, a link followed.
        let name = path.file_name()?.to_str()?.to_owned();
        Some(SentFile { path, name })
    }

    fn check_local(files: &Walls, inputs: &Map<String, Value>) -> Vec<InputProblem> {
        match inputs.get("path").and_then(Value::as_str) {
            Some(path) => check_upload(files, path).err().into_iter().collect(),
            None => Vec::new(), // comes from another node: checked when the node runs
        }
    }

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        let path = check_upload(&ctx.walls(), &input.path)
            .map_err(|problem| NodeError::InvalidInputs(vec![problem]))?;
        ctx.progress.phase("uploading");
        let (file, sha256) = ctx
            .client
            .upload_hashed(&path, input.folderid.as_deref())
            .await?;
        let size = file.size.as_ref().and_then(|s| s.as_u64());
        ctx.progress.emit(NodeEvent::Transfer {
            file: file.name.clone(),
            done: size.unwrap_or(0),
            total: size,
        });
        Ok(FileUploadOutput {
            url: file.url.clone(),
            file,
            sha256,
        })
    }
}

crate::register_node!(FileUpload);
