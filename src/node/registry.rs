//! The registry: node types register themselves with `inventory`; engines look them up by id.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::typed::Typed;
use super::{Node, NodeSpec, TypedNode};

/// One node type's registration: its id and how to build it.
///
/// Submitted with [`register_node!`](crate::register_node); also returned by
/// [`crate::nodes::all`] for targets where `inventory` cannot work.
pub struct NodeRegistration {
    type_id: &'static str,
    build: fn() -> Arc<dyn Node>,
}

fn build_typed<T: TypedNode>() -> Arc<dyn Node> {
    Arc::new(Typed::<T>::new())
}

impl NodeRegistration {
    /// The registration of a typed node.
    pub const fn of<T: TypedNode>() -> Self {
        Self {
            type_id: T::TYPE_ID,
            build: build_typed::<T>,
        }
    }

    /// The node type's permanent id.
    pub fn type_id(&self) -> &'static str {
        self.type_id
    }

    /// A fresh instance of the node.
    pub fn build(&self) -> Arc<dyn Node> {
        (self.build)()
    }
}

impl std::fmt::Debug for NodeRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeRegistration")
            .field("type_id", &self.type_id)
            .finish()
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

/// Node types by id, built once.
#[derive(Clone, Default)]
pub struct Registry {
    nodes: BTreeMap<&'static str, Arc<dyn Node>>,
}

impl Registry {
    /// Every node type linked into the program (this crate's and any other crate's).
    pub fn from_inventory() -> Self {
        Self::from_registrations(inventory::iter::<NodeRegistration>)
    }

    /// The given node types (the first of two with one id wins).
    pub fn from_registrations<'a>(
        registrations: impl IntoIterator<Item = &'a NodeRegistration>,
    ) -> Self {
        let mut nodes = BTreeMap::new();
        for registration in registrations {
            if nodes.contains_key(registration.type_id) {
                tracing::warn!(
                    type_id = registration.type_id,
                    "node type registered twice; keeping the first"
                );
                continue;
            }
            nodes.insert(registration.type_id, registration.build());
        }
        Self { nodes }
    }

    /// The node type with this id.
    pub fn get(&self, type_id: &str) -> Option<&Arc<dyn Node>> {
        self.nodes.get(type_id)
    }

    /// Every node type, ordered by id.
    pub fn nodes(&self) -> impl Iterator<Item = &Arc<dyn Node>> {
        self.nodes.values()
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

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.nodes.keys()).finish()
    }
}
