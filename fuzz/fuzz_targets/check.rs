//! Properties shared by the URL targets (included with `#[path]`).

use dbconfig::ConnectionUrl;

/// Parses `text`; when it parses: `to_url()` parses to an equal value with the same
/// `is_inmemory`, and the redacted forms never carry the password (the redacted URL parses back
/// to the same URL with the password, or a SQLite URL's SQLCipher key, replaced by `***`).
pub fn check_url(text: &str) {
    let Ok(url) = text.parse::<ConnectionUrl>() else {
        return;
    };
    let printed = url.to_url();
    let again: ConnectionUrl = printed
        .parse()
        .unwrap_or_else(|e| panic!("to_url {printed:?} of {text:?} does not parse: {e}"));
    assert_eq!(again, url, "round trip of {text:?} via {printed:?}");
    assert_eq!(again.is_inmemory(), url.is_inmemory());

    let redacted = url.redacted();
    assert_eq!(url.to_string(), redacted);
    assert_eq!(format!("{url:?}"), format!("ConnectionUrl({redacted:?})"));
    if let Some(key) = url.as_sqlite().and_then(|lite| lite.key()) {
        // The SQLCipher key: `***` in every printed form, the rest of the url kept.
        let shown: ConnectionUrl = redacted
            .parse()
            .unwrap_or_else(|e| panic!("redacted {redacted:?} does not parse: {e}"));
        let shown = shown.as_sqlite().expect("still sqlite");
        assert_eq!(shown.key().map(|k| k.expose()), Some("***"));
        assert_eq!(shown.location(), url.as_sqlite().unwrap().location());
        if key.expose() != "***" {
            assert!(!format!("{url:?}").contains(&format!(":{}@", key.expose())));
        }
    }
    if let Some(pg) = url.as_postgres() {
        let shown: ConnectionUrl = redacted
            .parse()
            .unwrap_or_else(|e| panic!("redacted {redacted:?} does not parse: {e}"));
        let shown = shown.as_postgres().expect("still postgres");
        assert_eq!(shown.password(), pg.password().map(|_| "***"));
        assert_eq!(shown.user(), pg.user());
        assert_eq!(shown.hosts(), pg.hosts());
        assert_eq!(shown.ports(), pg.ports());
        assert_eq!(shown.dbname(), pg.dbname());
        assert_eq!(shown.tls(), pg.tls());
        assert_eq!(shown.options(), pg.options());
        assert_eq!(shown.server_settings(), pg.server_settings());
        let debug = format!("{pg:?}");
        assert!(debug.contains("password: None") || debug.contains("password: Some(\"***\")"));
    }
}
