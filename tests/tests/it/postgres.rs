//! The PostgreSQL ledger with the same semantics as SQLite: durable before the
//! answer, idempotent, one hash chain even with two replicas writing at once,
//! tampering detected. Needs EXPORTCTL_TEST_POSTGRES_URL (scripts/with-postgres.sh
//! provides one; .ci/run runs this file through it); without it, it says so and passes.

use std::sync::Arc;

use exportctl_licensing::ledger::{Appended, LedgerStore, NewRecord, PostgresLedger};
use exportctl_proto::licensing::{self as pb, Outcome};
use exportctl_tests::{
    bundled_classifier, gallium_nitride_shipment, licensing_client, start_licensing,
};

/// A fresh database on the test server, as a URL.
fn fresh_database(name: &str) -> Option<String> {
    let Ok(admin) = std::env::var("EXPORTCTL_TEST_POSTGRES_URL") else {
        eprintln!(
            "EXPORTCTL_TEST_POSTGRES_URL is not set: PostgreSQL ledger test `{name}` not run"
        );
        return None;
    };
    let db = format!("exportctl_{name}_{}", std::process::id());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("admin connection");
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let (base, _) = admin.rsplit_once('/').expect("url has a database");
    Some(format!("{base}/{db}"))
}

fn record(replica: usize, i: usize) -> NewRecord {
    NewRecord {
        decision_id: format!("d-{replica}-{i}"),
        request_id: format!("r-{i}"),
        request: format!("request {i}").into_bytes(),
        decision: vec![replica as u8, i as u8],
        outcome: Outcome::NoLicenseRequired as i32,
        as_of: "2024-01-01".into(),
        created_at: "2024-01-01T00:00:00Z".into(),
        rules_digest: "sha256:p".into(),
        classifier_rules_digest: "sha256:c".into(),
    }
}

#[test]
fn two_replicas_writing_at_once_extend_one_chain() {
    let Some(url) = fresh_database("replicas") else {
        return;
    };
    let replicas: Vec<Arc<PostgresLedger>> = (0..2)
        .map(|_| Arc::new(PostgresLedger::connect(&url).expect("connects")))
        .collect();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let ledger = replicas[t % 2].clone();
            std::thread::spawn(move || {
                // Both replicas append the same 100 request ids: each id is recorded once.
                (0..100)
                    .map(|i| ledger.append(record(t % 2, i)).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Appended> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let new = results
        .iter()
        .filter(|a| matches!(a, Appended::New(_)))
        .count();
    assert_eq!(new, 100, "every request id recorded exactly once");
    for ledger in &replicas {
        let v = ledger.verify().unwrap();
        assert!(v.broken.is_none(), "{v:?}");
        assert_eq!(v.length, 100);
    }
    // Whatever replica recorded it, each id answers with the one stored record.
    for a in &results {
        let r = match a {
            Appended::New(r) | Appended::Existing(r) => r,
        };
        let stored = replicas[1]
            .by_request_id(&r.body.request_id)
            .unwrap()
            .unwrap();
        assert_eq!(&stored, r);
    }
}

#[test]
fn tampering_is_refused_and_detected() {
    let Some(url) = fresh_database("tamper") else {
        return;
    };
    let ledger = PostgresLedger::connect(&url).unwrap();
    for i in 0..5 {
        ledger.append(record(0, i)).unwrap();
    }
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let err = client
        .execute("UPDATE decisions SET outcome = 3 WHERE seq = 2", &[])
        .unwrap_err();
    assert!(
        err.to_string().contains("append-only") || format!("{err:?}").contains("append-only"),
        "{err:?}"
    );
    client
        .batch_execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only; UPDATE decisions SET outcome = 3 WHERE seq = 4;")
        .unwrap();
    let v = ledger.verify().unwrap();
    assert_eq!(v.broken.as_ref().map(|b| b.0), Some(4), "{v:?}");
    assert_eq!(v.length, 3);
}

fn shipment(request_id: &str) -> pb::DecideRequest {
    gallium_nitride_shipment(request_id, "US", "2024-12-03")
}

#[tokio::test]
async fn licensing_on_postgres_decides_records_and_survives_a_restart() {
    // The blocking client may not run on the test's executor thread.
    let Some(url) = std::thread::spawn(|| fresh_database("service"))
        .join()
        .unwrap()
    else {
        return;
    };
    let classifier = bundled_classifier().await;
    let config = || exportctl_licensing::Config {
        classifier_url: classifier.url(),
        ledger: url.clone(),
        ..Default::default()
    };
    let licensing = start_licensing(config()).await;
    let mut client = licensing_client(&licensing).await;
    let first = client
        .decide(shipment("pg-1"))
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(first.outcome, Outcome::Prohibited as i32);
    let again = client
        .decide(shipment("pg-1"))
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(again, first);
    let mut other = shipment("pg-1");
    other.as_of = "2025-12-01".into();
    assert_eq!(
        client.decide(other).await.unwrap_err().code(),
        tonic::Code::AlreadyExists
    );
    licensing.stop().await;

    // A second replica on the same database sees the same chain.
    let replica = start_licensing(config()).await;
    let mut client = licensing_client(&replica).await;
    let got = client
        .get_decision(pb::GetDecisionRequest {
            name: first.name.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.decision.unwrap(), first);
    client.decide(shipment("pg-2")).await.unwrap();
    let v = client
        .verify_ledger(pb::VerifyLedgerRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(v.intact, "{v:?}");
    assert_eq!(v.length, 2);
}

/// Record `seq` rewritten to NO_LICENSE_REQUIRED and every later hash
/// recomputed with plain SHA-256, as someone with write access but without
/// the key would.
fn forge_postgres(url: &str, seq: i64) {
    use exportctl_licensing::ledger::{GENESIS, ListFilter, relink};
    let ledger = PostgresLedger::connect(url).unwrap();
    let mut records = ledger
        .list(&ListFilter {
            limit: 1000,
            ..Default::default()
        })
        .unwrap();
    records.reverse();
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .batch_execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
        .unwrap();
    let at = seq as usize - 1;
    let prev = match at {
        0 => GENESIS.to_string(),
        _ => records[at - 1].hash.clone(),
    };
    let mut tail = records[at..].to_vec();
    tail[0].body.outcome = Outcome::NoLicenseRequired as i32;
    relink(&mut tail, &prev, None);
    for r in tail {
        client
            .execute(
                "UPDATE decisions SET outcome = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
                &[&r.body.outcome, &r.prev_hash, &r.hash, &r.seq],
            )
            .unwrap();
    }
}

#[tokio::test]
async fn a_keyed_postgres_ledger_cut_short_or_rewritten_is_not_served() {
    use exportctl_licensing::ledger::LedgerKey;
    use exportctl_licensing::ledger::anchor::{anchor_file, read_anchor};
    let Some(url) = std::thread::spawn(|| fresh_database("integrity"))
        .join()
        .unwrap()
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("postgres-integrity-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("key"), "c3".repeat(32)).unwrap();
    let key = LedgerKey::read(&dir.join("key")).unwrap();
    let config = |accept: Option<String>| exportctl_licensing::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        classifier_url: "http://127.0.0.1:9".into(),
        ledger: url.clone(),
        ledger_key_file: Some(dir.join("key")),
        ledger_anchor: Some(dir.clone()),
        accept_ledger_reset: accept,
        ..Default::default()
    };
    let blocking = |f: Box<dyn FnOnce() + Send>| tokio::task::spawn_blocking(f);
    let (u, k) = (url.clone(), key.clone());
    blocking(Box::new(move || {
        let ledger = PostgresLedger::connect_keyed(&u, Some(k)).unwrap();
        for i in 0..6 {
            ledger.append(record(0, i)).unwrap();
        }
    }))
    .await
    .unwrap();
    // Served: the start anchors the head (record 6, keyed, MACed).
    drop(
        exportctl_licensing::Application::build(config(None))
            .await
            .unwrap(),
    );
    let anchor = read_anchor(&anchor_file(&dir)).unwrap().unwrap();
    assert_eq!(anchor.sequence, 6);
    assert_eq!(anchor.authentic(Some(&key)), Some(true));

    // The last two records deleted: refused, until the reset is accepted.
    let u = url.clone();
    blocking(Box::new(move || {
        let mut c = postgres::Client::connect(&u, postgres::NoTls).unwrap();
        c.batch_execute(
            "ALTER TABLE decisions DISABLE TRIGGER decisions_append_only; DELETE FROM decisions WHERE seq > 4; ALTER TABLE decisions ENABLE TRIGGER decisions_append_only;",
        )
        .unwrap();
    }))
    .await
    .unwrap();
    let err = exportctl_licensing::Application::build(config(None))
        .await
        .err()
        .expect("a truncated ledger is not served");
    assert!(
        err.to_string().contains("records 5..=6 are gone"),
        "{err:#}"
    );
    drop(
        exportctl_licensing::Application::build(config(Some(anchor.head_hash.clone())))
            .await
            .unwrap(),
    );
    assert_eq!(
        read_anchor(&anchor_file(&dir)).unwrap().unwrap().sequence,
        4
    );

    // Record 2 rewritten and the chain recomputed without the key: refused.
    let u = url.clone();
    blocking(Box::new(move || forge_postgres(&u, 2)))
        .await
        .unwrap();
    let err = exportctl_licensing::Application::build(config(None))
        .await
        .err()
        .expect("a rewritten ledger is not served");
    assert!(err.to_string().contains("broken at record 2"), "{err:#}");
    std::fs::remove_dir_all(&dir).ok();
}

/// ListDecisions on PostgreSQL: the store narrows by outcome and as_of and
/// pages by keyset in every order; the rest of the filter is applied over
/// its pages. The same answers, page by page, as one unfiltered listing
/// filtered here.
#[tokio::test]
async fn list_filters_orders_and_pages_on_postgres() {
    let Some(url) = std::thread::spawn(|| fresh_database("list"))
        .join()
        .unwrap()
    else {
        return;
    };
    let classifier = bundled_classifier().await;
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_url: classifier.url(),
        ledger: url,
        ..Default::default()
    })
    .await;
    let mut client = licensing_client(&licensing).await;
    let orders = [
        ("US", "2024-12-03"),
        ("DE", "2024-01-01"),
        ("US", "2025-01-10"),
        ("JP", "2023-09-01"),
        ("US", "2024-12-03"),
        ("DE", "2025-02-01"),
    ];
    for (i, (destination, as_of)) in orders.iter().enumerate() {
        client
            .decide(gallium_nitride_shipment(
                &format!("pg-l-{i}"),
                destination,
                as_of,
            ))
            .await
            .unwrap();
    }
    let list = |filter: &str, order_by: &str, page_size: i32| {
        let (filter, order_by) = (filter.to_string(), order_by.to_string());
        let mut client = client.clone();
        async move {
            let mut seen = Vec::new();
            let mut token = String::new();
            loop {
                let page = client
                    .list_decisions(pb::ListDecisionsRequest {
                        filter: filter.clone(),
                        order_by: order_by.clone(),
                        page_size,
                        page_token: token,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner();
                seen.extend(page.decisions);
                token = page.next_page_token;
                if token.is_empty() {
                    return seen;
                }
            }
        }
    };
    let all = list("", "", 0).await;
    assert_eq!(all.len(), orders.len());
    let us_outcome = all
        .iter()
        .find(|d| d.destination_country == "US")
        .unwrap()
        .outcome;
    let outcome_name = Outcome::try_from(us_outcome).unwrap().as_str_name();
    let filter = format!(
        "outcome = {outcome_name} AND as_of >= \"2024-01-01\" AND as_of <= \"2025-01-10\" AND party = \"example rf\" AND destination_country = US"
    );
    for order_by in ["", "create_time", "as_of", "as_of desc"] {
        let mut want: Vec<&pb::Decision> = all
            .iter()
            .filter(|d| {
                d.outcome == us_outcome
                    && d.destination_country == "US"
                    && d.as_of.as_str() >= "2024-01-01"
                    && d.as_of.as_str() <= "2025-01-10"
            })
            .collect();
        match order_by {
            "create_time" => want.sort_by_key(|d| d.sequence),
            "as_of" => want.sort_by_key(|d| (d.as_of.clone(), d.sequence)),
            "as_of desc" => {
                want.sort_by_key(|d| (d.as_of.clone(), d.sequence));
                want.reverse();
            }
            _ => {}
        }
        let want: Vec<&str> = want.iter().map(|d| d.request_id.as_str()).collect();
        assert_eq!(want.len(), 3, "{all:?}");
        for page_size in [1, 2, 0] {
            let got = list(&filter, order_by, page_size).await;
            let got: Vec<&str> = got.iter().map(|d| d.request_id.as_str()).collect();
            assert_eq!(got, want, "{order_by} by {page_size}");
        }
        // Every decision, by pages of one, in each order.
        let paged = list("", order_by, 1).await;
        assert_eq!(paged.len(), orders.len(), "{order_by}");
    }
    let found = client
        .lookup_decision(pb::LookupDecisionRequest {
            request_id: "pg-l-3".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .decision
        .unwrap();
    assert_eq!(found.request.unwrap().destination_country, "JP");
}
