//! The one-line-per-entry dialects with exact or machine-written fields: `eplf`, `ctan`,
//! `cms` and `lsparse`. None keeps state.
//!
//! Unlike mirror.pl, every one of them places its names under the base directory (it
//! returned them bare, which broke them under `recurse_hard`), and each reads its dates
//! itself instead of through `dateconv.pl` (which could not read CMS dates at all and made
//! every CMS file "now").

use crate::{Kind, Precision};

use super::date::{Stamp, day, hms, month_name, year};
use super::text::{all_digits, is_blank, is_dot, join, parse_digits, tokens, trim_ws_start};
use super::{Ctx, Format, Parsed, RawEntry};

fn push(out: &mut Vec<Parsed>, line: &str, entry: Option<Option<RawEntry>>) {
    match entry {
        Some(Some(e)) => out.push(Parsed::Entry(e)),
        Some(None) => {}
        None => out.push(Parsed::Unmatched(line.to_owned())),
    }
}

/// Bernstein's EPLF: `+fact,fact,...,\tname`. Facts: `/` directory, `r` retrievable file,
/// `s<bytes>`, `m<unix seconds>` (exact, UTC), `up<octal>` permissions, `i<id>`.
/// mirror.pl's regex demanded the facts in one particular order; any order is fine here.
pub(super) struct Eplf;

fn eplf_entry(cx: &Ctx, line: &str) -> Option<Option<RawEntry>> {
    let body = line.strip_prefix('+')?;
    // The name follows a single TAB; some servers put spaces instead.
    let (facts, name) = match body.split_once('\t') {
        Some(split) => split,
        None => {
            let (f, n) = body.split_once(' ')?;
            (f, trim_ws_start(n))
        }
    };
    if name.is_empty() {
        return None;
    }
    if is_dot(name) {
        return Some(None);
    }
    let (mut dir, mut retr, mut size, mut mtime, mut perm) = (false, false, None, None, None);
    for fact in facts.split(',') {
        match fact.as_bytes().first() {
            Some(b'/') => dir = true,
            Some(b'r') => retr = true,
            Some(b's') => size = parse_digits::<u64>(&fact[1..]),
            Some(b'm') => mtime = parse_digits::<i64>(&fact[1..]),
            Some(b'u') if fact.starts_with("up") && all_digits(&fact[2..]) => {
                perm = u32::from_str_radix(&fact[2..], 8).ok().map(|m| m & 0o7777)
            }
            _ => {}
        }
    }
    let (kind, size, default_mode) = if dir {
        (Kind::Dir, Some(0), Some(0o755))
    } else if retr {
        (Kind::File, size, Some(0o444))
    } else {
        (Kind::Other, size, None)
    };
    let stamp = mtime.map_or(Stamp::UNKNOWN, Stamp::seconds);
    Some(Some(RawEntry {
        path: join(&cx.base, name)?,
        kind,
        size,
        mtime: stamp.mtime,
        precision: stamp.precision,
        mode: perm.or(default_mode),
    }))
}

impl Format for Eplf {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if !is_blank(line) {
            push(out, line, eplf_entry(cx, line));
        }
    }
}

/// CTAN's `FILES` list: `  22670 Mon Jul 20 12:36:34 1992 path`. All files, mode 0444.
pub(super) struct Ctan;

fn ctan_entry(cx: &Ctx, line: &str) -> Option<RawEntry> {
    let toks = tokens(line);
    let size: u64 = parse_digits(toks.first()?.text)?;
    let weekday = toks.get(1)?.text;
    if weekday.len() != 3 || !weekday.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let month = month_name(toks.get(2)?.text)?;
    let dd = day(toks.get(3)?.text)?;
    let (h, mi, s) = hms(toks.get(4)?.text)?;
    let yy: i16 = parse_digits(toks.get(5)?.text).filter(|_| toks[5].text.len() == 4)?;
    let name = &line[toks.get(6)?.start..];
    let stamp = cx.at((yy, month, dd), (h, mi, s), Precision::Second);
    Some(RawEntry {
        path: join(&cx.base, name)?,
        kind: Kind::File,
        size: Some(size),
        mtime: stamp.mtime,
        precision: stamp.precision,
        mode: Some(0o444),
    })
}

impl Format for Ctan {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if !is_blank(line) {
            push(out, line, ctan_entry(cx, line).map(Some));
        }
    }
}

/// VM/CMS `LIST`: `FN FT FM RECFM LRECL RECS BLOCKS MM/DD/YY HH:MM:SS`. The path is
/// `fn.ft.fm`, lower-cased; the size is LRECL × RECS, a guess mirror.pl made too (exact only
/// for fixed-length records). Lines without a date (column headings) are skipped.
pub(super) struct Cms;

fn cms_entry(cx: &Ctx, line: &str) -> Option<RawEntry> {
    let toks = tokens(line);
    if toks.len() < 9 {
        return None;
    }
    let lrecl: u64 = parse_digits(toks[4].text)?;
    let recs: u64 = parse_digits(toks[5].text)?;
    let mut date = toks[7].text.split('/');
    let (m, d, y) = (date.next()?, date.next()?, date.next()?);
    let ymd = (
        year(y)?,
        parse_digits(m).filter(|_| m.len() <= 2)?,
        parse_digits(d).filter(|_| d.len() <= 2)?,
    );
    let (h, mi, s) = hms(toks[8].text)?;
    let stamp = cx.at(ymd, (h, mi, s), Precision::Second);
    let name = format!("{}.{}.{}", toks[0].text, toks[1].text, toks[2].text).to_ascii_lowercase();
    Some(RawEntry {
        path: join(&cx.base, &name)?,
        kind: Kind::File,
        size: lrecl.checked_mul(recs),
        mtime: stamp.mtime,
        precision: stamp.precision,
        mode: None,
    })
}

/// mirror.pl's filter: a line with `D/D/D D:D:D` somewhere is an entry line.
fn has_cms_date(line: &str) -> bool {
    tokens(line).windows(2).any(|w| {
        let mut date = w[0].text.split('/');
        let date_ok = (0..3).all(|_| date.next().is_some_and(all_digits)) && date.next().is_none();
        date_ok && hms(w[1].text).is_some()
    })
}

impl Format for Cms {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) || !has_cms_date(line) {
            return;
        }
        push(out, line, cms_entry(cx, line).map(Some));
    }
}

/// mirror's own `lsparse` debug format: `path size time type mode`, type `f`, `d`, `?` or
/// `l TARGET`; mode decimal, or octal with a leading 0. A time of 0 means unknown. The
/// original precision is lost, so a time on a whole minute claims only minute precision.
pub(super) struct Lsparse;

fn lsparse_entry(cx: &Ctx, line: &str) -> Option<RawEntry> {
    let toks = tokens(line);
    let (kind, mode_tok) = match toks.as_slice() {
        [_, _, _, t, m] => (
            match t.text {
                "f" => Kind::File,
                "d" => Kind::Dir,
                "?" => Kind::Other,
                _ => return None,
            },
            m.text,
        ),
        [_, _, _, l, target, m] if l.text == "l" => (Kind::Symlink(Box::from(target.text)), m.text),
        _ => return None,
    };
    let size: u64 = parse_digits(toks[1].text)?;
    let time: i64 = parse_digits(toks[2].text)?;
    let mode = if mode_tok.starts_with('0') {
        u32::from_str_radix(mode_tok, 8).ok()?
    } else {
        parse_digits::<u32>(mode_tok)?
    };
    let stamp = match time {
        0 => Stamp::UNKNOWN,
        t if t % 60 == 0 => Stamp {
            mtime: Some(t),
            precision: Precision::Minute,
        },
        t => Stamp::seconds(t),
    };
    Some(RawEntry {
        path: join(&cx.base, toks[0].text)?,
        size: Some(if kind.is_dir() { 0 } else { size }),
        kind,
        mtime: stamp.mtime,
        precision: stamp.precision,
        mode: Some(mode & 0o7777),
    })
}

impl Format for Lsparse {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if !is_blank(line) {
            push(out, line, lsparse_entry(cx, line).map(Some));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{ListParser, Parsed, RemoteFs};
    use crate::Kind::{Dir, File, Other};

    #[test]
    fn eplf_table() {
        let got = ListParser::parse_all(
            opts(RemoteFs::Eplf),
            "www",
            "+i8388621.48638,m848117771,r,s1336,\tqmsmac.html\n\
             +i8388621.88705,m850544954,/,\ttxt\n\
             +m848117771,up644,r,s10,\twith perms\n\
             +s5,r,\t  leading spaces\n\
             +i1,m1,\tneither\n\
             +i8388621.48638,m848117771,r,s1336,     spaced.html\n\
             not eplf\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "www/qmsmac.html",
                    File,
                    Some(1336),
                    sec(848_117_771),
                    Some(0o444)
                )),
                Parsed::Entry(ent("www/txt", Dir, Some(0), sec(850_544_954), Some(0o755))),
                Parsed::Entry(ent(
                    "www/with perms",
                    File,
                    Some(10),
                    sec(848_117_771),
                    Some(0o644)
                )),
                Parsed::Entry(ent(
                    "www/  leading spaces",
                    File,
                    Some(5),
                    unk(),
                    Some(0o444)
                )),
                Parsed::Entry(ent("www/neither", Other, None, sec(1), None)),
                Parsed::Entry(ent(
                    "www/spaced.html",
                    File,
                    Some(1336),
                    sec(848_117_771),
                    Some(0o444)
                )),
                Parsed::Unmatched("not eplf".into()),
            ]
        );
    }

    #[test]
    fn ctan_table() {
        let got = parse(
            RemoteFs::Ctan,
            "   22670 Mon Jul 20 12:36:34 1992 pub/tex/biblio/bibtex/contrib/aaai-named.bst\n\
             \x20     12 Sat Feb 29 23:59:59 2020 leap day.txt\n\
             header line\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "pub/tex/biblio/bibtex/contrib/aaai-named.bst",
                    File,
                    Some(22670),
                    sec(utc(1992, 7, 20, 12, 36, 34)),
                    Some(0o444)
                )),
                Parsed::Entry(ent(
                    "leap day.txt",
                    File,
                    Some(12),
                    sec(utc(2020, 2, 29, 23, 59, 59)),
                    Some(0o444)
                )),
                Parsed::Unmatched("header line".into()),
            ]
        );
    }

    #[test]
    fn cms_table() {
        let got = parse(
            RemoteFs::Cms,
            "FILENAME FILETYPE FM FORMAT LRECL RECORDS BLOCKS DATE TIME\n\
             DIRACC   EXEC     A1    F    132         84          3  01/25/93  14:49:47\n\
             DIRUNIX  SCRIPT   A1    V     77       1216         17  01/04/93  20:30:47\n\
             MAIL     PROFILE  A2    F     80          1          1  10/14/92  16:12:27\n\
             BAD      X        A1    F    ab           1          1  10/14/92  16:12:27\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "diracc.exec.a1",
                    File,
                    Some(132 * 84),
                    sec(utc(1993, 1, 25, 14, 49, 47)),
                    None
                )),
                Parsed::Entry(ent(
                    "dirunix.script.a1",
                    File,
                    Some(77 * 1216),
                    sec(utc(1993, 1, 4, 20, 30, 47)),
                    None
                )),
                Parsed::Entry(ent(
                    "mail.profile.a2",
                    File,
                    Some(80),
                    sec(utc(1992, 10, 14, 16, 12, 27)),
                    None
                )),
                Parsed::Unmatched(
                    "BAD      X        A1    F    ab           1          1  10/14/92  16:12:27"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn lsparse_table() {
        let got = parse(
            RemoteFs::Lsparse,
            "pub/file.txt 1234 1710504000 f 0644\n\
             pub/exact 1 1710504007 f 420\n\
             pub 4096 0 d 0755\n\
             pub/link 3 1710504000 l ../x 0777\n\
             pub/odd 0 0 ? 0\n\
             pub/bad 1 2 x 0\n\
             remote: pub/file.txt 1234 1710504000 f 0644\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "pub/file.txt",
                    File,
                    Some(1234),
                    min(1_710_504_000),
                    Some(0o644)
                )),
                Parsed::Entry(ent(
                    "pub/exact",
                    File,
                    Some(1),
                    sec(1_710_504_007),
                    Some(0o644)
                )),
                Parsed::Entry(ent("pub", Dir, Some(0), unk(), Some(0o755))),
                Parsed::Entry(ent(
                    "pub/link",
                    link("../x"),
                    Some(3),
                    min(1_710_504_000),
                    Some(0o777)
                )),
                Parsed::Entry(ent("pub/odd", Other, Some(0), unk(), Some(0))),
                Parsed::Unmatched("pub/bad 1 2 x 0".into()),
                Parsed::Unmatched("remote: pub/file.txt 1234 1710504000 f 0644".into()),
            ]
        );
    }
}
