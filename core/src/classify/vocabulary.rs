//! The attribute vocabulary: which attributes exist, their types, units and
//! allowed values, and the typed facts of one product spec.

use std::collections::HashMap;

use serde::Deserialize;

use crate::pack::PackError as LoadError;

/// Index of an attribute in the vocabulary.
pub type AttrId = u16;

/// ProductSpec fields that are attributes, with their types; the vocabulary must
/// declare each of them. Everything else it declares is an extension parameter.
pub const SPEC_FIELDS: &[(&str, AttrKind)] = &[
    ("kind", AttrKind::Category),
    ("equipment_function", AttrKind::Category),
    ("material", AttrKind::Category),
    ("transistor_architecture", AttrKind::Category),
    ("memory_type", AttrKind::Category),
    ("resist_tone", AttrKind::Category),
    ("process_node_nm", AttrKind::Number),
    ("dram_half_pitch_nm", AttrKind::Number),
    ("memory_layers", AttrKind::Number),
    ("wavelength_nm", AttrKind::Number),
    ("concentration_percent", AttrKind::Number),
    ("fluorine_content_percent", AttrKind::Number),
    ("tpp", AttrKind::Number),
    ("performance_density", AttrKind::Number),
    ("transfer_rate_gbps", AttrKind::Number),
    ("bandwidth_density_gbps_mm2", AttrKind::Number),
    ("dedicated_chuck_overlay_nm", AttrKind::Number),
    ("etch_selectivity", AttrKind::Number),
    ("deposition_temperature_c", AttrKind::Number),
    ("numerical_aperture", AttrKind::Number),
];

/// Attributes the engine computes from others.
const DERIVED: &[&str] = &[MRF_ATTRIBUTE];

/// The minimum resolvable feature, from wavelength, NA and the K the
/// vocabulary states (Wassenaar 3.B.1.f.1.b).
const MRF_ATTRIBUTE: &str = "minimum_resolvable_feature_nm";

/// Most values one category may have (they are matched as a 64-bit set).
pub const MAX_CATEGORY_VALUES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttrKind {
    Number,
    Category,
    Flag,
}

/// What a spec without the attribute means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Absence {
    /// The fact is missing: criteria on it are undetermined.
    #[default]
    Unknown,
    /// The item has none of the values: criteria on it are false.
    None,
}

/// Which direction of a number makes an item more capable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    Higher,
    Lower,
}

/// One declared attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDef {
    pub name: String,
    pub kind: AttrKind,
    pub unit: String,
    pub values: Vec<String>,
    pub absent: Absence,
    pub min: f64,
    pub max: f64,
    pub capability: Option<Capability>,
    pub description: String,
    pub spec_field: bool,
    pub derived: bool,
}

/// A typed value of one attribute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Number(f64),
    /// Index into the attribute's allowed values.
    Category(u8),
    Flag(bool),
}

/// The typed facts of one product spec, indexed by attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    values: Vec<Option<Value>>,
}

impl Facts {
    pub fn get(&self, attr: AttrId) -> Option<Value> {
        self.values.get(attr as usize).copied().flatten()
    }

    pub fn set(&mut self, attr: AttrId, value: Option<Value>) {
        self.values[attr as usize] = value;
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabularyFile {
    vocabulary: VocabularyHeader,
    attribute: Vec<AttributeRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabularyHeader {
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttributeRow {
    name: String,
    #[serde(rename = "type")]
    kind: AttrKind,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    absent: Absence,
    min: Option<f64>,
    max: Option<f64>,
    capability: Option<Capability>,
    #[serde(default)]
    derived: bool,
    /// The K factor of the MRF formula (MRF = wavelength x K / NA), on the
    /// derived minimum_resolvable_feature_nm attribute only.
    k_factor: Option<f64>,
    description: String,
}

/// The closed set of attributes criteria and specs may use.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    pub version: String,
    attrs: Vec<AttributeDef>,
    by_name: HashMap<String, AttrId>,
    /// (MRF, wavelength, NA, K): the derived minimum resolvable feature.
    mrf: Option<(AttrId, AttrId, AttrId, f64)>,
}

impl Vocabulary {
    /// Parses and validates a vocabulary file.
    pub fn parse(file: &str, text: &str) -> Result<Self, LoadError> {
        let err = |rule: &str, message: String| LoadError::new(file, rule, message);
        let parsed: VocabularyFile = toml::from_str(text).map_err(|e| err("-", e.to_string()))?;
        let mut attrs = Vec::with_capacity(parsed.attribute.len());
        let mut mrf_k = None;
        let mut by_name = HashMap::new();
        for row in parsed.attribute {
            let name = row.name.clone();
            if !is_identifier(&name) {
                return Err(err(
                    &name,
                    "attribute names are lower_snake_case identifiers".into(),
                ));
            }
            if by_name.contains_key(&name) {
                return Err(err(&name, "duplicate attribute".into()));
            }
            let spec_field = SPEC_FIELDS.iter().find(|(n, _)| *n == name);
            if let Some((_, kind)) = spec_field
                && *kind != row.kind
            {
                return Err(err(
                    &name,
                    format!("ProductSpec field is a {kind:?}, declared {:?}", row.kind),
                ));
            }
            if row.k_factor.is_some() {
                if name != MRF_ATTRIBUTE {
                    return Err(err(&name, "only the MRF attribute has a k_factor".into()));
                }
                mrf_k = row.k_factor;
            }
            if row.derived && !DERIVED.contains(&name.as_str()) {
                return Err(err(
                    &name,
                    "the engine does not know how to derive this attribute".into(),
                ));
            }
            match row.kind {
                AttrKind::Category => {
                    if row.values.is_empty() || row.values.len() > MAX_CATEGORY_VALUES {
                        return Err(err(
                            &name,
                            format!("a category needs 1 to {MAX_CATEGORY_VALUES} values"),
                        ));
                    }
                    if !row.values.iter().any(|v| v == "other") {
                        return Err(err(
                            &name,
                            "a category must include the value `other`".into(),
                        ));
                    }
                    let mut seen = std::collections::HashSet::new();
                    for v in &row.values {
                        if !is_identifier(v) || !seen.insert(v) {
                            return Err(err(
                                &name,
                                format!("value `{v}` is duplicated or not lower_snake_case"),
                            ));
                        }
                    }
                }
                AttrKind::Number => {
                    if row.unit.is_empty() {
                        return Err(err(&name, "a number needs a unit".into()));
                    }
                    if row.max.is_none() && !row.derived {
                        return Err(err(
                            &name,
                            "a number a spec gives needs a max: its physical upper bound".into(),
                        ));
                    }
                }
                AttrKind::Flag => {}
            }
            if row.kind != AttrKind::Category && !row.values.is_empty() {
                return Err(err(&name, "only categories have values".into()));
            }
            if row.kind != AttrKind::Number
                && (row.min.is_some() || row.max.is_some() || row.capability.is_some())
            {
                return Err(err(
                    &name,
                    "min, max and capability apply to numbers only".into(),
                ));
            }
            let (min, max) = (row.min.unwrap_or(0.0), row.max.unwrap_or(f64::MAX));
            if !(min.is_finite() && max.is_finite() && min >= 0.0 && min < max) {
                return Err(err(
                    &name,
                    "min and max must be finite with 0 <= min < max".into(),
                ));
            }
            by_name.insert(name.clone(), attrs.len() as AttrId);
            attrs.push(AttributeDef {
                name,
                kind: row.kind,
                unit: row.unit,
                values: row.values,
                absent: row.absent,
                min,
                max,
                capability: row.capability,
                description: row.description,
                spec_field: spec_field.is_some(),
                derived: row.derived,
            });
        }
        for (name, _) in SPEC_FIELDS {
            if !by_name.contains_key(*name) {
                return Err(err(
                    name,
                    "ProductSpec field missing from the vocabulary".into(),
                ));
            }
        }
        if attrs.len() > AttrId::MAX as usize {
            return Err(err("-", "too many attributes".into()));
        }
        let mrf = match by_name.get(MRF_ATTRIBUTE) {
            Some(&m) => {
                let k = mrf_k.filter(|k| *k > 0.0 && *k <= 1.0).ok_or_else(|| {
                    err(
                        MRF_ATTRIBUTE,
                        "needs k_factor, the K of MRF = wavelength x K / NA, in (0, 1]".into(),
                    )
                })?;
                Some((
                    m,
                    by_name["wavelength_nm"],
                    by_name["numerical_aperture"],
                    k,
                ))
            }
            None => None,
        };
        Ok(Self {
            version: parsed.vocabulary.version,
            attrs,
            by_name,
            mrf,
        })
    }

    pub fn attributes(&self) -> &[AttributeDef] {
        &self.attrs
    }

    pub fn id(&self, name: &str) -> Option<AttrId> {
        self.by_name.get(name).copied()
    }

    pub fn def(&self, id: AttrId) -> &AttributeDef {
        &self.attrs[id as usize]
    }

    /// Facts with nothing set.
    pub fn empty_facts(&self) -> Facts {
        Facts {
            values: vec![None; self.attrs.len()],
        }
    }

    /// Index of a category value.
    pub fn category_index(&self, attr: AttrId, value: &str) -> Option<u8> {
        self.def(attr)
            .values
            .iter()
            .position(|v| v == value)
            .map(|i| i as u8)
    }

    /// Checks a number against the attribute's domain.
    pub fn check_number(&self, attr: AttrId, value: f64) -> Result<(), String> {
        let def = self.def(attr);
        crate::validate::number(value, def.min, def.max, &def.unit).map(|_| ())
    }

    /// Computes the derived attributes from the given ones.
    pub fn derive(&self, facts: &mut Facts) {
        if let Some((mrf, wavelength, na, k)) = self.mrf
            && let (Some(Value::Number(l)), Some(Value::Number(n))) =
                (facts.get(wavelength), facts.get(na))
            && n > 0.0
        {
            facts.set(mrf, Some(Value::Number(l * k / n)));
        }
    }

    /// The K of the MRF formula the vocabulary states.
    pub fn mrf_k(&self) -> Option<f64> {
        self.mrf.map(|(_, _, _, k)| k)
    }

    /// The attributes a derived attribute is computed from.
    pub fn derived_from(&self, attr: AttrId) -> Vec<AttrId> {
        match self.mrf {
            Some((mrf, wavelength, na, _)) if mrf == attr => vec![wavelength, na],
            _ => Vec::new(),
        }
    }

    /// Human-readable rendering of a value.
    pub fn render(&self, attr: AttrId, value: Option<Value>) -> String {
        match value {
            None => "(none)".to_string(),
            Some(Value::Number(n)) => format_number(n),
            Some(Value::Flag(b)) => b.to_string(),
            Some(Value::Category(i)) => self.def(attr).values[i as usize].clone(),
        }
    }
}

/// A number as people write it: no trailing zeros, at most 4 decimals.
pub fn format_number(n: f64) -> String {
    let mut s = String::new();
    push_number(&mut s, n);
    s
}

/// [`format_number`] appended to `s`.
pub fn push_number(s: &mut String, n: f64) {
    use std::fmt::Write as _;
    let _ = if n.fract() == 0.0 && n.abs() < 1e15 {
        write!(s, "{}", n as i64)
    } else {
        // Rounded to 4 decimals, then printed shortest (fast) rather than with `{:.4}` (exact, slow).
        let rounded = (n * 10_000.0).round() / 10_000.0;
        if rounded.is_finite() {
            write!(s, "{rounded}")
        } else {
            write!(s, "{n}")
        }
    };
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_vocabulary_loads() {
        let v = Vocabulary::parse("vocabulary.toml", crate::classify::bundled::VOCABULARY).unwrap();
        assert!(v.id("tpp").is_some());
        assert!(
            v.def(v.id("material").unwrap())
                .values
                .contains(&"photoresist".to_string())
        );
    }

    #[test]
    fn rejects_a_category_without_other() {
        let text = r#"
[vocabulary]
version = "t"
[[attribute]]
name = "material"
type = "category"
values = ["photoresist"]
description = "x"
"#;
        let e = Vocabulary::parse("v.toml", text).unwrap_err();
        assert!(e.to_string().contains("`other`"), "{e}");
    }

    #[test]
    fn mrf_is_derived_from_wavelength_and_na() {
        let v = Vocabulary::parse("vocabulary.toml", crate::classify::bundled::VOCABULARY).unwrap();
        let mut f = v.empty_facts();
        f.set(v.id("wavelength_nm").unwrap(), Some(Value::Number(193.0)));
        f.set(
            v.id("numerical_aperture").unwrap(),
            Some(Value::Number(1.35)),
        );
        v.derive(&mut f);
        let Some(Value::Number(mrf)) = f.get(v.id("minimum_resolvable_feature_nm").unwrap()) else {
            panic!("no mrf")
        };
        assert!((mrf - 50.037).abs() < 0.01, "{mrf}");
    }

    #[test]
    fn formats_numbers_plainly() {
        assert_eq!(format_number(4800.0), "4800");
        assert_eq!(format_number(5.92), "5.92");
        assert_eq!(format_number(50.037037), "50.037");
        assert_eq!(format_number(1.5011111), "1.5011");
        assert_eq!(format_number(13.5), "13.5");
        assert_eq!(format_number(0.00004), "0");
    }
}
