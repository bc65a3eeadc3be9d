//! The classifier's one error enum and its one mapping to `tonic::Status`.

use exportctl_runtime::FieldViolation;
use exportctl_runtime::errors::{bad_request, with_reason};
use tonic::{Code, Status};

/// A rule pack (or the vocabulary) that failed validation, naming the file and rule.
pub use exportctl_core::pack::PackError as LoadError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0} not found")]
    NotFound(String),
    #[error("rule pack rejected: {0}")]
    RulePack(#[from] LoadError),
    #[error("cannot read rules: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Unimplemented(&'static str),
}

impl Error {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation::new(field, description)])
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidArgument(violations) => bad_request(&violations),
            Error::NotFound(what) => {
                with_reason(Code::NotFound, "NOT_FOUND", format!("{what} not found"))
            }
            // Only reachable at start-up or reload; a caller never sees a half-loaded set.
            Error::RulePack(err) => with_reason(
                Code::FailedPrecondition,
                "RULE_PACK_INVALID",
                err.to_string(),
            ),
            Error::Io(err) => with_reason(Code::Internal, "RULES_IO", err.to_string()),
            Error::Unimplemented(what) => with_reason(Code::Unimplemented, "UNIMPLEMENTED", what),
        }
    }
}
