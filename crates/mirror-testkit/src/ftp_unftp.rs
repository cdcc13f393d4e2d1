//! An in-process FTP server (libunftp over a local folder) on 127.0.0.1, for the FTP
//! backend's tests: anonymous login, `MLSD`/`MDTM`/`SIZE`/`REST`, optionally FTPS.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::task::JoinHandle;

/// A running libunftp server; stopped when dropped.
pub struct UnftpServer {
    /// The control port on 127.0.0.1.
    pub port: u16,
    /// The folder it serves.
    pub root: PathBuf,
    task: JoinHandle<()>,
}

/// Certificate and key files (PEM) for FTPS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

impl UnftpServer {
    /// Serves `root` over plain FTP. Must be called inside a tokio runtime.
    pub async fn start(root: &Path) -> UnftpServer {
        Self::start_with(root, None).await
    }

    /// Serves `root`, with FTPS (explicit, `AUTH TLS`) when `tls` is given.
    pub async fn start_with(root: &Path, tls: Option<TlsFiles>) -> UnftpServer {
        let port = free_port();
        let served = root.to_path_buf();
        let mut builder = libunftp::ServerBuilder::new(Box::new(move || {
            unftp_sbe_fs::Filesystem::new(served.clone()).expect("serve the fixture folder")
        }))
        .greeting("mirror test server")
        .idle_session_timeout(120);
        if let Some(t) = tls {
            builder = builder.ftps(t.cert, t.key);
        }
        let server = builder.build().expect("build the libunftp server");
        let addr = format!("127.0.0.1:{port}");
        let task = tokio::spawn(async move {
            let _ = server.listen(addr).await;
        });
        wait_listening(port).await;
        UnftpServer {
            port,
            root: root.to_path_buf(),
            task,
        }
    }
}

impl Drop for UnftpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot be told to
/// pick one themselves).
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a probe socket on 127.0.0.1")
}

/// Waits (up to 10 s) until something accepts connections on 127.0.0.1:`port`.
pub async fn wait_listening(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on 127.0.0.1:{port} after 10 s");
}
