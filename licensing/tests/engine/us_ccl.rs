//! The Commerce Control List as the US pack states it (categories 3 to 5, from
//! the eCFR of 2026-07-23): reasons and controls by ECCN and paragraph, entries
//! the caller classified that the classifier lacks, and the entry's own
//! destination scopes.

use super::us_chart::us_listed;
use super::*;

/// An entry as an ERP's product master names it: no reasons of its own.
fn declared(entry: &str) -> BTreeMap<String, RegimeClassification> {
    us_listed(entry, &[])
}

#[test]
fn us_ccl_3a090_a_is_controlled_worldwide_from_2026_07_23() {
    // A buyer headquartered outside Macau and D:5 (the headquarters rule is checked apart).
    let base = ship("US", "DE", "2026-07-23")
        .headquarters(Some("DE"), Some("DE"))
        .item(gpu(), "US");
    let d = base.decide();
    d.expect(US, License(Unspecified));
    let rs = d.must_rule(US, "ccl:3A090:RS");
    assert!(rs.explanation.contains("worldwide"), "{}", rs.explanation);
    // The day before, the 2023 scope (D:1, D:4 not A:5/A:6; Macau and D:5) still speaks.
    dated(&base, US, &[("2026-07-22", Clear)]);
    destined(
        &base,
        US,
        &[("BR", License(Unspecified)), ("IN", License(Unspecified))],
    );
}

#[test]
fn us_ccl_3a090_b_scope_names_the_uae_and_d_groups() {
    let base = ship("US", "AE", "2026-08-01")
        .headquarters(Some("AE"), Some("AE"))
        .classified(declared("3A090.b"), "US");
    base.decide()
        .expect(US, License(Unspecified))
        .must_rule(US, "ccl:3A090:RS");
    // Malaysia is in none of D:1, D:4, D:5; Israel is D:4 but also A:6.
    destined(
        &base,
        US,
        &[("MY", Clear), ("IL", Clear), ("VN", License(Unspecified))],
    );
}

#[test]
fn us_ccl_decides_an_eccn_the_classifier_lacks() {
    let base = ship("US", "CN", "2026-08-01").classified(declared("5A992.c"), "US");
    // 5A992.c is AT only, and no destination has an AT 1 mark.
    base.decide().expect(US, Clear);
    // Its .z paragraphs are RS worldwide.
    ship("US", "JP", "2026-08-01")
        .classified(declared("5A992.z.1"), "US")
        .decide()
        .expect(US, License(Unspecified))
        .must_rule(US, "ccl:5A992:RS");
    // Before the pack states the entry, nothing says what 5A992 requires.
    base.clone()
        .on("2026-07-22")
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "destination scope of 5A992.c");
}

#[test]
fn us_ccl_unknown_eccn_is_indeterminate_naming_it() {
    ship("US", "DE", "2026-08-01")
        .classified(declared("1A001"), "US")
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "destination scope of 1A001");
}

#[test]
fn us_ccl_paragraph_decides_which_controls_apply() {
    let to = |dest: &str, entry: &str| {
        ship("US", dest, "2026-08-01")
            .classified(declared(entry), "US")
            .decide()
    };
    // 3A001.a.2: NS 2 (blank for Germany, X for China); AT 1 blank everywhere.
    to("DE", "3A001.a.2").expect(US, Clear);
    to("CN", "3A001.a.2")
        .expect(US, License(Unspecified))
        .must_rule(US, "chart:NS2");
    // 3A001.b.2: NS 1 for Germany, unless for civil telecommunications, which is not said.
    to("DE", "3A001.b.2")
        .expect(US, Indeterminate)
        .expect_missing(US, "civil telecommunications");
    // 3A001 alone: the NS 1 control of b.2 / b.3 may apply.
    to("DE", "3A001")
        .expect(US, Indeterminate)
        .expect_missing(US, "paragraph of 3A001 under ECCN 3A001");
}

#[test]
fn us_ccl_sme_paragraphs_of_3b001() {
    let to = |dest: &str, entry: &str| {
        ship("US", dest, "2026-08-01")
            .classified(declared(entry), "US")
            .decide()
    };
    // c.1.a: NS and RS worldwide.
    to("JP", "3B001.c.1.a")
        .expect(US, License(Unspecified))
        .must_rule(US, "ccl:3B001:NS");
    // f.1: Macau and D:5 only; b: NS 2, blank for Japan.
    to("JP", "3B001.f.1.b").expect(US, Clear);
    to("CN", "3B001.f.1.b")
        .expect(US, License(Unspecified))
        .must_rule(US, "ccl:3B001:RS");
    to("JP", "3B001.b").expect(US, Clear);
    to("TW", "3B001.b")
        .expect(US, License(Unspecified))
        .must_rule(US, "chart:NS2");
}

#[test]
fn us_ccl_a_section_the_pack_does_not_evaluate_is_indeterminate() {
    ship("US", "JP", "2026-08-01")
        .classified(declared("5A002.a"), "US")
        .decide()
        .expect(US, License(Unspecified))
        .expect_missing(US, "5A002 EI requirement under 15 CFR 742.15");
}

#[test]
fn us_data_vintage_after_the_pack_was_reviewed() {
    let vintage = |on: &str| {
        ship("US", "DE", on)
            .item(valves(), "US")
            .decide()
            .body
            .advisories
            .into_iter()
            .find(|a| a.code == "DATA-VINTAGE" && a.authority == US)
    };
    assert!(vintage("2026-07-23").is_none());
    let a = vintage("2026-12-02").expect("DATA-VINTAGE on 2026-12-02");
    assert!(a.text.contains("2026-07-23"), "{}", a.text);
    assert!(a.text.contains("2026-12-02"), "{}", a.text);
    assert_eq!(a.line_ids, ["L1"]);
}
