//! PostgreSQL DDL.

use std::collections::BTreeSet;

use super::writer::SqlWriter;
use super::{
    creation_order, index_statements, names, push_default, push_foreign_key, push_table_constraints,
};
use crate::schema::{Column, ColumnType, EnumType, ForeignKey, Metadata, Table};
use crate::url::Dialect;

/// The type for `ty`, as `format_type()` prints it (see the mapping table in [`super`]); an enum
/// is its quoted, schema-qualified name.
pub(super) fn type_name(metadata: &Metadata, ty: &ColumnType) -> String {
    match ty {
        ColumnType::Integer => "integer".into(),
        ColumnType::BigInt => "bigint".into(),
        ColumnType::SmallInt => "smallint".into(),
        ColumnType::Real => "real".into(),
        ColumnType::Double => "double precision".into(),
        ColumnType::Numeric { precision, scale } => format!("numeric({precision},{scale})"),
        ColumnType::Text => "text".into(),
        ColumnType::Varchar(n) => format!("character varying({n})"),
        ColumnType::VarcharUnbounded => "character varying".into(),
        ColumnType::Boolean => "boolean".into(),
        ColumnType::Bytes => "bytea".into(),
        ColumnType::Uuid => "uuid".into(),
        ColumnType::Json => "json".into(),
        ColumnType::Jsonb => "jsonb".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Time => "time without time zone".into(),
        ColumnType::Timestamp => "timestamp without time zone".into(),
        ColumnType::TimestampTz => "timestamp with time zone".into(),
        ColumnType::Interval => "interval".into(),
        ColumnType::Enum(name) => {
            let schema = metadata
                .enums
                .iter()
                .find(|e| &e.name == name)
                .and_then(|e| e.schema.as_deref());
            let mut w = SqlWriter::new(Dialect::Postgres);
            w.push_qualified(schema, name);
            w.finish()
        }
    }
}

/// `DO $tag$ BEGIN <sql>; EXCEPTION WHEN duplicate_object THEN NULL; END $tag$`.
fn ignoring_duplicates(sql: &str) -> String {
    in_do_block(&format!("{sql}; EXCEPTION WHEN duplicate_object THEN NULL"))
}

/// `CREATE TYPE … AS ENUM (…)`, in a `DO` block: when a type of that name exists, its labels
/// must be the metadata's, in order, or the statement fails (`duplicate_object`, naming both
/// lists) rather than leave a type that does not match. Labels are added by a migration
/// (`ALTER TYPE … ADD VALUE`), which `create_db` does not write.
pub(super) fn create_enum(e: &EnumType) -> String {
    let mut w = SqlWriter::new(Dialect::Postgres);
    for (i, v) in e.values.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.push_literal(v);
    }
    let labels = w.finish();
    // The live labels, in order, of the type of that name.
    let mut w = SqlWriter::new(Dialect::Postgres);
    w.push(
        "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
         JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = ",
    )
    .push_literal(&e.name)
    .push(" AND n.nspname = ");
    match &e.schema {
        Some(schema) => w.push_literal(schema),
        None => w.push("current_schema()"),
    };
    w.push(" ORDER BY e.enumsortorder");
    let live = w.finish();

    let mut w = SqlWriter::new(Dialect::Postgres);
    w.push("CREATE TYPE ")
        .push_qualified(e.schema.as_deref(), &e.name)
        .push(" AS ENUM (")
        .push(&labels)
        .push("); EXCEPTION WHEN duplicate_object THEN IF ARRAY(")
        .push(&live)
        .push(") IS DISTINCT FROM ARRAY[")
        .push(&labels)
        .push("]::text[] THEN RAISE EXCEPTION USING ERRCODE = 'duplicate_object', MESSAGE = ")
        .push("format(")
        .push_literal("type %s exists but is not the enum of the metadata: labels %s, expected %s")
        .push(", ")
        .push_literal(&super::names::display(e.schema.as_deref(), &e.name))
        .push(", ARRAY(")
        .push(&live)
        .push(")::text, ARRAY[")
        .push(&labels)
        .push("]::text), HINT = ")
        .push_literal(
            "add the labels with a migration step (ALTER TYPE ... ADD VALUE), or drop the type",
        )
        .push("; END IF");
    in_do_block(&w.finish())
}

/// `DO $tag$ BEGIN <body>; END $tag$`, with a dollar-quote tag that does not occur in `body`.
fn in_do_block(body: &str) -> String {
    let mut tag = String::from("$dbconfig$");
    let mut n = 0;
    while body.contains(&tag) {
        n += 1;
        tag = format!("$dbconfig{n}$");
    }
    format!("DO {tag} BEGIN {body}; END {tag}")
}

fn schemas(metadata: &Metadata) -> BTreeSet<&str> {
    let tables = metadata.tables.iter().filter_map(|t| t.schema.as_deref());
    let enums = metadata.enums.iter().filter_map(|e| e.schema.as_deref());
    tables.chain(enums).collect()
}

pub(super) fn create(metadata: &Metadata) -> Vec<String> {
    let order = creation_order(metadata);
    let mut out = Vec::new();
    for schema in schemas(metadata) {
        let mut w = SqlWriter::new(Dialect::Postgres);
        w.push("CREATE SCHEMA IF NOT EXISTS ")
            .push_identifier(schema);
        out.push(w.finish());
    }
    for e in &metadata.enums {
        out.push(create_enum(e));
    }
    for &t in &order.tables {
        let table = &metadata.tables[t];
        out.push(create_table(metadata, table, |f| {
            !order.deferred.contains(&(t, f))
        }));
    }
    let mut deferred: Vec<_> = order.deferred.iter().copied().collect();
    deferred.sort_unstable();
    for (t, f) in deferred {
        let table = &metadata.tables[t];
        out.push(ignoring_duplicates(&add_foreign_key(
            table,
            &table.foreign_keys[f],
        )));
    }
    for &t in &order.tables {
        out.extend(index_statements(&metadata.tables[t], Dialect::Postgres));
    }
    out
}

/// `CREATE TABLE IF NOT EXISTS` for `table`, with the foreign keys `inline` accepts.
pub(super) fn create_table(
    metadata: &Metadata,
    table: &Table,
    inline: impl Fn(usize) -> bool,
) -> String {
    let mut w = SqlWriter::new(Dialect::Postgres);
    w.push("CREATE TABLE IF NOT EXISTS ")
        .push_qualified(table.schema.as_deref(), &table.name)
        .push(" (");
    for (i, column) in table.columns.iter().enumerate() {
        w.push(if i == 0 { "\n  " } else { ",\n  " });
        push_column(&mut w, metadata, table, column);
    }
    push_table_constraints(&mut w, table, false, inline);
    w.push("\n)");
    w.finish()
}

/// A column's definition: name, type, identity, `NOT NULL`, default.
pub(super) fn push_column(w: &mut SqlWriter, metadata: &Metadata, table: &Table, column: &Column) {
    w.push_identifier(&column.name)
        .push(" ")
        .push(&type_name(metadata, &column.ty));
    if column.identity {
        w.push(" GENERATED BY DEFAULT AS IDENTITY");
    }
    if super::not_null(table, column) {
        w.push(" NOT NULL");
    }
    push_default(w, column, Dialect::Postgres);
}

/// `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY …`.
pub(super) fn add_foreign_key(table: &Table, fk: &ForeignKey) -> String {
    let mut w = SqlWriter::new(Dialect::Postgres);
    w.push("ALTER TABLE ")
        .push_qualified(table.schema.as_deref(), &table.name)
        .push(" ADD ");
    push_foreign_key(&mut w, table, fk);
    w.finish()
}

pub(super) fn drop(metadata: &Metadata) -> Vec<String> {
    let order = creation_order(metadata);
    let mut out = Vec::new();
    let mut deferred: Vec<_> = order.deferred.iter().copied().collect();
    deferred.sort_unstable();
    for (t, f) in deferred {
        let table = &metadata.tables[t];
        let mut w = SqlWriter::new(Dialect::Postgres);
        w.push("ALTER TABLE IF EXISTS ")
            .push_qualified(table.schema.as_deref(), &table.name)
            .push(" DROP CONSTRAINT IF EXISTS ")
            .push_identifier(&names::foreign_key(table, &table.foreign_keys[f]));
        out.push(w.finish());
    }
    for &t in order.tables.iter().rev() {
        let table = &metadata.tables[t];
        let mut w = SqlWriter::new(Dialect::Postgres);
        w.push("DROP TABLE IF EXISTS ")
            .push_qualified(table.schema.as_deref(), &table.name);
        out.push(w.finish());
    }
    for e in metadata.enums.iter().rev() {
        let mut w = SqlWriter::new(Dialect::Postgres);
        w.push("DROP TYPE IF EXISTS ")
            .push_qualified(e.schema.as_deref(), &e.name);
        out.push(w.finish());
    }
    out
}
