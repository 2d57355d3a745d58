//! The [`DatabaseConfig`] trait and [`UniqueKey`]. [`AnyConfig`](crate::AnyConfig), which picks
//! a backend by URL, is in [`crate::any`].

use std::fmt;
use std::future::Future;

use crate::error::Result;
use crate::query::{Executor, Transaction};
use crate::schema::{Difference, Metadata};
use crate::settings::Settings;
use crate::url::Dialect;

/// How a transaction begins: the original's `with_for_update` flag, named. `true` and `false`
/// convert (`true` is [`ForUpdate`](Self::ForUpdate)), so `begin_transaction(s, true)` reads as
/// the original and `begin_transaction(s, LockMode::ForUpdate)` says what it does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockMode {
    /// No lock up front (`with_for_update=False`): SQLite `BEGIN DEFERRED`, which takes locks
    /// as statements need them; PostgreSQL `BEGIN`.
    #[default]
    Deferred,
    /// The transaction will write (`with_for_update=True`): SQLite `BEGIN IMMEDIATE`, the write
    /// lock at once (through the writer lane), so a read-then-write never meets a stale
    /// snapshot; PostgreSQL `BEGIN` as well (lock rows with `SELECT … FOR UPDATE`).
    ForUpdate,
}

impl From<bool> for LockMode {
    fn from(with_for_update: bool) -> Self {
        if with_for_update {
            LockMode::ForUpdate
        } else {
            LockMode::Deferred
        }
    }
}

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
///
/// Sessions and transactions run portable SQL through [`Executor`] and [`Transaction`], so a
/// function generic over `C: DatabaseConfig` runs on every backend (see [`crate::query`]).
///
/// A generic `async fn` that holds a `C::Transaction<'_>` across an `.await` may not be accepted
/// by `tokio::spawn` once `C` is a concrete type ("lifetime bound not satisfied", a compiler
/// limitation: rust-lang/rust#100013). Write such a function as
/// `fn f(…) -> impl Future<Output = …> + Send { async move { … } }`, as `examples/jobs` does.
///
/// **Implementable, not sealed**: a backend of your own (or a test double wrapping one of
/// dbconfig's) may implement it, with sessions and transactions implementing [`Executor`] and
/// [`Transaction`] ([`Row::new`](crate::Row::new) builds rows from [`Value`](crate::Value)s).
/// The contract the generic code relies on is what `tests/portable/api.rs` checks for the built-in
/// backends: `$N` placeholders, values stored as [`crate::value`] describes, a transaction
/// dropped without `commit` rolls back. New methods will come with default bodies, so that an
/// implementation keeps compiling.
pub trait DatabaseConfig: Send + Sync {
    /// The pool.
    type Engine: Clone + Send + Sync + 'static;
    /// A unit of work on one connection; runs portable statements in autocommit mode.
    type Session: Executor;
    /// An open transaction borrowing its session; runs portable statements, commits, rolls back.
    type Transaction<'s>: Transaction
    where
        Self: 's;

    /// The engine for this config on the current tokio runtime: built on first use, then
    /// returned from the registry.
    fn engine(&self) -> impl Future<Output = Result<Self::Engine>> + Send;

    /// A new session on `engine`.
    fn session(&self, engine: &Self::Engine) -> impl Future<Output = Result<Self::Session>> + Send;

    /// Begins a transaction on `session` (see [`LockMode`]; `true` / `false` work too).
    fn begin_transaction<'s>(
        &self,
        session: &'s mut Self::Session,
        mode: impl Into<LockMode> + Send,
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

    /// The backend's dialect, for the few statements generic code must write per dialect.
    fn dialect(&self) -> Dialect {
        self.unique_key().dialect()
    }

    /// Configs with equal keys share engines.
    fn unique_key(&self) -> UniqueKey;
}

/// Identifies the engine a config builds: the dialect, the URL and every setting that shapes the
/// engine (pool sizes, timeouts, TLS, application name, search path, PRAGMAs…), plus the
/// identity of an `on_connect` hook, a credentials hook (SQLite key provider, PostgreSQL
/// `before_connect`) and a tracker. Its `Debug` redacts the
/// password and the key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UniqueKey {
    dialect: Dialect,
    settings: Settings,
    hook: Option<usize>,
    /// The SQLite key provider or the PostgreSQL `before_connect` hook.
    credentials: Option<usize>,
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
            credentials: None,
            tracker,
        }
    }

    /// The same key for a config whose connections get their secrets from `hook` (its
    /// address): a SQLite key provider or a PostgreSQL `before_connect` hook.
    #[cfg_attr(
        any(
            target_family = "wasm",
            not(any(feature = "sqlite", feature = "postgres"))
        ),
        allow(dead_code)
    )]
    pub(crate) fn with_credentials_hook(mut self, hook: Option<usize>) -> Self {
        self.credentials = hook;
        self
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
            .field("credentials", &self.credentials.is_some())
            .field("tracker", &self.tracker.is_some())
            .finish()
    }
}

/// `settings.connection_url`, checked to be a `dialect` URL: what each backend's
/// `from_settings` requires.
#[cfg(not(target_family = "wasm"))]
pub(crate) fn url_of(settings: &Settings, dialect: Dialect) -> Result<&crate::url::ConnectionUrl> {
    use crate::error::Error;
    match &settings.connection_url {
        Some(url) if url.dialect() == dialect => Ok(url),
        Some(other) => Err(Error::WrongDialect {
            expected: dialect,
            found: other.dialect(),
        }),
        None => Err(Error::MissingUrl),
    }
}

/// The inherent methods both backends' configs have alike: `tracker`, `settings` and `url`
/// (the config's only copy of its URL is in its settings, checked by `from_settings`).
#[cfg(not(target_family = "wasm"))]
macro_rules! config_methods {
    ($variant:ident, $url:ty) => {
        /// Reports this config's engines' connections to `tracker` (instead of the global one).
        #[must_use]
        pub fn tracker(
            mut self,
            tracker: std::sync::Arc<$crate::tracker::ConnectionTracker>,
        ) -> Self {
            self.tracker = Some(tracker);
            self
        }

        /// The settings.
        #[must_use]
        pub fn settings(&self) -> &$crate::settings::Settings {
            &self.settings
        }

        /// The parsed URL.
        #[must_use]
        pub fn url(&self) -> &$url {
            match &self.settings.connection_url {
                Some($crate::url::ConnectionUrl::$variant(url)) => url,
                // `from_settings` checked it, and the settings cannot change afterwards.
                _ => unreachable!("the config's url is of its own dialect"),
            }
        }
    };
}
#[cfg(not(target_family = "wasm"))]
pub(crate) use config_methods;

/// The [`DatabaseConfig`] methods every backend writes alike, handing over to its session
/// (`begin_transaction`) and its engine (`create_db`, `drop_db`, `verify_db`; with
/// `dialect = …`, also `session` and `dialect`).
#[cfg(not(target_family = "wasm"))]
macro_rules! delegate_to_engine {
    // A single backend: its sessions come from its engine, its dialect is fixed.
    (dialect = $dialect:ident, $engine:ty, $session:ty, $transaction:ident) => {
        async fn session(&self, engine: &$engine) -> $crate::error::Result<$session> {
            Ok(engine.session())
        }

        fn dialect(&self) -> $crate::url::Dialect {
            $crate::url::Dialect::$dialect
        }

        $crate::config::delegate_to_engine!($engine, $session, $transaction);
    };
    ($engine:ty, $session:ty, $transaction:ident) => {
        async fn begin_transaction<'s>(
            &self,
            session: &'s mut $session,
            mode: impl Into<$crate::config::LockMode> + Send,
        ) -> $crate::error::Result<$transaction<'s>>
        where
            Self: 's,
        {
            session.begin_transaction(mode).await
        }

        $crate::config::delegate_to_engine!(@schema $engine,
            create_db -> (),
            drop_db -> (),
            verify_db -> Vec<$crate::schema::Difference>
        );
    };
    (@schema $engine:ty, $($op:ident -> $answer:ty),*) => {
        $(
            async fn $op(
                &self,
                engine: &$engine,
                metadata: &$crate::schema::Metadata,
            ) -> $crate::error::Result<$answer> {
                engine.$op(metadata).await
            }
        )*
    };
}
#[cfg(not(target_family = "wasm"))]
pub(crate) use delegate_to_engine;
