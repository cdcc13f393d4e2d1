//! The HTTP backend's behaviour beyond the shared suite, against real servers on 127.0.0.1
//! (the in-process axum server, and Debian's nginx where installed): pages that prove
//! nothing, missing and failing subdirectories, redirects on and off the site,
//! `Content-Encoding: gzip` bodies, resuming and mending transfers, which entries get a
//! `HEAD`, the minute that is not over, symlink loops, credentials and certificates.

// A skipped daemon test says so loudly.
#![allow(clippy::print_stderr)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mirror_remote::http::{HttpConfig, HttpRemote};
use mirror_remote::{ErrorKind, Kind, Listing, Precision, RelPath, Remote, WalkOptions};
use mirror_testkit::TreeBuilder;
use mirror_testkit::http_index::{IndexServer, IndexServerOptions, Layout, Quirk, TestCert};
use mirror_testkit::http_nginx::{Nginx, NginxFormat, NginxOptions};
use tokio::io::AsyncReadExt;

const T0: i64 = 1_600_000_000;

fn p(s: &str) -> RelPath {
    RelPath::new(s).unwrap()
}

fn config(url: &str) -> HttpConfig {
    let mut cfg = HttpConfig::new(url.parse().unwrap());
    cfg.timeout = Duration::from_secs(10);
    cfg.retry_base = Duration::from_millis(20);
    cfg.retries = 3;
    cfg
}

fn remote(url: &str) -> HttpRemote {
    HttpRemote::new(config(url)).unwrap()
}

async fn walk(r: &HttpRemote) -> Listing {
    r.walk(&WalkOptions {
        recursive: true,
        ignore: None,
    })
    .await
    .unwrap()
}

fn paths(l: &Listing) -> Vec<&str> {
    l.entries.iter().map(|e| e.path.as_str()).collect()
}

fn incomplete(l: &Listing) -> Vec<&str> {
    l.incomplete.iter().map(|p| p.path.as_str()).collect()
}

async fn read(r: &HttpRemote, path: &str, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut s = r
        .open(&p(path), offset)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    Ok(buf)
}

/// A tree with a file at the top and one in `sub/`.
fn small_tree(dir: &std::path::Path) -> TreeBuilder {
    let tb = TreeBuilder::new(dir);
    tb.file("top.txt", b"top\n", T0)
        .file("sub/a.txt", b"a\n", T0 + 1);
    tb
}

fn big() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn a_page_that_is_no_index_marks_its_directory_incomplete_never_empty() {
    let tmp = tempfile::tempdir().unwrap();
    small_tree(tmp.path());
    let s = IndexServer::start(tmp.path(), IndexServerOptions::default()).await;
    // A site's own welcome page where the index would be.
    s.quirk(
        "/sub/",
        Quirk::Page(200, "<html><body><h1>Welcome!</h1></body></html>".into()),
    );
    let r = remote(&s.url());
    let l = walk(&r).await;
    assert_eq!(paths(&l), ["sub", "top.txt"]);
    assert_eq!(incomplete(&l), ["sub"]);
    assert!(
        l.incomplete[0].message.contains("not a directory index"),
        "{:?}",
        l.incomplete
    );
    // Listing that directory alone is an error, not an empty list.
    let e = r.list(&p("sub")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Other);

    // At the root, the whole tree is unknown (and nothing may be deleted).
    s.quirk("/", Quirk::Page(200, "<p>maintenance</p>".into()));
    let l = walk(&r).await;
    assert!(l.entries.is_empty());
    assert_eq!(incomplete(&l), [""]);
    assert!(!l.is_known(&p("top.txt")));
}

#[tokio::test]
async fn a_missing_or_failing_subdirectory_is_incomplete_and_the_root_fails() {
    let tmp = tempfile::tempdir().unwrap();
    small_tree(tmp.path());
    let s = IndexServer::start(tmp.path(), IndexServerOptions::default()).await;
    let r = remote(&s.url());
    s.quirk("/sub/", Quirk::Page(404, "gone".into()));
    let l = walk(&r).await;
    assert_eq!(incomplete(&l), ["sub"]);
    assert!(
        l.incomplete[0].message.contains("404"),
        "{:?}",
        l.incomplete
    );

    // 503 is retried within the budget, then the directory is incomplete.
    s.clear_requests();
    s.quirk("/sub/", Quirk::Page(503, "busy".into()));
    let l = walk(&r).await;
    assert_eq!(incomplete(&l), ["sub"]);
    let tries = s.requests().iter().filter(|q| q.path == "/sub/").count();
    assert_eq!(tries, 4, "one try and three retries");

    // The root itself: the walk fails, with the class of the status.
    s.clear_quirks();
    s.quirk("/", Quirk::Page(404, "no".into()));
    let e = remote(&s.url()).walk(&WalkOptions::default()).await;
    assert_eq!(e.unwrap_err().kind, ErrorKind::NotFound);
    s.quirk("/", Quirk::Page(403, "no".into()));
    let e = remote(&s.url()).walk(&WalkOptions::default()).await;
    assert_eq!(e.unwrap_err().kind, ErrorKind::PermissionDenied);
}

#[tokio::test]
async fn redirects_on_the_site_are_followed_and_off_it_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let tb = TreeBuilder::new(tmp.path().join("a"));
    tb.file("new/f.txt", b"moved here\n", T0)
        .file("new/g.txt", b"g\n", T0)
        .file("new/h.txt", b"h\n", T0)
        .file("elsewhere/f.txt", b"the real f\n", T0);
    let other_tree = tmp.path().join("b");
    TreeBuilder::new(&other_tree).file("h.txt", b"foreign\n", T0);
    let a = IndexServer::start(tb.root(), IndexServerOptions::default()).await;
    let b = IndexServer::start(&other_tree, IndexServerOptions::default()).await;

    // The tree's own URL moved: followed, and the listing is the new page's.
    a.quirk("/old/", Quirk::Redirect("/new/".into()));
    // A file moved within the site, and one moved to another site.
    a.quirk("/new/f.txt", Quirk::Redirect("/elsewhere/f.txt".into()));
    a.quirk("/new/h.txt", Quirk::Redirect(format!("{}h.txt", b.url())));
    let r = remote(&format!("{}old/", a.url()));
    let l = walk(&r).await;
    assert_eq!(paths(&l), ["f.txt", "g.txt", "h.txt"]);
    assert!(l.is_complete());
    assert_eq!(read(&r, "f.txt", 0).await.unwrap(), b"the real f\n");
    let e = r.open(&p("h.txt"), 0).await.err().unwrap();
    assert!(
        e.to_string().contains(&format!(
            "redirected off the site to http://127.0.0.1:{}",
            b.port
        )),
        "{e}"
    );

    // A directory page redirected off the site is not listed.
    a.quirk("/new/sub/", Quirk::Redirect(b.url()));
    std::fs::create_dir(tb.root().join("new/sub")).unwrap();
    let l = walk(&r).await;
    assert_eq!(incomplete(&l), ["sub"]);

    // Links to another site on an index page are never entries.
    a.quirk(
        "/links/",
        Quirk::Page(
            200,
            format!(
                "<html><head><title>Index of /links/</title></head><body><h1>Index of /links/</h1>\
                 <hr><pre><a href=\"../\">../</a>\n\
                 <a href=\"{}h.txt\">h.txt</a>  01-Jan-2020 00:00   8\n\
                 <a href=\"local.txt\">local.txt</a>  01-Jan-2020 00:00   2\n\
                 </pre><hr></body></html>",
                b.url()
            ),
        ),
    );
    let l = walk(&remote(&format!("{}links/", a.url()))).await;
    assert_eq!(paths(&l), ["local.txt"]);
    assert!(b.requests().is_empty(), "{:?}", b.requests());
}

#[tokio::test]
async fn a_gzip_encoded_tar_gz_is_read_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    // Real gzip bytes: a decompressing client would hand back something else.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &[b'x'; 5000]).unwrap();
    let gz = gz.finish().unwrap();
    TreeBuilder::new(tmp.path()).file("pkg.tar.gz", &gz, T0);
    let opts = IndexServerOptions {
        gzip_encoding: true,
        ..Default::default()
    };
    let s = IndexServer::start(tmp.path(), opts).await;
    let r = remote(&s.url());
    let l = walk(&r).await;
    assert_eq!(l.entries[0].size, Some(gz.len() as u64));
    assert_eq!(read(&r, "pkg.tar.gz", 0).await.unwrap(), gz);
    assert_eq!(read(&r, "pkg.tar.gz", 10).await.unwrap(), gz[10..]);
}

#[tokio::test]
async fn resuming_asks_for_the_rest_or_skips_what_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let content = big();
    TreeBuilder::new(tmp.path()).file("big.bin", &content, T0);
    let s = IndexServer::start(tmp.path(), IndexServerOptions::default()).await;
    let r = remote(&s.url());
    assert_eq!(
        read(&r, "big.bin", 123_456).await.unwrap(),
        content[123_456..]
    );
    let q = s.requests();
    assert_eq!(q.last().unwrap().range.as_deref(), Some("bytes=123456-"));

    // A server that ignores ranges sends the whole file: the kept part is skipped.
    let opts = IndexServerOptions {
        ranges: false,
        ..Default::default()
    };
    let s = IndexServer::start(tmp.path(), opts).await;
    let r = remote(&s.url());
    assert_eq!(
        read(&r, "big.bin", 123_456).await.unwrap(),
        content[123_456..]
    );
    // Asking for the rest of a file that is complete gives nothing; past its end, an error.
    assert!(read(&r, "big.bin", 300_000).await.unwrap().is_empty());
    let s2 = IndexServer::start(tmp.path(), IndexServerOptions::default()).await;
    let r2 = remote(&s2.url());
    assert!(read(&r2, "big.bin", 300_000).await.unwrap().is_empty());
    let e = r2.open(&p("big.bin"), 300_001).await.err().unwrap();
    assert!(e.to_string().contains("cannot be resumed"), "{e}");
}

#[tokio::test]
async fn a_broken_transfer_is_mended_with_range_and_if_range() {
    let tmp = tempfile::tempdir().unwrap();
    let content = big();
    let tb = TreeBuilder::new(tmp.path());
    tb.file("big.bin", &content, T0);
    let s = IndexServer::start(tmp.path(), IndexServerOptions::default()).await;
    let r = remote(&s.url());
    s.quirk(
        "/big.bin",
        Quirk::Cut {
            after: 100_000,
            times: 1,
        },
    );
    assert_eq!(read(&r, "big.bin", 0).await.unwrap(), content);
    let gets: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|q| q.method == "GET")
        .collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(
        gets[1]
            .range
            .as_deref()
            .is_some_and(|r| r.starts_with("bytes=") && r != "bytes=0-"),
        "{gets:?}"
    );
    assert_eq!(
        gets[1].if_range.as_deref(),
        Some(httpdate::fmt_http_date(
            std::time::UNIX_EPOCH + Duration::from_secs(T0 as u64)
        ))
        .as_deref()
    );

    // The file changes between the break and the mend: the transfer fails instead of
    // splicing two versions.
    s.quirk(
        "/big.bin",
        Quirk::Cut {
            after: 100_000,
            times: 1,
        },
    );
    let mut stream = r.open(&p("big.bin"), 0).await.unwrap();
    tb.file("big.bin", vec![1u8; 300_000], T0 + 60);
    let mut buf = Vec::new();
    let e = stream.read_to_end(&mut buf).await.unwrap_err();
    assert!(e.to_string().contains("changed on the server"), "{e}");
}

#[tokio::test]
async fn head_is_asked_only_where_the_page_is_uncertain() {
    let tmp = tempfile::tempdir().unwrap();
    TreeBuilder::new(tmp.path())
        .file("small.txt", b"12 bytes....", T0)
        .file("big.bin", big(), T0 + 7)
        .file("skip/big2.bin", big(), T0 + 9);
    // Apache: sizes from 973 bytes up are rounded; those files get a HEAD.
    let s = IndexServer::start(tmp.path(), IndexServerOptions::default()).await;
    let r = remote(&s.url());
    let l = walk(&r).await;
    assert_eq!(r.stats().heads, 2);
    let e = l.get(&p("big.bin")).unwrap();
    assert_eq!(
        (e.size, e.mtime, e.precision),
        (Some(300_000), Some(T0 + 7), Precision::Second)
    );
    let e = l.get(&p("small.txt")).unwrap();
    assert_eq!((e.size, e.precision), (Some(12), Precision::Minute));

    // Only files the run will compare are worth it.
    let mut cfg = config(&s.url());
    cfg.refine = Some(Arc::new(|p: &RelPath| !p.as_str().starts_with("skip/")));
    let r = HttpRemote::new(cfg).unwrap();
    let l = walk(&r).await;
    assert_eq!(r.stats().heads, 1);
    assert_eq!(l.get(&p("skip/big2.bin")).unwrap().size, None);

    // lighttpd rounds every size: every file gets one.
    let opts = IndexServerOptions {
        layout: Layout::Lighttpd,
        ..Default::default()
    };
    let s = IndexServer::start(tmp.path(), opts).await;
    let r = remote(&s.url());
    walk(&r).await;
    assert_eq!(r.stats().heads, 3);

    // nginx's default page gives exact sizes: none.
    let opts = IndexServerOptions {
        layout: Layout::NginxHtml,
        ..Default::default()
    };
    let s = IndexServer::start(tmp.path(), opts).await;
    let r = remote(&s.url());
    walk(&r).await;
    assert_eq!(r.stats().heads, 0);
    assert_eq!(
        s.requests().iter().filter(|q| q.method == "HEAD").count(),
        0
    );
}

#[tokio::test]
async fn a_server_that_refuses_head_is_asked_with_a_one_byte_range() {
    let tmp = tempfile::tempdir().unwrap();
    TreeBuilder::new(tmp.path()).file("big.bin", big(), T0 + 7);
    let s = IndexServer::start(tmp.path(), IndexServerOptions::default()).await;
    s.quirk("/big.bin", Quirk::NoHead);
    let r = remote(&s.url());
    let e = walk(&r).await.entries[0].clone();
    assert_eq!(
        (e.size, e.mtime, e.precision),
        (Some(300_000), Some(T0 + 7), Precision::Second)
    );
    let asked: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|q| q.path == "/big.bin")
        .map(|q| (q.method, q.range))
        .collect();
    assert_eq!(
        asked,
        [
            ("HEAD".to_owned(), None),
            ("GET".to_owned(), Some("bytes=0-0".to_owned()))
        ]
    );
}

#[tokio::test]
async fn a_minute_not_over_lists_the_file_as_older_than_it() {
    let tmp = tempfile::tempdir().unwrap();
    let minute = T0 / 60 * 60;
    TreeBuilder::new(tmp.path()).file("f.txt", b"now\n", minute + 10);
    let opts = IndexServerOptions {
        layout: Layout::NginxHtml,
        ..Default::default()
    };
    let s = IndexServer::start(tmp.path(), opts).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let r = remote(&s.url());
    // The page is made 30 s into the file's minute: it may still change within it.
    s.set_clock_offset(minute + 30 - now);
    let e = walk(&r).await.entries[0].clone();
    assert_eq!(
        (e.mtime, e.precision),
        (Some(minute - 1), Precision::Minute)
    );
    // Once the minute is over, the listed minute itself.
    s.set_clock_offset(minute + 65 - now);
    let e = walk(&r).await.entries[0].clone();
    assert_eq!((e.mtime, e.precision), (Some(minute), Precision::Minute));
}

#[tokio::test]
async fn a_symlink_loop_on_the_server_ends_the_walk() {
    let tmp = tempfile::tempdir().unwrap();
    TreeBuilder::new(tmp.path())
        .file("f.txt", b"f\n", T0)
        .symlink("loop", ".");
    let s = IndexServer::start(tmp.path(), IndexServerOptions::default()).await;
    let r = remote(&s.url());
    let l = tokio::time::timeout(Duration::from_secs(30), walk(&r))
        .await
        .expect("the walk ends");
    assert_eq!(paths(&l), ["f.txt", "loop"]);
    assert_eq!(incomplete(&l), ["loop"]);
    assert!(
        l.incomplete[0].message.contains("loop"),
        "{:?}",
        l.incomplete
    );
}

#[tokio::test]
async fn credentials_are_sent_as_basic_auth_and_never_shown() {
    if Nginx::find().is_none() {
        eprintln!("{}", Nginx::skip_message());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    small_tree(tmp.path());
    let opts = NginxOptions {
        tls: None,
        auth: Some(("mirror".into(), "s3cr3t-pw".into())),
    };
    let n = Nginx::start(tmp.path(), &opts).await.unwrap();
    let url = n.url(NginxFormat::Html);

    let e = remote(&url)
        .walk(&WalkOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);

    let with_creds = url.replacen("http://", "http://mirror:s3cr3t-pw@", 1);
    let r = remote(&with_creds);
    let l = walk(&r).await;
    assert_eq!(paths(&l), ["sub", "sub/a.txt", "top.txt"]);
    assert_eq!(read(&r, "sub/a.txt", 0).await.unwrap(), b"a\n");
    let missing = r.open(&p("nope.txt"), 0).await.err().unwrap();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    let shown = format!("{} {missing} {r:?}", r.describe());
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(shown.contains("mirror@127.0.0.1"), "{shown}");

    // A wrong password is refused, and not shown either.
    let wrong = url.replacen("http://", "http://mirror:wrong-pw@", 1);
    let e = remote(&wrong)
        .walk(&WalkOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    assert!(!e.to_string().contains("wrong-pw"), "{e}");
}

#[tokio::test]
async fn an_untrusted_certificate_fails_at_once_and_an_extra_root_fixes_it() {
    let tmp = tempfile::tempdir().unwrap();
    small_tree(tmp.path());
    let cert = TestCert::localhost();
    let opts = IndexServerOptions {
        tls: Some(cert.clone()),
        ..Default::default()
    };
    let s = IndexServer::start(tmp.path(), opts).await;
    let mut cfg = config(&s.url());
    cfg.retry_base = Duration::from_secs(5);
    let started = Instant::now();
    let e = HttpRemote::new(cfg.clone())
        .unwrap()
        .walk(&WalkOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Fatal, "{e}");
    assert!(started.elapsed() < Duration::from_secs(5), "not retried");

    cfg.tls_roots = vec![cert.der];
    let r = HttpRemote::new(cfg).unwrap();
    let l = walk(&r).await;
    assert_eq!(paths(&l), ["sub", "sub/a.txt", "top.txt"]);
    assert_eq!(read(&r, "top.txt", 0).await.unwrap(), b"top\n");
    let st = r.stats();
    assert_eq!(st.http2, st.pages + st.gets, "{st:?}");
}

#[tokio::test]
async fn nginx_json_lists_seconds_and_reports_what_it_cannot_mirror() {
    if Nginx::find().is_none() {
        eprintln!("{}", Nginx::skip_message());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    small_tree(tmp.path()).symlink("dangling", "nowhere");
    let n = Nginx::start(tmp.path(), &NginxOptions::default())
        .await
        .unwrap();
    let r = remote(&n.url(NginxFormat::Json));
    let l = walk(&r).await;
    assert_eq!(paths(&l), ["sub", "sub/a.txt", "top.txt"]);
    assert!(l.is_complete(), "{:?}", l.incomplete);
    let e = l.get(&p("sub/a.txt")).unwrap();
    assert_eq!(
        (e.kind.clone(), e.size, e.mtime, e.precision),
        (Kind::File, Some(2), Some(T0 + 1), Precision::Second)
    );
    assert_eq!(l.refused.len(), 1, "{:?}", l.refused);
    assert!(l.refused[0].message.contains("dangling"), "{:?}", l.refused);
    assert_eq!(r.stats().heads, 0);
}

#[tokio::test]
async fn stat_answers_with_exact_facts() {
    let tmp = tempfile::tempdir().unwrap();
    small_tree(tmp.path());
    let s = IndexServer::start(tmp.path(), IndexServerOptions::default()).await;
    let r = remote(&s.url());
    let e = r.stat(&p("sub/a.txt")).await.unwrap().unwrap();
    assert_eq!(
        (e.size, e.mtime, e.precision),
        (Some(2), Some(T0 + 1), Precision::Second)
    );
    assert_eq!(r.stat(&p("sub")).await.unwrap().unwrap().kind, Kind::Dir);
    assert!(r.stat(&p("sub/none")).await.unwrap().is_none());
    assert!(r.stat(&p("none/a.txt")).await.unwrap().is_none());
    assert!(r.stat(&RelPath::root()).await.unwrap().is_some());
}
