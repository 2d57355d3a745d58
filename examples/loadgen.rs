//! The benchmark program of the project's benchmark contract.
//!
//! ```text
//! cargo run --release --example loadgen -- \
//!     --backend sqlite|postgres --workload write|read|mixed|checkout \
//!     --concurrency C --ops N [--url URL] [--pool-size 10] [--commit pipelined|apart] \
//!     [--api native|portable|alternate]
//! ```
//!
//! `--api portable` runs the same ops through the portable API (`Executor` / `Transaction`,
//! `$N` placeholders, `Row::get`), one generic function for both backends, and reports itself
//! as `dbconfig-portable`; `native` (the default) uses `tx.run` closures on SQLite and
//! prepared statements on the tokio-postgres client. `alternate` runs native and portable ops
//! in turn in every task, so both meet the same server state (WAL flushes, autovacuum, the other
//! core's load), and adds `native_mean_us`, `portable_mean_us` and
//! `portable_vs_native_throughput` (native / portable mean latency: at equal concurrency,
//! throughput goes as its inverse) to the JSON line.
//!
//! PostgreSQL needs `--url` (or `DBCONFIG_TEST_PG_URL`); its `bench_kv` table is dropped and
//! re-created. Other settings can be given as `DBCONFIG_*` variables (e.g.
//! `DBCONFIG_POOL_PRE_PING=0` to verify every checkout, as the original does).
//!
//! On PostgreSQL a write or read op sends its statement and COMMIT together
//! (`execute_prepared_and_commit` / `query_prepared_and_commit`), so that BEGIN, the statement and COMMIT cost one
//! round trip. `--commit apart` awaits the statement, then `commit()` (two round trips: BEGIN is
//! still sent with the statement) and reports itself as `dbconfig-apart`.
//!
//! Latencies go to a fixed-size histogram (1/128 relative resolution), so that the program's
//! memory does not grow with `--ops`.
//!
//! Prints exactly one JSON line on stdout; progress goes to stderr. Failed ops are counted by
//! kind, never fatal.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dbconfig::{
    DatabaseConfig, PostgresConfig, PostgresEngine, Settings, SqliteConfig, SqliteEngine,
    Transaction,
};

const PRELOAD: i64 = 10_000;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Workload {
    Write,
    Read,
    Mixed,
    Checkout,
}

impl Workload {
    /// Whether the next op writes (`mixed`: 10 % of ops, drawn from `rng`); `None` for a
    /// checkout, which runs no statement.
    fn writes(self, rng: &mut fastrand::Rng) -> Option<bool> {
        match self {
            Workload::Write => Some(true),
            Workload::Read => Some(false),
            Workload::Mixed => Some(rng.u8(..100) < 10),
            Workload::Checkout => None,
        }
    }
}

struct Args {
    backend: String,
    workload: Workload,
    concurrency: usize,
    ops: u64,
    url: Option<String>,
    pool_size: u32,
    /// PostgreSQL: COMMIT sent with the last statement (the default), or awaited after it.
    commit_pipelined: bool,
    /// The portable API instead of the drivers'.
    portable: bool,
    /// `--api alternate`: each task alternates native and portable ops, so both meet the same
    /// server state; their mean latencies are reported side by side.
    alternate: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        backend: "sqlite".into(),
        workload: Workload::Read,
        concurrency: 1,
        ops: 10_000,
        url: None,
        pool_size: 10,
        commit_pipelined: true,
        portable: false,
        alternate: false,
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
            "--commit" => {
                args.commit_pipelined = match value()?.as_str() {
                    "pipelined" => true,
                    "apart" => false,
                    other => return Err(format!("--commit: {other:?} (pipelined or apart)")),
                }
            }
            "--api" => {
                (args.portable, args.alternate) = match value()?.as_str() {
                    "native" => (false, false),
                    "portable" => (true, false),
                    "alternate" => (false, true),
                    other => {
                        return Err(format!("--api: {other:?} (native, portable or alternate)"));
                    }
                }
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

fn random_bytes(rng: &mut fastrand::Rng) -> Vec<u8> {
    (0..100).map(|_| rng.u8(..)).collect()
}

#[derive(Clone)]
enum Engine {
    Sqlite(SqliteEngine),
    Postgres(PostgresEngine),
}

async fn prepare_pg(engine: &PostgresEngine) -> dbconfig::Result<()> {
    let mut session = engine.session();
    let tx = session.begin_transaction(true).await?;
    tx.batch_execute(
        "DROP TABLE IF EXISTS bench_kv; \
         CREATE TABLE bench_kv (id BIGINT PRIMARY KEY, k TEXT NOT NULL, v BYTEA NOT NULL); \
         INSERT INTO bench_kv (id, k, v) \
         SELECT g, 'key-' || g, substring(decode(repeat(md5(random()::text), 7), 'hex') from 1 for 100) \
         FROM generate_series(1, 10000) g; \
         ANALYZE bench_kv",
    )
    .await?;
    tx.commit().await
}

async fn one_op_pg(
    engine: &PostgresEngine,
    workload: Workload,
    pipelined: bool,
    rng: &mut fastrand::Rng,
    next_id: &AtomicI64,
) -> Result<(), OpError> {
    let Some(write) = workload.writes(rng) else {
        engine.session().client().await?;
        return Ok(());
    };
    let mut session = engine.session();
    let tx = session.begin_transaction(write).await?;
    if write {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let v = random_bytes(rng);
        let statement = tx
            .prepare_cached("INSERT INTO bench_kv (id, k, v) VALUES ($1, $2, $3)")
            .await?;
        if pipelined {
            tx.execute_prepared_and_commit(&statement, &[&id, &format!("key-{id}"), &v])
                .await?;
            return Ok(());
        }
        tx.execute(&statement, &[&id, &format!("key-{id}"), &v])
            .await?;
    } else {
        let id = rng.i64(1..=PRELOAD);
        let statement = tx
            .prepare_cached("SELECT k, v FROM bench_kv WHERE id = $1")
            .await?;
        if pipelined {
            let rows = tx.query_prepared_and_commit(&statement, &[&id]).await?;
            let [row] = rows.as_slice() else {
                return Err(OpError::Rows(rows.len()));
            };
            let _: (String, Vec<u8>) = (row.get(0), row.get(1));
            return Ok(());
        }
        let row = tx.query_one(&statement, &[&id]).await?;
        let _: (String, Vec<u8>) = (row.get(0), row.get(1));
    }
    Ok(tx.commit().await?)
}

async fn prepare(engine: &SqliteEngine) -> dbconfig::Result<()> {
    let mut session = engine.session();
    let mut tx = session.begin_transaction(true).await?;
    tx.run(|c| {
        c.execute_batch(
            "CREATE TABLE bench_kv (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL)",
        )?;
        let mut rng = fastrand::Rng::with_seed(1);
        let mut insert = c.prepare("INSERT INTO bench_kv (id, k, v) VALUES (?1, ?2, ?3)")?;
        for id in 1..=PRELOAD {
            insert.execute((id, format!("key-{id}"), random_bytes(&mut rng)))?;
        }
        Ok(())
    })?;
    tx.commit().await
}

async fn one_op(
    engine: &Engine,
    workload: Workload,
    pipelined: bool,
    portable: bool,
    rng: &mut fastrand::Rng,
    next_id: &AtomicI64,
) -> Result<(), OpError> {
    if portable && let Some(write) = workload.writes(rng) {
        return match engine {
            Engine::Sqlite(e) => {
                let mut session = e.session();
                let tx = session.begin_transaction(write).await?;
                portable_op(tx, write, pipelined, rng, next_id).await
            }
            Engine::Postgres(e) => {
                let mut session = e.session();
                let tx = session.begin_transaction(write).await?;
                portable_op(tx, write, pipelined, rng, next_id).await
            }
        };
    }
    match engine {
        Engine::Sqlite(e) => one_op_sqlite(e, workload, rng, next_id).await,
        Engine::Postgres(e) => one_op_pg(e, workload, pipelined, rng, next_id).await,
    }
}

/// One write or read through the portable API: the same code for both backends.
async fn portable_op(
    mut tx: impl Transaction,
    write: bool,
    pipelined: bool,
    rng: &mut fastrand::Rng,
    next_id: &AtomicI64,
) -> Result<(), OpError> {
    if write {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let v = random_bytes(rng);
        let (sql, k) = (
            "INSERT INTO bench_kv (id, k, v) VALUES ($1, $2, $3)",
            format!("key-{id}"),
        );
        if pipelined {
            tx.execute_and_commit(sql, &[&id, &k, &v]).await?;
            return Ok(());
        }
        tx.execute(sql, &[&id, &k, &v]).await?;
    } else {
        let id = rng.i64(1..=PRELOAD);
        let sql = "SELECT k, v FROM bench_kv WHERE id = $1";
        let rows = if pipelined {
            tx.query_and_commit(sql, &[&id]).await?
        } else {
            let rows = tx.query(sql, &[&id]).await?;
            tx.commit().await?;
            rows
        };
        let [row] = rows.as_slice() else {
            return Err(OpError::Rows(rows.len()));
        };
        let _: (String, Vec<u8>) = (row.get(0)?, row.get(1)?);
        return Ok(());
    }
    Ok(tx.commit().await?)
}

/// Latencies in nanoseconds, in log-linear buckets: exact below 128 ns, then 128 buckets per
/// power of two (under 0.8 % error). Fixed size, whatever the number of ops.
struct Histogram {
    counts: Vec<u64>,
}

impl Histogram {
    const SUB_BITS: u32 = 7;
    const SUB: usize = 1 << Self::SUB_BITS;
    /// Up to 2^40 ns (18 minutes); longer latencies land in the last bucket.
    const BUCKETS: usize = (40 - Self::SUB_BITS as usize + 1) * Self::SUB;

    fn new() -> Self {
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

    fn record(&mut self, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.counts[Self::index(ns)] += 1;
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// The `p` quantile in microseconds (0 with no samples), nearest rank.
    fn quantile_us(&self, p: f64) -> f64 {
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

async fn one_op_sqlite(
    engine: &SqliteEngine,
    workload: Workload,
    rng: &mut fastrand::Rng,
    next_id: &AtomicI64,
) -> Result<(), OpError> {
    let Some(write) = workload.writes(rng) else {
        engine.session().connection().await?;
        return Ok(());
    };
    let mut session = engine.session();
    let mut tx = session.begin_transaction(write).await?;
    if write {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let v = random_bytes(rng);
        tx.run(|c| {
            c.prepare_cached("INSERT INTO bench_kv (id, k, v) VALUES (?1, ?2, ?3)")?
                .execute((id, format!("key-{id}"), v))
        })?;
    } else {
        let id = rng.i64(1..=PRELOAD);
        tx.run(|c| {
            c.prepare_cached("SELECT k, v FROM bench_kv WHERE id = ?1")?
                .query_row([id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
        })?;
    }
    Ok(tx.commit().await?)
}

/// The process's peak resident set size (`VmHWM`), in KiB; 0 where /proc is not available.
fn peak_rss_kb() -> u64 {
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

/// Why an op failed.
enum OpError {
    Db(dbconfig::Error),
    /// The read returned this many rows instead of one.
    Rows(usize),
}

impl<E: Into<dbconfig::Error>> From<E> for OpError {
    fn from(e: E) -> Self {
        OpError::Db(e.into())
    }
}

fn error_kind(e: &OpError) -> String {
    let e = match e {
        OpError::Db(e) => e,
        OpError::Rows(n) => return format!("{n} rows instead of 1"),
    };
    let mut text = e.to_string();
    if let Some(source) = std::error::Error::source(e) {
        text = source.to_string();
    }
    text
}

/// The value, or a message naming `what` failed (with the error's causes) and exit status 1.
fn or_exit<T, E: std::error::Error>(what: &str, result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| {
        let mut message = format!("loadgen: {what}: {e}");
        let mut source = e.source();
        while let Some(cause) = source {
            message += &format!(": {cause}");
            source = cause.source();
        }
        eprintln!("{message}");
        std::process::exit(1)
    })
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let dir = or_exit("temporary directory", tempfile::tempdir());
    let url = match (&args.url, args.backend.as_str()) {
        (Some(url), _) => url.clone(),
        (None, "sqlite") => format!("sqlite:///{}", dir.path().join("bench.db").display()),
        (None, _) => std::env::var("DBCONFIG_TEST_PG_URL").unwrap_or_else(|_| {
            eprintln!("loadgen: --backend postgres needs --url or DBCONFIG_TEST_PG_URL");
            std::process::exit(2);
        }),
    };
    let mut settings = or_exit("DBCONFIG_* variables", Settings::from_env());
    settings.connection_url = Some(or_exit("--url", url.parse()));
    settings.pool_size = args.pool_size;
    let engine = if args.backend == "sqlite" {
        let config = or_exit("settings", SqliteConfig::from_settings(settings));
        let engine = or_exit("engine", config.engine().await);
        or_exit("preload", prepare(&engine).await);
        Engine::Sqlite(engine)
    } else {
        let config = or_exit("settings", PostgresConfig::from_settings(settings));
        let engine = or_exit("engine", config.engine().await);
        or_exit("preload", prepare_pg(&engine).await);
        Engine::Postgres(engine)
    };
    eprintln!("loadgen: preloaded {PRELOAD} rows");

    let remaining = Arc::new(AtomicU64::new(args.ops));
    let next_id = Arc::new(AtomicI64::new(PRELOAD + 1));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..args.concurrency {
        let engine = engine.clone();
        let remaining = Arc::clone(&remaining);
        let next_id = Arc::clone(&next_id);
        let workload = args.workload;
        let pipelined = args.commit_pipelined;
        let (portable, alternate) = (args.portable, args.alternate);
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(42 + task as u64);
            let mut latencies = Histogram::new();
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            // [native, portable]: ops done and their total latency, for `--api alternate`.
            let mut by_api = [(0u64, Duration::ZERO); 2];
            let mut n = task;
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let portable = portable || (alternate && n % 2 == 1);
                n += 1;
                let t = Instant::now();
                match one_op(&engine, workload, pipelined, portable, &mut rng, &next_id).await {
                    Ok(()) => {
                        let took = t.elapsed();
                        latencies.record(took);
                        let slot = &mut by_api[usize::from(portable)];
                        slot.0 += 1;
                        slot.1 += took;
                    }
                    Err(e) => *errors.entry(error_kind(&e)).or_default() += 1,
                }
            }
            (latencies, errors, by_api)
        }));
    }
    let mut latencies = Histogram::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_api = [(0u64, Duration::ZERO); 2];
    for task in tasks {
        let (l, e, b) = task.await.expect("task");
        latencies.merge(&l);
        for (k, v) in e {
            *errors.entry(k).or_default() += v;
        }
        for (total, part) in by_api.iter_mut().zip(b) {
            total.0 += part.0;
            total.1 += part.1;
        }
    }
    let mean_us = |(ops, total): (u64, Duration)| total.as_secs_f64() * 1e6 / ops.max(1) as f64;
    let seconds = started.elapsed().as_secs_f64();
    let failed: u64 = errors.values().sum();
    let line = serde_json::json!({
        "impl": format!(
            "dbconfig{}{}-{}",
            if args.portable { "-portable" } else { "" },
            if args.commit_pipelined || args.backend != "postgres" { "" } else { "-apart" },
            env!("CARGO_PKG_VERSION")
        ),
        "api": match (args.portable, args.alternate) {
            (_, true) => "alternate",
            (true, _) => "portable",
            _ => "native",
        },
        "backend": args.backend,
        "workload": format!("{:?}", args.workload).to_lowercase(),
        "concurrency": args.concurrency,
        "ops": args.ops,
        "seconds": seconds,
        "ops_per_s": args.ops as f64 / seconds,
        "p50_us": latencies.quantile_us(0.50),
        "p99_us": latencies.quantile_us(0.99),
        "errors": failed,
        "error_kinds": errors,
        "peak_rss_kb": peak_rss_kb(),
    });
    let mut line = line;
    if args.alternate {
        // Same concurrency for both, so throughput goes as 1 / mean latency.
        let (native, portable) = (mean_us(by_api[0]), mean_us(by_api[1]));
        line["native_mean_us"] = native.into();
        line["portable_mean_us"] = portable.into();
        line["portable_vs_native_throughput"] = (native / portable).into();
    }
    println!("{line}");
    match engine {
        Engine::Sqlite(e) => e.dispose(),
        Engine::Postgres(e) => e.dispose(),
    }
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
