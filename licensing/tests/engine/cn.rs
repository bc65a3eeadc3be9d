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

fn with_number(mut spec: ProductSpec, name: &str, x: f64) -> ProductSpec {
    spec.parameters
        .push(exportctl_proto::classifier::Parameter {
            name: name.into(),
            value: Some(exportctl_proto::classifier::parameter::Value::Number(x)),
            unit: String::new(),
        });
    spec
}

fn antimony() -> ProductSpec {
    material("antimony_metal")
}

#[test]
fn cn_antimony_licensing_from_2024_09_15_to_japan_and_the_united_states() {
    for destination in ["JP", "US"] {
        let base = ship("CN", destination, "2024-09-15").item(antimony(), "CN");
        dated(
            &base,
            CN,
            &[
                ("2024-09-14", Clear),
                ("2024-09-15", License(Unspecified)),
                ("2024-09-16", License(Unspecified)),
            ],
        );
        base.decide().must_rule(CN, "cn-2024-33-licence");
    }
    // High-purity antimony oxide likewise; below 99.99 % it is not listed.
    let oxide = |purity| with_number(material("antimony_oxide"), "purity_percent", purity);
    ship("CN", "JP", "2024-10-01")
        .item(oxide(99.99), "CN")
        .decide()
        .expect(CN, License(Unspecified));
    ship("CN", "JP", "2024-10-01")
        .item(oxide(99.9), "CN")
        .decide()
        .expect(CN, Clear);
}

#[test]
fn cn_announcement_46_prohibits_antimony_to_the_united_states() {
    let base = ship("CN", "US", "2024-12-03").item(antimony(), "CN");
    dated(
        &base,
        CN,
        &[
            ("2024-12-02", License(Unspecified)),
            ("2024-12-03", Prohibited),
            ("2024-12-04", Prohibited),
            ("2025-11-08", Prohibited),
            ("2025-11-09", License(Unspecified)),
            ("2026-11-26", License(Unspecified)),
            ("2026-11-27", Prohibited),
        ],
    );
    base.decide().must_rule(CN, "cn-2024-46-us-prohibition");
    // Japan: licensed, never prohibited.
    destined(&base, CN, &[("JP", License(Unspecified))]);
}

#[test]
fn cn_indium_phosphide_to_korea_from_2025_02_04() {
    let base = ship("CN", "KR", "2025-02-04").item(material("indium_phosphide"), "CN");
    dated(
        &base,
        CN,
        &[
            ("2025-02-03", Clear),
            ("2025-02-04", License(Unspecified)),
            ("2025-02-05", License(Unspecified)),
        ],
    );
    let d = base.decide();
    d.must_rule(CN, "cn-2025-10-licence");
    // Announcement 46 names gallium, germanium, antimony and superhard materials, not indium.
    destined(&base, CN, &[("US", License(Unspecified))]);
    // Indium metal is not listed.
    ship("CN", "KR", "2025-06-01")
        .item(material("indium_metal"), "CN")
        .decide()
        .expect(CN, Clear);
}

#[test]
fn cn_bismuth_without_the_exporters_determination_is_indeterminate() {
    ship("CN", "JP", "2025-06-01")
        .item(material("bismuth"), "CN")
        .decide()
        .expect(CN, Indeterminate)
        .expect_missing(CN, "cn_2025_10_item");
}

#[test]
fn cn_rare_earths_licensing_from_2025_04_04() {
    let base = ship("CN", "JP", "2025-04-04").item(material("dysprosium"), "CN");
    dated(
        &base,
        CN,
        &[
            ("2025-04-03", Clear),
            ("2025-04-04", License(Unspecified)),
            ("2025-04-05", License(Unspecified)),
        ],
    );
    base.decide().must_rule(CN, "cn-2025-18-licence");
}

#[test]
fn cn_october_2025_measures_suspended_until_2026_11_10() {
    let base = ship("CN", "JP", "2026-11-10").item(material("holmium"), "CN");
    dated(
        &base,
        CN,
        &[
            ("2025-11-08", Clear),
            ("2026-11-09", Clear),
            ("2026-11-10", License(Unspecified)),
            ("2026-11-11", License(Unspecified)),
        ],
    );
    base.decide().must_rule(CN, "cn-2025-october-licence");
    // Synthetic diamond micropowder to the United States: licensed once the suspension ends,
    // prohibited (low confidence) once Announcement 46's suspension ends too.
    let diamond = with_number(material("synthetic_diamond"), "particle_size_um", 20.0);
    let us = ship("CN", "US", "2026-11-10").item(diamond, "CN");
    dated(
        &us,
        CN,
        &[
            ("2026-11-09", Clear),
            ("2026-11-10", License(Unspecified)),
            ("2026-11-26", License(Unspecified)),
            ("2026-11-27", Prohibited),
        ],
    );
}
