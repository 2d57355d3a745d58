//! Property test of `plan_db`: random metadata (the generator of `props`), an older version of
//! it with tables, columns, keys, foreign keys, indexes and an enum label taken away; create the
//! older one, plan the newer one, apply the plan as a migration step, and `verify_db` against
//! the newer metadata reports no difference; planning again finds nothing. On SQLite (48 cases)
//! and PostgreSQL (16 cases, one schema each).

use dbconfig::migrate::Migrations;
use dbconfig::migrate::plan::{ChangeKind, Plan};
use dbconfig::schema::{ColumnDefault, ColumnType, IndexTarget, Literal, Metadata};
use dbconfig::{DatabaseConfig, Dialect, PostgresConfig, Settings, SqliteConfig};
use proptest::prelude::*;

use super::props::{TableSpec, build, quoted, table_spec};
use crate::common;

/// `newer` with parts taken away, chosen by `picks`: what an earlier version of the schema
/// could have been.
fn older(newer: &Metadata, picks: &[u8], fewer_labels: bool) -> Metadata {
    let mut picks = picks.iter().copied().cycle();
    let mut next = move || picks.next().unwrap_or(0);
    let mut old = newer.clone();
    if fewer_labels {
        old.enums[0].values.pop();
    }
    let kept: Vec<String> = old
        .tables
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || next() % 3 != 0)
        .map(|(_, t)| t.name.clone())
        .collect();
    old.tables.retain(|t| kept.contains(&t.name));
    for table in &mut old.tables {
        table
            .foreign_keys
            .retain(|fk| kept.contains(&fk.ref_table) && next() % 3 != 0);
        let removed: Vec<String> = table
            .columns
            .iter()
            .filter(|c| {
                c.name != "id"
                    && !table
                        .foreign_keys
                        .iter()
                        .any(|fk| fk.columns.contains(&c.name))
            })
            .map(|c| c.name.clone())
            .filter(|_| next() % 4 == 0)
            .collect();
        let mentions = |text: &str| removed.iter().any(|c| text.contains(&quoted(c)));
        table.columns.retain(|c| !removed.contains(&c.name));
        table
            .unique
            .retain(|u| !u.columns.iter().any(|c| removed.contains(c)) && next() % 3 != 0);
        table.indexes.retain(|i| {
            let uses_removed = i.parts.iter().any(|p| match &p.target {
                IndexTarget::Column(c) => removed.contains(c),
                IndexTarget::Expr(e) => mentions(e),
                _ => true,
            }) || i.filter.as_deref().is_some_and(mentions);
            !uses_removed && next() % 3 != 0
        });
    }
    old
}

/// What PostgreSQL accepts where the generator writes SQLite's looser SQL: a default is a
/// literal of the column type's kind (or none), an index expression works on any type, and
/// JSON is `jsonb`.
fn postgres_safe(metadata: &mut Metadata) {
    for table in &mut metadata.tables {
        for index in &mut table.indexes {
            for part in &mut index.parts {
                if let IndexTarget::Expr(e) = &mut part.target
                    && let Some(column) = e
                        .strip_prefix("coalesce(")
                        .and_then(|r| r.strip_suffix(", 0)"))
                {
                    *e = format!("{column} IS NULL");
                }
            }
        }
        for column in &mut table.columns {
            // `json` has no btree operator class (indexes, unique constraints); `jsonb` has.
            if column.ty == ColumnType::Json {
                column.ty = ColumnType::Jsonb;
            }
            let keep = match (&column.ty, &column.default) {
                (_, None | Some(ColumnDefault::Value(Literal::Null))) => true,
                (
                    ColumnType::Integer | ColumnType::BigInt,
                    Some(ColumnDefault::Value(Literal::Int(i))),
                ) => i32::try_from(*i).is_ok() || column.ty == ColumnType::BigInt,
                (
                    ColumnType::Real | ColumnType::Double,
                    Some(ColumnDefault::Value(Literal::Float(_))),
                ) => true,
                (ColumnType::Boolean, Some(ColumnDefault::Value(Literal::Bool(_)))) => true,
                (ColumnType::Text, Some(ColumnDefault::Value(Literal::Text(_)))) => true,
                (
                    ColumnType::Timestamp | ColumnType::TimestampTz | ColumnType::Date,
                    Some(ColumnDefault::CurrentTimestamp),
                ) => true,
                _ => false,
            };
            if !keep {
                column.default = None;
            }
        }
    }
}

/// Creates `old`, plans `new`, applies the plan, verifies, plans again.
async fn upgrade<C: DatabaseConfig>(
    config: &C,
    old: &Metadata,
    new: &Metadata,
    plan_db: impl AsyncFn(&C::Engine, &Metadata) -> dbconfig::Result<Plan>,
) {
    let engine = config.engine().await.unwrap();
    config.create_db(&engine, old).await.unwrap();
    let plan = plan_db(&engine, new).await.unwrap();
    let unexpected: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Additive)
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    let step = plan.migration("0001", "planned", false);
    if let Err(e) = Migrations::new().step(step).up(config).await {
        panic!("{e:?}\n{}", plan.sql(false));
    }
    let diff = config.verify_db(&engine, new).await.unwrap();
    assert!(diff.is_empty(), "{diff:#?}\n{}", plan.sql(false));
    let again = plan_db(&engine, new).await.unwrap();
    assert!(
        again.is_empty(),
        "{:#?}\n{}",
        again.changes,
        plan.sql(false)
    );
}

fn case() -> impl Strategy<Value = (Vec<TableSpec>, Vec<u8>, bool)> {
    (
        (1usize..5).prop_flat_map(|n| prop::collection::vec(table_spec(n), n)),
        prop::collection::vec(any::<u8>(), 1..64),
        any::<bool>(),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_plan_of_additive_changes_brings_sqlite_to_the_metadata((specs, picks, fewer) in case()) {
        let new = build(specs);
        let old = older(&new, &picks, fewer);
        prop_assume!(old.validate_for(Dialect::Sqlite).is_ok());
        runtime().block_on(async {
            let config = SqliteConfig::new("sqlite://").unwrap();
            upgrade(&config, &old, &new, async |engine: &dbconfig::SqliteEngine, m: &Metadata| {
                engine.plan_db(m).await
            })
            .await;
            config.engine().await.unwrap().dispose();
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn a_plan_of_additive_changes_brings_postgres_to_the_metadata((specs, picks, fewer) in case()) {
        let mut new = build(specs);
        postgres_safe(&mut new);
        let old = older(&new, &picks, fewer);
        prop_assume!(new.validate_for(Dialect::Postgres).is_ok());
        prop_assume!(old.validate_for(Dialect::Postgres).is_ok());
        let Some(url) = shared_pg_url() else { return Ok(()) };
        runtime().block_on(async {
            let admin = common::pg_admin(&url).await;
            let schema = format!("plan{}", std::process::id() as u64 * 1000 + next_case());
            admin.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
            let mut settings = Settings::new().with_url(url.parse().unwrap());
            settings.postgres.search_path = Some(schema.clone());
            let config = PostgresConfig::from_settings(settings).unwrap();
            upgrade(&config, &old, &new, async |engine: &dbconfig::PostgresEngine, m: &Metadata| {
                engine.plan_db(m).await
            })
            .await;
            config.engine().await.unwrap().dispose();
            admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
        });
    }
}

/// One database for every PostgreSQL case (each case gets a schema of its own).
fn shared_pg_url() -> Option<String> {
    static URL: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    URL.get_or_init(|| common::pg_url("plan_props")).clone()
}

fn next_case() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
