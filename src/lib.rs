//! One small, well-behaved way for a Rust application to configure and use its database:
//! **embedded SQLite by default**, PostgreSQL when it outgrows one machine, and the same SQLite
//! path compiled to WebAssembly for the browser (the `wasm/` crate of the repository). It
//! re-creates the database-configuration layer of Prefect's server
//! (`prefect.server.database.configurations`: the same settings, defaults and trait) and fixes
//! its known weak spots.
//!
//! # Write the queries once
//!
//! Code written against [`DatabaseConfig`] with `$1, $2, …` placeholders runs on
//! [`SqliteConfig`], [`PostgresConfig`] and [`AnyConfig`] (the backend chosen by URL):
//!
//! ```
//! use dbconfig::prelude::*;
//!
//! async fn count_jobs<C: DatabaseConfig>(db: &C, state: &str) -> dbconfig::Result<i64> {
//!     let engine = db.engine().await?; // one per tokio runtime and configuration
//!     let mut session = db.session(&engine).await?;
//!     let row = session
//!         .query_one("SELECT count(*) AS n FROM jobs WHERE state = $1", &[&state])
//!         .await?;
//!     row.get("n")
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> dbconfig::Result<()> {
//! let db = AnyConfig::from_url("sqlite://")?; // or "sqlite:///app.db", "postgresql://…"
//! let engine = db.engine().await?;
//! let mut session = db.session(&engine).await?;
//! session.execute_batch("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT)").await?;
//! let mut tx = db.begin_transaction(&mut session, true).await?; // SQLite: BEGIN IMMEDIATE
//! tx.execute("INSERT INTO jobs (state) VALUES ($1), ($1)", &[&"ready"]).await?;
//! tx.commit().await?;
//! drop(session);
//! assert_eq!(count_jobs(&db, "ready").await?, 2);
//! # Ok(()) }
//! ```
//!
//! # Configure it
//!
//! [`Settings`] holds every knob (pool sizes and timeouts, SQLite PRAGMAs, PostgreSQL statement
//! timeout, TLS, application name…), from code or from `DBCONFIG_*` environment variables:
//!
//! ```
//! # fn main() -> dbconfig::Result<()> {
//! use std::time::Duration;
//! use dbconfig::{Settings, SqliteConfig};
//!
//! let mut settings = Settings::new()
//!     .with_url("sqlite:///app.db".parse()?)
//!     .with_pool_size(4);
//! settings.sqlite.busy_timeout = Duration::from_secs(5);
//! let db = SqliteConfig::from_settings(settings)?;
//! assert!(!dbconfig::DatabaseConfig::is_inmemory(&db));
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `sqlite` | yes | [`sqlite`]: rusqlite (bundled SQLite), PRAGMAs per connection, `BEGIN IMMEDIATE`, the writer lane |
//! | `postgres` | yes | [`postgres`]: tokio-postgres and deadpool-postgres, rustls TLS with verification |
//! | `serde` | no | `Serialize`/`Deserialize` for [`Settings`] (password redacted) and the schema model; [`Row::deserialize`] |
//! | `toml` | no | schema files in TOML |
//! | `cli` | no | the `dbconfig` binary (`check`, `ddl`, `create`, `verify`, `drop`) |
//!
//! # Modules
//!
//! - [`config`] and [`query`]: the traits ([`DatabaseConfig`], [`Executor`], [`Transaction`]).
//! - [`sqlite`], [`postgres`], [`any`]: the backends and the URL-chosen one.
//! - [`value`]: [`Value`], [`Row`] and the conversions, stored the same way on both backends.
//! - [`settings`], [`url`]: configuration and connection URLs (parsed strictly, shown redacted).
//! - [`schema`]: schema metadata, DDL for both dialects, `create_db` / `drop_db` / `verify_db`.
//! - [`migrate`]: versioned migrations, each step once, on any [`DatabaseConfig`].
//! - [`tracker`], [`engine`]: which connections are open and where they came from; the engine
//!   registry and pool status.
//! - [`error`]: one [`Error`] type; messages never contain a password.
//!
//! The repository's README has the configuration reference, the benchmark results and links to
//! the design notes; `docs/ARCHITECTURE.md` maps the code.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(all(feature = "sqlcipher", target_family = "wasm"))]
compile_error!("the `sqlcipher` feature is native only: SQLCipher needs OpenSSL's libcrypto");

#[cfg(all(
    not(target_family = "wasm"),
    any(feature = "sqlite", feature = "postgres")
))]
pub mod any;
pub mod config;
pub mod error;
mod keyword;
pub mod migrate;
pub mod query;
pub mod schema;
pub mod settings;
pub mod tracker;
pub mod url;
pub mod value;

#[cfg(not(target_family = "wasm"))]
pub mod engine;
#[cfg(all(feature = "postgres", not(target_family = "wasm")))]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(not(target_family = "wasm"))]
pub mod telemetry;

#[cfg(all(
    not(target_family = "wasm"),
    any(feature = "sqlite", feature = "postgres")
))]
pub use any::{AnyConfig, AnyEngine, AnySession, AnyTransaction};
pub use config::{DatabaseConfig, LockMode, UniqueKey};
#[cfg(not(target_family = "wasm"))]
pub use engine::{PoolStatus, dispose_all, registered_engines};
pub use error::{Error, Result, WaitingFor};
#[cfg(all(feature = "postgres", not(target_family = "wasm")))]
pub use postgres::{PostgresConfig, PostgresEngine, PostgresSession, PostgresTransaction};
pub use query::{Executor, Transaction};
pub use settings::{PostgresSettings, Settings, SqliteSettings};
#[cfg(all(feature = "sqlite", not(target_family = "wasm")))]
pub use sqlite::{SqliteConfig, SqliteEngine, SqliteSession, SqliteTransaction};
pub use tracker::ConnectionTracker;
pub use url::{ConnectionUrl, Dialect, SqliteKey};
pub use value::{FromValue, Json, Row, ToValue, Value};

/// The SQLite driver dbconfig is built on (`tx.run(|c: &rusqlite::Connection| …)`), so that
/// applications use the same version without pinning it.
#[cfg(feature = "sqlite")]
pub use rusqlite;
/// The PostgreSQL driver dbconfig is built on (a transaction derefs to its client), so that
/// applications use the same version without pinning it.
#[cfg(all(feature = "postgres", not(target_family = "wasm")))]
pub use tokio_postgres;

/// What an application that runs portable SQL needs in scope: `use dbconfig::prelude::*;`.
pub mod prelude {
    #[cfg(all(
        not(target_family = "wasm"),
        any(feature = "sqlite", feature = "postgres")
    ))]
    pub use crate::any::{AnyConfig, AnySession, AnyTransaction};
    pub use crate::config::{DatabaseConfig, LockMode};
    pub use crate::query::{Executor, Transaction};
    pub use crate::value::{Date, FromValue, Json, OffsetDateTime, Row, ToValue, Uuid, Value};
}

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
