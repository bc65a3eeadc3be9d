//! The licensing service over a real socket: idempotency, durability across a
//! restart, tamper detection, failing closed when the classifier is down or
//! slow, field violations, listing and destination status.

use std::time::Duration;

use exportctl_proto::classifier::{self as cpb, ItemKind};
use exportctl_proto::licensing::{self as pb, Outcome};
use exportctl_runtime::errors::field_violations;
use exportctl_tests::{
    bundled_classifier, licensing_client, recorded, start_licensing, start_pair, temp_ledger,
    violated_fields,
};
use tonic::Code;

fn euv_resist_to_korea(request_id: &str, as_of: &str) -> pb::DecideRequest {
    pb::DecideRequest {
        request_id: request_id.into(),
        export_country: "JP".into(),
        destination_country: "KR".into(),
        end_user: Some(pb::Party {
            name: "Samsung Electronics Co., Ltd.".into(),
            country: "KR".into(),
            ..Default::default()
        }),
        parties: Vec::new(),
        end_use: Some(pb::EndUse {
            purpose: "civil".into(),
            ic_production: Some(true),
            ..Default::default()
        }),
        lines: vec![pb::LineItem {
            line_id: "10".into(),
            spec: Some(cpb::ProductSpec {
                kind: ItemKind::Material as i32,
                material: "photoresist".into(),
                resist_tone: "positive".into(),
                wavelength_nm: Some(13.5),
                ..Default::default()
            }),
            origin_country: "JP".into(),
            quantity: 10.0,
            ..Default::default()
        }],
        as_of: as_of.into(),
        held_authorizations: Vec::new(),
        destination_subdivision: String::new(),
    }
}

fn config(classifier_url: String, ledger: &std::path::Path) -> exportctl_licensing::Config {
    exportctl_licensing::Config {
        classifier_url,
        ledger: format!("sqlite://{}", ledger.display()),
        ..Default::default()
    }
}

#[tokio::test]
async fn same_request_id_returns_the_stored_decision_and_a_different_request_is_refused() {
    let (_c, licensing, _l) = start_pair("idempotency").await;
    let mut client = licensing_client(&licensing).await;
    let first = client
        .decide(euv_resist_to_korea("po-1", "2019-07-05"))
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(first.outcome, Outcome::LicenseRequired as i32);
    assert!(first.name.starts_with("decisions/"));
    assert_eq!(first.sequence, 1);
    let again = client
        .decide(euv_resist_to_korea("po-1", "2019-07-05"))
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(again, first);
    let status = client
        .decide(euv_resist_to_korea("po-1", "2023-07-22"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    let fetched = client
        .get_decision(pb::GetDecisionRequest {
            name: first.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched.decision.unwrap(), first);
    let verify = client
        .verify_ledger(pb::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(verify.intact);
    assert_eq!(verify.length, 1);
    assert_eq!(verify.head_hash, first.record_hash);
}

#[tokio::test]
async fn decisions_survive_a_restart_and_tampering_is_detected() {
    let classifier = bundled_classifier().await;
    let ledger = temp_ledger("restart");
    let licensing = start_licensing(config(classifier.url(), &ledger)).await;
    let mut client = licensing_client(&licensing).await;
    let mut decisions = Vec::new();
    for (i, date) in ["2019-07-03", "2019-07-05", "2023-07-20", "2023-07-22"]
        .iter()
        .enumerate()
    {
        let d = client
            .decide(euv_resist_to_korea(&format!("po-{i}"), date))
            .await
            .unwrap()
            .into_inner()
            .decision
            .unwrap();
        decisions.push(d);
    }
    licensing.stop().await;

    let licensing = start_licensing(config(classifier.url(), &ledger)).await;
    let mut client = licensing_client(&licensing).await;
    for d in &decisions {
        let got = client
            .get_decision(pb::GetDecisionRequest {
                name: d.name.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.decision.as_ref(), Some(d));
        let retried = client
            .decide(euv_resist_to_korea(&d.request_id, &d.as_of))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(retried.decision.as_ref(), Some(d));
    }
    let verify = client
        .verify_ledger(pb::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(verify.intact, "{verify:?}");
    assert_eq!(verify.length, 4);
    licensing.stop().await;

    // Someone edits a stored outcome behind the service's back.
    let conn = rusqlite::Connection::open(&ledger).unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER decisions_no_update; UPDATE decisions SET outcome = {} WHERE seq = 3;",
        Outcome::NoLicenseRequired as i32
    ))
    .unwrap();
    drop(conn);
    // The service refuses to serve a broken chain, naming the record.
    let refused = exportctl_licensing::Application::build(config(classifier.url(), &ledger))
        .await
        .err()
        .expect("a broken ledger is not served");
    assert!(
        refused.to_string().contains("broken at record 3"),
        "{refused:#}"
    );
    let url = format!("sqlite://{}", ledger.display());
    let verify = tokio::task::spawn_blocking(move || {
        exportctl_licensing::open_ledger(&url)
            .unwrap()
            .verify()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(verify.broken.map(|b| b.0), Some(3));
    assert_eq!(verify.length, 2);
}

#[tokio::test]
async fn classifier_down_is_unavailable_and_nothing_is_recorded() {
    // A port with nothing listening on it.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let ledger = temp_ledger("classifier-down");
    let licensing = start_licensing(config(url, &ledger)).await;
    let mut client = licensing_client(&licensing).await;
    let status = client
        .decide(euv_resist_to_korea("po-down", "2023-07-22"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let verify = client
        .verify_ledger(pb::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(verify.length, 0);
    let listed = client
        .list_decisions(pb::ListDecisionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.decisions.is_empty());
}

#[tokio::test]
async fn a_slow_classifier_exceeds_the_callers_deadline_and_nothing_is_recorded() {
    // A TCP server that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let ledger = temp_ledger("classifier-slow");
    let licensing = start_licensing(config(url, &ledger)).await;
    let mut client = licensing_client(&licensing).await;
    let mut req = tonic::Request::new(euv_resist_to_korea("po-slow", "2023-07-22"));
    req.set_timeout(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let status = client.decide(req).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the caller's deadline was not propagated"
    );
    let verify = client
        .verify_ledger(pb::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(verify.length, 0);
    hold.abort();
}

#[tokio::test]
async fn bad_requests_name_every_field_including_the_classifiers() {
    let (_c, licensing, _l) = start_pair("bad-input").await;
    let mut client = licensing_client(&licensing).await;
    let mut req = euv_resist_to_korea("", "2019-13-01");
    req.export_country = "Japan".into();
    req.end_user = None;
    req.end_use.as_mut().unwrap().purpose = "peaceful".into();
    req.end_use.as_mut().unwrap().fab_logic_node_nm = Some(f64::NAN);
    req.lines[0].origin_country = String::new();
    let status = client.decide(req).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violated_fields(&status);
    for f in [
        "request_id",
        "export_country",
        "end_user",
        "end_use.purpose",
        "end_use.fab_logic_node_nm",
        "lines[0].origin_country",
        "as_of",
    ] {
        assert!(
            fields.contains(&f.to_string()),
            "{f} missing from {fields:?}"
        );
    }

    // A spec the classifier rejects is reported under the line's path, and nothing is recorded.
    let mut req = euv_resist_to_korea("po-typo", "2023-07-22");
    let mut second = req.lines[0].clone();
    second.line_id = "20".into();
    second.spec.as_mut().unwrap().material = "photoresit".into();
    req.lines.push(second);
    let status = client.decide(req).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let v = field_violations(&status);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].field, "lines[1].spec.material");
    assert_eq!(recorded(&mut client).await, 0);

    let mut dup = euv_resist_to_korea("po-dup", "2023-07-22");
    dup.lines.push(dup.lines[0].clone());
    let status = client.decide(dup).await.unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "lines[1].line_id");
}

#[tokio::test]
async fn pre_classified_entries_are_checked_with_the_classifier() {
    let (_c, licensing, _l) = start_pair("pre-classified").await;
    let mut client = licensing_client(&licensing).await;
    let mut req = euv_resist_to_korea("po-pre", "2019-07-05");
    req.lines[0].spec = None;
    req.lines[0].entries = vec![pb::PreClassifiedEntry {
        regime: "JP-FEFTA".into(),
        entry_id: "7(19)".into(),
    }];
    let d = client
        .decide(req)
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(d.outcome, Outcome::LicenseRequired as i32);
    assert_eq!(d.lines[0].classifications[0].matches[0].entry_id, "7(19)");

    let mut req = euv_resist_to_korea("po-pre-bad", "2019-07-05");
    req.lines[0].spec = None;
    req.lines[0].entries = vec![
        pb::PreClassifiedEntry {
            regime: "JP-FEFTA".into(),
            entry_id: "7(99)".into(),
        },
        pb::PreClassifiedEntry {
            regime: "KR-FTA".into(),
            entry_id: "3A090.a".into(),
        },
    ];
    let status = client.decide(req).await.unwrap_err();
    let fields: Vec<String> = violated_fields(&status);
    assert_eq!(
        fields,
        ["lines[0].entries[0].entry_id", "lines[0].entries[1].regime"]
    );

    // EAR99 is a classification too: a US shipment pre-classified EAR99 to an SMIC affiliate.
    let req = pb::DecideRequest {
        request_id: "po-ear99".into(),
        export_country: "US".into(),
        destination_country: "CN".into(),
        end_user: Some(pb::Party {
            name: "SMIC Beijing".into(),
            country: "CN".into(),
            ..Default::default()
        }),
        parties: Vec::new(),
        end_use: None,
        lines: vec![pb::LineItem {
            line_id: "1".into(),
            origin_country: "US".into(),
            entries: vec![pb::PreClassifiedEntry {
                regime: "US-EAR".into(),
                entry_id: "EAR99".into(),
            }],
            ..Default::default()
        }],
        as_of: "2024-01-01".into(),
        held_authorizations: Vec::new(),
        destination_subdivision: String::new(),
    };
    let d = client
        .decide(req)
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(d.outcome, Outcome::LicenseRequired as i32);
    assert_eq!(d.lines[0].classifications[0].not_listed_label, "EAR99");
}

#[tokio::test]
async fn eccns_the_classifier_lacks_and_country_codes_not_assigned() {
    let (_c, licensing, _l) = start_pair("eccn-syntax").await;
    let mut client = licensing_client(&licensing).await;
    let us_line = |id: &str, entry: &str| pb::LineItem {
        line_id: id.into(),
        origin_country: "US".into(),
        entries: vec![pb::PreClassifiedEntry {
            regime: "US-EAR".into(),
            entry_id: entry.into(),
        }],
        ..Default::default()
    };
    let order = |request_id: &str, lines: Vec<pb::LineItem>| pb::DecideRequest {
        request_id: request_id.into(),
        export_country: "US".into(),
        destination_country: "DE".into(),
        end_user: Some(pb::Party {
            name: "Example Buyer GmbH".into(),
            country: "DE".into(),
            ..Default::default()
        }),
        parties: Vec::new(),
        end_use: None,
        lines,
        as_of: "2026-08-01".into(),
        held_authorizations: Vec::new(),
        destination_subdivision: String::new(),
    };
    // A well-formed ECCN the classifier lacks: decided from the pack's control list, or
    // INDETERMINATE naming it; the order is not refused.
    let d = client
        .decide(order(
            "po-eccn",
            vec![us_line("1", "5A992.c"), us_line("2", "1A001")],
        ))
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(d.lines[0].outcome, Outcome::NoLicenseRequired as i32);
    assert_eq!(d.lines[1].outcome, Outcome::Indeterminate as i32);
    assert!(
        d.lines[1].determinations[0]
            .missing_facts
            .iter()
            .any(|m| m.contains("1A001")),
        "{:?}",
        d.lines[1].determinations
    );
    // A malformed one is the caller's error, named.
    let status = client
        .decide(order("po-eccn-bad", vec![us_line("1", "3A9X1")]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&status)[0].field,
        "lines[0].entries[0].entry_id"
    );
    // Codes that are not assigned ISO 3166-1 alpha-2 codes, wherever a country goes.
    let mut req = order("po-eu", vec![us_line("1", "5A992.c")]);
    req.destination_country = "EU".into();
    req.export_country = "UK".into();
    req.end_user.as_mut().unwrap().country = "XX".into();
    req.lines[0].origin_country = "ZZ".into();
    let status = client.decide(req).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violated_fields(&status);
    for f in [
        "destination_country",
        "export_country",
        "end_user.country",
        "lines[0].origin_country",
    ] {
        assert!(
            fields.contains(&f.to_string()),
            "{f} missing from {fields:?}"
        );
    }
    // A foreign-produced item's US content: a percentage, the controlled share within it.
    let mut req = order(
        "po-content",
        vec![us_line("1", "5A992.c"), us_line("2", "5A992.c")],
    );
    req.lines[0].us_content_percent = Some(-1.0);
    req.lines[1].us_content_percent = Some(20.0);
    req.lines[1].us_controlled_content_percent = Some(30.0);
    let status = client.decide(req).await.unwrap_err();
    let fields: Vec<String> = violated_fields(&status);
    assert_eq!(
        fields,
        [
            "lines[0].us_content_percent",
            "lines[1].us_controlled_content_percent"
        ]
    );
    assert_eq!(recorded(&mut client).await, 1);
}

#[tokio::test]
async fn list_decisions_filters_and_pages_and_destination_status() {
    let (_c, licensing, _l) = start_pair("list").await;
    let mut client = licensing_client(&licensing).await;
    let dates = [
        "2019-07-03",
        "2019-07-05",
        "2019-08-15",
        "2023-07-20",
        "2023-07-22",
    ];
    for (i, d) in dates.iter().enumerate() {
        // The exporter holds Japan's bulk licenses: they authorize when they cover.
        let mut req = euv_resist_to_korea(&format!("po-{i}"), d);
        req.held_authorizations = ["general_bulk", "special_general_bulk"]
            .map(|code| pb::HeldAuthorization {
                regime: "JP-FEFTA".into(),
                code: code.into(),
                reference: String::new(),
            })
            .to_vec();
        client.decide(req).await.unwrap();
    }
    let authorized = client
        .list_decisions(pb::ListDecisionsRequest {
            outcome: Outcome::Authorized as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(authorized.decisions.len(), 3);
    let in_2019 = client
        .list_decisions(pb::ListDecisionsRequest {
            as_of_from: "2019-01-01".into(),
            as_of_until: "2020-01-01".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        in_2019
            .decisions
            .iter()
            .map(|d| d.as_of.as_str())
            .collect::<Vec<_>>(),
        ["2019-08-15", "2019-07-05", "2019-07-03"]
    );
    let mut seen = 0;
    let mut token = String::new();
    loop {
        let page = client
            .list_decisions(pb::ListDecisionsRequest {
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen += page.decisions.len();
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, dates.len());
    let status = client
        .list_decisions(pb::ListDecisionsRequest {
            as_of_from: "yesterday".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "as_of_from");

    let kr = client
        .get_destination_status(pb::GetDestinationStatusRequest {
            country: "KR".into(),
            as_of: "2020-01-01".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let groups: Vec<(&str, &str)> = kr
        .memberships
        .iter()
        .map(|m| (m.regime.as_str(), m.group.as_str()))
        .collect();
    assert!(!groups.contains(&("JP-FEFTA", "Group A")), "{groups:?}");
    assert!(groups.contains(&("US-EAR", "A:5")), "{groups:?}");
    let kr = client
        .get_destination_status(pb::GetDestinationStatusRequest {
            country: "KR".into(),
            as_of: "2023-07-21".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        kr.memberships
            .iter()
            .any(|m| m.regime == "JP-FEFTA" && m.group == "Group A")
    );
    let ir = client
        .get_destination_status(pb::GetDestinationStatusRequest {
            country: "IR".into(),
            as_of: "2024-01-01".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        ir.measures.iter().any(|m| m.contains("us-746-iran")),
        "{:?}",
        ir.measures
    );
    let status = client
        .get_destination_status(pb::GetDestinationStatusRequest {
            country: "Korea".into(),
            as_of: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "country");
}

#[tokio::test]
async fn bad_parties_are_named_and_nothing_is_recorded() {
    let (_c, licensing, _l) = start_pair("bad-parties").await;
    let mut client = licensing_client(&licensing).await;
    let party = |role: &str, name: &str| pb::Party {
        role: role.into(),
        name: name.into(),
        ..Default::default()
    };
    let mut req = euv_resist_to_korea("po-parties", "2023-07-22");
    req.parties = vec![
        party("consignee", "Example Logistics Co."),
        party("", "Example Forwarding Co."),
        party("shipper", "Example Shipper Co."),
        party("sold_to", ""),
        party("purchaser", &"x".repeat(2000)),
        party("ship_to", "Line\nBreak Trading"),
    ];
    let status = client.decide(req).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violated_fields(&status);
    assert_eq!(
        fields,
        [
            "parties[1].role",
            "parties[2].role",
            "parties[3].name",
            "parties[4].name",
            "parties[5].name"
        ],
        "{fields:?}"
    );
    let mut many = euv_resist_to_korea("po-many", "2023-07-22");
    many.parties = (0..51)
        .map(|i| party("consignee", &format!("Example Party {i}")))
        .collect();
    let status = client.decide(many).await.unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "parties");
    assert_eq!(recorded(&mut client).await, 0);
}

#[tokio::test]
async fn headquarters_countries_must_be_assigned_codes() {
    let (_c, licensing, _l) = start_pair("bad-headquarters").await;
    let mut client = licensing_client(&licensing).await;
    let mut req = euv_resist_to_korea("po-hq", "2024-03-01");
    let end_user = req.end_user.as_mut().unwrap();
    end_user.headquarters_country = "EU".into();
    end_user.ultimate_parent_country = "KR".into();
    req.parties = vec![pb::Party {
        role: "consignee".into(),
        name: "Example Logistics Co.".into(),
        ultimate_parent_country: "UK".into(),
        ..Default::default()
    }];
    let status = client.decide(req).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        [
            "end_user.headquarters_country",
            "parties[0].ultimate_parent_country"
        ],
        "{fields:?}"
    );
    assert_eq!(recorded(&mut client).await, 0);
}

#[tokio::test]
async fn screen_parties_ranks_matches_and_records_nothing() {
    let (_c, licensing, _l) = start_pair("screen-parties").await;
    let mut client = licensing_client(&licensing).await;
    let party = |name: &str| pb::Party {
        name: name.into(),
        ..Default::default()
    };
    let resp = client
        .screen_parties(pb::ScreenPartiesRequest {
            parties: vec![
                party("ＨＵＡＷＥＩ Technologies Co., Ltd."),
                party("Example Memory Co."),
                party("John Q. Exampleperson"),
            ],
            as_of: "2026-08-01".into(),
            max_matches: 3,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.results.len(), 3);
    assert_eq!(resp.screening_sources.len(), 1);
    assert_eq!(resp.screening_sources[0].entries, 10);
    let first = &resp.results[0];
    assert_eq!(first.outcome, Outcome::LicenseRequired as i32, "{first:?}");
    // The official list's entry and the pack's dated row both match.
    let lists: Vec<(&str, bool)> = first
        .matches
        .iter()
        .map(|m| {
            m.r#match
                .as_ref()
                .map(|m| (m.list.as_str(), m.exact))
                .unwrap()
        })
        .collect();
    assert!(
        lists.contains(&("EL", true)) && lists.contains(&("PACK", true)),
        "{lists:?}"
    );
    assert_eq!(resp.results[1].outcome, Outcome::NoLicenseRequired as i32);
    assert!(resp.results[1].matches.is_empty());
    assert_eq!(resp.results[2].outcome, Outcome::Prohibited as i32);
    assert_eq!(recorded(&mut client).await, 0);
    let status = client
        .screen_parties(pb::ScreenPartiesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "parties");
}

#[tokio::test]
async fn held_authorizations_and_destination_subdivisions_are_validated() {
    let (_c, licensing, _l) = start_pair("held-and-regions").await;
    let mut client = licensing_client(&licensing).await;
    let held = |regime: &str, code: &str| pb::HeldAuthorization {
        regime: regime.into(),
        code: code.into(),
        reference: String::new(),
    };
    let mut req = euv_resist_to_korea("po-held-bad", "2024-03-01");
    req.held_authorizations = vec![
        held("XX-NONE", "general_bulk"),
        // Korea's regime applies to no line of a shipment from Japan.
        held("KR-FTA", "comprehensive"),
        held("JP-FEFTA", "bulk"),
        held("JP-FEFTA", "general_bulk"),
    ];
    // A subdivision of another country than the destination.
    req.destination_subdivision = "UA-43".into();
    let status = client.decide(req).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violated_fields(&status);
    assert_eq!(
        fields,
        [
            "destination_subdivision",
            "held_authorizations[0].regime",
            "held_authorizations[1].regime",
            "held_authorizations[2].code",
        ],
        "{fields:?}"
    );
    let v = field_violations(&status);
    assert!(
        v.iter()
            .any(|x| x.description.contains("general_bulk") && x.description.contains("bulk`")),
        "{v:?}"
    );
    // Not an ISO 3166-2 code at all.
    let mut req = euv_resist_to_korea("po-region-bad", "2024-03-01");
    req.destination_subdivision = "Crimea".into();
    let status = client.decide(req).await.unwrap_err();
    assert_eq!(violated_fields(&status), ["destination_subdivision"]);
    assert_eq!(recorded(&mut client).await, 0);

    // Held: AUTHORIZED, naming the licence; not held: LICENSE_REQUIRED naming what would be available.
    let mut req = euv_resist_to_korea("po-held", "2024-03-01");
    req.held_authorizations = vec![pb::HeldAuthorization {
        reference: "METI-GB-0042".into(),
        ..held("JP-FEFTA", "general_bulk")
    }];
    let d = client
        .decide(req)
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    let jp = |d: &pb::Decision| {
        d.lines[0]
            .determinations
            .iter()
            .find(|x| x.regime == "JP-FEFTA" && x.rule_id == "jp-list")
            .cloned()
            .expect("jp-list")
    };
    let det = jp(&d);
    assert_eq!(det.outcome, Outcome::Authorized as i32, "{det:?}");
    assert_eq!(det.authorization, "general_bulk");
    assert!(
        det.explanation.contains("METI-GB-0042"),
        "{}",
        det.explanation
    );
    let req = euv_resist_to_korea("po-not-held", "2024-03-01");
    let d = client
        .decide(req)
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    let det = jp(&d);
    assert_eq!(det.outcome, Outcome::LicenseRequired as i32, "{det:?}");
    assert!(
        det.explanation
            .contains("would be covered by JP-FEFTA general_bulk"),
        "{}",
        det.explanation
    );

    // A region is echoed and decided by its own rules.
    let mut req = euv_resist_to_korea("po-crimea", "2024-03-01");
    req.destination_country = "UA".into();
    req.destination_subdivision = "UA-43".into();
    req.end_user.as_mut().unwrap().country = "UA".into();
    // US-origin: the EAR reaches it by origin, not by its foreign-produced content.
    req.lines[0].origin_country = "US".into();
    let d = client
        .decide(req)
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(d.destination_subdivision, "UA-43");
    assert!(
        d.lines[0]
            .determinations
            .iter()
            .any(|x| x.rule_id == "us-746-crimea"),
        "{:?}",
        d.lines[0].determinations
    );
}

/// The decision Decide answers `request` with.
async fn decided(
    client: &mut exportctl_proto::licensing::licensing_service_client::LicensingServiceClient<
        tonic::transport::Channel,
    >,
    request: pb::DecideRequest,
) -> pb::Decision {
    let response = client.decide(request).await.expect("decided");
    response.into_inner().decision.expect("a decision")
}

/// Two lines, two parties, no end use: the order the idempotency tests retry.
fn two_line_order(request_id: &str, as_of: &str) -> pb::DecideRequest {
    let mut r = euv_resist_to_korea(request_id, as_of);
    r.end_use = None;
    let mut second = r.lines[0].clone();
    second.line_id = "20".into();
    second.quantity = 5.0;
    r.lines.push(second);
    r.parties = vec![
        pb::Party {
            role: "consignee".into(),
            name: "Hanmi Logistics".into(),
            country: "KR".into(),
            ..Default::default()
        },
        pb::Party {
            role: "forwarder".into(),
            name: "Nippon Express".into(),
            country: "JP".into(),
            ..Default::default()
        },
    ];
    r
}

#[tokio::test]
async fn a_retry_spelled_differently_is_the_same_request_and_a_different_one_is_named_field_by_field()
 {
    let classifier = bundled_classifier().await;
    let ledger = temp_ledger("idem-canonical");
    let licensing = start_licensing(config(classifier.url(), &ledger)).await;
    let mut client = licensing_client(&licensing).await;
    // as_of left empty: resolved to today and recorded with the decision.
    let first = decided(&mut client, two_line_order("idem-1", "")).await;
    assert_eq!(first.sequence, 1);
    let today = first.as_of.clone();

    let dated = two_line_order("idem-1", &today);
    let mut lines_reordered = two_line_order("idem-1", "");
    lines_reordered.lines.reverse();
    let mut parties_reordered = two_line_order("idem-1", "");
    parties_reordered.parties.reverse();
    let mut defaults_spelled_out = two_line_order("idem-1", "");
    defaults_spelled_out.end_use = Some(pb::EndUse::default());
    defaults_spelled_out.end_user.as_mut().unwrap().role = "end_user".into();
    let mut all_at_once = two_line_order("idem-1", &today);
    all_at_once.lines.reverse();
    all_at_once.parties.reverse();
    all_at_once.end_use = Some(pb::EndUse::default());
    for (what, retry) in [
        ("as_of spelled out", dated),
        ("lines reordered", lines_reordered),
        ("parties reordered", parties_reordered),
        ("defaults spelled out", defaults_spelled_out),
        ("all of them", all_at_once.clone()),
    ] {
        let again = client.decide(retry).await;
        let again = again.unwrap_or_else(|s| panic!("{what}: {s:?}"));
        assert_eq!(again.into_inner().decision.unwrap(), first, "{what}");
    }
    assert_eq!(recorded(&mut client).await, 1);

    // A restarted service compares with the request stored in the ledger.
    licensing.stop().await;
    let licensing = start_licensing(config(classifier.url(), &ledger)).await;
    let mut client = licensing_client(&licensing).await;
    assert_eq!(decided(&mut client, all_at_once).await, first);

    // A request that really differs: refused, naming exactly what differs,
    // by the retry's own paths (its line 0 is line 20).
    let mut different = two_line_order("idem-1", "");
    different.lines.reverse();
    different.lines[0].quantity = 7.0;
    different.destination_country = "TW".into();
    let status = client.decide(different).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert_eq!(
        violated_fields(&status),
        ["destination_country", "lines[0].quantity"]
    );
    let v = field_violations(&status);
    assert_eq!(v[1].description, "5 in the recorded request, 7 now");
    assert!(
        status
            .message()
            .contains("it differs in destination_country, lines[0].quantity"),
        "{}",
        status.message()
    );
    assert!(
        status.message().contains(&first.name),
        "{}",
        status.message()
    );
    // Another date is another request.
    let status = client
        .decide(two_line_order("idem-1", "2024-01-02"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(violated_fields(&status), ["as_of"]);
    assert_eq!(recorded(&mut client).await, 1);
}

/// A classifier on `addr` (port 0 = any); the port may take a moment to be free again.
async fn classifier_on(
    addr: std::net::SocketAddr,
) -> (std::net::SocketAddr, exportctl_tests::Running) {
    for attempt in 1.. {
        match exportctl_classifier::Application::build(exportctl_classifier::Config {
            listen: addr,
            drain: Duration::from_secs(1),
            ..Default::default()
        })
        .await
        {
            Ok(app) => {
                let addr = app.local_addr();
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let task = tokio::spawn(async move {
                    app.run_until(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("classifier runs");
                });
                return (addr, exportctl_tests::Running::spawned(addr, stop, task));
            }
            Err(e) if attempt < 50 => {
                eprintln!("classifier cannot bind {addr} yet: {e:#}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("classifier cannot bind {addr}: {e:#}"),
        }
    }
    unreachable!()
}

/// The grpc.health.v1 status of `service` on `url`, polled until it is
/// `want` (or `within` has passed); the time it took.
async fn health_becomes(
    url: &str,
    service: &str,
    want: tonic_health::pb::health_check_response::ServingStatus,
    within: Duration,
) -> Duration {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let channel = tonic::transport::Endpoint::from_shared(url.to_string())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let started = std::time::Instant::now();
    loop {
        let got = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        if got == want as i32 {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{service} still {got} after {within:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn health_is_not_serving_while_the_classifier_is_down_and_serving_once_it_is_back() {
    use tonic_health::pb::health_check_response::ServingStatus;
    const SERVICE: &str = "exportctl.licensing.v1.LicensingService";
    let (addr, classifier) = classifier_on("127.0.0.1:0".parse().unwrap()).await;
    let ledger = temp_ledger("health-follows-classifier");
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_health_interval: Duration::from_millis(200),
        ..config(format!("http://{addr}"), &ledger)
    })
    .await;
    let url = licensing.url();
    let within = Duration::from_secs(5);
    health_becomes(&url, SERVICE, ServingStatus::Serving, within).await;
    classifier.stop().await;
    let took = health_becomes(&url, SERVICE, ServingStatus::NotServing, within).await;
    eprintln!("NOT_SERVING {took:?} after the classifier stopped");
    // The server itself still answers: only the service is not serving.
    health_becomes(&url, "", ServingStatus::Serving, Duration::from_secs(1)).await;
    let (_, classifier) = classifier_on(addr).await;
    let took = health_becomes(&url, SERVICE, ServingStatus::Serving, within).await;
    eprintln!("SERVING {took:?} after the classifier came back");
    let mut client = licensing_client(&licensing).await;
    client
        .decide(euv_resist_to_korea("health-1", "2023-07-22"))
        .await
        .unwrap();
    classifier.stop().await;
}

/// The services reflection (v1) lists on `url`.
async fn reflected_services(url: &str) -> Vec<String> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let channel = tonic::transport::Endpoint::from_shared(url.to_string())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().expect("an answer");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list: {answer:?}");
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    names
}

#[tokio::test]
async fn reflection_lists_only_the_services_of_each_port() {
    let (classifier, licensing, _ledger) = start_pair("reflection-per-port").await;
    let standard = [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ];
    let with = |service: &str| {
        let mut all: Vec<String> = standard.iter().map(|s| s.to_string()).collect();
        all.push(service.to_string());
        all.sort();
        all
    };
    assert_eq!(
        reflected_services(&classifier.url()).await,
        with("exportctl.classifier.v1.ClassifierService")
    );
    assert_eq!(
        reflected_services(&licensing.url()).await,
        with("exportctl.licensing.v1.LicensingService")
    );
}
