//! The [`DatabaseConfig`] trait, [`UniqueKey`] and [`AnyConfig`].

use std::fmt;
use std::future::Future;

use crate::error::Result;
use crate::schema::{Difference, Metadata};
use crate::settings::Settings;
use crate::url::Dialect;

/// What the original's `BaseDatabaseConfiguration` exposes, in Rust shape.
///
/// | original | here |
/// |---|---|
/// | `engine()` | [`engine`](Self::engine): the pool for this config, cached per tokio runtime and [`unique_key`](Self::unique_key), disposed when the runtime shuts down |
/// | `session(engine)` | [`session`](Self::session): a unit of work drawing one pooled connection |
/// | `begin_transaction(session, with_for_update)` | [`begin_transaction`](Self::begin_transaction): SQLite `BEGIN IMMEDIATE` when `with_for_update`, else `BEGIN DEFERRED`; a transaction dropped without commit rolls back |
/// | `create_db(connection, metadata)` / `drop_db` | [`create_db`](Self::create_db) / [`drop_db`](Self::drop_db) from [`Metadata`], plus [`verify_db`](Self::verify_db) |
/// | `is_inmemory()` | [`is_inmemory`](Self::is_inmemory): exact, from the parsed URL |
/// | `unique_key()` | [`unique_key`](Self::unique_key): dialect, URL and every setting that shapes the engine |
pub trait DatabaseConfig: Send + Sync {
    /// The pool.
    type Engine: Clone + Send + Sync + 'static;
    /// A unit of work on one connection.
    type Session: Send;
    /// An open transaction borrowing its session.
    type Transaction<'s>: Send
    where
        Self: 's;

    /// The engine for this config on the current tokio runtime: built on first use, then
    /// returned from the registry.
    fn engine(&self) -> impl Future<Output = Result<Self::Engine>> + Send;

    /// A new session on `engine`.
    fn session(&self, engine: &Self::Engine) -> impl Future<Output = Result<Self::Session>> + Send;

    /// Begins a transaction on `session`.
    fn begin_transaction<'s>(
        &self,
        session: &'s mut Self::Session,
        with_for_update: bool,
    ) -> impl Future<Output = Result<Self::Transaction<'s>>> + Send
    where
        Self: 's;

    /// Creates what `metadata` describes and the database lacks (tables, indexes, enum types,
    /// PostgreSQL schemas), in one transaction, in foreign-key order. Running it twice is fine.
    ///
    /// Invalid metadata is an [`Error::Schema`](crate::Error::Schema) and nothing runs.
    fn create_db(
        &self,
        engine: &Self::Engine,
        metadata: &Metadata,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Drops every table (with its indexes) and enum type of `metadata`, in one transaction, in
    /// reverse foreign-key order. Objects that do not exist are skipped.
    fn drop_db(
        &self,
        engine: &Self::Engine,
        metadata: &Metadata,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Reads the live catalog back and lists how it differs from `metadata` (empty = it
    /// matches). See [`crate::schema::reflect`] for what is compared.
    fn verify_db(
        &self,
        engine: &Self::Engine,
        metadata: &Metadata,
    ) -> impl Future<Output = Result<Vec<Difference>>> + Send;

    /// True when the database lives in memory.
    fn is_inmemory(&self) -> bool;

    /// Configs with equal keys share engines.
    fn unique_key(&self) -> UniqueKey;
}

/// Identifies the engine a config builds: the dialect, the URL and every setting that shapes the
/// engine (pool sizes, timeouts, TLS, application name, search path, PRAGMAs…), plus the
/// identity of an `on_connect` hook and tracker. Its `Debug` redacts the password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UniqueKey {
    dialect: Dialect,
    settings: Settings,
    hook: Option<usize>,
    tracker: Option<usize>,
}

impl UniqueKey {
    // Used by the native pools; the wasm build has none yet.
    #[cfg_attr(
        any(
            target_family = "wasm",
            not(any(feature = "sqlite", feature = "postgres"))
        ),
        allow(dead_code)
    )]
    pub(crate) fn new(
        dialect: Dialect,
        settings: &Settings,
        hook: Option<usize>,
        tracker: Option<usize>,
    ) -> Self {
        UniqueKey {
            dialect,
            settings: settings.clone(),
            hook,
            tracker,
        }
    }

    /// The dialect.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

impl fmt::Debug for UniqueKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Settings`' Debug shows the URL redacted.
        f.debug_struct("UniqueKey")
            .field("dialect", &self.dialect)
            .field("settings", &self.settings)
            .field("hook", &self.hook.is_some())
            .field("tracker", &self.tracker.is_some())
            .finish()
    }
}

#[cfg(all(
    not(target_family = "wasm"),
    any(feature = "sqlite", feature = "postgres")
))]
mod any {
    use super::{DatabaseConfig, Difference, Metadata, UniqueKey};
    use crate::error::{Error, Result};
    #[cfg(feature = "postgres")]
    use crate::postgres::{PostgresConfig, PostgresEngine};
    use crate::settings::Settings;
    #[cfg(feature = "sqlite")]
    use crate::sqlite::{SqliteConfig, SqliteEngine};
    use crate::url::{ConnectionUrl, Dialect};

    /// A config chosen from the URL's dialect, for code that does not care which backend it
    /// runs on.
    #[derive(Debug, Clone)]
    #[non_exhaustive]
    pub enum AnyConfig {
        /// SQLite.
        #[cfg(feature = "sqlite")]
        Sqlite(SqliteConfig),
        /// PostgreSQL.
        #[cfg(feature = "postgres")]
        Postgres(PostgresConfig),
    }

    /// An engine of either backend.
    #[derive(Debug, Clone)]
    #[non_exhaustive]
    pub enum AnyEngine {
        /// SQLite.
        #[cfg(feature = "sqlite")]
        Sqlite(SqliteEngine),
        /// PostgreSQL.
        #[cfg(feature = "postgres")]
        Postgres(PostgresEngine),
    }

    impl AnyConfig {
        /// Parses `url` and picks the backend.
        ///
        /// # Errors
        /// A bad URL, or a dialect whose backend is not compiled in.
        pub fn from_url(url: &str) -> Result<Self> {
            let url: ConnectionUrl = url.parse()?;
            Self::from_settings(Settings::default().with_url(url))
        }

        /// Picks the backend from `settings.connection_url`.
        ///
        /// # Errors
        /// No URL, invalid settings, or a dialect whose backend is not compiled in.
        pub fn from_settings(settings: Settings) -> Result<Self> {
            match settings.connection_url.as_ref().map(ConnectionUrl::dialect) {
                None => Err(Error::MissingUrl),
                #[cfg(feature = "sqlite")]
                Some(Dialect::Sqlite) => {
                    SqliteConfig::from_settings(settings).map(AnyConfig::Sqlite)
                }
                #[cfg(feature = "postgres")]
                Some(Dialect::Postgres) => {
                    PostgresConfig::from_settings(settings).map(AnyConfig::Postgres)
                }
                #[allow(unreachable_patterns)]
                Some(dialect) => Err(Error::BackendUnavailable {
                    dialect,
                    feature: match dialect {
                        Dialect::Sqlite => "sqlite",
                        Dialect::Postgres => "postgres",
                    },
                }),
            }
        }

        /// Reads [`Settings::from_env`] and picks the backend.
        ///
        /// # Errors
        /// As [`Settings::from_env`] and [`from_settings`](Self::from_settings).
        pub fn from_env() -> Result<Self> {
            Self::from_settings(Settings::from_env()?)
        }

        /// The dialect.
        #[must_use]
        pub fn dialect(&self) -> Dialect {
            match self {
                #[cfg(feature = "sqlite")]
                AnyConfig::Sqlite(_) => Dialect::Sqlite,
                #[cfg(feature = "postgres")]
                AnyConfig::Postgres(_) => Dialect::Postgres,
            }
        }

        /// The settings.
        #[must_use]
        pub fn settings(&self) -> &Settings {
            match self {
                #[cfg(feature = "sqlite")]
                AnyConfig::Sqlite(c) => c.settings(),
                #[cfg(feature = "postgres")]
                AnyConfig::Postgres(c) => c.settings(),
            }
        }

        /// The engine (cached per runtime, as [`DatabaseConfig::engine`]).
        ///
        /// # Errors
        /// As the backend's `engine()`.
        pub async fn engine(&self) -> Result<AnyEngine> {
            match self {
                #[cfg(feature = "sqlite")]
                AnyConfig::Sqlite(c) => c.engine().await.map(AnyEngine::Sqlite),
                #[cfg(feature = "postgres")]
                AnyConfig::Postgres(c) => c.engine().await.map(AnyEngine::Postgres),
            }
        }

        /// Runs a batch of `;`-separated statements in one transaction (SQLite: `BEGIN
        /// IMMEDIATE`).
        ///
        /// # Errors
        /// Any statement failed (nothing is committed).
        pub async fn execute_batch(&self, sql: &str) -> Result<()> {
            match self.engine().await? {
                #[cfg(feature = "sqlite")]
                AnyEngine::Sqlite(engine) => {
                    let mut session = engine.session();
                    let mut tx = session.begin_transaction(true).await?;
                    tx.run(|c| c.execute_batch(sql))?;
                    tx.commit().await
                }
                #[cfg(feature = "postgres")]
                AnyEngine::Postgres(engine) => {
                    let mut session = engine.session();
                    let tx = session.begin_transaction(true).await?;
                    tx.batch_execute(sql).await?;
                    tx.commit().await
                }
            }
        }

        /// Checks the database answers (`SELECT 1`).
        ///
        /// # Errors
        /// No connection, or the query failed.
        pub async fn ping(&self) -> Result<()> {
            match self.engine().await? {
                #[cfg(feature = "sqlite")]
                AnyEngine::Sqlite(engine) => engine
                    .session()
                    .run(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))
                    .await
                    .map(drop),
                #[cfg(feature = "postgres")]
                AnyEngine::Postgres(engine) => engine.session().ping().await,
            }
        }

        /// [`DatabaseConfig::create_db`] on this config's engine.
        ///
        /// # Errors
        /// Invalid metadata, or a statement failed (nothing is committed).
        pub async fn create_db(&self, metadata: &Metadata) -> Result<()> {
            match self {
                #[cfg(feature = "sqlite")]
                AnyConfig::Sqlite(c) => c.create_db(&c.engine().await?, metadata).await,
                #[cfg(feature = "postgres")]
                AnyConfig::Postgres(c) => c.create_db(&c.engine().await?, metadata).await,
            }
        }

        /// [`DatabaseConfig::drop_db`] on this config's engine.
        ///
        /// # Errors
        /// Invalid metadata, or a statement failed (nothing is committed).
        pub async fn drop_db(&self, metadata: &Metadata) -> Result<()> {
            match self {
                #[cfg(feature = "sqlite")]
                AnyConfig::Sqlite(c) => c.drop_db(&c.engine().await?, metadata).await,
                #[cfg(feature = "postgres")]
                AnyConfig::Postgres(c) => c.drop_db(&c.engine().await?, metadata).await,
            }
        }

        /// [`DatabaseConfig::verify_db`] on this config's engine.
        ///
        /// # Errors
        /// Invalid metadata, or reading the catalog failed.
        pub async fn verify_db(&self, metadata: &Metadata) -> Result<Vec<Difference>> {
            match self {
                #[cfg(feature = "sqlite")]
                AnyConfig::Sqlite(c) => c.verify_db(&c.engine().await?, metadata).await,
                #[cfg(feature = "postgres")]
                AnyConfig::Postgres(c) => c.verify_db(&c.engine().await?, metadata).await,
            }
        }

        /// True when the database lives in memory.
        #[must_use]
        pub fn is_inmemory(&self) -> bool {
            match self {
                #[cfg(feature = "sqlite")]
                AnyConfig::Sqlite(c) => c.is_inmemory(),
                #[cfg(feature = "postgres")]
                AnyConfig::Postgres(c) => c.is_inmemory(),
            }
        }

        /// The config's [`UniqueKey`].
        #[must_use]
        pub fn unique_key(&self) -> UniqueKey {
            match self {
                #[cfg(feature = "sqlite")]
                AnyConfig::Sqlite(c) => c.unique_key(),
                #[cfg(feature = "postgres")]
                AnyConfig::Postgres(c) => c.unique_key(),
            }
        }
    }

    impl AnyEngine {
        /// Disposes the engine.
        pub fn dispose(&self) {
            match self {
                #[cfg(feature = "sqlite")]
                AnyEngine::Sqlite(e) => e.dispose(),
                #[cfg(feature = "postgres")]
                AnyEngine::Postgres(e) => e.dispose(),
            }
        }
    }
}

#[cfg(all(
    not(target_family = "wasm"),
    any(feature = "sqlite", feature = "postgres")
))]
pub use any::{AnyConfig, AnyEngine};
