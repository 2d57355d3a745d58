//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use dbconfig::SqliteEngine;

pub mod pg;
pub mod proxy;

/// A URL to a fresh database on the test PostgreSQL server, or `None` (after printing why) when
/// there is no server; under `CI=true` a missing server fails the test instead.
pub fn pg_url(prefix: &str) -> Option<String> {
    let server = pg::server()?;
    let db = server
        .create_database(prefix)
        .expect("create a test database");
    Some(server.url_for(&db))
}

/// Polls `check` (a bounded wait for a state that another process reaches on its own, such as
/// the server noticing closed sockets): true once it holds, false after `limit`.
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `sqlite:////abs/path` for a file in `dir`.
pub fn file_url(dir: &Path, name: &str) -> String {
    format!("sqlite:///{}", dir.join(name).display())
}

/// Creates `t (id INTEGER PRIMARY KEY, v TEXT)` through `engine`.
pub async fn create_table(engine: &SqliteEngine) {
    let mut session = engine.session();
    let mut tx = session.begin_transaction(true).await.unwrap();
    tx.run(|c| {
        c.execute_batch("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    })
    .unwrap();
    tx.commit().await.unwrap();
}

/// Number of rows in `t`.
pub async fn count_rows(engine: &SqliteEngine) -> i64 {
    engine
        .session()
        .run(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
        .await
        .unwrap()
}

/// A plain tokio-postgres client on `url` (outside dbconfig), for checking what the server sees.
pub async fn pg_admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_postgres::connect(url, tokio_postgres::NoTls),
    )
    .await
    .expect("admin connect timed out")
    .expect("admin connect");
    tokio::spawn(connection);
    client
}

/// The server process behind `session`'s connection (taking one from the pool if needed).
pub async fn backend_pid(session: &mut dbconfig::PostgresSession) -> i32 {
    session
        .client()
        .await
        .expect("a pooled connection")
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pg_backend_pid()")
        .get(0)
}

/// Connections the server has open to database `db` (excluding the caller's own).
pub async fn pg_backends(admin: &tokio_postgres::Client, db: &str) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db],
        )
        .await
        .expect("count backends")
        .get(0)
}

/// The database name at the end of a test URL.
pub fn pg_dbname(url: &str) -> String {
    let path = url.rsplit('/').next().unwrap_or_default();
    path.split('?').next().unwrap_or_default().to_owned()
}

/// A `tracing_subscriber` writer that keeps what it is given, for tests that read the logs.
#[derive(Clone, Default)]
pub struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    /// A capture and the guard of a thread-local subscriber that writes into it every event
    /// up to `level` (and span closes, with `span_closes`), without colours. Logs stop going
    /// to it when the guard drops.
    pub fn install(
        level: tracing::Level,
        span_closes: bool,
    ) -> (Capture, tracing::subscriber::DefaultGuard) {
        use tracing_subscriber::fmt::format::FmtSpan;
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(capture.clone())
            .with_max_level(level)
            .with_span_events(if span_closes {
                FmtSpan::CLOSE
            } else {
                FmtSpan::NONE
            })
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (capture, guard)
    }

    /// Forgets what was written so far.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
