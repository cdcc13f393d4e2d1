//! `remote_fs=vms`: OpenVMS `DIRECTORY` output as VMS FTP servers send it.
//!
//! * Headers name absolute directories: `USERS:[ANONYMOUS.PUBLIC]` (also with a leading
//!   `Directory `). They are made relative to the listed directory (see
//!   [`ListParser::new`](super::ListParser::new)): the base directory if given, otherwise
//!   the first directory the listing names.
//! * Entries: `NAME.EXT;VER  blocks[/alloc]  DD-MMM-YYYY HH:MM[:SS[.cc]]  [owner] (prot)`
//!   (MultiNet), or `[DIR.SUB]NAME.EXT;VER  used/alloc  date time` (CMU/VMS-IP). A name
//!   too long for its column stands alone, its details on the next line.
//! * Names are lower-cased; `NAME.DIR` is the directory `name`.
//! * Files get mode 0444 and directories 0555, as in mirror.pl. The size is *unknown*:
//!   VMS shows blocks, not bytes (mirror.pl said 0, which made every size compare lie).
//! * Versions: with `vms_keep_versions` (the default) each version is its own file,
//!   `name.ext;3`, as the manual promises (mirror.pl's code actually dropped the suffix and
//!   kept duplicate paths). Without it, only the highest version of each name is reported,
//!   as `name.ext` (mirror.pl kept the newest *time*, its own TODO said "pick the greatest
//!   version number").
//! * Privilege errors (`%RMS-E-PRV`, `insufficient privilege`) and other `%FAC-E-`/`-F-`
//!   messages make the current directory a problem; mirror.pl skipped them silently.

use std::collections::HashMap;

use crate::{Kind, Precision};

use super::date::{Stamp, hm, hms, month_any, year};
use super::text::{
    Tok, all_digits, header_entry, is_blank, is_ws, join, normalize, parse_digits, tokens, trim_ws,
    trim_ws_end,
};
use super::{Ctx, Format, Parsed, RawEntry};

/// A `[dir]name;version` file specification, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Spec {
    /// The absolute directory in `/` form, when the spec carries one.
    dir: Option<String>,
    name: String,
    version: Option<String>,
}

/// State of one VMS listing.
pub(super) struct Vms {
    /// The listed directory, absolute, `/`-separated, lower-case; learnt from the first
    /// directory seen when not given.
    root: Option<String>,
    /// The current directory, relative to `root`.
    cur: String,
    /// Set while a header names a directory outside `root`: its entries are skipped.
    outside: bool,
    /// A long name waiting for its details line.
    pending: Option<(Spec, String)>,
    /// Without `vms_keep_versions`: the current directory's entries with their version
    /// numbers, so a higher version can replace a lower one, flushed at each header.
    held: Vec<(RawEntry, u64)>,
    held_at: HashMap<String, usize>,
}

impl Vms {
    pub(super) fn new(cx: &Ctx) -> Self {
        let base = cx.base.to_ascii_lowercase();
        Vms {
            root: (!base.is_empty()).then_some(base),
            cur: String::new(),
            outside: false,
            pending: None,
            held: Vec::new(),
            held_at: HashMap::new(),
        }
    }

    /// Makes an absolute VMS directory relative to the root, learning the root if needed.
    /// `None` if it lies outside.
    fn relative(&mut self, abs: &str) -> Option<String> {
        let root = self.root.get_or_insert_with(|| abs.to_owned());
        if abs == root.as_str() {
            return Some(String::new());
        }
        abs.strip_prefix(root.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_owned)
    }

    fn enter(&mut self, abs: &str, line: &str, out: &mut Vec<Parsed>) {
        self.flush(out);
        self.flush_pending(out);
        match self.relative(abs) {
            Some(rel) => {
                self.outside = false;
                self.cur = rel;
                header_entry("", &self.cur, out);
            }
            None => {
                // Entries we cannot place: the listing as a whole is not trustworthy.
                self.outside = true;
                out.push(Parsed::Problem {
                    dir: String::new(),
                    message: format!(
                        "directory outside the listed one ({}): {line}",
                        self.root.as_deref().unwrap_or("")
                    ),
                });
            }
        }
    }

    fn flush(&mut self, out: &mut Vec<Parsed>) {
        self.held_at.clear();
        out.extend(self.held.drain(..).map(|(e, _)| Parsed::Entry(e)));
    }

    fn flush_pending(&mut self, out: &mut Vec<Parsed>) {
        if let Some((_, line)) = self.pending.take() {
            out.push(Parsed::Unmatched(line));
        }
    }

    fn emit(&mut self, cx: &Ctx, entry: RawEntry, version: u64, out: &mut Vec<Parsed>) {
        if cx.opts.vms_keep_versions || entry.kind.is_dir() {
            return out.push(Parsed::Entry(entry));
        }
        match self.held_at.get(&entry.path) {
            Some(&i) => {
                if let Some(slot) = self.held.get_mut(i)
                    && version > slot.1
                {
                    *slot = (entry, version);
                }
            }
            None => {
                self.held_at.insert(entry.path.clone(), self.held.len());
                self.held.push((entry, version));
            }
        }
    }

    fn details(&mut self, cx: &Ctx, lower: &str, line: &str, out: &mut Vec<Parsed>) -> bool {
        let toks = tokens(lower);
        let named = !lower.bytes().next().is_some_and(is_ws);
        let spec_tok = if named { toks.first() } else { None };
        let i = usize::from(named);
        // A name alone on its line: the details follow.
        if let Some(t) = spec_tok
            && toks.len() == 1
        {
            return match parse_spec(t.text) {
                Some(spec) if spec.version.is_some() => {
                    self.flush_pending(out);
                    self.pending = Some((spec, line.to_owned()));
                    true
                }
                _ => false,
            };
        }
        let Some(stamp) = detail_fields(cx, &toks, i) else {
            return false;
        };
        let spec = match spec_tok {
            Some(t) => {
                let Some(spec) = parse_spec(t.text) else {
                    return false;
                };
                self.flush_pending(out);
                spec
            }
            None => match self.pending.take() {
                Some((spec, _)) => spec,
                None => return false,
            },
        };
        if self.outside {
            return true;
        }
        let dir = match &spec.dir {
            Some(abs) => match self.relative(abs) {
                Some(rel) => rel,
                None => {
                    out.push(Parsed::Problem {
                        dir: String::new(),
                        message: format!("entry outside the listed directory: {line}"),
                    });
                    return true;
                }
            },
            None => self.cur.clone(),
        };
        let version: u64 = spec.version.as_deref().and_then(parse_digits).unwrap_or(0);
        let (name, kind, mode) = match spec.name.strip_suffix(".dir") {
            Some(d) => (d.to_owned(), Kind::Dir, 0o555),
            None => {
                let name = match (&spec.version, cx.opts.vms_keep_versions) {
                    (Some(v), true) => format!("{};{v}", spec.name),
                    _ => spec.name.clone(),
                };
                (name, Kind::File, 0o444)
            }
        };
        let Some(path) = join(&dir, &name) else {
            return false;
        };
        let entry = RawEntry {
            path,
            size: if kind.is_dir() { Some(0) } else { None },
            kind,
            mtime: stamp.mtime,
            precision: stamp.precision,
            mode: Some(mode),
        };
        self.emit(cx, entry, version, out);
        true
    }
}

/// `size  date  time` starting at token `i`; the date's stamp.
fn detail_fields(cx: &Ctx, toks: &[Tok<'_>], i: usize) -> Option<Stamp> {
    let size = toks.get(i)?.text;
    let size_ok = match size.split_once('/') {
        Some((used, alloc)) => all_digits(used) && all_digits(alloc),
        None => all_digits(size),
    };
    if !size_ok {
        return None;
    }
    let mut parts = toks.get(i + 1)?.text.splitn(3, '-');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    let dd: i8 = parse_digits(d).filter(|_| d.len() <= 2)?;
    let month = month_any(m)?;
    let yy = year(y)?;
    let time = toks.get(i + 2)?.text;
    Some(if let Some((h, mi, s)) = hms(time) {
        cx.at((yy, month, dd), (h, mi, s), Precision::Second)
    } else {
        let (h, mi) = hm(time)?;
        cx.at((yy, month, dd), (h, mi, 0), Precision::Minute)
    })
}

/// `[dir.sub]name.ext;ver`, `name.ext;ver` or `name.ext` (already lower-cased).
fn parse_spec(s: &str) -> Option<Spec> {
    let (dir, rest) = match s.strip_prefix('[') {
        Some(r) => {
            let (d, rest) = r.split_once(']')?;
            (Some(vms_dir(d)?), rest)
        }
        None => (None, s),
    };
    let (name, version) = match rest.rsplit_once(';') {
        Some((n, v)) if all_digits(v) => (n, Some(v.to_owned())),
        Some(_) => return None,
        None => (rest, None),
    };
    if name.is_empty() || name.contains(['[', ']']) {
        return None;
    }
    Some(Spec {
        dir,
        name: name.to_owned(),
        version,
    })
}

/// `anonymous.public` → `anonymous/public`.
fn vms_dir(d: &str) -> Option<String> {
    if d.is_empty() || d.contains(['[', ']', '+', '/']) {
        return None;
    }
    Some(normalize(&d.replace('.', "/")))
}

/// `DEVICE:[DIR.SUB]` (optionally after `Directory `), lower-cased, to `dir/sub`.
fn header(lower: &str) -> Option<String> {
    let s = trim_ws_end(lower);
    let inner = s.strip_suffix(']')?;
    let open = inner.find(":[")?;
    let device = &inner[..open];
    if device.is_empty() || device.contains(':') {
        return None;
    }
    vms_dir(&inner[open + 2..])
}

impl Format for Vms {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) {
            return;
        }
        // mirror.pl lower-cased the whole line (ASCII only) before looking at it.
        let lower = line.to_ascii_lowercase();
        let t = trim_ws(&lower);
        if t.starts_with("total of") || t.starts_with("grand total of") {
            return;
        }
        if t.starts_with('%') && t.contains("-w-nofiles") {
            return; // an empty directory, not an error
        }
        if t.contains("%rms-e-prv")
            || t.contains("insufficient privilege")
            || (t.starts_with('%') && (t.contains("-e-") || t.contains("-f-")))
        {
            return out.push(Parsed::Problem {
                dir: self.cur.clone(),
                message: trim_ws(line).to_owned(),
            });
        }
        if let Some(abs) = header(&lower) {
            return self.enter(&abs, line, out);
        }
        if !self.details(cx, &lower, line, out) {
            // A held long name whose details did not follow is not an entry either.
            self.flush_pending(out);
            out.push(Parsed::Unmatched(line.to_owned()));
        }
    }

    fn finish(&mut self, _cx: &Ctx, out: &mut Vec<Parsed>) {
        self.flush(out);
        self.flush_pending(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{ListParser, Parsed, RemoteFs};
    use crate::Kind::{Dir, File};

    /// The manual's example, with a second directory and two versions of a file.
    const LISTING: &str = "\
USERS:[ANONYMOUS.PUBLIC]

1-README.FIRST;13     9  14-JUN-1993 13:09 [ANONYMOUS] (RWE,RWE,RE,RE)
PALTER.DIR;1          1  18-JAN-1993 11:56 [ANONYMOUS] (RWE,RWE,RE,RE)
PRESS-RELEASES.DIR;1
                      1  11-AUG-1992 20:05 [ANONYMOUS] (RWE,RWE,,)

Total of 3 files, 11 blocks.

Directory USERS:[ANONYMOUS.PUBLIC.PALTER]

X.TXT;2               9  14-JUN-1993 13:09:01.25 [ANONYMOUS] (RWE,RWE,RE,RE)
X.TXT;1               9  13-JUN-1993 13:09 [ANONYMOUS] (RWE,RWE,RE,RE)

Grand total of 2 directories, 5 files, 29 blocks.
";

    #[test]
    fn vms_keeping_versions() {
        let got = parse(RemoteFs::Vms, LISTING);
        assert_eq!(
            got,
            [
                Parsed::Entry(ent(
                    "1-readme.first;13",
                    File,
                    None,
                    min(utc(1993, 6, 14, 13, 9, 0)),
                    Some(0o444)
                )),
                Parsed::Entry(ent(
                    "palter",
                    Dir,
                    Some(0),
                    min(utc(1993, 1, 18, 11, 56, 0)),
                    Some(0o555)
                )),
                Parsed::Entry(ent(
                    "press-releases",
                    Dir,
                    Some(0),
                    min(utc(1992, 8, 11, 20, 5, 0)),
                    Some(0o555)
                )),
                Parsed::Entry(ent("palter", Dir, Some(0), unk(), None)),
                Parsed::Entry(ent(
                    "palter/x.txt;2",
                    File,
                    None,
                    sec(utc(1993, 6, 14, 13, 9, 1)),
                    Some(0o444)
                )),
                Parsed::Entry(ent(
                    "palter/x.txt;1",
                    File,
                    None,
                    min(utc(1993, 6, 13, 13, 9, 0)),
                    Some(0o444)
                )),
            ]
        );
    }

    #[test]
    fn vms_latest_version_only() {
        let mut o = opts(RemoteFs::Vms);
        o.vms_keep_versions = false;
        // Lower version first, to show the choice is by number, not by order.
        let got = entries(&ListParser::parse_all(
            o,
            "/anonymous/public",
            "USERS:[ANONYMOUS.PUBLIC]\nA.TXT;1  1  1-JAN-2000 00:00\nA.TXT;3  1  1-JAN-1999 00:00\nA.TXT;2  1  1-JAN-2001 00:00\nB.TXT;1  1  1-JAN-2000 00:00\n",
        ));
        assert_eq!(
            got,
            [
                ent(
                    "a.txt",
                    File,
                    None,
                    min(utc(1999, 1, 1, 0, 0, 0)),
                    Some(0o444)
                ),
                ent(
                    "b.txt",
                    File,
                    None,
                    min(utc(2000, 1, 1, 0, 0, 0)),
                    Some(0o444)
                ),
            ]
        );
    }

    #[test]
    fn vms_bracket_form_and_roots() {
        let got = parse(
            RemoteFs::Vms,
            "[VMSSERV.FILES]ALARM.DIR;1      1/3          5-MAR-1993 18:09\n\
             [VMSSERV.FILES]ALARM.TXT;1      1/3          4-FEB-1993 12:20\n\
             [VMSSERV.FILES.ALARM]BELL.TXT;4 2/3          4-FEB-1993 12:21\n",
        );
        assert_eq!(
            entries(&got),
            [
                ent(
                    "alarm",
                    Dir,
                    Some(0),
                    min(utc(1993, 3, 5, 18, 9, 0)),
                    Some(0o555)
                ),
                ent(
                    "alarm.txt;1",
                    File,
                    None,
                    min(utc(1993, 2, 4, 12, 20, 0)),
                    Some(0o444)
                ),
                ent(
                    "alarm/bell.txt;4",
                    File,
                    None,
                    min(utc(1993, 2, 4, 12, 21, 0)),
                    Some(0o444)
                ),
            ]
        );
        // A given root that the listing does not live under: nothing can be placed, and
        // the whole listing is a problem (so nothing local is deleted for it).
        let got = ListParser::parse_all(
            opts(RemoteFs::Vms),
            "/other",
            "DISK:[PUB]\nA.TXT;1  1  1-JAN-2000 00:00\n",
        );
        assert_eq!(
            got,
            [problem(
                "",
                "directory outside the listed one (other): DISK:[PUB]"
            )]
        );
    }

    #[test]
    fn vms_errors_and_junk() {
        let got = parse(
            RemoteFs::Vms,
            "DISK:[PUB]\n%RMS-E-PRV, insufficient privilege or file protection violation\n\
             DISK:[PUB.EMPTY]\n%DIRECT-W-NOFILES, no files found\n\
             ORPHAN.TXT;1\nsomething else\n",
        );
        assert_eq!(
            got,
            [
                problem(
                    "",
                    "%RMS-E-PRV, insufficient privilege or file protection violation"
                ),
                Parsed::Entry(ent("empty", Dir, Some(0), unk(), None)),
                Parsed::Unmatched("ORPHAN.TXT;1".into()),
                Parsed::Unmatched("something else".into()),
            ]
        );
    }
}
