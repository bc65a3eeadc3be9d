//! Authorizations: the first bulk license, license exception or VEU whose
//! conditions hold and that the exporter holds (`held_authorizations`, or a
//! row `held_by_default`) turns a license requirement into AUTHORIZED; one
//! whose conditions hold but that the exporter does not hold leaves it
//! LICENSE_REQUIRED, naming it; a held one whose eligibility the pack cannot
//! tell makes it INDETERMINATE. A prohibition is never covered.

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
            && s.destined(p, &r.destinations).is_some()
            && entries
                .iter()
                .any(|m| r.entries.iter().any(|pat| pattern_matches(pat, &m.id)))
    });
    if let Some(selected) = s.destined(p, &a.destinations) {
        return match restriction {
            Some((r, _)) => Coverable::Restricted(r),
            None => Coverable::Yes(selected),
        };
    }
    match &a.excluded_destinations {
        Some(ex) if s.destined(p, ex).is_none() => Coverable::Unknown(format!(
            "whether {} is among the destinations of {} ({}) is not in the rule pack, whose list is incomplete",
            s.destination, a.id, a.code
        )),
        _ => Coverable::No,
    }
}

/// Applies the first held authorization that covers a license requirement.
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
    let mut available: Vec<&AuthorizationRow> = Vec::new();
    let mut unknown_unheld: Vec<(&AuthorizationRow, String)> = Vec::new();
    for (a, v) in &p.authorizations {
        let held = s.holds(&p.regime, &a.code);
        let usable = a.held_by_default || held.is_some();
        match authorization_applies(p, a, v, s, class, &det) {
            Coverable::Yes(selected) if usable => {
                let weak = low(a.cited.confidence) || selected.is_low();
                det.outcome = Outcome::Authorized;
                det.authorization = Some(a.code.clone());
                det.cite(&a.cited.citations);
                det.low_confidence |= weak;
                let reference = held
                    .and_then(|h| h.reference.as_deref())
                    .map(|r| format!(", the exporter's licence {r}"))
                    .unwrap_or_default();
                det.explanation = format!(
                    "{} Covered by {} ({}{reference}): {}{}",
                    det.explanation,
                    a.code,
                    a.id,
                    a.cited.explanation,
                    low_note(weak)
                );
                return det;
            }
            Coverable::Yes(_) => {
                if !available.iter().any(|x| x.code == a.code) {
                    available.push(a);
                }
            }
            Coverable::Unknown(why) if usable => unknown = Some((a, why)),
            Coverable::Unknown(why) => unknown_unheld.push((a, why)),
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
    for a in available {
        det.cite(&a.cited.citations);
        det.explanation = format!(
            "{} It would be covered by {} {} ({}) if the exporter holds it: {} The request does not say the exporter holds it (held_authorizations), so a license is required.",
            det.explanation, p.regime, a.code, a.id, a.cited.explanation
        );
    }
    for (a, why) in unknown_unheld {
        det.explanation = format!(
            "{} {} {} might cover it if the exporter held it, but {why}.",
            det.explanation, p.regime, a.code
        );
    }
    det
}
