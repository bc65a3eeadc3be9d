//! Requirements from the end use: advanced-node IC fabs (§744.23) and
//! purposes of concern (catch-all), with the fab test and the owner's review
//! policy.

use time::Date;

use super::{
    Determination, EndUseFacts, RegimeClassification, Shipment, Source, applies_to, low, low_note,
    matched_entries,
};
use crate::decide::policy::{AdvancedNodeTest, EndUseRow, Outcome, RegimePolicy, ReviewPolicy};

/// Pushes the end-use requirements; rules that looked and found nothing may
/// leave a note for the explanation of a clear line.
pub(super) fn requirements(
    p: &RegimePolicy,
    s: &Shipment,
    class: &RegimeClassification,
    reqs: &mut Vec<Determination>,
    notes: &mut Vec<String>,
) {
    let (regime, on) = (p.regime.as_str(), s.as_of);
    for (rule, v, redefined) in &p.end_uses {
        if !v.contains(on) || !applies_to(rule.items, class, true) {
            continue;
        }
        let entries = matched_entries(class, &rule.entries);
        if !rule.entries.is_empty() && entries.is_empty() {
            continue;
        }
        let Some(selected) = s.destined(p, &rule.destinations) else {
            continue;
        };
        if let Some(test) = &rule.advanced_node {
            if s.end_use.ic_production != Some(true) {
                continue;
            }
            match advanced_node(test, &s.end_use, on, *redefined) {
                Fab::NotAdvanced => {}
                Fab::Advanced(because) => {
                    let mut d = Determination::new(regime, rule.outcome, &rule.id, Source::EndUse);
                    d.cite(&rule.cited.citations);
                    d.low_confidence = low(rule.cited.confidence) || selected.is_low();
                    let (policy, owner_note) = owner_policy(p, rule, &s.end_use, on);
                    d.review_policy = policy;
                    d.explanation = format!(
                        "The items are for IC production at an advanced-node fab ({because}) in {}: {}{}{}",
                        s.destination,
                        rule.cited.explanation,
                        owner_note,
                        low_note(d.low_confidence)
                    );
                    reqs.push(d);
                }
                Fab::Unknown(missing) => {
                    let mut d = Determination::new(
                        regime,
                        Outcome::Indeterminate,
                        &rule.id,
                        Source::EndUse,
                    );
                    d.cite(&rule.cited.citations);
                    d.explanation = format!(
                        "The items are for IC production in {}, but the request does not say enough about what the fab makes to tell whether it is an advanced-node fab.",
                        s.destination
                    );
                    d.missing_facts = missing;
                    reqs.push(d);
                }
            }
        } else if let Some(purpose) = &s.end_use.purpose {
            if rule.purposes.contains(purpose) {
                let mut d = Determination::new(regime, rule.outcome, &rule.id, Source::EndUse);
                d.cite(&rule.cited.citations);
                d.entry_ids = entries;
                d.review_policy = rule.review_policy;
                d.low_confidence = low(rule.cited.confidence) || selected.is_low();
                d.explanation = format!(
                    "The end use is {purpose}: {}{}",
                    rule.cited.explanation,
                    low_note(d.low_confidence)
                );
                if rule.outcome == Outcome::Indeterminate {
                    d.missing_facts.push(format!("review under {}", rule.id));
                }
                reqs.push(d);
            } else if !rule.note_when_clear.is_empty() {
                notes.push(rule.note_when_clear.clone());
            }
        } else if !rule.note_when_clear.is_empty() {
            notes.push(rule.note_when_clear.clone());
        }
    }
}

enum Fab {
    Advanced(String),
    NotAdvanced,
    Unknown(Vec<String>),
}

/// The advanced-node fab test. Facts describe what the fab makes: once any is
/// given, the absent ones mean the fab does not make that kind of IC.
fn advanced_node(t: &AdvancedNodeTest, e: &EndUseFacts, on: Date, redefined: Option<Date>) -> Fab {
    let any_fact = e.fab_logic_node_nm.is_some()
        || e.fab_transistor_architecture.is_some()
        || e.fab_dram_half_pitch_nm.is_some()
        || e.fab_nand_layers.is_some()
        || e.fab_dram_cell_area_um2.is_some()
        || e.fab_dram_density_gb_mm2.is_some();
    if !any_fact {
        return Fab::Unknown(
            [
                "end_use.fab_logic_node_nm",
                "end_use.fab_transistor_architecture",
                "end_use.fab_dram_half_pitch_nm",
                "end_use.fab_nand_layers",
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    if let Some(n) = e.fab_logic_node_nm
        && n <= t.logic_node_nm_at_most
    {
        return Fab::Advanced(format!("logic at {n} nm <= {} nm", t.logic_node_nm_at_most));
    }
    if let Some(a) = &e.fab_transistor_architecture
        && t.non_planar.contains(a)
    {
        return Fab::Advanced(format!("non-planar {a} logic"));
    }
    if let Some(l) = e.fab_nand_layers
        && l >= t.nand_layers_at_least
    {
        return Fab::Advanced(format!(
            "NAND with {l} >= {} layers",
            t.nand_layers_at_least
        ));
    }
    let dram_by_cell = redefined.is_some_and(|d| on >= d);
    if !dram_by_cell {
        if let Some(hp) = e.fab_dram_half_pitch_nm
            && hp <= t.dram_half_pitch_nm_at_most
        {
            return Fab::Advanced(format!(
                "DRAM at {hp} nm half-pitch <= {} nm",
                t.dram_half_pitch_nm_at_most
            ));
        }
    } else {
        if let (Some(a), Some(limit)) = (e.fab_dram_cell_area_um2, t.dram_cell_area_um2_below)
            && a < limit
        {
            return Fab::Advanced(format!("DRAM cell area {a} um2 < {limit} um2"));
        }
        if let (Some(d), Some(limit)) = (e.fab_dram_density_gb_mm2, t.dram_density_gb_mm2_above)
            && d > limit
        {
            return Fab::Advanced(format!("DRAM density {d} Gb/mm2 > {limit} Gb/mm2"));
        }
    }
    // Nothing made it advanced. For each kind of IC the fab makes, every test of
    // that kind needs its fact before the fab can be cleared.
    let mut missing = Vec::new();
    let mut need = |absent: bool, fact: &str| {
        if absent {
            missing.push(format!("end_use.{fact}"));
        }
    };
    if e.fab_logic_node_nm.is_some() || e.fab_transistor_architecture.is_some() {
        need(e.fab_logic_node_nm.is_none(), "fab_logic_node_nm");
        need(
            e.fab_transistor_architecture.is_none(),
            "fab_transistor_architecture",
        );
    }
    let makes_dram = e.fab_dram_half_pitch_nm.is_some()
        || e.fab_dram_cell_area_um2.is_some()
        || e.fab_dram_density_gb_mm2.is_some();
    if makes_dram && dram_by_cell {
        need(e.fab_dram_cell_area_um2.is_none(), "fab_dram_cell_area_um2");
        need(
            e.fab_dram_density_gb_mm2.is_none(),
            "fab_dram_density_gb_mm2",
        );
    } else if makes_dram {
        need(e.fab_dram_half_pitch_nm.is_none(), "fab_dram_half_pitch_nm");
    }
    if missing.is_empty() {
        Fab::NotAdvanced
    } else {
        Fab::Unknown(missing)
    }
}

fn owner_policy(
    p: &RegimePolicy,
    rule: &EndUseRow,
    e: &EndUseFacts,
    on: Date,
) -> (ReviewPolicy, String) {
    let Some(owner) = &e.fab_owner_headquarters else {
        return (ReviewPolicy::Unspecified, " The review policy depends on where the fab's owner is headquartered (end_use.fab_owner_headquarters), which the request does not say.".into());
    };
    let groups = p.groups_of(owner, on);
    for op in &rule.owner_policies {
        if op.owner_countries.iter().any(|c| c == owner)
            || op.owner_groups.iter().any(|g| groups.contains(&g.as_str()))
        {
            return (
                op.review_policy,
                format!(" The owner is headquartered in {owner}."),
            );
        }
    }
    (
        ReviewPolicy::Unspecified,
        format!(" The rule pack states no review policy for an owner headquartered in {owner}."),
    )
}
