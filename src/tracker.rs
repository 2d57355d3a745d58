//! [`ConnectionTracker`]: which connections are open, and where they were opened.
//!
//! Opt-in, like the original's test utility. Engines report to the tracker given to their
//! config, or else to [`ConnectionTracker::global`] if it is active when the engine is created.

use std::backtrace::Backtrace;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::url::Dialect;

/// A process-unique connection number.
pub type ConnectionId = u64;

// Used by the native pools; the wasm build has none yet.
#[cfg_attr(target_family = "wasm", allow(dead_code))]
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh, process-unique connection id.
// Used by the native pools; the wasm build has none yet.
#[cfg_attr(target_family = "wasm", allow(dead_code))]
pub(crate) fn next_connection_id() -> ConnectionId {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// An open connection, as the tracker saw it being opened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenConnection {
    /// The connection's id.
    pub id: ConnectionId,
    /// Its backend.
    pub dialect: Dialect,
    /// The database, as a redacted URL.
    pub database: String,
    /// `"pool"` for pooled connections, `"keeper"` for an in-memory database's keeper.
    pub role: &'static str,
    /// Where the connection was opened from.
    pub opened_at: Arc<Backtrace>,
}

/// A close of a connection the tracker did not know as open (opened before the tracker was
/// cleared, or closed twice).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LeftFieldClose {
    /// The connection's id.
    pub id: ConnectionId,
    /// Where it was closed from.
    pub closed_at: Arc<Backtrace>,
}

/// What the tracker has seen since it was created or last cleared.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TrackerSnapshot {
    /// Connections opened.
    pub connects: u64,
    /// Connections closed.
    pub closes: u64,
    /// Connections still open, by id.
    pub open: Vec<OpenConnection>,
    /// Closes of connections that were not open as far as the tracker knew.
    pub left_field_closes: Vec<LeftFieldClose>,
}

impl fmt::Display for TrackerSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} connects, {} closes, {} open, {} left-field closes",
            self.connects,
            self.closes,
            self.open.len(),
            self.left_field_closes.len()
        )?;
        for c in &self.open {
            write!(
                f,
                "\n  open #{} {} ({}) {}",
                c.id, c.dialect, c.role, c.database
            )?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct State {
    connects: u64,
    closes: u64,
    open: BTreeMap<ConnectionId, OpenConnection>,
    left_field_closes: Vec<LeftFieldClose>,
}

/// Counts connects and closes and keeps every open connection with the call site that opened
/// it. Cheap when inactive: engines created while it is inactive never report to it.
pub struct ConnectionTracker {
    active: AtomicBool,
    state: Mutex<State>,
}

impl fmt::Debug for ConnectionTracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionTracker")
            .field("active", &self.is_active())
            .field("snapshot", &self.snapshot().to_string())
            .finish()
    }
}

impl ConnectionTracker {
    /// A new, active tracker, to give to a config with `.tracker(…)`.
    #[must_use]
    pub fn new() -> Arc<Self> {
        Arc::new(ConnectionTracker {
            active: AtomicBool::new(true),
            state: Mutex::new(State::default()),
        })
    }

    /// The process-wide tracker, inactive until [`activate`](Self::activate)d. Engines created
    /// while it is active (and not given a tracker of their own) report to it.
    pub fn global() -> &'static Arc<ConnectionTracker> {
        static GLOBAL: OnceLock<Arc<ConnectionTracker>> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            Arc::new(ConnectionTracker {
                active: AtomicBool::new(false),
                state: Mutex::new(State::default()),
            })
        })
    }

    /// Starts tracking engines created from now on.
    pub fn activate(&self) {
        self.active.store(true, Ordering::SeqCst);
    }

    /// Stops tracking engines created from now on (engines already tracked keep reporting).
    pub fn deactivate(&self) {
        self.active.store(false, Ordering::SeqCst);
    }

    /// Whether new engines will report to this tracker.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::SeqCst)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the maps inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a new connection, capturing the current call stack.
    pub fn on_connect(
        &self,
        id: ConnectionId,
        dialect: Dialect,
        database: String,
        role: &'static str,
    ) {
        let opened_at = Arc::new(Backtrace::force_capture());
        let mut state = self.state();
        state.connects += 1;
        state.open.insert(
            id,
            OpenConnection {
                id,
                dialect,
                database,
                role,
                opened_at,
            },
        );
    }

    /// Records a close; a close of a connection not known as open is kept as a left-field close.
    pub fn on_close(&self, id: ConnectionId) {
        let mut state = self.state();
        state.closes += 1;
        if state.open.remove(&id).is_none() {
            state.left_field_closes.push(LeftFieldClose {
                id,
                closed_at: Arc::new(Backtrace::force_capture()),
            });
        }
    }

    /// What the tracker has seen.
    #[must_use]
    pub fn snapshot(&self) -> TrackerSnapshot {
        let state = self.state();
        TrackerSnapshot {
            connects: state.connects,
            closes: state.closes,
            open: state.open.values().cloned().collect(),
            left_field_closes: state.left_field_closes.clone(),
        }
    }

    /// Number of connections open right now.
    #[must_use]
    pub fn open_count(&self) -> usize {
        self.state().open.len()
    }

    /// Forgets everything (does not change whether the tracker is active).
    pub fn clear(&self) {
        *self.state() = State::default();
    }

    /// The tracker an engine created now should report to: `explicit` if given, else the global
    /// one if active.
    // Used by the native pools; the wasm build has none yet.
    #[cfg_attr(target_family = "wasm", allow(dead_code))]
    pub(crate) fn for_new_engine(
        explicit: Option<&Arc<ConnectionTracker>>,
    ) -> Option<Arc<ConnectionTracker>> {
        match explicit {
            Some(t) => Some(Arc::clone(t)),
            None => {
                let global = Self::global();
                global.is_active().then(|| Arc::clone(global))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_open_and_left_field_closes() {
        let t = ConnectionTracker::new();
        t.on_connect(1, Dialect::Sqlite, "sqlite://".into(), "pool");
        t.on_connect(2, Dialect::Sqlite, "sqlite://".into(), "keeper");
        t.on_close(1);
        let s = t.snapshot();
        assert_eq!((s.connects, s.closes, s.open.len()), (2, 1, 1));
        assert_eq!(s.open[0].id, 2);
        assert!(s.left_field_closes.is_empty());
        t.clear();
        t.on_close(2);
        let s = t.snapshot();
        assert_eq!((s.connects, s.closes, s.open.len()), (0, 1, 0));
        assert_eq!(s.left_field_closes.len(), 1);
        assert!(t.is_active());
    }
}
