//! `peers-sqlx`: the sqlx peers (`peers --impl sqlx-sqlite|sqlx-postgres` execs it).
//!
//! Pool: `PoolOptions::max_connections(--pool-size)`, every other pool option at sqlx's default
//! (notably `test_before_acquire = true`: a ping on every acquire). Statements go through
//! sqlx's per-connection statement cache (`sqlx::query`, persistent by default).
//!
//! SQLite: WAL, synchronous NORMAL, foreign keys, busy_timeout 60 s and cache_size 20000 via
//! `SqliteConnectOptions`. Write = `pool.begin_with("BEGIN IMMEDIATE")`, INSERT, commit;
//! read = `pool.begin()` (sqlx's SQLite BEGIN = DEFERRED), SELECT, commit.
//! PostgreSQL: `pool.begin()` (plain BEGIN, default isolation) for both.
//! Checkout: `pool.acquire()` and drop.

#[path = "../../src/common.rs"]
mod common;

use std::str::FromStr;

use common::{
    Args, AsyncWorker, Op, PG_INSERT, PG_PREPARE, PG_SELECT, PRELOAD, SQLITE_BUSY_TIMEOUT,
    SQLITE_CACHE_SIZE, SQLITE_CREATE, SQLITE_INSERT, SQLITE_SELECT, emit, kind, random_bytes,
    run_async,
};
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

fn main() {
    let args = common::args_or_exit();
    let rt = common::runtime();
    match common::imp(&args) {
        "sqlx-sqlite" => rt.block_on(sqlite(&args)),
        "sqlx-postgres" => rt.block_on(postgres(&args)),
        _ => {
            eprintln!("peers-sqlx: runs only --impl sqlx-sqlite or sqlx-postgres");
            std::process::exit(2);
        }
    }
}

fn sqlx_kind(e: &sqlx::Error) -> String {
    match e {
        // The database's own message, e.g. "database is locked" / "duplicate key value …".
        sqlx::Error::Database(db) => db.message().to_string(),
        other => kind(other),
    }
}

// ---------------------------------------------------------------- sqlx-sqlite

#[derive(Clone)]
struct SqliteWorker(SqlitePool);

impl AsyncWorker for SqliteWorker {
    async fn run(&mut self, op: Op) -> Result<(), String> {
        match op {
            Op::Checkout => {
                self.0.acquire().await.map_err(|e| sqlx_kind(&e))?;
                Ok(())
            }
            Op::Write { id, v } => {
                let mut tx = self
                    .0
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(|e| sqlx_kind(&e))?;
                sqlx::query(SQLITE_INSERT)
                    .bind(id)
                    .bind(format!("key-{id}"))
                    .bind(v)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| sqlx_kind(&e))?;
                tx.commit().await.map_err(|e| sqlx_kind(&e))
            }
            Op::Read { id } => {
                let mut tx = self.0.begin().await.map_err(|e| sqlx_kind(&e))?;
                let row = sqlx::query(SQLITE_SELECT)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| sqlx_kind(&e))?;
                let _: (String, Vec<u8>) = (
                    row.try_get(0).map_err(|e| sqlx_kind(&e))?,
                    row.try_get(1).map_err(|e| sqlx_kind(&e))?,
                );
                tx.commit().await.map_err(|e| sqlx_kind(&e))
            }
        }
    }
}

async fn sqlite(args: &Args) {
    let name = format!("sqlx-sqlite-{}", env!("PEER_VERSION_SQLX"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = common::sqlite_path(args, dir.path());
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Normal)
        .pragma("cache_size", SQLITE_CACHE_SIZE.to_string());
    let pool = SqlitePoolOptions::new()
        .max_connections(args.pool_size)
        .connect_with(options)
        .await
        .expect("pool");
    // loadgen's `prepare`: CREATE TABLE and 10,000 rows (seed 1) in one IMMEDIATE transaction.
    {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
        sqlx::query(SQLITE_CREATE)
            .execute(&mut *tx)
            .await
            .expect("create");
        let mut rng = fastrand::Rng::with_seed(1);
        for id in 1..=PRELOAD {
            sqlx::query(SQLITE_INSERT)
                .bind(id)
                .bind(format!("key-{id}"))
                .bind(random_bytes(&mut rng))
                .execute(&mut *tx)
                .await
                .expect("preload");
        }
        tx.commit().await.expect("commit");
    }
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&pool)
        .await
        .unwrap_or_default();
    eprintln!(
        "peers: {name}: SQLite {version} (libsqlite3-sys {}), preloaded {PRELOAD} rows; pool of {}, {} tasks",
        env!("PEER_VERSION_LIBSQLITE3_SYS"),
        args.pool_size,
        args.concurrency
    );
    let workers = (0..args.concurrency)
        .map(|_| SqliteWorker(pool.clone()))
        .collect();
    let outcome = run_async(args, workers).await;
    emit(&name, args, outcome);
    pool.close().await;
}

// ---------------------------------------------------------------- sqlx-postgres

#[derive(Clone)]
struct PgWorker(PgPool);

impl AsyncWorker for PgWorker {
    async fn run(&mut self, op: Op) -> Result<(), String> {
        match op {
            Op::Checkout => {
                self.0.acquire().await.map_err(|e| sqlx_kind(&e))?;
                Ok(())
            }
            Op::Write { id, v } => {
                let mut tx = self.0.begin().await.map_err(|e| sqlx_kind(&e))?;
                sqlx::query(PG_INSERT)
                    .bind(id)
                    .bind(format!("key-{id}"))
                    .bind(v)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| sqlx_kind(&e))?;
                tx.commit().await.map_err(|e| sqlx_kind(&e))
            }
            Op::Read { id } => {
                let mut tx = self.0.begin().await.map_err(|e| sqlx_kind(&e))?;
                let row = sqlx::query(PG_SELECT)
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| sqlx_kind(&e))?;
                let _: (String, Vec<u8>) = (
                    row.try_get(0).map_err(|e| sqlx_kind(&e))?,
                    row.try_get(1).map_err(|e| sqlx_kind(&e))?,
                );
                tx.commit().await.map_err(|e| sqlx_kind(&e))
            }
        }
    }
}

async fn postgres(args: &Args) {
    let name = format!("sqlx-postgres-{}", env!("PEER_VERSION_SQLX"));
    let url = common::pg_url(args);
    let options = sqlx::postgres::PgConnectOptions::from_str(&url).expect("valid --url");
    let pool = PgPoolOptions::new()
        .max_connections(args.pool_size)
        .connect_with(options)
        .await
        .expect("pool");
    // loadgen's `prepare_pg`, in one transaction.
    {
        let mut tx = pool.begin().await.expect("begin");
        sqlx::raw_sql(PG_PREPARE)
            .execute(&mut *tx)
            .await
            .expect("preload");
        tx.commit().await.expect("commit");
    }
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&pool)
        .await
        .unwrap_or_default();
    eprintln!(
        "peers: {name}: PostgreSQL {version}, preloaded {PRELOAD} rows; pool of {}, {} tasks",
        args.pool_size, args.concurrency
    );
    let workers = (0..args.concurrency).map(|_| PgWorker(pool.clone())).collect();
    let outcome = run_async(args, workers).await;
    emit(&name, args, outcome);
    pool.close().await;
}
