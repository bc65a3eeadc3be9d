//! United States: embargoes, re-exports, regimes that apply.

use super::*;

#[test]
fn us_embargo_iran_every_item() {
    let d = ship("US", "IR", "2021-01-01").item(valves(), "US").decide();
    d.expect(US, License(Unspecified));
    assert_eq!(
        d.must_rule(US, "us-746-iran").source,
        engine::Source::Destination
    );
    let hf = ship("US", "IR", "2021-01-01")
        .item(hydrogen_fluoride(49.0), "US")
        .decide();
    hf.must_rule(US, "us-746-iran");
    // The chart gives Iran no marks and points to part 746: no chart cell decides.
    assert!(
        hf.dets(US).iter().all(|d| !d.rule_id.starts_with("chart")),
        "{:?}",
        hf.dets(US)
    );
    ship("US", "KP", "2021-01-01")
        .item(valves(), "US")
        .decide()
        .must_rule(US, "us-746-north-korea");
}

#[test]
fn us_russia_from_2022_02_24() {
    // EAR99: part 746 HTS lists are not encoded, so a person must check.
    let ear99 = ship("US", "RU", "2022-02-24").item(valves(), "US");
    dated(
        &ear99,
        US,
        &[
            ("2022-02-23", Clear),
            ("2022-02-24", Indeterminate),
            ("2022-02-25", Indeterminate),
        ],
    );
    ear99
        .decide()
        .expect_missing(US, "review under us-746-russia-unlisted");
    // KrF resist (3C992, AT1 only: blank for Russia) needs a license from 2022-02-24.
    let krf = ship("US", "RU", "2022-02-24").item(resist(248.0), "US");
    dated(
        &krf,
        US,
        &[("2022-02-23", Clear), ("2022-02-24", License(Unspecified))],
    );
    krf.decide().must_rule(US, "us-746-russia-listed");
}

#[test]
fn us_belarus_from_2022_03_02() {
    // 3C992 (AT 1 only, blank for Belarus) needs a license under part 746 from 2022-03-02.
    let krf = ship("US", "BY", "2022-03-02").item(resist(248.0), "US");
    dated(
        &krf,
        US,
        &[("2022-03-01", Clear), ("2022-03-02", License(Unspecified))],
    );
    krf.decide().must_rule(US, "us-746-belarus-listed");
    ship("US", "BY", "2022-03-02")
        .item(valves(), "US")
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "review under us-746-belarus-unlisted");
    // The chart's footnote for Belarus and Russia (part 746) comes as an advisory.
    let d = ship("US", "BY", "2026-08-01").item(valves(), "US").decide();
    assert!(
        d.body
            .advisories
            .iter()
            .any(|a| a.code == "CHART-FOOTNOTE-6" && a.text.contains("746")),
        "{:?}",
        d.body.advisories
    );
}

#[test]
fn reexport_of_us_origin_item_from_japan_applies_both_regimes() {
    let d = ship("JP", "CN", "2024-03-01")
        .item(euv_resist(), "US")
        .holds(JP, "special_general_bulk")
        .decide();
    d.expect(JP, Authorized("special_general_bulk"))
        .expect(US, License(Unspecified));
    assert_eq!(d.line().outcome, Outcome::LicenseRequired);
    // The same item of Japanese origin: whether the EAR reaches it is asked (see us_foreign.rs).
    let jp_origin = ship("JP", "CN", "2024-03-01")
        .item(euv_resist(), "JP")
        .us_content(Some(0.0), Some(0.0))
        .holds(JP, "special_general_bulk")
        .decide();
    jp_origin.expect(US, Clear).must_rule(US, "not-subject");
    assert_eq!(jp_origin.line().outcome, Outcome::Authorized);
    // US-origin from Korea and from the Netherlands likewise carries US-EAR.
    let from_kr = ship("KR", "CN", "2024-03-01")
        .item(resist(193.0), "US")
        .decide();
    from_kr
        .expect(KR, License(Unspecified))
        .expect(US, License(Unspecified));
    let from_nl = ship("NL", "JP", "2024-03-01")
        .item(euv_resist(), "US")
        .holds(EU, "EU001")
        .decide();
    // (EU-DU: Japan is an EU001 destination.)
    from_nl
        .expect(EU, Authorized("EU001"))
        .expect(NL, Clear)
        .expect(US, Clear);
}

#[test]
fn export_from_a_country_without_a_regime_is_indeterminate() {
    let d = ship("TW", "CN", "2024-03-01")
        .item(euv_resist(), "TW")
        .decide();
    assert_eq!(d.line().outcome, Outcome::Indeterminate);
    let det = &d.line().determinations[0];
    assert_eq!(det.rule_id, "no-regime");
    assert!(
        det.missing_facts
            .iter()
            .any(|m| m == "a rule pack for exports from TW")
    );
    // Even an unlisted item: never NO_LICENSE_REQUIRED without a regime.
    let unlisted = ship("SG", "MY", "2024-03-01").item(valves(), "SG").decide();
    assert_eq!(unlisted.body.outcome, Outcome::Indeterminate);
    // A US-origin item from Taiwan: US-EAR speaks.
    let us_origin = ship("TW", "CN", "2024-03-01")
        .item(euv_resist(), "US")
        .decide();
    us_origin.expect(US, License(Unspecified));
    assert!(us_origin.rule("", "no-regime").is_none());
}
