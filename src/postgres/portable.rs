//! The portable [`Executor`] / [`Transaction`] API on PostgreSQL sessions and transactions:
//! statements prepared through the connection's statement cache, [`Value`]s encoded for the
//! types the server inferred, every round trip bounded by the engine's round-trip limit.

use tokio_postgres::Statement;
use tokio_postgres::types::ToSql;

use super::classify;
use super::session::{Own, PostgresSession, PostgresTransaction, answer_within, prepare};
use super::value::Param;
use crate::error::{Error, Result};
use crate::query::{Executor, Transaction};
use crate::url::Dialect;
use crate::value::{Params, Row, Value, values_of};

/// Pairs `values` with `$1…$N` after checking the statement takes that many.
fn bind<'a>(statement: &Statement, values: &'a [Value]) -> Result<Vec<Param<'a>>> {
    let wanted = statement.params().len();
    if wanted != values.len() {
        return Err(Error::Placeholders {
            reason: format!(
                "{} parameter(s) were given, the statement uses {wanted}",
                values.len()
            ),
        });
    }
    Ok(values
        .iter()
        .enumerate()
        .map(|(i, value)| Param {
            parameter: i + 1,
            value,
        })
        .collect())
}

fn refs<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn echo(on: bool, sql: &str) {
    if on {
        tracing::info!(target: "dbconfig::sql", "{sql}");
    }
}

impl PostgresSession {
    /// The session's connection, and `sql` prepared on it (through its statement cache), with
    /// the limit and echo flag every round trip of the portable API runs under.
    async fn prepared(&mut self, sql: &str) -> Result<(Own, Statement)> {
        let own = self.own("");
        let cache = self.engine().inner.limits.statement_cache;
        self.client().await?;
        let Some(client) = self.conn.as_deref() else {
            return Err(Error::Disposed);
        };
        let statement = answer_within(own.limit, &mut self.health, prepare(client, cache, sql))
            .await?
            .map_err(classify)?;
        Ok((own, statement))
    }
}

impl Executor for PostgresSession {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let values = values_of(params)?;
        let (own, statement) = self.prepared(sql).await?;
        let Some(client) = self.conn.as_deref() else {
            return Err(Error::Disposed);
        };
        let params = bind(&statement, &values)?;
        echo(own.echo, sql);
        answer_within(
            own.limit,
            &mut self.health,
            client.execute(&statement, &refs(&params)),
        )
        .await?
        .map_err(classify)
    }

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let values = values_of(params)?;
        let (own, statement) = self.prepared(sql).await?;
        let Some(client) = self.conn.as_deref() else {
            return Err(Error::Disposed);
        };
        let params = bind(&statement, &values)?;
        echo(own.echo, sql);
        let rows = answer_within(
            own.limit,
            &mut self.health,
            client.query(&statement, &refs(&params)),
        )
        .await?
        .map_err(classify)?;
        Ok(rows.into_iter().map(Row::from_postgres).collect())
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<()> {
        let own = self.own("");
        self.client().await?;
        let Some(client) = self.conn.as_deref() else {
            return Err(Error::Disposed);
        };
        echo(own.echo, sql);
        answer_within(own.limit, &mut self.health, client.batch_execute(sql))
            .await?
            .map_err(classify)
    }
}

impl Executor for PostgresTransaction<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let values = values_of(params)?;
        let statement = self.prepare_cached(sql).await?;
        let params = bind(&statement, &values)?;
        echo(self.own.echo, sql);
        let client = self.connection();
        self.answer_within(1, client.execute(&statement, &refs(&params)))
            .await?
            .map_err(classify)
    }

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let values = values_of(params)?;
        let statement = self.prepare_cached(sql).await?;
        let params = bind(&statement, &values)?;
        echo(self.own.echo, sql);
        let client = self.connection();
        let rows = self
            .answer_within(1, client.query(&statement, &refs(&params)))
            .await?
            .map_err(classify)?;
        Ok(rows.into_iter().map(Row::from_postgres).collect())
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<()> {
        echo(self.own.echo, sql);
        let client = self.connection();
        self.answer_within(1, client.batch_execute(sql))
            .await?
            .map_err(classify)
    }
}

impl Transaction for PostgresTransaction<'_> {
    async fn commit(self) -> Result<()> {
        PostgresTransaction::commit(self).await
    }

    async fn rollback(self) -> Result<()> {
        PostgresTransaction::rollback(self).await
    }

    async fn execute_and_commit(self, sql: &str, params: Params<'_>) -> Result<u64> {
        let values = values_of(params)?;
        let statement = self.prepare_cached(sql).await?;
        let params = bind(&statement, &values)?;
        echo(self.own.echo, sql);
        self.execute_prepared_and_commit(&statement, &refs(&params))
            .await
    }

    async fn query_and_commit(self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let values = values_of(params)?;
        let statement = self.prepare_cached(sql).await?;
        let params = bind(&statement, &values)?;
        echo(self.own.echo, sql);
        let rows = self
            .query_prepared_and_commit(&statement, &refs(&params))
            .await?;
        Ok(rows.into_iter().map(Row::from_postgres).collect())
    }
}
