//! Stores as destinations, end to end through `run_package`: `local_dir=s3://...` fed from
//! an FTP site (the in-process libunftp server) into s3s-fs and into moto, a local tree
//! pushed to an S3 site in put mode, and a tree mirrored into `local_dir=sftp://...`. Every
//! re-run transfers nothing: the S3 copies carry their source times as metadata, and the
//! listing reads them back.

// A skipped server test says so loudly.
#![allow(clippy::print_stderr)]

use std::path::Path;
use std::time::Duration;

use mirror_remote::s3::{S3Config, S3Remote, S3Secret};
use mirror_remote::{Kind, Listing, RelPath, Remote, WalkOptions};
use mirror_sync::{Counts, NoEvents, PackageReport, PackageStatus, RunOptions};
use mirror_testkit::ftp_unftp::UnftpServer;
use mirror_testkit::s3_server::{ACCESS_KEY, S3Server, SECRET_KEY};
use mirror_testkit::sftp_sshd::Sshd;
use mirror_testkit::{Compare, TreeBuilder, assert_dirs_equal};
use tokio::io::AsyncReadExt;

const T0: i64 = 1_600_000_000;

fn package(text: &str) -> mirror_config::Package {
    let loaded = mirror_config::parse_str(text, "dest.packages").unwrap();
    let env = mirror_config::Env::current();
    loaded.records[0].to_package(&env).unwrap().0
}

async fn run(pkg: &mirror_config::Package) -> PackageReport {
    mirror_sync::run_package(pkg, &RunOptions::default(), &NoEvents).await
}

/// Nested folders, an empty folder, UTF-8 and spaces, an empty file, a 9 MiB file (a
/// multipart upload), and a file about to go.
fn fill(root: &Path) -> TreeBuilder {
    let tb = TreeBuilder::new(root);
    let big: Vec<u8> = (0..9 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    tb.file("README", b"read me\n", T0)
        .file("pub/a b/ünï.txt", "utf-8 ✓\n".as_bytes(), T0 + 1)
        .file("pub/deep/er/big.bin", big, T0 + 2)
        .file("empty.txt", b"", T0 + 3)
        .file("gone.txt", b"soon gone\n", T0 + 4)
        .dir("empty/inner");
    tb
}

/// The S3 keywords for `server`; the secret comes from a file, as a careful operator
/// would keep it.
fn s3_keywords(server: &S3Server, dir: &Path) -> String {
    let secret = dir.join("s3-secret");
    std::fs::write(&secret, format!("{SECRET_KEY}\n")).unwrap();
    format!(
        "\ts3_endpoint={}\n\ts3_region=us-east-1\n\ts3_access_key={ACCESS_KEY}\n\
         \ts3_secret_key=<{}\n",
        server.endpoint,
        secret.display()
    )
}

/// The bucket's tree below `prefix`, read through the backend (times as stored).
async fn bucket_listing(server: &S3Server, prefix: &str) -> (S3Remote, Listing) {
    let mut cfg = S3Config::new(&server.bucket);
    cfg.prefix = prefix.into();
    cfg.endpoint = Some(server.endpoint.clone());
    cfg.access_key = Some(S3Secret(ACCESS_KEY.into()));
    cfg.secret_key = Some(S3Secret(SECRET_KEY.into()));
    cfg.timeout = Duration::from_secs(20);
    let r = S3Remote::new(cfg).unwrap();
    let l = r
        .walk(&WalkOptions {
            recursive: true,
            ignore: None,
        })
        .await
        .unwrap();
    (r, l)
}

/// Every file of the local tree `src` is in the bucket with its size, content and time,
/// and every folder is there; nothing else (no temporary names).
async fn assert_bucket_mirrors(server: &S3Server, prefix: &str, src: &Path, empty_dirs: bool) {
    let (r, l) = bucket_listing(server, prefix).await;
    let mut want = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(src).unwrap().to_str().unwrap().to_owned();
            if p.is_dir() {
                if empty_dirs || has_file_below(&p) {
                    want.push(rel);
                }
                stack.push(p);
            } else {
                want.push(rel);
            }
        }
    }
    want.sort();
    let got: Vec<&str> = l.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(got, want, "bucket listing: {l:?}");
    for e in &l.entries {
        if e.kind != Kind::File {
            continue;
        }
        let local = src.join(e.path.as_str());
        let md = std::fs::metadata(&local).unwrap();
        let mtime = md
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert_eq!(e.mtime, Some(mtime), "{}: stored time", e.path);
        assert_eq!(e.size, Some(md.len()), "{}: size", e.path);
        let mut bytes = Vec::new();
        r.open(&e.path, 0)
            .await
            .unwrap()
            .read_to_end(&mut bytes)
            .await
            .unwrap();
        assert!(
            bytes == std::fs::read(&local).unwrap(),
            "{}: content",
            e.path
        );
    }
}

fn has_file_below(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .any(|e| !e.path().is_dir() || has_file_below(&e.path()))
}

/// What a re-run with nothing to do reports: nothing, except on a server that does not
/// list empty folders (s3s-fs), where the two empty folders of the tree (`empty`,
/// `empty/inner`) are made again each time (a marker PUT each, no data).
fn rerun_counts(lists_empty_dirs: bool) -> Counts {
    Counts {
        dirs_created: if lists_empty_dirs { 0 } else { 2 },
        ..Counts::default()
    }
}

/// FTP site -> S3 destination, three runs: everything, nothing, one change and one delete.
async fn ftp_into_s3(server: &S3Server, empty_dirs: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("ftp-root");
    let tb = fill(&src);
    let ftp = UnftpServer::start(&src).await;
    let pkg = package(&format!(
        "package=ftp-to-s3\n\
         \tsite=ftp://127.0.0.1:{}/\n\
         \tremote_dir=/\n\
         \tlocal_dir=s3://{}/mirrors/ftp\n\
         {}\
         \tdo_deletes=true\n\
         \tmax_delete_files=100%\n\
         \tuse_timelocal=false\n\
         \tdisconnect=true\n",
        ftp.port,
        server.bucket,
        s3_keywords(server, tmp.path()),
    ));

    let first = run(&pkg).await;
    assert_eq!(first.status, PackageStatus::Ok, "{first:?}");
    assert_eq!(first.counts.files_fetched, 5, "{:?}", first.lines);
    assert_eq!(
        first.local_dir,
        format!("s3://{}/mirrors/ftp", server.bucket)
    );
    assert_bucket_mirrors(server, "mirrors/ftp", &src, empty_dirs).await;

    let second = run(&pkg).await;
    assert_eq!(second.status, PackageStatus::Ok, "{:?}", second.lines);
    assert_eq!(
        second.counts,
        rerun_counts(empty_dirs),
        "{:?}",
        second.lines
    );

    // Same size, later time: fetched again. Gone at the source: deleted from the bucket.
    tb.file("README", b"READ ME\n", T0 + 3_600 * 24);
    std::fs::remove_file(src.join("gone.txt")).unwrap();
    let third = run(&pkg).await;
    assert_eq!(third.status, PackageStatus::Ok, "{:?}", third.lines);
    assert_eq!(third.counts.files_fetched, 1, "{:?}", third.lines);
    assert_eq!(third.counts.files_deleted, 1, "{:?}", third.lines);
    assert_bucket_mirrors(server, "mirrors/ftp", &src, empty_dirs).await;
    let shown = format!("{first:?}{second:?}{third:?}");
    assert!(
        !shown.contains(SECRET_KEY),
        "the S3 secret leaked into a report"
    );
}

#[tokio::test]
async fn an_ftp_site_mirrors_into_s3s_fs_and_a_rerun_transfers_nothing() {
    let server = S3Server::s3s_fs("mirror").await;
    // s3s-fs keeps folder markers as real folders and never lists them.
    ftp_into_s3(&server, false).await;
    // On its disk the bucket holds the tree itself, empty folders included.
    let on_disk = server.bucket_path().unwrap().join("mirrors/ftp");
    assert!(on_disk.join("empty/inner").is_dir());
}

#[tokio::test]
async fn an_ftp_site_mirrors_into_moto_and_a_rerun_transfers_nothing() {
    let server = match S3Server::moto("mirror").await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    ftp_into_s3(&server, true).await;
}

#[tokio::test]
async fn put_mode_pushes_a_local_tree_to_an_s3_site() {
    let server = S3Server::s3s_fs("site").await;
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("local");
    let tb = fill(&local);
    let pkg = package(&format!(
        "package=put-s3\n\
         \tsite=s3://{}/pub\n\
         \tremote_dir=tree\n\
         \tlocal_dir={}\n\
         \tget_file=false\n\
         {}\
         \tdo_deletes=true\n\
         \tmax_delete_files=100%\n",
        server.bucket,
        local.display(),
        s3_keywords(&server, tmp.path()),
    ));
    let first = run(&pkg).await;
    assert_eq!(first.status, PackageStatus::Ok, "{first:?}");
    assert_eq!(first.counts.files_fetched, 5, "{:?}", first.lines);
    assert_bucket_mirrors(&server, "pub/tree", &local, false).await;
    let second = run(&pkg).await;
    assert_eq!(second.counts, rerun_counts(false), "{:?}", second.lines);
    tb.file("pub/a b/ünï.txt", "UTF-8 ✓\n".as_bytes(), T0 + 60);
    std::fs::remove_file(local.join("gone.txt")).unwrap();
    let third = run(&pkg).await;
    assert_eq!(third.counts.files_fetched, 1, "{:?}", third.lines);
    assert_eq!(third.counts.files_deleted, 1, "{:?}", third.lines);
    assert_bucket_mirrors(&server, "pub/tree", &local, false).await;
}

#[tokio::test]
async fn a_tree_mirrors_into_an_sftp_destination() {
    if let Some(why) = Sshd::unavailable() {
        eprintln!("{why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    // Not there yet: the destination's folders are created, parents too.
    let dest = tmp.path().join("dest/below/tree");
    let tb = fill(&src);
    tb.symlink("latest", "pub/deep/er/big.bin");
    let d = Sshd::start(None).await.unwrap();
    let pkg = package(&format!(
        "package=to-sftp\n\
         \tsite=file://{}\n\
         \tlocal_dir=sftp://root@127.0.0.1:{}{}\n\
         \tssh_key={}\n\
         \tssh_host_key={}\n\
         \tdo_deletes=true\n\
         \tmax_delete_files=100%\n",
        src.display(),
        d.port,
        dest.display(),
        d.client_key.display(),
        d.host_fingerprint,
    ));
    let first = run(&pkg).await;
    assert_eq!(
        first.status,
        PackageStatus::Ok,
        "{:?}\n{}",
        first.lines,
        d.log()
    );
    assert_eq!(first.counts.files_fetched, 5, "{:?}", first.lines);
    assert_eq!(first.counts.symlinks_created, 1, "{:?}", first.lines);
    assert_dirs_equal(&src, &dest, Compare::MIRRORED);
    let second = run(&pkg).await;
    assert_eq!(second.counts, Counts::default(), "{:?}", second.lines);
    tb.file("README", b"READ ME\n", T0 + 60);
    std::fs::remove_file(src.join("gone.txt")).unwrap();
    let third = run(&pkg).await;
    assert_eq!(third.counts.files_fetched, 1, "{:?}", third.lines);
    assert_eq!(third.counts.files_deleted, 1, "{:?}", third.lines);
    assert_dirs_equal(&src, &dest, Compare::MIRRORED);
}

#[tokio::test]
async fn a_missing_bucket_prefix_is_created_not_taken_for_an_empty_copy() {
    // The destination prefix does not exist: the run creates it (a marker) and fills it;
    // a store that cannot be reached fails the package instead.
    let server = S3Server::s3s_fs("fresh").await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    TreeBuilder::new(&src).file("only.txt", b"1", T0);
    let mut text = format!(
        "package=fresh\n\tsite=file://{}\n\tlocal_dir=s3://{}/new/prefix\n{}",
        src.display(),
        server.bucket,
        s3_keywords(&server, tmp.path())
    );
    let r = run(&package(&text)).await;
    assert_eq!(r.status, PackageStatus::Ok, "{r:?}");
    assert_eq!(r.counts.files_fetched, 1, "{:?}", r.lines);
    let (_, l) = bucket_listing(&server, "new/prefix").await;
    assert_eq!(
        l.get(&RelPath::new("only.txt").unwrap()).unwrap().mtime,
        Some(T0)
    );

    // Nothing listens on port 9 (discard); no retrying, so the failure comes at once.
    text = text.replace(&server.endpoint, "http://127.0.0.1:9");
    text.push_str("\tretry_call=false\n");
    let r = run(&package(&text)).await;
    assert_ne!(r.status, PackageStatus::Ok, "{:?}", r.lines);
}
