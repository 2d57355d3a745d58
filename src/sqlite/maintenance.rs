//! WAL housekeeping and safe copies of a live database: [`SqliteEngine::checkpoint`],
//! [`SqliteEngine::backup_to`], [`SqliteEngine::vacuum_into`] and
//! [`SqliteEngine::restore_from`].
//!
//! # "My `-wal` file grows forever"
//!
//! In WAL mode, commits append to the `-wal` file and a checkpoint copies the pages back into
//! the database. A checkpoint can only copy frames that no reader still needs, and the next
//! writer can only start the file over once no reader holds a snapshot in it. So:
//!
//! - Automatic checkpoints run every `sqlite.pragmas.wal_autocheckpoint` pages (1000 by
//!   default) at commit; with short transactions the file stays around that size (tested:
//!   10,000 write transactions with concurrent readers keep it under 8 MiB).
//! - A reader that keeps a transaction open (a long report, a forgotten open transaction, a
//!   session held in a long-lived struct with a `BEGIN` in it) pins its snapshot: nothing after
//!   it can be checkpointed and the file grows for as long as it stays open. End such
//!   transactions; then `checkpoint(CheckpointMode::Truncate)` brings the file back to zero.
//! - After a checkpoint resets the file, SQLite truncates it to `journal_size_limit` (64 MiB by
//!   default), so one large transaction does not leave a large file for good.
//!
//! # Copies of a database in use
//!
//! Copying the database file of a WAL database while it is in use can miss the pages still in
//! the `-wal` file, or catch them half-written: the copy is then corrupt or out of date. Use
//! [`backup_to`](SqliteEngine::backup_to) (SQLite's online backup API: a consistent snapshot,
//! writers keep writing) or [`vacuum_into`](SqliteEngine::vacuum_into) (a compacted copy).
//! Both write a temporary file next to the target (`.<name>.dbconfig-<pid>-<n>.tmp`) and rename
//! it when complete: a process killed midway leaves that temporary file (safe to delete), never
//! a partial file under the target's name.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::cipher::apply_key;
use super::engine::SqliteEngine;
use super::publish::{publish_to, temporary};
use crate::error::{Error, Result, WaitingFor};

crate::keyword::keyword_enum! {
    /// How hard [`SqliteEngine::checkpoint`] tries (`PRAGMA wal_checkpoint(MODE)`,
    /// <https://www.sqlite.org/pragma.html#pragma_wal_checkpoint>).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub enum CheckpointMode {
        /// Copies what it can without waiting for readers or writers (what automatic
        /// checkpoints do).
        #[default]
        Passive = "passive",
        /// Waits (up to `busy_timeout`) for the writer lock and for readers of older snapshots,
        /// then copies every frame.
        Full = "full",
        /// As `Full`, then waits for readers so that the next writer starts the file over.
        Restart = "restart",
        /// As `Restart`, then truncates the `-wal` file to zero bytes.
        Truncate = "truncate",
    }
}

impl std::str::FromStr for CheckpointMode {
    type Err = crate::settings::SettingsError;

    /// `passive`, `full`, `restart` or `truncate`, in any case.
    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        Self::parse(text).ok_or_else(|| {
            crate::settings::SettingsError::invalid(
                "checkpoint mode",
                text,
                "passive, full, restart or truncate",
            )
        })
    }
}

/// What [`SqliteEngine::checkpoint`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checkpoint {
    /// It could not finish: a reader or the writer held it up (for `Full`, `Restart` and
    /// `Truncate`, after waiting `busy_timeout`).
    pub busy: bool,
    /// Frames in the WAL; `None` when the database is not in WAL mode.
    pub wal_frames: Option<u64>,
    /// Frames copied into the database; `None` when the database is not in WAL mode.
    pub checkpointed_frames: Option<u64>,
}

/// How far a [`backup_to`](SqliteEngine::backup_to) is, in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupProgress {
    /// Pages still to copy.
    pub remaining: u64,
    /// Pages in the source database.
    pub total: u64,
}

/// Pages a rollback-journal database copies per step, the source's read lock released between
/// steps so that writers get their turn.
const PAGES_PER_STEP: i32 = 1024;
/// The pause between two steps of a rollback-journal backup, and after a busy step.
const PAUSE: Duration = Duration::from_millis(5);

/// The backup loop: steps (all pages at once in WAL mode) until done, calling `progress` after
/// each; stops at `deadline` or when cancelled.
fn copy(
    src: &Connection,
    dst: &mut Connection,
    wal: bool,
    deadline: Instant,
    timeout: Duration,
    cancelled: &std::sync::atomic::AtomicBool,
    progress: &mut impl FnMut(BackupProgress),
) -> Result<BackupProgress> {
    let backup = Backup::new(src, dst)?;
    let pages = if wal { -1 } else { PAGES_PER_STEP };
    loop {
        let step = backup.step(pages)?;
        let p = backup.progress();
        let at = BackupProgress {
            remaining: u64::try_from(p.remaining).unwrap_or(0),
            total: u64::try_from(p.pagecount).unwrap_or(0),
        };
        progress(at);
        if step == StepResult::Done {
            return Ok(at);
        }
        if cancelled.load(Ordering::Relaxed) {
            return Err(Error::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERRUPT),
                None,
            )));
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout {
                waiting_for: WaitingFor::Backup,
                after: timeout,
            });
        }
        std::thread::sleep(PAUSE);
    }
}

impl SqliteEngine {
    /// Checkpoints the WAL (`PRAGMA wal_checkpoint(MODE)`) on a pooled connection, off the async
    /// workers; the waits of `Full`, `Restart` and `Truncate` are bounded by `busy_timeout`.
    ///
    /// # Errors
    /// No connection within `pool_timeout`, or SQLite's error.
    pub async fn checkpoint(&self, mode: CheckpointMode) -> Result<Checkpoint> {
        let mut session = self.session();
        let conn = session.connection().await?;
        let sql = format!(
            "PRAGMA wal_checkpoint({})",
            mode.as_str().to_ascii_uppercase()
        );
        let (busy, log, done): (i64, i64, i64) = conn
            .interact(move |c| c.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
            .await?;
        Ok(Checkpoint {
            busy: busy != 0,
            wal_frames: u64::try_from(log).ok(),
            checkpointed_frames: u64::try_from(done).ok(),
        })
    }

    /// Copies the database to `path` with SQLite's online backup API, on a pooled connection
    /// off the async workers: a consistent snapshot holding every transaction committed before
    /// the copy began and none after.
    ///
    /// - WAL databases are copied in one step inside one read snapshot: writers are never
    ///   blocked (they append to the WAL meanwhile). Other journal modes copy 1024 pages per
    ///   step and let writers in between; a write restarts the copy, so a database written
    ///   without pause may need until `timeout`.
    /// - The copy is written to a temporary file next to `path`, synced, and renamed over
    ///   `path` only when complete: a crash or a kill midway never leaves a partial file under
    ///   `path`.
    /// - `progress` is called after each step (at least once, at the end).
    /// - Works for in-memory databases too (a snapshot to a file).
    ///
    /// # Errors
    /// [`Error::Timeout`] after `timeout`, [`Error::Io`] when the file cannot be synced or
    /// renamed, or SQLite's error (the destination cannot be created, say). The temporary file
    /// is removed on every error.
    pub async fn backup_to(
        &self,
        path: impl AsRef<Path>,
        timeout: Duration,
        mut progress: impl FnMut(BackupProgress) + Send + 'static,
    ) -> Result<BackupProgress> {
        let target = path.as_ref().to_path_buf();
        let tmp = temporary(&target);
        let mut session = self.session();
        let conn = session.connection().await?;
        let work_tmp = tmp.clone();
        let keying = Arc::clone(&self.inner.keying);
        let copied = conn
            .blocking(move |c, cancelled| {
                let deadline = Instant::now() + timeout;
                let mut dst = Connection::open_with_flags(
                    &work_tmp,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
                )?;
                // An encrypted database's copy is encrypted with the same key.
                if let Some(key) = keying.current()? {
                    apply_key(&dst, &key, &work_tmp.display().to_string())?;
                }
                // The temporary file counts for nothing until it is synced and renamed whole:
                // no journal and no syncs while it is written.
                dst.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")?;
                let wal = c
                    .query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))?
                    .eq_ignore_ascii_case("wal");
                // Pages pass through the source's page cache: the pool's large cache (cache_size)
                // would only be filled with the whole database and dropped; a small one for the
                // copy, the connection's own afterwards.
                let cache: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
                c.execute_batch("PRAGMA cache_size = -2000")?;
                let copied = copy(
                    c,
                    &mut dst,
                    wal,
                    deadline,
                    timeout,
                    &cancelled,
                    &mut progress,
                );
                c.pragma_update(None, "cache_size", cache)?;
                copied
            })
            .await;

        let finished = copied.and_then(|at| publish_to(&tmp, &target).map(|()| at));
        if finished.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        finished
    }

    /// Replaces the whole content of the live database with the database file at `path`
    /// (SQLite's online backup API, from the file into this database), as one write
    /// transaction.
    ///
    /// - Writers of this process are drained first: the restore takes the engine's writer lane,
    ///   so a write transaction in progress finishes before it and new ones wait (up to
    ///   `busy_timeout`, as for any writer) until it is done; other processes wait on SQLite's
    ///   lock the same way. Readers keep the snapshot they started with.
    /// - Pooled connections stay open and see the restored content at their next transaction
    ///   (SQLite notices the change; statements prepared against the old schema are prepared
    ///   again).
    /// - `path` is checked first (`PRAGMA quick_check`): a file that is not a healthy SQLite
    ///   database is an error and nothing changes.
    /// - In WAL mode both databases must have the same page size (SQLite cannot change it
    ///   there); restore into an in-memory database to load a file.
    ///
    /// # Errors
    /// [`Error::Io`] for a file that is not a healthy database, [`Error::Timeout`] for the writer
    /// lane or after `timeout`, or SQLite's error (nothing changes on any error).
    pub async fn restore_from(
        &self,
        path: impl AsRef<Path>,
        timeout: Duration,
    ) -> Result<BackupProgress> {
        let source = path.as_ref().to_path_buf();
        let busy = self.settings().sqlite.busy_timeout;
        let _lane = super::lane::enter(&self.inner.lane, busy).await?;
        let mut session = self.session();
        let conn = session.connection().await?;
        let keying = Arc::clone(&self.inner.keying);
        conn.blocking(move |c, cancelled| {
            let bad = |reason: String| Error::Io {
                path: source.display().to_string(),
                reason,
            };
            let src = Connection::open_with_flags(
                &source,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| bad(format!("cannot be opened: {e}")))?;
            // An encrypted database restores from a file encrypted with its key.
            if let Some(key) = keying.current()? {
                apply_key(&src, &key, &source.display().to_string())?;
            }
            let check: String = src
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(|e| bad(format!("not a SQLite database: {e}")))?;
            if check != "ok" {
                return Err(bad(format!("not a healthy SQLite database: {check}")));
            }
            let deadline = Instant::now() + timeout;
            let backup = Backup::new(&src, c)?;
            loop {
                let step = backup.step(-1)?;
                if step == StepResult::Done {
                    let p = backup.progress();
                    return Ok(BackupProgress {
                        remaining: 0,
                        total: u64::try_from(p.pagecount).unwrap_or(0),
                    });
                }
                if cancelled.load(Ordering::Relaxed) || Instant::now() >= deadline {
                    return Err(Error::Timeout {
                        waiting_for: WaitingFor::Backup,
                        after: timeout,
                    });
                }
                std::thread::sleep(PAUSE);
            }
        })
        .await
    }

    /// Writes a compacted copy of the database to `path` (`VACUUM INTO`), on a pooled
    /// connection off the async workers, through a temporary file renamed when complete as
    /// [`backup_to`](Self::backup_to) does. Smaller than a backup when the database has free
    /// pages; it reads the whole database in one snapshot (writers are not blocked in WAL
    /// mode).
    ///
    /// # Errors
    /// SQLite's error, or [`Error::Io`] when the file cannot be synced or renamed.
    pub async fn vacuum_into(&self, path: impl AsRef<Path>) -> Result<()> {
        let target = path.as_ref().to_path_buf();
        let tmp = temporary(&target);
        let tmp_text = tmp.to_string_lossy().into_owned();
        let mut session = self.session();
        let conn = session.connection().await?;
        let done = conn
            .interact(move |c| c.execute("VACUUM INTO ?1", [tmp_text]).map(|_| ()))
            .await
            .and_then(|()| publish_to(&tmp, &target));
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        done
    }
}
