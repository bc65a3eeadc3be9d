//! The bodies of the fuzz targets, shared by `fuzz_targets/*.rs` and the seed
//! generator. Each one must never panic, whatever the input: malformed input is
//! an error value, not a crash. The few `assert!`s check invariants that would
//! be bugs if they failed (an error that names no field, a decision whose
//! outcome is not the most severe of its lines', ...).

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use exportctl_classifier::engine::{Source as RuleSource, VOCABULARY_FILE};
use exportctl_classifier::pack::RulePack;
use exportctl_classifier::vocabulary::{Facts, Value, Vocabulary};
use exportctl_classifier::{Classifier, RuleSet, SharedRules, convert as cconvert};
use exportctl_core::dates;
use exportctl_licensing::classification::{Classification, InProcessClassifier};
use exportctl_licensing::engine::{self, EngineConfig, LineFacts, MatchedEntry, Shipment};
use exportctl_licensing::policy::{COMMON_FILE, Outcome, RegimePolicy, Source as PolicySource};
use exportctl_licensing::{PolicySet, convert as lconvert};
use exportctl_proto::classifier as cpb;
use exportctl_proto::licensing as lpb;
use exportctl_runtime::trace::TraceParent;
use prost::Message;
use time::Date;

/// The bundled classifier rule set.
pub static RULES: LazyLock<RuleSet> =
    LazyLock::new(|| RuleSet::bundled().expect("bundled rule packs load"));
/// The bundled licensing policy set.
pub static POLICIES: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::bundled().expect("bundled policy packs load"));
/// The bundled vocabulary.
pub static VOCAB: LazyLock<Vocabulary> = LazyLock::new(|| {
    Vocabulary::parse(VOCABULARY_FILE, exportctl_classifier::bundled::VOCABULARY)
        .expect("bundled vocabulary loads")
});

fn rule_sources(skip_regime_file: Option<&str>) -> Vec<RuleSource> {
    exportctl_classifier::bundled::PACKS
        .iter()
        .filter(|(file, _)| Some(*file) != skip_regime_file)
        .map(|(file, text)| RuleSource {
            file: (*file).into(),
            text: (*text).into(),
        })
        .collect()
}

/// A few specs' facts to classify with a fuzzed pack: nothing known, and two
/// typical items (every category value of `kind` with nothing else).
fn sample_facts(vocab: &Vocabulary) -> Vec<Facts> {
    let mut out = vec![vocab.empty_facts()];
    if let Some(kind) = vocab.id("kind") {
        for i in 0..vocab.def(kind).values.len().min(8) {
            let mut f = vocab.empty_facts();
            f.set(kind, Some(Value::Category(i as u8)));
            out.push(f);
        }
    }
    let mut euv = vocab.empty_facts();
    for (name, value) in [
        ("wavelength_nm", 13.5),
        ("numerical_aperture", 0.33),
        ("tpp", 4800.0),
        ("concentration_percent", 99.9),
    ] {
        if let Some(a) = vocab.id(name) {
            euv.set(a, Some(Value::Number(value)));
        }
    }
    vocab.derive(&mut euv);
    out.push(euv);
    out
}

/// Interesting dates of a pack: its start, and every version's bounds and the day before each.
fn pack_dates(pack: &RulePack) -> Vec<Date> {
    let mut out = vec![pack.covers_from];
    for e in pack.entries.iter().take(16) {
        for v in &e.versions {
            out.push(v.from);
            out.extend(v.from.previous_day());
            if let Some(u) = v.until {
                out.push(u);
                out.extend(u.previous_day());
            }
        }
    }
    out.sort();
    out.dedup();
    out.truncate(32);
    out
}

/// `rule_pack`: arbitrary text as every kind of pack file the services load.
pub fn rule_pack(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    // Classifier: the vocabulary, then a rule pack against the bundled vocabulary.
    if Vocabulary::parse(VOCABULARY_FILE, text).is_ok() {
        let vocab = RuleSource {
            file: VOCABULARY_FILE.into(),
            text: text.into(),
        };
        if let Ok(set) = RuleSet::from_sources(&vocab, &rule_sources(None)) {
            for facts in sample_facts(set.vocabulary()) {
                let _ = set.classify(&facts, set.covers_from(), None);
            }
        }
    }
    if let Ok(pack) = RulePack::parse("fuzz.toml", text, &VOCAB) {
        // Replace the bundled pack of the same regime (if any) and classify with the set.
        let file = format!("{}.toml", pack.regime.to_ascii_lowercase());
        let mut packs = rule_sources(Some(file.as_str()));
        packs.push(RuleSource {
            file,
            text: text.into(),
        });
        let vocab = RuleSource {
            file: VOCABULARY_FILE.into(),
            text: exportctl_classifier::bundled::VOCABULARY.into(),
        };
        if let Ok(set) = RuleSet::from_sources(&vocab, &packs) {
            let only = set.regime_index(&pack.regime).map(|i| vec![i]);
            for on in pack_dates(&pack) {
                for facts in sample_facts(set.vocabulary()) {
                    let results = set.classify(&facts, on, only.as_deref());
                    for r in &results {
                        for m in &r.matches {
                            assert!(m.version.in_force(on), "a match not in force on {on}");
                        }
                    }
                }
            }
        }
    }

    // Licensing: a regime pack, the common file, and a regime pack in the bundled set.
    if let Ok(policy) = RegimePolicy::parse("fuzz.toml", text) {
        decide_with_policy(policy, text);
    }
    let common = PolicySource {
        file: COMMON_FILE.into(),
        text: text.into(),
    };
    let _ = PolicySet::from_sources(&common, &policy_sources(None));
}

fn policy_sources(skip_file: Option<&str>) -> Vec<PolicySource> {
    exportctl_licensing::bundled::PACKS
        .iter()
        .filter(|(file, _)| Some(*file) != skip_file)
        .map(|(file, text)| PolicySource {
            file: (*file).into(),
            text: (*text).into(),
        })
        .collect()
}

/// Loads a fuzzed regime pack in place of the bundled one of its regime and
/// decides a few shipments the regime applies to.
fn decide_with_policy(policy: RegimePolicy, text: &str) {
    let file = format!("{}.toml", policy.regime.to_ascii_lowercase());
    let mut packs = policy_sources(Some(file.as_str()));
    packs.push(PolicySource {
        file,
        text: text.into(),
    });
    let common = PolicySource {
        file: COMMON_FILE.into(),
        text: exportctl_licensing::bundled::COMMON.into(),
    };
    let Ok(set) = PolicySet::from_sources(&common, &packs) else {
        return;
    };
    let regime = policy.regime.as_str();
    let Some(row) = set
        .applicability
        .iter()
        .find(|r| r.regimes.iter().any(|x| x == regime))
    else {
        return;
    };
    let (export, origin) = match (row.export_countries.first(), row.origin_countries.first()) {
        (Some(e), _) => (e.clone(), e.clone()),
        (None, Some(o)) => ("US".to_string(), o.clone()),
        (None, None) => return,
    };
    let Some(pack) = RULES.pack(regime) else {
        return;
    };
    let mut dates_to_try = vec![policy.covers_from];
    dates_to_try.extend(policy.rules.iter().take(8).map(|(_, v)| v.from));
    dates_to_try.extend(policy.groups.iter().take(8).filter_map(|(_, v)| v.until));
    dates_to_try.sort();
    dates_to_try.dedup();
    let mut destinations: Vec<String> = ["CN", "KR", "RU", "DE", "US"]
        .into_iter()
        .map(String::from)
        .collect();
    for (g, _) in policy.groups.iter().take(4) {
        destinations.extend(g.countries.first().cloned());
    }
    destinations.extend(policy.parties.first().map(|(p, _)| p.country.clone()));
    destinations.sort();
    destinations.dedup();
    let end_user_name = policy
        .parties
        .first()
        .map(|(p, _)| p.name.clone())
        .unwrap_or_else(|| "Example Fab".into());
    for on in dates_to_try {
        let lines: Vec<LineFacts> = pack
            .entries
            .iter()
            .filter_map(|e| e.version_on(on).map(|v| (e, v)))
            .take(6)
            .map(|(e, v)| MatchedEntry {
                id: e.id.clone(),
                reasons: v.reasons.iter().map(|r| r.code.clone()).collect(),
                citations: v.citations.clone(),
                low_confidence: v.confidence.is_low(),
            })
            .map(Some)
            .chain([None])
            .enumerate()
            .map(|(i, m)| LineFacts {
                line_id: i.to_string(),
                origin_country: origin.clone(),
                manufacturer: String::new(),
                classifications: [(
                    regime.to_string(),
                    engine::RegimeClassification {
                        not_listed_label: if m.is_none() {
                            pack.not_listed_label.clone()
                        } else {
                            String::new()
                        },
                        matches: m.into_iter().collect(),
                        undetermined: Vec::new(),
                    },
                )]
                .into_iter()
                .collect(),
                ..Default::default()
            })
            .collect();
        for destination in &destinations {
            let shipment = Shipment {
                export_country: export.clone(),
                destination: destination.clone(),
                subdivision: None,
                held: Vec::new(),
                end_user: engine::PartyFacts::end_user(&end_user_name, destination, &[]),
                parties: Vec::new(),
                end_use: engine::EndUseFacts {
                    purpose: Some("military".into()),
                    ic_production: Some(true),
                    fab_logic_node_nm: Some(14.0),
                    fab_owner_headquarters: Some(destination.clone()),
                    ..Default::default()
                },
                as_of: on,
                lines: lines.clone(),
            };
            check_body(&engine::decide(&set, &Default::default(), &shipment, &EngineConfig::default()));
        }
    }
}

/// Invariants of every decision body: each line's outcome is the most severe of
/// its determinations, the decision's the most severe of its lines'.
fn check_body(body: &engine::DecisionBody) {
    let mut worst = Outcome::NoLicenseRequired;
    for l in &body.lines {
        let line_worst = l
            .determinations
            .iter()
            .map(|d| d.outcome)
            .fold(Outcome::NoLicenseRequired, Outcome::max);
        assert_eq!(l.outcome, line_worst, "line {}", l.line_id);
        assert!(
            !l.determinations.is_empty(),
            "line {} has no determination",
            l.line_id
        );
        worst = worst.max(l.outcome);
    }
    assert_eq!(body.outcome, worst);
}

/// `classify_request`: arbitrary bytes as a ClassifyRequest, through the
/// classifier's validation, the engine and the response rendering.
pub fn classify_request(data: &[u8]) {
    let Ok(req) = cpb::ClassifyRequest::decode(data) else {
        return;
    };
    let rules = &*RULES;
    match cconvert::classify_query(&req, rules) {
        Ok(q) => {
            let results = rules.classify(&q.facts, q.as_of, q.regimes.as_deref());
            let resp = cconvert::classify_response(&q, rules, &results);
            let all = rules.packs().count();
            match &q.regimes {
                None => assert_eq!(resp.regimes.len(), all),
                Some(only) => assert!(!resp.regimes.is_empty() && resp.regimes.len() <= only.len()),
            }
            for r in &resp.regimes {
                let listed = r.status == cpb::ClassificationStatus::Listed as i32;
                assert_eq!(listed, !r.matches.is_empty(), "{}", r.regime);
            }
            let _ = resp.encode_to_vec();
        }
        Err(violations) => {
            assert!(!violations.is_empty(), "a rejected request names no field");
            let status =
                tonic::Status::from(exportctl_classifier::Error::InvalidArgument(violations));
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
        }
    }
}

/// The licensing service's classification port on the bundled rule set, in
/// this process: the same path a Decide takes, without a socket.
static CLASSIFICATION: LazyLock<Classification> = LazyLock::new(|| {
    let rules = RuleSet::bundled().expect("bundled rule packs load");
    let service = Classifier::new(SharedRules::new(rules), false);
    Classification::new(Arc::new(InProcessClassifier::new(service)))
});

/// Runs the port's futures (in-process, they never wait on I/O).
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime")
});

/// `decide_request`: arbitrary bytes as a DecideRequest, through the licensing
/// service's validation, in-process classification of its lines, the pure
/// decision engine and the rendering of the Decision.
pub fn decide_request(data: &[u8]) {
    let Ok(req) = lpb::DecideRequest::decode(data) else {
        return;
    };
    let policies = &*POLICIES;
    let q = match lconvert::decide_query(&req, policies) {
        Ok(q) => q,
        Err(violations) => {
            assert!(!violations.is_empty(), "a rejected request names no field");
            let status =
                tonic::Status::from(exportctl_licensing::Error::InvalidArgument(violations));
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
            return;
        }
    };
    let regimes = lconvert::line_regimes(&q, &req, policies);
    let deadline = Instant::now() + Duration::from_secs(60);
    let trace = TraceParent::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .expect("a valid traceparent");
    let classified = RUNTIME
        .block_on(CLASSIFICATION.classify_lines(&req.lines, &regimes, policies, q.as_of, deadline, &trace));
    // A line the service would reject (bad spec or entry) is an error value.
    let Ok((classifications, _)) = classified else {
        return;
    };
    let shipment = lconvert::shipment(&q, &req, &classifications);
    let body = engine::decide(policies, &Default::default(), &shipment, &EngineConfig::default());
    check_body(&body);
    assert_eq!(body.lines.len(), req.lines.len());
    let decision = lconvert::decision(
        &q,
        &body,
        classifications,
        &policies.digest,
        RULES.digest(),
        "2026-01-01T00:00:00Z",
    );
    assert_eq!(decision.outcome, lconvert::outcome(body.outcome) as i32);
    assert_eq!(decision.as_of, dates::format(q.as_of));
    let bytes = decision.encode_to_vec();
    assert!(lpb::Decision::decode(bytes.as_slice()).is_ok());
}
