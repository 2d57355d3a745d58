//! Timing of schema evolution against `create_db` on the example schema
//! (`examples/schema/orchestrator.json`, 32 tables): `migrate up` of the schema as one step and
//! as one step per table, and `plan_db` against a database that lacks part of the schema. Each
//! case on a fresh database (a new SQLite file; a new PostgreSQL schema), median of the runs.
//!
//! ```sh
//! cargo run --release --example migrate_bench                       # SQLite only
//! PG_URL=postgresql://… cargo run --release --example migrate_bench  # and PostgreSQL
//! bash benches/migrate.sh                                            # both, PostgreSQL started for you
//! ```

use std::time::{Duration, Instant};

use dbconfig::migrate::{Migration, Migrations};
use dbconfig::schema::Metadata;
use dbconfig::{AnyConfig, Settings};

const RUNS: usize = 15;

/// A fresh, empty database of one backend per call.
trait Fresh {
    fn name(&self) -> &'static str;
    async fn fresh(&mut self) -> AnyConfig;
}

struct SqliteFiles {
    dir: tempfile::TempDir,
    n: usize,
}

impl Fresh for SqliteFiles {
    fn name(&self) -> &'static str {
        "SQLite file"
    }
    async fn fresh(&mut self) -> AnyConfig {
        self.n += 1;
        let url = format!(
            "sqlite:///{}",
            self.dir.path().join(format!("m{}.db", self.n)).display()
        );
        AnyConfig::from_url(&url).expect("sqlite url")
    }
}

struct PostgresSchemas {
    url: String,
    admin: tokio_postgres::Client,
    n: usize,
}

impl Fresh for PostgresSchemas {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }
    async fn fresh(&mut self) -> AnyConfig {
        self.n += 1;
        let schema = format!("bench_{}_{}", std::process::id(), self.n);
        self.admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create schema");
        let mut settings = Settings::new().with_url(self.url.parse().expect("PG_URL"));
        settings.postgres.search_path = Some(schema);
        AnyConfig::from_settings(settings).expect("postgres settings")
    }
}

/// `metadata` as one step per change of a plan against an empty database: enum types, then a
/// step per table (with its indexes), then PostgreSQL's foreign keys.
async fn per_table_steps(config: &AnyConfig, metadata: &Metadata) -> Migrations {
    let plan = config.plan_db(metadata).await.expect("plan");
    let dialect = plan.dialect;
    let mut set = Migrations::new();
    for (i, change) in plan.changes.iter().enumerate() {
        let sql = change.statements.join(";\n");
        let step = Migration::per_dialect(format!("{:04}", i + 1), &change.summary);
        set = set.step(match dialect {
            dbconfig::Dialect::Sqlite => step.sqlite(sql),
            _ => step.postgres(sql),
        });
    }
    set
}

/// `metadata` as one step.
fn one_step(metadata: &Metadata) -> Migrations {
    let text = |dialect| {
        dbconfig::schema::ddl::create_statements(metadata, dialect)
            .expect("ddl")
            .join(";\n")
    };
    Migrations::new().step(
        Migration::per_dialect("0001", "schema")
            .sqlite(text(dbconfig::Dialect::Sqlite))
            .postgres(text(dbconfig::Dialect::Postgres)),
    )
}

/// The schema without its last 8 tables and without the last column of each remaining table
/// that can go (not in a key, index or constraint): what `plan_db` has to find.
fn older(metadata: &Metadata) -> Metadata {
    let mut old = metadata.clone();
    let keep = old.tables.len() - 8;
    let dropped: Vec<String> = old.tables[keep..].iter().map(|t| t.name.clone()).collect();
    old.tables.truncate(keep);
    for table in &mut old.tables {
        table
            .foreign_keys
            .retain(|fk| !dropped.contains(&fk.ref_table));
        let used = |c: &str| {
            table.primary_key.iter().any(|k| k == c)
                || table
                    .unique
                    .iter()
                    .any(|u| u.columns.iter().any(|x| x == c))
                || table
                    .foreign_keys
                    .iter()
                    .any(|f| f.columns.iter().any(|x| x == c))
                || table.checks.iter().any(|k| k.expr.contains(c))
                || table.indexes.iter().any(|i| format!("{i:?}").contains(c))
        };
        if let Some(pos) = table.columns.iter().rposition(|c| !used(&c.name)) {
            table.columns.remove(pos);
        }
    }
    old
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

async fn measure(backend: &mut impl Fresh, metadata: &Metadata) {
    let steps = per_table_steps(&backend.fresh().await, metadata).await;
    let one = one_step(metadata);
    let old = older(metadata);
    let columns = |m: &Metadata| m.tables.iter().map(|t| t.columns.len()).sum::<usize>();
    let kept: usize = metadata
        .tables
        .iter()
        .filter(|t| old.find_table(t.schema.as_deref(), &t.name).is_some())
        .map(|t| t.columns.len())
        .sum();
    let missing = format!(
        "plan_db, {} tables and {} columns missing",
        metadata.tables.len() - old.tables.len(),
        kept - columns(&old)
    );
    let (mut create, mut up_one, mut up_each, mut plan, mut plan_same) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let config = backend.fresh().await;
        let engine = config.engine().await.expect("engine");
        let t = Instant::now();
        engine.create_db(metadata).await.expect("create_db");
        create.push(t.elapsed());
        let t = Instant::now();
        let plan_now = engine.plan_db(metadata).await.expect("plan");
        plan_same.push(t.elapsed());
        assert!(plan_now.is_empty());
        engine.dispose();

        let config = backend.fresh().await;
        let t = Instant::now();
        one.up(&config).await.expect("up, one step");
        up_one.push(t.elapsed());
        config.engine().await.expect("engine").dispose();

        let config = backend.fresh().await;
        let t = Instant::now();
        steps.up(&config).await.expect("up, a step per table");
        up_each.push(t.elapsed());
        config.engine().await.expect("engine").dispose();

        let config = backend.fresh().await;
        let engine = config.engine().await.expect("engine");
        engine
            .create_db(&old)
            .await
            .expect("create_db of the older schema");
        let t = Instant::now();
        let planned = engine.plan_db(metadata).await.expect("plan");
        plan.push(t.elapsed());
        assert!(planned.has_work(false));
        engine.dispose();
    }
    let base = median(create.clone());
    let ratio = |d: Duration| format!("{:.2}×", d.as_secs_f64() / base.as_secs_f64());
    println!(
        "\n{} ({} tables, median of {RUNS} fresh databases)\n",
        backend.name(),
        metadata.tables.len()
    );
    println!("| operation | ms | vs create_db |");
    println!("| --- | ---: | ---: |");
    println!("| create_db | {} | 1.00× |", ms(base));
    for (label, times) in [
        ("migrate up, the schema as 1 step", up_one),
        (
            &*format!(
                "migrate up, {} steps (one per enum type, table, PostgreSQL foreign key)",
                steps.steps().len()
            ),
            up_each,
        ),
        (&*missing, plan),
        ("plan_db, nothing missing", plan_same),
    ] {
        let m = median(times);
        println!("| {label} | {} | {} |", ms(m), ratio(m));
    }
}

#[tokio::main]
async fn main() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/schema/orchestrator.json");
    let metadata = Metadata::from_file(&path).expect("example schema");
    let mut sqlite = SqliteFiles {
        dir: tempfile::tempdir().expect("temp dir"),
        n: 0,
    };
    measure(&mut sqlite, &metadata).await;
    let url = std::env::var("PG_URL")
        .or_else(|_| std::env::var("DBCONFIG_TEST_PG_URL"))
        .ok();
    match url {
        Some(url) => {
            let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connect to PG_URL");
            tokio::spawn(connection);
            let mut pg = PostgresSchemas { url, admin, n: 0 };
            measure(&mut pg, &metadata).await;
        }
        None => println!("\nPostgreSQL: skipped (set PG_URL or DBCONFIG_TEST_PG_URL)"),
    }
}
