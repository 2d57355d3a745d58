//! [`SqliteConfig`]: the SQLite implementation of [`DatabaseConfig`].

use std::sync::Arc;

use rusqlite::Connection;

use super::connect::OnConnect;
use super::engine::SqliteEngine;
use super::session::{SqliteSession, SqliteTransaction};
use super::target::OpenTarget;
use crate::config::{DatabaseConfig, UniqueKey};
use crate::error::Result;
use crate::settings::Settings;
use crate::tracker::ConnectionTracker;
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
    tracker: Option<Arc<ConnectionTracker>>,
}

impl std::fmt::Debug for SqliteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConfig")
            .field("url", &self.url().to_url())
            .field("settings", &self.settings)
            .field("on_connect", &self.on_connect.is_some())
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

    crate::config::config_methods!(Sqlite, SqliteUrl);

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
            tracker,
            self.url().to_url(),
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
    }
}
