//! Which PRAGMAs [`SqlitePragmas::extra`](super::SqlitePragmas::extra) may set, from
//! <https://www.sqlite.org/pragma.html>.
//!
//! Accepted: the PRAGMAs that set a connection or database option. Refused: unknown names
//! (a typo such as `cache_szie` would otherwise be a silent no-op), the ones that only report
//! (`integrity_check`, `table_info`…), the deprecated and debugging ones, and the ones with a
//! setting of their own. A few settings can corrupt the database or break the pool: they are
//! refused unless [`SqlitePragmas::allow_unsafe`](super::SqlitePragmas::allow_unsafe) is set.

/// What `extra` may do with one PRAGMA name (lowercase).
pub(super) enum Kind {
    /// Sets an option; every value is safe.
    Safe,
    /// Sets an option; `unsafe_value` tells the values that need `allow_unsafe`, and
    /// `expected` says why, for the error.
    Guarded {
        unsafe_value: fn(&str) -> bool,
        expected: &'static str,
    },
    /// Has a setting of its own; `expected` names it, for the error.
    OwnSetting { expected: &'static str },
}

/// `0`, `off`, `false` or `no`, as SQLite reads a boolean PRAGMA value.
fn is_off(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "0" | "off" | "false" | "no"
    )
}

/// The PRAGMAs `extra` accepts without conditions.
const SAFE: &[&str] = &[
    "analysis_limit",
    "application_id",
    "auto_vacuum",
    "automatic_index",
    "cache_spill",
    "cell_size_check",
    "checkpoint_fullfsync",
    "defer_foreign_keys",
    "encoding",
    "fullfsync",
    "hard_heap_limit",
    "journal_size_limit",
    "max_page_count",
    "mmap_size",
    "optimize",
    "page_size",
    "query_only",
    "read_uncommitted",
    "recursive_triggers",
    "reverse_unordered_selects",
    "secure_delete",
    "soft_heap_limit",
    "temp_store",
    "threads",
    "trusted_schema",
    "user_version",
    "wal_autocheckpoint",
];

/// What the error for an unknown or unusable name says `extra` accepts. A test checks that it
/// lists exactly the names [`kind`] accepts.
pub(super) const ACCEPTED: &str = "a PRAGMA that sets an option: analysis_limit, \
     application_id, auto_vacuum, automatic_index, cache_spill, cell_size_check, \
     checkpoint_fullfsync, defer_foreign_keys, encoding, fullfsync, hard_heap_limit, \
     ignore_check_constraints, journal_size_limit, locking_mode, max_page_count, mmap_size, \
     optimize, page_size, query_only, read_uncommitted, recursive_triggers, \
     reverse_unordered_selects, schema_version, secure_delete, soft_heap_limit, temp_store, \
     threads, trusted_schema, user_version, wal_autocheckpoint, writable_schema \
     (see https://www.sqlite.org/pragma.html)";

/// How `extra` treats `name` (lowercase); `None` for a name it refuses outright.
pub(super) fn kind(name: &str) -> Option<Kind> {
    let guarded = |unsafe_value: fn(&str) -> bool, expected| {
        Some(Kind::Guarded {
            unsafe_value,
            expected,
        })
    };
    let own = |expected| Some(Kind::OwnSetting { expected });
    match name {
        "locking_mode" => guarded(
            |v| v.trim().eq_ignore_ascii_case("exclusive"),
            "locking_mode=normal: exclusive keeps the database locked by the first connection, \
             so the pool's other connections fail with \"database is locked\"; set \
             sqlite.pragmas.allow_unsafe (DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS=true) to allow it",
        ),
        "writable_schema" => guarded(
            |v| !is_off(v),
            "writable_schema=off: on lets SQL edit sqlite_schema directly, and a mistake \
             corrupts the database; set sqlite.pragmas.allow_unsafe \
             (DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS=true) to allow it",
        ),
        "ignore_check_constraints" => guarded(
            |v| !is_off(v),
            "ignore_check_constraints=off: on stops enforcing CHECK constraints; set \
             sqlite.pragmas.allow_unsafe (DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS=true) to allow it",
        ),
        "schema_version" => guarded(
            |_| true,
            "no schema_version: writing it can corrupt the database; set \
             sqlite.pragmas.allow_unsafe (DBCONFIG_SQLITE_ALLOW_UNSAFE_PRAGMAS=true) to allow it",
        ),
        "journal_mode" => own("no journal_mode here: set sqlite.pragmas.journal_mode"),
        "synchronous" => own("no synchronous here: set sqlite.pragmas.synchronous"),
        "foreign_keys" => own("no foreign_keys here: set sqlite.pragmas.foreign_keys"),
        "legacy_alter_table" => {
            own("no legacy_alter_table here: set sqlite.pragmas.legacy_alter_table")
        }
        "cache_size" => own("no cache_size here: set sqlite.pragmas.cache_size"),
        "busy_timeout" => own("no busy_timeout here: set sqlite.busy_timeout"),
        _ if SAFE.contains(&name) => Some(Kind::Safe),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_lists_exactly_the_accepted_names() {
        let listed: Vec<&str> = ACCEPTED
            .split_once(": ")
            .and_then(|(_, names)| names.split_once(" (see"))
            .map(|(names, _)| names.split(", ").collect())
            .unwrap_or_default();
        let mut accepted: Vec<&str> = SAFE.to_vec();
        accepted.extend([
            "locking_mode",
            "writable_schema",
            "ignore_check_constraints",
            "schema_version",
        ]);
        accepted.sort_unstable();
        assert_eq!(listed, accepted);
        for name in &accepted {
            assert!(
                matches!(kind(name), Some(Kind::Safe | Kind::Guarded { .. })),
                "{name}"
            );
        }
    }
}
