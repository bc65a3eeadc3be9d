//! Foreign-produced items (15 CFR 734.3, 734.4, 734.9): a line produced
//! outside the US and exported from outside it gets a US-EAR determination
//! that says whether US jurisdiction was evaluated.

use super::*;

/// A Japanese EUV resist (3C002.a.2, NS 2) from Japan to China: a license
/// would be needed if the EAR reached it.
fn resist_to_china() -> Ship {
    ship("JP", "CN", "2024-03-01")
        .item(euv_resist(), "JP")
        .holds(JP, "special_general_bulk")
}

#[test]
fn us_jurisdiction_unknown_without_the_facts() {
    let d = resist_to_china().decide();
    d.expect(US, Indeterminate)
        .expect_missing(US, "us_controlled_content_percent")
        .expect_missing(US, "us_content_percent");
    let j = d.must_rule(US, "jurisdiction");
    assert!(j.explanation.contains("chart:NS2"), "{}", j.explanation);
    // Japan's own answer stands beside it.
    d.expect(JP, Authorized("special_general_bulk"));
}

#[test]
fn us_de_minimis_at_25_percent() {
    let at = |controlled: f64| {
        resist_to_china()
            .us_content(Some(controlled), None)
            .decide()
    };
    at(25.0).expect(US, Clear).must_rule(US, "not-subject");
    let over = at(25.1);
    over.expect(US, License(Unspecified));
    assert!(
        over.must_rule(US, "chart:NS2")
            .explanation
            .contains("exceeds the de minimis level of 25 %")
    );
    // Total US content at or under the level settles it without the controlled share.
    resist_to_china()
        .us_content(None, Some(20.0))
        .decide()
        .expect(US, Clear);
    resist_to_china()
        .us_content(None, Some(40.0))
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "us_controlled_content_percent");
}

#[test]
fn us_de_minimis_is_10_percent_for_e1() {
    // Iran is embargoed: every item subject to the EAR needs a license.
    let to_iran = |controlled: f64| {
        ship("JP", "IR", "2024-03-01")
            .item(valves(), "JP")
            .us_content(Some(controlled), None)
            .decide()
    };
    to_iran(10.0).expect(US, Clear);
    to_iran(10.5).expect(US, License(Unspecified));
}

#[test]
fn us_nothing_to_evaluate_when_nothing_would_apply() {
    // An EAR99-like item to Germany: no requirement even if it were subject.
    let d = ship("JP", "DE", "2024-03-01").item(valves(), "JP").decide();
    d.expect(US, Clear);
    assert!(
        d.must_rule(US, "none")
            .explanation
            .contains("was not needed, since nothing would apply")
    );
}

#[test]
fn us_foreign_direct_product_rule_for_advanced_computing() {
    // A Korean-made GPU (3A090.a) from Korea to China, with no US content.
    let base = ship("KR", "CN", "2024-03-01")
        .item(gpu(), "KR")
        .us_content(Some(0.0), Some(0.0));
    base.clone()
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "produced_with_us_technology");
    let made = base.clone().made_with_us(Some(true), None).decide();
    made.expect(US, License(Denial));
    assert!(
        made.dets(US)
            .iter()
            .all(|d| d.explanation.contains("us-fdp-advanced-computing-2023")),
        "{}",
        made.dump()
    );
    base.clone()
        .made_with_us(Some(false), Some(false))
        .decide()
        .expect(US, Clear);
    // Before the 2022 rule the FDP did not reach it: de minimis alone decides.
    base.on("2022-10-06")
        .made_with_us(None, None)
        .decide()
        .expect(US, Clear);
}

#[test]
fn fdp_paragraphs_of_a_listing() {
    assert_eq!(
        engine::fdp_paragraphs(
            "For all items subject to the EAR, see §§ 734.9(e)1 and 744.11 of the EAR2"
        ),
        ["734.9(e)(1)"]
    );
    assert_eq!(
        engine::fdp_paragraphs("For all items subject to the EAR. (See §§ 734.9(g),3 746.8(a)(3))"),
        ["734.9(g)"]
    );
    assert_eq!(
        engine::fdp_paragraphs("see §§ 734.9(e)(2), 744.11"),
        ["734.9(e)(2)"]
    );
    assert!(engine::fdp_paragraphs("For all items subject to the EAR.").is_empty());
}
