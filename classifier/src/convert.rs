//! Proto ↔ domain conversion: validates every field of a request (reporting
//! each bad one) and renders engine results as responses.

use exportctl_core::dates;
use exportctl_core::validate;
use exportctl_proto::classifier as pb;
use exportctl_runtime::FieldViolation;
use time::Date;

use crate::engine::{RegimeResult, RuleSet};
use crate::pack::{Confidence, ControlEntry, EntryVersion};
use crate::vocabulary::{AttrKind, Facts, Value, Vocabulary};

/// Longest accepted free-text fields, characters.
pub const MAX_SKU: usize = 128;
pub const MAX_DESCRIPTION: usize = 2048;
pub const MAX_NAME: usize = 256;
/// Most extension parameters on one spec.
pub const MAX_PARAMETERS: usize = 64;
/// Most regime filters on one request.
pub const MAX_REGIMES: usize = 16;

/// A validated classification request.
#[derive(Debug, Clone)]
pub struct ClassifyQuery {
    pub sku: String,
    pub facts: Facts,
    pub as_of: Date,
    /// Regime indexes to classify in; `None` = all.
    pub regimes: Option<Vec<usize>>,
}

fn item_kind_value(kind: i32) -> Option<&'static str> {
    Some(match pb::ItemKind::try_from(kind).ok()? {
        pb::ItemKind::Unspecified => return None,
        pb::ItemKind::IntegratedCircuit => "integrated_circuit",
        pb::ItemKind::Equipment => "equipment",
        pb::ItemKind::Material => "material",
        pb::ItemKind::Software => "software",
        pb::ItemKind::Technology => "technology",
        pb::ItemKind::Other => "other",
        pb::ItemKind::Computer => "computer",
    })
}

/// A text field: at most `max` characters, each allowed by `chars` (a
/// [`validate`] rule).
fn check_text(
    out: &mut Vec<FieldViolation>,
    field: impl FnOnce() -> String,
    value: &str,
    max: usize,
    chars: fn(&str) -> Result<(), String>,
) {
    // Cheap test first: a string of at most `max` bytes has at most `max` characters.
    if value.len() > max && value.chars().count() > max {
        out.push(FieldViolation::new(
            field(),
            format!("longer than {max} characters"),
        ));
    } else if let Err(m) = chars(value) {
        out.push(FieldViolation::new(field(), m));
    }
}

/// Validates a spec into typed facts; `prefix` is the spec's path in the request (`spec`).
pub fn spec_facts(
    spec: &pb::ProductSpec,
    vocab: &Vocabulary,
    prefix: &str,
) -> Result<Facts, Vec<FieldViolation>> {
    let mut bad = Vec::new();
    let field = |name: &str| format!("{prefix}.{name}");
    let mut facts = vocab.empty_facts();

    check_text(
        &mut bad,
        || field("sku"),
        &spec.sku,
        MAX_SKU,
        validate::identifier,
    );
    check_text(
        &mut bad,
        || field("description"),
        &spec.description,
        MAX_DESCRIPTION,
        validate::free_text,
    );
    check_text(
        &mut bad,
        || field("manufacturer"),
        &spec.manufacturer,
        MAX_NAME,
        validate::name,
    );
    check_text(
        &mut bad,
        || field("model"),
        &spec.model,
        MAX_NAME,
        validate::name,
    );

    let kind_attr = vocab.id("kind").expect("vocabulary declares kind");
    match item_kind_value(spec.kind) {
        Some(v) => match vocab.category_index(kind_attr, v) {
            Some(i) => facts.set(kind_attr, Some(Value::Category(i))),
            None => bad.push(FieldViolation::new(
                field("kind"),
                format!("`{v}` is not in the vocabulary"),
            )),
        },
        None if spec.kind == 0 => bad.push(FieldViolation::new(
            field("kind"),
            "required: the item kind must be set",
        )),
        None => bad.push(FieldViolation::new(
            field("kind"),
            format!("unknown ItemKind value {}", spec.kind),
        )),
    }

    let categories = [
        ("equipment_function", &spec.equipment_function),
        ("material", &spec.material),
        ("transistor_architecture", &spec.transistor_architecture),
        ("memory_type", &spec.memory_type),
        ("resist_tone", &spec.resist_tone),
    ];
    for (name, value) in categories {
        if value.is_empty() {
            continue;
        }
        let attr = vocab
            .id(name)
            .expect("vocabulary declares every spec field");
        match vocab.category_index(attr, value) {
            Some(i) => facts.set(attr, Some(Value::Category(i))),
            None => bad.push(FieldViolation::new(
                field(name),
                unknown_value(vocab, attr, value),
            )),
        }
    }

    let numbers = [
        ("process_node_nm", spec.process_node_nm),
        ("dram_half_pitch_nm", spec.dram_half_pitch_nm),
        ("memory_layers", spec.memory_layers.map(f64::from)),
        ("wavelength_nm", spec.wavelength_nm),
        ("concentration_percent", spec.concentration_percent),
        ("fluorine_content_percent", spec.fluorine_content_percent),
        ("tpp", spec.tpp),
        ("performance_density", spec.performance_density),
        ("transfer_rate_gbps", spec.transfer_rate_gbps),
        (
            "bandwidth_density_gbps_mm2",
            spec.bandwidth_density_gbps_mm2,
        ),
        (
            "dedicated_chuck_overlay_nm",
            spec.dedicated_chuck_overlay_nm,
        ),
        ("etch_selectivity", spec.etch_selectivity),
        ("deposition_temperature_c", spec.deposition_temperature_c),
        ("numerical_aperture", spec.numerical_aperture),
    ];
    for (name, value) in numbers {
        let Some(x) = value else { continue };
        let attr = vocab
            .id(name)
            .expect("vocabulary declares every spec field");
        match vocab.check_number(attr, x) {
            Ok(()) => facts.set(attr, Some(Value::Number(x))),
            Err(m) => bad.push(FieldViolation::new(field(name), m)),
        }
    }

    if spec.parameters.len() > MAX_PARAMETERS {
        bad.push(FieldViolation::new(
            field("parameters"),
            format!("at most {MAX_PARAMETERS} parameters"),
        ));
    } else {
        let mut seen = Vec::with_capacity(spec.parameters.len());
        for (i, p) in spec.parameters.iter().enumerate() {
            let at = || format!("{prefix}.parameters[{i}]");
            match parameter_value(p, vocab) {
                Ok((attr, value)) => {
                    if seen.contains(&attr) {
                        bad.push(FieldViolation::new(
                            format!("{}.name", at()),
                            format!("`{}` is given twice", p.name),
                        ));
                    } else {
                        seen.push(attr);
                        facts.set(attr, Some(value));
                    }
                }
                Err(v) => bad.push(v.nested(&at())),
            }
        }
    }

    if bad.is_empty() {
        vocab.derive(&mut facts);
        Ok(facts)
    } else {
        Err(bad)
    }
}

fn unknown_value(vocab: &Vocabulary, attr: u16, value: &str) -> String {
    let shown: String = value.chars().take(64).collect();
    format!(
        "unknown value `{shown}`; allowed: {}",
        vocab.def(attr).values.join(", ")
    )
}

fn parameter_value(p: &pb::Parameter, vocab: &Vocabulary) -> Result<(u16, Value), FieldViolation> {
    use pb::parameter::Value as V;
    let name: String = p.name.chars().take(64).collect();
    let attr = vocab
        .id(&p.name)
        .ok_or_else(|| FieldViolation::new("name", format!("unknown attribute `{name}`")))?;
    let def = vocab.def(attr);
    if def.spec_field {
        return Err(FieldViolation::new(
            "name",
            format!("`{name}` is a ProductSpec field: set spec.{name} instead"),
        ));
    }
    if def.derived {
        return Err(FieldViolation::new(
            "name",
            format!("`{name}` is computed by the engine"),
        ));
    }
    if !p.unit.is_empty() && p.unit != def.unit {
        let unit: String = p.unit.chars().take(32).collect();
        return Err(FieldViolation::new(
            "unit",
            format!("`{name}` is in {}, not `{unit}`", def.unit),
        ));
    }
    let expected = match def.kind {
        AttrKind::Number => "number",
        AttrKind::Category => "text",
        AttrKind::Flag => "flag",
    };
    match (def.kind, &p.value) {
        (AttrKind::Number, Some(V::Number(x))) => {
            vocab
                .check_number(attr, *x)
                .map_err(|m| FieldViolation::new("number", m))?;
            Ok((attr, Value::Number(*x)))
        }
        (AttrKind::Category, Some(V::Text(t))) => vocab
            .category_index(attr, t)
            .map(|i| (attr, Value::Category(i)))
            .ok_or_else(|| FieldViolation::new("text", unknown_value(vocab, attr, t))),
        (AttrKind::Flag, Some(V::Flag(b))) => Ok((attr, Value::Flag(*b))),
        (_, None) => Err(FieldViolation::new(
            "value",
            format!("`{name}` needs a {expected} value"),
        )),
        (_, Some(_)) => Err(FieldViolation::new(
            "value",
            format!("`{name}` takes a {expected} value"),
        )),
    }
}

/// Parses `as_of` (empty = today) and checks the rule set speaks for it.
pub fn as_of(text: &str, rules: &RuleSet, field: &str) -> Result<Date, FieldViolation> {
    let date = validate::date_or_today(text).map_err(|m| FieldViolation::new(field, m))?;
    let covers = rules.covers_from();
    if date < covers {
        return Err(FieldViolation::new(
            field,
            format!(
                "{} is before {}, the first date the loaded rule packs cover",
                dates::format(date),
                dates::format(covers)
            ),
        ));
    }
    Ok(date)
}

/// Validates a regime filter into regime indexes.
pub fn regime_filter(
    regimes: &[String],
    rules: &RuleSet,
    field: &str,
) -> Result<Option<Vec<usize>>, Vec<FieldViolation>> {
    if regimes.is_empty() {
        return Ok(None);
    }
    if regimes.len() > MAX_REGIMES {
        return Err(vec![FieldViolation::new(
            field,
            format!("at most {MAX_REGIMES} regimes"),
        )]);
    }
    let mut out = Vec::with_capacity(regimes.len());
    let mut bad = Vec::new();
    for (i, r) in regimes.iter().enumerate() {
        match rules.regime_index(r) {
            Some(idx) => out.push(idx),
            None => bad.push(FieldViolation::new(
                format!("{field}[{i}]"),
                unknown_regime(r, rules),
            )),
        }
    }
    if bad.is_empty() {
        Ok(Some(out))
    } else {
        Err(bad)
    }
}

pub fn unknown_regime(r: &str, rules: &RuleSet) -> String {
    let shown: String = r.chars().take(32).collect();
    let known: Vec<&str> = rules.packs().map(|p| p.regime.as_str()).collect();
    format!("unknown regime `{shown}`; loaded: {}", known.join(", "))
}

/// Validates a whole Classify request.
pub fn classify_query(
    req: &pb::ClassifyRequest,
    rules: &RuleSet,
) -> Result<ClassifyQuery, Vec<FieldViolation>> {
    let mut bad = Vec::new();
    let facts = match &req.spec {
        None => {
            bad.push(FieldViolation::new("spec", "required"));
            None
        }
        Some(spec) => match spec_facts(spec, rules.vocabulary(), "spec") {
            Ok(f) => Some(f),
            Err(v) => {
                bad.extend(v);
                None
            }
        },
    };
    let as_of = as_of(&req.as_of, rules, "as_of")
        .map_err(|v| bad.push(v))
        .ok();
    let regimes = regime_filter(&req.regimes, rules, "regimes")
        .map_err(|v| bad.extend(v))
        .ok();
    match (facts, as_of, regimes) {
        (Some(facts), Some(as_of), Some(regimes)) if bad.is_empty() => Ok(ClassifyQuery {
            sku: req.spec.as_ref().map(|s| s.sku.clone()).unwrap_or_default(),
            facts,
            as_of,
            regimes,
        }),
        _ => Err(bad),
    }
}

pub fn confidence(c: Confidence) -> pb::Confidence {
    match c {
        Confidence::High => pb::Confidence::High,
        Confidence::Low => pb::Confidence::Low,
    }
}

fn until_text(v: &EntryVersion) -> String {
    v.until.map(dates::format).unwrap_or_default()
}

/// Renders engine results as a response.
pub fn classify_response(
    query: &ClassifyQuery,
    rules: &RuleSet,
    results: &[RegimeResult<'_>],
) -> pb::ClassifyResponse {
    into_classify_response(query.clone(), rules, results.to_vec())
}

/// Renders engine results as a response, moving what it can out of them.
pub fn into_classify_response(
    query: ClassifyQuery,
    rules: &RuleSet,
    results: Vec<RegimeResult<'_>>,
) -> pb::ClassifyResponse {
    pb::ClassifyResponse {
        sku: query.sku,
        as_of: dates::format(query.as_of),
        rules_digest: rules.digest().to_string(),
        regimes: results.into_iter().map(regime_classification).collect(),
        error: None,
    }
}

fn regime_classification(r: RegimeResult<'_>) -> pb::RegimeClassification {
    let regime = &r.pack.regime;
    let status = if !r.matches.is_empty() {
        pb::ClassificationStatus::Listed
    } else if !r.undetermined.is_empty() {
        pb::ClassificationStatus::Undetermined
    } else {
        pb::ClassificationStatus::NotListed
    };
    let not_listed_label = r.not_listed_label().unwrap_or_default().to_string();
    pb::RegimeClassification {
        regime: regime.clone(),
        matches: r
            .matches
            .into_iter()
            .map(|m| pb::ControlMatch {
                regime: regime.clone(),
                entry_id: m.entry.id.clone(),
                title: m.entry.title.clone(),
                reasons: m.reasons.iter().map(|s| s.to_string()).collect(),
                citations: m.version.citations.clone(),
                because: m.because,
                confidence: confidence(m.version.confidence) as i32,
                effective_from: dates::format(m.version.from),
                effective_until: until_text(m.version),
                note: m.version.note.clone(),
            })
            .collect(),
        not_listed_label,
        status: status as i32,
        undetermined: r
            .undetermined
            .iter()
            .map(|u| pb::UndeterminedEntry {
                entry_id: u.entry.id.clone(),
                title: match r.outside_scope {
                    // Name the spec's kind in the scope entry's explanation.
                    Some(kind) => format!("Kind {kind}: {}", u.entry.title),
                    None => u.entry.title.clone(),
                },
                missing_attributes: u.missing.iter().map(|s| s.to_string()).collect(),
                citations: u.version.citations.clone(),
            })
            .collect(),
        pack_version: r.pack.version.clone(),
    }
}

/// Renders a control entry with all its versions.
pub fn control_entry(regime: &str, e: &ControlEntry) -> pb::ControlEntry {
    pb::ControlEntry {
        regime: regime.to_string(),
        entry_id: e.id.clone(),
        title: e.title.clone(),
        versions: e
            .versions
            .iter()
            .map(|v| pb::EntryVersion {
                effective_from: dates::format(v.from),
                effective_until: until_text(v),
                reasons: v
                    .reasons
                    .iter()
                    .map(|r| match &r.when {
                        None => r.code.clone(),
                        Some((text, _)) => format!("{} (when {text})", r.code),
                    })
                    .collect(),
                citations: v.citations.clone(),
                criteria: v.criteria_text.clone(),
                confidence: confidence(v.confidence) as i32,
                note: v.note.clone(),
            })
            .collect(),
    }
}

/// The attribute vocabulary as DescribeRules publishes it.
pub fn attributes(vocab: &Vocabulary) -> Vec<pb::AttributeInfo> {
    vocab
        .attributes()
        .iter()
        .map(|a| pb::AttributeInfo {
            name: a.name.clone(),
            r#type: match a.kind {
                AttrKind::Number => pb::AttributeType::Number,
                AttrKind::Category => pb::AttributeType::Category,
                AttrKind::Flag => pb::AttributeType::Flag,
            } as i32,
            unit: a.unit.clone(),
            allowed_values: a.values.clone(),
            description: a.description.clone(),
            spec_field: a.spec_field,
            derived: a.derived,
        })
        .collect()
}
