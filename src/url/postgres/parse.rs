//! Parsing: a `postgresql://` url or a libpq key=value string into a [`PostgresUrl`]. Each
//! parameter key is matched here once ([`options`](super::options) for the connection
//! parameters).

use std::path::PathBuf;

use super::options;
use super::{DEFAULT_PORT, PgHost, PgTlsParams, PostgresUrl, SSLMODES, SslMode};
use crate::url::error::UrlError;
use crate::url::{Dialect, libpq, params};

impl PostgresUrl {
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

/// The keys [`Builder::apply`] takes besides [`options::KEYS`] (`ssl` is mapped to `sslmode`
/// first).
const URL_KEYS: &[&str] = &[
    "host",
    "port",
    "user",
    "password",
    "dbname",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "default_transaction_isolation",
];

/// Collects url parts and parameters, rejecting anything given twice.
pub(super) struct Builder {
    pub(super) url: PostgresUrl,
    seen: Vec<&'static str>,
}

impl Builder {
    pub(super) fn new() -> Self {
        Self {
            url: PostgresUrl {
                hosts: Vec::new(),
                ports: Vec::new(),
                user: None,
                password: None,
                dbname: None,
                tls: PgTlsParams::default(),
                server_settings: Vec::new(),
                options: Box::default(),
            },
            seen: Vec::new(),
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
        let Some(&known) = (URL_KEYS.iter())
            .chain(options::KEYS)
            .find(|k| **k == canonical)
        else {
            return Err(UrlError::unknown_parameter(Dialect::Postgres, key));
        };
        self.mark(known)?;
        let bad = |expected| UrlError::invalid(key, &value, expected);
        match known {
            "host" => {
                self.url.hosts = host_list(&value)?;
                Ok(())
            }
            "port" => {
                self.url.ports = port_list(&value)?;
                Ok(())
            }
            "user" | "password" | "dbname" => {
                let value = Some(value).filter(|v| !v.is_empty());
                match known {
                    "user" => self.url.user = value,
                    "password" => self.url.password = value,
                    _ => self.url.dbname = value,
                }
                Ok(())
            }
            "sslmode" => {
                let mode = match (key, params::parse_bool(&value)) {
                    ("ssl", Some(true)) => Some(SslMode::Require),
                    ("ssl", Some(false)) => Some(SslMode::Disable),
                    _ => SslMode::parse(&value),
                };
                self.url.tls.sslmode = Some(mode.ok_or_else(|| bad(SSLMODES))?);
                Ok(())
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
                Ok(())
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
                Ok(())
            }
            _ => self.url.options.apply(known, key, value),
        }
    }

    fn finish(self) -> Result<PostgresUrl, UrlError> {
        let url = self.url;
        let hostaddrs = url.options.hostaddr.len();
        if hostaddrs > 0 && !url.hosts.is_empty() && hostaddrs != url.hosts.len() {
            return Err(UrlError::malformed(
                "hostaddr",
                format!(
                    "{hostaddrs} addresses given for {} hosts (expected one per host)",
                    url.hosts.len()
                ),
            ));
        }
        let targets = if url.hosts.is_empty() {
            hostaddrs
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
