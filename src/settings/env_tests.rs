//! Tests of [`Settings::from_env`] and [`Settings::set_field`].

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
        ("DBCONFIG_SQLITE_WAL_AUTOCHECKPOINT", "0"),
        ("DBCONFIG_SQLITE_JOURNAL_SIZE_LIMIT", "-1"),
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
                wal_autocheckpoint: 0,
                journal_size_limit: -1,
                extra: vec![("temp_store".into(), "memory".into())],
                allow_unsafe: true,
            },
            key: None,
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
            replica_urls: Vec::new(),
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
    const NEVER: &str = "a duration from 0 to 2147483647ms (about 24.8 days), or none for never";
    const FORMAT: &str = "a duration in seconds (e.g. 10, 2.5) or with a unit (500ms, 10s, 2m, 1h)";
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

/// A problem `validate()` finds names the field as `ENV_VARS` does (the fuzz target found
/// `pragmas.synchronous` named after the field had moved to `sqlite.pragmas`).
#[test]
fn validation_errors_name_current_fields() {
    for (name, value) in [
        ("DBCONFIG_SQLITE_SYNCHRONOUS", "off"),
        ("DBCONFIG_SQLITE_JOURNAL_MODE", "off"),
        ("DBCONFIG_SQLITE_PRAGMAS", "writable_schema=1"),
        ("DBCONFIG_TLS_CERT_FILE", "/c.pem"),
        ("DBCONFIG_TLS_KEY_FILE", "/k.pem"),
    ] {
        let err = from(&[(name, value)]).unwrap_err();
        let key = err.key();
        assert!(
            key == name || ENV_VARS.iter().any(|v| v.field == key),
            "{name}={value}: {err} names {key:?}"
        );
    }
}

/// `DBCONFIG_SQLITE_KEY`: read into `sqlite.key` with the `sqlcipher` feature, refused without
/// it (plain SQLite would ignore the key and write in clear); never shown either way.
#[test]
fn sqlite_key_from_the_environment() {
    let got = from(&[
        ("DBCONFIG_CONNECTION_URL", "sqlite:///app.db"),
        ("DBCONFIG_SQLITE_KEY", "hunter2-key"),
    ]);
    if cfg!(feature = "sqlcipher") {
        let s = got.unwrap();
        assert_eq!(
            s.sqlite_key().map(crate::SqliteKey::expose),
            Some("hunter2-key")
        );
        assert!(!format!("{s:?}").contains("hunter2"));
    } else {
        let err = got.unwrap_err();
        assert_eq!(err.key(), "sqlite.key");
        assert!(err.to_string().contains("`sqlcipher` feature"), "{err}");
        assert!(!format!("{err} {err:?}").contains("hunter2"));
    }
    // A SQLCipher url: opened with the feature, refused (naming it) without.
    let got = from(&[(
        "DBCONFIG_CONNECTION_URL",
        "sqlite+pysqlcipher://:k3y@/app.db",
    )]);
    if cfg!(feature = "sqlcipher") {
        assert_eq!(
            got.unwrap().sqlite_key().map(crate::SqliteKey::expose),
            Some("k3y")
        );
    } else {
        let err = got.unwrap_err();
        assert!(err.to_string().contains("`sqlcipher` feature"), "{err}");
        assert!(!format!("{err} {err:?}").contains("k3y"));
    }
    // An empty variable is no key.
    let s = from(&[("DBCONFIG_SQLITE_KEY", "")]).unwrap();
    assert!(s.sqlite_key().is_none());
    // A key in the url and in the settings: a conflict, whatever the build.
    let err = from(&[
        ("DBCONFIG_CONNECTION_URL", "sqlite+pysqlcipher://:a@/app.db"),
        ("DBCONFIG_SQLITE_KEY", "b"),
    ])
    .unwrap_err();
    assert_eq!(err.key(), "sqlite.key");
    // In memory: nothing on disk to encrypt.
    let err = from(&[("DBCONFIG_CONNECTION_URL", "sqlite+pysqlcipher://:a@")]).unwrap_err();
    assert_eq!(err.key(), "sqlite.key");
}

/// `DBCONFIG_REPLICA_URLS`: PostgreSQL URLs separated by spaces; their passwords are redacted
/// when the settings are serialised.
#[test]
fn replica_urls_from_the_environment() {
    let s = from(&[
        ("DBCONFIG_CONNECTION_URL", "postgresql://u@primary/app"),
        (
            "DBCONFIG_REPLICA_URLS",
            "postgresql://u:r1-secret@replica1/app  postgresql://u:r2-secret@replica2/app",
        ),
    ])
    .unwrap();
    assert_eq!(s.postgres.replica_urls.len(), 2);
    assert!(!format!("{s:?}").contains("secret"));
    #[cfg(feature = "serde")]
    {
        let shown = serde_json::to_string(&s).unwrap();
        assert!(
            !shown.contains("secret") && shown.contains("replica2"),
            "{shown}"
        );
        let clear = serde_json::to_string(&s.with_secrets()).unwrap();
        let back: Settings = serde_json::from_str(&clear).unwrap();
        assert_eq!(back, s);
        // The redacted form does not read back, and the error names the field.
        let err = serde_json::from_str::<Settings>(&shown)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("postgres.replica_urls: the password or key is redacted"),
            "{err}"
        );
    }
    // A replica of a SQLite database, or a SQLite replica: refused.
    let err = from(&[
        ("DBCONFIG_CONNECTION_URL", "sqlite:///app.db"),
        ("DBCONFIG_REPLICA_URLS", "postgresql://replica/app"),
    ])
    .unwrap_err();
    assert_eq!(err.key(), "postgres.replica_urls");
    let err = from(&[("DBCONFIG_REPLICA_URLS", "not a url")]).unwrap_err();
    assert_eq!(err.key(), "DBCONFIG_REPLICA_URLS");
}
