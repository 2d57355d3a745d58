//! Parsing of single setting values from strings (environment variables, CLI flags).

use std::time::Duration;

use super::SettingsError;

/// Parses a boolean: `true/false`, `1/0`, `yes/no`, `on/off` (case-insensitive).
pub(crate) fn parse_bool(key: &str, value: &str) -> Result<bool, SettingsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(SettingsError::invalid(
            key,
            value,
            "a boolean (true/false, 1/0, yes/no, on/off)",
        )),
    }
}

/// Parses an integer of any primitive type.
pub(crate) fn parse_int<T: std::str::FromStr>(
    key: &str,
    value: &str,
    expected: &'static str,
) -> Result<T, SettingsError> {
    value
        .trim()
        .parse::<T>()
        .map_err(|_| SettingsError::invalid(key, value, expected))
}

/// Parses a duration: a number of seconds (`10`, `2.5`, as the original's settings take), or a
/// number with a unit (`500ms`, `10s`, `2m`, `1h`). Negative numbers and NaN are errors. Whole
/// numbers convert exactly; a number too large for a `Duration` (`1e30`, `inf`) becomes
/// `Duration::MAX`, which the field's range check then refuses with the allowed range.
pub(crate) fn parse_duration(key: &str, value: &str) -> Result<Duration, SettingsError> {
    const EXPECTED: &str =
        "a duration in seconds (e.g. 10, 2.5) or with a unit (500ms, 10s, 2m, 1h)";
    let text = value.trim();
    let (number, millis_per_unit) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        (text, 1_000)
    };
    let number = number.trim();
    if let Ok(whole) = number.parse::<u64>() {
        return Ok(whole
            .checked_mul(millis_per_unit)
            .map_or(Duration::MAX, Duration::from_millis));
    }
    let n: f64 = number
        .parse()
        .map_err(|_| SettingsError::invalid(key, value, EXPECTED))?;
    if n.is_nan() || n < 0.0 {
        return Err(SettingsError::invalid(key, value, EXPECTED));
    }
    // Milliseconds are divided (not multiplied by 0.001) so that `1.5ms` is exactly 1.5 ms.
    let secs = match millis_per_unit {
        1 => n / 1000.0,
        m => n * (m / 1000) as f64,
    };
    Ok(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

/// Parses an optional duration: `""`, `none` or `null` mean "no limit" (`None`).
pub(crate) fn parse_opt_duration(
    key: &str,
    value: &str,
) -> Result<Option<Duration>, SettingsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "none" | "null" => Ok(None),
        _ => parse_duration(key, value).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = [
            ("10", Duration::from_secs(10)),
            ("2.5", Duration::from_millis(2500)),
            ("0", Duration::ZERO),
            ("500ms", Duration::from_millis(500)),
            ("10s", Duration::from_secs(10)),
            ("2m", Duration::from_secs(120)),
            ("1h", Duration::from_secs(3600)),
            (" 7 ", Duration::from_secs(7)),
        ];
        for (input, expected) in ok {
            assert_eq!(parse_duration("K", input).unwrap(), expected, "{input}");
        }
        for bad in [
            "",
            "-1",
            "-1ms",
            "abc",
            "NaN",
            "10 parsecs",
            "ms",
            "1e",
            "0x10",
        ] {
            let err = parse_duration("DBCONFIG_TIMEOUT", bad).unwrap_err();
            assert!(err.to_string().contains("DBCONFIG_TIMEOUT"), "{err}");
        }
        // Too large for a `Duration`: saturated, for the range check to refuse.
        for huge in ["inf", "1e400", "1e20", "18446744073709551615h", "1e19m"] {
            assert_eq!(parse_duration("K", huge).unwrap(), Duration::MAX, "{huge}");
        }
        // Whole numbers are exact, so the largest allowed value is reachable in each unit.
        assert_eq!(
            parse_duration("K", "2147483647ms").unwrap(),
            crate::settings::DURATION_MAX
        );
        assert_eq!(
            parse_duration("K", "1e9").unwrap(),
            Duration::from_secs(1_000_000_000)
        );
        assert_eq!(
            parse_duration("K", "1.5ms").unwrap(),
            Duration::from_micros(1500)
        );
        assert_eq!(
            parse_duration("K", "0.1").unwrap(),
            Duration::from_millis(100)
        );
        assert_eq!(parse_duration("K", "-0").unwrap(), Duration::ZERO);
        assert_eq!(parse_opt_duration("K", "").unwrap(), None);
        assert_eq!(parse_opt_duration("K", "None").unwrap(), None);
        assert_eq!(parse_opt_duration("K", "0").unwrap(), Some(Duration::ZERO));
    }

    #[test]
    fn bools() {
        for t in ["true", "TRUE", "1", "yes", "on"] {
            assert!(parse_bool("K", t).unwrap());
        }
        for f in ["false", "0", "No", "off"] {
            assert!(!parse_bool("K", f).unwrap());
        }
        for bad in ["", "2", "truthy"] {
            assert!(parse_bool("K", bad).is_err());
        }
    }
}
