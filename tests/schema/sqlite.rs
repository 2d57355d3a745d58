//! create_db / drop_db / verify_db on real SQLite files: idempotence, cycles, hostile names,
//! invalid metadata, and differences found by verify.

use crate::common;

use dbconfig::schema::{
    Action, Column, ColumnType, DifferenceKind, EnumType, ForeignKey, Index, IndexPart, Metadata,
    ObjectKind, SchemaError, Table,
};
use dbconfig::{DatabaseConfig, Error, SqliteConfig, SqliteEngine};

async fn engine(dir: &tempfile::TempDir) -> (SqliteConfig, SqliteEngine) {
    let config = SqliteConfig::new(&common::file_url(dir.path(), "schema.db")).unwrap();
    let engine = config.build_engine().unwrap();
    (config, engine)
}

/// Every object in `sqlite_schema` (type, name), SQLite's own excluded.
async fn objects(engine: &SqliteEngine) -> Vec<(String, String)> {
    engine
        .session()
        .run(|c| {
            c.prepare(
                "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                 ORDER BY type, name",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
        })
        .await
        .unwrap()
}

fn jobs() -> Metadata {
    Metadata::new()
        .enum_type(EnumType::new("job_state", ["ready", "running", "done"]))
        .table(
            Table::new("queue")
                .column(Column::new("id", ColumnType::Integer).identity())
                .column(Column::new("name", ColumnType::Varchar(50)).not_null())
                .primary_key(["id"])
                .unique(None, ["name"]),
        )
        .table(
            Table::new("job")
                .column(Column::new("id", ColumnType::Uuid))
                .column(Column::new("queue_id", ColumnType::Integer).not_null())
                .column(Column::new("state", ColumnType::Enum("job_state".into())).not_null())
                .column(Column::new("payload", ColumnType::Json))
                .column(Column::new("priority", ColumnType::SmallInt))
                .primary_key(["id"])
                .check(None, "priority >= 0")
                .foreign_key(
                    ForeignKey::new(["queue_id"], "queue", ["id"]).on_delete(Action::Cascade),
                )
                .index(
                    Index::new("ix_job_ready", ["queue_id", "priority"]).filter("state = 'ready'"),
                )
                .index(Index::on("ix_job_lower", [IndexPart::expr("lower(state)")]))
                .index(
                    Index::new("ix_job_payload", ["payload"])
                        .method("gin")
                        .only_on([dbconfig::Dialect::Postgres]),
                ),
        )
}

#[tokio::test]
async fn create_verify_create_drop() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let metadata = jobs();
    config.create_db(&engine, &metadata).await.unwrap();
    assert_eq!(config.verify_db(&engine, &metadata).await.unwrap(), vec![]);
    // Twice is fine.
    config.create_db(&engine, &metadata).await.unwrap();
    assert_eq!(
        objects(&engine).await,
        [
            ("index", "ix_job_lower"),
            ("index", "ix_job_ready"),
            ("table", "job"),
            ("table", "queue"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    // The enum is enforced.
    let bad = engine
        .session()
        .run(|c| {
            c.execute("INSERT INTO queue (name) VALUES ('q')", [])?;
            c.execute(
                "INSERT INTO job (id, queue_id, state) VALUES ('a', 1, 'lost')",
                [],
            )
        })
        .await;
    assert!(bad.is_err());

    config.drop_db(&engine, &metadata).await.unwrap();
    assert_eq!(objects(&engine).await, vec![]);
    // Dropping what is not there is fine; verify now reports both tables missing.
    config.drop_db(&engine, &metadata).await.unwrap();
    let diff = config.verify_db(&engine, &metadata).await.unwrap();
    assert_eq!(diff.len(), 2, "{diff:?}");
    assert!(
        diff.iter()
            .all(|d| d.kind == DifferenceKind::Missing && d.object == ObjectKind::Table)
    );
}

#[tokio::test]
async fn tables_referencing_each_other_create_and_drop() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let t = |name: &str, other: &str| {
        Table::new(name)
            .column(Column::new("id", ColumnType::Integer).identity())
            .column(Column::new("other_id", ColumnType::Integer))
            .primary_key(["id"])
            .foreign_key(ForeignKey::new(["other_id"], other, ["id"]))
    };
    let metadata = Metadata::new().table(t("a", "b")).table(t("b", "a"));
    config.create_db(&engine, &metadata).await.unwrap();
    assert_eq!(config.verify_db(&engine, &metadata).await.unwrap(), vec![]);
    // Rows that reference each other, then a drop with foreign keys on.
    engine
        .session()
        .run(|c| {
            c.execute_batch(
                "BEGIN; INSERT INTO a (id, other_id) VALUES (1, NULL); \
                 INSERT INTO b (id, other_id) VALUES (1, 1); UPDATE a SET other_id = 1; COMMIT;",
            )
        })
        .await
        .unwrap();
    config.drop_db(&engine, &metadata).await.unwrap();
    assert_eq!(objects(&engine).await, vec![]);
}

#[tokio::test]
async fn hostile_names_end_up_exactly_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    engine
        .session()
        .run(|c| c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)"))
        .await
        .unwrap();
    let names = [
        "x\";--",
        "'; DROP TABLE t; --",
        "a\"b'c",
        "données ✓",
        "select",
        "Table With Spaces",
    ];
    let mut metadata = Metadata::new();
    for name in names {
        metadata = metadata.table(
            Table::new(name)
                .column(Column::new(name, ColumnType::Text))
                .column(Column::new("from", ColumnType::Integer))
                .index(Index::new(format!("ix {name}"), [name])),
        );
    }
    config.create_db(&engine, &metadata).await.unwrap();
    let mut expected: Vec<(String, String)> = names
        .iter()
        .flat_map(|n| {
            [
                ("index".to_owned(), format!("ix {n}")),
                ("table".to_owned(), n.to_string()),
            ]
        })
        .collect();
    expected.push(("table".into(), "t".into()));
    expected.sort();
    assert_eq!(objects(&engine).await, expected);
    // The sentinel table is intact, and every column is named exactly.
    let (rows, columns): (i64, String) = engine
        .session()
        .run(|c| {
            let rows = c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
            let columns = c.query_row(
                "SELECT group_concat(name, '|') FROM pragma_table_info('''; DROP TABLE t; --')",
                [],
                |r| r.get(0),
            )?;
            Ok((rows, columns))
        })
        .await
        .unwrap();
    assert_eq!(rows, 1);
    assert_eq!(columns, "'; DROP TABLE t; --|from");
    assert_eq!(
        config.verify_db(&engine, &metadata).await.unwrap().len(),
        1,
        "only t is extra"
    );
    config.drop_db(&engine, &metadata).await.unwrap();
    assert_eq!(
        objects(&engine).await,
        [("table".to_owned(), "t".to_owned())]
    );
}

#[tokio::test]
async fn invalid_metadata_is_a_typed_error_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let ok_table = Table::new("ok")
        .column(Column::new("id", ColumnType::Integer))
        .primary_key(["id"]);
    let cases: Vec<(Metadata, &str)> = vec![
        (
            Metadata::new().table(ok_table.clone()).table(
                Table::new("child")
                    .column(Column::new("id", ColumnType::Integer))
                    .foreign_key(ForeignKey::new(["id"], "missing", ["id"])),
            ),
            "references table missing",
        ),
        (
            Metadata::new().table(ok_table.clone().index(Index::new("ix", ["nope"]))),
            "names column \"nope\"",
        ),
        (
            Metadata::new()
                .table(ok_table.clone())
                .table(ok_table.clone()),
            "duplicate table \"ok\"",
        ),
        (
            Metadata::new().table(ok_table.clone().column(Column::new("id", ColumnType::Text))),
            "duplicate column of table ok \"id\"",
        ),
        (
            Metadata::new().table(ok_table.clone()).table(
                Table::new("child")
                    .column(Column::new("ok_id", ColumnType::Integer))
                    .column(Column::new("x", ColumnType::Integer))
                    .foreign_key(ForeignKey::new(["ok_id", "x"], "ok", ["id"])),
            ),
            "2 columns reference 1 columns",
        ),
        (
            Metadata::new().table(
                ok_table
                    .clone()
                    .column(Column::new("s", ColumnType::Enum("nope".into()))),
            ),
            "enum:nope",
        ),
        (
            Metadata::new().table(
                ok_table
                    .clone()
                    .index(Index::new("ix", ["id"]).include(["nope"])),
            ),
            "INCLUDE of index ix of table ok names column \"nope\"",
        ),
        (
            Metadata::new().table(ok_table.clone().in_schema("other")),
            "sqlite does not support schemas",
        ),
    ];
    for (metadata, message) in cases {
        let err = config.create_db(&engine, &metadata).await.unwrap_err();
        let Error::Schema(inner) = &err else {
            panic!("expected a schema error, got {err:?}")
        };
        assert!(inner.to_string().contains(message), "{inner} / {message}");
        assert!(matches!(
            inner,
            SchemaError::UnknownTable { .. }
                | SchemaError::UnknownColumn { .. }
                | SchemaError::Duplicate { .. }
                | SchemaError::BadForeignKey { .. }
                | SchemaError::UnknownEnum { .. }
                | SchemaError::Unsupported { .. }
        ));
        assert_eq!(
            objects(&engine).await,
            vec![],
            "something ran for {message}"
        );
    }
}

#[tokio::test]
async fn verify_reports_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let metadata = jobs();
    config.create_db(&engine, &metadata).await.unwrap();
    engine
        .session()
        .run(|c| {
            c.execute_batch(
                "DROP INDEX ix_job_ready; ALTER TABLE job ADD COLUMN extra TEXT; \
                 CREATE INDEX ix_surprise ON queue (name); CREATE TABLE stray (x)",
            )
        })
        .await
        .unwrap();
    let diff: Vec<String> = config
        .verify_db(&engine, &metadata)
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        diff,
        [
            "missing index job.ix_job_ready",
            "extra table stray",
            "extra column job.extra",
            "extra index queue.ix_surprise",
        ]
    );
}

/// A statement SQLite rejects names the statement (and so the table) that failed, and nothing of
/// the call is kept.
#[tokio::test]
async fn a_failed_statement_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let metadata = Metadata::new()
        .table(Table::new("first").column(Column::new("id", ColumnType::Integer)))
        .table(
            Table::new("second")
                .column(Column::new("id", ColumnType::Integer))
                .check(None, "no_such_column > 0"),
        );
    match config.create_db(&engine, &metadata).await.unwrap_err() {
        Error::Ddl { statement, source } => {
            assert!(statement.contains("\"second\""), "{statement}");
            assert!(
                source.to_string().contains("no_such_column")
                    || format!("{source:?}").contains("no_such_column"),
                "{source:?}"
            );
        }
        other => panic!("expected Error::Ddl, got {other:?}"),
    }
    assert!(objects(&engine).await.is_empty(), "nothing kept");
}

/// A changed index reads in plain words, not Rust debug syntax (`Some(..)`, `["a"]`).
#[tokio::test]
async fn differences_read_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let table = |index: Index| {
        Metadata::new().table(
            Table::new("t")
                .column(Column::new("a", ColumnType::Integer))
                .column(Column::new("b", ColumnType::Integer))
                .index(index),
        )
    };
    let built = table(Index::new("ix_t", ["a"]).unique().filter("a > 0"));
    config.create_db(&engine, &built).await.unwrap();
    let wanted = table(Index::new("ix_t", ["a", "b"]));
    let diff: Vec<String> = config
        .verify_db(&engine, &wanted)
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        diff,
        [
            "different index t.ix_t: unique, expected not unique; partial (WHERE …), expected not \
          partial; on (a), expected (a, b)"
        ]
    );
}

/// Found by the property test: with foreign keys on, dropping a table of a cycle that also
/// references itself with an action fails ("no such table") once the other table is gone.
#[tokio::test]
async fn cycle_with_a_self_reference_drops_and_foreign_keys_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let metadata = Metadata::new()
        .table(
            Table::new("parent")
                .column(Column::new("id", ColumnType::Integer).identity())
                .column(Column::new("child_id", ColumnType::Integer))
                .column(Column::new("self_id", ColumnType::Integer))
                .primary_key(["id"])
                .foreign_key(ForeignKey::new(["child_id"], "child", ["id"]))
                .foreign_key(
                    ForeignKey::new(["self_id"], "parent", ["id"]).on_delete(Action::Cascade),
                ),
        )
        .table(
            Table::new("child")
                .column(Column::new("id", ColumnType::Integer).identity())
                .column(Column::new("parent_id", ColumnType::Integer))
                .primary_key(["id"])
                .foreign_key(ForeignKey::new(["parent_id"], "parent", ["id"])),
        );
    config.create_db(&engine, &metadata).await.unwrap();
    config.drop_db(&engine, &metadata).await.unwrap();
    assert_eq!(objects(&engine).await, vec![]);
    // Foreign keys are enforced again on the pooled connection.
    config.create_db(&engine, &metadata).await.unwrap();
    let err = engine
        .session()
        .run(|c| c.execute("INSERT INTO child (parent_id) VALUES (42)", []))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("sqlite") || format!("{err:?}").contains("FOREIGN KEY"),
        "{err:?}"
    );
}

fn orchestrator() -> Metadata {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/schema/orchestrator.json");
    Metadata::from_file(&path).unwrap()
}

#[tokio::test]
async fn example_orchestrator_schema_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let metadata = orchestrator();
    assert!(metadata.tables.len() >= 30);
    config.create_db(&engine, &metadata).await.unwrap();
    let diff = config.verify_db(&engine, &metadata).await.unwrap();
    assert!(diff.is_empty(), "{diff:#?}");
    // The SQLite half of the per-dialect `id` defaults: a random version-4 UUID, as text.
    let ids: Vec<String> = engine
        .session()
        .run(|c| {
            c.execute_batch("INSERT INTO flow (name) VALUES ('a'), ('b')")?;
            c.prepare("SELECT id FROM flow ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect()
        })
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    for id in &ids {
        let parsed = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(parsed.get_version_num(), 4, "{id}");
        assert_eq!(
            *id,
            parsed.hyphenated().to_string(),
            "canonical lower-case form"
        );
    }
    // The PostgreSQL-only parts (GIN method, operator class, INCLUDE) are left out here: the
    // covering index is a plain index on its key.
    let sql: String = engine
        .session()
        .run(|c| {
            c.query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'ix_flow_run__state_type'",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(
        sql,
        "CREATE INDEX \"ix_flow_run__state_type\" ON \"flow_run\" (\"state_type\")"
    );
    config.create_db(&engine, &metadata).await.unwrap();
    config.drop_db(&engine, &metadata).await.unwrap();
    assert_eq!(objects(&engine).await, vec![]);
}

/// A declared SQLite type replaces the mapped one there (PostgreSQL keeps the mapped type), and
/// verify compares against it.
#[tokio::test]
async fn a_declared_sqlite_type_is_created_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let table = |declared: &str| {
        Metadata::new().table(
            Table::new("doc")
                .column(Column::new("id", ColumnType::Uuid).sqlite_type(declared))
                .column(Column::new("body", ColumnType::Jsonb)),
        )
    };
    config.create_db(&engine, &table("TEXT")).await.unwrap();
    let declared: String = engine
        .session()
        .run(|c| {
            c.query_row(
                "SELECT type FROM pragma_table_info('doc') WHERE name = 'id'",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(declared, "TEXT");
    assert_eq!(
        config.verify_db(&engine, &table("TEXT")).await.unwrap(),
        vec![]
    );
    let diff = config
        .verify_db(&engine, &table("VARCHAR(36)"))
        .await
        .unwrap();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert_eq!(
        diff[0].to_string(),
        "different column doc.id: type is TEXT, expected VARCHAR(36)"
    );
    // Not a type name: refused before any SQL runs.
    let err = config
        .create_db(&engine, &table("TEXT); DROP TABLE doc; --"))
        .await
        .unwrap_err();
    let Error::Schema(inner) = &err else {
        panic!("expected a schema error, got {err:?}")
    };
    assert!(inner.to_string().contains("is not a type name"), "{inner}");
}

/// Fuzz regression (`ddl`): a table in schema `main` is the plain table on SQLite, and verify
/// agrees.
#[tokio::test]
async fn schema_main_is_the_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    let metadata = Metadata::new().table(
        Table::new("select")
            .in_schema("main")
            .column(Column::new("a", ColumnType::Integer).not_null())
            // Fuzz regression too: SQLite folds a UNIQUE on the key's columns into the key.
            .primary_key(["a"])
            .unique(None, ["a"])
            // And REFERENCES takes a bare table name on SQLite, never main."t".
            .foreign_key(ForeignKey::new(["a"], "select", ["a"])),
    );
    config.create_db(&engine, &metadata).await.unwrap();
    assert_eq!(config.verify_db(&engine, &metadata).await.unwrap(), vec![]);
    config.drop_db(&engine, &metadata).await.unwrap();
    assert_eq!(objects(&engine).await, vec![]);
}

/// Issue: schema expressions went through `execute_batch`, so a CHECK expression could carry a
/// second statement. DDL now runs one statement at a time: such a schema is an error and only
/// the DDL it describes could ever run.
#[tokio::test]
async fn an_expression_cannot_smuggle_a_second_statement() {
    let dir = tempfile::tempdir().unwrap();
    let (config, engine) = engine(&dir).await;
    engine
        .session()
        .run(|c| c.execute_batch("CREATE TABLE victim (x); INSERT INTO victim VALUES (1)"))
        .await
        .unwrap();
    for expr in [
        "1)\n); DROP TABLE victim; CREATE TABLE z (y INTEGER CHECK (1",
        "1)\n); DELETE FROM victim; CREATE TABLE z (y INTEGER CHECK (1",
    ] {
        let metadata = Metadata::new().table(
            Table::new("t")
                .column(Column::new("a", ColumnType::Integer))
                .check(None, expr),
        );
        let err = config.create_db(&engine, &metadata).await.unwrap_err();
        assert!(
            format!("{err:?}").contains("MultipleStatement"),
            "{expr}: {err:?}"
        );
        let rows: i64 = engine
            .session()
            .run(|c| c.query_row("SELECT count(*) FROM victim", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(rows, 1, "{expr}: the smuggled statement ran");
    }
    assert_eq!(
        objects(&engine).await,
        [("table".to_owned(), "victim".to_owned())],
        "nothing of the rejected schema was created"
    );
}
