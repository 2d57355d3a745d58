//! [`Settings`] and serde, by hand. Serialising redacts the password by default: the connection
//! URL is written with [`ConnectionUrl::redacted`], or with [`ConnectionUrl::to_url`] through
//! [`WithSecrets`]. Deserialising reads the nested form that serialising writes and the flat
//! names of dbconfig 0.1, and refuses unknown keys.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{
    PostgresSettings, Settings, SettingsError, SqlitePragmas, SqliteSettings, TlsSettings,
};
use crate::url::ConnectionUrl;

/// What a redacted password reads as.
const REDACTED: &str = "***";

/// [`Settings`] serialised with the connection URL's password in clear. Only for writing
/// the settings somewhere as private as the password itself (a secret store, a file only
/// you can read): `serde_json::to_string(&settings.with_secrets())`.
#[derive(Debug, Clone, Copy)]
pub struct WithSecrets<'a>(pub &'a Settings);

impl Settings {
    /// These settings for serialising with the password in clear; plain serialisation
    /// writes `***` instead. See [`WithSecrets`].
    #[must_use]
    pub fn with_secrets(&self) -> WithSecrets<'_> {
        WithSecrets(self)
    }
}

impl Serialize for Settings {
    /// Writes the settings with the password replaced by `***`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Repr::new(self, false).serialize(s)
    }
}

impl Serialize for WithSecrets<'_> {
    /// Writes the settings with the password in clear.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Repr::new(self.0, true).serialize(s)
    }
}

#[derive(Serialize)]
#[serde(rename = "Settings")]
struct Repr<'a> {
    connection_url: Option<String>,
    echo: bool,
    #[serde(with = "super::serde_opt_secs")]
    connection_timeout: Option<Duration>,
    pool_size: u32,
    max_overflow: i32,
    #[serde(with = "super::serde_opt_secs")]
    pool_recycle: Option<Duration>,
    #[serde(with = "super::serde_secs")]
    pool_timeout: Duration,
    statement_cache_size: Option<u32>,
    sqlite: SqliteRepr<'a>,
    postgres: PostgresRepr<'a>,
}

/// [`PostgresSettings`] with its replica URLs (which its own `Serialize` leaves out), passwords
/// in clear or `***`.
#[derive(Serialize)]
struct PostgresRepr<'a> {
    #[serde(flatten)]
    settings: &'a PostgresSettings,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replica_urls: Vec<String>,
}

/// [`SqliteSettings`] with its key (which its own `Serialize` leaves out) in clear or `***`.
#[derive(Serialize)]
struct SqliteRepr<'a> {
    #[serde(flatten)]
    settings: &'a SqliteSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
}

impl<'a> Repr<'a> {
    // Destructures every field: a new one fails to compile until it is written here.
    fn new(settings: &'a Settings, with_secrets: bool) -> Self {
        let Settings {
            connection_url,
            echo,
            connection_timeout,
            pool_size,
            max_overflow,
            pool_recycle,
            pool_timeout,
            statement_cache_size,
            sqlite,
            postgres,
        } = settings;
        Repr {
            connection_url: connection_url.as_ref().map(|url| {
                if with_secrets {
                    url.to_url()
                } else {
                    url.redacted()
                }
            }),
            echo: *echo,
            connection_timeout: *connection_timeout,
            pool_size: *pool_size,
            max_overflow: *max_overflow,
            pool_recycle: *pool_recycle,
            pool_timeout: *pool_timeout,
            statement_cache_size: *statement_cache_size,
            sqlite: SqliteRepr {
                settings: sqlite,
                key: sqlite.key.as_ref().map(
                    |key| {
                        if with_secrets { key.expose() } else { REDACTED }
                    },
                ),
            },
            postgres: PostgresRepr {
                settings: postgres,
                replica_urls: postgres
                    .replica_urls
                    .iter()
                    .map(|url| {
                        if with_secrets {
                            url.to_url()
                        } else {
                            url.redacted()
                        }
                    })
                    .collect(),
            },
        }
    }
}

/// What [`Settings`] is read from: every field optional (absent keeps its default; `null` is
/// "none" where a field takes none), the current nested form and the flat names of dbconfig
/// 0.1. An unknown key is an error, so a misspelt or renamed setting is never silently ignored.
#[derive(Deserialize, Default)]
#[serde(default, rename = "Settings", deny_unknown_fields)]
pub(super) struct Input {
    #[serde(deserialize_with = "url")]
    connection_url: Option<Option<ConnectionUrl>>,
    echo: Option<bool>,
    #[serde(deserialize_with = "opt_secs")]
    connection_timeout: Option<Option<Duration>>,
    pool_size: Option<u32>,
    max_overflow: Option<i32>,
    #[serde(deserialize_with = "opt_secs")]
    pool_recycle: Option<Option<Duration>>,
    #[serde(deserialize_with = "secs")]
    pool_timeout: Option<Duration>,
    #[serde(deserialize_with = "present")]
    statement_cache_size: Option<Option<u32>>,
    sqlite: Option<SqliteSettings>,
    postgres: Option<PostgresSettings>,
    // The flat names of dbconfig 0.1.
    #[serde(deserialize_with = "opt_secs")]
    timeout: Option<Option<Duration>>,
    #[serde(deserialize_with = "secs")]
    busy_timeout: Option<Duration>,
    pragmas: Option<SqlitePragmas>,
    #[serde(deserialize_with = "opt_secs")]
    pool_pre_ping: Option<Option<Duration>>,
    #[serde(deserialize_with = "present")]
    application_name: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    search_path: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    prepared_statement_cache_size: Option<Option<u32>>,
    pgbouncer_mode: Option<bool>,
    tls: Option<TlsSettings>,
}

/// `target = value` when the key was given.
macro_rules! given {
    ($($target:expr => $value:expr),+ $(,)?) => {
        $(if let Some(value) = $value {
            $target = value;
        })+
    };
}

impl TryFrom<Input> for Settings {
    type Error = SettingsError;

    fn try_from(input: Input) -> Result<Self, SettingsError> {
        let i = input;
        let flat_sqlite = i.timeout.is_some() || i.busy_timeout.is_some() || i.pragmas.is_some();
        let flat_postgres = i.timeout.is_some()
            || i.pool_pre_ping.is_some()
            || i.application_name.is_some()
            || i.search_path.is_some()
            || i.prepared_statement_cache_size.is_some()
            || i.pgbouncer_mode.is_some()
            || i.tls.is_some();
        if flat_sqlite && i.sqlite.is_some() {
            return Err(both("sqlite"));
        }
        if flat_postgres && i.postgres.is_some() {
            return Err(both("postgres"));
        }
        let mut s = Settings::default();
        given! {
            s.connection_url => i.connection_url,
            s.echo => i.echo,
            s.connection_timeout => i.connection_timeout,
            s.pool_size => i.pool_size,
            s.max_overflow => i.max_overflow,
            s.pool_recycle => i.pool_recycle,
            s.pool_timeout => i.pool_timeout,
            s.statement_cache_size => i.statement_cache_size,
            s.sqlite => i.sqlite,
            s.postgres => i.postgres,
            s.postgres.statement_timeout => i.timeout,
            s.sqlite.setup_busy_timeout => i.timeout,
            s.sqlite.busy_timeout => i.busy_timeout,
            s.sqlite.pragmas => i.pragmas,
            s.postgres.pool_pre_ping => i.pool_pre_ping,
            s.postgres.application_name => i.application_name,
            s.postgres.search_path => i.search_path,
            s.postgres.prepared_statement_cache_size => i.prepared_statement_cache_size,
            s.postgres.pgbouncer_mode => i.pgbouncer_mode,
            s.postgres.tls => i.tls,
        }
        Ok(s)
    }
}

/// A section given both nested and under the flat names of 0.1.
fn both(section: &str) -> SettingsError {
    SettingsError::Conflict {
        key: section.into(),
        reason: match section {
            "sqlite" => {
                "give the SQLite settings either in `sqlite` or under the flat names of \
                         dbconfig 0.1 (timeout, busy_timeout, pragmas), not both"
            }
            _ => {
                "give the PostgreSQL settings either in `postgres` or under the flat names of \
                  dbconfig 0.1 (timeout, tls, application_name, …), not both"
            }
        },
    }
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    super::serde_secs::deserialize(d).map(Some)
}

fn opt_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Duration>>, D::Error> {
    super::serde_opt_secs::deserialize(d).map(Some)
}

/// Reads `postgres.replica_urls`: PostgreSQL URLs, none with a redacted password.
pub(super) fn replica_urls<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<ConnectionUrl>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|text| read_url("postgres.replica_urls", text))
        .collect()
}

fn url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<ConnectionUrl>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(Some(None));
    };
    read_url("connection_url", &text).map(|url| Some(Some(url)))
}

/// Reads the URL of `field`; a password or key of `***` (what serialising without
/// [`WithSecrets`] writes) is an error rather than a wrong password.
fn read_url<E: serde::de::Error>(field: &str, text: &str) -> Result<ConnectionUrl, E> {
    let url: ConnectionUrl = text.parse().map_err(E::custom)?;
    let password = url.as_postgres().and_then(|pg| pg.password());
    let key = url.as_sqlite().and_then(|lite| lite.key());
    if password == Some(REDACTED) || key.is_some_and(|key| key.expose() == REDACTED) {
        return Err(E::custom(format_args!(
            "{field}: the password or key is redacted (\"***\"): serialise the settings with \
             Settings::with_secrets() to keep it, or set the url again"
        )));
    }
    Ok(url)
}
