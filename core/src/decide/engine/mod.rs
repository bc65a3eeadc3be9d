//! The decision engine (pure): a shipment plus its lines' classifications in,
//! per-line, per-regime determinations out.

use std::collections::BTreeMap;

use time::Date;

use crate::dates;

use super::policy::{
    Confidence, DestinationSelector, Items, Outcome, PolicySet, RegimePolicy, ReviewPolicy,
};
use super::screening::{ListEffect, ScreeningSet};

mod authorize;
mod destination;
mod end_use;
mod end_user;
mod headquarters;
mod jurisdiction;

pub use end_user::{PartyReport, ReportedMatch, screen_party};
pub use jurisdiction::fdp_paragraphs;
mod list;

/// A party to the shipment, screened by its name and aliases.
#[derive(Debug, Clone, Default)]
pub struct PartyFacts {
    /// end_user, sold_to, ship_to, consignee, intermediate_consignee,
    /// forwarder or purchaser.
    pub role: String,
    /// Where it is in the request (`end_user`, `parties[2]`), for missing facts.
    pub field: String,
    pub name: String,
    pub country: String,
    pub aliases: Vec<String>,
    /// Where the party is headquartered; `None` = not stated.
    pub headquarters_country: Option<String>,
    /// Where its ultimate parent is headquartered; `None` = not stated.
    pub ultimate_parent_country: Option<String>,
}

impl PartyFacts {
    pub fn end_user(name: &str, country: &str, aliases: &[String]) -> Self {
        Self {
            role: "end_user".into(),
            field: "end_user".into(),
            name: name.into(),
            country: country.into(),
            aliases: aliases.to_vec(),
            ..Default::default()
        }
    }

    /// Name then aliases, non-empty.
    pub fn names(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .filter(|n| !n.trim().is_empty())
            .collect()
    }
}

/// A screened party and the listed entry its name matched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartyMatchFacts {
    pub role: String,
    pub party_name: String,
    /// EL, DPL, SDN, UVL, MEU, ... or PACK.
    pub list: String,
    pub list_name: String,
    pub entry_name: String,
    pub matched_name: String,
    pub score: f64,
    pub exact: bool,
    pub federal_register_notice: String,
    pub source_list_url: String,
    pub signals: Vec<String>,
    pub license_requirement: String,
    pub license_policy: String,
    pub entry_id: String,
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

/// What the request says of a foreign-produced item's US content; `None` =
/// not stated.
#[derive(Debug, Clone, Copy, Default)]
pub struct ForeignFacts {
    pub us_content_percent: Option<f64>,
    pub us_controlled_content_percent: Option<f64>,
    pub produced_with_us_technology: Option<bool>,
    pub produced_with_us_equipment: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct LineFacts {
    pub line_id: String,
    pub origin_country: String,
    /// Normalized manufacturer name.
    pub manufacturer: String,
    /// By regime code; every applicable regime must be present.
    pub classifications: BTreeMap<String, RegimeClassification>,
    pub foreign: ForeignFacts,
}

/// An authorization the request says the exporter holds (a bulk or
/// comprehensive license, a VEU, a registered general authorisation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeldAuthorization {
    pub regime: String,
    /// The `code` of one of the regime's `[[authorization]]` rows.
    pub code: String,
    /// The licence number, echoed in the explanation; `None` = not given.
    pub reference: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Shipment {
    pub export_country: String,
    pub destination: String,
    /// The destination's ISO 3166-2 subdivision (`UA-43`), when the request
    /// names one: rules on occupied regions select by it.
    pub subdivision: Option<String>,
    /// Authorizations the exporter holds: an authorization that needs holding
    /// covers a requirement only when it is among them.
    pub held: Vec<HeldAuthorization>,
    pub end_user: PartyFacts,
    /// Every other party, each with its role.
    pub parties: Vec<PartyFacts>,
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

impl Shipment {
    /// Whether `sel` picks this shipment's destination on its date: by its
    /// country, or by the subdivision a selector names (`UA-43`).
    fn destined(&self, p: &RegimePolicy, sel: &DestinationSelector) -> Option<Confidence> {
        p.select_in(
            sel,
            &self.destination,
            self.subdivision.as_deref(),
            self.as_of,
        )
    }

    /// The held authorization of `regime` with `code`, if the request names it.
    pub fn holds(&self, regime: &str, code: &str) -> Option<&HeldAuthorization> {
        self.held
            .iter()
            .find(|h| h.regime == regime && h.code == code)
    }

    /// How the destination is named in explanations: `UA (UA-43)`.
    pub fn destination_label(&self) -> String {
        match &self.subdivision {
            Some(sub) => format!("{} ({sub})", self.destination),
            None => self.destination.clone(),
        }
    }

    /// The parties to screen: the end user (when named), then the others.
    pub fn screened_parties(&self) -> impl Iterator<Item = &PartyFacts> {
        std::iter::once(&self.end_user)
            .filter(|p| !p.names().is_empty())
            .chain(self.parties.iter())
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
    /// A party screening determination: who matched what.
    pub party_match: Option<PartyMatchFacts>,
    /// The party's listing takes every authorization away (Entity List,
    /// Unverified List, Denied Persons, SDN).
    pub blocks_authorizations: bool,
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
            party_match: None,
            blocks_authorizations: false,
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
    /// The official lists the parties were screened against.
    pub screening_sources: Vec<ScreeningSourceFacts>,
    /// `(regime, pack version, reviewed through)` of each pack that spoke.
    pub pack_vintages: Vec<(String, String, Option<Date>)>,
}

/// A screening list a decision rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct ScreeningSourceFacts {
    pub name: String,
    pub list_date: Option<Date>,
    pub date_basis: String,
    pub entries: usize,
    pub digest: String,
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
    let screened = end_user::screen_parties(screening, shipment, config);
    let mut spoke: Vec<&RegimePolicy> = Vec::new();
    let mut lines = Vec::with_capacity(shipment.lines.len());
    for line in &shipment.lines {
        let regimes = policies.applicable_regimes(&shipment.export_country, &line.origin_country);
        let mut dets = Vec::new();
        if !policies.covers(&shipment.export_country, &line.origin_country) {
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
            if !spoke.iter().any(|p| p.regime == policy.regime) {
                spoke.push(policy);
            }
            let ctx = RegimeContext {
                p: policy,
                s: shipment,
                screening,
                screened: &screened,
                config,
            };
            match line.classifications.get(regime) {
                Some(class) => dets.extend(decide_regime(&ctx, line, class)),
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
    let mut advisories = advisories(policies, shipment);
    advisories.extend(vintage_advisories(&spoke, shipment));
    advisories.extend(footnote_advisories(&spoke, shipment));
    advisories.extend(screening_advisories(
        &spoke, screening, &screened, shipment, config,
    ));
    DecisionBody {
        outcome,
        advisories,
        lines,
        screening_sources: screening_sources(screening),
        pack_vintages: spoke
            .iter()
            .map(|p| (p.regime.clone(), p.version.clone(), p.reviewed_through))
            .collect(),
    }
}

/// What each loaded screening list is: name, date, size, digest.
pub fn screening_sources(screening: &ScreeningSet) -> Vec<ScreeningSourceFacts> {
    screening
        .lists
        .iter()
        .map(|l| ScreeningSourceFacts {
            name: l.label().to_string(),
            list_date: l.list_date(),
            date_basis: l.date_basis().map(|b| b.as_str()).unwrap_or("").to_string(),
            entries: l.entries().len(),
            digest: l.digest().to_string(),
        })
        .collect()
}

/// Decision-level advisories of party screening: hits on lists whose measures
/// are financial (never an outcome), a partial screening allowed by
/// configuration, and a list older than the configured age.
fn screening_advisories(
    spoke: &[&RegimePolicy],
    screening: &ScreeningSet,
    screened: &[end_user::PartyScreen],
    s: &Shipment,
    config: &EngineConfig,
) -> Vec<Advisory> {
    let mut out = Vec::new();
    let all_lines: Vec<String> = s.lines.iter().map(|l| l.line_id.clone()).collect();
    let needs_list = spoke.iter().find_map(|p| p.screening_list.as_deref());
    let Some(list_name) = needs_list else {
        return out;
    };
    if screening.is_empty() {
        if config.allow_partial_screening {
            out.push(Advisory {
                code: "SCREENING-PARTIAL".into(),
                authority: "exportctl".into(),
                text: format!(
                    "The parties were screened against the parties the packs list only: no {list_name} is loaded. Clearances rest on that partial check (confidence low)."
                ),
                citations: Vec::new(),
                line_ids: all_lines.clone(),
            });
        }
        return out;
    }
    for l in &screening.lists {
        if let Some(d) = l.list_date()
            && (s.as_of - d).whole_days() > config.screening_max_age_days
        {
            out.push(Advisory {
                code: "SCREENING-LIST-STALE".into(),
                authority: "exportctl".into(),
                text: format!(
                    "The shipment date {} is more than {} days after the date of the screening list {} ({}): parties listed since may be missed; load a current list.",
                    dates::format(s.as_of),
                    config.screening_max_age_days,
                    l.label(),
                    dates::format(d)
                ),
                citations: Vec::new(),
                line_ids: all_lines.clone(),
            });
        }
    }
    for ps in screened {
        for (_, lh) in &ps.hits {
            let source = lh.entry.list_source();
            if !lh.hit.exact || ListEffect::of(source, None) != ListEffect::Advisory {
                continue;
            }
            out.push(Advisory {
                code: format!("SCREENING-{}", source.code()),
                authority: source.label().to_string(),
                text: format!(
                    "The {} {} matches {} on the {}: a financial or investment measure, not an export license requirement by itself; a person should review the transaction.",
                    ps.party.role,
                    ps.party.name,
                    lh.entry.name,
                    source.label()
                ),
                citations: lh.entry.federal_register_notice.iter().cloned().collect(),
                line_ids: all_lines.clone(),
            });
        }
    }
    out
}

/// DATA-VINTAGE: a shipment dated after the day a pack's authors reviewed
/// the regulation through may be governed by rules published since.
fn vintage_advisories(spoke: &[&RegimePolicy], s: &Shipment) -> Vec<Advisory> {
    spoke
        .iter()
        .filter_map(|p| {
            let through = p.reviewed_through?;
            (s.as_of > through).then(|| Advisory {
                code: "DATA-VINTAGE".into(),
                authority: p.regime.clone(),
                text: format!(
                    "The {} rule pack (version {}) states the regulation as reviewed through {}; the shipment date {} is later, so rules published since are not in this decision: check for amendments after {}.",
                    p.regime,
                    p.version,
                    dates::format(through),
                    dates::format(s.as_of),
                    dates::format(through)
                ),
                citations: vec![p.source.clone()],
                line_ids: s.lines.iter().map(|l| l.line_id.clone()).collect(),
            })
        })
        .collect()
}

/// The chart footnotes of the destination's row: requirements the marks do
/// not show (part 746 rules for Russia and Belarus, India's RS 2 items …).
fn footnote_advisories(spoke: &[&RegimePolicy], s: &Shipment) -> Vec<Advisory> {
    let mut out = Vec::new();
    for p in spoke {
        let Some(row) = p.chart_row(&s.destination, s.as_of) else {
            continue;
        };
        for n in &row.footnotes {
            if let Some(f) = p.chart_footnotes.iter().find(|f| f.number == *n) {
                out.push(Advisory {
                    code: format!("CHART-FOOTNOTE-{n}"),
                    authority: p.regime.clone(),
                    text: format!(
                        "{} footnote {n} for {}: {}",
                        p.chart_name, s.destination, f.text
                    ),
                    citations: f.citations.clone(),
                    line_ids: s.lines.iter().map(|l| l.line_id.clone()).collect(),
                });
            }
        }
    }
    out
}

/// What every regime decision of one shipment shares.
struct RegimeContext<'a> {
    p: &'a RegimePolicy,
    s: &'a Shipment,
    screening: &'a ScreeningSet,
    screened: &'a [end_user::PartyScreen<'a>],
    config: &'a EngineConfig,
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

/// The line's matched entries that any of `patterns` names.
fn matched_entries(class: &RegimeClassification, patterns: &[String]) -> Vec<String> {
    class
        .matches
        .iter()
        .filter(|m| {
            patterns
                .iter()
                .any(|pat| super::policy::pattern_matches(pat, &m.id))
        })
        .map(|m| m.id.clone())
        .collect()
}

/// One regime's determinations for one line: every source of requirement,
/// then authorizations over the license requirements.
fn decide_regime(
    ctx: &RegimeContext,
    line: &LineFacts,
    class: &RegimeClassification,
) -> Vec<Determination> {
    let (p, s) = (ctx.p, ctx.s);
    if p.is_home(&s.destination) {
        return vec![home(p, s)];
    }
    let mut reqs: Vec<Determination> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    list::undetermined(&p.regime, class, &mut reqs);
    let low_blanks = list::requirements(p, s, class, &mut reqs);
    if !low_blanks.is_empty() {
        notes.push(format!(
            "The {} cells {} for {} are blank in a row the rule pack marks low-confidence for that date.",
            p.chart_name,
            low_blanks.join(", "),
            s.destination
        ));
    }
    destination::requirements(p, s, class, &mut reqs);
    let screened = end_user::requirements(
        p,
        s,
        class,
        ctx.screening,
        ctx.screened,
        ctx.config,
        &mut reqs,
    );
    headquarters::requirements(p, s, class, &mut reqs, &mut notes);
    end_use::requirements(p, s, class, &mut reqs, &mut notes);
    let foreign = jurisdiction::applies(p, s, line);
    if foreign && reqs.is_empty() {
        notes.push(format!(
            "The item is produced in {} and exported from {}: whether it is subject to {} was not needed, since nothing would apply if it were.",
            line.origin_country, s.export_country, p.regime
        ));
    }
    if foreign && !reqs.is_empty() {
        reqs = jurisdiction::decide(p, s, line, class, ctx.screened, reqs);
        if reqs.iter().all(|d| d.outcome != Outcome::LicenseRequired) {
            return reqs;
        }
    }
    if reqs.is_empty() {
        let summary = screened.summary(p, ctx.screened.len(), ctx.screening);
        return vec![no_requirement(
            p,
            s,
            class,
            &notes,
            &summary,
            screened.partial() || !low_blanks.is_empty(),
        )];
    }
    // A prohibition (a sanctions ban) is never covered, and while it stands
    // no authorization covers the line's other requirements either.
    if let Some(ban) = reqs.iter().find(|d| d.outcome == Outcome::Prohibited) {
        let ban_id = ban.rule_id.clone();
        return reqs
            .into_iter()
            .map(|mut d| {
                if d.outcome == Outcome::LicenseRequired {
                    d.explanation = format!(
                        "{} No license, bulk license or other authorization can be used: the export is prohibited ({ban_id}).",
                        d.explanation
                    );
                }
                d
            })
            .collect();
    }
    // A listing that takes authorizations away leaves every requirement standing.
    let blocked = reqs
        .iter()
        .find(|d| d.blocks_authorizations)
        .and_then(|d| d.party_match.as_ref().map(|m| m.entry_name.clone()));
    reqs.into_iter()
        .map(|d| match &blocked {
            Some(entry) if d.outcome == Outcome::LicenseRequired && !d.blocks_authorizations => {
                let mut d = d;
                d.explanation = format!(
                    "{} No license exception or other authorization is available: a party is listed ({entry}).",
                    d.explanation
                );
                d
            }
            Some(_) => d,
            None => authorize::authorize(p, s, class, d),
        })
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
    screening_summary: &str,
    low_confidence: bool,
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
    d.low_confidence = low_confidence;
    d.explanation = format!(
        "Under {regime} the item is {what}, and no list, destination, end-user or end-use requirement applies to {} on {}. {}{}",
        s.destination,
        dates::format(s.as_of),
        screening_summary,
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
