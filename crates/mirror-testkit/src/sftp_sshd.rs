//! A real OpenSSH `sshd` (Debian's openssh-server) for the SFTP tests, started on
//! 127.0.0.1 on a free high port: `sshd -f CFG -D -e` with its own host key, `UsePAM no`,
//! `Subsystem sftp internal-sftp`, root allowed in with a test key, and a throwaway user
//! ([`PASSWORD_USER`]) allowed in with a password. Everything but that user lives in a
//! temporary folder that goes when the daemon is dropped.
//!
//! sshd must run as root (it switches to the logged-in user), so a test calls
//! [`Sshd::unavailable`] first and, when sshd is missing or the tests are not root, skips
//! with a loud message instead of failing: `scripts/install-test-deps` installs sshd, and CI
//! runs as root.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::ftp_unftp::{free_port, wait_listening};

/// The throwaway system user the password tests log in as (no home, no login shell).
pub const PASSWORD_USER: &str = "mirror-sftp-test";

/// Its password: fixed, because several test processes may set it; the account can only
/// be used through a test's sshd, which listens on 127.0.0.1 only while the test runs.
pub const PASSWORD: &str = "mirror-test-pw-7c1d";

const SSHD: &str = "/usr/sbin/sshd";

/// A running sshd; killed when dropped.
pub struct Sshd {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The daemon's host public key, as an OpenSSH line (`ssh-ed25519 AAAA...`).
    pub host_key: String,
    /// Its fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`).
    pub host_fingerprint: String,
    /// A known_hosts file listing the host key for `[127.0.0.1]:port`.
    pub known_hosts: PathBuf,
    /// The client's private key (unencrypted ed25519), accepted for root and
    /// [`PASSWORD_USER`].
    pub client_key: PathBuf,
    /// The same key encrypted with [`KEY_PASSPHRASE`].
    pub client_key_encrypted: PathBuf,
    child: Child,
    work: tempfile::TempDir,
}

/// The passphrase of [`Sshd::client_key_encrypted`].
pub const KEY_PASSPHRASE: &str = "key-passphrase-1";

impl Sshd {
    /// Why the tests cannot start sshd here, or `None` when they can.
    pub fn unavailable() -> Option<String> {
        if !Path::new(SSHD).is_file() {
            return Some(format!(
                "SKIPPED: {SSHD} is not installed; run scripts/install-test-deps (CI does)"
            ));
        }
        if !nix::unistd::geteuid().is_root() {
            return Some("SKIPPED: sshd tests need root (sshd switches users)".into());
        }
        None
    }

    /// Starts sshd. `served` (if given) is made reachable and writable by
    /// [`PASSWORD_USER`]: its ancestors traversable, the tree owned by the user.
    pub async fn start(served: Option<&Path>) -> Result<Sshd, String> {
        if let Some(why) = Self::unavailable() {
            return Err(why);
        }
        ensure_password_user()?;
        if let Some(dir) = served {
            hand_over(dir)?;
        }
        let work = tempfile::tempdir().map_err(|e| e.to_string())?;
        let w = work.path();
        // sshd reads authorized_keys as the logging-in user.
        set_mode(w, 0o755)?;
        keygen(&w.join("host_key"), "")?;
        keygen(&w.join("client_key"), "")?;
        keygen(&w.join("client_key_enc"), KEY_PASSPHRASE)?;
        let read = |name: &str| {
            std::fs::read_to_string(w.join(name))
                .map(|s| s.trim().to_owned())
                .map_err(|e| e.to_string())
        };
        let host_pub = read("host_key.pub")?;
        let host_key = host_pub
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let authorized = format!(
            "{}\n{}\n",
            read("client_key.pub")?,
            read("client_key_enc.pub")?
        );
        std::fs::write(w.join("authorized_keys"), authorized).map_err(|e| e.to_string())?;
        set_mode(&w.join("authorized_keys"), 0o644)?;
        let port = free_port();
        std::fs::write(
            w.join("known_hosts"),
            format!("[127.0.0.1]:{port} {host_key}\n"),
        )
        .map_err(|e| e.to_string())?;
        let fp = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(w.join("host_key.pub"))
            .output()
            .map_err(|e| format!("cannot run ssh-keygen: {e}"))?;
        let host_fingerprint = String::from_utf8_lossy(&fp.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let conf = format!(
            "Port {port}\n\
             ListenAddress 127.0.0.1\n\
             HostKey {w}/host_key\n\
             PidFile none\n\
             UsePAM no\n\
             PasswordAuthentication yes\n\
             KbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\n\
             AuthorizedKeysFile {w}/authorized_keys\n\
             StrictModes no\n\
             AllowUsers root {PASSWORD_USER}\n\
             Subsystem sftp internal-sftp\n\
             MaxStartups 100\n\
             MaxSessions 20\n\
             LogLevel VERBOSE\n",
            w = w.display()
        );
        std::fs::write(w.join("sshd_config"), conf).map_err(|e| e.to_string())?;
        // sshd's privilege separation needs this (normally made by the service unit).
        let _ = std::fs::create_dir_all("/run/sshd");
        let log = std::fs::File::create(w.join("sshd.log")).map_err(|e| e.to_string())?;
        let child = Command::new(SSHD)
            .arg("-f")
            .arg(w.join("sshd_config"))
            .args(["-D", "-e"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {SSHD}: {e}"))?;
        let mut d = Sshd {
            port,
            host_key,
            host_fingerprint,
            known_hosts: w.join("known_hosts"),
            client_key: w.join("client_key"),
            client_key_encrypted: w.join("client_key_enc"),
            child,
            work,
        };
        let ready = tokio::time::timeout(Duration::from_secs(10), wait_listening(port)).await;
        if ready.is_err() || d.child.try_wait().map(|s| s.is_some()).unwrap_or(true) {
            return Err(format!("sshd did not start on port {port}: {}", d.log()));
        }
        Ok(d)
    }

    /// What sshd has logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.work.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_mode(p: &Path, mode: u32) -> Result<(), String> {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", p.display()))
}

fn keygen(path: &Path, passphrase: &str) -> Result<(), String> {
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-C",
            "mirror-test",
            "-N",
            passphrase,
            "-f",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ssh-keygen: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Creates [`PASSWORD_USER`] if missing and sets its password, once per process.
fn ensure_password_user() -> Result<(), String> {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().map_err(|e| e.to_string())?;
    if *done {
        return Ok(());
    }
    if nix::unistd::User::from_name(PASSWORD_USER)
        .ok()
        .flatten()
        .is_none()
    {
        let out = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
            ])
            .arg(PASSWORD_USER)
            .output()
            .map_err(|e| format!("cannot run useradd: {e}"))?;
        // Another test process may have created it meanwhile (exit 9: already exists).
        if !out.status.success() && out.status.code() != Some(9) {
            return Err(format!(
                "useradd {PASSWORD_USER} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    // chpasswd locks /etc/shadow; another process doing the same makes it fail briefly.
    let mut last = String::new();
    for _ in 0..20 {
        let mut child = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run chpasswd: {e}"))?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().ok_or("no stdin")?;
            stdin
                .write_all(format!("{PASSWORD_USER}:{PASSWORD}\n").as_bytes())
                .map_err(|e| e.to_string())?;
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if out.status.success() {
            *done = true;
            return Ok(());
        }
        last = String::from_utf8_lossy(&out.stderr).into_owned();
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("chpasswd failed: {last}"))
}

/// Makes `dir` reachable by [`PASSWORD_USER`] (ancestors traversable) and gives it the tree.
fn hand_over(dir: &Path) -> Result<(), String> {
    let user = nix::unistd::User::from_name(PASSWORD_USER)
        .ok()
        .flatten()
        .ok_or_else(|| format!("no user {PASSWORD_USER}"))?;
    for a in dir.ancestors().skip(1) {
        if a == Path::new("/") {
            break;
        }
        if let Ok(md) = std::fs::metadata(a) {
            let mode = md.permissions().mode() & 0o7777;
            if mode & 0o001 == 0 {
                set_mode(a, mode | 0o011)?;
            }
        }
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            &p,
            Some(user.uid),
            Some(user.gid),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| format!("chown {}: {e}", p.display()))?;
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir())
            && let Ok(rd) = std::fs::read_dir(&p)
        {
            stack.extend(rd.flatten().map(|e| e.path()));
        }
    }
    Ok(())
}
