//! The registry: node types register themselves with `inventory`; engines look them up by id.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::typed::Typed;
use super::{Node, NodeSpec, TypedNode};

/// A registration of node types: one typed node, or a set of nodes described by data and
/// built into the program (the built-in models, [`crate::models::builtin`]).
///
/// Submitted with [`register_node!`](crate::register_node); also returned by
/// [`crate::nodes::all`] for targets where `inventory` cannot work.
pub struct NodeRegistration {
    nodes: Registered,
}

enum Registered {
    /// One typed node.
    Typed {
        type_id: &'static str,
        build: fn() -> Arc<dyn Node>,
    },
    /// Nodes described by data, each with its id.
    Source {
        name: &'static str,
        nodes: SourceNodes,
    },
}

/// What a source registration builds: every node with its type id.
pub type SourceNodes = fn() -> Vec<(String, Arc<dyn Node>)>;

fn build_typed<T: TypedNode>() -> Arc<dyn Node> {
    Arc::new(Typed::<T>::new())
}

impl NodeRegistration {
    /// The registration of a typed node.
    pub const fn of<T: TypedNode>() -> Self {
        Self {
            nodes: Registered::Typed {
                type_id: T::TYPE_ID,
                build: build_typed::<T>,
            },
        }
    }

    /// The registration of nodes described by data built into the program, such as the
    /// built-in models; `nodes` must be cheap (see [`NodeSource`]). A typed node of the same
    /// id wins over one of these.
    pub const fn source(name: &'static str, nodes: SourceNodes) -> Self {
        Self {
            nodes: Registered::Source { name, nodes },
        }
    }

    /// Fresh instances of the node types, with their ids.
    pub fn build(&self) -> Vec<(Cow<'static, str>, Arc<dyn Node>)> {
        match &self.nodes {
            Registered::Typed { type_id, build } => vec![(Cow::Borrowed(*type_id), build())],
            Registered::Source { nodes, .. } => nodes()
                .into_iter()
                .map(|(id, node)| (Cow::Owned(id), node))
                .collect(),
        }
    }
}

impl std::fmt::Debug for NodeRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.nodes {
            Registered::Typed { type_id, .. } => f
                .debug_struct("NodeRegistration")
                .field("type_id", type_id)
                .finish(),
            Registered::Source { name, .. } => f
                .debug_struct("NodeRegistration")
                .field("source", name)
                .finish(),
        }
    }
}

inventory::collect!(NodeRegistration);

/// Registers a [`TypedNode`] so that [`Registry::from_inventory`] finds it.
#[macro_export]
macro_rules! register_node {
    ($node:ty) => {
        $crate::inventory::submit! { $crate::node::NodeRegistration::of::<$node>() }
    };
}

/// Where node types come from besides `inventory`: a set of nodes described by data, such as
/// the model catalog ([`crate::models::catalog::Catalog`]). A source hands out each node with
/// its id; building a node must be cheap (its spec and validator are built when first asked
/// for), because a registry holds every node of every source.
pub trait NodeSource {
    /// What the source is, for logs: `catalog wiro-catalog.json`.
    fn source_name(&self) -> String;

    /// Every node of the source, with its type id.
    fn source_nodes(&self) -> Vec<(String, Arc<dyn Node>)>;
}

/// Node types by id, built once.
///
/// # Where node types come from
///
/// A registry is built from **`inventory`** (every [`TypedNode`] linked into the program and
/// registered with [`register_node!`](crate::register_node), and the node types built into it
/// as data: the built-in models, such as PixVerse v4 with its cross-field rules), then
/// **sources** are added with [`Registry::with_source`]: node types described by data a user
/// brings, such as a catalog file. A type id is never served twice: an id already present
/// wins (so a built-in model wins over a catalog file's entry of the same model), and the
/// skipped entry is logged. Every host reads the one registry, so a catalog model is a node like any other:
/// no host has code for where a node came from.
#[derive(Clone, Default)]
pub struct Registry {
    nodes: BTreeMap<Cow<'static, str>, Arc<dyn Node>>,
}

impl Registry {
    /// Every node type linked into the program (this crate's and any other crate's).
    pub fn from_inventory() -> Self {
        Self::from_registrations(inventory::iter::<NodeRegistration>)
    }

    /// The given node types: typed nodes first, then the sources' (the first of two with one
    /// id wins, so a typed node wins over a source's entry).
    pub fn from_registrations<'a>(
        registrations: impl IntoIterator<Item = &'a NodeRegistration>,
    ) -> Self {
        let (typed, sources): (Vec<_>, Vec<_>) = registrations
            .into_iter()
            .partition(|registration| matches!(registration.nodes, Registered::Typed { .. }));
        let mut nodes = BTreeMap::new();
        for (type_id, node) in typed
            .into_iter()
            .chain(sources)
            .flat_map(NodeRegistration::build)
        {
            if nodes.contains_key(&type_id) {
                tracing::warn!(%type_id, "node type registered twice; keeping the first");
                continue;
            }
            nodes.insert(type_id, node);
        }
        Self { nodes }
    }

    /// This registry plus the nodes of `source` whose ids it does not hold yet.
    pub fn with_source(mut self, source: &dyn NodeSource) -> Self {
        for (type_id, node) in source.source_nodes() {
            if self.nodes.contains_key(type_id.as_str()) {
                tracing::debug!(
                    type_id,
                    source = source.source_name(),
                    "a registered node type wins over the source's entry"
                );
                continue;
            }
            self.nodes.insert(Cow::Owned(type_id), node);
        }
        self
    }

    /// The node types that `keep` accepts, by id.
    pub fn filtered(&self, keep: impl Fn(&str) -> bool) -> Self {
        Self {
            nodes: self
                .nodes
                .iter()
                .filter(|(id, _)| keep(id))
                .map(|(id, node)| (id.clone(), node.clone()))
                .collect(),
        }
    }

    /// Every node type's id, in order.
    pub fn type_ids(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(|id| id.as_ref())
    }

    /// The node type with this id.
    pub fn get(&self, type_id: &str) -> Option<&Arc<dyn Node>> {
        self.nodes.get(type_id)
    }

    /// The node type of the model `owner/project` (its raw or clean slugs, as
    /// `wiro/model.run` takes them), if this registry holds one.
    pub fn model(&self, slug: &str) -> Option<&Arc<dyn Node>> {
        self.get(&crate::models::catalog::type_id_of(slug)?)
    }

    /// Every node type, ordered by id.
    pub fn nodes(&self) -> impl Iterator<Item = &Arc<dyn Node>> {
        self.nodes.values()
    }

    /// Every node type, ordered by id, taken out of the registry: each is dropped (with the
    /// spec it built) when the caller lets it go.
    pub fn into_nodes(self) -> impl Iterator<Item = Arc<dyn Node>> {
        self.nodes.into_values()
    }

    /// Every node type's spec, ordered by id.
    pub fn specs(&self) -> impl Iterator<Item = &NodeSpec> {
        self.nodes.values().map(|node| node.spec())
    }

    /// How many node types there are.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// No node types at all.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Whether `type_id` matches a pattern where `*` stands for any run of characters
/// (`pixverse/*`, `*/text-to-video-*`, `wiro/chat`); letter case is ignored.
pub fn matches_pattern(pattern: &str, type_id: &str) -> bool {
    let (pattern, text) = (pattern.to_ascii_lowercase(), type_id.to_ascii_lowercase());
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return text == pattern;
    }
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.nodes.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::matches_pattern;

    #[test]
    fn patterns_match_with_stars_in_any_letter_case() {
        assert!(matches_pattern("pixverse/*", "PixVerse/text-to-video-v5"));
        assert!(matches_pattern(
            "*/text-to-video-*",
            "pixverse/text-to-video-v5"
        ));
        assert!(matches_pattern("wiro/chat", "wiro/chat"));
        assert!(!matches_pattern("wiro/chat", "wiro/chat-2"));
        assert!(!matches_pattern("a*a", "a"));
        assert!(matches_pattern("*", "anything/at-all"));
    }
}
