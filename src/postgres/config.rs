//! [`PostgresConfig`]: the PostgreSQL implementation of [`DatabaseConfig`].

use std::sync::Arc;

use super::connect::ConnectPlan;
use super::engine::PostgresEngine;
use super::hooks::{BoxError, BoxFuture, Credentials, Hooks};
use super::session::{PostgresSession, PostgresTransaction};
use crate::config::{DatabaseConfig, UniqueKey};
use crate::error::Result;
use crate::settings::Settings;
use crate::tracker::ConnectionTracker;
use crate::url::{ConnectionUrl, Dialect, PostgresUrl};

/// Configuration of a PostgreSQL database: a URL (or libpq key=value string) plus
/// [`Settings`] and an optional [`ConnectionTracker`].
///
/// ```no_run
/// # async fn demo() -> dbconfig::Result<()> {
/// use dbconfig::{DatabaseConfig, PostgresConfig};
/// let config = PostgresConfig::new("postgresql://app:secret@db.internal/app?sslmode=verify-full")?;
/// let engine = config.engine().await?;
/// let mut session = config.session(&engine).await?;
/// let tx = session.begin_transaction(false).await?; // READ COMMITTED
/// let row = tx.query_one("SELECT id FROM job WHERE state = 'ready' LIMIT 1 FOR UPDATE", &[]).await?;
/// let id: i64 = row.get(0);
/// tx.execute("UPDATE job SET state = 'running' WHERE id = $1", &[&id]).await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresConfig {
    /// Its `connection_url` is a PostgreSQL URL (checked by `from_settings`): the config's only
    /// copy of it.
    settings: Arc<Settings>,
    hooks: Hooks,
    tracker: Option<Arc<ConnectionTracker>>,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL's Display and the settings' Debug are redacted.
        f.debug_struct("PostgresConfig")
            .field("url", &self.url().redacted())
            .field("settings", &self.settings)
            .field("before_connect", &self.hooks.before_connect.is_some())
            .field("on_connect", &self.hooks.on_connect.is_some())
            .finish_non_exhaustive()
    }
}

impl PostgresConfig {
    /// A config for `url` with default settings.
    ///
    /// # Errors
    /// The URL does not parse, is not a PostgreSQL URL, or asks for something unsupported.
    pub fn new(url: &str) -> Result<Self> {
        let url: ConnectionUrl = url.parse()?;
        Self::from_settings(Settings::default().with_url(url))
    }

    /// A config from settings; `settings.connection_url` must be a PostgreSQL URL. The URL and
    /// settings are checked now (TLS files are read when the engine is built).
    ///
    /// # Errors
    /// No URL, a non-PostgreSQL URL, invalid settings, or an unsupported combination (for
    /// example `sslmode=disable` with `tls.enabled`).
    pub fn from_settings(settings: Settings) -> Result<Self> {
        settings.validate()?;
        if let ConnectionUrl::Postgres(url) = crate::config::url_of(&settings, Dialect::Postgres)? {
            ConnectPlan::new(url, &settings)?;
        }
        Ok(PostgresConfig {
            settings: Arc::new(settings),
            hooks: Hooks::default(),
            tracker: None,
        })
    }

    /// Calls `hook` before each new connection opens, for the credentials to open it with
    /// (say, a short-lived cloud IAM token): the [`Credentials`] it returns replace the URL's
    /// user and/or password, and the configured TLS client certificate
    /// ([`Credentials::with_client_certificate`]). With `pool_recycle` shorter than a token's life, connections are
    /// reopened, and so pick up a rotated secret, without a restart; connections already open
    /// keep working (PostgreSQL checks passwords only at login).
    ///
    /// Bounded by `connection_timeout` together with the rest of the connect; an error is
    /// [`Error::Hook`](crate::Error::Hook) for that connection. Configs with different hooks get
    /// different engines.
    ///
    /// ```no_run
    /// # async fn fetch_token() -> Result<String, std::io::Error> { Ok(String::new()) }
    /// # fn demo() -> dbconfig::Result<()> {
    /// use dbconfig::postgres::Credentials;
    /// let config = dbconfig::PostgresConfig::new("postgresql://app@db.internal/app")?
    ///     .before_connect(|| async { Ok(Credentials::password(fetch_token().await?)) });
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn before_connect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = std::result::Result<Credentials, BoxError>>
            + Send
            + 'static,
    {
        self.hooks.before_connect = Some(Arc::new(move || Box::pin(hook())));
        self
    }

    /// Runs `hook` on each new connection before the pool hands it out (the SQLite
    /// `on_connect`'s counterpart): `SET` a session parameter, prepare statements, `LISTEN`…
    /// Bounded by `connection_timeout` with the rest of the connect; an error is
    /// [`Error::Hook`](crate::Error::Hook) and the connection is closed. Configs with different
    /// hooks get different engines.
    ///
    /// ```no_run
    /// # fn demo() -> dbconfig::Result<()> {
    /// let config = dbconfig::PostgresConfig::new("postgresql://app@db.internal/app")?
    ///     .on_connect(|client| Box::pin(async move {
    ///         client.batch_execute("SET lock_timeout = '2s'").await?;
    ///         Ok(())
    ///     }));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn on_connect<F>(mut self, hook: F) -> Self
    where
        F: for<'c> Fn(
                &'c tokio_postgres::Client,
            ) -> BoxFuture<'c, std::result::Result<(), BoxError>>
            + Send
            + Sync
            + 'static,
    {
        self.hooks.on_connect = Some(Arc::new(hook));
        self
    }

    crate::config::config_methods!(Postgres, PostgresUrl);

    /// Builds a new engine that is not cached in the registry; dispose it yourself (or drop
    /// every clone). No connection is opened yet.
    ///
    /// # Errors
    /// A TLS file could not be read, or no runtime is running.
    pub fn build_engine(&self) -> Result<PostgresEngine> {
        let plan = ConnectPlan::new(self.url(), &self.settings)?;
        PostgresEngine::build(
            Arc::clone(&self.settings),
            plan,
            self.hooks.clone(),
            ConnectionTracker::for_new_engine(self.tracker.as_ref()),
            self.url().redacted(),
        )
    }
}

impl DatabaseConfig for PostgresConfig {
    type Engine = PostgresEngine;
    type Session = PostgresSession;
    type Transaction<'s> = PostgresTransaction<'s>;

    async fn engine(&self) -> Result<PostgresEngine> {
        crate::engine::get_or_create(&self.unique_key(), || self.build_engine())
    }

    crate::config::delegate_to_engine!(
        dialect = Postgres,
        PostgresEngine,
        PostgresSession,
        PostgresTransaction
    );

    fn is_inmemory(&self) -> bool {
        false
    }

    fn unique_key(&self) -> UniqueKey {
        let (on_connect, before_connect) = self.hooks.identities();
        UniqueKey::new(
            Dialect::Postgres,
            &self.settings,
            on_connect,
            self.tracker.as_ref().map(|t| Arc::as_ptr(t) as usize),
        )
        .with_credentials_hook(before_connect)
    }
}
