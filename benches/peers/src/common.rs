//! What every peer shares: loadgen's plan (`examples/loadgen/plan.rs`, included by path: the
//! arguments, the op sequence with the same RNG seeds and draw order, the task/thread drivers,
//! the histogram and the one JSON line), plus the peers' own `--impl` flag and helpers.
//!
//! Included by path from the three peer projects, so it depends only on std, tokio, fastrand,
//! serde_json.

#![allow(dead_code)]

#[path = "../../../examples/loadgen/plan.rs"]
mod plan;

use std::collections::BTreeMap;

#[allow(unused_imports)] // Each peer project uses a different part.
pub use plan::{
    Args, AsyncWorker, Histogram, Op, Outcome, PG_INSERT, PG_PREPARE, PG_SELECT, PRELOAD,
    SQLITE_BUSY_TIMEOUT, SQLITE_CACHE_SIZE, SQLITE_CREATE, SQLITE_INSERT, SQLITE_SELECT,
    SyncWorker, Workload, kind, random_bytes, run_async, run_threads,
};

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

/// The `--impl` value (checked by [`parse_args`]).
pub fn imp(args: &Args) -> &str {
    args.own("--impl").unwrap_or_default()
}

/// loadgen's arguments plus `--impl`, checked against the backend.
pub fn parse_args() -> Result<Args, String> {
    let args = plan::parse_args(&["--impl"])?;
    if args.pool_size == 0 {
        return Err("--pool-size must be at least 1".into());
    }
    match impl_backend(imp(&args)) {
        None => Err(format!(
            "--impl {:?}: one of {} is required",
            imp(&args),
            ALL_IMPLS.join(", ")
        )),
        Some(b) if b != args.backend => Err(format!(
            "--impl {} is a {b} peer, not {}",
            imp(&args),
            args.backend
        )),
        Some(_) => Ok(args),
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

/// Prints the one JSON line (loadgen's fields).
pub fn emit(impl_name: &str, args: &Args, outcome: Outcome) {
    println!("{}", plan::json_line(impl_name, args, &outcome));
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
            latencies: Histogram::new(),
            errors,
            lanes: [(0, std::time::Duration::ZERO); 2],
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
