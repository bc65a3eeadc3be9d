//! The decision engine (pure): a shipment plus its lines' classifications in,
//! per-line, per-regime determinations out.

use std::collections::BTreeMap;

use time::Date;

use crate::dates;

use super::parties::{self, PartyMatch};
use super::policy::{
    AdvancedNodeTest, AuthorizationRow, Confidence, Coverage, Items, Outcome, PolicySet,
    RegimePolicy, ReviewPolicy, Validity, pattern_matches,
};

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
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            party_match_threshold: 0.85,
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
pub fn decide(policies: &PolicySet, shipment: &Shipment, config: &EngineConfig) -> DecisionBody {
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

fn decide_regime(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    config: &EngineConfig,
) -> Vec<Determination> {
    let regime = p.regime.as_str();
    let on = s.as_of;
    if p.is_home(&s.destination) {
        let mut d = Determination::new(regime, Outcome::NoLicenseRequired, "home", Source::None);
        d.explanation = format!(
            "A shipment to {} is not an export under {regime}.",
            s.destination
        );
        d.citations.push(p.source.clone());
        return vec![d];
    }
    let mut reqs: Vec<Determination> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    if !class.undetermined.is_empty() {
        let mut d = Determination::new(
            regime,
            Outcome::Indeterminate,
            "classification",
            Source::List,
        );
        d.entry_ids = class.undetermined.iter().map(|u| u.id.clone()).collect();
        for u in &class.undetermined {
            d.cite(&u.citations);
        }
        let mut missing: Vec<String> = class
            .undetermined
            .iter()
            .flat_map(|u| u.missing.iter().map(|m| format!("spec.{m}")))
            .collect();
        missing.sort();
        missing.dedup();
        d.explanation = format!(
            "The item could be {} in {regime}, but the spec lacks {}.",
            d.entry_ids.join(", "),
            missing.join(", ")
        );
        d.missing_facts = missing;
        reqs.push(d);
    }

    // List-based requirements: entries × destination.
    for m in &class.matches {
        list_requirements(p, s, m, &mut reqs);
    }

    // Destination-wide rules on every item, or on unlisted items.
    let listed = !class.matches.is_empty();
    for (rule, v) in &p.rules {
        let applies = match rule.items {
            Items::Listed => false,
            Items::All => true,
            Items::Unlisted => !listed && class.undetermined.is_empty(),
        };
        if !applies || !v.contains(on) {
            continue;
        }
        let Some(selected) = p.select(&rule.destinations, &s.destination, on) else {
            continue;
        };
        let mut d = Determination::new(regime, rule.outcome, &rule.id, Source::Destination);
        d.review_policy = rule.review_policy;
        d.cite(&rule.cited.citations);
        d.low_confidence = low(rule.cited.confidence) || selected.is_low();
        d.explanation = format!("{}{}", rule.cited.explanation, low_note(d.low_confidence));
        if rule.outcome == Outcome::Indeterminate {
            d.missing_facts.push(format!("review under {}", rule.id));
        }
        reqs.push(d);
    }

    // End user.
    for (party, v) in &p.parties {
        if !v.contains(on) {
            continue;
        }
        match parties::screen(
            &s.end_user.normalized,
            &party.normalized,
            config.party_match_threshold,
        ) {
            PartyMatch::None => {}
            PartyMatch::Exact => {
                let mut d = Determination::new(regime, party.outcome, &party.id, Source::EndUser);
                let denial = class.matches.iter().any(|m| {
                    party
                        .denial_entries
                        .iter()
                        .any(|pat| pattern_matches(pat, &m.id))
                });
                d.review_policy = if denial {
                    ReviewPolicy::PresumptionOfDenial
                } else {
                    party.review_policy
                };
                d.cite(&party.cited.citations);
                d.low_confidence = low(party.cited.confidence);
                d.explanation = format!(
                    "{} is on the {} as {} (since {}): {}{}",
                    s.end_user.name,
                    party.list.replace('_', " "),
                    party.name,
                    dates::format(v.from),
                    party.cited.explanation,
                    low_note(d.low_confidence)
                );
                reqs.push(d);
            }
            PartyMatch::NearMiss(score) => {
                // A near miss is never more severe than the listing itself would be.
                let outcome = Outcome::Indeterminate.min(party.outcome);
                let mut d = Determination::new(regime, outcome, &party.id, Source::EndUser);
                d.cite(&party.cited.citations);
                d.explanation = format!(
                    "{} resembles {} on the {} (name similarity {:.2}); a person must confirm whether they are the same party.",
                    s.end_user.name,
                    party.name,
                    party.list.replace('_', " "),
                    score
                );
                if outcome == Outcome::Indeterminate {
                    d.missing_facts
                        .push(format!("end_user.name: confirm it is not {}", party.name));
                }
                reqs.push(d);
            }
        }
    }

    // End use.
    for (rule, v, redefined) in &p.end_uses {
        let applies_to_item = match rule.items {
            Items::All => true,
            Items::Listed => listed,
            Items::Unlisted => !listed && class.undetermined.is_empty(),
        };
        if !v.contains(on) || !applies_to_item {
            continue;
        }
        let Some(selected) = p.select(&rule.destinations, &s.destination, on) else {
            continue;
        };
        if let Some(test) = &rule.advanced_node {
            if s.end_use.ic_production != Some(true) {
                continue;
            }
            match advanced_node(test, &s.end_use, on, *redefined) {
                Fab::NotAdvanced => {}
                Fab::Advanced(because) => {
                    let mut d = Determination::new(regime, rule.outcome, &rule.id, Source::EndUse);
                    d.cite(&rule.cited.citations);
                    d.low_confidence = low(rule.cited.confidence) || selected.is_low();
                    let (policy, owner_note) = owner_policy(p, rule, &s.end_use, on);
                    d.review_policy = policy;
                    d.explanation = format!(
                        "The items are for IC production at an advanced-node fab ({because}) in {}: {}{}{}",
                        s.destination,
                        rule.cited.explanation,
                        owner_note,
                        low_note(d.low_confidence)
                    );
                    reqs.push(d);
                }
                Fab::Unknown(missing) => {
                    let mut d = Determination::new(
                        regime,
                        Outcome::Indeterminate,
                        &rule.id,
                        Source::EndUse,
                    );
                    d.cite(&rule.cited.citations);
                    d.explanation = format!(
                        "The items are for IC production in {}, but the request does not say enough about what the fab makes to tell whether it is an advanced-node fab.",
                        s.destination
                    );
                    d.missing_facts = missing;
                    reqs.push(d);
                }
            }
        } else if let Some(purpose) = &s.end_use.purpose {
            if rule.purposes.contains(purpose) {
                let mut d = Determination::new(regime, rule.outcome, &rule.id, Source::EndUse);
                d.cite(&rule.cited.citations);
                d.explanation = format!("The end use is {purpose}: {}", rule.cited.explanation);
                reqs.push(d);
            } else if !rule.note_when_clear.is_empty() {
                notes.push(rule.note_when_clear.clone());
            }
        } else if !rule.note_when_clear.is_empty() {
            notes.push(rule.note_when_clear.clone());
        }
    }

    if reqs.is_empty() {
        let mut d = Determination::new(regime, Outcome::NoLicenseRequired, "none", Source::None);
        let what = if listed {
            format!(
                "classified {}",
                class
                    .matches
                    .iter()
                    .map(|m| m.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!("not listed ({})", class.not_listed_label)
        };
        d.entry_ids = class.matches.iter().map(|m| m.id.clone()).collect();
        d.explanation = format!(
            "Under {regime} the item is {what}, and no list, destination, end-user or end-use requirement applies to {} on {}.{}",
            s.destination,
            dates::format(on),
            notes.iter().map(|n| format!(" {n}")).collect::<String>()
        );
        d.citations.push(p.source.clone());
        for m in &class.matches {
            d.cite(&m.citations);
        }
        return vec![d];
    }
    reqs.into_iter()
        .map(|d| authorize(p, s, class, d))
        .collect()
}

fn list_requirements(
    p: &RegimePolicy,
    s: &Shipment,
    m: &MatchedEntry,
    reqs: &mut Vec<Determination>,
) {
    let regime = p.regime.as_str();
    let on = s.as_of;
    let push = |reqs: &mut Vec<Determination>,
                rule_id: String,
                outcome: Outcome,
                reason: Option<&str>,
                f: &dyn Fn(&mut Determination)| {
        if let Some(r) = reqs
            .iter_mut()
            .find(|r| r.rule_id == rule_id && r.outcome == outcome)
        {
            if !r.entry_ids.contains(&m.id) {
                r.entry_ids.push(m.id.clone());
            }
            if let Some(reason) = reason
                && !r.reasons.iter().any(|x| x == reason)
            {
                r.reasons.push(reason.to_string());
            }
            r.cite(&m.citations);
            r.low_confidence |= m.low_confidence;
            return;
        }
        let mut d = Determination::new(regime, outcome, rule_id, Source::List);
        d.entry_ids.push(m.id.clone());
        if let Some(reason) = reason {
            d.reasons.push(reason.to_string());
        }
        d.cite(&m.citations);
        d.low_confidence = m.low_confidence;
        f(&mut d);
        reqs.push(d);
    };

    // Country chart (reason × destination).
    for reason in m.reasons.iter().filter(|r| p.chart_reasons.contains(r)) {
        let row = p
            .chart
            .iter()
            .find(|row| row.countries.iter().any(|c| c == &s.destination));
        let cell = row.map(|row| {
            if row.x.contains(reason) {
                Some(true)
            } else if row.blank.contains(reason) {
                Some(false)
            } else {
                None
            }
        });
        match (row, cell.flatten()) {
            (Some(row), Some(true)) => {
                push(
                    reqs,
                    format!("chart:{reason}"),
                    Outcome::LicenseRequired,
                    Some(reason),
                    &|d| {
                        d.cite(&row.citations);
                        d.low_confidence |= low(row.confidence);
                        d.explanation = format!(
                            "The Commerce Country Chart has an X for {reason} and {}: a license is required for the listed entries{}.",
                            s.destination,
                            low_note(d.low_confidence)
                        );
                    },
                );
            }
            (Some(_), Some(false)) => {}
            (row, _) => {
                push(
                    reqs,
                    format!("chart-gap:{reason}"),
                    Outcome::Indeterminate,
                    Some(reason),
                    &|d| {
                        if let Some(row) = row {
                            d.cite(&row.citations);
                        }
                        d.explanation = format!(
                            "The rule pack does not know the Commerce Country Chart cell for {reason} and {}, so whether a license is required cannot be told.",
                            s.destination
                        );
                        d.missing_facts.push(format!(
                            "Commerce Country Chart cell {}/{reason}",
                            s.destination
                        ));
                    },
                );
            }
        }
    }

    // Rules on listed entries, and the coverage check that no entry or reason falls through.
    let mut covered_reasons: Vec<&str> = Vec::new();
    let mut covered_entry = false;
    for (rule, v) in &p.rules {
        if rule.items != Items::Listed
            || !v.contains(on)
            || !rule.entries.iter().any(|pat| pattern_matches(pat, &m.id))
        {
            continue;
        }
        if let Some(reason) = &rule.reason {
            if !m.reasons.contains(reason) {
                continue;
            }
            covered_reasons.push(reason);
        }
        covered_entry = true;
        let Some(selected) = p.select(&rule.destinations, &s.destination, on) else {
            continue;
        };
        push(
            reqs,
            rule.id.clone(),
            rule.outcome,
            rule.reason.as_deref(),
            &|d| {
                d.review_policy = rule.review_policy;
                d.cite(&rule.cited.citations);
                d.low_confidence |= low(rule.cited.confidence) || selected.is_low();
                d.explanation = format!("{}{}", rule.cited.explanation, low_note(d.low_confidence));
                if let Some(a) = &rule.authorization {
                    d.authorization = Some(a.clone());
                }
            },
        );
    }
    let gap = match p.coverage {
        Coverage::Entry => (!covered_entry).then(|| {
            "no rule of the pack says which destinations need a license for it".to_string()
        }),
        Coverage::Reason => m
            .reasons
            .iter()
            .find(|r| !p.chart_reasons.contains(r) && !covered_reasons.contains(&r.as_str()))
            .map(|r| format!("its reason {r} has no destination scope in the pack on that date")),
    };
    if let Some(why) = gap {
        push(
            reqs,
            format!("coverage-gap:{}", m.id),
            Outcome::Indeterminate,
            None,
            &|d| {
                d.explanation = format!("{} is listed in {regime}, but {why}.", m.id);
                d.missing_facts
                    .push(format!("destination scope of {} in {regime}", m.id));
            },
        );
    }
}

enum Fab {
    Advanced(String),
    NotAdvanced,
    Unknown(Vec<String>),
}

/// The advanced-node fab test. Facts describe what the fab makes: once any is
/// given, the absent ones mean the fab does not make that kind of IC.
fn advanced_node(t: &AdvancedNodeTest, e: &EndUseFacts, on: Date, redefined: Option<Date>) -> Fab {
    let any_fact = e.fab_logic_node_nm.is_some()
        || e.fab_transistor_architecture.is_some()
        || e.fab_dram_half_pitch_nm.is_some()
        || e.fab_nand_layers.is_some()
        || e.fab_dram_cell_area_um2.is_some()
        || e.fab_dram_density_gb_mm2.is_some();
    if !any_fact {
        return Fab::Unknown(
            [
                "end_use.fab_logic_node_nm",
                "end_use.fab_transistor_architecture",
                "end_use.fab_dram_half_pitch_nm",
                "end_use.fab_nand_layers",
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    if let Some(n) = e.fab_logic_node_nm
        && n <= t.logic_node_nm_at_most
    {
        return Fab::Advanced(format!("logic at {n} nm <= {} nm", t.logic_node_nm_at_most));
    }
    if let Some(a) = &e.fab_transistor_architecture
        && t.non_planar.contains(a)
    {
        return Fab::Advanced(format!("non-planar {a} logic"));
    }
    if let Some(l) = e.fab_nand_layers
        && l >= t.nand_layers_at_least
    {
        return Fab::Advanced(format!(
            "NAND with {l} >= {} layers",
            t.nand_layers_at_least
        ));
    }
    let dram_by_cell = redefined.is_some_and(|d| on >= d);
    if !dram_by_cell {
        if let Some(hp) = e.fab_dram_half_pitch_nm
            && hp <= t.dram_half_pitch_nm_at_most
        {
            return Fab::Advanced(format!(
                "DRAM at {hp} nm half-pitch <= {} nm",
                t.dram_half_pitch_nm_at_most
            ));
        }
    } else {
        if let (Some(a), Some(limit)) = (e.fab_dram_cell_area_um2, t.dram_cell_area_um2_below)
            && a < limit
        {
            return Fab::Advanced(format!("DRAM cell area {a} um2 < {limit} um2"));
        }
        if let (Some(d), Some(limit)) = (e.fab_dram_density_gb_mm2, t.dram_density_gb_mm2_above)
            && d > limit
        {
            return Fab::Advanced(format!("DRAM density {d} Gb/mm2 > {limit} Gb/mm2"));
        }
    }
    // Nothing made it advanced. For each kind of IC the fab makes, every test of
    // that kind needs its fact before the fab can be cleared.
    let mut missing = Vec::new();
    let mut need = |absent: bool, fact: &str| {
        if absent {
            missing.push(format!("end_use.{fact}"));
        }
    };
    if e.fab_logic_node_nm.is_some() || e.fab_transistor_architecture.is_some() {
        need(e.fab_logic_node_nm.is_none(), "fab_logic_node_nm");
        need(
            e.fab_transistor_architecture.is_none(),
            "fab_transistor_architecture",
        );
    }
    let makes_dram = e.fab_dram_half_pitch_nm.is_some()
        || e.fab_dram_cell_area_um2.is_some()
        || e.fab_dram_density_gb_mm2.is_some();
    if makes_dram && dram_by_cell {
        need(e.fab_dram_cell_area_um2.is_none(), "fab_dram_cell_area_um2");
        need(
            e.fab_dram_density_gb_mm2.is_none(),
            "fab_dram_density_gb_mm2",
        );
    } else if makes_dram {
        need(e.fab_dram_half_pitch_nm.is_none(), "fab_dram_half_pitch_nm");
    }
    if missing.is_empty() {
        Fab::NotAdvanced
    } else {
        Fab::Unknown(missing)
    }
}

fn owner_policy(
    p: &RegimePolicy,
    rule: &super::policy::EndUseRow,
    e: &EndUseFacts,
    on: Date,
) -> (ReviewPolicy, String) {
    let Some(owner) = &e.fab_owner_headquarters else {
        return (ReviewPolicy::Unspecified, " The review policy depends on where the fab's owner is headquartered (end_use.fab_owner_headquarters), which the request does not say.".into());
    };
    let groups = p.groups_of(owner, on);
    for op in &rule.owner_policies {
        if op.owner_countries.iter().any(|c| c == owner)
            || op.owner_groups.iter().any(|g| groups.contains(&g.as_str()))
        {
            return (
                op.review_policy,
                format!(" The owner is headquartered in {owner}."),
            );
        }
    }
    (
        ReviewPolicy::Unspecified,
        format!(" The rule pack states no review policy for an owner headquartered in {owner}."),
    )
}

enum Coverable<'a> {
    /// Covered; the confidence of the destination's selection.
    Yes(Confidence),
    No,
    Unknown(String),
    /// It would cover, but a restriction takes it away.
    Restricted(&'a super::policy::RestrictionRow),
}

fn authorization_applies<'a>(
    p: &'a RegimePolicy,
    a: &AuthorizationRow,
    v: &Validity,
    s: &Shipment,
    class: &RegimeClassification,
    det: &Determination,
) -> Coverable<'a> {
    let on = s.as_of;
    if !v.contains(on)
        || !a
            .covers
            .iter()
            .any(|pat| pattern_matches(pat, &det.rule_id))
    {
        return Coverable::No;
    }
    if s.end_use
        .purpose
        .as_ref()
        .is_some_and(|pu| a.excluded_purposes.contains(pu))
    {
        return Coverable::No;
    }
    let entries: Vec<&MatchedEntry> = class
        .matches
        .iter()
        .filter(|m| det.entry_ids.contains(&m.id))
        .collect();
    for m in &entries {
        if !a.entries.is_empty() && !a.entries.iter().any(|pat| pattern_matches(pat, &m.id)) {
            return Coverable::No;
        }
        if !a.reasons.is_empty() && !m.reasons.iter().any(|r| a.reasons.contains(r)) {
            return Coverable::No;
        }
        if m.reasons.iter().any(|r| a.except_reasons.contains(r)) {
            return Coverable::No;
        }
    }
    if !a.parties.is_empty() {
        let granted = a.parties.iter().any(|party| {
            parties::screen(&s.end_user.normalized, &party.normalized, 1.0) == PartyMatch::Exact
        });
        if !granted {
            return Coverable::No;
        }
    }
    let restriction = p.restrictions.iter().find(|(r, rv)| {
        rv.contains(on)
            && r.authorizations.contains(&a.id)
            && p.selects(&r.destinations, &s.destination, on)
            && entries
                .iter()
                .any(|m| r.entries.iter().any(|pat| pattern_matches(pat, &m.id)))
    });
    if let Some(selected) = p.select(&a.destinations, &s.destination, on) {
        return match restriction {
            Some((r, _)) => Coverable::Restricted(r),
            None => Coverable::Yes(selected),
        };
    }
    match &a.excluded_destinations {
        Some(ex) if !p.selects(ex, &s.destination, on) => Coverable::Unknown(format!(
            "whether {} is among the destinations of {} ({}) is not in the rule pack, whose list is incomplete",
            s.destination, a.id, a.code
        )),
        _ => Coverable::No,
    }
}

/// Applies the first authorization that covers a license requirement.
fn authorize(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    mut det: Determination,
) -> Determination {
    if det.outcome != Outcome::LicenseRequired {
        return det;
    }
    let mut unknown = None;
    for (a, v) in &p.authorizations {
        match authorization_applies(p, a, v, s, class, &det) {
            Coverable::Yes(selected) => {
                let weak = low(a.cited.confidence) || selected.is_low();
                det.outcome = Outcome::Authorized;
                det.authorization = Some(a.code.clone());
                det.cite(&a.cited.citations);
                det.low_confidence |= weak;
                det.explanation = format!(
                    "{} Covered by {} ({}): {}{}",
                    det.explanation,
                    a.code,
                    a.id,
                    a.cited.explanation,
                    low_note(weak)
                );
                return det;
            }
            Coverable::Unknown(why) => unknown = Some((a, why)),
            Coverable::Restricted(r) => {
                det.cite(&r.cited.citations);
                det.explanation = format!(
                    "{} The {} is not available ({}): {}",
                    det.explanation, a.code, r.id, r.cited.explanation
                );
            }
            Coverable::No => {}
        }
    }
    if let Some((a, why)) = unknown {
        det.outcome = Outcome::Indeterminate;
        det.cite(&a.cited.citations);
        det.missing_facts
            .push(format!("eligibility of {} for {}", s.destination, a.code));
        det.explanation = format!("{} A {} may cover it, but {why}.", det.explanation, a.code);
        return det;
    }
    det
}

/// Whether `phrase` appears in `text` as whole words (both normalized).
fn contains_words(text: &str, phrase: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let wanted: Vec<&str> = phrase.split_whitespace().collect();
    !wanted.is_empty() && words.windows(wanted.len()).any(|w| w == wanted.as_slice())
}
