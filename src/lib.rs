#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(all(
    not(target_family = "wasm"),
    any(feature = "sqlite", feature = "postgres")
))]
pub mod any;
pub mod config;
pub mod error;
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

#[cfg(all(
    not(target_family = "wasm"),
    any(feature = "sqlite", feature = "postgres")
))]
pub use any::{AnyConfig, AnyEngine, AnySession, AnyTransaction};
pub use config::{DatabaseConfig, UniqueKey};
#[cfg(not(target_family = "wasm"))]
pub use engine::{PoolStatus, dispose_all, registered_engines};
pub use error::{Error, Result, WaitingFor};
#[cfg(all(feature = "postgres", not(target_family = "wasm")))]
pub use postgres::{PostgresConfig, PostgresEngine, PostgresSession, PostgresTransaction};
pub use query::{Executor, Transaction};
pub use settings::Settings;
#[cfg(all(feature = "sqlite", not(target_family = "wasm")))]
pub use sqlite::{SqliteConfig, SqliteEngine, SqliteSession, SqliteTransaction};
pub use tracker::ConnectionTracker;
pub use url::{ConnectionUrl, Dialect};
pub use value::{FromValue, Json, Row, ToValue, Value};

/// What an application that runs portable SQL needs in scope: `use dbconfig::prelude::*;`.
pub mod prelude {
    #[cfg(all(
        not(target_family = "wasm"),
        any(feature = "sqlite", feature = "postgres")
    ))]
    pub use crate::any::{AnyConfig, AnySession, AnyTransaction};
    pub use crate::config::DatabaseConfig;
    pub use crate::query::{Executor, Transaction};
    pub use crate::value::{Date, FromValue, Json, OffsetDateTime, Row, ToValue, Uuid, Value};
}
