//! create_db / drop_db / verify_db on a real PostgreSQL database: idempotence, cycles across
//! schemas, enum types, hostile names, invalid metadata.

use crate::common;

use common::{pg_admin, pg_url};
use dbconfig::schema::{
    Action, Column, ColumnDefault, ColumnType, EnumType, ForeignKey, Index, IndexPart, Literal,
    Metadata, Table,
};
use dbconfig::{DatabaseConfig, Error, PostgresConfig, PostgresEngine};

/// Every user object of the database: relations (tables, indexes, sequences) and types
/// (enums), as `kind schema.name`.
async fn objects(admin: &tokio_postgres::Client) -> Vec<String> {
    admin
        .query(
            "SELECT c.relkind::text || ' ' || n.nspname || '.' || c.relname FROM pg_class c \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
             UNION ALL \
             SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t \
               JOIN pg_namespace n ON n.oid = t.typnamespace \
              WHERE t.typtype = 'e' \
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn setup(prefix: &str) -> Option<(PostgresConfig, PostgresEngine, tokio_postgres::Client)> {
    let url = pg_url(prefix)?;
    let config = PostgresConfig::new(&url).unwrap();
    let engine = config.build_engine().unwrap();
    let admin = pg_admin(&url).await;
    Some((config, engine, admin))
}

fn metadata() -> Metadata {
    let pair = |name: &str, other: &str| {
        Table::new(name)
            .in_schema("ops")
            .column(Column::new("id", ColumnType::BigInt).identity())
            .column(Column::new("other_id", ColumnType::BigInt))
            .primary_key(["id"])
            .foreign_key(ForeignKey::new(["other_id"], other, ["id"]).on_delete(Action::SetNull))
    };
    Metadata::new()
        .enum_type(
            EnumType::new("run_state", ["scheduled", "running", "it's done"]).in_schema("ops"),
        )
        .table(pair("flow_run", "flow_run_state"))
        .table(pair("flow_run_state", "flow_run"))
        .table(
            Table::new("event")
                .column(Column::new("id", ColumnType::Uuid))
                .column(
                    Column::new("occurred", ColumnType::TimestampTz)
                        .not_null()
                        .default(ColumnDefault::CurrentTimestamp),
                )
                .column(Column::new("state", ColumnType::Enum("run_state".into())))
                .column(
                    Column::new("payload", ColumnType::Jsonb)
                        .not_null()
                        .default(ColumnDefault::Value(Literal::Text("{}".into()))),
                )
                .column(Column::new(
                    "amount",
                    ColumnType::Numeric {
                        precision: 12,
                        scale: 2,
                    },
                ))
                .column(Column::new("run_id", ColumnType::BigInt))
                .column(Column::new("took", ColumnType::Interval))
                .column(Column::new("note", ColumnType::Varchar(200)))
                .column(
                    Column::new("flag", ColumnType::Boolean)
                        .default(ColumnDefault::Value(Literal::Bool(false))),
                )
                .primary_key(["id"])
                .check(Some("ck_event_amount"), "amount >= 0")
                .foreign_key(
                    ForeignKey::new(["run_id"], "flow_run", ["id"])
                        .ref_schema("ops")
                        .on_delete(Action::Cascade),
                )
                .index(Index::new("ix_event_occurred", ["occurred"]).filter("flag = false"))
                .index(Index::on(
                    "ix_event_lower",
                    [IndexPart::expr("lower(note)").desc()],
                ))
                .index(
                    Index::on(
                        "ix_event_payload",
                        [IndexPart::column("payload").opclass("jsonb_path_ops")],
                    )
                    .method("gin")
                    .only_on([dbconfig::Dialect::Postgres]),
                ),
        )
}

#[tokio::test]
async fn create_verify_create_drop_with_cycles_schemas_and_enums() {
    let Some((config, engine, admin)) = setup("schema_cycle").await else {
        return;
    };
    let before = objects(&admin).await;
    let metadata = metadata();
    config.create_db(&engine, &metadata).await.unwrap();
    let diff = config.verify_db(&engine, &metadata).await.unwrap();
    assert!(diff.is_empty(), "{diff:#?}");
    config.create_db(&engine, &metadata).await.unwrap();
    assert!(
        objects(&admin)
            .await
            .contains(&"type ops.run_state".to_owned())
    );
    // Rows referencing each other across the cycle.
    admin
        .batch_execute(
            "INSERT INTO ops.flow_run (id) VALUES (1); \
             INSERT INTO ops.flow_run_state (id, other_id) VALUES (1, 1); \
             UPDATE ops.flow_run SET other_id = 1; \
             INSERT INTO event (id, state, run_id) VALUES (gen_random_uuid(), 'it''s done', 1)",
        )
        .await
        .unwrap();
    admin
        .batch_execute(
            "ALTER TABLE event ALTER COLUMN note TYPE text; DROP INDEX ix_event_payload; \
             ALTER TABLE ops.flow_run DROP CONSTRAINT fk_flow_run_other_id",
        )
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
            "missing foreign key ops.flow_run(other_id) -> ops.flow_run_state(id)",
            "missing index event.ix_event_payload",
            "different column event.note: type is text, expected character varying(200)",
        ]
    );
    config.drop_db(&engine, &metadata).await.unwrap();
    let mut after = objects(&admin).await;
    after.retain(|o| !before.contains(o));
    assert_eq!(after, Vec::<String>::new(), "left behind after drop_db");
    config.drop_db(&engine, &metadata).await.unwrap();
    // The schema is kept (it may hold other objects); everything of the metadata is gone.
    let diff = config.verify_db(&engine, &metadata).await.unwrap();
    assert_eq!(diff.len(), 4, "{diff:#?}");
}

#[tokio::test]
async fn hostile_names_end_up_exactly_as_given() {
    let Some((config, engine, admin)) = setup("schema_hostile").await else {
        return;
    };
    admin
        .batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let names = [
        "x\";--",
        "'; DROP TABLE t; --",
        "a\"b'c",
        "données ✓",
        "select",
        "Mixed Case",
    ];
    let mut metadata =
        Metadata::new().enum_type(EnumType::new("e'\"; --", ["'); DROP TABLE t; --"]));
    for name in names {
        metadata = metadata.table(
            Table::new(name)
                .column(Column::new(name, ColumnType::Text))
                .column(Column::new("e", ColumnType::Enum("e'\"; --".into())))
                .index(Index::new(format!("ix {name}"), [name])),
        );
    }
    config.create_db(&engine, &metadata).await.unwrap();
    let mut expected: Vec<String> = names
        .iter()
        .flat_map(|n| [format!("i public.ix {n}"), format!("r public.{n}")])
        .collect();
    expected.push("r public.t".into());
    expected.push("type public.e'\"; --".into());
    expected.sort();
    assert_eq!(objects(&admin).await, expected);
    let rows: i64 = admin
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    let diff = config.verify_db(&engine, &metadata).await.unwrap();
    assert_eq!(diff.len(), 1, "only t is extra: {diff:#?}");
    config.drop_db(&engine, &metadata).await.unwrap();
    assert_eq!(objects(&admin).await, ["r public.t"]);
}

#[tokio::test]
async fn invalid_metadata_runs_nothing() {
    let Some((config, engine, admin)) = setup("schema_invalid").await else {
        return;
    };
    let before = objects(&admin).await;
    let long = "x".repeat(64);
    let metadata = Metadata::new()
        .table(Table::new("fine").column(Column::new("id", ColumnType::Integer)))
        .table(Table::new(long.as_str()).column(Column::new("id", ColumnType::Integer)));
    let err = config.create_db(&engine, &metadata).await.unwrap_err();
    assert!(
        matches!(&err, Error::Schema(e) if e.to_string().contains("63-byte")),
        "{err:?}"
    );
    assert_eq!(objects(&admin).await, before);
    // A statement the server rejects rolls the whole creation back.
    let metadata = Metadata::new()
        .table(Table::new("first").column(Column::new("id", ColumnType::Integer)))
        .table(
            Table::new("second")
                .column(Column::new("id", ColumnType::Integer))
                .check(None, "no_such_function(id)"),
        );
    // The error names the statement, and so the table, that failed.
    match config.create_db(&engine, &metadata).await.unwrap_err() {
        Error::Ddl { statement, source } => {
            assert!(statement.contains("\"second\""), "{statement}");
            assert_eq!(source.sqlstate(), Some("42883"), "{source:?}");
        }
        other => panic!("expected Error::Ddl, got {other:?}"),
    }
    assert_eq!(objects(&admin).await, before);
}

#[tokio::test]
async fn example_orchestrator_schema_round_trip() {
    let Some((config, engine, admin)) = setup("schema_example").await else {
        return;
    };
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/schema/orchestrator.json");
    let mut metadata = Metadata::from_file(&path).unwrap();
    let before = objects(&admin).await;
    config.create_db(&engine, &metadata).await.unwrap();
    let diff = config.verify_db(&engine, &metadata).await.unwrap();
    assert!(diff.is_empty(), "{diff:#?}");
    // The PostgreSQL half of the per-dialect `id` defaults: the server's gen_random_uuid().
    let row = admin
        .query_one(
            "INSERT INTO flow (name) VALUES ('a') RETURNING id, \
             (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d \
              JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum \
              WHERE d.adrelid = 'flow'::regclass AND a.attname = 'id')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, uuid::Uuid>(0).get_version_num(), 4);
    assert_eq!(row.get::<_, String>(1), "gen_random_uuid()");
    // The covering index and the GIN index, as the server describes them.
    for (index, expected) in [
        (
            "ix_flow_run__state_type",
            "USING btree (state_type) INCLUDE (id, expected_start_time)",
        ),
        ("ix_flow__tags_gin", "USING gin (tags jsonb_path_ops)"),
    ] {
        let def: String = admin
            .query_one("SELECT pg_get_indexdef($1::text::regclass)", &[&index])
            .await
            .unwrap()
            .get(0);
        assert!(def.ends_with(expected), "{def}");
    }
    // verify compares INCLUDE and named operator classes: change both in the metadata.
    index_mut(&mut metadata, "flow_run", "ix_flow_run__state_type").include = vec!["id".into()];
    index_mut(&mut metadata, "flow", "ix_flow__tags_gin").parts[0].opclass =
        Some("jsonb_ops".into());
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
            "different index flow.ix_flow__tags_gin: operator class of part 1 is jsonb_path_ops, \
             expected jsonb_ops",
            "different index flow_run.ix_flow_run__state_type: includes (id, \
             expected_start_time), expected (id)",
        ]
    );
    config.create_db(&engine, &metadata).await.unwrap();
    config.drop_db(&engine, &metadata).await.unwrap();
    assert_eq!(objects(&admin).await, before);
}

/// The index `name` of table `table`.
fn index_mut<'m>(metadata: &'m mut Metadata, table: &str, name: &str) -> &'m mut Index {
    let table = metadata
        .tables
        .iter_mut()
        .find(|t| t.name == table)
        .unwrap();
    table.indexes.iter_mut().find(|i| i.name == name).unwrap()
}

/// An enum type that exists with other labels than the metadata's: create_db fails naming both
/// lists (it never skips it silently, and never changes it), and nothing is created.
#[tokio::test]
async fn an_existing_enum_with_other_labels_is_an_error() {
    let Some((config, engine, admin)) = setup("schema_enum_labels").await else {
        return;
    };
    admin
        .batch_execute("CREATE TYPE state AS ENUM ('ready', 'done')")
        .await
        .unwrap();
    let before = objects(&admin).await;
    let metadata = |labels: &[&str]| {
        Metadata::new()
            .enum_type(EnumType::new("state", labels.iter().copied()))
            .table(Table::new("job").column(Column::new("s", ColumnType::Enum("state".into()))))
    };
    for labels in [
        &["ready", "running", "done"][..],
        &["done", "ready"],
        &["ready"],
    ] {
        let err = config
            .create_db(&engine, &metadata(labels))
            .await
            .unwrap_err();
        assert_eq!(err.sqlstate(), Some("42710"), "{err:?}");
        // The whole chain: the statement, then the server's message.
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(e) = source {
            message = format!("{message}: {e}");
            source = e.source();
        }
        assert!(
            message.contains(
                "type state exists but is not the enum of the metadata: labels \
                              {ready,done}, expected"
            ),
            "{message}"
        );
        assert_eq!(objects(&admin).await, before, "nothing was created");
    }
    // The same labels in the same order: the type is kept and the table created.
    config
        .create_db(&engine, &metadata(&["ready", "done"]))
        .await
        .unwrap();
    assert_eq!(
        config
            .verify_db(&engine, &metadata(&["ready", "done"]))
            .await
            .unwrap(),
        vec![]
    );
}

/// Issue: the DDL went to the server as one simple-protocol batch, so a CHECK expression could
/// carry a second statement. Each statement is now a single-statement extended-protocol request:
/// such a schema fails (42601) and nothing of it, or of the smuggled statement, runs.
#[tokio::test]
async fn an_expression_cannot_smuggle_a_second_statement() {
    let Some((config, engine, admin)) = setup("schema_smuggle").await else {
        return;
    };
    admin
        .batch_execute("CREATE TABLE victim (x int); INSERT INTO victim VALUES (1)")
        .await
        .unwrap();
    for expr in [
        "1 = 1)\n); DROP TABLE victim; CREATE TABLE z (y int CHECK (1 = 1",
        "1 = 1)\n); DELETE FROM victim; CREATE TABLE z (y int CHECK (1 = 1",
    ] {
        let metadata = Metadata::new().table(
            Table::new("t")
                .column(Column::new("a", ColumnType::Integer))
                .check(None, expr),
        );
        let err = config.create_db(&engine, &metadata).await.unwrap_err();
        assert_eq!(err.sqlstate(), Some("42601"), "{expr}: {err:?}");
        let rows: i64 = admin
            .query_one("SELECT count(*) FROM victim", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(rows, 1, "{expr}: the smuggled statement ran");
        assert_eq!(objects(&admin).await, ["r public.victim"]);
    }
}

/// A function earlier in `search_path` than `pg_catalog` shadows `format_type`, which the
/// catalog read calls, with one that returns an integer: `verify_db` returns
/// [`Error::Catalog`] naming the catalog query, the column and both types, and never panics.
#[tokio::test]
async fn a_catalog_value_of_an_unexpected_type_is_a_typed_error() {
    let Some(url) = pg_url("schema_catalog_type") else {
        return;
    };
    let admin = pg_admin(&url).await;
    admin
        .batch_execute(
            "CREATE SCHEMA shadow; \
             CREATE FUNCTION shadow.format_type(oid, integer) RETURNS integer \
                 LANGUAGE sql AS 'SELECT 1'",
        )
        .await
        .unwrap();
    let mut settings = dbconfig::Settings::default().with_url(url.parse().unwrap());
    settings.postgres.search_path = Some("shadow, pg_catalog, public".into());
    let config = PostgresConfig::from_settings(settings).unwrap();
    let engine = config.build_engine().unwrap();
    let metadata = Metadata::new().table(
        Table::new("job")
            .column(Column::new("id", ColumnType::BigInt))
            .primary_key(["id"]),
    );
    config.create_db(&engine, &metadata).await.unwrap();
    let err = config.verify_db(&engine, &metadata).await.unwrap_err();
    let Error::Catalog {
        query,
        column,
        reason,
    } = &err
    else {
        panic!("expected Error::Catalog, got {err:?}");
    };
    assert!(query.contains("pg_attribute"), "{query}");
    assert_eq!(column, "type");
    assert!(
        reason.contains("String") && reason.contains("int4"),
        "{reason}"
    );
    let message = err.to_string();
    assert!(
        message.contains("\"type\"") && message.contains("int4"),
        "{message}"
    );
}
