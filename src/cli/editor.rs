//! `wiro-nodes editor`: serves the browser workflow editor until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{backend, signals, EXIT_FAILED};
use crate::hosts::editor::{Editor, EditorConfig};

/// Arguments of `wiro-nodes editor`.
#[derive(Debug, clap::Args)]
pub(crate) struct EditorArgs {
    /// Where to listen. Keep it on 127.0.0.1: the page can spend money.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Open the page in the default browser.
    #[arg(long)]
    open: bool,
    /// The workspace: relative input paths are read from here, files chosen in the page are
    /// stored in its uploads/ folder, and workflows are saved here.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Where downloads and the run journal go, as for `run`.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    #[command(flatten)]
    fetch: backend::FetchArgs,
}

pub(crate) async fn serve(args: EditorArgs) -> u8 {
    let registry = match super::registry::registry_or_exit() {
        Ok(registry) => registry,
        Err(code) => return code,
    };
    let backend = match backend::connect(&args.fetch).await {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("error: {error}");
            return error.exit_code();
        }
    };
    let mut config = EditorConfig::new(backend.client.clone());
    config.addr = args.addr;
    config.workspace = args.dir;
    config.out_dir = args.out;
    config.registry = registry;
    if backend.is_emulator() {
        config.backend = "embedded emulator".into();
        // An emulator of this process only: no other run could hold its tasks.
        config.state_dir = None;
    }
    let editor = match Editor::start(config).await {
        Ok(editor) => editor,
        Err(error) => {
            eprintln!(
                "error: could not start the editor on {}: {error}",
                args.addr
            );
            return EXIT_FAILED;
        }
    };
    if !editor.addr().ip().is_loopback() {
        eprintln!(
            "warning: listening on {}, reachable from other machines; anyone with the URL can spend money",
            editor.addr()
        );
    }
    outln!("Workflow editor: {}", editor.url());
    outln!("(the token in the address guards the editor: keep it to yourself; Ctrl-C stops)");
    if args.open {
        open_browser(&editor.url());
    }
    // Ctrl-C or SIGTERM: a run going on is cancelled (its tasks stopped) before the editor ends.
    let stop = tokio_util::sync::CancellationToken::new();
    let (watcher, _) = signals::watch(
        stop.clone(),
        "Stopping: cancelling queued tasks and killing running ones (again to quit at once)...",
    );
    stop.cancelled().await;
    editor.stop_run().await;
    watcher.abort();
    drop(editor);
    drop(backend);
    0
}

/// Best effort: the platform's opener; the URL is printed either way.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    if let Err(error) = std::process::Command::new(opener).arg(url).spawn() {
        eprintln!("could not open a browser ({opener}: {error}); open the address above");
    }
}
