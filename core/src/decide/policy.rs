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
    /// ISO 3166-2 subdivisions (`UA-43` Crimea): selects a shipment whose
    /// `destination_subdivision` is one of them. Stands alone: a selector
    /// with subdivisions names no countries, groups or `all`.
    #[serde(default)]
    pub subdivisions: Vec<String>,
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
    /// Every column of `chart_reasons` not in `x` or `uncertain` is blank.
    #[serde(default)]
    pub complete: bool,
    /// The chart gives these destinations no marks and points to the
    /// embargo rules instead (EAR part 746): decided by the pack's rules on
    /// all items, never from a blank.
    #[serde(default)]
    pub part_746: bool,
    /// Footnote numbers of the row (`[[chart_footnote]]`).
    #[serde(default)]
    pub footnotes: Vec<u32>,
    /// First day in force; the pack's `covers_from` when absent.
    pub from: Option<String>,
    pub until: Option<String>,
    #[serde(default)]
    pub citations: Vec<String>,
    #[serde(default)]
    pub confidence: Confidence,
}

impl ChartRow {
    /// The cell of a column: `Some(true)` an X, `Some(false)` blank, `None` unknown.
    pub fn cell(&self, column: &str) -> Option<bool> {
        if self.x.iter().any(|c| c == column) {
            Some(true)
        } else if self.blank.iter().any(|c| c == column)
            || (self.complete && !self.uncertain.iter().any(|c| c == column))
        {
            Some(false)
        } else {
            None
        }
    }
}

/// A footnote of the chart: requirements a row's marks do not show.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartFootnote {
    pub number: u32,
    pub text: String,
    pub citations: Vec<String>,
}

/// A destination the regime treats as another one (Hong Kong as China under
/// the EAR from 2020-12-23): chart, groups and rules are those of `as`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreatedAsRow {
    pub country: String,
    #[serde(rename = "as")]
    pub as_country: String,
    #[serde(flatten)]
    pub cited: Cited,
}

/// An entry of the control list as the regulation states it: its reasons
/// for control and, per control paragraph, the chart column or the
/// destination scope (US Commerce Control List, 15 CFR part 774 Supp. 1).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EccnRow {
    pub id: String,
    #[serde(default)]
    pub heading: String,
    pub reasons: Vec<String>,
    #[serde(default)]
    pub control: Vec<EccnControl>,
    #[serde(flatten)]
    pub cited: Cited,
}

/// One line of an entry's license requirements: a reason, the paragraphs it
/// applies to, and where a license is required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EccnControl {
    pub reason: String,
    /// Paragraphs relative to the entry (`b.2`); empty = the entire entry.
    #[serde(default)]
    pub paragraphs: Vec<String>,
    #[serde(default)]
    pub except_paragraphs: Vec<String>,
    /// A Country Chart column (`NS2`).
    pub column: Option<String>,
    /// Or the entry's own destination scope.
    pub destinations: Option<DestinationSelector>,
    /// Or a section the entry refers to, which the pack does not evaluate.
    pub see: Option<String>,
    /// A condition stated in the entry that lifts the control.
    pub unless: Option<String>,
}

/// Where a control applies to an item of a given paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    Yes,
    No,
    /// The item's paragraph is less specific than the control's.
    Maybe,
}

impl EccnControl {
    /// Whether the control applies to the item `paragraph` (relative, empty =
    /// the entry as a whole).
    pub fn applies_to(&self, paragraph: &str) -> Applies {
        // `p` is `of` or one of its subparagraphs (`c.1.a` within `c`).
        let within = |p: &str, of: &str| {
            p.strip_prefix(of)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        };
        if self
            .except_paragraphs
            .iter()
            .any(|x| !paragraph.is_empty() && within(paragraph, x))
        {
            return Applies::No;
        }
        let narrower_except = self
            .except_paragraphs
            .iter()
            .any(|x| paragraph.is_empty() || within(x, paragraph));
        if self.paragraphs.is_empty() {
            return if narrower_except {
                Applies::Maybe
            } else {
                Applies::Yes
            };
        }
        if !paragraph.is_empty() && self.paragraphs.iter().any(|c| within(paragraph, c)) {
            Applies::Yes
        } else if self
            .paragraphs
            .iter()
            .any(|c| paragraph.is_empty() || within(c, paragraph))
        {
            Applies::Maybe
        } else {
            Applies::No
        }
    }
}

/// Splits an entry id into its ECCN and paragraph (`3A001.b.2` → `3A001`, `b.2`).
pub fn split_eccn(id: &str) -> (&str, &str) {
    match id.split_once('.') {
        Some((e, p)) => (e, p),
        None => (id, ""),
    }
}

/// A well-formed ECCN, optionally with a paragraph: a category digit, a
/// product group A–E, three digits, then `.`-separated lower-case letters or
/// digits (`3A090`, `5A992.c`, `3B001.f.1.b`, `4A994.l`).
pub fn is_eccn(id: &str) -> bool {
    let (e, para) = split_eccn(id);
    let b = e.as_bytes();
    let head = b.len() == 5
        && b[0].is_ascii_digit()
        && (b'A'..=b'E').contains(&b[1])
        && b[2..].iter().all(u8::is_ascii_digit);
    head && (para.is_empty()
        || para.split('.').all(|s| {
            !s.is_empty()
                && s.len() <= 3
                && s.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        }))
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
    /// With listed items: only lines with a matched entry of these patterns
    /// (the ECCNs of Supp. 2 to part 744 for §744.21); empty = any listed entry.
    #[serde(default)]
    pub entries: Vec<String>,
    pub destinations: DestinationSelector,
    pub outcome: Outcome,
    /// Advanced-node fab test, or `purposes` of concern.
    pub advanced_node: Option<AdvancedNodeTest>,
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub owner_policies: Vec<OwnerPolicy>,
    /// The review policy of a purpose rule (the fab test takes the owner's).
    #[serde(default)]
    pub review_policy: ReviewPolicy,
    /// Said on NO_LICENSE_REQUIRED determinations the rule was checked for.
    #[serde(default)]
    pub note_when_clear: String,
    #[serde(flatten)]
    pub cited: Cited,
}

/// A requirement that follows where a party is headquartered, wherever it is
/// located (advanced-computing items to parties headquartered in, or whose
/// ultimate parent is headquartered in, Macau or Country Group D:5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadquartersRow {
    pub id: String,
    /// Entry id patterns the line must have matched (`3A090.a`, `4A003.z*`).
    pub entries: Vec<String>,
    /// Headquarters (the party's or its ultimate parent's) the rule names.
    pub headquarters: DestinationSelector,
    pub outcome: Outcome,
    #[serde(default)]
    pub review_policy: ReviewPolicy,
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
    /// Whether every exporter may use it without holding it (a license
    /// exception that needs no registration). By default an authorization
    /// covers a requirement only when the request says the exporter holds it
    /// (`held_authorizations`).
    #[serde(default)]
    pub held_by_default: bool,
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

/// A de minimis level (US: 15 CFR 734.4): a foreign-produced item whose
/// controlled US-origin content exceeds the lowest level that applies to the
/// destination (and the item's entries) is subject to the regime.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeMinimisRow {
    pub id: String,
    pub threshold_percent: f64,
    pub destinations: DestinationSelector,
    /// Entry patterns the level is for; empty = every item.
    #[serde(default)]
    pub entries: Vec<String>,
    #[serde(flatten)]
    pub cited: Cited,
}

/// A foreign direct product rule (US: 15 CFR 734.9): a foreign-produced item
/// made with the regime's technology or equipment is subject to it when the
/// rule's item, destination and party scopes hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FdpRow {
    pub id: String,
    /// Entry patterns of the items it covers; empty = every item.
    #[serde(default)]
    pub entries: Vec<String>,
    /// Destinations it covers; absent = any.
    pub destinations: Option<DestinationSelector>,
    /// Applies only when a party is listed with one of these FDP paragraphs
    /// (`734.9(e)(1)`: an Entity List footnote 1 entry, …); empty = any party.
    #[serde(default)]
    pub party_paragraphs: Vec<String>,
    #[serde(flatten)]
    pub cited: Cited,
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
    /// `eccn`: an entry id the packs do not know but written as an ECCN is
    /// accepted and decided INDETERMINATE; a malformed one is refused.
    #[serde(default)]
    entry_syntax: Option<EntrySyntax>,
}

/// How the regime writes its entry ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntrySyntax {
    Eccn,
}

impl EntrySyntax {
    pub fn is_well_formed(self, id: &str) -> bool {
        match self {
            EntrySyntax::Eccn => is_eccn(id),
        }
    }
}

/// The header of a file that adds rows to a regime's pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartHeader {
    regime: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    Reason,
    Entry,
}

/// Which regime a file is the head or a part of (read before the whole).
#[derive(Debug, Deserialize)]
struct FileKind {
    pack: Option<PartHeaderLoose>,
    part: Option<PartHeaderLoose>,
}

#[derive(Debug, Deserialize)]
struct PartHeaderLoose {
    regime: String,
}

/// One file of a regime's pack: the head (`[pack]`) or a part (`[part]`)
/// that adds rows to it (`us-ear.toml` and `us-ear-chart.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: Option<PackHeader>,
    part: Option<PartHeader>,
    #[serde(default)]
    group: Vec<GroupRow>,
    #[serde(default)]
    chart: Vec<ChartRow>,
    #[serde(default)]
    chart_footnote: Vec<ChartFootnote>,
    #[serde(default)]
    treated_as: Vec<TreatedAsRow>,
    #[serde(default)]
    eccn: Vec<EccnRow>,
    #[serde(default)]
    rule: Vec<RuleRow>,
    #[serde(default)]
    party: Vec<PartyRow>,
    #[serde(default)]
    end_use: Vec<EndUseRow>,
    #[serde(default)]
    headquarters_rule: Vec<HeadquartersRow>,
    #[serde(default)]
    authorization: Vec<AuthorizationRow>,
    #[serde(default)]
    restriction: Vec<RestrictionRow>,
    #[serde(default)]
    de_minimis: Vec<DeMinimisRow>,
    #[serde(default)]
    fdp: Vec<FdpRow>,
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
    /// The regimes apply to every line, wherever it is exported from and
    /// whatever its origin: whether a foreign-produced item is subject to
    /// them is decided by their packs (de minimis, foreign direct product).
    #[serde(default)]
    pub anywhere: bool,
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
    pub chart: Vec<(ChartRow, Validity)>,
    pub chart_footnotes: Vec<ChartFootnote>,
    pub treated_as: Vec<(TreatedAsRow, Validity)>,
    /// The control list as the regulation states it, by ECCN, dated.
    pub eccns: BTreeMap<String, Vec<(EccnRow, Validity)>>,
    pub entry_syntax: Option<EntrySyntax>,
    pub rules: Vec<(RuleRow, Validity)>,
    pub parties: Vec<(PartyRow, Validity)>,
    /// The parties' names and aliases, owner = index into `parties`.
    pub party_index: Arc<NameIndex>,
    pub reviewed_through: Option<Date>,
    pub screening_list: Option<String>,
    pub chart_name: String,
    pub end_uses: Vec<(EndUseRow, Validity, Option<Date>)>,
    pub headquarters_rules: Vec<(HeadquartersRow, Validity)>,
    pub authorizations: Vec<(AuthorizationRow, Validity)>,
    pub restrictions: Vec<(RestrictionRow, Validity)>,
    /// Jurisdiction over foreign-produced items: de minimis levels and
    /// foreign direct product rules (empty: the regime does not reach them).
    pub de_minimis: Vec<(DeMinimisRow, Validity)>,
    pub fdp: Vec<(FdpRow, Validity)>,
    pub digest: String,
    /// The head file, and the part files that add rows to it.
    pub file: String,
    pub parts: Vec<String>,
}

impl RegimePolicy {
    /// The destination the regime treats `country` as on the date (Hong
    /// Kong → China under the EAR from 2020-12-23), and the row saying so.
    pub fn treated_as(&self, country: &str, on: Date) -> Option<&TreatedAsRow> {
        self.treated_as
            .iter()
            .find(|(t, v)| v.contains(on) && t.country == country)
            .map(|(t, _)| t)
    }

    fn resolve<'a>(&'a self, country: &'a str, on: Date) -> &'a str {
        self.treated_as(country, on)
            .map(|t| t.as_country.as_str())
            .unwrap_or(country)
    }

    /// The chart row in force for the destination on the date.
    pub fn chart_row(&self, country: &str, on: Date) -> Option<&ChartRow> {
        let country = self.resolve(country, on);
        self.chart
            .iter()
            .find(|(r, v)| v.contains(on) && r.countries.iter().any(|c| c == country))
            .map(|(r, _)| r)
    }

    /// The control-list row of an entry's ECCN in force on the date.
    pub fn eccn_row(&self, entry_id: &str, on: Date) -> Option<(&EccnRow, &Validity)> {
        let (eccn, _) = split_eccn(entry_id);
        self.eccns
            .get(eccn)?
            .iter()
            .find(|(_, v)| v.contains(on))
            .map(|(e, v)| (e, v))
    }

    /// Groups the country belongs to on the date.
    pub fn groups_of(&self, country: &str, on: Date) -> Vec<&str> {
        let country = self.resolve(country, on);
        self.groups
            .iter()
            .filter(|(g, v)| v.contains(on) && g.countries.iter().any(|c| c == country))
            .map(|(g, _)| g.group.as_str())
            .collect()
    }

    /// Whether the selector picks the country on the date; `Some(Low)` when
    /// that rests only on low-confidence group memberships. A selector that
    /// names subdivisions picks nothing here (see [`Self::select_in`]).
    pub fn select(&self, sel: &DestinationSelector, country: &str, on: Date) -> Option<Confidence> {
        self.select_in(sel, country, None, on)
    }

    /// [`Self::select`] for a destination that may name its subdivision
    /// (ISO 3166-2, `UA-43`): a selector with `subdivisions` picks exactly
    /// those; any other selector decides by the country.
    pub fn select_in(
        &self,
        sel: &DestinationSelector,
        country: &str,
        subdivision: Option<&str>,
        on: Date,
    ) -> Option<Confidence> {
        if !sel.subdivisions.is_empty() {
            return subdivision
                .filter(|s| sel.subdivisions.iter().any(|x| x == s))
                .map(|_| Confidence::High);
        }
        let country = self.resolve(country, on);
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

    /// The codes of the regime's authorizations (`general_bulk`, `veu`, …):
    /// the vocabulary of `held_authorizations`, sorted, each once.
    pub fn authorization_codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = self
            .authorizations
            .iter()
            .map(|(a, _)| a.code.as_str())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        codes
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

/// An assigned ISO 3166-1 alpha-2 code (`XX`, `EU`, `UK` are not).
pub fn is_country_code(s: &str) -> bool {
    crate::country::is_assigned(s)
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
        if let Some(bad) = s
            .subdivisions
            .iter()
            .find(|x| !crate::country::is_subdivision(x))
        {
            return Err(self.err(
                rule,
                format!("`{bad}` is not an ISO 3166-2 subdivision code (such as UA-43)"),
            ));
        }
        if !s.subdivisions.is_empty() {
            if s.all
                || !s.countries.is_empty()
                || !s.groups.is_empty()
                || !s.except_countries.is_empty()
                || !s.except_groups.is_empty()
            {
                return Err(self.err(
                    rule,
                    "a selector with subdivisions names nothing else (no all, countries or groups)",
                ));
            }
            return Ok(());
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
    /// A pack in one file.
    pub fn parse(file: &str, text: &str) -> Result<Self, PolicyError> {
        Self::parse_parts(
            &Source {
                file: file.into(),
                text: text.into(),
            },
            &[],
        )
    }

    /// A pack from its head file (`[pack]`) and the part files (`[part]`)
    /// that add rows to it; every row is checked and named by its own file.
    pub fn parse_parts(head: &Source, parts: &[Source]) -> Result<Self, PolicyError> {
        let ck = Check { file: &head.file };
        let mut first: PackFile =
            toml::from_str(&head.text).map_err(|e| ck.err("-", e.to_string()))?;
        let Some(h) = first.pack.take() else {
            return Err(ck.err("-", "a pack's head file needs a [pack] table"));
        };
        if first.part.is_some() {
            return Err(ck.err("-", "a file has [pack] or [part], not both"));
        }
        let mut files: Vec<(&str, PackFile)> = vec![(head.file.as_str(), first)];
        for src in parts {
            let ck = Check { file: &src.file };
            let f: PackFile = toml::from_str(&src.text).map_err(|e| ck.err("-", e.to_string()))?;
            match (&f.pack, &f.part) {
                (None, Some(part)) if part.regime == h.regime => {}
                (None, Some(part)) => {
                    return Err(
                        ck.err("part", format!("adds to {}, not {}", part.regime, h.regime))
                    );
                }
                _ => return Err(ck.err("-", "a part file needs a [part] table and no [pack]")),
            }
            files.push((src.file.as_str(), f));
        }
        let covers_from = dates::parse(&h.covers_from)
            .map_err(|m| ck.err("pack", format!("covers_from: {m}")))?;
        ck.countries("pack", &h.home)?;
        let mut ids = HashSet::new();
        let mut unique = |ck: &Check, id: &str| {
            if ids.insert(id.to_string()) {
                Ok(())
            } else {
                Err(ck.err(id, "duplicate rule id"))
            }
        };
        // Each section's rows with the file they come from.
        macro_rules! rows {
            ($field:ident) => {
                files
                    .iter_mut()
                    .flat_map(|(file, f)| {
                        let file: &str = file;
                        std::mem::take(&mut f.$field)
                            .into_iter()
                            .map(move |row| (Check { file }, row))
                    })
                    .collect::<Vec<_>>()
            };
        }

        let mut groups = Vec::new();
        let mut group_names = HashSet::new();
        for (ck, g) in rows!(group) {
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

        let mut chart_footnotes = Vec::new();
        for (ck, n) in rows!(chart_footnote) {
            let at = format!("chart footnote {}", n.number);
            ck.citations(&at, &n.citations)?;
            if chart_footnotes
                .iter()
                .any(|x: &ChartFootnote| x.number == n.number)
            {
                return Err(ck.err(&at, "defined twice"));
            }
            chart_footnotes.push(n);
        }
        let mut chart: Vec<(ChartRow, Validity)> = Vec::new();
        for (ck, row) in rows!(chart) {
            let at = format!("chart {}", row.countries.join(" "));
            ck.countries(&at, &row.countries)?;
            let from = row.from.clone().unwrap_or_else(|| h.covers_from.clone());
            let v = ck.validity(&at, &from, row.until.as_deref())?;
            for (other, ov) in &chart {
                if let Some(c) = row.countries.iter().find(|c| other.countries.contains(c))
                    && v.overlaps(ov)
                {
                    return Err(ck.err(&at, format!("{c} is in more than one chart row")));
                }
            }
            for r in row.x.iter().chain(&row.blank).chain(&row.uncertain) {
                if !h.chart_reasons.contains(r) {
                    return Err(ck.err(&at, format!("`{r}` is not among chart_reasons")));
                }
            }
            if row.part_746 && (row.complete || !row.x.is_empty()) {
                return Err(ck.err(&at, "a part_746 row has no marks"));
            }
            if let Some(n) = row
                .footnotes
                .iter()
                .find(|n| !chart_footnotes.iter().any(|f| f.number == **n))
            {
                return Err(ck.err(&at, format!("footnote {n} is not defined")));
            }
            ck.citations(&at, &row.citations)?;
            chart.push((row, v));
        }

        let mut treated_as = Vec::new();
        for (ck, t) in rows!(treated_as) {
            let at = format!("treated_as {}", t.country);
            ck.countries(&at, &[t.country.clone(), t.as_country.clone()])?;
            let v = ck.cited(&at, &t.cited)?;
            treated_as.push((t, v));
        }

        let mut rules = Vec::new();
        for (ck, r) in rows!(rule) {
            unique(&ck, &r.id)?;
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
        for (ck, p) in rows!(party) {
            unique(&ck, &p.id)?;
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
        for (ck, e) in rows!(end_use) {
            unique(&ck, &e.id)?;
            let v = ck.cited(&e.id, &e.cited)?;
            ck.selector(&e.id, &e.destinations, &group_names)?;
            if e.advanced_node.is_none() && e.purposes.is_empty() {
                return Err(ck.err(
                    &e.id,
                    "an end-use rule needs an advanced_node test or purposes",
                ));
            }
            if !e.entries.is_empty() && e.items != Items::Listed {
                return Err(ck.err(&e.id, "entry patterns are for a rule on listed items"));
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

        let mut headquarters_rules = Vec::new();
        for (ck, r) in rows!(headquarters_rule) {
            unique(&ck, &r.id)?;
            let v = ck.cited(&r.id, &r.cited)?;
            ck.selector(&r.id, &r.headquarters, &group_names)?;
            if r.entries.is_empty() {
                return Err(ck.err(&r.id, "a headquarters rule names entry patterns"));
            }
            if matches!(r.outcome, Outcome::Authorized | Outcome::NoLicenseRequired) {
                return Err(ck.err(&r.id, "a headquarters rule states a requirement"));
            }
            headquarters_rules.push((r, v));
        }

        let mut eccns: BTreeMap<String, Vec<(EccnRow, Validity)>> = BTreeMap::new();
        for (ck, e) in rows!(eccn) {
            let at = format!("eccn {}", e.id);
            if !is_eccn(&e.id) || e.id.contains('.') {
                return Err(ck.err(&at, "not an ECCN (such as 3A001)"));
            }
            let v = ck.cited(&at, &e.cited)?;
            for c in &e.control {
                let targets = [c.column.is_some(), c.destinations.is_some()];
                if targets.iter().filter(|t| **t).count()
                    + usize::from(c.see.is_some() && !targets[1])
                    != 1
                {
                    return Err(ck.err(
                        &at,
                        format!(
                            "control {}: give exactly one of column, destinations or see",
                            c.reason
                        ),
                    ));
                }
                if let Some(col) = &c.column
                    && !h.chart_reasons.contains(col)
                {
                    return Err(ck.err(&at, format!("`{col}` is not among chart_reasons")));
                }
                if let Some(sel) = &c.destinations {
                    ck.selector(&at, sel, &group_names)?;
                }
            }
            let versions = eccns.entry(e.id.clone()).or_default();
            if versions.iter().any(|(_, ov)| ov.overlaps(&v)) {
                return Err(ck.err(&at, "two rows of the entry overlap in time"));
            }
            versions.push((e, v));
        }

        let mut authorizations = Vec::new();
        for (ck, a) in rows!(authorization) {
            unique(&ck, &a.id)?;
            let v = ck.cited(&a.id, &a.cited)?;
            ck.selector(&a.id, &a.destinations, &group_names)?;
            if let Some(ex) = &a.excluded_destinations {
                ck.selector(&a.id, ex, &group_names)?;
            }
            if a.covers.is_empty() {
                return Err(ck.err(&a.id, "covers no rule"));
            }
            for pat in &a.covers {
                let known = rules.iter().any(|(r, _)| pattern_matches(pat, &r.id))
                    || end_uses.iter().any(|(e, _, _)| pattern_matches(pat, &e.id))
                    || pat.starts_with("chart:")
                    || pat.starts_with("ccl:");
                if !known {
                    return Err(ck.err(
                        &a.id,
                        format!("covers `{pat}`, which names no rule of the pack"),
                    ));
                }
            }
            authorizations.push((a, v));
        }
        let mut restrictions = Vec::new();
        for (ck, r) in rows!(restriction) {
            unique(&ck, &r.id)?;
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
        let mut de_minimis = Vec::new();
        for (ck, r) in rows!(de_minimis) {
            unique(&ck, &r.id)?;
            let v = ck.cited(&r.id, &r.cited)?;
            ck.selector(&r.id, &r.destinations, &group_names)?;
            if !(0.0..=100.0).contains(&r.threshold_percent) {
                return Err(ck.err(&r.id, "threshold_percent is a percentage, 0 to 100"));
            }
            de_minimis.push((r, v));
        }
        let mut fdp = Vec::new();
        for (ck, r) in rows!(fdp) {
            unique(&ck, &r.id)?;
            let v = ck.cited(&r.id, &r.cited)?;
            if let Some(sel) = &r.destinations {
                ck.selector(&r.id, sel, &group_names)?;
            }
            fdp.push((r, v));
        }
        let chart_name = h
            .chart_name
            .clone()
            .unwrap_or_else(|| format!("{} country chart", h.regime));
        // One file: the digest of its text (as before parts existed); with
        // parts, the digest of each file's name and digest.
        let digest = if parts.is_empty() {
            hex::encode(Sha256::digest(head.text.as_bytes()))
        } else {
            let mut all = Sha256::new();
            for src in std::iter::once(head).chain(parts) {
                all.update(format!(
                    "{} {}\n",
                    src.file,
                    hex::encode(Sha256::digest(src.text.as_bytes()))
                ));
            }
            hex::encode(all.finalize())
        };
        let digest = format!("sha256:{digest}");
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
            chart,
            chart_footnotes,
            treated_as,
            eccns,
            entry_syntax: h.entry_syntax,
            rules,
            parties,
            party_index,
            reviewed_through,
            screening_list: h.screening_list,
            chart_name,
            end_uses,
            headquarters_rules,
            authorizations,
            restrictions,
            de_minimis,
            fdp,
            digest,
            file: head.file.clone(),
            parts: parts.iter().map(|s| s.file.clone()).collect(),
        })
    }
}

impl PolicySet {
    pub fn from_sources(common: &Source, packs: &[Source]) -> Result<Self, PolicyError> {
        let ck = Check { file: &common.file };
        let parsed: CommonFile =
            toml::from_str(&common.text).map_err(|e| ck.err("-", e.to_string()))?;
        // Part files join the head file of their regime.
        let mut heads: Vec<(&Source, String)> = Vec::new();
        let mut parts: BTreeMap<String, Vec<Source>> = BTreeMap::new();
        for src in packs {
            let kind: FileKind = toml::from_str(&src.text)
                .map_err(|e| PolicyError::new(&src.file, "-", e.to_string()))?;
            match (kind.part, kind.pack) {
                (Some(part), _) => parts.entry(part.regime).or_default().push(src.clone()),
                (None, pack) => heads.push((src, pack.map(|p| p.regime).unwrap_or_default())),
            }
        }
        let mut regimes = BTreeMap::new();
        for (src, regime) in heads {
            let own = parts.remove(&regime).unwrap_or_default();
            let p = RegimePolicy::parse_parts(src, &own)?;
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
        if let Some((regime, files)) = parts.into_iter().next() {
            return Err(PolicyError::new(
                &files[0].file,
                "part",
                format!("adds to {regime}, which no pack file defines"),
            ));
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
            if row.anywhere
                || row.export_countries.iter().any(|c| c == export_country)
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

    /// Whether a pack covers the line by its export country or origin (a
    /// regime that applies `anywhere` only asks whether a foreign-produced
    /// item is subject to it; it does not cover the exporting country's own
    /// controls).
    pub fn covers(&self, export_country: &str, origin_country: &str) -> bool {
        self.applicability.iter().any(|row| {
            row.export_countries.iter().any(|c| c == export_country)
                || row.origin_countries.iter().any(|c| c == origin_country)
        })
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
