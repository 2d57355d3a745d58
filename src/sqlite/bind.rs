//! Portable statements on SQLite: `$1, $2, …` bound by their digits, [`Value`]s stored as
//! [`crate::value`] describes, rows read back as [`Row`]s. Pure over rusqlite, so the browser
//! build runs the same code.
//!
//! SQLite takes `$1` as a *named* parameter and numbers parameters by first appearance: in
//! `… $2 … $1` the parameter SQLite calls 1 is `$2`. Each parameter's name is read back after
//! `prepare` and bound to the value its digits name, so order and repetition work as on
//! PostgreSQL, with no SQL lexer of our own.

use std::sync::Arc;

use rusqlite::types::{Null, ValueRef};
use rusqlite::{Connection, Statement};

use crate::error::{Error, Result};
use crate::value::{Row, Value, text};

/// Binds `values` to `stmt`'s `$N` parameters (`$N` gets `values[N - 1]`).
///
/// # Errors
/// [`Error::Placeholders`] for `?`, `?N`, `:name`, `@name` or `$name` placeholders, a `$N` past
/// the values given, a number skipped, or more values than placeholders; [`Error::Encode`] for a
/// value SQLite cannot store portably (NaN, a year past 9999).
pub fn bind_values(stmt: &mut Statement<'_>, values: &[Value]) -> Result<()> {
    let count = stmt.parameter_count();
    let mut used = vec![false; values.len()];
    let mut other: Option<String> = None;
    let mut highest = 0;
    for i in 1..=count {
        let number = match stmt.parameter_name(i) {
            Some(name) => match portable_number(name) {
                Some(n) => n,
                None => {
                    other.get_or_insert_with(|| name.to_owned());
                    continue;
                }
            },
            None => {
                other.get_or_insert_with(|| "?".to_owned());
                continue;
            }
        };
        highest = highest.max(number);
        let Some(value) = values.get(number - 1) else {
            return Err(Error::Placeholders {
                reason: format!(
                    "the statement uses ${number}, {} parameter(s) were given",
                    values.len()
                ),
            });
        };
        used[number - 1] = true;
        bind_one(stmt, i, number, value)?;
    }
    if let Some(name) = other {
        let reason = if highest > 0 {
            format!("the statement mixes `{name}` and `$N` placeholders: use $1, $2, … only")
        } else {
            format!("`{name}` is not a portable placeholder: write $1, $2, … (PostgreSQL's syntax)")
        };
        return Err(Error::Placeholders { reason });
    }
    if let Some(unused) = used.iter().position(|u| !u) {
        return Err(Error::Placeholders {
            reason: if unused < highest {
                format!(
                    "${} is not used by the statement (PostgreSQL could not infer its type)",
                    unused + 1
                )
            } else {
                format!(
                    "{} parameter(s) were given, the statement uses {highest}",
                    values.len()
                )
            },
        });
    }
    Ok(())
}

/// Binds one `value` to `stmt`'s parameter `index` (SQLite's 1-based numbering), stored as
/// [`bind_values`] stores it: for callers that bind `?`, `?N` or `:name` parameters themselves
/// (the browser build binds JavaScript arrays and objects this way).
///
/// # Errors
/// [`Error::Encode`] (naming `index`) for a value SQLite cannot store portably (NaN, a year past
/// 9999); [`Error::Sqlite`] for an index the statement does not have.
pub fn bind_value(stmt: &mut Statement<'_>, index: usize, value: &Value) -> Result<()> {
    bind_one(stmt, index, index, value)
}

/// True when `name` (a parameter name as [`Statement::parameter_name`] reports it) is a portable
/// `$N` placeholder, the ones [`bind_values`] binds.
#[must_use]
pub fn is_portable_placeholder(name: &str) -> bool {
    portable_number(name).is_some()
}

/// `N` for a `$N` parameter name.
fn portable_number(name: &str) -> Option<usize> {
    let digits = name.strip_prefix('$')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&n| n > 0)
}

fn bind_one(stmt: &mut Statement<'_>, i: usize, parameter: usize, value: &Value) -> Result<()> {
    let encode = |reason: String| Error::Encode { parameter, reason };
    match value {
        Value::Null => stmt.raw_bind_parameter(i, Null),
        Value::Bool(b) => stmt.raw_bind_parameter(i, i64::from(*b)),
        Value::Int(v) => stmt.raw_bind_parameter(i, *v),
        Value::Float(f) if f.is_nan() => {
            return Err(encode(
                "NaN is not stored portably (SQLite would store NULL); bind NULL or an infinity \
                 instead"
                    .into(),
            ));
        }
        Value::Float(f) => stmt.raw_bind_parameter(i, *f),
        Value::Text(s) => stmt.raw_bind_parameter(i, s.as_str()),
        Value::Bytes(b) => stmt.raw_bind_parameter(i, b.as_slice()),
        Value::Uuid(u) => {
            let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
            let s: &str = u.hyphenated().encode_lower(&mut buf);
            stmt.raw_bind_parameter(i, s)
        }
        Value::Json(j) => stmt.raw_bind_parameter(i, j.to_string()),
        Value::Timestamp(t) => {
            stmt.raw_bind_parameter(i, text::format_timestamp(*t).map_err(encode)?)
        }
        Value::Date(d) => stmt.raw_bind_parameter(i, text::format_date(*d).map_err(encode)?),
    }
    .map_err(Error::Sqlite)
}

/// Column `i` of `row` as a [`Value`] (by storage class; text that is not UTF-8 reads as bytes).
///
/// # Errors
/// The column does not exist.
pub fn column_value(row: &rusqlite::Row<'_>, i: usize) -> Result<Value> {
    Ok(match row.get_ref(i)? {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Real(v) => Value::Float(v),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => Value::Bytes(t.to_vec()),
        },
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    })
}

/// Prepares (cached) `sql`, binds `values` and returns every row.
///
/// # Errors
/// Preparing or stepping failed, or binding failed (see [`bind_values`]).
pub fn query(conn: &Connection, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind_values(&mut stmt, values)?;
    let n = stmt.column_count();
    let columns: Arc<[String]> = stmt.column_names().map(String::from).collect();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(column_value(row, i)?);
        }
        out.push(Row::from_values(Arc::clone(&columns), values));
    }
    Ok(out)
}

/// Prepares (cached) `sql`, binds `values` and runs it: the rows changed, or, for a statement
/// that returns rows, the number of rows (as PostgreSQL counts them).
///
/// # Errors
/// As [`query`].
pub fn execute(conn: &Connection, sql: &str, values: &[Value]) -> Result<u64> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind_values(&mut stmt, values)?;
    if stmt.column_count() == 0 {
        return Ok(stmt.raw_execute()? as u64);
    }
    let mut rows = stmt.raw_query();
    let mut n = 0;
    while rows.next()?.is_some() {
        n += 1;
    }
    Ok(n)
}
