//! The settings only one backend uses: [`SqliteSettings`] and [`PostgresSettings`] (with its
//! [`TlsSettings`]).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::{SettingsError, SqlitePragmas, setters};
use crate::url::{ConnectionUrl, SqliteKey};

/// What only SQLite uses: lock waits and PRAGMAs. Field of [`Settings::sqlite`](super::Settings).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[non_exhaustive]
pub struct SqliteSettings {
    /// How long a statement waits on a lock held by another connection before failing with
    /// "database is locked" (`PRAGMA busy_timeout`). Also bounds the wait in the writer lane.
    /// Allowed: 0 to [`DURATION_MAX`](super::DURATION_MAX) (2147483647 ms, SQLite's limit).
    /// Defaults to 60 s. <https://www.sqlite.org/pragma.html#pragma_busy_timeout>
    #[cfg_attr(feature = "serde", serde(with = "super::serde_secs"))]
    pub busy_timeout: Duration,
    /// The lock wait while a new connection is being set up (setting the journal mode and the
    /// PRAGMAs, before `busy_timeout` takes over), as the original's
    /// `sqlite3.connect(timeout=…)` with its `timeout` setting. `None` = `busy_timeout`;
    /// `Some(0)` = do not wait for locks while setting up. Never past `connection_timeout`.
    /// Allowed: `None` or 0 to [`DURATION_MAX`](super::DURATION_MAX). Defaults to 10 s.
    #[cfg_attr(feature = "serde", serde(with = "super::serde_opt_secs"))]
    pub setup_busy_timeout: Option<Duration>,
    /// PRAGMAs applied to every new connection.
    pub pragmas: SqlitePragmas,
    /// The SQLCipher key (feature `sqlcipher`), applied first on every new connection, before
    /// any other PRAGMA or read. Environment: `DBCONFIG_SQLITE_KEY`. Also given by a
    /// `sqlite+pysqlcipher://:KEY@/file.db` url or, so that it never sits in the environment, by
    /// `SqliteConfig::key_provider`; giving it twice is an error. Never printed or serialised
    /// in clear (see [`SqliteKey`]). Without the `sqlcipher` feature a key is refused rather
    /// than ignored (plain SQLite would silently write the file unencrypted). Defaults to none.
    /// <https://www.zetetic.net/sqlcipher/sqlcipher-api/#key>
    #[cfg_attr(feature = "serde", serde(skip_serializing))]
    pub key: Option<SqliteKey>,
}

impl Default for SqliteSettings {
    fn default() -> Self {
        SqliteSettings {
            busy_timeout: Duration::from_secs(60),
            setup_busy_timeout: Some(Duration::from_secs(10)),
            pragmas: SqlitePragmas::default(),
            key: None,
        }
    }
}

setters!(SqliteSettings {
    with_busy_timeout => busy_timeout: Duration,
    with_setup_busy_timeout => setup_busy_timeout: Option<Duration>,
    with_pragmas => pragmas: SqlitePragmas,
    with_key => key: Option<SqliteKey>,
});

impl SqliteSettings {
    /// The lock wait while a connection is set up: `setup_busy_timeout`, else `busy_timeout`.
    #[must_use]
    pub fn setup_wait(&self) -> Duration {
        self.setup_busy_timeout.unwrap_or(self.busy_timeout)
    }
}

/// What only PostgreSQL uses: server-side timeouts, session parameters, the pre-ping policy,
/// PgBouncer mode and TLS. Field of [`Settings::postgres`](super::Settings).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[non_exhaustive]
pub struct PostgresSettings {
    /// Server-side `statement_timeout` (the original's `timeout` setting). `None` = leave the
    /// server's; `Some(0)` turns it off. Allowed: `None` or 0 to
    /// [`DURATION_MAX`](super::DURATION_MAX) (2147483647 ms, PostgreSQL's limit). Defaults to
    /// 10 s. <https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT>
    ///
    /// Each round trip of dbconfig's own (BEGIN, COMMIT, ping, each statement of `create_db` /
    /// `drop_db`, each query of `verify_db`) also waits at most `statement_timeout +
    /// connection_timeout` for its answer, because a network that goes silent never delivers
    /// the server's; with `None` or 0, 300 s stands in for `statement_timeout` there.
    #[cfg_attr(feature = "serde", serde(with = "super::serde_opt_secs"))]
    pub statement_timeout: Option<Duration>,
    /// Check a pooled connection with a round trip before handing it out when it has been idle
    /// at least this long. Defaults to `Some(1 s)`, the policy of pgxpool (HikariCP skips its
    /// check within 500 ms): a connection that answered within the last second is handed out
    /// unchecked, which saves a round trip per transaction on a busy pool, while the
    /// connections the original's `pool_pre_ping` is there for (closed by the server, a proxy
    /// or a firewall while idle) are checked. A connection whose socket the server closed is
    /// never handed out, checked or not. What is left is a backend killed within the last
    /// second and not yet seen closed: its error reaches your first statement. `Some(0)` =
    /// check on every checkout, exactly the original's `pool_pre_ping=True`; `None` = never.
    /// Allowed: `None` or 0 to [`DURATION_MAX`](super::DURATION_MAX).
    #[cfg_attr(feature = "serde", serde(with = "super::serde_opt_secs"))]
    pub pool_pre_ping: Option<Duration>,
    /// `application_name`. Defaults to none.
    pub application_name: Option<String>,
    /// `search_path`, e.g. `"myschema, public"`. Defaults to none.
    pub search_path: Option<String>,
    /// The original's asyncpg name for the statement cache size; when both are set the smaller
    /// of this and [`Settings::statement_cache_size`](super::Settings) is used. Defaults to none.
    pub prepared_statement_cache_size: Option<u32>,
    /// Behind PgBouncer or another proxy that rejects startup parameters: nothing is sent in the
    /// startup `options`; `statement_timeout`, `search_path` and
    /// `default_transaction_isolation` are set with `set_config(…)` right after connecting
    /// instead (`application_name` stays a startup parameter, which PgBouncer forwards). For
    /// transaction pooling also set `statement_cache_size = 0`. Defaults to `false`.
    pub pgbouncer_mode: bool,
    /// TLS. Defaults to off.
    pub tls: TlsSettings,
    /// Read replicas: PostgreSQL URLs that
    /// [`PostgresSession::begin_read_only`](crate::PostgresSession::begin_read_only) sends its
    /// transactions to (in turn), falling back to the primary while a replica cannot be
    /// reached. Same settings and hooks as the primary. Environment: `DBCONFIG_REPLICA_URLS`,
    /// separated by spaces. Serialised with passwords as `***` unless `with_secrets()`.
    /// Defaults to none.
    #[cfg_attr(
        feature = "serde",
        serde(skip_serializing, deserialize_with = "super::serde_form::replica_urls")
    )]
    pub replica_urls: Vec<ConnectionUrl>,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        PostgresSettings {
            statement_timeout: Some(Duration::from_secs(10)),
            pool_pre_ping: Some(Duration::from_secs(1)),
            application_name: None,
            search_path: None,
            prepared_statement_cache_size: None,
            pgbouncer_mode: false,
            tls: TlsSettings::default(),
            replica_urls: Vec::new(),
        }
    }
}

setters!(PostgresSettings {
    with_statement_timeout => statement_timeout: Option<Duration>,
    with_pool_pre_ping => pool_pre_ping: Option<Duration>,
    with_application_name => application_name: Option<String>,
    with_search_path => search_path: Option<String>,
    with_prepared_statement_cache_size => prepared_statement_cache_size: Option<u32>,
    with_pgbouncer_mode => pgbouncer_mode: bool,
    with_tls => tls: TlsSettings,
    with_replica_urls => replica_urls: Vec<ConnectionUrl>,
});

/// PostgreSQL TLS settings. Verification of the server certificate is always on when TLS is
/// enabled; only the host-name check can be switched off.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[non_exhaustive]
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

setters!(TlsSettings {
    with_enabled => enabled: bool,
    with_ca_file => ca_file: Option<PathBuf>,
    with_cert_file => cert_file: Option<PathBuf>,
    with_key_file => key_file: Option<PathBuf>,
    with_check_hostname => check_hostname: bool,
});

impl TlsSettings {
    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        match (&self.cert_file, &self.key_file) {
            (Some(_), None) => Err(SettingsError::Conflict {
                key: "postgres.tls.cert_file".into(),
                reason: "a client certificate needs postgres.tls.key_file too",
            }),
            (None, Some(_)) => Err(SettingsError::Conflict {
                key: "postgres.tls.key_file".into(),
                reason: "a client key needs postgres.tls.cert_file too",
            }),
            _ => Ok(()),
        }
    }
}

// Written by hand: the key file's path is shown, but this is where a future secret (a key
// passphrase) would go, so nothing here is derived.
impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("enabled", &self.enabled)
            .field("ca_file", &self.ca_file)
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("check_hostname", &self.check_hostname)
            .finish()
    }
}
