//! Requirements from where a party is headquartered, wherever it is located:
//! advanced-computing items to a party headquartered in, or whose ultimate
//! parent is headquartered in, Macau or Country Group D:5 (EAR, from
//! 2023-11-17). The end user and the consignees are checked.

use super::{
    Determination, PartyFacts, RegimeClassification, Shipment, Source, low, low_note,
    matched_entries,
};
use crate::decide::policy::{DestinationSelector, Outcome, RegimePolicy};

/// The roles whose headquarters the rules look at, besides `end_user`.
const ROLES: &[&str] = &["end_user", "consignee"];

/// Pushes one requirement per party the rule names and one INDETERMINATE for
/// the headquarters the request does not state; a rule that checked every
/// party and named none leaves a note for the clearing explanation.
pub(super) fn requirements(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    reqs: &mut Vec<Determination>,
    notes: &mut Vec<String>,
) {
    let on = s.as_of;
    let parties: Vec<&PartyFacts> = std::iter::once(&s.end_user)
        .chain(
            s.parties
                .iter()
                .filter(|x| ROLES.contains(&x.role.as_str())),
        )
        .collect();
    for (rule, v) in &p.headquarters_rules {
        if !v.contains(on) {
            continue;
        }
        let entries = matched_entries(class, &rule.entries);
        if entries.is_empty() {
            continue;
        }
        let named = describe(&rule.headquarters);
        let mut missing = Vec::new();
        let mut checked = Vec::new();
        let mut required = false;
        for party in &parties {
            let facts = [
                (
                    "headquarters_country",
                    "is headquartered in",
                    &party.headquarters_country,
                ),
                (
                    "ultimate_parent_country",
                    "has its ultimate parent headquartered in",
                    &party.ultimate_parent_country,
                ),
            ];
            let mut hits = Vec::new();
            let mut low_selection = false;
            for (field, says, value) in facts {
                match value {
                    None => missing.push(format!("{}.{field}", party.field)),
                    Some(c) => {
                        if let Some(conf) = p.select(&rule.headquarters, c, on) {
                            low_selection |= conf.is_low();
                            hits.push(format!("{says} {c}"));
                        }
                    }
                }
            }
            if hits.is_empty() {
                checked.push(who(party));
                continue;
            }
            let mut d = Determination::new(&p.regime, rule.outcome, &rule.id, Source::EndUser);
            d.entry_ids = entries.clone();
            d.review_policy = rule.review_policy;
            d.cite(&rule.cited.citations);
            d.low_confidence = low(rule.cited.confidence) || low_selection;
            d.explanation = format!(
                "The {} {} ({named}): {}{}",
                who(party),
                hits.join(" and "),
                rule.cited.explanation,
                low_note(d.low_confidence)
            );
            reqs.push(d);
            required = true;
        }
        // A party the rule names needs no further facts about the others.
        if required {
            continue;
        }
        if !missing.is_empty() {
            let mut d =
                Determination::new(&p.regime, Outcome::Indeterminate, &rule.id, Source::EndUser);
            d.entry_ids = entries;
            d.cite(&rule.cited.citations);
            d.low_confidence = low(rule.cited.confidence);
            d.explanation = format!(
                "The items ({}) need a license for a party headquartered in, or whose ultimate parent is headquartered in, {named}, wherever the party is located; the request does not say where every end user and consignee and its ultimate parent are headquartered. {}",
                d.entry_ids.join(", "),
                rule.cited.explanation
            );
            d.missing_facts = missing;
            reqs.push(d);
        } else {
            notes.push(format!(
                "Headquarters checked ({}): the {} and the ultimate parents are headquartered outside {named}.",
                rule.id,
                checked.join(", the ")
            ));
        }
    }
}

fn who(party: &PartyFacts) -> String {
    let role = party.role.replace('_', " ");
    if party.name.trim().is_empty() {
        format!("{role} ({})", party.field)
    } else {
        format!("{role} {} ({})", party.name, party.field)
    }
}

/// `Macau (MO), Country Group D:5`-like text for the selector.
fn describe(sel: &DestinationSelector) -> String {
    sel.countries
        .iter()
        .cloned()
        .chain(sel.groups.iter().map(|g| format!("Country Group {g}")))
        .collect::<Vec<_>>()
        .join(", ")
}
