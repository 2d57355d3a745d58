//! Prepared statements reused across calls: `db.prepare(sql)` → `run(params)`, `all(params)`,
//! `values(params)`, `finalize()`. The SQL crosses into wasm and is parsed once; each call
//! takes the compiled statement from the connection's cache and binds only the parameters.
//!
//! ```js
//! const insert = db.prepare("INSERT INTO kv (k, v) VALUES ($1, $2)");
//! for (const [k, v] of pairs) insert.run([k, v]);
//! const byKey = db.prepare("SELECT v FROM kv WHERE k = $1");
//! byKey.values(["a"]);            // [["…"]]
//! insert.finalize();
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::convert::Binder;
use crate::error::{Failure, js_error};
use crate::params::{self, bind_as};
use crate::{Database, Inner, Shape, query_rows, sqlite};

/// A statement of one [`Database`], prepared once. It runs in whatever transaction the
/// database has open, like the database's own calls.
#[wasm_bindgen]
pub struct Statement {
    inner: Rc<RefCell<Inner>>,
    sql: String,
    /// How its parameters bind (worked out once).
    binder: RefCell<Binder>,
    finalized: bool,
}

#[wasm_bindgen]
impl Database {
    /// Prepares `sql` (one statement) for repeated use; a syntax error is reported here.
    pub fn prepare(&self, sql: String) -> Result<Statement, JsValue> {
        let binder = {
            let inner = self.inner.borrow();
            let stmt = inner.conn()?.prepare_cached(&sql).map_err(sqlite)?;
            Binder::new(&stmt)
        };
        Ok(Statement {
            inner: Rc::clone(&self.inner),
            sql,
            binder: RefCell::new(binder),
            finalized: false,
        })
    }
}

impl Statement {
    fn with<R>(
        &self,
        f: impl FnOnce(&mut rusqlite::CachedStatement<'_>) -> Result<R, JsValue>,
    ) -> Result<R, JsValue> {
        if self.finalized {
            return Err(js_error(&Failure::InvalidArgument(
                "the statement was finalized".into(),
            )));
        }
        let inner = self.inner.borrow();
        let mut stmt = inner.conn()?.prepare_cached(&self.sql).map_err(sqlite)?;
        f(&mut stmt)
    }
}

#[wasm_bindgen]
impl Statement {
    /// Runs it with `params` (as `exec` takes them); returns the number of rows changed.
    pub fn run(&self, params: JsValue) -> Result<f64, JsValue> {
        self.with(|stmt| {
            if let Some(params) = params::given(stmt, &params) {
                bind_as(stmt, &params, &mut self.binder.borrow_mut())?;
            }
            stmt.raw_execute().map(|n| n as f64).map_err(sqlite)
        })
    }

    /// Runs it and returns every row as an object (as `query`).
    pub fn all(&self, params: JsValue) -> Result<js_sys::Array, JsValue> {
        self.with(|stmt| {
            let mut binder = self.binder.borrow_mut();
            query_rows(stmt, &params, Some(&mut binder), Shape::Objects)
        })
    }

    /// Runs it and returns every row as an array of values (as `queryArrays`).
    pub fn values(&self, params: JsValue) -> Result<js_sys::Array, JsValue> {
        self.with(|stmt| {
            let mut binder = self.binder.borrow_mut();
            query_rows(stmt, &params, Some(&mut binder), Shape::Arrays)
        })
    }

    /// The names of its result columns.
    pub fn columns(&self) -> Result<Vec<String>, JsValue> {
        self.with(|stmt| Ok(stmt.column_names().map(str::to_owned).collect()))
    }

    /// Its SQL text.
    #[wasm_bindgen(getter)]
    pub fn sql(&self) -> String {
        self.sql.clone()
    }

    /// Lets it go: later calls are an error. (The compiled statement stays in the connection's
    /// small statement cache until evicted or the database closes.)
    pub fn finalize(&mut self) {
        self.finalized = true;
    }
}
