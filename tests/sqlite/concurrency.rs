//! Many tokio tasks writing (and reading) one SQLite file through one engine.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::{count_rows, create_table, file_url};
use dbconfig::{ConnectionTracker, DatabaseConfig, SqliteConfig, SqliteEngine};

const TASKS: i64 = 64;
const PER_TASK: i64 = 200;

async fn write_load(engine: &SqliteEngine) -> u64 {
    let errors = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let engine = engine.clone();
        let errors = Arc::clone(&errors);
        handles.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                let id = task * PER_TASK + i + 1;
                let result = async {
                    let mut session = engine.session();
                    let mut tx = session.begin_transaction(true).await?;
                    tx.run(|c| {
                        c.execute(
                            "INSERT INTO t (id, v) VALUES (?1, ?2)",
                            (id, format!("task-{task}")),
                        )
                    })?;
                    tx.commit().await
                }
                .await;
                if let Err(e) = result {
                    eprintln!("write {id} failed: {e:?}");
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    errors.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tracker = ConnectionTracker::new();
    let config = SqliteConfig::new(&file_url(dir.path(), "w.db"))
        .unwrap()
        .tracker(Arc::clone(&tracker));
    let engine = config.engine().await.unwrap();
    create_table(&engine).await;

    assert_eq!(write_load(&engine).await, 0);
    assert_eq!(count_rows(&engine).await, TASKS * PER_TASK);

    engine.dispose();
    assert_eq!(tracker.open_count(), 0, "{}", tracker.snapshot());
    assert!(tracker.snapshot().left_field_closes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_writers_with_eight_readers() {
    let dir = tempfile::tempdir().unwrap();
    let tracker = ConnectionTracker::new();
    let config = SqliteConfig::new(&file_url(dir.path(), "rw.db"))
        .unwrap()
        .tracker(Arc::clone(&tracker));
    let engine = config.engine().await.unwrap();
    create_table(&engine).await;

    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..8 {
        let engine = engine.clone();
        let done = Arc::clone(&done);
        readers.push(tokio::spawn(async move {
            let (mut reads, mut errors, mut last_seen) = (0u64, 0u64, 0i64);
            while !done.load(Ordering::Relaxed) {
                let result = async {
                    let mut session = engine.session();
                    let mut tx = session.begin_transaction(false).await?;
                    let n: i64 =
                        tx.run(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))?;
                    tx.commit().await?;
                    Ok::<_, dbconfig::Error>(n)
                }
                .await;
                match result {
                    Ok(n) => {
                        // Committed rows never disappear from a later snapshot.
                        assert!(n >= last_seen, "count went back from {last_seen} to {n}");
                        last_seen = n;
                        reads += 1;
                    }
                    Err(e) => {
                        eprintln!("read failed: {e:?}");
                        errors += 1;
                    }
                }
                tokio::task::yield_now().await;
            }
            (reads, errors)
        }));
    }

    let write_errors = write_load(&engine).await;
    done.store(true, Ordering::Relaxed);
    let mut total_reads = 0;
    for r in readers {
        let (reads, errors) = r.await.unwrap();
        assert_eq!(errors, 0);
        total_reads += reads;
    }
    assert_eq!(write_errors, 0);
    assert!(total_reads > 0);
    assert_eq!(count_rows(&engine).await, TASKS * PER_TASK);

    engine.dispose();
    assert_eq!(tracker.open_count(), 0, "{}", tracker.snapshot());
}

#[tokio::test(flavor = "current_thread")]
async fn writers_on_a_single_thread_runtime() {
    // The writer lane is an async lock: on one thread, queued writers yield instead of blocking
    // the thread in SQLite's busy handler (which would stall the writer holding the lock).
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig::new(&file_url(dir.path(), "st.db")).unwrap();
    let engine = config.engine().await.unwrap();
    create_table(&engine).await;
    let mut handles = Vec::new();
    for task in 0..16i64 {
        let engine = engine.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..50i64 {
                let mut session = engine.session();
                let mut tx = session.begin_transaction(true).await.unwrap();
                tx.run(|c| {
                    c.execute(
                        "INSERT INTO t (id, v) VALUES (?1, 'x')",
                        [task * 50 + i + 1],
                    )
                })
                .unwrap();
                // Hold the transaction across an await: other writers must wait in the lane.
                tokio::task::yield_now().await;
                tx.commit().await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    assert_eq!(count_rows(&engine).await, 16 * 50);
    engine.dispose();
}
