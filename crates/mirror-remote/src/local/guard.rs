//! The write guard of [`super::LocalRemote`]: proves that every directory a write goes
//! through is a real directory inside the root (safety invariant 3), and remembers the
//! directories it has proved so a run of thousands of writes pays for each check once.
//!
//! A local tree may hold symlinks (`pub -> /srv/elsewhere`, or one planted by a hostile
//! listing in an earlier run). The kernel follows a symlink in the middle of a path, so
//! `create("pub/x")` would write outside the root. Before any write, every intermediate
//! component is `lstat`ed: a real directory passes, a symlink passes only when the operator
//! asked for it with `follow_local_symlinks`, anything else is refused.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::{ErrorKind, RelPath, RemoteError};

use crate::PathPredicate;

/// The set of directories (relative paths, root excluded) proven safe to write through.
///
/// Invariant: a path is in the set only if each of its ancestors was proven when it was
/// added; forgetting a path forgets everything below it. So the parent alone being present
/// proves the whole chain, and the common case costs one hash lookup.
#[derive(Default)]
pub(super) struct Guard {
    verified: Mutex<HashSet<Box<str>>>,
}

impl Guard {
    /// Checks that `rel`'s parent chain is safe and returns `rel` joined onto `root`.
    ///
    /// Fails with [`ErrorKind::UnsafeName`] when an intermediate component is a symlink that
    /// `follow` does not match, or is not a directory; with [`ErrorKind::NotFound`] when a
    /// component is missing. `what` names the operation for the error message.
    pub(super) fn checked(
        &self,
        root: &Path,
        follow: Option<&PathPredicate>,
        rel: &RelPath,
        what: &str,
    ) -> Result<PathBuf, RemoteError> {
        let abs = abs_path(root, rel);
        let Some(parent) = rel.parent() else {
            return Ok(abs);
        };
        if parent.is_root() || self.contains(parent.as_str()) {
            return Ok(abs);
        }
        // Slow path: prove each component from the top down, recording each as proven.
        let s = parent.as_str();
        let ends = s
            .match_indices('/')
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()));
        for end in ends {
            let prefix = &s[..end];
            if self.contains(prefix) {
                continue;
            }
            let path = root.join(prefix);
            let refuse = |cause: String| {
                RemoteError::new(
                    ErrorKind::UnsafeName,
                    format!("cannot {what} {}", abs.display()),
                    cause,
                )
            };
            match fs::symlink_metadata(&path) {
                Ok(md) if md.is_dir() => {}
                Ok(md) if md.file_type().is_symlink() => {
                    let followed =
                        follow.is_some_and(|f| RelPath::new(prefix).is_ok_and(|p| f(&p)));
                    if !followed {
                        return Err(refuse(format!(
                            "`{prefix}` is a symlink: refusing to write through it \
                             (follow_local_symlinks does not match it)"
                        )));
                    }
                    match fs::metadata(&path) {
                        Ok(t) if t.is_dir() => {}
                        Ok(_) => {
                            return Err(refuse(format!(
                                "followed symlink `{prefix}` does not point to a directory"
                            )));
                        }
                        Err(e) => {
                            return Err(RemoteError::io(
                                format!("cannot {what} {}: `{prefix}`", abs.display()),
                                &e,
                            ));
                        }
                    }
                }
                Ok(_) => return Err(refuse(format!("`{prefix}` is not a directory"))),
                Err(e) => {
                    return Err(RemoteError::io(
                        format!("cannot {what} {}: `{prefix}`", abs.display()),
                        &e,
                    ));
                }
            }
            self.insert(prefix);
        }
        Ok(abs)
    }

    /// Records `dir` (whose parent chain was just checked) as a proven directory.
    pub(super) fn insert(&self, dir: &str) {
        if !dir.is_empty() {
            self.lock().insert(Box::from(dir));
        }
    }

    /// Forgets `path` and everything below it: called after an operation that may have
    /// removed or replaced a directory there (rmdir, rename, symlink, unlink).
    pub(super) fn forget(&self, path: &RelPath) {
        let mut set = self.lock();
        // By the invariant, nothing below `path` is present unless `path` itself is.
        if set.remove(path.as_str()) {
            let p = path.as_str();
            set.retain(|d| {
                !(d.len() > p.len() && d.starts_with(p) && d.as_bytes()[p.len()] == b'/')
            });
        }
    }

    fn contains(&self, dir: &str) -> bool {
        self.lock().contains(dir)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<Box<str>>> {
        // A panic while holding the lock cannot leave the set inconsistent (single
        // insert/remove calls), so a poisoned lock is still usable.
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `rel` joined onto `root` (the root itself for the empty path).
pub(super) fn abs_path(root: &Path, rel: &RelPath) -> PathBuf {
    if rel.is_root() {
        root.to_path_buf()
    } else {
        root.join(rel.as_str())
    }
}

/// True if the I/O error is `ELOOP`, which `O_NOFOLLOW` returns for a final symlink.
pub(super) fn is_loop(e: &io::Error) -> bool {
    e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32)
}
