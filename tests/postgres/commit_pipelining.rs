//! `execute_prepared_and_commit` / `query_prepared_and_commit`: the last statement and COMMIT leave together.
//! These tests check the transaction semantics survive the pipelining: the statement runs inside
//! the transaction (not after it), a failed statement keeps nothing, a parameter that cannot be
//! encoded sends nothing, and the connection comes back to the pool idle.

use crate::common;

use common::{backend_pid, pg_admin, pg_dbname, pg_url};
use dbconfig::{Error, PostgresConfig, PostgresEngine, Settings};
use tokio_postgres::types::ToSql;

fn engine(url: &str) -> PostgresEngine {
    // One connection, so every session below reuses the one the previous session returned.
    let settings = Settings::default()
        .with_url(url.parse().unwrap())
        .with_pool_size(1)
        .with_max_overflow(0);
    PostgresConfig::from_settings(settings)
        .unwrap()
        .build_engine()
        .unwrap()
}

async fn setup(url: &str) {
    let admin = pg_admin(url).await;
    admin
        .batch_execute(&format!(
            "CREATE TABLE t (id BIGINT PRIMARY KEY, note TEXT NOT NULL); \
             ALTER DATABASE \"{}\" SET default_transaction_isolation = 'serializable'",
            pg_dbname(url)
        ))
        .await
        .unwrap();
}

/// A database of its own with table `t` (serializable by default), and an engine of one
/// connection on it.
async fn fresh(prefix: &str) -> Option<(String, PostgresEngine)> {
    let url = pg_url(prefix)?;
    setup(&url).await;
    let engine = engine(&url);
    Some((url, engine))
}

async fn ids(engine: &PostgresEngine) -> Vec<i64> {
    let mut session = engine.session();
    let client = session.client().await.unwrap();
    client
        .query("SELECT id FROM t ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The pooled connection is idle, not inside a transaction: in a simple query of its own (an
/// implicit transaction) `now()` is that statement's start; inside an open transaction it would
/// be the transaction's earlier start.
async fn connection_is_idle(engine: &PostgresEngine) -> bool {
    let mut session = engine.session();
    let client = session.client().await.unwrap();
    let messages = client
        .simple_query("SELECT now() = statement_timestamp()")
        .await
        .unwrap();
    let row = messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0) == Some("t")),
        _ => None,
    });
    row.expect("one row")
}

/// A write transaction that inserts row 1, then ends with `execute_prepared_and_commit` of
/// `INSERT INTO t VALUES ($1, 'last')` bound to `id`.
async fn insert_then_commit_with(
    engine: &PostgresEngine,
    id: &(dyn ToSql + Sync),
) -> dbconfig::Result<u64> {
    let mut session = engine.session();
    let tx = session.begin_transaction(true).await.unwrap();
    tx.execute("INSERT INTO t VALUES (1, 'first')", &[])
        .await
        .unwrap();
    let insert = tx
        .prepare_cached("INSERT INTO t VALUES ($1, 'last')")
        .await
        .unwrap();
    tx.execute_prepared_and_commit(&insert, &[id]).await
}

#[tokio::test]
async fn the_statement_runs_inside_the_transaction_and_is_committed() {
    let Some((_, engine)) = fresh("pipe_ok").await else {
        return;
    };

    let mut session = engine.session();
    let tx = session.begin_transaction(true).await.unwrap();
    let insert = tx
        .prepare_cached("INSERT INTO t VALUES ($1, current_setting('transaction_isolation'))")
        .await
        .unwrap();
    assert_eq!(
        tx.execute_prepared_and_commit(&insert, &[&1_i64])
            .await
            .unwrap(),
        1
    );
    drop(session);

    // The database default is serializable: "read committed" proves the INSERT ran inside
    // BEGIN … COMMIT, not after the COMMIT on its own.
    let mut session = engine.session();
    let tx = session.begin_transaction(false).await.unwrap();
    let select = tx
        .prepare_cached(
            "SELECT note, current_setting('transaction_isolation') FROM t WHERE id = $1",
        )
        .await
        .unwrap();
    let rows = tx
        .query_prepared_and_commit(&select, &[&1_i64])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "read committed");
    assert_eq!(rows[0].get::<_, String>(1), "read committed");
    drop(session);

    assert_eq!(ids(&engine).await, [1]);
    assert!(connection_is_idle(&engine).await);
}

#[tokio::test]
async fn earlier_statements_are_committed_with_the_last() {
    let Some((_, engine)) = fresh("pipe_many").await else {
        return;
    };

    assert_eq!(insert_then_commit_with(&engine, &2_i64).await.unwrap(), 1);
    assert_eq!(ids(&engine).await, [1, 2]);
    assert!(connection_is_idle(&engine).await);
}

#[tokio::test]
async fn a_failed_last_statement_keeps_nothing_of_the_transaction() {
    let Some((_, engine)) = fresh("pipe_fail").await else {
        return;
    };

    // Row 1 again: a duplicate key.
    let err = insert_then_commit_with(&engine, &1_i64).await.unwrap_err();
    assert_eq!(err.sqlstate(), Some("23505"), "{err}");
    assert!(ids(&engine).await.is_empty(), "the first INSERT was kept");
    assert!(connection_is_idle(&engine).await);
    assert_eq!(engine.status().size, 1, "the connection was replaced");
}

#[tokio::test]
async fn a_parameter_that_cannot_be_encoded_sends_nothing_and_rolls_back() {
    let Some((_, engine)) = fresh("pipe_encode").await else {
        return;
    };

    // A TEXT value for a BIGINT parameter fails in the client, before anything is sent.
    let err = insert_then_commit_with(&engine, &"not a number")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Postgres(_)), "{err:?}");
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        source.is_some_and(|s| s.contains("serializing parameter")),
        "the driver's encoding error"
    );
    assert!(ids(&engine).await.is_empty(), "the first INSERT was kept");
    assert!(connection_is_idle(&engine).await);
}

#[tokio::test]
async fn a_failed_commit_is_reported_after_a_successful_statement() {
    let Some((url, engine)) = fresh("pipe_deferred").await else {
        return;
    };
    let admin = pg_admin(&url).await;
    admin
        .batch_execute(
            "CREATE TABLE parent (id BIGINT PRIMARY KEY); \
             CREATE TABLE child (id BIGINT PRIMARY KEY, parent BIGINT \
                 REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .await
        .unwrap();

    // The foreign key is checked at COMMIT: the INSERT succeeds, COMMIT fails.
    let mut session = engine.session();
    let tx = session.begin_transaction(true).await.unwrap();
    let insert = tx
        .prepare_cached("INSERT INTO child VALUES ($1, 42)")
        .await
        .unwrap();
    let err = tx
        .execute_prepared_and_commit(&insert, &[&1_i64])
        .await
        .unwrap_err();
    assert_eq!(err.sqlstate(), Some("23503"), "{err}");
    drop(session);

    let mut session = engine.session();
    let client = session.client().await.unwrap();
    let n: i64 = client
        .query_one("SELECT count(*) FROM child", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    drop(session);
    assert!(connection_is_idle(&engine).await);
}

#[tokio::test]
async fn a_connection_killed_mid_transaction_gives_an_error_and_is_not_reused() {
    let Some((url, engine)) = fresh("pipe_killed").await else {
        return;
    };
    let admin = pg_admin(&url).await;

    let mut session = engine.session();
    let pid = backend_pid(&mut session).await;
    let tx = session.begin_transaction(true).await.unwrap();
    let insert = tx
        .prepare_cached("INSERT INTO t VALUES ($1, 'lost')")
        .await
        .unwrap();
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    let gone = common::eventually(std::time::Duration::from_secs(10), async || {
        admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                &[&pid],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
            == 0
    })
    .await;
    assert!(gone, "the backend did not exit");
    // Whether the client has already seen the close or finds out now, this is an error.
    let err = tx
        .execute_prepared_and_commit(&insert, &[&1_i64])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Postgres(_)), "{err:?}");
    drop(session);

    assert!(ids(&engine).await.is_empty());
    assert_ne!(backend_pid(&mut engine.session()).await, pid);
}
