//! The request mix, built from the acceptance scenario corpus
//! (tests/corpus/scenarios.yaml): real shipments and the specs in them.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use exportctl_proto::classifier::{self as cpb, ItemKind};
use exportctl_proto::licensing as pb;
use prost::Message;
use serde::Deserialize;
use serde_norway::Value;

const SCENARIOS: &str = include_str!("../../tests/corpus/scenarios.yaml");

#[derive(Debug, Deserialize)]
struct Scenario {
    id: String,
    date: String,
    export_country: String,
    destination_country: String,
    end_user: PartyRow,
    #[serde(default)]
    end_use: BTreeMap<String, Value>,
    item: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct PartyRow {
    name: String,
    country: String,
}

/// What the workloads send.
pub struct Mix {
    /// Unary Classify requests (and the ClassifyStream items), cycled through.
    pub classify: Vec<cpb::ClassifyRequest>,
    /// Decide requests; the load tool gives each call a unique request id.
    pub decide: Vec<pb::DecideRequest>,
}

impl Mix {
    /// Mean encoded size of a Classify request: the Echo payload size.
    pub fn mean_classify_bytes(&self) -> usize {
        let total: usize = self.classify.iter().map(Message::encoded_len).sum();
        total / self.classify.len().max(1)
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn num(field: &str, v: &Value) -> anyhow::Result<f64> {
    v.as_f64()
        .with_context(|| format!("`{field}` is not a number: {v:?}"))
}

fn spec(id: &str, item: &BTreeMap<String, Value>) -> anyhow::Result<cpb::ProductSpec> {
    let mut s = cpb::ProductSpec {
        sku: format!("BENCH-{id}"),
        ..Default::default()
    };
    for (k, v) in item {
        let n = || num(k, v);
        match k.as_str() {
            "origin_country" => {}
            "kind" => {
                s.kind = ItemKind::from_str_name(&format!("ITEM_KIND_{}", text(v)))
                    .with_context(|| format!("scenario {id}: unknown kind {v:?}"))?
                    as i32
            }
            "material" => s.material = text(v),
            "equipment_function" => s.equipment_function = text(v),
            "transistor_architecture" => s.transistor_architecture = text(v),
            "resist_tone" => s.resist_tone = text(v),
            "memory_type" => s.memory_type = text(v),
            "manufacturer" => s.manufacturer = text(v),
            "model" => s.model = text(v),
            "description" => s.description = text(v),
            "process_node_nm" => s.process_node_nm = Some(n()?),
            "dram_half_pitch_nm" => s.dram_half_pitch_nm = Some(n()?),
            "memory_layers" => s.memory_layers = Some(n()? as u32),
            "wavelength_nm" => s.wavelength_nm = Some(n()?),
            "concentration_percent" => s.concentration_percent = Some(n()?),
            "fluorine_content_percent" => s.fluorine_content_percent = Some(n()?),
            "tpp" => s.tpp = Some(n()?),
            "performance_density" => s.performance_density = Some(n()?),
            "transfer_rate_gbps" => s.transfer_rate_gbps = Some(n()?),
            "bandwidth_density_gbps_mm2" => s.bandwidth_density_gbps_mm2 = Some(n()?),
            "dedicated_chuck_overlay_nm" => s.dedicated_chuck_overlay_nm = Some(n()?),
            "etch_selectivity" => s.etch_selectivity = Some(n()?),
            "deposition_temperature_c" => s.deposition_temperature_c = Some(n()?),
            "numerical_aperture" => s.numerical_aperture = Some(n()?),
            other => eprintln!("warning: scenario {id}: item field `{other}` is not sent"),
        }
    }
    Ok(s)
}

fn end_use(id: &str, facts: &BTreeMap<String, Value>) -> anyhow::Result<pb::EndUse> {
    let mut e = pb::EndUse::default();
    for (k, v) in facts {
        let n = || num(k, v);
        match k.as_str() {
            "purpose" => e.purpose = text(v),
            "ic_production" => e.ic_production = v.as_bool(),
            "critical_infrastructure_operator" => e.critical_infrastructure_operator = v.as_bool(),
            "fab_logic_node_nm" => e.fab_logic_node_nm = Some(n()?),
            "fab_transistor_architecture" => e.fab_transistor_architecture = text(v),
            "fab_dram_half_pitch_nm" => e.fab_dram_half_pitch_nm = Some(n()?),
            "fab_nand_layers" => e.fab_nand_layers = Some(n()? as u32),
            "fab_owner_headquarters" => e.fab_owner_headquarters = text(v),
            "fab_dram_cell_area_um2" => e.fab_dram_cell_area_um2 = Some(n()?),
            "fab_dram_density_gb_mm2" => e.fab_dram_density_gb_mm2 = Some(n()?),
            other => eprintln!("warning: scenario {id}: end_use field `{other}` is not sent"),
        }
    }
    Ok(e)
}

/// The mix: every scenario's item classified in all regimes as of the
/// shipment date and as of today (a catalogue lookup), and every scenario as a
/// one-line Decide.
pub fn load() -> anyhow::Result<Mix> {
    let scenarios: Vec<Scenario> =
        serde_norway::from_str(SCENARIOS).context("parsing tests/corpus/scenarios.yaml")?;
    if scenarios.is_empty() {
        bail!("the scenario corpus is empty");
    }
    let mut classify = Vec::new();
    let mut decide = Vec::new();
    for s in &scenarios {
        let spec = spec(&s.id, &s.item)?;
        classify.push(cpb::ClassifyRequest {
            spec: Some(spec.clone()),
            as_of: s.date.clone(),
            regimes: Vec::new(),
        });
        classify.push(cpb::ClassifyRequest {
            spec: Some(spec.clone()),
            as_of: String::new(),
            regimes: Vec::new(),
        });
        decide.push(pb::DecideRequest {
            request_id: String::new(),
            export_country: s.export_country.clone(),
            destination_country: s.destination_country.clone(),
            end_user: Some(pb::Party {
                name: s.end_user.name.clone(),
                country: s.end_user.country.clone(),
                ..Default::default()
            }),
            end_use: Some(end_use(&s.id, &s.end_use)?),
            lines: vec![pb::LineItem {
                line_id: "10".into(),
                spec: Some(spec),
                origin_country: s.item.get("origin_country").map(text).unwrap_or_default(),
                quantity: 1.0,
                ..Default::default()
            }],
            as_of: s.date.clone(),
        });
    }
    Ok(Mix { classify, decide })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_makes_a_mix() {
        let mix = load().unwrap();
        assert!(mix.classify.len() >= 40);
        assert_eq!(mix.classify.len(), 2 * mix.decide.len());
        assert!(mix.mean_classify_bytes() > 10);
        assert!(
            mix.decide
                .iter()
                .all(|d| !d.lines[0].origin_country.is_empty())
        );
    }
}
