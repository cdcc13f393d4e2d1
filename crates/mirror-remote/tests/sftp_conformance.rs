//! The shared conformance suite against the SFTP backend, served by Debian's OpenSSH sshd on
//! 127.0.0.1: logged in with a key (as root) and with a password (as a throwaway user).
//! Then what the suite does not cover: host-key pinning and refusal, wrong passwords,
//! encrypted keys, and a transfer big enough that pipelining matters.

// A skipped daemon test says so loudly, and the suite's report is printed.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mirror_remote::sftp::{HostKeyPin, HostKeyPolicy, SftpConfig, SftpRemote, SftpSecret};
use mirror_remote::{ErrorKind, RelPath, Remote};
use mirror_testkit::sftp_sshd::{KEY_PASSPHRASE, PASSWORD, PASSWORD_USER, Sshd};
use mirror_testkit::{ConformanceTarget, run_conformance};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

/// Test settings: short back-off, few retries, the daemon's own known_hosts.
fn config(d: &Sshd, user: &str, root: &Path) -> SftpConfig {
    let mut cfg = SftpConfig::new("127.0.0.1", user);
    cfg.port = d.port;
    cfg.host_keys = HostKeyPolicy {
        pins: vec![],
        known_hosts: vec![d.known_hosts.clone()],
    };
    cfg.root = root.display().to_string();
    cfg.timeout = Duration::from_secs(20);
    cfg.retry_base = Duration::from_millis(50);
    cfg.retries = 3;
    cfg.write = true;
    cfg
}

#[derive(Clone, Copy, PartialEq)]
enum Login {
    Key,
    Password,
}

struct Target {
    login: Login,
    /// Where the fixture goes: below a folder the password user can enter.
    base: tempfile::TempDir,
    running: Mutex<Option<Sshd>>,
}

#[async_trait]
impl ConformanceTarget for Target {
    fn name(&self) -> String {
        match self.login {
            Login::Key => "sftp (OpenSSH sshd, key login as root)".into(),
            Login::Password => format!("sftp (OpenSSH sshd, password login as {PASSWORD_USER})"),
        }
    }

    fn fixture_dir(&self) -> Option<PathBuf> {
        Some(self.base.path().join("fixture"))
    }

    async fn remote_for(&self, dir: &Path) -> Result<Arc<dyn Remote>, String> {
        let served = (self.login == Login::Password).then_some(dir);
        let d = Sshd::start(served).await?;
        let cfg = match self.login {
            Login::Key => {
                let mut cfg = config(&d, "root", dir);
                cfg.key_file = Some(d.client_key.clone());
                cfg
            }
            Login::Password => {
                let mut cfg = config(&d, PASSWORD_USER, dir);
                cfg.password = SftpSecret(PASSWORD.into());
                cfg
            }
        };
        let remote = SftpRemote::new(cfg);
        let connected = remote.connect().await;
        let log = d.log();
        *self.running.lock().await = Some(d);
        connected.map_err(|e| format!("{e}\nsshd log:\n{log}"))?;
        Ok(Arc::new(remote))
    }
}

async fn conformance(login: Login) {
    if let Some(why) = Sshd::unavailable() {
        eprintln!("{why}");
        return;
    }
    let target = Target {
        login,
        base: tempfile::tempdir().unwrap(),
        running: Mutex::new(None),
    };
    let report = run_conformance(&target).await;
    println!("{report}");
    assert!(report.skipped.is_empty(), "{report}");
}

#[tokio::test]
async fn conformance_sshd_key_login() {
    conformance(Login::Key).await;
}

#[tokio::test]
async fn conformance_sshd_password_login() {
    conformance(Login::Password).await;
}

/// A started daemon and a tree it serves, for the tests below.
async fn daemon() -> Option<(Sshd, tempfile::TempDir)> {
    if let Some(why) = Sshd::unavailable() {
        eprintln!("{why}");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    mirror_testkit::TreeBuilder::new(dir.path()).file("f.txt", b"content\n", 1_500_000_000);
    Some((Sshd::start(None).await.unwrap(), dir))
}

fn key_config(d: &Sshd, root: &Path) -> SftpConfig {
    let mut cfg = config(d, "root", root);
    cfg.key_file = Some(d.client_key.clone());
    cfg
}

#[tokio::test]
async fn host_keys_are_checked_against_known_hosts_or_pins() {
    let Some((d, dir)) = daemon().await else {
        return;
    };
    let f = RelPath::new("f.txt").unwrap();

    // Not in the known_hosts file given: refused, naming the fingerprint to pin.
    let mut cfg = key_config(&d, dir.path());
    cfg.host_keys.known_hosts = vec![dir.path().join("empty_known_hosts")];
    let e = SftpRemote::new(cfg.clone()).stat(&f).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Fatal, "{e}");
    assert!(e.to_string().contains(&d.host_fingerprint), "{e}");
    assert!(e.to_string().contains("ssh_host_key="), "{e}");

    // Pinned by fingerprint, or by the key itself: accepted without any known_hosts.
    for pin in [d.host_fingerprint.clone(), d.host_key.clone()] {
        cfg.host_keys.pins = vec![HostKeyPin::parse(&pin).unwrap()];
        let st = SftpRemote::new(cfg.clone()).stat(&f).await.unwrap();
        assert_eq!(st.unwrap().mtime, Some(1_500_000_000));
    }

    // Another key pinned: refused even though known_hosts would accept the server.
    let mut cfg = key_config(&d, dir.path());
    cfg.host_keys.pins =
        vec![HostKeyPin::parse("SHA256:fH776SvjFH40oX2yAGodMwwmCEAtRRPA1hq1DRjMnm0").unwrap()];
    let e = SftpRemote::new(cfg).stat(&f).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Fatal, "{e}");
    assert!(e.to_string().contains("pinned"), "{e}");

    // A known_hosts line for this host and port with another key: "changed", refused.
    let changed = dir.path().join("changed_known_hosts");
    std::fs::write(
        &changed,
        format!(
            "[127.0.0.1]:{} ssh-ed25519 \
             AAAAC3NzaC1lZDI1NTE5AAAAICNTjxODQA6yXTVGJ6HzW9An7NQnr3uKPuRQDLzTW+zp\n",
            d.port
        ),
    )
    .unwrap();
    let mut cfg = key_config(&d, dir.path());
    cfg.host_keys.known_hosts = vec![changed];
    let e = SftpRemote::new(cfg).stat(&f).await.unwrap_err();
    assert!(e.to_string().contains("HOST KEY CHANGED"), "{e}");
}

#[tokio::test]
async fn wrong_credentials_fail_fatally_without_showing_the_password() {
    let Some((d, dir)) = daemon().await else {
        return;
    };
    let mut cfg = config(&d, PASSWORD_USER, dir.path());
    cfg.password = SftpSecret("not-the-password-9f2".into());
    let e = SftpRemote::new(cfg)
        .list(&RelPath::root())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Fatal, "{e}");
    assert!(!e.to_string().contains("not-the-password-9f2"), "{e}");
    assert!(e.to_string().contains(PASSWORD_USER), "{e}");

    // An encrypted key opens with its passphrase, and not without.
    let mut cfg = config(&d, "root", dir.path());
    cfg.key_file = Some(d.client_key_encrypted.clone());
    cfg.password = SftpSecret(KEY_PASSPHRASE.into());
    SftpRemote::new(cfg.clone())
        .list(&RelPath::root())
        .await
        .unwrap();
    cfg.password = SftpSecret("wrong".into());
    let e = SftpRemote::new(cfg)
        .list(&RelPath::root())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Fatal, "{e}");
    assert!(!e.to_string().contains("wrong"), "{e}");
}

/// 8 MiB up and down through the pipelined streams, checked byte for byte, and a read
/// from an offset that is not a multiple of the request size.
#[tokio::test]
async fn big_files_round_trip_through_the_pipelined_streams() {
    let Some((d, dir)) = daemon().await else {
        return;
    };
    let r = SftpRemote::new(key_config(&d, dir.path()));
    let data: Vec<u8> = (0..8 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let p = RelPath::new("big.bin").unwrap();
    let started = std::time::Instant::now();
    let mut w = r.create(&p, false).await.unwrap();
    // Odd write sizes, so buffers and requests never line up.
    for piece in data.chunks(100_003) {
        w.write_all(piece).await.unwrap();
    }
    w.shutdown().await.unwrap();
    let up = started.elapsed();
    assert_eq!(
        std::fs::read(dir.path().join("big.bin")).unwrap(),
        data,
        "uploaded bytes differ"
    );
    let started = std::time::Instant::now();
    let mut got = Vec::new();
    r.open(&p, 0)
        .await
        .unwrap()
        .read_to_end(&mut got)
        .await
        .unwrap();
    let down = started.elapsed();
    assert!(got == data, "downloaded bytes differ ({} bytes)", got.len());
    let mut tail = Vec::new();
    r.open(&p, 5_000_001)
        .await
        .unwrap()
        .read_to_end(&mut tail)
        .await
        .unwrap();
    assert!(tail[..] == data[5_000_001..], "read from an offset differs");
    println!("8 MiB over loopback SFTP: up {up:?}, down {down:?}");
}

/// A TCP proxy on 127.0.0.1 that delays every byte by `one_way` in each direction (a
/// long-distance link without the distance), preserving order.
async fn delay_proxy(target: u16, one_way: Duration) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await else {
                continue;
            };
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::spawn(delay_line(cr, sw, one_way));
            tokio::spawn(delay_line(sr, cw, one_way));
        }
    });
    port
}

async fn delay_line(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    tokio::spawn(async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0
            || tx
                .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
        {
            return;
        }
    }
}

/// Over a link with a 60 ms round trip, a 4 MiB file comes down in a few round trips, not
/// one per request: a reader that waited for each 64 KiB answer before asking for the next
/// would need 64 round trips (3.8 s) at the very least.
#[tokio::test]
async fn reads_are_pipelined_so_round_trips_do_not_limit_one_file() {
    let Some((d, dir)) = daemon().await else {
        return;
    };
    let data: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("far.bin"), &data).unwrap();
    let rtt = Duration::from_millis(60);
    let port = delay_proxy(d.port, rtt / 2).await;
    let mut cfg = key_config(&d, dir.path());
    cfg.port = port;
    // known_hosts names the daemon's port; pin the key instead.
    cfg.host_keys.pins = vec![HostKeyPin::parse(&d.host_fingerprint).unwrap()];
    let r = SftpRemote::new(cfg);
    r.connect().await.unwrap();
    let p = RelPath::new("far.bin").unwrap();
    let started = std::time::Instant::now();
    let mut got = Vec::new();
    r.open(&p, 0)
        .await
        .unwrap()
        .read_to_end(&mut got)
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(got == data, "bytes differ");
    println!("4 MiB over a 60 ms round trip: {took:?}");
    assert!(
        took < rtt * 20,
        "4 MiB took {took:?}: reads are not pipelined (64 requests of 64 KiB, RTT {rtt:?})"
    );
}

/// A name that is not UTF-8 cannot be carried (russh-sftp decodes names as UTF-8, lossily):
/// it is refused and reported, and the rest of the tree is listed normally.
#[tokio::test]
async fn names_that_are_not_utf8_are_refused() {
    use std::os::unix::ffi::OsStrExt;
    let Some((d, dir)) = daemon().await else {
        return;
    };
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt")), b"x").unwrap();
    mirror_testkit::TreeBuilder::new(dir.path()).file("good/ok.txt", b"ok", 1_500_000_000);
    let r = SftpRemote::new(key_config(&d, dir.path()));
    let l = r
        .walk(&mirror_remote::WalkOptions {
            recursive: true,
            ignore: None,
        })
        .await
        .unwrap();
    let paths: Vec<&str> = l.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["bad", "f.txt", "good", "good/ok.txt"], "{l:?}");
    assert_eq!(l.refused.len(), 1, "{l:?}");
    assert_eq!(l.refused[0].path.as_str(), "bad");
    assert!(l.refused[0].message.contains("UTF-8"), "{l:?}");
}
