//! Quickstart: an embedded SQLite file, concurrent writers and readers, the PRAGMAs in effect and
//! the connection tracker's summary.
//!
//! ```text
//! cargo run --example quickstart                # ./quickstart.db (removed first)
//! cargo run --example quickstart -- sqlite://   # in memory
//! ```

use std::time::Instant;

use dbconfig::sqlite::connect::pragmas_in_effect;
use dbconfig::{ConnectionTracker, DatabaseConfig, Settings, SqliteConfig};

const WRITERS: i64 = 8;
const READERS: usize = 4;
const WRITES_PER_TASK: i64 = 250;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = match std::env::args().nth(1) {
        Some(url) => url,
        None => {
            // A fresh file next to where you run it.
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("quickstart.db{suffix}"));
            }
            "sqlite:///quickstart.db".to_owned()
        }
    };

    // Track every connection the engine opens (opt-in; the tests use this to prove no leaks).
    let tracker = ConnectionTracker::new();
    let settings = Settings::from_env()?.with_url(url.parse()?);
    let config = SqliteConfig::from_settings(settings)?.tracker(tracker.clone());
    println!(
        "database: {} (in memory: {})",
        config.url(),
        config.is_inmemory()
    );

    let engine = config.engine().await?;
    let mut session = config.session(&engine).await?;
    let mut tx = config.begin_transaction(&mut session, true).await?;
    tx.run(|c| {
        c.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                id INTEGER PRIMARY KEY,
                writer INTEGER NOT NULL,
                body TEXT NOT NULL
            )",
        )
    })?;
    tx.commit().await?;
    drop(session);

    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..WRITES_PER_TASK {
                let mut session = engine.session();
                // with_for_update = true: BEGIN IMMEDIATE, queued in the writer lane.
                let mut tx = session.begin_transaction(true).await?;
                tx.run(|c| {
                    c.execute(
                        "INSERT INTO events (writer, body) VALUES (?1, ?2)",
                        (writer, format!("event {i}")),
                    )
                })?;
                tx.commit().await?;
            }
            Ok::<usize, dbconfig::Error>(0)
        }));
    }
    for _ in 0..READERS {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let mut reads = 0;
            for _ in 0..500 {
                let mut session = engine.session();
                let mut tx = session.begin_transaction(false).await?; // BEGIN DEFERRED
                tx.run(|c| c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)))?;
                tx.commit().await?;
                reads += 1;
            }
            Ok(reads)
        }));
    }
    let mut reads = 0;
    for task in tasks {
        reads += task.await??;
    }
    let elapsed = started.elapsed();

    let mut session = engine.session();
    let rows: i64 = session
        .run(|c| c.query_row("SELECT count(*) FROM events", [], |r| r.get(0)))
        .await?;
    println!(
        "{WRITERS} writers x {WRITES_PER_TASK} inserts and {reads} reads in {elapsed:.2?}: {rows} rows, no errors"
    );

    let settings = engine.settings().clone();
    println!("pragmas in effect:");
    for (name, value) in session
        .connection()
        .await?
        .run(|c| Ok(pragmas_in_effect(c, &settings)))??
    {
        println!("  {name:<20} {value}");
    }
    println!("pool: {:?}", engine.status());
    drop(session);

    println!("tracker before dispose: {}", tracker.snapshot());
    engine.dispose();
    println!("tracker after dispose:  {}", tracker.snapshot());
    Ok(())
}
