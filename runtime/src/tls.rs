//! TLS and mutual TLS (rustls) for the gRPC servers and the service-to-service channel.

use std::path::{Path, PathBuf};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::errors::ConfigError;

fn read(path: &Path, what: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{what} {}: {e}", path.display())))
}

/// A server's certificate and key (PEM); with `client_ca`, clients must present
/// a certificate signed by it (mutual TLS).
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

impl ServerTls {
    /// Checks that `--tls-cert`, `--tls-key` and `--tls-client-ca` can be
    /// used (readable PEM, the key belonging to the certificate), so a
    /// misconfigured server refuses to start instead of failing every handshake.
    pub fn check(&self) -> Result<(), ConfigError> {
        identity(("--tls-cert", &self.cert), ("--tls-key", &self.key))?;
        if let Some(ca) = &self.client_ca {
            ca_certificates("--tls-client-ca", ca)?;
        }
        Ok(())
    }

    pub fn config(&self) -> std::io::Result<ServerTlsConfig> {
        let identity =
            Identity::from_pem(read(&self.cert, "certificate")?, read(&self.key, "key")?);
        let mut config = ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.client_ca {
            config = config.client_ca_root(Certificate::from_pem(read(ca, "client CA")?));
        }
        Ok(config)
    }
}

/// How a client verifies a server (`ca`), and its own certificate for mutual TLS.
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Name to verify the server's certificate against, when not the URL's host.
    pub domain: Option<String>,
}

/// The flags of one client connection's settings, for start-up errors.
#[derive(Debug, Clone, Copy)]
pub struct ClientFlags {
    pub url: &'static str,
    pub ca: &'static str,
    pub cert: &'static str,
    pub key: &'static str,
    pub api_key: &'static str,
}

impl ClientFlags {
    /// The licensing service's connection to the classifier.
    pub const CLASSIFIER: Self = Self {
        url: "--classifier-url",
        ca: "--classifier-ca",
        cert: "--classifier-cert",
        key: "--classifier-key",
        api_key: "--classifier-api-key",
    };
}

/// Whether `url` is `https://` (else the connection is plaintext).
fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// Whether the host `url` names is loopback (`localhost`, 127.0.0.0/8, ::1);
/// a `host:port` without scheme is read as `http://host:port`.
fn is_loopback(url: &str) -> bool {
    let full = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let Some(host) = full
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_string))
    else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a client connection's settings that would not protect it: TLS
/// files with a plaintext URL (the files would be ignored), an API key sent
/// in plaintext beyond loopback, or TLS files that cannot be used.
pub fn check_client(
    url: &str,
    tls: Option<&ClientTls>,
    api_key: bool,
    flags: &ClientFlags,
) -> Result<(), ConfigError> {
    let https = is_https(url);
    if let Some(tls) = tls {
        let set = [
            (flags.ca, tls.ca.is_some()),
            (flags.cert, tls.cert.is_some()),
        ];
        if let Some((flag, _)) = set.iter().find(|(_, on)| *on).filter(|_| !https) {
            return Err(ConfigError::TlsWithoutHttps {
                flag,
                url_flag: flags.url,
                url: url.to_string(),
            });
        }
        if let Some(ca) = &tls.ca {
            ca_certificates(flags.ca, ca)?;
        }
        if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
            identity((flags.cert, cert), (flags.key, key))?;
        }
    }
    if api_key && !https && !is_loopback(url) {
        return Err(ConfigError::KeyInTheClear {
            flag: flags.api_key,
            url_flag: flags.url,
            url: url.to_string(),
            ca_flag: flags.ca,
        });
    }
    Ok(())
}

fn read_flag(flag: &'static str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::Unreadable {
        flag,
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

fn certificates(
    flag: &'static str,
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let pem = read_flag(flag, path)?;
    let not_pem = |reason: String| ConfigError::NotPem {
        flag,
        path: path.display().to_string(),
        what,
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(not_pem("no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// CA certificates (PEM) that can be trusted.
fn ca_certificates(flag: &'static str, path: &Path) -> Result<(), ConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(flag, path, "CA certificate")? {
        roots.add(cert).map_err(|e| ConfigError::NotPem {
            flag,
            path: path.display().to_string(),
            what: "CA certificate",
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

/// A certificate chain and its key (PEM), the key belonging to the first certificate.
fn identity(
    (cert_flag, cert): (&'static str, &Path),
    (key_flag, key): (&'static str, &Path),
) -> Result<(), ConfigError> {
    let chain = certificates(cert_flag, cert, "certificate")?;
    let pem = read_flag(key_flag, key)?;
    let not_pem = |reason: String| ConfigError::NotPem {
        flag: key_flag,
        path: key.display().to_string(),
        what: "private key",
        reason,
    };
    let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| not_pem(e.to_string()))?;
    let provider = rustls::crypto::ring::default_provider();
    match rustls::sign::CertifiedKey::from_der(chain, der, &provider) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InconsistentKeys(_)) => Err(ConfigError::KeyMismatch {
            key_flag,
            key: key.display().to_string(),
            cert_flag,
            cert: cert.display().to_string(),
        }),
        Err(e @ rustls::Error::InvalidCertificate(_)) => Err(ConfigError::NotPem {
            flag: cert_flag,
            path: cert.display().to_string(),
            what: "certificate",
            reason: e.to_string(),
        }),
        Err(e) => Err(not_pem(e.to_string())),
    }
}

impl ClientTls {
    pub fn config(&self) -> std::io::Result<ClientTlsConfig> {
        let mut config = ClientTlsConfig::new();
        if let Some(ca) = &self.ca {
            config = config.ca_certificate(Certificate::from_pem(read(ca, "CA")?));
        }
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                config = config.identity(Identity::from_pem(
                    read(cert, "certificate")?,
                    read(key, "key")?,
                ));
            }
            (None, None) => {}
            _ => {
                return Err(std::io::Error::other(
                    "a client certificate needs both cert and key",
                ));
            }
        }
        if let Some(d) = &self.domain {
            config = config.domain_name(d.clone());
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Files(PathBuf);

    impl Files {
        /// A self-signed certificate and its key, a second key, a file that is not PEM.
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("exportctl-tls-check-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
                .unwrap()
                .self_signed(&key)
                .unwrap();
            std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
            std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
            let other = rcgen::KeyPair::generate().unwrap();
            std::fs::write(dir.join("other-key.pem"), other.serialize_pem()).unwrap();
            std::fs::write(dir.join("garbage.pem"), "not a certificate\n").unwrap();
            Files(dir)
        }

        fn path(&self, f: &str) -> PathBuf {
            self.0.join(f)
        }

        fn server(&self, cert: &str, key: &str, ca: Option<&str>) -> ServerTls {
            ServerTls {
                cert: self.path(cert),
                key: self.path(key),
                client_ca: ca.map(|c| self.path(c)),
            }
        }
    }

    fn flag_of(r: Result<(), ConfigError>) -> &'static str {
        r.unwrap_err().flag()
    }

    #[test]
    fn server_files_that_cannot_be_used_are_refused() {
        let f = Files::new("server");
        assert_eq!(
            f.server("cert.pem", "key.pem", Some("cert.pem")).check(),
            Ok(())
        );
        let e = f
            .server("missing.pem", "key.pem", None)
            .check()
            .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Unreadable {
                    flag: "--tls-cert",
                    ..
                }
            ),
            "{e}"
        );
        let e = f
            .server("garbage.pem", "key.pem", None)
            .check()
            .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::NotPem {
                    flag: "--tls-cert",
                    ..
                }
            ),
            "{e}"
        );
        let e = f
            .server("cert.pem", "garbage.pem", None)
            .check()
            .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::NotPem {
                    flag: "--tls-key",
                    ..
                }
            ),
            "{e}"
        );
        let e = f
            .server("cert.pem", "other-key.pem", None)
            .check()
            .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::KeyMismatch {
                    key_flag: "--tls-key",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().starts_with("--tls-key: "), "{e}");
        assert_eq!(
            flag_of(f.server("cert.pem", "key.pem", Some("garbage.pem")).check()),
            "--tls-client-ca"
        );
        assert_eq!(
            flag_of(f.server("cert.pem", "key.pem", Some("nope.pem")).check()),
            "--tls-client-ca"
        );
    }

    #[test]
    fn client_tls_with_a_plaintext_url_is_refused() {
        let f = Files::new("client");
        let flags = ClientFlags::CLASSIFIER;
        let ca = ClientTls {
            ca: Some(f.path("cert.pem")),
            ..Default::default()
        };
        let cert = ClientTls {
            cert: Some(f.path("cert.pem")),
            key: Some(f.path("key.pem")),
            ..Default::default()
        };
        let e = check_client("http://classifier:50051", Some(&ca), false, &flags).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::TlsWithoutHttps {
                    flag: "--classifier-ca",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("--classifier-url"), "{e}");
        assert_eq!(
            flag_of(check_client("127.0.0.1:50051", Some(&cert), false, &flags)),
            "--classifier-cert"
        );
        assert_eq!(
            check_client("https://classifier:50051", Some(&ca), true, &flags),
            Ok(())
        );
        assert_eq!(
            check_client("https://classifier:50051", Some(&cert), false, &flags),
            Ok(())
        );
        let bad_key = ClientTls {
            key: Some(f.path("other-key.pem")),
            ..cert.clone()
        };
        assert_eq!(
            flag_of(check_client("https://c:1", Some(&bad_key), false, &flags)),
            "--classifier-key"
        );
        let bad_ca = ClientTls {
            ca: Some(f.path("garbage.pem")),
            ..Default::default()
        };
        assert_eq!(
            flag_of(check_client("https://c:1", Some(&bad_ca), false, &flags)),
            "--classifier-ca"
        );
    }

    #[test]
    fn an_api_key_in_the_clear_beyond_loopback_is_refused() {
        let flags = ClientFlags::CLASSIFIER;
        for url in [
            "http://10.1.2.3:50051",
            "http://classifier:50051",
            "classifier:50051",
            "http://[2001:db8::1]:1",
        ] {
            let e = check_client(url, None, true, &flags).unwrap_err();
            assert!(
                matches!(
                    e,
                    ConfigError::KeyInTheClear {
                        flag: "--classifier-api-key",
                        ..
                    }
                ),
                "{url}: {e}"
            );
        }
        for url in [
            "http://127.0.0.1:50051",
            "http://localhost:1",
            "http://[::1]:1",
            "127.0.0.2:5",
            "https://classifier:1",
        ] {
            assert_eq!(check_client(url, None, true, &flags), Ok(()), "{url}");
        }
        assert_eq!(
            check_client("http://classifier:50051", None, false, &flags),
            Ok(())
        );
    }
}
