//! Several processes on one SQLite file: concurrent writers, and a writer killed with SIGKILL.
//!
//! The child processes are this test binary itself, re-run with `--exact processes::child_process_entry`
//! and a role in the environment.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use dbconfig::{DatabaseConfig, SqliteConfig};

const ROLE: &str = "DBCONFIG_TEST_CHILD_ROLE";
const DB: &str = "DBCONFIG_TEST_CHILD_DB";
const FIRST_ID: &str = "DBCONFIG_TEST_CHILD_FIRST_ID";
const COUNT: &str = "DBCONFIG_TEST_CHILD_COUNT";

/// Entry point of the child processes; does nothing in a normal test run.
#[test]
fn child_process_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let url = std::env::var(DB).unwrap();
    let first: i64 = std::env::var(FIRST_ID).unwrap().parse().unwrap();
    let count: i64 = std::env::var(COUNT).unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = SqliteConfig::new(&url).unwrap();
        let engine = config.engine().await.unwrap();
        for id in first..first + count {
            let mut session = engine.session();
            let mut tx = session.begin_transaction(true).await.unwrap();
            tx.run(|c| c.execute("INSERT INTO t (id, v) VALUES (?1, ?2)", (id, role.as_str())))
                .unwrap();
            tx.commit().await.unwrap();
            if role == "acker" {
                // Acknowledged only after COMMIT returned.
                println!("ack {id}");
            }
        }
    });
}

fn child(role: &str, url: &str, first: i64, count: i64) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        // The test's path in the `sqlite` test binary.
        "processes::child_process_entry",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE, role)
    .env(DB, url)
    .env(FIRST_ID, first.to_string())
    .env(COUNT, count.to_string());
    cmd
}

async fn prepare(url: &str) {
    let config = SqliteConfig::new(url).unwrap();
    let engine = config.engine().await.unwrap();
    common::create_table(&engine).await;
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn two_processes_write_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::file_url(dir.path(), "p.db");
    prepare(&url).await;

    let a = child("writer-a", &url, 1, 400)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let b = child("writer-b", &url, 100_001, 400)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        a.status.success(),
        "writer a failed: {}",
        String::from_utf8_lossy(&a.stderr)
    );
    assert!(
        b.status.success(),
        "writer b failed: {}",
        String::from_utf8_lossy(&b.stderr)
    );

    let config = SqliteConfig::new(&url).unwrap();
    let engine = config.engine().await.unwrap();
    let by_writer: Vec<(String, i64)> = engine
        .session()
        .run(|c| {
            let mut stmt = c.prepare("SELECT v, count(*) FROM t GROUP BY v ORDER BY v")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .await
        .unwrap();
    assert_eq!(
        by_writer,
        vec![("writer-a".to_owned(), 400), ("writer-b".to_owned(), 400)]
    );
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn sigkill_mid_load_keeps_every_acknowledged_commit() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::file_url(dir.path(), "k.db");
    prepare(&url).await;

    let mut proc = child("acker", &url, 1, 1_000_000)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = proc.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut acked = Vec::new();
    while acked.len() < 500 {
        let line = lines.next().expect("child exited early").unwrap();
        if let Some(id) = line.strip_prefix("ack ") {
            acked.push(id.parse::<i64>().unwrap());
        }
    }
    proc.kill().unwrap(); // SIGKILL
    // Acknowledgements already written before the kill count too.
    for line in lines.map_while(Result::ok) {
        if let Some(id) = line.strip_prefix("ack ") {
            acked.push(id.parse::<i64>().unwrap());
        }
    }
    let status = proc.wait().unwrap();
    assert!(!status.success(), "the child should have been killed");

    let conn = rusqlite::Connection::open(dir.path().join("k.db")).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let mut missing = Vec::new();
    for id in &acked {
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t WHERE id = ?1", [id], |r| r.get(0))
            .unwrap();
        if n != 1 {
            missing.push(*id);
        }
    }
    assert!(missing.is_empty(), "acknowledged commits lost: {missing:?}");
    let total: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert!(total >= acked.len() as i64);
}
