//! SQLite urls: SQLAlchemy (`sqlite:///x.db`), sqlx (`sqlite:x.db`) and
//! plain SQLite URIs (`file:x.db`). See the [module docs](super) for the
//! accepted forms.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use super::error::UrlError;
use super::params::{self, PATH, QUERY_VALUE};
use super::{Dialect, Scheme};

mod key;
mod modes;

pub use key::SqliteKey;
pub use modes::{CacheMode, OpenMode, SqliteLocation};

/// A parsed SQLite url. The only secret one can hold is a SQLCipher key
/// (`sqlite+pysqlcipher://:KEY@/file.db`), whose own `Debug` prints `***`, so `Debug` is
/// derived; [`redacted`](Self::redacted) and `Display` print `:***@`. Any other user info is
/// refused.
///
/// Python sqlite3's parameters: `timeout` (seconds) and `cached_statements` are honoured by an
/// engine built from the url (lock wait and statement cache capacity, in place of the settings);
/// `uri` and `check_same_thread` are accepted and have no effect; `isolation_level` and
/// `detect_types` are refused ([`UrlError::UnsupportedParameter`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SqliteUrl {
    location: SqliteLocation,
    mode: Option<OpenMode>,
    cache: Option<CacheMode>,
    vfs: Option<String>,
    immutable: bool,
    uri: bool,
    timeout: Option<Duration>,
    cached_statements: Option<u32>,
    params: Vec<(String, String)>,
    /// The subset of `params` that SQLite's own URI takes, decided by the `match` in `apply`.
    uri_params: Vec<(String, String)>,
    /// Written `sqlite+pysqlcipher:`.
    cipher: bool,
    /// The SQLCipher key of a `sqlite+pysqlcipher://:KEY@/…` url.
    key: Option<SqliteKey>,
}

impl SqliteUrl {
    /// Where the database lives.
    pub fn location(&self) -> &SqliteLocation {
        &self.location
    }

    /// The on-disk path, for file databases only.
    pub fn path(&self) -> Option<&Path> {
        match &self.location {
            SqliteLocation::File(path) => Some(path),
            SqliteLocation::Memory { .. } => None,
        }
    }

    /// Whether the database is in memory: an empty or `:memory:` path,
    /// `mode=memory` or `vfs=memdb`.
    pub fn is_inmemory(&self) -> bool {
        matches!(self.location, SqliteLocation::Memory { .. })
            || self.mode == Some(OpenMode::Memory)
            || self.vfs.as_deref() == Some("memdb")
    }

    /// The name of an in-memory database that other connections can open:
    /// in memory, named, and either `cache=shared` or `vfs=memdb`.
    pub fn shared_memory_name(&self) -> Option<&str> {
        let shared = self.cache == Some(CacheMode::Shared) || self.vfs.as_deref() == Some("memdb");
        if shared { self.memory_name() } else { None }
    }

    /// The name of an in-memory database, if the url gives one (shared or not).
    pub fn memory_name(&self) -> Option<&str> {
        match &self.location {
            SqliteLocation::Memory { name } => name.as_deref(),
            SqliteLocation::File(_) => None,
        }
    }

    /// The `mode` parameter.
    pub fn mode(&self) -> Option<OpenMode> {
        self.mode
    }

    /// The `cache` parameter.
    pub fn cache(&self) -> Option<CacheMode> {
        self.cache
    }

    /// The `vfs` parameter.
    pub fn vfs(&self) -> Option<&str> {
        self.vfs.as_deref()
    }

    /// The `immutable` parameter (`false` when absent).
    pub fn immutable(&self) -> bool {
        self.immutable
    }

    /// The pysqlite `timeout` parameter (given in seconds): how long a statement waits for a
    /// lock held by another connection. An engine built from this url uses it as the connection's
    /// busy timeout, in place of `settings.sqlite.busy_timeout` and
    /// `settings.sqlite.setup_busy_timeout`.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The pysqlite `cached_statements` parameter: an engine built from this url uses it as each
    /// connection's prepared-statement cache capacity, in place of
    /// `Settings::statement_cache_size`.
    pub fn cached_statements(&self) -> Option<u32> {
        self.cached_statements
    }

    /// Whether the url was written `sqlite+pysqlcipher:` (a SQLCipher database; opening it
    /// needs the `sqlcipher` feature).
    pub fn is_sqlcipher(&self) -> bool {
        self.cipher
    }

    /// The SQLCipher key the url holds (`sqlite+pysqlcipher://:KEY@/file.db`).
    pub fn key(&self) -> Option<&SqliteKey> {
        self.key.as_ref()
    }

    /// Every query parameter, keys lowercase and values in canonical
    /// spelling (booleans `true`/`false`), in input order.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The parameters of SQLite's own URI (`mode`, `cache`, `vfs`, `immutable`, `nolock`,
    /// `psow`, `modeof`), in input order: Python sqlite3's (`timeout`, `cached_statements`,
    /// `uri`, `check_same_thread`) are left out, dbconfig applies them itself.
    pub fn uri_params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.uri_params
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// The canonical url: `sqlite://` for an unnamed in-memory database,
    /// else `sqlite:///<relative>` or `sqlite:////<absolute>`, then the
    /// parameters. Parsing it gives back an equal value.
    pub fn to_url(&self) -> String {
        let key = self
            .key
            .as_ref()
            .map(|k| params::encode(k.expose(), params::COMPONENT));
        self.write(key.as_deref())
    }

    /// The url with the key, if any, written `***`.
    pub fn redacted(&self) -> String {
        self.write(self.key.as_ref().map(|_| "***"))
    }

    /// The url with `key` (already percent-encoded) as its user info.
    fn write(&self, key: Option<&str>) -> String {
        let path = match &self.location {
            SqliteLocation::Memory { name: None } => None,
            SqliteLocation::Memory { name: Some(name) } => Some(name.clone()),
            SqliteLocation::File(path) => Some(path.to_string_lossy().into_owned()),
        };
        let mut out = String::from(if self.cipher {
            "sqlite+pysqlcipher://"
        } else {
            "sqlite://"
        });
        if let Some(key) = key {
            out.push(':');
            out.push_str(key);
            out.push('@');
        }
        if let Some(path) = path {
            out.push('/');
            let encoded = params::encode(&path, PATH);
            // With `uri=true` a path starting with `file:` would be read as a
            // SQLite URI: hide the colon.
            match encoded.strip_prefix("file:") {
                Some(rest) => {
                    out.push_str("file%3A");
                    out.push_str(rest);
                }
                None => out.push_str(&encoded),
            }
        }
        for (i, (key, value)) in self.params.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(key);
            out.push('=');
            out.push_str(&params::encode(value, QUERY_VALUE));
        }
        out
    }

    /// Parses what follows `sqlite:` (or `sqlite+driver:`).
    pub(crate) fn parse_sqlite_scheme(rest: &str) -> Result<Self, UrlError> {
        params::check_url_chars(rest)?;
        let (raw_path, query) = split_path_query(rest);
        let mut url = Self::with_params(query)?;
        let raw_path = match raw_path.strip_prefix("//") {
            Some(after) => match after.strip_prefix('/') {
                Some(path) => path,
                None => sqlx_path(after)?,
            },
            None => raw_path,
        };
        refuse_userinfo(raw_path)?;
        let path = match raw_path.strip_prefix("file:") {
            Some(uri) if url.uri => file_uri_path(uri)?,
            _ => params::decode(raw_path, "path")?,
        };
        url.location = url.locate(path);
        Ok(url)
    }

    /// Parses what follows `sqlite+pysqlcipher:`: SQLAlchemy's `//:KEY@/rel.db`,
    /// `//:KEY@//abs.db`, or any plain SQLite form without a key (given in the settings then).
    pub(crate) fn parse_sqlcipher_scheme(rest: &str) -> Result<Self, UrlError> {
        let (mut url, key) = match rest.strip_prefix("//") {
            Some(after) => {
                let authority = after.split(['/', '?']).next().unwrap_or("");
                match authority.rfind('@') {
                    Some(at) => {
                        let userinfo = &authority[..at];
                        let Some(raw_key) = userinfo.strip_prefix(':') else {
                            return Err(UrlError::malformed(
                                "userinfo",
                                "a sqlite+pysqlcipher url takes only a key, no user name: \
                                 sqlite+pysqlcipher://:KEY@/file.db",
                            ));
                        };
                        let key = params::decode(raw_key, "key")?;
                        let key = SqliteKey::new(key).map_err(|_| {
                            UrlError::malformed("key", "the key is empty; leave out ':@' for none")
                        })?;
                        let path = format!("//{}", &after[at + 1..]);
                        (Self::parse_sqlite_scheme(&path)?, Some(key))
                    }
                    None => (Self::parse_sqlite_scheme(rest)?, None),
                }
            }
            None => (Self::parse_sqlite_scheme(rest)?, None),
        };
        url.cipher = true;
        url.key = key;
        Ok(url)
    }

    /// Parses what follows `file:` (a SQLite URI).
    pub(crate) fn parse_file_scheme(rest: &str) -> Result<Self, UrlError> {
        params::check_url_chars(rest)?;
        let (raw_path, query) = split_path_query(rest);
        let mut url = Self::with_params(query)?;
        let path = file_uri_path(raw_path)?;
        url.location = url.locate(path);
        Ok(url)
    }

    fn locate(&self, path: String) -> SqliteLocation {
        let memory = self.mode == Some(OpenMode::Memory) || self.vfs.as_deref() == Some("memdb");
        if path.is_empty() || path == ":memory:" {
            SqliteLocation::Memory { name: None }
        } else if memory {
            SqliteLocation::Memory { name: Some(path) }
        } else {
            SqliteLocation::File(PathBuf::from(path))
        }
    }

    fn with_params(query: Option<&str>) -> Result<Self, UrlError> {
        let mut url = Self {
            location: SqliteLocation::Memory { name: None },
            mode: None,
            cache: None,
            vfs: None,
            immutable: false,
            uri: false,
            timeout: None,
            cached_statements: None,
            params: Vec::new(),
            uri_params: Vec::new(),
            cipher: false,
            key: None,
        };
        for (key, raw) in params::split_query(query.unwrap_or(""))? {
            let value = params::decode(raw, "query")?;
            url.apply(key, value)?;
        }
        Ok(url)
    }

    fn apply(&mut self, key: String, value: String) -> Result<(), UrlError> {
        if self.params.iter().any(|(seen, _)| *seen == key) {
            return Err(UrlError::duplicate(&key));
        }
        let bad = |expected| UrlError::invalid(&key, &value, expected);
        // Each arm says what the value is and whether SQLite's URI takes it (`true`) or
        // dbconfig applies it itself, as Python's sqlite3 does (`false`).
        let (normalized, to_uri) = match key.as_str() {
            "mode" => {
                let mode =
                    OpenMode::parse(&value).ok_or_else(|| bad("one of ro, rw, rwc, memory"))?;
                self.mode = Some(mode);
                (mode.as_str().to_owned(), true)
            }
            "cache" => {
                let cache =
                    CacheMode::parse(&value).ok_or_else(|| bad("one of shared, private"))?;
                self.cache = Some(cache);
                (cache.as_str().to_owned(), true)
            }
            "vfs" => {
                let valid = !value.is_empty()
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !valid {
                    return Err(bad("a vfs name made of letters, digits, '_' or '-'"));
                }
                self.vfs = Some(value.clone());
                (value, true)
            }
            "immutable" | "nolock" | "psow" | "uri" | "check_same_thread" => {
                let flag = params::parse_bool(&value)
                    .ok_or_else(|| bad("a boolean: 0, 1, true, false, yes, no, on or off"))?;
                let to_uri = match key.as_str() {
                    "immutable" => {
                        self.immutable = flag;
                        true
                    }
                    "nolock" | "psow" => true,
                    "uri" => {
                        self.uri = flag;
                        false
                    }
                    _ => false,
                };
                (flag.to_string(), to_uri)
            }
            "modeof" => {
                if value.is_empty() {
                    return Err(bad("a file path"));
                }
                (value, true)
            }
            "timeout" => {
                let seconds = value
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    // SQLite takes the busy timeout as an `int` of milliseconds.
                    .filter(|d| d.as_millis() <= i32::MAX as u128)
                    .ok_or_else(|| bad(TIMEOUT_RANGE))?;
                self.timeout = Some(seconds);
                (value, false)
            }
            "cached_statements" => {
                let capacity = Some(&value)
                    .filter(|v| params::is_digits(v))
                    .and_then(|v| v.parse::<u32>().ok())
                    .ok_or_else(|| bad("an integer from 0 to 4294967295"))?;
                self.cached_statements = Some(capacity);
                (value, false)
            }
            "isolation_level" => {
                return Err(UrlError::unsupported(
                    Dialect::Sqlite,
                    &key,
                    ISOLATION_LEVEL_UNSUPPORTED,
                ));
            }
            "detect_types" => {
                return Err(UrlError::unsupported(
                    Dialect::Sqlite,
                    &key,
                    DETECT_TYPES_UNSUPPORTED,
                ));
            }
            _ => return Err(UrlError::unknown_parameter(Dialect::Sqlite, &key)),
        };
        if to_uri {
            self.uri_params.push((key.clone(), normalized.clone()));
        }
        self.params.push((key, normalized));
        Ok(())
    }
}

/// Why pysqlite's `isolation_level` is refused.
const ISOLATION_LEVEL_UNSUPPORTED: &str = "dbconfig runs transactions itself (autocommit \
     outside them, BEGIN IMMEDIATE or DEFERRED from begin_transaction); remove it";
/// Why pysqlite's `detect_types` is refused.
const DETECT_TYPES_UNSUPPORTED: &str = "values are converted by rusqlite's FromSql and ToSql, \
     not by pysqlite's type detection; remove it";
/// What the `timeout` parameter accepts.
const TIMEOUT_RANGE: &str = "a number of seconds from 0 to 2147483.647";

/// Splits `path?query` at the first `?`.
fn split_path_query(rest: &str) -> (&str, Option<&str>) {
    match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    }
}

/// What follows `sqlite://` when it does not start with `/`: an authority in url grammar. Only
/// sqlx's single relative segment (`sqlite://data.db`) is accepted; user info (any `@`) and a
/// host followed by a path (`sqlite://host/x.db`) are refused, as SQLAlchemy does. Nothing of the
/// input is echoed: it may hold a password.
fn sqlx_path(after: &str) -> Result<&str, UrlError> {
    let authority = after.split('/').next().unwrap_or(after);
    if authority.contains('@') {
        return Err(userinfo_error());
    }
    if after.len() > authority.len() {
        return Err(UrlError::malformed(
            "host",
            "a sqlite url names no host (SQLite opens local files): write \
             sqlite:///relative/path.db or sqlite:////absolute/path.db",
        ));
    }
    Ok(after)
}

/// Refuses a path with a segment that looks like `user:password@…`, the user info of a url
/// written without `//` (`sqlite:user:pw@host/x.db`, `file:user:pw@x.db`,
/// `sqlite:///file://user:pw@host/x.db`). A plain `@` (`file:a@b.db`) is a file name; a segment
/// with a `:` and, after it, an `@` must percent-encode one of them (`%3A`, `%40`).
fn refuse_userinfo(raw_path: &str) -> Result<(), UrlError> {
    let looks_like_userinfo = |segment: &str| {
        segment
            .find(':')
            .is_some_and(|colon| segment.get(colon..).is_some_and(|tail| tail.contains('@')))
    };
    if raw_path.split('/').any(looks_like_userinfo) {
        return Err(userinfo_error());
    }
    Ok(())
}

fn userinfo_error() -> UrlError {
    UrlError::malformed(
        "userinfo",
        "a sqlite url takes no user name or password (SQLite has no login; a SQLCipher key is \
         written sqlite+pysqlcipher://:KEY@/file.db); percent-encode '@' as %40 in a file name",
    )
}

/// The decoded path of a SQLite URI, given what follows `file:` and
/// precedes `?`: `//` starts an authority that must be empty or `localhost`.
fn file_uri_path(raw: &str) -> Result<String, UrlError> {
    let Some(after) = raw.strip_prefix("//") else {
        refuse_userinfo(raw)?;
        return params::decode(raw, "path");
    };
    let (authority, path) = match after.find('/') {
        Some(slash) => after.split_at_checked(slash).unwrap_or((after, "")),
        None => (after, ""),
    };
    if !(authority.is_empty() || authority.eq_ignore_ascii_case("localhost")) {
        return Err(UrlError::malformed(
            "authority",
            "a file: uri authority must be empty or \"localhost\"",
        ));
    }
    params::decode(path, "path")
}

impl FromStr for SqliteUrl {
    type Err = UrlError;

    /// Parses a `sqlite:` or `file:` url; other schemes are errors.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = super::trim(s)?;
        let Some((scheme, rest)) = super::split_scheme(s) else {
            return Err(UrlError::unknown_dialect(""));
        };
        match super::classify(scheme)? {
            Scheme::Sqlite => Self::parse_sqlite_scheme(rest),
            Scheme::SqlCipher => Self::parse_sqlcipher_scheme(rest),
            Scheme::File => Self::parse_file_scheme(rest),
            Scheme::Postgres => Err(UrlError::malformed(
                "scheme",
                "expected a sqlite url, found a postgresql url",
            )),
        }
    }
}

impl fmt::Display for SqliteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests;
