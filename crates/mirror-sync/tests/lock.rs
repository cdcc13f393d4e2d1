//! One run per package (safety invariant 5): while another run holds the package's lock a
//! second run skips (LockMode::Skip) or waits (LockMode::Wait) until the lock is free or
//! the run is cancelled. Its own test binary: it looks at the shared lock directory.

mod common;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use common::*;
use mirror_sync::{LockMode, PackageStatus, RunOptions};

/// Where the lock files are, by the documented rule.
fn lock_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("MIRROR_LOCK_DIR")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.push("/run/lock/mirror".into());
    dirs.push(std::env::temp_dir().join("mirror-locks"));
    dirs
}

fn find_lock(prefix: &str) -> PathBuf {
    for dir in lock_dirs() {
        if let Ok(rd) = fs::read_dir(&dir) {
            for de in rd.flatten() {
                if de.file_name().to_string_lossy().starts_with(prefix) {
                    return de.path();
                }
            }
        }
    }
    panic!("no lock file for {prefix}");
}

#[tokio::test]
async fn a_second_run_of_a_locked_package_skips_or_waits() {
    let fx = Fx::new();
    fx.put_src("a", b"a", T0);
    let mut pkg = fx.pkg();
    let name = format!("locktest-{}", std::process::id());
    pkg.package = name.clone();
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok);
    let lock_file = find_lock(&format!("{name}-"));
    assert!(
        !lock_file.starts_with(&fx.dst),
        "the lock is never inside the tree"
    );

    // Another process (here: this test) holds the lock.
    let held = fs::OpenOptions::new().write(true).open(&lock_file).unwrap();
    held.try_lock().unwrap();
    fx.put_src("b", b"b", T0);

    let skip = RunOptions {
        lock: LockMode::Skip,
        ..fx.opts()
    };
    let (r, ev) = run(&pkg, &skip).await;
    assert_eq!(r.status, PackageStatus::Skipped);
    assert_eq!(r.status.exit_code(), 0);
    assert!(ev.has("another run holds its lock"), "{:?}", ev.texts());
    assert!(!fx.dst.join("b").exists());

    // Waiting ends when the lock is released...
    let wait = RunOptions {
        lock: LockMode::Wait,
        ..fx.opts()
    };
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(held);
    });
    let (r, ev) = run(&pkg, &wait).await;
    release.await.unwrap();
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert!(ev.has("is locked by another run"));
    assert!(fx.dst.join("b").exists());

    // ... or when the run is cancelled.
    let held = fs::OpenOptions::new().write(true).open(&lock_file).unwrap();
    held.try_lock().unwrap();
    let wait = RunOptions {
        lock: LockMode::Wait,
        ..fx.opts()
    };
    let cancel = wait.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
    });
    let (r, _) = run(&pkg, &wait).await;
    assert_eq!(r.status, PackageStatus::Cancelled);

    // A dry run takes no lock at all.
    let dry = RunOptions {
        dry_run: true,
        ..fx.opts()
    };
    let (r, _) = run(&pkg, &dry).await;
    assert_eq!(r.status, PackageStatus::Ok);
    drop(held);
}
