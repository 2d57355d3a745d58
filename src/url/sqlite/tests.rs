use super::*;

fn file(path: &str) -> SqliteLocation {
    SqliteLocation::File(PathBuf::from(path))
}

fn mem(name: Option<&str>) -> SqliteLocation {
    SqliteLocation::Memory {
        name: name.map(str::to_owned),
    }
}

/// What a successful parse is expected to give.
struct Want {
    location: SqliteLocation,
    params: &'static [(&'static str, &'static str)],
    inmemory: bool,
    shared: Option<&'static str>,
}

fn ok(
    location: SqliteLocation,
    params: &'static [(&'static str, &'static str)],
    shared: Option<&'static str>,
) -> Result<Want, UrlError> {
    let inmemory = matches!(location, SqliteLocation::Memory { .. });
    Ok(Want {
        location,
        params,
        inmemory,
        shared,
    })
}

fn bad_value(key: &str, value: &str, expected: &'static str) -> Result<Want, UrlError> {
    Err(UrlError::InvalidParameter {
        key: key.into(),
        value: value.into(),
        expected,
    })
}

const BOOL: &str = "a boolean: 0, 1, true, false, yes, no, on or off";

#[test]
fn sqlite_forms() {
    let long = format!("sqlite:///{}", "a".repeat(100_000));
    let long_value = format!("sqlite:///a.db?mode={}", "x".repeat(100_000));
    // A table of inputs and what each must give: its rows are alike by design (the
    // `duplicates` tool pairs them, and pairs them with the other parser's table).
    let cases: Vec<(&str, Result<Want, UrlError>)> = vec![
        // SQLAlchemy style
        ("sqlite:///rel.db", ok(file("rel.db"), &[], None)),
        ("sqlite:////abs/x.db", ok(file("/abs/x.db"), &[], None)),
        ("sqlite+aiosqlite:///a.db", ok(file("a.db"), &[], None)),
        ("sqlite+pysqlite:////a.db", ok(file("/a.db"), &[], None)),
        ("SQLite+AioSqlite:///a.db", ok(file("a.db"), &[], None)),
        ("  sqlite:///a.db \n", ok(file("a.db"), &[], None)),
        ("sqlite://", ok(mem(None), &[], None)),
        ("sqlite:///", ok(mem(None), &[], None)),
        ("sqlite:///:memory:", ok(mem(None), &[], None)),
        (
            "sqlite:///file:name?mode=memory&cache=shared&uri=true",
            ok(
                mem(Some("name")),
                &[("mode", "memory"), ("cache", "shared"), ("uri", "true")],
                Some("name"),
            ),
        ),
        (
            "sqlite:///file:x.db?uri=false",
            ok(file("file:x.db"), &[("uri", "false")], None),
        ),
        ("sqlite:///file:x.db", ok(file("file:x.db"), &[], None)),
        (
            "sqlite:///file://localhost/abs/x.db?uri=1",
            ok(file("/abs/x.db"), &[("uri", "true")], None),
        ),
        // sqlx style
        ("sqlite::memory:", ok(mem(None), &[], None)),
        ("sqlite:", ok(mem(None), &[], None)),
        ("sqlite:data.db", ok(file("data.db"), &[], None)),
        ("sqlite:/abs.db", ok(file("/abs.db"), &[], None)),
        (
            "sqlite://data.db?mode=rwc",
            ok(file("data.db"), &[("mode", "rwc")], None),
        ),
        (
            "sqlite::memory:?cache=shared",
            ok(mem(None), &[("cache", "shared")], None),
        ),
        // plain SQLite URIs
        ("file:data.db", ok(file("data.db"), &[], None)),
        ("file:/abs/data.db", ok(file("/abs/data.db"), &[], None)),
        ("file:///abs/data.db", ok(file("/abs/data.db"), &[], None)),
        (
            "FILE://LocalHost/abs/data.db",
            ok(file("/abs/data.db"), &[], None),
        ),
        ("file::memory:", ok(mem(None), &[], None)),
        ("file:", ok(mem(None), &[], None)),
        (
            "file::memory:?cache=shared",
            ok(mem(None), &[("cache", "shared")], None),
        ),
        (
            "file:/name?vfs=memdb",
            ok(mem(Some("/name")), &[("vfs", "memdb")], Some("/name")),
        ),
        (
            "file:x?mode=memory",
            ok(mem(Some("x")), &[("mode", "memory")], None),
        ),
        (
            "file:x?mode=memory&cache=private",
            ok(
                mem(Some("x")),
                &[("mode", "memory"), ("cache", "private")],
                None,
            ),
        ),
        (
            "sqlite:///a.db?mode=memory",
            ok(mem(Some("a.db")), &[("mode", "memory")], None),
        ),
        // paths
        ("sqlite:///my%20db.db", ok(file("my db.db"), &[], None)),
        ("file:a@b.db", ok(file("a@b.db"), &[], None)),
        ("sqlite:a@b.db", ok(file("a@b.db"), &[], None)),
        ("sqlite:///a@b:c.db", ok(file("a@b:c.db"), &[], None)),
        ("sqlite:///u%3Apw@h.db", ok(file("u:pw@h.db"), &[], None)),
        (
            "sqlite:////srv/u:pw%40h.db",
            ok(file("/srv/u:pw@h.db"), &[], None),
        ),
        (
            "sqlite:///a%3Fb%23c%25.db",
            ok(file("a?b#c%.db"), &[], None),
        ),
        ("sqlite:///my db.db", ok(file("my db.db"), &[], None)),
        (
            "sqlite:///données/δ.db",
            ok(file("données/δ.db"), &[], None),
        ),
        ("sqlite:///%0Aline", ok(file("\nline"), &[], None)),
        ("sqlite:///%3Amemory%3A", ok(mem(None), &[], None)),
        (
            "sqlite:////data/:memory:x/a.db",
            ok(file("/data/:memory:x/a.db"), &[], None),
        ),
        ("sqlite:///x:memory:", ok(file("x:memory:"), &[], None)),
        ("sqlite:///a.db?", ok(file("a.db"), &[], None)),
        ("sqlite:///a.db?&&", ok(file("a.db"), &[], None)),
        (long.as_str(), ok(file(&"a".repeat(100_000)), &[], None)),
        // parameters
        (
            "sqlite:///a.db?MODE=RO&Cache=Shared&vfs=unix-dotfile",
            ok(
                file("a.db"),
                &[("mode", "ro"), ("cache", "shared"), ("vfs", "unix-dotfile")],
                None,
            ),
        ),
        (
            "sqlite:///a.db?immutable=1&nolock=YES&psow=off&check_same_thread=false",
            ok(
                file("a.db"),
                &[
                    ("immutable", "true"),
                    ("nolock", "true"),
                    ("psow", "false"),
                    ("check_same_thread", "false"),
                ],
                None,
            ),
        ),
        (
            "sqlite:///a.db?timeout=2.5&cached_statements=0&timeout_x=1",
            Err(UrlError::unknown_parameter(Dialect::Sqlite, "timeout_x")),
        ),
        (
            "sqlite:///a.db?timeout=2.5&cached_statements=0&uri=true",
            ok(
                file("a.db"),
                &[
                    ("timeout", "2.5"),
                    ("cached_statements", "0"),
                    ("uri", "true"),
                ],
                None,
            ),
        ),
        (
            "sqlite:///a.db?modeof=%2Fetc%2Fx%26y",
            ok(file("a.db"), &[("modeof", "/etc/x&y")], None),
        ),
        // errors
        (
            "sqlite+:///a.db",
            Err(UrlError::invalid_driver(Dialect::Sqlite, "")),
        ),
        (
            "sqlite+aio-sqlite:///a.db",
            Err(UrlError::invalid_driver(Dialect::Sqlite, "aio-sqlite")),
        ),
        (
            "sqlite+pysqlcipher+x:///a.db",
            Err(UrlError::invalid_driver(Dialect::Sqlite, "pysqlcipher+x")),
        ),
        ("sqlite://:pw@/a.db", Err(userinfo_error())),
        ("sqlite://u@h/a.db", Err(userinfo_error())),
        ("sqlite:u:pw@h/a.db", Err(userinfo_error())),
        ("file:u:pw@a.db", Err(userinfo_error())),
        (
            "sqlite://h/a.db",
            Err(UrlError::malformed(
                "host",
                "a sqlite url names no host (SQLite opens local files): write \
                 sqlite:///relative/path.db or sqlite:////absolute/path.db",
            )),
        ),
        ("file+x:a.db", Err(UrlError::unknown_dialect("file+x"))),
        ("sqlite3:///x", Err(UrlError::unknown_dialect("sqlite3"))),
        ("/tmp/x.db", Err(UrlError::unknown_dialect(""))),
        ("", Err(UrlError::Empty)),
        (
            "postgresql://h/db",
            Err(UrlError::malformed(
                "scheme",
                "expected a sqlite url, found a postgresql url",
            )),
        ),
        ("sqlite:///%00", Err(UrlError::NulByte { part: "path" })),
        ("sqlite:///a\0b", Err(UrlError::NulByte { part: "url" })),
        (
            "sqlite:///a\tb",
            Err(UrlError::malformed(
                "url",
                "raw control character (percent-encode it)",
            )),
        ),
        (
            "sqlite:///%",
            Err(UrlError::InvalidPercentEncoding { part: "path" }),
        ),
        (
            "sqlite:///%zz",
            Err(UrlError::InvalidPercentEncoding { part: "path" }),
        ),
        (
            "sqlite:///%4",
            Err(UrlError::InvalidPercentEncoding { part: "path" }),
        ),
        (
            "sqlite:///%C3%28",
            Err(UrlError::InvalidPercentEncoding { part: "path" }),
        ),
        (
            "sqlite:///a.db#frag",
            Err(UrlError::malformed(
                "fragment",
                "'#' fragments are not supported (percent-encode '#' as %23)",
            )),
        ),
        (
            "file://host/abs.db",
            Err(UrlError::malformed(
                "authority",
                "a file: uri authority must be empty or \"localhost\"",
            )),
        ),
        (
            "sqlite:///file://host/x?uri=true",
            Err(UrlError::malformed(
                "authority",
                "a file: uri authority must be empty or \"localhost\"",
            )),
        ),
        (
            "sqlite:///a.db?foo=1",
            Err(UrlError::unknown_parameter(Dialect::Sqlite, "foo")),
        ),
        (
            "sqlite:///a.db?mode=ro&MODE=rw",
            Err(UrlError::duplicate("mode")),
        ),
        (
            "sqlite:///a.db?timeout=1&timeout=x",
            Err(UrlError::duplicate("timeout")),
        ),
        (
            "sqlite:///a.db?mode=rx",
            bad_value("mode", "rx", "one of ro, rw, rwc, memory"),
        ),
        (
            "sqlite:///a.db?cache=",
            bad_value("cache", "", "one of shared, private"),
        ),
        (
            "sqlite:///a.db?vfs=a/b",
            bad_value(
                "vfs",
                "a/b",
                "a vfs name made of letters, digits, '_' or '-'",
            ),
        ),
        (
            "sqlite:///a.db?immutable=2",
            bad_value("immutable", "2", BOOL),
        ),
        (
            "sqlite:///a.db?timeout=-1",
            bad_value("timeout", "-1", TIMEOUT_RANGE),
        ),
        (
            "sqlite:///a.db?timeout=NaN",
            bad_value("timeout", "NaN", TIMEOUT_RANGE),
        ),
        (
            "sqlite:///a.db?timeout=1e300",
            bad_value("timeout", "1e300", TIMEOUT_RANGE),
        ),
        (
            "sqlite:///a.db?timeout=2147483.648",
            bad_value("timeout", "2147483.648", TIMEOUT_RANGE),
        ),
        (
            "sqlite:///a.db?isolation_level=DEFERRED",
            Err(UrlError::unsupported(
                Dialect::Sqlite,
                "isolation_level",
                ISOLATION_LEVEL_UNSUPPORTED,
            )),
        ),
        (
            "sqlite:///a.db?detect_types=1",
            Err(UrlError::unsupported(
                Dialect::Sqlite,
                "detect_types",
                DETECT_TYPES_UNSUPPORTED,
            )),
        ),
        (
            "sqlite:///a.db?cached_statements=4294967296",
            bad_value(
                "cached_statements",
                "4294967296",
                "an integer from 0 to 4294967295",
            ),
        ),
        (
            "sqlite:///a.db?cached_statements=-1",
            bad_value("cached_statements", "-1", "an integer from 0 to 4294967295"),
        ),
        (
            "sqlite:///a.db?modeof=",
            bad_value("modeof", "", "a file path"),
        ),
        (
            "sqlite:///a.db?mode",
            Err(UrlError::malformed(
                "query",
                "a parameter has no '=' (expected key=value)",
            )),
        ),
        (
            "sqlite:///a.db?=ro",
            Err(UrlError::malformed("query", "a parameter has an empty key")),
        ),
        (
            "sqlite:///a.db?mode=%",
            Err(UrlError::InvalidPercentEncoding { part: "query" }),
        ),
        (
            "sqlite:///a.db?mode=r%00",
            Err(UrlError::NulByte { part: "query" }),
        ),
        (
            long_value.as_str(),
            bad_value("mode", &"x".repeat(64), "one of ro, rw, rwc, memory"),
        ),
    ];
    for (input, expected) in cases {
        check(input, expected);
    }
}

#[test]
fn accessors() {
    let url: SqliteUrl = "sqlite:////tmp/a.db?mode=ro&immutable=on&timeout=1.5&vfs=unix"
        .parse()
        .expect("valid");
    assert_eq!(url.path(), Some(Path::new("/tmp/a.db")));
    assert_eq!(url.mode(), Some(OpenMode::ReadOnly));
    assert_eq!(url.cache(), None);
    assert_eq!(url.vfs(), Some("unix"));
    assert!(url.immutable());
    assert_eq!(url.timeout(), Some(Duration::from_millis(1500)));
    assert_eq!(url.cached_statements(), None);
    let cached: SqliteUrl = "sqlite:///a.db?cached_statements=7".parse().expect("valid");
    assert_eq!(cached.cached_statements(), Some(7));
    assert_eq!(url.memory_name(), None);
    assert_eq!(
        url.to_url(),
        "sqlite:////tmp/a.db?mode=ro&immutable=true&timeout=1.5&vfs=unix"
    );
    assert_eq!(url.to_string(), url.to_url());
    let memory: SqliteUrl = "sqlite://".parse().expect("valid");
    assert_eq!(memory.to_url(), "sqlite://");
    assert_eq!(memory.path(), None);
    let named: SqliteUrl = "file:/x%3Fy?vfs=memdb".parse().expect("valid");
    assert_eq!(named.to_url(), "sqlite:////x%3Fy?vfs=memdb");
    let at: SqliteUrl = "file:a@b.db".parse().expect("valid");
    assert_eq!(at.to_url(), "sqlite:///a%40b.db");
    let tricky: SqliteUrl = "sqlite:///file:file:x?uri=true".parse().expect("valid");
    assert_eq!(tricky.path(), Some(Path::new("file:x")));
    assert_eq!(tricky.to_url(), "sqlite:///file%3Ax?uri=true");
}

fn check(input: &str, expected: Result<Want, UrlError>) {
    let got = input.parse::<SqliteUrl>();
    match (got, expected) {
        (Ok(url), Ok(want)) => {
            assert_eq!(url.location(), &want.location, "{input}");
            let params: Vec<(String, String)> = want
                .params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(url.params(), params.as_slice(), "{input}");
            assert_eq!(url.is_inmemory(), want.inmemory, "{input}");
            assert_eq!(url.shared_memory_name(), want.shared, "{input}");
            let again = url.to_url().parse::<SqliteUrl>();
            assert_eq!(again.as_ref(), Ok(&url), "{input} -> {}", url.to_url());
        }
        (got, expected) => {
            assert_eq!(got.err(), expected.err(), "{input}");
        }
    }
}

/// Item 9: user info, hosts and unknown drivers are refused, and the error never shows the secret.
#[test]
fn credentials_hosts_and_unknown_drivers_are_refused() {
    for input in [
        "sqlite+pysqlcipher://user:s3cret@/foo.db",
        "sqlite+foo:///foo.db",
        "sqlite://:s3cret@/foo.db",
        "sqlite://user:s3cret@host/foo.db",
        "sqlite://user:s3cret@foo.db",
        "sqlite://user@host/foo.db",
        "sqlite://host/foo.db",
        "sqlite://localhost/foo.db",
        "sqlite:user:s3cret@host/x.db",
        "sqlite:///user:s3cret@host/x.db",
        "sqlite:///file:user:s3cret@x.db?uri=true",
        "file:user:s3cret@x.db",
        "file://user:s3cret@host/x.db",
        "sqlite:///file://user:s3cret@host/x.db",
        "sqlite:////srv/user:s3cret@host/x.db",
    ] {
        let err = input
            .parse::<SqliteUrl>()
            .expect_err(&format!("{input} must be refused"));
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("s3cret"), "{input}: {shown}");
        let err = input.parse::<crate::url::ConnectionUrl>().expect_err(input);
        assert!(!format!("{err} {err:?}").contains("s3cret"), "{input}");
    }
}

/// The parser's `match` decides what SQLite's URI gets: SQLite's own parameters, in input
/// order, and none of Python sqlite3's (dbconfig applies those itself).
#[test]
fn uri_params_are_sqlites_own() {
    let url: SqliteUrl = "sqlite:///x.db?timeout=2&mode=ro&uri=true&nolock=1\
                          &check_same_thread=0&cached_statements=3&psow=0"
        .parse()
        .unwrap();
    let uri: Vec<_> = url.uri_params().collect();
    assert_eq!(uri, [("mode", "ro"), ("nolock", "true"), ("psow", "false")]);
    assert_eq!(url.params().len(), 7);
}
