//! `wiro/folder.create`: a folder in the project's file storage, to upload into.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::api::wire::Folder;
use crate::node::{NodeContext, NodeError, TypedNode};

/// Creates a folder.
#[derive(Debug, Default)]
pub struct FolderCreate;

/// The folder to create.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderCreateInput {
    /// The folder's name: letters, digits, `-` and `_`.
    #[schemars(length(min = 1), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub name: String,
    /// The parent folder's id; empty for the top level.
    #[serde(default)]
    pub parentid: Option<String>,
}

/// The created folder.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct FolderCreateOutput {
    /// The folder; connect its `id` to `wiro/file.upload`'s `folderid`.
    pub folder: Folder,
}

#[async_trait]
impl TypedNode for FolderCreate {
    type Input = FolderCreateInput;
    type Output = FolderCreateOutput;
    const TYPE_ID: &'static str = "wiro/folder.create";
    const TITLE: &'static str = "Create folder";
    const CATEGORY: &'static str = "files";
    const DESCRIPTION: &'static str =
        "Creates a folder in the Wiro project's file storage (File/FolderCreate).";

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        ctx.progress.phase("creating folder");
        let folder = ctx
            .client
            .folder_create(&input.name, input.parentid.as_deref())
            .await?;
        Ok(FolderCreateOutput { folder })
    }
}

crate::register_node!(FolderCreate);
