//! Schema metadata: tables, columns, keys, indexes and enum types, described once and emitted as
//! dialect-correct DDL by [`ddl`].
//!
//! Build it in Rust:
//!
//! ```
//! use dbconfig::schema::{Action, Column, ColumnType, ForeignKey, Index, Metadata, Table};
//!
//! let metadata = Metadata::new()
//!     .table(
//!         Table::new("flow")
//!             .column(Column::new("id", ColumnType::BigInt).identity())
//!             .column(Column::new("name", ColumnType::Text).not_null())
//!             .primary_key(["id"])
//!             .unique(None, ["name"]),
//!     )
//!     .table(
//!         Table::new("flow_run")
//!             .column(Column::new("id", ColumnType::BigInt).identity())
//!             .column(Column::new("flow_id", ColumnType::BigInt).not_null())
//!             .column(Column::new("state", ColumnType::Varchar(20)))
//!             .primary_key(["id"])
//!             .foreign_key(ForeignKey::new(["flow_id"], "flow", ["id"]).on_delete(Action::Cascade))
//!             .index(Index::new("ix_flow_run_state", ["state"]).filter("state IS NOT NULL")),
//!     );
//! metadata.validate().unwrap();
//! ```
//!
//! or load it from JSON or TOML (feature `serde`): the field names are the ones below, column
//! types are strings (`"varchar(255)"`, `"numeric(10,2)"`, `"enum:state_type"`).
//!
//! Names are always quoted in the SQL, so any name is safe. SQL *expressions* (check
//! constraints, partial-index `WHERE`, expression indexes, `Default::Expr`) are trusted text,
//! written by the schema's author, and emitted as given.

pub mod ddl;
mod error;
pub mod reflect;
mod types;
mod validate;

pub use error::SchemaError;
pub use reflect::{Difference, DifferenceKind, ObjectKind};
pub use types::ColumnType;

use crate::url::Dialect;

/// A database schema: enum types and tables.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Metadata {
    /// Enum types (PostgreSQL `CREATE TYPE … AS ENUM`; SQLite: a `CHECK` on the column).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub enums: Vec<EnumType>,
    /// Tables, in any order (DDL is emitted in foreign-key order).
    #[cfg_attr(feature = "serde", serde(default))]
    pub tables: Vec<Table>,
}

/// A named set of labels.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct EnumType {
    /// PostgreSQL schema; none = the default (`public`). SQLite only allows none.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub schema: Option<String>,
    /// The type's name, unique in the metadata.
    pub name: String,
    /// Labels, in order.
    pub values: Vec<String>,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Table {
    /// PostgreSQL schema (created if missing); none = the default. SQLite only allows none or
    /// `main`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub schema: Option<String>,
    /// The table's name.
    pub name: String,
    /// Columns, in order.
    pub columns: Vec<Column>,
    /// Primary-key columns (several = composite key); empty = none.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub primary_key: Vec<String>,
    /// Unique constraints.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub unique: Vec<UniqueConstraint>,
    /// Check constraints.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub checks: Vec<CheckConstraint>,
    /// Foreign keys.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub foreign_keys: Vec<ForeignKey>,
    /// Indexes.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub indexes: Vec<Index>,
}

/// A column.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// Its type.
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub ty: ColumnType,
    /// `NULL` allowed. Defaults to `true` (primary-key columns are never null).
    #[cfg_attr(feature = "serde", serde(default = "yes"))]
    pub nullable: bool,
    /// Default value.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub default: Option<Default>,
    /// Values generated by the database: PostgreSQL `GENERATED BY DEFAULT AS IDENTITY`; SQLite
    /// the rowid alias (`INTEGER PRIMARY KEY`), so it must be the table's only key column.
    /// Integer types only; always `NOT NULL` whatever `nullable` says.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_false"))]
    pub identity: bool,
}

#[cfg(feature = "serde")]
fn yes() -> bool {
    true
}

#[cfg(feature = "serde")]
fn is_false(v: &bool) -> bool {
    !v
}

/// A column default.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Default {
    /// A literal, quoted by the emitter.
    Value(Literal),
    /// The current date and time (`CURRENT_TIMESTAMP`).
    CurrentTimestamp,
    /// A trusted SQL expression, emitted in parentheses as given.
    Expr(String),
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum Literal {
    /// `NULL`.
    Null,
    /// `TRUE`/`FALSE` (SQLite: `1`/`0`).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (finite).
    Float(f64),
    /// A string.
    Text(String),
}

/// A `UNIQUE` constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct UniqueConstraint {
    /// Constraint name; none = `uq_<table>_<columns>`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub name: Option<String>,
    /// Columns.
    pub columns: Vec<String>,
}

/// A `CHECK` constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct CheckConstraint {
    /// Constraint name; none = `ck_<table>_<n>`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub name: Option<String>,
    /// A trusted SQL boolean expression.
    pub expr: String,
}

/// What a foreign key does when the referenced row is deleted or its key updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, std::default::Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Action {
    /// `NO ACTION` (the default).
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl Action {
    /// The SQL words.
    #[must_use]
    pub fn sql(&self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ForeignKey {
    /// Constraint name; none = `fk_<table>_<columns>`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub name: Option<String>,
    /// Columns of this table.
    pub columns: Vec<String>,
    /// Schema of the referenced table; none = the referencing table's schema.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub ref_schema: Option<String>,
    /// The referenced table.
    pub ref_table: String,
    /// The referenced columns: its primary key or a unique constraint.
    pub ref_columns: Vec<String>,
    /// `ON DELETE`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub on_delete: Action,
    /// `ON UPDATE`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub on_update: Action,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Index {
    /// The index's name (unique per schema).
    pub name: String,
    /// `UNIQUE`.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_false"))]
    pub unique: bool,
    /// What is indexed, in order.
    pub parts: Vec<IndexPart>,
    /// Partial index: a trusted SQL condition.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "where", default, skip_serializing_if = "Option::is_none")
    )]
    pub filter: Option<String>,
    /// PostgreSQL access method (`btree`, `hash`, `gin`, `gist`, `brin`, `spgist`); none = the
    /// default. An error on SQLite unless `dialects` excludes it.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub method: Option<String>,
    /// Only create the index on these dialects; none = all.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub dialects: Option<Vec<Dialect>>,
}

/// One indexed column or expression.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(from = "IndexPartRepr", into = "IndexPartRepr")
)]
pub struct IndexPart {
    /// A column, or a trusted SQL expression.
    pub target: IndexTarget,
    /// PostgreSQL operator class (e.g. `jsonb_path_ops`); an error on SQLite.
    pub opclass: Option<String>,
    /// `DESC`.
    pub descending: bool,
}

/// What an [`IndexPart`] indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexTarget {
    /// A column of the table.
    Column(String),
    /// A trusted SQL expression.
    Expr(String),
}

/// Serde form of an [`IndexPart`]: a column name, or `{column|expr, opclass, desc}`.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum IndexPartRepr {
    Column(String),
    Detailed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expr: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        opclass: Option<String>,
        #[serde(default, skip_serializing_if = "is_false")]
        desc: bool,
    },
}

#[cfg(feature = "serde")]
impl From<IndexPartRepr> for IndexPart {
    fn from(repr: IndexPartRepr) -> Self {
        match repr {
            IndexPartRepr::Column(name) => IndexPart::column(name),
            IndexPartRepr::Detailed {
                column,
                expr,
                opclass,
                desc,
            } => IndexPart {
                // Both or neither is reported by `validate` as an empty column name.
                target: match (column, expr) {
                    (Some(c), None) => IndexTarget::Column(c),
                    (None, Some(e)) => IndexTarget::Expr(e),
                    _ => IndexTarget::Column(String::new()),
                },
                opclass,
                descending: desc,
            },
        }
    }
}

#[cfg(feature = "serde")]
impl From<IndexPart> for IndexPartRepr {
    fn from(part: IndexPart) -> Self {
        match part {
            IndexPart {
                target: IndexTarget::Column(name),
                opclass: None,
                descending: false,
            } => IndexPartRepr::Column(name),
            IndexPart {
                target,
                opclass,
                descending,
            } => {
                let (column, expr) = match target {
                    IndexTarget::Column(c) => (Some(c), None),
                    IndexTarget::Expr(e) => (None, Some(e)),
                };
                IndexPartRepr::Detailed {
                    column,
                    expr,
                    opclass,
                    desc: descending,
                }
            }
        }
    }
}

fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}

impl Metadata {
    /// Empty metadata.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a table.
    #[must_use]
    pub fn table(mut self, table: Table) -> Self {
        self.tables.push(table);
        self
    }

    /// Adds an enum type.
    #[must_use]
    pub fn enum_type(mut self, enum_type: EnumType) -> Self {
        self.enums.push(enum_type);
        self
    }

    /// The table named `name` in `schema`.
    #[must_use]
    pub fn find_table(&self, schema: Option<&str>, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.name == name && t.schema.as_deref() == schema)
    }

    /// Parses JSON.
    ///
    /// # Errors
    /// Malformed JSON or unknown fields, with the position.
    #[cfg(feature = "serde")]
    pub fn from_json(text: &str) -> Result<Self, SchemaError> {
        serde_json::from_str(text).map_err(|e| SchemaError::Format {
            format: "json",
            reason: e.to_string(),
        })
    }

    /// Parses TOML (`[[tables]]` with `[[tables.columns]]`…). Feature `toml`.
    ///
    /// # Errors
    /// Malformed TOML or unknown fields, with the position.
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<Self, SchemaError> {
        toml::from_str(text).map_err(|e| SchemaError::Format {
            format: "toml",
            reason: e.to_string(),
        })
    }

    /// Reads a `.json` or `.toml` file (by extension; anything else is read as JSON; TOML needs
    /// the `toml` feature).
    ///
    /// # Errors
    /// The file cannot be read or parsed.
    #[cfg(feature = "serde")]
    pub fn from_file(path: &std::path::Path) -> Result<Self, SchemaError> {
        let text = std::fs::read_to_string(path).map_err(|e| SchemaError::Format {
            format: "file",
            reason: format!("{}: {e}", path.display()),
        })?;
        match path.extension().and_then(|e| e.to_str()) {
            #[cfg(feature = "toml")]
            Some("toml") => Self::from_toml(&text),
            #[cfg(not(feature = "toml"))]
            Some("toml") => Err(SchemaError::Format {
                format: "toml",
                reason: "this build has no TOML support (enable the `toml` feature)".into(),
            }),
            _ => Self::from_json(&text),
        }
    }

    /// Pretty JSON.
    #[cfg(feature = "serde")]
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl EnumType {
    /// An enum type in the default schema.
    pub fn new<I, S>(name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        EnumType {
            schema: None,
            name: name.into(),
            values: strings(values),
        }
    }

    /// In PostgreSQL schema `schema`.
    #[must_use]
    pub fn in_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
}

impl Table {
    /// A table with no columns yet.
    pub fn new(name: impl Into<String>) -> Self {
        Table {
            name: name.into(),
            ..Table::default()
        }
    }

    /// In PostgreSQL schema `schema`.
    #[must_use]
    pub fn in_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Adds a column.
    #[must_use]
    pub fn column(mut self, column: Column) -> Self {
        self.columns.push(column);
        self
    }

    /// Sets the primary key.
    #[must_use]
    pub fn primary_key<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.primary_key = strings(columns);
        self
    }

    /// Adds a unique constraint.
    #[must_use]
    pub fn unique<I, S>(mut self, name: Option<&str>, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.unique.push(UniqueConstraint {
            name: name.map(str::to_owned),
            columns: strings(columns),
        });
        self
    }

    /// Adds a check constraint.
    #[must_use]
    pub fn check(mut self, name: Option<&str>, expr: impl Into<String>) -> Self {
        self.checks.push(CheckConstraint {
            name: name.map(str::to_owned),
            expr: expr.into(),
        });
        self
    }

    /// Adds a foreign key.
    #[must_use]
    pub fn foreign_key(mut self, fk: ForeignKey) -> Self {
        self.foreign_keys.push(fk);
        self
    }

    /// Adds an index.
    #[must_use]
    pub fn index(mut self, index: Index) -> Self {
        self.indexes.push(index);
        self
    }

    /// The column named `name`.
    #[must_use]
    pub fn find_column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

impl Column {
    /// A nullable column without a default.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: true,
            default: None,
            identity: false,
        }
    }

    /// `NOT NULL`.
    #[must_use]
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// Sets the default.
    #[must_use]
    pub fn default(mut self, default: Default) -> Self {
        self.default = Some(default);
        self
    }

    /// Values generated by the database (see [`Column::identity`](Column#structfield.identity));
    /// such a column is always `NOT NULL`.
    #[must_use]
    pub fn identity(mut self) -> Self {
        self.identity = true;
        self
    }
}

impl ForeignKey {
    /// `columns` reference `ref_columns` of `ref_table` (same schema).
    pub fn new<I, S, J, T>(columns: I, ref_table: impl Into<String>, ref_columns: J) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
        J: IntoIterator<Item = T>,
        T: Into<String>,
    {
        ForeignKey {
            name: None,
            columns: strings(columns),
            ref_schema: None,
            ref_table: ref_table.into(),
            ref_columns: strings(ref_columns),
            on_delete: Action::NoAction,
            on_update: Action::NoAction,
        }
    }

    /// Names the constraint.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The referenced table is in `schema`.
    #[must_use]
    pub fn ref_schema(mut self, schema: impl Into<String>) -> Self {
        self.ref_schema = Some(schema.into());
        self
    }

    /// `ON DELETE`.
    #[must_use]
    pub fn on_delete(mut self, action: Action) -> Self {
        self.on_delete = action;
        self
    }

    /// `ON UPDATE`.
    #[must_use]
    pub fn on_update(mut self, action: Action) -> Self {
        self.on_update = action;
        self
    }
}

impl Index {
    /// An index on `columns`.
    pub fn new<I, S>(name: impl Into<String>, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Index {
            name: name.into(),
            unique: false,
            parts: columns.into_iter().map(IndexPart::column).collect(),
            filter: None,
            method: None,
            dialects: None,
        }
    }

    /// An index on the given parts (columns or expressions).
    pub fn on(name: impl Into<String>, parts: impl IntoIterator<Item = IndexPart>) -> Self {
        Index {
            parts: parts.into_iter().collect(),
            ..Index::new(name, Vec::<String>::new())
        }
    }

    /// `UNIQUE`.
    #[must_use]
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Partial index: only rows where `condition` holds.
    #[must_use]
    pub fn filter(mut self, condition: impl Into<String>) -> Self {
        self.filter = Some(condition.into());
        self
    }

    /// PostgreSQL access method, e.g. `gin`.
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Only on `dialects`.
    #[must_use]
    pub fn only_on(mut self, dialects: impl IntoIterator<Item = Dialect>) -> Self {
        self.dialects = Some(dialects.into_iter().collect());
        self
    }

    /// True when the index is created on `dialect`.
    #[must_use]
    pub fn applies_to(&self, dialect: Dialect) -> bool {
        self.dialects.as_ref().is_none_or(|d| d.contains(&dialect))
    }
}

impl IndexPart {
    /// A column, ascending.
    pub fn column(name: impl Into<String>) -> Self {
        IndexPart {
            target: IndexTarget::Column(name.into()),
            opclass: None,
            descending: false,
        }
    }

    /// A trusted SQL expression, ascending.
    pub fn expr(sql: impl Into<String>) -> Self {
        IndexPart {
            target: IndexTarget::Expr(sql.into()),
            opclass: None,
            descending: false,
        }
    }

    /// With a PostgreSQL operator class.
    #[must_use]
    pub fn opclass(mut self, opclass: impl Into<String>) -> Self {
        self.opclass = Some(opclass.into());
        self
    }

    /// `DESC`.
    #[must_use]
    pub fn desc(mut self) -> Self {
        self.descending = true;
        self
    }
}

#[cfg(all(test, feature = "toml"))]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_describe_the_same_metadata() {
        let toml = r#"
            [[enums]]
            name = "state"
            values = ["ready", "done"]

            [[tables]]
            name = "job"
            primary_key = ["id"]
            columns = [
              { name = "id", type = "bigint", identity = true },
              { name = "state", type = "enum:state", nullable = false, default = { value = "ready" } },
              { name = "at", type = "timestamptz", default = "current_timestamp" },
            ]
            indexes = [
              { name = "ix_job_state", parts = ["state", { expr = "lower(state)", desc = true }], where = "state <> 'done'" },
            ]
        "#;
        let from_toml = Metadata::from_toml(toml).unwrap();
        let expected = Metadata::new()
            .enum_type(EnumType::new("state", ["ready", "done"]))
            .table(
                Table::new("job")
                    .column(Column::new("id", ColumnType::BigInt).identity())
                    .column(
                        Column::new("state", ColumnType::Enum("state".into()))
                            .not_null()
                            .default(Default::Value(Literal::Text("ready".into()))),
                    )
                    .column(
                        Column::new("at", ColumnType::TimestampTz)
                            .default(Default::CurrentTimestamp),
                    )
                    .primary_key(["id"])
                    .index(
                        Index::on(
                            "ix_job_state",
                            [
                                IndexPart::column("state"),
                                IndexPart::expr("lower(state)").desc(),
                            ],
                        )
                        .filter("state <> 'done'"),
                    ),
            );
        assert_eq!(from_toml, expected);
        assert_eq!(Metadata::from_json(&expected.to_json()).unwrap(), expected);
        // Unknown fields are rejected with the position.
        let err = Metadata::from_json(r#"{"tables": [], "tabels": []}"#).unwrap_err();
        assert!(err.to_string().contains("tabels"), "{err}");
    }
}
