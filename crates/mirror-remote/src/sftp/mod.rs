//! The SFTP backend (`site=sftp://user@host[:port]/path`): [`SftpRemote`] implements
//! [`Remote`] over one SSH connection (russh) carrying one SFTP v3 session (russh-sftp).
//!
//! Layout:
//!
//! ```text
//! hostkey  trusting the server: pinned keys (ssh_host_key) or known_hosts files
//! conn     connect, log in (key or password), start SFTP, extensions and limits; errors
//! io       pipelined reads and writes (32 requests in flight per transfer)
//! ```
//!
//! Decisions a mirror operator should know (the README repeats them):
//! - The host key must be pinned or listed in a known_hosts file; an unknown or changed key
//!   refuses the connection with its fingerprint in the message. Nothing is trusted blindly.
//! - `ssh_key` logs in with that key (an encrypted one is unlocked with `remote_password`);
//!   without it `remote_password` is sent as the password. Passwords never appear in
//!   messages, which name `sftp://user@host:port/path`.
//! - One connection serves every transfer of a package: SFTP answers requests out of order,
//!   so listings, reads and writes run concurrently over it. A connection that breaks is
//!   replaced, and the failed operation retried with back-off within a per-package budget.
//! - Listings use `lstat` semantics: symlinks are listed as symlinks with their targets.
//!   Times are whole seconds (SFTP v3). A name that is not a clean path segment, or not
//!   UTF-8, is refused and reported, never used.
//! - Writes (put mode, `sftp://` destinations) replace files atomically with OpenSSH's
//!   `posix-rename` when the server has it; otherwise the old file is removed first.
//!   Attributes are set with `lsetstat` when available, so a symlink is never followed.
//! - The URL path is absolute (`sftp://h/srv/x` is `/srv/x`); `sftp://h/~/x` is `x` in the
//!   login directory.

mod conn;
pub mod hostkey;
mod io;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, StatusCode};

use crate::{
    Entry, ErrorKind, Features, Kind, Listing, ListingProblem, Precision, ReadStream, RelPath,
    Remote, RemoteError, WalkOptions, WriteStream,
};

use conn::{Conn, sftp_err};
pub use hostkey::{HostKeyPin, HostKeyPolicy};

/// A password or passphrase: sent to the server, never shown (`Debug` prints `****`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SftpSecret(pub String);

impl fmt::Debug for SftpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Everything an [`SftpRemote`] needs, resolved from a package (see `mirror-sync`'s
/// `connect_sftp`).
#[derive(Clone, Debug)]
pub struct SftpConfig {
    /// Host name or address.
    pub host: String,
    /// SSH port (the URL's, else 22).
    pub port: u16,
    /// The user to log in as.
    pub user: String,
    /// The password, or with `key_file` the key's passphrase (used only if it is encrypted).
    pub password: SftpSecret,
    /// A private key file (OpenSSH or PEM format): log in with it instead of the password.
    pub key_file: Option<PathBuf>,
    /// How the server's host key is checked.
    pub host_keys: HostKeyPolicy,
    /// The tree's root on the server: absolute, or relative to the login directory.
    pub root: String,
    /// For connecting and for each request.
    pub timeout: Duration,
    /// Transfers at once (`parallel`).
    pub max_parallel: usize,
    /// The remote is written to (put mode or a destination); false refuses every write.
    pub write: bool,
    /// Retries of transient failures, for the whole remote (the package).
    pub retries: u32,
    /// The first back-off delay (doubled per retry, at most 30 s).
    pub retry_base: Duration,
}

impl SftpConfig {
    /// A configuration with mirror's defaults for `host`: port 22, the usual known_hosts
    /// files, the login directory as root, a 120 s timeout, 4 transfers, 20 retries.
    pub fn new(host: impl Into<String>, user: impl Into<String>) -> SftpConfig {
        SftpConfig {
            host: host.into(),
            port: 22,
            user: user.into(),
            password: SftpSecret::default(),
            key_file: None,
            host_keys: HostKeyPolicy {
                pins: Vec::new(),
                known_hosts: HostKeyPolicy::default_files(),
            },
            root: String::new(),
            timeout: Duration::from_secs(120),
            max_parallel: 4,
            write: false,
            retries: 20,
            retry_base: Duration::from_secs(1),
        }
    }
}

/// What the remote's operations share.
struct Shared {
    cfg: SftpConfig,
    /// `sftp://user@host:port`, for messages.
    url: String,
    /// The live connection, made on first use and replaced when it breaks.
    conn: tokio::sync::Mutex<Option<Arc<Conn>>>,
    /// The absolute root, once known.
    root: tokio::sync::OnceCell<String>,
    /// Retries left (the per-package budget).
    retries: AtomicU32,
}

/// A tree on an SFTP server. Cheap to clone (clones share the connection).
#[derive(Clone)]
pub struct SftpRemote {
    sh: Arc<Shared>,
}

impl fmt::Debug for SftpRemote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SftpRemote")
            .field("url", &self.describe())
            .finish()
    }
}

/// Directories listed at once during a walk.
const WALK_PARALLEL: usize = 8;

impl SftpRemote {
    /// A remote for `cfg`. Connects lazily, on first use.
    pub fn new(cfg: SftpConfig) -> SftpRemote {
        let host = if cfg.host.contains(':') {
            format!("[{}]", cfg.host)
        } else {
            cfg.host.clone()
        };
        let url = format!("sftp://{}@{host}:{}", cfg.user, cfg.port);
        SftpRemote {
            sh: Arc::new(Shared {
                retries: AtomicU32::new(cfg.retries),
                cfg,
                url,
                conn: tokio::sync::Mutex::new(None),
                root: tokio::sync::OnceCell::new(),
            }),
        }
    }

    /// Connects now (if not yet connected), so that a wrong host key or password shows
    /// before any work is planned.
    pub async fn connect(&self) -> Result<(), RemoteError> {
        self.sh.conn().await.map(drop)
    }

    /// Transient failures retried so far.
    pub fn retries_used(&self) -> u32 {
        self.sh
            .cfg
            .retries
            .saturating_sub(self.sh.retries.load(Ordering::Relaxed))
    }

    fn writable(&self, what: &str, path: &RelPath) -> Result<(), RemoteError> {
        if self.sh.cfg.write {
            Ok(())
        } else {
            Err(RemoteError::new(
                ErrorKind::Unsupported,
                self.sh.context(what, path),
                "this SFTP remote is a source (get mode): it is not written to",
            ))
        }
    }
}

impl Shared {
    /// `sftp://user@host:port/abs/path`, for messages.
    fn show(&self, path: &RelPath) -> String {
        let root = self
            .root
            .get()
            .map(String::as_str)
            .unwrap_or(&self.cfg.root);
        let mut p = join_abs(root, path);
        if !p.starts_with('/') {
            p.insert(0, '/');
        }
        format!("{}{p}", self.url)
    }

    fn context(&self, what: &str, path: &RelPath) -> String {
        format!("cannot {what} {}", self.show(path))
    }

    /// The live connection, connecting if there is none or it has ended.
    async fn conn(&self) -> Result<Arc<Conn>, RemoteError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref()
            && !c.is_closed()
        {
            return Ok(c.clone());
        }
        let c = Arc::new(conn::open(&self.cfg, &self.url).await?);
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Drops `c` if it is still the live connection (it failed; the next call reconnects).
    async fn forget(&self, c: &Arc<Conn>) {
        let mut slot = self.conn.lock().await;
        if slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, c)) {
            *slot = None;
        }
    }

    fn take_retry(&self) -> bool {
        self.retries
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(10);
        (self.cfg.retry_base * factor).min(Duration::from_secs(30))
    }

    /// Runs `op` on the connection, retrying transient failures on a fresh connection with
    /// back-off while the budget lasts.
    async fn run<T, F, Fut>(&self, what: &str, path: &RelPath, op: F) -> Result<T, RemoteError>
    where
        F: Fn(Arc<Conn>) -> Fut + Send + Sync,
        Fut: Future<Output = Result<T, SftpError>> + Send,
        T: Send,
    {
        let mut attempt = 0u32;
        loop {
            let c = match self.conn().await {
                Ok(c) => c,
                Err(e) if e.is_retryable() && self.take_retry() => {
                    attempt += 1;
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match op(c.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let err = sftp_err(self.context(what, path), &e);
                    if err.is_retryable() && self.take_retry() {
                        self.forget(&c).await;
                        attempt += 1;
                        tokio::time::sleep(self.backoff(attempt)).await;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// The absolute root, asking the server for the login directory when the configured
    /// root is relative (or starts with `~/`).
    async fn root(&self) -> Result<&str, RemoteError> {
        self.root
            .get_or_try_init(|| async {
                let root = self.cfg.root.trim();
                let rel = root
                    .strip_prefix("/~")
                    .or_else(|| root.strip_prefix('~'))
                    .map(|r| r.trim_start_matches('/'));
                match rel {
                    None if root.starts_with('/') => Ok(clean_abs(root)),
                    _ => {
                        let rel = rel.unwrap_or(root).to_owned();
                        let home = self
                            .run(
                                "find the login directory of",
                                &RelPath::root(),
                                |c| async move {
                                    let name = c.sftp.realpath(".").await?;
                                    Ok(name
                                        .files
                                        .into_iter()
                                        .next()
                                        .map(|f| f.filename)
                                        .unwrap_or_else(|| "/".into()))
                                },
                            )
                            .await?;
                        Ok(clean_abs(&format!("{home}/{rel}")))
                    }
                }
            })
            .await
            .map(String::as_str)
    }

    async fn abs(&self, path: &RelPath) -> Result<String, RemoteError> {
        Ok(join_abs(self.root().await?, path))
    }

    /// Lists one directory: its entries, and the names refused as unsafe.
    async fn list_dir(
        &self,
        dir: &RelPath,
    ) -> Result<(Vec<Entry>, Vec<ListingProblem>), RemoteError> {
        let abs = self.abs(dir).await?;
        let files = self
            .run("list", dir, |c| {
                let abs = abs.clone();
                async move { read_dir(&c, &abs).await }
            })
            .await?;
        let mut entries = Vec::with_capacity(files.len());
        let mut refused = Vec::new();
        let mut links = Vec::new();
        for f in files {
            if f.filename == "." || f.filename == ".." {
                continue;
            }
            if f.filename.contains('\u{FFFD}') {
                // russh-sftp decodes names as UTF-8, replacing what is not: the name shown
                // is not the file's, and two files could show the same one.
                refused.push(ListingProblem {
                    path: dir.clone(),
                    message: format!("{:?}: the name is not valid UTF-8", f.filename),
                });
                continue;
            }
            let path = match dir.join(&f.filename) {
                Ok(p) => p,
                Err(e) => {
                    refused.push(ListingProblem {
                        path: dir.clone(),
                        message: format!("{:?}: {e}", f.filename),
                    });
                    continue;
                }
            };
            let kind = file_kind(&f.attrs, &f.longname);
            if kind == Kind::Symlink(Box::from("")) {
                links.push(entries.len());
            }
            entries.push(entry_for(path, &f.attrs, kind));
        }
        // Targets of the symlinks, all requests at once.
        let mut targets: FuturesUnordered<_> = links
            .into_iter()
            .map(|i| {
                let path = entries[i].path.clone();
                async move { (i, self.read_link(&path).await) }
            })
            .collect();
        let mut found = Vec::new();
        while let Some((i, target)) = targets.next().await {
            found.push((i, target));
        }
        drop(targets);
        let mut unreadable = Vec::new();
        for (i, target) in found {
            match target {
                Ok(t) => {
                    entries[i].size = Some(t.len() as u64);
                    entries[i].kind = Kind::Symlink(t.into_boxed_str());
                }
                Err(e) => unreadable.push((i, e)),
            }
        }
        if !unreadable.is_empty() {
            // A link whose target cannot be read cannot be mirrored: leave it out, and say
            // so (the directory is incomplete, so nothing at its path is deleted).
            let (_, e) = &unreadable[0];
            return Err(e.clone());
        }
        Ok((entries, refused))
    }

    async fn read_link(&self, path: &RelPath) -> Result<String, RemoteError> {
        let abs = self.abs(path).await?;
        self.run("read the link", path, |c| {
            let abs = abs.clone();
            async move {
                let name = c.sftp.readlink(abs).await?;
                Ok(name
                    .files
                    .into_iter()
                    .next()
                    .map(|f| f.filename)
                    .unwrap_or_default())
            }
        })
        .await
    }

    /// Sets attributes without following a final symlink when the server can.
    async fn set_attrs(
        &self,
        what: &str,
        path: &RelPath,
        attrs: FileAttributes,
    ) -> Result<(), RemoteError> {
        let abs = self.abs(path).await?;
        self.run(what, path, |c| {
            let (abs, attrs) = (abs.clone(), attrs.clone());
            async move {
                if c.ext.lsetstat {
                    let mut data = ssh_string(&abs);
                    data.extend(encode_attrs(&attrs));
                    status_of(c.sftp.extended("lsetstat@openssh.com", data).await?)
                } else {
                    c.sftp.setstat(abs, attrs).await.map(drop)
                }
            }
        })
        .await
    }
}

/// Reads a whole directory (OPENDIR, READDIR until end of file, CLOSE).
async fn read_dir(c: &Conn, abs: &str) -> Result<Vec<russh_sftp::protocol::File>, SftpError> {
    let handle = c.sftp.opendir(abs).await?.handle;
    let mut files = Vec::new();
    let result = loop {
        match c.sftp.readdir(handle.as_str()).await {
            Ok(name) => files.extend(name.files),
            Err(e) if conn::is_eof(&e) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    let _ = c.sftp.close(handle).await;
    result.map(|()| files)
}

/// `S_IFMT` and its values (the SFTP v3 permissions field carries the whole `st_mode`).
const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

/// The type of an entry; a symlink's target is filled in later. Servers that leave the
/// mode out are read from the `ls -l` style long name.
fn file_kind(attrs: &FileAttributes, longname: &str) -> Kind {
    let t = match attrs.permissions {
        Some(m) => m & S_IFMT,
        None => match longname.as_bytes().first() {
            Some(b'd') => S_IFDIR,
            Some(b'-') => S_IFREG,
            Some(b'l') => S_IFLNK,
            _ => 0,
        },
    };
    match t {
        S_IFDIR => Kind::Dir,
        S_IFREG => Kind::File,
        S_IFLNK => Kind::Symlink(Box::from("")),
        _ => Kind::Other,
    }
}

fn entry_for(path: RelPath, attrs: &FileAttributes, kind: Kind) -> Entry {
    let size = match kind {
        Kind::Dir => Some(0),
        _ => attrs.size,
    };
    let mode = match kind {
        // Linux symlinks have no mode of their own.
        Kind::Symlink(_) => None,
        _ => attrs.permissions.map(|m| (m & 0o7777) as u16),
    };
    Entry {
        path,
        kind,
        size,
        mtime: attrs.mtime.map(i64::from),
        precision: Precision::Second,
        mode,
    }
}

/// `root` + `/` + `path`, with one slash between.
fn join_abs(root: &str, path: &RelPath) -> String {
    if path.is_root() {
        return if root.is_empty() {
            "/".into()
        } else {
            root.to_owned()
        };
    }
    if root == "/" || root.is_empty() {
        format!("/{path}")
    } else {
        format!("{root}/{path}")
    }
}

/// An absolute path without empty or `.` segments and without a trailing slash.
fn clean_abs(p: &str) -> String {
    let segs: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    format!("/{}", segs.join("/"))
}

/// An SSH `string`: length (u32, big-endian) then bytes.
fn ssh_string(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + s.len());
    v.extend_from_slice(&(s.len() as u32).to_be_bytes());
    v.extend_from_slice(s.as_bytes());
    v
}

/// SFTP v3 `ATTRS` (draft-ietf-secsh-filexfer-02 §5), for extension requests that carry
/// them (russh-sftp encodes them only inside its own packets).
fn encode_attrs(a: &FileAttributes) -> Vec<u8> {
    let mut flags = 0u32;
    let mut body = Vec::new();
    if let Some(size) = a.size {
        flags |= 0x1;
        body.extend_from_slice(&size.to_be_bytes());
    }
    if a.uid.is_some() || a.gid.is_some() {
        flags |= 0x2;
        body.extend_from_slice(&a.uid.unwrap_or(0).to_be_bytes());
        body.extend_from_slice(&a.gid.unwrap_or(0).to_be_bytes());
    }
    if let Some(p) = a.permissions {
        flags |= 0x4;
        body.extend_from_slice(&p.to_be_bytes());
    }
    if a.atime.is_some() || a.mtime.is_some() {
        flags |= 0x8;
        body.extend_from_slice(&a.atime.unwrap_or(0).to_be_bytes());
        body.extend_from_slice(&a.mtime.unwrap_or(0).to_be_bytes());
    }
    let mut v = flags.to_be_bytes().to_vec();
    v.extend(body);
    v
}

/// The outcome of a request answered with a STATUS packet.
fn status_of(p: russh_sftp::protocol::Packet) -> Result<(), SftpError> {
    match p {
        russh_sftp::protocol::Packet::Status(s) if s.status_code == StatusCode::Ok => Ok(()),
        russh_sftp::protocol::Packet::Status(s) => Err(SftpError::Status(s)),
        _ => Err(SftpError::UnexpectedPacket),
    }
}

fn not_found(e: &RemoteError) -> bool {
    e.kind == ErrorKind::NotFound
}

#[async_trait]
impl Remote for SftpRemote {
    fn features(&self) -> Features {
        let write = self.sh.cfg.write;
        Features {
            precision: Precision::Second,
            resume: true,
            write,
            rename: write,
            set_mtime: write,
            set_mode: write,
            symlinks: true,
            chown: write,
            max_parallel: self.sh.cfg.max_parallel.max(1),
        }
    }

    fn describe(&self) -> String {
        self.sh.show(&RelPath::root())
    }

    async fn list(&self, dir: &RelPath) -> Result<Vec<Entry>, RemoteError> {
        let (entries, _refused) = self.sh.list_dir(dir).await?;
        Ok(entries)
    }

    /// Breadth-first, up to [`WALK_PARALLEL`] directories at once over the one session.
    async fn walk(&self, opts: &WalkOptions) -> Result<Listing, RemoteError> {
        let mut listing = Listing::default();
        let mut queue = std::collections::VecDeque::from([RelPath::root()]);
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < WALK_PARALLEL
                && let Some(dir) = queue.pop_front()
            {
                let sh = &self.sh;
                running.push(async move {
                    let r = sh.list_dir(&dir).await;
                    (dir, r)
                });
            }
            let Some((dir, result)) = running.next().await else {
                break;
            };
            let (entries, refused) = match result {
                Ok(r) => r,
                Err(e) if dir.is_root() => return Err(e),
                Err(e) => {
                    listing.incomplete.push(ListingProblem {
                        path: dir,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            listing.refused.extend(refused);
            for entry in entries {
                if opts.ignore.as_ref().is_some_and(|ign| ign(&entry.path)) {
                    continue;
                }
                if entry.kind.is_dir() && opts.recursive {
                    queue.push_back(entry.path.clone());
                }
                listing.entries.push(entry);
            }
        }
        listing.normalize();
        Ok(listing)
    }

    async fn stat(&self, path: &RelPath) -> Result<Option<Entry>, RemoteError> {
        let abs = self.sh.abs(path).await?;
        let attrs = match self
            .sh
            .run("stat", path, |c| {
                let abs = abs.clone();
                async move { c.sftp.lstat(abs).await }
            })
            .await
        {
            Ok(a) => a.attrs,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let kind = file_kind(&attrs, "");
        let mut entry = entry_for(path.clone(), &attrs, kind);
        if matches!(entry.kind, Kind::Symlink(_)) {
            let target = self.sh.read_link(path).await?;
            entry.size = Some(target.len() as u64);
            entry.kind = Kind::Symlink(target.into_boxed_str());
        }
        Ok(Some(entry))
    }

    async fn open(&self, path: &RelPath, offset: u64) -> Result<ReadStream, RemoteError> {
        let abs = self.sh.abs(path).await?;
        let (c, handle, size) = self
            .sh
            .run("open", path, |c| {
                let abs = abs.clone();
                async move {
                    let h = c
                        .sftp
                        .open(abs, OpenFlags::READ, FileAttributes::empty())
                        .await?
                        .handle;
                    // The size bounds how far ahead reads are sent; without it reads still
                    // work, one window past the end.
                    let size = c
                        .sftp
                        .fstat(h.as_str())
                        .await
                        .ok()
                        .and_then(|a| a.attrs.size);
                    Ok((c, h, size))
                }
            })
            .await?;
        let what = self.sh.context("read", path);
        Ok(io::reader(&c, handle, offset, size, what))
    }

    async fn create(&self, path: &RelPath, append: bool) -> Result<WriteStream, RemoteError> {
        self.writable("write", path)?;
        let abs = self.sh.abs(path).await?;
        let (c, handle, offset) = self
            .sh
            .run("create", path, |c| {
                let abs = abs.clone();
                async move {
                    let flags = if append {
                        OpenFlags::WRITE | OpenFlags::CREATE
                    } else {
                        OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE
                    };
                    let h = c
                        .sftp
                        .open(abs, flags, FileAttributes::empty())
                        .await?
                        .handle;
                    // Appending writes at the end found now, not with the APPEND flag:
                    // with O_APPEND the server would ignore the offsets, and pipelined
                    // writes that complete out of order would land out of order.
                    let offset = if append {
                        match c.sftp.fstat(h.as_str()).await {
                            Ok(a) => a.attrs.size.unwrap_or(0),
                            Err(e) => {
                                let _ = c.sftp.close(h).await;
                                return Err(e);
                            }
                        }
                    } else {
                        0
                    };
                    Ok((c, h, offset))
                }
            })
            .await?;
        let what = self.sh.context("write", path);
        Ok(io::writer(&c, handle, offset, what))
    }

    async fn rename(&self, from: &RelPath, to: &RelPath) -> Result<(), RemoteError> {
        self.writable("rename", from)?;
        let (a, b) = (self.sh.abs(from).await?, self.sh.abs(to).await?);
        self.sh
            .run("rename", from, |c| {
                let (a, b) = (a.clone(), b.clone());
                async move {
                    if c.ext.posix_rename {
                        let mut data = ssh_string(&a);
                        data.extend(ssh_string(&b));
                        return status_of(c.sftp.extended("posix-rename@openssh.com", data).await?);
                    }
                    // SFTP v3 rename refuses an existing target: remove it first (not
                    // atomic; readers may briefly miss the file).
                    match c.sftp.rename(a.as_str(), b.as_str()).await {
                        Ok(_) => Ok(()),
                        Err(first) => match c.sftp.lstat(b.as_str()).await {
                            Ok(_) => {
                                c.sftp.remove(b.as_str()).await?;
                                c.sftp.rename(a, b).await.map(drop)
                            }
                            Err(_) => Err(first),
                        },
                    }
                }
            })
            .await
    }

    /// Creates one directory; the root is created with its parents (as a missing local
    /// `local_dir` is), so a new destination tree can start anywhere.
    async fn mkdir(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.writable("mkdir", path)?;
        if path.is_root() {
            let root = self.sh.root().await?.to_owned();
            let mut cur = String::new();
            for seg in root.split('/').filter(|s| !s.is_empty()) {
                cur = format!("{cur}/{seg}");
                let dir = cur.clone();
                self.sh
                    .run("mkdir", path, |c| {
                        let dir = dir.clone();
                        async move {
                            match c.sftp.lstat(dir.as_str()).await {
                                Ok(_) => Ok(()),
                                Err(e) if conn::kind_of(&e) == ErrorKind::NotFound => {
                                    c.sftp.mkdir(dir, FileAttributes::empty()).await.map(drop)
                                }
                                Err(e) => Err(e),
                            }
                        }
                    })
                    .await?;
            }
            return Ok(());
        }
        let abs = self.sh.abs(path).await?;
        let made = self
            .sh
            .run("mkdir", path, |c| {
                let abs = abs.clone();
                async move { Ok(c.sftp.mkdir(abs, FileAttributes::empty()).await) }
            })
            .await?;
        match made {
            Ok(_) => Ok(()),
            Err(e) => {
                // "Already exists" is a plain failure in SFTP v3: ask instead.
                match self.stat(path).await {
                    Ok(Some(en)) if en.kind.is_dir() => Ok(()),
                    _ => Err(sftp_err(self.sh.context("mkdir", path), &e)),
                }
            }
        }
    }

    async fn remove_file(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.writable("delete", path)?;
        let abs = self.sh.abs(path).await?;
        self.sh
            .run("delete", path, |c| {
                let abs = abs.clone();
                async move { c.sftp.remove(abs).await.map(drop) }
            })
            .await
    }

    async fn remove_dir(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.writable("rmdir", path)?;
        let abs = self.sh.abs(path).await?;
        self.sh
            .run("rmdir", path, |c| {
                let abs = abs.clone();
                async move { c.sftp.rmdir(abs).await.map(drop) }
            })
            .await
    }

    async fn symlink(&self, path: &RelPath, target: &str) -> Result<(), RemoteError> {
        self.writable("create the symlink", path)?;
        let abs = self.sh.abs(path).await?;
        let target = target.to_owned();
        self.sh
            .run("create the symlink", path, |c| {
                let (abs, target) = (abs.clone(), target.clone());
                async move {
                    // russh-sftp sends (link, target) as the draft says; OpenSSH reads
                    // them the other way round.
                    if c.ext.openssh {
                        c.sftp.symlink(target, abs).await.map(drop)
                    } else {
                        c.sftp.symlink(abs, target).await.map(drop)
                    }
                }
            })
            .await
    }

    async fn set_mtime(&self, path: &RelPath, mtime: i64) -> Result<(), RemoteError> {
        self.writable("set the time of", path)?;
        // SFTP v3 times are unsigned 32-bit seconds.
        let t = u32::try_from(mtime).map_err(|_| {
            RemoteError::new(
                ErrorKind::Other,
                self.sh.context("set the time of", path),
                format!("{mtime} is outside the times SFTP v3 can carry (1970 to 2106)"),
            )
        })?;
        let attrs = FileAttributes {
            atime: Some(t),
            mtime: Some(t),
            ..FileAttributes::empty()
        };
        self.sh.set_attrs("set the time of", path, attrs).await
    }

    async fn set_mode(&self, path: &RelPath, mode: u32) -> Result<(), RemoteError> {
        self.writable("chmod", path)?;
        let attrs = FileAttributes {
            permissions: Some(mode & 0o7777),
            ..FileAttributes::empty()
        };
        self.sh.set_attrs("chmod", path, attrs).await
    }

    async fn chown(
        &self,
        path: &RelPath,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> Result<(), RemoteError> {
        self.writable("chown", path)?;
        if uid.is_none() && gid.is_none() {
            return Ok(());
        }
        // SFTP sets both ids at once: fill in the one left unchanged.
        let (mut u, mut g) = (uid, gid);
        if u.is_none() || g.is_none() {
            let abs = self.sh.abs(path).await?;
            let cur = self
                .sh
                .run("chown", path, |c| {
                    let abs = abs.clone();
                    async move { c.sftp.lstat(abs).await }
                })
                .await?
                .attrs;
            u = u.or(cur.uid);
            g = g.or(cur.gid);
        }
        let attrs = FileAttributes {
            uid: u,
            gid: g,
            ..FileAttributes::empty()
        };
        self.sh.set_attrs("chown", path, attrs).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_never_show_the_password() {
        let mut cfg = SftpConfig::new("127.0.0.1", "me");
        cfg.password = SftpSecret("hunter2".into());
        cfg.root = "/srv".into();
        let r = SftpRemote::new(cfg.clone());
        assert_eq!(r.describe(), "sftp://me@127.0.0.1:22/srv");
        assert!(!format!("{r:?} {cfg:?}").contains("hunter2"));
    }

    #[test]
    fn attrs_encode_as_the_draft_says() {
        let a = FileAttributes {
            atime: Some(1),
            mtime: Some(2),
            ..FileAttributes::empty()
        };
        assert_eq!(encode_attrs(&a), [0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2]);
        let a = FileAttributes {
            permissions: Some(0o644),
            ..FileAttributes::empty()
        };
        assert_eq!(encode_attrs(&a), [0, 0, 0, 4, 0, 0, 1, 0xa4]);
        assert_eq!(ssh_string("ab"), [0, 0, 0, 2, b'a', b'b']);
    }

    #[test]
    fn kinds_come_from_the_mode_or_the_long_name() {
        let attrs = |m| FileAttributes {
            permissions: Some(m),
            ..FileAttributes::empty()
        };
        assert_eq!(file_kind(&attrs(0o100_644), ""), Kind::File);
        assert_eq!(file_kind(&attrs(0o040_755), ""), Kind::Dir);
        assert!(matches!(file_kind(&attrs(0o120_777), ""), Kind::Symlink(_)));
        assert_eq!(file_kind(&attrs(0o020_600), ""), Kind::Other);
        let none = FileAttributes::empty();
        assert_eq!(file_kind(&none, "drwxr-xr-x 2 a b 0 Jan 1 x"), Kind::Dir);
        assert_eq!(file_kind(&none, "-rw-r--r-- 1 a b 5 Jan 1 x"), Kind::File);
    }

    #[test]
    fn roots_join_cleanly() {
        let p = RelPath::new("a b/c").unwrap();
        assert_eq!(join_abs("/srv", &p), "/srv/a b/c");
        assert_eq!(join_abs("/", &p), "/a b/c");
        assert_eq!(clean_abs("/srv//x/./"), "/srv/x");
    }
}
