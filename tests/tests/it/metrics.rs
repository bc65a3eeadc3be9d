//! Prometheus metrics on their own HTTP port: the standard gRPC families with
//! status codes, decisions by outcome and regime, and the loaded packs.

use std::io::{Read, Write};
use std::net::SocketAddr;

use exportctl_proto::classifier::{self as cpb, ItemKind};
use exportctl_proto::licensing as pb;
use exportctl_tests::{licensing_client, temp_ledger};

fn scrape(addr: SocketAddr) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out
}

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

fn request(id: &str, material: &str) -> pb::DecideRequest {
    pb::DecideRequest {
        request_id: id.into(),
        export_country: "JP".into(),
        destination_country: "KR".into(),
        end_user: Some(pb::Party {
            name: "Example Devices Co.".into(),
            country: "KR".into(),
            ..Default::default()
        }),
        parties: Vec::new(),
        end_use: Some(pb::EndUse {
            purpose: "civil".into(),
            ..Default::default()
        }),
        lines: vec![pb::LineItem {
            line_id: "1".into(),
            spec: Some(cpb::ProductSpec {
                kind: ItemKind::Material as i32,
                material: material.into(),
                concentration_percent: Some(49.0),
                ..Default::default()
            }),
            origin_country: "JP".into(),
            quantity: 1.0,
            ..Default::default()
        }],
        as_of: "2019-08-15".into(),
        held_authorizations: Vec::new(),
        destination_subdivision: String::new(),
    }
}

#[tokio::test]
async fn metrics_count_rpcs_codes_and_decisions() {
    let any = || Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let classifier = exportctl_classifier::Application::build(exportctl_classifier::Config {
        metrics_listen: any(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    })
    .await
    .unwrap();
    let classifier_metrics = classifier.metrics_addr().unwrap();
    let classifier_url = format!("http://{}", classifier.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(classifier.run_until(async {
        let _ = stopped.await;
    }));

    let ledger = temp_ledger("metrics");
    let licensing = exportctl_licensing::Application::build(exportctl_licensing::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: any(),
        classifier_url,
        ledger: format!("sqlite://{}", ledger.display()),
        ..Default::default()
    })
    .await
    .unwrap();
    let licensing_metrics = licensing.metrics_addr().unwrap();
    let addr = licensing.local_addr();
    let (stop2, stopped2) = tokio::sync::oneshot::channel::<()>();
    let running2 = tokio::spawn(licensing.run_until(async {
        let _ = stopped2.await;
    }));
    let mut client = licensing_client(&exportctl_tests::Running::external(addr)).await;

    for i in 0..3 {
        client
            .decide(request(&format!("m-{i}"), "hydrogen_fluoride"))
            .await
            .unwrap();
    }
    assert!(
        client
            .decide(request("m-bad", "hydrogen_flouride"))
            .await
            .is_err()
    );

    // The blocking scrape runs off the test's (single-threaded) executor, which serves /metrics.
    let text = tokio::task::spawn_blocking(move || scrape(licensing_metrics))
        .await
        .unwrap();
    let decide = "grpc_service=\"exportctl.licensing.v1.LicensingService\",grpc_method=\"Decide\"";
    assert_eq!(
        value(&text, &format!("grpc_server_started_total{{{decide}}}")),
        4.0
    );
    assert_eq!(
        value(
            &text,
            &format!("grpc_server_handled_total{{{decide},grpc_code=\"OK\"}}")
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            &format!("grpc_server_handled_total{{{decide},grpc_code=\"InvalidArgument\"}}")
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            &format!("grpc_server_handling_seconds_count{{{decide}}}")
        ),
        4.0
    );
    assert_eq!(
        value(
            &text,
            &format!("grpc_server_handling_seconds_bucket{{{decide},le=\"+Inf\"}}")
        ),
        4.0
    );
    assert_eq!(
        value(
            &text,
            "exportctl_decisions_total{outcome=\"LICENSE_REQUIRED\",regime=\"all\"}"
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            "exportctl_decisions_total{outcome=\"LICENSE_REQUIRED\",regime=\"JP-FEFTA\"}"
        ),
        3.0
    );
    assert!(
        text.contains("exportctl_packs_info{packs=\"licensing\",digest=\"sha256:"),
        "{text}"
    );

    let text = tokio::task::spawn_blocking(move || scrape(classifier_metrics))
        .await
        .unwrap();
    let classify =
        "grpc_service=\"exportctl.classifier.v1.ClassifierService\",grpc_method=\"Classify\"";
    assert_eq!(
        value(
            &text,
            &format!("grpc_server_handled_total{{{classify},grpc_code=\"OK\"}}")
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            &format!("grpc_server_handled_total{{{classify},grpc_code=\"InvalidArgument\"}}")
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "exportctl_pack_reloads_total{packs=\"classifier\",result=\"ok\"}"
        ),
        0.0
    );

    let _ = stop.send(());
    let _ = stop2.send(());
    running.await.unwrap().unwrap();
    running2.await.unwrap().unwrap();
}
