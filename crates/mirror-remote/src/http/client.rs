//! The connection side: one pooled [`reqwest::Client`] per remote, the per-host cap on
//! requests in flight, retries of transient failures within a budget, redirects kept on
//! the site, and the mapping of statuses and transport errors onto [`ErrorKind`].
//!
//! Every request goes through [`Shared::send`], which takes a permit of the per-host
//! semaphore and hands it back with the response, so a streamed body keeps its slot until
//! it is dropped. reqwest has no per-host connection limit of its own (seanmonstar/reqwest
//! #1517), and over HTTP/2 it multiplexes everything on one connection, so the semaphore is
//! what keeps us polite to the server.

use std::error::Error as _;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::{HttpConfig, HttpStats};
use crate::{ErrorKind, RelPath, RemoteError};

/// Bytes percent-encoded in a path segment: everything but unreserved characters, so no
/// name can change a URL's meaning (`%`, `?`, `#`, `;`), whatever the server makes of
/// sub-delimiters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Redirects followed for one request (all on the site).
const MAX_REDIRECTS: usize = 10;

/// What a remote's tasks share: configuration, client, cap, retry budget, counters.
pub(crate) struct Shared {
    pub(crate) cfg: HttpConfig,
    client: reqwest::Client,
    /// The tree's root: a directory URL (ending in `/`) without credentials, query or
    /// fragment.
    pub(crate) root: Url,
    /// Where the root's page was finally served from, when a redirect on the site moved
    /// it: every later URL is built on it (one redirect, not one per request).
    moved: std::sync::OnceLock<Url>,
    /// The per-host cap (the site is one host: redirects never leave it).
    sem: std::sync::Arc<Semaphore>,
    /// Retries left (the per-package budget).
    retries: AtomicU32,
    /// The root as shown in messages: the user, never the password.
    pub(crate) shown: String,
    pages: AtomicU64,
    heads: AtomicU64,
    gets: AtomicU64,
    http2: AtomicU64,
}

/// Which counter a request adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    Page,
    Head,
    Get,
}

impl Shared {
    /// Checks the URL, moves credentials out of it, and builds the client.
    pub(crate) fn new(mut cfg: HttpConfig) -> Result<Shared, RemoteError> {
        let mut root = cfg.url.clone();
        let scheme_ok = matches!(root.scheme(), "http" | "https");
        if !scheme_ok || root.host_str().is_none_or(str::is_empty) {
            return Err(RemoteError::new(
                ErrorKind::Fatal,
                format!("cannot use {}", redacted(&root)),
                "not an http:// or https:// URL with a host",
            ));
        }
        if cfg.user.is_none() && !root.username().is_empty() {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            cfg.user = Some(decode(root.username()));
            if let Some(p) = root.password() {
                cfg.password = super::HttpSecret(decode(p));
            }
        }
        let _ = root.set_password(None);
        let _ = root.set_username("");
        root.set_query(None);
        root.set_fragment(None);
        if !root.path().ends_with('/') {
            let p = format!("{}/", root.path());
            root.set_path(&p);
        }
        let mut shown = root.clone();
        if let Some(u) = &cfg.user {
            let _ = shown.set_username(&utf8_percent_encode(u, SEGMENT).to_string());
        }
        let client = build_client(&cfg, &root).map_err(|e| {
            RemoteError::new(ErrorKind::Fatal, format!("cannot use {shown}"), chain(&e))
        })?;
        Ok(Shared {
            sem: std::sync::Arc::new(Semaphore::new(cfg.max_parallel.max(1))),
            retries: AtomicU32::new(cfg.retries),
            shown: shown.to_string(),
            root,
            moved: std::sync::OnceLock::new(),
            client,
            cfg,
            pages: AtomicU64::new(0),
            heads: AtomicU64::new(0),
            gets: AtomicU64::new(0),
            http2: AtomicU64::new(0),
        })
    }

    pub(crate) fn stats(&self) -> HttpStats {
        HttpStats {
            pages: self.pages.load(Ordering::Relaxed),
            heads: self.heads.load(Ordering::Relaxed),
            gets: self.gets.load(Ordering::Relaxed),
            http2: self.http2.load(Ordering::Relaxed),
        }
    }

    /// The URL of `path` below the root: each segment percent-encoded, a trailing `/` for
    /// a directory.
    pub(crate) fn url_for(&self, path: &RelPath, dir: bool) -> Url {
        let base = self.moved.get().unwrap_or(&self.root);
        let mut s = base.as_str().to_owned();
        if !path.is_root() {
            for seg in path.as_str().split('/') {
                s.extend(utf8_percent_encode(seg, SEGMENT));
                s.push('/');
            }
            if !dir {
                s.pop();
            }
        }
        // The root parsed, and encoded segments cannot break a URL.
        Url::parse(&s).unwrap_or_else(|_| base.clone())
    }

    /// Notes that the root's page came from `served` (after redirects, all on the site).
    /// A directory URL other than the root becomes the base of every later request.
    pub(crate) fn root_served_from(&self, served: &Url) {
        if self.moved.get().is_none()
            && served != &self.root
            && served.path().ends_with('/')
            && served.query().is_none()
            && same_site(served, &self.root)
        {
            let mut u = served.clone();
            u.set_fragment(None);
            let _ = self.moved.set(u);
        }
    }

    /// `cannot WHAT URL`, for messages (no password: the URL never holds one).
    pub(crate) fn context(&self, what: &str, path: &RelPath, dir: bool) -> String {
        format!("cannot {what} {}", self.url_for(path, dir))
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

    /// A request to `url` with the site's credentials.
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let rb = self.client.request(method, url);
        match &self.cfg.user {
            Some(u) => rb.basic_auth(u, Some(&self.cfg.password.0)),
            None => rb,
        }
    }

    /// Sends what `build` makes, within the per-host cap, retrying transient failures
    /// while the budget lasts. A success (2xx) comes back with its permit, which the
    /// caller holds while it reads the body; any other status is an error of its class.
    /// `context` names the operation for messages.
    pub(crate) async fn send(
        &self,
        count: Count,
        context: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<(Response, OwnedSemaphorePermit), RemoteError> {
        self.send_accepting(count, context, |_| false, build).await
    }

    /// [`Shared::send`], also handing back responses whose status `accept` takes.
    pub(crate) async fn send_accepting(
        &self,
        count: Count,
        context: &str,
        accept: impl Fn(StatusCode) -> bool,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<(Response, OwnedSemaphorePermit), RemoteError> {
        let mut attempt = 0u32;
        loop {
            let outcome = self.send_once(count, build(), &accept).await;
            match outcome {
                Ok(ok) => return Ok(ok),
                Err(f) if f.kind == ErrorKind::Transient && self.take_retry() => {
                    attempt += 1;
                    tokio::time::sleep(f.retry_after.unwrap_or_else(|| self.backoff(attempt)))
                        .await;
                }
                Err(f) => return Err(RemoteError::new(f.kind, context, f.cause)),
            }
        }
    }

    async fn send_once(
        &self,
        count: Count,
        rb: RequestBuilder,
        accept: &impl Fn(StatusCode) -> bool,
    ) -> Result<(Response, OwnedSemaphorePermit), Failure> {
        let permit = self
            .sem
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Failure::new(ErrorKind::Fatal, e.to_string()))?;
        let counter = match count {
            Count::Page => &self.pages,
            Count::Head => &self.heads,
            Count::Get => &self.gets,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let resp = rb.send().await.map_err(|e| Failure::from_reqwest(&e))?;
        if resp.version() == reqwest::Version::HTTP_2 {
            self.http2.fetch_add(1, Ordering::Relaxed);
        }
        let status = resp.status();
        if status.is_success() || accept(status) {
            return Ok((resp, permit));
        }
        Err(Failure::from_status(&resp))
    }
}

/// One failed attempt, before it gets its context.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: ErrorKind,
    pub(crate) cause: String,
    /// A server's `Retry-After` (seconds form), capped.
    retry_after: Option<Duration>,
}

impl Failure {
    pub(crate) fn new(kind: ErrorKind, cause: impl Into<String>) -> Self {
        Failure {
            kind,
            cause: cause.into(),
            retry_after: None,
        }
    }

    /// A transport error: connecting, timing out, a reset while sending or reading.
    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        Failure::new(kind_of(e), chain(e))
    }

    /// A response that is not a success.
    fn from_status(resp: &Response) -> Self {
        let status = resp.status();
        if status.is_redirection() {
            // Only a redirect off the site (or one too many) comes back unfollowed.
            let to = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| resp.url().join(l).ok())
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|| "an unreadable location".into());
            return Failure::new(
                ErrorKind::Other,
                format!("{status}: redirected off the site to {to}, not followed"),
            );
        }
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(60)));
        Failure {
            kind: status_kind(status),
            cause: status.to_string(),
            retry_after,
        }
    }
}

/// The class of an HTTP status that is not a success.
pub(crate) fn status_kind(s: StatusCode) -> ErrorKind {
    match s.as_u16() {
        404 | 410 => ErrorKind::NotFound,
        401 | 403 | 407 => ErrorKind::PermissionDenied,
        408 | 425 | 429 => ErrorKind::Transient,
        // 501 and 505 say the server will never do it.
        501 | 505 => ErrorKind::Other,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

/// The class of a transport error. A certificate the server cannot prove is fatal:
/// retrying will not make it valid.
pub(crate) fn kind_of(e: &reqwest::Error) -> ErrorKind {
    if is_tls_failure(e) {
        return ErrorKind::Fatal;
    }
    if e.is_builder() {
        return ErrorKind::Fatal;
    }
    if e.is_redirect() {
        return ErrorKind::Other;
    }
    // A body that breaks off comes wrapped as a "decode" error around the "body" one.
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<reqwest::Error>()
            && (r.is_timeout() || r.is_connect() || r.is_request() || r.is_body())
        {
            return ErrorKind::Transient;
        }
        cur = err.source();
    }
    ErrorKind::Other
}

/// True if a rustls error (bad certificate, handshake failure) is in `e`'s causes.
fn is_tls_failure(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(err) = cur {
        if is_rustls(err) {
            return true;
        }
        cur = err.source();
    }
    false
}

/// `err` is a rustls error, or an I/O error wrapping one (at any depth: the connector
/// wraps the TLS stream's `io::Error` in another, and `io::Error::source` skips the
/// wrapped error itself).
fn is_rustls(err: &(dyn std::error::Error + 'static)) -> bool {
    if err.downcast_ref::<tokio_rustls::rustls::Error>().is_some() {
        return true;
    }
    match err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        Some(inner) => is_rustls(inner),
        None => false,
    }
}

/// An error and its causes as one line, without the URL (messages carry their own).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = match err.downcast_ref::<reqwest::Error>() {
            // reqwest's own text would name the URL; ours do that already.
            Some(r) => reqwest_words(r),
            None => err.to_string(),
        };
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    if parts.is_empty() {
        "unknown error".into()
    } else {
        parts.join(": ")
    }
}

fn reqwest_words(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else if e.is_body() {
        "error reading the response".into()
    } else if e.is_redirect() {
        "too many redirects".into()
    } else if e.is_request() {
        "error sending the request".into()
    } else {
        String::new()
    }
}

/// A URL for messages: without its password.
fn redacted(u: &Url) -> String {
    let mut u = u.clone();
    let _ = u.set_password(None);
    u.to_string()
}

/// True if `to` is on the site of `root`: the same host, scheme and port, or the upgrade of
/// a plain `http://host/` to `https://host/` (default ports). Never a downgrade to plain
/// HTTP, never another host or port: credentials and trust stay where the package put them.
fn same_site(to: &Url, root: &Url) -> bool {
    if to.host_str() != root.host_str() {
        return false;
    }
    if to.scheme() == root.scheme() {
        return to.port_or_known_default() == root.port_or_known_default();
    }
    root.scheme() == "http"
        && to.scheme() == "https"
        && root.port_or_known_default() == Some(80)
        && to.port_or_known_default() == Some(443)
}

fn build_client(cfg: &HttpConfig, root: &Url) -> Result<reqwest::Client, reqwest::Error> {
    let site = root.clone();
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if same_site(attempt.url(), &site) {
            attempt.follow()
        } else {
            // Handed back as the 3xx response; `Failure::from_status` names it.
            attempt.stop()
        }
    });
    let mut headers = HeaderMap::new();
    // Bodies are stored as sent; ask servers not to compress them for us.
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("mirror/", env!("CARGO_PKG_VERSION")))
        .default_headers(headers)
        .redirect(policy)
        .referer(false)
        .connect_timeout(cfg.timeout)
        .read_timeout(cfg.timeout)
        .pool_max_idle_per_host(cfg.max_parallel.max(1))
        .http2_adaptive_window(true);
    if !cfg.tls_roots.is_empty() {
        let certs = cfg
            .tls_roots
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()?;
        b = b.tls_certs_merge(certs);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_classes() {
        let k = |n| status_kind(StatusCode::from_u16(n).unwrap());
        assert_eq!(k(404), ErrorKind::NotFound);
        assert_eq!(k(410), ErrorKind::NotFound);
        assert_eq!(k(401), ErrorKind::PermissionDenied);
        assert_eq!(k(403), ErrorKind::PermissionDenied);
        assert_eq!(k(503), ErrorKind::Transient);
        assert_eq!(k(429), ErrorKind::Transient);
        assert_eq!(k(501), ErrorKind::Other);
        assert_eq!(k(416), ErrorKind::Other);
    }

    #[test]
    fn the_site_is_one_origin() {
        let root = Url::parse("http://h:8080/pub/").unwrap();
        let u = |s| Url::parse(s).unwrap();
        assert!(same_site(&u("http://h:8080/other/x"), &root));
        assert!(!same_site(&u("http://h:8081/pub/x"), &root));
        assert!(!same_site(&u("https://h:8080/pub/x"), &root));
        assert!(!same_site(&u("http://cdn.example/pub/x"), &root));
        let root = Url::parse("https://h/").unwrap();
        assert!(same_site(&u("https://h:443/x"), &root));
        // Upgrades to TLS on the same host stay on the site; downgrades do not.
        assert!(!same_site(&u("http://h/x"), &root));
        let root = Url::parse("http://h/").unwrap();
        assert!(same_site(&u("https://h/x"), &root));
        assert!(!same_site(&u("https://h:8443/x"), &root));
    }
}
