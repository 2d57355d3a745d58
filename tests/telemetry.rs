//! Pool metrics through the `metrics` facade (a test recorder sees checkout waits and timeouts
//! when the pool is exhausted, and the in-use gauge back at 0 afterwards), and one `tracing`
//! span per transaction with the statements echoed inside it, on both backends.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbconfig::prelude::*;
use dbconfig::{Error, PostgresConfig, Settings, SqliteConfig, WaitingFor};
use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

/// A recorder that keeps every value, by metric name and the `state` label.
#[derive(Default, Clone)]
struct TestRecorder {
    counters: Arc<Mutex<HashMap<String, Arc<AtomicU64>>>>,
    gauges: Arc<Mutex<HashMap<String, Arc<GaugeCell>>>>,
    histograms: Arc<Mutex<HashMap<String, Arc<HistogramCell>>>>,
}

#[derive(Default)]
struct GaugeCell(Mutex<f64>);
impl GaugeFn for GaugeCell {
    fn increment(&self, value: f64) {
        *self.0.lock().unwrap() += value;
    }
    fn decrement(&self, value: f64) {
        *self.0.lock().unwrap() -= value;
    }
    fn set(&self, value: f64) {
        *self.0.lock().unwrap() = value;
    }
}

#[derive(Default)]
struct HistogramCell(Mutex<Vec<f64>>);
impl HistogramFn for HistogramCell {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

struct CounterCell(Arc<AtomicU64>);
impl CounterFn for CounterCell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::SeqCst);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::SeqCst);
    }
}

/// `name` or `name{state}`.
fn id(key: &Key) -> String {
    match key
        .labels()
        .find(|l| l.key() == "db.client.connection.state")
    {
        Some(state) => format!("{}{{{}}}", key.name(), state.value()),
        None => key.name().to_owned(),
    }
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let cell = Arc::clone(self.counters.lock().unwrap().entry(id(key)).or_default());
        Counter::from_arc(Arc::new(CounterCell(cell)))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::clone(
            self.gauges.lock().unwrap().entry(id(key)).or_default(),
        ))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::clone(
            self.histograms.lock().unwrap().entry(id(key)).or_default(),
        ))
    }
}

impl TestRecorder {
    fn gauge(&self, name: &str) -> f64 {
        *self.gauges.lock().unwrap()[name].0.lock().unwrap()
    }
    fn counter(&self, name: &str) -> u64 {
        self.counters.lock().unwrap()[name].load(Ordering::SeqCst)
    }
    fn histogram(&self, name: &str) -> Vec<f64> {
        self.histograms.lock().unwrap()[name]
            .0
            .lock()
            .unwrap()
            .clone()
    }
}

/// One connection, no overflow, a short `pool_timeout`.
fn small_pool(url: &str) -> Settings {
    let mut settings = Settings::new().with_url(url.parse().unwrap());
    settings.pool_size = 1;
    settings.max_overflow = 0;
    settings.pool_timeout = Duration::from_millis(300);
    settings
}

/// Exhausts the pool of `engine` (its `session()` as `S`): a second checkout waits, then times
/// out; a third waits until the first is given back; the in-use gauge ends at 0.
macro_rules! exhaust {
    ($recorder:expr, $engine:expr, $checkout:ident) => {{
        let recorder = &$recorder;
        let engine = $engine;
        let mut first = engine.session();
        first.$checkout().await.unwrap();
        let shown: Vec<(String, f64)> = recorder
            .gauges
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), *v.0.lock().unwrap()))
            .collect();
        assert_eq!(
            recorder.gauge("db.client.connection.count{used}"),
            1.0,
            "{shown:?}"
        );
        assert_eq!(recorder.gauge("db.client.connection.max"), 1.0, "{shown:?}");

        let mut second = engine.session();
        match second.$checkout().await {
            Err(Error::Timeout {
                waiting_for: WaitingFor::PooledConnection,
                ..
            }) => {}
            other => panic!("expected a pool timeout, got {other:?}"),
        }
        assert_eq!(recorder.counter("db.client.connection.timeouts"), 1);
        let waits = recorder.histogram("db.client.connection.wait_time");
        assert!(waits.iter().any(|w| *w >= 0.3), "{waits:?}");

        // A waiter that gets the connection once the first session gives it back.
        let waiter_engine = engine.clone();
        let waiter = tokio::spawn(async move {
            let mut third = waiter_engine.session();
            third.$checkout().await.map(drop)
        });
        assert!(
            common::eventually(Duration::from_secs(5), async || engine.status().waiting
                == 1)
            .await,
            "the waiter never queued"
        );
        assert_eq!(recorder.gauge("db.client.connection.pending_requests"), 0.0);
        drop(first);
        waiter.await.unwrap().unwrap();
        // The idle count is read from the pool at least every 8th return.
        for _ in 0..8 {
            engine.session().$checkout().await.unwrap();
        }
        assert_eq!(recorder.gauge("db.client.connection.count{used}"), 0.0);
        assert_eq!(recorder.gauge("db.client.connection.count{idle}"), 1.0);
        assert!(
            !recorder
                .histogram("db.client.connection.create_time")
                .is_empty()
        );
        drop(second);
        engine.dispose();
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_pool_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = TestRecorder::default();
    let url = common::file_url(dir.path(), "m.db");
    let config = SqliteConfig::from_settings(small_pool(&url)).unwrap();
    let engine = metrics::with_local_recorder(&recorder, || config.build_engine()).unwrap();
    exhaust!(recorder, engine.clone(), connection);

    // The writer lane's wait is recorded for each write transaction.
    let config = SqliteConfig::new(&url).unwrap();
    let engine = metrics::with_local_recorder(&recorder, || config.build_engine()).unwrap();
    let before = recorder
        .histogram("dbconfig.sqlite.writer_lane.wait_time")
        .len();
    let mut s = engine.session();
    s.begin_transaction(true)
        .await
        .unwrap()
        .commit()
        .await
        .unwrap();
    assert_eq!(
        recorder
            .histogram("dbconfig.sqlite.writer_lane.wait_time")
            .len(),
        before + 1
    );
    drop(s);
    engine.dispose();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pool_metrics() {
    let Some(url) = common::pg_url("metrics") else {
        return;
    };
    let recorder = TestRecorder::default();
    let config = PostgresConfig::from_settings(small_pool(&url)).unwrap();
    let engine = metrics::with_local_recorder(&recorder, || config.build_engine()).unwrap();
    exhaust!(recorder, engine.clone(), client);
}

/// Runs `work` under a subscriber that writes span closes and events; returns what it wrote.
async fn traced(work: impl AsyncFnOnce()) -> String {
    let (capture, guard) = common::Capture::install(tracing::Level::INFO, true);
    work().await;
    drop(guard);
    capture.text()
}

async fn one_transaction<C: DatabaseConfig>(config: &C) {
    let engine = config.engine().await.unwrap();
    let mut session = config.session(&engine).await.unwrap();
    let mut tx = config.begin_transaction(&mut session, true).await.unwrap();
    tx.execute_batch("CREATE TABLE IF NOT EXISTS traced (x INTEGER)")
        .await
        .unwrap();
    tx.execute("INSERT INTO traced (x) VALUES ($1)", &[&41i64])
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn one_span_per_transaction_with_its_statements() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::file_url(dir.path(), "t.db");
    let sqlite = SqliteConfig::from_settings(
        Settings::new()
            .with_url(url.parse().unwrap())
            .with_echo(true),
    )
    .unwrap();
    let text = traced(async || one_transaction(&sqlite).await).await;
    // The INSERT is echoed inside the span, whose fields name the system and the file.
    let insert = text
        .lines()
        .find(|l| l.contains("INSERT INTO traced"))
        .unwrap_or_else(|| panic!("no echoed INSERT in {text}"));
    assert!(insert.contains("db.transaction{"), "{insert}");
    assert!(insert.contains("db.system.name=\"sqlite\""), "{insert}");
    assert!(insert.contains("t.db"), "{insert}");
    assert!(
        text.lines()
            .any(|l| l.contains("db.transaction{") && l.contains("close")),
        "no span close in {text}"
    );

    let Some(pg_url) = common::pg_url("traced") else {
        return;
    };
    let pg = PostgresConfig::from_settings(
        Settings::new()
            .with_url(pg_url.parse().unwrap())
            .with_echo(true),
    )
    .unwrap();
    let text = traced(async || one_transaction(&pg).await).await;
    let insert = text
        .lines()
        .find(|l| l.contains("INSERT INTO traced"))
        .unwrap_or_else(|| panic!("no echoed INSERT in {text}"));
    assert!(insert.contains("db.system.name=\"postgresql\""), "{insert}");
    assert!(
        insert.contains(&format!("db.namespace=\"{}\"", common::pg_dbname(&pg_url))),
        "{insert}"
    );
    let commit = text
        .lines()
        .find(|l| l.contains("COMMIT"))
        .unwrap_or_else(|| panic!("no echoed COMMIT in {text}"));
    assert!(commit.contains("db.transaction{"), "{commit}");
}
