//! The text forms SQLite stores dates and timestamps in (ISO-8601, UTC), written and read
//! without format descriptions.

use std::fmt::Write as _;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// `YYYY-MM-DD HH:MM:SS.ffffff+00:00` in UTC, microseconds truncated: fixed width, so text order
/// is time order (also against SQLite's `CURRENT_TIMESTAMP`, `YYYY-MM-DD HH:MM:SS`).
///
/// # Errors
/// A year outside 0000–9999 (no fixed-width text form).
pub(crate) fn format_timestamp(t: OffsetDateTime) -> Result<String, String> {
    let t = t.to_offset(UtcOffset::UTC);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return Err(format!("the year {year} is outside 0000-9999"));
    }
    let mut s = String::with_capacity(32);
    let _ = write!(
        s,
        "{year:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00:00",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    );
    Ok(s)
}

/// `YYYY-MM-DD`.
///
/// # Errors
/// A year outside 0000–9999.
pub(crate) fn format_date(d: Date) -> Result<String, String> {
    let year = d.year();
    if !(0..=9999).contains(&year) {
        return Err(format!("the year {year} is outside 0000-9999"));
    }
    Ok(format!(
        "{year:04}-{:02}-{:02}",
        u8::from(d.month()),
        d.day()
    ))
}

struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let part = self.s.get(self.at..self.at + n)?;
        let mut v = 0u32;
        for &b in part {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(b - b'0');
        }
        self.at += n;
        Some(v)
    }

    fn eat(&mut self, any_of: &[u8]) -> Option<u8> {
        let b = *self.s.get(self.at)?;
        if any_of.contains(&b) {
            self.at += 1;
            Some(b)
        } else {
            None
        }
    }

    fn done(&self) -> bool {
        self.at == self.s.len()
    }
}

fn date_part(c: &mut Cursor<'_>) -> Option<Date> {
    let year = c.digits(4)?;
    c.eat(b"-")?;
    let month = c.digits(2)?;
    c.eat(b"-")?;
    let day = c.digits(2)?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

/// Reads `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Result<Date, String> {
    let mut c = Cursor {
        s: s.as_bytes(),
        at: 0,
    };
    match date_part(&mut c) {
        Some(d) if c.done() => Ok(d),
        _ => Err(format!("the text {s:?} is not a date (YYYY-MM-DD)")),
    }
}

/// Reads an ISO-8601 timestamp: `YYYY-MM-DD`, `T` or a space, `HH:MM[:SS[.fraction]]`, then `Z`,
/// `±HH[:MM]` or nothing (UTC, as SQLite's `CURRENT_TIMESTAMP` writes it).
pub(crate) fn parse_timestamp(s: &str) -> Result<OffsetDateTime, String> {
    parse_timestamp_inner(s).ok_or_else(|| format!("the text {s:?} is not an ISO-8601 timestamp"))
}

fn parse_timestamp_inner(s: &str) -> Option<OffsetDateTime> {
    let mut c = Cursor {
        s: s.as_bytes(),
        at: 0,
    };
    let date = date_part(&mut c)?;
    c.eat(b"T ")?;
    let hour = c.digits(2)?;
    c.eat(b":")?;
    let minute = c.digits(2)?;
    let mut second = 0;
    let mut nanos = 0u32;
    if c.eat(b":").is_some() {
        second = c.digits(2)?;
        if c.eat(b".").is_some() {
            let mut n = 0;
            while let Some(d) = c.digits(1) {
                if n < 9 {
                    nanos = nanos * 10 + d;
                }
                n += 1;
            }
            if n == 0 {
                return None;
            }
            for _ in n..9 {
                nanos *= 10;
            }
        }
    }
    let offset = match c.eat(b"Zz+-") {
        None => UtcOffset::UTC,
        Some(b'Z' | b'z') => UtcOffset::UTC,
        Some(sign) => {
            let h = c.digits(2)?;
            c.eat(b":");
            let m = c.digits(2).unwrap_or(0);
            let (h, m) = (i8::try_from(h).ok()?, i8::try_from(m).ok()?);
            let (h, m) = if sign == b'-' { (-h, -m) } else { (h, m) };
            UtcOffset::from_hms(h, m, 0).ok()?
        }
    };
    if !c.done() {
        return None;
    }
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanos,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}
