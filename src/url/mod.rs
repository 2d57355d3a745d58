//! Connection-url parsing for SQLite and PostgreSQL.
//!
//! [`ConnectionUrl`] parses any supported form and tells the dialect apart;
//! [`SqliteUrl`] and [`PostgresUrl`] parse one dialect each. Every input
//! string yields a value or a [`UrlError`], never a panic. Parsing is strict:
//! only surrounding ASCII whitespace is trimmed, unknown or repeated
//! parameters are errors, and raw control characters or `#` in a url are
//! errors (percent-encode them).
//!
//! # SQLite forms
//!
//! | input | meaning |
//! | --- | --- |
//! | `sqlite:///rel.db` | SQLAlchemy style: relative path `rel.db` |
//! | `sqlite:////abs/x.db` | SQLAlchemy style: absolute path `/abs/x.db` |
//! | `sqlite+aiosqlite:///x.db`, `sqlite+pysqlite:///x.db` | these two driver suffixes ([`SQLITE_DRIVERS`]) are accepted and dropped; any other but `pysqlcipher` is [`UrlError::UnknownDriver`] |
//! | `sqlite+pysqlcipher://:KEY@/x.db`, `sqlite+pysqlcipher://:KEY@//abs/x.db` | SQLAlchemy's SQLCipher form: an encrypted database and its key ([`SqliteUrl::key`], percent-encoded); without `:KEY@` the key comes from the settings. Opening one needs the `sqlcipher` feature; without it the settings are refused |
//! | `sqlite://`, `sqlite:///`, `sqlite:///:memory:`, `sqlite::memory:`, `sqlite:` | unnamed in-memory database |
//! | `sqlite:data.db`, `sqlite:/abs.db` | sqlx style: relative / absolute path |
//! | `sqlite://data.db?mode=rwc` | sqlx style: after exactly two slashes, a single path segment is a relative path |
//! | `sqlite:///file:name?mode=memory&cache=shared&uri=true` | with `uri=true`, a path starting with `file:` is a SQLite URI (as pysqlite does) |
//! | `file:data.db`, `file:/abs/data.db`, `file:///abs/data.db`, `file://localhost/abs/data.db` | SQLite URIs; any authority but `localhost` is an error |
//! | `file::memory:`, `file::memory:?cache=shared` | unnamed in-memory database |
//! | `file:x?mode=memory` | in-memory database named `x` (not shared) |
//! | `file:/name?vfs=memdb` | in-memory `memdb` database named `/name` (shared) |
//!
//! SQLite has no login and dbconfig opens plain (unencrypted) files, so a SQLite url
//! with user info or a host is an error rather than a file name holding the secret:
//! `sqlite://user:pw@host/x.db`, `sqlite://:pw@/x.db` and `sqlite://u@x.db` are
//! [`UrlError::Malformed`] (`userinfo`), `sqlite://host/x.db` is `Malformed` (`host`), and
//! a path segment with a `:` followed by an `@` (`sqlite:user:pw@host/x.db`,
//! `file:user:pw@x.db`) is `userinfo` too. The messages never repeat the input. A plain
//! `@` is a file name (`file:a@b.db`); percent-encode `:` or `@` (`%3A`, `%40`) for a
//! file name that has both.
//!
//! Paths are percent-decoded (`my%20db.db` is `my db.db`); invalid escapes,
//! NUL bytes and non-UTF-8 results are errors. Only an empty path or the
//! exact path `:memory:` (or `mode=memory`, or `vfs=memdb`) means in-memory:
//! `sqlite:////data/:memory:x/a.db` is an ordinary file.
//!
//! Query parameters (keys case-insensitive, stored lowercase; enumerated
//! values case-insensitive, stored in canonical spelling, booleans stored as
//! `true`/`false`): `mode` (`ro|rw|rwc|memory`), `cache` (`shared|private`),
//! `vfs`, `immutable`, `nolock`, `psow`, `modeof` (SQLite URI parameters, passed
//! to SQLite), and Python sqlite3's `uri`, `check_same_thread` (accepted, no
//! effect), `timeout` (seconds, 0 to 2147483.647: the connections' lock wait,
//! `PRAGMA busy_timeout`) and `cached_statements` (0 to 2^32-1: the
//! prepared-statement cache capacity). An engine built from the url uses
//! `timeout` and `cached_statements` in place of the corresponding settings
//! (see `dbconfig::sqlite::target::apply_driver_params`). pysqlite's
//! `isolation_level` and `detect_types` have no meaning here and are
//! [`UrlError::UnsupportedParameter`].
//!
//! # PostgreSQL forms
//!
//! | input | meaning |
//! | --- | --- |
//! | `postgres://u:p@h:5432/db`, `postgresql://…` | libpq url |
//! | `postgresql+asyncpg://…`, `postgres+psycopg://…` | driver suffix accepted and dropped |
//! | `postgresql://user:pa@ss@host/db` | the last `@` of the authority ends the user info |
//! | `postgresql://h1:5432,h2:5433/db`, `postgresql://h1,h2:5433/db` | several hosts; a host without a port gets 5432 when another has one |
//! | `postgresql://[::1]:5432/db` | IPv6 literal |
//! | `postgresql://%2Fvar%2Frun%2Fpostgresql/db`, `postgresql:///db?host=/var/run/postgresql` | unix socket directory |
//! | `postgresql:///db` | no host |
//! | `host=localhost port=5432 user=u password='p w\'q' dbname=d` | libpq key=value string (quotes and backslash escapes as libpq) |
//!
//! In a key=value string a password with a space must be quoted
//! (`password='correct horse'`): unquoted, the next words read as further
//! keywords, so errors about anything after an unquoted password name neither
//! unknown keywords nor values (`password=correct horse=battery` is
//! `Malformed` "unknown keyword at byte 17, after an unquoted password …").
//!
//! User, password, host, database name and query values are percent-decoded
//! (`+` is a space only in `default_transaction_isolation`). Parameters are
//! the keys tokio-postgres accepts plus `sslmode` (all six modes; `ssl` is an
//! alias, `ssl=true` meaning `require`), `sslrootcert`, `sslcert`, `sslkey`
//! (lifted into [`PgTlsParams`]) and `default_transaction_isolation` (lifted
//! into [`PostgresUrl::server_settings`]).
//!
//! Parameter keys are case-insensitive and stored lowercase; enumerated
//! values are case-insensitive and stored in canonical spelling. An empty
//! user, password or database name counts as absent. Without user info, a
//! raw `@` in the database name is rejected: it usually means a password
//! with an unencoded `/` cut the authority short, and accepting it would
//! put part of the password in the database name.
//! All six libpq `target_session_attrs` values are accepted; tokio-postgres
//! checks `any`, `read-write` and `read-only` itself, dbconfig's engine checks
//! `primary`, `standby` and `prefer-standby` after connecting.
//!
//! Raw spaces and non-ASCII characters are accepted in urls; canonical
//! output percent-encodes them.
//!
//! # Canonical form
//!
//! `to_url()` prints a canonical url (`sqlite://…` or `postgresql://…`, never
//! key=value) including any password, such that parsing it gives back an
//! equal value; `redacted()` and `Display` print the same with the password
//! replaced by `***`.

mod dialect;
pub(crate) mod error;
mod libpq;
mod params;
mod postgres;
mod sqlite;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

pub use dialect::Dialect;
pub use error::UrlError;
pub use postgres::{
    ChannelBinding, LoadBalanceHosts, PgHost, PgOptions, PgTlsParams, PostgresUrl, SslMode,
    SslNegotiation, TargetSessionAttrs,
};
pub use sqlite::{CacheMode, OpenMode, SqliteKey, SqliteLocation, SqliteUrl};

impl std::str::FromStr for Dialect {
    type Err = UrlError;

    /// `sqlite`, `postgresql` or `postgres`, case-insensitively.
    fn from_str(s: &str) -> Result<Self, UrlError> {
        match s.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgresql" | "postgres" => Ok(Self::Postgres),
            _ => Err(UrlError::invalid("dialect", s, "sqlite or postgresql")),
        }
    }
}

/// A parsed connection url of either dialect.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionUrl {
    /// A SQLite database.
    Sqlite(SqliteUrl),
    /// A PostgreSQL server.
    Postgres(PostgresUrl),
}

impl ConnectionUrl {
    /// The url's dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Whether the url names an in-memory SQLite database (always `false` for PostgreSQL).
    pub fn is_inmemory(&self) -> bool {
        match self {
            Self::Sqlite(url) => url.is_inmemory(),
            Self::Postgres(_) => false,
        }
    }

    /// The canonical url, password included: parsing it gives back an equal value.
    pub fn to_url(&self) -> String {
        match self {
            Self::Sqlite(url) => url.to_url(),
            Self::Postgres(url) => url.to_url(),
        }
    }

    /// The canonical url with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(url) => url.redacted(),
            Self::Postgres(url) => url.redacted(),
        }
    }

    /// The SQLite url, if this is one.
    pub fn as_sqlite(&self) -> Option<&SqliteUrl> {
        match self {
            Self::Sqlite(url) => Some(url),
            Self::Postgres(_) => None,
        }
    }

    /// The PostgreSQL url, if this is one.
    pub fn as_postgres(&self) -> Option<&PostgresUrl> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(url) => Some(url),
        }
    }
}

impl FromStr for ConnectionUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = trim(s)?;
        match split_scheme(s) {
            Some((scheme, rest)) => match classify(scheme)? {
                Scheme::Sqlite => SqliteUrl::parse_sqlite_scheme(rest).map(Self::Sqlite),
                Scheme::SqlCipher => SqliteUrl::parse_sqlcipher_scheme(rest).map(Self::Sqlite),
                Scheme::File => SqliteUrl::parse_file_scheme(rest).map(Self::Sqlite),
                Scheme::Postgres => PostgresUrl::parse_url(rest).map(Self::Postgres),
            },
            None if looks_like_key_value(s) => PostgresUrl::parse_key_value(s).map(Self::Postgres),
            None => Err(UrlError::unknown_dialect("")),
        }
    }
}

impl From<SqliteUrl> for ConnectionUrl {
    fn from(url: SqliteUrl) -> Self {
        Self::Sqlite(url)
    }
}

impl From<PostgresUrl> for ConnectionUrl {
    fn from(url: PostgresUrl) -> Self {
        Self::Postgres(url)
    }
}

impl fmt::Display for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for ConnectionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConnectionUrl")
            .field(&self.redacted())
            .finish()
    }
}

/// What a url scheme (driver suffix removed) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `sqlite:` or `sqlite+driver:`.
    Sqlite,
    /// `sqlite+pysqlcipher:` (SQLCipher, SQLAlchemy's spelling).
    SqlCipher,
    /// `file:` (a SQLite URI).
    File,
    /// `postgres:`, `postgresql:`, with or without a driver.
    Postgres,
}

impl Scheme {
    pub(crate) fn dialect(self) -> Dialect {
        match self {
            Self::Sqlite | Self::SqlCipher | Self::File => Dialect::Sqlite,
            Self::Postgres => Dialect::Postgres,
        }
    }
}

/// Trims surrounding ASCII whitespace; an empty result is [`UrlError::Empty`].
pub(crate) fn trim(s: &str) -> Result<&str, UrlError> {
    let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
    if s.is_empty() {
        Err(UrlError::Empty)
    } else {
        Ok(s)
    }
}

/// Splits `scheme:rest` when `s` starts with an RFC 3986 scheme
/// (`[A-Za-z][A-Za-z0-9+.-]*`) followed by `:`.
pub(crate) fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// Which dialect a scheme names; checks the driver suffix.
pub(crate) fn classify(scheme: &str) -> Result<Scheme, UrlError> {
    let lower = scheme.to_ascii_lowercase();
    let (base, driver) = match lower.split_once('+') {
        Some((base, driver)) => (base, Some(driver)),
        None => (lower.as_str(), None),
    };
    let kind = match (base, driver) {
        ("sqlite", Some("pysqlcipher")) => Scheme::SqlCipher,
        ("sqlite", _) => Scheme::Sqlite,
        ("file", None) => Scheme::File,
        ("postgres" | "postgresql", _) => Scheme::Postgres,
        _ => return Err(UrlError::unknown_dialect(&lower)),
    };
    if let Some(driver) = driver {
        let valid = !driver.is_empty()
            && driver
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(UrlError::invalid_driver(kind.dialect(), driver));
        }
        if kind == Scheme::Sqlite && !SQLITE_DRIVERS.contains(&driver) {
            return Err(UrlError::unknown_driver(
                Dialect::Sqlite,
                driver,
                SQLITE_DRIVERS_EXPECTED,
            ));
        }
    }
    Ok(kind)
}

/// The `sqlite+driver` suffixes accepted: SQLAlchemy's plain SQLite drivers (dropped) and
/// `pysqlcipher` (SQLCipher encryption, `sqlite+pysqlcipher://:KEY@/file.db`, which needs the
/// `sqlcipher` feature to open). Anything else is refused rather than guessed at.
pub const SQLITE_DRIVERS: &[&str] = &["aiosqlite", "pysqlite", "pysqlcipher"];

pub(crate) const SQLITE_DRIVERS_EXPECTED: &str = "aiosqlite, pysqlite or pysqlcipher, or none";

/// Whether `s` (no scheme) starts like a libpq key=value string: an
/// identifier, optional whitespace and `=`, or a bare `=`.
pub(crate) fn looks_like_key_value(s: &str) -> bool {
    let key_len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let (key, rest) = s.split_at_checked(key_len).unwrap_or((s, ""));
    let key_ok = key.is_empty() || key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    key_ok && rest.trim_start_matches(libpq::is_space).starts_with('=')
}
