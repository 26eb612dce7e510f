#![cfg(feature = "cli")]
//! `export n8n --models`: the package holds the chosen catalog models only, and carries their
//! definitions (`dist/wiro-catalog.json`); its bridge hands that file to every `node exec`,
//! whatever `WIRO_CATALOG` n8n's environment holds (scripts/ci/n8n.sh runs them in n8n).

use crate::common;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// A catalog synced from an emulator, written to `folder/catalog.json`.
async fn synced_catalog(folder: &Path) -> PathBuf {
    let emulator = common::fast_emulator().await;
    let path = folder.join("catalog.json");
    let output = common::binary_for(&emulator)
        .args(["catalog", "sync", "--all", "--catalog"])
        .arg(&path)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    path
}

/// `wiro-nodes --catalog CATALOG export n8n DIR --models M...`.
async fn export(catalog: &Path, dir: &Path, models: &[&str]) {
    let mut command = common::binary();
    command
        .env_remove("WIRO_CATALOG")
        .arg("--catalog")
        .arg(catalog);
    command.args(["export", "n8n"]).arg(dir);
    for model in models {
        command.args(["--models", model]);
    }
    let output = command.output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The type ids of the package's catalog file.
fn packaged_types(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("dist/wiro-catalog.json")).unwrap();
    let catalog: Value = serde_json::from_str(&text).unwrap();
    let mut types: Vec<String> = catalog["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|model| model["type"].as_str().unwrap().to_string())
        .collect();
    types.sort();
    types
}

#[tokio::test]
async fn n8n_export_packages_only_the_chosen_catalog_models() {
    let folder = tempfile::tempdir().unwrap();
    let catalog = synced_catalog(folder.path()).await;
    let dir = folder.path().join("pkg");
    export(&catalog, &dir, &["wiro/image-studio", "wiro/ch*"]).await;
    assert_eq!(packaged_types(&dir), ["wiro/chat", "wiro/image-studio"]);
    let nodes = dir.join("dist/nodes");
    assert!(nodes.join("WiroImageStudio").is_dir());
    assert!(nodes.join("WiroChat").is_dir());
    assert!(!nodes.join("WiroPixverseTextToVideoV5").exists());
    assert!(
        nodes.join("WiroPixverseTextToVideoV4").is_dir(),
        "built-in nodes are always exported"
    );

    export(&catalog, &dir, &["nothing/*"]).await;
    assert!(
        !dir.join("dist/wiro-catalog.json").exists(),
        "a package without catalog models keeps no catalog from an earlier export"
    );
    assert!(!nodes.join("WiroImageStudio").exists());
}

/// Runs the package's `class` node once in Node.js with a stand-in n8n context whose
/// credentials name `program`; n8n's own environment sets `WIRO_CATALOG` to `foreign`.
fn run_in_node(dir: &Path, class: &str, program: &Path, foreign: &Path) -> std::process::Output {
    let script = r#"
        const [root, cls, program] = process.argv.slice(1);
        const mod = require(`${root}/dist/nodes/${cls}/${cls}.node.js`);
        const node = new mod[cls]();
        const ctx = {
          getInputData: () => [{ json: {} }],
          getCredentials: async () => ({ apiKey: 'k', apiSecret: 's', baseUrl: 'http://127.0.0.1:9/v1', binaryPath: program }),
          getNodeParameter: (name, index, fallback) => (name === 'prompt' ? 'a boat' : fallback),
          continueOnFail: () => false,
          getNode: () => ({ name: 'Step' }),
          getExecutionId: () => 'e1',
          helpers: {},
        };
        node.execute.call(ctx).then(() => console.log('ran'), (e) => { console.error(e.stack); process.exit(1); });
    "#;
    std::process::Command::new("node")
        .args(["-e", script])
        .arg(dir)
        .arg(class)
        .arg(program)
        .env("WIRO_CATALOG", foreign)
        .env("WIRO_NODES_OUT", dir.join("out"))
        .env("RECORD", dir.join("calls.txt"))
        .output()
        .unwrap()
}

#[tokio::test]
async fn n8n_bridge_hands_the_packaged_catalog_to_node_exec_not_the_environments() {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("NOTE: no `node` program here; scripts/ci/n8n.sh runs the bridge in n8n");
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    let catalog = synced_catalog(folder.path()).await;
    let dir = folder.path().join("pkg");
    export(&catalog, &dir, &["wiro/image-studio"]).await;
    // A stand-in for wiro-nodes: records its catalog setting and arguments, outputs nothing.
    let program = folder.path().join("fake-wiro-nodes");
    std::fs::write(
        &program,
        "#!/bin/sh\necho \"${WIRO_CATALOG:-unset} $*\" >>\"$RECORD\"\ncat >/dev/null\necho '{}'\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();

    let output = run_in_node(&dir, "WiroImageStudio", &program, &catalog);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let calls = std::fs::read_to_string(dir.join("calls.txt")).unwrap();
    let packaged = dir.join("dist/wiro-catalog.json");
    let expected = format!(
        "unset --catalog {} node exec wiro/image-studio --inputs @- ",
        packaged.display()
    );
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines.len(), 2, "one check, one run: {calls}");
    for line in lines {
        assert!(line.starts_with(&expected), "{line}");
    }
    assert!(calls.contains("--check"), "{calls}");
}
