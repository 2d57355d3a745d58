//! The portable [`Executor`] / [`Transaction`] API on SQLite sessions and transactions.

use super::bind;
use super::bind::Args;
use super::session::{SqliteSession, SqliteTransaction};
use crate::error::Result;
use crate::query::{Executor, Transaction};
use crate::url::Dialect;
use crate::value::{Params, Row};

impl Executor for SqliteSession {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        self.connection()
            .await?
            .run_portable(|c, info| bind::execute_with(c, sql, Args::Params(params), info))
    }

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        self.connection()
            .await?
            .run_portable(|c, info| bind::query_with(c, sql, Args::Params(params), info))
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<()> {
        self.connection()
            .await?
            .run_portable(|c, _| c.execute_batch(sql).map_err(Into::into))
    }
}

impl Executor for SqliteTransaction<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        self.connection()
            .run_portable(|c, info| bind::execute_with(c, sql, Args::Params(params), info))
    }

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        self.connection()
            .run_portable(|c, info| bind::query_with(c, sql, Args::Params(params), info))
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<()> {
        self.connection()
            .run_portable(|c, _| c.execute_batch(sql).map_err(Into::into))
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
