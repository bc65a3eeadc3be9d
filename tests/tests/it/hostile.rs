//! Hostile input at the edges (issue #15, items 5 and 6), through the real
//! servers: request paths that would break or bloat `/metrics`, unassigned
//! country codes, dates and numbers out of range, control and bidi
//! characters in ids, and bytes that are not protobuf at all. Every refusal
//! is INVALID_ARGUMENT naming the field, and nothing reaches the ledger.

use std::io::{Read, Write};
use std::net::SocketAddr;

use bytes::{Buf, BufMut};
use exportctl_proto::classifier as cpb;
use exportctl_proto::licensing as pb;
use exportctl_tests::{
    classifier_client, gallium_nitride_classify, gallium_nitride_shipment, licensing_client,
    recorded, start_classifier, start_pair, violated_fields,
};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// A codec that sends and receives bytes as they are: a valid gRPC frame
/// around any payload, to any path.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, buf: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        buf.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(buf.copy_to_bytes(buf.remaining()).to_vec()))
    }
}

/// Sends `payload` to `path` as one unary call; the status it ends with.
async fn raw_call(
    grpc: &mut tonic::client::Grpc<tonic::transport::Channel>,
    path: &str,
    payload: Vec<u8>,
) -> Code {
    let Ok(path) = http::uri::PathAndQuery::try_from(path) else {
        return Code::Unknown;
    };
    if grpc.ready().await.is_err() {
        return Code::Unavailable;
    }
    match grpc.unary(tonic::Request::new(payload), path, Raw).await {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    }
}

async fn raw_client(url: String) -> tonic::client::Grpc<tonic::transport::Channel> {
    let channel = tonic::transport::Endpoint::from_shared(url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    tonic::client::Grpc::new(channel)
}

async fn scrape(addr: SocketAddr) -> String {
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        body.to_string()
    })
    .await
    .unwrap()
}

/// The /metrics page stays valid and its size fixed, whatever paths callers send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_paths_and_unknown_methods_keep_metrics_valid_and_small() {
    let classifier = exportctl_classifier::Application::build(exportctl_classifier::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..Default::default()
    })
    .await
    .unwrap();
    let metrics = classifier.metrics_addr().unwrap();
    let url = format!("http://{}", classifier.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(classifier.run_until(async {
        let _ = stopped.await;
    }));
    let mut grpc = raw_client(url.clone()).await;

    let mut client = classifier_client(&exportctl_tests::Running::external(
        url.trim_start_matches("http://").parse().unwrap(),
    ))
    .await;
    client.classify(gallium_nitride_classify()).await.unwrap();
    let before = scrape(metrics).await;
    let samples_before = exportctl_runtime::metrics::check_exposition(&before).unwrap();

    let long = format!("/{}/{}", "s".repeat(4000), "m".repeat(4000));
    let hostile = [
        "/a\"b/c\"d",
        "/x\"}%201%0Aforged_total%2099/y",
        "/{}/{\"}",
        "/back\\slash/m",
        "/exportctl.classifier.v1.ClassifierService/Classify\"",
        "/exportctl.classifier.v1.ClassifierService/",
        long.as_str(),
    ];
    let mut sent = 0;
    for path in hostile {
        if raw_call(&mut grpc, path, Vec::new()).await != Code::Unknown {
            sent += 1;
        }
    }
    // The quote reaches the server (it once broke the page).
    assert!(sent >= 4, "only {sent} hostile paths could be sent");

    let mut calls = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let mut grpc = grpc.clone();
        calls.spawn(async move {
            for i in 0..625 {
                let code = raw_call(
                    &mut grpc,
                    &format!("/attack.v{worker}.Service{i}/Method{i}"),
                    Vec::new(),
                )
                .await;
                assert_eq!(code, Code::Unimplemented);
            }
        });
    }
    while let Some(done) = calls.join_next().await {
        done.unwrap();
    }

    let after = scrape(metrics).await;
    let samples_after = exportctl_runtime::metrics::check_exposition(&after)
        .unwrap_or_else(|e| panic!("{e} in\n{after}"));
    assert!(!after.contains("forged_total"), "{after}");
    assert!(!after.contains("attack"), "{after}");
    // One series for every unknown path: started, handled, 17 buckets, sum, count.
    assert_eq!(samples_after, samples_before + 21, "{after}");
    let growth = after.len() - before.len();
    assert!(growth < 64 * 1024, "/metrics grew by {growth} bytes");
    let unknown = "grpc_server_started_total{grpc_service=\"unknown\",grpc_method=\"unknown\"} ";
    let counted: u64 = after
        .lines()
        .find_map(|l| l.strip_prefix(unknown))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(counted, 10_000 + sent);
    eprintln!(
        "/metrics: {} bytes before, {} bytes after {} hostile and 10000 unknown-method calls",
        before.len(),
        after.len(),
        sent
    );

    let _ = stop.send(());
    running.await.unwrap().unwrap();
}

/// Country codes that are not assigned ISO 3166-1 codes, in every country field.
#[tokio::test]
async fn unassigned_country_codes_are_refused_in_every_country_field() {
    let (_c, licensing, _l) = start_pair("hostile-countries").await;
    let mut client = licensing_client(&licensing).await;
    for code in ["XX", "QQ", "EU", "UK"] {
        let req = gallium_nitride_shipment(&format!("cc-{code}"), code, "2024-01-01");
        let status = client.decide(req).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{code}");
        let fields = violated_fields(&status);
        for f in ["destination_country", "end_user.country"] {
            assert!(fields.contains(&f.to_string()), "{code}: {fields:?}");
        }

        let mut req = gallium_nitride_shipment(&format!("cc2-{code}"), "DE", "2024-01-01");
        req.export_country = code.into();
        req.lines[0].origin_country = code.into();
        let user = req.end_user.as_mut().unwrap();
        user.headquarters_country = code.into();
        user.ultimate_parent_country = code.into();
        req.parties.push(pb::Party {
            name: "Forwarding GmbH".into(),
            country: code.into(),
            role: "forwarder".into(),
            ..Default::default()
        });
        req.end_use.as_mut().unwrap().fab_owner_headquarters = code.into();
        let status = client.decide(req).await.unwrap_err();
        let fields = violated_fields(&status);
        for f in [
            "export_country",
            "lines[0].origin_country",
            "end_user.headquarters_country",
            "end_user.ultimate_parent_country",
            "parties[0].country",
            "end_use.fab_owner_headquarters",
        ] {
            assert!(fields.contains(&f.to_string()), "{code}: {f} in {fields:?}");
        }

        let status = client
            .get_destination_status(pb::GetDestinationStatusRequest {
                country: code.into(),
                as_of: "2024-01-01".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["country"], "{code}");
        let status = client
            .screen_parties(pb::ScreenPartiesRequest {
                parties: vec![pb::Party {
                    name: "Example Co.".into(),
                    country: code.into(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["parties[0].country"], "{code}");
    }
    assert_eq!(recorded(&mut client).await, 0);
}

/// Dates beyond 2100-12-31 or before 1900-01-01, in every date field.
#[tokio::test]
async fn dates_outside_the_window_are_refused() {
    let (classifier, licensing, _l) = start_pair("hostile-dates").await;
    let mut client = licensing_client(&licensing).await;
    for date in ["9999-12-31", "2101-01-01"] {
        let status = client
            .decide(gallium_nitride_shipment("far", "DE", date))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(violated_fields(&status), ["as_of"]);
        assert!(
            status.message().contains("2100-12-31"),
            "{}",
            status.message()
        );
    }
    let status = client
        .get_destination_status(pb::GetDestinationStatusRequest {
            country: "DE".into(),
            as_of: "9999-12-31".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["as_of"]);
    let status = client
        .list_decisions(pb::ListDecisionsRequest {
            as_of_until: "9999-12-31".into(),
            as_of_from: "1899-12-31".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["as_of_from", "as_of_until"]);
    assert_eq!(recorded(&mut client).await, 0);

    let mut classify = classifier_client(&classifier).await;
    let mut req = gallium_nitride_classify();
    req.as_of = "9999-12-31".into();
    let status = classify.classify(req).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["as_of"]);
    let status = classify
        .list_entries(cpb::ListEntriesRequest {
            as_of: "9999-12-31".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["as_of"]);
}

/// Numbers that are not finite, negative, or beyond their physical bound.
#[tokio::test]
async fn numbers_out_of_range_are_refused() {
    let (classifier, licensing, _l) = start_pair("hostile-numbers").await;
    let mut classify = classifier_client(&classifier).await;
    let mut client = licensing_client(&licensing).await;
    for (i, x) in [1e308, f64::NAN, f64::INFINITY, -1.0, 2e9]
        .into_iter()
        .enumerate()
    {
        let mut req = gallium_nitride_classify();
        let spec = req.spec.as_mut().unwrap();
        spec.process_node_nm = Some(x);
        spec.tpp = Some(x);
        let status = classify.classify(req).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{x}");
        assert_eq!(
            violated_fields(&status),
            ["spec.process_node_nm", "spec.tpp"],
            "{x}"
        );

        let mut req = gallium_nitride_shipment(&format!("n-{i}"), "DE", "2024-01-01");
        req.lines[0].spec.as_mut().unwrap().process_node_nm = Some(x);
        let status = client.decide(req).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{x}");
        assert_eq!(
            violated_fields(&status),
            ["lines[0].spec.process_node_nm"],
            "{x}"
        );
    }
    let mut req = gallium_nitride_shipment("n-line", "DE", "2024-01-01");
    req.lines[0].quantity = 1e308;
    req.lines[0].value = 1e13;
    req.lines[0].us_content_percent = Some(f64::NAN);
    req.end_use.as_mut().unwrap().fab_logic_node_nm = Some(1e308);
    req.end_use.as_mut().unwrap().fab_nand_layers = Some(u32::MAX);
    let status = client.decide(req).await.unwrap_err();
    let fields = violated_fields(&status);
    for f in [
        "lines[0].quantity",
        "lines[0].value",
        "lines[0].us_content_percent",
        "end_use.fab_logic_node_nm",
        "end_use.fab_nand_layers",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    assert_eq!(recorded(&mut client).await, 0);
}

/// Control and bidi characters in identifiers and names.
#[tokio::test]
async fn control_and_bidi_characters_in_ids_are_refused() {
    let (classifier, licensing, _l) = start_pair("hostile-chars").await;
    let mut client = licensing_client(&licensing).await;
    for id in [
        "po-1\u{202E}gnp.exe",
        "po-1\n2030-01-01 INFO forged",
        "po-\u{2066}1",
        "po-\u{85}1",
        "po-\u{200B}1",
    ] {
        let status = client
            .decide(gallium_nitride_shipment(id, "DE", "2024-01-01"))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{id:?}");
        assert_eq!(violated_fields(&status), ["request_id"], "{id:?}");
    }
    let mut req = gallium_nitride_shipment("chars-2", "DE", "2024-01-01");
    req.lines[0].line_id = "1\u{202E}".into();
    req.end_user.as_mut().unwrap().name = "Example \u{202E}oC".into();
    req.lines[0].entries.push(pb::PreClassifiedEntry {
        regime: "US-EAR".into(),
        entry_id: "3A090\u{200F}".into(),
    });
    req.held_authorizations.push(pb::HeldAuthorization {
        regime: "US-EAR".into(),
        code: "NLR".into(),
        reference: "D123\u{7}".into(),
    });
    let status = client.decide(req).await.unwrap_err();
    let fields = violated_fields(&status);
    for f in [
        "lines[0].line_id",
        "end_user.name",
        "lines[0].entries[0].entry_id",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    // Zero-width characters in a name are the screening normaliser's business.
    let mut req = gallium_nitride_shipment("chars-3", "DE", "2024-01-01");
    req.end_user.as_mut().unwrap().name = "Example\u{200B} RF Devices Co.".into();
    client.decide(req).await.unwrap();
    assert_eq!(recorded(&mut client).await, 1);

    let mut classify = classifier_client(&classifier).await;
    let mut req = gallium_nitride_classify();
    req.spec.as_mut().unwrap().sku = "GaN\u{202E}".into();
    req.spec.as_mut().unwrap().manufacturer = "Fab\nINFO forged".into();
    let status = classify.classify(req).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["spec.sku", "spec.manufacturer"]);
}

/// Bytes that are not a protobuf message, in a valid gRPC frame.
#[tokio::test]
async fn undecodable_requests_are_invalid_argument() {
    let (classifier, licensing, _l) = start_pair("hostile-bytes").await;
    let garbage = || b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01not protobuf".to_vec();
    let mut grpc = raw_client(licensing.url()).await;
    for method in [
        "Decide",
        "GetDecision",
        "LookupDecision",
        "ListDecisions",
        "GetDestinationStatus",
        "ScreenParties",
    ] {
        let path = format!("/exportctl.licensing.v1.LicensingService/{method}");
        assert_eq!(
            raw_call(&mut grpc, &path, garbage()).await,
            Code::InvalidArgument,
            "{method}"
        );
    }
    let mut grpc = raw_client(classifier.url()).await;
    for method in ["Classify", "GetEntry", "ListEntries", "DescribeRules"] {
        let path = format!("/exportctl.classifier.v1.ClassifierService/{method}");
        assert_eq!(
            raw_call(&mut grpc, &path, garbage()).await,
            Code::InvalidArgument,
            "{method}"
        );
    }
    // Health checking is tonic's own service, with prost's codec: the same answer.
    assert_eq!(
        raw_call(&mut grpc, "/grpc.health.v1.Health/Check", garbage()).await,
        Code::InvalidArgument,
        "Health/Check"
    );
    let mut client = licensing_client(&licensing).await;
    assert_eq!(recorded(&mut client).await, 0);
}

/// The classifier alone (no licensing in front): the same rules apply.
#[tokio::test]
async fn the_classifier_applies_the_same_rules() {
    let classifier = start_classifier(exportctl_classifier::Config::default()).await;
    let mut classify = classifier_client(&classifier).await;
    let status = classify
        .get_entry(cpb::GetEntryRequest {
            regime: "US-EAR".into(),
            entry_id: "3A090\u{202E}".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["entry_id"]);
}
