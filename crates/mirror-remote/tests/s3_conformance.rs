//! The shared conformance suite against the S3 backend, served by s3s-fs in-process and by
//! moto (the Python AWS mock) as a separate server, both on 127.0.0.1. The fixture is
//! uploaded through the backend's own write side, the way the engine writes: a temporary
//! name, the time, then the rename. Then what the suite does not cover: stored times surviving
//! a re-listing, prefixes, refused keys and a missing prefix.

// A skipped server test says so loudly, and the suite's report is printed.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use mirror_remote::s3::{S3Config, S3Remote, S3Secret};
use mirror_remote::{ErrorKind, Kind, RelPath, Remote, WalkOptions};
use mirror_testkit::s3_server::{ACCESS_KEY, S3Server, SECRET_KEY};
use mirror_testkit::{ConformanceTarget, Gaps, run_conformance};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

fn config(server: &S3Server, prefix: &str) -> S3Config {
    let mut cfg = S3Config::new(&server.bucket);
    cfg.prefix = prefix.into();
    cfg.endpoint = Some(server.endpoint.clone());
    cfg.region = Some("us-east-1".into());
    cfg.access_key = Some(S3Secret(ACCESS_KEY.into()));
    cfg.secret_key = Some(S3Secret(SECRET_KEY.into()));
    cfg.timeout = Duration::from_secs(20);
    cfg.retries = 2;
    cfg.write = true;
    cfg
}

/// Uploads the files and empty folders of a local tree as the engine would (symlinks have
/// no S3 form and are left out).
async fn upload_tree(r: &dyn Remote, root: &Path) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut empty = true;
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            empty = false;
            let p = e.path();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let rel = RelPath::new(p.strip_prefix(root).unwrap().to_str().unwrap()).unwrap();
            if md.is_dir() {
                stack.push(p);
            } else if md.is_file() {
                let mtime = md
                    .modified()
                    .unwrap()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let temp = rel.temp_sibling();
                let mut w = r.create(&temp, false).await.unwrap();
                w.write_all(&std::fs::read(&p).unwrap()).await.unwrap();
                w.shutdown().await.unwrap();
                r.set_mtime(&temp, mtime).await.unwrap();
                r.rename(&temp, &rel).await.unwrap();
            }
        }
        if empty && dir != root {
            let rel = RelPath::new(dir.strip_prefix(root).unwrap().to_str().unwrap()).unwrap();
            r.mkdir(&rel).await.unwrap();
        }
    }
}

/// Why empty folders do not round-trip through s3s-fs.
const S3S_FS_MARKERS: &str = "s3s-fs stores a folder marker as a real folder and never lists it";

#[derive(Clone, Copy, PartialEq)]
enum Server {
    S3sFs,
    Moto,
}

struct Target {
    server: Server,
    running: Mutex<Option<S3Server>>,
}

#[async_trait]
impl ConformanceTarget for Target {
    fn name(&self) -> String {
        match self.server {
            Server::S3sFs => "s3 (s3s-fs, in-process)".into(),
            Server::Moto => "s3 (moto server)".into(),
        }
    }

    async fn remote_for(&self, dir: &Path) -> Result<Arc<dyn Remote>, String> {
        let server = match self.server {
            Server::S3sFs => S3Server::s3s_fs("conformance").await,
            Server::Moto => S3Server::moto("conformance").await?,
        };
        // Below a prefix, so prefixes are exercised by the whole suite.
        let remote = S3Remote::new(config(&server, "tree/root")).map_err(|e| e.to_string())?;
        upload_tree(&remote, dir).await;
        *self.running.lock().await = Some(server);
        Ok(Arc::new(remote))
    }

    fn gaps(&self) -> Gaps {
        Gaps {
            symlinks: Some("S3 has no symlinks (the fixture's links are not uploaded)"),
            append: Some("S3 objects cannot be appended to"),
            empty_dirs: (self.server == Server::S3sFs).then_some(S3S_FS_MARKERS),
            skip: if self.server == Server::S3sFs {
                vec![
                    (
                        "write.mkdir",
                        "s3s-fs answers a HEAD of a folder marker with 500 and never lists \
                         it, so an empty folder cannot be seen",
                    ),
                    (
                        "write.remove_dir",
                        "s3s-fs never lists folder markers, so a folder holding only an \
                         empty folder looks empty",
                    ),
                ]
            } else {
                vec![]
            },
            ..Gaps::default()
        }
    }
}

async fn conformance(server: Server) {
    let target = Target {
        server,
        running: Mutex::new(None),
    };
    let report = run_conformance(&target).await;
    println!("{report}");
}

#[tokio::test]
async fn conformance_s3s_fs() {
    conformance(Server::S3sFs).await;
}

#[tokio::test]
async fn conformance_moto() {
    if S3Server::find_moto().is_none() {
        eprintln!("{}", S3Server::moto_skip_message());
        return;
    }
    conformance(Server::Moto).await;
}

/// Times travel as metadata: an object uploaded with a time lists with that time, not its
/// upload time; one uploaded without lists with its upload time.
async fn stored_times_are_listed(server: &S3Server) {
    let r = S3Remote::new(config(server, "times")).unwrap();
    let (a, b) = (
        RelPath::new("d/a.txt").unwrap(),
        RelPath::new("b.txt").unwrap(),
    );
    let mut w = r.create(&a.temp_sibling(), false).await.unwrap();
    w.write_all(b"aaa").await.unwrap();
    w.shutdown().await.unwrap();
    // Nothing is in the bucket until the rename.
    assert!(r.stat(&a.temp_sibling()).await.unwrap().is_none());
    r.set_mtime(&a.temp_sibling(), 1_234_567_890).await.unwrap();
    r.rename(&a.temp_sibling(), &a).await.unwrap();
    let mut w = r.create(&b, false).await.unwrap();
    w.write_all(b"b").await.unwrap();
    w.shutdown().await.unwrap();
    let l = r
        .walk(&WalkOptions {
            recursive: true,
            ignore: None,
        })
        .await
        .unwrap();
    let paths: Vec<&str> = l.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["b.txt", "d", "d/a.txt"], "{l:?}");
    let a_entry = l.get(&a).unwrap();
    assert_eq!(
        (a_entry.size, a_entry.mtime),
        (Some(3), Some(1_234_567_890))
    );
    let now = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let b_time = l.get(&b).unwrap().mtime.unwrap();
    assert!((now - b_time).abs() < 300, "{b_time} vs now {now}");
    // Setting the time of an uploaded object rewrites it with the time.
    r.set_mtime(&b, 1_000_000_000).await.unwrap();
    assert_eq!(
        r.stat(&b).await.unwrap().unwrap().mtime,
        Some(1_000_000_000)
    );
    let mut got = String::new();
    r.open(&b, 0)
        .await
        .unwrap()
        .read_to_string(&mut got)
        .await
        .unwrap();
    assert_eq!(got, "b");
    // A prefix with nothing under it is missing, not empty: an empty listing would make
    // every copy of the tree look deleted.
    let none = S3Remote::new(config(server, "no/such/prefix")).unwrap();
    let e = none.walk(&WalkOptions::default()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    // Reading is refused on a source remote's write side.
    let mut ro = config(server, "times");
    ro.write = false;
    let ro = S3Remote::new(ro).unwrap();
    assert_eq!(
        ro.remove_file(&b).await.unwrap_err().kind,
        ErrorKind::Unsupported
    );
    assert!(
        ro.stat(&a)
            .await
            .unwrap()
            .is_some_and(|e| e.kind == Kind::File)
    );
}

#[tokio::test]
async fn stored_times_are_listed_s3s_fs() {
    let server = S3Server::s3s_fs("times").await;
    stored_times_are_listed(&server).await;
}

#[tokio::test]
async fn stored_times_are_listed_moto() {
    let server = match S3Server::moto("times").await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    stored_times_are_listed(&server).await;
}

/// Keys no file system could hold are refused and reported, never used; the rest of the
/// listing stands. (Made in moto: s3s-fs stores keys as files, so it cannot hold them.)
#[tokio::test]
async fn unsafe_keys_are_refused() {
    let server = match S3Server::moto("unsafe").await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    for key in ["ok.txt", "dir/ok.txt", "a//b", "clash", "clash/inner.txt"] {
        server.put_unsigned(key, b"x").await.unwrap();
    }
    let r = S3Remote::new(config(&server, "")).unwrap();
    let l = r
        .walk(&WalkOptions {
            recursive: true,
            ignore: None,
        })
        .await
        .unwrap();
    let paths: Vec<&str> = l.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["clash", "clash/inner.txt", "dir", "dir/ok.txt", "ok.txt"],
        "{l:?}"
    );
    assert_eq!(
        l.get(&RelPath::new("clash").unwrap()).unwrap().kind,
        Kind::Dir
    );
    let refused: Vec<&str> = l.refused.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused.iter().any(|m| m.contains("a//b")), "{refused:?}");
    assert!(
        refused.iter().any(|m| m.contains("file and a folder")),
        "{refused:?}"
    );
}
