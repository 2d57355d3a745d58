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
        for pair in libpq::parse_pairs(s)? {
            let libpq::Pair {
                key,
                value,
                at,
                after_bare_password,
            } = pair;
            let applied = builder.apply(&key, value);
            if after_bare_password {
                applied.map_err(|e| hide_password_fragment(e, at))?;
            } else {
                applied?;
            }
        }
        builder.finish()
    }
}

/// An error about a key=value pair that follows an unquoted password, with the pair's text
/// left out: it may be the rest of a password with a space (`password=correct horse=battery`).
/// Known keywords are still named (they are not secret); their values and unknown keywords
/// are not.
fn hide_password_fragment(error: UrlError, at: usize) -> UrlError {
    match error {
        UrlError::UnknownParameter { .. } => UrlError::malformed(
            "key=value",
            format!(
                "unknown keyword at byte {at}, after an unquoted password (not shown: it may be \
                 part of the password; quote a password that has spaces: password='…')"
            ),
        ),
        UrlError::InvalidParameter { key, expected, .. } => UrlError::InvalidParameter {
            key,
            value: "***".to_owned(),
            expected,
        },
        UrlError::InvalidPort { .. } => UrlError::InvalidPort {
            value: "***".to_owned(),
        },
        other => other,
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
            "connect_timeout" | "keepalives_idle" | "keepalives_interval" => {
                if !params::is_digits(&value) || value.parse::<i64>().is_err() {
                    return Err(bad("a non-negative integer number of seconds"));
                }
                value
            }
            // Milliseconds, as libpq.
            "tcp_user_timeout" => {
                if !params::is_digits(&value) || value.parse::<i64>().is_err() {
                    return Err(bad("a non-negative integer number of milliseconds"));
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
mod tests;
