//! `classifier`: the exportctl classifier gRPC server.
//!
//! `classifier [FLAGS]` serves; `classifier healthcheck` asks the server on
//! the configured listen address whether it is SERVING (for container health
//! checks).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use exportctl_classifier::{Application, Config};
use exportctl_proto::classifier::classifier_service_server::SERVICE_NAME;
use exportctl_runtime::server::{HealthcheckArgs, healthcheck, shutdown_signal};
use exportctl_runtime::telemetry::{self, LogFormat};

/// Classifies semiconductor products against export-control lists over gRPC.
#[derive(Debug, Parser)]
#[command(name = "classifier", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    args: Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check that the server on the listen address (--listen, CLASSIFIER_LISTEN)
    /// is SERVING (grpc.health.v1 Check); exit 0 if so, 1 otherwise.
    Healthcheck(HealthcheckArgs),
}

exportctl_runtime::limit_args!(ClassifierLimits, "CLASSIFIER_");

/// How to serve.
#[derive(Debug, clap::Args)]
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
    /// TOML file of API keys: [[key]] name, sha256 (of the key), scopes; none = no key needed.
    #[arg(long, env = "CLASSIFIER_API_KEYS")]
    api_keys: Option<PathBuf>,
    /// Server certificate (PEM) for TLS on the gRPC listener.
    #[arg(long, env = "CLASSIFIER_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Key (PEM) of --tls-cert.
    #[arg(long, env = "CLASSIFIER_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA certificate (PEM) clients must be signed by (mutual TLS).
    #[arg(long, env = "CLASSIFIER_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Serve Prometheus /metrics on this address (e.g. 127.0.0.1:9051).
    #[arg(long, env = "CLASSIFIER_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// How often --rules is checked for changes, milliseconds (SIGHUP reloads at once).
    #[arg(long, env = "CLASSIFIER_RELOAD_INTERVAL_MS", default_value_t = 2000)]
    reload_interval_ms: u64,
    #[command(flatten)]
    limits: ClassifierLimits,
    /// Check the rule packs and exit.
    #[arg(long)]
    check: bool,
}

// Many small, short-lived allocations per call (protobuf strings) and frees on other threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let Cli { command, args } = Cli::parse();
    if let Some(Command::Healthcheck(check)) = command {
        let tls = args.tls_cert.is_some();
        return Ok(healthcheck(args.listen, tls, SERVICE_NAME, check).await);
    }
    let telemetry = telemetry::init(args.log_format, "exportctl-classifier");
    let config = Config {
        listen: args.listen,
        rules: args.rules,
        echo: args.echo,
        metrics_listen: args.metrics_listen,
        tls: match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(exportctl_runtime::tls::ServerTls {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: args.tls_client_ca.clone(),
            }),
            _ => None,
        },
        api_keys: match &args.api_keys {
            Some(path) => {
                exportctl_runtime::auth::ApiKeys::read(path).map_err(anyhow::Error::msg)?
            }
            None => Vec::new(),
        },
        reload_interval: std::time::Duration::from_millis(args.reload_interval_ms.max(100)),
        limits: args.limits.limits(),
        ..Config::default()
    };
    if args.check {
        let rules = exportctl_classifier::load_rules(&config)?;
        println!(
            "ok: {} packs, digest {}",
            rules.packs().count(),
            rules.digest()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Handlers first: a SIGTERM once the server reports SERVING drains it.
    let stop = shutdown_signal();
    let app = Application::build(config).await?;
    let served = app.run_until(stop).await;
    telemetry.shutdown().await;
    served?;
    Ok(ExitCode::SUCCESS)
}
