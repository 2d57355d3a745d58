//! Settings and connection URLs: ranges checked where settings are made, and URL parsing
//! properties.
//!
//! One test binary per capability; each module was one binary before.

#[path = "../common/mod.rs"]
mod common;

mod ranges;
mod urls;
