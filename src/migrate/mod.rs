//! Versioned migrations: ordered steps of SQL, each applied once, in its own transaction, and
//! recorded in a table of dbconfig's (`dbconfig_migrations`: id, description, checksum, applied
//! at, duration).
//!
//! ```no_run
//! # async fn demo() -> dbconfig::Result<()> {
//! use dbconfig::migrate::{Migration, Migrations};
//! use dbconfig::SqliteConfig;
//!
//! let migrations = Migrations::new()
//!     .step(Migration::new("0001", "jobs", "CREATE TABLE job (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"))
//!     .step(
//!         Migration::new("0002", "job priority", "ALTER TABLE job ADD COLUMN priority INTEGER NOT NULL DEFAULT 0")
//!             .postgres("ALTER TABLE job ADD COLUMN priority INTEGER NOT NULL DEFAULT 0; \
//!                        CREATE INDEX ix_job_priority ON job USING brin (priority)"),
//!     );
//! let config = SqliteConfig::new("sqlite:///app.db")?;
//! let applied = migrations.up(&config).await?;
//! println!("{} step(s) applied", applied.len());
//! # Ok(()) }
//! ```
//!
//! # Steps
//!
//! A step has an id (steps run in id order: give them fixed-width numbers, `0001`, `0002`…), a
//! description, and SQL: one text for both dialects, and optionally a text for SQLite or for
//! PostgreSQL that replaces it there. A step with texts for one dialect only has none for the
//! other, and running it there is an error naming the step: give the other dialect an empty
//! text to make the step a no-op there.
//!
//! # From a directory, or embedded
//!
//! [`Migrations::from_dir`] reads `*.sql` files named `<id>_<description>.sql` (for both
//! dialects), `<id>_<description>.sqlite.sql` and `<id>_<description>.postgres.sql` (one
//! dialect's text). The description is the name's rest with `_` read as a space:
//!
//! ```text
//! migrations/
//!   0001_create_jobs.sql
//!   0002_add_priority.sql
//!   0002_add_priority.postgres.sql     replaces 0002 on PostgreSQL
//!   0003_gin_index.postgres.sql        PostgreSQL only…
//!   0003_gin_index.sqlite.sql          …an empty file: nothing to do on SQLite
//! ```
//!
//! [`migrations!`](crate::migrations) embeds the same files at compile time
//! (`include_str!`), so a binary carries its migrations.
//!
//! # Checksums
//!
//! Each applied step's checksum (SHA-256 of the text run, after turning `\r\n` into `\n` and
//! dropping trailing spaces and blank lines at either end, so a checkout with other line endings
//! does not count as an edit) is recorded. When a step that was applied no longer has the same
//! text, [`up`](Migrations::up) stops with [`MigrationError::ChecksumMismatch`] naming the step
//! before it runs anything. The way out: restore the step's text (the usual fix: write a new step
//! for the new change), or, when the edit changes nothing that was applied (a comment, say),
//! [`Migrations::accept_checksum`] records the new checksum.
//!
//! # Transactions and concurrency
//!
//! Each step runs in its own transaction with its record, so a step that fails leaves the
//! database as the previous step left it. SQLite runs DDL in transactions, except that `VACUUM`
//! and changing `journal_mode` or `foreign_keys` cannot happen inside one (they are refused or
//! ignored): do those outside migrations. PostgreSQL runs almost all DDL in transactions, but
//! not `CREATE INDEX CONCURRENTLY`, `CREATE DATABASE` or `ALTER SYSTEM`, and an enum label added
//! by `ALTER TYPE … ADD VALUE` cannot be used in the same step.
//!
//! Several processes may run the same upgrade at once: each step's transaction first takes the
//! database's write lock (SQLite: `BEGIN IMMEDIATE`, waiting up to `busy_timeout`; PostgreSQL:
//! `pg_advisory_xact_lock`, waiting up to the statement timeout), then reads the record. The
//! loser finds the step recorded and moves on, so each step runs exactly once. Each step is
//! bounded like any statement of the config: on PostgreSQL by its statement timeout, so run
//! long steps with a config whose `postgres.statement_timeout` allows them.

#[cfg(feature = "sqlite")]
mod blocking;
pub mod plan;
mod record;
#[cfg(not(target_family = "wasm"))]
mod run;

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use record::{Applied, StepState, StepStatus};

use crate::url::Dialect;

/// The table dbconfig records applied steps in.
pub const TABLE: &str = "dbconfig_migrations";

/// A line of a SQLite step's text that runs the step with foreign keys off: set before its
/// transaction begins, `PRAGMA foreign_key_check` before it commits (a violation rolls it back:
/// [`MigrationError::ForeignKeyCheck`]), restored after. SQLite's table-rebuild procedure needs
/// this (dropping a parent table with foreign keys on runs its `ON DELETE` actions);
/// [`Plan`](plan::Plan) writes it. Ignored on PostgreSQL.
pub const FOREIGN_KEYS_OFF: &str = "-- dbconfig:foreign_keys=off";

/// True when `sql` holds the [`FOREIGN_KEYS_OFF`] line.
pub(crate) fn foreign_keys_off(sql: &str) -> bool {
    sql.lines().any(|l| l.trim() == FOREIGN_KEYS_OFF)
}

/// One step: an id, a description and its SQL.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Migration {
    /// Orders the steps (compared as strings: use fixed-width numbers).
    pub id: String,
    /// What it does, for people.
    pub description: String,
    /// The text for both dialects, if any.
    pub portable: Option<String>,
    /// SQLite's own text, replacing `portable` there.
    pub sqlite: Option<String>,
    /// PostgreSQL's own text, replacing `portable` there.
    pub postgres: Option<String>,
}

impl Migration {
    /// A step whose `sql` serves both dialects.
    #[must_use]
    pub fn new(
        id: impl Into<String>,
        description: impl Into<String>,
        sql: impl Into<String>,
    ) -> Self {
        Migration {
            id: id.into(),
            description: description.into(),
            portable: Some(sql.into()),
            sqlite: None,
            postgres: None,
        }
    }

    /// A step with no text yet: add one per dialect with [`sqlite`](Self::sqlite) and
    /// [`postgres`](Self::postgres).
    #[must_use]
    pub fn per_dialect(id: impl Into<String>, description: impl Into<String>) -> Self {
        Migration {
            portable: None,
            ..Migration::new(id, description, "")
        }
    }

    /// SQLite's own text.
    #[must_use]
    pub fn sqlite(mut self, sql: impl Into<String>) -> Self {
        self.sqlite = Some(sql.into());
        self
    }

    /// PostgreSQL's own text.
    #[must_use]
    pub fn postgres(mut self, sql: impl Into<String>) -> Self {
        self.postgres = Some(sql.into());
        self
    }

    /// The text run on `dialect`: its own, else the portable one.
    ///
    /// # Errors
    /// [`MigrationError::NoSql`] when the step has neither.
    pub fn sql_for(&self, dialect: Dialect) -> Result<&str, MigrationError> {
        let own = match dialect {
            Dialect::Sqlite => self.sqlite.as_deref(),
            Dialect::Postgres => self.postgres.as_deref(),
        };
        own.or(self.portable.as_deref())
            .ok_or_else(|| MigrationError::NoSql {
                id: self.id.clone(),
                dialect,
            })
    }

    /// The checksum recorded for this step on `dialect` (see the [module docs](self)).
    ///
    /// # Errors
    /// As [`sql_for`](Self::sql_for).
    pub fn checksum(&self, dialect: Dialect) -> Result<String, MigrationError> {
        self.sql_for(dialect).map(checksum)
    }
}

impl fmt::Debug for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migration")
            .field("id", &self.id)
            .field("description", &self.description)
            .field("portable", &self.portable.is_some())
            .field("sqlite", &self.sqlite.is_some())
            .field("postgres", &self.postgres.is_some())
            .finish()
    }
}

/// SHA-256, in hex, of `sql` with `\r\n` read as `\n`, trailing spaces dropped from each line and
/// blank lines dropped at either end.
#[must_use]
pub fn checksum(sql: &str) -> String {
    let lines: Vec<&str> = sql
        .split('\n')
        .map(|l| l.trim_end_matches(['\r', ' ', '\t']))
        .collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    let body = match (first, last) {
        (Some(a), Some(b)) => lines[a..=b].join("\n"),
        _ => String::new(),
    };
    Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An ordered set of [`Migration`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrations {
    steps: Vec<Migration>,
}

impl Migrations {
    /// No steps.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a step, keeping the steps in id order.
    ///
    /// A duplicate id is not refused here: [`validate`](Self::validate) and every run report it.
    #[must_use]
    pub fn step(mut self, step: Migration) -> Self {
        let at = self.steps.partition_point(|s| s.id <= step.id);
        self.steps.insert(at, step);
        self
    }

    /// The steps, in id order.
    #[must_use]
    pub fn steps(&self) -> &[Migration] {
        &self.steps
    }

    /// Checks the set: ids present, unique, without spaces or control characters.
    ///
    /// # Errors
    /// [`MigrationError::InvalidId`] or [`MigrationError::Duplicate`].
    pub fn validate(&self) -> Result<(), MigrationError> {
        let mut seen = BTreeSet::new();
        for step in &self.steps {
            if step.id.is_empty() || step.id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(MigrationError::InvalidId {
                    id: step.id.clone(),
                });
            }
            if !seen.insert(step.id.as_str()) {
                return Err(MigrationError::Duplicate {
                    id: step.id.clone(),
                });
            }
        }
        Ok(())
    }

    /// Reads the `*.sql` files of `dir` (layout in the [module docs](self)); other files are
    /// ignored.
    ///
    /// # Errors
    /// The directory or a file cannot be read, a name does not follow the layout, or two files
    /// give the same step the same dialect's text ([`MigrationError::Load`]).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, MigrationError> {
        let dir = dir.as_ref();
        let load = |reason: String| MigrationError::Load {
            path: dir.display().to_string(),
            reason,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| load(e.to_string()))? {
            let path = entry.map_err(|e| load(e.to_string()))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !name.ends_with(".sql") || !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| MigrationError::Load {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            files.push((name.to_owned(), text));
        }
        Self::from_files(files)
    }

    /// Builds the set from `(file name, text)` pairs named as in [`from_dir`](Self::from_dir)
    /// (what [`migrations!`](crate::migrations) passes).
    ///
    /// # Errors
    /// As [`from_dir`](Self::from_dir).
    pub fn from_files<N, T>(files: impl IntoIterator<Item = (N, T)>) -> Result<Self, MigrationError>
    where
        N: AsRef<str>,
        T: Into<String>,
    {
        let mut steps: Vec<Migration> = Vec::new();
        for (name, text) in files {
            let name = name.as_ref();
            let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
            let bad = |reason: &str| MigrationError::Load {
                path: name.to_owned(),
                reason: reason.to_owned(),
            };
            let stem = name
                .strip_suffix(".sql")
                .ok_or_else(|| bad("not a .sql file"))?;
            let (stem, dialect) = match stem.rsplit_once('.') {
                Some((rest, "sqlite")) => (rest, Some(Dialect::Sqlite)),
                Some((rest, "postgres" | "postgresql")) => (rest, Some(Dialect::Postgres)),
                Some(_) => return Err(bad("expected <id>_<description>[.sqlite|.postgres].sql")),
                None => (stem, None),
            };
            let (id, description) = stem.split_once('_').unwrap_or((stem, ""));
            if id.is_empty() {
                return Err(bad("the name must start with the step's id"));
            }
            let description = description.replace('_', " ");
            let at = match steps.iter().position(|s| s.id == id) {
                Some(at) => at,
                None => {
                    steps.push(Migration::per_dialect(id, description.clone()));
                    steps.len() - 1
                }
            };
            let step = &mut steps[at];
            if step.description != description {
                return Err(bad("another file gives this step's id another description"));
            }
            let slot = match dialect {
                None => &mut step.portable,
                Some(Dialect::Sqlite) => &mut step.sqlite,
                Some(Dialect::Postgres) => &mut step.postgres,
            };
            if slot.is_some() {
                return Err(bad("two files give this step the same dialect's text"));
            }
            *slot = Some(text.into());
        }
        let set = steps.into_iter().fold(Migrations::new(), Migrations::step);
        set.validate()?;
        Ok(set)
    }
}

/// Embeds migration files at compile time: paths relative to the crate's `Cargo.toml`, named as
/// in [`Migrations::from_dir`]. Evaluates to `Result<Migrations, MigrationError>`.
///
/// ```ignore
/// let migrations = dbconfig::migrations!["migrations/0001_init.sql", "migrations/0002_add_priority.sql"]?;
/// ```
#[macro_export]
macro_rules! migrations {
    ($($path:literal),* $(,)?) => {
        $crate::migrate::Migrations::from_files([
            $(($path, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path)))),*
        ])
    };
}

/// A migration problem: the set, the record, or a step that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// A step's id is empty or holds spaces or control characters.
    #[error("migration id {id:?} is empty or holds spaces or control characters")]
    InvalidId {
        /// The id.
        id: String,
    },
    /// Two steps have the same id.
    #[error("two migrations have the id {id:?}")]
    Duplicate {
        /// The id.
        id: String,
    },
    /// A step has no SQL for the dialect it runs on.
    #[error("migration {id} has no SQL for {dialect} (give it an empty text there to skip it)")]
    NoSql {
        /// The step.
        id: String,
        /// The dialect.
        dialect: Dialect,
    },
    /// A migration file could not be read or is not named as the layout says.
    #[error("migration file {path}: {reason}")]
    Load {
        /// The file or directory.
        path: String,
        /// Why.
        reason: String,
    },
    /// An applied step's text changed since it was applied.
    #[error(
        "migration {id} was applied with checksum {recorded} but its text now has {current}: \
         restore its text and put the change in a new step (or, if the edit changes nothing that \
         was applied, accept the new checksum with Migrations::accept_checksum)"
    )]
    ChecksumMismatch {
        /// The step.
        id: String,
        /// What the record holds.
        recorded: String,
        /// The checksum of its text now.
        current: String,
    },
    /// The database records a step this set does not have (it was upgraded by a newer program).
    #[error("the database has migration {id} applied, which this program does not know")]
    Unknown {
        /// The step.
        id: String,
    },
    /// A step is not applied while a later one is (steps merged out of order).
    #[error(
        "migration {id} is not applied but the later {later} is: give the new step an id after \
         the last applied one"
    )]
    OutOfOrder {
        /// The pending step.
        id: String,
        /// An applied step after it.
        later: String,
    },
    /// The database has tables of the metadata but no migration record: stamp it at the step it
    /// is at first.
    #[error(
        "the database already has table {table} but no migration record: stamp it at the step it \
         is at (Migrations::stamp_to) before upgrading"
    )]
    Unmanaged {
        /// A table that exists.
        table: String,
    },
    /// A step failed; its transaction was rolled back, so the database is as the previous step
    /// left it.
    #[error("migration {id} ({description}) failed; nothing of it was kept")]
    StepFailed {
        /// The step.
        id: String,
        /// Its description.
        description: String,
        /// The database's error.
        #[source]
        source: Box<crate::Error>,
    },
    /// A SQLite step run with foreign keys off (see [`FOREIGN_KEYS_OFF`]) left rows whose
    /// parent is missing; its transaction was rolled back.
    #[error(
        "migration {id} leaves {violations} row(s) violating foreign keys (the first in table \
         {table}); nothing of it was kept"
    )]
    ForeignKeyCheck {
        /// The step.
        id: String,
        /// How many rows `PRAGMA foreign_key_check` reported.
        violations: usize,
        /// The table of the first one.
        table: String,
    },
}

#[cfg(test)]
mod tests;
