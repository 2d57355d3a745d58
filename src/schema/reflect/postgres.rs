//! The PostgreSQL catalog: `pg_catalog` queries, one round trip each.

use tokio_postgres::GenericClient;

use super::{Catalog, CatalogColumn, CatalogForeignKey, CatalogIndex, CatalogTable, action};

/// Reads the tables and enum types of `schemas`.
pub(crate) async fn read<C: GenericClient + Sync>(
    client: &C,
    schemas: &[String],
) -> Result<Catalog, tokio_postgres::Error> {
    let mut tables: Vec<CatalogTable> = client
        .query(
            "SELECT n.nspname, c.relname FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1) ORDER BY 1, 2",
            &[&schemas],
        )
        .await?
        .into_iter()
        .map(|r| CatalogTable {
            schema: Some(r.get(0)),
            name: r.get(1),
            ..CatalogTable::default()
        })
        .collect();
    let find = |tables: &mut Vec<CatalogTable>, schema: &str, name: &str| {
        tables
            .iter_mut()
            .position(|t| t.schema.as_deref() == Some(schema) && t.name == name)
    };

    for r in client
        .query(
            "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), \
                    a.attnotnull, CASE WHEN t.typtype = 'e' THEN t.typname END \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
             WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1) AND a.attnum > 0 \
               AND NOT a.attisdropped ORDER BY n.nspname, c.relname, a.attnum",
            &[&schemas],
        )
        .await?
    {
        if let Some(t) = find(&mut tables, r.get(0), r.get(1)) {
            tables[t].columns.push(CatalogColumn {
                name: r.get(2),
                ty: r.get(3),
                not_null: r.get(4),
                enum_name: r.get(5),
            });
        }
    }

    // Constraints: columns in key order, the referenced table qualified by its schema.
    for r in client
        .query(
            "SELECT n.nspname, c.relname, k.contype::text, \
                    ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o) \
                          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o), \
                    rn.nspname || '.' || rc.relname, \
                    ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o) \
                          JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o), \
                    k.confdeltype::text, k.confupdtype::text \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class rc ON rc.oid = k.confrelid \
             LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
             WHERE n.nspname = ANY($1) AND k.contype IN ('p', 'u', 'f') ORDER BY k.conname",
            &[&schemas],
        )
        .await?
    {
        let Some(t) = find(&mut tables, r.get(0), r.get(1)) else {
            continue;
        };
        let columns: Vec<String> = r.get(3);
        match r.get::<_, &str>(2) {
            "p" => tables[t].primary_key = columns,
            "u" => tables[t].uniques.push(columns),
            _ => tables[t].foreign_keys.push(CatalogForeignKey {
                columns,
                ref_table: r.get::<_, Option<String>>(4).unwrap_or_default(),
                ref_columns: r.get(5),
                on_delete: action(r.get(6)),
                on_update: action(r.get(7)),
            }),
        }
    }

    // Indexes that are not a primary key or unique constraint.
    for r in client
        .query(
            "SELECT n.nspname, c.relname, i.relname, x.indisunique, x.indpred IS NOT NULL, am.amname, \
                    ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY u(n, o) \
                          LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.n \
                          ORDER BY u.o) \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_am am ON am.oid = i.relam \
             WHERE n.nspname = ANY($1) \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) \
             ORDER BY i.relname",
            &[&schemas],
        )
        .await?
    {
        if let Some(t) = find(&mut tables, r.get(0), r.get(1)) {
            tables[t].indexes.push(CatalogIndex {
                name: r.get(2),
                unique: r.get(3),
                partial: r.get(4),
                method: Some(r.get(5)),
                parts: r.get(6),
            });
        }
    }

    let enums = client
        .query(
            "SELECT n.nspname, t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) \
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE n.nspname = ANY($1) GROUP BY 1, 2",
            &[&schemas],
        )
        .await?
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    Ok(Catalog { tables, enums })
}
