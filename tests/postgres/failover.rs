//! A primary and a streaming standby started from the local binaries (`initdb`,
//! `pg_basebackup -R`, `pg_ctl`): a `target_session_attrs=read-only` URL lands on the standby
//! (`pg_is_in_recovery()` inside), a `read-write` URL over both hosts writes on the primary; then
//! the primary stops and the standby is promoted, and within a bounded time writes succeed on
//! the new primary through the same engine, with the rows written before.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::pg::{ClusterOptions, PgCluster, own_cluster};
use dbconfig::{PostgresConfig, PostgresEngine, Settings};

/// `(pg_is_in_recovery(), inet_server_port())` of a connection of `engine`.
async fn where_am_i(engine: &PostgresEngine) -> dbconfig::Result<(bool, i32)> {
    let mut session = engine.session();
    let client = session.client().await?;
    let row = client
        .query_one("SELECT pg_is_in_recovery(), inet_server_port()", &[])
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// A throwaway primary and a streaming standby of it; `None` (after saying why) without the
/// binaries, outside CI.
fn primary_and_standby() -> Option<(PgCluster, PgCluster)> {
    let primary = own_cluster(ClusterOptions::default())?;
    match PgCluster::start_standby(&primary) {
        Ok(standby) => Some((primary, standby)),
        Err(e) if !common::pg::in_ci() => {
            eprintln!("skipping: no standby ({e})");
            None
        }
        Err(e) => panic!("standby: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_follow_a_promoted_standby() {
    let Some((primary, standby)) = primary_and_standby() else {
        return;
    };
    let (p1, p2) = (primary.port(), standby.port());

    // Reads marked for a standby land on it.
    let reader = PostgresConfig::new(&format!(
        "postgresql://postgres@127.0.0.1:{p1},127.0.0.1:{p2}/postgres?target_session_attrs=read-only"
    ))
    .unwrap()
    .build_engine()
    .unwrap();
    assert_eq!(where_am_i(&reader).await.unwrap(), (true, i32::from(p2)));

    // Writes go to whichever host takes them.
    let mut settings = Settings::new().with_url(
        format!(
            "postgresql://postgres@127.0.0.1:{p1},127.0.0.1:{p2}/postgres?target_session_attrs=read-write"
        )
        .parse()
        .unwrap(),
    );
    settings.connection_timeout = Some(Duration::from_secs(3));
    // Check every checkout, so that a connection to a server that went away or turned
    // read-only is replaced at once.
    settings.postgres.pool_pre_ping = Some(Duration::ZERO);
    let writer = PostgresConfig::from_settings(settings)
        .unwrap()
        .build_engine()
        .unwrap();
    assert_eq!(where_am_i(&writer).await.unwrap(), (false, i32::from(p1)));
    {
        let mut session = writer.session();
        let client = session.client().await.unwrap();
        client
            .batch_execute("CREATE TABLE moved (id int); INSERT INTO moved VALUES (1), (2)")
            .await
            .unwrap();
    }
    // The standby has replayed the rows before the switch (streaming replication is
    // asynchronous: wait for it).
    let replayed = common::eventually(Duration::from_secs(30), async || {
        let mut session = reader.session();
        let Ok(client) = session.client().await else {
            return false;
        };
        client
            .query_one("SELECT count(*) FROM moved", &[])
            .await
            .is_ok_and(|r| r.get::<_, i64>(0) == 2)
    })
    .await;
    assert!(replayed, "the standby never replayed the rows");

    // Failover: the primary goes away, the standby is promoted.
    primary.stop().unwrap();
    standby.promote().unwrap();
    let moved = common::eventually(Duration::from_secs(30), async || {
        let mut session = writer.session();
        let Ok(client) = session.client().await else {
            return false;
        };
        client
            .execute("INSERT INTO moved VALUES (3)", &[])
            .await
            .is_ok()
    })
    .await;
    assert!(moved, "writes never reached the promoted standby");
    assert_eq!(where_am_i(&writer).await.unwrap(), (false, i32::from(p2)));
    let mut session = writer.session();
    let n: i64 = session
        .client()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM moved", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 3);
    drop(session);
    writer.dispose();
    reader.dispose();
}

/// `pg_is_in_recovery()` inside a read-only transaction of `session`.
async fn read_only_on_standby(session: &mut dbconfig::PostgresSession) -> dbconfig::Result<bool> {
    let tx = session.begin_read_only().await?;
    let in_recovery: bool = tx
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await?
        .get(0);
    tx.commit().await?;
    Ok(in_recovery)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_transactions_use_the_replica_and_fall_back() {
    let Some((primary, standby)) = primary_and_standby() else {
        return;
    };
    let mut settings = Settings::new().with_url(primary.url("postgres").parse().unwrap());
    settings.postgres.replica_urls = vec![standby.url("postgres").parse().unwrap()];
    settings.connection_timeout = Some(Duration::from_secs(2));
    let engine = PostgresConfig::from_settings(settings)
        .unwrap()
        .build_engine()
        .unwrap();
    let mut session = engine.session();
    // Read-only transactions land on the standby, others on the primary.
    assert!(read_only_on_standby(&mut session).await.unwrap());
    let tx = session.begin_transaction(false).await.unwrap();
    let in_recovery: bool = tx
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    tx.commit().await.unwrap();
    assert!(!in_recovery);
    drop(session);

    // Under a read load, the standby stops: reads continue on the primary; only reads in
    // flight when it stopped, or the first one after, may fail.
    let done = Arc::new(AtomicBool::new(false));
    let (on_standby, on_primary) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (engine, done) = (engine.clone(), Arc::clone(&done));
            let (on_standby, on_primary) = (Arc::clone(&on_standby), Arc::clone(&on_primary));
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                while !done.load(Ordering::SeqCst) {
                    let mut session = engine.session();
                    let outcome = read_only_on_standby(&mut session).await.ok();
                    match outcome {
                        Some(true) => on_standby.fetch_add(1, Ordering::SeqCst),
                        Some(false) => on_primary.fetch_add(1, Ordering::SeqCst),
                        None => 0,
                    };
                    outcomes.push(outcome);
                    tokio::task::yield_now().await;
                }
                outcomes
            })
        })
        .collect();
    let loaded = common::eventually(Duration::from_secs(30), async || {
        on_standby.load(Ordering::SeqCst) >= 40
    })
    .await;
    assert!(loaded, "no reads on the standby");
    standby.stop().unwrap();
    let moved = common::eventually(Duration::from_secs(30), async || {
        on_primary.load(Ordering::SeqCst) >= 200
    })
    .await;
    done.store(true, Ordering::SeqCst);
    assert!(moved, "reads did not move to the primary");
    let mut failures_after_fallback = 0;
    let mut failures = 0;
    for reader in readers {
        let outcomes = reader.await.unwrap();
        failures += outcomes.iter().filter(|o| o.is_none()).count();
        // Once a read ran on the primary, no later read of that task fails.
        if let Some(first) = outcomes.iter().position(|o| *o == Some(false)) {
            failures_after_fallback += outcomes[first..].iter().filter(|o| o.is_none()).count();
        }
    }
    assert_eq!(failures_after_fallback, 0);
    // At most the reads in flight when the standby stopped and those handed a pooled
    // connection the server had already closed: one per task plus one per pooled connection
    // (`pool_size + max_overflow` = 15).
    assert!(failures <= 4 + 15, "{failures} reads failed");
    // Reads after the stop, on the primary, with no error.
    let mut session = engine.session();
    for _ in 0..5 {
        assert!(!read_only_on_standby(&mut session).await.unwrap());
    }
    drop(session);
    engine.dispose();
}

/// An engine on `hosts` (`host:port,…`) with `target_session_attrs=attrs`.
fn engine_on(hosts: &str, attrs: &str) -> PostgresEngine {
    let mut settings = Settings::new().with_url(
        format!("postgresql://postgres@{hosts}/postgres?target_session_attrs={attrs}")
            .parse()
            .unwrap(),
    );
    settings.connection_timeout = Some(Duration::from_secs(3));
    settings.postgres.pool_pre_ping = Some(Duration::ZERO);
    PostgresConfig::from_settings(settings)
        .unwrap()
        .build_engine()
        .unwrap()
}

/// `primary`, `standby` and `prefer-standby` (checked by dbconfig with `pg_is_in_recovery()`,
/// which tokio-postgres does not do) settle on the right host whatever the order, for pooled
/// and listening connections; no matching host is a typed error naming each host's answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_roles_pick_their_host() {
    let Some((primary, standby)) = primary_and_standby() else {
        return;
    };
    let (p1, p2) = (primary.port(), standby.port());
    let both = format!("127.0.0.1:{p1},127.0.0.1:{p2}");
    let reversed = format!("127.0.0.1:{p2},127.0.0.1:{p1}");
    let (on_primary, on_standby) = ((false, i32::from(p1)), (true, i32::from(p2)));

    for (hosts, attrs, expected) in [
        (&both, "standby", on_standby),
        (&reversed, "standby", on_standby),
        (&both, "primary", on_primary),
        (&reversed, "primary", on_primary),
        (&both, "prefer-standby", on_standby),
        (&reversed, "prefer-standby", on_standby),
        (&both, "any", on_primary),
    ] {
        let engine = engine_on(hosts, attrs);
        assert_eq!(
            where_am_i(&engine).await.unwrap(),
            expected,
            "{attrs} on {hosts}"
        );
        engine.dispose();
    }

    // A listener follows the role too: LISTEN fails on a standby ("cannot execute LISTEN
    // during recovery"), so this works only if the primary was chosen.
    let engine = engine_on(&reversed, "primary");
    let mut listener = engine.listen(["roles"]).await.unwrap();
    {
        let mut session = engine.session();
        let client = session.client().await.unwrap();
        client.batch_execute("NOTIFY roles, 'here'").await.unwrap();
    }
    match tokio::time::timeout(Duration::from_secs(30), listener.recv()).await {
        Ok(Some(dbconfig::postgres::ListenEvent::Notification(n))) => {
            assert_eq!(n.payload(), "here");
        }
        other => panic!("expected the notification, got {other:?}"),
    }
    drop(listener);
    engine.dispose();

    // Only the primary listed: no standby, each host's answer in the error.
    let engine = engine_on(&format!("127.0.0.1:{p1}"), "standby");
    match where_am_i(&engine).await {
        Err(dbconfig::Error::NoMatchingServer { wanted, tried }) => {
            assert_eq!(wanted, "standby");
            assert_eq!(tried, format!("127.0.0.1:{p1}: a primary"));
        }
        other => panic!("expected NoMatchingServer, got {other:?}"),
    }
    engine.dispose();

    // The standby stops: prefer-standby settles on the primary; standby names the
    // unreachable host.
    standby.stop().unwrap();
    let engine = engine_on(&reversed, "prefer-standby");
    assert_eq!(where_am_i(&engine).await.unwrap(), on_primary);
    engine.dispose();
    let engine = engine_on(&reversed, "standby");
    match where_am_i(&engine).await {
        Err(dbconfig::Error::NoMatchingServer { tried, .. }) => {
            assert!(
                tried.starts_with(&format!("127.0.0.1:{p2}: ")) && tried.contains("; "),
                "{tried}"
            );
            assert!(
                tried.ends_with(&format!("127.0.0.1:{p1}: a primary")),
                "{tried}"
            );
        }
        other => panic!("expected NoMatchingServer, got {other:?}"),
    }
    engine.dispose();
}
