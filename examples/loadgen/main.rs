//! The benchmark program of the project's benchmark contract.
//!
//! ```text
//! cargo run --release --example loadgen -- \
//!     --backend sqlite|postgres --workload write|read|mixed|checkout \
//!     --concurrency C --ops N [--url URL] [--pool-size 10] [--commit pipelined|apart] \
//!     [--api native|portable|alternate] [--replica URL]
//! ```
//!
//! `--replica URL` (PostgreSQL, native API) sets `postgres.replica_urls` and sends each read
//! through `begin_read_only()`, so reads run on the replica; loadgen first waits until the
//! replica has replayed the preloaded rows.
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
//! The plan (arguments, op sequence, drivers, histogram, JSON line) is `plan.rs`, shared by path
//! with the peers in `benches/peers/`. Latencies go to a fixed-size histogram (1/128 relative
//! resolution), so that the program's memory does not grow with `--ops`.
//!
//! Prints exactly one JSON line on stdout; progress goes to stderr. Failed ops are counted by
//! kind, never fatal.

mod plan;

use std::time::Duration;

use dbconfig::{
    DatabaseConfig, PostgresConfig, PostgresEngine, Settings, SqliteConfig, SqliteEngine,
    Transaction,
};
use plan::{
    Args, AsyncWorker, Op, PG_INSERT, PG_PREPARE, PG_SELECT, PRELOAD, SQLITE_CREATE, SQLITE_INSERT,
    SQLITE_SELECT, random_bytes,
};

/// loadgen's own flags, next to the contract's.
struct Mode {
    /// PostgreSQL: COMMIT sent with the last statement (the default), or awaited after it.
    pipelined: bool,
    /// The portable API instead of the drivers'.
    portable: bool,
    /// `--api alternate`: each task alternates native and portable ops, so both meet the same
    /// server state; their mean latencies are reported side by side.
    alternate: bool,
}

fn parse_args() -> Result<(Args, Mode), String> {
    let args = plan::parse_args(&["--commit", "--api", "--replica"])?;
    let pipelined = match args.own("--commit").unwrap_or("pipelined") {
        "pipelined" => true,
        "apart" => false,
        other => return Err(format!("--commit: {other:?} (pipelined or apart)")),
    };
    let (portable, alternate) = match args.own("--api").unwrap_or("native") {
        "native" => (false, false),
        "portable" => (true, false),
        "alternate" => (false, true),
        other => return Err(format!("--api: {other:?} (native, portable or alternate)")),
    };
    Ok((
        args,
        Mode {
            pipelined,
            portable,
            alternate,
        },
    ))
}

#[derive(Clone)]
enum Engine {
    Sqlite(SqliteEngine),
    Postgres(PostgresEngine),
}

/// Waits (at most 60 s) until the replica has replayed the preloaded rows.
async fn replica_caught_up(engine: &PostgresEngine) -> dbconfig::Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut session = engine.session();
        let tx = session.begin_read_only().await?;
        let n: i64 = tx
            .query_one("SELECT count(*) FROM bench_kv", &[])
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        tx.commit().await?;
        if n >= PRELOAD {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(dbconfig::Error::Unsupported {
                key: "--replica".into(),
                reason: format!("the replica has {n} of {PRELOAD} rows after 60 s"),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn prepare_pg(engine: &PostgresEngine) -> dbconfig::Result<()> {
    let mut session = engine.session();
    let tx = session.begin_transaction(true).await?;
    tx.batch_execute(PG_PREPARE).await?;
    tx.commit().await
}

async fn prepare(engine: &SqliteEngine) -> dbconfig::Result<()> {
    let mut session = engine.session();
    let mut tx = session.begin_transaction(true).await?;
    tx.run(|c| {
        c.execute_batch(SQLITE_CREATE)?;
        let mut rng = fastrand::Rng::with_seed(1);
        let mut insert = c.prepare(SQLITE_INSERT)?;
        for id in 1..=PRELOAD {
            insert.execute((id, format!("key-{id}"), random_bytes(&mut rng)))?;
        }
        Ok(())
    })?;
    tx.commit().await
}

/// One task's worker: the engine, and which API its next op uses.
struct Worker {
    engine: Engine,
    pipelined: bool,
    portable: bool,
    alternate: bool,
    /// Ops started by this task, offset by the task's index (alternation starts staggered).
    n: usize,
    lane: usize,
}

impl AsyncWorker for Worker {
    async fn run(&mut self, op: Op) -> Result<(), String> {
        let portable = self.portable || (self.alternate && self.n % 2 == 1);
        self.n += 1;
        self.lane = usize::from(portable);
        one_op(&self.engine, op, self.pipelined, portable)
            .await
            .map_err(|e| error_kind(&e))
    }

    fn lane(&self) -> usize {
        self.lane
    }
}

async fn one_op(engine: &Engine, op: Op, pipelined: bool, portable: bool) -> Result<(), OpError> {
    let write = matches!(op, Op::Write { .. });
    match engine {
        Engine::Sqlite(e) if matches!(op, Op::Checkout) => {
            e.session().connection().await?;
            Ok(())
        }
        Engine::Postgres(e) if matches!(op, Op::Checkout) => {
            e.session().client().await?;
            Ok(())
        }
        Engine::Sqlite(e) if portable => {
            let mut session = e.session();
            let tx = session.begin_transaction(write).await?;
            portable_op(tx, op, pipelined).await
        }
        Engine::Postgres(e) if portable => {
            let mut session = e.session();
            let tx = session.begin_transaction(write).await?;
            portable_op(tx, op, pipelined).await
        }
        Engine::Sqlite(e) => one_op_sqlite(e, op).await,
        Engine::Postgres(e) => one_op_pg(e, op, pipelined).await,
    }
}

async fn one_op_pg(engine: &PostgresEngine, op: Op, pipelined: bool) -> Result<(), OpError> {
    let mut session = engine.session();
    // Reads go to a replica when `--replica` gave one (on the primary otherwise).
    let tx = match op {
        Op::Read { .. } if !engine.settings().postgres.replica_urls.is_empty() => {
            session.begin_read_only().await?
        }
        _ => {
            session
                .begin_transaction(matches!(op, Op::Write { .. }))
                .await?
        }
    };
    match op {
        Op::Write { id, v } => {
            let statement = tx.prepare_cached(PG_INSERT).await?;
            if pipelined {
                tx.execute_prepared_and_commit(&statement, &[&id, &format!("key-{id}"), &v])
                    .await?;
                return Ok(());
            }
            tx.execute(&statement, &[&id, &format!("key-{id}"), &v])
                .await?;
        }
        Op::Read { id } => {
            let statement = tx.prepare_cached(PG_SELECT).await?;
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
        Op::Checkout => {}
    }
    Ok(tx.commit().await?)
}

/// One write or read through the portable API: the same code for both backends.
async fn portable_op(mut tx: impl Transaction, op: Op, pipelined: bool) -> Result<(), OpError> {
    match op {
        Op::Write { id, v } => {
            let k = format!("key-{id}");
            if pipelined {
                tx.execute_and_commit(PG_INSERT, &[&id, &k, &v]).await?;
                return Ok(());
            }
            tx.execute(PG_INSERT, &[&id, &k, &v]).await?;
        }
        Op::Read { id } => {
            let rows = if pipelined {
                tx.query_and_commit(PG_SELECT, &[&id]).await?
            } else {
                let rows = tx.query(PG_SELECT, &[&id]).await?;
                tx.commit().await?;
                rows
            };
            let [row] = rows.as_slice() else {
                return Err(OpError::Rows(rows.len()));
            };
            let _: (String, Vec<u8>) = (row.get(0)?, row.get(1)?);
            return Ok(());
        }
        Op::Checkout => {}
    }
    Ok(tx.commit().await?)
}

async fn one_op_sqlite(engine: &SqliteEngine, op: Op) -> Result<(), OpError> {
    let mut session = engine.session();
    let mut tx = session
        .begin_transaction(matches!(op, Op::Write { .. }))
        .await?;
    match op {
        Op::Write { id, v } => {
            tx.run(|c| {
                c.prepare_cached(SQLITE_INSERT)?
                    .execute((id, format!("key-{id}"), v))
            })?;
        }
        Op::Read { id } => {
            tx.run(|c| {
                c.prepare_cached(SQLITE_SELECT)?.query_row([id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
            })?;
        }
        Op::Checkout => {}
    }
    Ok(tx.commit().await?)
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
    match e {
        OpError::Db(e) => plan::kind(e),
        OpError::Rows(n) => format!("{n} rows instead of 1"),
    }
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
    let (args, mode) = match parse_args() {
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
    if let Some(replica) = args.own("--replica") {
        settings.postgres.replica_urls = vec![or_exit("--replica", replica.parse())];
    }
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
        if args.own("--replica").is_some() {
            or_exit("replica", replica_caught_up(&engine).await);
        }
        Engine::Postgres(engine)
    };
    eprintln!("loadgen: preloaded {PRELOAD} rows");

    let workers = (0..args.concurrency)
        .map(|task| Worker {
            engine: engine.clone(),
            pipelined: mode.pipelined,
            portable: mode.portable,
            alternate: mode.alternate,
            n: task,
            lane: 0,
        })
        .collect();
    let outcome = plan::run_async(&args, workers).await;
    let name = format!(
        "dbconfig{}{}-{}",
        if mode.portable { "-portable" } else { "" },
        if mode.pipelined || args.backend != "postgres" {
            ""
        } else {
            "-apart"
        },
        env!("CARGO_PKG_VERSION")
    );
    let mut line = plan::json_line(&name, &args, &outcome);
    line["api"] = match (mode.portable, mode.alternate) {
        (_, true) => "alternate",
        (true, _) => "portable",
        _ => "native",
    }
    .into();
    if mode.alternate {
        // Same concurrency for both, so throughput goes as 1 / mean latency.
        let mean_us = |(ops, total): (u64, Duration)| total.as_secs_f64() * 1e6 / ops.max(1) as f64;
        let (native, portable) = (mean_us(outcome.lanes[0]), mean_us(outcome.lanes[1]));
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
