//! Party screening against the official list (the hand-written fixture in the
//! official layout, dated 2026-07-31): what a hit means per source, the
//! entries' dates, every party role, disguised names, and honest coverage
//! when no list is loaded.

use super::*;

/// EAR99 valves from the US on a date, to a party.
fn valves_to(destination: &str, on: &str, end_user: &str) -> Ship {
    ship("US", destination, on)
        .item(valves(), "US")
        .end_user(end_user)
}

fn advisory_codes(d: &Decided) -> Vec<String> {
    d.body.advisories.iter().map(|a| a.code.clone()).collect()
}

#[test]
fn entity_list_hit_requires_a_license_for_ear99_with_the_entrys_policy() {
    let d = valves_to("CN", "2024-06-01", "Huawei Technologies Co., Ltd.").decide();
    d.expect(US, License(Denial));
    let det = d
        .dets(US)
        .into_iter()
        .find(|x| x.rule_id.starts_with("screening:EL:"))
        .expect("a screening determination");
    let m = det.party_match.as_ref().expect("names the match");
    assert_eq!(
        (
            m.role.as_str(),
            m.list.as_str(),
            m.entry_name.as_str(),
            m.exact
        ),
        ("end_user", "EL", "Huawei Technologies Co., Ltd.", true)
    );
    assert!(
        det.explanation.contains("Entity List"),
        "{}",
        det.explanation
    );
    assert!(
        det.citations.iter().any(|c| c.contains("FR")),
        "{:?}",
        det.citations
    );
    // The entry's start date: before it, the list does not apply.
    valves_to("CN", "2019-05-15", "Huawei Technologies Co., Ltd.")
        .decide()
        .expect(US, Clear);
}

#[test]
fn the_partys_country_never_hides_a_name_hit() {
    valves_to("DE", "2024-06-01", "Huawei Technologies Co., Ltd.")
        .decide()
        .expect(US, License(Denial));
}

#[test]
fn disguised_names_are_hit() {
    for name in [
        "ＨＵＡＷＥＩ Technologies Co., Ltd.",   // full-width
        "Hu\u{200B}awei Technologies Co., Ltd.", // zero-width space
        "Нuаwеi Technologies",                   // Cyrillic Н, а, е
        "华为技术有限公司",                      // Chinese name (an alias of the entry)
        "Semiconductor Mfg. Int'l Corp.",        // abbreviations of SMIC
        "YANGTZE MEMORY TECH",                   // Tech = Technologies
    ] {
        let d = valves_to("CN", "2024-06-01", name).decide();
        assert!(
            d.outcome(US) >= Outcome::Indeterminate,
            "{name} was cleared:\n{}",
            d.dump()
        );
    }
    // Extra tokens: a near miss at least, never clear.
    let d = valves_to("CN", "2024-06-01", "SMIC Trading Limited").decide();
    assert!(d.outcome(US) >= Outcome::Indeterminate, "{}", d.dump());
}

#[test]
fn denied_persons_and_sdn_are_prohibited() {
    valves_to("GB", "2026-01-10", "John Q. Exampleperson")
        .decide()
        .expect(US, Prohibited);
    // SDN entries carry no dates: they apply from the list's date...
    valves_to("RU", "2026-08-01", "OOO Fixture Microelectronics")
        .decide()
        .expect(US, Prohibited);
    // ...and before it the listing date is unknown.
    valves_to("AM", "2024-01-10", "OOO Fixture Microelectronics")
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "listing date of OOO FIXTURE MICROELECTRONICS");
}

#[test]
fn unverified_list_needs_a_uvl_statement_and_takes_exceptions_away() {
    valves_to(
        "HK",
        "2024-06-01",
        "Sample Precision Instruments Trading Limited",
    )
    .decide()
    .expect(US, Indeterminate)
    .expect_missing(US, "UVL statement");
}

#[test]
fn military_end_user_and_referral_lists_are_indeterminate() {
    valves_to("CN", "2026-08-01", "Example Aero Engine Research Institute")
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "Supp. 2 to part 744");
    valves_to("CN", "2024-06-01", "Fixture Special Alloys Company")
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "review by a person");
}

#[test]
fn financial_lists_give_an_advisory_never_an_outcome() {
    let d = valves_to(
        "CN",
        "2026-08-01",
        "China Mobile Communications Group Co., Ltd.",
    )
    .decide();
    d.expect(US, Clear);
    assert!(
        advisory_codes(&d).contains(&"SCREENING-CMIC".to_string()),
        "{:?}",
        advisory_codes(&d)
    );
}

#[test]
fn every_party_role_is_screened() {
    let d = valves_to("CN", "2024-06-01", "Example Buyer Co.")
        .party("consignee", "Huawei Technologies Co., Ltd.")
        .decide();
    d.expect(US, License(Denial));
    let m = d
        .dets(US)
        .into_iter()
        .find_map(|x| x.party_match.as_ref())
        .expect("a match");
    assert_eq!(m.role, "consignee");
    let near = valves_to("CN", "2024-06-01", "Example Buyer Co.")
        .party("forwarder", "Huawey Technologies Co Ltd")
        .decide();
    near.expect(US, Indeterminate)
        .expect_missing(US, "parties[0].name: confirm it is not Huawei");
}

#[test]
fn a_mixed_script_name_is_a_near_miss_signal() {
    // Latin "Acme" with a Cyrillic "е": listed nowhere, but disguised.
    valves_to("CN", "2024-06-01", "Acmе Precision Trading")
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_user.name: confirm the name as written");
    valves_to("CN", "2024-06-01", "Acme Precision Trading")
        .decide()
        .expect(US, Clear);
}

#[test]
fn without_an_official_list_no_party_is_cleared() {
    let d = valves_to("CN", "2024-06-01", "Example Buyer Co.")
        .without_screening_list()
        .decide();
    d.expect(US, Indeterminate)
        .expect_missing(US, "screening list");
    // A party the pack lists is still found.
    valves_to("CN", "2024-06-01", "SMIC")
        .without_screening_list()
        .decide()
        .expect(US, License(CaseByCase));
    // Allowed partial screening clears at low confidence, with an advisory.
    let partial = EngineConfig {
        allow_partial_screening: true,
        ..Default::default()
    };
    let d = valves_to("CN", "2024-06-01", "Example Buyer Co.")
        .without_screening_list()
        .decide_with(&partial);
    d.expect(US, Clear);
    assert!(d.dets(US).iter().all(|x| x.low_confidence), "{}", d.dump());
    assert!(advisory_codes(&d).contains(&"SCREENING-PARTIAL".to_string()));
}

#[test]
fn a_clearance_says_exactly_what_was_checked() {
    let d = valves_to("CN", "2026-08-01", "Example Buyer Co.")
        .party("sold_to", "Example Trading GmbH")
        .decide();
    d.expect(US, Clear);
    let text = &d.dets(US)[0].explanation;
    assert!(
        text.contains("2 parties screened against the Consolidated Screening List")
            && text.contains("of 2026-07-31 (10 entries)")
            && text.contains("no match"),
        "{text}"
    );
    assert_eq!(d.body.screening_sources.len(), 1);
    assert_eq!(d.body.screening_sources[0].entries, 10);
}

#[test]
fn a_shipment_long_after_the_lists_date_is_flagged_stale() {
    let fresh = valves_to("CN", "2026-08-05", "Example Buyer Co.").decide();
    assert!(!advisory_codes(&fresh).contains(&"SCREENING-LIST-STALE".to_string()));
    let stale = valves_to("CN", "2026-08-20", "Example Buyer Co.").decide();
    assert!(advisory_codes(&stale).contains(&"SCREENING-LIST-STALE".to_string()));
}
