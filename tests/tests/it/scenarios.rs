//! The acceptance scenarios (tests/corpus/scenarios.yaml, copied from the
//! regulatory notes) end to end: classifier and licensing on real sockets.

use exportctl_proto::licensing::{self as pb, Outcome, ReviewPolicy};
use exportctl_tests::corpus::{self, Scenario};
use exportctl_tests::{licensing_client, start_pair};

fn request(s: &Scenario) -> pb::DecideRequest {
    let spec = s.spec().unwrap_or_else(|e| panic!("{e}"));
    let mut request = s.decide_request(spec).unwrap_or_else(|e| panic!("{e}"));
    request.request_id = format!("scenario-{}", s.id);
    request
}

fn check(s: &Scenario, d: &pb::Decision) -> Vec<String> {
    let mut errors = Vec::new();
    let line = &d.lines[0];
    let regime = &s.expect.regime;
    let dets: Vec<&pb::Determination> = line
        .determinations
        .iter()
        .filter(|x| &x.regime == regime)
        .collect();
    if dets.is_empty() {
        return vec![format!("no determination for {regime}")];
    }
    let severity = |o: i32| match Outcome::try_from(o).unwrap() {
        Outcome::NoLicenseRequired => 0,
        Outcome::Authorized => 1,
        Outcome::Indeterminate => 2,
        Outcome::LicenseRequired => 3,
        Outcome::Prohibited => 4,
        Outcome::Unspecified => 99,
    };
    let worst = dets
        .iter()
        .map(|x| x.outcome)
        .max_by_key(|o| severity(*o))
        .unwrap();
    let want =
        Outcome::from_str_name(&format!("OUTCOME_{}", s.expect.outcome)).expect("outcome") as i32;
    if worst != want {
        errors.push(format!(
            "outcome {:?}, want {:?}: {:#?}",
            Outcome::try_from(worst).unwrap(),
            Outcome::try_from(want).unwrap(),
            dets
        ));
    }
    let worst_dets: Vec<&&pb::Determination> = dets.iter().filter(|x| x.outcome == worst).collect();
    if let Some(entries) = &s.expect.entries {
        let class = line.classifications.iter().find(|c| &c.regime == regime);
        let got: Vec<String> = class
            .map(|c| c.matches.iter().map(|m| m.entry_id.clone()).collect())
            .unwrap_or_default();
        if &got != entries {
            errors.push(format!("entries {got:?}, want {entries:?}"));
        }
    }
    if let Some(a) = &s.expect.authorization
        && !worst_dets.iter().any(|x| &x.authorization == a)
    {
        errors.push(format!(
            "authorization {:?}, want {a}",
            worst_dets
                .iter()
                .map(|x| &x.authorization)
                .collect::<Vec<_>>()
        ));
    }
    if let Some(rule) = &s.expect.rule
        && !dets.iter().any(|x| &x.rule_id == rule)
    {
        errors.push(format!(
            "no determination of rule {rule}: {:?}",
            dets.iter().map(|x| &x.rule_id).collect::<Vec<_>>()
        ));
    }
    if let Some(p) = &s.expect.review_policy {
        let want =
            ReviewPolicy::from_str_name(&format!("REVIEW_POLICY_{p}")).expect("policy") as i32;
        if !worst_dets.iter().any(|x| x.review_policy == want) {
            errors.push(format!(
                "review policy {:?}, want {p}",
                worst_dets
                    .iter()
                    .map(|x| x.review_policy)
                    .collect::<Vec<_>>()
            ));
        }
    }
    if let Some(code) = &s.expect.advisory
        && !d.advisories.iter().any(|a| &a.code == code)
    {
        errors.push(format!("advisory {code} missing: {:?}", d.advisories));
    }
    for det in &line.determinations {
        if det.citations.is_empty() || det.explanation.is_empty() {
            errors.push(format!(
                "determination without citation or explanation: {det:?}"
            ));
        }
    }
    errors
}

#[tokio::test]
async fn every_acceptance_scenario_end_to_end() {
    let (_classifier, licensing, _ledger) = start_pair("scenarios").await;
    let mut client = licensing_client(&licensing).await;
    let scenarios = corpus::load().expect("scenarios parse");
    assert!(
        scenarios.len() >= 44,
        "corpus has {} scenarios",
        scenarios.len()
    );
    let research = corpus::load_research().expect("research scenarios parse");
    let mut failures = Vec::new();
    for s in scenarios.iter().chain(&research) {
        let decision = client
            .decide(request(s))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", s.id))
            .into_inner();
        let d = decision.decision.expect("decision");
        for e in check(s, &d) {
            failures.push(format!("{}: {e}", s.id));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        scenarios.len() + research.len(),
        failures.join("\n")
    );
}
