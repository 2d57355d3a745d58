//! A future holding a write transaction is dropped mid-way: the partial write is rolled back and
//! the next writer gets in at once.

mod common;

use std::time::Duration;

use common::{count_rows, create_table, file_url};
use dbconfig::{DatabaseConfig, Settings, SqliteConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_write_transaction_rolls_back_and_frees_the_lane() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        connection_url: Some(file_url(dir.path(), "c.db").parse().unwrap()),
        // If the lane were not released, the next writer would fail after this long.
        busy_timeout: Duration::from_secs(20),
        ..Settings::default()
    };
    let config = SqliteConfig::from_settings(settings).unwrap();
    let engine = config.engine().await.unwrap();
    create_table(&engine).await;

    let (inserted_tx, inserted_rx) = tokio::sync::oneshot::channel();
    let writer_engine = engine.clone();
    let task = tokio::spawn(async move {
        let mut session = writer_engine.session();
        let mut tx = session.begin_transaction(true).await.unwrap();
        tx.run(|c| c.execute("INSERT INTO t (id, v) VALUES (1, 'partial')", []))
            .unwrap();
        inserted_tx.send(()).unwrap();
        std::future::pending::<()>().await;
        tx.commit().await.unwrap();
    });
    inserted_rx.await.unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());

    let started = std::time::Instant::now();
    let mut session = engine.session();
    let mut tx = session.begin_transaction(true).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "next writer waited {waited:?}"
    );
    let partial: i64 = tx
        .run(|c| {
            c.query_row("SELECT count(*) FROM t WHERE v = 'partial'", [], |r| {
                r.get(0)
            })
        })
        .unwrap();
    assert_eq!(partial, 0, "the dropped transaction's write is visible");
    tx.run(|c| c.execute("INSERT INTO t (id, v) VALUES (1, 'next')", []))
        .unwrap();
    tx.commit().await.unwrap();
    drop(session);
    assert_eq!(count_rows(&engine).await, 1);
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn dropped_transaction_on_a_reused_session_connection() {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig::new(&file_url(dir.path(), "c2.db")).unwrap();
    let engine = config.engine().await.unwrap();
    create_table(&engine).await;
    let mut session = engine.session();
    {
        let mut tx = session.begin_transaction(false).await.unwrap();
        tx.run(|c| c.execute("INSERT INTO t (id, v) VALUES (7, 'gone')", []))
            .unwrap();
        // dropped without commit
    }
    let in_tx = session
        .connection()
        .await
        .unwrap()
        .run(|c| Ok(!c.is_autocommit()))
        .unwrap();
    assert!(!in_tx, "connection left inside a transaction");
    let mut tx = session.begin_transaction(true).await.unwrap();
    tx.run(|c| c.execute("INSERT INTO t (id, v) VALUES (8, 'kept')", []))
        .unwrap();
    tx.commit().await.unwrap();
    drop(session);
    assert_eq!(count_rows(&engine).await, 1);
    engine.dispose();
}
