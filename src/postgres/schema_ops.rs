//! `create_db`, `drop_db` and `verify_db` on a [`PostgresEngine`].
//!
//! Every round trip is bounded by [`PostgresEngine::round_trip_limit`] (`timeout +
//! connection_timeout`); one that times out fails with [`Error::Timeout`](crate::Error::Timeout)
//! and its connection is closed, never returned to the pool.

use std::task::Poll;

use super::classify;
use super::engine::PostgresEngine;
use super::session::send_now;
use crate::error::Result;
use crate::migrate::plan::{self, Plan};
use crate::schema::{Difference, Metadata, ddl, reflect};
use crate::url::Dialect;

impl PostgresEngine {
    /// Creates what `metadata` describes and the database lacks, in one transaction (one round
    /// trip: the statements are sent together). See
    /// [`DatabaseConfig::create_db`](crate::DatabaseConfig::create_db).
    ///
    /// Each statement's answer must arrive within
    /// [`round_trip_limit`](Self::round_trip_limit) of the previous one's (the server applies
    /// `statement_timeout` to each statement), and COMMIT's within the same limit.
    ///
    /// # Errors
    /// Invalid metadata (nothing runs), a statement failed (nothing is committed), or an answer
    /// did not come in time ([`Error::Timeout`](crate::Error::Timeout); nothing is committed).
    pub async fn create_db(&self, metadata: &Metadata) -> Result<()> {
        let statements = ddl::create_statements(metadata, Dialect::Postgres)?;
        self.run_ddl(&statements).await
    }

    /// Drops the tables and enum types of `metadata`, in one transaction, bounded as
    /// [`create_db`](Self::create_db) is.
    ///
    /// # Errors
    /// Invalid metadata (nothing runs), a statement failed (nothing is committed), or an answer
    /// did not come in time.
    pub async fn drop_db(&self, metadata: &Metadata) -> Result<()> {
        let statements = ddl::drop_statements(metadata, Dialect::Postgres)?;
        self.run_ddl(&statements).await
    }

    /// Compares the live schema with `metadata` (tables without a schema are looked up in
    /// `current_schema()`).
    ///
    /// Reads `current_schema()`, then the catalog (five queries, in turn), then commits: each
    /// round trip is bounded by [`round_trip_limit`](Self::round_trip_limit), the catalog read
    /// by five times that.
    ///
    /// # Errors
    /// Invalid metadata, reading the catalog failed, or an answer did not come in time
    /// ([`Error::Timeout`](crate::Error::Timeout)).
    pub async fn verify_db(&self, metadata: &Metadata) -> Result<Vec<Difference>> {
        metadata.validate_for(Dialect::Postgres)?;
        let (catalog, default_schema) = self.read_catalog(metadata).await?;
        Ok(reflect::diff(
            metadata,
            Dialect::Postgres,
            &catalog,
            Some(&default_schema),
        ))
    }

    /// Plans the changes that bring the database to `metadata` (see [`crate::migrate::plan`]):
    /// reads the catalog as [`verify_db`](Self::verify_db) does, runs nothing.
    ///
    /// # Errors
    /// Invalid metadata, reading the catalog failed, or an answer did not come in time.
    pub async fn plan_db(&self, metadata: &Metadata) -> Result<Plan> {
        metadata.validate_for(Dialect::Postgres)?;
        let (catalog, default_schema) = self.read_catalog(metadata).await?;
        Ok(plan::plan(
            metadata,
            Dialect::Postgres,
            &catalog,
            Some(&default_schema),
        )?)
    }

    /// The catalog of the schemas `metadata` uses and of `current_schema()`, and the latter.
    async fn read_catalog(&self, metadata: &Metadata) -> Result<(reflect::Catalog, String)> {
        let mut session = self.session();
        let mut tx = session.begin_transaction(false).await?;
        let client = tx.connection();
        let default_schema: Option<String> = tx
            .answer_within(1, client.query_one("SELECT current_schema()::text", &[]))
            .await?
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
        let catalog = tx
            .answer_within(
                CATALOG_QUERIES,
                reflect::postgres::read(&**client, &schemas),
            )
            .await??;
        tx.commit().await?;
        Ok((catalog, default_schema))
    }

    /// Runs `statements` in one transaction. Each is a request of its own, all sent at once
    /// (one round trip, as one multi-statement batch would be), so that each answer can be
    /// awaited under its own limit. Each goes through the extended protocol (an unnamed
    /// statement, no parameters), where the server refuses more than one command per request
    /// (42601): an expression in the schema can never carry a second statement.
    async fn run_ddl(&self, statements: &[String]) -> Result<()> {
        let mut session = self.session();
        let mut tx = session.begin_transaction(true).await?;
        let client = tx.connection();
        let mut answers = Vec::with_capacity(statements.len());
        for sql in statements {
            let mut answer = Box::pin(client.query_typed(sql, &[]));
            match send_now(answer.as_mut()) {
                Poll::Pending => answers.push((sql, answer)),
                Poll::Ready(Ok(_)) => {}
                // Not sent (the connection is closed): dropping `tx` rolls back.
                Poll::Ready(Err(e)) => return Err(classify(e).in_ddl(sql)),
            }
        }
        for (sql, answer) in answers {
            tx.answer_within(1, answer)
                .await?
                .map_err(|e| classify(e).in_ddl(sql))?;
        }
        tx.commit().await
    }
}

/// The queries of [`reflect::postgres::read`], one round trip each.
const CATALOG_QUERIES: u32 = 5;
