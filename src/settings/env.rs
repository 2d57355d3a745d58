//! [`Settings::from_env`]: `DBCONFIG_*` variables, and the original's
//! `PREFECT_SERVER_DATABASE_*` / `PREFECT_API_DATABASE_*` / `PREFECT_SQLALCHEMY_*` names.

use std::collections::HashMap;

use super::ranges::{self, MAX_OVERFLOW, POOL_SIZE};
use super::value::{parse_bool, parse_duration, parse_int, parse_opt_duration};
use super::{Settings, SettingsError, SqlitePragmas};
use crate::url::SqliteKey;

/// One setting's environment variables, in precedence order (the first one set wins).
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// The [`Settings`] field it sets.
    pub field: &'static str,
    /// Variable names, most specific first: `DBCONFIG_*`, then the original's names.
    pub names: &'static [&'static str],
}

macro_rules! vars {
    ($($field:literal => [$($name:literal),+ $(,)?]),+ $(,)?) => {
        &[$(EnvVar { field: $field, names: &[$($name),+] }),+]
    };
}

/// Every variable [`Settings::from_env`] reads. The original's `timeout` variables set both
/// backends' fields, as the original's `timeout` did; `DBCONFIG_STATEMENT_TIMEOUT` and
/// `DBCONFIG_SQLITE_SETUP_BUSY_TIMEOUT` set one each and win over them.
pub const ENV_VARS: &[EnvVar] = vars! {
    "connection_url" => ["DBCONFIG_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL"],
    "echo" => ["DBCONFIG_ECHO", "PREFECT_SERVER_DATABASE_ECHO", "PREFECT_API_DATABASE_ECHO"],
    "connection_timeout" => ["DBCONFIG_CONNECTION_TIMEOUT", "PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT", "PREFECT_API_DATABASE_CONNECTION_TIMEOUT"],
    "pool_size" => ["DBCONFIG_POOL_SIZE", "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE", "PREFECT_SQLALCHEMY_POOL_SIZE"],
    "max_overflow" => ["DBCONFIG_MAX_OVERFLOW", "PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW", "PREFECT_SQLALCHEMY_MAX_OVERFLOW"],
    "pool_recycle" => ["DBCONFIG_POOL_RECYCLE", "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_RECYCLE"],
    "pool_timeout" => ["DBCONFIG_POOL_TIMEOUT", "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_TIMEOUT"],
    "statement_cache_size" => ["DBCONFIG_STATEMENT_CACHE_SIZE", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_STATEMENT_CACHE_SIZE"],
    "sqlite.busy_timeout" => ["DBCONFIG_SQLITE_BUSY_TIMEOUT", "DBCONFIG_BUSY_TIMEOUT"],
    "sqlite.setup_busy_timeout" => ["DBCONFIG_SQLITE_SETUP_BUSY_TIMEOUT", "DBCONFIG_TIMEOUT", "PREFECT_SERVER_DATABASE_TIMEOUT", "PREFECT_API_DATABASE_TIMEOUT"],
    "sqlite.pragmas.journal_mode" => ["DBCONFIG_SQLITE_JOURNAL_MODE"],
    "sqlite.pragmas.foreign_keys" => ["DBCONFIG_SQLITE_FOREIGN_KEYS"],
    "sqlite.pragmas.legacy_alter_table" => ["DBCONFIG_SQLITE_LEGACY_ALTER_TABLE"],
    "sqlite.pragmas.synchronous" => ["DBCONFIG_SQLITE_SYNCHRONOUS"],
    "sqlite.pragmas.cache_size" => ["DBCONFIG_SQLITE_CACHE_SIZE"],
    "sqlite.pragmas.wal_autocheckpoint" => ["DBCONFIG_SQLITE_WAL_AUTOCHECKPOINT"],
    "sqlite.pragmas.journal_size_limit" => ["DBCONFIG_SQLITE_JOURNAL_SIZE_LIMIT"],
    "sqlite.pragmas.extra" => ["DBCONFIG_SQLITE_PRAGMAS"],
    "sqlite.key" => ["DBCONFIG_SQLITE_KEY"],
    "sqlite.pragmas.allow_unsafe" => ["DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS"],
    "postgres.statement_timeout" => ["DBCONFIG_STATEMENT_TIMEOUT", "DBCONFIG_TIMEOUT", "PREFECT_SERVER_DATABASE_TIMEOUT", "PREFECT_API_DATABASE_TIMEOUT"],
    "postgres.pool_pre_ping" => ["DBCONFIG_POOL_PRE_PING"],
    "postgres.application_name" => ["DBCONFIG_APPLICATION_NAME", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_APPLICATION_NAME"],
    "postgres.search_path" => ["DBCONFIG_SEARCH_PATH", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_SEARCH_PATH"],
    "postgres.prepared_statement_cache_size" => ["DBCONFIG_PREPARED_STATEMENT_CACHE_SIZE", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_PREPARED_STATEMENT_CACHE_SIZE"],
    "postgres.pgbouncer_mode" => ["DBCONFIG_PGBOUNCER_MODE"],
    "postgres.replica_urls" => ["DBCONFIG_REPLICA_URLS"],
    "postgres.tls.enabled" => ["DBCONFIG_TLS_ENABLED", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED"],
    "postgres.tls.ca_file" => ["DBCONFIG_TLS_CA_FILE", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CA_FILE"],
    "postgres.tls.cert_file" => ["DBCONFIG_TLS_CERT_FILE", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CERT_FILE"],
    "postgres.tls.key_file" => ["DBCONFIG_TLS_KEY_FILE", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_KEY_FILE"],
    "postgres.tls.check_hostname" => ["DBCONFIG_TLS_CHECK_HOSTNAME", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CHECK_HOSTNAME"],
};

/// Field names of dbconfig 0.1, before the backends' fields moved into `sqlite` and
/// `postgres`, and where each went; [`Settings::set_field`] still takes them. A name ending in
/// `.` moves every field under it.
const MOVED_FIELDS: &[(&str, &[&str])] = &[
    (
        "timeout",
        &["postgres.statement_timeout", "sqlite.setup_busy_timeout"],
    ),
    ("busy_timeout", &["sqlite.busy_timeout"]),
    ("pragmas.", &["sqlite.pragmas."]),
    ("pool_pre_ping", &["postgres.pool_pre_ping"]),
    ("application_name", &["postgres.application_name"]),
    ("search_path", &["postgres.search_path"]),
    (
        "prepared_statement_cache_size",
        &["postgres.prepared_statement_cache_size"],
    ),
    ("pgbouncer_mode", &["postgres.pgbouncer_mode"]),
    ("tls.", &["postgres.tls."]),
];

/// Where a field of dbconfig 0.1 went, or `None` for a current name.
fn moved(field: &str) -> Option<Vec<String>> {
    MOVED_FIELDS.iter().find_map(|(old, new)| {
        let rest = if old.ends_with('.') {
            field.strip_prefix(old)?
        } else if field == *old {
            ""
        } else {
            return None;
        };
        Some(new.iter().map(|n| format!("{n}{rest}")).collect())
    })
}

const COUNT: &str = "a non-negative integer";

impl Settings {
    /// Reads settings from the process environment. Same as
    /// [`Settings::from_env_map`] over `std::env::vars()`.
    ///
    /// # Errors
    /// A variable with a bad value, named.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_env_map(std::env::vars())
    }

    /// Reads settings from the given variables; fields whose variables are all absent keep their
    /// defaults. For each field the first name set in [`ENV_VARS`] wins (`DBCONFIG_*` first).
    /// A value that is present is always used, including `0`, `false` and `""`.
    ///
    /// # Errors
    /// A variable with a bad value: the error names the variable.
    pub fn from_env_map<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self, SettingsError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let mut settings = Settings::default();
        for var in ENV_VARS {
            if let Some((name, value)) = var
                .names
                .iter()
                .find_map(|name| vars.get(*name).map(|value| (*name, value.as_str())))
            {
                settings.set_field(var.field, name, value)?;
            }
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Sets one field (named as in [`EnvVar::field`], e.g. `sqlite.busy_timeout`; the flat
    /// names of dbconfig 0.1 such as `busy_timeout` or `timeout` still work) from its string
    /// form; `key` names the source in errors.
    ///
    /// # Errors
    /// A bad value (one that does not parse or is outside the field's allowed range), or an
    /// unknown field.
    pub fn set_field(&mut self, field: &str, key: &str, value: &str) -> Result<(), SettingsError> {
        if let Some(fields) = moved(field) {
            return fields
                .iter()
                .try_for_each(|field| self.set_field(field, key, value));
        }
        let opt_string = |v: &str| Some(v.to_owned());
        let (sqlite, postgres) = (&mut self.sqlite, &mut self.postgres);
        match field {
            "connection_url" => {
                let url = value.parse().map_err(|source| SettingsError::InvalidUrl {
                    key: key.to_owned(),
                    source,
                })?;
                self.connection_url = Some(url);
            }
            "echo" => self.echo = parse_bool(key, value)?,
            "connection_timeout" => self.connection_timeout = parse_opt_duration(key, value)?,
            "pool_size" => self.pool_size = parse_int(key, value, POOL_SIZE)?,
            "max_overflow" => self.max_overflow = parse_int(key, value, MAX_OVERFLOW)?,
            "pool_recycle" => {
                // The original takes -1 for "never recycle".
                self.pool_recycle = match value.trim() {
                    "-1" => None,
                    _ => parse_opt_duration(key, value)?,
                };
            }
            "pool_timeout" => self.pool_timeout = parse_duration(key, value)?,
            "statement_cache_size" => {
                self.statement_cache_size = Some(parse_int(key, value, COUNT)?)
            }
            "postgres.replica_urls" => {
                postgres.replica_urls = value
                    .split_whitespace()
                    .map(|url| {
                        url.parse().map_err(|source| SettingsError::InvalidUrl {
                            key: key.to_owned(),
                            source,
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            "sqlite.busy_timeout" => sqlite.busy_timeout = parse_duration(key, value)?,
            "sqlite.setup_busy_timeout" => {
                sqlite.setup_busy_timeout = parse_opt_duration(key, value)?
            }
            "sqlite.pragmas.journal_mode" => {
                sqlite.pragmas.journal_mode =
                    value.parse().map_err(|e: SettingsError| e.with_key(key))?;
            }
            "sqlite.pragmas.foreign_keys" => sqlite.pragmas.foreign_keys = parse_bool(key, value)?,
            "sqlite.pragmas.legacy_alter_table" => {
                sqlite.pragmas.legacy_alter_table = parse_bool(key, value)?
            }
            "sqlite.pragmas.synchronous" => {
                sqlite.pragmas.synchronous =
                    value.parse().map_err(|e: SettingsError| e.with_key(key))?;
            }
            "sqlite.pragmas.cache_size" => {
                sqlite.pragmas.cache_size = parse_int(key, value, "an integer")?
            }
            "sqlite.pragmas.wal_autocheckpoint" => {
                sqlite.pragmas.wal_autocheckpoint = parse_int(key, value, COUNT)?
            }
            "sqlite.pragmas.journal_size_limit" => {
                sqlite.pragmas.journal_size_limit =
                    parse_int(key, value, "a size in bytes, or -1 for no limit")?
            }
            // Empty = no key (SQLCipher reads an empty key as "no encryption" too).
            "sqlite.key" if value.is_empty() => sqlite.key = None,
            "sqlite.key" => {
                sqlite.key = Some(SqliteKey::new(value).map_err(|e| e.with_key(key))?);
            }
            "sqlite.pragmas.extra" => {
                sqlite.pragmas.extra = SqlitePragmas::parse_extra(key, value)?
            }
            "sqlite.pragmas.allow_unsafe" => sqlite.pragmas.allow_unsafe = parse_bool(key, value)?,
            "postgres.statement_timeout" => {
                postgres.statement_timeout = parse_opt_duration(key, value)?
            }
            "postgres.pool_pre_ping" => postgres.pool_pre_ping = parse_opt_duration(key, value)?,
            "postgres.application_name" => postgres.application_name = opt_string(value),
            "postgres.search_path" => postgres.search_path = opt_string(value),
            "postgres.prepared_statement_cache_size" => {
                postgres.prepared_statement_cache_size = Some(parse_int(key, value, COUNT)?);
            }
            "postgres.pgbouncer_mode" => postgres.pgbouncer_mode = parse_bool(key, value)?,
            "postgres.tls.enabled" => postgres.tls.enabled = parse_bool(key, value)?,
            "postgres.tls.ca_file" => postgres.tls.ca_file = non_empty_path(value),
            "postgres.tls.cert_file" => postgres.tls.cert_file = non_empty_path(value),
            "postgres.tls.key_file" => postgres.tls.key_file = non_empty_path(value),
            "postgres.tls.check_hostname" => postgres.tls.check_hostname = parse_bool(key, value)?,
            _ => return Err(SettingsError::invalid(key, field, "a known settings field")),
        }
        // The range error names the variable and shows the value as it was written.
        match ranges::check_field(self, field) {
            Err(SettingsError::InvalidValue { expected, .. }) => {
                Err(SettingsError::invalid(key, value, expected))
            }
            other => other,
        }
    }
}

// TLS file settings: the original treats an empty string as "not set" (`if ca_file:`).
fn non_empty_path(value: &str) -> Option<std::path::PathBuf> {
    (!value.is_empty()).then(|| value.into())
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
