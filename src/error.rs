//! The crate's error type.

use std::time::Duration;

use crate::settings::SettingsError;
use crate::url::{Dialect, UrlError};

/// Everything that can go wrong in dbconfig.
///
/// Messages are lowercase and never contain a password: URLs are always shown redacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection URL could not be parsed.
    #[error("invalid connection url")]
    Url(#[source] UrlError),
    /// A setting (from code or from the environment) was invalid.
    #[error("invalid settings")]
    Settings(#[source] SettingsError),
    /// No connection URL was configured.
    #[error("no connection url is configured (set `connection_url` or DBCONFIG_CONNECTION_URL)")]
    MissingUrl,
    /// The URL names a backend that this build does not include.
    #[error("{dialect} support is not compiled in (enable the `{feature}` feature)")]
    BackendUnavailable {
        /// The dialect the URL asked for.
        dialect: Dialect,
        /// The Cargo feature that provides it.
        feature: &'static str,
    },
    /// The linked SQLite library is older than the minimum supported version.
    #[error("dbconfig requires sqlite >= {required} but we found version {found}")]
    SqliteVersion {
        /// Minimum version, `3.24.0`.
        required: &'static str,
        /// Version found at run time.
        found: String,
    },
    /// An error reported by SQLite.
    #[cfg(feature = "sqlite")]
    #[error("sqlite error")]
    Sqlite(#[source] rusqlite::Error),
    /// A PRAGMA did not take the value it was set to.
    #[error("pragma {pragma} is {found:?} after setting it to {expected:?}")]
    Pragma {
        /// The PRAGMA's name.
        pragma: &'static str,
        /// The value asked for.
        expected: String,
        /// The value SQLite reports.
        found: String,
    },
    /// Waiting for a pooled connection, for a new connection, or for the writer lane took too long.
    #[error("timed out after {after:?} waiting for {waiting_for}")]
    Timeout {
        /// What was being waited for: `"a pooled connection"`, `"a new connection"`,
        /// `"the writer lane"`, `"a connection to be recycled"`.
        waiting_for: &'static str,
        /// How long we waited.
        after: Duration,
    },
    /// The engine was disposed (explicitly or because its runtime shut down).
    #[error("the engine has been disposed")]
    Disposed,
    /// `engine()` was called outside a tokio runtime.
    #[error("engine() must be called from within a tokio runtime")]
    NoRuntime,
    /// The user's `on_connect` hook failed.
    #[error("the on_connect hook failed")]
    Hook(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A blocking task running a closure (`interact`) panicked or was cancelled.
    #[error("a blocking database task failed: {0}")]
    Blocking(String),
    /// A transaction was used after it had finished.
    #[error("the transaction has already been committed or rolled back")]
    TransactionDone,
}

impl Error {
    /// True when the error is a timeout of ours (pool wait, connect, writer lane).
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// True when SQLite reported the database as busy or locked
    /// (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`, `SQLITE_LOCKED`), or the writer lane timed out.
    /// Such errors are safe to retry.
    #[must_use]
    pub fn is_busy(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            Error::Timeout { waiting_for, .. } => *waiting_for == "the writer lane",
            _ => false,
        }
    }

    /// The SQLite extended result code, when SQLite reported this error.
    #[must_use]
    pub fn sqlite_extended_code(&self) -> Option<i32> {
        match self {
            #[cfg(feature = "sqlite")]
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => Some(e.extended_code),
            _ => None,
        }
    }
}

impl From<UrlError> for Error {
    fn from(e: UrlError) -> Self {
        Error::Url(e)
    }
}

impl From<SettingsError> for Error {
    fn from(e: SettingsError) -> Self {
        Error::Settings(e)
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sqlite(e)
    }
}

/// `Result` with dbconfig's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
