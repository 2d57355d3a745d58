//! Per-connection hooks: [`BeforeConnect`] (credentials for each new connection, e.g. a
//! short-lived cloud IAM token) and [`PgOnConnect`] (statements run on each new connection).
//!
//! Both run inside the connect, so both are bounded by `connection_timeout`, and a failure is
//! [`Error::Hook`](crate::Error::Hook): the connection is closed and never pooled.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed error, what hooks return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A boxed, `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What [`before_connect`](super::PostgresConfig::before_connect) returns for one new
/// connection: a user and/or a password that replace the URL's. `Debug` never shows the
/// password.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// The user name; `None` keeps the URL's.
    pub user: Option<String>,
    /// The password (or token); `None` keeps the URL's.
    pub password: Option<String>,
}

impl Credentials {
    /// Credentials that set only the password (or token).
    #[must_use]
    pub fn password(password: impl Into<String>) -> Self {
        Credentials {
            user: None,
            password: Some(password.into()),
        }
    }

    /// The same credentials with `user` as the user name.
    #[must_use]
    pub fn with_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Credentials { user, password } = self;
        f.debug_struct("Credentials")
            .field("user", user)
            .field("password", &password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The credentials hook: called before each new connection opens.
pub type BeforeConnect =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Credentials, BoxError>> + Send + Sync>;

/// The PostgreSQL `on_connect` hook: runs on each new connection before the pool hands it out.
pub type PgOnConnect = Arc<
    dyn for<'c> Fn(&'c tokio_postgres::Client) -> BoxFuture<'c, Result<(), BoxError>> + Send + Sync,
>;

/// The hooks an engine's connections run, and where they come from.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) before_connect: Option<BeforeConnect>,
    pub(crate) on_connect: Option<PgOnConnect>,
}

// The hooks are only ever called, never changed, so a panic inside one cannot leave them
// half-updated: a config holding them stays as unwind-safe as it was before hooks existed.
impl std::panic::UnwindSafe for Hooks {}
impl std::panic::RefUnwindSafe for Hooks {}

impl Hooks {
    /// Identities (addresses) of the hooks, for the engine registry's key.
    pub(crate) fn identities(&self) -> (Option<usize>, Option<usize>) {
        (
            self.on_connect
                .as_ref()
                .map(|h| Arc::as_ptr(h).cast::<()>() as usize),
            self.before_connect
                .as_ref()
                .map(|h| Arc::as_ptr(h).cast::<()>() as usize),
        )
    }
}

#[cfg(test)]
mod tests {
    /// Hooks do not take `UnwindSafe` away from the configs that hold them (a semver-visible
    /// auto trait).
    #[test]
    fn configs_stay_unwind_safe() {
        fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
        unwind_safe::<crate::PostgresConfig>();
        let hooks = super::Hooks::default();
        assert!(hooks.before_connect.is_none() && hooks.on_connect.is_none());
    }
}
