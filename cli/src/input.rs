//! Requests for `exportctl classify` and `exportctl decide`: from flags, or
//! from a JSON or YAML rendering of `ClassifyRequest` / `DecideRequest` with
//! the proto's snake_case field names.
//!
//! The file form is read into mirror structs that reject unknown fields, so a
//! misspelt field name fails here instead of silently becoming a default. The
//! service still validates every value (vocabularies, ranges, dates).
//!
//! Messages are built with `..Default::default()` even where every field is
//! set today: the contracts grow by added fields, and this keeps building.
#![allow(clippy::needless_update)]

use std::path::Path;

use anyhow::Context;
use exportctl_proto::classifier::{self as cpb, ItemKind};
use exportctl_proto::licensing as lpb;
use serde::{Deserialize, Deserializer};

/// Reads a file (`-` = standard input): JSON when the name ends in `.json`,
/// YAML otherwise (YAML also reads JSON).
pub fn read_file<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
    };
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid request", path.display()))
    } else {
        serde_norway::from_str(&text)
            .with_context(|| format!("{}: not a valid request", path.display()))
    }
}

/// Parses an item kind: `ITEM_KIND_MATERIAL`, `MATERIAL` or `material`
/// (`integrated-circuit` too).
pub fn parse_item_kind(s: &str) -> Result<ItemKind, String> {
    let name = s.trim().to_ascii_uppercase().replace(['-', ' '], "_");
    ItemKind::from_str_name(&name)
        .or_else(|| ItemKind::from_str_name(&format!("ITEM_KIND_{name}")))
        .filter(|k| *k != ItemKind::Unspecified || name.ends_with("UNSPECIFIED"))
        .ok_or_else(|| {
            format!(
                "unknown item kind `{s}`; expected one of integrated_circuit, equipment, material, \
                 software, technology, other (or ITEM_KIND_MATERIAL, …)"
            )
        })
}

/// An item kind in a file: its name in any form `parse_item_kind` takes, or
/// its number.
fn item_kind<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Name(String),
        Number(i32),
    }
    match Repr::deserialize(d)? {
        Repr::Name(s) => parse_item_kind(&s)
            .map(|k| k as i32)
            .map_err(serde::de::Error::custom),
        Repr::Number(n) => ItemKind::try_from(n)
            .map(|k| k as i32)
            .map_err(|_| serde::de::Error::custom(format!("unknown item kind number {n}"))),
    }
}

/// `Parameter` in a file: a name and exactly one of number, text or flag.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ParameterFile {
    name: String,
    number: Option<f64>,
    text: Option<String>,
    flag: Option<bool>,
    unit: String,
}

impl TryFrom<ParameterFile> for cpb::Parameter {
    type Error = String;

    fn try_from(p: ParameterFile) -> Result<Self, String> {
        use cpb::parameter::Value;
        let value = match (p.number, p.text, p.flag) {
            (Some(n), None, None) => Value::Number(n),
            (None, Some(t), None) => Value::Text(t),
            (None, None, Some(f)) => Value::Flag(f),
            (None, None, None) => {
                return Err(format!(
                    "parameter `{}` has no value (set number, text or flag)",
                    p.name
                ));
            }
            _ => {
                return Err(format!(
                    "parameter `{}` has more than one of number, text, flag",
                    p.name
                ));
            }
        };
        Ok(cpb::Parameter {
            name: p.name,
            unit: p.unit,
            value: Some(value),
        })
    }
}

/// `ProductSpec` in a file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SpecFile {
    sku: String,
    description: String,
    #[serde(deserialize_with = "item_kind")]
    kind: i32,
    equipment_function: String,
    material: String,
    process_node_nm: Option<f64>,
    transistor_architecture: String,
    memory_type: String,
    dram_half_pitch_nm: Option<f64>,
    memory_layers: Option<u32>,
    wavelength_nm: Option<f64>,
    concentration_percent: Option<f64>,
    fluorine_content_percent: Option<f64>,
    tpp: Option<f64>,
    performance_density: Option<f64>,
    transfer_rate_gbps: Option<f64>,
    bandwidth_density_gbps_mm2: Option<f64>,
    dedicated_chuck_overlay_nm: Option<f64>,
    etch_selectivity: Option<f64>,
    deposition_temperature_c: Option<f64>,
    numerical_aperture: Option<f64>,
    resist_tone: String,
    manufacturer: String,
    model: String,
    parameters: Vec<ParameterFile>,
}

impl TryFrom<SpecFile> for cpb::ProductSpec {
    type Error = String;

    fn try_from(s: SpecFile) -> Result<Self, String> {
        Ok(cpb::ProductSpec {
            sku: s.sku,
            description: s.description,
            kind: s.kind,
            equipment_function: s.equipment_function,
            material: s.material,
            process_node_nm: s.process_node_nm,
            transistor_architecture: s.transistor_architecture,
            memory_type: s.memory_type,
            dram_half_pitch_nm: s.dram_half_pitch_nm,
            memory_layers: s.memory_layers,
            wavelength_nm: s.wavelength_nm,
            concentration_percent: s.concentration_percent,
            fluorine_content_percent: s.fluorine_content_percent,
            tpp: s.tpp,
            performance_density: s.performance_density,
            transfer_rate_gbps: s.transfer_rate_gbps,
            bandwidth_density_gbps_mm2: s.bandwidth_density_gbps_mm2,
            dedicated_chuck_overlay_nm: s.dedicated_chuck_overlay_nm,
            etch_selectivity: s.etch_selectivity,
            deposition_temperature_c: s.deposition_temperature_c,
            numerical_aperture: s.numerical_aperture,
            resist_tone: s.resist_tone,
            manufacturer: s.manufacturer,
            model: s.model,
            parameters: s
                .parameters
                .into_iter()
                .map(cpb::Parameter::try_from)
                .collect::<Result<_, _>>()?,
            ..Default::default()
        })
    }
}

/// `ClassifyRequest` in a file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifyFile {
    spec: Option<SpecFile>,
    as_of: String,
    regimes: Vec<String>,
}

impl TryFrom<ClassifyFile> for cpb::ClassifyRequest {
    type Error = anyhow::Error;

    fn try_from(f: ClassifyFile) -> anyhow::Result<Self> {
        Ok(cpb::ClassifyRequest {
            spec: f
                .spec
                .map(cpb::ProductSpec::try_from)
                .transpose()
                .map_err(|e| anyhow::anyhow!("spec: {e}"))?,
            as_of: f.as_of,
            regimes: f.regimes,
            ..Default::default()
        })
    }
}

/// `Party` in a file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PartyFile {
    name: String,
    country: String,
    aliases: Vec<String>,
    address: String,
    /// In `parties`: sold_to, ship_to, consignee, intermediate_consignee,
    /// forwarder, purchaser or end_user.
    role: String,
    /// ISO alpha-2 country of the party's headquarters.
    headquarters_country: String,
    /// ISO alpha-2 country of the party's ultimate parent's headquarters.
    ultimate_parent_country: String,
}

impl From<PartyFile> for lpb::Party {
    fn from(p: PartyFile) -> Self {
        lpb::Party {
            name: p.name,
            country: p.country,
            aliases: p.aliases,
            address: p.address,
            role: p.role,
            headquarters_country: p.headquarters_country,
            ultimate_parent_country: p.ultimate_parent_country,
        }
    }
}

/// `EndUse` in a file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct EndUseFile {
    purpose: String,
    ic_production: Option<bool>,
    fab_logic_node_nm: Option<f64>,
    fab_transistor_architecture: String,
    fab_dram_half_pitch_nm: Option<f64>,
    fab_nand_layers: Option<u32>,
    fab_owner_headquarters: String,
    critical_infrastructure_operator: Option<bool>,
    fab_dram_cell_area_um2: Option<f64>,
    fab_dram_density_gb_mm2: Option<f64>,
}

/// `PreClassifiedEntry` in a file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct EntryFile {
    regime: String,
    entry_id: String,
}

/// `LineItem` in a file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LineFile {
    line_id: String,
    spec: Option<SpecFile>,
    origin_country: String,
    quantity: f64,
    value: f64,
    currency: String,
    entries: Vec<EntryFile>,
    /// A foreign-produced item's US content and how it was made.
    us_content_percent: Option<f64>,
    us_controlled_content_percent: Option<f64>,
    produced_with_us_technology: Option<bool>,
    produced_with_us_equipment: Option<bool>,
}

/// `HeldAuthorization` in a file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct HeldFile {
    regime: String,
    code: String,
    reference: String,
}

/// `DecideRequest` in a file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecideFile {
    request_id: String,
    export_country: String,
    destination_country: String,
    end_user: Option<PartyFile>,
    end_use: Option<EndUseFile>,
    lines: Vec<LineFile>,
    as_of: String,
    /// The other parties, each with its role.
    parties: Vec<PartyFile>,
    /// Authorizations the exporter holds.
    held_authorizations: Vec<HeldFile>,
    /// ISO 3166-2 subdivision of the destination (UA-43 …).
    destination_subdivision: String,
}

impl TryFrom<DecideFile> for lpb::DecideRequest {
    type Error = anyhow::Error;

    fn try_from(f: DecideFile) -> anyhow::Result<Self> {
        let mut lines = Vec::with_capacity(f.lines.len());
        for (i, l) in f.lines.into_iter().enumerate() {
            lines.push(lpb::LineItem {
                line_id: l.line_id,
                spec: l
                    .spec
                    .map(cpb::ProductSpec::try_from)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("lines[{i}].spec: {e}"))?,
                origin_country: l.origin_country,
                quantity: l.quantity,
                value: l.value,
                currency: l.currency,
                entries: l
                    .entries
                    .into_iter()
                    .map(|e| lpb::PreClassifiedEntry {
                        regime: e.regime,
                        entry_id: e.entry_id,
                        ..Default::default()
                    })
                    .collect(),
                us_content_percent: l.us_content_percent,
                us_controlled_content_percent: l.us_controlled_content_percent,
                produced_with_us_technology: l.produced_with_us_technology,
                produced_with_us_equipment: l.produced_with_us_equipment,
            });
        }
        Ok(lpb::DecideRequest {
            request_id: f.request_id,
            export_country: f.export_country,
            destination_country: f.destination_country,
            end_user: f.end_user.map(lpb::Party::from),
            end_use: f.end_use.map(|e| lpb::EndUse {
                purpose: e.purpose,
                ic_production: e.ic_production,
                fab_logic_node_nm: e.fab_logic_node_nm,
                fab_transistor_architecture: e.fab_transistor_architecture,
                fab_dram_half_pitch_nm: e.fab_dram_half_pitch_nm,
                fab_nand_layers: e.fab_nand_layers,
                fab_owner_headquarters: e.fab_owner_headquarters,
                critical_infrastructure_operator: e.critical_infrastructure_operator,
                fab_dram_cell_area_um2: e.fab_dram_cell_area_um2,
                fab_dram_density_gb_mm2: e.fab_dram_density_gb_mm2,
                ..Default::default()
            }),
            lines,
            as_of: f.as_of,
            parties: f.parties.into_iter().map(lpb::Party::from).collect(),
            held_authorizations: f
                .held_authorizations
                .into_iter()
                .map(|h| lpb::HeldAuthorization {
                    regime: h.regime,
                    code: h.code,
                    reference: h.reference,
                })
                .collect(),
            destination_subdivision: f.destination_subdivision,
        })
    }
}

/// The product spec given as flags.
#[derive(Debug, Default, Clone, clap::Args)]
#[group(id = "spec_flags", multiple = true)]
pub struct SpecArgs {
    /// The caller's item number.
    #[arg(long, help_heading = "Product spec")]
    pub sku: Option<String>,
    /// Free text; never used for matching.
    #[arg(long, help_heading = "Product spec")]
    pub description: Option<String>,
    /// Item kind: integrated_circuit, equipment, material, software, technology, other.
    #[arg(long, value_parser = parse_item_kind, help_heading = "Product spec")]
    pub kind: Option<ItemKind>,
    /// Equipment function (vocabulary), e.g. lithography, etch, deposition.
    #[arg(long, help_heading = "Product spec")]
    pub equipment_function: Option<String>,
    /// Material (vocabulary), e.g. photoresist, hydrogen_fluoride, wet_clean_chemical.
    #[arg(long, help_heading = "Product spec")]
    pub material: Option<String>,
    /// Logic process node, nm.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub process_node_nm: Option<f64>,
    /// Transistor architecture: planar, finfet, gaafet, other.
    #[arg(long, help_heading = "Product spec")]
    pub transistor_architecture: Option<String>,
    /// Memory type: dram, nand, hbm, other.
    #[arg(long, help_heading = "Product spec")]
    pub memory_type: Option<String>,
    /// DRAM half-pitch, nm.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub dram_half_pitch_nm: Option<f64>,
    /// Memory layers (3D NAND).
    #[arg(long, help_heading = "Product spec")]
    pub memory_layers: Option<u32>,
    /// Wavelength the item works at or is optimised for, nm.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub wavelength_nm: Option<f64>,
    /// Concentration by weight, percent.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub concentration_percent: Option<f64>,
    /// Combined fluorine content by weight, percent.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub fluorine_content_percent: Option<f64>,
    /// Total processing performance (TPP).
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub tpp: Option<f64>,
    /// Performance density: TPP per mm² of die area.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub performance_density: Option<f64>,
    /// Aggregate bidirectional transfer rate, GB/s.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub transfer_rate_gbps: Option<f64>,
    /// Memory bandwidth density, GB/s per mm².
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub bandwidth_density_gbps_mm2: Option<f64>,
    /// Dedicated chuck overlay, nm.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub dedicated_chuck_overlay_nm: Option<f64>,
    /// Etch selectivity, as a ratio X:1.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub etch_selectivity: Option<f64>,
    /// Deposition / process temperature, °C.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub deposition_temperature_c: Option<f64>,
    /// Numerical aperture of projection optics.
    #[arg(long, help_heading = "Product spec", allow_negative_numbers = true)]
    pub numerical_aperture: Option<f64>,
    /// Resist tone: positive, negative, other.
    #[arg(long, help_heading = "Product spec")]
    pub resist_tone: Option<String>,
    /// Manufacturer name.
    #[arg(long, help_heading = "Product spec")]
    pub manufacturer: Option<String>,
    /// Model designation.
    #[arg(long, help_heading = "Product spec")]
    pub model: Option<String>,
    /// Extension parameter NAME=VALUE (true/false, a number, or a vocabulary
    /// value; a number may be followed by a space and its unit). Repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_parameter, help_heading = "Product spec")]
    pub params: Vec<cpb::Parameter>,
}

impl SpecArgs {
    /// True when any spec flag was given.
    pub fn is_empty(&self) -> bool {
        let Self {
            sku,
            description,
            kind,
            equipment_function,
            material,
            process_node_nm,
            transistor_architecture,
            memory_type,
            dram_half_pitch_nm,
            memory_layers,
            wavelength_nm,
            concentration_percent,
            fluorine_content_percent,
            tpp,
            performance_density,
            transfer_rate_gbps,
            bandwidth_density_gbps_mm2,
            dedicated_chuck_overlay_nm,
            etch_selectivity,
            deposition_temperature_c,
            numerical_aperture,
            resist_tone,
            manufacturer,
            model,
            params,
        } = self;
        [
            sku,
            description,
            equipment_function,
            material,
            transistor_architecture,
            memory_type,
            resist_tone,
            manufacturer,
            model,
        ]
        .iter()
        .all(|s| s.is_none())
            && [
                process_node_nm,
                dram_half_pitch_nm,
                wavelength_nm,
                concentration_percent,
                fluorine_content_percent,
                tpp,
                performance_density,
                transfer_rate_gbps,
                bandwidth_density_gbps_mm2,
                dedicated_chuck_overlay_nm,
                etch_selectivity,
                deposition_temperature_c,
                numerical_aperture,
            ]
            .iter()
            .all(|n| n.is_none())
            && kind.is_none()
            && memory_layers.is_none()
            && params.is_empty()
    }

    pub fn to_spec(&self) -> cpb::ProductSpec {
        let s = self.clone();
        cpb::ProductSpec {
            sku: s.sku.unwrap_or_default(),
            description: s.description.unwrap_or_default(),
            kind: s.kind.unwrap_or(ItemKind::Unspecified) as i32,
            equipment_function: s.equipment_function.unwrap_or_default(),
            material: s.material.unwrap_or_default(),
            process_node_nm: s.process_node_nm,
            transistor_architecture: s.transistor_architecture.unwrap_or_default(),
            memory_type: s.memory_type.unwrap_or_default(),
            dram_half_pitch_nm: s.dram_half_pitch_nm,
            memory_layers: s.memory_layers,
            wavelength_nm: s.wavelength_nm,
            concentration_percent: s.concentration_percent,
            fluorine_content_percent: s.fluorine_content_percent,
            tpp: s.tpp,
            performance_density: s.performance_density,
            transfer_rate_gbps: s.transfer_rate_gbps,
            bandwidth_density_gbps_mm2: s.bandwidth_density_gbps_mm2,
            dedicated_chuck_overlay_nm: s.dedicated_chuck_overlay_nm,
            etch_selectivity: s.etch_selectivity,
            deposition_temperature_c: s.deposition_temperature_c,
            numerical_aperture: s.numerical_aperture,
            resist_tone: s.resist_tone.unwrap_or_default(),
            manufacturer: s.manufacturer.unwrap_or_default(),
            model: s.model.unwrap_or_default(),
            parameters: s.params,
            ..Default::default()
        }
    }
}

/// `NAME=VALUE`: `true`/`false` is a flag, a number (optionally followed by a
/// space and a unit) a number, anything else a vocabulary value.
pub fn parse_parameter(s: &str) -> Result<cpb::Parameter, String> {
    use cpb::parameter::Value;
    let (name, raw) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let (name, raw) = (name.trim(), raw.trim());
    if name.is_empty() {
        return Err(format!("`{s}` names no parameter"));
    }
    let (value, unit) = match raw {
        "true" => (Value::Flag(true), ""),
        "false" => (Value::Flag(false), ""),
        _ => {
            let (number, unit) = raw.split_once(' ').unwrap_or((raw, ""));
            match number.parse::<f64>() {
                Ok(n) => (Value::Number(n), unit.trim()),
                Err(_) => (Value::Text(raw.to_string()), ""),
            }
        }
    };
    Ok(cpb::Parameter {
        name: name.to_string(),
        unit: unit.to_string(),
        value: Some(value),
    })
}

/// `REGIME=ENTRY_ID`, e.g. `US-EAR=3A090.a`.
pub fn parse_entry(s: &str) -> Result<lpb::PreClassifiedEntry, String> {
    let (regime, entry_id) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not REGIME=ENTRY_ID (e.g. US-EAR=3A090.a)"))?;
    Ok(lpb::PreClassifiedEntry {
        regime: regime.trim().to_string(),
        entry_id: entry_id.trim().to_string(),
        ..Default::default()
    })
}

/// The parties, end use and the one order line of a shipment given as flags.
#[derive(Debug, Default, Clone, clap::Args)]
#[group(id = "shipment_flags", multiple = true)]
pub struct ShipmentArgs {
    /// ISO alpha-2 country the goods leave from (selects the national regimes).
    #[arg(long, help_heading = "Shipment")]
    pub export_country: Option<String>,
    /// ISO alpha-2 destination country.
    #[arg(long, help_heading = "Shipment")]
    pub destination_country: Option<String>,
    /// ISO 3166-2 subdivision of the destination where rules name one (UA-43 Crimea …).
    #[arg(long, help_heading = "Shipment")]
    pub destination_subdivision: Option<String>,
    /// An authorization the exporter holds, REGIME=CODE or REGIME=CODE@REFERENCE
    /// (e.g. JP-FEFTA=general_bulk@GB-2024-001). Repeatable.
    #[arg(long = "holds", value_name = "REGIME=CODE[@REF]", value_parser = parse_held, help_heading = "Shipment")]
    pub held_authorizations: Vec<lpb::HeldAuthorization>,
    /// End user's legal name.
    #[arg(long, help_heading = "End user")]
    pub end_user_name: Option<String>,
    /// End user's ISO alpha-2 country.
    #[arg(long, help_heading = "End user")]
    pub end_user_country: Option<String>,
    /// Another name the end user trades under. Repeatable.
    #[arg(
        long = "end-user-alias",
        value_name = "NAME",
        help_heading = "End user"
    )]
    pub end_user_aliases: Vec<String>,
    /// End user's postal address.
    #[arg(long, help_heading = "End user")]
    pub end_user_address: Option<String>,
    /// ISO alpha-2 country where the end user is headquartered.
    #[arg(long, help_heading = "End user")]
    pub end_user_headquarters_country: Option<String>,
    /// ISO alpha-2 country where the end user's ultimate parent is headquartered.
    #[arg(long, help_heading = "End user")]
    pub end_user_ultimate_parent_country: Option<String>,
    /// Purpose: civil, military, wmd, nuclear, missile, chemical_biological, other.
    #[arg(long, help_heading = "End use")]
    pub purpose: Option<String>,
    /// The items will be used to develop or produce integrated circuits.
    #[arg(long, value_name = "true|false", help_heading = "End use")]
    pub ic_production: Option<bool>,
    /// Most advanced logic node the fab produces, nm.
    #[arg(long, help_heading = "End use", allow_negative_numbers = true)]
    pub fab_logic_node_nm: Option<f64>,
    /// Transistor architecture of the fab's logic: planar, finfet, gaafet, other.
    #[arg(long, help_heading = "End use")]
    pub fab_transistor_architecture: Option<String>,
    /// DRAM half-pitch the fab produces, nm.
    #[arg(long, help_heading = "End use", allow_negative_numbers = true)]
    pub fab_dram_half_pitch_nm: Option<f64>,
    /// NAND layers the fab produces.
    #[arg(long, help_heading = "End use")]
    pub fab_nand_layers: Option<u32>,
    /// ISO alpha-2 country of the fab owner's headquarters.
    #[arg(long, help_heading = "End use")]
    pub fab_owner_headquarters: Option<String>,
    /// The buyer operates critical information infrastructure.
    #[arg(long, value_name = "true|false", help_heading = "End use")]
    pub critical_infrastructure_operator: Option<bool>,
    /// DRAM memory cell area, µm².
    #[arg(long, help_heading = "End use", allow_negative_numbers = true)]
    pub fab_dram_cell_area_um2: Option<f64>,
    /// DRAM memory density, Gb/mm².
    #[arg(long, help_heading = "End use", allow_negative_numbers = true)]
    pub fab_dram_density_gb_mm2: Option<f64>,
    /// The line's id.
    #[arg(long, help_heading = "Order line")]
    pub line_id: Option<String>,
    /// ISO alpha-2 country of origin of the item (US = US-EAR applies wherever it ships from).
    #[arg(long, help_heading = "Order line")]
    pub origin_country: Option<String>,
    /// Quantity.
    #[arg(long, help_heading = "Order line", allow_negative_numbers = true)]
    pub quantity: Option<f64>,
    /// Value, in --currency.
    #[arg(long, help_heading = "Order line", allow_negative_numbers = true)]
    pub value: Option<f64>,
    /// ISO 4217 currency of --value.
    #[arg(long, help_heading = "Order line")]
    pub currency: Option<String>,
    /// A foreign-produced item: share of its value that is US-origin content, percent.
    #[arg(long, help_heading = "Order line", allow_negative_numbers = true)]
    pub us_content_percent: Option<f64>,
    /// A foreign-produced item: US-origin controlled content counted for de minimis, percent.
    #[arg(long, help_heading = "Order line", allow_negative_numbers = true)]
    pub us_controlled_content_percent: Option<f64>,
    /// A foreign-produced item is a direct product of US-origin technology or software.
    #[arg(long, value_name = "true|false", help_heading = "Order line")]
    pub produced_with_us_technology: Option<bool>,
    /// A foreign-produced item was made by a plant or equipment that is US-origin or a
    /// direct product of US technology.
    #[arg(long, value_name = "true|false", help_heading = "Order line")]
    pub produced_with_us_equipment: Option<bool>,
    /// An entry the item is already classified under, REGIME=ENTRY_ID
    /// (e.g. US-EAR=3A090.a). Repeatable.
    #[arg(long = "entry", value_name = "REGIME=ENTRY_ID", value_parser = parse_entry, help_heading = "Order line")]
    pub entries: Vec<lpb::PreClassifiedEntry>,
    /// Another party to the transaction, ROLE=NAME or ROLE=NAME@COUNTRY (role:
    /// sold_to, ship_to, consignee, intermediate_consignee, forwarder,
    /// purchaser, end_user); screened like the end user. Repeatable.
    #[arg(long = "party", value_name = "ROLE=NAME[@CC]", value_parser = parse_party, help_heading = "Parties")]
    pub parties: Vec<lpb::Party>,
}

/// `REGIME=CODE` or `REGIME=CODE@REFERENCE`.
pub fn parse_held(s: &str) -> Result<lpb::HeldAuthorization, String> {
    let (regime, rest) = s
        .split_once('=')
        .filter(|(r, c)| !r.trim().is_empty() && !c.trim().is_empty())
        .ok_or_else(|| format!("`{s}` is not REGIME=CODE (e.g. JP-FEFTA=general_bulk)"))?;
    let (code, reference) = rest.split_once('@').unwrap_or((rest, ""));
    Ok(lpb::HeldAuthorization {
        regime: regime.trim().to_string(),
        code: code.trim().to_string(),
        reference: reference.trim().to_string(),
    })
}

/// `ROLE=NAME` or `ROLE=NAME@CC` (a two-letter country after the last `@`).
pub fn parse_party(s: &str) -> Result<lpb::Party, String> {
    let (role, rest) = s.split_once('=').ok_or_else(|| {
        format!("`{s}` is not ROLE=NAME (e.g. consignee=Example Trading Ltd.@HK)")
    })?;
    let (name, country) = match rest.rsplit_once('@') {
        Some((name, cc)) if cc.len() == 2 && cc.chars().all(|c| c.is_ascii_alphabetic()) => {
            (name, cc.to_ascii_uppercase())
        }
        _ => (rest, String::new()),
    };
    Ok(lpb::Party {
        name: name.trim().to_string(),
        country,
        role: role.trim().to_string(),
        ..Default::default()
    })
}

impl ShipmentArgs {
    /// The request these flags describe, with the line's spec from `spec`.
    /// The end user is left out when no end-user flag is given (the service
    /// then names it as missing); the spec likewise.
    pub fn to_request(&self, spec: &SpecArgs) -> lpb::DecideRequest {
        let a = self.clone();
        let end_user = (a.end_user_name.is_some()
            || a.end_user_country.is_some()
            || a.end_user_address.is_some()
            || a.end_user_headquarters_country.is_some()
            || a.end_user_ultimate_parent_country.is_some()
            || !a.end_user_aliases.is_empty())
        .then(|| lpb::Party {
            name: a.end_user_name.unwrap_or_default(),
            country: a.end_user_country.unwrap_or_default(),
            aliases: a.end_user_aliases,
            address: a.end_user_address.unwrap_or_default(),
            headquarters_country: a.end_user_headquarters_country.unwrap_or_default(),
            ultimate_parent_country: a.end_user_ultimate_parent_country.unwrap_or_default(),
            ..Default::default()
        });
        let end_use = lpb::EndUse {
            purpose: a.purpose.unwrap_or_default(),
            ic_production: a.ic_production,
            fab_logic_node_nm: a.fab_logic_node_nm,
            fab_transistor_architecture: a.fab_transistor_architecture.unwrap_or_default(),
            fab_dram_half_pitch_nm: a.fab_dram_half_pitch_nm,
            fab_nand_layers: a.fab_nand_layers,
            fab_owner_headquarters: a.fab_owner_headquarters.unwrap_or_default(),
            critical_infrastructure_operator: a.critical_infrastructure_operator,
            fab_dram_cell_area_um2: a.fab_dram_cell_area_um2,
            fab_dram_density_gb_mm2: a.fab_dram_density_gb_mm2,
            ..Default::default()
        };
        let line = lpb::LineItem {
            line_id: a.line_id.unwrap_or_else(|| "1".to_string()),
            spec: (!spec.is_empty()).then(|| spec.to_spec()),
            origin_country: a.origin_country.unwrap_or_default(),
            quantity: a.quantity.unwrap_or_default(),
            value: a.value.unwrap_or_default(),
            currency: a.currency.unwrap_or_default(),
            entries: a.entries,
            us_content_percent: a.us_content_percent,
            us_controlled_content_percent: a.us_controlled_content_percent,
            produced_with_us_technology: a.produced_with_us_technology,
            produced_with_us_equipment: a.produced_with_us_equipment,
        };
        lpb::DecideRequest {
            export_country: a.export_country.unwrap_or_default(),
            destination_country: a.destination_country.unwrap_or_default(),
            end_user,
            end_use: Some(end_use),
            lines: vec![line],
            parties: a.parties,
            held_authorizations: a.held_authorizations,
            destination_subdivision: a.destination_subdivision.unwrap_or_default(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parties_as_flags() {
        let p = parse_party("consignee=Example Trading Ltd.@hk").unwrap();
        assert_eq!(
            (p.role.as_str(), p.name.as_str(), p.country.as_str()),
            ("consignee", "Example Trading Ltd.", "HK")
        );
        let p = parse_party("forwarder=name@example.invalid").unwrap();
        assert_eq!(
            (p.name.as_str(), p.country.as_str()),
            ("name@example.invalid", "")
        );
        assert!(parse_party("no role").is_err());
    }

    #[test]
    fn item_kinds_in_every_spelling() {
        for s in ["ITEM_KIND_MATERIAL", "MATERIAL", "material", " Material "] {
            assert_eq!(parse_item_kind(s), Ok(ItemKind::Material), "{s}");
        }
        assert_eq!(
            parse_item_kind("integrated-circuit"),
            Ok(ItemKind::IntegratedCircuit)
        );
        assert!(parse_item_kind("materiel").is_err());
        assert!(parse_item_kind("").is_err());
    }

    #[test]
    fn parameters_from_flags() {
        use cpb::parameter::Value;
        let p = parse_parameter("pre_clean_chamber=true").unwrap();
        assert_eq!(p.name, "pre_clean_chamber");
        assert_eq!(p.value, Some(Value::Flag(true)));
        let p = parse_parameter("overlay=1.5 nm").unwrap();
        assert_eq!(p.value, Some(Value::Number(1.5)));
        assert_eq!(p.unit, "nm");
        let p = parse_parameter("grade=electronic").unwrap();
        assert_eq!(p.value, Some(Value::Text("electronic".into())));
        assert!(parse_parameter("no-equals").is_err());
        assert!(parse_parameter("=1").is_err());
    }

    #[test]
    fn classify_request_from_yaml() {
        let f: ClassifyFile = serde_norway::from_str(
            "spec:\n  sku: EUV-RESIST-1\n  kind: ITEM_KIND_MATERIAL\n  material: photoresist\n  \
             resist_tone: positive\n  wavelength_nm: 13.5\n  parameters:\n    - {name: euv_mask, flag: false}\n\
             as_of: 2023-07-22\nregimes: [US-EAR]\n",
        )
        .unwrap();
        let r = cpb::ClassifyRequest::try_from(f).unwrap();
        let spec = r.spec.unwrap();
        assert_eq!(spec.kind, ItemKind::Material as i32);
        assert_eq!(spec.wavelength_nm, Some(13.5));
        assert_eq!(spec.parameters.len(), 1);
        assert_eq!(r.as_of, "2023-07-22");
        assert_eq!(r.regimes, vec!["US-EAR"]);
    }

    #[test]
    fn decide_request_from_json_with_short_enum_names() {
        let f: DecideFile = serde_json::from_str(
            r#"{"request_id":"PO-1","export_country":"NO","destination_country":"CN",
                "end_user":{"name":"Fab","country":"CN"},
                "end_use":{"purpose":"civil","ic_production":true,"fab_logic_node_nm":16},
                "lines":[{"line_id":"10","origin_country":"US","quantity":2,
                          "spec":{"kind":"MATERIAL","material":"wet_clean_chemical"},
                          "entries":[{"regime":"US-EAR","entry_id":"3A090.a"}],
                          "us_controlled_content_percent":12.5,
                          "produced_with_us_equipment":true}],
                "held_authorizations":[{"regime":"JP-FEFTA","code":"general_bulk","reference":"GB-1"}],
                "destination_subdivision":"CN-SH",
                "as_of":"2023-03-01"}"#,
        )
        .unwrap();
        let r = lpb::DecideRequest::try_from(f).unwrap();
        assert_eq!(r.lines[0].us_controlled_content_percent, Some(12.5));
        assert_eq!(r.lines[0].produced_with_us_equipment, Some(true));
        assert_eq!(r.held_authorizations[0].reference, "GB-1");
        assert_eq!(r.destination_subdivision, "CN-SH");
        assert_eq!(r.export_country, "NO");
        assert_eq!(r.end_use.unwrap().fab_logic_node_nm, Some(16.0));
        assert_eq!(r.lines[0].spec.as_ref().unwrap().kind, 3);
        assert_eq!(r.lines[0].entries[0].entry_id, "3A090.a");
    }

    #[test]
    fn held_authorizations_as_flags() {
        let h = parse_held("JP-FEFTA=general_bulk@GB-2024-001").unwrap();
        assert_eq!(
            (h.regime.as_str(), h.code.as_str(), h.reference.as_str()),
            ("JP-FEFTA", "general_bulk", "GB-2024-001")
        );
        assert_eq!(parse_held("KR-FTA=comprehensive").unwrap().reference, "");
        assert!(parse_held("general_bulk").is_err());
        assert!(parse_held("JP-FEFTA=").is_err());
    }

    #[test]
    fn yaml_reads_norway_as_a_country() {
        let f: DecideFile = serde_norway::from_str("export_country: NO\n").unwrap();
        assert_eq!(f.export_country, "NO");
    }

    #[test]
    fn misspelt_fields_and_values_are_rejected() {
        let e = serde_norway::from_str::<ClassifyFile>("spec:\n  materal: photoresist\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("materal"), "{e}");
        let e = serde_json::from_str::<ClassifyFile>(r#"{"spec":{"kind":"MATERIEL"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("MATERIEL"), "{e}");
        let f: ClassifyFile = serde_json::from_str(
            r#"{"spec":{"parameters":[{"name":"x","flag":true,"number":1}]}}"#,
        )
        .unwrap();
        assert!(cpb::ClassifyRequest::try_from(f).is_err());
    }
}
