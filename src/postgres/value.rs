//! [`Value`] on the wire: encoded for the type PostgreSQL inferred for each parameter, decoded
//! from each column's type.

use std::error::Error as StdError;

use bytes::BytesMut;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

use crate::value::{ToValue, Value, text};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A parameter failed to encode: carried through tokio-postgres's error so that it comes back as
/// [`Error::Encode`](crate::Error::Encode) naming the parameter.
#[derive(Debug)]
pub(super) struct EncodeError {
    pub(super) parameter: usize,
    pub(super) reason: String,
}

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "parameter ${}: {}", self.parameter, self.reason)
    }
}

impl StdError for EncodeError {}

/// A portable parameter bound as `$parameter`: converted to a [`Value`] when tokio-postgres
/// encodes it, for the type the server inferred (no copy of the parameter list beforehand).
pub(super) struct Param<'a> {
    pub(super) parameter: usize,
    pub(super) value: &'a (dyn ToValue + Sync),
}

impl std::fmt::Debug for Param<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${} = {:?}", self.parameter, self.value.to_value())
    }
}

/// Text-like types a text value (or a number's or UUID's text form) binds to.
fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    ) || matches!(ty.kind(), Kind::Enum(_))
        || ty.name() == "citext"
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        encode(&self.value.to_value(), ty, out).map_err(|reason| -> BoxError {
            Box::new(EncodeError {
                parameter: self.parameter,
                reason,
            })
        })
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn put_text(s: &str, out: &mut BytesMut) -> Result<IsNull, String> {
    out.extend_from_slice(s.as_bytes());
    Ok(IsNull::No)
}

fn driver<T: ToSql>(v: &T, ty: &Type, out: &mut BytesMut) -> Result<IsNull, String> {
    v.to_sql(ty, out).map_err(|e| e.to_string())
}

fn encode(value: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, String> {
    let refuse = || {
        Err(format!(
            "a {} does not bind to a parameter of type {}",
            value.kind(),
            ty.name()
        ))
    };
    let range = |i: i64| format!("{i} is out of range for {}", ty.name());
    match value {
        Value::Null => Ok(IsNull::Yes),
        Value::Bool(b) => match *ty {
            Type::BOOL => driver(b, ty, out),
            _ if is_text(ty) => put_text(if *b { "true" } else { "false" }, out),
            _ => refuse(),
        },
        Value::Int(i) => match *ty {
            Type::INT8 => driver(i, ty, out),
            Type::INT4 => driver(&i32::try_from(*i).map_err(|_| range(*i))?, ty, out),
            Type::INT2 => driver(&i16::try_from(*i).map_err(|_| range(*i))?, ty, out),
            Type::OID => driver(&u32::try_from(*i).map_err(|_| range(*i))?, ty, out),
            #[allow(clippy::cast_precision_loss)]
            Type::FLOAT8 => driver(&(*i as f64), ty, out),
            #[allow(clippy::cast_precision_loss)]
            Type::FLOAT4 => driver(&(*i as f32), ty, out),
            Type::NUMERIC => {
                numeric_from_i64(*i, out);
                Ok(IsNull::No)
            }
            _ if is_text(ty) => put_text(&i.to_string(), out),
            _ => refuse(),
        },
        Value::Float(f) if f.is_nan() => Err(
            "NaN is not stored portably (SQLite would store NULL); bind NULL or an infinity instead"
                .into(),
        ),
        Value::Float(f) => match *ty {
            Type::FLOAT8 => driver(f, ty, out),
            #[allow(clippy::cast_possible_truncation)]
            Type::FLOAT4 => {
                let narrowed = *f as f32;
                if narrowed.is_infinite() && f.is_finite() {
                    return Err(format!("{f} is out of range for real"));
                }
                driver(&narrowed, ty, out)
            }
            _ if is_text(ty) => put_text(&f.to_string(), out),
            _ => refuse(),
        },
        Value::Text(s) => match *ty {
            _ if is_text(ty) => put_text(s, out),
            Type::UUID => driver(
                &uuid::Uuid::try_parse(s).map_err(|e| format!("the text is not a uuid: {e}"))?,
                ty,
                out,
            ),
            Type::JSON => put_text(s, out),
            Type::JSONB => {
                out.extend_from_slice(&[1]);
                put_text(s, out)
            }
            Type::TIMESTAMPTZ | Type::TIMESTAMP => {
                encode(&Value::Timestamp(text::parse_timestamp(s)?), ty, out)
            }
            Type::DATE => encode(&Value::Date(text::parse_date(s)?), ty, out),
            _ => refuse(),
        },
        Value::Bytes(b) => match *ty {
            Type::BYTEA => driver(b, ty, out),
            _ => refuse(),
        },
        Value::Uuid(u) => match *ty {
            Type::UUID => driver(u, ty, out),
            _ if is_text(ty) => put_text(&u.hyphenated().to_string(), out),
            _ => refuse(),
        },
        Value::Json(j) => match *ty {
            Type::JSON | Type::JSONB => driver(j, ty, out),
            _ if is_text(ty) => put_text(&j.to_string(), out),
            _ => refuse(),
        },
        Value::Timestamp(t) => match *ty {
            Type::TIMESTAMPTZ => driver(t, ty, out),
            Type::TIMESTAMP => {
                let utc = t.to_offset(UtcOffset::UTC);
                driver(&PrimitiveDateTime::new(utc.date(), utc.time()), ty, out)
            }
            _ if is_text(ty) => put_text(&text::format_timestamp(*t)?, out),
            _ => refuse(),
        },
        Value::Date(d) => match *ty {
            Type::DATE => driver(d, ty, out),
            _ if is_text(ty) => put_text(&text::format_date(*d)?, out),
            _ => refuse(),
        },
    }
}

/// PostgreSQL's binary `numeric` for an integer: base-10000 digits, most significant first.
fn numeric_from_i64(i: i64, out: &mut BytesMut) {
    let mut magnitude = i.unsigned_abs();
    let mut digits = Vec::new();
    while magnitude > 0 {
        digits.push((magnitude % 10_000) as i16);
        magnitude /= 10_000;
    }
    digits.reverse();
    let ndigits = digits.len() as i16;
    let weight = ndigits - 1;
    let sign: u16 = if i < 0 { 0x4000 } else { 0 };
    out.extend_from_slice(&ndigits.to_be_bytes());
    out.extend_from_slice(&weight.max(0).to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

/// PostgreSQL's binary `numeric` as decimal text (`"-12.50"`, `"NaN"`, `"Infinity"`).
fn numeric_to_text(raw: &[u8]) -> Result<String, BoxError> {
    let word = |at: usize| -> Result<i16, BoxError> {
        raw.get(at..at + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".into())
    };
    let ndigits = usize::try_from(word(0)?).map_err(|_| "bad numeric")?;
    let weight = i32::from(word(2)?);
    let sign = word(4)? as u16;
    let dscale = usize::try_from(word(6)?).map_err(|_| "bad numeric")?;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits = (0..ndigits)
        .map(|k| word(8 + 2 * k))
        .collect::<Result<Vec<_>, _>>()?;
    let digit = |k: i32| -> i16 {
        usize::try_from(k)
            .ok()
            .and_then(|k| digits.get(k).copied())
            .unwrap_or(0)
    };
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    if weight < 0 {
        s.push('0');
    } else {
        for k in 0..=weight {
            let d = digit(k);
            if k == 0 {
                s.push_str(&d.to_string());
            } else {
                s.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        s.push('.');
        let mut fraction = String::new();
        let mut k = weight + 1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", digit(k)));
            k += 1;
        }
        fraction.truncate(dscale);
        s.push_str(&fraction);
    }
    Ok(s)
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(match *ty {
            Type::BOOL => Value::Bool(bool::from_sql(ty, raw)?),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
            Type::CHAR => Value::Int(i8::from_sql(ty, raw)?.into()),
            Type::FLOAT4 => Value::Float(f32::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => Value::Float(f64::from_sql(ty, raw)?),
            Type::BYTEA => Value::Bytes(raw.to_vec()),
            Type::UUID => Value::Uuid(uuid::Uuid::from_sql(ty, raw)?),
            Type::JSON | Type::JSONB => Value::Json(serde_json::Value::from_sql(ty, raw)?),
            Type::TIMESTAMPTZ => Value::Timestamp(OffsetDateTime::from_sql(ty, raw)?),
            Type::TIMESTAMP => Value::Timestamp(PrimitiveDateTime::from_sql(ty, raw)?.assume_utc()),
            Type::DATE => Value::Date(time::Date::from_sql(ty, raw)?),
            Type::NUMERIC => Value::Text(numeric_to_text(raw)?),
            _ if is_text(ty) => Value::Text(std::str::from_utf8(raw)?.to_owned()),
            _ => {
                return Err(format!(
                    "the portable API does not read {}; cast it in SQL (e.g. `::text`)",
                    ty.name()
                )
                .into());
            }
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_round_trips_through_text() {
        for i in [0i64, 1, -1, 9_999, 10_000, -123_456_789, i64::MAX, i64::MIN] {
            let mut out = BytesMut::new();
            numeric_from_i64(i, &mut out);
            assert_eq!(numeric_to_text(&out).unwrap(), i.to_string(), "{i}");
        }
    }
}
