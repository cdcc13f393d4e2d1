//! The two Macintosh dialects.
//!
//! `macos`: a Mac FTP daemon (NetPresenz style) that looks like `ls -l` but has three
//! number columns before the date: files `mode  0  data-fork  resource-fork  date  name`,
//! folders `mode  folder  item-count  date  name`. The size is the data fork (the column
//! before the last number), as in mirror.pl. The mode letters are made up by the server,
//! so no mode is reported (mirror.pl said 0).
//!
//! `infomac`: the `help/all-files` list of the sumex-aim info-mac archive,
//! `-r  1974 Jul 21 00:06 name` and `lr  3 Sep  8 08:34 name -> target`; `;` starts a
//! comment. Files get mode 0444.

use crate::Kind;

use super::date::find_ls_date;
use super::text::{is_blank, is_dot, join, parse_digits, split_symlink, tokens};
use super::{Ctx, Format, Parsed, RawEntry};

/// `macos` is stateless.
pub(super) struct Macos;

fn macos_entry(cx: &Ctx, line: &str) -> Option<Option<RawEntry>> {
    let toks = tokens(line);
    let mode = toks.first()?.text.as_bytes().get(..10)?;
    if !mode.iter().all(|b| b"-rwxd".contains(b)) {
        return None;
    }
    let date = find_ls_date(cx, &toks, 3, false)?;
    let size_tok = toks[date.month_idx - 2].text;
    let name = &line[toks[date.name_idx].start..];
    if is_dot(name) {
        return Some(None);
    }
    let (kind, size) = match mode[0] {
        b'd' => (Kind::Dir, Some(0)),
        b'-' => (Kind::File, Some(parse_digits(size_tok)?)),
        _ => (Kind::Other, parse_digits(size_tok)),
    };
    Some(Some(RawEntry {
        path: join(&cx.base, name)?,
        kind,
        size,
        mtime: date.stamp.mtime,
        precision: date.stamp.precision,
        mode: None,
    }))
}

impl Format for Macos {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) {
            return;
        }
        match macos_entry(cx, line) {
            Some(Some(e)) => out.push(Parsed::Entry(e)),
            Some(None) => {}
            None => out.push(Parsed::Unmatched(line.to_owned())),
        }
    }
}

/// `infomac` is stateless.
pub(super) struct Infomac;

fn infomac_entry(cx: &Ctx, line: &str) -> Option<RawEntry> {
    let toks = tokens(line);
    let kind_tok = toks.first()?.text;
    if kind_tok.len() != 2 || toks[0].start != 0 {
        return None;
    }
    let date = find_ls_date(cx, &toks, 2, false).filter(|d| d.month_idx == 2)?;
    let size: u64 = parse_digits(toks[1].text)?;
    let name = &line[toks[date.name_idx].start..];
    let (name, kind) = match kind_tok.as_bytes()[0] {
        b'-' => (name, Kind::File),
        // mirror.pl: an `l` line without ` -> ` is "unparsable".
        b'l' => {
            let (n, t) = split_symlink(name)?;
            (n, Kind::Symlink(Box::from(t)))
        }
        _ => return None,
    };
    Some(RawEntry {
        path: join(&cx.base, name)?,
        kind,
        size: Some(size),
        mtime: date.stamp.mtime,
        precision: date.stamp.precision,
        mode: Some(0o444),
    })
}

impl Format for Infomac {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) || line.starts_with(';') {
            return;
        }
        out.push(match infomac_entry(cx, line) {
            Some(e) => Parsed::Entry(e),
            None => Parsed::Unmatched(line.to_owned()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{Parsed, RemoteFs};
    use crate::Kind::{Dir, File};

    #[test]
    fn macos_table() {
        // The manual's example (sizes checked against lsparse.pl: 127, dirs 0).
        let got = parse(
            RemoteFs::Macos,
            "-------r--      0      127   127 Aug 27 13:53 !Gopher Links\n\
             drwxrwxr-x          folder    32 Sep  9 16:30 FAQ\n\
             drwxrwx-wx          folder     0 Sep  9 09:59 incoming\n\
             -rw-r--r--      0    13290  4096 Aug 27  1995 With Res\n\
             total 3\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "!Gopher Links",
                    File,
                    Some(127),
                    min(utc(2023, 8, 27, 13, 53, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "FAQ",
                    Dir,
                    Some(0),
                    min(utc(2023, 9, 9, 16, 30, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "incoming",
                    Dir,
                    Some(0),
                    min(utc(2023, 9, 9, 9, 59, 0)),
                    None
                )),
                Parsed::Entry(ent(
                    "With Res",
                    File,
                    Some(13290),
                    day(utc(1995, 8, 27, 0, 0, 0)),
                    None
                )),
                Parsed::Unmatched("total 3".into()),
            ]
        );
    }

    #[test]
    fn infomac_table() {
        let got = parse(
            RemoteFs::Infomac,
            "; info-mac all-files\n\
             -r     1974 Jul 21 00:06 00readme.txt\n\
             lr        3 Sep  8 08:34 AntiVirus -> vir\n\
             -r       12 Jan  2  1996 old file.hqx\n\
             lr        3 Sep  8 08:34 NoArrow\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "00readme.txt",
                    File,
                    Some(1974),
                    min(utc(2023, 7, 21, 0, 6, 0)),
                    Some(0o444)
                )),
                Parsed::Entry(ent(
                    "AntiVirus",
                    link("vir"),
                    Some(3),
                    min(utc(2023, 9, 8, 8, 34, 0)),
                    Some(0o444)
                )),
                Parsed::Entry(ent(
                    "old file.hqx",
                    File,
                    Some(12),
                    day(utc(1996, 1, 2, 0, 0, 0)),
                    Some(0o444)
                )),
                Parsed::Unmatched("lr        3 Sep  8 08:34 NoArrow".into()),
            ]
        );
    }
}
