//! The licensing service's one error enum and its one mapping to `tonic::Status`.

use exportctl_runtime::FieldViolation;
use exportctl_runtime::errors::{bad_request, with_reason, with_violations};
use tonic::{Code, Status};

/// A policy pack that failed validation, naming the file and rule.
pub use exportctl_core::pack::PackError as PolicyError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0} not found")]
    NotFound(String),
    /// Same request id, different request: the fields that differ, by the
    /// retry's paths ([`crate::idempotency`]).
    #[error(
        "request_id `{request_id}` was already used for a different request ({decision}); it differs in {}",
        named(differs, ", ")
    )]
    AlreadyExists {
        request_id: String,
        decision: String,
        differs: Vec<FieldViolation>,
    },
    /// The classifier could not be reached or failed: nothing was decided.
    #[error("classifier unavailable: {0}")]
    ClassifierUnavailable(String),
    #[error("deadline exceeded: {0}")]
    DeadlineExceeded(String),
    #[error("policy pack rejected: {0}")]
    Policy(#[from] PolicyError),
    /// The ledger failed: nothing was acknowledged.
    #[error("ledger: {0}")]
    Ledger(String),
    /// The ledger key file could not be used (start-up).
    #[error("--ledger-key-file {path}: {detail}")]
    LedgerKey { path: String, detail: String },
    /// The ledger is broken, or does not match its anchor: not served.
    #[error("refusing to serve the decision ledger: {0}")]
    LedgerRefused(crate::ledger::anchor::Refusal),
    /// More work than the service takes on: refused at once, nothing recorded.
    #[error("overloaded: {0}")]
    Overloaded(String),
}

/// Most differing fields an ALREADY_EXISTS names (the status travels in
/// trailers, whose size is bounded).
pub const MAX_NAMED: usize = 20;

/// The first [`MAX_NAMED`] fields, joined, and how many more there are.
fn named(differs: &[FieldViolation], sep: &str) -> String {
    let mut out = differs
        .iter()
        .take(MAX_NAMED)
        .map(|v| v.field.as_str())
        .collect::<Vec<_>>()
        .join(sep);
    if differs.len() > MAX_NAMED {
        out.push_str(&format!("{sep}… {} more", differs.len() - MAX_NAMED));
    }
    out
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidArgument(v) => bad_request(&v),
            Error::NotFound(what) => {
                with_reason(Code::NotFound, "NOT_FOUND", format!("{what} not found"))
            }
            Error::AlreadyExists {
                ref request_id,
                ref decision,
                ref differs,
            } => with_violations(
                Code::AlreadyExists,
                "REQUEST_ID_REUSED",
                e.to_string(),
                &differs[..differs.len().min(MAX_NAMED)],
                &[
                    ("request_id", request_id),
                    ("decision", decision),
                    ("differing_fields", &named(differs, ",")),
                ],
            ),
            Error::ClassifierUnavailable(m) => with_reason(
                Code::Unavailable,
                "CLASSIFIER_UNAVAILABLE",
                format!("classifier unavailable, nothing decided: {m}"),
            ),
            Error::DeadlineExceeded(m) => with_reason(
                Code::DeadlineExceeded,
                "DEADLINE_EXCEEDED",
                format!("deadline exceeded, nothing decided: {m}"),
            ),
            Error::Policy(err) => with_reason(
                Code::FailedPrecondition,
                "POLICY_PACK_INVALID",
                err.to_string(),
            ),
            Error::Ledger(detail) => {
                // The database's own words may name files, hosts or SQL: they
                // go to the log, and the caller gets a stable message.
                tracing::error!(%detail, "ledger failed");
                with_reason(
                    Code::Unavailable,
                    "LEDGER_UNAVAILABLE",
                    "the decision ledger is unavailable; nothing was recorded or changed (details in the service log)",
                )
            }
            Error::LedgerKey { .. } | Error::LedgerRefused(_) => {
                tracing::error!(error = %e, "ledger refused");
                with_reason(
                    Code::FailedPrecondition,
                    "LEDGER_REFUSED",
                    "the decision ledger failed its integrity checks (details in the service log)",
                )
            }
            Error::Overloaded(m) => with_reason(
                Code::ResourceExhausted,
                "OVERLOADED",
                format!("overloaded, nothing decided; retry with backoff: {m}"),
            ),
        }
    }
}
