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
//! constraints, partial-index `WHERE`, expression indexes, `ColumnDefault::Expr`) are trusted text,
//! written by the schema's author, and emitted as given.

pub mod ddl;
#[cfg(feature = "serde")]
mod default_serde;
mod error;
mod keys;
mod model;
pub mod reflect;
mod types;
mod validate;
mod validate_dialect;

pub use error::SchemaError;
pub use keys::{
    Action, CheckConstraint, ForeignKey, Index, IndexPart, IndexTarget, UniqueConstraint,
};
pub use model::{Column, ColumnDefault, EnumType, Literal, Metadata, Table};
pub use reflect::{Difference, DifferenceKind, ObjectKind};
pub use types::ColumnType;

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
                            .default(ColumnDefault::Value(Literal::Text("ready".into()))),
                    )
                    .column(
                        Column::new("at", ColumnType::TimestampTz)
                            .default(ColumnDefault::CurrentTimestamp),
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
