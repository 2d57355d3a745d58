//! The portable [`Executor`] / [`Transaction`] API on PostgreSQL sessions and transactions:
//! statements prepared through the connection's statement cache, parameters encoded for the
//! types the server inferred, every round trip bounded by the engine's round-trip limit.
//!
//! Parameters go to tokio-postgres's `*_raw` calls as an iterator and rows are read off the
//! stream into [`Row`]s: no vector of values, of parameters or of references per call. What the
//! native path does not do: each parameter becomes a [`Value`](crate::Value) when it is encoded
//! (a copy for text and bytes), and `Row::get` decodes through a `Value` (`benches/portable.sh`
//! measures the cost: 0–4 % more client instructions per op).

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::ClientWrapper;
use futures_util::TryStreamExt;
use tokio_postgres::{RowStream, Statement};

use super::classify;
use super::engine::Health;
use super::session::{PostgresSession, PostgresTransaction, answer_within, prepare};
use super::value::Param;
use crate::error::{Error, Result};
use crate::query::{Executor, Transaction};
use crate::url::Dialect;
use crate::value::{Params, Row};

/// `params` as tokio-postgres parameters `$1…$N`, after checking the statement takes that many.
fn bind<'a>(
    statement: &Statement,
    params: Params<'a>,
) -> Result<impl ExactSizeIterator<Item = Param<'a>> + use<'a>> {
    let wanted = statement.params().len();
    if wanted != params.len() {
        return Err(Error::Placeholders {
            reason: format!(
                "{} parameter(s) were given, the statement uses {wanted}",
                params.len()
            ),
        });
    }
    Ok(params.iter().enumerate().map(|(i, &value)| Param {
        parameter: i + 1,
        value,
    }))
}

/// The rows of `stream` (a `query_raw` request), as portable rows.
async fn rows(
    stream: impl Future<Output = std::result::Result<RowStream, tokio_postgres::Error>>,
) -> std::result::Result<Vec<Row>, tokio_postgres::Error> {
    let mut stream = std::pin::pin!(stream.await?);
    let mut rows = Vec::new();
    while let Some(row) = stream.try_next().await? {
        rows.push(Row::from_postgres(row));
    }
    Ok(rows)
}

fn echo(on: bool, sql: &str) {
    if on {
        tracing::info!(target: "dbconfig::sql", "{sql}");
    }
}

/// A portable statement ready to send on a session's connection.
struct Ready<'a, P> {
    client: &'a ClientWrapper,
    health: &'a mut Health,
    limit: Duration,
    statement: Statement,
    params: P,
}

impl PostgresSession {
    /// The session's connection (taken now if needed), with `sql` prepared on it (through its
    /// statement cache), `params` bound and the statement echoed: what each portable round trip
    /// starts with.
    async fn ready<'p>(
        &mut self,
        sql: &str,
        params: Params<'p>,
    ) -> Result<Ready<'_, impl ExactSizeIterator<Item = Param<'p>> + use<'p>>> {
        let own = self.own("");
        let cache = self.engine().inner.limits.statement_cache;
        self.client().await?;
        let Self { conn, health, .. } = self;
        let Some(client) = conn.as_deref() else {
            return Err(Error::Disposed);
        };
        let statement = answer_within(own.limit, health, prepare(client, cache, sql))
            .await?
            .map_err(classify)?;
        let params = bind(&statement, params)?;
        echo(own.echo, sql);
        Ok(Ready {
            client,
            health,
            limit: own.limit,
            statement,
            params,
        })
    }
}

impl Executor for PostgresSession {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let r = self.ready(sql, params).await?;
        let answer = r.client.execute_raw(&r.statement, r.params);
        answer_within(r.limit, r.health, answer)
            .await?
            .map_err(classify)
    }

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let r = self.ready(sql, params).await?;
        let answer = rows(r.client.query_raw(&r.statement, r.params));
        answer_within(r.limit, r.health, answer)
            .await?
            .map_err(classify)
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

impl PostgresTransaction<'_> {
    /// `sql` prepared (through the connection's statement cache), `params` bound, the statement
    /// echoed: what each portable statement of a transaction starts with.
    async fn ready<'p>(
        &mut self,
        sql: &str,
        params: Params<'p>,
    ) -> Result<(
        Statement,
        impl ExactSizeIterator<Item = Param<'p>> + use<'p>,
    )> {
        let statement = self.prepare_cached(sql).await?;
        let params = bind(&statement, params)?;
        self.span.in_scope(|| echo(self.own.echo, sql));
        Ok((statement, params))
    }
}

impl Executor for PostgresTransaction<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let (statement, params) = self.ready(sql, params).await?;
        let answer = self.connection().execute_raw(&statement, params);
        self.answer_within(1, answer).await?.map_err(classify)
    }

    async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let (statement, params) = self.ready(sql, params).await?;
        let answer = rows(self.connection().query_raw(&statement, params));
        self.answer_within(1, answer).await?.map_err(classify)
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<()> {
        self.span.in_scope(|| echo(self.own.echo, sql));
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

    async fn execute_and_commit(mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let (statement, params) = self.ready(sql, params).await?;
        let answer = self.connection().execute_raw(&statement, params);
        self.finish_after(answer).await
    }

    async fn query_and_commit(mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let (statement, params) = self.ready(sql, params).await?;
        let answer = rows(self.connection().query_raw(&statement, params));
        self.finish_after(answer).await
    }
}
