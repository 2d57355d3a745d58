//! The SQLite backend.
//!
//! The pure parts ([`begin`], [`pragma`], [`target`], [`connect`]) build for every target,
//! WebAssembly included; the pool, the writer lane and the sessions are native only.

pub mod begin;
pub mod bind;
pub mod cipher;
pub mod connect;
pub mod pragma;
pub mod target;

#[cfg(not(target_family = "wasm"))]
mod config;
#[cfg(not(target_family = "wasm"))]
mod engine;
#[cfg(not(target_family = "wasm"))]
pub(crate) mod lane;
#[cfg(not(target_family = "wasm"))]
pub mod maintenance;
#[cfg(not(target_family = "wasm"))]
mod op;
#[cfg(not(target_family = "wasm"))]
mod pool;
#[cfg(not(target_family = "wasm"))]
mod portable;
#[cfg(not(target_family = "wasm"))]
mod publish;
#[cfg(not(target_family = "wasm"))]
mod schema_ops;
#[cfg(not(target_family = "wasm"))]
mod session;

#[cfg(not(target_family = "wasm"))]
pub use crate::engine::PoolStatus;
pub use begin::BeginMode;
pub use cipher::KeyProvider;
#[cfg(not(target_family = "wasm"))]
pub use config::SqliteConfig;
pub use connect::{MIN_SQLITE_VERSION, OnConnect, check_sqlite_version};
#[cfg(not(target_family = "wasm"))]
pub use engine::SqliteEngine;
#[cfg(not(target_family = "wasm"))]
pub use maintenance::{BackupProgress, Checkpoint, CheckpointMode};
#[cfg(not(target_family = "wasm"))]
pub use pool::SqliteConnection;
#[cfg(not(target_family = "wasm"))]
pub use session::{SqliteSession, SqliteTransaction};
