//! [`PostgresSession`] and [`PostgresTransaction`].

use std::future::Future;
use std::ops::Deref;
use std::time::Duration;

use deadpool::managed::Object;
use deadpool_postgres::ClientWrapper;
use tokio_postgres::{IsolationLevel, Statement};

use super::classify;
use super::engine::PostgresEngine;
use super::pool::PgManager;
use crate::error::{Error, Result};

/// A unit of work on one pooled connection, taken lazily on first use and returned when the
/// session is dropped.
pub struct PostgresSession {
    engine: PostgresEngine,
    conn: Option<Object<PgManager>>,
    /// A round trip of ours timed out: the connection's state is unknown, so it is closed
    /// instead of returned to the pool.
    broken: bool,
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
struct Own {
    sql: &'static str,
    echo: bool,
    limit: Duration,
}

/// Runs one round trip of ours under its limit; a timeout marks the connection broken. With
/// `echo`, the statement is logged as SQLite's are (target `dbconfig::sql`).
async fn bounded<T>(
    own: Own,
    broken: &mut bool,
    fut: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>,
) -> Result<T> {
    let Own { sql, echo, limit } = own;
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(limit, fut).await;
    if echo {
        let elapsed_us = started.elapsed().as_micros() as u64;
        tracing::info!(target: "dbconfig::sql", elapsed_us, "{sql}");
    }
    match result {
        Ok(result) => result.map_err(classify),
        Err(_) => {
            *broken = true;
            Err(Error::Timeout {
                waiting_for: "the server to answer",
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
            broken: false,
        }
    }

    /// The session's connection (a `tokio_postgres::Client` through `Deref`, with
    /// deadpool-postgres's `prepare_cached`), taken from the pool if the session has none yet.
    /// Statements run on it directly are in autocommit mode.
    ///
    /// # Errors
    /// No connection within `pool_timeout`, connecting failed, or the engine was disposed.
    pub async fn client(&mut self) -> Result<&ClientWrapper> {
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
        bounded(own, &mut self.broken, client.simple_query(own.sql))
            .await
            .map(drop)
    }

    fn own(&self, sql: &'static str) -> Own {
        Own {
            sql,
            echo: self.engine.settings().echo,
            limit: self.engine.inner.limits.answer,
        }
    }

    /// Begins a transaction at READ COMMITTED, whatever the server's or the role's default
    /// (`START TRANSACTION ISOLATION LEVEL READ COMMITTED`, one round trip).
    ///
    /// `with_for_update` does not change `BEGIN` on PostgreSQL (it exists for SQLite's
    /// `BEGIN IMMEDIATE`): lock rows with `SELECT … FOR UPDATE`. A transaction dropped without
    /// [`commit`](PostgresTransaction::commit) rolls back.
    ///
    /// # Errors
    /// As [`client`](Self::client), or `BEGIN` failed or timed out.
    pub async fn begin_transaction(
        &mut self,
        with_for_update: bool,
    ) -> Result<PostgresTransaction<'_>> {
        let _ = with_for_update;
        let statement_cache = self.engine.inner.limits.statement_cache;
        let own = self.own("START TRANSACTION ISOLATION LEVEL READ COMMITTED");
        self.client().await?;
        let Some(conn) = self.conn.as_mut() else {
            return Err(Error::Disposed);
        };
        let broken = &mut self.broken;
        let start = conn
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start();
        let txn = bounded(own, broken, start).await?;
        Ok(PostgresTransaction {
            txn,
            broken,
            own,
            statement_cache,
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
            self.engine.release(conn, self.broken);
        }
    }
}

/// An open PostgreSQL transaction; `Deref`s to [`tokio_postgres::Transaction`] for queries.
/// Commit with [`commit`](Self::commit); dropping it (an error, a cancelled future) rolls back.
pub struct PostgresTransaction<'s> {
    txn: deadpool_postgres::Transaction<'s>,
    broken: &'s mut bool,
    /// The limit and echo flag of BEGIN, reused for COMMIT and ROLLBACK.
    own: Own,
    statement_cache: usize,
}

impl std::fmt::Debug for PostgresTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresTransaction")
            .finish_non_exhaustive()
    }
}

impl<'s> Deref for PostgresTransaction<'s> {
    type Target = tokio_postgres::Transaction<'s>;

    fn deref(&self) -> &tokio_postgres::Transaction<'s> {
        &self.txn
    }
}

impl PostgresTransaction<'_> {
    /// Prepares `sql`, reusing the connection's cached statement when there is one. With
    /// `statement_cache_size = 0` (PgBouncer transaction mode) nothing is cached: the statement
    /// is prepared afresh and closed when dropped.
    ///
    /// # Errors
    /// The server rejected the statement.
    pub async fn prepare_cached(&self, sql: &str) -> Result<Statement> {
        if self.statement_cache == 0 {
            return self.txn.prepare(sql).await.map_err(classify);
        }
        let cache = &self.txn.statement_cache;
        if cache.size() >= self.statement_cache {
            cache.clear();
        }
        self.txn.prepare_cached(sql).await.map_err(classify)
    }

    /// Commits. On error the transaction is over: the server rolled it back.
    ///
    /// # Errors
    /// `COMMIT` failed (a serialization failure, a deferred constraint…) or timed out.
    pub async fn commit(self) -> Result<()> {
        let PostgresTransaction {
            txn, broken, own, ..
        } = self;
        let own = Own {
            sql: "COMMIT",
            ..own
        };
        bounded(own, broken, txn.commit()).await
    }

    /// Rolls back.
    ///
    /// # Errors
    /// `ROLLBACK` failed or timed out.
    pub async fn rollback(self) -> Result<()> {
        let PostgresTransaction {
            txn, broken, own, ..
        } = self;
        let own = Own {
            sql: "ROLLBACK",
            ..own
        };
        bounded(own, broken, txn.rollback()).await
    }
}
