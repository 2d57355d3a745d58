#![allow(missing_docs)] // criterion_group! generates an undocumented function.
//! criterion benches of the cheap paths: URL parsing, the `engine()` cache hit, a pooled
//! checkout, and DDL emission of the example schema.
//!
//! ```sh
//! cargo bench --bench cheap_paths
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use dbconfig::schema::{Metadata, ddl};
use dbconfig::{ConnectionUrl, DatabaseConfig, Dialect, SqliteConfig};

fn url_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("url_parse");
    for (name, url) in [
        ("sqlite_file", "sqlite+aiosqlite:////var/lib/app/prefect.db"),
        (
            "sqlite_memory",
            "sqlite:///file:jobs?mode=memory&cache=shared&uri=true",
        ),
        (
            "postgres",
            "postgresql+asyncpg://prefect:s3cret@db1:5432,db2:5433/prefect?sslmode=verify-full&application_name=svc",
        ),
        (
            "postgres_key_value",
            "host=/var/run/postgresql dbname=app user=me password='p w' connect_timeout=5",
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| std::hint::black_box(url).parse::<ConnectionUrl>().unwrap());
        });
    }
    group.finish();
}

fn engine_and_checkout(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig::new(&format!(
        "sqlite:///{}",
        dir.path().join("bench.db").display()
    ))
    .unwrap();
    let engine = runtime.block_on(config.engine()).unwrap();
    c.bench_function("engine_cache_hit", |b| {
        b.iter(|| runtime.block_on(config.engine()).unwrap());
    });
    c.bench_function("sqlite_checkout", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut session = engine.session();
                session.connection().await.unwrap();
            });
        });
    });
    engine.dispose();
}

fn ddl_emission(c: &mut Criterion) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/schema/orchestrator.json");
    let metadata = Metadata::from_file(&path).unwrap();
    let mut group = c.benchmark_group("ddl_example_schema");
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        group.bench_function(dialect.name(), |b| {
            b.iter(|| ddl::create_statements(&metadata, dialect).unwrap());
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = url_parse, engine_and_checkout, ddl_emission
}
criterion_main!(benches);
