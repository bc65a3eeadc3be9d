//! `licensing`: the exportctl licensing gRPC server.
//!
//! `licensing [FLAGS]` serves; `licensing healthcheck` asks the server on the
//! configured listen address whether it is SERVING (for container health
//! checks).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use exportctl_licensing::engine::EngineConfig;
use exportctl_licensing::{Application, Config, LedgerArgs, ScreeningArgs};
use exportctl_proto::licensing::licensing_service_server::SERVICE_NAME;
use exportctl_runtime::server::{HealthcheckArgs, healthcheck, shutdown_signal};
use exportctl_runtime::telemetry::{self, LogFormat};

/// Decides export shipments per line and regime and records every decision.
#[derive(Debug, Parser)]
#[command(name = "licensing", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    args: Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check that the server on the listen address (--listen, LICENSING_LISTEN)
    /// is SERVING (grpc.health.v1 Check); exit 0 if so, 1 otherwise.
    Healthcheck(HealthcheckArgs),
}

exportctl_runtime::limit_args!(LicensingLimits, "LICENSING_");

/// How to serve.
#[derive(Debug, clap::Args)]
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
    /// How often the classifier is probed (grpc.health.v1 Check), milliseconds; licensing reports NOT_SERVING while it does not answer.
    #[arg(
        long,
        env = "LICENSING_CLASSIFIER_HEALTH_INTERVAL_MS",
        default_value_t = 2000
    )]
    classifier_health_interval_ms: u64,
    /// Log format: text or json.
    #[arg(long, env = "LICENSING_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// TOML file of API keys: [[key]] name, sha256 (of the key), scopes; none = no key needed.
    #[arg(long, env = "LICENSING_API_KEYS")]
    api_keys: Option<PathBuf>,
    /// API key to present to the classifier, when it requires one.
    #[arg(long, env = "LICENSING_CLASSIFIER_API_KEY", hide_env_values = true)]
    classifier_api_key: Option<String>,
    /// Server certificate (PEM) for TLS on the gRPC listener.
    #[arg(long, env = "LICENSING_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Key (PEM) of --tls-cert.
    #[arg(long, env = "LICENSING_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA certificate (PEM) clients must be signed by (mutual TLS).
    #[arg(long, env = "LICENSING_TLS_CLIENT_CA", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// CA certificate (PEM) that signs the classifier's certificate (TLS to the classifier; use an https URL).
    #[arg(long, env = "LICENSING_CLASSIFIER_CA")]
    classifier_ca: Option<PathBuf>,
    /// Client certificate (PEM) this service presents to the classifier (mutual TLS).
    #[arg(long, env = "LICENSING_CLASSIFIER_CERT", requires = "classifier_key")]
    classifier_cert: Option<PathBuf>,
    /// Key (PEM) of --classifier-cert.
    #[arg(long, env = "LICENSING_CLASSIFIER_KEY", requires = "classifier_cert")]
    classifier_key: Option<PathBuf>,
    /// Serve Prometheus /metrics on this address (e.g. 127.0.0.1:9052).
    #[arg(long, env = "LICENSING_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// How often --policy is checked for changes, milliseconds (SIGHUP reloads at once).
    #[arg(long, env = "LICENSING_RELOAD_INTERVAL_MS", default_value_t = 2000)]
    reload_interval_ms: u64,
    #[command(flatten)]
    limits: LicensingLimits,
    #[command(flatten)]
    screening: ScreeningArgs,
    #[command(flatten)]
    ledger_integrity: LedgerArgs,
    /// Check the policy packs and exit.
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
    let telemetry = telemetry::init(args.log_format, "exportctl-licensing");
    let mut config = Config {
        listen: args.listen,
        classifier_url: args.classifier_url,
        ledger: args.ledger,
        policy: args.policy,
        engine: EngineConfig {
            party_match_threshold: args.party_match_threshold,
            ..Default::default()
        },
        classifier_timeout: Duration::from_millis(args.classifier_timeout_ms),
        classifier_health_interval: Duration::from_millis(args.classifier_health_interval_ms),
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
        classifier_api_key: args.classifier_api_key,
        classifier_tls: (args.classifier_ca.is_some() || args.classifier_cert.is_some()).then(
            || exportctl_runtime::tls::ClientTls {
                ca: args.classifier_ca.clone(),
                cert: args.classifier_cert.clone(),
                key: args.classifier_key.clone(),
                domain: None,
            },
        ),
        reload_interval: Duration::from_millis(args.reload_interval_ms.max(100)),
        limits: args.limits.limits(),
        ..Config::default()
    };
    args.screening.apply(&mut config);
    args.ledger_integrity.apply(&mut config);
    if args.check {
        let p = exportctl_licensing::load_policies(&config)?;
        println!("ok: {} regime packs, digest {}", p.regimes.len(), p.digest);
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
