//! What both runners share (the async one over any config, the blocking one over a SQLite
//! connection): dbconfig's record table, the step states, checksums and the record check.

use std::collections::HashMap;
use std::time::Duration;

use super::{MigrationError, Migrations, checksum};
use crate::url::Dialect;

/// dbconfig's record of applied steps; valid SQL on both dialects.
pub(super) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS dbconfig_migrations (\
     id VARCHAR(255) NOT NULL PRIMARY KEY, \
     description TEXT NOT NULL, \
     checksum VARCHAR(64) NOT NULL, \
     applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP, \
     duration_ms BIGINT NOT NULL)";
pub(super) const RECORDS: &str = "SELECT id, checksum, CAST(applied_at AS TEXT) FROM dbconfig_migrations \
                       ORDER BY id";
pub(super) const RECORD: &str = "INSERT INTO dbconfig_migrations (id, description, checksum, duration_ms) \
                      VALUES ($1, $2, $3, $4)";

/// A step [`Migrations::up`] applied.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Applied {
    /// The step's id.
    pub id: String,
    /// Its description.
    pub description: String,
    /// How long its SQL and record took.
    pub duration: Duration,
}

/// Where a step stands in a database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepState {
    /// Applied; `checksum_ok` is false when the step's text changed since.
    Applied {
        /// When, as the database writes a timestamp.
        applied_at: String,
        /// The recorded checksum equals the text's now.
        checksum_ok: bool,
    },
    /// Not applied yet.
    Pending,
    /// Recorded in the database, but not in this set.
    Unknown {
        /// When it was applied.
        applied_at: String,
    },
}

/// One line of [`Migrations::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepStatus {
    /// The step's id.
    pub id: String,
    /// Its description (empty for an unknown step).
    pub description: String,
    /// Where it stands.
    pub state: StepState,
}

/// A row of the record.
pub(super) struct Record {
    pub(super) id: String,
    pub(super) checksum: String,
    pub(super) applied_at: String,
}

impl Migrations {
    /// Checks the set and that every step has SQL for `dialect`; hashes each step once.
    pub(super) fn prepare(&self, dialect: Dialect) -> crate::Result<Checksums<'_>> {
        self.validate()?;
        let mut by_step = Vec::with_capacity(self.steps.len());
        let mut position = HashMap::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().enumerate() {
            by_step.push(checksum(step.sql_for(dialect)?));
            position.insert(step.id.as_str(), i);
        }
        Ok(Checksums { by_step, position })
    }

    /// Checks the record against the set: checksums, unknown steps, steps out of order.
    pub(super) fn check(
        &self,
        records: &[Record],
        sums: &Checksums<'_>,
    ) -> std::result::Result<(), MigrationError> {
        for r in records {
            let Some(&i) = sums.position.get(r.id.as_str()) else {
                return Err(MigrationError::Unknown { id: r.id.clone() });
            };
            let current = &sums.by_step[i];
            if *current != r.checksum {
                return Err(MigrationError::ChecksumMismatch {
                    id: r.id.clone(),
                    recorded: r.checksum.clone(),
                    current: current.clone(),
                });
            }
        }
        if let Some(last) = records.iter().map(|r| &r.id).max() {
            let pending = self
                .steps
                .iter()
                .find(|s| s.id < *last && !records.iter().any(|r| r.id == s.id));
            if let Some(step) = pending {
                return Err(MigrationError::OutOfOrder {
                    id: step.id.clone(),
                    later: last.clone(),
                });
            }
        }
        Ok(())
    }

    /// Where each step stands, from the record (see `status`).
    pub(super) fn statuses(&self, records: &[Record], sums: &Checksums<'_>) -> Vec<StepStatus> {
        let mut out = Vec::new();
        for (step, sum) in self.steps.iter().zip(&sums.by_step) {
            let state = match records.iter().find(|r| r.id == step.id) {
                Some(r) => StepState::Applied {
                    applied_at: r.applied_at.clone(),
                    checksum_ok: r.checksum == *sum,
                },
                None => StepState::Pending,
            };
            out.push(StepStatus {
                id: step.id.clone(),
                description: step.description.clone(),
                state,
            });
        }
        for r in records {
            if !sums.position.contains_key(r.id.as_str()) {
                out.push(StepStatus {
                    id: r.id.clone(),
                    description: String::new(),
                    state: StepState::Unknown {
                        applied_at: r.applied_at.clone(),
                    },
                });
            }
        }
        out
    }
}

/// Each step's checksum on one dialect, computed once per call.
pub(super) struct Checksums<'a> {
    /// In step order.
    pub(super) by_step: Vec<String>,
    /// Step id → its index.
    pub(super) position: HashMap<&'a str, usize>,
}
