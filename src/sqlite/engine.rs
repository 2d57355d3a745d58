//! [`SqliteEngine`]: the pool, the writer lane and (for in-memory databases) the keeper
//! connection of one database.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use deadpool::Runtime;
use deadpool::managed::{Object, Pool, QueueMode};

use super::connect::{OnConnect, check_sqlite_version, open_connection};
use super::lane::{Lane, lane_for};
use super::pool::{SqliteConnection, SqliteManager};
use super::target::OpenTarget;
use crate::engine::{PoolStatus, RegisteredEngine};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::tracker::ConnectionTracker;

/// A pooled SQLite database. Cheap to clone; all clones share one pool.
///
/// Get one from [`engine()`](crate::DatabaseConfig::engine) (cached per runtime and
/// settings) or [`SqliteConfig::build_engine`](super::SqliteConfig::build_engine) (uncached).
#[derive(Clone)]
pub struct SqliteEngine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    id: u64,
    pub(crate) pool: Pool<SqliteManager>,
    pub(crate) lane: Lane,
    pub(crate) settings: Arc<Settings>,
    pub(crate) target: Arc<OpenTarget>,
    keeper: Mutex<Option<SqliteConnection>>,
    open_count: Arc<AtomicUsize>,
    disposed: AtomicBool,
    database: String,
}

impl std::fmt::Debug for SqliteEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteEngine")
            .field("id", &self.inner.id)
            .field("database", &self.inner.database)
            .field("status", &self.status())
            .finish()
    }
}

impl SqliteEngine {
    pub(crate) fn build(
        settings: Arc<Settings>,
        target: OpenTarget,
        on_connect: Option<OnConnect>,
        tracker: Option<Arc<ConnectionTracker>>,
        database: String,
    ) -> Result<Self> {
        check_sqlite_version(rusqlite::version_number())?;
        let target = Arc::new(target);
        let open_count = Arc::new(AtomicUsize::new(0));
        // The keeper holds an in-memory database open for the engine's whole life; it sits
        // outside the pool, so nothing recycles or reaps it.
        let keeper = if target.in_memory {
            let conn = open_connection(&target, &settings, on_connect.as_ref())?;
            Some(SqliteConnection::new(
                conn,
                tracker.clone(),
                &database,
                "keeper",
            )?)
        } else {
            None
        };
        let manager = SqliteManager {
            target: Arc::clone(&target),
            settings: Arc::clone(&settings),
            on_connect,
            tracker,
            database: database.clone(),
            open_count: Arc::clone(&open_count),
        };
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections())
            .queue_mode(QueueMode::Lifo)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(settings.pool_timeout))
            .create_timeout(settings.connection_timeout)
            .build()
            // deadpool's only build error: timeouts without a runtime.
            .map_err(|_| Error::NoRuntime)?;
        Ok(SqliteEngine {
            inner: Arc::new(EngineInner {
                id: crate::engine::next_engine_id(),
                pool,
                lane: lane_for(&target.identity),
                settings,
                target,
                keeper: Mutex::new(keeper),
                open_count,
                disposed: AtomicBool::new(false),
                database,
            }),
        })
    }

    /// This engine's process-unique id.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Takes a connection from the pool, waiting at most `pool_timeout`.
    pub(crate) async fn checkout(&self) -> Result<Object<SqliteManager>> {
        let settings = &self.inner.settings;
        self.inner.pool.get().await.map_err(|e| {
            crate::engine::pool_error(
                e,
                settings.pool_timeout,
                settings.connection_timeout.unwrap_or_default(),
                |e| e,
            )
        })
    }

    /// Gives a connection back: kept for reuse, or closed when the pool holds more than
    /// `pool_size` connections (overflow), pooling is off (`pool_size = 0`), or the connection
    /// is not as the pool promises (abandoned by a cancelled task, or a changed PRAGMA).
    pub(crate) fn release(&self, conn: Object<SqliteManager>) {
        if !conn.reusable()
            || self.inner.open_count.load(Ordering::Relaxed)
                > self.inner.settings.pool_size as usize
        {
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

    /// True for an in-memory database.
    #[must_use]
    pub fn is_inmemory(&self) -> bool {
        self.inner.target.in_memory
    }

    /// The SQLite URI connections open (for in-memory databases, the `memdb` name).
    #[must_use]
    pub fn open_uri(&self) -> &str {
        &self.inner.target.uri
    }

    /// Closes every connection (idle ones now, busy ones when they are returned), drops an
    /// in-memory database, and removes the engine from the registry. Idempotent.
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

impl RegisteredEngine for SqliteEngine {
    fn dispose_now(&self) {
        if self.inner.disposed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.inner.pool.close();
        let keeper = self
            .inner
            .keeper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(keeper);
    }

    fn engine_id(&self) -> u64 {
        self.inner.id
    }
}
