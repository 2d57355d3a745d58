//! `with_for_update = true` (BEGIN IMMEDIATE) versus DEFERRED for read-then-write transactions
//! while another writer — a separate connection, as another process would have — is active.
//!
//! The difference this documents: a DEFERRED transaction reads a snapshot, and if another
//! connection commits before it writes, its first write fails at once with
//! `SQLITE_BUSY_SNAPSHOT` (517). busy_timeout cannot help, because waiting cannot make the old
//! snapshot current. IMMEDIATE takes the write lock before reading, so the other writer waits
//! (in its busy handler) and the read-then-write transaction always succeeds.

use crate::common;

use std::sync::mpsc;
use std::time::Duration;

use common::file_url;
use dbconfig::{DatabaseConfig, SqliteConfig};
use rusqlite::Connection;

async fn setup(dir: &std::path::Path) -> (dbconfig::SqliteEngine, std::path::PathBuf) {
    let config = SqliteConfig::new(&file_url(dir, "fu.db")).unwrap();
    let engine = config.engine().await.unwrap();
    let mut s = engine.session();
    s.run(|c| c.execute_batch("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counter VALUES (1, 0);"))
        .await
        .unwrap();
    (engine, dir.join("fu.db"))
}

fn other_writer(path: &std::path::Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.busy_timeout(Duration::from_secs(30)).unwrap();
    c
}

#[tokio::test(flavor = "current_thread")]
async fn deferred_read_then_write_fails_with_busy_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, path) = setup(dir.path()).await;
    let mut session = engine.session();
    let mut tx = session.begin_transaction(false).await.unwrap();
    let n: i64 = tx
        .run(|c| c.query_row("SELECT n FROM counter WHERE id = 1", [], |r| r.get(0)))
        .unwrap();

    // Another connection commits a write after our read.
    other_writer(&path)
        .execute("UPDATE counter SET n = n + 1 WHERE id = 1", [])
        .unwrap();

    let err = tx
        .run(|c| c.execute("UPDATE counter SET n = ?1 WHERE id = 1", [n + 1]))
        .unwrap_err();
    assert!(err.is_busy(), "{err:?}");
    assert_eq!(
        err.sqlite_extended_code(),
        Some(517),
        "SQLITE_BUSY_SNAPSHOT: {err:?}"
    );
    drop(tx);
    drop(session);
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn immediate_read_then_write_never_fails_while_another_writer_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, path) = setup(dir.path()).await;
    for round in 0..5 {
        let mut session = engine.session();
        let mut tx = session.begin_transaction(true).await.unwrap();

        // Start the other writer now; it must block on our write lock. Its busy handler tells us
        // when it is actually waiting.
        let (waiting_tx, waiting_rx) = mpsc::channel::<()>();
        let other_path = path.clone();
        let other = std::thread::spawn(move || {
            let mut c = Connection::open(&other_path).unwrap();
            c.busy_handler(Some(move |attempt: i32| {
                if attempt == 0 {
                    let _ = waiting_tx.send(());
                }
                std::thread::sleep(Duration::from_millis(1));
                attempt < 30_000
            }))
            .unwrap();
            c.execute("UPDATE counter SET n = n + 100 WHERE id = 1", [])
        });
        waiting_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("other writer never waited");

        let n: i64 = tx
            .run(|c| c.query_row("SELECT n FROM counter WHERE id = 1", [], |r| r.get(0)))
            .unwrap();
        tx.run(|c| c.execute("UPDATE counter SET n = ?1 WHERE id = 1", [n + 1]))
            .unwrap();
        tx.commit().await.unwrap();

        assert_eq!(
            other.join().unwrap().unwrap(),
            1,
            "round {round}: other writer failed"
        );
        let final_n: i64 = session
            .run(|c| c.query_row("SELECT n FROM counter WHERE id = 1", [], |r| r.get(0)))
            .await
            .unwrap();
        // Both increments applied: ours (+1) then the other's (+100); nothing lost.
        assert_eq!(final_n, n + 1 + 100, "round {round}");
    }
    engine.dispose();
}
