//! Export and import of a whole database: `db.export()` gives a `Uint8Array` holding a valid
//! SQLite file (a consistent snapshot), `Database.import(url, bytes)` opens `url` (in memory, or
//! OPFS in a worker) with those bytes as its content.
//!
//! ```js
//! const bytes = db.export();                                   // Uint8Array, a SQLite file
//! const copy = await Database.import("sqlite://", bytes);       // in memory
//! const saved = await Database.import("sqlite:///app.db", bytes); // OPFS (worker only)
//! ```

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};
use wasm_bindgen::prelude::*;

use crate::error::{Failure, js_error};
use crate::{Database, sqlite};

/// The first 16 bytes of every SQLite database file.
const HEADER: &[u8; 16] = b"SQLite format 3\0";

fn not_a_database(reason: &str) -> JsValue {
    js_error(&Failure::InvalidArgument(format!(
        "import: the bytes are not a SQLite database ({reason})"
    )))
}

/// An in-memory connection holding `bytes`, checked with `PRAGMA quick_check`.
fn load(bytes: &[u8]) -> Result<Connection, JsValue> {
    if bytes.len() < 512 || &bytes[..16] != HEADER {
        return Err(not_a_database(
            "they do not start with the SQLite file header",
        ));
    }
    let mut conn = Connection::open_in_memory().map_err(sqlite)?;
    conn.deserialize_read_exact("main", bytes, bytes.len(), false)
        .map_err(sqlite)?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| not_a_database(&e.to_string()))?;
    if check != "ok" {
        return Err(not_a_database(&format!("quick_check: {check}")));
    }
    Ok(conn)
}

#[wasm_bindgen]
impl Database {
    /// The whole database as a `Uint8Array`: a valid SQLite file holding every committed
    /// transaction (a consistent snapshot). Not while a transaction is open.
    pub fn export(&self) -> Result<js_sys::Uint8Array, JsValue> {
        self.idle(|conn| {
            let data = conn.serialize("main").map_err(sqlite)?;
            Ok(js_sys::Uint8Array::from(&data[..]))
        })
    }

    /// Opens `url` (as [`Database::open`], with `settings`) and replaces its content with
    /// `bytes` (a SQLite file, e.g. from [`export`](Self::export)), in one write transaction.
    /// Bytes that are not a healthy SQLite database are an `InvalidArgument` error and the
    /// database is left as it was.
    pub async fn import(
        url: Option<String>,
        bytes: js_sys::Uint8Array,
        settings: JsValue,
    ) -> Result<Database, JsValue> {
        let source = load(&bytes.to_vec())?;
        let db = Database::open(url, settings).await?;
        db.restore_from(&source)?;
        Ok(db)
    }

    /// Replaces this database's content with `bytes` (a SQLite file, e.g. from
    /// [`export`](Self::export)) in one write transaction; its statements stay usable (they
    /// are prepared again). Bytes that are not a healthy SQLite database are an
    /// `InvalidArgument` error and the database is left as it was. Not while a transaction is
    /// open.
    pub fn restore(&self, bytes: js_sys::Uint8Array) -> Result<(), JsValue> {
        let source = load(&bytes.to_vec())?;
        self.restore_from(&source)
    }
}

impl Database {
    /// Runs `f` on the connection when no transaction is open (a snapshot or a replacement
    /// of the whole database must not see or cut into one).
    fn idle<R>(&self, f: impl FnOnce(&mut Connection) -> Result<R, JsValue>) -> Result<R, JsValue> {
        let mut inner = self.inner.borrow_mut();
        let conn = inner
            .conn
            .as_mut()
            .ok_or_else(|| js_error(&Failure::Closed))?;
        if !conn.is_autocommit() {
            return Err(js_error(&Failure::TransactionOpen));
        }
        f(conn)
    }

    fn restore_from(&self, source: &Connection) -> Result<(), JsValue> {
        self.idle(|target| {
            let backup = Backup::new(source, target).map_err(sqlite)?;
            // One step: nothing else runs in this thread meanwhile.
            match backup.step(-1).map_err(sqlite)? {
                StepResult::Done => Ok(()),
                _ => Err(js_error(&Failure::Storage(
                    "import: the database is locked".into(),
                ))),
            }
        })
    }
}
