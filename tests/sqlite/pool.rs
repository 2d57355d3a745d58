//! Pool sizing, overflow, no-pooling mode, acquire timeout, PRAGMAs, hooks and echo.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::file_url;
use dbconfig::settings::{JournalMode, Synchronous};
use dbconfig::sqlite::connect::pragmas_in_effect;
use dbconfig::url::UrlError;
use dbconfig::{ConnectionTracker, DatabaseConfig, Settings, SqliteConfig};

fn settings_for(url: String) -> Settings {
    Settings::new().with_url(url.parse().unwrap())
}

#[tokio::test(flavor = "current_thread")]
async fn overflow_connections_close_when_returned_and_wait_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(file_url(dir.path(), "o.db"))
        .with_pool_size(2)
        .with_max_overflow(1)
        .with_pool_timeout(Duration::from_millis(200));
    let tracker = ConnectionTracker::new();
    let config = SqliteConfig::from_settings(settings)
        .unwrap()
        .tracker(Arc::clone(&tracker));
    let engine = config.engine().await.unwrap();
    let mut sessions = vec![engine.session(), engine.session(), engine.session()];
    for s in &mut sessions {
        s.connection().await.unwrap();
    }
    let status = engine.status();
    assert_eq!((status.max_size, status.size, status.idle), (3, 3, 0));

    let mut fourth = engine.session();
    let err = fourth.connection().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("a pooled connection"), "{err}");

    drop(sessions);
    let status = engine.status();
    assert_eq!(
        (status.size, status.idle, status.waiting),
        (2, 2, 0),
        "overflow connection not closed"
    );
    assert_eq!(tracker.open_count(), 2);
    engine.dispose();
    assert_eq!(tracker.open_count(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn pool_size_zero_means_a_fresh_connection_per_session() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(file_url(dir.path(), "z.db"))
        .with_pool_size(0)
        .with_max_overflow(4);
    let tracker = ConnectionTracker::new();
    let config = SqliteConfig::from_settings(settings)
        .unwrap()
        .tracker(Arc::clone(&tracker));
    let engine = config.engine().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut s = engine.session();
        ids.push(s.connection().await.unwrap().id());
        s.run(|c| c.execute_batch("SELECT 1")).await.unwrap();
        drop(s);
        assert_eq!(tracker.open_count(), 0, "connection kept after the session");
    }
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert_eq!(tracker.snapshot().connects, 3);
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn default_pragmas_are_in_effect_on_every_connection() {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig::new(&file_url(dir.path(), "p.db")).unwrap();
    let engine = config.engine().await.unwrap();
    let (mut a, mut b) = (engine.session(), engine.session());
    for s in [&mut a, &mut b] {
        let settings = config.settings().clone();
        let got = s
            .connection()
            .await
            .unwrap()
            .run(|c| Ok(pragmas_in_effect(c, &settings)))
            .unwrap()
            .unwrap();
        let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("journal_mode", "wal"),
                ("foreign_keys", "1"),
                ("legacy_alter_table", "0"),
                ("synchronous", "1"),
                ("cache_size", "20000"),
                ("busy_timeout", "60000"),
                ("wal_autocheckpoint", "1000"),
                ("journal_size_limit", "67108864"),
            ]
        );
    }
    drop((a, b));
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn every_pragma_is_overridable_and_the_hook_runs_last() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_for(file_url(dir.path(), "q.db"));
    settings.sqlite.pragmas.journal_mode = JournalMode::Truncate;
    settings.sqlite.pragmas.foreign_keys = false;
    settings.sqlite.pragmas.legacy_alter_table = true;
    settings.sqlite.pragmas.synchronous = Synchronous::Full;
    settings.sqlite.pragmas.cache_size = -8000;
    settings.sqlite.pragmas.wal_autocheckpoint = 250;
    settings.sqlite.pragmas.journal_size_limit = -1;
    settings.sqlite.pragmas.extra = vec![("temp_store".into(), "memory".into())];
    settings.sqlite.busy_timeout = Duration::from_millis(1234);
    let hook_calls = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::clone(&hook_calls);
    let config = SqliteConfig::from_settings(settings.clone())
        .unwrap()
        .on_connect(move |c| {
            // Runs after dbconfig's PRAGMAs: it sees them in effect.
            let sync: i64 = c.pragma_query_value(None, "synchronous", |r| r.get(0))?;
            calls.lock().unwrap().push(sync);
            c.execute_batch("CREATE TEMP TABLE hook_ran (x)")?;
            Ok(())
        });
    let engine = config.engine().await.unwrap();
    let mut s = engine.session();
    let got = s
        .connection()
        .await
        .unwrap()
        .run(|c| Ok(pragmas_in_effect(c, &settings)))
        .unwrap()
        .unwrap();
    let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        got,
        vec![
            ("journal_mode", "truncate"),
            ("foreign_keys", "0"),
            ("legacy_alter_table", "1"),
            ("synchronous", "2"),
            ("cache_size", "-8000"),
            ("busy_timeout", "1234"),
            ("wal_autocheckpoint", "250"),
            ("journal_size_limit", "-1"),
            ("temp_store", "2"),
        ]
    );
    s.run(|c| c.execute_batch("SELECT * FROM temp.hook_ran"))
        .await
        .unwrap();
    assert_eq!(*hook_calls.lock().unwrap(), vec![2]);
    drop(s);
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_hook_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig::new(&file_url(dir.path(), "h.db"))
        .unwrap()
        .on_connect(|_| Err("no thanks".into()));
    let engine = config.engine().await.unwrap();
    let err = engine.session().connection().await.map(drop).unwrap_err();
    assert!(matches!(err, dbconfig::Error::Hook(_)), "{err:?}");
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn wal_is_set_once_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(dir.path(), "wal.db");
    let engine = SqliteConfig::new(&url).unwrap().build_engine().unwrap();
    engine
        .session()
        .run(|c| c.execute_batch("CREATE TABLE x (y)"))
        .await
        .unwrap();
    engine.dispose();
    // WAL is recorded in the file: a plain connection sees it without setting anything.
    let raw = rusqlite::Connection::open(dir.path().join("wal.db")).unwrap();
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test(flavor = "current_thread")]
async fn read_only_urls_skip_setting_the_journal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let url = file_url(dir.path(), "ro.db");
    let rw = SqliteConfig::new(&url).unwrap().build_engine().unwrap();
    rw.session()
        .run(|c| c.execute_batch("CREATE TABLE x (y); INSERT INTO x VALUES (1);"))
        .await
        .unwrap();
    rw.dispose();
    let ro = SqliteConfig::new(&format!("{url}?mode=ro"))
        .unwrap()
        .build_engine()
        .unwrap();
    let y: i64 = ro
        .session()
        .run(|c| c.query_row("SELECT y FROM x", [], |r| r.get(0)))
        .await
        .unwrap();
    assert_eq!(y, 1);
    let err = ro
        .session()
        .run(|c| c.execute_batch("INSERT INTO x VALUES (2)"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, dbconfig::Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ReadOnly),
        "{err:?}"
    );
    ro.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn interact_runs_off_the_async_thread() {
    let config = SqliteConfig::new("sqlite://").unwrap();
    let engine = config.engine().await.unwrap();
    let mut s = engine.session();
    let caller = std::thread::current().id();
    let (thread, sum) = s
        .connection()
        .await
        .unwrap()
        .interact(|c| {
            let sum: i64 = c.query_row(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT sum(i) FROM n",
                [],
                |r| r.get(0),
            )?;
            Ok((std::thread::current().id(), sum))
        })
        .await
        .unwrap();
    assert_ne!(thread, caller);
    assert_eq!(sum, 5_000_050_000);
    drop(s);
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn a_connection_returned_inside_a_transaction_is_rolled_back_before_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(file_url(dir.path(), "r.db"))
        .with_pool_size(1)
        .with_max_overflow(0);
    let config = SqliteConfig::from_settings(settings).unwrap();
    let engine = config.engine().await.unwrap();
    common::create_table(&engine).await;
    let mut s = engine.session();
    let first = s.connection().await.unwrap().id();
    // A manual BEGIN outside dbconfig's transaction API, then the session goes back.
    s.run(|c| c.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (id, v) VALUES (1, 'dangling');"))
        .await
        .unwrap();
    drop(s);

    let mut s = engine.session();
    let conn = s.connection().await.unwrap();
    assert_eq!(conn.id(), first, "pool of one: same connection");
    assert!(
        conn.run(|c| Ok(c.is_autocommit())).unwrap(),
        "handed out inside a transaction"
    );
    drop(s);
    assert_eq!(
        common::count_rows(&engine).await,
        0,
        "the dangling write was kept"
    );
    engine.dispose();
}

/// Item 11: Python sqlite3's URL parameters are honoured (`timeout` is the busy timeout,
/// `cached_statements` the statement cache capacity) or refused (`isolation_level`,
/// `detect_types`), never parsed and then ignored.
#[tokio::test(flavor = "current_thread")]
async fn url_driver_parameters_are_honoured_or_refused() {
    use rusqlite::StatementStatus;

    // How many times the third `prepare_cached` of one statement finds it already run: 2 when
    // the cache kept it, 0 when it was prepared afresh.
    fn runs_seen(c: &rusqlite::Connection) -> rusqlite::Result<i32> {
        for _ in 0..2 {
            c.prepare_cached("SELECT 1")?
                .query_row([], |r| r.get::<_, i64>(0))?;
        }
        Ok(c.prepare_cached("SELECT 1")?
            .get_status(StatementStatus::Run))
    }
    let dir = tempfile::tempdir().unwrap();
    let base = file_url(dir.path(), "d.db");
    for (query, busy_ms, runs) in [
        ("", 60_000, 2),
        ("?timeout=1.5&cached_statements=0", 1500, 0),
        ("?timeout=0.25&cached_statements=1", 250, 2),
    ] {
        let config = SqliteConfig::new(&format!("{base}{query}")).unwrap();
        let engine = config.build_engine().unwrap();
        let mut s = engine.session();
        let busy: i64 = s
            .run(|c| c.pragma_query_value(None, "busy_timeout", |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(busy, busy_ms, "{query}");
        assert_eq!(s.run(runs_seen).await.unwrap(), runs, "{query}");
        drop(s);
        engine.dispose();
    }
    for (param, name) in [
        ("isolation_level=DEFERRED", "isolation_level"),
        ("detect_types=1", "detect_types"),
    ] {
        match SqliteConfig::new(&format!("{base}?{param}")) {
            Err(dbconfig::Error::Url(UrlError::UnsupportedParameter { key, .. })) => {
                assert_eq!(key, name)
            }
            other => panic!("{param}: {other:?}"),
        }
    }
}

/// A PRAGMA set through the portable API changes that connection only for its session: the
/// connection is closed when the session ends, and the next session gets one set up by the
/// engine (foreign keys on).
#[tokio::test(flavor = "current_thread")]
async fn a_pragma_set_on_a_session_does_not_reach_the_next_one() {
    use dbconfig::query::Executor;
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_for(file_url(dir.path(), "p.db")).with_pool_size(1);
    let tracker = ConnectionTracker::new();
    let config = SqliteConfig::from_settings(settings)
        .unwrap()
        .tracker(Arc::clone(&tracker));
    let engine = config.engine().await.unwrap();
    let foreign_keys = |rows: Vec<dbconfig::Row>| rows[0].get::<i64>(0).unwrap();
    let mut session = engine.session();
    assert_eq!(
        foreign_keys(session.query("PRAGMA foreign_keys", &[]).await.unwrap()),
        1
    );
    session
        .execute_batch("PRAGMA foreign_keys = OFF")
        .await
        .unwrap();
    assert_eq!(
        foreign_keys(session.query("PRAGMA foreign_keys", &[]).await.unwrap()),
        0
    );
    drop(session);
    assert_eq!(tracker.open_count(), 0, "the changed connection was pooled");
    let mut session = engine.session();
    assert_eq!(
        foreign_keys(session.query("PRAGMA foreign_keys", &[]).await.unwrap()),
        1
    );
    // A query that reads a PRAGMA leaves the connection pooled.
    drop(session);
    assert_eq!(tracker.open_count(), 1);
}
