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

/// Where a SQLite database lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SqliteLocation {
    /// An in-memory database, optionally named (`file:name?mode=memory`).
    Memory {
        /// The name given in the url, if any.
        name: Option<String>,
    },
    /// An on-disk file, relative or absolute as written.
    File(PathBuf),
}

/// The SQLite URI `mode` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenMode {
    /// `ro`: read-only.
    ReadOnly,
    /// `rw`: read-write, the file must exist.
    ReadWrite,
    /// `rwc`: read-write, created if missing.
    ReadWriteCreate,
    /// `memory`: a pure in-memory database.
    Memory,
}

impl OpenMode {
    /// The parameter value: `"ro"`, `"rw"`, `"rwc"` or `"memory"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ReadOnly => "ro",
            Self::ReadWrite => "rw",
            Self::ReadWriteCreate => "rwc",
            Self::Memory => "memory",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "ro" => Some(Self::ReadOnly),
            "rw" => Some(Self::ReadWrite),
            "rwc" => Some(Self::ReadWriteCreate),
            "memory" => Some(Self::Memory),
            _ => None,
        }
    }
}

impl fmt::Display for OpenMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The SQLite URI `cache` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheMode {
    /// `shared`: connections share one cache (and one in-memory database).
    Shared,
    /// `private`: each connection has its own cache.
    Private,
}

impl CacheMode {
    /// The parameter value: `"shared"` or `"private"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Shared => "shared",
            Self::Private => "private",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "shared" => Some(Self::Shared),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

impl fmt::Display for CacheMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed SQLite url. SQLite urls hold no secrets, so `Debug` is derived.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SqliteUrl {
    location: SqliteLocation,
    mode: Option<OpenMode>,
    cache: Option<CacheMode>,
    vfs: Option<String>,
    immutable: bool,
    uri: bool,
    timeout: Option<Duration>,
    params: Vec<(String, String)>,
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

    /// The pysqlite `timeout` parameter (busy timeout, given in seconds).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Every query parameter, keys lowercase and values in canonical
    /// spelling (booleans `true`/`false`), in input order.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The canonical url: `sqlite://` for an unnamed in-memory database,
    /// else `sqlite:///<relative>` or `sqlite:////<absolute>`, then the
    /// parameters. Parsing it gives back an equal value.
    pub fn to_url(&self) -> String {
        let path = match &self.location {
            SqliteLocation::Memory { name: None } => None,
            SqliteLocation::Memory { name: Some(name) } => Some(name.clone()),
            SqliteLocation::File(path) => Some(path.to_string_lossy().into_owned()),
        };
        let mut out = String::from("sqlite://");
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

    /// The same as [`to_url`](Self::to_url): SQLite urls hold no password.
    pub fn redacted(&self) -> String {
        self.to_url()
    }

    /// Parses what follows `sqlite:` (or `sqlite+driver:`).
    pub(crate) fn parse_sqlite_scheme(rest: &str) -> Result<Self, UrlError> {
        params::check_url_chars(rest)?;
        let (raw_path, query) = split_path_query(rest);
        let mut url = Self::with_params(query)?;
        let raw_path = match raw_path.strip_prefix("//") {
            Some(after) => after.strip_prefix('/').unwrap_or(after),
            None => raw_path,
        };
        let path = match raw_path.strip_prefix("file:") {
            Some(uri) if url.uri => file_uri_path(uri)?,
            _ => params::decode(raw_path, "path")?,
        };
        url.location = url.locate(path);
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
            params: Vec::new(),
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
        let normalized = match key.as_str() {
            "mode" => {
                let mode =
                    OpenMode::parse(&value).ok_or_else(|| bad("one of ro, rw, rwc, memory"))?;
                self.mode = Some(mode);
                mode.as_str().to_owned()
            }
            "cache" => {
                let cache =
                    CacheMode::parse(&value).ok_or_else(|| bad("one of shared, private"))?;
                self.cache = Some(cache);
                cache.as_str().to_owned()
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
                value
            }
            "immutable" | "nolock" | "psow" | "uri" | "check_same_thread" => {
                let flag = params::parse_bool(&value)
                    .ok_or_else(|| bad("a boolean: 0, 1, true, false, yes, no, on or off"))?;
                match key.as_str() {
                    "immutable" => self.immutable = flag,
                    "uri" => self.uri = flag,
                    _ => {}
                }
                flag.to_string()
            }
            "modeof" => {
                if value.is_empty() {
                    return Err(bad("a file path"));
                }
                value
            }
            "timeout" => {
                let seconds = value
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or_else(|| bad("a non-negative number of seconds"))?;
                self.timeout = Some(seconds);
                value
            }
            "isolation_level" => match value.to_ascii_uppercase().as_str() {
                level @ ("DEFERRED" | "IMMEDIATE" | "EXCLUSIVE" | "AUTOCOMMIT") => level.to_owned(),
                "NONE" => "none".to_owned(),
                _ => {
                    return Err(bad(
                        "one of DEFERRED, IMMEDIATE, EXCLUSIVE, AUTOCOMMIT, none",
                    ));
                }
            },
            "detect_types" => {
                let digits = value.strip_prefix(['-', '+']).unwrap_or(&value);
                if !params::is_digits(digits) || value.parse::<i64>().is_err() {
                    return Err(bad("an integer"));
                }
                value
            }
            "cached_statements" => {
                if !params::is_digits(&value) || value.parse::<u64>().is_err() {
                    return Err(bad("a non-negative integer"));
                }
                value
            }
            _ => return Err(UrlError::unknown_parameter(Dialect::Sqlite, &key)),
        };
        self.params.push((key, normalized));
        Ok(())
    }
}

/// Splits `path?query` at the first `?`.
fn split_path_query(rest: &str) -> (&str, Option<&str>) {
    match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    }
}

/// The decoded path of a SQLite URI, given what follows `file:` and
/// precedes `?`: `//` starts an authority that must be empty or `localhost`.
fn file_uri_path(raw: &str) -> Result<String, UrlError> {
    let Some(after) = raw.strip_prefix("//") else {
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
mod tests {
    use super::*;

    fn file(path: &str) -> SqliteLocation {
        SqliteLocation::File(PathBuf::from(path))
    }

    fn mem(name: Option<&str>) -> SqliteLocation {
        SqliteLocation::Memory {
            name: name.map(str::to_owned),
        }
    }

    /// What a successful parse is expected to give.
    struct Want {
        location: SqliteLocation,
        params: &'static [(&'static str, &'static str)],
        inmemory: bool,
        shared: Option<&'static str>,
    }

    fn ok(
        location: SqliteLocation,
        params: &'static [(&'static str, &'static str)],
        shared: Option<&'static str>,
    ) -> Result<Want, UrlError> {
        let inmemory = matches!(location, SqliteLocation::Memory { .. });
        Ok(Want {
            location,
            params,
            inmemory,
            shared,
        })
    }

    fn bad_value(key: &str, value: &str, expected: &'static str) -> Result<Want, UrlError> {
        Err(UrlError::InvalidParameter {
            key: key.into(),
            value: value.into(),
            expected,
        })
    }

    const BOOL: &str = "a boolean: 0, 1, true, false, yes, no, on or off";

    #[test]
    fn sqlite_forms() {
        let long = format!("sqlite:///{}", "a".repeat(100_000));
        let long_value = format!("sqlite:///a.db?mode={}", "x".repeat(100_000));
        let cases: Vec<(&str, Result<Want, UrlError>)> = vec![
            // SQLAlchemy style
            ("sqlite:///rel.db", ok(file("rel.db"), &[], None)),
            ("sqlite:////abs/x.db", ok(file("/abs/x.db"), &[], None)),
            ("sqlite+aiosqlite:///a.db", ok(file("a.db"), &[], None)),
            ("sqlite+pysqlite:////a.db", ok(file("/a.db"), &[], None)),
            ("SQLite+AioSqlite:///a.db", ok(file("a.db"), &[], None)),
            ("  sqlite:///a.db \n", ok(file("a.db"), &[], None)),
            ("sqlite://", ok(mem(None), &[], None)),
            ("sqlite:///", ok(mem(None), &[], None)),
            ("sqlite:///:memory:", ok(mem(None), &[], None)),
            (
                "sqlite:///file:name?mode=memory&cache=shared&uri=true",
                ok(
                    mem(Some("name")),
                    &[("mode", "memory"), ("cache", "shared"), ("uri", "true")],
                    Some("name"),
                ),
            ),
            (
                "sqlite:///file:x.db?uri=false",
                ok(file("file:x.db"), &[("uri", "false")], None),
            ),
            ("sqlite:///file:x.db", ok(file("file:x.db"), &[], None)),
            (
                "sqlite:///file://localhost/abs/x.db?uri=1",
                ok(file("/abs/x.db"), &[("uri", "true")], None),
            ),
            // sqlx style
            ("sqlite::memory:", ok(mem(None), &[], None)),
            ("sqlite:", ok(mem(None), &[], None)),
            ("sqlite:data.db", ok(file("data.db"), &[], None)),
            ("sqlite:/abs.db", ok(file("/abs.db"), &[], None)),
            (
                "sqlite://data.db?mode=rwc",
                ok(file("data.db"), &[("mode", "rwc")], None),
            ),
            (
                "sqlite::memory:?cache=shared",
                ok(mem(None), &[("cache", "shared")], None),
            ),
            // plain SQLite URIs
            ("file:data.db", ok(file("data.db"), &[], None)),
            ("file:/abs/data.db", ok(file("/abs/data.db"), &[], None)),
            ("file:///abs/data.db", ok(file("/abs/data.db"), &[], None)),
            (
                "FILE://LocalHost/abs/data.db",
                ok(file("/abs/data.db"), &[], None),
            ),
            ("file::memory:", ok(mem(None), &[], None)),
            ("file:", ok(mem(None), &[], None)),
            (
                "file::memory:?cache=shared",
                ok(mem(None), &[("cache", "shared")], None),
            ),
            (
                "file:/name?vfs=memdb",
                ok(mem(Some("/name")), &[("vfs", "memdb")], Some("/name")),
            ),
            (
                "file:x?mode=memory",
                ok(mem(Some("x")), &[("mode", "memory")], None),
            ),
            (
                "file:x?mode=memory&cache=private",
                ok(
                    mem(Some("x")),
                    &[("mode", "memory"), ("cache", "private")],
                    None,
                ),
            ),
            (
                "sqlite:///a.db?mode=memory",
                ok(mem(Some("a.db")), &[("mode", "memory")], None),
            ),
            // paths
            ("sqlite:///my%20db.db", ok(file("my db.db"), &[], None)),
            (
                "sqlite:///a%3Fb%23c%25.db",
                ok(file("a?b#c%.db"), &[], None),
            ),
            ("sqlite:///my db.db", ok(file("my db.db"), &[], None)),
            (
                "sqlite:///données/δ.db",
                ok(file("données/δ.db"), &[], None),
            ),
            ("sqlite:///%0Aline", ok(file("\nline"), &[], None)),
            ("sqlite:///%3Amemory%3A", ok(mem(None), &[], None)),
            (
                "sqlite:////data/:memory:x/a.db",
                ok(file("/data/:memory:x/a.db"), &[], None),
            ),
            ("sqlite:///x:memory:", ok(file("x:memory:"), &[], None)),
            ("sqlite:///a.db?", ok(file("a.db"), &[], None)),
            ("sqlite:///a.db?&&", ok(file("a.db"), &[], None)),
            (long.as_str(), ok(file(&"a".repeat(100_000)), &[], None)),
            // parameters
            (
                "sqlite:///a.db?MODE=RO&Cache=Shared&vfs=unix-dotfile",
                ok(
                    file("a.db"),
                    &[("mode", "ro"), ("cache", "shared"), ("vfs", "unix-dotfile")],
                    None,
                ),
            ),
            (
                "sqlite:///a.db?immutable=1&nolock=YES&psow=off&check_same_thread=false",
                ok(
                    file("a.db"),
                    &[
                        ("immutable", "true"),
                        ("nolock", "true"),
                        ("psow", "false"),
                        ("check_same_thread", "false"),
                    ],
                    None,
                ),
            ),
            (
                "sqlite:///a.db?timeout=2.5&isolation_level=immediate&detect_types=-3&cached_statements=0",
                ok(
                    file("a.db"),
                    &[
                        ("timeout", "2.5"),
                        ("isolation_level", "IMMEDIATE"),
                        ("detect_types", "-3"),
                        ("cached_statements", "0"),
                    ],
                    None,
                ),
            ),
            (
                "sqlite:///a.db?isolation_level=None&modeof=%2Fetc%2Fx%26y",
                ok(
                    file("a.db"),
                    &[("isolation_level", "none"), ("modeof", "/etc/x&y")],
                    None,
                ),
            ),
            // errors
            (
                "sqlite+:///a.db",
                Err(UrlError::invalid_driver(Dialect::Sqlite, "")),
            ),
            (
                "sqlite+aio-sqlite:///a.db",
                Err(UrlError::invalid_driver(Dialect::Sqlite, "aio-sqlite")),
            ),
            ("file+x:a.db", Err(UrlError::unknown_dialect("file+x"))),
            ("sqlite3:///x", Err(UrlError::unknown_dialect("sqlite3"))),
            ("/tmp/x.db", Err(UrlError::unknown_dialect(""))),
            ("", Err(UrlError::Empty)),
            (
                "postgresql://h/db",
                Err(UrlError::malformed(
                    "scheme",
                    "expected a sqlite url, found a postgresql url",
                )),
            ),
            ("sqlite:///%00", Err(UrlError::NulByte { part: "path" })),
            ("sqlite:///a\0b", Err(UrlError::NulByte { part: "url" })),
            (
                "sqlite:///a\tb",
                Err(UrlError::malformed(
                    "url",
                    "raw control character (percent-encode it)",
                )),
            ),
            (
                "sqlite:///%",
                Err(UrlError::InvalidPercentEncoding { part: "path" }),
            ),
            (
                "sqlite:///%zz",
                Err(UrlError::InvalidPercentEncoding { part: "path" }),
            ),
            (
                "sqlite:///%4",
                Err(UrlError::InvalidPercentEncoding { part: "path" }),
            ),
            (
                "sqlite:///%C3%28",
                Err(UrlError::InvalidPercentEncoding { part: "path" }),
            ),
            (
                "sqlite:///a.db#frag",
                Err(UrlError::malformed(
                    "fragment",
                    "'#' fragments are not supported (percent-encode '#' as %23)",
                )),
            ),
            (
                "file://host/abs.db",
                Err(UrlError::malformed(
                    "authority",
                    "a file: uri authority must be empty or \"localhost\"",
                )),
            ),
            (
                "sqlite:///file://host/x?uri=true",
                Err(UrlError::malformed(
                    "authority",
                    "a file: uri authority must be empty or \"localhost\"",
                )),
            ),
            (
                "sqlite:///a.db?foo=1",
                Err(UrlError::unknown_parameter(Dialect::Sqlite, "foo")),
            ),
            (
                "sqlite:///a.db?mode=ro&MODE=rw",
                Err(UrlError::duplicate("mode")),
            ),
            (
                "sqlite:///a.db?timeout=1&timeout=x",
                Err(UrlError::duplicate("timeout")),
            ),
            (
                "sqlite:///a.db?mode=rx",
                bad_value("mode", "rx", "one of ro, rw, rwc, memory"),
            ),
            (
                "sqlite:///a.db?cache=",
                bad_value("cache", "", "one of shared, private"),
            ),
            (
                "sqlite:///a.db?vfs=a/b",
                bad_value(
                    "vfs",
                    "a/b",
                    "a vfs name made of letters, digits, '_' or '-'",
                ),
            ),
            (
                "sqlite:///a.db?immutable=2",
                bad_value("immutable", "2", BOOL),
            ),
            (
                "sqlite:///a.db?timeout=-1",
                bad_value("timeout", "-1", "a non-negative number of seconds"),
            ),
            (
                "sqlite:///a.db?timeout=NaN",
                bad_value("timeout", "NaN", "a non-negative number of seconds"),
            ),
            (
                "sqlite:///a.db?timeout=1e300",
                bad_value("timeout", "1e300", "a non-negative number of seconds"),
            ),
            (
                "sqlite:///a.db?isolation_level=serial",
                bad_value(
                    "isolation_level",
                    "serial",
                    "one of DEFERRED, IMMEDIATE, EXCLUSIVE, AUTOCOMMIT, none",
                ),
            ),
            (
                "sqlite:///a.db?detect_types=1.5",
                bad_value("detect_types", "1.5", "an integer"),
            ),
            (
                "sqlite:///a.db?cached_statements=-1",
                bad_value("cached_statements", "-1", "a non-negative integer"),
            ),
            (
                "sqlite:///a.db?modeof=",
                bad_value("modeof", "", "a file path"),
            ),
            (
                "sqlite:///a.db?mode",
                Err(UrlError::malformed(
                    "query",
                    "a parameter has no '=' (expected key=value)",
                )),
            ),
            (
                "sqlite:///a.db?=ro",
                Err(UrlError::malformed("query", "a parameter has an empty key")),
            ),
            (
                "sqlite:///a.db?mode=%",
                Err(UrlError::InvalidPercentEncoding { part: "query" }),
            ),
            (
                "sqlite:///a.db?mode=r%00",
                Err(UrlError::NulByte { part: "query" }),
            ),
            (
                long_value.as_str(),
                bad_value("mode", &"x".repeat(64), "one of ro, rw, rwc, memory"),
            ),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }

    #[test]
    fn accessors() {
        let url: SqliteUrl = "sqlite:////tmp/a.db?mode=ro&immutable=on&timeout=1.5&vfs=unix"
            .parse()
            .expect("valid");
        assert_eq!(url.path(), Some(Path::new("/tmp/a.db")));
        assert_eq!(url.mode(), Some(OpenMode::ReadOnly));
        assert_eq!(url.cache(), None);
        assert_eq!(url.vfs(), Some("unix"));
        assert!(url.immutable());
        assert_eq!(url.timeout(), Some(Duration::from_millis(1500)));
        assert_eq!(url.memory_name(), None);
        assert_eq!(
            url.to_url(),
            "sqlite:////tmp/a.db?mode=ro&immutable=true&timeout=1.5&vfs=unix"
        );
        assert_eq!(url.to_string(), url.to_url());
        let memory: SqliteUrl = "sqlite://".parse().expect("valid");
        assert_eq!(memory.to_url(), "sqlite://");
        assert_eq!(memory.path(), None);
        let named: SqliteUrl = "file:/x%3Fy?vfs=memdb".parse().expect("valid");
        assert_eq!(named.to_url(), "sqlite:////x%3Fy?vfs=memdb");
        let tricky: SqliteUrl = "sqlite:///file:file:x?uri=true".parse().expect("valid");
        assert_eq!(tricky.path(), Some(Path::new("file:x")));
        assert_eq!(tricky.to_url(), "sqlite:///file%3Ax?uri=true");
    }

    fn check(input: &str, expected: Result<Want, UrlError>) {
        let got = input.parse::<SqliteUrl>();
        match (got, expected) {
            (Ok(url), Ok(want)) => {
                assert_eq!(url.location(), &want.location, "{input}");
                let params: Vec<(String, String)> = want
                    .params
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect();
                assert_eq!(url.params(), params.as_slice(), "{input}");
                assert_eq!(url.is_inmemory(), want.inmemory, "{input}");
                assert_eq!(url.shared_memory_name(), want.shared, "{input}");
                let again = url.to_url().parse::<SqliteUrl>();
                assert_eq!(again.as_ref(), Ok(&url), "{input} -> {}", url.to_url());
            }
            (got, expected) => {
                assert_eq!(got.err(), expected.err(), "{input}");
            }
        }
    }
}
