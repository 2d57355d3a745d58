//! [`ColumnType`] and its string form (`"varchar(255)"`, `"numeric(10,2)"`, `"enum:state"`).

use std::fmt;
use std::str::FromStr;

use super::SchemaError;

/// A column's type, portable across dialects. The SQL each dialect gets is documented in
/// [`crate::schema::ddl`]'s type-mapping table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// 32-bit integer.
    Integer,
    /// 64-bit integer.
    BigInt,
    /// 16-bit integer.
    SmallInt,
    /// 32-bit float.
    Real,
    /// 64-bit float.
    Double,
    /// Exact decimal with `precision` digits, `scale` after the point.
    Numeric {
        /// Total digits.
        precision: u16,
        /// Digits after the point.
        scale: u16,
    },
    /// Text of any length.
    Text,
    /// Text of at most this many characters.
    Varchar(u32),
    /// `varchar` without a length: text of any length (PostgreSQL `character varying`, SQLite
    /// `VARCHAR`), for schemas that spell it so.
    VarcharUnbounded,
    /// True/false.
    Boolean,
    /// Binary data.
    Bytes,
    /// A UUID.
    Uuid,
    /// JSON text.
    Json,
    /// Binary JSON (PostgreSQL `jsonb`).
    Jsonb,
    /// Calendar date.
    Date,
    /// Time of day.
    Time,
    /// Date and time without a time zone.
    Timestamp,
    /// Date and time with a time zone.
    TimestampTz,
    /// A duration.
    Interval,
    /// One of the labels of the named [`EnumType`](super::EnumType).
    Enum(String),
}

const EXPECTED: &str = "integer, bigint, smallint, real, double, numeric(p,s), text, varchar, varchar(n), \
                        boolean, bytes, uuid, json, jsonb, date, time, timestamp, timestamptz, \
                        interval or enum:<name>";

impl FromStr for ColumnType {
    type Err = SchemaError;

    /// Parses the string form, case-insensitively (the enum name after `enum:` is kept as is).
    fn from_str(s: &str) -> Result<Self, SchemaError> {
        if let Some(name) = s.strip_prefix("enum:") {
            return Ok(ColumnType::Enum(name.to_owned()));
        }
        let lower = s.trim().to_ascii_lowercase();
        let bad = || SchemaError::InvalidType {
            value: s.chars().take(100).collect(),
            expected: EXPECTED,
        };
        let args = |prefix: &str| -> Option<Vec<u32>> {
            let inner = lower.strip_prefix(prefix)?.trim().strip_prefix('(')?;
            let inner = inner.strip_suffix(')')?;
            inner.split(',').map(|p| p.trim().parse().ok()).collect()
        };
        Ok(match lower.as_str() {
            "integer" | "int" => ColumnType::Integer,
            "bigint" => ColumnType::BigInt,
            "smallint" => ColumnType::SmallInt,
            "real" | "float" => ColumnType::Real,
            "double" => ColumnType::Double,
            "text" => ColumnType::Text,
            "varchar" => ColumnType::VarcharUnbounded,
            "boolean" | "bool" => ColumnType::Boolean,
            "bytes" | "blob" | "bytea" => ColumnType::Bytes,
            "uuid" => ColumnType::Uuid,
            "json" => ColumnType::Json,
            "jsonb" => ColumnType::Jsonb,
            "date" => ColumnType::Date,
            "time" => ColumnType::Time,
            "timestamp" => ColumnType::Timestamp,
            "timestamptz" => ColumnType::TimestampTz,
            "interval" => ColumnType::Interval,
            _ if lower.starts_with("varchar") => match args("varchar").as_deref() {
                Some([n]) if *n > 0 => ColumnType::Varchar(*n),
                _ => return Err(bad()),
            },
            _ if lower.starts_with("numeric") => match args("numeric").as_deref() {
                Some([p, s]) if *p > 0 && s <= p && *p <= 1000 => ColumnType::Numeric {
                    precision: *p as u16,
                    scale: *s as u16,
                },
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        })
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Integer => f.write_str("integer"),
            ColumnType::BigInt => f.write_str("bigint"),
            ColumnType::SmallInt => f.write_str("smallint"),
            ColumnType::Real => f.write_str("real"),
            ColumnType::Double => f.write_str("double"),
            ColumnType::Numeric { precision, scale } => write!(f, "numeric({precision},{scale})"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::Varchar(n) => write!(f, "varchar({n})"),
            ColumnType::VarcharUnbounded => f.write_str("varchar"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Bytes => f.write_str("bytes"),
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Json => f.write_str("json"),
            ColumnType::Jsonb => f.write_str("jsonb"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Time => f.write_str("time"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::TimestampTz => f.write_str("timestamptz"),
            ColumnType::Interval => f.write_str("interval"),
            ColumnType::Enum(name) => write!(f, "enum:{name}"),
        }
    }
}

impl ColumnType {
    /// True for the integer types (the only ones that can be an identity column).
    #[must_use]
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            ColumnType::Integer | ColumnType::BigInt | ColumnType::SmallInt
        )
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ColumnType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ColumnType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_form_round_trips() {
        for text in [
            "integer",
            "bigint",
            "smallint",
            "real",
            "double",
            "numeric(10,2)",
            "text",
            "varchar(255)",
            "varchar",
            "boolean",
            "bytes",
            "uuid",
            "json",
            "jsonb",
            "date",
            "time",
            "timestamp",
            "timestamptz",
            "interval",
            "enum:State Type",
        ] {
            let ty: ColumnType = text.parse().unwrap();
            assert_eq!(ty.to_string(), text);
        }
        assert_eq!(
            "NUMERIC( 5 , 0 )".parse::<ColumnType>().unwrap(),
            ColumnType::Numeric {
                precision: 5,
                scale: 0
            }
        );
        for bad in [
            "varchar()",
            "varchar(0)",
            "numeric(2,3)",
            "numeric(1)",
            "string",
            "",
        ] {
            assert!(bad.parse::<ColumnType>().is_err(), "{bad}");
        }
    }
}
