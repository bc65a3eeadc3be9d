//! The classification port's in-process adapter: the classifier service
//! itself, called without a socket (for `exportctl serve --in-process-classifier`
//! and the fuzz targets). Requests go through the same validation and
//! conversion as over gRPC, so answers and errors are the same.

use exportctl_classifier::Classifier;
use exportctl_proto::classifier as cpb;
use exportctl_proto::classifier::classifier_service_server::ClassifierService;
use tonic::{Request, Status};

use super::{Call, ClassifierPort};

#[derive(Debug, Clone)]
pub struct InProcessClassifier {
    service: Classifier,
}

impl InProcessClassifier {
    pub fn new(service: Classifier) -> Self {
        Self { service }
    }
}

#[tonic::async_trait]
impl ClassifierPort for InProcessClassifier {
    async fn classify(
        &self,
        req: cpb::ClassifyRequest,
        _call: &Call<'_>,
    ) -> Result<cpb::ClassifyResponse, Status> {
        Ok(self.service.classify(Request::new(req)).await?.into_inner())
    }

    async fn get_entry(
        &self,
        req: cpb::GetEntryRequest,
        _call: &Call<'_>,
    ) -> Result<cpb::GetEntryResponse, Status> {
        Ok(self
            .service
            .get_entry(Request::new(req))
            .await?
            .into_inner())
    }

    async fn describe_rules(&self, _call: &Call<'_>) -> Result<cpb::DescribeRulesResponse, Status> {
        let req = Request::new(cpb::DescribeRulesRequest {});
        Ok(self.service.describe_rules(req).await?.into_inner())
    }
}
