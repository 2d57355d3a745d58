//! Keys, constraints and indexes of a [`Table`](super::Table).

use crate::url::Dialect;

/// A `UNIQUE` constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// PostgreSQL: add the constraint with `ALTER TABLE … ADD CONSTRAINT` once every table
    /// exists, even when it closes no cycle (those that do are added so anyway). SQLite keeps
    /// every foreign key inline (it cannot add one to an existing table). Defaults to `false`.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "is_false"))]
    pub deferred: bool,
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[non_exhaustive]
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
    /// default. Ignored on SQLite (it has one kind of index), which builds a plain index on the
    /// same parts: scope the index with `dialects` when such an index is of no use there.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub method: Option<String>,
    /// PostgreSQL covering index: columns stored in the index but not part of its key
    /// (`INCLUDE (…)`, PostgreSQL 11+). Ignored on SQLite, which has no such clause.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub include: Vec<String>,
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
#[non_exhaustive]
pub struct IndexPart {
    /// A column, or a trusted SQL expression.
    pub target: IndexTarget,
    /// PostgreSQL operator class (e.g. `jsonb_path_ops`); ignored on SQLite.
    pub opclass: Option<String>,
    /// `DESC`.
    pub descending: bool,
}

/// What an [`IndexPart`] indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
            deferred: false,
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

    /// Added after every table exists (see [`deferred`](Self::deferred)).
    #[must_use]
    pub fn deferred(mut self) -> Self {
        self.deferred = true;
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
            include: Vec::new(),
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

    /// Covering index: `columns` stored in the index, not part of its key (PostgreSQL
    /// `INCLUDE`; ignored on SQLite).
    #[must_use]
    pub fn include<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.include = strings(columns);
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

#[cfg(feature = "serde")]
pub(super) fn is_false(v: &bool) -> bool {
    !v
}

pub(super) fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}
