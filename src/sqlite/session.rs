//! [`SqliteSession`] and [`SqliteTransaction`].

use crate::telemetry::in_span;
use deadpool::managed::Object;
use rusqlite::Connection;

use super::begin::BeginMode;
use super::bind::Args;
use super::engine::SqliteEngine;
use super::lane::{LaneGuard, enter};
use super::op::control;
use super::pool::{ConnState, SqliteConnection, SqliteManager};
use crate::config::LockMode;
use crate::error::{Error, Result};
use crate::url::Dialect;

/// A unit of work on one pooled connection, taken lazily on first use and returned when the
/// session is dropped.
///
/// Outside [`begin_transaction`](Self::begin_transaction), statements run in SQLite's autocommit
/// mode: each one is its own transaction.
pub struct SqliteSession {
    engine: SqliteEngine,
    conn: Option<Object<SqliteManager>>,
}

impl SqliteEngine {
    /// A new session (it takes a pooled connection on first use).
    #[must_use]
    pub fn session(&self) -> SqliteSession {
        SqliteSession::new(self.clone())
    }
}

impl std::fmt::Debug for SqliteSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteSession")
            .field("connection", &self.conn.as_ref().map(|c| c.id()))
            .finish_non_exhaustive()
    }
}

impl SqliteSession {
    pub(crate) fn new(engine: SqliteEngine) -> Self {
        SqliteSession { engine, conn: None }
    }

    /// The session's connection, taken from the pool if the session has none yet, or if the one
    /// it had was abandoned by a cancelled [`interact`](SqliteConnection::interact) (that one is
    /// closed once its blocking task ends; it never returns to the pool).
    ///
    /// # Errors
    /// No connection within `pool_timeout`, opening one failed, or the engine was disposed.
    pub async fn connection(&mut self) -> Result<&mut SqliteConnection> {
        if self
            .conn
            .as_ref()
            .is_some_and(|c| c.state() == ConnState::Abandoned)
        {
            self.discard_connection();
        }
        if self.conn.is_none() {
            self.conn = Some(self.engine.checkout().await?);
        }
        match self.conn.as_mut() {
            Some(conn) => Ok(conn),
            None => Err(Error::Disposed),
        }
    }

    /// Runs `f` in autocommit mode on the session's connection, on the calling thread.
    ///
    /// A statement in `f` that meets a lock held by another process waits for it on the calling
    /// thread (up to `busy_timeout`), holding up the other tasks of that tokio worker: see
    /// [`SqliteConnection::run`]. The portable API ([`Executor`](crate::query::Executor)) and
    /// [`SqliteConnection::interact`] wait off the async workers.
    ///
    /// # Errors
    /// As [`connection`](Self::connection), or whatever `f` returns.
    pub async fn run<R>(
        &mut self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<R>,
    ) -> Result<R> {
        self.connection().await?.run(f)
    }

    /// Begins a transaction: `BEGIN IMMEDIATE` for [`LockMode::ForUpdate`] or `true` (through
    /// the writer lane), `BEGIN DEFERRED` otherwise. See [`begin`](Self::begin).
    ///
    /// # Errors
    /// As [`begin`](Self::begin).
    pub async fn begin_transaction(
        &mut self,
        mode: impl Into<LockMode>,
    ) -> Result<SqliteTransaction<'_>> {
        let for_update = mode.into() == LockMode::ForUpdate;
        self.begin(BeginMode::for_update(for_update)).await
    }

    /// Begins a transaction in `mode`. Write modes first enter the database's writer lane
    /// (waiting at most `busy_timeout` behind this process's other writers) and only then take a
    /// connection, so queued writers do not hold connections that readers need.
    ///
    /// A transaction dropped without [`commit`](SqliteTransaction::commit) rolls back.
    ///
    /// # Errors
    /// The lane or the pool timed out, or `BEGIN` failed.
    pub async fn begin(&mut self, mode: BeginMode) -> Result<SqliteTransaction<'_>> {
        self.begin_as(mode, false).await
    }

    /// Begins a read-only transaction: `BEGIN DEFERRED` (no writer lane, no write lock) with
    /// `PRAGMA query_only` on until it ends, so a write in it fails (`SQLITE_READONLY`) as it
    /// would in PostgreSQL's `READ ONLY` transaction. The portable counterpart of
    /// [`PostgresSession::begin_read_only`](crate::PostgresSession::begin_read_only).
    ///
    /// # Errors
    /// As [`begin`](Self::begin).
    pub async fn begin_read_only(&mut self) -> Result<SqliteTransaction<'_>> {
        self.begin_as(BeginMode::Deferred, true).await
    }

    async fn begin_as(
        &mut self,
        mode: BeginMode,
        read_only: bool,
    ) -> Result<SqliteTransaction<'_>> {
        let lane = if mode.writes() {
            let settings = self.engine.settings();
            let started = std::time::Instant::now();
            let lane = enter(&self.engine.inner.lane, settings.sqlite.busy_timeout).await;
            self.engine
                .inner
                .core
                .metrics
                .lane_waited(started.elapsed());
            Some(lane?)
        } else {
            None
        };
        let span = crate::telemetry::transaction_span(
            Dialect::Sqlite,
            &self.engine.inner.target.identity,
            mode.writes(),
        );
        let conn = self.connection().await?;
        // Waits for another process's lock off the async worker.
        in_span!(
            span,
            conn.run_portable(control, mode.sql(), Args::Values(&[]))
        )?;
        let tx = SqliteTransaction {
            conn,
            lane,
            mode,
            read_only,
            finished: false,
            span,
        };
        if read_only {
            // On error the transaction is dropped: it rolls back and resets the flag.
            tx.conn.run(|c| c.execute_batch("PRAGMA query_only = ON"))?;
        }
        Ok(tx)
    }

    /// The engine this session draws from.
    #[must_use]
    pub fn engine(&self) -> &SqliteEngine {
        &self.engine
    }

    /// Closes the session's connection instead of returning it to the pool (its state is not
    /// what the pool promises, e.g. a PRAGMA could not be restored).
    pub(crate) fn discard_connection(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(Object::take(conn));
            self.engine.inner.core.returned();
        }
    }
}

impl Drop for SqliteSession {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.engine.release(conn);
        }
    }
}

/// An open SQLite transaction. Commit with [`commit`](Self::commit); dropping it (an error, a
/// cancelled future) rolls back at once and lets the next writer in.
pub struct SqliteTransaction<'s> {
    conn: &'s mut SqliteConnection,
    lane: Option<LaneGuard>,
    mode: BeginMode,
    /// Began with [`SqliteSession::begin_read_only`]: `query_only` is on until it ends.
    read_only: bool,
    finished: bool,
    /// The transaction's span (`crate::telemetry`).
    pub(super) span: tracing::Span,
}

impl std::fmt::Debug for SqliteTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTransaction")
            .field("connection", &self.conn.id())
            .field("mode", &self.mode)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl SqliteTransaction<'_> {
    /// How this transaction began.
    #[must_use]
    pub fn mode(&self) -> BeginMode {
        self.mode
    }

    /// True for a transaction of [`SqliteSession::begin_read_only`].
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The transaction's connection.
    pub(crate) fn connection(&mut self) -> &mut SqliteConnection {
        self.conn
    }

    /// Runs `f` inside the transaction, on the calling thread. As with
    /// [`SqliteSession::run`], a statement of `f` that meets a lock waits on the calling thread
    /// (a `BEGIN IMMEDIATE` transaction holds the write lock already, so its writes do not wait).
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub fn run<R>(&mut self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Result<R> {
        let _in = self.span.enter();
        self.conn.run(f)
    }

    /// Runs `f` inside the transaction on tokio's blocking pool (for long statements).
    ///
    /// # Errors
    /// Whatever `f` returns, or [`Error::Blocking`].
    pub async fn interact<R, F>(&mut self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        in_span!(self.span, self.conn.interact(f))
    }

    /// Commits. On error the transaction is still open and rolls back when dropped.
    ///
    /// # Errors
    /// `COMMIT` failed, or [`Error::Abandoned`]: an [`interact`](Self::interact) of this
    /// transaction was cancelled, so it can only roll back.
    pub async fn commit(mut self) -> Result<()> {
        self.finish("COMMIT").await
    }

    /// Rolls back. A transaction whose [`interact`](Self::interact) was cancelled rolls back as
    /// soon as the cancelled closure returns (its running statement is interrupted), and this
    /// returns `Ok` at once.
    ///
    /// # Errors
    /// `ROLLBACK` failed (the connection is then discarded rather than reused).
    pub async fn rollback(mut self) -> Result<()> {
        if self.conn.state() == ConnState::Abandoned {
            return Ok(());
        }
        self.finish("ROLLBACK").await
    }

    async fn finish(&mut self, sql: &'static str) -> Result<()> {
        if self.finished {
            return Err(Error::TransactionDone);
        }
        // `COMMIT` may wait for readers (rollback-journal mode): off the async worker.
        in_span!(
            self.span,
            self.conn.run_portable(control, sql, Args::Values(&[]))
        )?;
        self.finished = true;
        self.lane = None;
        if self.read_only && self.conn.run(reset_query_only).is_err() {
            // A connection that refuses writes must not go back to the pool.
            self.conn.set_dirty(true);
        }
        Ok(())
    }
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if self.conn.state() != ConnState::Abandoned {
            let read_only = self.read_only;
            let rolled_back = self.conn.run(|c| {
                c.execute_batch("ROLLBACK")?;
                if read_only {
                    reset_query_only(c)
                } else {
                    Ok(())
                }
            });
            if rolled_back.is_err() {
                tracing::warn!(target: "dbconfig", connection = self.conn.id(), "rollback of a dropped transaction failed; the connection will be closed");
                // Its state is unknown: the session must not run anything else on it, and
                // closing it makes SQLite roll back whatever is left.
                self.conn.abandon();
            }
            return;
        }
        // A cancelled `interact` may still run on this connection. Stop its statement, then roll
        // back once the closure has returned, keeping the writer lane until then so that no
        // writer of ours meets the lock. The session no longer uses this connection (its next
        // statement runs on a fresh one), so nothing it runs can end up inside this transaction.
        // An abandoned connection is closed, never reused: a read-only transaction's
        // `query_only` needs no reset here.
        self.conn.interrupt();
        let handle = self.conn.handle();
        let lane = self.lane.take();
        std::thread::spawn(move || {
            let conn = handle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
                tracing::warn!(target: "dbconfig", "rollback after a cancelled interact failed; the connection closes when its session lets go of it");
            }
            drop(conn);
            drop(lane);
        });
    }
}

/// Ends a read-only transaction's `query_only`.
fn reset_query_only(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch("PRAGMA query_only = OFF")
}
