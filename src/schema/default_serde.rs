//! The serde form of a [`ColumnDefault`]: `"current_timestamp"`, `{"value": …}`,
//! `{"expr": "…"}`, or `{"sqlite": …, "postgresql": …}`.
//!
//! Written by hand rather than derived: the per-dialect form is a map keyed by dialect, not a
//! tagged variant, and a mistake gets a message that lists the forms (an untagged enum would only
//! say that nothing matched).

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ColumnDefault, Literal};

const FORMS: &str = "\"current_timestamp\", {\"value\": …}, {\"expr\": \"…\"} or \
                     {\"sqlite\": …, \"postgresql\": …}";
const KEYS: &[&str] = &["value", "expr", "sqlite", "postgresql"];

impl Serialize for ColumnDefault {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ColumnDefault::CurrentTimestamp => serializer.serialize_str("current_timestamp"),
            ColumnDefault::Value(literal) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("value", literal)?;
                map.end()
            }
            ColumnDefault::Expr(sql) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("expr", sql)?;
                map.end()
            }
            ColumnDefault::PerDialect { sqlite, postgres } => {
                let mut map = serializer.serialize_map(None)?;
                if let Some(d) = sqlite {
                    map.serialize_entry("sqlite", d)?;
                }
                if let Some(d) = postgres {
                    map.serialize_entry("postgresql", d)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ColumnDefault {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DefaultVisitor)
    }
}

struct DefaultVisitor;

impl<'de> Visitor<'de> for DefaultVisitor {
    type Value = ColumnDefault;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a column default: {FORMS}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v == "current_timestamp" {
            Ok(ColumnDefault::CurrentTimestamp)
        } else {
            Err(E::custom(format_args!(
                "unknown column default {v:?}: expected {FORMS}"
            )))
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom(format_args!(
                "an empty column default: expected {FORMS}"
            )));
        };
        let single = |map: &mut A, default: ColumnDefault| -> Result<ColumnDefault, A::Error> {
            match map.next_key::<String>()? {
                None => Ok(default),
                Some(other) => Err(de::Error::custom(format_args!(
                    "a column default has one form, not {key:?} and {other:?}: expected {FORMS}"
                ))),
            }
        };
        match key.as_str() {
            "value" => {
                let literal: Literal = map.next_value()?;
                single(&mut map, ColumnDefault::Value(literal))
            }
            "expr" => {
                let sql: String = map.next_value()?;
                single(&mut map, ColumnDefault::Expr(sql))
            }
            "sqlite" | "postgresql" => {
                let (mut sqlite, mut postgres) = (None, None);
                let mut next = Some(key);
                while let Some(key) = next {
                    let slot = match key.as_str() {
                        "sqlite" => &mut sqlite,
                        "postgresql" => &mut postgres,
                        _ => {
                            return Err(de::Error::custom(format_args!(
                                "a per-dialect column default takes the keys \"sqlite\" and \
                                 \"postgresql\", not {key:?}"
                            )));
                        }
                    };
                    if slot.is_some() {
                        return Err(de::Error::duplicate_field("dialect default"));
                    }
                    *slot = Some(map.next_value::<Option<ColumnDefault>>()?);
                    next = map.next_key::<String>()?;
                }
                Ok(ColumnDefault::per_dialect(
                    sqlite.flatten(),
                    postgres.flatten(),
                ))
            }
            other => Err(de::Error::unknown_field(other, KEYS)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ColumnDefault, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn every_form_round_trips() {
        for (json, default) in [
            (r#""current_timestamp""#, ColumnDefault::CurrentTimestamp),
            (
                r#"{"value":"x"}"#,
                ColumnDefault::Value(Literal::Text("x".into())),
            ),
            (r#"{"value":null}"#, ColumnDefault::Value(Literal::Null)),
            (r#"{"expr":"1 + 1"}"#, ColumnDefault::Expr("1 + 1".into())),
            (
                r#"{"sqlite":{"expr":"lower(hex(randomblob(16)))"},"postgresql":{"expr":"gen_random_uuid()"}}"#,
                ColumnDefault::per_dialect(
                    Some(ColumnDefault::Expr("lower(hex(randomblob(16)))".into())),
                    Some(ColumnDefault::Expr("gen_random_uuid()".into())),
                ),
            ),
            (
                r#"{"postgresql":"current_timestamp"}"#,
                ColumnDefault::per_dialect(None, Some(ColumnDefault::CurrentTimestamp)),
            ),
        ] {
            assert_eq!(parse(json).as_ref(), Ok(&default), "{json}");
            assert_eq!(serde_json::to_string(&default).unwrap(), json);
        }
        // `null` for a dialect is the same as leaving it out.
        assert_eq!(
            parse(r#"{"sqlite": null, "postgresql": {"value": 1}}"#),
            Ok(ColumnDefault::per_dialect(
                None,
                Some(ColumnDefault::Value(Literal::Int(1)))
            ))
        );
    }

    #[test]
    fn mistakes_name_the_forms() {
        for (json, needle) in [
            (r#""now""#, "unknown column default \"now\""),
            (r#"{}"#, "an empty column default"),
            (
                r#"{"value": 1, "expr": "2"}"#,
                "one form, not \"value\" and \"expr\"",
            ),
            (
                r#"{"sqlite": {"value": 1}, "mysql": {"value": 1}}"#,
                "not \"mysql\"",
            ),
            (
                r#"{"sqlite": {"value": 1}, "sqlite": {"value": 2}}"#,
                "duplicate field",
            ),
            (r#"{"default": 1}"#, "unknown field `default`"),
        ] {
            let err = parse(json).unwrap_err();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}
