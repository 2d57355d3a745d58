//! `peers`: dbconfig's benchmark contract (examples/loadgen/) run by other libraries.
//!
//! ```text
//! peers --impl NAME --backend sqlite|postgres --workload write|read|mixed|checkout \
//!       --concurrency C --ops N [--url URL] [--pool-size 10]
//! ```
//!
//! This binary runs `rusqlite-threads`, `tokio-postgres-raw` and `deadpool-postgres` itself and
//! execs the sibling binaries `peers-deadpool-sqlite` (deadpool-sqlite) and `peers-sqlx`
//! (sqlx-sqlite, sqlx-postgres), built from the sub-projects of the same name, for the others.
//! Prints exactly one JSON line on stdout; failed ops are counted by error text, never fatal.

mod common;
mod sqlite_rusqlite;

use std::os::unix::process::CommandExt;

use common::{
    Args, AsyncWorker, Op, PG_INSERT, PG_PREPARE, PG_SELECT, SyncWorker, Workload, emit,
    emit_unsupported, kind, pg_url, run_async, run_threads,
};

fn main() {
    let args = common::args_or_exit();
    match common::imp(&args) {
        "rusqlite-threads" => rusqlite_threads(&args),
        "tokio-postgres-raw" => common::runtime().block_on(tokio_postgres_raw(&args)),
        "deadpool-postgres" => common::runtime().block_on(deadpool_postgres(&args)),
        "deadpool-sqlite" => exec_sibling("peers-deadpool-sqlite", "deadpool-sqlite"),
        "sqlx-sqlite" | "sqlx-postgres" => exec_sibling("peers-sqlx", "sqlx"),
        other => unreachable!("parse_args accepted {other}"),
    }
}

/// Replaces this process with `target/release/<bin>` (so its peak RSS is the peer's own).
fn exec_sibling(bin: &str, project: &str) {
    let exe = std::env::current_exe().expect("current_exe");
    let path = exe.with_file_name(bin);
    let err = std::process::Command::new(&path)
        .args(std::env::args_os().skip(1))
        .exec();
    eprintln!(
        "peers: cannot run {} ({err}); build it: cd benches/peers/{project} && cargo build --release",
        path.display()
    );
    std::process::exit(2);
}

// ---------------------------------------------------------------- rusqlite-threads

struct RusqliteWorker(rusqlite::Connection);

impl SyncWorker for RusqliteWorker {
    fn run(&mut self, op: Op) -> Result<(), String> {
        sqlite_rusqlite::run_op(&mut self.0, op).map_err(|e| sqlite_rusqlite::err_kind(&e))
    }
}

fn rusqlite_threads(args: &Args) {
    let name = format!("rusqlite-threads-{}", env!("PEER_VERSION_RUSQLITE"));
    if args.workload == Workload::Checkout {
        return emit_unsupported(&name, args);
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = common::sqlite_path(args, dir.path());
    let mut first = sqlite_rusqlite::open(&path).expect("open");
    sqlite_rusqlite::preload(&mut first).expect("preload");
    eprintln!(
        "peers: {name}: SQLite {} (libsqlite3-sys {}), preloaded {} rows; {} threads, one connection each",
        sqlite_rusqlite::sqlite_version(&first),
        env!("PEER_VERSION_LIBSQLITE3_SYS"),
        common::PRELOAD,
        args.concurrency
    );
    drop(first);
    let workers = (0..args.concurrency)
        .map(|_| RusqliteWorker(sqlite_rusqlite::open(&path).expect("open")))
        .collect();
    let outcome = run_threads(args, workers);
    emit(&name, args, outcome);
}

// ---------------------------------------------------------------- PostgreSQL (tokio-postgres)

async fn pg_connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("peers: connection error: {e}");
        }
    });
    Ok(client)
}

/// loadgen's `prepare_pg`, in one transaction on a connection of its own.
async fn pg_preload(url: &str) {
    let client = pg_connect(url).await.expect("connect");
    client
        .batch_execute(&format!("BEGIN; {PG_PREPARE}; COMMIT"))
        .await
        .expect("preload");
    let version: String = client
        .query_one("SHOW server_version", &[])
        .await
        .map(|r| r.get(0))
        .unwrap_or_default();
    eprintln!(
        "peers: PostgreSQL {version}, preloaded {} rows",
        common::PRELOAD
    );
}

fn pg_kind(e: &tokio_postgres::Error) -> String {
    kind(e)
}

struct PgRawWorker {
    client: tokio_postgres::Client,
    insert: tokio_postgres::Statement,
    select: tokio_postgres::Statement,
}

impl AsyncWorker for PgRawWorker {
    async fn run(&mut self, op: Op) -> Result<(), String> {
        let tx = self.client.transaction().await.map_err(|e| pg_kind(&e))?;
        match op {
            Op::Write { id, v } => {
                tx.execute(&self.insert, &[&id, &format!("key-{id}"), &v])
                    .await
                    .map_err(|e| pg_kind(&e))?;
            }
            Op::Read { id } => {
                let row = tx
                    .query_one(&self.select, &[&id])
                    .await
                    .map_err(|e| pg_kind(&e))?;
                let _: (String, Vec<u8>) = (row.get(0), row.get(1));
            }
            Op::Checkout => unreachable!("checkout is not run for tokio-postgres-raw"),
        }
        tx.commit().await.map_err(|e| pg_kind(&e))
    }
}

async fn tokio_postgres_raw(args: &Args) {
    let name = format!("tokio-postgres-raw-{}", env!("PEER_VERSION_TOKIO_POSTGRES"));
    if args.workload == Workload::Checkout {
        return emit_unsupported(&name, args);
    }
    let url = pg_url(args);
    pg_preload(&url).await;
    // One connection per task, statements prepared once per connection, before the clock.
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let client = pg_connect(&url).await.expect("connect");
        let insert = client.prepare(PG_INSERT).await.expect("prepare");
        let select = client.prepare(PG_SELECT).await.expect("prepare");
        workers.push(PgRawWorker {
            client,
            insert,
            select,
        });
    }
    eprintln!("peers: {name}: {} connections", args.concurrency);
    let outcome = run_async(args, workers).await;
    emit(&name, args, outcome);
}

// ---------------------------------------------------------------- deadpool-postgres

#[derive(Clone)]
struct DeadpoolPgWorker(deadpool_postgres::Pool);

fn pool_kind(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_kind(e),
        other => other.to_string(),
    }
}

impl AsyncWorker for DeadpoolPgWorker {
    async fn run(&mut self, op: Op) -> Result<(), String> {
        let mut client = self.0.get().await.map_err(|e| pool_kind(&e))?;
        if let Op::Checkout = op {
            return Ok(());
        }
        let tx = client.transaction().await.map_err(|e| pg_kind(&e))?;
        match op {
            Op::Write { id, v } => {
                let statement = tx.prepare_cached(PG_INSERT).await.map_err(|e| pg_kind(&e))?;
                tx.execute(&statement, &[&id, &format!("key-{id}"), &v])
                    .await
                    .map_err(|e| pg_kind(&e))?;
            }
            Op::Read { id } => {
                let statement = tx.prepare_cached(PG_SELECT).await.map_err(|e| pg_kind(&e))?;
                let row = tx
                    .query_one(&statement, &[&id])
                    .await
                    .map_err(|e| pg_kind(&e))?;
                let _: (String, Vec<u8>) = (row.get(0), row.get(1));
            }
            Op::Checkout => unreachable!(),
        }
        tx.commit().await.map_err(|e| pg_kind(&e))
    }
}

async fn deadpool_postgres(args: &Args) {
    let name = format!("deadpool-postgres-{}", env!("PEER_VERSION_DEADPOOL_POSTGRES"));
    let url = pg_url(args);
    pg_preload(&url).await;
    let mut config = deadpool_postgres::Config::new();
    config.url = Some(url);
    config.pool = Some(deadpool_postgres::PoolConfig::new(args.pool_size as usize));
    // manager: None = the default ManagerConfig (RecyclingMethod::Fast).
    let pool = config
        .create_pool(
            Some(deadpool_postgres::Runtime::Tokio1),
            tokio_postgres::NoTls,
        )
        .expect("pool");
    eprintln!(
        "peers: {name}: pool of {} (default recycling), {} tasks",
        args.pool_size, args.concurrency
    );
    let workers = (0..args.concurrency)
        .map(|_| DeadpoolPgWorker(pool.clone()))
        .collect();
    let outcome = run_async(args, workers).await;
    emit(&name, args, outcome);
    pool.close();
}
