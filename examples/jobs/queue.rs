//! A small job queue written once against dbconfig's portable API: the same code runs on an
//! embedded SQLite file and on PostgreSQL.
//!
//! - [`metadata`]: the `jobs` and `runs` tables, created by `create_db` on either dialect.
//! - [`Queue::enqueue`] / [`Queue::enqueue_many`]: new `queued` jobs.
//! - [`Queue::claim_next`]: one due job becomes `running` under a lease (`locked_by`,
//!   `locked_until`) and gets a `runs` row. Exactly one worker gets each job: PostgreSQL picks
//!   it with `SELECT … FOR UPDATE SKIP LOCKED`; SQLite claims in a `BEGIN IMMEDIATE`
//!   transaction, so claims are serialized. The Rust code path is the same.
//! - [`Queue::complete`] / [`Queue::fail`]: end the run; a failed job is queued again with an
//!   exponential backoff until `max_attempts`, then `failed`. Both are fenced by the lease: a
//!   worker whose job was reclaimed changes nothing.
//! - [`Queue::reclaim_expired`]: a `running` job whose lease has passed goes back to `queued`
//!   (its run ends as `expired`), so a crashed worker's job is not lost.
//! - [`Queue::work`]: a worker loop that does all of the above.
//!
//! Every timestamp is taken in Rust (`OffsetDateTime::now_utc()`, whole microseconds) and bound
//! as a parameter: one clock for both backends, and SQLite's `CURRENT_TIMESTAMP` text would not
//! compare with the portable timestamp format.

// The test includes this file by path and does not use every item.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dbconfig::Dialect;
use dbconfig::prelude::*;
use dbconfig::schema::{Action, Column, ColumnType, ForeignKey, Index, Metadata, Table};
use serde::Serialize;

/// A job's states (the `jobs.state` column).
pub const QUEUED: &str = "queued";
/// Claimed by a worker, under a lease.
pub const RUNNING: &str = "running";
/// Finished.
pub const DONE: &str = "done";
/// Failed `max_attempts` times.
pub const FAILED: &str = "failed";
/// A run's state when its lease passed before it finished (`runs.state` only).
pub const EXPIRED: &str = "expired";

/// The schema: `jobs` and `runs`, with the indexes the claim and the reclaim use.
pub fn metadata() -> Metadata {
    let ts = || ColumnType::TimestampTz;
    Metadata::new()
        .table(
            Table::new("jobs")
                .column(Column::new("id", ColumnType::Uuid).not_null())
                .column(Column::new("kind", ColumnType::Text).not_null())
                .column(Column::new("payload", ColumnType::Json).not_null())
                .column(Column::new("state", ColumnType::Text).not_null())
                .column(Column::new("attempts", ColumnType::Integer).not_null())
                .column(Column::new("run_after", ts()).not_null())
                .column(Column::new("locked_by", ColumnType::Text))
                .column(Column::new("locked_until", ts()))
                .column(Column::new("created", ts()).not_null())
                .column(Column::new("updated", ts()).not_null())
                .primary_key(["id"])
                .check(
                    Some("ck_jobs_state"),
                    "state IN ('queued', 'running', 'done', 'failed')",
                )
                // claim_next: the oldest due queued job.
                .index(Index::new("ix_jobs_due", ["run_after"]).filter("state = 'queued'"))
                // reclaim_expired: running jobs whose lease has passed.
                .index(Index::new("ix_jobs_lease", ["locked_until"]).filter("state = 'running'")),
        )
        .table(
            Table::new("runs")
                .column(Column::new("id", ColumnType::Uuid).not_null())
                .column(Column::new("job_id", ColumnType::Uuid).not_null())
                .column(Column::new("worker", ColumnType::Text).not_null())
                .column(Column::new("state", ColumnType::Text).not_null())
                .column(Column::new("started", ts()).not_null())
                .column(Column::new("finished", ts()))
                .column(Column::new("error", ColumnType::Text))
                .primary_key(["id"])
                .check(
                    Some("ck_runs_state"),
                    "state IN ('running', 'done', 'failed', 'expired')",
                )
                .foreign_key(ForeignKey::new(["job_id"], "jobs", ["id"]).on_delete(Action::Cascade))
                // complete / fail / reclaim find a job's open run; the FK wants it too.
                .index(Index::new("ix_runs_job", ["job_id", "state"])),
        )
}

/// Now, in UTC, cut to whole microseconds: what both backends store, so a timestamp read back
/// (or compared for equality, as the lease fence does) is exactly the one written.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .expect("a whole number of microseconds is a valid nanosecond")
}

/// The one clause the dialects need differently, appended to the claim's and the reclaim's
/// `SELECT`.
///
/// PostgreSQL runs transactions concurrently (READ COMMITTED): without row locks two workers
/// would read the same queued job and both claim it. `FOR UPDATE` locks the row picked until
/// commit, and `SKIP LOCKED` makes the other workers pass over it to the next job instead of
/// waiting. SQLite has no row locks and no such clause; there the transaction is
/// `BEGIN IMMEDIATE` (`begin_transaction(true)`), which takes the database's write lock before the
/// `SELECT`, so claims run one at a time and each sees the previous one's result.
fn lock_rows(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        // SQLite: `BEGIN IMMEDIATE` already serialises claims. (`Dialect` is non-exhaustive: a
        // backend added later needs its own answer here, and `tests/portable/jobs.rs` would
        // catch a job claimed twice.)
        _ => "",
    }
}

/// A job a worker holds: what it needs to run it and to complete or fail it.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The job.
    pub job: Uuid,
    /// The run this claim opened.
    pub run: Uuid,
    /// The worker holding it.
    pub worker: String,
    /// The job's kind.
    pub kind: String,
    /// The job's payload.
    pub payload: serde_json::Value,
    /// This is attempt number `attempt` (1 = first).
    pub attempt: i32,
    /// The lease: after this the job can be reclaimed. Also the fence token: `complete` and
    /// `fail` only change the job while `(locked_by, locked_until)` is still this claim's.
    pub locked_until: OffsetDateTime,
}

/// What [`Queue::fail`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// Queued again; claimable from `run_after`.
    Retry {
        /// When.
        run_after: OffsetDateTime,
    },
    /// `max_attempts` reached: the job is `failed`.
    GaveUp,
    /// The lease had passed and the job was reclaimed: nothing changed.
    LeaseLost,
}

/// What one worker did ([`Queue::work`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Jobs completed.
    pub done: u64,
    /// Runs that failed and were queued again.
    pub retried: u64,
    /// Jobs that failed for good.
    pub gave_up: u64,
    /// Expired leases this worker put back in the queue.
    pub reclaimed: u64,
    /// Completions refused because the job had been reclaimed meanwhile.
    pub lease_lost: u64,
}

impl std::ops::AddAssign for WorkerStats {
    fn add_assign(&mut self, o: Self) {
        self.done += o.done;
        self.retried += o.retried;
        self.gave_up += o.gave_up;
        self.reclaimed += o.reclaimed;
        self.lease_lost += o.lease_lost;
    }
}

/// The queue on one database: any [`DatabaseConfig`] (`AnyConfig`, `SqliteConfig`,
/// `PostgresConfig`). Cheap to clone; clones share the config and the engine.
pub struct Queue<C: DatabaseConfig> {
    db: Arc<C>,
    engine: C::Engine,
    /// A job that failed this many times is `failed`.
    pub max_attempts: i32,
    /// Backoff after the first failure; doubled after each further one.
    pub backoff: Duration,
}

impl<C: DatabaseConfig> Clone for Queue<C> {
    fn clone(&self) -> Self {
        Queue {
            db: Arc::clone(&self.db),
            engine: self.engine.clone(),
            max_attempts: self.max_attempts,
            backoff: self.backoff,
        }
    }
}

// The operations that hold a transaction across an `.await` are written as
// `fn … -> impl Future<Output = …> + Send` around an `async move` block rather than as
// `async fn`: the future of a generic `async fn` that holds a `C::Transaction<'_>` cannot be
// passed to `tokio::spawn` once `C` is a concrete config ("lifetime bound not satisfied",
// rust-lang/rust#100013, from the `where Self: 's` on `DatabaseConfig::Transaction`). Declaring
// `Send` on the returned future proves it once, generically, where it works.
#[allow(
    clippy::manual_async_fn,
    reason = "`async fn` here would not be spawnable, see above"
)]
impl<C: DatabaseConfig> Queue<C> {
    /// Opens the queue on `db`, creating its tables if missing (3 attempts, 50 ms backoff).
    pub async fn open(db: C) -> dbconfig::Result<Self> {
        let engine = db.engine().await?;
        db.create_db(&engine, &metadata()).await?;
        Ok(Queue {
            db: Arc::new(db),
            engine,
            max_attempts: 3,
            backoff: Duration::from_millis(50),
        })
    }

    /// The config.
    pub fn config(&self) -> &C {
        &self.db
    }

    /// The engine.
    pub fn engine(&self) -> &C::Engine {
        &self.engine
    }

    /// A session (autocommit), for reading.
    pub async fn session(&self) -> dbconfig::Result<C::Session> {
        self.db.session(&self.engine).await
    }

    /// Queues one job, due now.
    pub fn enqueue<T: Serialize + Sync>(
        &self,
        kind: &str,
        payload: &T,
    ) -> impl Future<Output = dbconfig::Result<Uuid>> + Send {
        async move {
            let mut session = self.session().await?;
            let tx = self.db.begin_transaction(&mut session, true).await?;
            let id = Uuid::new_v4();
            let now = now();
            tx.execute_and_commit(INSERT_JOB, &[&id, &kind, &Json(payload), &now])
                .await?;
            Ok(id)
        }
    }

    /// Queues `payloads` as jobs of `kind`, all due now, in one transaction.
    pub fn enqueue_many<T: Serialize + Sync>(
        &self,
        kind: &str,
        payloads: &[T],
    ) -> impl Future<Output = dbconfig::Result<Vec<Uuid>>> + Send {
        async move {
            let mut session = self.session().await?;
            let mut tx = self.db.begin_transaction(&mut session, true).await?;
            let now = now();
            let mut ids = Vec::with_capacity(payloads.len());
            for payload in payloads {
                let id = Uuid::new_v4();
                tx.execute(INSERT_JOB, &[&id, &kind, &Json(payload), &now])
                    .await?;
                ids.push(id);
            }
            tx.commit().await?;
            Ok(ids)
        }
    }

    /// Claims the oldest due queued job for `worker` for `lease`, or `None` when no job is due.
    ///
    /// One transaction: pick the job (locked, see [`lock_rows`]), mark it `running` under the
    /// lease, open its run.
    pub fn claim_next(
        &self,
        worker: &str,
        lease: Duration,
    ) -> impl Future<Output = dbconfig::Result<Option<Claim>>> + Send {
        async move {
            let mut session = self.session().await?;
            // SQLite: BEGIN IMMEDIATE (the write lock before the SELECT). PostgreSQL: a plain
            // transaction; the row lock comes from the SELECT.
            let mut tx = self.db.begin_transaction(&mut session, true).await?;
            let now = now();
            let picked = tx
                .query_opt(
                    &format!(
                        "SELECT id, kind, payload FROM jobs \
                         WHERE state = 'queued' AND run_after <= $1 \
                         ORDER BY run_after LIMIT 1{}",
                        lock_rows(tx.dialect())
                    ),
                    &[&now],
                )
                .await?;
            let Some(job) = picked else {
                tx.rollback().await?;
                return Ok(None);
            };
            let id: Uuid = job.get("id")?;
            let locked_until = now + lease;
            let attempt: i32 = tx
                .query_one(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $2, \
                     locked_until = $3, updated = $4 WHERE id = $1 RETURNING attempts",
                    &[&id, &worker, &locked_until, &now],
                )
                .await?
                .get("attempts")?;
            // Read the clock again now that the job is ours: a run never starts before the moment
            // the job became claimable (a reclaim that committed after `now` was read).
            let started = self::now();
            let run = Uuid::new_v4();
            tx.execute_and_commit(
                "INSERT INTO runs (id, job_id, worker, state, started) \
                 VALUES ($1, $2, $3, 'running', $4)",
                &[&run, &id, &worker, &started],
            )
            .await?;
            Ok(Some(Claim {
                job: id,
                run,
                worker: worker.to_owned(),
                kind: job.get("kind")?,
                payload: job.get("payload")?,
                attempt,
                locked_until,
            }))
        }
    }

    /// Marks the claimed job `done` and its run `done`. `false` (and nothing changed) when the
    /// lease had passed and the job was reclaimed.
    pub fn complete(&self, claim: &Claim) -> impl Future<Output = dbconfig::Result<bool>> + Send {
        async move {
            let mut session = self.session().await?;
            let mut tx = self.db.begin_transaction(&mut session, true).await?;
            let now = now();
            if !self.fenced_update(&mut tx, claim, DONE, now, now).await? {
                tx.rollback().await?;
                return Ok(false);
            }
            tx.execute_and_commit(
                "UPDATE runs SET state = 'done', finished = $2 WHERE id = $1",
                &[&claim.run, &now],
            )
            .await?;
            Ok(true)
        }
    }

    /// Ends the claimed run as `failed` with `error`; the job is queued again after a backoff
    /// (`backoff × 2^(attempt-1)`), or `failed` after `max_attempts`.
    pub fn fail(
        &self,
        claim: &Claim,
        error: &str,
    ) -> impl Future<Output = dbconfig::Result<Failed>> + Send {
        async move {
            let mut session = self.session().await?;
            let mut tx = self.db.begin_transaction(&mut session, true).await?;
            let now = now();
            let exponent = u32::try_from(claim.attempt.clamp(1, 20) - 1).unwrap_or(0);
            let run_after = now + self.backoff * 2u32.pow(exponent);
            let (state, outcome) = if claim.attempt >= self.max_attempts {
                (FAILED, Failed::GaveUp)
            } else {
                (QUEUED, Failed::Retry { run_after })
            };
            if !self
                .fenced_update(&mut tx, claim, state, run_after, now)
                .await?
            {
                tx.rollback().await?;
                return Ok(Failed::LeaseLost);
            }
            tx.execute_and_commit(
                "UPDATE runs SET state = 'failed', finished = $2, error = $3 WHERE id = $1",
                &[&claim.run, &now, &error],
            )
            .await?;
            Ok(outcome)
        }
    }

    /// Moves the claimed job from `running` to `state`, releasing the lease, if the lease is
    /// still this claim's. Locks the job row first (as the claim does), then the run is
    /// updated: one lock order everywhere, so PostgreSQL never deadlocks.
    async fn fenced_update(
        &self,
        tx: &mut C::Transaction<'_>,
        claim: &Claim,
        state: &str,
        run_after: OffsetDateTime,
        now: OffsetDateTime,
    ) -> dbconfig::Result<bool> {
        let changed = tx
            .execute(
                "UPDATE jobs SET state = $2, run_after = $3, locked_by = NULL, \
                 locked_until = NULL, updated = $4 \
                 WHERE id = $1 AND state = 'running' AND locked_by = $5 AND locked_until = $6",
                &[
                    &claim.job,
                    &state,
                    &run_after,
                    &now,
                    &claim.worker,
                    &claim.locked_until,
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Puts every `running` job whose lease has passed back in the queue (or `failed`, when it
    /// has used `max_attempts`), ending its open run as `expired`. Returns how many.
    pub fn reclaim_expired(&self) -> impl Future<Output = dbconfig::Result<u64>> + Send {
        async move {
            let mut session = self.session().await?;
            let mut tx = self.db.begin_transaction(&mut session, true).await?;
            let now = now();
            let expired = tx
                .query(
                    &format!(
                        "SELECT id, attempts FROM jobs \
                         WHERE state = 'running' AND locked_until <= $1{}",
                        lock_rows(tx.dialect())
                    ),
                    &[&now],
                )
                .await?;
            if expired.is_empty() {
                tx.rollback().await?;
                return Ok(0);
            }
            for job in &expired {
                let id: Uuid = job.get("id")?;
                let attempts: i32 = job.get("attempts")?;
                let state = if attempts >= self.max_attempts {
                    FAILED
                } else {
                    QUEUED
                };
                tx.execute(
                    "UPDATE jobs SET state = $2, locked_by = NULL, locked_until = NULL, \
                     run_after = $3, updated = $3 WHERE id = $1",
                    &[&id, &state, &now],
                )
                .await?;
                tx.execute(
                    "UPDATE runs SET state = 'expired', finished = $2, error = 'lease expired' \
                     WHERE job_id = $1 AND state = 'running'",
                    &[&id, &now],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(expired.len() as u64)
        }
    }

    /// Jobs not finished yet (`queued` or `running`).
    pub async fn pending(&self) -> dbconfig::Result<i64> {
        self.session()
            .await?
            .query_one(
                "SELECT count(*) AS n FROM jobs WHERE state IN ('queued', 'running')",
                &[],
            )
            .await?
            .get("n")
    }

    /// A worker: claims jobs and runs `handler` on each until no job is left unfinished.
    /// `Ok(())` completes the job, `Err(message)` fails it (retried with backoff). When nothing
    /// is due it reclaims expired leases, then waits `poll` for delayed or running jobs.
    pub async fn work(
        &self,
        worker: &str,
        lease: Duration,
        poll: Duration,
        mut handler: impl FnMut(&Claim) -> Result<(), String> + Send,
    ) -> dbconfig::Result<WorkerStats> {
        let mut stats = WorkerStats::default();
        loop {
            let Some(claim) = self.claim_next(worker, lease).await? else {
                let reclaimed = self.reclaim_expired().await?;
                stats.reclaimed += reclaimed;
                if reclaimed == 0 {
                    if self.pending().await? == 0 {
                        return Ok(stats);
                    }
                    tokio::time::sleep(poll).await;
                }
                continue;
            };
            match handler(&claim) {
                Ok(()) => {
                    if self.complete(&claim).await? {
                        stats.done += 1;
                    } else {
                        stats.lease_lost += 1;
                    }
                }
                Err(error) => match self.fail(&claim, &error).await? {
                    Failed::Retry { .. } => stats.retried += 1,
                    Failed::GaveUp => stats.gave_up += 1,
                    Failed::LeaseLost => stats.lease_lost += 1,
                },
            }
            // Let the other workers' tasks in between jobs on a busy runtime.
            tokio::task::yield_now().await;
        }
    }
}

/// `$1` id, `$2` kind, `$3` payload, `$4` now.
const INSERT_JOB: &str = "INSERT INTO jobs (id, kind, payload, state, attempts, run_after, \
                          created, updated) VALUES ($1, $2, $3, 'queued', 0, $4, $4, $4)";
