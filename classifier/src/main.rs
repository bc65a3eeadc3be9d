//! `classifier`: the exportctl classifier gRPC server.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use exportctl_classifier::{Application, Config};
use exportctl_runtime::server::shutdown_signal;
use exportctl_runtime::telemetry::{self, LogFormat};

/// Classifies semiconductor products against export-control lists over gRPC.
#[derive(Debug, Parser)]
#[command(name = "classifier", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "CLASSIFIER_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// Directory with vocabulary.toml and rule packs, instead of the bundled packs.
    #[arg(long, env = "CLASSIFIER_RULES")]
    rules: Option<PathBuf>,
    /// Serve the Echo RPC used as the benchmark baseline.
    #[arg(long, env = "CLASSIFIER_ECHO")]
    echo: bool,
    /// Log format: text or json.
    #[arg(long, env = "CLASSIFIER_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// Check the rule packs and exit.
    #[arg(long)]
    check: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    telemetry::init(args.log_format);
    let config = Config {
        listen: args.listen,
        rules: args.rules,
        echo: args.echo,
        ..Config::default()
    };
    if args.check {
        let rules = exportctl_classifier::load_rules(&config)?;
        println!(
            "ok: {} packs, digest {}",
            rules.packs().count(),
            rules.digest()
        );
        return Ok(());
    }
    let app = Application::build(config).await?;
    app.run_until(shutdown_signal()).await
}
