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
/// connection: a user, a password and/or a TLS client certificate that replace the configured
/// ones. `Debug` never shows the password or the private key.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// The user name; `None` keeps the URL's.
    pub user: Option<String>,
    /// The password (or token); `None` keeps the URL's.
    pub password: Option<String>,
    /// A TLS client certificate (e.g. a short-lived one from a certificate authority service);
    /// `None` keeps the configured one (`sslcert`/`sslkey`, `tls.cert_file`/`tls.key_file`).
    /// TLS must be on (`sslmode`, `tls.enabled`).
    pub client_certificate: Option<ClientCertificate>,
}

/// A TLS client certificate chain and its private key, in PEM, from
/// [`Credentials::with_client_certificate`]. Parsed when a connection uses it: a bad PEM is
/// [`Error::Hook`](crate::Error::Hook) for that connection. The key's bytes are overwritten
/// with zeros when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    pub(crate) chain_pem: Vec<u8>,
    pub(crate) key_pem: Vec<u8>,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("chain_pem", &format_args!("{} bytes", self.chain_pem.len()))
            .field("key_pem", &format_args!("***"))
            .finish()
    }
}

impl Drop for ClientCertificate {
    fn drop(&mut self) {
        self.key_pem.fill(0);
        // Keeps the zeroing from being optimised away as a dead store.
        std::hint::black_box(&self.key_pem);
    }
}

impl Credentials {
    /// Credentials that set only the password (or token).
    #[must_use]
    pub fn password(password: impl Into<String>) -> Self {
        Credentials {
            password: Some(password.into()),
            ..Credentials::default()
        }
    }

    /// The same credentials with `user` as the user name.
    #[must_use]
    pub fn with_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The same credentials with a TLS client certificate: `chain_pem` holds the certificate
    /// (then any intermediates), `key_pem` its private key (PKCS#8, PKCS#1 or SEC1).
    #[must_use]
    pub fn with_client_certificate(
        mut self,
        chain_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.client_certificate = Some(ClientCertificate {
            chain_pem: chain_pem.into(),
            key_pem: key_pem.into(),
        });
        self
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Credentials {
            user,
            password,
            client_certificate,
        } = self;
        f.debug_struct("Credentials")
            .field("user", user)
            .field("password", &password.as_ref().map(|_| "***"))
            .field("client_certificate", client_certificate)
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
