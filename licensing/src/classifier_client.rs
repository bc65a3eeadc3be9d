//! The licensing → classifier hop over gRPC, with the caller's deadline
//! propagated and every failure mapped to an error (never a decision).

use std::time::Duration;

use exportctl_proto::classifier as cpb;
use exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient;
use exportctl_runtime::FieldViolation;
use exportctl_runtime::errors::field_violations;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

use crate::error::Error;
use exportctl_runtime::trace::TraceParent;

#[derive(Debug, Clone)]
pub struct ClassifierClient {
    inner: ClassifierServiceClient<Channel>,
    /// `Bearer KEY` for a classifier that requires API keys.
    authorization: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
    /// The trace the calls belong to (W3C trace context).
    trace: Option<TraceParent>,
}

impl ClassifierClient {
    /// A lazily connecting client: the service starts even when the classifier is down,
    /// and answers UNAVAILABLE until it is up.
    pub fn new(
        url: &str,
        api_key: Option<&str>,
        tls: Option<&exportctl_runtime::tls::ClientTls>,
        write_coalescing: bool,
    ) -> Result<Self, String> {
        let authorization = match api_key {
            Some(k) => Some(
                format!("Bearer {k}")
                    .parse()
                    .map_err(|_| "the classifier API key is not valid header text".to_string())?,
            ),
            None => None,
        };
        let endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| format!("bad classifier url `{url}`: {e}"))?
            .connect_timeout(Duration::from_secs(2))
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true);
        let endpoint = match tls {
            Some(tls) => endpoint
                .tls_config(tls.config().map_err(|e| e.to_string())?)
                .map_err(|e| format!("classifier TLS: {e}"))?,
            None => endpoint,
        };
        Ok(Self {
            // The connector sets TCP no-delay itself (the endpoint's flag is for tonic's own).
            inner: ClassifierServiceClient::new(endpoint.connect_with_connector_lazy(
                exportctl_runtime::transport::CoalescingConnector::new(write_coalescing),
            )),
            authorization,
            trace: None,
        })
    }

    /// This client, making its calls as part of `trace` (call it from within
    /// the call's span: with OpenTelemetry export on, that span is the parent).
    pub fn with_trace(&self, trace: &TraceParent) -> Self {
        Self {
            trace: Some(trace.outbound()),
            ..self.clone()
        }
    }

    /// Sets the deadline, the trace context and the API key on an outgoing request.
    fn prepare<T>(&self, request: &mut tonic::Request<T>, timeout: Duration) {
        request.set_timeout(timeout);
        if let Some(trace) = &self.trace
            && let Ok(value) = trace.header().parse()
        {
            request.metadata_mut().insert("traceparent", value);
        }
        if let Some(a) = &self.authorization {
            request.metadata_mut().insert("authorization", a.clone());
        }
    }

    /// Classifies one spec; `field` is the spec's path in the caller's request.
    pub async fn classify(
        &self,
        req: cpb::ClassifyRequest,
        timeout: Duration,
        field: &str,
    ) -> Result<cpb::ClassifyResponse, Error> {
        let mut request = tonic::Request::new(req);
        self.prepare(&mut request, timeout);
        let mut client = self.inner.clone();
        let call = client.classify(request);
        match tokio::time::timeout(timeout, call).await {
            Err(_) => Err(Error::DeadlineExceeded(
                "the classifier did not answer in time".into(),
            )),
            Ok(Ok(resp)) => Ok(resp.into_inner()),
            Ok(Err(status)) => Err(map_status(status, field)),
        }
    }

    /// One entry, or `None` if the classifier does not know it.
    pub async fn get_entry(
        &self,
        regime: &str,
        entry_id: &str,
        timeout: Duration,
    ) -> Result<Option<cpb::ControlEntry>, Error> {
        let mut request = tonic::Request::new(cpb::GetEntryRequest {
            regime: regime.into(),
            entry_id: entry_id.into(),
        });
        self.prepare(&mut request, timeout);
        let mut client = self.inner.clone();
        match tokio::time::timeout(timeout, client.get_entry(request)).await {
            Err(_) => Err(Error::DeadlineExceeded(
                "the classifier did not answer in time".into(),
            )),
            Ok(Ok(resp)) => Ok(resp.into_inner().entry),
            Ok(Err(status)) if status.code() == Code::NotFound => Ok(None),
            Ok(Err(status)) => Err(map_status(status, "entries")),
        }
    }

    pub async fn describe_rules(
        &self,
        timeout: Duration,
    ) -> Result<cpb::DescribeRulesResponse, Error> {
        let mut request = tonic::Request::new(cpb::DescribeRulesRequest {});
        self.prepare(&mut request, timeout);
        let mut client = self.inner.clone();
        match tokio::time::timeout(timeout, client.describe_rules(request)).await {
            Err(_) => Err(Error::DeadlineExceeded(
                "the classifier did not answer in time".into(),
            )),
            Ok(Ok(resp)) => Ok(resp.into_inner()),
            Ok(Err(status)) => Err(map_status(status, "")),
        }
    }
}

/// Bad specs become the caller's field violations (under `field`); anything else fails closed.
fn map_status(status: tonic::Status, field: &str) -> Error {
    match status.code() {
        Code::InvalidArgument => {
            let parent = field.rsplit_once('.').map(|(p, _)| p).unwrap_or("");
            let mut v: Vec<FieldViolation> = field_violations(&status)
                .into_iter()
                .map(|v| {
                    if parent.is_empty() {
                        v
                    } else {
                        v.nested(parent)
                    }
                })
                .collect();
            if v.is_empty() {
                v.push(FieldViolation::new(field, status.message().to_string()));
            }
            Error::InvalidArgument(v)
        }
        // tonic's own enforcement of the request timeout reports Cancelled.
        Code::DeadlineExceeded | Code::Cancelled => {
            Error::DeadlineExceeded(status.message().to_string())
        }
        code => Error::ClassifierUnavailable(format!("{code:?}: {}", status.message())),
    }
}
