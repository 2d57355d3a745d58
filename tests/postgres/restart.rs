//! A PostgreSQL restart in the middle of a load of 8 concurrent tasks: once the server is back,
//! every new operation succeeds without restarting the application, and no task hangs.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use common::pg::{ClusterOptions, own_cluster};
use dbconfig::{DatabaseConfig, PostgresConfig, Settings};

const BEFORE: u8 = 0;
const DOWN: u8 = 1;
const BACK: u8 = 2;
const TASKS: usize = 8;
/// Successful operations each task must complete after the server is back.
const AFTER_OPS: u64 = 25;

#[derive(Default)]
struct Counts {
    ok_before: AtomicU64,
    failed_while_down: AtomicU64,
    ok_after: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_survives_a_server_restart() {
    let Some(cluster) = own_cluster(ClusterOptions::default()) else {
        return;
    };
    let url = cluster.url("postgres");
    cluster
        .psql(
            "postgres",
            "CREATE TABLE events (id bigserial PRIMARY KEY, task int NOT NULL)",
        )
        .unwrap();
    let mut settings = Settings::default().with_url(url.parse().unwrap());
    settings.pool_size = 4;
    settings.max_overflow = 4;
    settings.connection_timeout = Some(Duration::from_secs(2));
    settings.pool_timeout = Duration::from_secs(5);
    let config = Arc::new(PostgresConfig::from_settings(settings).unwrap());
    let engine = config.engine().await.unwrap();

    let phase = Arc::new(AtomicU8::new(BEFORE));
    let counts = Arc::new(Counts::default());
    let failures_after: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (config, engine, phase, counts, failures_after) = (
            Arc::clone(&config),
            engine.clone(),
            Arc::clone(&phase),
            Arc::clone(&counts),
            Arc::clone(&failures_after),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine_after = 0;
            while mine_after < AFTER_OPS {
                let started_in = phase.load(Ordering::SeqCst);
                let result = async {
                    let mut session = config.session(&engine).await?;
                    let tx = config.begin_transaction(&mut session, true).await?;
                    tx.execute("INSERT INTO events (task) VALUES ($1)", &[&(task as i32)])
                        .await?;
                    tx.commit().await
                }
                .await;
                match (result, started_in) {
                    (Ok(()), BACK) => {
                        mine_after += 1;
                        counts.ok_after.fetch_add(1, Ordering::SeqCst);
                    }
                    (Ok(()), _) => {
                        counts.ok_before.fetch_add(1, Ordering::SeqCst);
                    }
                    (Err(e), BACK) => {
                        failures_after.lock().unwrap().push(format!("{e:?}"));
                        mine_after += 1;
                    }
                    (Err(_), _) => {
                        counts.failed_while_down.fetch_add(1, Ordering::SeqCst);
                        // Pace retries while the server is away (not a synchronisation).
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
        }));
    }

    // Let the load run until every task has written, then restart under it.
    assert!(
        common::eventually(Duration::from_secs(30), async || {
            counts.ok_before.load(Ordering::SeqCst) >= 200
        })
        .await
    );
    let cluster = Arc::new(cluster);
    let stopper = Arc::clone(&cluster);
    phase.store(DOWN, Ordering::SeqCst);
    tokio::task::spawn_blocking(move || stopper.stop())
        .await
        .unwrap()
        .unwrap();
    let starter = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || starter.start_again())
        .await
        .unwrap()
        .unwrap();
    phase.store(BACK, Ordering::SeqCst);

    for task in tasks {
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("a task hung after the restart")
            .unwrap();
    }
    let failures = failures_after.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "operations started after the server came back failed: {failures:#?}"
    );
    assert_eq!(
        counts.ok_after.load(Ordering::SeqCst),
        TASKS as u64 * AFTER_OPS
    );
    // The pool still works and holds no more than its limit.
    let mut session = engine.session();
    session.ping().await.unwrap();
    assert!(engine.status().size <= 8);
    let rows: i64 = session
        .client()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert!(rows >= 200 + (TASKS as u64 * AFTER_OPS) as i64);
    eprintln!(
        "restart under load: {} ok before, {} failed while down, {} ok after",
        counts.ok_before.load(Ordering::SeqCst),
        counts.failed_while_down.load(Ordering::SeqCst),
        counts.ok_after.load(Ordering::SeqCst)
    );
}
