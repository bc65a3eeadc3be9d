//! Licensing policy packs: destination groups, country-chart cells, list and
//! destination rules, parties, end-use rules, authorizations, restrictions and
//! advisories — versioned, cited TOML, validated on load.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use std::sync::Arc;

use exportctl_screening::NameIndex;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::Date;

use crate::dates;

use crate::pack::PackError as PolicyError;
pub use crate::pack::Source;

pub use crate::pack::{Confidence, Validity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    NoLicenseRequired,
    Authorized,
    Indeterminate,
    LicenseRequired,
    Prohibited,
}

impl Outcome {
    /// Severity: PROHIBITED > LICENSE_REQUIRED > INDETERMINATE > AUTHORIZED > NO_LICENSE_REQUIRED.
    pub fn severity(self) -> u8 {
        match self {
            Outcome::NoLicenseRequired => 0,
            Outcome::Authorized => 1,
            Outcome::Indeterminate => 2,
            Outcome::LicenseRequired => 3,
            Outcome::Prohibited => 4,
        }
    }

    /// The more severe of two outcomes.
    pub fn max(self, other: Outcome) -> Outcome {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    /// The less severe of two outcomes.
    pub fn min(self, other: Outcome) -> Outcome {
        if other.severity() < self.severity() {
            other
        } else {
            self
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReviewPolicy {
    #[default]
    Unspecified,
    PresumptionOfDenial,
    CaseByCase,
    PresumptionOfApproval,
}

/// Which destinations a rule speaks of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationSelector {
    /// Every destination (outside the regime's home territory).
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub countries: Vec<String>,
    /// Members of any of these groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// ...unless also a member of any of these.
    #[serde(default)]
    pub except_groups: Vec<String>,
    #[serde(default)]
    pub except_countries: Vec<String>,
}

/// What items a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Items {
    /// Items the regime lists (matched entries).
    #[default]
    Listed,
    /// Every item subject to the regime, listed or not.
    All,
    /// Items the regime does not list.
    Unlisted,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cited {
    pub from: String,
    pub until: Option<String>,
    #[serde(default)]
    pub citations: Vec<String>,
    #[serde(default)]
    pub confidence: Confidence,
    #[serde(default)]
    pub explanation: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRow {
    pub group: String,
    pub countries: Vec<String>,
    pub from: String,
    pub until: Option<String>,
    #[serde(default)]
    pub citations: Vec<String>,
    #[serde(default)]
    pub confidence: Confidence,
}

/// A row of the Commerce Country Chart: which reasons have an X for these countries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartRow {
    pub countries: Vec<String>,
    #[serde(default)]
    pub x: Vec<String>,
    #[serde(default)]
    pub blank: Vec<String>,
    /// Cells the notes mark uncertain: decided INDETERMINATE.
    #[serde(default)]
    pub uncertain: Vec<String>,
    #[serde(default)]
    pub citations: Vec<String>,
    #[serde(default)]
    pub confidence: Confidence,
}

/// A requirement from the list (entries × destination) or the destination alone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRow {
    pub id: String,
    #[serde(default)]
    pub items: Items,
    /// Entry id patterns (`3A090.*`, `*`).
    #[serde(default)]
    pub entries: Vec<String>,
    /// The reason for control this rule scopes (entry-specific controls such as RS).
    pub reason: Option<String>,
    /// For unlisted items, what to answer instead of a requirement.
    pub outcome: Outcome,
    #[serde(default)]
    pub review_policy: ReviewPolicy,
    pub destinations: DestinationSelector,
    pub authorization: Option<String>,
    #[serde(flatten)]
    pub cited: Cited,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyRow {
    pub id: String,
    /// entity_list, unverified_list, ...
    pub list: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub country: String,
    /// What a match means.
    pub outcome: Outcome,
    #[serde(default)]
    pub review_policy: ReviewPolicy,
    /// Entries for which the review policy is presumption of denial instead.
    #[serde(default)]
    pub denial_entries: Vec<String>,
    #[serde(flatten)]
    pub cited: Cited,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerPolicy {
    #[serde(default)]
    pub owner_countries: Vec<String>,
    #[serde(default)]
    pub owner_groups: Vec<String>,
    pub review_policy: ReviewPolicy,
}

/// The advanced-node IC fab test (§744.23, §772.1), thresholds as data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvancedNodeTest {
    pub logic_node_nm_at_most: f64,
    pub non_planar: Vec<String>,
    pub nand_layers_at_least: u32,
    pub dram_half_pitch_nm_at_most: f64,
    /// From this date DRAM is decided by cell area or density, not half-pitch.
    pub dram_redefined_from: Option<String>,
    pub dram_cell_area_um2_below: Option<f64>,
    pub dram_density_gb_mm2_above: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndUseRow {
    pub id: String,
    #[serde(default)]
    pub items: Items,
    pub destinations: DestinationSelector,
    pub outcome: Outcome,
    /// Advanced-node fab test, or `purposes` of concern.
    pub advanced_node: Option<AdvancedNodeTest>,
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub owner_policies: Vec<OwnerPolicy>,
    /// Said on NO_LICENSE_REQUIRED determinations the rule was checked for.
    #[serde(default)]
    pub note_when_clear: String,
    #[serde(flatten)]
    pub cited: Cited,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationRow {
    pub id: String,
    /// general_bulk, special_general_bulk, specific_bulk, comprehensive, veu, ...
    pub code: String,
    /// Rule id patterns it can cover (`us-744.23*`, `chart:*`).
    pub covers: Vec<String>,
    #[serde(default)]
    pub entries: Vec<String>,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub except_reasons: Vec<String>,
    pub destinations: DestinationSelector,
    /// With an incomplete destination list: these are known not to qualify;
    /// destinations in neither list are undetermined.
    pub excluded_destinations: Option<DestinationSelector>,
    /// End users it is granted to (VEU); empty = any.
    #[serde(default)]
    pub parties: Vec<PartyName>,
    /// End-use purposes it may not be used for.
    #[serde(default)]
    pub excluded_purposes: Vec<String>,
    #[serde(flatten)]
    pub cited: Cited,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyName {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl PartyName {
    /// Whether any name or alias is the same party as any of `names`.
    pub fn is_one_of(&self, names: &[&str]) -> bool {
        std::iter::once(&self.name)
            .chain(&self.aliases)
            .any(|n| names.iter().any(|q| exportctl_screening::same_party(n, q)))
    }
}

/// Takes authorizations away for some entries and destinations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictionRow {
    pub id: String,
    pub authorizations: Vec<String>,
    pub entries: Vec<String>,
    pub destinations: DestinationSelector,
    #[serde(flatten)]
    pub cited: Cited,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryRow {
    pub code: String,
    pub authority: String,
    pub text: String,
    pub destinations: DestinationSelector,
    /// Normalized manufacturer names it concerns (substring match).
    #[serde(default)]
    pub manufacturers: Vec<String>,
    /// The buyer must be a critical-infrastructure operator.
    #[serde(default)]
    pub critical_infrastructure_operator: bool,
    #[serde(flatten)]
    pub cited: Cited,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackHeader {
    regime: String,
    name: String,
    version: String,
    source: String,
    covers_from: String,
    /// Destinations that are not exports under this regime.
    home: Vec<String>,
    /// `reason`: every reason of a listed entry must be a chart column or scoped by a rule;
    /// `entry`: every listed entry must be covered by a rule.
    coverage: Coverage,
    #[serde(default)]
    chart_reasons: Vec<String>,
    #[serde(default)]
    note: String,
    /// The last day the pack's authors checked the regulation through.
    #[serde(default)]
    reviewed_through: Option<String>,
    /// The official screening list this regime's end-user check needs (a
    /// list loaded at run time); without one the check cannot clear a party.
    #[serde(default)]
    screening_list: Option<String>,
    /// What explanations call the pack's chart (`[[chart]]` rows).
    #[serde(default)]
    chart_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    Reason,
    Entry,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: PackHeader,
    #[serde(default)]
    group: Vec<GroupRow>,
    #[serde(default)]
    chart: Vec<ChartRow>,
    #[serde(default)]
    rule: Vec<RuleRow>,
    #[serde(default)]
    party: Vec<PartyRow>,
    #[serde(default)]
    end_use: Vec<EndUseRow>,
    #[serde(default)]
    authorization: Vec<AuthorizationRow>,
    #[serde(default)]
    restriction: Vec<RestrictionRow>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonFile {
    common: CommonHeader,
    applicability: Vec<ApplicabilityRow>,
    #[serde(default)]
    advisory: Vec<AdvisoryRow>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommonHeader {
    version: String,
}

/// Which regimes apply: by export country, or by origin wherever it ships from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicabilityRow {
    #[serde(default)]
    pub export_countries: Vec<String>,
    #[serde(default)]
    pub origin_countries: Vec<String>,
    pub regimes: Vec<String>,
    #[serde(default)]
    pub citations: Vec<String>,
}

/// A validated regime pack with parsed dates.
#[derive(Debug, Clone)]
pub struct RegimePolicy {
    pub regime: String,
    pub name: String,
    pub version: String,
    pub source: String,
    pub note: String,
    pub covers_from: Date,
    pub home: Vec<String>,
    pub coverage: Coverage,
    pub chart_reasons: Vec<String>,
    pub groups: Vec<(GroupRow, Validity)>,
    pub chart: Vec<ChartRow>,
    pub rules: Vec<(RuleRow, Validity)>,
    pub parties: Vec<(PartyRow, Validity)>,
    /// The parties' names and aliases, owner = index into `parties`.
    pub party_index: Arc<NameIndex>,
    pub reviewed_through: Option<Date>,
    pub screening_list: Option<String>,
    pub chart_name: String,
    pub end_uses: Vec<(EndUseRow, Validity, Option<Date>)>,
    pub authorizations: Vec<(AuthorizationRow, Validity)>,
    pub restrictions: Vec<(RestrictionRow, Validity)>,
    pub digest: String,
    pub file: String,
}

impl RegimePolicy {
    /// Groups the country belongs to on the date.
    pub fn groups_of(&self, country: &str, on: Date) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|(g, v)| v.contains(on) && g.countries.iter().any(|c| c == country))
            .map(|(g, _)| g.group.as_str())
            .collect()
    }

    /// Whether the selector picks the country on the date; `Some(Low)` when
    /// that rests only on low-confidence group memberships.
    pub fn select(&self, sel: &DestinationSelector, country: &str, on: Date) -> Option<Confidence> {
        if sel.except_countries.iter().any(|c| c == country) {
            return None;
        }
        if sel.countries.iter().any(|c| c == country) {
            return Some(Confidence::High);
        }
        let memberships: Vec<(&str, Confidence)> = self
            .groups
            .iter()
            .filter(|(g, v)| v.contains(on) && g.countries.iter().any(|c| c == country))
            .map(|(g, _)| (g.group.as_str(), g.confidence))
            .collect();
        if memberships
            .iter()
            .any(|(g, _)| sel.except_groups.iter().any(|x| x == g))
        {
            return None;
        }
        if sel.all {
            return Some(Confidence::High);
        }
        let via: Vec<Confidence> = memberships
            .iter()
            .filter(|(g, _)| sel.groups.iter().any(|x| x == g))
            .map(|(_, c)| *c)
            .collect();
        match via.as_slice() {
            [] => None,
            v if v.contains(&Confidence::High) => Some(Confidence::High),
            _ => Some(Confidence::Low),
        }
    }

    pub fn selects(&self, sel: &DestinationSelector, country: &str, on: Date) -> bool {
        self.select(sel, country, on).is_some()
    }

    pub fn is_home(&self, country: &str) -> bool {
        self.home.iter().any(|c| c == country)
    }
}

/// Everything the licensing engine decides with.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub regimes: BTreeMap<String, RegimePolicy>,
    pub applicability: Vec<ApplicabilityRow>,
    pub advisories: Vec<(AdvisoryRow, Validity)>,
    pub version: String,
    pub digest: String,
}

pub const COMMON_FILE: &str = "common.toml";

/// `*` matches everything; a trailing `*` matches a prefix; otherwise exact.
pub fn pattern_matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => pattern == id,
    }
}

pub fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

struct Check<'a> {
    file: &'a str,
}

impl Check<'_> {
    fn err(&self, rule: &str, message: impl Into<String>) -> PolicyError {
        PolicyError::new(self.file, rule, message)
    }

    fn validity(
        &self,
        rule: &str,
        from: &str,
        until: Option<&str>,
    ) -> Result<Validity, PolicyError> {
        Validity::parse(from, until).map_err(|m| self.err(rule, m))
    }

    fn citations(&self, rule: &str, citations: &[String]) -> Result<(), PolicyError> {
        if citations.is_empty() || citations.iter().any(|x| x.trim().is_empty()) {
            return Err(self.err(rule, "needs at least one non-empty citation"));
        }
        Ok(())
    }

    fn cited(&self, rule: &str, c: &Cited) -> Result<Validity, PolicyError> {
        self.citations(rule, &c.citations)?;
        self.validity(rule, &c.from, c.until.as_deref())
    }

    fn countries(&self, rule: &str, list: &[String]) -> Result<(), PolicyError> {
        match list.iter().find(|c| !is_country_code(c)) {
            Some(bad) => Err(self.err(rule, format!("`{bad}` is not an ISO 3166-1 alpha-2 code"))),
            None => Ok(()),
        }
    }

    fn selector(
        &self,
        rule: &str,
        s: &DestinationSelector,
        groups: &HashSet<String>,
    ) -> Result<(), PolicyError> {
        self.countries(rule, &s.countries)?;
        self.countries(rule, &s.except_countries)?;
        for g in s.groups.iter().chain(&s.except_groups) {
            if !groups.contains(g) {
                return Err(self.err(rule, format!("unknown group `{g}`")));
            }
        }
        if !s.all && s.countries.is_empty() && s.groups.is_empty() {
            return Err(self.err(
                rule,
                "destinations select nothing (set all, countries or groups)",
            ));
        }
        Ok(())
    }
}

impl RegimePolicy {
    pub fn parse(file: &str, text: &str) -> Result<Self, PolicyError> {
        let ck = Check { file };
        let parsed: PackFile = toml::from_str(text).map_err(|e| ck.err("-", e.to_string()))?;
        let h = parsed.pack;
        let covers_from = dates::parse(&h.covers_from)
            .map_err(|m| ck.err("pack", format!("covers_from: {m}")))?;
        ck.countries("pack", &h.home)?;
        let mut ids = HashSet::new();
        let mut unique = |id: &str| {
            if ids.insert(id.to_string()) {
                Ok(())
            } else {
                Err(ck.err(id, "duplicate rule id"))
            }
        };

        let mut groups = Vec::new();
        let mut group_names = HashSet::new();
        for g in parsed.group {
            let at = format!("group {}", g.group);
            ck.countries(&at, &g.countries)?;
            ck.citations(&at, &g.citations)?;
            let v = ck.validity(&at, &g.from, g.until.as_deref())?;
            group_names.insert(g.group.clone());
            groups.push((g, v));
        }
        // One country's memberships of one group must not overlap.
        for (i, (a, va)) in groups.iter().enumerate() {
            for (b, vb) in groups.iter().skip(i + 1) {
                if a.group == b.group
                    && let Some(c) = a.countries.iter().find(|c| b.countries.contains(c))
                    && va.overlaps(vb)
                {
                    return Err(ck.err(
                        &format!("group {}", a.group),
                        format!("overlapping memberships for {c}"),
                    ));
                }
            }
        }

        let mut charted = HashSet::new();
        for row in &parsed.chart {
            ck.countries("chart", &row.countries)?;
            if let Some(c) = row.countries.iter().find(|c| !charted.insert(c.as_str())) {
                return Err(ck.err("chart", format!("{c} is in more than one chart row")));
            }
            for r in row.x.iter().chain(&row.blank).chain(&row.uncertain) {
                if !h.chart_reasons.contains(r) {
                    return Err(ck.err("chart", format!("`{r}` is not among chart_reasons")));
                }
            }
            ck.citations("chart", &row.citations)?;
        }

        let mut rules = Vec::new();
        for r in parsed.rule {
            unique(&r.id)?;
            let v = ck.cited(&r.id, &r.cited)?;
            ck.selector(&r.id, &r.destinations, &group_names)?;
            if r.items == Items::Listed && r.entries.is_empty() {
                return Err(ck.err(
                    &r.id,
                    "a rule on listed items names entry patterns (`*` for all)",
                ));
            }
            if r.outcome == Outcome::Authorized && r.authorization.is_none() {
                return Err(ck.err(&r.id, "an AUTHORIZED rule names its authorization"));
            }
            rules.push((r, v));
        }
        let mut parties = Vec::new();
        for p in parsed.party {
            unique(&p.id)?;
            let v = ck.cited(&p.id, &p.cited)?;
            ck.countries(&p.id, std::slice::from_ref(&p.country))?;
            if exportctl_screening::normalize(&p.name).tokens.is_empty() {
                return Err(ck.err(&p.id, "party name is empty after normalization"));
            }
            parties.push((p, v));
        }
        let party_index = Arc::new(NameIndex::build(parties.iter().enumerate().flat_map(
            |(i, (p, _)): (usize, &(PartyRow, Validity))| {
                std::iter::once(p.name.clone())
                    .chain(p.aliases.iter().cloned())
                    .map(move |n| (i, n))
            },
        )));
        let reviewed_through = match &h.reviewed_through {
            Some(d) => Some(
                dates::parse(d).map_err(|m| ck.err("pack", format!("reviewed_through: {m}")))?,
            ),
            None => None,
        };
        let mut end_uses = Vec::new();
        for e in parsed.end_use {
            unique(&e.id)?;
            let v = ck.cited(&e.id, &e.cited)?;
            ck.selector(&e.id, &e.destinations, &group_names)?;
            if e.advanced_node.is_none() && e.purposes.is_empty() {
                return Err(ck.err(
                    &e.id,
                    "an end-use rule needs an advanced_node test or purposes",
                ));
            }
            for p in &e.owner_policies {
                ck.countries(&e.id, &p.owner_countries)?;
                if let Some(g) = p.owner_groups.iter().find(|g| !group_names.contains(*g)) {
                    return Err(ck.err(&e.id, format!("unknown group `{g}`")));
                }
            }
            let redefined = match e
                .advanced_node
                .as_ref()
                .and_then(|t| t.dram_redefined_from.as_deref())
            {
                Some(d) => Some(
                    dates::parse(d)
                        .map_err(|m| ck.err(&e.id, format!("dram_redefined_from: {m}")))?,
                ),
                None => None,
            };
            end_uses.push((e, v, redefined));
        }
        let mut authorizations = Vec::new();
        for a in parsed.authorization {
            unique(&a.id)?;
            let v = ck.cited(&a.id, &a.cited)?;
            ck.selector(&a.id, &a.destinations, &group_names)?;
            if let Some(ex) = &a.excluded_destinations {
                ck.selector(&a.id, ex, &group_names)?;
            }
            if a.covers.is_empty() {
                return Err(ck.err(&a.id, "covers no rule"));
            }
            authorizations.push((a, v));
        }
        for (a, _) in &authorizations {
            for pat in &a.covers {
                let known = rules.iter().any(|(r, _)| pattern_matches(pat, &r.id))
                    || end_uses.iter().any(|(e, _, _)| pattern_matches(pat, &e.id))
                    || pat.starts_with("chart:");
                if !known {
                    return Err(ck.err(
                        &a.id,
                        format!("covers `{pat}`, which names no rule of the pack"),
                    ));
                }
            }
        }
        let mut restrictions = Vec::new();
        for r in parsed.restriction {
            unique(&r.id)?;
            let v = ck.cited(&r.id, &r.cited)?;
            ck.selector(&r.id, &r.destinations, &group_names)?;
            if let Some(a) = r
                .authorizations
                .iter()
                .find(|a| !authorizations.iter().any(|(x, _)| &x.id == *a))
            {
                return Err(ck.err(&r.id, format!("restricts unknown authorization `{a}`")));
            }
            restrictions.push((r, v));
        }
        let chart_name = h
            .chart_name
            .clone()
            .unwrap_or_else(|| format!("{} country chart", h.regime));
        Ok(RegimePolicy {
            regime: h.regime,
            name: h.name,
            version: h.version,
            source: h.source,
            note: h.note,
            covers_from,
            home: h.home,
            coverage: h.coverage,
            chart_reasons: h.chart_reasons,
            groups,
            chart: parsed.chart,
            rules,
            parties,
            party_index,
            reviewed_through,
            screening_list: h.screening_list,
            chart_name,
            end_uses,
            authorizations,
            restrictions,
            digest: format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes()))),
            file: file.to_string(),
        })
    }
}

impl PolicySet {
    pub fn from_sources(common: &Source, packs: &[Source]) -> Result<Self, PolicyError> {
        let ck = Check { file: &common.file };
        let parsed: CommonFile =
            toml::from_str(&common.text).map_err(|e| ck.err("-", e.to_string()))?;
        let mut regimes = BTreeMap::new();
        for src in packs {
            let p = RegimePolicy::parse(&src.file, &src.text)?;
            if let Some(prev) = regimes
                .get(&p.regime)
                .map(|x: &RegimePolicy| x.file.clone())
            {
                return Err(PolicyError::new(
                    &src.file,
                    "pack",
                    format!("regime {} is also defined by {prev}", p.regime),
                ));
            }
            regimes.insert(p.regime.clone(), p);
        }
        for row in &parsed.applicability {
            ck.countries("applicability", &row.export_countries)?;
            ck.citations("applicability", &row.citations)?;
            ck.countries("applicability", &row.origin_countries)?;
            if let Some(r) = row.regimes.iter().find(|r| !regimes.contains_key(*r)) {
                return Err(ck.err("applicability", format!("unknown regime `{r}`")));
            }
        }
        let mut advisories = Vec::new();
        for a in parsed.advisory {
            let v = ck.cited(&a.code, &a.cited)?;
            ck.countries(&a.code, &a.destinations.countries)?;
            advisories.push((a, v));
        }
        let mut h = Sha256::new();
        h.update(format!(
            "{} {}\n",
            common.file,
            hex::encode(Sha256::digest(common.text.as_bytes()))
        ));
        for p in regimes.values() {
            h.update(format!("{} {}\n", p.regime, p.digest));
        }
        Ok(PolicySet {
            regimes,
            applicability: parsed.applicability,
            advisories,
            version: parsed.common.version,
            digest: format!("sha256:{}", hex::encode(h.finalize())),
        })
    }

    pub fn bundled() -> Result<Self, PolicyError> {
        let common = Source {
            file: COMMON_FILE.into(),
            text: super::bundled::COMMON.into(),
        };
        Self::from_sources(&common, &Source::from_pairs(super::bundled::PACKS))
    }

    pub fn load_dir(dir: &Path) -> Result<Self, PolicyError> {
        let (common, packs) = crate::pack::read_dir(dir, COMMON_FILE)?;
        Self::from_sources(&common, &packs)
    }

    /// Regimes that apply to a line (DESIGN: the export country's, plus any by origin).
    pub fn applicable_regimes(&self, export_country: &str, origin_country: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for row in &self.applicability {
            if row.export_countries.iter().any(|c| c == export_country)
                || row.origin_countries.iter().any(|c| c == origin_country)
            {
                for r in &row.regimes {
                    if !out.contains(&r.as_str()) {
                        out.push(r);
                    }
                }
            }
        }
        out
    }

    pub fn covers_from(&self) -> Date {
        self.regimes
            .values()
            .map(|r| r.covers_from)
            .max()
            .unwrap_or(Date::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> RegimePolicy {
        let set = PolicySet::bundled().expect("the bundled policy packs load");
        set.regimes.get("US-EAR").cloned().expect("US-EAR pack")
    }

    #[test]
    fn bundled_policy_packs_load() {
        let set = PolicySet::bundled().expect("the bundled policy packs load");
        assert!(!set.regimes.is_empty());
    }

    /// The US party history: one listing per name at a time (a row whose review policy was
    /// revised is split, not duplicated), and every row dated and cited.
    #[test]
    fn us_party_history_does_not_overlap_itself() {
        let us = us();
        for (i, (a, va)) in us.parties.iter().enumerate() {
            assert!(!a.cited.citations.is_empty(), "{}", a.id);
            for (b, vb) in &us.parties[i + 1..] {
                if a.list == b.list && exportctl_screening::same_party(&a.name, &b.name) {
                    assert!(!va.overlaps(vb), "{} and {} overlap", a.id, b.id);
                }
            }
        }
    }

    #[test]
    fn us_party_history_dates() {
        let us = us();
        let row = |id: &str| {
            us.parties
                .iter()
                .find(|(p, _)| p.id == id)
                .unwrap_or_else(|| panic!("{id}"))
        };
        let day = |s: &str| crate::dates::parse(s).unwrap();
        let (huawei, v) = row("el-huawei");
        assert!(!v.contains(day("2019-05-15")) && v.contains(day("2019-05-16")));
        assert_eq!(huawei.review_policy, ReviewPolicy::PresumptionOfDenial);
        assert!(huawei.aliases.contains(&"华为技术有限公司".to_string()));
        // SMIC: case-by-case (denial for EUV) until the 2024-12-02 revision, then denial.
        let (_, v2020) = row("el-smic");
        let (smic, v2024) = row("el-smic-2024");
        assert!(v2020.contains(day("2024-12-01")) && !v2020.contains(day("2024-12-02")));
        assert!(v2024.contains(day("2024-12-02")));
        assert_eq!(smic.review_policy, ReviewPolicy::PresumptionOfDenial);
        // YMTC leaves the Unverified List the day it joins the Entity List.
        let (_, uvl) = row("uvl-ymtc");
        let (_, el) = row("el-ymtc");
        assert_eq!(uvl.until, Some(el.from));
        for id in [
            "el-fujian-jinhua",
            "el-sugon",
            "el-phytium",
            "el-cambricon",
            "el-smee",
        ] {
            row(id);
        }
        for id in [
            "el-biren",
            "el-moore-threads",
            "el-sicarrier",
            "el-hikvision",
        ] {
            row(id);
        }
    }
}
