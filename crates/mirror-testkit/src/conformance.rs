//! The conformance suite every [`Remote`] backend runs: one fixture tree, one list of named
//! checks (listing, kinds, sizes, times at the declared precision, reads, resume, errors,
//! and the write side for writable remotes). A backend states what it cannot do as
//! [`Gaps`], each with a reason, instead of skipping the suite.
//!
//! A backend's test implements [`ConformanceTarget`]: it is handed a local folder holding
//! the fixture and returns a remote that serves it (an FTP server rooted there, an S3
//! bucket filled from it, or the folder itself), then calls [`run_conformance`].

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mirror_remote::{
    Entry, ErrorKind, Features, Kind, PathPredicate, Precision, RelPath, Remote, RemoteError,
    WalkOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::TreeBuilder;

/// A backend under test: serves a folder through its protocol.
#[async_trait]
pub trait ConformanceTarget: Send + Sync {
    /// A short name for messages, e.g. `"ftp (libunftp)"`.
    fn name(&self) -> String;

    /// Where the suite should build the fixture (a folder that is empty or absent), for a
    /// server that can only serve a fixed place. `None`: a fresh temporary folder.
    fn fixture_dir(&self) -> Option<PathBuf> {
        None
    }

    /// A remote whose root shows the tree in `dir`, which the suite has just filled with
    /// the fixture. A server with its own store copies or uploads the tree there first.
    async fn remote_for(&self, dir: &Path) -> Result<Arc<dyn Remote>, String>;

    /// What this backend cannot do; those checks are skipped with the reason.
    fn gaps(&self) -> Gaps {
        Gaps::default()
    }
}

/// Checks a backend cannot pass, each with the reason. `None` means "no gap".
///
/// The fixture-shaped gaps (`symlinks`, `dotfiles`, `empty_dirs`, `unicode_names`) remove
/// those paths from what every listing check expects, and ignore them where they appear.
#[derive(Debug, Clone, Default)]
pub struct Gaps {
    /// Symlinks are not listed as symlinks (or not at all), and cannot be made.
    pub symlinks: Option<&'static str>,
    /// Names starting with `.` are hidden by the listing.
    pub dotfiles: Option<&'static str>,
    /// Empty folders do not exist (object stores without folder markers).
    pub empty_dirs: Option<&'static str>,
    /// Non-ASCII names cannot be served.
    pub unicode_names: Option<&'static str>,
    /// Listed sizes are not exact bytes.
    pub sizes: Option<&'static str>,
    /// Listed times are absent or not comparable.
    pub mtimes: Option<&'static str>,
    /// Listed permission bits are not the file's.
    pub modes: Option<&'static str>,
    /// `create(path, true)` cannot append to an existing file.
    pub append: Option<&'static str>,
    /// Skip every write check although `Features::write` says yes.
    pub write: Option<&'static str>,
    /// Any other check, by its name (as in the report), with the reason.
    pub skip: Vec<(&'static str, &'static str)>,
}

/// The outcome of a suite run.
#[derive(Debug, Clone, Default)]
pub struct ConformanceReport {
    /// The target's name.
    pub target: String,
    /// Checks that passed.
    pub passed: Vec<&'static str>,
    /// Checks skipped, with the reason (a gap, or a feature the remote does not claim).
    pub skipped: Vec<(&'static str, String)>,
    /// Checks that failed, with what went wrong.
    pub failed: Vec<(&'static str, String)>,
}

impl fmt::Display for ConformanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "conformance of {}: {} passed, {} failed, {} skipped",
            self.target,
            self.passed.len(),
            self.failed.len(),
            self.skipped.len()
        )?;
        for (name, why) in &self.failed {
            writeln!(f, "  FAILED {name}: {}", why.replace('\n', "\n    "))?;
        }
        for (name, why) in &self.skipped {
            writeln!(f, "  skipped {name}: {why}")?;
        }
        Ok(())
    }
}

/// Runs the suite and panics, listing every failed check by name, if any failed. Returns
/// the report (with the skipped checks) otherwise.
pub async fn run_conformance(target: &dyn ConformanceTarget) -> ConformanceReport {
    let report = check_conformance(target).await;
    assert!(report.failed.is_empty(), "{report}");
    report
}

/// Runs the suite and returns the report without judging it.
pub async fn check_conformance(target: &dyn ConformanceTarget) -> ConformanceReport {
    let gaps = target.gaps();
    let mut report = ConformanceReport {
        target: target.name(),
        ..Default::default()
    };
    let _tmp;
    let dir = match target.fixture_dir() {
        Some(d) => d,
        None => {
            let t = tempfile::tempdir().expect("create a temporary folder");
            let d = t.path().join("fixture");
            _tmp = t;
            d
        }
    };
    let fixture = build_fixture(&dir);
    let remote = match target.remote_for(&dir).await {
        Ok(r) => r,
        Err(e) => {
            report
                .failed
                .push(("setup", format!("cannot make the remote: {e}")));
            return report;
        }
    };
    let s = Suite {
        remote: remote.as_ref(),
        gaps,
        fixture,
        report: RefCell::new(report),
    };
    s.read_checks().await;
    s.write_checks().await;
    s.report.into_inner()
}

/// One path of the fixture and what a listing must say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureNode {
    /// Where it is.
    pub path: &'static str,
    /// What it is (for a symlink, with its target text).
    pub kind: Kind,
    /// File content (empty for others).
    pub content: Vec<u8>,
    /// File time (files only; folder times change as the tree is built).
    pub mtime: Option<i64>,
    /// Permission bits set explicitly (files only).
    pub mode: Option<u32>,
}

/// The fixture tree the suite serves: nested folders, names with spaces and UTF-8, a dot
/// file, empty folders, an empty file, a 300 KB file, symlinks (to a file, to a folder,
/// upwards, dangling), and times both old (day precision in `ls`) and recent (minutes).
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Every path in the tree, sorted.
    pub nodes: Vec<FixtureNode>,
}

/// An old time (2011-03-13 07:06:47 UTC), odd seconds so truncation shows.
pub const OLD_TIME: i64 = 1_300_000_007;

/// Builds the suite's fixture tree in `root` and returns its description.
pub fn build_fixture(root: &Path) -> Fixture {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(1_700_000_000);
    // Two hours ago: `ls -l` shows hours and minutes for it, in any time zone.
    let recent = now - 7_237;
    let big: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(31) % 251) as u8)
        .collect();
    let files: Vec<(&'static str, Vec<u8>, i64, Option<u32>)> = vec![
        (
            "plain.txt",
            b"hello, world\n".to_vec(),
            OLD_TIME,
            Some(0o644),
        ),
        ("empty.bin", Vec::new(), recent, None),
        ("big.bin", big, recent + 2, None),
        (
            "name with spaces.txt",
            b"spaces\n".to_vec(),
            OLD_TIME + 86_400,
            None,
        ),
        (
            "ünïcödé/日本語 ファイル.txt",
            "utf-8 ✓\n".as_bytes().to_vec(),
            recent + 4,
            None,
        ),
        (
            "script.sh",
            b"#!/bin/sh\necho hi\n".to_vec(),
            OLD_TIME,
            Some(0o755),
        ),
        (".dotfile", b"hidden\n".to_vec(), recent, None),
        (
            "deep/a/b/c/d/e/leaf.txt",
            b"leaf\n".to_vec(),
            recent + 6,
            None,
        ),
        (
            "deep/a/sibling.txt",
            b"sibling\n".to_vec(),
            OLD_TIME + 3,
            None,
        ),
    ];
    let dirs = ["empty-dir", "dir with space/empty inner"];
    let links = [
        ("link-to-file", "plain.txt"),
        ("link-to-dir", "deep/a"),
        ("deep/a/b/up-link", "../../../plain.txt"),
        ("dangling", "does-not-exist"),
    ];
    let tb = TreeBuilder::new(root);
    let mut nodes = Vec::new();
    for (path, content, mtime, mode) in files {
        tb.file(path, &content, mtime);
        if let Some(m) = mode {
            tb.mode(path, m);
        }
        nodes.push(FixtureNode {
            path,
            kind: Kind::File,
            content,
            mtime: Some(mtime),
            mode,
        });
    }
    for d in dirs {
        tb.dir(d);
    }
    for (path, target) in links {
        tb.symlink(path, target);
        nodes.push(FixtureNode {
            path,
            kind: Kind::Symlink(Box::from(target)),
            content: Vec::new(),
            mtime: None,
            mode: None,
        });
    }
    // Every folder on the way to a path is a node too.
    let mut all_dirs = BTreeSet::new();
    for p in nodes.iter().map(|n| n.path).chain(dirs) {
        for (i, _) in p.match_indices('/') {
            all_dirs.insert(&p[..i]);
        }
    }
    all_dirs.extend(dirs);
    for d in all_dirs {
        nodes.push(FixtureNode {
            path: d,
            kind: Kind::Dir,
            content: Vec::new(),
            mtime: None,
            mode: None,
        });
    }
    nodes.sort_by(|a, b| a.path.cmp(b.path));
    Fixture { nodes }
}

/// A remote call that takes longer than this is a failure, not a hung test.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The folder the write checks work in.
const SCRATCH: &str = "conformance-scratch";

type CheckResult = Result<(), String>;

struct Suite<'a> {
    remote: &'a dyn Remote,
    gaps: Gaps,
    fixture: Fixture,
    // Checks borrow the suite while they run; the report is written after each one.
    report: RefCell<ConformanceReport>,
}

async fn call<T>(
    what: &str,
    fut: impl Future<Output = Result<T, RemoteError>>,
) -> Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what} failed: {e} ({:?})", e.kind)),
        Err(_) => Err(format!("{what} did not answer within {CALL_TIMEOUT:?}")),
    }
}

fn rp(s: &str) -> RelPath {
    RelPath::new(s).unwrap_or_else(|e| panic!("fixture path {s:?}: {e}"))
}

fn kind_str(k: &Kind) -> String {
    match k {
        Kind::File => "file".into(),
        Kind::Dir => "dir".into(),
        Kind::Symlink(t) => format!("symlink -> {t}"),
        Kind::Other => "other".into(),
    }
}

impl Suite<'_> {
    /// Records the outcome of one named check, unless a gap or missing feature skips it.
    async fn check<F: Future<Output = CheckResult>>(
        &self,
        name: &'static str,
        skip: Option<String>,
        body: impl FnOnce() -> F,
    ) {
        let skip = skip.or_else(|| {
            self.gaps
                .skip
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, why)| why.to_string())
        });
        if let Some(why) = skip {
            self.report.borrow_mut().skipped.push((name, why));
            return;
        }
        let outcome = body().await;
        let mut report = self.report.borrow_mut();
        match outcome {
            Ok(()) => report.passed.push(name),
            Err(e) => report.failed.push((name, e)),
        }
    }

    fn features(&self) -> Features {
        self.remote.features()
    }

    /// True if the gaps take `path` out of what listings must show (and of what they
    /// may show).
    fn excluded(&self, path: &str) -> bool {
        let g = &self.gaps;
        if g.symlinks.is_some() && self.under_symlink(path) {
            return true;
        }
        if g.dotfiles.is_some() && path.split('/').any(|s| s.starts_with('.')) {
            return true;
        }
        if g.unicode_names.is_some() && !path.is_ascii() {
            return true;
        }
        if g.empty_dirs.is_some() && self.is_empty_dir_chain(path) {
            return true;
        }
        false
    }

    /// `path` is a fixture symlink or lies below one.
    fn under_symlink(&self, path: &str) -> bool {
        self.fixture.nodes.iter().any(|n| {
            matches!(n.kind, Kind::Symlink(_))
                && (path == n.path
                    || (path.starts_with(n.path)
                        && path.as_bytes().get(n.path.len()) == Some(&b'/')))
        })
    }

    /// `path` is a folder with no file (or kept link) anywhere below it.
    fn is_empty_dir_chain(&self, path: &str) -> bool {
        let is_dir = self
            .fixture
            .nodes
            .iter()
            .any(|n| n.path == path && n.kind.is_dir());
        is_dir
            && !self.fixture.nodes.iter().any(|n| {
                !n.kind.is_dir()
                    && n.path.starts_with(path)
                    && n.path.as_bytes().get(path.len()) == Some(&b'/')
                    && !(self.gaps.symlinks.is_some() && matches!(n.kind, Kind::Symlink(_)))
            })
    }

    /// The fixture nodes listings must show, keyed by path.
    fn expected(&self, filter: impl Fn(&str) -> bool) -> BTreeMap<&'static str, &FixtureNode> {
        self.fixture
            .nodes
            .iter()
            .filter(|n| !self.excluded(n.path) && filter(n.path))
            .map(|n| (n.path, n))
            .collect()
    }

    /// Compares listed entries with the expected nodes: same paths, and per path the kind.
    fn compare_paths(
        &self,
        entries: &[Entry],
        expected: &BTreeMap<&'static str, &FixtureNode>,
    ) -> CheckResult {
        let mut problems = Vec::new();
        let got: BTreeMap<&str, &Entry> = entries
            .iter()
            .filter(|e| !self.excluded(e.path.as_str()))
            .map(|e| (e.path.as_str(), e))
            .collect();
        for p in expected.keys() {
            if !got.contains_key(p) {
                problems.push(format!("missing `{p}`"));
            }
        }
        for p in got.keys() {
            if !expected.contains_key(p) {
                problems.push(format!("unexpected `{p}`"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    async fn read_checks(&self) {
        let features = self.features();
        let rec = WalkOptions {
            recursive: true,
            ignore: None,
        };
        let walked = call("walk", self.remote.walk(&rec)).await;
        let entries: Vec<Entry> = walked
            .as_ref()
            .map(|l| l.entries.clone())
            .unwrap_or_default();
        let walk_err = walked.as_ref().err().cloned();
        let fail_if_no_walk = || match &walk_err {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        };

        self.check("walk.complete", None, || async {
            let l = walked.as_ref().map_err(Clone::clone)?;
            let mut problems = Vec::new();
            for p in &l.incomplete {
                problems.push(format!(
                    "directory `{}` marked incomplete: {}",
                    p.path, p.message
                ));
            }
            for p in &l.refused {
                if !self.excluded(p.path.as_str()) {
                    problems.push(format!("name refused under `{}`: {}", p.path, p.message));
                }
            }
            if l.entries.windows(2).any(|w| w[0].path >= w[1].path) {
                problems.push("entries are not sorted by path without duplicates".into());
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("\n"))
            }
        })
        .await;

        let expected = self.expected(|_| true);
        self.check("walk.paths", None, || async {
            fail_if_no_walk()?;
            self.compare_paths(&entries, &expected)
        })
        .await;

        let by_path: BTreeMap<&str, &Entry> =
            entries.iter().map(|e| (e.path.as_str(), e)).collect();
        self.check("walk.kinds", None, || async {
            fail_if_no_walk()?;
            let mut problems = Vec::new();
            for (p, n) in &expected {
                if let Some(e) = by_path.get(p)
                    && e.kind != n.kind
                {
                    problems.push(format!(
                        "`{p}`: expected {}, listed {}",
                        kind_str(&n.kind),
                        kind_str(&e.kind)
                    ));
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("\n"))
            }
        })
        .await;

        self.check("walk.sizes", self.gaps.sizes.map(str::to_owned), || async {
            fail_if_no_walk()?;
            let mut problems = Vec::new();
            for (p, n) in &expected {
                if let Some(e) = by_path.get(p)
                    && n.kind == Kind::File
                    && e.size != Some(n.content.len() as u64)
                {
                    problems.push(format!(
                        "`{p}`: expected {} bytes, listed {:?}",
                        n.content.len(),
                        e.size
                    ));
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("\n"))
            }
        })
        .await;

        self.check(
            "walk.mtimes",
            self.gaps.mtimes.map(str::to_owned),
            || async {
                fail_if_no_walk()?;
                let mut problems = Vec::new();
                for (p, n) in &expected {
                    let (Some(e), Some(want)) = (by_path.get(p), n.mtime) else {
                        continue;
                    };
                    if let Err(why) = time_matches(e, want, features.precision) {
                        problems.push(format!("`{p}`: {why}"));
                    }
                }
                if problems.is_empty() {
                    Ok(())
                } else {
                    Err(problems.join("\n"))
                }
            },
        )
        .await;

        self.check("walk.modes", self.gaps.modes.map(str::to_owned), || async {
            fail_if_no_walk()?;
            let mut problems = Vec::new();
            for (p, n) in &expected {
                if let (Some(e), Some(want)) = (by_path.get(p), n.mode)
                    && let Some(got) = e.mode
                    && u32::from(got) & 0o7777 != want
                {
                    problems.push(format!("`{p}`: expected mode {want:04o}, listed {got:04o}"));
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("\n"))
            }
        })
        .await;

        self.check("walk.non_recursive", None, || async {
            let l = call(
                "walk (not recursive)",
                self.remote.walk(&WalkOptions::default()),
            )
            .await?;
            let top = self.expected(|p| !p.contains('/'));
            self.compare_paths(&l.entries, &top)
        })
        .await;

        self.check("walk.ignore", None, || async {
            // Ignoring a folder must also leave out everything below it, unvisited.
            let ignore: Arc<PathPredicate> =
                Arc::new(|p: &RelPath| p.as_str() == "deep/a" || p.as_str() == "plain.txt");
            let opts = WalkOptions {
                recursive: true,
                ignore: Some(ignore),
            };
            let l = call("walk (with ignore)", self.remote.walk(&opts)).await?;
            let want =
                self.expected(|p| p != "plain.txt" && p != "deep/a" && !p.starts_with("deep/a/"));
            self.compare_paths(&l.entries, &want)
        })
        .await;

        self.check("list.root", None, || async {
            let got = call("list of the root", self.remote.list(&RelPath::root())).await?;
            let top = self.expected(|p| !p.contains('/'));
            self.compare_paths(&got, &top)?;
            match got.iter().find(|e| e.path.as_str() == "deep") {
                Some(e) if e.kind == Kind::Dir => Ok(()),
                other => Err(format!("`deep` should be listed as a dir, got {other:?}")),
            }
        })
        .await;

        self.check("list.subdir", None, || async {
            let got = call("list of `deep/a`", self.remote.list(&rp("deep/a"))).await?;
            let want = self.expected(|p| {
                p.strip_prefix("deep/a/")
                    .is_some_and(|rest| !rest.contains('/'))
            });
            self.compare_paths(&got, &want)
        })
        .await;

        self.check("list.missing", None, || async {
            match tokio::time::timeout(CALL_TIMEOUT, self.remote.list(&rp("no-such-dir"))).await {
                Ok(Err(e)) if e.kind == ErrorKind::NotFound => Ok(()),
                Ok(Err(e)) => Err(format!("expected NotFound, got {:?}: {e}", e.kind)),
                Ok(Ok(v)) => Err(format!(
                    "listing a missing folder succeeded with {} entries",
                    v.len()
                )),
                Err(_) => Err("list did not answer".into()),
            }
        })
        .await;

        self.check("stat.file", None, || async {
            let e = call("stat", self.remote.stat(&rp("deep/a/sibling.txt"))).await?;
            match e {
                Some(e)
                    if e.kind == Kind::File && (self.gaps.sizes.is_some() || e.size == Some(8)) =>
                {
                    if self.gaps.mtimes.is_none() {
                        time_matches(&e, OLD_TIME + 3, features.precision)?;
                    }
                    Ok(())
                }
                other => Err(format!("expected a file of 8 bytes, got {other:?}")),
            }
        })
        .await;

        self.check("stat.dir", None, || async {
            match call("stat", self.remote.stat(&rp("deep/a"))).await? {
                Some(e) if e.kind == Kind::Dir => Ok(()),
                other => Err(format!("expected a dir, got {other:?}")),
            }
        })
        .await;

        self.check(
            "stat.symlink",
            self.gaps.symlinks.map(str::to_owned),
            || async {
                match call("stat", self.remote.stat(&rp("link-to-file"))).await? {
                    Some(e) if e.kind == Kind::Symlink(Box::from("plain.txt")) => Ok(()),
                    other => Err(format!("expected a symlink -> plain.txt, got {other:?}")),
                }
            },
        )
        .await;

        self.check("stat.missing", None, || async {
            for p in ["no-such-file", "no-such-dir/file", "deep/a/no-such-file"] {
                if let Some(e) = call("stat", self.remote.stat(&rp(p))).await? {
                    return Err(format!("stat of missing `{p}` returned {e:?}"));
                }
            }
            Ok(())
        })
        .await;

        self.check("open.read", None, || async {
            let files: Vec<&FixtureNode> = self
                .expected(|_| true)
                .into_values()
                .filter(|n| n.kind == Kind::File)
                .collect();
            for n in files {
                let got = read_all(self.remote, n.path, 0).await?;
                if got != n.content {
                    return Err(format!(
                        "`{}`: read {} bytes, expected {} (content differs)",
                        n.path,
                        got.len(),
                        n.content.len()
                    ));
                }
            }
            Ok(())
        })
        .await;

        let no_resume = (!features.resume).then(|| "the remote does not claim `resume`".to_owned());
        self.check("open.offset", no_resume, || async {
            let big = self
                .fixture
                .nodes
                .iter()
                .find(|n| n.path == "big.bin")
                .map(|n| n.content.clone());
            let big = big.unwrap_or_default();
            for off in [1u64, 123_457, big.len() as u64 - 1, big.len() as u64] {
                let got = read_all(self.remote, "big.bin", off).await?;
                if got[..] != big[off as usize..] {
                    return Err(format!(
                        "read from offset {off}: got {} bytes, expected the last {}",
                        got.len(),
                        big.len() as u64 - off
                    ));
                }
            }
            Ok(())
        })
        .await;

        self.check("open.missing", None, || async {
            match tokio::time::timeout(CALL_TIMEOUT, self.remote.open(&rp("no-such-file"), 0)).await
            {
                Ok(Err(e)) if e.kind == ErrorKind::NotFound => Ok(()),
                Ok(Err(e)) => Err(format!("expected NotFound, got {:?}: {e}", e.kind)),
                Ok(Ok(mut r)) => {
                    // Some protocols only report a missing file once the data flows.
                    let mut buf = Vec::new();
                    match r.read_to_end(&mut buf).await {
                        Err(_) => Ok(()),
                        Ok(n) => Err(format!(
                            "opening a missing file read {n} bytes without error"
                        )),
                    }
                }
                Err(_) => Err("open did not answer".into()),
            }
        })
        .await;
    }

    async fn write_checks(&self) {
        let f = self.features();
        let no_write = if !f.write {
            Some("the remote does not claim `write`".to_owned())
        } else {
            self.gaps.write.map(str::to_owned)
        };
        let gate = |cond: bool, why: &str| -> Option<String> {
            no_write.clone().or_else(|| (!cond).then(|| why.to_owned()))
        };
        let scratch = rp(SCRATCH);
        let file = rp(&format!("{SCRATCH}/new file ü.txt"));
        let other = rp(&format!("{SCRATCH}/other.txt"));
        let sub = rp(&format!("{SCRATCH}/sub"));
        let r = self.remote;

        self.check("write.mkdir", no_write.clone(), || async {
            call("mkdir", r.mkdir(&scratch)).await?;
            call("mkdir of an existing folder", r.mkdir(&scratch)).await?;
            call("mkdir of a subfolder", r.mkdir(&sub)).await?;
            match call("stat", r.stat(&sub)).await? {
                Some(e) if e.kind == Kind::Dir => Ok(()),
                other => Err(format!("after mkdir, stat says {other:?}")),
            }
        })
        .await;

        self.check("write.create", no_write.clone(), || async {
            write_all(r, &file, false, b"first version, longer\n").await?;
            expect_content(r, &file, b"first version, longer\n").await?;
            write_all(r, &file, false, b"second\n").await?;
            expect_content(r, &file, b"second\n").await
        })
        .await;

        self.check(
            "write.append",
            gate(self.gaps.append.is_none(), self.gaps.append.unwrap_or("")),
            || async {
                write_all(r, &file, true, b"appended\n").await?;
                expect_content(r, &file, b"second\nappended\n").await
            },
        )
        .await;

        self.check(
            "write.rename",
            gate(f.rename, "the remote does not claim `rename`"),
            || async {
                let content = read_all(r, file.as_str(), 0).await?;
                call("rename", r.rename(&file, &other)).await?;
                if call("stat", r.stat(&file)).await?.is_some() {
                    return Err("the old name still exists after rename".into());
                }
                expect_content(r, &other, &content).await?;
                // Renaming onto an existing file replaces it (uploads go to a temporary name).
                write_all(r, &file, false, b"replacement\n").await?;
                call("rename onto an existing file", r.rename(&file, &other)).await?;
                expect_content(r, &other, b"replacement\n").await
            },
        )
        .await;

        self.check(
            "write.set_mtime",
            gate(f.set_mtime, "the remote does not claim `set_mtime`"),
            || async {
                let t = OLD_TIME + 3_600 + 17;
                call("set_mtime", r.set_mtime(&other, t)).await?;
                match call("stat", r.stat(&other)).await? {
                    Some(e) => time_matches(&e, t, f.precision)
                        .map_err(|w| format!("after set_mtime: {w}")),
                    None => Err("file vanished".into()),
                }
            },
        )
        .await;

        self.check(
            "write.set_mode",
            gate(f.set_mode, "the remote does not claim `set_mode`"),
            || async {
                call("set_mode", r.set_mode(&other, 0o640)).await?;
                match call("stat", r.stat(&other)).await? {
                    Some(Entry { mode: Some(m), .. }) if m & 0o7777 != 0o640 => {
                        Err(format!("after set_mode 0640, stat says {m:04o}"))
                    }
                    Some(_) => Ok(()),
                    None => Err("file vanished".into()),
                }
            },
        )
        .await;

        let symlinks_ok = f.symlinks && self.gaps.symlinks.is_none();
        let why_not = self
            .gaps
            .symlinks
            .unwrap_or("the remote does not claim `symlinks`");
        self.check("write.symlink", gate(symlinks_ok, why_not), || async {
            let link = rp(&format!("{SCRATCH}/link"));
            call("symlink", r.symlink(&link, "other.txt")).await?;
            match call("stat", r.stat(&link)).await? {
                Some(e) if e.kind == Kind::Symlink(Box::from("other.txt")) => {}
                other => return Err(format!("after symlink, stat says {other:?}")),
            }
            if f.set_mtime {
                let t = OLD_TIME + 99;
                call("set_mtime of a symlink", r.set_mtime(&link, t)).await?;
                match call("stat", r.stat(&link)).await? {
                    Some(e) => time_matches(&e, t, f.precision)
                        .map_err(|w| format!("symlink time: {w}"))?,
                    None => return Err("link vanished".into()),
                }
            }
            call("remove_file of a symlink", r.remove_file(&link)).await?;
            if call("stat", r.stat(&link)).await?.is_some() {
                return Err("the link is still there after remove_file".into());
            }
            // Removing the link must not touch its target.
            expect_content(r, &other, b"replacement\n").await
        })
        .await;

        self.check("write.remove_file", no_write.clone(), || async {
            call("remove_file", r.remove_file(&other)).await?;
            if call("stat", r.stat(&other)).await?.is_some() {
                return Err("the file is still there after remove_file".into());
            }
            match tokio::time::timeout(CALL_TIMEOUT, r.remove_file(&other)).await {
                Ok(Err(_)) => Ok(()),
                Ok(Ok(())) => Err("removing a missing file succeeded".into()),
                Err(_) => Err("remove_file did not answer".into()),
            }
        })
        .await;

        self.check("write.remove_dir", no_write.clone(), || async {
            // Only empty folders go: a non-empty one must refuse (nothing recursive).
            match tokio::time::timeout(CALL_TIMEOUT, r.remove_dir(&scratch)).await {
                Ok(Err(_)) => {}
                Ok(Ok(())) => return Err("remove_dir of a non-empty folder succeeded".into()),
                Err(_) => return Err("remove_dir did not answer".into()),
            }
            call("remove_dir", r.remove_dir(&sub)).await?;
            // Leftovers from failed earlier checks would keep the folder non-empty.
            for e in call("list", r.list(&scratch)).await? {
                let _ = r.remove_file(&e.path).await;
            }
            call("remove_dir", r.remove_dir(&scratch)).await?;
            if call("stat", r.stat(&scratch)).await?.is_some() {
                return Err("the folder is still there after remove_dir".into());
            }
            Ok(())
        })
        .await;
    }
}

/// Checks a listed time against the true one at the coarser of the entry's and the
/// remote's declared precision; an entry must not claim more precision than declared.
fn time_matches(e: &Entry, want: i64, declared: Precision) -> CheckResult {
    if e.precision < declared {
        return Err(format!(
            "entry claims {:?} precision but the remote declares {declared:?}",
            e.precision
        ));
    }
    let precision = e.precision.max(declared);
    if precision == Precision::Unknown {
        return Ok(());
    }
    let Some(got) = e.mtime else {
        return Err(format!(
            "no mtime (expected {want} at {precision:?} precision)"
        ));
    };
    // Listings truncate (`ls` drops the seconds), so the listed time is at most one
    // precision window below the real one.
    let off = want - got;
    if (0..precision.window()).contains(&off) {
        Ok(())
    } else {
        Err(format!(
            "mtime {got}, expected {want} at {precision:?} precision ({off:+} s off)"
        ))
    }
}

async fn read_all(r: &dyn Remote, path: &str, offset: u64) -> Result<Vec<u8>, String> {
    let mut stream = call(
        &format!("open `{path}` at {offset}"),
        r.open(&rp(path), offset),
    )
    .await?;
    let mut buf = Vec::new();
    match tokio::time::timeout(CALL_TIMEOUT, stream.read_to_end(&mut buf)).await {
        Ok(Ok(_)) => Ok(buf),
        Ok(Err(e)) => Err(format!("reading `{path}` at {offset}: {e}")),
        Err(_) => Err(format!(
            "reading `{path}` did not finish within {CALL_TIMEOUT:?}"
        )),
    }
}

async fn write_all(r: &dyn Remote, path: &RelPath, append: bool, bytes: &[u8]) -> CheckResult {
    let mut w = call(
        &format!("create `{path}` (append {append})"),
        r.create(path, append),
    )
    .await?;
    let io = async {
        w.write_all(bytes).await?;
        w.shutdown().await
    };
    match tokio::time::timeout(CALL_TIMEOUT, io).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("writing `{path}`: {e}")),
        Err(_) => Err(format!(
            "writing `{path}` did not finish within {CALL_TIMEOUT:?}"
        )),
    }
}

async fn expect_content(r: &dyn Remote, path: &RelPath, want: &[u8]) -> CheckResult {
    let got = read_all(r, path.as_str(), 0).await?;
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "`{path}` holds {:?}, expected {:?}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want)
        ))
    }
}
