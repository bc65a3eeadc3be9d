//! Crash durability: concurrent Decide load against a real `licensing` process
//! that is killed with SIGKILL at random moments and restarted on the same
//! ledger. Every decision a client was answered with must survive the kills,
//! the hash chain must verify, and retrying a request id with the identical
//! request must return the recorded decision (same name, sequence and record
//! hash), never a second record.
//!
//! The SQLite run is keyed (--ledger-key-file) and anchored every 200 ms
//! (--ledger-anchor): every restart checks the ledger against the anchor
//! written before the kill, so an anchor ahead of what was durable would
//! stop it; after the last, graceful stop the anchor names the final head.
//!
//! SQLite always; PostgreSQL when EXPORTCTL_TEST_POSTGRES_URL is set
//! (scripts/with-postgres.sh provides one; .ci/run runs the PostgreSQL variant
//! through it). EXPORTCTL_CRASH_SEED=<u64> replays a run's kill moments;
//! EXPORTCTL_CRASH_ROUNDS=<n> runs more rounds (a longer soak).

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use exportctl_licensing::ledger::anchor::{anchor_file, read_anchor};
use exportctl_licensing::ledger::{LedgerKey, ListFilter, Record};
use exportctl_proto::classifier::{ItemKind, ProductSpec};
use exportctl_proto::licensing::licensing_service_client::LicensingServiceClient;
use exportctl_proto::licensing::{self as pb};
use tokio::sync::oneshot;
use tonic::transport::{Channel, Endpoint};

/// Kill-and-restart rounds, unless EXPORTCTL_CRASH_ROUNDS says otherwise.
const ROUNDS: usize = 5;
/// Concurrent clients, each on its own connection.
const CLIENTS: usize = 16;
/// Load before the kill: 100 ms plus up to this many.
const KILL_JITTER_MS: u64 = 500;

/// splitmix64: a small seeded generator, so a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn rounds() -> usize {
    std::env::var("EXPORTCTL_CRASH_ROUNDS").map_or(ROUNDS, |s| {
        s.trim()
            .parse()
            .expect("EXPORTCTL_CRASH_ROUNDS is a number")
    })
}

fn seed() -> u64 {
    match std::env::var("EXPORTCTL_CRASH_SEED") {
        Ok(s) => s.trim().parse().expect("EXPORTCTL_CRASH_SEED is a u64"),
        Err(_) => {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            nanos ^ u64::from(std::process::id()).rotate_left(32)
        }
    }
}

const DESTINATIONS: [&str; 4] = ["US", "JP", "DE", "KR"];
const AS_OF: [&str; 3] = ["2023-06-01", "2024-01-01", "2024-12-03"];

/// Gallium nitride from China (the shape of `exportctl_tests::gallium_nitride_shipment`),
/// to a destination and on a date picked by `n`. The same (`request_id`, `n`)
/// always builds the identical request.
fn shipment(request_id: &str, n: usize) -> pb::DecideRequest {
    let destination = DESTINATIONS[n % DESTINATIONS.len()];
    pb::DecideRequest {
        request_id: request_id.into(),
        export_country: "CN".into(),
        destination_country: destination.into(),
        end_user: Some(pb::Party {
            name: "Example RF Devices Co.".into(),
            country: destination.into(),
            ..Default::default()
        }),
        parties: Vec::new(),
        end_use: Some(pb::EndUse {
            purpose: "civil".into(),
            ..Default::default()
        }),
        lines: vec![pb::LineItem {
            line_id: "1".into(),
            spec: Some(ProductSpec {
                kind: ItemKind::Material as i32,
                material: "gallium_nitride".into(),
                ..Default::default()
            }),
            origin_country: "CN".into(),
            quantity: (1 + n % 7) as f64,
            ..Default::default()
        }],
        as_of: AS_OF[n % AS_OF.len()].into(),
        held_authorizations: Vec::new(),
        destination_subdivision: String::new(),
    }
}

/// An in-process classifier on 127.0.0.1:0.
struct Classifier {
    url: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start_classifier() -> Classifier {
    let app = exportctl_classifier::Application::build(exportctl_classifier::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        drain: Duration::from_secs(1),
        ..Default::default()
    })
    .await
    .expect("classifier builds");
    let url = format!("http://{}", app.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .expect("classifier runs");
    });
    Classifier { url, stop, task }
}

/// A `licensing` process.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("runs kill");
        assert!(status.success(), "kill -{signal} failed: {status}");
    }

    /// SIGKILL, then reaps the process.
    async fn kill(self) {
        self.signal("KILL");
        self.wait().await;
    }

    async fn wait(mut self) -> std::process::ExitStatus {
        tokio::task::spawn_blocking(move || self.child.wait().expect("waits for licensing"))
            .await
            .unwrap()
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Where the ledger is and how to run the server on it.
struct Setup {
    label: &'static str,
    ledger: String,
    classifier_url: String,
    log: PathBuf,
    /// More flags for the server (the ledger key and anchor).
    extra: Vec<String>,
}

/// Starts the binary on a port picked here (another one if it was taken in
/// between) and waits until it is SERVING.
async fn start_licensing(setup: &Setup) -> Server {
    for attempt in 1..=5 {
        let addr = common::free_addr();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&setup.log)
            .expect("opens the server log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_licensing"));
        command
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--classifier-url")
            .arg(&setup.classifier_url)
            .arg("--ledger")
            .arg(&setup.ledger)
            .args(&setup.extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        // Nothing from the test's environment may reconfigure the server.
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("LICENSING_") || k.starts_with("OTEL_") {
                command.env_remove(&key);
            }
        }
        let mut child = command.spawn().expect("starts licensing");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("polls licensing") {
                eprintln!(
                    "crash[{}]: licensing exited ({status}) while starting on {addr} (attempt {attempt}); log {}",
                    setup.label,
                    setup.log.display()
                );
                break;
            }
            if common::serving(addr).await {
                return Server { child, addr };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "licensing was not SERVING within 30 s; log {}",
                    setup.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    panic!(
        "licensing did not start in 5 attempts; log {}",
        setup.log.display()
    );
}

fn client(url: String) -> LicensingServiceClient<Channel> {
    let channel = Endpoint::from_shared(url)
        .unwrap()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(20))
        .connect_lazy();
    LicensingServiceClient::new(channel)
}

async fn verify_rpc(server: &Server) -> pb::VerifyLedgerResponse {
    client(server.url())
        .verify_ledger(pb::VerifyLedgerRequest {})
        .await
        .expect("VerifyLedger answers")
        .into_inner()
}

/// What one client saw in one round.
#[derive(Default)]
struct Tally {
    sent: usize,
    /// Request id, request number and the decision answered.
    acked: Vec<(String, usize, pb::Decision)>,
    /// Request id and number of calls that got no decision (maybe recorded anyway).
    unanswered: Vec<(String, usize)>,
    /// Status codes of the failed calls, all after the kill.
    codes: BTreeMap<String, usize>,
    /// Failures while the server was up: none expected.
    unexpected: Vec<String>,
}

/// One client: a Decide after another, each with a new request id, until the kill.
async fn load(
    mut client: LicensingServiceClient<Channel>,
    prefix: String,
    first: usize,
    killed: Arc<AtomicBool>,
) -> Tally {
    let mut t = Tally::default();
    let mut n = first;
    while !killed.load(Ordering::SeqCst) {
        let rid = format!("{prefix}-{n}");
        t.sent += 1;
        match client.decide(shipment(&rid, n)).await {
            Ok(resp) => {
                let d = resp
                    .into_inner()
                    .decision
                    .expect("an OK answer has a decision");
                assert_eq!(
                    d.request_id, rid,
                    "answered with another request's decision"
                );
                assert!(d.sequence > 0 && !d.record_hash.is_empty(), "{d:?}");
                t.acked.push((rid, n, d));
            }
            Err(status) => {
                if killed.load(Ordering::SeqCst) {
                    *t.codes.entry(format!("{:?}", status.code())).or_default() += 1;
                } else {
                    t.unexpected.push(format!("{rid}: {status:?}"));
                }
                t.unanswered.push((rid, n));
            }
        }
        n += 1;
    }
    t
}

/// Every record, in sequence order, read through the crate's ledger API.
fn all_records(
    url: &str,
    key: Option<LedgerKey>,
) -> (exportctl_licensing::ledger::Verification, Vec<Record>) {
    let ledger = exportctl_licensing::open_ledger_keyed(url, key).expect("opens the ledger");
    let verification = ledger.verify().expect("verifies");
    let mut records: Vec<Record> = Vec::new();
    let mut before_seq = None;
    loop {
        let page = ledger
            .list(&ListFilter {
                before_seq,
                limit: 500,
                ..Default::default()
            })
            .expect("lists");
        let Some(last) = page.last() else { break };
        before_seq = Some(last.seq);
        records.extend(page);
    }
    records.reverse();
    (verification, records)
}

/// Decides each request again (identical request, same id) on `CLIENTS` connections.
async fn decide_again(
    server: &Server,
    requests: Vec<(String, usize)>,
) -> Vec<(String, Result<pb::Decision, tonic::Status>)> {
    let per = requests.len().div_ceil(CLIENTS).max(1);
    let mut tasks = Vec::new();
    for chunk in requests.chunks(per) {
        let chunk = chunk.to_vec();
        let mut c = client(server.url());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(chunk.len());
            for (rid, n) in chunk {
                let answer = c
                    .decide(shipment(&rid, n))
                    .await
                    .map(|r| r.into_inner().decision.expect("a decision"));
                out.push((rid, answer));
            }
            out
        }));
    }
    let mut out = Vec::with_capacity(requests.len());
    for t in tasks {
        out.extend(t.await.unwrap());
    }
    out
}

/// Where the key and the anchor of a keyed, anchored run are.
struct Integrity {
    key_file: PathBuf,
    anchor_dir: PathBuf,
}

impl Integrity {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "exportctl-crash-{label}-integrity-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let key_file = dir.join("key");
        let key: Vec<u8> = (0..32u8)
            .map(|b| b.wrapping_mul(37).wrapping_add(11))
            .collect();
        std::fs::write(&key_file, &key).unwrap();
        Self {
            key_file,
            anchor_dir: dir,
        }
    }

    fn flags(&self) -> Vec<String> {
        vec![
            "--ledger-key-file".into(),
            self.key_file.display().to_string(),
            "--ledger-anchor".into(),
            self.anchor_dir.display().to_string(),
            "--ledger-anchor-interval".into(),
            "200ms".into(),
        ]
    }

    fn key(&self) -> LedgerKey {
        LedgerKey::read(&self.key_file).unwrap()
    }
}

async fn crash_rounds(label: &'static str, ledger: String, integrity: Option<Integrity>) {
    let started = Instant::now();
    let seed = seed();
    let mut rng = Rng(seed);
    eprintln!("crash[{label}]: seed {seed} (EXPORTCTL_CRASH_SEED={seed} replays the kill moments)");
    let classifier = start_classifier().await;
    let log = std::env::temp_dir().join(format!(
        "exportctl-crash-{label}-{}.log",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&log);
    let setup = Setup {
        label,
        ledger: ledger.clone(),
        classifier_url: classifier.url.clone(),
        log: log.clone(),
        extra: integrity.as_ref().map(Integrity::flags).unwrap_or_default(),
    };

    let mut acked: HashMap<String, (usize, pb::Decision)> = HashMap::new();
    let mut unanswered: Vec<(String, usize)> = Vec::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut sent = 0;
    let mut kills = 0;
    let rounds = rounds();
    for round in 1..=rounds {
        let server = start_licensing(&setup).await;
        // The ledger as the last kill left it: intact, nothing acknowledged lost.
        let v = verify_rpc(&server).await;
        assert!(v.intact, "round {round}: chain broken after a kill: {v:?}");
        assert!(
            v.length >= acked.len() as i64,
            "round {round}: {} decisions acknowledged but the ledger holds {}",
            acked.len(),
            v.length
        );
        let killed = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                tokio::spawn(load(
                    client(server.url()),
                    format!("{label}-{seed:x}-r{round}-c{c}"),
                    c,
                    killed.clone(),
                ))
            })
            .collect();
        let after = Duration::from_millis(100 + rng.below(KILL_JITTER_MS + 1));
        tokio::time::sleep(after).await;
        killed.store(true, Ordering::SeqCst);
        server.kill().await;
        kills += 1;
        let (mut round_sent, mut round_acked, mut round_failed) = (0, 0, 0);
        for w in workers {
            let t = w.await.expect("a client panicked");
            assert!(
                t.unexpected.is_empty(),
                "round {round}: calls failed while the server was up: {:?}",
                t.unexpected
            );
            round_sent += t.sent;
            round_acked += t.acked.len();
            round_failed += t.unanswered.len();
            for (rid, n, d) in t.acked {
                assert!(
                    acked.insert(rid.clone(), (n, d)).is_none(),
                    "{rid} sent twice"
                );
            }
            unanswered.extend(t.unanswered);
            for (code, k) in t.codes {
                *codes.entry(code).or_default() += k;
            }
        }
        sent += round_sent;
        eprintln!(
            "crash[{label}]: round {round}: SIGKILL after {} ms of load: {round_sent} sent, {round_acked} acknowledged, {round_failed} unanswered",
            after.as_millis()
        );
    }

    // A last restart: everything acknowledged is there, and retries find it.
    let server = start_licensing(&setup).await;
    let v = verify_rpc(&server).await;
    assert!(v.intact, "chain broken after the last kill: {v:?}");
    let length_after_kills = v.length;
    assert!(
        length_after_kills >= acked.len() as i64,
        "{} decisions acknowledged but the ledger holds {length_after_kills}",
        acked.len()
    );

    // Every acknowledged request id, retried with the identical request: the
    // decision it was answered with, and no new record.
    let retry: Vec<(String, usize)> = acked.iter().map(|(r, (n, _))| (r.clone(), *n)).collect();
    for (rid, answer) in decide_again(&server, retry).await {
        let again = answer.unwrap_or_else(|s| panic!("retry of acknowledged {rid}: {s:?}"));
        let (_, first) = &acked[&rid];
        assert_eq!(
            (&again.name, again.sequence, &again.record_hash),
            (&first.name, first.sequence, &first.record_hash),
            "retry of {rid} answered another record"
        );
        assert_eq!(&again, first, "retry of {rid} answered another decision");
    }
    let v = verify_rpc(&server).await;
    assert!(v.intact, "{v:?}");
    assert_eq!(
        v.length, length_after_kills,
        "retrying acknowledged request ids recorded new decisions"
    );

    // Every unanswered one, retried: the record committed before the kill if
    // there is one (a sequence from before the restart), else a new decision.
    let unanswered_count = unanswered.len();
    let mut committed_unacked = 0usize;
    let mut answers: HashMap<String, pb::Decision> = HashMap::new();
    for (rid, answer) in decide_again(&server, unanswered).await {
        let d = answer.unwrap_or_else(|s| panic!("retry of unanswered {rid}: {s:?}"));
        if d.sequence <= length_after_kills {
            committed_unacked += 1;
        }
        answers.insert(rid, d);
    }
    let distinct = acked.len() + answers.len();
    let v = verify_rpc(&server).await;
    assert!(v.intact, "{v:?}");
    assert_eq!(
        v.length, distinct as i64,
        "every request id sent is recorded exactly once"
    );
    assert_eq!(
        length_after_kills,
        (acked.len() + committed_unacked) as i64,
        "the ledger after the kills holds the acknowledged decisions and the committed-but-unanswered ones, nothing else"
    );

    // Stop gracefully, then read the ledger itself.
    server.signal("TERM");
    let status = server.wait().await;
    assert!(
        status.success(),
        "licensing exited with {status} on SIGTERM"
    );
    let url = ledger.clone();
    let key = integrity.as_ref().map(Integrity::key);
    let (verification, records) = tokio::task::spawn_blocking(move || all_records(&url, key))
        .await
        .unwrap();
    assert!(verification.broken.is_none(), "{verification:?}");
    if let Some(integrity) = &integrity {
        assert_eq!(verification.keyed_from, Some(1), "every record is keyed");
        assert_eq!(verification.unauthenticated, 0);
        // Written at the graceful stop: the final head, MACed.
        let anchor = read_anchor(&anchor_file(&integrity.anchor_dir))
            .unwrap()
            .expect("an anchor");
        assert_eq!(
            (anchor.sequence, &anchor.head_hash),
            (verification.length, &verification.head_hash)
        );
        assert_eq!(anchor.authentic(Some(&integrity.key())), Some(true));
        let _ = std::fs::remove_dir_all(&integrity.anchor_dir);
    }
    assert_eq!(verification.length, distinct as i64);
    assert_eq!(records.len(), distinct);
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.seq, i as i64 + 1, "sequence gap");
        assert!(
            seen.insert(&r.body.request_id),
            "request id {} recorded twice",
            r.body.request_id
        );
        let expected = acked
            .get(&r.body.request_id)
            .map(|(_, d)| d)
            .or_else(|| answers.get(&r.body.request_id))
            .unwrap_or_else(|| panic!("{} was never sent", r.body.request_id));
        assert_eq!(
            (r.seq, &r.hash),
            (expected.sequence, &expected.record_hash),
            "{}",
            r.body.request_id
        );
        assert_eq!(format!("decisions/{}", r.body.decision_id), expected.name);
    }

    let _ = classifier.stop.send(());
    let _ = classifier.task.await;
    eprintln!(
        "crash[{label}]: {rounds} rounds, {kills} kills, {sent} requests sent, {} decisions acknowledged, \
         {unanswered_count} unanswered ({committed_unacked} of them committed before the kill), failures at the kill {codes:?}; \
         all {} acknowledged present and retried to the same record; ledger {} records, chain verified (head {}); {:.1} s",
        acked.len(),
        acked.len(),
        verification.length,
        verification.head_hash,
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_file(&log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_ledger_keeps_every_acknowledged_decision_across_sigkills() {
    let path = std::env::temp_dir().join(format!("exportctl-crash-{}.db", std::process::id()));
    let clean = || {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    };
    clean();
    crash_rounds(
        "sqlite",
        format!("sqlite://{}", path.display()),
        Some(Integrity::new("sqlite")),
    )
    .await;
    clean();
}

/// A fresh database on the test server, as a URL.
fn fresh_database(name: &str) -> Option<String> {
    let Ok(admin) = std::env::var("EXPORTCTL_TEST_POSTGRES_URL") else {
        eprintln!("EXPORTCTL_TEST_POSTGRES_URL is not set: PostgreSQL crash test `{name}` not run");
        return None;
    };
    let db = format!("exportctl_{name}_{}", std::process::id());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("admin connection");
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let (base, _) = admin.rsplit_once('/').expect("url has a database");
    Some(format!("{base}/{db}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_ledger_keeps_every_acknowledged_decision_across_sigkills() {
    // The blocking client may not run on the test's executor.
    let Some(url) = tokio::task::spawn_blocking(|| fresh_database("crash"))
        .await
        .unwrap()
    else {
        return;
    };
    crash_rounds("postgres", url, None).await;
}
