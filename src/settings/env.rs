//! [`Settings::from_env`]: `DBCONFIG_*` variables, and the original's
//! `PREFECT_SERVER_DATABASE_*` / `PREFECT_API_DATABASE_*` / `PREFECT_SQLALCHEMY_*` names.

use std::collections::HashMap;

use super::ranges::{self, MAX_OVERFLOW, POOL_SIZE};
use super::value::{parse_bool, parse_duration, parse_int, parse_opt_duration};
use super::{Settings, SettingsError, SqlitePragmas};

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
    "sqlite.pragmas.extra" => ["DBCONFIG_SQLITE_PRAGMAS"],
    "sqlite.pragmas.allow_unsafe" => ["DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS"],
    "postgres.statement_timeout" => ["DBCONFIG_STATEMENT_TIMEOUT", "DBCONFIG_TIMEOUT", "PREFECT_SERVER_DATABASE_TIMEOUT", "PREFECT_API_DATABASE_TIMEOUT"],
    "postgres.pool_pre_ping" => ["DBCONFIG_POOL_PRE_PING"],
    "postgres.application_name" => ["DBCONFIG_APPLICATION_NAME", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_APPLICATION_NAME"],
    "postgres.search_path" => ["DBCONFIG_SEARCH_PATH", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_SEARCH_PATH"],
    "postgres.prepared_statement_cache_size" => ["DBCONFIG_PREPARED_STATEMENT_CACHE_SIZE", "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_PREPARED_STATEMENT_CACHE_SIZE"],
    "postgres.pgbouncer_mode" => ["DBCONFIG_PGBOUNCER_MODE"],
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
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::settings::{JournalMode, Synchronous};

    fn from(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_env_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn empty_environment_gives_defaults() {
        assert_eq!(from(&[]).unwrap(), Settings::default());
    }

    #[test]
    fn explicit_zero_false_and_empty_are_kept() {
        let s = from(&[
            ("DBCONFIG_ECHO", "false"),
            ("DBCONFIG_TIMEOUT", "0"),
            ("DBCONFIG_POOL_SIZE", "0"),
            ("DBCONFIG_MAX_OVERFLOW", "0"),
            ("DBCONFIG_APPLICATION_NAME", ""),
            ("DBCONFIG_STATEMENT_CACHE_SIZE", "0"),
            ("DBCONFIG_PREPARED_STATEMENT_CACHE_SIZE", "0"),
            ("DBCONFIG_TLS_CHECK_HOSTNAME", "false"),
            ("DBCONFIG_SQLITE_FOREIGN_KEYS", "0"),
            ("DBCONFIG_CONNECTION_TIMEOUT", ""),
        ])
        .unwrap();
        assert!(!s.echo);
        assert_eq!(s.postgres.statement_timeout, Some(Duration::ZERO));
        assert_eq!(s.sqlite.setup_busy_timeout, Some(Duration::ZERO));
        assert_eq!((s.pool_size, s.max_overflow), (0, 0));
        assert_eq!(s.postgres.application_name.as_deref(), Some(""));
        assert_eq!(s.statement_cache_size, Some(0));
        assert_eq!(s.postgres.prepared_statement_cache_size, Some(0));
        assert!(!s.postgres.tls.check_hostname);
        assert!(!s.sqlite.pragmas.foreign_keys);
        assert_eq!(s.connection_timeout, None);
    }

    #[test]
    fn every_field_from_dbconfig_names() {
        let s = from(&[
            ("DBCONFIG_CONNECTION_URL", "sqlite:///app.db"),
            ("DBCONFIG_ECHO", "true"),
            ("DBCONFIG_TIMEOUT", "2.5"),
            ("DBCONFIG_CONNECTION_TIMEOUT", "750ms"),
            ("DBCONFIG_POOL_SIZE", "7"),
            ("DBCONFIG_MAX_OVERFLOW", "-1"),
            ("DBCONFIG_POOL_RECYCLE", "-1"),
            ("DBCONFIG_POOL_TIMEOUT", "3"),
            ("DBCONFIG_APPLICATION_NAME", "svc"),
            ("DBCONFIG_SEARCH_PATH", "app, public"),
            ("DBCONFIG_STATEMENT_CACHE_SIZE", "100"),
            ("DBCONFIG_PREPARED_STATEMENT_CACHE_SIZE", "50"),
            ("DBCONFIG_TLS_ENABLED", "yes"),
            ("DBCONFIG_TLS_CA_FILE", "/ca.pem"),
            ("DBCONFIG_TLS_CERT_FILE", "/c.pem"),
            ("DBCONFIG_TLS_KEY_FILE", "/k.pem"),
            ("DBCONFIG_TLS_CHECK_HOSTNAME", "off"),
            ("DBCONFIG_BUSY_TIMEOUT", "5s"),
            ("DBCONFIG_SQLITE_JOURNAL_MODE", "truncate"),
            ("DBCONFIG_SQLITE_FOREIGN_KEYS", "false"),
            ("DBCONFIG_SQLITE_LEGACY_ALTER_TABLE", "true"),
            ("DBCONFIG_SQLITE_SYNCHRONOUS", "FULL"),
            ("DBCONFIG_SQLITE_CACHE_SIZE", "-4000"),
            ("DBCONFIG_SQLITE_PRAGMAS", "temp_store=memory"),
            ("DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS", "yes"),
            ("DBCONFIG_PGBOUNCER_MODE", "yes"),
            ("DBCONFIG_POOL_PRE_PING", "250ms"),
        ])
        .unwrap();
        let expected = Settings {
            connection_url: Some("sqlite:///app.db".parse().unwrap()),
            echo: true,
            connection_timeout: Some(Duration::from_millis(750)),
            pool_size: 7,
            max_overflow: -1,
            pool_recycle: None,
            pool_timeout: Duration::from_secs(3),
            statement_cache_size: Some(100),
            sqlite: crate::SqliteSettings {
                busy_timeout: Duration::from_secs(5),
                setup_busy_timeout: Some(Duration::from_millis(2500)),
                pragmas: SqlitePragmas {
                    journal_mode: JournalMode::Truncate,
                    foreign_keys: false,
                    legacy_alter_table: true,
                    synchronous: Synchronous::Full,
                    cache_size: -4000,
                    extra: vec![("temp_store".into(), "memory".into())],
                    allow_unsafe: true,
                },
            },
            postgres: crate::PostgresSettings {
                statement_timeout: Some(Duration::from_millis(2500)),
                pool_pre_ping: Some(Duration::from_millis(250)),
                application_name: Some("svc".into()),
                search_path: Some("app, public".into()),
                prepared_statement_cache_size: Some(50),
                pgbouncer_mode: true,
                tls: crate::settings::TlsSettings {
                    enabled: true,
                    ca_file: Some("/ca.pem".into()),
                    cert_file: Some("/c.pem".into()),
                    key_file: Some("/k.pem".into()),
                    check_hostname: false,
                },
            },
        };
        assert_eq!(s, expected);
    }

    /// `DBCONFIG_TIMEOUT` and the original's `timeout` variables set both backends' fields, as
    /// the original's `timeout` did; each backend's own variable wins over them.
    #[test]
    fn the_shared_timeout_variable_sets_both_and_the_specific_ones_win() {
        let s = from(&[("PREFECT_API_DATABASE_TIMEOUT", "7")]).unwrap();
        assert_eq!(s.postgres.statement_timeout, Some(Duration::from_secs(7)));
        assert_eq!(s.sqlite.setup_busy_timeout, Some(Duration::from_secs(7)));
        let s = from(&[
            ("DBCONFIG_TIMEOUT", "7"),
            ("DBCONFIG_STATEMENT_TIMEOUT", "3"),
            ("DBCONFIG_SQLITE_SETUP_BUSY_TIMEOUT", "1"),
            ("DBCONFIG_SQLITE_BUSY_TIMEOUT", "2"),
            ("DBCONFIG_BUSY_TIMEOUT", "9"),
        ])
        .unwrap();
        assert_eq!(s.postgres.statement_timeout, Some(Duration::from_secs(3)));
        assert_eq!(s.sqlite.setup_busy_timeout, Some(Duration::from_secs(1)));
        assert_eq!(s.sqlite.busy_timeout, Duration::from_secs(2));
    }

    /// `set_field` still takes the flat field names of dbconfig 0.1.
    #[test]
    fn set_field_takes_the_old_flat_names() {
        let mut s = Settings::default();
        s.set_field("timeout", "t", "4").unwrap();
        s.set_field("busy_timeout", "b", "5").unwrap();
        s.set_field("pragmas.cache_size", "c", "-100").unwrap();
        s.set_field("tls.enabled", "e", "true").unwrap();
        s.set_field("application_name", "a", "svc").unwrap();
        assert_eq!(s.postgres.statement_timeout, Some(Duration::from_secs(4)));
        assert_eq!(s.sqlite.setup_busy_timeout, Some(Duration::from_secs(4)));
        assert_eq!(s.sqlite.busy_timeout, Duration::from_secs(5));
        assert_eq!(s.sqlite.pragmas.cache_size, -100);
        assert!(s.postgres.tls.enabled);
        assert_eq!(s.postgres.application_name.as_deref(), Some("svc"));
        let err = s.set_field("tls.nonsense", "x", "1").unwrap_err();
        assert_eq!(err.key(), "x");
    }

    #[test]
    fn original_names_and_precedence() {
        let s = from(&[
            (
                "PREFECT_API_DATABASE_CONNECTION_URL",
                "postgresql+asyncpg://u:pw@db/prefect",
            ),
            ("PREFECT_SERVER_DATABASE_TIMEOUT", "20"),
            ("PREFECT_API_DATABASE_TIMEOUT", "30"),
            ("PREFECT_SQLALCHEMY_POOL_SIZE", "9"),
            ("PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW", "0"),
            (
                "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_SEARCH_PATH",
                "prefect, public",
            ),
            (
                "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED",
                "true",
            ),
            ("DBCONFIG_POOL_TIMEOUT", "1"),
            ("PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_TIMEOUT", "99"),
        ])
        .unwrap();
        assert!(s.connection_url.is_some());
        assert_eq!(
            s.postgres.statement_timeout,
            Some(Duration::from_secs(20)),
            "SERVER beats API"
        );
        assert_eq!(s.pool_size, 9);
        assert_eq!(s.max_overflow, 0);
        assert_eq!(s.postgres.search_path.as_deref(), Some("prefect, public"));
        assert!(s.postgres.tls.enabled);
        assert_eq!(
            s.pool_timeout,
            Duration::from_secs(1),
            "DBCONFIG beats PREFECT"
        );
    }

    /// The values of the reliability issue (and the edges of each range): an `InvalidValue`
    /// naming the variable, showing the value as written, and stating the range.
    #[test]
    fn out_of_range_values_name_the_variable_and_the_range() {
        const DURATION: &str = "a duration from 0 to 2147483647ms (about 24.8 days)";
        const OPTIONAL: &str =
            "a duration from 0 to 2147483647ms (about 24.8 days), or none for no limit";
        const CONNECT: &str = "a duration from 1ms to 2147483647ms (about 24.8 days), or none \
                               for no limit (0 would fail every connect)";
        const NEVER: &str =
            "a duration from 0 to 2147483647ms (about 24.8 days), or none for never";
        const FORMAT: &str =
            "a duration in seconds (e.g. 10, 2.5) or with a unit (500ms, 10s, 2m, 1h)";
        let cases = [
            ("DBCONFIG_BUSY_TIMEOUT", "600h", DURATION),
            ("DBCONFIG_BUSY_TIMEOUT", "2147483648ms", DURATION),
            ("DBCONFIG_TIMEOUT", "1e9", OPTIONAL),
            ("DBCONFIG_TIMEOUT", "1e19", OPTIONAL),
            ("DBCONFIG_TIMEOUT", "720h", OPTIONAL),
            ("DBCONFIG_TIMEOUT", "inf", OPTIONAL),
            ("PREFECT_API_DATABASE_TIMEOUT", "1e400", OPTIONAL),
            ("DBCONFIG_CONNECTION_TIMEOUT", "1e19", CONNECT),
            ("DBCONFIG_CONNECTION_TIMEOUT", "0", CONNECT),
            ("DBCONFIG_CONNECTION_TIMEOUT", "0.5ms", CONNECT),
            ("DBCONFIG_POOL_RECYCLE", "25d", FORMAT),
            ("DBCONFIG_POOL_RECYCLE", "600h", NEVER),
            ("DBCONFIG_POOL_PRE_PING", "1e10", NEVER),
            ("DBCONFIG_POOL_TIMEOUT", "1e19", DURATION),
            (
                "DBCONFIG_POOL_SIZE",
                "4294967295",
                "an integer from 0 to 10000",
            ),
            (
                "DBCONFIG_POOL_SIZE",
                "4294967296",
                "an integer from 0 to 10000",
            ),
            (
                "PREFECT_SQLALCHEMY_POOL_SIZE",
                "10001",
                "an integer from 0 to 10000",
            ),
            (
                "DBCONFIG_MAX_OVERFLOW",
                "2147483647",
                "an integer from 0 to 10000, or -1 for no limit",
            ),
            (
                "DBCONFIG_MAX_OVERFLOW",
                "-2",
                "an integer from 0 to 10000, or -1 for no limit",
            ),
        ];
        for (name, value, expected) in cases {
            assert_eq!(
                from(&[(name, value)]),
                Err(SettingsError::InvalidValue {
                    key: name.into(),
                    value: value.into(),
                    expected,
                }),
                "{name}={value}"
            );
        }
    }

    #[test]
    fn the_edges_of_each_range_are_accepted() {
        let s = from(&[
            ("DBCONFIG_BUSY_TIMEOUT", "2147483647ms"),
            ("DBCONFIG_TIMEOUT", "2147483.647"),
            ("DBCONFIG_CONNECTION_TIMEOUT", "1ms"),
            ("DBCONFIG_POOL_SIZE", "10000"),
            ("DBCONFIG_MAX_OVERFLOW", "10000"),
            ("DBCONFIG_POOL_RECYCLE", "0"),
            ("DBCONFIG_POOL_TIMEOUT", "0"),
        ])
        .unwrap();
        assert_eq!(s.sqlite.busy_timeout, crate::settings::DURATION_MAX);
        assert!(s.postgres.statement_timeout.unwrap() <= crate::settings::DURATION_MAX);
        assert_eq!(s.connection_timeout, Some(Duration::from_millis(1)));
        assert_eq!(s.max_connections(), 20_000);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases = [
            ("DBCONFIG_ECHO", "maybe"),
            ("DBCONFIG_TIMEOUT", "-3"),
            ("PREFECT_SQLALCHEMY_POOL_SIZE", "-1"),
            ("DBCONFIG_POOL_SIZE", ""),
            ("DBCONFIG_MAX_OVERFLOW", "-2"),
            ("DBCONFIG_POOL_TIMEOUT", ""),
            ("DBCONFIG_SQLITE_JOURNAL_MODE", "wall"),
            ("DBCONFIG_SQLITE_SYNCHRONOUS", "sometimes"),
            ("DBCONFIG_SQLITE_PRAGMAS", "x=1;DROP TABLE t"),
            ("DBCONFIG_SQLITE_PRAGMAS", "cache_szie=1000"),
            ("DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS", "maybe"),
            (
                "PREFECT_SERVER_DATABASE_CONNECTION_URL",
                "mysql://u:hunter2@h/db",
            ),
            ("DBCONFIG_TLS_CERT_FILE", "/only-cert.pem"),
        ];
        for (name, value) in cases {
            let err = from(&[(name, value)]).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(
                err.key() == name || err.key().starts_with("postgres.tls."),
                "{name}: {err}"
            );
            assert!(!shown.contains("hunter2"), "password leaked: {shown}");
        }
    }
}
