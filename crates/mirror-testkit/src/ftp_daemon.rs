//! Real FTP daemons from Debian, started by the tests on 127.0.0.1 on a free high port:
//! vsftpd (anonymous, `LIST` only, `-R` ignored: the default config) and pure-ftpd (a
//! virtual user, `MLSD`, writable). `scripts/install-test-deps` installs vsftpd and
//! unpacks pure-ftpd (the packages conflict) into `$MIRROR_TEST_DEPS`
//! (default `/opt/mirror-test-deps`).
//!
//! A test that needs a daemon calls [`FtpDaemon::find`] first and, when the binary is
//! absent, skips with a loud message instead of failing: the install script is what CI
//! runs to make them present.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::ftp_unftp::{free_port, wait_listening};

/// Which daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    /// vsftpd 3: anonymous, read-only, `LIST` only, ignores `LIST -R`, has `MDTM`.
    Vsftpd,
    /// pure-ftpd 1.0: a virtual user with write access, `MLSD`/`MLST`/`MDTM`.
    PureFtpd,
}

impl Daemon {
    fn binary_name(self) -> &'static str {
        match self {
            Daemon::Vsftpd => "vsftpd",
            Daemon::PureFtpd => "pure-ftpd",
        }
    }
}

/// How to run a daemon.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    /// Logins allowed at once from 127.0.0.1 (vsftpd `max_per_ip`, pure-ftpd `-C`);
    /// `None`: the daemon's default.
    pub max_per_ip: Option<u32>,
    /// Log every command the daemon receives, for [`FtpDaemon::commands`] (vsftpd only:
    /// `log_ftp_protocol`).
    pub log_commands: bool,
}

/// A running daemon; killed when dropped.
pub struct FtpDaemon {
    /// Which one.
    pub daemon: Daemon,
    /// The control port on 127.0.0.1.
    pub port: u16,
    /// The folder it serves as the login directory.
    pub root: PathBuf,
    /// The user to log in as.
    pub user: String,
    /// Its password.
    pub password: String,
    child: Child,
    _work: tempfile::TempDir,
}

/// The folder where `install-test-deps` unpacks what cannot be installed.
fn deps_dir() -> PathBuf {
    std::env::var_os("MIRROR_TEST_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/mirror-test-deps"))
}

impl FtpDaemon {
    /// The daemon's binary, if installed (`/usr/sbin`, then the unpacked copy).
    pub fn find(daemon: Daemon) -> Option<PathBuf> {
        let name = daemon.binary_name();
        [
            PathBuf::from("/usr/sbin").join(name),
            deps_dir().join(name).join("usr/sbin").join(name),
        ]
        .into_iter()
        .find(|p| p.is_file())
    }

    /// The message a test prints when it skips for want of `daemon`.
    pub fn skip_message(daemon: Daemon) -> String {
        format!(
            "SKIPPED: {} is not installed; run scripts/install-test-deps (CI does)",
            daemon.binary_name()
        )
    }

    /// Starts `daemon` serving `root` (made readable, and for pure-ftpd writable, by the
    /// daemon's unprivileged user). Needs root, as both daemons do.
    pub async fn start(
        daemon: Daemon,
        root: &Path,
        opts: &DaemonOptions,
    ) -> Result<FtpDaemon, String> {
        let bin = Self::find(daemon).ok_or_else(|| Self::skip_message(daemon))?;
        let work = tempfile::tempdir().map_err(|e| e.to_string())?;
        // pure-ftpd's user writes; vsftpd refuses a chroot its user could write to.
        open_up(root, daemon == Daemon::PureFtpd)?;
        let port = free_port();
        let (child, user, password) = match daemon {
            Daemon::Vsftpd => (
                vsftpd(&bin, work.path(), root, port, opts)?,
                "anonymous",
                "",
            ),
            Daemon::PureFtpd => (
                pure_ftpd(&bin, work.path(), root, port, opts)?,
                "mirror",
                "mirror-test-pw",
            ),
        };
        let mut d = FtpDaemon {
            daemon,
            port,
            root: root.to_path_buf(),
            user: user.into(),
            password: password.into(),
            child,
            _work: work,
        };
        let ready = tokio::time::timeout(Duration::from_secs(10), wait_listening(port)).await;
        if ready.is_err() || d.child.try_wait().map(|s| s.is_some()).unwrap_or(true) {
            let log =
                std::fs::read_to_string(d._work.path().join("daemon.log")).unwrap_or_default();
            return Err(format!(
                "{} did not start on port {port}: {log}",
                daemon.binary_name()
            ));
        }
        Ok(d)
    }

    /// The commands clients sent so far, in order, when the daemon was started with
    /// [`DaemonOptions::log_commands`] (empty otherwise). vsftpd writes its log as it goes,
    /// one line per command: `... FTP command: Client "127.0.0.1", "MDTM /f.txt"`.
    pub fn commands(&self) -> Vec<String> {
        let log =
            std::fs::read_to_string(self._work.path().join("protocol.log")).unwrap_or_default();
        log.lines()
            .filter_map(|l| {
                let rest = &l[l.find("FTP command:")?..];
                let start = rest.find(", \"")? + 3;
                let cmd = rest[start..].strip_suffix('"')?;
                Some(cmd.to_owned())
            })
            .collect()
    }
}

impl Drop for FtpDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes `root` and its ancestors traversable and everything below it readable by
/// everyone, and with `chown` the tree owned by the `ftp` user (pure-ftpd's virtual user
/// writes as it).
/// Temporary folders are created 0700, which the daemons' unprivileged users cannot enter.
fn open_up(root: &Path, chown: bool) -> Result<(), String> {
    for dir in root.ancestors() {
        if dir == Path::new("/") {
            break;
        }
        if let Ok(md) = std::fs::metadata(dir) {
            let mode = md.permissions().mode();
            if mode & 0o005 != 0o005 {
                let _ =
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o055));
            }
        }
    }
    let ftp = if chown {
        nix::unistd::User::from_name("ftp").ok().flatten()
    } else {
        None
    };
    for entry in walk(root) {
        let md = std::fs::symlink_metadata(&entry).map_err(|e| e.to_string())?;
        if !md.file_type().is_symlink() {
            let mode = md.permissions().mode() & 0o7777;
            let add = if md.is_dir() { 0o755 } else { 0o644 };
            let _ = std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode | add));
        }
        if let Some(u) = &ftp {
            let _ = nix::unistd::fchownat(
                nix::fcntl::AT_FDCWD,
                &entry,
                Some(u.uid),
                Some(u.gid),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            );
        }
    }
    Ok(())
}

/// `root` and everything below it (symlinks not followed).
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let p = out[i].clone();
        i += 1;
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir())
            && let Ok(rd) = std::fs::read_dir(&p)
        {
            out.extend(rd.flatten().map(|e| e.path()));
        }
    }
    out
}

fn log_file(work: &Path) -> Result<std::fs::File, String> {
    std::fs::File::create(work.join("daemon.log")).map_err(|e| e.to_string())
}

fn vsftpd(
    bin: &Path,
    work: &Path,
    root: &Path,
    port: u16,
    opts: &DaemonOptions,
) -> Result<Child, String> {
    let empty = work.join("empty");
    std::fs::create_dir_all(&empty).map_err(|e| e.to_string())?;
    let _ = std::fs::set_permissions(&empty, std::fs::Permissions::from_mode(0o555));
    let mut conf = format!(
        "listen=YES\n\
         listen_ipv6=NO\n\
         listen_address=127.0.0.1\n\
         listen_port={port}\n\
         background=NO\n\
         anonymous_enable=YES\n\
         anon_root={root}\n\
         no_anon_password=YES\n\
         ftp_username=ftp\n\
         local_enable=NO\n\
         write_enable=NO\n\
         seccomp_sandbox=NO\n\
         isolate=NO\n\
         isolate_network=NO\n\
         secure_chroot_dir={empty}\n\
         allow_writeable_chroot=YES\n\
         pasv_enable=YES\n\
         pasv_address=127.0.0.1\n\
         connect_from_port_20=NO\n\
         xferlog_enable=NO\n\
         syslog_enable=NO\n\
         use_localtime=NO\n\
         force_dot_files=YES\n\
         session_support=NO\n\
         ssl_enable=NO\n",
        root = root.display(),
        empty = empty.display(),
    );
    if let Some(n) = opts.max_per_ip {
        conf.push_str(&format!("max_per_ip={n}\n"));
    }
    if opts.log_commands {
        // vsftpd's own log format (not xferlog's) is the one that carries the protocol.
        conf = conf.replace("xferlog_enable=NO\n", "");
        conf.push_str(&format!(
            "xferlog_enable=YES\nxferlog_std_format=NO\nlog_ftp_protocol=YES\nvsftpd_log_file={}\n",
            work.join("protocol.log").display()
        ));
    }
    let conf_path = work.join("vsftpd.conf");
    std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
    // vsftpd insists that its config file belongs to the user running it.
    Command::new(bin)
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(log_file(work)?)
        .stderr(log_file(work)?)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))
}

fn pure_ftpd(
    bin: &Path,
    work: &Path,
    root: &Path,
    port: u16,
    opts: &DaemonOptions,
) -> Result<Child, String> {
    let pure_pw = bin
        .parent()
        .and_then(Path::parent)
        .map(|usr| usr.join("bin/pure-pw"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("pure-pw"));
    let passwd = work.join("pureftpd.passwd");
    let pdb = work.join("pureftpd.pdb");
    let mut add = Command::new(&pure_pw)
        .args(["useradd", "mirror", "-u", "ftp", "-g", "ftp", "-d"])
        .arg(root)
        .arg("-f")
        .arg(&passwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", pure_pw.display()))?;
    {
        use std::io::Write;
        let mut stdin = add.stdin.take().ok_or("no stdin")?;
        stdin
            .write_all(b"mirror-test-pw\nmirror-test-pw\n")
            .map_err(|e| e.to_string())?;
    }
    let out = add.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "pure-pw useradd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let out = Command::new(&pure_pw)
        .arg("mkdb")
        .arg(&pdb)
        .arg("-f")
        .arg(&passwd)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "pure-pw mkdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut cmd = Command::new(bin);
    cmd.arg("-S")
        .arg(format!("127.0.0.1,{port}"))
        .arg("-l")
        .arg(format!("puredb:{}", pdb.display()))
        // No anonymous, no DNS, dot files shown, no syslog, IPv4, high passive ports.
        .args(["-E", "-H", "-D", "-4", "-f", "none", "-p", "30000:60000"])
        .arg("-g")
        .arg(work.join("pure-ftpd.pid"));
    if let Some(n) = opts.max_per_ip {
        cmd.arg("-C").arg(n.to_string());
    }
    cmd.stdin(Stdio::null())
        .stdout(log_file(work)?)
        .stderr(log_file(work)?)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))
}
