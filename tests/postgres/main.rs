//! PostgreSQL: cancellation, commit pipelining, the pool, server restarts, settings, a silent
//! network and TLS, against a real server (see `common::pg_url`).
//!
//! One test binary per capability; each module was one binary before.

#[path = "../common/mod.rs"]
mod common;

mod cancel;
mod commit_pipelining;
mod failover;
mod hooks;
mod listen;
mod pool;
mod restart;
mod settings;
mod silent_network;
mod tls;
