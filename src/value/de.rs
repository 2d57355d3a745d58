//! `Row::deserialize`: a row into any `serde::Deserialize` struct, column names as field names.
//!
//! Values go to serde as their natural forms: integers, floats, strings, bytes (as a sequence for
//! `Vec<u8>`), UUIDs as hyphenated strings (what `uuid`'s serde support reads), timestamps as the
//! text SQLite stores on both backends (`YYYY-MM-DD HH:MM:SS.ffffff+00:00`; read them into an
//! `OffsetDateTime` with `#[serde(deserialize_with = "dbconfig::value::serde_helpers::timestamp")]`
//! or `timestamp_opt`), dates as `YYYY-MM-DD`. SQLite's 0/1 reads into `bool`; JSON (native on
//! PostgreSQL, text on SQLite) reads into any nested serde type.

use std::cell::RefCell;
use std::fmt;

use serde::de::value::SeqDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::{Row, Value, text};
use crate::error::{Error, Result};

/// A deserialization failure; the row adds the column.
#[derive(Debug)]
pub(super) struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

impl Row {
    /// The row as a `T`, each field read from the column of the same name (see the module
    /// docs of `value::de` for the forms values take).
    ///
    /// # Errors
    /// [`Error::Decode`] naming the column that did not fit (or `"<row>"` for a missing field).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        let values = self.values()?;
        let names = self.column_names();
        let current = RefCell::new(None::<usize>);
        let access = RowAccess {
            names: &names,
            values: &values,
            next: 0,
            current: &current,
        };
        T::deserialize(RowDeserializer(RefCell::new(Some(access)))).map_err(|e| {
            let at = *current.borrow();
            Error::Decode {
                column: at.map_or_else(|| "<row>".to_owned(), |i| names[i].to_owned()),
                rust_type: std::any::type_name::<T>(),
                found: at.map_or_else(|| "row".to_owned(), |i| values[i].kind().to_owned()),
                reason: e.0,
            }
        })
    }
}

struct RowAccess<'a> {
    names: &'a [&'a str],
    values: &'a [Value],
    next: usize,
    current: &'a RefCell<Option<usize>>,
}

struct RowDeserializer<'a>(RefCell<Option<RowAccess<'a>>>);

impl<'de> de::Deserializer<'de> for RowDeserializer<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.into_inner() {
            Some(access) => visitor.visit_map(access),
            None => Err(DeError("the row was read twice".into())),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for RowAccess<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        if self.next >= self.names.len() {
            *self.current.borrow_mut() = None;
            return Ok(None);
        }
        *self.current.borrow_mut() = Some(self.next);
        let name: &str = self.names[self.next];
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let value = &self.values[self.next];
        self.next += 1;
        seed.deserialize(ValueDeserializer(value))
    }
}

/// One value, as serde sees it.
struct ValueDeserializer<'a>(&'a Value);

fn json_error(e: serde_json::Error) -> DeError {
    DeError(e.to_string())
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Text(s) => visitor.visit_str(s),
            Value::Bytes(b) => visitor.visit_bytes(b),
            Value::Uuid(u) => visitor.visit_str(&u.hyphenated().to_string()),
            Value::Json(j) => {
                de::Deserializer::deserialize_any(j.clone(), visitor).map_err(json_error)
            }
            Value::Timestamp(t) => visitor.visit_str(&text::format_timestamp(*t).map_err(DeError)?),
            Value::Date(d) => visitor.visit_str(&text::format_date(*d).map_err(DeError)?),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Int(0) => visitor.visit_bool(false),
            Value::Int(1) => visitor.visit_bool(true),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Bytes(b) => visitor.visit_seq(SeqDeserializer::new(b.iter().copied())),
            _ => self.structured(visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.structured(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.structured(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct tuple tuple_struct enum identifier ignored_any
    }
}

impl ValueDeserializer<'_> {
    /// A map, struct or sequence: from JSON (native, or text holding a document).
    fn structured<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Text(s) => {
                let document: serde_json::Value = serde_json::from_str(s).map_err(json_error)?;
                de::Deserializer::deserialize_any(document, visitor).map_err(json_error)
            }
            _ => de::Deserializer::deserialize_any(self, visitor),
        }
    }
}

/// `deserialize_with` helpers for [`Row::deserialize`](super::Row::deserialize).
pub mod serde_helpers {
    use serde::{Deserialize, Deserializer};
    use time::OffsetDateTime;

    use super::text;

    /// An `OffsetDateTime` field from a timestamp column (either backend's text form, or any
    /// ISO-8601 text).
    ///
    /// # Errors
    /// The text is not a timestamp.
    pub fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = String::deserialize(d)?;
        text::parse_timestamp(&s).map_err(serde::de::Error::custom)
    }

    /// An `Option<OffsetDateTime>` field from a nullable timestamp column.
    ///
    /// # Errors
    /// The text is not a timestamp.
    pub fn timestamp_opt<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| text::parse_timestamp(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}
