//! The portable statement API: [`Executor`] (sessions and transactions) and [`Transaction`]
//! (commit, rollback, the last statement with its COMMIT).
//!
//! Write SQL once with `$1, $2, …` placeholders and run it on SQLite, PostgreSQL and (through
//! `wasm/`) in the browser:
//!
//! ```no_run
//! use dbconfig::prelude::*;
//!
//! async fn claim(db: &impl DatabaseConfig, worker: &str) -> dbconfig::Result<Option<i64>> {
//!     let engine = db.engine().await?;
//!     let mut session = db.session(&engine).await?;
//!     let tx = db.begin_transaction(&mut session, true).await?;
//!     let row = tx
//!         .query_and_commit(
//!             "UPDATE jobs SET owner = $1 WHERE id = (SELECT min(id) FROM jobs WHERE owner IS NULL) \
//!              RETURNING id",
//!             &[&worker],
//!         )
//!         .await?;
//!     row.first().map(|r| r.get("id")).transpose()
//! }
//! ```
//!
//! Sessions run statements in autocommit mode: each is its own transaction (on SQLite it does not
//! queue in the writer lane; use [`begin_transaction(true)`](crate::DatabaseConfig::begin_transaction)
//! for writes that contend). Transactions run them inside the transaction.
//!
//! The drivers stay reachable for what the portable API does not cover: `SqliteTransaction::run`
//! and `interact` (a `&rusqlite::Connection`), `PostgresTransaction`'s `Deref` to
//! `tokio_postgres::Client`.

use std::future::Future;

use crate::error::{Error, Result};
use crate::url::Dialect;
use crate::value::{Params, Row};

/// Runs portable statements: implemented by every session and transaction.
///
/// Every call that goes to the network or the pool is bounded (PostgreSQL: the engine's
/// [`round_trip_limit`](crate::PostgresEngine::round_trip_limit); SQLite: `busy_timeout`). On
/// SQLite a statement runs on the calling thread, and one that meets a lock held by another
/// connection waits for it on tokio's blocking pool, never on the async worker.
pub trait Executor: Send {
    /// The backend's dialect, for the few statements that must differ (say
    /// `FOR UPDATE SKIP LOCKED`).
    fn dialect(&self) -> Dialect;

    /// Runs one statement and returns the rows it changed (for a statement that returns rows:
    /// how many).
    ///
    /// # Errors
    /// The statement failed, [`Error::Placeholders`] or [`Error::Encode`] for its parameters, or a
    /// timeout.
    fn execute(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Runs one statement and returns its rows.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    fn query(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send;

    /// Runs one statement that must return exactly one row.
    ///
    /// # Errors
    /// As [`execute`](Self::execute), or [`Error::UnexpectedRows`].
    fn query_one(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Row>> + Send {
        async move {
            let rows = self.query(sql, params).await?;
            one(rows, "exactly one")?.ok_or(Error::UnexpectedRows {
                expected: "exactly one",
                found: 0,
            })
        }
    }

    /// Runs one statement that returns at most one row.
    ///
    /// # Errors
    /// As [`execute`](Self::execute), or [`Error::UnexpectedRows`].
    fn query_opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Option<Row>>> + Send {
        async move {
            let rows = self.query(sql, params).await?;
            one(rows, "at most one")
        }
    }

    /// Runs `;`-separated statements without parameters (DDL, a script).
    ///
    /// # Errors
    /// A statement failed (those before it have run: wrap it in a transaction to keep none). A
    /// statement with placeholders (`$1`) fails on both backends: PostgreSQL refuses it, SQLite
    /// returns [`Error::Placeholders`] instead of binding NULL.
    fn execute_batch(&mut self, sql: &str) -> impl Future<Output = Result<()>> + Send;
}

/// An open transaction: an [`Executor`] that commits or rolls back. Dropped without either, it
/// rolls back.
pub trait Transaction: Executor {
    /// Commits.
    ///
    /// # Errors
    /// `COMMIT` failed (the transaction is rolled back) or timed out.
    fn commit(self) -> impl Future<Output = Result<()>> + Send;

    /// Rolls back.
    ///
    /// # Errors
    /// `ROLLBACK` failed or timed out.
    fn rollback(self) -> impl Future<Output = Result<()>> + Send;

    /// Runs one statement and commits. On PostgreSQL the statement and `COMMIT` share one round
    /// trip; on SQLite it is the statement, then `COMMIT`. If the statement fails nothing of the
    /// transaction is kept.
    ///
    /// # Errors
    /// As [`Executor::execute`] and [`commit`](Self::commit).
    fn execute_and_commit(
        self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Runs one statement, commits, and returns its rows (one round trip on PostgreSQL).
    ///
    /// # Errors
    /// As [`execute_and_commit`](Self::execute_and_commit).
    fn query_and_commit(
        self,
        sql: &str,
        params: Params<'_>,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send;
}

fn one(rows: Vec<Row>, expected: &'static str) -> Result<Option<Row>> {
    if rows.len() > 1 {
        return Err(Error::UnexpectedRows {
            expected,
            found: rows.len(),
        });
    }
    Ok(rows.into_iter().next())
}
