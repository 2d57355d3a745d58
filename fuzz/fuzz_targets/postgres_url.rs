//! Near-valid PostgreSQL URLs and libpq key=value strings, built from parts, so the fuzzer gets
//! past the scheme and deep into hosts, ports, userinfo, percent-encoding and parameters.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[path = "check.rs"]
mod check;

#[derive(Arbitrary, Debug)]
enum Scheme {
    Postgresql,
    Postgres,
    Asyncpg,
    Psycopg,
    Upper,
    EmptyDriver,
    Other(String),
}

/// A piece of text, optionally percent-encoded.
#[derive(Arbitrary, Debug)]
struct Part {
    text: String,
    encode: bool,
}

impl Part {
    fn render(&self) -> String {
        if !self.encode {
            return self.text.clone();
        }
        self.text
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }
}

#[derive(Arbitrary, Debug)]
enum Host {
    Name(Part),
    Ipv4([u8; 4]),
    Ipv6([u16; 8]),
    Ipv6Text(String),
    Unix(Part),
    Empty,
}

impl Host {
    fn render(&self) -> String {
        match self {
            Host::Name(p) => p.render(),
            Host::Ipv4(a) => format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]),
            Host::Ipv6(s) => format!("[{}]", std::net::Ipv6Addr::from(*s)),
            Host::Ipv6Text(t) => format!("[{t}]"),
            Host::Unix(p) => format!("%2F{}", p.render()),
            Host::Empty => String::new(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Key {
    Sslmode,
    Ssl,
    Sslrootcert,
    Sslcert,
    Sslkey,
    Host,
    Port,
    User,
    Password,
    Dbname,
    Options,
    ApplicationName,
    DefaultTransactionIsolation,
    ConnectTimeout,
    Keepalives,
    KeepalivesIdle,
    TcpUserTimeout,
    TargetSessionAttrs,
    ChannelBinding,
    LoadBalanceHosts,
    Hostaddr,
    Unknown(String),
}

impl Key {
    fn name(&self) -> String {
        match self {
            Key::Sslmode => "sslmode",
            Key::Ssl => "ssl",
            Key::Sslrootcert => "sslrootcert",
            Key::Sslcert => "sslcert",
            Key::Sslkey => "sslkey",
            Key::Host => "host",
            Key::Port => "port",
            Key::User => "user",
            Key::Password => "password",
            Key::Dbname => "dbname",
            Key::Options => "options",
            Key::ApplicationName => "application_name",
            Key::DefaultTransactionIsolation => "default_transaction_isolation",
            Key::ConnectTimeout => "connect_timeout",
            Key::Keepalives => "keepalives",
            Key::KeepalivesIdle => "keepalives_idle",
            Key::TcpUserTimeout => "tcp_user_timeout",
            Key::TargetSessionAttrs => "target_session_attrs",
            Key::ChannelBinding => "channel_binding",
            Key::LoadBalanceHosts => "load_balance_hosts",
            Key::Hostaddr => "hostaddr",
            Key::Unknown(k) => return k.clone(),
        }
        .to_owned()
    }
}

#[derive(Arbitrary, Debug)]
enum Value {
    Text(Part),
    Known(u8),
    Number(u32),
}

const KNOWN: &[&str] = &[
    "disable", "allow", "prefer", "require", "verify-ca", "verify-full", "true", "false", "0",
    "1", "read committed", "serializable", "any", "read-write", "read-only", "primary", "standby",
    "prefer-standby", "random", "system",
    "-c statement_timeout=5", "127.0.0.1,::1",
];

impl Value {
    fn render(&self) -> String {
        match self {
            Value::Text(p) => p.render(),
            Value::Known(i) => KNOWN[*i as usize % KNOWN.len()].to_owned(),
            Value::Number(n) => n.to_string(),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    scheme: Scheme,
    user: Option<Part>,
    password: Option<Part>,
    hosts: Vec<(Host, Option<u16>)>,
    db: Option<Part>,
    params: Vec<(Key, Value)>,
    key_value: bool,
    quote: bool,
}

fn url(input: &Input) -> String {
    let scheme = match &input.scheme {
        Scheme::Postgresql => "postgresql".to_owned(),
        Scheme::Postgres => "postgres".to_owned(),
        Scheme::Asyncpg => "postgresql+asyncpg".to_owned(),
        Scheme::Psycopg => "postgres+psycopg".to_owned(),
        Scheme::Upper => "POSTGRESQL".to_owned(),
        Scheme::EmptyDriver => "postgresql+".to_owned(),
        Scheme::Other(s) => s.clone(),
    };
    let mut out = format!("{scheme}://");
    if input.user.is_some() || input.password.is_some() {
        if let Some(u) = &input.user {
            out.push_str(&u.render());
        }
        if let Some(p) = &input.password {
            out.push(':');
            out.push_str(&p.render());
        }
        out.push('@');
    }
    let hosts: Vec<String> = input
        .hosts
        .iter()
        .map(|(h, port)| match port {
            Some(p) => format!("{}:{p}", h.render()),
            None => h.render(),
        })
        .collect();
    out.push_str(&hosts.join(","));
    if let Some(db) = &input.db {
        out.push('/');
        out.push_str(&db.render());
    }
    for (i, (k, v)) in input.params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&k.name());
        out.push('=');
        out.push_str(&v.render());
    }
    out
}

fn key_value(input: &Input) -> String {
    let quote = |v: &str| {
        if input.quote || v.is_empty() || v.contains(' ') {
            format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
        } else {
            v.to_owned()
        }
    };
    let mut parts = Vec::new();
    if let Some(u) = &input.user {
        parts.push(format!("user={}", quote(&u.text)));
    }
    if let Some(p) = &input.password {
        parts.push(format!("password={}", quote(&p.text)));
    }
    for (h, port) in &input.hosts {
        parts.push(format!("host={}", quote(&h.render())));
        if let Some(p) = port {
            parts.push(format!("port={p}"));
        }
    }
    if let Some(db) = &input.db {
        parts.push(format!("dbname={}", quote(&db.text)));
    }
    for (k, v) in &input.params {
        parts.push(format!("{}={}", k.name(), quote(&v.render())));
    }
    parts.join(" ")
}

fuzz_target!(|input: Input| {
    let text = if input.key_value {
        key_value(&input)
    } else {
        url(&input)
    };
    check::check_url(&text);
});
