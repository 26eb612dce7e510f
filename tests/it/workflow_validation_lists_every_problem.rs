//! A workflow with many mistakes gets all of them reported at once, each with its node id and
//! input path; the shipped examples are valid.

use std::path::Path;

use serde_json::json;
use wiro_nodes::graph::{validate, Workflow, WorkflowProblem};
use wiro_nodes::node::Registry;

fn problems_of(document: serde_json::Value) -> Vec<WorkflowProblem> {
    let workflow: Workflow = serde_json::from_value(document).unwrap();
    validate(&workflow, &Registry::from_inventory()).expect_err("the workflow is invalid")
}

fn has(problems: &[WorkflowProblem], node: &str, path: &str, rule: &str) -> bool {
    problems
        .iter()
        .any(|p| p.node.as_deref() == Some(node) && p.path == path && p.rule == rule)
}

#[test]
fn every_mistake_is_reported_with_node_and_input() {
    let problems = problems_of(json!({
        "version": 1,
        "nodes": [
            { "id": "video", "type": "pixverse/text-to-video-v4",
              "inputs": { "quality": "1080p", "duration": 8, "aspectRatio": "2:1", "promt": "typo",
                          "motionMode": 5 } },
            { "id": "wait", "type": "wiro/task.wait", "inputs": { "task": { "$from": "vidoe.task" } } },
            { "id": "wait2", "type": "wiro/task.wait", "inputs": { "task": { "$from": "video.handle" } } },
            { "id": "save", "type": "wiro/output.download", "inputs": { "outputs": { "$from": "video.task" } } },
            { "id": "mystery", "type": "wiro/does.not-exist", "inputs": {} },
            { "id": "a", "type": "wiro/task.detail", "inputs": { "task": { "$from": "b.detail" } } },
            { "id": "b", "type": "wiro/task.detail", "inputs": { "task": { "$from": "a.detail" } } },
            { "id": "save", "type": "wiro/task.kill", "inputs": {} }
        ]
    }));
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let shown = shown.join("\n");
    assert!(has(&problems, "video", "prompt", "required"), "{shown}");
    assert!(has(&problems, "video", "promt", "unknown-input"), "{shown}");
    assert!(has(&problems, "video", "aspectRatio", "enum"), "{shown}");
    // A value of the wrong type is told once, by its type, not again by the choices.
    assert!(has(&problems, "video", "motionMode", "type"), "{shown}");
    assert!(!has(&problems, "video", "motionMode", "enum"), "{shown}");
    assert!(
        has(&problems, "video", "duration", "pixverse/1080p-max-5s"),
        "{shown}"
    );
    assert!(
        has(&problems, "wait", "task", "reference"),
        "unknown node: {shown}"
    );
    assert!(
        has(&problems, "wait2", "task", "reference"),
        "unknown port: {shown}"
    );
    assert!(
        has(&problems, "save", "outputs", "edge-type"),
        "TaskHandle into a list of OutputFile: {shown}"
    );
    assert!(has(&problems, "mystery", "", "unknown-type"), "{shown}");
    assert!(
        has(&problems, "a", "", "cycle") && has(&problems, "b", "", "cycle"),
        "{shown}"
    );
    assert!(has(&problems, "save", "", "unique-id"), "{shown}");
    assert!(
        has(&problems, "save", "task", "required"),
        "the kill node misses its task: {shown}"
    );
    // Messages say what to do, and the edge message names both types.
    assert!(
        shown.contains("gives TaskHandle") && shown.contains("list of OutputFile"),
        "{shown}"
    );
    assert!(shown.contains("vidoe"), "{shown}");
}

#[test]
fn linked_inputs_are_not_judged_before_they_are_known() {
    let workflow: Workflow = serde_json::from_value(json!({
        "version": 1,
        "nodes": [
            { "id": "image", "type": "wiro/file.upload", "inputs": { "path": "cat.png" } },
            { "id": "video", "type": "pixverse/image-to-video-v4",
              "inputs": { "inputImageUrl": { "$from": "image.url" }, "prompt": "the cat blinks" } }
        ]
    }))
    .unwrap();
    let plan = validate(&workflow, &Registry::from_inventory()).unwrap();
    assert_eq!(plan.order, vec![0, 1]);
}

#[test]
fn rules_still_apply_to_the_literal_part_of_a_linked_node() {
    let problems = problems_of(json!({
        "version": 1,
        "nodes": [
            { "id": "image", "type": "wiro/file.upload", "inputs": { "path": "cat.png" } },
            { "id": "video", "type": "pixverse/image-to-video-v4",
              "inputs": { "inputImageUrl": { "$from": "image.url" }, "prompt": "x",
                          "quality": "1080p", "motionMode": "fast" } }
        ]
    }));
    assert!(
        has(&problems, "video", "motionMode", "pixverse/1080p-not-fast"),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
}

#[test]
fn a_file_of_another_kind_than_the_input_takes_is_refused_naming_the_file() {
    let problems = problems_of(json!({
        "version": 1,
        "nodes": [
            { "id": "image", "type": "wiro/file.upload", "inputs": { "path": "notes.txt" } },
            { "id": "video", "type": "pixverse/image-to-video-v4",
              "inputs": { "inputImageUrl": { "$from": "image.url" }, "prompt": "x" } },
            { "id": "again", "type": "pixverse/image-to-video-v4",
              "inputs": { "inputImageUrl": "https://cdn.example/t.csv?sig=1", "prompt": "x" } },
            { "id": "fine", "type": "pixverse/image-to-video-v4",
              "inputs": { "inputImageUrl": "https://cdn.example/get?id=7", "prompt": "x" } },
            // Any model through wiro/model.run: its parameters are judged by their names.
            { "id": "clip", "type": "wiro/file.upload", "inputs": { "path": "clip.mp4" } },
            { "id": "generic", "type": "wiro/model.run",
              "inputs": { "model": "PixVerse/image-to-video-v4",
                          "parameters": { "inputImageUrl": { "$from": "clip.url" }, "prompt": "x" } } },
            // Through the upload's file record, and as an item of a list.
            { "id": "via_file", "type": "pixverse/image-to-video-v4",
              "inputs": { "inputImageUrl": { "$from": "image.file.url" }, "prompt": "x" } },
            { "id": "sheet", "type": "wiro/file.upload", "inputs": { "path": "sheet.csv" } },
            { "id": "listed", "type": "wiro/model.run",
              "inputs": { "model": "someone/else",
                          "parameters": { "referenceImages": [{ "$from": "sheet.url" }], "prompt": "x" } } },
            { "id": "generic2", "type": "wiro/model.run",
              "inputs": { "model": "someone/else",
                          "parameters": { "firstFrameUrl": "https://cdn.example/a.mp4", "prompt": "x" } } }
        ]
    }));
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(has(&problems, "image", "path", "file-kind"), "{shown:?}");
    assert!(
        shown.contains(&"node \"image\", input \"path\": notes.txt is a document, but the input its URL feeds (\"inputImageUrl\") takes an image [file-kind]".to_owned()),
        "{shown:?}"
    );
    assert!(
        has(&problems, "again", "inputImageUrl", "file-kind"),
        "{shown:?}"
    );
    assert!(
        shown.contains(&"node \"clip\", input \"path\": clip.mp4 is a video, but the input its URL feeds (\"parameters/inputImageUrl\") takes an image [file-kind]".to_owned()),
        "{shown:?}"
    );
    assert!(
        has(
            &problems,
            "generic2",
            "parameters/firstFrameUrl",
            "file-kind"
        ),
        "{shown:?}"
    );
    assert!(has(&problems, "sheet", "path", "file-kind"), "{shown:?}");
    assert_eq!(
        problems.len(),
        5,
        "a URL whose name says no kind passes: {shown:?}"
    );
}

#[test]
fn a_built_in_video_model_s_clip_wired_into_an_image_input_is_refused() {
    let problems = problems_of(json!({
        "version": 1,
        "nodes": [
            { "id": "clip", "type": "pixverse/text-to-video-v4", "inputs": { "prompt": "a kite" } },
            { "id": "wait", "type": "wiro/task.wait", "inputs": { "task": { "$from": "clip.task" } } },
            { "id": "again", "type": "pixverse/image-to-video-v4",
              "inputs": { "inputImageUrl": { "$from": "wait.outputs.0.url" }, "prompt": "x" } },
            { "id": "generic", "type": "wiro/model.run",
              "inputs": { "model": "someone/else",
                          "parameters": { "inputImage": { "$from": "wait.outputs.0.url" } } } },
            // The clip itself, where a video is taken, its file record, and a second file
            // (a model may add a last frame after its clip): not judged.
            { "id": "video_in", "type": "wiro/model.run",
              "inputs": { "model": "someone/else",
                          "parameters": { "videoUrl": { "$from": "wait.outputs.0.url" },
                                          "lastImage": { "$from": "wait.outputs.1.url" } } } },
            { "id": "save", "type": "wiro/output.download",
              "inputs": { "outputs": { "$from": "wait.outputs" } } },
            // Through the record's outputs, a handle written field by field, a model named
            // to wiro/model.run, and two entries of one object input.
            { "id": "by_record", "type": "pixverse/image-to-video-v4",
              "inputs": { "inputImageUrl": { "$from": "wait.task.outputs.0.url" }, "prompt": "x" } },
            { "id": "fields", "type": "wiro/task.wait",
              "inputs": { "task": { "taskid": { "$from": "clip.task.taskid" },
                                    "socketaccesstoken": { "$from": "clip.task.socketaccesstoken" } } } },
            { "id": "by_fields", "type": "pixverse/image-to-video-v4",
              "inputs": { "inputImageUrl": { "$from": "fields.outputs.0.url" }, "prompt": "x" } },
            { "id": "named", "type": "wiro/model.run",
              "inputs": { "model": "PixVerse/text-to-video-v4", "parameters": { "prompt": "x" } } },
            { "id": "named_wait", "type": "wiro/task.wait", "inputs": { "task": { "$from": "named.task" } } },
            { "id": "twice", "type": "wiro/model.run",
              "inputs": { "model": "someone/else",
                          "parameters": { "firstFrame": { "$from": "named_wait.outputs.0.url" },
                                          "lastFrame": { "$from": "named_wait.outputs.0.url" } } } }
        ]
    }));
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for (node, input) in [
        ("again", "inputImageUrl"),
        ("generic", "parameters/inputImage"),
        ("by_record", "inputImageUrl"),
        ("by_fields", "inputImageUrl"),
        ("twice", "parameters/firstFrame"),
        ("twice", "parameters/lastFrame"),
    ] {
        assert!(
            has(&problems, node, input, "file-kind"),
            "{node}: {shown:?}"
        );
    }
    assert_eq!(problems.len(), 6, "{shown:?}");
    assert!(
        shown[0].contains("pixverse/text-to-video-v4 makes a video"),
        "{shown:?}"
    );
}

#[test]
fn the_shipped_examples_are_valid() {
    let registry = Registry::from_inventory();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let workflow = Workflow::from_file(&path).unwrap();
            if let Err(problems) = validate(&workflow, &registry) {
                panic!("{}: {problems:#?}", path.display());
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "text-to-video, image-to-video and batch examples exist"
    );
}

#[test]
fn set_overrides_inputs_and_is_checked_like_the_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/text-to-video.json");
    let mut workflow = Workflow::from_file(&path).unwrap();
    workflow.set_input("video.quality=1080p").unwrap();
    workflow.set_input("video.aspectRatio=9:16").unwrap();
    assert!(validate(&workflow, &Registry::from_inventory()).is_ok());
    assert_eq!(workflow.node("video").unwrap().inputs["quality"], "1080p");
    workflow.set_input("video.duration=8").unwrap();
    assert_eq!(workflow.node("video").unwrap().inputs["duration"], 8);
    let problems = validate(&workflow, &Registry::from_inventory()).unwrap_err();
    assert!(
        has(&problems, "video", "duration", "pixverse/1080p-max-5s"),
        "{problems:?}"
    );
    assert!(workflow.set_input("nobody.quality=1").is_err());
    assert!(workflow.set_input("no-equals-sign").is_err());
    // A wire is not a value: replacing it would leave the node it reads to run (and be
    // paid) for nothing; wiring it elsewhere is allowed.
    let wait = workflow
        .nodes
        .iter()
        .find(|node| {
            node.inputs
                .get("task")
                .is_some_and(|task| task.get("$from").is_some())
        })
        .map(|node| node.id.clone())
        .unwrap();
    let error = workflow
        .set_input(&format!(r#"{wait}.task={{"taskid":"2221"}}"#))
        .unwrap_err();
    assert!(
        error.contains("--set replaces values, not what a node reads from another"),
        "{error}"
    );
    workflow
        .set_input(&format!(r#"{wait}.task={{"$from":"video.task"}}"#))
        .unwrap();
}
