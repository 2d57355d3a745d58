//! The values of a SQLite URL that are not free text: where the database lives, `mode` and
//! `cache`.

use std::path::PathBuf;

/// Where a SQLite database lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SqliteLocation {
    /// An in-memory database, optionally named (`file:name?mode=memory`).
    Memory {
        /// The name given in the url, if any.
        name: Option<String>,
    },
    /// An on-disk file, relative or absolute as written.
    File(PathBuf),
}

crate::keyword::keyword_enum! {
    /// The SQLite URI `mode` parameter.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum OpenMode {
        /// `ro`: read-only.
        ReadOnly = "ro",
        /// `rw`: read-write, the file must exist.
        ReadWrite = "rw",
        /// `rwc`: read-write, created if missing.
        ReadWriteCreate = "rwc",
        /// `memory`: a pure in-memory database.
        Memory = "memory",
    }
}

crate::keyword::keyword_enum! {
    /// The SQLite URI `cache` parameter.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum CacheMode {
        /// `shared`: connections share one cache (and one in-memory database).
        Shared = "shared",
        /// `private`: each connection has its own cache.
        Private = "private",
    }
}
