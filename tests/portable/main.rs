//! The portable API (write once, run on SQLite and PostgreSQL): the value round trips, the
//! statement cases shared with the browser, and the job-queue example.
//!
//! One test binary per capability; each module was one binary before.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod cases;
mod jobs;
