//! A network path that goes silent (a proxy that stops forwarding but keeps both sockets open)
//! must end every operation with a timeout within its documented bound, never hang:
//! `verify_db`, `create_db`, `drop_db`, `ping`, a transaction's `commit` and `prepare_cached`,
//! each on a pooled connection that worked a moment before. A connection that timed out is not
//! reused.

use crate::common;

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

use common::pg_url;
use common::proxy::{SilentProxy, tcp_target};
use dbconfig::PostgresSettings;
use dbconfig::schema::{Column, ColumnType, Index, Metadata, Table};
use dbconfig::{Error, PostgresConfig, PostgresEngine, Settings, WaitingFor};

/// `timeout` (the server's statement_timeout).
const TIMEOUT: Duration = Duration::from_secs(1);
/// `connection_timeout`.
const CONNECT: Duration = Duration::from_secs(1);
/// The documented bound of one round trip: `timeout + connection_timeout`.
const ROUND_TRIP: Duration = Duration::from_secs(2);
/// Scheduling slack on a loaded machine.
const SLACK: Duration = Duration::from_secs(2);
/// Past this an operation is declared hung (before the fix they never returned).
const HUNG: Duration = Duration::from_secs(30);

/// An engine on a fresh database through a proxy, holding one pooled connection that has just
/// answered; then the proxy goes silent.
async fn silenced(prefix: &str) -> Option<(SilentProxy, PostgresEngine)> {
    let url = pg_url(prefix)?;
    let proxy = SilentProxy::forwarding(tcp_target(&url)?);
    // No liveness check at checkout: the operation's own round trips meet the silence.
    let settings = Settings::default()
        .with_url(proxy.url(&url).parse().unwrap())
        .with_connection_timeout(Some(CONNECT))
        .with_postgres(
            PostgresSettings::default()
                .with_statement_timeout(Some(TIMEOUT))
                .with_pool_pre_ping(None),
        );
    let engine = PostgresConfig::from_settings(settings)
        .unwrap()
        .build_engine()
        .unwrap();
    assert_eq!(engine.round_trip_limit(), ROUND_TRIP);
    engine.session().ping().await.unwrap();
    assert_eq!(engine.status().idle, 1);
    proxy.go_silent();
    Some((proxy, engine))
}

fn metadata() -> Metadata {
    Metadata::new().table(
        Table::new("job")
            .column(Column::new("id", ColumnType::BigInt))
            .column(Column::new("state", ColumnType::Text))
            .primary_key(["id"])
            .index(Index::new("ix_job_state", ["state"])),
    )
}

/// Runs `op` and checks it fails with a timeout within `bound` (plus slack). Returns the error.
async fn times_out<T: Debug>(
    what: &str,
    bound: Duration,
    op: impl Future<Output = dbconfig::Result<T>>,
) -> Error {
    let started = Instant::now();
    let result = tokio::time::timeout(HUNG, op)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for {HUNG:?} on a silent network"));
    let elapsed = started.elapsed();
    let err = result.expect_err(what);
    assert!(err.is_timeout(), "{what}: {err:?}");
    assert!(
        elapsed < bound + SLACK,
        "{what} took {elapsed:?}, bound {bound:?}"
    );
    eprintln!("{what}: \"{err}\" after {elapsed:?} (bound {bound:?})");
    err
}

/// The connection that timed out is closed, not pooled: the next session opens a new one,
/// which the silent proxy never lets through its handshake.
async fn next_session_needs_a_new_connection(engine: &PostgresEngine) {
    assert_eq!(engine.status().size, 0, "the timed-out connection was kept");
    let err = times_out("the next ping", CONNECT, engine.session().ping()).await;
    assert!(
        matches!(
            err,
            Error::Timeout {
                waiting_for: WaitingFor::NewConnection,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn verify_db_times_out() {
    let Some((_proxy, engine)) = silenced("silent_verify").await else {
        return;
    };
    let err = times_out("verify_db", ROUND_TRIP, engine.verify_db(&metadata())).await;
    assert!(
        matches!(err, Error::Timeout { waiting_for: WaitingFor::ServerAnswer, after } if after == ROUND_TRIP),
        "{err:?}"
    );
    next_session_needs_a_new_connection(&engine).await;
}

#[tokio::test]
async fn create_db_times_out() {
    let Some((_proxy, engine)) = silenced("silent_create").await else {
        return;
    };
    times_out("create_db", ROUND_TRIP, engine.create_db(&metadata())).await;
    next_session_needs_a_new_connection(&engine).await;
}

#[tokio::test]
async fn drop_db_times_out() {
    let Some((_proxy, engine)) = silenced("silent_drop").await else {
        return;
    };
    times_out("drop_db", ROUND_TRIP, engine.drop_db(&metadata())).await;
    next_session_needs_a_new_connection(&engine).await;
}

#[tokio::test]
async fn ping_commit_and_prepare_time_out() {
    let Some((_proxy, engine)) = silenced("silent_commit").await else {
        return;
    };
    times_out("ping", ROUND_TRIP, engine.session().ping()).await;
    next_session_needs_a_new_connection(&engine).await;

    // A transaction begun before the silence: BEGIN is pipelined, COMMIT reads its answer.
    let Some((_proxy, engine)) = silenced("silent_commit2").await else {
        return;
    };
    let mut session = engine.session();
    times_out("commit", ROUND_TRIP, async {
        session.begin_transaction(false).await?.commit().await
    })
    .await;
    drop(session);
    next_session_needs_a_new_connection(&engine).await;

    // Preparing a statement inside a transaction.
    let Some((_proxy, engine)) = silenced("silent_prepare").await else {
        return;
    };
    let mut session = engine.session();
    let tx = session.begin_transaction(false).await.unwrap();
    times_out("prepare_cached", ROUND_TRIP, tx.prepare_cached("SELECT 1")).await;
}
