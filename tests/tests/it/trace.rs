//! W3C trace context crosses the licensing → classifier hop: the classifier
//! sees the caller's trace id, with the licensing service's span as parent.

use std::sync::{Arc, Mutex};

use exportctl_classifier::{Classifier, RuleSet, SharedRules};
use exportctl_proto::classifier as cpb;
use exportctl_proto::classifier::classifier_service_server::{
    ClassifierService, ClassifierServiceServer,
};
use exportctl_proto::licensing as pb;
use exportctl_runtime::trace::TraceParent;
use exportctl_tests::{gallium_nitride_shipment, licensing_client, start_licensing, temp_ledger};
use tonic::{Request, Response, Status, Streaming};

/// The real classifier, remembering every `traceparent` it is sent.
struct Recording {
    inner: Classifier,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recording {
    fn note<T>(&self, r: &Request<T>) {
        let tp = r
            .metadata()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        self.seen.lock().unwrap().push(tp);
    }
}

#[tonic::async_trait]
impl ClassifierService for Recording {
    async fn classify(
        &self,
        r: Request<cpb::ClassifyRequest>,
    ) -> Result<Response<cpb::ClassifyResponse>, Status> {
        self.note(&r);
        self.inner.classify(r).await
    }
    type ClassifyStreamStream = <Classifier as ClassifierService>::ClassifyStreamStream;
    async fn classify_stream(
        &self,
        r: Request<Streaming<cpb::ClassifyRequest>>,
    ) -> Result<Response<Self::ClassifyStreamStream>, Status> {
        self.inner.classify_stream(r).await
    }
    async fn get_entry(
        &self,
        r: Request<cpb::GetEntryRequest>,
    ) -> Result<Response<cpb::GetEntryResponse>, Status> {
        self.inner.get_entry(r).await
    }
    async fn list_entries(
        &self,
        r: Request<cpb::ListEntriesRequest>,
    ) -> Result<Response<cpb::ListEntriesResponse>, Status> {
        self.inner.list_entries(r).await
    }
    async fn describe_rules(
        &self,
        r: Request<cpb::DescribeRulesRequest>,
    ) -> Result<Response<cpb::DescribeRulesResponse>, Status> {
        self.inner.describe_rules(r).await
    }
    async fn echo(
        &self,
        r: Request<cpb::EchoRequest>,
    ) -> Result<Response<cpb::EchoResponse>, Status> {
        self.inner.echo(r).await
    }
}

fn decide(id: &str) -> pb::DecideRequest {
    gallium_nitride_shipment(id, "JP", "2024-01-01")
}

#[tokio::test]
async fn traceparent_is_carried_to_the_classifier() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recording = Recording {
        inner: Classifier::new(SharedRules::new(RuleSet::bundled().unwrap()), false),
        seen: seen.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ClassifierServiceServer::new(recording))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let ledger = temp_ledger("trace");
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_url: format!("http://{addr}"),
        ledger: format!("sqlite://{}", ledger.display()),
        ..Default::default()
    })
    .await;
    let mut client = licensing_client(&licensing).await;

    let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let mut request = Request::new(decide("trace-1"));
    request
        .metadata_mut()
        .insert("traceparent", caller.parse().unwrap());
    client.decide(request).await.unwrap();
    let got =
        TraceParent::parse(&seen.lock().unwrap()[0]).expect("a traceparent reached the classifier");
    assert_eq!(got.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_ne!(
        got.parent_id, "00f067aa0ba902b7",
        "the licensing span is the parent"
    );

    // Without one from the caller, the licensing service starts a trace.
    client.decide(decide("trace-2")).await.unwrap();
    let started =
        TraceParent::parse(&seen.lock().unwrap()[1]).expect("a new trace reached the classifier");
    assert_ne!(started.trace_id, got.trace_id);
}
