//! The loaded rule set: every regime's pack, indexed for matching, and the
//! classification of one spec as of a date.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest as _, Sha256};
use time::Date;

use super::criteria::{Explanation, Truth};
use super::pack::{ControlEntry, EntryVersion, OUTSIDE_SCOPE_MISSING, RulePack, digest_bytes};
use super::vocabulary::{AttrId, Facts, Value, Vocabulary};
use crate::digest::Digest;
use crate::pack::PackError as LoadError;
pub use crate::pack::Source;

/// File name of the vocabulary inside a rules directory.
pub const VOCABULARY_FILE: &str = "vocabulary.toml";

/// A pack plus its entry index by item kind.
#[derive(Debug)]
struct IndexedPack {
    pack: RulePack,
    /// For each value of `kind`, the entries whose criteria can hold for it.
    by_kind: Vec<Vec<u32>>,
}

/// Every loaded pack, validated, compiled and indexed; immutable once built.
#[derive(Debug)]
pub struct RuleSet {
    vocab: Vocabulary,
    packs: Vec<IndexedPack>,
    digest: String,
    content_digest: Digest,
    vocabulary_digest: String,
    kind_attr: AttrId,
}

/// An entry that matched a spec.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub entry: &'a ControlEntry,
    pub version: &'a EntryVersion,
    pub reasons: Vec<&'a str>,
    pub because: Vec<String>,
}

/// An entry that could match if the named facts were given.
#[derive(Debug, Clone)]
pub struct Undetermined<'a> {
    pub entry: &'a ControlEntry,
    pub version: &'a EntryVersion,
    pub missing: Vec<&'a str>,
}

/// What a spec is in one regime.
#[derive(Debug, Clone)]
pub struct RegimeResult<'a> {
    pub pack: &'a RulePack,
    pub matches: Vec<Match<'a>>,
    pub undetermined: Vec<Undetermined<'a>>,
    /// The spec's kind (its vocabulary value) when it is outside the pack's
    /// `covers_kinds`: `undetermined` then holds only the pack's scope entry
    /// (`OUTSIDE_SCOPE_ID`).
    pub outside_scope: Option<&'a str>,
}

impl RegimeResult<'_> {
    /// The not-listed label, when the regime certainly does not list the item.
    pub fn not_listed_label(&self) -> Option<&str> {
        (self.matches.is_empty() && self.undetermined.is_empty())
            .then_some(self.pack.not_listed_label.as_str())
    }
}

impl RuleSet {
    /// Builds a rule set from the vocabulary and pack sources.
    pub fn from_sources(vocabulary: &Source, packs: &[Source]) -> Result<Self, LoadError> {
        let vocab = Vocabulary::parse(&vocabulary.file, &vocabulary.text)?;
        let kind_attr = vocab
            .id("kind")
            .ok_or_else(|| LoadError::new(&vocabulary.file, "kind", "missing"))?;
        let kinds = vocab.def(kind_attr).values.len();
        let mut by_regime = BTreeMap::new();
        for src in packs {
            let pack = RulePack::parse(&src.file, &src.text, &vocab)?;
            if let Some(other) = by_regime
                .get(&pack.regime)
                .map(|p: &IndexedPack| p.pack.file.clone())
            {
                return Err(LoadError::new(
                    &src.file,
                    "pack",
                    format!("regime {} is also defined by {other}", pack.regime),
                ));
            }
            let mut by_kind = vec![Vec::new(); kinds];
            for (i, entry) in pack.entries.iter().enumerate() {
                let mut mask = 0u64;
                for v in &entry.versions {
                    mask |= v.criteria.required_values(kind_attr).unwrap_or(u64::MAX);
                }
                for (k, list) in by_kind.iter_mut().enumerate() {
                    if (mask >> k) & 1 == 1 {
                        list.push(i as u32);
                    }
                }
            }
            by_regime.insert(pack.regime.clone(), IndexedPack { pack, by_kind });
        }
        if by_regime.is_empty() {
            return Err(LoadError::new("-", "-", "no rule packs"));
        }
        let vocabulary_digest = digest_bytes(vocabulary.text.as_bytes());
        let mut h = Sha256::new();
        h.update(format!("{VOCABULARY_FILE} {vocabulary_digest}\n"));
        for p in by_regime.values() {
            h.update(format!("{} {}\n", p.pack.regime, p.pack.digest));
        }
        let content_digest = Digest::finish(h);
        let digest = content_digest.to_string();
        Ok(Self {
            vocab,
            packs: by_regime.into_values().collect(),
            digest,
            content_digest,
            vocabulary_digest,
            kind_attr,
        })
    }

    /// The packs compiled into the binary.
    pub fn bundled() -> Result<Self, LoadError> {
        let vocab = Source {
            file: VOCABULARY_FILE.into(),
            text: super::bundled::VOCABULARY.into(),
        };
        Self::from_sources(&vocab, &Source::from_pairs(super::bundled::PACKS))
    }

    /// Loads `vocabulary.toml` and every other `*.toml` file of a directory.
    pub fn load_dir(dir: &Path) -> Result<Self, LoadError> {
        let (vocab, packs) = crate::pack::read_dir(dir, VOCABULARY_FILE)?;
        Self::from_sources(&vocab, &packs)
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocab
    }

    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The digest as a value (for ids and tokens cut from it).
    pub fn content_digest(&self) -> &Digest {
        &self.content_digest
    }

    /// The first date every loaded pack speaks for.
    pub fn covers_from(&self) -> Date {
        self.packs
            .iter()
            .map(|p| p.pack.covers_from)
            .max()
            .expect("at least one pack")
    }

    pub fn vocabulary_digest(&self) -> &str {
        &self.vocabulary_digest
    }

    /// Packs in regime-code order.
    pub fn packs(&self) -> impl Iterator<Item = &RulePack> {
        self.packs.iter().map(|p| &p.pack)
    }

    pub fn pack(&self, regime: &str) -> Option<&RulePack> {
        self.packs().find(|p| p.regime == regime)
    }

    /// Index of a regime, for filters.
    pub fn regime_index(&self, regime: &str) -> Option<usize> {
        self.packs.iter().position(|p| p.pack.regime == regime)
    }

    /// Classifies in every regime (or those whose index is in `only`), as of `on`.
    /// The facts must come from this rule set's vocabulary, derived attributes included.
    pub fn classify(
        &self,
        facts: &Facts,
        on: Date,
        only: Option<&[usize]>,
    ) -> Vec<RegimeResult<'_>> {
        let kind = match facts.get(self.kind_attr) {
            Some(Value::Category(k)) => Some(k as usize),
            _ => None,
        };
        let mut out = Vec::with_capacity(self.packs.len());
        for (i, indexed) in self.packs.iter().enumerate() {
            if only.is_some_and(|o| !o.contains(&i)) {
                continue;
            }
            let mut result = RegimeResult {
                pack: &indexed.pack,
                matches: Vec::new(),
                undetermined: Vec::new(),
                outside_scope: None,
            };
            if let Some(k) = kind
                && !indexed.pack.covers_kind(k as u8)
            {
                // Not "not listed": the pack has no entries for this kind of item.
                let entry = &indexed.pack.scope_entry;
                result.outside_scope = Some(self.vocab.def(self.kind_attr).values[k].as_str());
                result.undetermined.push(Undetermined {
                    entry,
                    version: &entry.versions[0],
                    missing: vec![OUTSIDE_SCOPE_MISSING],
                });
                out.push(result);
                continue;
            }
            let candidates: Box<dyn Iterator<Item = usize>> = match kind {
                Some(k) => Box::new(indexed.by_kind[k].iter().map(|&e| e as usize)),
                None => Box::new(0..indexed.pack.entries.len()),
            };
            for e in candidates {
                let entry = &indexed.pack.entries[e];
                let Some(version) = entry.version_on(on) else {
                    continue;
                };
                match version.criteria.eval(facts, &self.vocab) {
                    Truth::False => {}
                    Truth::True => result
                        .matches
                        .push(self.explain_match(entry, version, facts)),
                    Truth::Unknown => {
                        let mut ex = Explanation::default();
                        version.criteria.explain(facts, &self.vocab, &mut ex);
                        let mut missing: Vec<&str> = ex
                            .missing
                            .iter()
                            .map(|&a| self.vocab.def(a).name.as_str())
                            .collect();
                        missing.sort_unstable();
                        missing.dedup();
                        result.undetermined.push(Undetermined {
                            entry,
                            version,
                            missing,
                        });
                    }
                }
            }
            out.push(result);
        }
        out
    }

    fn explain_match<'a>(
        &self,
        entry: &'a ControlEntry,
        version: &'a EntryVersion,
        facts: &Facts,
    ) -> Match<'a> {
        let mut ex = Explanation::default();
        version.criteria.explain(facts, &self.vocab, &mut ex);
        let reasons = version
            .reasons
            .iter()
            .filter(|r| match &r.when {
                None => true,
                Some((_, c)) => c.eval(facts, &self.vocab) == Truth::True,
            })
            .map(|r| r.code.as_str())
            .collect();
        Match {
            entry,
            version,
            reasons,
            because: ex.because,
        }
    }
}
