//! Netherlands and EU.

use super::*;

#[test]
fn nl_national_list_from_2023_09_01() {
    let nxt2000 = ship("NL", "CN", "2023-09-01").item(arf_immersion(1.4), "NL");
    dated(
        &nxt2000,
        NL,
        &[
            ("2023-08-31", Clear),
            ("2023-09-01", License(Unspecified)),
            ("2023-09-02", License(Unspecified)),
        ],
    );
    // Country-neutral: every destination outside the EU.
    destined(
        &nxt2000,
        NL,
        &[("US", License(Unspecified)), ("JP", License(Unspecified))],
    );
    // MRF 50.04 nm > 45 nm: not EU 3B001.f.1.b.
    nxt2000.decide().expect(EU, Clear);
}

#[test]
fn nl_national_list_extended_2024_09_07() {
    let nxt1980 = ship("NL", "CN", "2024-09-07").item(arf_immersion(2.0), "NL");
    dated(
        &nxt1980,
        NL,
        &[
            ("2023-09-01", Clear),
            ("2024-09-06", Clear),
            ("2024-09-07", License(Unspecified)),
            ("2024-09-08", License(Unspecified)),
        ],
    );
    ship("NL", "CN", "2025-01-10")
        .item(arf_immersion(2.5), "NL")
        .decide()
        .expect(NL, Clear);
}

#[test]
fn eu_internal_transfer_is_not_an_export() {
    for item in [arf_immersion(1.4), euv_scanner(), euv_resist()] {
        let d = ship("NL", "DE", "2024-10-01").item(item, "NL").decide();
        d.expect(NL, Clear).expect(EU, Clear);
        assert_eq!(d.must_rule(EU, "home").outcome, Outcome::NoLicenseRequired);
        assert_eq!(d.line().outcome, Outcome::NoLicenseRequired);
    }
    // The EUV scanner outside the EU: Annex I.
    ship("NL", "CN", "2024-10-01")
        .item(euv_scanner(), "NL")
        .decide()
        .expect(EU, License(Unspecified));
}

/// A shipment whose exporter holds (has registered for) the Union general export
/// authorisations EU001 and EU002.
fn eu_ship(export: &str, destination: &str, as_of: &str) -> Ship {
    ship(export, destination, as_of)
        .holds(EU, "EU001")
        .holds(EU, "EU002")
}

#[test]
fn eu001_covers_annex_i_exports_to_its_destinations() {
    // EUV resist (3C002.a.2) out of the EU: EU001 to the United States, before and after the recast.
    let resist = eu_ship("NL", "US", "2024-10-01").item(euv_resist(), "NL");
    dated(
        &resist,
        EU,
        &[
            ("2019-01-01", Authorized("EU001")),
            ("2021-09-08", Authorized("EU001")),
            ("2021-09-09", Authorized("EU001")),
            ("2024-10-01", Authorized("EU001")),
        ],
    );
    let d = resist.decide();
    assert!(
        !d.must_rule(EU, "eu-annex-i").low_confidence,
        "{}",
        d.dump()
    );
    assert_eq!(d.line().outcome, Outcome::Authorized);
    destined(
        &resist,
        EU,
        &[
            ("AU", Authorized("EU001")),
            ("CA", Authorized("EU001")),
            ("JP", Authorized("EU001")),
            ("NZ", Authorized("EU001")),
            ("NO", Authorized("EU001")),
            ("CH", Authorized("EU001")),
            ("LI", Authorized("EU001")),
            ("CN", License(Unspecified)),
            ("TW", License(Unspecified)),
            ("SG", License(Unspecified)),
        ],
    );
    // Any Annex I entry of the pack: the EUV scanner too, from any member state.
    eu_ship("DE", "JP", "2024-10-01")
        .item(euv_scanner(), "DE")
        .decide()
        .expect(EU, Authorized("EU001"));
    // Not for a military or WMD end use.
    for purpose in ["military", "wmd", "nuclear"] {
        resist
            .clone()
            .purpose(purpose)
            .decide()
            .expect(EU, License(Unspecified));
    }
}

#[test]
fn eu_resist_to_china_needs_a_licence() {
    let d = eu_ship("NL", "CN", "2024-10-01")
        .item(euv_resist(), "NL")
        .decide();
    d.expect(EU, License(Unspecified));
    assert!(
        d.must_rule(EU, "eu-annex-i")
            .explanation
            .contains("outside the EU")
    );
}

#[test]
fn eu001_united_kingdom_from_2021_01_01() {
    // Until the end of the transition period the UK was inside the Union: no export at all.
    let resist = eu_ship("NL", "GB", "2021-01-01").item(euv_resist(), "NL");
    dated(
        &resist,
        EU,
        &[
            ("2020-06-01", Clear),
            ("2020-12-31", Clear),
            ("2021-01-01", Authorized("EU001")),
            ("2021-01-02", Authorized("EU001")),
            ("2024-10-01", Authorized("EU001")),
        ],
    );
    // Before: no requirement rather than a home transfer (the UK is not a member state today).
    assert!(
        resist
            .clone()
            .on("2020-12-31")
            .decide()
            .rule(EU, "eu-annex-i")
            .is_none()
    );
}

#[test]
fn eu002_resist_to_korea_and_iceland() {
    let korea = eu_ship("NL", "KR", "2024-10-01").item(euv_resist(), "NL");
    dated(
        &korea,
        EU,
        &[
            ("2019-01-01", Authorized("EU002")),
            ("2024-10-01", Authorized("EU002")),
        ],
    );
    let d = korea.decide();
    assert!(d.must_rule(EU, "eu-annex-i").low_confidence, "{}", d.dump());
    destined(
        &korea,
        EU,
        &[
            ("AR", Authorized("EU002")),
            ("ZA", Authorized("EU002")),
            ("TR", Authorized("EU002")),
        ],
    );
    eu_ship("NL", "KR", "2024-10-01")
        .item(fluorinated_polyimide(12.0), "NL")
        .decide()
        .expect(EU, Authorized("EU002"));
    // EU002 does not reach lithography equipment.
    eu_ship("NL", "KR", "2024-10-01")
        .item(euv_scanner(), "NL")
        .decide()
        .expect(EU, License(Unspecified));
    // Iceland: EU002 until the recast, EU001 from 2021-09-09 (low confidence).
    let iceland = eu_ship("NL", "IS", "2021-09-09").item(euv_resist(), "NL");
    dated(
        &iceland,
        EU,
        &[
            ("2021-09-08", Authorized("EU002")),
            ("2021-09-09", Authorized("EU001")),
        ],
    );
    let scanner = eu_ship("NL", "IS", "2021-09-09").item(euv_scanner(), "NL");
    dated(
        &scanner,
        EU,
        &[
            ("2021-09-08", License(Unspecified)),
            ("2021-09-09", Authorized("EU001")),
        ],
    );
}

#[test]
fn eu_intra_union_transfer_of_pack_entries_needs_no_licence() {
    // None of the pack's entries is an Annex IV item: a transfer to a member state is no export.
    for item in [
        euv_resist(),
        resist(193.0),
        euv_scanner(),
        fluorinated_polyimide(12.0),
        hydrogen_fluoride(99.0),
    ] {
        for destination in ["DE", "FR", "IE"] {
            let d = eu_ship("NL", destination, "2024-10-01")
                .item(item.clone(), "NL")
                .decide();
            d.expect(EU, Clear);
            d.must_rule(EU, "home");
        }
    }
}

#[test]
fn eu001_never_lifts_the_dutch_national_requirement() {
    // NXT:2000i-like scanner to the United States: not Annex I, on the Dutch list.
    let nxt2000 = eu_ship("NL", "US", "2024-10-01").item(arf_immersion(1.4), "NL");
    let d = nxt2000.decide();
    d.expect(EU, Clear).expect(NL, License(Unspecified));
    assert_eq!(d.line().outcome, Outcome::LicenseRequired);
    for destination in ["GB", "JP", "CH", "KR"] {
        nxt2000
            .clone()
            .to(destination)
            .decide()
            .expect(NL, License(Unspecified));
    }
    // A scanner on both lists (MRF 43.6 nm <= 45 nm: 3B001.f.1.b, and DCO 1.4 nm): EU001 covers
    // the EU requirement, the Dutch one stands.
    let both = ProductSpec {
        numerical_aperture: Some(1.55),
        ..arf_immersion(1.4)
    };
    let d = eu_ship("NL", "US", "2024-10-01").item(both, "NL").decide();
    d.expect(EU, Authorized("EU001"))
        .expect(NL, License(Unspecified));
    assert_eq!(d.line().outcome, Outcome::LicenseRequired);
    // The Dutch measures' dates hold whatever EU001 says.
    dated(
        &nxt2000,
        NL,
        &[("2023-08-31", Clear), ("2023-09-01", License(Unspecified))],
    );
    let nxt1980 = eu_ship("NL", "US", "2024-09-07").item(arf_immersion(2.0), "NL");
    dated(
        &nxt1980,
        NL,
        &[("2024-09-06", Clear), ("2024-09-07", License(Unspecified))],
    );
}

/// A line classified by hand in EU-DU only (entries the classifier pack does not have).
fn eu_listed(entry: &str) -> BTreeMap<String, RegimeClassification> {
    let class = RegimeClassification {
        matches: vec![MatchedEntry {
            id: entry.into(),
            reasons: vec!["AG".into()],
            citations: vec![format!("Regulation (EU) 2021/821 Annex I, {entry}")],
            low_confidence: false,
        }],
        ..Default::default()
    };
    BTreeMap::from([(EU.to_string(), class)])
}

#[test]
fn eu_general_authorisations_exclude_annex_ii_section_i_items() {
    // 1C351 (human pathogens and toxins) is excluded from every Union general export authorisation.
    let d = eu_ship("NL", "US", "2024-10-01")
        .classified(eu_listed("1C351.d.4"), "NL")
        .decide();
    d.expect(EU, License(Unspecified));
    assert!(
        d.must_rule(EU, "eu-annex-i")
            .explanation
            .contains("eu-annex-ii-section-i"),
        "{}",
        d.dump()
    );
    // 1C350 (chemical weapons precursors, hydrogen fluoride) is not: EU001 covers it.
    eu_ship("NL", "US", "2024-10-01")
        .item(hydrogen_fluoride(99.0), "NL")
        .decide()
        .expect(EU, Authorized("EU001"));
}
