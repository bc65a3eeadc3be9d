//! `exportctl`: the human entry point.
//!
//! - `exportctl serve` runs the classifier and the licensing service in one
//!   process on the embedded defaults (bundled rule packs, SQLite ledger).
//! - `exportctl decisions get|lookup|list` reads recorded decisions back.
//! - `exportctl classify` and `exportctl decide` call the running services
//!   over gRPC, with the request given as flags or as a JSON/YAML file, and
//!   print a table (or `--json`). A failed call prints its gRPC status and
//!   every `BadRequest` field violation and exits 1; a request that cannot be
//!   read exits 2.

mod input;
mod output;
mod tables;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use exportctl_proto::classifier::ClassifyRequest;
use exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient;
use exportctl_proto::licensing::licensing_service_client::LicensingServiceClient;
use exportctl_proto::licensing::{
    DecideRequest, Decision, GetDecisionRequest, ListDecisionsRequest, LookupDecisionRequest,
};
use exportctl_runtime::server::shutdown_signal;
use exportctl_runtime::telemetry::{self, LogFormat};
use tokio::sync::watch;
use tonic::transport::{Channel, Endpoint};

use crate::input::{ClassifyFile, DecideFile, ShipmentArgs, SpecArgs};

#[derive(Debug, Parser)]
#[command(
    name = "exportctl",
    version,
    about = "Export-control classification and licensing for semiconductor products"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the classifier and the licensing service in one process.
    Serve(Box<ServeArgs>),
    /// Classify one product with the running classifier service.
    ///
    /// The spec comes from flags, e.g.
    /// `exportctl classify --kind material --material photoresist --resist-tone positive
    /// --wavelength-nm 13.5 --as-of 2023-07-22`, or from a ClassifyRequest in JSON or
    /// YAML (`--file item.yaml`; proto field names, kind as ITEM_KIND_MATERIAL or MATERIAL).
    Classify(Box<ClassifyArgs>),
    /// Decide a shipment with the running licensing service (recorded in its ledger).
    ///
    /// The shipment (one line) comes from flags, e.g.
    /// `exportctl decide --export-country US --destination-country CN --end-user-name "Example
    /// Logic Fab Co." --end-user-country CN --purpose civil --ic-production true
    /// --fab-logic-node-nm 16 --origin-country US --kind material --material wet_clean_chemical`,
    /// or from a DecideRequest in JSON or YAML (`--file shipment.yaml`; any number of lines).
    Decide(Box<DecideArgs>),
    /// Read recorded decisions back from the running licensing service.
    ///
    /// `exportctl decisions get decisions/ID` (or just ID), `exportctl decisions lookup
    /// REQUEST_ID` (the id the ERP sent), `exportctl decisions list --filter
    /// 'lines.outcome = INDETERMINATE AND as_of >= "2024-01-01"' --order-by "as_of desc"`.
    #[command(subcommand)]
    Decisions(DecisionsCommand),
    /// Work on a decision ledger directly (no service needed).
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Compare the US pack's Country Chart, Country Groups and control-list
    /// reasons for a date with the official extracts of that date (CSV), and
    /// print every difference. Exits 1 on any difference.
    CheckTables {
        /// The folder of the extracts (country-chart-*.csv, country-groups-*.csv,
        /// ccl-reasons-*.csv).
        #[arg(long, value_name = "DIR")]
        data_dir: std::path::PathBuf,
        /// Policy packs to check instead of the bundled ones.
        #[arg(long, value_name = "DIR")]
        policy_dir: Option<std::path::PathBuf>,
        /// The date the extracts state (YYYY-MM-DD).
        #[arg(long, default_value = "2026-07-23")]
        on: String,
    },
}

#[derive(Debug, Subcommand)]
enum DecisionsCommand {
    /// One decision by its name (decisions/ID, or ID), with the request it decided.
    Get {
        name: String,
        #[command(flatten)]
        service: LicensingArgs,
    },
    /// The decision recorded for a request id (the ERP's own key).
    Lookup {
        request_id: String,
        #[command(flatten)]
        service: LicensingArgs,
    },
    /// Recorded decisions, one row each (newest first unless --order-by says otherwise).
    List(Box<ListArgs>),
}

/// The licensing service and the call options.
#[derive(Debug, clap::Args)]
struct LicensingArgs {
    /// The licensing service.
    #[arg(
        long,
        env = "EXPORTCTL_LICENSING_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    licensing_url: String,
    #[command(flatten)]
    call: CallArgs,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// AIP-160 filter, e.g. `state = BLOCKED AND destination_country = CN`; fields: state,
    /// outcome, lines.outcome, export_country, destination_country, party, rules_digest,
    /// request_id, as_of, create_time (see the README).
    #[arg(long, value_name = "FILTER", default_value = "")]
    filter: String,
    /// create_time desc (default), create_time, as_of desc or as_of.
    #[arg(long, value_name = "ORDER", default_value = "")]
    order_by: String,
    /// Decisions per page (default 50, at most 500).
    #[arg(long, value_name = "N", default_value_t = 0)]
    page_size: i32,
    /// Continue from this token (printed under a page that has more after it).
    #[arg(long, value_name = "TOKEN", default_value = "", conflicts_with = "all")]
    page_token: String,
    /// Follow the page tokens and print every matching decision.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    service: LicensingArgs,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Walk the hash chain and report its length and head hash, or the first broken record;
    /// with --anchor, also check the ledger against its last anchor (truncated, diverged,
    /// replaced or missing ledger). Exits 0 when intact, 1 when broken or not matching the
    /// anchor, 2 when the ledger, key or anchor cannot be read, 3 when the links are intact
    /// but keyed records (or a MACed anchor) could not be authenticated for want of --key-file.
    Verify {
        /// The ledger: sqlite://PATH or postgres://…
        #[arg(
            long,
            env = "LICENSING_LEDGER",
            default_value = "sqlite://./exportctl-ledger.db"
        )]
        ledger: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// The ledger key file: keyed records (and the anchor's MAC) are checked with it.
        #[arg(long, value_name = "PATH", env = "LICENSING_LEDGER_KEY_FILE")]
        key_file: Option<PathBuf>,
        /// The ledger's anchor (a file, or a directory holding exportctl-ledger.anchor).
        #[arg(long, value_name = "PATH", env = "LICENSING_LEDGER_ANCHOR")]
        anchor: Option<PathBuf>,
    },
}

/// Exit code of a ledger whose links hold but whose keyed parts were not authenticated.
const UNAUTHENTICATED: u8 = 3;

/// `exportctl ledger verify`: opens the ledger read-side, walks the chain
/// and checks it against the anchor, if one is given.
fn verify_ledger(
    url: &str,
    json: bool,
    key_file: Option<&Path>,
    anchor: Option<&Path>,
) -> ExitCode {
    use exportctl_licensing::ledger::anchor::{self, Refusal};
    let unreadable = |e: &dyn std::fmt::Display| {
        eprintln!("error: cannot verify {url}: {e}");
        ExitCode::from(2)
    };
    let key = match exportctl_licensing::read_ledger_key(key_file) {
        Ok(k) => k,
        Err(e) => return unreadable(&e),
    };
    let anchor = match anchor.map(anchor::anchor_file) {
        Some(file) => match anchor::read_anchor(&file) {
            Ok(a) => a,
            Err(e) => return unreadable(&e),
        },
        None => None,
    };
    let missing = exportctl_licensing::sqlite_path(url).is_some_and(|p| !p.exists());
    // Verifying must not create an empty ledger where there is none.
    let walked = if missing {
        if anchor.is_none() {
            return unreadable(&"no ledger file");
        }
        Ok((
            exportctl_licensing::ledger::ChainWalk::default().finish(),
            None,
        ))
    } else {
        exportctl_licensing::open_ledger_keyed(url, key.clone())
            .and_then(|l| Ok((l.verify()?, Some(l))))
    };
    let (v, ledger) = match walked {
        Ok(w) => w,
        Err(e) => return unreadable(&format!("{e:#}")),
    };
    let checked = anchor::check(&v, anchor.as_ref(), key.as_ref(), |seq| match &ledger {
        Some(l) => l.hash_at(seq),
        None => Ok(None),
    });
    let refusal: Option<Refusal> = match checked {
        Ok(()) => None,
        Err(exportctl_licensing::Error::LedgerRefused(r)) => Some(r),
        Err(e) => return unreadable(&e),
    };
    let anchor_unchecked = anchor
        .as_ref()
        .is_some_and(|a| a.mac.is_some() && key.is_none());
    let authenticated = v.unauthenticated == 0 && !anchor_unchecked;
    if json {
        let out = serde_json::json!({
            "intact": refusal.is_none(),
            "authenticated": authenticated,
            "length": v.length,
            "head_hash": v.head_hash,
            "keyed_from": v.keyed_from,
            "unauthenticated_records": v.unauthenticated,
            "first_broken_sequence": v.broken.as_ref().map(|b| b.0),
            "problem_kind": refusal.as_ref().map(|r| r.kind),
            "problem": refusal.as_ref().map(|r| match &v.broken {
                Some((_, p)) => p.clone(),
                None => r.detail.clone(),
            }),
            "anchor": anchor.as_ref().map(|a| serde_json::json!({
                "sequence": a.sequence,
                "head_hash": a.head_hash,
                "written_at": a.written_at,
                "keyed": a.mac.is_some(),
            })),
        });
        println!("{out}");
    } else {
        match (&refusal, &v.broken) {
            (None, _) => {
                let against = anchor.as_ref().map_or(String::new(), |a| {
                    format!(", matches its anchor at record {}", a.sequence)
                });
                println!(
                    "intact: {} records, head {}{against}",
                    v.length, v.head_hash
                );
                if !authenticated {
                    println!(
                        "NOT AUTHENTICATED: the chain is keyed from record {} ({} keyed records{}) and no --key-file was given: its links hold, but whether the records were rewritten cannot be checked",
                        v.keyed_from.unwrap_or(0),
                        v.unauthenticated,
                        if anchor_unchecked {
                            ", and a MACed anchor"
                        } else {
                            ""
                        }
                    );
                }
            }
            (Some(_), Some((seq, problem))) => println!(
                "BROKEN at record {seq}: {problem} ({} records verify before it, last good hash {})",
                v.length, v.head_hash
            ),
            (Some(r), None) => println!("{}: {}", r.kind.to_uppercase(), r.detail),
        }
    }
    match (&refusal, authenticated) {
        (Some(_), _) => ExitCode::FAILURE,
        (None, false) => ExitCode::from(UNAUTHENTICATED),
        (None, true) => ExitCode::SUCCESS,
    }
}

/// `exportctl check-tables`: the US pack against the official extracts.
fn check_tables(
    data_dir: &std::path::Path,
    policy_dir: Option<&std::path::Path>,
    on: &str,
) -> ExitCode {
    let run = || -> anyhow::Result<()> {
        let on = time::Date::parse(
            on,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|e| anyhow::anyhow!("--on {on}: {e}"))?;
        let set = match policy_dir {
            Some(d) => exportctl_licensing::PolicySet::load_dir(d)?,
            None => exportctl_licensing::PolicySet::bundled()?,
        };
        let us = set
            .regimes
            .get("US-EAR")
            .ok_or_else(|| anyhow::anyhow!("no US-EAR pack"))?;
        tables::run(us, data_dir, on)
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Options of every call to a service.
#[derive(Debug, clap::Args)]
struct CallArgs {
    /// Print the response (or the error) as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Deadline of the call, milliseconds (sent to the service as grpc-timeout).
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    timeout_ms: u64,
    /// API key, for services that require one (sent as `authorization: Bearer KEY`).
    #[arg(long, env = "EXPORTCTL_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ClassifyArgs {
    /// The classifier service.
    #[arg(
        long,
        env = "EXPORTCTL_CLASSIFIER_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    classifier_url: String,
    /// Read the ClassifyRequest from this JSON or YAML file (`-` = standard
    /// input) instead of the spec flags.
    #[arg(long, short, value_name = "PATH", conflicts_with = "spec_flags")]
    file: Option<PathBuf>,
    /// Evaluation date, YYYY-MM-DD (default: today, UTC); overrides the file's.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Only this regime, e.g. US-EAR (default: all). Repeatable; overrides the file's.
    #[arg(long = "regime", value_name = "REGIME")]
    regimes: Vec<String>,
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    call: CallArgs,
}

#[derive(Debug, clap::Args)]
struct DecideArgs {
    /// The licensing service.
    #[arg(
        long,
        env = "EXPORTCTL_LICENSING_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    licensing_url: String,
    /// Read the DecideRequest from this JSON or YAML file (`-` = standard
    /// input) instead of the shipment and spec flags.
    #[arg(
        long,
        short,
        value_name = "PATH",
        conflicts_with_all = ["spec_flags", "shipment_flags"]
    )]
    file: Option<PathBuf>,
    /// Idempotency key: the same id with the same request returns the recorded
    /// decision. Overrides the file's; when neither gives one, a new id is made.
    #[arg(long, value_name = "ID")]
    request_id: Option<String>,
    /// Shipment date, YYYY-MM-DD (default: today, UTC); overrides the file's.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    #[command(flatten)]
    shipment: ShipmentArgs,
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    call: CallArgs,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Classifier listen address.
    #[arg(long, env = "CLASSIFIER_LISTEN", default_value = "127.0.0.1:50051")]
    classifier_listen: SocketAddr,
    /// Licensing listen address.
    #[arg(long, env = "LICENSING_LISTEN", default_value = "127.0.0.1:50052")]
    licensing_listen: SocketAddr,
    /// The decision ledger: sqlite://PATH.
    #[arg(
        long,
        env = "LICENSING_LEDGER",
        default_value = "sqlite://./exportctl-ledger.db"
    )]
    ledger: String,
    /// Rules directory for the classifier instead of the bundled packs.
    #[arg(long, env = "CLASSIFIER_RULES")]
    rules: Option<PathBuf>,
    /// Policy directory for the licensing service instead of the bundled packs.
    #[arg(long, env = "LICENSING_POLICY")]
    policy: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, env = "EXPORTCTL_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// The licensing service classifies in this process, with the classifier
    /// served beside it, instead of over a loopback gRPC connection.
    #[arg(long, env = "EXPORTCTL_IN_PROCESS_CLASSIFIER")]
    in_process_classifier: bool,
    /// Bounds on calls, streams and connections, for both services.
    #[command(flatten)]
    limits: ServeLimits,
    #[command(flatten)]
    screening: exportctl_licensing::ScreeningArgs,
    #[command(flatten)]
    ledger_integrity: exportctl_licensing::LedgerArgs,
}

exportctl_runtime::limit_args!(ServeLimits, "EXPORTCTL_");

async fn serve(args: Box<ServeArgs>) -> anyhow::Result<()> {
    let telemetry = telemetry::init(args.log_format, "exportctl");
    // Handlers first: a SIGTERM once the services report SERVING drains them.
    let signalled = shutdown_signal();
    let limits = args.limits.limits();
    let classifier = exportctl_classifier::Application::build(exportctl_classifier::Config {
        listen: args.classifier_listen,
        rules: args.rules,
        limits,
        ..Default::default()
    })
    .await?;
    let in_process = args
        .in_process_classifier
        .then(|| exportctl_classifier::Classifier::new(classifier.rules(), false));
    let mut config = exportctl_licensing::Config {
        listen: args.licensing_listen,
        classifier_url: format!("http://{}", classifier.local_addr()),
        in_process_classifier: in_process,
        ledger: args.ledger,
        policy: args.policy,
        limits,
        ..Default::default()
    };
    args.screening.apply(&mut config);
    args.ledger_integrity.apply(&mut config);
    let licensing = exportctl_licensing::Application::build(config).await?;
    tracing::info!(classifier = %classifier.local_addr(), licensing = %licensing.local_addr(), "exportctl serving");
    let (stop, stopped) = watch::channel(false);
    let wait = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let signal = async move {
        signalled.await;
        let _ = stop.send(true);
        Ok::<(), anyhow::Error>(())
    };
    let served = tokio::try_join!(
        classifier.run_until(wait(stopped.clone())),
        licensing.run_until(wait(stopped)),
        signal
    );
    telemetry.shutdown().await;
    served?;
    Ok(())
}

/// Why a call did not produce a response.
enum Failure {
    /// The request could not be read or built (exit 2).
    Input(anyhow::Error),
    /// The service answered with an error, or could not be reached (exit 1).
    Rpc {
        target: String,
        status: tonic::Status,
    },
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::Input(e)
    }
}

/// A lazily connecting channel to `url` (`host:port` means `http://host:port`).
fn channel(url: &str, timeout: Duration) -> anyhow::Result<Channel> {
    let url = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    let endpoint = Endpoint::from_shared(url.clone())
        .with_context(|| format!("invalid service url `{url}`"))?
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .tcp_nodelay(true);
    Ok(endpoint.connect_lazy())
}

fn request_for<T>(message: T, call: &CallArgs) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(Duration::from_millis(call.timeout_ms));
    if let Some(key) = &call.api_key {
        let value = format!("Bearer {key}")
            .parse()
            .context("the API key is not valid header text")?;
        request.metadata_mut().insert("authorization", value);
    }
    Ok(request)
}

fn read_request<F, T>(path: &Path) -> anyhow::Result<T>
where
    F: serde::de::DeserializeOwned,
    T: TryFrom<F, Error = anyhow::Error>,
{
    let file: F = input::read_file(path)?;
    T::try_from(file).with_context(|| format!("{}: not a valid request", path.display()))
}

async fn classify(args: Box<ClassifyArgs>) -> Result<String, Failure> {
    let mut request: ClassifyRequest = match &args.file {
        Some(path) => read_request::<ClassifyFile, _>(path)?,
        None => ClassifyRequest {
            spec: Some(args.spec.to_spec()),
            ..Default::default()
        },
    };
    if let Some(as_of) = args.as_of {
        request.as_of = as_of;
    }
    if !args.regimes.is_empty() {
        request.regimes = args.regimes;
    }
    let timeout = Duration::from_millis(args.call.timeout_ms);
    let mut client = ClassifierServiceClient::new(channel(&args.classifier_url, timeout)?);
    let response = client
        .classify(request_for(request, &args.call).map_err(Failure::Input)?)
        .await
        .map_err(|status| Failure::Rpc {
            target: format!("classifier at {}", args.classifier_url),
            status,
        })?
        .into_inner();
    Ok(if args.call.json {
        pretty(&output::classify_json(&response))
    } else {
        output::classify_table(&response)
    })
}

/// A request id for a request that names none: `cli-` and the time in
/// microseconds and the process id, so two runs never share one.
fn new_request_id() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default();
    format!("cli-{micros}-{}", std::process::id())
}

async fn decide(args: Box<DecideArgs>) -> Result<String, Failure> {
    let mut request: DecideRequest = match &args.file {
        Some(path) => read_request::<DecideFile, _>(path)?,
        None => args.shipment.to_request(&args.spec),
    };
    if let Some(id) = args.request_id {
        request.request_id = id;
    }
    if request.request_id.is_empty() {
        request.request_id = new_request_id();
    }
    if let Some(as_of) = args.as_of {
        request.as_of = as_of;
    }
    let timeout = Duration::from_millis(args.call.timeout_ms);
    let mut client = LicensingServiceClient::new(channel(&args.licensing_url, timeout)?);
    let response = client
        .decide(request_for(request, &args.call).map_err(Failure::Input)?)
        .await
        .map_err(|status| Failure::Rpc {
            target: format!("licensing at {}", args.licensing_url),
            status,
        })?
        .into_inner();
    Ok(if args.call.json {
        pretty(&output::decide_json(&response))
    } else {
        match &response.decision {
            Some(d) => output::decision_table(d),
            None => "the service returned no decision\n".to_string(),
        }
    })
}

fn licensing_client(args: &LicensingArgs) -> anyhow::Result<LicensingServiceClient<Channel>> {
    let timeout = Duration::from_millis(args.call.timeout_ms);
    Ok(LicensingServiceClient::new(channel(
        &args.licensing_url,
        timeout,
    )?))
}

fn licensing_failure(args: &LicensingArgs) -> impl Fn(tonic::Status) -> Failure + '_ {
    move |status| Failure::Rpc {
        target: format!("licensing at {}", args.licensing_url),
        status,
    }
}

/// One decision (get or lookup) as a table or JSON.
fn one_decision(decision: Option<&Decision>, json: bool) -> String {
    match (decision, json) {
        (d, true) => pretty(&serde_json::json!({ "decision": d.map(output::decision_json) })),
        (Some(d), false) => output::decision_table(d),
        (None, false) => "the service returned no decision\n".to_string(),
    }
}

async fn decisions(command: DecisionsCommand) -> Result<String, Failure> {
    match command {
        DecisionsCommand::Get { name, service } => {
            let name = if name.contains('/') {
                name
            } else {
                format!("decisions/{name}")
            };
            let request = request_for(GetDecisionRequest { name }, &service.call)?;
            let response = licensing_client(&service)?
                .get_decision(request)
                .await
                .map_err(licensing_failure(&service))?
                .into_inner();
            Ok(one_decision(response.decision.as_ref(), service.call.json))
        }
        DecisionsCommand::Lookup {
            request_id,
            service,
        } => {
            let request = request_for(LookupDecisionRequest { request_id }, &service.call)?;
            let response = licensing_client(&service)?
                .lookup_decision(request)
                .await
                .map_err(licensing_failure(&service))?
                .into_inner();
            Ok(one_decision(response.decision.as_ref(), service.call.json))
        }
        DecisionsCommand::List(args) => {
            let service = &args.service;
            let mut client = licensing_client(service)?;
            let mut all = Vec::new();
            let mut token = args.page_token.clone();
            loop {
                let request = request_for(
                    ListDecisionsRequest {
                        filter: args.filter.clone(),
                        order_by: args.order_by.clone(),
                        page_size: args.page_size,
                        page_token: token,
                        ..Default::default()
                    },
                    &service.call,
                )?;
                let page = client
                    .list_decisions(request)
                    .await
                    .map_err(licensing_failure(service))?
                    .into_inner();
                all.extend(page.decisions);
                token = page.next_page_token;
                if !args.all || token.is_empty() {
                    break;
                }
            }
            Ok(if service.call.json {
                pretty(&output::list_json(&all, &token))
            } else {
                output::list_table(&all, &token)
            })
        }
    }
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Prints a call's result and gives the exit code.
fn report(result: Result<String, Failure>, json: bool) -> ExitCode {
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(Failure::Rpc { target, status }) => {
            if json {
                print!("{}", pretty(&output::status_json(&target, &status)));
            }
            eprint!("{}", output::status_text(&target, &status));
            ExitCode::from(1)
        }
        Err(Failure::Input(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

// Many small, short-lived allocations per call (protobuf strings) and frees on other threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => match serve(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Classify(args) => {
            let json = args.call.json;
            report(classify(args).await, json)
        }
        Command::Decide(args) => {
            let json = args.call.json;
            report(decide(args).await, json)
        }
        Command::Decisions(command) => {
            let json = match &command {
                DecisionsCommand::Get { service, .. }
                | DecisionsCommand::Lookup { service, .. } => service.call.json,
                DecisionsCommand::List(args) => args.service.call.json,
            };
            report(decisions(command).await, json)
        }
        Command::CheckTables {
            data_dir,
            policy_dir,
            on,
        } => check_tables(&data_dir, policy_dir.as_deref(), &on),
        Command::Ledger(LedgerCommand::Verify {
            ledger,
            json,
            key_file,
            anchor,
        }) => {
            // Opening a ledger blocks: keep it off the executor.
            tokio::task::spawn_blocking(move || {
                verify_ledger(&ledger, json, key_file.as_deref(), anchor.as_deref())
            })
            .await
            .unwrap_or(ExitCode::from(2))
        }
    }
}
