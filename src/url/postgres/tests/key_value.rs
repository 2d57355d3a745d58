//! libpq key=value strings.

use super::*;

#[test]
fn key_value_forms() {
    // A table of inputs and what each must give: its rows are alike by design (the
    // `duplicates` tool pairs them, and pairs them with the other parser's table).
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
            "password='s3cr3t-PW' sslmode=requir",
            bad_value("sslmode", "requir", SSLMODES),
        ),
        // After an unquoted password, values and unknown keywords are not shown.
        (
            "password=s3cr3t-PW sslmode=requir",
            bad_value("sslmode", "***", SSLMODES),
        ),
        (
            "password=s3cr3t-PW connect_timeout=-1",
            bad_value(
                "connect_timeout",
                "***",
                "a non-negative integer number of seconds",
            ),
        ),
        ("password=s3cr3t-PW port=x", bad_port("***")),
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
            "password='s3cr3t-PW' foo=1",
            Err(UrlError::unknown_parameter(Dialect::Postgres, "foo")),
        ),
        (
            "foo=1 password=s3cr3t-PW",
            Err(UrlError::unknown_parameter(Dialect::Postgres, "foo")),
        ),
        (
            "password=s3cr3t-PW foo=1",
            malformed(
                "key=value",
                "unknown keyword at byte 19, after an unquoted password (not shown: it may be \
                 part of the password; quote a password that has spaces: password='…')",
            ),
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
fn key_value_errors_never_echo_what_may_be_part_of_a_password() {
    for input in [
        "host=h password=correct horse=battery",
        "password=correct horse=battery host=h",
        "password=correct horse battery=staple",
        "password=correct port=horse",
        "password=correct sslmode=horse",
        "password=correct host=h connect_timeout=horse",
        "password=correct horse='battery",
        "password=correct horse='battery'staple",
        "password=correct user=u horse=battery",
    ] {
        let err = input.parse::<PostgresUrl>().expect_err(input);
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("horse") && !shown.contains("battery") && !shown.contains("staple"),
            "{input}: {shown}"
        );
    }
}
