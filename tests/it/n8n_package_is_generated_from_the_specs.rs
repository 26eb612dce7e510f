//! `wiro-nodes export n8n`: the n8n community node package comes from the node specs — one n8n
//! node per node type, properties drawn from the input schemas, a manifest n8n loads.

use serde_json::Value;
use wiro_nodes::hosts::n8n::{self, Package, Source, CREDENTIALS_NAME, OPTIONS_COLLECTION};
use wiro_nodes::node::{NodeSpec, Registry};

fn spec(type_id: &str) -> NodeSpec {
    Registry::from_inventory()
        .get(type_id)
        .unwrap()
        .spec()
        .clone()
}

/// The n8n properties of a node, by name (the options collection's fields included).
fn property(type_id: &str, name: &str) -> Value {
    let (properties, _) = n8n::properties(&spec(type_id));
    properties
        .iter()
        .flat_map(|p| {
            if p["name"] == OPTIONS_COLLECTION {
                p["options"].as_array().unwrap().clone()
            } else {
                vec![p.clone()]
            }
        })
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{type_id} has no property {name}"))
}

/// The JSON object assigned to `const NAME = ` in a generated node file.
fn constant(file: &str, name: &str) -> Value {
    let start = file.find(&format!("const {name} = ")).unwrap() + name.len() + 9;
    let end = start + file[start..].find(";\n").unwrap();
    serde_json::from_str(&file[start..end]).unwrap()
}

#[test]
fn every_node_type_gets_an_n8n_node_listed_in_the_manifest() {
    let registry = Registry::from_inventory();
    let package = Package::generate(&registry);
    let manifest = package.manifest();
    let listed: Vec<&str> = manifest["n8n"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|path| path.as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), registry.len());
    for spec in registry.specs() {
        let class = n8n::class_name(&spec.type_id);
        let path = format!("dist/nodes/{class}/{class}.node.js");
        assert!(listed.contains(&path.as_str()), "{path} is not listed");
        let file = package.file(&path).unwrap();
        assert!(file.contains(&format!("module.exports = {{ {class} }};")));
        let description = constant(file, "description");
        assert_eq!(description["name"], n8n::node_name(&spec.type_id));
        assert_eq!(description["version"], spec.version);
        assert_eq!(description["credentials"][0]["name"], CREDENTIALS_NAME);
        let plan = constant(file, "plan");
        assert_eq!(plan["type"], spec.type_id.as_ref());
        assert_eq!(
            plan["inputs"].as_array().unwrap().len(),
            spec.input_ports().len(),
            "every input port reaches the bridge"
        );
        assert!(package
            .file(&format!("dist/nodes/{class}/wiro.svg"))
            .is_some());
    }
}

#[test]
fn the_manifest_is_a_community_node_package_with_credentials() {
    let package = Package::generate(&Registry::from_inventory());
    let manifest = package.manifest();
    assert_eq!(manifest["name"], n8n::PACKAGE_NAME);
    assert!(manifest["name"].as_str().unwrap().starts_with("n8n-nodes-"));
    assert!(manifest["keywords"]
        .as_array()
        .unwrap()
        .contains(&Value::from("n8n-community-node-package")));
    assert_eq!(manifest["n8n"]["n8nNodesApiVersion"], 1);
    let credentials = manifest["n8n"]["credentials"][0].as_str().unwrap();
    let file = package.file(credentials).unwrap();
    for field in ["apiKey", "apiSecret", "baseUrl", "socketUrl", "binaryPath"] {
        assert!(file.contains(&format!("\"name\": \"{field}\"")), "{field}");
    }
    assert!(file.contains(&format!("this.name = '{CREDENTIALS_NAME}'")));
    assert!(package.file("dist/bridge.js").unwrap().contains("--check"));
}

#[test]
fn enums_become_options_with_the_schema_default() {
    let quality = property("pixverse/text-to-video-v4", "quality");
    assert_eq!(quality["type"], "options");
    assert_eq!(quality["default"], "540p");
    let values: Vec<&Value> = quality["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["value"])
        .collect();
    assert_eq!(values, ["360p", "540p", "720p", "1080p"]);
    let duration = property("pixverse/text-to-video-v4", "duration");
    assert_eq!(duration["options"][1]["value"], 8, "numbers stay numbers");
}

#[test]
fn the_textarea_hint_required_flags_and_descriptions_carry_over() {
    let prompt = property("pixverse/text-to-video-v4", "prompt");
    assert_eq!(prompt["type"], "string");
    assert_eq!(prompt["required"], true);
    assert_eq!(prompt["typeOptions"]["rows"], 4);
    assert!(prompt["description"]
        .as_str()
        .unwrap()
        .contains("2048 characters"));
    let aspect = property("pixverse/text-to-video-v4", "aspectRatio");
    assert!(aspect.get("required").is_none());
    assert!(aspect.get("typeOptions").is_none());
}

#[test]
fn ranges_become_number_bounds() {
    let timeout = property("wiro/task.wait", "timeout_seconds");
    assert_eq!(timeout["type"], "number");
    assert_eq!(timeout["default"], 1800);
    assert_eq!(timeout["typeOptions"]["minValue"], 1);
    assert_eq!(timeout["typeOptions"]["maxValue"], 86400);
    assert_eq!(timeout["typeOptions"]["numberPrecision"], 0);
    let seed = property("pixverse/text-to-video-v4", "seed");
    assert_eq!(seed["typeOptions"]["maxValue"], 2147483647);
}

#[test]
fn optional_empty_inputs_sit_in_the_options_collection() {
    let fields = n8n::fields(&spec("pixverse/text-to-video-v4"));
    let source = |port: &str| fields.iter().find(|f| f.port == port).unwrap().source;
    assert_eq!(source("seed"), Source::Option);
    assert_eq!(source("style"), Source::Option);
    assert_eq!(source("quality"), Source::Value);
    let style = property("pixverse/text-to-video-v4", "style");
    assert!(
        style["options"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| !o["value"].is_null()),
        "absent means empty; null is not an option"
    );
}

#[test]
fn connectable_ports_take_the_previous_items_field() {
    let task = property("wiro/task.wait", "task");
    assert_eq!(task["type"], "json");
    assert_eq!(task["default"], "={{ $json.task }}");
    assert_eq!(task["required"], true);
    let outputs = property("wiro/output.download", "outputs");
    assert_eq!(outputs["default"], "={{ $json.outputs }}");
    let parameters = property("wiro/model.run", "parameters");
    assert_eq!(
        parameters["default"], "{}",
        "a free object is not a connection"
    );
}

#[test]
fn the_cross_field_rules_are_named_on_the_form() {
    let (properties, _) = n8n::properties(&spec("pixverse/text-to-video-v4"));
    let notice = properties.iter().find(|p| p["type"] == "notice").unwrap();
    let text = notice["displayName"].as_str().unwrap();
    for rule in [
        "1080p cannot be 8 s",
        "1080p cannot be fast",
        "fast needs 5 s",
    ] {
        assert!(text.contains(rule), "{text}");
    }
}

#[test]
fn the_bridge_knows_which_outputs_carry_tasks_and_files() {
    let package = Package::generate(&Registry::from_inventory());
    let plan = |class: &str| {
        constant(
            package
                .file(&format!("dist/nodes/{class}/{class}.node.js"))
                .unwrap(),
            "plan",
        )
    };
    assert_eq!(plan("WiroPixverseTextToVideoV4")["taskPorts"][0], "task");
    assert_eq!(plan("WiroPixverseTextToVideoV4")["spendsMoney"], true);
    assert_eq!(plan("WiroTaskWait")["taskPorts"][0], "task");
    assert_eq!(plan("WiroOutputDownload")["filePorts"][0], "files");
}

#[cfg(feature = "cli")]
#[test]
fn export_writes_the_package_and_refuses_a_foreign_folder() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("pkg");
    let run = |path: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wiro-nodes"))
            .args(["export", "n8n"])
            .arg(path)
            .output()
            .unwrap()
    };
    assert!(run(&target).status.success());
    std::fs::write(target.join("dist/nodes/Stale.node.js"), "old").unwrap();
    assert!(
        run(&target).status.success(),
        "an earlier export is refreshed"
    );
    assert!(!target.join("dist/nodes/Stale.node.js").exists());
    assert!(target
        .join("dist/nodes/WiroTaskWait/WiroTaskWait.node.js")
        .exists());

    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let refused = run(&foreign);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"));
    assert!(foreign.join("notes.txt").exists());
}

/// The generated JavaScript parses and each node builds, where a `node` program is installed
/// (the n8n end-to-end script, `scripts/ci/n8n.sh`, always loads it in a real n8n).
#[test]
fn the_generated_javascript_loads_in_node() {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("NOTE: no `node` program here; scripts/ci/n8n.sh checks the JavaScript");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    Package::generate(&Registry::from_inventory())
        .write_to(dir.path())
        .unwrap();
    let script = r#"
        const fs = require('fs'); const path = require('path');
        const root = process.argv[1]; const names = [];
        for (const dir of fs.readdirSync(path.join(root, 'dist/nodes'))) {
          const mod = require(path.join(root, 'dist/nodes', dir, dir + '.node.js'));
          const node = new mod[dir]();
          if (typeof node.execute !== 'function') throw new Error(dir + ' has no execute');
          names.push(node.description.name);
        }
        const creds = require(path.join(root, 'dist/credentials/WiroNodesApi.credentials.js'));
        new creds.WiroNodesApi();
        console.log(names.length);
    "#;
    let output = std::process::Command::new("node")
        .args(["-e", script])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "13");
}
