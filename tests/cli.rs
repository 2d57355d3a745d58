//! The `dbconfig` binary.
#![cfg(feature = "cli")]

use std::process::Command;

fn dbconfig(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dbconfig"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn parse_json_postgres_redacts_and_lifts_tls() {
    let (ok, stdout, _) = dbconfig(&[
        "parse",
        "--json",
        "postgresql+asyncpg://prefect:hunter2@h1:5432,h2:5433/app?sslmode=verify-full&sslrootcert=/ca.pem&application_name=svc",
    ]);
    assert!(ok);
    assert!(!stdout.contains("hunter2"), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["dialect"], "postgresql");
    assert_eq!(v["hosts"], serde_json::json!(["h1", "h2"]));
    assert_eq!(v["ports"], serde_json::json!([5432, 5433]));
    assert_eq!(v["user"], "prefect");
    assert_eq!(v["dbname"], "app");
    assert_eq!(v["params"]["application_name"], "svc");
    assert_eq!(v["tls"]["sslmode"], "verify-full");
    assert_eq!(v["tls"]["sslrootcert"], "/ca.pem");
}

#[test]
fn parse_json_sqlite_and_errors() {
    let (ok, stdout, _) = dbconfig(&["parse", "--json", "sqlite:////data/:memory:x/a.db"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["dialect"], "sqlite");
    assert_eq!(v["in_memory"], false);
    assert_eq!(v["path"], "/data/:memory:x/a.db");

    let (ok, stdout, _) = dbconfig(&["parse", "--json", "mysql://u:hunter2@h/db"]);
    assert!(!ok);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(v["error"].as_str().unwrap().contains("mysql"));
    assert!(!stdout.contains("hunter2"));
}

#[test]
fn check_sqlite_prints_pragmas_and_latency() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("check.db").display());
    let (ok, stdout, stderr) = dbconfig(&["check", &url]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("journal_mode = wal"), "{stdout}");
    assert!(stdout.contains("busy_timeout = 60000"), "{stdout}");
    assert!(stdout.contains("round trip"), "{stdout}");
}
