//! The benchmark contract shared by every peer (mirrors dbconfig's `examples/loadgen.rs` and
//! `shared/bench-contract.md`): arguments, the op sequence (same RNG seeds and draw order), the
//! task/thread driver, percentiles and the one JSON line on stdout.
//!
//! Included by path from the three peer projects, so it depends only on std, tokio, fastrand,
//! serde_json.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

pub const PRELOAD: i64 = 10_000;

pub const SQLITE_CREATE: &str =
    "CREATE TABLE bench_kv (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL)";
pub const SQLITE_INSERT: &str = "INSERT INTO bench_kv (id, k, v) VALUES (?1, ?2, ?3)";
pub const SQLITE_SELECT: &str = "SELECT k, v FROM bench_kv WHERE id = ?1";

/// The same preload as loadgen's `prepare_pg` (run inside one transaction).
pub const PG_PREPARE: &str = "DROP TABLE IF EXISTS bench_kv; \
     CREATE TABLE bench_kv (id BIGINT PRIMARY KEY, k TEXT NOT NULL, v BYTEA NOT NULL); \
     INSERT INTO bench_kv (id, k, v) \
     SELECT g, 'key-' || g, substring(decode(repeat(md5(random()::text), 7), 'hex') from 1 for 100) \
     FROM generate_series(1, 10000) g; \
     ANALYZE bench_kv";
pub const PG_INSERT: &str = "INSERT INTO bench_kv (id, k, v) VALUES ($1, $2, $3)";
pub const PG_SELECT: &str = "SELECT k, v FROM bench_kv WHERE id = $1";

/// The SQLite settings of dbconfig's defaults, applied by every SQLite peer.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(60);
pub const SQLITE_CACHE_SIZE: i64 = 20_000;

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Workload {
    Write,
    Read,
    Mixed,
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

pub struct Args {
    pub imp: String,
    pub backend: String,
    pub workload: Workload,
    pub concurrency: usize,
    pub ops: u64,
    pub url: Option<String>,
    pub pool_size: u32,
}

pub fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        imp: String::new(),
        backend: "sqlite".into(),
        workload: Workload::Read,
        concurrency: 1,
        ops: 10_000,
        url: None,
        pool_size: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--impl" => args.imp = value()?,
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
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.imp.is_empty() {
        return Err(format!("--impl is required (one of {})", ALL_IMPLS.join(", ")));
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
    if args.pool_size == 0 {
        return Err("--pool-size must be at least 1".into());
    }
    match impl_backend(&args.imp) {
        None => return Err(format!("unknown --impl {:?} (one of {})", args.imp, ALL_IMPLS.join(", "))),
        Some(b) if b != args.backend => {
            return Err(format!("--impl {} is a {b} peer, not {}", args.imp, args.backend));
        }
        Some(_) => {}
    }
    Ok(args)
}

pub const ALL_IMPLS: [&str; 6] = [
    "rusqlite-threads",
    "deadpool-sqlite",
    "sqlx-sqlite",
    "tokio-postgres-raw",
    "deadpool-postgres",
    "sqlx-postgres",
];

pub fn impl_backend(imp: &str) -> Option<&'static str> {
    match imp {
        "rusqlite-threads" | "deadpool-sqlite" | "sqlx-sqlite" => Some("sqlite"),
        "tokio-postgres-raw" | "deadpool-postgres" | "sqlx-postgres" => Some("postgres"),
        _ => None,
    }
}

pub fn args_or_exit() -> Args {
    match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("peers: {e}");
            std::process::exit(2);
        }
    }
}

/// `--url`, else `DBCONFIG_TEST_PG_URL`, else exit 2 (as loadgen).
pub fn pg_url(args: &Args) -> String {
    match &args.url {
        Some(url) => url.clone(),
        None => std::env::var("DBCONFIG_TEST_PG_URL").unwrap_or_else(|_| {
            eprintln!("peers: --backend postgres needs --url or DBCONFIG_TEST_PG_URL");
            std::process::exit(2);
        }),
    }
}

/// `--url` for SQLite is a path (a `sqlite:///path` URL is accepted too); default: a new
/// temporary file `bench.db` in `dir`.
pub fn sqlite_path(args: &Args, dir: &std::path::Path) -> std::path::PathBuf {
    match &args.url {
        Some(url) => {
            let p = url.strip_prefix("sqlite://").unwrap_or(url);
            std::path::PathBuf::from(p)
        }
        None => dir.join("bench.db"),
    }
}

pub fn random_bytes(rng: &mut fastrand::Rng) -> Vec<u8> {
    (0..100).map(|_| rng.u8(..)).collect()
}

/// One op, drawn exactly as loadgen draws it (same RNG calls in the same order).
pub enum Op {
    Write { id: i64, v: Vec<u8> },
    Read { id: i64 },
    Checkout,
}

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

/// loadgen's `error_kind`: the source's text if there is one, else the error's.
pub fn kind(e: &(dyn std::error::Error + 'static)) -> String {
    match e.source() {
        Some(source) => source.to_string(),
        None => e.to_string(),
    }
}

pub struct Outcome {
    pub seconds: f64,
    pub latencies: Vec<Duration>,
    pub errors: BTreeMap<String, u64>,
}

/// One async worker per tokio task (a pool handle, or a task's own connection).
pub trait AsyncWorker: Send + 'static {
    fn run(&mut self, op: Op) -> impl Future<Output = Result<(), String>> + Send;
}

/// C tokio tasks share N ops, as loadgen: the clock starts before the tasks are spawned.
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
            let mut latencies = Vec::new();
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let t = Instant::now();
                let op = next_op(workload, &mut rng, &next_id);
                match worker.run(op).await {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => *errors.entry(e).or_default() += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for task in tasks {
        let (l, e) = task.await.expect("task");
        latencies.extend(l);
        for (k, v) in e {
            *errors.entry(k).or_default() += v;
        }
    }
    Outcome {
        seconds: started.elapsed().as_secs_f64(),
        latencies,
        errors,
    }
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
            let mut latencies = Vec::new();
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            barrier.wait();
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let t = Instant::now();
                let op = next_op(workload, &mut rng, &next_id);
                match worker.run(op) {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => *errors.entry(e).or_default() += 1,
                }
            }
            (latencies, errors)
        }));
    }
    barrier.wait();
    let started = Instant::now();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for thread in threads {
        let (l, e) = thread.join().expect("thread");
        latencies.extend(l);
        for (k, v) in e {
            *errors.entry(k).or_default() += v;
        }
    }
    Outcome {
        seconds: started.elapsed().as_secs_f64(),
        latencies,
        errors,
    }
}

/// VmHWM (peak resident set) of this process, in kB.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Prints the one JSON line (loadgen's fields, plus `peak_rss_kb`).
pub fn emit(impl_name: &str, args: &Args, mut outcome: Outcome) {
    let seconds = outcome.seconds;
    let latencies = &mut outcome.latencies;
    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[i].as_secs_f64() * 1e6
    };
    let failed: u64 = outcome.errors.values().sum();
    let ops_per_s = if seconds > 0.0 {
        args.ops as f64 / seconds
    } else {
        0.0
    };
    let line = serde_json::json!({
        "impl": impl_name,
        "backend": args.backend,
        "workload": args.workload.name(),
        "concurrency": args.concurrency,
        "ops": args.ops,
        "seconds": seconds,
        "ops_per_s": ops_per_s,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "errors": failed,
        "error_kinds": outcome.errors,
        "peak_rss_kb": peak_rss_kb(),
    });
    println!("{line}");
}

/// For a peer with no pool (checkout): nothing is run; every op counts as an `unsupported`
/// error, `seconds` and `ops_per_s` are 0.
pub fn emit_unsupported(impl_name: &str, args: &Args) {
    eprintln!("peers: {impl_name}: no pool, checkout is unsupported; reporting every op as an error");
    let mut errors = BTreeMap::new();
    errors.insert("unsupported".to_string(), args.ops);
    emit(
        impl_name,
        args,
        Outcome {
            seconds: 0.0,
            latencies: Vec::new(),
            errors,
        },
    );
}

pub fn runtime() -> tokio::runtime::Runtime {
    // What #[tokio::main] builds (loadgen's runtime): multi-thread, one worker per core.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
