//! Properties of the licensing service's core, on generated inputs:
//!
//! - severity combination is monotone: the engine combines per-regime
//!   determinations into a line and lines into a decision so that the result is
//!   never less severe than any input, and making any input more severe never
//!   makes the result less severe;
//! - policy effective dates are half-open: a rule (or group membership) with
//!   `from`/`until` is in force on `d` iff `from <= d < until`;
//! - idempotency holds for any request: appending to the real SQLite ledger
//!   twice (or more) under one request id returns the first stored decision,
//!   byte for byte, and never creates a second record; the chain verifies.
//!
//! Case counts are kept modest (32-64) so the suite stays fast.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use exportctl_classifier::RuleSet;
use exportctl_classifier::convert::{classify_query, classify_response};
use exportctl_core::dates;
use exportctl_licensing::PolicySet;
use exportctl_licensing::convert::{self, decide_query, decision};
use exportctl_licensing::engine::{
    self, DecisionBody, EngineConfig, LineFacts, RegimeClassification, Shipment,
};
use exportctl_licensing::ledger::{
    Appended, LedgerStore, NewRecord, Record, SqliteLedger, sha256_hex,
};
use exportctl_licensing::policy::{COMMON_FILE, Outcome, Source, Validity};
use exportctl_proto::classifier::{self as cpb, ItemKind, ProductSpec};
use exportctl_proto::licensing::{self as pb, EndUse, LineItem, Party};
use proptest::prelude::*;
use prost::Message;
use time::{Date, Duration};

const ALL: [Outcome; 5] = [
    Outcome::NoLicenseRequired,
    Outcome::Authorized,
    Outcome::Indeterminate,
    Outcome::LicenseRequired,
    Outcome::Prohibited,
];

fn outcome() -> impl Strategy<Value = Outcome> {
    proptest::sample::select(ALL.to_vec())
}

fn day(text: &str) -> Date {
    dates::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// Any date from 2019 to 2030.
fn date() -> impl Strategy<Value = Date> {
    let first = day("2019-01-01");
    let days = (day("2030-12-31") - first).whole_days();
    (0..=days).prop_map(move |n| first + Duration::days(n))
}

fn outcome_key(o: Outcome) -> &'static str {
    match o {
        Outcome::NoLicenseRequired => "no_license_required",
        Outcome::Authorized => "authorized",
        Outcome::Indeterminate => "indeterminate",
        Outcome::LicenseRequired => "license_required",
        Outcome::Prohibited => "prohibited",
    }
}

// ---------------------------------------------------------------------------
// Generated policy sets: one test regime per origin country, with rules whose
// outcomes (and effective dates) the property chooses.
// ---------------------------------------------------------------------------

/// The regime code of test regime `i` and the origin country that brings it in.
fn test_regime(i: usize) -> (String, String) {
    // Origins are assigned codes no test pack uses otherwise.
    const ORIGINS: [&str; 12] = [
        "AQ", "BV", "CC", "CX", "GS", "HM", "IO", "NF", "PN", "TF", "UM", "WF",
    ];
    let letter = (b'A' + i as u8) as char;
    (format!("X{letter}-TEST"), ORIGINS[i].to_string())
}

/// A rule on every item to every destination, in force on `[from, until)`.
fn rule_toml(id: &str, outcome: Outcome, from: Date, until: Option<Date>) -> String {
    let authorization = if outcome == Outcome::Authorized {
        "authorization = \"test_authorization\"\n"
    } else {
        ""
    };
    let until = until
        .map(|u| format!("until = \"{}\"\n", dates::format(u)))
        .unwrap_or_default();
    format!(
        "[[rule]]\nid = \"{id}\"\nitems = \"all\"\noutcome = \"{}\"\n{authorization}destinations = {{ all = true }}\nfrom = \"{}\"\n{until}citations = [\"test citation for {id}\"]\nexplanation = \"test rule {id}\"\n",
        outcome_key(outcome),
        dates::format(from),
    )
}

fn pack_toml(regime: &str, body: &str) -> String {
    format!(
        "[pack]\nregime = \"{regime}\"\nname = \"test {regime}\"\nversion = \"1\"\nsource = \"test source\"\ncovers_from = \"2019-01-01\"\nhome = [\"TK\"]\ncoverage = \"entry\"\n\n[[group]]\ngroup = \"G\"\ncountries = [\"DE\"]\nfrom = \"2019-01-01\"\ncitations = [\"group citation\"]\n\n{body}"
    )
}

/// A policy set with one regime per entry of `regimes`, each given as its pack body.
fn policy_set(regimes: &[String]) -> PolicySet {
    let mut common = String::from("[common]\nversion = \"test\"\n");
    let mut packs = Vec::new();
    for (i, body) in regimes.iter().enumerate() {
        let (regime, origin) = test_regime(i);
        common.push_str(&format!(
            "\n[[applicability]]\norigin_countries = [\"{origin}\"]\nregimes = [\"{regime}\"]\ncitations = [\"applies by origin\"]\n"
        ));
        packs.push(Source {
            file: format!("{}.toml", regime.to_lowercase()),
            text: pack_toml(&regime, body),
        });
    }
    let common = Source {
        file: COMMON_FILE.into(),
        text: common,
    };
    PolicySet::from_sources(&common, &packs).unwrap_or_else(|e| panic!("test policy set: {e}"))
}

/// A shipment from a country no regime applies to by export, to DE; line `i`
/// has origin `origins[i]` (a test regime index), classified as not listed.
fn shipment(policies: &PolicySet, origins: &[usize], on: Date) -> Shipment {
    Shipment {
        export_country: "ZZ".into(),
        destination: "DE".into(),
        subdivision: None,
        held: Vec::new(),
        end_user: engine::PartyFacts::end_user("Example Buyer GmbH", "DE", &[]),
        parties: Vec::new(),
        end_use: engine::EndUseFacts::default(),
        as_of: on,
        lines: origins
            .iter()
            .enumerate()
            .map(|(n, &r)| {
                let (regime, origin) = test_regime(r);
                assert!(policies.regimes.contains_key(&regime));
                LineFacts {
                    line_id: format!("line-{n}"),
                    origin_country: origin,
                    manufacturer: String::new(),
                    classifications: [(
                        regime,
                        RegimeClassification {
                            not_listed_label: "NOT-LISTED".into(),
                            ..Default::default()
                        },
                    )]
                    .into_iter()
                    .collect(),
                    ..Default::default()
                }
            })
            .collect(),
    }
}

fn decide(policies: &PolicySet, s: &Shipment) -> DecisionBody {
    engine::decide(policies, &Default::default(), s, &EngineConfig::default())
}

/// Pack bodies whose rules have the given outcomes, all in force from 2019.
fn bodies(outcomes: &[Vec<Outcome>]) -> Vec<String> {
    outcomes
        .iter()
        .map(|rules| {
            rules
                .iter()
                .enumerate()
                .map(|(j, o)| rule_toml(&format!("r{j}"), *o, day("2019-01-01"), None))
                .collect()
        })
        .collect()
}

fn severity_at_least(a: Outcome, b: Outcome) -> bool {
    a.severity() >= b.severity()
}

/// Regime outcomes (1 to 3 regimes, 1 to 5 rules each), lines (1 to 4, each
/// with a regime), and one input to make more severe.
fn combination() -> impl Strategy<Value = (Vec<Vec<Outcome>>, Vec<usize>, usize, usize, Outcome)> {
    proptest::collection::vec(proptest::collection::vec(outcome(), 1..=5), 1..=3).prop_flat_map(
        |regimes| {
            let n = regimes.len();
            let sizes: Vec<usize> = regimes.iter().map(Vec::len).collect();
            (
                Just(regimes),
                proptest::collection::vec(0..n, 1..=4),
                0..n,
                any::<proptest::sample::Index>(),
                outcome(),
            )
                .prop_map(move |(regimes, lines, r, j, raise)| {
                    let j = j.index(sizes[r]);
                    (regimes, lines, r, j, raise)
                })
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `Outcome::max`, the engine's combining step, is an upper bound of its inputs
    /// and monotone in each of them; `severity` orders the outcomes totally.
    #[test]
    fn outcome_max_is_a_monotone_upper_bound(a in outcome(), b in outcome(), c in outcome()) {
        let m = a.max(b);
        prop_assert!(severity_at_least(m, a) && severity_at_least(m, b));
        prop_assert!(m == a || m == b);
        prop_assert_eq!(m, b.max(a));
        prop_assert_eq!(a.max(b).max(c), a.max(b.max(c)));
        if severity_at_least(c, a) {
            // Replacing a by the at-least-as-severe c never lowers the result.
            prop_assert!(severity_at_least(c.max(b), a.max(b)), "{:?} {:?} {:?}", a, b, c);
        }
        prop_assert_eq!(a.severity() == b.severity(), a == b);
        prop_assert_eq!(a.severity().cmp(&b.severity()), a.cmp(&b));
        // min is the dual (the engine caps near misses with it).
        prop_assert!(severity_at_least(a, a.min(b)) && severity_at_least(b, a.min(b)));
    }

    /// Through the real engine: each line's outcome is the most severe of its
    /// regimes' determinations (none lost), the decision's the most severe of
    /// its lines'; replacing one rule's outcome by a more severe one never makes
    /// any line or the decision less severe.
    #[test]
    fn engine_severity_combination_is_monotone(
        (regimes, origins, r, j, raise) in combination(),
        on in date(),
    ) {
        let before_set = policy_set(&bodies(&regimes));
        let s = shipment(&before_set, &origins, on);
        let before = decide(&before_set, &s);

        prop_assert_eq!(before.lines.len(), origins.len());
        for (line, &origin) in before.lines.iter().zip(&origins) {
            // Every rule of the line's regime speaks, with its own outcome.
            let mut got: Vec<Outcome> = line.determinations.iter().map(|d| d.outcome).collect();
            let mut want = regimes[origin].clone();
            got.sort();
            want.sort();
            prop_assert_eq!(&got, &want, "line {}", line.line_id);
            for d in &line.determinations {
                prop_assert!(severity_at_least(line.outcome, d.outcome));
            }
            let worst = want.iter().copied().max_by_key(|o| o.severity()).unwrap();
            prop_assert_eq!(line.outcome, worst);
            prop_assert!(severity_at_least(before.outcome, line.outcome));
        }
        let worst_line = before.lines.iter().map(|l| l.outcome).max_by_key(|o| o.severity()).unwrap();
        prop_assert_eq!(before.outcome, worst_line);

        // Make input (r, j) at least as severe as it was.
        let mut raised = regimes.clone();
        let old = raised[r][j];
        raised[r][j] = old.max(raise);
        prop_assert!(severity_at_least(raised[r][j], old));
        let after = decide(&policy_set(&bodies(&raised)), &s);
        for (a, b) in after.lines.iter().zip(&before.lines) {
            prop_assert!(
                severity_at_least(a.outcome, b.outcome),
                "line {} went from {:?} to {:?} when rule {} of regime {} went from {:?} to {:?}",
                a.line_id, b.outcome, a.outcome, j, r, old, raised[r][j]
            );
        }
        prop_assert!(severity_at_least(after.outcome, before.outcome));
    }

    /// `Validity` is half-open: in force on `from`, on the day before `until`, not
    /// on `until`, not the day before `from`; for any d, iff from <= d < until.
    #[test]
    fn validity_is_half_open(from in date(), len in 1i64..3000, d in date()) {
        let until = from + Duration::days(len);
        let v = Validity::parse(&dates::format(from), Some(&dates::format(until))).unwrap();
        prop_assert_eq!((v.from, v.until), (from, Some(until)));
        prop_assert!(v.contains(from));
        prop_assert!(!v.contains(until));
        prop_assert!(v.contains(until.previous_day().unwrap()));
        prop_assert!(!v.contains(from.previous_day().unwrap()));
        prop_assert_eq!(v.contains(d), from <= d && d < until);
        // Open-ended: from `from` on.
        let open = Validity::parse(&dates::format(from), None).unwrap();
        prop_assert_eq!(open.contains(d), from <= d);
        // Empty and inverted ranges are refused.
        prop_assert!(Validity::parse(&dates::format(from), Some(&dates::format(from))).is_err());
        prop_assert!(Validity::parse(&dates::format(until), Some(&dates::format(from))).is_err());
        // Adjacent ranges do not overlap; a range overlaps one that starts before its end.
        let next = Validity::parse(&dates::format(until), None).unwrap();
        prop_assert!(!v.overlaps(&next) && !next.overlaps(&v));
        let straddling = Validity::parse(&dates::format(until.previous_day().unwrap()), None).unwrap();
        prop_assert!(v.overlaps(&straddling));
    }

    /// A policy rule (and a group membership) dated `[from, until)` speaks on d
    /// iff from <= d < until, through the pack loader and the engine.
    #[test]
    fn policy_rule_dates_are_half_open(from in date(), len in 1i64..1500, d in date()) {
        let until = from + Duration::days(len);
        let rule = rule_toml("dated", Outcome::LicenseRequired, from, Some(until));
        let set = policy_set(&[rule]);
        let in_force = |on: Date| {
            let body = decide(&set, &shipment(&set, &[0], on));
            body.lines[0].determinations.iter().any(|x| x.rule_id == "dated")
        };
        prop_assert!(in_force(from), "not in force on its first day {}", from);
        prop_assert!(!in_force(until), "still in force on its until date {}", until);
        prop_assert!(in_force(until.previous_day().unwrap()));
        prop_assert!(!in_force(from.previous_day().unwrap()));
        prop_assert_eq!(in_force(d), from <= d && d < until, "on {}", d);

        // Group memberships are dated the same way.
        let group = format!(
            "[[group]]\ngroup = \"H\"\ncountries = [\"KR\"]\nfrom = \"{}\"\nuntil = \"{}\"\ncitations = [\"c\"]\n",
            dates::format(from),
            dates::format(until)
        );
        let pack = exportctl_licensing::policy::RegimePolicy::parse(
            "t.toml",
            &pack_toml("XA-TEST", &group),
        )
        .unwrap();
        prop_assert_eq!(pack.groups_of("KR", d).contains(&"H"), from <= d && d < until);
        prop_assert!(pack.groups_of("KR", from).contains(&"H"));
        prop_assert!(!pack.groups_of("KR", until).contains(&"H"));
    }
}

// ---------------------------------------------------------------------------
// Idempotency on the real SQLite ledger
// ---------------------------------------------------------------------------

static POLICIES: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::bundled().expect("bundled policy packs"));
static RULES: LazyLock<RuleSet> = LazyLock::new(|| RuleSet::bundled().expect("bundled rule packs"));

fn material(name: &str) -> ProductSpec {
    ProductSpec {
        kind: ItemKind::Material as i32,
        material: name.into(),
        ..Default::default()
    }
}

fn item(n: usize) -> ProductSpec {
    match n % 5 {
        0 => ProductSpec {
            resist_tone: "positive".into(),
            wavelength_nm: Some(13.5),
            ..material("photoresist")
        },
        1 => ProductSpec {
            concentration_percent: Some(99.9),
            ..material("hydrogen_fluoride")
        },
        2 => ProductSpec {
            kind: ItemKind::IntegratedCircuit as i32,
            tpp: Some(4992.0),
            performance_density: Some(6.0),
            ..Default::default()
        },
        3 => material("gallium_nitride"),
        _ => ProductSpec {
            kind: ItemKind::Other as i32,
            description: "stainless vacuum valves".into(),
            ..Default::default()
        },
    }
}

/// The varying content of a request (everything but its id).
#[derive(Debug, Clone)]
struct Content {
    export: &'static str,
    destination: &'static str,
    end_user: String,
    as_of: Date,
    items: Vec<usize>,
    quantity: u32,
}

fn content() -> impl Strategy<Value = Content> {
    (
        proptest::sample::select(vec!["US", "JP", "KR", "NL", "CN"]),
        proptest::sample::select(vec!["CN", "KR", "JP", "DE", "RU", "US"]),
        "[A-Za-z][A-Za-z0-9 .,&-]{0,30}",
        (0i64..2500).prop_map(|n| day("2019-08-01") + Duration::days(n)),
        proptest::collection::vec(0usize..5, 1..=3),
        1u32..1000,
    )
        .prop_map(
            |(export, destination, name, as_of, items, quantity)| Content {
                export,
                destination,
                // Never only legal-form words ("Co Ltd"): the name must screen.
                end_user: format!("Buyer {name}"),
                as_of,
                items,
                quantity,
            },
        )
}

/// Any request id the service accepts: 1 to 40 non-control characters, not all blank.
fn request_id() -> impl Strategy<Value = String> {
    "\\PC{1,40}".prop_filter("blank", |s| !s.trim().is_empty())
}

fn request(id: &str, c: &Content) -> pb::DecideRequest {
    pb::DecideRequest {
        request_id: id.to_string(),
        export_country: c.export.into(),
        destination_country: c.destination.into(),
        end_user: Some(Party {
            name: c.end_user.clone(),
            country: c.destination.into(),
            ..Default::default()
        }),
        parties: Vec::new(),
        end_use: Some(EndUse {
            purpose: "civil".into(),
            ..Default::default()
        }),
        lines: c
            .items
            .iter()
            .enumerate()
            .map(|(n, &i)| LineItem {
                line_id: format!("{}", (n + 1) * 10),
                spec: Some(item(i)),
                origin_country: c.export.into(),
                quantity: f64::from(c.quantity),
                ..Default::default()
            })
            .collect(),
        as_of: dates::format(c.as_of),
        held_authorizations: Vec::new(),
        destination_subdivision: String::new(),
    }
}

/// What the service records for a request: validated, classified in-process,
/// decided and rendered exactly as `Licensing::decide` does before it appends.
fn record(req: &pb::DecideRequest, created_at: &str) -> NewRecord {
    let q = decide_query(req, &POLICIES).unwrap_or_else(|v| panic!("{req:?}: {v:?}"));
    let classifications: Vec<Vec<cpb::RegimeClassification>> = req
        .lines
        .iter()
        .map(|l| {
            let regimes: Vec<String> = POLICIES
                .applicable_regimes(&q.export_country, &l.origin_country)
                .into_iter()
                .map(String::from)
                .collect();
            let creq = cpb::ClassifyRequest {
                spec: l.spec.clone(),
                as_of: dates::format(q.as_of),
                regimes,
            };
            let cq = classify_query(&creq, &RULES).unwrap_or_else(|v| panic!("{v:?}"));
            let results = RULES.classify(&cq.facts, cq.as_of, cq.regimes.as_deref());
            classify_response(&cq, &RULES, &results).regimes
        })
        .collect();
    let s = convert::shipment(&q, req, &classifications);
    let body = engine::decide(&POLICIES, &Default::default(), &s, &EngineConfig::default());
    let mut d = decision(
        &q,
        &body,
        classifications,
        &POLICIES.digest,
        RULES.digest(),
        created_at,
    );
    let decision_id = exportctl_licensing::convert::decision_id(&q.request_id);
    d.name = format!("decisions/{decision_id}");
    NewRecord {
        decision_id,
        request_id: q.request_id.clone(),
        request: req.encode_to_vec(),
        decision: d.encode_to_vec(),
        outcome: d.outcome,
        as_of: d.as_of.clone(),
        created_at: created_at.to_string(),
        rules_digest: POLICIES.digest.clone(),
        classifier_rules_digest: RULES.digest().to_string(),
    }
}

/// A fresh ledger file, removed (with its WAL files) on drop.
struct TempLedger {
    ledger: Option<SqliteLedger>,
    path: PathBuf,
}

impl TempLedger {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "exportctl-properties-{}-{}.db",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        remove(&path);
        let ledger = SqliteLedger::open(&path).expect("open ledger");
        Self {
            ledger: Some(ledger),
            path,
        }
    }

    fn ledger(&self) -> &SqliteLedger {
        self.ledger.as_ref().expect("open")
    }
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

impl Drop for TempLedger {
    fn drop(&mut self) {
        drop(self.ledger.take());
        remove(&self.path);
    }
}

/// What the ledger must answer to the appends so far: the first record of each
/// request id, and the chain's head.
#[derive(Default)]
struct Model {
    first: HashMap<String, Record>,
    head: Option<String>,
}

impl Model {
    /// Checks the ledger's answer to appending `rec` (next in sequence).
    fn check(&mut self, rec: &NewRecord, got: Appended) -> Result<(), TestCaseError> {
        let id = &rec.request_id;
        let request_hash = sha256_hex(&rec.request);
        match got {
            Appended::New(r) => {
                prop_assert!(
                    !self.first.contains_key(id),
                    "a second record for request id {:?}",
                    id
                );
                prop_assert_eq!(r.seq, self.first.len() as i64 + 1);
                prop_assert_eq!(&r.body, rec);
                prop_assert_eq!(&r.request_hash, &request_hash);
                let genesis = exportctl_licensing::ledger::GENESIS.to_string();
                prop_assert_eq!(&r.prev_hash, self.head.as_ref().unwrap_or(&genesis));
                self.head = Some(r.hash.clone());
                self.first.insert(id.clone(), r);
            }
            Appended::Existing(r) => {
                let stored = self.first.get(id);
                prop_assert!(stored.is_some(), "Existing for the new request id {:?}", id);
                // The identical stored record: same decision bytes, sequence, hashes.
                prop_assert_eq!(&r, stored.unwrap());
                // The service tells a replay (same hash) from a reuse (different request).
                prop_assert_eq!(
                    r.request_hash == request_hash,
                    r.body.request == rec.request
                );
            }
        }
        Ok(())
    }

    /// The ledger holds exactly the first record of each id, and its chain verifies.
    fn check_ledger(&self, ledger: &SqliteLedger, ids: usize) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.first.len(), ids);
        for (id, r) in &self.first {
            prop_assert_eq!(ledger.by_request_id(id).unwrap(), Some(r.clone()));
            prop_assert_eq!(
                ledger.by_decision_id(&r.body.decision_id).unwrap(),
                Some(r.clone())
            );
            let d = pb::Decision::decode(r.body.decision.as_slice()).unwrap();
            prop_assert_eq!(&d.request_id, id);
        }
        let v = ledger.verify().unwrap();
        prop_assert!(v.broken.is_none(), "{:?}", v);
        prop_assert_eq!(v.length, ids as i64);
        prop_assert_eq!(Some(v.head_hash), self.head.clone());
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any sequence of Decide appends over a few request ids, each with any
    /// content: the first append of an id records it (next sequence number);
    /// every later one, same content or not, returns that very record and
    /// writes nothing; lookups agree and the chain verifies with one record per
    /// id. Once appending one at a time, once queuing the whole sequence at once
    /// (`submit`, as the service does: repeats land in the same group commit).
    #[test]
    fn idempotency_holds_for_any_request(
        ids in proptest::collection::hash_set(request_id(), 1..=3),
        contents in proptest::collection::vec(content(), 1..=3),
        ops in proptest::collection::vec((any::<proptest::sample::Index>(), any::<proptest::sample::Index>()), 2..=6),
    ) {
        let ids: Vec<String> = ids.into_iter().collect();
        // Every id is appended at least twice; the rest of the sequence is generated.
        let mut sequence: Vec<(usize, usize)> = (0..ids.len())
            .flat_map(|i| [(i, 0), (i, contents.len() - 1)])
            .collect();
        sequence.extend(ops.iter().map(|(i, c)| (i.index(ids.len()), c.index(contents.len()))));
        let records: Vec<NewRecord> = sequence
            .iter()
            .enumerate()
            .map(|(n, &(i, c))| {
                record(&request(&ids[i], &contents[c]), &format!("2026-01-01T00:00:{:02}Z", n % 60))
            })
            .collect();

        // One at a time.
        let one_by_one = TempLedger::new();
        let mut model = Model::default();
        for rec in &records {
            let got = one_by_one.ledger().append(rec.clone()).expect("append");
            model.check(rec, got)?;
        }
        model.check_ledger(one_by_one.ledger(), ids.len())?;

        // All queued before any is awaited.
        let queued = TempLedger::new();
        let pending: Vec<_> = records
            .iter()
            .map(|rec| queued.ledger().submit(rec.clone()).expect("submit"))
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut batched = Model::default();
        for (rec, p) in records.iter().zip(pending) {
            let got = runtime.block_on(p.durable()).expect("durable");
            batched.check(rec, got)?;
        }
        batched.check_ledger(queued.ledger(), ids.len())?;
        // Both ways build the very same chain.
        prop_assert_eq!(batched.head, model.head);
    }
}
