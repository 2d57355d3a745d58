//! SQLite DDL.

use super::writer::SqlWriter;
use super::{creation_order, index_statements, push_default, push_table_constraints};
use crate::schema::{Column, ColumnType, Metadata, Table};
use crate::url::Dialect;

/// The declared type for `ty` (see the mapping table in [`super`]).
pub(super) fn type_name(metadata: &Metadata, ty: &ColumnType) -> String {
    match ty {
        ColumnType::Integer => "INTEGER".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Real => "REAL".into(),
        ColumnType::Double => "DOUBLE".into(),
        ColumnType::Numeric { precision, scale } => format!("NUMERIC({precision},{scale})"),
        ColumnType::Text => "TEXT".into(),
        ColumnType::Varchar(n) => format!("VARCHAR({n})"),
        ColumnType::VarcharUnbounded => "VARCHAR".into(),
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Bytes => "BLOB".into(),
        ColumnType::Uuid => "CHAR(36)".into(),
        ColumnType::Json => "JSON".into(),
        ColumnType::Jsonb => "JSONB".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time => "TIME".into(),
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
        ColumnType::Interval => "INTERVAL".into(),
        ColumnType::Enum(name) => {
            let longest = metadata
                .enums
                .iter()
                .find(|e| &e.name == name)
                .and_then(|e| e.values.iter().map(|v| v.chars().count()).max())
                .unwrap_or(1);
            format!("VARCHAR({longest})")
        }
    }
}

pub(super) fn create(metadata: &Metadata) -> Vec<String> {
    let order = creation_order(metadata);
    let mut out = Vec::new();
    for &t in &order.tables {
        let table = &metadata.tables[t];
        out.push(create_table(metadata, table, &table.name, true));
        out.extend(index_statements(table, Dialect::Sqlite));
    }
    out
}

/// `CREATE TABLE [IF NOT EXISTS] "name" (…)` for `table` under `name` (the table-rebuild
/// procedure creates it under another name first).
pub(super) fn create_table(
    metadata: &Metadata,
    table: &Table,
    name: &str,
    if_not_exists: bool,
) -> String {
    let identity = table.columns.iter().any(|c| c.identity);
    let mut w = SqlWriter::new(Dialect::Sqlite);
    w.push(if if_not_exists {
        "CREATE TABLE IF NOT EXISTS "
    } else {
        "CREATE TABLE "
    })
    .push_identifier(name)
    .push(" (");
    for (i, column) in table.columns.iter().enumerate() {
        w.push(if i == 0 { "\n  " } else { ",\n  " });
        push_column(&mut w, metadata, table, column);
    }
    push_table_constraints(&mut w, table, identity, |_| true);
    w.push("\n)");
    w.finish()
}

/// A column's definition: name, declared type, `NOT NULL`, default, and an enum's `CHECK`.
pub(super) fn push_column(w: &mut SqlWriter, metadata: &Metadata, table: &Table, column: &Column) {
    w.push_identifier(&column.name).push(" ");
    if column.identity {
        // The rowid alias: exactly `INTEGER PRIMARY KEY`.
        w.push("INTEGER PRIMARY KEY");
        return;
    }
    match &column.sqlite_type {
        Some(declared) => w.push(declared),
        None => w.push(&type_name(metadata, &column.ty)),
    };
    if super::not_null(table, column) {
        w.push(" NOT NULL");
    }
    push_default(w, column, Dialect::Sqlite);
    if let Some(check) = enum_check(metadata, column) {
        w.push(" ").push(&check);
    }
}

/// `CHECK ("column" IN ('label', …))` for an enum column; none for other columns.
pub(super) fn enum_check(metadata: &Metadata, column: &Column) -> Option<String> {
    let ColumnType::Enum(name) = &column.ty else {
        return None;
    };
    let e = metadata.enums.iter().find(|e| &e.name == name)?;
    let mut w = SqlWriter::new(Dialect::Sqlite);
    w.push("CHECK (")
        .push_identifier(&column.name)
        .push(" IN (");
    for (j, v) in e.values.iter().enumerate() {
        if j > 0 {
            w.push(", ");
        }
        w.push_literal(v);
    }
    w.push("))");
    Some(w.finish())
}

pub(super) fn drop(metadata: &Metadata) -> Vec<String> {
    let order = creation_order(metadata);
    let mut out = Vec::new();
    for &t in order.tables.iter().rev() {
        let mut w = SqlWriter::new(Dialect::Sqlite);
        w.push("DROP TABLE IF EXISTS ")
            .push_identifier(&metadata.tables[t].name);
        out.push(w.finish());
    }
    out
}
