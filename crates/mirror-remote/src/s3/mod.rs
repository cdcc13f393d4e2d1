//! The S3 backend (`site=s3://bucket/prefix`, and `s3://` destinations): [`S3Remote`]
//! implements [`Remote`] over OpenDAL's S3 service.
//!
//! Decisions a mirror operator should know (the README repeats them):
//! - Keys are paths below the prefix; `/` separates folders. A folder exists when a key lies
//!   below it or a folder marker (`name/`, an empty object) names it; `mkdir` writes
//!   markers, so empty folders survive. A key that is not a clean relative path (`a//b`,
//!   `../x`), or a file key that is also a folder, is refused and reported, never used.
//! - Sizes and times come from the listing. The time of an object is its upload time,
//!   unless it carries `x-amz-meta-mirror-mtime` (Unix seconds): mirror stores the source's
//!   time there whenever it uploads, because S3 cannot set an object's time. Listings do
//!   not return user metadata, so reading it costs one HEAD request per file, 32 at a time;
//!   it is what lets a re-run into a bucket compare the source's times with the times the
//!   source had, instead of fetching everything again. Precision: seconds.
//! - Uploads to the engine's temporary names are staged on local disk and uploaded by the
//!   rename, under the final key, in one PUT (multipart above 8 MiB) carrying the time (see
//!   `stage.rs`). Other renames are a server-side copy then a delete. `set_mtime` on an
//!   object already uploaded rewrites it with the new metadata.
//! - No symlinks, permission bits or owners (S3 has none); no appending.
//! - Credentials: `s3_access_key`/`s3_secret_key`, else the usual AWS sources (environment,
//!   `~/.aws`, instance metadata). Region `s3_region`, else `$AWS_REGION`, else `us-east-1`;
//!   endpoint `s3_endpoint`, else `$AWS_ENDPOINT_URL`, else AWS. Requests are path-style.
//!   Secrets never appear in messages, which name `s3://bucket/prefix/key`.

mod stage;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use opendal::{EntryMode, Operator};

use crate::{
    Entry, ErrorKind, Features, Kind, Listing, ListingProblem, Precision, ReadStream, RelPath,
    Remote, RemoteError, WalkOptions, WriteStream,
};

use stage::{StageWriter, Staged, is_temp};

/// The user-metadata key holding the source's modification time (Unix seconds); on the
/// wire `x-amz-meta-mirror-mtime`.
pub const MTIME_KEY: &str = "mirror-mtime";

/// HEAD requests at once when reading stored times.
const HEAD_PARALLEL: usize = 32;

/// Upload part size: files above it go up as multipart uploads, parts in parallel.
const PART_SIZE: usize = 8 * 1024 * 1024;

/// A secret: sent (signed), never shown (`Debug` prints `****`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Secret(pub String);

impl fmt::Debug for S3Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Everything an [`S3Remote`] needs, resolved from a package (see `mirror-sync`'s
/// `connect_s3`).
#[derive(Clone, Debug)]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// The key prefix the tree lives under (`pub/gnu`; empty for the whole bucket).
    pub prefix: String,
    /// The service URL; `None`: `$AWS_ENDPOINT_URL`, else AWS.
    pub endpoint: Option<String>,
    /// The signing region; `None`: `$AWS_REGION`, else `us-east-1`.
    pub region: Option<String>,
    /// Access key id; `None`: the usual AWS credential sources.
    pub access_key: Option<S3Secret>,
    /// Secret access key (with `access_key`).
    pub secret_key: Option<S3Secret>,
    /// Per request (and per chunk of data).
    pub timeout: Duration,
    /// Transfers at once (`parallel`).
    pub max_parallel: usize,
    /// The remote is written to; false refuses every write.
    pub write: bool,
    /// Retries of each failed request (temporary errors only), with back-off.
    pub retries: usize,
    /// The first back-off delay (doubled per retry, at most 16 times it).
    pub retry_base: Duration,
    /// Read the stored source times (one HEAD per file). Without it, times are upload times.
    pub stored_mtimes: bool,
    /// Where uploads are staged (`None`: the system's temporary folder).
    pub stage_dir: Option<PathBuf>,
}

impl S3Config {
    /// A configuration for `bucket` with mirror's defaults.
    pub fn new(bucket: impl Into<String>) -> S3Config {
        S3Config {
            bucket: bucket.into(),
            prefix: String::new(),
            endpoint: None,
            region: None,
            access_key: None,
            secret_key: None,
            timeout: Duration::from_secs(120),
            max_parallel: 4,
            write: false,
            retries: 5,
            retry_base: Duration::from_secs(1),
            stored_mtimes: true,
            stage_dir: None,
        }
    }
}

/// A tree in an S3 bucket. Cheap to clone (clones share the client and staged uploads).
#[derive(Clone)]
pub struct S3Remote {
    sh: Arc<Shared>,
}

struct Shared {
    cfg: S3Config,
    op: Operator,
    /// `s3://bucket/prefix`, for messages.
    url: String,
    /// Writes to temporary names, waiting for their rename.
    staged: Mutex<HashMap<RelPath, Staged>>,
    /// `mkdir` of the root succeeded: the prefix exists even where its marker is not
    /// listed (s3s-fs), so an empty listing is an empty tree, not a missing one.
    root_made: AtomicBool,
}

impl fmt::Debug for S3Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Remote")
            .field("url", &self.sh.url)
            .finish()
    }
}

fn clean_prefix(p: &str) -> String {
    p.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

impl S3Remote {
    /// A remote for `cfg`. Makes no request; fails only on a configuration OpenDAL refuses.
    pub fn new(cfg: S3Config) -> Result<S3Remote, RemoteError> {
        // Without OpenDAL's default features nothing installs its HTTP transport; this does
        // (once per process, later calls are no-ops).
        opendal::install_default();
        let prefix = clean_prefix(&cfg.prefix);
        let url = if prefix.is_empty() {
            format!("s3://{}", cfg.bucket)
        } else {
            format!("s3://{}/{prefix}", cfg.bucket)
        };
        let fail = |e: opendal::Error| {
            RemoteError::new(ErrorKind::Fatal, format!("cannot use {url}"), e.to_string())
        };
        let region = cfg
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "us-east-1".into());
        let mut b = opendal::services::S3::default()
            .bucket(&cfg.bucket)
            .root(&format!("/{prefix}"))
            .region(&region);
        if let Some(ep) = cfg.endpoint.as_deref().filter(|e| !e.is_empty()) {
            b = b.endpoint(ep);
        }
        if let (Some(ak), Some(sk)) = (&cfg.access_key, &cfg.secret_key) {
            b = b.access_key_id(&ak.0).secret_access_key(&sk.0);
        }
        let op = Operator::new(b)
            .map_err(fail)?
            .layer(
                opendal::layers::TimeoutLayer::new()
                    .with_timeout(cfg.timeout)
                    .with_io_timeout(cfg.timeout),
            )
            .layer(
                opendal::layers::RetryLayer::new()
                    .with_max_times(cfg.retries)
                    .with_min_delay(cfg.retry_base)
                    .with_max_delay(cfg.retry_base * 16)
                    .with_jitter(),
            );
        Ok(S3Remote {
            sh: Arc::new(Shared {
                cfg,
                op,
                url,
                staged: Mutex::new(HashMap::new()),
                root_made: AtomicBool::new(false),
            }),
        })
    }

    fn writable(&self, what: &str, path: &RelPath) -> Result<(), RemoteError> {
        if self.sh.cfg.write {
            Ok(())
        } else {
            Err(RemoteError::new(
                ErrorKind::Unsupported,
                self.sh.context(what, path),
                "this S3 remote is a source (get mode): it is not written to",
            ))
        }
    }
}

/// The report line for a key that is a file and also holds other keys below it.
fn clash(path: &RelPath) -> ListingProblem {
    ListingProblem {
        path: path.clone(),
        message: format!("key {:?} is a file and a folder at once", path.as_str()),
    }
}

/// The class of an OpenDAL error.
fn kind_of(e: &opendal::Error) -> ErrorKind {
    use opendal::ErrorKind as O;
    match e.kind() {
        O::NotFound => ErrorKind::NotFound,
        O::PermissionDenied => ErrorKind::PermissionDenied,
        O::Unsupported => ErrorKind::Unsupported,
        O::ConfigInvalid => ErrorKind::Fatal,
        O::RateLimited => ErrorKind::Transient,
        _ if e.is_temporary() => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

impl Shared {
    fn show(&self, path: &RelPath) -> String {
        if path.is_root() {
            self.url.clone()
        } else {
            format!("{}/{path}", self.url)
        }
    }

    fn context(&self, what: &str, path: &RelPath) -> String {
        format!("cannot {what} {}", self.show(path))
    }

    fn err(&self, what: &str, path: &RelPath, e: &opendal::Error) -> RemoteError {
        // OpenDAL's messages carry the request and the service's answer, never the key.
        RemoteError::new(kind_of(e), self.context(what, path), e)
    }

    /// The time stored with an object, else its upload time.
    fn mtime_of(meta: &opendal::Metadata) -> Option<i64> {
        meta.user_metadata()
            .and_then(|m| m.get(MTIME_KEY).and_then(|v| v.trim().parse().ok()))
            .or_else(|| meta.last_modified().map(|t| t.into_inner().as_second()))
    }

    /// Replaces listed upload times by the stored source times (HEAD per file).
    async fn stored_times(&self, entries: &mut [Entry]) -> Result<(), RemoteError> {
        if !self.cfg.stored_mtimes {
            return Ok(());
        }
        let files: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].kind == Kind::File)
            .collect();
        let mut heads = futures::stream::iter(files)
            .map(|i| {
                let path = entries[i].path.clone();
                async move { (i, self.op.stat(path.as_str()).await, path) }
            })
            .buffer_unordered(HEAD_PARALLEL);
        let mut found = Vec::new();
        while let Some((i, r, path)) = heads.next().await {
            match r {
                Ok(meta) => found.push((i, Self::mtime_of(&meta))),
                // Deleted since it was listed: keep what the listing said.
                Err(e) if e.kind() == opendal::ErrorKind::NotFound => {}
                Err(e) => return Err(self.err("read the stored time of", &path, &e)),
            }
        }
        drop(heads);
        for (i, t) in found {
            if t.is_some() {
                entries[i].mtime = t;
            }
        }
        Ok(())
    }

    /// One listing request sequence: every key below `dir` (recursively or one level),
    /// as entries, with the refused keys and whether anything at all was there.
    async fn list_keys(
        &self,
        dir: &RelPath,
        recursive: bool,
    ) -> Result<(Vec<Entry>, Vec<ListingProblem>, bool), RemoteError> {
        let base = if dir.is_root() {
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        let mut lister = self
            .op
            .lister_with(&base)
            .recursive(recursive)
            .await
            .map_err(|e| self.err("list", dir, &e))?;
        // By path: a key that is both a file and a folder keeps the folder.
        let mut found: BTreeMap<RelPath, Entry> = BTreeMap::new();
        let mut refused = Vec::new();
        let mut any = false;
        while let Some(item) = lister.next().await {
            let entry = item.map_err(|e| self.err("list", dir, &e))?;
            any = true;
            let key = entry.path().trim_start_matches('/');
            let is_dir = entry.metadata().mode() == EntryMode::DIR || key.ends_with('/');
            let rel = key.trim_end_matches('/');
            if rel.is_empty() || rel == base.trim_end_matches('/') && is_dir {
                // The listed folder itself (its marker).
                continue;
            }
            let path = match RelPath::new(rel) {
                Ok(p) if p.starts_with(dir) && p != *dir => p,
                Ok(_) => continue,
                Err(e) => {
                    refused.push(ListingProblem {
                        path: dir.clone(),
                        message: format!("key {key:?}: {e}"),
                    });
                    continue;
                }
            };
            // Every folder on the way is a folder, whether or not it has a marker; a file
            // key of the same name (S3 allows both) is refused.
            for a in path.ancestors() {
                if a.is_root() || a == *dir || !a.starts_with(dir) {
                    continue;
                }
                if found.get(&a).is_some_and(|e| e.kind == Kind::File) {
                    refused.push(clash(&a));
                }
                found.insert(a.clone(), Entry::dir(a, None));
            }
            if is_dir {
                found.insert(path.clone(), Entry::dir(path, None));
                continue;
            }
            let meta = entry.metadata();
            let file = Entry {
                path: path.clone(),
                kind: Kind::File,
                size: Some(meta.content_length()),
                mtime: meta.last_modified().map(|t| t.into_inner().as_second()),
                precision: Precision::Second,
                mode: None,
            };
            if found.get(&path).is_some_and(|e| e.kind.is_dir()) {
                refused.push(clash(&path));
            } else {
                found.insert(path, file);
            }
        }
        let mut entries: Vec<Entry> = found.into_values().collect();
        if !recursive {
            entries.retain(|e| {
                e.path.parent().as_ref() == Some(dir)
                    || (dir.is_root() && e.path.parent().is_none())
            });
        }
        Ok((entries, refused, any))
    }

    /// True if anything exists at or below the folder `dir` (a marker or a key). The root
    /// of a whole bucket always exists (a missing bucket shows at the first listing).
    async fn dir_exists(&self, dir: &RelPath) -> Result<bool, RemoteError> {
        let base = if dir.is_root() {
            if self.cfg.prefix.trim_matches('/').is_empty()
                || self.root_made.load(Ordering::Relaxed)
            {
                return Ok(true);
            }
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        let mut lister = self
            .op
            .lister_with(&base)
            .limit(1)
            .await
            .map_err(|e| self.err("stat", dir, &e))?;
        match lister.next().await {
            Some(Ok(_)) => return Ok(true),
            Some(Err(e)) if e.kind() == opendal::ErrorKind::NotFound => {}
            Some(Err(e)) => return Err(self.err("stat", dir, &e)),
            None => {}
        }
        if dir.is_root() {
            // OpenDAL answers a stat of its root without asking the server.
            return Ok(false);
        }
        // A marker some servers do not list (s3s-fs keeps it as a real, empty folder).
        match self.op.stat(&base).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.err("stat", dir, &e)),
        }
    }

    /// Uploads a staged file to `path` with its time as metadata.
    async fn upload(&self, path: &RelPath, staged: &Staged) -> Result<(), RemoteError> {
        let ctx = |e: &opendal::Error| self.err("upload", path, e);
        let meta: Vec<(String, String)> = staged
            .mtime
            .map(|t| vec![(MTIME_KEY.to_owned(), t.to_string())])
            .unwrap_or_default();
        let mut w = self
            .op
            .writer_with(path.as_str())
            .chunk(PART_SIZE)
            .concurrent(4)
            .user_metadata(meta)
            .await
            .map_err(|e| ctx(&e))?;
        let mut off = 0u64;
        while off < staged.size {
            let len =
                usize::try_from((staged.size - off).min(PART_SIZE as u64)).unwrap_or(PART_SIZE);
            let buf = match stage::read_at(staged.file.clone(), off, len).await {
                Ok(b) if !b.is_empty() => b,
                Ok(_) => {
                    let _ = w.abort().await;
                    return Err(RemoteError::new(
                        ErrorKind::Other,
                        self.context("upload", path),
                        "the staged file is shorter than what was written",
                    ));
                }
                Err(e) => {
                    let _ = w.abort().await;
                    return Err(RemoteError::io(self.context("upload", path), &e));
                }
            };
            off += buf.len() as u64;
            if let Err(e) = w.write(Bytes::from(buf)).await {
                let _ = w.abort().await;
                return Err(ctx(&e));
            }
        }
        w.close().await.map(drop).map_err(|e| ctx(&e))
    }

    /// Downloads an object into a stage (to upload it again with new metadata).
    async fn restage(&self, path: &RelPath) -> Result<Staged, RemoteError> {
        let file = match &self.cfg.stage_dir {
            Some(d) => tempfile::tempfile_in(d),
            None => tempfile::tempfile(),
        }
        .map_err(|e| RemoteError::io(self.context("stage", path), &e))?;
        let file = Arc::new(file);
        let reader = self
            .op
            .reader(path.as_str())
            .await
            .map_err(|e| self.err("read", path, &e))?;
        let mut stream = reader
            .into_bytes_stream(..)
            .await
            .map_err(|e| self.err("read", path, &e))?;
        let mut size = 0u64;
        while let Some(chunk) = stream
            .try_next()
            .await
            .map_err(|e| RemoteError::io(self.context("read", path), &e))?
        {
            let (f, at) = (file.clone(), size);
            size += chunk.len() as u64;
            tokio::task::spawn_blocking(move || {
                use std::os::unix::fs::FileExt;
                f.write_all_at(&chunk, at)
            })
            .await
            .map_err(io::Error::other)
            .and_then(|r| r)
            .map_err(|e| RemoteError::io(self.context("stage", path), &e))?;
        }
        Ok(Staged {
            file,
            size,
            mtime: None,
        })
    }
}

#[async_trait]
impl Remote for S3Remote {
    fn features(&self) -> Features {
        let write = self.sh.cfg.write;
        Features {
            precision: Precision::Second,
            resume: true,
            write,
            // Through staging: the rename is the upload (see stage.rs).
            rename: write,
            // As metadata (x-amz-meta-mirror-mtime).
            set_mtime: write,
            set_mode: false,
            symlinks: false,
            chown: false,
            max_parallel: self.sh.cfg.max_parallel.max(1),
        }
    }

    fn describe(&self) -> String {
        self.sh.url.clone()
    }

    async fn list(&self, dir: &RelPath) -> Result<Vec<Entry>, RemoteError> {
        let (mut entries, _refused, any) = self.sh.list_keys(dir, false).await?;
        if !any && !dir.is_root() && !self.sh.dir_exists(dir).await? {
            return Err(RemoteError::new(
                ErrorKind::NotFound,
                self.sh.context("list", dir),
                "no such folder",
            ));
        }
        self.sh.stored_times(&mut entries).await?;
        Ok(entries)
    }

    /// One flat listing of every key below the prefix (1000 keys per request), folders
    /// derived from the keys, then the stored times.
    async fn walk(&self, opts: &WalkOptions) -> Result<Listing, RemoteError> {
        let root = RelPath::root();
        let (entries, refused, any) = self.sh.list_keys(&root, opts.recursive).await?;
        if !any
            && !self.sh.cfg.prefix.trim_matches('/').is_empty()
            && !self.sh.root_made.load(Ordering::Relaxed)
        {
            // Nothing under the prefix, not even its marker: the tree does not exist (an
            // empty listing would make every copy of it look deleted).
            return Err(RemoteError::new(
                ErrorKind::NotFound,
                self.sh.context("list", &root),
                "no key has this prefix",
            ));
        }
        let mut entries: Vec<Entry> = match &opts.ignore {
            None => entries,
            Some(ign) => entries
                .into_iter()
                .filter(|e| !e.path.ancestors().any(|a| !a.is_root() && ign(&a)) && !ign(&e.path))
                .collect(),
        };
        self.sh.stored_times(&mut entries).await?;
        let mut listing = Listing {
            entries,
            incomplete: Vec::new(),
            refused,
        };
        listing.normalize();
        Ok(listing)
    }

    async fn stat(&self, path: &RelPath) -> Result<Option<Entry>, RemoteError> {
        if path.is_root() {
            let root = Entry::dir(RelPath::root(), None);
            return Ok(self.sh.dir_exists(path).await?.then_some(root));
        }
        match self.sh.op.stat(path.as_str()).await {
            Ok(meta) if meta.mode() != EntryMode::DIR => {
                return Ok(Some(Entry {
                    path: path.clone(),
                    kind: Kind::File,
                    size: Some(meta.content_length()),
                    mtime: Shared::mtime_of(&meta),
                    precision: Precision::Second,
                    mode: None,
                }));
            }
            Ok(_) => {}
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => {}
            Err(e) => {
                // Some servers fail a HEAD of a name that is a folder (s3s-fs answers 500);
                // the folder answers for it then.
                if self.sh.dir_exists(path).await.unwrap_or(false) {
                    return Ok(Some(Entry::dir(path.clone(), None)));
                }
                return Err(self.sh.err("stat", path, &e));
            }
        }
        Ok(self
            .sh
            .dir_exists(path)
            .await?
            .then(|| Entry::dir(path.clone(), None)))
    }

    async fn open(&self, path: &RelPath, offset: u64) -> Result<ReadStream, RemoteError> {
        if offset > 0 {
            // A range starting at the end is "not satisfiable" in HTTP: answer it here.
            let meta = self
                .sh
                .op
                .stat(path.as_str())
                .await
                .map_err(|e| self.sh.err("open", path, &e))?;
            if offset >= meta.content_length() {
                return Ok(Box::pin(tokio::io::empty()));
            }
        }
        let reader = self
            .sh
            .op
            .reader_with(path.as_str())
            .chunk(PART_SIZE)
            .concurrent(2)
            .await
            .map_err(|e| self.sh.err("open", path, &e))?;
        let stream = reader
            .into_bytes_stream(offset..)
            .await
            .map_err(|e| self.sh.err("open", path, &e))?;
        Ok(Box::pin(tokio_util::io::StreamReader::new(stream)))
    }

    async fn create(&self, path: &RelPath, append: bool) -> Result<WriteStream, RemoteError> {
        self.writable("write", path)?;
        if append {
            return Err(RemoteError::new(
                ErrorKind::Unsupported,
                self.sh.context("append to", path),
                "S3 objects cannot be appended to",
            ));
        }
        let sh = self.sh.clone();
        let target = path.clone();
        let finish: stage::Finish = Box::new(move |staged: Staged| {
            Box::pin(async move {
                if is_temp(&target) {
                    if let Ok(mut m) = sh.staged.lock() {
                        m.insert(target, staged);
                    }
                    Ok(())
                } else {
                    sh.upload(&target, &staged)
                        .await
                        .map_err(|e| io::Error::other(e.to_string()))
                }
            })
        });
        if let Ok(mut m) = self.sh.staged.lock() {
            m.remove(path);
        }
        let w = StageWriter::new(self.sh.cfg.stage_dir.as_deref(), finish)
            .map_err(|e| RemoteError::io(self.sh.context("stage", path), &e))?;
        Ok(Box::pin(w))
    }

    async fn rename(&self, from: &RelPath, to: &RelPath) -> Result<(), RemoteError> {
        self.writable("rename", from)?;
        let staged = self.sh.staged.lock().ok().and_then(|mut m| m.remove(from));
        if let Some(staged) = staged {
            return self.sh.upload(to, &staged).await;
        }
        // A real object: copy on the server (metadata comes along), then delete.
        if self.stat(from).await?.is_none_or(|e| e.kind.is_dir()) {
            return Err(RemoteError::new(
                ErrorKind::NotFound,
                self.sh.context("rename", from),
                "no such file",
            ));
        }
        self.sh
            .op
            .copy(from.as_str(), to.as_str())
            .await
            .map_err(|e| self.sh.err("rename", from, &e))?;
        self.sh
            .op
            .delete(from.as_str())
            .await
            .map_err(|e| self.sh.err("rename", from, &e))
    }

    async fn mkdir(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.writable("mkdir", path)?;
        let key = if path.is_root() {
            "/".to_owned()
        } else {
            format!("{path}/")
        };
        if path.is_root() && self.sh.cfg.prefix.trim_matches('/').is_empty() {
            // The bucket itself: nothing to make.
            return Ok(());
        }
        self.sh
            .op
            .create_dir(&key)
            .await
            .map_err(|e| self.sh.err("mkdir", path, &e))?;
        if path.is_root() {
            self.sh.root_made.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn remove_file(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.writable("delete", path)?;
        if self
            .sh
            .staged
            .lock()
            .ok()
            .and_then(|mut m| m.remove(path))
            .is_some()
        {
            return Ok(());
        }
        // S3 deletes of missing keys succeed; a missing file must not look deleted.
        match self.stat(path).await? {
            Some(e) if e.kind == Kind::File => {}
            Some(_) => {
                return Err(RemoteError::new(
                    ErrorKind::Other,
                    self.sh.context("delete", path),
                    "it is a folder",
                ));
            }
            None => {
                return Err(RemoteError::new(
                    ErrorKind::NotFound,
                    self.sh.context("delete", path),
                    "no such file",
                ));
            }
        }
        self.sh
            .op
            .delete(path.as_str())
            .await
            .map_err(|e| self.sh.err("delete", path, &e))
    }

    /// Removes the folder's marker; refuses while any key lies below it.
    async fn remove_dir(&self, path: &RelPath) -> Result<(), RemoteError> {
        self.writable("rmdir", path)?;
        let (below, _, _) = self.sh.list_keys(path, false).await?;
        if !below.is_empty() {
            return Err(RemoteError::new(
                ErrorKind::Other,
                self.sh.context("rmdir", path),
                "the folder is not empty",
            ));
        }
        self.sh
            .op
            .delete(&format!("{path}/"))
            .await
            .map_err(|e| self.sh.err("rmdir", path, &e))
    }

    /// Notes the time of a staged upload; an object already in the bucket is rewritten
    /// with the time in its metadata (S3 cannot change it in place).
    async fn set_mtime(&self, path: &RelPath, mtime: i64) -> Result<(), RemoteError> {
        self.writable("set the time of", path)?;
        if let Ok(mut m) = self.sh.staged.lock()
            && let Some(s) = m.get_mut(path)
        {
            s.mtime = Some(mtime);
            return Ok(());
        }
        let mut staged = self.sh.restage(path).await?;
        staged.mtime = Some(mtime);
        self.sh.upload(path, &staged).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_never_show_the_secret() {
        let mut cfg = S3Config::new("bucket");
        cfg.prefix = "/pub//gnu/".into();
        cfg.endpoint = Some("http://127.0.0.1:1".into());
        cfg.access_key = Some(S3Secret("AKIDEXAMPLE".into()));
        cfg.secret_key = Some(S3Secret("wJalrXUtnFEMI".into()));
        let r = S3Remote::new(cfg.clone()).unwrap();
        assert_eq!(r.describe(), "s3://bucket/pub/gnu");
        let shown = format!("{r:?} {cfg:?}");
        assert!(!shown.contains("wJalrXUtnFEMI") && !shown.contains("AKIDEXAMPLE"));
    }

    #[test]
    fn temporary_names_are_recognised() {
        assert!(is_temp(&RelPath::new("a/.in.b.txt.").unwrap()));
        assert!(is_temp(&RelPath::new("a/b.txt").unwrap().temp_sibling()));
        assert!(!is_temp(&RelPath::new("a/.in.").unwrap()));
        assert!(!is_temp(&RelPath::new(".in.b").unwrap()));
    }
}
