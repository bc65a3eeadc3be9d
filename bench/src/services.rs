//! The services under test as child processes: release binaries, free
//! loopback ports, a temporary ledger, health checks, `/proc` readings, and
//! a guard that stops them on every exit path.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Builds the release binaries with cargo and returns the directory that holds them.
pub fn build_release(workspace: &Path) -> anyhow::Result<PathBuf> {
    eprintln!("building release binaries: cargo build --release --bin classifier --bin licensing");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "--bin",
            "classifier",
            "--bin",
            "licensing",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo (or pass --bin-dir)")?;
    if !out.status.success() {
        bail!("cargo build --release failed ({})", out.status);
    }
    let mut dir = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] == "compiler-artifact"
            && msg["target"]["name"] == "classifier"
            && let Some(exe) = msg["executable"].as_str()
        {
            dir = Path::new(exe).parent().map(Path::to_path_buf);
        }
    }
    dir.context("cargo reported no classifier executable")
}

/// A free loopback port (the listener is closed again before the service binds it).
fn free_port() -> anyhow::Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
    Ok(l.local_addr()?)
}

/// A running service process; stopped (SIGTERM, then SIGKILL) on drop.
pub struct Service {
    pub name: &'static str,
    pub addr: SocketAddr,
    child: Child,
    log: PathBuf,
}

impl Service {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn spawn(
        name: &'static str,
        bin: &Path,
        args: &[String],
        log_dir: &Path,
        log_filter: &str,
    ) -> anyhow::Result<Self> {
        let log = log_dir.join(format!("{name}.log"));
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let addr: SocketAddr = args
            .iter()
            .skip_while(|a| *a != "--listen")
            .nth(1)
            .context("no --listen")?
            .parse()?;
        let child = Command::new(bin)
            .args(args)
            .env("RUST_LOG", log_filter)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        Ok(Self {
            name,
            addr,
            child,
            log,
        })
    }

    /// The last lines of the service's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Waits until the gRPC health check reports `service` SERVING.
    pub async fn wait_healthy(&mut self, service: &str, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited ({status}) before it was healthy; its log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            let last = match health_check(&self.url(), service).await {
                Ok(true) => return Ok(()),
                Ok(false) => "NOT_SERVING".to_string(),
                Err(e) => e.to_string(),
            };
            if Instant::now() > deadline {
                bail!(
                    "{} not healthy after {timeout:?} ({last}); its log:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fails if the process has died.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}) during the run; its log:\n{}",
                self.name,
                self.log_tail()
            );
        }
        Ok(())
    }

    pub fn stats(&self) -> anyhow::Result<ProcStats> {
        ProcStats::read(self.pid())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SIGTERM first so the service drains and closes its ledger; SIGKILL if it hangs.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn health_check(url: &str, service: &str) -> anyhow::Result<bool> {
    let channel = Endpoint::from_shared(url.to_string())?
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await?;
    let mut client = HealthClient::new(channel);
    let resp = client
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await?;
    Ok(resp.into_inner().status == ServingStatus::Serving as i32)
}

/// A scratch directory for the ledger and the service logs; removed on drop
/// unless kept.
pub struct Scratch {
    pub path: PathBuf,
    pub keep: bool,
}

impl Scratch {
    pub fn new(parent: &Path, keep: bool) -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = parent.join(format!("exportctl-bench-{}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path, keep })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Both services. Field order matters: licensing is stopped before the
/// classifier, and both before the scratch directory is removed.
pub struct Services {
    pub licensing: Service,
    pub classifier: Service,
    pub scratch: Scratch,
}

pub const CLASSIFIER_SERVICE: &str = "exportctl.classifier.v1.ClassifierService";
pub const LICENSING_SERVICE: &str = "exportctl.licensing.v1.LicensingService";

impl Services {
    /// Starts the classifier (with `--echo`) and the licensing service (with a
    /// fresh SQLite ledger in `scratch` and the `screening_lists`) and waits
    /// until both are healthy.
    pub async fn start(
        bin_dir: &Path,
        scratch: Scratch,
        log_filter: &str,
        screening_lists: &[PathBuf],
    ) -> anyhow::Result<Self> {
        let classifier_bin = bin_dir.join("classifier");
        let licensing_bin = bin_dir.join("licensing");
        for b in [&classifier_bin, &licensing_bin] {
            if !b.is_file() {
                bail!(
                    "{} not found (build with cargo build --release)",
                    b.display()
                );
            }
        }
        let c_addr = free_port()?;
        let mut classifier = Service::spawn(
            "classifier",
            &classifier_bin,
            &["--listen".into(), c_addr.to_string(), "--echo".into()],
            &scratch.path,
            log_filter,
        )?;
        classifier
            .wait_healthy(CLASSIFIER_SERVICE, Duration::from_secs(30))
            .await?;
        let l_addr = free_port()?;
        let ledger = scratch.path.join("ledger.db");
        let mut args = vec![
            "--listen".into(),
            l_addr.to_string(),
            "--classifier-url".into(),
            classifier.url(),
            "--ledger".into(),
            format!("sqlite://{}", ledger.display()),
        ];
        for list in screening_lists {
            args.push("--screening-list".into());
            args.push(list.display().to_string());
        }
        let mut licensing = Service::spawn(
            "licensing",
            &licensing_bin,
            &args,
            &scratch.path,
            log_filter,
        )?;
        // Loading the full screening list is part of starting up.
        licensing
            .wait_healthy(LICENSING_SERVICE, Duration::from_secs(60))
            .await?;
        Ok(Self {
            licensing,
            classifier,
            scratch,
        })
    }

    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        self.classifier.check_alive()?;
        self.licensing.check_alive()
    }
}

/// Busy CPU seconds of the whole machine (all of /proc/stat's `cpu` line but
/// idle and iowait), to tell how much of the run other processes took.
pub fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let busy: f64 = v
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, x)| x)
        .sum();
    busy / clock_ticks()
}

/// Latency of a durable 4 KiB append (write + fdatasync) in `dir`, as
/// (p50 ms, p99 ms) of 200 tries: what one ledger commit costs at least.
pub fn fsync_probe(dir: &Path) -> anyhow::Result<(f64, f64)> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = File::create(&path)?;
    let block = [0x5a_u8; 4096];
    let mut times = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        f.write_all(&block)?;
        f.sync_data()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    drop(f);
    let _ = std::fs::remove_file(&path);
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() * 99 / 100]))
}

/// One reading of a process's CPU time and memory from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStats {
    /// utime + stime of all its threads, seconds.
    pub cpu_seconds: f64,
    /// Peak resident set (VmHWM), bytes.
    pub peak_rss: u64,
    /// Resident set now (VmRSS), bytes.
    pub rss: u64,
    /// Of which anonymous memory (RssAnon: heap, stacks), bytes.
    pub rss_anon: u64,
    /// Of which file and shared mappings (RssFile + RssShmem: the binary,
    /// mapped files such as SQLite's `-shm` WAL index), bytes.
    pub rss_file: u64,
    /// Threads now.
    pub threads: u64,
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

impl ProcStats {
    /// Reads `/proc/<pid>/stat` (fields 14 and 15) and `/proc/<pid>/status`.
    pub fn read(pid: u32) -> anyhow::Result<Self> {
        Self::read_path(&format!("/proc/{pid}"))
    }

    /// The bench process itself (the client).
    pub fn own() -> anyhow::Result<Self> {
        Self::read_path("/proc/self")
    }

    fn read_path(dir: &str) -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string(format!("{dir}/stat"))
            .with_context(|| format!("reading {dir}/stat"))?;
        // The command name may contain spaces: fields are counted after its closing parenthesis.
        let rest = &stat[stat.rfind(')').context("malformed stat")? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // `rest` starts at field 3 (state): utime is field 14, stime field 15.
        let utime: f64 = fields.get(11).context("no utime")?.parse()?;
        let stime: f64 = fields.get(12).context("no stime")?.parse()?;
        let status = std::fs::read_to_string(format!("{dir}/status"))
            .with_context(|| format!("reading {dir}/status"))?;
        let kb = |key: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                * 1024
        };
        Ok(Self {
            cpu_seconds: (utime + stime) / clock_ticks(),
            peak_rss: kb("VmHWM:"),
            rss: kb("VmRSS:"),
            rss_anon: kb("RssAnon:"),
            rss_file: kb("RssFile:") + kb("RssShmem:"),
            threads: kb("Threads:") / 1024,
        })
    }
}

/// Open file descriptors of a process: the entries of `/proc/<pid>/fd`.
pub fn open_fds(pid: u32) -> anyhow::Result<usize> {
    let dir = format!("/proc/{pid}/fd");
    Ok(std::fs::read_dir(&dir)
        .with_context(|| format!("listing {dir}"))?
        .count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_proc_stats() {
        let s = ProcStats::own().unwrap();
        assert!(s.peak_rss > 0);
        assert!(s.rss > 0 && s.rss <= s.peak_rss);
        assert!(s.threads >= 1);
        assert!(s.cpu_seconds >= 0.0);
    }

    #[test]
    fn counts_own_open_fds() {
        let pid = std::process::id();
        let before = open_fds(pid).unwrap();
        assert!(before >= 3, "{before}");
        // Other tests run in parallel threads and open files too: allow for a few.
        let files: Vec<File> = (0..16)
            .map(|_| File::open("/proc/self/status").unwrap())
            .collect();
        let during = open_fds(pid).unwrap();
        assert!(during >= before + 12, "{before} -> {during}");
        drop(files);
    }
}
