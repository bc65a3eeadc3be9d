//! The classifier over a real socket: every RPC, health, reflection-backed
//! errors, streaming order and inline errors.

use exportctl_proto::classifier::{self as pb, ItemKind};
use exportctl_runtime::errors::field_violations;
use exportctl_tests::{bundled_classifier, classifier_client, start_classifier, violated_fields};
use tokio_stream::StreamExt;
use tonic::Code;

fn euv_resist() -> pb::ProductSpec {
    pb::ProductSpec {
        sku: "RES-EUV-1".into(),
        kind: ItemKind::Material as i32,
        material: "photoresist".into(),
        resist_tone: "positive".into(),
        wavelength_nm: Some(13.5),
        ..Default::default()
    }
}

fn request(spec: pb::ProductSpec, as_of: &str) -> pb::ClassifyRequest {
    pb::ClassifyRequest {
        spec: Some(spec),
        as_of: as_of.into(),
        regimes: vec![],
    }
}

fn entries<'a>(resp: &'a pb::ClassifyResponse, regime: &str) -> Vec<&'a str> {
    let r = resp
        .regimes
        .iter()
        .find(|r| r.regime == regime)
        .unwrap_or_else(|| panic!("no {regime}"));
    r.matches.iter().map(|m| m.entry_id.as_str()).collect()
}

#[tokio::test]
async fn classifies_euv_resist_in_every_regime() {
    let server = bundled_classifier().await;
    let mut client = classifier_client(&server).await;
    let resp = client
        .classify(request(euv_resist(), "2023-07-22"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.sku, "RES-EUV-1");
    assert_eq!(resp.as_of, "2023-07-22");
    assert!(resp.rules_digest.starts_with("sha256:"));
    assert_eq!(entries(&resp, "US-EAR"), ["3C002.a.2"]);
    assert_eq!(entries(&resp, "EU-DU"), ["3C002.a.2"]);
    assert_eq!(entries(&resp, "KR-FTA"), ["3C002.a.2"]);
    assert_eq!(entries(&resp, "JP-FEFTA"), ["7(19)"]);
    let cn = resp.regimes.iter().find(|r| r.regime == "CN-ECL").unwrap();
    assert!(cn.matches.is_empty());
    assert_eq!(cn.not_listed_label, "NOT-LISTED");
    assert_eq!(cn.status, pb::ClassificationStatus::NotListed as i32);
    let us = resp.regimes.iter().find(|r| r.regime == "US-EAR").unwrap();
    assert_eq!(us.status, pb::ClassificationStatus::Listed as i32);
    let m = &us.matches[0];
    assert!(
        m.because.iter().any(|b| b == "wavelength_nm 13.5 < 15"),
        "{:?}",
        m.because
    );
    assert!(!m.citations.is_empty());
    assert_eq!(m.reasons, ["NS2", "AT1"]);
}

#[tokio::test]
async fn regime_filter_and_not_listed_label() {
    let server = bundled_classifier().await;
    let mut client = classifier_client(&server).await;
    let spec = pb::ProductSpec {
        kind: ItemKind::Other as i32,
        description: "stainless vacuum valves".into(),
        ..Default::default()
    };
    let mut req = request(spec, "2024-01-01");
    req.regimes = vec!["US-EAR".into()];
    let resp = client.classify(req).await.unwrap().into_inner();
    assert_eq!(resp.regimes.len(), 1);
    assert_eq!(resp.regimes[0].not_listed_label, "EAR99");
    assert!(resp.regimes[0].matches.is_empty());
}

#[tokio::test]
async fn missing_facts_are_undetermined_not_unlisted() {
    let server = bundled_classifier().await;
    let mut client = classifier_client(&server).await;
    let spec = pb::ProductSpec {
        kind: ItemKind::Material as i32,
        material: "photoresist".into(),
        ..Default::default()
    };
    let resp = client
        .classify(request(spec, "2024-01-01"))
        .await
        .unwrap()
        .into_inner();
    let us = resp.regimes.iter().find(|r| r.regime == "US-EAR").unwrap();
    assert_eq!(us.status, pb::ClassificationStatus::Undetermined as i32);
    assert!(us.not_listed_label.is_empty());
    assert!(
        us.undetermined
            .iter()
            .all(|u| u.missing_attributes.contains(&"wavelength_nm".to_string()))
    );
    assert!(us.undetermined.iter().any(|u| u.entry_id == "3C002.a.2"));
}

#[tokio::test]
async fn bad_input_names_every_field() {
    let server = bundled_classifier().await;
    let mut client = classifier_client(&server).await;
    let spec = pb::ProductSpec {
        kind: ItemKind::Material as i32,
        material: "photoresit".into(),
        wavelength_nm: Some(f64::NAN),
        tpp: Some(-1.0),
        concentration_percent: Some(f64::INFINITY),
        sku: "x".repeat(500),
        parameters: vec![pb::Parameter {
            name: "colour".into(),
            value: Some(pb::parameter::Value::Text("red".into())),
            unit: String::new(),
        }],
        ..Default::default()
    };
    let mut req = request(spec, "2023-02-30");
    req.regimes = vec!["US-EAR".into(), "XX-NOPE".into()];
    let status = client.classify(req).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violated_fields(&status);
    for f in [
        "spec.sku",
        "spec.material",
        "spec.wavelength_nm",
        "spec.concentration_percent",
        "spec.tpp",
        "spec.parameters[0].name",
        "as_of",
        "regimes[1]",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} not in {fields:?}");
    }
    assert_eq!(fields.len(), 8, "{fields:?}");

    let status = client
        .classify(pb::ClassifyRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&status)[0].field, "spec");

    let spec = pb::ProductSpec {
        kind: 0,
        ..Default::default()
    };
    let status = client.classify(request(spec, "")).await.unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "spec.kind");

    let status = client
        .classify(request(euv_resist(), "2018-12-31"))
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "as_of");
}

#[tokio::test]
async fn parameters_are_typed() {
    let server = bundled_classifier().await;
    let mut client = classifier_client(&server).await;
    let flag = |name: &str, v: bool| pb::Parameter {
        name: name.into(),
        value: Some(pb::parameter::Value::Flag(v)),
        unit: String::new(),
    };
    let spec = pb::ProductSpec {
        kind: ItemKind::Equipment as i32,
        equipment_function: "epitaxy".into(),
        deposition_temperature_c: Some(650.0),
        parameters: vec![flag("pre_clean_chamber", true)],
        ..Default::default()
    };
    let resp = client
        .classify(request(spec.clone(), "2024-01-01"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(entries(&resp, "US-EAR"), ["3B001.a.4"]);

    let mut wrong = spec.clone();
    wrong.parameters = vec![pb::Parameter {
        name: "pre_clean_chamber".into(),
        value: Some(pb::parameter::Value::Number(1.0)),
        unit: String::new(),
    }];
    let status = client
        .classify(request(wrong, "2024-01-01"))
        .await
        .unwrap_err();
    assert_eq!(
        field_violations(&status)[0].field,
        "spec.parameters[0].value"
    );

    let mut shadow = spec;
    shadow.parameters = vec![pb::Parameter {
        name: "tpp".into(),
        value: Some(pb::parameter::Value::Number(1.0)),
        unit: String::new(),
    }];
    let status = client
        .classify(request(shadow, "2024-01-01"))
        .await
        .unwrap_err();
    assert!(
        field_violations(&status)[0]
            .description
            .contains("spec.tpp")
    );
}

#[tokio::test]
async fn stream_answers_in_order_with_inline_errors() {
    let server = bundled_classifier().await;
    let mut client = classifier_client(&server).await;
    let n = 2_000;
    let reqs: Vec<pb::ClassifyRequest> = (0..n)
        .map(|i| {
            let mut spec = euv_resist();
            spec.sku = format!("SKU-{i}");
            if i % 100 == 7 {
                spec.material = "photoresit".into();
            }
            request(spec, "2024-01-01")
        })
        .collect();
    let mut out = client
        .classify_stream(tokio_stream::iter(reqs))
        .await
        .unwrap()
        .into_inner();
    let mut i = 0;
    while let Some(resp) = out.next().await {
        let resp = resp.unwrap();
        assert_eq!(resp.sku, format!("SKU-{i}"));
        if i % 100 == 7 {
            let err = resp.error.expect("inline error");
            assert_eq!(err.code, Code::InvalidArgument as i32);
            assert!(resp.regimes.is_empty());
            assert!(err.message.contains("spec.material"), "{}", err.message);
        } else {
            assert!(resp.error.is_none());
            assert_eq!(entries(&resp, "US-EAR"), ["3C002.a.2"]);
        }
        i += 1;
    }
    assert_eq!(i, n);
}

#[tokio::test]
async fn entries_pages_and_describe_rules() {
    let server = bundled_classifier().await;
    let mut client = classifier_client(&server).await;
    let described = client
        .describe_rules(pb::DescribeRulesRequest {})
        .await
        .unwrap()
        .into_inner();
    let regimes: Vec<&str> = described.packs.iter().map(|p| p.regime.as_str()).collect();
    assert_eq!(
        regimes,
        ["CN-ECL", "EU-DU", "JP-FEFTA", "KR-FTA", "NL-NAT", "US-EAR"]
    );
    let material = described
        .attributes
        .iter()
        .find(|a| a.name == "material")
        .unwrap();
    assert!(material.allowed_values.contains(&"other".to_string()));
    let mrf = described
        .attributes
        .iter()
        .find(|a| a.name == "minimum_resolvable_feature_nm")
        .unwrap();
    assert!(mrf.derived);

    let total: i32 = described.packs.iter().map(|p| p.entry_count).sum();
    let mut seen = 0;
    let mut token = String::new();
    loop {
        let page = client
            .list_entries(pb::ListEntriesRequest {
                page_size: 7,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.entries.len() <= 7);
        seen += page.entries.len() as i32;
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, total);
    let status = client
        .list_entries(pb::ListEntriesRequest {
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "page_token");

    let only_2022 = client
        .list_entries(pb::ListEntriesRequest {
            regime: "US-EAR".into(),
            as_of: "2022-12-01".into(),
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = only_2022
        .entries
        .iter()
        .map(|e| e.entry_id.as_str())
        .collect();
    assert!(
        ids.contains(&"3A090.a") && !ids.contains(&"3A090.b"),
        "{ids:?}"
    );

    let entry = client
        .get_entry(pb::GetEntryRequest {
            regime: "US-EAR".into(),
            entry_id: "3A090.a".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(entry.versions.len(), 2);
    assert_eq!(entry.versions[0].effective_until, "2023-11-17");
    assert_eq!(entry.versions[1].effective_from, "2023-11-17");
    let status = client
        .get_entry(pb::GetEntryRequest {
            regime: "US-EAR".into(),
            entry_id: "9Z999".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .get_entry(pb::GetEntryRequest::default())
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status).len(), 2);
}

#[tokio::test]
async fn health_serving_and_echo_off_by_default() {
    let server = bundled_classifier().await;
    let channel = tonic::transport::Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    for service in ["", "exportctl.classifier.v1.ClassifierService"] {
        let resp = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            resp.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    }
    let mut client = classifier_client(&server).await;
    let status = client
        .echo(pb::EchoRequest { payload: vec![1] })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);

    let echo = start_classifier(exportctl_classifier::Config {
        echo: true,
        ..Default::default()
    })
    .await;
    let mut client = classifier_client(&echo).await;
    assert_eq!(
        client
            .echo(pb::EchoRequest {
                payload: vec![1, 2]
            })
            .await
            .unwrap()
            .into_inner()
            .payload,
        [1, 2]
    );
}

#[tokio::test]
async fn rules_dir_replaces_bundled_packs_and_bad_dir_fails_to_start() {
    let dir = std::env::temp_dir().join(format!("exportctl-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("vocabulary.toml"),
        exportctl_classifier::bundled::VOCABULARY,
    )
    .unwrap();
    let (file, text) = exportctl_classifier::bundled::PACKS
        .iter()
        .find(|(f, _)| *f == "cn-ecl.toml")
        .unwrap();
    std::fs::write(dir.join(file), text).unwrap();
    let config = exportctl_classifier::Config {
        rules: Some(dir.clone()),
        ..Default::default()
    };
    let server = start_classifier(config).await;
    let mut client = classifier_client(&server).await;
    let described = client
        .describe_rules(pb::DescribeRulesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(described.packs.len(), 1);
    assert_eq!(described.packs[0].regime, "CN-ECL");

    std::fs::write(
        dir.join(file),
        text.replace("kind = material", "kind = materiel"),
    )
    .unwrap();
    let config = exportctl_classifier::Config {
        rules: Some(dir.clone()),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let err = exportctl_classifier::Application::build(config)
        .await
        .err()
        .expect("bad pack refused");
    let msg = err.to_string();
    assert!(
        msg.contains("cn-ecl.toml") && msg.contains("2023-23.gallium"),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn stream_has_backpressure_when_the_client_stops_reading() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = bundled_classifier().await;
    let mut client = classifier_client(&server).await;
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    // An endless request stream that counts what the server pulls from it.
    let endless = tokio_stream::iter(std::iter::repeat_with(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        request(euv_resist(), "2024-01-01")
    }));
    let _responses = client.classify_stream(endless).await.unwrap();
    // Never read the responses: the server must stop pulling once its buffers are full.
    let mut last = usize::MAX;
    let mut stable = 0;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = pulled.load(Ordering::Relaxed);
        stable = if now == last { stable + 1 } else { 0 };
        last = now;
        if stable == 3 {
            break;
        }
    }
    assert_eq!(stable, 3, "the server kept pulling requests: {last}");
    assert!(last < 200_000, "buffered {last} requests");
}

#[tokio::test]
async fn oversize_fields_are_invalid_arguments() {
    let server = bundled_classifier().await;
    let mut client = classifier_client(&server).await;
    let mut spec = euv_resist();
    spec.description = "x".repeat(3 * 1024 * 1024);
    spec.parameters = (0..100)
        .map(|i| pb::Parameter {
            name: format!("p{i}"),
            value: Some(pb::parameter::Value::Flag(true)),
            unit: String::new(),
        })
        .collect();
    let status = client
        .classify(request(spec, "2024-01-01"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violated_fields(&status);
    assert_eq!(fields, ["spec.description", "spec.parameters"]);
}
