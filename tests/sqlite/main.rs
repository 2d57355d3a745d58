//! SQLite: pools, cancellation, concurrency, `FOR UPDATE`, in-memory databases and several
//! processes on one file, against real SQLite files.
//!
//! One test binary per capability; each module was one binary before.

#[path = "../common/mod.rs"]
mod common;

mod cancel;
mod concurrency;
mod for_update;
mod maintenance;
mod memory;
mod pool;
mod processes;
