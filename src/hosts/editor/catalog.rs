//! What the page draws from: every node spec (the same documents as `node-schemas/`), each
//! port's shared type, and which output types fit which input types — computed once, here,
//! by [`PortType::fits`], so the page never re-implements the rule.

use serde_json::{json, Value};

use crate::graph::node_schema_document;
use crate::node::{PortType, Registry};

/// The catalog document `GET /api/nodes` returns.
///
/// `nodes[i]` is a node schema document plus `ports.inputs`/`ports.outputs`, each port with its
/// `name`, type `label` and type `key`; `types[key]` is the label; `fits[key]` lists the input
/// type keys an output of type `key` may feed.
pub fn catalog(registry: &Registry) -> Value {
    let mut types: Vec<PortType> = Vec::new();
    let nodes: Vec<Value> = registry
        .specs()
        .map(|spec| {
            let mut document = node_schema_document(spec);
            document["ports"] = json!({
                "inputs": ports(&spec.inputs, &mut types),
                "outputs": ports(&spec.outputs, &mut types),
            });
            document
        })
        .collect();
    let fits: Vec<Vec<usize>> = types
        .iter()
        .map(|given| {
            types
                .iter()
                .enumerate()
                .filter(|(_, wanted)| given.fits(wanted))
                .map(|(key, _)| key)
                .collect()
        })
        .collect();
    let labels: Vec<String> = types.iter().map(ToString::to_string).collect();
    json!({ "nodes": nodes, "types": labels, "fits": fits })
}

fn ports(schema: &Value, types: &mut Vec<PortType>) -> Vec<Value> {
    let required = spec_required(schema);
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|name| {
            let port_type = PortType::of(schema, &name, &[])?;
            let key = match types.iter().position(|known| known == &port_type) {
                Some(key) => key,
                None => {
                    types.push(port_type.clone());
                    types.len() - 1
                }
            };
            Some(json!({
                "name": name,
                "label": port_type.to_string(),
                "key": key,
                "required": required.contains(&name),
            }))
        })
        .collect()
}

fn spec_required(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether output `port` (and `path` inside it) of node type `from` may feed input `to_port`
/// of node type `to`: `{fits, given, wanted}` or `{error}` when a port or field does not exist.
pub fn fits(
    registry: &Registry,
    from: &str,
    port: &str,
    path: &[String],
    to: &str,
    to_port: &str,
) -> Value {
    let (Some(source), Some(target)) = (registry.get(from), registry.get(to)) else {
        return json!({ "error": "unknown node type" });
    };
    let Some(given) = PortType::of(&source.spec().outputs, port, path) else {
        let shown = std::iter::once(port.to_owned())
            .chain(path.iter().cloned())
            .collect::<Vec<_>>();
        return json!({ "error": format!("{from} has no output {:?}", shown.join(".")) });
    };
    let Some(wanted) = PortType::of(&target.spec().inputs, to_port, &[]) else {
        return json!({ "error": format!("{to} has no input {to_port:?}") });
    };
    json!({
        "fits": given.fits(&wanted),
        "given": given.to_string(),
        "wanted": wanted.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(catalog: &Value, type_id: &str, side: &str, port: &str) -> usize {
        let node = catalog["nodes"]
            .as_array()
            .and_then(|nodes| nodes.iter().find(|n| n["type"] == type_id))
            .expect("node listed");
        let port = node["ports"][side]
            .as_array()
            .and_then(|ports| ports.iter().find(|p| p["name"] == port))
            .expect("port listed");
        port["key"].as_u64().expect("a key") as usize
    }

    #[test]
    fn a_task_handle_fits_a_wait_but_a_url_does_not() {
        let catalog = catalog(&Registry::from_inventory());
        let handle = key_of(&catalog, "pixverse/image-to-video-v4", "outputs", "task");
        let url = key_of(&catalog, "wiro/file.upload", "outputs", "url");
        let wait_input = key_of(&catalog, "wiro/task.wait", "inputs", "task");
        let fits = |given: usize| {
            catalog["fits"][given]
                .as_array()
                .expect("a list")
                .contains(&json!(wait_input))
        };
        assert!(fits(handle));
        assert!(!fits(url));
        assert_eq!(catalog["types"][handle], "TaskHandle");
    }

    #[test]
    fn a_field_inside_an_output_can_feed_a_url_input() {
        let registry = Registry::from_inventory();
        let answer = fits(
            &registry,
            "wiro/task.wait",
            "outputs",
            &["0".into(), "url".into()],
            "pixverse/image-to-video-v4",
            "inputImageUrl",
        );
        assert_eq!(answer["fits"], true, "{answer}");
        let whole = fits(
            &registry,
            "wiro/task.wait",
            "outputs",
            &[],
            "pixverse/image-to-video-v4",
            "inputImageUrl",
        );
        assert_eq!(whole["fits"], false, "{whole}");
    }
}
