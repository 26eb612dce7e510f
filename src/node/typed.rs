//! `TypedNode`: how a node is written — typed input and output structs — and the one adapter
//! that turns it into a registry-ready [`Node`] with JSON Schemas and input checks.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::{Deserialize, DeserializeOwned};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    InputCheck, InputProblem, NodeContext, NodeError, NodeSpec, PortKind, PortKinds, Walls,
};

/// A node written with typed ports. Each field of `Input`/`Output` is a port; its doc comment
/// is the port's description; enums, defaults and ranges live in the types.
///
/// ```
/// use wiro_nodes::node::{NodeContext, NodeError, TypedNode};
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Default)]
/// struct Shout;
///
/// /// What to shout.
/// #[derive(Deserialize, JsonSchema)]
/// struct ShoutIn { /** The text. */ text: String }
///
/// /// The shouted text.
/// #[derive(Serialize, JsonSchema)]
/// struct ShoutOut { /** The text in capitals. */ text: String }
///
/// #[async_trait::async_trait]
/// impl TypedNode for Shout {
///     type Input = ShoutIn;
///     type Output = ShoutOut;
///     const TYPE_ID: &'static str = "example/shout";
///     const TITLE: &'static str = "Shout";
///     const CATEGORY: &'static str = "text";
///     const DESCRIPTION: &'static str = "Turns text into capitals.";
///     async fn run(&self, _: &NodeContext, input: ShoutIn) -> Result<ShoutOut, NodeError> {
///         Ok(ShoutOut { text: input.text.to_uppercase() })
///     }
/// }
/// wiro_nodes::register_node!(Shout);
///
/// let registry = wiro_nodes::node::Registry::from_inventory();
/// assert!(registry.get("example/shout").is_some());
/// ```
#[async_trait]
pub trait TypedNode: Default + Send + Sync + 'static {
    /// The input ports.
    type Input: DeserializeOwned + JsonSchema + Send;
    /// The output ports.
    type Output: Serialize + JsonSchema + Send;
    /// The permanent type id saved in workflows, e.g. `wiro/task.wait`.
    const TYPE_ID: &'static str;
    /// The version of the node's contract.
    const VERSION: u32 = 1;
    /// A short title.
    const TITLE: &'static str;
    /// The palette category.
    const CATEGORY: &'static str;
    /// What the node does.
    const DESCRIPTION: &'static str;
    /// Running it starts a paid task. Such a node reports the task with
    /// [`NodeEvent::TaskStarted`](super::NodeEvent::TaskStarted) the moment it is accepted and
    /// has exactly one `TaskHandle` output port (its `started_task` kind; `nodes::StartedTask`
    /// is the usual output): the executor journals that handle and, after a crash, resumes the
    /// node with exactly that output. Without that port, workflows refuse the node.
    const SPENDS_MONEY: bool = false;
    /// It moves file bytes through this machine (uploads, downloads): engines bound how many
    /// such nodes run at once; waits and API calls need no such bound.
    const TRANSFERS_FILES: bool = false;

    /// Rules beyond the schema, on inputs of which some are not known yet (they come from
    /// other nodes): only the present values are judged. Used when a workflow is validated.
    fn check_partial(_inputs: &Map<String, Value>) -> Vec<InputProblem> {
        Vec::new()
    }

    /// Facts outside the inputs that decide the node's result, such as the size and time of a
    /// file it reads, so that a journal does not reuse a result made from an older file.
    /// `input_dir` is where relative paths are read from.
    fn resume_facts(_input_dir: &std::path::Path, _inputs: &Value) -> Value {
        Value::Null
    }

    /// The local file whose bytes this node sends to the server, when its inputs name one the
    /// walls let it read (an upload's `path`). A paid node that reads this node's output is
    /// journaled by that file's content and name, not by where the bytes went: the same file
    /// copied, touched or spelled another way is the same intent, and is not paid again.
    fn sent_file(_files: &Walls, _inputs: &Value) -> Option<SentFile> {
        None
    }

    /// Checks on literal inputs against what this host lets a node reach (a file to upload
    /// exists, may be read, is what its name says; a URL to fetch may be fetched), run when
    /// a workflow is validated and before a single node runs. A value that comes from another
    /// node is a `{"$from": ...}` object wherever it stands, even inside a list: only the
    /// literal values are judged.
    fn check_local(_files: &Walls, _inputs: &Map<String, Value>) -> Vec<InputProblem> {
        Vec::new()
    }

    /// For a paid node: the model and wire parameters its Run would send, as far as the
    /// literal inputs tell (ports in `linked` come from other nodes), so a host can price a
    /// workflow before paying. `None` when even the model is not known.
    fn priced_run(_inputs: &Map<String, Value>, _linked: &BTreeSet<String>) -> Option<PricedRun> {
        None
    }

    /// For a paid node: the model and the exact parameters its Run sends for this input, so a
    /// host can find the task of a Run whose answer was lost (Task/List).
    fn sent_run(_input: &Self::Input) -> Option<PricedRun> {
        None
    }

    /// Rules on the complete, typed input, checked right before the node runs.
    fn check(_input: &Self::Input) -> Vec<InputProblem> {
        Vec::new()
    }

    /// Does the node's work.
    async fn run(&self, ctx: &NodeContext, input: Self::Input) -> Result<Self::Output, NodeError>;
}

/// What a paid node's Run would send, for pricing it before paying.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedRun {
    /// The model's slug, e.g. `PixVerse/text-to-video-v4`.
    pub model: String,
    /// The parameters known now (the model's defaults stand for the ones left out).
    pub parameters: Map<String, Value>,
    /// Parameters whose values come from other nodes: a price that depends on one is unknown.
    pub unknown: Vec<String>,
    /// The model's published prices, when the node carries them (a catalog model read them
    /// with its parameters): pricing it then needs no request.
    pub published: Option<std::sync::Arc<crate::api::ModelDetail>>,
}

impl PricedRun {
    /// A Run of `model` with the literal `inputs` as parameters; `linked` ports are unknown.
    pub fn literal(model: &str, inputs: &Map<String, Value>, linked: &BTreeSet<String>) -> Self {
        Self {
            model: model.to_owned(),
            parameters: inputs
                .iter()
                .filter(|(port, _)| !linked.contains(*port))
                .map(|(port, value)| (port.clone(), value.clone()))
                .collect(),
            unknown: linked.iter().cloned().collect(),
            published: None,
        }
    }
}

/// A local file a node sends to the server (see [`TypedNode::sent_file`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    /// Where its bytes are read from (the walls' answer: links followed).
    pub path: std::path::PathBuf,
    /// The name the server is given: the file's own, links followed.
    pub name: String,
}

/// A node with its types erased, as engines and the registry hold it.
#[async_trait]
pub trait Node: Send + Sync {
    /// What the node is.
    fn spec(&self) -> &NodeSpec;

    /// Every problem with a node's inputs that can be seen before running: unknown ports,
    /// the schema (types, enums, ranges, required ports) and the node's own rules. Ports in
    /// `linked` get their values from other nodes later: they count as present, unjudged.
    fn check_inputs(
        &self,
        inputs: &Map<String, Value>,
        linked: &BTreeSet<String>,
    ) -> Vec<InputProblem>;

    /// The Run a paid node sends for these complete inputs (see [`TypedNode::sent_run`]).
    fn sent_run(&self, inputs: &Value) -> Option<PricedRun>;

    /// The Run a paid node would send (see [`TypedNode::priced_run`]).
    fn priced_run(
        &self,
        inputs: &Map<String, Value>,
        linked: &BTreeSet<String>,
    ) -> Option<PricedRun>;

    /// Checks of literal inputs against the local machine (see [`TypedNode::check_local`]).
    fn check_local(&self, files: &Walls, inputs: &Map<String, Value>) -> Vec<InputProblem>;

    /// Facts outside the inputs that decide the result (see [`TypedNode::resume_facts`]).
    fn resume_facts(&self, input_dir: &std::path::Path, inputs: &Value) -> Value;

    /// The local file whose bytes the node sends (see [`TypedNode::sent_file`]).
    fn sent_file(&self, _files: &Walls, _inputs: &Value) -> Option<SentFile> {
        None
    }

    /// Runs the node on complete inputs; checks them first, so nothing is sent for bad ones.
    async fn run(&self, ctx: &NodeContext, inputs: Value) -> Result<Value, NodeError>;
}

/// The adapter from a [`TypedNode`] to a [`Node`]. The spec (the port schemas) and the input
/// validator are built the first time they are needed, once: a command that lists one node
/// does not pay for the others, and one that never checks inputs compiles no validator.
pub(crate) struct Typed<T: TypedNode> {
    node: T,
    spec: OnceLock<NodeSpec>,
    check: InputCheck,
}

impl<T: TypedNode> Typed<T> {
    pub(crate) fn new() -> Self {
        Self {
            node: T::default(),
            spec: OnceLock::new(),
            check: InputCheck::default(),
        }
    }
}

/// The spec of a typed node, from its types and constants.
fn typed_spec<T: TypedNode>() -> NodeSpec {
    let inputs = schema_value::<T::Input>();
    let outputs = schema_value::<T::Output>();
    let kinds = PortKinds::declared(&outputs, T::SPENDS_MONEY);
    if T::SPENDS_MONEY && kinds.ports(PortKind::StartedTask).count() != 1 {
        // The executor journals a paid node's task through this port: without it, a crash
        // after the Run would lose a paid task. Such a node is a programming error.
        tracing::error!(
            node = T::TYPE_ID,
            "a node that spends money must have exactly one TaskHandle output"
        );
    }
    NodeSpec {
        type_id: T::TYPE_ID.into(),
        version: T::VERSION,
        title: T::TITLE.into(),
        category: T::CATEGORY.into(),
        description: T::DESCRIPTION.into(),
        spends_money: T::SPENDS_MONEY,
        transfers_files: T::TRANSFERS_FILES,
        inputs,
        outputs,
        kinds,
    }
}

/// The JSON Schema (2020-12) of a type, as a JSON value, in standard keywords and the
/// annotations of our [`vocabulary`](super::vocabulary) only: the `format`s schemars writes for
/// Rust's number types (`uint32`, `double`, ...) become the `minimum` and `maximum` they stand
/// for.
pub fn schema_value<S: JsonSchema>() -> Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .with_transform(schemars::transform::RecursiveTransform(standard_numbers))
        .into_generator()
        .into_root_schema_for::<S>()
        .to_value()
}

/// Replaces the `format` schemars writes for Rust's number types (`uint32`, `uint64`,
/// `double`, ...), which no standard defines and a strict validator (Ajv's default) refuses,
/// with the bounds it stands for: `minimum` / `maximum` where the schema does not set
/// tighter ones already.
fn standard_numbers(schema: &mut schemars::Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let bounds: (Option<i64>, Option<u64>) = match object.get("format").and_then(Value::as_str) {
        Some("uint8") => (Some(0), Some(u64::from(u8::MAX))),
        Some("uint16") => (Some(0), Some(u64::from(u16::MAX))),
        Some("uint32") => (Some(0), Some(u64::from(u32::MAX))),
        Some("uint64" | "uint") => (Some(0), None),
        Some("int8") => (Some(i64::from(i8::MIN)), Some(i8::MAX as u64)),
        Some("int16") => (Some(i64::from(i16::MIN)), Some(i16::MAX as u64)),
        Some("int32") => (Some(i64::from(i32::MIN)), Some(i32::MAX as u64)),
        Some("int64" | "int" | "double" | "float") => (None, None),
        _ => return,
    };
    object.remove("format");
    if let (Some(minimum), false) = (bounds.0, object.contains_key("minimum")) {
        object.insert("minimum".into(), minimum.into());
    }
    if let (Some(maximum), false) = (bounds.1, object.contains_key("maximum")) {
        object.insert("maximum".into(), maximum.into());
    }
}

#[async_trait]
impl<T: TypedNode> Node for Typed<T> {
    fn spec(&self) -> &NodeSpec {
        self.spec.get_or_init(typed_spec::<T>)
    }

    fn check_inputs(
        &self,
        inputs: &Map<String, Value>,
        linked: &BTreeSet<String>,
    ) -> Vec<InputProblem> {
        let (mut problems, literal) = self.check.problems(self.spec(), inputs, linked);
        problems.extend(T::check_partial(&literal));
        problems
    }

    fn check_local(&self, files: &Walls, inputs: &Map<String, Value>) -> Vec<InputProblem> {
        T::check_local(files, inputs)
    }

    fn priced_run(
        &self,
        inputs: &Map<String, Value>,
        linked: &BTreeSet<String>,
    ) -> Option<PricedRun> {
        T::priced_run(inputs, linked)
    }

    fn sent_run(&self, inputs: &Value) -> Option<PricedRun> {
        T::sent_run(&T::Input::deserialize(inputs).ok()?)
    }

    fn resume_facts(&self, input_dir: &std::path::Path, inputs: &Value) -> Value {
        T::resume_facts(input_dir, inputs)
    }

    fn sent_file(&self, files: &Walls, inputs: &Value) -> Option<SentFile> {
        T::sent_file(files, inputs)
    }

    async fn run(&self, ctx: &NodeContext, inputs: Value) -> Result<Value, NodeError> {
        let Value::Object(map) = &inputs else {
            return Err(NodeError::InvalidInputs(vec![InputProblem::new(
                "",
                "type",
                "the inputs must be a JSON object of port names to values",
            )]));
        };
        let problems = self.check_inputs(map, &BTreeSet::new());
        if !problems.is_empty() {
            return Err(NodeError::InvalidInputs(problems));
        }
        let input: T::Input = serde_json::from_value(inputs).map_err(|error| {
            NodeError::InvalidInputs(vec![InputProblem::new("", "type", error.to_string())])
        })?;
        let problems = T::check(&input);
        if !problems.is_empty() {
            return Err(NodeError::InvalidInputs(problems));
        }
        let output = self.node.run(ctx, input).await?;
        serde_json::to_value(output).map_err(|error| NodeError::Outputs(error.to_string()))
    }
}
