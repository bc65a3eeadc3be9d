//! China.

use super::*;

#[test]
fn cn_gallium_licensing_from_2023_08_01() {
    let base = ship("CN", "JP", "2023-08-01").item(gallium_nitride(), "CN");
    dated(
        &base,
        CN,
        &[
            ("2023-07-31", Clear),
            ("2023-08-01", License(Unspecified)),
            ("2023-08-02", License(Unspecified)),
        ],
    );
    ship("CN", "JP", "2024-01-10")
        .item(material("germanium_dioxide"), "CN")
        .decide()
        .expect(CN, License(Unspecified));
}

#[test]
fn cn_announcement_46_to_the_united_states() {
    let base = ship("CN", "US", "2024-12-03").item(gallium_nitride(), "CN");
    dated(
        &base,
        CN,
        &[
            ("2024-12-02", License(Unspecified)),
            ("2024-12-03", Prohibited),
            ("2024-12-04", Prohibited),
            ("2025-11-08", Prohibited),
            ("2025-11-09", License(Unspecified)),
            ("2025-11-10", License(Unspecified)),
            ("2026-11-26", License(Unspecified)),
            ("2026-11-27", Prohibited),
            ("2026-11-28", Prohibited),
        ],
    );
    // The prohibition adds to the licensing requirement; the line is PROHIBITED.
    let d = base.decide();
    d.must_rule(CN, "cn-2023-23-licence");
    assert_eq!(d.line().outcome, Outcome::Prohibited);
    // Other destinations are licensed, not prohibited.
    destined(
        &base,
        CN,
        &[("JP", License(Unspecified)), ("DE", License(Unspecified))],
    );
}

#[test]
fn cn_micron_advisory_only_for_cii_buyers_and_never_changes_the_outcome() {
    let base = ship("US", "CN", "2023-05-21")
        .item(dram("Micron Technology, Inc."), "US")
        .critical_infrastructure(Some(true));
    let codes = |s: &Ship| -> Vec<String> {
        s.decide()
            .body
            .advisories
            .iter()
            .map(|a| a.code.clone())
            .collect()
    };
    assert!(codes(&base.clone().on("2023-05-20")).is_empty());
    for date in ["2023-05-21", "2023-05-22", "2026-01-01"] {
        assert_eq!(codes(&base.clone().on(date)), ["CN-CAC-MICRON"]);
    }
    let with = base.decide();
    assert_eq!(with.body.advisories[0].line_ids, ["L1"]);
    assert!(!with.body.advisories[0].citations.is_empty());
    for not_cii in [Some(false), None] {
        let s = base.clone().critical_infrastructure(not_cii);
        assert!(codes(&s).is_empty());
        assert_eq!(s.decide().body.lines, with.body.lines);
        assert_eq!(s.decide().body.outcome, with.body.outcome);
    }
    with.expect(US, Clear);
    assert!(codes(&base.clone().to("JP")).is_empty());
    let other_maker = ship("US", "CN", "2023-06-01")
        .item(dram("Samsung Electronics"), "US")
        .critical_infrastructure(Some(true));
    assert!(codes(&other_maker).is_empty());
    // Only the Micron line of a mixed shipment.
    let mixed = other_maker.item(dram("Micron Technology"), "US").decide();
    assert_eq!(mixed.body.advisories[0].line_ids, ["L2"]);
    // Whatever else the decision says, the advisory does not move it.
    let licensed = base.clone().item(euv_resist(), "US").decide();
    assert_eq!(licensed.body.outcome, Outcome::LicenseRequired);
    assert_eq!(licensed.body.advisories.len(), 1);
}
