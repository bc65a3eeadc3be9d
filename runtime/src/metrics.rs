//! Prometheus metrics: the standard gRPC server families, recorded by a tower
//! layer around every service, plus counters and values a service registers,
//! served as text on a separate HTTP port.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Upper bounds of the handling-time buckets, seconds.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// gRPC status code names, by number.
const CODES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

struct MethodMetrics {
    service: String,
    method: String,
    started: AtomicU64,
    handled: [AtomicU64; 17],
    buckets: [AtomicU64; 16],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl MethodMetrics {
    fn new(path: &str) -> Self {
        let (service, method) = path
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or((path, ""));
        Self {
            service: service.to_string(),
            method: method.to_string(),
            started: AtomicU64::new(0),
            handled: Default::default(),
            buckets: Default::default(),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
        }
    }

    fn finish(&self, code: usize, started: Instant) {
        let elapsed = started.elapsed();
        self.handled[code.min(16)].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }
}

type Labels = Vec<(String, String)>;
type Render = Box<dyn Fn(&mut String) + Send + Sync>;

/// Every metric of one process.
#[derive(Default)]
pub struct Registry {
    methods: RwLock<BTreeMap<String, Arc<MethodMetrics>>>,
    counters: RwLock<BTreeMap<(String, Labels), Arc<AtomicU64>>>,
    help: RwLock<BTreeMap<String, String>>,
    renders: RwLock<Vec<Render>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

impl Registry {
    fn method(&self, path: &str) -> Arc<MethodMetrics> {
        if let Some(m) = self
            .methods
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
        {
            return m.clone();
        }
        let mut methods = self.methods.write().unwrap_or_else(|e| e.into_inner());
        methods
            .entry(path.to_string())
            .or_insert_with(|| Arc::new(MethodMetrics::new(path)))
            .clone()
    }

    /// Adds to a counter `name{labels}` (created at zero on first use).
    pub fn count(&self, name: &str, help: &str, labels: &[(&str, &str)], by: u64) {
        let key = (
            name.to_string(),
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Labels>(),
        );
        let existing = self
            .counters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let counter = match existing {
            Some(c) => c,
            None => {
                self.help
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(name.to_string())
                    .or_insert(help.to_string());
                self.counters
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(key)
                    .or_default()
                    .clone()
            }
        };
        counter.fetch_add(by, Ordering::Relaxed);
    }

    /// Adds a family rendered at scrape time (values owned elsewhere, such as reload counts).
    pub fn render_with(&self, render: impl Fn(&mut String) + Send + Sync + 'static) {
        self.renders
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(render));
    }

    /// The Prometheus text exposition of everything.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let methods = self.methods.read().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(
            out,
            "# HELP grpc_server_started_total RPCs started on the server."
        );
        let _ = writeln!(out, "# TYPE grpc_server_started_total counter");
        for m in methods.values() {
            let _ = writeln!(
                out,
                "grpc_server_started_total{{grpc_service=\"{}\",grpc_method=\"{}\"}} {}",
                m.service,
                m.method,
                m.started.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP grpc_server_handled_total RPCs completed on the server, by status code."
        );
        let _ = writeln!(out, "# TYPE grpc_server_handled_total counter");
        for m in methods.values() {
            for (code, n) in m.handled.iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "grpc_server_handled_total{{grpc_service=\"{}\",grpc_method=\"{}\",grpc_code=\"{}\"}} {n}",
                        m.service, m.method, CODES[code]
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP grpc_server_handling_seconds Time from receiving an RPC to sending its status."
        );
        let _ = writeln!(out, "# TYPE grpc_server_handling_seconds histogram");
        for m in methods.values() {
            let labels = format!(
                "grpc_service=\"{}\",grpc_method=\"{}\"",
                m.service, m.method
            );
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += m.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "grpc_server_handling_seconds_bucket{{{labels},le=\"{b}\"}} {cumulative}"
                );
            }
            let count = m.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "grpc_server_handling_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let sum = m.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(out, "grpc_server_handling_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(
                out,
                "grpc_server_handling_seconds_count{{{labels}}} {count}"
            );
        }
        drop(methods);
        let counters = self.counters.read().unwrap_or_else(|e| e.into_inner());
        let help = self.help.read().unwrap_or_else(|e| e.into_inner());
        let mut last = "";
        for ((name, labels), v) in counters.iter() {
            if name != last {
                let _ = writeln!(
                    out,
                    "# HELP {name} {}",
                    help.get(name).map(String::as_str).unwrap_or("")
                );
                let _ = writeln!(out, "# TYPE {name} counter");
                last = name;
            }
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = writeln!(
                out,
                "{name}{{{}}} {}",
                labels.join(","),
                v.load(Ordering::Relaxed)
            );
        }
        for render in self
            .renders
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            render(&mut out);
        }
        out
    }
}

/// Escapes a label value.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The tower layer that records every RPC.
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer {
    registry: Arc<Registry>,
}

impl GrpcMetricsLayer {
    pub fn new(registry: Arc<Registry>) -> Self {
        Self { registry }
    }
}

impl<S> tower_layer::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;
    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            registry: self.registry.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    registry: Arc<Registry>,
}

fn code_of(headers: &http::HeaderMap) -> Option<usize> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for GrpcMetrics<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Body<Data = Bytes>,
{
    type Response = http::Response<MetricsBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let method = self.registry.method(req.uri().path());
        method.started.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let future = self.inner.call(req);
        Box::pin(async move {
            let response = future.await?;
            let (parts, body) = response.into_parts();
            // A trailers-only response carries its status in the headers.
            let pending = match code_of(&parts.headers) {
                Some(code) => {
                    method.finish(code, started);
                    None
                }
                None => Some((method, started)),
            };
            Ok(http::Response::from_parts(
                parts,
                MetricsBody {
                    inner: body,
                    pending,
                },
            ))
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that records the RPC when its trailers (status) go out.
    pub struct MetricsBody<B> {
        #[pin]
        inner: B,
        pending: Option<(Arc<MethodMetrics>, Instant)>,
    }

    impl<B> PinnedDrop for MetricsBody<B> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before its status was sent: the client went away.
            if let Some((m, started)) = this.project().pending.take() {
                m.finish(1, started);
            }
        }
    }
}

impl<B: Body<Data = Bytes>> Body for MetricsBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        match &frame {
            Some(Ok(f)) => {
                if let Some(trailers) = f.trailers_ref()
                    && let Some((m, started)) = this.pending.take()
                {
                    m.finish(code_of(trailers).unwrap_or(2), started);
                }
            }
            Some(Err(_)) => {
                if let Some((m, started)) = this.pending.take() {
                    m.finish(2, started);
                }
            }
            None => {
                if let Some((m, started)) = this.pending.take() {
                    m.finish(0, started);
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Serves `GET /metrics` (and `/healthz`) on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, registry: Arc<Registry>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let registry = registry.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let registry = registry.clone();
                    async move {
                        let (status, body) = match req.uri().path() {
                            "/metrics" => (http::StatusCode::OK, registry.render()),
                            "/healthz" => (http::StatusCode::OK, "ok\n".to_string()),
                            _ => (http::StatusCode::NOT_FOUND, "not found\n".to_string()),
                        };
                        http::Response::builder()
                            .status(status)
                            .header("content-type", "text/plain; version=0.0.4")
                            .body(http_body_util::Full::new(Bytes::from(body)))
                    }
                });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}
