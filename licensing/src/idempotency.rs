//! Idempotency by meaning: whether a Decide retry under a recorded
//! `request_id` asks the same thing as the recorded request, and if not,
//! which fields differ.
//!
//! Both requests are put in a canonical form and compared field by field:
//!
//! - `as_of` is the date each request resolves to: an explicit date equal to
//!   the date an empty `as_of` resolved to is the same request. A retry that
//!   leaves `as_of` empty, like the recorded request did, means the same
//!   default as the first call (even after midnight).
//! - `lines` are a set keyed by `line_id` (required and unique), so their
//!   order does not matter; within a line, `entries` and
//!   `spec.parameters` are compared in sorted order (as multisets).
//! - `parties`, `held_authorizations` and every party's `aliases` are
//!   multisets: their order does not matter, their count does.
//! - A value equal to its default is the same as one left out: an empty
//!   `end_use` message is no `end_use`; a blank held-authorization
//!   `reference` is none; the end user's `role` (ignored) is dropped; numbers
//!   compare as numbers (`-0` is `0`). Proto3 optional fields (`optional
//!   bool`, `optional double`) keep their presence: "not stated" is not
//!   "no".
//! - Fields of the wire encoding that the request message does not know are
//!   not part of the request and are ignored, as the decision ignores them.
//!
//! Differences are named by the field paths of the retry (`lines[0].quantity`,
//! `parties[1].country`); what the retry lacks is named by the list
//! (`lines`, `parties`, `held_authorizations`).

use exportctl_proto::classifier as cpb;
use exportctl_proto::licensing as pb;
use exportctl_runtime::FieldViolation;
use prost::Message;

/// `req` in canonical form, with `as_of` the date it resolved to.
pub fn canonical(req: &pb::DecideRequest, as_of: &str) -> pb::DecideRequest {
    let mut c = req.clone();
    c.as_of = as_of.to_string();
    if let Some(u) = &mut c.end_user {
        u.role.clear();
        canonical_party(u);
    }
    if c.end_use.as_ref() == Some(&pb::EndUse::default()) {
        c.end_use = None;
    }
    for p in &mut c.parties {
        canonical_party(p);
    }
    c.parties.sort_by_cached_key(Message::encode_to_vec);
    for l in &mut c.lines {
        canonical_line(l);
    }
    c.lines.sort_by(|a, b| a.line_id.cmp(&b.line_id));
    for h in &mut c.held_authorizations {
        if h.reference.trim().is_empty() {
            h.reference.clear();
        }
    }
    c.held_authorizations
        .sort_by_cached_key(Message::encode_to_vec);
    c
}

fn canonical_party(p: &mut pb::Party) {
    p.aliases.sort();
}

fn canonical_line(l: &mut pb::LineItem) {
    l.entries
        .sort_by(|a, b| (&a.regime, &a.entry_id).cmp(&(&b.regime, &b.entry_id)));
    if let Some(s) = &mut l.spec {
        canonical_spec(s);
    }
}

fn canonical_spec(s: &mut cpb::ProductSpec) {
    s.parameters
        .sort_by_cached_key(|p| (p.name.clone(), p.encode_to_vec()));
}

/// The fields in which `incoming` (resolved to `incoming_as_of`) differs
/// from `recorded` (resolved to `recorded_as_of`), by the paths of
/// `incoming`; empty when they are the same request.
pub fn differences(
    recorded: &pb::DecideRequest,
    recorded_as_of: &str,
    incoming: &pb::DecideRequest,
    incoming_as_of: &str,
) -> Vec<FieldViolation> {
    let a = canonical(recorded, recorded_as_of);
    let b = canonical(incoming, incoming_as_of);
    let mut out = Diff::default();
    out.field("export_country", &a.export_country, &b.export_country);
    out.field(
        "destination_country",
        &a.destination_country,
        &b.destination_country,
    );
    out.field(
        "destination_subdivision",
        &a.destination_subdivision,
        &b.destination_subdivision,
    );
    out.field("as_of", &a.as_of, &b.as_of);
    match (&a.end_user, &b.end_user) {
        (Some(x), Some(y)) => out.party("end_user", x, y),
        (x, y) if x != y => out.push("end_user", "given in one request and not the other"),
        _ => {}
    }
    out.end_use(
        &a.end_use.clone().unwrap_or_default(),
        &b.end_use.clone().unwrap_or_default(),
    );
    out.parties(&a.parties, &incoming.parties);
    out.lines(&a.lines, &incoming.lines);
    out.held(&a.held_authorizations, &incoming.held_authorizations);
    if out.0.is_empty() && a != b {
        // A field this comparison does not name yet: never call them the same.
        out.push("request", "differs from the recorded request");
    }
    out.0
}

/// A value as the difference message shows it.
trait Shown {
    fn shown(&self) -> String;
}

impl Shown for String {
    fn shown(&self) -> String {
        if self.is_empty() {
            "empty".into()
        } else {
            let cut: String = self.chars().take(64).collect();
            if cut.len() < self.len() {
                format!("`{cut}…`")
            } else {
                format!("`{cut}`")
            }
        }
    }
}

impl Shown for f64 {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Shown for bool {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl Shown for i32 {
    fn shown(&self) -> String {
        self.to_string()
    }
}

impl<T: Shown> Shown for Option<T> {
    fn shown(&self) -> String {
        self.as_ref()
            .map_or_else(|| "not given".into(), Shown::shown)
    }
}

impl Shown for u32 {
    fn shown(&self) -> String {
        self.to_string()
    }
}

/// Compares the named fields of two messages, under a path prefix.
macro_rules! fields {
    ($diff:expr, $prefix:expr, $a:expr, $b:expr; $($f:ident),+ $(,)?) => {
        $( $diff.field(&format!("{}{}", $prefix, stringify!($f)), &$a.$f, &$b.$f); )+
    };
}

#[derive(Default)]
struct Diff(Vec<FieldViolation>);

impl Diff {
    fn push(&mut self, field: &str, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    fn field<T: PartialEq + Shown>(&mut self, field: &str, recorded: &T, now: &T) {
        if recorded != now {
            self.push(
                field,
                format!(
                    "{} in the recorded request, {} now",
                    recorded.shown(),
                    now.shown()
                ),
            );
        }
    }

    /// A multiset field (aliases, entries, parameters) as a whole.
    fn set<T: PartialEq>(&mut self, field: &str, recorded: &[T], now: &[T]) {
        if recorded != now {
            self.push(
                field,
                "differs from the recorded request (compared in any order)",
            );
        }
    }

    /// Two parties (canonical `x`, and `y` canonicalised here).
    fn party(&mut self, at: &str, x: &pb::Party, y: &pb::Party) {
        let mut y = y.clone();
        canonical_party(&mut y);
        let at = format!("{at}.");
        fields!(self, at, x, y; name, role, country, address, headquarters_country, ultimate_parent_country);
        self.set(&format!("{at}aliases"), &x.aliases, &y.aliases);
    }

    fn end_use(&mut self, x: &pb::EndUse, y: &pb::EndUse) {
        fields!(self, "end_use.", x, y;
            purpose, ic_production, fab_logic_node_nm, fab_transistor_architecture,
            fab_dram_half_pitch_nm, fab_nand_layers, fab_owner_headquarters,
            critical_infrastructure_operator, fab_dram_cell_area_um2, fab_dram_density_gb_mm2);
    }

    /// Parties as a multiset: the retry's parties not in the recorded
    /// request are compared with a recorded party of the same role and name
    /// when there is one, field by field; otherwise named whole.
    fn parties(&mut self, recorded: &[pb::Party], now: &[pb::Party]) {
        let mut left: Vec<&pb::Party> = recorded.iter().collect();
        let mut unmatched = Vec::new();
        for (i, p) in now.iter().enumerate() {
            let mut c = p.clone();
            canonical_party(&mut c);
            match left.iter().position(|r| **r == c) {
                Some(k) => {
                    left.remove(k);
                }
                None => unmatched.push((i, c)),
            }
        }
        for (i, c) in unmatched {
            let same = left
                .iter()
                .position(|r| r.role == c.role && r.name == c.name);
            match same {
                Some(k) => {
                    let r = left.remove(k);
                    self.party(&format!("parties[{i}]"), r, &c);
                }
                None => self.push(
                    &format!("parties[{i}]"),
                    format!(
                        "{} ({}) is not a party of the recorded request",
                        c.name.shown(),
                        c.role
                    ),
                ),
            }
        }
        for r in left {
            self.push(
                "parties",
                format!(
                    "the recorded request also names {} ({})",
                    r.name.shown(),
                    r.role
                ),
            );
        }
    }

    /// Lines keyed by `line_id`.
    fn lines(&mut self, recorded: &[pb::LineItem], now: &[pb::LineItem]) {
        for (i, l) in now.iter().enumerate() {
            let at = format!("lines[{i}]");
            match recorded.iter().find(|r| r.line_id == l.line_id) {
                Some(r) => {
                    let mut l = l.clone();
                    canonical_line(&mut l);
                    self.line(&at, r, &l);
                }
                None => self.push(
                    &at,
                    format!(
                        "line {} is not a line of the recorded request",
                        l.line_id.shown()
                    ),
                ),
            }
        }
        for r in recorded {
            if !now.iter().any(|l| l.line_id == r.line_id) {
                self.push(
                    "lines",
                    format!("the recorded request also has line {}", r.line_id.shown()),
                );
            }
        }
    }

    fn line(&mut self, at: &str, x: &pb::LineItem, y: &pb::LineItem) {
        let p = format!("{at}.");
        fields!(self, p, x, y;
            origin_country, quantity, value, currency, us_content_percent,
            us_controlled_content_percent, produced_with_us_technology,
            produced_with_us_equipment);
        self.set(&format!("{at}.entries"), &x.entries, &y.entries);
        match (&x.spec, &y.spec) {
            (Some(a), Some(b)) => self.spec(&format!("{at}.spec."), a, b),
            (a, b) if a != b => self.push(
                &format!("{at}.spec"),
                "given in one request and not the other",
            ),
            _ => {}
        }
    }

    fn spec(&mut self, p: &str, x: &cpb::ProductSpec, y: &cpb::ProductSpec) {
        fields!(self, p, x, y;
            sku, description, kind, equipment_function, material, process_node_nm,
            transistor_architecture, memory_type, dram_half_pitch_nm, memory_layers,
            wavelength_nm, concentration_percent, fluorine_content_percent, tpp,
            performance_density, transfer_rate_gbps, bandwidth_density_gbps_mm2,
            dedicated_chuck_overlay_nm, etch_selectivity, deposition_temperature_c,
            numerical_aperture, resist_tone, manufacturer, model);
        self.set(&format!("{p}parameters"), &x.parameters, &y.parameters);
    }

    /// Held authorizations as a multiset.
    fn held(&mut self, recorded: &[pb::HeldAuthorization], now: &[pb::HeldAuthorization]) {
        let mut left: Vec<&pb::HeldAuthorization> = recorded.iter().collect();
        for (i, h) in now.iter().enumerate() {
            let mut c = h.clone();
            if c.reference.trim().is_empty() {
                c.reference.clear();
            }
            match left.iter().position(|r| **r == c) {
                Some(k) => {
                    left.remove(k);
                }
                None => self.push(
                    &format!("held_authorizations[{i}]"),
                    format!(
                        "{} {} is not held in the recorded request",
                        c.regime, c.code
                    ),
                ),
            }
        }
        for r in left {
            self.push(
                "held_authorizations",
                format!("the recorded request also holds {} {}", r.regime, r.code),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, quantity: f64) -> pb::LineItem {
        pb::LineItem {
            line_id: id.into(),
            spec: Some(cpb::ProductSpec {
                kind: cpb::ItemKind::Material as i32,
                material: "photoresist".into(),
                wavelength_nm: Some(13.5),
                ..Default::default()
            }),
            origin_country: "JP".into(),
            quantity,
            ..Default::default()
        }
    }

    fn party(role: &str, name: &str) -> pb::Party {
        pb::Party {
            name: name.into(),
            country: "KR".into(),
            role: role.into(),
            ..Default::default()
        }
    }

    fn request() -> pb::DecideRequest {
        pb::DecideRequest {
            request_id: "po-1".into(),
            export_country: "JP".into(),
            destination_country: "KR".into(),
            end_user: Some(pb::Party {
                aliases: vec!["B".into(), "A".into()],
                ..party("", "Samsung")
            }),
            lines: vec![line("10", 1.0), line("20", 2.0)],
            parties: vec![party("consignee", "X"), party("forwarder", "Y")],
            held_authorizations: vec![
                pb::HeldAuthorization {
                    regime: "JP-FEFTA".into(),
                    code: "general_bulk".into(),
                    reference: String::new(),
                },
                pb::HeldAuthorization {
                    regime: "JP-FEFTA".into(),
                    code: "comprehensive".into(),
                    reference: "L-1".into(),
                },
            ],
            ..Default::default()
        }
    }

    fn fields(v: &[FieldViolation]) -> Vec<&str> {
        v.iter().map(|v| v.field.as_str()).collect()
    }

    const DAY: &str = "2025-06-02";

    #[test]
    fn the_same_request_spelled_differently_is_the_same() {
        let mut r = request();
        r.lines[0].us_content_percent = Some(0.0);
        assert!(differences(&r, DAY, &r, DAY).is_empty());
        let mut b = r.clone();
        b.as_of = DAY.into();
        b.lines.reverse();
        b.parties.reverse();
        b.held_authorizations.reverse();
        b.held_authorizations[1].reference = "  ".into();
        b.end_use = Some(pb::EndUse::default());
        let u = b.end_user.as_mut().unwrap();
        u.aliases.reverse();
        u.role = "end_user".into();
        b.lines[1].us_content_percent = Some(-0.0); // line "10", reversed
        assert_eq!(differences(&r, DAY, &b, DAY), vec![]);
        assert_eq!(canonical(&r, DAY), canonical(&b, DAY));
    }

    #[test]
    fn entries_and_parameters_in_any_order() {
        let mut r = request();
        r.lines[0].entries = vec![
            pb::PreClassifiedEntry {
                regime: "US-EAR".into(),
                entry_id: "3A090.a".into(),
            },
            pb::PreClassifiedEntry {
                regime: "JP-FEFTA".into(),
                entry_id: "7-1".into(),
            },
        ];
        let spec = r.lines[0].spec.as_mut().unwrap();
        spec.parameters = vec![
            cpb::Parameter {
                name: "b".into(),
                value: Some(cpb::parameter::Value::Number(1.0)),
                ..Default::default()
            },
            cpb::Parameter {
                name: "a".into(),
                value: Some(cpb::parameter::Value::Flag(true)),
                ..Default::default()
            },
        ];
        let mut b = r.clone();
        b.lines[0].entries.reverse();
        b.lines[0].spec.as_mut().unwrap().parameters.reverse();
        assert!(differences(&r, DAY, &b, DAY).is_empty());
        b.lines[0].entries.pop();
        assert_eq!(fields(&differences(&r, DAY, &b, DAY)), ["lines[0].entries"]);
    }

    #[test]
    fn a_different_date_or_value_is_named_by_the_retrys_path() {
        let r = request();
        let mut b = r.clone();
        b.lines.reverse();
        b.lines[0].quantity = 99.0; // line "20"
        b.destination_country = "CN".into();
        let d = differences(&r, DAY, &b, "2025-06-03");
        assert_eq!(
            fields(&d),
            ["destination_country", "as_of", "lines[0].quantity"]
        );
        assert_eq!(d[2].description, "2 in the recorded request, 99 now");
        assert_eq!(d[0].description, "`KR` in the recorded request, `CN` now");
    }

    #[test]
    fn optional_fields_keep_their_presence() {
        let mut r = request();
        r.end_use = Some(pb::EndUse {
            ic_production: None,
            ..Default::default()
        });
        let mut b = r.clone();
        b.end_use = Some(pb::EndUse {
            ic_production: Some(false),
            ..Default::default()
        });
        let d = differences(&r, DAY, &b, DAY);
        assert_eq!(fields(&d), ["end_use.ic_production"]);
        assert_eq!(
            d[0].description,
            "not given in the recorded request, false now"
        );
        b.lines[1].produced_with_us_technology = Some(false);
        b.lines[1].spec.as_mut().unwrap().wavelength_nm = None;
        assert_eq!(
            fields(&differences(&r, DAY, &b, DAY)),
            [
                "end_use.ic_production",
                "lines[1].produced_with_us_technology",
                "lines[1].spec.wavelength_nm"
            ]
        );
    }

    #[test]
    fn added_and_missing_lines_parties_and_authorizations() {
        let r = request();
        let mut b = r.clone();
        b.lines[1].line_id = "30".into();
        b.parties[0].country = "CN".into();
        b.parties[1].name = "Z".into();
        b.held_authorizations.remove(0);
        let d = differences(&r, DAY, &b, DAY);
        assert_eq!(
            fields(&d),
            [
                "parties[0].country",
                "parties[1]",
                "parties",
                "lines[1]",
                "lines",
                "held_authorizations"
            ],
            "{d:?}"
        );
        b.held_authorizations[0].code = "special_general_bulk".into();
        assert!(fields(&differences(&r, DAY, &b, DAY)).contains(&"held_authorizations[0]"));
    }

    #[test]
    fn multisets_count() {
        let r = request();
        let mut b = r.clone();
        b.parties.push(b.parties[0].clone());
        assert_eq!(fields(&differences(&r, DAY, &b, DAY)), ["parties[2]"]);
        let mut b = r.clone();
        b.end_user.as_mut().unwrap().aliases.push("A".into());
        assert_eq!(fields(&differences(&r, DAY, &b, DAY)), ["end_user.aliases"]);
    }

    #[test]
    fn an_end_user_given_in_one_request_only() {
        let r = request();
        let mut b = r.clone();
        b.end_user = None;
        assert_eq!(fields(&differences(&r, DAY, &b, DAY)), ["end_user"]);
    }
}
