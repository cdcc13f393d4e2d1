//! The DOS/Windows/OS2 family: `dosftp`, `dosish` (IIS's MS-DOS style), `supertcp`, `os2`
//! and `chameleon`. All give a date with minutes and no permissions (mode `None`, where
//! mirror.pl said 0), and all but `dosish` list one directory at a time.
//!
//! Two-digit years are windowed (70–99 → 19YY, 00–69 → 20YY) instead of mirror.pl's
//! `19$yr`; four-digit years (IIS's `FourDigitYears`) are read as given. `supertcp` and
//! `chameleon` handed two-digit years to `dateconv.pl`, which then replaced them with the
//! *current* year; they are windowed too. `dosish` also accepts a 24-hour clock (no AM/PM).

use crate::{Kind, Precision};

use super::date::{Stamp, hm, month_name, year};
use super::text::{
    Tok, all_digits, header_dir, header_entry, is_blank, is_dot, join, parse_digits,
    parse_size_commas, tokens,
};
use super::{Ctx, Format, Parsed, RawEntry};

/// `MM-DD-YY`, `MM/DD/YYYY` (`seps` says which separators are allowed) → (year, month, day).
fn mdy(s: &str, seps: &[char]) -> Option<(i16, i8, i8)> {
    let mut parts = s.split(seps);
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || m.len() > 2 || d.len() > 2 {
        return None;
    }
    Some((year(y)?, parse_digits(m)?, parse_digits(d)?))
}

/// The time of a `date` + `HH:MM` pair at minute precision (unknown if impossible).
fn minute(cx: &Ctx, (y, mo, d): (i16, i8, i8), (h, mi): (i8, i8)) -> Stamp {
    cx.at((y, mo, d), (h, mi, 0), Precision::Minute)
}

/// `HH:MM`, `HH:MMAM`, `HH:MMPM` → 24-hour (hour, minute); `Some(None)` for a well-formed
/// 12-hour reading with an impossible hour (13PM).
fn clock(s: &str) -> Option<Option<(i8, i8)>> {
    let upper = s.get(s.len().saturating_sub(2)..).unwrap_or("");
    let (digits, pm) = if upper.eq_ignore_ascii_case("AM") {
        (&s[..s.len() - 2], Some(false))
    } else if upper.eq_ignore_ascii_case("PM") {
        (&s[..s.len() - 2], Some(true))
    } else {
        (s, None)
    };
    let (h, m) = hm(digits)?;
    Some(match pm {
        None => Some((h, m)),
        Some(_) if !(1..=12).contains(&h) => None,
        // 12AM is midnight, 12PM noon.
        Some(pm) => Some((h % 12 + if pm { 12 } else { 0 }, m)),
    })
}

/// The entry for `name` in `dir`; `None` if the name is empty after normalizing.
fn file_or_dir(
    dir: &str,
    name: &str,
    is_dir: bool,
    size: Option<u64>,
    stamp: Stamp,
) -> Option<RawEntry> {
    Some(RawEntry {
        path: join(dir, name)?,
        kind: if is_dir { Kind::Dir } else { Kind::File },
        size: if is_dir { Some(0) } else { size },
        mtime: stamp.mtime,
        precision: stamp.precision,
        mode: None,
    })
}

fn push(out: &mut Vec<Parsed>, line: &str, entry: Option<RawEntry>) {
    out.push(match entry {
        Some(e) => Parsed::Entry(e),
        None => Parsed::Unmatched(line.to_owned()),
    });
}

/// `N files.` / `1 file.` summary lines.
fn is_summary(line: &str) -> bool {
    let t = super::text::trim_ws(line);
    match t.split_once(' ') {
        Some((n, rest)) => {
            all_digits(n) && (rest.starts_with("files.") || rest.starts_with("file."))
        }
        None => false,
    }
}

/// `dosish`: `03-04-94  08:45PM  <DIR>  name` / `... 9718 name`, headers `dir:` (with `\`).
pub(super) struct Dosish {
    cur: String,
}

impl Dosish {
    pub(super) fn new(cx: &Ctx) -> Self {
        Dosish {
            cur: cx.base.clone(),
        }
    }
}

impl Format for Dosish {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) {
            return;
        }
        let toks = tokens(line);
        if let (Some(date), Some(time), Some(what), Some(name_tok)) =
            (toks.first(), toks.get(1), toks.get(2), toks.get(3))
            && let Some(ymd) = mdy(date.text, &['-', '/'])
            && let Some(clock) = clock(time.text)
        {
            let is_dir = what.text.eq_ignore_ascii_case("<DIR>");
            let size = if is_dir {
                Some(0)
            } else {
                parse_size_commas(what.text)
            };
            if size.is_some() {
                let name = &line[name_tok.start..];
                if is_dot(name) {
                    return;
                }
                let stamp = clock.map_or(Stamp::UNKNOWN, |hm| minute(cx, ymd, hm));
                return push(out, line, file_or_dir(&self.cur, name, is_dir, size, stamp));
            }
        }
        if let Some(h) = line.strip_suffix(':') {
            self.cur = header_dir(&cx.base, &h.replace('\\', "/"));
            return header_entry(&cx.base, &self.cur, out);
        }
        out.push(Parsed::Unmatched(line.to_owned()));
    }
}

/// `dosftp`: `name  6,471 13:54  7/20/93`, two (or more) entries per line; `name/` is a
/// directory.
pub(super) struct Dosftp;

impl Format for Dosftp {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) || is_summary(line) {
            return;
        }
        let toks = tokens(line);
        let mut i = 0;
        while i < toks.len() {
            match dosftp_group(cx, &toks, i) {
                Some((entry, next)) => {
                    if let Some(e) = entry {
                        out.push(Parsed::Entry(e));
                    }
                    i = next;
                }
                None => {
                    out.push(Parsed::Unmatched(line[toks[i].start..].to_owned()));
                    return;
                }
            }
        }
    }
}

/// One `name [size] HH:MM M/D/YY` group at token `i`: the entry (if any) and the next index.
fn dosftp_group(cx: &Ctx, toks: &[Tok<'_>], i: usize) -> Option<(Option<RawEntry>, usize)> {
    let name = toks.get(i)?.text;
    let (size_tok, t) = match hm(toks.get(i + 1)?.text) {
        Some(_) => (None, i + 1),
        None => (Some(toks[i + 1].text), i + 2),
    };
    let (h, mi) = hm(toks.get(t)?.text)?;
    let ymd = mdy(toks.get(t + 1)?.text, &['/'])?;
    let stamp = minute(cx, ymd, (h, mi));
    let (name, is_dir) = match name.strip_suffix('/') {
        Some(n) => (n, true),
        None => (name, false),
    };
    let entry = if is_dot(name) {
        None
    } else {
        let size = size_tok.and_then(parse_size_commas);
        file_or_dir(&cx.base, name, is_dir, size, stamp)
    };
    Some((entry, t + 2))
}

/// `supertcp`: `NAME  <DIR>|size  MM-DD-YY|MM/DD/YY  HH:MM`.
pub(super) struct Supertcp;

impl Format for Supertcp {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) || is_summary(line) {
            return;
        }
        let toks = tokens(line);
        let entry = (|| {
            let [name, what, date, time] =
                [toks.first()?, toks.get(1)?, toks.get(2)?, toks.get(3)?];
            let ymd = mdy(date.text, &['-', '/'])?;
            let (h, mi) = hm(time.text)?;
            let is_dir = what.text.eq_ignore_ascii_case("<DIR>");
            let size = if is_dir {
                Some(0)
            } else {
                Some(parse_size_commas(what.text)?)
            };
            Some((name.text, is_dir, size, minute(cx, ymd, (h, mi))))
        })();
        match entry {
            Some((name, ..)) if is_dot(name) => {}
            Some((name, is_dir, size, stamp)) => {
                push(out, line, file_or_dir(&cx.base, name, is_dir, size, stamp))
            }
            None => out.push(Parsed::Unmatched(line.to_owned())),
        }
    }
}

/// `chameleon`: `NAME  <DIR>|size  Mon DD YYYY  HH:MM  [attributes]`.
pub(super) struct Chameleon;

impl Format for Chameleon {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) || is_summary(line) {
            return;
        }
        let toks = tokens(line);
        let entry = (|| {
            let name = toks.first()?.text;
            let what = toks.get(1)?.text;
            let month = month_name(toks.get(2)?.text)?;
            let dd = super::date::day(toks.get(3)?.text)?;
            let yy = year(toks.get(4)?.text)?;
            let (h, mi) = hm(toks.get(5)?.text)?;
            let is_dir = what.eq_ignore_ascii_case("<DIR>");
            let size = if is_dir {
                Some(0)
            } else {
                Some(parse_size_commas(what)?)
            };
            Some((name, is_dir, size, minute(cx, (yy, month, dd), (h, mi))))
        })();
        match entry {
            Some((name, ..)) if is_dot(name) => {}
            Some((name, is_dir, size, stamp)) => {
                push(out, line, file_or_dir(&cx.base, name, is_dir, size, stamp))
            }
            None => out.push(Parsed::Unmatched(line.to_owned())),
        }
    }
}

/// `os2`: `size  [attributes]  [DIR]  MM-DD-YY  HH:MM  name`.
pub(super) struct Os2;

impl Format for Os2 {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) {
            return;
        }
        let toks = tokens(line);
        let entry = (|| {
            let size: u64 = parse_digits(toks.first()?.text)?;
            let d =
                (1..=3).find(|&d| toks.get(d).is_some_and(|t| mdy(t.text, &['-']).is_some()))?;
            let ymd = mdy(toks[d].text, &['-'])?;
            let (h, mi) = hm(toks.get(d + 1)?.text)?;
            let name = &line[toks.get(d + 2)?.start..];
            let is_dir = toks[1..d]
                .iter()
                .any(|t| t.text.eq_ignore_ascii_case("DIR"));
            Some((name, is_dir, size, minute(cx, ymd, (h, mi))))
        })();
        match entry {
            Some((name, ..)) if is_dot(name) => {}
            Some((name, is_dir, size, stamp)) => push(
                out,
                line,
                file_or_dir(&cx.base, name, is_dir, Some(size), stamp),
            ),
            None => out.push(Parsed::Unmatched(line.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{ListParser, Parsed, RemoteFs};
    use crate::Kind::{Dir, File};

    #[test]
    fn dosish_table() {
        let got = parse(
            RemoteFs::Dosish,
            "03-04-94  08:45PM       <DIR>          .\n\
             03-04-94  08:45PM       <DIR>          ..\n\
             04-11-94  12:48AM       <DIR>          creative\n\
             03-08-05  12:17PM                 5504 article one.txt\n\
             12-31-1999  11:59PM            1,234 y2k.txt\n\
             01-02-24  23:10                    7 twentyfour.txt\n\
             01-02-24  13:10PM                  7 badhour.txt\n\
             \\sub\\dir:\n\
             01-02-24  10:10AM                  1 inner.txt\n\
             Volume in drive C has no label\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "creative",
                    Dir,
                    Some(0),
                    min(utc(1994, 4, 11, 0, 48, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "article one.txt",
                    File,
                    Some(5504),
                    min(utc(2005, 3, 8, 12, 17, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "y2k.txt",
                    File,
                    Some(1234),
                    min(utc(1999, 12, 31, 23, 59, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "twentyfour.txt",
                    File,
                    Some(7),
                    min(utc(2024, 1, 2, 23, 10, 0)),
                    None
                )),
                Parsed::Entry(ent("badhour.txt", File, Some(7), unk(), None)),
                Parsed::Entry(ent("sub/dir", Dir, Some(0), unk(), None)),
                Parsed::Entry(ent(
                    "sub/dir/inner.txt",
                    File,
                    Some(1),
                    min(utc(2024, 1, 2, 10, 10, 0)),
                    None
                )),
                Parsed::Unmatched("Volume in drive C has no label".into()),
            ]
        );
    }

    #[test]
    fn dosftp_table() {
        let got = ListParser::parse_all(
            opts(RemoteFs::Dosftp),
            "dos",
            "00-index.txt  6,471 13:54  7/20/93   alabama.txt   1,246 23:29  5/08/97\n\
             alaska.txt      873 23:29  5/08/02   SUBDIR/          0 10:00  1/01/95\n\
             nosize.txt 10:00  1/01/95\n\
             3 files.\n\
             ok.txt 5 10:00 1/01/95 broken here\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "dos/00-index.txt",
                    File,
                    Some(6471),
                    min(utc(1993, 7, 20, 13, 54, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "dos/alabama.txt",
                    File,
                    Some(1246),
                    min(utc(1997, 5, 8, 23, 29, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "dos/alaska.txt",
                    File,
                    Some(873),
                    min(utc(2002, 5, 8, 23, 29, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "dos/SUBDIR",
                    Dir,
                    Some(0),
                    min(utc(1995, 1, 1, 10, 0, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "dos/nosize.txt",
                    File,
                    None,
                    min(utc(1995, 1, 1, 10, 0, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "dos/ok.txt",
                    File,
                    Some(5),
                    min(utc(1995, 1, 1, 10, 0, 0)),
                    None
                )),
                Parsed::Unmatched("broken here".into()),
            ]
        );
    }

    #[test]
    fn supertcp_table() {
        let got = parse(
            RemoteFs::Supertcp,
            ".               <DIR>           11-16-94        17:16\n\
             INSTALL         <DIR>           11-16-94        17:17\n\
             DESIGN1.DOC          11264      05-11-95        14:20\n\
             README.TXT            1045      05/10/95        11:01\n\
             NEW.TXT                 10      01/02/03        04:05\n\
             2 files.\n\
             garbage line\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "INSTALL",
                    Dir,
                    Some(0),
                    min(utc(1994, 11, 16, 17, 17, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "DESIGN1.DOC",
                    File,
                    Some(11264),
                    min(utc(1995, 5, 11, 14, 20, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "README.TXT",
                    File,
                    Some(1045),
                    min(utc(1995, 5, 10, 11, 1, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "NEW.TXT",
                    File,
                    Some(10),
                    min(utc(2003, 1, 2, 4, 5, 0)),
                    None
                )),
                Parsed::Unmatched("garbage line".into()),
            ]
        );
    }

    #[test]
    fn os2_table() {
        let got = parse(
            RemoteFs::Os2,
            "                 0           DIR   04-11-95   16:26  .\n\
             \x20                0           DIR   04-11-95   16:26  ADDRESS\n\
             \x20              612      A          07-28-95   16:45  air_tra1.bag\n\
             \x20            310992                 06-28-94   09:56  INSTALL.EXE\n\
             \x20                0      A    DIR   01-02-03   04:05  Both Flags\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "ADDRESS",
                    Dir,
                    Some(0),
                    min(utc(1995, 4, 11, 16, 26, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "air_tra1.bag",
                    File,
                    Some(612),
                    min(utc(1995, 7, 28, 16, 45, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "INSTALL.EXE",
                    File,
                    Some(310_992),
                    min(utc(1994, 6, 28, 9, 56, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "Both Flags",
                    Dir,
                    Some(0),
                    min(utc(2003, 1, 2, 4, 5, 0)),
                    None
                )),
            ]
        );
    }

    #[test]
    fn chameleon_table() {
        let got = parse(
            RemoteFs::Chameleon,
            ".            <DIR>       Nov 16 1994  17:16\n\
             INSTALL      <DIR>       Nov 16 1994  17:17  -\n\
             README.TXT   1,045       May 10 1995  11:01  RHA\n\
             OLD.TXT      12          May 10 95    11:01\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "INSTALL",
                    Dir,
                    Some(0),
                    min(utc(1994, 11, 16, 17, 17, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "README.TXT",
                    File,
                    Some(1045),
                    min(utc(1995, 5, 10, 11, 1, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "OLD.TXT",
                    File,
                    Some(12),
                    min(utc(1995, 5, 10, 11, 1, 0)),
                    None
                )),
            ]
        );
    }
}
