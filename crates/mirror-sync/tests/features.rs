//! Symlinks and their confinement, failures in the middle of a run, resume of a kept temp
//! file, put mode (also against a store without rename or set_mtime), compression and
//! splitting, the `-U` upload log and mail.

mod common;

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use common::*;
use mirror_config::{DeleteLimit, Pattern};
use mirror_sync::PackageStatus;

fn pat(s: &str) -> Pattern {
    Pattern {
        source: s.into(),
        regex: fancy_regex::Regex::new(s).unwrap(),
    }
}

#[tokio::test]
async fn symlinks_inside_are_made_and_escaping_ones_refused() {
    let fx = Fx::new();
    fx.put_src("a.txt", b"a", T0);
    fx.put_src("d/f", b"f", T0);
    let ln = |target: &str, at: &str| std::os::unix::fs::symlink(target, fx.src.join(at)).unwrap();
    ln("a.txt", "l1");
    ln("../a.txt", "d/l2");
    ln("d", "dirlink");
    ln("../../etc/passwd", "esc");
    ln("/etc/passwd", "abs");
    ln("/etc", "etc");
    ln("etc/passwd", "through"); // inside lexically, out through `etc`
    ln("nothing", "dangling");
    let mut pkg = fx.pkg();
    let (r, ev) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    let link = |p: &str| {
        fs::read_link(fx.dst.join(p))
            .ok()
            .map(|t| t.display().to_string())
    };
    assert_eq!(link("l1").as_deref(), Some("a.txt"));
    assert_eq!(link("d/l2").as_deref(), Some("../a.txt"));
    assert_eq!(link("dirlink").as_deref(), Some("d"));
    for gone in ["esc", "abs", "etc", "through", "dangling"] {
        assert!(
            fs::symlink_metadata(fx.dst.join(gone)).is_err(),
            "{gone} was created"
        );
    }
    let mut refused = r.refused_names.clone();
    refused.sort();
    assert_eq!(refused, ["abs", "esc", "etc", "through"]);
    assert!(has_line(
        &r,
        "Refused symlink esc -> ../../etc/passwd: the target leaves the tree"
    ));
    assert!(has_line(&r, "symlink a.txt to l1"));
    assert!(ev.has("Not symlinking dangling -> nothing"));
    assert_eq!(r.counts.symlinks_created, 3);

    // make_bad_symlinks makes the dangling one, never the escaping ones.
    pkg.make_bad_symlinks = true;
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(link("dangling").as_deref(), Some("nothing"));
    assert!(link("esc").is_none() && link("through").is_none());
    assert_eq!(r.counts.symlinks_created, 1);

    // A link that changes target is re-pointed; a file that becomes a link is replaced.
    fs::remove_file(fx.src.join("l1")).unwrap();
    ln("d/f", "l1");
    fs::remove_file(fx.src.join("a.txt")).unwrap();
    ln("d/f", "a.txt");
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(link("l1").as_deref(), Some("d/f"));
    assert_eq!(link("a.txt").as_deref(), Some("d/f"));
}

#[tokio::test]
async fn a_failed_read_fails_the_package_keeps_the_rest_and_deletes_nothing() {
    let fx = Fx::new();
    fx.put_src("good1", b"one", T0);
    let big: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    fx.put_src("bad.bin", &big, T0 + 7);
    fx.put_src("good2", b"two", T0);
    fx.put_dst("vanished", b"gone at the source", T0);
    let mut pkg = fx.pkg();
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    let mut site = Wrapped::new(&fx.src);
    site.fail = Some(("bad.bin".into(), 1000));
    let (r, _) = run_on(&pkg, &fx.opts(), Arc::new(site)).await;
    assert_eq!(r.status, PackageStatus::Failed);
    assert_eq!(r.status.exit_code(), 1);
    assert_eq!(r.counts.files_fetched, 2);
    assert_eq!(r.counts.failed, 1);
    assert_eq!(r.failures[0].path, "bad.bin");
    assert!(
        r.failures[0].cause.contains("connection reset (injected)"),
        "{:?}",
        r.failures
    );
    assert!(has_line(&r, "Failed to get bad.bin: "));
    assert_eq!(fs::read(fx.dst.join("good1")).unwrap(), b"one");
    assert_eq!(fs::read(fx.dst.join("good2")).unwrap(), b"two");
    // Nothing partial under the final name; nothing deleted after a failure.
    assert!(!fx.dst.join("bad.bin").exists());
    assert!(fx.dst.join("vanished").exists());
    assert_eq!(r.counts.files_deleted, 0);
    assert!(
        r.deletions_skipped
            .as_deref()
            .unwrap()
            .contains("1 failure(s)")
    );
    // The partial temp file stays, stamped with the source time, for a resume.
    let temp = fx.dst.join(".in.bad.bin.");
    assert_eq!(fs::read(&temp).unwrap(), &big[..1000]);
    assert_eq!(mtime(&temp), T0 + 7);

    // The next run resumes it, finishes, and then deletes.
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(fs::read(fx.dst.join("bad.bin")).unwrap(), big);
    assert_eq!(r.counts.bytes_fetched, 4000);
    assert!(!temp.exists());
    assert!(!fx.dst.join("vanished").exists());
}

#[tokio::test]
async fn an_unreadable_source_file_is_a_failure() {
    if nix::unistd::geteuid().is_root() {
        // root reads mode-000 files; the injected fault above covers this case.
        return;
    }
    let fx = Fx::new();
    fx.put_src("ok", b"ok", T0);
    fx.put_src("secret", b"no", T0);
    fs::set_permissions(fx.src.join("secret"), fs::Permissions::from_mode(0o000)).unwrap();
    let (r, _) = run(&fx.pkg(), &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Failed);
    assert!(fx.dst.join("ok").exists());
    assert!(!fx.dst.join("secret").exists());
}

#[tokio::test]
async fn a_kept_temp_file_is_resumed_only_when_its_time_matches() {
    let fx = Fx::new();
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 13 % 256) as u8).collect();
    fx.put_src("big", &data, T0);
    fx.put_dst(".in.big.", &data[..4096], T0);
    fx.put_src("other", b"abcdef", T0);
    fx.put_dst(".in.other.", b"XYZ", T0 + 1); // another time: not the same file, start afresh
    let (r, ev) = run(
        &fx.pkg(),
        &mirror_sync::RunOptions {
            debug: 2,
            ..fx.opts()
        },
    )
    .await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(fs::read(fx.dst.join("big")).unwrap(), data);
    assert_eq!(fs::read(fx.dst.join("other")).unwrap(), b"abcdef");
    assert!(ev.has("Resuming big from byte 4096"));
    assert_eq!(r.counts.bytes_fetched, (10_000 - 4096) + 6);
    assert!(snapshot(&fx.dst).keys().all(|k| !k.contains(".in.")));
}

#[tokio::test]
async fn temp_files_are_never_fetched_nor_deleted_while_resumable() {
    let fx = Fx::new();
    fx.put_src(".in.upstream.", b"someone else's partial file", T0);
    fx.put_src("a", b"the whole file", T0);
    fx.put_dst(".in.a.", b"the whole", T0); // resumable: `a` is to be fetched
    fx.put_dst(".in.orphan.", b"left over", T0); // nothing will use it
    let mut pkg = fx.pkg();
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    let dry = mirror_sync::RunOptions {
        dry_run: true,
        debug: 2,
        ..fx.opts()
    };
    let (_, ev) = run(&pkg, &dry).await;
    assert!(ev.has("Should delete .in.orphan."), "{:?}", ev.texts());
    assert!(!ev.has("Should delete .in.a."));
    assert!(
        !ev.has("upstream"),
        "a source temp file is never fetched: {:?}",
        ev.texts()
    );
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(files(&fx.dst), ["a"]);
    assert_eq!(r.counts.bytes_fetched, 5, "resumed after the 9 bytes kept");
}

#[tokio::test]
async fn put_mode_mirrors_the_local_tree_to_the_site() {
    let fx = Fx::new();
    // In put mode local_dir (fx.dst) is the source and the site (fx.src) the destination.
    put(&fx.dst.join("a.txt"), b"local a", T0);
    put(&fx.dst.join("d/b.txt"), b"local b", T0 + 1);
    put(&fx.src.join("stale"), b"only at the site", T0);
    let mut pkg = fx.pkg();
    pkg.get_file = false;
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    let (r, ev) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert!(r.put);
    assert_eq!(fs::read(fx.src.join("d/b.txt")).unwrap(), b"local b");
    assert_eq!(mtime(&fx.src.join("d/b.txt")), T0 + 1);
    assert!(!fx.src.join("stale").exists());
    assert!(has_line(&r, "Put a.txt 7 bytes"));
    assert!(has_line(&r, "delete FILE stale"));
    assert!(ev.has(&format!(
        "package=test {} -> file://{}:/",
        fx.dst.display(),
        fx.src.display()
    )));
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.counts, mirror_sync::Counts::default(), "{:?}", r.lines);

    // A missing remote folder is created.
    let (r, _) = run(&pkg_to(&pkg, &fx.tmp.path().join("new/site")), &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(
        fs::read(fx.tmp.path().join("new/site/d/b.txt")).unwrap(),
        b"local b"
    );

    // A missing local folder is never taken for an empty source.
    fs::remove_dir_all(&fx.dst).unwrap();
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Failed);
    assert!(fx.src.join("a.txt").exists());
    assert!(!fx.dst.exists());
}

#[tokio::test]
async fn put_mode_to_a_store_without_rename_or_times() {
    let fx = Fx::new();
    put(&fx.dst.join("a.txt"), b"local a", T0);
    let mut pkg = fx.pkg();
    pkg.get_file = false;
    let mut site = Wrapped::new(&fx.src);
    site.rename = false;
    site.set_mtime = false;
    let (r, _) = run_on(&pkg, &fx.opts(), Arc::new(site)).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    // Written in place (the wrapper panics on rename and set_mtime).
    assert_eq!(fs::read(fx.src.join("a.txt")).unwrap(), b"local a");
    assert_ne!(mtime(&fx.src.join("a.txt")), T0);
}

/// The package with its site moved to `root`.
fn pkg_to(pkg: &mirror_config::Package, root: &std::path::Path) -> mirror_config::Package {
    let mut p = pkg.clone();
    p.site.as_mut().unwrap().path = root.display().to_string();
    p.site_text = format!("file://{}", root.display());
    p
}

fn gunzip(path: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn compress_convert_and_split() {
    let fx = Fx::new();
    let text = b"text text text text text text text text text\n".repeat(200);
    fx.put_src("a.txt", &text, T0);
    fx.put_src("twin.txt", b"plain", T0);
    fx.put_src("twin.txt.gz", b"pretend gzip", T0);
    fx.put_src("c.bin", b"binary", T0);
    // A "compress"ed file (gzip -dc reads gzip data too) is converted to .gz.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, b"old archive").unwrap();
    fx.put_src("old.Z", &gz.finish().unwrap(), T0);
    let big: Vec<u8> = (0..2500u32).map(|i| (i % 256) as u8).collect();
    fx.put_src("big.dat", &big, T0 + 3);
    let mut pkg = fx.pkg();
    pkg.compress_patt = Some(pat(r"\.txt$"));
    pkg.compress_prog = "gzip".into();
    pkg.compress_suffix = "gz".into();
    pkg.split_max = 2048;
    pkg.split_chunk = 1024;
    pkg.split_patt = Some(pat(r"^big"));
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(gunzip(&fx.dst.join("a.txt.gz")), text);
    assert_eq!(mtime(&fx.dst.join("a.txt.gz")), T0);
    assert!(!fx.dst.join("a.txt").exists());
    assert!(
        !fx.dst.join("twin.txt").exists(),
        "the compressed twin is preferred"
    );
    assert_eq!(
        fs::read(fx.dst.join("twin.txt.gz")).unwrap(),
        b"pretend gzip"
    );
    assert_eq!(fs::read(fx.dst.join("c.bin")).unwrap(), b"binary");
    assert_eq!(gunzip(&fx.dst.join("old.gz")), b"old archive");
    assert!(has_line(&r, "Got a.txt as a.txt.gz "));
    assert!(has_line(&r, "Got big.dat and split 2500 "));
    let split = fx.dst.join("big.dat-split");
    let mut joined = Vec::new();
    for part in ["part01", "part02", "part03"] {
        joined.extend(fs::read(split.join(part)).unwrap());
        assert_eq!(mtime(&split.join(part)), T0 + 3);
    }
    assert_eq!(joined, big);
    let readme = fs::read_to_string(split.join("README")).unwrap();
    assert_eq!(
        readme
            .lines()
            .filter(|l| l.ends_with(" part01") || l.ends_with(" part03"))
            .count(),
        2,
        "{readme}"
    );
    assert!(!fx.dst.join("big.dat").exists());
    assert!(
        snapshot(&fx.dst).keys().all(|k| !k.contains(".in.")),
        "{:?}",
        snapshot(&fx.dst).keys()
    );

    // Nothing to do the second time, and nothing of it is a deletion candidate.
    pkg.do_deletes = true;
    pkg.max_delete_files = DeleteLimit::Percent(100);
    let before = snapshot(&fx.dst);
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.counts, mirror_sync::Counts::default(), "{:?}", r.lines);
    assert_eq!(snapshot(&fx.dst), before);
}

#[tokio::test]
async fn upload_log_uses_the_get_format_and_mail_gets_argv_without_a_shell() {
    let fx = Fx::new();
    fx.put_src("a.txt", b"hello", T0);
    let out = fx.tmp.path().join("mail.out");
    let script = fx.tmp.path().join("fake-mail");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do echo \"arg:$a\"; done > {0}\ncat >> {0}\n",
            out.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let mut pkg = fx.pkg();
    pkg.mail_prog = script.display().to_string();
    pkg.mail_to = "ops@example.org root".into();
    pkg.mail_subject = "-s 'mirror update of test; $(rm -rf /)'".into();
    pkg.comment = "a comment".into();
    let ulog = fx.tmp.path().join("upload.log");
    let opts = mirror_sync::RunOptions {
        upload_log: Some(ulog.clone()),
        ..fx.opts()
    };
    let (r, _) = run(&pkg, &opts).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    let line = fs::read_to_string(&ulog).unwrap();
    assert_eq!(
        line,
        format!(
            "file://{}:/a.txt -> {}/a.txt 5\n",
            fx.src.display(),
            fx.dst.display()
        )
    );
    let mail = fs::read_to_string(&out).unwrap();
    let mut lines = mail.lines();
    assert_eq!(lines.next(), Some("arg:-s"));
    assert_eq!(lines.next(), Some("arg:mirror update of test; $(rm -rf /)"));
    assert_eq!(lines.next(), Some("arg:ops@example.org"));
    assert_eq!(lines.next(), Some("arg:root"));
    let header = lines.next().unwrap();
    assert!(
        header.starts_with(&format!(
            "Mirrored test (file://{}:/ -> {}) a comment @ ",
            fx.src.display(),
            fx.dst.display()
        )),
        "{header}"
    );
    let body: Vec<&str> = lines.collect();
    assert_eq!(body[0], format!("Created local dir {}", fx.dst.display()));
    assert!(body[1].starts_with("Got a.txt 5 "), "{body:?}");
}

#[tokio::test]
async fn cancelled_runs_change_nothing() {
    let fx = Fx::new();
    fx.put_src("a", b"a", T0);
    let opts = fx.opts();
    opts.cancel.cancel();
    let (r, _) = run(&fx.pkg(), &opts).await;
    assert_eq!(r.status, PackageStatus::Cancelled);
    assert!(!fx.dst.join("a").exists());
}

#[tokio::test]
async fn another_compress_prog_is_spawned_directly() {
    if std::process::Command::new("bzip2")
        .arg("--help")
        .output()
        .is_err()
    {
        return; // no bzip2 on this machine
    }
    let fx = Fx::new();
    let text = b"bzip me ".repeat(100);
    fx.put_src("a.txt", &text, T0);
    let mut pkg = fx.pkg();
    pkg.compress_patt = Some(pat(r"\.txt$"));
    pkg.compress_prog = "bzip2 -9".into();
    pkg.compress_suffix = "bz2".into();
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    let out = std::process::Command::new("bzip2")
        .arg("-dc")
        .arg(fx.dst.join("a.txt.bz2"))
        .output()
        .unwrap();
    assert_eq!(out.stdout, text);
}

#[tokio::test]
async fn delete_source_removes_what_arrived() {
    let fx = Fx::new();
    fx.put_src("a", b"a", T0);
    let mut pkg = fx.pkg();
    pkg.delete_source = true;
    let (r, _) = run(&pkg, &fx.opts()).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:?}", r.lines);
    assert_eq!(fs::read(fx.dst.join("a")).unwrap(), b"a");
    assert!(!fx.src.join("a").exists());
    assert!(has_line(&r, "Deleted remote a"));
}
