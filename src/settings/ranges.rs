//! The allowed range of every numeric setting, checked by [`Settings::validate`] and, for
//! values read from the environment, as each variable is read (so the error names it).
//!
//! The limits are those of what the values are handed to: SQLite's `busy_timeout` and
//! PostgreSQL's `statement_timeout` both take a C `int` of milliseconds, and deadpool allocates
//! one slot per allowed connection when the pool is built.

use std::time::Duration;

use super::{Settings, SettingsError};

/// The longest duration any setting accepts: `i32::MAX` milliseconds (about 24.8 days), the
/// largest `busy_timeout` SQLite takes
/// (<https://www.sqlite.org/c3ref/busy_timeout.html>) and the largest `statement_timeout`
/// PostgreSQL takes (<https://www.postgresql.org/docs/current/runtime-config-client.html>).
pub const DURATION_MAX: Duration = Duration::from_millis(i32::MAX as u64);

/// The shortest `connection_timeout`: 1 ms. `0` is refused because it would fail every connect
/// (and libpq reads `connect_timeout=0` as "no limit"); `None` is "no limit".
pub const CONNECTION_TIMEOUT_MIN: Duration = Duration::from_millis(1);

/// The largest `pool_size`. The pool reserves one slot per allowed connection when it is built,
/// and PostgreSQL's own `max_connections` is 100 by default.
pub const POOL_SIZE_MAX: u32 = 10_000;

/// The largest `max_overflow` (besides `-1`, "no limit", capped at
/// [`UNLIMITED_OVERFLOW_CAP`](super::UNLIMITED_OVERFLOW_CAP)).
pub const MAX_OVERFLOW_MAX: i32 = 10_000;

// The messages repeat the numbers above; `messages_state_the_limits` checks they agree.
pub(super) const DURATION: &str = "a duration from 0 to 2147483647ms (about 24.8 days)";
const OPTIONAL_DURATION: &str =
    "a duration from 0 to 2147483647ms (about 24.8 days), or none for no limit";
const CONNECTION_TIMEOUT: &str = "a duration from 1ms to 2147483647ms (about 24.8 days), or none \
                                  for no limit (0 would fail every connect)";
const NEVER_OR_DURATION: &str =
    "a duration from 0 to 2147483647ms (about 24.8 days), or none for never";
pub(super) const POOL_SIZE: &str = "an integer from 0 to 10000";
pub(super) const MAX_OVERFLOW: &str = "an integer from 0 to 10000, or -1 for no limit";

/// The fields with a range, named as in [`EnvVar::field`](super::EnvVar::field).
const RANGED_FIELDS: &[&str] = &[
    "connection_timeout",
    "pool_size",
    "max_overflow",
    "pool_recycle",
    "pool_timeout",
    "sqlite.busy_timeout",
    "sqlite.setup_busy_timeout",
    "postgres.statement_timeout",
    "postgres.pool_pre_ping",
];

/// Checks every field that has a range.
pub(super) fn check_all(settings: &Settings) -> Result<(), SettingsError> {
    RANGED_FIELDS
        .iter()
        .try_for_each(|field| check_field(settings, field))
}

/// Checks one field (named as in [`EnvVar::field`](super::EnvVar::field)); the error names the
/// field. Fields without a range always pass.
pub(super) fn check_field(settings: &Settings, field: &str) -> Result<(), SettingsError> {
    let s = settings;
    match field {
        "postgres.statement_timeout" => optional(
            field,
            s.postgres.statement_timeout,
            Duration::ZERO,
            OPTIONAL_DURATION,
        ),
        "sqlite.setup_busy_timeout" => optional(
            field,
            s.sqlite.setup_busy_timeout,
            Duration::ZERO,
            OPTIONAL_DURATION,
        ),
        "connection_timeout" => optional(
            field,
            s.connection_timeout,
            CONNECTION_TIMEOUT_MIN,
            CONNECTION_TIMEOUT,
        ),
        "pool_recycle" => optional(field, s.pool_recycle, Duration::ZERO, NEVER_OR_DURATION),
        "postgres.pool_pre_ping" => optional(
            field,
            s.postgres.pool_pre_ping,
            Duration::ZERO,
            NEVER_OR_DURATION,
        ),
        "pool_timeout" => duration(field, s.pool_timeout, Duration::ZERO, DURATION),
        "sqlite.busy_timeout" => duration(field, s.sqlite.busy_timeout, Duration::ZERO, DURATION),
        "pool_size" if s.pool_size > POOL_SIZE_MAX => Err(SettingsError::invalid(
            field,
            &s.pool_size.to_string(),
            POOL_SIZE,
        )),
        "max_overflow" if !(-1..=MAX_OVERFLOW_MAX).contains(&s.max_overflow) => Err(
            SettingsError::invalid(field, &s.max_overflow.to_string(), MAX_OVERFLOW),
        ),
        _ => Ok(()),
    }
}

fn optional(
    field: &str,
    value: Option<Duration>,
    min: Duration,
    expected: &'static str,
) -> Result<(), SettingsError> {
    value.map_or(Ok(()), |d| duration(field, d, min, expected))
}

fn duration(
    field: &str,
    value: Duration,
    min: Duration,
    expected: &'static str,
) -> Result<(), SettingsError> {
    if (min..=DURATION_MAX).contains(&value) {
        Ok(())
    } else {
        Err(SettingsError::invalid(
            field,
            &format!("{value:?}"),
            expected,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `settings` with one field changed must fail naming `field` and stating `range`.
    fn check(tune: impl FnOnce(&mut Settings), field: &str, value: &str, range: &str) {
        let mut settings = Settings::default();
        tune(&mut settings);
        let expected = SettingsError::InvalidValue {
            key: field.into(),
            value: value.into(),
            expected: match range {
                "optional" => OPTIONAL_DURATION,
                "connection" => CONNECTION_TIMEOUT,
                "never" => NEVER_OR_DURATION,
                "duration" => DURATION,
                "pool" => POOL_SIZE,
                "overflow" => MAX_OVERFLOW,
                other => panic!("unknown range {other}"),
            },
        };
        assert_eq!(settings.validate(), Err(expected), "{field} = {value}");
    }

    const OVER: Duration = Duration::from_millis(i32::MAX as u64 + 1);

    #[test]
    fn out_of_range_values_name_the_field_and_the_range() {
        const HOUR: u64 = 3600;
        type Tune = fn(&mut Settings);
        // A table of settings and the error each must give: rows alike by design.
        let cases: [(Tune, &str, &str, &str); 15] = [
            (
                |s| s.sqlite.busy_timeout = Duration::from_secs(600 * HOUR),
                "sqlite.busy_timeout",
                "2160000s",
                "duration",
            ),
            (
                |s| s.sqlite.busy_timeout = OVER,
                "sqlite.busy_timeout",
                "2147483.648s",
                "duration",
            ),
            (
                |s| s.postgres.statement_timeout = Some(Duration::from_secs(720 * HOUR)),
                "postgres.statement_timeout",
                "2592000s",
                "optional",
            ),
            (
                |s| s.sqlite.setup_busy_timeout = Some(Duration::from_secs(1_000_000_000)),
                "sqlite.setup_busy_timeout",
                "1000000000s",
                "optional",
            ),
            (
                |s| s.connection_timeout = Some(Duration::ZERO),
                "connection_timeout",
                "0ns",
                "connection",
            ),
            (
                |s| s.connection_timeout = Some(Duration::from_micros(999)),
                "connection_timeout",
                "999µs",
                "connection",
            ),
            (
                |s| s.connection_timeout = Some(Duration::MAX),
                "connection_timeout",
                "18446744073709551615.999999999s",
                "connection",
            ),
            (
                |s| s.pool_recycle = Some(OVER),
                "pool_recycle",
                "2147483.648s",
                "never",
            ),
            (
                |s| s.postgres.pool_pre_ping = Some(OVER),
                "postgres.pool_pre_ping",
                "2147483.648s",
                "never",
            ),
            (
                |s| s.pool_timeout = Duration::MAX,
                "pool_timeout",
                "18446744073709551615.999999999s",
                "duration",
            ),
            (
                |s| s.pool_size = u32::MAX,
                "pool_size",
                "4294967295",
                "pool",
            ),
            (
                |s| s.pool_size = POOL_SIZE_MAX + 1,
                "pool_size",
                "10001",
                "pool",
            ),
            (
                |s| s.max_overflow = i32::MAX,
                "max_overflow",
                "2147483647",
                "overflow",
            ),
            (
                |s| s.max_overflow = MAX_OVERFLOW_MAX + 1,
                "max_overflow",
                "10001",
                "overflow",
            ),
            (|s| s.max_overflow = -2, "max_overflow", "-2", "overflow"),
        ];
        for (tune, field, value, range) in cases {
            check(tune, field, value, range);
        }
    }

    #[test]
    fn the_limits_themselves_are_allowed() {
        let mut s = Settings {
            connection_timeout: Some(CONNECTION_TIMEOUT_MIN),
            pool_size: POOL_SIZE_MAX,
            max_overflow: MAX_OVERFLOW_MAX,
            pool_recycle: Some(DURATION_MAX),
            pool_timeout: DURATION_MAX,
            ..Settings::default()
        };
        s.postgres.statement_timeout = Some(DURATION_MAX);
        s.postgres.pool_pre_ping = Some(Duration::ZERO);
        s.sqlite.busy_timeout = DURATION_MAX;
        s.sqlite.setup_busy_timeout = Some(DURATION_MAX);
        s.validate().unwrap();
        let mut s = Settings {
            connection_timeout: Some(DURATION_MAX),
            pool_size: 0,
            max_overflow: -1,
            pool_recycle: None,
            pool_timeout: Duration::ZERO,
            ..Settings::default()
        };
        s.postgres.statement_timeout = Some(Duration::ZERO);
        s.postgres.pool_pre_ping = None;
        s.sqlite.busy_timeout = Duration::ZERO;
        s.sqlite.setup_busy_timeout = Some(Duration::ZERO);
        s.validate().unwrap();
        assert_eq!(
            s.max_connections(),
            super::super::UNLIMITED_OVERFLOW_CAP as usize
        );
    }

    #[test]
    fn messages_state_the_limits() {
        let ms = format!("{}ms", DURATION_MAX.as_millis());
        for text in [
            DURATION,
            OPTIONAL_DURATION,
            CONNECTION_TIMEOUT,
            NEVER_OR_DURATION,
        ] {
            assert!(text.contains(&ms), "{text}");
        }
        assert!(CONNECTION_TIMEOUT.contains(&format!("{}ms", CONNECTION_TIMEOUT_MIN.as_millis())));
        assert!(POOL_SIZE.ends_with(&format!("to {POOL_SIZE_MAX}")));
        assert!(MAX_OVERFLOW.contains(&format!("to {MAX_OVERFLOW_MAX},")));
    }
}
