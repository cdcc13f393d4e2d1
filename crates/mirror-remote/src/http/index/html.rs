//! A small, forgiving HTML (and simple XML) tokenizer: start tags with their attributes, end
//! tags and text, nothing else.
//!
//! Index pages are machine-written and flat, so a DOM buys nothing; what matters is that
//! any byte sequence tokenizes in linear time without panicking. The rules follow the
//! WHATWG tokenizer where it matters for links: quoted attribute values may contain `>`,
//! comments and `<!...>`/`<?...>` are skipped, `<script>` and `<style>` bodies are raw text
//! (lighttpd's and Caddy's pages carry JavaScript full of `<`). Everything is sliced at ASCII
//! delimiters only, so slices always fall on `char` boundaries.
//!
//! Entities are *not* decoded here; [`Tag::attr`] and [`decode_text`] do it on demand.

use std::borrow::Cow;

/// One token of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// A start tag (`<a href="x">`, also self-closing `<br/>`).
    Start(Tag<'a>),
    /// An end tag (`</a>`); the name as written.
    End(&'a str),
    /// Text between tags, entities not yet decoded.
    Text(&'a str),
}

/// A start tag: its name as written and its raw attribute text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag<'a> {
    name: &'a str,
    attrs: &'a str,
}

impl<'a> Tag<'a> {
    /// True if the tag's name is `name` (ASCII case-insensitive, as HTML names are).
    pub(crate) fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value of attribute `name` (first occurrence, as browsers do), entity-decoded.
    /// An attribute written without a value gives `""`.
    pub(crate) fn attr(&self, name: &str) -> Option<Cow<'a, str>> {
        let mut it = Attrs::new(self.attrs, 0);
        it.find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| htmlize::unescape_attribute(v))
    }
}

/// Decodes character references in text content (`&amp;`, `&#x26;`, `&nbsp;`, ...).
pub(crate) fn decode_text(raw: &str) -> Cow<'_, str> {
    if raw.contains('&') {
        htmlize::unescape(raw)
    } else {
        Cow::Borrowed(raw)
    }
}

/// Tokenizes a page; see the module docs for the rules.
pub(crate) fn tokens(s: &str) -> Tokens<'_> {
    Tokens {
        s,
        i: 0,
        raw_until: None,
    }
}

/// The iterator returned by [`tokens`].
pub(crate) struct Tokens<'a> {
    s: &'a str,
    i: usize,
    /// Inside `<script>`/`<style>`: everything up to this end tag is text.
    raw_until: Option<&'static str>,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Elements whose content is raw text: tags inside them are not tags.
const RAW_TEXT: [&str; 2] = ["script", "style"];

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let s = self.s;
        let b = s.as_bytes();
        loop {
            if self.i >= b.len() {
                return None;
            }
            let start = self.i;
            if let Some(end_name) = self.raw_until.take() {
                let end = find_end_tag(b, start, end_name).unwrap_or(b.len());
                self.i = end;
                if end > start {
                    return Some(Token::Text(&s[start..end]));
                }
                continue;
            }
            if b[start] != b'<' {
                let end = memchr_lt(b, start + 1);
                self.i = end;
                return Some(Token::Text(&s[start..end]));
            }
            match b.get(start + 1).copied() {
                Some(b'!') => {
                    self.i = if s[start..].starts_with("<!--") {
                        // `<!-->` and `<!--->` are (empty) comments too.
                        let body = start + 4;
                        if b.get(body) == Some(&b'>') {
                            body + 1
                        } else if b.get(body..body + 2) == Some(b"->") {
                            body + 2
                        } else {
                            s[body..].find("-->").map_or(b.len(), |k| body + k + 3)
                        }
                    } else {
                        skip_past_gt(b, start + 2)
                    };
                }
                Some(b'?') => self.i = skip_past_gt(b, start + 2),
                Some(b'/') => match b.get(start + 2) {
                    Some(c) if c.is_ascii_alphabetic() => {
                        let name_end = name_end(b, start + 2);
                        let mut attrs = Attrs::new(s, name_end);
                        attrs.by_ref().for_each(drop);
                        self.i = (attrs.i + 1).min(b.len());
                        return Some(Token::End(&s[start + 2..name_end]));
                    }
                    // `</>` is dropped; `</ x>` and the like are bogus comments.
                    _ => self.i = skip_past_gt(b, start + 2),
                },
                Some(c) if c.is_ascii_alphabetic() => {
                    let name_end = name_end(b, start + 1);
                    let mut attrs = Attrs::new(s, name_end);
                    attrs.by_ref().for_each(drop);
                    let attrs_end = attrs.i;
                    self.i = (attrs_end + 1).min(b.len());
                    let tag = Tag {
                        name: &s[start + 1..name_end],
                        attrs: &s[name_end..attrs_end],
                    };
                    self.raw_until = RAW_TEXT.into_iter().find(|t| tag.is(t));
                    return Some(Token::Start(tag));
                }
                // A `<` that opens nothing is text.
                _ => {
                    let end = memchr_lt(b, start + 1);
                    self.i = end;
                    return Some(Token::Text(&s[start..end]));
                }
            }
        }
    }
}

/// The next `<` at or after `from`, or the end.
fn memchr_lt(b: &[u8], from: usize) -> usize {
    b.get(from..)
        .and_then(|rest| rest.iter().position(|&c| c == b'<'))
        .map_or(b.len(), |k| from + k)
}

/// The position just past the next `>` at or after `from`, or the end.
fn skip_past_gt(b: &[u8], from: usize) -> usize {
    b.get(from..)
        .and_then(|rest| rest.iter().position(|&c| c == b'>'))
        .map_or(b.len(), |k| from + k + 1)
}

/// The end of a tag name starting at `from`.
fn name_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < b.len() && !is_ws(b[i]) && b[i] != b'/' && b[i] != b'>' {
        i += 1;
    }
    i
}

/// Where `</name` (any case, followed by a delimiter) starts, at or after `from`.
fn find_end_tag(b: &[u8], from: usize, name: &str) -> Option<usize> {
    let n = name.len();
    let mut i = from;
    while let Some(k) = b.get(i..)?.windows(2).position(|w| w == b"</") {
        let at = i + k;
        let after = at + 2 + n;
        if b.get(at + 2..after)
            .is_some_and(|w| w.eq_ignore_ascii_case(name.as_bytes()))
            && b.get(after)
                .is_none_or(|&c| is_ws(c) || c == b'/' || c == b'>')
        {
            return Some(at);
        }
        i = at + 2;
    }
    None
}

/// Iterates `(name, raw value)` over attribute text, stopping at the `>` that closes the tag
/// (or the end). Afterwards `i` is the position of that `>` (or the end).
struct Attrs<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Attrs<'a> {
    fn new(s: &'a str, from: usize) -> Self {
        Attrs { s, i: from }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let s = self.s;
        let b = s.as_bytes();
        let n = b.len();
        let mut i = self.i;
        while i < n && (is_ws(b[i]) || b[i] == b'/') {
            i += 1;
        }
        if i >= n || b[i] == b'>' {
            self.i = i;
            return None;
        }
        // An attribute name may begin with `=` (WHATWG), so the first byte is taken as is.
        let name_start = i;
        i += 1;
        while i < n && !is_ws(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let name = &s[name_start..i];
        let mut j = i;
        while j < n && is_ws(b[j]) {
            j += 1;
        }
        if j >= n || b[j] != b'=' {
            self.i = j;
            return Some((name, ""));
        }
        j += 1;
        while j < n && is_ws(b[j]) {
            j += 1;
        }
        let value = match b.get(j) {
            Some(&q) if q == b'"' || q == b'\'' => {
                let v_start = j + 1;
                let v_end = b[v_start..]
                    .iter()
                    .position(|&c| c == q)
                    .map_or(n, |k| v_start + k);
                self.i = (v_end + 1).min(n);
                &s[v_start..v_end]
            }
            _ => {
                let v_start = j;
                while j < n && !is_ws(b[j]) && b[j] != b'>' {
                    j += 1;
                }
                self.i = j;
                &s[v_start..j]
            }
        };
        Some((name, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Token<'_>> {
        tokens(s).collect()
    }

    #[test]
    fn tags_attributes_and_text() {
        let t = toks(r#"<A HREF="a&amp;b.txt" class=x disabled>a&amp;b</a>tail"#);
        let Token::Start(a) = &t[0] else {
            panic!("{t:?}")
        };
        assert!(a.is("a"));
        assert_eq!(a.attr("href").as_deref(), Some("a&b.txt"));
        assert_eq!(a.attr("class").as_deref(), Some("x"));
        assert_eq!(a.attr("disabled").as_deref(), Some(""));
        assert_eq!(a.attr("title"), None);
        assert_eq!(t[1], Token::Text("a&amp;b"));
        assert_eq!(decode_text("a&amp;b &#x26; &lt;&nbsp;"), "a&b & <\u{a0}");
        assert_eq!(t[2], Token::End("a"));
        assert_eq!(t[3], Token::Text("tail"));
    }

    #[test]
    fn quoted_values_may_hold_gt_and_the_other_quote() {
        let t = toks(r#"<a title='x > "y"' href="q>">t</a>"#);
        let Token::Start(a) = &t[0] else {
            panic!("{t:?}")
        };
        assert_eq!(a.attr("title").as_deref(), Some(r#"x > "y""#));
        assert_eq!(a.attr("href").as_deref(), Some("q>"));
        assert_eq!(t[1], Token::Text("t"));
    }

    #[test]
    fn comments_declarations_and_raw_text_are_skipped() {
        let t = toks(
            "<!DOCTYPE html><!-- <a href=x> --><?xml v?><script>if (a<b) '<a href=y>'</script ><p>",
        );
        assert_eq!(t.len(), 4, "{t:?}");
        assert!(matches!(&t[0], Token::Start(s) if s.is("script")));
        assert_eq!(t[1], Token::Text("if (a<b) '<a href=y>'"));
        assert_eq!(t[2], Token::End("script"));
        assert!(matches!(&t[3], Token::Start(p) if p.is("p")));
        assert_eq!(toks("<!---->x"), vec![Token::Text("x")]);
        assert_eq!(toks("<!-->x"), vec![Token::Text("x")]);
    }

    #[test]
    fn stray_and_unterminated_markup() {
        assert_eq!(toks("a < b"), vec![Token::Text("a "), Token::Text("< b")]);
        assert_eq!(toks("<!-- never closed <a href=x>"), vec![]);
        let t = toks("<a href=\"never closed>");
        let Token::Start(a) = &t[0] else {
            panic!("{t:?}")
        };
        assert_eq!(a.attr("href").as_deref(), Some("never closed>"));
        assert_eq!(toks("</>x"), vec![Token::Text("x")]);
        assert_eq!(
            toks("<script>x"),
            vec![
                Token::Start(Tag {
                    name: "script",
                    attrs: ""
                }),
                Token::Text("x")
            ]
        );
        assert_eq!(toks("<"), vec![Token::Text("<")]);
        assert_eq!(toks("<ü>"), vec![Token::Text("<ü>")]);
    }
}
