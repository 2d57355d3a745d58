//! The SQLite catalog: `sqlite_schema` and the `pragma_*` table-valued functions.

use rusqlite::Connection;

use super::{
    Catalog, CatalogColumn, CatalogForeignKey, CatalogIndex, CatalogTable, Difference, action, diff,
};
use crate::schema::{Metadata, SchemaError};
use crate::url::Dialect;

/// Reads the catalog of `conn`'s `main` database and compares it with `metadata` (the
/// synchronous core of `verify_db`, also usable on a plain rusqlite connection or in wasm).
///
/// # Errors
/// Invalid metadata, or reading the catalog failed.
pub fn verify(conn: &Connection, metadata: &Metadata) -> crate::Result<Vec<Difference>> {
    metadata
        .validate_for(Dialect::Sqlite)
        .map_err(|e: SchemaError| crate::Error::Schema(e))?;
    let catalog = read(conn)?;
    Ok(diff(metadata, Dialect::Sqlite, &catalog, None))
}

/// Reads every table of the `main` database (SQLite's own `sqlite_*` tables excluded).
pub(crate) fn read(conn: &Connection) -> rusqlite::Result<Catalog> {
    let mut tables = Vec::new();
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for name in names {
        tables.push(read_table(conn, name)?);
    }
    Ok(Catalog {
        tables,
        enums: Vec::new(),
    })
}

fn read_table(conn: &Connection, name: String) -> rusqlite::Result<CatalogTable> {
    let mut pk: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::new();
    let mut stmt =
        conn.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")?;
    let mut rows = stmt.query([&name])?;
    while let Some(row) = rows.next()? {
        let column: String = row.get(0)?;
        let position: i64 = row.get(3)?;
        if position > 0 {
            pk.push((position, column.clone()));
        }
        columns.push(CatalogColumn {
            name: column,
            ty: row.get(1)?,
            not_null: row.get(2)?,
            enum_name: None,
        });
    }
    pk.sort();

    let mut uniques = Vec::new();
    let mut indexes = Vec::new();
    let list: Vec<(String, bool, String, bool)> = conn
        .prepare("SELECT name, \"unique\", origin, partial FROM pragma_index_list(?1)")?
        .query_map([&name], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (index, unique, origin, partial) in list {
        let parts: Vec<Option<String>> = conn
            .prepare("SELECT name FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno")?
            .query_map([&index], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        match origin.as_str() {
            "u" => uniques.push(parts.into_iter().flatten().collect()),
            "c" => indexes.push(CatalogIndex {
                name: index,
                unique,
                partial,
                method: None,
                parts,
                include: Vec::new(),
                opclasses: Vec::new(),
            }),
            // "pk": the primary key, compared through pragma_table_info.
            _ => {}
        }
    }

    let mut fks: Vec<(i64, CatalogForeignKey)> = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
         FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
    )?;
    let mut rows = stmt.query([&name])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let from: String = row.get(2)?;
        // `to` is NULL when the foreign key names no columns (the parent's primary key).
        let to: Option<String> = row.get(3)?;
        match fks.last_mut() {
            Some((last, fk)) if *last == id => {
                fk.columns.push(from);
                fk.ref_columns.extend(to);
            }
            _ => fks.push((
                id,
                CatalogForeignKey {
                    columns: vec![from],
                    ref_table: row.get(1)?,
                    ref_columns: to.into_iter().collect(),
                    on_update: action(&row.get::<_, String>(4)?),
                    on_delete: action(&row.get::<_, String>(5)?),
                },
            )),
        }
    }
    let mut sql = None;
    let mut dependents = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = ?1 AND sql IS NOT NULL \
         ORDER BY type DESC, name",
    )?;
    let mut rows = stmt.query([&name])?;
    while let Some(row) = rows.next()? {
        let kind: String = row.get(0)?;
        if kind == "table" {
            sql = Some(row.get(2)?);
        } else {
            dependents.push((row.get(1)?, row.get(2)?));
        }
    }
    Ok(CatalogTable {
        schema: None,
        sql,
        dependents,
        name,
        columns,
        primary_key: pk.into_iter().map(|(_, c)| c).collect(),
        uniques,
        foreign_keys: fks.into_iter().map(|(_, fk)| fk).collect(),
        indexes,
    })
}
