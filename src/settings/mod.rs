//! [`Settings`]: every knob of the original in one plain struct.
//!
//! Defaults equal the original's (Prefect's `server.database.*` settings). Unlike the original,
//! an explicit `0`, `false` or `""` is kept: a value falls back to its default only when it is
//! absent.

mod env;
mod pragma_names;
mod pragmas;
mod ranges;
pub(crate) mod value;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use env::{ENV_VARS, EnvVar};
pub use pragmas::{JournalMode, SqlitePragmas, Synchronous};
pub use ranges::{CONNECTION_TIMEOUT_MIN, DURATION_MAX, MAX_OVERFLOW_MAX, POOL_SIZE_MAX};

use crate::url::{ConnectionUrl, UrlError};

/// How `max_overflow = -1` ("no overflow limit", as in SQLAlchemy) is capped.
pub const UNLIMITED_OVERFLOW_CAP: u32 = 1024;

/// Database settings. Build with `Settings { field: …, ..Settings::default() }` or
/// [`Settings::from_env`]; `new()`/`default()` never read the environment.
///
/// With the `serde` feature, serialising writes the connection URL's password as `***`;
/// serialise `settings.with_secrets()` to keep it. Deserialising a URL whose password is
/// `***` is an error, so a redacted copy is never used as if it held the password.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct Settings {
    /// The database to use. Defaults to none: a config built from settings without a URL fails
    /// with [`crate::Error::MissingUrl`].
    #[cfg_attr(feature = "serde", serde(with = "serde_url"))]
    pub connection_url: Option<ConnectionUrl>,
    /// Log every statement and its duration through `tracing` (target `dbconfig::sql`, level
    /// INFO), never parameter values. PostgreSQL: the statements dbconfig issues itself (BEGIN,
    /// COMMIT, ROLLBACK, ping); tokio-postgres has no hook for the queries you run on its client.
    /// Defaults to `false`.
    pub echo: bool,
    /// Statement timeout. PostgreSQL: server-side `statement_timeout`. SQLite: the lock wait
    /// used while a new connection is being set up (before `busy_timeout` is applied), as the
    /// original's `sqlite3.connect(timeout=…)`. `None` = no limit; `Some(0)`: PostgreSQL turns
    /// `statement_timeout` off, SQLite does not wait for locks while setting up. Allowed: `None`
    /// or 0 to [`DURATION_MAX`] (2147483647 ms, about 24.8 days, PostgreSQL's and SQLite's
    /// limit). Defaults to 10 s.
    /// <https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT>
    ///
    /// PostgreSQL: each round trip of dbconfig's own (BEGIN, COMMIT, ping, each statement of
    /// `create_db` / `drop_db`, each query of `verify_db`) also waits at most `timeout +
    /// connection_timeout` for its answer, because a network that goes silent never delivers
    /// the server's; with `None` or 0, 300 s stands in for `timeout` there.
    #[cfg_attr(feature = "serde", serde(with = "serde_opt_secs"))]
    pub timeout: Option<Duration>,
    /// Time limit for opening one new connection, TLS and authentication included. `None` = no
    /// limit of its own (PostgreSQL connects are then bounded by `max(pool_timeout, 30 s)`).
    /// Allowed: `None` or [`CONNECTION_TIMEOUT_MIN`] (1 ms) to [`DURATION_MAX`]; `0` is refused,
    /// as it would fail every connect (libpq reads `connect_timeout=0` as "no limit": use `None`
    /// for that). Defaults to 5 s.
    ///
    /// SQLite: the open's own lock waits are cut to the time left, so the open stops by then.
    /// PostgreSQL: also the network margin of a round trip (see `timeout`), the time a
    /// connection left busy by an abandoned statement has to show it is idle before it is
    /// cancelled and closed, and the limit of that cancel request.
    #[cfg_attr(feature = "serde", serde(with = "serde_opt_secs"))]
    pub connection_timeout: Option<Duration>,
    /// Connections kept open in the pool. `0` = no pooling: every session opens a fresh
    /// connection and closes it afterwards (for an external pooler). Allowed: 0 to
    /// [`POOL_SIZE_MAX`] (10000; the pool reserves a slot per connection up front). Defaults
    /// to 5.
    pub pool_size: u32,
    /// Extra connections allowed above `pool_size` under load; they are closed when returned
    /// idle. `-1` = no limit (capped at [`UNLIMITED_OVERFLOW_CAP`]). Allowed: -1 to
    /// [`MAX_OVERFLOW_MAX`] (10000). Defaults to 10.
    pub max_overflow: i32,
    /// Connections older than this are closed instead of reused. `None` = never. Allowed: `None`
    /// or 0 to [`DURATION_MAX`]. Defaults to 3600 s.
    #[cfg_attr(feature = "serde", serde(with = "serde_opt_secs"))]
    pub pool_recycle: Option<Duration>,
    /// PostgreSQL: check a pooled connection with a round trip before handing it out when it has
    /// been idle at least this long. Defaults to `Some(1 s)`, the policy of pgxpool (HikariCP
    /// skips its check within 500 ms): a connection that answered within the last second is
    /// handed out unchecked, which saves a round trip per transaction on a busy pool, while the
    /// connections the original's `pool_pre_ping` is there for (closed by the server, a proxy or
    /// a firewall while idle) are checked. A connection whose socket the server closed is never
    /// handed out, checked or not. What is left is a backend killed within the last second and
    /// not yet seen closed: its error reaches your first statement. `Some(0)` = check on every
    /// checkout, exactly the original's `pool_pre_ping=True`; `None` = never. Allowed: `None` or
    /// 0 to [`DURATION_MAX`].
    #[cfg_attr(feature = "serde", serde(with = "serde_opt_secs"))]
    pub pool_pre_ping: Option<Duration>,
    /// How long a session waits for a pooled connection. Always bounded; `0` = fail at once when
    /// none is free. Allowed: 0 to [`DURATION_MAX`]. Defaults to 30 s.
    #[cfg_attr(feature = "serde", serde(with = "serde_secs"))]
    pub pool_timeout: Duration,
    /// PostgreSQL `application_name`. Defaults to none.
    pub application_name: Option<String>,
    /// PostgreSQL `search_path`, e.g. `"myschema, public"`. Defaults to none.
    pub search_path: Option<String>,
    /// Statement cache size. PostgreSQL: statements kept by `prepare_cached` per connection
    /// (100 when none); `0` = none outlives its transaction (PgBouncer transaction mode, where
    /// the next transaction may run on another server connection). dbconfig's own statements
    /// use the simple protocol; outside a transaction behind PgBouncer, run yours with
    /// `query_typed` (unnamed) or `simple_query`. SQLite: capacity of each connection's
    /// prepared-statement cache (rusqlite's default, 16, when none). Defaults to none.
    pub statement_cache_size: Option<u32>,
    /// PostgreSQL prepared-statement cache size (`0` disables). Defaults to none.
    pub prepared_statement_cache_size: Option<u32>,
    /// PostgreSQL behind PgBouncer or another proxy that rejects startup parameters: nothing is
    /// sent in the startup `options`; `statement_timeout`, `search_path` and
    /// `default_transaction_isolation` are set with `set_config(…)` right after connecting
    /// instead (`application_name` stays a startup parameter, which PgBouncer forwards). For
    /// transaction pooling also set `statement_cache_size = 0`. Defaults to `false`.
    pub pgbouncer_mode: bool,
    /// PostgreSQL TLS. Defaults to off.
    pub tls: TlsSettings,
    /// SQLite: how long a statement waits on a lock held by another connection before failing
    /// with "database is locked" (`PRAGMA busy_timeout`). Also bounds the wait in the writer
    /// lane. Allowed: 0 to [`DURATION_MAX`] (2147483647 ms, SQLite's limit). Defaults to 60 s.
    /// <https://www.sqlite.org/pragma.html#pragma_busy_timeout>
    #[cfg_attr(feature = "serde", serde(with = "serde_secs"))]
    pub busy_timeout: Duration,
    /// SQLite PRAGMAs applied to every new connection.
    pub pragmas: SqlitePragmas,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connection_url: None,
            echo: false,
            timeout: Some(Duration::from_secs(10)),
            connection_timeout: Some(Duration::from_secs(5)),
            pool_size: 5,
            max_overflow: 10,
            pool_recycle: Some(Duration::from_secs(3600)),
            pool_timeout: Duration::from_secs(30),
            pool_pre_ping: Some(Duration::from_secs(1)),
            application_name: None,
            search_path: None,
            statement_cache_size: None,
            prepared_statement_cache_size: None,
            pgbouncer_mode: false,
            tls: TlsSettings::default(),
            busy_timeout: Duration::from_secs(60),
            pragmas: SqlitePragmas::default(),
        }
    }
}

impl Settings {
    /// The defaults; same as `Settings::default()`.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the connection URL.
    #[must_use]
    pub fn with_url(mut self, url: ConnectionUrl) -> Self {
        self.connection_url = Some(url);
        self
    }

    /// The most connections the pool may hold at once: `pool_size + max_overflow`, at least 1.
    #[must_use]
    pub fn max_connections(&self) -> usize {
        let overflow = match self.max_overflow {
            -1 => UNLIMITED_OVERFLOW_CAP,
            n => u32::try_from(n).unwrap_or(0),
        };
        (self.pool_size.saturating_add(overflow) as usize).max(1)
    }

    /// Checks values that a type cannot express. Every config constructor calls it.
    ///
    /// # Errors
    /// A value outside its field's allowed range (stated in the field's doc and in the error,
    /// which names the field), a client certificate without its key (or the reverse), an
    /// invalid extra PRAGMA.
    pub fn validate(&self) -> Result<(), SettingsError> {
        ranges::check_all(self)?;
        self.tls.validate()?;
        self.pragmas.validate()
    }

    /// Checks the range of one field (named as in [`EnvVar::field`]), for code that uses a
    /// value without knowing that `validate()` ran.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn check_range(&self, field: &str) -> Result<(), SettingsError> {
        ranges::check_field(self, field)
    }
}

/// PostgreSQL TLS settings. Verification of the server certificate is always on when TLS is
/// enabled; only the host-name check can be switched off.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct TlsSettings {
    /// Use TLS. Defaults to `false`.
    pub enabled: bool,
    /// PEM file of trusted CA certificates, replacing the system roots. Defaults to none.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (mutual TLS); needs `key_file`. Defaults to none.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of the client certificate; needs `cert_file`. Defaults to none.
    pub key_file: Option<PathBuf>,
    /// Check that the server certificate names the host. Defaults to `true`.
    pub check_hostname: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            enabled: false,
            ca_file: None,
            cert_file: None,
            key_file: None,
            check_hostname: true,
        }
    }
}

impl TlsSettings {
    fn validate(&self) -> Result<(), SettingsError> {
        match (&self.cert_file, &self.key_file) {
            (Some(_), None) => Err(SettingsError::Conflict {
                key: "tls.cert_file".into(),
                reason: "a client certificate needs tls.key_file too",
            }),
            (None, Some(_)) => Err(SettingsError::Conflict {
                key: "tls.key_file".into(),
                reason: "a client key needs tls.cert_file too",
            }),
            _ => Ok(()),
        }
    }
}

// Written by hand: the key file's path is shown, but this is where a future secret (a key
// passphrase) would go, so nothing here is derived.
impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TlsSettings {
            enabled,
            ca_file,
            cert_file,
            key_file,
            check_hostname,
        } = self;
        f.debug_struct("TlsSettings")
            .field("enabled", enabled)
            .field("ca_file", ca_file)
            .field("cert_file", cert_file)
            .field("key_file", key_file)
            .field("check_hostname", check_hostname)
            .finish()
    }
}

/// A setting that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A value could not be parsed or is out of range. `key` is the variable or field name.
    #[error("invalid value {value:?} for {key}: expected {expected}")]
    InvalidValue {
        /// Environment variable or field name.
        key: String,
        /// The offending value.
        value: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// A connection URL could not be parsed; the URL itself is not repeated (it may hold a
    /// password).
    #[error("invalid connection url in {key}")]
    InvalidUrl {
        /// Environment variable or field name.
        key: String,
        /// Why.
        #[source]
        source: UrlError,
    },
    /// Two settings contradict each other.
    #[error("{key}: {reason}")]
    Conflict {
        /// The setting at fault.
        key: String,
        /// Why.
        reason: &'static str,
    },
}

impl SettingsError {
    pub(crate) fn invalid(key: &str, value: &str, expected: &'static str) -> Self {
        SettingsError::InvalidValue {
            key: key.to_owned(),
            value: value.chars().take(200).collect(),
            expected,
        }
    }

    /// The same error about `key` (the variable a value came from) instead of the field.
    pub(crate) fn with_key(mut self, new_key: &str) -> Self {
        match &mut self {
            SettingsError::InvalidValue { key, .. }
            | SettingsError::InvalidUrl { key, .. }
            | SettingsError::Conflict { key, .. } => *key = new_key.to_owned(),
        }
        self
    }

    /// The variable or field the error is about.
    #[must_use]
    pub fn key(&self) -> &str {
        match self {
            SettingsError::InvalidValue { key, .. }
            | SettingsError::InvalidUrl { key, .. }
            | SettingsError::Conflict { key, .. } => key,
        }
    }
}

#[cfg(feature = "serde")]
pub use serde_url::WithSecrets;

#[cfg(feature = "serde")]
mod serde_url;

#[cfg(feature = "serde")]
mod serde_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(v.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Duration::try_from_secs_f64(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "serde")]
mod serde_opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<f64>::deserialize(d)?
            .map(|secs| Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_equal_the_original() {
        let s = Settings::default();
        assert!(!s.echo);
        assert_eq!(s.timeout, Some(Duration::from_secs(10)));
        assert_eq!(s.connection_timeout, Some(Duration::from_secs(5)));
        assert_eq!((s.pool_size, s.max_overflow), (5, 10));
        assert_eq!(s.pool_recycle, Some(Duration::from_secs(3600)));
        assert_eq!(s.pool_timeout, Duration::from_secs(30));
        assert_eq!(s.busy_timeout, Duration::from_secs(60));
        assert!(s.tls.check_hostname && !s.tls.enabled);
        assert_eq!(s.pragmas.cache_size, 20_000);
        assert_eq!(s.max_connections(), 15);
    }

    #[test]
    fn max_connections() {
        let with = |pool_size, max_overflow| Settings {
            pool_size,
            max_overflow,
            ..Settings::default()
        };
        assert_eq!(with(0, 0).max_connections(), 1);
        assert_eq!(with(3, 0).max_connections(), 3);
        assert_eq!(
            with(3, -1).max_connections(),
            3 + UNLIMITED_OVERFLOW_CAP as usize
        );
        assert!(with(3, -2).validate().is_err());
    }

    #[test]
    fn tls_cert_and_key_go_together() {
        let mut s = Settings::default();
        s.tls.cert_file = Some("c.pem".into());
        assert_eq!(s.validate().unwrap_err().key(), "tls.cert_file");
        s.tls.key_file = Some("k.pem".into());
        s.validate().unwrap();
        s.tls.cert_file = None;
        assert_eq!(s.validate().unwrap_err().key(), "tls.key_file");
    }
}

#[cfg(all(test, feature = "serde"))]
mod serde_tests {
    use super::*;

    /// Item 10: serialised settings carry no password unless asked for, and a redacted password
    /// is not read back as if it were the password.
    #[test]
    fn serialising_redacts_the_password() {
        let s = Settings {
            connection_url: Some("postgresql://u:s3cret-PW@h/db".parse().unwrap()),
            ..Settings::default()
        };
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("s3cret-PW"), "{json}");
        assert!(json.contains("postgresql://u:***@h/db"), "{json}");
        let err = serde_json::from_str::<Settings>(&json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("redacted"), "{err}");
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let mut s = Settings {
            connection_url: Some("postgresql://u:pw@h/db".parse().unwrap()),
            timeout: None,
            pool_size: 0,
            application_name: Some(String::new()),
            statement_cache_size: Some(0),
            busy_timeout: Duration::from_millis(1500),
            ..Settings::default()
        };
        s.pragmas.extra.push(("temp_store".into(), "memory".into()));
        let json = serde_json::to_string(&s.with_secrets()).unwrap();
        let back: Settings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        // The redacted form differs only in the password.
        let redacted = serde_json::to_string(&s).unwrap();
        assert_eq!(redacted, json.replace("u:pw@", "u:***@"));
        // A URL without a password round-trips either way.
        s.connection_url = Some("sqlite:///a.db".parse().unwrap());
        let back: Settings = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        // Missing fields take their defaults.
        let partial: Settings = serde_json::from_str(r#"{"pool_size": 2}"#).unwrap();
        assert_eq!(
            partial,
            Settings {
                pool_size: 2,
                ..Settings::default()
            }
        );
    }
}
