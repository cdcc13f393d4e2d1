//! The child-link rule: which links on an index page name an entry of the listed directory.
//!
//! A link counts only if, resolved against the directory's URL, it has the same origin, no
//! query and no fragment, and its path is the directory's path plus exactly one segment
//! (with a trailing `/` meaning "directory"). Everything else an index page links to is
//! navigation and is skipped without comment: the parent (`../`, Apache's "Parent
//! Directory" → `/`), sort orders (`?C=M;O=A`), rclone's `?download=zip`, icons, the
//! server's home page. Resolution goes through [`Url::join`], so dot segments, also
//! percent-encoded ones (`%2e%2e/x`), are collapsed before the rule looks at the path.
//!
//! The segment is then percent-decoded into the entry's name. A name that decodes to
//! something no file can be called (`a%2Fb` → `a/b`, a NUL, `.`/`..`) is refused and reported,
//! because it means the page, not the navigation, is odd.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use url::Url;

/// What a link turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Link {
    /// An entry of the listed directory.
    Child(Child),
    /// Navigation or off-site: not an entry, not a problem.
    Ignored,
    /// It points at a child but its name is unusable; the message says why.
    Refused(String),
}

/// A direct child of the listed directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Child {
    /// The decoded name (one segment, never `.`/`..`, no `/`, no NUL).
    pub(crate) name: String,
    /// The link ended in `/`.
    pub(crate) is_dir: bool,
    /// The absolute URL of the entry (of its own index page for a directory).
    pub(crate) url: Url,
    /// Set when the name was not valid UTF-8 and was decoded lossily.
    pub(crate) lossy: bool,
}

/// Bytes encoded when building a URL from a bare name (nginx JSON/XML give names, not links):
/// everything but unreserved characters, so `%`, `?`, `#`, `/` and spaces can never change
/// the URL's meaning.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The listed directory: its URL (always ending in `/`) and path.
#[derive(Debug, Clone)]
pub(crate) struct Dir {
    url: Url,
}

impl Dir {
    /// The directory a page lists. Index pages are written relative to the directory, so a
    /// page URL without its trailing `/` (`/pub` for `/pub/`) is taken as the directory
    /// itself, not as a file in its parent; query and fragment are dropped.
    pub(crate) fn new(page_url: &Url) -> Self {
        let mut url = page_url.clone();
        url.set_query(None);
        url.set_fragment(None);
        if !url.cannot_be_a_base() && !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Dir { url }
    }

    /// The directory's URL.
    #[cfg(test)]
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// Classifies one `href` (already entity-decoded).
    pub(crate) fn classify(&self, href: &str) -> Link {
        let Ok(u) = self.url.join(href) else {
            return Link::Refused(format!("unusable link `{}`", clip(href)));
        };
        if u.origin() != self.url.origin() || u.query().is_some() || u.fragment().is_some() {
            return Link::Ignored;
        }
        let Some(rest) = u.path().strip_prefix(self.url.path()) else {
            return Link::Ignored;
        };
        let (segment, is_dir) = match rest.strip_suffix('/') {
            Some(s) => (s, true),
            None => (rest, false),
        };
        // The directory itself, `dir//`, or something deeper: not a child.
        if segment.is_empty() || segment.contains('/') {
            return Link::Ignored;
        }
        let bytes: Vec<u8> = percent_decode_str(segment).collect();
        let (name, lossy) = match String::from_utf8(bytes) {
            Ok(n) => (n, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        if let Some(why) = unusable(&name) {
            return Link::Refused(format!("link `{}`: {why}", clip(href)));
        }
        Link::Child(Child {
            name,
            is_dir,
            url: u,
            lossy,
        })
    }

    /// The entry for a bare name given by a format that lists names, not links (nginx JSON
    /// and XML): the name is checked, then percent-encoded onto the directory's URL.
    pub(crate) fn child_named(&self, name: &str, is_dir: bool) -> Result<Child, String> {
        if let Some(why) = unusable(name) {
            return Err(format!("name `{}`: {why}", clip(name)));
        }
        let mut rel = utf8_percent_encode(name, SEGMENT).to_string();
        if is_dir {
            rel.push('/');
        }
        let url = self
            .url
            .join(&rel)
            .map_err(|e| format!("name `{}`: {e}", clip(name)))?;
        Ok(Child {
            name: name.to_owned(),
            is_dir,
            url,
            lossy: false,
        })
    }
}

/// Why `name` cannot be one path segment, if it cannot.
fn unusable(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("empty name")
    } else if name == "." || name == ".." {
        Some("names a dot directory")
    } else if name.contains('/') {
        Some("name contains `/`")
    } else if name.contains('\0') {
        Some("name contains a NUL byte")
    } else {
        None
    }
}

/// `s` cut to at most 200 bytes (on a char boundary) for messages: a hostile page must not
/// blow up the report.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 200;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(u: &str) -> Dir {
        Dir::new(&Url::parse(u).unwrap())
    }

    fn child(d: &Dir, href: &str) -> (String, bool, String) {
        match d.classify(href) {
            Link::Child(c) => (c.name, c.is_dir, c.url.to_string()),
            other => panic!("{href}: {other:?}"),
        }
    }

    #[test]
    fn children_relative_absolute_and_encoded() {
        let d = dir("http://h:8080/pub/x/");
        assert_eq!(
            child(&d, "a%20b.txt"),
            (
                "a b.txt".into(),
                false,
                "http://h:8080/pub/x/a%20b.txt".into()
            )
        );
        assert_eq!(child(&d, "sub/").0, "sub");
        assert!(child(&d, "sub/").1);
        assert_eq!(child(&d, "./c").0, "c");
        assert_eq!(child(&d, "/pub/x/d").0, "d");
        assert_eq!(child(&d, "http://h:8080/pub/x/e").0, "e");
        assert_eq!(child(&d, "//h:8080/pub/x/f").0, "f");
        assert_eq!(child(&d, "%C3%BC").0, "ü");
        assert_eq!(child(&d, "100%").0, "100%");
        assert_eq!(child(&d, "a b").0, "a b");
        assert_eq!(child(&d, " padded ").0, "padded");
    }

    #[test]
    fn navigation_is_ignored() {
        let d = dir("http://h/pub/x/");
        for href in [
            "",
            "./",
            "../",
            "..",
            "/",
            "/pub/",
            "?C=M;O=A",
            "#top",
            "a?download=zip",
            "a/?download=zip",
            "a#frag",
            "sub/deeper",
            "sub//",
            "http://evil.example/pub/x/a",
            "https://h/pub/x/a",
            "http://h:81/pub/x/a",
            "mailto:root@h",
            "javascript:alert(1)",
            "%2e%2e/x",
            "%2E%2e/etc/passwd",
            "../x",
            "/etc/passwd",
            "./../../x",
        ] {
            assert_eq!(d.classify(href), Link::Ignored, "{href}");
        }
    }

    #[test]
    fn impossible_names_are_refused() {
        let d = dir("http://h/");
        for href in ["a%2Fb", "a%2fb/", "..%2Fx", "a%00b", "%2F"] {
            assert!(matches!(d.classify(href), Link::Refused(_)), "{href}");
        }
        assert!(matches!(d.classify("http://[::1"), Link::Refused(_)));
    }

    #[test]
    fn non_utf8_names_decode_lossily() {
        let d = dir("http://h/");
        let Link::Child(c) = d.classify("caf%E9") else {
            panic!()
        };
        assert_eq!(c.name, "caf\u{fffd}");
        assert!(c.lossy);
    }

    #[test]
    fn page_url_without_slash_is_the_directory() {
        let d = dir("http://h/pub?x=1#y");
        assert_eq!(d.url().as_str(), "http://h/pub/");
        assert_eq!(child(&d, "a").2, "http://h/pub/a");
    }

    #[test]
    fn bare_names_are_encoded() {
        let d = dir("http://h/pub/");
        let c = d.child_named("100% #1?.txt", false).unwrap();
        assert_eq!(c.url.as_str(), "http://h/pub/100%25%20%231%3F.txt");
        assert_eq!(d.classify(c.url.as_str()), Link::Child(c));
        assert_eq!(
            d.child_named("dir", true).unwrap().url.as_str(),
            "http://h/pub/dir/"
        );
        for bad in ["", ".", "..", "a/b", "a\0"] {
            assert!(d.child_named(bad, false).is_err(), "{bad:?}");
        }
        assert_eq!(d.child_named("..x", false).unwrap().name, "..x");
    }

    #[test]
    fn clip_respects_char_boundaries() {
        let long = "ü".repeat(150);
        let c = clip(&long);
        assert!(c.ends_with("...") && c.len() <= 203);
    }
}
