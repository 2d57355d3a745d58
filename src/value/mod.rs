//! Portable values and rows: what the [`Executor`](crate::query::Executor) API binds and returns,
//! the same on SQLite (native and browser) and PostgreSQL.
//!
//! # Storage
//!
//! A [`Value`] is stored the way [`schema::ddl`](crate::schema::ddl) declares its column, so a
//! value written through the portable API into a table made by `create_db` reads back equal on
//! both backends:
//!
//! | Rust | [`Value`] | SQLite | PostgreSQL |
//! |---|---|---|---|
//! | `None` / [`Value::Null`] | `Null` | NULL | NULL |
//! | `bool` | `Bool` | INTEGER 0 / 1 | `boolean` |
//! | `i16`, `i32`, `i64` | `Int` | INTEGER | `smallint` / `integer` / `bigint` (range-checked against the parameter's type) |
//! | `f32`, `f64` | `Float` | REAL | `real` / `double precision` |
//! | `String`, `&str` | `Text` | TEXT | `text`, `varchar`, enum types |
//! | `Vec<u8>`, `&[u8]` | `Bytes` | BLOB | `bytea` |
//! | [`Uuid`] | `Uuid` | TEXT, 36 characters, lowercase, hyphenated | `uuid` |
//! | [`serde_json::Value`], [`Json<T>`] | `Json` | TEXT (the JSON document) | `json` / `jsonb` |
//! | [`OffsetDateTime`] | `Timestamp` | TEXT `YYYY-MM-DD HH:MM:SS.ffffff+00:00` (UTC, microseconds: sorts as it compares) | `timestamptz` (`timestamp`: as UTC) |
//! | [`Date`] | `Date` | TEXT `YYYY-MM-DD` | `date` |
//!
//! Timestamps keep microseconds (PostgreSQL's precision): nanoseconds are truncated on both
//! backends; the offset is not stored (both read back in UTC, and [`OffsetDateTime`] compares
//! instants, so a `+05:30` value reads back equal). **NaN** is refused with
//! [`Error::Encode`](crate::Error::Encode) on both backends (SQLite would store NULL);
//! infinities round-trip.
//!
//! Reading is lenient where no information is lost: a SQLite INTEGER 0/1 reads as `bool`, TEXT
//! as [`Uuid`], timestamp or JSON; an INTEGER as `f64`. A conversion that would lose or invent
//! data is an [`Error::Decode`](crate::Error::Decode) naming the column and both types.
//!
//! Dates and times use the [`time`] crate: it is small, builds for WebAssembly without extra
//! features, has no C parts, and both drivers support it (tokio-postgres `with-time-0_3`).

mod convert;
pub(crate) mod row;
pub(crate) mod text;

#[cfg(feature = "serde")]
mod de;

#[cfg(feature = "serde")]
pub use de::serde_helpers;

pub use convert::{FromValue, Json, ToValue};
pub use row::{Row, RowIndex};
pub use time::{Date, OffsetDateTime};
pub use uuid::Uuid;

use std::fmt;

/// One SQL value, as bound to a statement or read from a row. See the [module](self) for how
/// each is stored.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (any width).
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A UUID.
    Uuid(Uuid),
    /// A JSON document.
    Json(serde_json::Value),
    /// An instant with its offset (stored in UTC).
    Timestamp(OffsetDateTime),
    /// A calendar date.
    Date(Date),
}

impl Value {
    /// The kind of value, as error messages name it (`"integer"`, `"text"`…).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Uuid(_) => "uuid",
            Value::Json(_) => "json",
            Value::Timestamp(_) => "timestamp",
            Value::Date(_) => "date",
        }
    }

    /// True for [`Value::Null`].
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(v) => write!(f, "Bool({v})"),
            Value::Int(v) => write!(f, "Int({v})"),
            Value::Float(v) => write!(f, "Float({v:?})"),
            Value::Text(v) => write!(f, "Text({v:?})"),
            Value::Bytes(v) => write!(f, "Bytes({} bytes)", v.len()),
            Value::Uuid(v) => write!(f, "Uuid({v})"),
            Value::Json(v) => write!(f, "Json({v})"),
            Value::Timestamp(v) => write!(f, "Timestamp({v})"),
            Value::Date(v) => write!(f, "Date({v})"),
        }
    }
}

/// The parameters of one statement, bound to `$1`, `$2`, … in order:
/// `&[&id, &name, &None::<i64>]`. Anything that is [`ToValue`] goes in.
pub type Params<'a> = &'a [&'a (dyn ToValue + Sync)];

#[cfg(test)]
mod tests;
