//! The `dbconfig` binary.
#![cfg(feature = "cli")]

mod common;

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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
    assert_eq!(v["inmemory"], false);
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

/// Runs the binary with `env` and its output captured, killing it if it is still running after
/// `cap`. Returns its exit status (`None` when it had to be killed), stdout, stderr and how long
/// it ran.
fn run_capped(
    args: &[&str],
    env: &[(&str, &str)],
    cap: Duration,
) -> (Option<ExitStatus>, String, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dbconfig"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_string(&mut text).ok();
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    // Waits for the child's exit on a thread; past `cap` it is killed by pid.
    let pid = child.id();
    let (exited_tx, exited_rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = exited_tx.send(child.wait().unwrap());
    });
    let status = match exited_rx.recv_timeout(cap) {
        Ok(status) => Some(status),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            None
        }
    };
    waiter.join().unwrap();
    let elapsed = started.elapsed();
    (
        status,
        stdout.join().unwrap(),
        stderr.join().unwrap(),
        elapsed,
    )
}

/// `timeout` and `connection_timeout` for the silent-network runs, and the documented bound of
/// one round trip they give (`timeout + connection_timeout`).
const SILENT_ENV: [(&str, &str); 2] = [
    ("DBCONFIG_TIMEOUT", "1"),
    ("DBCONFIG_CONNECTION_TIMEOUT", "1"),
];
const SILENT_BOUND: Duration = Duration::from_secs(2);

/// Runs `command` against a database reached through a proxy that forwards the startup
/// handshake and then nothing: the command must fail with a timeout within the bound (plus
/// slack for process start and a loaded machine), not hang.
fn times_out_on_a_silent_network(prefix: &str, command: &[&str]) {
    let Some(url) = common::pg_url(prefix) else {
        return;
    };
    let Some(target) = common::proxy::tcp_target(&url) else {
        return;
    };
    let proxy = common::proxy::SilentProxy::silent_after_handshake(target);
    let url = proxy.url(&url);
    let schema = schema_file();
    let mut args = command.to_vec();
    args.push(&url);
    if args[0] != "check" {
        args.push(&schema);
    }
    let cap = Duration::from_secs(30);
    let (status, stdout, stderr, elapsed) = run_capped(&args, &SILENT_ENV, cap);
    let Some(status) = status else {
        panic!("dbconfig {command:?} hung (killed after {cap:?}): {stdout}{stderr}");
    };
    assert_eq!(status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("timed out after 2s waiting for the server to answer"),
        "{stderr}"
    );
    assert!(
        elapsed < SILENT_BOUND + Duration::from_secs(3),
        "dbconfig {command:?} took {elapsed:?}"
    );
    eprintln!("dbconfig {command:?}: {} after {elapsed:?}", stderr.trim());
}

#[test]
fn check_postgres_times_out_on_a_silent_network() {
    times_out_on_a_silent_network("cli_silent_check", &["check"]);
}

#[test]
fn create_postgres_times_out_on_a_silent_network() {
    times_out_on_a_silent_network("cli_silent_create", &["create"]);
}

#[test]
fn verify_postgres_times_out_on_a_silent_network() {
    times_out_on_a_silent_network("cli_silent_verify", &["verify"]);
}

/// Runs the binary with its stdout a pipe whose read end is already closed (`dbconfig … |
/// head` once `head` has exited): every write fails with EPIPE. Returns the exit status and
/// stderr.
fn with_closed_stdout(args: &[&str]) -> (ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_dbconfig"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_commands_own_status() {
    let (status, stderr) = with_closed_stdout(&["parse", "postgresql://u:hunter2@h/db"]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");

    let (status, stderr) = with_closed_stdout(&["parse", "--json", "sqlite:///a.db"]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("closed.db").display());
    let (status, stderr) = with_closed_stdout(&["check", &url]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    // `verify` keeps its meaning: 1 = the database differs from the schema.
    let (status, stderr) = with_closed_stdout(&["verify", &url, &schema_file()]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn another_stdout_error_is_reported_and_fails() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_dbconfig"))
        .args(["parse", "sqlite:///a.db"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr.matches("error: cannot write to stdout").count(),
        1,
        "{stderr}"
    );
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

/// `dbconfig migrate`: status (exit 1 while steps are pending), up with a line per step, status
/// at the head, `--json`, stamp, and a failing step named with exit 1 and nothing of it kept.
#[test]
fn migrate_status_up_stamp_on_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let steps = dir.path().join("migrations");
    std::fs::create_dir(&steps).unwrap();
    std::fs::write(
        steps.join("0001_create_jobs.sql"),
        "CREATE TABLE job (id BIGINT PRIMARY KEY, name TEXT NOT NULL);",
    )
    .unwrap();
    std::fs::write(
        steps.join("0002_add_priority.sql"),
        "ALTER TABLE job ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;",
    )
    .unwrap();
    let steps = steps.to_str().unwrap();
    let url = common::file_url(dir.path(), "m.db");

    let (ok, stdout, _) = dbconfig(&["migrate", "status", &url, steps]);
    assert!(!ok, "pending steps: exit 1\n{stdout}");
    assert!(
        stdout.contains("0001 create jobs") && stdout.contains("pending"),
        "{stdout}"
    );

    let (ok, stdout, stderr) = dbconfig(&["migrate", "up", &url, steps]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("applied 0001 create jobs"), "{stdout}");
    assert!(stdout.contains("applied 0002 add priority"), "{stdout}");

    let (ok, stdout, _) = dbconfig(&["migrate", "status", "--json", &url, steps]);
    assert!(ok, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["at_head"], true);
    assert_eq!(v["steps"][1]["id"], "0002");
    assert_eq!(v["steps"][1]["state"], "applied");
    assert_eq!(v["steps"][1]["checksum_ok"], true);

    let (ok, stdout, _) = dbconfig(&["migrate", "up", "--json", &url, steps]);
    assert!(ok);
    assert_eq!(stdout.trim(), r#"{"applied":[]}"#);

    // A database made without migrations, stamped at the first step, then upgraded.
    let other = common::file_url(dir.path(), "other.db");
    let (ok, _, stderr) = dbconfig(&["migrate", "up", &other, steps]);
    assert!(ok, "{stderr}");
    let fresh = common::file_url(dir.path(), "fresh.db");
    let (ok, stdout, _) = dbconfig(&["migrate", "stamp", "--to", "0001", &fresh, steps]);
    assert!(ok);
    assert!(stdout.contains("1 steps recorded"), "{stdout}");

    // A failing step: exit 1, named, and the database still at the step before.
    std::fs::write(
        std::path::Path::new(steps).join("0003_broken.sql"),
        "CREATE TABLE half (x INTEGER);\nINSERT INTO no_such_table VALUES (1);",
    )
    .unwrap();
    let (ok, _, stderr) = dbconfig(&["migrate", "up", &url, steps]);
    assert!(!ok);
    assert!(
        stderr.contains("migration 0003 (broken) failed"),
        "{stderr}"
    );
    let (_, stdout, _) = dbconfig(&["migrate", "status", "--json", &url, steps]);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["steps"][2]["state"], "pending");
}

/// `migrate plan`: prints the step, writes it as the directory's next step, `up` applies it, and
/// the database then verifies against the schema file; a destructive change is not written
/// without `--destructive`.
#[test]
fn migrate_plan_writes_the_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = dir.path().join("v1.json");
    let v2 = dir.path().join("v2.json");
    std::fs::write(
        &v1,
        r#"{"tables": [{"name": "job", "primary_key": ["id"], "columns": [
            {"name": "id", "type": "bigint", "nullable": false},
            {"name": "legacy", "type": "text"}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        &v2,
        r#"{"tables": [{"name": "job", "primary_key": ["id"], "columns": [
            {"name": "id", "type": "bigint", "nullable": false},
            {"name": "legacy", "type": "text"},
            {"name": "created", "type": "timestamptz", "default": "current_timestamp"}],
            "indexes": [{"name": "ix_job_created", "parts": ["created"]}]},
           {"name": "tag", "primary_key": ["id"], "columns": [
            {"name": "id", "type": "bigint", "nullable": false}]}]}"#,
    )
    .unwrap();
    let (v1, v2) = (v1.to_str().unwrap(), v2.to_str().unwrap());
    let steps = dir.path().join("migrations");
    let steps = steps.to_str().unwrap();
    let url = common::file_url(dir.path(), "p.db");
    let (ok, _, stderr) = dbconfig(&["create", &url, v1]);
    assert!(ok, "{stderr}");

    let (ok, stdout, stderr) = dbconfig(&["migrate", "plan", &url, v2]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("+ rebuild table job"), "{stderr}");
    assert!(stderr.contains("+ add table tag"), "{stderr}");
    assert!(stdout.contains("-- dbconfig:foreign_keys=off"), "{stdout}");
    assert!(
        stdout.contains("CREATE TABLE \"dbconfig_rebuild_job\""),
        "{stdout}"
    );

    let (ok, stdout, stderr) = dbconfig(&[
        "migrate", "plan", "--dir", steps, "--name", "add tags", &url, v2,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("0001_add_tags.sqlite.sql"), "{stdout}");
    let (ok, stdout, stderr) = dbconfig(&["migrate", "up", &url, steps]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("applied 0001 add tags"), "{stdout}");
    let (ok, stdout, _) = dbconfig(&["verify", &url, v2]);
    assert!(ok, "{stdout}");
    let (ok, stdout, _) = dbconfig(&["migrate", "plan", &url, v2]);
    assert!(ok);
    assert!(stdout.contains("nothing to plan"), "{stdout}");

    // Back to v1's columns: dropping `created` is destructive.
    let (ok, stdout, _) = dbconfig(&["migrate", "plan", "--json", &url, v1]);
    assert!(ok, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["dialect"], "sqlite");
    let kinds: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.iter().all(|k| *k == "destructive"), "{kinds:?}");
    assert_eq!(
        v["sql"],
        serde_json::Value::Null,
        "nothing written without --destructive"
    );
    let (ok, stdout, stderr) =
        dbconfig(&["migrate", "plan", "--dir", steps, "--destructive", &url, v1]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("0002_planned.sqlite.sql"), "{stdout}");
    let (ok, _, stderr) = dbconfig(&["migrate", "up", &url, steps]);
    assert!(ok, "{stderr}");
    let (ok, stdout, _) = dbconfig(&["verify", &url, v1]);
    assert!(ok, "{stdout}");
}

/// `backup`, `restore` and `check --integrity` on a SQLite file (human and `--json` output,
/// exit status 1 for a database with a foreign-key violation, PostgreSQL URLs refused).
#[test]
fn backup_restore_and_integrity_on_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));
         INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);",
    )
    .unwrap();
    let url = common::file_url(dir.path(), "live.db");
    let copy = dir.path().join("copy.db");
    let copy = copy.to_str().unwrap();

    let (ok, stdout, stderr) = dbconfig(&["backup", &url, copy]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("backup: ") && stdout.contains("pages copied to"),
        "{stdout}"
    );
    assert!(stderr.contains("pages (100%)"), "a progress line: {stderr}");
    let (ok, stdout, _) = dbconfig(&["check", "--integrity", "--json", &url]);
    assert!(ok, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["check"], "integrity_check");

    // A row whose parent is gone (written with foreign keys off): exit 1, named.
    conn.execute_batch("PRAGMA foreign_keys = OFF; INSERT INTO child VALUES (2, 99);")
        .unwrap();
    let (ok, stdout, _) = dbconfig(&["check", "--integrity", "--quick", &url]);
    assert!(!ok, "{stdout}");
    assert!(stdout.contains("quick_check: ok"), "{stdout}");
    assert!(
        stdout.contains("foreign_key_check: 1 row(s) without their parent"),
        "{stdout}"
    );
    assert!(stdout.contains("child rowid 2 -> parent"), "{stdout}");

    // Restore the backup: the orphan is gone.
    drop(conn);
    let (ok, stdout, stderr) = dbconfig(&["restore", "--json", &url, copy]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(v["pages"].as_u64().unwrap() > 0, "{stdout}");
    let (ok, stdout, _) = dbconfig(&["check", "--integrity", &url]);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("foreign_key_check: ok"), "{stdout}");

    let (ok, _, stderr) = dbconfig(&["backup", "postgresql://u@127.0.0.1:9/db", copy]);
    assert!(!ok);
    assert!(stderr.contains("SQLite databases only"), "{stderr}");
}
