//! `remote_fs=dls`: output of `dls -dtR`, a "descriptive ls" some archives ran:
//! `name  size  Mon DD HH:MM|YYYY  description`, directories written `name/` with size `=`
//! or `-`, headers `dir:`, and a name too long for its column on a line of its own with
//! the details on the next line (which then starts with blanks).
//!
//! Directories get no time and mode 0555, files mode 0444, as mirror.pl did. Unlike
//! mirror.pl, a held long name is used only by a details line that has no name of its own
//! (mirror.pl let any stray line rename the next entry), a long directory name still counts
//! as a directory, the description is optional, and a `-`/`=` size on a file is "unknown".

use crate::{Kind, Precision};

use super::date::{day, hm, is_year4, month_name, year};
use super::text::{Tok, all_digits, header_dir, header_entry, is_blank, is_ws, join, tokens};
use super::{Ctx, Format, Parsed, RawEntry};

/// State of one dls listing.
pub(super) struct Dls {
    cur: String,
    /// A long name waiting for its details line.
    pending: Option<String>,
}

impl Dls {
    pub(super) fn new(cx: &Ctx) -> Self {
        Dls {
            cur: cx.base.clone(),
            pending: None,
        }
    }

    fn flush_pending(&mut self, out: &mut Vec<Parsed>) {
        if let Some(p) = self.pending.take() {
            out.push(Parsed::Unmatched(p));
        }
    }
}

/// The fields of a dls details line.
struct Details<'a> {
    name: Option<&'a str>,
    size: &'a str,
    stamp: super::date::Stamp,
}

fn details<'a>(cx: &Ctx, line: &'a str) -> Option<Details<'a>> {
    let toks: Vec<Tok<'a>> = tokens(line);
    let named = !line.bytes().next().is_some_and(is_ws);
    let (name, i) = if named {
        (Some(toks.first()?.text), 1)
    } else {
        (None, 0)
    };
    let size = toks.get(i)?.text;
    if !(size == "-" || size == "=" || all_digits(size)) {
        return None;
    }
    let (a, b, c) = (
        toks.get(i + 1)?.text,
        toks.get(i + 2)?.text,
        toks.get(i + 3)?.text,
    );
    // `Mon DD` or `DD Mon`.
    let (month, dd) = match (month_name(a), day(b)) {
        (Some(m), Some(d)) => (m, d),
        _ => (month_name(b)?, day(a)?),
    };
    let stamp = if let Some((h, mi)) = hm(c) {
        cx.recent(month, dd, h, mi)
    } else if is_year4(c) {
        cx.dated(year(c)?, month, dd)
    } else {
        return None;
    };
    Some(Details { name, size, stamp })
}

impl Format for Dls {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) {
            return;
        }
        if let Some(d) = details(cx, line) {
            let name = match (d.name, self.pending.take()) {
                (None, Some(p)) => p,
                (Some(n), held) => {
                    if let Some(h) = held {
                        out.push(Parsed::Unmatched(h));
                    }
                    n.to_owned()
                }
                (None, None) => return out.push(Parsed::Unmatched(line.to_owned())),
            };
            let entry = match name.strip_suffix('/') {
                Some(dir) => join(&self.cur, dir).map(|path| RawEntry {
                    path,
                    kind: Kind::Dir,
                    size: Some(0),
                    mtime: None,
                    precision: Precision::Unknown,
                    mode: Some(0o555),
                }),
                None => join(&self.cur, &name).map(|path| RawEntry {
                    path,
                    kind: Kind::File,
                    size: d.size.parse().ok(),
                    mtime: d.stamp.mtime,
                    precision: d.stamp.precision,
                    mode: Some(0o444),
                }),
            };
            return out.push(match entry {
                Some(e) => Parsed::Entry(e),
                None => Parsed::Unmatched(line.to_owned()),
            });
        }
        if let Some(h) = line.strip_suffix(':') {
            self.flush_pending(out);
            self.cur = header_dir(&cx.base, h);
            return header_entry(&cx.base, &self.cur, out);
        }
        if line.bytes().next().is_some_and(is_ws) {
            // Not a name (names start in column one): perhaps a wrapped description.
            return out.push(Parsed::Unmatched(line.to_owned()));
        }
        self.flush_pending(out);
        self.pending = Some(super::text::trim_ws_end(line).to_owned());
    }

    fn finish(&mut self, _cx: &Ctx, out: &mut Vec<Parsed>) {
        self.flush_pending(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{Parsed, RemoteFs};
    use crate::Kind::{Dir, File};

    #[test]
    fn dls_table() {
        let got = parse(
            RemoteFs::Dls,
            "00index.txt     189916  Mar  1 08:00  Index of this archive\n\
             0readme           5793  Jun  5  1993  Read me first\n\
             1_x/                 =  Jan  3 10:00  OS/2 1.x-specific files\n\
             nodesc              12  5 Feb  1994\n\
             dash                 -  Mar  2 09:00  size unknown\n\
             a-very-long-file-name-that-does-not-fit.tar.gz\n\
             \x20                 777  Feb  2 10:00  wrapped\n\
             a-very-long-directory-name/\n\
             \x20                   =  Feb  2 10:00  wrapped dir\n\
             ./sub:\n\
             inner               1  Mar  1 08:00  in sub\n",
        );
        let t = min(utc(2024, 3, 1, 8, 0, 0));
        assert_eq!(
            got,
            [
                Parsed::Entry(ent("00index.txt", File, Some(189_916), t, Some(0o444))),
                Parsed::Entry(ent(
                    "0readme",
                    File,
                    Some(5793),
                    day(utc(1993, 6, 5, 0, 0, 0)),
                    Some(0o444)
                )),
                Parsed::Entry(ent("1_x", Dir, Some(0), unk(), Some(0o555))),
                Parsed::Entry(ent(
                    "nodesc",
                    File,
                    Some(12),
                    day(utc(1994, 2, 5, 0, 0, 0)),
                    Some(0o444)
                )),
                Parsed::Entry(ent(
                    "dash",
                    File,
                    None,
                    min(utc(2024, 3, 2, 9, 0, 0)),
                    Some(0o444)
                )),
                Parsed::Entry(ent(
                    "a-very-long-file-name-that-does-not-fit.tar.gz",
                    File,
                    Some(777),
                    min(utc(2024, 2, 2, 10, 0, 0)),
                    Some(0o444)
                )),
                Parsed::Entry(ent(
                    "a-very-long-directory-name",
                    Dir,
                    Some(0),
                    unk(),
                    Some(0o555)
                )),
                Parsed::Entry(ent("sub", Dir, Some(0), unk(), None)),
                Parsed::Entry(ent("sub/inner", File, Some(1), t, Some(0o444))),
            ]
        );
    }

    #[test]
    fn stray_lines_do_not_rename_entries() {
        let got = parse(
            RemoteFs::Dls,
            "stray text line\nreal   1  Mar  1 08:00  x\n   continued description\ndangling-name\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Unmatched("stray text line".into()),
                Parsed::Entry(ent(
                    "real",
                    File,
                    Some(1),
                    min(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o444)
                )),
                Parsed::Unmatched("   continued description".into()),
                Parsed::Unmatched("dangling-name".into()),
            ]
        );
    }
}
