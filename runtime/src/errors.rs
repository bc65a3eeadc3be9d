//! Rich gRPC errors (AIP-193): `google.rpc.BadRequest` with one violation per
//! bad field, and `google.rpc.ErrorInfo` with a stable reason.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// Error domain reported in `ErrorInfo`.
pub const ERROR_DOMAIN: &str = "exportctl.dev";

/// One invalid field of a request, named by its path (`spec.material`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }

    /// The same violation under a parent path (`lines[2]` + `spec.material`).
    pub fn nested(self, parent: &str) -> Self {
        Self {
            field: format!("{parent}.{}", self.field),
            description: self.description,
        }
    }
}

impl std::fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// `INVALID_ARGUMENT` carrying a `BadRequest` with every violation.
pub fn bad_request(violations: &[FieldViolation]) -> Status {
    let summary = match violations {
        [] => "invalid request".to_string(),
        [one] => format!("invalid request: {one}"),
        [first, rest @ ..] => format!("invalid request: {first} (and {} more)", rest.len()),
    };
    let mut details = ErrorDetails::new();
    for v in violations {
        details.add_bad_request_violation(v.field.clone(), v.description.clone());
    }
    details.set_error_info("INVALID_ARGUMENT", ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(Code::InvalidArgument, summary, details)
}

/// A status with an `ErrorInfo` detail naming a stable reason.
pub fn with_reason(code: Code, reason: &str, message: impl Into<String>) -> Status {
    let details = ErrorDetails::with_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details)
}

/// A status with an `ErrorInfo` (a stable reason and `metadata`) and a
/// `BadRequest` naming `violations`: a refusal that names the fields it is
/// about without the request being malformed (ALREADY_EXISTS, say).
pub fn with_violations(
    code: Code,
    reason: &str,
    message: impl Into<String>,
    violations: &[FieldViolation],
    metadata: &[(&str, &str)],
) -> Status {
    let mut details = ErrorDetails::new();
    for v in violations {
        details.add_bad_request_violation(v.field.clone(), v.description.clone());
    }
    let metadata = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<HashMap<_, _>>();
    details.set_error_info(reason, ERROR_DOMAIN, metadata);
    Status::with_error_details(code, message, details)
}

/// Reads the field violations back out of a status (for clients and tests).
pub fn field_violations(status: &Status) -> Vec<FieldViolation> {
    status
        .get_error_details()
        .bad_request()
        .map(|br| {
            br.field_violations
                .iter()
                .map(|v| FieldViolation::new(v.field.clone(), v.description.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The `google.rpc.Status` of a tonic status, details included, for errors
/// carried inside a message (as in a bulk stream's per-item error).
pub fn to_rpc_status(status: &Status) -> tonic_types::pb::Status {
    use prost::Message as _;
    if !status.details().is_empty()
        && let Ok(decoded) = tonic_types::pb::Status::decode(status.details())
    {
        return decoded;
    }
    tonic_types::pb::Status {
        code: status.code() as i32,
        message: status.message().to_string(),
        details: Vec::new(),
    }
}

/// A start-up setting a server refuses to run with, naming the flag to fix
/// (the flags of the service binaries; their environment variables set the same).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A certificate or key file that cannot be read.
    #[error("{flag}: cannot read {path}: {reason}")]
    Unreadable {
        flag: &'static str,
        path: String,
        reason: String,
    },
    /// A file without the PEM certificate or key it should hold, or one
    /// rustls cannot use.
    #[error("{flag}: {path} is not a usable PEM {what}: {reason}")]
    NotPem {
        flag: &'static str,
        path: String,
        what: &'static str,
        reason: String,
    },
    /// A key that does not belong to its certificate.
    #[error("{key_flag}: the key in {key} does not match the certificate of {cert_flag} ({cert})")]
    KeyMismatch {
        key_flag: &'static str,
        key: String,
        cert_flag: &'static str,
        cert: String,
    },
    /// TLS settings for a connection whose URL is plaintext: they would be ignored.
    #[error(
        "{flag} is set but {url_flag} `{url}` is not https://: the connection would be plaintext; use an https:// URL"
    )]
    TlsWithoutHttps {
        flag: &'static str,
        url_flag: &'static str,
        url: String,
    },
    /// An API key that would cross the network unencrypted.
    #[error(
        "{flag} would be sent in the clear: {url_flag} `{url}` is plaintext to a host that is not loopback; use an https:// URL (with {ca_flag})"
    )]
    KeyInTheClear {
        flag: &'static str,
        url_flag: &'static str,
        url: String,
        ca_flag: &'static str,
    },
}

impl ConfigError {
    /// The flag the error is about.
    pub fn flag(&self) -> &'static str {
        match self {
            Self::Unreadable { flag, .. }
            | Self::NotPem { flag, .. }
            | Self::TlsWithoutHttps { flag, .. }
            | Self::KeyInTheClear { flag, .. } => flag,
            Self::KeyMismatch { key_flag, .. } => key_flag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_request_round_trips_every_violation() {
        let vs = vec![
            FieldViolation::new("spec.material", "unknown value `photoresit`"),
            FieldViolation::new("as_of", "not a date"),
        ];
        let status = bad_request(&vs);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("spec.material"));
        assert_eq!(field_violations(&status), vs);
        let rpc = to_rpc_status(&status);
        assert_eq!(rpc.code, Code::InvalidArgument as i32);
        assert!(!rpc.details.is_empty());
    }
}
