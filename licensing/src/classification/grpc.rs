//! The classification port's gRPC adapter: the licensing → classifier hop,
//! with the caller's deadline, trace context and API key on every call.

use std::time::Duration;

use exportctl_proto::classifier as cpb;
use exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient;
use tonic::Status;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::{Call, ClassifierPort};

/// The service the health probe asks about.
const SERVICE: &str = exportctl_proto::classifier::classifier_service_server::SERVICE_NAME;

#[derive(Debug, Clone)]
pub struct ClassifierClient {
    inner: ClassifierServiceClient<Channel>,
    /// grpc.health.v1 on the same connection.
    health: HealthClient<Channel>,
    /// `Bearer KEY` for a classifier that requires API keys.
    authorization: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
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
        // The connector sets TCP no-delay itself (the endpoint's flag is for tonic's own).
        let channel = endpoint.connect_with_connector_lazy(
            exportctl_runtime::transport::CoalescingConnector::new(write_coalescing),
        );
        Ok(Self {
            inner: ClassifierServiceClient::new(channel.clone()),
            health: HealthClient::new(channel),
            authorization,
        })
    }

    /// Sets the deadline, the trace context and the API key on an outgoing request.
    fn prepare<T>(&self, request: &mut tonic::Request<T>, call: &Call<'_>) {
        request.set_timeout(call.timeout);
        if let Some(trace) = call.trace
            && let Ok(value) = trace.header().parse()
        {
            request.metadata_mut().insert("traceparent", value);
        }
        if let Some(a) = &self.authorization {
            request.metadata_mut().insert("authorization", a.clone());
        }
    }
}

/// Sends a call, and once more when it failed in the transport before the
/// classifier answered (the connection was closed under it: the classifier's
/// idle timeout, a restart). The classifier's calls change nothing, so a
/// second try is safe; an answer from the classifier is never retried.
async fn once_more<T, F, Fut>(mut send: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
{
    match send().await {
        Err(status) if failed_in_transport(&status) => Ok(send().await?.into_inner()),
        answered => Ok(answered?.into_inner()),
    }
}

/// A status made from a transport error (it carries the error as its source)
/// rather than one the server sent.
fn failed_in_transport(status: &Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
    ) && std::error::Error::source(status).is_some()
}

#[tonic::async_trait]
impl ClassifierPort for ClassifierClient {
    async fn classify(
        &self,
        req: cpb::ClassifyRequest,
        call: &Call<'_>,
    ) -> Result<cpb::ClassifyResponse, Status> {
        once_more(|| {
            let mut request = tonic::Request::new(req.clone());
            self.prepare(&mut request, call);
            let mut client = self.inner.clone();
            async move { client.classify(request).await }
        })
        .await
    }

    async fn get_entry(
        &self,
        req: cpb::GetEntryRequest,
        call: &Call<'_>,
    ) -> Result<cpb::GetEntryResponse, Status> {
        once_more(|| {
            let mut request = tonic::Request::new(req.clone());
            self.prepare(&mut request, call);
            let mut client = self.inner.clone();
            async move { client.get_entry(request).await }
        })
        .await
    }

    async fn describe_rules(&self, call: &Call<'_>) -> Result<cpb::DescribeRulesResponse, Status> {
        once_more(|| {
            let mut request = tonic::Request::new(cpb::DescribeRulesRequest {});
            self.prepare(&mut request, call);
            let mut client = self.inner.clone();
            async move { client.describe_rules(request).await }
        })
        .await
    }

    /// A grpc.health.v1 Check of the classifier service, on the connection
    /// the calls use.
    async fn ping(&self, call: &Call<'_>) -> Result<(), Status> {
        let answer = once_more(|| {
            let mut request = tonic::Request::new(HealthCheckRequest {
                service: SERVICE.to_string(),
            });
            self.prepare(&mut request, call);
            let mut client = self.health.clone();
            async move { client.check(request).await }
        })
        .await?;
        match ServingStatus::try_from(answer.status) {
            Ok(ServingStatus::Serving) => Ok(()),
            status => Err(Status::unavailable(format!(
                "the classifier reports {}",
                status.map_or("an unknown status", |s| s.as_str_name())
            ))),
        }
    }
}
