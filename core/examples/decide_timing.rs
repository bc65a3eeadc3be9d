use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use exportctl_core::decide::engine::*;
use exportctl_core::decide::policy::PolicySet;
use exportctl_core::decide::screening::{ScreeningList, ScreeningSet};
fn main() {
    let policies = PolicySet::bundled().unwrap();
    let bytes = std::fs::read("/work/shared/regulatory/data/consolidated-screening-list-2026-07-31.json").unwrap();
    let list = ScreeningList::load(&bytes, "csl-2026-07-31.json").unwrap();
    let set = ScreeningSet::new(vec![Arc::new(list)]);
    let empty = ScreeningSet::default();
    let mut classifications = BTreeMap::new();
    classifications.insert("US-EAR".to_string(), RegimeClassification { not_listed_label: "EAR99".into(), ..Default::default() });
    let s = Shipment {
        export_country: "US".into(), destination: "DE".into(),
        end_user: PartyFacts::end_user("Example Buyer GmbH", "DE", &[]),
        parties: vec![PartyFacts { role: "sold_to".into(), field: "parties[0]".into(), name: "Alpha Harbor Logistics GmbH".into(), country: "DE".into(), aliases: vec![] }],
        end_use: EndUseFacts { purpose: Some("civil".into()), ..Default::default() },
        as_of: exportctl_core::dates::parse("2026-08-01").unwrap(),
        lines: vec![LineFacts { line_id: "1".into(), origin_country: "US".into(), manufacturer: String::new(), classifications }],
    };
    let cfg = EngineConfig::default();
    for (name, set) in [("empty", &empty), ("full", &set)] {
        for _ in 0..1000 { std::hint::black_box(decide(&policies, set, &s, &cfg)); }
        let t = Instant::now();
        let n = 20000;
        for _ in 0..n { std::hint::black_box(decide(&policies, set, &s, &cfg)); }
        println!("{name}: {:.1} us/decide", t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    let t = Instant::now();
    for _ in 0..20000 { std::hint::black_box(set.lists[0].screen(&["Example Buyer GmbH"], 0.85, 10)); }
    println!("screen one name: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / 20000.0);
    let t = Instant::now();
    for _ in 0..20000 { std::hint::black_box(policies.regimes["US-EAR"].party_index.screen(&["Example Buyer GmbH"], 0.85, 10)); }
    println!("pack index one name: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / 20000.0);
}
