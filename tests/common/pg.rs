//! A real PostgreSQL server for the integration tests.
//!
//! [`server`] returns the server named by `DBCONFIG_TEST_PG_URL`, or else one throwaway cluster,
//! shared by the whole test process, that it starts from the local PostgreSQL binaries
//! (`/usr/lib/postgresql/*/bin`, the highest version, or the directory in `DBCONFIG_PG_BIN`, or
//! the directory of `initdb` on `PATH`). [`own_cluster`] starts a private cluster for tests that
//! restart the server or need a special configuration (TLS, `pg_hba.conf` rules).
//!
//! PostgreSQL refuses to run as root, so when the tests run as root every server-side command
//! runs as the OS user `postgres` through `runuser`, and the cluster's directory belongs to it.
//!
//! A cluster kept in a `static` is never dropped, so every cluster has a watchdog: a small
//! `sh` child, in its own process group and deaf to SIGINT/SIGHUP/SIGQUIT, that waits for EOF on
//! its stdin, whose write end only this process holds. When this process ends, however it ends
//! (normal exit, panic, abort, SIGKILL), the watchdog stops the server (`-m immediate`) and
//! removes the cluster's directory. Dropping a [`PgCluster`] simply closes that pipe and waits
//! for the watchdog to finish the same work.

use std::fs;
use std::io::{ErrorKind, Write};
use std::net::TcpListener;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Environment variable naming an existing server to test against (a `postgresql://` URL).
pub const URL_ENV: &str = "DBCONFIG_TEST_PG_URL";

/// Environment variable overriding the directory of the PostgreSQL binaries.
pub const BIN_ENV: &str = "DBCONFIG_PG_BIN";

/// Host the local clusters listen on.
const HOST: &str = "127.0.0.1";

/// Database superuser created by `initdb`.
const SUPERUSER: &str = "postgres";

/// OS user the server runs as when the tests run as root.
const OS_USER: &str = "postgres";

/// Seconds `pg_ctl` waits for the server to start or stop.
const PG_CTL_TIMEOUT: &str = "60";

/// Number of server-log lines quoted in start errors.
const LOG_TAIL_LINES: usize = 40;

/// Extra configuration for a cluster started by [`PgCluster::start`].
#[derive(Default, Debug, Clone)]
pub struct ClusterOptions {
    /// Lines appended to `postgresql.conf` (after the defaults, so they override them; the
    /// port is always the one chosen by [`PgCluster::start`]).
    pub conf: Vec<String>,
    /// Lines put into `pg_hba.conf` before the default (`trust`) rules, so they take precedence.
    pub hba: Vec<String>,
    /// Files written into the data directory (path relative to it, contents), mode 0600 and
    /// owned by the server's OS user, e.g. `server.crt`, `server.key`, `root.crt`.
    pub files: Vec<(String, Vec<u8>)>,
}

/// A throwaway PostgreSQL cluster in a temporary directory, listening on `127.0.0.1`.
///
/// Dropping it stops the server and removes the directory; if it is never dropped, its
/// watchdog does the same when the process ends.
#[derive(Debug)]
pub struct PgCluster {
    /// The binaries and the OS user that runs them.
    tools: &'static Toolchain,
    /// Temporary directory holding everything (also the Unix-socket directory).
    root: PathBuf,
    /// The data directory, `root/data`.
    data: PathBuf,
    /// The server log, `root/server.log`.
    log: PathBuf,
    /// TCP port the server listens on.
    port: u16,
    /// Write end of the watchdog's stdin; closing it makes the watchdog clean up.
    watchdog_stdin: Mutex<Option<ChildStdin>>,
    /// The watchdog process.
    watchdog: Mutex<Option<Child>>,
}

impl PgCluster {
    /// Creates a cluster (`initdb`), configures it and starts it with `pg_ctl -w`.
    ///
    /// On failure everything is cleaned up and the error includes the command output and the
    /// tail of the server log.
    pub fn start(opts: ClusterOptions) -> Result<PgCluster, String> {
        let tools = toolchain()?;
        let (root, guard) = DirGuard::new(tools)?;
        let data = root.join("data");

        let mut initdb = tools.server_command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8"])
            .args(["--no-sync", "--locale=C"])
            .current_dir(&root);
        run(&mut initdb)?;

        let base_conf = read_text(&data.join("postgresql.conf"))?;
        let hba_path = data.join("pg_hba.conf");
        let default_hba = read_text(&hba_path)?;
        let mut hba = String::new();
        if !opts.hba.is_empty() {
            hba.push_str("# ClusterOptions::hba\n");
            for line in &opts.hba {
                hba.push_str(line);
                hba.push('\n');
            }
            hba.push('\n');
        }
        hba.push_str(&default_hba);
        write_existing(&hba_path, hba.as_bytes())?;
        for (name, contents) in &opts.files {
            write_private_file(tools, &data.join(name), contents)?;
        }

        Self::configure_and_start(tools, root, &base_conf, &opts.conf, guard)
    }

    /// Writes `postgresql.conf` (`base_conf` plus the test settings, `extra` and a free port)
    /// and starts the server in `root/data`, retrying with another port if one was taken
    /// meanwhile (the port comes from binding port 0; another process may take it before the
    /// server binds it); then starts the watchdog.
    fn configure_and_start(
        tools: &'static Toolchain,
        root: PathBuf,
        base_conf: &str,
        extra: &[String],
        mut guard: DirGuard,
    ) -> Result<PgCluster, String> {
        let data = root.join("data");
        let log = root.join("server.log");
        let conf_path = data.join("postgresql.conf");
        let mut attempt = 0;
        let port = loop {
            attempt += 1;
            let port = free_port()?;
            let conf = cluster_conf(base_conf, &root, extra, port);
            write_existing(&conf_path, conf.as_bytes())?;
            match pg_ctl_start(tools, &data, &log, &root) {
                Ok(()) => break port,
                Err(e) if attempt < 5 && port_taken(&log) => {
                    eprintln!("pg: port {port} was taken, retrying with another one ({e})");
                    continue;
                }
                Err(e) => return Err(e),
            }
        };
        let (watchdog, stdin) = spawn_watchdog(tools, &root, &data)?;
        guard.armed = false;
        Ok(PgCluster {
            tools,
            root,
            data,
            log,
            port,
            watchdog_stdin: Mutex::new(Some(stdin)),
            watchdog: Mutex::new(Some(watchdog)),
        })
    }

    /// Starts a streaming-replication standby of `primary`: `pg_basebackup -R` (which writes
    /// `standby.signal` and `primary_conninfo`), then its own port and `pg_ctl -w start` (which
    /// returns once the standby accepts read-only connections).
    pub fn start_standby(primary: &PgCluster) -> Result<PgCluster, String> {
        let tools = primary.tools;
        let (root, guard) = DirGuard::new(tools)?;
        let data = root.join("data");
        let mut backup = tools.server_command("pg_basebackup");
        backup
            .args(["-h", HOST, "-p", &primary.port.to_string(), "-U", SUPERUSER])
            .arg("-D")
            .arg(&data)
            .args(["-R", "-X", "stream", "--no-sync", "-c", "fast"])
            .current_dir(&root);
        scrub_pg_env(&mut backup);
        run(&mut backup)?;
        let base_conf = read_text(&data.join("postgresql.conf"))?;
        Self::configure_and_start(tools, root, &base_conf, &["hot_standby = on".into()], guard)
    }

    /// Promotes a standby to a primary (`pg_ctl promote -w`: returns once it accepts writes).
    pub fn promote(&self) -> Result<(), String> {
        let mut cmd = self.tools.server_command("pg_ctl");
        cmd.arg("-D")
            .arg(&self.data)
            .args(["-w", "-t", PG_CTL_TIMEOUT, "promote"])
            .current_dir(&self.root);
        run(&mut cmd).map(drop)
    }

    /// TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Host the server listens on: `"127.0.0.1"`.
    pub fn host(&self) -> &str {
        HOST
    }

    /// Directory of the server's Unix socket (`.s.PGSQL.<port>`).
    pub fn socket_dir(&self) -> &Path {
        &self.root
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The server log file (outside the data directory, inside the cluster's temp directory).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of the server log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail_of_file(&self.log, lines)
    }

    /// `postgresql://postgres@127.0.0.1:PORT/DBNAME`.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "postgresql://{SUPERUSER}@{HOST}:{}/{}",
            self.port,
            percent_encode(dbname)
        )
    }

    /// Stops the server (`pg_ctl -m fast -w stop`); the directory stays for
    /// [`start_again`](Self::start_again).
    pub fn stop(&self) -> Result<(), String> {
        let mut cmd = self.tools.server_command("pg_ctl");
        cmd.arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "-t", PG_CTL_TIMEOUT, "stop"])
            .current_dir(&self.root);
        run(&mut cmd).map(drop)
    }

    /// Starts the stopped server again (same directory, same port) and waits until it accepts
    /// connections.
    pub fn start_again(&self) -> Result<(), String> {
        pg_ctl_start(self.tools, &self.data, &self.log, &self.root)
    }

    /// Runs `sql` with `psql` as `postgres` in database `dbname` (one `-c`, so several
    /// statements run in one transaction unless they cannot) and returns its trimmed output
    /// (unaligned, tuples only: one row per line, columns separated by `|`).
    pub fn psql(&self, dbname: &str, sql: &str) -> Result<String, String> {
        let mut cmd = psql_command()?;
        scrub_pg_env(&mut cmd);
        cmd.env("PGCONNECT_TIMEOUT", "10")
            .args([
                "-h",
                HOST,
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
            ])
            .arg(dbname)
            .arg("-c")
            .arg(sql);
        run(&mut cmd)
    }

    /// Stops the server (`-m immediate`) and removes the directory right away, without the
    /// watchdog (used when the watchdog is missing or did not finish the job).
    fn stop_immediately_and_remove(&self) {
        stop_immediately(self.tools, &self.root);
        let _ = fs::remove_dir_all(&self.root);
    }
}

impl Drop for PgCluster {
    /// Closes the watchdog's stdin and waits while it stops the server and removes the
    /// directory (and does that work itself if the watchdog is gone).
    fn drop(&mut self) {
        let stdin = self
            .watchdog_stdin
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(stdin);
        let watchdog = self
            .watchdog
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(mut child) = watchdog {
            let _ = child.wait();
        }
        if self.root.exists() {
            self.stop_immediately_and_remove();
        }
    }
}

/// A PostgreSQL server for the tests.
#[derive(Debug)]
pub enum PgServer {
    /// The server named by `DBCONFIG_TEST_PG_URL` (the URL as given).
    Env(String),
    /// A throwaway cluster started by this process.
    Local(PgCluster),
}

impl PgServer {
    /// A URL to the administrative database: for `Env` the URL itself, for `Local` the database
    /// `postgres`.
    pub fn admin_url(&self) -> String {
        match self {
            PgServer::Env(url) => url.clone(),
            PgServer::Local(cluster) => cluster.url("postgres"),
        }
    }

    /// A URL to database `dbname` on the same server (for `Env`: the env URL with its path
    /// replaced, query string kept).
    pub fn url_for(&self, dbname: &str) -> String {
        match self {
            PgServer::Env(url) => replace_url_path(url, dbname),
            PgServer::Local(cluster) => cluster.url(dbname),
        }
    }

    /// Creates a new, empty database named `<prefix>_<pid>_<counter>` and returns its name.
    pub fn create_database(&self, prefix: &str) -> Result<String, String> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let pid = std::process::id();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = format!("{prefix}_{pid}_{n}");
            let sql = format!("CREATE DATABASE {}", quote_ident(&name));
            match self.psql_admin(&sql) {
                Ok(_) => return Ok(name),
                // Left over from an earlier run by a process with the same pid (Env mode).
                Err(e) if e.contains("already exists") && n < 1000 => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs `sql` with `psql` in database `dbname` and returns its trimmed output (unaligned,
    /// tuples only).
    pub fn psql(&self, dbname: &str, sql: &str) -> Result<String, String> {
        match self {
            PgServer::Env(_) => psql_url(&self.url_for(dbname), sql),
            PgServer::Local(cluster) => cluster.psql(dbname, sql),
        }
    }

    /// The local cluster, if this server is one.
    pub fn local(&self) -> Option<&PgCluster> {
        match self {
            PgServer::Env(_) => None,
            PgServer::Local(cluster) => Some(cluster),
        }
    }

    /// Runs `sql` in the administrative database.
    fn psql_admin(&self, sql: &str) -> Result<String, String> {
        match self {
            PgServer::Env(url) => psql_url(url, sql),
            PgServer::Local(cluster) => cluster.psql("postgres", sql),
        }
    }
}

/// Why [`server`] has no server.
#[derive(Debug)]
enum Unavailable {
    /// Nothing to use (no URL, no binaries): skip, or fail under CI.
    Absent(String),
    /// The binaries are there but the cluster did not start: always a failure.
    Broken(String),
}

/// The server for this test process: the one in `DBCONFIG_TEST_PG_URL` if set, else one shared
/// local cluster started on first use.
///
/// Returns `None`, after printing why, when neither is possible; panics instead when `CI` is
/// `true` or `1`. Panics when the binaries exist but the cluster does not start.
pub fn server() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Result<PgServer, Unavailable>> = OnceLock::new();
    match SERVER.get_or_init(init_server) {
        Ok(server) => Some(server),
        Err(Unavailable::Absent(reason)) => skip(reason),
        Err(Unavailable::Broken(error)) => panic!("could not start a local PostgreSQL: {error}"),
    }
}

/// A private cluster started with `opts`, for tests that restart the server or need special
/// configuration.
///
/// Returns `None`, after printing why, when the binaries are missing (panics instead under
/// `CI=true`); panics when the cluster does not start.
pub fn own_cluster(opts: ClusterOptions) -> Option<PgCluster> {
    if let Err(reason) = toolchain() {
        return skip(reason);
    }
    match PgCluster::start(opts) {
        Ok(cluster) => Some(cluster),
        Err(e) => panic!("could not start a PostgreSQL cluster: {e}"),
    }
}

/// Whether the tests run under CI (`CI=true` or `CI=1`), where a missing server is an error.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Reports that there is no server: panics under CI, else prints the reason and returns `None`.
fn skip<T>(reason: &str) -> Option<T> {
    if in_ci() {
        panic!("no PostgreSQL under CI: {reason}");
    }
    eprintln!("skipping: no PostgreSQL ({reason})");
    None
}

/// Picks the env URL or starts the shared local cluster.
fn init_server() -> Result<PgServer, Unavailable> {
    if let Some(url) = std::env::var(URL_ENV).ok().filter(|u| !u.trim().is_empty()) {
        return Ok(PgServer::Env(url.trim().to_owned()));
    }
    if let Err(reason) = toolchain() {
        return Err(Unavailable::Absent(format!("{URL_ENV} unset and {reason}")));
    }
    PgCluster::start(ClusterOptions::default())
        .map(PgServer::Local)
        .map_err(Unavailable::Broken)
}

/// The PostgreSQL binaries and how to run the server-side ones.
#[derive(Debug)]
struct Toolchain {
    /// Directory holding `initdb`, `pg_ctl`, `postgres`, `psql`.
    bin: PathBuf,
    /// Set when running as root: the server commands run as this OS user.
    run_as: Option<RunAs>,
}

/// An OS user to run the server as, through `runuser`.
#[derive(Debug)]
struct RunAs {
    /// Path of `runuser`.
    runuser: PathBuf,
    /// User name.
    user: String,
    /// Its uid.
    uid: u32,
    /// Its primary gid.
    gid: u32,
}

impl Toolchain {
    /// A command running the server-side tool `tool` (as the server user when root), with a
    /// clean `PG*` environment and stdin from `/dev/null`.
    fn server_command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        let mut cmd = match &self.run_as {
            Some(r) => {
                let mut cmd = Command::new(&r.runuser);
                cmd.args(["-u", &r.user, "--"]).arg(exe);
                cmd
            }
            None => Command::new(exe),
        };
        scrub_pg_env(&mut cmd);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Gives `path` to the server user (no-op unless root).
    fn chown(&self, path: &Path) -> Result<(), String> {
        match &self.run_as {
            Some(r) => std::os::unix::fs::chown(path, Some(r.uid), Some(r.gid))
                .map_err(|e| format!("chown {} to {}: {e}", path.display(), r.user)),
            None => Ok(()),
        }
    }

    /// The shell command (quoted) that stops the cluster in `data` immediately.
    fn stop_immediately_shell(&self, data: &Path) -> String {
        let pg_ctl = shell_quote(&self.bin.join("pg_ctl").to_string_lossy());
        let prefix = match &self.run_as {
            Some(r) => format!(
                "{} -u {} -- ",
                shell_quote(&r.runuser.to_string_lossy()),
                shell_quote(&r.user)
            ),
            None => String::new(),
        };
        format!(
            "{prefix}{pg_ctl} -D {} -m immediate -w -t {PG_CTL_TIMEOUT} stop",
            shell_quote(&data.to_string_lossy())
        )
    }
}

/// The binaries and server user, found once per process.
fn toolchain() -> Result<&'static Toolchain, &'static str> {
    static TOOLS: OnceLock<Result<Toolchain, String>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            let bin = bin_dir()?.to_path_buf();
            let run_as = if current_uid() == Some(0) {
                Some(server_user()?)
            } else {
                None
            };
            Ok(Toolchain { bin, run_as })
        })
        .as_ref()
        .map_err(String::as_str)
}

/// The directory of the PostgreSQL binaries: `DBCONFIG_PG_BIN`, else the highest
/// `/usr/lib/postgresql/<version>/bin` with an `initdb`, else the directory of `initdb` on
/// `PATH`.
fn bin_dir() -> Result<&'static Path, String> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(dir) = std::env::var_os(BIN_ENV).filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            return if dir.join("initdb").is_file() {
                Ok(dir)
            } else {
                Err(format!("{BIN_ENV}={} has no initdb", dir.display()))
            };
        }
        let mut best: Option<(Vec<u32>, PathBuf)> = None;
        if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(version) = parse_version(&name.to_string_lossy()) else {
                    continue;
                };
                let bin = entry.path().join("bin");
                if bin.join("initdb").is_file() && best.as_ref().is_none_or(|(v, _)| version > *v) {
                    best = Some((version, bin));
                }
            }
        }
        if let Some((_, bin)) = best {
            return Ok(bin);
        }
        find_on_path("initdb")
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .ok_or_else(|| {
                "no initdb under /usr/lib/postgresql/*/bin or on PATH (set DBCONFIG_PG_BIN)"
                    .to_owned()
            })
    })
    .as_deref()
    .map_err(Clone::clone)
}

/// `"15"` → `[15]`, `"9.6"` → `[9, 6]`; `None` for anything else.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// The user `postgres` and `runuser`, needed to run the server when we are root.
fn server_user() -> Result<RunAs, String> {
    let runuser = [
        "/usr/sbin/runuser",
        "/sbin/runuser",
        "/usr/bin/runuser",
        "/bin/runuser",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
    .or_else(|| find_on_path("runuser"))
    .ok_or("running as root and no runuser to run the server as another user")?;
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, OS_USER]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok(RunAs {
            runuser,
            user: OS_USER.to_owned(),
            uid,
            gid,
        }),
        _ => Err(format!(
            "running as root and no OS user `{OS_USER}` to run the server as"
        )),
    }
}

/// This process's uid, from `id -u`.
fn current_uid() -> Option<u32> {
    let out = Command::new("id").arg("-u").output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// The first executable file named `name` in a `PATH` directory.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// A `psql` command with the common flags (`-X -q -A -t -v ON_ERROR_STOP=1`), from the bin
/// directory or `PATH`.
fn psql_command() -> Result<Command, String> {
    let psql = bin_dir()
        .ok()
        .map(|dir| dir.join("psql"))
        .filter(|p| p.is_file())
        .or_else(|| find_on_path("psql"))
        .ok_or("no psql in the PostgreSQL bin directory or on PATH")?;
    let mut cmd = Command::new(psql);
    cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .stdin(Stdio::null());
    Ok(cmd)
}

/// Runs `sql` with `psql` against the connection URL `url`.
fn psql_url(url: &str, sql: &str) -> Result<String, String> {
    let mut cmd = psql_command()?;
    if std::env::var_os("PGCONNECT_TIMEOUT").is_none() {
        cmd.env("PGCONNECT_TIMEOUT", "10");
    }
    cmd.arg("-d").arg(url).arg("-c").arg(sql);
    run(&mut cmd)
}

/// Removes every `PG*` variable (PGDATA, PGPORT, PGSSLMODE, ...) from `cmd`'s environment, so
/// the caller's settings cannot redirect or break commands aimed at a local cluster.
fn scrub_pg_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
}

/// Runs `cmd` to completion; `Ok(trimmed stdout)` on success, else an error with the command
/// (passwords in URLs masked), its exit status, stderr and stdout.
fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{} failed ({}):\n{}\n{}",
            describe(cmd),
            out.status,
            stderr.trim(),
            stdout
        ))
    }
}

/// `cmd`'s program and arguments, space-separated, with URL passwords masked.
fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|arg| redact_url(&arg.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `s` with the password of a `scheme://user:password@host` URL replaced by `***`.
fn redact_url(s: &str) -> String {
    let Some(start) = s.find("://").map(|i| i + 3) else {
        return s.to_owned();
    };
    let authority_end = s[start..]
        .find(['/', '?', '#'])
        .map_or(s.len(), |i| start + i);
    let Some(at) = s[start..authority_end].rfind('@').map(|i| start + i) else {
        return s.to_owned();
    };
    match s[start..at].find(':').map(|i| start + i) {
        Some(colon) => format!("{}***{}", &s[..=colon], &s[at..]),
        None => s.to_owned(),
    }
}

/// `pg_ctl -w -t 60 -D data -l log start`, with the tail of the log in the error.
fn pg_ctl_start(tools: &Toolchain, data: &Path, log: &Path, root: &Path) -> Result<(), String> {
    let mut cmd = tools.server_command("pg_ctl");
    cmd.args(["-w", "-t", PG_CTL_TIMEOUT, "-D"])
        .arg(data)
        .arg("-l")
        .arg(log)
        .arg("start")
        .current_dir(root);
    run(&mut cmd).map(drop).map_err(|e| {
        format!(
            "{e}\n--- last lines of {} ---\n{}",
            log.display(),
            tail_of_file(log, LOG_TAIL_LINES)
        )
    })
}

/// Whether the server log says the port was in use.
fn port_taken(log: &Path) -> bool {
    let text = fs::read_to_string(log).unwrap_or_default();
    text.contains("could not bind") || text.contains("Address already in use")
}

/// Stops the cluster under `root` with `pg_ctl -m immediate`, if it seems to be running.
fn stop_immediately(tools: &Toolchain, root: &Path) {
    let data = root.join("data");
    if data.join("postmaster.pid").exists() {
        let mut cmd = tools.server_command("pg_ctl");
        cmd.arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "-t", PG_CTL_TIMEOUT, "stop"])
            .current_dir("/");
        let _ = run(&mut cmd);
    }
}

/// Removes a cluster directory (stopping its server) when dropped while armed.
struct DirGuard {
    /// How to run `pg_ctl`.
    tools: &'static Toolchain,
    /// The directory.
    root: PathBuf,
    /// Cleared once the directory is handed over to a [`PgCluster`].
    armed: bool,
}

impl DirGuard {
    /// A new cluster directory ([`make_root_dir`]) and the guard that removes it (and stops a
    /// half-started server) on every early return.
    fn new(tools: &'static Toolchain) -> Result<(PathBuf, DirGuard), String> {
        let root = make_root_dir(tools)?;
        let guard = DirGuard {
            tools,
            root: root.clone(),
            armed: true,
        };
        Ok((root, guard))
    }
}

impl Drop for DirGuard {
    /// Stops the server, if any, and removes the directory.
    fn drop(&mut self) {
        if self.armed {
            stop_immediately(self.tools, &self.root);
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

/// Creates a fresh, private (0700) directory for a cluster, owned by the server user.
///
/// It lives in `std::env::temp_dir()`, or in `/tmp` if that path is too long for a Unix
/// socket or, when root, not reachable by the server user.
fn make_root_dir(tools: &Toolchain) -> Result<PathBuf, String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut base = std::env::temp_dir();
    let reachable = tools.run_as.is_none()
        || base
            .metadata()
            .is_ok_and(|m| m.permissions().mode() & 0o001 != 0);
    // Room for "/dbcpg-<pid>-<n>-<nanos>/.s.PGSQL.<port>.lock" within the 107-byte limit.
    if base.as_os_str().len() > 50 || !reachable {
        base = PathBuf::from("/tmp");
    }
    for _ in 0..100 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("dbcpg-{}-{n}-{nanos}", std::process::id()));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                let made = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                    .map_err(|e| format!("chmod {}: {e}", dir.display()))
                    .and_then(|()| tools.chown(&dir));
                if let Err(e) = made {
                    let _ = fs::remove_dir_all(&dir);
                    return Err(e);
                }
                return Ok(dir);
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("creating {}: {e}", dir.display())),
        }
    }
    Err(format!(
        "could not create a unique directory in {}",
        base.display()
    ))
}

/// `postgresql.conf`: initdb's file, then our settings, then the caller's lines, then the port.
fn cluster_conf(base: &str, socket_dir: &Path, extra: &[String], port: u16) -> String {
    let socket_dir = socket_dir.to_string_lossy().replace('\'', "''");
    let mut conf = format!(
        "{base}\n# dbconfig test cluster\n\
         listen_addresses = '{HOST}'\n\
         unix_socket_directories = '{socket_dir}'\n\
         fsync = off\n\
         max_connections = 200\n\
         shared_buffers = 32MB\n"
    );
    if !extra.is_empty() {
        conf.push_str("# ClusterOptions::conf\n");
        for line in extra {
            conf.push_str(line);
            conf.push('\n');
        }
    }
    conf.push_str(&format!("port = {port}\n"));
    conf
}

/// Overwrites an existing file (keeping its owner and mode).
fn read_text(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn write_existing(path: &Path, contents: &[u8]) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Writes a new file with mode 0600, owned by the server user.
fn write_private_file(tools: &Toolchain, path: &Path, contents: &[u8]) -> Result<(), String> {
    let err = |e: std::io::Error| format!("writing {}: {e}", path.display());
    // Missing parent directories, outermost last; each one is created 0700 and chowned.
    let missing: Vec<&Path> = path
        .ancestors()
        .skip(1)
        .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
        .collect();
    for dir in missing.into_iter().rev() {
        fs::DirBuilder::new().mode(0o700).create(dir).map_err(err)?;
        tools.chown(dir)?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    file.write_all(contents).map_err(err)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(err)?;
    tools.chown(path)
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    TcpListener::bind((HOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// Starts the watchdog: `sh` blocking on its stdin, which on EOF (this process is gone, or
/// the cluster was dropped) stops the server and removes `root`. On SIGTERM it cleans up too.
fn spawn_watchdog(
    tools: &Toolchain,
    root: &Path,
    data: &Path,
) -> Result<(Child, ChildStdin), String> {
    let script = format!(
        "trap '' INT HUP QUIT PIPE TSTP TTIN TTOU\n\
         trap : TERM\n\
         while read -r _; do :; done\n\
         {} >/dev/null 2>&1\n\
         rm -rf -- {}\n",
        tools.stop_immediately_shell(data),
        shell_quote(&root.to_string_lossy())
    );
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .current_dir("/")
        .process_group(0);
    scrub_pg_env(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting the watchdog shell: {e}"))?;
    match child.stdin.take() {
        Some(stdin) => Ok((child, stdin)),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err("the watchdog has no stdin".to_owned())
        }
    }
}

/// The last `lines` lines of a text file (empty if unreadable).
fn tail_of_file(path: &Path, lines: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `s` in single quotes for `sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `s` as a double-quoted SQL identifier.
fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `url` with its path replaced by `/<dbname>`; scheme, authority, query and fragment kept.
fn replace_url_path(url: &str, dbname: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let tail = &rest[authority_len..];
    let path_len = tail.find(['?', '#']).unwrap_or(tail.len());
    format!(
        "{}/{}{}",
        &url[..authority_start + authority_len],
        percent_encode(dbname),
        &tail[path_len..]
    )
}
