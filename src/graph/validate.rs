//! Whole-workflow validation, before any request: every problem at once, each with its node
//! id and input path. An invalid workflow spends nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use super::{Reference, Workflow, WorkflowNode, WORKFLOW_VERSION};
use crate::node::{InputProblem, NodeSpec, PortKind, PortType, Registry, Walls};

/// One thing wrong with a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkflowProblem {
    /// The node's id, when the problem is in a node.
    pub node: Option<String>,
    /// The input port and path inside it, e.g. `quality` or `task`.
    pub path: String,
    /// The rule, as a stable id (`unknown-type`, `required`, `pixverse/1080p-max-5s`, ...).
    pub rule: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl WorkflowProblem {
    pub(super) fn new(node: Option<&str>, path: &str, rule: &str, message: String) -> Self {
        Self {
            node: node.map(str::to_owned),
            path: path.to_owned(),
            rule: rule.to_owned(),
            message,
        }
    }

    /// A node's input problem, placed at that node.
    fn of_input(node: &str, problem: InputProblem) -> Self {
        Self::new(Some(node), &problem.path, &problem.rule, problem.message)
    }
}

impl fmt::Display for WorkflowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.node, self.path.is_empty()) {
            (Some(node), false) => write!(f, "node {node:?}, input {:?}: ", self.path)?,
            (Some(node), true) => write!(f, "node {node:?}: ")?,
            (None, false) => write!(f, "{}: ", self.path)?,
            (None, true) => {}
        }
        write!(f, "{} [{}]", self.message, self.rule)
    }
}

/// A valid workflow's run order: which nodes each node waits for.
#[derive(Debug, Clone)]
pub struct Plan {
    /// For each node (by index in the workflow), the nodes it takes inputs from.
    pub depends_on: Vec<BTreeSet<usize>>,
    /// An order in which every node comes after those it depends on.
    pub order: Vec<usize>,
}

/// Everything [`validate`] checks, plus what needs the local machine: the files upload nodes
/// would read exist, may be read (`files.access`), and are what their names say. Every
/// problem at once; nothing is sent.
pub fn validate_for_run(
    workflow: &Workflow,
    registry: &Registry,
    files: &Walls,
) -> Result<Plan, Vec<WorkflowProblem>> {
    let structural = validate(workflow, registry);
    let mut problems = Vec::new();
    for node in &workflow.nodes {
        let Some(target) = registry.get(&node.type_id) else {
            continue;
        };
        for problem in target.check_local(files, &node.inputs) {
            problems.push(WorkflowProblem::of_input(&node.id, problem));
        }
    }
    match structural {
        Ok(plan) if problems.is_empty() => Ok(plan),
        Ok(_) => Err(problems),
        Err(mut first) => {
            first.extend(problems);
            Err(first)
        }
    }
}

/// Checks the whole workflow: format version, node ids, node types, references and their
/// ports, edge types, each node's literal inputs (schema and rules), missing inputs, cycles.
pub fn validate(workflow: &Workflow, registry: &Registry) -> Result<Plan, Vec<WorkflowProblem>> {
    let mut problems = Vec::new();
    check_document(workflow, &mut problems);
    let index = index_node_ids(workflow, &mut problems);
    let depends_on: Vec<BTreeSet<usize>> = (0..workflow.nodes.len())
        .map(|position| check_node(workflow, registry, &index, position, &mut problems))
        .collect();
    let order = run_order(workflow, &depends_on, &mut problems);
    if problems.is_empty() {
        Ok(Plan { depends_on, order })
    } else {
        Err(problems)
    }
}

/// The document as a whole: a format version this crate reads, and at least one node.
fn check_document(workflow: &Workflow, problems: &mut Vec<WorkflowProblem>) {
    if workflow.version != WORKFLOW_VERSION {
        problems.push(WorkflowProblem::new(
            None,
            "version",
            "version",
            format!(
                "format version {} is not supported; use {WORKFLOW_VERSION}",
                workflow.version
            ),
        ));
    }
    if workflow.nodes.is_empty() {
        problems.push(WorkflowProblem::new(
            None,
            "nodes",
            "not-empty",
            "the workflow has no nodes".into(),
        ));
    }
}

/// Where each node id sits in the workflow, for references to find; reports ids that are
/// malformed or used twice (a repeated id keeps its last position).
fn index_node_ids<'w>(
    workflow: &'w Workflow,
    problems: &mut Vec<WorkflowProblem>,
) -> BTreeMap<&'w str, usize> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (position, node) in workflow.nodes.iter().enumerate() {
        let id_ok = !node.id.is_empty()
            && node
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !id_ok {
            problems.push(WorkflowProblem::new(
                Some(&node.id),
                "",
                "node-id",
                "a node id must be letters, digits, '-' or '_' (and not empty)".into(),
            ));
        }
        if index.insert(&node.id, position).is_some() {
            problems.push(WorkflowProblem::new(
                Some(&node.id),
                "",
                "unique-id",
                "two nodes have this id".into(),
            ));
        }
    }
    index
}

/// One node's problems, in the order they are listed: its type and contract, its references
/// and the edges they make, then its literal inputs (missing ones among them). Returns the
/// nodes it takes inputs from.
fn check_node(
    workflow: &Workflow,
    registry: &Registry,
    index: &BTreeMap<&str, usize>,
    position: usize,
    problems: &mut Vec<WorkflowProblem>,
) -> BTreeSet<usize> {
    let node = &workflow.nodes[position];
    let Some(target) = registry.get(&node.type_id) else {
        problems.push(unknown_type(node, registry));
        // Without a spec its references and inputs cannot be judged.
        return BTreeSet::new();
    };
    check_node_contract(node, target.spec(), problems);
    let depends_on = check_references(workflow, registry, index, position, target.spec(), problems);
    for problem in target.check_inputs(&node.inputs, &node.linked_ports()) {
        problems.push(WorkflowProblem::of_input(&node.id, problem));
    }
    depends_on
}

/// A node whose type the registry does not hold, naming the types it does.
fn unknown_type(node: &WorkflowNode, registry: &Registry) -> WorkflowProblem {
    WorkflowProblem::new(
        Some(&node.id),
        "",
        "unknown-type",
        format!(
            "unknown node type {:?}; known types: {}",
            node.type_id,
            registry.type_ids().collect::<Vec<_>>().join(", ")
        ),
    )
}

/// A node that spends money must declare exactly one task-handle output, the place the
/// journal records the task it starts.
fn check_node_contract(node: &WorkflowNode, spec: &NodeSpec, problems: &mut Vec<WorkflowProblem>) {
    if spec.spends_money && spec.kinds.ports(PortKind::StartedTask).count() != 1 {
        problems.push(WorkflowProblem::new(
            Some(&node.id),
            "",
            "node-contract",
            format!(
                "{} spends money but does not declare exactly one TaskHandle output, so the task it starts could not be journaled; it is not run",
                spec.type_id
            ),
        ));
    }
}

/// The node's references, port by port: each well-formed, to another node in the workflow,
/// and fitting the input it feeds. Returns the nodes they refer to.
fn check_references(
    workflow: &Workflow,
    registry: &Registry,
    index: &BTreeMap<&str, usize>,
    position: usize,
    spec: &NodeSpec,
    problems: &mut Vec<WorkflowProblem>,
) -> BTreeSet<usize> {
    let node = &workflow.nodes[position];
    let here = Some(node.id.as_str());
    let mut depends_on = BTreeSet::new();
    let made_by = |task: &Reference| {
        let maker = &workflow.nodes[*index.get(task.node.as_str())?];
        super::file_kinds::made_by(maker, task, registry)
    };
    for (port, reference) in node.references() {
        let reference = match reference {
            Ok(reference) => reference,
            Err(message) => {
                problems.push(WorkflowProblem::new(here, &port, "reference", message));
                continue;
            }
        };
        let Some(&source_position) = index.get(reference.node.as_str()) else {
            problems.push(WorkflowProblem::new(
                here,
                &port,
                "reference",
                format!(
                    "{reference} refers to node {:?}, which is not in the workflow",
                    reference.node
                ),
            ));
            continue;
        };
        if source_position == position {
            problems.push(WorkflowProblem::new(
                here,
                &port,
                "cycle",
                format!("{reference} refers to the node itself"),
            ));
            continue;
        }
        depends_on.insert(source_position);
        let source = &workflow.nodes[source_position];
        let Some(source_node) = registry.get(&source.type_id) else {
            continue; // its unknown type is reported at its own node
        };
        check_edge(
            problems,
            here,
            &port,
            &reference,
            source_node.spec(),
            spec,
            node,
        );
        super::file_kinds::check_file_kind(
            problems,
            (source, source_node.spec()),
            &reference,
            (node, spec),
            (&port, &made_by),
        );
    }
    depends_on
}

/// The order the nodes run in; when the references form a cycle, every node on or behind
/// it is reported and the order is empty.
fn run_order(
    workflow: &Workflow,
    depends_on: &[BTreeSet<usize>],
    problems: &mut Vec<WorkflowProblem>,
) -> Vec<usize> {
    match topological_order(depends_on) {
        Ok(order) => order,
        Err(in_cycle) => {
            let names: Vec<&str> = in_cycle
                .iter()
                .map(|&i| workflow.nodes[i].id.as_str())
                .collect();
            for &position in &in_cycle {
                problems.push(WorkflowProblem::new(
                    Some(&workflow.nodes[position].id),
                    "",
                    "cycle",
                    format!("the references form a cycle among: {}", names.join(", ")),
                ));
            }
            Vec::new()
        }
    }
}

/// Checks that the referenced output exists and fits the input it feeds.
fn check_edge(
    problems: &mut Vec<WorkflowProblem>,
    here: Option<&str>,
    port: &str,
    reference: &Reference,
    source: &NodeSpec,
    target: &NodeSpec,
    node: &WorkflowNode,
) {
    let Some(given) = PortType::of(&source.outputs, &reference.port, &reference.path) else {
        let what = if source.output_ports().contains(&reference.port.as_str()) {
            format!(
                "{} has no field {:?} in output {:?}",
                source.type_id,
                reference.path.join("."),
                reference.port
            )
        } else {
            format!(
                "{} has no output {:?}; its outputs are: {}",
                source.type_id,
                reference.port,
                source.output_ports().join(", ")
            )
        };
        problems.push(WorkflowProblem::new(
            here,
            port,
            "reference",
            format!("{reference}: {what}"),
        ));
        return;
    };
    // Only a reference that is the whole port value is type-checked against the port; one
    // nested in a literal object is judged when the node runs.
    if !is_whole_port(node, port) {
        return;
    }
    if let Some(wanted) = PortType::of(&target.inputs, port, &[]) {
        if !given.fits(&wanted) {
            problems.push(WorkflowProblem::new(
                here,
                port,
                "edge-type",
                format!(
                    "{reference} gives {given}, but input {port:?} of {} takes {wanted}",
                    target.type_id
                ),
            ));
        }
    }
}

/// Whether the input `port` of `node` is a reference and nothing else.
fn is_whole_port(node: &WorkflowNode, port: &str) -> bool {
    node.inputs
        .get(port)
        .and_then(|value| value.as_object())
        .and_then(super::workflow::reference_text)
        .is_some()
}

/// Kahn's algorithm; `Err` holds the nodes on or behind a cycle.
fn topological_order(depends_on: &[BTreeSet<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let mut waiting: Vec<usize> = depends_on.iter().map(BTreeSet::len).collect();
    // The first ready node in the document goes first: chains and a table's rows start in
    // their written order.
    let mut ready: BTreeSet<usize> = (0..depends_on.len()).filter(|&i| waiting[i] == 0).collect();
    let mut consumers = vec![Vec::new(); depends_on.len()];
    for (node, inputs) in depends_on.iter().enumerate() {
        for &input in inputs {
            consumers[input].push(node);
        }
    }
    let mut order = Vec::with_capacity(depends_on.len());
    while let Some(node) = ready.pop_first() {
        order.push(node);
        for &other in &consumers[node] {
            waiting[other] -= 1;
            if waiting[other] == 0 {
                ready.insert(other);
            }
        }
    }
    if order.len() == depends_on.len() {
        Ok(order)
    } else {
        let mut placed = vec![false; depends_on.len()];
        for &node in &order {
            placed[node] = true;
        }
        Err((0..depends_on.len()).filter(|&i| !placed[i]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_chains_run_in_their_written_order() {
        // Three chains of two: 0 → 1, 2 → 3, 4 → 5.
        let depends_on: Vec<BTreeSet<usize>> = (0..6)
            .map(|node| match node % 2 {
                1 => BTreeSet::from([node - 1]),
                _ => BTreeSet::new(),
            })
            .collect();
        assert_eq!(topological_order(&depends_on), Ok(vec![0, 1, 2, 3, 4, 5]));
    }
}
