//! The error type returned by every parser in this module.
//!
//! Messages are lowercase, name the offending part of the url, and never
//! contain a password: the only values echoed back are schemes, drivers,
//! parameter keys, non-secret parameter values and ports, each truncated.

use super::dialect::Dialect;

/// Longest scheme or driver echoed back in an error, in characters.
const SCHEME_ECHO: usize = 32;
/// Longest key, value or port echoed back in an error, in characters.
const VALUE_ECHO: usize = 64;

/// Why a connection url could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The input was empty, or only ASCII whitespace.
    #[error("connection url is empty")]
    Empty,
    /// The scheme names no supported database, or the input has no scheme at all.
    #[error("{}", unknown_dialect_message(scheme))]
    UnknownDialect {
        /// The scheme, lowercased and truncated to 32 characters; empty when the input had none.
        scheme: String,
    },
    /// The `+driver` suffix of the scheme is empty or not made of `[a-z0-9_]`.
    #[error("invalid {dialect} driver {driver:?} (expected letters, digits or '_' after '+')")]
    InvalidDriver {
        /// The dialect the scheme names.
        dialect: Dialect,
        /// The driver suffix as written (lowercased, truncated to 32 characters).
        driver: String,
    },
    /// A query or key=value parameter this dialect does not know.
    #[error("unknown {dialect} parameter {key:?}")]
    UnknownParameter {
        /// The dialect whose parameters were being parsed.
        dialect: Dialect,
        /// The key, lowercased and truncated to 64 characters.
        key: String,
    },
    /// The same parameter was given twice (including once in the url and once as a parameter).
    #[error("parameter {key:?} is given more than once")]
    DuplicateParameter {
        /// The key as normalised (lowercase).
        key: String,
    },
    /// A known parameter has a value it cannot take.
    #[error("invalid value {value:?} for parameter {key:?} (expected {expected})")]
    InvalidParameter {
        /// The key as normalised (lowercase).
        key: String,
        /// The offending value, truncated to 64 characters; `***` when the key is `password`.
        value: String,
        /// What the parameter accepts.
        expected: &'static str,
    },
    /// A port that is not an integer from 1 to 65535.
    #[error("invalid port {value:?} (expected an integer from 1 to 65535)")]
    InvalidPort {
        /// The port as written, truncated to 64 characters.
        value: String,
    },
    /// A `%` not followed by two hex digits, or escapes that do not decode to UTF-8.
    #[error("invalid percent-encoding in {part} (expected %xx escapes that decode to utf-8)")]
    InvalidPercentEncoding {
        /// The part of the url: `path`, `user`, `password`, `host`, `dbname` or `query`.
        part: &'static str,
    },
    /// A NUL byte, raw or percent-encoded.
    #[error("nul byte in {part}")]
    NulByte {
        /// The part of the url that holds it.
        part: &'static str,
    },
    /// Any other structural problem.
    #[error("malformed {part}: {reason}")]
    Malformed {
        /// The part of the url, e.g. `authority`, `userinfo`, `host`, `scheme`, `query`,
        /// `key=value`.
        part: &'static str,
        /// What is wrong; never contains the password.
        reason: String,
    },
    /// A well-formed `+driver` suffix that dbconfig does not accept for this dialect, e.g.
    /// `sqlite+pysqlcipher` (an encrypted database dbconfig cannot open).
    #[error("unknown {dialect} driver {driver:?} (expected {expected})")]
    UnknownDriver {
        /// The dialect the scheme names.
        dialect: Dialect,
        /// The driver suffix as written (lowercased, truncated to 32 characters).
        driver: String,
        /// The suffixes accepted.
        expected: &'static str,
    },
    /// A parameter that dbconfig parses but cannot honour, e.g. pysqlite's `isolation_level`.
    #[error("unsupported {dialect} parameter {key:?}: {reason}")]
    UnsupportedParameter {
        /// The dialect whose parameters were being parsed.
        dialect: Dialect,
        /// The key as normalised (lowercase).
        key: String,
        /// Why it has no meaning here, and what to use instead.
        reason: &'static str,
    },
}

fn unknown_dialect_message(scheme: &str) -> String {
    if scheme.is_empty() {
        "missing database dialect (expected a sqlite:, file: or postgresql:// url, \
         or a libpq key=value string)"
            .to_owned()
    } else {
        format!("unknown database dialect {scheme:?} (expected sqlite or postgresql)")
    }
}

/// The first `limit` characters of `s`.
fn echo(s: &str, limit: usize) -> String {
    s.chars().take(limit).collect()
}

impl UrlError {
    pub(crate) fn unknown_dialect(scheme: &str) -> Self {
        Self::UnknownDialect {
            scheme: echo(&scheme.to_ascii_lowercase(), SCHEME_ECHO),
        }
    }

    pub(crate) fn invalid_driver(dialect: Dialect, driver: &str) -> Self {
        Self::InvalidDriver {
            dialect,
            driver: echo(driver, SCHEME_ECHO),
        }
    }

    pub(crate) fn unknown_driver(dialect: Dialect, driver: &str, expected: &'static str) -> Self {
        Self::UnknownDriver {
            dialect,
            driver: echo(driver, SCHEME_ECHO),
            expected,
        }
    }

    pub(crate) fn unsupported(dialect: Dialect, key: &str, reason: &'static str) -> Self {
        Self::UnsupportedParameter {
            dialect,
            key: echo(key, VALUE_ECHO),
            reason,
        }
    }

    pub(crate) fn unknown_parameter(dialect: Dialect, key: &str) -> Self {
        Self::UnknownParameter {
            dialect,
            key: echo(key, VALUE_ECHO),
        }
    }

    pub(crate) fn duplicate(key: &str) -> Self {
        Self::DuplicateParameter {
            key: echo(key, VALUE_ECHO),
        }
    }

    pub(crate) fn invalid(key: &str, value: &str, expected: &'static str) -> Self {
        let value = if key == "password" {
            "***".to_owned()
        } else {
            echo(value, VALUE_ECHO)
        };
        Self::InvalidParameter {
            key: echo(key, VALUE_ECHO),
            value,
            expected,
        }
    }

    pub(crate) fn invalid_port(value: &str) -> Self {
        Self::InvalidPort {
            value: echo(value, VALUE_ECHO),
        }
    }

    pub(crate) fn malformed(part: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            part,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let long = "x".repeat(100);
        let cases: Vec<(UrlError, &str)> = vec![
            (UrlError::Empty, "connection url is empty"),
            (
                UrlError::unknown_dialect("MySQL"),
                "unknown database dialect \"mysql\" (expected sqlite or postgresql)",
            ),
            (
                UrlError::unknown_dialect(""),
                "missing database dialect (expected a sqlite:, file: or postgresql:// url, \
                 or a libpq key=value string)",
            ),
            (
                UrlError::unknown_dialect(&long),
                "unknown database dialect \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" \
                 (expected sqlite or postgresql)",
            ),
            (
                UrlError::invalid_driver(Dialect::Sqlite, "aio-sqlite"),
                "invalid sqlite driver \"aio-sqlite\" (expected letters, digits or '_' after '+')",
            ),
            (
                UrlError::unknown_parameter(Dialect::Postgres, "foo"),
                "unknown postgresql parameter \"foo\"",
            ),
            (
                UrlError::duplicate("mode"),
                "parameter \"mode\" is given more than once",
            ),
            (
                UrlError::invalid("sslmode", "requir", "one of disable, require"),
                "invalid value \"requir\" for parameter \"sslmode\" (expected one of disable, require)",
            ),
            (
                UrlError::invalid("password", "s3cr3t-PW", "anything"),
                "invalid value \"***\" for parameter \"password\" (expected anything)",
            ),
            (
                UrlError::invalid_port("99999"),
                "invalid port \"99999\" (expected an integer from 1 to 65535)",
            ),
            (
                UrlError::InvalidPercentEncoding { part: "path" },
                "invalid percent-encoding in path (expected %xx escapes that decode to utf-8)",
            ),
            (UrlError::NulByte { part: "query" }, "nul byte in query"),
            (
                UrlError::malformed("authority", "unclosed '[' in IPv6 host"),
                "malformed authority: unclosed '[' in IPv6 host",
            ),
            (
                UrlError::unknown_driver(Dialect::Sqlite, "pysqlcipher", "aiosqlite or pysqlite"),
                "unknown sqlite driver \"pysqlcipher\" (expected aiosqlite or pysqlite)",
            ),
            (
                UrlError::unsupported(Dialect::Sqlite, "detect_types", "no meaning here"),
                "unsupported sqlite parameter \"detect_types\": no meaning here",
            ),
            (
                UrlError::invalid("timeout", "\u{7}", "a number"),
                "invalid value \"\\u{7}\" for parameter \"timeout\" (expected a number)",
            ),
        ];
        for (error, expected) in cases {
            check(&error, expected);
        }
    }

    fn check(error: &UrlError, expected: &str) {
        assert_eq!(error.to_string(), expected, "{error:?}");
        assert!(!error.to_string().contains("s3cr3t-PW"));
        assert!(!format!("{error:?}").contains("s3cr3t-PW"));
    }
}
