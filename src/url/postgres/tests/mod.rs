use super::parse::Builder;
use super::*;
use crate::url::Dialect;

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
        self.options.apply(key, key, value.to_owned()).unwrap();
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
    // A table of inputs and what each must give: its rows are alike by design (the
    // `duplicates` tool pairs them, and pairs them with the other parsers' tables).
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
fn rendering() {
    let url: PostgresUrl = "host=/tmp,::1,h port=1,2,3 user='a b' password='p@ss/w?rd' dbname=d"
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

/// Item 10: after an unquoted password, the next words may be the rest of a password with a
/// space in it; no error repeats them.
mod key_value;
