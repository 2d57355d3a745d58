//! The crate's error type.

use std::time::Duration;

use crate::settings::SettingsError;
use crate::url::{Dialect, UrlError};

/// What an [`Error::Timeout`] was waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitingFor {
    /// A connection from the pool (`pool_timeout`).
    PooledConnection,
    /// A new connection to open (`connection_timeout`).
    NewConnection,
    /// A connection to be checked before reuse (`pool_pre_ping`, `pool_recycle`).
    Recycle,
    /// SQLite's writer lane: another write transaction of this process holds it.
    WriterLane,
    /// The PostgreSQL server to answer a round trip.
    ServerAnswer,
    /// A SQLite backup to finish.
    Backup,
}

impl std::fmt::Display for WaitingFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WaitingFor::PooledConnection => "a pooled connection",
            WaitingFor::NewConnection => "a new connection",
            WaitingFor::Recycle => "a connection to be recycled",
            WaitingFor::WriterLane => "the writer lane",
            WaitingFor::ServerAnswer => "the server to answer",
            WaitingFor::Backup => "the backup to finish",
        })
    }
}

/// Everything that can go wrong in dbconfig.
///
/// Messages are lowercase and never contain a password: URLs are always shown redacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Schema metadata that cannot be emitted (found before any SQL runs).
    #[error("invalid schema metadata")]
    Schema(#[source] crate::schema::SchemaError),
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
    /// A config for one dialect was given a URL of another (`SqliteConfig` with a
    /// `postgresql://` URL); use [`AnyConfig`](crate::AnyConfig) to choose by URL.
    #[error("expected a {expected} url, got a {found} url")]
    WrongDialect {
        /// The config's dialect.
        expected: Dialect,
        /// The URL's dialect.
        found: Dialect,
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
    /// An error reported by PostgreSQL or the tokio-postgres driver.
    #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
    #[error("postgres error")]
    Postgres(#[source] tokio_postgres::Error),
    /// PostgreSQL cancelled a statement that ran longer than `statement_timeout` (the `timeout`
    /// setting), SQLSTATE 57014.
    #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
    #[error("the statement ran longer than statement_timeout and was cancelled by the server")]
    StatementTimeout(#[source] tokio_postgres::Error),
    /// The TLS handshake with the server failed (an untrusted certificate, a host name the
    /// certificate does not name, a refused client certificate…).
    #[error("tls handshake failed: {reason}")]
    Tls {
        /// What rustls or the server reported (the causes of `source`, in one line).
        reason: String,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A TLS file (CA, client certificate or key) could not be used.
    #[error("{key} {path:?}: {reason}")]
    TlsFile {
        /// The setting or URL parameter that named the file (`tls.ca_file`, `sslrootcert`…).
        key: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why it could not be used.
        reason: String,
    },
    /// The configuration asks for something the backend cannot do.
    #[error("{key}: {reason}")]
    Unsupported {
        /// The setting or URL parameter at fault.
        key: String,
        /// Why.
        reason: String,
    },
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
    /// Waiting for a pooled connection, for a new connection, for the writer lane or for the
    /// server took too long.
    #[error("timed out after {after:?} waiting for {waiting_for}")]
    Timeout {
        /// What was being waited for.
        waiting_for: WaitingFor,
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
    /// A blocking task running a closure (`interact`) panicked or was cancelled; the source is
    /// the runtime's join error.
    #[error("a blocking database task panicked or was cancelled")]
    Blocking(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A transaction was used after it had finished.
    #[error("the transaction has already been committed or rolled back")]
    TransactionDone,
    /// An earlier operation on this connection (an `interact` future) was cancelled while its
    /// statement ran. Nothing more runs on the connection: a transaction on it is void and rolls
    /// back (never commits); a session continues on a fresh connection.
    #[error(
        "an operation on this connection was cancelled while running; the connection is no longer used (an open transaction on it rolls back)"
    )]
    Abandoned,
    /// A value that dbconfig reads from PostgreSQL's catalog (for `verify_db`, or
    /// `current_schema()`) had an unexpected type or was NULL: for example a function in a schema
    /// listed before `pg_catalog` in `search_path` shadows a built-in one the query calls, or the
    /// server only imitates PostgreSQL.
    #[error("unexpected value in {query}, column {column:?}: {reason}")]
    Catalog {
        /// What was being read, e.g. `"the columns of the tables (pg_attribute)"`.
        query: &'static str,
        /// The result column, by name, e.g. `"type"`.
        column: String,
        /// What did not match, e.g. ``cannot convert between the Rust type `alloc::string::String`
        /// and the Postgres type `int4` ``.
        reason: String,
    },
    /// A column could not be read as the Rust type asked for (or the row has no such column).
    #[error("column {column:?}: cannot read {found} as {rust_type}: {reason}")]
    Decode {
        /// The column's name (or `#i` for a position that does not exist).
        column: String,
        /// The Rust type asked for.
        rust_type: &'static str,
        /// The stored type: PostgreSQL's type name (`int4`), or SQLite's storage class
        /// (`text`).
        found: String,
        /// Why it does not convert.
        reason: String,
    },
    /// A parameter could not be bound (`parameter` counts from 1, as `$1` does).
    #[error("parameter ${parameter}: {reason}")]
    Encode {
        /// The parameter's number.
        parameter: usize,
        /// Why.
        reason: String,
    },
    /// The statement's placeholders do not fit the portable API (`$1, $2, …`) or the
    /// parameters given.
    #[error("placeholders: {reason}")]
    Placeholders {
        /// What is wrong.
        reason: String,
    },
    /// A statement of `create_db` / `drop_db` failed (nothing of the call is kept); `statement`
    /// is its start, which names the object.
    #[error("schema statement failed: {statement}")]
    Ddl {
        /// The statement's first line, at most 200 characters.
        statement: String,
        /// The database's error.
        #[source]
        source: Box<Error>,
    },
    /// A migration problem (see [`crate::migrate`]); its message names the step.
    #[error(transparent)]
    Migration(crate::migrate::MigrationError),
    /// `query_one` / `query_opt` got a number of rows it does not accept.
    #[error("expected {expected} row, the query returned {found}")]
    UnexpectedRows {
        /// `"exactly one"` or `"at most one"`.
        expected: &'static str,
        /// Rows returned.
        found: usize,
    },
    /// A file could not be written, synced or renamed (a backup's copy).
    #[error("file {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        reason: String,
    },
    /// SQLite read the file and found no database in it: the key is wrong, an encrypted
    /// database was opened without its key, or the file is not a SQLite database at all.
    /// With a key, an engine reports this when it is created, not at the first query.
    #[error("{database}: {}", if *key_given {
        "not a database or wrong key (SQLCipher could not read it with the key given)"
    } else {
        "not a database (or an encrypted one: give its key in sqlite.key)"
    })]
    NotADatabase {
        /// The database file.
        database: String,
        /// Whether a SQLCipher key was applied.
        key_given: bool,
    },
    /// `target_session_attrs=primary` or `standby`: no host of the URL is that kind of server
    /// (each host's answer: "a standby", "a primary", or why it could not be reached).
    #[error("no server matches target_session_attrs={wanted}: {tried}")]
    NoMatchingServer {
        /// `primary` or `standby` (or `prefer-standby` when no host was reachable).
        wanted: &'static str,
        /// Each host tried, `host:port: answer`, in order.
        tried: String,
    },
}

impl Error {
    /// True when the error is a timeout: one of ours (pool wait, connect, writer lane, server
    /// answer) or PostgreSQL's `statement_timeout`.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
            Error::StatementTimeout(_) => true,
            _ => false,
        }
    }

    /// The PostgreSQL SQLSTATE code (e.g. `"40001"`), when the server reported this error.
    #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
    #[must_use]
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Postgres(e) | Error::StatementTimeout(e) => e.code().map(|c| c.code()),
            Error::Ddl { source, .. } => source.sqlstate(),
            _ => None,
        }
    }

    /// True when SQLite reported the database as busy or locked
    /// (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`, `SQLITE_LOCKED`), or the writer lane timed out.
    /// Such errors are safe to retry.
    #[must_use]
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Ddl { source, .. } => source.is_busy(),
            #[cfg(feature = "sqlite")]
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            Error::Timeout { waiting_for, .. } => *waiting_for == WaitingFor::WriterLane,
            _ => false,
        }
    }

    /// The SQLite extended result code, when SQLite reported this error.
    #[must_use]
    pub fn sqlite_extended_code(&self) -> Option<i32> {
        match self {
            Error::Ddl { source, .. } => source.sqlite_extended_code(),
            #[cfg(feature = "sqlite")]
            Error::Sqlite(
                rusqlite::Error::SqliteFailure(e, _)
                | rusqlite::Error::SqlInputError { error: e, .. },
            ) => Some(e.extended_code),
            _ => None,
        }
    }
}

impl From<UrlError> for Error {
    fn from(e: UrlError) -> Self {
        Error::Url(e)
    }
}

impl Error {
    /// `self` as the failure of DDL statement `sql` (see [`Error::Ddl`]).
    pub(crate) fn in_ddl(self, sql: &str) -> Self {
        let first = sql.lines().next().unwrap_or_default();
        Error::Ddl {
            statement: first.chars().take(200).collect(),
            source: Box::new(self),
        }
    }
}

impl From<crate::migrate::MigrationError> for Error {
    fn from(e: crate::migrate::MigrationError) -> Self {
        Error::Migration(e)
    }
}

impl From<crate::schema::SchemaError> for Error {
    fn from(e: crate::schema::SchemaError) -> Self {
        Error::Schema(e)
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

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::Error;

    /// A syntax error comes from rusqlite as `SqlInputError` (with the offending token), not
    /// `SqliteFailure`: its code is read all the same.
    #[test]
    fn syntax_errors_have_their_sqlite_code() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let e = Error::from(conn.prepare("SELEC 1").unwrap_err());
        assert!(
            matches!(e, Error::Sqlite(rusqlite::Error::SqlInputError { .. })),
            "{e:?}"
        );
        assert_eq!(e.sqlite_extended_code(), Some(1));
        assert!(!e.is_busy());
    }
}
