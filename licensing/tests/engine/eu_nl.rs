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
