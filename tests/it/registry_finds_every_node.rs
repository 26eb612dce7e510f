//! An engine that links the crate finds every node type through `inventory`, with complete specs.

use std::collections::BTreeSet;

use wiro_nodes::node::Registry;

const EXPECTED: [&str; 13] = [
    "pixverse/image-to-video-v4",
    "pixverse/text-to-video-v4",
    "wiro/file.upload",
    "wiro/folder.create",
    "wiro/model.detail",
    "wiro/model.run",
    "wiro/output.download",
    "wiro/task.cancel",
    "wiro/task.detail",
    "wiro/task.files.delete",
    "wiro/task.kill",
    "wiro/task.list",
    "wiro/task.wait",
];

#[test]
fn inventory_finds_every_node_type() {
    let registry = Registry::from_inventory();
    let found: BTreeSet<&str> = registry.type_ids().collect();
    assert_eq!(found, EXPECTED.into_iter().collect());
}

#[test]
fn the_plain_list_matches_the_inventory() {
    let listed = wiro_nodes::nodes::all();
    let registry = Registry::from_registrations(&listed);
    let from_list: Vec<&str> = registry.type_ids().collect();
    let inventory = Registry::from_inventory();
    let from_inventory: Vec<&str> = inventory.type_ids().collect();
    assert_eq!(from_list, from_inventory);
    let built: usize = listed.iter().map(|r| r.build().len()).sum();
    assert_eq!(built, EXPECTED.len(), "no type is listed twice");
}

#[test]
fn every_spec_is_complete_and_paid_nodes_are_marked() {
    for spec in Registry::from_inventory().specs() {
        assert!(
            !spec.title.is_empty() && !spec.description.is_empty(),
            "{}",
            spec.type_id
        );
        assert_eq!(spec.version, 1, "{}", spec.type_id);
        assert!(
            !spec.input_ports().is_empty(),
            "{} has inputs",
            spec.type_id
        );
        assert!(
            !spec.output_ports().is_empty(),
            "{} has outputs",
            spec.type_id
        );
        for port in spec
            .input_port_descriptions()
            .iter()
            .chain(&spec.output_port_descriptions())
        {
            assert!(
                !port.description.is_empty(),
                "{} port {} has a description",
                spec.type_id,
                port.name
            );
        }
        let paid = matches!(
            spec.type_id.as_ref(),
            "wiro/model.run" | "pixverse/text-to-video-v4" | "pixverse/image-to-video-v4"
        );
        assert_eq!(spec.spends_money, paid, "{}", spec.type_id);
    }
}

#[test]
fn shared_port_types_carry_stable_names() {
    let registry = Registry::from_inventory();
    let port = |type_id: &str, output: bool, name: &str| {
        let spec = registry.get(type_id).unwrap().spec();
        let ports = if output {
            spec.output_port_descriptions()
        } else {
            spec.input_port_descriptions()
        };
        ports
            .into_iter()
            .find(|p| p.name == name)
            .unwrap()
            .type_label
    };
    assert_eq!(
        port("pixverse/text-to-video-v4", true, "task"),
        "TaskHandle"
    );
    assert_eq!(port("wiro/task.wait", false, "task"), "TaskHandle");
    assert_eq!(port("wiro/task.wait", true, "task"), "Task");
    assert_eq!(
        port("wiro/task.wait", true, "outputs"),
        "list of OutputFile"
    );
    assert_eq!(
        port("wiro/output.download", false, "outputs"),
        "list of OutputFile"
    );
    assert_eq!(
        port("wiro/output.download", true, "files"),
        "list of LocalFile"
    );
    assert_eq!(port("wiro/file.upload", true, "file"), "UploadedFile");
    assert_eq!(port("wiro/folder.create", true, "folder"), "Folder");
    assert_eq!(port("wiro/task.files.delete", false, "task"), "TaskHandle");
    assert_eq!(port("wiro/task.files.delete", true, "detail"), "Task");
    assert_eq!(port("wiro/task.list", true, "tasks"), "list of Task");
}
