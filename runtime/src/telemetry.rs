//! Structured logging via `tracing` (text or JSON, filtered by `RUST_LOG`),
//! and OpenTelemetry trace export over OTLP/gRPC when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set: one server span per gRPC call, whose
//! parent is the caller's W3C `traceparent`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::trace::TraceParent;

/// Output format of the logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown log format `{other}` (text or json)")),
        }
    }
}

/// Set once spans are exported: only then does every call get a span.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether OTLP trace export is on in this process.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The installed telemetry; `shutdown` flushes the spans not yet exported.
#[must_use = "call `shutdown` before exiting, or spans still queued are lost"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports what is queued and stops the exporter (bounded by the exporter's timeout).
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(e)) = flushed {
                tracing::warn!(error = %e, "flushing OpenTelemetry spans failed");
            }
        }
    }
}

/// Installs the global subscriber; `RUST_LOG` overrides the default `info`
/// filter of the logs. With `OTEL_EXPORTER_OTLP_ENDPOINT` set (a gRPC
/// collector, `http://host:4317`), spans are exported with `service.name`
/// from `OTEL_SERVICE_NAME`, else `service_name`. Must be called inside a
/// Tokio runtime. A second call (as in tests) changes nothing.
pub fn init(format: LogFormat, service_name: &str) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .fmt_fields(text_fields())
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed(),
    };
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty());
    let provider = match endpoint
        .as_deref()
        .map(|e| tracer_provider(e, service_name))
    {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            eprintln!("OpenTelemetry export is off: {e}");
            None
        }
        None => None,
    };
    let spans = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("exportctl"))
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
    });
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init()
        .is_ok();
    if !installed {
        return Telemetry { provider: None };
    }
    if let Some(endpoint) = endpoint.filter(|_| provider.is_some()) {
        EXPORTING.store(true, Ordering::Relaxed);
        tracing::info!(%endpoint, "exporting OpenTelemetry traces over OTLP/gRPC");
    }
    Telemetry { provider }
}

/// Escapes a value for a text log line: control characters (C0, DEL, C1)
/// and bidi controls become `\n`, `\r`, `\t` or `\u{XXXX}`, so a value from
/// a request can neither end the line (forging the next one) nor reorder
/// how it is shown. Everything else is kept as it is.
pub fn escape_log_value(value: &str) -> std::borrow::Cow<'_, str> {
    use exportctl_core::validate::is_hostile;
    if !value.chars().any(is_hostile) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hostile(c) => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{{{:04X}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The text format's fields (of events and spans): the message, then
/// `name=value` pairs, every value passed through [`escape_log_value`]. (The
/// default formatter writes `%`-formatted values and the message raw.)
pub fn text_fields()
-> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> + Send + Sync + 'static {
    use tracing_subscriber::field::MakeExt as _;
    tracing_subscriber::fmt::format::debug_fn(
        |w: &mut tracing_subscriber::fmt::format::Writer<'_>,
         field: &tracing::field::Field,
         value: &dyn std::fmt::Debug| {
            let text = format!("{value:?}");
            let text = escape_log_value(&text);
            match field.name() {
                "message" => write!(w, "{text}"),
                name => write!(w, "{}={text}", name.trim_start_matches("r#")),
            }
        },
    )
    .delimited(" ")
}

fn tracer_provider(
    endpoint: &str,
    service_name: &str,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service_name.to_string());
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

impl TraceParent {
    /// The context for calls made from within this one: the current exported
    /// span when OpenTelemetry export is on, else a new child span id.
    ///
    /// (Here rather than in `crate::trace`, so that `trace` does not depend
    /// on this module.)
    pub fn outbound(&self) -> Self {
        current_trace_parent().unwrap_or_else(|| self.child())
    }
}

/// The current span's trace context, when spans are exported: the parent a
/// call made from here should carry.
fn current_trace_parent() -> Option<TraceParent> {
    if !exporting() {
        return None;
    }
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    sc.is_valid().then(|| TraceParent {
        trace_id: sc.trace_id().to_string(),
        parent_id: sc.span_id().to_string(),
        flags: format!("{:02x}", sc.trace_flags().to_u8()),
    })
}

/// The caller's `traceparent` as an OpenTelemetry parent context.
fn remote_parent(headers: &http::HeaderMap) -> Option<opentelemetry::Context> {
    let tp = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse)?;
    let flags = u8::from_str_radix(&tp.flags, 16).ok()?;
    let sc = SpanContext::new(
        TraceId::from_hex(&tp.trace_id).ok()?,
        SpanId::from_hex(&tp.parent_id).ok()?,
        TraceFlags::new(flags),
        true,
        TraceState::default(),
    );
    Some(opentelemetry::Context::new().with_remote_span_context(sc))
}

/// Tower layer giving every gRPC call a server span while spans are exported
/// (and costing one flag check otherwise).
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerSpanLayer;

impl<S> tower_layer::Layer<S> for ServerSpanLayer {
    type Service = ServerSpans<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ServerSpans { inner }
    }
}

#[derive(Debug, Clone)]
pub struct ServerSpans<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for ServerSpans<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        if !exporting() {
            return Box::pin(self.inner.call(req));
        }
        let path = req.uri().path().trim_start_matches('/');
        let (service, method) = path.split_once('/').unwrap_or((path, ""));
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %path,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
        );
        if let Some(parent) = remote_parent(req.headers()) {
            let _ = span.set_parent(parent);
        }
        let future = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        let recorder = span.clone();
        Box::pin(
            async move {
                let response = future.await;
                if let Ok(r) = &response {
                    // A status in the headers (an error, trailers-only); OK comes in the trailers.
                    let code = r
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i64>().ok())
                        .unwrap_or(0);
                    recorder.record("rpc.grpc.status_code", code);
                }
                response
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn escapes_line_breaks_and_bidi_controls() {
        assert_eq!(escape_log_value("plain ü 注文"), "plain ü 注文");
        assert_eq!(
            escape_log_value("a\nb\rc\td\u{202E}e\u{85}f\u{7F}"),
            "a\\nb\\rc\\td\\u{202E}e\\u{0085}f\\u{007F}"
        );
    }

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_text_log_line_cannot_be_forged() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .fmt_fields(text_fields())
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        );
        let forged = "r-1\n2030-01-01T00:00:00Z  INFO decided outcome=NO_LICENSE_REQUIRED";
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("call", request_id = %forged);
            let _entered = span.enter();
            tracing::info!(request_id = %forged, debug_id = ?forged, "decided {}", forged);
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("request_id=r-1\\n2030"), "{text}");
        assert!(text.contains("decided r-1\\n2030"), "{text}");
    }
}
