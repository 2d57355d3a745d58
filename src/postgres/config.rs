//! [`PostgresConfig`]: the PostgreSQL implementation of [`DatabaseConfig`].

use std::sync::Arc;

use super::connect::ConnectPlan;
use super::engine::PostgresEngine;
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
    tracker: Option<Arc<ConnectionTracker>>,
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL's Display and the settings' Debug are redacted.
        f.debug_struct("PostgresConfig")
            .field("url", &self.url().redacted())
            .field("settings", &self.settings)
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
            tracker: None,
        })
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
        UniqueKey::new(
            Dialect::Postgres,
            &self.settings,
            None,
            self.tracker.as_ref().map(|t| Arc::as_ptr(t) as usize),
        )
    }
}
