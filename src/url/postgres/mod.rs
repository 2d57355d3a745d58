//! PostgreSQL urls (`postgresql://user:pass@host:5432/db?param=value`) and
//! libpq key=value strings (`host=localhost dbname=app`). See the
//! [module docs](super) for the accepted forms.

mod options;
mod parse;

pub use options::{
    ChannelBinding, LoadBalanceHosts, PgOptions, SslNegotiation, TargetSessionAttrs,
};

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::str::FromStr;

use super::Scheme;
use super::error::UrlError;
use super::params::{self, COMPONENT, IPV6_HOST, QUERY_VALUE};

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
    /// Boxed: most urls have none, and `ConnectionUrl` stays small.
    options: Box<PgOptions>,
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

    /// The other connection parameters, typed.
    pub fn options(&self) -> &PgOptions {
        &self.options
    }

    /// The other connection parameters as `(key, value)`, canonically spelled (see
    /// [`PgOptions::params`]).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        self.options.params()
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
        query.extend(self.options.params());
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
}

impl FromStr for PostgresUrl {
    type Err = UrlError;

    /// Parses a `postgres://` / `postgresql://` url or a libpq key=value string.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = super::trim(s)?;
        match super::split_scheme(s) {
            Some((scheme, rest)) => match super::classify(scheme)? {
                Scheme::Postgres => Self::parse_url(rest),
                Scheme::Sqlite | Scheme::SqlCipher | Scheme::File => Err(UrlError::malformed(
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
            .field("options", &self.options)
            .finish()
    }
}

#[cfg(test)]
mod tests;
