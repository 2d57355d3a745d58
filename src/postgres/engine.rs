//! [`PostgresEngine`]: the pool of one PostgreSQL database.

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::Object;
use tokio_postgres::NoTls;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::connect::ConnectPlan;
use super::hooks::Hooks;
use super::pool::{PgConnector, PgManager};
use crate::engine::{PoolCore, RegisteredEngine, pooled_engine_methods};
use crate::error::Result;
use crate::settings::Settings;
use crate::telemetry::PoolMetrics;
use crate::tracker::ConnectionTracker;
use crate::url::Dialect;

/// A pooled PostgreSQL database. Cheap to clone; all clones share one pool.
///
/// Get one from [`engine()`](crate::DatabaseConfig::engine) (cached per runtime and
/// settings) or [`PostgresConfig::build_engine`](super::PostgresConfig::build_engine) (uncached).
#[derive(Clone)]
pub struct PostgresEngine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) core: PoolCore<PgManager>,
    pub(crate) limits: Limits,
    /// The database name, for the transaction span's `db.namespace`.
    pub(crate) namespace: String,
    /// Read replicas (`postgres.replica_urls`), each an engine of its own.
    pub(crate) replicas: Vec<Replica>,
    /// The next replica to try (round robin).
    next_replica: std::sync::atomic::AtomicUsize,
    /// The TLS connector of the engine's connections, for cancel requests (which open a
    /// connection of their own).
    cancel_tls: Option<MakeRustlsConnect>,
}

/// What stands in for `timeout` when it is `None` in [`Limits::answer`]: a silent network
/// never delivers the server's answer, so some limit is needed.
const NO_STATEMENT_TIMEOUT: Duration = Duration::from_secs(300);

/// The time limits every await of ours runs under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Opening one connection (TCP, TLS, authentication, PgBouncer-mode settings); also how
    /// long a connection left busy has to show it is idle again, and a cancel request.
    pub(crate) connect: Duration,
    /// One round trip of ours (BEGIN, COMMIT, ROLLBACK, ping, each statement of `create_db`
    /// and `drop_db`, each query of `verify_db`): the statement timeout (300 s when `None`)
    /// plus the connect limit as a margin for the network. `statement_timeout` alone does not
    /// bound a round trip: a silent network never delivers the server's error.
    pub(crate) answer: Duration,
    /// Prepared statements kept per connection: the smaller of `statement_cache_size` and
    /// `prepared_statement_cache_size`, else 100 (asyncpg's default); 0 = none.
    pub(crate) statement_cache: usize,
}

impl Limits {
    fn new(settings: &Settings) -> Self {
        let connect = settings
            .connection_timeout
            .unwrap_or_else(|| settings.pool_timeout.max(Duration::from_secs(30)));
        // `Some(0)` turns PostgreSQL's statement_timeout off, as `None` leaves it unset: either
        // way our own round trips keep a bound of their own.
        let statement = settings
            .postgres
            .statement_timeout
            .filter(|d| !d.is_zero())
            .unwrap_or(NO_STATEMENT_TIMEOUT);
        Limits {
            connect,
            // Saturating: `validate()` keeps both far below overflow, but a panic here would
            // take the caller down.
            answer: statement.saturating_add(connect),
            statement_cache: match (
                settings.statement_cache_size,
                settings.postgres.prepared_statement_cache_size,
            ) {
                (Some(a), Some(b)) => a.min(b),
                (Some(n), None) | (None, Some(n)) => n,
                (None, None) => 100,
            } as usize,
        }
    }
}

impl std::fmt::Debug for PostgresEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.core.fmt_engine(f, "PostgresEngine")
    }
}

/// How long a replica that could not be reached is skipped: reads go to the primary meanwhile,
/// then one read tries the replica again.
pub(crate) const REPLICA_RETRY: Duration = Duration::from_secs(10);

/// One read replica: its engine (same settings and hooks as the primary's, its own pool) and
/// until when it is skipped.
pub(crate) struct Replica {
    pub(crate) engine: PostgresEngine,
    skip_until: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Replica {
    fn build_all(
        settings: &Settings,
        hooks: &Hooks,
        tracker: Option<&Arc<ConnectionTracker>>,
    ) -> Result<Vec<Replica>> {
        settings
            .postgres
            .replica_urls
            .iter()
            .filter_map(|url| url.as_postgres())
            .map(|url| {
                let mut own = settings.clone();
                own.postgres.replica_urls.clear();
                own.connection_url = Some(url.clone().into());
                let plan = ConnectPlan::new(url, &own)?;
                let engine = PostgresEngine::build(
                    Arc::new(own),
                    plan,
                    hooks.clone(),
                    tracker.cloned(),
                    url.redacted(),
                )?;
                Ok(Replica {
                    engine,
                    skip_until: std::sync::Mutex::new(None),
                })
            })
            .collect()
    }

    fn usable(&self, now: std::time::Instant) -> bool {
        self.skip_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_none_or(|until| now >= until)
    }
}

impl PostgresEngine {
    /// The next replica to send a read-only transaction to, in turn, skipping those that
    /// failed within [`REPLICA_RETRY`].
    pub(crate) fn pick_replica(&self) -> Option<usize> {
        let replicas = &self.inner.replicas;
        if replicas.is_empty() {
            return None;
        }
        let start = self
            .inner
            .next_replica
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = std::time::Instant::now();
        (0..replicas.len())
            .map(|k| (start + k) % replicas.len())
            .find(|&i| replicas[i].usable(now))
    }

    /// Skips replica `i` for [`REPLICA_RETRY`] after `error`.
    pub(crate) fn replica_failed(&self, i: usize, error: &crate::Error) {
        let Some(replica) = self.inner.replicas.get(i) else {
            return;
        };
        *replica
            .skip_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(std::time::Instant::now() + REPLICA_RETRY);
        tracing::warn!(
            target: "dbconfig",
            replica = %replica.engine.inner.core.database,
            error = %error,
            retry_in_s = REPLICA_RETRY.as_secs(),
            "read replica unreachable: reads go to the primary"
        );
    }

    pub(crate) fn build(
        settings: Arc<Settings>,
        plan: ConnectPlan,
        hooks: Hooks,
        tracker: Option<Arc<ConnectionTracker>>,
        database: String,
    ) -> Result<Self> {
        let limits = Limits::new(&settings);
        let replicas = Replica::build_all(&settings, &hooks, tracker.as_ref())?;
        let settings_namespace = plan.pg_config.get_dbname().unwrap_or_default().to_owned();
        let tls = plan.tls.as_ref().map(|t| t.connector()).transpose()?;
        let connector = PgConnector {
            tls: tls.clone(),
            after_connect: plan.after_connect,
            hooks,
            tracker,
            database: database.clone(),
            server_role: plan.server_role,
        };
        let metrics = Arc::new(PoolMetrics::new(
            Dialect::Postgres,
            &database,
            settings.max_connections(),
        ));
        let manager = PgManager::new(
            plan.pg_config,
            connector,
            Arc::clone(&metrics),
            settings.pool_recycle,
            settings.postgres.pool_pre_ping,
        );
        let connect = Some(limits.connect);
        Ok(PostgresEngine {
            inner: Arc::new(EngineInner {
                core: PoolCore::new(manager, settings, database, metrics, connect, connect)?,
                limits,
                namespace: settings_namespace,
                replicas,
                next_replica: std::sync::atomic::AtomicUsize::new(0),
                cancel_tls: tls.map(|t| t.connect),
            }),
        })
    }

    pooled_engine_methods!();

    /// Takes a connection from the pool: waits at most `pool_timeout` for a free slot, then
    /// verifies an idle connection (a round trip, bounded by `connection_timeout`) or opens a
    /// new one (bounded by `connection_timeout`).
    pub(crate) async fn checkout(&self) -> Result<Object<PgManager>> {
        let connect_limit = self.inner.limits.connect;
        self.inner.core.checkout(connect_limit, |e| e).await
    }

    /// The longest dbconfig waits for the server to answer one round trip of its own (BEGIN,
    /// COMMIT, ROLLBACK, [`ping`](super::PostgresSession::ping), each statement of
    /// [`create_db`](Self::create_db) and [`drop_db`](Self::drop_db), each query of
    /// [`verify_db`](Self::verify_db)): `timeout + connection_timeout`, with 300 s standing in
    /// for a `timeout` of `None` and `max(pool_timeout, 30 s)` for a `connection_timeout` of
    /// `None`. The server's `statement_timeout` cannot bound a round trip on its own: a network
    /// that goes silent never delivers its answer. A round trip that times out fails with
    /// [`Error::Timeout`](crate::Error::Timeout) and its connection is closed, never reused.
    ///
    /// Statements you run on the client yourself are not bounded by dbconfig; this is the
    /// limit to wrap them in (`tokio::time::timeout`) to get the same behaviour.
    #[must_use]
    pub fn round_trip_limit(&self) -> Duration {
        self.inner.limits.answer
    }

    /// Gives a connection back according to its `health`:
    /// - idle: kept for reuse, or closed when the pool holds more than `pool_size`
    ///   connections (overflow) or pooling is off (`pool_size = 0`);
    /// - broken (a round trip of ours timed out, so its state is unknown): closed, and a cancel
    ///   request is sent for whatever the server may still be running on it;
    /// - busy (a request may still be running: a transaction or a round trip of ours was
    ///   abandoned before its answers were read): kept out of the pool until it answers an
    ///   empty query, within `connection_timeout`; then given back as an idle one, or else
    ///   closed and cancelled as a broken one. No session ever waits behind an abandoned
    ///   statement; the connection holds its pool slot meanwhile.
    pub(crate) fn release(&self, conn: Object<PgManager>, health: Health) {
        match health {
            Health::Idle => self.give_back(conn),
            Health::Broken => self.close_and_cancel(conn),
            Health::Busy => match tokio::runtime::Handle::try_current() {
                Ok(runtime) => drop(runtime.spawn(self.clone().settle(conn))),
                // No runtime to wait on: the connection's own task is gone with it.
                Err(_) => drop(Object::take(conn)),
            },
        }
        self.inner.core.returned();
    }

    fn give_back(&self, conn: Object<PgManager>) {
        if !self.inner.core.keeps(self.inner.core.pool.status().size) {
            drop(Object::take(conn));
        }
    }

    /// Waits (at most `connection_timeout`) for a busy connection to answer an empty query,
    /// which it does once everything sent before has been answered.
    async fn settle(self, conn: Object<PgManager>) {
        let idle = tokio::time::timeout(self.inner.limits.connect, conn.simple_query("")).await;
        match idle {
            Ok(Ok(_)) => self.give_back(conn),
            // Closed: the server has nothing left running for it.
            Ok(Err(_)) => drop(Object::take(conn)),
            Err(_) => self.close_and_cancel(conn),
        }
    }

    /// Closes `conn` and asks the server (on a connection of its own, within
    /// `connection_timeout`) to cancel what it may still be running for it: closing the socket
    /// alone does not stop a running statement. A cancelled connection is never reused: the
    /// request may reach the server late, when the connection has moved on to its next
    /// statement.
    fn close_and_cancel(&self, conn: Object<PgManager>) {
        let token = conn.cancel_token();
        drop(Object::take(conn));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let limit = self.inner.limits.connect;
        let tls = self.inner.cancel_tls.clone();
        drop(runtime.spawn(async move {
            let sent = match tls {
                None => tokio::time::timeout(limit, token.cancel_query(NoTls)).await,
                Some(tls) => tokio::time::timeout(limit, token.cancel_query(tls)).await,
            };
            if !matches!(sent, Ok(Ok(()))) {
                tracing::debug!(target: "dbconfig", "postgres cancel request not sent: {sent:?}");
            }
        }));
    }

    /// Closes every connection (idle ones now, busy ones when they are returned) and removes
    /// the engine from the registry. Idempotent.
    pub fn dispose(&self) {
        crate::engine::forget(self.inner.core.id);
        self.dispose_now();
    }
}

impl RegisteredEngine for PostgresEngine {
    fn dispose_now(&self) {
        self.inner.core.close();
        for replica in &self.inner.replicas {
            replica.engine.dispose_now();
        }
    }

    fn engine_id(&self) -> u64 {
        self.inner.core.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_saturate_and_zero_statement_timeout_keeps_a_bound() {
        let with = |timeout, connection_timeout| {
            let mut settings = Settings {
                connection_timeout,
                ..Settings::default()
            };
            settings.postgres.statement_timeout = timeout;
            Limits::new(&settings)
        };
        let huge = Some(Duration::MAX);
        assert_eq!(with(huge, huge).answer, Duration::MAX);
        let secs = |n| Some(Duration::from_secs(n));
        assert_eq!(with(secs(10), secs(5)).answer, Duration::from_secs(15));
        // PostgreSQL reads statement_timeout = 0 as "no limit", not "answer at once".
        assert_eq!(with(secs(0), secs(5)).answer, Duration::from_secs(305));
        assert_eq!(with(None, secs(5)).answer, Duration::from_secs(305));
        // No connection_timeout: connects are bounded by pool_timeout, at least 30 s.
        assert_eq!(with(secs(1), None).connect, Duration::from_secs(30));
    }
}

/// Whether a connection may still have a request running on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    /// Every request sent on it has been answered (as far as dbconfig can tell: statements
    /// run on the client outside a transaction are not tracked).
    Idle,
    /// A request may still be running: a transaction was dropped before it finished, or a
    /// round trip of ours was abandoned (its future dropped) before its answer arrived.
    Busy,
    /// A round trip of ours timed out: the connection's state is unknown.
    Broken,
}

impl Health {
    /// A request of ours is about to be sent.
    pub(super) fn sending(&mut self) {
        if *self == Health::Idle {
            *self = Health::Busy;
        }
    }

    /// Its answer arrived.
    pub(super) fn answered(&mut self) {
        if *self == Health::Busy {
            *self = Health::Idle;
        }
    }
}
