//! A lock held by another process never puts a tokio worker to sleep in SQLite's busy handler:
//! portable statements, `BEGIN IMMEDIATE` and `COMMIT` that meet it wait on the blocking pool,
//! still for at most `busy_timeout`.
//!
//! The lock holder is this test binary itself, re-run with `--exact child_process_entry` and a
//! role in the environment: it takes the write lock (`BEGIN IMMEDIATE`), prints `locked`, and
//! holds the lock for a given time or until its stdin closes.

#[path = "../common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{create_table, file_url};
use dbconfig::SqliteSettings;
use dbconfig::query::{Executor, Transaction};
use dbconfig::{DatabaseConfig, Settings, SqliteConfig, SqliteEngine};

const ROLE: &str = "DBCONFIG_TEST_BUSY_ROLE";
const DB: &str = "DBCONFIG_TEST_BUSY_DB";
const HOLD_MS: &str = "DBCONFIG_TEST_BUSY_HOLD_MS";

/// The largest gap between two ticks of a 10 ms timer that a test tolerates.
const MAX_GAP: Duration = Duration::from_millis(50);

/// Entry point of the lock-holding child; does nothing in a normal test run.
#[test]
fn child_process_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let conn = rusqlite::Connection::open(std::env::var(DB).unwrap()).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (id, v) VALUES (100, 'child')")
        .unwrap();
    println!("locked");
    match role.as_str() {
        // Holds for a fixed time: the lock held for 2 s is the fault under test (issue 13), not
        // a synchronisation; the parent waits on events (the `locked` line, its write's result).
        "hold-for" => {
            let ms: u64 = std::env::var(HOLD_MS).unwrap().parse().unwrap();
            std::thread::sleep(Duration::from_millis(ms));
        }
        // Holds until the parent closes our stdin.
        "hold-until-released" => {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        }
        other => panic!("unknown role {other}"),
    }
    conn.execute_batch("COMMIT").unwrap();
}

/// A child process holding the write lock, and its stdout.
struct Holder {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

/// Starts a child that holds the write lock on `path` and returns once it holds it.
fn lock_in_child(path: &Path, role: &str, hold: Duration) -> Holder {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(DB, path)
        .env(HOLD_MS, hold.as_millis().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The test harness starts the line (`test child_process_entry ... `).
    let mut line = String::new();
    while !line.trim_end().ends_with("locked") {
        line.clear();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "the child exited without taking the lock");
    }
    Holder { child, stdout }
}

/// Lets a `hold-until-released` child commit, and waits for it to exit.
fn release(mut holder: Holder) {
    drop(holder.child.stdin.take());
    // Read to the end, so that the harness's last lines do not meet a closed pipe.
    std::io::copy(&mut holder.stdout, &mut std::io::sink()).unwrap();
    let status = holder.child.wait().unwrap();
    assert!(status.success(), "the lock-holding child failed");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A task ticking every 10 ms on the current runtime; the returned future, once `stop` is set,
/// yields the largest gap seen between two ticks. Returns after the first tick, so that a stall
/// of the thread from then on shows up as a gap.
async fn ticker(stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Duration> {
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(10));
        interval.tick().await;
        let mut last = Instant::now();
        let _ = ready_tx.send(());
        let mut largest = Duration::ZERO;
        while !stop.load(Ordering::Relaxed) {
            interval.tick().await;
            let now = Instant::now();
            largest = largest.max(now - last);
            last = now;
        }
        largest
    });
    ready_rx.await.unwrap();
    handle
}

async fn ids(engine: &SqliteEngine) -> Vec<i64> {
    let rows = engine
        .session()
        .query("SELECT id FROM t ORDER BY id", &[])
        .await
        .unwrap();
    rows.iter().map(|r| r.get::<i64>("id").unwrap()).collect()
}

/// Issue 13, item 4: while another process held the write lock, `BEGIN IMMEDIATE` (and an
/// autocommit write) slept in SQLite's busy handler on the tokio worker: a `current_thread`
/// runtime stood still for the whole 2 s.
#[test]
fn waiting_for_another_process_leaves_the_runtime_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    let rt = runtime();
    let engine = rt.block_on(async {
        let config = SqliteConfig::new(&file_url(dir.path(), "busy.db")).unwrap();
        let engine = config.engine().await.unwrap();
        create_table(&engine).await;
        engine
    });

    let child = lock_in_child(&path, "hold-for", Duration::from_secs(2));
    let (gap, waited, in_tx, autocommit) = rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let ticks = ticker(Arc::clone(&stop)).await;
        let started = Instant::now();
        let in_tx = async {
            let mut session = engine.session();
            let mut tx = session.begin_transaction(true).await?;
            let n = tx
                .execute("INSERT INTO t (id, v) VALUES ($1, $2)", &[&1i64, &"tx"])
                .await?;
            Transaction::commit(tx).await?;
            Ok::<_, dbconfig::Error>(n)
        };
        let autocommit = async {
            engine
                .session()
                .execute(
                    "INSERT INTO t (id, v) VALUES ($1, $2)",
                    &[&2i64, &"session"],
                )
                .await
        };
        let (in_tx, autocommit) = tokio::join!(in_tx, autocommit);
        let waited = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        (ticks.await.unwrap(), waited, in_tx, autocommit)
    });
    release(child);
    println!("largest tick gap {gap:?} while the writes waited {waited:?}");

    assert_eq!(in_tx.unwrap(), 1);
    assert_eq!(autocommit.unwrap(), 1);
    // The writes did meet the lock: they could only finish once the child let go.
    assert!(waited > Duration::from_secs(1), "waited only {waited:?}");
    assert!(
        gap <= MAX_GAP,
        "the runtime stalled for {gap:?} while the writes waited {waited:?}"
    );
    assert_eq!(rt.block_on(ids(&engine)), vec![1, 2, 100]);
    engine.dispose();
}

/// A lock held longer than `busy_timeout` fails the statement with a busy error after about
/// `busy_timeout`: the wait moved off the runtime, it did not become endless or vanish.
#[test]
fn a_lock_held_past_busy_timeout_is_a_busy_error() {
    const BUSY: Duration = Duration::from_millis(400);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timeout.db");
    let rt = runtime();
    let engine = rt.block_on(async {
        let settings = Settings::new()
            .with_url(file_url(dir.path(), "timeout.db").parse().unwrap())
            .with_sqlite(SqliteSettings::default().with_busy_timeout(BUSY));
        let engine = SqliteConfig::from_settings(settings)
            .unwrap()
            .engine()
            .await
            .unwrap();
        create_table(&engine).await;
        engine
    });

    let child = lock_in_child(&path, "hold-until-released", Duration::ZERO);
    let outcomes = rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let ticks = ticker(Arc::clone(&stop)).await;
        let mut outcomes = Vec::new();

        let started = Instant::now();
        let mut session = engine.session();
        let err = session
            .execute("INSERT INTO t (id, v) VALUES ($1, 'x')", &[&1i64])
            .await
            .unwrap_err();
        outcomes.push(("autocommit execute", err, started.elapsed()));

        let started = Instant::now();
        let err = session.begin_transaction(true).await.unwrap_err();
        outcomes.push(("begin_transaction(true)", err, started.elapsed()));

        let started = Instant::now();
        let err = session
            .execute_batch("SELECT 1; INSERT INTO t (id, v) VALUES (2, 'x')")
            .await
            .unwrap_err();
        outcomes.push(("execute_batch", err, started.elapsed()));

        stop.store(true, Ordering::Relaxed);
        let gap = ticks.await.unwrap();
        println!("largest tick gap {gap:?}");
        assert!(gap <= MAX_GAP, "the runtime stalled for {gap:?}");
        outcomes
    });
    release(child);

    for (what, err, took) in outcomes {
        assert!(err.is_busy(), "{what}: {err:?}");
        assert!(
            took >= BUSY && took < BUSY + Duration::from_secs(2),
            "{what} failed after {took:?} with busy_timeout {BUSY:?}"
        );
    }
    // The lock is gone: the same engine writes again.
    rt.block_on(async {
        let mut session = engine.session();
        session
            .execute("INSERT INTO t (id, v) VALUES ($1, 'x')", &[&1i64])
            .await
            .unwrap();
    });
    assert_eq!(rt.block_on(ids(&engine)), vec![1, 100]);
    engine.dispose();
}

/// A `BEGIN IMMEDIATE` waiting on the blocking pool whose future is dropped stops waiting and
/// leaves no lock behind, even while its session lives on: the next writer gets in as soon as
/// the other process lets go.
#[test]
fn a_cancelled_wait_leaves_no_lock_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cancel.db");
    let rt = runtime();
    let engine = rt.block_on(async {
        // A lock left behind would hold the next writer up this long.
        let settings = Settings::new()
            .with_url(file_url(dir.path(), "cancel.db").parse().unwrap())
            .with_sqlite(SqliteSettings::default().with_busy_timeout(Duration::from_secs(20)));
        let engine = SqliteConfig::from_settings(settings)
            .unwrap()
            .engine()
            .await
            .unwrap();
        create_table(&engine).await;
        engine
    });

    let child = lock_in_child(&path, "hold-until-released", Duration::ZERO);
    let mut cancelled = engine.session();
    rt.block_on(async {
        let begin = cancelled.begin_transaction(true);
        if let Ok(ended) = tokio::time::timeout(Duration::from_millis(100), begin).await {
            panic!("BEGIN IMMEDIATE ended instead of waiting: {ended:?}");
        }
        let write = cancelled.execute("INSERT INTO t (id, v) VALUES (1, 'cancelled')", &[]);
        if let Ok(ended) = tokio::time::timeout(Duration::from_millis(100), write).await {
            panic!("the write ended instead of waiting: {ended:?}");
        }
    });
    release(child);

    rt.block_on(async {
        let started = Instant::now();
        let mut session = engine.session();
        let mut tx = session.begin_transaction(true).await.unwrap();
        tx.execute("INSERT INTO t (id, v) VALUES (2, 'next')", &[])
            .await
            .unwrap();
        Transaction::commit(tx).await.unwrap();
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(5),
            "the next writer waited {took:?}"
        );
        // The cancelled session goes on, on a fresh connection.
        let n = cancelled
            .execute("INSERT INTO t (id, v) VALUES (3, 'after')", &[])
            .await
            .unwrap();
        assert_eq!(n, 1);
    });
    drop(cancelled);
    let ids = rt.block_on(ids(&engine));
    // The cancelled write gave up while the child still held the lock.
    assert_eq!(ids, vec![2, 3, 100]);
    engine.dispose();
}
