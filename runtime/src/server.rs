//! Server bootstrap: a tonic router with gRPC health checking and server
//! reflection (v1 and v1alpha) already in it, and the shutdown signal.

use std::sync::Arc;

use tonic::transport::Server;
use tonic::transport::server::Router;
use tonic_health::server::HealthReporter;
use tower_layer::{Identity, Stack};

use crate::auth::{ApiKeys, AuthLayer};
use crate::decode::DecodeErrorsLayer;
use crate::metrics::{GrpcMetricsLayer, Registry};
use crate::shed::LoadShedLayer;
use crate::telemetry::ServerSpanLayer;
use crate::transport::SmallFramesLayer;

/// A router whose every RPC has its response cut into frames h2 batches,
/// gets a trace span (when spans are exported), is recorded in the metrics
/// registry, is shed when too many are in flight, then is checked for its
/// API key; an undecodable request to health or reflection is answered
/// INVALID_ARGUMENT like one to an exportctl service.
pub type MeteredRouter = Router<
    Stack<
        DecodeErrorsLayer,
        Stack<
            AuthLayer,
            Stack<
                LoadShedLayer,
                Stack<GrpcMetricsLayer, Stack<ServerSpanLayer, Stack<SmallFramesLayer, Identity>>>,
            >,
        >,
    >,
>;

/// Limits every exportctl server applies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request message accepted, bytes.
    pub max_decoding_message_size: usize,
    /// Concurrent streams (calls) per HTTP/2 connection, announced in the
    /// server's SETTINGS: a client cannot open more on one connection.
    pub max_concurrent_streams: u32,
    /// Calls served at once by the whole server (a stream counts until it
    /// ends); more are answered RESOURCE_EXHAUSTED at once. Health checks
    /// are not counted.
    pub max_in_flight: usize,
    /// Streaming calls served at once (default: half of `max_in_flight`;
    /// always fewer than it, so unary calls keep slots).
    pub max_streams: Option<usize>,
    /// Streaming calls one connection may hold open at once.
    pub max_streams_per_connection: usize,
    /// A stream whose client sends nothing for this long ends with
    /// DEADLINE_EXCEEDED.
    pub stream_idle_timeout: std::time::Duration,
    /// Connections open at once (kept within the file-descriptor limit); at
    /// the cap the idlest gives way, or a new one is refused when all are busy.
    pub max_connections: usize,
    /// A connection must send its first bytes, and a TLS client finish its
    /// handshake, within this long.
    pub handshake_timeout: std::time::Duration,
    /// A connection with no call in flight for this long is closed.
    pub idle_timeout: std::time::Duration,
    /// HTTP/2 PING sent after this long without a frame from the client ...
    pub keepalive_interval: std::time::Duration,
    /// ... and the connection closed when its answer takes longer than this.
    pub keepalive_timeout: std::time::Duration,
    /// Longest a unary call may run on the server (a smaller `grpc-timeout`
    /// from the caller wins); past it the call is cancelled.
    pub timeout: std::time::Duration,
    /// HTTP/2 write coalescing ([`crate::transport`]): accepted connections
    /// hold h2's writes until its flush, which they put off once; responses
    /// are cut into frames h2 copies; and clients built from these settings
    /// (the licensing service's classifier connection) do the same. Off
    /// (`--no-write-coalescing`): plain sockets, bodies as they are.
    pub write_coalescing: bool,
}

/// Longest timeout a limit flag accepts, seconds (one day): larger values
/// would overflow the timers' arithmetic.
pub const MAX_TIMEOUT_SECS: u64 = 86_400;

/// Default bound on calls in flight per server.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

impl Default for Limits {
    fn default() -> Self {
        use std::time::Duration;
        Self {
            max_decoding_message_size: 4 * 1024 * 1024,
            max_concurrent_streams: 100,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_streams: None,
            max_streams_per_connection: 16,
            stream_idle_timeout: Duration::from_secs(30),
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            keepalive_interval: Duration::from_secs(20),
            keepalive_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            write_coalescing: true,
        }
    }
}

impl Limits {
    /// How calls and streams are admitted under these limits.
    pub fn admission(&self) -> crate::shed::Admission {
        crate::shed::Admission::new(
            self.max_in_flight,
            self.max_streams,
            self.max_streams_per_connection,
        )
    }
}

/// The limit flags of a service binary, with its environment prefix: `limit_args!(ClassifierLimits, "CLASSIFIER_")`.
#[macro_export]
macro_rules! limit_args {
    ($name:ident, $prefix:literal) => {
        /// Bounds on calls, streams and connections.
        #[derive(Debug, Clone, clap::Args)]
        pub struct $name {
            /// Calls served at once; more are answered RESOURCE_EXHAUSTED at once (load shedding).
            #[arg(long, env = concat!($prefix, "MAX_IN_FLIGHT"), default_value_t = $crate::server::DEFAULT_MAX_IN_FLIGHT)]
            pub max_in_flight: usize,
            /// Streaming calls served at once [default: half of --max-in-flight; always fewer than it].
            #[arg(long, env = concat!($prefix, "MAX_STREAMS"))]
            pub max_streams: Option<usize>,
            /// Streaming calls one connection may hold open.
            #[arg(long, env = concat!($prefix, "MAX_STREAMS_PER_CONNECTION"), default_value_t = 16)]
            pub max_streams_per_connection: usize,
            /// A stream whose client sends nothing for this many seconds ends with DEADLINE_EXCEEDED.
            #[arg(long, env = concat!($prefix, "STREAM_IDLE_TIMEOUT"), value_name = "SECONDS", default_value_t = 30)]
            pub stream_idle_timeout: u64,
            /// HTTP/2 streams (calls) one connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS).
            #[arg(long, env = concat!($prefix, "MAX_CONCURRENT_STREAMS"), default_value_t = 100)]
            pub max_concurrent_streams: u32,
            /// Connections open at once (lowered to fit the file-descriptor limit).
            #[arg(long, env = concat!($prefix, "MAX_CONNECTIONS"), default_value_t = 1024)]
            pub max_connections: usize,
            /// Seconds a new connection has to send its first bytes (and a TLS client to finish its handshake).
            #[arg(long, env = concat!($prefix, "HANDSHAKE_TIMEOUT"), value_name = "SECONDS", default_value_t = 10)]
            pub handshake_timeout: u64,
            /// Seconds a connection with no call in flight stays open.
            #[arg(long, env = concat!($prefix, "IDLE_TIMEOUT"), value_name = "SECONDS", default_value_t = 30)]
            pub idle_timeout: u64,
            /// Seconds without a frame from the client before the server sends an HTTP/2 PING.
            #[arg(long, env = concat!($prefix, "KEEPALIVE_INTERVAL"), value_name = "SECONDS", default_value_t = 20)]
            pub keepalive_interval: u64,
            /// Seconds the answer to a PING may take before the connection is closed.
            #[arg(long, env = concat!($prefix, "KEEPALIVE_TIMEOUT"), value_name = "SECONDS", default_value_t = 10)]
            pub keepalive_timeout: u64,
            /// Turn off HTTP/2 write coalescing (plain sockets, one write per flush): for A/B runs.
            #[arg(long, env = concat!($prefix, "NO_WRITE_COALESCING"))]
            pub no_write_coalescing: bool,
        }

        impl $name {
            /// The limits these flags set (the rest at their defaults).
            pub fn limits(&self) -> $crate::server::Limits {
                use std::time::Duration;
                use $crate::server::MAX_TIMEOUT_SECS;
                $crate::server::Limits {
                    max_in_flight: self.max_in_flight,
                    max_streams: self.max_streams,
                    max_streams_per_connection: self.max_streams_per_connection.max(1),
                    stream_idle_timeout: Duration::from_secs(self.stream_idle_timeout.clamp(1, MAX_TIMEOUT_SECS)),
                    max_concurrent_streams: self.max_concurrent_streams.max(1),
                    max_connections: self.max_connections.max(1),
                    handshake_timeout: Duration::from_secs(self.handshake_timeout.clamp(1, MAX_TIMEOUT_SECS)),
                    idle_timeout: Duration::from_secs(self.idle_timeout.clamp(1, MAX_TIMEOUT_SECS)),
                    keepalive_interval: Duration::from_secs(self.keepalive_interval.clamp(1, MAX_TIMEOUT_SECS)),
                    keepalive_timeout: Duration::from_secs(self.keepalive_timeout.clamp(1, MAX_TIMEOUT_SECS)),
                    write_coalescing: !self.no_write_coalescing,
                    ..Default::default()
                }
            }
        }
    };
}

/// A router serving health and reflection for the given descriptor sets (the
/// google.rpc and grpc.health descriptors are always added), and the reporter
/// to mark services serving.
pub fn standard_router(
    limits: Limits,
    descriptor_sets: &[&[u8]],
    registry: Arc<Registry>,
    keys: ApiKeys,
    tls: Option<&crate::tls::ServerTls>,
    connections: Option<Arc<crate::edge::Connections>>,
) -> std::io::Result<(MeteredRouter, HealthReporter)> {
    standard_router_serving(
        limits,
        descriptor_sets,
        None,
        registry,
        keys,
        tls,
        connections,
    )
}

/// The services reflection lists besides the one a server serves: health
/// checking and reflection itself (v1 and v1alpha; both are served).
pub const STANDARD_SERVICES: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// [`standard_router`], its reflection listing only `service` (when given)
/// and [`STANDARD_SERVICES`], whatever other services the descriptor sets
/// declare: a port lists what it serves.
pub fn standard_router_serving(
    limits: Limits,
    descriptor_sets: &[&[u8]],
    service: Option<&str>,
    registry: Arc<Registry>,
    keys: ApiKeys,
    tls: Option<&crate::tls::ServerTls>,
    connections: Option<Arc<crate::edge::Connections>>,
) -> std::io::Result<(MeteredRouter, HealthReporter)> {
    let (reporter, health) = tonic_health::server::health_reporter();
    let mut v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET);
    let mut v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET);
    if let Some(service) = service {
        // Each builder adds its own reflection descriptors; the other
        // version's too, so that every listed service can be described.
        v1 = v1.register_encoded_file_descriptor_set(
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        );
        v1alpha = v1alpha
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET);
        for name in std::iter::once(service).chain(STANDARD_SERVICES) {
            v1 = v1.with_service_name(name);
            v1alpha = v1alpha.with_service_name(name);
        }
    }
    let streaming = crate::shed::StreamingMethods::from_descriptor_sets(descriptor_sets);
    for set in descriptor_sets {
        v1 = v1.register_encoded_file_descriptor_set(set);
        v1alpha = v1alpha.register_encoded_file_descriptor_set(set);
    }
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls.config()?.timeout(limits.handshake_timeout))
            .map_err(std::io::Error::other)?;
    }
    let router = builder
        .max_concurrent_streams(limits.max_concurrent_streams)
        .tcp_nodelay(true)
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
        .timeout(limits.timeout)
        .layer(SmallFramesLayer::new(limits.write_coalescing))
        .layer(ServerSpanLayer)
        .layer(GrpcMetricsLayer::new(registry))
        .layer(LoadShedLayer::with(
            limits.admission(),
            streaming,
            connections,
        ))
        .layer(AuthLayer::new(keys))
        .layer(DecodeErrorsLayer)
        .add_service(health)
        .add_service(v1.build_v1().map_err(std::io::Error::other)?)
        .add_service(v1alpha.build_v1alpha().map_err(std::io::Error::other)?);
    Ok((router, reporter))
}

/// Resolves when the process is asked to stop (SIGINT or SIGTERM). The
/// handlers are installed when this is called, not when it is first polled:
/// call it before the server binds and reports SERVING, so that a SIGTERM
/// arriving at any point after that drains instead of killing the process.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(int) => tracing::info!("SIGINT received, draining"),
                () = wait(term) => tracing::info!("SIGTERM received, draining"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("interrupted, draining");
        }
    }
}

/// The caller's deadline from the `grpc-timeout` header, if any.
pub fn grpc_timeout(metadata: &tonic::metadata::MetadataMap) -> Option<std::time::Duration> {
    use std::time::Duration;
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// A server bound to its address, with health, reflection and one service in
/// its router, ready to serve.
pub struct BoundServer {
    addr: std::net::SocketAddr,
    incoming: crate::edge::EdgeIncoming,
    router: MeteredRouter,
    metrics: Option<(tokio::net::TcpListener, Arc<Registry>)>,
    companions: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
    drain: std::time::Duration,
    health: HealthReporter,
}

/// Where a server listens.
#[derive(Debug, Clone)]
pub struct Listen {
    /// The gRPC address (port 0 picks a free port).
    pub grpc: std::net::SocketAddr,
    /// The Prometheus `/metrics` HTTP address, if any.
    pub metrics: Option<std::net::SocketAddr>,
    /// TLS (and mutual TLS) for the gRPC listener.
    pub tls: Option<crate::tls::ServerTls>,
}

impl BoundServer {
    /// Binds the gRPC (and metrics) listeners; `add` puts the service into the
    /// router, and `service_name` is marked serving for health checks.
    pub async fn bind(
        listen: Listen,
        limits: Limits,
        descriptor_sets: &[&[u8]],
        service_name: &str,
        registry: Arc<Registry>,
        keys: ApiKeys,
        add: impl FnOnce(MeteredRouter) -> MeteredRouter,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen.grpc).await?;
        let addr = listener.local_addr()?;
        let metrics = match listen.metrics {
            Some(a) => Some((tokio::net::TcpListener::bind(a).await?, registry.clone())),
            None => None,
        };
        let (max_connections, fd_limit) = crate::edge::fd_budget(limits.max_connections);
        if max_connections < limits.max_connections {
            tracing::warn!(
                wanted = limits.max_connections,
                admitted = max_connections,
                fd_limit,
                "--max-connections lowered to fit the file-descriptor limit"
            );
        }
        let connections = Arc::new(crate::edge::Connections::new(
            max_connections,
            limits.handshake_timeout,
            limits.idle_timeout,
        ));
        {
            let edge = connections.clone();
            registry.render_with(move |out| edge.render(out));
        }
        let (router, health) = standard_router_serving(
            limits,
            descriptor_sets,
            Some(service_name),
            registry,
            keys,
            listen.tls.as_ref(),
            Some(connections.clone()),
        )?;
        health
            .set_service_status(service_name, tonic_health::ServingStatus::Serving)
            .await;
        let incoming = crate::edge::EdgeIncoming::new(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            connections,
            limits.write_coalescing,
            listen.tls.is_none(),
        );
        Ok(Self {
            addr,
            incoming,
            router: add(router),
            metrics,
            companions: Vec::new(),
            drain: DEFAULT_DRAIN,
            health,
        })
    }

    /// The health reporter of this server: a service that depends on
    /// another can report itself NOT_SERVING while that one is down.
    pub fn health_reporter(&self) -> HealthReporter {
        self.health.clone()
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The bound metrics address, if metrics are served.
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    /// A task that runs while the server serves (a reloader, say) and stops with it.
    pub fn companion(&mut self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.companions.push(Box::pin(task));
    }

    /// Serves until `shutdown` resolves, then drains in-flight calls.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> Result<(), tonic::transport::Error> {
        let mut tasks: Vec<tokio::task::JoinHandle<()>> =
            self.companions.into_iter().map(tokio::spawn).collect();
        if let Some((listener, registry)) = self.metrics {
            tasks.push(tokio::spawn(crate::metrics::serve(listener, registry)));
        }
        // Once asked to stop, in-flight calls get `drain` to finish; then the server is cut.
        let (stopping, mut stopped) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            let _ = stopping.send(true);
        };
        let serving = self
            .router
            .serve_with_incoming_shutdown(self.incoming, signal);
        let drain = self.drain;
        let deadline = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(drain).await;
        };
        let served = tokio::select! {
            r = serving => r,
            () = deadline => {
                tracing::warn!(drain_secs = drain.as_secs_f64(), "in-flight calls did not finish in time; closing them");
                Ok(())
            }
        };
        for t in tasks {
            t.abort();
        }
        served
    }

    /// How long in-flight calls may take to finish after shutdown is requested.
    pub fn drain_within(mut self, drain: std::time::Duration) -> Self {
        self.drain = drain;
        self
    }
}

/// Default bound on draining in-flight calls at shutdown.
pub const DEFAULT_DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// The `healthcheck` subcommand of the service binaries: one grpc.health.v1
/// Check, for container health checks.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HealthcheckArgs {
    /// Address to check instead of the listen address. An unspecified address
    /// (0.0.0.0, [::]) is checked on loopback.
    #[arg(long)]
    pub addr: Option<std::net::SocketAddr>,
    /// Service to check (default: this binary's service); "" asks about the server as a whole.
    #[arg(long)]
    pub service: Option<String>,
    /// Give up (and fail) after this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    pub timeout_ms: u64,
    /// CA certificate (PEM) the server's certificate is verified with; the
    /// check then runs over TLS. Required when the server serves TLS.
    #[arg(long, value_name = "PEM")]
    pub tls_ca: Option<std::path::PathBuf>,
    /// Client certificate (PEM), for a server that requires mutual TLS.
    #[arg(long, value_name = "PEM", requires = "tls_key", requires = "tls_ca")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// Key (PEM) of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Name the server's certificate must carry.
    #[arg(long, default_value = "localhost")]
    pub tls_domain: String,
}

/// Runs a `healthcheck` subcommand: one grpc.health.v1 Check of the server
/// listening on `listen` (or `--addr`; an unspecified address is checked on
/// loopback) within the timeout; success when SERVING. `server_tls` says
/// whether the server is configured for TLS, so a check that would speak
/// plaintext to it fails with a clear message instead of a handshake error.
pub async fn healthcheck(
    listen: std::net::SocketAddr,
    server_tls: bool,
    default_service: &str,
    args: HealthcheckArgs,
) -> std::process::ExitCode {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let mut addr = args.addr.unwrap_or(listen);
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let service = args.service.as_deref().unwrap_or(default_service);
    let what = if service.is_empty() {
        format!("{addr}")
    } else {
        format!("{service} at {addr}")
    };
    if server_tls && args.tls_ca.is_none() {
        eprintln!(
            "{what}: the server serves TLS; pass --tls-ca (and --tls-cert/--tls-key for mutual TLS)"
        );
        return std::process::ExitCode::FAILURE;
    }
    let timeout = std::time::Duration::from_millis(args.timeout_ms);
    let check = async {
        let tls = args.tls_ca.as_ref().map(|ca| crate::tls::ClientTls {
            ca: Some(ca.clone()),
            cert: args.tls_cert.clone(),
            key: args.tls_key.clone(),
            domain: Some(args.tls_domain.clone()),
        });
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut endpoint = tonic::transport::Endpoint::from_shared(format!("{scheme}://{addr}"))
            .map_err(|e| e.to_string())?
            .connect_timeout(timeout);
        if let Some(tls) = tls {
            let config = tls.config().map_err(|e| e.to_string())?;
            endpoint = endpoint.tls_config(config).map_err(|e| e.to_string())?;
        }
        let channel = endpoint.connect().await.map_err(|e| {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message = format!("{message}: {s}");
                source = s.source();
            }
            message
        })?;
        let request = HealthCheckRequest {
            service: service.to_string(),
        };
        let response = HealthClient::new(channel)
            .check(request)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<i32, String>(response.into_inner().status)
    };
    match tokio::time::timeout(timeout, check).await {
        Ok(Ok(status)) if status == ServingStatus::Serving as i32 => {
            println!("{what}: SERVING");
            std::process::ExitCode::SUCCESS
        }
        Ok(Ok(status)) => {
            let name = ServingStatus::try_from(status).map_or("UNKNOWN", |s| s.as_str_name());
            eprintln!("{what}: {name}");
            std::process::ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("{what}: {e}");
            std::process::ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("{what}: no answer within {} ms", timeout.as_millis());
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_grpc_timeouts() {
        let mut m = tonic::metadata::MetadataMap::new();
        assert_eq!(grpc_timeout(&m), None);
        m.insert("grpc-timeout", "250m".parse().unwrap());
        assert_eq!(
            grpc_timeout(&m),
            Some(std::time::Duration::from_millis(250))
        );
        m.insert("grpc-timeout", "3S".parse().unwrap());
        assert_eq!(grpc_timeout(&m), Some(std::time::Duration::from_secs(3)));
        m.insert("grpc-timeout", "3X".parse().unwrap());
        assert_eq!(grpc_timeout(&m), None);
    }
}
