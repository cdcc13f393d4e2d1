//! How fast the local walk is on a big tree (run with
//! `cargo test --release -p mirror-remote --test walk_bench -- --ignored --nocapture`).
//!
//! Ignored by default: generating 100,000 files takes longer than the rest of the tests.
//! The tree goes to tmpfs (`/dev/shm`) when there is one, as DESIGN.md asks of benchmarks.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mirror_remote::local::{LocalOptions, LocalRemote};
use mirror_remote::{Remote, WalkOptions};

const FILES: usize = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: generates 100,000 files"]
#[allow(clippy::print_stderr)]
async fn walk_of_100k_files_is_fast() {
    let base = if Path::new("/dev/shm").is_dir() {
        Path::new("/dev/shm")
    } else {
        Path::new("/tmp")
    };
    let tmp = tempfile::tempdir_in(base).unwrap();
    // MIRROR_BENCH_TREE keeps the tree between runs (for profiling): generated if absent.
    let root = match std::env::var_os("MIRROR_BENCH_TREE") {
        Some(dir) => PathBuf::from(dir),
        None => tmp.path().to_path_buf(),
    };
    let started = Instant::now();
    if !root.join(".generated").exists() {
        let made = mirror_testkit::generate(&root, FILES, 42);
        eprintln!("generated {made:?} in {:?}", started.elapsed());
        std::fs::write(root.join(".generated"), "").unwrap();
    }

    let remote = LocalRemote::new(root, LocalOptions::default());
    let opts = WalkOptions {
        recursive: true,
        ignore: None,
    };
    let mut best = Duration::MAX;
    for round in 0..5 {
        let t = Instant::now();
        let listing = remote.walk(&opts).await.unwrap();
        let took = t.elapsed();
        eprintln!(
            "walk {round}: {} entries in {took:?}",
            listing.entries.len()
        );
        // The files, their folders and the `.generated` marker.
        assert_eq!(listing.entries.len(), FILES + FILES.div_ceil(92) - 1 + 1);
        assert!(listing.is_complete());
        best = best.min(took);
    }
    // The warm-cache budget: the whole no-change run must stay under a second.
    let budget = if cfg!(debug_assertions) {
        Duration::from_secs(2)
    } else {
        Duration::from_millis(500)
    };
    eprintln!("best walk of {FILES} files: {best:?} (budget {budget:?})");
    assert!(best < budget, "walk took {best:?}, budget {budget:?}");
}
