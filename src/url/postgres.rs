//! PostgreSQL urls (`postgresql://user:pass@host:5432/db?param=value`) and
//! libpq key=value strings (`host=localhost dbname=app`). See the
//! [module docs](super) for the accepted forms.

use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use super::error::UrlError;
use super::params::{self, COMPONENT, IPV6_HOST, QUERY_VALUE};
use super::{Dialect, Scheme, libpq};

/// The port libpq uses when none is given.
const DEFAULT_PORT: u16 = 5432;

/// One PostgreSQL host.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PgHost {
    /// A host name or IP address (IPv6 without brackets).
    Tcp(String),
    /// The directory of a unix-domain socket (a host starting with `/`).
    Unix(PathBuf),
}

impl PgHost {
    fn from_decoded(host: String) -> Self {
        if host.starts_with('/') {
            Self::Unix(PathBuf::from(host))
        } else {
            Self::Tcp(host)
        }
    }

    /// The host as written in a url authority: percent-encoded, IPv6 in brackets.
    fn url_form(&self) -> String {
        match self {
            Self::Tcp(host) if host.contains(':') => {
                format!("[{}]", params::encode(host, IPV6_HOST))
            }
            Self::Tcp(host) => params::encode(host, COMPONENT),
            Self::Unix(path) => params::encode(&path.to_string_lossy(), COMPONENT),
        }
    }
}

const SSLMODES: &str = "one of disable, allow, prefer, require, verify-ca, verify-full";

/// The libpq `sslmode` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SslMode {
    /// `disable`: never TLS.
    Disable,
    /// `allow`: plain first, TLS if the server insists.
    Allow,
    /// `prefer`: TLS if the server supports it.
    Prefer,
    /// `require`: TLS, without certificate checks.
    Require,
    /// `verify-ca`: TLS, the server certificate must chain to a trusted CA.
    VerifyCa,
    /// `verify-full`: as `verify-ca`, and the host name must match.
    VerifyFull,
}

impl SslMode {
    /// The parameter value, e.g. `"verify-full"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Allow => "allow",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "disable" => Some(Self::Disable),
            "allow" => Some(Self::Allow),
            "prefer" => Some(Self::Prefer),
            "require" => Some(Self::Require),
            "verify-ca" => Some(Self::VerifyCa),
            "verify-full" => Some(Self::VerifyFull),
            _ => None,
        }
    }
}

impl FromStr for SslMode {
    type Err = UrlError;

    /// Parses a mode case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UrlError::invalid("sslmode", s, SSLMODES))
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The libpq TLS parameters tokio-postgres does not take itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PgTlsParams {
    /// `sslmode` (or its alias `ssl`).
    pub sslmode: Option<SslMode>,
    /// `sslrootcert`: the CA certificate file.
    pub sslrootcert: Option<PathBuf>,
    /// `sslcert`: the client certificate file.
    pub sslcert: Option<PathBuf>,
    /// `sslkey`: the client key file.
    pub sslkey: Option<PathBuf>,
}

/// A parsed PostgreSQL url. `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PostgresUrl {
    hosts: Vec<PgHost>,
    ports: Vec<u16>,
    user: Option<String>,
    password: Option<String>,
    dbname: Option<String>,
    tls: PgTlsParams,
    server_settings: Vec<(String, String)>,
    params: Vec<(String, String)>,
}

impl PostgresUrl {
    /// The hosts, in order (empty: libpq's default).
    pub fn hosts(&self) -> &[PgHost] {
        &self.hosts
    }

    /// The ports: empty, one for every host, or one per host.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// The user name.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The password.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The database name.
    pub fn dbname(&self) -> Option<&str> {
        self.dbname.as_deref()
    }

    /// `sslmode`, `sslrootcert`, `sslcert` and `sslkey`.
    pub fn tls(&self) -> &PgTlsParams {
        &self.tls
    }

    /// Server settings to send at startup: `default_transaction_isolation`.
    pub fn server_settings(&self) -> &[(String, String)] {
        &self.server_settings
    }

    /// The remaining libpq parameters (keys lowercase), in input order.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The canonical `postgresql://` url, password included: parsing it
    /// gives back an equal value.
    pub fn to_url(&self) -> String {
        self.render(false)
    }

    /// The canonical url with the password replaced by `***`.
    pub fn redacted(&self) -> String {
        self.render(true)
    }

    fn render(&self, redact: bool) -> String {
        let mut out = String::from("postgresql://");
        if self.user.is_some() || self.password.is_some() {
            if let Some(user) = &self.user {
                out.push_str(&params::encode(user, COMPONENT));
            }
            if let Some(password) = &self.password {
                out.push(':');
                if redact {
                    out.push_str("***");
                } else {
                    out.push_str(&params::encode(password, COMPONENT));
                }
            }
            out.push('@');
        }
        let inline_ports = !self.hosts.is_empty() && self.ports.len() == self.hosts.len();
        for (i, host) in self.hosts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&host.url_form());
            if let Some(port) = self.ports.get(i).filter(|_| inline_ports) {
                let _ = write!(out, ":{port}");
            }
        }
        if let Some(dbname) = &self.dbname {
            out.push('/');
            out.push_str(&params::encode(dbname, COMPONENT));
        }
        let mut query: Vec<(&str, String)> = Vec::new();
        if !inline_ports && !self.ports.is_empty() {
            let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
            query.push(("port", ports.join(",")));
        }
        query.extend(self.params.iter().map(|(k, v)| (k.as_str(), v.clone())));
        if let Some(mode) = self.tls.sslmode {
            query.push(("sslmode", mode.as_str().to_owned()));
        }
        let files = [
            ("sslrootcert", &self.tls.sslrootcert),
            ("sslcert", &self.tls.sslcert),
            ("sslkey", &self.tls.sslkey),
        ];
        for (key, path) in files {
            if let Some(path) = path {
                query.push((key, path.to_string_lossy().into_owned()));
            }
        }
        query.extend(
            self.server_settings
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone())),
        );
        for (i, (key, value)) in query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(key);
            out.push('=');
            out.push_str(&params::encode(value, QUERY_VALUE));
        }
        out
    }

    /// Parses what follows `postgres:` / `postgresql:` (with any driver).
    pub(crate) fn parse_url(rest: &str) -> Result<Self, UrlError> {
        params::check_url_chars(rest)?;
        let Some(rest) = rest.strip_prefix("//") else {
            return Err(UrlError::malformed(
                "url",
                "expected \"//\" after the postgresql scheme",
            ));
        };
        let (before_query, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let (authority, path) = match before_query.find('/') {
            Some(slash) => before_query
                .split_at_checked(slash)
                .unwrap_or((before_query, "")),
            None => (before_query, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        // Without user info, a later raw '@' suggests a password holding a raw
        // '/' or '?' ended the authority early: never echo what follows.
        let stray_at =
            userinfo.is_none() && (path.contains('@') || query.is_some_and(|q| q.contains('@')));
        let mut builder = Builder::new();
        if let Some(userinfo) = userinfo {
            builder.userinfo(userinfo)?;
        }
        if let Err(error) = builder.authority_hosts(hostport) {
            return Err(if stray_at {
                UrlError::malformed(
                    "authority",
                    "invalid host or port (percent-encode '/', '?' and '@' in the user name and password)",
                )
            } else {
                error
            });
        }
        if let Some(dbname) = path.strip_prefix('/') {
            if stray_at && dbname.contains('@') {
                return Err(UrlError::malformed(
                    "dbname",
                    "raw '@' in the database name (percent-encode it as %40, and '/' in a password as %2F)",
                ));
            }
            let dbname = params::decode(dbname, "dbname")?;
            builder.set_dbname(dbname)?;
        }
        for (key, raw) in params::split_query(query.unwrap_or(""))? {
            let value = if key == "default_transaction_isolation" {
                params::decode_plus(raw, "query")?
            } else {
                params::decode(raw, "query")?
            };
            builder.apply(&key, value)?;
        }
        builder.finish()
    }

    /// Parses a libpq key=value string.
    pub(crate) fn parse_key_value(s: &str) -> Result<Self, UrlError> {
        let mut builder = Builder::new();
        for (key, value) in libpq::parse_pairs(s)? {
            builder.apply(&key, value)?;
        }
        builder.finish()
    }
}

/// Every key [`Builder::apply`] accepts (`ssl` is mapped to `sslmode` first).
const KNOWN_KEYS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "sslmode",
    "sslnegotiation",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
    "default_transaction_isolation",
];

/// Collects url parts and parameters, rejecting anything given twice.
struct Builder {
    url: PostgresUrl,
    seen: Vec<&'static str>,
    hostaddrs: usize,
}

impl Builder {
    fn new() -> Self {
        Self {
            url: PostgresUrl {
                hosts: Vec::new(),
                ports: Vec::new(),
                user: None,
                password: None,
                dbname: None,
                tls: PgTlsParams::default(),
                server_settings: Vec::new(),
                params: Vec::new(),
            },
            seen: Vec::new(),
            hostaddrs: 0,
        }
    }

    fn mark(&mut self, key: &'static str) -> Result<(), UrlError> {
        if self.seen.contains(&key) {
            return Err(UrlError::duplicate(key));
        }
        self.seen.push(key);
        Ok(())
    }

    fn userinfo(&mut self, userinfo: &str) -> Result<(), UrlError> {
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        let user = params::decode(user, "user")?;
        if !user.is_empty() {
            self.mark("user")?;
            self.url.user = Some(user);
        }
        if let Some(password) = password {
            let password = params::decode(password, "password")?;
            if !password.is_empty() {
                self.mark("password")?;
                self.url.password = Some(password);
            }
        }
        Ok(())
    }

    fn set_dbname(&mut self, dbname: String) -> Result<(), UrlError> {
        if !dbname.is_empty() {
            self.mark("dbname")?;
            self.url.dbname = Some(dbname);
        }
        Ok(())
    }

    /// `host[:port],host[:port],…` from the authority; `[v6]` literals allowed.
    fn authority_hosts(&mut self, hostport: &str) -> Result<(), UrlError> {
        if hostport.is_empty() {
            return Ok(());
        }
        let chunks: Vec<&str> = hostport.split(',').collect();
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for chunk in &chunks {
            let (host, port) = match chunk.strip_prefix('[') {
                Some(inner) => {
                    let Some((host, tail)) = inner.split_once(']') else {
                        return Err(UrlError::malformed(
                            "authority",
                            "unclosed '[' in IPv6 host",
                        ));
                    };
                    if host.is_empty() {
                        return Err(UrlError::malformed("host", "empty IPv6 host"));
                    }
                    let port = match tail.strip_prefix(':') {
                        Some(port) => Some(port),
                        None if tail.is_empty() => None,
                        None => {
                            return Err(UrlError::malformed(
                                "authority",
                                "unexpected characters after ']' in IPv6 host",
                            ));
                        }
                    };
                    (host, port)
                }
                None => match chunk.split_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (*chunk, None),
                },
            };
            let host = params::decode(host, "host")?;
            if !host.is_empty() {
                hosts.push(PgHost::from_decoded(host));
            } else if chunks.len() > 1 {
                return Err(UrlError::malformed("host", "empty host in host list"));
            }
            ports.push(match port {
                Some(port) if !port.is_empty() => Some(parse_port(port)?),
                _ => None,
            });
        }
        if !hosts.is_empty() {
            self.mark("host")?;
            self.url.hosts = hosts;
        }
        if ports.iter().any(Option::is_some) {
            self.mark("port")?;
            self.url.ports = ports
                .into_iter()
                .map(|p| p.unwrap_or(DEFAULT_PORT))
                .collect();
        }
        Ok(())
    }

    /// Applies one query or key=value parameter (`key` already lowercase).
    fn apply(&mut self, key: &str, value: String) -> Result<(), UrlError> {
        let canonical = if key == "ssl" { "sslmode" } else { key };
        let Some(&known) = KNOWN_KEYS.iter().find(|k| **k == canonical) else {
            return Err(UrlError::unknown_parameter(Dialect::Postgres, key));
        };
        self.mark(known)?;
        let bad = |expected| UrlError::invalid(key, &value, expected);
        let normalized = match known {
            "host" => {
                self.url.hosts = host_list(&value)?;
                return Ok(());
            }
            "port" => {
                self.url.ports = port_list(&value)?;
                return Ok(());
            }
            "user" | "password" | "dbname" => {
                let value = Some(value).filter(|v| !v.is_empty());
                match known {
                    "user" => self.url.user = value,
                    "password" => self.url.password = value,
                    _ => self.url.dbname = value,
                }
                return Ok(());
            }
            "sslmode" => {
                let mode = match (key, params::parse_bool(&value)) {
                    ("ssl", Some(true)) => Some(SslMode::Require),
                    ("ssl", Some(false)) => Some(SslMode::Disable),
                    _ => SslMode::parse(&value),
                };
                self.url.tls.sslmode = Some(mode.ok_or_else(|| bad(SSLMODES))?);
                return Ok(());
            }
            "sslrootcert" | "sslcert" | "sslkey" => {
                if value.is_empty() {
                    return Err(bad("a file path"));
                }
                let path = Some(PathBuf::from(value));
                match known {
                    "sslrootcert" => self.url.tls.sslrootcert = path,
                    "sslcert" => self.url.tls.sslcert = path,
                    _ => self.url.tls.sslkey = path,
                }
                return Ok(());
            }
            "default_transaction_isolation" => {
                let words: Vec<String> = value
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect();
                let level = words.join(" ");
                let valid = matches!(
                    level.as_str(),
                    "read uncommitted" | "read committed" | "repeatable read" | "serializable"
                );
                if !valid {
                    return Err(bad(
                        "one of read uncommitted, read committed, repeatable read, serializable",
                    ));
                }
                self.url.server_settings.push((known.to_owned(), level));
                return Ok(());
            }
            "hostaddr" => {
                let addrs: Option<Vec<IpAddr>> = value.split(',').map(|a| a.parse().ok()).collect();
                let count = addrs
                    .map(|a| a.len())
                    .ok_or_else(|| bad("a comma-separated list of ip addresses"))?;
                self.hostaddrs = count;
                value
            }
            "connect_timeout" | "tcp_user_timeout" | "keepalives_idle" | "keepalives_interval" => {
                if !params::is_digits(&value) || value.parse::<i64>().is_err() {
                    return Err(bad("a non-negative integer number of seconds"));
                }
                value
            }
            "keepalives" => match value.as_str() {
                "0" | "1" => value,
                _ => return Err(bad("0 or 1")),
            },
            "keepalives_retries" => {
                if !params::is_digits(&value) || value.parse::<u32>().is_err() {
                    return Err(bad("a non-negative integer"));
                }
                value
            }
            "target_session_attrs" => one_of(
                &value,
                &[
                    "any",
                    "read-write",
                    "read-only",
                    "primary",
                    "standby",
                    "prefer-standby",
                ],
            )
            .ok_or_else(|| {
                bad("one of any, read-write, read-only, primary, standby, prefer-standby")
            })?,
            "channel_binding" => one_of(&value, &["disable", "prefer", "require"])
                .ok_or_else(|| bad("one of disable, prefer, require"))?,
            "load_balance_hosts" => one_of(&value, &["disable", "random"])
                .ok_or_else(|| bad("one of disable, random"))?,
            "sslnegotiation" => one_of(&value, &["postgres", "direct"])
                .ok_or_else(|| bad("one of postgres, direct"))?,
            // options, application_name: free text.
            _ => value,
        };
        self.url.params.push((known.to_owned(), normalized));
        Ok(())
    }

    fn finish(self) -> Result<PostgresUrl, UrlError> {
        let url = self.url;
        if self.hostaddrs > 0 && !url.hosts.is_empty() && self.hostaddrs != url.hosts.len() {
            return Err(UrlError::malformed(
                "hostaddr",
                format!(
                    "{} addresses given for {} hosts (expected one per host)",
                    self.hostaddrs,
                    url.hosts.len()
                ),
            ));
        }
        let targets = if url.hosts.is_empty() {
            self.hostaddrs
        } else {
            url.hosts.len()
        };
        if url.ports.len() > 1 && url.ports.len() != targets {
            return Err(UrlError::malformed(
                "port",
                format!(
                    "{} ports given for {targets} hosts (expected one port, or one per host)",
                    url.ports.len()
                ),
            ));
        }
        Ok(url)
    }
}

/// The canonical (lowercase) spelling of `value` if it is one of `allowed`.
fn one_of(value: &str, allowed: &[&str]) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    allowed.contains(&lower.as_str()).then_some(lower)
}

fn parse_port(port: &str) -> Result<u16, UrlError> {
    match port.parse::<u16>() {
        Ok(n) if n != 0 && params::is_digits(port) => Ok(n),
        _ => Err(UrlError::invalid_port(port)),
    }
}

/// A `host` parameter: comma-separated; empty means no host.
fn host_list(value: &str) -> Result<Vec<PgHost>, UrlError> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|host| match host {
            "" => Err(UrlError::malformed("host", "empty host in host list")),
            host => Ok(PgHost::from_decoded(host.to_owned())),
        })
        .collect()
}

/// A `port` parameter: comma-separated; an empty entry in a list means 5432.
fn port_list(value: &str) -> Result<Vec<u16>, UrlError> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|port| match port {
            "" => Ok(DEFAULT_PORT),
            port => parse_port(port),
        })
        .collect()
}

impl FromStr for PostgresUrl {
    type Err = UrlError;

    /// Parses a `postgres://` / `postgresql://` url or a libpq key=value string.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = super::trim(s)?;
        match super::split_scheme(s) {
            Some((scheme, rest)) => match super::classify(scheme)? {
                Scheme::Postgres => Self::parse_url(rest),
                Scheme::Sqlite | Scheme::File => Err(UrlError::malformed(
                    "scheme",
                    "expected a postgresql url, found a sqlite url",
                )),
            },
            None => Self::parse_key_value(s),
        }
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresUrl")
            .field("hosts", &self.hosts)
            .field("ports", &self.ports)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("dbname", &self.dbname)
            .field("tls", &self.tls)
            .field("server_settings", &self.server_settings)
            .field("params", &self.params)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "s3cr3t-PW";

    fn url(hosts: &[&str], ports: &[u16]) -> PostgresUrl {
        let mut url = Builder::new().url;
        url.hosts = hosts
            .iter()
            .map(|h| PgHost::from_decoded((*h).to_owned()))
            .collect();
        url.ports = ports.to_vec();
        url
    }

    impl PostgresUrl {
        fn user_(mut self, user: &str) -> Self {
            self.user = Some(user.to_owned());
            self
        }
        fn pw_(mut self, password: &str) -> Self {
            self.password = Some(password.to_owned());
            self
        }
        fn db_(mut self, dbname: &str) -> Self {
            self.dbname = Some(dbname.to_owned());
            self
        }
        fn param_(mut self, key: &str, value: &str) -> Self {
            self.params.push((key.to_owned(), value.to_owned()));
            self
        }
        fn setting_(mut self, key: &str, value: &str) -> Self {
            self.server_settings
                .push((key.to_owned(), value.to_owned()));
            self
        }
        fn ssl_(mut self, mode: SslMode) -> Self {
            self.tls.sslmode = Some(mode);
            self
        }
    }

    fn malformed(part: &'static str, reason: &str) -> Result<PostgresUrl, UrlError> {
        Err(UrlError::malformed(part, reason))
    }

    fn bad_value(key: &str, value: &str, expected: &'static str) -> Result<PostgresUrl, UrlError> {
        Err(UrlError::invalid(key, value, expected))
    }

    fn bad_port(value: &str) -> Result<PostgresUrl, UrlError> {
        Err(UrlError::invalid_port(value))
    }

    #[test]
    fn url_forms() {
        let long_host = "h".repeat(100_000);
        let long = format!("postgresql://{long_host}/db");
        let long_port = format!("postgresql://h:{}/db", "9".repeat(100_000));
        let cases: Vec<(&str, Result<PostgresUrl, UrlError>)> = vec![
            (
                "postgres://u:s3cr3t-PW@h:5432/db",
                Ok(url(&["h"], &[5432]).user_("u").pw_(PW).db_("db")),
            ),
            ("postgresql://h/db", Ok(url(&["h"], &[]).db_("db"))),
            ("  postgresql://h/db\t", Ok(url(&["h"], &[]).db_("db"))),
            (
                "postgresql+asyncpg://u@h/db",
                Ok(url(&["h"], &[]).user_("u").db_("db")),
            ),
            ("POSTGRES+psycopg://h", Ok(url(&["h"], &[]))),
            (
                "postgresql://user:pa@ss@host/db",
                Ok(url(&["host"], &[]).user_("user").pw_("pa@ss").db_("db")),
            ),
            (
                "postgresql://us%3Aer:p%40%3A%2F%25%24%21%3F%23@h/db",
                Ok(url(&["h"], &[]).user_("us:er").pw_("p@:/%$!?#").db_("db")),
            ),
            (
                "postgresql://u:p$s!w:x@h/db",
                Ok(url(&["h"], &[]).user_("u").pw_("p$s!w:x").db_("db")),
            ),
            ("postgresql://:s3cr3t-PW@h", Ok(url(&["h"], &[]).pw_(PW))),
            ("postgresql://u:@h", Ok(url(&["h"], &[]).user_("u"))),
            (
                "postgresql://h1:5432,h2:5433/db",
                Ok(url(&["h1", "h2"], &[5432, 5433]).db_("db")),
            ),
            (
                "postgresql://h1,h2:5433/db",
                Ok(url(&["h1", "h2"], &[5432, 5433]).db_("db")),
            ),
            (
                "postgresql://h1,h2/db",
                Ok(url(&["h1", "h2"], &[]).db_("db")),
            ),
            ("postgresql://h:/db", Ok(url(&["h"], &[]).db_("db"))),
            (
                "postgresql://[::1]:5432/db",
                Ok(url(&["::1"], &[5432]).db_("db")),
            ),
            (
                "postgresql://[::1],[fe80::1%25eth0]:5433",
                Ok(url(&["::1", "fe80::1%eth0"], &[5432, 5433])),
            ),
            (
                "postgresql://%2Fvar%2Frun%2Fpostgresql/db",
                Ok(url(&["/var/run/postgresql"], &[]).db_("db")),
            ),
            (
                "postgresql:///db?host=/var/run/postgresql",
                Ok(url(&["/var/run/postgresql"], &[]).db_("db")),
            ),
            (
                "postgresql:///db?host=%2Ftmp,h2&port=5432,",
                Ok(url(&["/tmp", "h2"], &[5432, 5432]).db_("db")),
            ),
            ("postgresql:///db", Ok(url(&[], &[]).db_("db"))),
            ("postgresql://", Ok(url(&[], &[]))),
            ("postgresql://:5433/db", Ok(url(&[], &[5433]).db_("db"))),
            (
                "postgresql://h/my%20db%2Fx",
                Ok(url(&["h"], &[]).db_("my db/x")),
            ),
            ("postgresql://h/a/b", Ok(url(&["h"], &[]).db_("a/b"))),
            (
                "postgresql://ü:ñ@hôst/δβ?application_name=ünï",
                Ok(url(&["hôst"], &[])
                    .user_("ü")
                    .pw_("ñ")
                    .db_("δβ")
                    .param_("application_name", "ünï")),
            ),
            (
                "postgresql://h/db?sslmode=verify-full&sslrootcert=/ca.pem&sslcert=c.pem&sslkey=k%20.pem",
                Ok(PostgresUrl {
                    tls: PgTlsParams {
                        sslmode: Some(SslMode::VerifyFull),
                        sslrootcert: Some("/ca.pem".into()),
                        sslcert: Some("c.pem".into()),
                        sslkey: Some("k .pem".into()),
                    },
                    ..url(&["h"], &[]).db_("db")
                }),
            ),
            (
                "postgresql://h?ssl=true",
                Ok(url(&["h"], &[]).ssl_(SslMode::Require)),
            ),
            (
                "postgresql://h?ssl=0",
                Ok(url(&["h"], &[]).ssl_(SslMode::Disable)),
            ),
            (
                "postgresql://h?SSL=Verify-CA",
                Ok(url(&["h"], &[]).ssl_(SslMode::VerifyCa)),
            ),
            (
                "postgresql://h?sslmode=allow",
                Ok(url(&["h"], &[]).ssl_(SslMode::Allow)),
            ),
            (
                "postgresql://h/db?default_transaction_isolation=read+committed",
                Ok(url(&["h"], &[])
                    .db_("db")
                    .setting_("default_transaction_isolation", "read committed")),
            ),
            (
                "postgresql://h?default_transaction_isolation=REPEATABLE%20READ",
                Ok(url(&["h"], &[]).setting_("default_transaction_isolation", "repeatable read")),
            ),
            (
                "postgresql://h?connect_timeout=10&keepalives=1&keepalives_idle=0&target_session_attrs=Read-Write\
                 &channel_binding=require&load_balance_hosts=random&sslnegotiation=direct\
                 &options=-c%20search_path%3Dx&application_name=a+b&tcp_user_timeout=5\
                 &keepalives_interval=3&keepalives_retries=4&hostaddr=127.0.0.1",
                Ok(url(&["h"], &[])
                    .param_("connect_timeout", "10")
                    .param_("keepalives", "1")
                    .param_("keepalives_idle", "0")
                    .param_("target_session_attrs", "read-write")
                    .param_("channel_binding", "require")
                    .param_("load_balance_hosts", "random")
                    .param_("sslnegotiation", "direct")
                    .param_("options", "-c search_path=x")
                    .param_("application_name", "a+b")
                    .param_("tcp_user_timeout", "5")
                    .param_("keepalives_interval", "3")
                    .param_("keepalives_retries", "4")
                    .param_("hostaddr", "127.0.0.1")),
            ),
            (
                "postgresql://h?user=u&password=s3cr3t-PW&dbname=d",
                Ok(url(&["h"], &[]).user_("u").pw_(PW).db_("d")),
            ),
            (
                "postgresql://?hostaddr=10.0.0.1,::1&port=5432,5433",
                Ok(url(&[], &[5432, 5433]).param_("hostaddr", "10.0.0.1,::1")),
            ),
            (
                "postgresql://h1,h2?port=6000",
                Ok(url(&["h1", "h2"], &[6000])),
            ),
            (long.as_str(), Ok(url(&[long_host.as_str()], &[]).db_("db"))),
            // errors
            (
                "postgresql://[::1",
                malformed("authority", "unclosed '[' in IPv6 host"),
            ),
            (
                "postgresql://[::1]x/db",
                malformed("authority", "unexpected characters after ']' in IPv6 host"),
            ),
            ("postgresql://[]/db", malformed("host", "empty IPv6 host")),
            ("postgresql://h:99999/db", bad_port("99999")),
            ("postgresql://h:-1/db", bad_port("-1")),
            (long_port.as_str(), bad_port(&"9".repeat(64))),
            ("postgresql://h:0/db", bad_port("0")),
            ("postgresql://h:+5/db", bad_port("+5")),
            ("postgresql://h:5432:1/db", bad_port("5432:1")),
            (
                "postgresql://h1,,h2/db",
                malformed("host", "empty host in host list"),
            ),
            (
                "postgresql://u:s3cr3t-PW@h/db?sslmode=requir",
                bad_value("sslmode", "requir", SSLMODES),
            ),
            (
                "postgresql://u:s3cr3t-PW@h/db?foo=1",
                Err(UrlError::unknown_parameter(Dialect::Postgres, "foo")),
            ),
            (
                "postgresql://u:s3cr3t-PW@h/db?sslpassword=s3cr3t-PW",
                Err(UrlError::unknown_parameter(
                    Dialect::Postgres,
                    "sslpassword",
                )),
            ),
            (
                "postgresql://h/db?sslmode=require&ssl=true",
                Err(UrlError::duplicate("sslmode")),
            ),
            (
                "postgresql://u@h/db?user=v",
                Err(UrlError::duplicate("user")),
            ),
            (
                "postgresql://h/db?dbname=x",
                Err(UrlError::duplicate("dbname")),
            ),
            (
                "postgresql://h:5432/db?port=5433",
                Err(UrlError::duplicate("port")),
            ),
            ("postgresql://h/db?host=x", Err(UrlError::duplicate("host"))),
            (
                "postgresql://u:s3cr3t-PW@h/db?password=s3cr3t-PW",
                Err(UrlError::duplicate("password")),
            ),
            (
                "postgresql://h?application_name=a&application_name=b",
                Err(UrlError::duplicate("application_name")),
            ),
            (
                "postgresql://h1,h2/db?port=1,2,3",
                malformed(
                    "port",
                    "3 ports given for 2 hosts (expected one port, or one per host)",
                ),
            ),
            (
                "postgresql://h1,h2/db?hostaddr=1.1.1.1",
                malformed(
                    "hostaddr",
                    "1 addresses given for 2 hosts (expected one per host)",
                ),
            ),
            (
                "postgresql://u:s3cr3t-PW%zz@h/db",
                Err(UrlError::InvalidPercentEncoding { part: "password" }),
            ),
            (
                "postgresql://u%zz:p@h/db",
                Err(UrlError::InvalidPercentEncoding { part: "user" }),
            ),
            (
                "postgresql://h%zz/db",
                Err(UrlError::InvalidPercentEncoding { part: "host" }),
            ),
            (
                "postgresql://h/d%zz",
                Err(UrlError::InvalidPercentEncoding { part: "dbname" }),
            ),
            (
                "postgresql://h/db?application_name=%",
                Err(UrlError::InvalidPercentEncoding { part: "query" }),
            ),
            (
                "postgresql://u:s3cr3t-PW%00@h/db",
                Err(UrlError::NulByte { part: "password" }),
            ),
            (
                "postgresql://u:s3cr3t-PW@h/db\0",
                Err(UrlError::NulByte { part: "url" }),
            ),
            (
                "postgresql://u:s3cr3t-PW@h/d\nb",
                malformed("url", "raw control character (percent-encode it)"),
            ),
            (
                "postgresql://u:s3cr3t-PW@h/db#frag",
                malformed(
                    "fragment",
                    "'#' fragments are not supported (percent-encode '#' as %23)",
                ),
            ),
            (
                "postgresql:h/db",
                malformed("url", "expected \"//\" after the postgresql scheme"),
            ),
            (
                "postgresql://u:s3cr3t/PW@h/db",
                malformed(
                    "authority",
                    "invalid host or port (percent-encode '/', '?' and '@' in the user name and password)",
                ),
            ),
            (
                "postgresql://u:s3cr3t?PW@h/db",
                malformed(
                    "authority",
                    "invalid host or port (percent-encode '/', '?' and '@' in the user name and password)",
                ),
            ),
            (
                "postgresql://u:123/s3cr3t-PW@h/db",
                malformed(
                    "dbname",
                    "raw '@' in the database name (percent-encode it as %40, and '/' in a password as %2F)",
                ),
            ),
            (
                "postgresql://u:s3cr3t-PW@h/db?password",
                malformed("query", "a parameter has no '=' (expected key=value)"),
            ),
            (
                "postgresql+://h",
                Err(UrlError::invalid_driver(Dialect::Postgres, "")),
            ),
            (
                "mysql://u:s3cr3t-PW@h/db",
                Err(UrlError::unknown_dialect("mysql")),
            ),
            (
                "sqlite:///x.db",
                malformed("scheme", "expected a postgresql url, found a sqlite url"),
            ),
            (
                "postgresql://h?sslcert=",
                bad_value("sslcert", "", "a file path"),
            ),
            (
                "postgresql://h?default_transaction_isolation=read+uncommited",
                bad_value(
                    "default_transaction_isolation",
                    "read uncommited",
                    "one of read uncommitted, read committed, repeatable read, serializable",
                ),
            ),
            ("", Err(UrlError::Empty)),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }

    #[test]
    fn key_value_forms() {
        let cases: Vec<(&str, Result<PostgresUrl, UrlError>)> = vec![
            (
                "host=localhost port=5432 user=u password='p w\\'q' dbname=d sslmode=verify-full",
                Ok(url(&["localhost"], &[5432])
                    .user_("u")
                    .pw_("p w'q")
                    .db_("d")
                    .ssl_(SslMode::VerifyFull)),
            ),
            (
                "host=h1,h2 port=5432,5433",
                Ok(url(&["h1", "h2"], &[5432, 5433])),
            ),
            ("host=h1,h2 port=6000", Ok(url(&["h1", "h2"], &[6000]))),
            (
                "host=/var/run/postgresql dbname=x",
                Ok(url(&["/var/run/postgresql"], &[]).db_("x")),
            ),
            ("host=::1", Ok(url(&["::1"], &[]))),
            (
                "dbname='my db' application_name='δ é' default_transaction_isolation='Read  Committed'",
                Ok(url(&[], &[])
                    .db_("my db")
                    .param_("application_name", "δ é")
                    .setting_("default_transaction_isolation", "read committed")),
            ),
            (
                "hostaddr=::1 port=5432",
                Ok(url(&[], &[5432]).param_("hostaddr", "::1")),
            ),
            ("user=u password=", Ok(url(&[], &[]).user_("u"))),
            ("Password=s3cr3t-PW", Ok(url(&[], &[]).pw_(PW))),
            (
                "password='a\tb\nc' host='h h'",
                Ok(url(&["h h"], &[]).pw_("a\tb\nc")),
            ),
            (
                "host='unterminated",
                malformed("key=value", "unterminated quoted value of \"host\""),
            ),
            (
                "=value",
                malformed("key=value", "missing keyword before '=' at byte 0"),
            ),
            (
                "key",
                malformed("key=value", "missing '=' after the keyword at byte 0"),
            ),
            (
                "password=my s3cr3t-PW",
                malformed("key=value", "missing '=' after the keyword at byte 12"),
            ),
            ("host=h host=h2", Err(UrlError::duplicate("host"))),
            (
                "password=s3cr3t-PW sslmode=requir",
                bad_value("sslmode", "requir", SSLMODES),
            ),
            (
                "password=s3cr3t-PW connect_timeout=-1",
                bad_value(
                    "connect_timeout",
                    "-1",
                    "a non-negative integer number of seconds",
                ),
            ),
            ("keepalives=2", bad_value("keepalives", "2", "0 or 1")),
            (
                "keepalives_retries=x",
                bad_value("keepalives_retries", "x", "a non-negative integer"),
            ),
            (
                "target_session_attrs=master",
                bad_value(
                    "target_session_attrs",
                    "master",
                    "one of any, read-write, read-only, primary, standby, prefer-standby",
                ),
            ),
            (
                "channel_binding=maybe",
                bad_value(
                    "channel_binding",
                    "maybe",
                    "one of disable, prefer, require",
                ),
            ),
            (
                "load_balance_hosts=rr",
                bad_value("load_balance_hosts", "rr", "one of disable, random"),
            ),
            (
                "sslnegotiation=tls",
                bad_value("sslnegotiation", "tls", "one of postgres, direct"),
            ),
            (
                "hostaddr=1.2.3",
                bad_value(
                    "hostaddr",
                    "1.2.3",
                    "a comma-separated list of ip addresses",
                ),
            ),
            (
                "password=s3cr3t-PW foo=1",
                Err(UrlError::unknown_parameter(Dialect::Postgres, "foo")),
            ),
            ("host=a,,b", malformed("host", "empty host in host list")),
            ("port=0", bad_port("0")),
            ("port=65536", bad_port("65536")),
            (
                "host=a port=1,2",
                malformed(
                    "port",
                    "2 ports given for 1 hosts (expected one port, or one per host)",
                ),
            ),
            (
                "password=s3cr3t-PW\0",
                Err(UrlError::NulByte { part: "key=value" }),
            ),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }

    #[test]
    fn rendering() {
        let url: PostgresUrl =
            "host=/tmp,::1,h port=1,2,3 user='a b' password='p@ss/w?rd' dbname=d"
                .parse()
                .expect("valid");
        assert_eq!(
            url.to_url(),
            "postgresql://a%20b:p%40ss%2Fw%3Frd@%2Ftmp:1,[::1]:2,h:3/d"
        );
        assert_eq!(
            url.redacted(),
            "postgresql://a%20b:***@%2Ftmp:1,[::1]:2,h:3/d"
        );
        assert_eq!(url.to_string(), url.redacted());
        let debug = format!("{url:?}");
        assert!(debug.contains("password: Some(\"***\")"), "{debug}");
        assert!(!debug.contains("p@ss"), "{debug}");
        let url: PostgresUrl = "postgresql://h1,h2?port=6000&sslmode=require"
            .parse()
            .expect("valid");
        assert_eq!(url.to_url(), "postgresql://h1,h2?port=6000&sslmode=require");
        assert_eq!("VERIFY-full".parse::<SslMode>(), Ok(SslMode::VerifyFull));
        assert_eq!(SslMode::VerifyCa.to_string(), "verify-ca");
    }

    fn check(input: &str, expected: Result<PostgresUrl, UrlError>) {
        let got = input.parse::<PostgresUrl>();
        assert_eq!(got, expected, "{input}");
        match got {
            Ok(url) => {
                let again = url.to_url().parse::<PostgresUrl>();
                assert_eq!(again.as_ref(), Ok(&url), "{input} -> {}", url.to_url());
                let redacted = url.redacted().parse::<PostgresUrl>();
                let shown = redacted.as_ref().ok().and_then(PostgresUrl::password);
                assert_eq!(shown, url.password().map(|_| "***"), "{input}");
                if let Some(password) = url.password().filter(|p| p.len() >= 6) {
                    assert!(!url.redacted().contains(password), "{input}");
                    assert!(!format!("{url:?}").contains(password), "{input}");
                    assert!(!url.to_string().contains(password), "{input}");
                }
            }
            Err(error) => {
                assert!(!error.to_string().contains(PW), "{input}: {error}");
                assert!(!format!("{error:?}").contains(PW), "{input}: {error:?}");
            }
        }
    }
}
