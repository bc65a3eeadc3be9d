//! The classification port: what the licensing service needs of a classifier
//! (classify a spec, look up an entry, the regimes' not-listed labels), with
//! two adapters — over gRPC (`grpc`) and in the same process (`in_process`).
//!
//! One code path classifies the lines of a request, however many: every line
//! in its applicable regimes, pre-classified entries checked against the
//! classifier's packs, every failure an error (never a decision).

mod grpc;
mod in_process;

use std::sync::Arc;
use std::time::{Duration, Instant};

use exportctl_core::dates;
use exportctl_proto::classifier as cpb;
use exportctl_proto::licensing as pb;
use exportctl_runtime::FieldViolation;
use exportctl_runtime::errors::field_violations;
use exportctl_runtime::trace::TraceParent;
use futures_util::future::join_all;
use time::Date;
use tonic::{Code, Status};

pub use grpc::ClassifierClient;
pub use in_process::InProcessClassifier;

use crate::convert;
use crate::error::Error;
use crate::policy::PolicySet;

/// One call's settings: how long it may take and the trace it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub timeout: Duration,
    pub trace: Option<&'a TraceParent>,
}

/// A classifier, as the licensing service calls it.
#[tonic::async_trait]
pub trait ClassifierPort: Send + Sync + 'static {
    async fn classify(
        &self,
        req: cpb::ClassifyRequest,
        call: &Call<'_>,
    ) -> Result<cpb::ClassifyResponse, Status>;

    /// `NOT_FOUND` when the regime has no such entry.
    async fn get_entry(
        &self,
        req: cpb::GetEntryRequest,
        call: &Call<'_>,
    ) -> Result<cpb::GetEntryResponse, Status>;

    async fn describe_rules(&self, call: &Call<'_>) -> Result<cpb::DescribeRulesResponse, Status>;

    /// Whether the classifier answers and serves: `Ok` when it does. The
    /// licensing service's health follows it ([`crate::health`]). A
    /// classifier in the same process is always up.
    async fn ping(&self, _call: &Call<'_>) -> Result<(), Status> {
        Ok(())
    }
}

/// The lines' classifications, index for index, and the classifier's rules digest.
pub type Classified = (Vec<Vec<cpb::RegimeClassification>>, String);

/// The port as the service uses it: deadlines enforced, failures mapped,
/// the lines of a request classified concurrently.
#[derive(Clone)]
pub struct Classification {
    port: Arc<dyn ClassifierPort>,
}

impl Classification {
    pub fn new(port: Arc<dyn ClassifierPort>) -> Self {
        Self { port }
    }

    /// One health probe of the classifier within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), Status> {
        let call = Call {
            timeout,
            trace: None,
        };
        match tokio::time::timeout(timeout, self.port.ping(&call)).await {
            Ok(answer) => answer,
            Err(_) => Err(Status::deadline_exceeded("no answer in time")),
        }
    }

    /// Classifies every line in the regimes `regimes[i]` names for it (a line
    /// with none stays unclassified). Bad specs or entries of any line come
    /// back together as field violations; any other failure fails the whole.
    pub async fn classify_lines(
        &self,
        lines: &[pb::LineItem],
        regimes: &[Vec<String>],
        policies: &PolicySet,
        on: Date,
        deadline: Instant,
        trace: &TraceParent,
    ) -> Result<Classified, Error> {
        let outbound = trace.outbound();
        let ctx = LineContext {
            port: self.port.as_ref(),
            policies,
            on,
            as_of: dates::format(on),
            deadline,
            trace: &outbound,
        };
        let outs = join_all(
            lines
                .iter()
                .zip(regimes)
                .enumerate()
                .filter(|(_, (_, r))| !r.is_empty())
                .map(|(i, (line, r))| {
                    let ctx = &ctx;
                    async move { (i, ctx.classify_line(i, line, r).await) }
                }),
        )
        .await;
        let mut results: Vec<Vec<cpb::RegimeClassification>> = vec![Vec::new(); lines.len()];
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
}

/// What every line of one request shares.
struct LineContext<'a> {
    port: &'a dyn ClassifierPort,
    /// Which regimes accept well-formed entry ids their classifier lacks.
    policies: &'a PolicySet,
    on: Date,
    as_of: String,
    deadline: Instant,
    trace: &'a TraceParent,
}

impl LineContext<'_> {
    /// The port call `f`, within what is left of the deadline, its failure
    /// mapped (bad input under `field`).
    async fn call<T>(
        &self,
        field: &str,
        f: impl AsyncFnOnce(&Call<'_>) -> Result<T, Status>,
    ) -> Result<T, Error> {
        let timeout = self.deadline.saturating_duration_since(Instant::now());
        let call = Call {
            timeout,
            trace: Some(self.trace),
        };
        match tokio::time::timeout(timeout, f(&call)).await {
            Err(_) => Err(Error::DeadlineExceeded(
                "the classifier did not answer in time".into(),
            )),
            Ok(Ok(v)) => Ok(v),
            Ok(Err(status)) => Err(map_status(status, field)),
        }
    }

    /// One line: its spec (if any) in the applicable regimes, plus any
    /// pre-classified entries checked against the classifier's packs.
    async fn classify_line(
        &self,
        i: usize,
        line: &pb::LineItem,
        regimes: &[String],
    ) -> Result<(Vec<cpb::RegimeClassification>, Option<String>), Error> {
        let mut out: Vec<cpb::RegimeClassification> = Vec::new();
        let mut digest = None;
        if let Some(spec) = &line.spec {
            let req = cpb::ClassifyRequest {
                spec: Some(spec.clone()),
                as_of: self.as_of.clone(),
                regimes: regimes.to_vec(),
            };
            let field = format!("lines[{i}].spec");
            let resp = self
                .call(&field, async |c| self.port.classify(req, c).await)
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
            let req = cpb::GetEntryRequest {
                regime: e.regime.clone(),
                entry_id: e.entry_id.clone(),
            };
            let found = self
                .call("entries", async |c| {
                    match self.port.get_entry(req, c).await {
                        Ok(resp) => Ok(resp.entry),
                        Err(status) if status.code() == Code::NotFound => Ok(None),
                        Err(status) => Err(status),
                    }
                })
                .await?;
            match found {
                Some(entry) => {
                    let Some(v) = convert::version_in_force(&entry, self.on) else {
                        bad.push(FieldViolation::new(
                            format!("{field}.entry_id"),
                            format!("{} is not in force on {}", e.entry_id, self.as_of),
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
                        labels = Some(
                            self.call("", async |c| self.port.describe_rules(c).await)
                                .await?,
                        );
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
                        match self
                            .policies
                            .regimes
                            .get(&e.regime)
                            .and_then(|p| p.entry_syntax)
                        {
                            // Well formed but unknown to the classifier: the
                            // policy packs' control list (or an INDETERMINATE) decides.
                            Some(syntax) if syntax.is_well_formed(&e.entry_id) => {
                                let c = &mut out[slot];
                                if !c.matches.iter().any(|m| m.entry_id == e.entry_id) {
                                    c.matches.push(convert::declared_match(e));
                                }
                                c.status = cpb::ClassificationStatus::Listed as i32;
                                c.not_listed_label.clear();
                            }
                            syntax => bad.push(FieldViolation::new(
                                format!("{field}.entry_id"),
                                format!(
                                    "`{}` is not {} of {}",
                                    e.entry_id.chars().take(64).collect::<String>(),
                                    if syntax.is_some() {
                                        "a well-formed entry id (such as 3A001.b.2)"
                                    } else {
                                        "an entry"
                                    },
                                    e.regime
                                ),
                            )),
                        }
                    }
                }
            }
        }
        if !bad.is_empty() {
            return Err(Error::InvalidArgument(bad));
        }
        Ok((out, digest))
    }
}

/// Bad specs become the caller's field violations (under `field`); anything else fails closed.
fn map_status(status: Status, field: &str) -> Error {
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
