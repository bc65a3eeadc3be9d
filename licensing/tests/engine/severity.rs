//! Severity and completeness.

use super::*;
use crate::us_chart::us_listed;
use crate::us_end_use::fab_supplies;

#[test]
fn line_outcome_is_the_most_severe_determination() {
    let d = ship("US", "CN", "2024-03-01")
        .item(valves(), "US")
        .item(euv_resist(), "US")
        .item(gpu(), "US")
        .end_user("Semiconducter Manufacturing Internationl (Tianjin) Corp")
        .decide();
    let outcomes: Vec<Outcome> = d.body.lines.iter().map(|l| l.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Indeterminate,
            Outcome::LicenseRequired,
            Outcome::LicenseRequired
        ]
    );
    assert_eq!(d.body.outcome, Outcome::LicenseRequired);
    // The near miss is kept next to the license requirements, not swallowed by them.
    for l in &d.body.lines {
        assert!(
            l.determinations
                .iter()
                .any(|x| x.outcome == Outcome::Indeterminate && x.rule_id == "el-smic-tianjin")
        );
    }
}

/// Items × export countries × origins × destinations × dates × end users: every
/// decision keeps the invariants (checked in `decide`).
#[test]
fn every_decision_is_complete_cited_and_explained() {
    let items = [
        euv_resist(),
        resist(193.0),
        resist(248.0),
        hydrogen_fluoride(99.0),
        fluorinated_polyimide(12.0),
        wet_chemical(),
        gallium_nitride(),
        euv_coater(),
        arf_immersion(1.4),
        arf_immersion(2.0),
        euv_scanner(),
        gpu(),
        hbm(3.0),
        dram("Micron Technology"),
        valves(),
        unspecified_etch(),
    ];
    let exports = ["US", "JP", "KR", "NL", "CN", "DE", "TW"];
    let destinations = [
        "CN", "KR", "JP", "US", "DE", "NL", "TW", "VN", "RU", "IR", "MO", "IN", "CA", "SG",
    ];
    let dates = [
        "2019-07-10",
        "2022-12-20",
        "2023-11-20",
        "2024-12-05",
        "2026-01-15",
    ];
    let users = [
        "Example Buyer Co.",
        "SMIC",
        "Semiconducter Manufacturing Internationl (Tianjin) Corp",
        "Samsung China Semiconductor Co., Ltd.",
        "YMTC",
    ];
    let mut n = 0usize;
    for (i, item) in items.iter().enumerate() {
        for export in exports {
            for origin in [export, "US"] {
                for (j, destination) in destinations.iter().enumerate() {
                    for (k, date) in dates.iter().enumerate() {
                        let mut s = ship(export, destination, date)
                            .item(item.clone(), origin)
                            .end_user(users[(i + j + k) % users.len()]);
                        s = match (i + j + k) % 4 {
                            0 => s.logic_fab(Some(14.0), Some("finfet")).owner(Some("CN")),
                            1 => s.dram_fab(17.0).owner(Some("KR")),
                            2 => s.ic_production(),
                            _ => s.purpose("military"),
                        };
                        s.decide();
                        n += 1;
                    }
                }
            }
        }
    }
    assert_eq!(
        n,
        items.len() * exports.len() * 2 * destinations.len() * dates.len()
    );
}

#[test]
fn a_regime_left_unclassified_is_indeterminate() {
    // A US-origin line classified in US-EAR only, exported from Japan.
    let d = ship("JP", "CN", "2024-01-10")
        .classified(us_listed("3C002.a.2", &["NS2", "AT1"]), "US")
        .decide();
    d.expect(JP, Indeterminate)
        .expect_missing(JP, "classification in JP-FEFTA")
        .expect(US, License(Unspecified));
}

#[test]
fn indeterminate_classification_is_cited() {
    let d = ship("JP", "CN", "2024-01-10")
        .item(unspecified_etch(), "JP")
        .decide();
    let det = d.must_rule(JP, "classification");
    assert!(det.citations.iter().any(|c| c.contains("METI")), "{det:?}");
    let unclassified = ship("JP", "CN", "2024-01-10")
        .classified(us_listed("3C002.a.2", &["NS2", "AT1"]), "US")
        .decide();
    let det = unclassified.must_rule(JP, "no-classification");
    assert!(!det.citations.is_empty(), "{det:?}");
}

#[test]
fn low_confidence_group_membership_is_reported() {
    // Germany's membership of Korea's region Ga is marked low confidence in kr-fta.toml.
    let kr = ship("KR", "DE", "2024-01-10")
        .item(resist(193.0), "KR")
        .holds(KR, "comprehensive")
        .decide();
    kr.expect(KR, Authorized("comprehensive"));
    assert!(kr.must_rule(KR, "kr-list").low_confidence, "{}", kr.dump());
    // Venezuela's membership of D:5 is marked low confidence in us-ear.toml.
    let us = fab_supplies("VE", "2024-01-10")
        .logic_fab(Some(7.0), Some("finfet"))
        .decide();
    assert!(
        us.must_rule(US, "us-744.23-2023").low_confidence,
        "{}",
        us.dump()
    );
}

#[test]
fn us_744_23_dram_with_one_of_cell_area_or_density_is_indeterminate() {
    let base = fab_supplies("CN", "2025-01-10").dram_fab(18.0);
    base.clone()
        .dram_cells(Some(0.0019), None)
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_use.fab_dram_density_gb_mm2");
    base.dram_cells(None, Some(0.288))
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_use.fab_dram_cell_area_um2");
}

#[test]
fn jp_special_general_bulk_does_not_authorize_everywhere() {
    for destination in ["KP", "IR"] {
        let d = ship("JP", destination, "2024-01-10")
            .item(euv_resist(), "JP")
            .decide();
        assert_ne!(d.outcome(JP), Outcome::Authorized, "{}", d.dump());
    }
}

#[test]
fn micron_advisory_matches_micron_only() {
    let d = ship("US", "CN", "2024-01-10")
        .item(dram("TDK-Micronas GmbH"), "US")
        .critical_infrastructure(Some(true))
        .decide();
    assert!(d.body.advisories.is_empty(), "{:?}", d.body.advisories);
}
