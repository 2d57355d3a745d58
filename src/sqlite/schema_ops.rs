//! `create_db`, `drop_db` and `verify_db` on a [`SqliteEngine`].

use super::engine::SqliteEngine;
use crate::error::{Error, Result};
use crate::migrate::plan::{self, Plan};
use crate::schema::{Difference, Metadata, ddl, reflect};
use crate::url::Dialect;

impl SqliteEngine {
    /// Creates what `metadata` describes and the database lacks, in one `BEGIN IMMEDIATE`
    /// transaction. See [`DatabaseConfig::create_db`](crate::DatabaseConfig::create_db).
    ///
    /// # Errors
    /// Invalid metadata (nothing runs), or a statement failed (nothing is committed).
    pub async fn create_db(&self, metadata: &Metadata) -> Result<()> {
        let statements = ddl::create_statements(metadata, Dialect::Sqlite)?;
        self.run_ddl(&statements).await
    }

    /// Drops the tables of `metadata`, in one transaction, with foreign keys switched off on
    /// this connection for the drop (and restored after): with them on, SQLite's implicit
    /// `DELETE` of a table in a foreign-key cycle can fail with "no such table" once the other
    /// table is gone, even when both are empty.
    ///
    /// # Errors
    /// Invalid metadata (nothing runs), or a statement failed (nothing is committed).
    pub async fn drop_db(&self, metadata: &Metadata) -> Result<()> {
        let statements = ddl::drop_statements(metadata, Dialect::Sqlite)?;
        let restore = if self.settings().sqlite.pragmas.foreign_keys {
            "PRAGMA foreign_keys = ON"
        } else {
            "PRAGMA foreign_keys = OFF"
        };
        let mut session = self.session();
        // Marked dirty before the PRAGMA changes it: if this future is dropped anywhere below
        // (a timeout while waiting for the writer lane, say), the session closes the connection
        // instead of returning it to the pool with foreign keys off.
        let conn = session.connection().await?;
        conn.set_dirty(true);
        // Outside a transaction: the PRAGMA is a no-op inside one.
        conn.run(|c| c.execute_batch("PRAGMA foreign_keys = OFF"))?;
        let dropped = async {
            let mut tx = session.begin_transaction(true).await?;
            if let Some((at, e)) = tx.run(|c| Ok(run_each(c, &statements)))? {
                return Err(Error::from(e).in_ddl(&statements[at]));
            }
            tx.commit().await
        }
        .await;
        let conn = session.connection().await?;
        conn.run(|c| c.execute_batch(restore))?;
        conn.set_dirty(false);
        dropped
    }

    /// Compares the live schema with `metadata`.
    ///
    /// # Errors
    /// Invalid metadata, or reading the catalog failed.
    pub async fn verify_db(&self, metadata: &Metadata) -> Result<Vec<Difference>> {
        metadata.validate_for(Dialect::Sqlite)?;
        let mut session = self.session();
        let conn = session.connection().await?;
        conn.run(|c| Ok(reflect::sqlite::verify(c, metadata)))?
    }

    /// Plans the changes that bring the database to `metadata` (see [`crate::migrate::plan`]):
    /// reads the catalog as [`verify_db`](Self::verify_db) does, runs nothing.
    ///
    /// # Errors
    /// Invalid metadata, or reading the catalog failed.
    pub async fn plan_db(&self, metadata: &Metadata) -> Result<Plan> {
        metadata.validate_for(Dialect::Sqlite)?;
        let mut session = self.session();
        let conn = session.connection().await?;
        conn.run(|c| Ok(plan::plan_sqlite(c, metadata)))?
    }

    async fn run_ddl(&self, statements: &[String]) -> Result<()> {
        let mut session = self.session();
        let mut tx = session.begin_transaction(true).await?;
        if let Some((at, e)) = tx.run(|c| Ok(run_each(c, statements)))? {
            // Dropping `tx` rolls back.
            return Err(Error::from(e).in_ddl(&statements[at]));
        }
        tx.commit().await
    }
}

/// Runs each DDL statement on its own with single-statement execution: SQLite's prepare stops at
/// the first statement and rusqlite rejects a non-empty tail, so an expression in the schema
/// (a CHECK, a default, a partial index's WHERE) can never carry a second statement.
/// The first failure: the statement's index and the error.
fn run_each(c: &rusqlite::Connection, statements: &[String]) -> Option<(usize, rusqlite::Error)> {
    statements
        .iter()
        .enumerate()
        .find_map(|(at, sql)| c.execute(sql, []).err().map(|e| (at, e)))
}
