//! Korea (Foreign Trade Act).

use super::*;

#[test]
fn kr_japan_in_ga_2_from_2019_09_18_until_2023_04_24() {
    let base = ship("KR", "JP", "2019-09-18")
        .item(resist(193.0), "KR")
        .holds(KR, "comprehensive");
    dated(
        &base,
        KR,
        &[
            ("2019-09-17", Authorized("comprehensive")),
            ("2019-09-18", License(Unspecified)),
            ("2019-09-19", License(Unspecified)),
            ("2023-04-23", License(Unspecified)),
            ("2023-04-24", Authorized("comprehensive")),
            ("2023-04-25", Authorized("comprehensive")),
        ],
    );
    destined(
        &base.clone().on("2021-01-01"),
        KR,
        &[
            ("US", Authorized("comprehensive")),
            ("CN", License(Unspecified)),
            ("TW", License(Unspecified)),
        ],
    );
    // Not a strategic item: nothing to license.
    let krf = base.clone().item(resist(248.0), "KR").decide();
    assert_eq!(krf.body.lines[1].outcome, Outcome::NoLicenseRequired);
    // A comprehensive license never covers a military end use.
    base.on("2019-09-17")
        .purpose("military")
        .decide()
        .expect(KR, License(Unspecified));
}

#[test]
fn kr_hydrogen_fluoride_1c350_to_japan_and_china() {
    // Japan in Ga-2 (2020): individual license, no comprehensive license.
    let japan = ship("KR", "JP", "2020-06-01")
        .item(hydrogen_fluoride(99.9), "KR")
        .holds(KR, "comprehensive");
    let d = japan.decide();
    d.expect(KR, License(Unspecified));
    d.must_rule(KR, "kr-list");
    assert_eq!(d.line().outcome, Outcome::LicenseRequired);
    dated(
        &japan,
        KR,
        &[
            ("2019-09-17", Authorized("comprehensive")),
            ("2019-09-18", License(Unspecified)),
            ("2023-04-23", License(Unspecified)),
            ("2023-04-24", Authorized("comprehensive")),
        ],
    );
    // China (Na): license required.
    let china = ship("KR", "CN", "2024-06-01").item(hydrogen_fluoride(99.9), "KR");
    china.decide().expect(KR, License(Unspecified));
    assert_eq!(china.decide().line().outcome, Outcome::LicenseRequired);
    // 30 % is not a strategic item.
    ship("KR", "CN", "2024-06-01")
        .item(hydrogen_fluoride(30.0), "KR")
        .decide()
        .expect(KR, Clear);
}
