//! TLS and mutual TLS with certificates generated at test time: an accepted
//! client, a client trusting the wrong CA, a client without a certificate, and
//! API keys (missing, wrong scope) on top of mutual TLS — on the classifier and
//! on the licensing → classifier channel.

use std::path::PathBuf;

use exportctl_proto::classifier as cpb;
use exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient;
use exportctl_proto::licensing as pb;
use exportctl_runtime::auth::{ApiKey, Scope, hash_key};
use exportctl_runtime::tls::{ClientTls, ServerTls};
use exportctl_tests::{
    gallium_nitride_classify, gallium_nitride_shipment, licensing_client, start_classifier,
    start_licensing, temp_ledger,
};
use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use tonic::Code;
use tonic::transport::Endpoint;

pub(crate) struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// A CA, a server certificate for localhost/127.0.0.1 and a client certificate,
    /// plus a second, unrelated CA.
    pub(crate) fn generate(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("exportctl-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ca = |file: &str| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let cert = params.self_signed(&key).unwrap();
            std::fs::write(dir.join(file), cert.pem()).unwrap();
            Issuer::new(params, key)
        };
        let issuer = ca("ca.pem");
        let _other = ca("other-ca.pem");
        let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose, stem: &str| {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(names).unwrap();
            params.extended_key_usages = vec![usage];
            let cert = params.signed_by(&key, &issuer).unwrap();
            std::fs::write(dir.join(format!("{stem}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.join(format!("{stem}-key.pem")), key.serialize_pem()).unwrap();
        };
        leaf(
            vec!["localhost".into(), "127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
            "server",
        );
        leaf(
            vec!["licensing".into()],
            ExtendedKeyUsagePurpose::ClientAuth,
            "client",
        );
        Pki { dir }
    }

    pub(crate) fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }

    pub(crate) fn server(&self) -> ServerTls {
        ServerTls {
            cert: self.path("server.pem"),
            key: self.path("server-key.pem"),
            client_ca: Some(self.path("ca.pem")),
        }
    }

    fn client(&self, ca: &str, with_cert: bool) -> ClientTls {
        ClientTls {
            ca: Some(self.path(ca)),
            cert: with_cert.then(|| self.path("client.pem")),
            key: with_cert.then(|| self.path("client-key.pem")),
            domain: Some("localhost".into()),
        }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn client(
    addr: std::net::SocketAddr,
    tls: &ClientTls,
) -> Result<ClassifierServiceClient<tonic::transport::Channel>, tonic::transport::Error> {
    let endpoint = Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls.config().unwrap())?;
    Ok(ClassifierServiceClient::new(endpoint.connect().await?))
}

fn classify(key: Option<&str>) -> tonic::Request<cpb::ClassifyRequest> {
    let mut r = tonic::Request::new(gallium_nitride_classify());
    if let Some(k) = key {
        r.metadata_mut()
            .insert("authorization", format!("Bearer {k}").parse().unwrap());
    }
    r
}

#[tokio::test]
async fn mutual_tls_and_api_keys() {
    let pki = Pki::generate("mtls");
    let classifier = start_classifier(exportctl_classifier::Config {
        tls: Some(pki.server()),
        api_keys: vec![
            ApiKey {
                name: "licensing".into(),
                sha256: hash_key("svc"),
                scopes: vec![Scope::Classify],
            },
            ApiKey {
                name: "auditor".into(),
                sha256: hash_key("aud"),
                scopes: vec![Scope::Read],
            },
        ],
        ..Default::default()
    })
    .await;

    // Accepted client: trusts our CA, presents a certificate it signed, has the scope.
    let mut ok = client(classifier.addr, &pki.client("ca.pem", true))
        .await
        .expect("mutual TLS handshake");
    assert!(ok.classify(classify(Some("svc"))).await.is_ok());
    // On top of mutual TLS, the key still decides: none, or one without the scope.
    assert_eq!(
        ok.classify(classify(None)).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(
        ok.classify(classify(Some("aud"))).await.unwrap_err().code(),
        Code::PermissionDenied
    );

    // Wrong CA: the client does not trust the server's certificate.
    let wrong_ca = client(classifier.addr, &pki.client("other-ca.pem", true)).await;
    match wrong_ca {
        Err(_) => {}
        Ok(mut c) => assert!(
            c.classify(classify(Some("svc"))).await.is_err(),
            "served without the right certificate"
        ),
    }

    // No client certificate: the server refuses the handshake.
    let anonymous = client(classifier.addr, &pki.client("ca.pem", false)).await;
    match anonymous {
        Err(_) => {}
        Ok(mut c) => assert!(
            c.classify(classify(Some("svc"))).await.is_err(),
            "served without the right certificate"
        ),
    }

    // Plaintext to a TLS listener fails too.
    let plain = Endpoint::from_shared(format!("http://{}", classifier.addr))
        .unwrap()
        .connect()
        .await;
    if let Ok(ch) = plain {
        assert!(
            ClassifierServiceClient::new(ch)
                .classify(classify(Some("svc")))
                .await
                .is_err()
        );
    }

    // The licensing → classifier channel over mutual TLS with the service's key.
    let ledger = temp_ledger("tls");
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_url: format!("https://{}", classifier.addr),
        classifier_tls: Some(pki.client("ca.pem", true)),
        classifier_api_key: Some("svc".into()),
        ledger: format!("sqlite://{}", ledger.display()),
        ..Default::default()
    })
    .await;
    let mut l = licensing_client(&licensing).await;
    let decision = l
        .decide(gallium_nitride_shipment("tls-1", "JP", "2024-01-01"))
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(decision.outcome, pb::Outcome::LicenseRequired as i32);
}

/// The binaries' `healthcheck` subcommand against a server that requires mutual TLS.
#[tokio::test]
async fn healthcheck_over_mutual_tls() {
    use exportctl_runtime::server::{HealthcheckArgs, healthcheck};
    use std::process::ExitCode;
    let pki = Pki::generate("health");
    let classifier = start_classifier(exportctl_classifier::Config {
        tls: Some(pki.server()),
        ..Default::default()
    })
    .await;
    let service = "exportctl.classifier.v1.ClassifierService";
    let check = |ca: Option<&str>, with_cert: bool| HealthcheckArgs {
        tls_ca: ca.map(|f| pki.path(f)),
        tls_cert: with_cert.then(|| pki.path("client.pem")),
        tls_key: with_cert.then(|| pki.path("client-key.pem")),
        tls_domain: "localhost".into(),
        timeout_ms: 3000,
        ..Default::default()
    };
    let run = |args| healthcheck(classifier.addr, true, service, args);

    assert_eq!(run(check(Some("ca.pem"), true)).await, ExitCode::SUCCESS);
    // Without --tls-ca it refuses to try plaintext; a wrong CA or no client
    // certificate fails the handshake.
    assert_eq!(run(check(None, false)).await, ExitCode::FAILURE);
    assert_eq!(
        run(check(Some("other-ca.pem"), true)).await,
        ExitCode::FAILURE
    );
    assert_eq!(run(check(Some("ca.pem"), false)).await, ExitCode::FAILURE);
    // A service the server does not serve is not healthy.
    let mut unknown = check(Some("ca.pem"), true);
    unknown.service = Some("no.such.Service".into());
    assert_eq!(run(unknown).await, ExitCode::FAILURE);
}

/// TLS settings that would not protect anything are refused when the
/// services are built, naming the flag to fix.
#[tokio::test]
async fn tls_misconfiguration_is_refused_at_start_up() {
    let pki = Pki::generate("misconfigured");

    // A certificate with somebody else's key; a key file that is not PEM.
    let mismatched = ServerTls {
        cert: pki.path("server.pem"),
        key: pki.path("client-key.pem"),
        client_ca: None,
    };
    let e = error(
        exportctl_classifier::Application::build(exportctl_classifier::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: Some(mismatched.clone()),
            ..Default::default()
        })
        .await
        .map(|_| ()),
    );
    assert!(e.starts_with("--tls-key: "), "{e}");
    let not_pem = ServerTls {
        key: pki.path("ca.pem"),
        ..pki.server()
    };
    let e = error(
        exportctl_licensing::Application::build(exportctl_licensing::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: Some(not_pem),
            ..Default::default()
        })
        .await
        .map(|_| ()),
    );
    assert!(e.starts_with("--tls-key: "), "{e}");

    // TLS files for the classifier with an http:// URL; a key in the clear.
    let ledger = temp_ledger("tls-misconfigured");
    let e = error(
        exportctl_licensing::Application::build(exportctl_licensing::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            classifier_url: "http://127.0.0.1:50051".into(),
            classifier_tls: Some(pki.client("ca.pem", true)),
            ledger: format!("sqlite://{}", ledger.display()),
            ..Default::default()
        })
        .await
        .map(|_| ()),
    );
    assert!(
        e.starts_with("--classifier-ca is set but --classifier-url"),
        "{e}"
    );
    let e = error(
        exportctl_licensing::Application::build(exportctl_licensing::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            classifier_url: "http://classifier.internal:50051".into(),
            classifier_api_key: Some("secret".into()),
            ledger: format!("sqlite://{}", ledger.display()),
            ..Default::default()
        })
        .await
        .map(|_| ()),
    );
    assert!(
        e.starts_with("--classifier-api-key would be sent in the clear"),
        "{e}"
    );
    assert!(!e.contains("secret"), "{e}");
}

/// The error a service refused to build with.
fn error<E: std::fmt::Display>(built: Result<(), E>) -> String {
    match built {
        Ok(()) => panic!("the service was built"),
        Err(e) => e.to_string(),
    }
}
