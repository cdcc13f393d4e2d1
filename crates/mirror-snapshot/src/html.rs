//! References in HTML, found and rewritten in one streaming pass (lol_html). A [`Visitor`]
//! sees every reference and may return a replacement; the same walk serves localize (which
//! only collects), rewrite (which replaces) and verify (which checks), so the three stages
//! always agree on what a reference is.
//!
//! What counts as a reference (the README lists it too): `href` of `a`, `area`, `link`,
//! `base`; `src` of `img`, `source`, `script`, `iframe`, `frame`, `embed`, `audio`, `video`,
//! `track`, `input`; `srcset` of `img` and `source`; `poster` of `video`; `background` of
//! `body`, `table`, `td`, `th`; `data-src` and `data-srcset` of any element; `data`,
//! `archive` and `codebase` of `object`; `code`, `archive` and `codebase` of `applet`;
//! `value` of `param` named `movie`, `src`, `url`, `filename`, `code` or `archive`; the URL
//! of `<meta http-equiv=refresh>`; CSS `url()` and `@import` in `style=""` and `<style>`.
//!
//! Attribute values arrive raw from lol_html (`&amp;` not decoded): they are decoded with
//! htmlize before the visitor sees them, and a replacement has its `&` escaped before it is
//! written back (lol_html escapes only `"`). Attributes nobody changes keep their bytes.

use std::cell::RefCell;
use std::ops::Range;

use encoding_rs::Encoding;
use lol_html::html_content::{ContentType, Element, TextChunk};
use lol_html::{AsciiCompatibleEncoding, HtmlRewriter, Settings, element, text};

use crate::srcset::{list_items, splice, srcset_urls};

/// What a reference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// A link to a file (href, src, CSS url...).
    Link,
    /// A `codebase`: a folder other references of the element are relative to.
    Codebase,
}

/// One reference, as a [`Visitor`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct Ref<'a> {
    /// The URL as written, entities decoded.
    pub value: &'a str,
    /// The element (lower case).
    pub tag: &'a str,
    /// The attribute (`style` for inline CSS, `#text` for `<style>`).
    pub attr: &'a str,
    /// What kind of reference.
    pub kind: RefKind,
    /// The element's `codebase` (decoded), when the value is relative to it.
    pub codebase: Option<&'a str>,
}

/// An embedded player a [`Visitor`] may replace.
#[derive(Debug, Clone)]
pub struct Embed<'a> {
    /// `iframe`, `embed` or `object`.
    pub tag: &'a str,
    /// Its URL (`src`, or `data` for object), entities decoded.
    pub url: &'a str,
    /// `width`, `height` and `title` as written (still escaped), to carry over.
    pub width: Option<String>,
    /// See `width`.
    pub height: Option<String>,
    /// See `width`.
    pub title: Option<String>,
}

/// Sees the references of one document.
pub trait Visitor {
    /// A reference: return its new value to rewrite it.
    fn reference(&mut self, r: &Ref<'_>) -> Option<String>;
    /// `<base href>`: return true to remove the `href` (links are then relative to the
    /// page itself).
    fn base(&mut self, _href: &str) -> bool {
        false
    }
    /// A player: return HTML to replace the whole element with.
    fn embed(&mut self, _e: &Embed<'_>) -> Option<String> {
        None
    }
}

/// The HTML rewriter could not read the page (it is then copied unchanged and reported).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HtmlError(pub String);

/// How an attribute holds URLs.
#[derive(Clone, Copy)]
enum Holds {
    One,
    Srcset,
    /// Items separated by this character or whitespace.
    List(char),
    Css,
    Codebase,
}

/// The URL attributes of `tag` (besides those of every element).
fn attrs_of(tag: &str) -> &'static [(&'static str, Holds)] {
    match tag {
        "a" | "area" | "link" => &[("href", Holds::One)],
        "img" | "source" => &[("src", Holds::One), ("srcset", Holds::Srcset)],
        "script" | "iframe" | "frame" | "embed" | "audio" | "track" | "input" => {
            &[("src", Holds::One)]
        }
        "video" => &[("src", Holds::One), ("poster", Holds::One)],
        "body" | "table" | "td" | "th" => &[("background", Holds::One)],
        "object" => &[
            ("codebase", Holds::Codebase),
            ("data", Holds::One),
            ("archive", Holds::List(' ')),
        ],
        "applet" => &[
            ("codebase", Holds::Codebase),
            ("code", Holds::One),
            ("archive", Holds::List(',')),
        ],
        _ => &[],
    }
}

const EVERY_ELEMENT: &[(&str, Holds)] = &[
    ("style", Holds::Css),
    ("data-src", Holds::One),
    ("data-srcset", Holds::Srcset),
];

/// `param` names whose value is a URL (Flash and Java players).
const PARAM_URL_NAMES: &[&str] = &["movie", "src", "url", "filename", "code", "archive"];

fn decode(raw: &str) -> String {
    htmlize::unescape_attribute(raw).into_owned()
}

/// A value to write back into an attribute: `&` escaped (lol_html escapes `"` itself).
fn escape_attr(v: &str) -> String {
    v.replace('&', "&amp;")
}

struct State<'v> {
    visitor: &'v mut dyn Visitor,
    changed: bool,
    style: String,
    style_chunks: usize,
}

/// The span of the URL in a refresh `content` value (`5; url=page.html`).
pub fn refresh_url(content: &str) -> Option<Range<usize>> {
    let b = content.as_bytes();
    let mut i = content.find([';', ','])? + 1;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    if content.len() >= i + 3 && content[i..i + 3].eq_ignore_ascii_case("url") {
        let mut j = i + 3;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < b.len() && b[j] == b'=' {
            i = j + 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
        }
    }
    let (start, end) = match b.get(i) {
        Some(&q @ (b'"' | b'\'')) => {
            let end = content[i + 1..]
                .find(q as char)
                .map_or(b.len(), |e| i + 1 + e);
            (i + 1, end)
        }
        _ => (i, content.trim_end().len()),
    };
    (start < end).then_some(start..end)
}

fn on_element(el: &mut Element, st: &RefCell<State>) {
    let tag = el.tag_name();
    let mut st = st.borrow_mut();

    if matches!(tag.as_str(), "iframe" | "embed" | "object") {
        let attr = if tag == "object" { "data" } else { "src" };
        if let Some(raw) = el.get_attribute(attr) {
            let url = decode(&raw);
            let e = Embed {
                tag: &tag,
                url: &url,
                width: el.get_attribute("width"),
                height: el.get_attribute("height"),
                title: el.get_attribute("title"),
            };
            if let Some(html) = st.visitor.embed(&e) {
                el.replace(&html, ContentType::Html);
                st.changed = true;
                return;
            }
        }
    }
    if tag == "base" {
        if let Some(raw) = el.get_attribute("href")
            && st.visitor.base(&decode(&raw))
        {
            el.remove_attribute("href");
            st.changed = true;
        }
        return;
    }
    if tag == "meta" {
        let refresh = el
            .get_attribute("http-equiv")
            .is_some_and(|h| h.trim().eq_ignore_ascii_case("refresh"));
        if refresh && let Some(raw) = el.get_attribute("content") {
            let content = decode(&raw);
            if let Some(span) = refresh_url(&content) {
                let r = Ref {
                    value: &content[span.clone()],
                    tag: "meta",
                    attr: "content",
                    kind: RefKind::Link,
                    codebase: None,
                };
                if let Some(new) = st.visitor.reference(&r)
                    && let Some(out) = splice(&content, &[(span, new)])
                {
                    let _ = el.set_attribute("content", &escape_attr(&out));
                    st.changed = true;
                }
            }
        }
    }
    if tag == "param" {
        let is_url = el.get_attribute("name").is_some_and(|n| {
            let n = n.trim().to_ascii_lowercase();
            PARAM_URL_NAMES.contains(&n.as_str())
        });
        if is_url {
            visit_attr(el, &mut st, "param", "value", Holds::One, None);
        }
    }
    let codebase = if matches!(tag.as_str(), "object" | "applet") {
        el.get_attribute("codebase").map(|c| decode(&c))
    } else {
        None
    };
    for &(attr, holds) in attrs_of(&tag).iter().chain(EVERY_ELEMENT) {
        if tag == "applet" && attr == "code" {
            // `code` is a class name unless it names a .class file.
            let is_file = el
                .get_attribute("code")
                .is_some_and(|c| c.trim().to_ascii_lowercase().ends_with(".class"));
            if !is_file {
                continue;
            }
        }
        let cb = match (attr, holds) {
            ("codebase", _) | (_, Holds::Css) => None,
            ("data" | "code" | "archive", _) => codebase.as_deref(),
            _ => None,
        };
        visit_attr(el, &mut st, &tag, attr, holds, cb);
    }
}

fn visit_attr(
    el: &mut Element,
    st: &mut State,
    tag: &str,
    attr: &str,
    holds: Holds,
    codebase: Option<&str>,
) {
    let Some(raw) = el.get_attribute(attr) else {
        return;
    };
    let value = decode(&raw);
    let mut visit = |v: &str, kind: RefKind| {
        st.visitor.reference(&Ref {
            value: v,
            tag,
            attr,
            kind,
            codebase,
        })
    };
    let new = match holds {
        Holds::One => visit(&value, RefKind::Link),
        Holds::Codebase => visit(&value, RefKind::Codebase),
        Holds::Srcset | Holds::List(_) => {
            let spans = match holds {
                Holds::List(sep) => list_items(&value, sep),
                _ => srcset_urls(&value),
            };
            let edits: Vec<(Range<usize>, String)> = spans
                .into_iter()
                .filter_map(|r| visit(&value[r.clone()], RefKind::Link).map(|n| (r, n)))
                .collect();
            splice(&value, &edits)
        }
        Holds::Css => crate::css::rewrite_css(&value, |r| visit(&r.value, RefKind::Link)),
    };
    if let Some(new) = new
        && new != value
    {
        let _ = el.set_attribute(attr, &escape_attr(&new));
        st.changed = true;
    }
}

fn on_style_text(t: &mut TextChunk, st: &RefCell<State>) {
    let mut st = st.borrow_mut();
    st.style.push_str(t.as_str());
    st.style_chunks += 1;
    if !t.last_in_text_node() {
        // The whole sheet is needed to find its URLs: hold the chunks back and write the
        // sheet out with the last one.
        t.remove();
        return;
    }
    let css = std::mem::take(&mut st.style);
    let chunks = std::mem::replace(&mut st.style_chunks, 0);
    let visitor = &mut st.visitor;
    let new = crate::css::rewrite_css(&css, |r| {
        visitor.reference(&Ref {
            value: &r.value,
            tag: "style",
            attr: "#text",
            kind: RefKind::Link,
            codebase: None,
        })
    });
    match new {
        Some(new) => {
            t.replace(&new, ContentType::Html);
            st.changed = true;
        }
        None if chunks > 1 => t.replace(&css, ContentType::Html),
        None => {}
    }
}

/// Runs `visitor` over the page `input` in `encoding`. Returns the rewritten page, or
/// `None` when the visitor changed nothing (the input is then to be kept byte for byte).
pub fn process_html(
    input: &[u8],
    encoding: &'static Encoding,
    visitor: &mut dyn Visitor,
) -> Result<Option<Vec<u8>>, HtmlError> {
    let enc = AsciiCompatibleEncoding::new(encoding).ok_or_else(|| {
        HtmlError(format!(
            "character set {} is not supported by the HTML rewriter",
            encoding.name()
        ))
    })?;
    let state = RefCell::new(State {
        visitor,
        changed: false,
        style: String::new(),
        style_chunks: 0,
    });
    let mut out = Vec::with_capacity(input.len() + input.len() / 8);
    {
        let settings = Settings::new()
            .with_encoding(enc)
            // Strict mode gives up on some odd but real markup; we only touch attributes.
            .with_strict(false)
            .append_element_content_handler(element!("*", |el| {
                on_element(el, &state);
                Ok(())
            }))
            .append_element_content_handler(text!("style", |t| {
                on_style_text(t, &state);
                Ok(())
            }));
        let mut rw = HtmlRewriter::new(settings, |c: &[u8]| out.extend_from_slice(c));
        rw.write(input).map_err(|e| HtmlError(e.to_string()))?;
        rw.end().map_err(|e| HtmlError(e.to_string()))?;
    }
    Ok(state.into_inner().changed.then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects every reference and rewrites those starting with `http://s/` to `L:`.
    struct T {
        seen: Vec<(String, String, String)>,
    }

    impl Visitor for T {
        fn reference(&mut self, r: &Ref<'_>) -> Option<String> {
            self.seen
                .push((r.tag.to_owned(), r.attr.to_owned(), r.value.to_owned()));
            r.value
                .strip_prefix("http://s/")
                .map(|rest| format!("L:{rest}"))
        }
        fn embed(&mut self, e: &Embed<'_>) -> Option<String> {
            e.url.contains("youtube").then(|| {
                format!(
                    "<video src=\"v.mp4\" width=\"{}\"></video>",
                    e.width.clone().unwrap_or_default()
                )
            })
        }
    }

    fn run(html: &str) -> (String, Vec<(String, String, String)>) {
        let mut t = T { seen: Vec::new() };
        let out = process_html(html.as_bytes(), encoding_rs::UTF_8, &mut t).unwrap();
        (
            out.map_or_else(|| html.to_owned(), |o| String::from_utf8(o).unwrap()),
            t.seen,
        )
    }

    #[test]
    fn every_kind_of_reference() {
        let html = r#"<html><head><link rel=stylesheet href="http://s/a.css">
<style>@import "http://s/b.css"; p{background:url(http://s/c.png)}</style>
<meta http-equiv="Refresh" content="0; URL='http://s/new.html'"></head>
<body background="http://s/bg.gif"><a href="http://s/x?a=1&amp;b=2">x</a>
<img src="i.png" srcset="http://s/1.png 1x, http://s/2.png 2x" data-src="http://s/lazy.png">
<video poster="http://s/p.jpg"><track src="http://s/t.vtt"></video>
<p style="background: url('http://s/d.png')">t</p>
<applet code="Sim.class" codebase="http://s/app/" archive="a.jar,b.jar"></applet>
<object data="http://s/f.swf"><param name="movie" value="http://s/f.swf"></object>
<iframe src="https://www.youtube.com/embed/abc" width="560"></iframe>
</body></html>"#;
        let (out, seen) = run(html);
        let values: Vec<&str> = seen.iter().map(|s| s.2.as_str()).collect();
        for v in [
            "http://s/a.css",
            "http://s/b.css",
            "http://s/c.png",
            "http://s/new.html",
            "http://s/bg.gif",
            "http://s/x?a=1&b=2",
            "i.png",
            "http://s/1.png",
            "http://s/2.png",
            "http://s/lazy.png",
            "http://s/p.jpg",
            "http://s/t.vtt",
            "http://s/d.png",
            "Sim.class",
            "http://s/app/",
            "a.jar",
            "b.jar",
            "http://s/f.swf",
        ] {
            assert!(values.contains(&v), "{v} not seen in {values:?}");
        }
        assert!(out.contains(r#"href="L:a.css""#), "{out}");
        assert!(
            out.contains(r#"@import "L:b.css"; p{background:url(L:c.png)}"#),
            "{out}"
        );
        assert!(out.contains(r#"content="0; URL='L:new.html'""#), "{out}");
        assert!(out.contains(r#"href="L:x?a=1&amp;b=2""#), "{out}");
        assert!(out.contains(r#"srcset="L:1.png 1x, L:2.png 2x""#), "{out}");
        assert!(
            out.contains(r#"style="background: url('L:d.png')""#),
            "{out}"
        );
        assert!(
            out.contains(r#"<video src="v.mp4" width="560"></video>"#),
            "{out}"
        );
        assert!(!out.contains("youtube"), "{out}");
    }

    #[test]
    fn untouched_pages_are_not_rewritten() {
        let mut t = T { seen: Vec::new() };
        let html = "<a HREF='rel.html' class=x>r</a>";
        assert_eq!(
            process_html(html.as_bytes(), encoding_rs::UTF_8, &mut t).unwrap(),
            None
        );
    }

    #[test]
    fn other_attributes_keep_their_bytes() {
        let (out, _) = run("<a class='q'  HREF=http://s/a title=\"t&amp;u\">x</a>");
        assert!(out.contains("class='q'"), "{out}");
        assert!(out.contains("title=\"t&amp;u\""), "{out}");
        assert!(
            out.contains("href=\"L:a\"") || out.contains("HREF=\"L:a\""),
            "{out}"
        );
    }

    #[test]
    fn windows_1252_pages_stay_windows_1252() {
        let mut t = T { seen: Vec::new() };
        let html = b"<meta charset=windows-1252><p>caf\xe9</p><a href=\"http://s/r\xe9.html\">";
        let out = process_html(html, encoding_rs::WINDOWS_1252, &mut t)
            .unwrap()
            .unwrap();
        assert!(out.windows(4).any(|w| w == b"caf\xe9"));
        assert_eq!(t.seen[0].2, "http://s/ré.html");
        assert!(out.windows(9).any(|w| w == b"L:r\xe9.html"), "{out:?}");
    }

    #[test]
    fn refresh_urls() {
        let c = "5; url=a.html";
        assert_eq!(&c[refresh_url(c).unwrap()], "a.html");
        let c = "0;URL=\"b c.html\"";
        assert_eq!(&c[refresh_url(c).unwrap()], "b c.html");
        assert_eq!(refresh_url("5"), None);
        let c = "3, x.html";
        assert_eq!(&c[refresh_url(c).unwrap()], "x.html");
    }
}
