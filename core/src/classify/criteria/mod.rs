//! Criteria expressions over spec attributes, compiled once at load time.
//!
//! Syntax: `and`, `or`, `not`, parentheses; comparisons `attr = v`, `attr != v`,
//! `attr < n`, `<=` (or `≤`), `>`, `>=` (or `≥`), `attr in [a, b]`,
//! `attr not in [a, b]`, `attr present`. Evaluation is three-valued (Kleene):
//! a criterion on a fact the spec lacks is *unknown*, unless the vocabulary says
//! that absence means "none of the values".

mod parse;

pub use parse::MAX_NESTING;

use super::vocabulary::{Absence, AttrId, Facts, Value, Vocabulary, push_number};

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn not(self) -> Self {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// How the operator is written.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Whether the operator holds for an ordering of the left side against the right.
    pub fn holds_for(self, o: std::cmp::Ordering) -> bool {
        match self {
            CmpOp::Eq => o.is_eq(),
            CmpOp::Ne => o.is_ne(),
            CmpOp::Lt => o.is_lt(),
            CmpOp::Le => o.is_le(),
            CmpOp::Gt => o.is_gt(),
            CmpOp::Ge => o.is_ge(),
        }
    }

    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// A compiled criterion.
#[derive(Debug, Clone, PartialEq)]
pub enum Criterion {
    All(Vec<Criterion>),
    Any(Vec<Criterion>),
    Not(Box<Criterion>),
    Number {
        attr: AttrId,
        op: CmpOp,
        value: f64,
    },
    /// `attr in set` (or `not in` when negated); the set is a bitmask of value indexes.
    Category {
        attr: AttrId,
        set: u64,
        negated: bool,
    },
    Flag {
        attr: AttrId,
        value: bool,
    },
    Present {
        attr: AttrId,
    },
}

/// Why a criterion came out as it did: the comparisons that held, or the facts it lacked.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Explanation {
    pub because: Vec<String>,
    pub missing: Vec<AttrId>,
}

impl Criterion {
    /// Compiles an expression against the vocabulary.
    pub fn compile(text: &str, vocab: &Vocabulary) -> Result<Self, String> {
        parse::parse(text, vocab)
    }

    /// Evaluates without explaining (the hot path).
    pub fn eval(&self, facts: &Facts, vocab: &Vocabulary) -> Truth {
        match self {
            Criterion::All(cs) => {
                let mut out = Truth::True;
                for c in cs {
                    match c.eval(facts, vocab) {
                        Truth::False => return Truth::False,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::True => {}
                    }
                }
                out
            }
            Criterion::Any(cs) => {
                let mut out = Truth::False;
                for c in cs {
                    match c.eval(facts, vocab) {
                        Truth::True => return Truth::True,
                        Truth::Unknown => out = Truth::Unknown,
                        Truth::False => {}
                    }
                }
                out
            }
            Criterion::Not(c) => c.eval(facts, vocab).not(),
            leaf => leaf.leaf(facts, vocab),
        }
    }

    /// Evaluates and explains: `because` lines for what held, `missing` facts when unknown.
    pub fn explain(&self, facts: &Facts, vocab: &Vocabulary, out: &mut Explanation) -> Truth {
        match self {
            Criterion::All(cs) | Criterion::Any(cs) => {
                // Only the children that agree with the result explain it: the
                // true ones of a true `and`/`or`, the unknown ones of an unknown one.
                let result = self.eval(facts, vocab);
                if result != Truth::False {
                    for c in cs {
                        if c.eval(facts, vocab) == result {
                            c.explain(facts, vocab, out);
                        }
                    }
                }
                result
            }
            Criterion::Not(c) => {
                let mut inner = Explanation::default();
                let t = c.explain(facts, vocab, &mut inner).not();
                match t {
                    Truth::True => out.because.push(self.render(vocab, facts)),
                    Truth::Unknown => out.missing.extend(inner.missing),
                    Truth::False => {}
                }
                t
            }
            leaf => {
                let t = leaf.leaf(facts, vocab);
                match t {
                    Truth::True => out.because.push(leaf.render(vocab, facts)),
                    Truth::Unknown => out.missing.extend(leaf.missing_facts(vocab, facts)),
                    Truth::False => {}
                }
                t
            }
        }
    }

    fn leaf(&self, facts: &Facts, vocab: &Vocabulary) -> Truth {
        let attr = match self {
            Criterion::Number { attr, .. }
            | Criterion::Category { attr, .. }
            | Criterion::Flag { attr, .. }
            | Criterion::Present { attr } => *attr,
            _ => unreachable!("leaf() is only called on leaves"),
        };
        let value = facts.get(attr);
        if let Criterion::Present { .. } = self {
            return if value.is_some() {
                Truth::True
            } else {
                Truth::False
            };
        }
        let Some(value) = value else {
            return match vocab.def(attr).absent {
                Absence::Unknown => Truth::Unknown,
                // "None of the values": only a negated test holds.
                Absence::None => match self {
                    Criterion::Category { negated: true, .. } => Truth::True,
                    Criterion::Flag { value: false, .. } => Truth::True,
                    _ => Truth::False,
                },
            };
        };
        let holds = match (self, value) {
            (Criterion::Number { op, value: v, .. }, Value::Number(x)) => op.holds(x, *v),
            (Criterion::Category { set, negated, .. }, Value::Category(i)) => {
                (set >> i) & 1 == 1 && !negated || (set >> i) & 1 == 0 && *negated
            }
            (Criterion::Flag { value: v, .. }, Value::Flag(b)) => b == *v,
            // Facts are typed by the same vocabulary: a mismatch cannot hold.
            _ => false,
        };
        if holds { Truth::True } else { Truth::False }
    }

    fn missing_facts(&self, vocab: &Vocabulary, facts: &Facts) -> Vec<AttrId> {
        let attr = match self {
            Criterion::Number { attr, .. }
            | Criterion::Category { attr, .. }
            | Criterion::Flag { attr, .. } => *attr,
            _ => return Vec::new(),
        };
        if vocab.def(attr).derived {
            // Name the facts the derived attribute is computed from that the spec lacks.
            vocab
                .derived_from(attr)
                .into_iter()
                .filter(|a| facts.get(*a).is_none())
                .collect()
        } else {
            vec![attr]
        }
    }

    /// The criterion with the spec's actual values, e.g. `tpp 4992 >= 4800`.
    fn render(&self, vocab: &Vocabulary, facts: &Facts) -> String {
        let mut s = String::with_capacity(48);
        self.render_into(vocab, facts, &mut s);
        s
    }

    /// [`Criterion::render`] into `s` (these lines are built on every match,
    /// so without intermediate strings).
    fn render_into(&self, vocab: &Vocabulary, facts: &Facts, s: &mut String) {
        match self {
            Criterion::All(cs) | Criterion::Any(cs) => {
                let joiner = if matches!(self, Criterion::All(_)) {
                    " and "
                } else {
                    " or "
                };
                s.push('(');
                for (i, c) in cs.iter().enumerate() {
                    if i > 0 {
                        s.push_str(joiner);
                    }
                    c.render_into(vocab, facts, s);
                }
                s.push(')');
            }
            Criterion::Not(c) => {
                s.push_str("not (");
                c.render_into(vocab, facts, s);
                s.push(')');
            }
            Criterion::Number { attr, op, value } => {
                s.push_str(&vocab.def(*attr).name);
                s.push(' ');
                push_value(s, vocab, *attr, facts.get(*attr));
                s.push(' ');
                s.push_str(op.symbol());
                s.push(' ');
                push_number(s, *value);
            }
            Criterion::Category { attr, set, negated } => {
                let def = vocab.def(*attr);
                let actual = facts.get(*attr);
                let mut values = (0..def.values.len()).filter(|i| (set >> i) & 1 == 1);
                let only = match (values.next(), values.next()) {
                    (Some(i), None) => Some(i),
                    _ => None,
                };
                s.push_str(&def.name);
                s.push(' ');
                match (only, negated) {
                    (Some(i), false) if actual == Some(Value::Category(i as u8)) => {
                        s.push_str("= ");
                        s.push_str(&def.values[i]);
                    }
                    (Some(i), true) => {
                        push_value(s, vocab, *attr, actual);
                        s.push_str(" != ");
                        s.push_str(&def.values[i]);
                    }
                    (_, negated) => {
                        push_value(s, vocab, *attr, actual);
                        s.push_str(if *negated { " not in [" } else { " in [" });
                        let listed = (0..def.values.len()).filter(|i| (set >> i) & 1 == 1);
                        for (n, i) in listed.enumerate() {
                            if n > 0 {
                                s.push_str(", ");
                            }
                            s.push_str(&def.values[i]);
                        }
                        s.push(']');
                    }
                }
            }
            Criterion::Flag { attr, value } => {
                s.push_str(&vocab.def(*attr).name);
                s.push_str(if *value { " = true" } else { " = false" });
            }
            Criterion::Present { attr } => {
                s.push_str(&vocab.def(*attr).name);
                s.push_str(" present");
            }
        }
    }

    /// Values of `attr` this criterion requires when it is a top-level conjunct
    /// (`kind = equipment and …`), as a bitmask; `None` when it does not constrain `attr`.
    pub fn required_values(&self, attr: AttrId) -> Option<u64> {
        match self {
            Criterion::Category {
                attr: a,
                set,
                negated: false,
            } if *a == attr => Some(*set),
            Criterion::All(cs) => cs
                .iter()
                .filter_map(|c| c.required_values(attr))
                .reduce(|a, b| a & b),
            Criterion::Any(cs) => {
                let sets: Option<Vec<u64>> = cs.iter().map(|c| c.required_values(attr)).collect();
                sets.map(|s| s.into_iter().fold(0, |a, b| a | b))
            }
            _ => None,
        }
    }

    /// Every attribute the criterion reads.
    pub fn attributes(&self, out: &mut Vec<AttrId>) {
        match self {
            Criterion::All(cs) | Criterion::Any(cs) => cs.iter().for_each(|c| c.attributes(out)),
            Criterion::Not(c) => c.attributes(out),
            Criterion::Number { attr, .. }
            | Criterion::Category { attr, .. }
            | Criterion::Flag { attr, .. }
            | Criterion::Present { attr } => out.push(*attr),
        }
    }
}

/// A fact as `because` lines show it (see [`Vocabulary::render`]).
fn push_value(s: &mut String, vocab: &Vocabulary, attr: AttrId, value: Option<Value>) {
    match value {
        None => s.push_str("(none)"),
        Some(Value::Number(n)) => push_number(s, n),
        Some(Value::Flag(b)) => s.push_str(if b { "true" } else { "false" }),
        Some(Value::Category(i)) => s.push_str(&vocab.def(attr).values[i as usize]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::parse("vocabulary.toml", crate::classify::bundled::VOCABULARY).unwrap()
    }

    fn facts(v: &Vocabulary, pairs: &[(&str, Value)]) -> Facts {
        let mut f = v.empty_facts();
        for (n, val) in pairs {
            f.set(v.id(n).unwrap(), Some(*val));
        }
        v.derive(&mut f);
        f
    }

    fn cat(v: &Vocabulary, attr: &str, value: &str) -> Value {
        Value::Category(v.category_index(v.id(attr).unwrap(), value).unwrap())
    }

    #[test]
    fn comparisons_at_and_around_thresholds() {
        let v = vocab();
        let c = Criterion::compile("tpp >= 4800", &v).unwrap();
        for (tpp, want) in [
            (4799.99, Truth::False),
            (4800.0, Truth::True),
            (4800.01, Truth::True),
        ] {
            assert_eq!(
                c.eval(&facts(&v, &[("tpp", Value::Number(tpp))]), &v),
                want,
                "tpp {tpp}"
            );
        }
        let c = Criterion::compile("concentration_percent > 30", &v).unwrap();
        for (x, want) in [
            (29.99, Truth::False),
            (30.0, Truth::False),
            (30.01, Truth::True),
        ] {
            assert_eq!(
                c.eval(
                    &facts(&v, &[("concentration_percent", Value::Number(x))]),
                    &v
                ),
                want
            );
        }
        let c = Criterion::compile("wavelength_nm < 245 and wavelength_nm ≥ 15", &v).unwrap();
        for (x, want) in [
            (14.99, Truth::False),
            (15.0, Truth::True),
            (244.99, Truth::True),
            (245.0, Truth::False),
        ] {
            assert_eq!(
                c.eval(&facts(&v, &[("wavelength_nm", Value::Number(x))]), &v),
                want,
                "{x}"
            );
        }
    }

    #[test]
    fn absent_numbers_are_unknown_and_named() {
        let v = vocab();
        let c = Criterion::compile("material = photoresist and wavelength_nm < 245", &v).unwrap();
        let f = facts(&v, &[("material", cat(&v, "material", "photoresist"))]);
        let mut e = Explanation::default();
        assert_eq!(c.explain(&f, &v, &mut e), Truth::Unknown);
        assert_eq!(e.missing, vec![v.id("wavelength_nm").unwrap()]);
        // A false conjunct decides, whatever is missing.
        let f = facts(
            &v,
            &[("material", cat(&v, "material", "hydrogen_fluoride"))],
        );
        assert_eq!(c.eval(&f, &v), Truth::False);
    }

    #[test]
    fn absent_none_categories_are_definite() {
        let v = vocab();
        let c = Criterion::compile("memory_type not in [dram, nand, hbm]", &v).unwrap();
        assert_eq!(c.eval(&facts(&v, &[]), &v), Truth::True);
        assert_eq!(
            c.eval(
                &facts(&v, &[("memory_type", cat(&v, "memory_type", "dram"))]),
                &v
            ),
            Truth::False
        );
        let c = Criterion::compile("resist_tone = positive", &v).unwrap();
        assert_eq!(c.eval(&facts(&v, &[]), &v), Truth::Unknown);
    }

    #[test]
    fn because_lines_show_actual_values() {
        let v = vocab();
        let c = Criterion::compile("kind = integrated_circuit and (tpp >= 4800 or tpp >= 1600 and performance_density >= 5.92)", &v).unwrap();
        let f = facts(
            &v,
            &[
                ("kind", cat(&v, "kind", "integrated_circuit")),
                ("tpp", Value::Number(1700.0)),
                ("performance_density", Value::Number(6.0)),
            ],
        );
        let mut e = Explanation::default();
        assert_eq!(c.explain(&f, &v, &mut e), Truth::True);
        assert_eq!(
            e.because,
            vec![
                "kind = integrated_circuit",
                "tpp 1700 >= 1600",
                "performance_density 6 >= 5.92"
            ]
        );
    }

    #[test]
    fn derived_mrf_compares() {
        let v = vocab();
        let c = Criterion::compile("minimum_resolvable_feature_nm <= 45", &v).unwrap();
        let arf = facts(
            &v,
            &[
                ("wavelength_nm", Value::Number(193.0)),
                ("numerical_aperture", Value::Number(1.35)),
            ],
        );
        assert_eq!(c.eval(&arf, &v), Truth::False);
        let euv = facts(
            &v,
            &[
                ("wavelength_nm", Value::Number(13.5)),
                ("numerical_aperture", Value::Number(0.33)),
            ],
        );
        assert_eq!(c.eval(&euv, &v), Truth::True);
        let mut e = Explanation::default();
        assert_eq!(
            c.explain(
                &facts(&v, &[("wavelength_nm", Value::Number(193.0))]),
                &v,
                &mut e
            ),
            Truth::Unknown
        );
        assert_eq!(e.missing, vec![v.id("numerical_aperture").unwrap()]);
        let mut e = Explanation::default();
        assert_eq!(c.explain(&facts(&v, &[]), &v, &mut e), Truth::Unknown);
        assert_eq!(
            e.missing,
            vec![
                v.id("wavelength_nm").unwrap(),
                v.id("numerical_aperture").unwrap()
            ]
        );
    }

    #[test]
    fn compile_errors_name_the_problem() {
        let v = vocab();
        for (text, needle) in [
            ("tppp >= 1", "unknown attribute `tppp`"),
            ("tpp >= high", "is a number"),
            ("material = photoresit", "not a value of `material`"),
            ("material < 3", "only =, !=, in, not in"),
            ("tpp in [1]", "`in` applies to categories"),
            ("tpp >= 1 and", "unexpected end"),
            ("(tpp >= 1", "expected `)`"),
            ("tpp >= -1", "negative"),
            ("isotropic = maybe", "flag"),
        ] {
            let e = Criterion::compile(text, &v).unwrap_err();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn required_kind_values_are_extracted() {
        let v = vocab();
        let kind = v.id("kind").unwrap();
        let c = Criterion::compile("kind = equipment and equipment_function = etch", &v).unwrap();
        assert_eq!(c.required_values(kind), Some(1 << 1));
        let c = Criterion::compile("kind = material or kind = equipment", &v).unwrap();
        assert_eq!(c.required_values(kind), Some(0b110));
        let c = Criterion::compile("kind = material or tpp > 1", &v).unwrap();
        assert_eq!(c.required_values(kind), None);
    }
}
