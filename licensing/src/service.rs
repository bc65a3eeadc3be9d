//! The gRPC service: validates, classifies every line over gRPC, decides,
//! records durably, then answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use exportctl_core::dates;
use exportctl_proto::classifier as cpb;
use exportctl_proto::licensing as pb;
use exportctl_proto::licensing::licensing_service_server::LicensingService;
use exportctl_runtime::FieldViolation;
use exportctl_runtime::metrics::Registry;
use exportctl_runtime::server::grpc_timeout;
use exportctl_runtime::trace::TraceParent;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::classifier_client::ClassifierClient;
use crate::convert::{self, DecideQuery};
use crate::engine::{self, EngineConfig};
use crate::error::Error;
use crate::ledger::{
    Appended, LedgerStore, ListFilter, NewRecord, Record, SubmitError, sha256_hex,
};
use crate::policy::PolicySet;

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

/// The policy set in force; replaced whole on reload.
pub type SharedPolicies = exportctl_runtime::shared::Shared<PolicySet>;

#[derive(Clone)]
pub struct Licensing {
    policies: SharedPolicies,
    classifier: ClassifierClient,
    ledger: Arc<dyn LedgerStore>,
    engine: EngineConfig,
    /// Upper bound of one classifier call when the caller sets no shorter deadline.
    classifier_timeout: Duration,
    metrics: Arc<Registry>,
}

impl Licensing {
    pub fn new(
        policies: SharedPolicies,
        classifier: ClassifierClient,
        ledger: Arc<dyn LedgerStore>,
        engine: EngineConfig,
        classifier_timeout: Duration,
        metrics: Arc<Registry>,
    ) -> Self {
        Self {
            policies,
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

    /// Classifies every line in its applicable regimes, concurrently.
    async fn classify_lines(
        &self,
        req: &pb::DecideRequest,
        q: &DecideQuery,
        policies: &PolicySet,
        deadline: Instant,
        trace: &TraceParent,
    ) -> Result<(Vec<Vec<cpb::RegimeClassification>>, String), Error> {
        let on = q.as_of;
        let mut work: Vec<(usize, Vec<String>)> = Vec::with_capacity(req.lines.len());
        for (i, line) in req.lines.iter().enumerate() {
            let regimes: Vec<String> = policies
                .applicable_regimes(&q.export_country, &line.origin_country)
                .into_iter()
                .map(String::from)
                .collect();
            if !regimes.is_empty() {
                work.push((i, regimes));
            }
        }
        let client = self.classifier.with_trace(trace);
        let mut outs = Vec::with_capacity(work.len());
        if let [(i, regimes)] = work.as_slice() {
            // A single line (most order lines) is classified without a task of its own.
            let out = classify_line(&client, *i, &req.lines[*i], regimes, on, deadline).await;
            outs.push((*i, out));
        } else {
            let mut tasks = tokio::task::JoinSet::new();
            for (i, regimes) in work {
                let client = client.clone();
                let line = req.lines[i].clone();
                tasks.spawn(async move {
                    let out = classify_line(&client, i, &line, &regimes, on, deadline).await;
                    (i, out)
                });
            }
            while let Some(joined) = tasks.join_next().await {
                outs.push(joined.map_err(|e| Error::ClassifierUnavailable(e.to_string()))?);
            }
        }
        let mut results: Vec<Vec<cpb::RegimeClassification>> = vec![Vec::new(); req.lines.len()];
        let mut digests: Vec<String> = Vec::new();
        let mut violations: Vec<FieldViolation> = Vec::new();
        let mut failure: Option<Error> = None;
        for (i, out) in outs {
            match out {
                Ok((regimes, digest)) => {
                    results[i] = regimes;
                    if let Some(d) = digest
                        && !digests.contains(&d)
                    {
                        digests.push(d);
                    }
                }
                Err(Error::InvalidArgument(v)) => violations.extend(v),
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        if !violations.is_empty() {
            violations.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(Error::InvalidArgument(violations));
        }
        if digests.len() > 1 {
            return Err(Error::ClassifierUnavailable(
                "the classifier's rules changed during the request; retry".into(),
            ));
        }
        Ok((results, digests.pop().unwrap_or_default()))
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

    fn decision_from_record(r: &Record) -> Result<pb::Decision, Error> {
        let mut d = pb::Decision::decode(r.body.decision.as_slice())
            .map_err(|e| Error::Ledger(e.to_string()))?;
        d.sequence = r.seq;
        d.record_hash = r.hash.clone();
        Ok(d)
    }

    fn existing(r: &Record, request_hash: &str) -> Result<pb::Decision, Error> {
        if r.request_hash != request_hash {
            return Err(Error::AlreadyExists(format!(
                "request_id `{}` was already used for a different request (decision {})",
                r.body.request_id, r.body.decision_id
            )));
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
        let earlier = if self.ledger.reads_are_local() {
            self.ledger
                .by_request_id(&q.request_id)
                .map_err(|e| Error::Ledger(e.0))?
        } else {
            let rid = q.request_id.clone();
            self.blocking(move |l| l.by_request_id(&rid)).await?
        };
        if let Some(r) = earlier {
            return Self::existing(&r, &request_hash);
        }

        let (classifications, classifier_digest) = self
            .classify_lines(&req, &q, &policies, deadline, &trace)
            .await?;
        let shipment = convert::shipment(&q, &req, &classifications);
        let body = engine::decide(&policies, &shipment, &self.engine);
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
        let decision_id =
            sha256_hex(format!("decision:{}", q.request_id).as_bytes())[7..39].to_string();
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
            Appended::Existing(r) => Self::existing(&r, &request_hash),
        }
    }
}

/// Classifies one line: its spec (if any) in the applicable regimes, plus any
/// pre-classified entries checked against the classifier's packs.
async fn classify_line(
    client: &ClassifierClient,
    i: usize,
    line: &pb::LineItem,
    regimes: &[String],
    on: time::Date,
    deadline: Instant,
) -> Result<(Vec<cpb::RegimeClassification>, Option<String>), Error> {
    let as_of = dates::format(on);
    let remaining = || deadline.saturating_duration_since(Instant::now());
    let mut out: Vec<cpb::RegimeClassification> = Vec::new();
    let mut digest = None;
    if let Some(spec) = &line.spec {
        let req = cpb::ClassifyRequest {
            spec: Some(spec.clone()),
            as_of: as_of.to_string(),
            regimes: regimes.to_vec(),
        };
        let resp = client
            .classify(req, remaining(), &format!("lines[{i}].spec"))
            .await?;
        digest = Some(resp.rules_digest);
        out = resp.regimes;
    }
    let mut bad = Vec::new();
    let mut labels: Option<cpb::DescribeRulesResponse> = None;
    for (j, e) in line.entries.iter().enumerate() {
        let field = format!("lines[{i}].entries[{j}]");
        if !regimes.contains(&e.regime) {
            bad.push(FieldViolation::new(
                format!("{field}.regime"),
                format!(
                    "`{}` does not apply to this line (applicable: {})",
                    e.regime,
                    regimes.join(", ")
                ),
            ));
            continue;
        }
        let slot = match out.iter().position(|c| c.regime == e.regime) {
            Some(p) => p,
            None => {
                out.push(cpb::RegimeClassification {
                    regime: e.regime.clone(),
                    ..Default::default()
                });
                out.len() - 1
            }
        };
        match client
            .get_entry(&e.regime, &e.entry_id, remaining())
            .await?
        {
            Some(entry) => {
                let Some(v) = convert::version_in_force(&entry, on) else {
                    bad.push(FieldViolation::new(
                        format!("{field}.entry_id"),
                        format!("{} is not in force on {as_of}", e.entry_id),
                    ));
                    continue;
                };
                let c = &mut out[slot];
                if !c.matches.iter().any(|m| m.entry_id == entry.entry_id) {
                    c.matches.push(convert::pre_classified_match(&entry, v));
                }
                c.status = cpb::ClassificationStatus::Listed as i32;
                c.not_listed_label.clear();
            }
            None => {
                // The regime's not-listed label (EAR99) is a classification too.
                if labels.is_none() {
                    labels = Some(client.describe_rules(remaining()).await?);
                }
                let label = labels
                    .as_ref()
                    .and_then(|d| d.packs.iter().find(|p| p.regime == e.regime))
                    .map(|p| p.not_listed_label.clone())
                    .unwrap_or_default();
                if !label.is_empty() && label == e.entry_id {
                    let c = &mut out[slot];
                    if c.matches.is_empty() && c.undetermined.is_empty() {
                        c.status = cpb::ClassificationStatus::NotListed as i32;
                        c.not_listed_label = label;
                    }
                } else {
                    bad.push(FieldViolation::new(
                        format!("{field}.entry_id"),
                        format!(
                            "`{}` is not an entry of {}",
                            e.entry_id.chars().take(64).collect::<String>(),
                            e.regime
                        ),
                    ));
                }
            }
        }
    }
    if !bad.is_empty() {
        return Err(Error::InvalidArgument(bad));
    }
    Ok((out, digest))
}

fn page_size(n: i32) -> Result<usize, Error> {
    match n {
        n if n < 0 => Err(Error::InvalidArgument(vec![FieldViolation::new(
            "page_size",
            "must not be negative",
        )])),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as usize).min(MAX_PAGE_SIZE)),
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
        let Some(id) = name
            .strip_prefix("decisions/")
            .filter(|id| !id.is_empty() && id.len() <= 64)
        else {
            return Err(Error::InvalidArgument(vec![FieldViolation::new(
                "name",
                "must look like decisions/{id}",
            )])
            .into());
        };
        let id = id.to_string();
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

    async fn list_decisions(
        &self,
        request: Request<pb::ListDecisionsRequest>,
    ) -> Result<Response<pb::ListDecisionsResponse>, Status> {
        let req = request.into_inner();
        let mut bad = Vec::new();
        let outcome = match req.outcome {
            0 => None,
            o if convert::outcome_from_pb(o).is_some() => Some(o),
            o => {
                bad.push(FieldViolation::new(
                    "outcome",
                    format!("unknown outcome {o}"),
                ));
                None
            }
        };
        let mut date = |field: &str, v: &str| -> Option<String> {
            if v.is_empty() {
                return None;
            }
            match dates::parse(v) {
                Ok(d) => Some(dates::format(d)),
                Err(m) => {
                    bad.push(FieldViolation::new(field, m));
                    None
                }
            }
        };
        let as_of_from = date("as_of_from", &req.as_of_from);
        let as_of_until = date("as_of_until", &req.as_of_until);
        let before_seq = if req.page_token.is_empty() {
            None
        } else {
            match req
                .page_token
                .strip_prefix('s')
                .and_then(|s| s.parse::<i64>().ok())
            {
                Some(s) => Some(s),
                None => {
                    bad.push(FieldViolation::new(
                        "page_token",
                        "not a token from a previous response",
                    ));
                    None
                }
            }
        };
        let limit = match page_size(req.page_size) {
            Ok(l) => l,
            Err(Error::InvalidArgument(v)) => {
                bad.extend(v);
                0
            }
            Err(e) => return Err(e.into()),
        };
        if !bad.is_empty() {
            return Err(Error::InvalidArgument(bad).into());
        }
        let filter = ListFilter {
            outcome,
            as_of_from,
            as_of_until,
            before_seq,
            limit: limit + 1,
        };
        let mut records = self.blocking(move |l| l.list(&filter)).await?;
        let next_page_token = if records.len() > limit {
            records.truncate(limit);
            records
                .last()
                .map(|r| format!("s{}", r.seq))
                .unwrap_or_default()
        } else {
            String::new()
        };
        let decisions = records
            .iter()
            .map(Self::decision_from_record)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Response::new(pb::ListDecisionsResponse {
            decisions,
            next_page_token,
        }))
    }

    async fn get_destination_status(
        &self,
        request: Request<pb::GetDestinationStatusRequest>,
    ) -> Result<Response<pb::GetDestinationStatusResponse>, Status> {
        let req = request.into_inner();
        let mut bad = Vec::new();
        if !crate::policy::is_country_code(&req.country) {
            bad.push(FieldViolation::new(
                "country",
                "required: an ISO 3166-1 alpha-2 code such as CN",
            ));
        }
        let on = dates::parse_or_today(&req.as_of)
            .map_err(|m| bad.push(FieldViolation::new("as_of", m)))
            .ok();
        let Some(on) = on.filter(|_| bad.is_empty()) else {
            return Err(Error::InvalidArgument(bad).into());
        };
        let policies = self.policies.current();
        let mut memberships = Vec::new();
        let mut measures = Vec::new();
        for p in policies.regimes.values() {
            for (g, v) in &p.groups {
                if v.contains(on) && g.countries.contains(&req.country) {
                    memberships.push(pb::GroupMembership {
                        regime: p.regime.clone(),
                        group: g.group.clone(),
                        effective_from: dates::format(v.from),
                        effective_until: v.until.map(dates::format).unwrap_or_default(),
                        citation: g.citations.join("; "),
                        confidence: if g.confidence == crate::policy::Confidence::Low {
                            cpb::Confidence::Low
                        } else {
                            cpb::Confidence::High
                        } as i32,
                    });
                }
            }
            for (r, v) in &p.rules {
                let names_country = r.destinations.countries.contains(&req.country);
                if v.contains(on) && names_country && !p.is_home(&req.country) {
                    measures.push(format!(
                        "{} {}: {} ({})",
                        p.regime,
                        r.id,
                        r.cited.explanation,
                        r.cited.citations.join("; ")
                    ));
                }
            }
        }
        Ok(Response::new(pb::GetDestinationStatusResponse {
            country: req.country,
            as_of: dates::format(on),
            memberships,
            measures,
            rules_digest: policies.digest.clone(),
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
