//! A statement abandoned mid-flight (its future dropped: a timeout, a `select!`, an aborted
//! task) must not delay the next user of its connection, and must not keep running on the
//! server: the connection is not handed out again until it is idle, and when it does not
//! become idle it is cancelled and closed. Each scenario runs 20 times.

use crate::common;

use std::time::{Duration, Instant};

use common::{backend_pid, eventually, pg_admin, pg_url};
use dbconfig::PostgresSettings;
use dbconfig::{PostgresConfig, PostgresEngine, Settings};

/// The abandoned statement: far longer than any bound below.
const SLEEP: &str = "SELECT pg_sleep(30)";
/// `connection_timeout`: also how long a connection left busy has to show it is idle.
const CONNECT: Duration = Duration::from_secs(1);
/// The next user's first statement must be answered within this.
const FAST: Duration = Duration::from_secs(1);
/// Scheduling slack on a loaded machine.
const SLACK: Duration = Duration::from_secs(3);
const RUNS: usize = 20;

async fn setup(prefix: &str) -> Option<(PostgresEngine, tokio_postgres::Client)> {
    let url = pg_url(prefix)?;
    // The server must not end the sleep itself.
    let settings = Settings::default()
        .with_url(url.parse().unwrap())
        .with_connection_timeout(Some(CONNECT))
        .with_postgres(
            PostgresSettings::default().with_statement_timeout(Some(Duration::from_secs(120))),
        );
    let engine = PostgresConfig::from_settings(settings)
        .unwrap()
        .build_engine()
        .unwrap();
    Some((engine, pg_admin(&url).await))
}

/// Whether backend `pid` is running [`SLEEP`].
async fn is_sleeping(admin: &tokio_postgres::Client, pid: i32) -> bool {
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
              WHERE pid = $1 AND state = 'active' AND query = $2",
            &[&pid, &SLEEP],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 1
}

/// Resolves once backend `pid` runs [`SLEEP`] (the statement is in flight).
async fn started_sleeping(admin: &tokio_postgres::Client, pid: i32) {
    let started = eventually(Duration::from_secs(10), async || {
        is_sleeping(admin, pid).await
    })
    .await;
    assert!(started, "backend {pid} never started sleeping");
}

/// After the abandoned statement: the next session's first statement is answered at once, and
/// the sleep on `pid` ends (cancelled) within `connection_timeout` twice over (the wait for the
/// connection to show it is idle, then the cancel request). Adds what it measured to `worst`.
async fn next_user_is_not_delayed(
    engine: &PostgresEngine,
    admin: &tokio_postgres::Client,
    pid: i32,
    worst: &mut Worst,
) {
    let started = Instant::now();
    let mut session = engine.session();
    let answered = tokio::time::timeout(Duration::from_secs(10), async {
        session
            .client()
            .await
            .unwrap()
            .simple_query("SELECT 1")
            .await
    })
    .await;
    let waited = started.elapsed();
    assert!(
        matches!(answered, Ok(Ok(_))) && waited < FAST,
        "the next user waited {waited:?} ({answered:?})"
    );
    drop(session);
    worst.waited = worst.waited.max(waited);
    sleep_ends(admin, pid, worst).await;
}

/// The sleep on `pid` ends within `connection_timeout` twice over (plus slack).
async fn sleep_ends(admin: &tokio_postgres::Client, pid: i32, worst: &mut Worst) {
    let started = Instant::now();
    let cancelled = eventually(CONNECT * 2 + SLACK, async || !is_sleeping(admin, pid).await).await;
    let took = started.elapsed();
    assert!(cancelled, "backend {pid} still sleeping after {took:?}");
    worst.sleep_ended = worst.sleep_ended.max(took);
}

/// The longest waits seen over the runs of one scenario, printed at its end.
#[derive(Debug, Default)]
struct Worst {
    /// For the next user's first answer.
    waited: Duration,
    /// For the abandoned sleep to end on the server.
    sleep_ended: Duration,
}

#[tokio::test]
async fn a_statement_dropped_by_a_timeout_inside_a_transaction() {
    let Some((engine, admin)) = setup("cancel_timeout").await else {
        return;
    };
    let mut worst = Worst::default();
    for _ in 0..RUNS {
        let mut session = engine.session();
        let pid = backend_pid(&mut session).await;
        let tx = session.begin_transaction(false).await.unwrap();
        tokio::select! {
            result = tx.query(SLEEP, &[]) => panic!("the sleep returned: {result:?}"),
            () = started_sleeping(&admin, pid) => {}
        }
        drop(tx);
        drop(session);
        next_user_is_not_delayed(&engine, &admin, pid, &mut worst).await;
    }
    eprintln!("{RUNS} runs: {worst:?}");
}

#[tokio::test]
async fn a_task_aborted_inside_a_transaction() {
    let Some((engine, admin)) = setup("cancel_abort").await else {
        return;
    };
    let mut worst = Worst::default();
    for _ in 0..RUNS {
        let (pid_tx, pid_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn({
            let engine = engine.clone();
            async move {
                let mut session = engine.session();
                pid_tx.send(backend_pid(&mut session).await).unwrap();
                let tx = session.begin_transaction(true).await.unwrap();
                tx.execute(SLEEP, &[]).await
            }
        });
        let pid = pid_rx.await.unwrap();
        started_sleeping(&admin, pid).await;
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        next_user_is_not_delayed(&engine, &admin, pid, &mut worst).await;
    }
    eprintln!("{RUNS} runs: {worst:?}");
}

#[tokio::test]
async fn execute_prepared_and_commit_dropped_mid_flight() {
    let Some((engine, admin)) = setup("cancel_commit").await else {
        return;
    };
    let mut worst = Worst::default();
    for _ in 0..RUNS {
        let mut session = engine.session();
        let pid = backend_pid(&mut session).await;
        let tx = session.begin_transaction(true).await.unwrap();
        let sleep = tx.prepare_cached(SLEEP).await.unwrap();
        tokio::select! {
            result = tx.query_prepared_and_commit(&sleep, &[]) => panic!("the sleep returned: {result:?}"),
            () = started_sleeping(&admin, pid) => {}
        }
        drop(session);
        next_user_is_not_delayed(&engine, &admin, pid, &mut worst).await;
    }
    eprintln!("{RUNS} runs: {worst:?}");
}

#[tokio::test]
async fn the_same_session_goes_on_after_a_dropped_statement() {
    let Some((engine, admin)) = setup("cancel_same").await else {
        return;
    };
    let mut session = engine.session();
    let mut worst = Worst::default();
    for _ in 0..RUNS {
        let pid = backend_pid(&mut session).await;
        let tx = session.begin_transaction(false).await.unwrap();
        tokio::select! {
            result = tx.query(SLEEP, &[]) => panic!("the sleep returned: {result:?}"),
            () = started_sleeping(&admin, pid) => {}
        }
        drop(tx);
        // The session's next transaction does not wait for the sleep either.
        let started = Instant::now();
        let answered = tokio::time::timeout(Duration::from_secs(10), async {
            let tx = session.begin_transaction(false).await?;
            tx.query_one("SELECT 1", &[]).await?;
            tx.commit().await
        })
        .await;
        let waited = started.elapsed();
        assert!(
            matches!(answered, Ok(Ok(()))) && waited < FAST,
            "the session's next transaction waited {waited:?} ({answered:?})"
        );
        worst.waited = worst.waited.max(waited);
        sleep_ends(&admin, pid, &mut worst).await;
    }
    eprintln!("{RUNS} runs: {worst:?}");
}
