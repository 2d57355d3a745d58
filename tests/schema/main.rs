//! The schema model and the DDL emitter: `create_db`, `drop_db` and `verify_db` on SQLite and PostgreSQL, and property tests of the emitted DDL.
//!
//! One test binary per capability; each module was one binary before.

#[path = "../common/mod.rs"]
mod common;

mod postgres;
mod props;
mod sqlite;
