//! Test helpers shared by the dialects' test tables: a fixed "now", UTC times, short
//! constructors for expected entries.

use crate::{Kind, Precision};

use super::{Ctx, ListParser, ListTz, ParseOptions, Parsed, RawEntry, RemoteFs};

/// Unix seconds of a UTC calendar time.
pub(crate) fn utc(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8) -> i64 {
    jiff::civil::datetime(y, mo, d, h, mi, s, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second()
}

/// The "now" of every table: 2024-03-15 12:00 UTC.
pub(crate) fn now() -> i64 {
    utc(2024, 3, 15, 12, 0, 0)
}

/// A context at `now`, UTC, base "".
pub(crate) fn cx_at(now: i64) -> Ctx {
    Ctx::new(ParseOptions::new(RemoteFs::Unix, ListTz::Utc, now), "")
}

/// Options for `fs` at [`now`], UTC.
pub(crate) fn opts(fs: RemoteFs) -> ParseOptions {
    ParseOptions::new(fs, ListTz::Utc, now())
}

/// Parses `text` as `fs` from the root.
pub(crate) fn parse(fs: RemoteFs, text: &str) -> Vec<Parsed> {
    ListParser::parse_all(opts(fs), "", text)
}

/// Only the entries of a parse.
pub(crate) fn entries(parsed: &[Parsed]) -> Vec<RawEntry> {
    parsed
        .iter()
        .filter_map(|p| match p {
            Parsed::Entry(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// An expected time: exact to the minute.
pub(crate) fn min(t: i64) -> (Option<i64>, Precision) {
    (Some(t), Precision::Minute)
}

/// An expected time: only the day.
pub(crate) fn day(t: i64) -> (Option<i64>, Precision) {
    (Some(t), Precision::Day)
}

/// An expected time: exact to the second.
pub(crate) fn sec(t: i64) -> (Option<i64>, Precision) {
    (Some(t), Precision::Second)
}

/// No time.
pub(crate) fn unk() -> (Option<i64>, Precision) {
    (None, Precision::Unknown)
}

/// An expected entry.
pub(crate) fn ent(
    path: &str,
    kind: Kind,
    size: Option<u64>,
    time: (Option<i64>, Precision),
    mode: Option<u32>,
) -> RawEntry {
    RawEntry {
        path: path.to_owned(),
        kind,
        size,
        mtime: time.0,
        precision: time.1,
        mode,
    }
}

/// A symlink kind.
pub(crate) fn link(target: &str) -> Kind {
    Kind::Symlink(Box::from(target))
}

/// A `Parsed::Problem`.
pub(crate) fn problem(dir: &str, message: &str) -> Parsed {
    Parsed::Problem {
        dir: dir.to_owned(),
        message: message.to_owned(),
    }
}
