//! `wiro/model.detail`: a model's parameters and prices (Tool/Detail), with the price of a
//! run before it is paid for.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::{estimate, Estimate, ModelDetail};
use crate::node::{NodeContext, NodeError, TypedNode};

/// Describes a model.
#[derive(Debug, Default)]
pub struct ModelDetailNode;

/// The model, and optionally the parameters of a run to price.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelDetailInput {
    /// The model as `owner/model`, e.g. `PixVerse/text-to-video-v4`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$"))]
    pub model: String,
    /// The parameters of a run to price; left out parameters take the model's defaults.
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

/// The model's description and the price of the run.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ModelDetailOutput {
    /// The parameters (id, type, label, default, required, options, min, max) and prices
    /// (`dynamicprice` tiers, `cps`, `approximatelycost`).
    pub detail: ModelDetail,
    /// What a successful run with `parameters` costs (`known`, in dollars, with its basis),
    /// or why that cannot be known before running (`unknown`). Failed runs are not billed.
    pub estimate: Estimate,
}

#[async_trait]
impl TypedNode for ModelDetailNode {
    type Input = ModelDetailInput;
    type Output = ModelDetailOutput;
    const TYPE_ID: &'static str = "wiro/model.detail";
    const TITLE: &'static str = "Model detail";
    const CATEGORY: &'static str = "models";
    const DESCRIPTION: &'static str = "Reads a model's parameters and prices (Tool/Detail) and prices a run with the given parameters before anything is paid. Costs nothing.";

    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError> {
        let detail = ctx.client.model_detail(&input.model).await?;
        let estimate = estimate(&detail, &input.parameters);
        Ok(ModelDetailOutput { detail, estimate })
    }
}

crate::register_node!(ModelDetailNode);
