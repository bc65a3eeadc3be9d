//! Authorizations: the first bulk license, license exception or VEU whose
//! conditions hold turns a license requirement into AUTHORIZED; one whose
//! eligibility the pack cannot tell makes it INDETERMINATE.

use super::{Determination, MatchedEntry, RegimeClassification, Shipment, low, low_note};
use crate::decide::policy::{
    AuthorizationRow, Confidence, Outcome, RegimePolicy, RestrictionRow, Validity, pattern_matches,
};

enum Coverable<'a> {
    /// Covered; the confidence of the destination's selection.
    Yes(Confidence),
    No,
    Unknown(String),
    /// It would cover, but a restriction takes it away.
    Restricted(&'a RestrictionRow),
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
        let names = s.end_user.names();
        let granted = a.parties.iter().any(|party| party.is_one_of(&names));
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
pub(super) fn authorize(
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
