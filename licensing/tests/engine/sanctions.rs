//! Sanctions overlays (issue #14 item 1): the EU's Regulations 833/2014
//! (Russia) and 765/2006 (Belarus), Japan's and Korea's 2022 bans on Russia
//! and Belarus, and the occupied regions of Ukraine (EU and 15 CFR 746.6),
//! each at its date boundary; a ban is PROHIBITED whatever the exporter
//! holds, and a region is not the rest of its country.

use super::*;

/// Every authorization code of every regime, held.
fn holding_everything(mut s: Ship) -> Ship {
    for (regime, p) in &POLICIES.regimes {
        for code in p.authorization_codes() {
            s = s.holds(regime, code);
        }
    }
    s
}

#[track_caller]
fn never_authorized(d: &Decided, regime: &str) {
    for det in d.dets(regime) {
        assert_ne!(
            det.outcome,
            Outcome::Authorized,
            "{}\n{}",
            d.label,
            d.dump()
        );
    }
}

// --- Japan ---

#[test]
fn jp_hydrogen_fluoride_to_russia_bulk_until_2022_03_05_banned_from_2022_03_18() {
    let base = ship("JP", "RU", "2022-03-18")
        .item(hydrogen_fluoride(99.9), "JP")
        .holds(JP, "special_general_bulk");
    dated(
        &base,
        JP,
        &[
            ("2022-03-04", Authorized("special_general_bulk")),
            // Bulk licenses no longer usable for Russia (jp-russia-individual-2022).
            ("2022-03-05", License(Unspecified)),
            ("2022-03-17", License(Unspecified)),
            // The ban (jp-russia-ban-2022).
            ("2022-03-18", Prohibited),
            ("2022-03-19", Prohibited),
            ("2022-06-01", Prohibited),
            ("2025-01-10", Prohibited),
        ],
    );
    let restricted = base.clone().on("2022-03-10").decide();
    assert!(
        restricted
            .must_rule(JP, "jp-list")
            .explanation
            .contains("jp-russia-individual-2022"),
        "{}",
        restricted.dump()
    );
    let banned = base.clone().on("2022-06-01").decide();
    banned.must_rule(JP, "jp-russia-ban-2022");
    // The list requirement stands beside the ban, unauthorized, and says why.
    let list = banned.must_rule(JP, "jp-list");
    assert_eq!(list.outcome, Outcome::LicenseRequired, "{}", banned.dump());
    assert!(
        list.explanation.contains("prohibited"),
        "{}",
        list.explanation
    );
    // Holding everything changes nothing.
    let all = holding_everything(base.on("2022-06-01")).decide();
    all.expect(JP, Prohibited);
    never_authorized(&all, JP);
}

#[test]
fn jp_belarus_ban_from_2022_03_18() {
    let base = ship("JP", "BY", "2022-03-18")
        .item(euv_resist(), "JP")
        .holds(JP, "special_general_bulk");
    dated(
        &base,
        JP,
        &[
            ("2022-03-17", Authorized("special_general_bulk")),
            ("2022-03-18", Prohibited),
            ("2022-03-19", Prohibited),
        ],
    );
    base.decide().must_rule(JP, "jp-belarus-ban-2022");
    // Another destination is untouched.
    destined(
        &base.clone().on("2022-06-01"),
        JP,
        &[
            ("VN", Authorized("special_general_bulk")),
            ("BY", Prohibited),
        ],
    );
}

#[test]
fn jp_unlisted_items_to_russia_and_belarus_need_a_check_from_2022_03_18() {
    for to in ["RU", "BY"] {
        let base = ship("JP", to, "2022-03-18").item(wet_chemical(), "JP");
        dated(
            &base,
            JP,
            &[
                ("2022-03-17", Clear),
                ("2022-03-18", Indeterminate),
                ("2023-01-10", Indeterminate),
            ],
        );
        base.decide()
            .expect_missing(JP, "review under jp-russia-belarus-general-purpose-2022");
    }
}

// --- Korea ---

#[test]
fn kr_strategic_items_to_russia_banned_from_2022_02_28_belarus_from_2022_03_07() {
    let russia = ship("KR", "RU", "2022-02-28")
        .item(resist(193.0), "KR")
        .holds(KR, "comprehensive");
    dated(
        &russia,
        KR,
        &[
            ("2022-02-27", License(Unspecified)),
            ("2022-02-28", Prohibited),
            ("2022-03-01", Prohibited),
        ],
    );
    russia
        .decide()
        .must_rule(KR, "kr-russia-strategic-ban-2022");
    let belarus = russia.clone().to("BY");
    dated(
        &belarus,
        KR,
        &[
            ("2022-03-06", License(Unspecified)),
            ("2022-03-07", Prohibited),
            ("2022-03-08", Prohibited),
        ],
    );
    belarus
        .on("2022-03-07")
        .decide()
        .must_rule(KR, "kr-belarus-strategic-ban-2022");
    let all = holding_everything(russia.on("2023-01-10")).decide();
    never_authorized(&all, KR);
}

#[test]
fn kr_non_strategic_items_to_russia_and_belarus_need_a_check_from_2022_03_26() {
    for to in ["RU", "BY"] {
        let base = ship("KR", to, "2022-03-26").item(wet_chemical(), "KR");
        dated(
            &base,
            KR,
            &[
                ("2022-03-25", Clear),
                ("2022-03-26", Indeterminate),
                ("2024-10-01", Indeterminate),
            ],
        );
    }
    // Elsewhere an unlisted item stays clear.
    ship("KR", "VN", "2024-10-01")
        .item(wet_chemical(), "KR")
        .decide()
        .expect(KR, Clear);
}

// --- EU ---

#[test]
fn eu_hydrogen_fluoride_to_russia_prohibited_from_2022_02_26() {
    let base = ship("DE", "RU", "2022-02-26").item(hydrogen_fluoride(99.9), "DE");
    dated(
        &base,
        EU,
        &[
            ("2022-02-25", License(Unspecified)),
            ("2022-02-26", Prohibited),
            ("2022-02-27", Prohibited),
            ("2023-06-01", Prohibited),
        ],
    );
    base.decide().must_rule(EU, "eu-833-art2-russia");
    // Before 2022 only for a military use or end user (Art. 2 as of 2014).
    let before = base.clone().on("2021-06-01");
    before.clone().decide().expect(EU, License(Unspecified));
    let military = before.purpose("military").decide();
    military.expect(EU, Prohibited);
    military.must_rule(EU, "eu-833-art2-military-2014");
    base.clone()
        .on("2022-02-26")
        .purpose("military")
        .decide()
        .expect(EU, Prohibited);
    // No general authorisation ever covers a ban.
    let all = holding_everything(base.on("2023-06-01")).decide();
    never_authorized(&all, EU);
}

#[test]
fn eu_dual_use_to_belarus_prohibited_from_2022_03_03() {
    let base = ship("NL", "BY", "2022-03-03").item(euv_resist(), "NL");
    dated(
        &base,
        EU,
        &[
            ("2022-03-02", License(Unspecified)),
            ("2022-03-03", Prohibited),
            ("2022-03-04", Prohibited),
        ],
    );
    base.decide().must_rule(EU, "eu-765-art1e-belarus");
}

/// A microcontroller as a product master classifies it: not in Annex I
/// (EU-DU), EAR99 (US-EAR).
fn microcontroller() -> BTreeMap<String, RegimeClassification> {
    let not_listed = |label: &str| RegimeClassification {
        not_listed_label: label.into(),
        ..Default::default()
    };
    BTreeMap::from([
        (EU.to_string(), not_listed("not in Annex I")),
        (US.to_string(), not_listed("EAR99")),
    ])
}

#[test]
fn eu_unlisted_items_to_russia_and_belarus_are_never_cleared() {
    // Microcontrollers and other items Annex I does not list: Annex VII / Va
    // may ban them, which the rule pack cannot tell.
    for (to, from, rule) in [
        ("RU", "2022-02-26", "eu-833-annex-vii-russia"),
        ("BY", "2022-03-03", "eu-765-annex-va-belarus"),
    ] {
        for base in [
            ship("DE", to, from).classified(microcontroller(), "DE"),
            ship("DE", to, from).item(wet_chemical(), "DE"),
        ] {
            let before = day(from) - Duration::days(1);
            base.clone().on_date(before).decide().expect(EU, Clear);
            base.clone()
                .decide()
                .expect(EU, Indeterminate)
                .expect_missing(EU, &format!("review under {rule}"));
            base.on("2023-06-01").decide().expect(EU, Indeterminate);
        }
    }
    // Elsewhere the same item is clear.
    ship("DE", "KZ", "2023-06-01")
        .classified(microcontroller(), "DE")
        .decide()
        .expect(EU, Clear);
}

// --- Occupied regions of Ukraine ---

#[test]
fn us_crimea_from_2015_01_29_and_covered_regions_from_2022_02_24() {
    // EAR99 items from the US.
    let ukraine = ship("US", "UA", "2024-01-10").item(wet_chemical(), "US");
    ukraine.decide().expect(US, Clear);
    for crimea in ["UA-43", "UA-40"] {
        let base = ukraine.clone().region(crimea);
        dated(
            &base,
            US,
            &[
                ("2015-01-28", Clear),
                ("2015-01-29", License(Denial)),
                ("2015-01-30", License(Denial)),
                ("2024-01-10", License(Denial)),
            ],
        );
        base.decide().must_rule(US, "us-746-crimea");
    }
    for covered in ["UA-14", "UA-09"] {
        let base = ukraine.clone().region(covered);
        dated(
            &base,
            US,
            &[
                ("2022-02-23", Clear),
                ("2022-02-24", Indeterminate),
                ("2022-02-25", Indeterminate),
            ],
        );
        base.decide()
            .expect_missing(US, "review under us-746-covered-regions");
    }
    // Another region of Ukraine (Kyiv city) is the rest of the country.
    ukraine.region("UA-30").decide().expect(US, Clear);
}

#[test]
fn eu_occupied_regions_crimea_donetsk_luhansk_kherson_zaporizhzhia() {
    let ukraine = ship("DE", "UA", "2023-06-01").item(wet_chemical(), "DE");
    ukraine.decide().expect(EU, Clear);
    ukraine.clone().region("UA-30").decide().expect(EU, Clear);
    for (regions, from, rule) in [
        (
            &["UA-43", "UA-40"][..],
            "2014-12-20",
            "eu-692-crimea-sevastopol",
        ),
        (
            &["UA-14", "UA-09"][..],
            "2022-02-24",
            "eu-2022-263-donetsk-luhansk",
        ),
        (
            &["UA-65", "UA-23"][..],
            "2022-10-06",
            "eu-2022-1903-kherson-zaporizhzhia",
        ),
    ] {
        for region in regions {
            let base = ukraine.clone().region(region).on(from);
            let before = day(from) - Duration::days(1);
            base.clone().on_date(before).decide().expect(EU, Clear);
            base.clone()
                .decide()
                .expect(EU, Indeterminate)
                .expect_missing(EU, &format!("review under {rule}"));
            base.on("2023-06-01").decide().expect(EU, Indeterminate);
        }
    }
    // A dual-use item to Crimea needs its Annex I authorisation as anywhere in Ukraine.
    ship("DE", "UA", "2023-06-01")
        .item(hydrogen_fluoride(99.9), "DE")
        .region("UA-43")
        .decide()
        .expect(EU, License(Unspecified))
        .must_rule(EU, "eu-692-crimea-sevastopol");
}

#[test]
fn region_rules_reject_mixed_or_malformed_selectors() {
    let pack = |dest: &str| {
        format!(
            "[pack]\nregime = \"XX-TEST\"\nname = \"t\"\nversion = \"1\"\nsource = \"s\"\ncovers_from = \"2019-01-01\"\nhome = [\"AQ\"]\ncoverage = \"entry\"\n\n[[rule]]\nid = \"r1\"\nitems = \"all\"\noutcome = \"prohibited\"\ndestinations = {dest}\nfrom = \"2019-01-01\"\ncitations = [\"c\"]\n"
        )
    };
    let ok = RegimePolicy::parse("t.toml", &pack("{ subdivisions = [\"UA-43\"] }")).expect("valid");
    let sel = &ok.rules[0].0.destinations;
    let on = day("2020-01-01");
    assert!(ok.select_in(sel, "UA", Some("UA-43"), on).is_some());
    assert!(ok.select_in(sel, "UA", Some("UA-30"), on).is_none());
    assert!(ok.select_in(sel, "UA", None, on).is_none());
    for bad in [
        "{ subdivisions = [\"UA-43\"], countries = [\"UA\"] }",
        "{ subdivisions = [\"UA-43\"], all = true }",
        "{ subdivisions = [\"XX-43\"] }",
        "{ subdivisions = [\"Crimea\"] }",
    ] {
        let e = RegimePolicy::parse("t.toml", &pack(bad)).expect_err(bad);
        assert_eq!(e.rule, "r1", "{e}");
    }
}
