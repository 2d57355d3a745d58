//! [`PostgresEngine`]: the pool of one PostgreSQL database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{Object, Pool, QueueMode};

use super::classify;
use super::connect::ConnectPlan;
use super::pool::{PgConnector, PgManager};
use super::session::PostgresSession;
use crate::engine::{PoolStatus, RegisteredEngine};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::tracker::ConnectionTracker;

/// A pooled PostgreSQL database. Cheap to clone; all clones share one pool.
///
/// Get one from [`engine()`](crate::DatabaseConfig::engine) (cached per runtime and
/// settings) or [`PostgresConfig::build_engine`](super::PostgresConfig::build_engine) (uncached).
#[derive(Clone)]
pub struct PostgresEngine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    id: u64,
    pool: Pool<PgManager>,
    settings: Arc<Settings>,
    database: String,
    disposed: AtomicBool,
    pub(crate) limits: Limits,
}

/// The time limits every await of ours runs under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Opening one connection (TCP, TLS, authentication, PgBouncer-mode settings).
    pub(crate) connect: Duration,
    /// One round trip of ours (BEGIN, COMMIT, ROLLBACK, ping): the statement timeout plus the
    /// connect limit as a margin for the network.
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
            .timeout
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(300));
        Limits {
            connect,
            // Saturating: `validate()` keeps both far below overflow, but a panic here would
            // take the caller down.
            answer: statement.saturating_add(connect),
            statement_cache: match (
                settings.statement_cache_size,
                settings.prepared_statement_cache_size,
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
        f.debug_struct("PostgresEngine")
            .field("id", &self.inner.id)
            .field("database", &self.inner.database)
            .field("status", &self.status())
            .finish()
    }
}

impl PostgresEngine {
    pub(crate) fn build(
        settings: Arc<Settings>,
        plan: ConnectPlan,
        tracker: Option<Arc<ConnectionTracker>>,
        database: String,
    ) -> Result<Self> {
        let limits = Limits::new(&settings);
        let tls = plan.tls.as_ref().map(|t| t.connector()).transpose()?;
        let connector = PgConnector {
            tls,
            after_connect: plan.after_connect,
            tracker,
            database: database.clone(),
        };
        let manager = PgManager::new(
            plan.pg_config,
            connector,
            settings.pool_recycle,
            settings.pool_pre_ping,
        );
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections())
            .queue_mode(QueueMode::Lifo)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(settings.pool_timeout))
            .create_timeout(Some(limits.connect))
            .recycle_timeout(Some(limits.connect))
            .build()
            // deadpool's only build error: timeouts without a runtime.
            .map_err(|_| Error::NoRuntime)?;
        Ok(PostgresEngine {
            inner: Arc::new(EngineInner {
                id: crate::engine::next_engine_id(),
                pool,
                settings,
                database,
                disposed: AtomicBool::new(false),
                limits,
            }),
        })
    }

    /// This engine's process-unique id.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// A new session (it takes a pooled connection on first use).
    #[must_use]
    pub fn session(&self) -> PostgresSession {
        PostgresSession::new(self.clone())
    }

    /// Takes a connection from the pool: waits at most `pool_timeout` for a free slot, then
    /// verifies an idle connection (a round trip, bounded by `connection_timeout`) or opens a
    /// new one (bounded by `connection_timeout`).
    pub(crate) async fn checkout(&self) -> Result<Object<PgManager>> {
        let settings = &self.inner.settings;
        let limits = &self.inner.limits;
        self.inner.pool.get().await.map_err(|e| {
            crate::engine::pool_error(e, settings.pool_timeout, limits.connect, classify)
        })
    }

    /// Gives a connection back: kept for reuse, or closed when it is `broken` (a round trip of
    /// ours timed out, so its state is unknown), when the pool holds more than `pool_size`
    /// connections (overflow), or when pooling is off (`pool_size = 0`).
    pub(crate) fn release(&self, conn: Object<PgManager>, broken: bool) {
        let size = self.inner.pool.status().size;
        if broken || size > self.inner.settings.pool_size as usize {
            drop(Object::take(conn));
        }
    }

    /// Pool status.
    #[must_use]
    pub fn status(&self) -> PoolStatus {
        let s = self.inner.pool.status();
        PoolStatus {
            max_size: s.max_size,
            size: s.size,
            idle: s.available,
            waiting: s.waiting,
        }
    }

    /// The settings this engine was built from.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Closes every connection (idle ones now, busy ones when they are returned) and removes
    /// the engine from the registry. Idempotent.
    pub fn dispose(&self) {
        crate::engine::forget(self.inner.id);
        self.dispose_now();
    }

    /// True once disposed.
    #[must_use]
    pub fn is_disposed(&self) -> bool {
        self.inner.disposed.load(Ordering::SeqCst)
    }
}

impl RegisteredEngine for PostgresEngine {
    fn dispose_now(&self) {
        if self.inner.disposed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.inner.pool.close();
    }

    fn engine_id(&self) -> u64 {
        self.inner.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_saturate_and_zero_statement_timeout_keeps_a_bound() {
        let with = |timeout, connection_timeout| {
            Limits::new(&Settings {
                timeout,
                connection_timeout,
                ..Settings::default()
            })
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
