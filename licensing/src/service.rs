//! The gRPC service: validates, classifies every line over gRPC, decides,
//! records durably, then answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use exportctl_proto::licensing as pb;
use exportctl_proto::licensing::licensing_service_server::LicensingService;
use exportctl_runtime::metrics::Registry;
use exportctl_runtime::server::grpc_timeout;
use exportctl_runtime::trace::TraceParent;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::classification::Classification;
use crate::convert;
use crate::engine::{self, EngineConfig};
use crate::error::Error;
use crate::idempotency;
use crate::ledger::{Appended, LedgerStore, NewRecord, Record, SubmitError, sha256_hex};
use crate::policy::PolicySet;
use crate::readback;
use crate::screening_source::SharedScreening;

/// The policy set in force; replaced whole on reload.
pub type SharedPolicies = exportctl_runtime::shared::Shared<PolicySet>;

#[derive(Clone)]
pub struct Licensing {
    policies: SharedPolicies,
    screening: SharedScreening,
    classifier: Classification,
    ledger: Arc<dyn LedgerStore>,
    engine: EngineConfig,
    /// Upper bound of one classifier call when the caller sets no shorter deadline.
    classifier_timeout: Duration,
    metrics: Arc<Registry>,
}

impl Licensing {
    pub fn new(
        policies: SharedPolicies,
        screening: SharedScreening,
        classifier: Classification,
        ledger: Arc<dyn LedgerStore>,
        engine: EngineConfig,
        classifier_timeout: Duration,
        metrics: Arc<Registry>,
    ) -> Self {
        Self {
            policies,
            screening,
            classifier,
            ledger,
            engine,
            classifier_timeout,
            metrics,
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn LedgerStore) -> Result<T, crate::ledger::LedgerError> + Send + 'static,
    ) -> Result<T, Error> {
        let ledger = self.ledger.clone();
        tokio::task::spawn_blocking(move || f(ledger.as_ref()))
            .await
            .map_err(|e| Error::Ledger(e.to_string()))?
            .map_err(|e| Error::Ledger(e.0))
    }

    /// `exportctl_decisions_total{outcome, regime}`: once per decision with
    /// regime="all", and once per regime with the regime's most severe outcome.
    fn count_decision(&self, body: &engine::DecisionBody) {
        const HELP: &str = "Recorded decisions by outcome, overall (regime=all) and per regime.";
        let name = |o: crate::policy::Outcome| {
            convert::outcome(o)
                .as_str_name()
                .trim_start_matches("OUTCOME_")
        };
        self.metrics.count(
            "exportctl_decisions_total",
            HELP,
            &[("outcome", name(body.outcome)), ("regime", "all")],
            1,
        );
        let mut per_regime: std::collections::BTreeMap<&str, crate::policy::Outcome> =
            std::collections::BTreeMap::new();
        for d in body.lines.iter().flat_map(|l| &l.determinations) {
            let e = per_regime.entry(d.regime.as_str()).or_insert(d.outcome);
            *e = (*e).max(d.outcome);
        }
        for (regime, outcome) in per_regime {
            self.metrics.count(
                "exportctl_decisions_total",
                HELP,
                &[("outcome", name(outcome)), ("regime", regime)],
                1,
            );
        }
    }

    /// A record as answered: with its request and derived state ([`readback`]).
    fn decision_from_record(r: &Record) -> Result<pb::Decision, Error> {
        readback::decision(r).map_err(|e| Error::Ledger(e.0))
    }

    /// The recorded decision when `req` (resolved to `as_of`) is the same
    /// request as the one recorded under its id; ALREADY_EXISTS naming the
    /// fields that differ when it is not. Byte-identical requests are the same
    /// at once; otherwise both are compared in canonical form
    /// ([`idempotency`]), the recorded one decoded from the ledger (never
    /// rewritten) and resolved to the date recorded with it.
    fn existing(
        r: &Record,
        req: &pb::DecideRequest,
        request_hash: &str,
        as_of: time::Date,
    ) -> Result<pb::Decision, Error> {
        if r.request_hash != request_hash {
            let recorded = pb::DecideRequest::decode(r.body.request.as_slice())
                .map_err(|e| Error::Ledger(format!("record {}: request: {e}", r.seq)))?;
            // Left empty in both: the same default the first call resolved.
            let as_of = if req.as_of.is_empty() && recorded.as_of.is_empty() {
                r.body.as_of.clone()
            } else {
                exportctl_core::dates::format(as_of)
            };
            let differs = idempotency::differences(&recorded, &r.body.as_of, req, &as_of);
            if !differs.is_empty() {
                return Err(Error::AlreadyExists {
                    request_id: r.body.request_id.clone(),
                    decision: format!("decisions/{}", r.body.decision_id),
                    differs,
                });
            }
        }
        Self::decision_from_record(r)
    }

    async fn decide(&self, request: Request<pb::DecideRequest>) -> Result<pb::Decision, Error> {
        let started = Instant::now();
        let trace = TraceParent::from_metadata_or_new(request.metadata());
        // Keep a tenth of the caller's deadline to record and answer before the caller gives up.
        let budget = grpc_timeout(request.metadata()).map_or(self.classifier_timeout, |t| {
            (t - t / 10).min(self.classifier_timeout)
        });
        let deadline = started + budget;
        let req = request.into_inner();
        let policies = self.policies.current();
        let q = convert::decide_query(&req, &policies).map_err(Error::InvalidArgument)?;
        let request_bytes = req.encode_to_vec();
        let request_hash = sha256_hex(&request_bytes);

        // A retry is answered from the ledger without classifying again.
        let earlier = self
            .ledger
            .lookup_request_id(q.request_id.clone())
            .await
            .map_err(|e| Error::Ledger(e.0))?;
        if let Some(r) = earlier {
            return Self::existing(&r, &req, &request_hash, q.as_of);
        }

        let regimes = convert::line_regimes(&q, &req, &policies);
        let (classifications, classifier_digest) = self
            .classifier
            .classify_lines(&req.lines, &regimes, &policies, q.as_of, deadline, &trace)
            .await?;
        let shipment = convert::shipment(&q, &req, &classifications);
        let body = engine::decide(
            &policies,
            &self.screening.current(),
            &shipment,
            &self.engine,
        );
        let created_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| Error::Ledger(e.to_string()))?;
        let mut decision = convert::decision(
            &q,
            &body,
            classifications,
            &policies.digest,
            &classifier_digest,
            &created_at,
        );
        let decision_id = convert::decision_id(&q.request_id);
        decision.name = format!("decisions/{decision_id}");
        let record = NewRecord {
            decision_id,
            request_id: q.request_id.clone(),
            request: request_bytes,
            decision: decision.encode_to_vec(),
            outcome: decision.outcome,
            as_of: decision.as_of.clone(),
            created_at,
            rules_digest: policies.digest.clone(),
            classifier_rules_digest: classifier_digest,
        };
        let pending = self.ledger.submit(record).map_err(|e| match e {
            SubmitError::Full => Error::Overloaded(e.to_string()),
            SubmitError::Failed(e) => Error::Ledger(e.0),
        })?;
        match pending.durable().await.map_err(|e| Error::Ledger(e.0))? {
            Appended::New(r) => {
                decision.sequence = r.seq;
                decision.record_hash = r.hash;
                // Answered as it is read back; the recorded bytes stay without these.
                readback::complete(&mut decision, req);
                self.count_decision(&body);
                tracing::info!(
                    request_id = %q.request_id,
                    trace_id = %trace.trace_id,
                    outcome = ?body.outcome,
                    seq = decision.sequence,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "decision recorded"
                );
                Ok(decision)
            }
            Appended::Existing(r) => Self::existing(&r, &req, &request_hash, q.as_of),
        }
    }
}

#[tonic::async_trait]
impl LicensingService for Licensing {
    async fn decide(
        &self,
        request: Request<pb::DecideRequest>,
    ) -> Result<Response<pb::DecideResponse>, Status> {
        let decision = Licensing::decide(self, request).await.map_err(|e| {
            tracing::warn!(error = %e, "decide failed");
            Status::from(e)
        })?;
        Ok(Response::new(pb::DecideResponse {
            decision: Some(decision),
        }))
    }

    async fn get_decision(
        &self,
        request: Request<pb::GetDecisionRequest>,
    ) -> Result<Response<pb::GetDecisionResponse>, Status> {
        let name = request.into_inner().name;
        let id = convert::decision_id_of_name(&name).map_err(Error::InvalidArgument)?;
        let record = self.blocking(move |l| l.by_decision_id(&id)).await?;
        let record = record.ok_or_else(|| {
            Error::NotFound(format!(
                "decision `{}`",
                name.chars().take(80).collect::<String>()
            ))
        })?;
        Ok(Response::new(pb::GetDecisionResponse {
            decision: Some(Self::decision_from_record(&record)?),
        }))
    }

    async fn lookup_decision(
        &self,
        request: Request<pb::LookupDecisionRequest>,
    ) -> Result<Response<pb::LookupDecisionResponse>, Status> {
        let request_id =
            convert::lookup_request_id(&request.into_inner()).map_err(Error::InvalidArgument)?;
        let id = request_id.clone();
        let record = self.blocking(move |l| l.by_request_id(&id)).await?;
        let record = record
            .ok_or_else(|| Error::NotFound(format!("decision for request_id `{request_id}`")))?;
        Ok(Response::new(pb::LookupDecisionResponse {
            decision: Some(Self::decision_from_record(&record)?),
        }))
    }

    async fn list_decisions(
        &self,
        request: Request<pb::ListDecisionsRequest>,
    ) -> Result<Response<pb::ListDecisionsResponse>, Status> {
        let query = readback::list_query(&request.into_inner()).map_err(Error::InvalidArgument)?;
        let (decisions, next_page_token) = self
            .blocking(move |l| readback::list_page(l, &query))
            .await?;
        Ok(Response::new(pb::ListDecisionsResponse {
            decisions,
            next_page_token,
        }))
    }

    async fn get_destination_status(
        &self,
        request: Request<pb::GetDestinationStatusRequest>,
    ) -> Result<Response<pb::GetDestinationStatusResponse>, Status> {
        let (country, on) =
            convert::destination_query(&request.into_inner()).map_err(Error::InvalidArgument)?;
        let policies = self.policies.current();
        Ok(Response::new(convert::destination_status(
            &policies, country, on,
        )))
    }

    async fn screen_parties(
        &self,
        request: Request<pb::ScreenPartiesRequest>,
    ) -> Result<Response<pb::ScreenPartiesResponse>, Status> {
        let req = request.into_inner();
        let (parties, on, max) = convert::screen_query(&req).map_err(Error::InvalidArgument)?;
        let (policies, screening) = (self.policies.current(), self.screening.current());
        let results = req
            .parties
            .iter()
            .zip(&parties)
            .map(|(p, facts)| {
                let report =
                    engine::screen_party(&policies, &screening, facts, on, &self.engine, max);
                convert::party_screening(p, &report)
            })
            .collect();
        let sources = engine::screening_sources(&screening);
        Ok(Response::new(pb::ScreenPartiesResponse {
            results,
            screening_sources: sources.iter().map(convert::screening_source).collect(),
            as_of: exportctl_core::dates::format(on),
        }))
    }

    async fn verify_ledger(
        &self,
        _request: Request<pb::VerifyLedgerRequest>,
    ) -> Result<Response<pb::VerifyLedgerResponse>, Status> {
        let v = self.blocking(|l| l.verify()).await?;
        Ok(Response::new(pb::VerifyLedgerResponse {
            intact: v.broken.is_none(),
            length: v.length,
            head_hash: v.head_hash,
            first_broken_sequence: v.broken.as_ref().map(|b| b.0).unwrap_or_default(),
            problem: v.broken.map(|b| b.1).unwrap_or_default(),
        }))
    }
}
