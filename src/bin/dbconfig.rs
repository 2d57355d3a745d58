//! `dbconfig`: inspect connection URLs and check databases from the command line.
//!
//! Every network wait is bounded: connecting by `connection_timeout` (`pool_timeout` for the
//! pool), and each round trip by `timeout + connection_timeout` (see
//! [`PostgresEngine::round_trip_limit`](dbconfig::PostgresEngine::round_trip_limit)); one
//! that runs out fails with "timed out after … waiting for …" and exit status 1.
//!
//! A reader that stops reading (`dbconfig parse … | head`) is not an error: what is printed
//! after that is dropped and the command ends with its own exit status (so `verify` still
//! exits 1 when the database differs). Any other failure to write to stdout is reported on
//! stderr and makes the exit status 1.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use dbconfig::schema::{Metadata, ddl};
use dbconfig::url::{ConnectionUrl, PgHost, SqliteLocation};
use dbconfig::{AnyConfig, AnyEngine, Dialect, Settings, WaitingFor};
use serde_json::{Value, json};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, SimpleQueryMessage};

/// `eprintln!` for this program: a closed stderr is ignored instead of panicking.
macro_rules! eprintln {
    ($($arg:tt)*) => {
        crate::write_line(&mut std::io::stderr().lock(), format_args!($($arg)*)).ok()
    };
}

/// `println!` for this program: writes through [`print_line`], so that a closed stdout drops
/// the output instead of panicking as std's `println!` does (see the module docs).
macro_rules! println {
    ($($arg:tt)*) => {
        crate::print_line(format_args!($($arg)*))
    };
}

// After the macros above, so that the subcommands' `println!` / `eprintln!` are this
// program's (a closed stdout ends quietly) rather than std's (which panic).
#[path = "dbconfig/migrate.rs"]
mod migrate;
#[path = "dbconfig/sqlite_ops.rs"]
mod sqlite_ops;

/// What happened to stdout: [`STDOUT_OK`], [`STDOUT_CLOSED`] or [`STDOUT_FAILED`].
static STDOUT: AtomicU8 = AtomicU8::new(STDOUT_OK);
const STDOUT_OK: u8 = 0;
/// The reader went away (EPIPE): output stops, the exit status is the command's.
const STDOUT_CLOSED: u8 = 1;
/// Another write error: reported, and the exit status becomes 1.
const STDOUT_FAILED: u8 = 2;

/// Prints one line on stdout, or nothing once stdout has failed.
fn print_line(args: std::fmt::Arguments<'_>) {
    if STDOUT.load(Ordering::Relaxed) != STDOUT_OK {
        return;
    }
    if let Err(e) = write_line(&mut std::io::stdout().lock(), args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STDOUT.store(STDOUT_CLOSED, Ordering::Relaxed);
        } else {
            STDOUT.store(STDOUT_FAILED, Ordering::Relaxed);
            eprintln!("error: cannot write to stdout: {e}");
        }
    }
}

fn write_line(out: &mut impl std::io::Write, args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    out.write_fmt(args)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[derive(Parser)]
#[command(
    name = "dbconfig",
    version,
    about = "Inspect connection URLs and check databases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse a connection URL and print it (password redacted).
    Parse {
        /// The connection URL.
        url: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Connect, then print versions, effective settings, PRAGMAs and round-trip latency.
    /// Other settings come from DBCONFIG_* variables.
    Check {
        /// The connection URL.
        url: String,
        /// SQLite: run PRAGMA integrity_check and foreign_key_check instead; exit status 1 when
        /// either reports a problem.
        #[arg(long)]
        integrity: bool,
        /// With --integrity: PRAGMA quick_check instead of integrity_check (faster, fewer checks).
        #[arg(long, requires = "integrity")]
        quick: bool,
        /// With --integrity: print one JSON object instead of text.
        #[arg(long, requires = "integrity")]
        json: bool,
    },
    /// SQLite: copy the live database to FILE with the online backup API (a consistent
    /// snapshot; writers keep writing), through a temporary file renamed when complete.
    Backup {
        /// The connection URL.
        url: String,
        /// The backup file.
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// SQLite: replace the database's content with FILE (checked first), as one write
    /// transaction.
    Restore {
        /// The connection URL.
        url: String,
        /// The file to restore from.
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// SQLCipher (feature `sqlcipher`): write a copy of the database to FILE encrypted with the
    /// key in DBCONFIG_SQLITE_NEW_KEY (never on the command line, where `ps` would show it);
    /// with --decrypt, a plain copy. The source's own key, if any, comes from
    /// DBCONFIG_SQLITE_KEY or the URL.
    #[cfg(feature = "sqlcipher")]
    Encrypt {
        /// The connection URL.
        url: String,
        /// The file to write.
        file: PathBuf,
        /// Write a plain (unencrypted) copy instead.
        #[arg(long)]
        decrypt: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// SQLCipher (feature `sqlcipher`): change the key of the encrypted database (its key in
    /// DBCONFIG_SQLITE_KEY or the URL) to the key in DBCONFIG_SQLITE_NEW_KEY.
    #[cfg(feature = "sqlcipher")]
    Rekey {
        /// The connection URL.
        url: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the DDL for a schema file (.json or .toml), one statement per line group.
    Ddl {
        /// sqlite or postgresql.
        #[arg(long)]
        dialect: Dialect,
        /// Print the DROP statements instead of CREATE.
        #[arg(long)]
        drop: bool,
        /// The schema file.
        schema: PathBuf,
    },
    /// Create the tables, indexes and types of a schema file that the database lacks.
    Create {
        /// The connection URL.
        url: String,
        /// The schema file.
        schema: PathBuf,
    },
    /// Drop the tables and types of a schema file.
    Drop {
        /// The connection URL.
        url: String,
        /// The schema file.
        schema: PathBuf,
    },
    /// Compare the database with a schema file; exit status 1 when they differ.
    Verify {
        /// The connection URL.
        url: String,
        /// The schema file.
        schema: PathBuf,
    },
    /// Versioned migrations from a directory: status, up, stamp.
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
}

/// What the schema commands do with the database.
#[derive(Clone, Copy)]
enum SchemaAction {
    Create,
    Drop,
    Verify,
}

fn main() -> ExitCode {
    let code = run(Cli::parse());
    if STDOUT.load(Ordering::Relaxed) == STDOUT_FAILED {
        return ExitCode::FAILURE;
    }
    code
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Parse { url, json } => parse(&url, json),
        Command::Check {
            url,
            integrity: true,
            quick,
            json,
        } => run_async(sqlite_ops::integrity(&url, quick, json)),
        Command::Check { url, .. } => run_async(check(&url)),
        Command::Backup { url, file, json } => run_async(sqlite_ops::backup(&url, &file, json)),
        Command::Restore { url, file, json } => run_async(sqlite_ops::restore(&url, &file, json)),
        #[cfg(feature = "sqlcipher")]
        Command::Encrypt {
            url,
            file,
            decrypt,
            json,
        } => run_async(sqlite_ops::encrypt(&url, &file, decrypt, json)),
        #[cfg(feature = "sqlcipher")]
        Command::Rekey { url, json } => run_async(sqlite_ops::rekey(&url, json)),
        Command::Ddl {
            dialect,
            drop,
            schema,
        } => print_ddl(dialect, drop, &schema),
        Command::Create { url, schema } => {
            run_async(schema_command(&url, &schema, SchemaAction::Create))
        }
        Command::Drop { url, schema } => {
            run_async(schema_command(&url, &schema, SchemaAction::Drop))
        }
        Command::Verify { url, schema } => {
            run_async(schema_command(&url, &schema, SchemaAction::Verify))
        }
        Command::Migrate(command) => run_async(migrate::run(command)),
    }
}

/// Runs `fut` on a fresh runtime: its error is printed with its causes.
fn run_async(fut: impl std::future::Future<Output = dbconfig::Result<ExitCode>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fut) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

fn load_schema(path: &Path) -> dbconfig::Result<Metadata> {
    Ok(Metadata::from_file(path)?)
}

fn print_ddl(dialect: Dialect, drop: bool, schema: &Path) -> ExitCode {
    let statements = load_schema(schema).and_then(|metadata| {
        Ok(if drop {
            ddl::drop_statements(&metadata, dialect)?
        } else {
            ddl::create_statements(&metadata, dialect)?
        })
    });
    match statements {
        Ok(statements) => {
            let mut out = std::io::stdout().lock();
            let mut text = String::new();
            if drop && dialect == Dialect::Sqlite {
                text.push_str(
                    "-- run on a connection with foreign keys off (dbconfig drop does)\n",
                );
                text.push_str("PRAGMA foreign_keys = OFF;\n");
            }
            for sql in statements {
                text.push_str(&sql);
                text.push_str(";\n");
            }
            // A closed pipe (`| head`) is not an error worth a panic.
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

async fn schema_command(
    url: &str,
    schema: &Path,
    action: SchemaAction,
) -> dbconfig::Result<ExitCode> {
    let metadata = load_schema(schema)?;
    let mut settings = Settings::from_env()?;
    settings.connection_url = Some(url.parse()?);
    let config = AnyConfig::from_settings(settings)?;
    let tables = metadata.tables.len();
    let code = match action {
        SchemaAction::Create => {
            config.create_db(&metadata).await?;
            println!("created (where missing): {tables} tables");
            ExitCode::SUCCESS
        }
        SchemaAction::Drop => {
            config.drop_db(&metadata).await?;
            println!("dropped (where present): {tables} tables");
            ExitCode::SUCCESS
        }
        SchemaAction::Verify => {
            let differences = config.verify_db(&metadata).await?;
            for d in &differences {
                println!("{d}");
            }
            if differences.is_empty() {
                println!("the database matches the schema ({tables} tables)");
                ExitCode::SUCCESS
            } else {
                println!("{} differences", differences.len());
                ExitCode::from(1)
            }
        }
    };
    if let Ok(engine) = config.engine().await {
        engine.dispose();
    }
    Ok(code)
}

/// A client whose round trips are bounded as dbconfig's own are, by `timeout +
/// connection_timeout` ([`PostgresEngine::round_trip_limit`](dbconfig::PostgresEngine::round_trip_limit)).
struct Bounded<'c>(&'c tokio_postgres::Client, Duration);

impl Bounded<'_> {
    async fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> dbconfig::Result<Row> {
        self.answer(self.0.query_one(sql, params)).await
    }

    async fn simple_query(&self, sql: &str) -> dbconfig::Result<Vec<SimpleQueryMessage>> {
        self.answer(self.0.simple_query(sql)).await
    }

    async fn answer<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> dbconfig::Result<T> {
        match tokio::time::timeout(self.1, fut).await {
            Ok(answer) => Ok(answer?),
            Err(_) => Err(dbconfig::Error::Timeout {
                waiting_for: WaitingFor::ServerAnswer,
                after: self.1,
            }),
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn describe(url: &ConnectionUrl) -> Value {
    match url {
        ConnectionUrl::Sqlite(u) => json!({
            "dialect": "sqlite",
            "url": url.redacted(),
            "inmemory": u.is_inmemory(),
            "path": match u.location() {
                SqliteLocation::File(p) if !u.is_inmemory() => Value::from(p.display().to_string()),
                _ => Value::Null,
            },
            "memory_name": u.memory_name(),
            "params": u.params().iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
        }),
        ConnectionUrl::Postgres(u) => json!({
            "dialect": "postgresql",
            "url": url.redacted(),
            "inmemory": false,
            "hosts": u.hosts().iter().map(|h| match h {
                PgHost::Tcp(name) => name.clone(),
                PgHost::Unix(path) => path.display().to_string(),
            }).collect::<Vec<_>>(),
            "ports": u.ports(),
            "user": u.user(),
            "password": u.password().map(|_| "***"),
            "dbname": u.dbname(),
            "params": u.params().into_iter().map(|(k, v)| (k.to_owned(), Value::from(v))).collect::<serde_json::Map<_, _>>(),
            "server_settings": u.server_settings().iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "tls": {
                "sslmode": u.tls().sslmode.map(|m| m.to_string()),
                "sslrootcert": u.tls().sslrootcert.as_ref().map(|p| p.display().to_string()),
                "sslcert": u.tls().sslcert.as_ref().map(|p| p.display().to_string()),
                "sslkey": u.tls().sslkey.as_ref().map(|p| p.display().to_string()),
            },
        }),
        other => json!({ "dialect": other.dialect().to_string(), "url": url.redacted() }),
    }
}

fn parse(url: &str, as_json: bool) -> ExitCode {
    match url.parse::<ConnectionUrl>() {
        Ok(parsed) => {
            let described = describe(&parsed);
            if as_json {
                println!("{described}");
            } else {
                println!("{parsed}");
                if let Value::Object(fields) = described {
                    for (key, value) in fields.iter().filter(|(k, _)| *k != "url") {
                        println!("  {key}: {value}");
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if as_json {
                println!("{}", json!({ "error": e.to_string() }));
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn check(url: &str) -> dbconfig::Result<ExitCode> {
    let mut settings = Settings::from_env()?;
    settings.connection_url = Some(url.parse()?);
    let config = AnyConfig::from_settings(settings)?;
    let engine = config.engine().await?;
    println!(
        "url:      {}",
        config
            .settings()
            .connection_url
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    println!("dbconfig: {}", env!("CARGO_PKG_VERSION"));
    match &engine {
        AnyEngine::Sqlite(engine) => {
            println!("sqlite:   {}", rusqlite::version());
            println!("memory:   {}", engine.is_inmemory());
            let settings = engine.settings().clone();
            let mut session = engine.session();
            let conn = session.connection().await?;
            println!("pragmas:");
            for (name, value) in
                conn.run(|c| Ok(dbconfig::sqlite::connect::pragmas_in_effect(c, &settings)))??
            {
                println!("  {name} = {value}");
            }
            let mut samples = Vec::with_capacity(101);
            for _ in 0..101 {
                let started = Instant::now();
                conn.run(|c| {
                    c.prepare_cached("SELECT 1")?
                        .query_row([], |r| r.get::<_, i64>(0))
                })?;
                samples.push(started.elapsed());
            }
            samples.sort();
            println!("round trip (SELECT 1, median of 101): {:?}", samples[50]);
        }
        AnyEngine::Postgres(engine) => {
            let mut session = engine.session();
            let limit = engine.round_trip_limit();
            let client = Bounded(session.client().await?, limit);
            let row = client
                .query_one(
                    "SELECT version(), current_setting('application_name'), \
                            current_setting('search_path'), current_setting('statement_timeout'), \
                            current_setting('default_transaction_isolation'), \
                            coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)",
                    &[],
                )
                .await?;
            println!("server:   {}", row.try_get::<_, String>(0)?);
            println!("application_name = {}", row.try_get::<_, String>(1)?);
            println!("search_path = {}", row.try_get::<_, String>(2)?);
            println!("statement_timeout = {}", row.try_get::<_, String>(3)?);
            println!(
                "default_transaction_isolation = {}",
                row.try_get::<_, String>(4)?
            );
            println!("tls:      {}", row.try_get::<_, bool>(5)?);
            let mut samples = Vec::with_capacity(101);
            for _ in 0..101 {
                let started = Instant::now();
                client.simple_query("SELECT 1").await?;
                samples.push(started.elapsed());
            }
            samples.sort();
            println!("round trip (SELECT 1, median of 101): {:?}", samples[50]);
        }
        #[allow(unreachable_patterns)]
        _ => println!("(no details for this backend)"),
    }
    println!("settings: {:#?}", config.settings());
    let status = match &engine {
        AnyEngine::Sqlite(e) => format!("{:?}", e.status()),
        AnyEngine::Postgres(e) => format!("{:?}", e.status()),
        #[allow(unreachable_patterns)]
        _ => String::new(),
    };
    println!("pool:     {status}");
    engine.dispose();
    Ok(ExitCode::SUCCESS)
}
