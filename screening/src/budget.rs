//! The screening performance budget and the workload that measures it,
//! shared by the `screen_budget` example, the criterion bench and
//! `exportctl-bench`: a synthetic list with the shape of the Consolidated
//! Screening List, a fixed mix of listed, disguised and unlisted query names,
//! and the timing of one screening per name.
//!
//! Deterministic (a fixed-seed xorshift generator): the same list and mix on
//! every run, so figures are comparable between runs and machines.

use std::time::Instant;

use crate::{DEFAULT_THRESHOLD, ListHit, ScreeningList};

/// Budget: one list loaded and indexed within this many milliseconds.
pub const LOAD_BUDGET_MS: f64 = 2000.0;
/// Budget: median time to screen one party's name, microseconds.
pub const SCREEN_P50_BUDGET_US: f64 = 50.0;
/// Budget: 99th percentile time to screen one party's name, microseconds.
pub const SCREEN_P99_BUDGET_US: f64 = 250.0;
/// Entries of the synthetic list: about the size of the full CSL download
/// (25,921 entries, 57,174 names and aliases on 2026-07-31).
pub const SYNTHETIC_ENTRIES: usize = 26_000;
/// Hits asked for per screening, as the decision engine does.
pub const SCREEN_LIMIT: usize = 10;

/// A small deterministic generator (xorshift64).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ten", "zhu", "an", "bor", "vel", "qi", "sun", "ra", "dov", "lin", "hao",
    "mar", "tek", "nor", "shi", "yu", "fen", "gra", "pol", "tri", "wei",
];
const COMMON: &[&str] = &[
    "China",
    "Technology",
    "Group",
    "International",
    "Trading",
    "Electronics",
    "Industrial",
    "Shenzhen",
    "Moscow",
    "Tehran",
    "Engineering",
    "Research Institute",
    "Holding",
    "Logistics",
];
const FORMS: &[&str] = &[
    "Co., Ltd.",
    "LLC",
    "JSC",
    "Limited",
    "GmbH",
    "Corporation",
    "",
];

/// A made-up word of two or three syllables, capitalised.
fn word(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    let mut w: String = (0..n)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect();
    w[..1].make_ascii_uppercase();
    w
}

/// A person-like name (three made-up words, the last upper-cased) or a
/// company name with common words and a legal form.
fn synthetic_name(rng: &mut Rng, person: bool) -> String {
    if person {
        format!("{} {} {}", word(rng), word(rng), word(rng).to_uppercase())
    } else {
        format!(
            "{} {} {} {}",
            COMMON[rng.below(COMMON.len())],
            word(rng),
            COMMON[rng.below(COMMON.len())],
            FORMS[rng.below(FORMS.len())]
        )
        .trim_end()
        .to_owned()
    }
}

/// `count` synthetic names for [`crate::NameIndex::build`], two per owner:
/// a third person-like, the rest company names.
pub fn synthetic_names(count: usize) -> Vec<(usize, String)> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    (0..count)
        .map(|i| (i / 2, synthetic_name(&mut rng, i % 3 == 0)))
        .collect()
}

/// Sources of the synthetic entries, with about the real list's shares (per
/// 100 entries): SDN 74, EL 13, DPL 6, DTC 3, then one each of the rest.
const SOURCES: &[(usize, &str)] = &[
    (
        74,
        "Specially Designated Nationals (SDN) - Treasury Department",
    ),
    (13, "Entity List (EL) - Bureau of Industry and Security"),
    (
        6,
        "Denied Persons List (DPL) - Bureau of Industry and Security",
    ),
    (3, "ITAR Debarred (DTC) - State Department"),
    (
        1,
        "Sectoral Sanctions Identifications List (SSI) - Treasury Department",
    ),
    (1, "Unverified List (UVL) - Bureau of Industry and Security"),
    (1, "Nonproliferation Sanctions (ISN) - State Department"),
    (
        1,
        "Military End User (MEU) List - Bureau of Industry and Security",
    ),
];

fn source_of(i: usize) -> &'static str {
    let mut slot = (i * 37) % 100;
    for (share, source) in SOURCES {
        if slot < *share {
            return source;
        }
        slot -= share;
    }
    SOURCES[0].1
}

/// A synthetic list in the official JSON layout with `entries` entries and
/// about 2.2 names per entry (name and aliases, as the real list has), each
/// entry carrying the other fields of a real one (about 900 bytes), so that
/// [`ScreeningList::load`] parses, validates and indexes the same shape of
/// data as the full download.
pub fn synthetic_list_json(entries: usize) -> Vec<u8> {
    use serde_json::json;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let countries = ["CN", "RU", "IR", "AE", "HK", "KP", "SY", "TR", "BY", "PK"];
    let results: Vec<serde_json::Value> = (0..entries)
        .map(|i| {
            let person = i % 3 == 0;
            let name = synthetic_name(&mut rng, person);
            // 0, 1, 1, 2, 2 aliases: 1.2 on average.
            let mut alt_names = Vec::new();
            for a in 0..[0, 1, 1, 2, 2][i % 5] {
                alt_names.push(if a == 0 && !person {
                    // The name without its legal form, upper-cased.
                    name.rsplitn(2, ' ').last().unwrap_or(&name).to_uppercase()
                } else {
                    synthetic_name(&mut rng, person)
                });
            }
            let country = countries[rng.below(countries.len())];
            json!({
                "id": format!("synthetic-{i:05}"),
                "source": source_of(i),
                "entity_number": i,
                "type": if person { "Individual" } else { "Entity" },
                "programs": ["SDGT", "IRAN-EO13846"],
                "name": name,
                "title": null,
                "addresses": [{
                    "address": format!("{} Street {}, Building {}", word(&mut rng), i % 400, i % 17),
                    "city": word(&mut rng),
                    "state": null,
                    "postal_code": format!("{:06}", i * 7 % 1_000_000),
                    "country": country,
                }],
                "federal_register_notice": format!("{} FR {}", 80 + i % 10, 1000 + i),
                "start_date": format!("20{:02}-{:02}-{:02}", 10 + i % 15, 1 + i % 12, 1 + i % 28),
                "end_date": null,
                "standard_order": null,
                "license_requirement": "For all items subject to the EAR (See §744.11 of the EAR)",
                "license_policy": "Presumption of denial",
                "call_sign": null,
                "vessel_type": null,
                "gross_tonnage": null,
                "vessel_flag": null,
                "vessel_owner": null,
                "remarks": if i % 4 == 0 { Some(format!("Linked to {}.", synthetic_name(&mut rng, false))) } else { None },
                "source_list_url": "https://example.invalid/synthetic",
                "alt_names": alt_names,
                "citizenships": if person { vec![country] } else { Vec::new() },
                "dates_of_birth": if person { vec![format!("19{:02}", 40 + i % 50)] } else { Vec::new() },
                "nationalities": [],
                "places_of_birth": [],
                "source_information_url": "https://example.invalid/synthetic/info",
                "ids": [{"type": "Registration Number", "number": format!("R{i:08}"), "country": country}],
            })
        })
        .collect();
    let list = json!({
        "total": entries,
        "sources_used": SOURCES.iter().map(|(_, s)| json!({
            "source": s,
            "source_last_updated": "2026-07-31T09:00:00-04:00",
            "import_rate": "Hourly",
        })).collect::<Vec<_>>(),
        "results": results,
    });
    serde_json::to_vec(&list).expect("a JSON value serialises")
}

/// Disguises a name: full width, Cyrillic look-alikes, zero-width spaces, or
/// an abbreviation and a legal form (`how` modulo 4).
pub fn disguise(name: &str, how: usize) -> String {
    match how % 4 {
        0 => name
            .chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
                _ => c,
            })
            .collect(),
        1 => name
            .chars()
            .map(|c| match c {
                'A' => 'А',
                'a' => 'а',
                'E' => 'Е',
                'e' => 'е',
                'O' => 'О',
                'o' => 'о',
                'C' => 'С',
                'c' => 'с',
                'P' => 'Р',
                'p' => 'р',
                _ => c,
            })
            .collect(),
        2 => name.chars().flat_map(|c| [c, '\u{200B}']).collect(),
        _ => format!(
            "{} Co., Ltd.",
            name.to_uppercase()
                .replace("TECHNOLOGIES", "TECH")
                .replace("TECHNOLOGY", "TECH")
                .replace("INTERNATIONAL", "INT'L")
                .replace("MANUFACTURING", "MFG")
        ),
    }
}

const WORDS: &[&str] = &[
    "Nordic", "Widget", "Harbor", "Maple", "Quartz", "Lumen", "Cobalt", "Vertex", "Pioneer",
    "Summit", "Cascade", "Orchard", "Beacon", "Granite", "Meadow", "Falcon", "Sterling", "Willow",
    "Zenith", "Aurora", "Bramble", "Copper", "Delta", "Ember", "Fjord", "Glacier",
];
const SUFFIXES: &[&str] = &[
    "Holdings Ltd",
    "Logistics GmbH",
    "Components Inc.",
    "Foods S.A.",
    "Partners LLC",
    "Textiles Co., Ltd.",
    "Consulting AB",
    "Optics Pty Ltd",
];

/// A plausible company name that is on no list: two common English words
/// and a legal form.
pub fn unlisted(rng: &mut Rng) -> String {
    format!(
        "{} {} {}",
        WORDS[rng.below(WORDS.len())],
        WORDS[rng.below(WORDS.len())],
        SUFFIXES[rng.below(SUFFIXES.len())]
    )
}

/// What a query name of the mix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// A listed name or alias, as listed.
    Listed,
    /// A listed name or alias in a [`disguise`].
    Disguised,
    /// An [`unlisted`] name.
    Unlisted,
}

impl QueryKind {
    pub const ALL: [QueryKind; 3] = [QueryKind::Listed, QueryKind::Disguised, QueryKind::Unlisted];

    pub fn label(self) -> &'static str {
        match self {
            QueryKind::Listed => "listed",
            QueryKind::Disguised => "disguised",
            QueryKind::Unlisted => "unlisted",
        }
    }
}

/// `count` query names, a third of each kind in turn, the listed and
/// disguised ones drawn from the names and aliases of `lists`.
pub fn query_mix(lists: &[&ScreeningList], count: usize) -> Vec<(QueryKind, String)> {
    let names: Vec<&str> = lists
        .iter()
        .flat_map(|l| l.entries())
        .flat_map(|e| {
            std::iter::once(e.name.as_str()).chain(e.alt_names.iter().map(String::as_str))
        })
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..count)
        .map(|i| {
            let listed = names[rng.below(names.len())];
            match i % 3 {
                0 => (QueryKind::Listed, listed.to_owned()),
                1 => (QueryKind::Disguised, disguise(listed, rng.below(4))),
                _ => (QueryKind::Unlisted, unlisted(&mut rng)),
            }
        })
        .collect()
}

/// Screening times of a query mix, nanoseconds, overall and per kind.
#[derive(Debug, Default, Clone)]
pub struct ScreenTimes {
    /// Every screening, in mix order.
    pub all: Vec<u64>,
    /// Per [`QueryKind`] (in [`QueryKind::ALL`] order): times and how many had a hit.
    pub by_kind: [(Vec<u64>, usize); 3],
}

impl ScreenTimes {
    /// The `p` quantile (0..=1) of all screenings, microseconds.
    pub fn all_us(&self, p: f64) -> f64 {
        quantile_us(&self.all, p)
    }
}

/// The `p` quantile (0..=1, nearest rank) of times in nanoseconds, as
/// microseconds; NaN when there are none.
pub fn quantile_us(nanos: &[u64], p: f64) -> f64 {
    if nanos.is_empty() {
        return f64::NAN;
    }
    let mut sorted = nanos.to_vec();
    sorted.sort_unstable();
    let i = ((sorted.len() as f64 - 1.0) * p.clamp(0.0, 1.0)).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// Screens every query name once against every list (one party's screening,
/// as a decision does it), at the default threshold, and times each.
/// `observe` sees each query, its hits and its time in nanoseconds.
pub fn time_screenings(
    lists: &[&ScreeningList],
    queries: &[(QueryKind, String)],
    mut observe: impl FnMut(QueryKind, &str, &[ListHit<'_>], u64),
) -> ScreenTimes {
    let mut times = ScreenTimes {
        all: Vec::with_capacity(queries.len()),
        ..Default::default()
    };
    let mut hits: Vec<ListHit<'_>> = Vec::new();
    for (kind, query) in queries {
        hits.clear();
        let start = Instant::now();
        for list in lists {
            hits.extend(list.screen(&[query.as_str()], DEFAULT_THRESHOLD, SCREEN_LIMIT));
        }
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        observe(*kind, query, &hits, nanos);
        let slot = &mut times.by_kind[*kind as usize];
        slot.0.push(nanos);
        slot.1 += usize::from(!hits.is_empty());
        times.all.push(nanos);
    }
    times
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_list_loads_with_the_real_shape() {
        let list = ScreeningList::load(&synthetic_list_json(500), "synthetic").unwrap();
        assert_eq!(list.entries().len(), 500);
        let names = list.index().len();
        assert!((1050..=1150).contains(&names), "{names} names");
        assert_eq!(synthetic_list_json(50), synthetic_list_json(50));
    }

    #[test]
    fn the_mix_finds_listed_names_and_misses_unlisted_ones() {
        let list = ScreeningList::load(&synthetic_list_json(2000), "synthetic").unwrap();
        let queries = query_mix(&[&list], 300);
        assert_eq!(queries.len(), 300);
        let times = time_screenings(&[&list], &queries, |_, _, _, _| {});
        assert_eq!(times.all.len(), 300);
        let [listed, _, unlisted] = &times.by_kind;
        assert_eq!(listed.1, listed.0.len(), "every listed name hits");
        assert_eq!(unlisted.1, 0, "no unlisted name hits");
        assert!(times.all_us(0.5) <= times.all_us(0.99));
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|n| n * 1000).collect();
        assert_eq!(quantile_us(&v, 0.5), 51.0);
        assert_eq!(quantile_us(&v, 0.99), 99.0);
        assert_eq!(quantile_us(&v, 1.0), 100.0);
        assert!(quantile_us(&[], 0.5).is_nan());
    }
}
