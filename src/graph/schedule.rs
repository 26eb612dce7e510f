//! Which node acts next: each node's state in a run, and the rule that a node starts when its
//! inputs are done and a slot is free, and is skipped when an input failed or the run stops.
//! Free of I/O, so the rule can be read (and tested) on its own.

use serde_json::Value;

use super::Plan;

/// Where one node is in a run.
#[derive(Debug, Clone, PartialEq)]
enum NodeState {
    Pending,
    Running,
    Done(Value),
    Failed,
    Skipped,
}

/// What to do with a node next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// Start it: its inputs are done and a slot is free.
    Start(usize),
    /// Skip it without running.
    Skip(usize, SkipReason),
}

/// Why a node is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SkipReason {
    /// The node at this position, one of its inputs, failed or was skipped.
    InputDidNotFinish(usize),
    /// The run was cancelled before the node started.
    Cancelled,
}

/// The states of a run's nodes, and how many run at once.
#[derive(Debug)]
pub(crate) struct Schedule<'a> {
    plan: &'a Plan,
    states: Vec<NodeState>,
    /// Which nodes take a local slot while they run (they move file bytes).
    takes_slot: Vec<bool>,
    /// Running nodes that hold a local slot.
    running: usize,
    limit: usize,
}

impl<'a> Schedule<'a> {
    /// Every node pending; at most `limit` (at least one) of the nodes for which
    /// `takes_slot` is true running at once, and any number of the others.
    pub(crate) fn new(plan: &'a Plan, limit: usize, takes_slot: impl Fn(usize) -> bool) -> Self {
        let count = plan.depends_on.len();
        Self {
            plan,
            states: vec![NodeState::Pending; count],
            takes_slot: (0..count).map(takes_slot).collect(),
            running: 0,
            limit: limit.max(1),
        }
    }

    /// The next pending node to act on, in plan order: one to skip, or one that can start.
    /// Each answer must be acted on (the node's state changed) before asking again.
    pub(crate) fn next(&self, cancelled: bool) -> Option<Next> {
        for &position in &self.plan.order {
            if self.states[position] != NodeState::Pending {
                continue;
            }
            let inputs = &self.plan.depends_on[position];
            let failed = inputs.iter().find(|&&input| {
                matches!(self.states[input], NodeState::Failed | NodeState::Skipped)
            });
            if let Some(&input) = failed {
                return Some(Next::Skip(position, SkipReason::InputDidNotFinish(input)));
            }
            if cancelled {
                return Some(Next::Skip(position, SkipReason::Cancelled));
            }
            let ready = inputs
                .iter()
                .all(|&input| matches!(self.states[input], NodeState::Done(_)));
            if ready && (!self.takes_slot[position] || self.running < self.limit) {
                return Some(Next::Start(position));
            }
        }
        None
    }

    /// The outputs of every done node, by position (`None` for the others).
    pub(crate) fn outputs(&self) -> Vec<Option<&Value>> {
        self.states
            .iter()
            .map(|state| match state {
                NodeState::Done(outputs) => Some(outputs),
                _ => None,
            })
            .collect()
    }

    /// The node started running: it holds a slot until it is done or failed.
    pub(crate) fn running(&mut self, position: usize) {
        self.states[position] = NodeState::Running;
        if self.takes_slot[position] {
            self.running += 1;
        }
    }

    /// The node has its outputs (it ran, or an earlier run's are reused).
    pub(crate) fn done(&mut self, position: usize, outputs: Value) {
        self.leave(position, NodeState::Done(outputs));
    }

    /// The node failed (or was cancelled while running).
    pub(crate) fn failed(&mut self, position: usize) {
        self.leave(position, NodeState::Failed);
    }

    /// The node will not run.
    pub(crate) fn skipped(&mut self, position: usize) {
        self.leave(position, NodeState::Skipped);
    }

    /// Some node is still waiting to start.
    pub(crate) fn has_pending(&self) -> bool {
        self.states.contains(&NodeState::Pending)
    }

    fn leave(&mut self, position: usize, state: NodeState) {
        if self.states[position] == NodeState::Running && self.takes_slot[position] {
            self.running -= 1;
        }
        self.states[position] = state;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;

    /// a → b, and c on its own.
    fn plan() -> Plan {
        Plan {
            depends_on: vec![BTreeSet::new(), BTreeSet::from([0]), BTreeSet::new()],
            order: vec![0, 1, 2],
        }
    }

    #[test]
    fn a_node_starts_when_its_inputs_are_done_and_a_slot_is_free() {
        let plan = plan();
        let mut schedule = Schedule::new(&plan, 1, |_| true);
        assert_eq!(schedule.next(false), Some(Next::Start(0)));
        schedule.running(0);
        assert_eq!(schedule.next(false), None, "one slot, taken");
        schedule.done(0, json!({}));
        assert_eq!(schedule.next(false), Some(Next::Start(1)));
        schedule.running(1);
        schedule.done(1, json!({}));
        assert_eq!(schedule.next(false), Some(Next::Start(2)));
    }

    #[test]
    fn a_failed_input_skips_its_consumers_and_a_cancel_skips_the_rest() {
        let plan = plan();
        let mut schedule = Schedule::new(&plan, 4, |_| true);
        schedule.running(0);
        schedule.failed(0);
        assert_eq!(
            schedule.next(false),
            Some(Next::Skip(1, SkipReason::InputDidNotFinish(0)))
        );
        schedule.skipped(1);
        assert_eq!(
            schedule.next(true),
            Some(Next::Skip(2, SkipReason::Cancelled))
        );
        schedule.skipped(2);
        assert!(!schedule.has_pending());
        assert_eq!(schedule.outputs(), vec![None, None, None]);
    }
}
