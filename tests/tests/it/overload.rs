//! Overload: with more calls offered than a server admits, the excess is
//! answered RESOURCE_EXHAUSTED at once (nothing decided, nothing recorded),
//! admitted calls keep a bounded latency, health checks still answer, and a
//! stream holds its slot until it ends.

use std::time::{Duration, Instant};

use exportctl_proto::licensing as pb;
use exportctl_runtime::server::Limits;
use exportctl_tests::{
    bundled_classifier, classifier_client, gallium_nitride_classify, gallium_nitride_shipment,
    licensing_client, start_classifier, start_licensing, temp_ledger,
};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decide_beyond_capacity_is_shed_at_once_and_nothing_shed_is_recorded() {
    let classifier = bundled_classifier().await;
    let ledger = temp_ledger("overload");
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_url: classifier.url(),
        ledger: format!("sqlite://{}", ledger.display()),
        limits: Limits {
            max_in_flight: 4,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let client = licensing_client(&licensing).await;

    // 3 waves of 100 calls started at once: 25 times what the server admits.
    let (mut admitted, mut shed) = (Vec::new(), Vec::new());
    for wave in 0..3 {
        let calls: Vec<_> = (0..100)
            .map(|i| {
                let mut c = client.clone();
                tokio::spawn(async move {
                    let started = Instant::now();
                    let r = c
                        .decide(gallium_nitride_shipment(
                            &format!("overload-{wave}-{i}"),
                            "US",
                            "2024-06-01",
                        ))
                        .await;
                    (r, started.elapsed())
                })
            })
            .collect();
        for call in calls {
            match call.await.unwrap() {
                (Ok(d), took) => {
                    let d = d.into_inner().decision.unwrap();
                    assert_eq!(d.outcome, pb::Outcome::LicenseRequired as i32);
                    admitted.push(took);
                }
                (Err(status), took) => {
                    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                    assert!(status.message().contains("overloaded"), "{status:?}");
                    shed.push(took);
                }
            }
        }
    }
    let max = |v: &[Duration]| v.iter().max().copied().unwrap_or_default();
    eprintln!(
        "overload: 300 offered, {} admitted (max {:?}), {} shed (max {:?})",
        admitted.len(),
        max(&admitted),
        shed.len(),
        max(&shed)
    );
    assert!(admitted.len() >= 4, "admitted {}", admitted.len());
    assert!(!shed.is_empty(), "nothing was shed");
    // Admitted calls never wait behind the excess: no queue forms.
    assert!(
        max(&admitted) < Duration::from_secs(5),
        "admitted call took {:?}",
        max(&admitted)
    );
    assert!(
        max(&shed) < Duration::from_secs(2),
        "shedding took {:?}",
        max(&shed)
    );

    // Only admitted calls were recorded.
    let mut c = client.clone();
    let v = c
        .verify_ledger(pb::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(v.intact);
    assert_eq!(v.length, admitted.len() as i64);

    // Once the burst is over, calls are admitted again.
    c.decide(gallium_nitride_shipment(
        "overload-after",
        "US",
        "2024-06-01",
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn a_stream_holds_its_slot_and_health_checks_are_never_shed() {
    // Two slots: one for streams, one kept for unary calls.
    let classifier = start_classifier(exportctl_classifier::Config {
        limits: Limits {
            max_in_flight: 2,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut client = classifier_client(&classifier).await;
    let open_stream = |mut client: exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient<tonic::transport::Channel>| async move {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let stream = client
            .classify_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .map(tonic::Response::into_inner);
        (tx, stream)
    };
    let (tx, stream) = open_stream(client.clone()).await;
    let mut stream = stream.unwrap();
    tx.send(gallium_nitride_classify()).await.unwrap();
    assert!(stream.message().await.unwrap().is_some());

    // The open stream holds the one stream slot: a second stream is refused ...
    let (_tx2, refused) = open_stream(client.clone()).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(
        refused.message().contains("streams already open"),
        "{refused:?}"
    );
    // ... while a unary call still has its slot.
    client.classify(gallium_nitride_classify()).await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(
        tonic::transport::Endpoint::from_shared(classifier.url())
            .unwrap()
            .connect()
            .await
            .unwrap(),
    );
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    // When the stream ends, its slot is free again.
    drop(tx);
    assert!(stream.message().await.unwrap().is_none());
    let mut admitted = false;
    for _ in 0..50 {
        match open_stream(client.clone()).await {
            (_tx, Ok(_)) => {
                admitted = true;
                break;
            }
            (_, Err(s)) if s.code() == Code::ResourceExhausted => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (_, Err(s)) => panic!("{s:?}"),
        }
    }
    assert!(admitted, "the stream's slot was never released");
}

/// A call whose caller sets no deadline is still bounded on the server: past
/// `Limits::timeout` it is cut, with nothing recorded.
#[tokio::test]
async fn a_call_without_a_deadline_is_bounded_by_the_server() {
    // A classifier that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let ledger = temp_ledger("server-deadline");
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_url: url,
        ledger: format!("sqlite://{}", ledger.display()),
        classifier_timeout: Duration::from_secs(30),
        limits: Limits {
            timeout: Duration::from_millis(300),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut client = licensing_client(&licensing).await;
    let started = Instant::now();
    let status = client
        .decide(gallium_nitride_shipment("no-deadline", "US", "2024-06-01"))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_ne!(status.code(), Code::Ok);
    assert!(
        matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded),
        "{status:?}"
    );
    assert!(took < Duration::from_secs(10), "cut after {took:?}");
    let v = client
        .verify_ledger(pb::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(v.length, 0);
}
