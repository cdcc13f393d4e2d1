//! RFC 3659 machine listings: `MLSD` lines, the `MLST` fact line, and `MDTM` replies. These
//! carry exact UTC times (second precision) and need no dialect guessing, so the backend
//! prefers them whenever the server offers them.

use crate::{Kind, Precision};

use super::RawEntry;
use super::date::utc_seconds;
use super::text::{all_digits, chomp, parse_digits};

/// Parses one `MLSD` line: `fact=value;fact=value; name`.
///
/// Fact names are case-insensitive; the name is everything after the first space (it may
/// contain spaces, `;` and `=`). Facts used: `type` (`file`, `dir`, `cdir`/`pdir` → `None`,
/// `OS.unix=slink:TARGET` → symlink, `OS.unix=symlink` without a target → other, anything
/// else → other), `size` (or `sizd` for directories), `modify` (`YYYYMMDDHHMMSS[.sss]`, UTC,
/// second precision) and `UNIX.mode` (octal; file-type bits dropped). A line without a `type`
/// fact is taken as a file, as servers that hide types serve only files.
///
/// The returned `path` is the name as given, relative to the listed directory and still
/// untrusted. `None` for `cdir`/`pdir`, an empty name, or a line without the separator.
pub fn parse_mlsd_line(line: &str) -> Option<RawEntry> {
    let line = chomp(line);
    let (facts, name) = line.split_once(' ')?;
    if name.is_empty() {
        return None;
    }
    let mut kind = Kind::File;
    let mut size = None;
    let mut mtime = None;
    let mut mode = None;
    for fact in facts.split(';') {
        let Some((key, value)) = fact.split_once('=') else {
            continue;
        };
        if key.eq_ignore_ascii_case("type") {
            // `cdir`/`pdir` end the line's interest.
            kind = mlsd_type(value)?;
        } else if key.eq_ignore_ascii_case("size") || key.eq_ignore_ascii_case("sizd") {
            size = parse_digits::<u64>(value);
        } else if key.eq_ignore_ascii_case("modify") {
            mtime = parse_timeval(value);
        } else if key.eq_ignore_ascii_case("unix.mode") {
            mode = all_digits(value)
                .then(|| u32::from_str_radix(value, 8).ok())
                .flatten()
                .map(|m| m & 0o7777);
        }
    }
    let size = if kind.is_dir() { Some(0) } else { size };
    Some(RawEntry {
        path: name.to_owned(),
        kind,
        size,
        mtime,
        precision: if mtime.is_some() {
            Precision::Second
        } else {
            Precision::Unknown
        },
        mode,
    })
}

/// Parses the fact line of an `MLST` reply (`250-` … ` facts; /path` … `250 End`): the
/// same as an `MLSD` line after its single leading space. The path is usually absolute.
pub fn parse_mlst_line(line: &str) -> Option<RawEntry> {
    parse_mlsd_line(line.strip_prefix(' ').unwrap_or(line))
}

/// The `type` fact's value; `None` for `cdir`/`pdir` (the listed directory and its parent).
fn mlsd_type(value: &str) -> Option<Kind> {
    let lower = value.to_ascii_lowercase();
    Some(match lower.as_str() {
        "file" => Kind::File,
        "dir" => Kind::Dir,
        "cdir" | "pdir" => return None,
        // `OS.unix=slink:TARGET` (RFC 3659's example form, pure-ftpd); the target keeps its
        // case, so it is cut from the original value.
        _ if lower.starts_with("os.unix=slink:") => {
            Kind::Symlink(Box::from(&value["os.unix=slink:".len()..]))
        }
        // `OS.unix=symlink` / `OS.unix=slink` without a target: a link we cannot recreate.
        _ => Kind::Other,
    })
}

/// `YYYYMMDDHHMMSS[.sss]` (UTC) to Unix seconds; the fraction is dropped.
fn parse_timeval(value: &str) -> Option<i64> {
    let digits = match value.split_once('.') {
        Some((d, frac)) if all_digits(frac) => d,
        Some(_) => return None,
        None => value,
    };
    if digits.len() != 14 || !all_digits(digits) {
        return None;
    }
    calendar(digits, 4)
}

/// Reads `YYYY…MMDDHHMMSS` where the year has `year_len` digits (4, or 5 for the Y2K bug).
fn calendar(d: &str, year_len: usize) -> Option<i64> {
    let year: i16 = parse_digits(d.get(..year_len)?)?;
    let year = if year_len == 5 {
        year - 19_000 + 1900
    } else {
        year
    };
    let two = |i: usize| -> Option<i8> { parse_digits(d.get(year_len + i..year_len + i + 2)?) };
    utc_seconds(year, two(0)?, two(2)?, two(4)?, two(6)?, two(8)?)
}

/// Parses an `MDTM` reply, `213 YYYYMMDDHHMMSS[.sss]` (UTC), to Unix seconds.
///
/// Also accepts the bare timestamp, and the old Y2K bug where servers printed `19` followed
/// by years-since-1900 (`19100…` for 2000). `None` for any other reply code or a malformed or
/// impossible time.
pub fn parse_mdtm_reply(text: &str) -> Option<i64> {
    let t = chomp(text).trim();
    let value = match t.strip_prefix("213") {
        Some(rest) if rest.starts_with([' ', '-']) => rest[1..].trim(),
        Some(_) if t.len() == 3 => return None,
        _ => t,
    };
    let digits = match value.split_once('.') {
        Some((d, frac)) if all_digits(frac) => d,
        Some(_) => return None,
        None => value,
    };
    if !all_digits(digits) {
        return None;
    }
    match digits.len() {
        14 => calendar(digits, 4),
        15 if digits.starts_with("19") => calendar(digits, 5),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::Kind::{Dir, File, Other};

    #[test]
    fn mlsd_table() {
        let cases: Vec<(&str, Option<RawEntry>)> = vec![
            // pure-ftpd
            (
                "type=file;size=1234;modify=20240301080000;UNIX.mode=0644;UNIX.uid=1000;UNIX.gid=1000;unique=803g2c6; file.txt",
                Some(ent(
                    "file.txt",
                    File,
                    Some(1234),
                    sec(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o644),
                )),
            ),
            (
                "type=dir;sizd=4096;modify=20240301080000;UNIX.mode=0755;unique=803g2c7; sub dir",
                Some(ent(
                    "sub dir",
                    Dir,
                    Some(0),
                    sec(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o755),
                )),
            ),
            (
                "type=OS.unix=slink:/srv/Target;size=10;modify=20240301080000;UNIX.mode=0777; link",
                Some(ent(
                    "link",
                    link("/srv/Target"),
                    Some(10),
                    sec(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o777),
                )),
            ),
            (
                "type=OS.unix=symlink;size=10;modify=20240301080000; link2",
                Some(ent(
                    "link2",
                    Other,
                    Some(10),
                    sec(utc(2024, 3, 1, 8, 0, 0)),
                    None,
                )),
            ),
            ("type=cdir;sizd=4096;modify=20240301080000; .", None),
            ("type=pdir;sizd=4096;modify=20240301080000; ..", None),
            // proftpd: facts in another order, mode with file-type bits, fractional seconds.
            (
                "modify=20231103110105.123;perm=adfr;size=5120;type=file;unique=FD00U1234;UNIX.group=0;UNIX.mode=0100640;UNIX.owner=0; report.pdf",
                Some(ent(
                    "report.pdf",
                    File,
                    Some(5120),
                    sec(utc(2023, 11, 3, 11, 1, 5)),
                    Some(0o640),
                )),
            ),
            // Case-insensitive fact names and values; a name with spaces and a semicolon.
            (
                "Type=File;Size=7;Modify=19991231235959; a; b =c.txt",
                Some(ent(
                    "a; b =c.txt",
                    File,
                    Some(7),
                    sec(utc(1999, 12, 31, 23, 59, 59)),
                    None,
                )),
            ),
            // Unknown type, impossible date, no facts at all.
            (
                "type=OS.unix=chr-1/3;modify=20241301000000; tty",
                Some(ent("tty", Other, None, unk(), None)),
            ),
            (
                " bare name",
                Some(ent("bare name", File, None, unk(), None)),
            ),
            ("type=file;size=1;", None),
            ("type=file;size=1; ", None),
            ("", None),
        ];
        for (line, want) in cases {
            assert_eq!(parse_mlsd_line(line), want, "{line}");
        }
        assert_eq!(
            parse_mlsd_line("type=file;size=3; crlf.txt\r\n").map(|e| e.path),
            Some("crlf.txt".to_owned())
        );
    }

    #[test]
    fn mlst_fact_line() {
        assert_eq!(
            parse_mlst_line(" type=file;size=3;modify=20240301080000; /pub/x.txt"),
            Some(ent(
                "/pub/x.txt",
                File,
                Some(3),
                sec(utc(2024, 3, 1, 8, 0, 0)),
                None
            ))
        );
    }

    #[test]
    fn mdtm_table() {
        let cases = [
            ("213 20240301080000", Some(utc(2024, 3, 1, 8, 0, 0))),
            ("213 20240301080000.123\r\n", Some(utc(2024, 3, 1, 8, 0, 0))),
            ("213 19980615100045.014", Some(utc(1998, 6, 15, 10, 0, 45))),
            ("20240301080000", Some(utc(2024, 3, 1, 8, 0, 0))),
            ("213 191000101120000", Some(utc(2000, 1, 1, 12, 0, 0))),
            ("213 191240301080000", Some(utc(2024, 3, 1, 8, 0, 0))),
            ("550 No such file", None),
            ("213 20241301000000", None),
            ("213 2024030108000", None),
            ("213 20240301080000.x", None),
            ("213", None),
            ("", None),
        ];
        for (reply, want) in cases {
            assert_eq!(parse_mdtm_reply(reply), want, "{reply}");
        }
    }
}
