//! An index of listed names and the similarity used to screen a party name
//! against them.
//!
//! # Similarity
//!
//! Names are compared as token multisets after [`crate::normalize`]. Let `N`
//! be the number of names in the index and `df(t)` the number of names having
//! token `t`. A token's weight is its inverse document frequency
//! `w(t) = ln(1 + N / df(t))`, so that tokens found in many names (`china`,
//! `technology`, `group`, `international`, city names) count less than rare
//! ones. A query token unknown to the index weighs `ln(1 + N)` (as rare as a
//! token can be), or, when it is a typo of an indexed token, that token's
//! weight.
//!
//! Token similarity `s(q, l)` between a query token and a listed token is 1
//! when they are equal; otherwise, when neither has a digit, both have at
//! least [`MIN_FUZZY_CHARS`] characters, and the query token lies within one
//! edit (insertion, deletion, substitution or adjacent transposition) of the
//! listed token or of a spelling that normalises to it (`technolgies` is one
//! edit from `technologies`, which step 6 makes `technology`), it is the
//! Jaro-Winkler similarity (strsim) of the query token and that spelling, kept
//! when at least [`TOKEN_SIM_FLOOR`]; else 0.
//!
//! Query tokens and listed tokens are paired one to one, greedily by
//! decreasing `s`. With `s_j` the similarity paired with listed token `j`
//! (0 if unpaired) and `s_i` that of query token `i`:
//!
//! - listed coverage `C_L = Σ_j w(l_j)·s_j / Σ_j w(l_j)`,
//! - query coverage `C_Q = Σ_i w(q_i)·s_i / Σ_i w(q_i)`,
//! - exactly matched weight `M = Σ_j w(l_j)` over listed tokens paired with
//!   `s_j = 1`,
//! - `score = C_L · (1 − β·(1 − C_Q))`, with `β = `[`EXTRA_TOKEN_PENALTY`]
//!   (0.25) when `M ≥ `[`SUBSET_GUARD`]` · ln(1 + N)`, and `β = 1` (so
//!   `score = C_L · C_Q`) otherwise.
//!
//! So a listed name must be covered almost whole; extra query tokens (`SMIC
//! Trading`) cost at most a quarter of the score, but only when the listed
//! tokens that matched exactly are distinctive enough: a listed name made of
//! one common word (weight below half the rarest possible) must also cover the
//! query, so it does not make every query containing that word a near miss;
//! and a typo'd match must cover the query too (`Samsung Electronics` is not
//! a near miss of the listed one-word name `Samsun`).
//! Order of tokens never matters.
//!
//! A hit is **exact** when the query's token multiset equals a listed name's
//! (score 1). It is a **near miss** when it is not exact and
//! `score ≥ threshold` (the caller's; [`DEFAULT_THRESHOLD`] is 0.85).
//!
//! # Index
//!
//! Each listed name is posted only under its *signature* tokens: its tokens
//! taken from the heaviest down until they hold more than
//! `1 − `[`SIGNATURE_COVERAGE`] of its weight, so that any query covering at
//! least that share of a name's weight shares one of them (thresholds below
//! [`SIGNATURE_COVERAGE`] can miss near misses; exact hits never are). Typo'd
//! query tokens find listed tokens through a sorted table of hashes of each
//! indexed spelling and of each spelling with one character deleted (the
//! deletion neighbourhood of distance 1). Exact hits are found through a
//! sorted table of hashes of each name's sorted token ids. Only the names
//! posted under a query token's matches are scored.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::normalize::{ABBREVIATIONS, Detailed, is_mixed_script, normalize_detailed};

/// The engine's default near-miss threshold.
pub const DEFAULT_THRESHOLD: f64 = 0.85;
/// Minimum Jaro-Winkler similarity for two different tokens to count.
pub const TOKEN_SIM_FLOOR: f64 = 0.85;
/// Tokens shorter than this (in characters) must match exactly.
pub const MIN_FUZZY_CHARS: usize = 5;
/// `β`: what the unmatched share of the query's weight costs.
pub const EXTRA_TOKEN_PENALTY: f64 = 0.25;
/// Matched listed weight, as a share of the rarest possible weight, needed
/// for extra query tokens to cost only `β`.
pub const SUBSET_GUARD: f64 = 0.5;
/// Lowest listed coverage the signature postings guarantee to find.
pub const SIGNATURE_COVERAGE: f64 = 0.5;

/// One hit: the best listed name of one owner for the query names.
#[derive(Clone, Debug, PartialEq)]
pub struct NameHit {
    /// The owner id given to [`NameIndex::build`] with the listed name.
    pub owner: usize,
    /// The listed name, as given.
    pub listed_name: String,
    /// The query name that hit, as given.
    pub query_name: String,
    /// Similarity in `[0, 1]`; 1 for an exact hit.
    pub score: f64,
    /// Whether the normalised token multisets are equal.
    pub exact: bool,
    /// What the match had to see through: `invisible_characters`,
    /// `compatibility_forms`, `confusable_letters`, `mixed_script`,
    /// `reordered`, `joined_tokens`, `typo:<query>~<listed>`,
    /// `extra_query_tokens`, `missing_listed_tokens`.
    pub signals: Vec<String>,
}

#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { FNV_OFFSET } else { self.0 };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        self.0 = h;
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// FNV-1a of a string's characters, skipping the character at `skip`.
fn hash_skip(s: &str, skip: usize) -> u64 {
    let mut h = FNV_OFFSET;
    let mut buf = [0u8; 4];
    for (i, c) in s.chars().enumerate() {
        if i == skip {
            continue;
        }
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

fn hash_ids(ids: &[u32]) -> u64 {
    let mut h = FNV_OFFSET;
    for id in ids {
        for b in id.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

const BUCKET_BITS: u32 = 16;

/// For a table sorted by hash: the start of each bucket of hashes sharing
/// their top [`BUCKET_BITS`] bits, and the end.
fn buckets(table: &[(u64, u32)]) -> Vec<u32> {
    let mut starts = vec![0u32; (1 << BUCKET_BITS) + 1];
    for &(h, _) in table {
        starts[(h >> (64 - BUCKET_BITS)) as usize + 1] += 1;
    }
    for i in 0..(1 << BUCKET_BITS) {
        starts[i + 1] += starts[i];
    }
    starts
}

/// The entries of a bucketed table with hash `h`.
fn lookup<'t>(table: &'t [(u64, u32)], buckets: &[u32], h: u64) -> &'t [(u64, u32)] {
    let b = (h >> (64 - BUCKET_BITS)) as usize;
    let bucket = &table[buckets[b] as usize..buckets[b + 1] as usize];
    let from = bucket.partition_point(|&(x, _)| x < h);
    let to = from + bucket[from..].partition_point(|&(x, _)| x == h);
    &bucket[from..to]
}

fn fuzzy_eligible(s: &str) -> bool {
    s.chars().count() >= MIN_FUZZY_CHARS && !s.chars().any(|c| c.is_ascii_digit())
}

struct NameRec {
    owner: usize,
    raw: Box<str>,
    start: u32,
    len: u32,
    total: f64,
}

/// An index of names for screening (see the module documentation).
pub struct NameIndex {
    names: Vec<NameRec>,
    /// Each name's canonical token ids, in order.
    arena: Vec<u32>,
    /// Every spelling seen (canonical tokens and their surface forms).
    forms: FnvMap<Box<str>, u32>,
    form_text: Vec<Box<str>>,
    /// Canonical token id of each form (itself for a canonical token).
    canon: Vec<u32>,
    /// Weight of each canonical token (0 for forms that are not tokens).
    weight: Vec<f64>,
    post_start: Vec<u32>,
    post_names: Vec<u32>,
    /// (hash of a spelling or of it less one character, form id), sorted.
    deletions: Vec<(u64, u32)>,
    /// Start in `deletions` of each bucket of hashes by their top 16 bits.
    deletion_buckets: Vec<u32>,
    /// (hash of a name's sorted token ids, name id), sorted.
    exact: Vec<(u64, u32)>,
    exact_buckets: Vec<u32>,
    unknown_weight: f64,
}

impl std::fmt::Debug for NameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameIndex")
            .field("names", &self.names.len())
            .field("forms", &self.form_text.len())
            .finish()
    }
}

struct QueryToken {
    text: String,
    weight: f64,
    /// (canonical token id, similarity, form id matched).
    matches: Vec<(u32, f64, u32)>,
}

impl NameIndex {
    /// Builds the index of `(owner id, raw name)` pairs. Names that normalise
    /// to nothing (only punctuation) are skipped.
    pub fn build(names: impl IntoIterator<Item = (usize, String)>) -> Self {
        let mut index = NameIndex {
            names: Vec::new(),
            arena: Vec::new(),
            forms: FnvMap::default(),
            form_text: Vec::new(),
            canon: Vec::new(),
            weight: Vec::new(),
            post_start: Vec::new(),
            post_names: Vec::new(),
            deletions: Vec::new(),
            deletion_buckets: Vec::new(),
            exact: Vec::new(),
            exact_buckets: Vec::new(),
            unknown_weight: 0.0,
        };
        for (owner, raw) in names {
            let Detailed {
                tokens, surfaces, ..
            } = normalize_detailed(&raw);
            if tokens.is_empty() {
                continue;
            }
            let start = index.arena.len() as u32;
            for (token, surface) in tokens.iter().zip(&surfaces) {
                let id = index.intern(token, None);
                if surface != token {
                    index.intern(surface, Some(id));
                }
                index.arena.push(id);
            }
            index.names.push(NameRec {
                owner,
                raw: raw.into_boxed_str(),
                start,
                len: tokens.len() as u32,
                total: 0.0,
            });
        }
        // Every spelling of an abbreviation group whose canonical word is
        // indexed, so that a typo of any spelling finds it.
        for group in ABBREVIATIONS {
            if let Some(&id) = index.forms.get(group[0]) {
                for spelling in &group[1..] {
                    index.intern(spelling, Some(id));
                }
            }
        }
        index.finish();
        index
    }

    fn intern(&mut self, text: &str, canon: Option<u32>) -> u32 {
        if let Some(&id) = self.forms.get(text) {
            return id;
        }
        let id = self.form_text.len() as u32;
        self.forms.insert(text.into(), id);
        self.form_text.push(text.into());
        self.canon.push(canon.unwrap_or(id));
        id
    }

    fn name_tokens(&self, name: &NameRec) -> &[u32] {
        &self.arena[name.start as usize..(name.start + name.len) as usize]
    }

    fn finish(&mut self) {
        let forms = self.form_text.len();
        let n = self.names.len() as f64;
        let mut df = vec![0u32; forms];
        let mut scratch: Vec<u32> = Vec::new();
        for name in &self.names {
            scratch.clear();
            scratch.extend_from_slice(self.name_tokens(name));
            scratch.sort_unstable();
            scratch.dedup();
            for &t in &scratch {
                df[t as usize] += 1;
            }
        }
        self.unknown_weight = (1.0 + n).ln();
        self.weight = df
            .iter()
            .map(|&d| {
                if d == 0 {
                    0.0
                } else {
                    (1.0 + n / f64::from(d)).ln()
                }
            })
            .collect();

        // Signatures, exact keys.
        let mut signature_of: Vec<(u32, u32)> = Vec::new();
        let mut exact = Vec::with_capacity(self.names.len());
        for (name_id, name) in self.names.iter_mut().enumerate() {
            let tokens = &self.arena[name.start as usize..(name.start + name.len) as usize];
            name.total = tokens.iter().map(|&t| self.weight[t as usize]).sum();
            scratch.clear();
            scratch.extend_from_slice(tokens);
            scratch.sort_unstable();
            exact.push((hash_ids(&scratch), name_id as u32));
            scratch.dedup();
            scratch.sort_by(|a, b| {
                self.weight[*b as usize]
                    .total_cmp(&self.weight[*a as usize])
                    .then(a.cmp(b))
            });
            let needed = (1.0 - SIGNATURE_COVERAGE) * name.total;
            let mut held = 0.0;
            for &t in &scratch {
                signature_of.push((t, name_id as u32));
                held += self.weight[t as usize] * tokens.iter().filter(|&&x| x == t).count() as f64;
                if held > needed {
                    break;
                }
            }
        }
        exact.sort_unstable();
        self.exact_buckets = buckets(&exact);
        self.exact = exact;

        signature_of.sort_unstable();
        self.post_start = vec![0; forms + 1];
        for &(t, _) in &signature_of {
            self.post_start[t as usize + 1] += 1;
        }
        for i in 0..forms {
            self.post_start[i + 1] += self.post_start[i];
        }
        self.post_names = signature_of.into_iter().map(|(_, n)| n).collect();

        let mut deletions = Vec::new();
        for (id, text) in self.form_text.iter().enumerate() {
            if !fuzzy_eligible(text) || df[self.canon[id] as usize] == 0 {
                continue;
            }
            let chars = text.chars().count();
            deletions.push((hash_skip(text, usize::MAX), id as u32));
            for skip in 0..chars {
                deletions.push((hash_skip(text, skip), id as u32));
            }
        }
        deletions.sort_unstable();
        deletions.dedup();
        self.deletion_buckets = buckets(&deletions);
        self.deletions = deletions;
    }

    /// Number of names indexed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is indexed.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Approximate heap bytes held by the index.
    pub fn heap_bytes(&self) -> usize {
        let strings: usize = self.names.iter().map(|n| n.raw.len()).sum::<usize>()
            + self.form_text.iter().map(|t| 2 * t.len()).sum::<usize>();
        strings
            + self.names.len() * std::mem::size_of::<NameRec>()
            + self.arena.len() * 4
            + self.form_text.len() * (2 * 16 + 4 + 8 + 4 + 16)
            + self.post_names.len() * 4
            + (self.deletions.len() + self.exact.len()) * 16
            + (self.deletion_buckets.len() + self.exact_buckets.len()) * 4
    }

    fn token_id(&self, text: &str) -> Option<u32> {
        self.forms
            .get(text)
            .copied()
            .filter(|&id| self.canon[id as usize] == id && self.weight[id as usize] > 0.0)
    }

    fn query_token(&self, text: &str) -> QueryToken {
        let id = self.token_id(text);
        let mut matches: Vec<(u32, f64, u32)> = Vec::new();
        if let Some(id) = id {
            matches.push((id, 1.0, id));
        }
        if fuzzy_eligible(text) {
            let chars = text.chars().count();
            for skip in std::iter::once(usize::MAX).chain(0..chars) {
                let h = hash_skip(text, skip);
                for &(_, form) in lookup(&self.deletions, &self.deletion_buckets, h) {
                    let canon = self.canon[form as usize];
                    if Some(canon) == id {
                        continue;
                    }
                    let sim = strsim::jaro_winkler(text, &self.form_text[form as usize]);
                    if sim < TOKEN_SIM_FLOOR {
                        continue;
                    }
                    match matches.iter_mut().find(|m| m.0 == canon) {
                        Some(m) if m.1 < sim => *m = (canon, sim, form),
                        Some(_) => {}
                        None => matches.push((canon, sim, form)),
                    }
                }
            }
        }
        let weight = match id {
            Some(id) => self.weight[id as usize],
            None => matches
                .iter()
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(self.unknown_weight, |m| self.weight[m.0 as usize]),
        };
        QueryToken {
            text: text.to_owned(),
            weight,
            matches,
        }
    }

    /// Screens query names (a party's name and aliases) against the index:
    /// the best hit per owner with `score ≥ threshold` (exact hits always),
    /// ranked by score (then owner), at most `limit` of them.
    pub fn screen(&self, query_names: &[&str], threshold: f64, limit: usize) -> Vec<NameHit> {
        let mut hits: Vec<NameHit> = Vec::new();
        if self.names.is_empty() {
            return hits;
        }
        for &query in query_names {
            let detailed = normalize_detailed(query);
            if detailed.tokens.is_empty() {
                continue;
            }
            let mut base_signals = Vec::new();
            if detailed.folds.invisible {
                base_signals.push("invisible_characters".to_owned());
            }
            if detailed.folds.compat {
                base_signals.push("compatibility_forms".to_owned());
            }
            if detailed.folds.confusable {
                base_signals.push("confusable_letters".to_owned());
            }
            if is_mixed_script(query) {
                base_signals.push("mixed_script".to_owned());
            }
            let tokens: Vec<QueryToken> = detailed
                .tokens
                .iter()
                .map(|t| self.query_token(t))
                .collect();
            self.screen_tokens(query, &tokens, &base_signals, threshold, &mut hits);
            if let Some(joined) = self.joined_variant(&detailed.tokens) {
                let tokens: Vec<QueryToken> = joined.iter().map(|t| self.query_token(t)).collect();
                let mut signals = base_signals.clone();
                signals.push("joined_tokens".to_owned());
                self.screen_tokens(query, &tokens, &signals, threshold, &mut hits);
            }
        }
        // Best hit per owner, then rank.
        hits.sort_by(|a, b| {
            a.owner
                .cmp(&b.owner)
                .then(b.exact.cmp(&a.exact))
                .then(b.score.total_cmp(&a.score))
        });
        hits.dedup_by(|later, first| later.owner == first.owner);
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.exact.cmp(&a.exact))
                .then(a.owner.cmp(&b.owner))
        });
        hits.truncate(limit);
        hits
    }

    /// The query tokens with adjacent tokens joined where the join is an
    /// indexed spelling and neither part is (`hua wei` → `huawei`).
    fn joined_variant(&self, tokens: &[String]) -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::with_capacity(tokens.len());
        let mut joined = false;
        let mut i = 0;
        while i < tokens.len() {
            if i + 1 < tokens.len() {
                let both = format!("{}{}", tokens[i], tokens[i + 1]);
                if self.forms.contains_key(both.as_str())
                    && (self.token_id(&tokens[i]).is_none()
                        || self.token_id(&tokens[i + 1]).is_none())
                {
                    let canon = self.form_text
                        [self.canon[self.forms[both.as_str()] as usize] as usize]
                        .to_string();
                    out.push(canon);
                    joined = true;
                    i += 2;
                    continue;
                }
            }
            out.push(tokens[i].clone());
            i += 1;
        }
        joined.then_some(out)
    }

    fn screen_tokens(
        &self,
        query: &str,
        tokens: &[QueryToken],
        base_signals: &[String],
        threshold: f64,
        hits: &mut Vec<NameHit>,
    ) {
        // Exact: every token known, the sorted ids equal a name's.
        let mut ids: Vec<u32> = tokens
            .iter()
            .filter_map(|t| t.matches.first().filter(|m| m.1 == 1.0).map(|m| m.0))
            .collect();
        let mut exact_names: Vec<u32> = Vec::new();
        if ids.len() == tokens.len() {
            let in_order = ids.clone();
            ids.sort_unstable();
            let h = hash_ids(&ids);
            for &(_, name_id) in lookup(&self.exact, &self.exact_buckets, h) {
                let name = &self.names[name_id as usize];
                let listed = self.name_tokens(name);
                let mut sorted = listed.to_vec();
                sorted.sort_unstable();
                if sorted != ids {
                    continue;
                }
                exact_names.push(name_id);
                let mut signals = base_signals.to_vec();
                if listed != in_order.as_slice() {
                    signals.push("reordered".to_owned());
                }
                hits.push(NameHit {
                    owner: name.owner,
                    listed_name: name.raw.to_string(),
                    query_name: query.to_owned(),
                    score: 1.0,
                    exact: true,
                    signals,
                });
            }
        }

        // (listed token id, query token index, similarity, form), by id.
        let mut by_id: Vec<(u32, usize, f64, u32)> = tokens
            .iter()
            .enumerate()
            .flat_map(|(i, t)| t.matches.iter().map(move |m| (m.0, i, m.1, m.2)))
            .collect();
        by_id.sort_unstable_by_key(|m| m.0);
        // Quick rejection of listed tokens no query token matches.
        let mask = by_id.iter().fold(0u64, |m, t| m | 1 << (t.0 % 64));

        let mut candidates: Vec<u32> = Vec::new();
        for token in tokens {
            for &(id, _, _) in &token.matches {
                let from = self.post_start[id as usize] as usize;
                let to = self.post_start[id as usize + 1] as usize;
                candidates.extend_from_slice(&self.post_names[from..to]);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();

        let query_total: f64 = tokens.iter().map(|t| t.weight).sum();
        let guard = SUBSET_GUARD * self.unknown_weight;
        let mut pairs: Vec<(f64, usize, usize, u32)> = Vec::new();
        let mut query_used = vec![false; tokens.len()];
        let mut listed_used: Vec<bool> = Vec::new();
        for name_id in candidates {
            if exact_names.contains(&name_id) {
                continue;
            }
            let name = &self.names[name_id as usize];
            let listed = self.name_tokens(name);
            // Upper bound of C_L first: the score cannot exceed it.
            let reachable: f64 = listed
                .iter()
                .filter(|&&l| mask & (1 << (l % 64)) != 0)
                .map(|&l| self.weight[l as usize])
                .sum();
            if reachable < threshold * name.total {
                continue;
            }
            pairs.clear();
            for (j, &l) in listed.iter().enumerate() {
                if mask & (1 << (l % 64)) == 0 {
                    continue;
                }
                let from = by_id.partition_point(|m| m.0 < l);
                for &(id, i, sim, form) in &by_id[from..] {
                    if id != l {
                        break;
                    }
                    pairs.push((sim, i, j, form));
                }
            }
            pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            query_used.iter_mut().for_each(|u| *u = false);
            listed_used.clear();
            listed_used.resize(listed.len(), false);
            let (mut matched_listed, mut matched_query, mut matched_exactly) = (0.0, 0.0, 0.0);
            let mut typos: Vec<(usize, u32)> = Vec::new();
            for &(sim, i, j, form) in &pairs {
                if query_used[i] || listed_used[j] {
                    continue;
                }
                query_used[i] = true;
                listed_used[j] = true;
                matched_listed += self.weight[listed[j] as usize] * sim;
                matched_query += tokens[i].weight * sim;
                if sim < 1.0 {
                    typos.push((i, form));
                } else {
                    matched_exactly += self.weight[listed[j] as usize];
                }
            }
            if name.total <= 0.0 || query_total <= 0.0 {
                continue;
            }
            let listed_cover = matched_listed / name.total;
            let query_cover = matched_query / query_total;
            let beta = if matched_exactly >= guard {
                EXTRA_TOKEN_PENALTY
            } else {
                1.0
            };
            let score = listed_cover * (1.0 - beta * (1.0 - query_cover));
            if score < threshold {
                continue;
            }
            let mut signals = base_signals.to_vec();
            for (i, form) in typos {
                signals.push(format!(
                    "typo:{}~{}",
                    tokens[i].text, self.form_text[form as usize]
                ));
            }
            if query_cover < 1.0 - 1e-9 {
                signals.push("extra_query_tokens".to_owned());
            }
            if listed_cover < 1.0 - 1e-9 {
                signals.push("missing_listed_tokens".to_owned());
            }
            hits.push(NameHit {
                owner: name.owner,
                listed_name: name.raw.to_string(),
                query_name: query.to_owned(),
                score: score.min(1.0),
                exact: false,
                signals,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMIC: usize = 0;
    const YMTC: usize = 1;
    const HUAWEI: usize = 2;

    fn index() -> NameIndex {
        NameIndex::build(index_names())
    }

    fn index_names() -> Vec<(usize, String)> {
        let mut names: Vec<(usize, String)> = vec![
            (
                SMIC,
                "Semiconductor Manufacturing International Corporation".into(),
            ),
            (SMIC, "SMIC".into()),
            (YMTC, "Yangtze Memory Technologies Co., Ltd.".into()),
            (YMTC, "YMTC".into()),
            (HUAWEI, "Huawei Technologies Co., Ltd.".into()),
            (HUAWEI, "华为技术有限公司".into()),
            (3, "China Telecom Corporation Limited".into()),
            (4, "Beijing Institute of Technology".into()),
            (5, "Harbin Engineering University".into()),
            (
                6,
                "Shanghai Micro Electronics Equipment (Group) Co., Ltd.".into(),
            ),
            (7, "Hikvision Digital Technology Co., Ltd.".into()),
            (8, "Sugon Information Industry Co., Ltd.".into()),
            (9, "Rostec State Corporation".into()),
            (10, "Mikron JSC".into()),
            (11, "Islamic Revolutionary Guard Corps".into()),
            (12, "Korea Mining Development Trading Corporation".into()),
            (13, "China Electronics Technology Group Corporation".into()),
            (
                14,
                "Shenzhen Dajiang Innovation Technology Co., Ltd.".into(),
            ),
            (15, "Inspur Group Co., Ltd.".into()),
            (16, "Kaspersky Lab".into()),
            (17, "Aviation Industry Corporation of China".into()),
            (18, "Beijing Kunlun Technology Co., Ltd.".into()),
            (19, "Global Trading International LLC".into()),
            (
                20,
                "Tianjin Phytium Information Technology Co., Ltd.".into(),
            ),
            (21, "Moscow Institute of Physics and Technology".into()),
            (22, "Zhejiang Dahua Technology Co., Ltd.".into()),
            (
                23,
                "Hong Kong Electronics International Trading Limited".into(),
            ),
            (24, "Technology".into()),
            (25, "China".into()),
        ];
        names.push((26, "Mobile Telesystems PJSC".into()));
        names
    }

    fn top(index: &NameIndex, query: &str) -> Option<NameHit> {
        index
            .screen(&[query], DEFAULT_THRESHOLD, 5)
            .into_iter()
            .next()
    }

    fn assert_exact(index: &NameIndex, query: &str, owner: usize) {
        let hit = top(index, query).unwrap_or_else(|| panic!("{query}: no hit"));
        assert_eq!((hit.owner, hit.exact), (owner, true), "{query}: {hit:?}");
    }

    fn assert_near(index: &NameIndex, query: &str, owner: usize) -> NameHit {
        let hit = top(index, query).unwrap_or_else(|| panic!("{query}: no hit"));
        assert_eq!(hit.owner, owner, "{query}: {hit:?}");
        assert!(hit.score >= DEFAULT_THRESHOLD, "{query}: {hit:?}");
        hit
    }

    fn assert_no_hit(index: &NameIndex, query: &str) {
        let hits = index.screen(&[query], DEFAULT_THRESHOLD, 5);
        assert!(hits.is_empty(), "{query}: {hits:?}");
    }

    #[test]
    fn disguised_smic_is_an_exact_hit() {
        let index = index();
        assert_exact(&index, "\u{0405}\u{041C}\u{0406}\u{0421}", SMIC);
        assert_exact(&index, "ＳＭＩＣ", SMIC);
        assert_exact(&index, "S\u{200B}MIC", SMIC);
        assert_exact(&index, "Semiconductor Mfg. Int'l Corp.", SMIC);
        assert_exact(
            &index,
            "SEMICONDUCTOR MANUFACTURING INTERNATIONAL CORP",
            SMIC,
        );
        let hit = top(&index, "\u{0405}\u{041C}\u{0406}\u{0421}").unwrap();
        assert!(
            hit.signals.contains(&"confusable_letters".to_owned()),
            "{hit:?}"
        );
        let hit = top(&index, "S\u{041C}IC").unwrap();
        assert!(hit.signals.contains(&"mixed_script".to_owned()), "{hit:?}");
    }

    #[test]
    fn extra_tokens_reordering_typos_and_cjk() {
        let index = index();
        let hit = assert_near(&index, "SMIC Trading Limited", SMIC);
        assert!(!hit.exact && hit.score < 1.0, "{hit:?}");
        let hit = top(&index, "Yangtze Memory Tech").unwrap();
        assert_eq!(hit.owner, YMTC);
        let hit = top(&index, "Manufacturing International Semiconductor").unwrap();
        assert_eq!(hit.owner, SMIC);
        assert!(hit.signals.contains(&"reordered".to_owned()), "{hit:?}");
        let hit = assert_near(&index, "Huawei Technolgies", HUAWEI);
        assert!(!hit.exact);
        assert!(
            hit.signals.iter().any(|s| s.starts_with("typo:")),
            "{hit:?}"
        );
        assert_exact(&index, "华为技术有限公司", HUAWEI);
        assert_exact(&index, "Hua Wei Technologies", HUAWEI);
    }

    #[test]
    fn unrelated_controls_do_not_hit() {
        let index = index();
        for query in [
            "Toyota Motor Corporation",
            "Bosch GmbH",
            "Samsung Electronics Co., Ltd.",
            "Example Memory Co.",
            "Taiwan Semiconductor Manufacturing Company",
            "China Mobile",
            "Sony Group Corporation",
            "Global Foundries",
        ] {
            assert_no_hit(&index, query);
        }
    }

    #[test]
    fn a_common_one_word_alias_does_not_make_everything_a_near_miss() {
        let index = index();
        // "Technology" and "China" are listed names of their own here.
        for query in [
            "Acme Technology",
            "China Mobile",
            "China Unicom Technology",
            "Beijing Technology",
        ] {
            let hits = index.screen(&[query], DEFAULT_THRESHOLD, 5);
            assert!(
                hits.iter().all(|h| h.owner != 24 && h.owner != 25),
                "{query}: {hits:?}"
            );
        }
        assert_exact(&index, "Technologies", 24);
    }

    #[test]
    fn a_typo_match_with_extra_tokens_must_cover_the_query() {
        // A one-word listed name one edit from a query word: without the
        // exact-match guard, "Samsung Electronics" would be a near miss.
        let mut names = index_names();
        names.push((40, "SAMSUN".to_owned()));
        let index = NameIndex::build(names);
        assert_no_hit(&index, "Samsung Electronics Co., Ltd.");
        assert_near(&index, "Samsunn", 40);
    }

    #[test]
    fn china_mobile_is_not_china_telecom() {
        let index = NameIndex::build([(0, "China Telecom".to_owned()), (1, "Acme".to_owned())]);
        assert!(
            index
                .screen(&["China Mobile"], DEFAULT_THRESHOLD, 5)
                .is_empty()
        );
    }

    #[test]
    fn small_indexes_work() {
        let index = NameIndex::build([(7, "Example Party Ltd".to_owned())]);
        assert_eq!(index.len(), 1);
        let hits = index.screen(&["EXAMPLE PARTY LIMITED"], DEFAULT_THRESHOLD, 5);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].exact);
        assert!(
            NameIndex::build(Vec::new())
                .screen(&["x"], 0.5, 5)
                .is_empty()
        );
    }

    #[test]
    fn best_hit_per_owner_and_limit() {
        let index = index();
        let hits = index.screen(
            &["SMIC", "Semiconductor Manufacturing International"],
            0.85,
            10,
        );
        assert_eq!(hits.iter().filter(|h| h.owner == SMIC).count(), 1);
        assert!(index.screen(&["SMIC", "YMTC", "Huawei"], 0.85, 1).len() == 1);
    }
}
