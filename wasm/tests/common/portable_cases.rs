//! Portable statements and the rows they must give, shared by the native test
//! (`tests/portable/cases.rs` in the root crate: `dbconfig::sqlite::bind` on a rusqlite
//! connection and the `Executor` API on a `SqliteConfig` engine) and the browser test
//! (`wasm/tests/portable.rs`: the wasm `Database` API, parameters passed as a JavaScript caller
//! would). Both assert against the same expected rows, so the two agree.
//!
//! The expected rows follow from SQL semantics and the storage mapping of `dbconfig::value`
//! (booleans as INTEGER 0/1, UUIDs as 36-character lowercase text, timestamps as UTC text
//! `YYYY-MM-DD HH:MM:SS.ffffff+00:00`, JSON as its compact text); `typeof(...)` columns pin the
//! storage class on both sides. Expected values are storage classes only (`Null`, `Int`,
//! `Float`, `Text`, `Bytes`): what a row reads back as.
//!
//! Rules that keep a case meaningful in the browser, where a row is a `{ column: value }`
//! object: column names are distinct and not integer-like (JavaScript orders those keys first);
//! floats have a fraction (JavaScript cannot tell `2.0` from `2`); a timestamp with whole
//! milliseconds is passed as a `Date`, one with microseconds as a `Temporal.ZonedDateTime`.
#![allow(dead_code)]

use dbconfig::value::{Uuid, Value};
use time::macros::{date, datetime};

/// What running a case gives.
#[derive(Debug)]
pub enum Expect {
    /// These rows, in order, each as its columns' values.
    Rows(Vec<Vec<Value>>),
    /// An error: `kind` is the `dbconfig::Error` variant (the wasm error's `kind`), `message` a
    /// part of its message.
    Error {
        kind: &'static str,
        message: &'static str,
    },
}

/// One portable statement.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    /// Run first, as a batch, on a fresh in-memory database (may be empty).
    pub setup: &'static str,
    /// One statement with `$N` placeholders.
    pub sql: &'static str,
    /// `$N` gets `params[N - 1]`.
    pub params: Vec<Value>,
    pub expect: Expect,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn rows(rows: Vec<Vec<Value>>) -> Expect {
    Expect::Rows(rows)
}

const UUID: u128 = 0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8;

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "$2 before $1 binds by the digits, not by position",
            setup: "",
            sql: "SELECT $2 AS a, $1 AS b",
            params: vec![text("first"), text("second")],
            expect: rows(vec![vec![text("second"), text("first")]]),
        },
        Case {
            name: "a repeated $1 binds the same value each time",
            setup: "",
            sql: "SELECT $1 AS a, $1 + $2 AS total, $1 * $1 AS square",
            params: vec![Value::Int(20), Value::Int(22)],
            expect: rows(vec![vec![Value::Int(20), Value::Int(42), Value::Int(400)]]),
        },
        Case {
            name: "out-of-order parameters into a table",
            setup: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, flag INTEGER, score REAL)",
            sql: "INSERT INTO t (score, name, flag) VALUES ($3, $1, $2) \
                  RETURNING id, name, flag, score, typeof(score) AS score_type",
            params: vec![text("ann"), Value::Bool(true), Value::Float(0.5)],
            expect: rows(vec![vec![
                Value::Int(1),
                text("ann"),
                Value::Int(1),
                Value::Float(0.5),
                text("real"),
            ]]),
        },
        Case {
            name: "several rows, in the query's order",
            setup: "CREATE TABLE n (x INTEGER); INSERT INTO n VALUES (1), (2), (3), (4)",
            sql: "SELECT x FROM n WHERE x BETWEEN $1 AND $2 ORDER BY x DESC",
            params: vec![Value::Int(2), Value::Int(3)],
            expect: rows(vec![vec![Value::Int(3)], vec![Value::Int(2)]]),
        },
        Case {
            name: "NULL",
            setup: "",
            sql: "SELECT $1 AS v, typeof($1) AS t, $1 IS NULL AS is_null",
            params: vec![Value::Null],
            expect: rows(vec![vec![Value::Null, text("null"), Value::Int(1)]]),
        },
        Case {
            name: "the empty string is text, not NULL",
            setup: "",
            sql: "SELECT $1 AS v, typeof($1) AS t, length($1) AS n",
            params: vec![text("")],
            expect: rows(vec![vec![text(""), text("text"), Value::Int(0)]]),
        },
        Case {
            // h é l l o ␠ ✓ ␠ 🦀 ␠ ' q ': 13 characters; é is 2 bytes in UTF-8, ✓ 3, 🦀 4.
            name: "unicode text",
            setup: "",
            sql: "SELECT $1 AS v, length($1) AS chars, length(CAST($1 AS BLOB)) AS bytes",
            params: vec![text("héllo ✓ 🦀 'q'")],
            expect: rows(vec![vec![
                text("héllo ✓ 🦀 'q'"),
                Value::Int(13),
                Value::Int(19),
            ]]),
        },
        Case {
            name: "empty bytes are a zero-length BLOB, and bytes keep 0 and 255",
            setup: "",
            sql: "SELECT $1 AS v, typeof($1) AS t, length($1) AS n, $2 AS w, hex($2) AS h",
            params: vec![Value::Bytes(vec![]), Value::Bytes(vec![0, 1, 255])],
            expect: rows(vec![vec![
                Value::Bytes(vec![]),
                text("blob"),
                Value::Int(0),
                Value::Bytes(vec![0, 1, 255]),
                text("0001FF"),
            ]]),
        },
        Case {
            name: "i64 min and max",
            setup: "",
            sql: "SELECT $1 AS lo, $2 AS hi, typeof($2) AS t, $2 - 1 AS below, $1 + $2 AS sum",
            params: vec![Value::Int(i64::MIN), Value::Int(i64::MAX)],
            expect: rows(vec![vec![
                Value::Int(i64::MIN),
                Value::Int(i64::MAX),
                text("integer"),
                Value::Int(i64::MAX - 1),
                Value::Int(-1),
            ]]),
        },
        Case {
            name: "a float",
            setup: "",
            sql: "SELECT $1 AS v, typeof($1) AS t, $1 * 2 AS twice",
            params: vec![Value::Float(-1.25)],
            expect: rows(vec![vec![
                Value::Float(-1.25),
                text("real"),
                Value::Float(-2.5),
            ]]),
        },
        Case {
            name: "booleans are INTEGER 1 and 0",
            setup: "",
            sql: "SELECT $1 AS yes, $2 AS no, typeof($1) AS t",
            params: vec![Value::Bool(true), Value::Bool(false)],
            expect: rows(vec![vec![Value::Int(1), Value::Int(0), text("integer")]]),
        },
        Case {
            name: "a UUID is its 36-character lowercase text",
            setup: "CREATE TABLE u (id TEXT PRIMARY KEY)",
            sql: "INSERT INTO u (id) VALUES ($1) RETURNING id, length(id) AS n, typeof(id) AS t",
            params: vec![Value::Uuid(Uuid::from_u128(UUID))],
            expect: rows(vec![vec![
                text("67e55044-10b1-426f-9247-bb680e5fe0c8"),
                Value::Int(36),
                text("text"),
            ]]),
        },
        Case {
            // 03:59:58.123456 at +05:30 on 1 March is 22:29:58.123456 UTC on 29 February.
            name: "a timestamp with microseconds and a +05:30 offset reads back as UTC text",
            setup: "",
            sql: "SELECT $1 AS ts, typeof($1) AS t",
            params: vec![Value::Timestamp(
                datetime!(2024-03-01 03:59:58.123456 +05:30),
            )],
            expect: rows(vec![vec![
                text("2024-02-29 22:29:58.123456+00:00"),
                text("text"),
            ]]),
        },
        Case {
            // 19:00:00.5 at -05:00 on 31 December 1999 is midnight and a half second, UTC.
            name: "a timestamp with milliseconds and a -05:00 offset (a JavaScript Date)",
            setup: "",
            sql: "SELECT $1 AS ts, $1 > '1999-12-31 23:59:59' AS after",
            params: vec![Value::Timestamp(datetime!(1999-12-31 19:00:00.5 -05:00))],
            expect: rows(vec![vec![
                text("2000-01-01 00:00:00.500000+00:00"),
                Value::Int(1),
            ]]),
        },
        Case {
            name: "a date is YYYY-MM-DD text",
            setup: "",
            sql: "SELECT $1 AS d, date($1, '+1 day') AS next",
            params: vec![Value::Date(date!(2024 - 02 - 29))],
            expect: rows(vec![vec![text("2024-02-29"), text("2024-03-01")]]),
        },
        Case {
            name: "JSON is its compact text, and SQLite's JSON functions read it",
            setup: "",
            sql: "SELECT $1 AS doc, json_extract($1, '$.b[2]') AS x, \
                  json_type($1, '$.c.d') AS t, json_valid($1) AS ok",
            params: vec![Value::Json(
                serde_json::json!({"a": 1, "b": [true, null, "x"], "c": {"d": 1.5}}),
            )],
            expect: rows(vec![vec![
                text(r#"{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}"#),
                text("x"),
                text("real"),
                Value::Int(1),
            ]]),
        },
        Case {
            name: "mixing ? and $1 is refused",
            setup: "",
            sql: "SELECT ? AS a, $1 AS b",
            params: vec![Value::Int(1)],
            expect: Expect::Error {
                kind: "Placeholders",
                message: "mixes `?` and `$N` placeholders",
            },
        },
        Case {
            name: "a $N past the parameters given is refused",
            setup: "",
            sql: "SELECT $1 AS a, $3 AS c",
            params: vec![Value::Int(1), Value::Int(2)],
            expect: Expect::Error {
                kind: "Placeholders",
                message: "the statement uses $3, 2 parameter(s) were given",
            },
        },
        Case {
            name: "NaN is refused (SQLite would store NULL)",
            setup: "",
            sql: "SELECT $1 AS v",
            params: vec![Value::Float(f64::NAN)],
            expect: Expect::Error {
                kind: "Encode",
                message: "parameter $1: NaN is not stored portably",
            },
        },
    ]
}
