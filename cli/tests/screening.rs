//! Party screening through the real binaries: `exportctl serve
//! --screening-list FIXTURE` on free loopback ports, then `exportctl decide
//! --json` as a person runs it. A listed party (the end user, or another
//! party given with `--party`) is LICENSE_REQUIRED by the fixture's Entity
//! List entry, with the JSON layout of the list or its CSV; without any list,
//! the US-EAR end-user check is INDETERMINATE naming `screening list`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `exportctl serve` in a temporary directory; killed and cleaned up on drop.
struct Serve {
    child: Child,
    licensing: String,
    dir: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../screening/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Starts `exportctl serve` with both services on ports the system picks and
/// waits for the log line that announces their addresses.
fn serve(name: &str, extra: &[&str]) -> Serve {
    let dir =
        std::env::temp_dir().join(format!("exportctl-screening-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_exportctl"))
        .args([
            "serve",
            "--classifier-listen",
            "127.0.0.1:0",
            "--licensing-listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ])
        .arg("--ledger")
        .arg(format!("sqlite://{}", dir.join("ledger.db").display()))
        .args(extra)
        .env_remove("LICENSING_SCREENING_LIST")
        .env_remove("LICENSING_ALLOW_PARTIAL_SCREENING")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    // Reads the log to the end, so that the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(at) = line.find("\"licensing\":\"")
                && let Some(tx) = tx.take()
            {
                let rest = &line[at + 13..];
                let _ = tx.send(Ok(rest[..rest.find('"').unwrap()].to_string()));
            } else if tx.is_some() {
                seen.push(line);
            }
        }
        if let Some(tx) = tx {
            let _ = tx.send(Err(seen.join("\n")));
        }
    });
    let mut serve = Serve {
        child,
        licensing: String::new(),
        dir,
    };
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(addr)) => serve.licensing = format!("http://{addr}"),
        Ok(Err(log)) => panic!("exportctl serve exited without serving:\n{log}"),
        Err(e) => panic!("exportctl serve did not announce its addresses: {e}"),
    }
    serve
}

fn exportctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exportctl"))
        .args(args)
        .env_remove("EXPORTCTL_LICENSING_URL")
        .output()
        .unwrap()
}

/// `exportctl decide --json` of an EAR99 item (kind OTHER) from the US to
/// `destination` for `end_user` on 2026-08-01, plus `extra` flags.
fn decide(
    s: &Serve,
    id: &str,
    end_user: &str,
    destination: &str,
    extra: &[&str],
) -> serde_json::Value {
    let mut args = vec![
        "decide",
        "--licensing-url",
        &s.licensing,
        "--json",
        "--request-id",
        id,
        "--export-country",
        "US",
        "--destination-country",
        destination,
        "--end-user-name",
        end_user,
        "--end-user-country",
        destination,
        "--purpose",
        "civil",
        "--origin-country",
        "US",
        "--kind",
        "other",
        "--description",
        "office furniture",
        "--as-of",
        "2026-08-01",
    ];
    args.extend_from_slice(extra);
    let out = exportctl(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exportctl decide failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["decision"].clone()
}

fn determinations(d: &serde_json::Value) -> Vec<serde_json::Value> {
    d["lines"][0]["determinations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The listed end user, and a listed consignee beside an unlisted end user,
/// are LICENSE_REQUIRED by the Entity List entry of the list `list` loads.
fn listed_parties_need_a_license(list: &str, name: &str) {
    let s = serve(name, &["--screening-list", &fixture(list)]);

    let d = decide(&s, "huawei-1", "Huawei Technologies Co., Ltd.", "CN", &[]);
    assert_eq!(d["outcome"], "OUTCOME_LICENSE_REQUIRED", "{d:#}");
    let el: Vec<_> = determinations(&d)
        .into_iter()
        .filter(|x| {
            x["rule_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("screening:EL:"))
        })
        .collect();
    let el = el
        .first()
        .unwrap_or_else(|| panic!("no Entity List determination: {d:#}"));
    assert_eq!(el["regime"], "US-EAR");
    assert_eq!(el["outcome"], "OUTCOME_LICENSE_REQUIRED");
    assert_eq!(el["review_policy"], "REVIEW_POLICY_PRESUMPTION_OF_DENIAL");
    assert_eq!(el["party_match"]["list"], "EL");
    assert_eq!(el["party_match"]["role"], "end_user");
    assert_eq!(el["party_match"]["exact"], true);
    let sources = d["screening_sources"].as_array().unwrap();
    assert_eq!(sources.len(), 1, "{d:#}");
    assert_eq!(sources[0]["entries"], 10);
    assert!(
        sources[0]["name"].as_str().unwrap().ends_with(list),
        "{sources:?}"
    );
    assert!(
        d["pack_vintages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["regime"] == "US-EAR"),
        "{d:#}"
    );

    // Another party of the transaction, given with --party, is screened too.
    let d = decide(
        &s,
        "consignee-1",
        "Example Trading Ltd.",
        "CN",
        &["--party", "consignee=Huawei Technologies Co., Ltd.@CN"],
    );
    assert_eq!(d["outcome"], "OUTCOME_LICENSE_REQUIRED", "{d:#}");
    assert!(
        determinations(&d).iter().any(|x| x["rule_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("screening:EL:"))
            && x["party_match"]["role"] == "consignee"),
        "no Entity List determination for the consignee: {d:#}"
    );

    // An unlisted party to Japan: no screening determination at all.
    let d = decide(&s, "toyota-1", "Toyota Motor Corporation", "JP", &[]);
    assert_eq!(d["outcome"], "OUTCOME_NO_LICENSE_REQUIRED", "{d:#}");
    assert!(
        determinations(&d).iter().all(|x| !x["rule_id"]
            .as_str()
            .unwrap_or("")
            .starts_with("screening:")),
        "{d:#}"
    );
}

#[test]
fn serve_with_the_json_list_screens_the_end_user_and_other_parties() {
    listed_parties_need_a_license("csl-small.json", "json");
}

#[test]
fn serve_with_the_csv_list_screens_the_same() {
    listed_parties_need_a_license("csl-small.csv", "csv");
}

#[test]
fn serve_without_a_list_cannot_clear_a_party() {
    let s = serve("none", &[]);
    let d = decide(&s, "toyota-1", "Toyota Motor Corporation", "JP", &[]);
    assert_eq!(d["outcome"], "OUTCOME_INDETERMINATE", "{d:#}");
    let missing: Vec<_> = determinations(&d)
        .into_iter()
        .filter(|x| x["regime"] == "US-EAR" && x["outcome"] == "OUTCOME_INDETERMINATE")
        .collect();
    assert!(
        missing.iter().any(|x| x["missing_facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "screening list")),
        "no US-EAR determination names the missing screening list: {d:#}"
    );
    assert_eq!(d["screening_sources"], serde_json::json!([]), "{d:#}");
}
