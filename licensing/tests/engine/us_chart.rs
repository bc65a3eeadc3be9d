//! United States: Commerce Country Chart.

use super::*;

#[test]
fn us_chart_euv_resist_ns2() {
    let base = ship("US", "CN", "2024-03-01").item(euv_resist(), "US");
    destined(
        &base,
        US,
        &[
            ("CN", License(Unspecified)),
            ("TW", License(Unspecified)),
            ("VN", License(Unspecified)),
            ("JP", Clear),
            ("DE", Clear),
            ("KR", Clear),
            ("CA", Clear),
        ],
    );
    let d = base.decide();
    let chart = d.must_rule(US, "chart:NS2");
    assert_eq!(chart.entry_ids, ["3C002.a.2"]);
    assert_eq!(chart.reasons, ["NS2"]);
    // NS2 for resists is [?] in the notes: the determination says it rests on it.
    assert!(chart.low_confidence);
    assert!(chart.explanation.contains("low-confidence"));
    assert!(chart.citations.iter().any(|c| c.contains("738")));
}

#[test]
fn us_chart_hydrogen_fluoride_cb2() {
    let base = ship("US", "CN", "2024-03-01").item(hydrogen_fluoride(49.0), "US");
    destined(
        &base,
        US,
        &[
            ("CN", License(Unspecified)),
            ("JP", Clear),
            ("KR", Clear),
            ("CA", Clear),
        ],
    );
    base.decide().must_rule(US, "chart:CB2");
    // 30 % exactly is not 1C350: EAR99.
    let thirty = base.clone().item(hydrogen_fluoride(30.0), "US").decide();
    assert_eq!(thirty.body.lines[1].outcome, Outcome::NoLicenseRequired);
}

#[test]
fn us_chart_destination_without_row_is_indeterminate() {
    // Hong Kong's own row before 2020-12-23 is not in the pack.
    let d = ship("US", "HK", "2019-06-01")
        .item(euv_resist(), "US")
        .decide();
    d.expect(US, Indeterminate)
        .expect_missing(US, "Commerce Country Chart cell HK/NS2")
        .expect_missing(US, "Commerce Country Chart cell HK/AT1");
    // An EAR99 item has no chart cell to know.
    ship("US", "HK", "2019-06-01")
        .item(valves(), "US")
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_chart_hong_kong_is_china_from_2020_12_23() {
    let base = ship("US", "HK", "2020-12-23").item(euv_resist(), "US");
    let d = base.clone().decide();
    d.expect(US, License(Unspecified));
    let ns2 = d.must_rule(US, "chart:NS2");
    assert!(
        ns2.explanation.contains("treated as CN"),
        "{}",
        ns2.explanation
    );
    assert!(ns2.citations.iter().any(|c| c.contains("85 FR 83788")));
    base.on("2020-12-22").decide().expect(US, Indeterminate);
}

#[test]
fn us_chart_every_destination_from_2026_07_23() {
    // NS2 (EUV resist, 3C002.a.2) is blank for India and marked for Brazil and Singapore's
    // neighbours; before 2026-07-23 the same blank rests on a low-confidence row.
    let india = ship("US", "IN", "2026-08-01").item(euv_resist(), "US");
    let d = india.clone().decide();
    d.expect(US, Clear);
    assert!(!d.must_rule(US, "none").low_confidence);
    let older = india.on("2024-03-01").decide();
    older.expect(US, Clear);
    let none = older.must_rule(US, "none");
    assert!(none.low_confidence);
    assert!(
        none.explanation.contains("low-confidence"),
        "{}",
        none.explanation
    );
    for dest in ["BR", "MY", "VN", "AE"] {
        ship("US", dest, "2026-08-01")
            .item(euv_resist(), "US")
            .decide()
            .expect(US, License(Unspecified))
            .must_rule(US, "chart:NS2");
    }
    for dest in ["MX", "TR", "AR", "IN", "JP", "CA"] {
        ship("US", dest, "2026-08-01")
            .item(euv_resist(), "US")
            .decide()
            .expect(US, Clear);
    }
}

/// A hand-made US-EAR classification (the classifier packs list no CB1 item).
pub(crate) fn us_listed(entry: &str, reasons: &[&str]) -> BTreeMap<String, RegimeClassification> {
    let class = RegimeClassification {
        matches: vec![MatchedEntry {
            id: entry.into(),
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            citations: vec![format!("15 CFR part 774 Supp. 1, ECCN {entry}")],
            low_confidence: false,
        }],
        ..Default::default()
    };
    BTreeMap::from([(US.to_string(), class)])
}

#[test]
fn us_chart_canada_cb1_is_uncertain() {
    let base = ship("US", "CA", "2024-03-01").classified(us_listed("1C351", &["CB1", "AT1"]), "US");
    let d = base.decide();
    d.expect(US, Indeterminate)
        .expect_missing(US, "Commerce Country Chart cell CA/CB1");
    assert!(
        d.must_rule(US, "chart-gap:CB1")
            .citations
            .iter()
            .any(|c| c.contains("Canada"))
    );
    destined(
        &base,
        US,
        &[("DE", License(Unspecified)), ("CN", License(Unspecified))],
    );
    // Canada's other cells are known blanks.
    assert!(d.rule(US, "chart-gap:AT1").is_none(), "{}", d.dump());
}
