//! `licensing`: the exportctl licensing gRPC server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use exportctl_licensing::engine::EngineConfig;
use exportctl_licensing::{Application, Config};
use exportctl_runtime::server::shutdown_signal;
use exportctl_runtime::telemetry::{self, LogFormat};

/// Decides export shipments per line and regime and records every decision.
#[derive(Debug, Parser)]
#[command(name = "licensing", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "LICENSING_LISTEN", default_value = "127.0.0.1:50052")]
    listen: SocketAddr,
    /// The classifier service.
    #[arg(
        long,
        env = "LICENSING_CLASSIFIER_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    classifier_url: String,
    /// The decision ledger: sqlite://PATH.
    #[arg(
        long,
        env = "LICENSING_LEDGER",
        default_value = "sqlite://./exportctl-ledger.db"
    )]
    ledger: String,
    /// Directory with common.toml and policy packs, instead of the bundled packs.
    #[arg(long, env = "LICENSING_POLICY")]
    policy: Option<PathBuf>,
    /// Name similarity (0..1) from which an end user is a near miss of a listed party.
    #[arg(long, env = "LICENSING_PARTY_MATCH_THRESHOLD", default_value_t = 0.85)]
    party_match_threshold: f64,
    /// Longest wait for the classifier per call, milliseconds (the caller's deadline may be shorter).
    #[arg(long, env = "LICENSING_CLASSIFIER_TIMEOUT_MS", default_value_t = 5000)]
    classifier_timeout_ms: u64,
    /// Log format: text or json.
    #[arg(long, env = "LICENSING_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// Check the policy packs and exit.
    #[arg(long)]
    check: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    telemetry::init(args.log_format);
    let config = Config {
        listen: args.listen,
        classifier_url: args.classifier_url,
        ledger: args.ledger,
        policy: args.policy,
        engine: EngineConfig {
            party_match_threshold: args.party_match_threshold,
        },
        classifier_timeout: Duration::from_millis(args.classifier_timeout_ms),
        ..Config::default()
    };
    if args.check {
        let p = exportctl_licensing::load_policies(&config)?;
        println!("ok: {} regime packs, digest {}", p.regimes.len(), p.digest);
        return Ok(());
    }
    let app = Application::build(config).await?;
    app.run_until(shutdown_signal()).await
}
