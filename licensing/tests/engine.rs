//! The decision engine against the bundled policy packs, with every line
//! classified in-process by the bundled classifier rule packs (pure: no gRPC,
//! no network). Shipments are built from the facts of
//! shared/regulatory/NOTES.md — other dates, thresholds and destinations than
//! the acceptance scenarios: every effective-date boundary the packs encode
//! (day before, the day, day after), the end-use thresholds and review
//! policies, Country Chart cells, party screening, embargoes, severity
//! invariants (also as properties), and policy-pack validation errors.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use exportctl_classifier::RuleSet;
use exportctl_classifier::convert::spec_facts;
use exportctl_classifier::pack::Confidence;
use exportctl_core::dates;
use exportctl_licensing::engine::{
    self, DecisionBody, Determination, EndUseFacts, EngineConfig, LineDecision, LineFacts,
    MatchedEntry, PartyFacts, RegimeClassification, Shipment, UndeterminedEntry,
};
use exportctl_licensing::parties::normalize;
use exportctl_licensing::policy::{self, Outcome, RegimePolicy, ReviewPolicy};
use exportctl_licensing::{PolicyError, PolicySet};
use exportctl_proto::classifier::{ItemKind, ProductSpec};
use proptest::prelude::*;
use time::{Date, Duration};

const US: &str = "US-EAR";
const JP: &str = "JP-FEFTA";
const KR: &str = "KR-FTA";
const EU: &str = "EU-DU";
const NL: &str = "NL-NAT";
const CN: &str = "CN-ECL";

use ReviewPolicy::{CaseByCase, PresumptionOfDenial as Denial, Unspecified};

// ---------------------------------------------------------------------------
// The bundled packs and in-process classification
// ---------------------------------------------------------------------------

static POLICIES: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::bundled().expect("bundled policy packs load"));
static RULES: LazyLock<RuleSet> =
    LazyLock::new(|| RuleSet::bundled().expect("bundled classifier rule packs load"));

fn day(text: &str) -> Date {
    dates::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The spec's classification in every regime, as the engine consumes it.
fn classify(spec: &ProductSpec, on: Date) -> BTreeMap<String, RegimeClassification> {
    let facts = spec_facts(spec, RULES.vocabulary(), "spec")
        .unwrap_or_else(|v| panic!("invalid spec {spec:?}: {v:?}"));
    RULES
        .classify(&facts, on, None)
        .iter()
        .map(|r| {
            let class = RegimeClassification {
                matches: r
                    .matches
                    .iter()
                    .map(|m| MatchedEntry {
                        id: m.entry.id.clone(),
                        reasons: m.reasons.iter().map(|s| s.to_string()).collect(),
                        citations: m.version.citations.clone(),
                        low_confidence: m.version.confidence == Confidence::Low,
                    })
                    .collect(),
                undetermined: r
                    .undetermined
                    .iter()
                    .map(|u| UndeterminedEntry {
                        id: u.entry.id.clone(),
                        missing: u.missing.iter().map(|s| s.to_string()).collect(),
                        citations: u.version.citations.clone(),
                    })
                    .collect(),
                not_listed_label: r.not_listed_label().unwrap_or_default().to_string(),
            };
            (r.pack.regime.clone(), class)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Items (ProductSpecs)
// ---------------------------------------------------------------------------

fn spec(kind: ItemKind) -> ProductSpec {
    ProductSpec {
        kind: kind as i32,
        ..Default::default()
    }
}

fn material(name: &str) -> ProductSpec {
    ProductSpec {
        material: name.into(),
        ..spec(ItemKind::Material)
    }
}

/// Positive photoresist optimised for a wavelength (13.5 EUV, 193 ArF, 248 KrF).
fn resist(wavelength_nm: f64) -> ProductSpec {
    ProductSpec {
        resist_tone: "positive".into(),
        wavelength_nm: Some(wavelength_nm),
        ..material("photoresist")
    }
}

fn euv_resist() -> ProductSpec {
    resist(13.5)
}

fn hydrogen_fluoride(percent: f64) -> ProductSpec {
    ProductSpec {
        concentration_percent: Some(percent),
        ..material("hydrogen_fluoride")
    }
}

fn fluorinated_polyimide(percent: f64) -> ProductSpec {
    ProductSpec {
        fluorine_content_percent: Some(percent),
        ..material("fluorinated_polyimide")
    }
}

/// Listed nowhere (EAR99).
fn wet_chemical() -> ProductSpec {
    material("wet_clean_chemical")
}

fn gallium_nitride() -> ProductSpec {
    material("gallium_nitride")
}

/// Listed nowhere (EAR99).
fn valves() -> ProductSpec {
    ProductSpec {
        description: "stainless vacuum valves".into(),
        ..spec(ItemKind::Other)
    }
}

/// Replacement parts for installed tools: equipment with no listed function (EAR99).
fn tool_parts() -> ProductSpec {
    ProductSpec {
        description: "replacement parts for installed deposition tools".into(),
        ..spec(ItemKind::Equipment)
    }
}

fn equipment(function: &str) -> ProductSpec {
    ProductSpec {
        equipment_function: function.into(),
        ..spec(ItemKind::Equipment)
    }
}

/// Japan's 2023 SME item "coater/developer for EUV resist".
fn euv_coater() -> ProductSpec {
    ProductSpec {
        wavelength_nm: Some(13.5),
        ..equipment("resist_processing")
    }
}

/// 3B001.f.1.a (wavelength below 193 nm).
fn euv_scanner() -> ProductSpec {
    ProductSpec {
        wavelength_nm: Some(13.5),
        numerical_aperture: Some(0.33),
        ..equipment("lithography")
    }
}

/// ArF immersion scanner, NA 1.35 (MRF 50.04 nm): NXT:2000i-like at DCO 1.4,
/// NXT:1980i-like at DCO 2.0.
fn arf_immersion(dco_nm: f64) -> ProductSpec {
    ProductSpec {
        wavelength_nm: Some(193.0),
        numerical_aperture: Some(1.35),
        dedicated_chuck_overlay_nm: Some(dco_nm),
        ..equipment("lithography")
    }
}

/// Etch equipment that says nothing about isotropy, selectivity or aspect ratio.
fn unspecified_etch() -> ProductSpec {
    equipment("etch")
}

fn processor(tpp: f64, transfer_rate_gbps: Option<f64>, performance_density: f64) -> ProductSpec {
    ProductSpec {
        tpp: Some(tpp),
        transfer_rate_gbps,
        performance_density: Some(performance_density),
        ..spec(ItemKind::IntegratedCircuit)
    }
}

/// 3A090.a under both the 2022 (TPP and 600 GB/s) and the 2023 definitions.
fn gpu() -> ProductSpec {
    processor(4992.0, Some(700.0), 6.0)
}

fn dram(manufacturer: &str) -> ProductSpec {
    ProductSpec {
        memory_type: "dram".into(),
        manufacturer: manufacturer.into(),
        ..spec(ItemKind::IntegratedCircuit)
    }
}

fn hbm(bandwidth_density: f64) -> ProductSpec {
    ProductSpec {
        memory_type: "hbm".into(),
        bandwidth_density_gbps_mm2: Some(bandwidth_density),
        ..spec(ItemKind::IntegratedCircuit)
    }
}

// ---------------------------------------------------------------------------
// Shipments
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Line {
    Spec(Box<ProductSpec>),
    /// A classification given by hand (for entries the classifier packs do not have).
    Classified(BTreeMap<String, RegimeClassification>),
}

#[derive(Debug, Clone)]
struct Ship {
    export: String,
    destination: String,
    as_of: Date,
    end_user: String,
    aliases: Vec<String>,
    end_use: EndUseFacts,
    lines: Vec<(Line, String)>,
}

/// A civil shipment to "Example Buyer Co." with no lines yet.
fn ship(export: &str, destination: &str, as_of: &str) -> Ship {
    Ship {
        export: export.into(),
        destination: destination.into(),
        as_of: day(as_of),
        end_user: "Example Buyer Co.".into(),
        aliases: Vec::new(),
        end_use: EndUseFacts {
            purpose: Some("civil".into()),
            ..Default::default()
        },
        lines: Vec::new(),
    }
}

impl Ship {
    fn item(mut self, spec: ProductSpec, origin: &str) -> Self {
        self.lines.push((Line::Spec(Box::new(spec)), origin.into()));
        self
    }

    fn classified(mut self, class: BTreeMap<String, RegimeClassification>, origin: &str) -> Self {
        self.lines.push((Line::Classified(class), origin.into()));
        self
    }

    fn to(mut self, destination: &str) -> Self {
        self.destination = destination.into();
        self
    }

    fn on(self, as_of: &str) -> Self {
        self.on_date(day(as_of))
    }

    fn on_date(mut self, as_of: Date) -> Self {
        self.as_of = as_of;
        self
    }

    fn end_user(mut self, name: &str) -> Self {
        self.end_user = name.into();
        self
    }

    fn alias(mut self, alias: &str) -> Self {
        self.aliases.push(alias.into());
        self
    }

    fn purpose(mut self, purpose: &str) -> Self {
        self.end_use.purpose = Some(purpose.into());
        self
    }

    fn critical_infrastructure(mut self, operator: Option<bool>) -> Self {
        self.end_use.critical_infrastructure_operator = operator;
        self
    }

    /// For IC production; what the fab makes is set by the fab facts below.
    fn ic_production(mut self) -> Self {
        self.end_use.ic_production = Some(true);
        self
    }

    fn logic_fab(mut self, node_nm: Option<f64>, architecture: Option<&str>) -> Self {
        self.end_use.fab_logic_node_nm = node_nm;
        self.end_use.fab_transistor_architecture = architecture.map(String::from);
        self.ic_production()
    }

    fn nand_fab(mut self, layers: u32) -> Self {
        self.end_use.fab_nand_layers = Some(layers);
        self.ic_production()
    }

    fn dram_fab(mut self, half_pitch_nm: f64) -> Self {
        self.end_use.fab_dram_half_pitch_nm = Some(half_pitch_nm);
        self.ic_production()
    }

    fn dram_cells(mut self, cell_area_um2: Option<f64>, density_gb_mm2: Option<f64>) -> Self {
        self.end_use.fab_dram_cell_area_um2 = cell_area_um2;
        self.end_use.fab_dram_density_gb_mm2 = density_gb_mm2;
        self
    }

    fn owner(mut self, headquarters: Option<&str>) -> Self {
        self.end_use.fab_owner_headquarters = headquarters.map(String::from);
        self
    }

    fn shipment(&self) -> Shipment {
        let mut normalized: Vec<String> = std::iter::once(&self.end_user)
            .chain(&self.aliases)
            .map(|n| normalize(n))
            .collect();
        normalized.retain(|n| !n.is_empty());
        Shipment {
            export_country: self.export.clone(),
            destination: self.destination.clone(),
            end_user: PartyFacts {
                name: self.end_user.clone(),
                country: self.destination.clone(),
                normalized,
            },
            end_use: self.end_use.clone(),
            as_of: self.as_of,
            lines: self
                .lines
                .iter()
                .enumerate()
                .map(|(i, (line, origin))| {
                    let (manufacturer, classifications) = match line {
                        Line::Spec(spec) => {
                            (normalize(&spec.manufacturer), classify(spec, self.as_of))
                        }
                        Line::Classified(c) => (String::new(), c.clone()),
                    };
                    LineFacts {
                        line_id: format!("L{}", i + 1),
                        origin_country: origin.clone(),
                        manufacturer,
                        classifications,
                    }
                })
                .collect(),
        }
    }

    fn decide(&self) -> Decided {
        self.decide_with(&EngineConfig::default())
    }

    /// Decides, and checks the invariants every decision must keep.
    fn decide_with(&self, config: &EngineConfig) -> Decided {
        assert!(!self.lines.is_empty(), "a shipment needs a line");
        let shipment = self.shipment();
        let body = engine::decide(&POLICIES, &shipment, config);
        check_invariants(&shipment, &body);
        Decided {
            label: format!(
                "{} -> {} on {} to {:?}",
                self.export,
                self.destination,
                dates::format(self.as_of),
                self.end_user
            ),
            body,
        }
    }
}

/// Determinations that, by the engine's design, cite nothing: `no-regime` (no
/// pack speaks, so there is no law to cite — a questionable choice), and
/// `classification` / `no-classification` (see `indeterminate_classification_is_cited`, a bug).
const UNCITED: &[&str] = &["no-regime", "classification", "no-classification"];

fn fold(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
    outcomes
        .into_iter()
        .fold(Outcome::NoLicenseRequired, Outcome::max)
}

/// DESIGN "Decision semantics": line = most severe determination, decision =
/// most severe line; every applicable regime speaks; every determination is
/// explained and cited; INDETERMINATE names missing facts; AUTHORIZED names its
/// authorization.
#[track_caller]
fn check_invariants(shipment: &Shipment, body: &DecisionBody) {
    assert_eq!(body.lines.len(), shipment.lines.len());
    for (line, facts) in body.lines.iter().zip(&shipment.lines) {
        let at = format!("{} ({} origin)", line.line_id, facts.origin_country);
        assert!(!line.determinations.is_empty(), "{at}: no determination");
        assert_eq!(
            line.outcome,
            fold(line.determinations.iter().map(|d| d.outcome)),
            "{at}: line outcome is not the most severe determination"
        );
        let regimes = POLICIES.applicable_regimes(&shipment.export_country, &facts.origin_country);
        if regimes.is_empty() {
            assert_eq!(line.determinations.len(), 1, "{at}");
            assert_eq!(line.determinations[0].rule_id, "no-regime", "{at}");
        }
        for r in &regimes {
            assert!(
                line.determinations.iter().any(|d| d.regime == *r),
                "{at}: applicable regime {r} has no determination"
            );
        }
        for d in &line.determinations {
            let who = format!("{at}: {} {}", d.regime, d.rule_id);
            assert!(
                regimes.contains(&d.regime.as_str()) || d.rule_id == "no-regime",
                "{who}: regime does not apply"
            );
            assert!(!d.explanation.trim().is_empty(), "{who}: no explanation");
            if !UNCITED.contains(&d.rule_id.as_str()) {
                assert!(!d.citations.is_empty(), "{who}: no citation");
            }
            assert!(
                d.citations.iter().all(|c| !c.trim().is_empty()),
                "{who}: blank citation"
            );
            if d.outcome == Outcome::Indeterminate {
                assert!(!d.missing_facts.is_empty(), "{who}: names no missing fact");
            }
            if d.outcome == Outcome::Authorized {
                assert!(d.authorization.is_some(), "{who}: names no authorization");
            }
        }
    }
    assert_eq!(
        body.outcome,
        fold(body.lines.iter().map(|l| l.outcome)),
        "decision outcome is not the most severe line"
    );
}

// ---------------------------------------------------------------------------
// Reading decisions
// ---------------------------------------------------------------------------

/// What a regime must say about the first line.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    Clear,
    Authorized(&'static str),
    Indeterminate,
    /// LICENSE_REQUIRED; the strictest review policy among the regime's license requirements.
    License(ReviewPolicy),
    Prohibited,
}

impl Want {
    fn outcome(self) -> Outcome {
        match self {
            Want::Clear => Outcome::NoLicenseRequired,
            Want::Authorized(_) => Outcome::Authorized,
            Want::Indeterminate => Outcome::Indeterminate,
            Want::License(_) => Outcome::LicenseRequired,
            Want::Prohibited => Outcome::Prohibited,
        }
    }
}

fn strictness(p: ReviewPolicy) -> u8 {
    match p {
        ReviewPolicy::Unspecified => 0,
        ReviewPolicy::PresumptionOfApproval => 1,
        ReviewPolicy::CaseByCase => 2,
        ReviewPolicy::PresumptionOfDenial => 3,
    }
}

struct Decided {
    label: String,
    body: DecisionBody,
}

impl Decided {
    fn line(&self) -> &LineDecision {
        &self.body.lines[0]
    }

    fn dets(&self, regime: &str) -> Vec<&Determination> {
        self.line()
            .determinations
            .iter()
            .filter(|d| d.regime == regime)
            .collect()
    }

    fn outcome(&self, regime: &str) -> Outcome {
        fold(self.dets(regime).iter().map(|d| d.outcome))
    }

    fn rule(&self, regime: &str, rule_id: &str) -> Option<&Determination> {
        self.dets(regime).into_iter().find(|d| d.rule_id == rule_id)
    }

    #[track_caller]
    fn must_rule(&self, regime: &str, rule_id: &str) -> &Determination {
        self.rule(regime, rule_id)
            .unwrap_or_else(|| panic!("{}: no {regime} {rule_id}\n{}", self.label, self.dump()))
    }

    fn review_policy(&self, regime: &str) -> ReviewPolicy {
        self.dets(regime)
            .iter()
            .filter(|d| d.outcome == Outcome::LicenseRequired)
            .map(|d| d.review_policy)
            .max_by_key(|p| strictness(*p))
            .unwrap_or(Unspecified)
    }

    /// The regime's missing facts, all determinations together.
    fn missing(&self, regime: &str) -> Vec<String> {
        self.dets(regime)
            .iter()
            .flat_map(|d| d.missing_facts.iter().cloned())
            .collect()
    }

    fn dump(&self) -> String {
        let mut out = String::new();
        for l in &self.body.lines {
            out.push_str(&format!("  line {} => {:?}\n", l.line_id, l.outcome));
            for d in &l.determinations {
                out.push_str(&format!(
                    "    {} {:?} rule={} entries={:?} reasons={:?} auth={:?} review={:?} missing={:?}\n",
                    d.regime,
                    d.outcome,
                    d.rule_id,
                    d.entry_ids,
                    d.reasons,
                    d.authorization,
                    d.review_policy,
                    d.missing_facts
                ));
            }
        }
        out
    }

    #[track_caller]
    fn expect(&self, regime: &str, want: Want) -> &Self {
        let ctx = || {
            format!(
                "{}: {regime} should be {want:?}\n{}",
                self.label,
                self.dump()
            )
        };
        assert!(!self.dets(regime).is_empty(), "{}", ctx());
        assert_eq!(self.outcome(regime), want.outcome(), "{}", ctx());
        match want {
            Want::Authorized(code) => assert!(
                self.dets(regime)
                    .iter()
                    .any(|d| d.outcome == Outcome::Authorized
                        && d.authorization.as_deref() == Some(code)),
                "{}",
                ctx()
            ),
            Want::License(policy) => {
                assert_eq!(self.review_policy(regime), policy, "{}", ctx())
            }
            _ => {}
        }
        self
    }

    #[track_caller]
    fn expect_missing(&self, regime: &str, fact: &str) -> &Self {
        assert!(
            self.missing(regime).iter().any(|m| m.contains(fact)),
            "{}: {regime} should name missing fact {fact:?}\n{}",
            self.label,
            self.dump()
        );
        self
    }
}

/// One shipment on several dates: `(date, what the regime says)`.
#[track_caller]
fn dated(base: &Ship, regime: &str, cases: &[(&str, Want)]) {
    for (date, want) in cases {
        base.clone().on(date).decide().expect(regime, *want);
    }
}

/// One shipment to several destinations on its date.
#[track_caller]
fn destined(base: &Ship, regime: &str, cases: &[(&str, Want)]) {
    for (destination, want) in cases {
        base.clone().to(destination).decide().expect(regime, *want);
    }
}

use Want::{Authorized, Clear, Indeterminate, License, Prohibited};

// ---------------------------------------------------------------------------
// Japan (FEFTA)
// ---------------------------------------------------------------------------

#[test]
fn jp_korea_leaves_group_a_on_2019_08_28() {
    // Catch-all (unlisted item, military end use) applies only outside Group A.
    let base = ship("JP", "KR", "2019-08-28")
        .item(wet_chemical(), "JP")
        .purpose("military");
    dated(
        &base,
        JP,
        &[
            ("2019-08-27", Clear),
            ("2019-08-28", License(Unspecified)),
            ("2019-08-29", License(Unspecified)),
        ],
    );
    base.decide().must_rule(JP, "jp-catch-all");
    // A civil end use is never caught.
    base.purpose("civil").decide().expect(JP, Clear);
}

#[test]
fn jp_korea_back_in_group_a_on_2023_07_21() {
    let catch_all = ship("JP", "KR", "2023-07-21")
        .item(wet_chemical(), "JP")
        .purpose("military");
    dated(
        &catch_all,
        JP,
        &[
            ("2023-07-20", License(Unspecified)),
            ("2023-07-21", Clear),
            ("2023-07-22", Clear),
        ],
    );
    // A listed item: special general bulk outside Group A, general bulk inside.
    let resist = ship("JP", "KR", "2023-07-21").item(euv_resist(), "JP");
    dated(
        &resist,
        JP,
        &[
            ("2023-07-20", Authorized("special_general_bulk")),
            ("2023-07-21", Authorized("general_bulk")),
            ("2023-07-22", Authorized("general_bulk")),
        ],
    );
    // The special general bulk license rests on a low-confidence fact and says so.
    let special = resist.on("2023-07-20").decide();
    assert!(special.must_rule(JP, "jp-list").low_confidence);
}

#[test]
fn jp_korea_measure_individual_license_2019_07_04_to_2023_03_22() {
    for item in [
        euv_resist(),
        resist(193.0),
        hydrogen_fluoride(99.999),
        fluorinated_polyimide(12.0),
    ] {
        let base = ship("JP", "KR", "2019-07-04").item(item, "JP");
        dated(
            &base,
            JP,
            &[
                ("2019-07-03", Authorized("general_bulk")),
                ("2019-07-04", License(Unspecified)),
                ("2019-07-05", License(Unspecified)),
                ("2020-06-01", License(Unspecified)),
                ("2023-03-22", License(Unspecified)),
                ("2023-03-23", Authorized("special_general_bulk")),
                ("2023-03-24", Authorized("special_general_bulk")),
            ],
        );
    }
    // The measure concerned Korea only.
    let elsewhere = ship("JP", "TW", "2020-06-01").item(euv_resist(), "JP");
    destined(
        &elsewhere,
        JP,
        &[
            ("TW", Authorized("special_general_bulk")),
            ("US", Authorized("general_bulk")),
            ("DE", Authorized("general_bulk")),
        ],
    );
}

#[test]
fn jp_list_thresholds_hydrogen_fluoride_and_polyimide() {
    // During the Korea measure a listed item needs an individual license; an unlisted one nothing.
    let base = ship("JP", "KR", "2020-06-01");
    for (item, want) in [
        (hydrogen_fluoride(30.0), Clear),
        (hydrogen_fluoride(30.1), License(Unspecified)),
        (fluorinated_polyimide(9.9), Clear),
        (fluorinated_polyimide(10.0), License(Unspecified)),
        (resist(248.0), Clear),
    ] {
        base.clone().item(item, "JP").decide().expect(JP, want);
    }
}

#[test]
fn jp_sme_items_from_2023_07_23_friendly_destinations() {
    for friendly in ["KR", "US", "TW", "SG", "NL"] {
        let base = ship("JP", friendly, "2023-07-23").item(euv_coater(), "JP");
        dated(
            &base,
            JP,
            &[
                ("2023-07-22", Clear),
                ("2023-07-23", Authorized("general_bulk")),
                ("2023-07-24", Authorized("general_bulk")),
            ],
        );
    }
    let china = ship("JP", "CN", "2023-07-23").item(euv_coater(), "JP");
    dated(
        &china,
        JP,
        &[
            ("2023-07-22", Clear),
            ("2023-07-23", License(Unspecified)),
            ("2023-07-24", License(Unspecified)),
        ],
    );
    // Neither among the five known friendly destinations nor excluded: the list of 42 is incomplete.
    let germany = ship("JP", "DE", "2023-07-23").item(euv_coater(), "JP");
    dated(
        &germany,
        JP,
        &[("2023-07-22", Clear), ("2023-07-23", Indeterminate)],
    );
    germany
        .decide()
        .expect_missing(JP, "eligibility of DE for general_bulk");
    // The same for another SME item (ArF immersion scanner), and never for a military end use.
    let scanner = ship("JP", "SG", "2024-01-10").item(arf_immersion(1.4), "JP");
    destined(
        &scanner,
        JP,
        &[
            ("SG", Authorized("general_bulk")),
            ("CN", License(Unspecified)),
            ("VN", Indeterminate),
        ],
    );
    scanner
        .purpose("military")
        .decide()
        .expect(JP, License(Unspecified));
}

#[test]
fn jp_sme_item_without_its_facts_is_indeterminate() {
    let d = ship("JP", "CN", "2024-01-10")
        .item(unspecified_etch(), "JP")
        .decide();
    d.expect(JP, Indeterminate)
        .expect_missing(JP, "spec.high_aspect_ratio")
        .expect_missing(JP, "spec.isotropic");
    // Before the ordinance there is nothing to be undetermined about.
    ship("JP", "CN", "2023-07-22")
        .item(unspecified_etch(), "JP")
        .decide()
        .expect(JP, Clear);
}

// ---------------------------------------------------------------------------
// Korea (Foreign Trade Act)
// ---------------------------------------------------------------------------

#[test]
fn kr_japan_in_ga_2_from_2019_09_18_until_2023_04_24() {
    let base = ship("KR", "JP", "2019-09-18").item(resist(193.0), "KR");
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

// ---------------------------------------------------------------------------
// United States: §744.23 advanced-node fabs
// ---------------------------------------------------------------------------

fn fab_supplies(destination: &str, as_of: &str) -> Ship {
    ship("US", destination, as_of)
        .item(wet_chemical(), "US")
        .owner(Some("CN"))
}

#[test]
fn us_744_23_china_from_2022_10_07() {
    let base = fab_supplies("CN", "2022-10-07").logic_fab(Some(16.0), Some("finfet"));
    dated(
        &base,
        US,
        &[
            ("2022-10-06", Clear),
            ("2022-10-07", License(Denial)),
            ("2022-10-08", License(Denial)),
            ("2023-11-16", License(Denial)),
            ("2023-11-17", License(Denial)),
        ],
    );
    assert_eq!(
        base.decide().must_rule(US, "us-744.23-2022").source,
        engine::Source::EndUse
    );
}

#[test]
fn us_744_23_macau_and_d5_from_2023_11_17() {
    // Macau is in scope from 2023-01-18 (88 FR 2821; date uncertain, so low confidence).
    let macau = fab_supplies("MO", "2023-01-18").logic_fab(Some(7.0), Some("finfet"));
    dated(
        &macau,
        US,
        &[
            ("2023-01-17", Clear),
            ("2023-01-18", License(Denial)),
            ("2023-11-16", License(Denial)),
        ],
    );
    // D:5 from 2023-11-17.
    let base = fab_supplies("VE", "2023-11-17").logic_fab(Some(7.0), Some("finfet"));
    dated(
        &base,
        US,
        &[
            ("2023-11-16", Clear),
            ("2023-11-17", License(Denial)),
            ("2023-11-18", License(Denial)),
        ],
    );
    // Vietnam is D:1 but not D:5; Taiwan is neither.
    let outside = fab_supplies("VN", "2024-03-01").logic_fab(Some(7.0), Some("finfet"));
    destined(&outside, US, &[("VN", Clear), ("TW", Clear), ("KR", Clear)]);
}

#[test]
fn us_744_23_dram_redefined_by_cell_area_or_density_from_2024_12_02() {
    let half_pitch = fab_supplies("CN", "2024-12-02").dram_fab(18.0);
    dated(
        &half_pitch,
        US,
        &[
            ("2024-12-01", License(Denial)),
            ("2024-12-02", Indeterminate),
            ("2024-12-03", Indeterminate),
        ],
    );
    half_pitch
        .decide()
        .expect_missing(US, "end_use.fab_dram_cell_area_um2")
        .expect_missing(US, "end_use.fab_dram_density_gb_mm2");
    for (area, density, want) in [
        (Some(0.0018), None, License(Denial)),
        (Some(0.0019), Some(0.288), Clear),
        (None, Some(0.289), License(Denial)),
        (Some(0.0019), Some(0.288), Clear),
        (Some(0.0025), Some(0.2), Clear),
        // Either test alone can make the fab advanced: one fact alone cannot clear it.
        (None, Some(0.288), Indeterminate),
        (Some(0.0025), None, Indeterminate),
    ] {
        half_pitch
            .clone()
            .dram_cells(area, density)
            .decide()
            .expect(US, want);
    }
    // Before the redefinition cell data does not decide; half-pitch does.
    half_pitch
        .clone()
        .on("2024-12-01")
        .dram_fab(18.1)
        .dram_cells(Some(0.0018), Some(0.3))
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_744_23_advanced_node_thresholds() {
    let base = fab_supplies("CN", "2023-03-01");
    let cases: &[(Ship, Want)] = &[
        (base.clone().logic_fab(Some(16.0), None), License(Denial)),
        (base.clone().logic_fab(Some(16.1), Some("planar")), Clear),
        (base.clone().logic_fab(Some(28.0), Some("planar")), Clear),
        (
            base.clone().logic_fab(Some(22.0), Some("finfet")),
            License(Denial),
        ),
        (
            base.clone().logic_fab(Some(28.0), Some("gaafet")),
            License(Denial),
        ),
        (
            base.clone().logic_fab(Some(12.0), Some("planar")),
            License(Denial),
        ),
        (base.clone().nand_fab(127), Clear),
        (base.clone().nand_fab(128), License(Denial)),
        (base.clone().dram_fab(18.0), License(Denial)),
        (base.clone().dram_fab(18.1), Clear),
    ];
    for (shipment, want) in cases {
        shipment.decide().expect(US, *want);
    }
}

#[test]
fn us_744_23_review_policy_by_owner_headquarters() {
    let base = fab_supplies("CN", "2024-03-01").nand_fab(232);
    for (owner, policy) in [
        (Some("CN"), Denial),
        (Some("US"), CaseByCase),
        (Some("KR"), CaseByCase),
        (Some("TW"), CaseByCase),
        (Some("JP"), CaseByCase),
        (Some("NL"), CaseByCase),
        (Some("SG"), Unspecified),
        (None, Unspecified),
    ] {
        let d = base.clone().owner(owner).decide();
        d.expect(US, License(policy));
        if owner.is_none() {
            assert!(
                d.must_rule(US, "us-744.23-2023")
                    .explanation
                    .contains("end_use.fab_owner_headquarters"),
                "{}",
                d.dump()
            );
        }
    }
}

#[test]
fn us_744_23_needs_fab_facts_for_ic_production() {
    let d = fab_supplies("CN", "2023-03-01").ic_production().decide();
    d.expect(US, Indeterminate);
    for fact in [
        "end_use.fab_logic_node_nm",
        "end_use.fab_transistor_architecture",
        "end_use.fab_dram_half_pitch_nm",
        "end_use.fab_nand_layers",
    ] {
        d.expect_missing(US, fact);
    }
    // Fab facts without IC production, or IC production outside the scope: nothing.
    let mut not_production = fab_supplies("CN", "2023-03-01").logic_fab(Some(7.0), Some("finfet"));
    not_production.end_use.ic_production = Some(false);
    not_production.decide().expect(US, Clear);
    fab_supplies("DE", "2023-03-01")
        .ic_production()
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_744_23_planar_logic_fab_without_node_is_indeterminate() {
    // NOTES §1.4: 12 nm planar is advanced; the node decides a planar fab.
    fab_supplies("CN", "2023-03-01")
        .logic_fab(None, Some("planar"))
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_use.fab_logic_node_nm");
}

#[test]
fn us_744_23_logic_node_without_architecture_is_indeterminate() {
    // NOTES §1.4: a non-planar architecture alone makes a logic fab advanced.
    fab_supplies("CN", "2023-03-01")
        .logic_fab(Some(28.0), None)
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_use.fab_transistor_architecture");
}

// ---------------------------------------------------------------------------
// United States: Entity List, Unverified List, VEU
// ---------------------------------------------------------------------------

#[test]
fn us_smic_entity_list_from_2020_12_18() {
    let base = ship("US", "CN", "2020-12-18")
        .item(valves(), "US")
        .end_user("SMIC");
    dated(
        &base,
        US,
        &[
            ("2020-12-17", Clear),
            ("2020-12-18", License(CaseByCase)),
            ("2020-12-19", License(CaseByCase)),
        ],
    );
    assert_eq!(
        base.decide().must_rule(US, "el-smic").source,
        engine::Source::EndUser
    );
    // Every affiliate by its full name, and the Hong Kong one wherever it ships to.
    for (name, rule) in [
        (
            "Semiconductor Manufacturing International (Shanghai) Corporation",
            "el-smic-shanghai",
        ),
        ("SMIC Holdings Corporation", "el-smic-holdings"),
        (
            "SMIC Northern Integrated Circuit Manufacturing (Beijing) Co., Ltd.",
            "el-smnc",
        ),
        ("SJ Semiconductor Corp.", "el-sj-semiconductor"),
        (
            "Ningbo Semiconductor International Corporation",
            "el-ningbo-semiconductor",
        ),
        (
            "SMIC Hong Kong International Company Limited",
            "el-smic-hong-kong",
        ),
    ] {
        let d = base.clone().end_user(name).on("2021-06-01").decide();
        d.expect(US, License(CaseByCase));
        d.must_rule(US, rule);
    }
    // EUV scanners are uniquely required for 10 nm and below: presumption of denial.
    let euv = ship("US", "CN", "2021-06-01")
        .item(euv_scanner(), "US")
        .end_user("SMIC");
    let d = euv.decide();
    d.expect(US, License(Denial));
    assert_eq!(d.must_rule(US, "el-smic").review_policy, Denial);
}

#[test]
fn us_ymtc_unverified_list_then_entity_list() {
    let base = ship("US", "CN", "2022-10-07")
        .item(valves(), "US")
        .end_user("Yangtze Memory Technologies Co., Ltd.");
    dated(
        &base,
        US,
        &[
            ("2022-10-06", Clear),
            ("2022-10-07", Clear),
            ("2022-12-15", Clear),
            ("2022-12-16", License(Denial)),
            ("2022-12-17", License(Denial)),
        ],
    );
    // The UVL listing is reported but creates no license requirement.
    assert!(
        base.clone()
            .on("2022-10-06")
            .decide()
            .rule(US, "uvl-ymtc")
            .is_none()
    );
    let uvl = base.decide();
    let det = uvl.must_rule(US, "uvl-ymtc");
    assert_eq!(det.outcome, Outcome::NoLicenseRequired);
    assert!(
        det.explanation.contains("unverified list"),
        "{}",
        det.explanation
    );
    base.clone()
        .end_user("YMTC")
        .on("2023-01-10")
        .decide()
        .must_rule(US, "el-ymtc");
}

#[test]
fn us_veu_samsung_and_sk_hynix_until_2025_12_31() {
    let samsung = ship("US", "CN", "2024-06-01")
        .item(tool_parts(), "US")
        .end_user("Samsung China Semiconductor Co., Ltd.")
        .nand_fab(176)
        .owner(Some("KR"));
    dated(
        &samsung,
        US,
        &[
            ("2023-10-16", License(CaseByCase)),
            ("2023-10-17", Authorized("veu")),
            ("2025-12-30", Authorized("veu")),
            ("2025-12-31", License(CaseByCase)),
            ("2026-01-01", License(CaseByCase)),
        ],
    );
    // SK hynix Wuxi: DRAM by half-pitch, then (from 2024-12-02) by density.
    let hynix = ship("US", "CN", "2024-06-01")
        .item(tool_parts(), "US")
        .end_user("SK hynix Semiconductor (China) Ltd.")
        .dram_fab(16.0)
        .dram_cells(None, Some(0.3))
        .owner(Some("KR"));
    dated(
        &hynix,
        US,
        &[
            ("2024-06-01", Authorized("veu")),
            ("2025-12-30", Authorized("veu")),
            ("2025-12-31", License(CaseByCase)),
        ],
    );
    // The VEU belongs to its holder only.
    samsung
        .clone()
        .end_user("Example Memory Co.")
        .decide()
        .expect(US, License(CaseByCase));
    // It also covers a listed item's chart requirement to its holder.
    samsung
        .clone()
        .item(euv_resist(), "US")
        .decide()
        .body
        .lines
        .iter()
        .for_each(|l| assert_eq!(l.outcome, Outcome::Authorized, "{l:?}"));
}

#[test]
fn us_party_screening_exact_near_miss_and_unrelated() {
    let base = ship("US", "CN", "2023-03-01").item(valves(), "US");
    // Exact alias, in any letter case, given as the name or as an alias.
    base.clone()
        .end_user("SMIC")
        .decide()
        .expect(US, License(CaseByCase));
    base.clone()
        .end_user("smic tianjin")
        .decide()
        .must_rule(US, "el-smic-tianjin");
    base.clone()
        .end_user("Example Trading Co.")
        .alias("SMIC Beijing")
        .decide()
        .must_rule(US, "el-smic-beijing");
    // A typo of an affiliate's name: a person must look.
    let near = base
        .clone()
        .end_user("Semiconducter Manufacturing Internationl (Tianjin) Corp")
        .decide();
    near.expect(US, Indeterminate).expect_missing(
        US,
        "confirm it is not Semiconductor Manufacturing International (Tianjin) Corporation",
    );
    let det = near.must_rule(US, "el-smic-tianjin");
    assert_eq!(det.source, engine::Source::EndUser);
    assert!(
        det.explanation
            .contains("Semiconductor Manufacturing International (Tianjin) Corporation")
    );
    // A stranger: no end-user determination at all.
    for stranger in [
        "Example Foundry (Shanghai) Co.",
        "Samsung China Semiconductor Co., Ltd.",
    ] {
        let d = base.clone().end_user(stranger).decide();
        d.expect(US, Clear);
        assert!(
            d.dets(US)
                .iter()
                .all(|x| x.source != engine::Source::EndUser),
            "{}",
            d.dump()
        );
    }
    // A party not yet listed is not screened against.
    base.clone()
        .on("2020-12-17")
        .end_user("Semiconducter Manufacturing Internationl (Tianjin) Corp")
        .decide()
        .expect(US, Clear);
}

#[test]
fn us_party_match_threshold_is_configurable() {
    let base = ship("US", "CN", "2023-03-01").item(valves(), "US");
    let typo = base
        .clone()
        .end_user("Semiconducter Manufacturing Internationl (Tianjin) Corp");
    let strict = EngineConfig {
        party_match_threshold: 0.95,
    };
    typo.decide_with(&strict).expect(US, Clear);
    typo.decide().expect(US, Indeterminate);
    let loose_name = base.clone().end_user("Ningbo Semiconductor Intl Corp");
    loose_name.decide().expect(US, Clear);
    let loose = EngineConfig {
        party_match_threshold: 0.75,
    };
    let d = loose_name.decide_with(&loose);
    d.expect(US, Indeterminate);
    d.must_rule(US, "el-ningbo-semiconductor");
    // An exact match does not depend on the threshold.
    let exact = base.clone().end_user("NSI");
    for t in [0.0, 0.5, 1.0] {
        exact
            .decide_with(&EngineConfig {
                party_match_threshold: t,
            })
            .expect(US, License(CaseByCase));
    }
}

// ---------------------------------------------------------------------------
// United States: 3A090 RS scopes and the other entry-specific scopes
// ---------------------------------------------------------------------------

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
    // Macau has no Country Chart row in the pack: its AT1 cell is unknown.
    before
        .expect(US, Indeterminate)
        .expect_missing(US, "Commerce Country Chart cell MO/AT1");
    for date in ["2023-01-18", "2023-01-19"] {
        let d = base.clone().on(date).decide();
        d.expect(US, License(Denial));
        // The Macau date is [?] in the notes, and the determination says so.
        assert!(d.must_rule(US, "us-rs-3a090-2023-01").low_confidence);
    }
}

#[test]
fn us_3a090_scope_of_2023_11_17() {
    let base = ship("US", "VN", "2023-11-17").item(gpu(), "US");
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

// ---------------------------------------------------------------------------
// United States: Commerce Country Chart
// ---------------------------------------------------------------------------

#[test]
fn us_chart_euv_resist_ns2() {
    let base = ship("US", "CN", "2024-03-01").item(euv_resist(), "US");
    destined(
        &base,
        US,
        &[
            ("CN", License(Unspecified)),
            ("TW", License(Unspecified)),
            ("VN", License(Unspecified)),
            ("JP", Clear),
            ("DE", Clear),
            ("KR", Clear),
            ("CA", Clear),
        ],
    );
    let d = base.decide();
    let chart = d.must_rule(US, "chart:NS2");
    assert_eq!(chart.entry_ids, ["3C002.a.2"]);
    assert_eq!(chart.reasons, ["NS2"]);
    // NS2 for resists is [?] in the notes: the determination says it rests on it.
    assert!(chart.low_confidence);
    assert!(chart.explanation.contains("low-confidence"));
    assert!(chart.citations.iter().any(|c| c.contains("738")));
}

#[test]
fn us_chart_hydrogen_fluoride_cb2() {
    let base = ship("US", "CN", "2024-03-01").item(hydrogen_fluoride(49.0), "US");
    destined(
        &base,
        US,
        &[
            ("CN", License(Unspecified)),
            ("JP", Clear),
            ("KR", Clear),
            ("CA", Clear),
        ],
    );
    base.decide().must_rule(US, "chart:CB2");
    // 30 % exactly is not 1C350: EAR99.
    let thirty = base.clone().item(hydrogen_fluoride(30.0), "US").decide();
    assert_eq!(thirty.body.lines[1].outcome, Outcome::NoLicenseRequired);
}

#[test]
fn us_chart_destination_without_row_is_indeterminate() {
    let d = ship("US", "IN", "2024-03-01")
        .item(euv_resist(), "US")
        .decide();
    d.expect(US, Indeterminate)
        .expect_missing(US, "Commerce Country Chart cell IN/NS2")
        .expect_missing(US, "Commerce Country Chart cell IN/AT1");
    // An EAR99 item has no chart cell to know.
    ship("US", "IN", "2024-03-01")
        .item(valves(), "US")
        .decide()
        .expect(US, Clear);
}

/// A hand-made US-EAR classification (the classifier packs list no CB1 item).
fn us_listed(entry: &str, reasons: &[&str]) -> BTreeMap<String, RegimeClassification> {
    let class = RegimeClassification {
        matches: vec![MatchedEntry {
            id: entry.into(),
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            citations: vec![format!("15 CFR part 774 Supp. 1, ECCN {entry}")],
            low_confidence: false,
        }],
        ..Default::default()
    };
    BTreeMap::from([(US.to_string(), class)])
}

#[test]
fn us_chart_canada_cb1_is_uncertain() {
    let base = ship("US", "CA", "2024-03-01").classified(us_listed("1C351", &["CB1", "AT1"]), "US");
    let d = base.decide();
    d.expect(US, Indeterminate)
        .expect_missing(US, "Commerce Country Chart cell CA/CB1");
    assert!(
        d.must_rule(US, "chart-gap:CB1")
            .citations
            .iter()
            .any(|c| c.contains("Canada"))
    );
    destined(
        &base,
        US,
        &[("DE", License(Unspecified)), ("CN", License(Unspecified))],
    );
    // Canada's other cells are known blanks.
    assert!(d.rule(US, "chart-gap:AT1").is_none(), "{}", d.dump());
}

// ---------------------------------------------------------------------------
// United States: embargoes, re-exports, regimes that apply
// ---------------------------------------------------------------------------

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
    hf.must_rule(US, "chart:CB2");
    hf.must_rule(US, "chart:AT1");
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
fn reexport_of_us_origin_item_from_japan_applies_both_regimes() {
    let d = ship("JP", "CN", "2024-03-01")
        .item(euv_resist(), "US")
        .decide();
    d.expect(JP, Authorized("special_general_bulk"))
        .expect(US, License(Unspecified));
    assert_eq!(d.line().outcome, Outcome::LicenseRequired);
    // The same item of Japanese origin: Japan's regime only.
    let jp_origin = ship("JP", "CN", "2024-03-01")
        .item(euv_resist(), "JP")
        .decide();
    assert!(jp_origin.dets(US).is_empty(), "{}", jp_origin.dump());
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
        .decide();
    from_nl
        .expect(EU, License(Unspecified))
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

// ---------------------------------------------------------------------------
// Netherlands and EU
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// China
// ---------------------------------------------------------------------------

#[test]
fn cn_gallium_licensing_from_2023_08_01() {
    let base = ship("CN", "JP", "2023-08-01").item(gallium_nitride(), "CN");
    dated(
        &base,
        CN,
        &[
            ("2023-07-31", Clear),
            ("2023-08-01", License(Unspecified)),
            ("2023-08-02", License(Unspecified)),
        ],
    );
    ship("CN", "JP", "2024-01-10")
        .item(material("germanium_dioxide"), "CN")
        .decide()
        .expect(CN, License(Unspecified));
}

#[test]
fn cn_announcement_46_to_the_united_states() {
    let base = ship("CN", "US", "2024-12-03").item(gallium_nitride(), "CN");
    dated(
        &base,
        CN,
        &[
            ("2024-12-02", License(Unspecified)),
            ("2024-12-03", Prohibited),
            ("2024-12-04", Prohibited),
            ("2025-11-08", Prohibited),
            ("2025-11-09", License(Unspecified)),
            ("2025-11-10", License(Unspecified)),
            ("2026-11-26", License(Unspecified)),
            ("2026-11-27", Prohibited),
            ("2026-11-28", Prohibited),
        ],
    );
    // The prohibition adds to the licensing requirement; the line is PROHIBITED.
    let d = base.decide();
    d.must_rule(CN, "cn-2023-23-licence");
    assert_eq!(d.line().outcome, Outcome::Prohibited);
    // Other destinations are licensed, not prohibited.
    destined(
        &base,
        CN,
        &[("JP", License(Unspecified)), ("DE", License(Unspecified))],
    );
}

#[test]
fn cn_micron_advisory_only_for_cii_buyers_and_never_changes_the_outcome() {
    let base = ship("US", "CN", "2023-05-21")
        .item(dram("Micron Technology, Inc."), "US")
        .critical_infrastructure(Some(true));
    let codes = |s: &Ship| -> Vec<String> {
        s.decide()
            .body
            .advisories
            .iter()
            .map(|a| a.code.clone())
            .collect()
    };
    assert!(codes(&base.clone().on("2023-05-20")).is_empty());
    for date in ["2023-05-21", "2023-05-22", "2026-01-01"] {
        assert_eq!(codes(&base.clone().on(date)), ["CN-CAC-MICRON"]);
    }
    let with = base.decide();
    assert_eq!(with.body.advisories[0].line_ids, ["L1"]);
    assert!(!with.body.advisories[0].citations.is_empty());
    for not_cii in [Some(false), None] {
        let s = base.clone().critical_infrastructure(not_cii);
        assert!(codes(&s).is_empty());
        assert_eq!(s.decide().body.lines, with.body.lines);
        assert_eq!(s.decide().body.outcome, with.body.outcome);
    }
    with.expect(US, Clear);
    assert!(codes(&base.clone().to("JP")).is_empty());
    let other_maker = ship("US", "CN", "2023-06-01")
        .item(dram("Samsung Electronics"), "US")
        .critical_infrastructure(Some(true));
    assert!(codes(&other_maker).is_empty());
    // Only the Micron line of a mixed shipment.
    let mixed = other_maker.item(dram("Micron Technology"), "US").decide();
    assert_eq!(mixed.body.advisories[0].line_ids, ["L2"]);
    // Whatever else the decision says, the advisory does not move it.
    let licensed = base.clone().item(euv_resist(), "US").decide();
    assert_eq!(licensed.body.outcome, Outcome::LicenseRequired);
    assert_eq!(licensed.body.advisories.len(), 1);
}

// ---------------------------------------------------------------------------
// Severity and completeness
// ---------------------------------------------------------------------------

#[test]
fn line_outcome_is_the_most_severe_determination() {
    let d = ship("US", "CN", "2024-03-01")
        .item(valves(), "US")
        .item(euv_resist(), "US")
        .item(gpu(), "US")
        .end_user("Semiconducter Manufacturing Internationl (Tianjin) Corp")
        .decide();
    let outcomes: Vec<Outcome> = d.body.lines.iter().map(|l| l.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Indeterminate,
            Outcome::LicenseRequired,
            Outcome::LicenseRequired
        ]
    );
    assert_eq!(d.body.outcome, Outcome::LicenseRequired);
    // The near miss is kept next to the license requirements, not swallowed by them.
    for l in &d.body.lines {
        assert!(
            l.determinations
                .iter()
                .any(|x| x.outcome == Outcome::Indeterminate && x.rule_id == "el-smic-tianjin")
        );
    }
}

/// Items × export countries × origins × destinations × dates × end users: every
/// decision keeps the invariants (checked in `decide`).
#[test]
fn every_decision_is_complete_cited_and_explained() {
    let items = [
        euv_resist(),
        resist(193.0),
        resist(248.0),
        hydrogen_fluoride(99.0),
        fluorinated_polyimide(12.0),
        wet_chemical(),
        gallium_nitride(),
        euv_coater(),
        arf_immersion(1.4),
        arf_immersion(2.0),
        euv_scanner(),
        gpu(),
        hbm(3.0),
        dram("Micron Technology"),
        valves(),
        unspecified_etch(),
    ];
    let exports = ["US", "JP", "KR", "NL", "CN", "DE", "TW"];
    let destinations = [
        "CN", "KR", "JP", "US", "DE", "NL", "TW", "VN", "RU", "IR", "MO", "IN", "CA", "SG",
    ];
    let dates = [
        "2019-07-10",
        "2022-12-20",
        "2023-11-20",
        "2024-12-05",
        "2026-01-15",
    ];
    let users = [
        "Example Buyer Co.",
        "SMIC",
        "Semiconducter Manufacturing Internationl (Tianjin) Corp",
        "Samsung China Semiconductor Co., Ltd.",
        "YMTC",
    ];
    let mut n = 0usize;
    for (i, item) in items.iter().enumerate() {
        for export in exports {
            for origin in [export, "US"] {
                for (j, destination) in destinations.iter().enumerate() {
                    for (k, date) in dates.iter().enumerate() {
                        let mut s = ship(export, destination, date)
                            .item(item.clone(), origin)
                            .end_user(users[(i + j + k) % users.len()]);
                        s = match (i + j + k) % 4 {
                            0 => s.logic_fab(Some(14.0), Some("finfet")).owner(Some("CN")),
                            1 => s.dram_fab(17.0).owner(Some("KR")),
                            2 => s.ic_production(),
                            _ => s.purpose("military"),
                        };
                        s.decide();
                        n += 1;
                    }
                }
            }
        }
    }
    assert_eq!(
        n,
        items.len() * exports.len() * 2 * destinations.len() * dates.len()
    );
}

#[test]
fn a_regime_left_unclassified_is_indeterminate() {
    // A US-origin line classified in US-EAR only, exported from Japan.
    let d = ship("JP", "CN", "2024-01-10")
        .classified(us_listed("3C002.a.2", &["NS2", "AT1"]), "US")
        .decide();
    d.expect(JP, Indeterminate)
        .expect_missing(JP, "classification in JP-FEFTA")
        .expect(US, License(Unspecified));
}

#[test]
fn indeterminate_classification_is_cited() {
    let d = ship("JP", "CN", "2024-01-10")
        .item(unspecified_etch(), "JP")
        .decide();
    let det = d.must_rule(JP, "classification");
    assert!(det.citations.iter().any(|c| c.contains("METI")), "{det:?}");
    let unclassified = ship("JP", "CN", "2024-01-10")
        .classified(us_listed("3C002.a.2", &["NS2", "AT1"]), "US")
        .decide();
    let det = unclassified.must_rule(JP, "no-classification");
    assert!(!det.citations.is_empty(), "{det:?}");
}

#[test]
fn low_confidence_group_membership_is_reported() {
    // Germany's membership of Korea's region Ga is marked low confidence in kr-fta.toml.
    let kr = ship("KR", "DE", "2024-01-10")
        .item(resist(193.0), "KR")
        .decide();
    kr.expect(KR, Authorized("comprehensive"));
    assert!(kr.must_rule(KR, "kr-list").low_confidence, "{}", kr.dump());
    // Venezuela's membership of D:5 is marked low confidence in us-ear.toml.
    let us = fab_supplies("VE", "2024-01-10")
        .logic_fab(Some(7.0), Some("finfet"))
        .decide();
    assert!(
        us.must_rule(US, "us-744.23-2023").low_confidence,
        "{}",
        us.dump()
    );
}

#[test]
fn us_744_23_dram_with_one_of_cell_area_or_density_is_indeterminate() {
    let base = fab_supplies("CN", "2025-01-10").dram_fab(18.0);
    base.clone()
        .dram_cells(Some(0.0019), None)
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_use.fab_dram_density_gb_mm2");
    base.dram_cells(None, Some(0.288))
        .decide()
        .expect(US, Indeterminate)
        .expect_missing(US, "end_use.fab_dram_cell_area_um2");
}

#[test]
fn jp_special_general_bulk_does_not_authorize_everywhere() {
    for destination in ["KP", "IR"] {
        let d = ship("JP", destination, "2024-01-10")
            .item(euv_resist(), "JP")
            .decide();
        assert_ne!(d.outcome(JP), Outcome::Authorized, "{}", d.dump());
    }
}

#[test]
fn micron_advisory_matches_micron_only() {
    let d = ship("US", "CN", "2024-01-10")
        .item(dram("TDK-Micronas GmbH"), "US")
        .critical_infrastructure(Some(true))
        .decide();
    assert!(d.body.advisories.is_empty(), "{:?}", d.body.advisories);
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::NoLicenseRequired),
        Just(Outcome::Authorized),
        Just(Outcome::Indeterminate),
        Just(Outcome::LicenseRequired),
        Just(Outcome::Prohibited),
    ]
}

/// Shipments whose outcome changes over 2019-2026.
fn template(i: usize) -> Ship {
    let s = |e: &str, d: &str| ship(e, d, "2019-01-01");
    match i {
        0 => s("JP", "KR").item(euv_resist(), "JP"),
        1 => s("JP", "KR").item(wet_chemical(), "JP").purpose("military"),
        2 => s("JP", "CN").item(euv_coater(), "JP"),
        3 => s("JP", "DE").item(euv_coater(), "JP"),
        4 => s("KR", "JP").item(resist(193.0), "KR"),
        5 => s("US", "CN")
            .item(wet_chemical(), "US")
            .dram_fab(18.0)
            .owner(Some("CN")),
        6 => s("US", "MO").item(gpu(), "US"),
        7 => s("US", "VN").item(processor(1700.0, None, 6.0), "US"),
        8 => s("US", "CN").item(valves(), "US").end_user("SMIC"),
        9 => s("US", "CN").item(valves(), "US").end_user("YMTC"),
        10 => s("US", "CN")
            .item(tool_parts(), "US")
            .end_user("Samsung China Semiconductor Co., Ltd.")
            .nand_fab(176)
            .owner(Some("KR")),
        11 => s("US", "RU").item(valves(), "US"),
        12 => s("NL", "CN").item(arf_immersion(2.0), "NL"),
        13 => s("CN", "US").item(gallium_nitride(), "CN"),
        14 => s("US", "CN")
            .item(dram("Micron Technology"), "US")
            .critical_infrastructure(Some(true)),
        15 => s("JP", "CN").item(euv_resist(), "US"),
        _ => s("US", "CN")
            .item(hbm(3.0), "US")
            .item(arf_immersion(1.4), "US"),
    }
}

const TEMPLATES: usize = 17;

fn date_2019_2026() -> impl Strategy<Value = Date> {
    let first = day("2019-01-01");
    let days = (day("2026-12-31") - first).whole_days();
    (0..=days).prop_map(move |n| first + Duration::days(n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Adding a determination never lowers a line's outcome.
    #[test]
    fn severity_combination_is_monotone(
        outcomes in proptest::collection::vec(outcome(), 0..8),
        extra in outcome(),
    ) {
        let before = fold(outcomes.iter().copied());
        let after = fold(outcomes.iter().copied().chain([extra]));
        prop_assert!(after.severity() >= before.severity());
        prop_assert!(after.severity() >= extra.severity());
        prop_assert_eq!(after, before.max(extra));
        prop_assert_eq!(before.max(extra), extra.max(before));
        prop_assert_eq!(before.max(before), before);
        // Severity agrees with the declared order.
        prop_assert_eq!(before.severity().cmp(&extra.severity()), before.cmp(&extra));
    }

    /// On any date, no decision or line is NO_LICENSE_REQUIRED while one of its
    /// determinations is more severe, and the invariants hold.
    #[test]
    fn no_clear_decision_hides_a_more_severe_determination(
        i in 0..TEMPLATES,
        on in date_2019_2026(),
    ) {
        let d = template(i).on_date(on).decide();
        for l in &d.body.lines {
            let worst = fold(l.determinations.iter().map(|x| x.outcome));
            prop_assert_eq!(l.outcome, worst);
            if l.outcome == Outcome::NoLicenseRequired {
                prop_assert!(l.determinations.iter().all(|x| x.outcome == Outcome::NoLicenseRequired));
            }
            prop_assert!(d.body.outcome.severity() >= l.outcome.severity());
        }
    }

    /// Adding a line never lowers the decision's outcome, and leaves the other lines alone.
    #[test]
    fn adding_a_line_never_lowers_the_decision(
        i in 0..TEMPLATES,
        j in 0..TEMPLATES,
        on in date_2019_2026(),
    ) {
        let a = template(i).on_date(on);
        let (extra, origin) = template(j).lines[0].clone();
        let mut both = a.clone();
        both.lines.push((extra, origin));
        let alone = a.decide();
        let together = both.decide();
        prop_assert!(together.body.outcome.severity() >= alone.body.outcome.severity());
        prop_assert_eq!(&together.body.lines[..a.lines.len()], &alone.body.lines[..]);
    }
}

// ---------------------------------------------------------------------------
// Policy pack validation
// ---------------------------------------------------------------------------

const FILE: &str = "test-pack.toml";

const HEADER: &str = r#"
[pack]
regime = "XX-TEST"
name = "test pack"
version = "1"
source = "test source"
covers_from = "2019-01-01"
home = ["XX"]
coverage = "entry"
"#;

const GROUP: &str = r#"
[[group]]
group = "G"
countries = ["KR", "JP"]
from = "2019-01-01"
until = "2023-01-01"
citations = ["group cite"]
"#;

const RULE: &str = r#"
[[rule]]
id = "r1"
entries = ["*"]
outcome = "license_required"
destinations = { groups = ["G"] }
from = "2019-01-01"
citations = ["rule cite"]
"#;

const AUTHORIZATION: &str = r#"
[[authorization]]
id = "a1"
code = "general_bulk"
covers = ["r1"]
destinations = { groups = ["G"] }
from = "2019-01-01"
citations = ["authorization cite"]
"#;

fn parse(body: &str) -> Result<RegimePolicy, PolicyError> {
    RegimePolicy::parse(FILE, &format!("{HEADER}{body}"))
}

/// The pack is rejected, naming this file and `rule`, with a message containing `says`.
#[track_caller]
fn rejected(body: &str, rule: &str, says: &str) {
    let e = parse(body).expect_err("the pack should be rejected");
    assert_eq!(e.file, FILE, "{e}");
    assert_eq!(e.rule, rule, "{e}");
    assert!(e.message.contains(says), "{e}");
    let shown = e.to_string();
    assert!(shown.contains(FILE) && shown.contains(rule), "{shown}");
}

#[test]
fn policy_valid_test_pack_parses() {
    let p = parse(&format!("{GROUP}{RULE}{AUTHORIZATION}")).expect("valid");
    assert_eq!(p.regime, "XX-TEST");
    assert_eq!(p.file, FILE);
    assert_eq!(p.groups_of("KR", day("2022-12-31")), ["G"]);
    assert!(p.groups_of("KR", day("2023-01-01")).is_empty());
    // Adjacent half-open memberships do not overlap.
    let adjacent = "[[group]]\ngroup = \"G\"\ncountries = [\"KR\"]\nfrom = \"2023-01-01\"\ncitations = [\"c\"]\n";
    let p = parse(&format!("{GROUP}{adjacent}{RULE}")).expect("adjacent memberships are fine");
    assert_eq!(p.groups_of("KR", day("2023-01-01")), ["G"]);
}

#[test]
fn policy_rejects_inverted_date_ranges() {
    let rule = RULE.replace(
        "from = \"2019-01-01\"",
        "from = \"2024-01-01\"\nuntil = \"2023-01-01\"",
    );
    rejected(&format!("{GROUP}{rule}"), "r1", "inverted date range");
    let empty = RULE.replace(
        "from = \"2019-01-01\"",
        "from = \"2024-01-01\"\nuntil = \"2024-01-01\"",
    );
    rejected(&format!("{GROUP}{empty}"), "r1", "inverted date range");
    let group = GROUP.replace("until = \"2023-01-01\"", "until = \"2018-01-01\"");
    rejected(&group, "group G", "inverted date range");
    let auth = AUTHORIZATION.replace(
        "from = \"2019-01-01\"",
        "from = \"2020-01-01\"\nuntil = \"2019-06-01\"",
    );
    rejected(&format!("{GROUP}{RULE}{auth}"), "a1", "inverted date range");
    let bad_date = RULE.replace("2019-01-01", "2023-02-30");
    rejected(&format!("{GROUP}{bad_date}"), "r1", "from:");
}

#[test]
fn policy_rejects_unknown_groups() {
    let rule = RULE.replace("groups = [\"G\"]", "groups = [\"Group Z\"]");
    rejected(&format!("{GROUP}{rule}"), "r1", "unknown group `Group Z`");
    let except = RULE.replace(
        "groups = [\"G\"]",
        "all = true, except_groups = [\"Group Z\"]",
    );
    rejected(&format!("{GROUP}{except}"), "r1", "unknown group `Group Z`");
    let end_use = r#"
[[end_use]]
id = "e1"
items = "all"
outcome = "license_required"
destinations = { all = true }
purposes = ["military"]
owner_policies = [{ owner_groups = ["Group Z"], review_policy = "case_by_case" }]
from = "2019-01-01"
citations = ["end use cite"]
"#;
    rejected(
        &format!("{GROUP}{end_use}"),
        "e1",
        "unknown group `Group Z`",
    );
}

#[test]
fn policy_rejects_restriction_of_unknown_authorization() {
    let restriction = r#"
[[restriction]]
id = "x1"
authorizations = ["a1", "a2"]
entries = ["*"]
destinations = { countries = ["KR"] }
from = "2019-01-01"
citations = ["restriction cite"]
"#;
    rejected(
        &format!("{GROUP}{RULE}{AUTHORIZATION}{restriction}"),
        "x1",
        "restricts unknown authorization `a2`",
    );
    // An authorization covering no rule of the pack is refused too.
    let dangling = AUTHORIZATION.replace("covers = [\"r1\"]", "covers = [\"r9*\"]");
    rejected(&format!("{GROUP}{RULE}{dangling}"), "a1", "names no rule");
}

#[test]
fn policy_rejects_overlapping_group_memberships() {
    let overlapping = GROUP
        .replace(
            "countries = [\"KR\", \"JP\"]",
            "countries = [\"CN\", \"JP\"]",
        )
        .replace("from = \"2019-01-01\"", "from = \"2022-06-01\"")
        .replace("until = \"2023-01-01\"\n", "");
    rejected(
        &format!("{GROUP}{overlapping}"),
        "group G",
        "overlapping memberships for JP",
    );
}

#[test]
fn policy_rejects_bad_country_codes() {
    let group = GROUP.replace("\"KR\"", "\"KOR\"");
    rejected(&group, "group G", "`KOR` is not an ISO 3166-1 alpha-2 code");
    let rule = RULE.replace("groups = [\"G\"]", "countries = [\"cn\"]");
    rejected(&format!("{GROUP}{rule}"), "r1", "`cn` is not an ISO 3166-1");
    let party = r#"
[[party]]
id = "p1"
list = "entity_list"
name = "Example Listed Co."
country = "China"
outcome = "license_required"
from = "2019-01-01"
citations = ["party cite"]
"#;
    rejected(party, "p1", "`China` is not an ISO 3166-1");
    let e = RegimePolicy::parse(FILE, &HEADER.replace("[\"XX\"]", "[\"X1\"]")).expect_err("home");
    assert_eq!((e.file.as_str(), e.rule.as_str()), (FILE, "pack"));
}

#[test]
fn policy_rejects_duplicate_rule_ids() {
    rejected(&format!("{GROUP}{RULE}{RULE}"), "r1", "duplicate rule id");
    // Ids are unique across rules, parties, end uses, authorizations and restrictions.
    let auth = AUTHORIZATION.replace("id = \"a1\"", "id = \"r1\"");
    rejected(&format!("{GROUP}{RULE}{auth}"), "r1", "duplicate rule id");
}

#[test]
fn policy_rejects_missing_citations() {
    let none = RULE.replace("citations = [\"rule cite\"]", "citations = []");
    rejected(&format!("{GROUP}{none}"), "r1", "citation");
    let blank = RULE.replace("citations = [\"rule cite\"]", "citations = [\"  \"]");
    rejected(&format!("{GROUP}{blank}"), "r1", "non-empty citation");
    let group = GROUP.replace("citations = [\"group cite\"]", "citations = []");
    rejected(&group, "group G", "citation");
    let auth = AUTHORIZATION.replace("citations = [\"authorization cite\"]", "citations = []");
    rejected(&format!("{GROUP}{RULE}{auth}"), "a1", "citation");
}

#[test]
fn policy_missing_citation_key_names_the_rule() {
    let absent = RULE.replace("citations = [\"rule cite\"]\n", "");
    rejected(&format!("{GROUP}{absent}"), "r1", "citation");
}

#[test]
fn policy_rejects_blank_group_citation() {
    let group = GROUP.replace("citations = [\"group cite\"]", "citations = [\"\"]");
    rejected(&group, "group G", "citation");
}

fn source(file: &str, text: &str) -> policy::Source {
    policy::Source {
        file: file.into(),
        text: text.into(),
    }
}

const COMMON: &str = r#"
[common]
version = "1"

[[applicability]]
export_countries = ["XX"]
regimes = ["XX-TEST"]
citations = ["applicability cite"]
"#;

#[test]
fn policy_set_errors_name_file_and_rule() {
    let good = source(FILE, &format!("{HEADER}{GROUP}{RULE}"));
    let set = PolicySet::from_sources(&source("common.toml", COMMON), std::slice::from_ref(&good))
        .expect("valid");
    assert_eq!(set.applicable_regimes("XX", "YY"), ["XX-TEST"]);
    // A bad pack among good ones: its own file and rule.
    let bad = source(
        "bad-pack.toml",
        &format!(
            "{}{GROUP}{RULE}{RULE}",
            HEADER.replace("XX-TEST", "YY-TEST")
        ),
    );
    let e = PolicySet::from_sources(&source("common.toml", COMMON), &[good.clone(), bad])
        .expect_err("duplicate id");
    assert_eq!((e.file.as_str(), e.rule.as_str()), ("bad-pack.toml", "r1"));
    // Two packs for one regime.
    let twin = source("twin.toml", &good.text);
    let e = PolicySet::from_sources(&source("common.toml", COMMON), &[good.clone(), twin])
        .expect_err("twin");
    assert_eq!(e.file, "twin.toml");
    assert!(e.message.contains(FILE), "{e}");
    // The common file: unknown regime, and an advisory without a citation.
    let unknown = COMMON.replace("regimes = [\"XX-TEST\"]", "regimes = [\"ZZ-NONE\"]");
    let e = PolicySet::from_sources(
        &source("common.toml", &unknown),
        std::slice::from_ref(&good),
    )
    .expect_err("unknown regime");
    assert_eq!(
        (e.file.as_str(), e.rule.as_str()),
        ("common.toml", "applicability")
    );
    assert!(e.message.contains("ZZ-NONE"));
    let advisory = format!(
        "{COMMON}\n[[advisory]]\ncode = \"ADV-1\"\nauthority = \"T\"\ntext = \"t\"\ndestinations = {{ countries = [\"CN\"] }}\nfrom = \"2023-01-01\"\ncitations = []\n"
    );
    let e = PolicySet::from_sources(&source("common.toml", &advisory), &[good])
        .expect_err("uncited advisory");
    assert_eq!((e.file.as_str(), e.rule.as_str()), ("common.toml", "ADV-1"));
}

#[test]
fn bundled_packs_are_valid_and_cover_every_applicable_regime() {
    let set = &*POLICIES;
    for row in &set.applicability {
        for r in &row.regimes {
            assert!(set.regimes.contains_key(r), "{r}");
        }
    }
    for r in [US, JP, KR, EU, NL, CN] {
        assert!(set.regimes.contains_key(r), "{r}");
        assert!(RULES.pack(r).is_some(), "classifier has no {r} pack");
    }
    assert!(set.digest.starts_with("sha256:"));
}
