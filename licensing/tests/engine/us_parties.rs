//! United States: Entity List, Unverified List, VEU.

use super::*;

#[test]
fn us_smic_entity_list_from_2020_12_18() {
    let base = ship("US", "CN", "2020-12-18")
        .item(valves(), "US")
        .end_user("SMIC");
    dated(
        &base,
        US,
        &[
            ("2020-12-17", Clear),
            ("2020-12-18", License(CaseByCase)),
            ("2020-12-19", License(CaseByCase)),
        ],
    );
    assert_eq!(
        base.decide().must_rule(US, "el-smic").source,
        engine::Source::EndUser
    );
    // Every affiliate by its full name, and the Hong Kong one wherever it ships to.
    for (name, rule) in [
        (
            "Semiconductor Manufacturing International (Shanghai) Corporation",
            "el-smic-shanghai",
        ),
        ("SMIC Holdings Corporation", "el-smic-holdings"),
        (
            "SMIC Northern Integrated Circuit Manufacturing (Beijing) Co., Ltd.",
            "el-smnc",
        ),
        ("SJ Semiconductor Corp.", "el-sj-semiconductor"),
        (
            "Ningbo Semiconductor International Corporation",
            "el-ningbo-semiconductor",
        ),
        (
            "SMIC Hong Kong International Company Limited",
            "el-smic-hong-kong",
        ),
    ] {
        let d = base.clone().end_user(name).on("2021-06-01").decide();
        d.expect(US, License(CaseByCase));
        d.must_rule(US, rule);
    }
    // EUV scanners are uniquely required for 10 nm and below: presumption of denial.
    let euv = ship("US", "CN", "2021-06-01")
        .item(euv_scanner(), "US")
        .end_user("SMIC");
    let d = euv.decide();
    d.expect(US, License(Denial));
    assert_eq!(d.must_rule(US, "el-smic").review_policy, Denial);
}

#[test]
fn us_ymtc_unverified_list_then_entity_list() {
    let base = ship("US", "CN", "2022-10-07")
        .item(valves(), "US")
        .end_user("Yangtze Memory Technologies Co., Ltd.");
    dated(
        &base,
        US,
        &[
            ("2022-10-06", Clear),
            ("2022-10-07", Indeterminate),
            ("2022-12-15", Indeterminate),
            ("2022-12-16", License(Denial)),
            ("2022-12-17", License(Denial)),
        ],
    );
    // The UVL listing creates no license requirement, but the shipment cannot
    // be cleared without the party's UVL statement.
    assert!(
        base.clone()
            .on("2022-10-06")
            .decide()
            .rule(US, "uvl-ymtc")
            .is_none()
    );
    let uvl = base.decide();
    let det = uvl.must_rule(US, "uvl-ymtc");
    assert_eq!(det.outcome, Outcome::Indeterminate);
    assert!(
        det.missing_facts
            .iter()
            .any(|m| m.contains("UVL statement"))
    );
    assert!(
        det.explanation.contains("unverified list"),
        "{}",
        det.explanation
    );
    base.clone()
        .end_user("YMTC")
        .on("2023-01-10")
        .decide()
        .must_rule(US, "el-ymtc");
}

#[test]
fn us_veu_samsung_and_sk_hynix_until_2025_12_31() {
    let samsung = ship("US", "CN", "2024-06-01")
        .item(tool_parts(), "US")
        .end_user("Samsung China Semiconductor Co., Ltd.")
        .nand_fab(176)
        .owner(Some("KR"))
        .holds(US, "veu");
    dated(
        &samsung,
        US,
        &[
            ("2023-10-16", License(CaseByCase)),
            ("2023-10-17", Authorized("veu")),
            ("2025-12-30", Authorized("veu")),
            ("2025-12-31", License(CaseByCase)),
            ("2026-01-01", License(CaseByCase)),
        ],
    );
    // SK hynix Wuxi: DRAM by half-pitch, then (from 2024-12-02) by density.
    let hynix = ship("US", "CN", "2024-06-01")
        .item(tool_parts(), "US")
        .end_user("SK hynix Semiconductor (China) Ltd.")
        .dram_fab(16.0)
        .dram_cells(None, Some(0.3))
        .owner(Some("KR"))
        .holds(US, "veu");
    dated(
        &hynix,
        US,
        &[
            ("2024-06-01", Authorized("veu")),
            ("2025-12-30", Authorized("veu")),
            ("2025-12-31", License(CaseByCase)),
        ],
    );
    // The VEU belongs to its holder only.
    samsung
        .clone()
        .end_user("Example Memory Co.")
        .decide()
        .expect(US, License(CaseByCase));
    // It also covers a listed item's chart requirement to its holder.
    samsung
        .clone()
        .item(euv_resist(), "US")
        .decide()
        .body
        .lines
        .iter()
        .for_each(|l| assert_eq!(l.outcome, Outcome::Authorized, "{l:?}"));
}

#[test]
fn us_party_screening_exact_near_miss_and_unrelated() {
    let base = ship("US", "CN", "2023-03-01").item(valves(), "US");
    // Exact alias, in any letter case, given as the name or as an alias.
    base.clone()
        .end_user("SMIC")
        .decide()
        .expect(US, License(CaseByCase));
    base.clone()
        .end_user("smic tianjin")
        .decide()
        .must_rule(US, "el-smic-tianjin");
    base.clone()
        .end_user("Example Trading Co.")
        .alias("SMIC Beijing")
        .decide()
        .must_rule(US, "el-smic-beijing");
    // A typo of an affiliate's name: a person must look.
    let near = base
        .clone()
        .end_user("Semiconducter Manufacturing Internationl (Tianjin) Corp")
        .decide();
    near.expect(US, Indeterminate).expect_missing(
        US,
        "confirm it is not Semiconductor Manufacturing International (Tianjin) Corporation",
    );
    let det = near.must_rule(US, "el-smic-tianjin");
    assert_eq!(det.source, engine::Source::EndUser);
    assert!(
        det.explanation
            .contains("Semiconductor Manufacturing International (Tianjin) Corporation")
    );
    // A stranger: no end-user determination at all.
    for stranger in [
        "Example Foundry (Shanghai) Co.",
        "Samsung China Semiconductor Co., Ltd.",
    ] {
        let d = base.clone().end_user(stranger).decide();
        d.expect(US, Clear);
        assert!(
            d.dets(US)
                .iter()
                .all(|x| x.source != engine::Source::EndUser),
            "{}",
            d.dump()
        );
    }
    // A party not yet listed is not screened against.
    base.clone()
        .on("2020-12-17")
        .end_user("Semiconducter Manufacturing Internationl (Tianjin) Corp")
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_party_match_threshold_is_configurable() {
    let base = ship("US", "CN", "2023-03-01").item(valves(), "US");
    let typo = base
        .clone()
        .end_user("Semiconducter Manufacturing Internationl (Tianjin) Corp");
    let strict = EngineConfig {
        party_match_threshold: 0.995,
        ..Default::default()
    };
    typo.decide_with(&strict).expect(US, Clear);
    typo.decide().expect(US, Indeterminate);
    // Abbreviations are the same name: an exact hit at any threshold.
    base.clone()
        .end_user("Ningbo Semiconductor Intl Corp")
        .decide()
        .expect(US, License(CaseByCase));
    let loose_name = base.clone().end_user("Ningbo Semiconductor Materials");
    loose_name.decide().expect(US, Clear);
    let loose = EngineConfig {
        party_match_threshold: 0.5,
        ..Default::default()
    };
    let d = loose_name.decide_with(&loose);
    d.expect(US, Indeterminate);
    d.must_rule(US, "el-ningbo-semiconductor");
    // An exact match does not depend on the threshold.
    let exact = base.clone().end_user("NSI");
    for t in [0.0, 0.5, 1.0] {
        exact
            .decide_with(&EngineConfig {
                party_match_threshold: t,
                ..Default::default()
            })
            .expect(US, License(CaseByCase));
    }
}
