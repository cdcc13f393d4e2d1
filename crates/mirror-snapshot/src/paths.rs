//! Paths inside a snapshot: the index of what a tree holds ([`TreeIndex`]), which files are
//! pages and stylesheets, relative links between two files ([`relative_link`]), and the
//! percent-encoding that makes a file name a URL path segment and back.
//!
//! Tree paths are `/`-separated, relative to the snapshot root, never empty, never with a
//! `.`/`..` segment. Names that are not UTF-8 are skipped (and reported by the walk).

use std::collections::HashSet;
use std::io;
use std::path::Path;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use crate::build::STATE_DIR;

/// What a link may not contain literally in a path segment: everything that would end the
/// segment or change the URL's meaning (`?`, `#`, `%`, `/`), plus characters that must be
/// escaped in HTML attributes and CSS `url()` so the output needs no other quoting.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'/')
    .add(b'&');

/// A file name as a URL path segment.
pub fn encode_segment(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// A URL path segment as a file name: percent-decoded when that gives UTF-8 without `/` or
/// NUL; otherwise the segment as written (so `caf%E9` names the file `caf%E9`).
pub fn decode_segment(seg: &str) -> String {
    match percent_decode_str(seg).decode_utf8() {
        Ok(s) if !s.contains(['/', '\0']) => s.into_owned(),
        _ => seg.to_owned(),
    }
}

/// True for names a tree path segment may not be.
pub fn bad_segment(s: &str) -> bool {
    s.is_empty() || s == "." || s == ".." || s.contains('\0')
}

/// The kind of a file for the link engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An HTML page (`.html`, `.htm`, `.xhtml`, `.shtml`).
    Page,
    /// A stylesheet (`.css`).
    Css,
    /// Anything else.
    Other,
}

/// Pages and stylesheets are recognised by their extension (any case).
pub fn file_kind(path: &str) -> FileKind {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" | "xhtml" | "shtml" => FileKind::Page,
        "css" => FileKind::Css,
        _ => FileKind::Other,
    }
}

/// True for the temporary names transfers write to (`.in.NAME.`, the sync engine's
/// convention, which the fetcher shares).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(".in.") && name.ends_with('.') && name.len() > 5
}

/// The temporary name for `name` in the same folder.
pub fn temp_name(name: &str) -> String {
    format!(".in.{name}.")
}

/// The link from file `from` to file `to` (both tree paths): `../b/c.html`, each segment
/// percent-encoded. A first segment holding `:` gets `./` so it is not read as a scheme.
pub fn relative_link(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = match from.rsplit_once('/') {
        Some((d, _)) => d.split('/').collect(),
        None => Vec::new(),
    };
    let to_segs: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to_segs)
        .take_while(|(a, b)| a == b)
        .count()
        // The file name itself is never a shared folder.
        .min(to_segs.len() - 1);
    let ups = from_dir.len() - common;
    let mut out = "../".repeat(ups);
    let rest: Vec<String> = to_segs[common..]
        .iter()
        .map(|s| encode_segment(s))
        .collect();
    let rest = rest.join("/");
    if ups == 0 && rest.split('/').next().is_some_and(|s| s.contains(':')) {
        out.push_str("./");
    }
    out.push_str(&rest);
    out
}

/// The link from file `from` to folder `dir` (a tree path, `""` for the root), ending in `/`.
pub fn relative_dir_link(from: &str, dir: &str) -> String {
    if dir.is_empty() {
        let depth = from.matches('/').count();
        return if depth == 0 {
            "./".into()
        } else {
            "../".repeat(depth)
        };
    }
    let mut l = relative_link(from, &format!("{dir}/x"));
    l.truncate(l.len() - 1);
    if l.is_empty() {
        // The page's own folder: an empty value would mean the page itself.
        l.push_str("./");
    }
    l
}

/// A root-relative link (`/a/b.html`), each segment percent-encoded.
pub fn root_link(to: &str) -> String {
    let segs: Vec<String> = to.split('/').map(encode_segment).collect();
    format!("/{}", segs.join("/"))
}

/// The files and folders of a tree (state folder and temporary files left out), for the
/// "does it exist?" questions every stage asks many times.
#[derive(Debug, Default, Clone)]
pub struct TreeIndex {
    /// Files (and symlinks) by tree path.
    pub files: HashSet<String>,
    /// Folders by tree path.
    pub dirs: HashSet<String>,
    /// Sizes summed over `files`.
    pub bytes: u64,
    /// Names skipped because they are not UTF-8 (shown lossily).
    pub skipped: Vec<String>,
    /// Temporary transfer files found (`.in.NAME.`).
    pub temps: Vec<String>,
}

impl TreeIndex {
    /// Walks `root`.
    pub fn scan(root: &Path) -> io::Result<TreeIndex> {
        let mut idx = TreeIndex::default();
        let mut stack = vec![(root.to_path_buf(), String::new())];
        while let Some((dir, rel)) = stack.pop() {
            for de in std::fs::read_dir(&dir)? {
                let de = de?;
                let name = de.file_name();
                let Some(name) = name.to_str() else {
                    idx.skipped
                        .push(format!("{rel}{}", de.file_name().to_string_lossy()));
                    continue;
                };
                if rel.is_empty() && name == STATE_DIR {
                    continue;
                }
                let path = format!("{rel}{name}");
                let ft = de.file_type()?;
                if ft.is_dir() {
                    stack.push((de.path(), format!("{path}/")));
                    idx.dirs.insert(path);
                } else if is_temp_name(name) {
                    idx.temps.push(path);
                } else {
                    if ft.is_file() {
                        idx.bytes += de.metadata().map(|m| m.len()).unwrap_or(0);
                    }
                    idx.files.insert(path);
                }
            }
        }
        Ok(idx)
    }

    /// True if `path` is a file of the tree.
    pub fn is_file(&self, path: &str) -> bool {
        self.files.contains(path)
    }

    /// True if `path` is a folder of the tree (`""` is the root).
    pub fn is_dir(&self, path: &str) -> bool {
        path.is_empty() || self.dirs.contains(path)
    }

    /// Records a file that arrived (and its folders).
    pub fn add_file(&mut self, path: &str) {
        let mut p = path;
        while let Some((d, _)) = p.rsplit_once('/') {
            if !self.dirs.insert(d.to_owned()) {
                break;
            }
            p = d;
        }
        self.files.insert(path.to_owned());
    }

    /// Pages and stylesheets, sorted.
    pub fn documents(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .files
            .iter()
            .filter(|p| file_kind(p) != FileKind::Other)
            .cloned()
            .collect();
        v.sort();
        v
    }

    /// Number of pages.
    pub fn pages(&self) -> usize {
        self.files
            .iter()
            .filter(|p| file_kind(p) == FileKind::Page)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links() {
        assert_eq!(relative_link("a.html", "b.html"), "b.html");
        assert_eq!(relative_link("a/b/c.html", "a/d.html"), "../d.html");
        assert_eq!(relative_link("a/b/c.html", "a/b/e/f.png"), "e/f.png");
        assert_eq!(
            relative_link("x/y.html", "z/My File.png"),
            "../z/My%20File.png"
        );
        assert_eq!(relative_link("y.html", "a:b.html"), "./a:b.html");
        assert_eq!(relative_link("a/a.html", "a"), "../a");
        assert_eq!(relative_link("a.html", "a.html"), "a.html");
        assert_eq!(relative_dir_link("a/b.html", ""), "../");
        assert_eq!(relative_dir_link("b.html", ""), "./");
        assert_eq!(relative_dir_link("a/b.html", "a/c"), "c/");
        assert_eq!(relative_dir_link("a/b.html", "a"), "./");
        assert_eq!(root_link("a b/c?.html"), "/a%20b/c%3F.html");
    }

    #[test]
    fn segments_round_trip() {
        for s in ["plain.html", "a b", "100%", "q?x", "é.png", "a#b", "x&y"] {
            assert_eq!(decode_segment(&encode_segment(s)), s);
        }
        assert_eq!(decode_segment("caf%E9"), "caf%E9");
        assert_eq!(decode_segment("a%2Fb"), "a%2Fb");
    }

    #[test]
    fn kinds() {
        assert_eq!(file_kind("a/B.HTM"), FileKind::Page);
        assert_eq!(file_kind("s.css"), FileKind::Css);
        assert_eq!(file_kind("x.png"), FileKind::Other);
        assert_eq!(file_kind("html"), FileKind::Other);
        assert!(is_temp_name(".in.x.html."));
        assert!(!is_temp_name(".in."));
    }
}
