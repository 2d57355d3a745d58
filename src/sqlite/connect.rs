//! Opening one SQLite connection and applying dbconfig's PRAGMAs to it. Synchronous and free of
//! any runtime, so the wasm build uses the same code.

use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::cipher;
use super::pragma::{Pragma, effective_journal_mode};
use super::target::OpenTarget;
use crate::error::{Error, Result, WaitingFor};
use crate::settings::Settings;
use crate::url::SqliteKey;

/// The oldest SQLite dbconfig accepts: 3.24.0 added `INSERT … ON CONFLICT DO UPDATE`, which the
/// original's queries rely on.
pub const MIN_SQLITE_VERSION: (u32, u32, u32) = (3, 24, 0);

/// Checks a SQLite version number (`3024000` for 3.24.0) against [`MIN_SQLITE_VERSION`].
///
/// # Errors
/// [`Error::SqliteVersion`] with the original's message when `version_number` is older.
pub fn check_sqlite_version(version_number: i32) -> Result<()> {
    let (major, minor, patch) = MIN_SQLITE_VERSION;
    let required = (major * 1_000_000 + minor * 1_000 + patch) as i32;
    if version_number >= required {
        return Ok(());
    }
    let found = format!(
        "{}.{}.{}",
        version_number / 1_000_000,
        version_number / 1_000 % 1_000,
        version_number % 1_000
    );
    Err(Error::SqliteVersion {
        required: "3.24.0",
        found,
    })
}

/// A hook run on every new connection after dbconfig's PRAGMAs.
pub type OnConnect = std::sync::Arc<
    dyn Fn(&Connection) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>
        + Send
        + Sync,
>;

/// Opens a connection to `target`, applies the SQLCipher key of `settings` (`sqlite.key` or
/// the url's) first, then `settings`' PRAGMAs, then `on_connect`.
///
/// # Errors
/// Opening fails, the key is wrong or the file is not a database ([`Error::NotADatabase`]), a
/// PRAGMA fails or does not take, or the hook fails.
pub fn open_connection(
    target: &OpenTarget,
    settings: &Settings,
    on_connect: Option<&OnConnect>,
) -> Result<Connection> {
    open_connection_until(
        target,
        settings,
        settings.sqlite_key(),
        on_connect,
        None,
        |_| {},
    )
}

/// [`open_connection`] with the key given apart (the engine's, which a provider or a rekey may
/// have set), that gives up at `deadline`: every lock wait during setup is cut to the
/// time left, and past the deadline the half-set-up connection is closed. `opened` sees the
/// connection as soon as it exists (the pool takes its interrupt handle, to stop the hook's SQL
/// when the caller has gone).
///
/// # Errors
/// As [`open_connection`], or [`Error::Timeout`] past the deadline.
pub(crate) fn open_connection_until(
    target: &OpenTarget,
    settings: &Settings,
    key: Option<&SqliteKey>,
    on_connect: Option<&OnConnect>,
    deadline: Option<Instant>,
    opened: impl FnOnce(&Connection),
) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(&target.uri, flags)?;
    opened(&conn);
    // The key first: SQLCipher must have it before the first read of the file.
    if let Some(key) = key {
        cipher::apply_key(&conn, key, &target.identity)?;
    }
    if let Some(capacity) = settings.statement_cache_size {
        conn.set_prepared_statement_cache_capacity(capacity as usize);
    }
    let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
    // Lock wait while setting up, as the original's `sqlite3.connect(timeout=…)`, never past
    // the deadline.
    let setup_wait = settings.sqlite.setup_wait();
    let setup_wait = left().map_or(setup_wait, |left| setup_wait.min(left));
    apply_pragmas_with(&conn, target, settings, setup_wait).map_err(|e| match e {
        Error::Sqlite(e) => cipher::not_a_database(e, &target.identity, key.is_some()),
        other => other,
    })?;
    if settings.echo {
        install_echo(&mut conn)?;
    }
    if let Some(hook) = on_connect {
        hook(&conn).map_err(Error::Hook)?;
    }
    if let (Some(limit), Some(Duration::ZERO)) = (settings.connection_timeout, left()) {
        return Err(Error::Timeout {
            waiting_for: WaitingFor::NewConnection,
            after: limit,
        });
    }
    Ok(conn)
}

/// Applies the PRAGMAs of [`super::pragma::pragmas`], in that list's order (the list is also
/// what `pragmas_in_effect` and the CLI show, and what the module docs' table is checked against).
///
/// # Errors
/// `sqlite.setup_busy_timeout` or `sqlite.busy_timeout` out of range ([`Error::Settings`]), a PRAGMA fails, or the
/// journal mode does not take on a writable file database.
pub fn apply_pragmas(conn: &Connection, target: &OpenTarget, settings: &Settings) -> Result<()> {
    // Lock wait while setting up, as the original's `sqlite3.connect(timeout=…)`.
    apply_pragmas_with(conn, target, settings, settings.sqlite.setup_wait())
}

fn apply_pragmas_with(
    conn: &Connection,
    target: &OpenTarget,
    settings: &Settings,
    setup_wait: Duration,
) -> Result<()> {
    // rusqlite panics on a busy timeout above i32::MAX ms; configs validate their settings, but
    // `apply_pragmas` and `open_connection` are public and may be handed settings that never
    // were.
    settings.check_range("sqlite.setup_busy_timeout")?;
    settings.check_range("sqlite.busy_timeout")?;
    conn.busy_timeout(setup_wait)?;
    for Pragma { name, value, .. } in super::pragma::pragmas(settings) {
        match name.as_str() {
            "journal_mode" if !target.read_only => {
                set_journal_mode(conn, target, settings, setup_wait)?;
            }
            "journal_mode" => {}
            // Last of dbconfig's own: the setup wait above holds until here.
            "busy_timeout" => conn.busy_timeout(settings.sqlite.busy_timeout)?,
            _ => match value.parse::<i64>() {
                Ok(number) => conn.pragma_update(None, &name, number)?,
                Err(_) => conn.pragma_update(None, &name, value.as_str())?,
            },
        }
    }
    Ok(())
}

/// Sets the journal mode only when it differs: WAL is stored in the file, so it is set once per
/// file and merely checked by every later connection (setting it can itself hit a lock).
///
/// Two processes opening a new file at once both switch it: SQLite then refuses one of them at
/// once with `SQLITE_BUSY` instead of calling the busy handler (each holds a shared lock the
/// other must wait for), so the switch is tried again, with a short pause, until `setup_wait`
/// is spent; usually the other process has switched the file by then and there is nothing left
/// to do.
fn set_journal_mode(
    conn: &Connection,
    target: &OpenTarget,
    settings: &Settings,
    setup_wait: Duration,
) -> Result<()> {
    let wanted = effective_journal_mode(settings.sqlite.pragmas.journal_mode, target.inmemory);
    // Counted rather than clocked: in the browser there is neither a clock nor sleeping (and no
    // second process to wait for), so there it never waits.
    let can_wait = cfg!(not(all(target_family = "wasm", target_os = "unknown")));
    let mut waited = Duration::ZERO;
    let mut pause = Duration::from_millis(1);
    loop {
        let current: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        if current.eq_ignore_ascii_case(wanted.as_str()) {
            return Ok(());
        }
        let now: String =
            match conn.pragma_update_and_check(None, "journal_mode", wanted.as_str(), |r| r.get(0))
            {
                Ok(now) => now,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if can_wait
                        && e.code == rusqlite::ErrorCode::DatabaseBusy
                        && waited + pause <= setup_wait =>
                {
                    std::thread::sleep(pause);
                    waited += pause;
                    pause = (pause * 2).min(Duration::from_millis(20));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
        if !now.eq_ignore_ascii_case(wanted.as_str()) && !target.inmemory {
            return Err(Error::Pragma {
                pragma: "journal_mode",
                expected: wanted.as_str().into(),
                found: now,
            });
        }
        return Ok(());
    }
}

/// The PRAGMAs in effect on `conn`: the ones dbconfig sets plus `extra` names, as SQLite reports
/// them.
///
/// # Errors
/// A PRAGMA query fails.
pub fn pragmas_in_effect(conn: &Connection, settings: &Settings) -> Result<Vec<(String, String)>> {
    super::pragma::pragmas(settings)
        .into_iter()
        .map(|Pragma { name, .. }| {
            let value = conn.pragma_query_value(None, &name, |r| {
                Ok(match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    other => format!("{other:?}"),
                })
            })?;
            Ok((name, value))
        })
        .collect()
}

fn install_echo(conn: &mut Connection) -> Result<()> {
    use rusqlite::trace::{TraceEvent, TraceEventCodes};
    conn.trace_v2(
        TraceEventCodes::SQLITE_TRACE_PROFILE,
        Some(|event: TraceEvent<'_>| {
            if let TraceEvent::Profile(stmt, elapsed) = event {
                log_statement(&stmt.sql(), elapsed);
            }
        }),
    )?;
    Ok(())
}

/// The `echo` log line: statement text (never parameter values) and how long it ran.
pub(crate) fn log_statement(sql: &str, elapsed: Duration) {
    tracing::info!(target: "dbconfig::sql", elapsed_us = elapsed.as_micros() as u64, "{sql}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SqliteSettings;

    #[test]
    fn version_check_matches_the_original() {
        check_sqlite_version(3_024_000).unwrap();
        check_sqlite_version(rusqlite::version_number()).unwrap();
        let err = check_sqlite_version(3_023_009).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dbconfig requires sqlite >= 3.24.0 but we found version 3.23.9"
        );
    }

    /// Settings that never went through `validate()` get an error, not rusqlite's panic.
    #[test]
    fn unvalidated_busy_timeouts_are_errors() {
        let target = OpenTarget::for_url(&"sqlite://".parse().unwrap());
        let conn = Connection::open_in_memory().unwrap();
        let too_long = Duration::from_secs(600 * 3600);
        for (field, settings) in [
            (
                "sqlite.busy_timeout",
                Settings::new().with_sqlite(SqliteSettings::default().with_busy_timeout(too_long)),
            ),
            (
                "sqlite.setup_busy_timeout",
                Settings::new()
                    .with_sqlite(SqliteSettings::default().with_setup_busy_timeout(Some(too_long))),
            ),
        ] {
            match apply_pragmas(&conn, &target, &settings) {
                Err(Error::Settings(e)) => assert_eq!(e.key(), field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
