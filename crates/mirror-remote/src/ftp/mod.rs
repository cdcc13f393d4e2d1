//! The FTP backend (`site=host`, `ftp://`, `ftps://`): [`FtpRemote`] implements
//! [`Remote`] over a pool of logged-in sessions.
//!
//! Layout (each file owns one step):
//!
//! ```text
//! listing/  parsers: LIST text in every remote_fs dialect, MLSD lines, MDTM replies
//! conn      TCP/TLS streams, the control connection, replies, error classes
//! session   one logged-in session: login, FEAT, data connections, commands
//! pool      sessions shared per (server, user), process-wide; back-off on refusals
//! walk      the listing strategy: MLSD per directory, LIST -R with a completeness check,
//!           per-directory LIST, ls-lR files; bounded concurrency over the pool
//! stream    RETR as a resumable read stream, STOR/APPE as a write stream
//! ```
//!
//! Decisions a mirror operator should know (the README repeats them):
//! - Passive mode by default, `EPSV` first and `PASV` after a refusal; data connections
//!   always go to the control connection's address, whatever a `PASV` reply names.
//! - `MLSD` whenever `FEAT` lists `MLST` (exact UTC seconds), else `LIST`; times from
//!   `LIST` keep their precision (minute or day) and are read in `remote_timezone`, or as
//!   `use_timelocal` says. [`Remote::exact_mtime`] asks `MDTM` (or `MLST`) for one file:
//!   the engine does so for the few files whose listed minute cannot decide (a same-size
//!   change within the minute of the local copy, on a LIST-only server).
//! - A server that ignores `LIST -R`, or whose `ls -lR` could not enter a directory, does
//!   not make directories vanish: every directory named by a `d` line but not listed
//!   under its own header is listed on its own, and marked incomplete if that fails.
//! - Names are untrusted: `..`, absolute names, `/` or NUL inside a name, and symlinks
//!   whose targets leave the tree are left out and reported in [`Listing::refused`].
//! - Transient faults (421, 425/426, timeouts, resets) are retried with back-off, within a
//!   budget per remote (per package); a read that breaks mid-file resumes with `REST`.

pub mod listing;

/// Runs `$body` (a block evaluating to `Result<T, Fail>`, with `$s: &mut Session` in
/// scope) on a pooled session, retrying transient failures (on a fresh session when the
/// old one broke) with back-off while the budget lasts. Gives `Result<T, RemoteError>`.
///
/// A macro rather than a function taking an async closure: futures built from async
/// closures over borrowed sessions trip the compiler's `Send` inference in trait methods.
macro_rules! with_session {
    ($sh:expr, $what:expr, $path:expr, |$s:ident| $body:block) => {{
        let sh: &$crate::ftp::Shared = &$sh;
        let mut attempt = 0u32;
        loop {
            let r: Result<_, $crate::ftp::conn::Fail> = match sh.pool.get().await {
                Ok(mut lease) => {
                    let $s: &mut $crate::ftp::session::Session = &mut lease;
                    async { $body }.await
                }
                Err(e) => Err(e),
            };
            match r {
                Ok(v) => break Ok(v),
                Err(e) if e.retryable() && sh.take_retry() => {
                    attempt += 1;
                    tokio::time::sleep(sh.backoff(attempt)).await;
                }
                Err(e) => break Err(e.into_remote(sh.context($what, $path))),
            }
        }
    }};
}

mod conn;
mod pool;
mod session;
mod stream;
mod walk;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use crate::{
    Entry, ErrorKind, Features, Kind, Listing, Precision, ReadStream, RelPath, Remote, RemoteError,
    WalkOptions, WriteStream,
};

use conn::Fail;
use listing::{ListTz, RemoteFs};
use pool::Pool;
use session::{Session, Type};

/// How the control connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FtpTls {
    /// Plain FTP (`ftp://`, a bare host).
    #[default]
    None,
    /// `AUTH TLS` after connecting (`ftps://`), RFC 4217; data connections too (`PROT P`).
    Explicit,
    /// TLS from the first byte (`ftps://host:990`).
    Implicit,
}

/// A password or similar: sent to the server, never shown (`Debug` prints `****`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FtpSecret(pub String);

impl fmt::Debug for FtpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// A rewrite of listed paths (`ls_fix_mappings`): the path in, the new path out.
pub type PathFix = dyn Fn(&str) -> String + Send + Sync;

/// How the tree is listed (spec §2.8, §5.1).
#[derive(Clone)]
pub struct ListingConfig {
    /// The `LIST` dialect (`remote_fs`).
    pub remote_fs: RemoteFs,
    /// The zone `LIST` times are read in (`remote_timezone`, else `use_timelocal`).
    pub tz: ListTz,
    /// Use `MLSD` when the server offers it (true unless the dialect is VMS or CMS, whose
    /// names `MLSD` would give differently).
    pub use_mlsd: bool,
    /// `flags_recursive` (`-lRat`).
    pub flags_recursive: String,
    /// `flags_nonrecursive` (`-lat`).
    pub flags_nonrecursive: String,
    /// `recurse_hard`: list every directory on its own.
    pub recurse_hard: bool,
    /// `ls_lR_file`: a remote file holding an `ls -lR` of the tree (absolute, or relative
    /// to the tree root); `.gz`, `.Z` and `.z` are uncompressed.
    pub ls_lr_file: String,
    /// `local_ls_lR_file`: a local file read as the listing instead.
    pub local_ls_lr_file: Option<PathBuf>,
    /// `store_remote_listing`: where a copy of every listing line read is written.
    pub store_remote_listing: Option<PathBuf>,
    /// `ls_fix_mappings`, applied to every listed path before it is validated.
    pub ls_fix: Option<Arc<PathFix>>,
    /// `vms_keep_versions`.
    pub vms_keep_versions: bool,
}

impl Default for ListingConfig {
    fn default() -> Self {
        ListingConfig {
            remote_fs: RemoteFs::Unix,
            tz: ListTz::Local,
            use_mlsd: true,
            flags_recursive: "-lRat".into(),
            flags_nonrecursive: "-lat".into(),
            recurse_hard: false,
            ls_lr_file: String::new(),
            local_ls_lr_file: None,
            store_remote_listing: None,
            ls_fix: None,
            vms_keep_versions: true,
        }
    }
}

impl fmt::Debug for ListingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListingConfig")
            .field("remote_fs", &self.remote_fs)
            .field("tz", &self.tz)
            .field("use_mlsd", &self.use_mlsd)
            .field("flags_recursive", &self.flags_recursive)
            .field("flags_nonrecursive", &self.flags_nonrecursive)
            .field("recurse_hard", &self.recurse_hard)
            .field("ls_lr_file", &self.ls_lr_file)
            .field("local_ls_lr_file", &self.local_ls_lr_file)
            .field("store_remote_listing", &self.store_remote_listing)
            .field("ls_fix", &self.ls_fix.is_some())
            .finish()
    }
}

/// Everything an [`FtpRemote`] needs, resolved from a package (see `mirror-sync`'s
/// `connect`).
#[derive(Clone, Debug)]
pub struct FtpConfig {
    /// Host name or address.
    pub host: String,
    /// Control port (`ftp_port`, or the URL's).
    pub port: u16,
    /// TLS mode.
    pub tls: FtpTls,
    /// Extra trusted root certificates (DER), besides the system's.
    pub tls_roots: Vec<Vec<u8>>,
    /// `remote_user`.
    pub user: String,
    /// `remote_password`.
    pub password: FtpSecret,
    /// `remote_account`, sent as `ACCT` when the server asks for one.
    pub account: FtpSecret,
    /// `remote_group`: `SITE GROUP` after login.
    pub group: String,
    /// `remote_gpass`: `SITE GPASS` after login.
    pub group_password: FtpSecret,
    /// The tree's root on the server: absolute, or relative to the login directory.
    pub root: String,
    /// `passive_ftp`.
    pub passive: bool,
    /// `bind_addr`: the local address to connect (and, in active mode, listen) from.
    pub bind_addr: Option<IpAddr>,
    /// `timeout`: for connecting, each reply and each read of data.
    pub timeout: Duration,
    /// Sessions at once (`parallel`).
    pub max_sessions: usize,
    /// Retries of transient failures, for the whole remote (the package).
    pub retries: u32,
    /// The first back-off delay (doubled per retry, at most 30 s).
    pub retry_base: Duration,
    /// `text_mode`: `TYPE A` for files.
    pub text_mode: bool,
    /// `strip_cr`: drop every CR from received files.
    pub strip_cr: bool,
    /// The remote is written to (put mode): probes `SITE CHMOD`, claims the write side.
    pub write: bool,
    /// Keep the sessions for the next package on the same server and user (spec §4.11);
    /// false is `disconnect=true`.
    pub reuse: bool,
    /// How to list.
    pub listing: ListingConfig,
}

impl FtpConfig {
    /// A configuration with mirror's defaults for `host`: port 21, anonymous, passive,
    /// a 120 s timeout, 4 sessions, 20 retries.
    pub fn new(host: impl Into<String>) -> FtpConfig {
        FtpConfig {
            host: host.into(),
            port: 21,
            tls: FtpTls::None,
            tls_roots: Vec::new(),
            user: "anonymous".into(),
            password: FtpSecret("mirror@".into()),
            account: FtpSecret::default(),
            group: String::new(),
            group_password: FtpSecret::default(),
            root: String::new(),
            passive: true,
            bind_addr: None,
            timeout: Duration::from_secs(120),
            max_sessions: 4,
            retries: 20,
            retry_base: Duration::from_secs(1),
            text_mode: false,
            strip_cr: false,
            write: false,
            reuse: true,
            listing: ListingConfig::default(),
        }
    }
}

/// What an [`FtpRemote`] shares with its streams and listing tasks.
pub(crate) struct Shared {
    pub(crate) cfg: Arc<FtpConfig>,
    pub(crate) pool: Arc<Pool>,
    /// Retries left (the per-package budget).
    retries: AtomicU32,
    /// The absolute root, once known.
    root: tokio::sync::OnceCell<String>,
    /// `ftp://user@host:port`, for messages.
    url: String,
}

/// A tree on an FTP server. Cheap to clone (clones share the session pool).
#[derive(Clone)]
pub struct FtpRemote {
    sh: Arc<Shared>,
}

impl fmt::Debug for FtpRemote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpRemote")
            .field("url", &self.describe())
            .finish()
    }
}

impl FtpRemote {
    /// A remote for `cfg`. Connects lazily, on first use. Fails only on a TLS setup
    /// problem (a bad extra root certificate, a host name unfit for TLS).
    pub fn new(cfg: FtpConfig) -> Result<FtpRemote, RemoteError> {
        let scheme = match cfg.tls {
            FtpTls::None => "ftp",
            FtpTls::Explicit | FtpTls::Implicit => "ftps",
        };
        let host = if cfg.host.contains(':') {
            format!("[{}]", cfg.host)
        } else {
            cfg.host.clone()
        };
        let url = format!("{scheme}://{}@{host}:{}", cfg.user, cfg.port);
        let cfg = Arc::new(cfg);
        let pool = Pool::for_config(cfg.clone())
            .map_err(|e| RemoteError::new(ErrorKind::Fatal, format!("cannot use {url}"), e))?;
        Ok(FtpRemote {
            sh: Arc::new(Shared {
                retries: AtomicU32::new(cfg.retries),
                cfg,
                pool,
                root: tokio::sync::OnceCell::new(),
                url,
            }),
        })
    }

    /// Logins the server refused because it had too many sessions (the pool shrank or
    /// waited), for reports and tests.
    pub fn login_refusals(&self) -> u32 {
        self.sh.pool.refusals.load(Ordering::Relaxed)
    }

    /// Transient failures retried so far.
    pub fn retries_used(&self) -> u32 {
        self.sh
            .cfg
            .retries
            .saturating_sub(self.sh.retries.load(Ordering::Relaxed))
    }

    /// Closes the idle sessions now (`QUIT`) instead of keeping them for the next package.
    pub async fn disconnect(&self) {
        Pool::forget(&self.sh.cfg);
        self.sh.pool.close_idle().await;
    }
}

impl Shared {
    /// `ftp://user@host:port/abs/path`, for messages (no password).
    pub(crate) fn show(&self, path: &RelPath) -> String {
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

    /// `cannot WHAT ftp://...`.
    pub(crate) fn context(&self, what: &str, path: &RelPath) -> String {
        format!("cannot {what} {}", self.show(path))
    }

    /// Takes one retry from the budget; false when it is spent.
    pub(crate) fn take_retry(&self) -> bool {
        self.retries
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The back-off before retry number `attempt` (1-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(10);
        (self.cfg.retry_base * factor).min(Duration::from_secs(30))
    }

    /// The absolute root, asking the server for the login directory when the configured
    /// root is relative.
    pub(crate) async fn root(&self) -> Result<&str, RemoteError> {
        self.root
            .get_or_try_init(|| async {
                let root = self.cfg.root.trim();
                if root.starts_with('/') {
                    return Ok(clean_abs(root));
                }
                let home = self
                    .pool
                    .home
                    .get_or_try_init(|| async {
                        with_session!(
                            *self,
                            "find the login directory of",
                            &RelPath::root(),
                            |s| { s.pwd().await }
                        )
                    })
                    .await?;
                Ok(clean_abs(&format!("{home}/{root}")))
            })
            .await
            .map(String::as_str)
    }

    /// The absolute server path of `path`.
    pub(crate) async fn abs(&self, path: &RelPath) -> Result<String, RemoteError> {
        Ok(join_abs(self.root().await?, path))
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

/// `MDTM` (or `MLST`) of one path: exact seconds, or `None` if the server cannot tell.
async fn exact_time(s: &mut Session, abs: &str) -> Result<Option<i64>, Fail> {
    if s.feat.mdtm || !s.feat.feat {
        let r = s.raw(&format!("MDTM {abs}")).await?;
        if r.code == 213 {
            return Ok(listing::parse_mdtm_reply(&format!("213 {}", r.text)));
        }
        if r.code == 550 {
            return Err(Fail::Reply(r));
        }
    }
    if s.feat.mlsd {
        return Ok(mlst(s, abs).await?.and_then(|e| e.mtime));
    }
    Ok(None)
}

/// True for an `MLSD`/`MLST` symlink whose target the server did not say (pure-ftpd
/// writes `type=OS.unix=slink:` with nothing after it).
pub(crate) fn needs_target(raw: &listing::RawEntry) -> bool {
    matches!(&raw.kind, Kind::Symlink(t) if t.is_empty())
}

/// `MLST path`: the entry, or `None` when the path does not exist.
async fn mlst(s: &mut Session, abs: &str) -> Result<Option<listing::RawEntry>, Fail> {
    let r = s.raw(&format!("MLST {abs}")).await?;
    if r.code == 550 || r.code == 450 {
        return Ok(None);
    }
    if r.code != 250 {
        return Err(Fail::Reply(r));
    }
    // 250-Listing /path\n type=file;...; /path\n250 End: the fact line starts with a space.
    Ok(r.text
        .lines()
        .skip(1)
        .find(|l| l.starts_with(' '))
        .and_then(listing::parse_mlst_line))
}

#[async_trait]
impl Remote for FtpRemote {
    /// Exact once the remote has talked to the server (after the first listing); before
    /// that, what nearly every server offers: exact times (MLSD or MDTM) and `REST`.
    fn features(&self) -> Features {
        let feat = self.sh.pool.feat().cloned().unwrap_or(session::ServerFeat {
            feat: true,
            mlsd: true,
            mdtm: true,
            rest: true,
            ..Default::default()
        });
        let write = self.sh.cfg.write;
        Features {
            // MLSD lists exact seconds; MDTM gives them through `stat` when LIST does not.
            precision: if feat.mlsd || feat.mdtm {
                Precision::Second
            } else {
                Precision::Minute
            },
            resume: feat.rest,
            write,
            rename: write,
            set_mtime: write && feat.mfmt,
            set_mode: write && feat.chmod,
            // Listed, but FTP cannot create them.
            symlinks: false,
            chown: false,
            max_parallel: self.sh.pool.cap(),
        }
    }

    fn describe(&self) -> String {
        self.sh.show(&RelPath::root())
    }

    async fn list(&self, dir: &RelPath) -> Result<Vec<Entry>, RemoteError> {
        let (entries, _refused) = walk::list_one(&self.sh, dir).await?;
        Ok(entries)
    }

    async fn walk(&self, opts: &WalkOptions) -> Result<Listing, RemoteError> {
        walk::walk(&self.sh, opts).await
    }

    async fn stat(&self, path: &RelPath) -> Result<Option<Entry>, RemoteError> {
        if path.is_root() {
            self.sh.root().await?;
            return Ok(Some(Entry::dir(RelPath::root(), None)));
        }
        let abs = self.sh.abs(path).await?;
        let use_mlst = self.sh.pool.feat().is_none_or(|f| f.mlsd);
        if use_mlst {
            let found = with_session!(*self.sh, "stat", path, |s| {
                if !s.feat.mlsd {
                    return Ok(Err(()));
                }
                Ok(Ok(mlst(s, &abs).await?))
            })?;
            // pure-ftpd's MLST names a symlink without its target: the listing has it.
            let blind_link = matches!(&found, Ok(Some(r)) if needs_target(r));
            if let Ok(found) = found
                && !blind_link
            {
                return Ok(match found {
                    None => None,
                    Some(raw) => {
                        let mut raw = raw;
                        raw.path = path.to_string();
                        Some(raw.into_entry().map_err(|e| {
                            RemoteError::new(
                                ErrorKind::UnsafeName,
                                self.sh.context("stat", path),
                                e,
                            )
                        })?)
                    }
                });
            }
        }
        // No MLST: find the entry in its directory's listing, then ask MDTM for the exact
        // time of a file whose listing gives only minutes or days.
        let parent = path.parent().unwrap_or_default();
        let entries = match walk::list_one(&self.sh, &parent).await {
            Ok((e, _)) => e,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(mut entry) = entries.into_iter().find(|e| e.path == *path) else {
            return Ok(None);
        };
        if entry.kind == Kind::File
            && entry.precision > Precision::Second
            && self.sh.pool.feat().is_some_and(|f| f.mdtm)
            && let Some(t) = self.exact_mtime(path).await?
        {
            entry.mtime = Some(t);
            entry.precision = Precision::Second;
        }
        Ok(Some(entry))
    }

    /// `MDTM` (or `MLST`): one command, where [`Remote::stat`] without `MLST` would list
    /// the whole parent directory first. A file that is gone answers `None`.
    async fn exact_mtime(&self, path: &RelPath) -> Result<Option<i64>, RemoteError> {
        let abs = self.sh.abs(path).await?;
        let r = with_session!(*self.sh, "get the time of", path, |s| {
            exact_time(s, &abs).await
        });
        match r {
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            other => other,
        }
    }

    async fn open(&self, path: &RelPath, offset: u64) -> Result<ReadStream, RemoteError> {
        stream::open(self.sh.clone(), path, offset).await
    }

    async fn create(&self, path: &RelPath, append: bool) -> Result<WriteStream, RemoteError> {
        self.writable("write", path)?;
        stream::create(self.sh.clone(), path, append).await
    }

    async fn rename(&self, from: &RelPath, to: &RelPath) -> Result<(), RemoteError> {
        self.writable("rename", from)?;
        let (a, b) = (self.sh.abs(from).await?, self.sh.abs(to).await?);
        with_session!(*self.sh, "rename", from, |s| {
            let r = s.raw(&format!("RNFR {a}")).await?;
            if r.code != 350 {
                return Err(Fail::Reply(r));
            }
            s.simple(&format!("RNTO {b}"), &[]).await.map(drop)
        })
    }

    async fn mkdir(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.writable("mkdir", path)?;
        let abs = self.sh.abs(path).await?;
        let made = with_session!(*self.sh, "mkdir", path, |s| {
            let r = s.raw(&format!("MKD {abs}")).await?;
            if r.code == 257 || r.is_ok() {
                return Ok(Ok(()));
            }
            if r.kind() == ErrorKind::Transient {
                return Err(Fail::Reply(r));
            }
            Ok(Err(r))
        })?;
        match made {
            Ok(()) => Ok(()),
            Err(r) => {
                // "Already exists" comes in many wordings: ask instead of parsing them.
                match self.stat(path).await {
                    Ok(Some(e)) if e.kind.is_dir() => Ok(()),
                    _ => Err(Fail::Reply(r).into_remote(self.sh.context("mkdir", path))),
                }
            }
        }
    }

    async fn remove_file(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.writable("delete", path)?;
        let abs = self.sh.abs(path).await?;
        with_session!(*self.sh, "delete", path, |s| {
            s.simple(&format!("DELE {abs}"), &[]).await.map(drop)
        })
    }

    async fn remove_dir(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.writable("rmdir", path)?;
        let abs = self.sh.abs(path).await?;
        with_session!(*self.sh, "rmdir", path, |s| {
            s.simple(&format!("RMD {abs}"), &[]).await.map(drop)
        })
    }

    async fn set_mtime(&self, path: &RelPath, mtime: i64) -> Result<(), RemoteError> {
        self.writable("set the time of", path)?;
        let abs = self.sh.abs(path).await?;
        let stamp = jiff::Timestamp::from_second(mtime)
            .map_err(|e| {
                RemoteError::new(
                    ErrorKind::Other,
                    self.sh.context("set the time of", path),
                    e,
                )
            })?
            .strftime("%Y%m%d%H%M%S")
            .to_string();
        with_session!(*self.sh, "set the time of", path, |s| {
            s.simple(&format!("MFMT {stamp} {abs}"), &[])
                .await
                .map(drop)
        })
    }

    async fn set_mode(&self, path: &RelPath, mode: u32) -> Result<(), RemoteError> {
        self.writable("chmod", path)?;
        let abs = self.sh.abs(path).await?;
        with_session!(*self.sh, "chmod", path, |s| {
            s.simple(&format!("SITE CHMOD {:04o} {abs}", mode & 0o7777), &[])
                .await
                .map(drop)
        })
    }
}

impl FtpRemote {
    fn writable(&self, what: &str, path: &RelPath) -> Result<(), RemoteError> {
        if self.sh.cfg.write {
            Ok(())
        } else {
            Err(RemoteError::new(
                ErrorKind::Unsupported,
                self.sh.context(what, path),
                "this FTP remote is a source (get mode): it is not written to",
            ))
        }
    }
}

/// The transfer type for files.
pub(crate) fn file_type(cfg: &FtpConfig) -> Type {
    if cfg.text_mode {
        Type::Ascii
    } else {
        Type::Image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_onto_the_root() {
        let p = RelPath::new("a b/c").unwrap();
        assert_eq!(join_abs("/pub", &p), "/pub/a b/c");
        assert_eq!(join_abs("/", &p), "/a b/c");
        assert_eq!(join_abs("/pub", &RelPath::root()), "/pub");
        assert_eq!(clean_abs("/pub//x/./y/"), "/pub/x/y");
        assert_eq!(clean_abs("/"), "/");
    }

    #[test]
    fn messages_never_show_the_password() {
        let mut cfg = FtpConfig::new("127.0.0.1");
        cfg.password = FtpSecret("hunter2".into());
        cfg.root = "/pub".into();
        cfg.reuse = false;
        let r = FtpRemote::new(cfg.clone()).unwrap();
        assert_eq!(r.describe(), "ftp://anonymous@127.0.0.1:21/pub");
        assert!(!format!("{r:?} {cfg:?}").contains("hunter2"));
    }
}
