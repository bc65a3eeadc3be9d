//! The acceptance scenario corpus (tests/corpus/scenarios.yaml): its one
//! parser, used by the end-to-end scenario test and by the load tool
//! (`exportctl-bench`) for its request mix.

use std::collections::BTreeMap;

use exportctl_proto::classifier::{self as cpb, ItemKind};
use exportctl_proto::licensing as pb;
use serde::Deserialize;
use serde_norway::Value;

/// The corpus, as committed.
pub const SCENARIOS_YAML: &str = include_str!("../corpus/scenarios.yaml");

/// Acceptance shipments of the project's own research, in the same layout,
/// by file: the US tables, ECCN lines and foreign-produced items; Japan's and
/// the EU's authorisations; China's and Korea's lists; sanctions overlays.
pub const RESEARCH: &[(&str, &str)] = &[
    (
        "us-research.yaml",
        include_str!("../corpus/us-research.yaml"),
    ),
    (
        "research-jp-eu.yaml",
        include_str!("../corpus/research-jp-eu.yaml"),
    ),
    (
        "research-cn-kr.yaml",
        include_str!("../corpus/research-cn-kr.yaml"),
    ),
    // Sanctions overlays (Russia, Belarus, the occupied regions of Ukraine)
    // and authorizations that count only when held.
    (
        "research-sanctions.yaml",
        include_str!("../corpus/research-sanctions.yaml"),
    ),
];

/// One shipment and its expected answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    pub id: String,
    pub date: String,
    pub export_country: String,
    pub destination_country: String,
    /// ISO 3166-2 subdivision of the destination (`UA-43`), optional.
    #[serde(default)]
    pub destination_subdivision: String,
    /// Authorizations the exporter holds, as `"REGIME CODE"`
    /// (`"JP-FEFTA general_bulk"`), besides the one `expect.authorization`
    /// names.
    #[serde(default)]
    pub held_authorizations: Vec<String>,
    pub end_user: PartyRow,
    #[serde(default)]
    pub end_use: BTreeMap<String, Value>,
    /// The ProductSpec fields, plus `origin_country` for the line.
    pub item: BTreeMap<String, Value>,
    /// Other LineItem facts: `entries` (`"US-EAR 5A992.c"`), the US content
    /// of a foreign-produced item.
    #[serde(default)]
    pub line: BTreeMap<String, Value>,
    pub expect: Expect,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PartyRow {
    pub name: String,
    pub country: String,
    #[serde(default)]
    pub headquarters_country: String,
    #[serde(default)]
    pub ultimate_parent_country: String,
}

/// What the decision must say about one regime.
#[derive(Debug, Clone, Deserialize)]
pub struct Expect {
    pub regime: String,
    pub entries: Option<Vec<String>>,
    pub outcome: String,
    pub authorization: Option<String>,
    pub review_policy: Option<String>,
    pub advisory: Option<String>,
    /// A rule id one of the regime's determinations must carry (the ban or
    /// region rule that decided it).
    #[serde(default)]
    pub rule: Option<String>,
}

/// Every scenario of the committed corpus.
pub fn load() -> Result<Vec<Scenario>, String> {
    serde_norway::from_str(SCENARIOS_YAML)
        .map_err(|e| format!("parsing tests/corpus/scenarios.yaml: {e}"))
}

/// The project's own acceptance shipments, every research file.
pub fn load_research() -> Result<Vec<Scenario>, String> {
    let mut all = Vec::new();
    for (file, text) in RESEARCH {
        let more: Vec<Scenario> = serde_norway::from_str(text)
            .map_err(|e| format!("parsing tests/corpus/{file}: {e}"))?;
        all.extend(more);
    }
    Ok(all)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_norway::to_string(other)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    }
}

fn num(id: &str, field: &str, v: &Value) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("scenario {id}: `{field}` is not a number: {v:?}"))
}

impl Scenario {
    /// The item as a ProductSpec (no SKU). An item field the spec has no
    /// place for is an error, so that no fact of the corpus is dropped.
    pub fn spec(&self) -> Result<cpb::ProductSpec, String> {
        let id = &self.id;
        let mut s = cpb::ProductSpec::default();
        for (k, v) in &self.item {
            let n = || num(id, k, v);
            match k.as_str() {
                "origin_country" => {}
                "kind" => {
                    s.kind = ItemKind::from_str_name(&format!("ITEM_KIND_{}", text(v)))
                        .ok_or_else(|| format!("scenario {id}: unknown kind {v:?}"))?
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
                other => return Err(format!("scenario {id}: item field `{other}` is not mapped")),
            }
        }
        Ok(s)
    }

    /// The end-use facts; an unknown field is an error.
    pub fn end_use(&self) -> Result<pb::EndUse, String> {
        let id = &self.id;
        let mut e = pb::EndUse::default();
        for (k, v) in &self.end_use {
            let n = || num(id, k, v);
            match k.as_str() {
                "purpose" => e.purpose = text(v),
                "ic_production" => e.ic_production = v.as_bool(),
                "critical_infrastructure_operator" => {
                    e.critical_infrastructure_operator = v.as_bool()
                }
                "fab_logic_node_nm" => e.fab_logic_node_nm = Some(n()?),
                "fab_transistor_architecture" => e.fab_transistor_architecture = text(v),
                "fab_dram_half_pitch_nm" => e.fab_dram_half_pitch_nm = Some(n()?),
                "fab_nand_layers" => e.fab_nand_layers = Some(n()? as u32),
                "fab_owner_headquarters" => e.fab_owner_headquarters = text(v),
                "fab_dram_cell_area_um2" => e.fab_dram_cell_area_um2 = Some(n()?),
                "fab_dram_density_gb_mm2" => e.fab_dram_density_gb_mm2 = Some(n()?),
                other => {
                    return Err(format!(
                        "scenario {id}: end_use field `{other}` is not mapped"
                    ));
                }
            }
        }
        Ok(e)
    }

    /// The shipment as a one-line Decide request (line "10", quantity 1, as
    /// of the shipment date) carrying `spec`; no request id.
    pub fn decide_request(&self, spec: cpb::ProductSpec) -> Result<pb::DecideRequest, String> {
        let mut req = self.base_request(spec)?;
        let id = &self.id;
        let line = &mut req.lines[0];
        for (k, v) in &self.line {
            let n = || num(id, k, v);
            let b = || {
                v.as_bool()
                    .ok_or_else(|| format!("scenario {id}: `{k}` is not true or false"))
            };
            match k.as_str() {
                "entries" => {
                    for e in v.as_sequence().into_iter().flatten() {
                        let e = text(e);
                        let (regime, entry_id) = e.split_once(' ').ok_or_else(|| {
                            format!("scenario {id}: entry `{e}` is not `REGIME ID`")
                        })?;
                        line.entries.push(pb::PreClassifiedEntry {
                            regime: regime.into(),
                            entry_id: entry_id.into(),
                        });
                    }
                    // Entries alone: the item has no spec of its own.
                    if !self.item.contains_key("kind") {
                        line.spec = None;
                    }
                }
                "us_content_percent" => line.us_content_percent = Some(n()?),
                "us_controlled_content_percent" => line.us_controlled_content_percent = Some(n()?),
                "produced_with_us_technology" => line.produced_with_us_technology = Some(b()?),
                "produced_with_us_equipment" => line.produced_with_us_equipment = Some(b()?),
                other => return Err(format!("scenario {id}: line field `{other}` is not mapped")),
            }
        }
        Ok(req)
    }

    /// The authorizations the exporter holds: those the scenario lists, plus
    /// the one it expects. The acceptance corpus assumes the exporter holds
    /// the authorization a scenario expects to cover it (a bulk license, a
    /// comprehensive license, a VEU): an authorization counts only when held.
    pub fn held_authorizations(&self) -> Result<Vec<pb::HeldAuthorization>, String> {
        let mut held = Vec::new();
        for h in &self.held_authorizations {
            let (regime, code) = h.split_once(' ').ok_or_else(|| {
                format!(
                    "scenario {}: held authorization `{h}` is not `REGIME CODE`",
                    self.id
                )
            })?;
            held.push(pb::HeldAuthorization {
                regime: regime.into(),
                code: code.into(),
                reference: String::new(),
            });
        }
        if let Some(code) = &self.expect.authorization
            && !held
                .iter()
                .any(|h| h.regime == self.expect.regime && &h.code == code)
        {
            held.push(pb::HeldAuthorization {
                regime: self.expect.regime.clone(),
                code: code.clone(),
                reference: String::new(),
            });
        }
        Ok(held)
    }

    fn base_request(&self, spec: cpb::ProductSpec) -> Result<pb::DecideRequest, String> {
        Ok(pb::DecideRequest {
            request_id: String::new(),
            export_country: self.export_country.clone(),
            destination_country: self.destination_country.clone(),
            end_user: Some(pb::Party {
                name: self.end_user.name.clone(),
                country: self.end_user.country.clone(),
                headquarters_country: self.end_user.headquarters_country.clone(),
                ultimate_parent_country: self.end_user.ultimate_parent_country.clone(),
                ..Default::default()
            }),
            parties: Vec::new(),
            end_use: Some(self.end_use()?),
            lines: vec![pb::LineItem {
                line_id: "10".into(),
                spec: Some(spec),
                origin_country: self
                    .item
                    .get("origin_country")
                    .map(text)
                    .unwrap_or_default(),
                quantity: 1.0,
                ..Default::default()
            }],
            as_of: self.date.clone(),
            held_authorizations: self.held_authorizations()?,
            destination_subdivision: self.destination_subdivision.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_scenario_maps_to_a_request() {
        let scenarios = super::load().unwrap();
        assert!(scenarios.len() >= 27);
        let research = super::load_research().unwrap();
        assert!(research.len() >= 40);
        for s in scenarios.iter().chain(&research) {
            let spec = s.spec().unwrap();
            let req = s.decide_request(spec).unwrap();
            assert!(!req.lines[0].origin_country.is_empty(), "{}", s.id);
        }
    }
}
