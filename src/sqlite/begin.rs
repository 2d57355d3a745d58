//! How a SQLite transaction begins.

use std::fmt;

/// The `BEGIN` statement of a SQLite transaction.
/// <https://www.sqlite.org/lang_transaction.html>
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BeginMode {
    /// `BEGIN DEFERRED`: no lock until the first read; the write lock is taken at the first
    /// write, which can fail with `SQLITE_BUSY_SNAPSHOT` if another connection wrote since this
    /// transaction's first read.
    Deferred,
    /// `BEGIN IMMEDIATE`: takes the write lock at once, so a read-then-write transaction never
    /// meets a stale snapshot. SQLite's stand-in for `SELECT … FOR UPDATE`.
    Immediate,
    /// `BEGIN EXCLUSIVE`: in WAL mode the same as immediate.
    Exclusive,
}

impl BeginMode {
    /// The mode for `begin_transaction(with_for_update)`: IMMEDIATE when locking for update,
    /// DEFERRED otherwise, as the original does.
    #[must_use]
    pub fn for_update(with_for_update: bool) -> Self {
        if with_for_update {
            BeginMode::Immediate
        } else {
            BeginMode::Deferred
        }
    }

    /// The statement to run.
    #[must_use]
    pub fn sql(self) -> &'static str {
        match self {
            BeginMode::Deferred => "BEGIN DEFERRED",
            BeginMode::Immediate => "BEGIN IMMEDIATE",
            BeginMode::Exclusive => "BEGIN EXCLUSIVE",
        }
    }

    /// True for modes that take the write lock at `BEGIN`; these go through the writer lane.
    #[must_use]
    pub fn writes(self) -> bool {
        !matches!(self, BeginMode::Deferred)
    }
}

impl fmt::Display for BeginMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_update_picks_immediate() {
        assert_eq!(BeginMode::for_update(true).sql(), "BEGIN IMMEDIATE");
        assert_eq!(BeginMode::for_update(false).sql(), "BEGIN DEFERRED");
        assert!(BeginMode::Immediate.writes() && BeginMode::Exclusive.writes());
        assert!(!BeginMode::Deferred.writes());
    }
}
