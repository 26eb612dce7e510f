//! Which node acts next: each node's state in a run, and the rule that a node starts when its
//! inputs are done and a slot is free, and is skipped when an input failed or the run stops.
//! Free of I/O, so the rule can be read (and tested) on its own.

use std::collections::BTreeSet;

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

/// The states of a run's nodes, and how many run at once. Every answer costs a few set
/// operations, not a scan of the workflow: a run of thousands of nodes asks once per event.
#[derive(Debug)]
pub(crate) struct Schedule<'a> {
    plan: &'a Plan,
    states: Vec<NodeState>,
    /// The kind of slot each node takes while it runs, if any (an index into `limits`).
    slot_of: Vec<Option<usize>>,
    /// Running nodes holding a slot of each kind.
    running: Vec<usize>,
    /// How many slots of each kind there are.
    limits: Vec<usize>,
    /// Each node's place in `plan.order`: the sets below hold places, so their first entry is
    /// the node that comes first in plan order.
    place: Vec<usize>,
    /// For each node, the nodes that take its outputs.
    consumers: Vec<Vec<usize>>,
    /// For each node, how many of its inputs are not done yet.
    inputs_not_done: Vec<usize>,
    /// Pending nodes.
    pending: BTreeSet<usize>,
    /// Pending nodes whose inputs are all done, which take a slot of each kind when they run.
    ready_for_slot: Vec<BTreeSet<usize>>,
    /// Pending nodes whose inputs are all done, which take no slot.
    ready: BTreeSet<usize>,
    /// Pending nodes with an input that failed or was skipped.
    blocked: BTreeSet<usize>,
}

impl<'a> Schedule<'a> {
    /// Every node pending; at most `limit` (at least one) of the nodes for which
    /// `takes_slot` is true running at once, and any number of the others.
    pub(crate) fn new(plan: &'a Plan, limit: usize, takes_slot: impl Fn(usize) -> bool) -> Self {
        Self::with_slots(plan, vec![limit], |position| {
            takes_slot(position).then_some(0)
        })
    }

    /// Every node pending; slots of several kinds: a node for which `slot_of` gives `Some(k)`
    /// waits for one of the `limits[k]` (at least one) slots of kind `k`; the others run at
    /// once. (A Temporal workflow bounds file movers with one kind, and lets paid Runs leave
    /// one at a time with another.)
    pub(crate) fn with_slots(
        plan: &'a Plan,
        limits: Vec<usize>,
        slot_of: impl Fn(usize) -> Option<usize>,
    ) -> Self {
        let count = plan.depends_on.len();
        let mut place = vec![0; count];
        for (at, &position) in plan.order.iter().enumerate() {
            place[position] = at;
        }
        let mut consumers = vec![Vec::new(); count];
        for (position, inputs) in plan.depends_on.iter().enumerate() {
            for &input in inputs {
                consumers[input].push(position);
            }
        }
        let slot_of: Vec<Option<usize>> = (0..count)
            .map(|position| slot_of(position).filter(|kind| *kind < limits.len()))
            .collect();
        let mut schedule = Self {
            plan,
            states: vec![NodeState::Pending; count],
            place,
            consumers,
            inputs_not_done: plan.depends_on.iter().map(BTreeSet::len).collect(),
            pending: (0..plan.order.len()).collect(),
            ready_for_slot: vec![BTreeSet::new(); limits.len()],
            ready: BTreeSet::new(),
            blocked: BTreeSet::new(),
            slot_of,
            running: vec![0; limits.len()],
            limits: limits.into_iter().map(|limit| limit.max(1)).collect(),
        };
        for position in 0..count {
            if schedule.inputs_not_done[position] == 0 {
                schedule.make_ready(position);
            }
        }
        schedule
    }

    /// The next pending node to act on, in plan order: one to skip, or one that can start.
    /// Each answer must be acted on (the node's state changed) before asking again.
    pub(crate) fn next(&self, cancelled: bool) -> Option<Next> {
        let first = if cancelled {
            // Every pending node is skipped, in plan order.
            self.pending.first().copied()
        } else {
            let with_free_slot = self
                .ready_for_slot
                .iter()
                .enumerate()
                .filter(|(kind, _)| self.running[*kind] < self.limits[*kind])
                .filter_map(|(_, ready)| ready.first().copied());
            let startable = self
                .ready
                .first()
                .copied()
                .into_iter()
                .chain(with_free_slot);
            startable.chain(self.blocked.first().copied()).min()
        }?;
        let position = self.plan.order[first];
        let failed = self.plan.depends_on[position]
            .iter()
            .find(|&&input| matches!(self.states[input], NodeState::Failed | NodeState::Skipped));
        Some(match failed {
            Some(&input) => Next::Skip(position, SkipReason::InputDidNotFinish(input)),
            None if cancelled => Next::Skip(position, SkipReason::Cancelled),
            None => Next::Start(position),
        })
    }

    /// The nodes the node at `position` takes inputs from.
    pub(crate) fn inputs_of(&self, position: usize) -> &'a BTreeSet<usize> {
        &self.plan.depends_on[position]
    }

    /// The outputs of the node at `position`, once it is done.
    pub(crate) fn output(&self, position: usize) -> Option<&Value> {
        match &self.states[position] {
            NodeState::Done(outputs) => Some(outputs),
            _ => None,
        }
    }

    /// Every done node's outputs, by position, as the run leaves them.
    pub(crate) fn into_outputs(self) -> impl Iterator<Item = (usize, Value)> {
        self.states
            .into_iter()
            .enumerate()
            .filter_map(|(position, state)| match state {
                NodeState::Done(outputs) => Some((position, outputs)),
                _ => None,
            })
    }

    /// The node started running: it holds a slot until it is done or failed.
    pub(crate) fn running(&mut self, position: usize) {
        self.forget_pending(position);
        self.states[position] = NodeState::Running;
        if let Some(kind) = self.slot_of[position] {
            self.running[kind] += 1;
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
        !self.pending.is_empty()
    }

    fn leave(&mut self, position: usize, state: NodeState) {
        if let (NodeState::Running, Some(kind)) = (&self.states[position], self.slot_of[position]) {
            self.running[kind] -= 1;
        }
        self.forget_pending(position);
        let finished = matches!(state, NodeState::Done(_));
        self.states[position] = state;
        for at in 0..self.consumers[position].len() {
            let consumer = self.consumers[position][at];
            if self.states[consumer] != NodeState::Pending {
                continue;
            }
            if finished {
                self.inputs_not_done[consumer] -= 1;
                if self.inputs_not_done[consumer] == 0 {
                    self.make_ready(consumer);
                }
            } else {
                self.blocked.insert(self.place[consumer]);
            }
        }
    }

    /// A pending node's inputs are all done: it may start (unless another input failed,
    /// which cannot be: a failed input is never done).
    fn make_ready(&mut self, position: usize) {
        let place = self.place[position];
        match self.slot_of[position] {
            Some(kind) => self.ready_for_slot[kind].insert(place),
            None => self.ready.insert(place),
        };
    }

    /// The node is no longer pending: out of every set of pending nodes.
    fn forget_pending(&mut self, position: usize) {
        let place = self.place[position];
        if self.pending.remove(&place) {
            self.ready.remove(&place);
            for ready in &mut self.ready_for_slot {
                ready.remove(&place);
            }
            self.blocked.remove(&place);
        }
    }
}

#[cfg(test)]
mod tests {
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
        assert!((0..3).all(|position| schedule.output(position).is_none()));
    }

    /// The rule as first written, a scan in plan order: the schedule must answer as it does.
    fn scanned(schedule: &Schedule, cancelled: bool) -> Option<Next> {
        for &position in &schedule.plan.order {
            if schedule.states[position] != NodeState::Pending {
                continue;
            }
            let inputs = &schedule.plan.depends_on[position];
            let failed = inputs.iter().find(|&&input| {
                matches!(
                    schedule.states[input],
                    NodeState::Failed | NodeState::Skipped
                )
            });
            if let Some(&input) = failed {
                return Some(Next::Skip(position, SkipReason::InputDidNotFinish(input)));
            }
            if cancelled {
                return Some(Next::Skip(position, SkipReason::Cancelled));
            }
            let ready = inputs
                .iter()
                .all(|&input| matches!(schedule.states[input], NodeState::Done(_)));
            let slot_free = schedule.slot_of[position]
                .is_none_or(|kind| schedule.running[kind] < schedule.limits[kind]);
            if ready && slot_free {
                return Some(Next::Start(position));
            }
        }
        None
    }

    #[test]
    fn random_runs_are_scheduled_as_a_scan_in_plan_order_would() {
        // A small linear congruential generator: the same graphs and outcomes every time.
        let mut seed: u64 = 12345;
        let mut draw = move |below: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as usize) % below
        };
        for _ in 0..300 {
            let count = 1 + draw(30);
            // Inputs come from earlier nodes; the plan order is a reversed-then-sorted
            // topological order, so it differs from the workflow's.
            let depends_on: Vec<BTreeSet<usize>> = (0..count)
                .map(|node| {
                    (0..draw(3))
                        .filter(|_| node > 0)
                        .map(|_| draw(node))
                        .collect()
                })
                .collect();
            let mut order: Vec<usize> = (0..count).collect();
            order.sort_by_key(|&node| (depth(&depends_on, node), count - node));
            let plan = Plan { depends_on, order };
            let slots: Vec<bool> = (0..count).map(|_| draw(2) == 0).collect();
            let mut schedule = Schedule::new(&plan, 1 + draw(3), |node| slots[node]);
            let mut running: Vec<usize> = Vec::new();
            let cancel_after = draw(4 * count);
            for step in 0.. {
                let cancelled = step >= cancel_after;
                let next = schedule.next(cancelled);
                assert_eq!(next, scanned(&schedule, cancelled));
                match next {
                    Some(Next::Start(node)) => {
                        schedule.running(node);
                        running.push(node);
                    }
                    Some(Next::Skip(node, _)) => schedule.skipped(node),
                    None if running.is_empty() => break,
                    None => {
                        let node = running.swap_remove(draw(running.len()));
                        if draw(4) == 0 {
                            schedule.failed(node);
                        } else {
                            schedule.done(node, json!({ "node": node }));
                        }
                    }
                }
            }
            assert!(!schedule.has_pending());
        }
    }

    /// The longest chain of inputs below `node`.
    fn depth(depends_on: &[BTreeSet<usize>], node: usize) -> usize {
        depends_on[node]
            .iter()
            .map(|&input| 1 + depth(depends_on, input))
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn slots_of_two_kinds_bound_their_own_nodes_only() {
        // 0, 1 and 2 are independent: 0 and 1 take kind 1 (one at a time), 2 kind 0.
        let plan = Plan {
            depends_on: vec![BTreeSet::new(); 3],
            order: vec![0, 1, 2],
        };
        let mut schedule =
            Schedule::with_slots(&plan, vec![4, 1], |p| Some(if p < 2 { 1 } else { 0 }));
        assert_eq!(schedule.next(false), Some(Next::Start(0)));
        schedule.running(0);
        assert_eq!(
            schedule.next(false),
            Some(Next::Start(2)),
            "1 waits for 0's slot, 2 does not"
        );
        schedule.running(2);
        assert_eq!(schedule.next(false), None);
        schedule.done(0, json!({}));
        assert_eq!(schedule.next(false), Some(Next::Start(1)));
    }
}
