//! Timing of a no-change run of 100,000 files (the lead's goal: under one second and under
//! 300 bytes of peak memory per entry). Ignored by default; run it in release mode:
//!
//! ```text
//! cargo test -p mirror-sync --release --test perf -- --ignored --nocapture
//! ```
//!
//! The trees go to /dev/shm when it exists (see DESIGN.md: the disks here discard
//! slowly after bulk deletes).

// A benchmark reports its figures on stdout.
#![allow(clippy::print_stdout)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Instant;

use common::*;
use mirror_sync::PackageStatus;

const FILES: usize = 100_000;

fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

/// `VmRSS` / `VmHWM` of this process in bytes.
fn mem(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

/// Writes the same 100 × 1000 files into `src` and `dst` (same content, time and mode
/// mirror would give them), without going through the engine, so the measured run is
/// the first thing to allocate.
fn twin_trees(src: &Path, dst: &Path) {
    for d in 0..FILES / 1000 {
        for root in [src, dst] {
            fs::create_dir_all(root.join(format!("dir{d:03}"))).unwrap();
        }
        for f in 0..1000 {
            let rel = format!("dir{d:03}/file{f:04}.dat");
            for root in [src, dst] {
                put(&root.join(&rel), rel.as_bytes(), T0 + f as i64);
            }
            fs::set_permissions(dst.join(&rel), fs::Permissions::from_mode(0o444)).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
async fn no_change_run_of_100k_files() {
    let tmp = scratch();
    let fx = Fx {
        src: tmp.path().join("src"),
        dst: tmp.path().join("dst"),
        tmp,
    };
    twin_trees(&fx.src, &fx.dst);
    let mut pkg = fx.pkg();
    pkg.do_deletes = true;

    // Reset the peak so it measures the run alone.
    fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = mem("VmRSS:");
    let started = Instant::now();
    let (r, _) = run(&pkg, &fx.opts()).await;
    let took = started.elapsed();
    let peak = mem("VmHWM:");
    assert_eq!(
        r.status,
        PackageStatus::Ok,
        "{:?}",
        &r.lines[..r.lines.len().min(5)]
    );
    assert_eq!(r.counts, mirror_sync::Counts::default());
    let per_entry = (peak.saturating_sub(before)) as f64 / (FILES + FILES / 1000) as f64;
    println!(
        "no-change run of {FILES} files: {:.3} s, peak RSS +{:.1} MiB over {:.1} MiB ({per_entry:.0} bytes per entry, both listings)",
        took.as_secs_f64(),
        (peak.saturating_sub(before)) as f64 / 1048576.0,
        before as f64 / 1048576.0,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
async fn initial_mirror_of_100k_files() {
    let tmp = scratch();
    let fx = Fx {
        src: tmp.path().join("src"),
        dst: tmp.path().join("dst"),
        tmp,
    };
    for d in 0..FILES / 1000 {
        for f in 0..1000 {
            let rel = format!("dir{d:03}/file{f:04}.dat");
            put(&fx.src.join(&rel), rel.as_bytes(), T0);
        }
    }
    let started = Instant::now();
    let (r, _) = run(&fx.pkg(), &fx.opts()).await;
    let took = started.elapsed();
    assert_eq!(r.status, PackageStatus::Ok);
    assert_eq!(r.counts.files_fetched, FILES as u64);
    println!(
        "initial mirror of {FILES} files: {:.3} s",
        took.as_secs_f64()
    );
}
