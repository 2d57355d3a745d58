//! Planned upgrades: what a live database lacks compared with the metadata, written as a
//! migration step (`plan_db` on an engine, `dbconfig migrate plan` on the command line).
//!
//! The planner reads the catalog (the same reader as `verify_db`), compares it with the
//! metadata the same way, and sorts what differs into three kinds:
//!
//! - **Additive**, written by default: new enum types and labels, new tables, new columns, new
//!   unique constraints, primary keys and foreign keys, new or changed indexes, a column that
//!   becomes nullable. Rows and columns are kept.
//! - **Destructive**, listed and written only when asked (`--destructive`,
//!   [`Plan::sql`]`(true)`): dropped columns, tables and indexes, type changes (PostgreSQL
//!   `ALTER COLUMN … TYPE … USING col::type`), a column that becomes `NOT NULL`.
//! - **Manual**, listed for a person: what the catalog cannot tell the planner how to undo (a
//!   PostgreSQL primary key, unique or foreign key that must go: their live names are not read)
//!   or what the database cannot do (removing or reordering PostgreSQL enum labels).
//!
//! Rules for new columns:
//!
//! - A new `NOT NULL` column needs a default unless the table is empty: without one, the step
//!   fails on a table with rows (and keeps nothing).
//! - On SQLite, `ALTER TABLE … ADD COLUMN` takes a column without a key, a unique constraint,
//!   an expression or `CURRENT_TIMESTAMP` default, and (when `NOT NULL`) with a constant
//!   default. Any other new column, and every new foreign key, unique constraint, primary key,
//!   changed enum labels (the `CHECK` of its columns), type or nullability change, is done with
//!   SQLite's table-rebuild procedure (<https://www.sqlite.org/lang_altertable.html#otheralter>):
//!   create the new table under a temporary name, copy the rows of the columns both have, drop
//!   the old table, rename the new one, recreate its indexes and the triggers and indexes the
//!   metadata does not know. The step runs with foreign keys off and `PRAGMA
//!   foreign_key_check` before it commits (the [`FOREIGN_KEYS_OFF`] line), in one transaction.
//! - On PostgreSQL, new tables are created without their foreign keys, which are added once
//!   every new table exists (`ALTER TABLE … ADD CONSTRAINT`, checked against existing rows).
//!
//! An enum label added on PostgreSQL cannot be used by the same step (`ALTER TYPE … ADD VALUE`
//! inside a transaction): a step that also needs the label, as a default say, fails and keeps
//! nothing; run the plan twice (labels first).

use std::collections::BTreeSet;
use std::fmt;

use super::{FOREIGN_KEYS_OFF, Migration};
use crate::schema::ddl::{self, creation_order, names, piece};
use crate::schema::reflect::{self, Catalog, CatalogForeignKey, CatalogTable};
use crate::schema::{Column, ColumnDefault, EnumType, Literal, Metadata, SchemaError, Table};
use crate::url::Dialect;

/// What a [`Change`] does to data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// Adds what the metadata has and the database lacks; every row and column is kept.
    Additive,
    /// Drops or converts data; written only when asked.
    Destructive,
    /// Cannot be planned; listed for a person to do.
    Manual,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::Additive => "additive",
            ChangeKind::Destructive => "destructive",
            ChangeKind::Manual => "manual",
        })
    }
}

/// One change of a [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// Additive, destructive or manual.
    pub kind: ChangeKind,
    /// What it does, in words (`add column flow.priority`).
    pub summary: String,
    /// The SQL, in order (none for a manual change).
    pub statements: Vec<String>,
    /// SQLite: must run with foreign keys off (a table rebuild, a dropped table).
    pub foreign_keys_off: bool,
}

/// What a live database lacks compared with the metadata, for one dialect, in the order the
/// statements must run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan {
    /// The dialect the statements are for.
    pub dialect: Dialect,
    /// Every change found.
    pub changes: Vec<Change>,
}

impl Plan {
    /// True when the database matches the metadata (nothing to do, nothing listed).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes [`sql`](Self::sql) writes: the additive ones, and the destructive ones when
    /// `destructive`.
    pub fn written(&self, destructive: bool) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(move |c| match c.kind {
            ChangeKind::Additive => true,
            ChangeKind::Destructive => destructive,
            ChangeKind::Manual => false,
        })
    }

    /// True when some change is written (the step would do something).
    #[must_use]
    pub fn has_work(&self, destructive: bool) -> bool {
        self.written(destructive).next().is_some()
    }

    /// The step's SQL: a comment per change, then its statements; the changes not written are
    /// listed as comments at the end. Starts with the [`FOREIGN_KEYS_OFF`] line when a written
    /// change needs it (SQLite).
    #[must_use]
    pub fn sql(&self, destructive: bool) -> String {
        let mut out = format!(
            "-- Planned by dbconfig for {} from the metadata.\n",
            self.dialect
        );
        if self.dialect == Dialect::Sqlite && self.written(destructive).any(|c| c.foreign_keys_off)
        {
            out.push_str(FOREIGN_KEYS_OFF);
            out.push('\n');
        }
        for change in self.written(destructive) {
            out.push_str("\n-- ");
            out.push_str(&change.summary);
            out.push('\n');
            for statement in &change.statements {
                out.push_str(statement);
                out.push_str(";\n");
            }
        }
        let skipped: Vec<&Change> = self
            .changes
            .iter()
            .filter(|c| !self.written(destructive).any(|w| std::ptr::eq(w, *c)))
            .collect();
        if !skipped.is_empty() {
            out.push_str("\n-- Not written:\n");
            for change in skipped {
                let why = match change.kind {
                    ChangeKind::Destructive => "destructive, written with --destructive",
                    _ => "do it by hand",
                };
                out.push_str(&format!("--   {} ({why})\n", change.summary));
            }
        }
        out
    }

    /// The plan as a migration step for its dialect (`id`, `description`, [`sql`](Self::sql)).
    /// The other dialect gets no text: plan it against a database of that dialect too.
    #[must_use]
    pub fn migration(&self, id: &str, description: &str, destructive: bool) -> Migration {
        let step = Migration::per_dialect(id, description);
        match self.dialect {
            Dialect::Sqlite => step.sqlite(self.sql(destructive)),
            Dialect::Postgres => step.postgres(self.sql(destructive)),
        }
    }
}

/// Plans the changes that bring `conn`'s `main` database to `metadata` (the synchronous core of
/// `SqliteEngine::plan_db`, also usable on a plain rusqlite connection or in wasm).
///
/// # Errors
/// Invalid metadata, or reading the catalog failed.
#[cfg(feature = "sqlite")]
pub fn plan_sqlite(conn: &rusqlite::Connection, metadata: &Metadata) -> crate::Result<Plan> {
    metadata.validate_for(Dialect::Sqlite)?;
    let catalog = reflect::sqlite::read(conn)?;
    Ok(plan(metadata, Dialect::Sqlite, &catalog, None)?)
}

/// Plans the changes that bring the database described by `catalog` to `metadata` on
/// `dialect`. `default_schema` is where tables without a schema live (PostgreSQL).
pub(crate) fn plan(
    metadata: &Metadata,
    dialect: Dialect,
    catalog: &Catalog,
    default_schema: Option<&str>,
) -> Result<Plan, SchemaError> {
    metadata.validate_for(dialect)?;
    let mut planner = Planner {
        metadata,
        dialect,
        default_schema,
        enums: Vec::new(),
        tables: Vec::new(),
        new_tables: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        drops: Vec::new(),
        manual: Vec::new(),
    };
    if dialect == Dialect::Postgres {
        for e in &metadata.enums {
            planner.enum_type(e, catalog);
        }
    }
    let order = creation_order(metadata);
    let mut expected = BTreeSet::new();
    for &t in &order.tables {
        let table = &metadata.tables[t];
        let schema = planner.live_schema(table.schema.as_deref());
        expected.insert((schema.clone(), table.name.clone()));
        match catalog
            .tables
            .iter()
            .find(|l| l.name == table.name && l.schema == schema)
        {
            Some(live) => planner.existing_table(table, live),
            None => planner.new_table(table),
        }
    }
    for live in &catalog.tables {
        if live.name == super::TABLE || expected.contains(&(live.schema.clone(), live.name.clone()))
        {
            continue;
        }
        let mut sql = piece::drop_table(live.schema.as_deref(), &live.name, dialect);
        if dialect == Dialect::Postgres {
            // Foreign keys of other tables that reference it go with it (not their rows).
            sql.push_str(" CASCADE");
        }
        planner.drops.push(Change {
            kind: ChangeKind::Destructive,
            summary: format!(
                "drop table {} (not in the metadata)",
                names::display(live.schema.as_deref(), &live.name)
            ),
            statements: vec![sql],
            foreign_keys_off: true,
        });
    }
    let Planner {
        enums,
        tables,
        new_tables,
        foreign_keys,
        indexes,
        drops,
        manual,
        ..
    } = planner;
    let changes = [
        enums,
        tables,
        new_tables,
        foreign_keys,
        indexes,
        drops,
        manual,
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(Plan { dialect, changes })
}

/// The changes found so far, by the phase they run in.
struct Planner<'m> {
    metadata: &'m Metadata,
    dialect: Dialect,
    default_schema: Option<&'m str>,
    enums: Vec<Change>,
    tables: Vec<Change>,
    new_tables: Vec<Change>,
    foreign_keys: Vec<Change>,
    indexes: Vec<Change>,
    drops: Vec<Change>,
    manual: Vec<Change>,
}

fn additive(summary: String, statements: Vec<String>) -> Change {
    Change {
        kind: ChangeKind::Additive,
        summary,
        statements,
        foreign_keys_off: false,
    }
}

fn destructive(summary: String, statements: Vec<String>) -> Change {
    Change {
        kind: ChangeKind::Destructive,
        summary,
        statements,
        foreign_keys_off: false,
    }
}

fn manual(summary: String) -> Change {
    Change {
        kind: ChangeKind::Manual,
        summary,
        statements: Vec::new(),
        foreign_keys_off: false,
    }
}

/// What differs between a metadata table and its live counterpart.
struct TableDiff<'a> {
    missing_columns: Vec<&'a Column>,
    extra_columns: Vec<&'a str>,
    retyped: Vec<(&'a Column, String, String)>,
    relaxed: Vec<&'a Column>,
    tightened: Vec<&'a Column>,
    primary_key: bool,
    missing_uniques: Vec<usize>,
    extra_uniques: Vec<Vec<String>>,
    missing_foreign_keys: Vec<usize>,
    extra_foreign_keys: Vec<&'a CatalogForeignKey>,
    /// SQLite: enum columns whose `CHECK` lists other labels.
    enum_checks: Vec<&'a Column>,
}

impl<'m> Planner<'m> {
    /// Where a table or type of `schema` lives in the catalog.
    fn live_schema(&self, schema: Option<&str>) -> Option<String> {
        match self.dialect {
            Dialect::Sqlite => None,
            Dialect::Postgres => schema.or(self.default_schema).map(str::to_owned),
        }
    }

    fn enum_type(&mut self, e: &EnumType, catalog: &Catalog) {
        let schema = self.live_schema(e.schema.as_deref()).unwrap_or_default();
        let label = names::display(e.schema.as_deref(), &e.name);
        let Some((_, _, live)) = catalog
            .enums
            .iter()
            .find(|(s, n, _)| *s == schema && *n == e.name)
        else {
            self.enums.push(additive(
                format!("add enum type {label}"),
                vec![piece::create_enum(e)],
            ));
            return;
        };
        if *live == e.values {
            return;
        }
        // The live labels must appear in the metadata's, in the same order: then the new ones
        // are inserted where they belong.
        let mut rest = live.iter().peekable();
        for v in &e.values {
            if rest.peek() == Some(&v) {
                rest.next();
            }
        }
        if rest.next().is_some() {
            self.manual.push(manual(format!(
                "enum type {label} has labels {}, expected {}: PostgreSQL cannot remove or \
                 reorder labels (create a new type and convert the columns)",
                live.join(", "),
                e.values.join(", ")
            )));
            return;
        }
        let mut statements = Vec::new();
        let mut added = Vec::new();
        for (i, v) in e.values.iter().enumerate() {
            if live.contains(v) {
                continue;
            }
            // Every label before this one exists by now; the first goes before the first
            // live label.
            statements.push(match i.checked_sub(1) {
                Some(prev) => piece::add_enum_label(e, v, false, &e.values[prev]),
                None => piece::add_enum_label(e, v, true, &live[0]),
            });
            added.push(v.as_str());
        }
        self.enums.push(additive(
            format!("add labels {} to enum type {label}", added.join(", ")),
            statements,
        ));
    }

    fn new_table(&mut self, table: &Table) {
        let d = self.dialect;
        let label = names::display(table.schema.as_deref(), &table.name);
        let mut statements = vec![piece::create_table(self.metadata, table, d)];
        statements.extend(
            table
                .indexes
                .iter()
                .filter(|i| i.applies_to(d))
                .map(|i| piece::create_index(table, i, d)),
        );
        self.new_tables
            .push(additive(format!("add table {label}"), statements));
        if d == Dialect::Postgres {
            for fk in &table.foreign_keys {
                self.foreign_keys.push(additive(
                    format!(
                        "add foreign key {} to table {label}",
                        names::foreign_key(table, fk)
                    ),
                    vec![piece::add_foreign_key(table, fk)],
                ));
            }
        }
    }

    fn diff_table<'a>(&self, table: &'a Table, live: &'a CatalogTable) -> TableDiff<'a> {
        let d = self.dialect;
        let mut diff = TableDiff {
            missing_columns: Vec::new(),
            extra_columns: live
                .columns
                .iter()
                .filter(|f| table.find_column(&f.name).is_none())
                .map(|f| f.name.as_str())
                .collect(),
            retyped: Vec::new(),
            relaxed: Vec::new(),
            tightened: Vec::new(),
            primary_key: live.primary_key != table.primary_key,
            missing_uniques: Vec::new(),
            extra_uniques: Vec::new(),
            missing_foreign_keys: Vec::new(),
            extra_foreign_keys: Vec::new(),
            enum_checks: Vec::new(),
        };
        for column in &table.columns {
            let Some(found) = live.columns.iter().find(|f| f.name == column.name) else {
                diff.missing_columns.push(column);
                continue;
            };
            let (same, expected) = reflect::column_type(self.metadata, d, column, found);
            if !same {
                diff.retyped.push((column, found.ty.clone(), expected));
            }
            if reflect::nullability_differs(d, table, column, found) {
                if ddl::not_null(table, column) {
                    diff.tightened.push(column);
                } else {
                    diff.relaxed.push(column);
                }
            }
            if d == Dialect::Sqlite
                && let Some(check) = piece::sqlite_enum_check(self.metadata, column)
                && !live.sql.as_deref().unwrap_or_default().contains(&check)
            {
                diff.enum_checks.push(column);
            }
        }
        let (expected_uniques, live_uniques) = reflect::unique_sets(d, table, live);
        for u in expected_uniques.difference(&live_uniques) {
            if let Some(i) = table
                .unique
                .iter()
                .position(|x| reflect::sorted(&x.columns) == *u)
            {
                diff.missing_uniques.push(i);
            }
        }
        diff.extra_uniques = live_uniques
            .difference(&expected_uniques)
            .cloned()
            .collect();
        let expected_fks: Vec<CatalogForeignKey> = table
            .foreign_keys
            .iter()
            .map(|fk| reflect::expected_foreign_key(d, table, fk, self.default_schema))
            .collect();
        for (i, fk) in expected_fks.iter().enumerate() {
            if !live.foreign_keys.contains(fk) {
                diff.missing_foreign_keys.push(i);
            }
        }
        diff.extra_foreign_keys = live
            .foreign_keys
            .iter()
            .filter(|fk| !expected_fks.contains(fk))
            .collect();
        diff
    }

    fn existing_table(&mut self, table: &Table, live: &CatalogTable) {
        let diff = self.diff_table(table, live);
        let rebuilt = match self.dialect {
            Dialect::Sqlite => self.sqlite_table(table, live, &diff),
            Dialect::Postgres => {
                self.postgres_table(table, live, &diff);
                false
            }
        };
        self.table_indexes(table, live, rebuilt);
    }

    /// SQLite: `ADD COLUMN`s when they can do it, otherwise the table rebuild. True when the
    /// table is rebuilt.
    fn sqlite_table(&mut self, table: &Table, live: &CatalogTable, diff: &TableDiff<'_>) -> bool {
        let label = &table.name;
        let mut grows = Vec::new();
        let mut loses = Vec::new();
        for column in &diff.missing_columns {
            if let Some(why) = not_addable(table, column) {
                grows.push(format!("new column {} ({why})", column.name));
            }
        }
        for &i in &diff.missing_uniques {
            grows.push(format!(
                "new unique constraint on ({})",
                table.unique[i].columns.join(", ")
            ));
        }
        for &i in &diff.missing_foreign_keys {
            grows.push(format!(
                "new foreign key {}",
                names::foreign_key(table, &table.foreign_keys[i])
            ));
        }
        for column in &diff.relaxed {
            grows.push(format!("column {} becomes nullable", column.name));
        }
        for column in &diff.enum_checks {
            grows.push(format!("the labels of enum column {} changed", column.name));
        }
        if diff.primary_key {
            loses.push(format!(
                "primary key ({}) becomes ({})",
                live.primary_key.join(", "),
                table.primary_key.join(", ")
            ));
        }
        for (column, from, to) in &diff.retyped {
            loses.push(format!(
                "column {} changes type from {from} to {to}",
                column.name
            ));
        }
        for column in &diff.tightened {
            loses.push(format!("column {} becomes NOT NULL", column.name));
        }
        for column in &diff.extra_columns {
            loses.push(format!("column {column} is dropped (not in the metadata)"));
        }
        for u in &diff.extra_uniques {
            loses.push(format!(
                "unique constraint on ({}) is dropped",
                u.join(", ")
            ));
        }
        for fk in &diff.extra_foreign_keys {
            loses.push(format!(
                "foreign key ({}) -> {} is dropped",
                fk.columns.join(", "),
                fk.ref_table
            ));
        }
        if grows.is_empty() && loses.is_empty() {
            self.add_columns(table, &diff.missing_columns);
            return false;
        }
        let kind = if loses.is_empty() {
            ChangeKind::Additive
        } else {
            ChangeKind::Destructive
        };
        grows.extend(loses);
        self.tables.push(Change {
            kind,
            summary: format!("rebuild table {label}: {}", grows.join("; ")),
            statements: self.rebuild(table, live),
            foreign_keys_off: true,
        });
        true
    }

    /// SQLite's table rebuild: new table under a temporary name, rows copied, old table dropped,
    /// new one renamed, indexes and triggers recreated.
    fn rebuild(&self, table: &Table, live: &CatalogTable) -> Vec<String> {
        let temporary = format!("dbconfig_rebuild_{}", table.name);
        let quoted = piece::identifier(&table.name);
        let quoted_temporary = piece::identifier(&temporary);
        let mut out = vec![piece::sqlite_table_as(self.metadata, table, &temporary)];
        let common: Vec<String> = table
            .columns
            .iter()
            .filter(|c| live.columns.iter().any(|f| f.name == c.name))
            .map(|c| piece::identifier(&c.name))
            .collect();
        if !common.is_empty() {
            let columns = common.join(", ");
            out.push(format!(
                "INSERT INTO {quoted_temporary} ({columns}) SELECT {columns} FROM {quoted}"
            ));
        }
        out.push(format!("DROP TABLE {quoted}"));
        out.push(format!("ALTER TABLE {quoted_temporary} RENAME TO {quoted}"));
        let mut known = BTreeSet::new();
        for index in table
            .indexes
            .iter()
            .filter(|i| i.applies_to(Dialect::Sqlite))
        {
            known.insert(index.name.as_str());
            out.push(piece::create_index(table, index, Dialect::Sqlite));
        }
        // Indexes and triggers the metadata does not know go with the old table: recreate
        // them from the text SQLite kept.
        for (name, sql) in &live.dependents {
            if !known.contains(name.as_str()) {
                out.push(sql.clone());
            }
        }
        out
    }

    /// `ALTER TABLE … ADD COLUMN` for each of `columns`.
    fn add_columns(&mut self, table: &Table, columns: &[&Column]) {
        let d = self.dialect;
        let label = names::display(table.schema.as_deref(), &table.name);
        for column in columns {
            self.tables.push(additive(
                format!(
                    "add column {label}.{}{}",
                    column.name,
                    unfilled(table, column, d)
                ),
                vec![piece::add_column(self.metadata, table, column, d)],
            ));
        }
    }

    fn postgres_table(&mut self, table: &Table, live: &CatalogTable, diff: &TableDiff<'_>) {
        let label = names::display(table.schema.as_deref(), &table.name);
        self.add_columns(table, &diff.missing_columns);
        for (column, from, to) in &diff.retyped {
            self.tables.push(destructive(
                format!(
                    "change the type of column {label}.{} from {from} to {to}",
                    column.name
                ),
                vec![piece::change_type(self.metadata, table, column)],
            ));
        }
        for column in &diff.relaxed {
            self.tables.push(additive(
                format!("column {label}.{} becomes nullable", column.name),
                vec![piece::alter_column(table, &column.name, "DROP NOT NULL")],
            ));
        }
        for column in &diff.tightened {
            self.tables.push(destructive(
                format!(
                    "column {label}.{} becomes NOT NULL (fails if it holds NULLs)",
                    column.name
                ),
                vec![piece::alter_column(table, &column.name, "SET NOT NULL")],
            ));
        }
        if diff.primary_key {
            if table.primary_key.is_empty() {
                self.manual.push(manual(format!(
                    "table {label} has a primary key the metadata does not: drop it by hand"
                )));
            } else if live.primary_key.is_empty() {
                self.tables.push(additive(
                    format!(
                        "add primary key ({}) to table {label}",
                        table.primary_key.join(", ")
                    ),
                    vec![piece::add_primary_key(table)],
                ));
            } else {
                self.manual.push(manual(format!(
                    "the primary key of table {label} is not ({}): change it by hand",
                    table.primary_key.join(", ")
                )));
            }
        }
        for &i in &diff.missing_uniques {
            self.tables.push(additive(
                format!(
                    "add unique constraint on ({}) to table {label}",
                    table.unique[i].columns.join(", ")
                ),
                vec![piece::add_unique(table, i)],
            ));
        }
        for u in &diff.extra_uniques {
            self.manual.push(manual(format!(
                "table {label} has a unique constraint on ({}) the metadata does not: drop it \
                 by hand",
                u.join(", ")
            )));
        }
        for &i in &diff.missing_foreign_keys {
            let fk = &table.foreign_keys[i];
            self.foreign_keys.push(additive(
                format!(
                    "add foreign key {} to table {label}",
                    names::foreign_key(table, fk)
                ),
                vec![piece::add_foreign_key(table, fk)],
            ));
        }
        for fk in &diff.extra_foreign_keys {
            self.manual.push(manual(format!(
                "table {label} has a foreign key ({}) -> {} the metadata does not: drop it by hand",
                fk.columns.join(", "),
                fk.ref_table
            )));
        }
        for column in &diff.extra_columns {
            self.drops.push(destructive(
                format!("drop column {label}.{column} (not in the metadata)"),
                vec![piece::drop_column(table, column, Dialect::Postgres)],
            ));
        }
    }

    /// New, changed and extra indexes of an existing table (a rebuilt SQLite table already has
    /// the metadata's).
    fn table_indexes(&mut self, table: &Table, live: &CatalogTable, rebuilt: bool) {
        let d = self.dialect;
        let label = names::display(table.schema.as_deref(), &table.name);
        for index in table.indexes.iter().filter(|i| i.applies_to(d)) {
            if rebuilt {
                continue;
            }
            match live.indexes.iter().find(|i| i.name == index.name) {
                None => self.indexes.push(additive(
                    format!("add index {} to table {label}", index.name),
                    vec![piece::create_index(table, index, d)],
                )),
                Some(found) => {
                    let problems = reflect::index_problems(d, index, found);
                    if !problems.is_empty() {
                        self.indexes.push(additive(
                            format!(
                                "recreate index {} of table {label}: {}",
                                index.name,
                                problems.join("; ")
                            ),
                            vec![
                                piece::drop_index(table, &index.name, d),
                                piece::create_index(table, index, d),
                            ],
                        ));
                    }
                }
            }
        }
        for found in &live.indexes {
            let known = table
                .indexes
                .iter()
                .any(|i| i.name == found.name && i.applies_to(d));
            if !known {
                self.drops.push(destructive(
                    format!(
                        "drop index {} of table {label} (not in the metadata)",
                        found.name
                    ),
                    vec![piece::drop_index(table, &found.name, d)],
                ));
            }
        }
    }
}

/// Why SQLite's `ADD COLUMN` cannot add `column` (none: it can).
fn not_addable(table: &Table, column: &Column) -> Option<&'static str> {
    if column.identity || table.primary_key.contains(&column.name) {
        return Some("part of the primary key");
    }
    if table
        .unique
        .iter()
        .any(|u| u.columns.contains(&column.name))
    {
        return Some("in a unique constraint");
    }
    let not_null = ddl::not_null(table, column);
    match column.default_for(Dialect::Sqlite) {
        Some(ColumnDefault::CurrentTimestamp) => Some("a CURRENT_TIMESTAMP default"),
        Some(ColumnDefault::Expr(_)) => Some("an expression default"),
        Some(ColumnDefault::Value(Literal::Null)) | None if not_null => {
            Some("NOT NULL without a default")
        }
        _ => None,
    }
}

/// A note for a new `NOT NULL` column without a default on `dialect`.
fn unfilled(table: &Table, column: &Column, dialect: Dialect) -> &'static str {
    let has_default = column.default_for(dialect).is_some();
    if ddl::not_null(table, column) && !column.identity && !has_default {
        " (NOT NULL without a default: fails if the table has rows)"
    } else {
        ""
    }
}
