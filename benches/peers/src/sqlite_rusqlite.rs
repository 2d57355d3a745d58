//! rusqlite code shared by rusqlite-threads (rusqlite 0.43) and deadpool-sqlite (its pinned
//! rusqlite 0.40): included by path, compiled against whichever `rusqlite` the project has.

#![allow(dead_code)]

use rusqlite::{Connection, TransactionBehavior};

use crate::common::{
    Op, PRELOAD, SQLITE_BUSY_TIMEOUT, SQLITE_CACHE_SIZE, SQLITE_CREATE, SQLITE_INSERT,
    SQLITE_SELECT, kind, random_bytes,
};

/// dbconfig's PRAGMAs, in dbconfig's order (src/sqlite/connect.rs `apply_pragmas`):
/// busy_timeout, journal_mode=WAL (set only when it differs), foreign_keys=ON,
/// synchronous=NORMAL, cache_size=20000.
pub fn apply_pragmas(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    let current: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !current.eq_ignore_ascii_case("wal") {
        let now: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        assert!(now.eq_ignore_ascii_case("wal"), "journal_mode is {now}, not wal");
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", 1)?; // NORMAL
    conn.pragma_update(None, "cache_size", SQLITE_CACHE_SIZE)?;
    Ok(())
}

pub fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    apply_pragmas(&conn)?;
    Ok(conn)
}

/// loadgen's `prepare`: CREATE TABLE and 10,000 rows (seed 1) in one IMMEDIATE transaction.
pub fn preload(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(SQLITE_CREATE)?;
    {
        let mut rng = fastrand::Rng::with_seed(1);
        let mut insert = tx.prepare(SQLITE_INSERT)?;
        for id in 1..=PRELOAD {
            insert.execute((id, format!("key-{id}"), random_bytes(&mut rng)))?;
        }
    }
    tx.commit()
}

pub fn sqlite_version(conn: &Connection) -> String {
    conn.query_row("SELECT sqlite_version()", [], |r| r.get(0))
        .unwrap_or_else(|_| "?".into())
}

/// One op on a connection: write = BEGIN IMMEDIATE, INSERT, COMMIT; read = BEGIN DEFERRED,
/// SELECT, COMMIT (dbconfig's `begin_transaction(with_for_update)` modes). Statements are
/// prepared through rusqlite's per-connection statement cache.
pub fn run_op(conn: &mut Connection, op: Op) -> rusqlite::Result<()> {
    match op {
        Op::Write { id, v } => {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.prepare_cached(SQLITE_INSERT)?
                .execute((id, format!("key-{id}"), v))?;
            tx.commit()
        }
        Op::Read { id } => {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            tx.prepare_cached(SQLITE_SELECT)?.query_row([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            tx.commit()
        }
        Op::Checkout => Ok(()),
    }
}

pub fn err_kind(e: &rusqlite::Error) -> String {
    kind(e)
}
