//! WAL housekeeping and copies of a live database: the `-wal` file stays bounded under
//! continuous writes with short readers (and does not when checkpoints are off, or a reader
//! holds a snapshot), `checkpoint(Truncate)` empties it, `backup_to` under 8 writers gives a
//! consistent copy holding every transaction committed before it began, `vacuum_into`, and
//! `PRAGMA optimize` on close.

use crate::common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbconfig::prelude::*;
use dbconfig::sqlite::{BackupProgress, CheckpointMode};
use dbconfig::{Settings, SqliteConfig, SqliteEngine};

const MIB: u64 = 1024 * 1024;

fn wal_size(db: &Path) -> u64 {
    let wal = db.with_file_name(format!("{}-wal", db.file_name().unwrap().to_string_lossy()));
    std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

async fn engine_for(db: &Path, settings: impl FnOnce(Settings) -> Settings) -> SqliteEngine {
    let url = format!("sqlite:///{}", db.display());
    let settings = settings(Settings::new().with_url(url.parse().unwrap()));
    let config = SqliteConfig::from_settings(settings).unwrap();
    let engine = config.build_engine().unwrap();
    let mut session = engine.session();
    session
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, \
             body TEXT NOT NULL); CREATE INDEX IF NOT EXISTS ix_item_batch ON item (batch)",
        )
        .await
        .unwrap();
    engine
}

/// `writers` tasks commit `per_writer` transactions each (two rows of one batch per
/// transaction) while `readers` tasks run short reads until the writers are done.
async fn load(engine: &SqliteEngine, writers: i64, per_writer: i64, readers: usize) {
    let done = Arc::new(AtomicBool::new(false));
    let mut reads = Vec::new();
    for _ in 0..readers {
        let engine = engine.clone();
        let done = Arc::clone(&done);
        reads.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !done.load(Ordering::Relaxed) {
                let mut session = engine.session();
                session
                    .query("SELECT count(*) FROM item WHERE batch = $1", &[&7i64])
                    .await
                    .unwrap();
                n += 1;
                tokio::task::yield_now().await;
            }
            n
        }));
    }
    let mut writes = Vec::new();
    for w in 0..writers {
        let engine = engine.clone();
        writes.push(tokio::spawn(async move {
            let body = "x".repeat(200);
            for i in 0..per_writer {
                let batch = w * per_writer + i;
                let mut session = engine.session();
                let mut tx = session.begin_transaction(true).await.unwrap();
                tx.execute(
                    "INSERT INTO item (batch, body) VALUES ($1, $2), ($1, $2)",
                    &[&batch, &body],
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for w in writes {
        w.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    for r in reads {
        assert!(r.await.unwrap() > 0, "a reader never ran");
    }
}

/// 10,000 write transactions with four readers: automatic checkpoints keep the `-wal` file
/// under 8 MiB (1000 pages of 4 KiB, and some). With them off, the same load leaves it far
/// larger: the bound is the checkpoints' doing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_under_continuous_writes() {
    let dir = tempfile::tempdir().unwrap();
    let bounded = dir.path().join("bounded.db");
    let engine = engine_for(&bounded, |s| s).await;
    load(&engine, 4, 2_500, 4).await;
    let size = wal_size(&bounded);
    assert!(size < 8 * MIB, "-wal file is {size} bytes");
    let rows: i64 = engine
        .session()
        .query_one("SELECT count(*) FROM item", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(rows, 20_000);

    let unbounded = dir.path().join("unbounded.db");
    let engine = engine_for(&unbounded, |mut s| {
        s.sqlite.pragmas.wal_autocheckpoint = 0;
        s
    })
    .await;
    load(&engine, 4, 2_500, 4).await;
    let size = wal_size(&unbounded);
    assert!(
        size > 16 * MIB,
        "without checkpoints the -wal file is only {size} bytes"
    );
    // The documented way back: a TRUNCATE checkpoint once no reader holds a snapshot.
    let done = engine.checkpoint(CheckpointMode::Truncate).await.unwrap();
    assert!(!done.busy);
    assert_eq!(done.wal_frames, Some(0), "{done:?}");
    assert_eq!(wal_size(&unbounded), 0);
}

/// A reader that keeps its transaction open pins its snapshot: checkpoints cannot copy past
/// it, and the file grows. Once it ends, `checkpoint(Truncate)` brings the file to zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_reader_pins_the_wal_until_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pinned.db");
    let engine = engine_for(&db, |s| s).await;
    let mut reader = engine.session();
    let mut snapshot = reader.begin_transaction(false).await.unwrap();
    snapshot
        .query("SELECT count(*) FROM item", &[])
        .await
        .unwrap();
    load(&engine, 2, 1_500, 0).await;
    let pinned = wal_size(&db);
    assert!(
        pinned > 8 * MIB,
        "the pinned -wal file is only {pinned} bytes"
    );
    let partial = engine.checkpoint(CheckpointMode::Passive).await.unwrap();
    assert!(
        partial.checkpointed_frames < partial.wal_frames,
        "nothing after the reader's snapshot can be copied: {partial:?}"
    );
    snapshot.rollback().await.unwrap();
    drop(reader);
    let done = engine.checkpoint(CheckpointMode::Truncate).await.unwrap();
    assert!(!done.busy, "{done:?}");
    assert_eq!(wal_size(&db), 0);
}

/// Eight tasks committing transactions of two rows of one batch until `stop`. A batch is
/// recorded in `committed` once committed, if `only_after` (read inside the transaction) is
/// unset or was set when the transaction began.
fn eight_writers(
    engine: &SqliteEngine,
    stop: &Arc<AtomicBool>,
    committed: &Arc<Mutex<Vec<i64>>>,
    only_after: Option<&Arc<AtomicBool>>,
) -> Vec<tokio::task::JoinHandle<i64>> {
    (0..8i64)
        .map(|w| {
            let engine = engine.clone();
            let (stop, committed) = (Arc::clone(stop), Arc::clone(committed));
            let only_after = only_after.map(Arc::clone);
            tokio::spawn(async move {
                let mut i = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    let batch = w * 1_000_000 + i;
                    let mut session = engine.session();
                    let mut tx = session.begin_transaction(true).await.unwrap();
                    let record = only_after
                        .as_ref()
                        .is_none_or(|after| after.load(Ordering::Relaxed));
                    tx.execute(
                        "INSERT INTO item (batch, body) VALUES ($1, 'a'), ($1, 'b')",
                        &[&batch],
                    )
                    .await
                    .unwrap();
                    tx.commit().await.unwrap();
                    if record {
                        committed.lock().unwrap().push(batch);
                    }
                    i += 1;
                }
                i
            })
        })
        .collect()
}

/// A backup taken while 8 writers commit: it passes integrity_check, holds every transaction
/// committed before it began and no half of one, the writers never fail, and no temporary
/// file is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_eight_writers_run_is_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let engine = engine_for(&db, |s| s).await;
    let committed = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers = eight_writers(&engine, &stop, &committed, None);
    // Let the writers get going: wait until some transactions are in.
    assert!(
        common::eventually(Duration::from_secs(10), async || {
            committed.lock().unwrap().len() >= 500
        })
        .await
    );
    let before: Vec<i64> = committed.lock().unwrap().clone();
    let target = dir.path().join("copy.db");
    let calls = Arc::new(Mutex::new(Vec::<BackupProgress>::new()));
    let seen = Arc::clone(&calls);
    let last = engine
        .backup_to(&target, Duration::from_secs(60), move |p| {
            seen.lock().unwrap().push(p)
        })
        .await
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        assert!(w.await.unwrap() > 0);
    }
    assert_eq!(last.remaining, 0);
    assert!(last.total > 0);
    assert_eq!(calls.lock().unwrap().last(), Some(&last));

    let copy = rusqlite::Connection::open(&target).unwrap();
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut stmt = copy
        .prepare("SELECT batch, count(*) FROM item GROUP BY batch")
        .unwrap();
    let batches: std::collections::HashMap<i64, i64> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for b in &before {
        assert_eq!(
            batches.get(b),
            Some(&2),
            "batch {b} committed before the backup"
        );
    }
    assert!(
        batches.values().all(|&n| n == 2),
        "half a transaction in the copy"
    );
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A compacted copy: the same rows.
    let compact = dir.path().join("compact.db");
    engine.vacuum_into(&compact).await.unwrap();
    let copy = rusqlite::Connection::open(&compact).unwrap();
    let rows: i64 = copy
        .query_row("SELECT count(*) FROM item", [], |r| r.get(0))
        .unwrap();
    let live: i64 = engine
        .session()
        .query_one("SELECT count(*) FROM item", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(rows, live);

    // A destination that cannot be written: an error, and nothing left behind.
    let missing = dir.path().join("no/such/dir/copy.db");
    assert!(
        engine
            .backup_to(&missing, Duration::from_secs(5), |_| {})
            .await
            .is_err()
    );
    assert!(!missing.exists());
}

/// An in-memory database can be saved to a file and loaded from one.
#[tokio::test]
async fn an_in_memory_database_is_saved_to_a_file_and_loaded_from_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig::new("sqlite://").unwrap();
    let engine = config.build_engine().unwrap();
    let mut session = engine.session();
    session
        .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)")
        .await
        .unwrap();
    let target = dir.path().join("saved.db");
    engine
        .backup_to(&target, Duration::from_secs(10), |_| {})
        .await
        .unwrap();
    let copy = rusqlite::Connection::open(&target).unwrap();
    let sum: i64 = copy
        .query_row("SELECT sum(x) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sum, 6);
    copy.execute("INSERT INTO t VALUES (4)", []).unwrap();
    drop(copy);

    // A fresh in-memory engine loads the file, and its sessions see the rows.
    let loaded = SqliteConfig::new("sqlite://")
        .unwrap()
        .build_engine()
        .unwrap();
    let progress = loaded
        .restore_from(&target, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(progress.remaining, 0);
    assert!(progress.total > 0, "{progress:?}");
    let mut session = loaded.session();
    let rows = dbconfig::query::Executor::query(&mut session, "SELECT sum(x) FROM t", &[])
        .await
        .unwrap();
    assert_eq!(rows[0].get::<i64>(0).unwrap(), 10);
}

/// Connections run `PRAGMA optimize` as they close: the planner's statistics for a table
/// queried through an index exist afterwards.
#[tokio::test]
async fn connections_optimize_when_they_close() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("optimize.db");
    let engine = engine_for(&db, |s| s).await;
    let mut session = engine.session();
    let mut tx = session.begin_transaction(true).await.unwrap();
    for batch in 0..2_000i64 {
        tx.execute(
            "INSERT INTO item (batch, body) VALUES ($1, 'x')",
            &[&(batch % 50)],
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    session
        .query("SELECT count(*) FROM item WHERE batch = 7", &[])
        .await
        .unwrap();
    drop(session);
    engine.dispose();
    let plain = rusqlite::Connection::open(&db).unwrap();
    let stats: i64 = plain
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stats, 1, "no ANALYZE ran when the connections closed");
}

/// A restore while 8 writers run: they wait in the writer lane during it and then go on
/// without an error; the database holds the backup's rows plus what they wrote afterwards.
/// A file that is not a database is refused and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_while_eight_writers_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let engine = engine_for(&db, |s| s).await;
    let mut session = engine.session();
    session
        .execute(
            "INSERT INTO item (batch, body) VALUES (-1, 'from the backup')",
            &[],
        )
        .await
        .unwrap();
    drop(session);
    let saved = dir.path().join("saved.db");
    engine
        .backup_to(&saved, Duration::from_secs(30), |_| {})
        .await
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let after_restore = Arc::new(AtomicBool::new(false));
    let written_after = Arc::new(Mutex::new(Vec::<i64>::new()));
    let writers = eight_writers(&engine, &stop, &written_after, Some(&after_restore));
    assert!(
        common::eventually(Duration::from_secs(10), async || {
            let mut s = engine.session();
            let n: i64 = s
                .query_one("SELECT count(*) FROM item", &[])
                .await
                .unwrap()
                .get(0)
                .unwrap();
            n > 200
        })
        .await
    );
    // Not a database: refused, nothing changes.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database, just some bytes in a file").unwrap();
    let err = engine
        .restore_from(&junk, Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(err, dbconfig::Error::Io { .. }), "{err:?}");

    engine
        .restore_from(&saved, Duration::from_secs(60))
        .await
        .unwrap();
    after_restore.store(true, Ordering::Relaxed);
    assert!(
        common::eventually(Duration::from_secs(10), async || {
            written_after.lock().unwrap().len() >= 100
        })
        .await
    );
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        assert!(w.await.unwrap() > 0);
    }
    let mut session = engine.session();
    let restored: i64 = session
        .query_one("SELECT count(*) FROM item WHERE batch = -1", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(restored, 1, "the backup's row");
    let written: Vec<i64> = written_after.lock().unwrap().clone();
    for batch in &written {
        let n: i64 = session
            .query_one("SELECT count(*) FROM item WHERE batch = $1", &[batch])
            .await
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 2, "batch {batch} written after the restore");
    }
    let check: String = session
        .query_one("PRAGMA integrity_check", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(check, "ok");
}

const CHILD_DB: &str = "DBCONFIG_TEST_BACKUP_SOURCE";
const CHILD_TARGET: &str = "DBCONFIG_TEST_BACKUP_TARGET";

/// Entry point of the child process of `a_killed_backup_leaves_no_partial_file`; does nothing
/// in a normal test run.
#[test]
fn child_backup_entry() {
    let (Ok(source), Ok(target)) = (std::env::var(CHILD_DB), std::env::var(CHILD_TARGET)) else {
        return;
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let engine = SqliteConfig::new(&format!("sqlite:///{source}"))
                .unwrap()
                .build_engine()
                .unwrap();
            println!("backup starts");
            engine
                .backup_to(&target, Duration::from_secs(60), |_| {})
                .await
                .unwrap();
            println!("backup done");
        });
}

/// SIGKILL during a backup: the source passes integrity_check, and the target's name holds
/// either nothing or a complete, healthy copy, never a partial file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_backup_leaves_no_partial_file() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    let engine = engine_for(&db, |s| s).await;
    let mut session = engine.session();
    let mut tx = session.begin_transaction(true).await.unwrap();
    let body = "y".repeat(1000);
    for batch in 0..60_000i64 {
        tx.execute(
            "INSERT INTO item (batch, body) VALUES ($1, $2)",
            &[&batch, &body],
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    drop(session);
    engine.dispose();
    let target = dir.path().join("copy.db");
    for _ in 0..3 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "maintenance::child_backup_entry",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DB, &db)
            .env(CHILD_TARGET, &target)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        loop {
            let line = lines.next().expect("the child ended early").unwrap();
            if line.contains("backup starts") {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        if target.exists() {
            let copy = rusqlite::Connection::open(&target).unwrap();
            let check: String = copy
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok");
            let rows: i64 = copy
                .query_row("SELECT count(*) FROM item", [], |r| r.get(0))
                .unwrap();
            assert_eq!(rows, 60_000, "a partial copy under the target's name");
        }
    }
    let source = rusqlite::Connection::open(&db).unwrap();
    let check: String = source
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
