//! Property tests of connection-URL parsing: never a panic; a parsed URL prints back to an
//! equal value; the password never shows in the redacted forms.

use dbconfig::ConnectionUrl;
use proptest::prelude::*;

fn check_round_trip(url: &ConnectionUrl) {
    let again: ConnectionUrl = url
        .to_url()
        .parse()
        .unwrap_or_else(|e| panic!("to_url of {url:?} does not parse: {e}"));
    assert_eq!(&again, url);
    assert_eq!(again.is_inmemory(), url.is_inmemory());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        if let Ok(url) = text.parse::<ConnectionUrl>() {
            check_round_trip(&url);
        }
    }

    #[test]
    fn url_like_text_never_panics(
        scheme in prop::sample::select(vec!["sqlite", "sqlite+aiosqlite", "postgresql", "postgres+asyncpg", "file", "SQLITE", "postgresql+"]),
        sep in prop::sample::select(vec![":", "://", ":///", ":////"]),
        rest in "[a-zA-Z0-9_.:/@%?&=,\\[\\] -]{0,60}",
    ) {
        let text = format!("{scheme}{sep}{rest}");
        if let Ok(url) = text.parse::<ConnectionUrl>() {
            check_round_trip(&url);
        }
    }

    #[test]
    fn postgres_passwords_never_show(
        user in "[a-z][a-z0-9_]{0,8}",
        // Starts with a symbol so it cannot be a substring of the user, host or database name.
        password in "[!$&'()*+,;=:@/?#%\\[\\] ][A-Za-z0-9!$&'()*+,;=:@/?#%\\[\\] ]{5,19}",
        host in "[a-z][a-z0-9-]{0,10}",
        port in 1u16..,
        db in "[a-z][a-z0-9_]{0,8}",
    ) {
        let encoded: String = password
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        let text = format!("postgresql://{user}:{encoded}@{host}:{port}/{db}");
        let url: ConnectionUrl = text.parse().unwrap();
        let pg = url.as_postgres().unwrap();
        prop_assert_eq!(pg.password(), Some(password.as_str()));
        check_round_trip(&url);
        for shown in [url.to_string(), format!("{url:?}"), url.redacted(), format!("{pg:?}")] {
            prop_assert!(!shown.contains(&password), "password in {}", shown);
            prop_assert!(!shown.contains(&encoded), "encoded password in {}", shown);
        }
    }
}
