//! Serialising [`Settings`] by hand, so that the password is redacted by default: the
//! connection URL is written with [`ConnectionUrl::redacted`], or with
//! [`ConnectionUrl::to_url`] through [`WithSecrets`]. Every other field is written as
//! `Deserialize` reads it (same names, order and `with` modules).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Settings, SqlitePragmas, TlsSettings};
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
    timeout: Option<Duration>,
    #[serde(with = "super::serde_opt_secs")]
    connection_timeout: Option<Duration>,
    pool_size: u32,
    max_overflow: i32,
    #[serde(with = "super::serde_opt_secs")]
    pool_recycle: Option<Duration>,
    #[serde(with = "super::serde_opt_secs")]
    pool_pre_ping: Option<Duration>,
    #[serde(with = "super::serde_secs")]
    pool_timeout: Duration,
    application_name: &'a Option<String>,
    search_path: &'a Option<String>,
    statement_cache_size: Option<u32>,
    prepared_statement_cache_size: Option<u32>,
    pgbouncer_mode: bool,
    tls: &'a TlsSettings,
    #[serde(with = "super::serde_secs")]
    busy_timeout: Duration,
    pragmas: &'a SqlitePragmas,
}

impl<'a> Repr<'a> {
    // Destructures every field: a new one fails to compile until it is written here.
    fn new(settings: &'a Settings, with_secrets: bool) -> Self {
        let Settings {
            connection_url,
            echo,
            timeout,
            connection_timeout,
            pool_size,
            max_overflow,
            pool_recycle,
            pool_pre_ping,
            pool_timeout,
            application_name,
            search_path,
            statement_cache_size,
            prepared_statement_cache_size,
            pgbouncer_mode,
            tls,
            busy_timeout,
            pragmas,
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
            timeout: *timeout,
            connection_timeout: *connection_timeout,
            pool_size: *pool_size,
            max_overflow: *max_overflow,
            pool_recycle: *pool_recycle,
            pool_pre_ping: *pool_pre_ping,
            pool_timeout: *pool_timeout,
            application_name,
            search_path,
            statement_cache_size: *statement_cache_size,
            prepared_statement_cache_size: *prepared_statement_cache_size,
            pgbouncer_mode: *pgbouncer_mode,
            tls,
            busy_timeout: *busy_timeout,
            pragmas,
        }
    }
}

/// Reads the URL; a password of `***` (what serialising without [`WithSecrets`] writes)
/// is an error rather than a wrong password.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ConnectionUrl>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let url: ConnectionUrl = text.parse().map_err(serde::de::Error::custom)?;
    let password = url.as_postgres().and_then(|pg| pg.password());
    if password == Some(REDACTED) {
        return Err(serde::de::Error::custom(
            "connection_url: the password is redacted (\"***\"): serialise the settings \
             with Settings::with_secrets() to keep it, or set the url again",
        ));
    }
    Ok(Some(url))
}
