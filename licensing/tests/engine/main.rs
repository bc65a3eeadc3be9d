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
use exportctl_core::decide::screening::{ScreeningList, ScreeningSet};
use exportctl_licensing::engine::{
    self, DecisionBody, Determination, EndUseFacts, EngineConfig, ForeignFacts, HeldAuthorization,
    LineDecision, LineFacts, MatchedEntry, PartyFacts, RegimeClassification, Shipment,
    UndeterminedEntry,
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

mod cn;
mod eu_nl;
mod held;
mod jp;
mod kr;
mod packs;
mod properties;
mod sanctions;
mod screening;
mod severity;
mod us_ccl;
mod us_chart;
mod us_classifier_scope;
mod us_embargoes;
mod us_end_use;
mod us_end_user_rules;
mod us_entry_scopes;
mod us_foreign;
mod us_parties;

// ---------------------------------------------------------------------------
// The bundled packs and in-process classification
// ---------------------------------------------------------------------------

static POLICIES: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::bundled().expect("bundled policy packs load"));
/// The official screening list, as a small hand-written fixture in the
/// official layout (the screening crate's), dated 2026-07-31.
static SCREENING: LazyLock<ScreeningSet> = LazyLock::new(|| {
    let bytes = include_bytes!("../../../screening/tests/fixtures/csl-small.json");
    let mut list = ScreeningList::load(bytes, "csl-small.json").expect("fixture loads");
    list.set_list_date(day("2026-07-31"));
    ScreeningSet::new(vec![std::sync::Arc::new(list)])
});
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
    /// `(role, name)` of the other parties.
    parties: Vec<(String, String)>,
    /// Where the end user and its ultimate parent are headquartered.
    end_user_headquarters: (Option<String>, Option<String>),
    /// `(headquarters, ultimate parent)` of the other parties, by index.
    party_headquarters: BTreeMap<usize, (Option<String>, Option<String>)>,
    /// Whether the official screening list (the fixture) is loaded.
    screening_list: bool,
    end_use: EndUseFacts,
    lines: Vec<(Line, String)>,
    /// US content of every line (foreign-produced items).
    foreign: ForeignFacts,
    /// The destination's ISO 3166-2 subdivision.
    subdivision: Option<String>,
    /// Authorizations the exporter holds.
    held: Vec<HeldAuthorization>,
}

/// A civil shipment to "Example Buyer Co." with no lines yet.
fn ship(export: &str, destination: &str, as_of: &str) -> Ship {
    Ship {
        export: export.into(),
        destination: destination.into(),
        as_of: day(as_of),
        end_user: "Example Buyer Co.".into(),
        aliases: Vec::new(),
        parties: Vec::new(),
        end_user_headquarters: (None, None),
        party_headquarters: BTreeMap::new(),
        screening_list: true,
        end_use: EndUseFacts {
            purpose: Some("civil".into()),
            ..Default::default()
        },
        lines: Vec::new(),
        foreign: ForeignFacts::default(),
        subdivision: None,
        held: Vec::new(),
    }
}

impl Ship {
    /// The exporter holds the regime's authorization `code` (a bulk or
    /// comprehensive license, a VEU).
    fn holds(self, regime: &str, code: &str) -> Self {
        self.holds_ref(regime, code, None)
    }

    /// [`Self::holds`] with the licence number.
    fn holds_ref(mut self, regime: &str, code: &str, reference: Option<&str>) -> Self {
        self.held.push(HeldAuthorization {
            regime: regime.into(),
            code: code.into(),
            reference: reference.map(String::from),
        });
        self
    }

    /// To the destination's subdivision (ISO 3166-2, `UA-43`).
    fn region(mut self, subdivision: &str) -> Self {
        self.subdivision = Some(subdivision.into());
        self
    }

    /// Controlled and total US-origin content of every line, percent.
    fn us_content(mut self, controlled: Option<f64>, total: Option<f64>) -> Self {
        self.foreign.us_controlled_content_percent = controlled;
        self.foreign.us_content_percent = total;
        self
    }

    /// Whether every line is made with US technology / US equipment.
    fn made_with_us(mut self, technology: Option<bool>, equipment: Option<bool>) -> Self {
        self.foreign.produced_with_us_technology = technology;
        self.foreign.produced_with_us_equipment = equipment;
        self
    }

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

    fn party(mut self, role: &str, name: &str) -> Self {
        self.parties.push((role.into(), name.into()));
        self
    }

    /// Where the end user (`headquarters_country`) and its ultimate parent
    /// (`ultimate_parent_country`) are headquartered; `None` = not stated.
    fn headquarters(mut self, hq: Option<&str>, parent: Option<&str>) -> Self {
        self.end_user_headquarters = (hq.map(String::from), parent.map(String::from));
        self
    }

    /// Another party with its headquarters facts.
    fn party_in(mut self, role: &str, name: &str, hq: Option<&str>, parent: Option<&str>) -> Self {
        self.party_headquarters.insert(
            self.parties.len(),
            (hq.map(String::from), parent.map(String::from)),
        );
        self.party(role, name)
    }

    /// No official screening list loaded (only the packs' parties).
    fn without_screening_list(mut self) -> Self {
        self.screening_list = false;
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
        Shipment {
            export_country: self.export.clone(),
            destination: self.destination.clone(),
            subdivision: self.subdivision.clone(),
            held: self.held.clone(),
            end_user: PartyFacts {
                headquarters_country: self.end_user_headquarters.0.clone(),
                ultimate_parent_country: self.end_user_headquarters.1.clone(),
                ..PartyFacts::end_user(&self.end_user, &self.destination, &self.aliases)
            },
            parties: self
                .parties
                .iter()
                .enumerate()
                .map(|(i, (role, name))| {
                    let (hq, parent) = self.party_headquarters.get(&i).cloned().unwrap_or_default();
                    PartyFacts {
                        role: role.clone(),
                        field: format!("parties[{i}]"),
                        name: name.clone(),
                        country: self.destination.clone(),
                        aliases: Vec::new(),
                        headquarters_country: hq,
                        ultimate_parent_country: parent,
                    }
                })
                .collect(),
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
                        foreign: self.foreign,
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
        let none = ScreeningSet::default();
        let screening = if self.screening_list {
            &*SCREENING
        } else {
            &none
        };
        let body = engine::decide(&POLICIES, screening, &shipment, config);
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
