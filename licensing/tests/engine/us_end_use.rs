//! United States: §744.23 advanced-node fabs.

use super::*;

pub(crate) fn fab_supplies(destination: &str, as_of: &str) -> Ship {
    ship("US", destination, as_of)
        .item(wet_chemical(), "US")
        .owner(Some("CN"))
}

#[test]
fn us_744_23_china_from_2022_10_07() {
    let base = fab_supplies("CN", "2022-10-07").logic_fab(Some(16.0), Some("finfet"));
    dated(
        &base,
        US,
        &[
            ("2022-10-06", Clear),
            ("2022-10-07", License(Denial)),
            ("2022-10-08", License(Denial)),
            ("2023-11-16", License(Denial)),
            ("2023-11-17", License(Denial)),
        ],
    );
    assert_eq!(
        base.decide().must_rule(US, "us-744.23-2022").source,
        engine::Source::EndUse
    );
}

#[test]
fn us_744_23_macau_and_d5_from_2023_11_17() {
    // Macau is in scope from 2023-01-18 (88 FR 2821; date uncertain, so low confidence).
    let macau = fab_supplies("MO", "2023-01-18").logic_fab(Some(7.0), Some("finfet"));
    dated(
        &macau,
        US,
        &[
            ("2023-01-17", Clear),
            ("2023-01-18", License(Denial)),
            ("2023-11-16", License(Denial)),
        ],
    );
    // D:5 from 2023-11-17.
    let base = fab_supplies("VE", "2023-11-17").logic_fab(Some(7.0), Some("finfet"));
    dated(
        &base,
        US,
        &[
            ("2023-11-16", Clear),
            ("2023-11-17", License(Denial)),
            ("2023-11-18", License(Denial)),
        ],
    );
    // Vietnam is D:1 but not D:5; Taiwan is neither.
    let outside = fab_supplies("VN", "2024-03-01").logic_fab(Some(7.0), Some("finfet"));
    destined(&outside, US, &[("VN", Clear), ("TW", Clear), ("KR", Clear)]);
}

#[test]
fn us_744_23_dram_redefined_by_cell_area_or_density_from_2024_12_02() {
    let half_pitch = fab_supplies("CN", "2024-12-02").dram_fab(18.0);
    dated(
        &half_pitch,
        US,
        &[
            ("2024-12-01", License(Denial)),
            ("2024-12-02", Indeterminate),
            ("2024-12-03", Indeterminate),
        ],
    );
    half_pitch
        .decide()
        .expect_missing(US, "end_use.fab_dram_cell_area_um2")
        .expect_missing(US, "end_use.fab_dram_density_gb_mm2");
    for (area, density, want) in [
        (Some(0.0018), None, License(Denial)),
        (Some(0.0019), Some(0.288), Clear),
        (None, Some(0.289), License(Denial)),
        (Some(0.0019), Some(0.288), Clear),
        (Some(0.0025), Some(0.2), Clear),
        // Either test alone can make the fab advanced: one fact alone cannot clear it.
        (None, Some(0.288), Indeterminate),
        (Some(0.0025), None, Indeterminate),
    ] {
        half_pitch
            .clone()
            .dram_cells(area, density)
            .decide()
            .expect(US, want);
    }
    // Before the redefinition cell data does not decide; half-pitch does.
    half_pitch
        .clone()
        .on("2024-12-01")
        .dram_fab(18.1)
        .dram_cells(Some(0.0018), Some(0.3))
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_744_23_advanced_node_thresholds() {
    let base = fab_supplies("CN", "2023-03-01");
    let cases: &[(Ship, Want)] = &[
        (base.clone().logic_fab(Some(16.0), None), License(Denial)),
        (base.clone().logic_fab(Some(16.1), Some("planar")), Clear),
        (base.clone().logic_fab(Some(28.0), Some("planar")), Clear),
        (
            base.clone().logic_fab(Some(22.0), Some("finfet")),
            License(Denial),
        ),
        (
            base.clone().logic_fab(Some(28.0), Some("gaafet")),
            License(Denial),
        ),
        (
            base.clone().logic_fab(Some(12.0), Some("planar")),
            License(Denial),
        ),
        (base.clone().nand_fab(127), Clear),
        (base.clone().nand_fab(128), License(Denial)),
        (base.clone().dram_fab(18.0), License(Denial)),
        (base.clone().dram_fab(18.1), Clear),
    ];
    for (shipment, want) in cases {
        shipment.decide().expect(US, *want);
    }
}

#[test]
fn us_744_23_review_policy_by_owner_headquarters() {
    let base = fab_supplies("CN", "2024-03-01").nand_fab(232);
    for (owner, policy) in [
        (Some("CN"), Denial),
        (Some("US"), CaseByCase),
        (Some("KR"), CaseByCase),
        (Some("TW"), CaseByCase),
        (Some("JP"), CaseByCase),
        (Some("NL"), CaseByCase),
        (Some("SG"), CaseByCase),
        (Some("MY"), Unspecified),
        (None, Unspecified),
    ] {
        let d = base.clone().owner(owner).decide();
        d.expect(US, License(policy));
        if owner.is_none() {
            assert!(
                d.must_rule(US, "us-744.23-2023")
                    .explanation
                    .contains("end_use.fab_owner_headquarters"),
                "{}",
                d.dump()
            );
        }
    }
}

#[test]
fn us_744_23_needs_fab_facts_for_ic_production() {
    let d = fab_supplies("CN", "2023-03-01").ic_production().decide();
    d.expect(US, Indeterminate);
    for fact in [
        "end_use.fab_logic_node_nm",
        "end_use.fab_transistor_architecture",
        "end_use.fab_dram_half_pitch_nm",
        "end_use.fab_nand_layers",
    ] {
        d.expect_missing(US, fact);
    }
    // Fab facts without IC production, or IC production outside the scope: nothing.
    let mut not_production = fab_supplies("CN", "2023-03-01").logic_fab(Some(7.0), Some("finfet"));
    not_production.end_use.ic_production = Some(false);
    not_production.decide().expect(US, Clear);
    fab_supplies("DE", "2023-03-01")
        .ic_production()
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_744_23_planar_logic_fab_without_node_is_indeterminate() {
    // NOTES §1.4: 12 nm planar is advanced; the node decides a planar fab.
    fab_supplies("CN", "2023-03-01")
        .logic_fab(None, Some("planar"))
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_use.fab_logic_node_nm");
}

#[test]
fn us_744_23_logic_node_without_architecture_is_indeterminate() {
    // NOTES §1.4: a non-planar architecture alone makes a logic fab advanced.
    fab_supplies("CN", "2023-03-01")
        .logic_fab(Some(28.0), None)
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_use.fab_transistor_architecture");
}
