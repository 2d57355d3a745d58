//! The portable [`Executor`] / [`Transaction`] API on SQLite sessions and transactions.
//!
//! Every statement runs through [`SqliteConnection::run_portable`]: inline, and on the blocking
//! pool only when it meets a lock.

use crate::telemetry::in_span;
use rusqlite::Connection;
use rusqlite::fallible_iterator::FallibleIterator;

use super::bind::{self, Args, StatementInfo};
use super::op::{Failure, failure, once};
use super::pool::SqliteConnection;
use super::session::{SqliteSession, SqliteTransaction};
use crate::error::Result;
use crate::query::{Executor, Transaction};
use crate::url::Dialect;
use crate::value::{Params, Row};

fn execute(
    c: &Connection,
    sql: &str,
    args: Args<'_>,
    info: &mut StatementInfo,
) -> Result<u64, Failure> {
    once(c, || bind::execute_with(c, sql, args, info))
}

fn query(
    c: &Connection,
    sql: &str,
    args: Args<'_>,
    info: &mut StatementInfo,
) -> Result<Vec<Row>, Failure> {
    once(c, || bind::query_with(c, sql, args, info))
}

/// `;`-separated statements, each stepped once (as rusqlite's `execute_batch`); a statement with
/// placeholders is refused ([`bind::no_placeholders`]) before it runs. A statement that
/// meets a lock resumes, with the statements after it, from its own first byte: those before it
/// have run and must not run again.
fn batch(c: &Connection, sql: &str, _: Args<'_>, _: &mut StatementInfo) -> Result<(), Failure> {
    let mut statements = rusqlite::Batch::new(c, sql);
    // Where the next statement's text begins, while it is known.
    let mut at = Some(0);
    loop {
        let mut stmt = match statements.next() {
            Ok(Some(stmt)) => stmt,
            Ok(None) => return Ok(()),
            // Preparing reads the schema, which can meet a lock too; nothing of it ran.
            Err(e) => return Err(failure(c, c.is_autocommit(), e.into()).starting_at(at)),
        };
        // SQLite keeps each statement's text exactly as it was cut from the batch (leading
        // blanks, comments and empty statements included), so the next one starts right after
        // it. Checked, not assumed: a text that does not match (parameters expanded) ends the
        // tracking, and a lock met after that is final.
        let next = at.and_then(|at| {
            let text = stmt.expanded_sql()?;
            sql.get(at..)?.starts_with(&text).then_some(at + text.len())
        });
        once(c, || {
            bind::no_placeholders(&stmt)?;
            let mut rows = stmt.raw_query();
            rows.next()?;
            Ok(())
        })
        .map_err(|f| f.starting_at(at))?;
        at = next;
    }
}

impl Executor for SqliteSession {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let conn = self.connection().await?;
        mark_if_pragma_set(conn, sql);
        conn.run_portable(execute, sql, Args::Params(params)).await
    }

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let conn = self.connection().await?;
        mark_if_pragma_set(conn, sql);
        conn.run_portable(query, sql, Args::Params(params)).await
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<()> {
        let conn = self.connection().await?;
        mark_if_pragma_set(conn, sql);
        conn.run_portable(batch, sql, Args::Values(&[])).await
    }
}

/// A `PRAGMA name = value` run through the portable API can change its connection for whoever
/// uses it next (`foreign_keys`, `synchronous`, `busy_timeout`…): such a connection is closed
/// when its session ends instead of going back to the pool with settings its engine did not
/// give it. (A persistent PRAGMA such as `user_version` costs one reconnect, nothing more.)
fn mark_if_pragma_set(conn: &mut SqliteConnection, sql: &str) {
    let sets = sql.split(';').any(|s| {
        let s = s.trim_start();
        s.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("pragma")) && s.contains('=')
    });
    if sets {
        conn.set_dirty(true);
    }
}

impl Executor for SqliteTransaction<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let span = self.span.clone();
        let conn: &mut SqliteConnection = self.connection();
        mark_if_pragma_set(conn, sql);
        in_span!(span, conn.run_portable(execute, sql, Args::Params(params)))
    }

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let span = self.span.clone();
        let conn: &mut SqliteConnection = self.connection();
        mark_if_pragma_set(conn, sql);
        in_span!(span, conn.run_portable(query, sql, Args::Params(params)))
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<()> {
        let span = self.span.clone();
        let conn: &mut SqliteConnection = self.connection();
        mark_if_pragma_set(conn, sql);
        in_span!(span, conn.run_portable(batch, sql, Args::Values(&[])))
    }
}

impl Transaction for SqliteTransaction<'_> {
    async fn commit(self) -> Result<()> {
        SqliteTransaction::commit(self).await
    }

    async fn rollback(self) -> Result<()> {
        SqliteTransaction::rollback(self).await
    }

    async fn execute_and_commit(mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let n = Executor::execute(&mut self, sql, params).await?;
        SqliteTransaction::commit(self).await?;
        Ok(n)
    }

    async fn query_and_commit(mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let rows = Executor::query(&mut self, sql, params).await?;
        SqliteTransaction::commit(self).await?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch statement that meets a lock resumes exactly at its own text: empty statements,
    /// comments and the statements before it are not run again.
    #[test]
    fn a_busy_batch_resumes_at_the_statement_that_met_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (0)")
            .unwrap();
        let c = Connection::open(&path).unwrap();
        c.busy_timeout(std::time::Duration::ZERO).unwrap();
        let rest = " -- why; not\n INSERT INTO t VALUES (1); SELECT 3";
        let sql = format!("SELECT 1; ;; /* a; comment */ SELECT 2;{rest}");
        let failure =
            batch(&c, &sql, Args::Values(&[]), &mut StatementInfo::default()).unwrap_err();
        assert!(failure.error.is_busy(), "{:?}", failure.error);
        assert_eq!(failure.resume.map(|at| &sql[at..]), Some(rest));

        // Parameters make the statement's text differ from the batch: not resumable.
        let failure = batch(
            &c,
            "SELECT ?1; INSERT INTO t VALUES (1)",
            Args::Values(&[]),
            &mut StatementInfo::default(),
        )
        .unwrap_err();
        assert_eq!(failure.resume, None);
    }
}
