//! Requirements from the list: the entries an item matched, crossed with the
//! destination (Commerce Country Chart cells, the pack's rules on listed
//! entries), plus the check that no entry or reason falls through.

use super::{Determination, MatchedEntry, RegimeClassification, Shipment, Source, low, low_note};
use crate::decide::policy::{Coverage, Items, Outcome, RegimePolicy, pattern_matches};

/// Entries the item could be if the spec said more: INDETERMINATE naming the facts.
pub(super) fn undetermined(
    regime: &str,
    class: &RegimeClassification,
    reqs: &mut Vec<Determination>,
) {
    if !class.undetermined.is_empty() {
        let mut d = Determination::new(
            regime,
            Outcome::Indeterminate,
            "classification",
            Source::List,
        );
        d.entry_ids = class.undetermined.iter().map(|u| u.id.clone()).collect();
        for u in &class.undetermined {
            d.cite(&u.citations);
        }
        let mut missing: Vec<String> = class
            .undetermined
            .iter()
            .flat_map(|u| u.missing.iter().map(|m| format!("spec.{m}")))
            .collect();
        missing.sort();
        missing.dedup();
        d.explanation = format!(
            "The item could be {} in {regime}, but the spec lacks {}.",
            d.entry_ids.join(", "),
            missing.join(", ")
        );
        d.missing_facts = missing;
        reqs.push(d);
    }
}

/// List-based requirements of every matched entry.
pub(super) fn requirements(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    reqs: &mut Vec<Determination>,
) {
    for m in &class.matches {
        entry_requirements(p, s, m, reqs);
    }
}

fn entry_requirements(
    p: &RegimePolicy,
    s: &Shipment,
    m: &MatchedEntry,
    reqs: &mut Vec<Determination>,
) {
    let mut out = Requirements {
        regime: &p.regime,
        m,
        reqs,
    };
    chart(p, s, m, &mut out);
    listed_rules(p, s, m, &mut out);
}

/// The requirements one entry gives, merged by rule: a second entry or
/// reason under the same rule joins the first determination.
struct Requirements<'a> {
    regime: &'a str,
    m: &'a MatchedEntry,
    reqs: &'a mut Vec<Determination>,
}

impl Requirements<'_> {
    fn push(
        &mut self,
        rule_id: String,
        outcome: Outcome,
        reason: Option<&str>,
        f: &dyn Fn(&mut Determination),
    ) {
        let m = self.m;
        if let Some(r) = self
            .reqs
            .iter_mut()
            .find(|r| r.rule_id == rule_id && r.outcome == outcome)
        {
            if !r.entry_ids.contains(&m.id) {
                r.entry_ids.push(m.id.clone());
            }
            if let Some(reason) = reason
                && !r.reasons.iter().any(|x| x == reason)
            {
                r.reasons.push(reason.to_string());
            }
            r.cite(&m.citations);
            r.low_confidence |= m.low_confidence;
            return;
        }
        let mut d = Determination::new(self.regime, outcome, rule_id, Source::List);
        d.entry_ids.push(m.id.clone());
        if let Some(reason) = reason {
            d.reasons.push(reason.to_string());
        }
        d.cite(&m.citations);
        d.low_confidence = m.low_confidence;
        f(&mut d);
        self.reqs.push(d);
    }
}

/// Commerce Country Chart cells: reason × destination.
fn chart(p: &RegimePolicy, s: &Shipment, m: &MatchedEntry, out: &mut Requirements) {
    for reason in m.reasons.iter().filter(|r| p.chart_reasons.contains(r)) {
        let row = p
            .chart
            .iter()
            .find(|row| row.countries.iter().any(|c| c == &s.destination));
        let cell = row.map(|row| {
            if row.x.contains(reason) {
                Some(true)
            } else if row.blank.contains(reason) {
                Some(false)
            } else {
                None
            }
        });
        match (row, cell.flatten()) {
            (Some(row), Some(true)) => {
                out.push(
                    format!("chart:{reason}"),
                    Outcome::LicenseRequired,
                    Some(reason),
                    &|d| {
                        d.cite(&row.citations);
                        d.low_confidence |= low(row.confidence);
                        d.explanation = format!(
                            "The {} has an X for {reason} and {}: a license is required for the listed entries{}.",
                            p.chart_name,
                            s.destination,
                            low_note(d.low_confidence)
                        );
                    },
                );
            }
            (Some(_), Some(false)) => {}
            (row, _) => {
                out.push(
                    format!("chart-gap:{reason}"),
                    Outcome::Indeterminate,
                    Some(reason),
                    &|d| {
                        if let Some(row) = row {
                            d.cite(&row.citations);
                        }
                        d.explanation = format!(
                            "The rule pack does not know the {} cell for {reason} and {}, so whether a license is required cannot be told.",
                            p.chart_name,
                            s.destination
                        );
                        d.missing_facts.push(format!(
                            "{} cell {}/{reason}",
                            p.chart_name,
                            s.destination
                        ));
                    },
                );
            }
        }
    }
}

/// The pack's rules on listed entries, and the coverage check that no entry
/// or reason falls through.
fn listed_rules(p: &RegimePolicy, s: &Shipment, m: &MatchedEntry, out: &mut Requirements) {
    let (regime, on) = (p.regime.as_str(), s.as_of);
    let mut covered_reasons: Vec<&str> = Vec::new();
    let mut covered_entry = false;
    for (rule, v) in &p.rules {
        if rule.items != Items::Listed
            || !v.contains(on)
            || !rule.entries.iter().any(|pat| pattern_matches(pat, &m.id))
        {
            continue;
        }
        if let Some(reason) = &rule.reason {
            if !m.reasons.contains(reason) {
                continue;
            }
            covered_reasons.push(reason);
        }
        covered_entry = true;
        let Some(selected) = p.select(&rule.destinations, &s.destination, on) else {
            continue;
        };
        out.push(
            rule.id.clone(),
            rule.outcome,
            rule.reason.as_deref(),
            &|d| {
                d.review_policy = rule.review_policy;
                d.cite(&rule.cited.citations);
                d.low_confidence |= low(rule.cited.confidence) || selected.is_low();
                d.explanation = format!("{}{}", rule.cited.explanation, low_note(d.low_confidence));
                if let Some(a) = &rule.authorization {
                    d.authorization = Some(a.clone());
                }
            },
        );
    }
    let gap = match p.coverage {
        Coverage::Entry => (!covered_entry).then(|| {
            "no rule of the pack says which destinations need a license for it".to_string()
        }),
        Coverage::Reason => m
            .reasons
            .iter()
            .find(|r| !p.chart_reasons.contains(r) && !covered_reasons.contains(&r.as_str()))
            .map(|r| format!("its reason {r} has no destination scope in the pack on that date")),
    };
    if let Some(why) = gap {
        out.push(
            format!("coverage-gap:{}", m.id),
            Outcome::Indeterminate,
            None,
            &|d| {
                d.explanation = format!("{} is listed in {regime}, but {why}.", m.id);
                d.missing_facts
                    .push(format!("destination scope of {} in {regime}", m.id));
            },
        );
    }
}
