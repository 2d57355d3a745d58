//! The schema model and the DDL emitter: `create_db`, `drop_db` and `verify_db` on SQLite and
//! PostgreSQL, property tests of the emitted DDL, and versioned migrations.
//!
//! One test binary per capability; each module was one binary before.

#[path = "../common/mod.rs"]
mod common;

mod migrate;
mod plan;
mod plan_props;
mod postgres;
mod props;
mod sqlite;
