//! `exportctl check-tables`: compares what the US policy pack states for a
//! date (Country Chart cells and footnotes, Country Group memberships, the
//! reasons and controls of every ECCN it states) with the official extracts
//! of that date, and prints every difference. The extracts check the pack;
//! nothing is taken from them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};
use exportctl_licensing::policy::{DestinationSelector, EccnControl, RegimePolicy};
use time::Date;

/// The chart's columns as the extract heads them, and as the pack names them.
const COLUMNS: [(&str, &str); 16] = [
    ("CB 1", "CB1"),
    ("CB 2", "CB2"),
    ("CB 3", "CB3"),
    ("NP 1", "NP1"),
    ("NP 2", "NP2"),
    ("NS 1", "NS1"),
    ("NS 2", "NS2"),
    ("MT 1", "MT1"),
    ("RS 1", "RS1"),
    ("RS 2", "RS2"),
    ("FC 1", "FC1"),
    ("CC 1", "CC1"),
    ("CC 2", "CC2"),
    ("CC 3", "CC3"),
    ("AT 1", "AT1"),
    ("AT 2", "AT2"),
];

/// Destinations the chart leaves without a row and points to part 746.
const PART_746: [&str; 4] = ["CU", "IR", "KP", "SY"];

/// Where an extract is known to be wrong, checked against the entry's own
/// text; differences on these ECCNs are printed but do not fail the check.
const EXTRACT_DEFECTS: [(&str, &str); 2] = [
    (
        "3E001",
        "the extract merged 3E001's license table and 3E002's heading into 3E001's row and gave 3E001 the rows of 3E002",
    ),
    (
        "3E002",
        "the extract has no rows of its own for 3E002 (merged into 3E001)",
    ),
];

/// Countries some entries name in their own scope, by the extract's words.
const NAMED: [(&str, &str); 6] = [
    ("China", "CN"),
    ("Russia", "RU"),
    ("Venezuela", "VE"),
    ("Pakistan", "PK"),
    ("Iraq", "IQ"),
    ("North Korea", "KP"),
];

#[derive(Default)]
pub struct Report {
    pub differences: Vec<String>,
    /// Differences on ECCNs whose extract rows are known to be wrong.
    pub known: Vec<String>,
    pub notes: Vec<String>,
    pub checked: BTreeMap<&'static str, usize>,
}

fn read_csv(path: &Path) -> Result<Vec<BTreeMap<String, String>>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("{}", path.display()))?;
    let headers = r.headers()?.clone();
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{} row {}", path.display(), i + 2))?;
        out.push(
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.trim().to_string()))
                .collect(),
        );
    }
    Ok(out)
}

/// The newest extract of a kind in the folder (`country-chart-2026-07-23.csv`).
fn extract(dir: &Path, prefix: &str) -> Result<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".csv"))
        })
        .collect();
    found.sort();
    found
        .pop()
        .with_context(|| format!("no {prefix}*.csv in {}", dir.display()))
}

pub fn check(p: &RegimePolicy, dir: &Path, on: Date) -> Result<Report> {
    let mut report = Report::default();
    chart(p, &extract(dir, "country-chart-2")?, on, &mut report)?;
    groups(p, &extract(dir, "country-groups-")?, on, &mut report)?;
    ccl(p, &extract(dir, "ccl-reasons-")?, on, &mut report)?;
    Ok(report)
}

fn chart(p: &RegimePolicy, path: &Path, on: Date, report: &mut Report) -> Result<()> {
    let rows = read_csv(path)?;
    let mut seen = BTreeSet::new();
    for row in &rows {
        let iso = row.get("iso2").context("iso2 column")?;
        seen.insert(iso.clone());
        let Some(pack) = p.chart_row(iso, on).filter(|r| !r.part_746) else {
            report
                .differences
                .push(format!("chart {iso}: the pack states no row"));
            continue;
        };
        for (head, col) in COLUMNS {
            let official = row.get(head).with_context(|| format!("{head} column"))? == "X";
            let stated = pack.cell(col);
            if stated != Some(official) {
                report.differences.push(format!(
                    "chart {iso} {col}: extract {}, pack {}",
                    if official { "X" } else { "blank" },
                    match stated {
                        Some(true) => "X",
                        Some(false) => "blank",
                        None => "unknown",
                    }
                ));
            }
            *report.checked.entry("chart cells").or_default() += 1;
        }
        let official: BTreeSet<u32> = row
            .get("footnotes")
            .map(|f| {
                f.split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let stated: BTreeSet<u32> = pack.footnotes.iter().copied().collect();
        if official != stated {
            report.differences.push(format!(
                "chart {iso} footnotes: extract {official:?}, pack {stated:?}"
            ));
        }
    }
    for c in PART_746 {
        match p.chart_row(c, on) {
            Some(r) if r.part_746 => {}
            _ => report.differences.push(format!(
                "chart {c}: the chart points to part 746; the pack does not say so"
            )),
        }
    }
    for (r, v) in &p.chart {
        if !v.contains(on) || r.part_746 {
            continue;
        }
        for c in &r.countries {
            if !seen.contains(c) {
                report.differences.push(format!(
                    "chart {c}: the pack states a row the chart does not have"
                ));
            }
        }
    }
    *report.checked.entry("chart rows").or_default() += rows.len();
    Ok(())
}

fn groups(p: &RegimePolicy, path: &Path, on: Date, report: &mut Report) -> Result<()> {
    let rows = read_csv(path)?;
    let official: BTreeSet<(String, String)> = rows
        .iter()
        .filter_map(|r| Some((r.get("group")?.clone(), r.get("iso2")?.clone())))
        .collect();
    let names: BTreeSet<&String> = official.iter().map(|(g, _)| g).collect();
    let stated: BTreeSet<(String, String)> = p
        .groups
        .iter()
        .filter(|(g, v)| v.contains(on) && names.contains(&g.group))
        .flat_map(|(g, _)| g.countries.iter().map(|c| (g.group.clone(), c.clone())))
        .collect();
    for (g, c) in official.difference(&stated) {
        report.differences.push(format!(
            "group {g}: {c} is a member, the pack does not say so"
        ));
    }
    for (g, c) in stated.difference(&official) {
        report.differences.push(format!(
            "group {g}: the pack makes {c} a member, the extract does not"
        ));
    }
    report.checked.insert("group memberships", official.len());
    Ok(())
}

/// What a control says, comparable across the extract and the pack.
fn target_of_pack(c: &EccnControl) -> String {
    if let Some(col) = &c.column {
        return col.clone();
    }
    match &c.destinations {
        Some(sel) => scope_key(sel),
        None => "see".into(),
    }
}

fn scope_key(sel: &DestinationSelector) -> String {
    if sel.all {
        return "worldwide".into();
    }
    let mut countries = sel.countries.clone();
    countries.sort();
    let mut key = countries
        .iter()
        .chain(&sel.groups)
        .cloned()
        .collect::<Vec<_>>()
        .join("+");
    for x in sel.except_countries.iter().chain(&sel.except_groups) {
        key.push_str(&format!("-{x}"));
    }
    key
}

fn target_of_extract(text: &str) -> String {
    let t = text.trim();
    if let Some(i) = t.find(" Column ") {
        let reason = &t[..i];
        let n: String = t[i + 8..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        return format!("{reason}{n}");
    }
    let lower = t.to_lowercase();
    if lower.starts_with("worldwide") || lower.contains("any destination worldwide") {
        return "worldwide".into();
    }
    if t.contains("Macau") && t.contains("D:5") && !t.contains("D:1") {
        return "MO+D:5".into();
    }
    if t.contains("United Arab Emirates") && t.contains("D:1") {
        return "AE+D:1+D:4+D:5-A:5-A:6".into();
    }
    let mut named: Vec<&str> = NAMED
        .iter()
        .filter(|(name, _)| t.contains(name))
        .map(|(_, c)| *c)
        .collect();
    named.sort();
    if !named.is_empty() && !t.starts_with("See") && !t.starts_with("Refer") {
        return named.join("+");
    }
    "see".into()
}

/// An ECCN as the extract states it: its reasons, and (reason, column or
/// scope) per control row.
type OfficialEccn = (BTreeSet<String>, Vec<(String, String)>);

/// A reason as the pack writes it: the two-letter code, or `FP` for the
/// foreign-policy controls the entries write in words ("foreign policy",
/// "Russian industry sector sanctions", part 746).
fn reason_code(word: &str) -> String {
    let w = word.trim();
    if (2..=3).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_uppercase()) {
        w.to_string()
    } else {
        "FP".to_string()
    }
}

fn ccl(p: &RegimePolicy, path: &Path, on: Date, report: &mut Report) -> Result<()> {
    let rows = read_csv(path)?;
    let mut official: BTreeMap<String, OfficialEccn> = BTreeMap::new();
    for r in &rows {
        let eccn = r.get("eccn").context("eccn column")?.clone();
        let e = official.entry(eccn).or_default();
        for reason in r
            .get("reasons_for_control")
            .map(String::as_str)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
        {
            e.0.insert(reason_code(reason));
        }
        let control = r.get("control").map(String::as_str).unwrap_or("");
        if let Some(reason) = control.split_whitespace().next() {
            let target =
                target_of_extract(r.get("country_chart").map(String::as_str).unwrap_or(""));
            e.1.push((reason_code(reason), target));
        }
    }
    let categories: BTreeSet<char> = p.eccns.keys().filter_map(|k| k.chars().next()).collect();
    let mut stated_ids = BTreeSet::new();
    for (id, versions) in &p.eccns {
        let Some((row, _)) = versions.iter().find(|(_, v)| v.contains(on)) else {
            continue;
        };
        stated_ids.insert(id.clone());
        let known = EXTRACT_DEFECTS.iter().find(|(e, _)| e == id);
        let mut diffs = Vec::new();
        match official.get(id) {
            None => diffs.push(format!("eccn {id}: not in the extract")),
            Some((reasons, controls)) => {
                let stated: BTreeSet<String> = row.reasons.iter().cloned().collect();
                if reasons.is_empty() {
                    report.notes.push(format!(
                        "eccn {id}: the extract states no reasons; not compared"
                    ));
                } else if &stated != reasons {
                    diffs.push(format!(
                        "eccn {id} reasons: extract {reasons:?}, pack {stated:?}"
                    ));
                }
                if controls.is_empty() {
                    report.notes.push(format!(
                        "eccn {id}: the extract states no controls; not compared"
                    ));
                } else {
                    let mut a: Vec<(String, String)> = controls.clone();
                    let mut b: Vec<(String, String)> = row
                        .control
                        .iter()
                        .map(|c| (c.reason.clone(), target_of_pack(c)))
                        .collect();
                    a.sort();
                    b.sort();
                    if a != b {
                        diffs.push(format!(
                            "eccn {id} controls (reason, column or scope): extract {a:?}, pack {b:?}"
                        ));
                    }
                    *report.checked.entry("ECCN controls").or_default() += a.len();
                }
            }
        }
        *report.checked.entry("ECCNs").or_default() += 1;
        match known {
            Some((_, why)) => report.known.extend(
                diffs
                    .into_iter()
                    .map(|d| format!("{d} [known extract defect: {why}]")),
            ),
            None => report.differences.extend(diffs),
        }
    }
    for id in official.keys() {
        let in_scope = id.chars().next().is_some_and(|c| categories.contains(&c));
        if in_scope && !stated_ids.contains(id) {
            report.differences.push(format!(
                "eccn {id}: in the extract, the pack states no row on that date"
            ));
        }
    }
    Ok(())
}

/// Runs the check and prints it; the error lists how many differences.
pub fn run(p: &RegimePolicy, dir: &Path, on: Date) -> Result<()> {
    let report = check(p, dir, on)?;
    for (what, n) in &report.checked {
        println!("checked {n} {what}");
    }
    for n in &report.notes {
        println!("note: {n}");
    }
    for k in &report.known {
        println!("known: {k}");
    }
    for d in &report.differences {
        println!("DIFFERENCE: {d}");
    }
    if !report.differences.is_empty() {
        bail!(
            "{} difference(s) between the {} pack and the extracts in {}",
            report.differences.len(),
            p.regime,
            dir.display()
        );
    }
    println!(
        "no differences: the {} pack matches the extracts of {on}",
        p.regime
    );
    Ok(())
}
