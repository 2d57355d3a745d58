#![allow(missing_docs)] // criterion_group! generates an undocumented function.
//! criterion benches of DDL emission for large schemas: foreign-key chains of 1,000 and 10,000
//! tables (each table references the previous one, listed child first so that no table is ready
//! before the one after it) and a random DAG of 10,000 tables, for both dialects, plus
//! `Metadata::validate` and `drop_statements` on the 10,000-table chain.
//!
//! ```sh
//! cargo bench --bench ddl_order
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use dbconfig::Dialect;
use dbconfig::schema::{Column, ColumnType, ForeignKey, Metadata, Table, ddl};

/// A table `t<i>` with an `id` primary key and one foreign key per parent.
fn table(i: usize, parents: &[usize]) -> Table {
    let mut t = Table::new(format!("t{i}"))
        .column(Column::new("id", ColumnType::Integer))
        .primary_key(["id"]);
    for p in parents {
        let column = format!("t{p}_id");
        t = t
            .column(Column::new(column.clone(), ColumnType::Integer))
            .foreign_key(ForeignKey::new([column], format!("t{p}"), ["id"]));
    }
    t
}

/// `t<n-1>` → … → `t1` → `t0`, listed from `t<n-1>` down.
fn chain(n: usize) -> Metadata {
    (0..n).rev().fold(Metadata::new(), |m, i| {
        let parents: &[usize] = if i == 0 { &[] } else { &[i - 1] };
        m.table(table(i, parents))
    })
}

/// `n` tables, each referencing up to three random earlier ones, listed in a shuffled order.
fn random_dag(n: usize, seed: u64) -> Metadata {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut tables: Vec<Table> = (0..n)
        .map(|i| {
            let mut parents: Vec<usize> = (0..rng.usize(0..=3.min(i)))
                .map(|_| rng.usize(0..i))
                .collect();
            parents.sort_unstable();
            parents.dedup();
            table(i, &parents)
        })
        .collect();
    rng.shuffle(&mut tables);
    tables.into_iter().fold(Metadata::new(), Metadata::table)
}

fn create(c: &mut Criterion) {
    let mut group = c.benchmark_group("create_statements");
    group.sample_size(10);
    for (name, metadata) in [
        ("chain_1k", chain(1_000)),
        ("chain_10k", chain(10_000)),
        ("random_dag_10k", random_dag(10_000, 7)),
    ] {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            group.bench_function(format!("{name}/{dialect:?}"), |b| {
                b.iter(|| ddl::create_statements(&metadata, dialect).unwrap());
            });
        }
    }
    group.finish();
}

fn drop_and_validate(c: &mut Criterion) {
    let metadata = chain(10_000);
    let mut group = c.benchmark_group("chain_10k");
    group.sample_size(10);
    group.bench_function("validate", |b| b.iter(|| metadata.validate().unwrap()));
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        group.bench_function(format!("drop_statements/{dialect:?}"), |b| {
            b.iter(|| ddl::drop_statements(&metadata, dialect).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, create, drop_and_validate);
criterion_main!(benches);
