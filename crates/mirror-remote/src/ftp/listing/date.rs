//! Dates in listings (spec §4.9, §5.5): month names, two-digit years, year inference for
//! `Mon DD HH:MM`, and wall-clock → Unix seconds in the listing's time zone, each result
//! tagged with its [`Precision`].
//!
//! Differences from mirror.pl's `dateconv.pl`, all on purpose:
//! * An impossible date (Feb 30, 25:00) is *unknown* (`None`), never "now".
//! * Four-digit years are used as given; there is no modulo-100 arithmetic, so 1969 and
//!   2038+ work.
//! * Two-digit years are windowed: 70–99 → 1970–1999, 00–69 → 2000–2069.
//! * Year inference keeps mirror.pl's rule (this year, or last year if the month is later
//!   than the current month) but judges "current" from *now + 1 day* in the listing's zone,
//!   so a server a few hours ahead of us that lists a file made just after midnight on the
//!   1st is not dated a year back.

use crate::Precision;

use super::Ctx;
use super::text::{Tok, all_digits, parse_digits};

/// A modification time and how exact it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) mtime: Option<i64>,
    pub(crate) precision: Precision,
}

impl Stamp {
    /// No usable time.
    pub(crate) const UNKNOWN: Stamp = Stamp {
        mtime: None,
        precision: Precision::Unknown,
    };

    /// An exact Unix time.
    pub(crate) fn seconds(t: i64) -> Stamp {
        Stamp {
            mtime: Some(t),
            precision: Precision::Second,
        }
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A three-letter English month name, any case, to 1..=12.
pub(crate) fn month_name(s: &str) -> Option<i8> {
    if s.len() != 3 {
        return None;
    }
    let pos = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(s))?;
    i8::try_from(pos + 1).ok()
}

/// A month given by name or by number (`dateconv.pl` accepted both in `DD-MMM-YYYY`).
pub(crate) fn month_any(s: &str) -> Option<i8> {
    month_name(s).or_else(|| {
        let n: i8 = parse_digits(s).filter(|_| s.len() <= 2)?;
        (1..=12).contains(&n).then_some(n)
    })
}

/// A day of the month, one or two digits, 1..=31 (the calendar check comes later).
pub(crate) fn day(s: &str) -> Option<i8> {
    if s.len() > 2 {
        return None;
    }
    let d: i8 = parse_digits(s)?;
    (1..=31).contains(&d).then_some(d)
}

/// A year: four digits as given, two digits windowed (70–99 → 19YY, 00–69 → 20YY).
/// mirror.pl glued `19` in front (`19$yr`), the Y2K bug of its DOS-style parsers.
pub(crate) fn year(s: &str) -> Option<i16> {
    match s.len() {
        4 => parse_digits(s),
        2 => parse_digits::<i16>(s).map(|yy| if yy >= 70 { 1900 + yy } else { 2000 + yy }),
        _ => None,
    }
}

/// True for a four-digit year token.
pub(crate) fn is_year4(s: &str) -> bool {
    s.len() == 4 && all_digits(s)
}

/// `H:MM` or `HH:MM`; values are not range-checked here (the calendar does that, so a
/// well-shaped but impossible time still marks the line as an entry, with an unknown time).
pub(crate) fn hm(s: &str) -> Option<(i8, i8)> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    Some((parse_digits(h)?, parse_digits(m)?))
}

/// `HH:MM:SS`, optionally followed by `.fraction` (dropped: we keep whole seconds).
pub(crate) fn hms(s: &str) -> Option<(i8, i8, i8)> {
    let s = match s.split_once('.') {
        Some((whole, frac)) if all_digits(frac) => whole,
        Some(_) => return None,
        None => s,
    };
    let (hm_part, sec) = s.rsplit_once(':')?;
    let (h, m) = hm(hm_part)?;
    if sec.len() != 2 {
        return None;
    }
    Some((h, m, parse_digits(sec)?))
}

/// Unix seconds for a UTC calendar time (MLSD, MDTM, EPLF are all UTC).
pub(crate) fn utc_seconds(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8) -> Option<i64> {
    let dt = jiff::civil::DateTime::new(y, mo, d, h, mi, s, 0).ok()?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(dt)
        .ok()
        .map(|t| t.as_second())
}

impl Ctx {
    /// The time of a wall-clock reading in the listing's zone, at `precision`; unknown if the
    /// reading is not a real date. Ambiguous local times (the repeated hour when DST ends)
    /// take the earlier instant, and times in a DST gap are pushed forward, as `mktime` does.
    pub(crate) fn at(
        &self,
        (y, mo, d): (i16, i8, i8),
        (h, mi, s): (i8, i8, i8),
        precision: Precision,
    ) -> Stamp {
        let Ok(dt) = jiff::civil::DateTime::new(y, mo, d, h, mi, s, 0) else {
            return Stamp::UNKNOWN;
        };
        match self.zone.to_timestamp(dt) {
            Ok(t) => Stamp {
                mtime: Some(t.as_second()),
                precision,
            },
            Err(_) => Stamp::UNKNOWN,
        }
    }

    /// Spec §4.9: the current year, or the previous one if `month` is later than the
    /// current month; "current" being one day ahead of `now` (see the module doc).
    pub(crate) fn infer_year(&self, month: i8) -> i16 {
        if month > self.ref_month {
            self.ref_year - 1
        } else {
            self.ref_year
        }
    }

    /// `Mon DD HH:MM` with the year inferred: minute precision.
    pub(crate) fn recent(&self, month: i8, day: i8, h: i8, mi: i8) -> Stamp {
        self.at(
            (self.infer_year(month), month, day),
            (h, mi, 0),
            Precision::Minute,
        )
    }

    /// `Mon DD YYYY`: midnight in the listing's zone, day precision.
    pub(crate) fn dated(&self, y: i16, month: i8, day: i8) -> Stamp {
        self.at((y, month, day), (0, 0, 0), Precision::Day)
    }
}

/// Where an `ls -l` style date sits in a tokenized line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LsDate {
    /// Index of the month token; the size (or whatever number the dialect puts before the
    /// date) is at `month_idx - 1`.
    pub(crate) month_idx: usize,
    /// Index of the first token of the name (always present).
    pub(crate) name_idx: usize,
    pub(crate) stamp: Stamp,
}

/// Finds the `NUMBER Mon DD HH:MM|YYYY NAME` group of an `ls -l` line, starting with the
/// month at `min_month_idx` or later. With `yy_time`, NetWare's `Mon DD YY HH:MM` is also
/// accepted.
///
/// mirror.pl's regex (`.*\D(\d+)\s*Mon...`) took the *last* such group on the line, so a
/// name containing something like ` 2 Feb 3 2020 x` swallowed the real fields. We take the
/// first group whose month is a real month name and whose day is 1..=31, which the fixed
/// columns (mode, links, owner, group) can't fake.
pub(crate) fn find_ls_date(
    cx: &Ctx,
    toks: &[Tok<'_>],
    min_month_idx: usize,
    yy_time: bool,
) -> Option<LsDate> {
    let first = min_month_idx.max(1);
    for m in first..toks.len() {
        if !all_digits(toks[m - 1].text) {
            continue;
        }
        let Some(month) = month_name(toks[m].text) else {
            continue;
        };
        let Some(dd) = toks.get(m + 1).and_then(|t| day(t.text)) else {
            continue;
        };
        let Some(third) = toks.get(m + 2) else {
            continue;
        };
        let found = if let Some((h, mi)) = hm(third.text) {
            Some((m + 3, cx.recent(month, dd, h, mi)))
        } else if is_year4(third.text) {
            year(third.text).map(|y| (m + 3, cx.dated(y, month, dd)))
        } else if yy_time && third.text.len() == 2 {
            match (year(third.text), toks.get(m + 3).and_then(|t| hm(t.text))) {
                (Some(y), Some((h, mi))) => {
                    Some((m + 4, cx.at((y, month, dd), (h, mi, 0), Precision::Minute)))
                }
                _ => None,
            }
        } else {
            None
        };
        if let Some((name_idx, stamp)) = found
            && name_idx < toks.len()
        {
            return Some(LsDate {
                month_idx: m,
                name_idx,
                stamp,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{cx_at, utc};
    use super::*;

    #[test]
    fn two_digit_years_are_windowed() {
        assert_eq!(year("70"), Some(1970));
        assert_eq!(year("99"), Some(1999));
        assert_eq!(year("00"), Some(2000));
        assert_eq!(year("69"), Some(2069));
        assert_eq!(year("2024"), Some(2024));
        assert_eq!(year("123"), None);
    }

    #[test]
    fn pieces() {
        assert_eq!(month_name("JAN"), Some(1));
        assert_eq!(month_name("dEc"), Some(12));
        assert_eq!(month_name("June"), None);
        assert_eq!(month_any("07"), Some(7));
        assert_eq!(month_any("13"), None);
        assert_eq!(hm("9:05"), Some((9, 5)));
        assert_eq!(hm("09:5"), None);
        assert_eq!(hms("10:18:33.52"), Some((10, 18, 33)));
        assert_eq!(hms("10:18"), None);
        assert_eq!(day("0"), None);
        assert_eq!(day("31"), Some(31));
    }

    #[test]
    fn year_inference_follows_the_month_rule() {
        // now = 2024-03-15 12:00 UTC
        let cx = cx_at(utc(2024, 3, 15, 12, 0, 0));
        // Same month, even a few days ahead: this year (mirror.pl's rule).
        assert_eq!(
            cx.recent(3, 20, 10, 0).mtime,
            Some(utc(2024, 3, 20, 10, 0, 0))
        );
        // Earlier month: this year.
        assert_eq!(cx.recent(1, 2, 3, 4).mtime, Some(utc(2024, 1, 2, 3, 4, 0)));
        // Later month: last year.
        assert_eq!(cx.recent(4, 1, 0, 0).mtime, Some(utc(2023, 4, 1, 0, 0, 0)));
        assert_eq!(
            cx.recent(12, 31, 23, 59).mtime,
            Some(utc(2023, 12, 31, 23, 59, 0))
        );
        assert_eq!(cx.recent(4, 1, 0, 0).precision, Precision::Minute);
    }

    #[test]
    fn year_inference_tolerates_a_server_ahead_of_us() {
        // We are at 23:30 on Dec 31; the server is already in the new year.
        let cx = cx_at(utc(2024, 12, 31, 23, 30, 0));
        assert_eq!(
            cx.recent(1, 1, 0, 15).mtime,
            Some(utc(2025, 1, 1, 0, 15, 0))
        );
        assert_eq!(
            cx.recent(12, 31, 23, 0).mtime,
            Some(utc(2024, 12, 31, 23, 0, 0))
        );
        // Month boundary, same idea: mirror.pl would have said 2023-04-01.
        let cx = cx_at(utc(2024, 3, 31, 22, 0, 0));
        assert_eq!(cx.recent(4, 1, 1, 0).mtime, Some(utc(2024, 4, 1, 1, 0, 0)));
    }

    #[test]
    fn impossible_dates_are_unknown_not_now() {
        let cx = cx_at(utc(2024, 3, 15, 12, 0, 0));
        assert_eq!(cx.dated(2023, 2, 30), Stamp::UNKNOWN);
        assert_eq!(cx.recent(1, 5, 25, 0), Stamp::UNKNOWN);
        // Feb 29 in an inferred non-leap year.
        let cx = cx_at(utc(2023, 3, 15, 12, 0, 0));
        assert_eq!(cx.recent(2, 29, 1, 0), Stamp::UNKNOWN);
    }

    #[test]
    fn four_digit_years_outside_the_perl_range() {
        let cx = cx_at(utc(2024, 3, 15, 12, 0, 0));
        assert_eq!(cx.dated(1969, 7, 20).mtime, Some(utc(1969, 7, 20, 0, 0, 0)));
        assert_eq!(cx.dated(2040, 1, 1).mtime, Some(utc(2040, 1, 1, 0, 0, 0)));
        assert_eq!(cx.dated(2040, 1, 1).precision, Precision::Day);
    }
}
