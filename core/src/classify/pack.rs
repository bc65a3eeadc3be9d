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
    /// The item kinds the pack speaks for, as a bitmask of `kind` value
    /// indexes; `None` = every kind. A spec of another kind is outside the
    /// pack's scope: undetermined, never not listed.
    pub covers_kinds: Option<u64>,
    /// What a spec outside `covers_kinds` is undetermined for (never in `entries`).
    pub scope_entry: ControlEntry,
}

/// Entry id of the undetermined result a spec outside a pack's scope gets.
pub const OUTSIDE_SCOPE_ID: &str = "OUTSIDE-PACK-SCOPE";

/// The one fact that entry lacks: the item's classification in the regime,
/// which only the caller can give (a pre-classified entry); no spec
/// attribute can settle it.
pub const OUTSIDE_SCOPE_MISSING: &str = "classification";

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
    /// Item kinds (values of the vocabulary's `kind`) the pack covers; absent = all.
    covers_kinds: Option<Vec<String>>,
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
        let kind_attr = vocab
            .id("kind")
            .ok_or_else(|| err("pack", "the vocabulary declares no `kind`".into()))?;
        let covers_kinds = match &header.covers_kinds {
            None => None,
            Some(kinds) if kinds.is_empty() => {
                return Err(err("pack", "covers_kinds is empty".into()));
            }
            Some(kinds) => {
                let mut mask = 0u64;
                for k in kinds {
                    let i = vocab.category_index(kind_attr, k).ok_or_else(|| {
                        err(
                            "pack",
                            format!("covers_kinds: `{k}` is not a value of `kind`"),
                        )
                    })?;
                    mask |= 1 << i;
                }
                Some(mask)
            }
        };
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
            if let Some(covered) = covers_kinds {
                for (n, v) in versions.iter().enumerate() {
                    if let Some(kinds) = v.criteria.required_values(kind_attr)
                        && kinds & !covered != 0
                    {
                        return Err(err(
                            &format!("{id} version {}", n + 1),
                            "criteria admit a kind outside the pack's covers_kinds".into(),
                        ));
                    }
                }
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
        let scope_entry = scope_entry(&header, covers_kinds, covers_from, vocab, kind_attr);
        Ok(RulePack {
            covers_kinds,
            scope_entry,
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

    /// Whether the pack speaks for items of this `kind` value index.
    pub fn covers_kind(&self, kind: u8) -> bool {
        self.covers_kinds.is_none_or(|m| (m >> kind) & 1 == 1)
    }
}

/// The undetermined entry of a spec outside the pack's scope: in force from
/// `covers_from`, citing the pack's source, titled with the kinds it covers.
fn scope_entry(
    header: &PackHeader,
    covers_kinds: Option<u64>,
    covers_from: Date,
    vocab: &Vocabulary,
    kind_attr: super::vocabulary::AttrId,
) -> ControlEntry {
    let kinds: Vec<&str> = vocab
        .def(kind_attr)
        .values
        .iter()
        .enumerate()
        .filter(|(i, _)| covers_kinds.is_some_and(|m| (m >> i) & 1 == 1))
        .map(|(_, v)| v.as_str())
        .collect();
    let title = format!(
        "Outside the bundled {} pack's scope: it classifies items of kind {} only, so it cannot call an item of another kind not listed ({}); classify the item under {} yourself",
        header.regime,
        kinds.join(", "),
        header.not_listed_label,
        header.regime
    );
    ControlEntry {
        id: OUTSIDE_SCOPE_ID.to_string(),
        title,
        versions: vec![EntryVersion {
            from: covers_from,
            until: None,
            criteria_text: String::new(),
            criteria: Criterion::All(Vec::new()),
            reasons: Vec::new(),
            citations: vec![header.source.clone()],
            confidence: Confidence::High,
            note: String::new(),
        }],
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

    #[test]
    fn covers_kinds_are_vocabulary_values_and_bound_the_entries() {
        let with = |kinds: &str| {
            pack(GOOD).replace(
                "covers_from = \"2019-01-01\"",
                &format!("covers_from = \"2019-01-01\"\ncovers_kinds = {kinds}"),
            )
        };
        let v = vocab();
        let kind = v.id("kind").unwrap();
        let p = RulePack::parse("us-ear.toml", &with("[\"material\", \"other\"]"), &v).unwrap();
        let material = v.category_index(kind, "material").unwrap();
        let software = v.category_index(kind, "software").unwrap();
        assert!(p.covers_kind(material) && !p.covers_kind(software));
        assert_eq!(p.scope_entry.id, OUTSIDE_SCOPE_ID);
        assert!(
            p.scope_entry.title.contains("material, other")
                && p.scope_entry.title.contains("EAR99"),
            "{}",
            p.scope_entry.title
        );
        // No covers_kinds: every kind.
        let all = RulePack::parse("us-ear.toml", &pack(GOOD), &v).unwrap();
        assert!(all.covers_kind(software));
        let e = RulePack::parse("us-ear.toml", &with("[\"softwear\"]"), &v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("covers_kinds: `softwear`"), "{e}");
        let e = RulePack::parse("us-ear.toml", &with("[]"), &v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("covers_kinds is empty"), "{e}");
        // An entry for a kind the pack does not cover is a contradiction.
        let e = RulePack::parse(
            "us-ear.toml",
            &with("[\"software\"]").replace("material = photoresist", "kind = material"),
            &v,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("3C992 version 1: criteria admit a kind outside"),
            "{e}"
        );
    }
}
