//! SQLite PRAGMA settings: the values dbconfig applies to every new connection.

use std::fmt;
use std::str::FromStr;

use super::SettingsError;

/// `PRAGMA journal_mode`. See <https://www.sqlite.org/pragma.html#pragma_journal_mode>.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum JournalMode {
    /// Rollback journal deleted at the end of each transaction (SQLite's default).
    Delete,
    /// Rollback journal truncated instead of deleted.
    Truncate,
    /// Rollback journal header zeroed instead of deleted.
    Persist,
    /// Rollback journal kept in memory.
    Memory,
    /// Write-ahead log: readers never block the writer. dbconfig's default.
    #[default]
    Wal,
    /// No rollback journal (unsafe).
    Off,
}

impl JournalMode {
    /// The keyword SQLite uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            JournalMode::Delete => "delete",
            JournalMode::Truncate => "truncate",
            JournalMode::Persist => "persist",
            JournalMode::Memory => "memory",
            JournalMode::Wal => "wal",
            JournalMode::Off => "off",
        }
    }
}

impl FromStr for JournalMode {
    type Err = SettingsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "delete" => JournalMode::Delete,
            "truncate" => JournalMode::Truncate,
            "persist" => JournalMode::Persist,
            "memory" => JournalMode::Memory,
            "wal" => JournalMode::Wal,
            "off" => JournalMode::Off,
            _ => {
                return Err(SettingsError::invalid(
                    "journal_mode",
                    s,
                    "one of delete, truncate, persist, memory, wal, off",
                ));
            }
        })
    }
}

impl fmt::Display for JournalMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `PRAGMA synchronous`. See <https://www.sqlite.org/pragma.html#pragma_synchronous>.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Synchronous {
    /// No syncs at all.
    Off,
    /// Sync at critical moments; with WAL, durable against application crashes. dbconfig's default.
    #[default]
    Normal,
    /// Sync on every commit.
    Full,
    /// Like full, plus the directory after deleting a journal.
    Extra,
}

impl Synchronous {
    /// The keyword SQLite uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Off => "off",
            Synchronous::Normal => "normal",
            Synchronous::Full => "full",
            Synchronous::Extra => "extra",
        }
    }

    /// The number `PRAGMA synchronous` reports for this level.
    #[must_use]
    pub fn as_number(self) -> i64 {
        match self {
            Synchronous::Off => 0,
            Synchronous::Normal => 1,
            Synchronous::Full => 2,
            Synchronous::Extra => 3,
        }
    }
}

impl FromStr for Synchronous {
    type Err = SettingsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "off" | "0" => Synchronous::Off,
            "normal" | "1" => Synchronous::Normal,
            "full" | "2" => Synchronous::Full,
            "extra" | "3" => Synchronous::Extra,
            _ => {
                return Err(SettingsError::invalid(
                    "synchronous",
                    s,
                    "one of off, normal, full, extra (or 0-3)",
                ));
            }
        })
    }
}

impl fmt::Display for Synchronous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The PRAGMAs applied to every new SQLite connection, in this order (see
/// [`crate::sqlite::pragma`]): `journal_mode`, `foreign_keys`, `legacy_alter_table`,
/// `synchronous`, `cache_size`, `busy_timeout` (from [`crate::Settings::busy_timeout`]),
/// then `extra` in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct SqlitePragmas {
    /// Journal mode. Set once per database file (WAL is persistent) and only checked on later
    /// connections. Defaults to `wal`.
    pub journal_mode: JournalMode,
    /// Enforce foreign keys. Defaults to `true`.
    /// <https://www.sqlite.org/pragma.html#pragma_foreign_keys>
    pub foreign_keys: bool,
    /// Legacy `ALTER TABLE … RENAME` behaviour. Defaults to `false`.
    /// <https://www.sqlite.org/pragma.html#pragma_legacy_alter_table>
    pub legacy_alter_table: bool,
    /// Sync level. Defaults to `normal`.
    pub synchronous: Synchronous,
    /// Page cache size: positive = pages, negative = KiB. Defaults to `20000` (pages).
    /// <https://www.sqlite.org/pragma.html#pragma_cache_size>
    pub cache_size: i64,
    /// Further PRAGMAs, applied after the ones above in the order given, e.g.
    /// `("temp_store", "memory")`. Names must be identifiers; values are integers, keywords or
    /// plain strings. Defaults to none.
    pub extra: Vec<(String, String)>,
}

impl Default for SqlitePragmas {
    fn default() -> Self {
        SqlitePragmas {
            journal_mode: JournalMode::Wal,
            foreign_keys: true,
            legacy_alter_table: false,
            synchronous: Synchronous::Normal,
            cache_size: 20_000,
            extra: Vec::new(),
        }
    }
}

impl SqlitePragmas {
    /// Parses the `extra` list from `name=value;name=value` (also `,`-separated).
    ///
    /// # Errors
    /// A name that is not an identifier, or a value with characters other than letters, digits,
    /// `_`, `-`, `.`, `/` and spaces, is an error naming `key`.
    pub fn parse_extra(key: &str, text: &str) -> Result<Vec<(String, String)>, SettingsError> {
        let mut out = Vec::new();
        for item in text
            .split([';', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (name, value) = item.split_once('=').ok_or_else(|| {
                SettingsError::invalid(key, item, "name=value pairs separated by ';'")
            })?;
            let (name, value) = (name.trim(), value.trim());
            validate_pragma(key, name, value)?;
            out.push((name.to_ascii_lowercase(), value.to_owned()));
        }
        Ok(out)
    }

    /// Checks every `extra` entry (names are identifiers, values are safe).
    ///
    /// # Errors
    /// The first offending entry, named.
    pub fn validate(&self) -> Result<(), SettingsError> {
        for (name, value) in &self.extra {
            validate_pragma("pragmas.extra", name, value)?;
        }
        Ok(())
    }
}

fn validate_pragma(key: &str, name: &str, value: &str) -> Result<(), SettingsError> {
    let ident = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !ident(name) {
        return Err(SettingsError::invalid(
            key,
            name,
            "a pragma name (letters, digits, _)",
        ));
    }
    let value_ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ' '));
    if !value_ok {
        return Err(SettingsError::invalid(
            key,
            value,
            "a pragma value (integer, keyword or plain string)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip() {
        for m in [
            JournalMode::Delete,
            JournalMode::Truncate,
            JournalMode::Persist,
            JournalMode::Memory,
            JournalMode::Wal,
            JournalMode::Off,
        ] {
            assert_eq!(m.to_string().parse::<JournalMode>().unwrap(), m);
            assert_eq!(m.as_str().to_uppercase().parse::<JournalMode>().unwrap(), m);
        }
        for s in [
            Synchronous::Off,
            Synchronous::Normal,
            Synchronous::Full,
            Synchronous::Extra,
        ] {
            assert_eq!(s.to_string().parse::<Synchronous>().unwrap(), s);
            assert_eq!(s.as_number().to_string().parse::<Synchronous>().unwrap(), s);
        }
        let err = "wall".parse::<JournalMode>().unwrap_err().to_string();
        assert!(
            err.contains("wall") && err.contains("journal_mode"),
            "{err}"
        );
    }

    #[test]
    fn extra_pragmas() {
        assert_eq!(
            SqlitePragmas::parse_extra("K", "temp_store=memory; mmap_size=268435456").unwrap(),
            vec![
                ("temp_store".to_owned(), "memory".to_owned()),
                ("mmap_size".to_owned(), "268435456".to_owned())
            ]
        );
        for bad in [
            "x",
            "1abc=2",
            "a=",
            "a=1; DROP TABLE t",
            "a='x'",
            "a=b\"c",
            "a b=1",
        ] {
            let err = SqlitePragmas::parse_extra("DBCONFIG_SQLITE_PRAGMAS", bad).unwrap_err();
            assert!(
                err.to_string().contains("DBCONFIG_SQLITE_PRAGMAS"),
                "{bad}: {err}"
            );
        }
    }
}
