//! In-memory databases: detected exactly, one database per engine shared by all its
//! connections, alive until the engine is disposed.

use std::sync::Arc;
use std::time::Duration;

use dbconfig::{ConnectionTracker, DatabaseConfig, Settings, SqliteConfig, SqliteEngine};

async fn has_table(engine: &SqliteEngine) -> bool {
    engine
        .session()
        .run(|c| {
            c.query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'm'",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .await
        .unwrap()
        == 1
}

#[test]
fn detection_is_exact() {
    let cases = [
        ("sqlite://", true),
        ("sqlite:///:memory:", true),
        ("sqlite+aiosqlite:///:memory:", true),
        ("sqlite::memory:", true),
        (
            "sqlite:///file:name?mode=memory&cache=shared&uri=true",
            true,
        ),
        ("file::memory:?cache=shared", true),
        ("file:/x?vfs=memdb", true),
        ("sqlite:////data/:memory:x/a.db", false),
        ("sqlite:///memory.db", false),
        ("sqlite:///a.db?mode=rwc", false),
    ];
    for (url, expected) in cases {
        let config = SqliteConfig::new(url).unwrap();
        assert_eq!(config.is_inmemory(), expected, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_database_for_all_connections_until_dispose() {
    let tracker = ConnectionTracker::new();
    // Every checkout finds its connection too old and replaces it.
    let settings = Settings::new()
        .with_url("sqlite:///:memory:".parse().unwrap())
        .with_pool_recycle(Some(Duration::ZERO));
    let config = SqliteConfig::from_settings(settings)
        .unwrap()
        .tracker(Arc::clone(&tracker));
    let engine = config.engine().await.unwrap();
    assert!(engine.is_inmemory());

    // Three sessions at once hold three distinct pooled connections.
    let (mut a, mut b, mut c) = (engine.session(), engine.session(), engine.session());
    let ids = [
        a.connection().await.unwrap().id(),
        b.connection().await.unwrap().id(),
        c.connection().await.unwrap().id(),
    ];
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    a.run(|c| c.execute_batch("CREATE TABLE m (x); INSERT INTO m VALUES (42);"))
        .await
        .unwrap();
    for s in [&mut b, &mut c] {
        let x: i64 = s
            .run(|c| c.query_row("SELECT x FROM m", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(x, 42);
    }
    drop((a, b, c));

    // All returned; the next checkouts recycle them away and open new ones.
    let mut d = engine.session();
    let new_id = d.connection().await.unwrap().id();
    assert!(!ids.contains(&new_id), "expected a fresh connection");
    drop(d);
    assert!(
        has_table(&engine).await,
        "the database vanished with its connections"
    );
    let snapshot = tracker.snapshot();
    assert!(
        snapshot.open.iter().any(|c| c.role == "keeper"),
        "{snapshot}"
    );

    engine.dispose();
    assert_eq!(tracker.open_count(), 0, "{}", tracker.snapshot());

    // A new engine for the same config is a new, empty database.
    let engine = config.engine().await.unwrap();
    assert!(!has_table(&engine).await);
    engine.dispose();
}

#[tokio::test(flavor = "current_thread")]
async fn distinct_engines_distinct_databases_unless_named_shared() {
    let config = SqliteConfig::new("sqlite://").unwrap();
    let (e1, e2) = (
        config.build_engine().unwrap(),
        config.build_engine().unwrap(),
    );
    e1.session()
        .run(|c| c.execute_batch("CREATE TABLE m (x)"))
        .await
        .unwrap();
    assert!(has_table(&e1).await);
    assert!(
        !has_table(&e2).await,
        "private in-memory databases leaked into each other"
    );

    let shared =
        SqliteConfig::new("sqlite:///file:dbconfig_shared_test?mode=memory&cache=shared&uri=true")
            .unwrap();
    let (s1, s2) = (
        shared.build_engine().unwrap(),
        shared.build_engine().unwrap(),
    );
    s1.session()
        .run(|c| c.execute_batch("CREATE TABLE m (x)"))
        .await
        .unwrap();
    assert!(
        has_table(&s2).await,
        "a named shared in-memory database must be shared"
    );
    for e in [e1, e2, s1, s2] {
        e.dispose();
    }
    // Every keeper closed: the shared database is gone.
    let s3 = shared.build_engine().unwrap();
    assert!(!has_table(&s3).await);
    s3.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_memory() {
    let config = SqliteConfig::new("sqlite::memory:").unwrap();
    let engine = config.engine().await.unwrap();
    engine
        .session()
        .run(|c| c.execute_batch("CREATE TABLE m (x INTEGER PRIMARY KEY)"))
        .await
        .unwrap();
    let mut handles = Vec::new();
    for task in 0..16i64 {
        let engine = engine.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..50i64 {
                let mut s = engine.session();
                let mut tx = s.begin_transaction(true).await.unwrap();
                tx.run(|c| c.execute("INSERT INTO m VALUES (?1)", [task * 50 + i]))
                    .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let n: i64 = engine
        .session()
        .run(|c| c.query_row("SELECT count(*) FROM m", [], |r| r.get(0)))
        .await
        .unwrap();
    assert_eq!(n, 800);
    engine.dispose();
}
