//! One generic test body over `C: DatabaseConfig`, run on an SQLite file, SQLite in memory and
//! the test PostgreSQL (and through `AnyConfig`): every value type round-trips equal through a
//! table made by `create_db`, `$N` placeholders bind by number, errors are typed.

use crate::common;

use dbconfig::prelude::*;
use dbconfig::schema::{Column, ColumnType, Metadata, Table};
use dbconfig::{Error, PostgresConfig, SqliteConfig};
use time::macros::{date, datetime};

fn metadata() -> Metadata {
    let col = |name: &str, ty: ColumnType| Column::new(name, ty);
    Metadata::new()
        .table(
            Table::new("vals")
                .column(col("id", ColumnType::BigInt).not_null())
                .column(col("b", ColumnType::Boolean))
                .column(col("i16", ColumnType::SmallInt))
                .column(col("i32", ColumnType::Integer))
                .column(col("i64", ColumnType::BigInt))
                .column(col("f32", ColumnType::Real))
                .column(col("f64", ColumnType::Double))
                .column(col("t", ColumnType::Text))
                .column(col("v", ColumnType::Varchar(40)))
                .column(col("by", ColumnType::Bytes))
                .column(col("u", ColumnType::Uuid))
                .column(col("j", ColumnType::Json))
                .column(col("jb", ColumnType::Jsonb))
                .column(col("ts", ColumnType::TimestampTz))
                .column(col("d", ColumnType::Date))
                .primary_key(["id"]),
        )
        .table(
            Table::new("pairs")
                .column(col("a", ColumnType::BigInt))
                .column(col("b", ColumnType::Text)),
        )
}

/// One row of `vals`, as Rust values.
#[derive(Debug, Clone, PartialEq)]
struct Vals {
    id: i64,
    b: Option<bool>,
    i16: Option<i16>,
    i32: Option<i32>,
    i64: Option<i64>,
    f32: Option<f32>,
    f64: Option<f64>,
    t: Option<String>,
    v: Option<String>,
    by: Option<Vec<u8>>,
    u: Option<Uuid>,
    j: Option<serde_json::Value>,
    jb: Option<serde_json::Value>,
    ts: Option<OffsetDateTime>,
    d: Option<Date>,
}

fn samples() -> Vec<Vals> {
    vec![
        Vals {
            id: 1,
            b: Some(true),
            i16: Some(i16::MIN),
            i32: Some(i32::MAX),
            i64: Some(i64::MIN),
            f32: Some(1.5),
            f64: Some(-2.25e300),
            t: Some("héllo ✓ 日本語 🦀".into()),
            v: Some("line\nbreak 'quote' \"dq\"".into()),
            by: Some(vec![0, 1, 127, 128, 255]),
            u: Some(Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)),
            j: Some(serde_json::json!({"a": [1, {"b": null}], "c": "x", "d": 1.5})),
            jb: Some(serde_json::json!([{"deep": {"deeper": [true, false]}}])),
            // Sub-second precision and a non-UTC offset: read back as the same instant.
            ts: Some(datetime!(2026-12-03 10:36:15.123456 +05:30)),
            d: Some(date!(2026 - 02 - 28)),
        },
        Vals {
            id: 2,
            b: Some(false),
            i16: Some(i16::MAX),
            i32: Some(i32::MIN),
            i64: Some(i64::MAX),
            f32: Some(f32::NEG_INFINITY),
            f64: Some(f64::INFINITY),
            t: Some(String::new()),
            v: Some(String::new()),
            by: Some(Vec::new()),
            u: Some(Uuid::nil()),
            // A document that is a number (SQLite's JSON affinity stores it as one), and one
            // that is a string.
            j: Some(serde_json::json!(123)),
            jb: Some(serde_json::json!("just a string")),
            ts: Some(datetime!(1970-01-01 00:00:00.000001 UTC)),
            d: Some(date!(0001 - 01 - 01)),
        },
        Vals {
            id: 3,
            b: None,
            i16: None,
            i32: None,
            i64: None,
            f32: None,
            f64: None,
            t: None,
            v: None,
            by: None,
            u: None,
            j: None,
            jb: None,
            ts: None,
            d: None,
        },
    ]
}

fn read(row: &Row) -> dbconfig::Result<Vals> {
    Ok(Vals {
        id: row.get("id")?,
        b: row.get("b")?,
        i16: row.get("i16")?,
        i32: row.get("i32")?,
        i64: row.get("i64")?,
        f32: row.get("f32")?,
        f64: row.get("f64")?,
        t: row.get("t")?,
        v: row.get("v")?,
        by: row.get("by")?,
        u: row.get("u")?,
        j: row.get("j")?,
        jb: row.get("jb")?,
        ts: row.get("ts")?,
        d: row.get("d")?,
    })
}

const INSERT: &str = "INSERT INTO vals (id, b, i16, i32, i64, f32, f64, t, v, by, u, j, jb, ts, d) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// The body every backend runs.
async fn portable_api<C: DatabaseConfig>(cfg: &C) {
    let engine = cfg.engine().await.unwrap();
    cfg.drop_db(&engine, &metadata()).await.unwrap();
    cfg.create_db(&engine, &metadata()).await.unwrap();
    let mut session = cfg.session(&engine).await.unwrap();
    let dialect = session.dialect();

    // Every type, written in one transaction.
    let samples = samples();
    let mut tx = cfg.begin_transaction(&mut session, true).await.unwrap();
    for s in &samples {
        let changed = tx
            .execute(
                INSERT,
                &[
                    &s.id, &s.b, &s.i16, &s.i32, &s.i64, &s.f32, &s.f64, &s.t, &s.v, &s.by, &s.u,
                    &s.j, &s.jb, &s.ts, &s.d,
                ],
            )
            .await
            .unwrap_or_else(|e| panic!("{dialect}: insert {}: {e:?}", s.id));
        assert_eq!(changed, 1);
    }
    tx.commit().await.unwrap();

    // ... and read back equal, each by its key, outside a transaction (autocommit).
    for s in &samples {
        let row = session
            .query_one("SELECT * FROM vals WHERE id = $1", &[&s.id])
            .await
            .unwrap();
        let got = read(&row).unwrap_or_else(|e| panic!("{dialect}: row {}: {e}", s.id));
        assert_eq!(&got, s, "{dialect}");
    }

    // With the `serde` feature, a row deserializes into a struct: 0/1 into bool, JSON into
    // nested types, UUID text into Uuid, bytes into Vec<u8>.
    #[cfg(feature = "serde")]
    {
        #[derive(Debug, serde::Deserialize, PartialEq)]
        struct Doc {
            deep: Deep,
        }
        #[derive(Debug, serde::Deserialize, PartialEq)]
        struct Deep {
            deeper: Vec<bool>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Some {
            id: i64,
            b: Option<bool>,
            u: Option<Uuid>,
            by: Option<Vec<u8>>,
            t: Option<String>,
            #[serde(rename = "ts")]
            ts_text: Option<String>,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Typed {
            jb: Vec<Doc>,
            #[serde(deserialize_with = "dbconfig::value::serde_helpers::timestamp")]
            ts: OffsetDateTime,
        }
        for s in &samples {
            let row = session
                .query_one("SELECT * FROM vals WHERE id = $1", &[&s.id])
                .await
                .unwrap();
            let got: Some = row
                .deserialize()
                .unwrap_or_else(|e| panic!("{dialect}: {e}"));
            assert_eq!(got.id, s.id);
            assert_eq!(got.b, s.b, "{dialect}");
            assert_eq!(got.u, s.u, "{dialect}");
            assert_eq!(got.by, s.by, "{dialect}");
            assert_eq!(got.t, s.t, "{dialect}");
            if s.id == 1 {
                // The same text on both backends.
                assert_eq!(
                    got.ts_text.as_deref(),
                    Option::Some("2026-12-03 05:06:15.123456+00:00"),
                    "{dialect}"
                );
                let typed: Typed = row.deserialize().unwrap();
                assert_eq!(
                    typed.jb,
                    vec![Doc {
                        deep: Deep {
                            deeper: vec![true, false]
                        }
                    }],
                    "{dialect}"
                );
                assert_eq!(Option::Some(typed.ts), s.ts, "{dialect}");
            }
        }
        let row = session
            .query_one("SELECT t FROM vals WHERE id = $1", &[&1_i64])
            .await
            .unwrap();
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Wrong {
            t: i64,
        }
        match row.deserialize::<Wrong>() {
            Err(Error::Decode { column, .. }) => assert_eq!(column, "t"),
            other => panic!("{dialect}: {other:?}"),
        }
    }

    // `$2 … $1`: SQLite numbers `$N` by first appearance; they must bind by their digits.
    let mut tx = cfg.begin_transaction(&mut session, true).await.unwrap();
    tx.execute(
        "INSERT INTO pairs (b, a) VALUES ($2, $1)",
        &[&10_i64, &"ten"],
    )
    .await
    .unwrap();
    // A repeated `$1`, bound once.
    tx.execute(
        "INSERT INTO pairs (a, b) VALUES ($1, $2), ($1, $3)",
        &[&7_i64, &"seven", &"sept"],
    )
    .await
    .unwrap();
    let rows = tx
        .query("SELECT a, b FROM pairs ORDER BY a, b", &[])
        .await
        .unwrap();
    let pairs: Vec<(i64, String)> = rows
        .iter()
        .map(|r| (r.get("a").unwrap(), r.get("b").unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [
            (7, "sept".to_owned()),
            (7, "seven".to_owned()),
            (10, "ten".to_owned())
        ],
        "{dialect}"
    );
    for (at_least, want) in [(7_i64, 3_i64), (8, 1)] {
        let n: i64 = tx
            .query_one(
                "SELECT count(*) AS n FROM pairs WHERE a = $1 OR a > $1",
                &[&at_least],
            )
            .await
            .unwrap()
            .get("n")
            .unwrap();
        assert_eq!(n, want, "{dialect}: a >= {at_least}");
    }
    // One round trip on PostgreSQL; statement then COMMIT on SQLite.
    let changed = tx
        .execute_and_commit("UPDATE pairs SET b = b || '!' WHERE a > $1", &[&0_i64])
        .await
        .unwrap();
    assert_eq!(changed, 3, "{dialect}");
    let count: i64 = session
        .query_one("SELECT count(*) AS n FROM pairs WHERE b LIKE $1", &[&"%!"])
        .await
        .unwrap()
        .get("n")
        .unwrap();
    assert_eq!(count, 3, "{dialect}: the commit kept the update");

    // A bare parameter has no type PostgreSQL can infer: CAST works on both.
    let row = session
        .query_one(
            "SELECT CAST($2 AS BIGINT) AS a, CAST($1 AS TEXT) AS b",
            &[&"x", &5_i64],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<i64>("a").unwrap(), 5, "{dialect}");
    assert_eq!(row.get::<String>("b").unwrap(), "x", "{dialect}");

    // A typed conversion error names the column and both types.
    let row = session
        .query_one("SELECT t FROM vals WHERE id = $1", &[&1_i64])
        .await
        .unwrap();
    let err = row.get::<i64>("t").unwrap_err();
    match &err {
        Error::Decode {
            column,
            rust_type,
            found,
            ..
        } => {
            assert_eq!(column, "t");
            assert_eq!(*rust_type, "i64");
            assert_eq!(found, "text", "{dialect}");
        }
        other => panic!("{dialect}: expected Decode, got {other:?}"),
    }
    assert!(err.to_string().contains("\"t\""), "{err}");
    // A NULL into a non-Option, an out-of-range narrowing, a missing column.
    let row = session
        .query_one("SELECT i64, t FROM vals WHERE id = $1", &[&3_i64])
        .await
        .unwrap();
    assert!(matches!(row.get::<i64>("i64"), Err(Error::Decode { .. })));
    let row = session
        .query_one("SELECT i64 FROM vals WHERE id = $1", &[&2_i64])
        .await
        .unwrap();
    assert!(matches!(row.get::<i32>(0), Err(Error::Decode { .. })));
    assert!(matches!(row.get::<i64>("nope"), Err(Error::Decode { .. })));

    // Parameter count, NaN, row counts: typed errors on both.
    let err = session
        .execute("UPDATE pairs SET a = $1 WHERE b = $2", &[&1_i64])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Placeholders { .. }),
        "{dialect}: {err:?}"
    );
    let err = session
        .execute("UPDATE vals SET f64 = $1 WHERE id = 1", &[&f64::NAN])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Encode { parameter: 1, .. }),
        "{dialect}: {err:?}"
    );
    let err = session
        .query_one("SELECT a FROM pairs", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedRows { found: 3, .. }),
        "{dialect}: {err:?}"
    );
    let none = session
        .query_opt("SELECT a FROM pairs WHERE a < $1", &[&0_i64])
        .await
        .unwrap();
    assert!(none.is_none());

    // A failed statement in execute_and_commit keeps nothing of the transaction.
    let mut tx = cfg.begin_transaction(&mut session, true).await.unwrap();
    tx.execute("DELETE FROM pairs", &[]).await.unwrap();
    let err = tx
        .execute_and_commit("INSERT INTO vals (id) VALUES ($1)", &[&1_i64])
        .await;
    assert!(err.is_err(), "{dialect}: duplicate key");
    let left: i64 = session
        .query_one("SELECT count(*) AS n FROM pairs", &[])
        .await
        .unwrap()
        .get("n")
        .unwrap();
    assert_eq!(left, 3, "{dialect}: the delete was rolled back");

    // Rollback through the trait.
    let mut tx = cfg.begin_transaction(&mut session, false).await.unwrap();
    tx.execute("DELETE FROM pairs", &[]).await.unwrap();
    Transaction::rollback(tx).await.unwrap();
    let rows = session.query("SELECT a FROM pairs", &[]).await.unwrap();
    assert_eq!(rows.len(), 3, "{dialect}");

    session
        .execute_batch("DELETE FROM pairs; DELETE FROM vals")
        .await
        .unwrap();
    drop(session);
    cfg.drop_db(&engine, &metadata()).await.unwrap();
}

#[tokio::test]
async fn sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig::new(&common::file_url(dir.path(), "portable.db")).unwrap();
    portable_api(&cfg).await;
}

#[tokio::test]
async fn sqlite_in_memory() {
    let cfg = SqliteConfig::new("sqlite://").unwrap();
    portable_api(&cfg).await;
}

#[tokio::test]
async fn postgres() {
    let Some(url) = common::pg_url("portable") else {
        return;
    };
    portable_api(&PostgresConfig::new(&url).unwrap()).await;
}

#[tokio::test]
async fn any_config_on_both() {
    let dir = tempfile::tempdir().unwrap();
    let mut urls = vec![common::file_url(dir.path(), "any.db")];
    urls.extend(common::pg_url("portable_any"));
    for url in urls {
        portable_api(&AnyConfig::from_url(&url).unwrap()).await;
    }
}

/// SQLite-only traps: `?` and `$N` mixed, `?` alone, `:name`, a skipped number. (PostgreSQL
/// itself rejects `?` as a syntax error.)
#[tokio::test]
async fn sqlite_placeholder_errors_are_clear() {
    let cfg = SqliteConfig::new("sqlite://").unwrap();
    let engine = cfg.engine().await.unwrap();
    let mut session = cfg.session(&engine).await.unwrap();
    for (sql, params, says) in [
        ("SELECT $1, ?", 2, "mixes `?` and `$N`"),
        ("SELECT ?", 1, "`?` is not a portable placeholder"),
        ("SELECT :name", 1, "`:name` is not a portable placeholder"),
        ("SELECT $1, $3", 3, "$2 is not used"),
        ("SELECT $2", 1, "uses $2, 1 parameter(s) were given"),
        (
            "SELECT $1",
            2,
            "2 parameter(s) were given, the statement uses 1",
        ),
    ] {
        let values: Vec<i64> = (0..params).collect();
        let refs: Vec<&(dyn ToValue + Sync)> =
            values.iter().map(|v| v as &(dyn ToValue + Sync)).collect();
        let err = session.query(sql, &refs).await.unwrap_err();
        match &err {
            Error::Placeholders { reason } => {
                assert!(reason.contains(says), "{sql}: {reason}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
}

/// The same `SELECT *` text after the schema changed: the rows carry the new column names
/// (SQLite re-prepares the cached statement; dbconfig re-reads the names).
#[tokio::test]
async fn sqlite_column_names_follow_schema_changes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SqliteConfig::new(&common::file_url(dir.path(), "names.db")).unwrap();
    let engine = cfg.engine().await.unwrap();
    let mut session = cfg.session(&engine).await.unwrap();
    session
        .execute_batch("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let names = |rows: &[Row]| -> Vec<String> {
        rows[0]
            .column_names()
            .iter()
            .map(|n| (*n).to_owned())
            .collect()
    };
    let rows = session.query("SELECT * FROM t", &[]).await.unwrap();
    assert_eq!(names(&rows), ["a"]);
    let rows = session.query("SELECT * FROM t", &[]).await.unwrap();
    assert_eq!(names(&rows), ["a"], "cached");
    session
        .execute_batch("ALTER TABLE t RENAME COLUMN a TO b; ALTER TABLE t ADD COLUMN c TEXT")
        .await
        .unwrap();
    let rows = session.query("SELECT * FROM t", &[]).await.unwrap();
    assert_eq!(names(&rows), ["b", "c"]);
    assert_eq!(rows[0].get::<i64>("b").unwrap(), 1);
    session
        .execute_batch("ALTER TABLE t RENAME COLUMN b TO d")
        .await
        .unwrap();
    let rows = session.query("SELECT * FROM t", &[]).await.unwrap();
    assert_eq!(names(&rows), ["d", "c"]);
}

/// A session on an SQLite file in `dir` and, when the tests have a server, on a new PostgreSQL
/// database (both named after `name`), after `setup` ran as a batch on each.
async fn sessions_on_both(dir: &std::path::Path, name: &str, setup: &str) -> Vec<AnySession> {
    let mut urls = vec![common::file_url(dir, &format!("{name}.db"))];
    urls.extend(common::pg_url(&format!("portable_{name}")));
    let mut sessions = Vec::new();
    for url in urls {
        let cfg = AnyConfig::from_url(&url).unwrap();
        let engine = cfg.engine().await.unwrap();
        let mut session = cfg.session(&engine).await.unwrap();
        session.execute_batch(setup).await.unwrap();
        sessions.push(session);
    }
    sessions
}

/// `AnySession::begin_read_only` on both backends: reads work, a write fails (SQLite
/// `query_only`, PostgreSQL `READ ONLY`), and once the transaction ends, by commit or by drop,
/// the same session writes again (the SQLite connection does not keep `query_only`).
#[tokio::test]
async fn read_only_transactions_refuse_writes_on_both() {
    let dir = tempfile::tempdir().unwrap();
    for mut session in sessions_on_both(dir.path(), "ro", "CREATE TABLE ro (id bigint)").await {
        let dialect = session.dialect();
        session
            .execute("INSERT INTO ro VALUES ($1)", &[&1_i64])
            .await
            .unwrap();

        let mut tx = session.begin_read_only().await.unwrap();
        let n: i64 = tx
            .query_one("SELECT count(*) FROM ro", &[])
            .await
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 1, "{dialect}");
        let err = tx
            .execute("INSERT INTO ro VALUES ($1)", &[&2_i64])
            .await
            .unwrap_err();
        match dialect {
            dbconfig::Dialect::Postgres => assert_eq!(err.sqlstate(), Some("25006"), "{err:?}"),
            _ => assert_eq!(
                err.sqlite_extended_code(),
                Some(8), // SQLITE_READONLY
                "{err:?}"
            ),
        }
        drop(tx);
        // Dropped after the failed write: rolled back, and the session writes again.
        session
            .execute("INSERT INTO ro VALUES ($1)", &[&2_i64])
            .await
            .unwrap_or_else(|e| panic!("{dialect}: write after a dropped read-only tx: {e}"));

        let mut tx = session.begin_read_only().await.unwrap();
        tx.query("SELECT id FROM ro", &[]).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = session.begin_transaction(false).await.unwrap();
        tx.execute("INSERT INTO ro VALUES ($1)", &[&3_i64])
            .await
            .unwrap_or_else(|e| panic!("{dialect}: write after a committed read-only tx: {e}"));
        tx.commit().await.unwrap();
        let n: i64 = session
            .query_one("SELECT count(*) FROM ro", &[])
            .await
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 3, "{dialect}");
    }
}

/// A batch with a placeholder fails on both backends and stores nothing: SQLite would bind NULL
/// where PostgreSQL refuses the statement. The statement before it in the batch has run.
#[tokio::test]
async fn a_batch_with_placeholders_is_refused_on_both() {
    let dir = tempfile::tempdir().unwrap();
    let table = "CREATE TABLE nb (id bigint, t text)";
    for mut session in sessions_on_both(dir.path(), "batch", table).await {
        let dialect = session.dialect();
        let err = session
            .execute_batch("INSERT INTO nb VALUES (1, 'a'); INSERT INTO nb VALUES (2, $1)")
            .await
            .unwrap_err();
        let rows = session
            .query("SELECT id, t FROM nb ORDER BY id", &[])
            .await
            .unwrap();
        let ids: Vec<i64> = rows.iter().map(|r| r.get(0).unwrap()).collect();
        match dialect {
            dbconfig::Dialect::Postgres => {
                // One implicit transaction: nothing of the batch is kept.
                assert_eq!(err.sqlstate(), Some("42P02"), "{err:?}");
                assert!(ids.is_empty(), "{ids:?}");
            }
            _ => {
                assert!(matches!(err, Error::Placeholders { .. }), "{err:?}");
                assert!(err.to_string().contains("`$1`"), "{err}");
                assert_eq!(
                    ids,
                    [1],
                    "the statement before it ran, the NULL row was never written"
                );
            }
        }
    }
}
