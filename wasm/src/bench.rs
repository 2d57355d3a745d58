//! The browser benchmark's baseline: bare rusqlite on wasm doing the same statements as the
//! dbconfig run in `www/bench.js` (10,000 inserts in one transaction, then reading them back).

use rusqlite::Connection;
use wasm_bindgen::prelude::*;

/// Inserts `rows` rows `(id, k, v)` (v = 100 bytes) in one transaction into an in-memory
/// database with bare rusqlite, reads them back, and returns the rows read. No dbconfig code
/// runs: the comparison point for dbconfig's own API.
#[wasm_bindgen(js_name = baselineInsertRead)]
pub fn baseline_insert_read(rows: u32) -> Result<u32, JsValue> {
    let fail = |e: rusqlite::Error| JsValue::from_str(&e.to_string());
    let conn = Connection::open_in_memory().map_err(fail)?;
    conn.execute_batch(
        "CREATE TABLE bench_kv (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL); \
         BEGIN IMMEDIATE",
    )
    .map_err(fail)?;
    {
        let mut insert = conn
            .prepare_cached("INSERT INTO bench_kv (id, k, v) VALUES (?1, ?2, ?3)")
            .map_err(fail)?;
        let v = [7u8; 100];
        for id in 1..=rows {
            insert
                .execute((id, format!("key-{id}"), &v[..]))
                .map_err(fail)?;
        }
    }
    conn.execute_batch("COMMIT").map_err(fail)?;
    let mut select = conn
        .prepare_cached("SELECT id, k, v FROM bench_kv")
        .map_err(fail)?;
    let mut read = 0;
    let mut it = select.query([]).map_err(fail)?;
    while let Some(row) = it.next().map_err(fail)? {
        let _: (i64, String, Vec<u8>) = (
            row.get(0).map_err(fail)?,
            row.get(1).map_err(fail)?,
            row.get(2).map_err(fail)?,
        );
        read += 1;
    }
    Ok(read)
}

/// Bare rusqlite behind the same JavaScript surface as [`crate::Database`] (`exec`, `execMany`,
/// `query`, same value conversions) but none of dbconfig: no URL or settings, no PRAGMAs, no
/// memdb naming. The browser benchmark runs the same JavaScript against both, so the ratio is
/// dbconfig's own cost.
#[wasm_bindgen]
pub struct BareSqlite {
    conn: Connection,
}

#[wasm_bindgen]
impl BareSqlite {
    /// `Connection::open_in_memory()`.
    pub fn open() -> Result<BareSqlite, JsValue> {
        let conn = Connection::open_in_memory().map_err(|e| JsValue::from_str(&e.to_string()))?;
        Ok(BareSqlite { conn })
    }

    /// `execute_batch`.
    pub fn exec(&self, sql: &str) -> Result<(), JsValue> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| JsValue::from_str(&e.to_string()))
    }

    /// One prepared statement run once per element of `rows`.
    #[wasm_bindgen(js_name = execMany)]
    pub fn exec_many(&self, sql: &str, rows: js_sys::Array) -> Result<f64, JsValue> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| JsValue::from_str(&e.to_string()))?;
        // The same packed path as `Database.execMany`.
        let mut binder = crate::convert::Binder::new(&stmt);
        let changed = crate::wire::run_rows(&mut stmt, &rows, &mut binder)?
            .ok_or_else(|| JsValue::from_str("rows must be arrays"))?;
        Ok(changed as f64)
    }

    /// Rows as plain objects.
    pub fn query(&self, sql: &str) -> Result<js_sys::Array, JsValue> {
        let fail = |e: rusqlite::Error| JsValue::from_str(&e.to_string());
        let mut stmt = self.conn.prepare_cached(sql).map_err(fail)?;
        let names = crate::convert::column_names(&stmt);
        let columns = stmt.column_count();
        crate::wire::read_rows(stmt.raw_query(), columns, &names)
    }
}
