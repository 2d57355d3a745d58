//! SQLite DDL.

use super::writer::SqlWriter;
use super::{creation_order, index_statements, push_default, push_table_constraints};
use crate::schema::{ColumnType, Metadata};
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
        let identity = table.columns.iter().find(|c| c.identity);
        let mut w = SqlWriter::new(Dialect::Sqlite);
        w.push("CREATE TABLE IF NOT EXISTS ")
            .push_identifier(&table.name)
            .push(" (");
        for (i, column) in table.columns.iter().enumerate() {
            w.push(if i == 0 { "\n  " } else { ",\n  " })
                .push_identifier(&column.name)
                .push(" ");
            if column.identity {
                // The rowid alias: exactly `INTEGER PRIMARY KEY`.
                w.push("INTEGER PRIMARY KEY");
                continue;
            }
            match &column.sqlite_type {
                Some(declared) => w.push(declared),
                None => w.push(&type_name(metadata, &column.ty)),
            };
            let in_pk = table.primary_key.contains(&column.name);
            if !column.nullable || in_pk {
                w.push(" NOT NULL");
            }
            push_default(&mut w, column, Dialect::Sqlite);
            if let ColumnType::Enum(name) = &column.ty
                && let Some(e) = metadata.enums.iter().find(|e| &e.name == name)
            {
                w.push(" CHECK (")
                    .push_identifier(&column.name)
                    .push(" IN (");
                for (j, v) in e.values.iter().enumerate() {
                    if j > 0 {
                        w.push(", ");
                    }
                    w.push_literal(v);
                }
                w.push("))");
            }
        }
        push_table_constraints(&mut w, table, identity.is_some(), |_| true);
        w.push("\n)");
        out.push(w.finish());
        out.extend(index_statements(table, Dialect::Sqlite));
    }
    out
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
