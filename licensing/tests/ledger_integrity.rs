//! Start-up refusals of the real `licensing` binary on a ledger that was
//! tampered with or lost: a record rewritten and the chain recomputed, a
//! broken chain, a ledger cut short or deleted behind its anchor, a keyed
//! ledger without its key. Each refusal names what is wrong; a reset is
//! accepted only with the anchored head hash.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use exportctl_licensing::ledger::anchor::{Anchor, anchor_file, read_anchor};
use exportctl_licensing::ledger::{
    GENESIS, LedgerKey, LedgerStore, ListFilter, NewRecord, Record, SqliteLedger, relink,
};

/// A temporary folder with a ledger, a key file and an anchor folder.
struct Place {
    dir: PathBuf,
}

impl Place {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("exportctl-integrity-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("anchor")).unwrap();
        std::fs::write(dir.join("key"), "5a".repeat(32)).unwrap();
        Self { dir }
    }

    fn ledger(&self) -> PathBuf {
        self.dir.join("ledger.db")
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.ledger().display())
    }

    fn key_file(&self) -> PathBuf {
        self.dir.join("key")
    }

    fn key(&self) -> LedgerKey {
        LedgerKey::read(&self.key_file()).unwrap()
    }

    fn anchor_dir(&self) -> PathBuf {
        self.dir.join("anchor")
    }

    fn anchor(&self) -> Option<Anchor> {
        read_anchor(&anchor_file(&self.anchor_dir())).unwrap()
    }

    /// Appends `n` records (keyed with the place's key or not).
    fn fill(&self, n: usize, keyed: bool) {
        let l = SqliteLedger::open_keyed(&self.ledger(), keyed.then(|| self.key())).unwrap();
        let start = l.verify().unwrap().length as usize;
        for i in start..start + n {
            l.append(NewRecord {
                decision_id: format!("d{i}"),
                request_id: format!("r{i}"),
                request: format!("request {i}").into_bytes(),
                decision: vec![3, i as u8],
                outcome: 3,
                as_of: "2024-01-01".into(),
                created_at: "2024-01-01T00:00:00Z".into(),
                rules_digest: "sha256:p".into(),
                classifier_rules_digest: "sha256:c".into(),
            })
            .unwrap();
        }
    }

    fn records(&self) -> Vec<Record> {
        let l = SqliteLedger::open(&self.ledger()).unwrap();
        let mut all = l
            .list(&ListFilter {
                limit: 10_000,
                ..Default::default()
            })
            .unwrap();
        all.reverse();
        all
    }

    /// What someone with write access but not the key does: record `seq`
    /// says NO_LICENSE_REQUIRED, and every hash from it on is recomputed
    /// (with `key`: a guessed key; `None`: plain SHA-256).
    fn forge(&self, seq: i64, key: Option<&LedgerKey>) {
        let records = self.records();
        let conn = rusqlite::Connection::open(self.ledger()).unwrap();
        conn.execute_batch("DROP TRIGGER decisions_no_update;")
            .unwrap();
        let at = seq as usize - 1;
        let prev = match at {
            0 => GENESIS.to_string(),
            _ => records[at - 1].hash.clone(),
        };
        let mut tail = records[at..].to_vec();
        tail[0].body.outcome = 1;
        tail[0].body.decision = b"forged".to_vec();
        relink(&mut tail, &prev, key);
        for r in tail {
            conn.execute(
                "UPDATE decisions SET outcome = ?1, decision = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?5",
                rusqlite::params![r.body.outcome, r.body.decision, r.prev_hash, r.hash, r.seq],
            )
            .unwrap();
        }
    }

    /// Deletes the records after `keep`.
    fn truncate(&self, keep: i64) {
        let conn = rusqlite::Connection::open(self.ledger()).unwrap();
        conn.execute_batch("DROP TRIGGER decisions_no_delete;")
            .unwrap();
        conn.execute("DELETE FROM decisions WHERE seq > ?1", [keep])
            .unwrap();
    }

    fn delete_ledger(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.ledger().display()));
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How a start ended.
#[derive(Debug)]
enum Start {
    /// Exited before serving, with its output.
    Refused(Output),
    /// Listened; stopped again with SIGTERM (which writes the last anchor).
    Served,
}

impl Start {
    fn refusal(self) -> String {
        match self {
            Start::Refused(out) => {
                assert!(!out.status.success(), "exited 0 without serving");
                String::from_utf8_lossy(&out.stderr).into_owned()
            }
            Start::Served => panic!("the service started"),
        }
    }
}

/// Whether the server on `addr` answers SERVING (its shutdown signal is
/// handled from then on).
fn serving(addr: SocketAddr) -> bool {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(common::serving(addr))
}

/// Runs the binary on the place's ledger with `extra` flags until it exits
/// or listens.
fn start(place: &Place, extra: &[&str]) -> Start {
    let addr = common::free_addr();
    let mut command = Command::new(env!("CARGO_BIN_EXE_licensing"));
    command
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--classifier-url")
        .arg("http://127.0.0.1:9")
        .arg("--ledger")
        .arg(place.url())
        .args(extra)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("LICENSING_") || k.starts_with("OTEL_") {
            command.env_remove(&key);
        }
    }
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            return Start::Refused(child.wait_with_output().unwrap());
        }
        if serving(addr) {
            let status = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status()
                .unwrap();
            assert!(status.success());
            let out = child.wait_with_output().unwrap();
            // SERVING is reported before the server first polls its
            // shutdown signal, so an early SIGTERM may still end it by the
            // signal's default action; either way it served. (The anchor
            // the tests read is the one written before serving.)
            use std::os::unix::process::ExitStatusExt as _;
            assert!(
                out.status.success() || out.status.signal() == Some(15),
                "{:?}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            return Start::Served;
        }
        assert!(Instant::now() < deadline, "neither refused nor served");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn keyed(place: &Place) -> Vec<String> {
    vec![
        "--ledger-key-file".into(),
        place.key_file().display().to_string(),
        "--ledger-anchor".into(),
        place.anchor_dir().display().to_string(),
    ]
}

fn flags(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_record_rewritten_and_rechained_stops_the_service() {
    for guessed in [None, Some(LedgerKey::new(&[7; 32]).unwrap())] {
        let place = Place::new(if guessed.is_some() {
            "rechain-key"
        } else {
            "rechain"
        });
        place.fill(5, true);
        place.forge(3, guessed.as_ref());
        let args = vec![
            "--ledger-key-file".to_string(),
            place.key_file().display().to_string(),
        ];
        let err = start(&place, &flags(&args)).refusal();
        assert!(
            err.contains("broken ledger") && err.contains("broken at record 3"),
            "{err}"
        );
    }
}

#[test]
fn a_broken_chain_stops_the_service() {
    let place = Place::new("broken");
    place.fill(4, false);
    let conn = rusqlite::Connection::open(place.ledger()).unwrap();
    conn.execute_batch(
        "DROP TRIGGER decisions_no_update; UPDATE decisions SET outcome = 1 WHERE seq = 2;",
    )
    .unwrap();
    drop(conn);
    let err = start(&place, &[]).refusal();
    assert!(err.contains("broken at record 2"), "{err}");
    assert!(err.contains("its contents do not match its hash"), "{err}");
}

#[test]
fn a_keyed_ledger_without_its_key_or_with_a_short_key_stops_the_service() {
    let place = Place::new("nokey");
    place.fill(2, true);
    let err = start(&place, &[]).refusal();
    assert!(
        err.contains("no-key") && err.contains("--ledger-key-file"),
        "{err}"
    );
    let short = place.dir.join("short");
    std::fs::write(&short, "ab".repeat(16)).unwrap();
    let err = start(&place, &["--ledger-key-file", short.to_str().unwrap()]).refusal();
    assert!(
        err.contains("--ledger-key-file") && err.contains("16 bytes"),
        "{err}"
    );
}

#[test]
fn a_ledger_cut_short_behind_its_anchor_needs_the_anchored_head_to_start() {
    let place = Place::new("truncate");
    place.fill(6, true);
    let args = keyed(&place);
    assert!(matches!(start(&place, &flags(&args)), Start::Served));
    let anchor = place.anchor().expect("an anchor was written");
    assert_eq!(anchor.sequence, 6);
    assert!(anchor.mac.is_some());

    place.truncate(4);
    let err = start(&place, &flags(&args)).refusal();
    assert!(err.contains("truncated ledger"), "{err}");
    assert!(err.contains("records 5..=6 are gone"), "{err}");
    assert!(
        err.contains(&format!("--accept-ledger-reset {}", anchor.head_hash)),
        "{err}"
    );
    // Any other hash is not the acceptance.
    let head4 = place.records()[3].hash.clone();
    let mut wrong = args.clone();
    wrong.extend(["--accept-ledger-reset".into(), head4.clone()]);
    let err = start(&place, &flags(&wrong)).refusal();
    assert!(err.contains("not the anchor's head"), "{err}");

    let mut accept = args.clone();
    accept.extend(["--accept-ledger-reset".into(), anchor.head_hash.clone()]);
    assert!(matches!(start(&place, &flags(&accept)), Start::Served));
    let new = place.anchor().unwrap();
    assert_eq!((new.sequence, new.head_hash), (4, head4));
    // The new chain is anchored: it starts without the flag now.
    assert!(matches!(start(&place, &flags(&args)), Start::Served));
}

#[test]
fn a_deleted_ledger_is_detected_from_its_anchor_and_not_recreated() {
    let place = Place::new("deleted");
    place.fill(3, false);
    let args = vec![
        "--ledger-anchor".to_string(),
        place.anchor_dir().display().to_string(),
    ];
    assert!(matches!(start(&place, &flags(&args)), Start::Served));
    let anchor = place.anchor().unwrap();
    assert_eq!(anchor.sequence, 3);
    place.delete_ledger();
    let err = start(&place, &flags(&args)).refusal();
    assert!(err.contains("missing ledger"), "{err}");
    assert!(
        !place.ledger().exists(),
        "the refused start created a ledger"
    );
    let mut accept = args.clone();
    accept.extend(["--accept-ledger-reset".into(), anchor.head_hash.clone()]);
    assert!(matches!(start(&place, &flags(&accept)), Start::Served));
    assert_eq!(place.anchor().unwrap().sequence, 0);
    assert!(matches!(start(&place, &flags(&args)), Start::Served));
}

#[test]
fn a_rewrite_before_the_anchor_with_the_chain_recomputed_is_detected_unkeyed_too() {
    // Without a key the chain itself cannot tell; the anchor can.
    let place = Place::new("diverged");
    place.fill(5, false);
    let args = vec![
        "--ledger-anchor".to_string(),
        place.anchor_dir().display().to_string(),
    ];
    assert!(matches!(start(&place, &flags(&args)), Start::Served));
    place.forge(2, None);
    let err = start(&place, &flags(&args)).refusal();
    assert!(
        err.contains("diverged ledger") && err.contains("record 5 has hash"),
        "{err}"
    );
}

/// The start-up check's cost: 100,000 keyed records of realistic size,
/// walked and checked against their anchor as `Application::build` does.
/// Prints the figures (RELIABILITY.md); run with
/// `cargo test --release -p exportctl-licensing --test ledger_integrity -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: fills a 100,000-record ledger"]
fn start_up_verification_of_100k_records() {
    use exportctl_licensing::ledger::anchor::guard;
    let n: usize = std::env::var("EXPORTCTL_VERIFY_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let place = Place::new("measure");
    let l = SqliteLedger::open_keyed(&place.ledger(), Some(place.key())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let filled = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(4096) {
        let pending: Vec<_> = chunk
            .iter()
            .map(|&i| {
                l.submit(NewRecord {
                    decision_id: format!("decision-{i:08}"),
                    request_id: format!("request-{i:08}"),
                    request: vec![(i % 251) as u8; 400],
                    decision: vec![(i % 241) as u8; 1500],
                    outcome: 3,
                    as_of: "2024-01-01".into(),
                    created_at: "2024-01-01T00:00:00Z".into(),
                    rules_digest: "sha256:p".into(),
                    classifier_rules_digest: "sha256:c".into(),
                })
                .unwrap()
            })
            .collect();
        rt.block_on(async {
            for p in pending {
                p.durable().await.unwrap();
            }
        });
    }
    let filled = filled.elapsed();
    let v = l.verify().unwrap();
    let anchor = Anchor::new(
        v.first_hash.clone().unwrap(),
        v.length,
        v.head_hash.clone(),
        "2026-01-01T00:00:00Z".into(),
        Some(&place.key()),
    );
    let started = Instant::now();
    let checked = guard(&l, Some(&anchor), Some(&place.key()), None).unwrap();
    let check = started.elapsed();
    assert_eq!(checked.length, n as i64);
    drop(l);
    let size = std::fs::metadata(place.ledger()).map_or(0, |m| m.len());
    eprintln!(
        "start-up verification: {n} keyed records ({:.0} MiB file, filled in {:.1} s): chain walked and checked against the anchor in {:.0} ms ({:.1} us a record)",
        size as f64 / (1024.0 * 1024.0),
        filled.as_secs_f64(),
        check.as_secs_f64() * 1000.0,
        check.as_secs_f64() * 1e6 / n as f64
    );
}

#[test]
fn the_anchor_follows_the_committed_head_and_is_exported() {
    use exportctl_licensing::ledger::anchor::Anchoring;
    use std::sync::Arc;
    let place = Place::new("anchoring");
    place.fill(3, true);
    let ledger: Arc<dyn LedgerStore> =
        Arc::new(SqliteLedger::open_keyed(&place.ledger(), Some(place.key())).unwrap());
    let file = anchor_file(&place.anchor_dir());
    let anchoring = Anchoring::new(ledger.clone(), Some(file.clone()), Some(place.key()), None);
    let registry = exportctl_runtime::metrics::Registry::default();
    anchoring.stats().expose(&registry);
    anchoring.tick().unwrap();
    let a = read_anchor(&file).unwrap().unwrap();
    assert_eq!(
        (a.sequence, Some(a.head_hash.clone())),
        (3, ledger.hash_at(3).unwrap())
    );
    assert_eq!(Some(a.ledger_id.clone()), ledger.hash_at(1).unwrap());
    assert_eq!(a.authentic(Some(&place.key())), Some(true));
    // The head has not moved: nothing is rewritten.
    anchoring.tick().unwrap();
    place.fill(2, true);
    anchoring.tick().unwrap();
    assert_eq!(read_anchor(&file).unwrap().unwrap().sequence, 5);
    let metrics = registry.render();
    for line in [
        "exportctl_ledger_head_sequence 5",
        "exportctl_ledger_anchor_sequence 5",
        "exportctl_ledger_anchor_writes_total{result=\"ok\"} 2",
        "exportctl_ledger_anchor_writes_total{result=\"failed\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} missing from\n{metrics}");
    }
}
