//! The job queue of `examples/jobs` under concurrent workers, on an SQLite file and on
//! PostgreSQL, with one generic test body per scenario. Everything is checked from the database
//! afterwards: each job done exactly once, by one run, runs of a job never overlapping, none lost.

use crate::common;

#[path = "../../examples/jobs/queue.rs"]
mod queue;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dbconfig::prelude::*;
use queue::{Claim, Failed, Queue, WorkerStats};

const JOBS: usize = 500;
const WORKERS: usize = 8;
/// Long enough that no healthy worker's lease passes during a test.
const LEASE: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(5);

fn sqlite_config(dir: &tempfile::TempDir) -> AnyConfig {
    AnyConfig::from_url(&common::file_url(dir.path(), "jobs.db")).unwrap()
}

fn postgres_config(prefix: &str) -> Option<AnyConfig> {
    common::pg_url(prefix).map(|url| AnyConfig::from_url(&url).unwrap())
}

/// What every run of every job looks like, read from the database.
#[derive(Debug, Clone)]
struct RunRow {
    job: Uuid,
    worker: String,
    state: String,
    started: OffsetDateTime,
    finished: Option<OffsetDateTime>,
    error: Option<String>,
}

async fn runs<C: DatabaseConfig>(queue: &Queue<C>) -> Vec<RunRow> {
    let mut session = queue.session().await.unwrap();
    session
        .query(
            "SELECT job_id, worker, state, started, finished, error FROM runs ORDER BY started",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| RunRow {
            job: r.get("job_id").unwrap(),
            worker: r.get("worker").unwrap(),
            state: r.get("state").unwrap(),
            started: r.get("started").unwrap(),
            finished: r.get("finished").unwrap(),
            error: r.get("error").unwrap(),
        })
        .collect()
}

/// `(state, attempts, locked_by IS NULL AND locked_until IS NULL)` of every job.
async fn jobs<C: DatabaseConfig>(queue: &Queue<C>) -> HashMap<Uuid, (String, i32, bool)> {
    let mut session = queue.session().await.unwrap();
    session
        .query(
            "SELECT id, state, attempts, locked_by, locked_until FROM jobs",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let unlocked = r.get::<Option<String>>("locked_by").unwrap().is_none()
                && r.get::<Option<OffsetDateTime>>("locked_until")
                    .unwrap()
                    .is_none();
            (
                r.get("id").unwrap(),
                (
                    r.get("state").unwrap(),
                    r.get("attempts").unwrap(),
                    unlocked,
                ),
            )
        })
        .collect()
}

/// Counted by the database itself: pairs of runs of one job whose time spans overlap (a job
/// held by two workers at once). An open run (no `finished`) lasts forever.
async fn overlapping_runs<C: DatabaseConfig>(queue: &Queue<C>) -> i64 {
    queue
        .session()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) AS n FROM runs a JOIN runs b ON a.job_id = b.job_id AND a.id < b.id \
             WHERE (b.finished IS NULL OR a.started < b.finished) \
               AND (a.finished IS NULL OR b.started < a.finished)",
            &[],
        )
        .await
        .unwrap()
        .get("n")
        .unwrap()
}

/// Runs `WORKERS` worker tasks until nothing is pending; `handler` sees every claim (and records
/// it, so the test also knows from the workers' side how often each job was handed out).
async fn run_workers<C: DatabaseConfig + 'static>(
    queue: &Queue<C>,
    workers: usize,
    fails_once: Arc<HashSet<Uuid>>,
) -> (WorkerStats, HashMap<Uuid, usize>) {
    let handed_out = Arc::new(Mutex::new(HashMap::<Uuid, usize>::new()));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let queue = queue.clone();
        let handed_out = Arc::clone(&handed_out);
        let fails_once = Arc::clone(&fails_once);
        tasks.push(tokio::spawn(async move {
            queue
                .work(&format!("worker-{w}"), LEASE, POLL, move |claim: &Claim| {
                    *handed_out.lock().unwrap().entry(claim.job).or_default() += 1;
                    if fails_once.contains(&claim.job) && claim.attempt == 1 {
                        Err("flaky on the first attempt".to_owned())
                    } else {
                        Ok(())
                    }
                })
                .await
        }));
    }
    let mut stats = WorkerStats::default();
    for task in tasks {
        stats += task.await.unwrap().unwrap();
    }
    let handed_out = handed_out.lock().unwrap().clone();
    (stats, handed_out)
}

/// 500 jobs, 8 workers; every 25th job fails its first attempt and is retried.
async fn each_job_done_exactly_once<C: DatabaseConfig + 'static>(db: C) {
    let mut queue = Queue::open(db).await.unwrap();
    queue.backoff = Duration::from_millis(5);
    let payloads: Vec<_> = (0..JOBS).map(|n| serde_json::json!({ "n": n })).collect();
    let ids = queue.enqueue_many("test", &payloads).await.unwrap();
    let fails_once: HashSet<Uuid> = ids.iter().copied().step_by(25).collect();
    let started = Instant::now();
    let (stats, handed_out) = run_workers(&queue, WORKERS, Arc::new(fails_once.clone())).await;
    let elapsed = started.elapsed();

    let expected_runs = |id: &Uuid| -> usize { if fails_once.contains(id) { 2 } else { 1 } };
    let total_runs = JOBS + fails_once.len();

    // None lost, every one done, each as often as expected and released.
    let jobs = jobs(&queue).await;
    assert_eq!(jobs.len(), JOBS, "jobs in the table");
    for id in &ids {
        let (state, attempts, unlocked) = &jobs[id];
        assert_eq!(state, "done", "job {id}");
        assert_eq!(
            usize::try_from(*attempts).unwrap(),
            expected_runs(id),
            "attempts of job {id}"
        );
        assert!(unlocked, "job {id} still has a lease");
    }

    // Runs: per job exactly one `done`, a `failed` one before it for the flaky jobs, nothing
    // else; a job claimed twice would show as an extra run here.
    let runs = runs(&queue).await;
    assert_eq!(runs.len(), total_runs, "runs in the table");
    let mut per_job: HashMap<Uuid, Vec<&RunRow>> = HashMap::new();
    for run in &runs {
        per_job.entry(run.job).or_default().push(run);
    }
    assert_eq!(per_job.len(), JOBS, "jobs with runs");
    for id in &ids {
        let states: Vec<&str> = per_job[id].iter().map(|r| r.state.as_str()).collect();
        let expected: &[&str] = if fails_once.contains(id) {
            &["failed", "done"]
        } else {
            &["done"]
        };
        assert_eq!(states, expected, "runs of job {id} (by start time)");
        assert!(per_job[id].iter().all(|r| r.finished.is_some()));
    }
    assert_eq!(
        overlapping_runs(&queue).await,
        0,
        "overlapping runs of one job"
    );
    let workers: HashSet<&str> = runs.iter().map(|r| r.worker.as_str()).collect();
    assert!(workers.len() > 1, "only {workers:?} did any work");

    // The workers' side agrees: each job handed to a handler once per run.
    assert_eq!(handed_out.len(), JOBS);
    for id in &ids {
        assert_eq!(handed_out[id], expected_runs(id), "job {id} handed out");
    }
    assert_eq!(
        stats,
        WorkerStats {
            done: JOBS as u64,
            retried: fails_once.len() as u64,
            ..WorkerStats::default()
        }
    );
    assert_eq!(queue.pending().await.unwrap(), 0);
    eprintln!(
        "{:?}: {JOBS} jobs, {total_runs} runs by {} of {WORKERS} workers in {elapsed:.2?}",
        queue.config().unique_key().dialect(),
        workers.len(),
    );
}

/// Three workers claim two jobs each and "crash" (never complete) under a short lease; the
/// healthy workers reclaim those jobs once the lease has passed and complete them. The crashed
/// workers, coming back late, can no longer complete or fail them.
async fn crashed_workers_jobs_are_reclaimed<C: DatabaseConfig + 'static>(db: C) {
    const SHORT_LEASE: Duration = Duration::from_millis(400);
    let queue = Queue::open(db).await.unwrap();
    let payloads: Vec<_> = (0..40).map(|n| serde_json::json!({ "n": n })).collect();
    let ids = queue.enqueue_many("test", &payloads).await.unwrap();

    let mut crashed: Vec<Claim> = Vec::new();
    for k in 0..3 {
        for _ in 0..2 {
            let claim = queue
                .claim_next(&format!("crasher-{k}"), SHORT_LEASE)
                .await
                .unwrap()
                .expect("a queued job");
            crashed.push(claim);
        }
    }
    let crashed_ids: HashSet<Uuid> = crashed.iter().map(|c| c.job).collect();
    assert_eq!(crashed_ids.len(), 6, "six different jobs claimed");
    // Not claimable while the lease runs.
    assert_eq!(queue.reclaim_expired().await.unwrap(), 0);

    let started = Instant::now();
    let (stats, handed_out) = run_workers(&queue, 4, Arc::new(HashSet::new())).await;
    let elapsed = started.elapsed();
    assert_eq!(stats.done, 40);
    assert_eq!(stats.reclaimed, 6, "{stats:?}");
    assert_eq!(stats.lease_lost, 0);

    let jobs = jobs(&queue).await;
    assert_eq!(jobs.len(), 40);
    let runs = runs(&queue).await;
    assert_eq!(runs.len(), 40 + 6);
    for id in &ids {
        let (state, attempts, unlocked) = &jobs[id];
        assert_eq!(state, "done", "job {id}");
        assert!(unlocked, "job {id} still has a lease");
        assert_eq!(handed_out[id], 1, "job {id} handed to a healthy worker");
        let of_job: Vec<&RunRow> = runs.iter().filter(|r| r.job == *id).collect();
        let done: Vec<&&RunRow> = of_job.iter().filter(|r| r.state == "done").collect();
        assert_eq!(done.len(), 1, "done runs of job {id}: {of_job:?}");
        assert!(done[0].worker.starts_with("worker-"), "{of_job:?}");
        if let Some(claim) = crashed.iter().find(|c| c.job == *id) {
            assert_eq!(*attempts, 2, "job {id}");
            assert_eq!(of_job.len(), 2, "{of_job:?}");
            let expired = of_job.iter().find(|r| r.state == "expired").unwrap();
            assert_eq!(expired.worker, claim.worker);
            assert_eq!(expired.error.as_deref(), Some("lease expired"));
            let finished = expired.finished.expect("the expired run is closed");
            // Reclaimed only once the lease had passed, and run again only after that.
            assert!(finished >= claim.locked_until, "{expired:?} vs {claim:?}");
            assert!(done[0].started >= finished, "{of_job:?}");
        } else {
            assert_eq!(*attempts, 1, "job {id}");
            assert_eq!(of_job.len(), 1, "{of_job:?}");
        }
    }
    assert_eq!(
        overlapping_runs(&queue).await,
        0,
        "overlapping runs of one job"
    );

    // The crashed workers come back: their leases are gone, so they change nothing.
    for claim in &crashed {
        assert!(!queue.complete(claim).await.unwrap(), "late complete");
        assert_eq!(
            queue.fail(claim, "late").await.unwrap(),
            Failed::LeaseLost,
            "late fail"
        );
    }
    assert_eq!(
        jobs,
        self::jobs(&queue).await.clone(),
        "jobs after late calls"
    );
    assert_eq!(runs.len(), self::runs(&queue).await.len());
    assert!(
        self::runs(&queue)
            .await
            .iter()
            .all(|r| r.state != "running"),
        "no run left open"
    );
    eprintln!(
        "{:?}: 6 crashed claims reclaimed after a {SHORT_LEASE:?} lease, 40 jobs done in \
         {elapsed:.2?}",
        queue.config().unique_key().dialect()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_each_job_done_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    each_job_done_exactly_once(sqlite_config(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_each_job_done_exactly_once() {
    let Some(db) = postgres_config("jobs") else {
        return;
    };
    each_job_done_exactly_once(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_crashed_workers_jobs_are_reclaimed() {
    let dir = tempfile::tempdir().unwrap();
    crashed_workers_jobs_are_reclaimed(sqlite_config(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_crashed_workers_jobs_are_reclaimed() {
    let Some(db) = postgres_config("jobs_crash") else {
        return;
    };
    crashed_workers_jobs_are_reclaimed(db).await;
}
