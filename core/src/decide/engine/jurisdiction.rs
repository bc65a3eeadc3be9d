//! Whether a foreign-produced item is subject to the regime at all (US: 15 CFR
//! 734.3, the de minimis levels of 734.4, the foreign direct product rules of
//! 734.9). Asked only for a line produced outside the regime's home and
//! exported from outside it, and only when something would apply if it were.

use super::end_user::PartyScreen;
use super::{Determination, LineFacts, RegimeClassification, Shipment, Source, low, low_note};
use crate::dates;
use crate::decide::policy::{Outcome, RegimePolicy, pattern_matches};

/// The facts of the line that decide jurisdiction, as the request names them.
pub const FACTS: [&str; 4] = [
    "us_content_percent",
    "us_controlled_content_percent",
    "produced_with_us_technology",
    "produced_with_us_equipment",
];

/// What the rules say of the line.
enum Verdict {
    /// Subject, by these rules (why, citations, low confidence).
    Subject(Vec<String>, Vec<String>, bool),
    /// Not subject: every rule that could reach it was checked.
    NotSubject(Vec<String>, Vec<String>, bool),
    /// The facts that would tell are missing.
    Unknown(Vec<String>, Vec<String>),
}

/// Whether the regime asks the question for this line.
pub(super) fn applies(p: &RegimePolicy, s: &Shipment, line: &LineFacts) -> bool {
    (!p.de_minimis.is_empty() || !p.fdp.is_empty())
        && !p.is_home(&line.origin_country)
        && !p.is_home(&s.export_country)
}

/// The FDP paragraphs a listed party's entry names in its license
/// requirement (`see §§ 734.9(e)1 and 744.11` → `734.9(e)(1)`).
pub fn fdp_paragraphs(license_requirement: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = license_requirement;
    while let Some(i) = rest.find("734.9(") {
        let tail = &rest[i + 6..];
        let letter: String = tail
            .chars()
            .take_while(|c| c.is_ascii_lowercase())
            .collect();
        let after = &tail[letter.len()..];
        let after = after.strip_prefix(')').unwrap_or(after);
        // `(2)` or a footnote digit written after the paragraph (`(e)1`).
        let digits: String = after
            .trim_start_matches('(')
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let p = match (letter.as_str(), digits.as_str()) {
            ("e", d) if matches!(d, "1" | "2" | "3") => format!("734.9(e)({d})"),
            (l, _) if !l.is_empty() => format!("734.9({l})"),
            _ => String::new(),
        };
        if !p.is_empty() && !out.contains(&p) {
            out.push(p);
        }
        rest = tail;
    }
    out
}

/// A party paragraph the pack names matches one a listing states (a bare
/// `734.9(e)` listing counts for each of its subparagraphs).
fn paragraph_matches(rule: &str, listed: &str) -> bool {
    rule == listed
        || rule
            .strip_prefix(listed)
            .is_some_and(|rest| rest.starts_with('('))
}

fn evaluate(
    p: &RegimePolicy,
    s: &Shipment,
    line: &LineFacts,
    class: &RegimeClassification,
    screened: &[PartyScreen],
) -> Verdict {
    let on = s.as_of;
    let f = &line.foreign;
    let listed: Vec<String> = screened
        .iter()
        .flat_map(|ps| ps.hits.iter())
        .filter(|(_, h)| h.hit.exact)
        .flat_map(|(_, h)| {
            fdp_paragraphs(h.entry.license_requirement.as_deref().unwrap_or_default())
        })
        .collect();
    let (mut subject, mut clear, mut missing, mut cites) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut low_conf = false;
    let matches_entries = |patterns: &[String]| {
        patterns.is_empty()
            || class
                .matches
                .iter()
                .any(|m| patterns.iter().any(|pat| pattern_matches(pat, &m.id)))
    };
    for (r, v) in &p.fdp {
        if !v.contains(on)
            || !matches_entries(&r.entries)
            || r.destinations
                .as_ref()
                .is_some_and(|sel| s.destined(p, sel).is_none())
            || (!r.party_paragraphs.is_empty()
                && !r
                    .party_paragraphs
                    .iter()
                    .any(|rp| listed.iter().any(|l| paragraph_matches(rp, l))))
        {
            continue;
        }
        let produced = match (f.produced_with_us_technology, f.produced_with_us_equipment) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        };
        cites.extend(r.cited.citations.iter().cloned());
        low_conf |= low(r.cited.confidence);
        match produced {
            Some(true) => subject.push(format!(
                "the foreign direct product rule {} reaches it ({})",
                r.id, r.cited.explanation
            )),
            Some(false) => clear.push(format!(
                "{} does not: the item is not made with US technology or equipment",
                r.id
            )),
            None => {
                for fact in [FACTS[2], FACTS[3]] {
                    if !missing.contains(&fact.to_string()) {
                        missing.push(fact.to_string());
                    }
                }
            }
        }
    }
    // The lowest de minimis level in force for the destination and the item.
    let level = p
        .de_minimis
        .iter()
        .filter(|(r, v)| {
            v.contains(on)
                && matches_entries(&r.entries)
                && s.destined(p, &r.destinations).is_some()
        })
        .min_by(|a, b| a.0.threshold_percent.total_cmp(&b.0.threshold_percent));
    if let Some((r, _)) = level {
        let t = r.threshold_percent;
        cites.extend(r.cited.citations.iter().cloned());
        low_conf |= low(r.cited.confidence);
        match (f.us_controlled_content_percent, f.us_content_percent) {
            (Some(c), _) if c > t => subject.push(format!(
                "its controlled US-origin content ({c} %) exceeds the de minimis level of {t} % ({})",
                r.id
            )),
            (Some(c), _) => clear.push(format!(
                "its controlled US-origin content ({c} %) does not exceed the de minimis level of {t} % ({})",
                r.id
            )),
            (None, Some(all)) if all <= t => clear.push(format!(
                "its US-origin content ({all} %) does not exceed the de minimis level of {t} % ({})",
                r.id
            )),
            (None, all) => {
                missing.push(FACTS[1].to_string());
                if all.is_none() {
                    missing.push(FACTS[0].to_string());
                }
            }
        }
    } else if subject.is_empty() {
        missing.push(format!(
            "a de minimis level of {} for {}",
            p.regime, s.destination
        ));
    }
    if !subject.is_empty() {
        Verdict::Subject(subject, cites, low_conf)
    } else if !missing.is_empty() {
        missing.sort();
        missing.dedup();
        Verdict::Unknown(missing, cites)
    } else {
        Verdict::NotSubject(clear, cites, low_conf)
    }
}

/// Decides the line's jurisdiction given the requirements that would apply
/// if the item were subject: they stand (subject), give way to one
/// NO_LICENSE_REQUIRED (not subject), or to one INDETERMINATE naming the
/// missing facts.
pub(super) fn decide(
    p: &RegimePolicy,
    s: &Shipment,
    line: &LineFacts,
    class: &RegimeClassification,
    screened: &[PartyScreen],
    reqs: Vec<Determination>,
) -> Vec<Determination> {
    let regime = p.regime.as_str();
    let would: Vec<String> = reqs
        .iter()
        .map(|d| format!("{} ({:?})", d.rule_id, d.outcome))
        .collect();
    let foreign = format!(
        "The item is produced in {} and exported from {}",
        line.origin_country, s.export_country
    );
    match evaluate(p, s, line, class, screened) {
        Verdict::Subject(why, cites, low_conf) => reqs
            .into_iter()
            .map(|mut d| {
                d.explanation = format!(
                    "{} {foreign}: it is subject to {regime} because {}{}.",
                    d.explanation,
                    why.join("; "),
                    low_note(low_conf)
                );
                d.cite(&cites);
                d.low_confidence |= low_conf;
                d
            })
            .collect(),
        Verdict::NotSubject(why, cites, low_conf) => {
            let mut d = Determination::new(
                regime,
                Outcome::NoLicenseRequired,
                "not-subject",
                Source::List,
            );
            d.explanation = format!(
                "{foreign}: it is not subject to {regime} on {} because {}. What would apply if it were ({}) does not.{}",
                dates::format(s.as_of),
                why.join("; "),
                would.join(", "),
                low_note(low_conf)
            );
            d.cite(&cites);
            d.low_confidence = low_conf;
            vec![d]
        }
        Verdict::Unknown(missing, cites) => {
            let mut d =
                Determination::new(regime, Outcome::Indeterminate, "jurisdiction", Source::List);
            d.explanation = format!(
                "{foreign}: whether it is subject to {regime} (de minimis, foreign direct product rules) was not evaluated, because the request does not give {}. If it is, these would apply: {}.",
                missing.join(", "),
                would.join(", ")
            );
            d.cite(&cites);
            d.missing_facts = missing;
            vec![d]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_listing_paragraph_counts_for_each_subparagraph() {
        assert!(paragraph_matches("734.9(e)(1)", "734.9(e)(1)"));
        assert!(paragraph_matches("734.9(e)(1)", "734.9(e)"));
        assert!(paragraph_matches("734.9(e)(3)", "734.9(e)"));
        assert!(!paragraph_matches("734.9(e)(1)", "734.9(e)(2)"));
        assert!(!paragraph_matches("734.9(e)(1)", "734.9(g)"));
        assert!(!paragraph_matches("734.9(g)", "734.9(e)"));
    }
}
