//! The README's node table lists exactly the registered nodes, and `.ci/run` runs the README's
//! test command.

use std::collections::BTreeSet;
use std::path::Path;

use wiro_nodes::node::Registry;

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

#[test]
fn the_node_table_lists_every_registered_node() {
    let readme = read("README.md");
    let listed: BTreeSet<&str> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`').map(|(id, _)| id))
        .filter(|id| id.contains('/')) // other tables list Wiro's parameter types
        .collect();
    let registry = Registry::from_inventory();
    let registered: BTreeSet<&str> = registry.type_ids().collect();
    assert_eq!(listed, registered);
}

#[test]
fn ci_runs_the_readme_test_command() {
    let readme = read("README.md");
    let test_command = readme
        .lines()
        .find(|line| line.contains("# the whole test suite"))
        .and_then(|line| line.split('#').next())
        .map(str::trim)
        .unwrap();
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|line| line.trim() == test_command),
        ".ci/run does not run {test_command:?}"
    );
}
