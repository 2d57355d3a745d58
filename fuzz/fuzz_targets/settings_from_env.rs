//! Arbitrary maps of environment variables into `Settings::from_env_map`: never a panic; an
//! error names one of the variables given; a success validates, holds only values the backends
//! take, and an engine of each backend builds from it (or fails with an error) without a panic
//! or an abort. No connection is opened beyond SQLite's in-memory keeper; PostgreSQL engines
//! connect lazily.
//!
//! The `seed-*` inputs hold the values of the reliability issue (`DBCONFIG_BUSY_TIMEOUT=600h`,
//! `DBCONFIG_POOL_SIZE=4294967295`…) as `Name::Other` / `Value::Text` strings, so they keep
//! their meaning when `ENV_VARS` or `VALUES` change.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use dbconfig::settings::{ENV_VARS, Settings};
use dbconfig::url::SqliteUrl;
use dbconfig::{ConnectionUrl, PostgresConfig, SqliteConfig};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u16),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Text(String),
    Known(u8),
}

const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "true",
    "off",
    "2.5",
    "1e9",
    "nan",
    "inf",
    "-0",
    "18446744073709551616",
    "none",
    "",
    " 5 ",
    "wal",
    "FULL",
    "temp_store=memory;mmap_size=1",
    "sqlite://",
    "postgresql://u:p@h/db",
    "mysql://x",
    "a=b=c",
    ";;",
    "600h",
    "720h",
    "1e19",
    "4294967295",
    "2147483647",
    "2147483647ms",
    "2147483648ms",
    "10000",
    "10001",
    "0.5ms",
    "1ms",
];

/// A PostgreSQL server that is never contacted (building an engine does not connect).
const POSTGRES: &str = "postgresql://fuzz@127.0.0.1:1/fuzz";

/// PRAGMAs that change the whole process (every later run), not one connection.
const PROCESS_WIDE_PRAGMAS: &[&str] = &[
    "hard_heap_limit",
    "soft_heap_limit",
    "temp_store_directory",
    "data_store_directory",
];

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime")
});

fuzz_target!(|vars: Vec<(Name, Value)>| {
    let names: Vec<&str> = ENV_VARS
        .iter()
        .flat_map(|v| v.names.iter().copied())
        .collect();
    let map: Vec<(String, String)> = vars
        .iter()
        .map(|(name, value)| {
            let name = match name {
                Name::Known(i) => names[*i as usize % names.len()].to_owned(),
                Name::Other(s) => s.clone(),
            };
            let value = match value {
                Value::Text(t) => t.clone(),
                Value::Known(i) => VALUES[*i as usize % VALUES.len()].to_owned(),
            };
            (name, value)
        })
        .collect();
    match Settings::from_env_map(map.clone()) {
        Ok(settings) => {
            settings.validate().expect("from_env_map validated");
            assert_backends_take(&settings);
            build_engines(settings);
        }
        Err(e) => {
            let key = e.key().to_owned();
            // Settings-level conflicts name the field (tls.cert_file…); value errors the variable.
            let named =
                map.iter().any(|(n, _)| *n == key) || ENV_VARS.iter().any(|v| v.field == key);
            assert!(named, "error {e} names {key:?}, which was not given");
            assert!(!e.to_string().is_empty());
        }
    }
});

/// What the backends take, from their documentation rather than from dbconfig's checks:
/// PostgreSQL's `statement_timeout` and SQLite's `busy_timeout` are C `int`s of milliseconds
/// (a larger `statement_timeout` made every PostgreSQL connect fail), and a connect limit of zero fails
/// every connect.
fn assert_backends_take(settings: &Settings) {
    const INT_MAX_MS: u128 = i32::MAX as u128;
    if let Some(timeout) = settings.postgres.statement_timeout {
        assert!(
            timeout.as_millis() <= INT_MAX_MS,
            "statement_timeout {timeout:?}: more than PostgreSQL takes"
        );
    }
    for wait in [
        Some(settings.sqlite.busy_timeout),
        settings.sqlite.setup_busy_timeout,
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            wait.as_millis() <= INT_MAX_MS,
            "busy timeout {wait:?}: more than SQLite takes"
        );
    }
    assert_ne!(
        settings.connection_timeout,
        Some(Duration::ZERO),
        "a connect limit of zero fails every connect"
    );
}

/// Builds a SQLite and a PostgreSQL engine from `settings`: the configs must accept settings
/// that validated, and building may fail only with an error.
fn build_engines(mut settings: Settings) {
    // TLS files are read when a PostgreSQL engine is built: keep the fuzzer off real files
    // (`/dev/zero`, `/dev/stdin`), still taking the "file is missing" path.
    for file in [
        &mut settings.postgres.tls.ca_file,
        &mut settings.postgres.tls.cert_file,
        &mut settings.postgres.tls.key_file,
    ] {
        if file.is_some() {
            *file = Some("/nonexistent/dbconfig-fuzz.pem".into());
        }
    }
    // Replica URLs naming TLS files would be read too: left out.
    settings.postgres.replica_urls.retain(|url| {
        url.as_postgres().is_some_and(|pg| {
            pg.tls().sslrootcert.is_none()
                && pg.tls().sslcert.is_none()
                && pg.tls().sslkey.is_none()
        })
    });
    settings
        .sqlite
        .pragmas
        .extra
        .retain(|(name, _)| !PROCESS_WIDE_PRAGMAS.contains(&name.to_ascii_lowercase().as_str()));
    let _runtime = RUNTIME.enter();

    // The URL given when it is in memory (a file URL would create files), else a private
    // in-memory database: its keeper connection is opened now, with every PRAGMA applied.
    let sqlite = match &settings.connection_url {
        Some(ConnectionUrl::Sqlite(url)) if in_memory(url) => ConnectionUrl::Sqlite(url.clone()),
        _ => "sqlite://".parse().expect("an in-memory url"),
    };
    // Read replicas belong to a PostgreSQL primary and a SQLCipher key to a file: both are
    // refused with the in-memory URL swapped in, so they are left out of the SQLite config.
    let mut lite = settings.clone().with_url(sqlite);
    lite.postgres.replica_urls.clear();
    lite.sqlite.key = None;
    let config =
        SqliteConfig::from_settings(lite).expect("validated settings make a SQLite config");
    if let Ok(engine) = config.build_engine() {
        assert_eq!(engine.status().max_size, settings.max_connections());
        engine.dispose();
    }

    // The URL given unless it names files, else a server that is never contacted. The config
    // may refuse a combination (`sslmode=disable` with `postgres.tls.enabled`): an error, not a panic.
    let postgres = match &settings.connection_url {
        Some(ConnectionUrl::Postgres(url))
            if url.tls().sslrootcert.is_none()
                && url.tls().sslcert.is_none()
                && url.tls().sslkey.is_none() =>
        {
            ConnectionUrl::Postgres(url.clone())
        }
        _ => POSTGRES.parse().expect("a postgres url"),
    };
    if let Ok(config) = PostgresConfig::from_settings(settings.with_url(postgres))
        && let Ok(engine) = config.build_engine()
    {
        assert_eq!(
            engine.status().max_size,
            config.settings().max_connections()
        );
        engine.dispose();
    }
}

fn in_memory(url: &SqliteUrl) -> bool {
    url.is_inmemory() && url.vfs().is_none()
}
