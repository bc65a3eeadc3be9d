//! Matching of the bundled rule packs, through the public API the gRPC layer uses
//! (`convert::spec_facts` then `RuleSet::classify`): every numeric threshold (just
//! below, at, just above), every effective date (day before, day, day after),
//! undetermined results, `because` lines and conditional reasons, monotonicity in
//! the vocabulary's capability direction (proptest), and the pure-classifier facts
//! of the acceptance scenarios (shared/regulatory/scenarios.yaml).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use exportctl_classifier::RuleSet;
use exportctl_classifier::convert::{as_of, spec_facts};
use exportctl_classifier::engine::{Match, RegimeResult};
use exportctl_classifier::pack::OUTSIDE_SCOPE_ID;
use exportctl_classifier::vocabulary::{AttrId, Capability, Value};
use exportctl_proto::classifier::{ItemKind, Parameter, ProductSpec, parameter};
use proptest::prelude::*;
use proptest::test_runner::Config;
use time::{Date, Duration};

const US: &str = "US-EAR";
const EU: &str = "EU-DU";
const JP: &str = "JP-FEFTA";
const KR: &str = "KR-FTA";
const NL: &str = "NL-NAT";
const CN: &str = "CN-ECL";

/// Expected matched entry ids, per regime; regimes left out must match nothing.
type Want<'a> = &'a [(&'a str, &'a [&'a str])];
const NONE: Want<'static> = &[];

/// Expected undetermined entries, per regime: `(entry id, missing attributes)`.
type WantUndetermined = &'static [(
    &'static str,
    &'static [(&'static str, &'static [&'static str])],
)];

/// The pack's scope entry: only the caller's own classification settles it.
const OUTSIDE: &[(&str, &[&str])] = &[(OUTSIDE_SCOPE_ID, &["classification"])];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::bundled().expect("bundled rule packs load"))
}

fn day(text: &str) -> Date {
    exportctl_core::dates::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

fn classify_on(spec: &ProductSpec, on: Date) -> Vec<RegimeResult<'static>> {
    let facts = spec_facts(spec, rules().vocabulary(), "spec")
        .unwrap_or_else(|v| panic!("invalid spec {spec:?}: {v:?}"));
    rules().classify(&facts, on, None)
}

fn classify(spec: &ProductSpec, on: &str) -> Vec<RegimeResult<'static>> {
    classify_on(spec, day(on))
}

fn regime<'r>(results: &'r [RegimeResult<'static>], code: &str) -> &'r RegimeResult<'static> {
    results
        .iter()
        .find(|r| r.pack.regime == code)
        .unwrap_or_else(|| panic!("no result for {code}"))
}

/// Matched entry ids of every regime (sorted; empty when nothing matched).
fn matched(results: &[RegimeResult<'_>]) -> BTreeMap<String, Vec<String>> {
    results
        .iter()
        .map(|r| {
            let mut ids: Vec<String> = r.matches.iter().map(|m| m.entry.id.clone()).collect();
            ids.sort();
            (r.pack.regime.clone(), ids)
        })
        .collect()
}

fn expected(want: Want<'_>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = rules()
        .packs()
        .map(|p| (p.regime.clone(), Vec::new()))
        .collect();
    for (code, ids) in want {
        let slot = out
            .get_mut(*code)
            .unwrap_or_else(|| panic!("unknown regime {code}"));
        slot.extend(ids.iter().map(|s| s.to_string()));
        slot.sort();
    }
    out
}

fn check_on(label: &str, spec: &ProductSpec, on: Date, want: Want<'_>) {
    assert_eq!(
        matched(&classify_on(spec, on)),
        expected(want),
        "{label} on {}: {spec:?}",
        exportctl_core::dates::format(on)
    );
}

fn check(label: &str, spec: &ProductSpec, on: &str, want: Want<'_>) {
    check_on(label, spec, day(on), want);
}

/// A spec built around `threshold`: just below it, at it, just above it (adjacent doubles).
fn check_threshold(
    label: &str,
    on: &str,
    threshold: f64,
    make: impl Fn(f64) -> ProductSpec,
    [below, at, above]: [Want<'_>; 3],
) {
    for (position, value, want) in [
        ("just below", threshold.next_down(), below),
        ("at", threshold, at),
        ("just above", threshold.next_up(), above),
    ] {
        check(
            &format!("{label}: {position} {threshold} ({value})"),
            &make(value),
            on,
            want,
        );
    }
}

/// One spec on the day before, the day of, and the day after an effective date.
fn check_dates(
    label: &str,
    spec: &ProductSpec,
    effective: &str,
    [before, on, after]: [Want<'_>; 3],
) {
    let d = day(effective);
    for (when, date, want) in [
        ("day before", d.previous_day().unwrap(), before),
        ("effective day", d, on),
        ("day after", d.next_day().unwrap(), after),
    ] {
        check_on(&format!("{label} ({when})"), spec, date, want);
    }
}

/// Undetermined entries of every regime with what they lack (sorted).
fn undetermined(results: &[RegimeResult<'_>]) -> BTreeMap<String, Vec<(String, Vec<String>)>> {
    results
        .iter()
        .map(|r| {
            let mut entries: Vec<(String, Vec<String>)> = r
                .undetermined
                .iter()
                .map(|u| {
                    (
                        u.entry.id.clone(),
                        u.missing.iter().map(|s| s.to_string()).collect(),
                    )
                })
                .collect();
            entries.sort();
            (r.pack.regime.clone(), entries)
        })
        .collect()
}

fn expected_undetermined(want: WantUndetermined) -> BTreeMap<String, Vec<(String, Vec<String>)>> {
    let mut out: BTreeMap<String, Vec<(String, Vec<String>)>> = rules()
        .packs()
        .map(|p| (p.regime.clone(), Vec::new()))
        .collect();
    for (code, entries) in want {
        let slot = out.get_mut(*code).expect("known regime");
        for (id, missing) in *entries {
            slot.push((
                id.to_string(),
                missing.iter().map(|s| s.to_string()).collect(),
            ));
        }
        slot.sort();
    }
    out
}

fn find_match<'r>(
    results: &'r [RegimeResult<'static>],
    code: &str,
    id: &str,
) -> &'r Match<'static> {
    regime(results, code)
        .matches
        .iter()
        .find(|m| m.entry.id == id)
        .unwrap_or_else(|| panic!("{code} {id} did not match"))
}

// Spec builders. Fields are then set with struct-update syntax: `ProductSpec { tpp: …, ..ic() }`.

fn of_kind(kind: ItemKind) -> ProductSpec {
    ProductSpec {
        kind: kind as i32,
        ..Default::default()
    }
}

fn ic() -> ProductSpec {
    of_kind(ItemKind::IntegratedCircuit)
}

fn equipment(function: &str) -> ProductSpec {
    ProductSpec {
        equipment_function: function.into(),
        ..of_kind(ItemKind::Equipment)
    }
}

fn material(name: &str) -> ProductSpec {
    ProductSpec {
        material: name.into(),
        ..of_kind(ItemKind::Material)
    }
}

fn flag(mut spec: ProductSpec, name: &str, value: bool) -> ProductSpec {
    spec.parameters.push(Parameter {
        name: name.into(),
        value: Some(parameter::Value::Flag(value)),
        unit: String::new(),
    });
    spec
}

/// A processor IC: TPP, performance density, transfer rate (any may be absent).
fn chip(tpp: Option<f64>, density: Option<f64>, transfer: Option<f64>) -> ProductSpec {
    ProductSpec {
        tpp,
        performance_density: density,
        transfer_rate_gbps: transfer,
        ..ic()
    }
}

fn hbm(bandwidth_density: f64) -> ProductSpec {
    ProductSpec {
        memory_type: "hbm".into(),
        bandwidth_density_gbps_mm2: Some(bandwidth_density),
        ..ic()
    }
}

fn scanner(wavelength: f64, na: f64, overlay: Option<f64>) -> ProductSpec {
    ProductSpec {
        wavelength_nm: Some(wavelength),
        numerical_aperture: Some(na),
        dedicated_chuck_overlay_nm: overlay,
        ..equipment("lithography")
    }
}

fn resist(tone: &str, wavelength: f64) -> ProductSpec {
    ProductSpec {
        resist_tone: tone.into(),
        wavelength_nm: Some(wavelength),
        ..material("photoresist")
    }
}

fn polyimide(fluorine: f64) -> ProductSpec {
    ProductSpec {
        fluorine_content_percent: Some(fluorine),
        ..material("fluorinated_polyimide")
    }
}

fn hydrogen_fluoride(concentration: f64) -> ProductSpec {
    ProductSpec {
        concentration_percent: Some(concentration),
        ..material("hydrogen_fluoride")
    }
}

fn epitaxy(pre_clean: bool, temperature: f64) -> ProductSpec {
    let spec = ProductSpec {
        deposition_temperature_c: Some(temperature),
        ..equipment("epitaxy")
    };
    flag(spec, "pre_clean_chamber", pre_clean)
}

fn etcher(isotropic: bool, selectivity: f64) -> ProductSpec {
    let spec = ProductSpec {
        etch_selectivity: Some(selectivity),
        ..equipment("etch")
    };
    flag(
        flag(spec, "isotropic", isotropic),
        "high_aspect_ratio",
        false,
    )
}

/// The NA at which an ArF (193 nm) scanner's MRF is exactly 45 nm.
fn na_for_mrf_45() -> f64 {
    193.0 * rules().vocabulary().mrf_k().unwrap() / 45.0
}

// ---------------------------------------------------------------------------
// 1. Numeric thresholds: just below, at, just above
// ---------------------------------------------------------------------------

const US_3A090_A: Want<'static> = &[(US, &["3A090.a"])];
const US_3A090_B: Want<'static> = &[(US, &["3A090.b"])];

#[test]
fn us_3a090_a_2022_version_needs_tpp_4800_and_transfer_rate_600() {
    let on = "2023-01-01";
    let want = [NONE, US_3A090_A, US_3A090_A];
    check_threshold(
        "3A090.a (2022) tpp",
        on,
        4800.0,
        |x| chip(Some(x), None, Some(600.0)),
        want,
    );
    check_threshold(
        "3A090.a (2022) transfer rate",
        on,
        600.0,
        |x| chip(Some(4800.0), None, Some(x)),
        want,
    );
    // Performance density plays no part in the 2022 version.
    check(
        "3A090.a (2022) high PD, low TPP",
        &chip(Some(4799.0), Some(50.0), Some(900.0)),
        on,
        NONE,
    );
}

#[test]
fn us_3a090_a_2023_version_a1_tpp_4800_and_a2_tpp_1600_with_density_5_92() {
    let on = "2024-01-01";
    // a.1: TPP alone (a low density keeps a.2 and 3A090.b out of it).
    check_threshold(
        "3A090.a.1 tpp",
        on,
        4800.0,
        |x| chip(Some(x), Some(1.0), None),
        [NONE, US_3A090_A, US_3A090_A],
    );
    // a.2: TPP 1600 with PD 5.92 (3A090.b needs PD < 5.92, so nothing below).
    check_threshold(
        "3A090.a.2 tpp",
        on,
        1600.0,
        |x| chip(Some(x), Some(5.92), None),
        [NONE, US_3A090_A, US_3A090_A],
    );
    // a.2 density: just below 5.92 the chip falls into 3A090.b (b.2: TPP >= 1600, 3.2 <= PD < 5.92).
    check_threshold(
        "3A090.a.2 performance density",
        on,
        5.92,
        |x| chip(Some(1700.0), Some(x), None),
        [US_3A090_B, US_3A090_A, US_3A090_A],
    );
    // The 2023 version ignores the transfer rate.
    check(
        "3A090.a (2023) no transfer rate",
        &chip(Some(4800.0), Some(1.0), None),
        on,
        US_3A090_A,
    );
}

#[test]
fn us_3a090_b_bands() {
    let on = "2024-01-01";
    // b.1: 2400 <= TPP < 4800 and 1.6 <= PD < 5.92.
    check_threshold(
        "3A090.b.1 tpp lower",
        on,
        2400.0,
        |x| chip(Some(x), Some(2.0), None),
        [NONE, US_3A090_B, US_3A090_B],
    );
    check_threshold(
        "3A090.b.1 tpp upper (3A090.a.1 from 4800)",
        on,
        4800.0,
        |x| chip(Some(x), Some(2.0), None),
        [US_3A090_B, US_3A090_A, US_3A090_A],
    );
    check_threshold(
        "3A090.b.1 pd lower",
        on,
        1.6,
        |x| chip(Some(3000.0), Some(x), None),
        [NONE, US_3A090_B, US_3A090_B],
    );
    check_threshold(
        "3A090.b.1 pd upper (3A090.a.2 from 5.92)",
        on,
        5.92,
        |x| chip(Some(3000.0), Some(x), None),
        [US_3A090_B, US_3A090_A, US_3A090_A],
    );
    // b.2: TPP >= 1600 and 3.2 <= PD < 5.92.
    check_threshold(
        "3A090.b.2 tpp lower",
        on,
        1600.0,
        |x| chip(Some(x), Some(4.0), None),
        [NONE, US_3A090_B, US_3A090_B],
    );
    check_threshold(
        "3A090.b.2 pd lower",
        on,
        3.2,
        |x| chip(Some(2000.0), Some(x), None),
        [NONE, US_3A090_B, US_3A090_B],
    );
}

/// 3A090.b reads "integrated circuits, not specified by 3A090.a, …" (88 FR 73458): a chip
/// with TPP >= 4800 and 3.2 <= PD < 5.92 is 3A090.a.1 only. The pack's b.2 branch has no
/// TPP ceiling, so it reports both.
#[test]
fn us_3a090_a1_chip_is_not_also_3a090_b() {
    check(
        "tpp 5000, PD 4",
        &chip(Some(5000.0), Some(4.0), None),
        "2024-01-01",
        US_3A090_A,
    );
}

#[test]
fn us_3a090_c_bandwidth_density_strictly_above_2() {
    let c: Want<'_> = &[(US, &["3A090.c"])];
    check_threshold("3A090.c", "2025-01-01", 2.0, hbm, [NONE, NONE, c]);
    // Memory ICs are never 3A090.a/b, whatever their TPP.
    let hbm_with_tpp = ProductSpec {
        tpp: Some(9000.0),
        performance_density: Some(9.0),
        ..hbm(1.0)
    };
    check("HBM with TPP", &hbm_with_tpp, "2025-01-01", NONE);
}

#[test]
fn us_3b001_a_4_epitaxy_at_or_below_685_c() {
    let on = "2024-01-01";
    const LISTED: Want<'static> = &[
        (US, &["3B001.a.4"]),
        (JP, &["7(SME).low_temperature_epitaxy"]),
        (NL, &["NL.low_temperature_epitaxy"]),
    ];
    const OTHERS: Want<'static> = &[
        (JP, &["7(SME).low_temperature_epitaxy"]),
        (NL, &["NL.low_temperature_epitaxy"]),
    ];
    check_threshold(
        "3B001.a.4",
        on,
        685.0,
        |t| epitaxy(true, t),
        [LISTED, LISTED, OTHERS],
    );
    check(
        "3B001.a.4 without pre-clean chamber",
        &epitaxy(false, 600.0),
        on,
        OTHERS,
    );
}

#[test]
fn us_3b001_c_1_a_isotropic_etch_selectivity_100() {
    let on = "2024-01-01";
    const LISTED: Want<'static> = &[
        (US, &["3B001.c.1.a"]),
        (JP, &["7(SME).sige_selective_etch"]),
    ];
    check_threshold(
        "3B001.c.1.a",
        on,
        100.0,
        |s| etcher(true, s),
        [NONE, LISTED, LISTED],
    );
    // Both the US and the JP item (isotropic dry and wet SiGe-selective etch) need isotropy.
    check("anisotropic etch 150:1", &etcher(false, 150.0), on, &[]);
}

#[test]
fn lithography_3b001_f_1_a_wavelength_strictly_below_193() {
    // NA 0.5 keeps the MRF far above 45 nm and the DUV-immersion entries (NA > 1) out.
    const EUV_LIKE: Want<'static> = &[
        (US, &["3B001.f.1.a"]),
        (EU, &["3B001.f.1.a"]),
        (KR, &["3B001.f.1.a"]),
    ];
    for on in ["2020-01-01", "2025-01-01"] {
        check_threshold(
            "3B001.f.1.a",
            on,
            193.0,
            |w| scanner(w, 0.5, None),
            [EUV_LIKE, NONE, NONE],
        );
    }
}

#[test]
fn lithography_3b001_f_1_b_mrf_45_from_wavelength_and_na() {
    let na = na_for_mrf_45();
    // The engine's own arithmetic gives exactly 45 nm at this NA.
    let facts = spec_facts(&scanner(193.0, na, None), rules().vocabulary(), "spec").unwrap();
    let mrf = rules()
        .vocabulary()
        .id("minimum_resolvable_feature_nm")
        .unwrap();
    assert_eq!(facts.get(mrf), Some(Value::Number(45.0)));

    const MRF: Want<'static> = &[
        (US, &["3B001.f.1.b"]),
        (EU, &["3B001.f.1.b"]),
        (KR, &["3B001.f.1.b"]),
    ];
    // Before the SME rules (2022): only the Wassenaar MRF test. A larger NA is a smaller MRF.
    check_threshold(
        "MRF 45 (2023-01-01)",
        "2023-01-01",
        na,
        |x| scanner(193.0, x, None),
        [NONE, MRF, MRF],
    );
    // In 2024 an overlay of 3 nm keeps the DCO branch out; NA > 1 makes it JP's ArF immersion item.
    const MRF_2024: Want<'static> = &[
        (US, &["3B001.f.1.b"]),
        (EU, &["3B001.f.1.b"]),
        (KR, &["3B001.f.1.b"]),
        (JP, &["7(SME).arf_immersion_lithography"]),
    ];
    const JP_ONLY: Want<'static> = &[(JP, &["7(SME).arf_immersion_lithography"])];
    check_threshold(
        "MRF 45 (2024-01-01)",
        "2024-01-01",
        na,
        |x| scanner(193.0, x, Some(3.0)),
        [JP_ONLY, MRF_2024, MRF_2024],
    );
    // NA 1.35 at 193 nm: MRF 50.04 nm, not listed by the formula.
    check(
        "ArF NA 1.35",
        &scanner(193.0, 1.35, None),
        "2023-01-01",
        NONE,
    );
}

#[test]
fn duv_immersion_overlay_1_5_from_2023_11_17() {
    // 2024-01-01: US 3B001.f.1.b DCO branch and the first Dutch version (DCO <= 1.5).
    const LISTED: Want<'static> = &[
        (US, &["3B001.f.1.b"]),
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    const JP_ONLY: Want<'static> = &[(JP, &["7(SME).arf_immersion_lithography"])];
    check_threshold(
        "DCO 1.5 (2024-01-01)",
        "2024-01-01",
        1.5,
        |d| scanner(193.0, 1.35, Some(d)),
        [LISTED, LISTED, JP_ONLY],
    );
}

#[test]
fn duv_immersion_overlay_bands_from_2024_12_02() {
    // 2025-01-01: DCO <= 1.5 is 3B001.f.1.b, 1.5 < DCO <= 2.4 is 3B993.f.1; NL lists up to 2.4.
    let on = "2025-01-01";
    const F1B: Want<'static> = &[
        (US, &["3B001.f.1.b"]),
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    const B993: Want<'static> = &[
        (US, &["3B993.f.1"]),
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    const JP_ONLY: Want<'static> = &[(JP, &["7(SME).arf_immersion_lithography"])];
    let make = |d| scanner(193.0, 1.35, Some(d));
    check_threshold(
        "DCO 1.5 (3B993.f.1 exclusive)",
        on,
        1.5,
        make,
        [F1B, F1B, B993],
    );
    check_threshold(
        "DCO 2.4 (3B993.f.1 inclusive)",
        on,
        2.4,
        make,
        [B993, B993, JP_ONLY],
    );
}

#[test]
fn duv_immersion_wavelength_band_and_na_above_1() {
    // Overlay 1.0 nm, 2025: the DUV-immersion branch needs 193 <= wavelength < 248 and NA > 1.
    let on = "2025-01-01";
    const DUV: Want<'static> = &[
        (US, &["3B001.f.1.b"]),
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    const BELOW_193: Want<'static> = &[
        (US, &["3B001.f.1.a"]),
        (EU, &["3B001.f.1.a"]),
        (KR, &["3B001.f.1.a"]),
    ];
    let at_wavelength = |w| scanner(w, 1.35, Some(1.0));
    check_threshold(
        "DUV wavelength 193",
        on,
        193.0,
        at_wavelength,
        [BELOW_193, DUV, DUV],
    );
    check_threshold(
        "DUV wavelength 248",
        on,
        248.0,
        at_wavelength,
        [DUV, NONE, NONE],
    );
    check_threshold(
        "DUV NA 1.0",
        on,
        1.0,
        |na| scanner(193.0, na, Some(1.0)),
        [NONE, NONE, DUV],
    );
    // Between 1.5 and 2.4 nm the same bounds decide 3B993.f.1.
    const B993: Want<'static> = &[
        (US, &["3B993.f.1"]),
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    check_threshold(
        "3B993.f.1 NA 1.0",
        on,
        1.0,
        |na| scanner(193.0, na, Some(2.0)),
        [NONE, NONE, B993],
    );
    check_threshold(
        "3B993.f.1 wavelength 248",
        on,
        248.0,
        |w| scanner(w, 1.35, Some(2.0)),
        [B993, NONE, NONE],
    );
}

const EUV_RESIST: Want<'static> = &[
    (US, &["3C002.a.2"]),
    (EU, &["3C002.a.2"]),
    (KR, &["3C002.a.2"]),
    (JP, &["7(19)"]),
];
const ARF_RESIST: Want<'static> = &[
    (US, &["3C002.a.1"]),
    (EU, &["3C002.a.1"]),
    (KR, &["3C002.a.1"]),
    (JP, &["7(19)"]),
];
const KRF_RESIST: Want<'static> = &[(US, &["3C992"])];

#[test]
fn resist_wavelength_bands_1_15_245_370() {
    let on = "2020-01-01";
    let positive = |w| resist("positive", w);
    check_threshold("resist 1 nm", on, 1.0, positive, [NONE, NONE, EUV_RESIST]);
    check_threshold(
        "resist 15 nm",
        on,
        15.0,
        positive,
        [EUV_RESIST, ARF_RESIST, ARF_RESIST],
    );
    check_threshold(
        "resist 245 nm",
        on,
        245.0,
        positive,
        [ARF_RESIST, KRF_RESIST, KRF_RESIST],
    );
    check_threshold(
        "resist 370 nm",
        on,
        370.0,
        positive,
        [KRF_RESIST, KRF_RESIST, NONE],
    );
    // Tone: 3C002.a.1, 3C992 and the first half of 7(19) need a positive resist; a.2 does not.
    check("negative ArF resist", &resist("negative", 193.0), on, NONE);
    check("negative KrF resist", &resist("negative", 248.0), on, NONE);
    check(
        "negative EUV resist",
        &resist("negative", 13.5),
        on,
        EUV_RESIST,
    );
}

#[test]
fn fluorinated_polyimide_10_percent_fluorine() {
    const LISTED: Want<'static> = &[
        (US, &["1C009.b"]),
        (EU, &["1C009.b"]),
        (KR, &["1C009.b"]),
        (JP, &["5(17)"]),
    ];
    check_threshold(
        "1C009.b / 5(17)",
        "2020-01-01",
        10.0,
        polyimide,
        [NONE, LISTED, LISTED],
    );
}

#[test]
fn hydrogen_fluoride_strictly_above_30_percent() {
    const LISTED: Want<'static> = &[
        (US, &["1C350"]),
        (EU, &["1C350"]),
        (JP, &["3(1)"]),
        (KR, &["1C350"]),
    ];
    // Exactly 30 % is not listed.
    check_threshold(
        "1C350 / 3(1)",
        "2020-01-01",
        30.0,
        hydrogen_fluoride,
        [NONE, NONE, LISTED],
    );
    check(
        "anhydrous HF",
        &hydrogen_fluoride(100.0),
        "2020-01-01",
        LISTED,
    );
}

#[test]
fn jp_euv_coater_developer_below_15_nm() {
    let coater = |w| ProductSpec {
        wavelength_nm: Some(w),
        ..equipment("resist_processing")
    };
    const LISTED: Want<'static> = &[(JP, &["7(SME).euv_coater_developer"])];
    check_threshold(
        "JP EUV coater",
        "2024-01-01",
        15.0,
        coater,
        [LISTED, NONE, NONE],
    );
}

#[test]
fn cn_gallium_and_germanium_items() {
    let gallium = [
        "gallium_metal",
        "gallium_nitride",
        "gallium_oxide",
        "gallium_phosphide",
        "gallium_arsenide",
        "indium_gallium_arsenide",
        "gallium_selenide",
        "gallium_antimonide",
    ];
    let germanium = [
        "germanium_metal",
        "zone_refined_germanium_ingot",
        "zinc_germanium_phosphide",
        "germanium_epitaxial_substrate",
        "germanium_dioxide",
        "germanium_tetrachloride",
    ];
    for m in gallium {
        check(m, &material(m), "2024-01-01", &[(CN, &["2023-23.gallium"])]);
    }
    for m in germanium {
        check(
            m,
            &material(m),
            "2024-01-01",
            &[(CN, &["2023-23.germanium"])],
        );
    }
    for m in ["silicon_wafer", "wet_clean_chemical", "other"] {
        check(m, &material(m), "2024-01-01", NONE);
    }
}

// ---------------------------------------------------------------------------
// 2. Effective dates: day before, day, day after
// ---------------------------------------------------------------------------

#[test]
fn us_3a090_a_2022_version_from_2022_10_07() {
    let chip_2022 = chip(Some(5000.0), None, Some(700.0));
    check_dates(
        "3A090.a 2022",
        &chip_2022,
        "2022-10-07",
        [NONE, US_3A090_A, US_3A090_A],
    );
}

#[test]
fn us_3a090_a_switches_versions_on_2023_11_17() {
    // A800-like: TPP 4992, 400 GB/s (below the 2022 transfer-rate test), PD 6.0.
    let a800 = chip(Some(4992.0), Some(6.0), Some(400.0));
    check_dates("A800", &a800, "2023-11-17", [NONE, US_3A090_A, US_3A090_A]);
    // A chip meeting both versions is matched by the version in force that day.
    let h100 = chip(Some(16000.0), Some(20.0), Some(900.0));
    for (on, from) in [("2023-11-16", "2022-10-07"), ("2023-11-17", "2023-11-17")] {
        let results = classify(&h100, on);
        let m = find_match(&results, US, "3A090.a");
        assert_eq!(m.version.from, day(from), "version in force on {on}");
    }
}

#[test]
fn us_3a090_b_from_2023_11_17() {
    check_dates(
        "3A090.b",
        &chip(Some(3000.0), Some(2.0), None),
        "2023-11-17",
        [NONE, US_3A090_B, US_3A090_B],
    );
}

#[test]
fn us_3a090_c_from_2024_12_02() {
    const C: Want<'static> = &[(US, &["3A090.c"])];
    check_dates("3A090.c", &hbm(3.0), "2024-12-02", [NONE, C, C]);
}

#[test]
fn us_sme_paragraphs_from_2023_11_17() {
    const EPI_OTHERS: Want<'static> = &[
        (JP, &["7(SME).low_temperature_epitaxy"]),
        (NL, &["NL.low_temperature_epitaxy"]),
    ];
    const EPI: Want<'static> = &[
        (US, &["3B001.a.4"]),
        (JP, &["7(SME).low_temperature_epitaxy"]),
        (NL, &["NL.low_temperature_epitaxy"]),
    ];
    check_dates(
        "3B001.a.4",
        &epitaxy(true, 600.0),
        "2023-11-17",
        [EPI_OTHERS, EPI, EPI],
    );

    const ETCH_JP: Want<'static> = &[(JP, &["7(SME).sige_selective_etch"])];
    const ETCH: Want<'static> = &[
        (US, &["3B001.c.1.a"]),
        (JP, &["7(SME).sige_selective_etch"]),
    ];
    check_dates(
        "3B001.c.1.a",
        &etcher(true, 150.0),
        "2023-11-17",
        [ETCH_JP, ETCH, ETCH],
    );

    const DUV_OTHERS: Want<'static> = &[
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    const DUV: Want<'static> = &[
        (US, &["3B001.f.1.b"]),
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    check_dates(
        "3B001.f.1.b DCO branch",
        &scanner(193.0, 1.35, Some(1.4)),
        "2023-11-17",
        [DUV_OTHERS, DUV, DUV],
    );
}

#[test]
fn us_3b993_f_1_from_2024_12_02() {
    const BEFORE: Want<'static> = &[
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    const AFTER: Want<'static> = &[
        (US, &["3B993.f.1"]),
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    check_dates(
        "3B993.f.1",
        &scanner(193.0, 1.35, Some(2.0)),
        "2024-12-02",
        [BEFORE, AFTER, AFTER],
    );
}

#[test]
fn jp_sme_items_from_2023_07_23() {
    let items: [(&str, ProductSpec); 11] = [
        (
            "7(SME).euv_coater_developer",
            ProductSpec {
                wavelength_nm: Some(13.5),
                ..equipment("resist_processing")
            },
        ),
        (
            "7(SME).arf_immersion_lithography",
            scanner(193.0, 1.35, Some(3.0)),
        ),
        ("7(SME).euv_pellicle", material("euv_pellicle")),
        (
            "7(SME).euv_pellicle_manufacturing",
            equipment("pellicle_manufacturing"),
        ),
        ("7(SME).sige_selective_etch", etcher(true, 100.0)),
        (
            "7(SME).high_aspect_ratio_etch",
            flag(equipment("etch"), "high_aspect_ratio", true),
        ),
        ("7(SME).low_temperature_epitaxy", epitaxy(false, 800.0)),
        (
            "7(SME).euv_mask_inspection",
            flag(equipment("inspection"), "euv_mask", true),
        ),
        (
            "7(SME).cleaning_deposition_annealing",
            flag(equipment("cleaning"), "jp_sme_2023_item", true),
        ),
        (
            "7(SME).cleaning_deposition_annealing",
            flag(equipment("deposition"), "jp_sme_2023_item", true),
        ),
        (
            "7(SME).cleaning_deposition_annealing",
            flag(equipment("annealing"), "jp_sme_2023_item", true),
        ),
    ];
    for (id, spec) in items {
        let ids = [id];
        let want: Want<'_> = &[(JP, &ids)];
        check_dates(id, &spec, "2023-07-23", [NONE, want, want]);
    }
    // The exporter's own "not one of the 23" determination is definite.
    let not_item = flag(equipment("deposition"), "jp_sme_2023_item", false);
    let results = classify(&not_item, "2024-01-01");
    assert_eq!(regime(&results, JP).not_listed_label(), Some("NOT-LISTED"));
}

#[test]
fn nl_national_list_dates() {
    const JP_ARF: Want<'static> = &[(JP, &["7(SME).arf_immersion_lithography"])];
    const JP_ARF_NL: Want<'static> = &[
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    // 2023-09-01: DCO <= 1.5 (NXT:2000i class) and low-temperature epitaxy.
    check_dates(
        "NL DCO 1.4",
        &scanner(193.0, 1.35, Some(1.4)),
        "2023-09-01",
        [JP_ARF, JP_ARF_NL, JP_ARF_NL],
    );
    const EPI_JP: Want<'static> = &[(JP, &["7(SME).low_temperature_epitaxy"])];
    const EPI: Want<'static> = &[
        (JP, &["7(SME).low_temperature_epitaxy"]),
        (NL, &["NL.low_temperature_epitaxy"]),
    ];
    check_dates(
        "NL epitaxy",
        &epitaxy(false, 800.0),
        "2023-09-01",
        [EPI_JP, EPI, EPI],
    );
    // 2024-09-07: 1.5 < DCO <= 2.4 (NXT:1970i / 1980i).
    check_dates(
        "NL DCO 2.0",
        &scanner(193.0, 1.35, Some(2.0)),
        "2024-09-07",
        [JP_ARF, JP_ARF_NL, JP_ARF_NL],
    );
    // 2025-04-01: metrology and inspection, on the exporter's determination.
    const METRO: Want<'static> = &[(NL, &["NL.metrology_inspection"])];
    for function in ["metrology", "inspection"] {
        let spec = flag(
            flag(equipment(function), "nl_metrology_item", true),
            "euv_mask",
            false,
        );
        check_dates(function, &spec, "2025-04-01", [NONE, METRO, METRO]);
    }
}

#[test]
fn cn_gallium_germanium_from_2023_08_01() {
    const GA: Want<'static> = &[(CN, &["2023-23.gallium"])];
    const GE: Want<'static> = &[(CN, &["2023-23.germanium"])];
    check_dates(
        "GaN",
        &material("gallium_nitride"),
        "2023-08-01",
        [NONE, GA, GA],
    );
    check_dates(
        "Ge",
        &material("germanium_metal"),
        "2023-08-01",
        [NONE, GE, GE],
    );
}

#[test]
fn packs_speak_from_2019_01_01() {
    // Entries in force since 2019-01-01 have no earlier version: dates before it are refused
    // at the request boundary rather than answered "not listed".
    assert_eq!(rules().covers_from(), day("2019-01-01"));
    let err = as_of("2018-12-31", rules(), "as_of").unwrap_err();
    assert_eq!(err.field, "as_of");
    assert!(err.description.contains("2019-01-01"), "{err:?}");
    assert_eq!(as_of("2019-01-01", rules(), "as_of"), Ok(day("2019-01-01")));
    for on in ["2019-01-01", "2019-01-02"] {
        check("EUV resist", &resist("positive", 13.5), on, EUV_RESIST);
        check(
            "EUV scanner",
            &scanner(13.5, 0.33, None),
            on,
            &[
                (US, &["3B001.f.1.a", "3B001.f.1.b"]),
                (EU, &["3B001.f.1.a", "3B001.f.1.b"]),
                (KR, &["3B001.f.1.a", "3B001.f.1.b"]),
            ],
        );
    }
}

// ---------------------------------------------------------------------------
// 3. Undetermined
// ---------------------------------------------------------------------------

fn assert_undetermined(spec: &ProductSpec, on: &str, want: WantUndetermined) {
    let results = classify(spec, on);
    assert_eq!(
        undetermined(&results),
        expected_undetermined(want),
        "{spec:?} on {on}"
    );
    for r in &results {
        assert!(
            r.matches.is_empty(),
            "{} matched {:?}",
            r.pack.regime,
            matched(&results)
        );
        let open = !r.undetermined.is_empty();
        assert_eq!(
            r.not_listed_label().is_none(),
            open,
            "{}: a not-listed label only when nothing is undetermined",
            r.pack.regime
        );
    }
}

#[test]
fn photoresist_without_wavelength_is_undetermined() {
    const WL: &[&str] = &["wavelength_nm"];
    let spec = ProductSpec {
        resist_tone: "positive".into(),
        ..material("photoresist")
    };
    assert_undetermined(
        &spec,
        "2024-01-01",
        &[
            (US, &[("3C002.a.1", WL), ("3C002.a.2", WL), ("3C992", WL)]),
            (EU, &[("3C002.a.1", WL), ("3C002.a.2", WL)]),
            (KR, &[("3C002.a.1", WL), ("3C002.a.2", WL)]),
            (JP, &[("7(19)", WL)]),
        ],
    );
    // Without the tone either, the tone-dependent entries name it too.
    const BOTH: &[&str] = &["resist_tone", "wavelength_nm"];
    assert_undetermined(
        &material("photoresist"),
        "2024-01-01",
        &[
            (
                US,
                &[("3C002.a.1", BOTH), ("3C002.a.2", WL), ("3C992", BOTH)],
            ),
            (EU, &[("3C002.a.1", BOTH), ("3C002.a.2", WL)]),
            (KR, &[("3C002.a.1", BOTH), ("3C002.a.2", WL)]),
            (JP, &[("7(19)", BOTH)]),
        ],
    );
}

#[test]
fn dram_without_tpp_is_ear99_not_undetermined() {
    let dram = ProductSpec {
        memory_type: "dram".into(),
        ..ic()
    };
    for on in ["2023-01-01", "2024-01-01", "2025-01-01"] {
        let results = classify(&dram, on);
        assert_eq!(matched(&results), expected(NONE), "{on}");
        // The packs without IC entries say so rather than "not listed".
        assert_eq!(
            undetermined(&results),
            expected_undetermined(&[(EU, OUTSIDE), (JP, OUTSIDE), (KR, OUTSIDE), (CN, OUTSIDE)]),
            "{on}"
        );
        assert_eq!(regime(&results, US).not_listed_label(), Some("EAR99"));
    }
    // A processor IC without TPP, by contrast, is undetermined for 3A090.
    assert_undetermined(
        &ic(),
        "2023-01-01",
        &[
            (US, &[("3A090.a", &["tpp", "transfer_rate_gbps"])]),
            (EU, OUTSIDE),
            (JP, OUTSIDE),
            (KR, OUTSIDE),
            (CN, OUTSIDE),
        ],
    );
    const TPP_PD: &[&str] = &["performance_density", "tpp"];
    assert_undetermined(
        &ic(),
        "2024-01-01",
        &[
            (US, &[("3A090.a", TPP_PD), ("3A090.b", TPP_PD)]),
            (EU, OUTSIDE),
            (JP, OUTSIDE),
            (KR, OUTSIDE),
            (CN, OUTSIDE),
        ],
    );
    // A TPP below 1600 is decided without the density.
    let results = classify(&chip(Some(1000.0), None, None), "2024-01-01");
    assert_eq!(regime(&results, US).not_listed_label(), Some("EAR99"));
    // HBM without its bandwidth density.
    let bare_hbm = ProductSpec {
        memory_type: "hbm".into(),
        ..ic()
    };
    assert_undetermined(
        &bare_hbm,
        "2025-01-01",
        &[
            (US, &[("3A090.c", &["bandwidth_density_gbps_mm2"])]),
            (EU, OUTSIDE),
            (JP, OUTSIDE),
            (KR, OUTSIDE),
            (CN, OUTSIDE),
        ],
    );
}

#[test]
fn lithography_with_only_wavelength_is_undetermined_for_numerical_aperture() {
    let spec = ProductSpec {
        wavelength_nm: Some(193.0),
        ..equipment("lithography")
    };
    let results = classify(&spec, "2025-01-01");
    let open = undetermined(&results);
    let ids = |code: &str| -> Vec<&str> { open[code].iter().map(|(id, _)| id.as_str()).collect() };
    assert_eq!(ids(US), ["3B001.f.1.b", "3B993.f.1"]);
    assert_eq!(ids(EU), ["3B001.f.1.b"]);
    assert_eq!(ids(KR), ["3B001.f.1.b"]);
    assert_eq!(ids(JP), ["7(SME).arf_immersion_lithography"]);
    assert_eq!(ids(NL), ["NL.duv_immersion_lithography"]);
    // China's pack has no equipment entries: outside its scope, not "not listed".
    assert_eq!(ids(CN), [OUTSIDE_SCOPE_ID]);
    for (code, entries) in &open {
        for (id, missing) in entries.iter().filter(|(id, _)| id != OUTSIDE_SCOPE_ID) {
            assert!(
                missing.iter().any(|m| m == "numerical_aperture"),
                "{code} {id}: {missing:?}"
            );
        }
        let r = regime(&results, code);
        assert!(r.matches.is_empty(), "{code}");
        assert_eq!(
            r.not_listed_label().is_none(),
            !entries.is_empty(),
            "{code}"
        );
    }
    // Entries not involving the MRF name exactly what is missing.
    let missing = |code: &str, id: &str| -> Vec<String> {
        open[code].iter().find(|(i, _)| i == id).unwrap().1.clone()
    };
    assert_eq!(
        missing(JP, "7(SME).arf_immersion_lithography"),
        ["numerical_aperture"]
    );
    assert_eq!(
        missing(US, "3B993.f.1"),
        ["dedicated_chuck_overlay_nm", "numerical_aperture"]
    );
    assert_eq!(
        missing(NL, "NL.duv_immersion_lithography"),
        ["dedicated_chuck_overlay_nm", "numerical_aperture"]
    );
    // With the NA given (MRF 50.04 nm), JP decides and only the overlay is left open.
    let arf = scanner(193.0, 1.35, None);
    check(
        "ArF NA 1.35, no overlay",
        &arf,
        "2025-01-01",
        &[(JP, &["7(SME).arf_immersion_lithography"])],
    );
    const DCO: &[&str] = &["dedicated_chuck_overlay_nm"];
    assert_eq!(
        undetermined(&classify(&arf, "2025-01-01")),
        expected_undetermined(&[
            (US, &[("3B001.f.1.b", DCO), ("3B993.f.1", DCO)]),
            (NL, &[("NL.duv_immersion_lithography", DCO)]),
            (CN, OUTSIDE),
        ])
    );
}

/// `Criterion::missing_facts` names both MRF inputs for the derived attribute, even the
/// one the spec gives: a 193 nm tool without NA is told it lacks `wavelength_nm`.
#[test]
fn derived_mrf_does_not_report_a_supplied_wavelength_as_missing() {
    let spec = ProductSpec {
        wavelength_nm: Some(193.0),
        ..equipment("lithography")
    };
    assert_undetermined(
        &spec,
        "2020-01-01",
        &[
            (US, &[("3B001.f.1.b", &["numerical_aperture"])]),
            (EU, &[("3B001.f.1.b", &["numerical_aperture"])]),
            (KR, &[("3B001.f.1.b", &["numerical_aperture"])]),
            (CN, OUTSIDE),
        ],
    );
}

// ---------------------------------------------------------------------------
// 4. `because` lines and conditional reasons
// ---------------------------------------------------------------------------

#[test]
fn a2_chip_because_lines() {
    let results = classify(&chip(Some(1700.0), Some(6.0), None), "2024-03-01");
    let m = find_match(&results, US, "3A090.a");
    assert_eq!(
        m.because,
        [
            "kind = integrated_circuit",
            "memory_type (none) not in [dram, nand, hbm]",
            "tpp 1700 >= 1600",
            "performance_density 6 >= 5.92",
        ]
    );
    assert_eq!(m.reasons, ["RS", "AT1"]);

    // Only the branches that held are reported.
    let results = classify(&chip(Some(4992.0), Some(1.0), None), "2024-03-01");
    let m = find_match(&results, US, "3A090.a");
    assert!(
        m.because.contains(&"tpp 4992 >= 4800".to_string()),
        "{:?}",
        m.because
    );
    assert!(
        !m.because
            .iter()
            .any(|b| b.starts_with("performance_density")),
        "{:?}",
        m.because
    );

    // The 2022 version reports both of its parameters.
    let results = classify(&chip(Some(4800.0), None, Some(600.0)), "2023-01-01");
    let m = find_match(&results, US, "3A090.a");
    assert!(
        m.because.contains(&"tpp 4800 >= 4800".to_string()),
        "{:?}",
        m.because
    );
    assert!(
        m.because
            .contains(&"transfer_rate_gbps 600 >= 600".to_string()),
        "{:?}",
        m.because
    );
}

#[test]
fn threshold_because_lines_show_the_spec_values() {
    for (spec, on, code, id, line) in [
        (
            hbm(2.5),
            "2025-01-01",
            US,
            "3A090.c",
            "bandwidth_density_gbps_mm2 2.5 > 2",
        ),
        (
            epitaxy(true, 685.0),
            "2024-01-01",
            US,
            "3B001.a.4",
            "deposition_temperature_c 685 <= 685",
        ),
        (
            etcher(true, 100.0),
            "2024-01-01",
            US,
            "3B001.c.1.a",
            "etch_selectivity 100 >= 100",
        ),
        (
            hydrogen_fluoride(49.0),
            "2024-01-01",
            JP,
            "3(1)",
            "concentration_percent 49 > 30",
        ),
        (
            polyimide(10.0),
            "2024-01-01",
            KR,
            "1C009.b",
            "fluorine_content_percent 10 >= 10",
        ),
        (
            resist("positive", 13.5),
            "2024-01-01",
            EU,
            "3C002.a.2",
            "wavelength_nm 13.5 < 15",
        ),
        (
            scanner(193.0, 1.35, Some(2.4)),
            "2025-01-01",
            US,
            "3B993.f.1",
            "dedicated_chuck_overlay_nm 2.4 <= 2.4",
        ),
    ] {
        let results = classify(&spec, on);
        let m = find_match(&results, code, id);
        assert!(
            m.because.iter().any(|b| b == line),
            "{code} {id}: {:?}",
            m.because
        );
    }
}

#[test]
fn f_1_b_rs_reason_only_when_the_overlay_branch_matched() {
    let on = "2024-01-01";
    // DCO branch only (MRF 50.04 nm).
    let results = classify(&scanner(193.0, 1.35, Some(1.4)), on);
    let m = find_match(&results, US, "3B001.f.1.b");
    assert_eq!(m.reasons, ["NS2", "AT1", "RS"]);
    assert_eq!(
        m.because,
        [
            "kind = equipment",
            "equipment_function = lithography",
            "wavelength_nm 193 >= 193",
            "wavelength_nm 193 < 248",
            "numerical_aperture 1.35 > 1",
            "dedicated_chuck_overlay_nm 1.4 <= 1.5",
        ]
    );
    // MRF branch only (NA 1.55: MRF 43.58 nm), overlay 2 nm or unknown: no RS.
    for overlay in [Some(2.0), None] {
        let results = classify(&scanner(193.0, 1.55, overlay), on);
        let m = find_match(&results, US, "3B001.f.1.b");
        assert_eq!(m.reasons, ["NS2", "AT1"], "overlay {overlay:?}");
        assert_eq!(
            m.because,
            [
                "kind = equipment",
                "equipment_function = lithography",
                "minimum_resolvable_feature_nm 43.5806 <= 45",
            ]
        );
    }
    // Both branches: RS.
    let results = classify(&scanner(193.0, 1.55, Some(1.0)), on);
    assert_eq!(
        find_match(&results, US, "3B001.f.1.b").reasons,
        ["NS2", "AT1", "RS"]
    );
    // Before 2023-11-17 there is no RS at all.
    let results = classify(&scanner(193.0, 1.55, Some(1.0)), "2023-11-16");
    assert_eq!(
        find_match(&results, US, "3B001.f.1.b").reasons,
        ["NS2", "AT1"]
    );
}

/// The RS reason's `when` is `dedicated_chuck_overlay_nm <= 1.5` alone, not the whole DCO
/// branch: an EUV scanner (MRF match) that states a 1.0 nm overlay gets RS although the
/// DUV-immersion paragraph did not match.
#[test]
fn f_1_b_rs_reason_not_for_an_mrf_match_with_small_overlay() {
    let results = classify(&scanner(13.5, 0.33, Some(1.0)), "2024-01-01");
    assert_eq!(
        find_match(&results, US, "3B001.f.1.b").reasons,
        ["NS2", "AT1"]
    );
}

// ---------------------------------------------------------------------------
// 5. Monotonicity in the capability direction (proptest)
// ---------------------------------------------------------------------------

/// The ProductSpec number field of an attribute; `None` for the integer `memory_layers`.
fn number_field<'s>(spec: &'s mut ProductSpec, name: &str) -> Option<&'s mut Option<f64>> {
    Some(match name {
        "process_node_nm" => &mut spec.process_node_nm,
        "dram_half_pitch_nm" => &mut spec.dram_half_pitch_nm,
        "wavelength_nm" => &mut spec.wavelength_nm,
        "concentration_percent" => &mut spec.concentration_percent,
        "fluorine_content_percent" => &mut spec.fluorine_content_percent,
        "tpp" => &mut spec.tpp,
        "performance_density" => &mut spec.performance_density,
        "transfer_rate_gbps" => &mut spec.transfer_rate_gbps,
        "bandwidth_density_gbps_mm2" => &mut spec.bandwidth_density_gbps_mm2,
        "dedicated_chuck_overlay_nm" => &mut spec.dedicated_chuck_overlay_nm,
        "etch_selectivity" => &mut spec.etch_selectivity,
        "deposition_temperature_c" => &mut spec.deposition_temperature_c,
        "numerical_aperture" => &mut spec.numerical_aperture,
        "memory_layers" => return None,
        other => panic!("no ProductSpec number field for `{other}`"),
    })
}

/// None, a threshold or its neighbouring doubles, or any value of the range.
fn number(
    points: &'static [f64],
    range: std::ops::Range<f64>,
) -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        1 => Just(None),
        3 => (prop::sample::select(points), -1i8..=1)
            .prop_map(|(x, side)| Some(match side {
                -1 => x.next_down(),
                0 => x,
                _ => x.next_up(),
            })),
        3 => range.prop_map(Some),
    ]
}

fn text(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(values).prop_map(String::from)
}

fn maybe_flag(spec: ProductSpec, name: &str, value: Option<bool>) -> ProductSpec {
    match value {
        Some(v) => flag(spec, name, v),
        None => spec,
    }
}

fn any_ic() -> impl Strategy<Value = ProductSpec> {
    (
        number(&[1600.0, 2400.0, 4800.0], 0.0..10_000.0),
        number(&[1.6, 3.2, 5.92], 0.0..10.0),
        number(&[600.0], 0.0..1500.0),
        number(&[2.0], 0.0..5.0),
        text(&["", "dram", "nand", "hbm", "other"]),
    )
        .prop_map(|(tpp, pd, transfer, bandwidth, memory)| ProductSpec {
            bandwidth_density_gbps_mm2: bandwidth,
            memory_type: memory,
            ..chip(tpp, pd, transfer)
        })
}

fn any_scanner() -> impl Strategy<Value = ProductSpec> {
    (
        number(&[13.5, 193.0, 248.0, 365.0], 1.0..400.0),
        number(&[1.0, 1.35, 1.501_111_111_111_111], 0.01..2.0),
        number(&[1.5, 2.4], 0.0..5.0),
    )
        .prop_map(|(wavelength, na, overlay)| ProductSpec {
            wavelength_nm: wavelength,
            numerical_aperture: na,
            dedicated_chuck_overlay_nm: overlay,
            ..equipment("lithography")
        })
}

fn any_material() -> impl Strategy<Value = ProductSpec> {
    (
        text(&[
            "photoresist",
            "fluorinated_polyimide",
            "hydrogen_fluoride",
            "gallium_nitride",
            "germanium_metal",
            "euv_pellicle",
            "other",
        ]),
        number(&[30.0], 0.0..100.0),
        number(&[10.0], 0.0..100.0),
        number(&[1.0, 13.5, 15.0, 193.0, 245.0, 248.0, 370.0], 0.0..500.0),
        text(&["", "positive", "negative"]),
    )
        .prop_map(
            |(name, concentration, fluorine, wavelength, tone)| ProductSpec {
                concentration_percent: concentration,
                fluorine_content_percent: fluorine,
                wavelength_nm: wavelength,
                resist_tone: tone,
                ..material(&name)
            },
        )
}

fn any_etcher() -> impl Strategy<Value = ProductSpec> {
    (
        number(&[100.0], 0.0..300.0),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(selectivity, isotropic, har)| {
            let spec = ProductSpec {
                etch_selectivity: selectivity,
                ..equipment("etch")
            };
            maybe_flag(
                maybe_flag(spec, "isotropic", isotropic),
                "high_aspect_ratio",
                har,
            )
        })
}

fn any_epitaxy() -> impl Strategy<Value = ProductSpec> {
    (
        number(&[685.0], 0.0..1200.0),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(temperature, pre_clean)| {
            let spec = ProductSpec {
                deposition_temperature_c: temperature,
                ..equipment("epitaxy")
            };
            maybe_flag(spec, "pre_clean_chamber", pre_clean)
        })
}

fn any_spec() -> impl Strategy<Value = ProductSpec> {
    prop_oneof![
        any_ic(),
        any_scanner(),
        any_material(),
        any_etcher(),
        any_epitaxy()
    ]
}

fn any_date() -> impl Strategy<Value = Date> {
    let first = day("2019-01-01");
    let days = (day("2026-12-31") - first).whole_days();
    (0..=days).prop_map(move |d| first + Duration::days(d))
}

/// How far to move a value: one ulp, or up to 1, 100 or 10 000 units.
fn any_step() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.0..1.0, 0.0..100.0, 0.0..10_000.0]
}

/// Regimes with at least one match.
fn listed_regimes(spec: &ProductSpec, on: Date) -> Vec<String> {
    classify_on(spec, on)
        .into_iter()
        .filter(|r| !r.matches.is_empty())
        .map(|r| r.pack.regime.clone())
        .collect()
}

proptest! {
    #![proptest_config(Config {
        cases: 2000,
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn more_capable_is_never_less_listed(spec in any_spec(), on in any_date(), step in any_step()) {
        let vocab = rules().vocabulary();
        let before = listed_regimes(&spec, on);
        for id in 0..vocab.attributes().len() as AttrId {
            let def = vocab.def(id);
            let Some(capability) = def.capability else { continue };
            if !def.spec_field {
                continue; // derived (MRF): moves with wavelength and NA
            }
            let mut moved = spec.clone();
            let Some(slot) = number_field(&mut moved, &def.name) else { continue };
            let Some(x) = *slot else { continue };
            let y = match capability {
                Capability::Higher => (x + step).max(x.next_up()).min(def.max),
                Capability::Lower => (x - step).min(x.next_down()).max(def.min),
            };
            *slot = Some(y);
            let after = listed_regimes(&moved, on);
            for regime in &before {
                prop_assert!(
                    after.contains(regime),
                    "{regime} listed {spec:?} on {on} but not with {} {x} -> {y}",
                    def.name
                );
            }
        }
    }
}

#[test]
fn every_capability_attribute_of_a_spec_is_moved_by_the_property() {
    let vocab = rules().vocabulary();
    let mut spec = ProductSpec::default();
    for def in vocab.attributes() {
        if def.capability.is_some() && def.spec_field && def.name != "memory_layers" {
            assert!(number_field(&mut spec, &def.name).is_some(), "{}", def.name);
        }
    }
}

// ---------------------------------------------------------------------------
// 6. Acceptance scenarios: the classifier's part
// ---------------------------------------------------------------------------

/// One scenario: every regime's matches, and for the regime the scenario is about, a
/// definite answer (not-listed label exactly when nothing matched).
fn scenario(id: &str, code: &str, on: &str, spec: &ProductSpec, want: Want<'_>) {
    check(id, spec, on, want);
    let results = classify(spec, on);
    let r = regime(&results, code);
    assert!(r.undetermined.is_empty(), "{id}: {code} undetermined");
    let label = r
        .matches
        .is_empty()
        .then_some(r.pack.not_listed_label.as_str());
    assert_eq!(r.not_listed_label(), label, "{id}");
}

#[test]
fn scenarios_japan_korea_materials_and_equipment() {
    let euv = resist("positive", 13.5);
    let arf = resist("positive", 193.0);
    let coater = ProductSpec {
        wavelength_nm: Some(13.5),
        ..equipment("resist_processing")
    };
    const HF: Want<'static> = &[
        (US, &["1C350"]),
        (EU, &["1C350"]),
        (JP, &["3(1)"]),
        (KR, &["1C350"]),
    ];
    const FPI: Want<'static> = &[
        (US, &["1C009.b"]),
        (EU, &["1C009.b"]),
        (KR, &["1C009.b"]),
        (JP, &["5(17)"]),
    ];
    const COATER: Want<'static> = &[(JP, &["7(SME).euv_coater_developer"])];
    scenario(
        "jp-euv-resist-kr-2019-07-03",
        JP,
        "2019-07-03",
        &euv,
        EUV_RESIST,
    );
    scenario(
        "jp-euv-resist-kr-2019-07-05",
        JP,
        "2019-07-05",
        &euv,
        EUV_RESIST,
    );
    scenario(
        "jp-hf-kr-2019-08-15",
        JP,
        "2019-08-15",
        &hydrogen_fluoride(99.999),
        HF,
    );
    scenario(
        "jp-fpi-kr-2019-07-10",
        JP,
        "2019-07-10",
        &polyimide(12.0),
        FPI,
    );
    scenario(
        "jp-euv-resist-kr-2023-07-20",
        JP,
        "2023-07-20",
        &euv,
        EUV_RESIST,
    );
    scenario(
        "jp-euv-resist-kr-2023-07-22",
        JP,
        "2023-07-22",
        &euv,
        EUV_RESIST,
    );
    scenario(
        "jp-euv-coater-cn-2023-07-20",
        JP,
        "2023-07-20",
        &coater,
        NONE,
    );
    scenario(
        "jp-euv-coater-cn-2023-07-24",
        JP,
        "2023-07-24",
        &coater,
        COATER,
    );
    scenario(
        "kr-arf-resist-jp-2019-09-17",
        KR,
        "2019-09-17",
        &arf,
        ARF_RESIST,
    );
    scenario(
        "kr-arf-resist-jp-2019-09-19",
        KR,
        "2019-09-19",
        &arf,
        ARF_RESIST,
    );
}

#[test]
fn scenarios_us_items() {
    let a800 = chip(Some(4992.0), Some(6.0), Some(400.0));
    let a2 = chip(Some(1700.0), Some(6.0), None);
    let valves = ProductSpec {
        description: "stainless vacuum valves".into(),
        ..of_kind(ItemKind::Other)
    };
    let chemical = material("wet_clean_chemical");
    let parts = ProductSpec {
        description: "replacement parts for installed deposition tools".into(),
        ..of_kind(ItemKind::Equipment)
    };
    let micron = ProductSpec {
        memory_type: "dram".into(),
        manufacturer: "Micron Technology".into(),
        ..ic()
    };
    scenario("us-a800-cn-2022-11-15", US, "2022-11-15", &a800, NONE);
    scenario("us-a800-cn-2023-12-01", US, "2023-12-01", &a800, US_3A090_A);
    scenario(
        "us-tpp1700-pd6-cn-2024-03-01",
        US,
        "2024-03-01",
        &a2,
        US_3A090_A,
    );
    // The rest are EAR99: their outcomes come from end-user and end-use rules.
    scenario("us-valves-smic-2020-12-17", US, "2020-12-17", &valves, NONE);
    scenario("us-valves-smic-2020-12-19", US, "2020-12-19", &valves, NONE);
    scenario(
        "us-chemical-cn-fab-16nm-finfet",
        US,
        "2023-03-01",
        &chemical,
        NONE,
    );
    scenario(
        "us-chemical-cn-fab-2022-10-06",
        US,
        "2022-10-06",
        &chemical,
        NONE,
    );
    scenario(
        "us-parts-samsung-xian-veu-2024",
        US,
        "2024-06-01",
        &parts,
        NONE,
    );
    scenario("us-parts-samsung-xian-2026", US, "2026-01-15", &parts, NONE);
    scenario(
        "us-micron-dram-cn-cii-2023-05-22",
        US,
        "2023-05-22",
        &micron,
        NONE,
    );
    let results = classify(&valves, "2020-12-19");
    assert_eq!(regime(&results, US).not_listed_label(), Some("EAR99"));
}

#[test]
fn scenarios_netherlands_and_china() {
    let nxt2000i = ProductSpec {
        model: "NXT:2000i".into(),
        ..scanner(193.0, 1.35, Some(1.4))
    };
    // MRF 50.04 nm: not 3B001.f.1.b by the formula (EU, KR, US); the US overlay
    // paragraph only from 2023-11-17. JP lists every ArF immersion scanner from 2023-07-23.
    const BEFORE: Want<'static> = &[(JP, &["7(SME).arf_immersion_lithography"])];
    const AFTER: Want<'static> = &[
        (JP, &["7(SME).arf_immersion_lithography"]),
        (NL, &["NL.duv_immersion_lithography"]),
    ];
    scenario(
        "nl-nxt2000i-cn-2023-08-31",
        NL,
        "2023-08-31",
        &nxt2000i,
        BEFORE,
    );
    scenario(
        "nl-nxt2000i-cn-2023-09-02",
        NL,
        "2023-09-02",
        &nxt2000i,
        AFTER,
    );
    let results = classify(&nxt2000i, "2023-09-02");
    assert_eq!(regime(&results, EU).not_listed_label(), Some("NOT-LISTED"));

    let gan = material("gallium_nitride");
    const GA: Want<'static> = &[(CN, &["2023-23.gallium"])];
    scenario("cn-gan-wafers-jp-2023-07-31", CN, "2023-07-31", &gan, NONE);
    scenario("cn-gan-wafers-jp-2023-08-02", CN, "2023-08-02", &gan, GA);
}

// ---------------------------------------------------------------------------
// 7. Computers (4A090, 4A003.b, 4A994.b, 5A992.c), 3A001 and 3A991 components
// ---------------------------------------------------------------------------

fn param(mut spec: ProductSpec, name: &str, x: f64) -> ProductSpec {
    spec.parameters.push(Parameter {
        name: name.into(),
        value: Some(parameter::Value::Number(x)),
        unit: String::new(),
    });
    spec
}

fn text_param(mut spec: ProductSpec, name: &str, value: &str) -> ProductSpec {
    spec.parameters.push(Parameter {
        name: name.into(),
        value: Some(parameter::Value::Text(value.into())),
        unit: String::new(),
    });
    spec
}

/// A computer or assembly described by the most capable IC it contains (any may be absent).
fn computer(tpp: Option<f64>, density: Option<f64>, transfer: Option<f64>) -> ProductSpec {
    let mut spec = of_kind(ItemKind::Computer);
    for (name, x) in [
        ("contained_ic_tpp", tpp),
        ("contained_ic_performance_density", density),
        ("contained_ic_transfer_rate_gbps", transfer),
    ] {
        if let Some(x) = x {
            spec = param(spec, name, x);
        }
    }
    spec
}

/// A computer below 4A090, with its APP and encryption status.
fn plain_computer(app: f64, mass_market: bool) -> ProductSpec {
    let spec = param(
        computer(Some(100.0), Some(0.5), Some(64.0)),
        "adjusted_peak_performance_wt",
        app,
    );
    flag(spec, "mass_market_encryption", mass_market)
}

const US_4A090_A: Want<'static> = &[(US, &["4A090.a"])];
const US_4A090_B: Want<'static> = &[(US, &["4A090.b"])];
const US_4A994_B: Want<'static> = &[(US, &["4A994.b"])];

#[test]
fn us_4a090_a_2022_version_needs_contained_ic_tpp_4800_and_transfer_rate_600() {
    let want = [NONE, US_4A090_A, US_4A090_A];
    check_threshold(
        "4A090.a (2022) tpp",
        "2023-01-01",
        4800.0,
        |x| computer(Some(x), None, Some(600.0)),
        want,
    );
    check_threshold(
        "4A090.a (2022) transfer rate",
        "2023-01-01",
        600.0,
        |x| computer(Some(4800.0), None, Some(x)),
        want,
    );
}

#[test]
fn us_4a090_2023_versions_follow_3a090_a_and_b() {
    let on = "2024-01-01";
    check_threshold(
        "4A090.a.1 tpp",
        on,
        4800.0,
        |x| computer(Some(x), Some(1.0), None),
        [NONE, US_4A090_A, US_4A090_A],
    );
    check_threshold(
        "4A090.a.2 density",
        on,
        5.92,
        |x| computer(Some(1600.0), Some(x), None),
        [US_4A090_B, US_4A090_A, US_4A090_A],
    );
    check_threshold(
        "4A090.b tpp 2400 band",
        on,
        2400.0,
        |x| computer(Some(x), Some(1.6), None),
        [NONE, US_4A090_B, US_4A090_B],
    );
    check_threshold(
        "4A090.b density 3.2 band",
        on,
        3.2,
        |x| computer(Some(1600.0), Some(x), None),
        [NONE, US_4A090_B, US_4A090_B],
    );
    check_threshold(
        "4A090.b density 1.6",
        on,
        1.6,
        |x| computer(Some(2400.0), Some(x), None),
        [NONE, US_4A090_B, US_4A090_B],
    );
    // At TPP 4800 the item is 4A090.a, whatever its density.
    check(
        "4A090.a.1 is not also .b",
        &computer(Some(4800.0), Some(2.0), None),
        on,
        US_4A090_A,
    );
}

#[test]
fn us_4a090_effective_dates() {
    let big = computer(Some(4992.0), Some(6.0), Some(600.0));
    check_dates(
        "4A090.a from 2022-10-07",
        &big,
        "2022-10-07",
        [NONE, US_4A090_A, US_4A090_A],
    );
    // A density-only (a.2) computer without a 600 GB/s IC is 4A090.a only from 2023-11-17.
    let a2 = computer(Some(1700.0), Some(6.0), Some(400.0));
    check_dates(
        "4A090.a.2 from 2023-11-17",
        &a2,
        "2023-11-17",
        [NONE, US_4A090_A, US_4A090_A],
    );
    let b = computer(Some(2500.0), Some(2.0), Some(400.0));
    check_dates(
        "4A090.b from 2023-11-17",
        &b,
        "2023-11-17",
        [NONE, US_4A090_B, US_4A090_B],
    );
}

#[test]
fn eight_gpu_server_to_china_is_not_ear99() {
    // Eight GPUs with TPP 15832 and density 19.4 each; the server's own APP and encryption.
    let server = flag(
        param(
            computer(Some(15832.0), Some(19.4), Some(900.0)),
            "adjusted_peak_performance_wt",
            60.0,
        ),
        "mass_market_encryption",
        true,
    );
    for on in ["2023-01-01", "2024-03-01", "2026-01-15"] {
        let results = classify(&server, on);
        let us = regime(&results, US);
        assert!(
            us.matches.iter().any(|m| m.entry.id == "4A090.a"),
            "{on}: {:?}",
            matched(&results)
        );
        assert_eq!(us.not_listed_label(), None, "{on}");
        assert_eq!(find_match(&results, US, "4A090.a").reasons, ["RS", "AT1"]);
    }
    // A server spec that says nothing of its ICs is undetermined, never EAR99.
    let bare = of_kind(ItemKind::Computer);
    let results = classify(&bare, "2024-03-01");
    let us = regime(&results, US);
    assert!(us.matches.is_empty());
    assert_eq!(us.not_listed_label(), None);
    let open: Vec<&str> = us
        .undetermined
        .iter()
        .map(|u| u.entry.id.as_str())
        .collect();
    assert_eq!(
        open,
        ["4A090.a", "4A090.b", "4A003.b", "4A994.b", "5A992.c"]
    );
    let a = &us.undetermined[0];
    assert!(a.missing.contains(&"contained_ic_tpp"), "{:?}", a.missing);
}

#[test]
fn us_4a994_b_and_4a003_b_by_adjusted_peak_performance() {
    let on = "2024-01-01";
    check_threshold(
        "4A994.b lower APP limit (exclusive)",
        on,
        0.0128,
        |x| plain_computer(x, false),
        [NONE, NONE, US_4A994_B],
    );
    check_threshold(
        "4A994.b / 4A003.b at 70 WT",
        on,
        70.0,
        |x| plain_computer(x, false),
        [US_4A994_B, US_4A994_B, &[(US, &["4A003.b"])]],
    );
    let results = classify(&plain_computer(100.0, false), on);
    assert_eq!(find_match(&results, US, "4A003.b").reasons, ["NS1", "AT1"]);
}

#[test]
fn us_5a992_c_for_mass_market_encryption_computers() {
    let on = "2024-01-01";
    check(
        "mass-market encryption",
        &plain_computer(1.0, true),
        on,
        &[(US, &["5A992.c"])],
    );
    check("no encryption", &plain_computer(1.0, false), on, US_4A994_B);
    // Without the flag both are open.
    let unknown = param(
        computer(Some(100.0), Some(0.5), Some(64.0)),
        "adjusted_peak_performance_wt",
        1.0,
    );
    assert_undetermined(
        &unknown,
        on,
        &[
            (
                US,
                &[
                    ("4A994.b", &["mass_market_encryption"]),
                    ("5A992.c", &["mass_market_encryption"]),
                ],
            ),
            (EU, OUTSIDE),
            (JP, OUTSIDE),
            (KR, OUTSIDE),
            (CN, OUTSIDE),
        ],
    );
}

#[test]
fn us_4a994_b_gives_way_to_4a090_on_its_dates() {
    let with = |spec: ProductSpec| {
        flag(
            param(spec, "adjusted_peak_performance_wt", 1.0),
            "mass_market_encryption",
            false,
        )
    };
    let b = with(computer(Some(2500.0), Some(2.0), Some(400.0)));
    check_dates(
        "4A090.b computer",
        &b,
        "2023-11-17",
        [US_4A994_B, US_4A090_B, US_4A090_B],
    );
    let a = with(computer(Some(4992.0), Some(6.0), Some(600.0)));
    check_dates(
        "4A090.a computer",
        &a,
        "2022-10-07",
        [US_4A994_B, US_4A090_A, US_4A090_A],
    );
}

fn rad_hard_ic(dose: Option<f64>) -> ProductSpec {
    let spec = flag(
        chip(Some(100.0), Some(0.1), Some(10.0)),
        "radiation_hardened",
        true,
    );
    match dose {
        Some(d) => param(spec, "total_dose_gy_si", d),
        None => spec,
    }
}

#[test]
fn us_3a001_a_1_a_total_dose_5000_gy() {
    check_threshold(
        "3A001.a.1.a total dose",
        "2024-01-01",
        5000.0,
        |x| rad_hard_ic(Some(x)),
        [NONE, &[(US, &["3A001.a.1.a"])], &[(US, &["3A001.a.1.a"])]],
    );
    let results = classify(&rad_hard_ic(Some(10_000.0)), "2024-01-01");
    let m = find_match(&results, US, "3A001.a.1.a");
    assert_eq!(m.reasons, ["NS2", "AT1"]);
    // Not declared radiation hardened: decided, EAR99.
    let plain = chip(Some(100.0), Some(0.1), Some(10.0));
    let results = classify(&plain, "2024-01-01");
    assert_eq!(regime(&results, US).not_listed_label(), Some("EAR99"));
    // Radiation hardened without its rating: undetermined for that fact only.
    let results = classify(&rad_hard_ic(None), "2024-01-01");
    let us = regime(&results, US);
    assert_eq!(us.undetermined.len(), 1);
    assert_eq!(us.undetermined[0].entry.id, "3A001.a.1.a");
    assert_eq!(us.undetermined[0].missing, ["total_dose_gy_si"]);
}

fn microwave(function: &str, ghz: f64, watts: f64) -> ProductSpec {
    let spec = text_param(
        chip(Some(10.0), Some(0.1), Some(1.0)),
        "ic_function",
        function,
    );
    param(
        param(spec, "frequency_ghz", ghz),
        "peak_saturated_power_w",
        watts,
    )
}

#[test]
fn us_3a001_b_2_mmic_power_limits_by_band() {
    const B2: Want<'static> = &[(US, &["3A001.b.2"])];
    for (ghz, watts) in [
        (2.8, 75.0),
        (3.0, 55.0),
        (3.5, 40.0),
        (5.0, 20.0),
        (8.0, 10.0),
        (10.0, 5.0),
        (20.0, 3.0),
        (40.0, 1.0),
        (50.0, 0.03162),
        (80.0, 0.01),
    ] {
        check_threshold(
            &format!("3A001.b.2 at {ghz} GHz"),
            "2024-01-01",
            watts,
            |w| microwave("mmic_amplifier", ghz, w),
            [NONE, NONE, B2],
        );
    }
    // Band edges: 2.7 GHz is below the first band; 31.8-37 GHz lists any power.
    check(
        "2.7 GHz",
        &microwave("mmic_amplifier", 2.7, 1000.0),
        "2024-01-01",
        NONE,
    );
    check(
        "2.7+ GHz",
        &microwave("mmic_amplifier", 2.7f64.next_up(), 1000.0),
        "2024-01-01",
        B2,
    );
    check(
        "35 GHz",
        &microwave("mmic_amplifier", 35.0, 0.001),
        "2024-01-01",
        B2,
    );
    let results = classify(&microwave("mmic_amplifier", 10.0, 6.0), "2024-01-01");
    let m = find_match(&results, US, "3A001.b.2");
    assert_eq!(m.reasons, ["NS1", "RS", "AT1"]);
    // An MMIC without its ratings is undetermined for b.2 (and only b.2).
    let bare = text_param(
        chip(Some(10.0), Some(0.1), Some(1.0)),
        "ic_function",
        "mmic_amplifier",
    );
    let results = classify(&bare, "2024-01-01");
    let us = regime(&results, US);
    assert_eq!(us.undetermined.len(), 1);
    assert_eq!(us.undetermined[0].entry.id, "3A001.b.2");
    assert_eq!(
        us.undetermined[0].missing,
        ["frequency_ghz", "peak_saturated_power_w"]
    );
}

#[test]
fn us_3a001_b_3_discrete_transistor_power_limits_by_band() {
    const B3: Want<'static> = &[(US, &["3A001.b.3"])];
    for (ghz, watts) in [
        (2.8, 400.0),
        (5.0, 60.0),
        (10.0, 15.0),
        (14.0, 40.0),
        (20.0, 7.0),
        (40.0, 1.0),
    ] {
        check_threshold(
            &format!("3A001.b.3 at {ghz} GHz"),
            "2024-01-01",
            watts,
            |w| microwave("discrete_microwave_transistor", ghz, w),
            [NONE, NONE, B3],
        );
    }
    // The MMIC limits do not apply to a discrete transistor.
    check(
        "transistor 10 GHz 6 W",
        &microwave("discrete_microwave_transistor", 10.0, 6.0),
        "2024-01-01",
        NONE,
    );
}

#[test]
fn us_3a991_a_2_microprocessor_clock_above_25_mhz() {
    let cpu = |mhz: f64| {
        param(
            text_param(
                chip(Some(100.0), Some(0.1), Some(10.0)),
                "ic_function",
                "microprocessor",
            ),
            "clock_frequency_mhz",
            mhz,
        )
    };
    check_threshold(
        "3A991.a.2 clock",
        "2024-01-01",
        25.0,
        cpu,
        [NONE, NONE, &[(US, &["3A991.a.2"])]],
    );
    // A radiation-hardened microprocessor of 3A001.a.1.a is not 3A991.
    let rad = param(
        flag(cpu(100.0), "radiation_hardened", true),
        "total_dose_gy_si",
        5000.0,
    );
    check(
        "rad-hard cpu",
        &rad,
        "2024-01-01",
        &[(US, &["3A001.a.1.a"])],
    );
}

// ---------------------------------------------------------------------------
// 8. A pack's scope: outside it is undetermined, never "not listed"
// ---------------------------------------------------------------------------

#[test]
fn software_and_technology_are_outside_the_us_pack_not_ear99() {
    for kind in [ItemKind::Software, ItemKind::Technology] {
        let spec = of_kind(kind);
        let results = classify(&spec, "2024-01-01");
        let us = regime(&results, US);
        assert!(us.matches.is_empty());
        assert_eq!(us.not_listed_label(), None, "{kind:?}: never EAR99");
        assert!(us.outside_scope.is_some(), "{kind:?}");
        assert_eq!(us.undetermined.len(), 1);
        assert_eq!(us.undetermined[0].entry.id, OUTSIDE_SCOPE_ID);
        assert_eq!(us.undetermined[0].missing, ["classification"]);
        // The Dutch national list names SME only: anything else is truly not on it.
        assert_eq!(regime(&results, NL).not_listed_label(), Some("NOT-LISTED"));
    }
    // An IC is outside the packs that encode no ICs (EU, JP, KR, CN).
    let results = classify(&chip(Some(100.0), Some(0.1), Some(10.0)), "2024-01-01");
    for code in [EU, JP, KR, CN] {
        assert_eq!(
            regime(&results, code).outside_scope,
            Some("integrated_circuit"),
            "{code}"
        );
        assert_eq!(regime(&results, code).not_listed_label(), None, "{code}");
    }
    assert_eq!(regime(&results, US).not_listed_label(), Some("EAR99"));
}

#[test]
fn outside_scope_renders_as_undetermined_with_the_kind_named() {
    use exportctl_classifier::convert::{classify_query, classify_response};
    use exportctl_proto::classifier::{ClassificationStatus, ClassifyRequest};
    let req = ClassifyRequest {
        spec: Some(of_kind(ItemKind::Software)),
        as_of: "2024-01-01".into(),
        regimes: vec![US.into()],
    };
    let query = classify_query(&req, rules()).expect("valid request");
    let results = rules().classify(&query.facts, query.as_of, query.regimes.as_deref());
    let resp = classify_response(&query, rules(), &results);
    let us = &resp.regimes[0];
    assert_eq!(us.status, ClassificationStatus::Undetermined as i32);
    assert!(us.not_listed_label.is_empty());
    assert_eq!(us.undetermined.len(), 1);
    let entry = &us.undetermined[0];
    assert_eq!(entry.entry_id, OUTSIDE_SCOPE_ID);
    assert!(
        entry
            .title
            .starts_with("Kind software: Outside the bundled US-EAR pack's scope"),
        "{}",
        entry.title
    );
    assert!(!entry.citations.is_empty());
}

// ---------------------------------------------------------------------------
// 7. China's materials beyond gallium and germanium; Korea's 1C350
// ---------------------------------------------------------------------------

/// A material with a purity.
fn pure(name: &str, purity: f64) -> ProductSpec {
    param(material(name), "purity_percent", purity)
}

fn indium_antimonide(form: &str) -> ProductSpec {
    text_param(material("indium_antimonide"), "crystal_form", form)
}

fn synthetic_diamond(particle_um: f64) -> ProductSpec {
    param(
        material("synthetic_diamond"),
        "particle_size_um",
        particle_um,
    )
}

fn wire_saw(wire_um: f64, particle_um: f64, breaking_n: f64) -> ProductSpec {
    let spec = param(material("diamond_wire_saw"), "wire_diameter_um", wire_um);
    param(
        param(spec, "particle_size_um", particle_um),
        "breaking_force_n",
        breaking_n,
    )
}

fn grinding_wheel(hrb: f64, particle_um: f64, speed_m_s: f64) -> ProductSpec {
    let spec = param(material("diamond_grinding_wheel"), "hardness_hrb", hrb);
    param(
        param(spec, "particle_size_um", particle_um),
        "max_operating_speed_m_s",
        speed_m_s,
    )
}

/// The citations of the version of a CN entry in force on a date.
fn cn_citations(spec: &ProductSpec, on: &str, id: &str) -> Vec<String> {
    let results = classify(spec, on);
    find_match(&results, CN, id).version.citations.clone()
}

#[test]
fn cn_antimony_items_from_2024_09_15() {
    for (m, id) in [
        ("antimony_ore", "2024-33.antimony_ore"),
        ("antimony_metal", "2024-33.antimony_metal"),
    ] {
        let listed: Want<'_> = &[(CN, &[id])];
        check_dates(m, &material(m), "2024-09-15", [NONE, listed, listed]);
    }
    let oxide: Want<'_> = &[(CN, &["2024-33.antimony_oxide"])];
    check_dates(
        "Sb2O3 4N",
        &pure("antimony_oxide", 99.99),
        "2024-09-15",
        [NONE, oxide, oxide],
    );
}

#[test]
fn cn_antimony_items_move_to_the_dual_use_list_on_2024_12_01() {
    let sb = material("antimony_metal");
    let id = "2024-33.antimony_metal";
    let before = cn_citations(&sb, "2024-11-30", id);
    assert!(before[0].contains("2024 No. 33"), "{before:?}");
    for on in ["2024-12-01", "2026-01-01"] {
        let after = cn_citations(&sb, on, id);
        assert!(after[0].contains("2024 No. 51"), "{after:?}");
        assert!(after.iter().any(|c| c.contains("2024 No. 33")), "{after:?}");
    }
    let ga = cn_citations(
        &material("gallium_nitride"),
        "2024-12-01",
        "2023-23.gallium",
    );
    assert!(ga[0].contains("2024 No. 51"), "{ga:?}");
}

#[test]
fn cn_antimony_purity_and_crystal_thresholds() {
    let on = "2025-01-01";
    let oxide: Want<'_> = &[(CN, &["2024-33.antimony_oxide"])];
    // "99.99 % or more": exactly 4N is listed.
    check_threshold(
        "antimony oxide",
        on,
        99.99,
        |p| pure("antimony_oxide", p),
        [NONE, oxide, oxide],
    );
    // "above 99.999 %": exactly 5N is not.
    let organic: Want<'_> = &[(CN, &["2024-33.organic_antimony"])];
    check_threshold(
        "trimethylantimony",
        on,
        99.999,
        |p| pure("organic_antimony_compound", p),
        [NONE, NONE, organic],
    );
    let stibine: Want<'_> = &[(CN, &["2024-33.antimony_hydride"])];
    check_threshold(
        "stibine",
        on,
        99.999,
        |p| pure("antimony_hydride", p),
        [NONE, NONE, stibine],
    );
    let insb: Want<'_> = &[(CN, &["2024-33.indium_antimonide"])];
    check_threshold(
        "InSb single crystal",
        on,
        50.0,
        |d| {
            param(
                indium_antimonide("single_crystal"),
                "dislocation_density_per_cm2",
                d,
            )
        },
        [insb, NONE, NONE],
    );
    check_threshold(
        "InSb polycrystal",
        on,
        99.99999,
        |p| param(indium_antimonide("polycrystal"), "purity_percent", p),
        [NONE, NONE, insb],
    );
    // A 7N+ purity does not list a single crystal with many dislocations.
    let crystal = param(
        param(
            indium_antimonide("single_crystal"),
            "purity_percent",
            99.999999,
        ),
        "dislocation_density_per_cm2",
        500.0,
    );
    check("InSb crystal, 500/cm2", &crystal, on, NONE);
    // Without the crystal form the entry is undetermined, not "not listed".
    let unknown = param(material("indium_antimonide"), "purity_percent", 99.999999);
    let results = classify(&unknown, on);
    let cn = regime(&results, CN);
    assert!(cn.matches.is_empty());
    assert_eq!(cn.undetermined.len(), 1, "{:?}", undetermined(&results));
    assert_eq!(cn.undetermined[0].entry.id, "2024-33.indium_antimonide");
    assert!(cn.undetermined[0].missing.contains(&"crystal_form"));
    assert_eq!(cn.not_listed_label(), None);
}

#[test]
fn cn_2025_10_items_from_2025_02_04() {
    let inp: Want<'_> = &[(CN, &["2025-10.indium_phosphide"])];
    check_dates(
        "InP",
        &material("indium_phosphide"),
        "2025-02-04",
        [NONE, inp, inp],
    );
    let w: Want<'_> = &[(CN, &["2025-10.1C117.d"])];
    for m in [
        "ammonium_paratungstate",
        "tungsten_oxide",
        "tungsten_carbide",
    ] {
        check_dates(m, &material(m), "2025-02-04", [NONE, w, w]);
    }
    let te: Want<'_> = &[(CN, &["2025-10.tellurium"])];
    for m in [
        "tellurium_metal",
        "cadmium_telluride",
        "cadmium_zinc_telluride",
        "mercury_cadmium_telluride",
    ] {
        check_dates(m, &material(m), "2025-02-04", [NONE, te, te]);
    }
    // Indium metal is not listed.
    check(
        "indium metal",
        &material("indium_metal"),
        "2026-01-01",
        NONE,
    );
}

#[test]
fn cn_2025_10_items_without_cited_parameters_need_the_exporters_determination() {
    let on = "2025-06-01";
    for (m, id) in [
        ("bismuth", "2025-10.bismuth"),
        ("molybdenum", "2025-10.molybdenum"),
        ("indium_organometallic", "2025-10.indium_organometallic"),
    ] {
        let listed: Want<'_> = &[(CN, &[id])];
        check(m, &flag(material(m), "cn_2025_10_item", true), on, listed);
        check(m, &flag(material(m), "cn_2025_10_item", false), on, NONE);
        let results = classify(&material(m), on);
        assert_eq!(
            undetermined(&results)[CN],
            [(id.to_string(), vec!["cn_2025_10_item".to_string()])]
        );
        check(
            m,
            &flag(material(m), "cn_2025_10_item", true),
            "2025-02-03",
            NONE,
        );
    }
}

#[test]
fn cn_solid_tungsten_80_percent_and_machinable_size() {
    let solid = |w: f64| {
        let spec = ProductSpec {
            concentration_percent: Some(w),
            ..material("tungsten_metal")
        };
        flag(spec, "cn_tungsten_machinable_size", true)
    };
    let listed: Want<'_> = &[(CN, &["2025-10.1C117.c"])];
    check_threshold("1C117.c", "2025-06-01", 80.0, solid, [NONE, listed, listed]);
    check_dates(
        "1C117.c",
        &solid(99.95),
        "2025-02-04",
        [NONE, listed, listed],
    );
    let small = flag(
        ProductSpec {
            concentration_percent: Some(99.95),
            ..material("tungsten_metal")
        },
        "cn_tungsten_machinable_size",
        false,
    );
    check("small tungsten part", &small, "2025-06-01", NONE);
}

#[test]
fn cn_medium_and_heavy_rare_earths_from_2025_04_04() {
    for (m, id) in [
        ("samarium", "2025-18.1C902"),
        ("gadolinium", "2025-18.1C903"),
        ("terbium", "2025-18.terbium"),
        ("dysprosium", "2025-18.dysprosium"),
        ("lutetium", "2025-18.lutetium"),
        ("scandium", "2025-18.scandium"),
        ("yttrium", "2025-18.yttrium"),
    ] {
        let listed: Want<'_> = &[(CN, &[id])];
        check_dates(m, &material(m), "2025-04-04", [NONE, listed, listed]);
    }
}

#[test]
fn cn_october_2025_items_suspended_until_2026_11_10() {
    let ree: Want<'_> = &[(CN, &["2025-57.rare_earths"])];
    for m in ["holmium", "erbium", "thulium", "europium", "ytterbium"] {
        // Announced to apply from 2025-11-08, suspended from 2025-11-07.
        check(m, &material(m), "2025-11-08", NONE);
        check_dates(m, &material(m), "2026-11-10", [NONE, ree, ree]);
    }
    let a: Want<'_> = &[(CN, &["2025-55.2C902.a"])];
    check("micropowder", &synthetic_diamond(10.0), "2025-11-08", NONE);
    check_dates(
        "micropowder",
        &synthetic_diamond(10.0),
        "2026-11-10",
        [NONE, a, a],
    );
}

#[test]
fn cn_synthetic_diamond_bands_wire_saws_and_grinding_wheels() {
    let on = "2026-12-01";
    let a: Want<'_> = &[(CN, &["2025-55.2C902.a"])];
    let b: Want<'_> = &[(CN, &["2025-55.2C902.b"])];
    check_threshold("2C902.a/b", on, 50.0, synthetic_diamond, [a, a, b]);
    check_threshold("2C902.b", on, 500.0, synthetic_diamond, [b, b, NONE]);
    let c: Want<'_> = &[(CN, &["2025-55.2C902.c"])];
    check_threshold(
        "wire diameter",
        on,
        45.0,
        |x| wire_saw(x, 6.0, 12.0),
        [c, c, NONE],
    );
    check_threshold(
        "wire grit",
        on,
        8.0,
        |x| wire_saw(40.0, x, 12.0),
        [c, c, NONE],
    );
    check_threshold(
        "wire breaking force",
        on,
        16.0,
        |x| wire_saw(40.0, 6.0, x),
        [c, c, NONE],
    );
    let d: Want<'_> = &[(CN, &["2025-55.2C902.d"])];
    check_threshold(
        "wheel hardness",
        on,
        30.0,
        |x| grinding_wheel(x, 3.0, 50.0),
        [d, d, NONE],
    );
    check_threshold(
        "wheel grit",
        on,
        5.0,
        |x| grinding_wheel(20.0, x, 50.0),
        [d, d, NONE],
    );
    check_threshold(
        "wheel speed",
        on,
        40.0,
        |x| grinding_wheel(20.0, 3.0, x),
        [NONE, d, d],
    );
    // A wire saw is often described as kind OTHER.
    let other = ProductSpec {
        kind: ItemKind::Other as i32,
        ..wire_saw(40.0, 6.0, 12.0)
    };
    check("wire saw of kind other", &other, on, c);
}

#[test]
fn kr_1c350_hydrogen_fluoride_since_2019() {
    let listed: Want<'_> = &[
        (US, &["1C350"]),
        (EU, &["1C350"]),
        (JP, &["3(1)"]),
        (KR, &["1C350"]),
    ];
    for on in ["2019-01-01", "2020-06-01", "2024-06-01"] {
        check("anhydrous HF", &hydrogen_fluoride(99.9), on, listed);
        check("30 % HF", &hydrogen_fluoride(30.0), on, NONE);
    }
    let results = classify(&hydrogen_fluoride(55.0), "2020-06-01");
    assert_eq!(find_match(&results, KR, "1C350").reasons, ["AG"]);
}
