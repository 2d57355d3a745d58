//! [`ToValue`] and [`FromValue`] for the types the portable API supports.

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{Value, text};

/// A Rust value that can be bound as a statement parameter.
pub trait ToValue {
    /// The value to bind.
    fn to_value(&self) -> Value;
}

/// A Rust value that can be read from a column. `found` errors name the stored kind; the caller
/// adds the column.
pub trait FromValue: Sized {
    /// The Rust type's name in error messages (`"i64"`, `"Option<String>"`…).
    const RUST_TYPE: &'static str;

    /// Converts `value`, or says why it cannot.
    ///
    /// # Errors
    /// A message naming what did not fit (the caller names the column and types).
    fn from_value(value: &Value) -> Result<Self, String>;

    /// Converts an owned `value` (a row's column, already copied out): types that hold text or
    /// bytes take them over instead of copying them again.
    ///
    /// # Errors
    /// As [`from_value`](Self::from_value).
    fn from_owned(value: Value) -> Result<Self, String> {
        Self::from_value(&value)
    }
}

/// JSON through serde: `Json(my_struct)` binds as a JSON document; `row.get::<Json<T>>(…)`
/// reads one back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

macro_rules! to_value {
    ($($ty:ty => |$v:ident| $e:expr;)*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value {
                let $v = self;
                $e
            }
        }
    )*};
}

to_value! {
    bool => |v| Value::Bool(*v);
    i8 => |v| Value::Int(i64::from(*v));
    i16 => |v| Value::Int(i64::from(*v));
    i32 => |v| Value::Int(i64::from(*v));
    i64 => |v| Value::Int(*v);
    u8 => |v| Value::Int(i64::from(*v));
    u16 => |v| Value::Int(i64::from(*v));
    u32 => |v| Value::Int(i64::from(*v));
    f32 => |v| Value::Float(f64::from(*v));
    f64 => |v| Value::Float(*v);
    str => |v| Value::Text(v.to_owned());
    String => |v| Value::Text(v.clone());
    [u8] => |v| Value::Bytes(v.to_vec());
    Vec<u8> => |v| Value::Bytes(v.clone());
    Uuid => |v| Value::Uuid(*v);
    serde_json::Value => |v| Value::Json(v.clone());
    OffsetDateTime => |v| Value::Timestamp(*v);
    Date => |v| Value::Date(*v);
}

impl<const N: usize> ToValue for [u8; N] {
    fn to_value(&self) -> Value {
        Value::Bytes(self.to_vec())
    }
}

impl<T: Serialize> ToValue for Json<T> {
    /// A value that does not serialize (a map with non-string keys…) binds as JSON `null`;
    /// serialize it yourself to see the error.
    fn to_value(&self) -> Value {
        Value::Json(serde_json::to_value(&self.0).unwrap_or(serde_json::Value::Null))
    }
}

fn mismatch<T>(value: &Value) -> Result<T, String> {
    Err(format!("a stored {} does not convert", value.kind()))
}

impl FromValue for Value {
    const RUST_TYPE: &'static str = "Value";

    fn from_value(value: &Value) -> Result<Self, String> {
        Ok(value.clone())
    }

    fn from_owned(value: Value) -> Result<Self, String> {
        Ok(value)
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const RUST_TYPE: &'static str = "Option<_>";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }

    fn from_owned(value: Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_owned(v).map(Some),
        }
    }
}

impl FromValue for bool {
    const RUST_TYPE: &'static str = "bool";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Bool(b) => Ok(*b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            Value::Int(i) => Err(format!("the integer {i} is not 0 or 1")),
            v => mismatch(v),
        }
    }
}

macro_rules! from_int {
    ($($ty:ty),*) => {$(
        impl FromValue for $ty {
            const RUST_TYPE: &'static str = stringify!($ty);

            fn from_value(value: &Value) -> Result<Self, String> {
                match value {
                    Value::Int(i) => <$ty>::try_from(*i)
                        .map_err(|_| format!("{i} is out of range for {}", stringify!($ty))),
                    v => mismatch(v),
                }
            }
        }
    )*};
}

from_int!(i8, i16, i32, u8, u16, u32, u64);

impl FromValue for i64 {
    const RUST_TYPE: &'static str = "i64";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(i) => Ok(*i),
            v => mismatch(v),
        }
    }
}

/// The largest integer magnitude an `f64` holds exactly.
const F64_EXACT: i64 = 1 << 53;

impl FromValue for f64 {
    const RUST_TYPE: &'static str = "f64";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Float(f) => Ok(*f),
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) if i.abs() <= F64_EXACT => Ok(*i as f64),
            Value::Int(i) => Err(format!("{i} has no exact f64")),
            v => mismatch(v),
        }
    }
}

impl FromValue for f32 {
    const RUST_TYPE: &'static str = "f32";

    fn from_value(value: &Value) -> Result<Self, String> {
        let f = f64::from_value(value)?;
        #[allow(clippy::cast_possible_truncation)]
        let narrowed = f as f32;
        if f64::from(narrowed) == f || f.is_nan() {
            Ok(narrowed)
        } else {
            Err(format!("{f} has no exact f32"))
        }
    }
}

impl FromValue for String {
    const RUST_TYPE: &'static str = "String";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            v => mismatch(v),
        }
    }

    fn from_owned(value: Value) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s),
            v => mismatch(&v),
        }
    }
}

impl FromValue for Vec<u8> {
    const RUST_TYPE: &'static str = "Vec<u8>";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Bytes(b) => Ok(b.clone()),
            v => mismatch(v),
        }
    }

    fn from_owned(value: Value) -> Result<Self, String> {
        match value {
            Value::Bytes(b) => Ok(b),
            v => mismatch(&v),
        }
    }
}

impl FromValue for Uuid {
    const RUST_TYPE: &'static str = "Uuid";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Uuid(u) => Ok(*u),
            Value::Text(s) => {
                Uuid::try_parse(s).map_err(|e| format!("the text is not a uuid: {e}"))
            }
            Value::Bytes(b) => {
                Uuid::from_slice(b).map_err(|_| format!("{} bytes are not a uuid", b.len()))
            }
            v => mismatch(v),
        }
    }
}

impl FromValue for serde_json::Value {
    const RUST_TYPE: &'static str = "serde_json::Value";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Json(j) => Ok(j.clone()),
            // SQLite's JSON columns have NUMERIC affinity: a document that is a number is stored
            // as one.
            Value::Int(i) => Ok(serde_json::Value::from(*i)),
            Value::Float(f) => Ok(serde_json::Value::from(*f)),
            Value::Text(s) => {
                serde_json::from_str(s).map_err(|e| format!("the text is not json: {e}"))
            }
            v => mismatch(v),
        }
    }
}

impl<T: DeserializeOwned> FromValue for Json<T> {
    const RUST_TYPE: &'static str = "Json<_>";

    fn from_value(value: &Value) -> Result<Self, String> {
        let document = serde_json::Value::from_value(value)?;
        serde_json::from_value(document)
            .map(Json)
            .map_err(|e| format!("the json does not deserialize: {e}"))
    }
}

impl FromValue for OffsetDateTime {
    const RUST_TYPE: &'static str = "OffsetDateTime";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Timestamp(t) => Ok(*t),
            Value::Text(s) => text::parse_timestamp(s),
            v => mismatch(v),
        }
    }
}

impl FromValue for Date {
    const RUST_TYPE: &'static str = "Date";

    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Date(d) => Ok(*d),
            Value::Text(s) => text::parse_date(s),
            v => mismatch(v),
        }
    }
}
