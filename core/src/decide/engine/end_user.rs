//! Requirements from the parties: every party of the shipment (the end user
//! and each other role) screened against the parties the pack lists and, for
//! a regime that needs one, the official screening lists loaded at run time.
//!
//! A regime that needs an official list (`screening_list` in its pack) never
//! clears a party without one: the check is INDETERMINATE naming the missing
//! list, unless partial screening is allowed.

use time::Date;

use super::{
    Determination, EngineConfig, PartyFacts, PartyMatchFacts, RegimeClassification, Shipment,
    Source, low, low_note,
};
use crate::dates;
use crate::decide::policy::{Outcome, PartyRow, RegimePolicy, ReviewPolicy, pattern_matches};
use crate::decide::screening::{ElScope, ListEffect, ScreeningSet, review_policy_of};
use exportctl_screening::{ListHit, ScreeningList, is_mixed_script};

/// Most hits kept per party and list.
pub(super) const MAX_HITS: usize = 10;

/// One party's hits on the loaded lists, found once per decision.
pub(super) struct PartyScreen<'a> {
    pub party: &'a PartyFacts,
    pub hits: Vec<(&'a ScreeningList, ListHit<'a>)>,
    /// A name mixes writing systems (a common disguise).
    pub mixed_script: bool,
}

/// Screens every party of the shipment against every loaded list.
pub(super) fn screen_parties<'a>(
    set: &'a ScreeningSet,
    s: &'a Shipment,
    config: &EngineConfig,
) -> Vec<PartyScreen<'a>> {
    s.screened_parties()
        .map(|party| {
            let names = party.names();
            let hits = set
                .lists
                .iter()
                .flat_map(|list| {
                    list.screen(&names, config.party_match_threshold, MAX_HITS)
                        .into_iter()
                        .map(move |hit| (list.as_ref(), hit))
                })
                .collect();
            PartyScreen {
                party,
                hits,
                mixed_script: names.iter().any(|n| is_mixed_script(n)),
            }
        })
        .collect()
}

/// What the end-user check of one regime looked at; the sentence for the
/// explanation of a line it clears is written only when one is cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Screened {
    /// The regime needs no official list: the pack's parties only.
    PackOnly,
    /// No official list, cleared on the pack's parties (allowed by configuration).
    Partial,
    /// The official lists and the pack's parties.
    Lists,
    /// No official list and partial screening not allowed: nothing can clear.
    Missing,
}

impl Screened {
    pub fn partial(self) -> bool {
        self == Screened::Partial
    }

    /// What was screened against what, ending "no match" where it applies.
    pub fn summary(self, p: &RegimePolicy, parties: usize, screening: &ScreeningSet) -> String {
        let list_name = p
            .screening_list
            .as_deref()
            .unwrap_or("official screening list");
        let pack_only = pack_only(p, parties);
        match self {
            Screened::PackOnly => {
                format!("{pack_only} (the pack names no official screening list).")
            }
            Screened::Partial => {
                format!("{pack_only} only, without the {list_name} (partial screening allowed).")
            }
            Screened::Missing => String::new(),
            Screened::Lists => {
                let lists: Vec<String> = screening
                    .lists
                    .iter()
                    .map(|l| {
                        format!(
                            "{} of {} ({} entries)",
                            l.short_label(),
                            l.list_date()
                                .map(dates::format)
                                .unwrap_or_else(|| "unknown date".into()),
                            l.entries().len()
                        )
                    })
                    .collect();
                format!(
                    "{parties} {} screened against the {list_name} ({}) and the {} party {} of the pack: no match.",
                    plural(parties, "party", "parties"),
                    lists.join("; "),
                    p.parties.len(),
                    plural(p.parties.len(), "listing", "listings"),
                )
            }
        }
    }
}

/// "N parties screened against the K party listings of the REGIME pack".
fn pack_only(p: &RegimePolicy, parties: usize) -> String {
    format!(
        "{parties} {} screened against the {} party {} of the {} pack",
        plural(parties, "party", "parties"),
        p.parties.len(),
        plural(p.parties.len(), "listing", "listings"),
        p.regime
    )
}

pub(super) fn requirements(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    screening: &ScreeningSet,
    screened: &[PartyScreen],
    config: &EngineConfig,
    reqs: &mut Vec<Determination>,
) -> Screened {
    for ps in screened {
        pack_parties(p, s, class, ps.party, config, reqs);
    }
    let Some(list_name) = &p.screening_list else {
        return Screened::PackOnly;
    };
    if screening.is_empty() {
        if config.allow_partial_screening {
            return Screened::Partial;
        }
        let mut d = Determination::new(
            &p.regime,
            Outcome::Indeterminate,
            "screening-list",
            Source::EndUser,
        );
        d.explanation = format!(
            "{} only: no {list_name} is loaded, so no party can be cleared (start the service with --screening-list).",
            pack_only(p, screened.len())
        );
        d.missing_facts.push("screening list".into());
        d.cite(std::slice::from_ref(&p.source));
        reqs.push(d);
        return Screened::Missing;
    }
    for ps in screened {
        listed_parties(p, s, class, ps, config, reqs);
    }
    Screened::Lists
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// The parties the pack itself lists (dated, cited rows).
fn pack_parties(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    party: &PartyFacts,
    config: &EngineConfig,
    reqs: &mut Vec<Determination>,
) {
    let (regime, on) = (p.regime.as_str(), s.as_of);
    let names = party.names();
    for hit in p
        .party_index
        .screen(&names, config.party_match_threshold, MAX_HITS)
    {
        let (row, v) = &p.parties[hit.owner];
        if !v.contains(on) {
            continue;
        }
        let list_name = row.list.replace('_', " ");
        let facts = pack_match_facts(party, row, regime, &hit);
        if hit.exact {
            let mut d = Determination::new(regime, row.outcome, &row.id, Source::EndUser);
            let denial = class.matches.iter().any(|m| {
                row.denial_entries
                    .iter()
                    .any(|pat| pattern_matches(pat, &m.id))
            });
            d.review_policy = if denial {
                ReviewPolicy::PresumptionOfDenial
            } else {
                row.review_policy
            };
            d.cite(&row.cited.citations);
            d.low_confidence = low(row.cited.confidence);
            d.blocks_authorizations = pack_row_blocks(row);
            d.explanation = format!(
                "The {} {} is on the {list_name} as {} (since {}): {}{}",
                party.role,
                party.name,
                row.name,
                dates::format(v.from),
                row.cited.explanation,
                low_note(d.low_confidence)
            );
            if row.outcome == Outcome::Indeterminate {
                d.missing_facts.push(if row.list == "unverified_list" {
                    format!("UVL statement (§744.15) from {}", party.name)
                } else {
                    format!(
                        "review by a person of the {list_name} listing of {}",
                        row.name
                    )
                });
            }
            d.party_match = Some(facts);
            reqs.push(d);
        } else {
            // A near miss is never more severe than the listing itself would be.
            let outcome = Outcome::Indeterminate.min(row.outcome);
            let mut d = Determination::new(regime, outcome, &row.id, Source::EndUser);
            d.cite(&row.cited.citations);
            d.explanation = format!(
                "The {} {} resembles {} on the {list_name} (name similarity {:.2}); a person must confirm whether they are the same party.",
                party.role, party.name, row.name, hit.score
            );
            if outcome == Outcome::Indeterminate {
                d.missing_facts.push(format!(
                    "{}.name: confirm it is not {}",
                    party.field, row.name
                ));
            }
            d.party_match = Some(facts);
            reqs.push(d);
        }
    }
}

/// Pack rows whose listing takes license exceptions away.
fn pack_row_blocks(row: &PartyRow) -> bool {
    matches!(
        row.list.as_str(),
        "entity_list" | "unverified_list" | "denied_persons_list"
    )
}

/// Hits on the official lists, each with its list's effect on its dates.
fn listed_parties(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    ps: &PartyScreen,
    config: &EngineConfig,
    reqs: &mut Vec<Determination>,
) {
    let regime = p.regime.as_str();
    let on = s.as_of;
    let party = ps.party;
    let mut exact_hit = false;
    for (list, lh) in &ps.hits {
        let entry = lh.entry;
        let source = entry.list_source();
        let effect = ListEffect::of(source, entry.license_requirement.as_deref());
        if effect == ListEffect::Advisory {
            continue; // decision-level advisories, see `screening_advisories`
        }
        let facts = match_facts(party, lh);
        let rule_id = format!(
            "screening:{}:{}",
            source.code(),
            entry.id.as_deref().unwrap_or(&entry.name)
        );
        let base = |outcome: Outcome| {
            let mut d = Determination::new(regime, outcome, rule_id.clone(), Source::EndUser);
            d.party_match = Some(facts.clone());
            d.cite(&citations(list, entry));
            d
        };
        let who = format!(
            "The {} {} matches {} on the {} ({}, name similarity {:.2}{})",
            party.role,
            party.name,
            entry.name,
            source.label(),
            if lh.hit.exact {
                "same name"
            } else {
                "similar name"
            },
            lh.hit.score,
            if lh.hit.listed_name != entry.name {
                format!(", as `{}`", lh.hit.listed_name)
            } else {
                String::new()
            }
        );
        // The entry's own dates, or the list's date for an undated entry.
        match listing_in_force(entry.start_date, entry.end_date, list.list_date(), on) {
            InForce::No => continue,
            InForce::Yes => {}
            InForce::Unknown(list_date) => {
                if pack_decides(p, entry, config) {
                    continue;
                }
                let mut d = base(Outcome::Indeterminate);
                d.explanation = format!(
                    "{who}, listed as of {}, listing date unknown: whether it was listed on {} cannot be told from the list.",
                    dates::format(list_date),
                    dates::format(on)
                );
                d.missing_facts.push(format!(
                    "listing date of {} on the {}",
                    entry.name,
                    source.label()
                ));
                reqs.push(d);
                continue;
            }
        }
        if !lh.hit.exact {
            let mut d = base(Outcome::Indeterminate);
            d.explanation =
                format!("{who}: a person must confirm whether they are the same party.");
            d.missing_facts.push(format!(
                "{}.name: confirm it is not {} ({})",
                party.field,
                entry.name,
                source.code()
            ));
            reqs.push(d);
            continue;
        }
        exact_hit = true;
        let mut d = match &effect {
            ListEffect::Prohibited => {
                let mut d = base(Outcome::Prohibited);
                d.explanation = format!(
                    "{who}: no transaction in items subject to the EAR may take place with a {} party.",
                    source.label()
                );
                d
            }
            ListEffect::EntityList(scope) => {
                let entries: Vec<&str> = class.matches.iter().map(|m| m.id.as_str()).collect();
                let requirement = entry.license_requirement.as_deref().unwrap_or("");
                match scope.covers(&entries) {
                    Some(false) => continue,
                    Some(true) => {
                        let mut d = base(Outcome::LicenseRequired);
                        let policy = entry.license_policy.as_deref().unwrap_or("");
                        d.review_policy =
                            review_policy_of(policy).unwrap_or(ReviewPolicy::Unspecified);
                        let scope_text = match scope {
                            ElScope::AllItems => "all items subject to the EAR".to_string(),
                            ElScope::Eccns(e) => format!("items of {}", e.join(", ")),
                            ElScope::Unparsed(_) => String::new(),
                        };
                        d.explanation = format!(
                            "{who}: a license is required for {scope_text} (\"{requirement}\"), no license exception applies; review policy: \"{}\".",
                            if policy.is_empty() {
                                "not stated"
                            } else {
                                policy
                            }
                        );
                        d
                    }
                    None => {
                        let mut d = base(Outcome::Indeterminate);
                        d.explanation = format!(
                            "{who}; its license requirement reads \"{requirement}\", which the engine cannot apply to this item: a person must."
                        );
                        d.missing_facts.push(format!(
                            "whether the Entity List requirement of {} covers the item",
                            entry.name
                        ));
                        d
                    }
                }
            }
            ListEffect::MilitaryEndUser => {
                let mut d = base(Outcome::Indeterminate);
                d.explanation = format!(
                    "{who}: a license is required for items of Supp. 2 to part 744 (§744.21), and the packs do not say whether this item is one."
                );
                d.missing_facts
                    .push("whether the item is in Supp. 2 to part 744 (§744.21)".into());
                d
            }
            ListEffect::Unverified => {
                let mut d = base(Outcome::Indeterminate);
                d.explanation = format!(
                    "{who}: no license exception applies, and a UVL statement from the party is needed before export (§744.15)."
                );
                d.missing_facts
                    .push(format!("UVL statement (§744.15) from {}", party.name));
                d
            }
            ListEffect::Refer => {
                let mut d = base(Outcome::Indeterminate);
                d.explanation = format!(
                    "{who}: a defense-trade or nonproliferation measure; a person must review the transaction."
                );
                d.missing_facts.push(format!(
                    "review by a person of the {} listing",
                    source.code()
                ));
                d
            }
            ListEffect::Advisory => continue,
        };
        d.blocks_authorizations = effect.blocks_authorizations();
        reqs.push(d);
    }
    if ps.mixed_script && !exact_hit {
        let mut d = Determination::new(
            regime,
            Outcome::Indeterminate,
            "screening:mixed-script",
            Source::EndUser,
        );
        d.explanation = format!(
            "The {} name `{}` mixes writing systems (for example Latin and Cyrillic letters), a common way to disguise a listed name: a person must check it.",
            party.role, party.name
        );
        d.missing_facts
            .push(format!("{}.name: confirm the name as written", party.field));
        d.cite(&[
            "Unicode Technical Standard #39 (mixed-script and confusable detection)".to_string(),
        ]);
        d.party_match = Some(PartyMatchFacts {
            role: party.role.clone(),
            party_name: party.name.clone(),
            signals: vec!["mixed_script".into()],
            ..Default::default()
        });
        reqs.push(d);
    }
}

enum InForce {
    Yes,
    No,
    /// Undated entry and a shipment before the list's date.
    Unknown(Date),
}

/// Dated entries apply in `[start, end)`; an undated one from the list's
/// date (a list without a date is taken as current).
fn listing_in_force(
    start: Option<Date>,
    end: Option<Date>,
    list_date: Option<Date>,
    on: Date,
) -> InForce {
    if start.is_some() || end.is_some() {
        let started = start.is_none_or(|d| d <= on);
        let ended = end.is_some_and(|d| on >= d);
        return if started && !ended {
            InForce::Yes
        } else {
            InForce::No
        };
    }
    match list_date {
        Some(d) if on < d => InForce::Unknown(d),
        _ => InForce::Yes,
    }
}

/// Whether a dated pack row names the same party as an undated list entry,
/// so that the pack's dates decide for shipments before the list's date.
fn pack_decides(
    p: &RegimePolicy,
    entry: &exportctl_screening::ListedParty,
    config: &EngineConfig,
) -> bool {
    let names: Vec<&str> = std::iter::once(entry.name.as_str())
        .chain(entry.alt_names.iter().map(String::as_str))
        .take(8)
        .collect();
    p.party_index
        .screen(&names, config.party_match_threshold, 4)
        .iter()
        .any(|h| h.exact)
}

fn citations(list: &ScreeningList, entry: &exportctl_screening::ListedParty) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(fr) = entry
        .federal_register_notice
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        out.push(format!("{} ({})", fr, entry.list_source().label()));
    }
    out.push(format!(
        "{} {}, {}",
        list.short_label(),
        list.list_date().map(dates::format).unwrap_or_default(),
        entry.list_source().label()
    ));
    out
}

/// A match on a party a pack lists.
fn pack_match_facts(
    party: &PartyFacts,
    row: &PartyRow,
    regime: &str,
    hit: &exportctl_screening::NameHit,
) -> PartyMatchFacts {
    PartyMatchFacts {
        role: party.role.clone(),
        party_name: party.name.clone(),
        list: "PACK".into(),
        list_name: format!("{} ({regime} pack)", row.list.replace('_', " ")),
        entry_name: row.name.clone(),
        matched_name: hit.listed_name.clone(),
        score: hit.score,
        exact: hit.exact,
        federal_register_notice: row.cited.citations.join("; "),
        signals: hit.signals.clone(),
        entry_id: row.id.clone(),
        ..Default::default()
    }
}

pub(super) fn match_facts(party: &PartyFacts, lh: &ListHit) -> PartyMatchFacts {
    let entry = lh.entry;
    let source = entry.list_source();
    PartyMatchFacts {
        role: party.role.clone(),
        party_name: party.name.clone(),
        list: source.code().into(),
        list_name: source.label().into(),
        entry_name: entry.name.clone(),
        matched_name: lh.hit.listed_name.clone(),
        score: lh.hit.score,
        exact: lh.hit.exact,
        federal_register_notice: entry.federal_register_notice.clone().unwrap_or_default(),
        source_list_url: entry.source_list_url.clone().unwrap_or_default(),
        signals: lh.hit.signals.clone(),
        license_requirement: entry.license_requirement.clone().unwrap_or_default(),
        license_policy: entry.license_policy.clone().unwrap_or_default(),
        entry_id: entry.id.clone().unwrap_or_default(),
    }
}

/// One listed entry a party matched, with what a hit means on the date.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedMatch {
    pub facts: PartyMatchFacts,
    pub effect: Outcome,
    pub explanation: String,
}

/// What screening establishes about one party (ScreenParties).
#[derive(Debug, Clone, PartialEq)]
pub struct PartyReport {
    pub outcome: Outcome,
    pub explanation: String,
    pub matches: Vec<ReportedMatch>,
}

/// Screens one party against the loaded lists and every pack's parties, on
/// a date, without an item: each match with its list's effect (an Entity
/// List hit as the license requirement the entry states).
pub fn screen_party(
    policies: &crate::decide::policy::PolicySet,
    set: &ScreeningSet,
    party: &PartyFacts,
    on: Date,
    config: &EngineConfig,
    max_matches: usize,
) -> PartyReport {
    let names = party.names();
    let mut matches = Vec::new();
    for p in policies.regimes.values() {
        for hit in p
            .party_index
            .screen(&names, config.party_match_threshold, MAX_HITS)
        {
            let (row, v) = &p.parties[hit.owner];
            if !v.contains(on) {
                continue;
            }
            let effect = if hit.exact {
                row.outcome
            } else {
                Outcome::Indeterminate.min(row.outcome)
            };
            matches.push(ReportedMatch {
                explanation: format!(
                    "{} on the {} of the {} pack (since {}): {}",
                    row.name,
                    row.list.replace('_', " "),
                    p.regime,
                    dates::format(v.from),
                    row.cited.explanation
                ),
                facts: pack_match_facts(party, row, &p.regime, &hit),
                effect,
            });
        }
    }
    for list in &set.lists {
        for lh in list.screen(&names, config.party_match_threshold, MAX_HITS) {
            let entry = lh.entry;
            let source = entry.list_source();
            let listed = ListEffect::of(source, entry.license_requirement.as_deref());
            let (mut effect, what) = match &listed {
                ListEffect::Prohibited => (Outcome::Prohibited, "no transaction in items subject to the EAR".to_string()),
                ListEffect::EntityList(ElScope::AllItems) => (
                    Outcome::LicenseRequired,
                    "a license for all items subject to the EAR, no license exception".to_string(),
                ),
                ListEffect::EntityList(ElScope::Eccns(e)) => (
                    Outcome::LicenseRequired,
                    format!("a license for items of {}, no license exception", e.join(", ")),
                ),
                ListEffect::EntityList(ElScope::Unparsed(t)) => (
                    Outcome::Indeterminate,
                    format!("a license requirement the engine cannot read: \"{t}\""),
                ),
                ListEffect::MilitaryEndUser => (
                    Outcome::LicenseRequired,
                    "a license for items of Supp. 2 to part 744 (§744.21)".to_string(),
                ),
                ListEffect::Unverified => (
                    Outcome::Indeterminate,
                    "no license exception; a UVL statement is needed (§744.15)".to_string(),
                ),
                ListEffect::Refer => (
                    Outcome::Indeterminate,
                    "a defense-trade or nonproliferation measure: refer to a person".to_string(),
                ),
                ListEffect::Advisory => (
                    Outcome::NoLicenseRequired,
                    "a financial or investment measure: an advisory, not an export license requirement".to_string(),
                ),
            };
            let mut explanation = format!("{} on the {}: {what}.", entry.name, source.label());
            match listing_in_force(entry.start_date, entry.end_date, list.list_date(), on) {
                InForce::No => continue,
                InForce::Yes => {}
                InForce::Unknown(d) => {
                    effect = effect.min(Outcome::Indeterminate);
                    explanation.push_str(&format!(
                        " Listed as of {}, listing date unknown.",
                        dates::format(d)
                    ));
                }
            }
            if !lh.hit.exact {
                effect = effect.min(Outcome::Indeterminate);
                explanation.push_str(
                    " A similar name: a person must confirm whether it is the same party.",
                );
            }
            matches.push(ReportedMatch {
                facts: match_facts(party, &lh),
                effect,
                explanation,
            });
        }
    }
    matches.sort_by(|a, b| {
        b.facts
            .score
            .total_cmp(&a.facts.score)
            .then(b.effect.cmp(&a.effect))
    });
    matches.truncate(max_matches);
    let worst = matches
        .iter()
        .map(|m| m.effect)
        .fold(Outcome::NoLicenseRequired, Outcome::max);
    let pack_parties: usize = policies.regimes.values().map(|p| p.parties.len()).sum();
    let (outcome, explanation) = if !matches.is_empty() {
        (
            worst,
            format!(
                "{} match(es); the most severe effect decides.",
                matches.len()
            ),
        )
    } else if set.is_empty() {
        (
            Outcome::Indeterminate,
            format!(
                "No match among the {pack_parties} parties the packs list; no official screening list is loaded, so the party cannot be cleared."
            ),
        )
    } else if names.iter().any(|n| is_mixed_script(n)) {
        (
            Outcome::Indeterminate,
            "No match, but the name mixes writing systems (a common disguise): a person must check it.".into(),
        )
    } else {
        (
            Outcome::NoLicenseRequired,
            format!(
                "No match against {} list entries and the {pack_parties} parties the packs list.",
                set.entries()
            ),
        )
    };
    PartyReport {
        outcome,
        explanation,
        matches,
    }
}
