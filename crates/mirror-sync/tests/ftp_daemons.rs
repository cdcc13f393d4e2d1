//! Whole packages against real FTP daemons on 127.0.0.1, through `run_package` exactly as
//! the binary runs them (packages-file text in, report out): a same-minute change on a
//! `LIST`-only server (vsftpd), and put mode to a writable server (pure-ftpd). Each test
//! skips with a loud message when its daemon is not installed (`scripts/install-test-deps`
//! installs both; CI runs it).

// A skipped daemon test says so loudly.
#![allow(clippy::print_stderr)]

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mirror_config::Package;
use mirror_sync::{NoEvents, PackageReport, PackageStatus, RunOptions};
use mirror_testkit::ftp_daemon::{Daemon, DaemonOptions, FtpDaemon};
use mirror_testkit::{Compare, TreeBuilder, assert_dirs_equal};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The daemon serving `root`, or `None` (with the skip message) when it is not installed.
async fn daemon(which: Daemon, root: &Path, opts: DaemonOptions) -> Option<FtpDaemon> {
    if FtpDaemon::find(which).is_none() {
        eprintln!("{}", FtpDaemon::skip_message(which));
        return None;
    }
    Some(FtpDaemon::start(which, root, &opts).await.unwrap())
}

/// One package read from packages-file text, as the binary reads it.
fn package(text: &str) -> Package {
    let loaded = mirror_config::parse_str(text, "test.packages").unwrap();
    let env = mirror_config::Env::current();
    loaded.records[0].to_package(&env).unwrap().0
}

async fn run(pkg: &Package) -> PackageReport {
    let r = mirror_sync::run_package(pkg, &RunOptions::default(), &NoEvents).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:#?}", r.lines);
    r
}

fn mtime(p: &Path) -> i64 {
    fs::metadata(p).unwrap().mtime()
}

/// vsftpd lists with `LIST` only, to the minute. A file rewritten with its size kept within
/// the minute of the local copy looks unchanged in the listing; the engine asks `MDTM`
/// for exactly such files, fetches it, and a re-run fetches nothing. The old files of the
/// tree (whose copies were made long after their minute ended) are never asked about.
#[tokio::test]
async fn vsftpd_same_minute_change_is_fetched_and_reruns_ask_little() {
    let tmp = tempfile::tempdir().unwrap();
    let (remote, local) = (tmp.path().join("srv"), tmp.path().join("copy"));
    let tb = TreeBuilder::new(&remote);
    let old = now() - 7_200;
    for i in 0..20 {
        tb.file(
            &format!("old/f{i:02}.txt"),
            format!("old file {i:02}\n"),
            old + i,
        );
    }
    let opts = DaemonOptions {
        log_commands: true,
        ..DaemonOptions::default()
    };
    let Some(d) = daemon(Daemon::Vsftpd, &remote, opts).await else {
        return;
    };
    let pkg = package(&format!(
        "package=same-minute\n\
         \tsite=ftp://127.0.0.1:{}/\n\
         \tremote_dir=/\n\
         \tlocal_dir={}\n\
         \tuse_timelocal=false\n\
         \tdo_deletes=true\n\
         \tdisconnect=true\n",
        d.port,
        local.display()
    ));
    let mdtms = |since: usize| -> Vec<String> {
        d.commands()
            .into_iter()
            .filter(|c| c.starts_with("MDTM"))
            .skip(since)
            .collect()
    };

    // The whole exchange has to fit in one minute: start early in one.
    if now() % 60 > 50 {
        tokio::time::sleep(Duration::from_secs((61 - now() % 60) as u64)).await;
    }
    let f = remote.join("f.txt");
    fs::write(&f, b"version 1\n").unwrap();
    let t1 = mtime(&f);

    let first = run(&pkg).await;
    assert_eq!(first.counts.files_fetched, 21, "{:#?}", first.lines);
    // Fetched while its minute was still running: stamped with the exact time, so the next
    // run can compare seconds with seconds.
    assert_eq!(mtime(&local.join("f.txt")), t1);
    assert_eq!(mdtms(0), ["MDTM /f.txt"], "only the file of this minute");

    // Same size, same minute, one second later.
    tb.file("f.txt", b"version 2\n", t1 + 1);
    assert_eq!(
        (t1 + 1) / 60,
        now() / 60,
        "the test ran too slowly: minute over"
    );
    let second = run(&pkg).await;
    assert_eq!(second.counts.files_fetched, 1, "{:#?}", second.lines);
    assert_eq!(fs::read(local.join("f.txt")).unwrap(), b"version 2\n");
    assert_eq!(mtime(&local.join("f.txt")), t1 + 1);
    assert_eq!(mdtms(1), ["MDTM /f.txt"]);

    let third = run(&pkg).await;
    assert_eq!(third.counts.files_fetched, 0, "{:#?}", third.lines);
    assert!(mdtms(2).len() <= 1, "{:?}", mdtms(2));
    // The old files carry the minute their listing gave (as with mirror.pl): only the
    // contents are compared.
    assert_dirs_equal(&remote, &local, Compare::CONTENT);
    assert_eq!(mtime(&local.join("old/f07.txt")), (old + 7) / 60 * 60);
    assert!(
        mdtms(0).iter().all(|c| c == "MDTM /f.txt"),
        "no old file was asked about: {:?}",
        mdtms(0)
    );
}

/// Put mode (`get_file=false`) to pure-ftpd: the local tree is pushed with `MKD`, `STOR` to
/// a temporary name then `RNFR`/`RNTO`, and what is gone locally is deleted at the site
/// (`do_deletes`); a re-run transfers nothing.
#[tokio::test]
async fn pure_ftpd_put_mode_pushes_a_tree_and_a_rerun_transfers_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (site, local) = (tmp.path().join("site"), tmp.path().join("local"));
    let t0 = 1_600_000_000;
    TreeBuilder::new(&site)
        .file("incoming/stale.txt", b"only at the site\n", t0)
        .file("incoming/old/gone.bin", [1u8; 100], t0)
        .file("incoming/a.txt", b"an older a\n", t0 - 100);
    let lt = TreeBuilder::new(&local);
    lt.file("a.txt", b"local a\n", t0 + 1)
        .file("sub dir/b.txt", "b ünï\n".as_bytes(), t0 + 2)
        .file("sub dir/deeper/c.bin", [7u8; 300_000], t0 + 3)
        .dir("empty");
    let Some(d) = daemon(Daemon::PureFtpd, &site, DaemonOptions::default()).await else {
        return;
    };
    let pkg = package(&format!(
        "package=push\n\
         \tsite=ftp://127.0.0.1:{}/\n\
         \tremote_user={}\n\
         \tremote_password={}\n\
         \tremote_dir=incoming\n\
         \tlocal_dir={}\n\
         \tget_file=false\n\
         \tdo_deletes=true\n\
         \tmax_delete_files=100%\n\
         \tmax_delete_dirs=100%\n\
         \tdisconnect=true\n",
        d.port,
        d.user,
        d.password,
        local.display()
    ));
    let first = run(&pkg).await;
    let c = &first.counts;
    assert_eq!(c.files_fetched, 3, "{:#?}", first.lines);
    assert_eq!(
        (c.files_deleted, c.dirs_deleted),
        (2, 1),
        "{:#?}",
        first.lines
    );
    assert!(
        first.lines.iter().any(|l| l == "Put a.txt 8 bytes"),
        "{:#?}",
        first.lines
    );
    assert!(
        first.lines.iter().any(|l| l == "delete FILE stale.txt"),
        "{:#?}",
        first.lines
    );
    // No temporary name is left behind, and the site now equals the local tree (times
    // included: pure-ftpd takes MFMT).
    assert_dirs_equal(&local, &site.join("incoming"), Compare::MIRRORED);

    let second = run(&pkg).await;
    assert_eq!(
        second.counts,
        mirror_sync::Counts::default(),
        "{:#?}",
        second.lines
    );

    // A local change goes up; a local deletion is deleted at the site.
    lt.file("a.txt", b"local A\n", t0 + 60);
    fs::remove_file(local.join("sub dir/b.txt")).unwrap();
    let third = run(&pkg).await;
    assert_eq!(
        (third.counts.files_fetched, third.counts.files_deleted),
        (1, 1),
        "{:#?}",
        third.lines
    );
    assert_dirs_equal(&local, &site.join("incoming"), Compare::MIRRORED);
}
