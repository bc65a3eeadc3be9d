//! United States: end-use and end-user rules of part 744 beyond §744.23 — the
//! nuclear, missile and chemical/biological weapons end uses (§744.2-744.4),
//! the military end-use / end-user rule (§744.21), and the headquarters rule
//! for advanced-computing items (88 FR 73458, §742.6(a)(6)(iii)).

use super::*;

/// KrF photoresist (248 nm): 3C992, an ECCN of Supp. 2 to part 744.
fn krf_resist() -> ProductSpec {
    resist(248.0)
}

fn no_purpose(mut s: Ship) -> Ship {
    s.end_use.purpose = None;
    s
}

// ---------------------------------------------------------------------------
// §744.2-744.4: weapons of mass destruction end uses
// ---------------------------------------------------------------------------

#[test]
fn us_wmd_end_uses_need_a_license_for_ear99_to_every_destination() {
    let cases = [
        ("nuclear", &["us-744.2-nuclear"][..]),
        ("missile", &["us-744.3-missile"][..]),
        ("chemical_biological", &["us-744.4-chemical-biological"][..]),
        (
            "wmd",
            &[
                "us-744.2-nuclear",
                "us-744.3-missile",
                "us-744.4-chemical-biological",
            ][..],
        ),
    ];
    for (purpose, rules) in cases {
        // A:1 and A:5 destinations as much as D:5 ones: the sections name no destination.
        for destination in ["JP", "DE", "CA", "CN", "VN"] {
            let d = ship("US", destination, "2024-03-01")
                .item(wet_chemical(), "US")
                .purpose(purpose)
                .decide();
            d.expect(US, License(Unspecified));
            for rule in rules {
                let det = d.must_rule(US, rule);
                assert_eq!(det.source, engine::Source::EndUse);
                assert!(
                    det.low_confidence,
                    "{rule}: the scope is background knowledge"
                );
                assert!(det.explanation.contains("EAR99"), "{}", det.explanation);
            }
        }
    }
}

#[test]
fn us_wmd_end_use_is_never_cleared_for_listed_items_or_old_dates() {
    // A listed item to an A:5 destination with no other requirement, on the pack's first day.
    let base = ship("US", "JP", "2019-01-01")
        .item(krf_resist(), "US")
        .purpose("nuclear");
    base.decide().expect(US, License(Unspecified));
    base.decide().must_rule(US, "us-744.2-nuclear");
    // The same item for a civil end use, or with no end use stated, is clear.
    base.clone().purpose("civil").decide().expect(US, Clear);
    no_purpose(base.clone()).decide().expect(US, Clear);
    // A shipment within the United States is no export.
    base.clone().to("US").decide().expect(US, Clear);
}

#[test]
fn us_wmd_purposes_keep_the_foreign_catch_all_and_bulk_licenses_apart() {
    // Japan's catch-all (unlisted item, non-Group-A destination) treats each WMD purpose as of concern.
    for purpose in ["nuclear", "missile", "chemical_biological"] {
        ship("JP", "VN", "2024-03-01")
            .item(wet_chemical(), "JP")
            .purpose(purpose)
            .decide()
            .expect(JP, License(Unspecified))
            .must_rule(JP, "jp-catch-all");
    }
    // ... and no general bulk license covers a listed item for such a purpose.
    ship("JP", "DE", "2024-03-01")
        .item(euv_resist(), "JP")
        .purpose("nuclear")
        .decide()
        .expect(JP, License(Unspecified));
    ship("JP", "DE", "2024-03-01")
        .item(euv_resist(), "JP")
        .holds(JP, "general_bulk")
        .decide()
        .expect(JP, Authorized("general_bulk"));
    // Korea's comprehensive license likewise.
    let kr = ship("KR", "DE", "2024-03-01")
        .item(euv_resist(), "KR")
        .holds(KR, "comprehensive");
    kr.decide().expect(KR, Authorized("comprehensive"));
    kr.clone()
        .purpose("missile")
        .decide()
        .expect(KR, License(Unspecified));
}

// ---------------------------------------------------------------------------
// §744.21: military end use and military end users
// ---------------------------------------------------------------------------

#[test]
fn us_744_21_china_and_venezuela_from_2020_06_29() {
    for destination in ["CN", "VE"] {
        let base = ship("US", destination, "2020-06-29")
            .item(krf_resist(), "US")
            .purpose("military");
        dated(
            &base,
            US,
            &[
                // The earlier Supp. 2 list is not in the pack: a person must check.
                ("2020-06-28", Indeterminate),
                ("2020-06-29", License(Denial)),
                ("2020-06-30", License(Denial)),
            ],
        );
        let d = base.decide();
        let det = d.must_rule(US, "us-744.21-china-venezuela");
        assert_eq!(det.entry_ids, ["3C992"]);
        assert!(det.low_confidence);
        base.clone()
            .on("2020-06-28")
            .decide()
            .expect_missing(US, "review under us-744.21-before-2020");
        // Not for a civil end use, nor with no end use stated.
        base.clone().purpose("civil").decide().expect(US, Clear);
        no_purpose(base.clone()).decide().expect(US, Clear);
    }
    // EAR99 is not in Supp. 2: a military end use in China needs no license under §744.21.
    ship("US", "CN", "2024-03-01")
        .item(wet_chemical(), "US")
        .purpose("military")
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_744_21_russia_supp_2_then_every_item_from_2022_02_24() {
    let listed = ship("US", "RU", "2020-06-29")
        .item(krf_resist(), "US")
        .purpose("military");
    dated(
        &listed,
        US,
        &[
            ("2020-06-28", Indeterminate),
            ("2020-06-29", License(Denial)),
            ("2022-02-23", License(Denial)),
        ],
    );
    listed.decide().must_rule(US, "us-744.21-russia-2020");
    let ear99 = ship("US", "RU", "2022-02-24")
        .item(wet_chemical(), "US")
        .purpose("military");
    dated(
        &ear99,
        US,
        &[
            ("2022-02-23", Clear),
            ("2022-02-24", License(Denial)),
            ("2022-02-25", License(Denial)),
        ],
    );
    ear99.decide().must_rule(US, "us-744.21-russia-2022");
    // A civil EAR99 shipment to Russia is only the part 746 question.
    ear99
        .clone()
        .purpose("civil")
        .decide()
        .expect(US, Indeterminate);
}

#[test]
fn us_744_21_belarus_every_item_from_2022_03_02() {
    let base = ship("US", "BY", "2022-03-02")
        .item(wet_chemical(), "US")
        .purpose("military");
    dated(
        &base,
        US,
        &[
            ("2022-03-01", Clear),
            ("2022-03-02", License(Denial)),
            ("2022-03-03", License(Denial)),
        ],
    );
    base.decide().must_rule(US, "us-744.21-belarus-2022");
    // A civil end use leaves only part 746's review of EAR99 items to Belarus.
    base.clone()
        .purpose("civil")
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "review under us-746-belarus-unlisted");
}

#[test]
fn us_744_21_burma_cambodia_nicaragua() {
    for (destination, from, before, rule) in [
        ("MM", "2021-03-08", "2021-03-07", "us-744.21-burma-2021"),
        ("KH", "2021-12-09", "2021-12-08", "us-744.21-cambodia-2021"),
        ("NI", "2024-03-15", "2024-03-14", "us-744.21-nicaragua-2024"),
    ] {
        let base = ship("US", destination, from)
            .item(krf_resist(), "US")
            .purpose("military");
        dated(&base, US, &[(before, Clear), (from, License(Denial))]);
        base.decide().must_rule(US, rule);
        base.clone().purpose("civil").decide().expect(US, Clear);
    }
    // Cambodia after the 2026 conforming change: kept, at low confidence.
    let d = ship("US", "KH", "2026-02-03")
        .item(krf_resist(), "US")
        .purpose("military")
        .decide();
    d.expect(US, License(Denial));
    assert!(d.must_rule(US, "us-744.21-cambodia-2026").low_confidence);
}

#[test]
fn us_744_21_names_only_its_destinations() {
    let base = ship("US", "VN", "2024-06-01")
        .item(krf_resist(), "US")
        .purpose("military");
    destined(
        &base,
        US,
        &[
            ("VN", Clear),
            ("IN", Clear),
            ("DE", Clear),
            ("CN", License(Denial)),
            ("NI", License(Denial)),
        ],
    );
}

// ---------------------------------------------------------------------------
// Headquarters rule: advanced-computing items, parties headquartered in Macau or D:5
// ---------------------------------------------------------------------------

/// A 3A090.a GPU to a Japanese subsidiary, where the chart and the RS scopes need no license.
fn gpu_to_japan(as_of: &str) -> Ship {
    ship("US", "JP", as_of).item(gpu(), "US")
}

#[test]
fn us_hq_rule_from_2023_11_17() {
    let base = gpu_to_japan("2023-11-17").headquarters(Some("JP"), Some("CN"));
    dated(
        &base,
        US,
        &[
            ("2023-11-16", Clear),
            ("2023-11-17", License(Unspecified)),
            ("2023-11-18", License(Unspecified)),
        ],
    );
    let d = base.decide();
    let det = d.must_rule(US, "us-hq-advanced-computing");
    assert_eq!(det.entry_ids, ["3A090.a"]);
    assert_eq!(det.source, engine::Source::EndUser);
    assert!(
        det.explanation
            .contains("ultimate parent headquartered in CN")
    );
    // Before the rule no headquarters facts are asked for.
    gpu_to_japan("2023-11-16").decide().expect(US, Clear);
}

#[test]
fn us_hq_rule_d5_or_macau_versus_a5_and_d1() {
    let on = "2024-03-01";
    for (hq, parent, want) in [
        ("CN", "CN", License(Unspecified)),
        ("MO", "MO", License(Unspecified)),
        // Hong Kong is China for the EAR from 2020-12-23.
        ("HK", "JP", License(Unspecified)),
        ("JP", "RU", License(Unspecified)),
        ("JP", "JP", Clear),
        ("DE", "US", Clear),
        // Vietnam is D:1, not D:5.
        ("VN", "VN", Clear),
    ] {
        gpu_to_japan(on)
            .headquarters(Some(hq), Some(parent))
            .decide()
            .expect(US, want);
    }
    // 3A090.b likewise.
    ship("US", "JP", on)
        .item(processor(2500.0, None, 2.0), "US")
        .headquarters(Some("CN"), Some("CN"))
        .decide()
        .expect(US, License(Unspecified))
        .must_rule(US, "us-hq-advanced-computing");
}

#[test]
fn us_hq_rule_missing_headquarters_is_indeterminate() {
    let on = "2024-03-01";
    gpu_to_japan(on)
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_user.headquarters_country")
        .expect_missing(US, "end_user.ultimate_parent_country");
    let d = gpu_to_japan(on).headquarters(Some("JP"), None).decide();
    d.expect(US, Indeterminate);
    assert_eq!(d.missing(US), ["end_user.ultimate_parent_country"]);
    // A stated D:5 headquarters decides it without the parent.
    gpu_to_japan(on)
        .headquarters(Some("CN"), None)
        .decide()
        .expect(US, License(Unspecified));
    // An item the rule does not name asks for nothing.
    ship("US", "JP", on)
        .item(wet_chemical(), "US")
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_hq_rule_clearance_says_headquarters_were_checked() {
    let d = gpu_to_japan("2024-03-01")
        .headquarters(Some("JP"), Some("US"))
        .decide();
    d.expect(US, Clear);
    let none = d.must_rule(US, "none");
    assert!(
        none.explanation
            .contains("Headquarters checked (us-hq-advanced-computing)"),
        "{}",
        none.explanation
    );
    // An item outside the rule says nothing about headquarters.
    let other = ship("US", "JP", "2024-03-01")
        .item(wet_chemical(), "US")
        .headquarters(Some("JP"), Some("US"))
        .decide();
    assert!(
        !other
            .must_rule(US, "none")
            .explanation
            .contains("Headquarters")
    );
}

#[test]
fn us_hq_rule_checks_consignees_not_forwarders() {
    let on = "2024-03-01";
    let base = gpu_to_japan(on).headquarters(Some("JP"), Some("JP"));
    let d = base
        .clone()
        .party_in("consignee", "Example Logistics KK", Some("JP"), Some("CN"))
        .decide();
    d.expect(US, License(Unspecified));
    assert!(
        d.must_rule(US, "us-hq-advanced-computing")
            .explanation
            .contains("parties[0]")
    );
    base.clone()
        .party_in("consignee", "Example Logistics KK", None, Some("JP"))
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "parties[0].headquarters_country");
    base.clone()
        .party_in("forwarder", "Example Forwarding KK", Some("CN"), Some("CN"))
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_hq_rule_z_paragraphs_are_low_confidence() {
    let d = ship("US", "JP", "2024-03-01")
        .classified(us_chart::us_listed("5A992.z", &["AT1"]), "US")
        .headquarters(Some("CN"), Some("CN"))
        .decide();
    d.expect(US, License(Unspecified));
    assert!(d.must_rule(US, "us-hq-advanced-computing-z").low_confidence);
}
