//! Official screening lists given to licensing (`--screening-list`): a file
//! loaded at start and reloaded on change (JSON, then CSV, then a broken file
//! that keeps the previous set), a bad list refusing the start with the file
//! and the row named, and an https URL served by a loopback mirror with its
//! own CA, fetched again every refresh. Fixtures: tests/fixtures/screening.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use exportctl_licensing::{Application, Config};
use exportctl_tests::temp_ledger;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// 2026-07-30 and 2026-07-29, UTC midnight, unix seconds.
const JULY_30: f64 = 1_785_369_600.0;
const JULY_29: f64 = 1_785_283_200.0;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/screening")
        .join(name)
}

fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "exportctl-screening_lists-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replaces `path` at once (write beside it, then rename), so a poll never sees half a file.
fn put(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn config(name: &str, lists: Vec<String>) -> Config {
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        // Never called: these tests make no decision.
        classifier_url: "http://127.0.0.1:1".into(),
        ledger: format!(
            "sqlite://{}",
            temp_ledger(&format!("screening_lists-{name}")).display()
        ),
        screening_lists: lists,
        reload_interval: Duration::from_millis(100),
        ..Default::default()
    }
}

/// A licensing server being served; stopped on drop.
struct Server {
    metrics: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve(config: Config) -> Server {
    let app = Application::build(config).await.expect("licensing builds");
    let metrics = app.metrics_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    Server {
        metrics,
        _stop: stop,
    }
}

async fn build_error(config: Config) -> String {
    match Application::build(config).await {
        Ok(_) => panic!("licensing built with a list it should refuse"),
        Err(e) => format!("{e:#}"),
    }
}

async fn scrape(addr: SocketAddr) -> String {
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        out
    })
    .await
    .unwrap()
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|rest| rest.trim().parse().ok())
    })
}

fn entries(list: &str) -> String {
    format!("exportctl_screening_list_entries{{list=\"{list}\"}}")
}

fn date(list: &str) -> String {
    format!("exportctl_screening_list_date_seconds{{list=\"{list}\"}}")
}

const OK: &str = "exportctl_screening_reload_total{result=\"ok\"}";
const ERROR: &str = "exportctl_screening_reload_total{result=\"error\"}";

fn digest(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.starts_with("exportctl_screening_lists_info{"))
        .unwrap_or_else(|| panic!("no lists info in\n{text}"));
    line.split("digest=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// Scrapes until `done` holds (10 s at most); returns the last page.
async fn wait_for(addr: SocketAddr, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(addr).await;
        if done(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "never saw {what} in\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// UTC midnight of a file's mtime, unix seconds.
fn mtime_day(path: &Path) -> f64 {
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    let secs = mtime
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (secs - secs % 86_400) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_reloaded_on_change_and_a_broken_one_keeps_the_previous_set() {
    let dir = work_dir("file");
    let list = dir.join("consolidated");
    put(&list, &std::fs::read(fixture("csl-three.json")).unwrap());
    let server = serve(config("file", vec![list.display().to_string()])).await;

    // JSON layout: three entries, dated by its sources_used (2026-07-30).
    let text = scrape(server.metrics).await;
    assert_eq!(value(&text, &entries("consolidated")), Some(3.0), "{text}");
    assert_eq!(value(&text, &date("consolidated")), Some(JULY_30), "{text}");
    assert!(value(&text, OK).is_some_and(|n| n >= 1.0), "{text}");
    assert_eq!(value(&text, ERROR), Some(0.0), "{text}");
    let first = digest(&text);
    assert!(first.starts_with("sha256:"), "{first}");

    // CSV layout: two entries, no date of its own, so the file's mtime (UTC) dates it.
    put(&list, &std::fs::read(fixture("csl-two.csv")).unwrap());
    let text = wait_for(server.metrics, "the CSV list", |t| {
        value(t, &entries("consolidated")) == Some(2.0)
    })
    .await;
    assert_eq!(
        value(&text, &date("consolidated")),
        Some(mtime_day(&list)),
        "{text}"
    );
    assert_eq!(value(&text, ERROR), Some(0.0), "{text}");
    let second = digest(&text);
    assert_ne!(first, second);

    // A broken file: counted, and the CSV list keeps serving.
    put(&list, &std::fs::read(fixture("csl-bad-row.json")).unwrap());
    let text = wait_for(server.metrics, "the failed reload", |t| {
        value(t, ERROR).is_some_and(|n| n >= 1.0)
    })
    .await;
    assert_eq!(value(&text, &entries("consolidated")), Some(2.0), "{text}");
    assert_eq!(digest(&text), second);

    // Fixed again: back to the JSON list.
    put(&list, &std::fs::read(fixture("csl-three.json")).unwrap());
    let text = wait_for(server.metrics, "the JSON list again", |t| {
        value(t, &entries("consolidated")) == Some(3.0)
    })
    .await;
    assert_eq!(digest(&text), first);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_bad_list_at_start_refuses_to_start_naming_the_file_and_the_row() {
    let bad = fixture("csl-bad-row.json");
    let message = build_error(config("bad-row", vec![bad.display().to_string()])).await;
    assert!(message.contains("csl-bad-row.json"), "{message}");
    assert!(message.contains("result 2"), "{message}");
    assert!(message.contains("empty name"), "{message}");

    // One good list beside it does not help: every list must load.
    let good = fixture("csl-three.json");
    let message = build_error(config(
        "bad-row-2",
        vec![good.display().to_string(), bad.display().to_string()],
    ))
    .await;
    assert!(message.contains("csl-bad-row.json"), "{message}");

    let missing = work_dir("missing").join("nowhere.json");
    let message = build_error(config("missing", vec![missing.display().to_string()])).await;
    assert!(message.contains("nowhere.json"), "{message}");
}

#[tokio::test]
async fn plain_http_is_refused_except_to_loopback() {
    let message = build_error(config(
        "plain-http",
        vec!["http://lists.example.invalid/consolidated.json".into()],
    ))
    .await;
    assert!(message.contains("plain http://"), "{message}");
    assert!(message.contains("lists.example.invalid"), "{message}");
    let message = build_error(config(
        "ftp",
        vec!["ftp://lists.example.invalid/consolidated.json".into()],
    ))
    .await;
    assert!(message.contains("unsupported scheme"), "{message}");
}

/// What the mirror answers, changed by the test.
#[derive(Clone)]
struct Answer {
    status: u16,
    body: Bytes,
    last_modified: Option<&'static str>,
}

/// A loopback HTTPS server of one file, with a certificate from a test CA.
struct Mirror {
    addr: SocketAddr,
    answer: Arc<Mutex<Answer>>,
    requests: Arc<AtomicUsize>,
    ca: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Mirror {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Mirror {
    async fn start(dir: &Path, answer: Answer) -> Mirror {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca = dir.join("mirror-ca.pem");
        std::fs::write(&ca, ca_cert.pem()).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let answer = Arc::new(Mutex::new(answer));
        let requests = Arc::new(AtomicUsize::new(0));
        let (served, counted) = (answer.clone(), requests.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, served, counted) =
                    (acceptor.clone(), served.clone(), counted.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(
                        move |req: http::Request<hyper::body::Incoming>| {
                            counted.fetch_add(1, Ordering::SeqCst);
                            let answer = served.lock().unwrap().clone();
                            async move {
                                let status = if req.uri().path() == "/v1/consolidated.json" {
                                    answer.status
                                } else {
                                    404
                                };
                                let mut response = http::Response::builder().status(status);
                                if let Some(lm) = answer.last_modified {
                                    response = response.header("last-modified", lm);
                                }
                                Ok::<_, Infallible>(
                                    response
                                        .body(http_body_util::Full::new(answer.body))
                                        .unwrap(),
                                )
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Mirror {
            addr,
            answer,
            requests,
            ca,
            task,
        }
    }

    fn url(&self) -> String {
        format!(
            "https://127.0.0.1:{}/v1/consolidated.json",
            self.addr.port()
        )
    }

    fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }
}

fn ok(file: &str, last_modified: Option<&'static str>) -> Answer {
    Answer {
        status: 200,
        body: Bytes::from(std::fs::read(fixture(file)).unwrap()),
        last_modified,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_list_is_fetched_and_refreshed() {
    let dir = work_dir("https");
    let mirror = Mirror::start(&dir, ok("csl-three.json", None)).await;

    // The mirror's CA is not a public root: without --screening-ca the fetch fails.
    let message = build_error(config("https-untrusted", vec![mirror.url()])).await;
    assert!(message.contains(&mirror.url()), "{message}");
    assert!(message.contains("TLS"), "{message}");

    let mut with_ca = config("https", vec![mirror.url()]);
    with_ca.screening_ca = Some(mirror.ca.clone());
    with_ca.screening_refresh = Duration::from_millis(300);
    let server = serve(with_ca).await;
    let text = scrape(server.metrics).await;
    assert_eq!(
        value(&text, &entries("consolidated.json")),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(&text, &date("consolidated.json")),
        Some(JULY_30),
        "{text}"
    );
    assert_eq!(value(&text, ERROR), Some(0.0), "{text}");

    // A changed body replaces the set at the next refresh; the CSV has no
    // date of its own, so Last-Modified dates it.
    mirror.set(ok("csl-two.csv", Some("Wed, 29 Jul 2026 12:00:00 GMT")));
    let text = wait_for(server.metrics, "the refreshed list", |t| {
        value(t, &entries("consolidated.json")) == Some(2.0)
    })
    .await;
    assert_eq!(
        value(&text, &date("consolidated.json")),
        Some(JULY_29),
        "{text}"
    );
    assert!(value(&text, OK).is_some_and(|n| n >= 2.0), "{text}");

    // A failed fetch is counted and keeps the list.
    mirror.set(Answer {
        status: 503,
        body: Bytes::from_static(b"down for maintenance"),
        last_modified: None,
    });
    let text = wait_for(server.metrics, "the failed fetch", |t| {
        value(t, ERROR).is_some_and(|n| n >= 1.0)
    })
    .await;
    assert_eq!(
        value(&text, &entries("consolidated.json")),
        Some(2.0),
        "{text}"
    );
    assert!(mirror.requests.load(Ordering::SeqCst) >= 3);
    let _ = std::fs::remove_dir_all(&dir);
}
