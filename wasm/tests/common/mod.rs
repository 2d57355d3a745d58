//! Tests shared by the main-thread and the worker test binaries.
#![allow(dead_code)]

use dbconfig_wasm::Database;
use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

pub const EXAMPLE_SCHEMA: &str = include_str!("../../../examples/schema/orchestrator.json");

pub fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

pub fn kind(error: &JsValue) -> String {
    get(error, "kind").as_string().unwrap_or_default()
}

pub fn message(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default()
}

pub fn array(values: &[JsValue]) -> JsValue {
    values.iter().collect::<Array>().into()
}

pub async fn memory() -> Database {
    Database::open(None, JsValue::UNDEFINED).await.unwrap()
}

/// The PRAGMAs in effect equal native dbconfig's defaults for an in-memory database.
pub async fn pragmas_equal_native_defaults() {
    let db = memory().await;
    let p = db.pragmas().unwrap();
    let expect = [
        // Native in-memory databases report `memory` too (WAL needs a file).
        ("journal_mode", "memory"),
        ("foreign_keys", "1"),
        ("legacy_alter_table", "0"),
        ("synchronous", "1"),
        ("cache_size", "20000"),
        ("busy_timeout", "60000"),
    ];
    for (name, value) in expect {
        assert_eq!(get(&p, name).as_string().as_deref(), Some(value), "{name}");
    }
    assert!(db.is_inmemory());
}

/// `transaction(true)` is BEGIN IMMEDIATE (write lock at once); `transaction(false)` is BEGIN
/// DEFERRED (no lock until the first read), as on native.
pub async fn begin_modes_match_native() {
    let db = memory().await;
    db.exec("CREATE TABLE t (x)", JsValue::UNDEFINED).unwrap();
    let mut tx = db.transaction(true).unwrap();
    assert_eq!(tx.began_with(), "BEGIN IMMEDIATE");
    assert_eq!(tx.state().unwrap(), "write");
    tx.exec("INSERT INTO t VALUES (1)", JsValue::UNDEFINED)
        .unwrap();
    // Only one transaction at a time.
    let nested = db.transaction(false).err().unwrap();
    assert_eq!(kind(&nested), "TransactionOpen");
    tx.commit().unwrap();
    // Used after commit: the native message.
    let done = tx.exec("SELECT 1", JsValue::UNDEFINED).unwrap_err();
    assert_eq!(kind(&done), "TransactionDone");
    assert!(message(&done).contains("already been committed or rolled back"));

    let mut tx = db.transaction(false).unwrap();
    assert_eq!(tx.began_with(), "BEGIN DEFERRED");
    assert_eq!(tx.state().unwrap(), "none");
    tx.query("SELECT * FROM t", JsValue::UNDEFINED).unwrap();
    assert_eq!(tx.state().unwrap(), "read");
    tx.exec("INSERT INTO t VALUES (2)", JsValue::UNDEFINED)
        .unwrap();
    tx.rollback().unwrap();
    let rows = db
        .query("SELECT count(*) AS n FROM t", JsValue::UNDEFINED)
        .unwrap();
    assert_eq!(get(&rows.get(0), "n").as_f64(), Some(1.0));
}

/// Create, verify and drop the example schema.
pub async fn example_schema_round_trip(db: &Database) {
    let schema = JsValue::from_str(EXAMPLE_SCHEMA);
    db.create_db(schema.clone()).unwrap();
    assert_eq!(db.verify_db(schema.clone()).unwrap(), Vec::<String>::new());
    db.create_db(schema.clone()).unwrap();
    db.drop_db(schema.clone()).unwrap();
    let left = db
        .query(
            "SELECT count(*) AS n FROM sqlite_schema",
            JsValue::UNDEFINED,
        )
        .unwrap();
    assert_eq!(get(&left.get(0), "n").as_f64(), Some(0.0));
    let missing = db.verify_db(schema).unwrap();
    assert!(
        missing.iter().all(|d| d.starts_with("missing table")),
        "{missing:?}"
    );
}

/// Every parameter type round-trips.
pub async fn parameters_round_trip() {
    let db = memory().await;
    db.exec(
        "CREATE TABLE v (i INTEGER, big INTEGER, r REAL, t TEXT, b BLOB, n, flag BOOLEAN)",
        JsValue::UNDEFINED,
    )
    .unwrap();
    let blob = Uint8Array::from(&[0u8, 1, 2, 255][..]);
    let big = BigInt::from(9_007_199_254_740_993_i64);
    let params = array(&[
        JsValue::from_f64(42.0),
        big.clone().into(),
        JsValue::from_f64(1.5),
        JsValue::from_str("héllo ✓ 'quoted'"),
        blob.into(),
        JsValue::NULL,
        JsValue::TRUE,
    ]);
    let changed = db
        .exec("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?, ?)", params)
        .unwrap();
    assert_eq!(changed, 1.0);
    let rows = db.query("SELECT * FROM v", JsValue::UNDEFINED).unwrap();
    let row = rows.get(0);
    assert_eq!(get(&row, "i").as_f64(), Some(42.0));
    assert_eq!(get(&row, "big").dyn_into::<BigInt>().unwrap(), big);
    assert_eq!(get(&row, "r").as_f64(), Some(1.5));
    assert_eq!(
        get(&row, "t").as_string().as_deref(),
        Some("héllo ✓ 'quoted'")
    );
    assert_eq!(
        get(&row, "b").dyn_into::<Uint8Array>().unwrap().to_vec(),
        vec![0, 1, 2, 255]
    );
    assert!(get(&row, "n").is_null());
    assert_eq!(get(&row, "flag").as_f64(), Some(1.0));
    // Named parameters.
    let named = Object::new();
    Reflect::set(&named, &"id".into(), &JsValue::from_f64(42.0)).unwrap();
    let rows = db
        .query("SELECT t FROM v WHERE i = :id", named.into())
        .unwrap();
    assert_eq!(rows.length(), 1);
}

/// Bad input gives errors with native messages, never a panic or a hang.
pub async fn errors_not_panics() {
    let db = memory().await;
    let e = db.exec("SELEC nonsense", JsValue::UNDEFINED).unwrap_err();
    assert_eq!(kind(&e), "Sqlite");
    assert!(message(&e).contains("syntax error"), "{}", message(&e));
    let e = db
        .query(
            "SELECT ?",
            array(&[JsValue::from_f64(1.0), JsValue::from_f64(2.0)]),
        )
        .unwrap_err();
    assert_eq!(kind(&e), "InvalidArgument");
    let e = db
        .query("SELECT ?", array(&[Object::new().into()]))
        .unwrap_err();
    assert_eq!(kind(&e), "InvalidArgument");
    let e = Database::open(Some("mysql://u:secret@h/db".into()), JsValue::UNDEFINED)
        .await
        .err()
        .unwrap();
    assert_eq!(kind(&e), "Url");
    assert!(!message(&e).contains("secret"));
    let e = Database::open(
        Some("postgresql://u:secret@h/db".into()),
        JsValue::UNDEFINED,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(kind(&e), "WrongDialect");
    let e = db
        .create_db(JsValue::from_str("{\"tables\": 3}"))
        .unwrap_err();
    assert_eq!(kind(&e), "InvalidArgument");
    let bad = r#"{"tables":[{"name":"t","columns":[{"name":"a","type":"integer"}],"indexes":[{"name":"ix","parts":["nope"]}]}]}"#;
    let e = db.create_db(JsValue::from_str(bad)).unwrap_err();
    assert_eq!(kind(&e), "Schema");
    assert!(message(&e).contains("nope"), "{}", message(&e));
    db.close().unwrap();
    assert_eq!(
        kind(&db.query("SELECT 1", JsValue::UNDEFINED).unwrap_err()),
        "Closed"
    );
}

/// Out-of-range settings (reliability issue, item 7) are a `Settings` error naming the field
/// and the allowed range, not a panic: `busy_timeout` above `i32::MAX` ms made rusqlite panic,
/// which kills the whole module in the browser.
pub async fn out_of_range_settings_are_errors() {
    let cases = [
        (
            r#"{"sqlite": {"busy_timeout": 2160000}}"#,
            "sqlite.busy_timeout",
            "2147483647ms",
        ),
        // The flat names of dbconfig 0.1 are still read.
        (
            r#"{"busy_timeout": 2160000}"#,
            "sqlite.busy_timeout",
            "2147483647ms",
        ),
        (r#"{"timeout": 1e9}"#, "timeout", "2147483647ms"),
        (
            r#"{"timeout": 1e19, "connection_timeout": 1e19}"#,
            "timeout",
            "2147483647ms",
        ),
        (
            r#"{"connection_timeout": 0}"#,
            "connection_timeout",
            "none for no limit",
        ),
        (
            r#"{"pool_size": 4294967295}"#,
            "pool_size",
            "from 0 to 10000",
        ),
        (
            r#"{"max_overflow": 2147483647}"#,
            "max_overflow",
            "from 0 to 10000",
        ),
    ];
    for (settings, field, range) in cases {
        let settings = js_sys::JSON::parse(settings).unwrap();
        let e = Database::open(None, settings).await.err().unwrap();
        assert_eq!(kind(&e), "Settings", "{field}");
        let text = message(&e);
        assert!(text.contains(field) && text.contains(range), "{text}");
    }
    // The largest values allowed open a working database.
    let settings = js_sys::JSON::parse(r#"{"busy_timeout": 2147483.647, "timeout": 2147483.647}"#);
    let db = Database::open(None, settings.unwrap()).await.unwrap();
    let p = db.pragmas().unwrap();
    assert_eq!(
        get(&p, "busy_timeout").as_string().as_deref(),
        Some("2147483647")
    );
}

pub mod portable_cases;

use dbconfig::value::Value;
use portable_cases::Expect;

/// `Temporal.<class>.from(text)`.
fn temporal(class: &str, text: &str) -> JsValue {
    let temporal = Reflect::get(&js_sys::global(), &"Temporal".into()).unwrap();
    let class = Reflect::get(&temporal, &class.into()).unwrap();
    let from: js_sys::Function = Reflect::get(&class, &"from".into())
        .unwrap()
        .unchecked_into();
    from.call1(&class, &text.into()).unwrap()
}

/// `value` as a JavaScript caller passes it: integers as numbers (BigInt beyond 2^53), a UUID
/// as the string `crypto.randomUUID()` gives, JSON as `JSON.stringify(document)`, a timestamp
/// as a `Date` when it has whole milliseconds, else as a `Temporal.ZonedDateTime` (with its
/// offset), a date as a `Temporal.PlainDate`.
pub fn js_param(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Int(n) if n.unsigned_abs() < 1 << 53 => JsValue::from_f64(*n as f64),
        Value::Int(n) => BigInt::from(*n).into(),
        Value::Float(f) => JsValue::from_f64(*f),
        Value::Text(s) => JsValue::from_str(s),
        Value::Bytes(b) => Uint8Array::from(b.as_slice()).into(),
        Value::Uuid(u) => JsValue::from_str(&u.to_string()),
        Value::Json(j) => {
            let document = js_sys::JSON::parse(&j.to_string()).unwrap();
            js_sys::JSON::stringify(&document).unwrap().into()
        }
        Value::Timestamp(t) if t.nanosecond() % 1_000_000 == 0 => {
            let ms = (t.unix_timestamp_nanos() / 1_000_000) as f64;
            js_sys::Date::new(&JsValue::from_f64(ms)).into()
        }
        Value::Timestamp(t) => {
            let (h, m, _) = t.offset().as_hms();
            let sign = if t.offset().is_negative() { '-' } else { '+' };
            let offset = format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs());
            let iso = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}{offset}[{offset}]",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.nanosecond()
            );
            temporal("ZonedDateTime", &iso)
        }
        Value::Date(d) => temporal(
            "PlainDate",
            &format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        ),
        other => panic!("no JavaScript form for {other:?}"),
    }
}

/// A returned row (`{ column: value }`, columns in order) as values; a number is a `Float`
/// where the expected value is one or it has a fraction, else an `Int`.
fn row_values(row: &JsValue, expected: &[Value]) -> Vec<Value> {
    let values: Array = Object::values(row.unchecked_ref());
    values
        .iter()
        .enumerate()
        .map(|(i, v): (usize, JsValue)| {
            if v.is_null() {
                Value::Null
            } else if v.is_bigint() {
                Value::Int(i64::try_from(v.unchecked_into::<BigInt>()).unwrap())
            } else if let Some(n) = v.as_f64() {
                if matches!(expected.get(i), Some(Value::Float(_))) || n.fract() != 0.0 {
                    Value::Float(n)
                } else {
                    Value::Int(n as i64)
                }
            } else if let Some(s) = v.as_string() {
                Value::Text(s)
            } else if let Some(b) = v.dyn_ref::<Uint8Array>() {
                Value::Bytes(b.to_vec())
            } else {
                Value::Text(format!("unexpected {v:?}"))
            }
        })
        .collect()
}

fn check_case(case: &portable_cases::Case, via: &str, got: Result<Array, JsValue>) {
    match (&case.expect, got) {
        (Expect::Rows(expected), Ok(rows)) => {
            let got: Vec<Vec<Value>> = rows
                .iter()
                .enumerate()
                .map(|(i, row)| row_values(&row, expected.get(i).map_or(&[], Vec::as_slice)))
                .collect();
            assert_eq!(&got, expected, "{} ({via})", case.name);
        }
        (
            Expect::Error {
                kind: k,
                message: m,
            },
            Err(e),
        ) => {
            assert_eq!(kind(&e), *k, "{} ({via}): {}", case.name, message(&e));
            assert!(
                message(&e).contains(m),
                "{} ({via}): {:?} lacks {m:?}",
                case.name,
                message(&e)
            );
        }
        (expect, Ok(rows)) => panic!("{} ({via}): expected {expect:?}, got {rows:?}", case.name),
        (expect, Err(e)) => panic!(
            "{} ({via}): expected {expect:?}, got {}: {}",
            case.name,
            kind(&e),
            message(&e)
        ),
    }
}

/// The shared portable cases through `Database.query` and `Transaction.query`, parameters
/// passed as JavaScript values: the rows (or errors) native dbconfig gives, asserted against
/// the same expected rows as `tests/portable/cases.rs` in the root crate.
pub async fn portable_cases_equal_native() {
    for case in portable_cases::cases() {
        let db = memory().await;
        if !case.setup.is_empty() {
            db.exec(case.setup, JsValue::UNDEFINED).unwrap();
        }
        let params = || -> JsValue { case.params.iter().map(js_param).collect::<Array>().into() };
        let mut tx = db.transaction(true).unwrap();
        check_case(&case, "Transaction.query", tx.query(case.sql, params()));
        tx.rollback().unwrap();
        check_case(&case, "Database.query", db.query(case.sql, params()));
        db.close().unwrap();
    }
}

/// `$N` in `exec` and `execMany`; SQLite's `?` and `:name` keep working with the same value
/// mapping (a `Date` as UTC text, booleans as 0/1, NaN refused); objects are not SQL values.
pub async fn placeholders_share_the_value_mapping() {
    let db = memory().await;
    db.exec("CREATE TABLE t (id INTEGER, name TEXT)", JsValue::UNDEFINED)
        .unwrap();
    let one = array(&[JsValue::from_str("a"), JsValue::from_f64(1.0)]);
    assert_eq!(db.exec("INSERT INTO t VALUES ($2, $1)", one).unwrap(), 1.0);
    let rows: Array = [
        array(&[JsValue::from_str("b"), JsValue::from_f64(2.0)]),
        array(&[JsValue::from_str("c"), JsValue::from_f64(3.0)]),
    ]
    .iter()
    .collect();
    let mut tx = db.transaction(true).unwrap();
    assert_eq!(
        tx.exec_many("INSERT INTO t VALUES ($2, $1)", rows).unwrap(),
        2.0
    );
    tx.commit().unwrap();
    let got = db
        .query(
            "SELECT group_concat(name, '') AS names FROM t WHERE id >= $1",
            array(&[JsValue::from_f64(1.0)]),
        )
        .unwrap();
    assert_eq!(
        get(&got.get(0), "names").as_string().as_deref(),
        Some("abc")
    );

    // `?` and `:name`: the same mapping as `$N`.
    let date = js_sys::Date::new(&JsValue::from_f64(946_684_800_500.0));
    let got = db
        .query(
            "SELECT ? AS ts, ? AS yes",
            array(&[date.into(), JsValue::TRUE]),
        )
        .unwrap();
    let row = got.get(0);
    assert_eq!(
        get(&row, "ts").as_string().as_deref(),
        Some("2000-01-01 00:00:00.500000+00:00")
    );
    assert_eq!(get(&row, "yes").as_f64(), Some(1.0));
    let named = Object::new();
    Reflect::set(&named, &"v".into(), &JsValue::FALSE).unwrap();
    let got = db.query("SELECT :v AS v", named.into()).unwrap();
    assert_eq!(get(&got.get(0), "v").as_f64(), Some(0.0));
    let e = db
        .query("SELECT ?1 AS v", array(&[JsValue::from_f64(f64::NAN)]))
        .unwrap_err();
    assert_eq!(kind(&e), "Encode", "{}", message(&e));
    assert!(message(&e).contains("NaN"), "{}", message(&e));
    for value in [Object::new().into(), array(&[JsValue::from_f64(1.0)])] {
        let e = db.query("SELECT $1 AS v", array(&[value])).unwrap_err();
        assert_eq!(kind(&e), "InvalidArgument");
        assert!(message(&e).contains("JSON.stringify"), "{}", message(&e));
    }
    // Mixing in `exec` too, with native's message.
    let e = db
        .exec(
            "INSERT INTO t VALUES (?, $1)",
            array(&[JsValue::from_f64(1.0)]),
        )
        .unwrap_err();
    assert_eq!(kind(&e), "Placeholders");
    assert!(message(&e).contains("mixes"), "{}", message(&e));

    // No values for a statement with placeholders: refused, as natively, where SQLite would
    // bind NULL. `exec` without values is a batch: the statement before it has run.
    let before = db
        .query("SELECT count(*) AS n FROM t", JsValue::UNDEFINED)
        .unwrap();
    let count = |rows: Array| get(&rows.get(0), "n").as_f64();
    let e = db
        .exec(
            "INSERT INTO t VALUES (10, 'x'); INSERT INTO t VALUES (11, $1)",
            JsValue::UNDEFINED,
        )
        .unwrap_err();
    assert_eq!(kind(&e), "Placeholders", "{}", message(&e));
    assert!(message(&e).contains("`$1`"), "{}", message(&e));
    let after = db
        .query("SELECT count(*) AS n FROM t", JsValue::NULL)
        .unwrap();
    assert_eq!(count(after), count(before).map(|n| n + 1.0));
    let e = db.query("SELECT $1 AS v", JsValue::UNDEFINED).unwrap_err();
    assert_eq!(kind(&e), "Placeholders", "{}", message(&e));
    let e = db.query_arrays("SELECT ? AS v", JsValue::NULL).unwrap_err();
    assert_eq!(kind(&e), "InvalidArgument", "{}", message(&e));
    let insert = db.prepare("INSERT INTO t VALUES ($1, 'p')".into()).unwrap();
    assert_eq!(insert.run(array(&[JsValue::from_f64(20.0)])).unwrap(), 1.0);
    let e = insert.run(JsValue::UNDEFINED).unwrap_err();
    assert_eq!(kind(&e), "Placeholders", "{}", message(&e));
    let e = insert.values(JsValue::UNDEFINED).unwrap_err();
    assert_eq!(kind(&e), "Placeholders", "{}", message(&e));
    let nulls = db
        .query(
            "SELECT count(*) AS n FROM t WHERE id IS NULL",
            JsValue::UNDEFINED,
        )
        .unwrap();
    assert_eq!(count(nulls), Some(0.0));
}

/// The schema after migration steps 0001–0003 of [`steps`].
pub const SCHEMA_V3: &str = r#"{"tables": [
  {"name": "job", "primary_key": ["id"], "columns": [
    {"name": "id", "type": "bigint", "nullable": false},
    {"name": "name", "type": "text", "nullable": false},
    {"name": "priority", "type": "integer", "nullable": false, "default": {"value": 0}}],
   "indexes": [{"name": "ix_job_priority", "parts": ["priority"]}]},
  {"name": "tag", "primary_key": ["id"], "columns": [
    {"name": "id", "type": "bigint", "nullable": false},
    {"name": "label", "type": "varchar(40)", "nullable": false}]}]}"#;

const STEPS: [(&str, &str, &str); 3] = [
    (
        "0001",
        "jobs",
        "CREATE TABLE job (id BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL)",
    ),
    (
        "0002",
        "priority",
        "ALTER TABLE job ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;\n\
         CREATE INDEX ix_job_priority ON job (priority)",
    ),
    (
        "0003",
        "tags",
        "CREATE TABLE tag (id BIGINT NOT NULL PRIMARY KEY, label VARCHAR(40) NOT NULL)",
    ),
];

/// Migration steps 0001..=`version` as the JavaScript array `migrate` takes, plus `extra`.
pub fn steps(version: usize, extra: &[(&str, &str, &str)]) -> JsValue {
    let out = Array::new();
    for (id, description, sql) in STEPS[..version].iter().chain(extra) {
        let step = Object::new();
        Reflect::set(&step, &"id".into(), &(*id).into()).unwrap();
        Reflect::set(&step, &"description".into(), &(*description).into()).unwrap();
        Reflect::set(&step, &"sql".into(), &(*sql).into()).unwrap();
        out.push(&step);
    }
    out.into()
}

/// The same steps as files of a migrations directory (`{ "0001_jobs.sql": "…" }`).
pub fn step_files(version: usize) -> JsValue {
    let out = Object::new();
    for (id, description, sql) in &STEPS[..version] {
        Reflect::set(
            &out,
            &format!("{id}_{description}.sql").into(),
            &(*sql).into(),
        )
        .unwrap();
    }
    out.into()
}

fn ids(applied: &Array) -> Vec<String> {
    applied
        .iter()
        .map(|a| get(&a, "id").as_string().unwrap())
        .collect()
}

/// v1 → v2 → v3 with rows written at v1, the record as native keeps it, a failing step that
/// keeps nothing, and a planned step: the browser upgrades its database in place.
pub async fn migrations_upgrade_in_place(db: &Database) {
    assert_eq!(ids(&db.migrate(steps(1, &[])).unwrap()), ["0001"]);
    db.exec(
        "INSERT INTO job (id, name) VALUES (1, 'kept'), (2, 'also kept')",
        JsValue::UNDEFINED,
    )
    .unwrap();
    // Steps as files (what a bundler's glob import gives): 0001 is the same text, so applied.
    assert_eq!(ids(&db.migrate(step_files(2)).unwrap()), ["0002"]);
    assert_eq!(ids(&db.migrate(steps(3, &[])).unwrap()), ["0003"]);
    assert!(ids(&db.migrate(steps(3, &[])).unwrap()).is_empty());
    let rows = db
        .query(
            "SELECT name, priority FROM job ORDER BY id",
            JsValue::UNDEFINED,
        )
        .unwrap();
    assert_eq!(rows.length(), 2);
    assert_eq!(
        get(&rows.get(0), "name").as_string().as_deref(),
        Some("kept")
    );
    assert_eq!(get(&rows.get(1), "priority").as_f64(), Some(0.0));
    assert!(db.verify_db(SCHEMA_V3.into()).unwrap().is_empty());
    let status = db.migration_status(steps(3, &[])).unwrap();
    for s in status.iter() {
        assert_eq!(get(&s, "state").as_string().as_deref(), Some("applied"));
        assert_eq!(get(&s, "checksumOk").as_bool(), Some(true));
    }

    // A step that fails halfway keeps nothing of itself.
    let broken = steps(
        3,
        &[(
            "0004",
            "broken",
            "CREATE TABLE half (x INTEGER);\nINSERT INTO no_such_table VALUES (1);",
        )],
    );
    let err = db.migrate(broken.clone()).unwrap_err();
    assert_eq!(kind(&err), "Migration");
    assert!(
        message(&err).contains("migration 0004 (broken) failed"),
        "{}",
        message(&err)
    );
    let status = db.migration_status(broken).unwrap();
    assert_eq!(
        get(&status.get(3), "state").as_string().as_deref(),
        Some("pending")
    );
    assert!(db.query("SELECT x FROM half", JsValue::UNDEFINED).is_err());

    // A changed step is refused, naming it.
    let edited = steps(2, &[]);
    Reflect::set(
        &Array::from(&edited).get(1),
        &"sql".into(),
        &"SELECT 1".into(),
    )
    .unwrap();
    let err = db.migrate(edited).unwrap_err();
    assert!(
        message(&err).contains("migration 0002 was applied with checksum"),
        "{}",
        message(&err)
    );

    // A step planned from the metadata.
    let v4 = SCHEMA_V3.replace(
        r#"{"name": "label", "type": "varchar(40)", "nullable": false}"#,
        r#"{"name": "label", "type": "varchar(40)", "nullable": false}, {"name": "note", "type": "text"}"#,
    );
    let plan = db.plan_db(v4.clone().into(), false).unwrap();
    let changes = Array::from(&get(&plan, "changes"));
    assert_eq!(changes.length(), 1);
    assert_eq!(
        get(&changes.get(0), "summary").as_string().as_deref(),
        Some("add column tag.note")
    );
    let sql = get(&plan, "sql").as_string().unwrap();
    assert_eq!(
        ids(&db.migrate(steps(3, &[("0004", "note", &sql)])).unwrap()),
        ["0004"]
    );
    assert!(db.verify_db(v4.into()).unwrap().is_empty());
}

/// An empty database created at the last step and stamped; then nothing to apply.
pub async fn create_or_upgrade_stamps(db: &Database) {
    assert!(
        db.create_or_upgrade(SCHEMA_V3.into(), steps(3, &[]))
            .unwrap()
            .length()
            == 0
    );
    assert!(db.verify_db(SCHEMA_V3.into()).unwrap().is_empty());
    let status = db.migration_status(steps(3, &[])).unwrap();
    assert_eq!(status.length(), 3);
    assert!(ids(&db.migrate(steps(3, &[])).unwrap()).is_empty());
    // Bad input is a typed error, not a panic.
    let err = db.migrate(JsValue::from(42)).unwrap_err();
    assert_eq!(kind(&err), "InvalidArgument");
    let err = db
        .migrate(steps(0, &[("bad id", "x", "SELECT 1")]))
        .unwrap_err();
    assert_eq!(kind(&err), "Migration");
}

/// The rows of `t` as `id:name` strings.
pub fn names(db: &Database) -> Vec<String> {
    db.query("SELECT id, name FROM t ORDER BY id", JsValue::UNDEFINED)
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                get(&r, "id").as_f64().unwrap(),
                get(&r, "name").as_string().unwrap()
            )
        })
        .collect()
}

/// `db.export()` gives a SQLite file; `Database.import(target, bytes)` opens `target` with the
/// same rows, replacing what it held; bytes that are not a database are refused.
pub async fn export_then_import(db: &Database, target: &str) {
    db.exec(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL); \
         INSERT INTO t (name) VALUES ('one'), ('two'), ('it''s three')",
        JsValue::UNDEFINED,
    )
    .unwrap();
    let bytes = db.export().unwrap();
    assert_eq!(&bytes.to_vec()[..16], b"SQLite format 3\0", "a SQLite file");
    // An open transaction: no export (the snapshot would not be what is committed).
    let mut tx = db.transaction(true).unwrap();
    assert_eq!(kind(&db.export().unwrap_err()), "TransactionOpen");
    tx.rollback().unwrap();
    let copy = Database::import(Some(target.into()), bytes.clone(), JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(names(&copy), names(db));
    assert_eq!(names(&copy).len(), 3);
    // Imported again over it: replaced, not merged.
    copy.exec("INSERT INTO t (name) VALUES ('extra')", JsValue::UNDEFINED)
        .unwrap();
    copy.close().unwrap();
    let again = Database::import(Some(target.into()), bytes, JsValue::UNDEFINED)
        .await
        .unwrap();
    assert_eq!(names(&again).len(), 3);
    // `restore` replaces an open database's content in place; a prepared statement still runs.
    again
        .exec("INSERT INTO t (name) VALUES ('four')", JsValue::UNDEFINED)
        .unwrap();
    let mut count = again.prepare("SELECT count(*) FROM t".into()).unwrap();
    assert_eq!(count.values(JsValue::UNDEFINED).unwrap().length(), 1);
    let junk = js_sys::Uint8Array::from(&b"not a database at all"[..]);
    assert_eq!(kind(&again.restore(junk).unwrap_err()), "InvalidArgument");
    assert_eq!(
        names(&again).len(),
        4,
        "a refused restore leaves the database as it was"
    );
    again.restore(db.export().unwrap()).unwrap();
    assert_eq!(names(&again), names(db));
    let counted = count.values(JsValue::UNDEFINED).unwrap();
    assert_eq!(
        js_sys::Array::from(&counted.get(0)).get(0).as_f64(),
        Some(3.0)
    );
    count.finalize();
    let mut tx = again.transaction(true).unwrap();
    assert_eq!(
        kind(&again.restore(db.export().unwrap()).unwrap_err()),
        "TransactionOpen"
    );
    tx.rollback().unwrap();
    again.close().unwrap();
    // Where a url is stored: OPFS files by name, in-memory and other VFSes nowhere.
    let stored = |url: &str| Database::storage_name(Some(url.into()), JsValue::UNDEFINED).unwrap();
    assert_eq!(stored("sqlite:///app.db").as_deref(), Some("app.db"));
    assert_eq!(
        stored("sqlite:///app.db?mode=rwc"),
        stored("sqlite:///app.db")
    );
    assert_eq!(stored("sqlite://"), None);
    assert_eq!(stored("sqlite:///:memory:"), None);
    assert_eq!(stored("sqlite:///x.db?vfs=memdb"), None);
    assert!(Database::storage_name(Some("postgresql://h/db".into()), JsValue::UNDEFINED).is_err());
    for junk in [&b""[..], b"not a database at all", &[0u8; 4096]] {
        let err = Database::import(
            Some("sqlite://".into()),
            js_sys::Uint8Array::from(junk),
            JsValue::UNDEFINED,
        )
        .await
        .err()
        .unwrap();
        assert_eq!(kind(&err), "InvalidArgument");
        assert!(
            message(&err).contains("not a SQLite database"),
            "{}",
            message(&err)
        );
    }
}

/// `prepare` → `run` / `all` / `values` / `columns` / `finalize`, and `queryArrays`: the same
/// rows as `query`, as arrays; a prepared statement runs inside the open transaction; a
/// syntax error is reported by `prepare`; a finalized statement refuses to run.
pub async fn prepared_statements_and_array_rows(db: &Database) {
    db.exec(
        "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER, b BLOB)",
        JsValue::UNDEFINED,
    )
    .unwrap();
    let insert = db
        .prepare("INSERT INTO kv (k, v, b) VALUES ($1, $2, $3)".into())
        .unwrap();
    for i in 0..5 {
        let changed = insert
            .run(array(&[
                JsValue::from_str(&format!("k{i}")),
                JsValue::from_f64(f64::from(i)),
                Uint8Array::from(&[i as u8][..]).into(),
            ]))
            .unwrap();
        assert_eq!(changed, 1.0);
    }
    // Inside a transaction that rolls back: nothing kept.
    let tx = db.transaction(true).unwrap();
    insert
        .run(array(&[
            JsValue::from_str("gone"),
            JsValue::NULL,
            JsValue::NULL,
        ]))
        .unwrap();
    let mut tx = tx;
    tx.rollback().unwrap();

    let by_min = db
        .prepare("SELECT k, v, b FROM kv WHERE v >= $1 ORDER BY k".into())
        .unwrap();
    assert_eq!(by_min.columns().unwrap(), ["k", "v", "b"]);
    let objects = by_min.all(array(&[JsValue::from_f64(3.0)])).unwrap();
    let arrays = by_min.values(array(&[JsValue::from_f64(3.0)])).unwrap();
    assert_eq!(objects.length(), 2);
    assert_eq!(arrays.length(), 2);
    let direct = db
        .query_arrays(
            "SELECT k, v, b FROM kv WHERE v >= $1 ORDER BY k",
            array(&[JsValue::from_f64(3.0)]),
        )
        .unwrap();
    for i in 0..2 {
        let object = objects.get(i);
        let row: Array = arrays.get(i).unchecked_into();
        let again: Array = direct.get(i).unchecked_into();
        assert_eq!(row.length(), 3);
        for (c, name) in ["k", "v"].iter().enumerate() {
            assert_eq!(row.get(c as u32), get(&object, name));
            assert_eq!(again.get(c as u32), get(&object, name));
        }
        let blob: Uint8Array = row.get(2).unchecked_into();
        assert_eq!(blob.to_vec(), vec![3 + i as u8]);
    }
    let count = db
        .query("SELECT count(*) AS n FROM kv", JsValue::UNDEFINED)
        .unwrap();
    assert_eq!(get(&count.get(0), "n"), JsValue::from_f64(5.0));

    let e = db.prepare("SELEC 1".into()).err().unwrap();
    assert_eq!(kind(&e), "Sqlite");
    let mut finished = db.prepare("SELECT 1".into()).unwrap();
    finished.finalize();
    let e = finished.all(JsValue::UNDEFINED).unwrap_err();
    assert_eq!(kind(&e), "InvalidArgument");
    assert!(message(&e).contains("finalized"), "{}", message(&e));
}

/// Blobs of every size from 0 to 3000 bytes (and text of many lengths, ASCII and not) go in
/// through `execMany`'s packed buffer and come back byte for byte; small blobs are views of a
/// shared buffer (wire.js's pool) that do not overlap, larger ones have a buffer of their own.
pub async fn blobs_and_text_round_trip(db: &Database) {
    db.exec(
        "CREATE TABLE b (id INTEGER PRIMARY KEY, data BLOB NOT NULL, t TEXT NOT NULL)",
        JsValue::UNDEFINED,
    )
    .unwrap();
    let sizes: Vec<u32> = (0..=3000).step_by(7).collect();
    let text = |n: u32| -> String {
        (0..n % 70)
            .map(|i| ['a', 'é', '€', '😀', 'z'][((n + i) % 5) as usize])
            .collect()
    };
    let rows = js_sys::Array::new();
    for &n in &sizes {
        let bytes: Vec<u8> = (0..n).map(|i| (i * 31 + n) as u8).collect();
        rows.push(&array(&[
            JsValue::from_f64(f64::from(n)),
            js_sys::Uint8Array::from(&bytes[..]).into(),
            JsValue::from_str(&text(n)),
        ]));
    }
    let changed = db
        .exec_many("INSERT INTO b (id, data, t) VALUES ($1, $2, $3)", rows)
        .unwrap();
    assert_eq!(changed as usize, sizes.len());
    let read = db
        .query_arrays("SELECT id, data, t FROM b ORDER BY id", JsValue::UNDEFINED)
        .unwrap();
    assert_eq!(read.length() as usize, sizes.len());
    let blobs: Vec<js_sys::Uint8Array> = read
        .iter()
        .map(|row| js_sys::Array::from(&row).get(1).unchecked_into())
        .collect();
    // Each blob overwritten in turn: one that shared bytes with the next would change it.
    let copies: Vec<Vec<u8>> = blobs.iter().map(js_sys::Uint8Array::to_vec).collect();
    for (k, blob) in blobs.iter().enumerate() {
        blob.fill(0xEE, 0, blob.length());
        if let Some(next) = blobs.get(k + 1) {
            assert_eq!(
                next.to_vec(),
                copies[k + 1],
                "blobs {k} and {} overlap",
                k + 1
            );
        }
    }
    for (k, (row, &n)) in read.iter().zip(&sizes).enumerate() {
        let row = js_sys::Array::from(&row);
        assert_eq!(row.get(0).as_f64(), Some(f64::from(n)));
        let expected: Vec<u8> = (0..n).map(|i| (i * 31 + n) as u8).collect();
        assert_eq!(copies[k], expected, "blob of {n} bytes");
        assert_eq!(row.get(2).as_string(), Some(text(n)), "text for {n}");
        let own = blobs[k].buffer().byte_length() == n;
        assert_eq!(own, n > 2048, "blob of {n} bytes: own buffer {own}");
    }
}

/// `sqlite://` is private to its handle (a plain in-memory database); a named in-memory url
/// (`vfs=memdb`) is one database for every handle that opens it, as natively.
pub async fn memory_databases_private_or_shared() {
    let open = |url: &'static str| async move {
        Database::open(Some(url.into()), JsValue::UNDEFINED)
            .await
            .unwrap()
    };
    let (a, b) = (open("sqlite://").await, open("sqlite://").await);
    a.exec("CREATE TABLE t (x)", JsValue::UNDEFINED).unwrap();
    assert!(
        b.exec("SELECT x FROM t", JsValue::UNDEFINED).is_err(),
        "private databases share"
    );
    assert!(a.is_inmemory() && b.is_inmemory());
    let shared = "sqlite:///file:wasm-shared?vfs=memdb";
    let (c, d) = (open(shared).await, open(shared).await);
    c.exec(
        "CREATE TABLE t (x); INSERT INTO t VALUES (7)",
        JsValue::UNDEFINED,
    )
    .unwrap();
    let rows = d
        .query_arrays("SELECT x FROM t", JsValue::UNDEFINED)
        .unwrap();
    assert_eq!(
        rows.length(),
        1,
        "a named in-memory database is one database"
    );
    assert!(d.is_inmemory());
    for db in [a, b, c, d] {
        db.close().unwrap();
    }
}
