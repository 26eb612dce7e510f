//! The files calls brought back, as MCP resources: `wiro-output:///TASK/NAME`, listed from
//! the journal and read from the output folder. Only files the journal records can be read,
//! so a resource name never opens anything else on this machine.

use base64::Engine;
use rmcp::model::{ListResourcesResult, ReadResourceResult, Resource, ResourceContents};
use rmcp::ErrorData;

use super::follow::ReportedFile;
use super::Host;
use crate::api::LocalFile;

/// The scheme of output resources.
const SCHEME: &str = "wiro-output:///";

impl Host {
    /// The report of a downloaded file of task `taskid`.
    pub(crate) fn reported_file(&self, taskid: &str, file: &LocalFile, url: &str) -> ReportedFile {
        let name = file
            .path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        ReportedFile {
            uri: format!("{SCHEME}{taskid}/{name}"),
            name,
            path: file.path.display().to_string(),
            url: url.to_owned(),
            size: file.size,
            content_type: file.contenttype.clone(),
            sha256: file.sha256.clone(),
        }
    }

    /// Every output file, newest task last.
    pub(crate) fn list_outputs(&self) -> ListResourcesResult {
        let resources = self
            .journal
            .files()
            .into_iter()
            .map(|file| {
                let mut resource = Resource::new(file.uri, file.name);
                resource.mime_type = Some(file.content_type);
                resource.size = Some(file.size);
                resource
            })
            .collect();
        ListResourcesResult::with_all_items(resources)
    }

    /// The bytes of an output file: text for text files, base64 for the others.
    pub(crate) async fn read_output(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        let Some(file) = self
            .journal
            .files()
            .into_iter()
            .find(|file| file.uri == uri)
        else {
            return Err(ErrorData::resource_not_found(
                format!("{uri} is not a file this server downloaded"),
                None,
            ));
        };
        let bytes = tokio::fs::read(&file.path)
            .await
            .map_err(|error| ErrorData::internal_error(format!("{}: {error}", file.path), None))?;
        let contents = if file.content_type.starts_with("text/") {
            ResourceContents::TextResourceContents {
                uri: file.uri,
                mime_type: Some(file.content_type),
                text: String::from_utf8_lossy(&bytes).into_owned(),
                meta: None,
            }
        } else {
            ResourceContents::BlobResourceContents {
                uri: file.uri,
                mime_type: Some(file.content_type),
                blob: base64::engine::general_purpose::STANDARD.encode(&bytes),
                meta: None,
            }
        };
        Ok(ReadResourceResult::new(vec![contents]))
    }
}
