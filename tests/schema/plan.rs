//! `plan_db` on concrete schemas: rows kept through a SQLite table rebuild, hand-made indexes
//! kept, destructive changes listed and written only when asked, a foreign-key violation that
//! rolls the step back, PostgreSQL enum labels inserted in place.

use crate::common;

use dbconfig::migrate::plan::{ChangeKind, Plan};
use dbconfig::migrate::{FOREIGN_KEYS_OFF, MigrationError, Migrations};
use dbconfig::prelude::*;
use dbconfig::schema::{
    Column, ColumnDefault, ColumnType, EnumType, ForeignKey, Index, Literal, Metadata, Table,
};
use dbconfig::{Error, PostgresConfig, SqliteConfig};

/// v1: `team` and `job (id, name)`.
fn v1() -> Metadata {
    Metadata::new()
        .table(
            Table::new("team")
                .column(Column::new("id", ColumnType::BigInt).not_null())
                .primary_key(["id"]),
        )
        .table(
            Table::new("job")
                .column(Column::new("id", ColumnType::BigInt).not_null())
                .column(Column::new("name", ColumnType::Text).not_null())
                .primary_key(["id"]),
        )
}

/// v2: `job` gains a column SQLite can add in place (`priority`), columns it cannot (`created`
/// with CURRENT_TIMESTAMP, `state` with an enum CHECK), a foreign key to `team`, an index; a new
/// table `note` references `job`.
fn v2() -> Metadata {
    let mut metadata = v1().enum_type(EnumType::new("state", ["new", "done"]));
    let job = metadata
        .tables
        .iter_mut()
        .find(|t| t.name == "job")
        .unwrap();
    *job = job
        .clone()
        .column(
            Column::new("priority", ColumnType::Integer)
                .not_null()
                .default(ColumnDefault::Value(Literal::Int(0))),
        )
        .column(
            Column::new("created", ColumnType::TimestampTz)
                .default(ColumnDefault::CurrentTimestamp),
        )
        .column(
            Column::new("state", ColumnType::Enum("state".into()))
                .default(ColumnDefault::Value(Literal::Text("new".into()))),
        )
        .column(Column::new("team_id", ColumnType::BigInt))
        .foreign_key(ForeignKey::new(["team_id"], "team", ["id"]))
        .index(Index::new("ix_job_priority", ["priority"]));
    metadata.table(
        Table::new("note")
            .column(Column::new("id", ColumnType::BigInt).not_null())
            .column(Column::new("job_id", ColumnType::BigInt).not_null())
            .primary_key(["id"])
            .foreign_key(ForeignKey::new(["job_id"], "job", ["id"])),
    )
}

fn kinds(plan: &Plan) -> Vec<(ChangeKind, String)> {
    plan.changes
        .iter()
        .map(|c| (c.kind, c.summary.clone()))
        .collect()
}

/// Adds `plan` to `set` as step `id` and runs `up`.
async fn apply<C: DatabaseConfig>(
    config: &C,
    set: &mut Migrations,
    id: &str,
    plan: &Plan,
    destructive: bool,
) {
    *set = std::mem::take(set).step(plan.migration(id, "planned", destructive));
    if let Err(e) = set.up(config).await {
        panic!("{e:?}\n{}", plan.sql(destructive));
    }
}

#[tokio::test]
async fn sqlite_rebuild_keeps_rows_and_hand_made_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig::new(&common::file_url(dir.path(), "plan.db")).unwrap();
    let engine = config.engine().await.unwrap();
    config.create_db(&engine, &v1()).await.unwrap();
    let mut session = config.session(&engine).await.unwrap();
    session
        .execute_batch(
            "INSERT INTO team (id) VALUES (7);
             INSERT INTO job (id, name) VALUES (1, 'one'), (2, 'two');
             CREATE INDEX ix_hand_made ON job (name)",
        )
        .await
        .unwrap();

    let mut set = Migrations::new();
    let plan = engine.plan_db(&v2()).await.unwrap();
    assert_eq!(
        kinds(&plan),
        [
            (
                ChangeKind::Additive,
                "rebuild table job: new column created (a CURRENT_TIMESTAMP default); new foreign \
                 key fk_job_team_id"
                    .to_owned()
            ),
            (ChangeKind::Additive, "add table note".to_owned()),
            (
                ChangeKind::Destructive,
                "drop index ix_hand_made of table job (not in the metadata)".to_owned()
            ),
        ],
        "{}",
        plan.sql(false)
    );
    let sql = plan.sql(false);
    assert!(sql.lines().any(|l| l == FOREIGN_KEYS_OFF), "{sql}");
    assert!(
        sql.contains("-- Not written:\n--   drop index ix_hand_made"),
        "{sql}"
    );
    apply(&config, &mut set, "0001", &plan, false).await;

    let rows = session
        .query(
            "SELECT id, name, priority, state, created IS NOT NULL, team_id FROM job ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(i64, String, i64, String, bool, Option<i64>)> = rows
        .iter()
        .map(|r| {
            (
                r.get(0).unwrap(),
                r.get(1).unwrap(),
                r.get(2).unwrap(),
                r.get(3).unwrap(),
                r.get(4).unwrap(),
                r.get(5).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "one".into(), 0, "new".into(), true, None),
            (2, "two".into(), 0, "new".into(), true, None)
        ]
    );
    // The hand-made index went with the old table and was made again.
    let diff: Vec<String> = config
        .verify_db(&engine, &v2())
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(diff, ["extra index job.ix_hand_made"]);
    let hand_made = session
        .query(
            "SELECT 1 FROM sqlite_schema WHERE name = 'ix_hand_made'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(hand_made.len(), 1);
    // The new foreign key and the enum CHECK hold.
    for bad in [
        "UPDATE job SET team_id = 99 WHERE id = 1",
        "UPDATE job SET state = 'lost' WHERE id = 1",
    ] {
        assert!(session.execute(bad, &[]).await.is_err(), "{bad}");
    }
    // The only change left is the destructive one.
    let again = engine.plan_db(&v2()).await.unwrap();
    assert_eq!(kinds(&again).len(), 1);
    assert_eq!(again.changes[0].kind, ChangeKind::Destructive);
    assert!(!again.has_work(false));

    // A label added to the enum: the CHECK changes, so the table is rebuilt.
    let mut v3 = v2();
    v3.enums[0].values.push("late".into());
    let plan = engine.plan_db(&v3).await.unwrap();
    assert!(
        plan.changes[0]
            .summary
            .contains("the labels of enum column state changed"),
        "{:#?}",
        plan.changes
    );
    apply(&config, &mut set, "0002", &plan, false).await;
    session
        .execute("UPDATE job SET state = 'late' WHERE id = 1", &[])
        .await
        .unwrap();

    // Dropping a column is destructive: listed, written only when asked.
    let mut v4 = v3.clone();
    let job = v4.tables.iter_mut().find(|t| t.name == "job").unwrap();
    job.columns.retain(|c| c.name != "priority");
    job.indexes.clear();
    let plan = engine.plan_db(&v4).await.unwrap();
    assert!(
        !plan.sql(false).contains("CREATE TABLE"),
        "{}",
        plan.sql(false)
    );
    assert!(
        plan.changes
            .iter()
            .any(|c| c.kind == ChangeKind::Destructive
                && c.summary.contains("column priority is dropped")),
        "{:#?}",
        plan.changes
    );
    apply(&config, &mut set, "0003", &plan, true).await;
    let left = engine.plan_db(&v4).await.unwrap();
    assert!(left.is_empty(), "{:#?}", left.changes);
    let names = session
        .query("SELECT name, state FROM job ORDER BY id", &[])
        .await
        .unwrap();
    assert_eq!(names[0].get::<String>(0).unwrap(), "one");
    assert_eq!(names[0].get::<String>(1).unwrap(), "late");
}

/// A rebuild that leaves rows without their parent fails `foreign_key_check`: the step is
/// rolled back, and the connection it ran on does not go back to the pool with foreign keys
/// off.
#[tokio::test]
async fn sqlite_rebuild_that_breaks_a_foreign_key_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = common::file_url(dir.path(), "fk.db");
    let settings = dbconfig::Settings::new()
        .with_url(url.parse().unwrap())
        .with_pool_size(1);
    let config = SqliteConfig::from_settings(settings).unwrap();
    let engine = config.engine().await.unwrap();
    config.create_db(&engine, &v1()).await.unwrap();
    let mut session = config.session(&engine).await.unwrap();
    // A job whose team does not exist; v2 makes team_id a foreign key, so plan it with the
    // column already there.
    session
        .execute_batch(
            "ALTER TABLE job ADD COLUMN team_id BIGINT;
             INSERT INTO job (id, name, team_id) VALUES (1, 'orphan', 42)",
        )
        .await
        .unwrap();
    drop(session);
    let mut v = v1();
    let job = v.tables.iter_mut().find(|t| t.name == "job").unwrap();
    *job = job
        .clone()
        .column(Column::new("team_id", ColumnType::BigInt))
        .foreign_key(ForeignKey::new(["team_id"], "team", ["id"]));
    let plan = engine.plan_db(&v).await.unwrap();
    let set = Migrations::new().step(plan.migration("0001", "fk", false));
    match set.up(&config).await.unwrap_err() {
        Error::Migration(MigrationError::ForeignKeyCheck {
            id,
            violations,
            table,
        }) => {
            assert_eq!(
                (id.as_str(), violations, table.as_str()),
                ("0001", 1, "job")
            );
        }
        other => panic!("expected ForeignKeyCheck, got {other:?}"),
    }
    // Nothing of the step: no foreign key, no record.
    assert!(!engine.plan_db(&v).await.unwrap().is_empty());
    let status = set.status(&config).await.unwrap();
    assert!(matches!(
        status[0].state,
        dbconfig::migrate::StepState::Pending
    ));
    let mut session = config.session(&engine).await.unwrap();
    let on = session.query("PRAGMA foreign_keys", &[]).await.unwrap();
    assert_eq!(on[0].get::<i64>(0).unwrap(), 1);
}

#[tokio::test]
async fn postgres_plan_adds_labels_in_place_and_lists_what_it_cannot_do() {
    let Some(url) = common::pg_url("plan_enum") else {
        return;
    };
    let config = PostgresConfig::new(&url).unwrap();
    let engine = config.engine().await.unwrap();
    let with_labels = |labels: &[&str]| {
        Metadata::new()
            .enum_type(EnumType::new("state", labels.iter().copied()))
            .table(
                Table::new("job")
                    .column(Column::new("id", ColumnType::BigInt).not_null())
                    .column(Column::new("state", ColumnType::Enum("state".into())))
                    .primary_key(["id"]),
            )
    };
    config
        .create_db(&engine, &with_labels(&["a", "c"]))
        .await
        .unwrap();
    let mut session = config.session(&engine).await.unwrap();
    session
        .execute_batch("INSERT INTO job VALUES (1, 'c'); ALTER TABLE job ADD COLUMN legacy int")
        .await
        .unwrap();
    let mut target = with_labels(&["z", "a", "b", "c", "d"]);
    let job = &mut target.tables[0];
    *job = job
        .clone()
        .column(
            Column::new("priority", ColumnType::Integer)
                .not_null()
                .default(ColumnDefault::Value(Literal::Int(5))),
        )
        .index(Index::new("ix_job_priority", ["priority"]).include(["state"]));
    let mut set = Migrations::new();
    let plan = engine.plan_db(&target).await.unwrap();
    assert_eq!(
        kinds(&plan),
        [
            (
                ChangeKind::Additive,
                "add labels z, b, d to enum type state".to_owned()
            ),
            (ChangeKind::Additive, "add column job.priority".to_owned()),
            (
                ChangeKind::Additive,
                "add index ix_job_priority to table job".to_owned()
            ),
            (
                ChangeKind::Destructive,
                "drop column job.legacy (not in the metadata)".to_owned()
            ),
        ]
    );
    assert!(
        plan.sql(false).contains(
            "ALTER TYPE \"state\" ADD VALUE 'z' BEFORE 'a';\n\
             ALTER TYPE \"state\" ADD VALUE 'b' AFTER 'a';\n\
             ALTER TYPE \"state\" ADD VALUE 'd' AFTER 'c';"
        ),
        "{}",
        plan.sql(false)
    );
    apply(&config, &mut set, "0001", &plan, false).await;
    let labels = session
        .query(
            "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum \
             WHERE enumtypid = 'state'::regtype",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(labels[0].get::<String>(0).unwrap(), "z,a,b,c,d");
    let row = session
        .query("SELECT priority, state::text FROM job", &[])
        .await
        .unwrap();
    assert_eq!(
        (
            row[0].get::<i64>(0).unwrap(),
            row[0].get::<String>(1).unwrap()
        ),
        (5, "c".to_owned())
    );
    let diff: Vec<String> = config
        .verify_db(&engine, &target)
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(diff, ["extra column job.legacy"]);

    // Labels the database has and the metadata lost: PostgreSQL cannot remove them.
    let plan = engine
        .plan_db(&with_labels(&["a", "b", "c", "d"]))
        .await
        .unwrap();
    assert!(
        plan.changes.iter().any(|c| c.kind == ChangeKind::Manual
            && c.summary
                .contains("PostgreSQL cannot remove or reorder labels")),
        "{:#?}",
        plan.changes
    );
}
