//! S3 servers for the S3 tests, on 127.0.0.1: s3s-fs in-process (buckets are folders of a
//! local directory; requests are signed and checked with a test key), and moto, the Python
//! AWS mock, as a real separate server (`moto_server`, installed by
//! `scripts/install-test-deps` from PyPI).
//!
//! Each server starts with one empty bucket; [`S3Server`] says where it is and which key to
//! sign with.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

use crate::ftp_unftp::{free_port, wait_listening};

/// The access key every test server accepts.
pub const ACCESS_KEY: &str = "mirror-test-access";
/// Its secret.
pub const SECRET_KEY: &str = "mirror-test-secret-8d2f";

/// A running S3 server with one bucket; stopped when dropped.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The bucket made for the test.
    pub bucket: String,
    /// For s3s-fs, the folder behind the bucket (objects are files there).
    pub bucket_dir: Option<PathBuf>,
    /// Which server this is, for messages.
    pub name: &'static str,
    running: Running,
}

enum Running {
    /// The server task, and the folder it serves (removed with it).
    InProcess(JoinHandle<()>, #[allow(dead_code)] tempfile::TempDir),
    Process(Child),
}

impl Drop for S3Server {
    fn drop(&mut self) {
        match &mut self.running {
            Running::InProcess(task, _) => task.abort(),
            Running::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl S3Server {
    /// s3s-fs serving a fresh temporary folder, with `bucket` made. Must be called inside a
    /// tokio runtime.
    pub async fn s3s_fs(bucket: &str) -> S3Server {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        let bucket_dir = dir.path().join(bucket);
        std::fs::create_dir(&bucket_dir).expect("create the bucket folder");
        let fs = s3s_fs::FileSystem::new(dir.path()).expect("serve the folder");
        let service = {
            let mut b = s3s::service::S3ServiceBuilder::new(fs);
            b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            b.build()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let task = tokio::spawn(async move {
            let http = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: bucket.into(),
            bucket_dir: Some(bucket_dir),
            name: "s3s-fs",
            running: Running::InProcess(task, dir),
        }
    }

    /// The `moto_server` program, if installed: on `PATH`, else in the virtual environment
    /// `install-test-deps` makes under `$MIRROR_TEST_DEPS` (default `/opt/mirror-test-deps`).
    pub fn find_moto() -> Option<PathBuf> {
        let deps = std::env::var_os("MIRROR_TEST_DEPS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/opt/mirror-test-deps"));
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join("moto_server"))
            .chain([deps.join("moto/bin/moto_server")])
            .find(|p| p.is_file())
    }

    /// The message a test prints when it skips for want of moto.
    pub fn moto_skip_message() -> String {
        "SKIPPED: moto_server is not installed; run scripts/install-test-deps (CI does)".into()
    }

    /// moto in server mode on a free port, with `bucket` made.
    pub async fn moto(bucket: &str) -> Result<S3Server, String> {
        let bin = Self::find_moto().ok_or_else(Self::moto_skip_message)?;
        let port = free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        let mut server = S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: bucket.into(),
            bucket_dir: None,
            name: "moto",
            running: Running::Process(child),
        };
        // Python takes its time to start.
        if tokio::time::timeout(Duration::from_secs(30), wait_listening(port))
            .await
            .is_err()
        {
            return Err(format!("moto_server did not listen on port {port}"));
        }
        if let Running::Process(child) = &mut server.running
            && child.try_wait().map(|s| s.is_some()).unwrap_or(true)
        {
            return Err("moto_server exited at once".into());
        }
        create_bucket_unsigned(port, bucket).await?;
        Ok(server)
    }

    /// Stores `body` under `key` without a signature (moto only): how the tests make keys
    /// no client of ours would write. `key` goes into the request path as given (already
    /// percent-encoded where needed).
    pub async fn put_unsigned(&self, key: &str, body: &[u8]) -> Result<(), String> {
        let port = self
            .endpoint
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or("no port in the endpoint")?;
        let head = format!(
            "PUT /{}/{key} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            self.bucket,
            body.len()
        );
        let mut req = head.into_bytes();
        req.extend_from_slice(body);
        let reply = raw_request(port, &req).await?;
        if reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200") {
            Ok(())
        } else {
            Err(format!(
                "PUT {key} refused: {}",
                reply.lines().next().unwrap_or_default()
            ))
        }
    }

    /// The folder behind the bucket (s3s-fs only).
    pub fn bucket_path(&self) -> Option<&Path> {
        self.bucket_dir.as_deref()
    }
}

/// `PUT /bucket` without a signature: moto in server mode accepts any request, and this
/// keeps an S3 client out of the test kit.
async fn create_bucket_unsigned(port: u16, bucket: &str) -> Result<(), String> {
    let req = format!(
        "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    let reply = raw_request(port, req.as_bytes()).await?;
    if reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200") {
        Ok(())
    } else {
        Err(format!(
            "moto refused to create bucket {bucket}: {}",
            reply.lines().next().unwrap_or_default()
        ))
    }
}

/// Sends one HTTP/1.1 request to 127.0.0.1:`port` and returns the whole reply as text.
async fn raw_request(port: u16, req: &[u8]) -> Result<String, String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    s.write_all(req).await.map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await.map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
