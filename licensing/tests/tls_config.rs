//! The licensing binary refuses TLS misconfiguration at start-up, naming the
//! flag, before it opens a ledger or listens.

use std::process::{Command, Stdio};

/// Runs the binary with `args`; its exit success and standard error.
fn run(args: &[&str]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("exportctl-tls-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_licensing"));
    command
        .args(["--listen", "127.0.0.1:0", "--ledger"])
        .arg(format!("sqlite://{}", dir.join("ledger.db").display()))
        .args(args)
        .stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("LICENSING_") || k.starts_with("OTEL_") {
            command.env_remove(&key);
        }
    }
    let out = command.output().expect("runs licensing");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tls_misconfiguration_stops_the_binary_naming_the_flag() {
    let dir = std::env::temp_dir().join(format!("exportctl-tls-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let not_pem = not_pem.to_str().unwrap();

    let (ok, err) = run(&[
        "--classifier-url",
        "http://127.0.0.1:50051",
        "--classifier-ca",
        not_pem,
    ]);
    assert!(!ok);
    assert!(
        err.contains("--classifier-ca is set but --classifier-url"),
        "{err}"
    );

    let (ok, err) = run(&[
        "--classifier-url",
        "http://classifier.example:50051",
        "--classifier-api-key",
        "secret-key",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--classifier-api-key would be sent in the clear"),
        "{err}"
    );
    assert!(!err.contains("secret-key"), "{err}");

    let (ok, err) = run(&["--tls-cert", not_pem, "--tls-key", not_pem]);
    assert!(!ok);
    assert!(err.contains("--tls-cert: "), "{err}");

    let (ok, err) = run(&[
        "--classifier-url",
        "https://127.0.0.1:50051",
        "--classifier-ca",
        "/nonexistent/ca.pem",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--classifier-ca: cannot read /nonexistent/ca.pem"),
        "{err}"
    );
}
