//! [`SqliteConfig`]: the SQLite implementation of [`DatabaseConfig`].

use std::sync::Arc;

use rusqlite::Connection;

use super::cipher::{KeyProvider, KeySource};
use super::connect::OnConnect;
use super::engine::SqliteEngine;
use super::session::{SqliteSession, SqliteTransaction};
use super::target::OpenTarget;
use crate::config::{DatabaseConfig, UniqueKey};
use crate::error::Result;
use crate::settings::Settings;
use crate::tracker::ConnectionTracker;
#[cfg(feature = "sqlcipher")]
use crate::url::SqliteKey;
use crate::url::{ConnectionUrl, Dialect, SqliteUrl};

/// Configuration of a SQLite database: a URL plus [`Settings`], an optional `on_connect` hook
/// and an optional [`ConnectionTracker`].
///
/// ```no_run
/// # async fn demo() -> dbconfig::Result<()> {
/// use dbconfig::{DatabaseConfig, SqliteConfig};
/// let config = SqliteConfig::new("sqlite:///app.db")?;
/// let engine = config.engine().await?;
/// let mut session = config.session(&engine).await?;
/// let mut tx = session.begin_transaction(true).await?; // BEGIN IMMEDIATE
/// tx.run(|c| c.execute("CREATE TABLE IF NOT EXISTS t (x)", []))?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteConfig {
    /// Its `connection_url` is a SQLite URL (checked by `from_settings`): the config's only
    /// copy of it.
    settings: Arc<Settings>,
    on_connect: Option<OnConnect>,
    key_provider: Option<KeyProvider>,
    tracker: Option<Arc<ConnectionTracker>>,
}

impl std::fmt::Debug for SqliteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConfig")
            .field("url", &self.url().redacted())
            .field("settings", &self.settings)
            .field("on_connect", &self.on_connect.is_some())
            .field("key_provider", &self.key_provider.is_some())
            .finish_non_exhaustive()
    }
}

impl SqliteConfig {
    /// A config for `url` with default settings.
    ///
    /// # Errors
    /// The URL does not parse or is not a SQLite URL.
    pub fn new(url: &str) -> Result<Self> {
        let url: ConnectionUrl = url.parse()?;
        Self::from_settings(Settings::default().with_url(url))
    }

    /// A config from settings; `settings.connection_url` must be a SQLite URL. Its `timeout`
    /// and `cached_statements` parameters, when given, replace `busy_timeout`/`timeout` and
    /// `statement_cache_size` in [`settings()`](Self::settings) (see
    /// [`apply_driver_params`](super::target::apply_driver_params)).
    ///
    /// # Errors
    /// No URL, a non-SQLite URL, or invalid settings.
    pub fn from_settings(mut settings: Settings) -> Result<Self> {
        settings.validate()?;
        let url = crate::config::url_of(&settings, Dialect::Sqlite)?.clone();
        if let ConnectionUrl::Sqlite(url) = &url {
            super::target::apply_driver_params(url, &mut settings);
        }
        Ok(SqliteConfig {
            settings: Arc::new(settings),
            on_connect: None,
            key_provider: None,
            tracker: None,
        })
    }

    /// Adds a hook run on every new connection after dbconfig's PRAGMAs (the original's
    /// `connect` event listener). Configs with different hooks get different engines.
    #[must_use]
    pub fn on_connect<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Connection) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>
            + Send
            + Sync
            + 'static,
    {
        self.on_connect = Some(Arc::new(hook));
        self
    }

    /// Gets the SQLCipher key from `provider` for every new connection (say, from the OS
    /// keychain), so that it never sits in the settings or the environment; in place of
    /// `sqlite.key` and a key in the url (giving both is an error when the engine is built).
    /// Runs off the async workers. Configs with different providers get different engines.
    /// Needs the `sqlcipher` feature.
    #[cfg(feature = "sqlcipher")]
    #[must_use]
    pub fn key_provider<F>(mut self, provider: F) -> Self
    where
        F: Fn() -> std::result::Result<SqliteKey, Box<dyn std::error::Error + Send + Sync>>
            + Send
            + Sync
            + 'static,
    {
        self.key_provider = Some(Arc::new(provider));
        self
    }

    crate::config::config_methods!(Sqlite, SqliteUrl);

    /// Where the engine's connections get their key.
    fn key_source(&self) -> Result<Option<KeySource>> {
        let fixed = self.settings.sqlite_key().cloned();
        match (&self.key_provider, fixed) {
            (Some(_), Some(_)) => Err(crate::settings::SettingsError::Conflict {
                key: "sqlite.key".into(),
                reason: "a key provider and a key (sqlite.key or the url's) are both given; \
                         give one",
            }
            .into()),
            (Some(provider), None) => Ok(Some(KeySource::Provider(Arc::clone(provider)))),
            (None, fixed) => Ok(fixed.map(KeySource::Fixed)),
        }
    }

    /// Builds a new engine that is not cached in the registry; dispose it yourself (or drop
    /// every clone).
    ///
    /// # Errors
    /// The SQLite library is too old, or an in-memory database's keeper connection failed.
    pub fn build_engine(&self) -> Result<SqliteEngine> {
        let tracker = ConnectionTracker::for_new_engine(self.tracker.as_ref());
        SqliteEngine::build(
            Arc::clone(&self.settings),
            OpenTarget::for_url(self.url()),
            self.on_connect.clone(),
            self.key_source()?,
            tracker,
            self.url().redacted(),
        )
    }
}

impl DatabaseConfig for SqliteConfig {
    type Engine = SqliteEngine;
    type Session = SqliteSession;
    type Transaction<'s> = SqliteTransaction<'s>;

    async fn engine(&self) -> Result<SqliteEngine> {
        // Checked on every call, before the cache, as the original does.
        super::connect::check_sqlite_version(rusqlite::version_number())?;
        crate::engine::get_or_create(&self.unique_key(), || self.build_engine())
    }

    crate::config::delegate_to_engine!(
        dialect = Sqlite,
        SqliteEngine,
        SqliteSession,
        SqliteTransaction
    );

    fn is_inmemory(&self) -> bool {
        self.url().is_inmemory()
    }

    fn unique_key(&self) -> UniqueKey {
        UniqueKey::new(
            Dialect::Sqlite,
            &self.settings,
            self.on_connect
                .as_ref()
                .map(|h| Arc::as_ptr(h).cast::<()>() as usize),
            self.tracker.as_ref().map(|t| Arc::as_ptr(t) as usize),
        )
        .with_credentials_hook(
            self.key_provider
                .as_ref()
                .map(|p| Arc::as_ptr(p).cast::<()>() as usize),
        )
    }
}
