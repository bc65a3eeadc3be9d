//! The classification port: the gRPC adapter (against a real classifier on a
//! loopback socket) and the in-process adapter give the same classifications,
//! digests and field violations for the same lines, on the one code path that
//! classifies any number of lines.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use exportctl_classifier::{Classifier, RuleSet, SharedRules};
use exportctl_licensing::Error;
use exportctl_licensing::classification::{
    Classification, Classified, ClassifierClient, InProcessClassifier,
};
use exportctl_proto::classifier::{ItemKind, ProductSpec};
use exportctl_proto::licensing as pb;
use exportctl_runtime::trace::TraceParent;

fn line(id: &str, spec: Option<ProductSpec>, entries: &[(&str, &str)]) -> pb::LineItem {
    pb::LineItem {
        line_id: id.into(),
        spec,
        origin_country: "US".into(),
        entries: entries
            .iter()
            .map(|(regime, entry_id)| pb::PreClassifiedEntry {
                regime: (*regime).into(),
                entry_id: (*entry_id).into(),
            })
            .collect(),
        ..Default::default()
    }
}

fn material(name: &str) -> ProductSpec {
    ProductSpec {
        sku: name.into(),
        kind: ItemKind::Material as i32,
        material: name.into(),
        ..Default::default()
    }
}

async fn classify(c: &Classification, lines: &[pb::LineItem]) -> Result<Classified, Error> {
    let regimes = vec![vec!["US-EAR".to_string(), "JP-FEFTA".to_string()]; lines.len()];
    let on = exportctl_core::dates::parse("2024-06-01").unwrap();
    let trace =
        TraceParent::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
    let policies = exportctl_licensing::policy::PolicySet::bundled().unwrap();
    c.classify_lines(
        lines,
        &regimes,
        &policies,
        on,
        Instant::now() + Duration::from_secs(10),
        &trace,
    )
    .await
}

fn violations(r: Result<Classified, Error>) -> Vec<String> {
    match r {
        Err(Error::InvalidArgument(v)) => v.into_iter().map(|v| v.field).collect(),
        other => panic!("expected field violations, got {other:?}"),
    }
}

#[tokio::test]
async fn grpc_and_in_process_adapters_agree() {
    let server = exportctl_classifier::Application::build(exportctl_classifier::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..Default::default()
    })
    .await
    .unwrap();
    let url = format!("http://{}", server.local_addr());
    tokio::spawn(server.run_until(std::future::pending()));
    let grpc = Classification::new(Arc::new(
        ClassifierClient::new(&url, None, None, true).unwrap(),
    ));
    let local = Classification::new(Arc::new(InProcessClassifier::new(Classifier::new(
        SharedRules::new(RuleSet::bundled().unwrap()),
        false,
    ))));

    // Several lines: listed, not listed, pre-classified (an entry and the
    // not-listed label), and one with no regime at all.
    let lines = vec![
        line("10", Some(material("hydrogen_fluoride")), &[]),
        line("20", Some(material("wet_clean_chemical")), &[]),
        line(
            "30",
            None,
            &[("US-EAR", "3A090.a"), ("JP-FEFTA", "NOT-LISTED")],
        ),
        line("40", None, &[("US-EAR", "EAR99")]),
    ];
    let (by_grpc, digest_grpc) = classify(&grpc, &lines).await.unwrap();
    let (in_process, digest_local) = classify(&local, &lines).await.unwrap();
    assert_eq!(by_grpc, in_process);
    assert_eq!(digest_grpc, digest_local);
    assert!(digest_grpc.starts_with("sha256:"), "{digest_grpc}");
    assert_eq!(by_grpc.len(), 4);
    assert!(
        by_grpc[2][0]
            .matches
            .iter()
            .any(|m| m.entry_id == "3A090.a"),
        "{:?}",
        by_grpc[2]
    );
    assert_eq!(by_grpc[3][0].not_listed_label, "EAR99");

    // One line alone takes the same path.
    let (one, _) = classify(&local, &lines[..1]).await.unwrap();
    assert_eq!(one[0], in_process[0]);

    // Bad input on several lines: every violation, under the caller's paths.
    let bad = vec![
        line("10", Some(material("photoresit")), &[]),
        line("20", None, &[("US-EAR", "9Z999"), ("KR-FTA", "3C002.a.2")]),
    ];
    let want = [
        "lines[0].spec.material",
        "lines[1].entries[0].entry_id",
        "lines[1].entries[1].regime",
    ];
    assert_eq!(violations(classify(&grpc, &bad).await), want);
    assert_eq!(violations(classify(&local, &bad).await), want);
}
