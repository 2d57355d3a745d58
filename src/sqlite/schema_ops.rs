//! `create_db`, `drop_db` and `verify_db` on a [`SqliteEngine`].

use super::engine::SqliteEngine;
use crate::error::Result;
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

    /// Drops the tables of `metadata`, in one transaction.
    ///
    /// # Errors
    /// Invalid metadata (nothing runs), or a statement failed (nothing is committed).
    pub async fn drop_db(&self, metadata: &Metadata) -> Result<()> {
        let statements = ddl::drop_statements(metadata, Dialect::Sqlite)?;
        self.run_ddl(&statements).await
    }

    /// Compares the live schema with `metadata`.
    ///
    /// # Errors
    /// Invalid metadata, or reading the catalog failed.
    pub async fn verify_db(&self, metadata: &Metadata) -> Result<Vec<Difference>> {
        metadata.validate_for(Dialect::Sqlite)?;
        let mut session = self.session();
        let catalog = session.run(reflect::sqlite::read).await?;
        Ok(reflect::diff(metadata, Dialect::Sqlite, &catalog, None))
    }

    async fn run_ddl(&self, statements: &[String]) -> Result<()> {
        let mut session = self.session();
        let mut tx = session.begin_transaction(true).await?;
        tx.run(|c| statements.iter().try_for_each(|sql| c.execute_batch(sql)))?;
        tx.commit().await
    }
}
