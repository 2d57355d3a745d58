//! Out-of-range settings (reliability issue, item 7): each extreme value gives a typed error
//! naming the variable (or field) and the allowed range when the settings are made; before, it
//! panicked, aborted the process or gave an engine whose every connect failed. Building an
//! engine opens no connection here except the in-memory SQLite keeper, the one place
//! `busy_timeout` is applied at build time. The edges of each range are shown to work against
//! the real databases.

use crate::common;

use std::time::Duration;

use dbconfig::PostgresSettings;
use dbconfig::SqliteSettings;
use dbconfig::settings::{DURATION_MAX, MAX_OVERFLOW_MAX, POOL_SIZE_MAX, SettingsError};
use dbconfig::{Dialect, Error, PostgresConfig, Settings, SqliteConfig};

const SQLITE: &str = "sqlite://";
/// Nothing listens on port 1: a connect attempt would fail, but none is made.
const POSTGRES: &str = "postgresql://u@localhost:1/db";

/// Settings from `vars` plus `DBCONFIG_CONNECTION_URL = url`, then an engine built from them.
fn build_from_env(url: &str, vars: &[(&str, &str)]) -> Result<(), Error> {
    let mut all = vec![("DBCONFIG_CONNECTION_URL", url)];
    all.extend_from_slice(vars);
    build(Settings::from_env_map(all)?)
}

fn build(settings: Settings) -> Result<(), Error> {
    if settings.connection_url.as_ref().map(|u| u.dialect()) == Some(Dialect::Sqlite) {
        SqliteConfig::from_settings(settings)?
            .build_engine()?
            .dispose();
    } else {
        PostgresConfig::from_settings(settings)?
            .build_engine()?
            .dispose();
    }
    Ok(())
}

/// The error is `InvalidValue` about `key`, and its message names `key` and states `range`.
fn assert_out_of_range(result: Result<(), Error>, key: &str, range: &str) {
    let err = match result {
        Err(Error::Settings(err)) => err,
        other => panic!("{key}: expected a settings error, got {other:?}"),
    };
    assert!(
        matches!(&err, SettingsError::InvalidValue { key: k, .. } if k == key),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(key) && message.contains(range),
        "{message}"
    );
}

const MS_MAX: &str = "from 0 to 2147483647ms";
const POOL: &str = "an integer from 0 to 10000";
const NO_ZERO: &str = "from 1ms to 2147483647ms (about 24.8 days), or none for no limit";

/// Backend URL, variables, the variable the error must name, the range it must state.
type EnvCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

/// The values, on each backend they broke, and what happened before.
const FROM_ENV: &[EnvCase] = &[
    // rusqlite panicked "too big" (more than i32::MAX ms) when the keeper opened.
    (
        SQLITE,
        &[("DBCONFIG_BUSY_TIMEOUT", "600h")],
        "DBCONFIG_BUSY_TIMEOUT",
        MS_MAX,
    ),
    (
        SQLITE,
        &[("DBCONFIG_TIMEOUT", "1e9")],
        "DBCONFIG_TIMEOUT",
        MS_MAX,
    ),
    // `timeout + connection_timeout` panicked "overflow when adding durations".
    (
        POSTGRES,
        &[
            ("DBCONFIG_TIMEOUT", "1e19"),
            ("DBCONFIG_CONNECTION_TIMEOUT", "1e19"),
        ],
        // The shared field is read (and checked) before the backends' own.
        "DBCONFIG_CONNECTION_TIMEOUT",
        NO_ZERO,
    ),
    (
        POSTGRES,
        &[("DBCONFIG_CONNECTION_TIMEOUT", "1e19")],
        "DBCONFIG_CONNECTION_TIMEOUT",
        NO_ZERO,
    ),
    // deadpool allocated a slot per connection up front: 343 GB, then SIGABRT.
    (
        SQLITE,
        &[("DBCONFIG_POOL_SIZE", "4294967295")],
        "DBCONFIG_POOL_SIZE",
        POOL,
    ),
    (
        POSTGRES,
        &[("DBCONFIG_POOL_SIZE", "4294967295")],
        "DBCONFIG_POOL_SIZE",
        POOL,
    ),
    (
        SQLITE,
        &[("DBCONFIG_MAX_OVERFLOW", "2147483647")],
        "DBCONFIG_MAX_OVERFLOW",
        POOL,
    ),
    (
        POSTGRES,
        &[("DBCONFIG_MAX_OVERFLOW", "2147483647")],
        "DBCONFIG_MAX_OVERFLOW",
        POOL,
    ),
    // Accepted, then every connect failed: "invalid value for parameter statement_timeout".
    (
        POSTGRES,
        &[("DBCONFIG_TIMEOUT", "720h")],
        "DBCONFIG_TIMEOUT",
        MS_MAX,
    ),
    // Accepted, then every connect timed out at once ("after 0ns").
    (
        SQLITE,
        &[("DBCONFIG_CONNECTION_TIMEOUT", "0")],
        "DBCONFIG_CONNECTION_TIMEOUT",
        NO_ZERO,
    ),
    (
        POSTGRES,
        &[("DBCONFIG_CONNECTION_TIMEOUT", "0")],
        "DBCONFIG_CONNECTION_TIMEOUT",
        NO_ZERO,
    ),
];

#[tokio::test]
async fn extreme_values_from_the_environment_are_errors_naming_the_variable() {
    for (url, vars, key, range) in FROM_ENV {
        assert_out_of_range(build_from_env(url, vars), key, range);
    }
}

/// The same values set in code: the error names the field.
#[tokio::test]
async fn extreme_values_set_in_code_are_errors_naming_the_field() {
    const HOUR: Duration = Duration::from_secs(3600);
    type Tune = fn(&mut Settings);
    let cases: [(Tune, &str, &str); 6] = [
        (
            |s| s.sqlite.busy_timeout = HOUR * 600,
            "sqlite.busy_timeout",
            MS_MAX,
        ),
        (
            |s| s.sqlite.setup_busy_timeout = Some(Duration::from_secs(1_000_000_000)),
            "sqlite.setup_busy_timeout",
            MS_MAX,
        ),
        (
            |s| s.postgres.statement_timeout = Some(HOUR * 720),
            "postgres.statement_timeout",
            MS_MAX,
        ),
        (
            |s| s.connection_timeout = Some(Duration::ZERO),
            "connection_timeout",
            NO_ZERO,
        ),
        (|s| s.pool_size = u32::MAX, "pool_size", POOL),
        (|s| s.max_overflow = i32::MAX, "max_overflow", POOL),
    ];
    for url in [SQLITE, POSTGRES] {
        for (tune, field, range) in cases {
            let mut settings = Settings::default().with_url(url.parse().unwrap());
            tune(&mut settings);
            assert_out_of_range(build(settings), field, range);
        }
    }
    let mut settings = Settings::default().with_url(POSTGRES.parse().unwrap());
    settings.postgres.statement_timeout = Some(Duration::from_secs(10_000_000_000_000_000_000));
    settings.connection_timeout = settings.postgres.statement_timeout;
    assert_out_of_range(build(settings), "connection_timeout", NO_ZERO);
    let mut settings = Settings::default().with_url(POSTGRES.parse().unwrap());
    settings.postgres.statement_timeout = Some(Duration::from_secs(10_000_000_000_000_000_000));
    assert_out_of_range(build(settings), "postgres.statement_timeout", MS_MAX);
}

fn at_the_limits(url: &str) -> Settings {
    Settings::new()
        .with_connection_timeout(Some(DURATION_MAX))
        .with_pool_size(POOL_SIZE_MAX)
        .with_max_overflow(MAX_OVERFLOW_MAX)
        .with_pool_recycle(Some(DURATION_MAX))
        .with_pool_timeout(DURATION_MAX)
        .with_sqlite(
            SqliteSettings::default()
                .with_busy_timeout(DURATION_MAX)
                .with_setup_busy_timeout(Some(DURATION_MAX)),
        )
        .with_postgres(
            PostgresSettings::default()
                .with_statement_timeout(Some(DURATION_MAX))
                .with_pool_pre_ping(Some(DURATION_MAX)),
        )
        .with_url(url.parse().unwrap())
}

/// The largest values allowed work on SQLite: the busy timeout SQLite reports is the limit.
#[tokio::test]
async fn sqlite_works_at_the_top_of_every_range() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::file_url(dir.path(), "limits.db");
    let engine = SqliteConfig::from_settings(at_the_limits(&url))
        .unwrap()
        .build_engine()
        .unwrap();
    assert_eq!(engine.status().max_size, 20_000);
    let busy: i64 = engine
        .session()
        .run(|c| c.query_row("PRAGMA busy_timeout", [], |r| r.get(0)))
        .await
        .unwrap();
    assert_eq!(busy, i64::from(i32::MAX));
    engine.dispose();
}

/// The largest values allowed work on PostgreSQL: the server takes the largest
/// `statement_timeout` (one millisecond more was refused at every connect).
#[tokio::test]
async fn postgres_works_at_the_edges_of_every_range() {
    let Some(url) = common::pg_url("limits") else {
        return;
    };
    let engine = PostgresConfig::from_settings(at_the_limits(&url))
        .unwrap()
        .build_engine()
        .unwrap();
    assert_eq!(engine.status().max_size, 20_000);
    let mut session = engine.session();
    let shown: String = session
        .client()
        .await
        .unwrap()
        .query_one("SHOW statement_timeout", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(shown, "2147483647ms");
    drop(session);
    engine.dispose();
}
