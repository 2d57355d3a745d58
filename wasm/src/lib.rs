//! dbconfig's SQLite path in the browser.
//!
//! The same core as native dbconfig — URL parsing, [`Settings`], the PRAGMA list and order,
//! `BEGIN IMMEDIATE`/`DEFERRED`, the DDL emitter and the catalog check — over one rusqlite
//! connection (the browser's SQLite is single-threaded: no pool, no writer lane).
//!
//! ```js
//! import init, { Database } from "./pkg/dbconfig_wasm.js";
//! await init();
//! const db = await Database.open("sqlite://");          // in memory (the default)
//! db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
//! const tx = db.transaction(true);                      // BEGIN IMMEDIATE
//! tx.exec("INSERT INTO t (name) VALUES ($1)", ["a"]);  // the same SQL as native dbconfig
//! tx.commit();
//! db.query("SELECT * FROM t WHERE name = $1", ["a"]);  // [{ id: 1, name: "a" }]
//! ```
//!
//! Parameters: write `$1, $2, …` (PostgreSQL's syntax, what native dbconfig's portable API
//! takes) and pass an array: `$N` gets element N-1, in any order, repeated or not, bound by
//! `dbconfig::sqlite::bind::bind_values` exactly as natively. Values are stored as native
//! stores them: booleans as 0/1, a `Date` (or `Temporal.Instant`/`ZonedDateTime`) as UTC text
//! `YYYY-MM-DD HH:MM:SS.ffffff+00:00`, a `Temporal.PlainDate` as `YYYY-MM-DD`, `Uint8Array` as
//! a BLOB; UUIDs are their lowercase 36-character strings and JSON is `JSON.stringify(value)`
//! (plain objects and arrays are refused as values, not guessed at). `NaN` and a statement
//! mixing `?` and `$N` are errors with native's message (`kind` `"Encode"` and
//! `"Placeholders"`). SQLite's own `?`/`?N` (with an array) and `:name`/`@name`/`$name` (with an
//! object) still work, with the same value mapping.
//!
//! Migrations (`migrate`, `migrationStatus`, `createOrUpgrade`, `planDb`) are native
//! dbconfig's: see the `migrate` module.
//!
//! Persistent databases (`sqlite:///app.db`, `file:app.db`) live in OPFS through the
//! `opfs-sahpool` VFS, which only exists in a dedicated worker; opening one on the main thread
//! is an error that says so.

pub mod bench;
mod convert;
mod error;
mod migrate;
mod params;
mod snapshot;
mod statement;
pub(crate) mod wire;

use std::cell::RefCell;
use std::rc::Rc;

use dbconfig::schema::{Metadata, ddl, reflect};
use dbconfig::settings::JournalMode;
use dbconfig::sqlite::begin::BeginMode;
use dbconfig::sqlite::bind::no_placeholders;
use dbconfig::sqlite::connect::{open_connection, pragmas_in_effect};
use dbconfig::sqlite::target::{OpenTarget, apply_driver_params};
use dbconfig::url::SqliteUrl;
use dbconfig::{ConnectionUrl, Dialect, Settings};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::{Connection, TransactionState};
use wasm_bindgen::prelude::*;

pub(crate) use crate::convert::sqlite;
use crate::convert::{Binder, column_names};
use crate::error::{Failure, js_error};
use crate::params::{bind, bind_as};

/// The VFS name persistent databases are opened with.
const OPFS_VFS: &str = "opfs-sahpool";

pub(crate) struct Inner {
    conn: Option<Connection>,
    settings: Settings,
    inmemory: bool,
    persistent: bool,
}

impl Inner {
    fn conn(&self) -> Result<&Connection, JsValue> {
        self.conn.as_ref().ok_or_else(|| js_error(&Failure::Closed))
    }
}

/// A SQLite database in the browser.
#[wasm_bindgen]
pub struct Database {
    inner: Rc<RefCell<Inner>>,
}

/// An open transaction: `commit()` or `rollback()` it. Only one is open at a time.
#[wasm_bindgen]
pub struct Transaction {
    inner: Rc<RefCell<Inner>>,
    mode: BeginMode,
    done: bool,
}

/// Persistent: a file (not in memory) on the default VFS, which in the browser is OPFS.
fn is_persistent(target: &OpenTarget, url: &SqliteUrl) -> bool {
    !target.inmemory && url.vfs().is_none()
}

fn in_dedicated_worker() -> bool {
    js_sys::global()
        .dyn_into::<web_sys::DedicatedWorkerGlobalScope>()
        .is_ok()
}

fn parse_settings(url: Option<String>, settings: JsValue) -> Result<Settings, JsValue> {
    let mut parsed: Settings = if settings.is_undefined() || settings.is_null() {
        Settings::default()
    } else {
        let text = json_text(&settings, "settings")?;
        serde_json::from_str(&text)
            .map_err(|e| js_error(&Failure::InvalidArgument(format!("settings: {e}"))))?
    };
    let url = url.unwrap_or_else(|| "sqlite://".to_owned());
    let url: ConnectionUrl = url
        .parse()
        .map_err(|e| js_error(&Failure::Dbconfig(dbconfig::Error::Url(e))))?;
    if url.dialect() != Dialect::Sqlite {
        return Err(js_error(&Failure::Dbconfig(
            dbconfig::Error::WrongDialect {
                expected: Dialect::Sqlite,
                found: url.dialect(),
            },
        )));
    }
    if let ConnectionUrl::Sqlite(sqlite_url) = &url {
        apply_driver_params(sqlite_url, &mut parsed);
    }
    parsed.connection_url = Some(url);
    parsed
        .validate()
        .map_err(|e| js_error(&Failure::Dbconfig(e.into())))?;
    Ok(parsed)
}

fn run(inner: &Inner, sql: &str, params: &JsValue) -> Result<f64, JsValue> {
    let conn = inner.conn()?;
    if params::absent(params) {
        batch(conn, sql)?;
        return Ok(conn.changes() as f64);
    }
    let mut stmt = conn.prepare_cached(sql).map_err(sqlite)?;
    bind(&mut stmt, params)?;
    stmt.raw_execute().map(|n| n as f64).map_err(sqlite)
}

/// `;`-separated statements without values, each stepped once, as native's `execute_batch`: a
/// statement with placeholders is refused before it runs (SQLite would bind NULL).
fn batch(conn: &Connection, sql: &str) -> Result<(), JsValue> {
    let mut statements = rusqlite::Batch::new(conn, sql);
    while let Some(mut stmt) = statements.next().map_err(sqlite)? {
        no_placeholders(&stmt).map_err(convert::dbconfig_error)?;
        stmt.raw_query().next().map_err(sqlite)?;
    }
    Ok(())
}

fn run_many(inner: &Inner, sql: &str, rows: &js_sys::Array) -> Result<f64, JsValue> {
    let conn = inner.conn()?;
    let mut stmt = conn.prepare_cached(sql).map_err(sqlite)?;
    // Placeholders are looked at once, not once per row.
    let mut binder = Binder::new(&stmt);
    if let Some(changed) = wire::run_rows(&mut stmt, rows, &mut binder)? {
        return Ok(changed as f64);
    }
    let mut changed = 0;
    for params in rows.iter() {
        bind_as(&mut stmt, &params, &mut binder)?;
        changed += stmt.raw_execute().map_err(sqlite)?;
    }
    Ok(changed as f64)
}

/// How query rows come back.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    /// `{ column: value }`.
    Objects,
    /// `[value, …]` in column order.
    Arrays,
}

fn select(
    inner: &Inner,
    sql: &str,
    params: &JsValue,
    shape: Shape,
) -> Result<js_sys::Array, JsValue> {
    let conn = inner.conn()?;
    let mut stmt = conn.prepare_cached(sql).map_err(sqlite)?;
    query_rows(&mut stmt, params, None, shape)
}

/// Binds `params` (unless absent) and reads every row in `shape`.
pub(crate) fn query_rows(
    stmt: &mut rusqlite::Statement<'_>,
    params: &JsValue,
    binder: Option<&mut Binder>,
    shape: Shape,
) -> Result<js_sys::Array, JsValue> {
    let params = params::given(stmt, params);
    if let Some(params) = &params {
        match binder {
            Some(binder) => bind_as(stmt, params, binder)?,
            None => bind(stmt, params)?,
        }
    }
    let names: JsValue = match shape {
        Shape::Objects => column_names(stmt).into(),
        Shape::Arrays => JsValue::UNDEFINED,
    };
    let columns = stmt.column_count();
    wire::read_rows(stmt.raw_query(), columns, &names)
}

fn schema(value: JsValue) -> Result<Metadata, JsValue> {
    let text = match value.as_string() {
        Some(text) => text,
        None => json_text(&value, "schema")?,
    };
    Metadata::from_json(&text)
        .map_err(|e| js_error(&Failure::InvalidArgument(format!("schema: {e}"))))
}

/// A JavaScript object as JSON text (`JSON.stringify`), for serde_json: one deserializer for
/// text and objects alike (serde-wasm-bindgen's would add ~12 KiB gzipped to the module).
fn json_text(value: &JsValue, what: &str) -> Result<String, JsValue> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| {
            js_error(&Failure::InvalidArgument(format!(
                "{what}: not JSON-serializable (a BigInt, a cycle or a function?)"
            )))
        })
}

/// A serializable Rust value as a plain JavaScript object (`JSON.parse` of its JSON).
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value)
        .map_err(|e| js_error(&Failure::InvalidArgument(e.to_string())))?;
    js_sys::JSON::parse(&text)
}

#[wasm_bindgen]
impl Database {
    /// Opens `url` (default `sqlite://`, a private in-memory database) with `settings` (an
    /// object with dbconfig's `Settings` fields; missing ones take their defaults).
    ///
    /// Differences from native, by necessity: a persistent database is opened through OPFS
    /// (`opfs-sahpool`, dedicated workers only) and keeps journal mode `delete` where native
    /// uses `wal` (the VFS has no shared memory for a WAL index).
    pub async fn open(url: Option<String>, settings: JsValue) -> Result<Database, JsValue> {
        let mut settings = parse_settings(url, settings)?;
        let Some(ConnectionUrl::Sqlite(sqlite_url)) = settings.connection_url.clone() else {
            return Err(js_error(&Failure::Closed));
        };
        let mut target = OpenTarget::for_url(&sqlite_url);
        if target.inmemory && sqlite_url.shared_memory_name().is_none() {
            // Private: no other connection can reach it, so it needs no memdb name, and a
            // plain in-memory database skips memdb copying every written page into its store.
            ":memory:".clone_into(&mut target.uri);
        }
        let persistent = is_persistent(&target, &sqlite_url);
        if persistent {
            if !in_dedicated_worker() {
                return Err(js_error(&Failure::NeedsWorker));
            }
            sqlite_wasm_vfs::sahpool::install::<sqlite_wasm_rs::WasmOsCallback>(
                &sqlite_wasm_vfs::sahpool::OpfsSAHPoolCfg::default(),
                false,
            )
            .await
            .map_err(|e| js_error(&Failure::Storage(e.to_string())))?;
            let sep = if target.uri.contains('?') { '&' } else { '?' };
            target.uri = format!("{}{sep}vfs={OPFS_VFS}", target.uri);
            if settings.sqlite.pragmas.journal_mode == JournalMode::Wal {
                settings.sqlite.pragmas.journal_mode = JournalMode::Delete;
            }
        }
        let conn = open_connection(&target, &settings, None)
            .map_err(|e| js_error(&Failure::Dbconfig(e)))?;
        Ok(Database {
            inner: Rc::new(RefCell::new(Inner {
                conn: Some(conn),
                inmemory: target.inmemory,
                persistent,
                settings,
            })),
        })
    }

    /// The name under which `url` (with `settings`, as for [`open`](Self::open)) is stored in
    /// OPFS, or `undefined` for a database that is not persistent (in memory, another VFS).
    /// Two urls with one storage name open the same file. Errors as `open` for a bad url.
    #[wasm_bindgen(js_name = storageName)]
    pub fn storage_name(url: Option<String>, settings: JsValue) -> Result<Option<String>, JsValue> {
        let settings = parse_settings(url, settings)?;
        let Some(ConnectionUrl::Sqlite(sqlite_url)) = &settings.connection_url else {
            return Err(js_error(&Failure::Closed));
        };
        let target = OpenTarget::for_url(sqlite_url);
        Ok(is_persistent(&target, sqlite_url).then_some(target.identity))
    }

    /// Runs `sql`. Without `params` it may hold several `;`-separated statements; with `params`
    /// it is one statement: an array for `$1, $2, …` (bound by their digits, as native) or for
    /// `?`/`?N`, an object for `:name`/`@name`/`$name`. Returns the number of rows changed.
    pub fn exec(&self, sql: &str, params: JsValue) -> Result<f64, JsValue> {
        run(&self.inner.borrow(), sql, &params)
    }

    /// Runs one statement once per element of `rows` (each an array or object of parameters),
    /// prepared once. Returns the number of rows changed.
    #[wasm_bindgen(js_name = execMany)]
    pub fn exec_many(&self, sql: &str, rows: js_sys::Array) -> Result<f64, JsValue> {
        run_many(&self.inner.borrow(), sql, &rows)
    }

    /// Runs one query (`params` as for [`exec`](Self::exec)) and returns its rows as plain
    /// objects (`{ column: value }`): integers as numbers (BigInt beyond ±(2^53 − 1)), reals as
    /// numbers, text as strings, blobs (and text that is not UTF-8) as `Uint8Array`, NULL as
    /// `null`; what native dbconfig stores, so booleans read as 0/1 and timestamps as text.
    pub fn query(&self, sql: &str, params: JsValue) -> Result<js_sys::Array, JsValue> {
        select(&self.inner.borrow(), sql, &params, Shape::Objects)
    }

    /// As [`query`](Self::query), each row an array of its values in column order: no keys to
    /// build, the cheapest way to read many rows.
    #[wasm_bindgen(js_name = queryArrays)]
    pub fn query_arrays(&self, sql: &str, params: JsValue) -> Result<js_sys::Array, JsValue> {
        select(&self.inner.borrow(), sql, &params, Shape::Arrays)
    }

    /// Begins a transaction: `BEGIN IMMEDIATE` when `withForUpdate`, else `BEGIN DEFERRED`,
    /// exactly as native dbconfig.
    pub fn transaction(&self, with_for_update: bool) -> Result<Transaction, JsValue> {
        let mode = BeginMode::for_update(with_for_update);
        {
            let inner = self.inner.borrow();
            let conn = inner.conn()?;
            if !conn.is_autocommit() {
                return Err(js_error(&Failure::TransactionOpen));
            }
            conn.execute_batch(mode.sql()).map_err(sqlite)?;
        }
        Ok(Transaction {
            inner: Rc::clone(&self.inner),
            mode,
            done: false,
        })
    }

    /// Creates what `schema` (a dbconfig schema object or JSON text) describes and the database
    /// lacks, in one `BEGIN IMMEDIATE` transaction.
    #[wasm_bindgen(js_name = createDb)]
    pub fn create_db(&self, schema_value: JsValue) -> Result<(), JsValue> {
        let metadata = schema(schema_value)?;
        let statements = ddl::create_statements(&metadata, Dialect::Sqlite)
            .map_err(|e| js_error(&Failure::Dbconfig(e.into())))?;
        let inner = self.inner.borrow();
        let conn = inner.conn()?;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(sqlite)?;
        let result = statements
            .iter()
            .try_for_each(|sql| conn.execute_batch(sql));
        finish(conn, result)
    }

    /// Drops the tables of `schema`, in one transaction (foreign keys off while dropping, as
    /// native `drop_db`).
    #[wasm_bindgen(js_name = dropDb)]
    pub fn drop_db(&self, schema_value: JsValue) -> Result<(), JsValue> {
        let metadata = schema(schema_value)?;
        let statements = ddl::drop_statements(&metadata, Dialect::Sqlite)
            .map_err(|e| js_error(&Failure::Dbconfig(e.into())))?;
        let inner = self.inner.borrow();
        let conn = inner.conn()?;
        let restore = if inner.settings.sqlite.pragmas.foreign_keys {
            "PRAGMA foreign_keys = ON"
        } else {
            "PRAGMA foreign_keys = OFF"
        };
        conn.execute_batch("PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE")
            .map_err(sqlite)?;
        let result = statements
            .iter()
            .try_for_each(|sql| conn.execute_batch(sql));
        let done = finish(conn, result);
        conn.execute_batch(restore).map_err(sqlite)?;
        done
    }

    /// Differences between the database and `schema`, as sentences (empty = it matches).
    #[wasm_bindgen(js_name = verifyDb)]
    pub fn verify_db(&self, schema_value: JsValue) -> Result<Vec<String>, JsValue> {
        let metadata = schema(schema_value)?;
        let inner = self.inner.borrow();
        let differences = reflect::sqlite::verify(inner.conn()?, &metadata)
            .map_err(|e| js_error(&Failure::Dbconfig(e)))?;
        Ok(differences.iter().map(ToString::to_string).collect())
    }

    /// True for an in-memory database.
    #[wasm_bindgen(js_name = isInMemory)]
    pub fn is_inmemory(&self) -> bool {
        self.inner.borrow().inmemory
    }

    /// True for a database stored in OPFS.
    #[wasm_bindgen(js_name = isPersistent)]
    pub fn is_persistent(&self) -> bool {
        self.inner.borrow().persistent
    }

    /// The PRAGMAs in effect, as SQLite reports them: `{ journal_mode: "memory", … }`.
    pub fn pragmas(&self) -> Result<js_sys::Object, JsValue> {
        let inner = self.inner.borrow();
        let list = pragmas_in_effect(inner.conn()?, &inner.settings)
            .map_err(|e| js_error(&Failure::Dbconfig(e)))?;
        let out = js_sys::Object::new();
        for (name, value) in list {
            js_sys::Reflect::set(&out, &name.into(), &value.into())?;
        }
        Ok(out)
    }

    /// The settings in use, URL redacted.
    pub fn settings(&self) -> Result<JsValue, JsValue> {
        let inner = self.inner.borrow();
        let mut shown = inner.settings.clone();
        shown.connection_url = None;
        let value = to_js(&shown)?;
        if let Some(url) = &inner.settings.connection_url {
            js_sys::Reflect::set(&value, &"connection_url".into(), &url.redacted().into())?;
        }
        Ok(value)
    }

    /// The SQLite version, e.g. `3.50.4`.
    #[wasm_bindgen(js_name = sqliteVersion)]
    pub fn sqlite_version() -> String {
        rusqlite::version().to_owned()
    }

    /// Closes the database; later calls fail. An open transaction is rolled back.
    pub fn close(&self) -> Result<(), JsValue> {
        let conn = self.inner.borrow_mut().conn.take();
        if let Some(conn) = conn {
            conn.close().map_err(|(_, e)| sqlite(e))?;
        }
        Ok(())
    }
}

/// Commits when `result` is Ok, else rolls back and returns the error.
fn finish(conn: &Connection, result: rusqlite::Result<()>) -> Result<(), JsValue> {
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(sqlite),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(sqlite(e))
        }
    }
}

#[wasm_bindgen]
impl Transaction {
    /// As [`Database::exec`], inside the transaction.
    pub fn exec(&self, sql: &str, params: JsValue) -> Result<f64, JsValue> {
        self.check()?;
        run(&self.inner.borrow(), sql, &params)
    }

    /// As [`Database::exec_many`], inside the transaction.
    #[wasm_bindgen(js_name = execMany)]
    pub fn exec_many(&self, sql: &str, rows: js_sys::Array) -> Result<f64, JsValue> {
        self.check()?;
        run_many(&self.inner.borrow(), sql, &rows)
    }

    /// As [`Database::query`], inside the transaction.
    pub fn query(&self, sql: &str, params: JsValue) -> Result<js_sys::Array, JsValue> {
        self.check()?;
        select(&self.inner.borrow(), sql, &params, Shape::Objects)
    }

    /// As [`Database::query_arrays`], inside the transaction.
    #[wasm_bindgen(js_name = queryArrays)]
    pub fn query_arrays(&self, sql: &str, params: JsValue) -> Result<js_sys::Array, JsValue> {
        self.check()?;
        select(&self.inner.borrow(), sql, &params, Shape::Arrays)
    }

    /// The statement that began it: `"BEGIN IMMEDIATE"` or `"BEGIN DEFERRED"`.
    #[wasm_bindgen(js_name = beganWith)]
    pub fn began_with(&self) -> String {
        self.mode.sql().to_owned()
    }

    /// SQLite's transaction state of the main database: `"none"` (a DEFERRED transaction
    /// before its first read), `"read"` or `"write"` (IMMEDIATE from the start).
    pub fn state(&self) -> Result<String, JsValue> {
        let inner = self.inner.borrow();
        let state = inner
            .conn()?
            .transaction_state(Some(rusqlite::MAIN_DB))
            .map_err(sqlite)?;
        Ok(match state {
            TransactionState::None => "none",
            TransactionState::Read => "read",
            TransactionState::Write => "write",
            _ => "unknown",
        }
        .into())
    }

    /// Commits.
    pub fn commit(&mut self) -> Result<(), JsValue> {
        self.end("COMMIT")
    }

    /// Rolls back.
    pub fn rollback(&mut self) -> Result<(), JsValue> {
        self.end("ROLLBACK")
    }

    fn check(&self) -> Result<(), JsValue> {
        if self.done {
            return Err(js_error(&Failure::Dbconfig(
                dbconfig::Error::TransactionDone,
            )));
        }
        Ok(())
    }

    fn end(&mut self, sql: &str) -> Result<(), JsValue> {
        self.check()?;
        self.inner
            .borrow()
            .conn()?
            .execute_batch(sql)
            .map_err(sqlite)?;
        self.done = true;
        Ok(())
    }
}
