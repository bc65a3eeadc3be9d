//! The decision engine (pure): a shipment plus its lines' classifications in,
//! per-line, per-regime determinations out.

use std::collections::BTreeMap;

use time::Date;

use crate::dates;

use super::policy::{Confidence, Items, Outcome, PolicySet, RegimePolicy, ReviewPolicy};
use super::screening::ScreeningSet;

mod authorize;
mod destination;
mod end_use;
mod end_user;
mod list;

/// A screened party: display name and normalized names (name and aliases).
#[derive(Debug, Clone, Default)]
pub struct PartyFacts {
    pub name: String,
    pub country: String,
    pub normalized: Vec<String>,
}

/// What the request says about the end use; `None` = not stated.
#[derive(Debug, Clone, Default)]
pub struct EndUseFacts {
    pub purpose: Option<String>,
    pub ic_production: Option<bool>,
    pub fab_logic_node_nm: Option<f64>,
    pub fab_transistor_architecture: Option<String>,
    pub fab_dram_half_pitch_nm: Option<f64>,
    pub fab_nand_layers: Option<u32>,
    pub fab_dram_cell_area_um2: Option<f64>,
    pub fab_dram_density_gb_mm2: Option<f64>,
    pub fab_owner_headquarters: Option<String>,
    pub critical_infrastructure_operator: Option<bool>,
}

/// A listed entry that matched the line's item in one regime.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedEntry {
    pub id: String,
    pub reasons: Vec<String>,
    pub citations: Vec<String>,
    pub low_confidence: bool,
}

/// An entry that could match if facts were given.
#[derive(Debug, Clone, PartialEq)]
pub struct UndeterminedEntry {
    pub id: String,
    pub missing: Vec<String>,
    pub citations: Vec<String>,
}

/// The line's classification in one regime.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegimeClassification {
    pub matches: Vec<MatchedEntry>,
    pub undetermined: Vec<UndeterminedEntry>,
    pub not_listed_label: String,
}

#[derive(Debug, Clone, Default)]
pub struct LineFacts {
    pub line_id: String,
    pub origin_country: String,
    /// Normalized manufacturer name.
    pub manufacturer: String,
    /// By regime code; every applicable regime must be present.
    pub classifications: BTreeMap<String, RegimeClassification>,
}

#[derive(Debug, Clone)]
pub struct Shipment {
    pub export_country: String,
    pub destination: String,
    pub end_user: PartyFacts,
    pub end_use: EndUseFacts,
    pub as_of: Date,
    pub lines: Vec<LineFacts>,
}

/// Where a requirement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    List,
    Destination,
    EndUser,
    EndUse,
    None,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::List => "list",
            Source::Destination => "destination",
            Source::EndUser => "end_user",
            Source::EndUse => "end_use",
            Source::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Determination {
    pub regime: String,
    pub outcome: Outcome,
    pub entry_ids: Vec<String>,
    pub reasons: Vec<String>,
    pub authorization: Option<String>,
    pub review_policy: ReviewPolicy,
    pub citations: Vec<String>,
    pub explanation: String,
    pub missing_facts: Vec<String>,
    pub rule_id: String,
    pub source: Source,
    pub low_confidence: bool,
}

impl Determination {
    fn new(regime: &str, outcome: Outcome, rule_id: impl Into<String>, source: Source) -> Self {
        Self {
            regime: regime.to_string(),
            outcome,
            entry_ids: Vec::new(),
            reasons: Vec::new(),
            authorization: None,
            review_policy: ReviewPolicy::Unspecified,
            citations: Vec::new(),
            explanation: String::new(),
            missing_facts: Vec::new(),
            rule_id: rule_id.into(),
            source,
            low_confidence: false,
        }
    }

    fn cite(&mut self, citations: &[String]) {
        for c in citations {
            if !self.citations.contains(c) {
                self.citations.push(c.clone());
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineDecision {
    pub line_id: String,
    pub outcome: Outcome,
    pub determinations: Vec<Determination>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Advisory {
    pub code: String,
    pub authority: String,
    pub text: String,
    pub citations: Vec<String>,
    pub line_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecisionBody {
    pub outcome: Outcome,
    pub lines: Vec<LineDecision>,
    pub advisories: Vec<Advisory>,
}

/// Settings of the engine.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// Name similarity (0..1) from which a party is a near miss.
    pub party_match_threshold: f64,
    /// With no official screening list loaded, clear a party screened only
    /// against the packs' own parties (at confidence low, with the advisory
    /// SCREENING-PARTIAL) instead of answering INDETERMINATE.
    pub allow_partial_screening: bool,
    /// Days after a list's own date from which a shipment gets the advisory
    /// SCREENING-LIST-STALE.
    pub screening_max_age_days: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            party_match_threshold: 0.85,
            allow_partial_screening: false,
            screening_max_age_days: 7,
        }
    }
}

fn low(c: Confidence) -> bool {
    c == Confidence::Low
}

fn low_note(low: bool) -> &'static str {
    if low {
        " (rests on a fact the rule pack marks low-confidence)"
    } else {
        ""
    }
}

/// Decides a shipment. Every line must carry a classification for each regime
/// `policies.applicable_regimes` gives it.
pub fn decide(
    policies: &PolicySet,
    screening: &ScreeningSet,
    shipment: &Shipment,
    config: &EngineConfig,
) -> DecisionBody {
    let _ = screening;
    let mut lines = Vec::with_capacity(shipment.lines.len());
    for line in &shipment.lines {
        let regimes = policies.applicable_regimes(&shipment.export_country, &line.origin_country);
        let mut dets = Vec::new();
        if regimes.is_empty() {
            let mut d = Determination::new("", Outcome::Indeterminate, "no-regime", Source::None);
            d.explanation = format!(
                "No loaded rule pack covers exports from {} of {}-origin items, so nothing can be said about this line.",
                shipment.export_country, line.origin_country
            );
            d.missing_facts.push(format!(
                "a rule pack for exports from {}",
                shipment.export_country
            ));
            d.cite(&[format!(
                "exportctl policy set {}: regimes by export country and origin (common.toml)",
                policies.version
            )]);
            dets.push(d);
        }
        for regime in regimes {
            let policy = &policies.regimes[regime];
            match line.classifications.get(regime) {
                Some(class) => dets.extend(decide_regime(policy, shipment, class, config)),
                None => {
                    let mut d = Determination::new(
                        regime,
                        Outcome::Indeterminate,
                        "no-classification",
                        Source::List,
                    );
                    d.explanation = format!("The item was not classified in {regime}.");
                    d.missing_facts.push(format!("classification in {regime}"));
                    d.cite(std::slice::from_ref(&policy.source));
                    dets.push(d);
                }
            }
        }
        let outcome = dets
            .iter()
            .map(|d| d.outcome)
            .fold(Outcome::NoLicenseRequired, Outcome::max);
        lines.push(LineDecision {
            line_id: line.line_id.clone(),
            outcome,
            determinations: dets,
        });
    }
    let outcome = lines
        .iter()
        .map(|l| l.outcome)
        .fold(Outcome::NoLicenseRequired, Outcome::max);
    DecisionBody {
        outcome,
        advisories: advisories(policies, shipment),
        lines,
    }
}

fn advisories(policies: &PolicySet, s: &Shipment) -> Vec<Advisory> {
    let mut out = Vec::new();
    for (a, v) in &policies.advisories {
        if !v.contains(s.as_of) || !a.destinations.countries.iter().any(|c| c == &s.destination) {
            continue;
        }
        if a.critical_infrastructure_operator
            && s.end_use.critical_infrastructure_operator != Some(true)
        {
            continue;
        }
        let line_ids: Vec<String> = s
            .lines
            .iter()
            .filter(|l| {
                a.manufacturers.is_empty()
                    || a.manufacturers
                        .iter()
                        .any(|m| contains_words(&l.manufacturer, m))
            })
            .map(|l| l.line_id.clone())
            .collect();
        if !line_ids.is_empty() {
            out.push(Advisory {
                code: a.code.clone(),
                authority: a.authority.clone(),
                text: a.text.clone(),
                citations: a.cited.citations.clone(),
                line_ids,
            });
        }
    }
    out
}

/// Whether a rule on `items` applies to a line classified as `class` (rules on
/// listed items are the list's own, see `list`).
fn applies_to(items: Items, class: &RegimeClassification, listed_rules: bool) -> bool {
    let listed = !class.matches.is_empty();
    match items {
        Items::All => true,
        Items::Listed => listed_rules && listed,
        Items::Unlisted => !listed && class.undetermined.is_empty(),
    }
}

/// One regime's determinations for one line: every source of requirement,
/// then authorizations over the license requirements.
fn decide_regime(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    config: &EngineConfig,
) -> Vec<Determination> {
    if p.is_home(&s.destination) {
        return vec![home(p, s)];
    }
    let mut reqs: Vec<Determination> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    list::undetermined(&p.regime, class, &mut reqs);
    list::requirements(p, s, class, &mut reqs);
    destination::requirements(p, s, class, &mut reqs);
    end_user::requirements(p, s, class, config, &mut reqs);
    end_use::requirements(p, s, class, &mut reqs, &mut notes);
    if reqs.is_empty() {
        return vec![no_requirement(p, s, class, &notes)];
    }
    reqs.into_iter()
        .map(|d| authorize::authorize(p, s, class, d))
        .collect()
}

/// A shipment within the regime's own territory is no export.
fn home(p: &RegimePolicy, s: &Shipment) -> Determination {
    let regime = p.regime.as_str();
    let mut d = Determination::new(regime, Outcome::NoLicenseRequired, "home", Source::None);
    d.explanation = format!(
        "A shipment to {} is not an export under {regime}.",
        s.destination
    );
    d.citations.push(p.source.clone());
    d
}

/// NO_LICENSE_REQUIRED, saying what the item is and what was checked.
fn no_requirement(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    notes: &[String],
) -> Determination {
    let regime = p.regime.as_str();
    let mut d = Determination::new(regime, Outcome::NoLicenseRequired, "none", Source::None);
    let what = if class.matches.is_empty() {
        format!("not listed ({})", class.not_listed_label)
    } else {
        format!(
            "classified {}",
            class
                .matches
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    d.entry_ids = class.matches.iter().map(|m| m.id.clone()).collect();
    d.explanation = format!(
        "Under {regime} the item is {what}, and no list, destination, end-user or end-use requirement applies to {} on {}.{}",
        s.destination,
        dates::format(s.as_of),
        notes.iter().map(|n| format!(" {n}")).collect::<String>()
    );
    d.citations.push(p.source.clone());
    for m in &class.matches {
        d.cite(&m.citations);
    }
    d
}

/// Whether `phrase` appears in `text` as whole words (both normalized).
fn contains_words(text: &str, phrase: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let wanted: Vec<&str> = phrase.split_whitespace().collect();
    !wanted.is_empty() && words.windows(wanted.len()).any(|w| w == wanted.as_slice())
}
