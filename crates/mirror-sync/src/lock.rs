//! One run per package at a time (safety invariant 5): an advisory lock on a file named
//! after the package and its local folder, held for the whole run. The kernel drops the
//! lock when the process dies, so a crashed run never leaves a stale lock behind.
//!
//! Lock files live in `$MIRROR_LOCK_DIR` if set, else `/run/lock/mirror` if it can be
//! created, else `<temp dir>/mirror-locks` — never inside a mirrored tree.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::events::LockMode;

/// A held package lock; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct PackageLock {
    _file: File,
    /// Where the lock file is.
    pub path: PathBuf,
}

/// What happened when taking the lock.
#[derive(Debug)]
pub(crate) enum Acquired {
    /// The lock is held.
    Held(PackageLock),
    /// Another run holds it and the mode is [`LockMode::Skip`].
    Busy(PathBuf),
    /// The run was cancelled while waiting.
    Cancelled,
}

/// FNV-1a: a hash that is the same in every build (the std hasher does not promise that),
/// so two mirror binaries agree on the lock file name.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The lock file's name: the package name (made file-safe) and a hash of the local folder,
/// so two packages of the same name mirroring to different places do not block each other.
pub(crate) fn lock_name(package: &str, local_dir: &Path) -> String {
    let safe: String = package
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hash = fnv1a(local_dir.as_os_str().as_encoded_bytes());
    format!("{safe}-{hash:016x}.lock")
}

/// The directory lock files go in; `tree` is the mirrored folder, which it must not be in.
pub(crate) fn lock_dir(tree: &Path) -> PathBuf {
    let candidates = std::env::var_os("MIRROR_LOCK_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            PathBuf::from("/run/lock/mirror"),
            std::env::temp_dir().join("mirror-locks"),
        ]);
    for dir in candidates {
        if dir.starts_with(tree) {
            continue;
        }
        if std::fs::create_dir_all(&dir).is_ok() && writable(&dir) {
            return dir;
        }
    }
    std::env::temp_dir()
}

fn writable(dir: &Path) -> bool {
    nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok()
}

/// Takes the package lock for `local_dir` (already resolved to an absolute path).
pub(crate) async fn acquire(
    package: &str,
    local_dir: &Path,
    mode: LockMode,
    cancel: &CancellationToken,
    mut on_wait: impl FnMut(&Path),
) -> std::io::Result<Acquired> {
    let path = lock_dir(local_dir).join(lock_name(package, local_dir));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Acquired::Held(PackageLock { _file: file, path })),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        if mode == LockMode::Skip {
            return Ok(Acquired::Busy(path));
        }
        if !told {
            on_wait(&path);
            told = true;
        }
        // Polling keeps the wait cancellable; a blocking lock() could not be interrupted.
        tokio::select! {
            () = cancel.cancelled() => return Ok(Acquired::Cancelled),
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_safe() {
        let a = lock_name("gnu/pkg 1", Path::new("/srv/gnu"));
        assert!(a.starts_with("gnu_pkg_1-"), "{a}");
        assert_eq!(a, lock_name("gnu/pkg 1", Path::new("/srv/gnu")));
        assert_ne!(a, lock_name("gnu/pkg 1", Path::new("/srv/gnu2")));
    }

    #[test]
    fn lock_dir_is_never_inside_the_tree() {
        let tmp = std::env::temp_dir();
        let dir = lock_dir(&tmp);
        assert!(!dir.starts_with(&tmp) || dir == tmp, "{dir:?}");
    }

    #[tokio::test]
    async fn second_lock_is_busy() {
        let tree = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let Acquired::Held(first) = acquire("lk", tree.path(), LockMode::Skip, &cancel, |_| {})
            .await
            .unwrap()
        else {
            panic!("first lock not held")
        };
        let second = acquire("lk", tree.path(), LockMode::Skip, &cancel, |_| {})
            .await
            .unwrap();
        assert!(matches!(second, Acquired::Busy(ref p) if *p == first.path));
        drop(first);
        let third = acquire("lk", tree.path(), LockMode::Skip, &cancel, |_| {})
            .await
            .unwrap();
        assert!(matches!(third, Acquired::Held(_)));
    }
}
