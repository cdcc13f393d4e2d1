//! The local-folder backend (`site=file:///path`, and every local destination).
//!
//! [`LocalRemote`] serves two roles: it reads `file://` source trees, and it is the
//! destination every package is written through, so it is both the fastest backend (the
//! no-change run of a big tree is mostly its [`Remote::walk`]) and the one that enforces
//! safety invariant 3: no write, delete or symlink creation outside the root. Every write
//! method checks the path's directories with the write guard (`local/guard.rs`) first and
//! never follows a symlink in the final component.
//!
//! Blocking file-system calls run on tokio's blocking pool so the engine's runtime keeps
//! moving while a slow disk answers.

mod guard;
mod walk;

#[cfg(test)]
mod tests;

use std::fs;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use filetime::FileTime;
use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag};
use nix::sys::stat::{FchmodatFlags, Mode, fchmodat};
use nix::unistd::{Gid, Uid, fchownat};

use crate::{
    Entry, ErrorKind, Features, Kind, Listing, PathPredicate, Precision, ReadStream, RelPath,
    Remote, RemoteError, WalkOptions, WriteStream,
};

use guard::{Guard, abs_path, is_loop};

/// The `follow_local_symlinks` predicate: true for local symlinks to treat as what they
/// point to. The same type as [`WalkOptions::ignore`]'s.
pub type FollowFn = PathPredicate;

/// Options of a [`LocalRemote`].
#[derive(Clone, Default)]
pub struct LocalOptions {
    /// `follow_local_symlinks`: symlinks whose path matches are listed as what they point
    /// to (and walked into), and writes may go through them. `None` follows none.
    pub follow_symlinks: Option<Arc<PathPredicate>>,
}

impl std::fmt::Debug for LocalOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalOptions")
            .field("follow_symlinks", &self.follow_symlinks.is_some())
            .finish()
    }
}

/// A local folder as a [`Remote`]. Cheap to clone; clones share the cache of directories
/// proven safe to write through.
#[derive(Clone)]
pub struct LocalRemote {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    opts: LocalOptions,
    guard: Guard,
}

impl Inner {
    fn follow(&self) -> Option<&PathPredicate> {
        self.opts.follow_symlinks.as_deref()
    }

    /// `rel` joined onto the root after checking its directories are safe to write through.
    fn checked(&self, rel: &RelPath, what: &str) -> Result<PathBuf, RemoteError> {
        self.guard.checked(&self.root, self.follow(), rel, what)
    }
}

impl std::fmt::Debug for LocalRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRemote")
            .field("root", &self.inner.root)
            .field("opts", &self.inner.opts)
            .finish()
    }
}

impl LocalRemote {
    /// A remote rooted at `root`. The folder need not exist yet: [`Remote::walk`] then fails
    /// with [`ErrorKind::NotFound`], and [`Remote::mkdir`] of the root creates it.
    pub fn new(root: PathBuf, opts: LocalOptions) -> LocalRemote {
        LocalRemote {
            inner: Arc::new(Inner {
                root,
                opts,
                guard: Guard::default(),
            }),
        }
    }

    /// The folder this remote is rooted at.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// Runs `f` on the blocking pool: every call here is a file-system syscall or several.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, RemoteError> + Send + 'static,
    ) -> Result<T, RemoteError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| RemoteError::new(ErrorKind::Other, "local file-system task failed", e))?
    }
}

fn io_err(what: &str, path: &Path, e: &io::Error) -> RemoteError {
    RemoteError::io(format!("cannot {what} {}", path.display()), e)
}

fn nix_err(what: &str, path: &Path, e: Errno) -> RemoteError {
    io_err(what, path, &io::Error::from(e))
}

#[async_trait]
impl Remote for LocalRemote {
    fn features(&self) -> Features {
        Features {
            precision: Precision::Second,
            resume: true,
            write: true,
            rename: true,
            set_mtime: true,
            set_mode: true,
            symlinks: true,
            chown: true,
            // Local I/O has no per-connection limit; this only stops a runaway setting.
            max_parallel: 256,
        }
    }

    fn describe(&self) -> String {
        self.inner.root.display().to_string()
    }

    fn local_root(&self) -> Option<&Path> {
        Some(&self.inner.root)
    }

    async fn list(&self, dir: &RelPath) -> Result<Vec<Entry>, RemoteError> {
        let dir = dir.clone();
        self.blocking(move |i| walk::list(&i.root, i.follow(), &dir))
            .await
    }

    async fn walk(&self, opts: &WalkOptions) -> Result<Listing, RemoteError> {
        let opts = opts.clone();
        self.blocking(move |i| walk::walk(&i.root, i.follow(), &opts, &[]))
            .await
    }

    async fn walk_reusing(
        &self,
        opts: &WalkOptions,
        known: Arc<Listing>,
    ) -> Result<Listing, RemoteError> {
        let opts = opts.clone();
        self.blocking(move |i| walk::walk(&i.root, i.follow(), &opts, &known.entries))
            .await
    }

    /// `lstat` semantics: a symlink is reported as a symlink, unless `follow_symlinks`
    /// matches it (then as what it points to, like the walk).
    async fn stat(&self, path: &RelPath) -> Result<Option<Entry>, RemoteError> {
        let path = path.clone();
        self.blocking(move |i| {
            let abs = abs_path(&i.root, &path);
            let md = match fs::symlink_metadata(&abs) {
                Ok(md) => md,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_err("stat", &abs, &e)),
            };
            if !md.file_type().is_symlink() {
                return Ok(Some(walk::entry_for(path, &md)));
            }
            if i.follow().is_some_and(|f| f(&path))
                && let Ok(target_md) = fs::metadata(&abs)
            {
                return Ok(Some(walk::entry_for(path, &target_md)));
            }
            let target = fs::read_link(&abs).map_err(|e| io_err("read link", &abs, &e))?;
            let Some(target) = target.to_str() else {
                return Err(RemoteError::new(
                    ErrorKind::UnsafeName,
                    format!("cannot stat {}", abs.display()),
                    "symlink target is not valid UTF-8",
                ));
            };
            let mut entry = walk::entry_for(path, &md);
            entry.kind = Kind::Symlink(Box::from(target));
            Ok(Some(entry))
        })
        .await
    }

    async fn open(&self, path: &RelPath, offset: u64) -> Result<ReadStream, RemoteError> {
        let path = path.clone();
        let file = self
            .blocking(move |i| {
                let abs = abs_path(&i.root, &path);
                let mut file = fs::File::open(&abs).map_err(|e| io_err("open", &abs, &e))?;
                if offset > 0 {
                    file.seek(SeekFrom::Start(offset))
                        .map_err(|e| io_err("seek in", &abs, &e))?;
                }
                Ok(file)
            })
            .await?;
        Ok(Box::pin(tokio::fs::File::from_std(file)))
    }

    /// Never writes through a symlink: not in the directories (see the guard), and not in
    /// the final component (`O_NOFOLLOW`), where a planted `.in.x.` -> `/etc/passwd` would
    /// otherwise be truncated.
    async fn create(&self, path: &RelPath, append: bool) -> Result<WriteStream, RemoteError> {
        let path = path.clone();
        let file = self
            .blocking(move |i| {
                let abs = i.checked(&path, "create")?;
                let mut oo = fs::OpenOptions::new();
                oo.create(true).custom_flags(OFlag::O_NOFOLLOW.bits());
                if append {
                    oo.append(true);
                } else {
                    oo.write(true).truncate(true);
                }
                oo.open(&abs).map_err(|e| {
                    if is_loop(&e) {
                        RemoteError::new(
                            ErrorKind::UnsafeName,
                            format!("cannot create {}", abs.display()),
                            "it is a symlink: refusing to write through it",
                        )
                    } else {
                        io_err("create", &abs, &e)
                    }
                })
            })
            .await?;
        Ok(Box::pin(tokio::fs::File::from_std(file)))
    }

    /// `rename(2)`: the final components are never followed; a directory moved away or
    /// replaced is forgotten by the guard.
    async fn rename(&self, from: &RelPath, to: &RelPath) -> Result<(), RemoteError> {
        let (from, to) = (from.clone(), to.clone());
        self.blocking(move |i| {
            let src = i.checked(&from, "rename")?;
            let dst = i.checked(&to, "rename onto")?;
            let res = fs::rename(&src, &dst);
            i.guard.forget(&from);
            i.guard.forget(&to);
            res.map_err(|e| {
                RemoteError::io(
                    format!("cannot rename {} to {}", src.display(), dst.display()),
                    &e,
                )
            })
        })
        .await
    }

    /// Creates one directory; succeeds if a directory is already there. The root itself is
    /// created with its parents (mirror.pl creates a missing `local_dir` that way).
    async fn mkdir(&self, path: &RelPath) -> Result<(), RemoteError> {
        let path = path.clone();
        self.blocking(move |i| {
            if path.is_root() {
                return fs::create_dir_all(&i.root).map_err(|e| io_err("create", &i.root, &e));
            }
            let abs = i.checked(&path, "create directory")?;
            match fs::create_dir(&abs) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let md = fs::symlink_metadata(&abs)
                        .map_err(|e| io_err("create directory", &abs, &e))?;
                    // A symlink the operator asked to follow counts as the directory it
                    // points to, like everywhere else.
                    let followed_dir = md.file_type().is_symlink()
                        && i.follow().is_some_and(|f| f(&path))
                        && fs::metadata(&abs).is_ok_and(|t| t.is_dir());
                    if !md.is_dir() && !followed_dir {
                        return Err(RemoteError::new(
                            ErrorKind::Other,
                            format!("cannot create directory {}", abs.display()),
                            "something that is not a directory is in the way",
                        ));
                    }
                }
                Err(e) => return Err(io_err("create directory", &abs, &e)),
            }
            i.guard.insert(path.as_str());
            Ok(())
        })
        .await
    }

    /// `unlink(2)`: removes a file or the symlink itself, never what it points to.
    async fn remove_file(&self, path: &RelPath) -> Result<(), RemoteError> {
        let path = path.clone();
        self.blocking(move |i| {
            let abs = i.checked(&path, "delete")?;
            let res = fs::remove_file(&abs);
            // It may have been a followed link to a proven directory.
            i.guard.forget(&path);
            res.map_err(|e| io_err("delete", &abs, &e))
        })
        .await
    }

    /// `rmdir(2)`: only an empty directory; a symlink there fails (`ENOTDIR`).
    async fn remove_dir(&self, path: &RelPath) -> Result<(), RemoteError> {
        let path = path.clone();
        self.blocking(move |i| {
            let abs = i.checked(&path, "remove directory")?;
            let res = fs::remove_dir(&abs);
            i.guard.forget(&path);
            res.map_err(|e| io_err("remove directory", &abs, &e))
        })
        .await
    }

    /// Creates a symlink with the target text as given. The target is not checked here:
    /// a link is only text until something follows it, and the engine decides which
    /// targets to recreate.
    async fn symlink(&self, path: &RelPath, target: &str) -> Result<(), RemoteError> {
        let (path, target) = (path.clone(), target.to_owned());
        self.blocking(move |i| {
            let abs = i.checked(&path, "create symlink")?;
            let res = std::os::unix::fs::symlink(&target, &abs);
            i.guard.forget(&path);
            res.map_err(|e| io_err("create symlink", &abs, &e))
        })
        .await
    }

    /// Sets access and modification time (mirror.pl `utime(t, t)`), on the link itself for
    /// a symlink.
    async fn set_mtime(&self, path: &RelPath, mtime: i64) -> Result<(), RemoteError> {
        let path = path.clone();
        self.blocking(move |i| {
            let abs = i.checked(&path, "set the time of")?;
            let t = FileTime::from_unix_time(mtime, 0);
            filetime::set_symlink_file_times(&abs, t, t)
                .map_err(|e| io_err("set the time of", &abs, &e))
        })
        .await
    }

    /// Sets permission bits. Linux has no modes on symlinks, and `chmod` through one would
    /// change its target (maybe outside the root), so a symlink is refused.
    async fn set_mode(&self, path: &RelPath, mode: u32) -> Result<(), RemoteError> {
        let path = path.clone();
        self.blocking(move |i| {
            let abs = i.checked(&path, "chmod")?;
            let md = fs::symlink_metadata(&abs).map_err(|e| io_err("chmod", &abs, &e))?;
            if md.file_type().is_symlink() {
                return Err(RemoteError::new(
                    ErrorKind::Unsupported,
                    format!("cannot chmod {}", abs.display()),
                    "it is a symlink (symlinks have no mode of their own)",
                ));
            }
            let bits = mode & 0o7777;
            match fchmodat(
                AT_FDCWD,
                &abs,
                Mode::from_bits_truncate(bits),
                FchmodatFlags::NoFollowSymlink,
            ) {
                Ok(()) => Ok(()),
                // Older C libraries cannot chmod without following; it was not a symlink an
                // instant ago, so plain chmod is the fallback.
                Err(Errno::EOPNOTSUPP | Errno::ENOSYS) => {
                    fs::set_permissions(&abs, fs::Permissions::from_mode(bits))
                        .map_err(|e| io_err("chmod", &abs, &e))
                }
                Err(e) => Err(nix_err("chmod", &abs, e)),
            }
        })
        .await
    }

    /// `lchown` semantics: a symlink's own owner changes, never its target's.
    async fn chown(
        &self,
        path: &RelPath,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> Result<(), RemoteError> {
        let path = path.clone();
        self.blocking(move |i| {
            let abs = i.checked(&path, "chown")?;
            fchownat(
                AT_FDCWD,
                &abs,
                uid.map(Uid::from_raw),
                gid.map(Gid::from_raw),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map_err(|e| nix_err("chown", &abs, e))
        })
        .await
    }
}
