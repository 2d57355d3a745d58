//! The shared portable statement cases (`wasm/tests/common/portable_cases.rs`), natively: each
//! through `dbconfig::sqlite::bind` on an in-memory rusqlite connection and through the public
//! `Executor` API on a `SqliteConfig` engine. The browser runs the same list through the wasm
//! `Database` API (`wasm/tests/portable.rs`) against the same expected rows.
#![cfg(feature = "sqlite")]

#[path = "../../wasm/tests/common/portable_cases.rs"]
mod portable_cases;

use dbconfig::prelude::*;
use dbconfig::{Error, SqliteConfig};
use portable_cases::{Case, Expect, cases};

fn kind(e: &Error) -> &'static str {
    match e {
        Error::Placeholders { .. } => "Placeholders",
        Error::Encode { .. } => "Encode",
        _ => "other",
    }
}

fn check(case: &Case, via: &str, got: dbconfig::Result<Vec<Row>>) {
    match (&case.expect, got) {
        (Expect::Rows(expected), Ok(rows)) => {
            let got: Vec<Vec<Value>> = rows.iter().map(|r| r.values().unwrap()).collect();
            assert_eq!(&got, expected, "{} ({via})", case.name);
            for row in &rows {
                let names = row.column_names();
                let mut distinct = names.clone();
                distinct.sort_unstable();
                distinct.dedup();
                assert_eq!(distinct.len(), names.len(), "{}: column names", case.name);
            }
        }
        (Expect::Error { kind: k, message }, Err(e)) => {
            assert_eq!(kind(&e), *k, "{} ({via}): {e}", case.name);
            assert!(
                e.to_string().contains(message),
                "{} ({via}): {e:?} lacks {message:?}",
                case.name
            );
        }
        (expect, got) => panic!("{} ({via}): expected {expect:?}, got {got:?}", case.name),
    }
}

#[test]
fn portable_cases_through_bind_on_a_rusqlite_connection() {
    for case in cases() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(case.setup).unwrap();
        let got = dbconfig::sqlite::bind::query(&conn, case.sql, &case.params);
        check(&case, "bind::query", got);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portable_cases_through_the_executor_api() {
    for case in cases() {
        let config = SqliteConfig::new("sqlite://").unwrap();
        let engine = config.engine().await.unwrap();
        let mut session = config.session(&engine).await.unwrap();
        session.execute_batch(case.setup).await.unwrap();
        let params: Vec<&(dyn ToValue + Sync)> = case
            .params
            .iter()
            .map(|v| v as &(dyn ToValue + Sync))
            .collect();
        let got = session.query(case.sql, &params).await;
        check(&case, "Executor::query", got);
        drop(session);
        engine.dispose();
    }
}
