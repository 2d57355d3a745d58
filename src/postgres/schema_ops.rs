//! `create_db`, `drop_db` and `verify_db` on a [`PostgresEngine`].

use super::classify;
use super::engine::PostgresEngine;
use crate::error::Result;
use crate::schema::{Difference, Metadata, ddl, reflect};
use crate::url::Dialect;

impl PostgresEngine {
    /// Creates what `metadata` describes and the database lacks, in one transaction (one round
    /// trip). See [`DatabaseConfig::create_db`](crate::DatabaseConfig::create_db).
    ///
    /// # Errors
    /// Invalid metadata (nothing runs), or a statement failed (nothing is committed).
    pub async fn create_db(&self, metadata: &Metadata) -> Result<()> {
        let statements = ddl::create_statements(metadata, Dialect::Postgres)?;
        self.run_ddl(&statements).await
    }

    /// Drops the tables and enum types of `metadata`, in one transaction.
    ///
    /// # Errors
    /// Invalid metadata (nothing runs), or a statement failed (nothing is committed).
    pub async fn drop_db(&self, metadata: &Metadata) -> Result<()> {
        let statements = ddl::drop_statements(metadata, Dialect::Postgres)?;
        self.run_ddl(&statements).await
    }

    /// Compares the live schema with `metadata` (tables without a schema are looked up in
    /// `current_schema()`).
    ///
    /// # Errors
    /// Invalid metadata, or reading the catalog failed.
    pub async fn verify_db(&self, metadata: &Metadata) -> Result<Vec<Difference>> {
        metadata.validate_for(Dialect::Postgres)?;
        let mut session = self.session();
        let tx = session.begin_transaction(false).await?;
        let default_schema: Option<String> = tx
            .query_one("SELECT current_schema()::text", &[])
            .await
            .map_err(classify)?
            .try_get(0)
            .map_err(|e| {
                reflect::postgres::decode_error("current_schema()", "current_schema", &e)
            })?;
        let default_schema = default_schema.unwrap_or_else(|| "public".into());
        let mut schemas: Vec<String> = metadata
            .tables
            .iter()
            .map(|t| t.schema.clone())
            .chain(metadata.enums.iter().map(|e| e.schema.clone()))
            .map(|s| s.unwrap_or_else(|| default_schema.clone()))
            .collect();
        schemas.push(default_schema.clone());
        schemas.sort();
        schemas.dedup();
        let catalog = reflect::postgres::read(&*tx, &schemas).await?;
        tx.commit().await?;
        Ok(reflect::diff(
            metadata,
            Dialect::Postgres,
            &catalog,
            Some(&default_schema),
        ))
    }

    async fn run_ddl(&self, statements: &[String]) -> Result<()> {
        let mut session = self.session();
        let tx = session.begin_transaction(true).await?;
        tx.batch_execute(&statements.join(";\n"))
            .await
            .map_err(classify)?;
        tx.commit().await
    }
}
