//! PostgreSQL pool behaviour against a real server: sizes, overflow, LIFO, recycling, no
//! pooling, acquire timeout, the tracker, and engines per runtime.

use crate::common;

use std::time::{Duration, Instant};

use common::{backend_pid, eventually, pg_admin, pg_backends, pg_dbname, pg_url};
use dbconfig::{ConnectionTracker, DatabaseConfig, Error, PostgresConfig, Settings, WaitingFor};

fn config(url: &str, tune: impl FnOnce(&mut Settings)) -> PostgresConfig {
    let mut settings = Settings::default().with_url(url.parse().unwrap());
    tune(&mut settings);
    PostgresConfig::from_settings(settings).unwrap()
}

#[tokio::test]
async fn exhausted_pool_gives_a_typed_acquire_timeout() {
    let Some(url) = pg_url("exhausted") else {
        return;
    };
    let wait = Duration::from_millis(500);
    let config = config(&url, |s| {
        s.pool_size = 2;
        s.max_overflow = 0;
        s.pool_timeout = wait;
    });
    let engine = config.build_engine().unwrap();
    let mut holders = [engine.session(), engine.session()];
    for session in &mut holders {
        session.ping().await.unwrap();
    }
    let status = engine.status();
    assert_eq!((status.size, status.idle, status.max_size), (2, 0, 2));

    let started = Instant::now();
    let err = engine.session().ping().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, Error::Timeout { waiting_for: WaitingFor::PooledConnection, after } if after == wait),
        "{err:?}"
    );
    assert!(err.is_timeout());
    assert!(elapsed >= wait && elapsed < wait * 3, "{elapsed:?}");

    // A holder returning its connection lets the next session in.
    drop(holders);
    engine.session().ping().await.unwrap();
}

#[tokio::test]
async fn overflow_connections_are_closed_when_returned() {
    let Some(url) = pg_url("overflow") else {
        return;
    };
    let db = pg_dbname(&url);
    let admin = pg_admin(&url).await;
    let config = config(&url, |s| {
        s.pool_size = 1;
        s.max_overflow = 2;
    });
    let engine = config.build_engine().unwrap();
    let mut sessions = [engine.session(), engine.session(), engine.session()];
    for session in &mut sessions {
        session.ping().await.unwrap();
    }
    assert_eq!(engine.status().size, 3);
    assert_eq!(pg_backends(&admin, &db).await, 3);
    drop(sessions);
    let status = engine.status();
    assert_eq!((status.size, status.idle), (1, 1));
    assert!(
        eventually(Duration::from_secs(10), async || pg_backends(&admin, &db)
            .await
            == 1)
        .await,
        "the server still sees the overflow connections"
    );
}

#[tokio::test]
async fn lifo_hands_out_the_most_recently_returned_connection() {
    let Some(url) = pg_url("lifo") else { return };
    let engine = config(&url, |_| {}).build_engine().unwrap();
    let mut a = engine.session();
    let mut b = engine.session();
    let pid_a = backend_pid(&mut a).await;
    let pid_b = backend_pid(&mut b).await;
    assert_ne!(pid_a, pid_b);
    drop(a);
    drop(b);
    assert_eq!(backend_pid(&mut engine.session()).await, pid_b);
}

#[tokio::test]
async fn a_connection_the_server_killed_is_never_handed_out() {
    let Some(url) = pg_url("killed") else { return };
    let admin = pg_admin(&url).await;
    // Checked on every checkout, as the original's pool_pre_ping=True.
    let engine = config(&url, |s| s.postgres.pool_pre_ping = Some(Duration::ZERO))
        .build_engine()
        .unwrap();
    let pid = backend_pid(&mut engine.session()).await;
    let killed: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap()
        .get(0);
    assert!(killed);
    // The idle connection is dead: the next session gets a verified, new one.
    for _ in 0..3 {
        let mut session = engine.session();
        let fresh = backend_pid(&mut session).await;
        assert_ne!(fresh, pid);
    }
    assert_eq!(engine.status().size, 1);
}

/// The last statement the server saw on backend `pid`: after a pre-ping it is the ping's empty
/// query.
async fn last_statement(admin: &tokio_postgres::Client, pid: i32) -> String {
    admin
        .query_one("SELECT query FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn pre_ping_checks_connections_idle_for_at_least_the_window() {
    let Some(url) = pg_url("preping") else { return };
    let admin = pg_admin(&url).await;
    for (window, idle, pinged) in [
        // The original's policy: every checkout.
        (Some(Duration::ZERO), Duration::ZERO, true),
        // Used just now, well inside the window: handed out unchecked.
        (Some(Duration::from_secs(60)), Duration::ZERO, false),
        // Idle a whole window: checked.
        (
            Some(Duration::from_millis(150)),
            Duration::from_millis(150),
            true,
        ),
        (None, Duration::ZERO, false),
    ] {
        let engine = config(&url, |s| s.postgres.pool_pre_ping = window)
            .build_engine()
            .unwrap();
        let pid = backend_pid(&mut engine.session()).await;
        let returned = Instant::now();
        assert_eq!(last_statement(&admin, pid).await, "SELECT pg_backend_pid()");
        // The idle time is the condition under test, not a synchronisation.
        tokio::time::sleep_until((returned + idle).into()).await;
        let mut session = engine.session();
        session.client().await.unwrap();
        let last = last_statement(&admin, pid).await;
        assert_eq!(
            last.is_empty(),
            pinged,
            "{window:?}: last statement {last:?}"
        );
    }
}

#[tokio::test]
async fn pool_recycle_replaces_old_connections() {
    let Some(url) = pg_url("recycle") else { return };
    let engine = config(&url, |s| s.pool_recycle = Some(Duration::ZERO))
        .build_engine()
        .unwrap();
    let first = backend_pid(&mut engine.session()).await;
    let second = backend_pid(&mut engine.session()).await;
    assert_ne!(first, second, "a connection past pool_recycle was reused");

    let engine = config(&url, |s| s.pool_recycle = None)
        .build_engine()
        .unwrap();
    let first = backend_pid(&mut engine.session()).await;
    let second = backend_pid(&mut engine.session()).await;
    assert_eq!(first, second);
}

#[tokio::test]
async fn pool_size_zero_opens_a_fresh_connection_per_session() {
    let Some(url) = pg_url("nopool") else { return };
    let db = pg_dbname(&url);
    let admin = pg_admin(&url).await;
    let engine = config(&url, |s| {
        s.pool_size = 0;
        s.max_overflow = 4;
    })
    .build_engine()
    .unwrap();
    let first = backend_pid(&mut engine.session()).await;
    assert_eq!(engine.status().size, 0);
    let second = backend_pid(&mut engine.session()).await;
    assert_ne!(first, second);
    assert!(
        eventually(Duration::from_secs(10), async || pg_backends(&admin, &db)
            .await
            == 0)
        .await,
        "connections outlived their sessions"
    );
}

#[tokio::test]
async fn the_tracker_sees_postgres_connections_open_and_close() {
    let Some(url) = pg_url("tracked") else { return };
    let tracker = ConnectionTracker::new();
    let config = config(&url, |s| {
        s.pool_size = 1;
        s.max_overflow = 1;
    })
    .tracker(tracker.clone());
    let engine = config.engine().await.unwrap();
    let mut a = config.session(&engine).await.unwrap();
    let mut b = config.session(&engine).await.unwrap();
    a.ping().await.unwrap();
    b.ping().await.unwrap();
    let snapshot = tracker.snapshot();
    assert_eq!((snapshot.connects, snapshot.open.len()), (2, 2));
    assert!(
        snapshot
            .open
            .iter()
            .all(|c| c.dialect == dbconfig::Dialect::Postgres)
    );
    assert!(
        snapshot
            .open
            .iter()
            .all(|c| c.database.ends_with(&pg_dbname(&url))),
        "{snapshot}"
    );
    drop(a);
    drop(b);
    // One overflow connection closed on return; the close is reported when its task ends.
    assert!(eventually(Duration::from_secs(5), async || tracker.open_count() == 1).await);
    engine.dispose();
    assert!(eventually(Duration::from_secs(5), async || tracker.open_count() == 0).await);
    assert!(tracker.snapshot().left_field_closes.is_empty());
}

#[tokio::test]
async fn engine_is_cached_per_runtime_and_key() {
    let Some(url) = pg_url("cached") else { return };
    let config = config(&url, |_| {});
    let a = config.engine().await.unwrap();
    let b = config.engine().await.unwrap();
    assert_eq!(a.id(), b.id());
    let other = self::config(&url, |s| s.postgres.application_name = Some("other".into()));
    assert_ne!(config.unique_key(), other.unique_key());
    assert_ne!(other.engine().await.unwrap().id(), a.id());
    assert!(!config.is_inmemory());
}

/// 50 runtimes, one after another, each building its engine: when each runtime shuts down its
/// engine is disposed, so the server's connection count comes back to where it started.
#[test]
fn engines_of_finished_runtimes_close_their_connections() {
    let Some(url) = pg_url("runtimes") else {
        return;
    };
    let db = pg_dbname(&url);
    let checker = tokio::runtime::Runtime::new().unwrap();
    let admin = checker.block_on(pg_admin(&url));
    let before = checker.block_on(pg_backends(&admin, &db));
    let config = config(&url, |_| {});
    let mut ids = Vec::new();
    for _ in 0..50 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let id = runtime.block_on(async {
            let engine = config.engine().await.unwrap();
            engine.session().ping().await.unwrap();
            engine.id()
        });
        ids.push(id);
        drop(runtime);
    }
    ids.dedup();
    assert_eq!(ids.len(), 50, "each runtime must get its own engine");
    let settled = checker.block_on(eventually(Duration::from_secs(15), async || {
        pg_backends(&admin, &db).await == before
    }));
    assert!(
        settled,
        "{} connections left open",
        checker.block_on(pg_backends(&admin, &db)) - before
    );
}

#[tokio::test]
async fn any_config_picks_postgres_from_the_url() {
    let Some(url) = pg_url("any") else { return };
    let any = dbconfig::AnyConfig::from_url(&url).unwrap();
    assert_eq!(any.dialect(), dbconfig::Dialect::Postgres);
    assert!(!any.is_inmemory());
    any.ping().await.unwrap();
    any.execute_batch("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2)")
        .await
        .unwrap();
    // A failing batch commits nothing.
    assert!(
        any.execute_batch("INSERT INTO t VALUES (3); INSERT INTO missing VALUES (1)")
            .await
            .is_err()
    );
    let admin = pg_admin(&url).await;
    let n: i64 = admin
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

async fn prepared_on_server(tx: &dbconfig::PostgresTransaction<'_>) -> i64 {
    tx.query_one(
        "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT 42'",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn statement_cache_size_zero_keeps_no_named_statements() {
    let Some(url) = pg_url("stmt_cache") else {
        return;
    };
    for (cache, expected_after) in [(None, 1), (Some(0), 0)] {
        let engine = config(&url, |s| s.statement_cache_size = cache)
            .build_engine()
            .unwrap();
        let mut session = engine.session();
        for _ in 0..2 {
            let tx = session.begin_transaction(false).await.unwrap();
            let statement = tx.prepare_cached("SELECT 42").await.unwrap();
            let n: i32 = tx.query_one(&statement, &[]).await.unwrap().get(0);
            assert_eq!(n, 42);
            drop(statement);
            // The Close of a dropped statement goes out before this query.
            assert_eq!(
                prepared_on_server(&tx).await,
                expected_after,
                "cache {cache:?}"
            );
            tx.commit().await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_dropped_transaction_rolls_back_and_its_connection_comes_back_clean() {
    let Some(url) = pg_url("dropped_tx") else {
        return;
    };
    let admin = pg_admin(&url).await;
    admin.batch_execute("CREATE TABLE t (x int)").await.unwrap();
    for pre_ping in [Some(Duration::ZERO), Some(Duration::from_secs(1)), None] {
        let engine = config(&url, |s| {
            s.pool_size = 1;
            s.max_overflow = 0;
            s.postgres.pool_pre_ping = pre_ping;
        })
        .build_engine()
        .unwrap();
        let mut session = engine.session();
        let tx = session.begin_transaction(true).await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap();
        drop(tx);
        // A failed statement, then commit: PostgreSQL rolls the transaction back.
        let tx = session.begin_transaction(true).await.unwrap();
        tx.execute("INSERT INTO t VALUES (2)", &[]).await.unwrap();
        assert!(tx.execute("INSERT INTO t VALUES ('x')", &[]).await.is_err());
        tx.commit().await.unwrap();
        drop(session);
        // The single pooled connection is idle, outside any transaction.
        let mut session = engine.session();
        let client = session.client().await.unwrap();
        let row = client
            .query_one("SELECT count(*), pg_backend_pid() FROM t", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, i64>(0), 0, "pre_ping {pre_ping:?}");
        let pid: i32 = row.get(1);
        let state: String = admin
            .query_one("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])
            .await
            .unwrap()
            .get(0);
        assert_eq!(
            state, "idle",
            "the connection is still inside a transaction"
        );
        let tx = session.begin_transaction(false).await.unwrap();
        tx.execute("INSERT INTO t VALUES (3)", &[]).await.unwrap();
        tx.commit().await.unwrap();
        let n: i64 = admin
            .query_one("SELECT count(*) FROM t", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 1);
        admin.batch_execute("DELETE FROM t").await.unwrap();
    }
}
