//! The shared conformance suite against the FTP backend, served by an in-process libunftp
//! server and by real Debian daemons (vsftpd: LIST only; pure-ftpd: MLSD) on 127.0.0.1.

// A skipped daemon test says so loudly, and the suite's report is printed.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mirror_remote::ftp::listing::ListTz;
use mirror_remote::ftp::{FtpConfig, FtpRemote, FtpSecret};
use mirror_remote::{Precision, Remote};
use mirror_testkit::ftp_daemon::{Daemon, DaemonOptions, FtpDaemon};
use mirror_testkit::ftp_unftp::UnftpServer;
use mirror_testkit::{ConformanceTarget, Gaps, run_conformance};
use tokio::sync::Mutex;

/// Test settings: short back-off, few sessions, no reuse across tests.
fn config(port: u16, user: &str, password: &str, write: bool) -> FtpConfig {
    let mut cfg = FtpConfig::new("127.0.0.1");
    cfg.port = port;
    cfg.user = user.into();
    cfg.password = FtpSecret(password.into());
    cfg.root = "/".into();
    cfg.timeout = Duration::from_secs(20);
    cfg.retry_base = Duration::from_millis(50);
    cfg.retries = 5;
    cfg.reuse = false;
    cfg.write = write;
    // The daemons print LIST times in UTC.
    cfg.listing.tz = ListTz::Utc;
    cfg
}

struct Unftp {
    server: Mutex<Option<UnftpServer>>,
}

#[async_trait]
impl ConformanceTarget for Unftp {
    fn name(&self) -> String {
        "ftp (libunftp)".into()
    }

    async fn remote_for(&self, dir: &Path) -> Result<Arc<dyn Remote>, String> {
        let server = UnftpServer::start(dir).await;
        let cfg = config(server.port, "anonymous", "mirror@", true);
        *self.server.lock().await = Some(server);
        Ok(Arc::new(FtpRemote::new(cfg).map_err(|e| e.to_string())?))
    }

    fn gaps(&self) -> Gaps {
        Gaps {
            symlinks: Some("libunftp lists a symlink as the file or folder it points to"),
            ..Gaps::default()
        }
    }
}

#[tokio::test]
async fn conformance_libunftp() {
    let target = Unftp {
        server: Mutex::new(None),
    };
    let report = run_conformance(&target).await;
    println!("{report}");
}

struct Real {
    daemon: Daemon,
    running: Mutex<Option<FtpDaemon>>,
}

#[async_trait]
impl ConformanceTarget for Real {
    fn name(&self) -> String {
        format!("ftp ({:?})", self.daemon)
    }

    async fn remote_for(&self, dir: &Path) -> Result<Arc<dyn Remote>, String> {
        let d = FtpDaemon::start(self.daemon, dir, &DaemonOptions::default()).await?;
        let write = self.daemon == Daemon::PureFtpd;
        let cfg = config(d.port, &d.user, &d.password, write);
        *self.running.lock().await = Some(d);
        Ok(Arc::new(FtpRemote::new(cfg).map_err(|e| e.to_string())?))
    }
}

async fn real(daemon: Daemon) {
    if FtpDaemon::find(daemon).is_none() {
        eprintln!("{}", FtpDaemon::skip_message(daemon));
        return;
    }
    let target = Real {
        daemon,
        running: Mutex::new(None),
    };
    let report = run_conformance(&target).await;
    println!("{report}");
}

#[tokio::test]
async fn conformance_vsftpd() {
    real(Daemon::Vsftpd).await;
}

#[tokio::test]
async fn conformance_pure_ftpd() {
    real(Daemon::PureFtpd).await;
}

#[tokio::test]
async fn mlsd_gives_seconds_and_list_gives_minutes() {
    // The precision each listing source claims is what the suite checks times against;
    // here the claims themselves.
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("t");
    mirror_testkit::TreeBuilder::new(&tree).file("f.txt", b"x", 1_300_000_007);
    let server = UnftpServer::start(&tree).await;
    let r = FtpRemote::new(config(server.port, "anonymous", "x", false)).unwrap();
    let l = r.walk(&Default::default()).await.unwrap();
    assert_eq!(l.entries[0].precision, Precision::Second);
    assert_eq!(l.entries[0].mtime, Some(1_300_000_007));
    assert_eq!(r.features().precision, Precision::Second);
}
