//! Classifier outages under Decide load: while the classifier is down,
//! licensing answers UNAVAILABLE (or DEADLINE_EXCEEDED) and records nothing;
//! once it is back on the same address, licensing reconnects by itself and
//! decides again within seconds; and the outages leave no tasks, file
//! descriptors or memory behind.
//!
//! Everything runs in this test process, so the task count is the runtime's
//! (`num_alive_tasks`), and descriptors and RSS are this process's
//! (/proc/self), classifier and clients included. That is why this test is a
//! binary of its own, not a module of tests/tests/it with the others.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use exportctl_proto::licensing::licensing_service_client::LicensingServiceClient;
use exportctl_proto::licensing::{self as pb};
use exportctl_tests::{gallium_nitride_shipment, start_licensing, temp_ledger};
use tokio::sync::{Mutex, oneshot};
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

/// Outage cycles.
const CYCLES: usize = 3;
/// Concurrent clients, each on its own connection.
const CLIENTS: usize = 8;
/// How long each outage lasts.
const OUTAGE: Duration = Duration::from_secs(1);
/// Longest acceptable wait for the first decision after the classifier is back.
const RECOVERY_BOUND: Duration = Duration::from_secs(5);

/// A classifier on a given address (port 0 = any); stopped by `stop`.
struct Classifier {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Classifier {
    async fn start(addr: SocketAddr) -> Self {
        // The old listener is closed, but be patient with the port anyway.
        let mut attempt = 0;
        let app = loop {
            attempt += 1;
            match exportctl_classifier::Application::build(exportctl_classifier::Config {
                listen: addr,
                drain: Duration::from_secs(2),
                ..Default::default()
            })
            .await
            {
                Ok(app) => break app,
                Err(e) if attempt < 50 => {
                    eprintln!("outage: classifier could not bind {addr} yet: {e:#}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("classifier cannot bind {addr} again: {e:#}"),
            }
        };
        let addr = app.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .expect("classifier runs");
        });
        Classifier { addr, stop, task }
    }

    /// Stops it and waits for it to drain.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("classifier task");
    }
}

/// One Decide call as a client saw it.
struct Call {
    request_id: String,
    started: Instant,
    ended: Instant,
    result: Result<pb::Decision, Code>,
}

/// Clients sending Decide, each with a new request id, until `stop` is set.
async fn load(
    clients: &[LicensingServiceClient<Channel>],
    phase: &str,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<Call>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    clients
        .iter()
        .enumerate()
        .map(|(c, client)| {
            let mut client = client.clone();
            let (stop, log) = (stop.clone(), log.clone());
            let prefix = format!("outage-{phase}-c{c}");
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let request_id = format!("{prefix}-{n}");
                    n += 1;
                    let started = Instant::now();
                    let result = client
                        .decide(gallium_nitride_shipment(&request_id, "JP", "2024-01-01"))
                        .await
                        .map(|r| {
                            r.into_inner()
                                .decision
                                .expect("an OK answer has a decision")
                        })
                        .map_err(|s| s.code());
                    let failed = result.is_err();
                    log.lock().await.push(Call {
                        request_id,
                        started,
                        ended: Instant::now(),
                        result,
                    });
                    if failed {
                        // A client backs off a little rather than spin on errors.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            })
        })
        .collect()
}

async fn finish(stop: Arc<AtomicBool>, workers: Vec<tokio::task::JoinHandle<()>>) {
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.expect("a client panicked");
    }
}

/// Open file descriptors and resident memory (kB) of this process.
fn process_resources() -> (usize, u64) {
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    (fds, rss)
}

/// Lets connections and tasks of finished calls wind down, then measures.
async fn settled_resources() -> (usize, usize, u64) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let tasks = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let (fds, rss) = process_resources();
    (tasks, fds, rss)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classifier_outages_fail_closed_recover_and_leak_nothing() {
    let test_started = Instant::now();
    let mut classifier = Classifier::start(SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let classifier_addr = classifier.addr;
    let ledger = temp_ledger("outage");
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_url: format!("http://{classifier_addr}"),
        ledger: format!("sqlite://{}", ledger.display()),
        classifier_timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let clients: Vec<LicensingServiceClient<Channel>> = (0..CLIENTS)
        .map(|_| {
            let channel = Endpoint::from_shared(licensing.url())
                .unwrap()
                .timeout(Duration::from_secs(10))
                .connect_lazy();
            LicensingServiceClient::new(channel)
        })
        .collect();
    let calls: Arc<Mutex<Vec<Call>>> = Arc::default();

    // Warm up (every connection open, every lazy thing initialised), then the baseline.
    let stop = Arc::new(AtomicBool::new(false));
    let workers = load(&clients, "warmup", stop.clone(), calls.clone()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    finish(stop, workers).await;
    let before = settled_resources().await;

    // (down from, down until): the classifier is stopped in between.
    let mut outages: Vec<(Instant, Instant)> = Vec::new();
    let mut recoveries: Vec<Duration> = Vec::new();
    for cycle in 1..=CYCLES {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = load(
            &clients,
            &format!("cycle{cycle}"),
            stop.clone(),
            calls.clone(),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stopping = Instant::now();
        classifier.stop().await;
        let down = Instant::now();
        tokio::time::sleep(OUTAGE).await;
        classifier = Classifier::start(classifier_addr).await;
        let up = Instant::now();
        assert_eq!(classifier.addr, classifier_addr);
        outages.push((down, up));

        // Recovery: the first decision from a call made after the restart.
        let recovered = loop {
            let first_ok = calls
                .lock()
                .await
                .iter()
                .filter(|c| c.started >= up && c.result.is_ok())
                .map(|c| c.ended)
                .min();
            if let Some(t) = first_ok {
                break t - up;
            }
            assert!(
                up.elapsed() < RECOVERY_BOUND * 2,
                "cycle {cycle}: no decision {:?} after the classifier came back",
                up.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        recoveries.push(recovered);
        tokio::time::sleep(Duration::from_millis(300)).await;
        finish(stop, workers).await;
        eprintln!(
            "outage: cycle {cycle}: classifier stopped in {} ms, down {} ms, first decision {} ms after it was back",
            (down - stopping).as_millis(),
            (up - down).as_millis(),
            recovered.as_millis()
        );
    }
    let after = settled_resources().await;

    // What the clients saw: no decision from a call made entirely while the
    // classifier was down; failures only UNAVAILABLE or DEADLINE_EXCEEDED.
    let calls = std::mem::take(&mut *calls.lock().await);
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut during_outage = 0;
    let mut failed_during_outage_ms = Vec::new();
    let mut ok: HashSet<String> = HashSet::new();
    let mut failed: Vec<String> = Vec::new();
    for c in &calls {
        let inside = outages
            .iter()
            .any(|&(down, up)| c.started >= down && c.ended <= up);
        if inside {
            during_outage += 1;
        }
        match &c.result {
            Ok(d) => {
                assert!(
                    !inside,
                    "{}: decided while the classifier was down: {d:?}",
                    c.request_id
                );
                assert_eq!(d.request_id, c.request_id);
                ok.insert(c.request_id.clone());
            }
            Err(code) => {
                assert!(
                    matches!(code, Code::Unavailable | Code::DeadlineExceeded),
                    "{}: {code:?} (expected UNAVAILABLE or DEADLINE_EXCEEDED)",
                    c.request_id
                );
                *codes.entry(format!("{code:?}")).or_default() += 1;
                if inside {
                    failed_during_outage_ms.push((c.ended - c.started).as_millis());
                }
                failed.push(c.request_id.clone());
            }
        }
    }
    assert!(during_outage > 0, "no call fell inside an outage");
    assert_eq!(
        failed_during_outage_ms.len(),
        during_outage,
        "every call inside an outage failed"
    );
    for (i, r) in recoveries.iter().enumerate() {
        assert!(
            *r < RECOVERY_BOUND,
            "cycle {}: licensing took {r:?} to decide again",
            i + 1
        );
    }

    // The ledger holds exactly the decisions answered, and nothing for a failure.
    drop(clients);
    licensing.stop().await;
    classifier.stop().await;
    let url = format!("sqlite://{}", ledger.display());
    let (ok, failed) = (Arc::new(ok), Arc::new(failed));
    let (ok2, failed2) = (ok.clone(), failed.clone());
    let length = tokio::task::spawn_blocking(move || {
        let ledger = exportctl_licensing::open_ledger(&url).expect("opens the ledger");
        let v = ledger.verify().expect("verifies");
        assert!(v.broken.is_none(), "{v:?}");
        for rid in failed2.iter() {
            assert!(
                ledger.by_request_id(rid).unwrap().is_none(),
                "{rid} failed but was recorded"
            );
        }
        for rid in ok2.iter() {
            assert!(
                ledger.by_request_id(rid).unwrap().is_some(),
                "{rid} was answered but is not recorded"
            );
        }
        v.length
    })
    .await
    .unwrap();
    assert_eq!(length, ok.len() as i64);

    let (tasks0, fds0, rss0) = before;
    let (tasks1, fds1, rss1) = after;
    let max_fail_ms = failed_during_outage_ms.iter().max().copied().unwrap_or(0);
    eprintln!(
        "outage: {CYCLES} cycles of {} ms, {CLIENTS} clients, {} calls: {} decided, {} failed {codes:?} \
         ({during_outage} wholly inside an outage, all failed, slowest {max_fail_ms} ms); \
         recovery {:?} ms; alive tasks {tasks0} -> {tasks1}, fds {fds0} -> {fds1}, RSS {} -> {} MB; \
         ledger {length} records, chain verified; {:.1} s",
        OUTAGE.as_millis(),
        calls.len(),
        ok.len(),
        failed.len(),
        recoveries.iter().map(|r| r.as_millis()).collect::<Vec<_>>(),
        rss0 / 1024,
        rss1 / 1024,
        test_started.elapsed().as_secs_f64()
    );
    assert!(
        tasks1 <= tasks0 + 4,
        "alive tasks grew from {tasks0} to {tasks1} over {CYCLES} outages"
    );
    assert!(
        fds1 <= fds0 + 4,
        "file descriptors grew from {fds0} to {fds1} over {CYCLES} outages"
    );
    assert!(
        rss1 < rss0 + 20 * 1024,
        "RSS grew from {rss0} kB to {rss1} kB over {CYCLES} outages"
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", ledger.display()));
    }
}
