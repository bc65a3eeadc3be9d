//! Requirements from the end user: the parties the pack lists (Entity List,
//! Unverified List, …) screened by name and alias.

use super::{Determination, EngineConfig, RegimeClassification, Shipment, Source, low, low_note};
use crate::dates;
use crate::decide::parties::{self, PartyMatch};
use crate::decide::policy::{Outcome, RegimePolicy, ReviewPolicy, pattern_matches};

pub(super) fn requirements(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    config: &EngineConfig,
    reqs: &mut Vec<Determination>,
) {
    let (regime, on) = (p.regime.as_str(), s.as_of);
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
}
