//! One portable operation ([`Op`]) and how its failure is classified: whether it met a lock and
//! may run again on the blocking pool (see `SqliteConnection::run_portable`), and the busy
//! handler of that retry.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::bind::{Args, StatementInfo};
use crate::error::{Error, Result};

/// One portable operation for `SqliteConnection::run_portable`: runs `sql` with `args` and
/// says, when it fails, whether and from where it may run again. A plain function, so that the
/// retry on the blocking pool can take it along.
pub(crate) type Op<R> =
    fn(&Connection, &str, Args<'_>, &mut StatementInfo) -> std::result::Result<R, Failure>;

/// A failed [`Op`].
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    /// `Some(n)`: the operation met a lock before doing anything from byte `n` of its SQL on
    /// (0 for a single statement; a batch's statements before `n` have run), and may run again
    /// from there once the lock is free. `None`: final.
    pub(crate) resume: Option<usize>,
}

/// Runs one statement (`f`) of an [`Op`] and classifies its failure.
///
/// Why running the statement again after `SQLITE_BUSY` is safe: SQLite only reports it (and
/// only calls the busy handler, which is what our retry stands in for) where nothing of the
/// statement is done. Outside an explicit transaction the statement is its own transaction,
/// rolled back on failure, and SQLite documents that it may be retried; so may a `COMMIT`, which
/// stays pending on `SQLITE_BUSY`. Inside an explicit transaction SQLite invokes the busy handler
/// only when the database has no transaction yet (the loop in `sqlite3BtreeBeginTrans`), i.e.
/// before the statement did anything; where it would not invoke it (upgrading a read
/// transaction, which could deadlock), the retry fails again at once, as the statement did
/// before. `SQLITE_BUSY_SNAPSHOT` is final: the transaction's snapshot is stale, and only a new
/// transaction can help. Should SQLite have rolled the transaction back (it may, on
/// `SQLITE_BUSY`), the autocommit state has changed and the statement is not run again: it would
/// run outside the transaction it was written for.
pub(crate) fn once<R>(
    conn: &Connection,
    f: impl FnOnce() -> Result<R>,
) -> std::result::Result<R, Failure> {
    let autocommit = conn.is_autocommit();
    f().map_err(|error| failure(conn, autocommit, error))
}

/// The failure of a statement (see [`once`]) begun when the connection's autocommit state was
/// `autocommit`.
pub(crate) fn failure(conn: &Connection, autocommit: bool, error: Error) -> Failure {
    Failure {
        resume: (waits_for_lock(&error) && conn.is_autocommit() == autocommit).then_some(0),
        error,
    }
}

impl Failure {
    /// This failure, for a statement that starts at byte `at` of a batch (`None`: unknown).
    pub(crate) fn starting_at(self, at: Option<usize>) -> Failure {
        Failure {
            resume: self.resume.and(at),
            error: self.error,
        }
    }
}

/// True for a `SQLITE_BUSY` that waiting can resolve (not `SQLITE_BUSY_SNAPSHOT`).
fn waits_for_lock(error: &Error) -> bool {
    matches!(
        error,
        Error::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy
                && e.extended_code != rusqlite::ffi::SQLITE_BUSY_SNAPSHOT
    )
}

/// The busy handler of a retry on the blocking pool: SQLite's own back-off, the first lock wait
/// cut to what is left of `busy_timeout` since the inline attempt began, each later one (a
/// batch's next statements) given the full `busy_timeout`, and every wait cut short when the
/// caller has gone.
pub(super) struct BusyWait {
    pub(super) cancelled: Arc<AtomicBool>,
    pub(super) wait: Duration,
    pub(super) deadline: Instant,
    pub(super) first: bool,
}

impl BusyWait {
    /// SQLite's delays (`sqliteDefaultBusyCallback`), in milliseconds; the last one repeats.
    const DELAYS_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

    /// `count`: how often the handler ran for this lock wait (0 when it starts). True to try
    /// again.
    pub(super) fn call(&mut self, count: i32) -> bool {
        let now = Instant::now();
        if count == 0 && !std::mem::take(&mut self.first) {
            self.deadline = now.checked_add(self.wait).unwrap_or(now);
        }
        if self.cancelled.load(Ordering::Relaxed) || now >= self.deadline {
            return false;
        }
        let step = usize::try_from(count)
            .unwrap_or(0)
            .min(Self::DELAYS_MS.len() - 1);
        let delay = Duration::from_millis(Self::DELAYS_MS[step]);
        std::thread::sleep(delay.min(self.deadline - now));
        // Checked again: the caller may have gone while we slept, and trying again now could
        // take the lock for nobody.
        !self.cancelled.load(Ordering::Relaxed)
    }
}

/// `BEGIN …`, `COMMIT`, `ROLLBACK`.
pub(super) fn control(
    c: &Connection,
    sql: &str,
    _: Args<'_>,
    _: &mut StatementInfo,
) -> Result<(), Failure> {
    once(c, || Ok(c.prepare_cached(sql)?.execute([]).map(drop)?))
}
