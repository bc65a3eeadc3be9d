//! Rule packs: versioned, cited TOML files of control entries, one per regime,
//! parsed and validated into `RulePack`s.

use std::collections::HashSet;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::Date;

use super::criteria::Criterion;
use super::vocabulary::Vocabulary;
use crate::pack::PackError as LoadError;

pub use crate::pack::Confidence;

/// A reason for control; `when` restricts it to specs matching a sub-criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub code: String,
    pub when: Option<(String, Criterion)>,
}

/// One effective-dated version of a control entry: in force on `[from, until)`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryVersion {
    pub from: Date,
    pub until: Option<Date>,
    pub criteria_text: String,
    pub criteria: Criterion,
    pub reasons: Vec<Reason>,
    pub citations: Vec<String>,
    pub confidence: Confidence,
    pub note: String,
}

impl EntryVersion {
    pub fn in_force(&self, on: Date) -> bool {
        self.from <= on && self.until.is_none_or(|u| on < u)
    }
}

/// One control-list entry, in the regulation's own numbering.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlEntry {
    pub id: String,
    pub title: String,
    /// Oldest first, non-overlapping.
    pub versions: Vec<EntryVersion>,
}

impl ControlEntry {
    pub fn version_on(&self, on: Date) -> Option<&EntryVersion> {
        self.versions.iter().find(|v| v.in_force(on))
    }
}

/// A validated rule pack.
#[derive(Debug, Clone)]
pub struct RulePack {
    pub regime: String,
    pub name: String,
    pub version: String,
    pub source: String,
    pub not_listed_label: String,
    pub covers_from: Date,
    pub note: String,
    pub file: String,
    /// `sha256:` of the file's bytes.
    pub digest: String,
    pub entries: Vec<ControlEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: PackHeader,
    #[serde(default)]
    entry: Vec<EntryRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackHeader {
    regime: String,
    name: String,
    version: String,
    source: String,
    not_listed_label: String,
    reason_codes: Vec<String>,
    /// First shipment date the pack speaks for; earlier dates are refused.
    covers_from: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryRow {
    id: String,
    title: String,
    version: Vec<VersionRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionRow {
    from: String,
    until: Option<String>,
    criteria: String,
    #[serde(default)]
    reasons: Vec<ReasonRow>,
    citations: Vec<String>,
    #[serde(default)]
    confidence: Confidence,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ReasonRow {
    Always(String),
    When { code: String, when: String },
}

/// Regime codes look like `US-EAR`.
fn is_regime_code(s: &str) -> bool {
    let mut parts = s.splitn(2, '-');
    let (Some(a), Some(b)) = (parts.next(), parts.next()) else {
        return false;
    };
    a.len() == 2
        && a.chars().all(|c| c.is_ascii_uppercase())
        && !b.is_empty()
        && b.chars().all(|c| c.is_ascii_uppercase())
}

pub fn digest_bytes(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl RulePack {
    /// Parses and validates one pack file against the vocabulary.
    pub fn parse(file: &str, text: &str, vocab: &Vocabulary) -> Result<Self, LoadError> {
        let parsed: PackFile =
            toml::from_str(text).map_err(|e| LoadError::new(file, "-", e.to_string()))?;
        let header = parsed.pack;
        let err = |rule: &str, message: String| LoadError::new(file, rule, message);
        if !is_regime_code(&header.regime) {
            return Err(err(
                "pack",
                format!("regime `{}` is not a code like US-EAR", header.regime),
            ));
        }
        for (field, value) in [
            ("name", &header.name),
            ("version", &header.version),
            ("source", &header.source),
            ("not_listed_label", &header.not_listed_label),
        ] {
            if value.trim().is_empty() {
                return Err(err("pack", format!("`{field}` is empty")));
            }
        }
        let covers_from = crate::dates::parse(&header.covers_from)
            .map_err(|m| err("pack", format!("covers_from: {m}")))?;
        let reason_codes: HashSet<&str> = header.reason_codes.iter().map(String::as_str).collect();
        let mut ids = HashSet::new();
        let mut entries = Vec::with_capacity(parsed.entry.len());
        for row in parsed.entry {
            let id = row.id.trim().to_string();
            if id.is_empty() || id.len() > 64 {
                return Err(err("entry", "entry ids are 1 to 64 characters".into()));
            }
            if !ids.insert(id.clone()) {
                return Err(err(&id, "duplicate entry id".into()));
            }
            if row.title.trim().is_empty() {
                return Err(err(&id, "title is empty".into()));
            }
            if row.version.is_empty() {
                return Err(err(&id, "an entry needs at least one version".into()));
            }
            let mut versions = Vec::with_capacity(row.version.len());
            for (n, v) in row.version.into_iter().enumerate() {
                let at = format!("{id} version {}", n + 1);
                let validity = crate::pack::Validity::parse(&v.from, v.until.as_deref())
                    .map_err(|m| err(&at, m))?;
                let (from, until) = (validity.from, validity.until);
                let criteria = Criterion::compile(&v.criteria, vocab)
                    .map_err(|m| err(&at, format!("criteria: {m}")))?;
                if v.citations.is_empty() || v.citations.iter().any(|c| c.trim().is_empty()) {
                    return Err(err(
                        &at,
                        "every version needs at least one non-empty citation".into(),
                    ));
                }
                let mut reasons = Vec::with_capacity(v.reasons.len());
                for r in v.reasons {
                    let (code, when) = match r {
                        ReasonRow::Always(code) => (code, None),
                        ReasonRow::When { code, when } => {
                            let c = Criterion::compile(&when, vocab)
                                .map_err(|m| err(&at, format!("reason {code} when: {m}")))?;
                            (code, Some((when, c)))
                        }
                    };
                    if !reason_codes.contains(code.as_str()) {
                        return Err(err(
                            &at,
                            format!("reason `{code}` is not among the pack's reason_codes"),
                        ));
                    }
                    reasons.push(Reason { code, when });
                }
                versions.push(EntryVersion {
                    from,
                    until,
                    criteria_text: v.criteria,
                    criteria,
                    reasons,
                    citations: v.citations,
                    confidence: v.confidence,
                    note: v.note,
                });
            }
            versions.sort_by_key(|v| v.from);
            for pair in versions.windows(2) {
                match pair[0].until {
                    Some(u) if u <= pair[1].from => {}
                    _ => {
                        return Err(err(
                            &id,
                            format!(
                                "overlapping versions: the one from {} is still in force on {}",
                                crate::dates::format(pair[0].from),
                                crate::dates::format(pair[1].from)
                            ),
                        ));
                    }
                }
            }
            entries.push(ControlEntry {
                id,
                title: row.title,
                versions,
            });
        }
        Ok(RulePack {
            regime: header.regime,
            name: header.name,
            version: header.version,
            source: header.source,
            not_listed_label: header.not_listed_label,
            covers_from,
            note: header.note,
            file: file.to_string(),
            digest: digest_bytes(text.as_bytes()),
            entries,
        })
    }

    pub fn entry(&self, id: &str) -> Option<&ControlEntry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::parse("vocabulary.toml", crate::classify::bundled::VOCABULARY).unwrap()
    }

    fn pack(entries: &str) -> String {
        format!(
            r#"
[pack]
regime = "US-EAR"
name = "t"
version = "1"
source = "s"
not_listed_label = "EAR99"
reason_codes = ["NS2", "AT1"]
covers_from = "2019-01-01"
{entries}"#
        )
    }

    fn load_err(entries: &str) -> String {
        RulePack::parse("us-ear.toml", &pack(entries), &vocab())
            .unwrap_err()
            .to_string()
    }

    const GOOD: &str = r#"
[[entry]]
id = "3C992"
title = "resist"
[[entry.version]]
from = "2020-01-01"
criteria = "material = photoresist"
reasons = ["AT1"]
citations = ["x"]
"#;

    #[test]
    fn loads_a_good_pack() {
        let p = RulePack::parse("us-ear.toml", &pack(GOOD), &vocab()).unwrap();
        assert_eq!(p.entries[0].id, "3C992");
        assert!(p.digest.starts_with("sha256:"));
    }

    #[test]
    fn rejects_unknown_attribute_with_file_and_rule() {
        let e = load_err(&GOOD.replace("material = photoresist", "materiel = photoresist"));
        assert!(
            e.starts_with("us-ear.toml: 3C992 version 1: criteria: unknown attribute `materiel`"),
            "{e}"
        );
    }

    #[test]
    fn rejects_type_mismatch() {
        let e = load_err(&GOOD.replace("material = photoresist", "tpp = photoresist"));
        assert!(
            e.contains("3C992 version 1") && e.contains("is a number"),
            "{e}"
        );
    }

    #[test]
    fn rejects_inverted_dates() {
        let e = load_err(&GOOD.replace(
            "from = \"2020-01-01\"",
            "from = \"2020-01-01\"\nuntil = \"2019-01-01\"",
        ));
        assert!(e.contains("3C992 version 1: inverted date range"), "{e}");
        let e = load_err(&GOOD.replace(
            "from = \"2020-01-01\"",
            "from = \"2020-01-01\"\nuntil = \"2020-01-01\"",
        ));
        assert!(e.contains("inverted"), "{e}");
    }

    #[test]
    fn rejects_overlapping_versions() {
        let two = r#"
[[entry]]
id = "3C992"
title = "resist"
[[entry.version]]
from = "2020-01-01"
until = "2021-01-02"
criteria = "material = photoresist"
citations = ["x"]
[[entry.version]]
from = "2021-01-01"
criteria = "material = photoresist"
citations = ["x"]
"#;
        let e = load_err(two);
        assert!(
            e.contains("us-ear.toml: 3C992: overlapping versions"),
            "{e}"
        );
        // Open-ended first version overlaps whatever follows.
        let e = load_err(&two.replace("until = \"2021-01-02\"\n", ""));
        assert!(e.contains("overlapping"), "{e}");
        // Adjacent half-open ranges are fine.
        RulePack::parse(
            "us-ear.toml",
            &pack(&two.replace("2021-01-02", "2021-01-01")),
            &vocab(),
        )
        .unwrap();
    }

    #[test]
    fn rejects_duplicate_ids_and_unknown_keys_and_reasons() {
        let e = load_err(&format!("{GOOD}{GOOD}"));
        assert!(e.contains("3C992: duplicate entry id"), "{e}");
        let e =
            load_err(&GOOD.replace("title = \"resist\"", "title = \"resist\"\ncolour = \"red\""));
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = load_err(&GOOD.replace("[\"AT1\"]", "[\"XX9\"]"));
        assert!(e.contains("reason `XX9`"), "{e}");
        let e = load_err(&GOOD.replace("citations = [\"x\"]", "citations = []"));
        assert!(e.contains("citation"), "{e}");
        let e = load_err(&GOOD.replace("2020-01-01", "2020-13-01"));
        assert!(e.contains("from:"), "{e}");
    }
}
