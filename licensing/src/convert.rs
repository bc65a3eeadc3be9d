//! Proto ↔ domain conversion for the licensing service: validates a
//! DecideRequest field by field and renders engine results as a Decision.

use std::collections::HashSet;

use exportctl_core::dates;
use exportctl_core::validate::{self, Range};
use exportctl_proto::classifier as cpb;
use exportctl_proto::licensing as pb;
use exportctl_runtime::FieldViolation;
use time::Date;

use crate::engine::{self, DecisionBody, EndUseFacts, HeldAuthorization, PartyFacts};
use crate::parties;
use crate::policy::{Outcome, PolicySet, ReviewPolicy, is_country_code};

pub const MAX_LINES: usize = 1000;
pub const MAX_REQUEST_ID: usize = 128;
pub const MAX_NAME: usize = 256;
pub const MAX_ALIASES: usize = 32;
pub const MAX_LINE_ID: usize = 64;
pub const MAX_ENTRIES: usize = 32;

pub const PURPOSES: &[&str] = &[
    "civil",
    "military",
    "wmd",
    "nuclear",
    "missile",
    "chemical_biological",
    "other",
];
/// Roles of `DecideRequest.parties` (the end user has its own field).
pub const ROLES: &[&str] = &[
    "sold_to",
    "ship_to",
    "consignee",
    "intermediate_consignee",
    "forwarder",
    "purchaser",
    "end_user",
];
/// Most parties besides the end user.
pub const MAX_PARTIES: usize = 50;
pub const ARCHITECTURES: &[&str] = &["planar", "finfet", "gaafet", "other"];

/// `lines[i].quantity`: units of the line, at most a billion.
pub const QUANTITY: Range = Range::up_to(1e9, "units");
/// `lines[i].value`: in the line's currency, at most a trillion.
pub const VALUE: Range = Range::up_to(1e12, "currency units");
/// `end_use.fab_logic_node_nm`, `end_use.fab_dram_half_pitch_nm`: as the
/// classifier's `process_node_nm` (100 µm).
pub const FAB_NM: Range = Range::up_to(100_000.0, "nm");
/// `end_use.fab_nand_layers`: as the classifier's `memory_layers`.
pub const FAB_NAND_LAYERS: Range = Range::up_to(10_000.0, "layers");
/// `end_use.fab_dram_cell_area_um2`: at most 1 mm².
pub const FAB_DRAM_CELL_AREA: Range = Range::up_to(1e6, "um2");
/// `end_use.fab_dram_density_gb_mm2`.
pub const FAB_DRAM_DENSITY: Range = Range::up_to(10_000.0, "Gb/mm2");

/// Which characters a text field may hold ([`validate`]).
#[derive(Debug, Clone, Copy)]
enum Chars {
    /// Ids and references: no control, bidi or zero-width character.
    Identifier,
    /// Names and addresses: no control or bidi character.
    Name,
}

/// A validated Decide request, before classification.
#[derive(Debug, Clone)]
pub struct DecideQuery {
    pub request_id: String,
    pub export_country: String,
    pub destination: String,
    pub end_user: PartyFacts,
    pub parties: Vec<PartyFacts>,
    pub end_use: EndUseFacts,
    pub as_of: Date,
    /// The destination's ISO 3166-2 subdivision, when given.
    pub subdivision: Option<String>,
    /// Authorizations the exporter holds.
    pub held: Vec<HeldAuthorization>,
}

/// Most `held_authorizations` a request may name.
pub const MAX_HELD: usize = 32;

/// `destination_subdivision`: an ISO 3166-2 code whose country prefix is the
/// destination country.
fn subdivision(bad: &mut Vec<FieldViolation>, req: &pb::DecideRequest) -> Option<String> {
    let value = &req.destination_subdivision;
    if value.is_empty() {
        return None;
    }
    let shown: String = value.chars().take(16).collect();
    if !exportctl_core::country::is_subdivision(value) {
        bad.push(FieldViolation::new(
            "destination_subdivision",
            format!("`{shown}` is not an ISO 3166-2 subdivision code (such as UA-43)"),
        ));
        return None;
    }
    let country = exportctl_core::country::subdivision_country(value);
    if country != req.destination_country {
        bad.push(FieldViolation::new(
            "destination_subdivision",
            format!(
                "`{shown}` is a subdivision of {country}, not of the destination country `{}`",
                req.destination_country.chars().take(16).collect::<String>()
            ),
        ));
        return None;
    }
    Some(value.clone())
}

/// `held_authorizations[i]`: a loaded regime that applies to a line of the
/// request, one of its authorization codes, a short reference.
fn held_authorizations(
    bad: &mut Vec<FieldViolation>,
    req: &pb::DecideRequest,
    policies: &PolicySet,
) -> Vec<HeldAuthorization> {
    if req.held_authorizations.len() > MAX_HELD {
        bad.push(FieldViolation::new(
            "held_authorizations",
            format!("at most {MAX_HELD} held authorizations"),
        ));
    }
    let applying: Vec<&str> = {
        let mut all: Vec<&str> = req
            .lines
            .iter()
            .flat_map(|l| policies.applicable_regimes(&req.export_country, &l.origin_country))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    let mut out = Vec::new();
    for (i, h) in req.held_authorizations.iter().enumerate().take(MAX_HELD) {
        let at = |f: &str| format!("held_authorizations[{i}].{f}");
        let shown = |v: &str| v.chars().take(32).collect::<String>();
        text(
            bad,
            &at("reference"),
            &h.reference,
            128,
            false,
            Chars::Identifier,
        );
        let Some(policy) = policies.regimes.get(&h.regime) else {
            bad.push(FieldViolation::new(
                at("regime"),
                format!(
                    "unknown regime `{}`; loaded: {}",
                    shown(&h.regime),
                    policies
                        .regimes
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            continue;
        };
        if !applying.contains(&h.regime.as_str()) {
            bad.push(FieldViolation::new(
                at("regime"),
                format!(
                    "{} applies to no line of this request (exports from {})",
                    h.regime,
                    shown(&req.export_country)
                ),
            ));
            continue;
        }
        let codes = policy.authorization_codes();
        if !codes.contains(&h.code.as_str()) {
            bad.push(FieldViolation::new(
                at("code"),
                format!(
                    "`{}` is not an authorization of {}; allowed: {}",
                    shown(&h.code),
                    h.regime,
                    if codes.is_empty() {
                        "none".to_string()
                    } else {
                        codes.join(", ")
                    }
                ),
            ));
            continue;
        }
        out.push(HeldAuthorization {
            regime: h.regime.clone(),
            code: h.code.clone(),
            reference: (!h.reference.trim().is_empty()).then(|| h.reference.clone()),
        });
    }
    out
}

/// The end-use facts, each checked against its vocabulary or range.
fn end_use(bad: &mut Vec<FieldViolation>, e: pb::EndUse) -> EndUseFacts {
    EndUseFacts {
        purpose: vocab(bad, "end_use.purpose", &e.purpose, PURPOSES),
        ic_production: e.ic_production,
        fab_logic_node_nm: number(
            bad,
            "end_use.fab_logic_node_nm",
            e.fab_logic_node_nm,
            FAB_NM,
        ),
        fab_transistor_architecture: vocab(
            bad,
            "end_use.fab_transistor_architecture",
            &e.fab_transistor_architecture,
            ARCHITECTURES,
        ),
        fab_dram_half_pitch_nm: number(
            bad,
            "end_use.fab_dram_half_pitch_nm",
            e.fab_dram_half_pitch_nm,
            FAB_NM,
        ),
        fab_nand_layers: number(
            bad,
            "end_use.fab_nand_layers",
            e.fab_nand_layers.map(f64::from),
            FAB_NAND_LAYERS,
        )
        .and(e.fab_nand_layers),
        fab_dram_cell_area_um2: number(
            bad,
            "end_use.fab_dram_cell_area_um2",
            e.fab_dram_cell_area_um2,
            FAB_DRAM_CELL_AREA,
        ),
        fab_dram_density_gb_mm2: number(
            bad,
            "end_use.fab_dram_density_gb_mm2",
            e.fab_dram_density_gb_mm2,
            FAB_DRAM_DENSITY,
        ),
        fab_owner_headquarters: {
            country(
                bad,
                "end_use.fab_owner_headquarters",
                &e.fab_owner_headquarters,
                false,
            );
            (!e.fab_owner_headquarters.is_empty()).then(|| e.fab_owner_headquarters.clone())
        },
        critical_infrastructure_operator: e.critical_infrastructure_operator,
    }
}

/// The order lines: ids unique, origin, quantities, and a spec or entries each.
fn lines(bad: &mut Vec<FieldViolation>, lines: &[pb::LineItem]) {
    if lines.is_empty() {
        bad.push(FieldViolation::new(
            "lines",
            "at least one line is required",
        ));
    } else if lines.len() > MAX_LINES {
        bad.push(FieldViolation::new(
            "lines",
            format!("at most {MAX_LINES} lines"),
        ));
    } else {
        let mut ids = HashSet::new();
        for (i, l) in lines.iter().enumerate() {
            let at = |f: &str| format!("lines[{i}].{f}");
            text(
                bad,
                &at("line_id"),
                &l.line_id,
                MAX_LINE_ID,
                true,
                Chars::Identifier,
            );
            if !l.line_id.is_empty() && !ids.insert(l.line_id.as_str()) {
                bad.push(FieldViolation::new(
                    at("line_id"),
                    format!("`{}` is used by another line", l.line_id),
                ));
            }
            country(bad, &at("origin_country"), &l.origin_country, true);
            number(bad, &at("quantity"), Some(l.quantity), QUANTITY);
            number(bad, &at("value"), Some(l.value), VALUE);
            number(
                bad,
                &at("us_content_percent"),
                l.us_content_percent,
                validate::PERCENT,
            );
            number(
                bad,
                &at("us_controlled_content_percent"),
                l.us_controlled_content_percent,
                validate::PERCENT,
            );
            if let (Some(all), Some(controlled)) =
                (l.us_content_percent, l.us_controlled_content_percent)
                && controlled > all
            {
                bad.push(FieldViolation::new(
                    at("us_controlled_content_percent"),
                    format!("is more than us_content_percent ({controlled} > {all})"),
                ));
            }
            let iso_currency =
                l.currency.len() == 3 && l.currency.bytes().all(|b| b.is_ascii_uppercase());
            if !l.currency.is_empty() && !iso_currency {
                bad.push(FieldViolation::new(at("currency"), "not an ISO 4217 code"));
            }
            if l.spec.is_none() && l.entries.is_empty() {
                bad.push(FieldViolation::new(
                    at("spec"),
                    "required: a product spec or pre-classified entries",
                ));
            }
            if l.entries.len() > MAX_ENTRIES {
                bad.push(FieldViolation::new(
                    at("entries"),
                    format!("at most {MAX_ENTRIES} entries"),
                ));
            }
            for (j, e) in l.entries.iter().enumerate().take(MAX_ENTRIES) {
                text(
                    bad,
                    &at(&format!("entries[{j}].regime")),
                    &e.regime,
                    32,
                    true,
                    Chars::Identifier,
                );
                text(
                    bad,
                    &at(&format!("entries[{j}].entry_id")),
                    &e.entry_id,
                    64,
                    true,
                    Chars::Identifier,
                );
            }
        }
    }
}

/// `parties[i]`, each with its role (required when `role_required`), at
/// most [`MAX_PARTIES`].
fn party_list(
    bad: &mut Vec<FieldViolation>,
    parties: &[pb::Party],
    role_required: bool,
) -> Vec<PartyFacts> {
    if parties.len() > MAX_PARTIES {
        bad.push(FieldViolation::new(
            "parties",
            format!("at most {MAX_PARTIES} parties"),
        ));
    }
    parties
        .iter()
        .take(MAX_PARTIES)
        .enumerate()
        .map(|(i, p)| {
            let field = format!("parties[{i}]");
            let role = vocab(bad, &format!("{field}.role"), &p.role, ROLES);
            if role_required && p.role.is_empty() {
                bad.push(FieldViolation::new(
                    format!("{field}.role"),
                    format!("required; one of {}", ROLES.join(", ")),
                ));
            }
            party(bad, &field, role.as_deref().unwrap_or(""), p)
        })
        .collect()
}

/// One party: a name to screen (with letters or digits), a country, aliases.
fn party(bad: &mut Vec<FieldViolation>, field: &str, role: &str, p: &pb::Party) -> PartyFacts {
    text(
        bad,
        &format!("{field}.name"),
        &p.name,
        MAX_NAME,
        true,
        Chars::Name,
    );
    country(
        bad,
        &format!("{field}.country"),
        &p.country,
        field == "end_user",
    );
    text(
        bad,
        &format!("{field}.address"),
        &p.address,
        1024,
        false,
        Chars::Name,
    );
    if p.aliases.len() > MAX_ALIASES {
        bad.push(FieldViolation::new(
            format!("{field}.aliases"),
            format!("at most {MAX_ALIASES} aliases"),
        ));
    }
    for (i, a) in p.aliases.iter().enumerate().take(MAX_ALIASES) {
        text(
            bad,
            &format!("{field}.aliases[{i}]"),
            a,
            MAX_NAME,
            true,
            Chars::Name,
        );
    }
    let screenable = std::iter::once(&p.name)
        .chain(&p.aliases)
        .any(|n| !exportctl_screening::normalize(n).tokens.is_empty());
    if !screenable && !p.name.trim().is_empty() {
        bad.push(FieldViolation::new(
            format!("{field}.name"),
            "has no letters or digits to screen",
        ));
    }
    let headquarters = |bad: &mut Vec<FieldViolation>, name: &str, value: &str| {
        country(bad, &format!("{field}.{name}"), value, false);
        (!value.is_empty() && is_country_code(value)).then(|| value.to_string())
    };
    PartyFacts {
        role: role.to_string(),
        field: field.to_string(),
        name: p.name.clone(),
        country: p.country.clone(),
        aliases: p.aliases.iter().take(MAX_ALIASES).cloned().collect(),
        headquarters_country: headquarters(bad, "headquarters_country", &p.headquarters_country),
        ultimate_parent_country: headquarters(
            bad,
            "ultimate_parent_country",
            &p.ultimate_parent_country,
        ),
    }
}

fn country(bad: &mut Vec<FieldViolation>, field: &str, value: &str, required: bool) {
    if value.is_empty() {
        if required {
            bad.push(FieldViolation::new(
                field,
                "required: an ISO 3166-1 alpha-2 code such as CN",
            ));
        }
    } else if !is_country_code(value) {
        let shown: String = value.chars().take(16).collect();
        bad.push(FieldViolation::new(
            field,
            format!("`{shown}` is not an assigned ISO 3166-1 alpha-2 code (two capital letters, such as CN; not EU or UK)"),
        ));
    }
}

/// A request id: required, an identifier of at most [`MAX_REQUEST_ID`] characters.
fn request_id(bad: &mut Vec<FieldViolation>, value: &str) {
    text(
        bad,
        "request_id",
        value,
        MAX_REQUEST_ID,
        true,
        Chars::Identifier,
    );
}

fn text(
    bad: &mut Vec<FieldViolation>,
    field: &str,
    value: &str,
    max: usize,
    required: bool,
    chars: Chars,
) {
    if required && value.trim().is_empty() {
        bad.push(FieldViolation::new(field, "required"));
    } else if value.chars().count() > max {
        bad.push(FieldViolation::new(
            field,
            format!("longer than {max} characters"),
        ));
    } else if let Err(m) = match chars {
        Chars::Identifier => validate::identifier(value),
        Chars::Name => validate::name(value),
    } {
        bad.push(FieldViolation::new(field, m));
    }
}

/// A number, when given, within its range.
fn number(
    bad: &mut Vec<FieldViolation>,
    field: &str,
    value: Option<f64>,
    range: Range,
) -> Option<f64> {
    validate::in_range(value?, range)
        .map_err(|m| bad.push(FieldViolation::new(field, m)))
        .ok()
}

fn vocab(
    bad: &mut Vec<FieldViolation>,
    field: &str,
    value: &str,
    allowed: &[&str],
) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    if allowed.contains(&value) {
        Some(value.to_string())
    } else {
        let shown: String = value.chars().take(32).collect();
        bad.push(FieldViolation::new(
            field,
            format!("unknown value `{shown}`; allowed: {}", allowed.join(", ")),
        ));
        None
    }
}

/// Validates everything but the product specs (the classifier checks those).
pub fn decide_query(
    req: &pb::DecideRequest,
    policies: &PolicySet,
) -> Result<DecideQuery, Vec<FieldViolation>> {
    let mut bad = Vec::new();
    request_id(&mut bad, &req.request_id);
    country(&mut bad, "export_country", &req.export_country, true);
    country(
        &mut bad,
        "destination_country",
        &req.destination_country,
        true,
    );

    let end_user = match &req.end_user {
        None => {
            bad.push(FieldViolation::new(
                "end_user",
                "required: the end user must be screened",
            ));
            PartyFacts::default()
        }
        Some(p) => party(&mut bad, "end_user", "end_user", p),
    };
    let parties = party_list(&mut bad, &req.parties, true);

    let end_use = end_use(&mut bad, req.end_use.clone().unwrap_or_default());

    lines(&mut bad, &req.lines);
    let subdivision = subdivision(&mut bad, req);
    let held = held_authorizations(&mut bad, req, policies);

    let as_of = match validate::date_or_today(&req.as_of) {
        Ok(d) if d < policies.covers_from() => {
            bad.push(FieldViolation::new(
                "as_of",
                format!(
                    "{} is before {}, the first date the policy packs cover",
                    dates::format(d),
                    dates::format(policies.covers_from())
                ),
            ));
            None
        }
        Ok(d) => Some(d),
        Err(m) => {
            bad.push(FieldViolation::new("as_of", m));
            None
        }
    };
    match as_of {
        Some(as_of) if bad.is_empty() => Ok(DecideQuery {
            request_id: req.request_id.clone(),
            export_country: req.export_country.clone(),
            destination: req.destination_country.clone(),
            end_user,
            parties,
            end_use,
            as_of,
            subdivision,
            held,
        }),
        _ => Err(bad),
    }
}

/// The regimes that apply to each line (`[i]` for `req.lines[i]`).
pub fn line_regimes(
    q: &DecideQuery,
    req: &pb::DecideRequest,
    policies: &PolicySet,
) -> Vec<Vec<String>> {
    req.lines
        .iter()
        .map(|line| {
            policies
                .applicable_regimes(&q.export_country, &line.origin_country)
                .into_iter()
                .map(String::from)
                .collect()
        })
        .collect()
}

/// The engine's view of one regime's classification.
/// The shipment the engine decides: the validated request with each line's
/// classifications (`classifications[i]` for `req.lines[i]`).
pub fn shipment(
    q: &DecideQuery,
    req: &pb::DecideRequest,
    classifications: &[Vec<cpb::RegimeClassification>],
) -> engine::Shipment {
    engine::Shipment {
        export_country: q.export_country.clone(),
        destination: q.destination.clone(),
        subdivision: q.subdivision.clone(),
        held: q.held.clone(),
        end_user: q.end_user.clone(),
        parties: q.parties.clone(),
        end_use: q.end_use.clone(),
        as_of: q.as_of,
        lines: req
            .lines
            .iter()
            .zip(classifications)
            .map(|(l, cs)| engine::LineFacts {
                line_id: l.line_id.clone(),
                origin_country: l.origin_country.clone(),
                manufacturer: l
                    .spec
                    .as_ref()
                    .map(|s| parties::normalize(&s.manufacturer))
                    .unwrap_or_default(),
                classifications: cs
                    .iter()
                    .map(|c| (c.regime.clone(), regime_facts(c)))
                    .collect(),
                foreign: engine::ForeignFacts {
                    us_content_percent: l.us_content_percent,
                    us_controlled_content_percent: l.us_controlled_content_percent,
                    produced_with_us_technology: l.produced_with_us_technology,
                    produced_with_us_equipment: l.produced_with_us_equipment,
                },
            })
            .collect(),
    }
}

/// The version of a control entry in force on `on` (half-open dates).
pub fn version_in_force(entry: &cpb::ControlEntry, on: Date) -> Option<&cpb::EntryVersion> {
    entry.versions.iter().find(|v| {
        let from = dates::parse(&v.effective_from).ok();
        let until = dates::parse(&v.effective_until).ok();
        from.is_some_and(|f| f <= on) && until.is_none_or(|u| on < u)
    })
}

/// A match for an entry the caller pre-classified the line under, from the
/// classifier's own record of it. Conditional reasons cannot be checked
/// without a spec, so all of them are kept.
pub fn pre_classified_match(entry: &cpb::ControlEntry, v: &cpb::EntryVersion) -> cpb::ControlMatch {
    cpb::ControlMatch {
        regime: entry.regime.clone(),
        entry_id: entry.entry_id.clone(),
        title: entry.title.clone(),
        reasons: v
            .reasons
            .iter()
            .map(|r| r.split_whitespace().next().unwrap_or(r).to_string())
            .collect(),
        citations: v.citations.clone(),
        because: vec!["pre-classified by the caller".into()],
        confidence: v.confidence,
        effective_from: v.effective_from.clone(),
        effective_until: v.effective_until.clone(),
        note: v.note.clone(),
    }
}

/// An entry the caller names that the classifier's packs lack (a
/// well-formed ECCN): no reasons of its own, so the policy packs' control
/// list decides it, or the line is INDETERMINATE naming it.
pub fn declared_match(e: &pb::PreClassifiedEntry) -> cpb::ControlMatch {
    cpb::ControlMatch {
        regime: e.regime.clone(),
        entry_id: e.entry_id.clone(),
        because: vec![
            "pre-classified by the caller; not an entry of the classifier's packs".into(),
        ],
        confidence: cpb::Confidence::Low as i32,
        ..Default::default()
    }
}

pub fn regime_facts(c: &cpb::RegimeClassification) -> engine::RegimeClassification {
    engine::RegimeClassification {
        matches: c
            .matches
            .iter()
            .map(|m| engine::MatchedEntry {
                id: m.entry_id.clone(),
                reasons: m.reasons.clone(),
                citations: m.citations.clone(),
                low_confidence: m.confidence == cpb::Confidence::Low as i32,
            })
            .collect(),
        undetermined: c
            .undetermined
            .iter()
            .map(|u| engine::UndeterminedEntry {
                id: u.entry_id.clone(),
                missing: u.missing_attributes.clone(),
                citations: u.citations.clone(),
            })
            .collect(),
        not_listed_label: c.not_listed_label.clone(),
    }
}

pub fn outcome(o: Outcome) -> pb::Outcome {
    match o {
        Outcome::NoLicenseRequired => pb::Outcome::NoLicenseRequired,
        Outcome::Authorized => pb::Outcome::Authorized,
        Outcome::Indeterminate => pb::Outcome::Indeterminate,
        Outcome::LicenseRequired => pb::Outcome::LicenseRequired,
        Outcome::Prohibited => pb::Outcome::Prohibited,
    }
}

pub fn outcome_from_pb(o: i32) -> Option<Outcome> {
    Some(match pb::Outcome::try_from(o).ok()? {
        pb::Outcome::Unspecified => return None,
        pb::Outcome::NoLicenseRequired => Outcome::NoLicenseRequired,
        pb::Outcome::Authorized => Outcome::Authorized,
        pb::Outcome::Indeterminate => Outcome::Indeterminate,
        pb::Outcome::LicenseRequired => Outcome::LicenseRequired,
        pb::Outcome::Prohibited => Outcome::Prohibited,
    })
}

fn review_policy(r: ReviewPolicy) -> pb::ReviewPolicy {
    match r {
        ReviewPolicy::Unspecified => pb::ReviewPolicy::Unspecified,
        ReviewPolicy::PresumptionOfDenial => pb::ReviewPolicy::PresumptionOfDenial,
        ReviewPolicy::CaseByCase => pb::ReviewPolicy::CaseByCase,
        ReviewPolicy::PresumptionOfApproval => pb::ReviewPolicy::PresumptionOfApproval,
    }
}

/// Renders the engine's result; `classifications[i]` are line i's regime classifications.
pub fn decision(
    q: &DecideQuery,
    body: &DecisionBody,
    classifications: Vec<Vec<cpb::RegimeClassification>>,
    rules_digest: &str,
    classifier_rules_digest: &str,
    created_at: &str,
) -> pb::Decision {
    pb::Decision {
        name: String::new(),
        request_id: q.request_id.clone(),
        as_of: dates::format(q.as_of),
        outcome: outcome(body.outcome) as i32,
        lines: body
            .lines
            .iter()
            .zip(classifications)
            .map(|(l, classifications)| pb::LineDecision {
                line_id: l.line_id.clone(),
                outcome: outcome(l.outcome) as i32,
                classifications,
                // Derived when read (readback): never in the recorded bytes.
                review_status: 0,
                determinations: l
                    .determinations
                    .iter()
                    .map(|d| pb::Determination {
                        regime: d.regime.clone(),
                        outcome: outcome(d.outcome) as i32,
                        entry_ids: d.entry_ids.clone(),
                        reasons: d.reasons.clone(),
                        authorization: d.authorization.clone().unwrap_or_default(),
                        review_policy: review_policy(d.review_policy) as i32,
                        citations: d.citations.clone(),
                        explanation: d.explanation.clone(),
                        missing_facts: d.missing_facts.clone(),
                        rule_id: d.rule_id.clone(),
                        source: d.source.as_str().to_string(),
                        confidence: if d.low_confidence {
                            cpb::Confidence::Low
                        } else {
                            cpb::Confidence::High
                        } as i32,
                        party_match: d.party_match.as_ref().map(party_match),
                    })
                    .collect(),
            })
            .collect(),
        advisories: body
            .advisories
            .iter()
            .map(|a| pb::Advisory {
                code: a.code.clone(),
                regime: a.authority.clone(),
                text: a.text.clone(),
                citations: a.citations.clone(),
                line_ids: a.line_ids.clone(),
            })
            .collect(),
        rules_digest: rules_digest.to_string(),
        created_at: created_at.to_string(),
        classifier_rules_digest: classifier_rules_digest.to_string(),
        sequence: 0,
        record_hash: String::new(),
        export_country: q.export_country.clone(),
        destination_country: q.destination.clone(),
        destination_subdivision: q.subdivision.clone().unwrap_or_default(),
        // Added when answered or read (readback): the recorded bytes stay as before.
        request: None,
        state: 0,
        screening_sources: body
            .screening_sources
            .iter()
            .map(screening_source)
            .collect(),
        pack_vintages: body
            .pack_vintages
            .iter()
            .map(|(regime, version, reviewed)| pb::PackVintage {
                regime: regime.clone(),
                version: version.clone(),
                reviewed_through: reviewed.map(dates::format).unwrap_or_default(),
            })
            .collect(),
    }
}

pub fn screening_source(s: &engine::ScreeningSourceFacts) -> pb::ScreeningSource {
    pb::ScreeningSource {
        name: s.name.clone(),
        list_date: s.list_date.map(dates::format).unwrap_or_default(),
        date_basis: s.date_basis.clone(),
        entries: s.entries as i64,
        digest: s.digest.clone(),
    }
}

pub fn party_match(m: &engine::PartyMatchFacts) -> pb::PartyMatch {
    pb::PartyMatch {
        role: m.role.clone(),
        party_name: m.party_name.clone(),
        list: m.list.clone(),
        list_name: m.list_name.clone(),
        entry_name: m.entry_name.clone(),
        matched_name: m.matched_name.clone(),
        score: m.score,
        exact: m.exact,
        federal_register_notice: m.federal_register_notice.clone(),
        source_list_url: m.source_list_url.clone(),
        signals: m.signals.clone(),
        license_requirement: m.license_requirement.clone(),
        license_policy: m.license_policy.clone(),
        entry_id: m.entry_id.clone(),
    }
}

/// The decision id of a request id: the first 16 bytes of
/// SHA-256(`decision:` + request id), in hex (`decisions/{id}`).
pub fn decision_id(request_id: &str) -> String {
    exportctl_core::digest::Digest::of(format!("decision:{request_id}").as_bytes()).short_hex(16)
}

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 500;

/// The decision id a `decisions/{id}` name holds.
pub fn decision_id_of_name(name: &str) -> Result<String, Vec<FieldViolation>> {
    name.strip_prefix("decisions/")
        .filter(|id| !id.is_empty() && id.len() <= 64 && validate::identifier(id).is_ok())
        .map(String::from)
        .ok_or_else(|| vec![FieldViolation::new("name", "must look like decisions/{id}")])
}

/// The request id a LookupDecision request asks about, checked as Decide
/// checks it.
pub fn lookup_request_id(req: &pb::LookupDecisionRequest) -> Result<String, Vec<FieldViolation>> {
    let mut bad = Vec::new();
    request_id(&mut bad, &req.request_id);
    if bad.is_empty() {
        Ok(req.request_id.clone())
    } else {
        Err(bad)
    }
}

/// The country and date a GetDestinationStatus request asks about.
pub fn destination_query(
    req: &pb::GetDestinationStatusRequest,
) -> Result<(String, Date), Vec<FieldViolation>> {
    let mut bad = Vec::new();
    country(&mut bad, "country", &req.country, true);
    let on = validate::date_or_today(&req.as_of)
        .map_err(|m| bad.push(FieldViolation::new("as_of", m)))
        .ok();
    match on.filter(|_| bad.is_empty()) {
        Some(on) => Ok((req.country.clone(), on)),
        None => Err(bad),
    }
}

/// A destination's group memberships and destination-wide measures in every
/// regime on a date.
pub fn destination_status(
    policies: &PolicySet,
    country: String,
    on: Date,
) -> pb::GetDestinationStatusResponse {
    let mut memberships = Vec::new();
    let mut measures = Vec::new();
    for p in policies.regimes.values() {
        for (g, v) in &p.groups {
            if v.contains(on) && g.countries.contains(&country) {
                memberships.push(pb::GroupMembership {
                    regime: p.regime.clone(),
                    group: g.group.clone(),
                    effective_from: dates::format(v.from),
                    effective_until: v.until.map(dates::format).unwrap_or_default(),
                    citation: g.citations.join("; "),
                    confidence: if g.confidence.is_low() {
                        cpb::Confidence::Low
                    } else {
                        cpb::Confidence::High
                    } as i32,
                });
            }
        }
        for (r, v) in &p.rules {
            let names_country = r.destinations.countries.contains(&country);
            let regions: Vec<&str> = r
                .destinations
                .subdivisions
                .iter()
                .filter(|s| exportctl_core::country::subdivision_country(s) == country)
                .map(String::as_str)
                .collect();
            if v.contains(on) && (names_country || !regions.is_empty()) && !p.is_home(&country) {
                let within = if regions.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", regions.join(", "))
                };
                measures.push(format!(
                    "{} {}{within}: {} ({})",
                    p.regime,
                    r.id,
                    r.cited.explanation,
                    r.cited.citations.join("; ")
                ));
            }
        }
    }
    pb::GetDestinationStatusResponse {
        country,
        as_of: dates::format(on),
        memberships,
        measures,
        rules_digest: policies.digest.clone(),
    }
}

/// Most matches ScreenParties returns per party (default 10).
pub const MAX_MATCHES: usize = 50;

/// A validated ScreenParties request: the parties, the date, the match cap.
pub fn screen_query(
    req: &pb::ScreenPartiesRequest,
) -> Result<(Vec<PartyFacts>, Date, usize), Vec<FieldViolation>> {
    let mut bad = Vec::new();
    if req.parties.is_empty() {
        bad.push(FieldViolation::new(
            "parties",
            "required: at least one party",
        ));
    }
    let parties = party_list(&mut bad, &req.parties, false);
    let as_of = validate::date_or_today(&req.as_of)
        .map_err(|m| bad.push(FieldViolation::new("as_of", m)))
        .ok();
    let max = match req.max_matches {
        0 => 10,
        n if n < 0 => {
            bad.push(FieldViolation::new("max_matches", "must not be negative"));
            0
        }
        n => (n as usize).min(MAX_MATCHES),
    };
    match as_of {
        Some(on) if bad.is_empty() => Ok((parties, on, max)),
        _ => Err(bad),
    }
}

pub fn party_screening(p: &pb::Party, report: &engine::PartyReport) -> pb::PartyScreening {
    pb::PartyScreening {
        party: Some(p.clone()),
        matches: report
            .matches
            .iter()
            .map(|m| pb::ScreeningMatch {
                r#match: Some(party_match(&m.facts)),
                effect: outcome(m.effect) as i32,
                explanation: m.explanation.clone(),
            })
            .collect(),
        outcome: outcome(report.outcome) as i32,
        explanation: report.explanation.clone(),
    }
}
