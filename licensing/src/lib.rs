//! exportctl licensing: turns a shipment into a recorded, explained,
//! reproducible decision per line and per regime.
//!
//! The domain (policy packs, party screening, the decision engine) lives in
//! `exportctl-core` and is re-exported here; `convert`, `classification`
//! and `service` are the gRPC layer, `ledger` the durable record.

pub mod classification;
pub mod convert;
pub mod error;
pub mod filter;
pub mod health;
pub mod idempotency;
pub mod ledger;
pub mod readback;
pub mod screening_source;
pub mod service;

pub use exportctl_core::decide::{bundled, engine, parties, policy};

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use exportctl_proto::licensing::licensing_service_server::LicensingServiceServer;
use exportctl_runtime::auth::{ApiKey, ApiKeys, Scope};
use exportctl_runtime::metrics::Registry;
use exportctl_runtime::reload::{ReloadStats, Reloader};
use exportctl_runtime::server::{BoundServer, Limits, Listen};
use exportctl_runtime::tls::{ClientTls, ServerTls};
use tonic::server::NamedService;

pub use error::{Error, PolicyError};
pub use policy::PolicySet;
pub use screening_source::{ScreeningArgs, ScreeningSources, ScreeningStats, SharedScreening};
pub use service::{Licensing, SharedPolicies};

use crate::classification::{Classification, ClassifierClient, InProcessClassifier};
use crate::engine::EngineConfig;
use crate::ledger::anchor::{self, Anchoring};
use crate::ledger::{LedgerKey, LedgerStore, PostgresLedger, SqliteLedger};

/// Settings of one licensing server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub classifier_url: String,
    /// Classify in this process with this classifier service instead of
    /// calling `classifier_url` (the classifier's keys and TLS do not apply).
    pub in_process_classifier: Option<exportctl_classifier::Classifier>,
    /// `sqlite://PATH` (PATH relative to the working directory, or absolute).
    pub ledger: String,
    /// A policy directory; `None` = the packs compiled into the binary.
    pub policy: Option<PathBuf>,
    pub engine: EngineConfig,
    /// Official screening lists (Consolidated Screening List downloads, JSON
    /// or CSV): file paths or https URLs. None = the packs' parties only.
    pub screening_lists: Vec<String>,
    /// How often a URL list is fetched again.
    pub screening_refresh: Duration,
    /// Extra CA certificate(s) (PEM) trusted for https list fetches.
    pub screening_ca: Option<PathBuf>,
    pub classifier_timeout: Duration,
    /// How often the classifier is probed; licensing reports NOT_SERVING
    /// while it does not answer ([`health`]).
    pub classifier_health_interval: Duration,
    pub limits: Limits,
    /// How often the policy directory is checked for changes (SIGHUP reloads at once).
    pub reload_interval: Duration,
    /// Where to serve Prometheus `/metrics`; `None` = not served.
    pub metrics_listen: Option<SocketAddr>,
    /// How long in-flight calls may take to finish after shutdown is requested.
    pub drain: Duration,
    /// API keys (by SHA-256) and their scopes; empty = no key needed.
    pub api_keys: Vec<ApiKey>,
    /// TLS (mutual TLS with a client CA) on the gRPC listener; `None` = plaintext.
    pub tls: Option<ServerTls>,
    /// The key this service presents to the classifier, if it requires one.
    pub classifier_api_key: Option<String>,
    /// TLS to the classifier (CA, and a client certificate for mutual TLS); use an https URL.
    pub classifier_tls: Option<ClientTls>,
    /// The ledger key file (see [`LedgerKey`]); `None` = records are hashed unkeyed.
    pub ledger_key_file: Option<PathBuf>,
    /// Where the ledger's head is anchored: a file, or a directory holding
    /// [`anchor::ANCHOR_FILE_NAME`]; `None` = no anchor.
    pub ledger_anchor: Option<PathBuf>,
    /// How often the anchor is rewritten when the head has moved.
    pub ledger_anchor_interval: Duration,
    /// Serve although the ledger does not match its anchor, abandoning the
    /// anchored chain whose head hash this is.
    pub accept_ledger_reset: Option<String>,
}

/// The ledger's integrity settings as flags (the licensing binary and `exportctl serve`).
#[derive(Debug, Clone, clap::Args)]
pub struct LedgerArgs {
    /// File holding the ledger key (at least 32 bytes: 64+ hex digits, or raw
    /// bytes): records are then HMAC-SHA-256 keyed, so they cannot be
    /// rewritten and re-chained without it. Keep it off the ledger's host.
    #[arg(long, value_name = "PATH", env = "LICENSING_LEDGER_KEY_FILE")]
    pub ledger_key_file: Option<PathBuf>,
    /// Publish the ledger's head here (a file, or a directory for
    /// exportctl-ledger.anchor), and refuse to start on a ledger that is
    /// shorter than it, differs from it or is missing. Keep it on other storage.
    #[arg(long, value_name = "PATH", env = "LICENSING_LEDGER_ANCHOR")]
    pub ledger_anchor: Option<PathBuf>,
    /// How often the anchor is rewritten when the head has moved (and at shutdown).
    #[arg(
        long,
        value_name = "DURATION",
        env = "LICENSING_LEDGER_ANCHOR_INTERVAL",
        default_value = "10s",
        value_parser = screening_source::parse_duration
    )]
    pub ledger_anchor_interval: Duration,
    /// Start although the ledger does not match its anchor (truncated,
    /// diverged, replaced or missing), abandoning the anchored chain: give
    /// the anchor's head hash, as the refusal prints it.
    #[arg(long, value_name = "HASH")]
    pub accept_ledger_reset: Option<String>,
}

impl LedgerArgs {
    /// Puts these settings into a licensing config.
    pub fn apply(self, config: &mut Config) {
        config.ledger_key_file = self.ledger_key_file;
        config.ledger_anchor = self.ledger_anchor;
        config.ledger_anchor_interval = self.ledger_anchor_interval;
        config.accept_ledger_reset = self.accept_ledger_reset;
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50052)),
            classifier_url: "http://127.0.0.1:50051".into(),
            in_process_classifier: None,
            ledger: "sqlite://./exportctl-ledger.db".into(),
            policy: None,
            engine: EngineConfig::default(),
            screening_lists: Vec::new(),
            screening_refresh: Duration::from_secs(6 * 3600),
            screening_ca: None,
            classifier_timeout: Duration::from_secs(5),
            classifier_health_interval: Duration::from_secs(2),
            limits: Limits::default(),
            reload_interval: Duration::from_secs(2),
            metrics_listen: None,
            drain: exportctl_runtime::server::DEFAULT_DRAIN,
            api_keys: Vec::new(),
            tls: None,
            classifier_api_key: None,
            classifier_tls: None,
            ledger_key_file: None,
            ledger_anchor: None,
            ledger_anchor_interval: Duration::from_secs(10),
            accept_ledger_reset: None,
        }
    }
}

impl Config {
    /// Refuses TLS settings that would not protect the service or its
    /// classifier connection (see [`exportctl_runtime::tls::check_client`]),
    /// naming the flag to fix.
    pub fn check_tls(&self) -> Result<(), exportctl_runtime::errors::ConfigError> {
        if let Some(tls) = &self.tls {
            tls.check()?;
        }
        if self.in_process_classifier.is_none() {
            exportctl_runtime::tls::check_client(
                &self.classifier_url,
                self.classifier_tls.as_ref(),
                self.classifier_api_key.is_some(),
                &exportctl_runtime::tls::ClientFlags::CLASSIFIER,
            )?;
        }
        Ok(())
    }
}

/// Opens the ledger a URL names (unkeyed).
pub fn open_ledger(url: &str) -> anyhow::Result<Arc<dyn LedgerStore>> {
    open_ledger_keyed(url, None)
}

/// Opens the ledger a URL names; with a key, new records are keyed and
/// keyed records are checked with it.
pub fn open_ledger_keyed(
    url: &str,
    key: Option<LedgerKey>,
) -> anyhow::Result<Arc<dyn LedgerStore>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        anyhow::ensure!(!path.is_empty(), "ledger url `{url}` names no file");
        return Ok(Arc::new(SqliteLedger::open_keyed(
            std::path::Path::new(path),
            key,
        )?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PostgresLedger::connect_keyed(url, key)?));
    }
    anyhow::bail!("unsupported ledger url `{url}` (expected sqlite://PATH or postgres://…)")
}

pub fn load_policies(config: &Config) -> Result<PolicySet, PolicyError> {
    match &config.policy {
        Some(dir) => PolicySet::load_dir(dir),
        None => PolicySet::bundled(),
    }
}

/// The scope each licensing RPC needs.
fn scope_of(path: &str) -> Option<Scope> {
    let method = path.strip_prefix("/exportctl.licensing.v1.LicensingService/")?;
    Some(match method {
        "Decide" | "ScreenParties" => Scope::Decide,
        "VerifyLedger" => Scope::Admin,
        _ => Scope::Read,
    })
}

/// The file a `sqlite://` ledger URL names, if it names one.
pub fn sqlite_path(url: &str) -> Option<&std::path::Path> {
    url.strip_prefix("sqlite://")
        .filter(|p| !p.is_empty())
        .map(std::path::Path::new)
}

/// Reads the key file a flag names; the error names the flag and the file.
pub fn read_ledger_key(path: Option<&std::path::Path>) -> Result<Option<LedgerKey>, Error> {
    path.map(|p| {
        LedgerKey::read(p).map_err(|e| Error::LedgerKey {
            path: p.display().to_string(),
            detail: e.0,
        })
    })
    .transpose()
}

/// Opens the configured ledger only if it passes its start-up checks (see
/// [`anchor::guard`]): the chain verifies (keyed records with the key) and
/// it matches its anchor, or `accept_ledger_reset` names the abandoned
/// anchor's head. A missing SQLite file with an anchor present is refused
/// before anything is created.
async fn open_checked(
    config: &Config,
    key: Option<LedgerKey>,
    anchor: Option<&anchor::Anchor>,
) -> anyhow::Result<Arc<dyn LedgerStore>> {
    let accept = config.accept_ledger_reset.as_deref();
    if let Some(path) = sqlite_path(&config.ledger)
        && !path.exists()
    {
        // Accepted or not, the guard below says so once the file exists.
        let empty = ledger::ChainWalk::default().finish();
        if let Err(Error::LedgerRefused(r)) =
            anchor::check(&empty, anchor, key.as_ref(), |_| Ok(None))
            && (accept.is_none() || r.reset_hash.as_deref() != accept)
        {
            let e = anchor::waive(Err(Error::LedgerRefused(r)), accept).err();
            anyhow::bail!(
                "{} (no file at {})",
                e.map(|e| e.to_string()).unwrap_or_default(),
                path.display()
            );
        }
    }
    let url = config.ledger.clone();
    let (anchor, accept) = (anchor.cloned(), accept.map(str::to_string));
    tokio::task::spawn_blocking(move || {
        let ledger = open_ledger_keyed(&url, key.clone())?;
        let started = std::time::Instant::now();
        let v = anchor::guard(
            ledger.as_ref(),
            anchor.as_ref(),
            key.as_ref(),
            accept.as_deref(),
        )?;
        tracing::info!(
            records = v.length,
            head = %v.head_hash,
            keyed_from = v.keyed_from.unwrap_or(0),
            anchored = anchor.as_ref().map_or(0, |a| a.sequence),
            millis = started.elapsed().as_millis() as u64,
            "ledger verified"
        );
        Ok(ledger)
    })
    .await?
}

/// A bound, ready-to-run licensing server.
pub struct Application {
    server: BoundServer,
    policies: SharedPolicies,
    reload_stats: Arc<ReloadStats>,
    anchoring: Arc<Anchoring>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&config.engine.party_match_threshold),
            "party match threshold must be within 0..1"
        );
        config.check_tls()?;
        let policies = SharedPolicies::new(load_policies(&config)?);
        let screening_stats = Arc::new(ScreeningStats::default());
        let screening_sources = ScreeningSources::load(&config, screening_stats.clone()).await?;
        let screening = screening_sources.shared();
        let key = read_ledger_key(config.ledger_key_file.as_deref())?;
        let anchor_file = config.ledger_anchor.as_deref().map(anchor::anchor_file);
        let anchor = match &anchor_file {
            Some(f) => anchor::read_anchor(f)?,
            None => None,
        };
        // Opening may block (file system, network): off the executor inside.
        let ledger = open_checked(&config, key.clone(), anchor.as_ref()).await?;
        // The first anchor (of a new chain after an accepted reset, too) is
        // written before serving; an unwritable anchor fails the start.
        let anchoring = Arc::new(Anchoring::new(
            ledger.clone(),
            anchor_file,
            key,
            anchor.as_ref(),
        ));
        let first = anchoring.clone();
        tokio::task::spawn_blocking(move || first.tick()).await??;
        let classifier = match &config.in_process_classifier {
            Some(service) => {
                Classification::new(Arc::new(InProcessClassifier::new(service.clone())))
            }
            None => Classification::new(Arc::new(
                ClassifierClient::new(
                    &config.classifier_url,
                    config.classifier_api_key.as_deref(),
                    config.classifier_tls.as_ref(),
                    config.limits.write_coalescing,
                )
                .map_err(anyhow::Error::msg)?,
            )),
        };
        let registry = Arc::new(Registry::serving(&[
            <LicensingServiceServer<Licensing> as NamedService>::NAME,
        ]));
        let service = Licensing::new(
            policies.clone(),
            screening.clone(),
            classifier.clone(),
            ledger,
            config.engine,
            config.classifier_timeout,
            registry.clone(),
        );
        let service = LicensingServiceServer::new(service)
            .max_decoding_message_size(config.limits.max_decoding_message_size);
        let mut server = BoundServer::bind(
            Listen {
                grpc: config.listen,
                metrics: config.metrics_listen,
                tls: config.tls.clone(),
            },
            config.limits,
            &[exportctl_proto::FILE_DESCRIPTOR_SET],
            <LicensingServiceServer<Licensing> as NamedService>::NAME,
            registry.clone(),
            ApiKeys::new(config.api_keys.clone(), scope_of).map_err(anyhow::Error::msg)?,
            |router| router.add_service(service),
        )
        .await?
        .drain_within(config.drain);
        let digest = |p: &PolicySet| p.digest.clone();
        let reload_stats = Arc::new(ReloadStats::default());
        reload_stats.expose(&registry, "licensing", policies.clone(), digest);
        screening_stats.expose(&registry, screening.clone());
        anchoring.stats().expose(&registry);
        server.companion(anchoring.clone().run(config.ledger_anchor_interval));
        let classifier_up = Arc::new(health::ClassifierUp::default());
        {
            let up = classifier_up.clone();
            registry.render_with(move |out| up.render(out));
        }
        server.companion(
            health::Monitor {
                classifier,
                reporter: server.health_reporter(),
                service: <LicensingServiceServer<Licensing> as NamedService>::NAME,
                interval: config
                    .classifier_health_interval
                    .max(Duration::from_millis(10)),
                state: classifier_up,
                metrics: registry.clone(),
            }
            .run(),
        );
        if !screening_sources.is_empty() {
            server.companion(screening_sources.run());
        }
        if let Some(dir) = config.policy.clone() {
            server.companion(
                Reloader {
                    what: "licensing policies",
                    dir,
                    interval: config.reload_interval,
                    shared: policies.clone(),
                    load: PolicySet::load_dir,
                    digest,
                    stats: reload_stats.clone(),
                }
                .run(),
            );
        }
        Ok(Self {
            server,
            policies,
            reload_stats,
            anchoring,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Where `/metrics` is served, if configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.server.metrics_addr()
    }

    pub fn policies(&self) -> SharedPolicies {
        self.policies.clone()
    }

    /// Reload outcomes so far.
    pub fn reload_stats(&self) -> Arc<ReloadStats> {
        self.reload_stats.clone()
    }

    /// Serves until `shutdown` resolves, then drains in-flight calls.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), digest = %self.policies.current().digest, "licensing serving");
        let served = self.server.serve(shutdown).await;
        // Whatever was committed up to the stop is anchored.
        self.anchoring.tick_async().await;
        served?;
        tracing::info!("licensing stopped");
        Ok(())
    }
}
