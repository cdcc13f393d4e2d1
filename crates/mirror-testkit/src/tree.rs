//! Fixture trees on disk: [`TreeBuilder`] for small hand-written trees in a test, and
//! [`generate`] for big deterministic trees in benchmarks.
//!
//! Everything here panics with the path concerned on an I/O error: a fixture that cannot
//! be built is a broken test, not a case to handle.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use filetime::FileTime;

/// Builds a tree under a root folder. Paths are `/`-separated and relative to the root;
/// missing parent folders are created. Methods chain:
///
/// ```
/// # let tmp = tempfile::tempdir().unwrap();
/// use mirror_testkit::TreeBuilder;
/// TreeBuilder::new(tmp.path())
///     .file("a/b.txt", "hello", 1_600_000_000)
///     .dir("empty")
///     .symlink("link", "a/b.txt");
/// ```
#[derive(Debug, Clone)]
pub struct TreeBuilder {
    root: PathBuf,
}

impl TreeBuilder {
    /// A builder for the tree at `root`, creating the folder if needed.
    pub fn new(root: impl Into<PathBuf>) -> TreeBuilder {
        let root = root.into();
        fs::create_dir_all(&root).unwrap_or_else(|e| panic!("mkdir {}: {e}", root.display()));
        TreeBuilder { root }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `rel` joined onto the root (the root itself for `""`).
    pub fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// A regular file with these bytes and modification time (Unix seconds).
    pub fn file(&self, path: &str, bytes: impl AsRef<[u8]>, mtime: i64) -> &Self {
        let p = self.with_parent(path);
        fs::write(&p, bytes).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        self.mtime(path, mtime)
    }

    /// A directory (and its parents). Existing ones are kept.
    pub fn dir(&self, path: &str) -> &Self {
        let p = self.path(path);
        fs::create_dir_all(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        self
    }

    /// A symlink at `path` with this target text (not checked; may dangle or leave the tree).
    pub fn symlink(&self, path: &str, target: &str) -> &Self {
        let p = self.with_parent(path);
        std::os::unix::fs::symlink(target, &p)
            .unwrap_or_else(|e| panic!("symlink {} -> {target}: {e}", p.display()));
        self
    }

    /// A named pipe (something that is neither file, directory nor link).
    pub fn fifo(&self, path: &str) -> &Self {
        let p = self.with_parent(path);
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o644))
            .unwrap_or_else(|e| panic!("mkfifo {}: {e}", p.display()));
        self
    }

    /// Sets permission bits (not on symlinks: Linux has none of their own).
    pub fn mode(&self, path: &str, mode: u32) -> &Self {
        let p = self.path(path);
        fs::set_permissions(&p, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
        self
    }

    /// Sets access and modification time of `path` itself (a symlink's own time, not its
    /// target's). Set folder times last: adding an entry changes its folder's time.
    pub fn mtime(&self, path: &str, mtime: i64) -> &Self {
        let p = self.path(path);
        let t = FileTime::from_unix_time(mtime, 0);
        filetime::set_symlink_file_times(&p, t, t)
            .unwrap_or_else(|e| panic!("set times of {}: {e}", p.display()));
        self
    }

    fn with_parent(&self, path: &str) -> PathBuf {
        let p = self.path(path);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        p
    }
}

/// What [`generate`] made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    /// Regular files written.
    pub files: usize,
    /// Directories made (the root not counted).
    pub dirs: usize,
    /// Total bytes in the files.
    pub bytes: u64,
}

/// Files per generated directory; with the subdirectories each holds about 100 entries.
const FILES_PER_DIR: usize = 92;
/// Subdirectories per generated directory: deep enough to exercise the walk's queue.
const FANOUT: usize = 8;

/// Writes a deterministic tree of `n_files` files under `root` for benchmarks: folders of
/// about 100 entries nested several levels deep, names with spaces and non-ASCII UTF-8,
/// sizes of 1 to 16 KiB, fixed mtimes (folders too). The same `seed` gives the same tree,
/// byte for byte and time for time (the root's own time excepted).
pub fn generate(root: &Path, n_files: usize, seed: u64) -> Generated {
    let mut rng = SplitMix(seed);
    let n_dirs = n_files.div_ceil(FILES_PER_DIR).max(1);
    // Directory k's parent is (k - 1) / FANOUT: a breadth-first complete tree, root = 0.
    let mut dir_paths: Vec<PathBuf> = Vec::with_capacity(n_dirs);
    dir_paths.push(root.to_path_buf());
    fs::create_dir_all(root).unwrap_or_else(|e| panic!("mkdir {}: {e}", root.display()));
    for k in 1..n_dirs {
        let parent = dir_paths[(k - 1) / FANOUT].clone();
        let name = match rng.next() % 4 {
            0 => format!("dir {k:05}"),
            1 => format!("répertoire-{k:05}"),
            2 => format!("目录_{k:05}"),
            _ => format!("d{k:05}"),
        };
        let p = parent.join(name);
        fs::create_dir(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        dir_paths.push(p);
    }
    let mut out = Generated {
        files: 0,
        dirs: n_dirs - 1,
        bytes: 0,
    };
    let mut buf = Vec::with_capacity(16 * 1024);
    for i in 0..n_files {
        let dir = &dir_paths[i / FILES_PER_DIR];
        let name = match rng.next() % 5 {
            0 => format!("file {i:06}.txt"),
            1 => format!("données_{i:06}.bin"),
            2 => format!("ファイル {i:06}.dat"),
            3 => format!(".hidden-{i:06}"),
            _ => format!("f{i:06}.tar.gz"),
        };
        let size = 1024 + (rng.next() % (15 * 1024 + 1)) as usize;
        buf.clear();
        while buf.len() < size {
            buf.extend_from_slice(&rng.next().to_le_bytes());
        }
        buf.truncate(size);
        let p = dir.join(name);
        fs::write(&p, &buf).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        let t = FileTime::from_unix_time(1_500_000_000 + (rng.next() % 200_000_000) as i64, 0);
        filetime::set_file_times(&p, t, t)
            .unwrap_or_else(|e| panic!("set times of {}: {e}", p.display()));
        out.files += 1;
        out.bytes += size as u64;
    }
    // Folder times too, last (adding entries changed them), so two runs match exactly.
    for (k, p) in dir_paths.iter().enumerate().skip(1) {
        let t = FileTime::from_unix_time(1_500_000_000 + k as i64, 0);
        filetime::set_file_times(p, t, t)
            .unwrap_or_else(|e| panic!("set times of {}: {e}", p.display()));
    }
    out
}

/// SplitMix64: tiny, fast and good enough to make varied deterministic fixtures.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Compare, NodeKind, assert_trees_equal, diff_trees, snapshot};

    #[test]
    fn builder_makes_what_it_says() {
        let tmp = tempfile::tempdir().unwrap();
        TreeBuilder::new(tmp.path())
            .file("a/b c/ü.txt", "hi", 1_234)
            .mode("a/b c/ü.txt", 0o600)
            .dir("empty")
            .symlink("l", "a")
            .mtime("l", 99)
            .fifo("p");
        let s = snapshot(tmp.path());
        let keys: Vec<&str> = s.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a", "a/b c", "a/b c/ü.txt", "empty", "l", "p"]);
        let f = &s["a/b c/ü.txt"];
        assert_eq!(
            (f.kind, f.size, f.mtime, f.mode),
            (NodeKind::File, 2, 1_234, 0o600)
        );
        assert_eq!(
            (s["l"].kind, s["l"].target.as_deref(), s["l"].mtime),
            (NodeKind::Symlink, Some("a"), 99)
        );
        assert_eq!(s["p"].kind, NodeKind::Other);
    }

    #[test]
    fn generate_is_deterministic_and_shaped_as_promised() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let made = generate(a.path(), 1000, 7);
        assert_eq!(made, generate(b.path(), 1000, 7));
        assert_eq!((made.files, made.dirs), (1000, 10));
        assert_trees_equal(&snapshot(a.path()), &snapshot(b.path()));
        let s = snapshot(a.path());
        let files: Vec<_> = s.values().filter(|n| n.kind == NodeKind::File).collect();
        assert_eq!(files.len(), 1000);
        assert!(files.iter().all(|n| (1024..=16 * 1024).contains(&n.size)));
        assert!(s.keys().any(|k| k.contains(' ')) && s.keys().any(|k| !k.is_ascii()));
        assert!(
            s.keys().any(|k| k.matches('/').count() >= 2),
            "the tree should nest"
        );
        let c = tempfile::tempdir().unwrap();
        generate(c.path(), 1000, 8);
        assert!(!diff_trees(&snapshot(a.path()), &snapshot(c.path()), Compare::CONTENT).is_empty());
    }
}
