//! The in-process screening figures: load and index the given screening
//! list(s), or a synthetic list of the full list's size, then time one
//! screening per name of a fixed mix (the workload of
//! `exportctl_screening::budget`, shared with the `screen_budget` example).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use exportctl_screening::ScreeningList;
use exportctl_screening::budget::{self, QueryKind};

/// Screenings timed: a third listed, a third disguised, a third unlisted.
pub const SCREENINGS: usize = 20_000;

/// What was screened against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The `--screening-list` file(s).
    List,
    /// A synthetic list generated in memory (`budget::synthetic_list_json`).
    Synthetic,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::List => "list",
            Source::Synthetic => "synthetic",
        }
    }
}

pub struct Figures {
    pub source: Source,
    /// Load (parse, validate, index) of all lists, milliseconds; file reads excluded.
    pub load_ms: f64,
    pub entries: usize,
    pub names: usize,
    pub screenings: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Per query kind: label, screenings, with a hit, p50 µs, p99 µs.
    pub by_kind: Vec<(&'static str, usize, usize, f64, f64)>,
}

/// Loads `paths` (or, when empty, the synthetic list) and times the mix.
pub fn measure(paths: &[PathBuf]) -> anyhow::Result<Figures> {
    let (source, inputs) = if paths.is_empty() {
        (
            Source::Synthetic,
            vec![(
                "synthetic".to_owned(),
                budget::synthetic_list_json(budget::SYNTHETIC_ENTRIES),
            )],
        )
    } else {
        let mut inputs = Vec::new();
        for path in paths {
            let bytes = std::fs::read(path)
                .with_context(|| format!("screening list {}", path.display()))?;
            inputs.push((path.display().to_string(), bytes));
        }
        (Source::List, inputs)
    };
    let mut lists = Vec::with_capacity(inputs.len());
    let started = Instant::now();
    for (label, bytes) in &inputs {
        lists.push(
            ScreeningList::load(bytes, label).map_err(|e| anyhow::anyhow!("screening list {e}"))?,
        );
    }
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    drop(inputs);
    let lists: Vec<&ScreeningList> = lists.iter().collect();
    let queries = budget::query_mix(&lists, SCREENINGS);
    let times = budget::time_screenings(&lists, &queries, |_, _, _, _| {});
    Ok(Figures {
        source,
        load_ms,
        entries: lists.iter().map(|l| l.entries().len()).sum(),
        names: lists.iter().map(|l| l.index().len()).sum(),
        screenings: times.all.len(),
        p50_us: times.all_us(0.5),
        p99_us: times.all_us(0.99),
        by_kind: QueryKind::ALL
            .iter()
            .zip(&times.by_kind)
            .map(|(kind, (v, hits))| {
                (
                    kind.label(),
                    v.len(),
                    *hits,
                    budget::quantile_us(v, 0.5),
                    budget::quantile_us(v, 0.99),
                )
            })
            .collect(),
    })
}

impl Figures {
    pub fn print(&self) {
        println!(
            "screening (in process, {}): {} entries, {} names; load + index {:.0} ms; {} screenings of one name against every list (listed/disguised/unlisted): p50 {:.1} µs, p99 {:.1} µs",
            match self.source {
                Source::List => "the --screening-list file(s)",
                Source::Synthetic => "a synthetic list",
            },
            self.entries,
            self.names,
            self.load_ms,
            self.screenings,
            self.p50_us,
            self.p99_us
        );
        for (label, n, hits, p50, p99) in &self.by_kind {
            println!(
                "  {label:<9} {n:>6} screenings, {hits:>6} with a hit, p50 {p50:.1} µs, p99 {p99:.1} µs"
            );
        }
    }
}
