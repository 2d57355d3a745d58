//! The PostgreSQL catalog: `pg_catalog` queries, one round trip each.
//!
//! Every value is read with `try_get`: a value of an unexpected type (a function earlier in
//! `search_path` than `pg_catalog` shadowing a built-in one, a server that only imitates
//! PostgreSQL) is an [`Error::Catalog`] naming the query and the column, never a panic.

use tokio_postgres::types::FromSql;
use tokio_postgres::{GenericClient, Row};

use super::{Catalog, CatalogColumn, CatalogForeignKey, CatalogIndex, CatalogTable, action};
use crate::error::{Error, Result};
use crate::postgres::classify;

const TABLES: &str = "the tables (pg_class)";
const COLUMNS: &str = "the columns of the tables (pg_attribute)";
const CONSTRAINTS: &str = "the keys of the tables (pg_constraint)";
const INDEXES: &str = "the indexes (pg_index)";
const ENUMS: &str = "the enum types (pg_enum)";

/// Column `index` of `row`, a row of `query`.
///
/// # Errors
/// [`Error::Catalog`]: the value has another type than `T` (or is NULL and `T` is no `Option`).
pub(crate) fn value<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    query: &'static str,
) -> Result<T> {
    row.try_get(index).map_err(|e| {
        let column = row.columns().get(index).map_or("?", |c| c.name());
        decode_error(query, column, &e)
    })
}

/// The [`Error::Catalog`] for a value of `column` (of a row of `query`) that `try_get` refused.
pub(crate) fn decode_error(query: &'static str, column: &str, e: &tokio_postgres::Error) -> Error {
    // `e` says "error deserializing column N"; its source says which types did not match.
    let reason = std::error::Error::source(e).map_or_else(|| e.to_string(), ToString::to_string);
    Error::Catalog {
        query,
        column: column.to_owned(),
        reason,
    }
}

/// Reads the tables and enum types of `schemas`.
pub(crate) async fn read<C: GenericClient + Sync>(
    client: &C,
    schemas: &[String],
) -> Result<Catalog> {
    let mut tables = Vec::new();
    for r in client
        .query(
            "SELECT n.nspname AS schema, c.relname AS table FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1) ORDER BY 1, 2",
            &[&schemas],
        )
        .await
        .map_err(classify)?
    {
        tables.push(CatalogTable {
            schema: Some(value(&r, 0, TABLES)?),
            name: value(&r, 1, TABLES)?,
            ..CatalogTable::default()
        });
    }
    // The table a row of `query` belongs to (its first two columns: schema and name).
    let find = |tables: &[CatalogTable], r: &Row, query| -> Result<Option<usize>> {
        let schema: &str = value(r, 0, query)?;
        let name: &str = value(r, 1, query)?;
        Ok(tables
            .iter()
            .position(|t| t.schema.as_deref() == Some(schema) && t.name == name))
    };

    for r in client
        .query(
            "SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, \
                    format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, \
                    CASE WHEN t.typtype = 'e' THEN t.typname END AS enum_name \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
             WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1) AND a.attnum > 0 \
               AND NOT a.attisdropped ORDER BY n.nspname, c.relname, a.attnum",
            &[&schemas],
        )
        .await
        .map_err(classify)?
    {
        if let Some(t) = find(&tables, &r, COLUMNS)? {
            tables[t].columns.push(CatalogColumn {
                name: value(&r, 2, COLUMNS)?,
                ty: value(&r, 3, COLUMNS)?,
                not_null: value(&r, 4, COLUMNS)?,
                enum_name: value(&r, 5, COLUMNS)?,
            });
        }
    }

    // Constraints: columns in key order, the referenced table qualified by its schema.
    for r in client
        .query(
            "SELECT n.nspname AS schema, c.relname AS table, k.contype::text AS kind, \
                    ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o) \
                          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o) \
                        AS columns, \
                    rn.nspname || '.' || rc.relname AS ref_table, \
                    ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o) \
                          JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o) \
                        AS ref_columns, \
                    k.confdeltype::text AS on_delete, k.confupdtype::text AS on_update \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class rc ON rc.oid = k.confrelid \
             LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
             WHERE n.nspname = ANY($1) AND k.contype IN ('p', 'u', 'f') ORDER BY k.conname",
            &[&schemas],
        )
        .await
        .map_err(classify)?
    {
        let Some(t) = find(&tables, &r, CONSTRAINTS)? else {
            continue;
        };
        let columns: Vec<String> = value(&r, 3, CONSTRAINTS)?;
        match value::<&str>(&r, 2, CONSTRAINTS)? {
            "p" => tables[t].primary_key = columns,
            "u" => tables[t].uniques.push(columns),
            _ => tables[t].foreign_keys.push(CatalogForeignKey {
                columns,
                ref_table: value::<Option<String>>(&r, 4, CONSTRAINTS)?.unwrap_or_default(),
                ref_columns: value(&r, 5, CONSTRAINTS)?,
                on_delete: action(value(&r, 6, CONSTRAINTS)?),
                on_update: action(value(&r, 7, CONSTRAINTS)?),
            }),
        }
    }

    // Indexes that are not a primary key or unique constraint.
    for r in client
        .query(
            "SELECT n.nspname AS schema, c.relname AS table, i.relname AS index, \
                    x.indisunique AS unique, x.indpred IS NOT NULL AS partial, am.amname AS method, \
                    ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY u(n, o) \
                          LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.n \
                          ORDER BY u.o) AS parts, \
                    x.indnkeyatts::int4 AS key_parts, \
                    ARRAY(SELECT oc.opcname::text FROM unnest(x.indclass::oid[]) WITH ORDINALITY u(c, o) \
                          JOIN pg_opclass oc ON oc.oid = u.c ORDER BY u.o) AS opclasses \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_am am ON am.oid = i.relam \
             WHERE n.nspname = ANY($1) \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) \
             ORDER BY i.relname",
            &[&schemas],
        )
        .await
        .map_err(classify)?
    {
        if let Some(t) = find(&tables, &r, INDEXES)? {
            // `indkey` lists the key columns, then the INCLUDE columns; `indclass` has an
            // operator class per key column.
            let mut parts: Vec<Option<String>> = value(&r, 6, INDEXES)?;
            let keys = usize::try_from(value::<i32>(&r, 7, INDEXES)?).unwrap_or(0);
            let include = parts.split_off(keys.min(parts.len()));
            tables[t].indexes.push(CatalogIndex {
                name: value(&r, 2, INDEXES)?,
                unique: value(&r, 3, INDEXES)?,
                partial: value(&r, 4, INDEXES)?,
                method: Some(value(&r, 5, INDEXES)?),
                parts,
                include: include.into_iter().flatten().collect(),
                opclasses: value(&r, 8, INDEXES)?,
            });
        }
    }

    let mut enums = Vec::new();
    for r in client
        .query(
            "SELECT n.nspname AS schema, t.typname AS name, \
                    array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels \
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE n.nspname = ANY($1) GROUP BY 1, 2",
            &[&schemas],
        )
        .await
        .map_err(classify)?
    {
        enums.push((
            value(&r, 0, ENUMS)?,
            value(&r, 1, ENUMS)?,
            value(&r, 2, ENUMS)?,
        ));
    }
    Ok(Catalog { tables, enums })
}
