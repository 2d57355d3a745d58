//! `dbconfig backup URL FILE`, `dbconfig restore URL FILE` and `dbconfig check --integrity URL`:
//! SQLite's online backup, restore and integrity checks (see `dbconfig::sqlite::maintenance`).
//!
//! Exit status: 0 when the command did its work (`check --integrity`: the database is healthy);
//! 1 on an error, and for `check --integrity` when a check reports a problem.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dbconfig::sqlite::BackupProgress;
use dbconfig::{AnyConfig, AnyEngine, Settings, SqliteEngine};
use serde_json::json;

/// How long a backup or restore may take.
const LIMIT: Duration = Duration::from_secs(24 * 3600);

async fn sqlite_engine(url: &str, what: &str) -> dbconfig::Result<SqliteEngine> {
    let mut settings = Settings::from_env()?;
    settings.connection_url = Some(url.parse()?);
    let config = AnyConfig::from_settings(settings)?;
    match config.engine().await? {
        AnyEngine::Sqlite(engine) => Ok(engine),
        other => {
            other.dispose();
            Err(dbconfig::Error::Unsupported {
                key: what.to_owned(),
                reason: "SQLite databases only (for PostgreSQL use pg_dump and pg_restore)"
                    .to_owned(),
            })
        }
    }
}

/// A progress line: redrawn in place on a terminal, one line per step otherwise.
fn show(p: BackupProgress, terminal: bool) {
    let done = p.total.saturating_sub(p.remaining);
    let percent = (done * 100).checked_div(p.total).unwrap_or(100);
    if terminal {
        let width = 30u64;
        let filled = (percent * width / 100) as usize;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {percent:>3}% {done}/{} pages",
            "#".repeat(filled),
            " ".repeat(width as usize - filled),
            p.total
        );
        let _ = err.flush();
    } else {
        eprintln!("{done}/{} pages ({percent}%)", p.total);
    }
}

pub(crate) async fn backup(url: &str, file: &Path, json: bool) -> dbconfig::Result<ExitCode> {
    let engine = sqlite_engine(url, "backup").await?;
    let terminal = !json && std::io::stderr().is_terminal();
    let started = Instant::now();
    let done = engine
        .backup_to(file, LIMIT, move |p| {
            if !json {
                show(p, terminal);
            }
        })
        .await;
    if terminal {
        eprintln!("");
    }
    engine.dispose();
    report(
        "backup: {pages} pages copied to {file}",
        file,
        done?,
        started,
        json,
    )
}

pub(crate) async fn restore(url: &str, file: &Path, json: bool) -> dbconfig::Result<ExitCode> {
    let engine = sqlite_engine(url, "restore").await?;
    let started = Instant::now();
    let done = engine.restore_from(file, LIMIT).await;
    engine.dispose();
    report(
        "restore: {pages} pages from {file}",
        file,
        done?,
        started,
        json,
    )
}

/// The new key of `encrypt` and `rekey`, from `DBCONFIG_SQLITE_NEW_KEY`.
#[cfg(feature = "sqlcipher")]
fn new_key() -> dbconfig::Result<dbconfig::SqliteKey> {
    const VAR: &str = "DBCONFIG_SQLITE_NEW_KEY";
    let text = std::env::var(VAR).map_err(|_| dbconfig::Error::Unsupported {
        key: VAR.to_owned(),
        reason: "set the new key in this variable (it is never read from the command line)"
            .to_owned(),
    })?;
    dbconfig::SqliteKey::new(text).map_err(dbconfig::Error::Settings)
}

/// `dbconfig encrypt URL FILE [--decrypt]`.
#[cfg(feature = "sqlcipher")]
pub(crate) async fn encrypt(
    url: &str,
    file: &Path,
    decrypt: bool,
    json: bool,
) -> dbconfig::Result<ExitCode> {
    let key = if decrypt { None } else { Some(new_key()?) };
    let engine = sqlite_engine(url, "encrypt").await?;
    let started = Instant::now();
    let done = engine.export_encrypted(file, key).await;
    engine.dispose();
    done?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let path = file.display().to_string();
    if json {
        println!(
            "{}",
            json!({ "path": path, "encrypted": !decrypt, "ms": ms })
        );
    } else {
        let what = if decrypt { "plain" } else { "encrypted" };
        println!("encrypt: {what} copy written to {path} in {ms:.0} ms");
    }
    Ok(ExitCode::SUCCESS)
}

/// `dbconfig rekey URL`.
#[cfg(feature = "sqlcipher")]
pub(crate) async fn rekey(url: &str, json: bool) -> dbconfig::Result<ExitCode> {
    let key = new_key()?;
    let engine = sqlite_engine(url, "rekey").await?;
    let started = Instant::now();
    let done = engine.rekey(key).await;
    engine.dispose();
    done?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    if json {
        println!("{}", json!({ "rekeyed": true, "ms": ms }));
    } else {
        println!("rekey: done in {ms:.0} ms; use DBCONFIG_SQLITE_NEW_KEY's key from now on");
    }
    Ok(ExitCode::SUCCESS)
}

/// The outcome of a backup or restore: `line` with `{pages}` and `{file}` filled in and the
/// time appended, or one JSON object.
fn report(
    line: &str,
    file: &Path,
    done: BackupProgress,
    started: Instant,
    json: bool,
) -> dbconfig::Result<ExitCode> {
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let path = file.display().to_string();
    if json {
        println!("{}", json!({ "path": path, "pages": done.total, "ms": ms }));
    } else {
        let text = line
            .replace("{pages}", &done.total.to_string())
            .replace("{file}", &path);
        println!("{text} in {ms:.0} ms");
    }
    Ok(ExitCode::SUCCESS)
}

/// `PRAGMA integrity_check` (or `quick_check`) and `PRAGMA foreign_key_check`.
pub(crate) async fn integrity(url: &str, quick: bool, json: bool) -> dbconfig::Result<ExitCode> {
    let engine = sqlite_engine(url, "check --integrity").await?;
    let mut session = engine.session();
    let conn = session.connection().await?;
    let pragma = if quick {
        "quick_check"
    } else {
        "integrity_check"
    };
    let (problems, violations) = conn
        .interact(move |c| {
            let problems: Vec<String> = c
                .prepare(&format!("PRAGMA {pragma}"))?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?
                .into_iter()
                .filter(|line| line != "ok")
                .collect();
            let violations: Vec<(String, Option<i64>, String)> = c
                .prepare("PRAGMA foreign_key_check")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((problems, violations))
        })
        .await?;
    drop(session);
    engine.dispose();
    let healthy = problems.is_empty() && violations.is_empty();
    if json {
        let violations: Vec<_> = violations
            .iter()
            .map(|(table, rowid, parent)| json!({ "table": table, "rowid": rowid, "parent": parent }))
            .collect();
        println!(
            "{}",
            json!({ "check": pragma, "ok": healthy, "problems": problems, "foreign_key_violations": violations })
        );
    } else {
        if problems.is_empty() {
            println!("{pragma}: ok");
        } else {
            println!("{pragma}: {} problem(s)", problems.len());
            for p in &problems {
                println!("  {p}");
            }
        }
        if violations.is_empty() {
            println!("foreign_key_check: ok");
        } else {
            println!(
                "foreign_key_check: {} row(s) without their parent",
                violations.len()
            );
            for (table, rowid, parent) in &violations {
                let rowid = rowid.map_or_else(|| "?".to_owned(), |r| r.to_string());
                println!("  {table} rowid {rowid} -> {parent}");
            }
        }
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
