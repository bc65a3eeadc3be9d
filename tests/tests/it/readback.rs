//! Reading decisions back through the real licensing service: GetDecision
//! with the request it decided and its state, LookupDecision by the ERP's
//! request id, and ListDecisions' AIP-160 filter, order_by and paging.

use exportctl_licensing::ledger::LedgerStore;
use exportctl_proto::classifier::{self as cpb, ItemKind};
use exportctl_proto::licensing::licensing_service_client::LicensingServiceClient;
use exportctl_proto::licensing::{self as pb, DecisionState, Outcome, ReviewStatus};
use exportctl_runtime::errors::field_violations;
use exportctl_tests::{licensing_client, start_pair};
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

fn resist_line(line_id: &str, sku: &str, wavelength_nm: Option<f64>) -> pb::LineItem {
    pb::LineItem {
        line_id: line_id.into(),
        spec: Some(cpb::ProductSpec {
            sku: sku.into(),
            kind: ItemKind::Material as i32,
            material: "photoresist".into(),
            resist_tone: "positive".into(),
            wavelength_nm,
            ..Default::default()
        }),
        origin_country: "JP".into(),
        quantity: 10.0,
        value: 12_500.0,
        currency: "JPY".into(),
        ..Default::default()
    }
}

/// EUV resist from Japan to Korea on 2019-07-05 (LICENSE_REQUIRED), and
/// with `undetermined`, a second line of resist whose wavelength is not
/// stated (its classification is undetermined: INDETERMINATE).
fn to_korea(request_id: &str, undetermined: bool) -> pb::DecideRequest {
    let mut lines = vec![resist_line("10", "EUV-RESIST-1", Some(13.5))];
    if undetermined {
        lines.push(resist_line("20", "RESIST-UNSPECIFIED", None));
    }
    pb::DecideRequest {
        request_id: request_id.into(),
        export_country: "JP".into(),
        destination_country: "KR".into(),
        end_user: Some(pb::Party {
            name: "Samsung Electronics Co., Ltd.".into(),
            country: "KR".into(),
            ..Default::default()
        }),
        parties: if undetermined {
            vec![pb::Party {
                name: "Example Trading K.K.".into(),
                country: "JP".into(),
                role: "sold_to".into(),
                ..Default::default()
            }]
        } else {
            Vec::new()
        },
        end_use: Some(pb::EndUse {
            purpose: "civil".into(),
            ic_production: Some(true),
            ..Default::default()
        }),
        lines,
        as_of: "2019-07-05".into(),
        held_authorizations: Vec::new(),
        destination_subdivision: String::new(),
    }
}

/// A US item classified 5A992.c to Germany: NO_LICENSE_REQUIRED, cleared.
fn to_germany(request_id: &str, as_of: &str) -> pb::DecideRequest {
    pb::DecideRequest {
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
        lines: vec![pb::LineItem {
            line_id: "1".into(),
            origin_country: "US".into(),
            quantity: 3.0,
            value: 900.0,
            currency: "USD".into(),
            entries: vec![pb::PreClassifiedEntry {
                regime: "US-EAR".into(),
                entry_id: "5A992.c".into(),
            }],
            ..Default::default()
        }],
        as_of: as_of.into(),
        held_authorizations: Vec::new(),
        destination_subdivision: String::new(),
    }
}

async fn decide(
    client: &mut LicensingServiceClient<Channel>,
    req: pb::DecideRequest,
) -> pb::Decision {
    client
        .decide(req)
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap()
}

/// Records, in this order: po-de-1 (DE, 2024-05-01, cleared), po-mixed (KR,
/// LICENSE_REQUIRED with an INDETERMINATE line), po-de-2 (DE, 2026-08-01),
/// po-lr (KR, LICENSE_REQUIRED on every line).
async fn record_orders(client: &mut LicensingServiceClient<Channel>) -> Vec<pb::Decision> {
    vec![
        decide(client, to_germany("po-de-1", "2024-05-01")).await,
        decide(client, to_korea("po-mixed", true)).await,
        decide(client, to_germany("po-de-2", "2026-08-01")).await,
        decide(client, to_korea("po-lr", false)).await,
    ]
}

async fn list(
    client: &mut LicensingServiceClient<Channel>,
    filter: &str,
    order_by: &str,
) -> Result<Vec<String>, tonic::Status> {
    let page = client
        .list_decisions(pb::ListDecisionsRequest {
            filter: filter.into(),
            order_by: order_by.into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert!(page.next_page_token.is_empty());
    Ok(page.decisions.into_iter().map(|d| d.request_id).collect())
}

#[tokio::test]
async fn get_and_lookup_return_the_request_and_the_state() {
    let (_c, licensing, ledger) = start_pair("readback-get").await;
    let mut client = licensing_client(&licensing).await;
    let decided = record_orders(&mut client).await;
    let mixed = &decided[1];
    assert_eq!(mixed.outcome, Outcome::LicenseRequired as i32);
    assert_eq!(mixed.state, DecisionState::Blocked as i32);
    assert_eq!(
        mixed.lines.iter().map(|l| l.outcome).collect::<Vec<_>>(),
        [
            Outcome::LicenseRequired as i32,
            Outcome::Indeterminate as i32
        ]
    );
    assert_eq!(decided[0].state, DecisionState::Cleared as i32);
    assert_eq!(
        decided[0].lines[0].review_status,
        ReviewStatus::NotRequired as i32
    );

    let got = client
        .get_decision(pb::GetDecisionRequest {
            name: mixed.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(&got, mixed, "Decide answers what GetDecision reads back");
    let request = got.request.as_ref().expect("the request it decided");
    assert_eq!(request, &to_korea("po-mixed", true));
    let line = &request.lines[1];
    assert_eq!(line.spec.as_ref().unwrap().sku, "RESIST-UNSPECIFIED");
    assert_eq!(
        (line.quantity, line.value, line.currency.as_str()),
        (10.0, 12_500.0, "JPY")
    );
    assert_eq!(
        request.end_user.as_ref().unwrap().name,
        "Samsung Electronics Co., Ltd."
    );
    assert_eq!(request.parties[0].role, "sold_to");
    assert!(
        got.lines
            .iter()
            .all(|l| l.review_status == ReviewStatus::Unreviewed as i32)
    );

    let found = client
        .lookup_decision(pb::LookupDecisionRequest {
            request_id: "po-mixed".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(&found, mixed);
    let status = client
        .lookup_decision(pb::LookupDecisionRequest {
            request_id: "po-unknown-42".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("po-unknown-42"), "{status:?}");
    let status = client
        .lookup_decision(pb::LookupDecisionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "request_id");

    // The recorded (hashed) bytes are as before: no request, no state.
    let store = exportctl_licensing::ledger::SqliteLedger::open(&ledger).unwrap();
    let record = store.by_request_id("po-mixed").unwrap().unwrap();
    let stored = pb::Decision::decode(record.body.decision.as_slice()).unwrap();
    assert!(stored.request.is_none());
    assert_eq!(stored.state, 0);
    assert!(stored.lines.iter().all(|l| l.review_status == 0));
    assert!(
        client
            .verify_ledger(pb::VerifyLedgerRequest {})
            .await
            .unwrap()
            .into_inner()
            .intact
    );
}

#[tokio::test]
async fn list_filters_by_lines_countries_parties_states_and_dates() {
    let (_c, licensing, _l) = start_pair("readback-filter").await;
    let mut client = licensing_client(&licensing).await;
    let decided = record_orders(&mut client).await;
    let created = |i: usize| decided[i].created_at.clone();
    for (filter, want) in [
        // The INDETERMINATE line inside a LICENSE_REQUIRED order.
        ("lines.outcome = INDETERMINATE", vec!["po-mixed"]),
        (
            "line_outcome:INDETERMINATE AND outcome = LICENSE_REQUIRED",
            vec!["po-mixed"],
        ),
        ("outcome = LICENSE_REQUIRED", vec!["po-lr", "po-mixed"]),
        ("outcome = INDETERMINATE", vec![]),
        ("outcome >= INDETERMINATE", vec!["po-lr", "po-mixed"]),
        (
            "lines.outcome != INDETERMINATE AND state = BLOCKED",
            vec!["po-lr"],
        ),
        ("state = CLEARED", vec!["po-de-2", "po-de-1"]),
        ("state = BLOCKED", vec!["po-lr", "po-mixed"]),
        ("destination_country = DE", vec!["po-de-2", "po-de-1"]),
        (
            "destination_country = \"kr\" AND export_country = JP",
            vec!["po-lr", "po-mixed"],
        ),
        ("party = \"samsung electronics\"", vec!["po-lr", "po-mixed"]),
        ("party = \"EXAMPLE-TRADING kk\"", vec!["po-mixed"]),
        ("party != samsung", vec!["po-de-2", "po-de-1"]),
        (
            "as_of >= \"2024-01-01\" AND as_of < \"2025-01-01\"",
            vec!["po-de-1"],
        ),
        ("as_of < 2020-01-01", vec!["po-lr", "po-mixed"]),
        (
            "as_of = 2026-08-01 OR as_of = 2024-05-01",
            vec!["po-de-2", "po-de-1"],
        ),
        (
            "request_id = po-lr OR request_id = po-de-1",
            vec!["po-lr", "po-de-1"],
        ),
        (
            &format!("rules_digest = \"{}\"", decided[0].rules_digest),
            vec!["po-lr", "po-de-2", "po-mixed", "po-de-1"],
        ),
        ("rules_digest = \"sha256:other\"", vec![]),
        (
            &format!("create_time > \"{}\"", created(1)),
            vec!["po-lr", "po-de-2"],
        ),
        (
            &format!(
                "create_time >= \"{}\" AND create_time <= \"{}\"",
                created(1),
                created(2)
            ),
            vec!["po-de-2", "po-mixed"],
        ),
        ("create_time < \"2000-01-01\"", vec![]),
        (
            "NOT (state = BLOCKED OR as_of > 2025-01-01)",
            vec!["po-de-1"],
        ),
    ] {
        assert_eq!(
            list(&mut client, filter, "").await.unwrap(),
            want,
            "{filter}"
        );
    }
    // The older fields still work, and combine with the filter by AND.
    let both = client
        .list_decisions(pb::ListDecisionsRequest {
            outcome: Outcome::LicenseRequired as i32,
            as_of_from: "2019-01-01".into(),
            filter: "party = trading".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(both.decisions.len(), 1);
    let d = &both.decisions[0];
    assert_eq!(d.request_id, "po-mixed");
    assert_eq!(
        d.request.as_ref().unwrap().lines[0]
            .spec
            .as_ref()
            .unwrap()
            .sku,
        "EUV-RESIST-1"
    );
}

#[tokio::test]
async fn list_orders_and_bad_filters() {
    let (_c, licensing, _l) = start_pair("readback-order").await;
    let mut client = licensing_client(&licensing).await;
    record_orders(&mut client).await;
    for (order_by, want) in [
        ("", ["po-lr", "po-de-2", "po-mixed", "po-de-1"]),
        (
            "create_time desc",
            ["po-lr", "po-de-2", "po-mixed", "po-de-1"],
        ),
        ("create_time", ["po-de-1", "po-mixed", "po-de-2", "po-lr"]),
        // Same date: in recording order, the same direction.
        ("as_of", ["po-mixed", "po-lr", "po-de-1", "po-de-2"]),
        ("as_of desc", ["po-de-2", "po-de-1", "po-lr", "po-mixed"]),
    ] {
        assert_eq!(
            list(&mut client, "", order_by).await.unwrap(),
            want,
            "{order_by}"
        );
    }
    for (filter, token) in [
        ("colour = red", "`colour`"),
        ("outcome ~ PROHIBITED", "`~`"),
        ("outcome = MAYBE", "`MAYBE`"),
        ("party > \"acme\"", "`>`"),
        ("as_of >= \"last year\"", "`last year`"),
        ("state = BLOCKED outcome = PROHIBITED", "`outcome`"),
        ("(state = BLOCKED", "`)`"),
        ("state = BLOCKED AND", "at the end"),
    ] {
        let status = list(&mut client, filter, "").await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{filter}");
        let v = field_violations(&status);
        assert_eq!(v[0].field, "filter", "{filter}");
        assert!(v[0].description.contains(token), "{filter}: {v:?}");
    }
    let status = list(&mut client, "", "sequence").await.unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "order_by");
}

#[tokio::test]
async fn pages_of_a_filtered_listing_stay_valid_and_are_bound_to_the_filter() {
    let (_c, licensing, _l) = start_pair("readback-pages").await;
    let mut client = licensing_client(&licensing).await;
    // Blocked and cleared decisions interleaved: the filter is applied in
    // memory over the store's pages.
    for i in 0..7 {
        if i % 2 == 0 {
            decide(&mut client, to_korea(&format!("po-kr-{i}"), i == 2)).await;
        } else {
            decide(&mut client, to_germany(&format!("po-de-{i}"), "2024-05-01")).await;
        }
    }
    for (filter, order_by, want) in [
        (
            "state = BLOCKED",
            "",
            vec!["po-kr-6", "po-kr-4", "po-kr-2", "po-kr-0"],
        ),
        (
            "destination_country = DE",
            "as_of",
            vec!["po-de-1", "po-de-3", "po-de-5"],
        ),
        (
            "outcome = LICENSE_REQUIRED",
            "create_time",
            vec!["po-kr-0", "po-kr-2", "po-kr-4", "po-kr-6"],
        ),
    ] {
        let mut seen = Vec::new();
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let page = client
                .list_decisions(pb::ListDecisionsRequest {
                    filter: filter.into(),
                    order_by: order_by.into(),
                    page_size: 1,
                    page_token: token.clone(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            pages += 1;
            assert!(page.decisions.len() <= 1);
            seen.extend(page.decisions.into_iter().map(|d| d.request_id));
            token = page.next_page_token;
            if token.is_empty() {
                break;
            }
            // A token is refused with another filter or another order.
            for (other_filter, other_order) in
                [("state = CLEARED", order_by), (filter, "as_of desc")]
            {
                let status = client
                    .list_decisions(pb::ListDecisionsRequest {
                        filter: other_filter.into(),
                        order_by: other_order.into(),
                        page_token: token.clone(),
                        ..Default::default()
                    })
                    .await
                    .unwrap_err();
                assert_eq!(status.code(), Code::InvalidArgument);
                assert_eq!(field_violations(&status)[0].field, "page_token");
            }
        }
        assert_eq!(seen, want, "{filter}");
        assert_eq!(pages, want.len(), "{filter}: one page per decision");
    }
}
