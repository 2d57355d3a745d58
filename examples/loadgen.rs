//! The benchmark program of the project's benchmark contract.
//!
//! ```text
//! cargo run --release --example loadgen -- \
//!     --backend sqlite|postgres --workload write|read|mixed|checkout \
//!     --concurrency C --ops N [--url URL] [--pool-size 10]
//! ```
//!
//! PostgreSQL needs `--url` (or `DBCONFIG_TEST_PG_URL`); its `bench_kv` table is dropped and
//! re-created. Other settings can be given as `DBCONFIG_*` variables (e.g.
//! `DBCONFIG_POOL_PRE_PING=1` for pgxpool's ping policy).
//!
//! Prints exactly one JSON line on stdout; progress goes to stderr. Failed ops are counted by
//! kind, never fatal.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dbconfig::{
    DatabaseConfig, PostgresConfig, PostgresEngine, Settings, SqliteConfig, SqliteEngine,
};

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
    rng: &mut fastrand::Rng,
    next_id: &AtomicI64,
) -> dbconfig::Result<()> {
    let write = match workload {
        Workload::Write => true,
        Workload::Read => false,
        Workload::Mixed => rng.u8(..100) < 10,
        Workload::Checkout => {
            let mut session = engine.session();
            session.client().await?;
            return Ok(());
        }
    };
    let mut session = engine.session();
    let tx = session.begin_transaction(write).await?;
    if write {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let v = random_bytes(rng);
        let statement = tx
            .prepare_cached("INSERT INTO bench_kv (id, k, v) VALUES ($1, $2, $3)")
            .await?;
        tx.execute(&statement, &[&id, &format!("key-{id}"), &v])
            .await?;
    } else {
        let id = rng.i64(1..=PRELOAD);
        let statement = tx
            .prepare_cached("SELECT k, v FROM bench_kv WHERE id = $1")
            .await?;
        let row = tx.query_one(&statement, &[&id]).await?;
        let _: (String, Vec<u8>) = (row.get(0), row.get(1));
    }
    tx.commit().await
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
    rng: &mut fastrand::Rng,
    next_id: &AtomicI64,
) -> dbconfig::Result<()> {
    match engine {
        Engine::Sqlite(e) => one_op_sqlite(e, workload, rng, next_id).await,
        Engine::Postgres(e) => one_op_pg(e, workload, rng, next_id).await,
    }
}

async fn one_op_sqlite(
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
    let url = match (&args.url, args.backend.as_str()) {
        (Some(url), _) => url.clone(),
        (None, "sqlite") => format!("sqlite:///{}", dir.path().join("bench.db").display()),
        (None, _) => std::env::var("DBCONFIG_TEST_PG_URL").unwrap_or_else(|_| {
            eprintln!("loadgen: --backend postgres needs --url or DBCONFIG_TEST_PG_URL");
            std::process::exit(2);
        }),
    };
    let mut settings = Settings::from_env().expect("valid DBCONFIG_* variables");
    settings.connection_url = Some(url.parse().expect("valid --url"));
    settings.pool_size = args.pool_size;
    let engine = if args.backend == "sqlite" {
        let config = SqliteConfig::from_settings(settings).expect("valid settings");
        let engine = config.engine().await.expect("engine");
        prepare(&engine).await.expect("preload");
        Engine::Sqlite(engine)
    } else {
        let config = PostgresConfig::from_settings(settings).expect("valid settings");
        let engine = config.engine().await.expect("engine");
        prepare_pg(&engine).await.expect("preload");
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
        "peak_rss_kb": peak_rss_kb(),
    });
    println!("{line}");
    match engine {
        Engine::Sqlite(e) => e.dispose(),
        Engine::Postgres(e) => e.dispose(),
    }
}
