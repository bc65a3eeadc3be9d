//! `exportctl-bench`: the exportctl load tool.
//!
//! Starts the release `classifier` (with the Echo baseline RPC) and
//! `licensing` binaries on free loopback ports with a temporary SQLite ledger,
//! drives them with a tonic client (N connections × M calls in flight, a
//! warm-up, then a fixed measured window) and reports throughput, latency
//! percentiles (HDR histogram), server CPU time per call and peak RSS. Before
//! the services start it measures party screening in process (list load and
//! index, per-name screening time). The last line of stdout is one JSON object
//! with the headline figures. The method is described in BENCHMARKS.md.

mod corpus;
mod load;
mod screen;
mod services;
mod soak;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use exportctl_proto::classifier as cpb;
use exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient;
use exportctl_proto::licensing::licensing_service_client::LicensingServiceClient;
use prost::Message;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use exportctl_screening::budget;

use crate::load::{Measured, Timing, Watched};
use crate::services::{ProcStats, Scratch, Services};

/// Load tool for the exportctl services: echo baseline, Classify, Decide and
/// ClassifyStream, against release binaries it starts itself.
#[derive(Debug, Parser)]
#[command(name = "exportctl-bench", version)]
struct Args {
    /// Short run (about 40 s in all): 1 s warm-up and 4 s measured per
    /// workload; still 1,000,000 specs through ClassifyStream.
    #[arg(long)]
    quick: bool,
    /// Directory holding the `classifier` and `licensing` binaries; by default
    /// they are built with `cargo build --release` in this workspace.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// HTTP/2 connections per workload.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Calls in flight per connection.
    #[arg(long, default_value_t = 8)]
    in_flight: usize,
    /// Warm-up per workload, seconds (default 3, with --quick 1).
    #[arg(long)]
    warmup: Option<f64>,
    /// Measured window per workload, seconds (default 15, with --quick 4).
    #[arg(long)]
    duration: Option<f64>,
    /// Echo and Classify alternate in this many rounds, each a slice of the
    /// window, so drift on the machine affects both alike.
    #[arg(long, default_value_t = 4)]
    rounds: usize,
    /// Specs sent through one ClassifyStream.
    #[arg(long, default_value_t = 1_000_000)]
    stream_specs: u64,
    /// Rate of the open-loop Decide run whose p99 is judged, per second
    /// (default: 2,500, half the budget's 5,000 decisions/s; when half the
    /// measured maximum is higher, a second run at that rate is shown too).
    #[arg(long)]
    decide_rate: Option<f64>,
    /// Workloads to run, comma-separated: screen (in process, no service),
    /// echo, classify, decide, stream.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "screen,echo,classify,decide,stream"
    )]
    workloads: Vec<Workload>,
    /// A screening list file (the Consolidated Screening List download, JSON
    /// or CSV) the licensing service loads and the in-process screening
    /// figures are measured against; repeatable (the variable takes a
    /// comma-separated list). Without it the service loads the small
    /// hand-written fixture and the in-process figures use a synthetic list
    /// of the full list's size.
    #[arg(
        long = "screening-list",
        value_name = "PATH",
        env = "EXPORTCTL_BENCH_SCREENING_LIST",
        value_delimiter = ','
    )]
    screening_lists: Vec<PathBuf>,
    /// Where the temporary directory with the ledger and the service logs is
    /// made (the ledger's file system decides what a durable write costs).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    scratch_dir: PathBuf,
    /// Keep the temporary directory (ledger, service logs) after the run.
    #[arg(long)]
    keep_scratch: bool,
    /// RUST_LOG filter for the services (their default is info).
    #[arg(long, default_value = "info")]
    service_log: String,
    /// Soak instead of the benchmark: this many seconds of mixed load at
    /// moderate rates, sampling the services' RSS and open fds; exits non-zero
    /// unless they stay flat and no call fails (see BENCHMARKS.md).
    #[arg(long, value_name = "SECONDS")]
    soak: Option<f64>,
    /// Soak: unary Classify calls per second (open loop).
    #[arg(long, default_value_t = 1000.0)]
    soak_classify_rate: f64,
    /// Soak: Decide calls per second with fresh request ids (open loop); retries
    /// of earlier request ids come on top at a tenth of this.
    #[arg(long, default_value_t = 300.0)]
    soak_decide_rate: f64,
    /// Soak: seconds between samples.
    #[arg(long, default_value_t = 10.0)]
    soak_sample: f64,
    /// Soak: specs per ClassifyStream.
    #[arg(long, default_value_t = 20_000)]
    soak_stream_specs: u64,
    /// Soak: seconds between ClassifyStream starts.
    #[arg(long, default_value_t = 15.0)]
    soak_stream_every: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    Screen,
    Echo,
    Classify,
    Decide,
    Stream,
}

#[derive(Default)]
struct Summary {
    echo_rps: Option<f64>,
    classify_rps: Option<f64>,
    classify_p99_ms: Option<f64>,
    decide_rps: Option<f64>,
    decide_half_rate: Option<f64>,
    decide_p99_ms: Option<f64>,
    bulk_specs_per_s: Option<f64>,
    bulk_seconds: Option<f64>,
    classifier_rss: u64,
    licensing_rss: u64,
    /// A real screening list was given: the licensing RSS budget is the one
    /// with the list loaded.
    with_list: bool,
    screening: Option<screen::Figures>,
}

/// The hand-written fixture list the licensing service loads when no
/// `--screening-list` is given, so that Decide screens against a list (and
/// US-EAR shipments are not INDETERMINATE for the want of one).
const FIXTURE_LIST: &[u8] = include_bytes!("../../screening/tests/fixtures/csl-small.json");

/// Licensing peak RSS budgets, MB: without and with the full screening list.
const RSS_BUDGET_MB: f64 = 100.0;
const RSS_WITH_LIST_BUDGET_MB: f64 = 150.0;

/// The budget's "half that load": half of 5,000 decisions/s.
const BUDGET_HALF_RATE: f64 = 2500.0;

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// A JSON number with `places` decimals, or null.
fn num(x: Option<f64>, places: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.places$}"),
        _ => "null".into(),
    }
}

// Many small, short-lived allocations per call (protobuf strings) and frees on other threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        tokio::select! {
            r = run(args) => r,
            _ = tokio::signal::ctrl_c() => bail!("interrupted"),
        }
    })
}

const HEADER: &str = "workload            conns×inflight   calls/s   p50 ms   p99 ms p99.9 ms   server CPU µs/call (client)         peak RSS MB";

fn row(name: &str, shape: &str, m: &Measured, cpu: &str, rss: &str) {
    println!(
        "{name:<19} {shape:<14} {:>9.0} {:>8.3} {:>8.3} {:>8.3}   {cpu:<35} {rss}",
        m.rps(),
        m.ms(0.5),
        m.ms(0.99),
        m.ms(0.999),
    );
}

fn report_errors(name: &str, m: &Measured) -> anyhow::Result<()> {
    if m.errors > 0 {
        eprintln!(
            "warning: {name}: {} calls failed (first: {})",
            m.errors,
            m.first_error.as_deref().unwrap_or("?")
        );
    }
    if m.ok == 0 {
        bail!(
            "{name}: no call succeeded in the window ({} errors, first: {})",
            m.errors,
            m.first_error.as_deref().unwrap_or("none")
        );
    }
    Ok(())
}

fn peak_rss(svc: &Services) -> (u64, u64) {
    (
        svc.classifier.stats().map_or(0, |s| s.peak_rss),
        svc.licensing.stats().map_or(0, |s| s.peak_rss),
    )
}

async fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let (warmup, duration) = if args.quick { (1.0, 4.0) } else { (3.0, 15.0) };
    let (warmup, duration) = (
        args.warmup.unwrap_or(warmup),
        args.duration.unwrap_or(duration),
    );
    if !(warmup.is_finite() && warmup >= 0.0 && duration.is_finite() && duration > 0.0) {
        bail!("--warmup must be >= 0 and --duration > 0 seconds");
    }
    let timing = Timing {
        warmup: Duration::from_secs_f64(warmup),
        duration: Duration::from_secs_f64(duration),
    };
    if args.connections == 0 || args.in_flight == 0 || args.rounds == 0 {
        bail!("--connections, --in-flight and --rounds must be at least 1");
    }
    let soak_cfg = args.soak.map(|seconds| soak::Config {
        seconds,
        classify_rate: args.soak_classify_rate,
        decide_rate: args.soak_decide_rate,
        sample: args.soak_sample,
        stream_specs: args.soak_stream_specs,
        stream_every: args.soak_stream_every,
    });
    if let Some(cfg) = &soak_cfg {
        cfg.validate()?;
    }
    let mix = Arc::new(corpus::load()?);
    let payload_len = mix.mean_classify_bytes();

    let build_started = Instant::now();
    let bin_dir = match &args.bin_dir {
        Some(d) => d.clone(),
        None => {
            let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .context("workspace root")?
                .to_path_buf();
            services::build_release(&workspace)?
        }
    };
    let build_seconds = build_started.elapsed().as_secs_f64();
    for path in &args.screening_lists {
        if !path.is_file() {
            bail!("--screening-list {}: no such file", path.display());
        }
    }
    let mut sum = Summary {
        with_list: !args.screening_lists.is_empty(),
        ..Summary::default()
    };
    // In process, before the services start, so nothing of ours competes.
    if soak_cfg.is_none() && args.workloads.contains(&Workload::Screen) {
        let lists = args.screening_lists.clone();
        let figures = tokio::task::spawn_blocking(move || screen::measure(&lists)).await??;
        figures.print();
        sum.screening = Some(figures);
    }
    let scratch = Scratch::new(&args.scratch_dir, args.keep_scratch)?;
    let disk = services::fsync_probe(&scratch.path)?;
    let service_lists = if args.screening_lists.is_empty() {
        let fixture = scratch.path.join("csl-small.json");
        std::fs::write(&fixture, FIXTURE_LIST)
            .with_context(|| format!("writing {}", fixture.display()))?;
        vec![fixture]
    } else {
        args.screening_lists.clone()
    };
    let mut svc = Services::start(&bin_dir, scratch, &args.service_log, &service_lists).await?;
    let classifier_pid = Watched {
        pid: Some(svc.classifier.pid()),
    };
    let licensing_pid = Watched {
        pid: Some(svc.licensing.pid()),
    };
    let client_pid = Watched { pid: None };
    let busy_since = Instant::now();
    let busy_before = services::machine_busy_seconds();
    let ours_before = our_cpu_seconds(&svc);
    let (conns, inflight) = (args.connections, args.in_flight);
    let shape = format!("{conns}×{inflight}");

    println!(
        "exportctl-bench: classifier pid {} on {}, licensing pid {} on {}, ledger {}/ledger.db",
        svc.classifier.pid(),
        svc.classifier.addr,
        svc.licensing.pid(),
        svc.licensing.addr,
        svc.scratch.path.display()
    );
    println!(
        "machine: {} cores, {}, {:.1} GB RAM; ledger disk: 4 KiB append + fdatasync p50 {:.3} ms, p99 {:.3} ms",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        mem_total_gb(),
        disk.0,
        disk.1
    );
    println!(
        "licensing screening list: {}",
        if sum.with_list {
            screening_list_label(&args.screening_lists)
        } else {
            "fixture (screening/tests/fixtures/csl-small.json, 10 entries)".into()
        }
    );
    let sizes = precheck(&svc, &mix).await?;
    if let Some(cfg) = soak_cfg {
        return soak::run(svc, mix, cfg).await;
    }
    println!(
        "load: warm-up {:?}, window {:?} per workload (echo and classify interleaved in {} rounds); {} classify specs and {} decide shipments from the scenario corpus",
        timing.warmup,
        timing.duration,
        args.rounds,
        mix.classify.len(),
        mix.decide.len(),
    );
    println!(
        "mean message sizes: Classify request {payload_len} B (= Echo payload, Echo response {payload_len} B), Classify response {} B; Decide request {} B, response {} B",
        sizes.classify_response, sizes.decide_request, sizes.decide_response
    );
    println!("{HEADER}");

    let do_echo = args.workloads.contains(&Workload::Echo);
    let do_classify = args.workloads.contains(&Workload::Classify);
    if do_echo || do_classify {
        let channels = load::connect(&svc.classifier.url(), conns).await?;
        let payload = vec![0x5a_u8; payload_len];
        let rounds = args.rounds as u32;
        let per_round = timing.duration / rounds;
        let mut echo: Option<Measured> = None;
        let mut classify: Option<Measured> = None;
        let watched = [classifier_pid, client_pid];
        for round in 0..rounds {
            let t = Timing {
                warmup: if round == 0 {
                    timing.warmup
                } else {
                    timing.warmup.min(Duration::from_millis(250))
                },
                duration: per_round,
            };
            if do_echo {
                let payload = payload.clone();
                let m = load::closed_loop(&channels, inflight, t, &watched, move |ch, _| {
                    let payload = payload.clone();
                    async move {
                        ClassifierServiceClient::new(ch)
                            .echo(cpb::EchoRequest { payload })
                            .await
                            .map(drop)
                    }
                })
                .await;
                match &mut echo {
                    Some(e) => e.merge(m),
                    None => echo = Some(m),
                }
            }
            if do_classify {
                let mix = mix.clone();
                let m = load::closed_loop(&channels, inflight, t, &watched, move |ch, n| {
                    let req = mix.classify[n as usize % mix.classify.len()].clone();
                    async move {
                        ClassifierServiceClient::new(ch)
                            .classify(req)
                            .await
                            .map(drop)
                    }
                })
                .await;
                match &mut classify {
                    Some(c) => c.merge(m),
                    None => classify = Some(m),
                }
            }
            svc.check_alive()?;
        }
        let (c, _) = peak_rss(&svc);
        for (name, m) in [("echo", &echo), ("classify", &classify)] {
            let Some(m) = m else { continue };
            report_errors(name, m)?;
            row(
                name,
                &shape,
                m,
                &format!(
                    "classifier {:.1} (client {:.1})",
                    m.cpu_us_per_call(0),
                    m.cpu_us_per_call(1)
                ),
                &format!("classifier {:.1}", mb(c)),
            );
        }
        sum.echo_rps = echo.as_ref().map(Measured::rps);
        sum.classify_rps = classify.as_ref().map(Measured::rps);
        sum.classify_p99_ms = classify.as_ref().map(|m| m.ms(0.99));
    }

    if args.workloads.contains(&Workload::Decide) {
        let channels = load::connect(&svc.licensing.url(), conns).await?;
        let run_id = format!(
            "bench-{}-{:x}",
            std::process::id(),
            started.elapsed().as_nanos()
        );
        let decide_call = {
            let mix = mix.clone();
            move |tag: &'static str| {
                let mix = mix.clone();
                let run_id = run_id.clone();
                move |ch: Channel, n: u64| {
                    let mut req = mix.decide[n as usize % mix.decide.len()].clone();
                    req.request_id = format!("{run_id}-{tag}-{n}");
                    async move {
                        let resp = LicensingServiceClient::new(ch).decide(req).await?;
                        match resp.into_inner().decision {
                            Some(d) if d.sequence > 0 => Ok(()),
                            _ => Err(tonic::Status::internal(
                                "decision without a ledger sequence",
                            )),
                        }
                    }
                }
            }
        };
        let watched = [licensing_pid, classifier_pid, client_pid];
        let cpu = |m: &Measured| {
            format!(
                "lic {:.0} + cls {:.0} (client {:.0})",
                m.cpu_us_per_call(0),
                m.cpu_us_per_call(1),
                m.cpu_us_per_call(2)
            )
        };
        let max =
            load::closed_loop(&channels, inflight, timing, &watched, decide_call("max")).await;
        report_errors("decide", &max)?;
        svc.check_alive()?;
        let (c, l) = peak_rss(&svc);
        row(
            "decide (max)",
            &shape,
            &max,
            &cpu(&max),
            &format!("lic {:.1} cls {:.1}", mb(l), mb(c)),
        );
        // The judged run at the budget's half load; then, when half the
        // measured maximum is more than that, a run there too: shown, not judged.
        let rate = args.decide_rate.unwrap_or(BUDGET_HALF_RATE).max(1.0);
        let mut rates = vec![(rate, "half")];
        let half_max = max.rps() / 2.0;
        if args.decide_rate.is_none() && half_max > rate * 1.05 {
            rates.push((half_max, "halfmax"));
        }
        let outstanding = (conns * inflight * 64).max(1024);
        for (i, (r, tag)) in rates.into_iter().enumerate() {
            let m = load::open_loop(
                &channels,
                r,
                outstanding,
                timing,
                &watched,
                decide_call(tag),
            )
            .await;
            report_errors("decide at a fixed rate", &m)?;
            svc.check_alive()?;
            let (c, l) = peak_rss(&svc);
            row(
                &format!("decide @{r:.0}/s"),
                "open loop",
                &m,
                &cpu(&m),
                &format!("lic {:.1} cls {:.1}", mb(l), mb(c)),
            );
            if i == 0 {
                sum.decide_p99_ms = Some(m.ms(0.99));
            }
        }
        sum.decide_rps = Some(max.rps());
        sum.decide_half_rate = Some(rate);
    }

    if args.workloads.contains(&Workload::Stream) {
        let s = stream(&svc, &mix, args.stream_specs, classifier_pid).await?;
        svc.check_alive()?;
        let (c, _) = peak_rss(&svc);
        println!(
            "{:<19} {:<14} {:>9.0} specs/s: {} specs in {:.2} s, {} item errors; CPU µs/spec classifier {:.2} (client {:.2}); peak RSS classifier {:.1} MB",
            "stream",
            "1 stream",
            s.specs_per_s,
            args.stream_specs,
            s.seconds,
            s.errors,
            s.classifier_us,
            s.client_us,
            mb(c)
        );
        sum.bulk_specs_per_s = Some(s.specs_per_s);
        sum.bulk_seconds = Some(s.seconds * 1e6 / args.stream_specs.max(1) as f64);
    }

    let (c, l) = peak_rss(&svc);
    sum.classifier_rss = c;
    sum.licensing_rss = l;
    let ratio = match (sum.classify_rps, sum.echo_rps) {
        (Some(c), Some(e)) if e > 0.0 => Some(c / e),
        _ => None,
    };
    println!(
        "peak RSS (VmHWM over the whole run): classifier {:.1} MB, licensing {:.1} MB; run took {:.1} s (+ {:.1} s cargo build)",
        mb(c),
        mb(l),
        started.elapsed().as_secs_f64() - build_seconds,
        build_seconds
    );
    // Tick rounding can make a quiet machine's difference slightly negative.
    let other = ((services::machine_busy_seconds() - busy_before)
        - (our_cpu_seconds(&svc) - ours_before))
        .max(0.0);
    let elapsed = busy_since.elapsed().as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "other processes (and steal) used {other:.1} CPU-seconds during the run ({:.0}% of the machine)",
        other / (elapsed * cores) * 100.0
    );
    if other > 0.05 * elapsed * cores {
        println!(
            "WARNING: the machine was not idle; these figures understate the services. Rerun on a quiet machine."
        );
    }
    budget(&sum, ratio);
    drop(svc);
    let scr = sum.screening.as_ref();
    let screening_list = if sum.with_list {
        screening_list_label(&args.screening_lists)
    } else {
        "fixture".into()
    };
    println!(
        "{{\"echo_rps\":{},\"classify_rps\":{},\"classify_echo_ratio\":{},\"classify_p99_ms\":{},\"decide_rps\":{},\"decide_p99_ms\":{},\"bulk_specs_per_s\":{},\"classifier_rss_mb\":{},\"licensing_rss_mb\":{},\"screening_list\":{},\"screening_source\":{},\"screening_load_ms\":{},\"screen_p50_us\":{},\"screen_p99_us\":{}}}",
        num(sum.echo_rps, 0),
        num(sum.classify_rps, 0),
        num(ratio, 3),
        num(sum.classify_p99_ms, 3),
        num(sum.decide_rps, 0),
        num(sum.decide_p99_ms, 3),
        num(sum.bulk_specs_per_s, 0),
        num(Some(mb(sum.classifier_rss)), 1),
        num(Some(mb(sum.licensing_rss)), 1),
        serde_json::Value::String(screening_list),
        scr.map_or("null".into(), |f| format!("\"{}\"", f.source.as_str())),
        num(scr.map(|f| f.load_ms), 0),
        num(scr.map(|f| f.p50_us), 1),
        num(scr.map(|f| f.p99_us), 1),
    );
    Ok(())
}

/// The `--screening-list` paths as given, comma-separated.
fn screening_list_label(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The DESIGN.md performance budget next to what this run measured.
fn budget(sum: &Summary, ratio: Option<f64>) {
    let verdict = |ok: Option<bool>| match ok {
        Some(true) => "met",
        Some(false) => "NOT MET",
        None => "not run",
    };
    println!("budget (DESIGN.md, 2-core machine, loopback):");
    println!(
        "  Classify / echo throughput   {:>12}   budget >= 0.70            {}",
        num(ratio, 3),
        verdict(ratio.map(|r| r >= 0.7))
    );
    println!(
        "  Decide, decisions/s          {:>12}   budget >= 5000            {}",
        num(sum.decide_rps, 0),
        verdict(sum.decide_rps.map(|r| r >= 5000.0))
    );
    println!(
        "  Decide p99 at {:>6}/s, ms    {:>12}   budget < 10 at 2500/s     {}",
        num(sum.decide_half_rate, 0),
        num(sum.decide_p99_ms, 3),
        verdict(
            sum.decide_p99_ms.map(|p| {
                p < 10.0 && sum.decide_half_rate.is_some_and(|r| r >= BUDGET_HALF_RATE)
            })
        )
    );
    println!(
        "  1M specs via ClassifyStream  {:>10} s   budget < 10 s             {}",
        num(sum.bulk_seconds, 2),
        verdict(sum.bulk_seconds.map(|s| s < 10.0))
    );
    println!(
        "  classifier peak RSS, MB      {:>12}   budget < 100              {}",
        num(Some(mb(sum.classifier_rss)), 1),
        verdict((sum.classifier_rss > 0).then_some(mb(sum.classifier_rss) < RSS_BUDGET_MB))
    );
    let rss = sum.licensing_rss;
    if sum.with_list {
        println!(
            "  licensing RSS with list, MB  {:>12}   budget <= 150             {}",
            num(Some(mb(rss)), 1),
            verdict((rss > 0).then_some(mb(rss) <= RSS_WITH_LIST_BUDGET_MB))
        );
    } else {
        println!(
            "  licensing peak RSS, MB       {:>12}   budget < 100              {}",
            num(Some(mb(rss)), 1),
            verdict((rss > 0).then_some(mb(rss) < RSS_BUDGET_MB))
        );
    }
    let scr = sum.screening.as_ref();
    let of = scr.map_or("", |f| match f.source {
        screen::Source::List => " (list)",
        screen::Source::Synthetic => " (synth)",
    });
    println!(
        "  list load + index, ms{of:<8}{:>12}   budget <= 2000            {}",
        num(scr.map(|f| f.load_ms), 0),
        verdict(scr.map(|f| f.load_ms <= budget::LOAD_BUDGET_MS))
    );
    println!(
        "  screen one name p50, µs      {:>12}   budget <= 50              {}",
        num(scr.map(|f| f.p50_us), 1),
        verdict(scr.map(|f| f.p50_us <= budget::SCREEN_P50_BUDGET_US))
    );
    println!(
        "  screen one name p99, µs      {:>12}   budget <= 250             {}",
        num(scr.map(|f| f.p99_us), 1),
        verdict(scr.map(|f| f.p99_us <= budget::SCREEN_P99_BUDGET_US))
    );
}

/// Mean encoded sizes seen by the precheck.
struct Sizes {
    classify_response: usize,
    decide_request: usize,
    decide_response: usize,
}

/// Every request of the mix once, so the run never measures errors.
async fn precheck(svc: &Services, mix: &corpus::Mix) -> anyhow::Result<Sizes> {
    let mean = |total: usize, n: usize| total / n.max(1);
    let mut c = ClassifierServiceClient::connect(svc.classifier.url()).await?;
    let mut classify_bytes = 0;
    for req in &mix.classify {
        let resp = c.classify(req.clone()).await.with_context(|| {
            format!(
                "precheck: Classify {:?} as of {:?}",
                req.spec.as_ref().map(|s| &s.sku),
                req.as_of
            )
        })?;
        classify_bytes += resp.get_ref().encoded_len();
    }
    c.echo(cpb::EchoRequest::default())
        .await
        .context("precheck: Echo (is the classifier started with --echo?)")?;
    let mut l = LicensingServiceClient::connect(svc.licensing.url()).await?;
    let (mut request_bytes, mut response_bytes) = (0, 0);
    for (i, req) in mix.decide.iter().enumerate() {
        let mut req = req.clone();
        req.request_id = format!("bench-precheck-{i}");
        request_bytes += req.encoded_len();
        let resp = l
            .decide(req)
            .await
            .with_context(|| format!("precheck: Decide of scenario {i}"))?;
        response_bytes += resp.get_ref().encoded_len();
    }
    Ok(Sizes {
        classify_response: mean(classify_bytes, mix.classify.len()),
        decide_request: mean(request_bytes, mix.decide.len()),
        decide_response: mean(response_bytes, mix.decide.len()),
    })
}

struct StreamResult {
    specs_per_s: f64,
    seconds: f64,
    classifier_us: f64,
    client_us: f64,
    errors: u64,
}

/// One ClassifyStream with `n` specs (the mix, cycled) on a fresh connection,
/// timed from the call to the last response.
async fn stream(
    svc: &Services,
    mix: &Arc<corpus::Mix>,
    n: u64,
    classifier: Watched,
) -> anyhow::Result<StreamResult> {
    let channel = load::connect(&svc.classifier.url(), 1).await?.remove(0);
    let mut client = ClassifierServiceClient::new(channel);
    let items = {
        let mix = mix.clone();
        tokio_stream::iter(0..n).map(move |i| mix.classify[i as usize % mix.classify.len()].clone())
    };
    let cls_before = classifier.read().cpu_seconds;
    let own_before = ProcStats::own()?.cpu_seconds;
    let t0 = Instant::now();
    let mut responses = client
        .classify_stream(items)
        .await
        .context("ClassifyStream")?
        .into_inner();
    let mut got = 0u64;
    let mut errors = 0u64;
    while let Some(r) = responses.message().await.context("ClassifyStream")? {
        got += 1;
        if r.error.is_some() {
            errors += 1;
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let cls = classifier.read().cpu_seconds - cls_before;
    let own = ProcStats::own()?.cpu_seconds - own_before;
    if got != n {
        bail!("ClassifyStream answered {got} of {n} specs");
    }
    let per = |s: f64| s * 1e6 / n.max(1) as f64;
    Ok(StreamResult {
        specs_per_s: n as f64 / seconds,
        seconds,
        classifier_us: per(cls),
        client_us: per(own),
        errors,
    })
}

/// CPU seconds of the two services and this client so far.
fn our_cpu_seconds(svc: &Services) -> f64 {
    [
        svc.classifier.stats(),
        svc.licensing.stats(),
        ProcStats::own(),
    ]
    .into_iter()
    .map(|s| s.map_or(0.0, |s| s.cpu_seconds))
    .sum()
}

fn mem_total_gb() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb * 1024.0 / 1e9)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
