//! An in-process HTTP(S) server on 127.0.0.1 that serves a folder the way directory-indexing
//! web servers do, for the HTTP backend's tests: index pages in Apache's (table or `<pre>`),
//! lighttpd's or nginx's layout, written by our own handler (axum has no directory listing),
//! and files through tower-http's `ServeDir` (`Range`, `Last-Modified`, `HEAD`).
//!
//! What real servers do and tests need to see is switchable: HTTPS with HTTP/2 by ALPN
//! ([`TestCert`]), `Content-Encoding: gzip` on `.gz` files (Apache's `AddEncoding`), ranges
//! ignored (Python's `http.server`), a `Date` clock moved by a test, and per-path quirks
//! ([`Quirk`]): redirects, fixed pages and statuses, a connection cut mid-body. Every
//! request is logged for the test to count.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use tokio::task::JoinHandle;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// Which server's index pages to imitate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Apache `FancyIndexing HTMLTable` (Debian's default): minutes, humanized sizes.
    #[default]
    ApacheTable,
    /// Apache `FancyIndexing` in `<pre>`: minutes, humanized sizes.
    ApachePre,
    /// lighttpd `mod_dirlisting`: seconds, humanized sizes, dot files hidden.
    Lighttpd,
    /// nginx `autoindex on`: minutes, exact sizes, dot files hidden.
    NginxHtml,
}

/// A self-signed certificate for `127.0.0.1` and `localhost`.
#[derive(Clone)]
pub struct TestCert {
    /// The certificate (DER): what a client adds as a trusted root.
    pub der: Vec<u8>,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PKCS #8 PEM.
    pub key_pem: String,
    key_der: Vec<u8>,
}

impl std::fmt::Debug for TestCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCert(127.0.0.1, localhost)")
    }
}

impl TestCert {
    /// A fresh certificate.
    pub fn localhost() -> TestCert {
        let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("generate a test certificate");
        TestCert {
            der: ck.cert.der().to_vec(),
            cert_pem: ck.cert.pem(),
            key_pem: ck.signing_key.serialize_pem(),
            key_der: ck.signing_key.serialize_der(),
        }
    }
}

/// How an [`IndexServer`] behaves.
#[derive(Debug, Clone)]
pub struct IndexServerOptions {
    /// The index page layout.
    pub layout: Layout,
    /// Serve HTTPS (HTTP/2 and HTTP/1.1 offered by ALPN) with this certificate.
    pub tls: Option<TestCert>,
    /// Send `.gz` files with `Content-Encoding: gzip`, as Apache's `AddEncoding` does.
    pub gzip_encoding: bool,
    /// Honour `Range` (false: always the whole file, like Python's `http.server`).
    pub ranges: bool,
}

impl Default for IndexServerOptions {
    fn default() -> Self {
        IndexServerOptions {
            layout: Layout::default(),
            tls: None,
            gzip_encoding: false,
            ranges: true,
        }
    }
}

/// What the server does at one request path instead of serving the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quirk {
    /// `302 Found` to this location (absolute, or relative to the request).
    Redirect(String),
    /// This status with this HTML body.
    Page(u16, String),
    /// `405 Method Not Allowed` to `HEAD`; other methods as usual.
    NoHead,
    /// Serve the file, but break the connection after this many bytes of a whole-file
    /// (`200`) answer, the next `times` times.
    Cut {
        /// Bytes sent before the break.
        after: usize,
        /// How many answers are cut.
        times: usize,
    },
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The path as requested (percent-encoded).
    pub path: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The `If-Range` header, if any.
    pub if_range: Option<String>,
    /// The `Authorization` header was present.
    pub auth: bool,
}

struct St {
    root: PathBuf,
    opts: IndexServerOptions,
    quirks: Mutex<HashMap<String, Quirk>>,
    clock: AtomicI64,
    log: Mutex<Vec<Logged>>,
}

/// A running server; stopped when dropped.
pub struct IndexServer {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The folder it serves.
    pub root: PathBuf,
    st: Arc<St>,
    task: JoinHandle<()>,
}

impl IndexServer {
    /// Serves `root`. Must be called inside a tokio runtime.
    pub async fn start(root: &Path, opts: IndexServerOptions) -> IndexServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let acceptor = opts.tls.as_ref().map(tls_acceptor);
        let st = Arc::new(St {
            root: root.to_path_buf(),
            opts,
            quirks: Mutex::new(HashMap::new()),
            clock: AtomicI64::new(0),
            log: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(st.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (app, acceptor) = (app.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let svc = hyper_util::service::TowerToHyperService::new(app);
                    let builder = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    );
                    match acceptor {
                        Some(a) => {
                            if let Ok(tls) = a.accept(tcp).await {
                                let io = hyper_util::rt::TokioIo::new(tls);
                                let _ = builder.serve_connection(io, svc).await;
                            }
                        }
                        None => {
                            let io = hyper_util::rt::TokioIo::new(tcp);
                            let _ = builder.serve_connection(io, svc).await;
                        }
                    }
                });
            }
        });
        IndexServer {
            port,
            root: root.to_path_buf(),
            st,
            task,
        }
    }

    /// The server's root URL: `http://127.0.0.1:PORT/` (or `https://`).
    pub fn url(&self) -> String {
        let scheme = if self.st.opts.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// Makes requests for `path` (as sent, e.g. `/sub/`) answer with `quirk`.
    pub fn quirk(&self, path: &str, quirk: Quirk) {
        lock(&self.st.quirks).insert(path.to_owned(), quirk);
    }

    /// Removes every quirk.
    pub fn clear_quirks(&self) {
        lock(&self.st.quirks).clear();
    }

    /// Moves the clock of the `Date` header by `secs` (the files' times stay as they are).
    pub fn set_clock_offset(&self, secs: i64) {
        self.st.clock.store(secs, Ordering::Relaxed);
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Logged> {
        lock(&self.st.log).clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.st.log).clear();
    }
}

impl Drop for IndexServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn tls_acceptor(cert: &TestCert) -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_der.clone().into());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der.clone().into()], key)
        .expect("a usable test certificate");
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

async fn handle(State(st): State<Arc<St>>, req: Request) -> Response {
    let entry = {
        let text = |name: header::HeaderName| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Logged {
            method: req.method().to_string(),
            path: req.uri().path().to_owned(),
            range: text(header::RANGE),
            if_range: text(header::IF_RANGE),
            auth: req.headers().contains_key(header::AUTHORIZATION),
        }
    };
    lock(&st.log).push(entry);
    let mut resp = respond(&st, req).await;
    let now = SystemTime::now();
    let offset = st.clock.load(Ordering::Relaxed);
    let date = if offset >= 0 {
        now + Duration::from_secs(offset as u64)
    } else {
        now - Duration::from_secs(offset.unsigned_abs())
    };
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(date)) {
        resp.headers_mut().insert(header::DATE, v);
    }
    resp
}

async fn respond(st: &St, mut req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let quirk = lock(&st.quirks).get(&path).cloned();
    match quirk {
        Some(Quirk::Redirect(to)) => {
            return (StatusCode::FOUND, [(header::LOCATION, to)]).into_response();
        }
        Some(Quirk::Page(code, body)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
            return (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                body,
            )
                .into_response();
        }
        Some(Quirk::NoHead) if req.method() == axum::http::Method::HEAD => {
            return StatusCode::METHOD_NOT_ALLOWED.into_response();
        }
        Some(Quirk::Cut { after, times })
            if times > 0 && !req.headers().contains_key(header::RANGE) =>
        {
            lock(&st.quirks).insert(
                path.clone(),
                Quirk::Cut {
                    after,
                    times: times - 1,
                },
            );
            if let Some(fs) = fs_path(&st.root, &path)
                && let Ok(bytes) = tokio::fs::read(&fs).await
            {
                return cut(&fs, bytes, after).await;
            }
        }
        _ => {}
    }
    let Some(fs) = fs_path(&st.root, &path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(md) = tokio::fs::metadata(&fs).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if md.is_dir() {
        if !path.ends_with('/') {
            return (
                StatusCode::MOVED_PERMANENTLY,
                [(header::LOCATION, format!("{path}/"))],
            )
                .into_response();
        }
        let page = match render(st.opts.layout, &fs, &path) {
            Ok(p) => p,
            Err(_) => return StatusCode::FORBIDDEN.into_response(),
        };
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    }
    // If-Range by date, which ServeDir ignores: a changed file gets the whole body.
    let current = md.modified().map(httpdate::fmt_http_date).ok();
    let if_range = req
        .headers()
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !st.opts.ranges || if_range.is_some_and(|v| Some(v) != current) {
        req.headers_mut().remove(header::RANGE);
    }
    let served = ServeDir::new(&st.root)
        .append_index_html_on_directories(false)
        .oneshot(req)
        .await;
    let mut resp = match served {
        Ok(r) => r.map(Body::new),
        Err(e) => match e {},
    };
    if st.opts.gzip_encoding && path.ends_with(".gz") {
        resp.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if !st.opts.ranges {
        resp.headers_mut().remove(header::ACCEPT_RANGES);
    }
    resp
}

/// A whole-file answer that breaks off after `after` bytes.
async fn cut(fs: &Path, bytes: Vec<u8>, after: usize) -> Response {
    let len = bytes.len();
    let head = Bytes::from(bytes).slice(..after.min(len));
    // The bytes go out first; the break comes a moment later, as on a real network.
    let chunks = futures::stream::once(async move { Ok::<_, io::Error>(head) }).chain(
        futures::stream::once(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "cut by the test",
            ))
        }),
    );
    let mut resp = Response::new(Body::from_stream(chunks));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len as u64));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(t) = tokio::fs::metadata(fs).await.and_then(|m| m.modified())
        && let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(t))
    {
        h.insert(header::LAST_MODIFIED, v);
    }
    resp
}

/// The file behind a request path, or `None` for a path that tries to leave the root.
fn fs_path(root: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    let mut out = root.to_path_buf();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s => out.push(s),
        }
    }
    Some(out)
}

/// One listed entry.
struct Item {
    name: String,
    dir: bool,
    size: u64,
    mtime: i64,
}

/// Hrefs encode everything but unreserved characters, as the servers do.
const HREF: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn items(dir: &Path, dotfiles: bool) -> io::Result<Vec<Item>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if !dotfiles && name.starts_with('.') {
            continue;
        }
        // Servers follow symlinks, and leave out the ones that lead nowhere.
        let Ok(md) = std::fs::metadata(e.path()) else {
            continue;
        };
        let mtime = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        out.push(Item {
            name,
            dir: md.is_dir(),
            size: md.len(),
            mtime,
        });
    }
    out.sort_by(|a, b| (!a.dir, &a.name).cmp(&(!b.dir, &b.name)));
    Ok(out)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn href(i: &Item) -> String {
    let mut h: String = utf8_percent_encode(&i.name, HREF).to_string();
    if i.dir {
        h.push('/');
    }
    h
}

fn utc(t: i64, fmt: &str) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.strftime(fmt).to_string())
        .unwrap_or_default()
}

/// Apache's `apr_strfsize`: bytes below 973, then one decimal below 10 units.
fn apache_size(n: u64) -> String {
    if n < 973 {
        return format!("{n:>3} ");
    }
    let mut size = n as f64;
    for unit in ["K", "M", "G", "T", "P"] {
        size /= 1024.0;
        if size < 973.0 || unit == "P" {
            return if size < 9.95 {
                format!("{size:.1}{unit}")
            } else {
                format!("{:>3}{unit}", size.round() as u64)
            };
        }
    }
    unreachable!("the loop returns at P")
}

/// lighttpd's sizes: always in units, one decimal.
fn lighttpd_size(n: u64) -> String {
    let mut size = n as f64 / 1024.0;
    for unit in ["K", "M", "G", "T"] {
        if size < 1024.0 || unit == "T" {
            return format!("{:.1}{unit}", size.max(0.1));
        }
        size /= 1024.0;
    }
    unreachable!("the loop returns at T")
}

fn render(layout: Layout, dir: &Path, path: &str) -> io::Result<String> {
    let shown = esc(&percent_decode_str(path).decode_utf8_lossy());
    let dotfiles = matches!(layout, Layout::ApacheTable | Layout::ApachePre);
    let list = items(dir, dotfiles)?;
    let mut p = String::new();
    match layout {
        Layout::ApacheTable => {
            let title = if path == "/" {
                "/".to_owned()
            } else {
                shown.trim_end_matches('/').to_owned()
            };
            p.push_str(&format!(
                "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n <head>\n  \
                 <title>Index of {title}</title>\n </head>\n <body>\n<h1>Index of {title}</h1>\n  \
                 <table>\n   <tr><th valign=\"top\"><img src=\"/icons/blank.gif\" alt=\"[ICO]\"></th>\
                 <th><a href=\"?C=N;O=D\">Name</a></th><th><a href=\"?C=M;O=A\">Last modified</a></th>\
                 <th><a href=\"?C=S;O=A\">Size</a></th><th><a href=\"?C=D;O=A\">Description</a></th></tr>\n   \
                 <tr><th colspan=\"5\"><hr></th></tr>\n"
            ));
            if path != "/" {
                p.push_str(
                    "<tr><td valign=\"top\"><img src=\"/icons/back.gif\" alt=\"[PARENTDIR]\"></td>\
                     <td><a href=\"../\">Parent Directory</a></td><td>&nbsp;</td>\
                     <td align=\"right\">  - </td><td>&nbsp;</td></tr>\n",
                );
            }
            for i in &list {
                let (icon, size) = if i.dir {
                    ("[DIR]", "  - ".to_owned())
                } else {
                    ("[   ]", apache_size(i.size))
                };
                p.push_str(&format!(
                    "<tr><td valign=\"top\"><img src=\"/icons/unknown.gif\" alt=\"{icon}\"></td>\
                     <td><a href=\"{}\">{}{}</a></td><td align=\"right\">{}  </td>\
                     <td align=\"right\">{size}</td><td>&nbsp;</td></tr>\n",
                    href(i),
                    esc(&i.name),
                    if i.dir { "/" } else { "" },
                    utc(i.mtime, "%Y-%m-%d %H:%M"),
                ));
            }
            p.push_str("   <tr><th colspan=\"5\"><hr></th></tr>\n</table>\n</body></html>\n");
        }
        Layout::ApachePre => {
            let title = if path == "/" {
                "/".to_owned()
            } else {
                shown.trim_end_matches('/').to_owned()
            };
            p.push_str(&format!(
                "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<html>\n <head>\n  \
                 <title>Index of {title}</title>\n </head>\n <body>\n<h1>Index of {title}</h1>\n\
                 <pre><img src=\"/icons/blank.gif\" alt=\"Icon \"> <a href=\"?C=N;O=D\">Name</a>                    \
                 <a href=\"?C=M;O=A\">Last modified</a>      <a href=\"?C=S;O=A\">Size</a>  \
                 <a href=\"?C=D;O=A\">Description</a><hr>"
            ));
            if path != "/" {
                p.push_str(concat!(
                    "<img src=\"/icons/back.gif\" alt=\"[PARENTDIR]\"> ",
                    "<a href=\"../\">Parent Directory</a>                             -   \n"
                ));
            }
            for i in &list {
                let label = format!("{}{}", i.name, if i.dir { "/" } else { "" });
                let size = if i.dir {
                    "  - ".to_owned()
                } else {
                    apache_size(i.size)
                };
                p.push_str(&format!(
                    "<img src=\"/icons/unknown.gif\" alt=\"[   ]\"> <a href=\"{}\">{}</a>{:pad$} {}  {size}  \n",
                    href(i),
                    esc(&label),
                    "",
                    utc(i.mtime, "%Y-%m-%d %H:%M"),
                    pad = 24usize.saturating_sub(label.chars().count()),
                ));
            }
            p.push_str("<hr></pre>\n</body></html>\n");
        }
        Layout::Lighttpd => {
            p.push_str(&format!(
                "<!DOCTYPE html>\n<html>\n<head>\n<title>Index of {shown}</title>\n</head>\n<body>\n\
                 <h2>Index of {shown}</h2>\n<div class=\"list\">\n\
                 <table summary=\"Directory Listing\" cellpadding=\"0\" cellspacing=\"0\">\n\
                 <thead><tr><th class=\"n\">Name</th><th class=\"m\">Last Modified</th>\
                 <th class=\"s\">Size</th><th class=\"t\">Type</th></tr></thead>\n<tbody>\n\
                 <tr class=\"d\"><td class=\"n\"><a href=\"../\">..</a>/</td><td class=\"m\">&nbsp;</td>\
                 <td class=\"s\">- &nbsp;</td><td class=\"t\">Directory</td></tr>\n"
            ));
            for i in &list {
                let when = utc(i.mtime, "%Y-%b-%d %H:%M:%S");
                if i.dir {
                    p.push_str(&format!(
                        "<tr class=\"d\"><td class=\"n\"><a href=\"{}\">{}</a>/</td>\
                         <td class=\"m\">{when}</td><td class=\"s\">- &nbsp;</td>\
                         <td class=\"t\">Directory</td></tr>\n",
                        href(i),
                        esc(&i.name)
                    ));
                } else {
                    p.push_str(&format!(
                        "<tr><td class=\"n\"><a href=\"{}\">{}</a></td><td class=\"m\">{when}</td>\
                         <td class=\"s\">{}</td><td class=\"t\">application/octet-stream</td></tr>\n",
                        href(i),
                        esc(&i.name),
                        lighttpd_size(i.size)
                    ));
                }
            }
            p.push_str(
                "</tbody>\n</table>\n</div>\n<div class=\"foot\">lighttpd/1.4.69</div>\n</body>\n</html>\n",
            );
        }
        Layout::NginxHtml => {
            p.push_str(&format!(
                "<html>\n<head><title>Index of {shown}</title></head>\n<body>\n\
                 <h1>Index of {shown}</h1><hr><pre><a href=\"../\">../</a>\n"
            ));
            for i in &list {
                let mut label = format!("{}{}", i.name, if i.dir { "/" } else { "" });
                if label.chars().count() > 50 {
                    label = format!("{}..>", label.chars().take(47).collect::<String>());
                }
                let size = if i.dir {
                    "-".to_owned()
                } else {
                    i.size.to_string()
                };
                p.push_str(&format!(
                    "<a href=\"{}\">{}</a>{:pad$} {} {size:>19}\n",
                    href(i),
                    esc(&label),
                    "",
                    utc(i.mtime, "%d-%b-%Y %H:%M"),
                    pad = 50usize.saturating_sub(label.chars().count()),
                ));
            }
            p.push_str("</pre><hr></body>\n</html>\n");
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_humanized_like_the_servers() {
        assert_eq!(apache_size(12), " 12 ");
        assert_eq!(apache_size(1536), "1.5K");
        assert_eq!(apache_size(300_000), "293K");
        assert_eq!(apache_size(5_368_709_121), "5.0G");
        assert_eq!(lighttpd_size(12), "0.1K");
        assert_eq!(lighttpd_size(300_000), "293.0K");
    }

    #[test]
    fn request_paths_stay_in_the_root() {
        let root = Path::new("/srv");
        assert_eq!(fs_path(root, "/a%20b/c"), Some(PathBuf::from("/srv/a b/c")));
        assert_eq!(fs_path(root, "/a/../../etc"), None);
        assert_eq!(fs_path(root, "/%2e%2e/etc"), None);
    }
}
