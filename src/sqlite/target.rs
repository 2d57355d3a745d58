//! What a [`SqliteUrl`] opens: the SQLite URI handed to `sqlite3_open_v2`, and the identity of
//! the database (for the writer lane and for messages).
//!
//! In-memory databases are always opened through SQLite's `memdb` VFS under a name that starts
//! with `/`, which makes the database shared by every connection of this process that opens that
//! name, honours `busy_timeout` (a shared-cache `:memory:` database fails a second writer at once
//! with `SQLITE_LOCKED`), and lives as long as one connection to it is open — the engine's keeper
//! connection. A URL that names a shared in-memory database (`cache=shared` with a name, or
//! `vfs=memdb` with a name) maps to that name, so engines using it share it; every other
//! in-memory URL gets a fresh, private name per engine.

use std::sync::atomic::{AtomicU64, Ordering};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::settings::Settings;
use crate::url::{SqliteLocation, SqliteUrl};

/// Characters escaped in the path part of a `file:` URI.
const URI_PATH: &AsciiSet = &CONTROLS.add(b'%').add(b'?').add(b'#');
/// Characters escaped in a `file:` URI query value.
const URI_QUERY: &AsciiSet = &CONTROLS.add(b'%').add(b'&').add(b'=').add(b'#').add(b' ');

/// Applies the URL parameters of Python's sqlite3 that dbconfig honours to `settings`, as
/// `sqlite3.connect` would: `timeout` becomes the lock wait of every connection, during set-up
/// and after (`settings.sqlite.setup_busy_timeout` and `settings.sqlite.busy_timeout`, which
/// also bounds the writer-lane wait); `cached_statements` becomes `settings.statement_cache_size`. A URL parameter wins over
/// the setting. [`SqliteConfig`](super::SqliteConfig) calls this; call it yourself when you
/// open connections with [`open_connection`](super::connect::open_connection) directly.
pub fn apply_driver_params(url: &SqliteUrl, settings: &mut Settings) {
    if let Some(timeout) = url.timeout() {
        settings.sqlite.setup_busy_timeout = Some(timeout);
        settings.sqlite.busy_timeout = timeout;
    }
    if let Some(capacity) = url.cached_statements() {
        settings.statement_cache_size = Some(capacity);
    }
}

/// Where and how an engine's connections open their database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTarget {
    /// The `file:` URI passed to SQLite (opened with `SQLITE_OPEN_URI`).
    pub uri: String,
    /// True for in-memory databases.
    pub inmemory: bool,
    /// True when connections cannot write (`mode=ro`, `immutable=1`).
    pub read_only: bool,
    /// Identity of the database within this process: the absolute file path, or the memdb name.
    pub identity: String,
}

static NEXT_PRIVATE: AtomicU64 = AtomicU64::new(1);

/// The process id (memdb names are process-wide); `std::process::id()` panics in the browser,
/// where one module is one "process".
fn process_id() -> u32 {
    #[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
    return std::process::id();
    #[cfg(all(target_family = "wasm", target_os = "unknown"))]
    return 0;
}

impl OpenTarget {
    /// The target for `url`. Each call for a private in-memory URL returns a new database name.
    #[must_use]
    pub fn for_url(url: &SqliteUrl) -> Self {
        let read_only =
            url.immutable() || matches!(url.mode(), Some(crate::url::OpenMode::ReadOnly));
        let path = match url.location() {
            SqliteLocation::File(path) if !url.is_inmemory() => path,
            _ => return Self::memory(url, read_only),
        };
        let identity = file_identity(path);
        let text = path.to_string_lossy();
        let mut uri = if path.is_absolute() {
            format!("file://{}", utf8_percent_encode(&text, URI_PATH))
        } else {
            format!("file:{}", utf8_percent_encode(&text, URI_PATH))
        };
        let mut sep = '?';
        // Python sqlite3's parameters are left out (`SqliteUrl::uri_params`): `timeout` and
        // `cached_statements` are honoured by [`apply_driver_params`], the others mean nothing
        // here.
        for (key, value) in url.uri_params() {
            uri.push(sep);
            uri.push_str(key);
            uri.push('=');
            uri.extend(utf8_percent_encode(value, URI_QUERY));
            sep = '&';
        }
        OpenTarget {
            uri,
            inmemory: false,
            read_only,
            identity,
        }
    }
}

/// The identity of a database file within this process: its canonical path (symlinks and `..`
/// resolved) when it exists; otherwise its canonical directory joined with its name, so that
/// every spelling of one file opened through an existing directory gets one writer lane. A file
/// reached through a dangling symlink, or through two hard links, can still get two identities:
/// writers then meet in SQLite's busy handler instead of the lane (correct, only less fair).
fn file_identity(path: &std::path::Path) -> String {
    let canonical = std::fs::canonicalize(path).ok().or_else(|| {
        let name = path.file_name()?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => std::path::Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(name))
    });
    canonical
        .or_else(|| std::path::absolute(path).ok())
        .unwrap_or_else(|| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

impl OpenTarget {
    fn memory(url: &SqliteUrl, read_only: bool) -> Self {
        let name = match url.shared_memory_name() {
            Some(name) => format!("/{}", name.trim_start_matches('/')),
            None => format!(
                "/dbconfig-mem-{}-{}",
                process_id(),
                NEXT_PRIVATE.fetch_add(1, Ordering::Relaxed)
            ),
        };
        OpenTarget {
            uri: format!("file:{}?vfs=memdb", utf8_percent_encode(&name, URI_PATH)),
            inmemory: true,
            read_only,
            identity: format!("memdb:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> OpenTarget {
        OpenTarget::for_url(&url.parse().unwrap())
    }

    #[test]
    fn files() {
        let t = target("sqlite:////tmp/a b.db");
        assert_eq!(t.uri, "file:///tmp/a b.db");
        assert!(!t.inmemory && !t.read_only);
        assert_eq!(t.identity, "/tmp/a b.db");
        let t = target("sqlite:///rel%3F.db?mode=ro&check_same_thread=false");
        assert_eq!(t.uri, "file:rel%3F.db?mode=ro");
        assert!(t.read_only);
        assert!(t.identity.ends_with("/rel?.db"), "{}", t.identity);
    }

    #[test]
    fn spellings_of_one_file_share_an_identity() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let url = |p: &str| format!("sqlite:///{}", dir.path().join(p).display());
        // Before the file exists: through its canonical directory.
        let plain = target(&url("x.db")).identity;
        assert_eq!(plain, target(&url("sub/../x.db")).identity);
        std::fs::write(dir.path().join("x.db"), b"").unwrap();
        assert_eq!(plain, target(&url("x.db")).identity);
        assert_eq!(plain, target(&url("sub/../x.db")).identity);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("x.db"), dir.path().join("l.db")).unwrap();
            assert_eq!(plain, target(&url("l.db")).identity);
        }
    }

    #[test]
    fn private_memory_is_unique_per_call() {
        let a = target("sqlite://");
        let b = target("sqlite://");
        assert!(a.inmemory && b.inmemory);
        assert_ne!(a.uri, b.uri);
        assert!(a.uri.starts_with("file:/dbconfig-mem-") && a.uri.ends_with("?vfs=memdb"));
    }

    #[test]
    fn named_shared_memory_is_stable() {
        let a = target("sqlite:///file:jobs?mode=memory&cache=shared&uri=true");
        let b = target("file:jobs?mode=memory&cache=shared");
        assert_eq!(a.uri, "file:/jobs?vfs=memdb");
        assert_eq!(a, b);
        let c = target("file:/jobs?vfs=memdb");
        assert_eq!(c.uri, a.uri);
        // Named but not shared: private per engine.
        assert_ne!(
            target("file:x?mode=memory").uri,
            target("file:x?mode=memory").uri
        );
    }
}
