//! Reading decisions back: a recorded decision completed with the request
//! it decided and its derived state, and ListDecisions' filter, order and
//! page tokens over the ledger.
//!
//! The recorded decision bytes (hashed into the ledger chain) never carry
//! the request, the state or the lines' review status: those are added
//! here, on every answer, from the record's own request bytes and outcome.

use exportctl_core::dates;
use exportctl_core::validate;
use exportctl_proto::licensing as pb;
use exportctl_runtime::FieldViolation;
use prost::Message;
use sha2::{Digest, Sha256};

use crate::convert;
use crate::filter::{Comparison, Field, Filter, Op, Value};
use crate::ledger::{LedgerError, LedgerStore, ListFilter, ListOrder, Record};
use crate::policy::Outcome;

/// Most records one ListDecisions call examines: a selective filter the
/// store cannot narrow answers a short (or empty) page with a next-page
/// token rather than reading the whole ledger in one call.
pub const MAX_SCAN: usize = 5_000;
/// Records read from the store at a time while filtering in memory.
const SCAN_CHUNK: usize = 250;

/// Whether an outcome holds a shipment: anything above AUTHORIZED.
fn blocks(outcome: i32) -> Option<bool> {
    convert::outcome_from_pb(outcome).map(|o| o > Outcome::Authorized)
}

/// The state of a decision from its recorded outcome.
pub fn state(outcome: i32) -> pb::DecisionState {
    match blocks(outcome) {
        None => pb::DecisionState::Unspecified,
        Some(true) => pb::DecisionState::Blocked,
        Some(false) => pb::DecisionState::Cleared,
    }
}

/// The review status of a line from its recorded outcome.
pub fn review_status(outcome: i32) -> pb::ReviewStatus {
    match blocks(outcome) {
        None => pb::ReviewStatus::Unspecified,
        Some(true) => pb::ReviewStatus::Unreviewed,
        Some(false) => pb::ReviewStatus::NotRequired,
    }
}

/// Adds what is derived at read time: the request, the state and each
/// line's review status (whatever the decision carried is replaced).
pub fn complete(d: &mut pb::Decision, request: pb::DecideRequest) {
    d.request = Some(request);
    d.state = state(d.outcome) as i32;
    for l in &mut d.lines {
        l.review_status = review_status(l.outcome) as i32;
    }
}

/// A ledger record as the decision answered to callers.
pub fn decision(r: &Record) -> Result<pb::Decision, LedgerError> {
    let undecodable = |what: &str, e: prost::DecodeError| {
        LedgerError(format!("record {}: undecodable {what}: {e}", r.seq))
    };
    let mut d =
        pb::Decision::decode(r.body.decision.as_slice()).map_err(|e| undecodable("decision", e))?;
    let request = pb::DecideRequest::decode(r.body.request.as_slice())
        .map_err(|e| undecodable("request", e))?;
    d.sequence = r.seq;
    d.record_hash = r.hash.clone();
    complete(&mut d, request);
    Ok(d)
}

// ------------------------------------------------------------------ listing

/// A checked ListDecisions request.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Filter,
    pub order: ListOrder,
    pub page_size: usize,
    /// Where the page starts (after this record), from the page token.
    pub after: Option<(String, i64)>,
    /// Binds page tokens to the filter and order.
    fingerprint: String,
}

fn order(text: &str) -> Result<ListOrder, FieldViolation> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    Ok(match words.as_slice() {
        [] | ["create_time", "desc"] => ListOrder::NewestFirst,
        ["create_time"] | ["create_time", "asc"] => ListOrder::OldestFirst,
        ["as_of", "desc"] => ListOrder::AsOfDesc,
        ["as_of"] | ["as_of", "asc"] => ListOrder::AsOfAsc,
        _ => {
            return Err(FieldViolation::new(
                "order_by",
                format!(
                    "unknown order `{}` (one of: create_time desc, create_time, as_of desc, as_of)",
                    text.chars().take(80).collect::<String>()
                ),
            ));
        }
    })
}

fn order_name(o: ListOrder) -> &'static str {
    match o {
        ListOrder::NewestFirst => "create_time desc",
        ListOrder::OldestFirst => "create_time",
        ListOrder::AsOfDesc => "as_of desc",
        ListOrder::AsOfAsc => "as_of",
    }
}

fn page_size(n: i32) -> Result<usize, FieldViolation> {
    match n {
        n if n < 0 => Err(FieldViolation::new("page_size", "must not be negative")),
        0 => Ok(convert::DEFAULT_PAGE_SIZE),
        n => Ok((n as usize).min(convert::MAX_PAGE_SIZE)),
    }
}

/// The older fields (outcome, as_of_from, as_of_until) as comparisons.
fn legacy(req: &pb::ListDecisionsRequest, bad: &mut Vec<FieldViolation>) -> Vec<Comparison> {
    let mut out = Vec::new();
    match req.outcome {
        0 => {}
        o => match convert::outcome_from_pb(o) {
            Some(o) => out.push(Comparison {
                field: Field::Outcome,
                op: Op::Eq,
                value: Value::Outcome(o),
            }),
            None => bad.push(FieldViolation::new(
                "outcome",
                format!("unknown outcome {o}"),
            )),
        },
    }
    for (field, text, op) in [
        ("as_of_from", &req.as_of_from, Op::Ge),
        ("as_of_until", &req.as_of_until, Op::Lt),
    ] {
        if text.is_empty() {
            continue;
        }
        match validate::date_text(text) {
            Ok(d) => out.push(Comparison {
                field: Field::AsOf,
                op,
                value: Value::Date(d),
            }),
            Err(m) => bad.push(FieldViolation::new(field, m)),
        }
    }
    out
}

const TOKEN_PREFIX: &str = "v1.";

/// The page token of a position: `v1.` and, in hex, the fingerprint, the
/// sequence and the as_of of the last record of the page.
fn token(fingerprint: &str, (as_of, seq): &(String, i64)) -> String {
    format!(
        "{TOKEN_PREFIX}{}",
        hex::encode(format!("{fingerprint}|{seq}|{as_of}"))
    )
}

fn read_token(token: &str, fingerprint: &str) -> Result<(String, i64), FieldViolation> {
    let foreign = || FieldViolation::new("page_token", "not a token from a previous response");
    let payload = token
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(foreign)?;
    let mut parts = payload.splitn(3, '|');
    let (Some(fp), Some(seq), Some(as_of)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(foreign());
    };
    let seq: i64 = seq.parse().map_err(|_| foreign())?;
    if fp != fingerprint {
        return Err(FieldViolation::new(
            "page_token",
            "issued for a different filter or order_by: page with the same filter, outcome, as_of_from, as_of_until and order_by, or start again without a token",
        ));
    }
    Ok((as_of.to_string(), seq))
}

/// Checks a ListDecisions request.
pub fn list_query(req: &pb::ListDecisionsRequest) -> Result<ListQuery, Vec<FieldViolation>> {
    let mut bad = Vec::new();
    let older = legacy(req, &mut bad);
    let filter = match Filter::parse(&req.filter) {
        Ok(f) => Some(f),
        Err(e) => {
            bad.push(FieldViolation::new("filter", e.0));
            None
        }
    };
    let order = order(&req.order_by).map_err(|v| bad.push(v)).ok();
    let page_size = page_size(req.page_size).map_err(|v| bad.push(v)).ok();
    let (Some(filter), Some(order), Some(page_size)) = (filter, order, page_size) else {
        return Err(bad);
    };
    if !bad.is_empty() {
        return Err(bad);
    }
    let filter = filter.and(older);
    let digest = Sha256::digest(format!("{filter}\n{}", order_name(order)).as_bytes());
    let fingerprint = hex::encode(&digest[..8]);
    let after = match req.page_token.as_str() {
        "" => None,
        // Tokens of earlier versions (`s{seq}`), newest first without a filter.
        t if t.starts_with('s') && req.filter.is_empty() && order == ListOrder::NewestFirst => {
            match t[1..].parse::<i64>() {
                Ok(seq) => Some((String::new(), seq)),
                Err(_) => {
                    return Err(vec![FieldViolation::new(
                        "page_token",
                        "not a token from a previous response",
                    )]);
                }
            }
        }
        t => Some(read_token(t, &fingerprint).map_err(|v| vec![v])?),
    };
    Ok(ListQuery {
        filter,
        order,
        page_size,
        after,
        fingerprint,
    })
}

/// What the store can narrow its reads by (the top-level AND's `outcome =`
/// and as_of bounds), and whether that is the whole filter.
fn push_down(filter: &Filter) -> (ListFilter, bool) {
    let mut f = ListFilter::default();
    let (mut from, mut until) = (None::<time::Date>, None::<time::Date>);
    let conjuncts = filter.conjuncts();
    let top_level = match &filter.0 {
        None => 0,
        Some(crate::filter::Expr::And(v)) => v.len(),
        Some(_) => 1,
    };
    let mut exact = conjuncts.len() == top_level;
    for c in conjuncts {
        match (c.field, c.op, &c.value) {
            (Field::Outcome, Op::Eq, Value::Outcome(o)) if f.outcome.is_none() => {
                f.outcome = Some(convert::outcome(*o) as i32);
            }
            (Field::AsOf, op, Value::Date(d)) if op != Op::Ne => {
                let next = d.next_day().unwrap_or(*d);
                let (lo, hi) = match op {
                    Op::Eq => (Some(*d), Some(next)),
                    Op::Ge => (Some(*d), None),
                    Op::Gt => (Some(next), None),
                    Op::Lt => (None, Some(*d)),
                    Op::Le => (None, Some(next)),
                    Op::Ne => (None, None),
                };
                from = from.max(lo);
                until = match (until, hi) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            _ => exact = false,
        }
    }
    f.as_of_from = from.map(dates::format);
    f.as_of_until = until.map(dates::format);
    (f, exact)
}

/// One page: the matching decisions in order, and the next page's token.
/// The store narrows by what it can ([`push_down`]); the rest is filtered
/// here over chunks of records, reading until the page is full (and one
/// more match shows there is a next page), the ledger is exhausted, or
/// [`MAX_SCAN`] records were examined (then the page may be short, and the
/// token continues after the last record examined).
pub fn list_page(
    store: &dyn LedgerStore,
    q: &ListQuery,
) -> Result<(Vec<pb::Decision>, String), LedgerError> {
    let (mut f, exact) = push_down(&q.filter);
    f.order = q.order;
    f.after = q.after.clone();
    f.limit = if exact {
        q.page_size + 1
    } else {
        SCAN_CHUNK.max(q.page_size + 1)
    };
    let mut page = Vec::with_capacity(q.page_size);
    let mut last_kept: Option<(String, i64)> = None;
    let mut scanned = 0;
    loop {
        let batch = store.list(&f)?;
        let exhausted = batch.len() < f.limit;
        for r in &batch {
            scanned += 1;
            let at = (r.body.as_of.clone(), r.seq);
            let d = decision(r)?;
            if q.filter.matches(&d) {
                if page.len() == q.page_size {
                    let next = last_kept.as_ref().map(|p| token(&q.fingerprint, p));
                    return Ok((page, next.unwrap_or_default()));
                }
                page.push(d);
                last_kept = Some(at.clone());
            }
            f.after = Some(at);
        }
        if exhausted {
            return Ok((page, String::new()));
        }
        if scanned >= MAX_SCAN {
            let next = f.after.as_ref().map(|p| token(&q.fingerprint, p));
            return Ok((page, next.unwrap_or_default()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(filter: &str, order_by: &str) -> pb::ListDecisionsRequest {
        pb::ListDecisionsRequest {
            filter: filter.into(),
            order_by: order_by.into(),
            ..Default::default()
        }
    }

    #[test]
    fn states_and_review_status_follow_the_outcome() {
        use pb::Outcome as O;
        for (o, s, r) in [
            (
                O::NoLicenseRequired,
                pb::DecisionState::Cleared,
                pb::ReviewStatus::NotRequired,
            ),
            (
                O::Authorized,
                pb::DecisionState::Cleared,
                pb::ReviewStatus::NotRequired,
            ),
            (
                O::Indeterminate,
                pb::DecisionState::Blocked,
                pb::ReviewStatus::Unreviewed,
            ),
            (
                O::LicenseRequired,
                pb::DecisionState::Blocked,
                pb::ReviewStatus::Unreviewed,
            ),
            (
                O::Prohibited,
                pb::DecisionState::Blocked,
                pb::ReviewStatus::Unreviewed,
            ),
            (
                O::Unspecified,
                pb::DecisionState::Unspecified,
                pb::ReviewStatus::Unspecified,
            ),
        ] {
            assert_eq!(state(o as i32), s, "{o:?}");
            assert_eq!(review_status(o as i32), r, "{o:?}");
        }
    }

    #[test]
    fn orders_and_bad_orders() {
        for (text, want) in [
            ("", ListOrder::NewestFirst),
            ("create_time desc", ListOrder::NewestFirst),
            ("create_time", ListOrder::OldestFirst),
            ("create_time  ASC", ListOrder::OldestFirst),
            ("as_of desc", ListOrder::AsOfDesc),
            ("as_of", ListOrder::AsOfAsc),
        ] {
            assert_eq!(
                list_query(&request("", text)).unwrap().order,
                want,
                "{text}"
            );
        }
        let bad = list_query(&request("", "colour")).unwrap_err();
        assert_eq!(bad[0].field, "order_by");
        assert!(bad[0].description.contains("`colour`"));
    }

    #[test]
    fn tokens_are_bound_to_filter_and_order() {
        let q = list_query(&request("outcome = PROHIBITED", "as_of")).unwrap();
        let t = token(&q.fingerprint, &("2024-01-01".into(), 7));
        let mut again = request("outcome=OUTCOME_PROHIBITED", "as_of asc");
        again.page_token = t.clone();
        assert_eq!(
            list_query(&again).unwrap().after,
            Some(("2024-01-01".to_string(), 7))
        );
        for (filter, order_by) in [
            ("outcome = INDETERMINATE", "as_of"),
            ("outcome = PROHIBITED", "as_of desc"),
        ] {
            let mut other = request(filter, order_by);
            other.page_token = t.clone();
            let bad = list_query(&other).unwrap_err();
            assert_eq!(bad[0].field, "page_token");
            assert!(bad[0].description.contains("different filter"), "{bad:?}");
        }
        let mut legacy = request("", "as_of");
        legacy.outcome = pb::Outcome::Prohibited as i32;
        legacy.page_token = t;
        assert_eq!(
            list_query(&legacy).unwrap().after.unwrap().1,
            7,
            "the older field is the same filter"
        );
        let mut forged = request("", "");
        forged.page_token = "v1.zz".into();
        assert_eq!(list_query(&forged).unwrap_err()[0].field, "page_token");
        forged.page_token = "s41".into();
        assert_eq!(list_query(&forged).unwrap().after.unwrap().1, 41);
    }

    #[test]
    fn bad_filters_name_the_field_filter() {
        let bad = list_query(&request("colour = red", "")).unwrap_err();
        assert_eq!(bad[0].field, "filter");
        assert!(bad[0].description.contains("`colour`"));
    }

    #[test]
    fn outcome_and_as_of_are_pushed_down() {
        let (f, exact) = push_down(
            &Filter::parse("outcome = PROHIBITED AND as_of > 2024-01-01 AND as_of <= 2024-06-30")
                .unwrap(),
        );
        assert!(exact);
        assert_eq!(f.outcome, Some(pb::Outcome::Prohibited as i32));
        assert_eq!(f.as_of_from.as_deref(), Some("2024-01-02"));
        assert_eq!(f.as_of_until.as_deref(), Some("2024-07-01"));
        let (f, exact) = push_down(&Filter::parse("as_of = 2024-01-01 AND party = acme").unwrap());
        assert!(!exact);
        assert_eq!(f.as_of_from.as_deref(), Some("2024-01-01"));
        assert_eq!(f.as_of_until.as_deref(), Some("2024-01-02"));
        let (f, exact) =
            push_down(&Filter::parse("outcome = PROHIBITED OR as_of = 2024-01-01").unwrap());
        assert!(!exact);
        assert!(f.outcome.is_none() && f.as_of_from.is_none());
        assert!(push_down(&Filter::default()).1);
    }
}
