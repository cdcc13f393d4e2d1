//! Helpers shared by the tests that run the real `mirror` binary on temporary trees: a
//! source folder and a destination in one temp dir, a packages file between them, a run
//! that captures the exit status, stdout and the `--report-json` report, and a record of
//! the disk precise enough to say "not touched" (inode, ctime and content of every path).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use mirror_testkit::{NodeKind, Snapshot, TreeBuilder};

/// A time well in the past for fixture files (Sep 2020).
pub const T0: i64 = 1_600_000_000;

/// The path of the `mirror` binary Cargo built for these tests.
pub fn mirror_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mirror"))
}

/// A source tree (`src`, a `file://` site), a destination (`dst`, not created) and a
/// packages file (`packages`) in one temp dir. Lock files go into the temp dir too.
pub struct Fixture {
    /// Holds everything; removed on drop.
    pub tmp: tempfile::TempDir,
    /// Builds the source tree.
    pub src: TreeBuilder,
    /// The package's `local_dir`.
    pub dst: PathBuf,
    /// The packages file ([`Fixture::packages`] writes it).
    pub packages: PathBuf,
    /// Where `--report-json` writes.
    pub report: PathBuf,
    /// `MIRROR_LOCK_DIR` for the runs.
    pub locks: PathBuf,
}

impl Fixture {
    /// An empty source, no destination, and a packages file with no extra keywords.
    pub fn new() -> Fixture {
        Fixture::in_dir(tempfile::tempdir().expect("a temp dir"))
    }

    /// The same in a given temp dir (the crash test puts it on tmpfs).
    pub fn in_dir(tmp: tempfile::TempDir) -> Fixture {
        let src = TreeBuilder::new(tmp.path().join("src"));
        let locks = tmp.path().join("locks");
        fs::create_dir(&locks).expect("mkdir locks");
        let fx = Fixture {
            dst: tmp.path().join("dst"),
            packages: tmp.path().join("packages"),
            report: tmp.path().join("report.json"),
            locks,
            src,
            tmp,
        };
        fx.packages(&[]);
        fx
    }

    /// (Re)writes the packages file: one package `test` from `src` to `dst`, then `extra`
    /// keyword lines (`"do_deletes=true"`...). `-N` keeps every other default builtin.
    pub fn packages(&self, extra: &[&str]) -> &Self {
        let mut text = format!(
            "package=test\n\tsite=file://{}\n\tlocal_dir={}\n",
            self.src.root().display(),
            self.dst.display()
        );
        for line in extra {
            text.push('\t');
            text.push_str(line);
            text.push('\n');
        }
        fs::write(&self.packages, text).expect("write the packages file");
        self
    }

    /// `dst` joined with `rel`.
    pub fn dst_path(&self, rel: &str) -> PathBuf {
        self.dst.join(rel)
    }

    /// A builder on the destination tree (to plant local files).
    pub fn dst_tree(&self) -> TreeBuilder {
        TreeBuilder::new(&self.dst)
    }

    /// `mirror -N ARGS... --report-json REPORT PACKAGES`.
    pub fn mirror(&self, args: &[&str]) -> Run {
        let out = assert_cmd::Command::cargo_bin("mirror")
            .expect("the mirror binary")
            .env("MIRROR_LOCK_DIR", &self.locks)
            .current_dir(self.tmp.path())
            .arg("-N")
            .args(args)
            .arg("--report-json")
            .arg(&self.report)
            .arg(&self.packages)
            .output()
            .expect("run mirror");
        Run::new(out, &self.report)
    }

    /// The same under `bash -c PRELUDE; exec mirror ...`, for resource limits.
    pub fn mirror_after(&self, prelude: &str, args: &[&str]) -> Run {
        let out = std::process::Command::new("bash")
            .env("MIRROR_LOCK_DIR", &self.locks)
            .current_dir(self.tmp.path())
            .arg("-c")
            .arg(format!("{prelude}; exec \"$0\" \"$@\""))
            .arg(mirror_bin())
            .arg("-N")
            .args(args)
            .arg("--report-json")
            .arg(&self.report)
            .arg(&self.packages)
            .output()
            .expect("run bash");
        Run::new(out, &self.report)
    }
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit status (`-1` if killed by a signal).
    pub code: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
    /// The package's object in the `--report-json` array (`Null` if none was written).
    pub report: serde_json::Value,
}

impl Run {
    fn new(out: Output, report: &Path) -> Run {
        let json = fs::read_to_string(report)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .map_or(serde_json::Value::Null, |v| v[0].clone());
        // Each run writes its own report; never read the previous one by mistake.
        let _ = fs::remove_file(report);
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            report: json,
        }
    }

    /// Panics with the whole output unless the exit status is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit status\n--- stdout\n{}--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Whether stdout has exactly this line.
    pub fn has_line(&self, line: &str) -> bool {
        self.stdout.lines().any(|l| l == line)
    }

    /// Panics with the output unless stdout has exactly this line.
    #[track_caller]
    pub fn expect_line(&self, line: &str) -> &Self {
        assert!(
            self.has_line(line),
            "no line `{line}` in stdout:\n{}",
            self.stdout
        );
        self
    }

    /// The stdout lines that start with `prefix`.
    pub fn lines_starting(&self, prefix: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with(prefix))
            .collect()
    }

    /// The files of mirror.pl's `Got PATH SIZE SECS` lines as `(PATH, SIZE)`, sorted.
    /// Panics on a `Got` line of another shape.
    pub fn got(&self) -> Vec<(String, u64)> {
        let mut got: Vec<(String, u64)> = self
            .lines_starting("Got ")
            .into_iter()
            .map(|l| {
                let mut parts = l["Got ".len()..].rsplitn(3, ' ');
                let (secs, size, path) = (parts.next(), parts.next(), parts.next());
                match (
                    secs.map(str::parse::<u64>),
                    size.map(str::parse::<u64>),
                    path,
                ) {
                    (Some(Ok(_)), Some(Ok(size)), Some(path)) => (path.to_owned(), size),
                    _ => panic!("not a `Got PATH SIZE SECS` line: `{l}`"),
                }
            })
            .collect();
        got.sort();
        got
    }

    /// The report's `counts` object.
    pub fn counts(&self) -> &serde_json::Value {
        &self.report["counts"]
    }
}

/// `[(path, size)]` from string slices, for comparing with [`Run::got`].
pub fn got_list(items: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = items.iter().map(|&(p, n)| (p.to_owned(), n)).collect();
    v.sort();
    v
}

/// Everything the kernel says about one path, and its bytes: if two records are equal,
/// nothing wrote, chmod-ed, chown-ed, touched, renamed or replaced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// `f`, `d`, `l` or `?`.
    pub kind: char,
    /// A file's bytes or a link's target.
    pub content: Vec<u8>,
    /// Inode number (a replaced file gets a new one).
    pub ino: u64,
    /// Permission and type bits.
    pub mode: u32,
    /// Owner and group.
    pub owner: (u32, u32),
    /// Hard links.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds and nanoseconds.
    pub mtime: (i64, i64),
    /// Status-change time, seconds and nanoseconds: any write, chmod, chown, utime or
    /// rename of the path moves it.
    pub ctime: (i64, i64),
}

/// The [`Stat`] of `root` (key `""`) and of every path below it; empty if `root` does not
/// exist. Access times are left out: merely reading a folder may update them.
pub fn disk_state(root: &Path) -> BTreeMap<String, Stat> {
    let mut out = BTreeMap::new();
    if fs::symlink_metadata(root).is_err() {
        return out;
    }
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((path, rel)) = stack.pop() {
        let md = fs::symlink_metadata(&path).expect("lstat");
        let ft = md.file_type();
        let (kind, content) = if ft.is_symlink() {
            let t = fs::read_link(&path).expect("readlink");
            ('l', t.into_os_string().into_encoded_bytes())
        } else if ft.is_dir() {
            for de in fs::read_dir(&path).expect("read_dir") {
                let de = de.expect("read_dir entry");
                let name = de.file_name().to_string_lossy().into_owned();
                let child = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                stack.push((de.path(), child));
            }
            ('d', Vec::new())
        } else if ft.is_file() {
            ('f', fs::read(&path).expect("read"))
        } else {
            ('?', Vec::new())
        };
        out.insert(
            rel,
            Stat {
                kind,
                content,
                ino: md.ino(),
                mode: md.mode(),
                owner: (md.uid(), md.gid()),
                nlink: md.nlink(),
                size: md.size(),
                mtime: (md.mtime(), md.mtime_nsec()),
                ctime: (md.ctime(), md.ctime_nsec()),
            },
        );
    }
    out
}

/// Panics with the paths that differ unless the two disk states are identical.
#[track_caller]
pub fn assert_untouched(before: &BTreeMap<String, Stat>, after: &BTreeMap<String, Stat>) {
    if before == after {
        return;
    }
    let mut diffs = Vec::new();
    for (path, b) in before {
        match after.get(path) {
            None => diffs.push(format!("  {path:?}: gone")),
            Some(a) if a != b => diffs.push(format!("  {path:?}: {b:?}\n    became {a:?}")),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        diffs.push(format!("  {path:?}: appeared"));
    }
    panic!("the disk was touched:\n{}", diffs.join("\n"));
}

/// A testkit snapshot with what a mirror run does not copy set aside: symlinks' own times
/// (mirror.pl recreates links and never sets their times) and folder times. Compare the
/// result with [`mirror_testkit::Compare::MIRRORED`].
pub fn mirrored_view(mut s: Snapshot) -> Snapshot {
    for node in s.values_mut() {
        if matches!(node.kind, NodeKind::Symlink | NodeKind::Dir) {
            node.mtime = 0;
        }
    }
    s
}

/// The regular files under `root`, as sorted relative paths.
pub fn files(root: &Path) -> Vec<String> {
    mirror_testkit::snapshot(root)
        .into_iter()
        .filter(|(_, n)| n.kind == NodeKind::File)
        .map(|(p, _)| p)
        .collect()
}
