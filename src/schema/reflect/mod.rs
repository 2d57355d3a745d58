//! Reading the live catalog back and comparing it with [`Metadata`]: `verify_db`.
//!
//! Each dialect's reader fills a neutral `Catalog`; `diff` compares it with what the DDL
//! emitter would create. Compared: tables, columns (type as the dialect stores it, nullability),
//! primary keys, unique constraints (by columns), foreign keys (columns, target, actions),
//! indexes (by name: uniqueness, partial or not, indexed columns, and on PostgreSQL the method,
//! the `INCLUDE` columns and the operator classes the metadata names; an expression part is
//! compared as "an expression", not by its text) and PostgreSQL enum types (labels in order).
//! Check constraints and defaults are not compared: their text is normalised differently by
//! each database.

// Without a backend nothing reads a catalog.
#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

#[cfg(feature = "postgres")]
#[cfg(not(target_family = "wasm"))]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::collections::BTreeSet;
use std::fmt;

use super::ddl::{self, names};
use super::{Action, Column, ColumnType, ForeignKey, Index, IndexTarget, Metadata, Table};
use crate::url::Dialect;

/// A live database's schema, as read from its catalog.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub(crate) tables: Vec<CatalogTable>,
    /// `(schema, name, labels in order)`; PostgreSQL only.
    pub(crate) enums: Vec<(String, String, Vec<String>)>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct CatalogTable {
    /// `None` on SQLite.
    pub(crate) schema: Option<String>,
    pub(crate) name: String,
    pub(crate) columns: Vec<CatalogColumn>,
    pub(crate) primary_key: Vec<String>,
    pub(crate) uniques: Vec<Vec<String>>,
    pub(crate) foreign_keys: Vec<CatalogForeignKey>,
    pub(crate) indexes: Vec<CatalogIndex>,
    /// SQLite: the table's `CREATE TABLE` text as `sqlite_schema` keeps it.
    pub(crate) sql: Option<String>,
    /// SQLite: the table's indexes and triggers as `(name, CREATE text)` (the automatic indexes
    /// of keys have no text and are not listed).
    pub(crate) dependents: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct CatalogColumn {
    pub(crate) name: String,
    /// SQLite: the declared type; PostgreSQL: `format_type()`.
    pub(crate) ty: String,
    pub(crate) not_null: bool,
    /// PostgreSQL: the enum type's name when the column is an enum.
    pub(crate) enum_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CatalogForeignKey {
    pub(crate) columns: Vec<String>,
    pub(crate) ref_table: String,
    pub(crate) ref_columns: Vec<String>,
    pub(crate) on_delete: Action,
    pub(crate) on_update: Action,
}

#[derive(Debug, Clone)]
pub(crate) struct CatalogIndex {
    pub(crate) name: String,
    pub(crate) unique: bool,
    pub(crate) partial: bool,
    /// PostgreSQL access method; `None` on SQLite.
    pub(crate) method: Option<String>,
    /// Key parts: column names; `None` for an expression.
    pub(crate) parts: Vec<Option<String>>,
    /// PostgreSQL `INCLUDE` columns; empty on SQLite.
    pub(crate) include: Vec<String>,
    /// PostgreSQL operator class of each key part; empty on SQLite.
    pub(crate) opclasses: Vec<String>,
}

/// Whether something is missing, extra, or different.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DifferenceKind {
    /// In the metadata, not in the database.
    Missing,
    /// In the database, not in the metadata.
    Extra,
    /// In both, but not alike.
    Different,
}

/// What kind of object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ObjectKind {
    /// A table.
    Table,
    /// A column.
    Column,
    /// A primary key.
    PrimaryKey,
    /// A unique constraint.
    Unique,
    /// A foreign key.
    ForeignKey,
    /// An index.
    Index,
    /// An enum type.
    EnumType,
}

/// One difference between the metadata and the live database.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct Difference {
    /// Missing, extra or different.
    pub kind: DifferenceKind,
    /// The kind of object.
    pub object: ObjectKind,
    /// Its name: `table`, `table.column`, `table.index`…
    pub name: String,
    /// For [`DifferenceKind::Different`]: what differs.
    pub detail: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            DifferenceKind::Missing => "missing",
            DifferenceKind::Extra => "extra",
            DifferenceKind::Different => "different",
        };
        let object = match self.object {
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::PrimaryKey => "primary key of",
            ObjectKind::Unique => "unique constraint",
            ObjectKind::ForeignKey => "foreign key",
            ObjectKind::Index => "index",
            ObjectKind::EnumType => "enum type",
        };
        write!(f, "{kind} {object} {}", self.name)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// `'a', 'b'`: labels as SQL writes them.
fn quoted(labels: &[String]) -> String {
    labels
        .iter()
        .map(|l| format!("'{}'", l.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `a, <expression>, b`: an index's key parts, an expression shown as such.
fn index_parts(parts: &[Option<String>]) -> String {
    parts
        .iter()
        .map(|p| p.as_deref().unwrap_or("<expression>"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Out(Vec<Difference>);

impl Out {
    fn add(
        &mut self,
        kind: DifferenceKind,
        object: ObjectKind,
        name: String,
        detail: Option<String>,
    ) {
        self.0.push(Difference {
            kind,
            object,
            name,
            detail,
        });
    }
}

/// Compares `catalog` with what `metadata` creates on `dialect`. `default_schema` is where
/// tables without a schema live (PostgreSQL's `current_schema()`; `None` on SQLite).
pub(crate) fn diff(
    metadata: &Metadata,
    dialect: Dialect,
    catalog: &Catalog,
    default_schema: Option<&str>,
) -> Vec<Difference> {
    use DifferenceKind::{Different, Extra, Missing};
    let mut out = Out(Vec::new());
    // SQLite has one schema here, `main` (validation allows only none or `main`), and its
    // catalog reports none.
    let resolve = |schema: Option<&str>| match dialect {
        Dialect::Sqlite => None,
        Dialect::Postgres => schema.or(default_schema).map(str::to_owned),
    };
    let mut expected_tables = BTreeSet::new();
    for table in &metadata.tables {
        let schema = resolve(table.schema.as_deref());
        expected_tables.insert((schema.clone(), table.name.clone()));
        let label = names::display(table.schema.as_deref(), &table.name);
        let Some(live) = catalog
            .tables
            .iter()
            .find(|t| t.name == table.name && t.schema == schema)
        else {
            out.add(Missing, ObjectKind::Table, label, None);
            continue;
        };
        diff_table(
            &mut out,
            metadata,
            dialect,
            table,
            live,
            &label,
            default_schema,
        );
    }
    for live in &catalog.tables {
        // dbconfig's own record of migrations is not part of anyone's schema.
        if live.name == crate::migrate::TABLE {
            continue;
        }
        if !expected_tables.contains(&(live.schema.clone(), live.name.clone())) {
            let label = names::display(live.schema.as_deref(), &live.name);
            out.add(Extra, ObjectKind::Table, label, None);
        }
    }
    if dialect == Dialect::Postgres {
        for e in &metadata.enums {
            let schema = resolve(e.schema.as_deref()).unwrap_or_default();
            let label = names::display(e.schema.as_deref(), &e.name);
            match catalog
                .enums
                .iter()
                .find(|(s, n, _)| *s == schema && *n == e.name)
            {
                None => out.add(Missing, ObjectKind::EnumType, label, None),
                Some((_, _, labels)) if *labels != e.values => out.add(
                    Different,
                    ObjectKind::EnumType,
                    label,
                    Some(format!(
                        "labels are {}, expected {}",
                        quoted(labels),
                        quoted(&e.values)
                    )),
                ),
                Some(_) => {}
            }
        }
    }
    out.0.sort();
    out.0
}

fn diff_table(
    out: &mut Out,
    metadata: &Metadata,
    dialect: Dialect,
    table: &Table,
    live: &CatalogTable,
    label: &str,
    default_schema: Option<&str>,
) {
    use DifferenceKind::{Different, Extra, Missing};
    for column in &table.columns {
        let name = format!("{label}.{}", column.name);
        let Some(found) = live.columns.iter().find(|c| c.name == column.name) else {
            out.add(Missing, ObjectKind::Column, name, None);
            continue;
        };
        let (type_ok, expected) = column_type(metadata, dialect, column, found);
        if !type_ok {
            out.add(
                Different,
                ObjectKind::Column,
                name.clone(),
                Some(format!("type is {}, expected {expected}", found.ty)),
            );
        }
        let expected_not_null = ddl::not_null(table, column);
        if nullability_differs(dialect, table, column, found) {
            out.add(
                Different,
                ObjectKind::Column,
                name,
                Some(format!(
                    "{}, expected {}",
                    if found.not_null {
                        "NOT NULL"
                    } else {
                        "nullable"
                    },
                    if expected_not_null {
                        "NOT NULL"
                    } else {
                        "nullable"
                    }
                )),
            );
        }
    }
    for found in &live.columns {
        if table.find_column(&found.name).is_none() {
            out.add(
                Extra,
                ObjectKind::Column,
                format!("{label}.{}", found.name),
                None,
            );
        }
    }
    if live.primary_key != table.primary_key {
        out.add(
            Different,
            ObjectKind::PrimaryKey,
            label.to_owned(),
            Some(format!(
                "({}), expected ({})",
                live.primary_key.join(", "),
                table.primary_key.join(", ")
            )),
        );
    }
    let (expected_uniques, live_uniques) = unique_sets(dialect, table, live);
    for u in expected_uniques.difference(&live_uniques) {
        out.add(
            Missing,
            ObjectKind::Unique,
            format!("{label}({})", u.join(", ")),
            None,
        );
    }
    for u in live_uniques.difference(&expected_uniques) {
        out.add(
            Extra,
            ObjectKind::Unique,
            format!("{label}({})", u.join(", ")),
            None,
        );
    }

    let expected_fks: BTreeSet<CatalogForeignKey> = table
        .foreign_keys
        .iter()
        .map(|fk| expected_foreign_key(dialect, table, fk, default_schema))
        .collect();
    let live_fks: BTreeSet<CatalogForeignKey> = live.foreign_keys.iter().cloned().collect();
    let describe = |fk: &CatalogForeignKey| {
        format!(
            "{label}({}) -> {}({})",
            fk.columns.join(", "),
            fk.ref_table,
            fk.ref_columns.join(", ")
        )
    };
    for fk in expected_fks.difference(&live_fks) {
        out.add(Missing, ObjectKind::ForeignKey, describe(fk), None);
    }
    for fk in live_fks.difference(&expected_fks) {
        out.add(Extra, ObjectKind::ForeignKey, describe(fk), None);
    }

    for index in table.indexes.iter().filter(|i| i.applies_to(dialect)) {
        let name = format!("{label}.{}", index.name);
        let Some(found) = live.indexes.iter().find(|i| i.name == index.name) else {
            out.add(Missing, ObjectKind::Index, name, None);
            continue;
        };
        let problems = index_problems(dialect, index, found);
        if !problems.is_empty() {
            out.add(
                Different,
                ObjectKind::Index,
                name,
                Some(problems.join("; ")),
            );
        }
    }
    for found in &live.indexes {
        let expected = table
            .indexes
            .iter()
            .any(|i| i.name == found.name && i.applies_to(dialect));
        if !expected {
            out.add(
                Extra,
                ObjectKind::Index,
                format!("{label}.{}", found.name),
                None,
            );
        }
    }
}

/// How the live index `found` differs from `index` (empty: alike).
pub(crate) fn index_problems(dialect: Dialect, index: &Index, found: &CatalogIndex) -> Vec<String> {
    let parts: Vec<Option<String>> = index
        .parts
        .iter()
        .map(|p| match &p.target {
            IndexTarget::Column(c) => Some(c.clone()),
            IndexTarget::Expr(_) => None,
        })
        .collect();
    let mut problems = Vec::new();
    let unique = |u: bool| if u { "unique" } else { "not unique" };
    if found.unique != index.unique {
        problems.push(format!(
            "{}, expected {}",
            unique(found.unique),
            unique(index.unique)
        ));
    }
    let partial = |p: bool| {
        if p {
            "partial (WHERE …)"
        } else {
            "not partial"
        }
    };
    if found.partial != index.filter.is_some() {
        problems.push(format!(
            "{}, expected {}",
            partial(found.partial),
            partial(index.filter.is_some())
        ));
    }
    if found.parts != parts {
        problems.push(format!(
            "on ({}), expected ({})",
            index_parts(&found.parts),
            index_parts(&parts)
        ));
    }
    if dialect == Dialect::Postgres {
        if found.include != index.include {
            let list = |l: &[String]| {
                if l.is_empty() {
                    "nothing".to_owned()
                } else {
                    format!("({})", l.join(", "))
                }
            };
            problems.push(format!(
                "includes {}, expected {}",
                list(&found.include),
                list(&index.include)
            ));
        }
        // An operator class is compared where the metadata names one (the default one
        // depends on the column's type).
        for (i, part) in index.parts.iter().enumerate() {
            if let Some(opclass) = &part.opclass {
                let live = found.opclasses.get(i).map_or("none", String::as_str);
                if live != opclass {
                    problems.push(format!(
                        "operator class of part {} is {live}, expected {opclass}",
                        i + 1
                    ));
                }
            }
        }
        let method = index
            .method
            .as_deref()
            .unwrap_or("btree")
            .to_ascii_lowercase();
        if found.method.as_deref() != Some(method.as_str()) {
            let found = found.method.as_deref().unwrap_or("unknown");
            problems.push(format!("method is {found}, expected {method}"));
        }
    }
    problems
}

/// Whether the live column's type is the one `column` gets on `dialect`, and that type.
pub(crate) fn column_type(
    metadata: &Metadata,
    dialect: Dialect,
    column: &Column,
    found: &CatalogColumn,
) -> (bool, String) {
    let expected = match (&column.sqlite_type, dialect) {
        (Some(declared), Dialect::Sqlite) => declared.clone(),
        _ => ddl::sql_type(metadata, &column.ty, dialect).unwrap_or_default(),
    };
    let ok = match (&column.ty, dialect) {
        (ColumnType::Enum(e), Dialect::Postgres) => found.enum_name.as_deref() == Some(e),
        // The identity column is declared exactly `INTEGER` (the rowid alias).
        (_, Dialect::Sqlite) if column.identity => found.ty.eq_ignore_ascii_case("INTEGER"),
        _ => found.ty.eq_ignore_ascii_case(&expected),
    };
    (ok, expected)
}

/// True when the live column's nullability is not the one `column` gets.
pub(crate) fn nullability_differs(
    dialect: Dialect,
    table: &Table,
    column: &Column,
    found: &CatalogColumn,
) -> bool {
    // SQLite reports the rowid alias as nullable; it never holds NULL.
    let skip = dialect == Dialect::Sqlite && column.identity;
    !skip && found.not_null != ddl::not_null(table, column)
}

/// The unique constraints, as sorted column lists: `(expected, live)`.
pub(crate) fn unique_sets(
    dialect: Dialect,
    table: &Table,
    live: &CatalogTable,
) -> (BTreeSet<Vec<String>>, BTreeSet<Vec<String>>) {
    let pk = sorted(&table.primary_key);
    // SQLite keeps a separate index for a UNIQUE constraint on the primary key's columns only
    // when the key is the rowid: such a constraint is not compared there.
    let keep = |u: &Vec<String>| dialect != Dialect::Sqlite || *u != pk;
    let expected = table
        .unique
        .iter()
        .map(|u| sorted(&u.columns))
        .filter(keep)
        .collect();
    let found = live
        .uniques
        .iter()
        .map(|u| sorted(u))
        .filter(keep)
        .collect();
    (expected, found)
}

/// `cols`, sorted.
pub(crate) fn sorted(cols: &[String]) -> Vec<String> {
    let mut v = cols.to_vec();
    v.sort();
    v
}

/// `fk` as the catalog of `dialect` reports it.
pub(crate) fn expected_foreign_key(
    dialect: Dialect,
    table: &Table,
    fk: &ForeignKey,
    default_schema: Option<&str>,
) -> CatalogForeignKey {
    let ref_schema = fk.ref_schema.as_deref().or(table.schema.as_deref());
    CatalogForeignKey {
        columns: fk.columns.clone(),
        ref_table: match dialect {
            Dialect::Sqlite => fk.ref_table.clone(),
            Dialect::Postgres => names::display(ref_schema.or(default_schema), &fk.ref_table),
        },
        ref_columns: fk.ref_columns.clone(),
        on_delete: fk.on_delete,
        on_update: fk.on_update,
    }
}

/// A foreign-key action from the words SQLite reports or PostgreSQL's one-letter code.
pub(crate) fn action(text: &str) -> Action {
    match text {
        "CASCADE" | "c" => Action::Cascade,
        "RESTRICT" | "r" => Action::Restrict,
        "SET NULL" | "n" => Action::SetNull,
        "SET DEFAULT" | "d" => Action::SetDefault,
        _ => Action::NoAction,
    }
}
