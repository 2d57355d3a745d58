//! JavaScript values to dbconfig [`Value`]s (stored exactly as native dbconfig stores them), a
//! statement's [`Binder`], and errors as JavaScript errors. Rows go back to JavaScript through
//! [`wire`](crate::wire).

use dbconfig::sqlite::bind::{PortableParams, is_portable_placeholder};
use dbconfig::value::{Date, FromValue, OffsetDateTime, Value};
use js_sys::{Array, BigInt, Object, Reflect, Symbol, Uint8Array};
use rusqlite::Statement;
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{Failure, js_error};

/// Integers up to this magnitude are exact JavaScript numbers.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Which parameter a value is for: formatted only when an error names it (building the name
/// for every value was a measurable part of a bulk insert).
#[derive(Clone, Copy)]
pub enum Which<'a> {
    /// `$N` of an array.
    Dollar(usize),
    /// The Nth `?` of an array.
    Position(usize),
    /// `:name`, `@name` or `$name` of an object.
    Name(&'a str),
}

impl std::fmt::Display for Which<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Which::Dollar(n) => write!(f, "${n}"),
            Which::Position(n) => write!(f, "{n}"),
            Which::Name(name) => f.write_str(name),
        }
    }
}

/// A JavaScript value as a dbconfig [`Value`]:
///
/// | JavaScript | `Value` | stored as |
/// |---|---|---|
/// | `null`, `undefined` | `Null` | NULL |
/// | `true` / `false` | `Bool` | INTEGER 1 / 0 |
/// | a number with no fraction, within ±(2^53 − 1) | `Int` | INTEGER |
/// | any other number (`1.5`, `1e300`, `±Infinity`) | `Float` | REAL; `NaN` is refused as natively |
/// | `BigInt` within the 64-bit range | `Int` | INTEGER |
/// | string | `Text` | TEXT |
/// | `Uint8Array` | `Bytes` | BLOB |
/// | `Date` | `Timestamp` | TEXT `YYYY-MM-DD HH:MM:SS.ffffff+00:00` (UTC) |
/// | `Temporal.Instant`, `Temporal.ZonedDateTime` | `Timestamp` | the same, microseconds kept |
/// | `Temporal.PlainDate` | `Date` | TEXT `YYYY-MM-DD` |
///
/// Anything else (plain objects and arrays included) is an error naming the parameter: JSON is
/// passed as text, `JSON.stringify(value)`, which is what native stores for a JSON value. A UUID
/// is its 36-character lowercase string (`crypto.randomUUID()`), as native stores a `Uuid`.
pub fn to_value(value: &JsValue, which: &Which<'_>) -> Result<Value, JsValue> {
    if value.is_null() || value.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = value.as_f64() {
        return Ok(number(n));
    }
    if value.is_bigint() {
        let big: BigInt = value.clone().unchecked_into();
        return i64::try_from(big)
            .map(Value::Int)
            .map_err(|_| invalid(which, "BigInt out of the 64-bit range"));
    }
    if let Some(text) = value.as_string() {
        return Ok(Value::Text(text));
    }
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return Ok(Value::Bytes(bytes.to_vec()));
    }
    if let Some(date) = value.dyn_ref::<js_sys::Date>() {
        let ms = date.get_time();
        if ms.is_nan() {
            return Err(invalid(which, "an invalid Date"));
        }
        // A Date is a whole number of milliseconds within ±8.64e15.
        return timestamp(i128::from(ms as i64) * 1_000_000, which);
    }
    if value.is_object() {
        let tag = Reflect::get(value, &Symbol::to_string_tag())
            .ok()
            .and_then(|t| t.as_string());
        match tag.as_deref() {
            Some("Temporal.Instant" | "Temporal.ZonedDateTime") => {
                let nanos = Reflect::get(value, &"epochNanoseconds".into())?;
                let nanos = nanos
                    .dyn_into::<BigInt>()
                    .ok()
                    .and_then(|n| i128::try_from(n).ok())
                    .ok_or_else(|| invalid(which, "epochNanoseconds is not a BigInt"))?;
                return timestamp(nanos, which);
            }
            Some("Temporal.PlainDate") => {
                let text = value.unchecked_ref::<Object>().to_string();
                return Date::from_value(&Value::Text(text.into()))
                    .map(Value::Date)
                    .map_err(|e| invalid(which, &e));
            }
            _ => {}
        }
    }
    let what = if Array::is_array(value) {
        "an array"
    } else if value.is_object() {
        "an object"
    } else {
        "this type"
    };
    Err(invalid(
        which,
        &format!(
            "{what} is not a SQL value (use null, a boolean, number, BigInt, string, Uint8Array, \
             Date or Temporal value; for JSON pass JSON.stringify(value))"
        ),
    ))
}

/// A JavaScript number: an integer when it has no fraction and is exact, else a float (NaN stays
/// NaN: binding it is native's `Encode` error).
pub fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER as f64 {
        Value::Int(n as i64)
    } else {
        Value::Float(n)
    }
}

fn timestamp(nanos: i128, which: &Which<'_>) -> Result<Value, JsValue> {
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map(Value::Timestamp)
        .map_err(|e| invalid(which, &format!("timestamp out of range: {e}")))
}

fn invalid(which: &Which<'_>, reason: &str) -> JsValue {
    js_error(&Failure::InvalidArgument(format!(
        "parameter {which}: {reason}"
    )))
}

/// How one statement's parameters bind, worked out once per statement by callers that bind it
/// many times (`execMany`, prepared statements): whether it has `$N` placeholders, and their
/// numbers (read at the first array bound).
pub struct Binder {
    /// The statement has `$N` placeholders.
    pub portable: bool,
    numbers: Option<PortableParams>,
    /// The count of values for which the `$N` were found in order.
    in_order: Option<usize>,
}

impl Binder {
    pub fn new(stmt: &Statement<'_>) -> Self {
        let portable = (1..=stmt.parameter_count())
            .any(|i| stmt.parameter_name(i).is_some_and(is_portable_placeholder));
        Binder {
            portable,
            numbers: None,
            in_order: None,
        }
    }

    /// `None` when the statement's `$N` are `$1, $2, …` in order for `given` values (value `i`
    /// binds parameter `i`), else its numbers checked against `given` as
    /// [`PortableParams::numbers`] checks them. In-order is worked out once per count.
    pub fn out_of_order(
        &mut self,
        stmt: &Statement<'_>,
        given: usize,
    ) -> Result<Option<&[usize]>, JsValue> {
        if self.in_order == Some(given) {
            return Ok(None);
        }
        let params = match &mut self.numbers {
            Some(params) => params,
            slot @ None => slot.insert(PortableParams::new(stmt).map_err(dbconfig_error)?),
        };
        let numbers = params.numbers(given).map_err(dbconfig_error)?;
        if numbers.iter().enumerate().all(|(i, &n)| n == i + 1) {
            self.in_order = Some(given);
            return Ok(None);
        }
        Ok(Some(numbers))
    }
}

/// The statement's column names as JS strings, made once per query rather than once per row.
pub fn column_names(stmt: &Statement<'_>) -> Array {
    stmt.column_names().map(JsValue::from_str).collect()
}

pub fn dbconfig_error(e: dbconfig::Error) -> JsValue {
    js_error(&Failure::Dbconfig(e))
}

/// A SQLite error as the JavaScript error dbconfig throws.
pub fn sqlite(e: rusqlite::Error) -> JsValue {
    dbconfig_error(dbconfig::Error::Sqlite(e))
}
