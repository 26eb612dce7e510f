//! `wiro-nodes mcp`: the nodes as tools for AI agents, over stdio (what desktop clients start)
//! or Streamable HTTP (`--http`, on 127.0.0.1 with a token).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::{backend, signals, EXIT_FAILED, EXIT_INVALID};
use crate::hosts::mcp::{self, McpConfig};
use crate::node::matches_pattern;

/// Arguments of `wiro-nodes mcp`.
#[derive(Debug, clap::Args)]
pub(crate) struct McpArgs {
    /// Serve Streamable HTTP on ADDR instead of stdio (127.0.0.1:0 picks a free port); the
    /// URL, token included, is printed on stdout.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:0")]
    http: Option<SocketAddr>,
    /// The HTTP token (a fresh random one by default).
    #[arg(long, env = "WIRO_MCP_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Offer only the node types matching one of these patterns (`*` for any characters,
    /// comma-separated: `pixverse/*,wiro/file.upload`). By default all of them but those
    /// that act on any task of the account (task kill, cancel, files delete): name each
    /// here as it is (`wiro/task.kill`; no pattern offers them) to offer it;
    /// `wiro_stop_task` stops the server's own tasks.
    #[arg(long, value_name = "PATTERN", value_delimiter = ',')]
    tools: Vec<String>,
    /// The folder uploads may read files from; paths outside it are refused. Without it no
    /// local file is read (an agent's uploads come from URLs only). Not `/` or your home.
    #[arg(long, value_name = "DIR")]
    files: Option<PathBuf>,
    /// Where outputs are downloaded (one folder per task) and the journal is kept.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Seconds a call waits for its task before answering with the task to follow.
    #[arg(long, default_value_t = 40)]
    wait_seconds: u64,
    /// A budget in dollars for every Run this server starts; a price above what is left, or
    /// unknown, sends nothing.
    #[arg(long, value_name = "USD", allow_hyphen_values = true, value_parser = super::money::cap)]
    max_cost: Option<f64>,
    /// Seconds within which a call repeated with the same tool and arguments answers with
    /// the first call's task instead of paying again.
    #[arg(long, default_value_t = 600)]
    repeat_window_seconds: u64,
    #[command(flatten)]
    fetch: backend::FetchArgs,
}

/// Whether the node type `id` is offered as a tool under `--tools PATTERNS` (none: every
/// type). A type that acts on any task of the account only when a pattern names it as it
/// is: `*` and `wiro/task.*` offer no way to kill or delete another run's tasks.
fn offered(patterns: &[String], id: &str) -> bool {
    if crate::hosts::mcp::tools::ACCOUNT_WIDE.contains(&id) {
        return patterns.iter().any(|pattern| pattern == id);
    }
    patterns.is_empty() || (patterns.iter()).any(|pattern| matches_pattern(pattern, id))
}

pub(crate) async fn serve(args: McpArgs) -> u8 {
    let registry = match super::registry::registry_or_exit() {
        Ok(registry) => registry,
        Err(code) => return code,
    };
    let registry = registry.filtered(|id| offered(&args.tools, id));
    if let Some(files) = &args.files {
        let real = std::fs::canonicalize(files).unwrap_or_else(|_| files.clone());
        let home = std::env::var_os("HOME").map(|home| {
            let home = PathBuf::from(home);
            std::fs::canonicalize(&home).unwrap_or(home)
        });
        // `/`, your home, or a folder above it: every file of yours.
        if real.parent().is_none() || home.is_some_and(|home| home.starts_with(&real)) {
            eprintln!(
                "error: --files {}: an agent could upload any file under it; name a folder of its own",
                files.display()
            );
            return EXIT_INVALID;
        }
    }
    if registry.is_empty() {
        eprintln!(
            "error: no node type matches --tools {}",
            args.tools.join(",")
        );
        return EXIT_INVALID;
    }
    let backend = match backend::connect(&args.fetch).await {
        Ok(backend) => backend,
        Err(error) => {
            eprintln!("error: {error}");
            return error.exit_code();
        }
    };
    let mut config = McpConfig::new(backend.client.clone(), registry);
    config.files_dir = args.files;
    config.out_dir = args.out;
    config.wait = Duration::from_secs(args.wait_seconds.max(1));
    config.max_cost_usd = args.max_cost;
    config.repeat_window = Duration::from_secs(args.repeat_window_seconds);
    // An emulator of this process only: no other run could hold its tasks.
    config.state_dir =
        (crate::graph::RunOptions::user_state_dir()).filter(|_| !backend.is_emulator());
    config.backend = if backend.is_emulator() {
        "embedded emulator".into()
    } else {
        backend.client.config().base_url.clone()
    };
    let Some(addr) = args.http else {
        // stdout is the protocol's: everything else goes to stderr.
        eprintln!("wiro-nodes MCP server on stdio ({})", config.backend);
        return match mcp::serve_stdio(config).await {
            Ok(()) => 0,
            Err(error) => {
                eprintln!("error: {error}");
                EXIT_FAILED
            }
        };
    };
    let server = match mcp::serve_http(config, addr, args.token).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: could not serve MCP on {addr}: {error}");
            return EXIT_FAILED;
        }
    };
    if !server.addr().ip().is_loopback() {
        eprintln!(
            "warning: listening on {}, reachable from other machines; anyone with the token can spend money",
            server.addr()
        );
    }
    // Whoever started the server may stop reading its output: that must not stop it.
    outln!("MCP server: {}", server.url());
    outln!(
        "(or {} with the header: Authorization: Bearer <token>; keep the token to yourself; Ctrl-C stops)",
        server.endpoint()
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let (watcher, _) = signals::watch(
        stop.clone(),
        "Stopping the MCP server; tasks it started go on and are in its journal",
    );
    stop.cancelled().await;
    watcher.abort();
    server.stop().await;
    drop(backend);
    0
}

#[cfg(test)]
mod tests {
    use super::offered;

    #[test]
    fn a_tool_that_acts_on_any_task_of_the_account_is_offered_only_by_its_name() {
        let all: Vec<String> = Vec::new();
        assert!(offered(&all, "pixverse/text-to-video-v4"));
        assert!(!offered(&all, "wiro/task.kill"));
        let wide = vec!["*".to_owned(), "wiro/task.*".to_owned()];
        assert!(offered(&wide, "wiro/task.wait"));
        assert!(!offered(&wide, "wiro/task.files.delete"));
        let named = vec!["wiro/task.kill".to_owned()];
        assert!(offered(&named, "wiro/task.kill"));
        assert!(!offered(&named, "wiro/task.cancel"));
    }
}
