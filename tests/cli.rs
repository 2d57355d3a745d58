//! The `dbconfig` binary.
#![cfg(feature = "cli")]

mod common;

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

#[test]
fn check_postgres_prints_server_settings() {
    let Some(url) = common::pg_url("cli_check") else {
        return;
    };
    let with_password = url.replacen("postgres@", "postgres:hunter2@", 1);
    let out = Command::new(env!("CARGO_BIN_EXE_dbconfig"))
        .args(["check", &with_password])
        .env("DBCONFIG_APPLICATION_NAME", "cli-check")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("application_name = cli-check"), "{stdout}");
    assert!(stdout.contains("statement_timeout = 10s"), "{stdout}");
    assert!(stdout.contains("round trip"), "{stdout}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
}

fn schema_file() -> String {
    format!(
        "{}/examples/schema/orchestrator.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn ddl_prints_statements_for_both_dialects() {
    let (ok, stdout, stderr) = dbconfig(&["ddl", "--dialect", "postgresql", &schema_file()]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("CREATE TABLE IF NOT EXISTS \"flow_run\""),
        "{stdout}"
    );
    assert!(stdout.contains("USING gin"), "{stdout}");
    let (ok, stdout, stderr) = dbconfig(&["ddl", "--dialect", "sqlite", "--drop", &schema_file()]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("-- run on a connection with foreign keys off"),
        "{stdout}"
    );
    assert!(!stdout.contains("USING gin"));
    // A missing file and invalid metadata are errors, not panics.
    let (ok, _, stderr) = dbconfig(&["ddl", "--dialect", "sqlite", "/nonexistent.json"]);
    assert!(!ok && stderr.starts_with("error:"), "{stderr}");
}

#[test]
fn create_verify_drop_on_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("cli.db").display());
    let schema = schema_file();
    let (ok, stdout, stderr) = dbconfig(&["verify", &url, &schema]);
    assert!(!ok, "an empty database must differ: {stdout}{stderr}");
    assert!(stdout.contains("missing table flow_run"), "{stdout}");
    let (ok, _, stderr) = dbconfig(&["create", &url, &schema]);
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = dbconfig(&["verify", &url, &schema]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("matches"), "{stdout}");
    let (ok, _, stderr) = dbconfig(&["drop", &url, &schema]);
    assert!(ok, "{stderr}");
}

/// `check` reads the server's settings back: a value of an unexpected type (here `version()`
/// shadowed by a function returning an integer, from a schema listed before `pg_catalog` in
/// `search_path`) is an error naming the column and both types, not a panic.
#[test]
fn check_postgres_reports_a_value_of_an_unexpected_type() {
    let Some(url) = common::pg_url("cli_check_type") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        common::pg_admin(&url)
            .await
            .batch_execute(
                "CREATE SCHEMA shadow; \
                 CREATE FUNCTION shadow.version() RETURNS integer LANGUAGE sql AS 'SELECT 1'",
            )
            .await
            .unwrap();
    });
    let out = Command::new(env!("CARGO_BIN_EXE_dbconfig"))
        .args(["check", &url])
        .env("DBCONFIG_SEARCH_PATH", "shadow, pg_catalog")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("column 0") && stderr.contains("int4"),
        "{stderr}"
    );
}
