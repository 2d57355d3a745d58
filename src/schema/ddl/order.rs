//! Foreign-key order: referenced tables before the tables that reference them.

use std::collections::HashSet;

use super::super::Metadata;

/// Creation order of the tables, and the foreign keys that close a cycle (`(table, fk)`
/// indexes): PostgreSQL adds those with `ALTER TABLE` once every table exists; SQLite keeps them
/// inline (it allows forward references).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    pub(crate) tables: Vec<usize>,
    pub(crate) deferred: HashSet<(usize, usize)>,
}

/// Kahn's algorithm, stable in the metadata's order. When only cycles remain, the first
/// remaining table is created next and its foreign keys to tables not yet created are deferred.
pub(crate) fn creation_order(metadata: &Metadata) -> Order {
    let n = metadata.tables.len();
    // deps[t] = tables t references (other than itself), by index.
    let deps: Vec<Vec<(usize, usize)>> = metadata
        .tables
        .iter()
        .enumerate()
        .map(|(t, table)| {
            table
                .foreign_keys
                .iter()
                .enumerate()
                .filter_map(|(f, fk)| {
                    let schema = fk.ref_schema.as_deref().or(table.schema.as_deref());
                    metadata
                        .tables
                        .iter()
                        .position(|r| r.name == fk.ref_table && r.schema.as_deref() == schema)
                        .filter(|r| *r != t)
                        .map(|r| (f, r))
                })
                .collect()
        })
        .collect();
    let mut created = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut deferred = HashSet::new();
    while order.len() < n {
        let ready = (0..n).find(|&t| !created[t] && deps[t].iter().all(|&(_, r)| created[r]));
        let next = match ready {
            Some(t) => t,
            None => {
                let t = (0..n).find(|&t| !created[t]).unwrap_or_default();
                for &(f, r) in &deps[t] {
                    if !created[r] {
                        deferred.insert((t, f));
                    }
                }
                t
            }
        };
        created[next] = true;
        order.push(next);
    }
    Order {
        tables: order,
        deferred,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, ColumnType, ForeignKey, Table};

    fn table(name: &str, refs: &[&str]) -> Table {
        let mut t = Table::new(name)
            .column(Column::new("id", ColumnType::Integer))
            .primary_key(["id"]);
        for r in refs {
            t = t
                .column(Column::new(format!("{r}_id"), ColumnType::Integer))
                .foreign_key(ForeignKey::new([format!("{r}_id")], *r, ["id"]));
        }
        t
    }

    #[test]
    fn dependencies_first_and_cycles_deferred() {
        let m = Metadata::new()
            .table(table("c", &["b", "a"]))
            .table(table("b", &["a"]))
            .table(table("a", &["a"]));
        let o = creation_order(&m);
        assert_eq!(o.tables, vec![2, 1, 0]);
        assert!(o.deferred.is_empty());

        let m = Metadata::new()
            .table(table("x", &["y"]))
            .table(table("y", &["x"]))
            .table(table("z", &["x"]));
        let o = creation_order(&m);
        assert_eq!(o.tables, vec![0, 1, 2]);
        assert_eq!(o.deferred, HashSet::from([(0, 0)]));
    }
}
