//! [`PostgresSession`] and [`PostgresTransaction`].

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use deadpool::managed::Object;
use deadpool_postgres::ClientWrapper;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};

use super::classify;
use super::engine::{Health, PostgresEngine};
use super::pool::PgManager;
use crate::config::LockMode;
use crate::error::{Error, Result, WaitingFor};
use crate::url::Dialect;

/// A unit of work on one pooled connection, taken lazily on first use and returned when the
/// session is dropped.
pub struct PostgresSession {
    engine: PostgresEngine,
    pub(super) conn: Option<Object<PgManager>>,
    /// What is known of the connection: see [`PostgresEngine::release`] for what each state
    /// means when the connection is given back.
    pub(super) health: Health,
    /// A session of the read replica (by index) that `begin_read_only` last used.
    replica: Option<(usize, Box<PostgresSession>)>,
}

impl PostgresEngine {
    /// A new session (it takes a pooled connection on first use).
    #[must_use]
    pub fn session(&self) -> PostgresSession {
        PostgresSession::new(self.clone())
    }
}

impl std::fmt::Debug for PostgresSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSession")
            .field("engine", &self.engine.id())
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

/// One statement of ours: its text for `echo`, and the limit it runs under.
#[derive(Clone, Copy)]
pub(super) struct Own {
    pub(super) sql: &'static str,
    pub(super) echo: bool,
    pub(super) limit: Duration,
}

/// Runs one round trip of ours under its limit; a timeout marks the connection broken. With
/// `echo`, the statement is logged as SQLite's are (target `dbconfig::sql`).
async fn bounded<T>(
    own: Own,
    health: &mut Health,
    fut: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>,
) -> Result<T> {
    let Own { sql, echo, limit } = own;
    let started = std::time::Instant::now();
    let result = answer_within(limit, health, fut).await;
    if echo {
        let elapsed_us = started.elapsed().as_micros() as u64;
        tracing::info!(target: "dbconfig::sql", elapsed_us, "{sql}");
    }
    result?.map_err(classify)
}

/// Waits at most `limit` for the server's answer to `fut` (which may be an error of its own).
/// While waiting the connection is busy (so that dropping this future leaves it busy); a
/// timeout marks it broken.
pub(super) async fn answer_within<T, E>(
    limit: Duration,
    health: &mut Health,
    fut: impl Future<Output = std::result::Result<T, E>>,
) -> Result<std::result::Result<T, E>> {
    health.sending();
    match tokio::time::timeout(limit, fut).await {
        Ok(answer) => {
            health.answered();
            Ok(answer)
        }
        Err(_) => {
            *health = Health::Broken;
            Err(Error::Timeout {
                waiting_for: WaitingFor::ServerAnswer,
                after: limit,
            })
        }
    }
}

impl PostgresSession {
    pub(crate) fn new(engine: PostgresEngine) -> Self {
        PostgresSession {
            engine,
            conn: None,
            health: Health::Idle,
            replica: None,
        }
    }

    /// The session's connection (a `tokio_postgres::Client` through `Deref`, with
    /// deadpool-postgres's `prepare_cached`), taken from the pool if the session has none yet,
    /// or if its connection may still be busy (a transaction or a round trip of ours was
    /// abandoned) or timed out: that one is given back to settle or close on its own (see
    /// [`begin_transaction`](Self::begin_transaction)), so the session never waits behind it.
    /// Statements run on it directly are in autocommit mode, and are yours to bound
    /// ([`PostgresEngine::round_trip_limit`] is dbconfig's own limit). One you abandon
    /// mid-flight keeps the connection busy until the server finishes it; run it in a
    /// transaction to have it cancelled instead.
    ///
    /// # Errors
    /// No connection within `pool_timeout`, connecting failed, or the engine was disposed.
    pub async fn client(&mut self) -> Result<&ClientWrapper> {
        if self.health != Health::Idle {
            if let Some(conn) = self.conn.take() {
                self.engine.release(conn, self.health);
            }
            self.health = Health::Idle;
        }
        if self.conn.is_none() {
            self.conn = Some(self.engine.checkout().await?);
        }
        match self.conn.as_deref() {
            Some(client) => Ok(client),
            None => Err(Error::Disposed),
        }
    }

    /// Checks the connection answers (`SELECT 1`), bounded like every round trip of ours.
    ///
    /// # Errors
    /// As [`client`](Self::client), or the server did not answer in time.
    pub async fn ping(&mut self) -> Result<()> {
        let own = self.own("SELECT 1");
        self.client().await?;
        let Some(client) = self.conn.as_deref() else {
            return Err(Error::Disposed);
        };
        bounded(own, &mut self.health, client.simple_query(own.sql))
            .await
            .map(drop)
    }

    pub(super) fn own(&self, sql: &'static str) -> Own {
        Own {
            sql,
            echo: self.engine.settings().echo,
            limit: self.engine.inner.limits.answer,
        }
    }

    /// Begins a transaction at READ COMMITTED, whatever the server's or the role's default.
    ///
    /// `START TRANSACTION ISOLATION LEVEL READ COMMITTED` is sent at once but its answer is read
    /// together with your first statement's, so BEGIN costs no round trip of its own. End with
    /// [`execute_prepared_and_commit`](PostgresTransaction::execute_prepared_and_commit) or
    /// [`query_prepared_and_commit`](PostgresTransaction::query_prepared_and_commit) and neither does COMMIT.
    /// The [`LockMode`] does not change `BEGIN` on PostgreSQL (it exists for SQLite's
    /// `BEGIN IMMEDIATE`): lock rows with `SELECT … FOR UPDATE`. A transaction dropped without
    /// [`commit`](PostgresTransaction::commit) rolls back.
    ///
    /// A transaction dropped before it finished (after an error, or with a statement still
    /// running: a timeout, a `select!`, an aborted task) leaves its connection busy: the
    /// session takes another one for its next use, and the busy one goes back to the pool only
    /// once it answers an empty query within `connection_timeout`; otherwise the server is
    /// sent a cancel request and the connection is closed. Nobody waits for the abandoned
    /// statement, and the server does not run it to its end.
    ///
    /// # Errors
    /// As [`client`](Self::client), or the connection is closed.
    pub async fn begin_transaction(
        &mut self,
        mode: impl Into<LockMode>,
    ) -> Result<PostgresTransaction<'_>> {
        let _: LockMode = mode.into();
        self.begin_with(BEGIN, true).await
    }

    /// Begins a read-only transaction (`READ ONLY`, READ COMMITTED) on a read replica when
    /// the engine has some (`postgres.replica_urls`; taken in turn), else on the primary.
    ///
    /// A replica may lag behind the primary: a transaction here need not see what this
    /// application committed a moment ago (use [`begin_transaction`](Self::begin_transaction)
    /// to read your own writes). When a replica cannot give a connection (it is down, or
    /// `pool_timeout` / `connection_timeout` run out), the failure is logged, the replica is
    /// skipped for 10 s, and the transaction runs on the next replica or the primary: only the
    /// first read after a replica goes away waits, at most those limits.
    ///
    /// # Errors
    /// As [`begin_transaction`](Self::begin_transaction), on the primary.
    pub async fn begin_read_only(&mut self) -> Result<PostgresTransaction<'_>> {
        let engine = self.engine.clone();
        let mut on_replica = false;
        while let Some(i) = engine.pick_replica() {
            if self.replica.as_ref().is_none_or(|(j, _)| *j != i) {
                let session = engine.inner.replicas[i].engine.session();
                self.replica = Some((i, Box::new(session)));
            }
            let Some((_, session)) = self.replica.as_mut() else {
                break;
            };
            match session.client().await {
                Ok(_) => {
                    on_replica = true;
                    break;
                }
                Err(e) => {
                    engine.replica_failed(i, &e);
                    self.replica = None;
                }
            }
        }
        if on_replica {
            // Set only right after `self.replica` got its connection.
            return match self.replica.as_mut() {
                Some((_, session)) => session.begin_with(BEGIN_READ_ONLY, false).await,
                None => Err(Error::Disposed),
            };
        }
        self.begin_with(BEGIN_READ_ONLY, false).await
    }

    async fn begin_with(
        &mut self,
        begin_sql: &'static str,
        write: bool,
    ) -> Result<PostgresTransaction<'_>> {
        let statement_cache = self.engine.inner.limits.statement_cache;
        let own = self.own(begin_sql);
        self.client().await?;
        let Some(client) = self.conn.as_deref() else {
            return Err(Error::Disposed);
        };
        let span = crate::telemetry::transaction_span(
            Dialect::Postgres,
            &self.engine.inner.namespace,
            write,
        );
        if own.echo {
            span.in_scope(
                || tracing::info!(target: "dbconfig::sql", pipelined = true, "{begin_sql}"),
            );
        }
        let mut begin: Pending<'_> = Box::pin(client.batch_execute(begin_sql));
        let begin = match send_now(begin.as_mut()) {
            Poll::Ready(Err(e)) => return Err(classify(e)),
            Poll::Ready(Ok(())) => None,
            Poll::Pending => Some(begin),
        };
        Ok(PostgresTransaction {
            client,
            begin: Mutex::new(begin),
            health: &mut self.health,
            own,
            statement_cache,
            done: false,
            span,
        })
    }

    /// The engine this session draws from.
    #[must_use]
    pub fn engine(&self) -> &PostgresEngine {
        &self.engine
    }
}

impl Drop for PostgresSession {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.engine.release(conn, self.health);
        }
    }
}

/// Prepares `sql` on `client`, through its statement cache when `statement_cache` > 0 (the cache
/// is cleared when full).
pub(super) async fn prepare(
    client: &ClientWrapper,
    statement_cache: usize,
    sql: &str,
) -> std::result::Result<Statement, tokio_postgres::Error> {
    if statement_cache == 0 {
        return client.prepare(sql).await;
    }
    let cache = &client.statement_cache;
    if cache.size() >= statement_cache {
        cache.clear();
    }
    client.prepare_cached(sql).await
}

const BEGIN: &str = "START TRANSACTION ISOLATION LEVEL READ COMMITTED";
const BEGIN_READ_ONLY: &str = "START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY";

/// The answer to a request already sent.
type Pending<'s> =
    Pin<Box<dyn Future<Output = std::result::Result<(), tokio_postgres::Error>> + Send + 's>>;

/// Polls `fut` once. tokio-postgres queues a request to the connection on the first poll of
/// its future, so this sends it without waiting for the answer.
pub(crate) fn send_now<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// An open PostgreSQL transaction. It `Deref`s to the session's [`tokio_postgres::Client`]:
/// every statement you run on it runs inside the transaction. Commit with
/// [`commit`](Self::commit); dropping it (an error, a cancelled future) rolls back.
pub struct PostgresTransaction<'s> {
    client: &'s ClientWrapper,
    /// BEGIN's answer, not read yet (it arrives ahead of the first statement's). In a mutex
    /// only so that the transaction is `Sync` (it is only touched through `&mut self`).
    begin: Mutex<Option<Pending<'s>>>,
    health: &'s mut Health,
    /// The limit and echo flag of BEGIN, reused for COMMIT and ROLLBACK.
    pub(super) own: Own,
    pub(super) statement_cache: usize,
    done: bool,
    /// The transaction's span (`crate::telemetry`).
    pub(super) span: tracing::Span,
}

impl std::fmt::Debug for PostgresTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresTransaction")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Deref for PostgresTransaction<'_> {
    type Target = tokio_postgres::Client;

    fn deref(&self) -> &tokio_postgres::Client {
        self.client
    }
}

impl<'s> PostgresTransaction<'s> {
    /// Prepares `sql`, reusing the connection's cached statement when there is one. With
    /// `statement_cache_size = 0` (PgBouncer transaction mode) nothing is cached: the statement
    /// is prepared afresh and closed when dropped.
    ///
    /// Preparing takes a round trip (unless cached), bounded by
    /// [`round_trip_limit`](PostgresEngine::round_trip_limit). With `echo`, the text is logged
    /// (target `dbconfig::sql`, `prepare=true`), cached or not.
    ///
    /// # Errors
    /// The server rejected the statement, or did not answer in time (dropping the transaction
    /// then leaves its connection busy, see
    /// [`begin_transaction`](PostgresSession::begin_transaction)).
    pub async fn prepare_cached(&self, sql: &str) -> Result<Statement> {
        if self.own.echo {
            // The statement is about to run in this transaction (the raw client's own methods
            // are not seen by dbconfig, so this is where its text is known).
            self.span
                .in_scope(|| tracing::info!(target: "dbconfig::sql", prepare = true, "{sql}"));
        }
        let limit = self.own.limit;
        match tokio::time::timeout(limit, prepare(self.client, self.statement_cache, sql)).await {
            Ok(prepared) => prepared.map_err(classify),
            Err(_) => Err(Error::Timeout {
                waiting_for: WaitingFor::ServerAnswer,
                after: limit,
            }),
        }
    }

    /// Commits: `COMMIT` is sent, and BEGIN's answer (if still unread) and COMMIT's are read.
    /// After a failed statement PostgreSQL answers `COMMIT` with a rollback, as it does for
    /// `tokio_postgres::Transaction::commit`. (If BEGIN itself failed, which only happens on a
    /// broken connection, its error is returned here.)
    ///
    /// # Errors
    /// BEGIN or COMMIT failed (a serialization failure, a deferred constraint…) or timed out.
    pub async fn commit(mut self) -> Result<()> {
        self.finish("COMMIT").await
    }

    /// Rolls back.
    ///
    /// # Errors
    /// `ROLLBACK` failed or timed out.
    pub async fn rollback(mut self) -> Result<()> {
        self.finish("ROLLBACK").await
    }

    /// Runs `statement` and commits, in one round trip: the statement and `COMMIT` leave
    /// together (after BEGIN, if its answer is still unread), and all answers are read at once.
    /// Returns the rows affected, as [`Client::execute`](tokio_postgres::Client::execute).
    ///
    /// If the statement fails, PostgreSQL answers the `COMMIT` behind it with a rollback and the
    /// statement's error is returned: nothing of the transaction is kept. The statement must be
    /// prepared (see [`prepare_cached`](Self::prepare_cached)) so that it can be sent ahead of
    /// COMMIT without waiting for a `Parse` answer.
    ///
    /// # Errors
    /// The statement, BEGIN or COMMIT failed, or the server did not answer in time.
    pub async fn execute_prepared_and_commit(
        mut self,
        statement: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64> {
        let client = self.client;
        self.finish_after(client.execute(statement, params)).await
    }

    /// Runs `statement` and commits, in one round trip, returning its rows. See
    /// [`execute_prepared_and_commit`](Self::execute_prepared_and_commit) for what happens when something fails.
    ///
    /// # Errors
    /// The statement, BEGIN or COMMIT failed, or the server did not answer in time.
    pub async fn query_prepared_and_commit(
        mut self,
        statement: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>> {
        let client = self.client;
        self.finish_after(client.query(statement, params)).await
    }

    /// Sends `last` (already a future of a request on this connection), then COMMIT, and reads
    /// BEGIN's, `last`'s and COMMIT's answers.
    pub(super) async fn finish_after<T>(
        &mut self,
        last: impl Future<Output = std::result::Result<T, tokio_postgres::Error>> + Send,
    ) -> Result<T> {
        let mut last = std::pin::pin!(last);
        let first = match send_now(last.as_mut()) {
            // Not sent (a parameter failed to encode, or the connection is closed): `Drop`
            // rolls back.
            Poll::Ready(Err(e)) => return Err(classify(e)),
            Poll::Ready(Ok(value)) => Some(value),
            Poll::Pending => None,
        };
        self.done = true;
        let begin = self.take_begin();
        let client = self.client;
        // Echoed once, when sent, as BEGIN is.
        if self.own.echo {
            self.span
                .in_scope(|| tracing::info!(target: "dbconfig::sql", pipelined = true, "COMMIT"));
        }
        let own = Own {
            sql: "COMMIT",
            echo: false,
            ..self.own
        };
        let mut end = std::pin::pin!(client.batch_execute("COMMIT"));
        // Ready at once only if the connection is already closed; an `async fn` future must not
        // be polled again after that.
        let ended_now = match send_now(end.as_mut()) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        };
        let all = async move {
            let began = match begin {
                Some(begin) => begin.await,
                None => Ok(()),
            };
            let last = match first {
                Some(value) => Ok(value),
                None => last.await,
            };
            let ended = match ended_now {
                Some(result) => result,
                None => end.await,
            };
            began?;
            let value = last?;
            ended.map(|()| value)
        };
        bounded(own, self.health, all).await
    }

    /// The connection, for a round trip of dbconfig's own through
    /// [`answer_within`](Self::answer_within) (its lifetime is the session's, so the
    /// transaction stays free to borrow mutably).
    pub(crate) fn connection(&self) -> &'s ClientWrapper {
        self.client
    }

    /// Waits at most `round_trips` × the round-trip limit for the answer to `fut`, a request of
    /// dbconfig's own on this transaction's connection; a timeout closes the connection when
    /// the session gives it back. The answer itself may be the server's error.
    ///
    /// # Errors
    /// [`Error::Timeout`] when no answer came in time.
    pub(crate) async fn answer_within<T, E>(
        &mut self,
        round_trips: u32,
        fut: impl Future<Output = std::result::Result<T, E>>,
    ) -> Result<std::result::Result<T, E>> {
        let limit = self.own.limit.saturating_mul(round_trips);
        answer_within(limit, self.health, fut).await
    }

    /// BEGIN's answer, if not read yet.
    fn take_begin(&mut self) -> Option<Pending<'s>> {
        self.begin
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    async fn finish(&mut self, sql: &'static str) -> Result<()> {
        self.done = true;
        let begin = self.take_begin();
        let client = self.client;
        let own = Own { sql, ..self.own };
        let both = async move {
            let end = client.batch_execute(sql);
            match begin {
                Some(begin) => {
                    let (began, ended) = tokio::join!(begin, end);
                    began.and(ended)
                }
                None => end.await,
            }
        };
        bounded(own, self.health, both).await
    }
}

impl Drop for PostgresTransaction<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Sent, not awaited (as tokio_postgres::Transaction does): the connection reads and
        // discards the answers. A statement of the transaction may still be running ahead of
        // it, so the connection is busy until shown otherwise.
        let mut rollback = Box::pin(self.client.batch_execute("ROLLBACK"));
        match send_now(rollback.as_mut()) {
            // Not sent: the connection is closed.
            Poll::Ready(Err(_)) => *self.health = Health::Broken,
            _ => self.health.sending(),
        }
    }
}
