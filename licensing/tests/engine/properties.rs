//! Properties.

use super::*;

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::NoLicenseRequired),
        Just(Outcome::Authorized),
        Just(Outcome::Indeterminate),
        Just(Outcome::LicenseRequired),
        Just(Outcome::Prohibited),
    ]
}

/// Shipments whose outcome changes over 2019-2026.
fn template(i: usize) -> Ship {
    let s = |e: &str, d: &str| ship(e, d, "2019-01-01");
    match i {
        0 => s("JP", "KR").item(euv_resist(), "JP"),
        1 => s("JP", "KR").item(wet_chemical(), "JP").purpose("military"),
        2 => s("JP", "CN").item(euv_coater(), "JP"),
        3 => s("JP", "DE").item(euv_coater(), "JP"),
        4 => s("KR", "JP").item(resist(193.0), "KR"),
        5 => s("US", "CN")
            .item(wet_chemical(), "US")
            .dram_fab(18.0)
            .owner(Some("CN")),
        6 => s("US", "MO").item(gpu(), "US"),
        7 => s("US", "VN").item(processor(1700.0, None, 6.0), "US"),
        8 => s("US", "CN").item(valves(), "US").end_user("SMIC"),
        9 => s("US", "CN").item(valves(), "US").end_user("YMTC"),
        10 => s("US", "CN")
            .item(tool_parts(), "US")
            .end_user("Samsung China Semiconductor Co., Ltd.")
            .nand_fab(176)
            .owner(Some("KR")),
        11 => s("US", "RU").item(valves(), "US"),
        12 => s("NL", "CN").item(arf_immersion(2.0), "NL"),
        13 => s("CN", "US").item(gallium_nitride(), "CN"),
        14 => s("US", "CN")
            .item(dram("Micron Technology"), "US")
            .critical_infrastructure(Some(true)),
        15 => s("JP", "CN").item(euv_resist(), "US"),
        _ => s("US", "CN")
            .item(hbm(3.0), "US")
            .item(arf_immersion(1.4), "US"),
    }
}

const TEMPLATES: usize = 17;

fn date_2019_2026() -> impl Strategy<Value = Date> {
    let first = day("2019-01-01");
    let days = (day("2026-12-31") - first).whole_days();
    (0..=days).prop_map(move |n| first + Duration::days(n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Adding a determination never lowers a line's outcome.
    #[test]
    fn severity_combination_is_monotone(
        outcomes in proptest::collection::vec(outcome(), 0..8),
        extra in outcome(),
    ) {
        let before = fold(outcomes.iter().copied());
        let after = fold(outcomes.iter().copied().chain([extra]));
        prop_assert!(after.severity() >= before.severity());
        prop_assert!(after.severity() >= extra.severity());
        prop_assert_eq!(after, before.max(extra));
        prop_assert_eq!(before.max(extra), extra.max(before));
        prop_assert_eq!(before.max(before), before);
        // Severity agrees with the declared order.
        prop_assert_eq!(before.severity().cmp(&extra.severity()), before.cmp(&extra));
    }

    /// On any date, no decision or line is NO_LICENSE_REQUIRED while one of its
    /// determinations is more severe, and the invariants hold.
    #[test]
    fn no_clear_decision_hides_a_more_severe_determination(
        i in 0..TEMPLATES,
        on in date_2019_2026(),
    ) {
        let d = template(i).on_date(on).decide();
        for l in &d.body.lines {
            let worst = fold(l.determinations.iter().map(|x| x.outcome));
            prop_assert_eq!(l.outcome, worst);
            if l.outcome == Outcome::NoLicenseRequired {
                prop_assert!(l.determinations.iter().all(|x| x.outcome == Outcome::NoLicenseRequired));
            }
            prop_assert!(d.body.outcome.severity() >= l.outcome.severity());
        }
    }

    /// Adding a line never lowers the decision's outcome, and leaves the other lines alone.
    #[test]
    fn adding_a_line_never_lowers_the_decision(
        i in 0..TEMPLATES,
        j in 0..TEMPLATES,
        on in date_2019_2026(),
    ) {
        let a = template(i).on_date(on);
        let (extra, origin) = template(j).lines[0].clone();
        let mut both = a.clone();
        both.lines.push((extra, origin));
        let alone = a.decide();
        let together = both.decide();
        prop_assert!(together.body.outcome.severity() >= alone.body.outcome.severity());
        prop_assert_eq!(&together.body.lines[..a.lines.len()], &alone.body.lines[..]);
    }
}
