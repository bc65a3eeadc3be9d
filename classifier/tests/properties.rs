//! Effective dates of rule-pack entries are half-open, on generated dates:
//! a version dated `[from, until)` is in force on `d` iff `from <= d < until`
//! (in force on `from` and on the day before `until`, not on `until`), through
//! the pack loader (`RulePack::parse`), `EntryVersion::in_force`,
//! `ControlEntry::version_on` and classification itself.

use exportctl_classifier::engine::{Source, VOCABULARY_FILE};
use exportctl_classifier::pack::RulePack;
use exportctl_classifier::vocabulary::{Value, Vocabulary};
use exportctl_classifier::{RuleSet, bundled};
use exportctl_core::dates;
use proptest::prelude::*;
use time::{Date, Duration};

fn day(text: &str) -> Date {
    dates::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// Any date from 2019 to 2030.
fn date() -> impl Strategy<Value = Date> {
    let first = day("2019-01-01");
    let days = (day("2030-12-31") - first).whole_days();
    (0..=days).prop_map(move |n| first + Duration::days(n))
}

fn version(from: Date, until: Option<Date>, note: &str) -> String {
    let until = until
        .map(|u| format!("until = \"{}\"\n", dates::format(u)))
        .unwrap_or_default();
    format!(
        "[[entry.version]]\nfrom = \"{}\"\n{until}criteria = \"material = photoresist\"\nreasons = [\"AT1\"]\ncitations = [\"test citation\"]\nnote = \"{note}\"\n",
        dates::format(from)
    )
}

/// A pack with one entry whose versions are `[a, b)` and `[b, c)` (or `[b, ∞)`).
fn pack_text(a: Date, b: Date, c: Option<Date>) -> String {
    format!(
        "[pack]\nregime = \"XX-TEST\"\nname = \"test\"\nversion = \"1\"\nsource = \"s\"\nnot_listed_label = \"NL\"\nreason_codes = [\"AT1\"]\ncovers_from = \"2019-01-01\"\n\n[[entry]]\nid = \"1A001\"\ntitle = \"resist\"\n{}{}",
        version(a, Some(b), "first"),
        version(b, c, "second"),
    )
}

fn vocab() -> Vocabulary {
    Vocabulary::parse(VOCABULARY_FILE, bundled::VOCABULARY).expect("bundled vocabulary")
}

fn within(d: Date, from: Date, until: Option<Date>) -> bool {
    from <= d && until.is_none_or(|u| d < u)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn entry_versions_are_half_open(
        a in date(),
        first_len in 1i64..2000,
        second_len in proptest::option::of(1i64..2000),
        d in date(),
    ) {
        let b = a + Duration::days(first_len);
        let c = second_len.map(|n| b + Duration::days(n));
        let vocab = vocab();
        let text = pack_text(a, b, c);
        let pack = RulePack::parse("xx-test.toml", &text, &vocab).unwrap();
        let entry = pack.entry("1A001").unwrap();
        let (first, second) = (&entry.versions[0], &entry.versions[1]);
        prop_assert_eq!((first.from, first.until), (a, Some(b)));
        prop_assert_eq!((second.from, second.until), (b, c));

        // The boundaries.
        prop_assert!(first.in_force(a));
        prop_assert!(!first.in_force(b));
        prop_assert!(first.in_force(b.previous_day().unwrap()));
        prop_assert!(!first.in_force(a.previous_day().unwrap()));
        prop_assert!(second.in_force(b));
        if let Some(c) = c {
            prop_assert!(!second.in_force(c));
            prop_assert!(second.in_force(c.previous_day().unwrap()));
        }
        // Any date: in force iff from <= d < until; exactly one version (or none) on d.
        prop_assert_eq!(first.in_force(d), within(d, a, Some(b)));
        prop_assert_eq!(second.in_force(d), within(d, b, c));
        let want = if within(d, a, Some(b)) {
            Some("first")
        } else if within(d, b, c) {
            Some("second")
        } else {
            None
        };
        prop_assert_eq!(entry.version_on(d).map(|v| v.note.as_str()), want, "on {}", d);
        prop_assert_eq!(entry.version_on(b).map(|v| v.note.as_str()), Some("second"));
        prop_assert_eq!(
            entry.version_on(b.previous_day().unwrap()).map(|v| v.note.as_str()),
            Some("first")
        );

        // Classification matches exactly on the dates some version is in force.
        let set = RuleSet::from_sources(
            &Source { file: VOCABULARY_FILE.into(), text: bundled::VOCABULARY.into() },
            &[Source { file: "xx-test.toml".into(), text }],
        )
        .unwrap();
        let material = set.vocabulary().id("material").unwrap();
        let photoresist = set.vocabulary().category_index(material, "photoresist").unwrap();
        let mut facts = set.vocabulary().empty_facts();
        facts.set(material, Some(Value::Category(photoresist)));
        let matched = |on: Date| -> Option<String> {
            let results = set.classify(&facts, on, None);
            results[0].matches.first().map(|m| m.version.note.clone())
        };
        prop_assert_eq!(matched(d), want.map(String::from));
        prop_assert_eq!(matched(a), Some("first".to_string()));
        prop_assert_eq!(matched(a.previous_day().unwrap()), None);
        if let Some(c) = c {
            prop_assert_eq!(matched(c), None);
            prop_assert_eq!(matched(c.previous_day().unwrap()), Some("second".to_string()));
        }
    }

    /// Versions overlapping by one day are refused; adjacent ones are not.
    #[test]
    fn overlapping_versions_are_refused(a in date(), len in 1i64..2000) {
        let b = a + Duration::days(len);
        let vocab = vocab();
        let adjacent = pack_text(a, b, None);
        prop_assert!(RulePack::parse("xx-test.toml", &adjacent, &vocab).is_ok());
        // The first version runs one day into the second.
        let overlapping = adjacent.replacen(
            &format!("until = \"{}\"", dates::format(b)),
            &format!("until = \"{}\"", dates::format(b.next_day().unwrap())),
            1,
        );
        let e = RulePack::parse("xx-test.toml", &overlapping, &vocab).unwrap_err();
        prop_assert!(e.message.contains("overlapping versions"), "{}", e);
        // An empty range is refused.
        let empty = adjacent.replacen(
            &format!("until = \"{}\"", dates::format(b)),
            &format!("until = \"{}\"", dates::format(a)),
            1,
        );
        let e = RulePack::parse("xx-test.toml", &empty, &vocab).unwrap_err();
        prop_assert!(e.message.contains("inverted date range"), "{}", e);
    }
}
