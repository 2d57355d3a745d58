//! [`SchemaError`]: metadata that cannot be emitted, found before any SQL runs.

use crate::url::Dialect;

/// Invalid metadata, or a feature a dialect does not have. Every variant names the table (as
/// `schema.table` when it has a schema) and the column, index or constraint at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// A name is empty or contains a NUL byte.
    #[error("{what} name {name:?} is empty or contains a NUL byte")]
    BadName {
        /// What kind of object (`table`, `column in flow`…).
        what: String,
        /// The name, NUL bytes shown as `\0`.
        name: String,
    },
    /// A name is longer than PostgreSQL keeps (63 bytes); it would be silently truncated.
    #[error("{what} name {name:?} is longer than postgresql's 63-byte limit")]
    NameTooLong {
        /// What kind of object.
        what: String,
        /// The name.
        name: String,
    },
    /// Two objects with one name.
    #[error("duplicate {what} {name:?}")]
    Duplicate {
        /// What kind of object (`table`, `column in flow`, `index`, `enum label of state`…).
        what: String,
        /// The name.
        name: String,
    },
    /// A table without columns.
    #[error("table {table} has no columns")]
    NoColumns {
        /// The table.
        table: String,
    },
    /// A key, index or constraint names a column the table does not have.
    #[error("{context} of table {table} names column {column:?}, which the table does not have")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The missing column.
        column: String,
        /// Where it was named (`primary key`, `index ix_x`, `foreign key fk_x`…).
        context: String,
    },
    /// A foreign key references a table the metadata does not have.
    #[error(
        "foreign key {constraint} of table {table} references table {referenced}, which does not exist"
    )]
    UnknownTable {
        /// The referencing table.
        table: String,
        /// The constraint.
        constraint: String,
        /// The missing table.
        referenced: String,
    },
    /// A foreign key is malformed (column counts differ, or the referenced columns are neither
    /// the primary key nor a unique constraint of the referenced table).
    #[error("foreign key {constraint} of table {table}: {reason}")]
    BadForeignKey {
        /// The table.
        table: String,
        /// The constraint.
        constraint: String,
        /// Why.
        reason: String,
    },
    /// A column of type `enum:<name>` names no enum type of the metadata.
    #[error("column {column:?} of table {table} has type enum:{name}, which is not defined")]
    UnknownEnum {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The enum name.
        name: String,
    },
    /// A value of the metadata is invalid (an empty enum, an identity column that is not an
    /// integer, an index without parts, a non-finite float default…).
    #[error("{object}: {reason}")]
    Invalid {
        /// The table, column, index or type.
        object: String,
        /// Why.
        reason: String,
    },
    /// The dialect cannot do what the metadata asks.
    #[error("{dialect} does not support {feature} ({object})")]
    Unsupported {
        /// The dialect.
        dialect: Dialect,
        /// The feature (`index method gin`, `schemas`…).
        feature: String,
        /// Where it was asked for.
        object: String,
    },
    /// A column type string did not parse.
    #[error("invalid column type {value:?}: expected {expected}")]
    InvalidType {
        /// The string.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// A schema file did not parse.
    #[error("invalid {format} schema: {reason}")]
    Format {
        /// `json`, `toml` or `file`.
        format: &'static str,
        /// The parser's message, with the position.
        reason: String,
    },
}
