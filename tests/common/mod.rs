//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::Path;

use dbconfig::SqliteEngine;

/// `sqlite:////abs/path` for a file in `dir`.
pub fn file_url(dir: &Path, name: &str) -> String {
    format!("sqlite:///{}", dir.join(name).display())
}

/// Creates `t (id INTEGER PRIMARY KEY, v TEXT)` through `engine`.
pub async fn create_table(engine: &SqliteEngine) {
    let mut session = engine.session();
    let mut tx = session.begin_transaction(true).await.unwrap();
    tx.run(|c| {
        c.execute_batch("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    })
    .unwrap();
    tx.commit().await.unwrap();
}

/// Number of rows in `t`.
pub async fn count_rows(engine: &SqliteEngine) -> i64 {
    engine
        .session()
        .run(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
        .await
        .unwrap()
}
