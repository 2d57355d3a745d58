//! A future holding a write transaction is dropped mid-way: the partial write is rolled back and
//! the next writer gets in at once.

use crate::common;

use std::time::Duration;

use common::{count_rows, create_table, file_url};
use dbconfig::SqliteSettings;
use dbconfig::{DatabaseConfig, Settings, SqliteConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_write_transaction_rolls_back_and_frees_the_lane() {
    let dir = tempfile::tempdir().unwrap();
    // If the lane were not released, the next writer would fail after this long.
    let settings = Settings::new()
        .with_url(file_url(dir.path(), "c.db").parse().unwrap())
        .with_sqlite(SqliteSettings::default().with_busy_timeout(Duration::from_secs(20)));
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

/// A statement that runs for seconds unless interrupted.
const SLOW_SQL: &str = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r \
                        WHERE i < 100000000) SELECT count(*) FROM r";

/// Issue: a write transaction's `interact` cancelled mid-statement, the transaction dropped, and
/// the same session's next autocommit INSERT returned Ok(1) — then the row vanished, rolled back
/// with the cancelled transaction it had run inside. Rule: after a dropped or cancelled
/// transaction, nothing the session runs next is inside it; `Ok` means committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_write_after_a_cancelled_interact_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::new()
        .with_url(file_url(dir.path(), "ack.db").parse().unwrap())
        .with_sqlite(SqliteSettings::default().with_busy_timeout(Duration::from_secs(20)));
    let engine = SqliteConfig::from_settings(settings)
        .unwrap()
        .build_engine()
        .unwrap();
    create_table(&engine).await;
    for round in 0..20_i64 {
        let mut session = engine.session();
        {
            let mut tx = session.begin_transaction(true).await.unwrap();
            let (started_tx, started_rx) = tokio::sync::oneshot::channel();
            let work = tx.interact(move |c| {
                c.execute("INSERT INTO t (v) VALUES ('partial')", [])?;
                let _ = started_tx.send(());
                c.query_row(SLOW_SQL, [], |r| r.get::<_, i64>(0))
            });
            tokio::select! {
                biased;
                _ = started_rx => {}
                r = work => panic!("the slow statement finished: {r:?}"),
            }
            // The interact future is gone (cancelled mid-statement); so is the transaction.
            let err = tx.run(|c| c.execute("SELECT 1", [])).unwrap_err();
            assert!(matches!(err, dbconfig::Error::Abandoned), "{err:?}");
            assert!(matches!(
                tx.commit().await.unwrap_err(),
                dbconfig::Error::Abandoned
            ));
        }
        let inserted = session
            .run(move |c| {
                c.execute(
                    "INSERT INTO t (v) VALUES (?1)",
                    [format!("acknowledged {round}")],
                )
            })
            .await
            .expect("the autocommit insert");
        assert_eq!(inserted, 1);
        drop(session);
        // Wait for the cancelled transaction's rollback: it holds the writer lane until done.
        let mut s = engine.session();
        s.begin_transaction(true)
            .await
            .unwrap()
            .commit()
            .await
            .unwrap();
        let (acked, partial): (i64, i64) = s
            .run(|c| {
                c.query_row(
                    "SELECT count(*) FILTER (WHERE v LIKE 'acknowledged%'), \
                            count(*) FILTER (WHERE v = 'partial') FROM t",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .await
            .unwrap();
        assert_eq!(
            (acked, partial),
            (round + 1, 0),
            "round {round}: an acknowledged write was lost or a cancelled one kept"
        );
    }
    engine.dispose();
}

/// Issue: after a cancelled `interact`, the session's next `run` (and a transaction's `commit`)
/// blocked the runtime thread on the connection's mutex until the blocking task ended. Here the
/// cancelled closure stays blocked until the test releases it — after `run` has returned — so a
/// `run` that waits for it can only return once the watchdog releases it, which fails the test.
#[tokio::test(flavor = "current_thread")]
async fn a_cancelled_interact_never_blocks_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig::new(&file_url(dir.path(), "stall.db")).unwrap();
    let engine = config.build_engine().unwrap();
    create_table(&engine).await;
    for round in 0..20 {
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let released_by_watchdog = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut session = engine.session();
        {
            let work = session.connection().await.unwrap().interact(move |_| {
                let _ = started_tx.send(());
                let _ = release_rx.recv();
                Ok(())
            });
            tokio::select! {
                biased;
                _ = started_rx => {}
                r = work => panic!("the blocked closure finished: {r:?}"),
            }
        }
        // Failsafe for a broken build: unless the round ends first, release the closure after
        // 10 s and remember it did.
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let watchdog = {
            let release_tx = release_tx.clone();
            let flag = std::sync::Arc::clone(&released_by_watchdog);
            std::thread::spawn(move || {
                if done_rx.recv_timeout(Duration::from_secs(10)).is_err() {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    let _ = release_tx.send(());
                }
            })
        };
        let n = session
            .run(move |c| c.execute("INSERT INTO t (v) VALUES (?1)", [format!("r{round}")]))
            .await
            .unwrap();
        assert_eq!(n, 1);
        // A transaction whose interact is cancelled: commit answers at once, with an error.
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let release_rx2 = {
            let (tx2, rx2) = std::sync::mpsc::channel::<()>();
            (tx2, rx2)
        };
        let (release_tx2, release_rx2) = release_rx2;
        let mut tx = session.begin_transaction(false).await.unwrap();
        {
            let work = tx.interact(move |_| {
                let _ = started_tx.send(());
                let _ = release_rx2.recv();
                Ok(())
            });
            tokio::select! {
                biased;
                _ = started_rx => {}
                r = work => panic!("the blocked closure finished: {r:?}"),
            }
        }
        assert!(matches!(
            tx.commit().await.unwrap_err(),
            dbconfig::Error::Abandoned
        ));
        assert!(
            !released_by_watchdog.load(std::sync::atomic::Ordering::SeqCst),
            "round {round}: the runtime thread waited for the cancelled closure"
        );
        release_tx.send(()).unwrap();
        release_tx2.send(()).unwrap();
        drop(session);
        let _ = done_tx.send(());
        watchdog.join().unwrap();
    }
    assert_eq!(count_rows(&engine).await, 20);
    engine.dispose();
}

/// Issue: `drop_db` cancelled while it waited for the writer lane left `foreign_keys = OFF` on a
/// pooled connection, and orphan rows could then be inserted.
#[tokio::test(flavor = "current_thread")]
async fn a_cancelled_drop_db_never_leaves_foreign_keys_off() {
    use dbconfig::schema::{Column, ColumnType, ForeignKey, Metadata, Table};
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::new()
        .with_url(file_url(dir.path(), "fk.db").parse().unwrap())
        .with_pool_size(2)
        .with_max_overflow(0);
    let engine = SqliteConfig::from_settings(settings)
        .unwrap()
        .build_engine()
        .unwrap();
    let metadata = Metadata::new()
        .table(
            Table::new("parent")
                .column(Column::new("id", ColumnType::Integer))
                .primary_key(["id"]),
        )
        .table(
            Table::new("child")
                .column(Column::new("id", ColumnType::Integer))
                .column(Column::new("parent_id", ColumnType::Integer))
                .primary_key(["id"])
                .foreign_key(ForeignKey::new(["parent_id"], "parent", ["id"])),
        );
    engine.create_db(&metadata).await.unwrap();
    for round in 0..20_i64 {
        // Both pooled connections exist and are idle.
        {
            let mut a = engine.session();
            let mut b = engine.session();
            a.connection().await.unwrap();
            b.connection().await.unwrap();
        }
        // A writer holds the lane; drop_db takes the other connection, switches foreign keys
        // off and waits for the lane until it is cancelled.
        let mut writer = engine.session();
        let tx = writer.begin_transaction(true).await.unwrap();
        let cancelled =
            tokio::time::timeout(Duration::from_millis(20), engine.drop_db(&metadata)).await;
        assert!(
            cancelled.is_err(),
            "drop_db finished while the lane was held"
        );
        tx.commit().await.unwrap();
        drop(writer);
        // Every connection the pool hands out now enforces foreign keys.
        let mut a = engine.session();
        let mut b = engine.session();
        for (k, s) in [&mut a, &mut b].into_iter().enumerate() {
            let fk: i64 = s
                .run(|c| c.query_row("PRAGMA foreign_keys", [], |r| r.get(0)))
                .await
                .unwrap();
            assert_eq!(
                fk, 1,
                "round {round}: a pooled connection has foreign keys off"
            );
            let id = round * 2 + k as i64;
            let orphan = s
                .run(move |c| {
                    c.execute("INSERT INTO child (id, parent_id) VALUES (?1, 12345)", [id])
                })
                .await;
            let err = orphan.expect_err("an orphan row was inserted");
            assert!(
                format!("{:?}", err).contains("FOREIGN KEY"),
                "round {round}: {err:?}"
            );
        }
    }
    engine.dispose();
}

/// Issue: the SQLite open timeout (`connection_timeout`) freed the caller, but the open went on
/// in the background until the setup lock wait (`timeout`) ran out, holding up shutdown.
/// Twenty rounds against one held lock.
#[test]
fn a_timed_out_open_stops_by_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = DELETE; CREATE TABLE t (x)")
            .unwrap();
    }
    // Another connection holds an exclusive lock, so switching to WAL waits.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder_path = path.clone();
    let holder = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(&holder_path).unwrap();
        c.execute_batch("BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)")
            .unwrap();
        locked_tx.send(()).unwrap();
        // Failsafe for a broken build; the test releases the lock long before.
        let _ = release_rx.recv_timeout(Duration::from_secs(60));
        c.execute_batch("ROLLBACK").unwrap();
    });
    locked_rx.recv().unwrap();
    let settings = Settings::new()
        .with_url(file_url(dir.path(), "locked.db").parse().unwrap())
        .with_connection_timeout(Some(Duration::from_millis(200)))
        .with_sqlite(
            SqliteSettings::default().with_setup_busy_timeout(Some(Duration::from_secs(30))),
        );
    let mut slowest = Duration::ZERO;
    for round in 0..20 {
        let started = std::time::Instant::now();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let settings = settings.clone();
        let err = runtime.block_on(async {
            let engine = SqliteConfig::from_settings(settings)
                .unwrap()
                .build_engine()
                .unwrap();
            engine
                .session()
                .run(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))
                .await
                .unwrap_err()
        });
        assert!(err.is_timeout() || err.is_busy(), "{err:?}");
        // Dropping a runtime waits for its blocking tasks: the open must be gone by now.
        drop(runtime);
        let elapsed = started.elapsed();
        slowest = slowest.max(elapsed);
        if elapsed >= Duration::from_secs(3) {
            let _ = release_tx.send(()); // the failsafe may have released it already
            panic!(
                "round {round}: the open ran on for {elapsed:?} with a 200 ms connection_timeout ({err})"
            );
        }
    }
    let _ = release_tx.send(());
    holder.join().unwrap();
    eprintln!("20 opens gave up; each runtime shut down within {slowest:?} of its checkout");
}

/// Issue: the writer lane was keyed by `std::path::absolute`, so `a/../x.db` or a symlink to the
/// file got a lane of its own and its writers met ours in SQLite's busy handler. A second writer
/// through another spelling must queue in the same lane (a lane timeout, not SQLITE_BUSY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spelling_of_a_file_shares_one_writer_lane() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let settings = |url: String| {
        Settings::new()
            .with_url(url.parse().unwrap())
            .with_sqlite(SqliteSettings::default().with_busy_timeout(Duration::from_millis(300)))
    };
    let plain = file_url(dir.path(), "x.db");
    let first = SqliteConfig::from_settings(settings(plain.clone()))
        .unwrap()
        .build_engine()
        .unwrap();
    create_table(&first).await;
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("x.db"), dir.path().join("link.db")).unwrap();
    let mut spellings = vec![file_url(dir.path(), "sub/../x.db")];
    #[cfg(unix)]
    spellings.push(file_url(dir.path(), "link.db"));
    for spelling in spellings {
        let other = SqliteConfig::from_settings(settings(spelling.clone()))
            .unwrap()
            .build_engine()
            .unwrap();
        let mut holder = first.session();
        let tx = holder.begin_transaction(true).await.unwrap();
        let mut s = other.session();
        let err = s.begin_transaction(true).await.unwrap_err();
        assert!(
            matches!(err, dbconfig::Error::Timeout { .. }),
            "{spelling}: the second writer did not queue in the lane: {err:?}"
        );
        tx.rollback().await.unwrap();
        other.dispose();
    }
    first.dispose();
}
