//! Helpers shared by the SQLite and PostgreSQL parsers: percent-coding,
//! query strings and scalar values.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::error::UrlError;

/// Everything but RFC 3986 "unreserved" characters: for user names,
/// passwords, hosts and database names.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An IPv6 host inside `[...]`: as [`COMPONENT`] but `:` stays readable.
pub(crate) const IPV6_HOST: &AsciiSet = &COMPONENT.remove(b':');

/// A SQLite path: `/` and common punctuation stay readable; `%`, `?`, `#`, `@`
/// (which could read as user info), space, quotes and control characters are
/// encoded (non-ASCII always is).
pub(crate) const PATH: &AsciiSet = &COMPONENT
    .remove(b'/')
    .remove(b':')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// A query parameter value: `&`, `=`, `+`, `@`, `#`, `%` and the like are encoded.
pub(crate) const QUERY_VALUE: &AsciiSet = &COMPONENT.remove(b'/').remove(b':').remove(b',');

/// Percent-encodes `s` with `set`.
pub(crate) fn encode(s: &str, set: &'static AsciiSet) -> String {
    utf8_percent_encode(s, set).to_string()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Strictly percent-decodes `raw`: every `%` must start a `%xx` escape, the
/// result must be UTF-8 and must not contain NUL.
pub(crate) fn decode(raw: &str, part: &'static str) -> Result<String, UrlError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex);
            let lo = bytes.get(i + 2).copied().and_then(hex);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                _ => return Err(UrlError::InvalidPercentEncoding { part }),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    if out.contains(&0) {
        return Err(UrlError::NulByte { part });
    }
    String::from_utf8(out).map_err(|_| UrlError::InvalidPercentEncoding { part })
}

/// As [`decode`], but a raw `+` means a space (HTML-form style).
pub(crate) fn decode_plus(raw: &str, part: &'static str) -> Result<String, UrlError> {
    decode(&raw.replace('+', " "), part)
}

/// Rejects raw characters a url must not hold: NUL and other control
/// characters (they must be percent-encoded) and `#` (fragments).
pub(crate) fn check_url_chars(s: &str) -> Result<(), UrlError> {
    for c in s.chars() {
        if c == '\0' {
            return Err(UrlError::NulByte { part: "url" });
        }
        if c.is_control() {
            return Err(UrlError::malformed(
                "url",
                "raw control character (percent-encode it)",
            ));
        }
        if c == '#' {
            return Err(UrlError::malformed(
                "fragment",
                "'#' fragments are not supported (percent-encode '#' as %23)",
            ));
        }
    }
    Ok(())
}

/// Splits a query string into `(key, raw value)` pairs; keys are
/// percent-decoded and ASCII-lowercased, values are left for the caller to
/// decode. Empty segments (`a&&b`, a trailing `&`) are skipped.
pub(crate) fn split_query(query: &str) -> Result<Vec<(String, &str)>, UrlError> {
    let mut out = Vec::new();
    for segment in query.split('&').filter(|s| !s.is_empty()) {
        let Some((key, value)) = segment.split_once('=') else {
            return Err(UrlError::malformed(
                "query",
                "a parameter has no '=' (expected key=value)",
            ));
        };
        let key = decode(key, "query")?.to_ascii_lowercase();
        if key.is_empty() {
            return Err(UrlError::malformed("query", "a parameter has an empty key"));
        }
        out.push((key, value));
    }
    Ok(out)
}

/// A boolean as SQLite and SQLAlchemy spell them.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `true` when `s` is non-empty and only ASCII digits.
pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        // A table of inputs and what each must give: rows alike by design.
        let cases: Vec<(&str, Result<&str, UrlError>)> = vec![
            ("plain", Ok("plain")),
            ("my%20db", Ok("my db")),
            ("%3F%3f", Ok("??")),
            ("d%C3%A9", Ok("dé")),
            ("δ", Ok("δ")),
            ("a+b", Ok("a+b")),
            ("%", Err(UrlError::InvalidPercentEncoding { part: "path" })),
            ("%4", Err(UrlError::InvalidPercentEncoding { part: "path" })),
            (
                "%zz",
                Err(UrlError::InvalidPercentEncoding { part: "path" }),
            ),
            (
                "%C3",
                Err(UrlError::InvalidPercentEncoding { part: "path" }),
            ),
            (
                "%FF",
                Err(UrlError::InvalidPercentEncoding { part: "path" }),
            ),
            ("%00", Err(UrlError::NulByte { part: "path" })),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }

    #[test]
    fn encoding_round_trips() {
        for s in ["a b", "%?#&=+", "δ/é:x", "\u{1}\u{7f}\u{85}", "[::1]"] {
            for set in [COMPONENT, IPV6_HOST, PATH, QUERY_VALUE] {
                assert_eq!(decode(&encode(s, set), "path").as_deref(), Ok(s));
            }
        }
        assert_eq!(
            split_query("A=1&&b=%41&").map(|v| v.len()),
            Ok(2),
            "empty segments are skipped"
        );
    }

    fn check(input: &str, expected: Result<&str, UrlError>) {
        assert_eq!(
            decode(input, "path").as_deref(),
            expected.as_deref(),
            "{input}"
        );
    }
}
