use time::macros::{date, datetime};

use super::text::{format_date, format_timestamp, parse_date, parse_timestamp};
use super::*;

#[test]
fn timestamps_are_written_in_utc_with_microseconds_and_read_back() {
    let t = datetime!(2026-12-03 10:36:15.123456789 +05:30);
    let s = format_timestamp(t).unwrap();
    assert_eq!(s, "2026-12-03 05:06:15.123456+00:00");
    let back = parse_timestamp(&s).unwrap();
    assert_eq!(back, datetime!(2026-12-03 10:36:15.123456 +05:30));
}

#[test]
fn timestamp_text_forms_that_sqlite_and_iso_8601_write_are_read() {
    for (text, want) in [
        ("2026-12-03 05:06:15", datetime!(2026-12-03 05:06:15 UTC)),
        ("2026-12-03T05:06:15Z", datetime!(2026-12-03 05:06:15 UTC)),
        (
            "2026-12-03T05:06:15.5-02:00",
            datetime!(2026-12-03 07:06:15.5 UTC),
        ),
        ("2026-12-03 05:06", datetime!(2026-12-03 05:06 UTC)),
        (
            "2026-12-03 05:06:15+0530",
            datetime!(2026-12-02 23:36:15 UTC),
        ),
    ] {
        assert_eq!(parse_timestamp(text).unwrap(), want, "{text}");
    }
    for bad in [
        "",
        "2026-13-01 00:00:00",
        "2026-12-03",
        "2026-12-03 05:06:15 junk",
        "x",
    ] {
        assert!(parse_timestamp(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn dates_round_trip_and_years_past_9999_are_refused() {
    assert_eq!(format_date(date!(0001 - 02 - 03)).unwrap(), "0001-02-03");
    assert_eq!(parse_date("2024-02-29").unwrap(), date!(2024 - 02 - 29));
    assert!(parse_date("2023-02-29").is_err());
    assert!(format_timestamp(datetime!(-0001-01-01 0:00 UTC)).is_err());
}

#[test]
fn conversions_are_lenient_only_where_nothing_is_lost() {
    assert_eq!(bool::from_value(&Value::Int(1)), Ok(true));
    assert!(bool::from_value(&Value::Int(2)).is_err());
    assert!(i32::from_value(&Value::Int(i64::from(i32::MAX) + 1)).is_err());
    assert_eq!(f64::from_value(&Value::Int(3)), Ok(3.0));
    assert!(f64::from_value(&Value::Int(i64::MAX)).is_err());
    assert_eq!(Option::<i64>::from_value(&Value::Null), Ok(None));
    assert!(i64::from_value(&Value::Null).is_err());
    let u = Uuid::from_u128(0x1234);
    assert_eq!(Uuid::from_value(&Value::Text(u.to_string())), Ok(u));
    assert_eq!(
        serde_json::Value::from_value(&Value::Int(7)),
        Ok(serde_json::json!(7))
    );
    assert!(String::from_value(&Value::Int(7)).is_err());
}
