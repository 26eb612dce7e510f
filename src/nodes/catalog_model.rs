//! `CatalogNode`: the one paid node type behind every model, built-in (PixVerse v4) or from a
//! catalog file. Its input schema comes from the model's published parameters and its rules;
//! it checks inputs against both, converts typed inputs to the Run body with the catalog's
//! wire mapping, prices the Run from the model's own price rules, and returns the task handle
//! as soon as the Run is accepted. A catalog is a [`NodeSource`]; the built-in models are
//! registered with `inventory` like every typed node.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::support::{submit_run, StartedTask};
use crate::models::builtin;
use crate::models::catalog::{off_step, Catalog, CatalogModel};
use crate::models::file_kind::FILE_KIND_MADE_KEY;
use crate::node::{
    schema_value, InputCheck, InputProblem, Node, NodeContext, NodeError, NodeRegistration,
    NodeSource, NodeSpec, PortKinds, PricedRun, Walls,
};

/// A catalog model as a node type.
#[derive(Debug)]
pub struct CatalogNode {
    model: Arc<CatalogModel>,
    spec: OnceLock<NodeSpec>,
    check: InputCheck,
}

impl CatalogNode {
    /// The node of `model`; its spec and validator are built when first needed.
    pub fn new(model: Arc<CatalogModel>) -> Self {
        Self {
            model,
            spec: OnceLock::new(),
            check: InputCheck::default(),
        }
    }

    /// The model it runs.
    pub fn model(&self) -> &CatalogModel {
        &self.model
    }

    fn build_spec(&self) -> NodeSpec {
        let model = &self.model;
        // Every catalog node has the same output: generated once, not per model.
        static OUTPUTS: OnceLock<(Value, PortKinds)> = OnceLock::new();
        let (mut outputs, kinds) = OUTPUTS
            .get_or_init(|| {
                let outputs = schema_value::<StartedTask>();
                let kinds = PortKinds::declared(&outputs, true);
                (outputs, kinds)
            })
            .clone();
        if let Some(kind) = model.made_kind() {
            outputs["properties"]["task"][FILE_KIND_MADE_KEY] = kind.into();
        }
        let mut description = model.description.trim().to_owned();
        if !description.is_empty() && !description.ends_with('.') {
            description.push('.');
        }
        if !description.is_empty() {
            description.push(' ');
        }
        let source = if model.is_built_in() {
            "built in".to_owned()
        } else {
            format!("from the catalog, read {}", model.read_at)
        };
        description.push_str(&format!(
            "Starts Run/{} ({}; {source}) and returns the task handle as soon as it is accepted. Costs money; never sent twice.",
            model.run_slug(),
            model.output_kind(),
        ));
        if let Some(reason) = model.untyped_because() {
            description.push_str(&format!(
                " Cannot run as a typed node: {reason}; use wiro/model.run."
            ));
        }
        NodeSpec {
            type_id: model.type_id.clone().into(),
            version: 1,
            title: model.display_title().into(),
            category: "models".into(),
            description: description.into(),
            spends_money: true,
            transfers_files: false,
            inputs: model.input_schema(),
            kinds,
            outputs,
        }
    }

    /// The Run for these inputs: the model's run slug and the wire body.
    fn run_of(&self, inputs: &Map<String, Value>, linked: &BTreeSet<String>) -> PricedRun {
        PricedRun {
            model: self.model.run_slug(),
            parameters: self.model.to_wire(inputs),
            unknown: linked.iter().cloned().collect(),
            // A built-in model's prices are the server's: its file's are the emulator's list.
            published: (!self.model.is_built_in()).then(|| self.model.detail().clone()),
        }
    }
}

#[async_trait]
impl Node for CatalogNode {
    fn spec(&self) -> &NodeSpec {
        self.spec.get_or_init(|| self.build_spec())
    }

    fn check_inputs(
        &self,
        inputs: &Map<String, Value>,
        linked: &BTreeSet<String>,
    ) -> Vec<InputProblem> {
        if let Some(reason) = self.model.untyped_because() {
            return vec![InputProblem::new(
                "",
                "catalog/untyped",
                format!(
                    "{} cannot run as a typed node: {reason}; run it with wiro/model.run",
                    self.model.type_id
                ),
            )];
        }
        let (mut problems, literal) = self.check.problems(self.spec(), inputs, linked);
        problems.extend(
            off_step(self.model.fields(), &literal)
                .into_iter()
                .chain(self.model.rule_problems(&literal, linked))
                .map(InputProblem::from),
        );
        problems
    }

    fn sent_run(&self, inputs: &Value) -> Option<PricedRun> {
        Some(self.run_of(inputs.as_object()?, &BTreeSet::new()))
    }

    fn priced_run(
        &self,
        inputs: &Map<String, Value>,
        linked: &BTreeSet<String>,
    ) -> Option<PricedRun> {
        let literal: Map<String, Value> = inputs
            .iter()
            .filter(|(port, _)| !linked.contains(*port))
            .map(|(port, value)| (port.clone(), value.clone()))
            .collect();
        Some(self.run_of(&literal, linked))
    }

    fn check_local(&self, _files: &Walls, _inputs: &Map<String, Value>) -> Vec<InputProblem> {
        // File parameters are URLs that Wiro fetches, never this machine.
        Vec::new()
    }

    fn resume_facts(&self, _input_dir: &std::path::Path, _inputs: &Value) -> Value {
        Value::Null
    }

    async fn run(&self, ctx: &NodeContext, inputs: Value) -> Result<Value, NodeError> {
        let Value::Object(inputs) = inputs else {
            return Err(NodeError::InvalidInputs(vec![InputProblem::new(
                "",
                "type",
                "the inputs must be a JSON object of port names to values",
            )]));
        };
        let problems = self.check_inputs(&inputs, &BTreeSet::new());
        if !problems.is_empty() {
            return Err(NodeError::InvalidInputs(problems));
        }
        let body = self.model.to_wire(&inputs);
        let started = submit_run(ctx, &self.model.run_slug(), &body).await?;
        serde_json::to_value(started).map_err(|error| NodeError::Outputs(error.to_string()))
    }
}

impl NodeSource for Catalog {
    fn source_name(&self) -> String {
        match &self.path {
            Some(path) => format!("catalog {}", path.display()),
            None => "catalog".to_owned(),
        }
    }

    /// Every model that publishes its parameters (one that publishes none stays reachable
    /// through `wiro/model.run`).
    fn source_nodes(&self) -> Vec<(String, Arc<dyn Node>)> {
        self.models
            .iter()
            .filter(|model| !model.publishes_no_parameters())
            .map(|model| {
                let node: Arc<dyn Node> = Arc::new(CatalogNode::new(model.clone()));
                (model.type_id.clone(), node)
            })
            .collect()
    }
}

/// The built-in models' nodes ([`builtin`]).
fn built_in_nodes() -> Vec<(String, Arc<dyn Node>)> {
    builtin::catalog().source_nodes()
}

/// The built-in models, registered like every typed node.
pub(super) const BUILT_IN: NodeRegistration =
    NodeRegistration::source("built-in models", built_in_nodes);

inventory::submit! { BUILT_IN }
