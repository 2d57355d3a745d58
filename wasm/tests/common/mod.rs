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
    assert!(db.is_in_memory());
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
            r#"{"busy_timeout": 2160000}"#,
            "busy_timeout",
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
