//! The price of a workflow before it is paid for: each paid node's estimate from its model's
//! published prices (Tool/Detail, asked once per model), and the total. An estimate that
//! cannot be known says why; the total is then unknown too.

use serde::Serialize;

use super::Workflow;
use crate::api::{Client, Estimate};
use crate::node::{PriceBook, Registry};

/// One paid node's estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodePrice {
    /// The node's id.
    pub node: String,
    /// The model it runs, when its inputs say.
    pub model: Option<String>,
    /// What its Run will cost.
    pub estimate: Estimate,
}

/// What a workflow will cost if every paid node succeeds once.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowPrice {
    /// Each paid node, in workflow order.
    pub nodes: Vec<NodePrice>,
}

impl WorkflowPrice {
    /// The total in dollars; `None` when any node's price is unknown.
    pub fn total(&self) -> Option<f64> {
        self.nodes
            .iter()
            .try_fold(0.0, |total, node| Some(total + node.estimate.usd()?))
    }

    /// The estimates that are unknown.
    pub fn unknown(&self) -> impl Iterator<Item = &NodePrice> {
        self.nodes
            .iter()
            .filter(|node| node.estimate.usd().is_none())
    }
}

/// Estimates every paid node of `workflow`. Sends only Tool/Detail, once per model.
pub async fn price_workflow(
    workflow: &Workflow,
    registry: &Registry,
    client: &Client,
) -> WorkflowPrice {
    let mut nodes = Vec::new();
    price_into(
        &mut PriceBook::default(),
        workflow,
        registry,
        client,
        &mut nodes,
    )
    .await;
    WorkflowPrice { nodes }
}

/// Estimates every paid node of each workflow (a table's rows, made one at a time), as one
/// price. Sends only Tool/Detail, once per model.
pub async fn price_workflows(
    workflows: impl IntoIterator<Item = Workflow>,
    registry: &Registry,
    client: &Client,
) -> WorkflowPrice {
    let mut book = PriceBook::default();
    let mut nodes = Vec::new();
    for workflow in workflows {
        price_into(&mut book, &workflow, registry, client, &mut nodes).await;
    }
    WorkflowPrice { nodes }
}

async fn price_into(
    book: &mut PriceBook,
    workflow: &Workflow,
    registry: &Registry,
    client: &Client,
    nodes: &mut Vec<NodePrice>,
) {
    for node in &workflow.nodes {
        let Some(target) = registry.get(&node.type_id) else {
            continue;
        };
        if !target.spec().spends_money {
            continue;
        }
        let linked = node.linked_ports();
        let Some(run) = target.priced_run(&node.inputs, &linked) else {
            nodes.push(NodePrice {
                node: node.id.clone(),
                model: None,
                estimate: Estimate::Unknown {
                    reason: "its model or parameters come from another node".into(),
                },
            });
            continue;
        };
        let estimate = book.estimate(client, &run).await;
        nodes.push(NodePrice {
            node: node.id.clone(),
            model: Some(run.model),
            estimate,
        });
    }
}
