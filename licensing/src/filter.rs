//! The `filter` of ListDecisions (AIP-160, a subset): a small parser and an
//! evaluator over read-back decisions (a [`pb::Decision`] with its request
//! and state filled in).
//!
//! Grammar (AIP-160: OR binds tighter than AND):
//!
//! ```text
//! filter     := [ and ] EOF
//! and        := or { "AND" or }
//! or         := unary { "OR" unary }
//! unary      := [ "NOT" ] primary
//! primary    := "(" and ")" | comparison
//! comparison := FIELD OP VALUE
//! OP         := "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
//! VALUE      := "quoted string" (\" and \\ escape) | bare word
//! ```
//!
//! Bare words (fields and values) are letters, digits and `_ - . /`. The
//! fields, their operators and values are documented on
//! `ListDecisionsRequest.filter` in the proto.

use std::fmt;

use exportctl_proto::licensing as pb;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::convert;
use crate::policy::Outcome;

/// Most comparisons in one filter, and longest filter text.
pub const MAX_TERMS: usize = 32;
pub const MAX_LEN: usize = 2048;
/// Deepest nesting of parentheses (the parser recurses per level).
pub const MAX_DEPTH: usize = 8;

/// What is wrong with a filter: a message naming the offending token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(m.into()))
}

/// A filterable field of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    State,
    Outcome,
    LineOutcome,
    ExportCountry,
    DestinationCountry,
    Party,
    RulesDigest,
    RequestId,
    AsOf,
    CreateTime,
}

const FIELDS: &str = "state, outcome, lines.outcome, line_outcome, export_country, destination_country, party, rules_digest, request_id, as_of, create_time";

impl Field {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "state" => Self::State,
            "outcome" => Self::Outcome,
            "lines.outcome" | "line_outcome" => Self::LineOutcome,
            "export_country" => Self::ExportCountry,
            "destination_country" => Self::DestinationCountry,
            "party" | "parties.name" => Self::Party,
            "rules_digest" => Self::RulesDigest,
            "request_id" => Self::RequestId,
            "as_of" => Self::AsOf,
            "create_time" | "created_at" => Self::CreateTime,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::Outcome => "outcome",
            Self::LineOutcome => "lines.outcome",
            Self::ExportCountry => "export_country",
            Self::DestinationCountry => "destination_country",
            Self::Party => "party",
            Self::RulesDigest => "rules_digest",
            Self::RequestId => "request_id",
            Self::AsOf => "as_of",
            Self::CreateTime => "create_time",
        }
    }

    /// Whether `<`, `<=`, `>` and `>=` apply.
    fn ordered(self) -> bool {
        matches!(
            self,
            Self::Outcome | Self::LineOutcome | Self::AsOf | Self::CreateTime
        )
    }
}

/// The comparison operators: the rule packs' criteria language has the same six.
pub use exportctl_core::classify::criteria::CmpOp as Op;

/// A comparison's value, already checked against its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    State(pb::DecisionState),
    Outcome(Outcome),
    /// Countries (upper case), digests and request ids as given; party
    /// names normalised.
    Text(String),
    Date(Date),
    Time(OffsetDateTime),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub field: Field,
    pub op: Op,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Comparison),
}

/// A parsed filter; `None` matches every decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter(pub Option<Expr>);

// ------------------------------------------------------------------ lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Op(Option<Op>),
    Quoted(String),
    Word(String),
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Open => "(".into(),
            Tok::Close => ")".into(),
            Tok::Op(Some(op)) => op.symbol().into(),
            Tok::Op(None) => ":".into(),
            Tok::Quoted(s) => format!("\"{s}\""),
            Tok::Word(w) => w.clone(),
        }
    }
}

fn bare(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

fn lex(text: &str) -> Result<Vec<Tok>, FilterError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next_is = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, want: char| {
            chars.next_if(|&(_, n)| n == want).is_some()
        };
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(Tok::Open),
            ')' => out.push(Tok::Close),
            ':' => out.push(Tok::Op(None)),
            '=' => out.push(Tok::Op(Some(Op::Eq))),
            '!' if next_is(&mut chars, '=') => out.push(Tok::Op(Some(Op::Ne))),
            '<' if next_is(&mut chars, '=') => out.push(Tok::Op(Some(Op::Le))),
            '<' => out.push(Tok::Op(Some(Op::Lt))),
            '>' if next_is(&mut chars, '=') => out.push(Tok::Op(Some(Op::Ge))),
            '>' => out.push(Tok::Op(Some(Op::Gt))),
            '"' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return err(format!("unterminated string starting at {at}")),
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, e @ ('"' | '\\'))) => s.push(e),
                            _ => {
                                return err(format!(
                                    "unknown escape in the string starting at {at} (only \\\" and \\\\)"
                                ));
                            }
                        },
                        Some((_, c)) => s.push(c),
                    }
                }
                out.push(Tok::Quoted(s));
            }
            c if bare(c) => {
                let mut w = String::from(c);
                while let Some((_, c)) = chars.next_if(|&(_, c)| bare(c)) {
                    w.push(c);
                }
                out.push(Tok::Word(w));
            }
            other => return err(format!("unexpected `{other}` at {at}")),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------ parser

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    terms: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w == k) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut all = vec![self.or()?];
        while self.keyword("AND") {
            all.push(self.or()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::And(all)
        })
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut any = vec![self.unary()?];
        while self.keyword("OR") {
            any.push(self.unary()?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Expr::Or(any)
        })
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.primary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        match self.next() {
            Some(Tok::Open) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return err(format!("parentheses nested more than {MAX_DEPTH} deep"));
                }
                let inner = self.and()?;
                self.depth -= 1;
                match self.next() {
                    Some(Tok::Close) => Ok(inner),
                    Some(t) => err(format!("expected `)`, found `{}`", t.text())),
                    None => err("missing `)` at the end"),
                }
            }
            Some(Tok::Word(w)) if !matches!(w.as_str(), "AND" | "OR" | "NOT") => {
                self.comparison(&w)
            }
            Some(t) => err(format!("expected a field, found `{}`", t.text())),
            None => err("expected a field at the end"),
        }
    }

    fn comparison(&mut self, word: &str) -> Result<Expr, FilterError> {
        let field = Field::parse(word)
            .ok_or_else(|| FilterError(format!("unknown field `{word}` (filterable: {FIELDS})")))?;
        let op = match self.next() {
            Some(Tok::Op(op)) => op.unwrap_or(Op::Eq),
            Some(t) => {
                return err(format!(
                    "expected an operator (= != < <= > >= :) after `{word}`, found `{}`",
                    t.text()
                ));
            }
            None => return err(format!("expected an operator after `{word}`")),
        };
        if !field.ordered() && !matches!(op, Op::Eq | Op::Ne) {
            return err(format!(
                "operator `{}` does not apply to `{}` (only = and !=)",
                op.symbol(),
                field.name()
            ));
        }
        let raw = match self.next() {
            Some(Tok::Quoted(s) | Tok::Word(s)) => s,
            Some(t) => {
                return err(format!(
                    "expected a value after `{word} {}`, found `{}`",
                    op.symbol(),
                    t.text()
                ));
            }
            None => {
                return err(format!("expected a value after `{word} {}`", op.symbol()));
            }
        };
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return err(format!("more than {MAX_TERMS} comparisons"));
        }
        Ok(Expr::Cmp(Comparison {
            field,
            op,
            value: value(field, &raw)?,
        }))
    }
}

fn value(field: Field, raw: &str) -> Result<Value, FilterError> {
    let bad = |what: &str| FilterError(format!("`{raw}` is not {what} (in `{}`)", field.name()));
    Ok(match field {
        Field::State => {
            let name = format!(
                "DECISION_STATE_{}",
                raw.strip_prefix("DECISION_STATE_").unwrap_or(raw)
            );
            match pb::DecisionState::from_str_name(&name) {
                Some(s) if s != pb::DecisionState::Unspecified => Value::State(s),
                _ => {
                    return Err(bad(
                        "a state (BLOCKED, CLEARED, RELEASED, REJECTED, SUPERSEDED)",
                    ));
                }
            }
        }
        Field::Outcome | Field::LineOutcome => {
            let name = format!("OUTCOME_{}", raw.strip_prefix("OUTCOME_").unwrap_or(raw));
            pb::Outcome::from_str_name(&name)
                .and_then(|o| convert::outcome_from_pb(o as i32))
                .map(Value::Outcome)
                .ok_or_else(|| bad("an outcome (NO_LICENSE_REQUIRED, AUTHORIZED, INDETERMINATE, LICENSE_REQUIRED, PROHIBITED)"))?
        }
        Field::ExportCountry | Field::DestinationCountry => {
            if raw.len() != 2 || !raw.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(bad("an ISO 3166-1 alpha-2 country"));
            }
            Value::Text(raw.to_ascii_uppercase())
        }
        Field::Party => {
            let n = normalise(raw);
            if n.is_empty() {
                return Err(bad("a name (letters or digits)"));
            }
            Value::Text(n)
        }
        Field::RulesDigest | Field::RequestId => {
            if raw.is_empty() || raw.len() > 256 {
                return Err(bad("a digest or id (1 to 256 characters)"));
            }
            Value::Text(raw.to_string())
        }
        Field::AsOf => Value::Date(date(raw).ok_or_else(|| bad("a date (YYYY-MM-DD)"))?),
        Field::CreateTime => Value::Time(
            time_or_date(raw).ok_or_else(|| bad("an RFC 3339 time or a date (YYYY-MM-DD)"))?,
        ),
    })
}

fn date(s: &str) -> Option<Date> {
    Date::parse(
        s,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

fn time_or_date(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .or_else(|| date(s).map(|d| d.midnight().assume_utc()))
}

/// A name for party matching: lower case, letters and digits only (spaces
/// and punctuation dropped, so `K.K.`, `K K` and `kk` are the same).
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Filter {
    /// Parses a filter; empty text (or only spaces) matches everything.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        if text.len() > MAX_LEN {
            return err(format!("longer than {MAX_LEN} bytes"));
        }
        let toks = lex(text)?;
        if toks.is_empty() {
            return Ok(Self(None));
        }
        let mut p = Parser {
            toks,
            at: 0,
            terms: 0,
            depth: 0,
        };
        let expr = p.and()?;
        match p.next() {
            None => Ok(Self(Some(expr))),
            Some(t) => err(format!("expected AND or OR, found `{}`", t.text())),
        }
    }

    /// This filter AND `more` (comparisons from the request's older fields).
    pub fn and(self, more: Vec<Comparison>) -> Self {
        let mut all: Vec<Expr> = more.into_iter().map(Expr::Cmp).collect();
        match self.0 {
            None => {}
            Some(Expr::And(v)) => all.extend(v),
            Some(e) => all.push(e),
        }
        Self(match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(Expr::And(all)),
        })
    }

    /// Whether a read-back decision (request and state filled) matches.
    pub fn matches(&self, d: &pb::Decision) -> bool {
        self.0.as_ref().is_none_or(|e| eval(e, d))
    }

    /// The comparisons every match must satisfy (the top-level AND's), for
    /// a store to narrow its reads with.
    pub fn conjuncts(&self) -> Vec<&Comparison> {
        match &self.0 {
            None => Vec::new(),
            Some(Expr::Cmp(c)) => vec![c],
            Some(Expr::And(v)) => v
                .iter()
                .filter_map(|e| match e {
                    Expr::Cmp(c) => Some(c),
                    _ => None,
                })
                .collect(),
            Some(_) => Vec::new(),
        }
    }
}

/// The canonical text of a filter: the same for filters that differ only in
/// spacing, quoting or value spelling (page tokens are bound to it).
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => Ok(()),
            Some(e) => write!(f, "{e}"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, v: &[Expr], sep: &str| {
            f.write_str("(")?;
            for (i, e) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{e}")?;
            }
            f.write_str(")")
        };
        match self {
            Expr::And(v) => join(f, v, " AND "),
            Expr::Or(v) => join(f, v, " OR "),
            Expr::Not(e) => write!(f, "NOT {e}"),
            Expr::Cmp(c) => {
                let v = match &c.value {
                    Value::State(s) => s.as_str_name().to_string(),
                    Value::Outcome(o) => convert::outcome(*o).as_str_name().to_string(),
                    Value::Text(t) => format!("{t:?}"),
                    Value::Date(d) => exportctl_core::dates::format(*d),
                    Value::Time(t) => t.unix_timestamp_nanos().to_string(),
                };
                write!(f, "{} {} {v}", c.field.name(), c.op.symbol())
            }
        }
    }
}

// ------------------------------------------------------------------ evaluator

fn eval(e: &Expr, d: &pb::Decision) -> bool {
    match e {
        Expr::And(v) => v.iter().all(|e| eval(e, d)),
        Expr::Or(v) => v.iter().any(|e| eval(e, d)),
        Expr::Not(e) => !eval(e, d),
        Expr::Cmp(c) => compare(c, d),
    }
}

fn compare(c: &Comparison, d: &pb::Decision) -> bool {
    let text = |have: &str| match &c.value {
        Value::Text(want) => c.op.holds_for(have.cmp(want.as_str())),
        _ => false,
    };
    match (c.field, &c.value) {
        (Field::State, Value::State(s)) => c.op.holds_for((d.state).cmp(&(*s as i32))),
        (Field::Outcome, Value::Outcome(want)) => {
            convert::outcome_from_pb(d.outcome).is_some_and(|o| c.op.holds_for(o.cmp(want)))
        }
        (Field::LineOutcome, Value::Outcome(want)) => {
            let mut lines = d
                .lines
                .iter()
                .filter_map(|l| convert::outcome_from_pb(l.outcome));
            if c.op == Op::Ne {
                lines.all(|o| o != *want)
            } else {
                lines.any(|o| c.op.holds_for(o.cmp(want)))
            }
        }
        (Field::ExportCountry, _) => text(&d.export_country.to_ascii_uppercase()),
        (Field::DestinationCountry, _) => text(&d.destination_country.to_ascii_uppercase()),
        (Field::RulesDigest, _) => text(&d.rules_digest),
        (Field::RequestId, _) => text(&d.request_id),
        (Field::Party, Value::Text(want)) => {
            let any = party_names(d).any(|n| normalise(n).contains(want.as_str()));
            if c.op == Op::Ne { !any } else { any }
        }
        (Field::AsOf, Value::Date(want)) => {
            date(&d.as_of).is_some_and(|have| c.op.holds_for(have.cmp(want)))
        }
        (Field::CreateTime, Value::Time(want)) => OffsetDateTime::parse(&d.created_at, &Rfc3339)
            .is_ok_and(|have| c.op.holds_for(have.cmp(want))),
        _ => false,
    }
}

/// Every name and alias of the request's end user and other parties.
fn party_names(d: &pb::Decision) -> impl Iterator<Item = &str> {
    d.request
        .iter()
        .flat_map(|r| r.end_user.iter().chain(&r.parties))
        .flat_map(|p| std::iter::once(&p.name).chain(&p.aliases))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision() -> pb::Decision {
        let line = |id: &str, o: pb::Outcome| pb::LineDecision {
            line_id: id.into(),
            outcome: o as i32,
            ..Default::default()
        };
        pb::Decision {
            request_id: "po-1".into(),
            as_of: "2024-03-01".into(),
            outcome: pb::Outcome::LicenseRequired as i32,
            state: pb::DecisionState::Blocked as i32,
            lines: vec![
                line("1", pb::Outcome::LicenseRequired),
                line("2", pb::Outcome::Indeterminate),
            ],
            rules_digest: "sha256:abc".into(),
            created_at: "2024-03-02T10:00:00.5Z".into(),
            export_country: "US".into(),
            destination_country: "CN".into(),
            request: Some(pb::DecideRequest {
                end_user: Some(pb::Party {
                    name: "Example Logic Fab Co., Ltd.".into(),
                    ..Default::default()
                }),
                parties: vec![pb::Party {
                    name: "Forwarding GmbH".into(),
                    aliases: vec!["FWD-Express".into()],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn holds(f: &str) -> bool {
        Filter::parse(f)
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .matches(&decision())
    }

    fn error(f: &str) -> String {
        Filter::parse(f).unwrap_err().0
    }

    #[test]
    fn comparisons_on_every_field() {
        for (f, want) in [
            ("", true),
            ("state = BLOCKED", true),
            ("state = DECISION_STATE_CLEARED", false),
            ("state != CLEARED", true),
            ("outcome = LICENSE_REQUIRED", true),
            ("outcome = OUTCOME_INDETERMINATE", false),
            ("outcome >= INDETERMINATE", true),
            ("outcome > LICENSE_REQUIRED", false),
            ("lines.outcome = INDETERMINATE", true),
            ("line_outcome : INDETERMINATE", true),
            ("lines.outcome = PROHIBITED", false),
            ("lines.outcome != PROHIBITED", true),
            ("lines.outcome != INDETERMINATE", false),
            ("lines.outcome < LICENSE_REQUIRED", true),
            ("destination_country = cn", true),
            ("destination_country = \"CN\"", true),
            ("export_country != US", false),
            ("party = \"example logic fab\"", true),
            ("party = \"LOGIC-FAB co\"", true),
            ("party : fwd", true),
            ("party = \"fwd express\"", true),
            ("party = samsung", false),
            ("party != samsung", true),
            ("rules_digest = \"sha256:abc\"", true),
            ("request_id = po-1", true),
            ("as_of >= \"2024-01-01\" AND as_of < \"2025-01-01\"", true),
            ("as_of = 2024-03-01", true),
            ("as_of > 2024-03-01", false),
            ("as_of <= 2024-03-01", true),
            ("create_time >= \"2024-03-02\"", true),
            ("create_time < \"2024-03-02T10:00:00Z\"", false),
            ("create_time > \"2024-03-02T10:00:00Z\"", true),
            ("create_time < \"2024-03-02T11:00:00+01:00\"", false),
        ] {
            assert_eq!(holds(f), want, "{f}");
        }
    }

    #[test]
    fn and_or_not_and_parentheses() {
        for (f, want) in [
            ("outcome = PROHIBITED OR outcome = LICENSE_REQUIRED", true),
            ("state = BLOCKED AND destination_country = DE", false),
            // OR binds tighter than AND (AIP-160).
            (
                "destination_country = DE AND outcome = PROHIBITED OR outcome = LICENSE_REQUIRED",
                false,
            ),
            (
                "(destination_country = DE AND outcome = PROHIBITED) OR outcome = LICENSE_REQUIRED",
                true,
            ),
            ("NOT destination_country = DE", true),
            ("NOT (party = fab OR party = fwd)", false),
        ] {
            assert_eq!(holds(f), want, "{f}");
        }
    }

    #[test]
    fn errors_name_the_offending_token() {
        for (f, token) in [
            ("colour = red", "`colour`"),
            ("outcome ~ X", "`~`"),
            ("outcome = MAYBE", "`MAYBE`"),
            ("state = LICENSE_REQUIRED", "`LICENSE_REQUIRED`"),
            ("party < \"x\"", "`<`"),
            ("destination_country = CHINA", "`CHINA`"),
            ("as_of >= \"last year\"", "`last year`"),
            ("create_time > yesterday", "`yesterday`"),
            ("outcome = PROHIBITED state = BLOCKED", "`state`"),
            ("outcome = PROHIBITED AND", "at the end"),
            ("(outcome = PROHIBITED", "`)`"),
            ("outcome PROHIBITED", "`PROHIBITED`"),
            ("outcome =", "after `outcome =`"),
            ("as_of = \"2024-01-01", "unterminated"),
            ("AND outcome = PROHIBITED", "`AND`"),
            ("outcome = = PROHIBITED", "`=`"),
        ] {
            let e = error(f);
            assert!(e.contains(token), "{f}: {e}");
        }
        let deep = format!(
            "{}outcome = PROHIBITED{}",
            "(".repeat(1000),
            ")".repeat(1000)
        );
        assert!(
            Filter::parse(&deep)
                .unwrap_err()
                .0
                .contains("nested more than")
        );
        let ok = format!(
            "{}outcome = PROHIBITED{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert!(Filter::parse(&ok).is_ok());
        let long = vec!["outcome = PROHIBITED"; MAX_TERMS + 1].join(" OR ");
        assert!(error(&long).contains("comparisons"));
    }

    #[test]
    fn canonical_text_ignores_spelling() {
        let a = Filter::parse("outcome=OUTCOME_PROHIBITED   AND as_of>=\"2024-01-01\"").unwrap();
        let b = Filter::parse("outcome = PROHIBITED AND as_of >= 2024-01-01").unwrap();
        assert_eq!(a.to_string(), b.to_string());
        let c = Filter::parse("outcome = PROHIBITED AND as_of > 2024-01-01").unwrap();
        assert_ne!(a.to_string(), c.to_string());
    }

    #[test]
    fn conjuncts_are_the_top_level_and() {
        let f = Filter::parse(
            "outcome = PROHIBITED AND (party = a OR party = b) AND as_of < 2024-01-01",
        )
        .unwrap();
        let fields: Vec<Field> = f.conjuncts().iter().map(|c| c.field).collect();
        assert_eq!(fields, [Field::Outcome, Field::AsOf]);
        assert!(
            Filter::parse("outcome = PROHIBITED OR party = a")
                .unwrap()
                .conjuncts()
                .is_empty()
        );
    }

    #[test]
    fn names_are_normalised() {
        assert_eq!(
            normalise("  SAMSUNG Electronics Co., Ltd. "),
            "samsungelectronicscoltd"
        );
        assert_eq!(normalise("--"), "");
    }
}
