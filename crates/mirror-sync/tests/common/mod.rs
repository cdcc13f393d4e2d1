//! Shared helpers of the mirror-sync integration tests: a source and a destination folder
//! in a temp dir, a package pointing from one to the other, an event recorder, a recursive
//! snapshot of a tree, and thin `Remote` wrappers that change what a real local folder
//! claims to be able to do (precision, rename, faults).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use mirror_config::{Package, Scheme, Site};
use mirror_remote::local::{LocalOptions, LocalRemote};
use mirror_remote::{
    Entry, Features, Listing, Precision, ReadStream, RelPath, Remote, RemoteError, WalkOptions,
    WriteStream,
};
use mirror_sync::{Events, PackageReport, Progress, RunOptions};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// A time well in the past for test files.
pub const T0: i64 = 1_600_000_000;

/// A source folder and a (not yet existing) destination folder.
pub struct Fx {
    pub tmp: tempfile::TempDir,
    pub src: PathBuf,
    pub dst: PathBuf,
}

impl Fx {
    pub fn new() -> Fx {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        let dst = tmp.path().join("dst");
        fs::create_dir(&src).unwrap();
        Fx { tmp, src, dst }
    }

    /// A get-mode package from `src` (as `file://`) to `dst`.
    pub fn pkg(&self) -> Package {
        let mut p = Package::builtin("test", "localhost", "me@localhost");
        p.site = Some(Site {
            scheme: Scheme::File,
            host: String::new(),
            port: None,
            user: None,
            password: None,
            path: self.src.display().to_string(),
        });
        p.site_text = format!("file://{}", self.src.display());
        p.remote_dir = "/".into();
        p.local_dir = self.dst.display().to_string();
        p
    }

    pub fn opts(&self) -> RunOptions {
        RunOptions {
            start_dir: self.tmp.path().to_path_buf(),
            ..RunOptions::default()
        }
    }

    pub fn put_src(&self, rel: &str, data: &[u8], mtime: i64) {
        put(&self.src.join(rel), data, mtime);
    }

    pub fn put_dst(&self, rel: &str, data: &[u8], mtime: i64) {
        put(&self.dst.join(rel), data, mtime);
    }
}

/// Writes a file (creating its folders) and sets its mtime.
pub fn put(path: &Path, data: &[u8], mtime: i64) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    if path.exists() {
        let mut perm = fs::metadata(path).unwrap().permissions();
        perm.set_mode(0o644);
        fs::set_permissions(path, perm).unwrap();
    }
    fs::write(path, data).unwrap();
    set_mtime(path, mtime);
}

pub fn set_mtime(path: &Path, t: i64) {
    let f = fs::File::open(path).unwrap();
    let when = UNIX_EPOCH + Duration::from_secs(t as u64);
    f.set_times(fs::FileTimes::new().set_modified(when).set_accessed(when))
        .unwrap();
}

pub fn mtime(path: &Path) -> i64 {
    fs::symlink_metadata(path).unwrap().mtime()
}

pub fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

/// Records every message and progress event.
#[derive(Default)]
pub struct Collect {
    pub msgs: Mutex<Vec<(u8, String)>>,
    pub progress: Mutex<Vec<Progress>>,
}

impl Events for Collect {
    fn message(&self, level: u8, text: &str) {
        self.msgs.lock().unwrap().push((level, text.to_owned()));
    }
    fn progress(&self, event: Progress) {
        self.progress.lock().unwrap().push(event);
    }
}

impl Collect {
    pub fn texts(&self) -> Vec<String> {
        self.msgs
            .lock()
            .unwrap()
            .iter()
            .map(|(_, t)| t.clone())
            .collect()
    }
    pub fn has(&self, needle: &str) -> bool {
        self.texts().iter().any(|t| t.contains(needle))
    }
}

pub async fn run(pkg: &Package, opts: &RunOptions) -> (PackageReport, Collect) {
    let ev = Collect::default();
    let r = mirror_sync::run_package(pkg, opts, &ev).await;
    (r, ev)
}

pub async fn run_on(
    pkg: &Package,
    opts: &RunOptions,
    site: Arc<dyn Remote>,
) -> (PackageReport, Collect) {
    let ev = Collect::default();
    let r = mirror_sync::run_package_on(pkg, opts, &ev, site).await;
    (r, ev)
}

pub fn has_line(r: &PackageReport, needle: &str) -> bool {
    r.lines.iter().any(|l| l.contains(needle))
}

/// What a snapshot records of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snap {
    pub kind: char,
    pub content: Vec<u8>,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    pub mode: u32,
    pub ino: u64,
}

/// Every path below `root` with its content (or link target), times, mode and inode.
pub fn snapshot(root: &Path) -> BTreeMap<String, Snap> {
    let mut out = BTreeMap::new();
    if !root.exists() {
        return out;
    }
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for de in fs::read_dir(&dir).unwrap() {
            let p = de.unwrap().path();
            let md = fs::symlink_metadata(&p).unwrap();
            let (kind, content) = if md.file_type().is_symlink() {
                (
                    'l',
                    fs::read_link(&p)
                        .unwrap()
                        .to_string_lossy()
                        .as_bytes()
                        .to_vec(),
                )
            } else if md.is_dir() {
                stack.push(p.clone());
                ('d', Vec::new())
            } else {
                ('f', fs::read(&p).unwrap_or_default())
            };
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(
                rel,
                Snap {
                    kind,
                    content,
                    mtime: (md.mtime(), md.mtime_nsec()),
                    ctime: (md.ctime(), md.ctime_nsec()),
                    mode: md.mode(),
                    ino: md.ino(),
                },
            );
        }
    }
    out
}

/// Files (not dirs) below `root`, relative.
pub fn files(root: &Path) -> Vec<String> {
    snapshot(root)
        .into_iter()
        .filter(|(_, s)| s.kind == 'f')
        .map(|(p, _)| p)
        .collect()
}

/// A real local folder that claims other powers: a listing precision, no rename, no
/// set_mtime, or a read that breaks after some bytes for one path.
pub struct Wrapped {
    pub inner: LocalRemote,
    pub precision: Precision,
    pub rename: bool,
    pub set_mtime: bool,
    /// (path, bytes delivered before the read fails)
    pub fail: Option<(String, usize)>,
    /// A directory whose listing "fails": its contents are left out and it is reported
    /// incomplete, as a backend does when a subdirectory cannot be listed.
    pub incomplete: Option<String>,
}

impl Wrapped {
    pub fn new(root: &Path) -> Wrapped {
        Wrapped {
            inner: LocalRemote::new(root.to_path_buf(), LocalOptions::default()),
            precision: Precision::Second,
            rename: true,
            set_mtime: true,
            fail: None,
            incomplete: None,
        }
    }

    fn adjust(&self, mut e: Entry) -> Entry {
        if self.precision != Precision::Second {
            e.precision = self.precision;
            e.mtime = e.mtime.map(|t| self.precision.truncate(t));
        }
        e
    }
}

/// A reader that always fails, like a connection reset mid-transfer.
struct Broken;

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset (injected)",
        )))
    }
}

#[async_trait]
impl Remote for Wrapped {
    fn features(&self) -> Features {
        let mut f = self.inner.features();
        f.precision = self.precision;
        f.rename = self.rename;
        f.set_mtime = self.set_mtime;
        f
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn list(&self, dir: &RelPath) -> Result<Vec<Entry>, RemoteError> {
        Ok(self
            .inner
            .list(dir)
            .await?
            .into_iter()
            .map(|e| self.adjust(e))
            .collect())
    }
    async fn walk(&self, opts: &WalkOptions) -> Result<Listing, RemoteError> {
        let mut l = self.inner.walk(opts).await?;
        l.entries = l.entries.into_iter().map(|e| self.adjust(e)).collect();
        if let Some(dir) = &self.incomplete {
            let dir = RelPath::new(dir).unwrap();
            l.entries
                .retain(|e| e.path == dir || !e.path.starts_with(&dir));
            l.incomplete.push(mirror_remote::ListingProblem {
                path: dir,
                message: "timed out (injected)".into(),
            });
        }
        Ok(l)
    }
    async fn stat(&self, path: &RelPath) -> Result<Option<Entry>, RemoteError> {
        Ok(self.inner.stat(path).await?.map(|e| self.adjust(e)))
    }
    async fn open(&self, path: &RelPath, offset: u64) -> Result<ReadStream, RemoteError> {
        let mut r = self.inner.open(path, offset).await?;
        match &self.fail {
            Some((p, n)) if p == path.as_str() => {
                let mut head = vec![0u8; *n];
                r.read_exact(&mut head).await.unwrap();
                Ok(Box::pin(std::io::Cursor::new(head).chain(Broken)))
            }
            _ => Ok(r),
        }
    }
    async fn create(&self, path: &RelPath, append: bool) -> Result<WriteStream, RemoteError> {
        self.inner.create(path, append).await
    }
    async fn rename(&self, from: &RelPath, to: &RelPath) -> Result<(), RemoteError> {
        assert!(self.rename, "rename called on a remote without rename");
        self.inner.rename(from, to).await
    }
    async fn mkdir(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.inner.mkdir(path).await
    }
    async fn remove_file(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.inner.remove_file(path).await
    }
    async fn remove_dir(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.inner.remove_dir(path).await
    }
    async fn symlink(&self, path: &RelPath, target: &str) -> Result<(), RemoteError> {
        self.inner.symlink(path, target).await
    }
    async fn set_mtime(&self, path: &RelPath, mtime: i64) -> Result<(), RemoteError> {
        assert!(self.set_mtime, "set_mtime called on a remote without it");
        self.inner.set_mtime(path, mtime).await
    }
    async fn set_mode(&self, path: &RelPath, mode: u32) -> Result<(), RemoteError> {
        self.inner.set_mode(path, mode).await
    }
    async fn chown(
        &self,
        path: &RelPath,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> Result<(), RemoteError> {
        self.inner.chown(path, uid, gid).await
    }
}
