//! Running a [`Migrations`] set on one rusqlite connection, synchronously: what the browser
//! (`wasm/`, no tokio, no pool) and code that holds a plain `rusqlite::Connection` use. Same
//! record, checksums, per-step transactions (`BEGIN IMMEDIATE`, so several connections or tabs
//! on one database apply each step once) and foreign-key handling as [`Migrations::up`].
//!
//! Durations come from SQLite's clock (`julianday('now')`), which also works in the browser.

use rusqlite::{Connection, OptionalExtension};

use super::record::{CREATE_TABLE, RECORD, RECORDS, Record};
use super::{Applied, MigrationError, Migrations, StepStatus, TABLE, foreign_keys_off};
use crate::error::{Error, Result};
use crate::schema::{Metadata, ddl};
use crate::url::Dialect;

/// A `BEGIN IMMEDIATE` transaction, rolled back when dropped uncommitted.
struct Immediate<'c> {
    conn: &'c Connection,
    open: bool,
}

impl<'c> Immediate<'c> {
    fn begin(conn: &'c Connection) -> Result<Self> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(Immediate { conn, open: true })
    }

    fn commit(mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.open = false;
        Ok(())
    }
}

impl Drop for Immediate<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Foreign keys switched off for a step, switched back on when dropped (when they were on).
struct KeysOff<'c> {
    conn: &'c Connection,
    restore: bool,
}

impl<'c> KeysOff<'c> {
    fn new(conn: &'c Connection) -> Result<Self> {
        let on: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        Ok(KeysOff {
            conn,
            restore: on == 1,
        })
    }
}

impl Drop for KeysOff<'_> {
    fn drop(&mut self) {
        if self.restore {
            let _ = self.conn.execute_batch("PRAGMA foreign_keys = ON");
        }
    }
}

fn read_records(conn: &Connection) -> Result<Vec<Record>> {
    let mut stmt = conn.prepare(RECORDS)?;
    let rows = stmt.query_map([], |r| {
        Ok(Record {
            id: r.get(0)?,
            checksum: r.get(1)?,
            applied_at: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

/// Milliseconds on SQLite's clock.
fn now_ms(conn: &Connection) -> Result<f64> {
    let days: f64 = conn.query_row("SELECT julianday('now')", [], |r| r.get(0))?;
    Ok(days * 86_400_000.0)
}

impl Migrations {
    /// [`up`](Self::up) on one SQLite connection, synchronously.
    ///
    /// # Errors
    /// As [`up`](Self::up).
    pub fn up_sqlite(&self, conn: &Connection) -> Result<Vec<Applied>> {
        self.up_sqlite_with(conn, |_| {})
    }

    /// [`up_sqlite`](Self::up_sqlite), calling `on_applied` after each step is committed.
    ///
    /// # Errors
    /// As [`up`](Self::up).
    pub fn up_sqlite_with(
        &self,
        conn: &Connection,
        mut on_applied: impl FnMut(&Applied),
    ) -> Result<Vec<Applied>> {
        let sums = self.prepare(Dialect::Sqlite)?;
        {
            let tx = Immediate::begin(conn)?;
            conn.execute_batch(CREATE_TABLE)?;
            tx.commit()?;
        }
        let mut done = Vec::new();
        for (step, sum) in self.steps.iter().zip(&sums.by_step) {
            let sql = step.sql_for(Dialect::Sqlite)?;
            let keys = foreign_keys_off(sql)
                .then(|| KeysOff::new(conn))
                .transpose()?;
            let tx = Immediate::begin(conn)?;
            let records = read_records(conn)?;
            self.check(&records, &sums)?;
            if records.iter().any(|r| r.id == step.id) {
                continue;
            }
            let started = now_ms(conn)?;
            if !sql.trim().is_empty()
                && let Err(source) = conn.execute_batch(sql)
            {
                return Err(MigrationError::StepFailed {
                    id: step.id.clone(),
                    description: step.description.clone(),
                    source: Box::new(Error::from(source)),
                }
                .into());
            }
            if keys.is_some() {
                let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
                let tables: Vec<String> = stmt
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                if let Some(table) = tables.first() {
                    return Err(MigrationError::ForeignKeyCheck {
                        id: step.id.clone(),
                        violations: tables.len(),
                        table: table.clone(),
                    }
                    .into());
                }
            }
            let millis = (now_ms(conn)? - started).max(0.0);
            // Whole milliseconds; a step is not longer than i64::MAX ms.
            #[allow(clippy::cast_possible_truncation)]
            let whole = millis.round() as i64;
            conn.execute(
                RECORD,
                rusqlite::params![step.id, step.description, sum, whole],
            )?;
            tx.commit()?;
            drop(keys);
            let applied = Applied {
                id: step.id.clone(),
                description: step.description.clone(),
                duration: std::time::Duration::from_secs_f64(millis / 1e3),
            };
            on_applied(&applied);
            done.push(applied);
        }
        Ok(done)
    }

    /// [`status`](Self::status) on one SQLite connection.
    ///
    /// # Errors
    /// An invalid set, a step without SQL for SQLite, or a database error.
    pub fn status_sqlite(&self, conn: &Connection) -> Result<Vec<StepStatus>> {
        let sums = self.prepare(Dialect::Sqlite)?;
        let records = if table_exists(conn, TABLE)? {
            read_records(conn)?
        } else {
            Vec::new()
        };
        Ok(self.statuses(&records, &sums))
    }

    /// [`create_or_upgrade`](Self::create_or_upgrade) on one SQLite connection: on a database
    /// with no record and none of `metadata`'s tables, creates `metadata` and records every
    /// step as applied, in one transaction; otherwise [`up_sqlite`](Self::up_sqlite).
    ///
    /// # Errors
    /// As [`create_or_upgrade`](Self::create_or_upgrade).
    pub fn create_or_upgrade_sqlite(
        &self,
        conn: &Connection,
        metadata: &Metadata,
    ) -> Result<Vec<Applied>> {
        let sums = self.prepare(Dialect::Sqlite)?;
        let statements = ddl::create_statements(metadata, Dialect::Sqlite)?;
        {
            let tx = Immediate::begin(conn)?;
            if !table_exists(conn, TABLE)? {
                for table in &metadata.tables {
                    if table_exists(conn, &table.name)? {
                        return Err(MigrationError::Unmanaged {
                            table: table.name.clone(),
                        }
                        .into());
                    }
                }
                for sql in &statements {
                    conn.execute_batch(sql)
                        .map_err(|e| Error::from(e).in_ddl(sql))?;
                }
                conn.execute_batch(CREATE_TABLE)?;
                for (step, sum) in self.steps.iter().zip(&sums.by_step) {
                    conn.execute(
                        RECORD,
                        rusqlite::params![step.id, step.description, sum, 0i64],
                    )?;
                }
                tx.commit()?;
                return Ok(Vec::new());
            }
        }
        self.up_sqlite(conn)
    }
}
