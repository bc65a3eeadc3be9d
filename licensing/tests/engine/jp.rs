//! Japan (FEFTA).

use super::*;

#[test]
fn jp_korea_leaves_group_a_on_2019_08_28() {
    // Catch-all (unlisted item, military end use) applies only outside Group A.
    let base = ship("JP", "KR", "2019-08-28")
        .item(wet_chemical(), "JP")
        .purpose("military");
    dated(
        &base,
        JP,
        &[
            ("2019-08-27", Clear),
            ("2019-08-28", License(Unspecified)),
            ("2019-08-29", License(Unspecified)),
        ],
    );
    base.decide().must_rule(JP, "jp-catch-all");
    // A civil end use is never caught.
    base.purpose("civil").decide().expect(JP, Clear);
}

#[test]
fn jp_korea_back_in_group_a_on_2023_07_21() {
    let catch_all = ship("JP", "KR", "2023-07-21")
        .item(wet_chemical(), "JP")
        .purpose("military");
    dated(
        &catch_all,
        JP,
        &[
            ("2023-07-20", License(Unspecified)),
            ("2023-07-21", Clear),
            ("2023-07-22", Clear),
        ],
    );
    // A listed item: special general bulk outside Group A, general bulk inside.
    let resist = ship("JP", "KR", "2023-07-21")
        .item(euv_resist(), "JP")
        .holds(JP, "general_bulk")
        .holds(JP, "special_general_bulk");
    dated(
        &resist,
        JP,
        &[
            ("2023-07-20", Authorized("special_general_bulk")),
            ("2023-07-21", Authorized("general_bulk")),
            ("2023-07-22", Authorized("general_bulk")),
        ],
    );
    // The special general bulk license rests on a low-confidence fact and says so.
    let special = resist.on("2023-07-20").decide();
    assert!(special.must_rule(JP, "jp-list").low_confidence);
}

#[test]
fn jp_korea_measure_individual_license_2019_07_04_to_2023_03_22() {
    for item in [
        euv_resist(),
        resist(193.0),
        hydrogen_fluoride(99.999),
        fluorinated_polyimide(12.0),
    ] {
        let base = ship("JP", "KR", "2019-07-04")
            .item(item, "JP")
            .holds(JP, "general_bulk")
            .holds(JP, "special_general_bulk");
        dated(
            &base,
            JP,
            &[
                ("2019-07-03", Authorized("general_bulk")),
                ("2019-07-04", License(Unspecified)),
                ("2019-07-05", License(Unspecified)),
                ("2020-06-01", License(Unspecified)),
                ("2023-03-22", License(Unspecified)),
                ("2023-03-23", Authorized("special_general_bulk")),
                ("2023-03-24", Authorized("special_general_bulk")),
            ],
        );
    }
    // The measure concerned Korea only.
    let elsewhere = ship("JP", "TW", "2020-06-01")
        .item(euv_resist(), "JP")
        .holds(JP, "general_bulk")
        .holds(JP, "special_general_bulk");
    destined(
        &elsewhere,
        JP,
        &[
            ("TW", Authorized("special_general_bulk")),
            ("US", Authorized("general_bulk")),
            ("DE", Authorized("general_bulk")),
        ],
    );
}

#[test]
fn jp_list_thresholds_hydrogen_fluoride_and_polyimide() {
    // During the Korea measure a listed item needs an individual license; an unlisted one nothing.
    let base = ship("JP", "KR", "2020-06-01");
    for (item, want) in [
        (hydrogen_fluoride(30.0), Clear),
        (hydrogen_fluoride(30.1), License(Unspecified)),
        (fluorinated_polyimide(9.9), Clear),
        (fluorinated_polyimide(10.0), License(Unspecified)),
        (resist(248.0), Clear),
    ] {
        base.clone().item(item, "JP").decide().expect(JP, want);
    }
}

#[test]
fn jp_sme_items_from_2023_07_23_friendly_destinations() {
    for friendly in ["KR", "US", "TW", "SG", "NL", "IN", "LT"] {
        let base = ship("JP", friendly, "2023-07-23")
            .item(euv_coater(), "JP")
            .holds(JP, "general_bulk");
        dated(
            &base,
            JP,
            &[
                ("2023-07-22", Clear),
                ("2023-07-23", Authorized("general_bulk")),
                ("2023-07-24", Authorized("general_bulk")),
            ],
        );
        // Named by a source: the authorization rests on no low-confidence fact (the SME entry
        // itself is low confidence, so the determination is flagged anyway).
        let d = base.decide();
        assert!(
            !d.must_rule(JP, "jp-list")
                .explanation
                .ends_with("low-confidence)"),
            "{friendly}: {}",
            d.dump()
        );
    }
    // Russia is excluded too, but banned outright since 2022-03-18 (jp-russia-ban-2022).
    ship("JP", "RU", "2023-07-23")
        .item(euv_coater(), "JP")
        .holds(JP, "general_bulk")
        .decide()
        .expect(JP, Prohibited);
    let china = ship("JP", "CN", "2023-07-23")
        .item(euv_coater(), "JP")
        .holds(JP, "general_bulk");
    dated(
        &china,
        JP,
        &[
            ("2023-07-22", Clear),
            ("2023-07-23", License(Unspecified)),
            ("2023-07-24", License(Unspecified)),
        ],
    );
    // Neither among the cited friendly destinations nor excluded: the list of 42 is incomplete.
    let vietnam = ship("JP", "VN", "2023-07-23")
        .item(euv_coater(), "JP")
        .holds(JP, "general_bulk");
    dated(
        &vietnam,
        JP,
        &[("2023-07-22", Clear), ("2023-07-23", Indeterminate)],
    );
    vietnam
        .decide()
        .expect_missing(JP, "eligibility of VN for general_bulk");
    // The same for another SME item (ArF immersion scanner), and never for a military end use.
    let scanner = ship("JP", "SG", "2024-01-10")
        .item(arf_immersion(1.4), "JP")
        .holds(JP, "general_bulk");
    destined(
        &scanner,
        JP,
        &[
            ("SG", Authorized("general_bulk")),
            ("CN", License(Unspecified)),
            ("VN", Indeterminate),
            ("MX", Indeterminate),
        ],
    );
    scanner
        .purpose("military")
        .decide()
        .expect(JP, License(Unspecified));
}

#[test]
fn jp_arf_scanner_to_group_a_destination_is_general_bulk() {
    // Germany is Group A: among the friendly destinations, at the confidence of that link.
    let germany = ship("JP", "DE", "2023-07-23")
        .item(arf_immersion(1.4), "JP")
        .holds(JP, "general_bulk");
    dated(
        &germany,
        JP,
        &[
            ("2023-07-22", Clear),
            ("2023-07-23", Authorized("general_bulk")),
            ("2025-06-01", Authorized("general_bulk")),
        ],
    );
    let d = germany.decide();
    let det = d.must_rule(JP, "jp-list");
    assert!(det.low_confidence, "{}", d.dump());
    assert!(
        det.explanation.ends_with("low-confidence)"),
        "{}",
        det.explanation
    );
    assert!(det.entry_ids.iter().any(|e| e.contains("arf_immersion")));
    // Every Group A member other than the cited ones likewise.
    destined(
        &germany,
        JP,
        &[
            ("FR", Authorized("general_bulk")),
            ("GB", Authorized("general_bulk")),
            ("AR", Authorized("general_bulk")),
            ("CH", Authorized("general_bulk")),
        ],
    );
    // A listed non-SME item to Germany is covered by the Group A general bulk license as before.
    ship("JP", "DE", "2023-07-23")
        .item(euv_resist(), "JP")
        .holds(JP, "general_bulk")
        .decide()
        .expect(JP, Authorized("general_bulk"));
}

#[test]
fn jp_group_a_catch_all_exempts_every_member() {
    // Unlisted item, military end use: catch-all everywhere outside Group A.
    let base = ship("JP", "DE", "2024-01-10")
        .item(wet_chemical(), "JP")
        .purpose("military");
    destined(
        &base,
        JP,
        &[
            ("AR", Clear),
            ("BG", Clear),
            ("GB", Clear),
            ("US", Clear),
            ("KR", Clear),
            ("TW", License(Unspecified)),
            ("SG", License(Unspecified)),
            ("IN", License(Unspecified)),
            ("CN", License(Unspecified)),
        ],
    );
    base.clone().to("TW").decide().must_rule(JP, "jp-catch-all");
}

#[test]
fn jp_sme_item_without_its_facts_is_indeterminate() {
    let d = ship("JP", "CN", "2024-01-10")
        .item(unspecified_etch(), "JP")
        .decide();
    d.expect(JP, Indeterminate)
        .expect_missing(JP, "spec.high_aspect_ratio")
        .expect_missing(JP, "spec.isotropic");
    // Before the ordinance there is nothing to be undetermined about.
    ship("JP", "CN", "2023-07-22")
        .item(unspecified_etch(), "JP")
        .decide()
        .expect(JP, Clear);
}
