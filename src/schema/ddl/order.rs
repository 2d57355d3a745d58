//! Foreign-key order: referenced tables before the tables that reference them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use super::super::Metadata;

/// Creation order of the tables, and the foreign keys added once every table exists
/// (`(table, fk)` indexes): the ones that close a cycle, and the ones marked
/// [`deferred`](crate::schema::ForeignKey::deferred). PostgreSQL adds those with `ALTER TABLE`;
/// SQLite keeps them inline (it allows forward references).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    pub(crate) tables: Vec<usize>,
    pub(crate) deferred: HashSet<(usize, usize)>,
}

/// Kahn's algorithm, stable in the metadata's order: the next table is always the first one (by
/// index) whose referenced tables all exist. When only cycles remain, the first table of a cycle
/// (of the tables left) that waits for nothing outside that cycle is created next, and its
/// foreign keys to the tables of its cycle are deferred: a foreign key is deferred only when it
/// closes a cycle (or asks to be).
///
/// `O((tables + foreign keys) · log tables)` without cycles: the ready tables wait in a
/// min-heap, and each table counts the references it still waits for; see [`components`] for
/// cycles.
pub(crate) fn creation_order(metadata: &Metadata) -> Order {
    let n = metadata.tables.len();
    // The first table of each (schema, name), as a linear search would find it.
    let mut by_name: HashMap<(Option<&str>, &str), usize> = HashMap::with_capacity(n);
    for (t, table) in metadata.tables.iter().enumerate() {
        by_name
            .entry((table.schema.as_deref(), table.name.as_str()))
            .or_insert(t);
    }
    let mut deferred = HashSet::new();
    // deps[t] = (fk, table referenced) for each foreign key of t to another table;
    // children[r] = the tables with a foreign key to r, once per such key.
    let mut deps: Vec<Vec<(usize, usize)>> = Vec::with_capacity(n);
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (t, table) in metadata.tables.iter().enumerate() {
        let mut mine = Vec::new();
        for (f, fk) in table.foreign_keys.iter().enumerate() {
            let schema = fk.ref_schema.as_deref().or(table.schema.as_deref());
            if let Some(&r) = by_name.get(&(schema, fk.ref_table.as_str()))
                && r != t
            {
                if fk.deferred {
                    deferred.insert((t, f));
                    continue;
                }
                mine.push((f, r));
                children[r].push(t);
            }
        }
        deps.push(mine);
    }
    // waiting[t] = foreign keys of t whose table is not created yet.
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&t| waiting[t] == 0).map(Reverse).collect();
    let mut created = vec![false; n];
    // Every table before this index is created: where the search for a cycle's table starts.
    let mut first_left = 0;
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = match ready.pop() {
            Some(Reverse(t)) if created[t] => continue,
            Some(Reverse(t)) => t,
            None => {
                while created[first_left] {
                    first_left += 1;
                }
                // Only cycles remain, so some cycle of the tables left waits for nothing
                // outside itself: its first table goes next.
                let component = components(&deps, &created);
                let mut outside = vec![0usize; n];
                for (t, mine) in deps.iter().enumerate().filter(|&(t, _)| !created[t]) {
                    outside[component[t]] += mine
                        .iter()
                        .filter(|&&(_, r)| !created[r] && component[r] != component[t])
                        .count();
                }
                let t = (first_left..n)
                    .find(|&t| !created[t] && outside[component[t]] == 0)
                    .unwrap_or(first_left);
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
        for &child in &children[next] {
            waiting[child] -= 1;
            if waiting[child] == 0 && !created[child] {
                ready.push(Reverse(child));
            }
        }
    }
    Order {
        tables: order,
        deferred,
    }
}

/// The strongly connected components of the foreign-key graph between the tables not created
/// yet (Tarjan's algorithm, with an explicit stack: schemas of tens of thousands of tables must
/// not overflow the thread's stack): `component[t]` is the same for two such tables exactly when
/// each reaches the other. Run each time only cycles are left, so a schema with `c` cycles costs
/// `O(c · (tables + foreign keys))`.
fn components(deps: &[Vec<(usize, usize)>], created: &[bool]) -> Vec<usize> {
    let n = deps.len();
    let mut t = Tarjan {
        index: vec![UNSEEN; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        calls: Vec::new(),
        next_index: 0,
    };
    let mut component = vec![UNSEEN; n];
    let mut next_component = 0;
    for root in 0..n {
        if t.index[root] != UNSEEN || created[root] {
            continue;
        }
        t.enter(root);
        while let Some(&(v, edge)) = t.calls.last() {
            if let Some(&(_, w)) = deps[v].get(edge) {
                if let Some(top) = t.calls.last_mut() {
                    top.1 += 1;
                }
                if created[w] {
                    // Not part of the graph left.
                } else if t.index[w] == UNSEEN {
                    t.enter(w);
                } else if t.on_stack[w] {
                    t.low[v] = t.low[v].min(t.index[w]);
                }
                continue;
            }
            t.calls.pop();
            if let Some(&(u, _)) = t.calls.last() {
                t.low[u] = t.low[u].min(t.low[v]);
            }
            if t.low[v] == t.index[v] {
                while let Some(w) = t.stack.pop() {
                    t.on_stack[w] = false;
                    component[w] = next_component;
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

const UNSEEN: usize = usize::MAX;

/// Tarjan's state: visit order, lowest reachable index, the component stack, and the explicit
/// call stack of `(table, next foreign key to follow)`.
struct Tarjan {
    index: Vec<usize>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    calls: Vec<(usize, usize)>,
    next_index: usize,
}

impl Tarjan {
    fn enter(&mut self, v: usize) {
        self.index[v] = self.next_index;
        self.low[v] = self.next_index;
        self.next_index += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        self.calls.push((v, 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dialect;
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

        // z only references the cycle x <-> y: its foreign key waits, it is not deferred.
        let m = Metadata::new()
            .table(table("z", &["x"]))
            .table(table("x", &["y"]))
            .table(table("y", &["x"]));
        let o = creation_order(&m);
        assert_eq!(o.tables, vec![1, 0, 2]);
        assert_eq!(o.deferred, HashSet::from([(1, 0)]));

        // An opt-in: deferred although it closes no cycle, and no longer orders the tables.
        let mut m = Metadata::new()
            .table(table("child", &["parent"]))
            .table(table("parent", &[]));
        m.tables[0].foreign_keys[0].deferred = true;
        let o = creation_order(&m);
        assert_eq!(o.tables, vec![0, 1]);
        assert_eq!(o.deferred, HashSet::from([(0, 0)]));
    }

    /// The order as it was first written (one linear scan per table created): the reference
    /// the heap-based version must match exactly, cycles included.
    fn scanning_order(metadata: &Metadata) -> Order {
        let n = metadata.tables.len();
        let deps: Vec<Vec<(usize, usize)>> = metadata
            .tables
            .iter()
            .enumerate()
            .map(|(t, table)| {
                let schema = table.schema.as_deref();
                table
                    .foreign_keys
                    .iter()
                    .enumerate()
                    .filter_map(|(f, fk)| {
                        let schema = fk.ref_schema.as_deref().or(schema);
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
        let mut tables = Vec::new();
        let mut deferred = HashSet::new();
        while tables.len() < n {
            let ready = (0..n).find(|&t| !created[t] && deps[t].iter().all(|&(_, r)| created[r]));
            let next = ready.unwrap_or_else(|| {
                // The first table every uncreated table it reaches reaches back: the first of a
                // cycle that waits for nothing outside it.
                let reach = |from: usize| {
                    let mut seen = HashSet::from([from]);
                    let mut todo = vec![from];
                    while let Some(v) = todo.pop() {
                        for &(_, r) in &deps[v] {
                            if !created[r] && seen.insert(r) {
                                todo.push(r);
                            }
                        }
                    }
                    seen
                };
                let t = (0..n)
                    .find(|&t| !created[t] && reach(t).iter().all(|&u| reach(u).contains(&t)))
                    .unwrap();
                for &(f, r) in &deps[t] {
                    if !created[r] {
                        deferred.insert((t, f));
                    }
                }
                t
            });
            created[next] = true;
            tables.push(next);
        }
        Order { tables, deferred }
    }

    #[test]
    fn same_order_as_the_scanning_version_on_random_graphs() {
        let mut rng = fastrand::Rng::with_seed(16);
        for case in 0..2_000 {
            let n = rng.usize(1..=12);
            let m = (0..n).fold(Metadata::new(), |m, i| {
                // Any references: cycles, self references, repeats, unknown tables.
                let refs: Vec<String> = (0..rng.usize(0..=3))
                    .map(|_| format!("t{}", rng.usize(0..=n)))
                    .collect();
                let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
                m.table(table(&format!("t{i}"), &refs))
            });
            assert_eq!(creation_order(&m), scanning_order(&m), "case {case}: {m:?}");
        }
    }

    /// `t<i>` with a foreign key to each of `parents` (distinct), valid for both dialects.
    fn numbered(i: usize, parents: &[usize]) -> Table {
        let refs: Vec<String> = parents.iter().map(|p| format!("t{p}")).collect();
        let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
        table(&format!("t{i}"), &refs)
    }

    /// Checks that `create_statements` creates every table after the tables it references,
    /// defers nothing, and that `drop_statements` drops them in the reverse order.
    fn assert_parents_first(m: &Metadata) {
        let position = |statements: &[String], prefix: &str| {
            let mut at = HashMap::new();
            for (i, s) in statements.iter().enumerate() {
                assert!(!s.starts_with("ALTER") && !s.starts_with("DO"), "{s}");
                if let Some(rest) = s.strip_prefix(prefix) {
                    let name = rest.trim_start_matches('"').split('"').next().unwrap();
                    at.insert(name.to_owned(), i);
                }
            }
            assert_eq!(at.len(), m.tables.len());
            at
        };
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let create = crate::schema::ddl::create_statements(m, dialect).unwrap();
            let created = position(&create, "CREATE TABLE IF NOT EXISTS ");
            let drop = crate::schema::ddl::drop_statements(m, dialect).unwrap();
            let dropped = position(&drop, "DROP TABLE IF EXISTS ");
            for t in &m.tables {
                for fk in &t.foreign_keys {
                    let (parent, child) = (&fk.ref_table, &t.name);
                    assert!(
                        created[parent] < created[child],
                        "{dialect:?}: {parent} after {child}"
                    );
                    assert!(
                        dropped[parent] > dropped[child],
                        "{dialect:?}: {parent} dropped first"
                    );
                }
            }
        }
    }

    #[test]
    fn a_20k_table_chain_listed_child_first() {
        let n = 20_000;
        let m = (0..n).rev().fold(Metadata::new(), |m, i| {
            let parents: &[usize] = if i == 0 { &[] } else { &[i - 1] };
            m.table(numbered(i, parents))
        });
        assert_parents_first(&m);
        assert_eq!(creation_order(&m).tables, (0..n).rev().collect::<Vec<_>>());
    }

    #[test]
    fn a_wide_dag_of_20k_tables_in_shuffled_order() {
        // 100 layers of 200 tables; each table references three tables of the layer above.
        let (layers, width) = (100, 200);
        let mut rng = fastrand::Rng::with_seed(16);
        let mut tables: Vec<Table> = (0..layers * width)
            .map(|i| {
                let layer = i / width;
                let mut parents: Vec<usize> = if layer == 0 {
                    Vec::new()
                } else {
                    (0..3)
                        .map(|_| (layer - 1) * width + rng.usize(0..width))
                        .collect()
                };
                parents.sort_unstable();
                parents.dedup();
                numbered(i, &parents)
            })
            .collect();
        rng.shuffle(&mut tables);
        let m = tables.into_iter().fold(Metadata::new(), Metadata::table);
        assert_parents_first(&m);
    }
}
