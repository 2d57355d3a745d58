//! Versioned migrations (`dbconfig::migrate`) on a SQLite file, SQLite in memory and PostgreSQL,
//! through one generic body: a v1 → v2 → v3 upgrade keeping the rows written at v1, a step that
//! fails halfway, changed checksums, stamping, and concurrent upgrades (two processes on one
//! SQLite file, four tasks on one PostgreSQL database), each step applied exactly once.
//!
//! The SQLite processes are this test binary itself, re-run with `--exact
//! migrate::child_process_entry`.

use std::process::Command;

use crate::common;

use dbconfig::migrate::{Migration, MigrationError, Migrations, StepState};
use dbconfig::prelude::*;
use dbconfig::schema::{Column, ColumnDefault, ColumnType, Index, Literal, Metadata, Table, ddl};
use dbconfig::{Dialect, Error, PostgresConfig, SqliteConfig};

/// The schema at each version: v2 adds a column and an index to v1, v3 adds a table.
fn schema(version: u32) -> Metadata {
    let mut job = Table::new("job")
        .column(Column::new("id", ColumnType::BigInt).not_null())
        .column(Column::new("name", ColumnType::Text).not_null())
        .primary_key(["id"]);
    if version >= 2 {
        job = job
            .column(
                Column::new("priority", ColumnType::Integer)
                    .not_null()
                    .default(ColumnDefault::Value(Literal::Int(0))),
            )
            .index(Index::new("ix_job_priority", ["priority"]));
    }
    let mut metadata = Metadata::new().table(job);
    if version >= 3 {
        metadata = metadata.table(
            Table::new("tag")
                .column(Column::new("id", ColumnType::BigInt).not_null())
                .column(Column::new("label", ColumnType::Varchar(40)).not_null())
                // `varchar` without a length: PostgreSQL `character varying`, SQLite `VARCHAR`.
                .column(Column::new("note", ColumnType::VarcharUnbounded))
                .primary_key(["id"]),
        );
    }
    metadata
}

/// The DDL of `metadata` on both dialects, as one text each (`IF NOT EXISTS` throughout, so
/// what exists already is left alone).
fn ddl_step(id: &str, description: &str, prefix: &str, metadata: &Metadata) -> Migration {
    let text = |dialect| {
        let mut sql = prefix.to_owned();
        for statement in ddl::create_statements(metadata, dialect).unwrap() {
            sql.push_str(&statement);
            sql.push_str(";\n");
        }
        sql
    };
    Migration::per_dialect(id, description)
        .sqlite(text(Dialect::Sqlite))
        .postgres(text(Dialect::Postgres))
}

fn steps(version: u32) -> Migrations {
    let mut set = Migrations::new().step(ddl_step("0001", "jobs", "", &schema(1)));
    if version >= 2 {
        set = set.step(ddl_step(
            "0002",
            "job priority",
            "ALTER TABLE job ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;\n",
            &schema(2),
        ));
    }
    if version >= 3 {
        set = set.step(ddl_step("0003", "tags", "", &schema(3)));
    }
    set
}

fn applied_ids(applied: &[dbconfig::migrate::Applied]) -> Vec<&str> {
    applied.iter().map(|a| a.id.as_str()).collect()
}

/// v1 → v2 → v3, rows of v1 kept, then the same database as a fresh `create_db` of v3.
async fn upgrade_keeps_rows<C: DatabaseConfig>(config: &C) {
    let engine = config.engine().await.unwrap();
    assert_eq!(applied_ids(&steps(1).up(config).await.unwrap()), ["0001"]);
    let mut session = config.session(&engine).await.unwrap();
    for id in 1..=3i64 {
        session
            .execute(
                "INSERT INTO job (id, name) VALUES ($1, $2)",
                &[&id, &format!("job {id}")],
            )
            .await
            .unwrap();
    }
    assert_eq!(applied_ids(&steps(2).up(config).await.unwrap()), ["0002"]);
    assert_eq!(applied_ids(&steps(3).up(config).await.unwrap()), ["0003"]);
    assert!(
        steps(3).up(config).await.unwrap().is_empty(),
        "nothing left"
    );
    let rows = session
        .query("SELECT id, name, priority FROM job ORDER BY id", &[])
        .await
        .unwrap();
    let got: Vec<(i64, String, i64)> = rows
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
        .collect();
    assert_eq!(
        got,
        (1..=3)
            .map(|id| (id, format!("job {id}"), 0))
            .collect::<Vec<_>>()
    );
    assert_eq!(config.verify_db(&engine, &schema(3)).await.unwrap(), []);
    let status = steps(3).status(config).await.unwrap();
    assert_eq!(status.len(), 3);
    assert!(status.iter().all(|s| matches!(
        s.state,
        StepState::Applied {
            checksum_ok: true,
            ..
        }
    )));
}

/// A step that fails in its middle keeps nothing of itself; the steps before stay applied and
/// `status` shows it pending.
async fn failed_step_keeps_nothing<C: DatabaseConfig>(config: &C) {
    let set = steps(1).step(Migration::new(
        "0002",
        "breaks halfway",
        "CREATE TABLE half (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\nCREATE TABLE never (y INTEGER);",
    ));
    let err = set.up(config).await.unwrap_err();
    match &err {
        Error::Migration(MigrationError::StepFailed { id, .. }) => assert_eq!(id, "0002"),
        other => panic!("expected StepFailed, got {other:?}"),
    }
    assert!(err.to_string().contains("0002"), "{err}");
    let status = set.status(config).await.unwrap();
    assert!(matches!(status[0].state, StepState::Applied { .. }));
    assert_eq!(status[1].state, StepState::Pending);
    let engine = config.engine().await.unwrap();
    let mut session = config.session(&engine).await.unwrap();
    assert!(
        session.query("SELECT x FROM half", &[]).await.is_err(),
        "the failed step's first table must not exist"
    );
    session.query("SELECT id FROM job", &[]).await.unwrap();
}

/// An applied step whose text changed stops `up` before anything runs; line endings do not
/// count as a change; `accept_checksum` records the new text.
async fn changed_checksum_is_refused<C: DatabaseConfig>(config: &C) {
    steps(1).up(config).await.unwrap();
    let original = steps(1).steps()[0].clone();
    let crlf = Migration::per_dialect("0001", "jobs")
        .sqlite(original.sqlite.clone().unwrap().replace('\n', "\r\n") + "\n\n")
        .postgres(original.postgres.clone().unwrap().replace('\n', "\r\n") + "\n\n");
    let next = Migration::new("0002", "t2", "CREATE TABLE t2 (x INTEGER)");
    let same = Migrations::new().step(crlf.clone());
    assert!(same.up(config).await.unwrap().is_empty(), "CRLF is no edit");
    let edited = Migration::per_dialect("0001", "jobs")
        .sqlite(original.sqlite.clone().unwrap() + "-- a comment\n")
        .postgres(original.postgres.clone().unwrap() + "-- a comment\n");
    let set = Migrations::new().step(edited.clone()).step(next);
    match set.up(config).await.unwrap_err() {
        Error::Migration(MigrationError::ChecksumMismatch { id, .. }) => assert_eq!(id, "0001"),
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
    let status = set.status(config).await.unwrap();
    assert!(matches!(
        status[0].state,
        StepState::Applied {
            checksum_ok: false,
            ..
        }
    ));
    assert_eq!(status[1].state, StepState::Pending, "nothing ran");
    set.accept_checksum(config, "0001").await.unwrap();
    assert_eq!(applied_ids(&set.up(config).await.unwrap()), ["0002"]);
    // A step the database has and the set lacks.
    match Migrations::new().step(edited).up(config).await.unwrap_err() {
        Error::Migration(MigrationError::Unknown { id }) => assert_eq!(id, "0002"),
        other => panic!("expected Unknown, got {other:?}"),
    }
}

/// An empty database is created at v3 and stamped; one with tables but no record is refused.
async fn create_or_upgrade_stamps<C: DatabaseConfig>(config: &C, unmanaged: &C) {
    let engine = config.engine().await.unwrap();
    assert!(
        steps(3)
            .create_or_upgrade(config, &schema(3))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(config.verify_db(&engine, &schema(3)).await.unwrap(), []);
    assert!(steps(3).up(config).await.unwrap().is_empty(), "stamped");
    let other = unmanaged.engine().await.unwrap();
    unmanaged.create_db(&other, &schema(1)).await.unwrap();
    match steps(3)
        .create_or_upgrade(unmanaged, &schema(3))
        .await
        .unwrap_err()
    {
        Error::Migration(MigrationError::Unmanaged { table }) => assert_eq!(table, "job"),
        other => panic!("expected Unmanaged, got {other:?}"),
    }
    assert_eq!(steps(3).stamp_to(unmanaged, "0001").await.unwrap(), 1);
    assert_eq!(
        applied_ids(&steps(3).up(unmanaged).await.unwrap()),
        ["0002", "0003"]
    );
    assert_eq!(unmanaged.verify_db(&other, &schema(3)).await.unwrap(), []);
}

/// Steps whose effect shows how often each ran: every step after the first adds a row.
fn counted(n: usize) -> Migrations {
    (2..=n).fold(
        Migrations::new().step(Migration::new(
            "0001",
            "hits",
            "CREATE TABLE hits (step VARCHAR(10) NOT NULL)",
        )),
        |set, i| {
            let id = format!("{i:04}");
            let sql = format!("INSERT INTO hits (step) VALUES ('{id}')");
            set.step(Migration::new(id, "hit", sql))
        },
    )
}

async fn hits<C: DatabaseConfig>(config: &C) -> Vec<(String, i64)> {
    let engine = config.engine().await.unwrap();
    let mut session = config.session(&engine).await.unwrap();
    session
        .query(
            "SELECT step, count(*) FROM hits GROUP BY step ORDER BY step",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap()))
        .collect()
}

fn once_each(n: usize) -> Vec<(String, i64)> {
    (2..=n).map(|i| (format!("{i:04}"), 1)).collect()
}

#[tokio::test]
async fn sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = |name: &str| SqliteConfig::new(&common::file_url(dir.path(), name)).unwrap();
    upgrade_keeps_rows(&config("up.db")).await;
    failed_step_keeps_nothing(&config("fail.db")).await;
    changed_checksum_is_refused(&config("sum.db")).await;
    create_or_upgrade_stamps(&config("new.db"), &config("old.db")).await;
}

#[tokio::test]
async fn sqlite_in_memory() {
    let memory = |name: &str| {
        SqliteConfig::new(&format!(
            "sqlite:///file:{name}?mode=memory&cache=shared&uri=true"
        ))
        .unwrap()
    };
    let config = memory("mig_up");
    assert!(config.is_inmemory());
    upgrade_keeps_rows(&config).await;
    failed_step_keeps_nothing(&memory("mig_fail")).await;
    changed_checksum_is_refused(&memory("mig_sum")).await;
    create_or_upgrade_stamps(&memory("mig_new"), &memory("mig_old")).await;
}

#[tokio::test]
async fn postgres() {
    let Some(url) = common::pg_url("migrate") else {
        return;
    };
    let config = |url: &str| PostgresConfig::new(url).unwrap();
    upgrade_keeps_rows(&config(&url)).await;
    let fresh = || common::pg_url("migrate").unwrap();
    failed_step_keeps_nothing(&config(&fresh())).await;
    changed_checksum_is_refused(&config(&fresh())).await;
    create_or_upgrade_stamps(&config(&fresh()), &config(&fresh())).await;
}

/// Four tasks upgrading one PostgreSQL database at once, 20 times: every step once, no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_upgrades_apply_each_step_once() {
    const STEPS: usize = 6;
    if common::pg_url("migrate_probe").is_none() {
        return;
    }
    for _ in 0..20 {
        let url = common::pg_url("migrate_race").unwrap();
        let config = PostgresConfig::new(&url).unwrap();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let config = config.clone();
                tokio::spawn(async move { counted(STEPS).up(&config).await.map(|a| a.len()) })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap().unwrap();
        }
        assert_eq!(total, STEPS, "each step applied by exactly one task");
        assert_eq!(hits(&config).await, once_each(STEPS));
        config.engine().await.unwrap().dispose();
    }
}

const CHILD_DB: &str = "DBCONFIG_TEST_MIGRATE_DB";

/// Entry point of the child processes; does nothing in a normal test run.
#[test]
fn child_process_entry() {
    let Ok(url) = std::env::var(CHILD_DB) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = SqliteConfig::new(&url).unwrap();
        let applied = counted(6).up(&config).await.unwrap();
        println!("applied {}", applied.len());
    });
}

/// Two processes upgrading one SQLite file at once, 20 times: every step once, no error.
#[tokio::test]
async fn sqlite_two_processes_apply_each_step_once() {
    const STEPS: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    for run in 0..20 {
        let url = common::file_url(dir.path(), &format!("race{run}.db"));
        let children: Vec<_> = (0..2)
            .map(|_| {
                let mut cmd = Command::new(std::env::current_exe().unwrap());
                cmd.args([
                    "--exact",
                    // The test's path in the `schema` test binary.
                    "migrate::child_process_entry",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DB, &url);
                // On the blocking pool, so both children start before either is awaited.
                tokio::task::spawn_blocking(move || cmd.output().unwrap())
            })
            .collect();
        let mut total = 0;
        for child in children {
            let out = child.await.unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "child failed: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let n: usize = stdout
                .lines()
                .find_map(|l| l.split("applied ").nth(1))
                .and_then(|n| n.trim().parse().ok())
                .expect("the child reports how many steps it applied");
            total += n;
        }
        assert_eq!(
            total, STEPS,
            "run {run}: each step applied by exactly one process"
        );
        let config = SqliteConfig::new(&url).unwrap();
        assert_eq!(hits(&config).await, once_each(STEPS));
    }
}

/// The blocking runner on a plain rusqlite connection (what the browser uses): it continues a
/// database the async runner started, keeps rows, stops at a failing step keeping nothing of
/// it, and `create_or_upgrade_sqlite` stamps an empty database.
#[test]
fn blocking_runner_on_a_plain_connection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blocking.db");
    let url = common::file_url(dir.path(), "blocking.db");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let config = SqliteConfig::new(&url).unwrap();
            steps(1).up(&config).await.unwrap();
            config.engine().await.unwrap().dispose();
        });
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("INSERT INTO job (id, name) VALUES (1, 'kept')")
        .unwrap();
    let mut seen = Vec::new();
    let applied = steps(3)
        .up_sqlite_with(&conn, |a| seen.push(a.id.clone()))
        .unwrap();
    assert_eq!(applied_ids(&applied), ["0002", "0003"]);
    assert_eq!(seen, ["0002", "0003"]);
    assert!(steps(3).up_sqlite(&conn).unwrap().is_empty());
    let (name, priority): (String, i64) = conn
        .query_row("SELECT name, priority FROM job WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((name.as_str(), priority), ("kept", 0));
    assert_eq!(
        dbconfig::schema::reflect::sqlite::verify(&conn, &schema(3)).unwrap(),
        []
    );

    let broken = steps(3).step(Migration::new(
        "0004",
        "breaks halfway",
        "CREATE TABLE half (x INTEGER);\nINSERT INTO no_such_table VALUES (1);",
    ));
    match broken.up_sqlite(&conn).unwrap_err() {
        Error::Migration(MigrationError::StepFailed { id, .. }) => assert_eq!(id, "0004"),
        other => panic!("expected StepFailed, got {other:?}"),
    }
    let status = broken.status_sqlite(&conn).unwrap();
    assert_eq!(status[3].state, StepState::Pending);
    assert!(
        conn.prepare("SELECT x FROM half").is_err(),
        "nothing of 0004 kept"
    );
    assert!(conn.is_autocommit(), "no transaction left open");

    let fresh = rusqlite::Connection::open(dir.path().join("fresh.db")).unwrap();
    assert!(
        steps(3)
            .create_or_upgrade_sqlite(&fresh, &schema(3))
            .unwrap()
            .is_empty()
    );
    let status = steps(3).status_sqlite(&fresh).unwrap();
    assert!(status.iter().all(|s| matches!(
        s.state,
        StepState::Applied {
            checksum_ok: true,
            ..
        }
    )));
}
