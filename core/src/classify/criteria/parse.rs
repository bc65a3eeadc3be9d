//! The criteria parser: tokens, then recursive descent with a nesting limit.

use super::{CmpOp, Criterion};
use crate::classify::vocabulary::{AttrId, AttrKind, Vocabulary, format_number};

/// Compiles an expression against the vocabulary.
pub(super) fn parse(text: &str, vocab: &Vocabulary) -> Result<Criterion, String> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
        vocab,
    };
    let c = p.or()?;
    if p.pos != p.tokens.len() {
        return Err(format!("unexpected `{}`", p.tokens[p.pos]));
    }
    Ok(c)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Number(f64),
    Op(CmpOp),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Ident(s) => f.write_str(s),
            Token::Number(n) => f.write_str(&format_number(*n)),
            Token::Op(op) => f.write_str(op.symbol()),
            Token::LParen => f.write_str("("),
            Token::RParen => f.write_str(")"),
            Token::LBracket => f.write_str("["),
            Token::RBracket => f.write_str("]"),
            Token::Comma => f.write_str(","),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | '[' | ']' | ',' => {
                out.push(match c {
                    '(' => Token::LParen,
                    ')' => Token::RParen,
                    '[' => Token::LBracket,
                    ']' => Token::RBracket,
                    _ => Token::Comma,
                });
                i += 1;
            }
            '≤' => (out.push(Token::Op(CmpOp::Le)), i += 1).1,
            '≥' => (out.push(Token::Op(CmpOp::Ge)), i += 1).1,
            '≠' => (out.push(Token::Op(CmpOp::Ne)), i += 1).1,
            '<' | '>' | '=' | '!' => {
                let (op, len) = match (c, next) {
                    ('<', Some('=')) => (CmpOp::Le, 2),
                    ('>', Some('=')) => (CmpOp::Ge, 2),
                    ('!', Some('=')) => (CmpOp::Ne, 2),
                    ('=', Some('=')) => (CmpOp::Eq, 2),
                    ('<', _) => (CmpOp::Lt, 1),
                    ('>', _) => (CmpOp::Gt, 1),
                    ('=', _) => (CmpOp::Eq, 1),
                    _ => return Err("`!` must be followed by `=`".into()),
                };
                out.push(Token::Op(op));
                i += len;
            }
            c if c.is_ascii_digit() || c == '.' || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | 'e' | 'E' | '_'))
                {
                    i += 1;
                }
                let s: String = chars[start..i].iter().filter(|c| **c != '_').collect();
                let n: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
                if !n.is_finite() {
                    return Err(format!("`{s}` is not a finite number"));
                }
                out.push(Token::Number(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character `{other}`")),
        }
    }
    Ok(out)
}

/// Deepest nesting of parentheses and `not`s a criterion may have. Real criteria
/// nest a few levels; the limit keeps a hostile pack from overflowing the stack
/// when its criteria are compiled, evaluated or dropped (the parser and the
/// evaluator recurse once per level).
pub const MAX_NESTING: usize = 64;

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    /// Parentheses and `not`s open at `pos`.
    depth: usize,
    vocab: &'a Vocabulary,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Result<Token, String> {
        let t = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or("unexpected end of expression")?;
        self.pos += 1;
        Ok(t)
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Token::Ident(s)) if s == kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: Token) -> Result<(), String> {
        let got = self
            .next()
            .map_err(|_| format!("expected `{t}`, found the end"))?;
        if got == t {
            Ok(())
        } else {
            Err(format!("expected `{t}`, found `{got}`"))
        }
    }

    fn or(&mut self) -> Result<Criterion, String> {
        let mut parts = vec![self.and()?];
        while self.keyword("or") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Criterion::Any(parts)
        })
    }

    fn and(&mut self) -> Result<Criterion, String> {
        let mut parts = vec![self.unary()?];
        while self.keyword("and") {
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Criterion::All(parts)
        })
    }

    fn unary(&mut self) -> Result<Criterion, String> {
        if self.keyword("not") {
            return Ok(Criterion::Not(Box::new(self.nested(Self::unary)?)));
        }
        if self.peek() == Some(&Token::LParen) {
            self.pos += 1;
            let c = self.nested(Self::or)?;
            self.expect(Token::RParen)?;
            return Ok(c);
        }
        self.comparison()
    }

    /// Parses one level deeper, refusing to go past `MAX_NESTING`.
    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<Criterion, String>,
    ) -> Result<Criterion, String> {
        if self.depth >= MAX_NESTING {
            return Err(format!(
                "nested more than {MAX_NESTING} levels deep (parentheses and `not`)"
            ));
        }
        self.depth += 1;
        let c = parse(self);
        self.depth -= 1;
        c
    }

    fn comparison(&mut self) -> Result<Criterion, String> {
        let name = match self.next()? {
            Token::Ident(s) if !["and", "or", "not", "in", "present"].contains(&s.as_str()) => s,
            other => return Err(format!("expected an attribute name, found `{other}`")),
        };
        let attr = self
            .vocab
            .id(&name)
            .ok_or_else(|| format!("unknown attribute `{name}`"))?;
        let def = self.vocab.def(attr);
        if self.keyword("present") {
            return Ok(Criterion::Present { attr });
        }
        let negated_in = self.keyword("not");
        if negated_in || self.keyword("in") {
            if negated_in && !self.keyword("in") {
                return Err(format!("expected `in` after `{name} not`"));
            }
            if def.kind != AttrKind::Category {
                return Err(format!(
                    "`in` applies to categories; `{name}` is a {:?}",
                    def.kind
                ));
            }
            self.expect(Token::LBracket)?;
            let mut set = 0u64;
            loop {
                set |= self.category_value(attr)?;
                match self.next()? {
                    Token::Comma => continue,
                    Token::RBracket => break,
                    other => return Err(format!("expected `,` or `]`, found `{other}`")),
                }
            }
            return Ok(Criterion::Category {
                attr,
                set,
                negated: negated_in,
            });
        }
        let op = match self.next()? {
            Token::Op(op) => op,
            other => {
                return Err(format!(
                    "expected a comparison after `{name}`, found `{other}`"
                ));
            }
        };
        match def.kind {
            AttrKind::Number => match self.next()? {
                Token::Number(value) => {
                    if value < 0.0 {
                        return Err(format!("`{name}` is compared with a negative number"));
                    }
                    Ok(Criterion::Number { attr, op, value })
                }
                other => Err(format!(
                    "`{name}` is a number ({}); `{other}` is not",
                    def.unit
                )),
            },
            AttrKind::Category => {
                let negated = match op {
                    CmpOp::Eq => false,
                    CmpOp::Ne => true,
                    _ => {
                        return Err(format!(
                            "`{name}` is a category: only =, !=, in, not in apply"
                        ));
                    }
                };
                let set = self.category_value(attr)?;
                Ok(Criterion::Category { attr, set, negated })
            }
            AttrKind::Flag => {
                let value = match self.next()? {
                    Token::Ident(s) if s == "true" => true,
                    Token::Ident(s) if s == "false" => false,
                    other => {
                        return Err(format!(
                            "`{name}` is a flag; `{other}` is not true or false"
                        ));
                    }
                };
                match op {
                    CmpOp::Eq => Ok(Criterion::Flag { attr, value }),
                    CmpOp::Ne => Ok(Criterion::Flag {
                        attr,
                        value: !value,
                    }),
                    _ => Err(format!("`{name}` is a flag: only = and != apply")),
                }
            }
        }
    }

    fn category_value(&mut self, attr: AttrId) -> Result<u64, String> {
        let def = self.vocab.def(attr);
        match self.next()? {
            Token::Ident(v) => self
                .vocab
                .category_index(attr, &v)
                .map(|i| 1u64 << i)
                .ok_or_else(|| {
                    format!(
                        "`{v}` is not a value of `{}` ({})",
                        def.name,
                        def.values.join(", ")
                    )
                }),
            other => Err(format!(
                "`{}` is a category; `{other}` is not one of its values",
                def.name
            )),
        }
    }
}
