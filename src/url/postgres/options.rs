//! The libpq connection parameters that become tokio-postgres settings, typed. Each key is
//! parsed here and only here: `postgres::connect` copies the fields, so a parameter can never be
//! accepted by the parser and refused at connect.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use super::super::error::UrlError;
use super::super::params;

/// `target_session_attrs`: which server of a host list a connection may settle on.
///
/// `any`, `read-write` and `read-only` are checked by tokio-postgres (`transaction_read_only`);
/// `primary`, `standby` and `prefer-standby` by dbconfig after connecting
/// (`pg_is_in_recovery()`), host by host in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TargetSessionAttrs {
    /// Any server (libpq's default).
    Any,
    /// A server that accepts writes.
    ReadWrite,
    /// A server in read-only mode.
    ReadOnly,
    /// A server not in recovery (not a standby).
    Primary,
    /// A server in recovery (a streaming or log-shipping standby).
    Standby,
    /// A standby when one of the hosts is, otherwise any server.
    PreferStandby,
}

impl TargetSessionAttrs {
    /// The libpq spelling (`read-write`, `prefer-standby`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TargetSessionAttrs::Any => "any",
            TargetSessionAttrs::ReadWrite => "read-write",
            TargetSessionAttrs::ReadOnly => "read-only",
            TargetSessionAttrs::Primary => "primary",
            TargetSessionAttrs::Standby => "standby",
            TargetSessionAttrs::PreferStandby => "prefer-standby",
        }
    }
}

/// `channel_binding`: SCRAM channel binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelBinding {
    /// Never use it.
    Disable,
    /// Use it when the server offers it (libpq's default).
    Prefer,
    /// Fail unless it is used.
    Require,
}

/// `load_balance_hosts`: the order hosts are tried in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoadBalanceHosts {
    /// In the given order (libpq's default).
    Disable,
    /// In random order.
    Random,
}

/// `sslnegotiation`: how TLS is started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SslNegotiation {
    /// PostgreSQL's own request first (libpq's default).
    Postgres,
    /// TLS at once (PostgreSQL 17+).
    Direct,
}

/// The connection parameters of a [`PostgresUrl`](super::PostgresUrl) besides hosts, ports,
/// user, password, database, TLS files and server settings. `None` / empty: not given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PgOptions {
    /// `hostaddr`: addresses to connect to, one per host (no name lookup).
    pub hostaddr: Vec<IpAddr>,
    /// `connect_timeout`, whole seconds (0: wait without limit, as libpq).
    pub connect_timeout: Option<Duration>,
    /// `tcp_user_timeout`, in milliseconds as libpq reads it.
    pub tcp_user_timeout: Option<Duration>,
    /// `keepalives`.
    pub keepalives: Option<bool>,
    /// `keepalives_idle`, whole seconds.
    pub keepalives_idle: Option<Duration>,
    /// `keepalives_interval`, whole seconds.
    pub keepalives_interval: Option<Duration>,
    /// `keepalives_retries`.
    pub keepalives_retries: Option<u32>,
    /// `target_session_attrs`.
    pub target_session_attrs: Option<TargetSessionAttrs>,
    /// `channel_binding`.
    pub channel_binding: Option<ChannelBinding>,
    /// `load_balance_hosts`.
    pub load_balance_hosts: Option<LoadBalanceHosts>,
    /// `sslnegotiation`.
    pub sslnegotiation: Option<SslNegotiation>,
    /// `options`: command-line options sent at startup (`-c name=value …`).
    pub options: Option<String>,
    /// `application_name`.
    pub application_name: Option<String>,
}

/// The keys [`PgOptions::apply`] takes.
pub(super) const KEYS: &[&str] = &[
    "hostaddr",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
    "sslnegotiation",
    "options",
    "application_name",
];

const SECONDS: &str = "a non-negative integer number of seconds";

impl PgOptions {
    /// Parses `value` for `key` (one of [`KEYS`], lowercase; `spelled` is how the input wrote
    /// it, for the error).
    pub(super) fn apply(
        &mut self,
        key: &str,
        spelled: &str,
        value: String,
    ) -> Result<(), UrlError> {
        let bad = |expected| UrlError::invalid(spelled, &value, expected);
        let whole = |expected| {
            value
                .parse::<u64>()
                .ok()
                .filter(|_| params::is_digits(&value))
                .ok_or_else(|| bad(expected))
        };
        match key {
            "hostaddr" => {
                self.hostaddr = value
                    .split(',')
                    .map(|a| a.parse().ok())
                    .collect::<Option<_>>()
                    .ok_or_else(|| bad("a comma-separated list of ip addresses"))?;
            }
            "connect_timeout" => self.connect_timeout = Some(Duration::from_secs(whole(SECONDS)?)),
            "keepalives_idle" => self.keepalives_idle = Some(Duration::from_secs(whole(SECONDS)?)),
            "keepalives_interval" => {
                self.keepalives_interval = Some(Duration::from_secs(whole(SECONDS)?));
            }
            "tcp_user_timeout" => {
                let ms = whole("a non-negative integer number of milliseconds")?;
                self.tcp_user_timeout = Some(Duration::from_millis(ms));
            }
            "keepalives" => {
                self.keepalives = Some(match value.as_str() {
                    "0" => false,
                    "1" => true,
                    _ => return Err(bad("0 or 1")),
                });
            }
            "keepalives_retries" => {
                let n = whole("a non-negative integer")?;
                self.keepalives_retries =
                    Some(u32::try_from(n).map_err(|_| bad("a non-negative integer"))?);
            }
            "target_session_attrs" => {
                self.target_session_attrs = Some(match lower(&value).as_str() {
                    "any" => TargetSessionAttrs::Any,
                    "read-write" => TargetSessionAttrs::ReadWrite,
                    "read-only" => TargetSessionAttrs::ReadOnly,
                    "primary" => TargetSessionAttrs::Primary,
                    "standby" => TargetSessionAttrs::Standby,
                    "prefer-standby" => TargetSessionAttrs::PreferStandby,
                    _ => {
                        return Err(bad(
                            "one of any, read-write, read-only, primary, standby, prefer-standby",
                        ));
                    }
                });
            }
            "channel_binding" => {
                self.channel_binding = Some(match lower(&value).as_str() {
                    "disable" => ChannelBinding::Disable,
                    "prefer" => ChannelBinding::Prefer,
                    "require" => ChannelBinding::Require,
                    _ => return Err(bad("one of disable, prefer, require")),
                });
            }
            "load_balance_hosts" => {
                self.load_balance_hosts = Some(match lower(&value).as_str() {
                    "disable" => LoadBalanceHosts::Disable,
                    "random" => LoadBalanceHosts::Random,
                    _ => return Err(bad("one of disable, random")),
                });
            }
            "sslnegotiation" => {
                self.sslnegotiation = Some(match lower(&value).as_str() {
                    "postgres" => SslNegotiation::Postgres,
                    "direct" => SslNegotiation::Direct,
                    _ => return Err(bad("one of postgres, direct")),
                });
            }
            "options" => self.options = Some(value),
            "application_name" => self.application_name = Some(value),
            other => unreachable!("{other} is not one of options::KEYS"),
        }
        Ok(())
    }

    /// The parameters as `(key, value)`, in a fixed order, canonically spelled: what a url
    /// shows and what parses back to equal options.
    #[must_use]
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let secs = |d: &Option<Duration>| d.map(|d| d.as_secs().to_string());
        let mut out = Vec::new();
        let mut push = |key, value: Option<String>| {
            if let Some(value) = value {
                out.push((key, value));
            }
        };
        if !self.hostaddr.is_empty() {
            let mut list = String::new();
            for (i, addr) in self.hostaddr.iter().enumerate() {
                let sep = if i > 0 { "," } else { "" };
                let _ = write!(list, "{sep}{addr}");
            }
            push("hostaddr", Some(list));
        }
        push("connect_timeout", secs(&self.connect_timeout));
        push(
            "tcp_user_timeout",
            self.tcp_user_timeout.map(|d| d.as_millis().to_string()),
        );
        push(
            "keepalives",
            self.keepalives
                .map(|on| if on { "1" } else { "0" }.to_owned()),
        );
        push("keepalives_idle", secs(&self.keepalives_idle));
        push("keepalives_interval", secs(&self.keepalives_interval));
        push(
            "keepalives_retries",
            self.keepalives_retries.map(|n| n.to_string()),
        );
        push(
            "target_session_attrs",
            self.target_session_attrs.map(|t| t.as_str().to_owned()),
        );
        push(
            "channel_binding",
            self.channel_binding.map(|c| {
                match c {
                    ChannelBinding::Disable => "disable",
                    ChannelBinding::Prefer => "prefer",
                    ChannelBinding::Require => "require",
                }
                .to_owned()
            }),
        );
        push(
            "load_balance_hosts",
            self.load_balance_hosts.map(|l| {
                match l {
                    LoadBalanceHosts::Disable => "disable",
                    LoadBalanceHosts::Random => "random",
                }
                .to_owned()
            }),
        );
        push(
            "sslnegotiation",
            self.sslnegotiation.map(|s| {
                match s {
                    SslNegotiation::Postgres => "postgres",
                    SslNegotiation::Direct => "direct",
                }
                .to_owned()
            }),
        );
        push("options", self.options.clone());
        push("application_name", self.application_name.clone());
        out
    }
}

fn lower(value: &str) -> String {
    value.to_ascii_lowercase()
}
