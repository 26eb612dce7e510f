//! The price of a workflow before it is paid for: each paid node's estimate from its model's
//! published prices (Tool/Detail, asked once per model), and the total. An estimate that
//! cannot be known says why; the total is then unknown too.

use serde::Serialize;

use super::rows::{split_row, LeftRunning};
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
        let estimates: Option<Vec<f64>> = self.nodes.iter().map(|n| n.estimate.usd()).collect();
        estimates.map(sum_usd)
    }

    /// The estimates that are unknown.
    pub fn unknown(&self) -> impl Iterator<Item = &NodePrice> {
        self.nodes
            .iter()
            .filter(|node| node.estimate.usd().is_none())
    }

    /// What the paid tasks `earlier` (of earlier runs, for cells no row of this table has
    /// now: `Executor::paid_for_other_cells`) count against a spending cap, which caps the
    /// whole run: a charge as the task's record says it, a task still running at the price
    /// this table's rows pay for the same node (unknown when none is known).
    pub fn paid_before(&self, earlier: &[LeftRunning]) -> Vec<NodePrice> {
        let same_node = |node: Option<&str>| {
            (self.nodes.iter())
                .filter(|priced| {
                    split_row(&priced.node).is_some_and(|(_, name)| Some(name) == node)
                })
                .filter_map(|priced| priced.estimate.usd())
                .reduce(f64::max)
        };
        (earlier.iter())
            .map(|left| NodePrice {
                node: format!("{} ({})", left.shown(), left.named()),
                model: None,
                estimate: match (left.charged, same_node(left.flow_node())) {
                    (Some(usd), _) => Estimate::Known {
                        usd,
                        basis: "charged".into(),
                    },
                    (None, Some(usd)) if left.task.is_none() => Estimate::Known {
                        usd,
                        basis: "may have started a task (Task/List could not tell): billed if it did and it succeeds".into(),
                    },
                    (None, Some(usd)) => Estimate::Known {
                        usd,
                        basis: "still running: billed if it succeeds".into(),
                    },
                    (None, None) => Estimate::Unknown {
                        reason: "still running, and no row of this table prices its node".into(),
                    },
                },
            })
            .collect()
    }

    /// Why a run at this price may not start under a spending cap of `cap` dollars (`run
    /// --max-cost`, the editor's max cost); `None` when it may. Each host says it in its words.
    pub fn over_cap(&self, cap: f64) -> Option<OverCap> {
        if let Some(node) = self.unknown().next() {
            return Some(OverCap::Unknown {
                node: node.node.clone(),
            });
        }
        match self.total() {
            // In millionths, as billed: a cap equal to the price shown is never refused by
            // float noise, however many rows the price adds up.
            Some(total) if micros(total) > cap_micros(cap) => Some(OverCap::Above { total }),
            _ => None,
        }
    }
}

/// Why a run does not fit under a spending cap.
#[derive(Debug, Clone, PartialEq)]
pub enum OverCap {
    /// A paid node's price is unknown, so the run might cost more.
    Unknown {
        /// The node.
        node: String,
    },
    /// The estimated total is above the cap.
    Above {
        /// The estimate, in dollars.
        total: f64,
    },
}

/// The sum of amounts of dollars, added in millionths (Wiro's smallest unit) so that ten
/// thousand rows at $1.2 add up to exactly $12000, and `0.45 + 1.35` is `1.8`, not
/// `1.7999999999999998`.
pub fn sum_usd(amounts: impl IntoIterator<Item = f64>) -> f64 {
    let total: i64 = amounts.into_iter().map(micros).sum();
    total as f64 / 1e6
}

/// An amount of dollars in millionths, rounded.
fn micros(usd: f64) -> i64 {
    (usd * 1e6).round() as i64
}

/// A spending cap as every host takes it: dollars from 0 up to a trillion, rounded down to
/// the millionth (so the cap a message shows is the cap applied: `1.34999999` is $1.349999);
/// `None` for what would be no cap at all (`NaN`, infinity, below zero, beyond a trillion).
pub fn spending_cap(usd: f64) -> Option<f64> {
    if !usd.is_finite() || !(0.0..=1e12).contains(&usd) {
        return None;
    }
    Some(cap_micros(usd).max(0) as f64 / 1e6)
}

/// A cap in millionths, rounded down: $1.34999999 does not cover $1.35 (a cap written as a
/// price, `1.35`, still covers it: a billionth is float noise).
fn cap_micros(usd: f64) -> i64 {
    (usd * 1e6 + 1e-3).floor() as i64
}

/// A cost as people read one: dollars and cents, and the further decimals Wiro bills in (at
/// most six) when there are any, without float noise: `$0.90`, `$2.00`, `$0.00351`.
pub fn usd(amount: f64) -> String {
    let dollars = dollars(amount);
    let decimals = dollars
        .split_once('.')
        .map_or(0, |(_, decimals)| decimals.len());
    let point = if decimals == 0 { "." } else { "" };
    format!(
        "${dollars}{point}{}",
        "0".repeat(2usize.saturating_sub(decimals))
    )
}

/// An amount of dollars as a plain number, for a table's cell: at most six decimals, no
/// float noise, no trailing zeros: `0.9`, `2`.
pub fn dollars(amount: f64) -> String {
    let text = format!("{amount:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" => "0".to_owned(),
        text => text.to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn price(estimates: &[Option<f64>]) -> WorkflowPrice {
        let nodes = estimates
            .iter()
            .enumerate()
            .map(|(index, usd)| NodePrice {
                node: format!("n{index}"),
                model: None,
                estimate: match usd {
                    Some(usd) => Estimate::Known {
                        usd: *usd,
                        basis: "test".into(),
                    },
                    None => Estimate::Unknown {
                        reason: "test".into(),
                    },
                },
            })
            .collect();
        WorkflowPrice { nodes }
    }

    #[test]
    fn a_cap_refuses_a_dearer_run_or_an_unknown_price() {
        assert_eq!(price(&[Some(0.45), Some(0.45)]).over_cap(0.9), None);
        assert_eq!(
            price(&[Some(0.45), Some(0.45)]).over_cap(0.5),
            Some(OverCap::Above { total: 0.9 })
        );
        assert_eq!(
            price(&[Some(0.45), None]).over_cap(100.0),
            Some(OverCap::Unknown { node: "n1".into() })
        );
    }

    #[test]
    fn a_cap_equal_to_the_price_shown_fits_however_many_rows_add_up_to_it() {
        let table = price(&vec![Some(1.2); 9407]);
        let shown = dollars(table.total().unwrap());
        assert_eq!(shown, "11288.4");
        assert_eq!(table.over_cap(shown.parse().unwrap()), None);
        let three = price(&[Some(0.45); 3]);
        assert_eq!(three.over_cap(1.35), None);
        assert!(
            three.over_cap(1.349_999_99).is_some(),
            "a cap is rounded down"
        );
        assert_eq!(sum_usd([0.45, 1.35]).to_string(), "1.8");
        assert_eq!(sum_usd([]).to_string(), "0", "not -0");
    }

    #[test]
    fn costs_print_without_float_noise() {
        assert_eq!(usd(0.3 + 0.3 + 0.3), "$0.90");
        assert_eq!(usd(0.00351), "$0.00351");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(-0.0), "$0.00");
        assert_eq!(usd(2.0), "$2.00");
        assert_eq!(usd(12000.0), "$12000.00");
        assert_eq!(dollars(0.3 + 0.3 + 0.3), "0.9");
        assert_eq!(dollars(-0.0), "0");
    }
}
