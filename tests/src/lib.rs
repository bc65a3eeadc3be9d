//! Helpers that start whole exportctl services in-process on real loopback
//! sockets, for the integration tests; and the scenario corpus's parser
//! ([`corpus`]), shared with the load tool.

pub mod corpus;

use std::net::SocketAddr;

use exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient;
use exportctl_proto::licensing::licensing_service_client::LicensingServiceClient;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// A running server; stopped (and drained) on drop or by `stop`.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Running {
    /// A handle to a server started elsewhere (stopping it is the caller's business).
    pub fn external(addr: SocketAddr) -> Self {
        Running {
            addr,
            stop: None,
            task: None,
        }
    }

    /// A handle to a server task the caller spawned, stopped through `stop`.
    pub fn spawned(addr: SocketAddr, stop: oneshot::Sender<()>, task: JoinHandle<()>) -> Self {
        Running {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

fn spawn<F>(addr: SocketAddr, run: impl FnOnce(oneshot::Receiver<()>) -> F) -> Running
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(run(rx));
    Running {
        addr,
        stop: Some(tx),
        task: Some(task),
    }
}

/// Starts a classifier on 127.0.0.1:0 with the given config (listen is overridden).
pub async fn start_classifier(mut config: exportctl_classifier::Config) -> Running {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = exportctl_runtime::telemetry::init(
            exportctl_runtime::telemetry::LogFormat::Text,
            "exportctl-tests",
        );
    }
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let app = exportctl_classifier::Application::build(config)
        .await
        .expect("classifier builds");
    let addr = app.local_addr();
    spawn(addr, move |rx| async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("classifier runs");
    })
}

/// A classifier with the bundled packs.
pub async fn bundled_classifier() -> Running {
    start_classifier(exportctl_classifier::Config::default()).await
}

pub async fn classifier_client(server: &Running) -> ClassifierServiceClient<Channel> {
    ClassifierServiceClient::connect(server.url())
        .await
        .expect("connects")
}

/// The screening list the services load in tests: the official-layout
/// fixture (hand-written, ten entries), or the file `EXPORTCTL_TEST_SCREENING_LIST`
/// names (CI runs the scenarios again with the official list that way).
pub fn screening_fixture() -> String {
    std::env::var("EXPORTCTL_TEST_SCREENING_LIST")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            format!(
                "{}/../screening/tests/fixtures/csl-small.json",
                env!("CARGO_MANIFEST_DIR")
            )
        })
}

/// Starts a licensing service on 127.0.0.1:0 with the given config (listen is
/// overridden); with no screening list given, it loads the fixture, as a
/// production service loads the official list.
pub async fn start_licensing(mut config: exportctl_licensing::Config) -> Running {
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    if config.screening_lists.is_empty() {
        config.screening_lists = vec![screening_fixture()];
    }
    let app = exportctl_licensing::Application::build(config)
        .await
        .expect("licensing builds");
    let addr = app.local_addr();
    spawn(addr, move |rx| async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("licensing runs");
    })
}

/// A fresh ledger path under the system temp directory.
pub fn temp_ledger(name: &str) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("exportctl-test-{name}-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

/// Both services: a bundled classifier and a licensing service using it, with a fresh ledger.
pub async fn start_pair(name: &str) -> (Running, Running, std::path::PathBuf) {
    let classifier = bundled_classifier().await;
    let ledger = temp_ledger(name);
    let licensing = start_licensing(exportctl_licensing::Config {
        classifier_url: classifier.url(),
        ledger: format!("sqlite://{}", ledger.display()),
        ..Default::default()
    })
    .await;
    (classifier, licensing, ledger)
}

pub async fn licensing_client(server: &Running) -> LicensingServiceClient<Channel> {
    LicensingServiceClient::connect(server.url())
        .await
        .expect("connects")
}

/// How many decisions the ledger holds (VerifyLedger's length).
pub async fn recorded(client: &mut LicensingServiceClient<Channel>) -> i64 {
    client
        .verify_ledger(exportctl_proto::licensing::VerifyLedgerRequest {})
        .await
        .expect("verify ledger")
        .into_inner()
        .length
}

/// Gallium nitride classified as of 2024-01-01 in every regime: the one item
/// many classifier tests send.
/// The fields an INVALID_ARGUMENT status names, in its order.
pub fn violated_fields(status: &tonic::Status) -> Vec<String> {
    exportctl_runtime::errors::field_violations(status)
        .into_iter()
        .map(|v| v.field)
        .collect()
}

pub fn gallium_nitride_classify() -> exportctl_proto::classifier::ClassifyRequest {
    use exportctl_proto::classifier::{ClassifyRequest, ItemKind, ProductSpec};
    ClassifyRequest {
        spec: Some(ProductSpec {
            kind: ItemKind::Material as i32,
            material: "gallium_nitride".into(),
            ..Default::default()
        }),
        as_of: "2024-01-01".into(),
        regimes: vec![],
    }
}

/// Gallium nitride (China's 2023 No. 23 item) from China to `destination` on `as_of`:
/// a one-line shipment many tests share.
pub fn gallium_nitride_shipment(
    request_id: &str,
    destination: &str,
    as_of: &str,
) -> exportctl_proto::licensing::DecideRequest {
    use exportctl_proto::classifier::{ItemKind, ProductSpec};
    use exportctl_proto::licensing as pb;
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
            quantity: 1.0,
            ..Default::default()
        }],
        as_of: as_of.into(),
        held_authorizations: Vec::new(),
        destination_subdivision: String::new(),
    }
}
