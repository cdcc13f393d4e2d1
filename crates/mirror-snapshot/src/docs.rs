//! One document (page or stylesheet) through the link engine: its character set, the
//! recipe's text rules (`[[rewrite]] scope = "text"`, `[[edit]]`), then a [`Visitor`] over
//! its references. Two visitors live here: [`Collector`], which only records where each
//! reference leads (localize, prune, verify), and [`Rewriter`], which points references at
//! the local copies (rewrite).

use std::borrow::Cow;

use encoding_rs::Encoding;
use url::Url;

use crate::html::{Embed, HtmlError, Ref, RefKind, Visitor, process_html};
use crate::paths::{FileKind, TreeIndex, file_kind, relative_dir_link, relative_link, root_link};
use crate::recipe::{EditRule, EmbedRule, Recipe, Replace, Scope};
use crate::urlmap::{Form, Origin, Resolved, Target, UrlMap};

/// The text rules applied to documents before their references are read.
#[derive(Debug, Clone, Default)]
pub struct TextRules {
    /// `[[rewrite]]` rules with `scope = "text"`.
    pub text: Vec<Replace>,
    /// `[[edit]]` rules.
    pub edits: Vec<EditRule>,
}

impl TextRules {
    /// The text rules of `recipe`.
    pub fn of(recipe: &Recipe) -> TextRules {
        TextRules {
            text: recipe
                .rewrite
                .iter()
                .filter(|r| r.scope == Scope::Text)
                .map(|r| r.replace.clone())
                .collect(),
            edits: recipe.edit.clone(),
        }
    }

    fn is_empty(&self) -> bool {
        self.text.is_empty() && self.edits.is_empty()
    }
}

/// A document ready for a visitor.
#[derive(Debug)]
pub struct Prepared<'a> {
    /// Its bytes after the text rules.
    pub bytes: Cow<'a, [u8]>,
    /// Its character set.
    pub encoding: &'static Encoding,
    /// Page or stylesheet.
    pub kind: FileKind,
}

/// Decides the document's character set and applies the text rules. The bytes are decoded
/// and encoded again only when a rule matches, so documents no rule touches keep every byte.
pub fn prepare<'a>(path: &str, bytes: &'a [u8], rules: &TextRules) -> Prepared<'a> {
    let kind = file_kind(path);
    let encoding = match kind {
        FileKind::Css => crate::charset::css_encoding(bytes),
        _ => crate::charset::html_encoding(bytes),
    };
    let mut out = Prepared {
        bytes: Cow::Borrowed(bytes),
        encoding,
        kind,
    };
    if rules.is_empty() || !encoding.is_ascii_compatible() {
        return out;
    }
    let bom = Encoding::for_bom(bytes).map_or(0, |(_, n)| n);
    let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
    let mut text = text.into_owned();
    let mut changed = false;
    for r in &rules.text {
        if let Some(t) = r.apply(&text) {
            text = t;
            changed = true;
        }
    }
    for e in &rules.edits {
        if e.pages.is_match(path)
            && let Some(t) = e.replace.apply(&text)
        {
            text = t;
            changed = true;
        }
    }
    if changed {
        let (enc, _, _) = encoding.encode(&text);
        let mut v = bytes[..bom].to_vec();
        v.extend_from_slice(&enc);
        out.bytes = Cow::Owned(v);
    }
    out
}

/// Runs `visitor` over a prepared document. `Ok(None)`: the visitor changed nothing.
pub fn visit(doc: &Prepared, visitor: &mut dyn Visitor) -> Result<Option<Vec<u8>>, HtmlError> {
    match doc.kind {
        FileKind::Css => {
            if !doc.encoding.is_ascii_compatible() {
                return Err(HtmlError(format!(
                    "character set {} is not supported",
                    doc.encoding.name()
                )));
            }
            let bom = Encoding::for_bom(&doc.bytes).map_or(0, |(_, n)| n);
            let (text, _) = doc.encoding.decode_without_bom_handling(&doc.bytes[bom..]);
            let new = crate::css::rewrite_css(&text, |r| {
                visitor.reference(&Ref {
                    value: &r.value,
                    tag: "css",
                    attr: if r.import { "@import" } else { "url" },
                    kind: RefKind::Link,
                    codebase: None,
                })
            });
            Ok(new.map(|t| {
                let (enc, _, _) = doc.encoding.encode(&t);
                let mut v = doc.bytes[..bom].to_vec();
                v.extend_from_slice(&enc);
                v
            }))
        }
        _ => process_html(&doc.bytes, doc.encoding, visitor),
    }
}

/// A reference found by a [`Collector`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// As written (entities decoded).
    pub value: String,
    /// Where it leads.
    pub resolved: Resolved,
}

/// Records where each reference of one document leads.
pub struct Collector<'a> {
    map: &'a UrlMap,
    tree: &'a TreeIndex,
    page: &'a str,
    base: Url,
    embeds: &'a [EmbedRule],
    /// What was found, in document order.
    pub found: Vec<Found>,
    /// Local files the `[[embed]]` rules would put in place of this page's players.
    pub embed_files: Vec<String>,
}

impl<'a> Collector<'a> {
    /// A collector for the document at tree path `page`; `embeds` are the rules whose
    /// local files the page is to be credited with.
    pub fn new(
        map: &'a UrlMap,
        tree: &'a TreeIndex,
        page: &'a str,
        embeds: &'a [EmbedRule],
    ) -> Self {
        Collector {
            map,
            tree,
            page,
            base: map.page_url(page),
            embeds,
            found: Vec::new(),
            embed_files: Vec::new(),
        }
    }
}

/// The local file the first matching `[[embed]]` rule gives for player `url` (resolved
/// against `base`), with the resolved URL.
fn embed_target(rules: &[EmbedRule], base: &Url, url: &str) -> Option<(String, String)> {
    let url = base
        .join(url.trim())
        .map_or_else(|_| url.to_owned(), |u| u.to_string());
    rules.iter().find_map(|rule| {
        let caps = rule.pattern.captures(&url)?;
        let mut local = String::new();
        caps.expand(&rule.local, &mut local);
        Some((local.trim_start_matches('/').to_owned(), url.clone()))
    })
}

impl Visitor for Collector<'_> {
    fn reference(&mut self, r: &Ref<'_>) -> Option<String> {
        if r.kind == RefKind::Link {
            let resolved = self
                .map
                .resolve(r.value, self.page, &self.base, r.codebase, self.tree);
            self.found.push(Found {
                value: r.value.to_owned(),
                resolved,
            });
        }
        None
    }

    fn base(&mut self, href: &str) -> bool {
        if let Ok(u) = self.base.join(&self.map.apply_url_rules(href.trim()))
            && !u.cannot_be_a_base()
        {
            self.base = u;
        }
        false
    }

    fn embed(&mut self, e: &Embed<'_>) -> Option<String> {
        if let Some((local, _)) = embed_target(self.embeds, &self.base, e.url) {
            self.embed_files.push(local);
        }
        None
    }
}

/// An embedded player left in place because its local file is missing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmbedKept {
    /// The page.
    pub page: String,
    /// The player's URL.
    pub url: String,
    /// The local file that would have replaced it.
    pub local: String,
}

/// What a [`Rewriter`] did to one document.
#[derive(Debug, Clone, Default)]
pub struct RewriteStats {
    /// References given a new value.
    pub rewritten: usize,
    /// Players replaced by a local `<video>`.
    pub embeds_replaced: usize,
    /// Players kept (no local file).
    pub embeds_kept: Vec<EmbedKept>,
    /// References to localized URLs whose file is missing (left pointing at the URL).
    pub not_localized: Vec<String>,
}

/// Points the references of one document at the local copies.
pub struct Rewriter<'a> {
    map: &'a UrlMap,
    tree: &'a TreeIndex,
    page: &'a str,
    base: Url,
    relative: bool,
    embeds: &'a [EmbedRule],
    /// A `<base href>` was removed: every relative reference must be rewritten (to a local
    /// link or an absolute URL), since it was relative to the base and is now read relative
    /// to the page.
    base_removed: bool,
    /// What was done.
    pub stats: RewriteStats,
}

impl<'a> Rewriter<'a> {
    /// A rewriter for the document at tree path `page`.
    pub fn new(
        map: &'a UrlMap,
        tree: &'a TreeIndex,
        page: &'a str,
        relative: bool,
        embeds: &'a [EmbedRule],
    ) -> Self {
        Rewriter {
            map,
            tree,
            page,
            base: map.page_url(page),
            relative,
            embeds,
            base_removed: false,
            stats: RewriteStats::default(),
        }
    }

    fn link(&self, path: &str) -> String {
        if self.relative {
            relative_link(self.page, path)
        } else {
            root_link(path)
        }
    }

    fn folder_link(&self, dir: &str) -> String {
        if self.relative {
            relative_dir_link(self.page, dir)
        } else if dir.is_empty() {
            "/".into()
        } else {
            format!("{}/", root_link(dir))
        }
    }

    fn resolve(&self, value: &str, codebase: Option<&str>) -> Resolved {
        self.map
            .resolve(value, self.page, &self.base, codebase, self.tree)
    }

    /// With the `<base>` removed, a reference that stays must become absolute to keep
    /// leading where it did.
    fn absolute_if_based(&mut self, value: &str) -> Option<String> {
        if !self.base_removed || value.is_empty() || value.starts_with('#') {
            return None;
        }
        let res = self.resolve(value, None);
        match res.target {
            Target::External { url } if res.form != Form::Absolute => {
                self.stats.rewritten += 1;
                Some(url)
            }
            _ => None,
        }
    }

    /// The local folder a `codebase` leads to, when it leads into the snapshot (the
    /// codebase attribute itself is then rewritten to point there).
    fn codebase_dir(&self, cb: &str) -> Option<String> {
        let v = if cb.ends_with('/') {
            cb.to_owned()
        } else {
            format!("{cb}/")
        };
        match self.resolve(&v, None).target {
            Target::Local {
                path,
                origin: Origin::Site | Origin::Localize,
                ..
            } => Some(path.rsplit_once('/').map_or("", |(d, _)| d).to_owned()),
            _ => None,
        }
    }

    /// A reference relative to the element's `codebase` (`archive`, `code`, `data`). When
    /// the codebase moves into the snapshot, the reference is rewritten so that, read
    /// against the new codebase, it leads where it led before: relative to the codebase's
    /// folder when local, absolute when not. With a codebase outside the snapshot the
    /// reference is left alone (nothing local can be written relative to it).
    fn codebase_item(&mut self, value: &str, cb: &str) -> Option<String> {
        let cb_dir = self.codebase_dir(cb)?;
        let res = self.resolve(value, Some(cb));
        let new = match res.target {
            Target::Local {
                path,
                suffix,
                url,
                origin,
                ..
            } => {
                if matches!(origin, Origin::Localize | Origin::Media)
                    && !self.tree.is_file(&path)
                    && res.form != Form::Relative
                {
                    // Not fetched: keeps pointing at the live URL.
                    with_fragment(&url, &suffix)
                } else {
                    let from = if cb_dir.is_empty() {
                        "x".to_owned()
                    } else {
                        format!("{cb_dir}/x")
                    };
                    format!("{}{suffix}", relative_link(&from, &path))
                }
            }
            Target::External { url } => url,
            Target::Ignore | Target::Invalid | Target::Escapes => return None,
        };
        if new == value {
            return None;
        }
        self.stats.rewritten += 1;
        Some(new)
    }
}

/// An absolute URL (which carries its query) with the fragment of a link `suffix`.
fn with_fragment(url: &str, suffix: &str) -> String {
    match suffix.find('#') {
        Some(i) => format!("{url}{}", &suffix[i..]),
        None => url.to_owned(),
    }
}

/// Escapes `"` in an attribute value taken raw from another element.
fn requote(raw: &str) -> String {
    raw.replace('"', "&quot;")
}

impl Visitor for Rewriter<'_> {
    fn reference(&mut self, r: &Ref<'_>) -> Option<String> {
        let value = r.value.trim();
        if r.kind == RefKind::Codebase {
            if value.is_empty() {
                return None;
            }
            let Some(dir) = self.codebase_dir(value) else {
                return self.absolute_if_based(value);
            };
            let new = self.folder_link(&dir);
            if new == value {
                return None;
            }
            self.stats.rewritten += 1;
            return Some(new);
        }
        if let Some(cb) = r.codebase.map(str::trim).filter(|c| !c.is_empty()) {
            return self.codebase_item(value, cb);
        }
        let res = self.resolve(value, None);
        match res.target {
            Target::Local {
                path,
                suffix,
                origin,
                dir,
                url,
            } => {
                if matches!(origin, Origin::Localize | Origin::Media) && !self.tree.is_file(&path) {
                    // Not fetched: the reference keeps pointing at the live URL.
                    self.stats.not_localized.push(url.clone());
                    if self.base_removed && res.form != Form::Absolute {
                        return Some(with_fragment(&url, &suffix));
                    }
                    return res.rewritten;
                }
                let new = format!("{}{suffix}", self.link(&path));
                if new == value {
                    return None;
                }
                if res.form == Form::Relative
                    && self.relative
                    && !dir
                    && !self.base_removed
                    && res.rewritten.is_none()
                {
                    // Already a relative link to this file, written another way: keep it.
                    return None;
                }
                self.stats.rewritten += 1;
                Some(new)
            }
            Target::External { url } if self.base_removed && res.form != Form::Absolute => {
                self.stats.rewritten += 1;
                Some(url)
            }
            Target::External { .. } | Target::Ignore | Target::Invalid | Target::Escapes => {
                if res.rewritten.is_some() {
                    self.stats.rewritten += 1;
                }
                res.rewritten
            }
        }
    }

    /// Every `<base href>` goes: local links are written relative to the page, so a base
    /// (local or not) would send them elsewhere. References are still read against it.
    fn base(&mut self, href: &str) -> bool {
        // A base that is not a place (`javascript:`...) resolves nothing; it goes too.
        if let Ok(u) = self.base.join(&self.map.apply_url_rules(href.trim()))
            && !u.cannot_be_a_base()
        {
            self.base = u;
        }
        self.base_removed = true;
        true
    }

    fn embed(&mut self, e: &Embed<'_>) -> Option<String> {
        let (local, url) = embed_target(self.embeds, &self.base, e.url)?;
        if !self.tree.is_file(&local) {
            self.stats.embeds_kept.push(EmbedKept {
                page: self.page.to_owned(),
                url,
                local,
            });
            return None;
        }
        self.stats.embeds_replaced += 1;
        let mut html = format!(
            "<video controls preload=\"metadata\" src=\"{}\"",
            self.link(&local).replace('&', "&amp;")
        );
        for (name, v) in [
            ("width", &e.width),
            ("height", &e.height),
            ("title", &e.title),
        ] {
            if let Some(v) = v {
                html.push_str(&format!(" {name}=\"{}\"", requote(v)));
            }
        }
        html.push_str("></video>");
        Some(html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn recipe() -> Recipe {
        Recipe::parse(
            r#"
work_dir = "w"
site = "http://ocw.example.edu/"
[[localize]]
prefix = "http://media.example.org/download/"
to = "OcwExport/media/"
[[embed]]
match = 'youtube\.com/embed/([A-Za-z0-9_-]+)'
local = "OcwExport/youtube/$1.mp4"
[[edit]]
pages = '^index\.html$'
from = "https://giving.example.edu/"
to = "donate.html"
"#,
            Path::new("/nonexistent/r.toml"),
        )
        .unwrap()
    }

    fn tree() -> TreeIndex {
        let mut t = TreeIndex::default();
        for f in [
            "index.html",
            "donate.html",
            "c/index.html",
            "c/l1.html",
            "OcwExport/media/a.png",
            "OcwExport/youtube/abc.mp4",
        ] {
            t.add_file(f);
        }
        t
    }

    fn rewrite(page: &str, html: &str) -> (String, RewriteStats) {
        let r = recipe();
        let map = UrlMap::new(&r, &[]);
        let t = tree();
        let rules = TextRules::of(&r);
        let doc = prepare(page, html.as_bytes(), &rules);
        let mut v = Rewriter::new(&map, &t, page, true, &r.embed);
        let out = visit(&doc, &mut v).unwrap();
        let out = out.unwrap_or_else(|| doc.bytes.to_vec());
        (String::from_utf8(out).unwrap(), v.stats)
    }

    #[test]
    fn rewrites_to_relative_local_links() {
        let (out, stats) = rewrite(
            "c/l1.html",
            r#"<a href="http://ocw.example.edu/">h</a><a href="/c/">c</a><a href="l1.html#x">s</a>
<img src="http://media.example.org/download/a.png"><img src="http://media.example.org/download/gone.png">
<iframe src="https://www.youtube.com/embed/abc" width="640"></iframe>
<iframe src="https://www.youtube.com/embed/zzz"></iframe>"#,
        );
        assert!(out.contains(r#"href="../index.html""#), "{out}");
        assert!(out.contains(r#"href="index.html""#), "{out}");
        assert!(out.contains(r#"href="l1.html#x""#), "{out}");
        assert!(out.contains(r#"src="../OcwExport/media/a.png""#), "{out}");
        assert!(
            out.contains("http://media.example.org/download/gone.png"),
            "{out}"
        );
        assert!(
            out.contains(r#"<video controls preload="metadata" src="../OcwExport/youtube/abc.mp4" width="640"></video>"#),
            "{out}"
        );
        assert_eq!(stats.embeds_replaced, 1);
        assert_eq!(stats.embeds_kept.len(), 1);
        assert_eq!(stats.not_localized.len(), 1);
        let (again, stats2) = rewrite("c/l1.html", &out);
        assert_eq!(again, out);
        assert_eq!(stats2.rewritten, 0);
    }

    #[test]
    fn edits_apply_to_their_pages_only() {
        let html = r#"<a href="https://giving.example.edu/">give</a>"#;
        let (out, _) = rewrite("index.html", html);
        assert!(out.contains(r#"href="donate.html""#), "{out}");
        let (out, _) = rewrite("c/l1.html", html);
        assert!(out.contains("giving.example.edu"), "{out}");
    }

    #[test]
    fn base_hrefs_are_removed() {
        let (out, _) = rewrite(
            "c/l1.html",
            r#"<head><base href="http://ocw.example.edu/"></head><a href="c/index.html">x</a>"#,
        );
        assert!(!out.contains("<base href"), "{out}");
        assert!(out.contains(r#"href="index.html""#), "{out}");
    }

    #[test]
    fn stylesheets() {
        let (out, _) = rewrite(
            "c/s.css",
            "@import url(\"http://ocw.example.edu/c/x.css\");\nb{background:url(/OcwExport/media/a.png)}",
        );
        assert_eq!(
            out,
            "@import url(\"x.css\");\nb{background:url(../OcwExport/media/a.png)}"
        );
    }
}
