//! Loads a real Consolidated Screening List download and measures the
//! screening budget, then checks a sample of known listed names, disguised
//! variants and unlisted controls (exit status 1 when a check fails).
//!
//! ```text
//! cargo run --release -p exportctl-screening --example screen_budget -- \
//!     ../shared/regulatory/data/consolidated-screening-list-2026-07-31.json [--check-only]
//! ```

use std::time::Instant;

use exportctl_screening::budget::{self, QueryKind};
use exportctl_screening::{DEFAULT_THRESHOLD, ListSource, ScreeningList};

fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn measure(list: &ScreeningList) {
    let lists = [list];
    let queries = budget::query_mix(&lists, 20_000);
    let verbose = std::env::var_os("SCREEN_BUDGET_VERBOSE").is_some();
    let mut slowest: Vec<(u64, String)> = Vec::new();
    let mut unlisted_hits: Vec<String> = Vec::new();
    let times = budget::time_screenings(&lists, &queries, |kind, query, found, nanos| {
        if !verbose {
            return;
        }
        slowest.push((nanos, query.to_owned()));
        if kind == QueryKind::Disguised && found.is_empty() {
            println!("  disguised miss {query:?}");
        }
        if kind == QueryKind::Unlisted && !found.is_empty() && unlisted_hits.len() < 10 {
            unlisted_hits.push(format!(
                "{query:?} -> {:?} {:.3}",
                found[0].hit.listed_name, found[0].hit.score
            ));
        }
    });
    slowest.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
    for (nanos, query) in slowest.iter().take(15) {
        println!("  slow {:.0} us {query:?}", *nanos as f64 / 1000.0);
    }
    for line in &unlisted_hits {
        println!("  unlisted hit {line}");
    }
    println!(
        "screenings: {} (listed/disguised/unlisted), p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        times.all.len(),
        times.all_us(0.5),
        times.all_us(0.99),
        times.all_us(1.0)
    );
    for (kind, (v, hits)) in QueryKind::ALL.iter().zip(&times.by_kind) {
        println!(
            "  {:9}: {} screenings, {hits} with a hit, p50 {:.1} us, p99 {:.1} us",
            kind.label(),
            v.len(),
            budget::quantile_us(v, 0.5),
            budget::quantile_us(v, 0.99)
        );
    }
}

struct Check {
    failures: usize,
}

impl Check {
    fn hit(
        &mut self,
        list: &ScreeningList,
        query: &str,
        expect_name: &str,
        source: ListSource,
        exact: bool,
    ) {
        let hits = list.screen(&[query], DEFAULT_THRESHOLD, 10);
        let found = hits.iter().find(|h| {
            h.entry.list_source() == source
                && (h.entry.name.eq_ignore_ascii_case(expect_name)
                    || h.entry
                        .alt_names
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(expect_name)))
        });
        let ok = found.is_some_and(|h| h.hit.exact || !exact);
        let shown = found
            .map(|h| {
                format!(
                    "{:.3} exact={} signals={:?}",
                    h.hit.score, h.hit.exact, h.hit.signals
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "not found; top: {:?}",
                    hits.first().map(|h| (&h.entry.name, h.hit.score))
                )
            });
        println!(
            "{} hit  {query:?} -> {expect_name} ({source}): {shown}",
            if ok { "ok  " } else { "FAIL" }
        );
        self.failures += usize::from(!ok);
    }

    fn miss(&mut self, list: &ScreeningList, query: &str) {
        let hits = list.screen(&[query], DEFAULT_THRESHOLD, 3);
        let ok = hits.is_empty();
        let shown: Vec<_> = hits
            .iter()
            .map(|h| {
                format!(
                    "{} ({}) {:.3}",
                    h.hit.listed_name,
                    h.entry.list_source(),
                    h.hit.score
                )
            })
            .collect();
        println!(
            "{} miss {query:?}: {shown:?}",
            if ok { "ok  " } else { "FAIL" }
        );
        self.failures += usize::from(!ok);
    }
}

fn check(list: &ScreeningList) -> usize {
    let mut c = Check { failures: 0 };
    use ListSource::*;
    let huawei = "HUAWEI TECHNOLOGIES CO., LTD.";
    let smic = "Semiconductor Manufacturing International Corporation";
    let ymtc = "Yangtze Memory Technologies Co., Ltd.";
    // Listed names, exactly.
    c.hit(list, huawei, huawei, Cmic, true);
    c.hit(list, smic, smic, Cmic, true);
    c.hit(
        list,
        smic,
        "Semiconductor Manufacturing International Corporation (SMIC)",
        EntityList,
        true,
    );
    c.hit(list, ymtc, ymtc, EntityList, true);
    c.hit(
        list,
        "ELHAM ABRISHAMI",
        "ELHAM ABRISHAMI",
        DeniedPersons,
        true,
    );
    c.hit(
        list,
        "KATSUTA KEISUKE",
        "KATSUTA KEISUKE",
        DeniedPersons,
        true,
    );
    c.hit(
        list,
        "BANCO NACIONAL DE CUBA",
        "BANCO NACIONAL DE CUBA",
        Sdn,
        true,
    );
    c.hit(
        list,
        "China Mobile",
        "China Mobile Communications Group Co., Ltd.",
        Cmic,
        true,
    );
    // Disguised.
    c.hit(list, "\u{0405}\u{041C}\u{0406}\u{0421}", "SMIC", Cmic, true);
    c.hit(
        list,
        "ＨＵＡＷＥＩ ＴＥＣＨＮＯＬＯＧＩＥＳ",
        huawei,
        Cmic,
        true,
    );
    c.hit(list, "Huаwei Technologies", huawei, Cmic, true);
    c.hit(
        list,
        "Yangtze\u{200B} Memory Tech\u{200D}nologies",
        ymtc,
        EntityList,
        true,
    );
    c.hit(list, "Semiconductor Mfg. Int'l Corp.", smic, Cmic, true);
    c.hit(list, "SEMICONDUCTOR MANUFACTURING INTL", smic, Cmic, true);
    c.hit(
        list,
        "Manufacturing International Semiconductor",
        smic,
        Cmic,
        true,
    );
    c.hit(list, "Yangtze Memory Tech", ymtc, EntityList, true);
    c.hit(
        list,
        "ABRISHAMI, Elham",
        "ELHAM ABRISHAMI",
        DeniedPersons,
        true,
    );
    c.hit(
        list,
        "Bаnсо Nасiоnаl de Cuba",
        "BANCO NACIONAL DE CUBA",
        Sdn,
        true,
    );
    c.hit(
        list,
        "Ｂａｎｃｏ Ｎａｃｉｏｎａｌ ｄｅ Ｃｕｂａ",
        "BANCO NACIONAL DE CUBA",
        Sdn,
        true,
    );
    // Near misses.
    c.hit(list, "Huawei Technolgies", huawei, Cmic, false);
    c.hit(list, "SMIC Trading Limited", "SMIC", Cmic, false);
    c.hit(
        list,
        "Yangtze Memory Technology Company",
        ymtc,
        EntityList,
        false,
    );
    // Unlisted controls.
    for control in [
        "Toyota Motor Corporation",
        "Robert Bosch GmbH",
        "Siemens AG",
        "Sony Group Corporation",
        "Nestlé S.A.",
        "Example Memory Co.",
        "Taiwan Semiconductor Manufacturing Company",
        "Samsung Electronics Co., Ltd.",
        "ASML Holding N.V.",
        "Intel Corporation",
        "Tokyo Electron Limited",
        "Infineon Technologies AG",
    ] {
        c.miss(list, control);
    }
    c.failures
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: screen_budget <consolidated.json|csv> [--check-only]");
        std::process::exit(2);
    };
    let check_only = args.any(|a| a == "--check-only");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(2);
    });
    let rss_before = vm_rss_kib();
    let start = Instant::now();
    let list = match ScreeningList::load(&bytes, &path) {
        Ok(list) => list,
        Err(e) => {
            eprintln!("load failed: {e}");
            std::process::exit(1);
        }
    };
    let load_ms = start.elapsed().as_secs_f64() * 1000.0;
    let rss_after = vm_rss_kib();
    println!(
        "load: {load_ms:.0} ms, {} entries, {} names, list date {:?} ({}), {}",
        list.entries().len(),
        list.index().len(),
        list.list_date(),
        list.date_basis().map_or("none", |b| b.as_str()),
        list.digest()
    );
    println!(
        "VmRSS: {} KiB before load (file bytes held), {} KiB after; index heap ~{} KiB",
        rss_before.unwrap_or(0),
        rss_after.unwrap_or(0),
        list.index().heap_bytes() / 1024
    );
    let counts: Vec<String> = list
        .counts_by_source()
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    println!("per source: {}", counts.join(", "));
    if !check_only {
        measure(&list);
    }
    let failures = check(&list);
    if failures > 0 {
        println!("{failures} check(s) failed");
        std::process::exit(1);
    }
    println!("all checks passed");
}
