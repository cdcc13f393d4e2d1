//! Tree snapshots for assertions: [`snapshot`] records every path under a folder (kind,
//! content digest, time, mode, link target) so tests can say "the two trees are identical"
//! or "the disk was not touched, byte for byte", and get a readable diff when not.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::hash::Hasher;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Every path below a root (`/`-separated, root excluded) and what is there.
pub type Snapshot = BTreeMap<String, Node>;

/// The type of a [`Node`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (see [`Node::target`]).
    Symlink,
    /// A fifo, socket or device.
    Other,
}

/// What one path holds, as `lstat` and the content see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// File, directory, symlink or other.
    pub kind: NodeKind,
    /// Size in bytes for files; 0 for everything else.
    pub size: u64,
    /// A 64-bit digest of a file's content (0 for everything else): equal content gives
    /// equal digests within one test process.
    pub digest: u64,
    /// A symlink's target text.
    pub target: Option<String>,
    /// Modification time, Unix seconds (of the link itself for a symlink).
    pub mtime: i64,
    /// Permission bits (`0o7777` mask).
    pub mode: u32,
}

/// Records the tree under `root` (which is not itself included). Symlinks are recorded,
/// never followed. Names that are not UTF-8 are recorded lossily.
pub fn snapshot(root: &Path) -> Snapshot {
    let mut out = Snapshot::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let rd = fs::read_dir(&dir).unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()));
        for de in rd {
            let de = de.unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()));
            let name = de.file_name().to_string_lossy().into_owned();
            let key = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let path = de.path();
            let md = fs::symlink_metadata(&path)
                .unwrap_or_else(|e| panic!("lstat {}: {e}", path.display()));
            let ft = md.file_type();
            let mut node = Node {
                kind: NodeKind::Other,
                size: 0,
                digest: 0,
                target: None,
                mtime: md.mtime(),
                mode: md.mode() & 0o7777,
            };
            if ft.is_file() {
                node.kind = NodeKind::File;
                node.size = md.len();
                node.digest = digest_file(&path);
            } else if ft.is_dir() {
                node.kind = NodeKind::Dir;
                stack.push((path, key.clone()));
            } else if ft.is_symlink() {
                node.kind = NodeKind::Symlink;
                let t = fs::read_link(&path)
                    .unwrap_or_else(|e| panic!("readlink {}: {e}", path.display()));
                node.target = Some(t.to_string_lossy().into_owned());
            }
            out.insert(key, node);
        }
    }
    out
}

fn digest_file(path: &Path) -> u64 {
    let mut f = fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut h = std::hash::DefaultHasher::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        if n == 0 {
            break;
        }
        h.write(&buf[..n]);
    }
    h.finish()
}

/// Which attributes [`diff_trees`] compares. Paths, kinds, file content and link targets
/// are always compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compare {
    /// Modification times of files, symlinks and others.
    pub mtimes: bool,
    /// Modification times of directories (mirror.pl never sets them, so a mirrored tree's
    /// folders carry the time of the run).
    pub dir_mtimes: bool,
    /// Modification times of symlinks themselves (mirror.pl never sets them either).
    pub link_mtimes: bool,
    /// Permission bits (of everything but symlinks, which have none on Linux).
    pub modes: bool,
}

impl Compare {
    /// Everything: "the disk was not touched".
    pub const ALL: Compare = Compare {
        mtimes: true,
        dir_mtimes: true,
        link_mtimes: true,
        modes: true,
    };
    /// What a mirror run makes equal: content, kinds, link targets and file times.
    pub const MIRRORED: Compare = Compare {
        mtimes: true,
        dir_mtimes: false,
        link_mtimes: false,
        modes: false,
    };
    /// Content, kinds and link targets only.
    pub const CONTENT: Compare = Compare {
        mtimes: false,
        dir_mtimes: false,
        link_mtimes: false,
        modes: false,
    };
}

impl Default for Compare {
    fn default() -> Self {
        Compare::ALL
    }
}

/// One difference between two snapshots, for a readable failure message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The path concerned.
    pub path: String,
    /// What differs, in words.
    pub what: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

/// Every difference between `a` (the expected tree) and `b` (the actual one), in path order.
pub fn diff_trees(a: &Snapshot, b: &Snapshot, cmp: Compare) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |path: &str, what: String| {
        out.push(Difference {
            path: path.to_owned(),
            what,
        })
    };
    let mut ia = a.iter().peekable();
    let mut ib = b.iter().peekable();
    loop {
        let (pa, pb) = (ia.peek().map(|x| x.0), ib.peek().map(|x| x.0));
        match (pa, pb) {
            (None, None) => break,
            (Some(p), None) => {
                push(p, format!("missing (expected {})", describe(&a[p])));
                ia.next();
            }
            (None, Some(p)) => {
                push(p, format!("unexpected {}", describe(&b[p])));
                ib.next();
            }
            (Some(x), Some(y)) if x < y => {
                push(x, format!("missing (expected {})", describe(&a[x])));
                ia.next();
            }
            (Some(x), Some(y)) if x > y => {
                push(y, format!("unexpected {}", describe(&b[y])));
                ib.next();
            }
            (Some(p), Some(_)) => {
                let (na, nb) = (&a[p], &b[p]);
                if na.kind != nb.kind || na.target != nb.target {
                    push(
                        p,
                        format!("expected {}, found {}", describe(na), describe(nb)),
                    );
                } else if na.size != nb.size || na.digest != nb.digest {
                    push(
                        p,
                        format!(
                            "content differs: expected {} bytes (digest {:016x}), found {} bytes (digest {:016x})",
                            na.size, na.digest, nb.size, nb.digest
                        ),
                    );
                }
                let want_time = match na.kind {
                    NodeKind::Dir => cmp.dir_mtimes,
                    NodeKind::Symlink => cmp.link_mtimes,
                    _ => cmp.mtimes,
                };
                if want_time && na.mtime != nb.mtime {
                    push(
                        p,
                        format!(
                            "mtime differs: expected {}, found {} ({:+} s)",
                            na.mtime,
                            nb.mtime,
                            nb.mtime - na.mtime
                        ),
                    );
                }
                if cmp.modes && na.kind != NodeKind::Symlink && na.mode != nb.mode {
                    push(
                        p,
                        format!(
                            "mode differs: expected {:04o}, found {:04o}",
                            na.mode, nb.mode
                        ),
                    );
                }
                ia.next();
                ib.next();
            }
        }
    }
    out
}

fn describe(n: &Node) -> String {
    match n.kind {
        NodeKind::File => format!("file of {} bytes", n.size),
        NodeKind::Dir => "directory".to_owned(),
        NodeKind::Symlink => format!("symlink -> {}", n.target.as_deref().unwrap_or("?")),
        NodeKind::Other => "special file".to_owned(),
    }
}

/// Panics with every difference listed unless the trees are identical in every attribute
/// ([`Compare::ALL`]).
#[track_caller]
pub fn assert_trees_equal(expected: &Snapshot, actual: &Snapshot) {
    assert_trees_equal_with(expected, actual, Compare::ALL);
}

/// Panics with every difference listed unless the trees are equal in the attributes `cmp`
/// selects.
#[track_caller]
pub fn assert_trees_equal_with(expected: &Snapshot, actual: &Snapshot, cmp: Compare) {
    let diffs = diff_trees(expected, actual, cmp);
    if !diffs.is_empty() {
        let list: Vec<String> = diffs.iter().map(|d| format!("  {d}")).collect();
        panic!(
            "trees differ ({} differences):\n{}",
            diffs.len(),
            list.join("\n")
        );
    }
}

/// Snapshots both folders and asserts they are equal in the attributes `cmp` selects.
#[track_caller]
pub fn assert_dirs_equal(expected: &Path, actual: &Path, cmp: Compare) {
    assert_trees_equal_with(&snapshot(expected), &snapshot(actual), cmp);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TreeBuilder;

    fn two_trees() -> (tempfile::TempDir, TreeBuilder, TreeBuilder) {
        let tmp = tempfile::tempdir().unwrap();
        let a = TreeBuilder::new(tmp.path().join("a"));
        let b = TreeBuilder::new(tmp.path().join("b"));
        for t in [&a, &b] {
            t.file("same", "x", 10)
                .file("d/f", "y", 20)
                .symlink("l", "same");
        }
        (tmp, a, b)
    }

    #[test]
    fn identical_trees_have_no_differences() {
        let (_tmp, a, b) = two_trees();
        a.mtime("d", 5);
        b.mtime("d", 5);
        assert_dirs_equal(a.root(), b.root(), Compare::ALL);
    }

    #[test]
    fn every_kind_of_difference_is_named() {
        let (_tmp, a, b) = two_trees();
        a.file("only-a", "1", 1);
        b.file("only-b", "1", 1);
        b.file("same", "z", 10); // same size and time, other content
        b.mtime("d/f", 21);
        b.mode("d/f", 0o600);
        a.mode("d/f", 0o644);
        fs::remove_file(b.path("l")).unwrap();
        b.symlink("l", "elsewhere");
        let diffs = diff_trees(&snapshot(a.root()), &snapshot(b.root()), Compare::MIRRORED);
        let text: Vec<String> = diffs.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "d/f: mtime differs: expected 20, found 21 (+1 s)".to_owned(),
                "l: expected symlink -> same, found symlink -> elsewhere".to_owned(),
                "only-a: missing (expected file of 1 bytes)".to_owned(),
                "only-b: unexpected file of 1 bytes".to_owned(),
                "same: content differs: expected 1 bytes (digest {da}), found 1 bytes (digest {db})"
                    .replace("{da}", &format!("{:016x}", snapshot(a.root())["same"].digest))
                    .replace("{db}", &format!("{:016x}", snapshot(b.root())["same"].digest)),
            ]
        );
        // Modes and folder times only count when asked for.
        let all = diff_trees(&snapshot(a.root()), &snapshot(b.root()), Compare::ALL);
        assert!(
            all.iter()
                .any(|d| d.path == "d/f" && d.what.contains("mode differs"))
        );
        let content = diff_trees(&snapshot(a.root()), &snapshot(b.root()), Compare::CONTENT);
        assert!(!content.iter().any(|d| d.what.contains("mtime")));
    }

    #[test]
    #[should_panic(expected = "trees differ (1 differences)")]
    fn assert_panics_with_the_list() {
        let (_tmp, a, b) = two_trees();
        b.file("extra", "", 1);
        assert_trees_equal_with(&snapshot(a.root()), &snapshot(b.root()), Compare::CONTENT);
    }
}
