//! [`AnyConfig`]: a backend chosen from the URL's dialect at run time, with [`AnySession`] and
//! [`AnyTransaction`] running the portable [`Executor`] API on either.
//!
//! `AnyConfig` implements [`DatabaseConfig`], so generic code (`fn f<C: DatabaseConfig>`) takes it
//! as it takes `SqliteConfig` or `PostgresConfig`. Its inherent `create_db(metadata)`,
//! `execute_batch`, `ping`… are shortcuts that draw the engine themselves.
use crate::config::{DatabaseConfig, LockMode, UniqueKey};
use crate::error::{Error, Result};
#[cfg(feature = "postgres")]
use crate::postgres::{PostgresConfig, PostgresEngine, PostgresSession, PostgresTransaction};
use crate::query::{Executor, Transaction};
use crate::schema::{Difference, Metadata};
use crate::settings::Settings;
#[cfg(feature = "sqlite")]
use crate::sqlite::{SqliteConfig, SqliteEngine, SqliteSession, SqliteTransaction};
use crate::url::{ConnectionUrl, Dialect};
use crate::value::{Params, Row};

/// Dispatches one call to the backend of an [`AnySession`] or [`AnyTransaction`].
macro_rules! dispatch {
    ($self:expr, $enum:ident, $inner:ident => $call:expr) => {
        match $self {
            #[cfg(feature = "sqlite")]
            $enum::Sqlite($inner) => $call,
            #[cfg(feature = "postgres")]
            $enum::Postgres($inner) => $call,
        }
    };
}

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
            Some(Dialect::Sqlite) => SqliteConfig::from_settings(settings).map(AnyConfig::Sqlite),
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
        dispatch!(self, AnyConfig, c => c.settings())
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
        self.engine().await?.create_db(metadata).await
    }

    /// [`DatabaseConfig::drop_db`] on this config's engine.
    ///
    /// # Errors
    /// Invalid metadata, or a statement failed (nothing is committed).
    pub async fn drop_db(&self, metadata: &Metadata) -> Result<()> {
        self.engine().await?.drop_db(metadata).await
    }

    /// [`DatabaseConfig::verify_db`] on this config's engine.
    ///
    /// # Errors
    /// Invalid metadata, or reading the catalog failed.
    pub async fn verify_db(&self, metadata: &Metadata) -> Result<Vec<Difference>> {
        self.engine().await?.verify_db(metadata).await
    }

    /// Plans the changes that bring the database to `metadata` (see [`crate::migrate::plan`]).
    ///
    /// # Errors
    /// Invalid metadata, or reading the catalog failed.
    pub async fn plan_db(&self, metadata: &Metadata) -> Result<crate::migrate::plan::Plan> {
        self.engine().await?.plan_db(metadata).await
    }

    /// True when the database lives in memory.
    #[must_use]
    pub fn is_inmemory(&self) -> bool {
        dispatch!(self, AnyConfig, c => c.is_inmemory())
    }

    /// The config's [`UniqueKey`].
    #[must_use]
    pub fn unique_key(&self) -> UniqueKey {
        dispatch!(self, AnyConfig, c => c.unique_key())
    }
}

impl AnyEngine {
    /// Disposes the engine.
    pub fn dispose(&self) {
        dispatch!(self, AnyEngine, e => e.dispose())
    }

    /// [`DatabaseConfig::create_db`] on this engine.
    ///
    /// # Errors
    /// Invalid metadata, or a statement failed (nothing is committed).
    pub async fn create_db(&self, metadata: &Metadata) -> Result<()> {
        dispatch!(self, AnyEngine, e => e.create_db(metadata).await)
    }

    /// [`DatabaseConfig::drop_db`] on this engine.
    ///
    /// # Errors
    /// Invalid metadata, or a statement failed (nothing is committed).
    pub async fn drop_db(&self, metadata: &Metadata) -> Result<()> {
        dispatch!(self, AnyEngine, e => e.drop_db(metadata).await)
    }

    /// [`DatabaseConfig::verify_db`] on this engine.
    ///
    /// # Errors
    /// Invalid metadata, or reading the catalog failed.
    pub async fn verify_db(&self, metadata: &Metadata) -> Result<Vec<Difference>> {
        dispatch!(self, AnyEngine, e => e.verify_db(metadata).await)
    }

    /// Plans the changes that bring the database to `metadata` (see [`crate::migrate::plan`]).
    ///
    /// # Errors
    /// Invalid metadata, or reading the catalog failed.
    pub async fn plan_db(&self, metadata: &Metadata) -> Result<crate::migrate::plan::Plan> {
        dispatch!(self, AnyEngine, e => e.plan_db(metadata).await)
    }
}

/// A session of either backend.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnySession {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteSession),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(PostgresSession),
}

/// A transaction of either backend.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyTransaction<'s> {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteTransaction<'s>),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(PostgresTransaction<'s>),
}

impl AnyEngine {
    /// A new session on this engine.
    #[must_use]
    pub fn session(&self) -> AnySession {
        match self {
            #[cfg(feature = "sqlite")]
            AnyEngine::Sqlite(e) => AnySession::Sqlite(e.session()),
            #[cfg(feature = "postgres")]
            AnyEngine::Postgres(e) => AnySession::Postgres(e.session()),
        }
    }
}

impl AnySession {
    /// Begins a transaction (SQLite: `BEGIN IMMEDIATE` for [`LockMode::ForUpdate`] or `true`,
    /// else `BEGIN DEFERRED`; PostgreSQL: READ COMMITTED, lock rows with `SELECT … FOR UPDATE`).
    ///
    /// # Errors
    /// As the backend's `begin_transaction`.
    pub async fn begin_transaction(
        &mut self,
        mode: impl Into<LockMode>,
    ) -> Result<AnyTransaction<'_>> {
        let mode = mode.into();
        match self {
            #[cfg(feature = "sqlite")]
            AnySession::Sqlite(s) => s.begin_transaction(mode).await.map(AnyTransaction::Sqlite),
            #[cfg(feature = "postgres")]
            AnySession::Postgres(s) => s
                .begin_transaction(mode)
                .await
                .map(AnyTransaction::Postgres),
        }
    }
}

impl AnySession {
    /// Begins a read-only transaction: PostgreSQL's
    /// [`begin_read_only`](crate::PostgresSession::begin_read_only) (`READ ONLY`, on a read
    /// replica when the engine has some), SQLite's
    /// [`begin_read_only`](crate::SqliteSession::begin_read_only) (`BEGIN DEFERRED` with
    /// `query_only`). A write in it fails on both. A replica may lag: use
    /// [`begin_transaction`](Self::begin_transaction) to read your own writes.
    ///
    /// # Errors
    /// As the backend's `begin_read_only`.
    pub async fn begin_read_only(&mut self) -> Result<AnyTransaction<'_>> {
        match self {
            #[cfg(feature = "sqlite")]
            AnySession::Sqlite(s) => s.begin_read_only().await.map(AnyTransaction::Sqlite),
            #[cfg(feature = "postgres")]
            AnySession::Postgres(s) => s.begin_read_only().await.map(AnyTransaction::Postgres),
        }
    }
}

/// `Executor` for the session and the transaction: every method handed to the backend's own.
macro_rules! dispatch_executor {
    ($($ty:ty => $name:ident),+) => {$(
        impl Executor for $ty {
            fn dialect(&self) -> Dialect {
                dispatch!(self, $name, x => x.dialect())
            }

            async fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
                dispatch!(self, $name, x => Executor::execute(x, sql, params).await)
            }

            async fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
                dispatch!(self, $name, x => Executor::query(x, sql, params).await)
            }

            async fn execute_batch(&mut self, sql: &str) -> Result<()> {
                dispatch!(self, $name, x => Executor::execute_batch(x, sql).await)
            }
        }
    )+};
}

dispatch_executor!(AnySession => AnySession, AnyTransaction<'_> => AnyTransaction);

impl Transaction for AnyTransaction<'_> {
    async fn commit(self) -> Result<()> {
        dispatch!(self, AnyTransaction, t => Transaction::commit(t).await)
    }

    async fn rollback(self) -> Result<()> {
        dispatch!(self, AnyTransaction, t => Transaction::rollback(t).await)
    }

    async fn execute_and_commit(self, sql: &str, params: Params<'_>) -> Result<u64> {
        dispatch!(self, AnyTransaction, t => Transaction::execute_and_commit(t, sql, params).await)
    }

    async fn query_and_commit(self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        dispatch!(self, AnyTransaction, t => Transaction::query_and_commit(t, sql, params).await)
    }
}

impl DatabaseConfig for AnyConfig {
    type Engine = AnyEngine;
    type Session = AnySession;
    type Transaction<'s> = AnyTransaction<'s>;

    async fn engine(&self) -> Result<AnyEngine> {
        AnyConfig::engine(self).await
    }

    async fn session(&self, engine: &AnyEngine) -> Result<AnySession> {
        let session = engine.session();
        if session.dialect() != self.dialect() {
            return Err(Error::WrongDialect {
                expected: self.dialect(),
                found: session.dialect(),
            });
        }
        Ok(session)
    }

    crate::config::delegate_to_engine!(AnyEngine, AnySession, AnyTransaction);

    fn dialect(&self) -> Dialect {
        AnyConfig::dialect(self)
    }

    fn is_inmemory(&self) -> bool {
        AnyConfig::is_inmemory(self)
    }

    fn unique_key(&self) -> UniqueKey {
        AnyConfig::unique_key(self)
    }
}
