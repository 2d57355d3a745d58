//! The libpq key=value connection string tokenizer:
//! `host=localhost port=5432 password='p w\'q'`.
//!
//! As libpq: keywords run to whitespace or `=`, whitespace may surround `=`,
//! values are either bare (ending at whitespace) or single-quoted, and a
//! backslash escapes the next character in both. Unlike libpq, a quoted
//! value must be followed by whitespace or the end, and NUL is rejected.
//!
//! A password with a space must be quoted (`password='correct horse'`); unquoted, libpq reads
//! the rest as further keywords. Whatever follows an unquoted password may therefore be part of
//! it: no error here names such a keyword, and [`Pair::after_bare_password`] tells the caller to
//! do the same.

use super::error::UrlError;

const PART: &str = "key=value";

/// One `keyword=value` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pair {
    /// The keyword, ASCII-lowercased.
    pub(crate) key: String,
    /// The value, unescaped.
    pub(crate) value: String,
    /// Byte offset of the keyword in the input.
    pub(crate) at: usize,
    /// Whether an unquoted `password` value came earlier: then this pair may be part of a
    /// password with a space, and errors must not repeat its keyword or value.
    pub(crate) after_bare_password: bool,
}

/// libpq's `isspace` in the C locale.
pub(crate) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0B' | '\x0C')
}

/// Splits a key=value string into pairs; keywords are ASCII-lowercased, values unescaped.
pub(crate) fn parse_pairs(s: &str) -> Result<Vec<Pair>, UrlError> {
    if s.contains('\0') {
        return Err(UrlError::NulByte { part: PART });
    }
    let mut it = s.char_indices().peekable();
    let mut out = Vec::new();
    let mut after_bare_password = false;
    loop {
        while it.next_if(|&(_, c)| is_space(c)).is_some() {}
        let Some(&(start, _)) = it.peek() else {
            return Ok(out);
        };
        let mut key = String::new();
        while let Some((_, c)) = it.next_if(|&(_, c)| !is_space(c) && c != '=') {
            key.push(c);
        }
        if key.is_empty() {
            return Err(UrlError::malformed(
                PART,
                format!("missing keyword before '=' at byte {start}"),
            ));
        }
        while it.next_if(|&(_, c)| is_space(c)).is_some() {}
        // The keyword is not echoed: it may be a fragment of an unquoted password.
        if it.next_if(|&(_, c)| c == '=').is_none() {
            return Err(UrlError::malformed(
                PART,
                format!("missing '=' after the keyword at byte {start}"),
            ));
        }
        while it.next_if(|&(_, c)| is_space(c)).is_some() {}
        let key = key.to_ascii_lowercase();
        // Named in errors only when it cannot be part of a password.
        let shown = if after_bare_password {
            format!("the keyword at byte {start}")
        } else {
            format!("{key:?}")
        };
        let mut value = String::new();
        let quoted = it.next_if(|&(_, c)| c == '\'').is_some();
        if quoted {
            loop {
                match it.next() {
                    Some((_, '\'')) => break,
                    Some((_, '\\')) => match it.next() {
                        Some((_, c)) => value.push(c),
                        None => return Err(unterminated(&shown)),
                    },
                    Some((_, c)) => value.push(c),
                    None => return Err(unterminated(&shown)),
                }
            }
            if it.peek().is_some_and(|&(_, c)| !is_space(c)) {
                return Err(UrlError::malformed(
                    PART,
                    format!("expected whitespace after the quoted value of {shown}"),
                ));
            }
        } else {
            while let Some((_, c)) = it.next_if(|&(_, c)| !is_space(c)) {
                if c == '\\' {
                    if let Some((_, escaped)) = it.next() {
                        value.push(escaped);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        let pair = Pair {
            after_bare_password,
            at: start,
            key,
            value,
        };
        after_bare_password |= pair.key == "password" && !quoted;
        out.push(pair);
    }
}

fn unterminated(shown: &str) -> UrlError {
    UrlError::malformed(PART, format!("unterminated quoted value of {shown}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pairs = &'static [(&'static str, &'static str)];

    #[test]
    fn pairs_after_an_unquoted_password_are_marked() {
        let marks = |s: &str| -> Vec<(usize, bool)> {
            let pairs = parse_pairs(s).unwrap_or_default();
            pairs
                .iter()
                .map(|p| (p.at, p.after_bare_password))
                .collect()
        };
        assert_eq!(
            marks("host=h password=a b=c d=e"),
            [(0, false), (7, false), (18, true), (22, true)]
        );
        assert_eq!(marks("password='a b' c=d"), [(0, false), (15, false)]);
        assert_eq!(
            parse_pairs("password=a b='c"),
            Err(UrlError::malformed(
                PART,
                "unterminated quoted value of the keyword at byte 11"
            ))
        );
        assert_eq!(
            parse_pairs("password=a b='c'd"),
            Err(UrlError::malformed(
                PART,
                "expected whitespace after the quoted value of the keyword at byte 11"
            ))
        );
    }

    #[test]
    fn tokenizer() {
        let cases: Vec<(&str, Result<Pairs, UrlError>)> = vec![
            ("", Ok(&[])),
            ("host=h", Ok(&[("host", "h")])),
            ("  HOST = h\tport=1 ", Ok(&[("host", "h"), ("port", "1")])),
            ("password='p w\\'q'", Ok(&[("password", "p w'q")])),
            ("password=a\\ b", Ok(&[("password", "a b")])),
            ("user='' dbname=d", Ok(&[("user", ""), ("dbname", "d")])),
            ("host= port=5432", Ok(&[("host", "port=5432")])),
            ("host=", Ok(&[("host", "")])),
            ("x=a\\", Ok(&[("x", "a")])),
            ("app='δ é'", Ok(&[("app", "δ é")])),
            (
                "=value",
                Err(UrlError::malformed(
                    PART,
                    "missing keyword before '=' at byte 0",
                )),
            ),
            (
                "key",
                Err(UrlError::malformed(
                    PART,
                    "missing '=' after the keyword at byte 0",
                )),
            ),
            (
                "host='unterminated",
                Err(UrlError::malformed(
                    PART,
                    "unterminated quoted value of \"host\"",
                )),
            ),
            (
                "host='a\\",
                Err(UrlError::malformed(
                    PART,
                    "unterminated quoted value of \"host\"",
                )),
            ),
            (
                "host='a'b",
                Err(UrlError::malformed(
                    PART,
                    "expected whitespace after the quoted value of \"host\"",
                )),
            ),
            ("host=a\0", Err(UrlError::NulByte { part: PART })),
        ];
        for (input, expected) in cases {
            check(input, expected);
        }
    }

    fn check(input: &str, expected: Result<Pairs, UrlError>) {
        let expected = expected.map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        });
        let got = parse_pairs(input).map(|pairs| {
            pairs
                .into_iter()
                .map(|p| (p.key, p.value))
                .collect::<Vec<_>>()
        });
        assert_eq!(got, expected, "{input}");
    }
}
