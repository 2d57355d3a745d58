//! Files written whole or not at all: a backup, a compacted or an encrypted copy is written to a
//! temporary name next to its target and renamed over it once complete and synced.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// A temporary name next to `target`, unique in this process.
pub(super) fn temporary(target: &Path) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.dbconfig-{}-{n}.tmp", std::process::id()))
}

/// Makes `tmp` the file at `target`: synced, renamed, directory synced.
fn publish(tmp: &Path, target: &Path) -> std::io::Result<()> {
    std::fs::File::open(tmp)?.sync_all()?;
    std::fs::rename(tmp, target)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Best effort: not every platform can open a directory to sync it.
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// [`publish`], its error naming `target`.
pub(super) fn publish_to(tmp: &Path, target: &Path) -> Result<()> {
    publish(tmp, target).map_err(|e| io_error(target, &e))
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}
