//! `exportctl`: the human entry point. `exportctl serve` runs the classifier
//! and the licensing service in one process on the embedded defaults
//! (bundled rule packs, SQLite ledger).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use exportctl_runtime::server::shutdown_signal;
use exportctl_runtime::telemetry::{self, LogFormat};
use tokio::sync::watch;

#[derive(Debug, Parser)]
#[command(
    name = "exportctl",
    version,
    about = "Export-control classification and licensing for semiconductor products"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the classifier and the licensing service in one process.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Classifier listen address.
    #[arg(long, env = "CLASSIFIER_LISTEN", default_value = "127.0.0.1:50051")]
    classifier_listen: SocketAddr,
    /// Licensing listen address.
    #[arg(long, env = "LICENSING_LISTEN", default_value = "127.0.0.1:50052")]
    licensing_listen: SocketAddr,
    /// The decision ledger: sqlite://PATH.
    #[arg(
        long,
        env = "LICENSING_LEDGER",
        default_value = "sqlite://./exportctl-ledger.db"
    )]
    ledger: String,
    /// Rules directory for the classifier instead of the bundled packs.
    #[arg(long, env = "CLASSIFIER_RULES")]
    rules: Option<PathBuf>,
    /// Policy directory for the licensing service instead of the bundled packs.
    #[arg(long, env = "LICENSING_POLICY")]
    policy: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, env = "EXPORTCTL_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    telemetry::init(args.log_format);
    let classifier = exportctl_classifier::Application::build(exportctl_classifier::Config {
        listen: args.classifier_listen,
        rules: args.rules,
        ..Default::default()
    })
    .await?;
    let licensing = exportctl_licensing::Application::build(exportctl_licensing::Config {
        listen: args.licensing_listen,
        classifier_url: format!("http://{}", classifier.local_addr()),
        ledger: args.ledger,
        policy: args.policy,
        ..Default::default()
    })
    .await?;
    tracing::info!(classifier = %classifier.local_addr(), licensing = %licensing.local_addr(), "exportctl serving");
    let (stop, stopped) = watch::channel(false);
    let wait = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let signal = async move {
        shutdown_signal().await;
        let _ = stop.send(true);
        Ok::<(), anyhow::Error>(())
    };
    tokio::try_join!(
        classifier.run_until(wait(stopped.clone())),
        licensing.run_until(wait(stopped)),
        signal
    )?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
    }
}
