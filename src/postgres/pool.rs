//! The deadpool manager: deadpool-postgres's manager (verified recycling, statement cache)
//! with our connect (the `before_connect` credentials hook, TLS, PgBouncer-mode settings, the
//! `on_connect` hook, tracker) and a maximum connection age.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::{ClientWrapper, ManagerConfig, RecyclingMethod};
use futures_util::{Stream, StreamExt};
use tokio::task::JoinHandle;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{AsyncMessage, Client, NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::classify;
use super::connect::{HostConfig, ServerRole};
use super::hooks::{ClientCertificate, Credentials, Hooks};
use super::tls::PgTls;
use crate::error::Error;
use crate::telemetry::PoolMetrics;
use crate::tracker::{ConnectionId, ConnectionTracker, next_connection_id};
use crate::url::Dialect;

/// Opens connections for one engine.
pub(crate) struct PgConnector {
    pub(crate) tls: Option<PgTls>,
    pub(crate) after_connect: Option<String>,
    pub(crate) hooks: Hooks,
    pub(crate) tracker: Option<Arc<ConnectionTracker>>,
    /// The redacted URL, for the tracker.
    pub(crate) database: String,
    /// `primary` / `standby` / `prefer-standby`: the hosts, tried one by one.
    pub(crate) server_role: Option<(ServerRole, Vec<HostConfig>)>,
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
        Box::pin(async move {
            let tls = self.0.tls.as_ref().map(|t| &t.connect);
            let (client, messages, closed) = self.0.connect(&pg_config, tls, POOL).await?;
            let driver = spawn_driver(messages, closed);
            if let Some(sql) = &self.0.after_connect {
                client.simple_query(sql).await?;
            }
            Ok((client, driver))
        })
    }
}

/// A connection's messages (notifications, notices), for whoever drives it.
pub(crate) type Messages =
    Pin<Box<dyn Stream<Item = Result<AsyncMessage, tokio_postgres::Error>> + Send>>;

/// Tracker labels.
const POOL: &str = "pool";
const LISTEN: &str = "listen";

/// A new connection: its client, its message stream (which drives the socket) and the guard
/// that reports the close to the tracker.
type Connected = (Client, Messages, ClosedGuard);

/// Drives a pooled connection's socket in a task of its own. The task ends when the client
/// is dropped (or the server goes away), and is aborted when the pool drops the connection;
/// either way the guard reports the close. Notices are logged.
fn spawn_driver(mut messages: Messages, closed: ClosedGuard) -> JoinHandle<()> {
    tokio::spawn(async move {
        let id = closed.id;
        let _closed = closed;
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notice(notice)) => {
                    tracing::info!(target: "dbconfig", connection = id, severity = notice.severity(), "{}", notice.message());
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(target: "dbconfig", connection = id, error = %e, "postgres connection ended");
                    return;
                }
            }
        }
    })
}

/// `pg_is_in_recovery()` of a new connection. Its messages are read (and dropped: nothing is
/// LISTENed to yet) until the answer comes; the caller's timeout bounds a connection that
/// closes without an error.
async fn in_recovery(
    client: &Client,
    messages: &mut Messages,
) -> Result<bool, tokio_postgres::Error> {
    let query = client.query_one("SELECT pg_is_in_recovery()", &[]);
    let mut query = std::pin::pin!(query);
    std::future::poll_fn(|cx| {
        loop {
            if let Poll::Ready(answer) = query.as_mut().poll(cx) {
                return Poll::Ready(answer.map(|row| row.get(0)));
            }
            match messages.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await
}

impl PgConnector {
    /// Opens one pooled connection: the credentials hook, the connect (TLS, the server role),
    /// then [`setup`](Self::setup). The caller bounds it (deadpool's create timeout).
    pub(crate) async fn open(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> crate::Result<(Client, JoinHandle<()>)> {
        // Boxed: the TLS connect's future is deep, and deadpool nests this one further.
        let (client, messages, closed) = Box::pin(self.establish(pg_config, POOL)).await?;
        let driver = spawn_driver(messages, closed);
        // On error the client is dropped, which ends the connection task.
        self.setup(&client).await?;
        Ok((client, driver))
    }

    /// Opens a connection whose messages the caller reads (a listener): credentials, connect
    /// (TLS, the server role), tracked as `listen`. Run [`setup`](Self::setup) on the client
    /// while the messages are being read.
    pub(crate) async fn open_listener(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> crate::Result<Connected> {
        Box::pin(self.establish(pg_config, LISTEN)).await
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

    /// Credentials, then a connection to `pg_config`, or with a server role, to the first of
    /// its hosts that is the kind of server asked for.
    async fn establish(
        &self,
        pg_config: &tokio_postgres::Config,
        role_label: &'static str,
    ) -> crate::Result<Connected> {
        let credentials = match &self.hooks.before_connect {
            Some(hook) => Some(hook().await.map_err(Error::Hook)?),
            None => None,
        };
        let certificate = credentials
            .as_ref()
            .and_then(|c| c.client_certificate.as_ref());
        let tls = self.tls_for(certificate)?;
        let Some((role, hosts)) = &self.server_role else {
            let config = with_credentials(pg_config, credentials.as_ref());
            return self
                .connect(&config, tls.as_ref(), role_label)
                .await
                .map_err(classify);
        };
        let mut tried = Vec::with_capacity(hosts.len());
        let mut fallback = None;
        for host in hosts {
            let config = with_credentials(&host.config, credentials.as_ref());
            let (client, mut messages, closed) =
                match self.connect(&config, tls.as_ref(), role_label).await {
                    Ok(connected) => connected,
                    Err(e) => {
                        tried.push(format!("{}: {}", host.label, classify(e)));
                        continue;
                    }
                };
            let standby = match in_recovery(&client, &mut messages).await {
                Ok(standby) => standby,
                Err(e) => {
                    tried.push(format!("{}: {}", host.label, classify(e)));
                    continue;
                }
            };
            match (role, standby) {
                (ServerRole::Primary, false)
                | (ServerRole::Standby | ServerRole::PreferStandby, true) => {
                    return Ok((client, messages, closed));
                }
                // The first primary is kept open in case no host is a standby.
                (ServerRole::PreferStandby, false) if fallback.is_none() => {
                    fallback = Some((client, messages, closed));
                }
                _ => {}
            }
            let kind = if standby { "a standby" } else { "a primary" };
            tried.push(format!("{}: {kind}", host.label));
        }
        fallback.ok_or_else(|| Error::NoMatchingServer {
            wanted: role.as_str(),
            tried: tried.join("; "),
        })
    }

    /// The TLS connector for a new connection: the configured one, or one presenting the
    /// `before_connect` hook's client certificate.
    fn tls_for(
        &self,
        certificate: Option<&ClientCertificate>,
    ) -> crate::Result<Option<MakeRustlsConnect>> {
        match (&self.tls, certificate) {
            (None, None) => Ok(None),
            (Some(tls), None) => Ok(Some(tls.connect.clone())),
            (Some(tls), Some(c)) => tls
                .with_client_certificate(&c.chain_pem, &c.key_pem)
                .map(Some),
            (None, Some(_)) => Err(Error::Hook(
                "before_connect returned a client certificate, but TLS is off (set sslmode or \
                 tls.enabled)"
                    .into(),
            )),
        }
    }

    /// Connects to `pg_config` (over `tls` when given) and tracks the connection under
    /// `role_label`.
    async fn connect(
        &self,
        pg_config: &tokio_postgres::Config,
        tls: Option<&MakeRustlsConnect>,
        role_label: &'static str,
    ) -> Result<Connected, tokio_postgres::Error> {
        match tls {
            None => self.start(pg_config, NoTls, role_label).await,
            Some(tls) => self.start(pg_config, tls.clone(), role_label).await,
        }
    }

    async fn start<T>(
        &self,
        pg_config: &tokio_postgres::Config,
        tls: T,
        role_label: &'static str,
    ) -> Result<Connected, tokio_postgres::Error>
    where
        T: MakeTlsConnect<Socket> + Send,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let (client, mut connection) = pg_config.connect(tls).await?;
        let id = next_connection_id();
        if let Some(tracker) = &self.tracker {
            tracker.on_connect(id, Dialect::Postgres, self.database.clone(), role_label);
        }
        let closed = ClosedGuard {
            id,
            tracker: self.tracker.clone(),
        };
        let messages: Messages = Box::pin(futures_util::stream::poll_fn(move |cx| {
            connection.poll_message(cx)
        }));
        Ok((client, messages, closed))
    }
}

/// `pg_config` with the user and password of the `before_connect` hook, if any.
fn with_credentials<'c>(
    pg_config: &'c tokio_postgres::Config,
    credentials: Option<&Credentials>,
) -> Cow<'c, tokio_postgres::Config> {
    let Some(Credentials { user, password, .. }) = credentials else {
        return Cow::Borrowed(pg_config);
    };
    let mut config = pg_config.clone();
    if let Some(user) = user {
        config.user(user);
    }
    if let Some(password) = password {
        config.password(password.as_str());
    }
    Cow::Owned(config)
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
    /// What the pre-ping checks besides liveness, so that after a failover a connection to a
    /// server of the wrong kind is not kept.
    ping: Ping,
}

/// The pre-ping's question, from `target_session_attrs`.
#[derive(Clone, Copy)]
enum Ping {
    /// Alive (any server will do).
    Alive,
    /// Still takes writes (`read-write`).
    Writable,
    /// Still a primary (`false`) or still a standby (`true`).
    InRecovery(bool),
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
        let ping = match connector.server_role.as_ref().map(|(role, _)| *role) {
            Some(ServerRole::Primary) => Ping::InRecovery(false),
            Some(ServerRole::Standby) => Ping::InRecovery(true),
            // A primary is acceptable: it is kept until a standby takes its place by recycling.
            Some(ServerRole::PreferStandby) => Ping::Alive,
            None if pg_config.get_target_session_attrs()
                == tokio_postgres::config::TargetSessionAttrs::ReadWrite =>
            {
                Ping::Writable
            }
            None => Ping::Alive,
        };
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
            ping,
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
            let (sql, wrong, reason) = match self.ping {
                Ping::Alive => ("", "", ""),
                Ping::Writable => (
                    "SHOW transaction_read_only",
                    "on",
                    "the server is read-only now (target_session_attrs=read-write)",
                ),
                Ping::InRecovery(false) => (
                    "SELECT pg_is_in_recovery()",
                    "t",
                    "the server is a standby now (target_session_attrs=primary)",
                ),
                Ping::InRecovery(true) => (
                    "SELECT pg_is_in_recovery()",
                    "f",
                    "the server is a primary now (target_session_attrs=standby)",
                ),
            };
            let rows = client
                .simple_query(sql)
                .await
                .map_err(|e| RecycleError::Backend(classify(e)))?;
            let is_wrong = rows.iter().any(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0) == Some(wrong),
                _ => false,
            });
            if is_wrong {
                return Err(RecycleError::message(reason));
            }
        }
        Ok(())
    }

    fn detach(&self, client: &mut ClientWrapper) {
        self.inner.detach(client);
    }
}
