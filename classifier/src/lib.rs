//! exportctl classifier: maps a product spec to control-list entries in every
//! export-control regime, from versioned, cited rule packs.
//!
//! The domain (vocabulary, criteria, packs, engine) lives in `exportctl-core`
//! and is re-exported here; `convert` and `service` are the gRPC layer.

pub mod convert;
pub mod error;
pub mod service;

pub use exportctl_core::classify::{bundled, criteria, engine, pack, vocabulary};

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use exportctl_runtime::reload::{ReloadStats, Reloader};

use exportctl_proto::classifier::classifier_service_server::ClassifierServiceServer;
use exportctl_runtime::auth::{ApiKey, ApiKeys, Scope};
use exportctl_runtime::metrics::Registry;
use exportctl_runtime::server::{BoundServer, Limits, Listen};
use exportctl_runtime::tls::ServerTls;
use tonic::server::NamedService;

pub use engine::RuleSet;
pub use error::{Error, LoadError};
pub use service::{Classifier, SharedRules};

/// Settings of one classifier server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// A rules directory; `None` = the packs compiled into the binary.
    pub rules: Option<PathBuf>,
    /// Serve the Echo baseline RPC (for benchmarks).
    pub echo: bool,
    pub limits: Limits,
    /// How often the rules directory is checked for changes (SIGHUP reloads at once).
    pub reload_interval: Duration,
    /// Where to serve Prometheus `/metrics`; `None` = not served.
    pub metrics_listen: Option<SocketAddr>,
    /// How long in-flight calls may take to finish after shutdown is requested.
    pub drain: Duration,
    /// API keys (by SHA-256) and their scopes; empty = no key needed.
    pub api_keys: Vec<ApiKey>,
    /// TLS (mutual TLS with a client CA) on the gRPC listener; `None` = plaintext.
    pub tls: Option<ServerTls>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            rules: None,
            echo: false,
            limits: Limits::default(),
            reload_interval: Duration::from_secs(2),
            metrics_listen: None,
            drain: exportctl_runtime::server::DEFAULT_DRAIN,
            api_keys: Vec::new(),
            tls: None,
        }
    }
}

/// Loads the configured rule set.
pub fn load_rules(config: &Config) -> Result<RuleSet, LoadError> {
    match &config.rules {
        Some(dir) => RuleSet::load_dir(dir),
        None => RuleSet::bundled(),
    }
}

/// Every classifier RPC needs the `classify` scope.
fn scope_of(path: &str) -> Option<Scope> {
    path.starts_with("/exportctl.classifier.v1.ClassifierService/")
        .then_some(Scope::Classify)
}

/// A bound, ready-to-run classifier server.
pub struct Application {
    server: BoundServer,
    rules: SharedRules,
    reload_stats: Arc<ReloadStats>,
}

impl Application {
    /// Loads the rules and binds the listeners (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        if let Some(tls) = &config.tls {
            tls.check()?;
        }
        let rules = SharedRules::new(load_rules(&config)?);
        let registry = Arc::new(Registry::serving(&[
            <ClassifierServiceServer<Classifier> as NamedService>::NAME,
        ]));
        let service = ClassifierServiceServer::new(
            Classifier::new(rules.clone(), config.echo)
                .with_stream_idle_timeout(config.limits.stream_idle_timeout),
        )
        .max_decoding_message_size(config.limits.max_decoding_message_size);
        let mut server = BoundServer::bind(
            Listen {
                grpc: config.listen,
                metrics: config.metrics_listen,
                tls: config.tls.clone(),
            },
            config.limits,
            &[exportctl_proto::FILE_DESCRIPTOR_SET],
            <ClassifierServiceServer<Classifier> as NamedService>::NAME,
            registry.clone(),
            ApiKeys::new(config.api_keys.clone(), scope_of).map_err(anyhow::Error::msg)?,
            |router| router.add_service(service),
        )
        .await?
        .drain_within(config.drain);
        let digest = |r: &RuleSet| r.digest().to_string();
        let reload_stats = Arc::new(ReloadStats::default());
        reload_stats.expose(&registry, "classifier", rules.clone(), digest);
        if let Some(dir) = config.rules.clone() {
            server.companion(
                Reloader {
                    what: "classifier rules",
                    dir,
                    interval: config.reload_interval,
                    shared: rules.clone(),
                    load: RuleSet::load_dir,
                    digest,
                    stats: reload_stats.clone(),
                }
                .run(),
            );
        }
        Ok(Self {
            server,
            rules,
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

    /// The rule set in force (to reload it).
    pub fn rules(&self) -> SharedRules {
        self.rules.clone()
    }

    /// Reload outcomes so far.
    pub fn reload_stats(&self) -> Arc<ReloadStats> {
        self.reload_stats.clone()
    }

    /// Serves until `shutdown` resolves, then drains in-flight calls.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> anyhow::Result<()> {
        tracing::info!(addr = %self.local_addr(), digest = %self.rules.current().digest(), "classifier serving");
        self.server.serve(shutdown).await?;
        tracing::info!("classifier stopped");
        Ok(())
    }
}
