//! Running a [`Migrations`] set on any [`DatabaseConfig`], through the portable API: one body
//! for SQLite and PostgreSQL.

use std::future::Future;
use std::time::Instant;

use super::record::{CREATE_TABLE, Checksums, RECORD, RECORDS, Record};
use super::{Applied, MigrationError, Migrations, StepStatus, TABLE};
use crate::config::{DatabaseConfig, LockMode};
use crate::error::Result;
use crate::query::{Executor, Transaction};
use crate::schema::{Metadata, ddl};
use crate::url::Dialect;

/// The PostgreSQL advisory lock every migration transaction takes: "dbconfig" in ASCII.
const PG_LOCK: i64 = 0x6462_636f_6e66_6967;

// The public operations return `impl Future + Send` around an `async move` block rather than
// being `async fn`: the future of a generic `async fn` that holds a `C::Transaction<'_>` cannot be
// passed to `tokio::spawn` once `C` is a concrete config ("lifetime bound not satisfied",
// rust-lang/rust#100013); declaring `Send` here proves it once, generically.
#[allow(
    clippy::manual_async_fn,
    reason = "`async fn` here would not be spawnable, see above"
)]
impl Migrations {
    /// Applies the steps not yet applied, in id order, each in its own transaction with its
    /// record, and returns them. Safe to run from several processes at once (see the
    /// [module docs](super)).
    ///
    /// # Errors
    /// [`Error::Migration`](crate::Error::Migration): an invalid set, a step without SQL for this
    /// dialect, a changed checksum, a step the database has and this set lacks, a pending step
    /// older than an applied one (all found before anything runs), or a step that failed (its
    /// transaction rolled back, the steps before it kept). Otherwise a database error or a
    /// timeout.
    pub fn up<C: DatabaseConfig>(
        &self,
        config: &C,
    ) -> impl Future<Output = Result<Vec<Applied>>> + Send {
        self.up_with(config, |_| {})
    }

    /// [`up`](Self::up), calling `on_applied` after each step is committed (a progress line
    /// for long upgrades).
    ///
    /// # Errors
    /// As [`up`](Self::up).
    pub fn up_with<C: DatabaseConfig>(
        &self,
        config: &C,
        mut on_applied: impl FnMut(&Applied) + Send,
    ) -> impl Future<Output = Result<Vec<Applied>>> + Send {
        async move {
            let dialect = config.dialect();
            let sums = self.prepare(dialect)?;
            let engine = config.engine().await?;
            ensure_table(config, &engine).await?;
            let mut done = Vec::new();
            for (step, sum) in self.steps.iter().zip(&sums.by_step) {
                let sql = step.sql_for(dialect)?;
                let mut session = config.session(&engine).await?;
                // SQLite's table rebuild needs foreign keys off, which only works outside a
                // transaction. They are switched back on after the commit; on an error before
                // that, the built-in engine closes the connection when the session ends (a
                // PRAGMA set on a session never reaches the pool).
                let keys_off = dialect == Dialect::Sqlite && super::foreign_keys_off(sql);
                let restore_keys = if keys_off {
                    let rows = session.query("PRAGMA foreign_keys", &[]).await?;
                    let on = rows.first().and_then(|r| r.get::<i64>(0).ok()) == Some(1);
                    session.execute_batch("PRAGMA foreign_keys = OFF").await?;
                    on
                } else {
                    false
                };
                let mut tx = locked(config, &mut session).await?;
                let records = read_records(&mut tx).await?;
                self.check(&records, &sums)?;
                if records.iter().any(|r| r.id == step.id) {
                    tx.rollback().await?;
                    continue;
                }
                let started = Instant::now();
                if !sql.trim().is_empty()
                    && let Err(source) = tx.execute_batch(sql).await
                {
                    // Rolled back on drop as well; an explicit ROLLBACK frees the lock sooner.
                    let _ = tx.rollback().await;
                    return Err(MigrationError::StepFailed {
                        id: step.id.clone(),
                        description: step.description.clone(),
                        source: Box::new(source),
                    }
                    .into());
                }
                if keys_off {
                    let violations = tx.query("PRAGMA foreign_key_check", &[]).await?;
                    if let Some(first) = violations.first() {
                        let table = first.get::<String>(0).unwrap_or_default();
                        let _ = tx.rollback().await;
                        return Err(MigrationError::ForeignKeyCheck {
                            id: step.id.clone(),
                            violations: violations.len(),
                            table,
                        }
                        .into());
                    }
                }
                let duration = started.elapsed();
                let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
                tx.execute(RECORD, &[&step.id, &step.description, sum, &millis])
                    .await?;
                tx.commit().await?;
                if restore_keys {
                    session.execute_batch("PRAGMA foreign_keys = ON").await?;
                }
                let applied = Applied {
                    id: step.id.clone(),
                    description: step.description.clone(),
                    duration,
                };
                on_applied(&applied);
                done.push(applied);
            }
            Ok(done)
        }
    }

    /// Where each step stands: the set's steps in id order, then any step the database records
    /// and the set lacks. A database never migrated shows every step pending.
    ///
    /// # Errors
    /// An invalid set, a step without SQL for this dialect, or a database error.
    pub fn status<C: DatabaseConfig>(
        &self,
        config: &C,
    ) -> impl Future<Output = Result<Vec<StepStatus>>> + Send {
        async move {
            let dialect = config.dialect();
            let sums = self.prepare(dialect)?;
            let engine = config.engine().await?;
            let mut session = config.session(&engine).await?;
            let mut tx = config
                .begin_transaction(&mut session, LockMode::Deferred)
                .await?;
            let records = if table_exists(&mut tx, TABLE, None).await? {
                read_records(&mut tx).await?
            } else {
                Vec::new()
            };
            tx.rollback().await?;
            Ok(self.statuses(&records, &sums))
        }
    }

    /// Records every step as applied without running it, for a database whose schema is
    /// already at the last step (Alembic's `stamp head`). Returns how many were recorded.
    ///
    /// # Errors
    /// As [`stamp_to`](Self::stamp_to).
    pub fn stamp<C: DatabaseConfig>(
        &self,
        config: &C,
    ) -> impl Future<Output = Result<usize>> + Send {
        async move {
            match self.steps.last() {
                Some(last) => self.stamp_to(config, &last.id).await,
                None => Ok(0),
            }
        }
    }

    /// Records the steps up to and including `id` as applied without running them, for a
    /// database whose schema is already at that step. Steps already recorded are left alone.
    ///
    /// # Errors
    /// `id` is not a step of the set ([`MigrationError::Unknown`]), an invalid set, or a
    /// database error.
    pub fn stamp_to<C: DatabaseConfig>(
        &self,
        config: &C,
        id: &str,
    ) -> impl Future<Output = Result<usize>> + Send {
        async move {
            let sums = self.prepare(config.dialect())?;
            if !sums.position.contains_key(id) {
                return Err(MigrationError::Unknown { id: id.to_owned() }.into());
            }
            let engine = config.engine().await?;
            ensure_table(config, &engine).await?;
            let mut session = config.session(&engine).await?;
            let mut tx = locked(config, &mut session).await?;
            let n = self.record_up_to(&mut tx, id, &sums).await?;
            tx.commit().await?;
            Ok(n)
        }
    }

    /// Records the current checksum of step `id`, after an edit that changes nothing that was
    /// applied (see [`MigrationError::ChecksumMismatch`]).
    ///
    /// # Errors
    /// `id` is not recorded or not in the set, or a database error.
    pub fn accept_checksum<C: DatabaseConfig>(
        &self,
        config: &C,
        id: &str,
    ) -> impl Future<Output = Result<()>> + Send {
        async move {
            let dialect = config.dialect();
            let Some(step) = self.steps.iter().find(|s| s.id == id) else {
                return Err(MigrationError::Unknown { id: id.to_owned() }.into());
            };
            let sum = step.checksum(dialect)?;
            let engine = config.engine().await?;
            ensure_table(config, &engine).await?;
            let mut session = config.session(&engine).await?;
            let mut tx = locked(config, &mut session).await?;
            let changed = tx
                .execute(
                    "UPDATE dbconfig_migrations SET checksum = $1 WHERE id = $2",
                    &[&sum, &id],
                )
                .await?;
            if changed == 0 {
                return Err(MigrationError::Unknown { id: id.to_owned() }.into());
            }
            tx.commit().await
        }
    }

    /// Brings a database to the last step: on a database with no migration record and none of
    /// `metadata`'s tables, creates `metadata` (as [`DatabaseConfig::create_db`] does) and
    /// records every step as applied, in one transaction, since `metadata` is the schema at
    /// the last step; otherwise runs [`up`](Self::up). Safe to run from several processes at
    /// once.
    ///
    /// # Errors
    /// [`MigrationError::Unmanaged`] when some of `metadata`'s tables exist but there is no
    /// record (stamp the database at the step it is at first), invalid metadata, or as
    /// [`up`](Self::up).
    pub fn create_or_upgrade<C: DatabaseConfig>(
        &self,
        config: &C,
        metadata: &Metadata,
    ) -> impl Future<Output = Result<Vec<Applied>>> + Send {
        async move {
            let dialect = config.dialect();
            let sums = self.prepare(dialect)?;
            let statements = ddl::create_statements(metadata, dialect)?;
            let engine = config.engine().await?;
            {
                let mut session = config.session(&engine).await?;
                let mut tx = locked(config, &mut session).await?;
                if !table_exists(&mut tx, TABLE, None).await? {
                    for table in &metadata.tables {
                        if table_exists(&mut tx, &table.name, table.schema.as_deref()).await? {
                            tx.rollback().await?;
                            return Err(MigrationError::Unmanaged {
                                table: table.name.clone(),
                            }
                            .into());
                        }
                    }
                    for sql in &statements {
                        tx.execute_batch(sql).await?;
                    }
                    tx.execute_batch(CREATE_TABLE).await?;
                    if let Some(last) = self.steps.last() {
                        self.record_up_to(&mut tx, &last.id, &sums).await?;
                    }
                    tx.commit().await?;
                    return Ok(Vec::new());
                }
                tx.rollback().await?;
            }
            self.up(config).await
        }
    }

    /// Inserts records for the steps up to `id` not yet recorded; returns how many.
    async fn record_up_to(
        &self,
        tx: &mut impl Executor,
        id: &str,
        sums: &Checksums<'_>,
    ) -> Result<usize> {
        let records = read_records(tx).await?;
        let mut n = 0;
        let steps = self.steps.iter().zip(&sums.by_step);
        for (step, sum) in steps.take_while(|(s, _)| s.id.as_str() <= id) {
            if records.iter().any(|r| r.id == step.id) {
                continue;
            }
            tx.execute(RECORD, &[&step.id, &step.description, sum, &0i64])
                .await?;
            n += 1;
        }
        Ok(n)
    }
}

/// A transaction holding the migration lock: SQLite's write lock (`BEGIN IMMEDIATE`), plus
/// PostgreSQL's advisory lock.
async fn locked<'s, C: DatabaseConfig + 's>(
    config: &C,
    session: &'s mut C::Session,
) -> Result<C::Transaction<'s>> {
    let mut tx = config
        .begin_transaction(session, LockMode::ForUpdate)
        .await?;
    if tx.dialect() == Dialect::Postgres {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PG_LOCK])
            .await?;
    }
    Ok(tx)
}

/// Creates the record table if it is missing, under the migration lock.
async fn ensure_table<C: DatabaseConfig>(config: &C, engine: &C::Engine) -> Result<()> {
    let mut session = config.session(engine).await?;
    let mut tx = locked(config, &mut session).await?;
    tx.execute_batch(CREATE_TABLE).await?;
    tx.commit().await
}

async fn read_records(tx: &mut impl Executor) -> Result<Vec<Record>> {
    tx.query(RECORDS, &[])
        .await?
        .iter()
        .map(|row| {
            Ok(Record {
                id: row.get(0)?,
                checksum: row.get(1)?,
                applied_at: row.get(2)?,
            })
        })
        .collect()
}

/// Whether table `name` exists (in `schema`, or PostgreSQL's current schema; SQLite's main
/// database).
async fn table_exists(tx: &mut impl Executor, name: &str, schema: Option<&str>) -> Result<bool> {
    let row = match tx.dialect() {
        Dialect::Sqlite => {
            tx.query_one(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
                &[&name],
            )
            .await?
        }
        Dialect::Postgres => {
            tx.query_one(
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename::text = $1 \
                 AND schemaname::text = COALESCE($2, current_schema()::text)",
                &[&name, &schema],
            )
            .await?
        }
    };
    Ok(row.get::<i64>(0)? > 0)
}
