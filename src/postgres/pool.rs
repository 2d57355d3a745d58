//! The deadpool manager: deadpool-postgres's manager (verified recycling, statement cache)
//! with our connector (TLS, PgBouncer-mode settings, tracker) and a maximum connection age.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::{ClientWrapper, ManagerConfig, RecyclingMethod};
use tokio::task::JoinHandle;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::tracker::{ConnectionId, ConnectionTracker, next_connection_id};
use crate::url::Dialect;

/// Opens connections for one engine.
pub(crate) struct PgConnector {
    pub(crate) tls: Option<MakeRustlsConnect>,
    pub(crate) after_connect: Option<String>,
    pub(crate) tracker: Option<Arc<ConnectionTracker>>,
    /// The redacted URL, for the tracker.
    pub(crate) database: String,
}

type ConnectFuture<'a> = Pin<
    Box<dyn Future<Output = Result<(Client, JoinHandle<()>), tokio_postgres::Error>> + Send + 'a>,
>;

impl deadpool_postgres::Connect for PgConnector {
    fn connect(&self, pg_config: &tokio_postgres::Config) -> ConnectFuture<'_> {
        let pg_config = pg_config.clone();
        Box::pin(async move {
            let (client, task) = match &self.tls {
                None => self.start(&pg_config, NoTls).await?,
                Some(tls) => self.start(&pg_config, tls.clone()).await?,
            };
            if let Some(sql) = &self.after_connect {
                // On error the client is dropped, which ends the connection task.
                client.simple_query(sql).await?;
            }
            Ok((client, task))
        })
    }
}

impl PgConnector {
    async fn start<T>(
        &self,
        pg_config: &tokio_postgres::Config,
        tls: T,
    ) -> Result<(Client, JoinHandle<()>), tokio_postgres::Error>
    where
        T: MakeTlsConnect<Socket> + Send,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let (client, connection) = pg_config.connect(tls).await?;
        let id = next_connection_id();
        if let Some(tracker) = &self.tracker {
            tracker.on_connect(id, Dialect::Postgres, self.database.clone(), "pool");
        }
        let closed = ClosedGuard {
            id,
            tracker: self.tracker.clone(),
        };
        // The task drives the socket; it ends when the client is dropped (or the server goes
        // away), and is aborted when the pool drops the connection. Either way the guard
        // reports the close.
        let task = tokio::spawn(async move {
            let _closed = closed;
            if let Err(e) = connection.await {
                tracing::debug!(target: "dbconfig", connection = id, error = %e, "postgres connection ended");
            }
        });
        Ok((client, task))
    }
}

/// Reports a connection's close to the tracker when its task ends or is aborted.
struct ClosedGuard {
    id: ConnectionId,
    tracker: Option<Arc<ConnectionTracker>>,
}

impl Drop for ClosedGuard {
    fn drop(&mut self) {
        if let Some(tracker) = &self.tracker {
            tracker.on_close(self.id);
        }
    }
}

/// deadpool-postgres's manager plus `pool_recycle` and `pool_pre_ping`.
pub(crate) struct PgManager {
    inner: deadpool_postgres::Manager,
    max_age: Option<Duration>,
    pre_ping: Option<Duration>,
}

impl PgManager {
    pub(crate) fn new(
        pg_config: tokio_postgres::Config,
        connector: PgConnector,
        max_age: Option<Duration>,
        pre_ping: Option<Duration>,
    ) -> Self {
        let config = ManagerConfig {
            // `Client::is_closed()` only; the liveness round trip is ours, per `pool_pre_ping`.
            recycling_method: RecyclingMethod::Fast,
        };
        PgManager {
            inner: deadpool_postgres::Manager::from_connect(pg_config, connector, config),
            max_age,
            pre_ping,
        }
    }
}

impl managed::Manager for PgManager {
    type Type = ClientWrapper;
    type Error = tokio_postgres::Error;

    async fn create(&self) -> Result<ClientWrapper, tokio_postgres::Error> {
        self.inner.create().await
    }

    async fn recycle(
        &self,
        client: &mut ClientWrapper,
        metrics: &Metrics,
    ) -> RecycleResult<tokio_postgres::Error> {
        if self.max_age.is_some_and(|max| metrics.age() > max) {
            return Err(RecycleError::message("connection reached pool_recycle age"));
        }
        self.inner.recycle(client, metrics).await?;
        // `last_used` is the time since the previous checkout (or the connect).
        if self
            .pre_ping
            .is_some_and(|idle| metrics.last_used() >= idle)
        {
            client.simple_query("").await?;
        }
        Ok(())
    }

    fn detach(&self, client: &mut ClientWrapper) {
        self.inner.detach(client);
    }
}
