//! Cross-dialect tests: dispatch, round trips, redaction, and a small
//! deterministic fuzzer for the `parse(to_url(x)) == x` invariant.

use super::*;

const PW: &str = "s3cr3t-PW";

/// Expected dialect, `is_inmemory()` and `redacted()` of a successful parse.
type Expected<'a> = Result<(Dialect, bool, &'a str), UrlError>;

#[test]
fn dispatch() {
    let long = "a".repeat(100_000);
    let long_scheme = format!("{long}://x");
    // A table of inputs and what each must give: its rows are alike by design (the
    // `duplicates` tool pairs them, and pairs them with the other parsers' tables).
    let cases: Vec<(&str, Expected)> = vec![
        (
            "sqlite:///a.db",
            Ok((Dialect::Sqlite, false, "sqlite:///a.db")),
        ),
        ("sqlite::memory:", Ok((Dialect::Sqlite, true, "sqlite://"))),
        (
            "file:x.db?mode=ro",
            Ok((Dialect::Sqlite, false, "sqlite:///x.db?mode=ro")),
        ),
        (
            "sqlite+aiosqlite:///file:m?mode=memory&cache=shared&uri=true",
            Ok((
                Dialect::Sqlite,
                true,
                "sqlite:///m?mode=memory&cache=shared&uri=true",
            )),
        ),
        (
            "postgresql://u:s3cr3t-PW@h/db",
            Ok((Dialect::Postgres, false, "postgresql://u:***@h/db")),
        ),
        (
            "postgres+asyncpg://u:s3cr3t-PW@h:5433/db?ssl=true",
            Ok((
                Dialect::Postgres,
                false,
                "postgresql://u:***@h:5433/db?sslmode=require",
            )),
        ),
        (
            "host=h user=u password=s3cr3t-PW dbname=d",
            Ok((Dialect::Postgres, false, "postgresql://u:***@h/d")),
        ),
        (
            " \t host = h",
            Ok((Dialect::Postgres, false, "postgresql://h")),
        ),
        ("", Err(UrlError::Empty)),
        (" \n\t ", Err(UrlError::Empty)),
        (
            "mysql://u:s3cr3t-PW@h/db",
            Err(UrlError::unknown_dialect("mysql")),
        ),
        (
            "mssql+pyodbc://u:s3cr3t-PW@dsn",
            Err(UrlError::unknown_dialect("mssql+pyodbc")),
        ),
        ("oracle://h", Err(UrlError::unknown_dialect("oracle"))),
        (
            "http://example.com/x.db",
            Err(UrlError::unknown_dialect("http")),
        ),
        ("sqlite3:///x", Err(UrlError::unknown_dialect("sqlite3"))),
        ("/tmp/x.db", Err(UrlError::unknown_dialect(""))),
        ("/tmp/x.db?mode=ro", Err(UrlError::unknown_dialect(""))),
        ("C:\\x.db", Err(UrlError::unknown_dialect("c"))),
        ("key", Err(UrlError::unknown_dialect(""))),
        ("\u{0}", Err(UrlError::unknown_dialect(""))),
        ("δ://x", Err(UrlError::unknown_dialect(""))),
        (long.as_str(), Err(UrlError::unknown_dialect(""))),
        (long_scheme.as_str(), Err(UrlError::unknown_dialect(&long))),
        (
            "=value",
            Err(UrlError::malformed(
                "key=value",
                "missing keyword before '=' at byte 0",
            )),
        ),
        (
            "sqlite+aio.sqlite:///x",
            Err(UrlError::invalid_driver(Dialect::Sqlite, "aio.sqlite")),
        ),
        ("file+x:y", Err(UrlError::unknown_dialect("file+x"))),
    ];
    for (input, expected) in cases {
        check(input, expected);
    }
}

#[test]
fn redaction() {
    let url: ConnectionUrl = "postgresql://u:s3cr3t-PW@h/db".parse().expect("valid");
    assert_eq!(
        format!("{url:?}"),
        "ConnectionUrl(\"postgresql://u:***@h/db\")"
    );
    assert_eq!(url.to_string(), "postgresql://u:***@h/db");
    assert_eq!(url.to_url(), "postgresql://u:s3cr3t-PW@h/db");
    let pg = url.as_postgres().expect("postgres");
    assert_eq!(pg.password(), Some(PW));
    for shown in [
        format!("{pg:?}"),
        pg.to_string(),
        pg.redacted(),
        format!("{url:#?}"),
    ] {
        assert!(!shown.contains(PW), "{shown}");
    }
    let reparsed: ConnectionUrl = url.redacted().parse().expect("valid");
    assert!(!reparsed.to_url().contains(PW));
    assert_eq!(url.as_sqlite(), None);
    let lite: ConnectionUrl = "sqlite:///a.db".parse().expect("valid");
    assert_eq!(format!("{lite:?}"), "ConnectionUrl(\"sqlite:///a.db\")");
    assert_eq!(lite.as_postgres(), None);
    assert_eq!(Dialect::Postgres.to_string(), "postgresql");
    assert_eq!(Dialect::Sqlite.name(), "sqlite");
}

/// SQLAlchemy's SQLCipher urls: the key is read, kept out of every printed form, and the url
/// round-trips through `to_url`.
#[test]
fn sqlcipher_urls() {
    const KEY: &str = "k3y/with:odd@chars";
    for (input, path) in [
        (
            "sqlite+pysqlcipher://:k3y%2Fwith%3Aodd%40chars@/app.db",
            Some("app.db"),
        ),
        (
            "sqlite+pysqlcipher://:k3y%2Fwith%3Aodd%40chars@//srv/app.db",
            Some("/srv/app.db"),
        ),
        ("sqlite+pysqlcipher://:k3y%2Fwith%3Aodd%40chars@", None),
    ] {
        let url: ConnectionUrl = input.parse().expect(input);
        let lite = url.as_sqlite().expect("sqlite");
        assert!(lite.is_sqlcipher());
        assert_eq!(lite.key().map(crate::url::SqliteKey::expose), Some(KEY));
        assert_eq!(lite.path().and_then(|p| p.to_str()), path, "{input}");
        for shown in [
            format!("{url:?}"),
            url.to_string(),
            url.redacted(),
            format!("{lite:#?}"),
        ] {
            assert!(!shown.contains("k3y"), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
        let again: ConnectionUrl = url.to_url().parse().expect("round trip");
        assert_eq!(again, url, "{input}");
    }
    // No key in the url: the settings give it.
    let url: ConnectionUrl = "sqlite+pysqlcipher:///app.db".parse().expect("valid");
    let lite = url.as_sqlite().expect("sqlite");
    assert!(lite.is_sqlcipher() && lite.key().is_none());
    assert_eq!(url.to_url(), "sqlite+pysqlcipher:///app.db");
    for bad in [
        "sqlite+pysqlcipher://:@/a.db",
        "sqlite+pysqlcipher://me:pw@/a.db",
    ] {
        let err = bad.parse::<ConnectionUrl>().expect_err(bad);
        assert!(!format!("{err}").contains("pw"), "{err}");
    }
}

/// A tiny xorshift generator, so the fuzz test is deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % 1_000_003).unwrap_or(0)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = self.next() % items.len();
        items.get(i).copied().unwrap_or("")
    }
}

const PREFIXES: &[&str] = &[
    "sqlite:",
    "sqlite://",
    "sqlite:///",
    "sqlite:////",
    "sqlite+x:///",
    "file:",
    "file://",
    "file:///",
    "postgresql://",
    "postgres://",
    "postgresql+asyncpg://",
    "host=",
    "",
    " ",
];

const FRAGMENTS: &[&str] = &[
    "a",
    "b.db",
    "/",
    "//",
    "?",
    "&",
    "=",
    ":",
    "@",
    ",",
    "[",
    "]",
    "%",
    "%2F",
    "%41",
    "%25",
    "%3A",
    "%3F",
    "%40",
    "%00",
    "%0A",
    "%C3%A9",
    "%zz",
    "é",
    "δ",
    " ",
    "'",
    "\\",
    "+",
    "#",
    ":memory:",
    "file:",
    "localhost",
    "mode=memory",
    "mode=ro",
    "cache=shared",
    "vfs=memdb",
    "uri=true",
    "timeout=1.5",
    "immutable=1",
    "host=",
    "/tmp",
    "port=",
    "5432",
    "5433",
    "::1",
    "user=",
    "password=",
    "dbname=",
    "sslmode=require",
    "ssl=true",
    "sslrootcert=",
    "default_transaction_isolation=read+committed",
    "application_name=",
    "hostaddr=",
    "1.2.3.4",
    "options=",
    "u:p@",
    "h1,h2",
    "[::1]",
    "'quoted value'",
    " port=1",
    " host=h",
];

#[test]
fn fuzz_round_trip() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for _ in 0..40_000 {
        let mut input = rng.pick(PREFIXES).to_owned();
        for _ in 0..(rng.next() % 10) {
            input.push_str(rng.pick(FRAGMENTS));
        }
        let Ok(url) = input.parse::<ConnectionUrl>() else {
            continue;
        };
        parsed += 1;
        let canonical = url.to_url();
        assert_eq!(
            canonical.parse::<ConnectionUrl>().as_ref(),
            Ok(&url),
            "{input:?} -> {canonical}"
        );
        assert_eq!(
            canonical.parse::<ConnectionUrl>().map(|u| u.to_url()),
            Ok(canonical.clone())
        );
        let redacted = url.redacted();
        let again = redacted.parse::<ConnectionUrl>();
        assert!(again.is_ok(), "{input:?} -> {redacted}");
        if url.as_postgres().and_then(PostgresUrl::password).is_some() {
            let shown = again
                .ok()
                .and_then(|u| u.as_postgres()?.password().map(str::to_owned));
            assert_eq!(shown.as_deref(), Some("***"), "{input:?}");
        }
    }
    assert!(parsed > 1_000, "only {parsed} inputs parsed");
}

fn check(input: &str, expected: Expected) {
    let got = input.parse::<ConnectionUrl>();
    match (&got, &expected) {
        (Ok(url), Ok((dialect, inmemory, redacted))) => {
            assert_eq!(url.dialect(), *dialect, "{input}");
            assert_eq!(url.is_inmemory(), *inmemory, "{input}");
            assert_eq!(url.redacted(), *redacted, "{input}");
            assert_eq!(
                url.to_url().parse::<ConnectionUrl>().as_ref(),
                Ok(url),
                "{input}"
            );
            assert!(!url.redacted().contains(PW) && !format!("{url:?}").contains(PW));
        }
        _ => {
            assert_eq!(got.err(), expected.err(), "{input}");
        }
    }
    if let Err(error) = input.parse::<ConnectionUrl>() {
        assert!(!error.to_string().contains(PW) && !format!("{error:?}").contains(PW));
    }
}
