//! The PRAGMAs dbconfig applies to every new SQLite connection, in a fixed order.
//!
//! [`pragmas`] is the one list: connections apply it in order, `pragmas_in_effect` and the CLI
//! show it, and this table is checked against it (`the_docs_table_is_the_list`). Defaults:
//!
//! | # | PRAGMA | default | why |
//! |---|---|---|---|
//! | 1 | `journal_mode` | `wal` | readers never block the writer; set once per file (WAL is persistent), only checked later, because setting it can itself hit a lock |
//! | 2 | `foreign_keys` | `1` | SQLite does not enforce foreign keys unless asked |
//! | 3 | `legacy_alter_table` | `0` | renaming a table must update the references to it |
//! | 4 | `synchronous` | `1` | NORMAL: with WAL, durable against application crashes and much faster than FULL |
//! | 5 | `cache_size` | `20000` | a larger page cache than SQLite's 2 MiB default |
//! | 6 | `busy_timeout` | `60000` | wait for locks held by other connections instead of failing at once |
//! | 7 | `wal_autocheckpoint` | `1000` | checkpoint the WAL into the database every 1000 pages, so the `-wal` file stays bounded |
//! | 8 | `journal_size_limit` | `67108864` | truncate the `-wal` file to 64 MiB after a checkpoint, so a large transaction does not leave a large file for good |
//! | 9 | the `extra` PRAGMAs | | in the order given |

use crate::settings::{JournalMode, Settings};

/// One `PRAGMA name = value` statement with the reason it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pragma {
    /// PRAGMA name.
    pub name: String,
    /// Value as SQLite reports it back (`wal`, `1`, `60000`…).
    pub value: String,
    /// One line of why.
    pub reason: &'static str,
}

/// The PRAGMAs for `settings`, in the order they are applied (journal mode first).
#[must_use]
pub fn pragmas(settings: &Settings) -> Vec<Pragma> {
    let p = &settings.sqlite.pragmas;
    let bool_value = |b: bool| if b { "1" } else { "0" }.to_owned();
    let mut out = vec![
        Pragma {
            name: "journal_mode".into(),
            value: p.journal_mode.as_str().into(),
            reason: "readers never block the writer; set once per file (WAL is persistent), only checked later, because setting it can itself hit a lock",
        },
        Pragma {
            name: "foreign_keys".into(),
            value: bool_value(p.foreign_keys),
            reason: "SQLite does not enforce foreign keys unless asked",
        },
        Pragma {
            name: "legacy_alter_table".into(),
            value: bool_value(p.legacy_alter_table),
            reason: "renaming a table must update the references to it",
        },
        Pragma {
            name: "synchronous".into(),
            value: p.synchronous.as_number().to_string(),
            reason: "NORMAL: with WAL, durable against application crashes and much faster than FULL",
        },
        Pragma {
            name: "cache_size".into(),
            value: p.cache_size.to_string(),
            reason: "a larger page cache than SQLite's 2 MiB default",
        },
        Pragma {
            name: "busy_timeout".into(),
            value: settings.sqlite.busy_timeout.as_millis().to_string(),
            reason: "wait for locks held by other connections instead of failing at once",
        },
        Pragma {
            name: "wal_autocheckpoint".into(),
            value: p.wal_autocheckpoint.to_string(),
            reason: "checkpoint the WAL into the database every 1000 pages, so the `-wal` file stays bounded",
        },
        Pragma {
            name: "journal_size_limit".into(),
            value: p.journal_size_limit.to_string(),
            reason: "truncate the `-wal` file to 64 MiB after a checkpoint, so a large transaction does not leave a large file for good",
        },
    ];
    out.extend(p.extra.iter().map(|(name, value)| Pragma {
        name: name.clone(),
        value: value.clone(),
        reason: "in the order given",
    }));
    out
}

/// The journal mode an in-memory database ends up with: WAL needs a real file, so SQLite keeps
/// `memory` for in-memory databases whatever is asked.
#[must_use]
pub fn effective_journal_mode(asked: JournalMode, inmemory: bool) -> JournalMode {
    if inmemory && asked == JournalMode::Wal {
        JournalMode::Memory
    } else {
        asked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_order_and_values() {
        let list: Vec<(String, String)> = pragmas(&Settings::default())
            .into_iter()
            .map(|p| (p.name, p.value))
            .collect();
        let expected = [
            ("journal_mode", "wal"),
            ("foreign_keys", "1"),
            ("legacy_alter_table", "0"),
            ("synchronous", "1"),
            ("cache_size", "20000"),
            ("busy_timeout", "60000"),
            ("wal_autocheckpoint", "1000"),
            ("journal_size_limit", "67108864"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(list, expected);
    }

    /// The module docs' table shows the same names, defaults and reasons, in the same order.
    #[test]
    fn the_docs_table_is_the_list() {
        let rows: Vec<String> = include_str!("pragma.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//! | "))
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .map(str::to_owned)
            .collect();
        let list = pragmas(&Settings::default());
        assert_eq!(
            rows.len(),
            list.len() + 1,
            "one row per PRAGMA, then `extra`"
        );
        for (i, (row, p)) in rows.iter().zip(&list).enumerate() {
            let expected = format!("{} | `{}` | `{}` | {} |", i + 1, p.name, p.value, p.reason);
            assert_eq!(row, &expected);
        }
    }

    #[test]
    fn extra_comes_last() {
        let mut s = Settings::default();
        s.sqlite
            .pragmas
            .extra
            .push(("temp_store".into(), "memory".into()));
        assert_eq!(pragmas(&s).last().unwrap().name, "temp_store");
    }
}
