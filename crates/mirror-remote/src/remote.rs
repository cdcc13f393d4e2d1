//! The [`Remote`] trait: the one interface between the sync engine and a storage protocol.
//!
//! A `Remote` is rooted: every path it takes is a [`RelPath`] below the root it was built
//! with (for a package, `site` + `remote_dir`, or `local_dir`). The read side (`list`,
//! `walk`, `open`) is required; the write side has default bodies that answer
//! [`ErrorKind::Unsupported`], and [`Features`] says which of them really work.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::{Entry, ErrorKind, Listing, ListingProblem, Precision, RelPath, RemoteError};

/// A byte stream read from a remote file.
pub type ReadStream = Pin<Box<dyn AsyncRead + Send>>;

/// A byte stream written to a remote file. The write is complete (and its errors known) only
/// once `poll_shutdown` has returned `Ok`: callers must call `shutdown()` and check it.
pub type WriteStream = Pin<Box<dyn AsyncWrite + Send>>;

/// What a remote can do beyond listing and reading. The engine consults these, so a backend
/// that lacks a power degrades gracefully instead of failing at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// The best time precision its listings give.
    pub precision: Precision,
    /// `open(path, offset)` with `offset > 0` resumes (FTP REST, HTTP Range, SFTP seek).
    pub resume: bool,
    /// `create`, `mkdir`, `remove_*` work.
    pub write: bool,
    /// `rename` replaces atomically, so uploads can go to a temporary name first.
    pub rename: bool,
    /// `set_mtime` works.
    pub set_mtime: bool,
    /// `set_mode` works.
    pub set_mode: bool,
    /// Symlinks are listed as symlinks and `symlink` works.
    pub symlinks: bool,
    /// `chown` works.
    pub chown: bool,
    /// How many transfers may run at once against it (FTP: one per connection; the engine
    /// caps `parallel` by this).
    pub max_parallel: usize,
}

impl Features {
    /// A read-only remote with the given time precision.
    pub fn read_only(precision: Precision) -> Self {
        Features {
            precision,
            resume: false,
            write: false,
            rename: false,
            set_mtime: false,
            set_mode: false,
            symlinks: false,
            chown: false,
            max_parallel: usize::MAX,
        }
    }
}

/// A test on a path, shared between threads: `local_ignore`, `follow_local_symlinks`.
pub type PathPredicate = dyn Fn(&RelPath) -> bool + Send + Sync;

/// Options for [`Remote::walk`].
#[derive(Clone, Default)]
pub struct WalkOptions {
    /// Descend into subdirectories (`recursive` keyword). False lists the top level only.
    pub recursive: bool,
    /// Paths (files or directories) for which this returns true are left out entirely and,
    /// for directories, not descended into (`local_ignore`).
    pub ignore: Option<Arc<PathPredicate>>,
}

impl std::fmt::Debug for WalkOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalkOptions")
            .field("recursive", &self.recursive)
            .field("ignore", &self.ignore.is_some())
            .finish()
    }
}

/// A tree of files reachable through one protocol.
///
/// Contracts every backend keeps:
/// - Names from the server are untrusted: a name that is not a valid [`RelPath`] segment is
///   left out of the listing and recorded in [`Listing::refused`], never returned.
/// - A directory that cannot be listed completely is recorded in [`Listing::incomplete`];
///   its absence of entries is never presented as emptiness.
/// - Errors name the path or URL concerned and never contain a password.
#[async_trait]
pub trait Remote: Send + Sync {
    /// What this remote can do.
    fn features(&self) -> Features;

    /// A human-readable name for reports: a URL or path with any password removed.
    fn describe(&self) -> String;

    /// The local folder behind this remote, if it is one (lets the engine copy file to file
    /// with the kernel's help, and move `save_deletes` entries).
    fn local_root(&self) -> Option<&Path> {
        None
    }

    /// Lists one directory (not recursively). `dir` is the root for the top level.
    /// Fails with [`ErrorKind::NotFound`] if `dir` does not exist.
    async fn list(&self, dir: &RelPath) -> Result<Vec<Entry>, RemoteError>;

    /// Lists the whole tree below the root. The default walks breadth-first with
    /// [`Remote::list`], marking a directory incomplete when its listing fails; backends
    /// with a faster recursive listing (ls -lR, S3 flat listing) override it.
    async fn walk(&self, opts: &WalkOptions) -> Result<Listing, RemoteError> {
        let mut listing = Listing::default();
        let mut queue = std::collections::VecDeque::from([RelPath::root()]);
        while let Some(dir) = queue.pop_front() {
            let entries = match self.list(&dir).await {
                Ok(e) => e,
                Err(e) if dir.is_root() => return Err(e),
                Err(e) => {
                    listing.incomplete.push(ListingProblem {
                        path: dir,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            for entry in entries {
                if opts.ignore.as_ref().is_some_and(|ign| ign(&entry.path)) {
                    continue;
                }
                if entry.kind.is_dir() && opts.recursive {
                    queue.push_back(entry.path.clone());
                }
                listing.entries.push(entry);
            }
        }
        listing.normalize();
        Ok(listing)
    }

    /// Like [`Remote::walk`], and with the same result, but free to reuse the path
    /// allocations of `known` (a normalized listing of a tree expected to be similar: the
    /// other side of a mirror) for the paths both trees have. Listings are most of a run's
    /// memory; for a mirror that is mostly up to date this stores each path once instead of
    /// once per side. The default ignores `known`.
    async fn walk_reusing(
        &self,
        opts: &WalkOptions,
        known: Arc<Listing>,
    ) -> Result<Listing, RemoteError> {
        let _ = known;
        self.walk(opts).await
    }

    /// Facts about one path, or `None` if it does not exist.
    async fn stat(&self, path: &RelPath) -> Result<Option<Entry>, RemoteError>;

    /// The modification time of a file to the second, for when its listing gave only the
    /// minute or the day ([`Features::precision`] says whether this can do better than the
    /// listing). `None` when the remote cannot tell, or the file is gone. The default asks
    /// [`Remote::stat`]; backends with a cheaper question (FTP `MDTM`) override it.
    async fn exact_mtime(&self, path: &RelPath) -> Result<Option<i64>, RemoteError> {
        Ok(self
            .stat(path)
            .await?
            .filter(|e| e.precision == Precision::Second)
            .and_then(|e| e.mtime))
    }

    /// Opens a file for reading from byte `offset` (0 = the start). Offsets above 0 need
    /// [`Features::resume`].
    async fn open(&self, path: &RelPath, offset: u64) -> Result<ReadStream, RemoteError>;

    /// Creates (truncating) or, with `append`, extends a file for writing. The parent
    /// directory must exist.
    async fn create(&self, path: &RelPath, append: bool) -> Result<WriteStream, RemoteError> {
        let _ = append;
        Err(unsupported(self, "write", path))
    }

    /// Renames `from` to `to`, replacing a file at `to` (not a directory).
    async fn rename(&self, from: &RelPath, to: &RelPath) -> Result<(), RemoteError> {
        let _ = to;
        Err(unsupported(self, "rename", from))
    }

    /// Creates one directory (its parent must exist). Succeeds if it already exists.
    async fn mkdir(&self, path: &RelPath) -> Result<(), RemoteError> {
        Err(unsupported(self, "mkdir", path))
    }

    /// Removes a file or symlink.
    async fn remove_file(&self, path: &RelPath) -> Result<(), RemoteError> {
        Err(unsupported(self, "delete", path))
    }

    /// Removes an empty directory.
    async fn remove_dir(&self, path: &RelPath) -> Result<(), RemoteError> {
        Err(unsupported(self, "rmdir", path))
    }

    /// Creates a symlink at `path` pointing to `target` (text as given).
    async fn symlink(&self, path: &RelPath, target: &str) -> Result<(), RemoteError> {
        let _ = target;
        Err(unsupported(self, "symlink", path))
    }

    /// Sets the modification time (Unix seconds).
    async fn set_mtime(&self, path: &RelPath, mtime: i64) -> Result<(), RemoteError> {
        let _ = mtime;
        Err(unsupported(self, "set time", path))
    }

    /// Sets the permission bits.
    async fn set_mode(&self, path: &RelPath, mode: u32) -> Result<(), RemoteError> {
        let _ = mode;
        Err(unsupported(self, "chmod", path))
    }

    /// Sets owner and group (numeric ids; `None` leaves one unchanged).
    async fn chown(
        &self,
        path: &RelPath,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> Result<(), RemoteError> {
        let _ = (uid, gid);
        Err(unsupported(self, "chown", path))
    }
}

fn unsupported<R: Remote + ?Sized>(remote: &R, what: &str, path: &RelPath) -> RemoteError {
    RemoteError::new(
        ErrorKind::Unsupported,
        format!("cannot {what} `{path}` on {}", remote.describe()),
        "not supported by this remote",
    )
}
