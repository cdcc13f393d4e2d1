//! An S3 site mirrored to a local folder end to end through `run_package` (s3s-fs serves a
//! folder as the bucket): times come from the listing, or from the stored source time when
//! an object carries one; a re-run transfers nothing; changes and deletions follow.

use mirror_remote::s3::{S3Config, S3Remote, S3Secret};
use mirror_remote::{RelPath, Remote};
use mirror_sync::{Counts, NoEvents, PackageReport, PackageStatus, RunOptions};
use mirror_testkit::s3_server::{ACCESS_KEY, S3Server, SECRET_KEY};
use mirror_testkit::{Compare, TreeBuilder, assert_dirs_equal};
use tokio::io::AsyncWriteExt;

const T0: i64 = 1_600_000_000;

fn package(text: &str) -> mirror_config::Package {
    let loaded = mirror_config::parse_str(text, "s3.packages").unwrap();
    let env = mirror_config::Env::current();
    loaded.records[0].to_package(&env).unwrap().0
}

async fn run(pkg: &mirror_config::Package) -> PackageReport {
    mirror_sync::run_package(pkg, &RunOptions::default(), &NoEvents).await
}

#[tokio::test]
async fn get_mode_mirrors_an_s3_site_and_a_rerun_transfers_nothing() {
    let server = S3Server::s3s_fs("site").await;
    // s3s-fs lists a file's own time as the object's time: the tree is built in place.
    let served = server.bucket_path().unwrap().join("pub/tree");
    let tb = TreeBuilder::new(&served);
    tb.file("README", b"read me\n", T0)
        .file("a b/ünï.txt", "utf-8 ✓\n".as_bytes(), T0 + 1)
        .file("deep/er/leaf.bin", [7u8; 100_000], T0 + 2)
        .file("gone.txt", b"soon gone\n", T0 + 3);
    // One object uploaded with a stored source time, which wins over its upload time.
    let mut cfg = S3Config::new(&server.bucket);
    cfg.prefix = "pub/tree".into();
    cfg.endpoint = Some(server.endpoint.clone());
    cfg.access_key = Some(S3Secret(ACCESS_KEY.into()));
    cfg.secret_key = Some(S3Secret(SECRET_KEY.into()));
    cfg.write = true;
    let bucket = S3Remote::new(cfg).unwrap();
    let stored = RelPath::new("stored.txt").unwrap();
    let mut w = bucket.create(&stored.temp_sibling(), false).await.unwrap();
    w.write_all(b"stored time\n").await.unwrap();
    w.shutdown().await.unwrap();
    bucket
        .set_mtime(&stored.temp_sibling(), T0 + 5)
        .await
        .unwrap();
    bucket
        .rename(&stored.temp_sibling(), &stored)
        .await
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("copy");
    let pkg = package(&format!(
        "package=s3-get\n\
         \tsite=s3://{}/pub\n\
         \tremote_dir=tree\n\
         \tlocal_dir={}\n\
         \ts3_endpoint={}\n\
         \ts3_access_key={ACCESS_KEY}\n\
         \ts3_secret_key={SECRET_KEY}\n\
         \tdo_deletes=true\n\
         \tmax_delete_files=100%\n",
        server.bucket,
        local.display(),
        server.endpoint,
    ));
    let first = run(&pkg).await;
    assert_eq!(first.status, PackageStatus::Ok, "{first:?}");
    assert_eq!(first.counts.files_fetched, 5, "{:?}", first.lines);
    // Content and kinds as served; times as listed, the stored one winning.
    assert_dirs_equal(&served, &local, Compare::CONTENT);
    assert_eq!(mtime(&local.join("README")), T0);
    assert_eq!(mtime(&local.join("deep/er/leaf.bin")), T0 + 2);
    assert_eq!(mtime(&local.join("stored.txt")), T0 + 5);

    let second = run(&pkg).await;
    assert_eq!(second.status, PackageStatus::Ok, "{second:?}");
    assert_eq!(second.counts, Counts::default(), "{:?}", second.lines);

    tb.file("README", b"READ ME\n", T0 + 60);
    std::fs::remove_file(served.join("gone.txt")).unwrap();
    let third = run(&pkg).await;
    assert_eq!(third.counts.files_fetched, 1, "{:?}", third.lines);
    assert_eq!(third.counts.files_deleted, 1, "{:?}", third.lines);
    assert_dirs_equal(&served, &local, Compare::CONTENT);
    assert_eq!(mtime(&local.join("README")), T0 + 60);
}

fn mtime(p: &std::path::Path) -> i64 {
    std::fs::metadata(p)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
