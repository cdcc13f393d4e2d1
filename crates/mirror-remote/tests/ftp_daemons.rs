//! The FTP backend against real Debian daemons on 127.0.0.1: what only a real server
//! shows. Each test skips with a loud message when its daemon is not installed
//! (`scripts/install-test-deps` installs both).

// A skipped daemon test says so loudly, and the suite's report is printed.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::time::Duration;

use mirror_remote::ftp::listing::ListTz;
use mirror_remote::ftp::{FtpConfig, FtpRemote, FtpSecret};
use mirror_remote::{Kind, Precision, RelPath, Remote, WalkOptions};
use mirror_testkit::TreeBuilder;
use mirror_testkit::ftp_daemon::{Daemon, DaemonOptions, FtpDaemon};
use tokio::io::AsyncReadExt;

fn config(d: &FtpDaemon) -> FtpConfig {
    let mut cfg = FtpConfig::new("127.0.0.1");
    cfg.port = d.port;
    cfg.user = d.user.clone();
    cfg.password = FtpSecret(d.password.clone());
    cfg.timeout = Duration::from_secs(20);
    cfg.retry_base = Duration::from_millis(50);
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

async fn daemon(which: Daemon, root: &std::path::Path, opts: DaemonOptions) -> Option<FtpDaemon> {
    if FtpDaemon::find(which).is_none() {
        eprintln!("{}", FtpDaemon::skip_message(which));
        return None;
    }
    Some(FtpDaemon::start(which, root, &opts).await.unwrap())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A file rewritten within the same minute, same size: `LIST` cannot tell (it shows
/// minutes), `stat` can (`MDTM`, exact seconds). This is the ambiguity the engine resolves
/// by asking `stat` when a minute-precision time equals the local one.
#[tokio::test]
async fn vsftpd_same_minute_change_is_seen_through_mdtm() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("srv");
    // Two hours ago, at second 10 of its minute: `ls` shows HH:MM.
    let minute = (now() - 7_200).div_euclid(60) * 60;
    let tb = TreeBuilder::new(&root);
    tb.file("f.txt", b"version 1\n", minute + 10);
    let Some(d) = daemon(Daemon::Vsftpd, &root, DaemonOptions::default()).await else {
        return;
    };
    let r = FtpRemote::new(config(&d)).unwrap();
    let f = RelPath::new("f.txt").unwrap();
    let before = r.walk(&recursive()).await.unwrap();
    let e = before.get(&f).unwrap();
    assert_eq!((e.precision, e.mtime), (Precision::Minute, Some(minute)));

    tb.file("f.txt", b"version 2\n", minute + 40);
    let after = r.walk(&recursive()).await.unwrap();
    let e2 = after.get(&f).unwrap();
    assert_eq!((e2.size, e2.mtime), (e.size, e.mtime), "LIST cannot tell");

    let exact = r.stat(&f).await.unwrap().unwrap();
    assert_eq!(exact.precision, Precision::Second);
    assert_eq!(exact.mtime, Some(minute + 40));
    assert_eq!(r.exact_mtime(&f).await.unwrap(), Some(minute + 40));
    // vsftpd ignores `LIST -R`: the walk still found everything, folder by folder.
    assert!(after.is_complete());
}

#[tokio::test]
async fn vsftpd_refusing_extra_logins_is_used_with_fewer_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("srv");
    let tb = TreeBuilder::new(&root);
    for dir in 0..8 {
        for file in 0..3 {
            tb.file(
                &format!("d {dir}/f{file}.txt"),
                format!("{dir}/{file}\n"),
                1_300_000_007,
            );
        }
    }
    let opts = DaemonOptions {
        max_per_ip: Some(2),
        ..DaemonOptions::default()
    };
    let Some(d) = daemon(Daemon::Vsftpd, &root, opts).await else {
        return;
    };
    let mut cfg = config(&d);
    cfg.max_sessions = 4;
    let r = FtpRemote::new(cfg).unwrap();
    let l = r.walk(&recursive()).await.unwrap();
    assert!(l.is_complete(), "{:?}", l.incomplete);
    let files: Vec<RelPath> = l
        .entries
        .iter()
        .filter(|e| e.kind == Kind::File)
        .map(|e| e.path.clone())
        .collect();
    assert_eq!(files.len(), 24);
    let reads = files.iter().map(|p| {
        let r = r.clone();
        async move {
            let mut s = r.open(p, 0).await.unwrap();
            let mut buf = String::new();
            s.read_to_string(&mut buf).await.unwrap();
            (p.clone(), buf)
        }
    });
    for (p, content) in futures::future::join_all(reads).await {
        let want = p
            .as_str()
            .trim_start_matches("d ")
            .replace("/f", "/")
            .replace(".txt", "\n");
        assert_eq!(content, want, "{p}");
    }
    assert!(r.login_refusals() >= 1, "vsftpd never refused a login");
    assert!(r.features().max_parallel <= 2);
}

/// pure-ftpd lists with MLSD: exact seconds, so a same-size change is seen by time alone.
#[tokio::test]
async fn pure_ftpd_same_size_change_is_caught_by_time() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("srv");
    let tb = TreeBuilder::new(&root);
    tb.file("a/f.txt", b"aaaa", 1_300_000_007);
    let Some(d) = daemon(Daemon::PureFtpd, &root, DaemonOptions::default()).await else {
        return;
    };
    let r = FtpRemote::new(config(&d)).unwrap();
    let f = RelPath::new("a/f.txt").unwrap();
    let before = r.walk(&recursive()).await.unwrap();
    assert_eq!(before.get(&f).unwrap().mtime, Some(1_300_000_007));
    assert_eq!(before.get(&f).unwrap().precision, Precision::Second);
    tb.file("a/f.txt", b"bbbb", 1_300_000_008);
    let after = r.walk(&recursive()).await.unwrap();
    assert_eq!(after.get(&f).unwrap().mtime, Some(1_300_000_008));
}
