//! United States: 3A090 RS scopes and the other entry-specific scopes.

use super::*;

#[test]
fn us_3a090_china_from_2022_10_07() {
    let base = ship("US", "CN", "2022-10-07").item(gpu(), "US");
    dated(
        &base,
        US,
        &[
            ("2022-10-06", Clear),
            ("2022-10-07", License(Denial)),
            ("2022-10-08", License(Denial)),
        ],
    );
    let d = base.decide();
    let rs = d.must_rule(US, "us-rs-3a090-2022");
    assert_eq!(rs.entry_ids, ["3A090.a"]);
    assert_eq!(rs.reasons, ["RS"]);
    // The 2022 scope was China alone.
    destined(&base, US, &[("TW", Clear), ("VN", Clear), ("DE", Clear)]);
}

#[test]
fn us_3a090_macau_from_2023_01_18() {
    let base = ship("US", "MO", "2023-01-18").item(gpu(), "US");
    let before = base.clone().on("2023-01-17").decide();
    assert!(
        before
            .dets(US)
            .iter()
            .all(|d| !d.rule_id.starts_with("us-rs-"))
    );
    // Before the Macau rule only the chart speaks: AT1 is blank for Macau, on a row the pack
    // states for earlier dates at low confidence.
    before.expect(US, Clear);
    assert!(before.must_rule(US, "none").low_confidence);
    for date in ["2023-01-18", "2023-01-19"] {
        let d = base.clone().on(date).decide();
        d.expect(US, License(Denial));
        // The Macau date is [?] in the notes, and the determination says so.
        assert!(d.must_rule(US, "us-rs-3a090-2023-01").low_confidence);
    }
}

#[test]
fn us_3a090_scope_of_2023_11_17() {
    // A US-headquartered buyer: the headquarters rule (us_end_user_rules) stays out of the way.
    let base = ship("US", "VN", "2023-11-17")
        .item(gpu(), "US")
        .headquarters(Some("US"), Some("US"));
    // Vietnam: D:1, not A:5/A:6, not D:5 — a license, review policy not stated.
    dated(
        &base,
        US,
        &[
            ("2023-11-16", Clear),
            ("2023-11-17", License(Unspecified)),
            ("2023-11-18", License(Unspecified)),
        ],
    );
    base.decide().must_rule(US, "us-rs-3a090-2023-11-d1-d4");
    destined(
        &base,
        US,
        &[
            ("CN", License(Denial)),
            ("RU", License(Denial)),
            ("MO", License(Denial)),
            ("DE", Clear),
            ("JP", Clear),
            ("TW", Clear),
            ("KR", Clear),
        ],
    );
    // 3A090.a.2 (TPP 1700, PD 6) is caught only under the 2023 definition.
    let a2 = ship("US", "CN", "2023-11-17").item(processor(1700.0, None, 6.0), "US");
    dated(
        &a2,
        US,
        &[("2023-11-16", Clear), ("2023-11-17", License(Denial))],
    );
}

#[test]
fn us_3a090_b_and_c() {
    let b = ship("US", "CN", "2023-11-17").item(processor(2500.0, None, 2.0), "US");
    dated(
        &b,
        US,
        &[("2023-11-16", Clear), ("2023-11-17", License(Denial))],
    );
    assert_eq!(
        b.decide()
            .must_rule(US, "us-rs-3a090-2023-11-macau-d5")
            .entry_ids,
        ["3A090.b"]
    );
    let c = ship("US", "CN", "2024-12-02").item(hbm(3.0), "US");
    dated(
        &c,
        US,
        &[
            ("2024-12-01", Clear),
            ("2024-12-02", License(Unspecified)),
            ("2024-12-03", License(Unspecified)),
        ],
    );
    destined(&c, US, &[("VN", Clear), ("MO", License(Unspecified))]);
    ship("US", "CN", "2025-01-10")
        .item(hbm(2.0), "US")
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_sme_rs_scope_duv_immersion() {
    // DCO <= 1.5 nm: 3B001.f.1.b RS (Macau/D:5) from 2023-11-17; NS2 needs a license to China anyway.
    let nxt2000 = ship("US", "CN", "2023-11-17").item(arf_immersion(1.4), "US");
    nxt2000.clone().on("2023-11-16").decide().expect(US, Clear);
    let d = nxt2000.decide();
    d.expect(US, License(Unspecified));
    d.must_rule(US, "us-rs-3b001-sme");
    d.must_rule(US, "chart:NS2");
    // In Germany NS2 is blank and RS out of scope.
    nxt2000.clone().to("DE").decide().expect(US, Clear);
    // DCO 2.0 nm: 3B993.f.1 (RS only) from 2024-12-02.
    let nxt1980 = ship("US", "CN", "2024-12-02").item(arf_immersion(2.0), "US");
    dated(
        &nxt1980,
        US,
        &[("2024-12-01", Clear), ("2024-12-02", License(Unspecified))],
    );
    destined(&nxt1980, US, &[("VN", Clear), ("DE", Clear)]);
}
