//! [`Row`]: one result row of either backend.

use std::sync::Arc;

use super::{FromValue, Value};
use crate::error::{Error, Result};

/// One result row. Columns are read by position or by name with [`get`](Self::get), converted
/// as the [module](super) describes.
#[derive(Clone)]
pub struct Row {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    /// Values made elsewhere.
    Values {
        columns: Arc<[String]>,
        values: Vec<Value>,
    },
    /// SQLite's values, copied when the row was stepped (the statement is gone by now): text and
    /// bytes in one buffer, so a row costs two allocations whatever its width, and reading a
    /// column as `String` copies it once.
    Packed {
        columns: Arc<[String]>,
        cells: Vec<Cell>,
        bytes: Vec<u8>,
    },
    /// PostgreSQL's row, decoded column by column when read.
    #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
    Postgres(tokio_postgres::Row),
}

impl std::fmt::Debug for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for i in 0..self.len() {
            match self.value(i) {
                Ok(v) => map.entry(&self.column_name(i).unwrap_or("?"), &v),
                Err(_) => map.entry(&self.column_name(i).unwrap_or("?"), &"<unreadable>"),
            };
        }
        map.finish()
    }
}

/// One SQLite value of a packed row: text and bytes are ranges of the row's buffer.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Float(f64),
    /// UTF-8 text at (start, length).
    Text(usize, usize),
    /// Bytes at (start, length).
    Bytes(usize, usize),
}

impl Cell {
    fn value(self, bytes: &[u8]) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::Int(i),
            Cell::Float(f) => Value::Float(f),
            Cell::Text(at, len) => match std::str::from_utf8(&bytes[at..at + len]) {
                Ok(s) => Value::Text(s.to_owned()),
                Err(_) => Value::Bytes(bytes[at..at + len].to_vec()),
            },
            Cell::Bytes(at, len) => Value::Bytes(bytes[at..at + len].to_vec()),
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Cell::Null => "null",
            Cell::Int(_) => "integer",
            Cell::Float(_) => "float",
            Cell::Text(..) => "text",
            Cell::Bytes(..) => "bytes",
        }
    }
}

/// A column of a [`Row`]: its position (`0`…) or its name.
pub trait RowIndex {
    /// The position in `row`, if it has such a column.
    fn position(&self, row: &Row) -> Option<usize>;
    /// How error messages name it.
    fn describe(&self) -> String;
}

impl RowIndex for usize {
    fn position(&self, row: &Row) -> Option<usize> {
        (*self < row.len()).then_some(*self)
    }

    fn describe(&self) -> String {
        format!("#{self}")
    }
}

impl RowIndex for &str {
    fn position(&self, row: &Row) -> Option<usize> {
        (0..row.len()).find(|&i| row.column_name(i) == Some(*self))
    }

    fn describe(&self) -> String {
        (*self).to_owned()
    }
}

impl RowIndex for String {
    fn position(&self, row: &Row) -> Option<usize> {
        self.as_str().position(row)
    }

    fn describe(&self) -> String {
        self.clone()
    }
}

impl Row {
    /// A row of `values` under `columns` (names beyond the values are ignored; values beyond
    /// the names have no name). For tests, and backends of your own.
    #[must_use]
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        Row {
            inner: Inner::Values { columns, values },
        }
    }

    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn from_cells(columns: Arc<[String]>, cells: Vec<Cell>, bytes: Vec<u8>) -> Self {
        Row {
            inner: Inner::Packed {
                columns,
                cells,
                bytes,
            },
        }
    }

    #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
    pub(crate) fn from_postgres(row: tokio_postgres::Row) -> Self {
        Row {
            inner: Inner::Postgres(row),
        }
    }

    /// The number of columns.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.inner {
            Inner::Values { values, .. } => values.len(),
            Inner::Packed { cells, .. } => cells.len(),
            #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
            Inner::Postgres(row) => row.len(),
        }
    }

    /// True when the row has no columns.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of column `i`.
    #[must_use]
    pub fn column_name(&self, i: usize) -> Option<&str> {
        match &self.inner {
            Inner::Values { columns, .. } | Inner::Packed { columns, .. } => {
                columns.get(i).map(String::as_str)
            }
            #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
            Inner::Postgres(row) => row.columns().get(i).map(tokio_postgres::Column::name),
        }
    }

    /// The column names, in order.
    #[must_use]
    pub fn column_names(&self) -> Vec<&str> {
        (0..self.len())
            .filter_map(|i| self.column_name(i))
            .collect()
    }

    /// Column `index` as a [`Value`] (what the backend returned, before any conversion).
    ///
    /// # Errors
    /// [`Error::Decode`] when there is no such column, or a PostgreSQL column has a type the
    /// portable API does not read (cast it in SQL, e.g. `::text`).
    pub fn value(&self, index: impl RowIndex) -> Result<Value> {
        let Some(i) = index.position(self) else {
            return Err(self.no_column(&index));
        };
        match &self.inner {
            Inner::Values { values, .. } => Ok(values[i].clone()),
            Inner::Packed { cells, bytes, .. } => Ok(cells[i].value(bytes)),
            #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
            Inner::Postgres(row) => row.try_get::<_, Value>(i).map_err(|e| Error::Decode {
                column: self.column_name(i).unwrap_or_default().to_owned(),
                rust_type: "Value",
                found: row.columns()[i].type_().name().to_owned(),
                reason: std::error::Error::source(&e)
                    .map_or_else(|| e.to_string(), ToString::to_string),
            }),
        }
    }

    /// Column `index` converted to `T`.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the column, the stored type and `T`, when there is no such column
    /// or the value does not convert (a NULL into a non-`Option`, text into an integer, an
    /// integer out of `T`'s range…). Reading never panics.
    pub fn get<T: FromValue>(&self, index: impl RowIndex) -> Result<T> {
        let Some(i) = index.position(self) else {
            return Err(self.no_column(&index));
        };
        let error = |reason: String, found: String| Error::Decode {
            column: self.column_name(i).unwrap_or_default().to_owned(),
            rust_type: T::RUST_TYPE,
            found,
            reason,
        };
        match &self.inner {
            Inner::Values { values, .. } => T::from_value(&values[i])
                .map_err(|reason| error(reason, values[i].kind().to_owned())),
            // Made once, then moved into `T` (no second copy of text or bytes).
            Inner::Packed { cells, bytes, .. } => T::from_owned(cells[i].value(bytes))
                .map_err(|reason| error(reason, cells[i].kind().to_owned())),
            #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
            Inner::Postgres(row) => T::from_owned(self.value(i)?)
                .map_err(|reason| error(reason, row.columns()[i].type_().name().to_owned())),
        }
    }

    /// The same as [`get`](Self::get), under the name tokio-postgres uses for it.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn try_get<T: FromValue>(&self, index: impl RowIndex) -> Result<T> {
        self.get(index)
    }

    /// The row's values, in column order.
    ///
    /// # Errors
    /// As [`value`](Self::value).
    pub fn values(&self) -> Result<Vec<Value>> {
        (0..self.len()).map(|i| self.value(i)).collect()
    }

    fn no_column(&self, index: &dyn RowIndex) -> Error {
        Error::Decode {
            column: index.describe(),
            rust_type: "-",
            found: "no such column".into(),
            reason: format!("the row's columns are {:?}", self.column_names()),
        }
    }
}
