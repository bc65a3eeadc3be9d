//! Requirements from the list: the entries an item matched, crossed with the
//! destination (Commerce Country Chart cells, the pack's rules on listed
//! entries), plus the check that no entry or reason falls through.

use super::{Determination, MatchedEntry, RegimeClassification, Shipment, Source, low, low_note};
use crate::decide::policy::{
    Applies, Coverage, DestinationSelector, EccnRow, Items, Outcome, RegimePolicy, pattern_matches,
    split_eccn,
};

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
        let outside = class
            .undetermined
            .iter()
            .any(|u| u.id == crate::classify::pack::OUTSIDE_SCOPE_ID);
        d.explanation = if outside {
            format!(
                "The item's kind is outside the scope of the bundled {regime} rule pack, so it cannot be called not listed; name its {regime} entries (pre-classified entries) to decide it."
            )
        } else {
            format!(
                "The item could be {} in {regime}, but the spec lacks {}.",
                d.entry_ids.join(", "),
                missing.join(", ")
            )
        };
        d.missing_facts = missing;
        reqs.push(d);
    }
}

/// List-based requirements of every matched entry. Returns the chart
/// columns found blank in a row the pack marks low-confidence: a clearance
/// resting on them says so.
pub(super) fn requirements(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    reqs: &mut Vec<Determination>,
) -> Vec<String> {
    let mut low_blanks = Vec::new();
    for m in &class.matches {
        entry_requirements(p, s, m, reqs, &mut low_blanks);
    }
    low_blanks
}

fn entry_requirements(
    p: &RegimePolicy,
    s: &Shipment,
    m: &MatchedEntry,
    reqs: &mut Vec<Determination>,
    low_blanks: &mut Vec<String>,
) {
    let mut out = Requirements {
        regime: &p.regime,
        m,
        reqs,
        low_blanks,
    };
    match p.eccn_row(&m.id, s.as_of) {
        // The control list states the entry: its controls decide, the
        // classifier's reasons and the pack's per-entry scopes do not.
        Some((row, _)) => {
            controls(p, s, m, row, &mut out);
            listed_rules(p, s, m, true, &mut out);
        }
        None => {
            for reason in m.reasons.iter().filter(|r| p.chart_reasons.contains(r)) {
                chart(p, s, reason, None, &[], &mut out);
            }
            listed_rules(p, s, m, false, &mut out);
        }
    }
}

/// The requirements one entry gives, merged by rule: a second entry or
/// reason under the same rule joins the first determination.
struct Requirements<'a> {
    regime: &'a str,
    m: &'a MatchedEntry,
    reqs: &'a mut Vec<Determination>,
    /// Chart columns cleared by a blank in a low-confidence row.
    low_blanks: &'a mut Vec<String>,
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

/// How the destination is named in explanations: `HK (treated as CN: …)`.
fn destination(p: &RegimePolicy, s: &Shipment) -> String {
    match p.treated_as(&s.destination, s.as_of) {
        Some(t) => format!(
            "{} (treated as {} from {}: {})",
            s.destination,
            t.as_country,
            t.cited.from,
            t.cited.citations.join("; ")
        ),
        None => s.destination.clone(),
    }
}

/// One Commerce Country Chart cell: reason column × destination. `unless`
/// is a condition of the entry that lifts the control (then an X is
/// INDETERMINATE); `cites` are the control's own citations.
fn chart(
    p: &RegimePolicy,
    s: &Shipment,
    column: &str,
    unless: Option<&str>,
    cites: &[String],
    out: &mut Requirements,
) {
    let row = p.chart_row(&s.destination, s.as_of);
    if let Some(row) = row
        && row.part_746
    {
        // No marks: the embargo decides, through a rule on all items.
        if embargo_rule(p, s) {
            return;
        }
    }
    let cell = row.filter(|r| !r.part_746).and_then(|r| r.cell(column));
    match (row, cell) {
        (Some(row), Some(true)) => {
            let outcome = match unless {
                Some(_) => Outcome::Indeterminate,
                None => Outcome::LicenseRequired,
            };
            out.push(format!("chart:{column}"), outcome, Some(column), &|d| {
                d.cite(&row.citations);
                d.cite(cites);
                cite_treated_as(p, s, d);
                d.low_confidence |= low(row.confidence);
                d.explanation = format!(
                    "The {} has an X for {column} and {}: a license is required for the listed entries{}{}.",
                    p.chart_name,
                    destination(p, s),
                    unless
                        .map(|u| format!(" unless {u}, which the request does not say"))
                        .unwrap_or_default(),
                    low_note(d.low_confidence)
                );
                if let Some(u) = unless {
                    d.missing_facts.push(format!("whether {u}"));
                }
            });
        }
        (Some(row), Some(false)) => {
            if low(row.confidence) && !out.low_blanks.iter().any(|c| c == column) {
                out.low_blanks.push(column.to_string());
            }
        }
        (row, _) => {
            out.push(
                format!("chart-gap:{column}"),
                Outcome::Indeterminate,
                Some(column),
                &|d| {
                    match row {
                        Some(row) => d.cite(&row.citations),
                        None => d.cite(std::slice::from_ref(&p.source)),
                    }
                    d.explanation = format!(
                        "The rule pack does not know the {} cell for {column} and {} on {}, so whether a license is required cannot be told.",
                        p.chart_name,
                        destination(p, s),
                        crate::dates::format(s.as_of)
                    );
                    d.missing_facts.push(format!(
                        "{} cell {}/{column}",
                        p.chart_name, s.destination
                    ));
                },
            );
        }
    }
}

/// The citation of a destination treated as another (Hong Kong as China).
fn cite_treated_as(p: &RegimePolicy, s: &Shipment, d: &mut Determination) {
    if let Some(t) = p.treated_as(&s.destination, s.as_of) {
        d.cite(&t.cited.citations);
    }
}

/// Whether a rule of the pack requires a license for every item to the
/// destination on the date (the part 746 embargoes).
fn embargo_rule(p: &RegimePolicy, s: &Shipment) -> bool {
    p.rules.iter().any(|(r, v)| {
        r.items == Items::All
            && v.contains(s.as_of)
            && r.outcome.severity() >= Outcome::LicenseRequired.severity()
            && s.destined(p, &r.destinations).is_some()
    })
}

/// Where a scope selects, in words: `worldwide`, `to MO, D:5`, `to AE, D:1, D:4, D:5 except A:5, A:6`.
fn scope_words(sel: &DestinationSelector) -> String {
    if sel.all {
        return "worldwide".into();
    }
    let mut s = format!(
        "to {}",
        sel.countries
            .iter()
            .chain(&sel.groups)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    let except: Vec<&String> = sel
        .except_countries
        .iter()
        .chain(&sel.except_groups)
        .collect();
    if !except.is_empty() {
        s.push_str(&format!(
            " except {}",
            except
                .iter()
                .map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    s
}

/// The entry's controls as the control list states them, for the item's
/// paragraph: chart columns, the entry's own destination scopes, sections the
/// pack does not evaluate, and controls the item may fall under if its
/// paragraph were more specific.
fn controls(
    p: &RegimePolicy,
    s: &Shipment,
    m: &MatchedEntry,
    row: &EccnRow,
    out: &mut Requirements,
) {
    let (_, paragraph) = split_eccn(&m.id);
    let on = s.as_of;
    let dest = destination(p, s);
    let mut maybe: Vec<String> = Vec::new();
    for c in &row.control {
        let applies = c.applies_to(paragraph);
        if applies == Applies::No {
            continue;
        }
        let paras = if c.paragraphs.is_empty() {
            "the entire entry".to_string()
        } else {
            c.paragraphs
                .iter()
                .map(|x| format!("{}.{x}", row.id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if applies == Applies::Maybe {
            // Counts only where the control would require a license here.
            let would = match (&c.column, &c.destinations) {
                (Some(col), _) => p
                    .chart_row(&s.destination, on)
                    .is_none_or(|r| r.part_746 || r.cell(col) != Some(false)),
                (None, Some(sel)) => s.destined(p, sel).is_some(),
                (None, None) => true,
            };
            if would {
                maybe.push(format!("{} ({paras})", c.reason));
            }
            continue;
        }
        if let Some(col) = &c.column {
            chart(p, s, col, c.unless.as_deref(), &row.cited.citations, out);
        } else if let Some(sel) = &c.destinations {
            let Some(selected) = s.destined(p, sel) else {
                continue;
            };
            let outcome = match c.unless {
                Some(_) => Outcome::Indeterminate,
                None => Outcome::LicenseRequired,
            };
            out.push(
                format!("ccl:{}:{}", row.id, c.reason),
                outcome,
                Some(&c.reason),
                &|d| {
                    d.cite(&row.cited.citations);
                    cite_treated_as(p, s, d);
                    if let Some(see) = &c.see {
                        d.cite(std::slice::from_ref(see));
                    }
                    d.low_confidence |= low(row.cited.confidence) || selected.is_low();
                    d.explanation = format!(
                        "ECCN {} controls {paras} for {} {}, which includes {dest}: a license is required{}{}.",
                        row.id,
                        c.reason,
                        scope_words(sel),
                        c.unless
                            .as_deref()
                            .map(|u| format!(" unless {u}, which the request does not say"))
                            .unwrap_or_default(),
                        low_note(d.low_confidence)
                    );
                    if let Some(u) = &c.unless {
                        d.missing_facts.push(format!("whether {u}"));
                    }
                },
            );
        } else if let Some(see) = &c.see {
            out.push(
                format!("ccl-see:{}:{}", row.id, c.reason),
                Outcome::Indeterminate,
                Some(&c.reason),
                &|d| {
                    d.cite(&row.cited.citations);
                    d.cite(std::slice::from_ref(see));
                    d.explanation = format!(
                        "ECCN {} controls {paras} for {} as {see} says; the rule pack does not evaluate that section, so whether a license is required to {dest} cannot be told.",
                        row.id, c.reason
                    );
                    d.missing_facts
                        .push(format!("{} {} requirement under {see}", row.id, c.reason));
                },
            );
        }
    }
    if !maybe.is_empty() {
        out.push(
            format!("ccl-paragraph:{}", m.id),
            Outcome::Indeterminate,
            None,
            &|d| {
                d.cite(&row.cited.citations);
                d.explanation = format!(
                    "{} names no paragraph that tells whether these controls of ECCN {} apply: {}; they would require a license to {dest}.",
                    m.id,
                    row.id,
                    maybe.join("; ")
                );
                d.missing_facts
                    .push(format!("paragraph of {} under ECCN {}", m.id, row.id));
            },
        );
    }
}

/// The pack's rules on listed entries, and the coverage check that no entry
/// or reason falls through.
fn listed_rules(
    p: &RegimePolicy,
    s: &Shipment,
    m: &MatchedEntry,
    ccl_states_entry: bool,
    out: &mut Requirements,
) {
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
            // Entry-specific scopes are the control list's when it states the entry.
            if ccl_states_entry || !m.reasons.contains(reason) {
                continue;
            }
            covered_reasons.push(reason);
        }
        covered_entry = true;
        let Some(selected) = s.destined(p, &rule.destinations) else {
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
    let gap = if ccl_states_entry {
        None
    } else if m.reasons.is_empty() {
        Some(format!(
            "the rule packs do not state its reasons for control on {}, so whether a license is required cannot be told",
            crate::dates::format(on)
        ))
    } else {
        match p.coverage {
            Coverage::Entry => (!covered_entry).then(|| {
                "no rule of the pack says which destinations need a license for it".to_string()
            }),
            Coverage::Reason => m
                .reasons
                .iter()
                .find(|r| !p.chart_reasons.contains(r) && !covered_reasons.contains(&r.as_str()))
                .map(|r| {
                    format!("its reason {r} has no destination scope in the pack on that date")
                }),
        }
    };
    if let Some(why) = gap {
        out.push(
            format!("coverage-gap:{}", m.id),
            Outcome::Indeterminate,
            None,
            &|d| {
                d.cite(std::slice::from_ref(&p.source));
                d.explanation = format!("{} is listed in {regime}, but {why}.", m.id);
                d.missing_facts
                    .push(format!("destination scope of {} in {regime}", m.id));
            },
        );
    }
}
