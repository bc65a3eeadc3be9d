//! The acceptance scenarios (tests/corpus/scenarios.yaml, copied from the
//! regulatory notes) end to end: classifier and licensing on real sockets.

use std::collections::BTreeMap;

use exportctl_proto::classifier::{self as cpb, ItemKind};
use exportctl_proto::licensing::{self as pb, Outcome, ReviewPolicy};
use exportctl_tests::{licensing_client, start_pair};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Scenario {
    id: String,
    date: String,
    export_country: String,
    destination_country: String,
    end_user: PartyRow,
    #[serde(default)]
    end_use: BTreeMap<String, serde_norway::Value>,
    item: BTreeMap<String, serde_norway::Value>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
struct PartyRow {
    name: String,
    country: String,
}

#[derive(Debug, Deserialize)]
struct Expect {
    regime: String,
    entries: Option<Vec<String>>,
    outcome: String,
    authorization: Option<String>,
    review_policy: Option<String>,
    advisory: Option<String>,
}

fn text(v: &serde_norway::Value) -> String {
    match v {
        serde_norway::Value::String(s) => s.clone(),
        other => serde_norway::to_string(other).unwrap().trim().to_string(),
    }
}

fn num(v: &serde_norway::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v:?}"))
}

fn spec(item: &BTreeMap<String, serde_norway::Value>) -> cpb::ProductSpec {
    let mut s = cpb::ProductSpec::default();
    for (k, v) in item {
        match k.as_str() {
            "origin_country" => {}
            "kind" => {
                s.kind =
                    ItemKind::from_str_name(&format!("ITEM_KIND_{}", text(v))).expect("kind") as i32
            }
            "material" => s.material = text(v),
            "equipment_function" => s.equipment_function = text(v),
            "resist_tone" => s.resist_tone = text(v),
            "memory_type" => s.memory_type = text(v),
            "manufacturer" => s.manufacturer = text(v),
            "model" => s.model = text(v),
            "description" => s.description = text(v),
            "wavelength_nm" => s.wavelength_nm = Some(num(v)),
            "concentration_percent" => s.concentration_percent = Some(num(v)),
            "fluorine_content_percent" => s.fluorine_content_percent = Some(num(v)),
            "tpp" => s.tpp = Some(num(v)),
            "transfer_rate_gbps" => s.transfer_rate_gbps = Some(num(v)),
            "performance_density" => s.performance_density = Some(num(v)),
            "numerical_aperture" => s.numerical_aperture = Some(num(v)),
            "dedicated_chuck_overlay_nm" => s.dedicated_chuck_overlay_nm = Some(num(v)),
            other => panic!("scenario item field `{other}` is not mapped"),
        }
    }
    s
}

fn end_use(facts: &BTreeMap<String, serde_norway::Value>) -> pb::EndUse {
    let mut e = pb::EndUse::default();
    for (k, v) in facts {
        match k.as_str() {
            "purpose" => e.purpose = text(v),
            "ic_production" => e.ic_production = v.as_bool(),
            "critical_infrastructure_operator" => e.critical_infrastructure_operator = v.as_bool(),
            "fab_logic_node_nm" => e.fab_logic_node_nm = Some(num(v)),
            "fab_transistor_architecture" => e.fab_transistor_architecture = text(v),
            "fab_dram_half_pitch_nm" => e.fab_dram_half_pitch_nm = Some(num(v)),
            "fab_nand_layers" => e.fab_nand_layers = Some(num(v) as u32),
            "fab_owner_headquarters" => e.fab_owner_headquarters = text(v),
            other => panic!("scenario end_use field `{other}` is not mapped"),
        }
    }
    e
}

fn request(s: &Scenario) -> pb::DecideRequest {
    pb::DecideRequest {
        request_id: format!("scenario-{}", s.id),
        export_country: s.export_country.clone(),
        destination_country: s.destination_country.clone(),
        end_user: Some(pb::Party {
            name: s.end_user.name.clone(),
            country: s.end_user.country.clone(),
            ..Default::default()
        }),
        end_use: Some(end_use(&s.end_use)),
        lines: vec![pb::LineItem {
            line_id: "10".into(),
            spec: Some(spec(&s.item)),
            origin_country: text(&s.item["origin_country"]),
            quantity: 1.0,
            ..Default::default()
        }],
        as_of: s.date.clone(),
    }
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

fn load() -> Vec<Scenario> {
    let text = include_str!("../corpus/scenarios.yaml");
    serde_norway::from_str(text).expect("scenarios parse")
}

#[tokio::test]
async fn every_acceptance_scenario_end_to_end() {
    let (_classifier, licensing, _ledger) = start_pair("scenarios").await;
    let mut client = licensing_client(&licensing).await;
    let scenarios = load();
    assert!(
        scenarios.len() >= 27,
        "corpus has {} scenarios",
        scenarios.len()
    );
    let mut failures = Vec::new();
    for s in &scenarios {
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
        scenarios.len(),
        failures.join("\n")
    );
}
