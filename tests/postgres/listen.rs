//! `LISTEN`/`NOTIFY`: 10,000 notifications in order on one channel; a server restart → the
//! listener reconnects, listens again, reports the gap, and receives new notifications;
//! dropping the listener closes its connection.

use crate::common;

use std::time::Duration;

use common::pg::{ClusterOptions, own_cluster};
use dbconfig::postgres::{ListenEvent, Listener};
use dbconfig::{PostgresConfig, PostgresEngine};

const WAIT: Duration = Duration::from_secs(30);

async fn next(listener: &mut Listener) -> ListenEvent {
    tokio::time::timeout(WAIT, listener.recv())
        .await
        .expect("no event within 30 s")
        .expect("the listener ended")
}

async fn notify(engine: &PostgresEngine, channel: &str, payload: &str) {
    let mut session = engine.session();
    let client = session.client().await.unwrap();
    client
        .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_notifications_arrive_in_order() {
    let Some(url) = common::pg_url("listen") else {
        return;
    };
    let engine = PostgresConfig::new(&url).unwrap().build_engine().unwrap();
    // A channel name that needs quoting, and one the listener does not follow.
    let mut listener = engine.listen(["Jobs \"ready\""]).await.unwrap();
    let sender = engine.clone();
    let send = tokio::spawn(async move {
        let mut session = sender.session();
        let client = session.client().await.unwrap();
        for batch in 0..10 {
            // One transaction per 1,000: delivered at each commit, in commit order.
            client
                .batch_execute(&format!(
                    "BEGIN; SELECT pg_notify('other', 'x'); \
                     SELECT pg_notify('Jobs \"ready\"', i::text) \
                     FROM generate_series({} + 1, {} + 1000) i; COMMIT",
                    batch * 1000,
                    batch * 1000
                ))
                .await
                .unwrap();
        }
    });
    for expected in 1..=10_000u32 {
        match next(&mut listener).await {
            ListenEvent::Notification(n) => {
                assert_eq!(n.channel(), "Jobs \"ready\"");
                assert_eq!(n.payload(), expected.to_string());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    send.await.unwrap();
    // Nothing else arrived (the other channel was not listened to).
    notify(&engine, "Jobs \"ready\"", "last").await;
    match next(&mut listener).await {
        ListenEvent::Notification(n) => assert_eq!(n.payload(), "last"),
        other => panic!("unexpected {other:?}"),
    }

    // Dropping the listener closes its connection.
    drop(listener);
    let admin = common::pg_admin(&url).await;
    let closed = common::eventually(Duration::from_secs(10), async || {
        admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'",
                &[],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
            == 0
    })
    .await;
    assert!(closed, "the listener's connection stayed open");
    engine.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_is_reported_and_listening_resumes() {
    let Some(cluster) = own_cluster(ClusterOptions::default()) else {
        return;
    };
    let engine = PostgresConfig::new(&cluster.url("postgres"))
        .unwrap()
        .build_engine()
        .unwrap();
    let mut listener = engine.listen(["events"]).await.unwrap();
    notify(&engine, "events", "before").await;
    match next(&mut listener).await {
        ListenEvent::Notification(n) => assert_eq!(n.payload(), "before"),
        other => panic!("unexpected {other:?}"),
    }

    cluster.stop().unwrap();
    cluster.start_again().unwrap();
    // The gap is reported once the listener is listening again...
    match tokio::time::timeout(Duration::from_secs(60), listener.recv()).await {
        Ok(Some(ListenEvent::Reconnected { attempts, after })) => {
            assert!(attempts >= 1);
            assert!(after < Duration::from_secs(60));
        }
        other => panic!("expected Reconnected, got {other:?}"),
    }
    // ...and what is sent afterwards arrives (the pool reconnects too).
    let mut sent = false;
    for _ in 0..50 {
        let mut session = engine.session();
        if let Ok(client) = session.client().await
            && client
                .execute("SELECT pg_notify('events', 'after')", &[])
                .await
                .is_ok()
        {
            sent = true;
            break;
        }
    }
    assert!(sent, "the pool did not reconnect");
    match next(&mut listener).await {
        ListenEvent::Notification(n) => assert_eq!(n.payload(), "after"),
        other => panic!("unexpected {other:?}"),
    }
    drop(listener);
    engine.dispose();
}
