//! The benchmark program of the project's benchmark contract (SQLite backend for now).
//!
//! ```text
//! cargo run --release --example loadgen -- \
//!     --backend sqlite --workload write|read|mixed|checkout \
//!     --concurrency C --ops N [--url URL] [--pool-size 10]
//! ```
//!
//! Prints exactly one JSON line on stdout; progress goes to stderr. Failed ops are counted by
//! kind, never fatal.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dbconfig::{DatabaseConfig, Settings, SqliteConfig, SqliteEngine};

const PRELOAD: i64 = 10_000;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Workload {
    Write,
    Read,
    Mixed,
    Checkout,
}

struct Args {
    backend: String,
    workload: Workload,
    concurrency: usize,
    ops: u64,
    url: Option<String>,
    pool_size: u32,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
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
    if args.backend != "sqlite" {
        return Err(format!(
            "backend {:?} is not available yet (sqlite only)",
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
    engine: &SqliteEngine,
    workload: Workload,
    rng: &mut fastrand::Rng,
    next_id: &AtomicI64,
) -> dbconfig::Result<()> {
    let write = match workload {
        Workload::Write => true,
        Workload::Read => false,
        Workload::Mixed => rng.u8(..100) < 10,
        Workload::Checkout => {
            let mut session = engine.session();
            session.connection().await?;
            return Ok(());
        }
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
    tx.commit().await
}

fn error_kind(e: &dbconfig::Error) -> String {
    let mut text = e.to_string();
    if let Some(source) = std::error::Error::source(e) {
        text = source.to_string();
    }
    text
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
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = args
        .url
        .clone()
        .unwrap_or_else(|| format!("sqlite:///{}", dir.path().join("bench.db").display()));
    let settings = Settings {
        connection_url: Some(url.parse().expect("valid --url")),
        pool_size: args.pool_size,
        ..Settings::default()
    };
    let config = SqliteConfig::from_settings(settings).expect("valid settings");
    let engine = config.engine().await.expect("engine");
    prepare(&engine).await.expect("preload");
    eprintln!("loadgen: preloaded {PRELOAD} rows into {}", config.url());

    let remaining = Arc::new(AtomicU64::new(args.ops));
    let next_id = Arc::new(AtomicI64::new(PRELOAD + 1));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..args.concurrency {
        let engine = engine.clone();
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
                match one_op(&engine, workload, &mut rng, &next_id).await {
                    Ok(()) => latencies.push(t.elapsed()),
                    Err(e) => *errors.entry(error_kind(&e)).or_default() += 1,
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
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[i].as_secs_f64() * 1e6
    };
    let failed: u64 = errors.values().sum();
    let line = serde_json::json!({
        "impl": format!("dbconfig-{}", env!("CARGO_PKG_VERSION")),
        "backend": args.backend,
        "workload": format!("{:?}", args.workload).to_lowercase(),
        "concurrency": args.concurrency,
        "ops": args.ops,
        "seconds": seconds,
        "ops_per_s": args.ops as f64 / seconds,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "errors": failed,
        "error_kinds": errors,
    });
    println!("{line}");
    engine.dispose();
}
