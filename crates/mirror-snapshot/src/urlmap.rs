//! URLs and snapshot paths: which URL each file of the snapshot stands for
//! ([`UrlMap::page_url`]), and where a reference found in a page leads ([`UrlMap::resolve`]):
//! nowhere (a fragment, `mailto:`...), to a file of the snapshot (the site's own origins,
//! relative links, `[[localize]]` prefixes, `[[media]]` entries) or outside it.
//!
//! The mapping is one rule applied everywhere, so every stage agrees: a file under a
//! `[[localize]] to` folder stands for `prefix` + the rest of its path; a `[[media]]` file
//! for its listed URL; every other file for the first `site` origin + its path. A
//! reference resolves against its page's URL, so relative links inside localized
//! stylesheets keep working.

use std::collections::HashMap;

use url::Url;

use crate::paths::{TreeIndex, bad_segment, decode_segment, encode_segment};
use crate::recipe::{Recipe, Replace, Scope};

/// How a reference was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `a/b.html`, `../x`: relative to the page.
    Relative,
    /// `/a/b.html`: relative to the host's root.
    RootRelative,
    /// `http://...` or `//host/...`.
    Absolute,
}

/// Why a reference lands inside the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Under one of the site's origins.
    Site,
    /// Under a `[[localize]]` prefix.
    Localize,
    /// Listed in a `[[media]]` file.
    Media,
}

/// Where a reference leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Nothing to follow: empty, a fragment of the same page, `mailto:`, `javascript:`,
    /// `data:`...
    Ignore,
    /// A file of the snapshot (which may be missing).
    Local {
        /// Its tree path.
        path: String,
        /// Query and fragment to keep on the link (`?a=1#top`, or `""`).
        suffix: String,
        /// Why it is local.
        origin: Origin,
        /// The absolute URL it stands for (without fragment).
        url: String,
        /// The reference named a folder; `path` is that folder's index page.
        dir: bool,
    },
    /// Outside the snapshot.
    External {
        /// The absolute URL.
        url: String,
    },
    /// A relative link climbing above the snapshot's root.
    Escapes,
    /// Not a URL.
    Invalid,
}

/// A reference, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Where it leads.
    pub target: Target,
    /// How it was written (after `[[rewrite]]` URL rules).
    pub form: Form,
    /// The reference after `[[rewrite]]` URL rules, when one changed it.
    pub rewritten: Option<String>,
}

/// The URL ⇄ path rules of one snapshot.
#[derive(Debug, Clone)]
pub struct UrlMap {
    /// Origin prefixes (`http://host/` or `http://host/sub/`), the primary first.
    origins: Vec<String>,
    primary: Url,
    /// `(prefix, to)`, longest prefix first.
    localize: Vec<(String, String)>,
    /// Media URL (no fragment) → tree path, and back.
    exact: HashMap<String, String>,
    exact_rev: HashMap<String, String>,
    index: Vec<String>,
    url_rules: Vec<Replace>,
}

/// HTML's space characters, trimmed around attribute URLs.
fn trim_html(s: &str) -> &str {
    s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c'))
}

/// The scheme of `v`, if it starts with one (`mailto:`, `http:`...).
fn scheme_of(v: &str) -> Option<&str> {
    let end = v.find(':')?;
    let s = &v[..end];
    let mut chars = s.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(s)
}

/// How `v` is written.
fn form_of(v: &str) -> Form {
    if scheme_of(v).is_some() || v.starts_with("//") || v.starts_with("\\\\") {
        Form::Absolute
    } else if v.starts_with('/') || v.starts_with('\\') {
        Form::RootRelative
    } else {
        Form::Relative
    }
}

/// A query string as part of a file name (`a.php?x=1` is stored as `a.php@x=1`): no `/`,
/// no control characters, and long ones shortened with a hash so names stay valid.
fn query_name(q: &str) -> String {
    let clean: String = q
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if clean.len() <= 100 {
        return clean;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in q.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut cut = 64;
    while !clean.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{h:016x}", &clean[..cut])
}

impl UrlMap {
    /// The rules of `recipe`, with the `[[media]]` entries read so far.
    pub fn new(recipe: &Recipe, media: &[(String, String)]) -> UrlMap {
        let primary = recipe.primary_origin();
        let mut origins: Vec<String> = recipe.site.iter().map(Url::to_string).collect();
        if origins.is_empty() {
            origins.push(primary.to_string());
        }
        let mut localize: Vec<(String, String)> = recipe
            .localize
            .iter()
            .map(|l| (l.prefix.clone(), l.to.clone()))
            .collect();
        localize.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let mut map = UrlMap {
            origins,
            primary,
            localize,
            exact: HashMap::new(),
            exact_rev: HashMap::new(),
            index: recipe.links.index.clone(),
            url_rules: recipe
                .rewrite
                .iter()
                .filter(|r| r.scope == Scope::Urls)
                .map(|r| r.replace.clone())
                .collect(),
        };
        for (url, path) in media {
            map.add_media(url, path);
        }
        map
    }

    /// Rules for any tree (`mirror snapshot verify DIR`): the virtual origin only.
    pub fn standalone() -> UrlMap {
        let primary = Url::parse(crate::recipe::VIRTUAL_ORIGIN).expect("valid URL");
        UrlMap {
            origins: vec![primary.to_string()],
            primary,
            localize: Vec::new(),
            exact: HashMap::new(),
            exact_rev: HashMap::new(),
            index: vec!["index.html".into(), "index.htm".into()],
            url_rules: Vec::new(),
        }
    }

    /// Adds a `[[media]]` entry: `url` is stored at tree path `path`.
    pub fn add_media(&mut self, url: &str, path: &str) {
        let key = match Url::parse(url) {
            Ok(mut u) => {
                u.set_fragment(None);
                u.to_string()
            }
            Err(_) => url.to_owned(),
        };
        self.exact_rev.insert(path.to_owned(), key.clone());
        self.exact.insert(key, path.to_owned());
    }

    /// The localize prefix whose folder holds `path`, if any.
    fn localized_folder(&self, path: &str) -> Option<(&str, &str)> {
        self.localize
            .iter()
            .filter(|(_, to)| !to.is_empty() && path.starts_with(to.as_str()))
            .max_by_key(|(_, to)| to.len())
            .map(|(p, to)| (p.as_str(), to.as_str()))
    }

    /// True if `path` is in a `[[localize]]` folder or is a `[[media]]` file: its relative
    /// links follow the external host's layout, not the site's.
    pub fn is_external_copy(&self, path: &str) -> bool {
        self.exact_rev.contains_key(path) || self.localized_folder(path).is_some()
    }

    /// The URL the file at tree `path` stands for.
    pub fn page_url(&self, path: &str) -> Url {
        if let Some(u) = self.exact_rev.get(path).and_then(|u| Url::parse(u).ok()) {
            return u;
        }
        let encode = |p: &str| {
            p.split('/')
                .map(encode_segment)
                .collect::<Vec<_>>()
                .join("/")
        };
        if let Some((prefix, to)) = self.localized_folder(path)
            && let Ok(u) = Url::parse(&format!("{prefix}{}", encode(&path[to.len()..])))
        {
            return u;
        }
        self.primary
            .join(&encode(path))
            .unwrap_or_else(|_| self.primary.clone())
    }

    /// For a relative reference `v` read against `base` inside a localized folder (or a
    /// `[[media]]` file): when `v` leaves that folder, the base to read it against instead,
    /// `base`'s place in the snapshot's own layout. Such links are the ones rewrite wrote to
    /// the site's files; the external host's layout and the snapshot's agree only inside
    /// the folder.
    fn tree_space_base(&self, base: &Url, v: &str) -> Option<Url> {
        let mut b = base.clone();
        b.set_fragment(None);
        b.set_query(None);
        let s = b.as_str();
        if let Some(path) = self.exact.get(s) {
            return Some(self.site_url(path));
        }
        let (prefix, to) = self
            .localize
            .iter()
            .find(|(p, _)| s.starts_with(p.as_str()))?;
        if b.join(v)
            .is_ok_and(|u| u.as_str().starts_with(prefix.as_str()))
        {
            return None;
        }
        let rest = &s[prefix.len()..];
        let mut location = format!("{to}{}", Self::tree_path(rest.trim_end_matches('/'))?);
        if rest.ends_with('/') {
            location.push('/');
        }
        Some(self.site_url(&location))
    }

    /// The URL of tree `path` under the primary origin (its place in the snapshot's own
    /// layout, whatever it stands for).
    fn site_url(&self, path: &str) -> Url {
        // A trailing `/` (a folder) gives an empty last segment, kept as such.
        let p = path
            .split('/')
            .map(encode_segment)
            .collect::<Vec<_>>()
            .join("/");
        self.primary
            .join(&p)
            .unwrap_or_else(|_| self.primary.clone())
    }

    /// The index page standing for folder `dir` (`""` or `a/b/`).
    fn index_of(&self, dir: &str, tree: &TreeIndex) -> String {
        let name = self
            .index
            .iter()
            .find(|n| tree.is_file(&format!("{dir}{n}")))
            .unwrap_or(&self.index[0]);
        format!("{dir}{name}")
    }

    /// Turns the path part of a URL (after a prefix) into a tree path; `None` when a
    /// segment cannot be a file name.
    fn tree_path(rest: &str) -> Option<String> {
        if rest.is_empty() {
            return Some(String::new());
        }
        let mut out = Vec::new();
        for seg in rest.split('/') {
            let d = decode_segment(seg);
            if bad_segment(&d) {
                return None;
            }
            out.push(d);
        }
        Some(out.join("/"))
    }

    /// `v` after the `[[rewrite]]` URL rules.
    pub fn apply_url_rules(&self, v: &str) -> String {
        let mut v = v.to_owned();
        for rule in &self.url_rules {
            if let Some(n) = rule.apply(&v) {
                v = n;
            }
        }
        v
    }

    /// Resolves reference `value` (entities already decoded) found in the file at tree path
    /// `page`, whose base URL is `base` (its [`UrlMap::page_url`], or its `<base href>`);
    /// `codebase` is an applet/object `codebase` the value is relative to.
    pub fn resolve(
        &self,
        value: &str,
        page: &str,
        base: &Url,
        codebase: Option<&str>,
        tree: &TreeIndex,
    ) -> Resolved {
        let v = self.apply_url_rules(trim_html(value));
        let rewritten = (v != trim_html(value)).then(|| v.clone());
        let scheme = scheme_of(&v).map(str::to_ascii_lowercase);
        let form = form_of(&v);
        let done = |target| Resolved {
            target,
            form,
            rewritten: rewritten.clone(),
        };
        if v.is_empty() || v.starts_with('#') {
            return done(Target::Ignore);
        }
        if let Some(s) = &scheme
            && !matches!(s.as_str(), "http" | "https" | "ftp" | "file")
        {
            return done(Target::Ignore);
        }
        let page_base = *base == self.page_url(page);
        let mut base = match codebase.map(trim_html).filter(|c| !c.is_empty()) {
            Some(cb) => {
                let cb = self.apply_url_rules(cb);
                let cb_base = match form_of(&cb) {
                    Form::Relative => self.tree_space_base(base, &cb),
                    _ => None,
                }
                .unwrap_or_else(|| base.clone());
                match cb_base.join(&cb) {
                    Ok(mut b) => {
                        if !b.path().ends_with('/') {
                            let p = format!("{}/", b.path());
                            b.set_path(&p);
                        }
                        b
                    }
                    Err(_) => return done(Target::Invalid),
                }
            }
            None => base.clone(),
        };
        let mut tree_space = form == Form::Relative
            && codebase.is_none()
            && page_base
            && !self.is_external_copy(page);
        if form == Form::Relative
            && let Some(b) = self.tree_space_base(&base, &v)
        {
            base = b;
            tree_space = codebase.is_none() && page_base;
        }
        // A relative link climbing above the site's root: URL resolution would clamp it at
        // the host's root, silently pointing it at another file, so it is caught here.
        if tree_space {
            let mut depth = page.matches('/').count();
            let path_part = v.split(['?', '#']).next().unwrap_or("");
            for seg in path_part.split('/') {
                if seg == ".." || seg.eq_ignore_ascii_case("%2e%2e") {
                    if depth == 0 {
                        return done(Target::Escapes);
                    }
                    depth -= 1;
                } else if !seg.is_empty() && seg != "." {
                    depth += 1;
                }
            }
        }
        let Ok(mut u) = base.join(&v) else {
            return done(Target::Invalid);
        };
        let frag = u.fragment().map(|f| format!("#{f}")).unwrap_or_default();
        u.set_fragment(None);
        let s = u.as_str();

        if let Some(path) = self.exact.get(s) {
            return done(Target::Local {
                path: path.clone(),
                suffix: frag,
                origin: Origin::Media,
                url: s.to_owned(),
                dir: false,
            });
        }
        for (prefix, to) in &self.localize {
            if let Some(rest) = s.strip_prefix(prefix.as_str()) {
                let (p, q) = match rest.split_once('?') {
                    Some((p, q)) => (p, Some(q)),
                    None => (rest, None),
                };
                let Some(mut path) = Self::tree_path(p.trim_end_matches('/')) else {
                    return done(Target::External { url: s.to_owned() });
                };
                let dir = p.is_empty() || p.ends_with('/');
                if dir {
                    let d = if path.is_empty() {
                        to.clone()
                    } else {
                        format!("{to}{path}/")
                    };
                    path = format!("{d}{}", self.index[0]);
                } else {
                    path = format!("{to}{path}");
                    if let Some(q) = q.filter(|q| !q.is_empty()) {
                        path = format!("{path}@{}", query_name(q));
                    }
                }
                return done(Target::Local {
                    path,
                    suffix: frag,
                    origin: Origin::Localize,
                    url: s.to_owned(),
                    dir,
                });
            }
        }
        for origin in &self.origins {
            let Some(rest) = s.strip_prefix(origin.as_str()) else {
                continue;
            };
            let (p, q) = match rest.split_once('?') {
                Some((p, q)) => (p, format!("?{q}")),
                None => (rest, String::new()),
            };
            let Some(path) = Self::tree_path(p.trim_end_matches('/')) else {
                return done(Target::External { url: s.to_owned() });
            };
            let (path, dir) = if p.is_empty() || p.ends_with('/') || tree.is_dir(&path) {
                let d = if path.is_empty() {
                    String::new()
                } else {
                    format!("{path}/")
                };
                (self.index_of(&d, tree), true)
            } else {
                (path, false)
            };
            return done(Target::Local {
                path,
                suffix: format!("{q}{frag}"),
                origin: Origin::Site,
                url: s.to_owned(),
                dir,
            });
        }
        done(Target::External {
            url: format!("{s}{frag}"),
        })
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
site = ["http://ocw.example.edu/", "https://ocw.example.edu/"]
[[localize]]
prefix = "http://media.example.org/download/"
to = "OcwExport/media/"
[[rewrite]]
from = "http://www.archive.org/download/"
to = "/OcwExport/IA/"
"#,
            Path::new("/nonexistent/r.toml"),
        )
        .unwrap()
    }

    fn tree() -> TreeIndex {
        let mut t = TreeIndex::default();
        for f in [
            "index.html",
            "a/index.html",
            "a/b.html",
            "OcwExport/media/x.css",
        ] {
            t.add_file(f);
        }
        t
    }

    fn local(r: &Resolved) -> (&str, &str, Origin, bool) {
        match &r.target {
            Target::Local {
                path,
                suffix,
                origin,
                dir,
                ..
            } => (path.as_str(), suffix.as_str(), *origin, *dir),
            t => panic!("not local: {t:?}"),
        }
    }

    #[test]
    fn references_resolve() {
        let m = UrlMap::new(
            &recipe(),
            &[("http://yt/v/abc.mp4".into(), "v/abc.mp4".into())],
        );
        let t = tree();
        let page = "a/b.html";
        let base = m.page_url(page);
        assert_eq!(base.as_str(), "http://ocw.example.edu/a/b.html");
        let r = |v: &str| m.resolve(v, page, &base, None, &t);
        assert_eq!(
            local(&r("../index.html")),
            ("index.html", "", Origin::Site, false)
        );
        assert_eq!(local(&r("/a/")), ("a/index.html", "", Origin::Site, true));
        assert_eq!(local(&r("/a")), ("a/index.html", "", Origin::Site, true));
        assert_eq!(
            local(&r("https://ocw.example.edu/a/b.html?x=1#t")),
            ("a/b.html", "?x=1#t", Origin::Site, false)
        );
        assert_eq!(
            local(&r("http://media.example.org/download/img/My%20Pic.png")),
            (
                "OcwExport/media/img/My Pic.png",
                "",
                Origin::Localize,
                false
            )
        );
        assert_eq!(
            local(&r("http://media.example.org/download/get.php?id=3")),
            ("OcwExport/media/get.php@id=3", "", Origin::Localize, false)
        );
        assert_eq!(local(&r("http://yt/v/abc.mp4")).2, Origin::Media);
        let ia = r("http://www.archive.org/download/x/y.mp4");
        assert_eq!(local(&ia).0, "OcwExport/IA/x/y.mp4");
        assert_eq!(ia.rewritten.as_deref(), Some("/OcwExport/IA/x/y.mp4"));
        assert_eq!(r("#top").target, Target::Ignore);
        assert_eq!(r("mailto:a@b").target, Target::Ignore);
        assert_eq!(r(" javascript:void(0)").target, Target::Ignore);
        assert_eq!(r("../../x.html").target, Target::Escapes);
        assert!(matches!(
            r("https://www.youtube.com/embed/x").target,
            Target::External { .. }
        ));
        assert_eq!(r("/x.html").form, Form::RootRelative);
    }

    #[test]
    fn localized_files_resolve_against_their_own_url() {
        let m = UrlMap::new(&recipe(), &[]);
        let t = tree();
        let page = "OcwExport/media/x.css";
        let base = m.page_url(page);
        assert_eq!(base.as_str(), "http://media.example.org/download/x.css");
        let r = m.resolve("img/a.png", page, &base, None, &t);
        assert_eq!(local(&r).0, "OcwExport/media/img/a.png");
        // Leaving the folder: read in the snapshot's layout (rewrite writes such links).
        let r = m.resolve("../elsewhere.png", page, &base, None, &t);
        assert_eq!(
            local(&r),
            ("OcwExport/elsewhere.png", "", Origin::Site, false)
        );
        let r = m.resolve("../../index.html", page, &base, None, &t);
        assert_eq!(local(&r).0, "index.html");
        assert_eq!(
            m.resolve("../../../x", page, &base, None, &t).target,
            Target::Escapes
        );
    }

    #[test]
    fn codebase() {
        let m = UrlMap::new(&recipe(), &[]);
        let t = tree();
        let base = m.page_url("a/b.html");
        let r = m.resolve(
            "sim.jar",
            "a/b.html",
            &base,
            Some("http://media.example.org/download/applets"),
            &t,
        );
        assert_eq!(local(&r).0, "OcwExport/media/applets/sim.jar");
    }

    #[test]
    fn long_queries_are_shortened() {
        let q = "x".repeat(300);
        let n = query_name(&q);
        assert!(n.len() < 90);
        assert_ne!(query_name(&format!("{q}1")), n);
    }
}
