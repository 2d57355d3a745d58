//! The deadpool manager: deadpool-postgres's manager (verified recycling, statement cache)
//! with our connect (the `before_connect` credentials hook, TLS, PgBouncer-mode settings, the
//! `on_connect` hook, tracker) and a maximum connection age.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::{ClientWrapper, ManagerConfig, RecyclingMethod};
use futures_util::Stream;
use tokio::task::JoinHandle;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{AsyncMessage, Client, NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::classify;
use super::hooks::{Credentials, Hooks};
use crate::error::Error;
use crate::telemetry::PoolMetrics;
use crate::tracker::{ConnectionId, ConnectionTracker, next_connection_id};
use crate::url::Dialect;

/// Opens connections for one engine.
pub(crate) struct PgConnector {
    pub(crate) tls: Option<MakeRustlsConnect>,
    pub(crate) after_connect: Option<String>,
    pub(crate) hooks: Hooks,
    pub(crate) tracker: Option<Arc<ConnectionTracker>>,
    /// The redacted URL, for the tracker.
    pub(crate) database: String,
}

type ConnectFuture<'a> = Pin<
    Box<dyn Future<Output = Result<(Client, JoinHandle<()>), tokio_postgres::Error>> + Send + 'a>,
>;

/// [`PgConnector`] shared with deadpool-postgres's manager, which keeps one for its own
/// `create` (not used: [`PgManager::create`] connects through [`PgConnector::open`]).
struct Shared(Arc<PgConnector>);

impl deadpool_postgres::Connect for Shared {
    fn connect(&self, pg_config: &tokio_postgres::Config) -> ConnectFuture<'_> {
        let pg_config = pg_config.clone();
        Box::pin(async move { self.0.connect_with(&pg_config).await })
    }
}

/// A connection's messages (notifications, notices), for whoever drives it.
pub(crate) type Messages =
    Pin<Box<dyn Stream<Item = Result<AsyncMessage, tokio_postgres::Error>> + Send>>;

impl PgConnector {
    /// Opens one pooled connection: the credentials hook, the connect (TLS), PgBouncer-mode
    /// settings, then the `on_connect` hook. The caller bounds it (deadpool's create timeout).
    pub(crate) async fn open(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> crate::Result<(Client, JoinHandle<()>)> {
        let pg_config = self.credentials(pg_config).await?;
        // Boxed: the TLS connect's future is deep, and deadpool nests this one further.
        let (client, task) = Box::pin(self.connect_with(&pg_config))
            .await
            .map_err(classify)?;
        if let Some(hook) = &self.hooks.on_connect {
            // On error the client is dropped, which ends the connection task.
            hook(&client).await.map_err(Error::Hook)?;
        }
        Ok((client, task))
    }

    /// `pg_config` with the credentials of the `before_connect` hook, if any.
    async fn credentials<'c>(
        &self,
        pg_config: &'c tokio_postgres::Config,
    ) -> crate::Result<std::borrow::Cow<'c, tokio_postgres::Config>> {
        let Some(hook) = &self.hooks.before_connect else {
            return Ok(std::borrow::Cow::Borrowed(pg_config));
        };
        let Credentials { user, password } = hook().await.map_err(Error::Hook)?;
        let mut config = pg_config.clone();
        if let Some(user) = user {
            config.user(user);
        }
        if let Some(password) = password {
            config.password(password);
        }
        Ok(std::borrow::Cow::Owned(config))
    }

    /// Opens a connection whose messages the caller reads (a listener): credentials, connect
    /// (TLS), tracked as `listen`. Run [`setup`](Self::setup) on the client while the messages
    /// are being read.
    pub(crate) async fn open_raw(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> crate::Result<(Client, Messages, ClosedGuard)> {
        let pg_config = self.credentials(pg_config).await?;
        let (client, messages) = match &self.tls {
            None => {
                let (client, mut connection) = pg_config.connect(NoTls).await.map_err(classify)?;
                let messages: Messages = Box::pin(futures_util::stream::poll_fn(move |cx| {
                    connection.poll_message(cx)
                }));
                (client, messages)
            }
            Some(tls) => {
                let (client, mut connection) =
                    pg_config.connect(tls.clone()).await.map_err(classify)?;
                let messages: Messages = Box::pin(futures_util::stream::poll_fn(move |cx| {
                    connection.poll_message(cx)
                }));
                (client, messages)
            }
        };
        let id = next_connection_id();
        if let Some(tracker) = &self.tracker {
            tracker.on_connect(id, Dialect::Postgres, self.database.clone(), "listen");
        }
        let guard = ClosedGuard {
            id,
            tracker: self.tracker.clone(),
        };
        Ok((client, messages, guard))
    }

    /// What a new connection runs before use: PgBouncer-mode settings, then `on_connect`.
    pub(crate) async fn setup(&self, client: &Client) -> crate::Result<()> {
        if let Some(sql) = &self.after_connect {
            client.simple_query(sql).await.map_err(classify)?;
        }
        if let Some(hook) = &self.hooks.on_connect {
            hook(client).await.map_err(Error::Hook)?;
        }
        Ok(())
    }

    async fn connect_with(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> Result<(Client, JoinHandle<()>), tokio_postgres::Error> {
        let (client, task) = match &self.tls {
            None => self.start(pg_config, NoTls).await?,
            Some(tls) => self.start(pg_config, tls.clone()).await?,
        };
        if let Some(sql) = &self.after_connect {
            // On error the client is dropped, which ends the connection task.
            client.simple_query(sql).await?;
        }
        Ok((client, task))
    }

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
pub(crate) struct ClosedGuard {
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

/// deadpool-postgres's manager plus our connect, `pool_recycle` and `pool_pre_ping`.
pub(crate) struct PgManager {
    inner: deadpool_postgres::Manager,
    pub(crate) connector: Arc<PgConnector>,
    pub(crate) pg_config: tokio_postgres::Config,
    metrics: Arc<PoolMetrics>,
    max_age: Option<Duration>,
    pre_ping: Option<Duration>,
    /// `target_session_attrs=read-write`: the pre-ping also checks that the server still takes
    /// writes, so that after a failover a connection to a read-only server is not kept.
    writable: bool,
}

impl PgManager {
    pub(crate) fn new(
        pg_config: tokio_postgres::Config,
        connector: PgConnector,
        metrics: Arc<PoolMetrics>,
        max_age: Option<Duration>,
        pre_ping: Option<Duration>,
    ) -> Self {
        let config = ManagerConfig {
            // `Client::is_closed()` only; the liveness round trip is ours, per `pool_pre_ping`.
            recycling_method: RecyclingMethod::Fast,
        };
        let connector = Arc::new(connector);
        let writable = pg_config.get_target_session_attrs()
            == tokio_postgres::config::TargetSessionAttrs::ReadWrite;
        PgManager {
            inner: deadpool_postgres::Manager::from_connect(
                pg_config.clone(),
                Shared(Arc::clone(&connector)),
                config,
            ),
            connector,
            pg_config,
            metrics,
            max_age,
            pre_ping,
            writable,
        }
    }
}

impl managed::Manager for PgManager {
    type Type = ClientWrapper;
    type Error = Error;

    async fn create(&self) -> Result<ClientWrapper, Error> {
        let started = std::time::Instant::now();
        let (client, task) = self.connector.open(&self.pg_config).await?;
        self.metrics.created(started.elapsed());
        // Not attached to the manager's pool-wide `statement_caches` (deadpool-postgres keeps
        // that private); dbconfig never clears the caches pool-wide.
        Ok(ClientWrapper::new(client, task))
    }

    async fn recycle(&self, client: &mut ClientWrapper, metrics: &Metrics) -> RecycleResult<Error> {
        if self.max_age.is_some_and(|max| metrics.age() > max) {
            return Err(RecycleError::message("connection reached pool_recycle age"));
        }
        self.inner
            .recycle(client, metrics)
            .await
            .map_err(|e| match e {
                RecycleError::Message(m) => RecycleError::Message(m),
                RecycleError::Backend(e) => RecycleError::Backend(classify(e)),
            })?;
        // `last_used` is the time since the previous checkout (or the connect).
        if self
            .pre_ping
            .is_some_and(|idle| metrics.last_used() >= idle)
        {
            if self.writable {
                let rows = client
                    .simple_query("SHOW transaction_read_only")
                    .await
                    .map_err(|e| RecycleError::Backend(classify(e)))?;
                let read_only = rows.iter().any(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0) == Some("on"),
                    _ => false,
                });
                if read_only {
                    return Err(RecycleError::message(
                        "the server is read-only now (target_session_attrs=read-write)",
                    ));
                }
            } else {
                client
                    .simple_query("")
                    .await
                    .map_err(|e| RecycleError::Backend(classify(e)))?;
            }
        }
        Ok(())
    }

    fn detach(&self, client: &mut ClientWrapper) {
        self.inner.detach(client);
    }
}
