//! `peers-deadpool-sqlite`: the deadpool-sqlite peer (`peers --impl deadpool-sqlite` execs it).
//!
//! Pool of `--pool-size` connections; dbconfig's PRAGMAs applied by a `post_create` hook. An op
//! is one `interact` on a pooled connection: write = `transaction_with_behavior(Immediate)`
//! (BEGIN IMMEDIATE), read = DEFERRED; checkout = `pool.get()` and drop (deadpool-sqlite's
//! default recycle runs a `SELECT $1` through `interact` on every checkout).

#[path = "../../src/common.rs"]
mod common;
#[path = "../../src/sqlite_rusqlite.rs"]
mod sqlite_rusqlite;

use common::{Args, AsyncWorker, Op, emit, run_async};
use deadpool_sqlite::{Config, Hook, HookError, PoolConfig, Runtime};

fn main() {
    let args = common::args_or_exit();
    if common::imp(&args) != "deadpool-sqlite" {
        eprintln!("peers-deadpool-sqlite: runs only --impl deadpool-sqlite");
        std::process::exit(2);
    }
    common::runtime().block_on(run(&args));
}

#[derive(Clone)]
struct Worker(deadpool_sqlite::Pool);

impl AsyncWorker for Worker {
    async fn run(&mut self, op: Op) -> Result<(), String> {
        let conn = self.0.get().await.map_err(|e| match &e {
            deadpool_sqlite::PoolError::Backend(b) => sqlite_rusqlite::err_kind(b),
            other => other.to_string(),
        })?;
        if let Op::Checkout = op {
            return Ok(());
        }
        conn.interact(move |c| sqlite_rusqlite::run_op(c, op))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| sqlite_rusqlite::err_kind(&e))
    }
}

async fn run(args: &Args) {
    let name = format!("deadpool-sqlite-{}", env!("PEER_VERSION_DEADPOOL_SQLITE"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = common::sqlite_path(args, dir.path());
    let mut config = Config::new(&path);
    config.pool = Some(PoolConfig::new(args.pool_size as usize));
    let pool = config
        .builder(Runtime::Tokio1)
        .expect("config")
        .post_create(Hook::async_fn(|conn, _| {
            Box::pin(async move {
                conn.interact(|c| sqlite_rusqlite::apply_pragmas(c))
                    .await
                    .map_err(|e| HookError::message(e.to_string()))?
                    .map_err(HookError::Backend)
            })
        }))
        .build()
        .expect("pool");
    {
        let conn = pool.get().await.expect("connection");
        let version = conn
            .interact(|c| {
                sqlite_rusqlite::preload(c)?;
                Ok::<_, deadpool_sqlite::rusqlite::Error>(sqlite_rusqlite::sqlite_version(c))
            })
            .await
            .expect("interact")
            .expect("preload");
        eprintln!(
            "peers: {name}: SQLite {version} (rusqlite {}, libsqlite3-sys {}), preloaded {} rows; pool of {}, {} tasks",
            env!("PEER_VERSION_RUSQLITE"),
            env!("PEER_VERSION_LIBSQLITE3_SYS"),
            common::PRELOAD,
            args.pool_size,
            args.concurrency
        );
    }
    let workers = (0..args.concurrency).map(|_| Worker(pool.clone())).collect();
    let outcome = run_async(args, workers).await;
    emit(&name, args, outcome);
    pool.close();
}
