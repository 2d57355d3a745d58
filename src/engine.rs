//! The engine registry: one engine per (tokio runtime, [`UniqueKey`]), disposed when its runtime
//! shuts down.
//!
//! `engine()` looks the key up under a mutex and builds the engine on a miss without any await
//! in between, so two tasks never build two engines for one key (the original could, with
//! plugins). On a miss, a guard task is spawned on the current runtime; the runtime drops it at
//! shutdown and the guard disposes the engine, closing its connections.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{Manager, Object, Pool, QueueMode};

use tokio::runtime::{Handle, Id as RuntimeId};
use tokio::task::AbortHandle;

use crate::config::UniqueKey;
use crate::error::{Error, Result, WaitingFor};
use crate::settings::Settings;
use crate::telemetry::PoolMetrics;

/// Pool status: how many connections exist, how many are idle, how many sessions wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// Most connections the pool will open (`pool_size + max_overflow`).
    pub max_size: usize,
    /// Connections open now (idle or in use), not counting an in-memory keeper.
    pub size: usize,
    /// Idle connections ready to hand out.
    pub idle: usize,
    /// Sessions waiting for a connection.
    pub waiting: usize,
}

/// What both backends' engines share: the pool (LIFO, `pool_size + max_overflow` connections,
/// `pool_timeout` to wait for one), the engine's id, settings and database label, and whether
/// it was disposed. Status, checkout errors, the overflow policy and disposal are written here
/// once.
pub(crate) struct PoolCore<M: Manager> {
    pub(crate) id: u64,
    pub(crate) pool: Pool<M>,
    pub(crate) settings: Arc<Settings>,
    /// The redacted URL, for `Debug` and the tracker.
    pub(crate) database: String,
    pub(crate) metrics: Arc<PoolMetrics>,
    disposed: AtomicBool,
}

impl<M: Manager> PoolCore<M> {
    /// A pool of `manager`'s connections; creating one is bounded by `create`, checking one
    /// before reuse by `recycle`.
    ///
    /// # Errors
    /// [`Error::NoRuntime`]: deadpool's only build error (timeouts without a runtime).
    pub(crate) fn new(
        manager: M,
        settings: Arc<Settings>,
        database: String,
        metrics: Arc<PoolMetrics>,
        create: Option<Duration>,
        recycle: Option<Duration>,
    ) -> Result<Self> {
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections())
            .queue_mode(QueueMode::Lifo)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(settings.pool_timeout))
            .create_timeout(create)
            .recycle_timeout(recycle)
            .build()
            .map_err(|_| Error::NoRuntime)?;
        Ok(PoolCore {
            id: next_engine_id(),
            pool,
            settings,
            database,
            metrics,
            disposed: AtomicBool::new(false),
        })
    }

    /// Takes a connection, waiting at most `pool_timeout`; a timeout names what it waited for
    /// (`connect_limit` for creating or recycling one), a backend error goes through `backend`.
    pub(crate) async fn checkout(
        &self,
        connect_limit: Duration,
        backend: impl FnOnce(M::Error) -> Error,
    ) -> Result<Object<M>>
    where
        M::Error: std::error::Error + Send + Sync + 'static,
    {
        // Polled once first: a connection ready at once (the common case) is handed out
        // without reading the clock; only a checkout that has to wait is timed.
        let mut get = std::pin::pin!(self.pool.get());
        let first = std::future::poll_fn(|cx| std::task::Poll::Ready(get.as_mut().poll(cx))).await;
        let (got, waited) = match first {
            std::task::Poll::Ready(got) => (got, Duration::ZERO),
            std::task::Poll::Pending => {
                let started = std::time::Instant::now();
                let got = get.await;
                (got, started.elapsed())
            }
        };
        let timed_out = matches!(got, Err(deadpool::managed::PoolError::Timeout(_)));
        self.metrics.checked_out(waited, got.is_ok(), timed_out);
        // The pool's counts take its lock: read after a wait and at every 8th return, not on
        // the fast path (measured: reading them at every return cost 2–6 % of a SQLite point
        // read).
        if waited > Duration::from_micros(100) || got.is_err() {
            self.report_state();
        }
        got.map_err(|e| pool_error(e, self.settings.pool_timeout, connect_limit, backend))
    }

    /// A connection handed out by [`checkout`](Self::checkout) left its session (back to the
    /// pool, or closed).
    pub(crate) fn returned(&self) {
        if self.metrics.returned() {
            self.report_state();
        }
    }

    fn report_state(&self) {
        let s = self.pool.status();
        self.metrics.pool_state(s.available, s.waiting);
    }

    /// The overflow policy: with `open` connections, a returned one is kept only up to
    /// `pool_size` (none with `pool_size = 0`).
    pub(crate) fn keeps(&self, open: usize) -> bool {
        open <= self.settings.pool_size as usize
    }

    /// Pool status.
    pub(crate) fn status(&self) -> PoolStatus {
        let s = self.pool.status();
        PoolStatus {
            max_size: s.max_size,
            size: s.size,
            idle: s.available,
            waiting: s.waiting,
        }
    }

    /// The engines' `Debug`: `name { id, database, status }`.
    pub(crate) fn fmt_engine(
        &self,
        f: &mut std::fmt::Formatter<'_>,
        name: &str,
    ) -> std::fmt::Result {
        f.debug_struct(name)
            .field("id", &self.id)
            .field("database", &self.database)
            .field("status", &self.status())
            .finish()
    }

    /// True once disposed.
    pub(crate) fn is_disposed(&self) -> bool {
        self.disposed.load(Ordering::SeqCst)
    }

    /// Marks the engine disposed and closes the pool (idle connections now, busy ones when
    /// they are returned). False when it already was.
    pub(crate) fn close(&self) -> bool {
        if self.disposed.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.pool.close();
        true
    }
}

/// The public methods both engines have alike, over their `inner.core` ([`PoolCore`]).
macro_rules! pooled_engine_methods {
    () => {
        /// This engine's process-unique id.
        #[must_use]
        pub fn id(&self) -> u64 {
            self.inner.core.id
        }

        /// Pool status.
        #[must_use]
        pub fn status(&self) -> $crate::engine::PoolStatus {
            self.inner.core.status()
        }

        /// The settings this engine was built from.
        #[must_use]
        pub fn settings(&self) -> &$crate::settings::Settings {
            &self.inner.core.settings
        }

        /// True once disposed.
        #[must_use]
        pub fn is_disposed(&self) -> bool {
            self.inner.core.is_disposed()
        }
    };
}
pub(crate) use pooled_engine_methods;

/// Maps a deadpool checkout error: timeouts become [`Error::Timeout`] naming what was awaited
/// (`pool_timeout` for the wait, `connect_limit` for creating or recycling), backend errors go
/// through `backend`.
fn pool_error<E>(
    e: deadpool::managed::PoolError<E>,
    pool_timeout: std::time::Duration,
    connect_limit: std::time::Duration,
    backend: impl FnOnce(E) -> Error,
) -> Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    use deadpool::managed::{PoolError, TimeoutType};
    match e {
        PoolError::Timeout(TimeoutType::Wait) => Error::Timeout {
            waiting_for: WaitingFor::PooledConnection,
            after: pool_timeout,
        },
        PoolError::Timeout(TimeoutType::Create) => Error::Timeout {
            waiting_for: WaitingFor::NewConnection,
            after: connect_limit,
        },
        PoolError::Timeout(TimeoutType::Recycle) => Error::Timeout {
            waiting_for: WaitingFor::Recycle,
            after: connect_limit,
        },
        PoolError::Backend(e) => backend(e),
        PoolError::Closed => Error::Disposed,
        PoolError::NoRuntimeSpecified => Error::NoRuntime,
        PoolError::PostCreateHook(e) => Error::Hook(Box::new(e)),
    }
}

/// An engine the registry can hold and dispose.
pub(crate) trait RegisteredEngine: Any + Clone + Send + Sync {
    /// Closes every connection; later sessions fail with [`Error::Disposed`].
    fn dispose_now(&self);
    /// Registry-unique id of this engine.
    fn engine_id(&self) -> u64;
}

struct Entry {
    engine: Box<dyn Any + Send + Sync>,
    dispose: Box<dyn Fn() + Send + Sync>,
    engine_id: u64,
    guard: Option<AbortHandle>,
}

type Key = (RuntimeId, UniqueKey);

fn registry() -> MutexGuard<'static, HashMap<Key, Entry>> {
    static REGISTRY: OnceLock<Mutex<HashMap<Key, Entry>>> = OnceLock::new();
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

static NEXT_ENGINE: AtomicU64 = AtomicU64::new(1);

/// A fresh engine id.
fn next_engine_id() -> u64 {
    NEXT_ENGINE.fetch_add(1, Ordering::Relaxed)
}

/// Returns the engine cached for the current runtime and `key`, building it with `build` on a
/// miss.
pub(crate) fn get_or_create<E: RegisteredEngine>(
    key: &UniqueKey,
    build: impl FnOnce() -> Result<E>,
) -> Result<E> {
    let handle = Handle::try_current().map_err(|_| Error::NoRuntime)?;
    let full_key = (handle.id(), key.clone());
    let engine = {
        let mut map = registry();
        if let Some(entry) = map.get(&full_key)
            && let Some(engine) = entry.engine.downcast_ref::<E>()
        {
            return Ok(engine.clone());
        }
        let engine = build()?;
        let for_dispose = engine.clone();
        map.insert(
            full_key.clone(),
            Entry {
                engine: Box::new(engine.clone()),
                dispose: Box::new(move || for_dispose.dispose_now()),
                engine_id: engine.engine_id(),
                guard: None,
            },
        );
        engine
    };
    // Spawned without the registry lock held: a runtime that is shutting down drops the task
    // (and so the guard, which takes the lock) inside `spawn`.
    let engine_id = engine.engine_id();
    let guard = ShutdownGuard {
        key: Some(full_key.clone()),
        engine_id,
    };
    let abort = handle
        .spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        })
        .abort_handle();
    if let Some(entry) = registry().get_mut(&full_key)
        && entry.engine_id == engine_id
    {
        entry.guard = Some(abort);
    }
    Ok(engine)
}

/// Removes the engine `engine_id` from the registry (if it is there) without disposing it.
pub(crate) fn forget(engine_id: u64) {
    let removed: Vec<Entry> = {
        let mut map = registry();
        let keys: Vec<Key> = map
            .iter()
            .filter(|(_, e)| e.engine_id == engine_id)
            .map(|(k, _)| k.clone())
            .collect();
        keys.iter().filter_map(|k| map.remove(k)).collect()
    };
    for guard in removed.into_iter().filter_map(|e| e.guard) {
        guard.abort();
    }
}

/// Disposes every registered engine and empties the registry.
pub fn dispose_all() {
    let entries: Vec<Entry> = registry().drain().map(|(_, e)| e).collect();
    for entry in entries {
        if let Some(guard) = &entry.guard {
            guard.abort();
        }
        (entry.dispose)();
    }
}

/// Number of engines in the registry (all runtimes).
#[must_use]
pub fn registered_engines() -> usize {
    registry().len()
}

/// Dropped by the runtime at shutdown: disposes the engine it guards.
struct ShutdownGuard {
    key: Option<Key>,
    engine_id: u64,
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let entry = {
            let mut map = registry();
            match map.get(&key) {
                // Only the engine this guard was made for: the key may have a newer engine.
                Some(e) if e.engine_id == self.engine_id => map.remove(&key),
                _ => None,
            }
        };
        if let Some(entry) = entry {
            (entry.dispose)();
        }
    }
}
