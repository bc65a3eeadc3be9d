//! Authorizations only when held (issue #14 item 6): a bulk license,
//! comprehensive license or VEU whose conditions hold authorizes only when
//! the request says the exporter holds it; otherwise the determination stays
//! LICENSE_REQUIRED and names the authorization that would be available.

use super::*;

#[track_caller]
fn names_available(d: &Decided, regime: &str, rule: &str, code: &str) {
    let det = d.must_rule(regime, rule);
    assert_eq!(det.outcome, Outcome::LicenseRequired, "{}", d.dump());
    assert_eq!(det.authorization, None, "{}", d.dump());
    let want = format!("would be covered by {regime} {code}");
    assert!(det.explanation.contains(&want), "{}", det.explanation);
}

#[test]
fn jp_bulk_licenses_only_when_held() {
    let group_a = ship("JP", "US", "2024-03-01").item(euv_resist(), "JP");
    let d = group_a.clone().decide();
    d.expect(JP, License(Unspecified));
    names_available(&d, JP, "jp-list", "general_bulk");
    group_a
        .clone()
        .holds(JP, "general_bulk")
        .decide()
        .expect(JP, Authorized("general_bulk"));
    // Holding the other kind of bulk license does not help.
    group_a
        .clone()
        .holds(JP, "special_general_bulk")
        .decide()
        .expect(JP, License(Unspecified));
    // The licence number is echoed.
    let with_ref = group_a
        .holds_ref(JP, "general_bulk", Some("METI-GB-2024-0042"))
        .decide();
    let det = with_ref.must_rule(JP, "jp-list");
    assert!(
        det.explanation.contains("METI-GB-2024-0042"),
        "{}",
        det.explanation
    );

    let other = ship("JP", "TW", "2024-03-01").item(euv_resist(), "JP");
    names_available(
        &other.clone().decide(),
        JP,
        "jp-list",
        "special_general_bulk",
    );
    other
        .holds(JP, "special_general_bulk")
        .decide()
        .expect(JP, Authorized("special_general_bulk"));
}

#[test]
fn kr_comprehensive_license_only_when_held() {
    let base = ship("KR", "US", "2024-03-01").item(resist(193.0), "KR");
    let d = base.clone().decide();
    d.expect(KR, License(Unspecified));
    names_available(&d, KR, "kr-list", "comprehensive");
    base.holds(KR, "comprehensive")
        .decide()
        .expect(KR, Authorized("comprehensive"));
}

#[test]
fn us_veu_only_when_held() {
    let base = ship("US", "CN", "2024-06-01")
        .item(tool_parts(), "US")
        .end_user("Samsung China Semiconductor Co., Ltd.")
        .nand_fab(176)
        .owner(Some("KR"));
    base.clone().decide().expect(US, License(CaseByCase));
    let d = base.clone().decide();
    let det = d
        .dets(US)
        .into_iter()
        .find(|x| x.explanation.contains("would be covered by US-EAR veu"))
        .unwrap_or_else(|| panic!("{}", d.dump()));
    assert_eq!(det.outcome, Outcome::LicenseRequired);
    base.holds(US, "veu").decide().expect(US, Authorized("veu"));
}

#[test]
fn unknown_eligibility_matters_only_when_held() {
    // Vietnam is neither among the known SME friendly destinations nor excluded.
    let base = ship("JP", "VN", "2024-01-10").item(euv_coater(), "JP");
    let d = base.clone().decide();
    d.expect(JP, License(Unspecified));
    let det = d.must_rule(JP, "jp-list");
    assert!(
        det.explanation.contains("general_bulk might cover it"),
        "{}",
        det.explanation
    );
    base.holds(JP, "general_bulk")
        .decide()
        .expect(JP, Indeterminate)
        .expect_missing(JP, "eligibility of VN for general_bulk");
}

#[test]
fn held_by_default_authorizes_without_holding() {
    let jp = exportctl_core::decide::bundled::PACKS
        .iter()
        .map(|(file, text)| {
            let text = if *file == "jp-fefta.toml" {
                text.replace(
                    "id = \"jp-general-bulk\"\n",
                    "id = \"jp-general-bulk\"\nheld_by_default = true\n",
                )
            } else {
                text.to_string()
            };
            policy::Source {
                file: file.to_string(),
                text,
            }
        })
        .collect::<Vec<_>>();
    let common = policy::Source {
        file: "common.toml".into(),
        text: exportctl_core::decide::bundled::COMMON.into(),
    };
    let set = PolicySet::from_sources(&common, &jp).expect("packs load");
    let s = ship("JP", "US", "2024-03-01").item(euv_resist(), "JP");
    let body = engine::decide(&set, &SCREENING, &s.shipment(), &EngineConfig::default());
    let det = body.lines[0]
        .determinations
        .iter()
        .find(|d| d.regime == JP && d.rule_id == "jp-list")
        .expect("jp-list");
    assert_eq!(det.outcome, Outcome::Authorized, "{det:?}");
    assert_eq!(det.authorization.as_deref(), Some("general_bulk"));
    // The bundled pack needs holding.
    s.decide().expect(JP, License(Unspecified));
}

#[test]
fn a_prohibition_is_never_covered_by_a_held_authorization() {
    // China's Announcement 46 to the United States: a listed item, prohibited.
    let d = ship("CN", "US", "2025-01-10")
        .item(gallium_nitride(), "CN")
        .holds(JP, "general_bulk")
        .decide();
    d.expect(CN, Prohibited);
    // Every authorization of every regime held: a ban stays PROHIBITED.
    for (export, to, item) in [
        ("JP", "RU", hydrogen_fluoride(99.9)),
        ("KR", "RU", resist(193.0)),
        ("DE", "RU", hydrogen_fluoride(99.9)),
        ("NL", "BY", euv_resist()),
    ] {
        let mut s = ship(export, to, "2023-06-01").item(item, export);
        for (regime, p) in &POLICIES.regimes {
            if POLICIES
                .applicable_regimes(export, export)
                .contains(&regime.as_str())
            {
                for code in p.authorization_codes() {
                    s = s.holds(regime, code);
                }
            }
        }
        let d = s.decide();
        assert_eq!(d.line().outcome, Outcome::Prohibited, "{}", d.dump());
        assert!(
            d.line()
                .determinations
                .iter()
                .all(|x| x.regime == US || x.outcome != Outcome::Authorized),
            "{}",
            d.dump()
        );
    }
}
