//! Sizes and dates as index pages print them, each tagged with how exact it is.
//!
//! Sizes: a bare integer is exact bytes (every server here prints small sizes exactly, and
//! nginx and Caddy print all of them exactly when asked); a number with a unit (`1.5K`,
//! `5G`, `0.1K`) is humanized, taken as mantissa × 1024^unit, and marked inexact; `-` is no
//! size (directories).
//!
//! Dates: wall-clock forms (`2024-01-02 03:04`, `02-Jan-2024 03:04`, `2024-Jan-02 03:04:05`)
//! are read in the caller's time zone and are exact to the minute or second they show;
//! forms that carry their own offset (RFC 3339, RFC 1123, Go's `2006-01-02 15:04:05.999
//! -0700 MST`) need no zone.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

use crate::Precision;

/// A size as the page states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Size {
    /// Bytes (for a humanized size, the stated value × its unit, rounded).
    pub(crate) bytes: u64,
    /// False for humanized sizes.
    pub(crate) exact: bool,
}

/// A time and its precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) mtime: i64,
    pub(crate) precision: Precision,
}

/// Parses one size word: `12`, `1.5K`, `5G`, `2.0MiB`, `3 kB` is *not* one word. `-` and
/// anything else give `None`.
pub(crate) fn size(word: &str) -> Option<Size> {
    let w = word.trim();
    if !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) {
        return w.parse().ok().map(|bytes| Size { bytes, exact: true });
    }
    let num_end = w.bytes().position(|b| !(b.is_ascii_digit() || b == b'.'))?;
    let (num, unit) = w.split_at(num_end);
    let unit = unit
        .strip_suffix("iB")
        .or_else(|| unit.strip_suffix('B'))
        .unwrap_or(unit);
    let power: u32 = match unit {
        "K" | "k" => 1,
        "M" | "m" => 2,
        "G" | "g" => 3,
        "T" | "t" => 4,
        "P" | "p" => 5,
        "E" | "e" => 6,
        _ => return None,
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() || int.len() > 20 || frac.len() > 6 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Fixed point in u128: int.frac × 1024^power, rounded half up. No floats, no overflow
    // panic: anything beyond u64 is refused.
    let scale = 10u128.pow(frac.len() as u32);
    let mantissa = int.parse::<u128>().ok()? * scale + frac.parse::<u128>().unwrap_or(0);
    let bytes = (mantissa * 1024u128.pow(power) + scale / 2) / scale;
    Some(Size {
        bytes: u64::try_from(bytes).ok()?,
        exact: false,
    })
}

/// Finds the first `date time` pair among `words` and returns it with the size word that
/// follows it, if any. This is the whole layout of Apache's, nginx's and lighttpd's rows:
/// whatever precedes the date (a `/` after a lighttpd directory name) and follows the size
/// (descriptions, MIME types) is ignored.
pub(crate) fn date_and_size(words: &[&str], tz: &TimeZone) -> (Option<Stamp>, Option<Size>) {
    for i in 0..words.len().saturating_sub(1) {
        if let Some(stamp) = wall_clock(words[i], words[i + 1], tz) {
            return (Some(stamp), words.get(i + 2).and_then(|w| size(w)));
        }
    }
    (None, None)
}

/// `date` and `time` words in one of the wall-clock layouts, read in `tz`.
pub(crate) fn wall_clock(date: &str, time: &str, tz: &TimeZone) -> Option<Stamp> {
    let (y, mo, d) = civil_date(date)?;
    let (h, mi, s, precision) = clock(time)?;
    let dt = DateTime::new(y, mo, d, h, mi, s, 0).ok()?;
    let mtime = tz.to_ambiguous_zoned(dt).compatible().ok()?;
    Some(Stamp {
        mtime: mtime.timestamp().as_second(),
        precision,
    })
}

/// `YYYY-MM-DD` (Apache 2.4), `DD-Mon-YYYY` (nginx, Apache 2.2), `YYYY-Mon-DD` (lighttpd).
fn civil_date(w: &str) -> Option<(i16, i8, i8)> {
    let mut parts = w.split('-');
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    if a.len() == 4 {
        let y = digits(a)?;
        let mo = month_name(b).or_else(|| digits(b).filter(|_| b.len() == 2))?;
        Some((y, mo, digits(c).filter(|_| c.len() == 2)?))
    } else if c.len() == 4 && a.len() == 2 {
        Some((digits(c)?, month_name(b)?, digits(a)?))
    } else {
        None
    }
}

/// `HH:MM` (minute precision) or `HH:MM:SS` (second precision).
fn clock(w: &str) -> Option<(i8, i8, i8, Precision)> {
    let mut parts = w.split(':');
    let h = two_digits(parts.next()?)?;
    let mi = two_digits(parts.next()?)?;
    let (s, precision) = match parts.next() {
        Some(s) => (two_digits(s)?, Precision::Second),
        None => (0, Precision::Minute),
    };
    if parts.next().is_some() {
        return None;
    }
    Some((h, mi, s, precision))
}

/// An RFC 3339 time (Caddy, nginx XML): exact to the second; fractions are dropped
/// (truncated towards the past, as a filesystem would store them at second precision).
pub(crate) fn rfc3339(s: &str) -> Option<Stamp> {
    let ts: Timestamp = s.trim().parse().ok()?;
    Some(seconds(ts))
}

/// An RFC 1123 / RFC 2822 time (`Sat, 15 Jun 2024 12:34:56 GMT`, nginx JSON).
pub(crate) fn rfc1123(s: &str) -> Option<Stamp> {
    let ts = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(s.trim())
        .ok()?;
    Some(seconds(ts))
}

/// Go's `time.Time.String()` layout, which rclone prints: `2024-06-15 12:34:56 +0000 UTC`,
/// with an optional fraction after the seconds and a zone abbreviation that is ignored
/// (the numeric offset is authoritative).
pub(crate) fn go_time(s: &str) -> Option<Stamp> {
    let mut words = s.split_ascii_whitespace();
    let (date, time, offset) = (words.next()?, words.next()?, words.next()?);
    let (y, mo, d) = civil_date(date)?;
    let (time, frac) = time.split_once('.').unwrap_or((time, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, mi, sec, Precision::Second) = clock(time)? else {
        return None;
    };
    let offset = numeric_offset(offset)?;
    let dt = DateTime::new(y, mo, d, h, mi, sec, 0).ok()?;
    let ts = offset.to_timestamp(dt).ok()?;
    Some(seconds(ts))
}

/// `±HHMM` to an offset.
fn numeric_offset(w: &str) -> Option<Offset> {
    let (sign, rest) = match w.as_bytes().first()? {
        b'+' => (1, &w[1..]),
        b'-' => (-1, &w[1..]),
        _ => return None,
    };
    if rest.len() != 4 {
        return None;
    }
    let h: i32 = digits(&rest[..2])?;
    let m: i32 = digits(&rest[2..])?;
    if h > 23 || m > 59 {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// Whole seconds of `ts`, rounding sub-second times before 1970 down too.
fn seconds(ts: Timestamp) -> Stamp {
    let mut mtime = ts.as_second();
    if ts.subsec_nanosecond() < 0 {
        mtime -= 1;
    }
    Stamp {
        mtime,
        precision: Precision::Second,
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// An English three-letter month name, any case, to 1..=12.
fn month_name(s: &str) -> Option<i8> {
    let pos = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(s))?;
    i8::try_from(pos + 1).ok()
}

/// Exactly two ASCII digits.
fn two_digits(s: &str) -> Option<i8> {
    if s.len() == 2 { digits(s) } else { None }
}

/// A non-empty run of ASCII digits (no sign, no spaces) as a number.
fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8) -> i64 {
        jiff::civil::datetime(y, mo, d, h, mi, s, 0)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_second()
    }

    fn exact(bytes: u64) -> Option<Size> {
        Some(Size { bytes, exact: true })
    }

    fn about(bytes: u64) -> Option<Size> {
        Some(Size {
            bytes,
            exact: false,
        })
    }

    #[test]
    fn sizes() {
        assert_eq!(size("0"), exact(0));
        assert_eq!(size(" 5368709121 "), exact(5_368_709_121));
        assert_eq!(size("18446744073709551615"), exact(u64::MAX));
        assert_eq!(size("18446744073709551616"), None);
        assert_eq!(size("1.5K"), about(1536));
        assert_eq!(size("0.1K"), about(102));
        assert_eq!(size("5.0G"), about(5 << 30));
        assert_eq!(size("5G"), about(5 << 30));
        assert_eq!(size("12k"), about(12 << 10));
        assert_eq!(size("2.0MiB"), about(2 << 20));
        assert_eq!(size("3MB"), about(3 << 20));
        assert_eq!(size("16E"), None);
        for bad in [
            "-",
            "",
            "K",
            ".K",
            "1.2.3K",
            "1,5K",
            "1.5X",
            "-1",
            "1.5",
            "12 B",
            "1.1234567K",
        ] {
            assert_eq!(size(bad), None, "{bad}");
        }
    }

    #[test]
    fn wall_clock_layouts() {
        let tz = TimeZone::UTC;
        let minute = |t| {
            Some(Stamp {
                mtime: t,
                precision: Precision::Minute,
            })
        };
        let second = |t| {
            Some(Stamp {
                mtime: t,
                precision: Precision::Second,
            })
        };
        let t = utc(2024, 1, 2, 3, 4, 0);
        assert_eq!(wall_clock("2024-01-02", "03:04", &tz), minute(t));
        assert_eq!(wall_clock("02-Jan-2024", "03:04", &tz), minute(t));
        assert_eq!(wall_clock("2024-Jan-02", "03:04:05", &tz), second(t + 5));
        assert_eq!(wall_clock("2024-jan-02", "03:04", &tz), minute(t));
        let plus_one = TimeZone::fixed(Offset::from_seconds(3600).unwrap());
        assert_eq!(
            wall_clock("2024-01-02", "03:04", &plus_one),
            minute(t - 3600)
        );
        for (d, h) in [
            ("2024-02-30", "03:04"),
            ("2024-01-02", "24:00"),
            ("2024-01-02", "3:04"),
            ("2024-13-02", "03:04"),
            ("2-Jan-2024", "03:04"),
            ("2024-Foo-02", "03:04"),
            ("2024-01-02-03", "03:04"),
            ("2024-01-02", "03:04:05:06"),
            ("+024-01-02", "03:04"),
        ] {
            assert_eq!(wall_clock(d, h, &tz), None, "{d} {h}");
        }
        let words = ["/", "2024-Jun-15", "12:34:56", "-", "Directory"];
        assert_eq!(
            date_and_size(&words, &tz),
            (second(utc(2024, 6, 15, 12, 34, 56)), None)
        );
        let words = ["2024-01-02", "03:04", "1.5K", "desc"];
        assert_eq!(date_and_size(&words, &tz), (minute(t), about(1536)));
        assert_eq!(date_and_size(&["12", "03:04"], &tz), (None, None));
    }

    #[test]
    fn zoned_layouts() {
        let t = utc(2024, 6, 15, 12, 34, 56);
        let second = Some(Stamp {
            mtime: t,
            precision: Precision::Second,
        });
        assert_eq!(rfc3339(" 2024-06-15T12:34:56Z"), second);
        assert_eq!(rfc3339("2024-06-15T14:34:56.999+02:00"), second);
        assert_eq!(rfc1123("Sat, 15 Jun 2024 12:34:56 GMT"), second);
        assert_eq!(go_time("2024-06-15 12:34:56 +0000 UTC"), second);
        assert_eq!(go_time("2024-06-15 14:34:56.123456789 +0200 CEST"), second);
        assert_eq!(go_time("2024-06-15 08:34:56 -0400"), second);
        assert_eq!(rfc3339("1969-12-31T23:59:59.5Z").map(|s| s.mtime), Some(-1));
        for bad in [
            "2024-06-15 12:34 +0000 UTC",
            "2024-06-15 12:34:56 UTC",
            "2024-06-15 12:34:56.x +0000",
            "2024-06-15 12:34:56 +2400",
            "2024-06-15",
            "",
        ] {
            assert_eq!(go_time(bad), None, "{bad}");
        }
        assert_eq!(rfc3339("yesterday"), None);
        assert_eq!(rfc1123("Sat, 15 Jun 2024"), None);
    }
}
