//! `RelPath`: a path relative to a tree root that cannot leave it.
//!
//! Every name that comes from a server, a listing or a local scan becomes a `RelPath` or is
//! rejected. Because the only way to build one is through validation, code that joins a
//! `RelPath` onto a root can never write outside that root.

use std::fmt;
use std::sync::Arc;

/// Why a string was refused as a [`RelPath`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelPathError {
    /// The path started with `/` (an absolute path).
    #[error("absolute path `{0}` is not allowed")]
    Absolute(String),
    /// A segment was `..`.
    #[error("path `{0}` contains a `..` segment")]
    DotDot(String),
    /// A segment was empty (`a//b`) or `.`.
    #[error("path `{0}` contains an empty or `.` segment")]
    EmptySegment(String),
    /// The path contained a NUL byte.
    #[error("path `{0}` contains a NUL byte")]
    Nul(String),
    /// A single name (not a path) contained `/`.
    #[error("name `{0}` contains `/`")]
    Slash(String),
}

/// A validated path relative to a tree root: `/`-separated, no `..`, no empty or `.`
/// segment, no NUL, not absolute. The empty path is the root itself.
///
/// Ordering is plain byte order of the string, the same on both sides of a comparison, which
/// is all the lockstep walk needs.
///
/// The text is shared (`Arc<str>`): a plan clones paths from listings freely, and a local
/// scan can reuse the source listing's allocation for every path both sides have (see
/// [`crate::Remote::walk_reusing`]), so a mirror that is mostly up to date stores each path
/// once rather than once per side.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(Arc<str>);

impl Default for RelPath {
    fn default() -> Self {
        Self::root()
    }
}

impl RelPath {
    /// The root of the tree (the empty path).
    pub fn root() -> Self {
        RelPath(Arc::from(""))
    }

    /// Validates `s` as a relative path. A single trailing `/` is accepted and dropped
    /// (directory names in listings often carry one); everything else must be clean.
    pub fn new(s: &str) -> Result<Self, RelPathError> {
        let trimmed = s.strip_suffix('/').unwrap_or(s);
        if trimmed.is_empty() {
            return if s.is_empty() {
                Ok(Self::root())
            } else {
                Err(RelPathError::Absolute(s.to_owned()))
            };
        }
        if trimmed.contains('\0') {
            return Err(RelPathError::Nul(s.to_owned()));
        }
        if trimmed.starts_with('/') {
            return Err(RelPathError::Absolute(s.to_owned()));
        }
        for seg in trimmed.split('/') {
            match seg {
                ".." => return Err(RelPathError::DotDot(s.to_owned())),
                "" | "." => return Err(RelPathError::EmptySegment(s.to_owned())),
                _ => {}
            }
        }
        Ok(RelPath(Arc::from(trimmed)))
    }

    /// The path as a `/`-separated string (empty for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the root (empty) path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends one name. The name must be a single segment: no `/`, not `.`/`..`, not empty.
    pub fn join(&self, name: &str) -> Result<Self, RelPathError> {
        if name.contains('/') {
            return Err(RelPathError::Slash(name.to_owned()));
        }
        if name.contains('\0') {
            return Err(RelPathError::Nul(name.to_owned()));
        }
        match name {
            ".." => return Err(RelPathError::DotDot(name.to_owned())),
            "" | "." => return Err(RelPathError::EmptySegment(name.to_owned())),
            _ => {}
        }
        if self.is_root() {
            Ok(RelPath(Arc::from(name)))
        } else {
            Ok(RelPath(Arc::from(format!("{}/{}", self.0, name))))
        }
    }

    /// Appends another relative path.
    pub fn join_path(&self, other: &RelPath) -> RelPath {
        match (self.is_root(), other.is_root()) {
            (_, true) => self.clone(),
            (true, false) => other.clone(),
            (false, false) => RelPath(Arc::from(format!("{}/{}", self.0, other.0))),
        }
    }

    /// The last segment (empty for the root).
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// The parent path, or `None` for the root.
    pub fn parent(&self) -> Option<RelPath> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.rfind('/') {
            Some(i) => RelPath(Arc::from(&self.0[..i])),
            None => RelPath::root(),
        })
    }

    /// Every proper ancestor, nearest first, ending with the root.
    pub fn ancestors(&self) -> impl Iterator<Item = RelPath> + '_ {
        std::iter::successors(self.parent(), |p| p.parent())
    }

    /// True if `self` is `dir` or lies below it (every path lies below the root).
    pub fn starts_with(&self, dir: &RelPath) -> bool {
        dir.is_root()
            || self.0 == dir.0
            || (self.0.starts_with(&*dir.0) && self.0.as_bytes().get(dir.0.len()) == Some(&b'/'))
    }

    /// The temporary name a download of this path is written to: `.in.NAME.` in the same
    /// folder, as mirror.pl does, so a partial file never has the final name.
    pub fn temp_sibling(&self) -> RelPath {
        let temp = format!(".in.{}.", self.name());
        match self.parent() {
            Some(p) => p.join(&temp).unwrap_or_else(|_| RelPath(Arc::from(temp))),
            None => RelPath(Arc::from(temp)),
        }
    }

    /// Resolves a symlink target written at `self` (the link's own path) against the tree:
    /// returns the path inside the tree that the target names, or `None` if the target is
    /// absolute or climbs out of the tree.
    pub fn resolve_link_target(&self, target: &str) -> Option<RelPath> {
        if target.starts_with('/') || target.contains('\0') {
            return None;
        }
        let mut out: Vec<&str> = match self.parent() {
            Some(p) if !p.is_root() => self.0[..p.0.len()].split('/').collect(),
            _ => Vec::new(),
        };
        for seg in target.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    out.pop()?;
                }
                s => out.push(s),
            }
        }
        RelPath::new(&out.join("/")).ok()
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

impl TryFrom<&str> for RelPath {
    type Error = RelPathError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        RelPath::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_clean_paths() {
        assert_eq!(RelPath::new("a/b c/ü.txt").unwrap().as_str(), "a/b c/ü.txt");
        assert_eq!(RelPath::new("dir/").unwrap().as_str(), "dir");
        assert!(RelPath::new("").unwrap().is_root());
    }

    #[test]
    fn refuses_hostile_paths() {
        for bad in [
            "../x",
            "/etc/x",
            "a/../../x",
            "a//b",
            "./a",
            "a/./b",
            "a\0b",
            "/",
            "..",
            "a/..",
        ] {
            assert!(RelPath::new(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn join_refuses_non_names() {
        let root = RelPath::root();
        for bad in ["a/b", "..", ".", "", "x\0"] {
            assert!(root.join(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(root.join("a").unwrap().join("b").unwrap().as_str(), "a/b");
    }

    #[test]
    fn parent_name_and_ancestors() {
        let p = RelPath::new("a/b/c").unwrap();
        assert_eq!(p.name(), "c");
        assert_eq!(p.parent().unwrap().as_str(), "a/b");
        let anc: Vec<String> = p.ancestors().map(|a| a.to_string()).collect();
        assert_eq!(anc, ["a/b", "a", ""]);
    }

    #[test]
    fn starts_with_respects_segment_boundaries() {
        let p = RelPath::new("ab/c").unwrap();
        assert!(p.starts_with(&RelPath::new("ab").unwrap()));
        assert!(!p.starts_with(&RelPath::new("a").unwrap()));
        assert!(p.starts_with(&RelPath::root()));
    }

    #[test]
    fn temp_sibling_is_in_same_folder() {
        assert_eq!(
            RelPath::new("a/b.txt").unwrap().temp_sibling().as_str(),
            "a/.in.b.txt."
        );
        assert_eq!(RelPath::new("b").unwrap().temp_sibling().as_str(), ".in.b.");
    }

    #[test]
    fn link_targets_are_confined() {
        let link = RelPath::new("a/b/link").unwrap();
        assert_eq!(link.resolve_link_target("../c").unwrap().as_str(), "a/c");
        assert_eq!(link.resolve_link_target("../../c").unwrap().as_str(), "c");
        assert!(link.resolve_link_target("../../../c").is_none());
        assert!(link.resolve_link_target("/etc/passwd").is_none());
        assert_eq!(
            link.resolve_link_target("./x/./y").unwrap().as_str(),
            "a/b/x/y"
        );
    }
}
