//! exportctl licensing: turns a shipment into a recorded, explained,
//! reproducible decision per line and per regime.
//!
//! The domain (policy packs, party screening, the decision engine) lives in
//! `exportctl-core` and is re-exported here; `convert`, `classification`
//! and `service` are the gRPC layer, `ledger` the durable record.

pub mod classification;
pub mod convert;
pub mod error;
pub mod ledger;
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
use crate::ledger::{LedgerStore, PostgresLedger, SqliteLedger};

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
            limits: Limits::default(),
            reload_interval: Duration::from_secs(2),
            metrics_listen: None,
            drain: exportctl_runtime::server::DEFAULT_DRAIN,
            api_keys: Vec::new(),
            tls: None,
            classifier_api_key: None,
            classifier_tls: None,
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

/// Opens the ledger a URL names.
pub fn open_ledger(url: &str) -> anyhow::Result<Arc<dyn LedgerStore>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        anyhow::ensure!(!path.is_empty(), "ledger url `{url}` names no file");
        return Ok(Arc::new(SqliteLedger::open(std::path::Path::new(path))?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(PostgresLedger::connect(url)?));
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

/// A bound, ready-to-run licensing server.
pub struct Application {
    server: BoundServer,
    policies: SharedPolicies,
    reload_stats: Arc<ReloadStats>,
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
        // Opening may block (file system, network): keep it off the executor.
        let url = config.ledger.clone();
        let ledger = tokio::task::spawn_blocking(move || open_ledger(&url)).await??;
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
            classifier,
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
        self.server.serve(shutdown).await?;
        tracing::info!("licensing stopped");
        Ok(())
    }
}
