//! Pool metrics and transaction spans, for dashboards and traces.
//!
//! **Metrics** go through the [`metrics`](https://docs.rs/metrics) facade: they cost a few
//! atomic operations when no recorder is installed, and reach Prometheus, OpenTelemetry or
//! StatsD through the matching exporter crate. Install the recorder before the first engine is
//! built: each engine registers its handles when it is built. Names follow OpenTelemetry's
//! database-client semantic conventions
//! (<https://opentelemetry.io/docs/specs/semconv/database/database-metrics/>); every one
//! carries `db.system.name` (`sqlite` or `postgresql`) and `db.client.connection.pool.name`
//! (the engine's redacted URL):
//!
//! | name | kind | what |
//! |---|---|---|
//! | `db.client.connection.count` | gauge, label `db.client.connection.state` = `used` / `idle` | connections handed out / idle in the pool (idle is read from the pool after a wait and at every 8th return, so it can lag by a few checkouts) |
//! | `db.client.connection.max` | gauge | `pool_size + max_overflow` |
//! | `db.client.connection.pending_requests` | gauge | sessions waiting for a connection |
//! | `db.client.connection.wait_time` | histogram, seconds | time to get a connection from the pool (including opening one) |
//! | `db.client.connection.create_time` | histogram, seconds | time to open a connection (PRAGMAs, TLS, hooks) |
//! | `db.client.connection.timeouts` | counter | checkouts that gave up (`pool_timeout`, `connection_timeout`) |
//! | `dbconfig.sqlite.writer_lane.wait_time` | histogram, seconds | SQLite: time a write transaction waited for the writer lane |
//!
//! **Traces**: each transaction is a `tracing` span named `db.transaction` (target
//! `dbconfig::tx`, level INFO) with `db.system.name`, `db.namespace` (the SQLite file or the
//! PostgreSQL database) and `write` (a write transaction); BEGIN, COMMIT and ROLLBACK are events
//! in it, and with `echo` the statements run through dbconfig are too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram};

use crate::url::Dialect;

/// One engine's metric handles, registered when the engine is built.
pub(crate) struct PoolMetrics {
    used: Gauge,
    idle: Gauge,
    pending: Gauge,
    wait_time: Histogram,
    create_time: Histogram,
    timeouts: Counter,
    lane_wait: Histogram,
    returns: AtomicU64,
}

impl PoolMetrics {
    pub(crate) fn new(dialect: Dialect, pool: &str, max: usize) -> Self {
        let system = dialect.name();
        let labels = [
            ("db.system.name", system.to_owned()),
            ("db.client.connection.pool.name", pool.to_owned()),
        ];
        let state = |state: &'static str| {
            let mut l = labels.to_vec();
            l.push(("db.client.connection.state", state.to_owned()));
            l
        };
        metrics::gauge!("db.client.connection.max", &labels).set(max as f64);
        PoolMetrics {
            used: metrics::gauge!("db.client.connection.count", &state("used")),
            idle: metrics::gauge!("db.client.connection.count", &state("idle")),
            pending: metrics::gauge!("db.client.connection.pending_requests", &labels),
            wait_time: metrics::histogram!("db.client.connection.wait_time", &labels),
            create_time: metrics::histogram!("db.client.connection.create_time", &labels),
            timeouts: metrics::counter!("db.client.connection.timeouts", &labels),
            lane_wait: metrics::histogram!("dbconfig.sqlite.writer_lane.wait_time", &labels),
            returns: AtomicU64::new(0),
        }
    }

    /// A checkout ended after `waited`: handed out, or timed out.
    pub(crate) fn checked_out(&self, waited: Duration, ok: bool, timed_out: bool) {
        self.wait_time.record(waited.as_secs_f64());
        if ok {
            self.used.increment(1.0);
        }
        if timed_out {
            self.timeouts.increment(1);
        }
    }

    /// A connection handed out earlier is back (pooled or closed). True every 8th time: the
    /// caller then reads the pool's idle and waiting counts ([`pool_state`](Self::pool_state)).
    pub(crate) fn returned(&self) -> bool {
        self.used.decrement(1.0);
        self.returns
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(8)
    }

    /// The pool's idle and waiting counts, as of now.
    pub(crate) fn pool_state(&self, idle: usize, waiting: usize) {
        self.idle.set(idle as f64);
        self.pending.set(waiting as f64);
    }

    pub(crate) fn created(&self, took: Duration) {
        self.create_time.record(took.as_secs_f64());
    }

    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn lane_waited(&self, took: Duration) {
        self.lane_wait.record(took.as_secs_f64());
    }
}

/// `$fut.await` inside `$span`, without the `Instrumented` wrapper when no subscriber wants the
/// span: on SQLite's fast paths its poll, drop and larger future were a measurable part of the
/// per-transaction cost with no subscriber installed (`benches/telemetry.sh`). SQLite's only.
#[cfg(feature = "sqlite")]
macro_rules! in_span {
    ($span:expr, $fut:expr) => {{
        let span: &tracing::Span = &$span;
        if span.is_disabled() {
            $fut.await
        } else {
            tracing::Instrument::instrument($fut, span.clone()).await
        }
    }};
}
#[cfg(feature = "sqlite")]
pub(crate) use in_span;

/// The span of one transaction (see the module docs).
pub(crate) fn transaction_span(dialect: Dialect, namespace: &str, write: bool) -> tracing::Span {
    tracing::info_span!(
        target: "dbconfig::tx",
        "db.transaction",
        db.system.name = dialect.name(),
        db.namespace = namespace,
        write,
    )
}
