//! OpenTelemetry export: `exportctl serve` with `OTEL_EXPORTER_OTLP_ENDPOINT`
//! pointing at a collector (a real OTLP/gRPC trace service on loopback)
//! exports one span per call, and the caller's `traceparent` links the
//! licensing span and the classifier span it causes into one trace.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use exportctl_proto::licensing::licensing_service_client::LicensingServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use tokio::sync::mpsc;

struct Collector(mpsc::UnboundedSender<ExportTraceServiceRequest>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let _ = self.0.send(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn string_attr(span: &Span, key: &str) -> Option<String> {
    span.attributes.iter().find(|a| a.key == key).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            Value::IntValue(i) => Some(i.to_string()),
            _ => None,
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_exports_linked_spans_to_the_otlp_collector() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_addr = listener.local_addr().unwrap();
    let (tx, mut exported) = mpsc::unbounded_channel();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(tx)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let dir = std::env::temp_dir().join(format!("exportctl-otlp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_exportctl"))
        .args([
            "serve",
            "--classifier-listen",
            "127.0.0.1:0",
            "--licensing-listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .arg("--ledger")
        .arg(format!("sqlite://{}", dir.join("ledger.db").display()))
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{collector_addr}"),
        )
        .env_remove("OTEL_SERVICE_NAME")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The log line announcing both addresses.
    let stderr = child.stderr.take().unwrap();
    let licensing = tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if let Some(at) = line.find("\"licensing\":\"") {
                let rest = &line[at + 13..];
                return rest[..rest.find('"').unwrap()].to_string();
            }
        }
        panic!("exportctl serve exited without announcing its addresses");
    })
    .await
    .unwrap();

    let mut client = LicensingServiceClient::connect(format!("http://{licensing}"))
        .await
        .unwrap();
    let mut request = tonic::Request::new(exportctl_tests::gallium_nitride_shipment(
        "otlp-1",
        "US",
        "2024-06-01",
    ));
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-{CALLER_SPAN}-01").parse().unwrap(),
    );
    client.decide(request).await.unwrap();

    // Stopping flushes the spans still queued.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exportctl serve exited with {status}");
    let _ = std::fs::remove_dir_all(&dir);

    let mut spans: Vec<(String, Span)> = Vec::new();
    while let Ok(Some(batch)) =
        tokio::time::timeout(Duration::from_millis(500), exported.recv()).await
    {
        for rs in batch.resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
                    Value::StringValue(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for ss in rs.scope_spans {
                spans.extend(ss.spans.into_iter().map(|s| (service.clone(), s)));
            }
        }
    }
    let named = |name: &str| {
        spans
            .iter()
            .find(|(_, s)| s.name == name && hex(&s.trace_id) == TRACE_ID)
            .unwrap_or_else(|| panic!("no span {name} in trace {TRACE_ID}; got {spans:#?}"))
    };
    let (service, decide) = named("exportctl.licensing.v1.LicensingService/Decide");
    let (_, classify) = named("exportctl.classifier.v1.ClassifierService/Classify");
    assert_eq!(service, "exportctl");
    assert_eq!(hex(&decide.parent_span_id), CALLER_SPAN);
    assert_eq!(
        hex(&classify.parent_span_id),
        hex(&decide.span_id),
        "the classifier's span is a child of the licensing span"
    );
    assert_eq!(string_attr(decide, "rpc.system").as_deref(), Some("grpc"));
    assert_eq!(string_attr(decide, "rpc.method").as_deref(), Some("Decide"));
    assert_eq!(
        string_attr(decide, "rpc.grpc.status_code").as_deref(),
        Some("0")
    );
    // Server spans (SPAN_KIND_SERVER = 2).
    assert_eq!(decide.kind, 2);
    assert_eq!(classify.kind, 2);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
