//! Packages over SFTP end to end through `run_package`, against Debian's OpenSSH sshd on
//! 127.0.0.1: put mode (`get_file=false`) pushes a local tree to the server with a key, and
//! get mode mirrors a server tree with a password. Each re-run transfers nothing.

// A skipped daemon test says so loudly.
#![allow(clippy::print_stderr)]

use std::path::Path;

use mirror_sync::{Counts, NoEvents, PackageReport, PackageStatus, RunOptions};
use mirror_testkit::sftp_sshd::{PASSWORD, PASSWORD_USER, Sshd};
use mirror_testkit::{Compare, TreeBuilder, assert_dirs_equal};

const T0: i64 = 1_600_000_000;

fn package(text: &str) -> mirror_config::Package {
    let loaded = mirror_config::parse_str(text, "sftp.packages").unwrap();
    let env = mirror_config::Env::current();
    loaded.records[0].to_package(&env).unwrap().0
}

async fn run(pkg: &mirror_config::Package) -> PackageReport {
    mirror_sync::run_package(pkg, &RunOptions::default(), &NoEvents).await
}

/// A tree with nested folders, an empty folder, names with spaces and UTF-8, an empty
/// file, a bigger file and a symlink.
fn fill(root: &Path) -> TreeBuilder {
    let tb = TreeBuilder::new(root);
    tb.file("README", b"read me\n", T0)
        .file("pub/a b/ünï.txt", "utf-8 ✓\n".as_bytes(), T0 + 1)
        .file("pub/deep/er/leaf.bin", [7u8; 300_000], T0 + 2)
        .file("empty.txt", b"", T0 + 3)
        .file("gone.txt", b"soon gone\n", T0 + 4)
        .dir("empty/inner")
        .symlink("latest", "pub/deep/er/leaf.bin");
    tb
}

#[tokio::test]
async fn put_mode_pushes_a_local_tree_to_sftp_and_a_rerun_transfers_nothing() {
    if let Some(why) = Sshd::unavailable() {
        eprintln!("{why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("local");
    // Not there yet: put mode creates the remote folder.
    let remote = tmp.path().join("remote/tree");
    std::fs::create_dir(tmp.path().join("remote")).unwrap();
    let tb = fill(&local);
    let d = Sshd::start(None).await.unwrap();
    let pkg = package(&format!(
        "package=sftp-put\n\
         \tsite=sftp://root@127.0.0.1:{port}/\n\
         \tremote_dir={remote}\n\
         \tlocal_dir={local}\n\
         \tget_file=false\n\
         \tssh_key={key}\n\
         \tssh_known_hosts={kh}\n\
         \tdo_deletes=true\n\
         \tmax_delete_files=100%\n",
        port = d.port,
        remote = remote.display(),
        local = local.display(),
        key = d.client_key.display(),
        kh = d.known_hosts.display(),
    ));

    let first = run(&pkg).await;
    assert_eq!(first.status, PackageStatus::Ok, "{first:?}\n{}", d.log());
    assert!(first.put);
    assert_eq!(first.counts.files_fetched, 5, "{first:?}");
    assert_eq!(first.counts.symlinks_created, 1, "{first:?}");
    assert_dirs_equal(&local, &remote, Compare::MIRRORED);

    let second = run(&pkg).await;
    assert_eq!(second.status, PackageStatus::Ok, "{second:?}");
    assert_eq!(second.counts, Counts::default(), "{:?}", second.lines);

    // A changed file (same size, newer) goes up again; a vanished one is deleted remotely.
    tb.file("README", b"READ ME\n", T0 + 60);
    std::fs::remove_file(local.join("gone.txt")).unwrap();
    let third = run(&pkg).await;
    assert_eq!(third.status, PackageStatus::Ok, "{third:?}");
    assert_eq!(third.counts.files_fetched, 1, "{:?}", third.lines);
    assert_eq!(third.counts.files_deleted, 1, "{:?}", third.lines);
    assert_dirs_equal(&local, &remote, Compare::MIRRORED);
    // No temporary names were left behind.
    assert!(
        !std::fs::read_dir(&remote)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".in.")),
        "a temporary upload was left behind"
    );
}

#[tokio::test]
async fn get_mode_mirrors_an_sftp_site_with_a_password() {
    if let Some(why) = Sshd::unavailable() {
        eprintln!("{why}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("served");
    let local = tmp.path().join("copy");
    let tb = fill(&remote);
    let d = Sshd::start(Some(&remote)).await.unwrap();
    let pw_file = tmp.path().join("password");
    std::fs::write(&pw_file, format!("{PASSWORD}\n")).unwrap();
    let pkg = package(&format!(
        "package=sftp-get\n\
         \tsite=sftp://{PASSWORD_USER}@127.0.0.1:{port}{remote}\n\
         \tremote_password=<{pw}\n\
         \tlocal_dir={local}\n\
         \tssh_host_key={fp}\n\
         \tdo_deletes=true\n\
         \tmax_delete_files=100%\n",
        port = d.port,
        remote = remote.display(),
        pw = pw_file.display(),
        local = local.display(),
        fp = d.host_fingerprint,
    ));

    let first = run(&pkg).await;
    assert_eq!(first.status, PackageStatus::Ok, "{first:?}\n{}", d.log());
    assert_eq!(first.counts.files_fetched, 5, "{first:?}");
    assert_dirs_equal(&remote, &local, Compare::MIRRORED);
    let second = run(&pkg).await;
    assert_eq!(second.counts, Counts::default(), "{:?}", second.lines);
    // The password is in no line of the report.
    let shown = format!("{first:?}{second:?}");
    assert!(
        !shown.contains(PASSWORD),
        "the password leaked into the report"
    );

    tb.file("pub/a b/ünï.txt", "UTF-8 ✓\n".as_bytes(), T0 + 90);
    std::fs::remove_file(remote.join("gone.txt")).unwrap();
    let third = run(&pkg).await;
    assert_eq!(third.counts.files_fetched, 1, "{:?}", third.lines);
    assert_eq!(third.counts.files_deleted, 1, "{:?}", third.lines);
    assert_dirs_equal(&remote, &local, Compare::MIRRORED);
}
