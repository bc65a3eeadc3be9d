//! What `exportctl classify`, `exportctl decide` and `exportctl decisions` print: a readable table,
//! or with `--json` the response as JSON (proto field names, enum values by
//! their full names, every field present).

use exportctl_proto::classifier as cpb;
use exportctl_proto::licensing as lpb;
use exportctl_runtime::errors::field_violations;
use serde_json::{Value, json};

/// An enum value by its proto name (`OUTCOME_AUTHORIZED`), or its number
/// when this build does not know it.
fn enum_json<E>(value: i32, name: fn(&E) -> &'static str) -> Value
where
    E: TryFrom<i32>,
{
    match E::try_from(value) {
        Ok(e) => Value::from(name(&e)),
        Err(_) => Value::from(value),
    }
}

/// An enum value without its type prefix (`AUTHORIZED`), for tables.
fn enum_short<E>(value: i32, name: fn(&E) -> &'static str, prefix: &str) -> String
where
    E: TryFrom<i32>,
{
    match E::try_from(value) {
        Ok(e) => {
            let n = name(&e);
            n.strip_prefix(prefix).unwrap_or(n).to_string()
        }
        Err(_) => value.to_string(),
    }
}

fn outcome_short(v: i32) -> String {
    enum_short(v, lpb::Outcome::as_str_name, "OUTCOME_")
}

fn status_short(v: i32) -> String {
    enum_short(
        v,
        cpb::ClassificationStatus::as_str_name,
        "CLASSIFICATION_STATUS_",
    )
}

// ------------------------------------------------------------------ JSON

fn match_json(m: &cpb::ControlMatch) -> Value {
    json!({
        "regime": m.regime,
        "entry_id": m.entry_id,
        "title": m.title,
        "reasons": m.reasons,
        "citations": m.citations,
        "because": m.because,
        "confidence": enum_json(m.confidence, cpb::Confidence::as_str_name),
        "effective_from": m.effective_from,
        "effective_until": m.effective_until,
        "note": m.note,
    })
}

fn regime_json(c: &cpb::RegimeClassification) -> Value {
    json!({
        "regime": c.regime,
        "matches": c.matches.iter().map(match_json).collect::<Vec<_>>(),
        "not_listed_label": c.not_listed_label,
        "status": enum_json(c.status, cpb::ClassificationStatus::as_str_name),
        "undetermined": c.undetermined.iter().map(|u| json!({
            "entry_id": u.entry_id,
            "title": u.title,
            "missing_attributes": u.missing_attributes,
            "citations": u.citations,
        })).collect::<Vec<_>>(),
        "pack_version": c.pack_version,
    })
}

/// A `ClassifyResponse` as JSON.
pub fn classify_json(r: &cpb::ClassifyResponse) -> Value {
    let mut v = json!({
        "sku": r.sku,
        "as_of": r.as_of,
        "rules_digest": r.rules_digest,
        "regimes": r.regimes.iter().map(regime_json).collect::<Vec<_>>(),
    });
    if let Some(e) = &r.error {
        v["error"] = json!({"code": e.code, "message": e.message});
    }
    v
}

fn determination_json(d: &lpb::Determination) -> Value {
    json!({
        "regime": d.regime,
        "outcome": enum_json(d.outcome, lpb::Outcome::as_str_name),
        "entry_ids": d.entry_ids,
        "reasons": d.reasons,
        "authorization": d.authorization,
        "review_policy": enum_json(d.review_policy, lpb::ReviewPolicy::as_str_name),
        "citations": d.citations,
        "explanation": d.explanation,
        "missing_facts": d.missing_facts,
        "rule_id": d.rule_id,
        "source": d.source,
        "confidence": enum_json(d.confidence, cpb::Confidence::as_str_name),
        "party_match": d.party_match.as_ref().map(|m| json!({
            "role": m.role,
            "party_name": m.party_name,
            "list": m.list,
            "list_name": m.list_name,
            "entry_name": m.entry_name,
            "matched_name": m.matched_name,
            "score": m.score,
            "exact": m.exact,
            "federal_register_notice": m.federal_register_notice,
            "source_list_url": m.source_list_url,
            "signals": m.signals,
            "license_requirement": m.license_requirement,
            "license_policy": m.license_policy,
            "entry_id": m.entry_id,
        })),
    })
}

fn party_json(p: &lpb::Party) -> Value {
    json!({
        "name": p.name,
        "country": p.country,
        "aliases": p.aliases,
        "address": p.address,
        "role": p.role,
        "headquarters_country": p.headquarters_country,
        "ultimate_parent_country": p.ultimate_parent_country,
    })
}

/// The request a decision decided. A line's spec is shown by what names the
/// item (sku, description, kind, equipment function, material); its
/// technical parameters are in the line's classifications.
pub fn request_json(r: &lpb::DecideRequest) -> Value {
    json!({
        "request_id": r.request_id,
        "export_country": r.export_country,
        "destination_country": r.destination_country,
        "destination_subdivision": r.destination_subdivision,
        "as_of": r.as_of,
        "end_user": r.end_user.as_ref().map(party_json),
        "parties": r.parties.iter().map(party_json).collect::<Vec<_>>(),
        "end_use": r.end_use.as_ref().map(|e| json!({
            "purpose": e.purpose,
            "ic_production": e.ic_production,
            "fab_logic_node_nm": e.fab_logic_node_nm,
            "fab_transistor_architecture": e.fab_transistor_architecture,
            "fab_dram_half_pitch_nm": e.fab_dram_half_pitch_nm,
            "fab_nand_layers": e.fab_nand_layers,
            "fab_owner_headquarters": e.fab_owner_headquarters,
            "critical_infrastructure_operator": e.critical_infrastructure_operator,
            "fab_dram_cell_area_um2": e.fab_dram_cell_area_um2,
            "fab_dram_density_gb_mm2": e.fab_dram_density_gb_mm2,
        })),
        "lines": r.lines.iter().map(|l| json!({
            "line_id": l.line_id,
            "spec": l.spec.as_ref().map(|s| json!({
                "sku": s.sku,
                "description": s.description,
                "kind": enum_json(s.kind, cpb::ItemKind::as_str_name),
                "equipment_function": s.equipment_function,
                "material": s.material,
            })),
            "origin_country": l.origin_country,
            "quantity": l.quantity,
            "value": l.value,
            "currency": l.currency,
            "entries": l.entries.iter().map(|e| json!({
                "regime": e.regime,
                "entry_id": e.entry_id,
            })).collect::<Vec<_>>(),
            "us_content_percent": l.us_content_percent,
            "us_controlled_content_percent": l.us_controlled_content_percent,
            "produced_with_us_technology": l.produced_with_us_technology,
            "produced_with_us_equipment": l.produced_with_us_equipment,
        })).collect::<Vec<_>>(),
        "held_authorizations": r.held_authorizations.iter().map(|h| json!({
            "regime": h.regime,
            "code": h.code,
            "reference": h.reference,
        })).collect::<Vec<_>>(),
    })
}

/// A `Decision` as JSON.
pub fn decision_json(d: &lpb::Decision) -> Value {
    json!({
        "name": d.name,
        "request_id": d.request_id,
        "as_of": d.as_of,
        "outcome": enum_json(d.outcome, lpb::Outcome::as_str_name),
        "state": enum_json(d.state, lpb::DecisionState::as_str_name),
        "lines": d.lines.iter().map(|l| json!({
            "line_id": l.line_id,
            "outcome": enum_json(l.outcome, lpb::Outcome::as_str_name),
            "review_status": enum_json(l.review_status, lpb::ReviewStatus::as_str_name),
            "classifications": l.classifications.iter().map(regime_json).collect::<Vec<_>>(),
            "determinations": l.determinations.iter().map(determination_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "advisories": d.advisories.iter().map(|a| json!({
            "code": a.code,
            "regime": a.regime,
            "text": a.text,
            "citations": a.citations,
            "line_ids": a.line_ids,
        })).collect::<Vec<_>>(),
        "rules_digest": d.rules_digest,
        "created_at": d.created_at,
        "classifier_rules_digest": d.classifier_rules_digest,
        "sequence": d.sequence,
        "record_hash": d.record_hash,
        "export_country": d.export_country,
        "destination_country": d.destination_country,
        "screening_sources": d.screening_sources.iter().map(|s| json!({
            "name": s.name,
            "list_date": s.list_date,
            "date_basis": s.date_basis,
            "entries": s.entries,
            "digest": s.digest,
        })).collect::<Vec<_>>(),
        "pack_vintages": d.pack_vintages.iter().map(|p| json!({
            "regime": p.regime,
            "version": p.version,
            "reviewed_through": p.reviewed_through,
        })).collect::<Vec<_>>(),
        "destination_subdivision": d.destination_subdivision,
        "request": d.request.as_ref().map(request_json),
    })
}

/// A listing (one page, or every page with `--all`) as JSON.
pub fn list_json(decisions: &[lpb::Decision], next_page_token: &str) -> Value {
    json!({
        "decisions": decisions.iter().map(decision_json).collect::<Vec<_>>(),
        "next_page_token": next_page_token,
    })
}

/// A `DecideResponse` as JSON.
pub fn decide_json(r: &lpb::DecideResponse) -> Value {
    json!({ "decision": r.decision.as_ref().map(decision_json) })
}

/// The canonical name of a gRPC status code (`INVALID_ARGUMENT`).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A failed call as JSON: code, message and every `BadRequest` field violation.
pub fn status_json(target: &str, status: &tonic::Status) -> Value {
    json!({
        "error": {
            "target": target,
            "code": code_name(status.code()),
            "message": status.message(),
            "field_violations": field_violations(status).iter().map(|v| json!({
                "field": v.field,
                "description": v.description,
            })).collect::<Vec<_>>(),
        }
    })
}

/// A failed call for people: the status, then one line per field violation.
pub fn status_text(target: &str, status: &tonic::Status) -> String {
    let mut out = format!(
        "error: {target}: {}: {}\n",
        code_name(status.code()),
        status.message()
    );
    let violations = field_violations(status);
    if !violations.is_empty() {
        out.push_str("field violations:\n");
        for v in violations {
            out.push_str(&format!("  {}: {}\n", v.field, v.description));
        }
    }
    out
}

// ------------------------------------------------------------------ tables

/// Rows of cells printed in aligned columns; a row may carry note lines
/// printed under it, starting at the second column.
struct Table {
    headers: Vec<&'static str>,
    rows: Vec<(Vec<String>, Vec<String>)>,
}

impl Table {
    fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>, notes: Vec<String>) {
        self.rows.push((cells, notes));
    }

    fn render(&self, indent: &str, out: &mut String) {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for (cells, _) in &self.rows {
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String], out: &mut String| {
            let mut s = String::from(indent);
            for (i, c) in cells.iter().enumerate().take(n) {
                s.push_str(c);
                if i + 1 < n {
                    let pad = widths[i] - c.chars().count() + 2;
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        let headers: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        line(&headers, out);
        let note_indent = format!("{indent}{}", " ".repeat(widths[0] + 2));
        for (cells, notes) in &self.rows {
            line(cells, out);
            for note in notes {
                out.push_str(&note_indent);
                out.push_str(note);
                out.push('\n');
            }
        }
    }
}

fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_string()
    } else {
        s.to_string()
    }
}

fn join_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}

fn classification_rows(table: &mut Table, c: &cpb::RegimeClassification) {
    let status = status_short(c.status);
    let mut first = true;
    let mut regime = || {
        if std::mem::take(&mut first) {
            c.regime.clone()
        } else {
            String::new()
        }
    };
    for m in &c.matches {
        let mut detail = m.title.clone();
        if m.confidence == cpb::Confidence::Low as i32 {
            detail.push_str(" [low confidence]");
        }
        table.row(
            vec![
                regime(),
                status.clone(),
                m.entry_id.clone(),
                join_or_dash(&m.reasons),
                detail,
            ],
            Vec::new(),
        );
    }
    for u in &c.undetermined {
        table.row(
            vec![
                regime(),
                "UNDETERMINED".to_string(),
                u.entry_id.clone(),
                "-".to_string(),
                format!("needs {}: {}", u.missing_attributes.join(", "), u.title),
            ],
            Vec::new(),
        );
    }
    if c.matches.is_empty() && c.undetermined.is_empty() {
        table.row(
            vec![
                regime(),
                status,
                or_dash(&c.not_listed_label),
                "-".to_string(),
                String::new(),
            ],
            Vec::new(),
        );
    }
}

/// A `ClassifyResponse` as a table.
pub fn classify_table(r: &cpb::ClassifyResponse) -> String {
    let mut out = format!(
        "{} as of {}\nrules {}\n\n",
        if r.sku.is_empty() { "(no sku)" } else { &r.sku },
        r.as_of,
        r.rules_digest
    );
    let mut table = Table::new(&["REGIME", "STATUS", "ENTRY", "REASONS", "TITLE"]);
    for c in &r.regimes {
        classification_rows(&mut table, c);
    }
    table.render("", &mut out);
    out
}

fn classification_summary(c: &cpb::RegimeClassification) -> String {
    let entries: Vec<String> = if !c.matches.is_empty() {
        c.matches.iter().map(|m| m.entry_id.clone()).collect()
    } else if !c.undetermined.is_empty() {
        c.undetermined
            .iter()
            .map(|u| format!("{}?", u.entry_id))
            .collect()
    } else {
        vec![or_dash(&c.not_listed_label)]
    };
    format!(
        "{} {} ({})",
        c.regime,
        entries.join(", "),
        status_short(c.status)
    )
}

fn state_short(v: i32) -> String {
    enum_short(v, lpb::DecisionState::as_str_name, "DECISION_STATE_")
}

fn review_short(v: i32) -> String {
    enum_short(v, lpb::ReviewStatus::as_str_name, "REVIEW_STATUS_")
}

/// A number without a trailing `.0`.
fn number(v: f64) -> String {
    format!("{v}")
}

/// The parties of a request, one line: `end_user NAME (CC); sold_to ...`.
fn parties_text(r: &lpb::DecideRequest) -> String {
    let one = |role: &str, p: &lpb::Party| {
        let role = if p.role.is_empty() { role } else { &p.role };
        format!("{role} {} ({})", p.name, or_dash(&p.country))
    };
    let all: Vec<String> = r
        .end_user
        .iter()
        .map(|p| one("end_user", p))
        .chain(r.parties.iter().map(|p| one("party", p)))
        .collect();
    join_or_dash(&all)
}

/// What a request line ships: `sku WCC-200, 200 x 12.5 USD`.
fn line_text(l: &lpb::LineItem) -> String {
    let spec = l.spec.as_ref();
    let sku = spec.map(|s| s.sku.as_str()).unwrap_or_default();
    let what = spec
        .map(|s| {
            [
                s.material.as_str(),
                s.equipment_function.as_str(),
                s.description.as_str(),
            ]
        })
        .and_then(|v| v.into_iter().find(|t| !t.is_empty()))
        .or_else(|| l.entries.first().map(|e| e.entry_id.as_str()))
        .unwrap_or_default();
    let mut out = format!("sku {}", or_dash(sku));
    if !what.is_empty() {
        out.push_str(&format!(" ({what})"));
    }
    out.push_str(&format!(", quantity {}", number(l.quantity)));
    if l.value != 0.0 || !l.currency.is_empty() {
        out.push_str(&format!(
            ", value {} {}",
            number(l.value),
            or_dash(&l.currency)
        ));
    }
    if !l.origin_country.is_empty() {
        out.push_str(&format!(", origin {}", l.origin_country));
    }
    out
}

/// A `Decision` as tables: a header, then per line its classifications and a
/// table of determinations with the explanation and missing facts under each.
pub fn decision_table(d: &lpb::Decision) -> String {
    let mut out = format!(
        "{}  request {}  {} -> {}  as of {}\noutcome: {}\nstate: {}\nledger #{} {}\nrules {}  classifier rules {}\n",
        d.name,
        d.request_id,
        or_dash(&d.export_country),
        or_dash(&d.destination_country),
        d.as_of,
        outcome_short(d.outcome),
        state_short(d.state),
        d.sequence,
        d.record_hash,
        d.rules_digest,
        d.classifier_rules_digest,
    );
    if let Some(r) = &d.request {
        out.push_str(&format!("parties: {}\n", parties_text(r)));
    }
    if !d.screening_sources.is_empty() {
        let lists: Vec<String> = d
            .screening_sources
            .iter()
            .map(|s| {
                format!(
                    "{} ({} entries, {})",
                    s.name,
                    s.entries,
                    if s.list_date.is_empty() {
                        "date unknown"
                    } else {
                        s.list_date.as_str()
                    }
                )
            })
            .collect();
        out.push_str(&format!("screened against: {}\n", lists.join("; ")));
    }
    let requested = |id: &str| {
        d.request
            .as_ref()
            .and_then(|r| r.lines.iter().find(|l| l.line_id == id))
    };
    for l in &d.lines {
        let review = if l.review_status == lpb::ReviewStatus::Unspecified as i32 {
            String::new()
        } else {
            format!("  review: {}", review_short(l.review_status))
        };
        out.push_str(&format!(
            "\nline {}: {}{review}\n",
            l.line_id,
            outcome_short(l.outcome)
        ));
        if let Some(item) = requested(&l.line_id) {
            out.push_str(&format!("  item: {}\n", line_text(item)));
        }
        if !l.classifications.is_empty() {
            let all: Vec<String> = l
                .classifications
                .iter()
                .map(classification_summary)
                .collect();
            out.push_str(&format!("  classified: {}\n", all.join("; ")));
        }
        let mut table = Table::new(&[
            "REGIME",
            "OUTCOME",
            "ENTRIES",
            "AUTHORIZATION",
            "REVIEW POLICY",
            "SOURCE",
        ]);
        for det in &l.determinations {
            let mut notes = Vec::new();
            if !det.explanation.is_empty() {
                notes.push(det.explanation.clone());
            }
            if !det.missing_facts.is_empty() {
                notes.push(format!("missing facts: {}", det.missing_facts.join(", ")));
            }
            let review = if det.review_policy == lpb::ReviewPolicy::Unspecified as i32 {
                "-".to_string()
            } else {
                enum_short(
                    det.review_policy,
                    lpb::ReviewPolicy::as_str_name,
                    "REVIEW_POLICY_",
                )
            };
            let mut outcome = outcome_short(det.outcome);
            if det.confidence == cpb::Confidence::Low as i32 {
                outcome.push_str(" (low confidence)");
            }
            table.row(
                vec![
                    det.regime.clone(),
                    outcome,
                    join_or_dash(&det.entry_ids),
                    or_dash(&det.authorization),
                    review,
                    or_dash(&det.source),
                ],
                notes,
            );
        }
        table.render("  ", &mut out);
    }
    if !d.advisories.is_empty() {
        out.push_str("\nadvisories (they never change the outcome):\n");
        for a in &d.advisories {
            out.push_str(&format!("  {} ({}): {}\n", a.code, a.regime, a.text));
        }
    }
    out
}

/// A listing, one row per decision, and how to get the next page.
pub fn list_table(decisions: &[lpb::Decision], next_page_token: &str) -> String {
    let mut out = String::new();
    let mut table = Table::new(&[
        "NAME", "REQUEST", "AS OF", "ROUTE", "STATE", "OUTCOME", "LINES", "END USER", "RECORDED",
    ]);
    for d in decisions {
        let lines: Vec<String> = d
            .lines
            .iter()
            .map(|l| format!("{}={}", l.line_id, outcome_short(l.outcome)))
            .collect();
        let end_user = d
            .request
            .as_ref()
            .and_then(|r| r.end_user.as_ref())
            .map(|p| p.name.clone())
            .unwrap_or_default();
        table.row(
            vec![
                d.name.clone(),
                d.request_id.clone(),
                d.as_of.clone(),
                format!(
                    "{}->{}",
                    or_dash(&d.export_country),
                    or_dash(&d.destination_country)
                ),
                state_short(d.state),
                outcome_short(d.outcome),
                join_or_dash(&lines),
                or_dash(&end_user),
                d.created_at.clone(),
            ],
            Vec::new(),
        );
    }
    table.render("", &mut out);
    let n = decisions.len();
    out.push_str(&format!("{n} decision{}\n", if n == 1 { "" } else { "s" }));
    if !next_page_token.is_empty() {
        out.push_str(&format!("next page: --page-token {next_page_token}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_carry_notes() {
        let mut t = Table::new(&["A", "BB", "C"]);
        t.row(
            vec!["xxx".into(), "y".into(), "z".into()],
            vec!["note".into()],
        );
        let mut out = String::new();
        t.render("", &mut out);
        assert_eq!(out, "A    BB  C\nxxx  y   z\n     note\n");
    }

    #[test]
    fn enum_names_fall_back_to_numbers() {
        assert_eq!(
            enum_json(3, lpb::Outcome::as_str_name),
            json!("OUTCOME_LICENSE_REQUIRED")
        );
        assert_eq!(enum_json(99, lpb::Outcome::as_str_name), json!(99));
        assert_eq!(outcome_short(2), "AUTHORIZED");
    }

    #[test]
    fn bad_request_lists_every_field() {
        let status = exportctl_runtime::errors::bad_request(&[
            exportctl_runtime::FieldViolation::new("spec.material", "unknown value `photoresit`"),
            exportctl_runtime::FieldViolation::new("as_of", "not a date"),
        ]);
        let text = status_text("classifier", &status);
        assert!(text.starts_with("error: classifier: INVALID_ARGUMENT: "));
        assert!(text.contains("  spec.material: unknown value `photoresit`\n"));
        assert!(text.contains("  as_of: not a date\n"));
        let v = status_json("classifier", &status);
        assert_eq!(v["error"]["field_violations"][1]["field"], "as_of");
    }
}
