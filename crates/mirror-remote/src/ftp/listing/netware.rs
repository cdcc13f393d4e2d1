//! `remote_fs=netware`: Novell NetWare FTP servers,
//! `- [R----F--] owner  size  Mon DD HH:MM  name` and its variants (with a link count,
//! without the space after the type, `Mon DD YY HH:MM`). No headers: NetWare is listed one
//! directory at a time (`recurse_hard`).
//!
//! Permissions come from the trustee rights in brackets. mirror.pl meant R → rw-r--r--,
//! W → -w--w--w-, F → r--r--r-- but wrote the constants in hex (`0x644`) and read the whole
//! field instead of the bracket, so its modes were garbage; we apply the intent, in octal,
//! and give readable directories their execute bits so a copied mode leaves them usable.
//! The `Mon DD YY HH:MM` variant, which the manual shows but mirror.pl's regex never
//! matched, is read too.

use crate::Kind;

use super::date::find_ls_date;
use super::text::{is_blank, is_dot, join, parse_digits, split_symlink, tokens, trim_ws_start};
use super::{Ctx, Format, Parsed, RawEntry};

/// NetWare is stateless: each line stands alone.
pub(super) struct Netware;

fn entry(cx: &Ctx, line: &str) -> Option<Option<RawEntry>> {
    let type_char = *line.as_bytes().first()?;
    if !matches!(type_char, b'd' | b'l' | b'-' | b'|') {
        return None;
    }
    let rest = trim_ws_start(&line[1..]);
    let inner_end = rest.strip_prefix('[')?.find(']')?;
    let rights = &rest[1..=inner_end];
    if rights.is_empty() || !rights.bytes().all(|b| b"RWCEAFMS-".contains(&b)) {
        return None;
    }
    let after = &rest[inner_end + 2..];
    let toks = tokens(after);
    // [links] owner size date name: the month is the third or fourth token.
    let date = find_ls_date(cx, &toks, 2, true)?;
    if date.month_idx > 3 {
        return None;
    }
    let size: u64 = parse_digits(toks[date.month_idx - 1].text)?;
    let name = &after[toks[date.name_idx].start..];
    if is_dot(name) {
        return Some(None);
    }
    let (name, kind) = match type_char {
        b'd' => (name, Kind::Dir),
        b'-' => (name, Kind::File),
        b'l' => match split_symlink(name) {
            Some((n, t)) => (n, Kind::Symlink(Box::from(t))),
            None => (name, Kind::Other),
        },
        _ => (name, Kind::Other),
    };
    let path = join(&cx.base, name)?;
    let mut mode = 0;
    for c in rights.bytes() {
        mode |= match c {
            b'R' => 0o644,
            b'W' => 0o222,
            b'F' => 0o444,
            _ => 0,
        };
    }
    if kind.is_dir() && mode & 0o444 != 0 {
        mode |= 0o111;
    }
    Some(Some(RawEntry {
        path,
        size: Some(if kind.is_dir() { 0 } else { size }),
        kind,
        mtime: date.stamp.mtime,
        precision: date.stamp.precision,
        mode: Some(mode),
    }))
}

impl Format for Netware {
    fn line(&mut self, cx: &Ctx, line: &str, out: &mut Vec<Parsed>) {
        if is_blank(line) || line.starts_with("total") || line.starts_with("Total") {
            return;
        }
        match entry(cx, line) {
            Some(Some(e)) => out.push(Parsed::Entry(e)),
            Some(None) => {}
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
    fn netware_table() {
        let cases = [
            (
                "- [R----F--] jrd                197928       Sep 25 15:19    kermit.exe",
                ent(
                    "kermit.exe",
                    File,
                    Some(197_928),
                    min(utc(2023, 9, 25, 15, 19, 0)),
                    Some(0o644),
                ),
            ),
            (
                "d [RWCEAFMS] jrd                   512       Sep 04 14:38    lwp",
                ent(
                    "lwp",
                    Dir,
                    Some(0),
                    min(utc(2023, 9, 4, 14, 38, 0)),
                    Some(0o777),
                ),
            ),
            (
                "d [R----F-]  1 carl                   512 Mar 12 15:47 txt",
                ent(
                    "txt",
                    Dir,
                    Some(0),
                    min(utc(2024, 3, 12, 15, 47, 0)),
                    Some(0o755),
                ),
            ),
            (
                "- [-RWCE-F-] mlm                   11820 Feb  3 93 12:00  drivers.doc",
                ent(
                    "drivers.doc",
                    File,
                    Some(11_820),
                    min(utc(1993, 2, 3, 12, 0, 0)),
                    Some(0o666),
                ),
            ),
            (
                "-[R----F-]  1 supervis      256 Nov 15 14:21 readme.txt",
                ent(
                    "readme.txt",
                    File,
                    Some(256),
                    min(utc(2023, 11, 15, 14, 21, 0)),
                    Some(0o644),
                ),
            ),
            (
                "d[R----F--] 1 jrd                   512       Sep 09  1995    netwire",
                ent(
                    "netwire",
                    Dir,
                    Some(0),
                    day(utc(1995, 9, 9, 0, 0, 0)),
                    Some(0o755),
                ),
            ),
            (
                "- [R----F--] jrd     12       Jan 01 10:00    with space.txt",
                ent(
                    "with space.txt",
                    File,
                    Some(12),
                    min(utc(2024, 1, 1, 10, 0, 0)),
                    Some(0o644),
                ),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(entries(&parse(RemoteFs::Netware, line)), [want], "{line}");
        }
    }

    #[test]
    fn netware_other_lines() {
        let got = ListParser::parse_all(
            opts(RemoteFs::Netware),
            "sys",
            "total 3\n\nd [R----F--] jrd 512 Sep 09 10:52 .\n- [XYZ] jrd 1 Sep 09 10:52 bad\n- [R----F--] jrd 1 Sep 09 10:52 ok\n",
        );
        assert_eq!(
            got,
            [
                Parsed::Unmatched("- [XYZ] jrd 1 Sep 09 10:52 bad".into()),
                Parsed::Entry(ent(
                    "sys/ok",
                    File,
                    Some(1),
                    min(utc(2023, 9, 9, 10, 52, 0)),
                    Some(0o644)
                )),
            ]
        );
    }
}
