//! The gRPC service: converts and validates, then asks the engine.

use std::pin::Pin;

use exportctl_proto::classifier as pb;
use exportctl_proto::classifier::classifier_service_server::ClassifierService;
use exportctl_runtime::FieldViolation;
use exportctl_runtime::errors::{bad_request, to_rpc_status};
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::convert;
use crate::engine::RuleSet;
use crate::error::Error;

/// Responses buffered per ClassifyStream call before the reader waits for the
/// client: the bound that gives the stream backpressure.
pub const STREAM_BUFFER: usize = 256;
/// Default and largest ListEntries page.
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

/// The rule set in force; replaced whole on reload, never mutated.
pub type SharedRules = exportctl_runtime::shared::Shared<RuleSet>;

#[derive(Debug, Clone)]
pub struct Classifier {
    rules: SharedRules,
    echo: bool,
    stream_idle_timeout: std::time::Duration,
}

impl Classifier {
    pub fn new(rules: SharedRules, echo: bool) -> Self {
        Self {
            rules,
            echo,
            stream_idle_timeout: exportctl_runtime::server::Limits::default().stream_idle_timeout,
        }
    }

    /// Ends a ClassifyStream with DEADLINE_EXCEEDED when its client sends
    /// nothing for `idle` (`--stream-idle-timeout`).
    pub fn with_stream_idle_timeout(mut self, idle: std::time::Duration) -> Self {
        self.stream_idle_timeout = idle;
        self
    }
}

/// Classifies one request against a rule set (shared by the unary and bulk calls).
pub fn classify(rules: &RuleSet, req: &pb::ClassifyRequest) -> Result<pb::ClassifyResponse, Error> {
    let query = convert::classify_query(req, rules).map_err(Error::InvalidArgument)?;
    let results = rules.classify(&query.facts, query.as_of, query.regimes.as_deref());
    Ok(convert::into_classify_response(query, rules, results))
}

fn page_token(rules: &RuleSet, offset: usize) -> String {
    format!("{}.{offset}", rules.content_digest().short_hex(8))
}

fn parse_page_token(rules: &RuleSet, token: &str) -> Result<usize, Error> {
    if token.is_empty() {
        return Ok(0);
    }
    let stale = || {
        Error::invalid(
            "page_token",
            "not a token from this rule set (it may have been reloaded): start again",
        )
    };
    let (digest, offset) = token.split_once('.').ok_or_else(stale)?;
    if digest != rules.content_digest().short_hex(8) {
        return Err(stale());
    }
    offset.parse().map_err(|_| stale())
}

type ClassifyStreamBody = Pin<Box<dyn Stream<Item = Result<pb::ClassifyResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ClassifierService for Classifier {
    async fn classify(
        &self,
        request: Request<pb::ClassifyRequest>,
    ) -> Result<Response<pb::ClassifyResponse>, Status> {
        let rules = self.rules.current();
        Ok(Response::new(classify(&rules, request.get_ref())?))
    }

    type ClassifyStreamStream = ClassifyStreamBody;

    async fn classify_stream(
        &self,
        request: Request<Streaming<pb::ClassifyRequest>>,
    ) -> Result<Response<Self::ClassifyStreamStream>, Status> {
        let mut input = request.into_inner();
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        // One snapshot for the whole stream: a reload mid-stream does not change its answers.
        let rules = self.rules.current();
        let idle = self.stream_idle_timeout;
        tokio::spawn(async move {
            let mut index = 0usize;
            while let Some(item) = exportctl_runtime::shed::next_within(&mut input, idle).await {
                let reply = match item {
                    Ok(req) => match classify(&rules, &req) {
                        Ok(resp) => Ok(resp),
                        Err(e) => {
                            let status = Status::from(e);
                            tracing::debug!(index, error = %status.message(), "bad item in ClassifyStream");
                            Ok(pb::ClassifyResponse {
                                sku: req.spec.map(|s| s.sku).unwrap_or_default(),
                                error: Some(to_rpc_status(&status)),
                                ..Default::default()
                            })
                        }
                    },
                    // The client's stream broke or went quiet: report it and stop.
                    Err(status) => Err(status),
                };
                let stop = reply.is_err();
                if tx.send(reply).await.is_err() || stop {
                    break;
                }
                index += 1;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_entry(
        &self,
        request: Request<pb::GetEntryRequest>,
    ) -> Result<Response<pb::GetEntryResponse>, Status> {
        let req = request.get_ref();
        let rules = self.rules.current();
        let mut bad = Vec::new();
        if req.entry_id.is_empty() {
            bad.push(FieldViolation::new("entry_id", "required"));
        } else if let Err(m) = exportctl_core::validate::identifier(&req.entry_id) {
            bad.push(FieldViolation::new("entry_id", m));
        }
        let pack = if req.regime.is_empty() {
            bad.push(FieldViolation::new("regime", "required"));
            None
        } else {
            let p = rules.pack(&req.regime);
            if p.is_none() {
                bad.push(FieldViolation::new(
                    "regime",
                    convert::unknown_regime(&req.regime, &rules),
                ));
            }
            p
        };
        if !bad.is_empty() {
            return Err(bad_request(&bad));
        }
        let pack = pack.expect("checked above");
        let entry = pack.entry(&req.entry_id).ok_or_else(|| {
            Error::NotFound(format!(
                "entry `{}` of {}",
                req.entry_id.chars().take(64).collect::<String>(),
                pack.regime
            ))
        })?;
        Ok(Response::new(pb::GetEntryResponse {
            entry: Some(convert::control_entry(&pack.regime, entry)),
            rules_digest: rules.digest().to_string(),
        }))
    }

    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        let req = request.get_ref();
        let rules = self.rules.current();
        let mut bad = Vec::new();
        if !req.regime.is_empty() && rules.pack(&req.regime).is_none() {
            bad.push(FieldViolation::new(
                "regime",
                convert::unknown_regime(&req.regime, &rules),
            ));
        }
        let as_of = if req.as_of.is_empty() {
            None
        } else {
            exportctl_core::validate::date_text(&req.as_of)
                .map_err(|m| bad.push(FieldViolation::new("as_of", m)))
                .ok()
        };
        if req.page_size < 0 {
            bad.push(FieldViolation::new("page_size", "must not be negative"));
        }
        let offset = match parse_page_token(&rules, &req.page_token) {
            Ok(o) => o,
            Err(Error::InvalidArgument(v)) => {
                bad.extend(v);
                0
            }
            Err(e) => return Err(e.into()),
        };
        if !bad.is_empty() {
            return Err(bad_request(&bad));
        }
        let size = match req.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => (n as usize).min(MAX_PAGE_SIZE),
        };
        let all: Vec<_> = rules
            .packs()
            .filter(|p| req.regime.is_empty() || p.regime == req.regime)
            .flat_map(|p| p.entries.iter().map(move |e| (p, e)))
            .filter(|(_, e)| as_of.is_none_or(|d| e.version_on(d).is_some()))
            .collect();
        let entries = all
            .iter()
            .skip(offset)
            .take(size)
            .map(|(p, e)| convert::control_entry(&p.regime, e))
            .collect();
        let next = offset + size;
        Ok(Response::new(pb::ListEntriesResponse {
            entries,
            next_page_token: if next < all.len() {
                page_token(&rules, next)
            } else {
                String::new()
            },
            rules_digest: rules.digest().to_string(),
        }))
    }

    async fn describe_rules(
        &self,
        _request: Request<pb::DescribeRulesRequest>,
    ) -> Result<Response<pb::DescribeRulesResponse>, Status> {
        let rules = self.rules.current();
        Ok(Response::new(pb::DescribeRulesResponse {
            rules_digest: rules.digest().to_string(),
            packs: rules
                .packs()
                .map(|p| pb::RulePackInfo {
                    regime: p.regime.clone(),
                    version: p.version.clone(),
                    name: p.name.clone(),
                    source: p.source.clone(),
                    not_listed_label: p.not_listed_label.clone(),
                    entry_count: p.entries.len() as i32,
                    digest: p.digest.clone(),
                    file: p.file.clone(),
                })
                .collect(),
            attributes: convert::attributes(rules.vocabulary()),
        }))
    }

    async fn echo(
        &self,
        request: Request<pb::EchoRequest>,
    ) -> Result<Response<pb::EchoResponse>, Status> {
        if !self.echo {
            return Err(Error::Unimplemented(
                "Echo is served only with --echo (benchmark baseline)",
            )
            .into());
        }
        Ok(Response::new(pb::EchoResponse {
            payload: request.into_inner().payload,
        }))
    }
}
