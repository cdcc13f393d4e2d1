//! The HTTP(S) backend (`site=http://...`, `https://...`): [`HttpRemote`] reads a tree that
//! a web server publishes as directory index pages, and fetches its files.
//!
//! Layout (each file owns one step):
//!
//! ```text
//! index/   page parsers: Apache, nginx (HTML, JSON, XML), lighttpd, Caddy, http.server,
//!          rclone, any page of links; no networking
//! client   the pooled reqwest client, the per-host cap, retries, redirects kept on the site,
//!          error classes, URLs of paths
//! walk     breadth-first listing over directory pages with bounded concurrency; HEAD for
//!          the entries a page leaves uncertain; pages that prove nothing
//! stream   GET as a read stream: Range to resume, If-Range to mend a broken transfer
//! ```
//!
//! Decisions a mirror operator should know (the README repeats them):
//! - One [`reqwest`] client per remote: connections are pooled and kept alive, HTTP/2 is
//!   used where the server offers it (ALPN), and at most [`HttpConfig::max_parallel`]
//!   requests are in flight at once (the site is one host: redirects never leave it).
//! - Bodies are stored byte for byte: no `Accept-Encoding` but `identity`, and no
//!   decompression, so a `.tar.gz` served with `Content-Encoding: gzip` stays a `.tar.gz`.
//! - Sizes and times come from the page where it states them exactly; a file whose page
//!   gives only a rounded size (`1.5K`) or no time is asked about with `HEAD`
//!   (`Content-Length`, `Last-Modified`), unless [`HttpConfig::refine`] says the run does
//!   not need it. Times keep the page's precision (minutes for Apache and nginx HTML).
//! - A page that is no recognisable index (a site's own `index.html`, a login page) marks
//!   its directory incomplete, so nothing below it is deleted; so does a subdirectory that
//!   answers 404 or an error. Only the root failing fails the listing.
//! - Credentials (in the URL or in the configuration) are sent as basic auth to the site
//!   and appear in no message, report or `Debug` output.

pub mod index;

mod client;
mod stream;
mod walk;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use url::Url;

use crate::{
    Entry, ErrorKind, Features, Kind, Listing, PathPredicate, Precision, ReadStream, RelPath,
    Remote, RemoteError, WalkOptions,
};

use client::Shared;
use index::IndexOptions;

/// A password: sent to the server, never shown (`Debug` prints `****`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HttpSecret(pub String);

impl fmt::Debug for HttpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Everything an [`HttpRemote`] needs, resolved from a package (see `mirror-sync`'s
/// `connect_http`).
#[derive(Clone)]
pub struct HttpConfig {
    /// The tree's root: an `http` or `https` URL of a directory. A user and password in it
    /// are taken out of the URL and used as basic auth when [`HttpConfig::user`] is unset.
    pub url: Url,
    /// User for basic auth; `None` sends no credentials.
    pub user: Option<String>,
    /// Password for basic auth.
    pub password: HttpSecret,
    /// For connecting and for each read of a response (not for a whole transfer).
    pub timeout: Duration,
    /// Requests in flight at once against the site (`parallel`): listings, `HEAD`s and
    /// transfers share it. Also [`Features::max_parallel`].
    pub max_parallel: usize,
    /// Extra trusted root certificates (DER), besides the system's.
    pub tls_roots: Vec<Vec<u8>>,
    /// How index pages are read: the zone of wall-clock dates (`remote_timezone`), and the
    /// format when it is known.
    pub index: IndexOptions,
    /// Retries of transient failures (connection errors, timeouts, 5xx, 429), for the whole
    /// remote (the package).
    pub retries: u32,
    /// The first back-off delay (doubled per retry, at most 30 s).
    pub retry_base: Duration,
    /// Which files are worth a `HEAD` when their page leaves the size or time uncertain:
    /// those the run will compare (not excluded, selected). `None`: every such file.
    pub refine: Option<Arc<PathPredicate>>,
}

impl HttpConfig {
    /// A configuration with mirror's defaults for `url`: no credentials, a 120 s timeout,
    /// 4 requests at once, 20 retries from 1 s (as FTP), dates in UTC.
    pub fn new(url: Url) -> HttpConfig {
        HttpConfig {
            url,
            user: None,
            password: HttpSecret::default(),
            timeout: Duration::from_secs(120),
            max_parallel: 4,
            tls_roots: Vec::new(),
            index: IndexOptions::default(),
            retries: 20,
            retry_base: Duration::from_secs(1),
            refine: None,
        }
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut url = self.url.clone();
        if url.password().is_some() {
            let _ = url.set_password(Some("****"));
        }
        f.debug_struct("HttpConfig")
            .field("url", &url.as_str())
            .field("user", &self.user)
            .field("password", &self.password)
            .field("timeout", &self.timeout)
            .field("max_parallel", &self.max_parallel)
            .field("tls_roots", &self.tls_roots.len())
            .field("index", &self.index)
            .field("retries", &self.retries)
            .field("retry_base", &self.retry_base)
            .field("refine", &self.refine.is_some())
            .finish()
    }
}

/// Counts of what an [`HttpRemote`] asked the server, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Index pages fetched.
    pub pages: u64,
    /// `HEAD` requests (and their ranged-`GET` stand-ins).
    pub heads: u64,
    /// File transfers started (a resumed or mended transfer counts each request).
    pub gets: u64,
    /// Responses that came over HTTP/2.
    pub http2: u64,
}

/// A tree published by a web server as directory index pages. Read-only. Cheap to clone
/// (clones share the client, its connection pool and the per-host cap).
#[derive(Clone)]
pub struct HttpRemote {
    sh: Arc<Shared>,
}

impl fmt::Debug for HttpRemote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRemote")
            .field("url", &self.describe())
            .finish()
    }
}

impl HttpRemote {
    /// A remote for `cfg`. Connects lazily, on first use. Fails on a URL that is not an
    /// `http`/`https` directory URL with a host, or a bad extra root certificate.
    pub fn new(cfg: HttpConfig) -> Result<HttpRemote, RemoteError> {
        Ok(HttpRemote {
            sh: Arc::new(Shared::new(cfg)?),
        })
    }

    /// What was asked of the server so far.
    pub fn stats(&self) -> HttpStats {
        self.sh.stats()
    }

    /// The URL of `path` (a directory's ends in `/`), without credentials.
    pub fn url_of(&self, path: &RelPath, dir: bool) -> Url {
        self.sh.url_for(path, dir)
    }
}

#[async_trait]
impl Remote for HttpRemote {
    /// Exact seconds at best (exact-time pages, `HEAD`); each entry states its own
    /// precision. Resumes with `Range`; never written to.
    fn features(&self) -> Features {
        Features {
            resume: true,
            max_parallel: self.sh.cfg.max_parallel.max(1),
            ..Features::read_only(Precision::Second)
        }
    }

    fn describe(&self) -> String {
        self.sh.shown.clone()
    }

    /// One directory's page. A page that is no recognisable index is an error here (its
    /// links may not be all there is); [`Remote::walk`] keeps such links and marks the
    /// directory incomplete instead.
    async fn list(&self, dir: &RelPath) -> Result<Vec<Entry>, RemoteError> {
        let page = walk::list_dir(&self.sh, dir, None, true).await?;
        match page.incomplete {
            Some(p) if page.unrecognised => Err(RemoteError::new(
                ErrorKind::Other,
                self.sh.context("list", dir, true),
                p.message,
            )),
            _ => Ok(page.entries),
        }
    }

    async fn walk(&self, opts: &WalkOptions) -> Result<Listing, RemoteError> {
        walk::walk(&self.sh, opts).await
    }

    /// Found through the parent's page; a file's size and time then come from `HEAD`
    /// (exact, like FTP's `MDTM`), whatever the page says.
    async fn stat(&self, path: &RelPath) -> Result<Option<Entry>, RemoteError> {
        let Some(parent) = path.parent() else {
            return match walk::list_dir(&self.sh, path, None, false).await {
                Ok(_) => Ok(Some(Entry::dir(RelPath::root(), None))),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            };
        };
        let page = match walk::list_dir(&self.sh, &parent, None, false).await {
            Ok(p) => p,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let found = page.entries.into_iter().find(|e| e.path == *path);
        match found {
            Some(e) if e.kind.is_dir() => Ok(Some(e)),
            Some(mut e) => {
                match walk::head(&self.sh, path).await? {
                    Some(h) => h.apply(&mut e),
                    None => return Ok(None),
                }
                Ok(Some(e))
            }
            // A page that proves nothing: ask for the file itself.
            None if page.unrecognised => Ok(walk::head(&self.sh, path).await?.map(|h| {
                let mut e = Entry {
                    path: path.clone(),
                    kind: Kind::File,
                    size: None,
                    mtime: None,
                    precision: Precision::Unknown,
                    mode: None,
                };
                h.apply(&mut e);
                e
            })),
            None => Ok(None),
        }
    }

    async fn open(&self, path: &RelPath, offset: u64) -> Result<ReadStream, RemoteError> {
        stream::open(self.sh.clone(), path, offset).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_never_show_the_password() {
        let url = Url::parse("https://bob:hunter2@example.org:8443/pub/x").unwrap();
        let mut cfg = HttpConfig::new(url);
        cfg.password = HttpSecret("also-secret".into());
        let r = HttpRemote::new(cfg.clone()).unwrap();
        assert_eq!(r.describe(), "https://bob@example.org:8443/pub/x/");
        let shown = format!("{r:?} {cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("also-secret"), "{shown}");
    }

    #[test]
    fn paths_become_encoded_urls_below_the_root() {
        let url = Url::parse("http://h/pub%20lic/").unwrap();
        let r = HttpRemote::new(HttpConfig::new(url)).unwrap();
        let p = RelPath::new("a b/100%/q?#.txt").unwrap();
        assert_eq!(
            r.url_of(&p, false).as_str(),
            "http://h/pub%20lic/a%20b/100%25/q%3F%23.txt"
        );
        assert_eq!(
            r.url_of(&RelPath::new("d").unwrap(), true).as_str(),
            "http://h/pub%20lic/d/"
        );
        assert_eq!(
            r.url_of(&RelPath::root(), true).as_str(),
            "http://h/pub%20lic/"
        );
    }

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        for bad in ["ftp://h/", "file:///x", "data:text/plain,x", "s3://bucket/"] {
            let Ok(url) = Url::parse(bad) else { continue };
            assert!(HttpRemote::new(HttpConfig::new(url)).is_err(), "{bad}");
        }
    }
}
