//! JavaScript values to SQLite values and back.

use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Row, Statement};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{Failure, js_error};

/// Integers up to this magnitude are exact JavaScript numbers.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A JavaScript value as a SQLite value: `null`/`undefined` → NULL, booleans → 0/1, integral
/// numbers within ±2^53 → INTEGER, other numbers → REAL, BigInt → INTEGER, strings → TEXT,
/// `Uint8Array` → BLOB. Anything else is an error naming the parameter.
pub fn to_value(value: &JsValue, which: &str) -> Result<Value, JsValue> {
    if value.is_null() || value.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Value::Integer(i64::from(b)));
    }
    if let Some(n) = value.as_f64() {
        return Ok(if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER as f64 {
            Value::Integer(n as i64)
        } else {
            Value::Real(n)
        });
    }
    if value.is_bigint() {
        let big: BigInt = value.clone().unchecked_into();
        return i64::try_from(big).map(Value::Integer).map_err(|_| {
            js_error(&Failure::InvalidArgument(format!(
                "parameter {which}: BigInt out of the 64-bit range"
            )))
        });
    }
    if let Some(text) = value.as_string() {
        return Ok(Value::Text(text));
    }
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return Ok(Value::Blob(bytes.to_vec()));
    }
    Err(js_error(&Failure::InvalidArgument(format!(
        "parameter {which}: unsupported type (use null, boolean, number, BigInt, string or Uint8Array)"
    ))))
}

/// Binds `params` to `stmt`: an array binds `?1…?N` in order; an object binds `:name`,
/// `@name` or `$name` (a key without a prefix is tried as `:key`).
pub fn bind(stmt: &mut Statement<'_>, params: &JsValue) -> Result<(), JsValue> {
    let count = stmt.parameter_count();
    if let Some(array) = params.dyn_ref::<Array>() {
        if array.length() as usize != count {
            return Err(js_error(&Failure::InvalidArgument(format!(
                "{} parameters given, the statement has {count}",
                array.length()
            ))));
        }
        for (i, value) in array.iter().enumerate() {
            let value = to_value(&value, &(i + 1).to_string())?;
            stmt.raw_bind_parameter(i + 1, value).map_err(sqlite)?;
        }
        return Ok(());
    }
    let Some(object) = params.dyn_ref::<Object>() else {
        return Err(js_error(&Failure::InvalidArgument(
            "params must be an array or an object".into(),
        )));
    };
    for entry in Object::entries(object).iter() {
        let pair: Array = entry.unchecked_into();
        let key = pair.get(0).as_string().unwrap_or_default();
        let name = if key.starts_with([':', '@', '$']) {
            key.clone()
        } else {
            format!(":{key}")
        };
        let index = stmt
            .parameter_index(&name)
            .map_err(sqlite)?
            .ok_or_else(|| {
                js_error(&Failure::InvalidArgument(format!(
                    "the statement has no parameter {name}"
                )))
            })?;
        let value = to_value(&pair.get(1), &name)?;
        stmt.raw_bind_parameter(index, value).map_err(sqlite)?;
    }
    Ok(())
}

/// One row as `{ column: value }`.
pub fn row_object(row: &Row<'_>, names: &[String]) -> Result<Object, JsValue> {
    let out = Object::new();
    for (i, name) in names.iter().enumerate() {
        let value = match row.get_ref(i).map_err(sqlite)? {
            ValueRef::Null => JsValue::NULL,
            ValueRef::Integer(n) if n.abs() <= MAX_SAFE_INTEGER => JsValue::from_f64(n as f64),
            ValueRef::Integer(n) => BigInt::from(n).into(),
            ValueRef::Real(f) => JsValue::from_f64(f),
            ValueRef::Text(t) => JsValue::from_str(&String::from_utf8_lossy(t)),
            ValueRef::Blob(b) => Uint8Array::from(b).into(),
        };
        Reflect::set(&out, &JsValue::from_str(name), &value)?;
    }
    Ok(out)
}

fn sqlite(e: rusqlite::Error) -> JsValue {
    js_error(&Failure::Dbconfig(dbconfig::Error::Sqlite(e)))
}
