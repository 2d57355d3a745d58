//! PostgreSQL: timeouts, connection settings, isolation, row locks, against a real server.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{pg_admin, pg_dbname, pg_url};
use dbconfig::{DatabaseConfig, Error, PostgresConfig, Settings, WaitingFor};
use tokio::net::TcpListener;

fn config(url: &str, tune: impl FnOnce(&mut Settings)) -> PostgresConfig {
    let mut settings = Settings::default().with_url(url.parse().unwrap());
    tune(&mut settings);
    PostgresConfig::from_settings(settings).unwrap()
}

async fn statement_timeout_case(pgbouncer_mode: bool) {
    let Some(url) = pg_url("stmt_timeout") else {
        return;
    };
    let config = config(&url, |s| {
        s.postgres.statement_timeout = Some(Duration::from_secs(1));
        s.postgres.pgbouncer_mode = pgbouncer_mode;
    });
    let engine = config.build_engine().unwrap();
    let mut session = engine.session();
    let client = session.client().await.unwrap();
    let shown: String = client
        .query_one("SHOW statement_timeout", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(shown, "1s");

    let started = Instant::now();
    let err = client.simple_query("SELECT pg_sleep(5)").await.unwrap_err();
    let err = Error::from(err);
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::StatementTimeout(_)), "{err:?}");
    assert!(err.is_timeout());
    assert_eq!(err.sqlstate(), Some("57014"));
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    engine.dispose();
}

#[tokio::test]
async fn statement_timeout_is_sent_as_a_startup_option() {
    statement_timeout_case(false).await;
}

#[tokio::test]
async fn statement_timeout_in_pgbouncer_mode_is_set_after_connecting() {
    statement_timeout_case(true).await;
}

#[tokio::test]
async fn statement_timeout_inside_a_transaction_is_typed() {
    let Some(url) = pg_url("stmt_timeout_tx") else {
        return;
    };
    let config = config(&url, |s| {
        s.postgres.statement_timeout = Some(Duration::from_millis(300))
    });
    let engine = config.engine().await.unwrap();
    let mut session = config.session(&engine).await.unwrap();
    let tx = config.begin_transaction(&mut session, false).await.unwrap();
    let err: Error = tx
        .execute("SELECT pg_sleep(3)", &[])
        .await
        .unwrap_err()
        .into();
    assert!(matches!(err, Error::StatementTimeout(_)), "{err:?}");
    drop(tx);
    // The connection is usable again after the implicit rollback.
    session.ping().await.unwrap();
}

#[tokio::test]
async fn connecting_to_a_silent_listener_times_out() {
    // Accepts TCP connections and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket);
        }
    });
    let limit = Duration::from_secs(1);
    let config = config(&format!("postgresql://app:pw@127.0.0.1:{port}/db"), |s| {
        s.connection_timeout = Some(limit)
    });
    let engine = config.build_engine().unwrap();
    let started = Instant::now();
    let err = engine.session().ping().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, Error::Timeout { waiting_for: WaitingFor::NewConnection, after } if after == limit),
        "{err:?}"
    );
    assert!(
        elapsed >= limit && elapsed <= limit.mul_f64(1.2),
        "took {elapsed:?}"
    );
    held.abort();
}

#[tokio::test]
async fn application_name_search_path_and_read_committed() {
    let Some(url) = pg_url("conn_settings") else {
        return;
    };
    let db = pg_dbname(&url);
    let admin = pg_admin(&url).await;
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA \"my schema\"; CREATE TABLE \"my schema\".marker (x int); \
             ALTER DATABASE \"{db}\" SET default_transaction_isolation = 'serializable'"
        ))
        .await
        .unwrap();
    let config = config(&url, |s| {
        s.postgres.application_name = Some("dbconfig-it".into());
        s.postgres.search_path = Some("\"my schema\", public".into());
    });
    let engine = config.engine().await.unwrap();
    let mut session = config.session(&engine).await.unwrap();
    let client = session.client().await.unwrap();
    let row = client
        .query_one(
            "SELECT application_name, current_setting('search_path'), \
                    current_setting('default_transaction_isolation') \
             FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "dbconfig-it");
    assert_eq!(row.get::<_, String>(1), "\"my schema\", public");
    // The database default stays serializable…
    assert_eq!(row.get::<_, String>(2), "serializable");
    // …and the schema is found through the search path.
    client.query("SELECT x FROM marker", &[]).await.unwrap();

    // …but every transaction runs at read committed.
    for with_for_update in [false, true] {
        let tx = config
            .begin_transaction(&mut session, with_for_update)
            .await
            .unwrap();
        let level: String = tx
            .query_one("SHOW transaction_isolation", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(level, "read committed");
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn default_transaction_isolation_in_the_url_becomes_a_startup_setting() {
    let Some(url) = pg_url("dti") else { return };
    let config = PostgresConfig::new(&format!(
        "{url}?default_transaction_isolation=repeatable%20read"
    ))
    .unwrap();
    let engine = config.build_engine().unwrap();
    let mut session = engine.session();
    let default: String = session
        .client()
        .await
        .unwrap()
        .query_one("SHOW default_transaction_isolation", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(default, "repeatable read");
    let tx = session.begin_transaction(false).await.unwrap();
    let level: String = tx
        .query_one("SHOW transaction_isolation", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(level, "read committed");
}

/// The original's `test_locks_row_for_update`: the second `SELECT … FOR UPDATE` waits for the
/// first transaction and then sees its write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_for_update_serialises_two_transactions() {
    let Some(url) = pg_url("for_update") else {
        return;
    };
    let admin = pg_admin(&url).await;
    admin
        .batch_execute("CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0)")
        .await
        .unwrap();
    let config = Arc::new(config(&url, |_| {}));
    let engine = config.engine().await.unwrap();

    let mut first = config.session(&engine).await.unwrap();
    let tx1 = config.begin_transaction(&mut first, true).await.unwrap();
    let n: i32 = tx1
        .query_one("SELECT n FROM counter WHERE id = 1 FOR UPDATE", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    let (pid_tx, pid_rx) = tokio::sync::oneshot::channel();
    let second = tokio::spawn({
        let config = Arc::clone(&config);
        let engine = engine.clone();
        async move {
            let mut session = config.session(&engine).await.unwrap();
            let tx = config.begin_transaction(&mut session, true).await.unwrap();
            let pid: i32 = tx
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .unwrap()
                .get(0);
            pid_tx.send(pid).unwrap();
            let seen: i32 = tx
                .query_one("SELECT n FROM counter WHERE id = 1 FOR UPDATE", &[])
                .await
                .unwrap()
                .get(0);
            tx.execute("UPDATE counter SET n = $1 WHERE id = 1", &[&(seen + 1)])
                .await
                .unwrap();
            tx.commit().await.unwrap();
            seen
        }
    });
    let pid = pid_rx.await.unwrap();
    // Wait until the server reports the second transaction blocked on the row lock.
    let blocked = common::eventually(Duration::from_secs(10), async || {
        admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                &[&pid],
            )
            .await
            .is_ok_and(|r| r.get::<_, i64>(0) == 1)
    })
    .await;
    assert!(blocked, "the second transaction never waited for the lock");
    assert!(!second.is_finished());

    tx1.execute("UPDATE counter SET n = n + 1 WHERE id = 1", &[])
        .await
        .unwrap();
    tx1.commit().await.unwrap();

    let seen = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        seen, 1,
        "the second transaction must see the first one's write"
    );
    let n: i32 = admin
        .query_one("SELECT n FROM counter WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test]
async fn passwords_never_show() {
    let secret = "pw-9f8e7d";
    for url in [
        format!("postgresql://app:{secret}@127.0.0.1:1/db?sslmode=disable"),
        format!("host=127.0.0.1 port=1 user=app password={secret} dbname=db"),
        format!("host=127.0.0.1 port=1 user=app password='{secret}' dbname=db"),
    ] {
        let config = PostgresConfig::new(&url).unwrap();
        let engine = config.build_engine().unwrap();
        let session = engine.session();
        let texts = [
            format!("{config:?}"),
            format!("{:?}", config.settings()),
            format!("{}", config.url()),
            format!("{:?}", config.url()),
            format!("{:?}", config.unique_key()),
            format!("{engine:?}"),
            format!("{session:?}"),
        ];
        for text in &texts {
            assert!(!text.contains(secret), "password in {text}");
        }
        // Nothing listens on port 1: the error chain must not carry the password either.
        let err = engine.session().ping().await.unwrap_err();
        let mut chain = format!("{err} {err:?}");
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            chain.push_str(&format!(" {s} {s:?}"));
            source = s.source();
        }
        assert!(!chain.contains(secret), "password in {chain}");
    }
    // A URL that fails to parse does not echo it.
    let err = PostgresConfig::new(&format!("postgresql://app:{secret}@host:99999/db")).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(secret));
}
