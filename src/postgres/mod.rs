//! PostgreSQL: [`PostgresConfig`] over tokio-postgres and a deadpool-postgres pool.
//!
//! - `connect.rs`: the URL and [`Settings`](crate::Settings) become one `tokio_postgres::Config`
//!   (startup `options` for `statement_timeout`, `search_path`, `default_transaction_isolation`;
//!   or `set_config(…)` after connecting in PgBouncer mode).
//! - `tls.rs`: rustls with verification always on.
//! - `pool.rs`: the deadpool manager (connect, verified recycling, maximum age, tracker).
//! - `hooks.rs`: the per-connection hooks, `before_connect` (credentials) and `on_connect`.
//! - [`listen`]: `LISTEN`/`NOTIFY` on a connection of its own that reconnects.
//! - `engine.rs`, `session.rs`, `config.rs`: the engine, sessions and transactions, the trait.

mod config;
mod connect;
mod engine;
mod hooks;
pub mod listen;
mod pool;
mod portable;
mod schema_ops;
mod session;
mod tls;
mod value;

pub use config::PostgresConfig;
pub use engine::PostgresEngine;
pub use hooks::{BeforeConnect, BoxError, BoxFuture, ClientCertificate, Credentials, PgOnConnect};
pub use listen::{ListenEvent, Listener};
pub use session::{PostgresSession, PostgresTransaction};

use crate::error::Error;

/// SQLSTATE 57014, `query_canceled`: also what a client-side cancel gives, so the message is
/// checked too.
fn is_statement_timeout(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
        && e.as_db_error()
            .is_some_and(|db| db.message().contains("statement timeout"))
}

/// Maps a driver error to [`Error`]: statement timeouts and TLS failures get their own variants.
pub(crate) fn classify(e: tokio_postgres::Error) -> Error {
    if let Some(encode) =
        std::error::Error::source(&e).and_then(|s| s.downcast_ref::<value::EncodeError>())
    {
        return Error::Encode {
            parameter: encode.parameter,
            reason: encode.reason.clone(),
        };
    }
    if is_statement_timeout(&e) {
        return Error::StatementTimeout(e);
    }
    if let Some(reason) = tls::handshake_failure(&e) {
        return Error::Tls {
            reason,
            source: Box::new(e),
        };
    }
    Error::Postgres(e)
}

impl From<tokio_postgres::Error> for Error {
    /// Classifies the driver's error: a statement cancelled by `statement_timeout` becomes
    /// [`Error::StatementTimeout`], a failed TLS handshake [`Error::Tls`].
    fn from(e: tokio_postgres::Error) -> Self {
        classify(e)
    }
}
