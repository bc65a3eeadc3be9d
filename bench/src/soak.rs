//! Soak mode (`--soak SECONDS`): a bounded run of mixed load at rates well
//! below the services' capacity, watching that their memory and open file
//! descriptors stay flat.
//!
//! For the whole run, all at once: open-loop unary Classify; open-loop Decide
//! with a fresh request id per call; open-loop retries of earlier request ids
//! (10 % of the Decide rate), each of which must answer the decision name the
//! first call got; a ClassifyStream on a fresh connection every so often; and
//! GetDecision (10/s) and ListDecisions (first page and the next, once a
//! second) reads. Every `--soak-sample` seconds it prints each service's VmRSS,
//! open fds and threads, the requests and errors so far and the ledger's size.
//! The verdict compares the last sample with the first one after the warm-up
//! (the first 60 s, or the first 10 % of the run if that is shorter): see
//! [`verdict`].

use std::fmt::Display;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient;
use exportctl_proto::licensing as pb;
use exportctl_proto::licensing::licensing_service_client::LicensingServiceClient;
use tokio::time::Instant;
use tonic::Status;
use tonic::transport::Channel;

use crate::corpus::Mix;
use crate::load::{self, Measured, Timing};
use crate::services::{self, ProcStats, Services};
use crate::{mb, num};

/// What to run (the `--soak*` flags).
#[derive(Debug, Clone)]
pub struct Config {
    pub seconds: f64,
    pub classify_rate: f64,
    pub decide_rate: f64,
    pub sample: f64,
    pub stream_specs: u64,
    pub stream_every: f64,
}

/// Retries of earlier request ids per second, as a share of the Decide rate.
const RETRY_SHARE: f64 = 0.1;
/// GetDecision reads per second.
const GETS_PER_SECOND: u64 = 10;
/// A ListDecisions pair (newest page and the next) every this many GetDecisions.
const LIST_EVERY_GETS: u64 = GETS_PER_SECOND;
/// At most this many calls outstanding per open-loop workload.
const MAX_OUTSTANDING: usize = 1024;
/// HTTP/2 connections for the unary Classify load and for the Decide load.
const CONNECTIONS: usize = 2;
/// Decisions remembered for retries and reads (beyond it, old ones are replaced).
const KNOWN_CAP: usize = 1 << 20;

/// Flatness: RSS may grow by max(10 MB, 20 %) and fds by 4 over the first
/// sample after the warm-up.
const RSS_SLACK_BYTES: u64 = 10_000_000;
const RSS_SLACK_SHARE: f64 = 0.2;
const FD_SLACK: usize = 4;

impl Config {
    /// The warm-up: the first 60 s, or the first 10 % of the run if that is shorter.
    pub fn warmup(&self) -> f64 {
        (self.seconds * 0.1).min(60.0)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !(positive(self.seconds)
            && positive(self.classify_rate)
            && positive(self.decide_rate)
            && positive(self.sample)
            && positive(self.stream_every))
        {
            bail!(
                "--soak, --soak-classify-rate, --soak-decide-rate, --soak-sample and --soak-stream-every must be > 0"
            );
        }
        if self.stream_specs == 0 {
            bail!("--soak-stream-specs must be at least 1");
        }
        Ok(())
    }
}

/// Calls answered so far, by kind, and the errors among them.
#[derive(Default)]
struct Counters {
    classify: AtomicU64,
    decide: AtomicU64,
    retries: AtomicU64,
    reads: AtomicU64,
    streams: AtomicU64,
    stream_specs: AtomicU64,
    errors: AtomicU64,
    mismatches: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Counters {
    /// Unary calls answered (successfully or not) plus streamed specs answered.
    fn requests(&self) -> u64 {
        [
            &self.classify,
            &self.decide,
            &self.retries,
            &self.reads,
            &self.stream_specs,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }

    fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Records `n` errors; the first few are printed to stderr as they happen.
    fn error(&self, what: &str, e: impl Display, n: u64) {
        self.errors.fetch_add(n, Ordering::Relaxed);
        let mut first = self.first_errors.lock().unwrap_or_else(|p| p.into_inner());
        if first.len() < 10 {
            let line = format!("{what}: {e}");
            eprintln!("soak: error: {line}");
            first.push(line);
        }
    }

    /// Counts one answered call of `kind`, and its error if it failed.
    fn done(&self, what: &str, kind: &AtomicU64, r: &Result<(), Status>) {
        kind.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = r {
            self.error(what, format_args!("{:?}: {}", e.code(), e.message()), 1);
        }
    }
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// splitmix64: spreads retries and reads over the decisions made so far.
fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Decisions made so far: (call number, decision name).
#[derive(Default)]
struct Known(Mutex<Vec<(u64, String)>>);

impl Known {
    fn add(&self, n: u64, name: String) {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if v.len() < KNOWN_CAP {
            v.push((n, name));
        } else {
            v[(mix64(n) % KNOWN_CAP as u64) as usize] = (n, name);
        }
    }

    fn pick(&self, seed: u64) -> Option<(u64, String)> {
        let v = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if v.is_empty() {
            return None;
        }
        Some(v[(mix64(seed) % v.len() as u64) as usize].clone())
    }
}

/// The n-th Decide of the run: a scenario shipment with its own request id.
/// The same n always gives the same request, so a retry is identical.
fn decide_request(mix: &Mix, run_id: &str, n: u64) -> pb::DecideRequest {
    let mut req = mix.decide[n as usize % mix.decide.len()].clone();
    req.request_id = format!("{run_id}-{n}");
    req
}

/// One process's resources at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    pub rss: u64,
    pub rss_anon: u64,
    pub rss_file: u64,
    pub fds: usize,
    pub threads: u64,
}

impl Reading {
    fn of(pid: u32) -> anyhow::Result<Self> {
        let s = ProcStats::read(pid)?;
        Ok(Self {
            rss: s.rss,
            rss_anon: s.rss_anon,
            rss_file: s.rss_file,
            fds: services::open_fds(pid)?,
            threads: s.threads,
        })
    }
}

/// One sample line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Seconds since the load started.
    pub t: f64,
    pub requests: u64,
    pub errors: u64,
    pub classifier: Reading,
    pub licensing: Reading,
    /// Ledger files: ledger.db, its -wal and its -shm (the WAL index), bytes.
    pub ledger: [u64; 3],
}

fn ledger_files(dir: &Path) -> [u64; 3] {
    ["ledger.db", "ledger.db-wal", "ledger.db-shm"]
        .map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len()))
}

fn print_sample_header() {
    println!(
        "{:>8} {:>11} {:>8} {:>7}   {:>10} {:>4} {:>3}   {:>22} {:>4} {:>3}   {:>24}",
        "t s",
        "requests",
        "req/s",
        "errors",
        "cls RSS MB",
        "fds",
        "thr",
        "lic RSS MB (anon+file)",
        "fds",
        "thr",
        "ledger MB db / wal / shm"
    );
}

fn print_sample(s: &Sample, rate: f64, note: &str) {
    println!(
        "{:>8.0} {:>11} {:>8.0} {:>7}   {:>10.1} {:>4} {:>3}   {:>10.1} ({:>4.1}+{:>4.1}) {:>4} {:>3}   {:>8.1} / {:>6.1} / {:>4.1}{note}",
        s.t,
        s.requests,
        rate,
        s.errors,
        mb(s.classifier.rss),
        s.classifier.fds,
        s.classifier.threads,
        mb(s.licensing.rss),
        mb(s.licensing.rss_anon),
        mb(s.licensing.rss_file),
        s.licensing.fds,
        s.licensing.threads,
        mb(s.ledger[0]),
        mb(s.ledger[1]),
        mb(s.ledger[2]),
    );
}

/// The soak's judgement on its samples.
#[derive(Debug)]
pub struct Verdict {
    /// Index of the first sample at or after the warm-up.
    pub first: usize,
    pub flat: bool,
    /// Why not flat (empty when flat).
    pub reasons: Vec<String>,
}

/// Flat: for each service, RSS last <= first + max(10 MB, 20 % of first) and
/// fds last <= first + 4, where "first" is the first sample at or after
/// `warmup` seconds and "last" the last sample; and no errors at all.
pub fn verdict(samples: &[Sample], warmup: f64, errors: u64) -> Verdict {
    let Some(last) = samples.last() else {
        return Verdict {
            first: 0,
            flat: false,
            reasons: vec!["no samples".into()],
        };
    };
    let first = samples
        .iter()
        .position(|s| s.t >= warmup)
        .unwrap_or(samples.len() - 1);
    let f = &samples[first];
    let mut reasons = Vec::new();
    for (name, a, b) in [
        ("classifier", f.classifier, last.classifier),
        ("licensing", f.licensing, last.licensing),
    ] {
        let slack = RSS_SLACK_BYTES.max((a.rss as f64 * RSS_SLACK_SHARE) as u64);
        if b.rss > a.rss + slack {
            reasons.push(format!(
                "{name} RSS grew {:.1} -> {:.1} MB (allowed +{:.1} MB)",
                mb(a.rss),
                mb(b.rss),
                mb(slack)
            ));
        }
        if b.fds > a.fds + FD_SLACK {
            reasons.push(format!(
                "{name} open fds grew {} -> {} (allowed +{FD_SLACK})",
                a.fds, b.fds
            ));
        }
    }
    if errors > 0 {
        reasons.push(format!("{errors} errors"));
    }
    Verdict {
        first,
        flat: reasons.is_empty(),
        reasons,
    }
}

/// One ClassifyStream of `n` specs (the mix, cycled) on a fresh connection:
/// (specs answered, item errors).
async fn one_stream(url: &str, mix: &Arc<Mix>, n: u64) -> anyhow::Result<(u64, u64)> {
    use tokio_stream::StreamExt;
    let channel = load::connect(url, 1).await?.remove(0);
    let items = {
        let mix = mix.clone();
        tokio_stream::iter(0..n).map(move |i| mix.classify[i as usize % mix.classify.len()].clone())
    };
    let mut responses = ClassifierServiceClient::new(channel)
        .classify_stream(items)
        .await
        .context("ClassifyStream")?
        .into_inner();
    let (mut got, mut item_errors) = (0, 0);
    while let Some(r) = responses.message().await.context("ClassifyStream")? {
        got += 1;
        if r.error.is_some() {
            item_errors += 1;
        }
    }
    Ok((got, item_errors))
}

/// ListDecisions: the newest page and the one after it, newest first; every
/// third time also the newest page of one outcome.
async fn list_pages(
    client: &mut LicensingServiceClient<Channel>,
    k: u64,
    c: &Counters,
) -> Result<(), Status> {
    let newest_first = |ds: &[pb::Decision]| ds.windows(2).all(|w| w[0].sequence > w[1].sequence);
    let page = |token: String, outcome: i32| pb::ListDecisionsRequest {
        page_size: 50,
        page_token: token,
        outcome,
        ..Default::default()
    };
    let r = client.list_decisions(page(String::new(), 0)).await;
    let first = match r {
        Ok(resp) => resp.into_inner(),
        Err(e) => {
            let r = Err(e);
            c.done("ListDecisions", &c.reads, &r);
            return r;
        }
    };
    let r = if first.decisions.is_empty() || !newest_first(&first.decisions) {
        Err(Status::internal(
            "ListDecisions: first page empty or not newest first",
        ))
    } else {
        Ok(())
    };
    c.done("ListDecisions", &c.reads, &r);
    r?;
    if !first.next_page_token.is_empty() {
        let r = client
            .list_decisions(page(first.next_page_token.clone(), 0))
            .await
            .and_then(|resp| {
                let next = resp.into_inner();
                let older = match (first.decisions.last(), next.decisions.first()) {
                    (Some(a), Some(b)) => a.sequence > b.sequence,
                    _ => true,
                };
                if older && newest_first(&next.decisions) {
                    Ok(())
                } else {
                    Err(Status::internal(
                        "ListDecisions: second page not older than the first",
                    ))
                }
            });
        c.done("ListDecisions page 2", &c.reads, &r);
        r?;
    }
    if k.is_multiple_of(3) {
        let outcome = first.decisions[0].outcome;
        let r = client
            .list_decisions(page(String::new(), outcome))
            .await
            .and_then(|resp| {
                let ds = resp.into_inner().decisions;
                if !ds.is_empty() && ds.iter().all(|d| d.outcome == outcome) {
                    Ok(())
                } else {
                    Err(Status::internal(format!(
                        "ListDecisions by outcome {outcome}: empty or another outcome"
                    )))
                }
            });
        c.done("ListDecisions by outcome", &c.reads, &r);
        r?;
    }
    Ok(())
}

fn latency_line(name: &str, rate: f64, m: &Measured) -> String {
    format!(
        "  {name:<14} @{rate:>6.0}/s: {:>8} answered, {:>3} errors; latency from scheduled start p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.1} ms",
        m.ok + m.errors,
        m.errors,
        m.ms(0.5),
        m.ms(0.99),
        m.ms(0.999),
        m.ms(1.0)
    )
}

/// Runs the soak against started services; prints the samples, a summary and,
/// as the last stdout line, the JSON object. Exits the process with status 1
/// (after printing, with the services stopped) if the run was not flat; fails
/// if a service dies or a sample cannot be read.
pub async fn run(mut svc: Services, mix: Arc<Mix>, cfg: Config) -> anyhow::Result<()> {
    cfg.validate()?;
    let warmup = cfg.warmup();
    let retry_rate = cfg.decide_rate * RETRY_SHARE;
    let counters = Arc::new(Counters::default());
    let known = Arc::new(Known::default());
    let run_id = format!(
        "soak-{}-{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let timing = Timing {
        warmup: Duration::ZERO,
        duration: Duration::from_secs_f64(cfg.seconds),
    };
    let classifier_url = svc.classifier.url();
    let cls_channels = load::connect(&classifier_url, CONNECTIONS).await?;
    let lic_channels = load::connect(&svc.licensing.url(), CONNECTIONS).await?;
    let read_channel = load::connect(&svc.licensing.url(), 1).await?.remove(0);
    println!(
        "soak: {:.0} s of mixed load, all at once: Classify {:.0}/s and Decide {:.0}/s (fresh request ids) open loop, Decide retries of earlier request ids {:.0}/s, a ClassifyStream of {} specs every {:.0} s, GetDecision {GETS_PER_SECOND}/s, ListDecisions pages every {:.0} s",
        cfg.seconds,
        cfg.classify_rate,
        cfg.decide_rate,
        retry_rate,
        cfg.stream_specs,
        cfg.stream_every,
        LIST_EVERY_GETS as f64 / GETS_PER_SECOND as f64,
    );
    println!(
        "soak: a sample every {:.0} s; warm-up {warmup:.0} s (the first 60 s, or 10 % of the run if shorter); flat = RSS last <= first + max(10 MB, 20 %), fds last <= first + {FD_SLACK}, no errors",
        cfg.sample
    );
    print_sample_header();

    let busy_before = services::machine_busy_seconds();
    let ours_before = crate::our_cpu_seconds(&svc);
    let t0 = Instant::now();
    let deadline = t0 + timing.duration;
    let mut tasks: tokio::task::JoinSet<Option<(&'static str, f64, Measured)>> =
        tokio::task::JoinSet::new();

    // Unary Classify, open loop.
    {
        let (mix, c) = (mix.clone(), counters.clone());
        let call = move |ch: Channel, n: u64| {
            let req = mix.classify[n as usize % mix.classify.len()].clone();
            let c = c.clone();
            async move {
                let r = ClassifierServiceClient::new(ch)
                    .classify(req)
                    .await
                    .map(drop);
                c.done("Classify", &c.classify, &r);
                r
            }
        };
        let (channels, rate) = (cls_channels.clone(), cfg.classify_rate);
        tasks.spawn(async move {
            let m = load::open_loop(&channels, rate, MAX_OUTSTANDING, timing, &[], call).await;
            Some(("classify", rate, m))
        });
    }
    // Decide with fresh request ids, open loop.
    {
        let (mix, c, known, run_id) =
            (mix.clone(), counters.clone(), known.clone(), run_id.clone());
        let call = move |ch: Channel, n: u64| {
            let req = decide_request(&mix, &run_id, n);
            let (c, known) = (c.clone(), known.clone());
            async move {
                let r = async {
                    let d = LicensingServiceClient::new(ch)
                        .decide(req)
                        .await?
                        .into_inner()
                        .decision
                        .ok_or_else(|| Status::internal("Decide answered no decision"))?;
                    if d.sequence <= 0 {
                        return Err(Status::internal("decision without a ledger sequence"));
                    }
                    known.add(n, d.name);
                    Ok(())
                }
                .await;
                c.done("Decide", &c.decide, &r);
                r
            }
        };
        let (channels, rate) = (lic_channels.clone(), cfg.decide_rate);
        tasks.spawn(async move {
            let m = load::open_loop(&channels, rate, MAX_OUTSTANDING, timing, &[], call).await;
            Some(("decide", rate, m))
        });
    }
    // Retries of earlier request ids: the same request must get the same decision.
    {
        let (mix, c, known, run_id) =
            (mix.clone(), counters.clone(), known.clone(), run_id.clone());
        let call = move |ch: Channel, m: u64| {
            let picked = known
                .pick(m ^ 0x0072_6574_7279)
                .map(|(n, want)| (n, decide_request(&mix, &run_id, n), want));
            let c = c.clone();
            async move {
                // Nothing decided yet (the first milliseconds): nothing to retry.
                let Some((n, req, want)) = picked else {
                    return Ok(());
                };
                let r = async {
                    let d = LicensingServiceClient::new(ch)
                        .decide(req)
                        .await?
                        .into_inner()
                        .decision
                        .ok_or_else(|| Status::internal("Decide answered no decision"))?;
                    if d.name != want {
                        c.mismatches.fetch_add(1, Ordering::Relaxed);
                        return Err(Status::internal(format!(
                            "retry of call {n} answered {} but the first call got {want}",
                            d.name
                        )));
                    }
                    Ok(())
                }
                .await;
                c.done("Decide retry", &c.retries, &r);
                r
            }
        };
        let channels = lic_channels.clone();
        tasks.spawn(async move {
            let m =
                load::open_loop(&channels, retry_rate, MAX_OUTSTANDING, timing, &[], call).await;
            Some(("decide retry", retry_rate, m))
        });
    }
    // A ClassifyStream on a fresh connection every `stream_every` seconds.
    {
        let (mix, c, url) = (mix.clone(), counters.clone(), classifier_url.clone());
        let (n, every) = (cfg.stream_specs, Duration::from_secs_f64(cfg.stream_every));
        tasks.spawn(async move {
            let mut next = Instant::now();
            while next < deadline {
                tokio::time::sleep_until(next).await;
                match one_stream(&url, &mix, n).await {
                    Ok((got, item_errors)) => {
                        c.stream_specs.fetch_add(got, Ordering::Relaxed);
                        c.streams.fetch_add(1, Ordering::Relaxed);
                        if got != n {
                            c.error("ClassifyStream", format!("answered {got} of {n} specs"), 1);
                        }
                        if item_errors > 0 {
                            c.error(
                                "ClassifyStream",
                                format!("{item_errors} item errors"),
                                item_errors,
                            );
                        }
                    }
                    Err(e) => c.error("ClassifyStream", format!("{e:#}"), 1),
                }
                // A stream that overran its slot is followed at once, not twice.
                next = (next + every).max(Instant::now());
            }
            None
        });
    }
    // Reads: GetDecision of a decision made earlier, ListDecisions pages.
    {
        let (c, known, run_id) = (counters.clone(), known.clone(), run_id.clone());
        let mut client = LicensingServiceClient::new(read_channel);
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(1000 / GETS_PER_SECOND));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for k in 0u64.. {
                tick.tick().await;
                if Instant::now() >= deadline {
                    break;
                }
                if let Some((n, name)) = known.pick(k ^ 0x7265_6164) {
                    let r = client
                        .get_decision(pb::GetDecisionRequest { name: name.clone() })
                        .await
                        .and_then(|resp| match resp.into_inner().decision {
                            Some(d)
                                if d.name == name && d.request_id == format!("{run_id}-{n}") =>
                            {
                                Ok(())
                            }
                            other => Err(Status::internal(format!(
                                "GetDecision {name} answered {:?}",
                                other.map(|d| (d.name, d.request_id))
                            ))),
                        });
                    c.done("GetDecision", &c.reads, &r);
                }
                if k % LIST_EVERY_GETS == LIST_EVERY_GETS - 1 {
                    // Errors are counted inside.
                    let _ = list_pages(&mut client, k / LIST_EVERY_GETS, &c).await;
                }
            }
            None
        });
    }

    let take = |svc: &Services, at: Instant| -> anyhow::Result<Sample> {
        Ok(Sample {
            t: (at - t0).as_secs_f64(),
            requests: counters.requests(),
            errors: counters.errors(),
            classifier: Reading::of(svc.classifier.pid())?,
            licensing: Reading::of(svc.licensing.pid())?,
            ledger: ledger_files(&svc.scratch.path),
        })
    };
    let mut samples = vec![take(&svc, t0)?];
    print_sample(&samples[0], 0.0, "  (load starting)");
    let period = Duration::from_secs_f64(cfg.sample);
    let mut marked = false;
    for k in 1u32.. {
        let at = (t0 + period * k).min(deadline);
        tokio::time::sleep_until(at).await;
        svc.check_alive()?;
        let s = take(&svc, at)?;
        let prev = samples.last().copied().unwrap_or_default();
        let rate = (s.requests - prev.requests) as f64 / (s.t - prev.t).max(1e-9);
        let note = if !marked && s.t >= warmup {
            marked = true;
            "  <- first after the warm-up"
        } else {
            ""
        };
        print_sample(&s, rate, note);
        samples.push(s);
        if at >= deadline {
            break;
        }
    }

    // The load stops scheduling at the deadline; wait for what is in flight.
    let mut measured = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Some(m) = joined.context("a soak load task panicked")? {
            measured.push(m);
        }
    }
    // In the order they were started, not the order they finished.
    measured.sort_by_key(|(name, _, _)| {
        ["classify", "decide", "decide retry"]
            .iter()
            .position(|n| n == name)
    });
    svc.check_alive()?;
    let elapsed = t0.elapsed().as_secs_f64();
    let other = ((services::machine_busy_seconds() - busy_before)
        - (crate::our_cpu_seconds(&svc) - ours_before))
        .max(0.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let other_pct = other / (elapsed * cores) * 100.0;
    let peak = |s: anyhow::Result<ProcStats>| s.map_or(0, |s| s.peak_rss);
    let (cls_hwm, lic_hwm) = (peak(svc.classifier.stats()), peak(svc.licensing.stats()));
    let ledger = ledger_files(&svc.scratch.path);
    drop(svc);

    let c = &counters;
    let errors = c.errors();
    let requests = c.requests();
    let v = verdict(&samples, warmup, errors);
    let (first, last) = (&samples[v.first], samples.last().expect("samples"));
    let max_rss = |f: fn(&Sample) -> Reading| samples.iter().map(|s| f(s).rss).max().unwrap_or(0);
    let max_fds = |f: fn(&Sample) -> Reading| samples.iter().map(|s| f(s).fds).max().unwrap_or(0);
    let cls_max = max_rss(|s| s.classifier);
    let lic_max = max_rss(|s| s.licensing);

    println!(
        "soak summary: {:.0} s, {requests} requests ({} Classify, {} Decide, {} Decide retries ({} mismatches), {} reads, {} ClassifyStreams with {} specs), {errors} errors",
        cfg.seconds,
        get(&c.classify),
        get(&c.decide),
        get(&c.retries),
        get(&c.mismatches),
        get(&c.reads),
        get(&c.streams),
        get(&c.stream_specs),
    );
    for (name, rate, m) in &measured {
        println!("{}", latency_line(name, *rate, m));
    }
    for (name, f, hwm) in [
        (
            "classifier",
            (|s: &Sample| s.classifier) as fn(&Sample) -> Reading,
            cls_hwm,
        ),
        ("licensing", |s: &Sample| s.licensing, lic_hwm),
    ] {
        let (a, b) = (f(first), f(last));
        println!(
            "  {name:<10} RSS MB first {:.1} (anon {:.1} + file {:.1}, at {:.0} s), last {:.1} (anon {:.1} + file {:.1}), max {:.1} (VmHWM {:.1}); fds first {}, last {}, max {}; threads first {}, last {}",
            mb(a.rss),
            mb(a.rss_anon),
            mb(a.rss_file),
            first.t,
            mb(b.rss),
            mb(b.rss_anon),
            mb(b.rss_file),
            mb(max_rss(f)),
            mb(hwm),
            a.fds,
            b.fds,
            max_fds(f),
            a.threads,
            b.threads,
        );
    }
    println!(
        "  ledger at the end: ledger.db {:.1} MB, -wal {:.1} MB, -shm {:.1} MB; -wal at the first sample after the warm-up {:.1} MB",
        mb(ledger[0]),
        mb(ledger[1]),
        mb(ledger[2]),
        mb(first.ledger[1]),
    );
    println!(
        "  other processes (and steal) used {other:.1} CPU-seconds during the soak ({other_pct:.0}% of the machine)"
    );
    {
        let first_errors = c.first_errors.lock().unwrap_or_else(|p| p.into_inner());
        for e in first_errors.iter() {
            println!("  error: {e}");
        }
    }
    if v.flat {
        println!("soak: FLAT");
    } else {
        println!("soak: NOT FLAT: {}", v.reasons.join("; "));
    }
    let p99 = |name: &str| {
        measured
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, m)| m.ms(0.99))
    };
    let r1 = |x: u64| num(Some(mb(x)), 1);
    println!(
        "{{\"soak_seconds\":{},\"warmup_seconds\":{},\"requests\":{requests},\"errors\":{errors},\"classify_calls\":{},\"decide_calls\":{},\"decide_retries\":{},\"retry_mismatches\":{},\"reads\":{},\"stream_specs\":{},\"classify_p99_ms\":{},\"decide_p99_ms\":{},\"classifier_rss_mb_first\":{},\"classifier_rss_mb_last\":{},\"classifier_rss_mb_max\":{},\"licensing_rss_mb_first\":{},\"licensing_rss_mb_last\":{},\"licensing_rss_mb_max\":{},\"classifier_fds_first\":{},\"classifier_fds_last\":{},\"licensing_fds_first\":{},\"licensing_fds_last\":{},\"ledger_db_mb\":{},\"ledger_wal_mb\":{},\"other_load_pct\":{},\"flat\":{}}}",
        num(Some(cfg.seconds), 0),
        num(Some(warmup), 0),
        get(&c.classify),
        get(&c.decide),
        get(&c.retries),
        get(&c.mismatches),
        get(&c.reads),
        get(&c.stream_specs),
        num(p99("classify"), 3),
        num(p99("decide"), 3),
        r1(first.classifier.rss),
        r1(last.classifier.rss),
        r1(cls_max),
        r1(first.licensing.rss),
        r1(last.licensing.rss),
        r1(lic_max),
        first.classifier.fds,
        last.classifier.fds,
        first.licensing.fds,
        last.licensing.fds,
        r1(ledger[0]),
        r1(ledger[1]),
        num(Some(other_pct), 1),
        v.flat,
    );
    if !v.flat {
        // Everything is printed and the services are stopped: exit 1 without
        // an error (and, with RUST_BACKTRACE set, a backtrace) after the JSON.
        use std::io::Write;
        let _ = std::io::stdout().flush();
        eprintln!("soak not flat: {}", v.reasons.join("; "));
        std::process::exit(1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, cls_mb: f64, cls_fds: usize, lic_mb: f64, lic_fds: usize) -> Sample {
        let r = |m: f64, fds| Reading {
            rss: (m * 1e6) as u64,
            fds,
            threads: 4,
            ..Default::default()
        };
        Sample {
            t,
            classifier: r(cls_mb, cls_fds),
            licensing: r(lic_mb, lic_fds),
            ..Default::default()
        }
    }

    #[test]
    fn warmup_is_60_s_or_a_tenth() {
        let cfg = |seconds| Config {
            seconds,
            classify_rate: 1.0,
            decide_rate: 1.0,
            sample: 10.0,
            stream_specs: 1,
            stream_every: 15.0,
        };
        assert_eq!(cfg(600.0).warmup(), 60.0);
        assert_eq!(cfg(3600.0).warmup(), 60.0);
        assert_eq!(cfg(90.0).warmup(), 9.0);
    }

    #[test]
    fn first_is_the_first_sample_after_the_warmup() {
        // Warm-up growth (10 -> 40 MB) does not count; after it, +5 MB on 40 is flat.
        let s = [
            sample(0.0, 10.0, 10, 10.0, 12),
            sample(30.0, 40.0, 20, 40.0, 20),
            sample(60.0, 40.0, 20, 40.0, 20),
            sample(90.0, 45.0, 24, 47.9, 24),
        ];
        let v = verdict(&s, 60.0, 0);
        assert_eq!(v.first, 2);
        assert!(v.flat, "{:?}", v.reasons);
    }

    #[test]
    fn growth_beyond_the_slack_or_errors_are_not_flat() {
        let base = sample(60.0, 12.0, 20, 100.0, 20);
        // 12 MB + max(10 MB, 2.4 MB) = 22 MB allowed; 100 MB + 20 MB = 120 MB allowed.
        let v = verdict(&[base, sample(600.0, 22.5, 20, 100.0, 20)], 60.0, 0);
        assert!(!v.flat);
        assert!(v.reasons[0].contains("classifier RSS"), "{:?}", v.reasons);
        let v = verdict(&[base, sample(600.0, 22.0, 20, 120.0, 20)], 60.0, 0);
        assert!(v.flat, "{:?}", v.reasons);
        let v = verdict(&[base, sample(600.0, 12.0, 20, 121.0, 20)], 60.0, 0);
        assert!(!v.flat);
        let v = verdict(&[base, sample(600.0, 12.0, 25, 100.0, 24)], 60.0, 0);
        assert_eq!(v.reasons.len(), 1, "{:?}", v.reasons);
        assert!(v.reasons[0].contains("classifier open fds"));
        let v = verdict(&[base, base], 60.0, 1);
        assert!(!v.flat);
        assert!(!verdict(&[], 60.0, 0).flat);
    }

    #[test]
    fn a_retry_is_the_same_request() {
        let mix = crate::corpus::load().unwrap();
        let a = decide_request(&mix, "run", 7);
        assert_eq!(a, decide_request(&mix, "run", 7));
        assert_ne!(a.request_id, decide_request(&mix, "run", 8).request_id);
        let known = Known::default();
        assert!(known.pick(1).is_none());
        known.add(3, "decisions/x".into());
        assert_eq!(known.pick(99), Some((3, "decisions/x".into())));
    }
}
