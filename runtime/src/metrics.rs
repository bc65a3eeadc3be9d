//! Prometheus metrics: the standard gRPC server families, recorded by a tower
//! layer around every service, plus counters and values a service registers,
//! served as text on a separate HTTP port.

use std::collections::{BTreeMap, HashMap};
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

/// The `grpc_service` and `grpc_method` label value of every call to a path
/// outside the served set (a typo, a probe, an attack): one series for all of
/// them, however many distinct paths arrive.
pub const UNKNOWN: &str = "unknown";

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
    fn new(service: &str, method: &str) -> Self {
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

    /// `grpc_service="…",grpc_method="…"`, escaped.
    fn labels(&self) -> String {
        format!(
            "grpc_service=\"{}\",grpc_method=\"{}\"",
            escape(&self.service),
            escape(&self.method)
        )
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

/// The per-method families: one entry per known method (fixed when the
/// registry is made, so a request can never add a series), and one for the rest.
struct Methods {
    /// By request path, `/package.Service/Method`.
    known: HashMap<String, Arc<MethodMetrics>>,
    unknown: Arc<MethodMetrics>,
}

impl Methods {
    fn new(methods: impl IntoIterator<Item = (String, String)>) -> Self {
        let known = methods
            .into_iter()
            .map(|(service, method)| {
                let path = format!("/{service}/{method}");
                (path, Arc::new(MethodMetrics::new(&service, &method)))
            })
            .collect();
        Self {
            known,
            unknown: Arc::new(MethodMetrics::new(UNKNOWN, UNKNOWN)),
        }
    }

    fn get(&self, path: &str) -> Arc<MethodMetrics> {
        self.known.get(path).unwrap_or(&self.unknown).clone()
    }

    /// The methods called so far, sorted by service and method, the unknown ones last.
    fn called(&self) -> Vec<&MethodMetrics> {
        let mut called: Vec<&MethodMetrics> = self
            .known
            .values()
            .map(Arc::as_ref)
            .filter(|m| m.started.load(Ordering::Relaxed) > 0)
            .collect();
        called.sort_by(|a, b| (&a.service, &a.method).cmp(&(&b.service, &b.method)));
        if self.unknown.started.load(Ordering::Relaxed) > 0 {
            called.push(&self.unknown);
        }
        called
    }
}

/// Every (service, method) the descriptor sets declare, for services `keep` accepts.
fn declared_methods(sets: &[&[u8]], keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    crate::methods::declared(sets, keep)
        .into_iter()
        .map(|m| (m.service, m.method))
        .collect()
}

/// Every metric of one process.
pub struct Registry {
    methods: Methods,
    counters: RwLock<BTreeMap<(String, Labels), Arc<AtomicU64>>>,
    help: RwLock<BTreeMap<String, String>>,
    renders: RwLock<Vec<Render>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registry")
    }
}

/// Knows every method of every exportctl service, health and reflection.
impl Default for Registry {
    fn default() -> Self {
        Self::with_methods(declared_methods(
            &[exportctl_proto::FILE_DESCRIPTOR_SET],
            |_| true,
        ))
    }
}

impl Registry {
    /// A registry whose gRPC families know the methods of the named exportctl
    /// services (`exportctl.licensing.v1.LicensingService`), of health
    /// checking and of reflection; a call to any other path is counted under
    /// `grpc_service="unknown",grpc_method="unknown"`, so the number of series
    /// is fixed whatever paths callers send.
    pub fn serving(services: &[&str]) -> Self {
        Self::with_methods(declared_methods(
            &[exportctl_proto::FILE_DESCRIPTOR_SET],
            |name| services.contains(&name),
        ))
    }

    fn with_methods(mut methods: Vec<(String, String)>) -> Self {
        methods.extend(declared_methods(&crate::methods::standard_sets(), |_| true));
        Self {
            methods: Methods::new(methods),
            counters: RwLock::default(),
            help: RwLock::default(),
            renders: RwLock::default(),
        }
    }

    fn method(&self, path: &str) -> Arc<MethodMetrics> {
        self.methods.get(path)
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
        let methods = self.methods.called();
        let _ = writeln!(
            out,
            "# HELP grpc_server_started_total RPCs started on the server."
        );
        let _ = writeln!(out, "# TYPE grpc_server_started_total counter");
        for m in &methods {
            let _ = writeln!(
                out,
                "grpc_server_started_total{{{}}} {}",
                m.labels(),
                m.started.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP grpc_server_handled_total RPCs completed on the server, by status code."
        );
        let _ = writeln!(out, "# TYPE grpc_server_handled_total counter");
        for m in &methods {
            for (code, n) in m.handled.iter().enumerate() {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "grpc_server_handled_total{{{},grpc_code=\"{}\"}} {n}",
                        m.labels(),
                        CODES[code]
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP grpc_server_handling_seconds Time from receiving an RPC to sending its status."
        );
        let _ = writeln!(out, "# TYPE grpc_server_handling_seconds histogram");
        for m in &methods {
            let labels = m.labels();
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

/// Escapes a label value as the Prometheus text exposition format asks:
/// backslash, double quote and line feed. Every label value the registry
/// renders goes through it.
pub fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Checks a page of the text exposition format line by line: comments, and
/// samples `name{label="value",...} number` whose label values escape
/// exactly backslash, double quote and line feed. Returns the number of
/// samples, or the first bad line (for tests and smoke checks of `/metrics`).
pub fn check_exposition(text: &str) -> Result<usize, String> {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !n.starts_with(|c: char| c.is_ascii_digit())
    };
    let mut samples = 0;
    for line in text.lines() {
        let bad = || format!("bad exposition line `{line}`");
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or_else(bad)?;
        if value.parse::<f64>().is_err() && !matches!(value, "+Inf" | "-Inf" | "NaN") {
            return Err(bad());
        }
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.strip_suffix('}').ok_or_else(bad)?),
            None => (series, ""),
        };
        if !name_ok(name) {
            return Err(bad());
        }
        let mut rest = labels;
        while !rest.is_empty() {
            let (key, after) = rest.split_once("=\"").ok_or_else(bad)?;
            if !name_ok(key) {
                return Err(bad());
            }
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next().ok_or_else(bad)? {
                    (_, '\\') if !matches!(chars.next(), Some((_, '\\' | '"' | 'n'))) => {
                        return Err(bad());
                    }
                    (i, '"') => break i,
                    _ => {}
                }
            };
            rest = &after[end + 1..];
            rest = match rest.strip_prefix(',') {
                Some(r) => r,
                None if rest.is_empty() => rest,
                None => return Err(bad()),
            };
        }
        samples += 1;
    }
    Ok(samples)
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

#[cfg(test)]
mod tests {
    use super::*;

    const CLASSIFY: &str = "/exportctl.classifier.v1.ClassifierService/Classify";

    fn call(registry: &Registry, path: &str, code: usize) {
        let m = registry.method(path);
        m.started.fetch_add(1, Ordering::Relaxed);
        m.finish(code, Instant::now());
    }

    fn samples(text: &str) -> usize {
        check_exposition(text).unwrap()
    }

    #[test]
    fn known_methods_keep_their_labels() {
        let registry = Registry::serving(&["exportctl.classifier.v1.ClassifierService"]);
        call(&registry, CLASSIFY, 0);
        call(&registry, "/grpc.health.v1.Health/Check", 0);
        call(
            &registry,
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            0,
        );
        // Not served by this server: unknown.
        call(
            &registry,
            "/exportctl.licensing.v1.LicensingService/Decide",
            12,
        );
        let text = registry.render();
        for series in [
            "grpc_server_started_total{grpc_service=\"exportctl.classifier.v1.ClassifierService\",grpc_method=\"Classify\"} 1",
            "grpc_server_started_total{grpc_service=\"grpc.health.v1.Health\",grpc_method=\"Check\"} 1",
            "grpc_server_started_total{grpc_service=\"grpc.reflection.v1.ServerReflection\",grpc_method=\"ServerReflectionInfo\"} 1",
            "grpc_server_handled_total{grpc_service=\"unknown\",grpc_method=\"unknown\",grpc_code=\"Unimplemented\"} 1",
        ] {
            assert!(text.lines().any(|l| l == series), "{series} in\n{text}");
        }
        assert!(!text.contains("LicensingService"), "{text}");
    }

    #[test]
    fn hostile_paths_share_one_series_and_keep_the_page_valid() {
        let registry = Registry::default();
        call(&registry, CLASSIFY, 0);
        let before = registry.render();
        let long = format!("/{}/{}", "a".repeat(10_000), "b".repeat(10_000));
        let hostile = [
            "/x\"} 1\nforged_total 99\n#/y",
            "/a\\\"b/c",
            "/{}{}/{{\"",
            "/exportctl.classifier.v1.ClassifierService/Classify\"",
            "",
            "/",
            long.as_str(),
        ];
        for p in hostile {
            call(&registry, p, 12);
        }
        for i in 0..10_000 {
            call(&registry, &format!("/attack.Service/Method{i}"), 12);
        }
        let after = registry.render();
        assert!(!after.contains("forged_total"), "{after}");
        // The unknown series: started, handled, 17 buckets, sum and count.
        assert_eq!(samples(&after), samples(&before) + 21, "{after}");
        assert!(after.len() < before.len() + 4096, "{} bytes", after.len());
        assert!(after.contains(
            "grpc_server_started_total{grpc_service=\"unknown\",grpc_method=\"unknown\"} 10007"
        ));
    }

    #[test]
    fn counter_label_values_are_escaped() {
        let registry = Registry::default();
        registry.count("t_total", "help", &[("k", "a\"b\\c\nd")], 1);
        let text = registry.render();
        assert!(
            text.lines()
                .any(|l| l == "t_total{k=\"a\\\"b\\\\c\\nd\"} 1"),
            "{text}"
        );
        samples(&text);
        assert!(check_exposition("x{k=\"a\"b\"} 1").is_err());
        assert!(check_exposition("x{k=\"a\\qb\"} 1").is_err());
        assert!(check_exposition("x{k=\"a\"} one").is_err());
    }
}
