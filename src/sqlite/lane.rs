//! The writer lane: one async FIFO lock per database in this process, taken before
//! `BEGIN IMMEDIATE`, so this process's writers queue fairly in tokio instead of spinning in
//! SQLite's busy handler. Other processes are still kept out by `busy_timeout`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::error::{Error, Result, WaitingFor};

/// The lane of one database.
pub(crate) type Lane = Arc<AsyncMutex<()>>;

/// Held while a write transaction is open.
pub(crate) type LaneGuard = OwnedMutexGuard<()>;

/// The lane for the database `identity` (absolute path or memdb name); engines on the same
/// database share it.
pub(crate) fn lane_for(identity: &str) -> Lane {
    static LANES: OnceLock<Mutex<HashMap<String, Weak<AsyncMutex<()>>>>> = OnceLock::new();
    let mut lanes = LANES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(lane) = lanes.get(identity).and_then(Weak::upgrade) {
        return lane;
    }
    lanes.retain(|_, weak| weak.strong_count() > 0);
    let lane = Arc::new(AsyncMutex::new(()));
    lanes.insert(identity.to_owned(), Arc::downgrade(&lane));
    lane
}

/// Enters the lane, waiting at most `wait` (the busy timeout) behind earlier writers.
pub(crate) async fn enter(lane: &Lane, wait: Duration) -> Result<LaneGuard> {
    if let Ok(guard) = Arc::clone(lane).try_lock_owned() {
        return Ok(guard);
    }
    tokio::time::timeout(wait, Arc::clone(lane).lock_owned())
        .await
        .map_err(|_| Error::Timeout {
            waiting_for: WaitingFor::WriterLane,
            after: wait,
        })
}
