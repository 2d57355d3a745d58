//! A job queue written once, run on SQLite or PostgreSQL (see `queue.rs`).
//!
//! ```text
//! cargo run --example jobs                             # an SQLite file in a temporary directory
//! cargo run --example jobs -- postgresql://user@host/db
//! ```
//!
//! It creates the `jobs` and `runs` tables (on PostgreSQL it drops them first: it starts from an
//! empty queue), enqueues jobs, lets one worker "crash" holding two of them, runs workers that
//! claim and complete the rest (every tenth job fails once and is retried after a backoff; the
//! crashed worker's jobs are reclaimed when their lease passes), and prints a summary read from
//! the database.

mod queue;

use std::time::{Duration, Instant};

use dbconfig::prelude::*;
use queue::{Queue, WorkerStats};

const JOBS: usize = 200;
const WORKERS: usize = 4;
/// The crashed worker's lease: its jobs are claimable again after this.
const SHORT_LEASE: Duration = Duration::from_millis(300);
/// The healthy workers' lease: far longer than a job takes.
const LEASE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(10);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut _dir = None;
    let config = match std::env::args().nth(1) {
        Some(url) => AnyConfig::from_url(&url)?,
        None => {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite:///{}", dir.path().join("jobs.db").display());
            _dir = Some(dir); // removed at the end of main
            AnyConfig::from_url(&url)?
        }
    };
    // The URL as dbconfig displays it: the password, if any, is redacted.
    if let Some(url) = &config.settings().connection_url {
        println!("database: {url}");
    }
    if !config.is_inmemory() && config.dialect() == dbconfig::Dialect::Postgres {
        config.drop_db(&queue::metadata()).await?;
    }

    let started = Instant::now();
    let mut queue = Queue::open(config).await?;
    queue.backoff = Duration::from_millis(20);

    let payloads: Vec<_> = (0..JOBS)
        .map(|n| serde_json::json!({ "n": n, "fail_once": n % 10 == 0 }))
        .collect();
    queue.enqueue_many("square", &payloads).await?;

    // A worker that claims two jobs and dies without completing them.
    for _ in 0..2 {
        queue.claim_next("crashed-worker", SHORT_LEASE).await?;
    }

    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let queue = queue.clone();
        tasks.push(tokio::spawn(async move {
            queue
                .work(&format!("worker-{w}"), LEASE, POLL, |claim| {
                    let n = claim.payload["n"].as_u64().unwrap_or(0);
                    if claim.payload["fail_once"] == true && claim.attempt == 1 {
                        return Err(format!("job {n}: simulated failure"));
                    }
                    std::hint::black_box(n * n);
                    Ok(())
                })
                .await
        }));
    }
    let mut stats = WorkerStats::default();
    for task in tasks {
        stats += task.await??;
    }
    let elapsed = started.elapsed();

    let summary = queue
        .session()
        .await?
        .query_one(
            "SELECT \
               (SELECT count(*) FROM jobs) AS jobs, \
               (SELECT count(*) FROM jobs WHERE state = 'done') AS done, \
               (SELECT count(*) FROM runs) AS runs, \
               (SELECT count(*) FROM runs WHERE state = 'failed') AS failed_runs, \
               (SELECT count(*) FROM runs WHERE state = 'expired') AS expired_runs",
            &[],
        )
        .await?;
    let count = |column: &str| summary.get::<i64>(column);
    println!(
        "{} of {} jobs done by {WORKERS} workers in {elapsed:.2?}: {} runs, {} retried after a \
         failure, {} reclaimed after a crash",
        count("done")?,
        count("jobs")?,
        count("runs")?,
        count("failed_runs")?,
        count("expired_runs")?,
    );
    println!(
        "workers: {} completed, {} retried, {} gave up, {} leases reclaimed, {} leases lost",
        stats.done, stats.retried, stats.gave_up, stats.reclaimed, stats.lease_lost
    );
    queue.engine().dispose();
    if count("done")? != count("jobs")? {
        return Err("some jobs did not finish".into());
    }
    Ok(())
}
