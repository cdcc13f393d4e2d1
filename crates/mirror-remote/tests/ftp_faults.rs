//! The FTP backend against a scripted server that misbehaves on purpose: hostile names,
//! a data connection dropped mid-file, logins refused for "too many connections", a
//! `LIST -R` that is ignored, listings that fail.

use std::collections::BTreeMap;
use std::time::Duration;

use mirror_remote::ftp::listing::ListTz;
use mirror_remote::ftp::{FtpConfig, FtpRemote, FtpSecret};
use mirror_remote::{ErrorKind, Kind, RelPath, Remote, WalkOptions};
use mirror_testkit::ftp_script::{Script, ScriptServer, ls_dir, ls_file, ls_link};
use tokio::io::AsyncReadExt;

fn config(port: u16) -> FtpConfig {
    let mut cfg = FtpConfig::new("127.0.0.1");
    cfg.port = port;
    cfg.password = FtpSecret("secret-pw".into());
    cfg.root = "/".into();
    cfg.timeout = Duration::from_secs(10);
    cfg.retry_base = Duration::from_millis(20);
    cfg.retries = 10;
    cfg.reuse = false;
    cfg.listing.tz = ListTz::Utc;
    cfg
}

fn recursive() -> WalkOptions {
    WalkOptions {
        recursive: true,
        ignore: None,
    }
}

fn p(s: &str) -> RelPath {
    RelPath::new(s).unwrap()
}

fn paths(l: &mirror_remote::Listing) -> Vec<&str> {
    l.entries.iter().map(|e| e.path.as_str()).collect()
}

const DATE: &str = "Mar 13  2011";

#[tokio::test]
async fn hostile_names_are_refused_and_reported() {
    let mut dirs = BTreeMap::new();
    dirs.insert(
        "/".to_owned(),
        vec![
            ls_file("ok.txt", 3, DATE),
            ls_file("../x", 3, DATE),
            ls_file("/etc/x", 3, DATE),
            ls_file("a/../../x", 3, DATE),
            ls_link("root-link", "/", DATE),
            ls_link("up-link", "../../outside", DATE),
            ls_link("fine-link", "ok.txt", DATE),
            ls_dir("sub", DATE),
        ],
    );
    dirs.insert(
        "/sub".to_owned(),
        vec![
            ls_file("inner.txt", 3, DATE),
            ls_link("escape", "../../etc/passwd", DATE),
        ],
    );
    let server = ScriptServer::start(Script {
        dirs,
        ..Script::default()
    })
    .await;
    let r = FtpRemote::new(config(server.port)).unwrap();
    let l = r.walk(&recursive()).await.unwrap();
    assert_eq!(
        paths(&l),
        ["fine-link", "ok.txt", "sub", "sub/inner.txt"],
        "{l:?}"
    );
    let refused: Vec<&str> = l.refused.iter().map(|p| p.message.as_str()).collect();
    for name in [
        "../x",
        "/etc/x",
        "a/../../x",
        "root-link",
        "up-link",
        "escape",
    ] {
        assert!(
            refused.iter().any(|m| m.contains(name)),
            "`{name}` not reported in {refused:#?}"
        );
    }
    assert!(l.is_complete(), "{:?}", l.incomplete);
}

#[tokio::test]
async fn hostile_mlsd_names_are_refused_too() {
    let mut dirs = BTreeMap::new();
    dirs.insert(
        "/".to_owned(),
        vec![
            "type=file;size=3;modify=20110313070647; ok.txt".to_owned(),
            "type=file;size=3;modify=20110313070647; ../x".to_owned(),
            "type=file;size=3;modify=20110313070647; /etc/x".to_owned(),
            "type=file;size=3;modify=20110313070647; a/b".to_owned(),
            "type=OS.unix=slink:/;size=1;modify=20110313070647; root-link".to_owned(),
            "type=cdir;modify=20110313070647; .".to_owned(),
        ],
    );
    let server = ScriptServer::start(Script {
        dirs,
        mlsd: true,
        ..Script::default()
    })
    .await;
    let r = FtpRemote::new(config(server.port)).unwrap();
    let l = r.walk(&recursive()).await.unwrap();
    assert_eq!(paths(&l), ["ok.txt"]);
    assert_eq!(l.entries[0].mtime, Some(1_300_000_007));
    assert_eq!(l.refused.len(), 4, "{:#?}", l.refused);
}

#[tokio::test]
async fn ignored_dash_r_does_not_make_subdirectories_vanish() {
    // The server lists only the current folder whatever the flags (vsftpd's default).
    let mut dirs = BTreeMap::new();
    dirs.insert(
        "/".to_owned(),
        vec![ls_file("top.txt", 1, DATE), ls_dir("a", DATE)],
    );
    dirs.insert(
        "/a".to_owned(),
        vec![ls_file("in-a.txt", 1, DATE), ls_dir("b c", DATE)],
    );
    dirs.insert("/a/b c".to_owned(), vec![ls_file("deep.txt", 1, DATE)]);
    let server = ScriptServer::start(Script {
        dirs,
        ..Script::default()
    })
    .await;
    let r = FtpRemote::new(config(server.port)).unwrap();
    let l = r.walk(&recursive()).await.unwrap();
    assert_eq!(
        paths(&l),
        ["a", "a/b c", "a/b c/deep.txt", "a/in-a.txt", "top.txt"]
    );
    assert!(l.is_complete());
}

#[tokio::test]
async fn a_failing_subdirectory_is_incomplete_not_empty() {
    let mut dirs = BTreeMap::new();
    dirs.insert(
        "/".to_owned(),
        vec![
            ls_file("top.txt", 1, DATE),
            ls_dir("gone", DATE),
            ls_dir("ok", DATE),
        ],
    );
    // `gone` is listed but cannot be entered (550), like a folder without permission.
    dirs.insert("/ok".to_owned(), vec![ls_file("x", 1, DATE)]);
    let server = ScriptServer::start(Script {
        dirs,
        ..Script::default()
    })
    .await;
    let r = FtpRemote::new(config(server.port)).unwrap();
    let l = r.walk(&recursive()).await.unwrap();
    assert_eq!(paths(&l), ["gone", "ok", "ok/x", "top.txt"]);
    assert_eq!(l.incomplete.len(), 1);
    assert_eq!(l.incomplete[0].path.as_str(), "gone");
    assert!(!l.is_known(&p("gone/anything")));
    assert!(l.is_known(&p("ok/x")));
}

#[tokio::test]
async fn an_ls_error_inside_a_listing_marks_the_directory_incomplete() {
    let mut dirs = BTreeMap::new();
    dirs.insert(
        "/".to_owned(),
        vec![
            ".:".to_owned(),
            ls_file("top.txt", 1, DATE),
            ls_dir("locked", DATE),
            String::new(),
            "./locked:".to_owned(),
            "ls: ./locked: Permission denied".to_owned(),
        ],
    );
    let server = ScriptServer::start(Script {
        dirs,
        ..Script::default()
    })
    .await;
    let r = FtpRemote::new(config(server.port)).unwrap();
    let l = r.walk(&recursive()).await.unwrap();
    assert!(paths(&l).contains(&"top.txt"));
    // Listing `locked` on its own fails (CWD 550): it stays unknown.
    assert!(!l.is_known(&p("locked/x")), "{l:?}");
}

#[tokio::test]
async fn the_root_failing_fails_the_walk() {
    let server = ScriptServer::start(Script::default()).await;
    let mut cfg = config(server.port);
    cfg.root = "/no/such/dir".into();
    let r = FtpRemote::new(cfg).unwrap();
    let e = r.walk(&recursive()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("ftp://anonymous@127.0.0.1:"), "{e}");
    assert!(!e.to_string().contains("secret-pw"), "{e}");
}

fn big() -> Vec<u8> {
    (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn a_data_connection_dropped_mid_file_is_resumed() {
    let data = big();
    let mut files = BTreeMap::new();
    files.insert("/big.bin".to_owned(), (data.clone(), 1_300_000_007));
    let server = ScriptServer::start(Script {
        files,
        dirs: BTreeMap::from([("/".to_owned(), vec![])]),
        drop_retr: Some(("/big.bin".to_owned(), 70_000, 2)),
        ..Script::default()
    })
    .await;
    let r = FtpRemote::new(config(server.port)).unwrap();
    let mut got = Vec::new();
    r.open(&p("big.bin"), 0)
        .await
        .unwrap()
        .read_to_end(&mut got)
        .await
        .unwrap();
    assert!(got == data, "content differs ({} bytes)", got.len());
    // Cut at 70,000 twice: the second attempt resumed at 70,000 and was cut there again.
    let rests = server.counters.rests.lock().unwrap().clone();
    assert_eq!(rests, [70_000, 70_000]);
    assert_eq!(r.retries_used(), 2);
}

#[tokio::test]
async fn open_at_an_offset_resumes_with_rest() {
    let data = big();
    let mut files = BTreeMap::new();
    files.insert("/big.bin".to_owned(), (data.clone(), 1_300_000_007));
    let server = ScriptServer::start(Script {
        files,
        dirs: BTreeMap::from([("/".to_owned(), vec![])]),
        ..Script::default()
    })
    .await;
    let r = FtpRemote::new(config(server.port)).unwrap();
    let mut got = Vec::new();
    r.open(&p("big.bin"), 123_456)
        .await
        .unwrap()
        .read_to_end(&mut got)
        .await
        .unwrap();
    assert!(got[..] == data[123_456..]);
    assert_eq!(*server.counters.rests.lock().unwrap(), [123_456]);
}

#[tokio::test]
async fn the_retry_budget_runs_out() {
    let mut files = BTreeMap::new();
    files.insert("/big.bin".to_owned(), (big(), 1_300_000_007));
    let server = ScriptServer::start(Script {
        files,
        dirs: BTreeMap::from([("/".to_owned(), vec![])]),
        drop_retr: Some(("/big.bin".to_owned(), 10, 1000)),
        ..Script::default()
    })
    .await;
    let mut cfg = config(server.port);
    cfg.retries = 3;
    let r = FtpRemote::new(cfg).unwrap();
    let mut got = Vec::new();
    let err = r
        .open(&p("big.bin"), 0)
        .await
        .unwrap()
        .read_to_end(&mut got)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("426"), "{err}");
    assert_eq!(r.retries_used(), 3);
}

#[tokio::test]
async fn a_server_refusing_extra_logins_is_used_with_fewer_sessions() {
    // 12 folders of 3 files: the walk and the reads want 4 sessions, the server allows 2.
    let mut dirs = BTreeMap::new();
    let mut files = BTreeMap::new();
    let mut top = Vec::new();
    for d in 0..12 {
        top.push(ls_dir(&format!("d{d}"), DATE));
        let mut lines = Vec::new();
        for f in 0..3 {
            lines.push(ls_file(&format!("f{f}"), 5, DATE));
            files.insert(format!("/d{d}/f{f}"), (b"hello".to_vec(), 1_300_000_007));
        }
        dirs.insert(format!("/d{d}"), lines);
    }
    dirs.insert("/".to_owned(), top);
    let server = ScriptServer::start(Script {
        dirs,
        files,
        max_sessions: Some(2),
        ..Script::default()
    })
    .await;
    let r = FtpRemote::new(config(server.port)).unwrap();
    let l = r.walk(&recursive()).await.unwrap();
    assert_eq!(l.entries.len(), 12 * 4);
    assert!(l.is_complete());
    let reads = l.entries.iter().filter(|e| e.kind == Kind::File).map(|e| {
        let r = r.clone();
        let path = e.path.clone();
        async move {
            let mut s = r.open(&path, 0).await?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf)
                .await
                .map_err(|e| mirror_remote::RemoteError::io("read", &e))?;
            Ok::<_, mirror_remote::RemoteError>(buf)
        }
    });
    let results = futures::future::join_all(reads).await;
    for res in results {
        assert_eq!(res.unwrap(), b"hello");
    }
    assert!(r.login_refusals() >= 1, "the server never refused");
    assert!(
        server
            .counters
            .peak
            .load(std::sync::atomic::Ordering::SeqCst)
            <= 2
    );
    assert!(r.features().max_parallel <= 2);
}

#[tokio::test]
async fn names_with_line_breaks_are_never_sent() {
    let server = ScriptServer::start(Script {
        dirs: BTreeMap::from([("/".to_owned(), vec![])]),
        ..Script::default()
    })
    .await;
    let r = FtpRemote::new(config(server.port)).unwrap();
    let e = r.open(&p("x\r\nDELE y"), 0).await.err().unwrap();
    assert_eq!(e.kind, ErrorKind::UnsafeName, "{e}");
    let cmds = server.counters.commands.lock().unwrap().clone();
    assert!(!cmds.iter().any(|c| c.starts_with("DELE")), "{cmds:?}");
}

#[tokio::test]
async fn store_remote_listing_and_ls_lr_files() {
    let mut dirs = BTreeMap::new();
    dirs.insert(
        "/".to_owned(),
        vec![ls_file("top.txt", 1, DATE), ls_dir("a", DATE)],
    );
    dirs.insert("/a".to_owned(), vec![ls_file("in-a.txt", 1, DATE)]);
    let server = ScriptServer::start(Script {
        dirs,
        ..Script::default()
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let stored = tmp.path().join("listing.txt");
    let mut cfg = config(server.port);
    cfg.listing.store_remote_listing = Some(stored.clone());
    let r = FtpRemote::new(cfg.clone()).unwrap();
    let first = r.walk(&recursive()).await.unwrap();
    let text = std::fs::read_to_string(&stored).unwrap();
    assert!(text.contains("top.txt") && text.contains("./a:") && text.contains("in-a.txt"));

    // The stored copy read back as local_ls_lR_file (gzipped too) gives the same tree.
    let gz = tmp.path().join("ls-lR.gz");
    {
        use std::io::Write;
        let mut enc =
            flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
    }
    for file in [stored.clone(), gz] {
        let mut cfg = config(1);
        cfg.listing.local_ls_lr_file = Some(file);
        let offline = FtpRemote::new(cfg).unwrap();
        let l = offline.walk(&recursive()).await.unwrap();
        assert_eq!(paths(&l), paths(&first));
        assert!(l.is_complete(), "{:?}", l.incomplete);
    }

    // ls_fix_mappings rewrites every listed path.
    let mut cfg = config(server.port);
    cfg.listing.ls_fix = Some(std::sync::Arc::new(|p: &str| p.replace("top", "TOP")));
    let fixed = FtpRemote::new(cfg)
        .unwrap()
        .walk(&recursive())
        .await
        .unwrap();
    assert!(paths(&fixed).contains(&"TOP.txt"));
}
