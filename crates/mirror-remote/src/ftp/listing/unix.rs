//! `remote_fs=unix` (the default): `ls -l` and `ls -lR` output, as nearly every FTP server
//! sends for `LIST`, and as `ls-lR` files hold. The rules are spec §5.3's, line by line,
//! with the §6.21 quirks fixed.
//!
//! Per line, in order:
//! 1. `ls` error messages (`ls: x: Permission denied`, `... No such file or directory`,
//!    `cannot access x`) become [`Parsed::Problem`] for the path they name (or the current
//!    directory). Such a message can start in the middle of a line (stderr interleaved with
//!    stdout); the text before it is kept and put in front of the next line, as mirror.pl
//!    did. Any other line that starts with `ls: ` (or `/bin/ls: `...) is an error too.
//!    These are checked first, so a *name* containing `cannot access ` or both `ls:` and
//!    `Permission denied` is taken as an error: the safe side, since the directory is then
//!    not trusted for deletions.
//! 2. Entry lines (ten mode characters, size, `Mon DD HH:MM|YYYY`, name); `.` and `..`
//!    skipped; `d` lines skipped with `report_subdirs`; device and fifo lines ignored.
//! 3. Directory headers `path:`.
//! 4. `total N`, blank lines, `Last updated: ...` banners: ignored. `... unreadable`: a
//!    problem for that directory.
//! 5. A line that is only a path starting with `/` or `./` sets the current directory (the
//!    old export.lcs.mit.edu layout, which put directory names on their own line without the
//!    colon). mirror.pl let *any* unrecognised word do that, silently moving every later entry
//!    into a made-up directory; we accept only this unambiguous form.
//! 6. Other error text (`x: Permission denied`, `not found`) that is neither an entry nor a
//!    header: a problem for the current directory, and the next line is dropped as probably
//!    corrupted (reported too). Because entries are tried first, a file *named* `not found`
//!    is an ordinary entry (mirror.pl dropped it and the line after it).
//! 7. Anything else is [`Parsed::Unmatched`], including `d`/`-` lines whose fields cannot be
//!    read (mirror.pl ignored broken `d` lines silently, so the directory just vanished).

use crate::Kind;

use super::date::find_ls_date;
use super::text::{
    header_dir, header_entry, is_blank, is_dot, join, parse_digits, split_symlink, tokens, trim_ws,
    trim_ws_end,
};
use super::{Ctx, Format, Parsed, RawEntry};

/// The characters mirror.pl's entry regex allowed in the ten mode columns.
const MODE_CHARS: &[u8] = b"-FlrwxsStTdDam";

/// State of one `ls -l`/`ls -lR` listing.
pub(super) struct Unix {
    /// The directory entries are currently placed in.
    cur: String,
    /// Text that came before an `ls` error in the middle of a line; it belongs in front of
    /// the next line.
    crud: Option<String>,
    /// A non-`ls` error message was seen; the next line is probably broken.
    drop_next: bool,
}

impl Unix {
    pub(super) fn new(cx: &Ctx) -> Self {
        Unix {
            cur: cx.base.clone(),
            crud: None,
            drop_next: false,
        }
    }

    fn plain(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) {
            return;
        }
        let toks = tokens(line);
        let mode = toks.first().and_then(|t| mode_columns(t.text));
        if let Some(m) = mode
            && toks.len() >= 2
        {
            if matches!(m[0], b'c' | b'b' | b'p') {
                return; // device or fifo: nothing to mirror (spec §5.3)
            }
            match self.entry(cx, line, &toks, m) {
                Some(Some(e)) => return out.push(Parsed::Entry(e)),
                Some(None) => return,
                // mirror.pl ignored socket lines it could not read; nothing to lose there.
                None if m[0] == b's' => return,
                None => {}
            }
        }
        let entry_shaped = mode.is_some() && toks.len() >= 4;
        if let Some(h) = line.strip_suffix(':')
            && !entry_shaped
        {
            return self.enter(cx, h, out);
        }
        if line.starts_with("total") || line.starts_with("Total") || is_updated_banner(line) {
            return;
        }
        if let Some(rest) = line
            .strip_suffix("unreadable")
            .or_else(|| line.strip_suffix("Unreadable"))
        {
            let named = trim_ws(trim_ws_end(rest).trim_end_matches(':'));
            let dir = if named.is_empty() || named.contains(' ') {
                self.cur.clone()
            } else {
                header_dir(&cx.base, named)
            };
            return out.push(Parsed::Problem {
                dir,
                message: line.to_owned(),
            });
        }
        if toks.len() == 1
            && toks[0].start == 0
            && (line.starts_with('/') || line.starts_with("./"))
        {
            self.cur = header_dir(&cx.base, line);
            return;
        }
        if is_other_error(line) {
            self.drop_next = true;
            return out.push(Parsed::Problem {
                dir: self.cur.clone(),
                message: line.to_owned(),
            });
        }
        out.push(Parsed::Unmatched(line.to_owned()));
    }

    /// An entry line: `Some(Some(entry))`, `Some(None)` for one that is skipped on purpose,
    /// `None` if the line is not an entry after all.
    fn entry(
        &self,
        cx: &Ctx,
        line: &str,
        toks: &[super::text::Tok<'_>],
        m: &[u8; 10],
    ) -> Option<Option<RawEntry>> {
        let date = find_ls_date(cx, toks, 2, false)?;
        let size: u64 = parse_digits(toks[date.month_idx - 1].text)?;
        let name = &line[toks[date.name_idx].start..];
        if is_dot(name) {
            return Some(None);
        }
        let (name, kind) = match m[0] {
            b'l' => match split_symlink(name) {
                Some((n, target)) => (n, Kind::Symlink(Box::from(target))),
                None => (name, Kind::Other),
            },
            b'-' | b'F' => (name, Kind::File),
            b'd' | b'D' => {
                if cx.opts.report_subdirs {
                    return Some(None);
                }
                (name, Kind::Dir)
            }
            _ => (name, Kind::Other),
        };
        let path = entry_path(&self.cur, name)?;
        // The size `ls` shows for a directory is its own block usage, not content.
        let size = if kind.is_dir() { 0 } else { size };
        Some(Some(RawEntry {
            path,
            kind,
            size: Some(size),
            mtime: date.stamp.mtime,
            precision: date.stamp.precision,
            mode: Some(mode_bits(m)),
        }))
    }

    /// A `dir:` header: switch to it and report it as a directory entry.
    fn enter(&mut self, cx: &Ctx, header: &str, out: &mut Vec<Parsed>) {
        self.cur = header_dir(&cx.base, header);
        header_entry(&cx.base, &self.cur, out);
    }

    /// The line after a non-`ls` error message. mirror.pl dropped it blindly; we still do
    /// (the directory is already marked untrustworthy) but say so, and a header is still
    /// honoured, since ignoring it would file the next directory's entries under this one.
    fn dropped(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        let toks = tokens(line);
        let mode_like = toks.first().and_then(|t| mode_columns(t.text)).is_some();
        if let Some(h) = line.strip_suffix(':')
            && !mode_like
        {
            self.enter(cx, h, out);
        }
        out.push(Parsed::Problem {
            dir: self.cur.clone(),
            message: format!("dropped a line that follows an error message: {line}"),
        });
    }
}

impl Format for Unix {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if self.drop_next {
            self.drop_next = false;
            if !is_blank(line) {
                self.dropped(cx, line, out);
            }
            return;
        }
        if let Some(err) = ls_error(line) {
            if self.crud.is_none() && !err.prefix.is_empty() {
                self.crud = Some(err.prefix.to_owned());
            }
            let dir = match err.path {
                Some(p) => header_dir(&cx.base, &p),
                None => self.cur.clone(),
            };
            out.push(Parsed::Problem {
                dir,
                message: err.message.to_owned(),
            });
            return;
        }
        match self.crud.take() {
            Some(prefix) => self.plain(cx, &(prefix + line), out),
            None => self.plain(cx, line, out),
        }
    }
}

/// The path of an entry line's `name` in directory `cur`. An `ls -l` name is one path
/// segment (a trailing `/` from `ls -F` aside): a name holding `/` or NUL is hostile
/// (`../../etc/x`, `/etc/passwd`), so it is passed on unnormalized, for [`crate::RelPath`]
/// to refuse and the backend to report, instead of being quietly turned into a harmless
/// looking path.
fn entry_path(cur: &str, name: &str) -> Option<String> {
    let bare = name.strip_suffix('/').unwrap_or(name);
    if bare.contains(['/', '\0']) {
        return Some(if cur.is_empty() {
            name.to_owned()
        } else {
            format!("{cur}/{name}")
        });
    }
    join(cur, name)
}

/// The first ten bytes of `tok` if they look like an `ls -l` mode string (mirror.pl's
/// class, plus `c`/`b`/`p` in the type column so device lines are recognised as such).
fn mode_columns(tok: &str) -> Option<&[u8; 10]> {
    let m: &[u8; 10] = tok.as_bytes().get(..10)?.try_into().ok()?;
    let type_ok = MODE_CHARS.contains(&m[0]) || matches!(m[0], b'c' | b'b' | b'p');
    (type_ok && m[1..].iter().all(|b| MODE_CHARS.contains(b))).then_some(m)
}

/// Permission bits from the nine `rwx` columns, with setuid/setgid/sticky: `s`/`t` mean the
/// special bit *and* execute, `S`/`T` the special bit alone (and `l` in the group column is
/// System V's mandatory locking, which is setgid without execute). mirror.pl read `t` as
/// "no execute" (`drwxrwxrwt` came out 01776) and set a bit for any unexpected letter.
fn mode_bits(m: &[u8; 10]) -> u32 {
    let mut mode = 0;
    let bit = |c: u8, want: u8, v: u32| if c == want { v } else { 0 };
    mode |= bit(m[1], b'r', 0o400) | bit(m[2], b'w', 0o200);
    mode |= bit(m[4], b'r', 0o040) | bit(m[5], b'w', 0o020);
    mode |= bit(m[7], b'r', 0o004) | bit(m[8], b'w', 0o002);
    mode |= match m[3] {
        b'x' => 0o100,
        b's' => 0o4100,
        b'S' => 0o4000,
        _ => 0,
    };
    mode |= match m[6] {
        b'x' => 0o010,
        b's' => 0o2010,
        b'S' | b'l' => 0o2000,
        _ => 0,
    };
    mode |= match m[9] {
        b'x' => 0o001,
        b't' => 0o1001,
        b'T' => 0o1000,
        _ => 0,
    };
    mode
}

/// An `ls` error message found in a line.
#[derive(Debug, PartialEq, Eq)]
struct LsError<'a> {
    /// What came before the message on the same line.
    prefix: &'a str,
    /// The message, from the program name on.
    message: &'a str,
    /// The path the message names, if it can be told.
    path: Option<String>,
}

const LS_REASONS: [&str; 2] = ["Permission denied", "No such file or directory"];

/// Spec §5.3's first rule: `[/bin/]ls: ... Permission denied`, `ls: ... No such file or
/// directory`, `... cannot access ...` / `can not access`.
fn ls_error(line: &str) -> Option<LsError<'_>> {
    // The first `ls:` that a reason follows. mirror.pl's greedy `^(.*)ls:` took the last
    // one, so a path like `tools:` inside the message cut the wrong prefix. Comparing with
    // the last reason keeps this linear however many `ls:` a hostile line holds.
    let last_reason = LS_REASONS.iter().filter_map(|r| line.rfind(r)).max();
    if let (Some(at), Some(last)) = (line.find("ls:"), last_reason)
        && at + 3 <= last
    {
        let start = program_start(line, at);
        return Some(LsError {
            prefix: &line[..start],
            message: trim_ws(&line[start..]),
            path: error_path(&line[at + 3..]),
        });
    }
    for phrase in ["cannot access ", "can not access "] {
        if let Some(at) = line.find(phrase) {
            // `ls: cannot access 'x': Input/output error`: the program name belongs to the
            // message, not to the text carried over to the next line.
            let before = trim_ws_end(&line[..at]);
            let start = match before.strip_suffix("ls:") {
                Some(b) => program_start(line, b.len()),
                None => at,
            };
            return Some(LsError {
                prefix: &line[..start],
                message: trim_ws(&line[start..]),
                path: error_path(&line[at..]),
            });
        }
    }
    // Any other message from ls itself (`ls: reading directory '.': Input/output error`):
    // mirror.pl printed it as unmatched and trusted the listing anyway.
    if let Some(at) = line.find("ls: ")
        && program_start(line, at) == 0
    {
        return Some(LsError {
            prefix: "",
            message: trim_ws(line),
            path: error_path(&line[at + 3..]),
        });
    }
    None
}

/// Where the program name in front of `ls:` (at `ls_at`) starts: `/bin/ls:`,
/// `/usr/bin/ls:` and the like are part of the message.
fn program_start(line: &str, ls_at: usize) -> usize {
    let before = &line[..ls_at];
    [
        "/usr/local/bin/",
        "/usr/bin/",
        "/usr/sbin/",
        "/bin/",
        "/sbin/",
    ]
    .iter()
    .find(|dir| before.ends_with(*dir))
    .map_or(ls_at, |dir| ls_at - dir.len())
}

/// The path an `ls` message names: `x: Permission denied`, `cannot open directory './x':
/// ...`, `cannot access 'x': ...`, `cannot access x`.
fn error_path(msg: &str) -> Option<String> {
    let mut s = trim_ws(msg);
    for lead in [
        "cannot open directory ",
        "cannot read directory ",
        "reading directory ",
        "cannot read symbolic link ",
        "cannot access ",
        "can not access ",
        "cannot open ",
    ] {
        if let Some(rest) = s.strip_prefix(lead) {
            s = rest;
            break;
        }
    }
    if let Some(i) = s.rfind(": ") {
        s = &s[..i];
    }
    let s = trim_ws(s).trim_end_matches(':');
    let s = strip_quotes(s);
    (!s.is_empty()).then(|| s.to_owned())
}

/// GNU ls quotes names: `'x'`, `"x"`, `‘x’`, `` `x' ``.
fn strip_quotes(s: &str) -> &str {
    for (open, close) in [("'", "'"), ("\"", "\""), ("‘", "’"), ("`", "'")] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            return inner;
        }
    }
    s
}

/// `Last updated: ...` style banners (mirror.pl: `^.*[Uu]pdated.*:`).
fn is_updated_banner(line: &str) -> bool {
    ["Updated", "updated"]
        .iter()
        .filter_map(|w| line.find(w).map(|i| &line[i..]))
        .any(|rest| rest.contains(':'))
}

/// mirror.pl's second rule: other `x: Permission denied` messages and `not found`.
fn is_other_error(line: &str) -> bool {
    if line.contains("not found") {
        return true;
    }
    line.match_indices("Permission denied").any(|(i, _)| {
        let before = trim_ws_end(&line[..i]);
        before.len() >= 2 && before.ends_with(':')
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::{ListParser, ParseOptions, Parsed, RemoteFs};
    use super::*;
    use crate::Kind::{Dir, File, Other};

    fn unix(text: &str) -> Vec<Parsed> {
        parse(RemoteFs::Unix, text)
    }

    fn one(line: &str) -> RawEntry {
        let got = unix(line);
        match got.as_slice() {
            [Parsed::Entry(e)] => e.clone(),
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    /// One table for single `ls -l` lines (now = 2024-03-15 12:00 UTC).
    #[test]
    fn entry_lines() {
        let cases: Vec<(&str, RawEntry)> = vec![
            // vsftpd: numeric owner/group, recent and old files, directory.
            (
                "-rw-r--r--    1 1000     1000         1234 Jan 10 12:00 file.txt",
                ent(
                    "file.txt",
                    File,
                    Some(1234),
                    min(utc(2024, 1, 10, 12, 0, 0)),
                    Some(0o644),
                ),
            ),
            (
                "-rw-r--r--    1 0        0              42 Jun 05  2019 old.txt",
                ent(
                    "old.txt",
                    File,
                    Some(42),
                    day(utc(2019, 6, 5, 0, 0, 0)),
                    Some(0o644),
                ),
            ),
            (
                "drwxr-xr-x    2 0        0            4096 Mar 14 09:30 pub",
                ent(
                    "pub",
                    Dir,
                    Some(0),
                    min(utc(2024, 3, 14, 9, 30, 0)),
                    Some(0o755),
                ),
            ),
            // proftpd: names, a month later than now's (last year), a symlink.
            (
                "-rw-r--r--   1 ftp      ftp          5120 Nov  3 11:01 report.pdf",
                ent(
                    "report.pdf",
                    File,
                    Some(5120),
                    min(utc(2023, 11, 3, 11, 1, 0)),
                    Some(0o644),
                ),
            ),
            (
                "lrwxrwxrwx   1 ftp      ftp            10 Jul 18 00:24 symlink_to_myfile.txt -> myfile.txt",
                ent(
                    "symlink_to_myfile.txt",
                    link("myfile.txt"),
                    Some(10),
                    min(utc(2023, 7, 18, 0, 24, 0)),
                    Some(0o777),
                ),
            ),
            // pure-ftpd style with the year column.
            (
                "-rw-r--r--    1 ftpuser    ftpgroup      2147483648 Dec 31  1999 big.iso",
                ent(
                    "big.iso",
                    File,
                    Some(2_147_483_648),
                    day(utc(1999, 12, 31, 0, 0, 0)),
                    Some(0o644),
                ),
            ),
            // Names with spaces (inner runs kept), UTF-8 names.
            (
                "-rw-r--r-- 1 u g 7 Feb 29  2020 my  file .txt",
                ent(
                    "my  file .txt",
                    File,
                    Some(7),
                    day(utc(2020, 2, 29, 0, 0, 0)),
                    Some(0o644),
                ),
            ),
            (
                "-rw-r--r-- 1 u g 3 Mar  1 08:00 Grüße – résumé.txt",
                ent(
                    "Grüße – résumé.txt",
                    File,
                    Some(3),
                    min(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o644),
                ),
            ),
            // ` -> ` inside the link's own name: split at the last one.
            (
                "lrwxrwxrwx 1 u g 1 Mar  1 08:00 a -> b -> c",
                ent(
                    "a -> b",
                    link("c"),
                    Some(1),
                    min(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o777),
                ),
            ),
            // A link without an arrow is of unknown type (mirror.pl: `?`).
            (
                "lrwxrwxrwx 1 u g 1 Mar  1 08:00 odd",
                ent(
                    "odd",
                    Other,
                    Some(1),
                    min(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o777),
                ),
            ),
            // Special bits: s/S/t/T.
            (
                "-rwsr-sr-x 1 root root 100 Jan  1  2020 su",
                ent(
                    "su",
                    File,
                    Some(100),
                    day(utc(2020, 1, 1, 0, 0, 0)),
                    Some(0o6755),
                ),
            ),
            (
                "drwxrwxrwt 2 root root 4096 Mar  1 08:00 tmp",
                ent(
                    "tmp",
                    Dir,
                    Some(0),
                    min(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o1777),
                ),
            ),
            (
                "-rwSr-Sr-T 1 root root 5 Jan  1  2020 specials",
                ent(
                    "specials",
                    File,
                    Some(5),
                    day(utc(2020, 1, 1, 0, 0, 0)),
                    Some(0o7644),
                ),
            ),
            // ACL / SELinux markers after the mode; a listing without a group column.
            (
                "-rw-r--r--+ 1 u g 9 Mar  1 08:00 acl",
                ent(
                    "acl",
                    File,
                    Some(9),
                    min(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o644),
                ),
            ),
            (
                "-rw-r--r-- 1 ftp 1234 Mar  1 08:00 nogroup",
                ent(
                    "nogroup",
                    File,
                    Some(1234),
                    min(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o644),
                ),
            ),
            // A date inside the name does not steal the fields (mirror.pl: size 2, name "x").
            (
                "-rw-r--r-- 1 u g 99 Mar  1 08:00 backup 2 Feb 3 2020 x",
                ent(
                    "backup 2 Feb 3 2020 x",
                    File,
                    Some(99),
                    min(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o644),
                ),
            ),
            // An owner named like a month with a numeric group is not a date.
            (
                "-rw-r--r-- 2 jan 2000 1234 Jan 10 12:00 f",
                ent(
                    "f",
                    File,
                    Some(1234),
                    min(utc(2024, 1, 10, 12, 0, 0)),
                    Some(0o644),
                ),
            ),
            // A file *named* "not found" is an ordinary file (§6.21).
            (
                "-rw-r--r-- 1 u g 5 Mar  1 08:00 not found",
                ent(
                    "not found",
                    File,
                    Some(5),
                    min(utc(2024, 3, 1, 8, 0, 0)),
                    Some(0o644),
                ),
            ),
            // An impossible date: entry kept, time unknown (never "now").
            (
                "-rw-r--r-- 1 u g 5 Feb 30  2020 bad-date",
                ent("bad-date", File, Some(5), unk(), Some(0o644)),
            ),
            // Sockets: type unknown (mirror.pl: `?`), never transferred.
            (
                "srwxrwxrwx 1 u g 0 Jan  1  2020 sock",
                ent(
                    "sock",
                    Other,
                    Some(0),
                    day(utc(2020, 1, 1, 0, 0, 0)),
                    Some(0o777),
                ),
            ),
            // `F` in the type column is a file; `D` a directory.
            (
                "Frw-r--r-- 1 u g 1 Jan  1  2020 f-type",
                ent(
                    "f-type",
                    File,
                    Some(1),
                    day(utc(2020, 1, 1, 0, 0, 0)),
                    Some(0o644),
                ),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(one(line), want, "{line}");
        }
    }

    #[test]
    fn ignored_lines() {
        for line in [
            "total 8",
            "Total 123",
            "",
            "   ",
            "crw-rw-rw- 1 root root 1, 3 Jan  1  2020 null",
            "brw-rw---- 1 root disk 8, 0 Jan  1  2020 sda",
            "prw-r--r-- 1 u g 0 Jan  1  2020 fifo",
            "Last Updated:  Tue Oct  8 04:30:50 EDT 1991",
            "drwxr-xr-x 2 u g 4096 Mar  1 08:00 .",
            "drwxr-xr-x 2 u g 4096 Mar  1 08:00 ..",
            ".:",
        ] {
            assert_eq!(unix(line), [], "{line:?}");
        }
    }

    const LS_LR: &str = "\
.:
total 8
drwxr-xr-x 3 u g 4096 Mar  1 08:00 sub
-rw-r--r-- 1 u g 10 Mar  1 08:00 top.txt

./sub:
total 4
drwxr-xr-x 2 u g 4096 Mar  1 08:00 deeper
-rw-r--r-- 1 u g 20 Mar  1 08:00 a.txt

sub/deeper:
total 1
-rw-r--r-- 1 u g 30 Mar  1 08:00 b.txt
";

    fn paths(parsed: &[Parsed]) -> Vec<String> {
        parsed
            .iter()
            .map(|p| match p {
                Parsed::Entry(e) => format!("{} {}", e.kind.letter(), e.path),
                Parsed::Problem { dir, message } => format!("! {dir}: {message}"),
                Parsed::Unmatched(l) => format!("? {l}"),
            })
            .collect()
    }

    #[test]
    fn recursive_listing_with_headers() {
        let t = min(utc(2024, 3, 1, 8, 0, 0));
        let got = unix(LS_LR);
        assert_eq!(
            paths(&got),
            [
                "d sub",
                "f top.txt",
                "d sub",
                "d sub/deeper",
                "f sub/a.txt",
                "d sub/deeper",
                "f sub/deeper/b.txt"
            ]
        );
        // The header's entry has no time; the `d` line's has.
        assert_eq!(entries(&got)[0], ent("sub", Dir, Some(0), t, Some(0o755)));
        assert_eq!(entries(&got)[2], ent("sub", Dir, Some(0), unk(), None));
        assert_eq!(
            entries(&got)[6],
            ent("sub/deeper/b.txt", File, Some(30), t, Some(0o644))
        );
    }

    #[test]
    fn report_subdirs_learns_dirs_from_headers_only() {
        let mut o = opts(RemoteFs::Unix);
        o.report_subdirs = true;
        let got = ListParser::parse_all(o, "", LS_LR);
        assert_eq!(
            paths(&got),
            [
                "f top.txt",
                "d sub",
                "f sub/a.txt",
                "d sub/deeper",
                "f sub/deeper/b.txt"
            ]
        );
    }

    #[test]
    fn base_dir_and_absolute_headers() {
        let got = ListParser::parse_all(
            opts(RemoteFs::Unix),
            "pub/sub",
            "-rw-r--r-- 1 u g 1 Mar  1 08:00 x\n/pub/gnu:\n-rw-r--r-- 1 u g 1 Mar  1 08:00 y\nrel:\n-rw-r--r-- 1 u g 1 Mar  1 08:00 z\n",
        );
        assert_eq!(
            paths(&got),
            [
                "f pub/sub/x",
                "d pub/gnu",
                "f pub/gnu/y",
                "d pub/sub/rel",
                "f pub/sub/rel/z"
            ]
        );
    }

    #[test]
    fn ls_errors_become_problems_for_the_directory_they_name() {
        let got = unix(
            "./private:\nls: cannot open directory './private': Permission denied\n\
             /bin/ls: ./secret: Permission denied\n\
             ls: gone.txt: No such file or directory\n\
             ls: cannot access 'sub/x': No such file or directory\n\
             /usr/bin/ls: cannot open directory '/abs/dir': Permission denied\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Entry(ent("private", Dir, Some(0), unk(), None)),
                problem(
                    "private",
                    "ls: cannot open directory './private': Permission denied"
                ),
                problem("secret", "/bin/ls: ./secret: Permission denied"),
                problem("gone.txt", "ls: gone.txt: No such file or directory"),
                problem(
                    "sub/x",
                    "ls: cannot access 'sub/x': No such file or directory"
                ),
                problem(
                    "abs/dir",
                    "/usr/bin/ls: cannot open directory '/abs/dir': Permission denied"
                ),
            ]
        );
    }

    #[test]
    fn any_message_from_ls_is_a_problem() {
        assert_eq!(
            unix("sub:\nls: reading directory '.': Input/output error\n"),
            [
                Parsed::Entry(ent("sub", Dir, Some(0), unk(), None)),
                problem("", "ls: reading directory '.': Input/output error"),
            ]
        );
        assert_eq!(
            ListParser::parse_all(
                opts(RemoteFs::Unix),
                "sub",
                "/bin/ls: cannot open directory .: Operation not permitted\n"
            ),
            [problem(
                "sub",
                "/bin/ls: cannot open directory .: Operation not permitted"
            )]
        );
    }

    #[test]
    fn mid_line_errors_keep_the_text_before_them() {
        // The examples from lsparse.pl's own comments.
        let got = unix(
            "-rw-r--r-ls: navn/internett/RCS/nsc,v: Permission denied\n\
             -  1 43       daemon       1350 Oct 28 14:03 sognhs\n\
             -rwcannot access .stuff/incoming\n\
             -r--r--  1 u g 5 Oct 28 14:03 x\n\
             cannot access .stuff/.cshrc\n",
        );
        assert_eq!(
            got,
            [
                problem(
                    "navn/internett/RCS/nsc,v",
                    "ls: navn/internett/RCS/nsc,v: Permission denied"
                ),
                Parsed::Entry(ent(
                    "sognhs",
                    File,
                    Some(1350),
                    min(utc(2023, 10, 28, 14, 3, 0)),
                    Some(0o644)
                )),
                problem(".stuff/incoming", "cannot access .stuff/incoming"),
                Parsed::Entry(ent(
                    "x",
                    File,
                    Some(5),
                    min(utc(2023, 10, 28, 14, 3, 0)),
                    Some(0o644)
                )),
                problem(".stuff/.cshrc", "cannot access .stuff/.cshrc"),
            ]
        );
    }

    #[test]
    fn other_errors_drop_the_next_line_but_say_so() {
        let got = unix(
            "sub:\nsh: ls: not found\n-rw-r--r-- 1 u g 5 Mar  1 08:00 broken\n\
             -rw-r--r-- 1 u g 5 Mar  1 08:00 kept\n\
             tar: x: Permission denied\nother:\n-rw-r--r-- 1 u g 5 Mar  1 08:00 y\n",
        );
        assert_eq!(
            paths(&got),
            [
                "d sub",
                "! sub: sh: ls: not found",
                "! sub: dropped a line that follows an error message: -rw-r--r-- 1 u g 5 Mar  1 08:00 broken",
                "f sub/kept",
                "! sub: tar: x: Permission denied",
                // The header after an error is still honoured.
                "d other",
                "! other: dropped a line that follows an error message: other:",
                "f other/y",
            ]
        );
    }

    #[test]
    fn bare_words_do_not_move_entries() {
        let got = unix(
            "README\n  indented junk\n-rw-r--r-- 1 u g 1 Mar  1 08:00 a\n\
             ./pub/X11\n-rw-r--r-- 1 u g 1 Mar  1 08:00 b\n\
             drwxr-xr-x 2 u g 4096 ??? ?? ??:?? broken-dir\n",
        );
        assert_eq!(
            paths(&got),
            [
                "? README",
                "?   indented junk",
                "f a",
                "f pub/X11/b",
                "? drwxr-xr-x 2 u g 4096 ??? ?? ??:?? broken-dir",
            ]
        );
    }

    #[test]
    fn unreadable_dirs_are_problems() {
        assert_eq!(
            unix("./private unreadable\n"),
            [problem("private", "./private unreadable")]
        );
        assert_eq!(
            unix("sub:\ndirectory is Unreadable\n"),
            [
                Parsed::Entry(ent("sub", Dir, Some(0), unk(), None)),
                problem("sub", "directory is Unreadable")
            ]
        );
    }

    #[test]
    fn crlf_and_streaming() {
        let mut p = ListParser::new(opts(RemoteFs::Unix), "");
        assert_eq!(
            p.line("-rw-r--r-- 1 u g 1 Mar  1 08:00 a\r\n"),
            [Parsed::Entry(ent(
                "a",
                File,
                Some(1),
                min(utc(2024, 3, 1, 8, 0, 0)),
                Some(0o644)
            ))]
        );
        assert_eq!(p.line("total 0\r"), []);
        assert_eq!(p.finish(), []);
    }

    #[test]
    fn error_paths() {
        assert_eq!(
            error_path(" x y: Permission denied").as_deref(),
            Some("x y")
        );
        assert_eq!(
            error_path(" cannot open directory ‘d’: Permission denied").as_deref(),
            Some("d")
        );
        assert_eq!(error_path(" : Permission denied"), None);
        assert_eq!(ls_error("tools: fine"), None);
        assert_eq!(
            ls_error(
                "-rwxls: cannot access 'x': Input/output error with ls: No such file or directory"
            )
            .map(|e| e.prefix),
            Some("-rwx")
        );
        assert_eq!(
            ls_error("ls: cannot access 'x': Input/output error").map(|e| (e.prefix, e.message)),
            Some(("", "ls: cannot access 'x': Input/output error"))
        );
    }

    #[test]
    fn time_zone_is_the_listing_s() {
        let mut o: ParseOptions = opts(RemoteFs::Unix);
        o.tz = super::super::ListTz::parse_zone("+02:00").unwrap();
        let got = entries(&ListParser::parse_all(
            o,
            "",
            "-rw-r--r-- 1 u g 1 Mar  1 08:00 a\n-rw-r--r-- 1 u g 1 Mar  1  2020 b\n",
        ));
        assert_eq!(got[0].mtime, Some(utc(2024, 3, 1, 6, 0, 0)));
        assert_eq!(got[1].mtime, Some(utc(2020, 2, 29, 22, 0, 0)));
    }
}
