//! `srcset` (and other URL lists) split into URLs with their byte spans, so a rewrite
//! replaces only the URLs and keeps every descriptor, comma and space as written.
//!
//! The splitter follows the WHATWG "parse a srcset attribute" algorithm for where URLs start
//! and end: candidates are separated by commas, a URL runs to the next whitespace, a URL
//! ending in commas loses them, and descriptors run to the next comma outside parentheses.
//! Unlike that algorithm it keeps candidates with odd descriptors: the URL is what matters.

use std::ops::Range;

/// Byte ranges of the URLs in a `srcset` value.
pub fn srcset_urls(s: &str) -> Vec<Range<usize>> {
    let b = s.as_bytes();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c');
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // Skip whitespace and commas before a candidate.
        while i < b.len() && (ws(b[i]) || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && !ws(b[i]) {
            i += 1;
        }
        let mut end = i;
        if b[end - 1] == b',' {
            // "a.png," : the URL ends before its trailing commas; no descriptors.
            while end > start && b[end - 1] == b',' {
                end -= 1;
            }
            if end > start {
                out.push(start..end);
            }
            continue;
        }
        out.push(start..end);
        // Descriptors: up to the next comma outside parentheses.
        let mut depth = 0usize;
        while i < b.len() {
            match b[i] {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// Byte ranges of the items of a list separated by `sep` or whitespace (`archive` of
/// `<applet>` is comma-separated, of `<object>` space-separated).
pub fn list_items(s: &str, sep: char) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        let boundary = c == sep || c.is_ascii_whitespace();
        match (boundary, start) {
            (true, Some(st)) => {
                out.push(st..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push(st..s.len());
    }
    out
}

/// Replaces the given ranges of `s` (sorted, disjoint) with the replacements; `None` when
/// no replacement is given.
pub fn splice(s: &str, edits: &[(Range<usize>, String)]) -> Option<String> {
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut at = 0;
    for (r, new) in edits {
        out.push_str(&s[at..r.start]);
        out.push_str(new);
        at = r.end;
    }
    out.push_str(&s[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(s: &str) -> Vec<&str> {
        srcset_urls(s).into_iter().map(|r| &s[r]).collect()
    }

    #[test]
    fn srcset_candidates() {
        assert_eq!(urls("a.png"), ["a.png"]);
        assert_eq!(urls("a.png 1x, b.png 2x"), ["a.png", "b.png"]);
        assert_eq!(urls(" a.png 100w,b.png 200w "), ["a.png", "b.png"]);
        assert_eq!(urls("a.png,b.png"), ["a.png,b.png"]);
        assert_eq!(urls("a.png, b.png"), ["a.png", "b.png"]);
        assert_eq!(urls("a,b.png 1x"), ["a,b.png"]);
        assert_eq!(urls("a.png (x, y) 1x, b.png"), ["a.png", "b.png"]);
        assert_eq!(urls("http://h/a.jpg?w=1,2 2x"), ["http://h/a.jpg?w=1,2"]);
        assert_eq!(urls(",,, a.png,,, "), ["a.png"]);
        assert!(urls("").is_empty());
    }

    #[test]
    fn splice_keeps_the_rest() {
        let s = "a.png 1x,  b.png 2x";
        let r = srcset_urls(s);
        let out = splice(s, &[(r[1].clone(), "c/d.png".into())]).unwrap();
        assert_eq!(out, "a.png 1x,  c/d.png 2x");
        assert_eq!(splice(s, &[]), None);
    }

    #[test]
    fn lists() {
        let s = "a.jar, b.jar,c.jar";
        let items: Vec<&str> = list_items(s, ',').into_iter().map(|r| &s[r]).collect();
        assert_eq!(items, ["a.jar", "b.jar", "c.jar"]);
        let s = " a.jar  b.jar ";
        let items: Vec<&str> = list_items(s, ' ').into_iter().map(|r| &s[r]).collect();
        assert_eq!(items, ["a.jar", "b.jar"]);
    }
}
