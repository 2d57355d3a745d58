//! The pool's connection type and its deadpool [`Manager`].
//!
//! Each pooled connection is a `rusqlite::Connection` behind an `Arc<Mutex<…>>`. Short statements
//! run on the caller's thread (no hop to another thread: that hop costs 10–20× a point read);
//! [`SqliteConnection::interact`] moves long work to tokio's blocking pool. Recycling is a pair
//! of cheap checks, never a query.
//!
//! Lock waits: a connection rests with SQLite's busy timeout at zero, and only native `run`
//! closures and work on the blocking pool set `busy_timeout` around what they run. So a portable
//! statement (and our `BEGIN`/`COMMIT`), run inline, fails at once on a lock held by another
//! connection instead of sleeping on the async worker; the same statement then runs again on the
//! blocking pool, waiting out the rest of `busy_timeout` there
//! ([`SqliteConnection::run_portable`]).
//!
//! Cancellation: an `interact` future dropped before its closure finished interrupts the running
//! statement (`sqlite3_interrupt`), makes every later statement of the closure fail with
//! `SQLITE_INTERRUPT` within ~100 VM steps (a progress handler), and marks the connection *abandoned*: nothing runs on it
//! again. Its session takes a fresh connection for the next statement, an open transaction on it
//! is rolled back once the closure has returned (by [`SqliteTransaction`]'s drop, which keeps the
//! writer lane until then), and it is closed instead of going back to the pool. No async caller
//! ever waits on the connection's mutex: the mutex is only taken by blocking tasks.
//!
//! [`SqliteTransaction`]: super::SqliteTransaction

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use deadpool::managed::{Manager, Metrics, RecycleError, RecycleResult};
use rusqlite::Connection;

use super::bind::{Args, StatementInfo};
use super::cipher::Keying;
use super::connect::{OnConnect, open_connection_until};
use super::op::{BusyWait, Failure, Op};
use super::target::OpenTarget;
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::telemetry::PoolMetrics;
use crate::tracker::{ConnectionId, ConnectionTracker, next_connection_id};
use crate::url::Dialect;

/// One SQLite connection owned by dbconfig (pooled, or an in-memory database's keeper).
pub struct SqliteConnection {
    conn: Arc<Mutex<Connection>>,
    interrupt: Arc<rusqlite::InterruptHandle>,
    state: ConnState,
    id: ConnectionId,
    tracker: Option<Arc<ConnectionTracker>>,
    open_count: Option<Arc<AtomicUsize>>,
    /// The portable statements run here (parameter numbers, column names).
    names: StatementInfo,
    /// The connection's lock wait as set up (`busy_timeout`, or what the `on_connect` hook set):
    /// set around native `run` closures and blocking work, the limit of a portable statement's
    /// blocking retry (the connection itself rests at 0).
    busy_timeout: Duration,
    /// The engine's key generation when it was opened (see [`Keying`]).
    generation: u64,
}

/// Whether a connection may be used again, and by whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnState {
    /// As the pool promises.
    Ready,
    /// Usable by its holder, but its per-connection state was changed (a PRAGMA) and is not yet
    /// restored: it is closed rather than returned to the pool, whatever path its holder takes.
    Dirty,
    /// A cancelled `interact` may still run on it, or a rollback failed: never used again.
    Abandoned,
}

impl std::fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnection")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SqliteConnection {
    pub(crate) fn new(
        conn: Connection,
        tracker: Option<Arc<ConnectionTracker>>,
        database: &str,
        role: &'static str,
    ) -> Result<Self> {
        // Read back rather than taken from the settings: the `on_connect` hook may have changed
        // it. No lock is needed to read it.
        let busy_ms: i64 = conn.pragma_query_value(None, "busy_timeout", |r| r.get(0))?;
        let busy_timeout = Duration::from_millis(busy_ms.max(0).unsigned_abs());
        // Between uses, and for portable statements run inline, a connection does not wait for
        // locks; `run` and the blocking pool set `busy_timeout` around what they run.
        conn.busy_timeout(Duration::ZERO)?;
        let id = next_connection_id();
        if let Some(tracker) = &tracker {
            tracker.on_connect(id, Dialect::Sqlite, database.to_owned(), role);
        }
        Ok(SqliteConnection {
            interrupt: Arc::new(conn.get_interrupt_handle()),
            conn: Arc::new(Mutex::new(conn)),
            state: ConnState::Ready,
            id,
            tracker,
            open_count: None,
            names: StatementInfo::default(),
            busy_timeout,
            generation: 0,
        })
    }

    /// This connection's process-unique id (as the [`ConnectionTracker`] shows it).
    #[must_use]
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Runs `f` on this connection, on the calling thread. For short statements: no thread hop.
    ///
    /// `f` runs with the configured `busy_timeout`: a statement in it that meets a lock held by
    /// another connection (another process, or a connection of this process outside the writer
    /// lane) waits for it *on the calling thread*, holding up every other task of that tokio
    /// worker for up to `busy_timeout`. The portable API ([`Executor`](crate::query::Executor))
    /// and [`interact`](Self::interact) never wait on the caller's thread.
    ///
    /// # Errors
    /// Whatever `f` returns, as [`Error::Sqlite`]; [`Error::Abandoned`] when an earlier
    /// [`interact`](Self::interact) on this connection was cancelled (nothing runs then).
    pub fn run<R>(&mut self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Result<R> {
        let wait = self.busy_timeout;
        let conn = self.exclusive()?;
        conn.busy_timeout(wait)?;
        let result = f(conn);
        conn.busy_timeout(Duration::ZERO)?;
        result.map_err(Error::Sqlite)
    }

    /// Runs `op` (one portable statement, a batch, or our `BEGIN`/`COMMIT`) on `sql` and
    /// `args`: first on the calling thread with no lock wait at all, then, if it met a lock
    /// (`SQLITE_BUSY`) and may be retried ([`Failure::resume`]), again on tokio's blocking pool
    /// with the rest of `busy_timeout` to wait. No async worker thread ever sleeps in SQLite's
    /// busy handler. Cancel-safe as [`interact`](Self::interact).
    ///
    /// # Errors
    /// What `op` returns; a lock still held after `busy_timeout` is `SQLITE_BUSY`
    /// ([`Error::is_busy`]).
    pub(crate) async fn run_portable<R: Send + 'static>(
        &mut self,
        op: Op<R>,
        sql: &str,
        args: Args<'_>,
    ) -> Result<R> {
        let wait = self.busy_timeout;
        let started = Instant::now();
        if self.state == ConnState::Abandoned {
            return Err(Error::Abandoned);
        }
        let Some(mutex) = Arc::get_mut(&mut self.conn) else {
            return Err(Error::Abandoned);
        };
        let conn = mutex.get_mut().unwrap_or_else(PoisonError::into_inner);
        // The connection's busy timeout is 0 here (see `new`; native `run` closures and the
        // blocking pool set the full wait around what they run): a lock is `SQLITE_BUSY` at once.
        let inline = op(conn, sql, args, &mut self.names);
        let rest = match inline {
            Ok(r) => return Ok(r),
            Err(Failure {
                error,
                resume: Some(at),
            }) if !wait.is_zero() => match sql.get(at..) {
                Some(rest) => rest.to_owned(),
                None => return Err(error),
            },
            Err(failure) => return Err(failure.error),
        };
        // Owned, for the blocking pool (only here: the inline path binds without copying). The
        // retry binds them through the same checks (NaN refused) as the inline attempt.
        let values: Vec<_> = match args {
            Args::Values(values) => values.to_vec(),
            Args::Params(params) => params.iter().map(|p| p.to_value()).collect(),
        };
        self.blocking(move |c, cancelled| {
            let mut waiting = BusyWait {
                cancelled,
                wait,
                deadline: started.checked_add(wait).unwrap_or(started),
                first: true,
            };
            c.busy_handler(Some(move |count| waiting.call(count)))?;
            // A statement info of its own: the connection's stays with the connection (it
            // re-reads what this run changed, as after any statement it did not see).
            let mut info = StatementInfo::default();
            let result = op(c, &rest, Args::Values(&values), &mut info).map_err(|f| f.error);
            // Replaces our handler (`blocking` sets the timeout back to 0 afterwards).
            c.busy_timeout(wait)?;
            result
        })
        .await
    }

    /// The connection, when nothing else holds it. Never waits: a cancelled blocking task that
    /// still runs makes this an error, not a wait on the mutex.
    fn exclusive(&mut self) -> Result<&mut Connection> {
        if self.state == ConnState::Abandoned {
            return Err(Error::Abandoned);
        }
        match Arc::get_mut(&mut self.conn) {
            Some(mutex) => Ok(mutex.get_mut().unwrap_or_else(PoisonError::into_inner)),
            None => Err(Error::Abandoned),
        }
    }

    /// Runs `f` on this connection on tokio's blocking pool: for long queries that should not
    /// hold up the async worker thread.
    ///
    /// Cancel-safe: if this future is dropped before `f` returns, the statement `f` is running
    /// is interrupted and so is every statement it starts afterwards (they fail with
    /// `SQLITE_INTERRUPT` within about 100 VM steps; Rust code in `f` runs on until it reaches
    /// SQLite again, and a statement waiting for a lock waits at most `busy_timeout`), and the
    /// connection is abandoned: every later call on
    /// it returns [`Error::Abandoned`] at once, its session continues on a fresh connection, an
    /// open transaction on it rolls back, and it is closed rather than pooled.
    ///
    /// # Errors
    /// Whatever `f` returns, [`Error::Abandoned`] (see above), or [`Error::Blocking`] if it
    /// panicked.
    pub async fn interact<R, F>(&mut self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        self.blocking(|c, _| f(c).map_err(Error::Sqlite)).await
    }

    /// Runs `f` on tokio's blocking pool, cancel-safe as [`interact`](Self::interact) says. `f`
    /// also gets the cancellation flag (set when this future is dropped).
    pub(crate) async fn blocking<R, F>(&mut self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection, Arc<AtomicBool>) -> Result<R> + Send + 'static,
    {
        self.exclusive()?;
        let conn = Arc::clone(&self.conn);
        let wait = self.busy_timeout;
        // Marked before the first await; cleared only when the closure's result is in.
        let before = std::mem::replace(&mut self.state, ConnState::Abandoned);
        let cancelled = Arc::new(AtomicBool::new(false));
        let guard = CancelOnDrop {
            cancelled: Some(Arc::clone(&cancelled)),
            interrupt: Arc::clone(&self.interrupt),
        };
        let joined = tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let autocommit = conn.is_autocommit();
            // `sqlite3_interrupt` stops only the statement running at that instant; this stops
            // every statement `f` starts after the cancellation too.
            let flag = Arc::clone(&cancelled);
            conn.progress_handler(PROGRESS_OPS, Some(move || flag.load(Ordering::Relaxed)))?;
            // Off the runtime, lock waits are fine; back to none afterwards (see `new`).
            conn.busy_timeout(wait)?;
            let result = f(&mut conn, Arc::clone(&cancelled));
            conn.busy_timeout(Duration::ZERO)?;
            if cancelled.load(Ordering::Relaxed) {
                // Nobody will use this connection again, but it closes only when its session
                // lets go of it: a transaction `f` opened (a `BEGIN` that got its lock just as
                // the caller left) must not keep the database locked until then. A transaction
                // that was open before is rolled back by `SqliteTransaction`'s drop.
                if autocommit && !conn.is_autocommit() {
                    conn.progress_handler(0, None::<fn() -> bool>)?;
                    conn.execute_batch("ROLLBACK")?;
                }
            } else {
                conn.progress_handler(0, None::<fn() -> bool>)?;
            }
            result
        })
        .await;
        guard.defuse();
        let result = joined.map_err(|e| Error::Blocking(Box::new(e)))?;
        // A panic inside `f` leaves the abandoned mark: what it did is unknown.
        self.state = before;
        result
    }

    /// Interrupts whatever statement runs on this connection now (from any thread).
    pub(crate) fn interrupt(&self) {
        self.interrupt.interrupt();
    }

    /// The connection's state.
    pub(crate) fn state(&self) -> ConnState {
        self.state
    }

    /// Marks the per-connection state as changed (`true`) or restored (`false`); a dirty
    /// connection is never returned to the pool. No effect on an abandoned connection.
    pub(crate) fn set_dirty(&mut self, dirty: bool) {
        if self.state != ConnState::Abandoned {
            self.state = if dirty {
                ConnState::Dirty
            } else {
                ConnState::Ready
            };
        }
    }

    /// Never use this connection again (a rollback failed).
    pub(crate) fn abandon(&mut self) {
        self.state = ConnState::Abandoned;
    }

    /// True when the pool may hand this connection out again.
    pub(crate) fn reusable(&self) -> bool {
        self.state == ConnState::Ready && Arc::strong_count(&self.conn) == 1
    }

    /// The shared handle, for clean-up that must wait for a running blocking task.
    pub(crate) fn handle(&self) -> Arc<Mutex<Connection>> {
        Arc::clone(&self.conn)
    }
}

/// Virtual-machine steps between two checks of an `interact`'s cancellation flag.
const PROGRESS_OPS: std::ffi::c_int = 100;

/// Cancels the blocking task of an `interact` unless defused: held across its await, so that
/// dropping the future stops the SQL it runs now (interrupt) and every statement it starts later
/// (the flag its progress handler reads).
struct CancelOnDrop {
    cancelled: Option<Arc<AtomicBool>>,
    interrupt: Arc<rusqlite::InterruptHandle>,
}

impl CancelOnDrop {
    fn defuse(mut self) {
        self.cancelled = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = self.cancelled.take() {
            flag.store(true, Ordering::Relaxed);
            self.interrupt.interrupt();
        }
    }
}

impl Drop for SqliteConnection {
    fn drop(&mut self) {
        // SQLite's advice for connections that close: `PRAGMA optimize` refreshes the planner's
        // statistics of the tables this connection used, when they are missing or stale
        // (https://www.sqlite.org/lang_analyze.html#automatically_running_analyze). Usually a
        // no-op; never a wait (the connection's busy timeout is 0 here: a locked database skips
        // it), never on a connection a cancelled task may still use or in a transaction.
        if self.state != ConnState::Abandoned
            && let Some(mutex) = Arc::get_mut(&mut self.conn)
        {
            let conn = mutex.get_mut().unwrap_or_else(PoisonError::into_inner);
            if conn.is_autocommit() {
                let _ = conn.execute_batch("PRAGMA optimize");
            }
        }
        if let Some(count) = &self.open_count {
            count.fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(tracker) = &self.tracker {
            tracker.on_close(self.id);
        }
    }
}

/// Interrupts the connection being opened (once it exists) unless defused.
struct InterruptSlotOnDrop(Option<Arc<Mutex<Option<Arc<rusqlite::InterruptHandle>>>>>);

impl InterruptSlotOnDrop {
    fn defuse(mut self) {
        self.0 = None;
    }
}

impl Drop for InterruptSlotOnDrop {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take()
            && let Some(handle) = slot.lock().unwrap_or_else(PoisonError::into_inner).take()
        {
            handle.interrupt();
        }
    }
}

/// Creates and recycles [`SqliteConnection`]s for one engine.
pub(crate) struct SqliteManager {
    pub(crate) target: Arc<OpenTarget>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) on_connect: Option<OnConnect>,
    pub(crate) tracker: Option<Arc<ConnectionTracker>>,
    /// The redacted URL, for the tracker.
    pub(crate) database: String,
    /// Connections created by this manager and not yet closed.
    pub(crate) open_count: Arc<AtomicUsize>,
    /// The SQLCipher key source.
    pub(crate) keying: Arc<Keying>,
    /// A connection opened when the engine was created (to check its key), handed out first.
    pub(crate) spare: Mutex<Option<Connection>>,
    pub(crate) metrics: Arc<PoolMetrics>,
}

impl SqliteManager {
    /// A new connection as a pooled one: tracked, counted, tagged with the key generation.
    fn adopt(&self, conn: Connection, generation: u64) -> Result<SqliteConnection> {
        let mut conn = SqliteConnection::new(conn, self.tracker.clone(), &self.database, "pool")?;
        self.open_count.fetch_add(1, Ordering::Relaxed);
        conn.open_count = Some(Arc::clone(&self.open_count));
        conn.generation = generation;
        Ok(conn)
    }
}

impl Manager for SqliteManager {
    type Type = SqliteConnection;
    type Error = Error;

    async fn create(&self) -> Result<SqliteConnection> {
        let generation = self.keying.generation();
        let spare = self
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Opened before any rekey (generation 0); after one it holds the old key.
        if let Some(conn) = spare.filter(|_| generation == 0) {
            return self.adopt(conn, generation);
        }
        let started = Instant::now();
        let target = Arc::clone(&self.target);
        let keying = Arc::clone(&self.keying);
        let settings = Arc::clone(&self.settings);
        let hook = self.on_connect.clone();
        // Opening can wait on a lock (setting WAL), so it runs off the async worker. deadpool
        // drops this future at `connection_timeout`; the open itself stops by then too (its lock
        // waits are cut to the deadline, and dropping this future interrupts the hook's SQL), so
        // no blocking thread outlives the limit by more than one statement of the hook.
        let deadline = self
            .settings
            .connection_timeout
            .and_then(|limit| std::time::Instant::now().checked_add(limit));
        let slot: Arc<Mutex<Option<Arc<rusqlite::InterruptHandle>>>> = Arc::default();
        let guard = InterruptSlotOnDrop(Some(Arc::clone(&slot)));
        let conn = tokio::task::spawn_blocking(move || {
            // The provider, if any, is called here, off the async worker.
            let key = keying.current()?;
            open_connection_until(
                &target,
                &settings,
                key.as_ref(),
                hook.as_ref(),
                deadline,
                |c| {
                    *slot.lock().unwrap_or_else(PoisonError::into_inner) =
                        Some(Arc::new(c.get_interrupt_handle()));
                },
            )
        })
        .await;
        guard.defuse();
        let conn = conn.map_err(|e| Error::Blocking(Box::new(e)))??;
        self.metrics.created(started.elapsed());
        self.adopt(conn, generation)
    }

    async fn recycle(
        &self,
        conn: &mut SqliteConnection,
        metrics: &Metrics,
    ) -> RecycleResult<Error> {
        if self
            .settings
            .pool_recycle
            .is_some_and(|max| metrics.age() > max)
        {
            return Err(RecycleError::message("connection reached pool_recycle age"));
        }
        if !conn.reusable() {
            return Err(RecycleError::message(
                "connection abandoned by a cancelled task, or its state was changed",
            ));
        }
        if conn.generation != self.keying.generation() {
            return Err(RecycleError::message(
                "connection opened with the key before rekey",
            ));
        }
        let c = conn
            .exclusive()
            .map_err(|_| RecycleError::message("connection still held by a blocking task"))?;
        if !c.is_autocommit() {
            // Returned inside an open transaction: never hand it out as it is.
            c.execute_batch("ROLLBACK")
                .map_err(|e| RecycleError::Backend(Error::Sqlite(e)))?;
        }
        Ok(())
    }
}
