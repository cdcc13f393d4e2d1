//! One SSH connection with its SFTP channel: connecting, checking the host key, logging in
//! (key or password), starting the `sftp` subsystem, learning the server's extensions and
//! limits; and how SFTP and SSH errors map onto [`ErrorKind`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::RawSftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::client::rawsession::Limits;
use russh_sftp::protocol::StatusCode;

use super::SftpConfig;
use super::hostkey::HostKeyPolicy;
use crate::{ErrorKind, RemoteError};

/// The largest read or write request sent, whatever the server allows: 64 KiB keeps a
/// request well inside every server's packet limit, and 32 of them in flight fill a fast
/// link without holding much memory.
const MAX_IO_LEN: u64 = 64 * 1024;

/// What every SFTP server accepts (the draft's minimum packet size is 32 KiB + headers).
const SAFE_IO_LEN: u32 = 32 * 1024;

/// Server extensions the backend uses when present.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Extensions {
    /// `posix-rename@openssh.com`: rename that replaces the target atomically (plain SFTP
    /// v3 rename refuses an existing target).
    pub posix_rename: bool,
    /// `lsetstat@openssh.com`: set attributes without following a final symlink.
    pub lsetstat: bool,
    /// The server is OpenSSH, whose `SSH_FXP_SYMLINK` takes its two paths in the opposite
    /// order from the draft (a documented, permanent quirk).
    pub openssh: bool,
}

/// A logged-in connection and its SFTP session. Requests on the session may run
/// concurrently: that is how reads, writes and listings are pipelined.
pub(crate) struct Conn {
    ssh: Handle<Verifier>,
    /// The SFTP session (every method takes `&self`).
    pub sftp: Arc<RawSftpSession>,
    /// What the server supports beyond SFTP v3.
    pub ext: Extensions,
    /// Bytes per read request.
    pub read_len: u32,
    /// Bytes per write request.
    pub write_len: u32,
}

impl Conn {
    /// True once the SSH connection has ended; the next operation reconnects.
    pub fn is_closed(&self) -> bool {
        self.ssh.is_closed()
    }
}

/// The SSH client handler: checks the host key and remembers why it refused one (russh
/// itself only reports "unknown key").
pub(crate) struct Verifier {
    host: String,
    port: u16,
    policy: Arc<HostKeyPolicy>,
    refused: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let verdict = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                self.policy.check(&self.host, self.port, key)
            }
            PublicKeyOrCertificate::Certificate(_) => Err(
                "the server offered a host certificate; only plain host keys are checked \
                     (pin the key with ssh_host_key)"
                    .to_owned(),
            ),
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(why) => {
                if let Ok(mut slot) = self.refused.lock() {
                    *slot = Some(why);
                }
                Ok(false)
            }
        }
    }
}

/// Connects, checks the host key, logs in and starts SFTP, all within `cfg.timeout`.
pub(crate) async fn open(cfg: &SftpConfig, url: &str) -> Result<Conn, RemoteError> {
    let context = || format!("cannot connect to {url}");
    match tokio::time::timeout(cfg.timeout, open_inner(cfg, url)).await {
        Ok(r) => r,
        Err(_) => Err(RemoteError::new(
            ErrorKind::Transient,
            context(),
            format!("no answer within {} s", cfg.timeout.as_secs()),
        )),
    }
}

async fn open_inner(cfg: &SftpConfig, url: &str) -> Result<Conn, RemoteError> {
    let context = || format!("cannot connect to {url}");
    let refused = Arc::new(Mutex::new(None));
    let verifier = Verifier {
        host: cfg.host.clone(),
        port: cfg.port,
        policy: Arc::new(cfg.host_keys.clone()),
        refused: refused.clone(),
    };
    let config = Arc::new(client::Config {
        // A keepalive notices a dead server during a long quiet listing.
        keepalive_interval: Some(Duration::from_secs(30)),
        nodelay: true,
        ..Default::default()
    });
    let mut ssh = match client::connect(config, (cfg.host.as_str(), cfg.port), verifier).await {
        Ok(h) => h,
        Err(e) => {
            if let Some(why) = refused.lock().ok().and_then(|mut s| s.take()) {
                return Err(RemoteError::new(ErrorKind::Fatal, context(), why));
            }
            return Err(ssh_err(context(), e));
        }
    };

    let login = || format!("cannot log in to {url}");
    let accepted = match &cfg.key_file {
        Some(file) => {
            let key = load_key(file, &cfg.password.0)
                .map_err(|why| RemoteError::new(ErrorKind::Fatal, login(), why))?;
            let hash = if key.algorithm().is_rsa() {
                // The SHA-2 signature the server announces; `None` falls back to SHA-1.
                ssh.best_supported_rsa_hash().await.ok().flatten().flatten()
            } else {
                None
            };
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
            ssh.authenticate_publickey(&cfg.user, key)
                .await
                .map_err(|e| ssh_err(login(), e))?
                .success()
        }
        None => ssh
            .authenticate_password(&cfg.user, &cfg.password.0)
            .await
            .map_err(|e| ssh_err(login(), e))?
            .success(),
    };
    if !accepted {
        let how = match &cfg.key_file {
            Some(f) => format!("the key {}", f.display()),
            None => "the password".to_owned(),
        };
        return Err(RemoteError::new(
            ErrorKind::Fatal,
            login(),
            format!("the server refused {how} for user {}", cfg.user),
        ));
    }

    let start = || format!("cannot start SFTP on {url}");
    let channel = ssh
        .channel_open_session()
        .await
        .map_err(|e| ssh_err(start(), e))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| ssh_err(start(), e))?;
    let sftp_cfg = russh_sftp::client::Config {
        request_timeout_secs: cfg.timeout.as_secs().max(1),
        ..Default::default()
    };
    let mut sftp = RawSftpSession::new_with_config(channel.into_stream(), sftp_cfg);
    let version = sftp
        .init()
        .await
        .map_err(|e| RemoteError::new(ErrorKind::Fatal, start(), e))?;
    let has = |name: &str| version.extensions.contains_key(name);
    let ext = Extensions {
        posix_rename: has("posix-rename@openssh.com"),
        lsetstat: has("lsetstat@openssh.com"),
        openssh: version
            .extensions
            .keys()
            .any(|k| k.ends_with("@openssh.com")),
    };
    let (mut read_len, mut write_len) = (SAFE_IO_LEN, SAFE_IO_LEN);
    if has("limits@openssh.com")
        && let Ok(l) = sftp.limits().await
    {
        let limits = Limits::from(l);
        sftp.set_limits(limits);
        let pick = |v: Option<u64>| {
            v.map_or(SAFE_IO_LEN, |n| {
                u32::try_from(n.min(MAX_IO_LEN)).unwrap_or(SAFE_IO_LEN)
            })
        };
        read_len = pick(limits.read_len);
        write_len = pick(limits.write_len);
    }
    Ok(Conn {
        ssh,
        sftp: Arc::new(sftp),
        ext,
        read_len,
        write_len,
    })
}

/// Loads a private key; an encrypted one is unlocked with `passphrase` (`remote_password`).
fn load_key(file: &std::path::Path, passphrase: &str) -> Result<russh::keys::PrivateKey, String> {
    match russh::keys::load_secret_key(file, None) {
        Ok(k) => Ok(k),
        Err(russh::keys::Error::KeyIsEncrypted) => {
            russh::keys::load_secret_key(file, Some(passphrase)).map_err(|e| {
                format!(
                    "cannot unlock the key {} with remote_password: {e}",
                    file.display()
                )
            })
        }
        Err(e) => Err(format!("cannot read the key {}: {e}", file.display())),
    }
}

/// Maps an SSH-level error.
fn ssh_err(context: String, e: russh::Error) -> RemoteError {
    match e {
        russh::Error::IO(io) => {
            let mut err = RemoteError::io(context, &io);
            // A refused connection is usually a server restarting: worth another try.
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                err.kind = ErrorKind::Transient;
            }
            err
        }
        russh::Error::Disconnect
        | russh::Error::SendError
        | russh::Error::HUP
        | russh::Error::ConnectionTimeout
        | russh::Error::KeepaliveTimeout
        | russh::Error::InactivityTimeout => RemoteError::new(ErrorKind::Transient, context, e),
        other => RemoteError::new(ErrorKind::Fatal, context, other),
    }
}

/// The class of an SFTP error.
pub(crate) fn kind_of(e: &SftpError) -> ErrorKind {
    match e {
        SftpError::Status(s) => match s.status_code {
            StatusCode::NoSuchFile => ErrorKind::NotFound,
            StatusCode::PermissionDenied => ErrorKind::PermissionDenied,
            StatusCode::NoConnection | StatusCode::ConnectionLost => ErrorKind::Transient,
            StatusCode::OpUnsupported => ErrorKind::Unsupported,
            _ => ErrorKind::Other,
        },
        // Timeouts, a closed channel, a dropped reply: the connection is suspect.
        SftpError::Timeout | SftpError::IO(_) | SftpError::UnexpectedBehavior(_) => {
            ErrorKind::Transient
        }
        SftpError::Limited(_) | SftpError::UnexpectedPacket => ErrorKind::Other,
    }
}

/// True for the end-of-file status (a read past the end, a directory fully read).
pub(crate) fn is_eof(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == StatusCode::Eof)
}

/// An SFTP error with its context.
pub(crate) fn sftp_err(context: String, e: &SftpError) -> RemoteError {
    RemoteError::new(kind_of(e), context, e)
}
