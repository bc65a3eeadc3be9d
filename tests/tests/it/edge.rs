//! The edge of a server: streams that go quiet, streams per server and per
//! connection, connections that never speak or go idle, half-sent TLS
//! handshakes, and the connection cap (idle connections give way, busy ones
//! make the server refuse with a GOAWAY; a health check still answers).

use std::time::{Duration, Instant};

use exportctl_proto::classifier::ClassifyResponse;
use exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient;
use exportctl_runtime::server::Limits;
use exportctl_tests::{
    Running, classifier_client, gallium_nitride_classify, gallium_nitride_shipment,
    licensing_client, start_classifier, start_licensing, temp_ledger,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::Code;
use tonic::transport::Channel;

type Held = (
    tokio::sync::mpsc::Sender<exportctl_proto::classifier::ClassifyRequest>,
    tonic::Streaming<ClassifyResponse>,
);

/// Opens a ClassifyStream that sends nothing until told to.
async fn open_stream(mut client: ClassifierServiceClient<Channel>) -> Result<Held, tonic::Status> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let stream = client
        .classify_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await?
        .into_inner();
    Ok((tx, stream))
}

async fn classifier_with(limits: Limits) -> Running {
    start_classifier(exportctl_classifier::Config {
        limits,
        ..Default::default()
    })
    .await
}

/// The HTTP/2 client preface and an empty SETTINGS frame: a connection that
/// has spoken, with no call.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// Everything the server sends until it closes the connection, or `None`
/// if it is still open after `within`.
async fn until_closed(socket: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_streams_cannot_starve_classify_or_decide() {
    let classifier = classifier_with(Limits {
        max_in_flight: 8,
        stream_idle_timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let ledger = temp_ledger("edge-starve");
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_url: classifier.url(),
        ledger: format!("sqlite://{}", ledger.display()),
        ..Default::default()
    })
    .await;

    // As many silent streams as the server has call slots, each on its own connection.
    let (mut held, mut refused) = (Vec::new(), 0);
    for _ in 0..8 {
        match open_stream(classifier_client(&classifier).await).await {
            Ok(h) => held.push(h),
            Err(s) => {
                assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
                assert!(s.message().contains("streams already open"), "{s:?}");
                refused += 1;
            }
        }
    }
    assert_eq!((held.len(), refused), (4, 4), "streams get half the slots");
    // Unary calls keep theirs: Classify, and Decide through the licensing service.
    classifier_client(&classifier)
        .await
        .classify(gallium_nitride_classify())
        .await
        .expect("Classify is admitted beside the held streams");
    let decided = licensing_client(&licensing)
        .await
        .decide(gallium_nitride_shipment("edge-starve", "US", "2024-06-01"))
        .await
        .expect("Decide is admitted beside the held streams");
    assert!(decided.into_inner().decision.is_some());

    // A stream that sends nothing ends with DEADLINE_EXCEEDED after the idle timeout ...
    let started = Instant::now();
    for (_tx, mut stream) in held {
        let ended = stream.message().await.unwrap_err();
        assert_eq!(ended.code(), Code::DeadlineExceeded, "{ended:?}");
        assert!(
            ended.message().contains("--stream-idle-timeout"),
            "{ended:?}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // ... and gives its slot back.
    let (tx, mut stream) = open_stream(classifier_client(&classifier).await)
        .await
        .expect("a stream is admitted again");
    tx.send(gallium_nitride_classify()).await.unwrap();
    assert!(stream.message().await.unwrap().is_some());
}

#[tokio::test]
async fn one_connection_holds_at_most_its_share_of_streams() {
    let classifier = classifier_with(Limits {
        max_streams_per_connection: 2,
        ..Default::default()
    })
    .await;
    let client = classifier_client(&classifier).await;
    let _first = open_stream(client.clone()).await.unwrap();
    let _second = open_stream(client.clone()).await.unwrap();
    let third = open_stream(client.clone()).await.expect_err("refused");
    assert_eq!(third.code(), Code::ResourceExhausted);
    assert!(third.message().contains("on this connection"), "{third:?}");
    // Another connection has its own share, and unary calls are not streams.
    let _elsewhere = open_stream(classifier_client(&classifier).await)
        .await
        .unwrap();
    client
        .clone()
        .classify(gallium_nitride_classify())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_speak_or_go_idle_are_closed_and_busy_ones_are_not() {
    let classifier = classifier_with(Limits {
        handshake_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    // A busy connection: a stream open across the idle timeout.
    let (tx, mut stream) = open_stream(classifier_client(&classifier).await)
        .await
        .unwrap();
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(classifier.addr).await.unwrap());
    }
    let mut spoke = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(classifier.addr).await.unwrap();
        s.write_all(PREFACE).await.unwrap();
        spoke.push(s);
    }
    for s in silent.iter_mut().chain(spoke.iter_mut()) {
        assert!(
            until_closed(s, Duration::from_secs(5)).await.is_some(),
            "the server closes a connection that never spoke or has no call"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    tx.send(gallium_nitride_classify()).await.unwrap();
    assert!(
        stream.message().await.unwrap().is_some(),
        "a connection with a call in flight stays open"
    );
}

#[tokio::test]
async fn a_half_sent_tls_handshake_is_cut_off() {
    let pki = crate::tls::Pki::generate("edge-handshake");
    let classifier = start_classifier(exportctl_classifier::Config {
        tls: Some(pki.server()),
        limits: Limits {
            handshake_timeout: Duration::from_secs(1),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..10 {
        let mut s = TcpStream::connect(classifier.addr).await.unwrap();
        // The header of a TLS handshake record, then a few bytes of a ClientHello.
        s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01])
            .await
            .unwrap();
        held.push(s);
    }
    for s in &mut held {
        assert!(
            until_closed(s, Duration::from_secs(5)).await.is_some(),
            "a stalled TLS handshake is closed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_idle_connections_give_way_and_busy_ones_refuse() {
    let classifier = classifier_with(Limits {
        max_connections: 4,
        ..Default::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(classifier.addr).await.unwrap();
        s.write_all(PREFACE).await.unwrap();
        idle.push(s);
    }
    // Past the arrival grace (1 s after their last read), idle connections may give way.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // At the cap, a health check still answers: an idle connection gives way.
    let healthcheck = || async {
        let channel = tonic::transport::Endpoint::from_shared(classifier.url())
            .unwrap()
            .connect()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await
    };
    healthcheck().await.expect("health answers at the cap");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut closed = 0;
    for s in &mut idle {
        if until_closed(s, Duration::from_millis(100)).await.is_some() {
            closed += 1;
        }
    }
    assert_eq!(closed, 1, "one idle connection was closed to make room");

    // Four connections each with a call in flight fill the cap ...
    let mut busy = Vec::new();
    for _ in 0..4 {
        busy.push(
            open_stream(classifier_client(&classifier).await)
                .await
                .unwrap(),
        );
    }
    // ... so a new connection is admitted above the cap for health checks only ...
    healthcheck()
        .await
        .expect("health answers when every connection is busy");
    let refused = classifier_client(&classifier)
        .await
        .classify(gallium_nitride_classify())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(
        refused.message().contains("only health checks"),
        "{refused:?}"
    );
    // ... and once that headroom is full, refused with an HTTP/2 GOAWAY (ENHANCE_YOUR_CALM).
    let mut headroom = Vec::new();
    for _ in 0..exportctl_runtime::edge::HEALTH_HEADROOM {
        let mut s = TcpStream::connect(classifier.addr).await.unwrap();
        s.write_all(PREFACE).await.unwrap();
        headroom.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut refused = TcpStream::connect(classifier.addr).await.unwrap();
    let got = until_closed(&mut refused, Duration::from_secs(5))
        .await
        .expect("refused connections are closed");
    assert!(got.len() >= 18 + 8, "{got:?}");
    assert_eq!(got[9 + 3], 7, "a GOAWAY frame follows the SETTINGS frame");
    assert_eq!(&got[9 + 13..9 + 17], &[0, 0, 0, 0xb], "ENHANCE_YOUR_CALM");
    let refused = healthcheck().await.unwrap_err();
    assert!(
        matches!(
            refused.code(),
            Code::ResourceExhausted | Code::Unavailable | Code::Unknown | Code::Cancelled
        ),
        "{refused:?}"
    );
    // Headroom connections that fall silent are closed within seconds.
    for s in &mut headroom {
        assert!(
            until_closed(s, Duration::from_secs(5)).await.is_some(),
            "a silent headroom connection is closed"
        );
    }
    healthcheck().await.expect("health answers again");

    // When a call ends, its connection can give way again.
    drop(busy.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    healthcheck().await.expect("health answers again");
}
