//! Where the official screening lists come from: the files and https URLs
//! named by `--screening-list`, loaded into the set the engine reads.
//!
//! At start every source must load (an error names the source, and the row
//! for a bad entry). Afterwards a companion task keeps the set current: a
//! file is reloaded when its size or mtime changes (polled every reload
//! interval) and on SIGHUP; a URL is fetched again every `--screening-refresh`
//! (and on SIGHUP). The set is replaced whole, and only when every source due
//! in a round loaded: one bad file or failed fetch keeps the previous set
//! serving, is logged at warn and counted in metrics.
//!
//! The list's date (what `--screening-max-age` is measured from) is the
//! list's own (`sources_used[].source_last_updated` in the JSON layout), else
//! a `YYYY-MM-DD` in its file name or URL, else the file's mtime (UTC) or the
//! HTTP `Last-Modified` of the download, else the day it was fetched.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, anyhow, bail, ensure};
use bytes::Bytes;
use exportctl_core::decide::screening::{ScreeningList, ScreeningSet};
use exportctl_runtime::metrics::Registry;
use http::uri::Scheme;
use http::{Uri, header};
use http_body_util::BodyExt as _;
use time::OffsetDateTime;

use crate::Config;

/// The screening lists in force; replaced whole on reload.
pub type SharedScreening = exportctl_runtime::shared::Shared<ScreeningSet>;

/// Longest a fetch may take, redirects and body included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest body a fetch accepts (the full list is about 25 MB as JSON).
pub const MAX_BODY_BYTES: usize = 200 * 1024 * 1024;
const MAX_REDIRECTS: usize = 5;
/// A failed fetch is tried again after this long (or the refresh, if shorter).
const FETCH_RETRY: Duration = Duration::from_secs(300);

/// The screening flags, shared by `licensing` and `exportctl serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScreeningArgs {
    /// An official screening list (the Consolidated Screening List download,
    /// JSON or CSV): a file path (reloaded on change) or an https:// URL
    /// (fetched every --screening-refresh). Repeatable; the variable takes a
    /// comma-separated list.
    #[arg(
        long = "screening-list",
        value_name = "PATH_OR_URL",
        env = "LICENSING_SCREENING_LIST",
        value_delimiter = ','
    )]
    pub screening_lists: Vec<String>,
    /// How often a URL list is fetched again: a number with s, m, h or d (90s, 30m, 6h, 1d).
    #[arg(
        long,
        value_name = "DURATION",
        env = "LICENSING_SCREENING_REFRESH",
        default_value = "6h",
        value_parser = parse_duration
    )]
    pub screening_refresh: Duration,
    /// Extra CA certificate(s) (PEM) trusted for https list fetches, beside the
    /// public roots (for a private mirror).
    #[arg(long, value_name = "PEM", env = "LICENSING_SCREENING_CA")]
    pub screening_ca: Option<PathBuf>,
    /// With no official screening list loaded, clear a party screened only
    /// against the packs' own parties (confidence low, advisory
    /// SCREENING-PARTIAL) instead of answering INDETERMINATE.
    #[arg(long, env = "LICENSING_ALLOW_PARTIAL_SCREENING")]
    pub allow_partial_screening: bool,
    /// Age of a list (from its date) from which a shipment gets the advisory
    /// SCREENING-LIST-STALE: whole days, e.g. 7d.
    #[arg(
        long,
        value_name = "DAYS",
        env = "LICENSING_SCREENING_MAX_AGE",
        default_value = "7d",
        value_parser = parse_days
    )]
    pub screening_max_age: i64,
}

impl ScreeningArgs {
    /// Puts these settings into a licensing config.
    pub fn apply(self, config: &mut Config) {
        config.screening_lists = self.screening_lists;
        config.screening_refresh = self.screening_refresh;
        config.screening_ca = self.screening_ca;
        config.engine.allow_partial_screening = self.allow_partial_screening;
        config.engine.screening_max_age_days = self.screening_max_age;
    }
}

/// Parses `90s`, `30m`, `6h`, `1d` (also `500ms`); zero is refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit (use s, m, h or d, e.g. 6h)"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a whole number"))?;
    let unit_secs = match unit.trim() {
        "ms" => return positive(Duration::from_millis(n), text),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (use s, m, h or d)"
            ));
        }
    };
    let secs = n
        .checked_mul(unit_secs)
        .ok_or_else(|| format!("`{text}` is too long"))?;
    positive(Duration::from_secs(secs), text)
}

fn positive(d: Duration, text: &str) -> Result<Duration, String> {
    if d.is_zero() {
        return Err(format!("`{text}` must be more than zero"));
    }
    Ok(d)
}

/// Parses a duration of whole days (`7d`, `168h`) into days.
pub fn parse_days(text: &str) -> Result<i64, String> {
    let d = parse_duration(text)?;
    if d.as_secs() % 86_400 != 0 || d.subsec_nanos() != 0 {
        return Err(format!("`{text}` is not a whole number of days"));
    }
    i64::try_from(d.as_secs() / 86_400).map_err(|_| format!("`{text}` is too long"))
}

/// One `--screening-list` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Url(Uri),
}

impl Source {
    /// A path, or an `https://` URL; `http://` only to a loopback host (for
    /// tests, with a warning).
    pub fn parse(text: &str) -> anyhow::Result<Source> {
        let text = text.trim();
        ensure!(!text.is_empty(), "an empty screening list source");
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            let uri: Uri = text
                .parse()
                .with_context(|| format!("screening list {text}: not a valid URL"))?;
            check_scheme(&uri)?;
            if uri.scheme() == Some(&Scheme::HTTP) {
                tracing::warn!(url = %uri, "screening list over plain http (loopback only; use https)");
            }
            return Ok(Source::Url(uri));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            bail!(
                "screening list {text}: unsupported scheme `{scheme}://` (expected a file path or an https:// URL)"
            );
        }
        Ok(Source::File(PathBuf::from(text)))
    }

    /// What names the source in errors, logs and the list's label.
    pub fn label(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Url(uri) => uri.to_string(),
        }
    }
}

/// Refuses what a list may not come over: plain http to a non-loopback host.
fn check_scheme(uri: &Uri) -> anyhow::Result<()> {
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| anyhow!("screening list {uri}: the URL names no host"))?;
    match uri.scheme() {
        Some(s) if *s == Scheme::HTTPS => Ok(()),
        Some(s) if *s == Scheme::HTTP => {
            ensure!(
                is_loopback(host),
                "screening list {uri}: plain http:// is refused (a list must come over https://; \
                 http is allowed only to a loopback host, for tests)"
            );
            Ok(())
        }
        _ => bail!("screening list {uri}: unsupported scheme (expected https://)"),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What identifies a file's contents cheaply: size and mtime.
type Fingerprint = (u64, Option<SystemTime>);

fn fingerprint(path: &Path) -> Option<Fingerprint> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()))
}

/// One loaded list and how its date was found.
struct Loaded {
    list: ScreeningList,
    basis: &'static str,
    fingerprint: Option<Fingerprint>,
}

/// Sets the date from outside when the list gives none; returns the basis.
fn date_fallback(
    list: &mut ScreeningList,
    fallback: Option<(SystemTime, &'static str)>,
) -> &'static str {
    if let Some(basis) = list.date_basis() {
        return basis.as_str();
    }
    match fallback {
        Some((when, basis)) => {
            list.set_list_date(OffsetDateTime::from(when).date());
            basis
        }
        None => "none",
    }
}

fn load_file(path: &Path) -> anyhow::Result<Loaded> {
    let label = path.display().to_string();
    let meta = std::fs::metadata(path).with_context(|| format!("screening list {label}"))?;
    let bytes = std::fs::read(path).with_context(|| format!("screening list {label}"))?;
    let mut list =
        ScreeningList::load(&bytes, &label).map_err(|e| anyhow!("screening list {e}"))?;
    let mtime = meta.modified().ok().map(|m| (m, "file mtime"));
    let basis = date_fallback(&mut list, mtime);
    Ok(Loaded {
        list,
        basis,
        fingerprint: Some((meta.len(), meta.modified().ok())),
    })
}

/// A downloaded list body.
struct Fetched {
    body: Bytes,
    last_modified: Option<SystemTime>,
    fetched_at: SystemTime,
}

fn load_fetched(fetched: Fetched, label: &str) -> anyhow::Result<Loaded> {
    let mut list =
        ScreeningList::load(&fetched.body, label).map_err(|e| anyhow!("screening list {e}"))?;
    let fallback = match fetched.last_modified {
        Some(when) => (when, "Last-Modified"),
        None => (fetched.fetched_at, "fetch date"),
    };
    let basis = date_fallback(&mut list, Some(fallback));
    Ok(Loaded {
        list,
        basis,
        fingerprint: None,
    })
}

/// An HTTPS (and loopback HTTP) GET with redirects, a timeout and a body cap.
#[derive(Clone)]
struct Fetcher {
    tls: tokio_rustls::TlsConnector,
}

impl Fetcher {
    /// Trusts the public (Mozilla) roots and, if given, the CA certificates in `ca`.
    fn new(ca: Option<&Path>) -> anyhow::Result<Self> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(ca) = ca {
            let certs = CertificateDer::pem_file_iter(ca)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| anyhow!("screening CA {}: {e}", ca.display()))?;
            ensure!(
                !certs.is_empty(),
                "screening CA {}: no certificate in it",
                ca.display()
            );
            for cert in certs {
                roots
                    .add(cert)
                    .with_context(|| format!("screening CA {}", ca.display()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    async fn fetch(&self, uri: &Uri) -> anyhow::Result<Fetched> {
        tokio::time::timeout(FETCH_TIMEOUT, self.follow(uri.clone()))
            .await
            .map_err(|_| {
                anyhow!(
                    "screening list {uri}: no complete answer within {}s",
                    FETCH_TIMEOUT.as_secs()
                )
            })?
            .with_context(|| format!("screening list {uri}"))
    }

    async fn follow(&self, mut uri: Uri) -> anyhow::Result<Fetched> {
        for _ in 0..=MAX_REDIRECTS {
            let response = self.get(&uri).await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| anyhow!("HTTP {status} without a Location"))?;
                let next = resolve(&uri, location)?;
                check_scheme(&next)?;
                tracing::debug!(from = %uri, to = %next, "screening list redirected");
                uri = next;
                continue;
            }
            ensure!(status.is_success(), "HTTP {status} from {uri}");
            let headers = response.headers();
            let last_modified = headers
                .get(header::LAST_MODIFIED)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok());
            if let Some(len) = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
            {
                ensure!(
                    len <= MAX_BODY_BYTES as u64,
                    "the body ({len} bytes) is over the {MAX_BODY_BYTES}-byte limit"
                );
            }
            let body = http_body_util::Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| anyhow!("reading the body: {e}"))?
                .to_bytes();
            return Ok(Fetched {
                body,
                last_modified,
                fetched_at: SystemTime::now(),
            });
        }
        bail!("more than {MAX_REDIRECTS} redirects")
    }

    async fn get(&self, uri: &Uri) -> anyhow::Result<http::Response<hyper::body::Incoming>> {
        let host = uri.host().context("the URL names no host")?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let https = uri.scheme() == Some(&Scheme::HTTPS);
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = uri.authority().map_or(host, |a| a.as_str());
        let request = http::Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(header::HOST, authority)
            .header(
                header::USER_AGENT,
                concat!("exportctl-licensing/", env!("CARGO_PKG_VERSION")),
            )
            .header(header::ACCEPT, "application/json, text/csv, */*")
            .body(http_body_util::Empty::<Bytes>::new())?;
        let tcp = tokio::net::TcpStream::connect((bare, port))
            .await
            .with_context(|| format!("connecting to {host}:{port}"))?;
        let _ = tcp.set_nodelay(true);
        if https {
            let name = rustls::pki_types::ServerName::try_from(bare.to_owned())
                .with_context(|| format!("`{host}` is not a valid TLS server name"))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .with_context(|| format!("TLS with {host}"))?;
            exchange(tls, request).await
        } else {
            exchange(tcp, request).await
        }
    }
}

async fn exchange<IO>(
    io: IO,
    request: http::Request<http_body_util::Empty<Bytes>>,
) -> anyhow::Result<http::Response<hyper::body::Incoming>>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender.send_request(request).await?)
}

/// The target of a redirect from `base`.
fn resolve(base: &Uri, location: &str) -> anyhow::Result<Uri> {
    let location = location.trim();
    if location.contains("://") {
        return location
            .parse()
            .with_context(|| format!("redirect to an invalid URL `{location}`"));
    }
    let scheme = base.scheme_str().unwrap_or("https");
    let authority = base.authority().map_or("", |a| a.as_str());
    let path = if let Some(rest) = location.strip_prefix("//") {
        return format!("{scheme}://{rest}")
            .parse()
            .with_context(|| format!("redirect to an invalid URL `{location}`"));
    } else if location.starts_with('/') {
        location.to_owned()
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{location}")
    };
    format!("{scheme}://{authority}{path}")
        .parse()
        .with_context(|| format!("redirect to an invalid URL `{location}`"))
}

/// Screening load outcomes, for metrics.
#[derive(Debug, Default)]
pub struct ScreeningStats {
    /// Rounds that replaced the set (the load at start included).
    pub succeeded: AtomicU64,
    /// Rounds in which a source failed (the previous set kept serving).
    pub failed: AtomicU64,
}

impl ScreeningStats {
    pub fn succeeded(&self) -> u64 {
        self.succeeded.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Renders the load counters and the lists in force for `/metrics`.
    pub fn expose(self: &Arc<Self>, registry: &Registry, shared: SharedScreening) {
        let stats = self.clone();
        registry.render_with(move |out| {
            use std::fmt::Write as _;
            let _ = writeln!(
                out,
                "# HELP exportctl_screening_reload_total Screening list loads by result (error: the previous set kept serving)."
            );
            let _ = writeln!(out, "# TYPE exportctl_screening_reload_total counter");
            let _ = writeln!(
                out,
                "exportctl_screening_reload_total{{result=\"ok\"}} {}",
                stats.succeeded()
            );
            let _ = writeln!(
                out,
                "exportctl_screening_reload_total{{result=\"error\"}} {}",
                stats.failed()
            );
            let set = shared.current();
            let _ = writeln!(
                out,
                "# HELP exportctl_screening_list_entries Entries of each screening list in force."
            );
            let _ = writeln!(out, "# TYPE exportctl_screening_list_entries gauge");
            for list in &set.lists {
                let name = exportctl_runtime::metrics::escape(list.short_label());
                let _ = writeln!(
                    out,
                    "exportctl_screening_list_entries{{list=\"{name}\"}} {}",
                    list.entries().len()
                );
            }
            let _ = writeln!(
                out,
                "# HELP exportctl_screening_list_date_seconds The date of each screening list in force (UTC midnight, unix seconds)."
            );
            let _ = writeln!(out, "# TYPE exportctl_screening_list_date_seconds gauge");
            for list in &set.lists {
                if let Some(date) = list.list_date() {
                    let name = exportctl_runtime::metrics::escape(list.short_label());
                    let _ = writeln!(
                        out,
                        "exportctl_screening_list_date_seconds{{list=\"{name}\"}} {}",
                        date.midnight().assume_utc().unix_timestamp()
                    );
                }
            }
            let _ = writeln!(
                out,
                "# HELP exportctl_screening_lists_info The screening set in force; its digest is a label."
            );
            let _ = writeln!(out, "# TYPE exportctl_screening_lists_info gauge");
            let _ = writeln!(
                out,
                "exportctl_screening_lists_info{{digest=\"{}\",lists=\"{}\"}} 1",
                exportctl_runtime::metrics::escape(&set.digest()),
                set.lists.len()
            );
        });
    }
}

/// One source and its last good list.
struct SourceState {
    source: Source,
    list: Arc<ScreeningList>,
    /// Files: the size and mtime last loaded (or last failed to load).
    seen: Option<Fingerprint>,
    /// URLs: when to fetch again.
    next_fetch: Instant,
}

/// The screening sources of one service: loaded at start, then kept current
/// by [`ScreeningSources::run`] (a server companion).
pub struct ScreeningSources {
    states: Vec<SourceState>,
    fetcher: Option<Fetcher>,
    shared: SharedScreening,
    stats: Arc<ScreeningStats>,
    poll: Duration,
    refresh: Duration,
}

impl ScreeningSources {
    /// Loads every list `config` names; any failure is an error naming the
    /// source (and the row of a bad entry).
    pub async fn load(config: &Config, stats: Arc<ScreeningStats>) -> anyhow::Result<Self> {
        let sources = config
            .screening_lists
            .iter()
            .map(|s| Source::parse(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let fetcher = match sources.iter().any(|s| matches!(s, Source::Url(_))) {
            true => Some(Fetcher::new(config.screening_ca.as_deref())?),
            false => None,
        };
        let refresh = config.screening_refresh.max(Duration::from_millis(10));
        let mut states = Vec::with_capacity(sources.len());
        for source in sources {
            let loaded = load_source(fetcher.as_ref(), &source, "start").await?;
            states.push(SourceState {
                source,
                list: Arc::new(loaded.list),
                seen: loaded.fingerprint,
                next_fetch: Instant::now() + refresh,
            });
        }
        let set = ScreeningSet::new(states.iter().map(|s| s.list.clone()).collect());
        if !set.is_empty() {
            stats.succeeded.fetch_add(1, Ordering::Relaxed);
            tracing::info!(lists = set.lists.len(), entries = set.entries(), digest = %set.digest(), "screening lists in force");
        }
        Ok(Self {
            states,
            fetcher,
            shared: SharedScreening::new(set),
            stats,
            poll: config.reload_interval.max(Duration::from_millis(10)),
            refresh,
        })
    }

    /// The set the engine reads (replaced whole on reload).
    pub fn shared(&self) -> SharedScreening {
        self.shared.clone()
    }

    /// Whether there is anything to keep current.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Runs until dropped (as a server companion): polls the files, fetches
    /// the URLs again when due, reloads everything on SIGHUP.
    pub async fn run(mut self) {
        if self.states.is_empty() {
            return;
        }
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let tick = self.poll.min(self.refresh);
        loop {
            #[cfg(unix)]
            let forced = {
                let hup = async {
                    match hangup.as_mut() {
                        Some(h) => {
                            h.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    () = hup => true,
                    () = tokio::time::sleep(tick) => false,
                }
            };
            #[cfg(not(unix))]
            let forced = {
                tokio::time::sleep(tick).await;
                false
            };
            self.round(forced).await;
        }
    }

    /// Loads the sources that are due; replaces the set if none failed.
    async fn round(&mut self, forced: bool) {
        let now = Instant::now();
        let mut due = Vec::new();
        for (i, state) in self.states.iter().enumerate() {
            let trigger = match &state.source {
                _ if forced => "SIGHUP",
                Source::File(path) if fingerprint(path) != state.seen => "file change",
                Source::Url(_) if now >= state.next_fetch => "refresh",
                _ => continue,
            };
            due.push((i, trigger));
        }
        if due.is_empty() {
            return;
        }
        let mut failed = false;
        for (i, trigger) in due {
            let state = &mut self.states[i];
            match load_source(self.fetcher.as_ref(), &state.source, trigger).await {
                Ok(loaded) => {
                    state.list = Arc::new(loaded.list);
                    state.seen = loaded.fingerprint;
                    state.next_fetch = Instant::now() + self.refresh;
                }
                Err(e) => {
                    failed = true;
                    tracing::warn!(source = %state.source.label(), trigger, error = %format!("{e:#}"), "screening list not loaded; the previous set keeps serving");
                    if let Source::File(path) = &state.source {
                        // Not tried again until the file changes once more.
                        state.seen = fingerprint(path);
                    }
                    state.next_fetch = Instant::now() + self.refresh.min(FETCH_RETRY);
                }
            }
        }
        if failed {
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let set = ScreeningSet::new(self.states.iter().map(|s| s.list.clone()).collect());
        let old = self.shared.current().digest();
        let (new, entries) = (set.digest(), set.entries());
        self.shared.replace(set);
        self.stats.succeeded.fetch_add(1, Ordering::Relaxed);
        tracing::info!(old = %old, new = %new, entries, "screening lists replaced");
    }
}

/// Loads one source (off the executor for parsing), logging the result.
async fn load_source(
    fetcher: Option<&Fetcher>,
    source: &Source,
    trigger: &str,
) -> anyhow::Result<Loaded> {
    let started = Instant::now();
    let loaded = match source {
        Source::File(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || load_file(&path)).await??
        }
        Source::Url(uri) => {
            let fetcher = fetcher.context("no fetcher for a URL source")?;
            let fetched = fetcher.fetch(uri).await?;
            let label = source.label();
            tokio::task::spawn_blocking(move || load_fetched(fetched, &label)).await??
        }
    };
    let list = &loaded.list;
    tracing::info!(
        source = %list.label(),
        trigger,
        entries = list.entries().len(),
        list_date = %list.list_date().map_or_else(|| "none".to_owned(), |d| d.to_string()),
        date_basis = loaded.basis,
        digest = %list.digest(),
        load_ms = started.elapsed().as_millis() as u64,
        "screening list loaded"
    );
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert!(parse_duration("6").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("5w").is_err());
        assert_eq!(parse_days("7d"), Ok(7));
        assert_eq!(parse_days("48h"), Ok(2));
        assert!(parse_days("36h").is_err());
    }

    #[test]
    fn sources() {
        assert_eq!(
            Source::parse("lists/csl.json").unwrap(),
            Source::File("lists/csl.json".into())
        );
        assert!(matches!(
            Source::parse("https://example.invalid/consolidated.json").unwrap(),
            Source::Url(_)
        ));
        for loopback in [
            "http://127.0.0.1:8080/c.json",
            "http://localhost/c.json",
            "http://[::1]:9/c.csv",
        ] {
            assert!(Source::parse(loopback).is_ok(), "{loopback}");
        }
        let refused = Source::parse("http://example.com/c.json").unwrap_err();
        assert!(refused.to_string().contains("plain http"), "{refused}");
        assert!(Source::parse("ftp://example.com/c.json").is_err());
        assert!(Source::parse(" ").is_err());
    }

    #[test]
    fn names_and_redirects() {
        let base: Uri = "https://a.example/x/y.json".parse().unwrap();
        assert_eq!(
            resolve(&base, "/z.json").unwrap().to_string(),
            "https://a.example/z.json"
        );
        assert_eq!(
            resolve(&base, "w.json").unwrap().to_string(),
            "https://a.example/x/w.json"
        );
        assert_eq!(
            resolve(&base, "https://b.example/v.json")
                .unwrap()
                .to_string(),
            "https://b.example/v.json"
        );
    }
}
