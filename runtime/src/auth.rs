//! API keys with scopes, checked for every RPC by a tower layer: a missing or
//! unknown key is UNAUTHENTICATED, a key without the method's scope
//! PERMISSION_DENIED. Keys are configured by their SHA-256, never in clear.
//! Health checking and reflection need no key.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Classify,
    Decide,
    Read,
    /// Everything.
    Admin,
}

/// One configured key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Who holds it (logged, never the key).
    pub name: String,
    /// Lowercase hex SHA-256 of the key.
    pub sha256: String,
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    key: Vec<ApiKey>,
}

/// The scope each method needs; `None` = open (health, reflection).
pub type ScopeOf = fn(&str) -> Option<Scope>;

/// The configured keys and the method → scope map. No keys = no checks.
#[derive(Clone)]
pub struct ApiKeys {
    keys: Arc<Vec<ApiKey>>,
    scope_of: ScopeOf,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field(
                "keys",
                &self.keys.iter().map(|k| &k.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// SHA-256 of a key, as configured.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl ApiKeys {
    pub fn new(keys: Vec<ApiKey>, scope_of: ScopeOf) -> Result<Self, String> {
        for k in &keys {
            if k.sha256.len() != 64
                || !k
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            {
                return Err(format!(
                    "key `{}`: sha256 must be 64 lowercase hex digits",
                    k.name
                ));
            }
            if k.scopes.is_empty() {
                return Err(format!("key `{}` has no scopes", k.name));
            }
        }
        Ok(Self {
            keys: Arc::new(keys),
            scope_of,
        })
    }

    /// Reads `[[key]]` entries (name, sha256, scopes) from a TOML file.
    pub fn read(path: &Path) -> Result<Vec<ApiKey>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: KeyFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(file.key)
    }

    /// Open access (no keys configured).
    pub fn none(scope_of: ScopeOf) -> Self {
        Self {
            keys: Arc::new(Vec::new()),
            scope_of,
        }
    }

    pub fn enabled(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Checks a request's headers against the method's scope.
    pub fn check(&self, path: &str, headers: &http::HeaderMap) -> Result<(), tonic::Status> {
        if !self.enabled() {
            return Ok(());
        }
        let Some(needed) = (self.scope_of)(path) else {
            return Ok(());
        };
        let presented = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .or_else(|| {
                headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
            });
        let Some(presented) = presented.map(str::trim).filter(|k| !k.is_empty()) else {
            return Err(tonic::Status::unauthenticated(
                "an API key is required (authorization: Bearer KEY or x-api-key)",
            ));
        };
        let hash = hash_key(presented);
        let Some(key) = self.keys.iter().find(|k| k.sha256 == hash) else {
            return Err(tonic::Status::unauthenticated("unknown API key"));
        };
        if key.scopes.contains(&Scope::Admin) || key.scopes.contains(&needed) {
            Ok(())
        } else {
            tracing::warn!(key = %key.name, path, ?needed, "API key lacks the scope");
            Err(tonic::Status::permission_denied(format!(
                "API key `{}` lacks the {needed:?} scope",
                key.name
            )))
        }
    }
}

/// The tower layer that enforces the keys.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    keys: ApiKeys,
}

impl AuthLayer {
    pub fn new(keys: ApiKeys) -> Self {
        Self { keys }
    }
}

impl<S> tower_layer::Layer<S> for AuthLayer {
    type Service = Auth<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Auth {
            inner,
            keys: self.keys.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    keys: ApiKeys,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for Auth<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        match self.keys.check(req.uri().path(), req.headers()) {
            Ok(()) => Box::pin(self.inner.call(req)),
            Err(status) => Box::pin(std::future::ready(Ok(status.into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope_of(path: &str) -> Option<Scope> {
        path.ends_with("/Classify").then_some(Scope::Classify)
    }

    fn headers(key: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert("authorization", format!("Bearer {key}").parse().unwrap());
        h
    }

    #[test]
    fn keys_and_scopes() {
        let keys = ApiKeys::new(
            vec![
                ApiKey {
                    name: "erp".into(),
                    sha256: hash_key("s3cret"),
                    scopes: vec![Scope::Classify],
                },
                ApiKey {
                    name: "auditor".into(),
                    sha256: hash_key("r3ad"),
                    scopes: vec![Scope::Read],
                },
            ],
            scope_of,
        )
        .unwrap();
        let path = "/exportctl.classifier.v1.ClassifierService/Classify";
        assert!(keys.check(path, &headers("s3cret")).is_ok());
        assert_eq!(
            keys.check(path, &headers("wrong")).unwrap_err().code(),
            tonic::Code::Unauthenticated
        );
        assert_eq!(
            keys.check(path, &http::HeaderMap::new())
                .unwrap_err()
                .code(),
            tonic::Code::Unauthenticated
        );
        assert_eq!(
            keys.check(path, &headers("r3ad")).unwrap_err().code(),
            tonic::Code::PermissionDenied
        );
        assert!(
            keys.check("/grpc.health.v1.Health/Check", &http::HeaderMap::new())
                .is_ok()
        );
        assert!(
            ApiKeys::new(
                vec![ApiKey {
                    name: "x".into(),
                    sha256: "abc".into(),
                    scopes: vec![Scope::Read]
                }],
                scope_of
            )
            .is_err()
        );
    }
}
