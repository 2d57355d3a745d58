//! The pool's connection type and its deadpool [`Manager`].
//!
//! Each pooled connection is a `rusqlite::Connection` behind an `Arc<Mutex<…>>`. Short statements
//! run on the caller's thread (no hop to another thread: that hop costs 10–20× a point read);
//! [`SqliteConnection::interact`] moves long work to tokio's blocking pool. Recycling is a pair
//! of cheap checks, never a query.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use deadpool::managed::{Manager, Metrics, RecycleError, RecycleResult};
use rusqlite::Connection;

use super::connect::{OnConnect, open_connection};
use super::target::OpenTarget;
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::tracker::{ConnectionId, ConnectionTracker, next_connection_id};
use crate::url::Dialect;

/// One SQLite connection owned by dbconfig (pooled, or an in-memory database's keeper).
pub struct SqliteConnection {
    conn: Arc<Mutex<Connection>>,
    id: ConnectionId,
    tracker: Option<Arc<ConnectionTracker>>,
    open_count: Option<Arc<AtomicUsize>>,
}

impl std::fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnection")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SqliteConnection {
    pub(crate) fn new(
        conn: Connection,
        tracker: Option<Arc<ConnectionTracker>>,
        database: &str,
        role: &'static str,
    ) -> Self {
        let id = next_connection_id();
        if let Some(tracker) = &tracker {
            tracker.on_connect(id, Dialect::Sqlite, database.to_owned(), role);
        }
        SqliteConnection {
            conn: Arc::new(Mutex::new(conn)),
            id,
            tracker,
            open_count: None,
        }
    }

    /// This connection's process-unique id (as the [`ConnectionTracker`] shows it).
    #[must_use]
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// Runs `f` on this connection, on the calling thread. For short statements: no thread hop.
    ///
    /// # Errors
    /// Whatever `f` returns, as [`Error::Sqlite`].
    pub fn run<R>(&mut self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Result<R> {
        match Arc::get_mut(&mut self.conn) {
            Some(mutex) => {
                f(mutex.get_mut().unwrap_or_else(PoisonError::into_inner)).map_err(Error::Sqlite)
            }
            // A cancelled `interact` may still be running: wait for it.
            None => {
                f(&self.conn.lock().unwrap_or_else(PoisonError::into_inner)).map_err(Error::Sqlite)
            }
        }
    }

    /// Runs `f` on this connection on tokio's blocking pool: for long queries that should not
    /// hold up the async worker thread.
    ///
    /// # Errors
    /// Whatever `f` returns, or [`Error::Blocking`] if it panicked.
    pub async fn interact<R, F>(&mut self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            f(&mut conn.lock().unwrap_or_else(PoisonError::into_inner))
        })
        .await
        .map_err(|e| Error::Blocking(e.to_string()))?
        .map_err(Error::Sqlite)
    }

    /// True when a cancelled [`interact`](Self::interact) still holds the connection.
    pub(crate) fn is_shared(&self) -> bool {
        Arc::strong_count(&self.conn) > 1
    }

    /// The shared handle, for clean-up that must wait for a running blocking task.
    pub(crate) fn handle(&self) -> Arc<Mutex<Connection>> {
        Arc::clone(&self.conn)
    }
}

impl Drop for SqliteConnection {
    fn drop(&mut self) {
        if let Some(count) = &self.open_count {
            count.fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(tracker) = &self.tracker {
            tracker.on_close(self.id);
        }
    }
}

/// Creates and recycles [`SqliteConnection`]s for one engine.
pub(crate) struct SqliteManager {
    pub(crate) target: Arc<OpenTarget>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) on_connect: Option<OnConnect>,
    pub(crate) tracker: Option<Arc<ConnectionTracker>>,
    /// The redacted URL, for the tracker.
    pub(crate) database: String,
    /// Connections created by this manager and not yet closed.
    pub(crate) open_count: Arc<AtomicUsize>,
}

impl Manager for SqliteManager {
    type Type = SqliteConnection;
    type Error = Error;

    async fn create(&self) -> Result<SqliteConnection> {
        let target = Arc::clone(&self.target);
        let settings = Arc::clone(&self.settings);
        let hook = self.on_connect.clone();
        // Opening can wait on a lock (setting WAL), so it runs off the async worker.
        let conn =
            tokio::task::spawn_blocking(move || open_connection(&target, &settings, hook.as_ref()))
                .await
                .map_err(|e| Error::Blocking(e.to_string()))??;
        let mut conn = SqliteConnection::new(conn, self.tracker.clone(), &self.database, "pool");
        self.open_count.fetch_add(1, Ordering::Relaxed);
        conn.open_count = Some(Arc::clone(&self.open_count));
        Ok(conn)
    }

    async fn recycle(
        &self,
        conn: &mut SqliteConnection,
        metrics: &Metrics,
    ) -> RecycleResult<Error> {
        if self
            .settings
            .pool_recycle
            .is_some_and(|max| metrics.age() > max)
        {
            return Err(RecycleError::message("connection reached pool_recycle age"));
        }
        let Some(mutex) = Arc::get_mut(&mut conn.conn) else {
            return Err(RecycleError::message(
                "connection still used by a cancelled blocking task",
            ));
        };
        let c = mutex.get_mut().unwrap_or_else(PoisonError::into_inner);
        if !c.is_autocommit() {
            // Returned inside an open transaction: never hand it out as it is.
            c.execute_batch("ROLLBACK")
                .map_err(|e| RecycleError::Backend(Error::Sqlite(e)))?;
        }
        Ok(())
    }
}
