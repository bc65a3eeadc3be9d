//! Inputs that crashed the `rule_pack` fuzz target (fuzz/fuzz_targets/rule_pack.rs),
//! kept as regression tests: each must now be refused with a specific error.

use exportctl_classifier::bundled;
use exportctl_classifier::criteria::{Criterion, MAX_NESTING};
use exportctl_classifier::engine::{RuleSet, Source, VOCABULARY_FILE};
use exportctl_classifier::pack::RulePack;
use exportctl_classifier::vocabulary::Vocabulary;

fn vocab() -> Vocabulary {
    Vocabulary::parse(VOCABULARY_FILE, bundled::VOCABULARY).expect("bundled vocabulary")
}

/// The bundled CN-ECL pack with its first criteria replaced.
fn cn_pack_with_criteria(criteria: &str) -> String {
    let (_, text) = bundled::PACKS
        .iter()
        .find(|(file, _)| *file == "cn-ecl.toml")
        .expect("bundled cn-ecl.toml");
    let start = text.find("criteria = \"").expect("a criteria line");
    let end = start + text[start..].find('\n').expect("end of line");
    format!(
        "{}criteria = \"{criteria}\"{}",
        &text[..start],
        &text[end..]
    )
}

/// Crash: SIGSEGV (stack overflow) in `Criterion::compile`, which recursed once per
/// `(` — 100 000 of them in one criteria string of an otherwise valid pack.
/// Compiling it on a service's reload would have aborted the process instead of
/// rejecting the pack.
#[test]
fn deeply_parenthesized_criteria_are_refused_not_a_stack_overflow() {
    let n = 100_000;
    let text = cn_pack_with_criteria(&format!(
        "{}kind = material{}",
        "(".repeat(n),
        ")".repeat(n)
    ));
    let e = RulePack::parse("cn-ecl.toml", &text, &vocab()).unwrap_err();
    assert_eq!(e.file, "cn-ecl.toml");
    assert!(e.rule.ends_with("version 1"), "{e}");
    assert_eq!(
        e.message,
        format!("criteria: nested more than {MAX_NESTING} levels deep (parentheses and `not`)")
    );
    // A whole rule set with it is refused the same way (what a reload does).
    let packs = [Source {
        file: "cn-ecl.toml".into(),
        text,
    }];
    let vocabulary = Source {
        file: VOCABULARY_FILE.into(),
        text: bundled::VOCABULARY.into(),
    };
    let e = RuleSet::from_sources(&vocabulary, &packs).unwrap_err();
    assert!(e.message.contains("nested more than"), "{e}");
}

/// Same crash through a chain of `not`s (each one a level of recursion).
#[test]
fn long_not_chains_are_refused_not_a_stack_overflow() {
    let text = cn_pack_with_criteria(&format!("{}kind = material", "not ".repeat(100_000)));
    let e = RulePack::parse("cn-ecl.toml", &text, &vocab()).unwrap_err();
    assert!(
        e.message.starts_with(&format!(
            "criteria: nested more than {MAX_NESTING} levels deep"
        )),
        "{e}"
    );
}

/// The limit: `MAX_NESTING` levels compile (and evaluate), one more does not.
#[test]
fn nesting_up_to_the_limit_compiles() {
    let v = vocab();
    let deep = |n: usize| format!("{}tpp >= 1{}", "(".repeat(n), ")".repeat(n));
    let c = Criterion::compile(&deep(MAX_NESTING), &v).expect("at the limit");
    assert_eq!(c, Criterion::compile("tpp >= 1", &v).unwrap());
    let e = Criterion::compile(&deep(MAX_NESTING + 1), &v).unwrap_err();
    assert!(e.starts_with("nested more than"), "{e}");
    let nots = |n: usize| format!("{}tpp >= 1", "not ".repeat(n));
    let c = Criterion::compile(&nots(MAX_NESTING), &v).expect("at the limit");
    assert_eq!(
        c.eval(&v.empty_facts(), &v),
        exportctl_classifier::criteria::Truth::Unknown
    );
    assert!(Criterion::compile(&nots(MAX_NESTING + 1), &v).is_err());
    // Mixed: `not (` counts two levels.
    let mixed = format!(
        "{}tpp >= 1{}",
        "not (".repeat(MAX_NESTING / 2),
        ")".repeat(MAX_NESTING / 2)
    );
    Criterion::compile(&mixed, &v).expect("at the limit");
    let over = format!("not {mixed}");
    assert!(Criterion::compile(&over, &v).is_err());
}
