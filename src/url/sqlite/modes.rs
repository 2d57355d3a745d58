//! The values of a SQLite URL that are not free text: where the database lives, `mode` and
//! `cache`.

use std::fmt;
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

/// The SQLite URI `mode` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenMode {
    /// `ro`: read-only.
    ReadOnly,
    /// `rw`: read-write, the file must exist.
    ReadWrite,
    /// `rwc`: read-write, created if missing.
    ReadWriteCreate,
    /// `memory`: a pure in-memory database.
    Memory,
}

impl OpenMode {
    /// The parameter value: `"ro"`, `"rw"`, `"rwc"` or `"memory"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ReadOnly => "ro",
            Self::ReadWrite => "rw",
            Self::ReadWriteCreate => "rwc",
            Self::Memory => "memory",
        }
    }

    pub(super) fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "ro" => Some(Self::ReadOnly),
            "rw" => Some(Self::ReadWrite),
            "rwc" => Some(Self::ReadWriteCreate),
            "memory" => Some(Self::Memory),
            _ => None,
        }
    }
}

impl fmt::Display for OpenMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The SQLite URI `cache` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheMode {
    /// `shared`: connections share one cache (and one in-memory database).
    Shared,
    /// `private`: each connection has its own cache.
    Private,
}

impl CacheMode {
    /// The parameter value: `"shared"` or `"private"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Shared => "shared",
            Self::Private => "private",
        }
    }

    pub(super) fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "shared" => Some(Self::Shared),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

impl fmt::Display for CacheMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
