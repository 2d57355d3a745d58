//! [`SqliteEngine`]: the pool, the writer lane and (for in-memory databases) the keeper
//! connection of one database.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use deadpool::managed::Object;

use super::cipher::{KeySource, Keying};
use super::connect::{OnConnect, check_sqlite_version, open_connection_until};
use super::lane::{Lane, lane_for};
use super::pool::{SqliteConnection, SqliteManager};
use super::target::OpenTarget;
use crate::engine::{PoolCore, RegisteredEngine, pooled_engine_methods};
use crate::error::Result;
use crate::settings::Settings;
use crate::telemetry::PoolMetrics;
use crate::tracker::ConnectionTracker;
use crate::url::Dialect;

/// A pooled SQLite database. Cheap to clone; all clones share one pool.
///
/// Get one from [`engine()`](crate::DatabaseConfig::engine) (cached per runtime and
/// settings) or [`SqliteConfig::build_engine`](super::SqliteConfig::build_engine) (uncached).
#[derive(Clone)]
pub struct SqliteEngine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) core: PoolCore<SqliteManager>,
    pub(crate) lane: Lane,
    pub(crate) target: Arc<OpenTarget>,
    /// The SQLCipher key source (none for a plain database).
    pub(crate) keying: Arc<Keying>,
    keeper: Mutex<Option<SqliteConnection>>,
    open_count: Arc<AtomicUsize>,
}

impl std::fmt::Debug for SqliteEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.core.fmt_engine(f, "SqliteEngine")
    }
}

impl SqliteEngine {
    pub(crate) fn build(
        settings: Arc<Settings>,
        target: OpenTarget,
        on_connect: Option<OnConnect>,
        key: Option<KeySource>,
        tracker: Option<Arc<ConnectionTracker>>,
        database: String,
    ) -> Result<Self> {
        check_sqlite_version(rusqlite::version_number())?;
        let target = Arc::new(target);
        let open_count = Arc::new(AtomicUsize::new(0));
        let keying = Arc::new(Keying::new(key));
        // With a key, the first connection opens now: a wrong key is an error of `engine()`,
        // not of the first query. It becomes the pool's first connection.
        let spare = match keying.current()? {
            Some(key) => Some(open_connection_until(
                &target,
                &settings,
                Some(&key),
                on_connect.as_ref(),
                None,
                |_| {},
            )?),
            None => None,
        };
        // The keeper holds an in-memory database open for the engine's whole life; it sits
        // outside the pool, so nothing recycles or reaps it.
        let keeper = if target.inmemory {
            let conn =
                open_connection_until(&target, &settings, None, on_connect.as_ref(), None, |_| {})?;
            Some(SqliteConnection::new(
                conn,
                tracker.clone(),
                &database,
                "keeper",
            )?)
        } else {
            None
        };
        let metrics = Arc::new(PoolMetrics::new(
            Dialect::Sqlite,
            &database,
            settings.max_connections(),
        ));
        let manager = SqliteManager {
            target: Arc::clone(&target),
            settings: Arc::clone(&settings),
            on_connect,
            tracker,
            database: database.clone(),
            open_count: Arc::clone(&open_count),
            keying: Arc::clone(&keying),
            spare: Mutex::new(spare),
            metrics: Arc::clone(&metrics),
        };
        let create = settings.connection_timeout;
        Ok(SqliteEngine {
            inner: Arc::new(EngineInner {
                core: PoolCore::new(manager, settings, database, metrics, create, None)?,
                lane: lane_for(&target.identity),
                target,
                keying,
                keeper: Mutex::new(keeper),
                open_count,
            }),
        })
    }

    pooled_engine_methods!();

    /// Takes a connection from the pool, waiting at most `pool_timeout`.
    pub(crate) async fn checkout(&self) -> Result<Object<SqliteManager>> {
        let connect_limit = self.inner.core.settings.connection_timeout;
        self.inner
            .core
            .checkout(connect_limit.unwrap_or_default(), |e| e)
            .await
    }

    /// Gives a connection back: kept for reuse, or closed when the pool holds more than
    /// `pool_size` connections (overflow), pooling is off (`pool_size = 0`), or the connection
    /// is not as the pool promises (abandoned by a cancelled task, or a changed PRAGMA).
    pub(crate) fn release(&self, conn: Object<SqliteManager>) {
        if !conn.reusable()
            || !(self.inner.core).keeps(self.inner.open_count.load(Ordering::Relaxed))
        {
            drop(Object::take(conn));
        } else {
            drop(conn);
        }
        self.inner.core.returned();
    }

    /// True for an in-memory database.
    #[must_use]
    pub fn is_inmemory(&self) -> bool {
        self.inner.target.inmemory
    }

    /// The SQLite URI connections open (for in-memory databases, the `memdb` name).
    #[must_use]
    pub fn open_uri(&self) -> &str {
        &self.inner.target.uri
    }

    /// Closes every connection (idle ones now, busy ones when they are returned), drops an
    /// in-memory database, and removes the engine from the registry. Idempotent.
    pub fn dispose(&self) {
        crate::engine::forget(self.inner.core.id);
        self.dispose_now();
    }
}

impl RegisteredEngine for SqliteEngine {
    fn dispose_now(&self) {
        if !self.inner.core.close() {
            return;
        }
        let keeper = self
            .inner
            .keeper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(keeper);
    }

    fn engine_id(&self) -> u64 {
        self.inner.core.id
    }
}
