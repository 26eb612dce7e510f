#![cfg(feature = "cli")]
//! The catalog: `catalog sync --all` reads every model the server publishes into a file; its
//! models become typed paid nodes of the same registry (built-in models win), checked
//! before any Run and priced from the file; `catalog diff` names what changed.

use crate::common;
use std::process::Stdio;

use serde_json::{json, Value};
use wiro_nodes::emulator::Operation;
use wiro_nodes::graph::{price_workflow, validate, Workflow};
use wiro_nodes::models::catalog::{diff, sync, Catalog, CatalogModel, SyncScope};
use wiro_nodes::node::Registry;

async fn synced(emulator: &wiro_nodes::emulator::EmulatorHandle) -> Catalog {
    let mut catalog = Catalog::new("");
    let report = sync(&common::client(emulator), &mut catalog, &SyncScope::All, 4)
        .await
        .unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    catalog
}

#[tokio::test]
async fn every_published_model_becomes_a_node_and_built_in_ones_win() {
    let emulator = common::fast_emulator().await;
    let catalog = synced(&emulator).await;
    let ids: Vec<&str> = catalog.models.iter().map(|m| m.type_id.as_str()).collect();
    for id in [
        "pixverse/text-to-video-v4",
        "pixverse/text-to-video-v5",
        "acme-labs/frames-to-video",
        "wiro/image-studio",
        "wiro/chat",
        "wiro/unpublished",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let unpublished = catalog.model("wiro/unpublished").unwrap();
    assert!(unpublished.untyped_because().is_some());

    let registry = Registry::from_inventory().with_source(&catalog);
    assert!(
        registry.get("wiro/unpublished").is_none(),
        "no typed node without parameters"
    );
    let hand_written = Registry::from_inventory();
    assert_eq!(
        registry.get("pixverse/text-to-video-v4").unwrap().spec(),
        hand_written
            .get("pixverse/text-to-video-v4")
            .unwrap()
            .spec(),
        "the built-in PixVerse v4 model, with its rules, wins over its catalog entry"
    );
    let v5 = registry.get("pixverse/text-to-video-v5").unwrap().spec();
    assert!(v5.spends_money);
    assert_eq!(v5.output_ports(), ["task"]);
    let inputs = &v5.inputs["properties"];
    assert_eq!(inputs["seed"]["type"], "integer");
    assert_eq!(inputs["seed"]["maximum"], 2147483647);
    assert_eq!(inputs["Watermark"]["type"], "boolean");
    assert_eq!(inputs["Watermark"]["default"], false);
    assert_eq!(inputs["audio"]["type"], "boolean");
    assert_eq!(v5.required_inputs(), ["prompt"]);
    let frames = registry.get("acme-labs/frames-to-video").unwrap().spec();
    assert_eq!(frames.inputs["properties"]["firstFrame"]["format"], "uri");
    assert_eq!(frames.inputs["properties"]["duration"]["default"], 5);
    assert_eq!(frames.inputs["properties"]["motion"]["x-step"], 0.05);
    let studio = registry.get("wiro/image-studio").unwrap().spec();
    assert_eq!(studio.inputs["properties"]["width"]["multipleOf"], 64);
    assert_eq!(studio.inputs["properties"]["tint"]["type"], "string");
}

#[tokio::test]
async fn every_catalog_schema_accepts_its_defaults_in_a_stock_validator() {
    let emulator = common::fast_emulator().await;
    let catalog = synced(&emulator).await;
    for model in catalog
        .models
        .iter()
        .filter(|m| m.untyped_because().is_none())
    {
        let schema = model.input_schema();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("{}: {e}", model.type_id));
        let mut defaults = serde_json::Map::new();
        for (port, property) in schema["properties"].as_object().unwrap() {
            if let Some(default) = property.get("default") {
                defaults.insert(port.clone(), default.clone());
            }
        }
        let problems: Vec<String> = validator
            .iter_errors(&Value::Object(defaults))
            .filter(|e| !e.to_string().contains("is a required property"))
            .map(|e| e.to_string())
            .collect();
        assert!(problems.is_empty(), "{}: {problems:?}", model.type_id);
    }
}

#[tokio::test]
async fn a_catalog_written_and_read_back_gives_the_same_nodes_and_diff_names_changes() {
    let emulator = common::fast_emulator().await;
    let mut catalog = synced(&emulator).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("wiro-catalog.json");
    catalog.save(&path).unwrap();
    let loaded = Catalog::load(&path).unwrap();
    assert_eq!(loaded.models.len(), catalog.models.len());
    // Saved again as read, it is the same file: parameters indented like the rest, every
    // model's derived schema kept (a model read from a file has none until it is saved).
    let written = std::fs::read(&path).unwrap();
    loaded.clone().save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), written);
    let before = catalog.model("pixverse/text-to-video-v5").unwrap();
    let after = loaded.model("pixverse/text-to-video-v5").unwrap();
    assert_eq!(before.input_schema(), after.input_schema());
    assert!(diff(&catalog, &loaded).is_empty());

    // Months later: 1080p is gone, 4k appeared, the seed is no longer offered.
    let changed: CatalogModel = CatalogModel::clone(after);
    let mut parameters: serde_json::Value = serde_json::from_str(changed.parameters.get()).unwrap();
    // The aspect ratio now takes null, the duration whole numbers.
    let text = parameters
        .to_string()
        .replace(r#""value":"1080p""#, r#""value":"4k""#)
        .replace(
            r#""id":"aspectRatio""#,
            r#""id":"aspectRatio","nullable":true"#,
        )
        .replace(
            r#""id":"duration""#,
            r#""id":"duration","valuetype":"integer""#,
        );
    parameters = serde_json::from_str(&text).unwrap();
    for group in parameters.as_array_mut().unwrap() {
        group["items"]
            .as_array_mut()
            .unwrap()
            .retain(|item| item["id"] != "seed");
    }
    let changed = CatalogModel::from_answers(
        &json!({"slugowner": changed.slugowner, "slugproject": changed.slugproject,
                "cleanslugowner": changed.cleanslugowner, "cleanslugproject": changed.cleanslugproject}),
        &json!({"tool": [{"parameters": parameters, "dynamicprice": changed.prices["dynamicprice"]}]}),
        "2027-03-01T00:00:00Z",
    )
    .unwrap();
    // And a rule between its parameters appeared.
    let mut changed = changed;
    changed.rules = wiro_nodes::models::builtin::model("pixverse/text-to-video-v4")
        .unwrap()
        .rules
        .clone();
    let mut later = loaded.clone();
    later.upsert(changed);
    let changes = diff(&loaded, &later);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let details = changes[0].details.join("\n");
    for expected in [
        "lost parameter seed",
        "quality: gained option \"4k\"",
        "quality: lost option \"1080p\"",
        "aspectRatio: now takes null (not set)",
        "duration: its options are now taken as whole numbers",
        "the rules between its parameters changed",
    ] {
        assert!(
            details.contains(expected),
            "{expected} missing in:\n{details}"
        );
    }
}

fn workflow(nodes: Value) -> Workflow {
    serde_json::from_value(json!({ "version": 1, "nodes": nodes })).unwrap()
}

#[tokio::test]
async fn a_model_s_output_file_wired_into_an_input_of_another_kind_is_refused_before_any_run() {
    let emulator = common::fast_emulator().await;
    let catalog = synced(&emulator).await;
    let registry = Registry::from_inventory().with_source(&catalog);
    let frames = |first: &str, last: &str| {
        json!({"id": "frames", "type": "acme-labs/frames-to-video",
               "inputs": {"firstFrame": {"$from": first}, "lastFrame": {"$from": last}}})
    };
    // An image model's picture into a frame: fine.
    let fine = workflow(json!([
        {"id": "pics", "type": "wiro/image-studio", "inputs": {"prompt": "a fox"}},
        {"id": "pics_wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "pics.task"}}},
        frames("pics_wait.outputs.0.url", "pics_wait.outputs.1.url")
    ]));
    assert!(validate(&fine, &registry).is_ok());
    // A video model's clip into the last frame: the first Run would be paid for nothing.
    let wrong = workflow(json!([
        {"id": "pics", "type": "wiro/image-studio", "inputs": {"prompt": "a fox"}},
        {"id": "pics_wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "pics.task"}}},
        {"id": "clip", "type": "pixverse/text-to-video-v5", "inputs": {"prompt": "a fox"}},
        {"id": "clip_wait", "type": "wiro/task.wait", "inputs": {"task": {"$from": "clip.task"}}},
        frames("pics_wait.outputs.0.url", "clip_wait.outputs.0.url")
    ]));
    let problems = validate(&wrong, &registry).unwrap_err();
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        ["node \"frames\", input \"lastFrame\": clip_wait.outputs.0.url is the first file of the task node \"clip\" started: pixverse/text-to-video-v5 makes a video (its categories say so), and this input takes an image [file-kind]"]
    );
}

#[tokio::test]
async fn catalog_prices_come_from_the_file_with_no_request() {
    let emulator = common::fast_emulator().await;
    let catalog = synced(&emulator).await;
    let registry = Registry::from_inventory().with_source(&catalog);
    let flow = workflow(json!([
        {"id": "clip", "type": "pixverse/text-to-video-v5",
         "inputs": {"prompt": "a fox", "quality": "720p", "duration": "8"}},
        {"id": "pics", "type": "wiro/image-studio",
         "inputs": {"prompt": "a fox", "numberOfOutputs": 3}}
    ]));
    let details_before = emulator.stats().requests(Operation::ToolDetail);
    let price = price_workflow(&flow, &registry, &common::client(&emulator)).await;
    assert_eq!(
        emulator.stats().requests(Operation::ToolDetail),
        details_before,
        "the catalog carries the prices"
    );
    let clip = price.nodes.iter().find(|n| n.node == "clip").unwrap();
    assert!(clip.estimate.usd().is_some(), "{price:?}");
    let pics = price.nodes.iter().find(|n| n.node == "pics").unwrap();
    assert!(
        (pics.estimate.usd().unwrap() - 0.06).abs() < 1e-9,
        "3 outputs at $0.02 each: {pics:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_option_or_an_out_of_range_number_is_refused_before_any_request() {
    let emulator = common::fast_emulator().await;
    let mut catalog = synced(&emulator).await;
    let folder = tempfile::tempdir().unwrap();
    let catalog_path = folder.path().join("models.json");
    catalog.save(&catalog_path).unwrap();
    let flow = folder.path().join("flow.json");
    std::fs::write(
        &flow,
        json!({"version": 1, "nodes": [
            {"id": "clip", "type": "pixverse/text-to-video-v5",
             "inputs": {"prompt": "a fox", "quality": "4k"}},
            {"id": "pics", "type": "wiro/image-studio",
             "inputs": {"prompt": "a fox", "numberOfOutputs": 9, "width": 1000}}
        ]})
        .to_string(),
    )
    .unwrap();
    let output = common::binary_for(&emulator)
        .arg("run")
        .arg(&flow)
        .arg("--catalog")
        .arg(&catalog_path)
        .arg("--out")
        .arg(folder.path().join("out"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for expected in [
        "node \"clip\", input \"quality\"",
        "node \"pics\", input \"numberOfOutputs\"",
        "node \"pics\", input \"width\"",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected} missing in:\n{stderr}"
        );
    }
    assert_eq!(emulator.stats().runs_accepted, 0);
}

/// Typed inputs for each emulated model: small sizes and short lengths, files as URLs.
fn inputs_for(type_id: &str, image: &str) -> Option<Value> {
    Some(match type_id {
        "pixverse/text-to-video-v5" => {
            json!({"prompt": "a fox", "quality": "360p", "audio": true, "Watermark": false})
        }
        "acme-labs/frames-to-video" => {
            json!({"firstFrame": image, "lastFrame": image, "duration": 2, "motion": 0.35})
        }
        "wiro/image-studio" => json!({"prompt": "a fox", "numberOfOutputs": 2,
                                      "width": 256, "height": 320, "guidance": 7.5}),
        "wiro/collage" => json!({"inputImage": [image, image], "layout": "row"}),
        "wiro/storyboard-video" => json!({"referenceImages": [image, image], "prompt": "a fox"}),
        "wiro/speech" => json!({"text": "A fox runs.", "speed": 1.5}),
        "wiro/chat" => json!({"prompt": "Name a fox.", "temperature": 0.7, "stream": false}),
        "wiro/legacy-upscaler" => json!({"inputImageUrl": image, "scale": "2"}),
        _ => return None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_per_emulated_model_runs_end_to_end_with_typed_inputs() {
    let emulator = common::fast_emulator().await;
    let catalog = synced(&emulator).await;
    let registry = Registry::from_inventory().with_source(&catalog);
    let client = common::client(&emulator);
    let meadow = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/meadow.png");
    let image = client.upload(&meadow, None).await.unwrap().url; // an image the server serves
    let mut nodes = Vec::new();
    let mut expected = Vec::new();
    for model in catalog
        .models
        .iter()
        .filter(|m| registry.get(&m.type_id).is_some())
    {
        let Some(inputs) = inputs_for(&model.type_id, &image) else {
            continue;
        };
        let id = model.type_id.replace(['/', '-'], "_");
        nodes.push(json!({"id": format!("{id}_run"), "type": model.type_id, "inputs": inputs}));
        nodes.push(json!({"id": format!("{id}_wait"), "type": "wiro/task.wait",
            "inputs": {"task": {"$from": format!("{id}_run.task")}, "poll_seconds": 0.05}}));
        nodes.push(
            json!({"id": format!("{id}_save"), "type": "wiro/output.download",
            "inputs": {"outputs": {"$from": format!("{id}_wait.outputs")}}}),
        );
        expected.push((id, model.type_id.clone()));
    }
    assert_eq!(
        expected.len(),
        8,
        "every runnable emulated model has inputs here"
    );
    let out = tempfile::tempdir().unwrap();
    let report =
        wiro_nodes::graph::Executor::new(registry, client, common::run_options(out.path()))
            .run(&workflow(Value::Array(nodes)), Default::default(), |_| {})
            .await
            .unwrap();
    assert!(report.succeeded(), "{report:#?}");
    let outputs = |node: &str| {
        report
            .nodes
            .iter()
            .find(|n| n.id == node)
            .and_then(|n| n.outputs.clone())
            .unwrap()
    };
    for (id, type_id) in &expected {
        let files = outputs(&format!("{id}_save"))["files"]
            .as_array()
            .unwrap()
            .clone();
        let types: Vec<&str> = files
            .iter()
            .map(|f| f["contenttype"].as_str().unwrap())
            .collect();
        let wanted = match type_id.as_str() {
            "wiro/image-studio" => vec!["image/png", "image/png"],
            "wiro/collage" | "wiro/legacy-upscaler" => vec!["image/png"],
            "wiro/speech" => vec!["audio/wav"],
            "wiro/chat" => vec!["text/plain; charset=utf-8"],
            _ => vec!["video/mp4"],
        };
        assert_eq!(types, wanted, "{type_id}: {files:?}");
        for file in &files {
            let path = file["path"].as_str().unwrap();
            let bytes = std::fs::read(path).unwrap();
            assert_eq!(bytes.len() as u64, file["size"].as_u64().unwrap(), "{path}");
            if type_id == "wiro/image-studio" {
                let size = imagesize::blob_size(&bytes).unwrap();
                assert_eq!((size.width, size.height), (256, 320), "{path}");
            }
        }
        if type_id == "wiro/chat" {
            let answer = outputs(&format!("{id}_wait"))["text"]
                .as_str()
                .unwrap()
                .to_owned();
            let saved = std::fs::read_to_string(files[0]["path"].as_str().unwrap()).unwrap();
            assert!(
                !answer.is_empty() && answer == saved,
                "{answer:?} / {saved:?}"
            );
        }
    }
    assert_eq!(
        emulator.stats().runs_accepted,
        8,
        "one Run per model (the image is uploaded)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_exec_runs_a_catalog_model_from_wiro_catalog_and_refuses_a_bad_option_first() {
    let emulator = common::fast_emulator().await;
    let mut catalog = synced(&emulator).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("catalog.json");
    catalog.save(&path).unwrap();
    let exec = |inputs: &str| {
        let mut command = common::binary_for(&emulator);
        command
            .env("WIRO_CATALOG", &path)
            .args(["node", "exec", "wiro/chat", "--inputs", inputs])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let refused = exec(r#"{"prompt": "hi", "temperature": 3}"#)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("temperature"), "{stderr}");
    assert_eq!(emulator.stats().runs_accepted, 0);

    let started = exec(r#"{"prompt": "Name a fox."}"#).output().await.unwrap();
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let outputs: Value = serde_json::from_slice(&started.stdout).unwrap();
    assert!(outputs["task"]["taskid"].is_string(), "{outputs}");
    assert_eq!(emulator.stats().runs_accepted, 1);
}

#[tokio::test]
async fn n8n_options_of_a_catalog_model_show_its_labels() {
    let emulator = common::fast_emulator().await;
    let catalog = synced(&emulator).await;
    let registry = Registry::from_inventory().with_source(&catalog);
    let spec = registry.get("wiro/image-studio").unwrap().spec();
    let (properties, _) = wiro_nodes::hosts::n8n::properties(spec);
    let style = properties
        .iter()
        .flat_map(|p| match p["options"].as_array() {
            Some(inner) if p["type"] == "collection" => inner.clone(),
            _ => vec![p.clone()],
        })
        .find(|p| p["name"] == "style")
        .expect("a style property");
    let watercolour = style["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|option| option["value"] == "watercolor")
        .unwrap();
    assert_eq!(watercolour["name"], "Watercolour", "{style:#}");
}
