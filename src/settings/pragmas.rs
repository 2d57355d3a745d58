//! SQLite PRAGMA settings: the values dbconfig applies to every new connection.

use std::str::FromStr;

use super::SettingsError;
use super::pragma_names::{self, Kind};

crate::keyword::keyword_enum! {
    /// `PRAGMA journal_mode`. See <https://www.sqlite.org/pragma.html#pragma_journal_mode>.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    #[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
    pub enum JournalMode {
        /// Rollback journal deleted at the end of each transaction (SQLite's default).
        Delete = "delete",
        /// Rollback journal truncated instead of deleted.
        Truncate = "truncate",
        /// Rollback journal header zeroed instead of deleted.
        Persist = "persist",
        /// Rollback journal kept in memory.
        Memory = "memory",
        /// Write-ahead log: readers never block the writer. dbconfig's default.
        #[default]
        Wal = "wal",
        /// No rollback journal: a crash or a failed ROLLBACK can corrupt the database. Needs
        /// [`SqlitePragmas::allow_unsafe`], as does `Memory`.
        Off = "off",
    }
}

impl FromStr for JournalMode {
    type Err = SettingsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s.trim()).ok_or_else(|| {
            SettingsError::invalid(
                "journal_mode",
                s,
                "one of delete, truncate, persist, memory, wal, off",
            )
        })
    }
}

crate::keyword::keyword_enum! {
    /// `PRAGMA synchronous`. See <https://www.sqlite.org/pragma.html#pragma_synchronous>.
    /// `Off` needs [`SqlitePragmas::allow_unsafe`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
    #[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
    pub enum Synchronous {
        /// No syncs at all.
        Off = "off" | "0",
        /// Sync at critical moments; with WAL, durable against application crashes. dbconfig's
        /// default.
        #[default]
        Normal = "normal" | "1",
        /// Sync on every commit.
        Full = "full" | "2",
        /// Like full, plus the directory after deleting a journal.
        Extra = "extra" | "3",
    }
}

impl Synchronous {
    /// The number `PRAGMA synchronous` reports for this level.
    #[must_use]
    pub fn as_number(self) -> i64 {
        self as i64
    }
}

impl FromStr for Synchronous {
    type Err = SettingsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s.trim()).ok_or_else(|| {
            SettingsError::invalid("synchronous", s, "one of off, normal, full, extra (or 0-3)")
        })
    }
}

/// The PRAGMAs applied to every new SQLite connection, in this order (see
/// [`crate::sqlite::pragma`]): `journal_mode`, `foreign_keys`, `legacy_alter_table`,
/// `synchronous`, `cache_size`, `busy_timeout` (from [`crate::SqliteSettings::busy_timeout`]),
/// then `extra` in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
#[non_exhaustive]
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
    /// WAL pages after which a commit checkpoints the WAL into the database (SQLite's own
    /// default, `1000`, about 4 MiB with 4 KiB pages); `0` turns automatic checkpoints off, and
    /// then the `-wal` file grows until [`checkpoint`](crate::SqliteEngine::checkpoint) is
    /// called. <https://www.sqlite.org/pragma.html#pragma_wal_autocheckpoint>
    pub wal_autocheckpoint: u32,
    /// Bytes a `-wal` (or rollback journal) file is truncated to after a checkpoint resets it;
    /// `-1` = never truncated (SQLite's default: the file keeps its largest size). Defaults to
    /// 64 MiB, so one large transaction does not leave a large file behind for good.
    /// <https://www.sqlite.org/pragma.html#pragma_journal_size_limit>
    pub journal_size_limit: i64,
    /// Further PRAGMAs, applied after the ones above in the order given, e.g.
    /// `("temp_store", "memory")`. Values are integers, keywords or plain strings. Names must be
    /// PRAGMAs that set an option (<https://www.sqlite.org/pragma.html>): an unknown name (a
    /// typo), one that only reports (`integrity_check`), a deprecated one, or one with its own
    /// field here (`foreign_keys`, `journal_mode`…) is an error. `locking_mode=exclusive`,
    /// `writable_schema`, `ignore_check_constraints` and `schema_version` need
    /// [`allow_unsafe`](Self::allow_unsafe). Defaults to none.
    pub extra: Vec<(String, String)>,
    /// Allow the PRAGMA settings that can corrupt the database or break the pool: journal mode
    /// `off` or `memory`, `synchronous` `off`, and in `extra` `locking_mode=exclusive`,
    /// `writable_schema`, `ignore_check_constraints` and `schema_version`. Defaults to `false`.
    pub allow_unsafe: bool,
}

impl Default for SqlitePragmas {
    fn default() -> Self {
        SqlitePragmas {
            journal_mode: JournalMode::Wal,
            foreign_keys: true,
            legacy_alter_table: false,
            synchronous: Synchronous::Normal,
            cache_size: 20_000,
            wal_autocheckpoint: 1000,
            journal_size_limit: 64 * 1024 * 1024,
            extra: Vec::new(),
            allow_unsafe: false,
        }
    }
}

super::setters!(SqlitePragmas {
    with_journal_mode => journal_mode: JournalMode,
    with_foreign_keys => foreign_keys: bool,
    with_legacy_alter_table => legacy_alter_table: bool,
    with_synchronous => synchronous: Synchronous,
    with_cache_size => cache_size: i64,
    with_wal_autocheckpoint => wal_autocheckpoint: u32,
    with_journal_size_limit => journal_size_limit: i64,
    with_extra => extra: Vec<(String, String)>,
    with_allow_unsafe => allow_unsafe: bool,
});

impl SqlitePragmas {
    /// Parses the `extra` list from `name=value;name=value` (also `,`-separated). Names are
    /// lowercased. Whether a value needs [`allow_unsafe`](Self::allow_unsafe) is left to
    /// [`validate`](Self::validate).
    ///
    /// # Errors
    /// A name that is not an accepted PRAGMA (see [`extra`](Self::extra)), or a value with
    /// characters other than letters, digits, `_`, `-`, `.`, `/` and spaces, is an error naming
    /// `key`.
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
            name_kind(key, name, value)?;
            out.push((name.to_ascii_lowercase(), value.to_owned()));
        }
        Ok(out)
    }

    /// Checks every `extra` entry (see [`extra`](Self::extra)), and, unless
    /// [`allow_unsafe`](Self::allow_unsafe), that no setting can corrupt the database or break
    /// the pool.
    ///
    /// # Errors
    /// The first offending setting, named (`sqlite.pragmas.extra`, `sqlite.pragmas.journal_mode`,
    /// `sqlite.pragmas.synchronous`), with what is accepted and how to allow an unsafe value.
    pub fn validate(&self) -> Result<(), SettingsError> {
        const KEY: &str = "sqlite.pragmas.extra";
        for (name, value) in &self.extra {
            validate_pragma(KEY, name, value)?;
            let kind = name_kind(KEY, name, value)?;
            if let Kind::Guarded {
                unsafe_value,
                expected,
            } = kind
                && !self.allow_unsafe
                && unsafe_value(value)
            {
                return Err(SettingsError::invalid(
                    KEY,
                    &format!("{name}={value}"),
                    expected,
                ));
            }
        }
        if self.journal_size_limit < -1 {
            return Err(SettingsError::invalid(
                "sqlite.pragmas.journal_size_limit",
                &self.journal_size_limit.to_string(),
                "a size in bytes, or -1 for no limit",
            ));
        }
        if self.allow_unsafe {
            return Ok(());
        }
        if matches!(self.journal_mode, JournalMode::Off | JournalMode::Memory) {
            return Err(SettingsError::invalid(
                "sqlite.pragmas.journal_mode",
                self.journal_mode.as_str(),
                "delete, truncate, persist or wal: off and memory can corrupt the database on a \
                 crash or a failed ROLLBACK; set sqlite.pragmas.allow_unsafe \
                 (DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS=true) to allow them",
            ));
        }
        if self.synchronous == Synchronous::Off {
            return Err(SettingsError::invalid(
                "sqlite.pragmas.synchronous",
                self.synchronous.as_str(),
                "normal, full or extra: off can corrupt the database on a power loss or an OS \
                 crash; set sqlite.pragmas.allow_unsafe (DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS=true) \
                 to allow it",
            ));
        }
        Ok(())
    }
}

/// How `extra` treats `name`; an error naming `key` for a name it refuses.
fn name_kind(key: &str, name: &str, value: &str) -> Result<Kind, SettingsError> {
    let shown = || format!("{name}={value}");
    match pragma_names::kind(&name.to_ascii_lowercase()) {
        Some(Kind::OwnSetting { expected }) => Err(SettingsError::invalid(key, &shown(), expected)),
        Some(kind) => Ok(kind),
        None => Err(SettingsError::invalid(
            key,
            &shown(),
            pragma_names::ACCEPTED,
        )),
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

    /// Item 12: unknown names (typos) and dangerous settings are refused; the safe ones pass.
    #[test]
    fn extra_pragmas_must_be_known_and_safe() {
        let with = |name: &str, value: &str| SqlitePragmas {
            extra: vec![(name.into(), value.into())],
            ..SqlitePragmas::default()
        };
        for (name, value) in [
            ("cache_szie", "1000"),
            ("tmp_store", "memory"),
            ("writable_schema", "1"),
            ("writable_schema", "ON"),
            ("journal_mode", "off"),
            ("locking_mode", "exclusive"),
            ("locking_mode", "EXCLUSIVE"),
            ("synchronous", "off"),
            ("ignore_check_constraints", "1"),
            ("schema_version", "7"),
            ("foreign_keys", "0"),
            ("busy_timeout", "1"),
            ("integrity_check", "1"),
            ("count_changes", "1"),
        ] {
            let err = with(name, value).validate().expect_err(name);
            assert_eq!(err.key(), "sqlite.pragmas.extra", "{name}={value}");
            assert!(err.to_string().contains(name), "{name}={value}: {err}");
        }
        for (name, value) in [
            ("temp_store", "memory"),
            ("mmap_size", "268435456"),
            ("locking_mode", "normal"),
            ("writable_schema", "off"),
            ("TEMP_STORE", "2"),
        ] {
            with(name, value).validate().expect(name);
        }
    }

    #[test]
    fn unsafe_settings_need_the_opt_in() {
        let unsafe_ones = [
            ("writable_schema", "1"),
            ("locking_mode", "exclusive"),
            ("ignore_check_constraints", "on"),
            ("schema_version", "7"),
        ];
        for (name, value) in unsafe_ones {
            let mut p = SqlitePragmas {
                extra: vec![(name.into(), value.into())],
                ..SqlitePragmas::default()
            };
            let err = p.validate().unwrap_err().to_string();
            assert!(err.contains("allow_unsafe"), "{err}");
            p.allow_unsafe = true;
            p.validate().expect(name);
        }
        // The opt-in does not admit unknown names or names with their own field.
        for (name, value) in [("cache_szie", "1"), ("journal_mode", "off")] {
            let p = SqlitePragmas {
                extra: vec![(name.into(), value.into())],
                allow_unsafe: true,
                ..SqlitePragmas::default()
            };
            assert!(p.validate().is_err(), "{name}");
        }
        // The dedicated fields' unsafe values need it too.
        for mut p in [
            SqlitePragmas {
                journal_mode: JournalMode::Off,
                ..SqlitePragmas::default()
            },
            SqlitePragmas {
                journal_mode: JournalMode::Memory,
                ..SqlitePragmas::default()
            },
            SqlitePragmas {
                synchronous: Synchronous::Off,
                ..SqlitePragmas::default()
            },
        ] {
            let err = p.validate().unwrap_err();
            assert!(err.key().starts_with("sqlite.pragmas."), "{err}");
            assert!(err.to_string().contains("allow_unsafe"), "{err}");
            p.allow_unsafe = true;
            p.validate().unwrap();
        }
        let err = SqlitePragmas::parse_extra("DBCONFIG_SQLITE_PRAGMAS", "cache_szie=1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("DBCONFIG_SQLITE_PRAGMAS") && err.contains("temp_store"),
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
