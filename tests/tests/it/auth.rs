//! API keys with scopes over real sockets: no key or an unknown key is
//! UNAUTHENTICATED, a key without the scope PERMISSION_DENIED; health needs no
//! key; the licensing service presents its own key to the classifier and fails
//! closed without it.

use exportctl_proto::licensing as pb;
use exportctl_runtime::auth::{ApiKey, Scope, hash_key};
use exportctl_tests::{
    classifier_client, gallium_nitride_classify, gallium_nitride_shipment, licensing_client,
    start_classifier, start_licensing, temp_ledger,
};
use tonic::Code;

fn key(name: &str, secret: &str, scopes: &[Scope]) -> ApiKey {
    ApiKey {
        name: name.into(),
        sha256: hash_key(secret),
        scopes: scopes.to_vec(),
    }
}

fn with_key<T>(msg: T, secret: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    r
}

fn decide(id: &str) -> pb::DecideRequest {
    gallium_nitride_shipment(id, "JP", "2024-01-01")
}

#[tokio::test]
async fn keys_and_scopes_are_enforced_on_both_services() {
    let classifier = start_classifier(exportctl_classifier::Config {
        api_keys: vec![
            key("licensing", "svc-key", &[Scope::Classify]),
            key("auditor", "read-key", &[Scope::Read]),
        ],
        ..Default::default()
    })
    .await;
    let mut c = classifier_client(&classifier).await;
    assert_eq!(
        c.classify(gallium_nitride_classify())
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    assert_eq!(
        c.classify(with_key(gallium_nitride_classify(), "nope"))
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    assert_eq!(
        c.classify(with_key(gallium_nitride_classify(), "read-key"))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert!(
        c.classify(with_key(gallium_nitride_classify(), "svc-key"))
            .await
            .is_ok()
    );
    let mut x_api_key = tonic::Request::new(gallium_nitride_classify());
    x_api_key
        .metadata_mut()
        .insert("x-api-key", "svc-key".parse().unwrap());
    assert!(c.classify(x_api_key).await.is_ok());
    // Health checking needs no key.
    let channel = tonic::transport::Channel::from_shared(classifier.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let health = tonic_health::pb::health_client::HealthClient::new(channel)
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        health.into_inner().status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    let keys = || {
        vec![
            key("erp", "erp-key", &[Scope::Decide, Scope::Read]),
            key("ops", "ops-key", &[Scope::Admin]),
            key("viewer", "view-key", &[Scope::Read]),
        ]
    };
    let ledger = temp_ledger("auth");
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_url: classifier.url(),
        classifier_api_key: Some("svc-key".into()),
        ledger: format!("sqlite://{}", ledger.display()),
        api_keys: keys(),
        ..Default::default()
    })
    .await;
    let mut l = licensing_client(&licensing).await;
    assert_eq!(
        l.decide(decide("a-0")).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(
        l.decide(with_key(decide("a-1"), "view-key"))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let d = l
        .decide(with_key(decide("a-2"), "erp-key"))
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert!(
        l.get_decision(with_key(
            pb::GetDecisionRequest {
                name: d.name.clone()
            },
            "view-key"
        ))
        .await
        .is_ok()
    );
    assert_eq!(
        l.verify_ledger(with_key(pb::VerifyLedgerRequest {}, "erp-key"))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert!(
        l.verify_ledger(with_key(pb::VerifyLedgerRequest {}, "ops-key"))
            .await
            .unwrap()
            .into_inner()
            .intact
    );

    // Without its classifier key the licensing service cannot classify: it fails closed.
    let ledger = temp_ledger("auth-nokey");
    let keyless = start_licensing(exportctl_licensing::Config {
        classifier_url: classifier.url(),
        ledger: format!("sqlite://{}", ledger.display()),
        ..Default::default()
    })
    .await;
    let mut k = licensing_client(&keyless).await;
    assert_eq!(
        k.decide(decide("a-3")).await.unwrap_err().code(),
        Code::Unavailable
    );
    assert_eq!(
        k.verify_ledger(pb::VerifyLedgerRequest {})
            .await
            .unwrap()
            .into_inner()
            .length,
        0
    );
}
