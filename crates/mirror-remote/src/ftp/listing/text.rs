//! Text helpers shared by the dialects: whitespace tokens that remember where they are (so a
//! name can be taken verbatim from the rest of the line), number parsing without panics,
//! and the path joining/normalizing of spec §5.2.
//!
//! Whitespace is ASCII only, like Perl's `\s` on the byte strings mirror.pl read: a
//! no-break space or other Unicode space stays part of a name. Because every split point
//! is an ASCII byte, slicing at token boundaries never cuts a UTF-8 character.

use crate::{Kind, Precision};

use super::{Parsed, RawEntry};

/// A whitespace-separated token and the byte offset where it starts in its line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok<'a> {
    pub(crate) text: &'a str,
    pub(crate) start: usize,
}

/// True for the bytes Perl's `\s` matches.
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Splits `line` at runs of ASCII whitespace.
pub(crate) fn tokens(line: &str) -> Vec<Tok<'_>> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_ws(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !is_ws(bytes[i]) {
            i += 1;
        }
        if i > start {
            out.push(Tok {
                text: &line[start..i],
                start,
            });
        }
    }
    out
}

/// Removes the line terminator: any trailing run of CR and LF.
pub(crate) fn chomp(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// True if the line is empty or only whitespace.
pub(crate) fn is_blank(line: &str) -> bool {
    line.bytes().all(is_ws)
}

/// Trims ASCII whitespace at both ends.
pub(crate) fn trim_ws(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_ws(c as u8))
}

/// Trims ASCII whitespace at the start.
pub(crate) fn trim_ws_start(s: &str) -> &str {
    s.trim_start_matches(|c: char| c.is_ascii() && is_ws(c as u8))
}

/// Trims ASCII whitespace at the end.
pub(crate) fn trim_ws_end(s: &str) -> &str {
    s.trim_end_matches(|c: char| c.is_ascii() && is_ws(c as u8))
}

/// True for a non-empty run of ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses a non-empty run of ASCII digits (no sign, no spaces); `None` on overflow.
pub(crate) fn parse_digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if all_digits(s) { s.parse().ok() } else { None }
}

/// A size that may carry thousands separators (`6,471`).
pub(crate) fn parse_size_commas(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(|&c| c != ',').collect();
    if s.starts_with(',') || s.ends_with(',') {
        return None;
    }
    parse_digits(&digits)
}

/// Splits `name -> target` at the **last** ` -> ` (spec §5.3).
pub(crate) fn split_symlink(name: &str) -> Option<(&str, &str)> {
    let i = name.rfind(" -> ")?;
    Some((&name[..i], &name[i + 4..]))
}

/// Normalizes a path as spec §5.2 describes: segments split at `/`, empty and `.` segments
/// dropped (so leading `./` and `/` go, `//` collapses, a trailing `/` goes). `..` is kept
/// on purpose: it is the validator's job to refuse it, and to report that it did.
pub(crate) fn normalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." {
            continue;
        }
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(seg);
    }
    out
}

/// `dir/name`, normalized. `None` when `name` normalizes to nothing (`/`, `./`), which would
/// otherwise make an entry alias its own directory.
pub(crate) fn join(dir: &str, name: &str) -> Option<String> {
    let name = normalize(name);
    if name.is_empty() {
        return None;
    }
    if dir.is_empty() {
        Some(name)
    } else {
        Some(format!("{dir}/{name}"))
    }
}

/// The directory a header or a bare path line names: absolute ones are taken from the tree
/// root, relative ones from the listing's base directory (mirror.pl's `$here`).
pub(crate) fn header_dir(base: &str, header: &str) -> String {
    if header.starts_with('/') || base.is_empty() {
        normalize(header)
    } else {
        normalize(&format!("{base}/{header}"))
    }
}

/// The entry a directory header stands for (spec §5.2: size 0, no time, no mode), or
/// nothing for the listed directory itself.
pub(crate) fn header_entry(base: &str, dir: &str, out: &mut Vec<Parsed>) {
    if dir.is_empty() || dir == base {
        return;
    }
    out.push(Parsed::Entry(RawEntry {
        path: dir.to_owned(),
        kind: Kind::Dir,
        size: Some(0),
        mtime: None,
        precision: Precision::Unknown,
        mode: None,
    }));
}

/// True for `.` and `..`, which every dialect skips.
pub(crate) fn is_dot(name: &str) -> bool {
    name == "." || name == ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_positions() {
        let t = tokens("  ab\tc  déf ");
        let v: Vec<_> = t.iter().map(|t| (t.text, t.start)).collect();
        assert_eq!(v, [("ab", 2), ("c", 5), ("déf", 8)]);
        assert!(tokens(" \t ").is_empty());
    }

    #[test]
    fn normalize_and_join() {
        assert_eq!(normalize("./a//b/./c/"), "a/b/c");
        assert_eq!(normalize("/../x"), "../x");
        assert_eq!(join("", "./x").as_deref(), Some("x"));
        assert_eq!(join("a/b", "c d").as_deref(), Some("a/b/c d"));
        assert_eq!(join("a", "/"), None);
        assert_eq!(header_dir("sub", "./deeper"), "sub/deeper");
        assert_eq!(header_dir("sub", "/pub/x"), "pub/x");
    }

    #[test]
    fn sizes_and_links() {
        assert_eq!(parse_size_commas("6,471"), Some(6471));
        assert_eq!(parse_size_commas(",1"), None);
        assert_eq!(parse_digits::<u64>("99999999999999999999999"), None);
        assert_eq!(split_symlink("a -> b -> c"), Some(("a -> b", "c")));
        assert_eq!(chomp("x\r\r\n"), "x");
        assert_eq!(chomp("x\ry"), "x\ry");
    }
}
