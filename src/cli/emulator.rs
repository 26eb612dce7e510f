//! `wiro-nodes emulator`: serves the local Wiro-compatible emulator until stopped, printing the
//! four `export` lines that point a client at it.

use std::net::SocketAddr;

use super::EXIT_FAILED;
use crate::emulator::{Chaos, Emulator, EmulatorConfig, FaultSpec};

/// Arguments of `wiro-nodes emulator`.
#[derive(Debug, clap::Args)]
pub(crate) struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// The API key clients must send.
    #[arg(long)]
    api_key: Option<String>,
    /// The API secret signatures are checked against.
    #[arg(long, conflicts_with = "key_only")]
    api_secret: Option<String>,
    /// Accept the API key alone (no signature), like a project without signature auth.
    #[arg(long)]
    key_only: bool,
    /// Time factor: 2 runs tasks twice as fast, 0.5 half as fast.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Refuse a nonce that was already used.
    #[arg(long)]
    reject_replayed_nonce: bool,
    /// At most this many tasks run at once; more wait in the queue.
    #[arg(long)]
    max_running: Option<usize>,
    /// At most this many tasks wait in the queue; a Run beyond gets code 96.
    #[arg(long)]
    max_queued: Option<usize>,
    /// The account balance; Runs that cannot be paid get code 97. Unlimited by default.
    #[arg(long)]
    balance: Option<f64>,
    /// Inject a fault: OP=KIND[:N], e.g. run=500, detail=429@2, download=truncate,
    /// detail=slow@1500, socket=drop, run=96, run=97, run=fail, list=500. run=drop creates the
    /// task, then cuts its answer (a lost answer); run=drop-before cuts the connection
    /// without creating one. Repeatable.
    #[arg(long = "fault", value_name = "OP=KIND[:N]")]
    faults: Vec<FaultSpec>,
    /// Random faults for a soak: the share of requests that meet one (500, 503, 429, answers
    /// cut after or before the server acted, slow answers, downloads cut halfway, sockets
    /// cut), e.g. 0.2, 20%, or 0.2,socket=0.5,run=0.1 for rates by operation.
    #[arg(long, value_name = "RATE[,OP=RATE]")]
    chaos: Option<Chaos>,
    /// Seeds --chaos, to replay a soak's faults; a random seed (printed) when not given.
    #[arg(long, requires = "chaos")]
    chaos_seed: Option<u64>,
    /// Let a Run's callbackUrl name HOST (every port) or HOST:PORT inside this machine's
    /// network; by default webhooks go to public addresses only. Repeatable.
    #[arg(long = "allow-callback", value_name = "HOST[:PORT]")]
    allow_callbacks: Vec<crate::api::AllowedHost>,
    /// Add N generated models to Tool/List and Tool/Detail, runnable too (varied parameter
    /// types, the same every time), e.g. to time `catalog sync --all` on a large catalog.
    #[arg(long, value_name = "N", default_value_t = 0)]
    synthetic_models: usize,
}

pub(crate) async fn serve(args: EmulatorArgs) -> u8 {
    let defaults = EmulatorConfig::default();
    let config = EmulatorConfig {
        addr: args.addr,
        api_key: args.api_key.unwrap_or(defaults.api_key),
        api_secret: if args.key_only {
            None
        } else {
            args.api_secret.or(defaults.api_secret)
        },
        speed: args.speed,
        reject_replayed_nonce: args.reject_replayed_nonce,
        max_running: args.max_running,
        max_queued: args.max_queued,
        balance: args.balance,
        faults: args.faults,
        chaos: args.chaos.map(|chaos| Chaos {
            seed: args.chaos_seed.unwrap_or_else(|| fastrand::u64(..)),
            ..chaos
        }),
        allow_callbacks: args.allow_callbacks,
        synthetic_models: args.synthetic_models,
    };
    let chaos = config.chaos.clone();
    let handle = match Emulator::start(config).await {
        Ok(handle) => handle,
        Err(error) => {
            eprintln!(
                "error: could not start the emulator on {}: {error}",
                args.addr
            );
            return EXIT_FAILED;
        }
    };
    // Always four lines: an empty secret means a key-only project to the client.
    outln!("export WIRO_BASE_URL={}", handle.base_url());
    outln!("export WIRO_SOCKET_URL={}", handle.socket_url());
    outln!("export WIRO_API_KEY={}", handle.api_key());
    outln!(
        "export WIRO_API_SECRET={}",
        handle.api_secret().unwrap_or_default()
    );
    eprintln!(
        "Wiro emulator serving on {}; counters at http://{}/emulator/stats; Ctrl-C to stop.",
        handle.addr(),
        handle.addr()
    );
    if let Some(chaos) = chaos {
        eprintln!(
            "Random faults on: {chaos} of requests, seed {} (--chaos-seed {} replays them).",
            chaos.seed, chaos.seed
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    0
}
