//! Listing: a directory's index page turned into entries, and the whole tree walked
//! breadth-first over directory URLs, as many pages at once as the per-host cap allows.
//!
//! What a page cannot be trusted with:
//! - **Its own completeness.** A page no parser recognises ([`IndexFormat::Generic`]: a
//!   site's `index.html`, an error page served with 200) may hold some links but proves
//!   nothing about what else is there: its links are kept and the directory is marked
//!   incomplete, so nothing below it is deleted. A subdirectory answering 404 or failing is
//!   incomplete too; only the root failing fails the walk.
//! - **Sizes and times it rounds or leaves out.** A file with a humanized size (`1.5K`,
//!   Apache and lighttpd) or no time (Python's `http.server`, plain lists) gets a `HEAD`:
//!   `Content-Length` is the byte count we will store (bodies are never decoded) and
//!   `Last-Modified` the exact time. [`HttpConfig::refine`](super::HttpConfig::refine)
//!   spares the files the run will not compare.
//! - **A minute that is not over.** Minute-precision pages (nginx HTML, Apache) cannot show
//!   a second change within the same minute. A file whose listed minute had not ended when
//!   the page was made (by the server's `Date`) may still change within it after we fetch
//!   it; such an entry is given the last second of the *previous* minute. Its copy is then
//!   stamped older than the listed minute, so the first run after that minute compares it
//!   as older and fetches it once more, which catches any change made within the minute.
//!   Files older than a minute are untouched by this, so a run with no changes fetches
//!   nothing.
//! - **Symbolic link loops.** Servers follow symlinks, so `loop -> .` is an endless tree of
//!   pages. A directory whose page lists exactly what one of its ancestors lists is not
//!   descended into (and marked incomplete), and no walk goes deeper than [`MAX_DEPTH`].

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use reqwest::Method;
use reqwest::header::{self, HeaderMap};
use url::Url;

use super::client::{Count, Failure, Shared};
use super::index::{IndexFormat, parse_index};
use crate::{
    Entry, ErrorKind, Kind, Listing, ListingProblem, PathPredicate, Precision, RelPath,
    RemoteError, WalkOptions,
};

/// The largest index page read (a directory of ~500,000 entries in nginx's layout).
const MAX_PAGE: usize = 64 << 20;

/// Directories deeper than this are not listed (a loop the fingerprint did not catch).
pub(crate) const MAX_DEPTH: usize = 128;

/// How far the server's file clock may run ahead of its `Date` header.
const CLOCK_SLACK: i64 = 2;

/// Without a `Date` header the local clock stands in, with room for the two clocks to differ.
const NO_DATE_SLACK: i64 = 120;

/// One directory's page, read.
pub(crate) struct DirPage {
    /// Its entries, validated, with sizes and times refined where asked.
    pub(crate) entries: Vec<Entry>,
    /// Names and rows the page offered that were refused or odd.
    pub(crate) refused: Vec<ListingProblem>,
    /// Why the directory's contents are not fully known, if they are not.
    pub(crate) incomplete: Option<ListingProblem>,
    /// The page was no recognisable index.
    pub(crate) unrecognised: bool,
    /// A digest of what the page lists (names, kinds, sizes, times), for loop detection;
    /// `None` for a page that lists nothing (it cannot lead anywhere, and many such pages
    /// look alike: a site's one welcome page in every directory).
    fingerprint: Option<u64>,
}

/// An index page as it came.
struct Page {
    text: String,
    /// Where it was finally served from (after redirects on the site).
    url: Url,
    content_type: Option<String>,
    /// The server's clock when it made the page (`Date`), Unix seconds.
    date: Option<i64>,
}

/// Lists `dir`: fetches its page, keeps its children (but those `ignore` names), and with
/// `refine` asks `HEAD` for the files whose size or time the page leaves uncertain.
pub(crate) async fn list_dir(
    sh: &Shared,
    dir: &RelPath,
    ignore: Option<&PathPredicate>,
    refine: bool,
) -> Result<DirPage, RemoteError> {
    let page = get_page(sh, dir).await?;
    let parsed = parse_index(
        &page.text,
        &page.url,
        page.content_type.as_deref(),
        &sh.cfg.index,
    );
    let mut refused: Vec<ListingProblem> = parsed
        .problems
        .into_iter()
        .map(|message| ListingProblem {
            path: dir.clone(),
            message,
        })
        .collect();
    let mut entries = Vec::with_capacity(parsed.entries.len());
    let mut hasher = DefaultHasher::new();
    for ie in parsed.entries {
        (&ie.name, ie.kind.letter(), ie.size, ie.mtime).hash(&mut hasher);
        let path = match dir.join(&ie.name) {
            Ok(p) => p,
            Err(e) => {
                refused.push(ListingProblem {
                    path: dir.clone(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if ignore.is_some_and(|ign| ign(&path)) {
            continue;
        }
        entries.push(Entry {
            path,
            size: ie.exact_size(),
            kind: ie.kind,
            mtime: ie.mtime,
            precision: ie.precision,
            mode: None,
        });
    }
    let fingerprint = (!entries.is_empty()).then(|| hasher.finish());
    let unrecognised = parsed.format == IndexFormat::Generic;
    let mut incomplete = unrecognised.then(|| ListingProblem {
        path: dir.clone(),
        message: format!(
            "{} is not a directory index this program recognises ({} link(s) read); \
             nothing below it is deleted",
            page.url,
            entries.len()
        ),
    });
    if refine {
        let failed = refine_entries(sh, &mut entries).await;
        if let Some((n, first)) = failed {
            incomplete.get_or_insert(ListingProblem {
                path: dir.clone(),
                message: format!(
                    "the size or time of {n} file(s) could not be asked for (first: {first})"
                ),
            });
        }
    }
    let now = page
        .date
        .map_or_else(|| unix_now() - NO_DATE_SLACK, |d| d - CLOCK_SLACK);
    for e in &mut entries {
        settle_open_minute(e, now);
    }
    Ok(DirPage {
        entries,
        refused,
        incomplete,
        unrecognised,
        fingerprint,
    })
}

/// Gives a file whose listed minute (or day) was not over at `now` the last second before
/// it (see the module doc: its copy then compares older once that period is over).
fn settle_open_minute(e: &mut Entry, now: i64) {
    if e.kind != Kind::File || !matches!(e.precision, Precision::Minute | Precision::Day) {
        return;
    }
    if let Some(t) = e.mtime {
        let start = e.precision.truncate(t);
        if now < start.saturating_add(e.precision.window()) {
            e.mtime = Some(start - 1);
        }
    }
}

/// Asks `HEAD` for every file without an exact size or any time (and that
/// `HttpConfig::refine` wants). Returns how many could not be asked, and the first.
async fn refine_entries(sh: &Shared, entries: &mut [Entry]) -> Option<(usize, String)> {
    let wanted: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.kind == Kind::File
                && (e.size.is_none() || e.precision == Precision::Unknown)
                && sh.cfg.refine.as_ref().is_none_or(|f| f(&e.path))
        })
        .map(|(i, _)| i)
        .collect();
    if wanted.is_empty() {
        return None;
    }
    let paths: Vec<(usize, RelPath)> = wanted
        .into_iter()
        .map(|i| (i, entries[i].path.clone()))
        .collect();
    let mut answers = futures::stream::iter(paths)
        .map(|(i, path)| async move { (i, head(sh, &path).await) })
        .buffer_unordered(sh.cfg.max_parallel.max(1));
    let mut failed: Option<(usize, String)> = None;
    while let Some((i, r)) = answers.next().await {
        let problem = match r {
            Ok(Some(h)) => {
                h.apply(&mut entries[i]);
                continue;
            }
            // Listed but not there: left as listed; fetching it will report the 404.
            Ok(None) => format!("`{}`: listed, but not found", entries[i].path),
            Err(e) => e.to_string(),
        };
        let f = failed.get_or_insert((0, problem));
        f.0 += 1;
    }
    failed
}

/// What `HEAD` says about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    /// `Content-Length`: the bytes a `GET` delivers (and we store: bodies are not decoded).
    pub(crate) size: Option<u64>,
    /// `Last-Modified`, Unix seconds.
    pub(crate) mtime: Option<i64>,
}

impl Head {
    /// Puts the exact facts into `e` (those the server gave).
    pub(crate) fn apply(&self, e: &mut Entry) {
        if let Some(n) = self.size {
            e.size = Some(n);
        }
        if let Some(t) = self.mtime {
            e.mtime = Some(t);
            e.precision = Precision::Second;
        }
    }
}

/// `HEAD` of a file: `None` if it does not exist. A server that refuses `HEAD` is asked
/// with a one-byte ranged `GET` instead.
pub(crate) async fn head(sh: &Shared, path: &RelPath) -> Result<Option<Head>, RemoteError> {
    let url = sh.url_for(path, false);
    let context = sh.context("get the size and time of", path, false);
    let r = sh
        .send(Count::Head, &context, || {
            sh.request(Method::HEAD, url.clone())
        })
        .await;
    let (resp, _permit) = match r {
        Ok(ok) => ok,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
        // 405 Method Not Allowed, 501 Not Implemented (the cause is the status line, as
        // `Failure::from_status` writes it): try the GET a server cannot refuse.
        Err(e) if e.cause.starts_with("405 ") || e.cause.starts_with("501 ") => {
            let r = sh
                .send(Count::Head, &context, || {
                    sh.request(Method::GET, url.clone())
                        .header(header::RANGE, "bytes=0-0")
                })
                .await;
            let (resp, _permit) = match r {
                Ok(ok) => ok,
                Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            let size = if resp.status() == reqwest::StatusCode::PARTIAL_CONTENT {
                content_range(resp.headers()).and_then(|(_, total)| total)
            } else {
                content_length(resp.headers())
            };
            // Dropping the response closes the connection mid-body when it was a 200:
            // cheaper than reading a whole file for its length.
            return Ok(Some(Head {
                size,
                mtime: last_modified(resp.headers()),
            }));
        }
        Err(e) => return Err(e),
    };
    Ok(Some(Head {
        size: content_length(resp.headers()),
        mtime: last_modified(resp.headers()),
    }))
}

/// Fetches `dir`'s index page (retrying a body that breaks off, within the budget).
async fn get_page(sh: &Shared, dir: &RelPath) -> Result<Page, RemoteError> {
    let url = sh.url_for(dir, true);
    let context = sh.context("list", dir, true);
    let mut attempt = 0u32;
    loop {
        let (resp, permit) = sh
            .send(Count::Page, &context, || {
                sh.request(Method::GET, url.clone())
            })
            .await?;
        let final_url = resp.url().clone();
        if dir.is_root() {
            sh.root_served_from(&final_url);
        }
        let headers = resp.headers().clone();
        match read_capped(resp, MAX_PAGE).await {
            Ok(body) => {
                drop(permit);
                return Ok(Page {
                    text: String::from_utf8_lossy(&body).into_owned(),
                    url: final_url,
                    content_type: headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                    date: headers
                        .get(header::DATE)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|s| httpdate::parse_http_date(s).ok())
                        .map(system_secs),
                });
            }
            Err(f) if f.kind == ErrorKind::Transient && sh.take_retry() => {
                drop(permit);
                attempt += 1;
                tokio::time::sleep(sh.backoff(attempt)).await;
            }
            Err(f) => return Err(RemoteError::new(f.kind, context, f.cause)),
        }
    }
}

/// Reads a whole body, refusing one larger than `max` bytes.
async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| Failure::from_reqwest(&e))? {
        if body.len() + chunk.len() > max {
            return Err(Failure::new(
                ErrorKind::Other,
                format!("the page is larger than {} MiB", max >> 20),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Lists the whole tree: breadth-first, up to `max_parallel` pages at once.
pub(crate) async fn walk(sh: &Arc<Shared>, opts: &WalkOptions) -> Result<Listing, RemoteError> {
    let mut listing = Listing::default();
    let mut queue: VecDeque<RelPath> = VecDeque::from([RelPath::root()]);
    // Fingerprints of the pages read, for the loop check (directories only: few).
    let mut prints: HashMap<RelPath, Option<u64>> = HashMap::new();
    let mut running = FuturesUnordered::new();
    let cap = sh.cfg.max_parallel.max(1);
    let ignore = opts.ignore.as_deref();
    loop {
        while running.len() < cap
            && let Some(dir) = queue.pop_front()
        {
            running.push(async move {
                let r = list_dir(sh, &dir, ignore, true).await;
                (dir, r)
            });
        }
        let Some((dir, result)) = running.next().await else {
            break;
        };
        let page = match result {
            Ok(p) => p,
            Err(e) if dir.is_root() => return Err(e),
            Err(e) => {
                listing.incomplete.push(ListingProblem {
                    path: dir,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let looped = page.fingerprint.and_then(|fp| {
            dir.ancestors()
                .find(|a| prints.get(a).is_some_and(|p| *p == Some(fp)))
        });
        if let Some(ancestor) = looped {
            let shown = if ancestor.is_root() {
                "the root".to_owned()
            } else {
                format!("`{ancestor}`")
            };
            listing.incomplete.push(ListingProblem {
                path: dir,
                message: format!(
                    "lists exactly what {shown} lists: a symbolic link loop on the server; \
                     not descended into"
                ),
            });
            continue;
        }
        prints.insert(dir.clone(), page.fingerprint);
        let deep = dir.as_str().split('/').count() >= MAX_DEPTH;
        for e in page.entries {
            if e.kind.is_dir() && opts.recursive {
                if deep {
                    listing.incomplete.push(ListingProblem {
                        path: e.path.clone(),
                        message: format!("deeper than {MAX_DEPTH} levels; not listed"),
                    });
                } else {
                    queue.push_back(e.path.clone());
                }
            }
            listing.entries.push(e);
        }
        listing.refused.extend(page.refused);
        listing.incomplete.extend(page.incomplete);
    }
    listing.normalize();
    Ok(listing)
}

/// `Content-Length`, read from the header itself (reqwest's `content_length()` is the
/// body's size, which is 0 for a `HEAD`).
pub(crate) fn content_length(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `Last-Modified` as Unix seconds.
pub(crate) fn last_modified(h: &HeaderMap) -> Option<i64> {
    let v = h.get(header::LAST_MODIFIED)?.to_str().ok()?;
    httpdate::parse_http_date(v).ok().map(system_secs)
}

/// `Content-Range: bytes FIRST-LAST/TOTAL` as (FIRST, TOTAL), or `bytes */TOTAL` (a 416) as
/// (`None`, TOTAL); TOTAL is `None` when unknown (`*`).
pub(crate) fn content_range(h: &HeaderMap) -> Option<(Option<u64>, Option<u64>)> {
    let v = h.get(header::CONTENT_RANGE)?.to_str().ok()?.trim();
    let rest = v.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let first = match range.trim() {
        "*" => None,
        r => Some(r.split_once('-')?.0.trim().parse().ok()?),
    };
    Some((first, total.trim().parse().ok()))
}

fn system_secs(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

fn unix_now() -> i64 {
    system_secs(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn file(min: i64, p: Precision) -> Entry {
        let mut e = Entry::file(RelPath::new("f").unwrap(), 1, min);
        e.precision = p;
        e
    }

    #[test]
    fn a_minute_not_over_is_stamped_before_it() {
        let m = 1_700_000_040; // a minute start
        // The page was made within the file's minute: the entry goes back one second.
        let mut e = file(m, Precision::Minute);
        settle_open_minute(&mut e, m + 30);
        assert_eq!(e.mtime, Some(m - 1));
        // Made after the minute ended: untouched.
        let mut e = file(m, Precision::Minute);
        settle_open_minute(&mut e, m + 60);
        assert_eq!(e.mtime, Some(m));
        // Exact times never move; directories never do.
        let mut e = file(m + 5, Precision::Second);
        settle_open_minute(&mut e, m + 6);
        assert_eq!(e.mtime, Some(m + 5));
        let mut d = Entry::dir(RelPath::new("d").unwrap(), Some(m));
        d.precision = Precision::Minute;
        settle_open_minute(&mut d, m + 1);
        assert_eq!(d.mtime, Some(m));
    }

    #[test]
    fn headers_are_read_exactly() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from_static("5368709121"),
        );
        h.insert(
            header::LAST_MODIFIED,
            HeaderValue::from_static("Sat, 15 Jun 2024 12:34:56 GMT"),
        );
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 0-0/1234"),
        );
        assert_eq!(content_length(&h), Some(5_368_709_121));
        assert_eq!(last_modified(&h), Some(1_718_454_896));
        assert_eq!(content_range(&h), Some((Some(0), Some(1234))));
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 10-19/*"),
        );
        assert_eq!(content_range(&h), Some((Some(10), None)));
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_static("bytes */77"),
        );
        assert_eq!(content_range(&h), Some((None, Some(77))));
    }
}
