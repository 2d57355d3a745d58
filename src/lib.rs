#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod config;
pub mod error;
pub mod schema;
pub mod settings;
pub mod tracker;
pub mod url;

#[cfg(not(target_family = "wasm"))]
pub mod engine;
#[cfg(all(feature = "postgres", not(target_family = "wasm")))]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(all(
    not(target_family = "wasm"),
    any(feature = "sqlite", feature = "postgres")
))]
pub use config::{AnyConfig, AnyEngine};
pub use config::{DatabaseConfig, UniqueKey};
#[cfg(not(target_family = "wasm"))]
pub use engine::{PoolStatus, dispose_all, registered_engines};
pub use error::{Error, Result};
#[cfg(all(feature = "postgres", not(target_family = "wasm")))]
pub use postgres::{PostgresConfig, PostgresEngine, PostgresSession, PostgresTransaction};
pub use settings::Settings;
#[cfg(all(feature = "sqlite", not(target_family = "wasm")))]
pub use sqlite::{SqliteConfig, SqliteEngine, SqliteSession, SqliteTransaction};
pub use tracker::ConnectionTracker;
pub use url::{ConnectionUrl, Dialect};
