//! [`Settings`]: every knob of the original, the shared ones at the top and the backends' own
//! in [`SqliteSettings`] and [`PostgresSettings`].
//!
//! Defaults equal the original's (Prefect's `server.database.*` settings). Unlike the original,
//! an explicit `0`, `false` or `""` is kept: a value falls back to its default only when it is
//! absent.

mod backend;
mod env;
pub(crate) mod error;
mod pragma_names;
mod pragmas;
mod ranges;
pub(crate) mod value;

use std::time::Duration;

pub use backend::{PostgresSettings, SqliteSettings, TlsSettings};
pub use env::{ENV_VARS, EnvVar};
pub use error::SettingsError;
pub use pragmas::{JournalMode, SqlitePragmas, Synchronous};
pub use ranges::{CONNECTION_TIMEOUT_MIN, DURATION_MAX, MAX_OVERFLOW_MAX, POOL_SIZE_MAX};

use crate::url::{ConnectionUrl, SqliteKey, SqliteUrl};

/// How `max_overflow = -1` ("no overflow limit", as in SQLAlchemy) is capped.
pub const UNLIMITED_OVERFLOW_CAP: u32 = 1024;

/// Database settings: the knobs both backends share, then [`SqliteSettings`] and
/// [`PostgresSettings`], so no field means one thing on one backend and another on the other.
///
/// Start from [`Settings::new`] (the defaults; never reads the environment) or
/// [`Settings::from_env`], then chain `with_*` setters or assign fields:
///
/// ```
/// use std::time::Duration;
/// use dbconfig::Settings;
///
/// let mut settings = Settings::new()
///     .with_url("sqlite:///app.db".parse()?)
///     .with_pool_size(2);
/// settings.sqlite.busy_timeout = Duration::from_secs(5);
/// settings.postgres.application_name = Some("worker".into());
/// settings.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The struct is `#[non_exhaustive]`: new knobs come without breaking your code, so it cannot be
/// built with a struct literal outside this crate.
///
/// With the `serde` feature, serialising writes the connection URL's password as `***`;
/// serialise `settings.with_secrets()` to keep it. Deserialising a URL whose password is
/// `***` is an error, so a redacted copy is never used as if it held the password. The
/// serialised form nests `sqlite` and `postgres` as the struct does; the flat names of
/// dbconfig 0.1 (`timeout`, `busy_timeout`, `pragmas`, `tls`, `application_name`, …) are still
/// read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "serde_form::Input"))]
#[non_exhaustive]
pub struct Settings {
    /// The database to use. Defaults to none: a config built from settings without a URL fails
    /// with [`crate::Error::MissingUrl`].
    pub connection_url: Option<ConnectionUrl>,
    /// Log every statement and its duration through `tracing` (target `dbconfig::sql`, level
    /// INFO), never parameter values. PostgreSQL: the statements dbconfig issues itself (BEGIN,
    /// COMMIT, ROLLBACK, ping); tokio-postgres has no hook for the queries you run on its client.
    /// Defaults to `false`.
    pub echo: bool,
    /// Time limit for opening one new connection, TLS and authentication included. `None` = no
    /// limit of its own (PostgreSQL connects are then bounded by `max(pool_timeout, 30 s)`).
    /// Allowed: `None` or [`CONNECTION_TIMEOUT_MIN`] (1 ms) to [`DURATION_MAX`]; `0` is refused,
    /// as it would fail every connect (libpq reads `connect_timeout=0` as "no limit": use `None`
    /// for that). Defaults to 5 s.
    ///
    /// SQLite: the open's own lock waits are cut to the time left, so the open stops by then.
    /// PostgreSQL: also the network margin of a round trip (see
    /// [`PostgresSettings::statement_timeout`]), the time a connection left busy by an
    /// abandoned statement has to show it is idle before it is cancelled and closed, and the
    /// limit of that cancel request.
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
    pub pool_recycle: Option<Duration>,
    /// How long a session waits for a pooled connection. Always bounded; `0` = fail at once when
    /// none is free. Allowed: 0 to [`DURATION_MAX`]. Defaults to 30 s.
    pub pool_timeout: Duration,
    /// Prepared statements kept per connection. PostgreSQL: statements kept by `prepare_cached`
    /// (100 when none; the smaller of this and
    /// [`PostgresSettings::prepared_statement_cache_size`] when both are set); `0` = none
    /// outlives its transaction (PgBouncer transaction mode, where the next transaction may run
    /// on another server connection). dbconfig's own statements use the simple protocol;
    /// outside a transaction behind PgBouncer, run yours with `query_typed` (unnamed) or
    /// `simple_query`. SQLite: capacity of each connection's prepared-statement cache
    /// (rusqlite's default, 16, when none). Defaults to none.
    pub statement_cache_size: Option<u32>,
    /// What only SQLite uses.
    pub sqlite: SqliteSettings,
    /// What only PostgreSQL uses.
    pub postgres: PostgresSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connection_url: None,
            echo: false,
            connection_timeout: Some(Duration::from_secs(5)),
            pool_size: 5,
            max_overflow: 10,
            pool_recycle: Some(Duration::from_secs(3600)),
            pool_timeout: Duration::from_secs(30),
            statement_cache_size: None,
            sqlite: SqliteSettings::default(),
            postgres: PostgresSettings::default(),
        }
    }
}

/// Chainable setters, one per field: `with_<field>(value)` sets the field and returns `self`.
macro_rules! setters {
    ($ty:ident { $($setter:ident => $field:ident : $t:ty),+ $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
                #[must_use]
                pub fn $setter(mut self, value: $t) -> Self {
                    self.$field = value;
                    self
                }
            )+
        }
    };
}
pub(crate) use setters;

setters!(Settings {
    with_echo => echo: bool,
    with_connection_timeout => connection_timeout: Option<Duration>,
    with_pool_size => pool_size: u32,
    with_max_overflow => max_overflow: i32,
    with_pool_recycle => pool_recycle: Option<Duration>,
    with_pool_timeout => pool_timeout: Duration,
    with_statement_cache_size => statement_cache_size: Option<u32>,
    with_sqlite => sqlite: SqliteSettings,
    with_postgres => postgres: PostgresSettings,
});

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
        self.postgres.tls.validate()?;
        self.sqlite.pragmas.validate()?;
        self.check_sqlcipher()?;
        self.check_replicas()
    }

    /// Replicas are PostgreSQL URLs, of a PostgreSQL primary.
    fn check_replicas(&self) -> Result<(), SettingsError> {
        if self.postgres.replica_urls.is_empty() {
            return Ok(());
        }
        let postgres = |url: &ConnectionUrl| url.as_postgres().is_some();
        if !self.postgres.replica_urls.iter().all(postgres)
            || self
                .connection_url
                .as_ref()
                .is_some_and(|url| !postgres(url))
        {
            return Err(SettingsError::Conflict {
                key: "postgres.replica_urls".into(),
                reason: "read replicas are PostgreSQL URLs, for a PostgreSQL connection_url",
            });
        }
        Ok(())
    }

    /// The SQLCipher key in effect: the url's (`sqlite+pysqlcipher://:KEY@/…`) or
    /// `sqlite.key`.
    #[must_use]
    pub fn sqlite_key(&self) -> Option<&SqliteKey> {
        let url_key = self
            .connection_url
            .as_ref()
            .and_then(ConnectionUrl::as_sqlite)
            .and_then(SqliteUrl::key);
        url_key.or(self.sqlite.key.as_ref())
    }

    /// A key given twice is a conflict; a key or a `sqlite+pysqlcipher` url without the
    /// `sqlcipher` feature is refused (plain SQLite ignores `PRAGMA key` and would write the
    /// file in clear).
    fn check_sqlcipher(&self) -> Result<(), SettingsError> {
        let url = self
            .connection_url
            .as_ref()
            .and_then(ConnectionUrl::as_sqlite);
        if url.and_then(SqliteUrl::key).is_some() && self.sqlite.key.is_some() {
            return Err(SettingsError::Conflict {
                key: "sqlite.key".into(),
                reason: "the key is given both in the connection url and in sqlite.key; \
                         give it once",
            });
        }
        let keyed = self.sqlite.key.is_some() || url.and_then(SqliteUrl::key).is_some();
        if keyed && url.is_some_and(SqliteUrl::is_inmemory) {
            return Err(SettingsError::Conflict {
                key: "sqlite.key".into(),
                reason: "an in-memory database is never written to disk: it takes no key",
            });
        }
        let wants_cipher = keyed || url.is_some_and(SqliteUrl::is_sqlcipher);
        if wants_cipher && !cfg!(feature = "sqlcipher") {
            return Err(SettingsError::Conflict {
                key: "sqlite.key".into(),
                reason: "an encrypted database (a key or a sqlite+pysqlcipher url) needs \
                         dbconfig's `sqlcipher` feature, and a native build",
            });
        }
        Ok(())
    }

    /// Checks the range of one field (named as in [`EnvVar::field`]), for code that uses a
    /// value without knowing that `validate()` ran.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn check_range(&self, field: &str) -> Result<(), SettingsError> {
        ranges::check_field(self, field)
    }
}

#[cfg(feature = "serde")]
pub use serde_form::WithSecrets;

#[cfg(feature = "serde")]
mod serde_form;

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
        assert_eq!(s.postgres.statement_timeout, Some(Duration::from_secs(10)));
        assert_eq!(s.sqlite.setup_busy_timeout, Some(Duration::from_secs(10)));
        assert_eq!(s.connection_timeout, Some(Duration::from_secs(5)));
        assert_eq!((s.pool_size, s.max_overflow), (5, 10));
        assert_eq!(s.pool_recycle, Some(Duration::from_secs(3600)));
        assert_eq!(s.pool_timeout, Duration::from_secs(30));
        assert_eq!(s.sqlite.busy_timeout, Duration::from_secs(60));
        assert!(s.postgres.tls.check_hostname && !s.postgres.tls.enabled);
        assert_eq!(s.sqlite.pragmas.cache_size, 20_000);
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
        s.postgres.tls.cert_file = Some("c.pem".into());
        assert_eq!(s.validate().unwrap_err().key(), "postgres.tls.cert_file");
        s.postgres.tls.key_file = Some("k.pem".into());
        s.validate().unwrap();
        s.postgres.tls.cert_file = None;
        assert_eq!(s.validate().unwrap_err().key(), "postgres.tls.key_file");
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
            pool_size: 0,
            statement_cache_size: Some(0),
            ..Settings::default()
        };
        s.postgres.statement_timeout = None;
        s.postgres.application_name = Some(String::new());
        s.sqlite.busy_timeout = Duration::from_millis(1500);
        s.sqlite
            .pragmas
            .extra
            .push(("temp_store".into(), "memory".into()));
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

    /// The nested form is what is written; the flat names of dbconfig 0.1 are still read, never
    /// together with the section they moved to; an unknown key is an error, not ignored.
    #[test]
    fn the_flat_names_of_0_1_are_read_and_unknown_keys_refused() {
        let json = serde_json::to_string(&Settings::default()).unwrap();
        assert!(json.contains(r#""sqlite":{"busy_timeout":60.0"#), "{json}");
        assert!(
            json.contains(r#""postgres":{"statement_timeout":10.0"#),
            "{json}"
        );
        let old: Settings = serde_json::from_str(
            r#"{"timeout": null, "busy_timeout": 2, "pragmas": {"cache_size": -500},
                "application_name": "svc", "tls": {"enabled": true}, "pool_pre_ping": 0}"#,
        )
        .unwrap();
        let mut expected = Settings::default();
        expected.postgres.statement_timeout = None;
        expected.sqlite.setup_busy_timeout = None;
        expected.sqlite.busy_timeout = Duration::from_secs(2);
        expected.sqlite.pragmas.cache_size = -500;
        expected.postgres.application_name = Some("svc".into());
        expected.postgres.tls.enabled = true;
        expected.postgres.pool_pre_ping = Some(Duration::ZERO);
        assert_eq!(old, expected);
        let both = serde_json::from_str::<Settings>(r#"{"busy_timeout": 2, "sqlite": {}}"#)
            .unwrap_err()
            .to_string();
        assert!(both.contains("either in `sqlite`"), "{both}");
        let typo = serde_json::from_str::<Settings>(r#"{"pool_sise": 2}"#)
            .unwrap_err()
            .to_string();
        assert!(typo.contains("pool_sise"), "{typo}");
    }
}
