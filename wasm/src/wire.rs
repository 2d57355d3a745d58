//! Parameters and result rows cross the JS↔wasm boundary as one byte buffer per call
//! (`js/wire.js` packs and unpacks them) instead of one boundary call per value. The format is
//! described there. Values are stored and read exactly as [`convert`](crate::convert) does it
//! value by value; what the buffer cannot carry (a `Date`, a Temporal value, a bad value) is
//! tagged "other" and converted from the JavaScript value itself.

use std::cell::RefCell;

use dbconfig::sqlite::bind::bind_numbered;
use dbconfig::value::Value;
use js_sys::{Array, Uint8Array};
use rusqlite::Statement;
use rusqlite::ToSql;
use rusqlite::types::{Null, ToSqlOutput, ValueRef};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::convert::{self, Binder, MAX_SAFE_INTEGER, Which, dbconfig_error, to_value};
use crate::error::{Failure, js_error};

#[wasm_bindgen(module = "/js/wire.js")]
extern "C" {
    #[wasm_bindgen(js_name = packRows)]
    fn pack_rows(rows: &Array) -> Option<Uint8Array>;
    #[wasm_bindgen(js_name = packParams)]
    fn pack_params(params: &JsValue) -> Option<Uint8Array>;
    #[wasm_bindgen(js_name = unpackRows)]
    fn unpack_rows(data: &[u8], columns: u32, names: &JsValue) -> Array;
}

const NULL: u8 = 0;
const NUMBER: u8 = 1;
const BIGINT: u8 = 2;
const TEXT: u8 = 3;
const BYTES: u8 = 4;
const BOOL: u8 = 5;
const OTHER: u8 = 6;

thread_local! {
    /// The buffer rows are written to, kept between calls.
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One packed value, borrowing its text or bytes from the buffer.
enum Packed<'a> {
    Null,
    Number(f64),
    BigInt(i64),
    Text(&'a [u8]),
    Bytes(&'a [u8]),
    Bool(bool),
    Other,
}

/// Reads packed parameters.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], JsValue> {
        let bytes = self.data.get(self.at..self.at + n).ok_or_else(|| {
            js_error(&Failure::InvalidArgument(
                "packed parameters cut short".into(),
            ))
        })?;
        self.at += n;
        Ok(bytes)
    }

    fn u32(&mut self) -> Result<usize, JsValue> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn eight(&mut self) -> Result<[u8; 8], JsValue> {
        let b = self.take(8)?;
        Ok([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    fn value(&mut self) -> Result<Packed<'a>, JsValue> {
        Ok(match self.take(1)?[0] {
            NULL => Packed::Null,
            NUMBER => Packed::Number(f64::from_le_bytes(self.eight()?)),
            BIGINT => Packed::BigInt(i64::from_le_bytes(self.eight()?)),
            TEXT => {
                let n = self.u32()?;
                Packed::Text(self.take(n)?)
            }
            BYTES => {
                let n = self.u32()?;
                Packed::Bytes(self.take(n)?)
            }
            BOOL => Packed::Bool(self.take(1)?[0] != 0),
            OTHER => Packed::Other,
            tag => {
                return Err(js_error(&Failure::InvalidArgument(format!(
                    "packed parameters: unknown tag {tag}"
                ))));
            }
        })
    }
}

/// Binds one packed row to `stmt` as [`bind_as`](crate::params::bind_as) binds an array;
/// `original` gives a value tagged "other" from the JavaScript row. `values` is scratch space
/// for a statement that uses its `$N` out of order.
fn bind_row<'a>(
    stmt: &mut Statement<'_>,
    reader: &mut Reader<'a>,
    values: &mut Vec<Packed<'a>>,
    binder: &mut Binder,
    original: &dyn Fn(usize) -> JsValue,
) -> Result<(), JsValue> {
    let given = reader.u32()?;
    let portable = binder.portable;
    if portable {
        // `$1, $2, …` in order (the usual case) are bound as they are read, below.
        if let Some(numbers) = binder.out_of_order(stmt, given)? {
            values.clear();
            for _ in 0..given {
                values.push(reader.value()?);
            }
            for (i, &n) in numbers.iter().enumerate() {
                bind_packed(stmt, i + 1, n, &values[n - 1], portable, original)?;
            }
            return Ok(());
        }
    } else {
        let count = stmt.parameter_count();
        if given != count {
            return Err(js_error(&Failure::InvalidArgument(format!(
                "{given} parameters given, the statement has {count}"
            ))));
        }
    }
    for i in 1..=given {
        let value = reader.value()?;
        bind_packed(stmt, i, i, &value, portable, original)?;
    }
    Ok(())
}

/// Text as the UTF-8 bytes `js/wire.js` wrote (`TextEncoder` or its ASCII copy: valid UTF-8),
/// bound without checking them again.
struct Utf8<'a>(&'a [u8]);

impl ToSql for Utf8<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.0)))
    }
}

/// Binds one packed value to parameter `index` (value `dollar` of the row), stored as
/// [`bind_numbered`] stores it; numbers, text, bytes and NULL directly, the rest through
/// [`Value`].
fn bind_packed(
    stmt: &mut Statement<'_>,
    index: usize,
    dollar: usize,
    value: &Packed<'_>,
    portable: bool,
    original: &dyn Fn(usize) -> JsValue,
) -> Result<(), JsValue> {
    let value = match *value {
        Packed::Text(bytes) => {
            return stmt
                .raw_bind_parameter(index, Utf8(bytes))
                .map_err(crate::sqlite);
        }
        Packed::Bytes(bytes) => {
            return stmt.raw_bind_parameter(index, bytes).map_err(crate::sqlite);
        }
        Packed::Null => return stmt.raw_bind_parameter(index, Null).map_err(crate::sqlite),
        Packed::Number(n) => match convert::number(n) {
            Value::Int(n) => return stmt.raw_bind_parameter(index, n).map_err(crate::sqlite),
            other => other,
        },
        Packed::BigInt(n) => return stmt.raw_bind_parameter(index, n).map_err(crate::sqlite),
        Packed::Bool(b) => Value::Bool(b),
        Packed::Other => {
            let which = if portable {
                Which::Dollar(dollar)
            } else {
                Which::Position(dollar)
            };
            to_value(&original(dollar - 1), &which)?
        }
    };
    bind_numbered(stmt, index, dollar, &value).map_err(dbconfig_error)
}

/// Binds the array `params` through one packed buffer; `Ok(false)` when they are not an array
/// (the caller binds them value by value).
pub fn bind_params(
    stmt: &mut Statement<'_>,
    params: &JsValue,
    binder: &mut Binder,
) -> Result<bool, JsValue> {
    let Some(packed) = pack_params(params) else {
        return Ok(false);
    };
    let data = packed.to_vec();
    let mut reader = Reader { data: &data, at: 0 };
    let original = |i: usize| params.unchecked_ref::<Array>().get(i as u32);
    bind_row(stmt, &mut reader, &mut Vec::new(), binder, &original)?;
    Ok(true)
}

/// Runs `stmt` once per row of `rows` (arrays) through one packed buffer; `Ok(None)` when a row
/// is not an array (the caller binds them value by value).
pub fn run_rows(
    stmt: &mut Statement<'_>,
    rows: &Array,
    binder: &mut Binder,
) -> Result<Option<usize>, JsValue> {
    let Some(packed) = pack_rows(rows) else {
        return Ok(None);
    };
    let data = packed.to_vec();
    let mut reader = Reader { data: &data, at: 0 };
    let mut values = Vec::new();
    let mut changed = 0;
    for r in 0..rows.length() {
        let original = |i: usize| rows.get(r).unchecked_into::<Array>().get(i as u32);
        bind_row(stmt, &mut reader, &mut values, binder, &original)?;
        changed += stmt.raw_execute().map_err(crate::sqlite)?;
    }
    Ok(Some(changed))
}

/// Every row of `rows` as arrays or (with `names`, a JS array of column names) objects: NULL →
/// `null`, INTEGER → number (BigInt beyond ±(2^53 − 1)), REAL → number, TEXT → string, BLOB
/// (and text that is not UTF-8) → `Uint8Array`, as native reads each storage class.
pub fn read_rows(
    mut rows: rusqlite::Rows<'_>,
    columns: usize,
    names: &JsValue,
) -> Result<Array, JsValue> {
    OUT.with_borrow_mut(|out| {
        out.clear();
        while let Some(row) = rows.next().map_err(crate::sqlite)? {
            for i in 0..columns {
                match row.get_ref(i).map_err(crate::sqlite)? {
                    ValueRef::Null => out.push(NULL),
                    ValueRef::Integer(n) if n.unsigned_abs() <= MAX_SAFE_INTEGER as u64 => {
                        out.push(NUMBER);
                        out.extend_from_slice(&(n as f64).to_le_bytes());
                    }
                    ValueRef::Integer(n) => {
                        out.push(BIGINT);
                        out.extend_from_slice(&n.to_le_bytes());
                    }
                    ValueRef::Real(f) => {
                        out.push(NUMBER);
                        out.extend_from_slice(&f.to_le_bytes());
                    }
                    // Text that is not UTF-8 reads as bytes, as native reads it.
                    ValueRef::Text(t) if std::str::from_utf8(t).is_ok() => put(out, TEXT, t),
                    ValueRef::Text(b) | ValueRef::Blob(b) => put(out, BYTES, b),
                }
            }
        }
        Ok(unpack_rows(out, columns as u32, names))
    })
}

fn put(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}
