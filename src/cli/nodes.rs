//! `wiro-nodes nodes` and `wiro-nodes schema`: what is registered, and its schemas.

use std::path::Path;

use serde::Serialize;

use super::{EXIT_FAILED, EXIT_INVALID};
use crate::graph::{node_schema_document, schema_file_text, schema_files};
use crate::node::{NodeSpec, PortDescription};

pub(crate) fn list(as_json: bool) -> u8 {
    if as_json {
        // Written node by node, each node (and the spec it built) let go once written: a
        // catalog of hundreds of models is never held as one text, nor as every schema.
        let registry = match super::registry::new_registry() {
            Ok(registry) => registry,
            Err(problem) => {
                eprintln!("error: {problem}");
                return EXIT_INVALID;
            }
        };
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let mut written = write!(out, "[");
        for (position, node) in registry.into_nodes().enumerate() {
            let spec = node.spec();
            let separator = if position == 0 { "\n" } else { ",\n" };
            written = written
                .and_then(|()| write!(out, "{separator}"))
                .and_then(|()| {
                    serde_json::to_writer_pretty(&mut out, &summary(spec)).map_err(Into::into)
                });
        }
        if let Err(error) = written
            .and_then(|()| writeln!(out, "\n]"))
            .and_then(|()| out.flush())
        {
            eprintln!("error: {error}");
            return EXIT_FAILED;
        }
        return 0;
    }
    let registry = match super::registry::registry_or_exit() {
        Ok(registry) => registry,
        Err(code) => return code,
    };
    for spec in registry.specs() {
        let money = if spec.spends_money {
            "  (starts a paid task)"
        } else {
            ""
        };
        outln!(
            "{}  v{}  [{}]  {}{money}",
            spec.type_id,
            spec.version,
            spec.category,
            spec.title
        );
        outln!("    {}", spec.description);
        for (direction, ports) in [
            ("in ", spec.input_port_descriptions()),
            ("out", spec.output_port_descriptions()),
        ] {
            for port in ports {
                let required = if port.required { "*" } else { "" };
                outln!(
                    "    {direction} {}{required}: {}",
                    port.name,
                    port.type_label
                );
            }
        }
        outln!();
    }
    outln!("* required input");
    0
}

/// A node type as `nodes --json` lists it: serialized straight from the spec, no JSON value
/// built in between.
#[derive(Serialize)]
struct Summary<'a> {
    #[serde(rename = "type")]
    type_id: &'a str,
    version: u32,
    title: &'a str,
    category: &'a str,
    description: &'a str,
    spends_money: bool,
    inputs: Vec<PortDescription>,
    outputs: Vec<PortDescription>,
}

fn summary(spec: &NodeSpec) -> Summary<'_> {
    Summary {
        type_id: &spec.type_id,
        version: spec.version,
        title: &spec.title,
        category: &spec.category,
        description: &spec.description,
        spends_money: spec.spends_money,
        inputs: spec.input_port_descriptions(),
        outputs: spec.output_port_descriptions(),
    }
}

pub(crate) fn schema(type_id: Option<&str>, write: Option<&Path>) -> u8 {
    let registry = match super::registry::registry_or_exit() {
        Ok(registry) => registry,
        Err(code) => return code,
    };
    if let Some(dir) = write {
        if let Err(error) = std::fs::create_dir_all(dir) {
            eprintln!("error: {}: {error}", dir.display());
            return EXIT_FAILED;
        }
        let files = schema_files(&registry);
        for (name, value) in &files {
            let path = dir.join(name);
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&path, schema_file_text(value)));
            if let Err(error) = written {
                eprintln!("error: {}: {error}", path.display());
                return EXIT_FAILED;
            }
        }
        outln!("wrote {} files to {}", files.len(), dir.display());
        return 0;
    }
    let Some(type_id) = type_id else {
        return EXIT_INVALID;
    };
    match registry.get(type_id) {
        Some(node) => {
            out!("{}", schema_file_text(&node_schema_document(node.spec())));
            0
        }
        None => {
            eprintln!(
                "error: unknown node type {type_id:?}; known types: {}",
                registry.type_ids().collect::<Vec<_>>().join(", ")
            );
            EXIT_INVALID
        }
    }
}
