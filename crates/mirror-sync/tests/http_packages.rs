//! Packages over HTTP(S) end to end through `run_package`, against servers on 127.0.0.1:
//! Debian's nginx (autoindex HTML with minutes, JSON with seconds, HTTPS with HTTP/2) and
//! the in-process axum server (Apache's layout, a `Date` clock the test moves, pages that
//! are no index). Each re-run with no change fetches nothing; a resized file is fetched; a
//! vanished file is deleted; a same-size change is caught wherever the server can tell.

// A skipped daemon test says so loudly.
#![allow(clippy::print_stderr)]

use std::path::Path;
use std::sync::Arc;

use mirror_remote::http::HttpRemote;
use mirror_sync::{Counts, NoEvents, PackageReport, PackageStatus, RunOptions};
use mirror_testkit::http_index::{IndexServer, IndexServerOptions, Layout, Quirk, TestCert};
use mirror_testkit::http_nginx::{Nginx, NginxFormat, NginxOptions};
use mirror_testkit::{Compare, TreeBuilder, assert_dirs_equal};

/// A minute start well in the past: nginx's HTML shows minutes, so whole minutes keep the
/// mirrored times equal to the originals.
const T0: i64 = 1_600_000_020;

fn package(site: &str, local: &Path, extra: &str) -> mirror_config::Package {
    let text = format!(
        "package=http-e2e\n\
         \tsite={site}\n\
         \tlocal_dir={}\n\
         \tdo_deletes=true\n\
         \tmax_delete_files=100%\n\
         \tmax_delete_dirs=100%\n{extra}",
        local.display()
    );
    let loaded = mirror_config::parse_str(&text, "http.packages").unwrap();
    let env = mirror_config::Env::current();
    loaded.records[0].to_package(&env).unwrap().0
}

async fn run(pkg: &mirror_config::Package) -> PackageReport {
    mirror_sync::run_package(pkg, &RunOptions::default(), &NoEvents).await
}

/// A tree with nested folders, an empty folder, names with spaces and UTF-8, an empty file
/// and a bigger one, all at whole minutes.
fn fill(root: &Path) -> TreeBuilder {
    let tb = TreeBuilder::new(root);
    tb.file("README", b"read me\n", T0)
        .file("pub/a b/ünï.txt", "utf-8 ✓\n".as_bytes(), T0 + 60)
        .file("pub/deep/er/leaf.bin", [7u8; 300_000], T0 + 120)
        .file("empty.txt", b"", T0 + 180)
        .file("gone.txt", b"soon gone\n", T0 + 240)
        .dir("empty/inner");
    tb
}

fn ok(r: &PackageReport) {
    assert_eq!(r.status, PackageStatus::Ok, "{r:#?}");
    assert!(r.failures.is_empty(), "{r:#?}");
}

#[tokio::test]
async fn a_packages_file_mirrors_nginx_and_a_rerun_fetches_nothing() {
    if Nginx::find().is_none() {
        eprintln!("{}", Nginx::skip_message());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    let remote = served.join("dir");
    let local = tmp.path().join("local");
    let tb = fill(&remote);
    let n = Nginx::start(&served, &NginxOptions::default())
        .await
        .unwrap();
    let pkg = package(&format!("{}dir/", n.url(NginxFormat::Html)), &local, "");

    let first = run(&pkg).await;
    ok(&first);
    assert_eq!(first.counts.files_fetched, 5, "{first:#?}");
    assert!(first.listing_complete);
    // Minute-precision pages, whole-minute files: the copies carry the same times.
    assert_dirs_equal(&remote, &local, Compare::MIRRORED);

    let second = run(&pkg).await;
    ok(&second);
    assert_eq!(second.counts, Counts::default(), "{:#?}", second.lines);

    // Resized (same time), and vanished.
    tb.file("README", b"read me again\n", T0);
    std::fs::remove_file(remote.join("gone.txt")).unwrap();
    let third = run(&pkg).await;
    ok(&third);
    assert_eq!(third.counts.files_fetched, 1, "{third:#?}");
    assert_eq!(third.counts.files_deleted, 1, "{third:#?}");
    assert_dirs_equal(&remote, &local, Compare::MIRRORED);

    // The same tree over JSON (exact seconds): whole-minute times were copied exactly,
    // so the finer listing finds nothing to do either.
    let json = package(&format!("{}dir/", n.url(NginxFormat::Json)), &local, "");
    let fourth = run(&json).await;
    ok(&fourth);
    assert_eq!(fourth.counts, Counts::default(), "{:#?}", fourth.lines);
}

#[tokio::test]
async fn nginx_json_catches_a_same_size_change_within_the_minute() {
    if Nginx::find().is_none() {
        eprintln!("{}", Nginx::skip_message());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("served");
    let local = tmp.path().join("local");
    let tb = TreeBuilder::new(&remote);
    tb.file("a.txt", b"version 1\n", T0 + 5)
        .file("b.txt", b"b\n", T0 + 7);
    let n = Nginx::start(&remote, &NginxOptions::default())
        .await
        .unwrap();
    let pkg = package(&n.url(NginxFormat::Json), &local, "");
    let first = run(&pkg).await;
    ok(&first);
    assert_eq!(first.counts.files_fetched, 2, "{first:#?}");
    assert_dirs_equal(&remote, &local, Compare::MIRRORED);
    ok(&run(&pkg).await);

    // Same size, 20 seconds later, same minute.
    tb.file("a.txt", b"version 2\n", T0 + 25);
    let again = run(&pkg).await;
    ok(&again);
    assert_eq!(again.counts.files_fetched, 1, "{again:#?}");
    assert_dirs_equal(&remote, &local, Compare::MIRRORED);
    assert_eq!(run(&pkg).await.counts, Counts::default());
}

/// Seconds since the epoch, now.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_change_within_a_minute_that_was_not_over_is_fetched_once_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("served");
    let local = tmp.path().join("local");
    let tb = TreeBuilder::new(&remote);
    tb.file("live.txt", b"version 1\n", T0 + 10)
        .file("old.txt", b"old\n", T0 - 600);
    let opts = IndexServerOptions {
        layout: Layout::NginxHtml,
        ..Default::default()
    };
    let s = IndexServer::start(&remote, opts).await;
    let pkg = package(&s.url(), &local, "");

    // The pages are made 30 s into live.txt's minute.
    s.set_clock_offset(T0 + 30 - now());
    let first = run(&pkg).await;
    ok(&first);
    assert_eq!(first.counts.files_fetched, 2, "{first:#?}");
    // Same size, later in the same minute, after we fetched it.
    tb.file("live.txt", b"version 2\n", T0 + 50);
    // While the minute lasts the page cannot tell; once it is over, the copy (stamped
    // before that minute) is older than the listing, and fetched again.
    s.set_clock_offset(T0 + 130 - now());
    let second = run(&pkg).await;
    ok(&second);
    assert_eq!(second.counts.files_fetched, 1, "{second:#?}");
    assert_eq!(
        std::fs::read(local.join("live.txt")).unwrap(),
        b"version 2\n"
    );
    // And then nothing, the old file never having moved.
    let third = run(&pkg).await;
    ok(&third);
    assert_eq!(third.counts, Counts::default(), "{:#?}", third.lines);
}

#[tokio::test]
async fn apache_pages_get_exact_sizes_and_times_from_head() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("served");
    let local = tmp.path().join("local");
    let tb = TreeBuilder::new(&remote);
    tb.file("doc.pdf", [1u8; 1500], T0 + 7)
        .file("small.txt", b"small\n", T0 + 9)
        .file("gone.txt", b"gone\n", T0);
    let s = IndexServer::start(&remote, IndexServerOptions::default()).await;
    let pkg = package(&s.url(), &local, "");
    let first = run(&pkg).await;
    ok(&first);
    assert_eq!(first.counts.files_fetched, 3, "{first:#?}");
    // doc.pdf's time came from HEAD: exact, although the page shows minutes.
    assert_dirs_equal(&remote, &local, Compare::CONTENT);
    let m = std::fs::metadata(local.join("doc.pdf")).unwrap();
    let secs = m
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(secs, T0 + 7);
    assert_eq!(run(&pkg).await.counts, Counts::default());

    // 1500 → 1510 bytes: the page says "1.5K" both times; HEAD tells them apart.
    tb.file("doc.pdf", [2u8; 1510], T0 + 7);
    std::fs::remove_file(remote.join("gone.txt")).unwrap();
    let again = run(&pkg).await;
    ok(&again);
    assert_eq!(again.counts.files_fetched, 1, "{again:#?}");
    assert_eq!(again.counts.files_deleted, 1, "{again:#?}");
    assert_dirs_equal(&remote, &local, Compare::CONTENT);
}

#[tokio::test]
async fn nothing_is_deleted_under_a_page_that_proves_nothing_or_a_missing_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("served");
    let local = tmp.path().join("local");
    TreeBuilder::new(&remote)
        .file("a/one.txt", b"1\n", T0)
        .file("b/two.txt", b"2\n", T0)
        .file("top.txt", b"top\n", T0);
    let s = IndexServer::start(&remote, IndexServerOptions::default()).await;
    let pkg = package(&s.url(), &local, "");
    ok(&run(&pkg).await);
    assert_dirs_equal(&remote, &local, Compare::CONTENT);

    // `a/` answers with a welcome page, `b/` with 404: neither looks empty.
    s.quirk(
        "/a/",
        Quirk::Page(200, "<html><body>Welcome</body></html>".into()),
    );
    s.quirk("/b/", Quirk::Page(404, "not here".into()));
    let r = run(&pkg).await;
    assert_eq!(r.counts.files_deleted, 0, "{r:#?}");
    assert_eq!(r.counts.dirs_deleted, 0, "{r:#?}");
    assert!(!r.listing_complete);
    let mut dirs = r.incomplete_dirs.clone();
    dirs.sort();
    assert_eq!(dirs, ["source:a", "source:b"], "{r:#?}");
    assert!(local.join("a/one.txt").exists() && local.join("b/two.txt").exists());

    // The whole site answering with a page that is no index: nothing at all goes.
    s.quirk("/", Quirk::Page(200, "<p>down for maintenance</p>".into()));
    let r = run(&pkg).await;
    assert_eq!(r.counts.files_deleted, 0, "{r:#?}");
    assert!(local.join("top.txt").exists());
}

#[tokio::test]
async fn a_kept_partial_file_is_resumed_with_range() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("served");
    let local = tmp.path().join("local");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    TreeBuilder::new(&remote).file("big.iso", &content, T0 + 3);
    // What an interrupted run left: the first 100,000 bytes, stamped with the listed time.
    TreeBuilder::new(&local).file(".in.big.iso.", &content[..100_000], T0 + 3);
    let s = IndexServer::start(&remote, IndexServerOptions::default()).await;
    let pkg = package(&s.url(), &local, "");
    let r = run(&pkg).await;
    ok(&r);
    assert_eq!(r.counts.files_fetched, 1, "{r:#?}");
    assert_eq!(r.counts.bytes_fetched, 200_000, "{r:#?}");
    assert_eq!(std::fs::read(local.join("big.iso")).unwrap(), content);
    assert!(!local.join(".in.big.iso.").exists());
    let ranged: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|q| q.method == "GET" && q.range.is_some())
        .collect();
    assert_eq!(ranged.len(), 1, "{ranged:?}");
    assert_eq!(ranged[0].range.as_deref(), Some("bytes=100000-"));
}

#[tokio::test]
async fn a_tar_gz_sent_with_content_encoding_gzip_is_stored_as_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("served");
    let local = tmp.path().join("local");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &[b'z'; 100_000]).unwrap();
    let gz = gz.finish().unwrap();
    TreeBuilder::new(&remote).file("pkg-1.0.tar.gz", &gz, T0);
    let opts = IndexServerOptions {
        gzip_encoding: true,
        ..Default::default()
    };
    let s = IndexServer::start(&remote, opts).await;
    let r = run(&package(&s.url(), &local, "")).await;
    ok(&r);
    assert_eq!(std::fs::read(local.join("pkg-1.0.tar.gz")).unwrap(), gz);
}

#[tokio::test]
async fn https_with_a_test_root_and_http2_mirrors_and_reruns_to_nothing() {
    if Nginx::find().is_none() {
        eprintln!("{}", Nginx::skip_message());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("served");
    let local = tmp.path().join("local");
    fill(&remote);
    let cert = TestCert::localhost();
    let opts = NginxOptions {
        tls: Some(cert.clone()),
        auth: Some(("mirror".into(), "tls-pw".into())),
    };
    let n = Nginx::start(&remote, &opts).await.unwrap();
    let pkg = package(
        &n.url(NginxFormat::Json),
        &local,
        "\tremote_user=mirror\n\tremote_password=tls-pw\n",
    );
    // connect() would trust only the system's roots; the test adds its own.
    let site = pkg.site.clone().unwrap();
    let mut cfg = mirror_sync::http_config(&pkg, &site).unwrap();
    cfg.tls_roots = vec![cert.der.clone()];
    let remote_tree = HttpRemote::new(cfg).unwrap();
    let opts = RunOptions::default();
    let go = || mirror_sync::run_package_on(&pkg, &opts, &NoEvents, Arc::new(remote_tree.clone()));
    let first = go().await;
    ok(&first);
    assert_eq!(first.counts.files_fetched, 5, "{first:#?}");
    assert_dirs_equal(&remote, &local, Compare::MIRRORED);
    assert_eq!(go().await.counts, Counts::default());
    let st = remote_tree.stats();
    assert!(
        st.http2 > 0 && st.http2 == st.pages + st.heads + st.gets,
        "{st:?}"
    );
    // The plain connect() path refuses the unknown certificate, and says so.
    let r = run(&pkg).await;
    assert_eq!(r.status, PackageStatus::Failed, "{r:#?}");
    let text = format!("{r:?}");
    assert!(text.contains("certificate"), "{text}");
    assert!(!text.contains("tls-pw"), "{text}");
}
