//! Get mode on real temp trees: the initial mirror, re-runs with nothing to do, every
//! reason to fetch (§4.4, §4.9), precision, `-n`, `-T`, type changes, and deletions with
//! every safety limit of §4.8.

mod common;

use std::fs;
use std::sync::Arc;

use common::*;
use mirror_config::{DeleteLimit, Pattern};
use mirror_remote::Precision;
use mirror_sync::PackageStatus;

fn pat(s: &str) -> Pattern {
    Pattern {
        source: s.into(),
        regex: fancy_regex::Regex::new(s).unwrap(),
    }
}

#[tokio::test]
async fn initial_mirror_copies_everything_with_modes_and_times() {
    let fx = Fx::new();
    fx.put_src("a.txt", b"hello", T0);
    fx.put_src("d/b.bin", &[7u8; 3000], T0 + 10);
    fs::create_dir_all(fx.src.join("d/e/empty")).unwrap();

    let (r, ev) = run(&fx.pkg(), &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{r:#?}");
    assert_eq!(r.counts.files_fetched, 2);
    assert_eq!(r.counts.bytes_fetched, 3005);
    assert_eq!(r.counts.dirs_created, 3);
    assert!(r.listing_complete);
    assert_eq!(fs::read(fx.dst.join("a.txt")).unwrap(), b"hello");
    assert_eq!(fs::read(fx.dst.join("d/b.bin")).unwrap(), vec![7u8; 3000]);
    assert!(fx.dst.join("d/e/empty").is_dir());
    assert_eq!(mtime(&fx.dst.join("a.txt")), T0);
    assert_eq!(mtime(&fx.dst.join("d/b.bin")), T0 + 10);
    assert_eq!(mode(&fx.dst.join("a.txt")), 0o444);
    assert_eq!(mode(&fx.dst.join("d")), 0o755);
    assert!(has_line(
        &r,
        &format!("Created local dir {}", fx.dst.display())
    ));
    assert!(has_line(&r, "Got a.txt 5 "), "{:?}", r.lines);
    assert!(has_line(&r, "Got d/b.bin 3000 "));
    assert!(ev.has(&format!(
        "package=test file://{}:/ -> {}",
        fx.src.display(),
        fx.dst.display()
    )));
    // No temp file is left behind.
    assert!(snapshot(&fx.dst).keys().all(|k| !k.contains(".in.")));
    // Progress: the plan, then one start and one done per file.
    let progress = ev.progress.lock().unwrap().clone();
    assert_eq!(
        progress[0],
        mirror_sync::Progress::PlanReady {
            files: 2,
            bytes: 3005
        }
    );
    assert_eq!(
        progress
            .iter()
            .filter(|p| matches!(p, mirror_sync::Progress::FileDone { ok: true, .. }))
            .count(),
        2
    );
}

#[tokio::test]
async fn rerun_with_nothing_to_do_writes_nothing() {
    let fx = Fx::new();
    for i in 0..20 {
        fx.put_src(
            &format!("d{}/f{i}", i % 3),
            format!("content {i}").as_bytes(),
            T0 + i,
        );
    }
    std::os::unix::fs::symlink("d0/f0", fx.src.join("link")).unwrap();
    let mut pkg = fx.pkg();
    pkg.do_deletes = true;
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    let before = snapshot(&fx.dst);
    let (r, ev) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok);
    assert_eq!(r.counts, mirror_sync::Counts::default());
    assert!(r.lines.is_empty(), "{:?}", r.lines);
    assert!(ev.has("No files to transfer"));
    // Same inodes, contents, mtimes, modes, and ctimes: not even a chmod or utime.
    assert_eq!(snapshot(&fx.dst), before);
}

#[tokio::test]
async fn fetches_what_is_newer_or_resized_and_ignores_exactly_one_hour() {
    let fx = Fx::new();
    for name in [
        "same",
        "newer",
        "resized",
        "older_resized",
        "older",
        "h3600",
        "h3601",
    ] {
        fx.put_src(name, b"12345", T0);
    }
    let pkg = fx.pkg();
    run(&pkg, &fx.opts()).await;

    fx.put_src("newer", b"abcde", T0 + 60); // same size, newer
    fx.put_src("resized", b"123456", T0); // same time, other size
    fx.put_src("older_resized", b"1234", T0 - 100); // older but another size
    fx.put_src("older", b"zzzzz", T0 - 100); // older, same size: never fetched
    fx.put_src("h3600", b"ABCDE", T0 + 3600); // exactly one hour: DST, ignored
    fx.put_src("h3601", b"ABCDE", T0 + 3601);
    let (r, _) = run(&pkg, &fx.opts()).await;
    let got: Vec<&str> = r
        .lines
        .iter()
        .filter_map(|l| l.strip_prefix("Got "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let mut got = got;
    got.sort();
    assert_eq!(
        got,
        ["h3601", "newer", "older_resized", "resized"],
        "{:?}",
        r.lines
    );
    assert_eq!(fs::read(fx.dst.join("newer")).unwrap(), b"abcde");
    assert_eq!(fs::read(fx.dst.join("older")).unwrap(), b"12345");
    assert_eq!(fs::read(fx.dst.join("h3600")).unwrap(), b"12345");
    assert_eq!(mtime(&fx.dst.join("older_resized")), T0 - 100);
}

#[tokio::test]
async fn minute_precision_listing_compares_at_the_minute() {
    let fx = Fx::new();
    let minute = T0 - T0 % 60;
    fx.put_src("f", b"v1", minute + 30);
    fx.put_dst("f", b"v0", minute + 10); // same minute as the source, older by 20 s
    let mut site = Wrapped::new(&fx.src);
    site.precision = Precision::Minute;
    let site = Arc::new(site);
    let (r, _) = run_on(&fx.pkg(), &fx.opts(), site.clone()).await;
    assert_eq!(
        r.counts.files_fetched, 0,
        "same minute is not newer: {:?}",
        r.lines
    );

    // With an exact listing the same pair is newer.
    let (r, _) = run(&fx.pkg(), &fx.opts()).await;
    assert_eq!(r.counts.files_fetched, 1);

    // The next minute is newer; the copy gets the listed (minute) time and is then stable.
    fx.put_dst("f", b"v0", minute + 10);
    fx.put_src("f", b"v2", minute + 65);
    let (r, _) = run_on(&fx.pkg(), &fx.opts(), site.clone()).await;
    assert_eq!(r.counts.files_fetched, 1);
    assert_eq!(mtime(&fx.dst.join("f")), minute + 60);
    let (r, _) = run_on(&fx.pkg(), &fx.opts(), site).await;
    assert_eq!(r.counts.files_fetched, 0);
}

#[tokio::test]
async fn dry_run_changes_nothing_and_says_what_it_would_do() {
    let fx = Fx::new();
    fx.put_src("a.txt", b"hello", T0);
    fx.put_src("d/new", b"n", T0);
    fx.put_src("old.txt", b"new content", T0 + 500);
    std::os::unix::fs::symlink("a.txt", fx.src.join("l")).unwrap();
    fx.put_dst("a.txt", b"hello", T0);
    fx.put_dst("old.txt", b"old content", T0);
    fx.put_dst("extra", b"x", T0);
    let mut pkg = fx.pkg();
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    let before = snapshot(&fx.dst);
    let opts = mirror_sync::RunOptions {
        dry_run: true,
        debug: 2,
        ..fx.opts()
    };
    let (r, ev) = run(&pkg, &opts).await;
    assert_eq!(r.status, PackageStatus::Ok);
    assert!(r.dry_run);
    assert_eq!(snapshot(&fx.dst), before, "-n changed the disk");
    for line in [
        "Should mkdir d",
        "Should get file d/new as d/new (1)",
        "Should get file old.txt as old.txt (11)",
        "Should delete extra",
        "Should symlink l to a.txt",
    ] {
        assert!(ev.has(line), "missing `{line}` in {:#?}", ev.texts());
    }
    assert!(!ev.has("Should get file a.txt"));
    assert_eq!(r.planned_files, 2);

    // A missing local_dir is not created under -n.
    let fx2 = Fx::new();
    fx2.put_src("a", b"a", T0);
    let (r, ev) = run(
        &fx2.pkg(),
        &mirror_sync::RunOptions {
            dry_run: true,
            debug: 2,
            ..fx2.opts()
        },
    )
    .await;
    assert_eq!(r.status, PackageStatus::Ok);
    assert!(!fx2.dst.exists());
    assert!(ev.has("Should get file a as a (1)"));
}

#[tokio::test]
async fn times_only_sets_times_and_transfers_nothing() {
    let fx = Fx::new();
    fx.put_src("a.txt", b"remote", T0 + 500);
    fx.put_src("b.txt", b"missing locally", T0);
    fx.put_dst("a.txt", b"local!", T0);
    let mut pkg = fx.pkg();
    pkg.update_log = "update.log".into();
    let opts = mirror_sync::RunOptions {
        times_only: true,
        ..fx.opts()
    };
    let (r, ev) = run(&pkg, &opts).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(r.counts.times_set, 1);
    assert_eq!(r.counts.files_fetched, 0);
    assert_eq!(mtime(&fx.dst.join("a.txt")), T0 + 500);
    assert_eq!(fs::read(fx.dst.join("a.txt")).unwrap(), b"local!");
    assert!(!fx.dst.join("b.txt").exists());
    assert!(ev.has("Setting time of a.txt to "));
    // No report is written under -T.
    assert!(!fx.dst.join("update.log").exists());
}

#[tokio::test]
async fn a_file_becomes_a_directory_and_back() {
    let fx = Fx::new();
    fx.put_src("x", b"file", T0);
    let mut pkg = fx.pkg();
    run(&pkg, &fx.opts()).await;
    assert!(fx.dst.join("x").is_file());

    fs::remove_file(fx.src.join("x")).unwrap();
    fx.put_src("x/inner", b"inside", T0);
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(fs::read(fx.dst.join("x/inner")).unwrap(), b"inside");

    // Back to a file: the directory's contents go through the deletion pass first, and
    // without do_deletes the file cannot take the directory's place.
    fs::remove_dir_all(fx.src.join("x")).unwrap();
    fx.put_src("x", b"file again", T0 + 5);
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Failed);
    assert!(fx.dst.join("x/inner").is_file());
    assert!(has_line(&r, "Cannot rename .in.x. to x"), "{:?}", r.lines);

    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    pkg.max_delete_dirs = DeleteLimit::Percent(100);
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(fs::read(fx.dst.join("x")).unwrap(), b"file again");
    assert_eq!(r.counts.files_deleted, 1);
    assert_eq!(r.counts.dirs_deleted, 1);
    assert!(snapshot(&fx.dst).keys().all(|k| !k.contains(".in.")));
}

#[tokio::test]
async fn deletes_what_vanished() {
    let fx = Fx::new();
    for i in 0..5 {
        fx.put_src(&format!("f{i}"), b"x", T0);
    }
    fx.put_src("d1/x", b"x", T0);
    let mut pkg = fx.pkg();
    run(&pkg, &fx.opts()).await;
    fs::remove_file(fx.src.join("f4")).unwrap();
    fs::remove_dir_all(fx.src.join("d1")).unwrap();
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    pkg.max_delete_dirs = DeleteLimit::Percent(100);
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(files(&fx.dst), ["f0", "f1", "f2", "f3"]);
    assert!(!fx.dst.join("d1").exists());
    let root = fx.dst.display();
    // Children before parents.
    let pos = |s: &str| {
        r.lines
            .iter()
            .position(|l| l == s)
            .unwrap_or_else(|| panic!("no `{s}` in {:?}", r.lines))
    };
    assert!(pos(&format!("unlink {root}/d1/x")) < pos(&format!("rmdir {root}/d1")));
    pos(&format!("unlink {root}/f4"));
    assert_eq!((r.counts.files_deleted, r.counts.dirs_deleted), (2, 1));
}

/// Mirrors `n` files, removes `gone` of them at the source, and runs again with deletions
/// and the given limit. Returns the report and how many files are left locally.
async fn vanish(n: usize, gone: usize, limit: DeleteLimit) -> (mirror_sync::PackageReport, usize) {
    let fx = Fx::new();
    for i in 0..n {
        fx.put_src(&format!("f{i:03}"), b"x", T0);
    }
    let mut pkg = fx.pkg();
    run(&pkg, &fx.opts()).await;
    for i in 0..gone {
        fs::remove_file(fx.src.join(format!("f{i:03}"))).unwrap();
    }
    pkg.do_deletes = true;
    pkg.max_delete_files = limit;
    let (r, _) = run(&pkg, &fx.opts()).await;
    (r, files(&fx.dst).len())
}

#[tokio::test]
async fn max_delete_files_percent_worked_examples() {
    // 200 files, 21 vanished, 10%: at most 20 may go, so nothing at all is deleted.
    let (r, left) = vanish(200, 21, DeleteLimit::Percent(10)).await;
    assert_eq!(left, 200);
    assert_eq!(r.counts.files_deleted, 0);
    assert_eq!(
        r.deletions_skipped.as_deref(),
        Some("Too many files to delete, not actually deleting (21 > 20)")
    );
    assert_eq!(
        r.lines
            .iter()
            .filter(|l| l.starts_with("NEED TO unlink "))
            .count(),
        21
    );
    assert_eq!(r.status, PackageStatus::Ok);

    // 20 of 200 is allowed.
    let (r, left) = vanish(200, 20, DeleteLimit::Percent(10)).await;
    assert_eq!((left, r.counts.files_deleted), (180, 20));
    assert!(r.deletions_skipped.is_none());

    // 9 files, 1 vanished: 10% of 9 rounds up to 1 (mirror.pl's int() made it 0).
    let (r, left) = vanish(9, 1, DeleteLimit::Percent(10)).await;
    assert_eq!((left, r.counts.files_deleted), (8, 1));
}

#[tokio::test]
async fn max_delete_files_absolute_and_silly_limits() {
    let (r, left) = vanish(10, 3, DeleteLimit::Count(2)).await;
    assert_eq!((left, r.counts.files_deleted), (10, 0));
    assert!(r.deletions_skipped.unwrap().contains("(3 > 2)"));
    let (r, left) = vanish(10, 2, DeleteLimit::Count(2)).await;
    assert_eq!((left, r.counts.files_deleted), (8, 2));
    let (r, left) = vanish(10, 1, DeleteLimit::Percent(0)).await;
    assert_eq!((left, r.counts.files_deleted), (10, 0));
    assert_eq!(
        r.deletions_skipped.as_deref(),
        Some("silly percentage 0%, not deleting")
    );
}

#[tokio::test]
async fn max_delete_dirs_percent_blocks_files_too() {
    async fn case(dir_limit: DeleteLimit) -> (mirror_sync::PackageReport, usize, usize) {
        let fx = Fx::new();
        for i in 0..10 {
            fx.put_src(&format!("d{i}/f"), b"x", T0);
        }
        let mut pkg = fx.pkg();
        run(&pkg, &fx.opts()).await;
        fs::remove_dir_all(fx.src.join("d0")).unwrap();
        fs::remove_dir_all(fx.src.join("d1")).unwrap();
        pkg.do_deletes = true;
        pkg.max_delete_files = DeleteLimit::Percent(100);
        pkg.max_delete_dirs = dir_limit;
        let (r, _) = run(&pkg, &fx.opts()).await;
        let dirs = snapshot(&fx.dst).values().filter(|s| s.kind == 'd').count();
        (r, files(&fx.dst).len(), dirs)
    }
    // 2 of 10 directories with 10%: one allowed, so nothing is deleted (all or nothing).
    let (r, files_left, dirs_left) = case(DeleteLimit::Percent(10)).await;
    assert_eq!((files_left, dirs_left), (10, 10));
    assert_eq!(
        r.deletions_skipped.as_deref(),
        Some("Too many directories to delete, not actually deleting (2 > 1)")
    );
    assert_eq!(
        r.lines
            .iter()
            .filter(|l| l.starts_with("NEED TO rmdir "))
            .count(),
        2
    );
    let (r, files_left, dirs_left) = case(DeleteLimit::Percent(20)).await;
    assert_eq!((files_left, dirs_left), (8, 8));
    assert_eq!((r.counts.files_deleted, r.counts.dirs_deleted), (2, 2));
}

#[tokio::test]
async fn save_deletes_moves_aside_and_protects_only_save_dir() {
    let fx = Fx::new();
    fx.put_src("GoldenOldies.txt", b"g", T0);
    fx.put_src("a.txt", b"a", T0);
    fx.put_src("sub/b.txt", b"b", T0);
    let mut pkg = fx.pkg();
    run(&pkg, &fx.opts()).await;
    fx.put_dst("Old/kept.txt", b"saved earlier", T0);
    fs::remove_file(fx.src.join("GoldenOldies.txt")).unwrap();
    fs::remove_dir_all(fx.src.join("sub")).unwrap();
    pkg.save_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    pkg.max_delete_dirs = DeleteLimit::Percent(100);
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    // mirror.pl's substring test protected GoldenOldies.txt; only Old/ is protected now.
    assert_eq!(
        files(&fx.dst),
        [
            "Old/GoldenOldies.txt",
            "Old/kept.txt",
            "Old/sub/b.txt",
            "a.txt"
        ]
    );
    assert!(!fx.dst.join("sub").exists());
    let old = fx.dst.join("Old");
    assert!(has_line(
        &r,
        &format!(
            "Moved GoldenOldies.txt to {}",
            old.join("GoldenOldies.txt").display()
        )
    ));
    assert!(has_line(&r, "Removed directory sub"));
    assert!(has_line(
        &r,
        &format!("Created save directory {}", old.join("sub").display())
    ));
}

#[tokio::test]
async fn excluded_and_unselected_files_are_deleted_unless_protected() {
    let fx = Fx::new();
    fx.put_src("a.txt", b"a", T0);
    fx.put_src("b.log", b"b", T0);
    fx.put_src("c.tmp", b"c", T0);
    let mut pkg = fx.pkg();
    run(&pkg, &fx.opts()).await;
    fx.put_dst("local/mine", b"local only", T0);
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    pkg.max_delete_dirs = DeleteLimit::Percent(100);
    pkg.exclude_patt = Some(pat(r"\.(log|tmp)$"));
    pkg.delete_excl = Some(pat(r"\.tmp$"));
    pkg.local_ignore = Some(pat("^local"));
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    // b.log is excluded at the source, so its copy is unkept and goes (§4.8); c.tmp is
    // protected by delete_excl; local/ is invisible (local_ignore).
    assert_eq!(files(&fx.dst), ["a.txt", "c.tmp", "local/mine"]);
}

#[tokio::test]
async fn update_log_and_json_report() {
    let fx = Fx::new();
    fx.put_src("a.txt", b"hello", T0);
    let mut pkg = fx.pkg();
    // Relative to local_dir, as in mirror.pl.
    pkg.update_log = "../logs/update.log".into();
    fs::create_dir(fx.tmp.path().join("logs")).unwrap();
    let (r, _) = run(&pkg, &fx.opts()).await;
    let log = fs::read_to_string(fx.tmp.path().join("logs/update.log")).unwrap();
    let first = log.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "mirroring test (file://{}:/) completed successfully @ ",
            fx.src.display()
        )),
        "{first}"
    );
    assert!(log.contains("\nGot a.txt 5 "));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["package"], "test");
    assert_eq!(json["status"], "ok");
    assert_eq!(json["counts"]["files_fetched"], 1);
    assert_eq!(json["counts"]["bytes_fetched"], 5);
    assert_eq!(json["listing_complete"], true);
    assert!(json["duration_ms"].is_u64());
}

#[tokio::test]
async fn skip_and_insufficient_details() {
    let fx = Fx::new();
    let mut pkg = fx.pkg();
    pkg.skip = "down for maintenance".into();
    let (r, ev) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Skipped);
    assert!(ev.has(&format!(
        "Skipping file://{}:test because down for maintenance",
        fx.src.display()
    )));
    assert!(!fx.dst.exists());

    let mut pkg = fx.pkg();
    pkg.local_dir_check = true;
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Skipped);

    // A URL site with a path needs no remote_dir; a package without local_dir is refused.
    let mut pkg = fx.pkg();
    pkg.local_dir.clear();
    let (r, ev) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::ConfigError);
    assert_eq!(r.status.exit_code(), 2);
    assert!(ev.has("Insufficient details for package to be fetched"));

    // Every protocol has a backend now; an S3 site without a bucket is a config error.
    let mut pkg = fx.pkg();
    pkg.site.as_mut().unwrap().scheme = mirror_config::Scheme::S3;
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::ConfigError);
    assert!(
        r.reason
            .as_deref()
            .is_some_and(|m| m.contains("names no bucket")),
        "{:?}",
        r.reason
    );
}

#[tokio::test]
async fn selection_keywords_update_local_max_days_recursive() {
    // update_local: only what already exists at the top of the local tree is updated.
    let fx = Fx::new();
    fx.put_src("keep/a", b"a", T0);
    fx.put_src("keep+1.gz", b"k", T0);
    fx.put_src("other/b", b"b", T0);
    fx.put_dst("keep/old", b"o", T0);
    fx.put_dst("keep+1", b"k", T0);
    let mut pkg = fx.pkg();
    pkg.update_local = true;
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(
        files(&fx.dst),
        ["keep+1", "keep+1.gz", "keep/a", "keep/old"]
    );

    // max_days: old files are neither fetched nor deleted.
    let fx = Fx::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    fx.put_src("d/new", b"n", now - 3600);
    fx.put_src("d/old", b"o", now - 5 * 86_400);
    fx.put_dst("d/ancient", b"a", now - 9 * 86_400);
    let mut pkg = fx.pkg();
    pkg.max_days = 2;
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(files(&fx.dst), ["d/ancient", "d/new"]);

    // recursive=false: the top level only; nothing below is looked at or deleted.
    let fx = Fx::new();
    fx.put_src("top", b"t", T0);
    fx.put_src("sub/deep", b"d", T0);
    fx.put_dst("sub/local", b"l", T0);
    let mut pkg = fx.pkg();
    pkg.recursive = false;
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(files(&fx.dst), ["sub/local", "top"]);
}

#[tokio::test]
async fn modes_and_owners() {
    let fx = Fx::new();
    fx.put_src("setuid", b"#!/bin/sh\n", T0);
    fx.put_src("plain", b"p", T0);
    fs::set_permissions(
        fx.src.join("setuid"),
        std::os::unix::fs::PermissionsExt::from_mode(0o4775),
    )
    .unwrap();
    fs::set_permissions(
        fx.src.join("plain"),
        std::os::unix::fs::PermissionsExt::from_mode(0o664),
    )
    .unwrap();
    let mut pkg = fx.pkg();
    pkg.mode_copy = true;
    pkg.umask = 0o7022;
    let root = nix::unistd::geteuid().is_root();
    let nobody = nix::unistd::User::from_name("nobody").ok().flatten();
    if let (true, Some(u)) = (root, &nobody) {
        pkg.user = "nobody".into();
        pkg.group = u.gid.as_raw().to_string();
    }
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    // Copied modes never keep setuid/setgid and are restricted by umask (fix of §6.14).
    assert_eq!(mode(&fx.dst.join("setuid")), 0o755);
    assert_eq!(mode(&fx.dst.join("plain")), 0o644);
    if let (true, Some(u)) = (root, nobody) {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            fs::metadata(fx.dst.join("plain")).unwrap().uid(),
            u.uid.as_raw()
        );
    }
}

#[tokio::test]
async fn get_symlink_files_fetches_an_unselected_target() {
    let fx = Fx::new();
    fx.put_src("pool/real.deb", b"deb", T0);
    std::os::unix::fs::symlink("pool/real.deb", fx.src.join("latest.deb")).unwrap();
    let mut pkg = fx.pkg();
    pkg.get_patt = Some(pat("^latest"));
    let (r, ev) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok);
    assert!(fs::symlink_metadata(fx.dst.join("latest.deb")).is_err());
    assert!(ev.has("Not symlinking latest.deb -> pool/real.deb"));
    pkg.get_symlink_files = true;
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(fs::read(fx.dst.join("latest.deb")).unwrap(), b"deb");
    assert!(
        fs::symlink_metadata(fx.dst.join("latest.deb"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[tokio::test]
async fn a_missing_remote_directory_fails_without_touching_anything() {
    let fx = Fx::new();
    fx.put_dst("precious", b"p", T0);
    let mut pkg = fx.pkg();
    pkg.remote_dir = "/no/such/dir".into();
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    pkg.update_log = "update.log".into();
    let (r, ev) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Failed);
    assert!(ev.has("Cannot get remote directory details (/no/such/dir)"));
    assert!(fx.dst.join("precious").exists());
    assert!(!fx.dst.join("update.log").exists());
}

/// mirror.pl wrote a relative update_log inside local_dir, where the next run with
/// do_deletes removed it; ours is written there too but is never a deletion candidate.
#[tokio::test]
async fn update_log_inside_the_tree_is_never_deleted() {
    let fx = Fx::new();
    fx.put_src("a.txt", b"hello", T0);
    let mut pkg = fx.pkg();
    pkg.update_log = "update.log".into();
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    for _ in 0..2 {
        let (r, _) = run(&pkg, &fx.opts()).await;
        assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
        assert_eq!(r.counts.files_deleted, 0, "{:?}", r.lines);
    }
    let log = fs::read_to_string(fx.dst.join("update.log")).unwrap();
    assert_eq!(log.matches("mirroring test").count(), 2, "{log}");
}

#[tokio::test]
async fn an_incomplete_listing_blocks_every_deletion() {
    let fx = Fx::new();
    fx.put_src("a", b"a", T0);
    fx.put_src("sub/x", b"x", T0);
    fx.put_src("sub/y", b"y", T0);
    let mut pkg = fx.pkg();
    run(&pkg, &fx.opts()).await;
    fx.put_dst("local-only", b"l", T0);
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    pkg.max_delete_dirs = DeleteLimit::Percent(100);
    let mut site = Wrapped::new(&fx.src);
    site.incomplete = Some("sub".into());
    let (r, _) = run_on(&pkg, &fx.opts(), Arc::new(site)).await;
    assert!(!r.listing_complete);
    assert_eq!(r.incomplete_dirs, ["source:sub"]);
    assert_eq!(files(&fx.dst), ["a", "local-only", "sub/x", "sub/y"]);
    assert_eq!(r.counts.files_deleted, 0);
    let why = r.deletions_skipped.clone().unwrap();
    assert!(
        why.contains("remote listing was incomplete (1 directory: sub)"),
        "{why}"
    );
    assert!(has_line(&r, "Not deleting anything: "));
    assert!(has_line(
        &r,
        "Incomplete listing of source directory sub: timed out (injected)"
    ));
}

#[tokio::test]
async fn name_mappings_rename_and_keep_the_new_folders() {
    let fx = Fx::new();
    fx.put_src("old/a", b"a", T0);
    fx.put_dst("new/stale", b"s", T0);
    let mut pkg = fx.pkg();
    pkg.name_mappings = mirror_config::Substitutions(vec![mirror_config::Subst {
        pattern: pat("^old"),
        replacement: "new".into(),
        global: false,
    }]);
    pkg.get_patt = Some(pat("^old/"));
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    pkg.max_delete_dirs = DeleteLimit::Percent(100);
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert!(has_line(&r, "Got old/a as new/a 1 "));
    // new/ holds the mapped file, so only the stale file in it goes.
    assert_eq!(files(&fx.dst), ["new/a"]);
    assert_eq!((r.counts.files_deleted, r.counts.dirs_deleted), (1, 0));
}
