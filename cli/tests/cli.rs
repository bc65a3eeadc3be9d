//! `exportctl classify` and `exportctl decide` as a person runs them: the
//! binary against both services on real loopback sockets, its output and its
//! exit codes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};

struct Services {
    classifier: String,
    licensing: String,
    dir: PathBuf,
}

impl Drop for Services {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The classifier and the licensing service on free loopback ports, with a
/// fresh SQLite ledger; they serve until the test's runtime ends.
async fn start(name: &str) -> Services {
    let dir = std::env::temp_dir().join(format!("exportctl-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    let classifier = exportctl_classifier::Application::build(exportctl_classifier::Config {
        listen: any_port,
        ..Default::default()
    })
    .await
    .unwrap();
    let classifier_url = format!("http://{}", classifier.local_addr());
    let licensing = exportctl_licensing::Application::build(exportctl_licensing::Config {
        listen: any_port,
        classifier_url: classifier_url.clone(),
        ledger: format!("sqlite://{}", dir.join("ledger.db").display()),
        // The official-layout fixture, as a production service loads the official list.
        screening_lists: vec![format!(
            "{}/../screening/tests/fixtures/csl-small.json",
            env!("CARGO_MANIFEST_DIR")
        )],
        ..Default::default()
    })
    .await
    .unwrap();
    let licensing_url = format!("http://{}", licensing.local_addr());
    tokio::spawn(classifier.run_until(std::future::pending()));
    tokio::spawn(licensing.run_until(std::future::pending()));
    Services {
        classifier: classifier_url,
        licensing: licensing_url,
        dir,
    }
}

/// Runs the exportctl binary (blocking this thread; the services run on the
/// runtime's workers).
fn exportctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exportctl"))
        .args(args)
        .env_remove("EXPORTCTL_CLASSIFIER_URL")
        .env_remove("EXPORTCTL_LICENSING_URL")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const EUV_RESIST: &[&str] = &[
    "--sku",
    "EUV-RESIST-1",
    "--kind",
    "material",
    "--material",
    "photoresist",
    "--resist-tone",
    "positive",
    "--wavelength-nm",
    "13.5",
    "--as-of",
    "2023-07-22",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classify_from_flags_prints_a_table_and_json() {
    let s = start("classify").await;
    let mut args = vec!["classify", "--classifier-url", &s.classifier];
    args.extend_from_slice(EUV_RESIST);
    let out = exportctl(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.starts_with("EUV-RESIST-1 as of 2023-07-22\n"),
        "{table}"
    );
    let us = table
        .lines()
        .find(|l| l.starts_with("US-EAR"))
        .unwrap_or_default();
    for cell in ["LISTED", "3C002.a.2", "NS2, AT1", "[low confidence]"] {
        assert!(us.contains(cell), "US-EAR row lacks {cell}: {table}");
    }
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("CN-ECL") && l.contains("NOT_LISTED")),
        "{table}"
    );

    args.push("--json");
    let out = exportctl(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["as_of"], "2023-07-22");
    let us = v["regimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["regime"] == "US-EAR")
        .unwrap();
    assert_eq!(us["status"], "CLASSIFICATION_STATUS_LISTED");
    assert_eq!(us["matches"][0]["entry_id"], "3C002.a.2");
    assert_eq!(us["matches"][0]["confidence"], "CONFIDENCE_LOW");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_request_prints_every_field_violation_and_exits_1() {
    let s = start("violations").await;
    let args = [
        "classify",
        "--classifier-url",
        &s.classifier,
        "--kind",
        "material",
        "--material",
        "photoresit",
        "--wavelength-nm",
        "-3",
        "--as-of",
        "2023-02-30",
    ];
    let out = exportctl(&args);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: classifier at {}: INVALID_ARGUMENT: ",
            s.classifier
        )),
        "{err}"
    );
    for field in ["spec.material", "spec.wavelength_nm", "as_of"] {
        assert!(
            err.contains(&format!("\n  {field}: ")),
            "no violation for {field}: {err}"
        );
    }

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = exportctl(&json_args);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["error"]["code"], "INVALID_ARGUMENT");
    let mut fields: Vec<&str> = v["error"]["field_violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["as_of", "spec.material", "spec.wavelength_nm"]);
}

/// `exportctl decide` of US wet-clean chemicals (WCC-200, line 10) for a
/// 16 nm FinFET logic fab in `destination`, headquartered there.
fn wet_clean_chemicals(
    licensing: &str,
    request_id: &str,
    destination: &str,
    as_of: &str,
) -> Vec<String> {
    [
        "decide",
        "--licensing-url",
        licensing,
        "--request-id",
        request_id,
        "--export-country",
        "US",
        "--destination-country",
        destination,
        "--end-user-name",
        "Example Logic Fab Co.",
        "--end-user-country",
        destination,
        "--purpose",
        "civil",
        "--ic-production",
        "true",
        "--fab-logic-node-nm",
        "16",
        "--fab-transistor-architecture",
        "finfet",
        "--fab-owner-headquarters",
        destination,
        "--line-id",
        "10",
        "--origin-country",
        "US",
        "--quantity",
        "200",
        "--sku",
        "WCC-200",
        "--kind",
        "material",
        "--material",
        "wet_clean_chemical",
        "--as-of",
        as_of,
    ]
    .map(String::from)
    .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decide_from_flags_and_from_a_yaml_file() {
    let s = start("decide").await;
    let flags = wet_clean_chemicals(&s.licensing, "PO-4711-10", "CN", "2023-03-01");
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let out = exportctl(&flags);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("request PO-4711-10  US -> CN  as of 2023-03-01\n"));
    assert!(table.contains("\noutcome: LICENSE_REQUIRED\n"), "{table}");
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("US-EAR  LICENSE_REQUIRED"))
        .unwrap_or_else(|| panic!("no US-EAR determination row: {table}"));
    assert!(row.contains("PRESUMPTION_OF_DENIAL") && row.ends_with("end_use"));
    assert!(
        table.contains("advanced-node fab"),
        "explanation missing: {table}"
    );

    // The same shipment as a YAML DecideRequest (short enum name, unquoted
    // date) is the same request: the recorded decision comes back.
    let file = s.dir.join("shipment.yaml");
    std::fs::write(
        &file,
        "request_id: PO-4711-10\nexport_country: US\ndestination_country: CN\n\
         end_user: {name: Example Logic Fab Co., country: CN}\n\
         end_use: {purpose: civil, ic_production: true, fab_logic_node_nm: 16, \
         fab_transistor_architecture: finfet, fab_owner_headquarters: CN}\n\
         lines:\n  - line_id: \"10\"\n    origin_country: US\n    quantity: 200\n    \
         spec: {sku: WCC-200, kind: MATERIAL, material: wet_clean_chemical}\n\
         as_of: 2023-03-01\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let out = exportctl(&[
        "decide",
        "--licensing-url",
        &s.licensing,
        "-f",
        file,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let d = &v["decision"];
    assert_eq!(d["outcome"], "OUTCOME_LICENSE_REQUIRED");
    assert_eq!(d["sequence"], 1, "the file request is the recorded one");
    let det = &d["lines"][0]["determinations"][0];
    assert_eq!(det["regime"], "US-EAR");
    assert_eq!(det["review_policy"], "REVIEW_POLICY_PRESUMPTION_OF_DENIAL");
    assert_eq!(det["missing_facts"], serde_json::json!([]));

    // A changed as_of under the same id is a different request.
    let out = exportctl(&[
        "decide",
        "--licensing-url",
        &s.licensing,
        "-f",
        file,
        "--as-of",
        "2023-03-02",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("ALREADY_EXISTS"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_input_exits_2_and_an_unreachable_service_exits_1() {
    let s = start("input").await;
    let file = s.dir.join("typo.json");
    std::fs::write(
        &file,
        r#"{"spec":{"kind":"MATERIAL","materal":"photoresist"}}"#,
    )
    .unwrap();
    let out = exportctl(&[
        "classify",
        "--classifier-url",
        &s.classifier,
        "-f",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown field `materal`"),
        "{}",
        stderr(&out)
    );

    let out = exportctl(&[
        "classify",
        "-f",
        file.to_str().unwrap(),
        "--kind",
        "material",
    ]);
    assert_eq!(out.status.code(), Some(2), "--file and spec flags conflict");

    let out = exportctl(&["classify", "--kind", "materiel"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown item kind `materiel`"));

    // A port nothing listens on: the one a just-closed listener had.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}");
    let mut args = vec!["classify", "--classifier-url", &url];
    args.extend_from_slice(EUV_RESIST);
    let out = exportctl(&args);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(&format!("error: classifier at {url}: UNAVAILABLE: ")),
        "{}",
        stderr(&out)
    );
}

/// A small ledger record `i` with `outcome`.
fn ledger_record(i: u8, outcome: i32) -> exportctl_licensing::ledger::NewRecord {
    exportctl_licensing::ledger::NewRecord {
        decision_id: format!("d{i}"),
        request_id: format!("r{i}"),
        request: vec![i],
        decision: vec![i],
        outcome,
        as_of: "2024-01-01".into(),
        created_at: "2024-01-01T00:00:00Z".into(),
        rules_digest: "sha256:p".into(),
        classifier_rules_digest: "sha256:c".into(),
    }
}

#[test]
fn ledger_verify_reports_an_intact_chain_and_the_first_broken_record() {
    use exportctl_licensing::ledger::{LedgerStore, SqliteLedger};
    let dir = std::env::temp_dir().join(format!("exportctl-cli-verify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ledger.db");
    let ledger = SqliteLedger::open(&path).unwrap();
    for i in 0..3 {
        ledger.append(ledger_record(i, 1)).unwrap();
    }
    drop(ledger);
    let url = format!("sqlite://{}", path.display());
    let ok = exportctl(&["ledger", "verify", "--ledger", &url]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(
        stdout(&ok).starts_with("intact: 3 records, head sha256:"),
        "{}",
        stdout(&ok)
    );

    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TRIGGER decisions_no_update; UPDATE decisions SET as_of = '2020-01-01' WHERE seq = 2;").unwrap();
    drop(conn);
    let broken = exportctl(&["ledger", "verify", "--ledger", &url, "--json"]);
    assert_eq!(broken.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&broken).trim()).unwrap();
    assert_eq!(v["intact"], false);
    assert_eq!(v["first_broken_sequence"], 2);
    assert_eq!(v["length"], 1);

    let missing = exportctl(&[
        "ledger",
        "verify",
        "--ledger",
        "sqlite:///nonexistent/ledger.db",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn ledger_verify_checks_keyed_records_and_the_anchor() {
    use exportctl_licensing::ledger::anchor::{Anchor, write_anchor};
    use exportctl_licensing::ledger::{LedgerKey, LedgerStore, SqliteLedger, relink};
    let dir = std::env::temp_dir().join(format!("exportctl-cli-keyed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ledger.db");
    let key_file = dir.join("key");
    std::fs::write(&key_file, "7e".repeat(32)).unwrap();
    let key = LedgerKey::read(&key_file).unwrap();
    let ledger = SqliteLedger::open_keyed(&path, Some(key.clone())).unwrap();
    for i in 0..5u8 {
        ledger.append(ledger_record(i, 3)).unwrap();
    }
    let v = ledger.verify().unwrap();
    drop(ledger);
    let anchor_file = dir.join("anchor.json");
    let anchor = Anchor::new(
        v.first_hash.clone().unwrap(),
        v.length,
        v.head_hash.clone(),
        "2026-01-01T00:00:00Z".into(),
        Some(&key),
    );
    write_anchor(&anchor_file, &anchor).unwrap();
    let url = format!("sqlite://{}", path.display());
    let key_arg = key_file.display().to_string();
    let anchor_arg = anchor_file.display().to_string();
    let with = |extra: &[&str]| {
        let mut args = vec!["ledger", "verify", "--ledger", &url];
        args.extend_from_slice(extra);
        exportctl(&args)
    };

    let ok = with(&["--key-file", &key_arg, "--anchor", &anchor_arg]);
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    assert!(
        stdout(&ok).contains("intact: 5 records, head hmac-sha256:")
            && stdout(&ok).contains("matches its anchor at record 5"),
        "{}",
        stdout(&ok)
    );
    // Without the key it cannot say the records are authentic.
    let unkeyed = with(&["--anchor", &anchor_arg]);
    assert_eq!(unkeyed.status.code(), Some(3), "{}", stdout(&unkeyed));
    assert!(
        stdout(&unkeyed).contains("NOT AUTHENTICATED"),
        "{}",
        stdout(&unkeyed)
    );

    // Record 3 rewritten and the chain recomputed with plain SHA-256.
    let mut records = exportctl_licensing::open_ledger(&url)
        .unwrap()
        .list(&exportctl_licensing::ledger::ListFilter {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    records.reverse();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TRIGGER decisions_no_update;")
        .unwrap();
    records[2].body.outcome = 1;
    let prev = records[1].hash.clone();
    relink(&mut records[2..], &prev, None);
    for r in &records[2..] {
        conn.execute(
            "UPDATE decisions SET outcome = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![r.body.outcome, r.prev_hash, r.hash, r.seq],
        )
        .unwrap();
    }
    let forged = with(&["--key-file", &key_arg, "--json"]);
    assert_eq!(forged.status.code(), Some(1), "{}", stdout(&forged));
    let j: serde_json::Value = serde_json::from_str(stdout(&forged).trim()).unwrap();
    assert_eq!(j["first_broken_sequence"], 3);
    assert_eq!(j["problem_kind"], "broken");

    // Cut back to 2 records (the forgery gone): the anchor says 5.
    conn.execute_batch("DROP TRIGGER decisions_no_delete; DELETE FROM decisions WHERE seq > 2;")
        .unwrap();
    drop(conn);
    let cut = with(&["--key-file", &key_arg, "--anchor", &anchor_arg]);
    assert_eq!(cut.status.code(), Some(1), "{}", stdout(&cut));
    assert!(
        stdout(&cut).starts_with("TRUNCATED: the ledger ends at record 2"),
        "{}",
        stdout(&cut)
    );
    // The whole file deleted: missing, not "no ledger".
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let gone = with(&["--key-file", &key_arg, "--anchor", &anchor_arg]);
    assert_eq!(gone.status.code(), Some(1), "{}", stdout(&gone));
    assert!(stdout(&gone).starts_with("MISSING:"), "{}", stdout(&gone));
    assert!(!path.exists(), "verify created a ledger");
    // A short key file is refused, naming the problem.
    std::fs::write(&key_file, "7e".repeat(8)).unwrap();
    let short = with(&["--key-file", &key_arg]);
    assert_eq!(short.status.code(), Some(2));
    assert!(stderr(&short).contains("8 bytes"), "{}", stderr(&short));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_get_lookup_and_list() {
    let s = start("decisions").await;
    let decide = |request_id: &str, destination: &str, as_of: &str| {
        let mut flags = wet_clean_chemicals(&s.licensing, request_id, destination, as_of);
        flags.push("--json".into());
        let out = exportctl(&flags.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        v["decision"]["name"].as_str().unwrap().to_string()
    };
    let list = |more: &[&str]| {
        let mut args = vec!["decisions", "list", "--licensing-url", &s.licensing];
        args.extend_from_slice(more);
        exportctl(&args)
    };
    let cn = decide("PO-1-10", "CN", "2023-03-01");
    decide("PO-2-10", "DE", "2023-03-02");
    decide("PO-3-10", "CN", "2023-03-03");

    let out = exportctl(&["decisions", "get", &cn, "--licensing-url", &s.licensing]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("\noutcome: LICENSE_REQUIRED\nstate: BLOCKED\n"),
        "{table}"
    );
    assert!(
        table.contains("parties: end_user Example Logic Fab Co. (CN)\n"),
        "{table}"
    );
    assert!(
        table.contains("line 10: LICENSE_REQUIRED  review: UNREVIEWED\n"),
        "{table}"
    );
    assert!(
        table.contains("  item: sku WCC-200 (wet_clean_chemical), quantity 200, origin US\n"),
        "{table}"
    );
    // The bare id works as well as the name.
    let id = cn.strip_prefix("decisions/").unwrap();
    let out = exportctl(&[
        "decisions",
        "get",
        id,
        "--licensing-url",
        &s.licensing,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let d = &v["decision"];
    assert_eq!(d["state"], "DECISION_STATE_BLOCKED");
    assert_eq!(d["lines"][0]["review_status"], "REVIEW_STATUS_UNREVIEWED");
    assert_eq!(d["request"]["lines"][0]["spec"]["sku"], "WCC-200");
    assert_eq!(d["request"]["lines"][0]["quantity"], 200.0);
    assert_eq!(d["request"]["end_user"]["name"], "Example Logic Fab Co.");

    let out = exportctl(&[
        "decisions",
        "lookup",
        "PO-1-10",
        "--licensing-url",
        &s.licensing,
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["decision"]["name"], cn.as_str());
    let out = exportctl(&[
        "decisions",
        "lookup",
        "PO-404",
        "--licensing-url",
        &s.licensing,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("NOT_FOUND") && stderr(&out).contains("PO-404"),
        "{}",
        stderr(&out)
    );

    let out = list(&[
        "--filter",
        "destination_country = CN AND state = BLOCKED",
        "--order-by",
        "as_of",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let rows: Vec<&str> = table.lines().collect();
    assert!(
        rows[0].starts_with("NAME") && rows[0].contains("STATE"),
        "{table}"
    );
    assert!(
        rows[1].contains("PO-1-10") && rows[1].contains("US->CN") && rows[1].contains("BLOCKED"),
        "{table}"
    );
    assert!(rows[2].contains("PO-3-10"), "{table}");
    assert_eq!(rows[3], "2 decisions", "{table}");

    // One page at a time: the table says how to get the next; --all follows them.
    let out = list(&["--page-size", "1"]);
    let table = stdout(&out);
    let token = table
        .lines()
        .find_map(|l| l.strip_prefix("next page: --page-token "))
        .unwrap_or_else(|| panic!("no next page: {table}"));
    assert!(table.lines().nth(1).unwrap().contains("PO-3-10"), "{table}");
    let out = list(&["--page-size", "1", "--page-token", token]);
    assert!(
        stdout(&out).lines().nth(1).unwrap().contains("PO-2-10"),
        "{}",
        stdout(&out)
    );
    let out = list(&["--page-size", "1", "--all", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ids: Vec<&str> = v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["PO-3-10", "PO-2-10", "PO-1-10"]);
    assert_eq!(v["next_page_token"], "");

    let out = list(&["--filter", "colour = red"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("\n  filter: unknown field `colour`"),
        "{}",
        stderr(&out)
    );
}
