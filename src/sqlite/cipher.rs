//! Encryption at rest with SQLCipher (feature `sqlcipher`, native only).
//!
//! With the feature, dbconfig is built on SQLCipher (rusqlite's `bundled-sqlcipher`, linked to
//! the system's OpenSSL `libcrypto`) instead of plain SQLite; a database without a key is an
//! ordinary SQLite file, so one build serves both.
//!
//! - **The key** comes from `sqlite.key` (environment `DBCONFIG_SQLITE_KEY`), a
//!   `sqlite+pysqlcipher://:KEY@/file.db` url, or a provider callback
//!   ([`SqliteConfig::key_provider`](super::SqliteConfig::key_provider)) called for every new
//!   connection, so that it never has to sit in the environment. It is a [`SqliteKey`]: never
//!   printed, logged or serialised in clear.
//! - **Applied first**: `PRAGMA key` is the first statement on every new connection, before
//!   the journal mode is read or any other PRAGMA or hook runs, and the key is checked at once
//!   (a read of the schema). An engine with a key opens its first connection when it is created,
//!   so a wrong key is [`Error::NotADatabase`] from `engine()`, not from the first query.
//! - **Changing the key**: [`SqliteEngine::rekey`](crate::SqliteEngine::rekey). **Encrypting a plain database** (or
//!   decrypting one): [`SqliteEngine::export_encrypted`](crate::SqliteEngine::export_encrypted) writes a copy under a new key with
//!   `sqlcipher_export()`; `dbconfig encrypt` does it from the command line.
//! - **Copies**: [`backup_to`](crate::SqliteEngine::backup_to) and
//!   [`restore_from`](crate::SqliteEngine::restore_from) of an encrypted engine read and write files
//!   encrypted with the engine's key. The `-wal` file is encrypted as the database is (it holds
//!   the same encrypted pages).
//! - **Cost**: each page is encrypted on write and decrypted on read, and every new connection
//!   derives the key from a passphrase (PBKDF2, 256,000 iterations by default: tens of
//!   milliseconds). A pool keeps connections open, so that cost is paid per connection, not
//!   per query (with `pool_size = 0` every session pays it); a raw key (`x'<64 hex digits>'`)
//!   skips the derivation.

use std::sync::Arc;
#[cfg(not(target_family = "wasm"))]
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(target_family = "wasm"))]
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::error::{Error, Result};
use crate::url::SqliteKey;

/// A callback that returns the key for each new connection (say, from the OS keychain).
pub type KeyProvider = Arc<
    dyn Fn() -> std::result::Result<SqliteKey, Box<dyn std::error::Error + Send + Sync>>
        + Send
        + Sync,
>;

/// Where an engine's connections get their key.
#[cfg(not(target_family = "wasm"))]
#[derive(Clone)]
pub(crate) enum KeySource {
    Fixed(SqliteKey),
    Provider(KeyProvider),
}

/// An engine's key source, replaced by [`SqliteEngine::rekey`]; its generation counts the
/// rekeys, so that connections opened with an older key are not reused.
#[cfg(not(target_family = "wasm"))]
pub(crate) struct Keying {
    source: Mutex<Option<KeySource>>,
    generation: AtomicU64,
}

#[cfg(not(target_family = "wasm"))]
impl Keying {
    pub(crate) fn new(source: Option<KeySource>) -> Self {
        Keying {
            source: Mutex::new(source),
            generation: AtomicU64::new(0),
        }
    }

    #[cfg_attr(not(feature = "sqlcipher"), allow(dead_code))]
    pub(crate) fn is_keyed(&self) -> bool {
        self.source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// The key for a new connection (the provider is called here, outside the lock).
    ///
    /// # Errors
    /// The provider's error, as [`Error::Hook`].
    pub(crate) fn current(&self) -> Result<Option<SqliteKey>> {
        let source = self
            .source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match source {
            None => Ok(None),
            Some(KeySource::Fixed(key)) => Ok(Some(key)),
            Some(KeySource::Provider(provider)) => provider().map(Some).map_err(Error::Hook),
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    #[cfg_attr(not(feature = "sqlcipher"), allow(dead_code))]
    fn replace(&self, key: SqliteKey) {
        *self.source.lock().unwrap_or_else(PoisonError::into_inner) = Some(KeySource::Fixed(key));
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// Applies `key` to a connection just opened, before anything else runs on it, and checks it.
///
/// # Errors
/// [`Error::Unsupported`] when the library is plain SQLite (it would ignore the key and write
/// in clear), [`Error::NotADatabase`] for a wrong key, or SQLite's error. No error shows the
/// key.
pub(crate) fn apply_key(conn: &Connection, key: &SqliteKey, database: &str) -> Result<()> {
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .optional()?;
    if cipher.is_none() {
        return Err(Error::Unsupported {
            key: "sqlite.key".into(),
            reason: "this build's SQLite is not SQLCipher: enable dbconfig's `sqlcipher` feature"
                .into(),
        });
    }
    // SQLCipher writes its errors (a wrong key's "hmac check failed") to stderr by default; a
    // library's errors go to its caller. Once per process, so an application that wants them
    // can set `PRAGMA cipher_log_level` itself.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let _ = conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()));
    });
    // rusqlite writes the value as an SQL string literal, quotes doubled; the statement is
    // never logged (echo is installed after this).
    conn.pragma_update(None, "key", key.expose())
        .map_err(|e| key_error(&e, "PRAGMA key"))?;
    check_readable(conn, database, true)
}

/// Reads the schema: SQLCipher decrypts page 1 here, so a wrong key (or a file that is not a
/// database) shows now.
pub(crate) fn check_readable(conn: &Connection, database: &str, key_given: bool) -> Result<()> {
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())) {
        Ok(()) => Ok(()),
        Err(e) => Err(not_a_database(e, database, key_given)),
    }
}

/// SQLite's "file is not a database" as [`Error::NotADatabase`]; other errors as they are.
pub(crate) fn not_a_database(e: rusqlite::Error, database: &str, key_given: bool) -> Error {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
        Error::NotADatabase {
            database: database.to_owned(),
            key_given,
        }
    } else {
        Error::Sqlite(e)
    }
}

/// An error of a statement that holds a key, without the statement.
fn key_error(e: &rusqlite::Error, what: &str) -> Error {
    let code = e
        .sqlite_error_code()
        .map_or_else(|| "invalid key text".to_owned(), |code| format!("{code:?}"));
    Error::Unsupported {
        key: "sqlite.key".into(),
        reason: format!("{what} failed: {code}"),
    }
}

/// A connection of its own to `uri` (no pool, no hook, no echo: the statements run on it may
/// hold a key), with `key` applied.
#[cfg_attr(not(feature = "sqlcipher"), allow(dead_code))]
pub(crate) fn open_keyed(uri: &str, key: Option<&SqliteKey>, database: &str) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri, flags)?;
    match key {
        Some(key) => apply_key(&conn, key, database)?,
        None => check_readable(&conn, database, false)?,
    }
    Ok(conn)
}

#[cfg(all(feature = "sqlcipher", not(target_family = "wasm")))]
mod engine_ops {
    use std::path::Path;
    use std::time::Duration;

    use super::{key_error, open_keyed};
    use crate::error::{Error, Result};
    use crate::sqlite::SqliteEngine;
    use crate::url::SqliteKey;

    impl SqliteEngine {
        /// True when this engine's connections apply a key.
        #[must_use]
        pub fn is_encrypted(&self) -> bool {
            self.inner.keying.is_keyed()
        }

        /// Changes the key of this encrypted database (`PRAGMA rekey`): every page is rewritten
        /// under `new_key`, in one transaction on a connection of its own, off the async
        /// workers.
        ///
        /// - Writers of this process are drained first (the writer lane, waited for up to
        ///   `busy_timeout`); other processes wait on SQLite's lock.
        /// - Afterwards this engine opens its connections with `new_key`; connections opened
        ///   with the old key are closed instead of being reused (idle ones now, busy ones when
        ///   returned). Store `new_key` where the next start of the application reads it before
        ///   calling this.
        /// - Another connection reading the database while it is rekeyed (another process, or
        ///   a transaction of this one still open) fails with [`Error::NotADatabase`] at its next
        ///   read: rekey at a quiet moment.
        ///
        /// # Errors
        /// [`Error::Unsupported`] for a database without a key (encrypt a plain one with
        /// [`export_encrypted`](Self::export_encrypted)) or an in-memory one,
        /// [`Error::Timeout`] for the writer lane, or SQLite's error (the key is then
        /// unchanged).
        pub async fn rekey(&self, new_key: SqliteKey) -> Result<()> {
            if !self.is_encrypted() {
                return Err(Error::Unsupported {
                    key: "sqlite.key".into(),
                    reason: "rekey changes the key of an encrypted database; this one has no \
                             key (write an encrypted copy with export_encrypted)"
                        .into(),
                });
            }
            let busy = self.settings().sqlite.busy_timeout;
            let _lane = crate::sqlite::lane::enter(&self.inner.lane, busy).await?;
            let inner = std::sync::Arc::clone(&self.inner);
            tokio::task::spawn_blocking(move || -> Result<()> {
                let old = inner.keying.current()?;
                let database = inner.target.identity.clone();
                let conn = open_keyed(&inner.target.uri, old.as_ref(), &database)?;
                conn.busy_timeout(busy)?;
                conn.pragma_update(None, "rekey", new_key.expose())
                    .map_err(|e| key_error(&e, "PRAGMA rekey"))?;
                drop(conn);
                // Checked with a fresh connection before the engine switches keys.
                drop(open_keyed(&inner.target.uri, Some(&new_key), &database)?);
                inner.keying.replace(new_key);
                Ok(())
            })
            .await
            .map_err(|e| Error::Blocking(Box::new(e)))??;
            // Idle connections hold the old key: close them now.
            self.inner.core.pool.retain(|_, _| false);
            Ok(())
        }

        /// Writes a copy of this database to `path` under `key` (`None`: a plain SQLite file)
        /// with SQLCipher's `sqlcipher_export()`, on a connection of its own, off the async
        /// workers: how a plain database is encrypted (or an encrypted one decrypted). The copy
        /// is one read snapshot of the database; it is written to a temporary file next to
        /// `path` and renamed when complete, as [`backup_to`](Self::backup_to) does.
        ///
        /// Open the copy with `key` afterwards (point the application at it, or replace the
        /// original with it while no engine has the original open).
        ///
        /// # Errors
        /// SQLite's error, or [`Error::Io`] when the file cannot be synced or renamed; the
        /// temporary file is removed on every error.
        pub async fn export_encrypted(
            &self,
            path: impl AsRef<Path>,
            key: Option<SqliteKey>,
        ) -> Result<()> {
            let target = path.as_ref().to_path_buf();
            let tmp = crate::sqlite::publish::temporary(&target);
            let inner = std::sync::Arc::clone(&self.inner);
            let busy: Duration = self.settings().sqlite.busy_timeout;
            let work_tmp = tmp.clone();
            let done = tokio::task::spawn_blocking(move || -> Result<()> {
                let own = inner.keying.current()?;
                let conn = open_keyed(&inner.target.uri, own.as_ref(), &inner.target.identity)?;
                conn.busy_timeout(busy)?;
                let tmp_text = work_tmp.to_string_lossy().into_owned();
                let new_key = key.as_ref().map_or("", SqliteKey::expose);
                // Bound parameters: neither the path nor the key is part of the SQL text.
                conn.execute(
                    "ATTACH DATABASE ?1 AS dbconfig_export KEY ?2",
                    [tmp_text.as_str(), new_key],
                )
                .map_err(|e| key_error(&e, "ATTACH … KEY"))?;
                let exported = conn
                    .query_row("SELECT sqlcipher_export('dbconfig_export')", [], |_| Ok(()))
                    .map_err(Error::from);
                let detached = conn.execute_batch("DETACH DATABASE dbconfig_export");
                exported?;
                detached?;
                Ok(())
            })
            .await
            .map_err(|e| Error::Blocking(Box::new(e)))
            .and_then(|done| done)
            .and_then(|()| crate::sqlite::publish::publish_to(&tmp, &target));
            if done.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            done
        }
    }
}
