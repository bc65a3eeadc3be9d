//! Requirements from the destination: rules on every item, or on unlisted
//! items, to a destination (embargoes, destination-wide controls).

use super::{Determination, RegimeClassification, Shipment, Source, applies_to, low, low_note};
use crate::decide::policy::{Outcome, RegimePolicy};

pub(super) fn requirements(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    reqs: &mut Vec<Determination>,
) {
    let (regime, on) = (p.regime.as_str(), s.as_of);
    for (rule, v) in &p.rules {
        if !applies_to(rule.items, class, false) || !v.contains(on) {
            continue;
        }
        let Some(selected) = s.destined(p, &rule.destinations) else {
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
}
