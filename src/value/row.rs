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
    /// SQLite's values, read when the row was stepped (the statement is gone by now).
    Values {
        columns: Arc<[String]>,
        values: Vec<Value>,
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
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn from_values(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        Row {
            inner: Inner::Values { columns, values },
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
            Inner::Values { columns, .. } => columns.get(i).map(String::as_str),
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
        let decode = |value: &Value| {
            T::from_value(value).map_err(|reason| Error::Decode {
                column: self.column_name(i).unwrap_or_default().to_owned(),
                rust_type: T::RUST_TYPE,
                found: self.stored_type(i, value),
                reason,
            })
        };
        match &self.inner {
            Inner::Values { values, .. } => decode(&values[i]),
            #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
            Inner::Postgres(_) => decode(&self.value(i)?),
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

    fn stored_type(&self, i: usize, value: &Value) -> String {
        match &self.inner {
            Inner::Values { .. } => {
                let _ = i;
                value.kind().to_owned()
            }
            #[cfg(all(feature = "postgres", not(target_family = "wasm")))]
            Inner::Postgres(row) => {
                let _ = value;
                row.columns()[i].type_().name().to_owned()
            }
        }
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
