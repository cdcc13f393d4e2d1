//! Directory-index page parsers: the page a web server generates for a directory (Apache
//! mod_autoindex, nginx autoindex in HTML, JSON and XML, lighttpd mod_dirlisting, Caddy's
//! `browse` in HTML and JSON, Python's `http.server`, rclone's `serve http`, or any page of
//! links) turned into [`IndexEntry`] values and problems.
//!
//! This module does no networking and trusts nothing on the page. Only links to *direct
//! children* of the listed directory become entries (see `link.rs` for the rule: same
//! origin, directory path plus one segment, no query, no fragment); parent and sort links,
//! icons and off-site links are skipped, and names that decode to `a/b`, `..` or contain a
//! NUL are refused and reported. Names come from the `href`, not from the link text, which
//! servers shorten (`a-very-long-file-nam..>`) and decorate (`link.txt@`).
//!
//! Each entry says how exact its facts are, as the page gives them:
//! * times carry a [`Precision`]: minutes for Apache and nginx HTML, seconds for lighttpd,
//!   Caddy, rclone and nginx JSON/XML, [`Precision::Unknown`] (no time) for Python's
//!   `http.server`, Apache without FancyIndexing and unrecognized pages;
//! * sizes carry `size_exact`: humanized sizes (`1.5K`, `5.0G`) are kept as an estimate
//!   with `size_exact: false` and must not be compared as byte counts.
//!
//! Wall-clock dates without a zone (Apache, lighttpd, nginx HTML) are read in
//! [`IndexOptions::tz`], UTC unless the caller knows better. UTC is right for nginx's
//! default (`autoindex_localtime off` prints GMT); Apache and lighttpd print the server's
//! local time, which the page does not state.
//!
//! Layout: `html` tokenizes, `link` decides which links are children, `rows` finds each
//! child's row and the page's fingerprints, `fields` reads sizes and dates, `json` and `xml`
//! read the structured formats; this file detects the format and assembles entries.

mod fields;
mod html;
mod json;
mod link;
mod rows;
mod xml;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use jiff::tz::TimeZone;
use url::Url;

use crate::{Entry, Kind, Precision, RelPath, RelPathError};

use fields::{Size, Stamp};
use link::{Child, Dir, clip};

/// Which server (and which of its layouts) wrote an index page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexFormat {
    /// Apache mod_autoindex with `FancyIndexing`, `<pre>` layout: `YYYY-MM-DD HH:MM` (minute,
    /// server local time) and humanized sizes (exact below 1 KiB).
    ApachePre,
    /// Apache mod_autoindex with `FancyIndexing HTMLTable` (Debian's default): same facts
    /// as [`IndexFormat::ApachePre`] in a table.
    ApacheTable,
    /// Apache mod_autoindex without `FancyIndexing`: a bare `<ul>` of names.
    ApacheList,
    /// nginx `autoindex_format html`: `DD-Mon-YYYY HH:MM` (minute, GMT by default), exact
    /// sizes, or humanized ones from 10000 bytes up with `autoindex_exact_size off`. With
    /// `autoindex_localtime on` nginx shifts *every* date by the UTC offset in force when
    /// the page is made, so the right [`IndexOptions::tz`] is that fixed offset, not the
    /// server's zone rules.
    NginxHtml,
    /// nginx `autoindex_format json`: exact sizes, RFC 1123 times (second).
    NginxJson,
    /// nginx `autoindex_format xml`: exact sizes, RFC 3339 times (second).
    NginxXml,
    /// lighttpd mod_dirlisting: `YYYY-Mon-DD HH:MM:SS` (second, server local time) and
    /// humanized sizes only.
    Lighttpd,
    /// Caddy `file_server browse` HTML: exact sizes and RFC 3339 UTC times in attributes.
    Caddy,
    /// Caddy's browse JSON (`Accept: application/json`): exact sizes, RFC 3339 times.
    CaddyJson,
    /// Python's `python3 -m http.server`: names only.
    PythonHttpServer,
    /// `rclone serve http`: exact sizes, Go-formatted times with offset (second).
    Rclone,
    /// Any other page: its child links, no sizes, no times.
    Generic,
}

impl IndexFormat {
    /// Every format.
    pub const ALL: [IndexFormat; 12] = [
        IndexFormat::ApachePre,
        IndexFormat::ApacheTable,
        IndexFormat::ApacheList,
        IndexFormat::NginxHtml,
        IndexFormat::NginxJson,
        IndexFormat::NginxXml,
        IndexFormat::Lighttpd,
        IndexFormat::Caddy,
        IndexFormat::CaddyJson,
        IndexFormat::PythonHttpServer,
        IndexFormat::Rclone,
        IndexFormat::Generic,
    ];

    /// A short lower-case name (`apache-pre`, `nginx-json`, ...), for settings and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            IndexFormat::ApachePre => "apache-pre",
            IndexFormat::ApacheTable => "apache-table",
            IndexFormat::ApacheList => "apache-list",
            IndexFormat::NginxHtml => "nginx-html",
            IndexFormat::NginxJson => "nginx-json",
            IndexFormat::NginxXml => "nginx-xml",
            IndexFormat::Lighttpd => "lighttpd",
            IndexFormat::Caddy => "caddy",
            IndexFormat::CaddyJson => "caddy-json",
            IndexFormat::PythonHttpServer => "python-http-server",
            IndexFormat::Rclone => "rclone",
            IndexFormat::Generic => "generic",
        }
    }

    fn body(self) -> Body {
        match self {
            IndexFormat::NginxJson | IndexFormat::CaddyJson => Body::Json,
            IndexFormat::NginxXml => Body::Xml,
            _ => Body::Html,
        }
    }

    /// Formats whose every row states a date (and, for files, a size): a row without one
    /// means the page is not what it seems, which is worth a problem.
    fn promises_details(self) -> bool {
        matches!(
            self,
            IndexFormat::ApachePre
                | IndexFormat::ApacheTable
                | IndexFormat::NginxHtml
                | IndexFormat::Lighttpd
                | IndexFormat::Caddy
                | IndexFormat::Rclone
        )
    }
}

impl fmt::Display for IndexFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no [`IndexFormat`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown index format `{0}`")]
pub struct UnknownIndexFormat(pub String);

impl FromStr for IndexFormat {
    type Err = UnknownIndexFormat;

    /// The names of [`IndexFormat::as_str`], exactly.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IndexFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| UnknownIndexFormat(s.to_owned()))
    }
}

/// How to read index pages of one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexOptions {
    /// The format when it is known (configured, or detected on the site's first page);
    /// `None` detects it on every page.
    pub format: Option<IndexFormat>,
    /// The zone wall-clock dates are in (Apache, lighttpd, nginx HTML). Default UTC.
    pub tz: TimeZone,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            format: None,
            tz: TimeZone::UTC,
        }
    }
}

/// One entry of a directory index, before its name is validated as a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// The name, percent- and entity-decoded: one segment, never empty, `.` or `..`, no `/`,
    /// no NUL. Still untrusted otherwise: the backend builds its `RelPath` from it.
    pub name: String,
    /// [`Kind::File`] or [`Kind::Dir`] (from a trailing `/` on the link, or the format's own
    /// type field). Symbolic links are invisible over HTTP: servers follow them.
    pub kind: Kind,
    /// Size in bytes; `Some(0)` for directories; `None` when the page gives none. When
    /// `size_exact` is false this is an estimate from a humanized size.
    pub size: Option<u64>,
    /// True when `size` is an exact byte count.
    pub size_exact: bool,
    /// Modification time, Unix seconds (UTC); `None` when the page gives none.
    pub mtime: Option<i64>,
    /// How exact `mtime` is (`Unknown` exactly when `mtime` is `None`).
    pub precision: Precision,
    /// Where to fetch it: absolute, same origin as the page; for a directory, the URL of its
    /// own index page (ending in `/`).
    pub url: Url,
}

impl IndexEntry {
    /// The size if it is an exact byte count: the only size fit for "is it up to date?".
    pub fn exact_size(&self) -> Option<u64> {
        self.size.filter(|_| self.size_exact)
    }

    /// The listing [`Entry`] for this name inside `dir` (the listed directory, relative to
    /// the tree's root). The name is validated as one path segment; an estimated size is
    /// dropped, because an entry's size is compared byte for byte.
    pub fn into_entry(self, dir: &RelPath) -> Result<Entry, RelPathError> {
        Ok(Entry {
            path: dir.join(&self.name)?,
            size: self.exact_size(),
            kind: self.kind,
            mtime: self.mtime,
            precision: self.precision,
            mode: None,
        })
    }
}

/// What one index page says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPage {
    /// The format the page was read as. [`IndexFormat::Generic`] means the page was not
    /// recognized as any server's index: an empty result then proves little.
    pub format: IndexFormat,
    /// The entries in page order, each name once.
    pub entries: Vec<IndexEntry>,
    /// Links and items that were refused or odd, in words for the report.
    pub problems: Vec<String>,
}

/// Parses one index page.
///
/// `page` is the body, already decoded to text (the names that matter come from
/// percent-encoded links, so a lossy decode of a non-UTF-8 page loses nothing needed).
/// `page_url` is the URL the page was finally served from, after redirects; it is the
/// listed directory, with or without its trailing `/`. `content_type` is the response's
/// `Content-Type`, which tells JSON and XML listings apart from HTML (the body is sniffed
/// when it is absent). Never fails and never panics: whatever cannot be read becomes a
/// problem.
pub fn parse_index(
    page: &str,
    page_url: &Url,
    content_type: Option<&str>,
    opts: &IndexOptions,
) -> IndexPage {
    let dir = Dir::new(page_url);
    let body = match opts.format {
        Some(f) => f.body(),
        None => sniff(page, content_type),
    };
    let (format, drafts, mut problems) = match body {
        Body::Json => json::parse(page, &dir),
        Body::Xml => {
            let (drafts, problems) = xml::parse(page, &dir);
            (IndexFormat::NginxXml, drafts, problems)
        }
        Body::Html => {
            let scan = rows::scan(page, &dir);
            let format = opts.format.unwrap_or_else(|| detect(&scan.signals));
            let drafts = scan
                .rows
                .into_iter()
                .map(|row| html_draft(format, row, &opts.tz))
                .collect();
            (format, drafts, scan.refused)
        }
    };
    let format = opts.format.unwrap_or(format);
    let entries = assemble(format, drafts, &mut problems);
    IndexPage {
        format,
        entries,
        problems,
    }
}

/// The broad kind of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Html,
    Json,
    Xml,
}

/// Tells JSON and XML listings from HTML: by `Content-Type` when there is one, else by the
/// first bytes (JSON) or the root element (`<list>` is nginx's XML).
fn sniff(page: &str, content_type: Option<&str>) -> Body {
    if let Some(ct) = content_type {
        let ct = ct.to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        if mime.ends_with("json") {
            return Body::Json;
        }
        if mime.ends_with("/xml") {
            return Body::Xml;
        }
        if mime.contains("html") {
            return Body::Html;
        }
    }
    let start = page.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if start.starts_with('[') || start.starts_with('{') {
        return Body::Json;
    }
    let root = html::tokens(start).take(8).find_map(|t| match t {
        html::Token::Start(tag) => Some(tag.is("list")),
        _ => None,
    });
    if root == Some(true) {
        Body::Xml
    } else {
        Body::Html
    }
}

/// Picks the HTML format from the page's fingerprints. Most specific first: rclone's
/// template descends from Caddy's, and several servers title their page "Index of".
/// Misreading Apache's `<pre>` as nginx's (Apache with `SuppressColumnSorting` at a
/// document root) is harmless: both rows read alike, at minute precision.
fn detect(s: &rows::Signals) -> IndexFormat {
    let index_of = s.title.starts_with("Index of ");
    if s.rclone {
        IndexFormat::Rclone
    } else if s.caddy {
        IndexFormat::Caddy
    } else if s.lighttpd {
        IndexFormat::Lighttpd
    } else if s.title.starts_with("Directory listing for ") {
        IndexFormat::PythonHttpServer
    } else if s.apache_sort || (index_of && s.apache_parent) {
        if s.table {
            IndexFormat::ApacheTable
        } else if s.pre {
            IndexFormat::ApachePre
        } else {
            IndexFormat::ApacheList
        }
    } else if index_of && s.pre {
        IndexFormat::NginxHtml
    } else if index_of && s.ul {
        IndexFormat::ApacheList
    } else {
        IndexFormat::Generic
    }
}

/// An entry before kind-specific cleanup and de-duplication.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) child: Child,
    pub(crate) size: Option<Size>,
    pub(crate) stamp: Option<Stamp>,
}

/// Reads a row the way `format` writes it.
fn html_draft(format: IndexFormat, row: rows::Row, tz: &TimeZone) -> Draft {
    let (stamp, size) = match format {
        IndexFormat::ApachePre
        | IndexFormat::ApacheTable
        | IndexFormat::NginxHtml
        | IndexFormat::Lighttpd => fields::date_and_size(&row.words(), tz),
        IndexFormat::Caddy | IndexFormat::Rclone => {
            let stamp = row.datetime.as_deref().and_then(|d| {
                if format == IndexFormat::Caddy {
                    fields::rfc3339(d)
                } else {
                    fields::go_time(d)
                }
            });
            let size = row
                .data_size
                .as_deref()
                .and_then(|s| s.trim().parse().ok())
                .map(|bytes| Size { bytes, exact: true });
            (stamp, size)
        }
        // Names only; and numbers on an unknown page could mean anything.
        IndexFormat::ApacheList
        | IndexFormat::PythonHttpServer
        | IndexFormat::Generic
        | IndexFormat::NginxJson
        | IndexFormat::NginxXml
        | IndexFormat::CaddyJson => (None, None),
    };
    Draft {
        child: row.child,
        size,
        stamp,
    }
}

/// Turns drafts into entries: directories get size 0, each name is kept once (a name
/// listed both as file and directory keeps its first listing and is reported), lossy names
/// are reported, and so are rows without the details their format promises (once per page,
/// not once per row: a server configured to hide a column would otherwise flood the report).
fn assemble(
    format: IndexFormat,
    drafts: Vec<Draft>,
    problems: &mut Vec<String>,
) -> Vec<IndexEntry> {
    let mut seen: HashMap<String, bool> = HashMap::with_capacity(drafts.len());
    let mut entries = Vec::with_capacity(drafts.len());
    // How many rows lack a date / a size, and the first such name.
    let mut no_date: (usize, String) = (0, String::new());
    let mut no_size: (usize, String) = (0, String::new());
    for d in drafts {
        if let Some(&was_dir) = seen.get(&d.child.name) {
            if was_dir != d.child.is_dir {
                problems.push(format!(
                    "`{}` is listed both as a file and as a directory; the first is kept",
                    clip(&d.child.name)
                ));
            }
            continue;
        }
        seen.insert(d.child.name.clone(), d.child.is_dir);
        if d.child.lossy {
            // The name, not the URL: the page URL may carry credentials.
            problems.push(format!(
                "name `{}` is not UTF-8; invalid bytes were replaced with U+FFFD",
                clip(&d.child.name)
            ));
        }
        if format.promises_details() {
            let missing = [
                (d.stamp.is_none(), &mut no_date),
                (!d.child.is_dir && d.size.is_none(), &mut no_size),
            ];
            for (is_missing, (count, first)) in missing {
                if is_missing {
                    if *count == 0 {
                        *first = clip(&d.child.name);
                    }
                    *count += 1;
                }
            }
        }
        let (size, size_exact) = if d.child.is_dir {
            (Some(0), true)
        } else {
            match d.size {
                Some(s) => (Some(s.bytes), s.exact),
                None => (None, false),
            }
        };
        entries.push(IndexEntry {
            name: d.child.name,
            kind: if d.child.is_dir {
                Kind::Dir
            } else {
                Kind::File
            },
            size,
            size_exact,
            mtime: d.stamp.map(|s| s.mtime),
            precision: d.stamp.map_or(Precision::Unknown, |s| s.precision),
            url: d.child.url,
        });
    }
    for ((count, first), what) in [(no_date, "date"), (no_size, "size")] {
        if count > 0 {
            problems.push(format!(
                "{count} {format} row(s) have no readable {what} (first: `{first}`)"
            ));
        }
    }
    entries
}
