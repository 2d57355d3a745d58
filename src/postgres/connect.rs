//! The URL and [`Settings`] become one `tokio_postgres::Config`, plus the SQL run right after
//! connecting in PgBouncer mode and the TLS plan.

use std::time::Duration;

use tokio_postgres::config as pg;

use super::tls::TlsPlan;
use crate::error::{Error, Result};
use crate::settings::{PostgresSettings, Settings};
use crate::url::{
    ChannelBinding, LoadBalanceHosts, PgHost, PgOptions, PostgresUrl, SslNegotiation,
    TargetSessionAttrs,
};

/// Everything needed to open one connection.
#[derive(Debug)]
pub(crate) struct ConnectPlan {
    pub(crate) pg_config: tokio_postgres::Config,
    /// Run with the simple protocol right after connecting (PgBouncer mode).
    pub(crate) after_connect: Option<String>,
    pub(crate) tls: Option<TlsPlan>,
    /// `target_session_attrs` that dbconfig checks itself (`primary`, `standby`,
    /// `prefer-standby`), with one config per host, tried in order; `pg_config` then asks
    /// tokio-postgres for any server.
    pub(crate) server_role: Option<(ServerRole, Vec<HostConfig>)>,
}

/// The kind of server a connection must settle on when tokio-postgres cannot check it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServerRole {
    Primary,
    Standby,
    PreferStandby,
}

impl ServerRole {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ServerRole::Primary => "primary",
            ServerRole::Standby => "standby",
            ServerRole::PreferStandby => "prefer-standby",
        }
    }
}

/// One host of a multi-host URL, alone: its `host:port` (for errors) and its config.
#[derive(Debug, Clone)]
pub(crate) struct HostConfig {
    pub(crate) label: String,
    pub(crate) config: tokio_postgres::Config,
}

impl ConnectPlan {
    /// Resolves `url` and `settings`. Nothing is read from disk or the network.
    pub(crate) fn new(url: &PostgresUrl, settings: &Settings) -> Result<Self> {
        // Every PostgreSQL field is named so that a new one cannot be forgotten here; the
        // shared ones used are the connect timeout only (the pool takes the rest).
        let PostgresSettings {
            statement_timeout,
            pool_pre_ping: _,
            application_name,
            search_path,
            prepared_statement_cache_size: _,
            pgbouncer_mode,
            tls,
            // Each replica gets a plan of its own (the engine builds them).
            replica_urls: _,
        } = &settings.postgres;
        let connection_timeout = &settings.connection_timeout;

        // Everything but the hosts, ports and host addresses, which `with_hosts` adds.
        let mut config = tokio_postgres::Config::new();
        if let Some(user) = url.user() {
            config.user(user);
        }
        if let Some(password) = url.password() {
            config.password(password);
        }
        if let Some(dbname) = url.dbname() {
            config.dbname(dbname);
        }
        if let Some(limit) = connection_timeout.filter(|d| !d.is_zero()) {
            config.connect_timeout(limit);
        }

        apply_options(&mut config, url.options());
        if let Some(name) = application_name {
            config.application_name(name);
        }

        // Server settings: startup `options` normally, `set_config` after connecting behind
        // PgBouncer (which rejects the `options` startup parameter).
        let mut server_settings: Vec<(&str, String)> = Vec::new();
        if let Some(limit) = statement_timeout {
            server_settings.push(("statement_timeout", millis(*limit).to_string()));
        }
        if let Some(path) = search_path {
            server_settings.push(("search_path", path.clone()));
        }
        for (name, value) in url.server_settings() {
            server_settings.push((name.as_str(), value.clone()));
        }
        let mut after_connect = None;
        let mut options = url.options().options.clone().unwrap_or_default();
        if *pgbouncer_mode {
            if !server_settings.is_empty() {
                after_connect = Some(set_config_sql(&server_settings)?);
            }
        } else {
            for (name, value) in &server_settings {
                if value.contains('\0') {
                    return Err(nul(name));
                }
                if !options.is_empty() {
                    options.push(' ');
                }
                options.push_str("-c ");
                options.push_str(name);
                options.push('=');
                push_option_escaped(&mut options, value);
            }
        }
        if !options.is_empty() {
            config.options(options);
        }

        let tls = TlsPlan::resolve(url.tls(), tls)?;
        config.ssl_mode(match &tls {
            Some(plan) => plan.ssl_mode(),
            None => tokio_postgres::config::SslMode::Disable,
        });
        let server_role = match url.options().target_session_attrs {
            Some(TargetSessionAttrs::Primary) => Some(ServerRole::Primary),
            Some(TargetSessionAttrs::Standby) => Some(ServerRole::Standby),
            Some(TargetSessionAttrs::PreferStandby) => Some(ServerRole::PreferStandby),
            _ => None,
        }
        .map(|role| (role, one_per_host(&config, url)));
        Ok(ConnectPlan {
            pg_config: with_hosts(config, url, None),
            after_connect,
            tls,
            server_role,
        })
    }
}

/// `config` with the url's hosts, ports and host addresses: all of them, or only host `only`.
fn with_hosts(
    mut config: tokio_postgres::Config,
    url: &PostgresUrl,
    only: Option<usize>,
) -> tokio_postgres::Config {
    let wanted = |i: usize| only.is_none_or(|only| only == i);
    for (i, host) in url.hosts().iter().enumerate().filter(|(i, _)| wanted(*i)) {
        match host {
            PgHost::Tcp(name) => config.host(name),
            PgHost::Unix(dir) => config.host_path(dir),
        };
        if let Some(addr) = url.options().hostaddr.get(i) {
            config.hostaddr(*addr);
        }
    }
    // One port for every host, or one per host (the url parser checked the counts).
    let ports = url.ports();
    for (i, port) in ports.iter().enumerate() {
        if ports.len() == 1 || wanted(i) {
            config.port(*port);
        }
    }
    if only.is_none() {
        // Host addresses without host names (`?hostaddr=…` alone).
        for addr in url.options().hostaddr.iter().skip(url.hosts().len()) {
            config.hostaddr(*addr);
        }
    }
    config
}

/// One config per host of `url` (or one with tokio-postgres's default host when it names none).
fn one_per_host(base: &tokio_postgres::Config, url: &PostgresUrl) -> Vec<HostConfig> {
    let hosts = url.hosts();
    if hosts.is_empty() {
        let config = with_hosts(base.clone(), url, None);
        return vec![HostConfig {
            label: "the default host".to_owned(),
            config,
        }];
    }
    (0..hosts.len())
        .map(|i| {
            let config = with_hosts(base.clone(), url, Some(i));
            let host = match &hosts[i] {
                PgHost::Tcp(name) => name.clone(),
                PgHost::Unix(dir) => dir.display().to_string(),
            };
            let port = config.get_ports().first().copied().unwrap_or(5432);
            HostConfig {
                label: format!("{host}:{port}"),
                config,
            }
        })
        .collect()
}

/// Copies the url's typed connection parameters (parsed and checked by the url parser; nothing
/// here can refuse one). Zero durations mean "no limit", as in libpq.
fn apply_options(config: &mut tokio_postgres::Config, o: &PgOptions) {
    let some = |d: Option<Duration>| d.filter(|d| !d.is_zero());
    if let Some(limit) = some(o.connect_timeout) {
        config.connect_timeout(limit);
    }
    if let Some(limit) = some(o.tcp_user_timeout) {
        config.tcp_user_timeout(limit);
    }
    if let Some(on) = o.keepalives {
        config.keepalives(on);
    }
    if let Some(d) = some(o.keepalives_idle) {
        config.keepalives_idle(d);
    }
    if let Some(d) = some(o.keepalives_interval) {
        config.keepalives_interval(d);
    }
    if let Some(n) = o.keepalives_retries {
        config.keepalives_retries(n);
    }
    if let Some(attrs) = o.target_session_attrs {
        config.target_session_attrs(match attrs {
            TargetSessionAttrs::ReadWrite => pg::TargetSessionAttrs::ReadWrite,
            TargetSessionAttrs::ReadOnly => pg::TargetSessionAttrs::ReadOnly,
            // Checked by dbconfig after connecting (`ServerRole`).
            TargetSessionAttrs::Any
            | TargetSessionAttrs::Primary
            | TargetSessionAttrs::Standby
            | TargetSessionAttrs::PreferStandby => pg::TargetSessionAttrs::Any,
        });
    }
    if let Some(binding) = o.channel_binding {
        config.channel_binding(match binding {
            ChannelBinding::Disable => pg::ChannelBinding::Disable,
            ChannelBinding::Require => pg::ChannelBinding::Require,
            ChannelBinding::Prefer => pg::ChannelBinding::Prefer,
        });
    }
    if let Some(order) = o.load_balance_hosts {
        config.load_balance_hosts(match order {
            LoadBalanceHosts::Random => pg::LoadBalanceHosts::Random,
            LoadBalanceHosts::Disable => pg::LoadBalanceHosts::Disable,
        });
    }
    if let Some(negotiation) = o.sslnegotiation {
        config.ssl_negotiation(match negotiation {
            SslNegotiation::Direct => pg::SslNegotiation::Direct,
            SslNegotiation::Postgres => pg::SslNegotiation::Postgres,
        });
    }
    if let Some(name) = &o.application_name {
        config.application_name(name);
    }
}

fn millis(d: Duration) -> u128 {
    match d.as_millis() {
        // A sub-millisecond limit would read as 0 = no limit.
        0 if !d.is_zero() => 1,
        ms => ms,
    }
}

fn nul(name: &str) -> Error {
    Error::Unsupported {
        key: name.to_owned(),
        reason: "contains a NUL byte".into(),
    }
}

/// In the startup `options`, whitespace separates arguments and a backslash escapes the next
/// character. <https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-OPTIONS>
fn push_option_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        if c.is_whitespace() || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
}

/// `SELECT set_config('name', 'value', false), …` as one simple-protocol statement: no prepared
/// statement, one round trip, safe behind PgBouncer in transaction mode.
fn set_config_sql(settings: &[(&str, String)]) -> Result<String> {
    let mut sql = String::from("SELECT ");
    for (i, (name, value)) in settings.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str("set_config(");
        push_literal(&mut sql, name).map_err(|()| nul(name))?;
        sql.push_str(", ");
        push_literal(&mut sql, value).map_err(|()| nul(name))?;
        sql.push_str(", false)");
    }
    Ok(sql)
}

/// An `E'…'` string literal: quotes and backslashes escaped, correct whatever
/// `standard_conforming_strings` is.
fn push_literal(out: &mut String, value: &str) -> std::result::Result<(), ()> {
    if value.contains('\0') {
        return Err(());
    }
    out.push_str("E'");
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(url: &str, settings: Settings) -> ConnectPlan {
        let url: PostgresUrl = url.parse().unwrap();
        ConnectPlan::new(&url, &settings).unwrap()
    }

    #[test]
    fn server_settings_go_in_startup_options() {
        let settings = Settings::new().with_postgres(
            PostgresSettings::default()
                .with_statement_timeout(Some(Duration::from_millis(1500)))
                .with_search_path(Some("my schema, public".into()))
                .with_application_name(Some("app".into())),
        );
        let p = plan(
            "postgresql://u@h/db?default_transaction_isolation=serializable&options=-c%20jit%3Doff",
            settings,
        );
        assert_eq!(
            p.pg_config.get_options(),
            Some(
                "-c jit=off -c statement_timeout=1500 -c search_path=my\\ schema,\\ public \
                 -c default_transaction_isolation=serializable"
            )
        );
        assert_eq!(p.pg_config.get_application_name(), Some("app"));
        assert!(p.after_connect.is_none());
        assert!(p.tls.is_none());
    }

    #[test]
    fn pgbouncer_mode_uses_set_config() {
        let settings = Settings::new().with_postgres(
            PostgresSettings::default()
                .with_statement_timeout(Some(Duration::from_secs(1)))
                .with_search_path(Some("it's\\odd".into()))
                .with_pgbouncer_mode(true),
        );
        let p = plan("postgresql://u@h/db", settings);
        assert_eq!(p.pg_config.get_options(), None);
        assert_eq!(
            p.after_connect.as_deref(),
            Some(
                "SELECT set_config(E'statement_timeout', E'1000', false), \
                 set_config(E'search_path', E'it''s\\\\odd', false)"
            )
        );
    }

    #[test]
    fn libpq_parameters_are_passed_through() {
        let p = plan(
            "postgresql://u@h/db?keepalives=1&keepalives_idle=30&tcp_user_timeout=2500\
             &connect_timeout=3&target_session_attrs=read-write&application_name=url-app",
            Settings::default(),
        );
        let c = &p.pg_config;
        assert_eq!(c.get_tcp_user_timeout(), Some(&Duration::from_millis(2500)));
        assert_eq!(c.get_keepalives_idle(), Duration::from_secs(30));
        assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(
            c.get_target_session_attrs(),
            pg::TargetSessionAttrs::ReadWrite
        );
        assert_eq!(c.get_application_name(), Some("url-app"));
    }

    #[test]
    fn server_roles_get_one_config_per_host() {
        let p = plan(
            "postgresql://u@a,b,%2Frun%2Fpg/db?target_session_attrs=prefer-standby\
             &hostaddr=10.0.0.1,10.0.0.2,10.0.0.3&port=5433,5434,5435",
            Settings::default(),
        );
        // tokio-postgres is asked for any server of all hosts; dbconfig checks each itself.
        assert_eq!(
            p.pg_config.get_target_session_attrs(),
            pg::TargetSessionAttrs::Any
        );
        assert_eq!(p.pg_config.get_hosts().len(), 3);
        assert_eq!(p.pg_config.get_hostaddrs().len(), 3);
        let (role, hosts) = p.server_role.as_ref().unwrap();
        assert_eq!(*role, ServerRole::PreferStandby);
        let labels: Vec<_> = hosts.iter().map(|h| h.label.as_str()).collect();
        assert_eq!(labels, ["a:5433", "b:5434", "/run/pg:5435"]);
        for (i, host) in hosts.iter().enumerate() {
            assert_eq!(host.config.get_hosts(), &p.pg_config.get_hosts()[i..=i]);
            assert_eq!(host.config.get_ports(), &p.pg_config.get_ports()[i..=i]);
            assert_eq!(
                host.config.get_hostaddrs(),
                &p.pg_config.get_hostaddrs()[i..=i]
            );
            assert_eq!(host.config.get_user(), Some("u"));
        }
        // One port for every host.
        let p = plan(
            "postgresql://h1,h2/db?target_session_attrs=primary&port=6000",
            Settings::default(),
        );
        let (_, hosts) = p.server_role.as_ref().unwrap();
        assert!(hosts.iter().all(|h| h.config.get_ports() == [6000]));
        assert!(
            plan(
                "postgresql://h/db?target_session_attrs=read-only",
                Settings::default()
            )
            .server_role
            .is_none()
        );
    }

    #[test]
    fn no_timeout_sends_nothing() {
        let mut settings = Settings::default();
        settings.postgres.statement_timeout = None;
        assert_eq!(
            plan("postgresql://h/db", settings).pg_config.get_options(),
            None
        );
    }
}
