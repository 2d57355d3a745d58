//! The benchmark contract's plan, the same for every implementation: the arguments, the table
//! and its preload, the op sequence (drawn from the same RNG seeds in the same order), the task
//! and thread drivers, the latency histogram and the one JSON line.
//!
//! `loadgen` (this directory's `main.rs`) and the peers in `benches/peers/` (their
//! `src/common.rs`) include this file by path, so it depends only on std, tokio, fastrand and
//! serde_json.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// Rows in `bench_kv` before the run; reads pick an id in `1..=PRELOAD`.
pub const PRELOAD: i64 = 10_000;

pub const SQLITE_CREATE: &str =
    "CREATE TABLE bench_kv (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL)";
pub const SQLITE_INSERT: &str = "INSERT INTO bench_kv (id, k, v) VALUES (?1, ?2, ?3)";
pub const SQLITE_SELECT: &str = "SELECT k, v FROM bench_kv WHERE id = ?1";

/// The PostgreSQL table and its preload, run inside one transaction.
pub const PG_PREPARE: &str = "DROP TABLE IF EXISTS bench_kv; \
     CREATE TABLE bench_kv (id BIGINT PRIMARY KEY, k TEXT NOT NULL, v BYTEA NOT NULL); \
     INSERT INTO bench_kv (id, k, v) \
     SELECT g, 'key-' || g, substring(decode(repeat(md5(random()::text), 7), 'hex') from 1 for 100) \
     FROM generate_series(1, 10000) g; \
     ANALYZE bench_kv";
/// PostgreSQL's statements, also dbconfig's portable ones (`$N` on both backends).
pub const PG_INSERT: &str = "INSERT INTO bench_kv (id, k, v) VALUES ($1, $2, $3)";
pub const PG_SELECT: &str = "SELECT k, v FROM bench_kv WHERE id = $1";

/// The SQLite settings of dbconfig's defaults, applied by every SQLite peer.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(60);
pub const SQLITE_CACHE_SIZE: i64 = 20_000;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Workload {
    Write,
    Read,
    /// 10 % writes, drawn per op.
    Mixed,
    /// Take a pooled connection and give it back; no statement.
    Checkout,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Write => "write",
            Workload::Read => "read",
            Workload::Mixed => "mixed",
            Workload::Checkout => "checkout",
        }
    }
}

/// The contract's arguments, plus the values of the implementation's own flags.
pub struct Args {
    pub backend: String,
    pub workload: Workload,
    pub concurrency: usize,
    pub ops: u64,
    pub url: Option<String>,
    pub pool_size: u32,
    /// `(flag, value)` for each flag of `own_flags` given, in order.
    pub own: Vec<(String, String)>,
}

impl Args {
    /// The value of one of the implementation's own flags, if given (the last one wins).
    pub fn own(&self, flag: &str) -> Option<&str> {
        self.own
            .iter()
            .rev()
            .find_map(|(f, v)| (f == flag).then_some(v.as_str()))
    }
}

/// Reads the contract's flags from the command line; `own_flags` are the implementation's own
/// (each takes a value), returned in [`Args::own`].
pub fn parse_args(own_flags: &[&str]) -> Result<Args, String> {
    let mut args = Args {
        backend: "sqlite".into(),
        workload: Workload::Read,
        concurrency: 1,
        ops: 10_000,
        url: None,
        pool_size: 10,
        own: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--backend" => args.backend = value()?,
            "--workload" => {
                args.workload = match value()?.as_str() {
                    "write" => Workload::Write,
                    "read" => Workload::Read,
                    "mixed" => Workload::Mixed,
                    "checkout" => Workload::Checkout,
                    other => return Err(format!("unknown workload {other:?}")),
                }
            }
            "--concurrency" => {
                args.concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            "--ops" => args.ops = value()?.parse().map_err(|e| format!("--ops: {e}"))?,
            "--url" => args.url = Some(value()?),
            "--pool-size" => {
                args.pool_size = value()?.parse().map_err(|e| format!("--pool-size: {e}"))?
            }
            own if own_flags.contains(&own) => {
                let v = value()?;
                args.own.push((flag, v));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.backend != "sqlite" && args.backend != "postgres" {
        return Err(format!(
            "unknown backend {:?} (sqlite or postgres)",
            args.backend
        ));
    }
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    Ok(args)
}

pub fn random_bytes(rng: &mut fastrand::Rng) -> Vec<u8> {
    (0..100).map(|_| rng.u8(..)).collect()
}

/// One op of the sequence.
pub enum Op {
    Write { id: i64, v: Vec<u8> },
    Read { id: i64 },
    Checkout,
}

/// The next op: the same RNG calls in the same order for every implementation.
pub fn next_op(workload: Workload, rng: &mut fastrand::Rng, next_id: &AtomicI64) -> Op {
    let write = match workload {
        Workload::Write => true,
        Workload::Read => false,
        Workload::Mixed => rng.u8(..100) < 10,
        Workload::Checkout => return Op::Checkout,
    };
    if write {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let v = random_bytes(rng);
        Op::Write { id, v }
    } else {
        Op::Read {
            id: rng.i64(1..=PRELOAD),
        }
    }
}

/// An error's kind for the counts: its source's text if it has one, else its own.
pub fn kind(e: &(dyn std::error::Error + 'static)) -> String {
    match e.source() {
        Some(source) => source.to_string(),
        None => e.to_string(),
    }
}

/// Latencies in nanoseconds, in log-linear buckets: exact below 128 ns, then 128 buckets per
/// power of two (under 0.8 % error). Fixed size, whatever the number of ops.
pub struct Histogram {
    counts: Vec<u64>,
}

impl Histogram {
    const SUB_BITS: u32 = 7;
    const SUB: usize = 1 << Self::SUB_BITS;
    /// Up to 2^40 ns (18 minutes); longer latencies land in the last bucket.
    const BUCKETS: usize = (40 - Self::SUB_BITS as usize + 1) * Self::SUB;

    pub fn new() -> Self {
        Histogram {
            counts: vec![0; Self::BUCKETS],
        }
    }

    fn index(ns: u64) -> usize {
        if ns < Self::SUB as u64 {
            return ns as usize;
        }
        let msb = 63 - ns.leading_zeros();
        let shift = msb - Self::SUB_BITS;
        let sub = (ns >> shift) as usize & (Self::SUB - 1);
        ((shift as usize + 1) * Self::SUB + sub).min(Self::BUCKETS - 1)
    }

    /// The middle of bucket `i`, in nanoseconds.
    fn value(i: usize) -> f64 {
        if i < Self::SUB {
            return i as f64;
        }
        let shift = (i / Self::SUB - 1) as u32;
        let low = ((Self::SUB + i % Self::SUB) as u64) << shift;
        low as f64 + f64::from(1u32 << shift.min(31)) / 2.0
    }

    pub fn record(&mut self, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.counts[Self::index(ns)] += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// The `p` quantile in microseconds (0 with no samples), nearest rank.
    pub fn quantile_us(&self, p: f64) -> f64 {
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let rank = ((total as f64 - 1.0) * p).round() as u64;
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen > rank {
                return Self::value(i) / 1e3;
            }
        }
        0.0
    }
}

/// What a run measured.
pub struct Outcome {
    pub seconds: f64,
    pub latencies: Histogram,
    pub errors: BTreeMap<String, u64>,
    /// Per lane (see [`AsyncWorker::lane`]): ops done and their total latency.
    pub lanes: [(u64, Duration); 2],
}

/// Each task's or thread's tally, merged into an [`Outcome`].
struct Tally {
    latencies: Histogram,
    errors: BTreeMap<String, u64>,
    lanes: [(u64, Duration); 2],
}

impl Tally {
    fn new() -> Self {
        Tally {
            latencies: Histogram::new(),
            errors: BTreeMap::new(),
            lanes: [(0, Duration::ZERO); 2],
        }
    }

    fn record(&mut self, result: Result<(), String>, lane: usize, took: Duration) {
        match result {
            Ok(()) => {
                self.latencies.record(took);
                let slot = &mut self.lanes[lane.min(1)];
                slot.0 += 1;
                slot.1 += took;
            }
            Err(e) => *self.errors.entry(e).or_default() += 1,
        }
    }

    fn merge(tallies: impl IntoIterator<Item = Tally>, seconds: f64) -> Outcome {
        let mut total = Tally::new();
        for t in tallies {
            total.latencies.merge(&t.latencies);
            for (k, v) in t.errors {
                *total.errors.entry(k).or_default() += v;
            }
            for (sum, part) in total.lanes.iter_mut().zip(t.lanes) {
                sum.0 += part.0;
                sum.1 += part.1;
            }
        }
        Outcome {
            seconds,
            latencies: total.latencies,
            errors: total.errors,
            lanes: total.lanes,
        }
    }
}

/// One async worker per tokio task (a pool handle, or a task's own connection).
pub trait AsyncWorker: Send + 'static {
    /// Runs one op; the error's text is its kind in the counts.
    fn run(&mut self, op: Op) -> impl Future<Output = Result<(), String>> + Send;
    /// Which of two lanes the last op ran in (loadgen's `--api alternate`: native 0, portable
    /// 1), for the per-lane means.
    fn lane(&self) -> usize {
        0
    }
}

/// C tokio tasks share N ops; task `i` draws from `Rng::with_seed(42 + i)`. The clock starts
/// before the tasks are spawned; each op's latency includes drawing it.
pub async fn run_async<W: AsyncWorker>(args: &Args, workers: Vec<W>) -> Outcome {
    let remaining = Arc::new(AtomicU64::new(args.ops));
    let next_id = Arc::new(AtomicI64::new(PRELOAD + 1));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (task, mut worker) in workers.into_iter().enumerate() {
        let remaining = Arc::clone(&remaining);
        let next_id = Arc::clone(&next_id);
        let workload = args.workload;
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(42 + task as u64);
            let mut tally = Tally::new();
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let t = Instant::now();
                let op = next_op(workload, &mut rng, &next_id);
                let result = worker.run(op).await;
                tally.record(result, worker.lane(), t.elapsed());
            }
            tally
        }));
    }
    let mut tallies = Vec::new();
    for task in tasks {
        tallies.push(task.await.expect("task"));
    }
    Tally::merge(tallies, started.elapsed().as_secs_f64())
}

/// One sync worker per OS thread.
pub trait SyncWorker: Send + 'static {
    fn run(&mut self, op: Op) -> Result<(), String>;
}

/// C OS threads share N ops. The workers (connections) exist before; the clock starts when
/// every thread has started (a barrier), so thread creation is not timed.
pub fn run_threads<W: SyncWorker>(args: &Args, workers: Vec<W>) -> Outcome {
    let remaining = Arc::new(AtomicU64::new(args.ops));
    let next_id = Arc::new(AtomicI64::new(PRELOAD + 1));
    let barrier = Arc::new(Barrier::new(workers.len() + 1));
    let mut threads = Vec::new();
    for (task, mut worker) in workers.into_iter().enumerate() {
        let remaining = Arc::clone(&remaining);
        let next_id = Arc::clone(&next_id);
        let barrier = Arc::clone(&barrier);
        let workload = args.workload;
        threads.push(std::thread::spawn(move || {
            let mut rng = fastrand::Rng::with_seed(42 + task as u64);
            let mut tally = Tally::new();
            barrier.wait();
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let t = Instant::now();
                let op = next_op(workload, &mut rng, &next_id);
                let result = worker.run(op);
                tally.record(result, 0, t.elapsed());
            }
            tally
        }));
    }
    barrier.wait();
    let started = Instant::now();
    let tallies: Vec<Tally> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    Tally::merge(tallies, started.elapsed().as_secs_f64())
}

/// The process's peak resident set size (`VmHWM`), in KiB; 0 where /proc is not available.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The one JSON line's fields.
pub fn json_line(impl_name: &str, args: &Args, outcome: &Outcome) -> serde_json::Value {
    let seconds = outcome.seconds;
    let ops_per_s = if seconds > 0.0 {
        args.ops as f64 / seconds
    } else {
        0.0
    };
    serde_json::json!({
        "impl": impl_name,
        "backend": args.backend,
        "workload": args.workload.name(),
        "concurrency": args.concurrency,
        "ops": args.ops,
        "seconds": seconds,
        "ops_per_s": ops_per_s,
        "p50_us": outcome.latencies.quantile_us(0.50),
        "p99_us": outcome.latencies.quantile_us(0.99),
        "errors": outcome.errors.values().sum::<u64>(),
        "error_kinds": outcome.errors,
        "peak_rss_kb": peak_rss_kb(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_within_one_percent() {
        let mut x = 1u64;
        while x < 1 << 40 {
            let v = Histogram::value(Histogram::index(x));
            assert!((v - x as f64).abs() <= x as f64 / 128.0 + 0.5, "{x} -> {v}");
            x = x * 9 / 8 + 1;
        }
    }

    #[test]
    fn histogram_quantiles_match_sorted_samples() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut h = Histogram::new();
        let mut samples: Vec<u64> = (0..10_000).map(|_| rng.u64(100..5_000_000)).collect();
        for &ns in &samples {
            h.record(Duration::from_nanos(ns));
        }
        samples.sort();
        for p in [0.5, 0.99] {
            let exact = samples[((samples.len() - 1) as f64 * p).round() as usize] as f64 / 1e3;
            let got = h.quantile_us(p);
            assert!(
                (got - exact).abs() <= exact / 100.0,
                "p{p}: {got} vs {exact}"
            );
        }
    }
}
