//! Tests against pages saved from real servers (`tests/data/http-index/`, made by its
//! `make-pages.sh` from one fixture tree), hostile pages, and arbitrary input.
//!
//! Each table lists what the page must yield, sorted by name: name, kind (`f`/`d`), size,
//! whether the size is exact, mtime, precision. The fixture's true values are in
//! `make-pages.sh`; where a table differs from them, the page says less (minutes, humanized
//! sizes) or the server hides an entry (nginx and lighttpd hide dotfiles, rclone skips
//! symlinks).

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;
use crate::Precision::{Minute, Second, Unknown};

/// 1999-12-31 23:59:59 UTC: `old.txt`.
const T0: i64 = 946_684_799;
/// 2024-01-02 03:04:05 UTC: most files, `link.txt`'s target, `inner.txt`.
const T1: i64 = 1_704_164_645;
/// 2024-06-15 12:34:56 UTC: `mid.bin`, `big.bin` and every directory.
const T2: i64 = 1_718_454_896;
/// The same, cut to the minute.
const T0M: i64 = T0 - 59;
const T1M: i64 = T1 - 5;
const T2M: i64 = T2 - 56;
/// 5 GiB + 1 byte, and 5 GiB as "5.0G"/"5G" show it.
const BIG: u64 = 5_368_709_121;
const BIG_ABOUT: u64 = 5 << 30;

/// name, kind, size, size exact, mtime, precision.
type Want = (
    &'static str,
    char,
    Option<u64>,
    bool,
    Option<i64>,
    Precision,
);

/// Apache with FancyIndexing (pre, table, Debian's config): minutes; sizes exact below
/// 1 KiB, humanized above.
const APACHE_FANCY: &[Want] = &[
    (".hidden", 'f', Some(1), true, Some(T1M), Minute),
    ("100%.txt", 'f', Some(4), true, Some(T1M), Minute),
    ("a&b.txt", 'f', Some(3), true, Some(T1M), Minute),
    (
        "a-very-long-file-name-that-is-longer-than-fifty-characters.txt",
        'f',
        Some(11),
        true,
        Some(T1M),
        Minute,
    ),
    ("big.bin", 'f', Some(BIG_ABOUT), false, Some(T2M), Minute),
    ("deep", 'd', Some(0), true, Some(T2M), Minute),
    ("dir with space", 'd', Some(0), true, Some(T2M), Minute),
    ("empty", 'd', Some(0), true, Some(T2M), Minute),
    ("hash#1.txt", 'f', Some(9), true, Some(T1M), Minute),
    ("link.txt", 'f', Some(12), true, Some(T1M), Minute),
    ("mid.bin", 'f', Some(1536), false, Some(T2M), Minute),
    ("old.txt", 'f', Some(13), true, Some(T0M), Minute),
    ("plain.txt", 'f', Some(12), true, Some(T1M), Minute),
    ("q?.txt", 'f', Some(10), true, Some(T1M), Minute),
    ("say \"hi\".txt", 'f', Some(8), true, Some(T1M), Minute),
    ("with space.txt", 'f', Some(5), true, Some(T1M), Minute),
    ("x<y>.txt", 'f', Some(6), true, Some(T1M), Minute),
    ("ünïcödé.txt", 'f', Some(7), true, Some(T1M), Minute),
];

/// Names only: Apache without FancyIndexing, Python's http.server.
const NAMES_ONLY: &[Want] = &[
    (".hidden", 'f', None, false, None, Unknown),
    ("100%.txt", 'f', None, false, None, Unknown),
    ("a&b.txt", 'f', None, false, None, Unknown),
    (
        "a-very-long-file-name-that-is-longer-than-fifty-characters.txt",
        'f',
        None,
        false,
        None,
        Unknown,
    ),
    ("big.bin", 'f', None, false, None, Unknown),
    ("deep", 'd', Some(0), true, None, Unknown),
    ("dir with space", 'd', Some(0), true, None, Unknown),
    ("empty", 'd', Some(0), true, None, Unknown),
    ("hash#1.txt", 'f', None, false, None, Unknown),
    ("link.txt", 'f', None, false, None, Unknown),
    ("mid.bin", 'f', None, false, None, Unknown),
    ("old.txt", 'f', None, false, None, Unknown),
    ("plain.txt", 'f', None, false, None, Unknown),
    ("q?.txt", 'f', None, false, None, Unknown),
    ("say \"hi\".txt", 'f', None, false, None, Unknown),
    ("with space.txt", 'f', None, false, None, Unknown),
    ("x<y>.txt", 'f', None, false, None, Unknown),
    ("ünïcödé.txt", 'f', None, false, None, Unknown),
];

/// nginx HTML: minutes, exact sizes, no dotfiles.
const NGINX_HTML: &[Want] = &[
    ("100%.txt", 'f', Some(4), true, Some(T1M), Minute),
    ("a&b.txt", 'f', Some(3), true, Some(T1M), Minute),
    (
        "a-very-long-file-name-that-is-longer-than-fifty-characters.txt",
        'f',
        Some(11),
        true,
        Some(T1M),
        Minute,
    ),
    ("big.bin", 'f', Some(BIG), true, Some(T2M), Minute),
    ("deep", 'd', Some(0), true, Some(T2M), Minute),
    ("dir with space", 'd', Some(0), true, Some(T2M), Minute),
    ("empty", 'd', Some(0), true, Some(T2M), Minute),
    ("hash#1.txt", 'f', Some(9), true, Some(T1M), Minute),
    ("link.txt", 'f', Some(12), true, Some(T1M), Minute),
    ("mid.bin", 'f', Some(1536), true, Some(T2M), Minute),
    ("old.txt", 'f', Some(13), true, Some(T0M), Minute),
    ("plain.txt", 'f', Some(12), true, Some(T1M), Minute),
    ("q?.txt", 'f', Some(10), true, Some(T1M), Minute),
    ("say \"hi\".txt", 'f', Some(8), true, Some(T1M), Minute),
    ("with space.txt", 'f', Some(5), true, Some(T1M), Minute),
    ("x<y>.txt", 'f', Some(6), true, Some(T1M), Minute),
    ("ünïcödé.txt", 'f', Some(7), true, Some(T1M), Minute),
];

/// nginx JSON and XML: seconds, exact sizes, no dotfiles.
const NGINX_STRUCTURED: &[Want] = &[
    ("100%.txt", 'f', Some(4), true, Some(T1), Second),
    ("a&b.txt", 'f', Some(3), true, Some(T1), Second),
    (
        "a-very-long-file-name-that-is-longer-than-fifty-characters.txt",
        'f',
        Some(11),
        true,
        Some(T1),
        Second,
    ),
    ("big.bin", 'f', Some(BIG), true, Some(T2), Second),
    ("deep", 'd', Some(0), true, Some(T2), Second),
    ("dir with space", 'd', Some(0), true, Some(T2), Second),
    ("empty", 'd', Some(0), true, Some(T2), Second),
    ("hash#1.txt", 'f', Some(9), true, Some(T1), Second),
    ("link.txt", 'f', Some(12), true, Some(T1), Second),
    ("mid.bin", 'f', Some(1536), true, Some(T2), Second),
    ("old.txt", 'f', Some(13), true, Some(T0), Second),
    ("plain.txt", 'f', Some(12), true, Some(T1), Second),
    ("q?.txt", 'f', Some(10), true, Some(T1), Second),
    ("say \"hi\".txt", 'f', Some(8), true, Some(T1), Second),
    ("with space.txt", 'f', Some(5), true, Some(T1), Second),
    ("x<y>.txt", 'f', Some(6), true, Some(T1), Second),
    ("ünïcödé.txt", 'f', Some(7), true, Some(T1), Second),
];

/// lighttpd: seconds; every size humanized (12 bytes show as "0.1K"); no dotfiles.
const LIGHTTPD: &[Want] = &[
    ("100%.txt", 'f', Some(102), false, Some(T1), Second),
    ("a&b.txt", 'f', Some(102), false, Some(T1), Second),
    (
        "a-very-long-file-name-that-is-longer-than-fifty-characters.txt",
        'f',
        Some(102),
        false,
        Some(T1),
        Second,
    ),
    ("big.bin", 'f', Some(BIG_ABOUT), false, Some(T2), Second),
    ("deep", 'd', Some(0), true, Some(T2), Second),
    ("dir with space", 'd', Some(0), true, Some(T2), Second),
    ("empty", 'd', Some(0), true, Some(T2), Second),
    ("hash#1.txt", 'f', Some(102), false, Some(T1), Second),
    ("link.txt", 'f', Some(102), false, Some(T1), Second),
    ("mid.bin", 'f', Some(1536), false, Some(T2), Second),
    ("old.txt", 'f', Some(102), false, Some(T0), Second),
    ("plain.txt", 'f', Some(102), false, Some(T1), Second),
    ("q?.txt", 'f', Some(102), false, Some(T1), Second),
    ("say \"hi\".txt", 'f', Some(102), false, Some(T1), Second),
    ("with space.txt", 'f', Some(102), false, Some(T1), Second),
    ("x<y>.txt", 'f', Some(102), false, Some(T1), Second),
    ("ünïcödé.txt", 'f', Some(102), false, Some(T1), Second),
];

/// Caddy, HTML and JSON, both versions: seconds, exact sizes, everything.
const CADDY: &[Want] = &[
    (".hidden", 'f', Some(1), true, Some(T1), Second),
    ("100%.txt", 'f', Some(4), true, Some(T1), Second),
    ("a&b.txt", 'f', Some(3), true, Some(T1), Second),
    (
        "a-very-long-file-name-that-is-longer-than-fifty-characters.txt",
        'f',
        Some(11),
        true,
        Some(T1),
        Second,
    ),
    ("big.bin", 'f', Some(BIG), true, Some(T2), Second),
    ("deep", 'd', Some(0), true, Some(T2), Second),
    ("dir with space", 'd', Some(0), true, Some(T2), Second),
    ("empty", 'd', Some(0), true, Some(T2), Second),
    ("hash#1.txt", 'f', Some(9), true, Some(T1), Second),
    ("link.txt", 'f', Some(12), true, Some(T1), Second),
    ("mid.bin", 'f', Some(1536), true, Some(T2), Second),
    ("old.txt", 'f', Some(13), true, Some(T0), Second),
    ("plain.txt", 'f', Some(12), true, Some(T1), Second),
    ("q?.txt", 'f', Some(10), true, Some(T1), Second),
    ("say \"hi\".txt", 'f', Some(8), true, Some(T1), Second),
    ("with space.txt", 'f', Some(5), true, Some(T1), Second),
    ("x<y>.txt", 'f', Some(6), true, Some(T1), Second),
    ("ünïcödé.txt", 'f', Some(7), true, Some(T1), Second),
];

/// rclone: seconds, exact sizes; symlinks are skipped by `rclone serve` without `-L`.
const RCLONE: &[Want] = &[
    (".hidden", 'f', Some(1), true, Some(T1), Second),
    ("100%.txt", 'f', Some(4), true, Some(T1), Second),
    ("a&b.txt", 'f', Some(3), true, Some(T1), Second),
    (
        "a-very-long-file-name-that-is-longer-than-fifty-characters.txt",
        'f',
        Some(11),
        true,
        Some(T1),
        Second,
    ),
    ("big.bin", 'f', Some(BIG), true, Some(T2), Second),
    ("deep", 'd', Some(0), true, Some(T2), Second),
    ("dir with space", 'd', Some(0), true, Some(T2), Second),
    ("empty", 'd', Some(0), true, Some(T2), Second),
    ("hash#1.txt", 'f', Some(9), true, Some(T1), Second),
    ("mid.bin", 'f', Some(1536), true, Some(T2), Second),
    ("old.txt", 'f', Some(13), true, Some(T0), Second),
    ("plain.txt", 'f', Some(12), true, Some(T1), Second),
    ("q?.txt", 'f', Some(10), true, Some(T1), Second),
    ("say \"hi\".txt", 'f', Some(8), true, Some(T1), Second),
    ("with space.txt", 'f', Some(5), true, Some(T1), Second),
    ("x<y>.txt", 'f', Some(6), true, Some(T1), Second),
    ("ünïcödé.txt", 'f', Some(7), true, Some(T1), Second),
];

fn saved(file: &str) -> String {
    let path = format!(
        "{}/tests/data/http-index/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn parse_with(page: &str, page_url: &str, ct: Option<&str>, opts: &IndexOptions) -> IndexPage {
    let p = parse_index(page, &url(page_url), ct, opts);
    check_invariants(&p, &url(page_url));
    p
}

/// What every result must satisfy, whatever the input.
fn check_invariants(p: &IndexPage, page_url: &Url) {
    let dir = link::Dir::new(page_url);
    let mut names = std::collections::HashSet::new();
    for e in &p.entries {
        assert!(names.insert(e.name.clone()), "{} twice", e.name);
        assert!(
            !e.name.is_empty() && e.name != "." && e.name != ".." && !e.name.contains(['/', '\0']),
            "{e:?}"
        );
        crate::RelPath::root().join(&e.name).unwrap();
        assert!(matches!(e.kind, Kind::File | Kind::Dir), "{e:?}");
        assert_eq!(e.mtime.is_none(), e.precision == Unknown, "{e:?}");
        if e.kind == Kind::Dir {
            assert_eq!((e.size, e.size_exact), (Some(0), true), "{e:?}");
        }
        // The URL leads back to the same child: nothing outside the directory.
        match dir.classify(e.url.as_str()) {
            link::Link::Child(c) => {
                assert_eq!(c.is_dir, e.kind == Kind::Dir, "{e:?}");
                assert_eq!(c.name, e.name, "{e:?}");
            }
            other => panic!("{e:?} -> {other:?}"),
        }
    }
}

/// A result row as owned values, for comparison with a [`Want`].
type Got = (String, char, Option<u64>, bool, Option<i64>, Precision);

fn table(p: &IndexPage) -> Vec<Got> {
    let mut got: Vec<Got> = p
        .entries
        .iter()
        .map(|e| {
            (
                e.name.clone(),
                e.kind.letter(),
                e.size,
                e.size_exact,
                e.mtime,
                e.precision,
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    got
}

fn owned(want: &[Want]) -> Vec<Got> {
    want.iter()
        .map(|&(n, k, s, x, t, p)| (n.to_owned(), k, s, x, t, p))
        .collect()
}

/// Parses a saved page served at `page_url` and checks format, entries and no problems.
fn check_saved(file: &str, page_url: &str, ct: Option<&str>, format: IndexFormat, want: &[Want]) {
    let p = parse_with(&saved(file), page_url, ct, &IndexOptions::default());
    assert_eq!(p.format, format, "{file}");
    assert_eq!(p.problems, Vec::<String>::new(), "{file}");
    let got = table(&p);
    assert_eq!(got.len(), want.len(), "{file}: {got:#?}");
    for (g, w) in got.iter().zip(owned(want)) {
        assert_eq!(*g, w, "{file}");
    }
    // The hint gives the same answer as detection.
    let hinted = parse_with(
        &saved(file),
        page_url,
        None,
        &IndexOptions {
            format: Some(format),
            ..IndexOptions::default()
        },
    );
    assert_eq!(hinted, p, "{file} with hint");
}

/// A subdirectory page: `dir with space/` holds one file of 2 bytes at T1.
fn check_sub(file: &str, page_url: &str, format: IndexFormat, want: Want) {
    check_saved(file, page_url, None, format, &[want]);
}

const H: &str = "http://127.0.0.1:8080";

#[test]
fn apache_fancy_pre() {
    check_saved(
        "apache-fancy.html",
        &format!("{H}/fancy/"),
        None,
        IndexFormat::ApachePre,
        APACHE_FANCY,
    );
    check_sub(
        "apache-fancy-sub.html",
        &format!("{H}/fancy/dir%20with%20space/"),
        IndexFormat::ApachePre,
        ("inner.txt", 'f', Some(2), true, Some(T1M), Minute),
    );
}

#[test]
fn apache_html_table() {
    check_saved(
        "apache-table.html",
        &format!("{H}/table/"),
        None,
        IndexFormat::ApacheTable,
        APACHE_FANCY,
    );
}

#[test]
fn apache_debian_defaults() {
    check_saved(
        "apache-debian.html",
        &format!("{H}/debian/"),
        None,
        IndexFormat::ApacheTable,
        APACHE_FANCY,
    );
    check_sub(
        "apache-debian-sub.html",
        &format!("{H}/debian/dir%20with%20space/"),
        IndexFormat::ApacheTable,
        ("inner.txt", 'f', Some(2), true, Some(T1M), Minute),
    );
    // Entries keep page order: VersionSort puts the UTF-8 name first.
    let p = parse_with(
        &saved("apache-debian.html"),
        &format!("{H}/debian/"),
        None,
        &IndexOptions::default(),
    );
    assert_eq!(p.entries[0].name, "ünïcödé.txt");
    assert_eq!(
        p.entries[0].url.as_str(),
        format!("{H}/debian/%c3%bcn%c3%afc%c3%b6d%c3%a9.txt")
    );
}

#[test]
fn apache_plain_list() {
    check_saved(
        "apache-list.html",
        &format!("{H}/list/"),
        None,
        IndexFormat::ApacheList,
        NAMES_ONLY,
    );
}

#[test]
fn nginx_html() {
    check_saved(
        "nginx-html.html",
        &format!("{H}/html/"),
        None,
        IndexFormat::NginxHtml,
        NGINX_HTML,
    );
    check_sub(
        "nginx-html-sub.html",
        &format!("{H}/html/dir%20with%20space/"),
        IndexFormat::NginxHtml,
        ("inner.txt", 'f', Some(2), true, Some(T1M), Minute),
    );
}

#[test]
fn nginx_html_humanized_sizes() {
    // `autoindex_exact_size off` rounds only from 10000 bytes up ("5G"); smaller sizes stay
    // exact.
    let want: Vec<Want> = NGINX_HTML
        .iter()
        .map(|w| match w.0 {
            "big.bin" => ("big.bin", 'f', Some(BIG_ABOUT), false, w.4, w.5),
            _ => *w,
        })
        .collect();
    check_saved(
        "nginx-html-approx.html",
        &format!("{H}/html-approx/"),
        None,
        IndexFormat::NginxHtml,
        &want,
    );
}

#[test]
fn nginx_html_local_time_needs_the_servers_offset() {
    let page = saved("nginx-html-localtime-berlin.html");
    let at = format!("{H}/html-local/");
    // nginx shifts every date by the offset in force *when the page is made* (here CET,
    // +01:00), not by the offset at each file's date. So the right zone is that fixed
    // offset; summer dates read with Berlin's rules come out an hour early.
    let cet = IndexOptions {
        tz: TimeZone::fixed(jiff::tz::Offset::from_seconds(3600).unwrap()),
        ..IndexOptions::default()
    };
    assert_eq!(
        table(&parse_with(&page, &at, None, &cet)),
        owned(NGINX_HTML)
    );
    let berlin = IndexOptions {
        tz: TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap(),
        ..IndexOptions::default()
    };
    let p = parse_with(&page, &at, None, &berlin);
    let big = p.entries.iter().find(|e| e.name == "big.bin").unwrap();
    assert_eq!(big.mtime, Some(T2M - 3600));
    let plain = p.entries.iter().find(|e| e.name == "plain.txt").unwrap();
    assert_eq!(plain.mtime, Some(T1M));
    // Read as UTC, every time is an hour late.
    let utc = parse_with(&page, &at, None, &IndexOptions::default());
    assert!(utc.entries.iter().all(|e| {
        e.mtime
            .is_some_and(|t| t == T0M + 3600 || t == T1M + 3600 || t == T2M + 3600)
    }));
}

#[test]
fn nginx_json() {
    let at = format!("{H}/json/");
    check_saved(
        "nginx-json.json",
        &at,
        Some("application/json"),
        IndexFormat::NginxJson,
        NGINX_STRUCTURED,
    );
    // Sniffed without a Content-Type, too.
    let p = parse_with(
        &saved("nginx-json.json"),
        &at,
        None,
        &IndexOptions::default(),
    );
    assert_eq!((p.format, p.entries.len()), (IndexFormat::NginxJson, 17));
    let q = p.entries.iter().find(|e| e.name == "q?.txt").unwrap();
    assert_eq!(q.url.as_str(), format!("{H}/json/q%3F.txt"));
}

#[test]
fn nginx_xml() {
    let at = format!("{H}/xml/");
    check_saved(
        "nginx-xml.xml",
        &at,
        Some("text/xml"),
        IndexFormat::NginxXml,
        NGINX_STRUCTURED,
    );
    let p = parse_with(&saved("nginx-xml.xml"), &at, None, &IndexOptions::default());
    assert_eq!((p.format, p.entries.len()), (IndexFormat::NginxXml, 17));
}

#[test]
fn lighttpd() {
    check_saved(
        "lighttpd.html",
        &format!("{H}/"),
        None,
        IndexFormat::Lighttpd,
        LIGHTTPD,
    );
    check_sub(
        "lighttpd-sub.html",
        &format!("{H}/dir%20with%20space/"),
        IndexFormat::Lighttpd,
        ("inner.txt", 'f', Some(102), false, Some(T1), Second),
    );
}

#[test]
fn caddy_html_and_json() {
    for v in ["2.6.2", "2.11.7"] {
        check_saved(
            &format!("caddy-{v}.html"),
            &format!("{H}/"),
            None,
            IndexFormat::Caddy,
            CADDY,
        );
        check_saved(
            &format!("caddy-{v}.json"),
            &format!("{H}/"),
            Some("application/json"),
            IndexFormat::CaddyJson,
            CADDY,
        );
        check_sub(
            &format!("caddy-{v}-sub.html"),
            &format!("{H}/dir%20with%20space/"),
            IndexFormat::Caddy,
            ("inner.txt", 'f', Some(2), true, Some(T1), Second),
        );
    }
}

#[test]
fn python_http_server() {
    check_saved(
        "python-http-server.html",
        &format!("{H}/"),
        None,
        IndexFormat::PythonHttpServer,
        NAMES_ONLY,
    );
    check_sub(
        "python-http-server-sub.html",
        &format!("{H}/dir%20with%20space/"),
        IndexFormat::PythonHttpServer,
        ("inner.txt", 'f', None, false, None, Unknown),
    );
}

#[test]
fn rclone_serve_http() {
    check_saved(
        "rclone.html",
        &format!("{H}/"),
        None,
        IndexFormat::Rclone,
        RCLONE,
    );
    check_sub(
        "rclone-sub.html",
        &format!("{H}/dir%20with%20space/"),
        IndexFormat::Rclone,
        ("inner.txt", 'f', Some(2), true, Some(T1), Second),
    );
}

#[test]
fn a_page_served_elsewhere_still_lists_its_relative_links() {
    // The same nginx page read at another path: relative links follow the page, the
    // absolute parent link does not matter.
    let p = parse_with(
        &saved("nginx-html.html"),
        "https://mirror.example/pub/linux",
        None,
        &IndexOptions::default(),
    );
    assert_eq!(table(&p), owned(NGINX_HTML));
    assert!(p.entries.iter().all(|e| {
        e.url
            .as_str()
            .starts_with("https://mirror.example/pub/linux/")
    }));
}

#[test]
fn hostile_links_never_become_entries() {
    let page = r#"<html><head><title>Index of /pub/</title></head><body><pre>
<a href="../x">../x</a>                 02-Jan-2024 03:04    1
<a href="/etc/passwd">passwd</a>        02-Jan-2024 03:04    1
<a href="http://evil.example/pub/x">x</a>   02-Jan-2024 03:04    1
<a href="//evil.example/pub/y">y</a>    02-Jan-2024 03:04    1
<a href="https://127.0.0.1:8080/pub/z">z</a> 02-Jan-2024 03:04  1
<a href="http://127.0.0.1:8081/pub/z">z</a>  02-Jan-2024 03:04  1
<a href="%2e%2e/x">%2e%2e/x</a>         02-Jan-2024 03:04    1
<a href=".%2E/%2e%2e/etc/passwd">p</a>  02-Jan-2024 03:04    1
<a href="a%2Fb">a%2Fb</a>               02-Jan-2024 03:04    1
<a href="..%2Fx">..%2Fx</a>             02-Jan-2024 03:04    1
<a href="a%00b">a%00b</a>               02-Jan-2024 03:04    1
<a href="x#frag">x#frag</a>             02-Jan-2024 03:04    1
<a href="?C=M;O=A">sort</a>
<a href="javascript:alert(1)">js</a>
<a href="file:///etc/passwd">file</a>
<a href="data:text/plain,x">data</a>
<a href="sub/deeper.txt">deeper</a>     02-Jan-2024 03:04    1
<a href="ok.txt">ok.txt</a>             02-Jan-2024 03:04    1
<a href="ok-dir/">ok-dir/</a>           02-Jan-2024 03:04    -
</pre></body></html>"#;
    let p = parse_with(
        page,
        "http://127.0.0.1:8080/pub/",
        None,
        &IndexOptions::default(),
    );
    // The sort link alone makes it look like Apache; both read rows alike.
    assert_eq!(p.format, IndexFormat::ApachePre);
    assert_eq!(
        table(&p),
        owned(&[
            ("ok-dir", 'd', Some(0), true, Some(T1M), Minute),
            ("ok.txt", 'f', Some(1), true, Some(T1M), Minute),
        ])
    );
    assert_eq!(p.problems.len(), 3, "{:#?}", p.problems);
    for (problem, href) in p.problems.iter().zip(["a%2Fb", "..%2Fx", "a%00b"]) {
        assert!(problem.contains(href), "{problem}");
    }
}

#[test]
fn hostile_names_in_json_and_xml() {
    let json = r#"[
        {"name":"../x","type":"file","mtime":"Tue, 02 Jan 2024 03:04:05 GMT","size":1},
        {"name":"a/b","type":"file","size":1},
        {"name":"..","type":"directory"},
        {"name":"","type":"file"},
        {"name":"fifo","type":"other"},
        {"type":"file"},
        {"name":"ok","type":"file","mtime":"not a date","size":-5},
        "garbage", 17, null
    ]"#;
    let p = parse_with(json, "http://h/d/", None, &IndexOptions::default());
    assert_eq!(p.format, IndexFormat::NginxJson);
    assert_eq!(table(&p), owned(&[("ok", 'f', None, false, None, Unknown)]));
    assert_eq!(p.problems.len(), 9, "{:#?}", p.problems);

    let caddy = r#"[{"name":"x","url":"../x","is_dir":false},{"name":"y","url":"http://evil.example/d/y"},
        {"name":"z","url":"./z/","is_dir":false},{"name":"w/","is_dir":true,"mod_time":"2024-06-15T12:34:56Z"}]"#;
    let p = parse_with(
        caddy,
        "http://h/d/",
        Some("application/json"),
        &IndexOptions::default(),
    );
    assert_eq!(p.format, IndexFormat::CaddyJson);
    assert_eq!(
        table(&p),
        owned(&[("w", 'd', Some(0), true, Some(T2), Second)])
    );
    assert_eq!(p.problems.len(), 1, "{:#?}", p.problems);

    let xml = r#"<?xml version="1.0"?><list><file size="1">../x</file><file>a/b</file>
        <directory>..</directory><other>sock</other><file size="3" mtime="2024-01-02T03:04:05Z">ok &amp; fine</file>
        <file>unclosed"#;
    let p = parse_with(xml, "http://h/d/", None, &IndexOptions::default());
    assert_eq!(p.format, IndexFormat::NginxXml);
    assert_eq!(
        table(&p),
        owned(&[("ok & fine", 'f', Some(3), true, Some(T1), Second)])
    );
    assert_eq!(p.problems.len(), 5, "{:#?}", p.problems);

    for (body, ct) in [
        ("{\"a\":1}", None),
        ("[1, 2", None),
        ("null", Some("application/json")),
    ] {
        let p = parse_with(body, "http://h/d/", ct, &IndexOptions::default());
        assert!(p.entries.is_empty());
        assert_eq!(p.problems.len(), usize::from(body != "null"), "{body}");
    }
}

#[test]
fn file_and_directory_of_one_name_keep_the_first() {
    let page = r#"<a href="x">x</a> <a href="x/">x/</a> <a href="x">again</a> <a href="y">y</a>"#;
    let p = parse_with(page, "http://h/", None, &IndexOptions::default());
    assert_eq!(p.format, IndexFormat::Generic);
    assert_eq!(
        table(&p),
        owned(&[
            ("x", 'f', None, false, None, Unknown),
            ("y", 'f', None, false, None, Unknown)
        ])
    );
    assert_eq!(p.problems.len(), 1, "{:#?}", p.problems);
}

#[test]
fn problems_never_show_the_page_urls_credentials() {
    let page = r#"<a href="caf%E9">x</a><a href="a%2Fb">y</a><a href="z">z</a>"#;
    let p = parse_with(
        page,
        "http://user:secret@h/d/",
        None,
        &IndexOptions::default(),
    );
    assert_eq!(p.entries.len(), 2);
    assert_eq!(p.problems.len(), 2, "{:#?}", p.problems);
    assert!(
        p.problems.iter().all(|m| !m.contains("secret")),
        "{:#?}",
        p.problems
    );
}

#[test]
fn generic_pages_give_names_only() {
    // A hand-made page: numbers and dates around links mean nothing here.
    let page = r##"<!DOCTYPE html><html><head><title>Downloads</title><base href="http://evil.example/"></head>
        <body><p>Release <a href="v1.2.tar.gz">v1.2</a> 2024-01-02 03:04 12 MB</p>
        <p><a href="docs/">Documentation</a> and <a href="https://other.example/">elsewhere</a>.
        <img src="logo.png"><a href="#top">top</a></p></body></html>"##;
    let p = parse_with(page, "http://h/files/", None, &IndexOptions::default());
    assert_eq!(p.format, IndexFormat::Generic);
    assert_eq!(
        table(&p),
        owned(&[
            ("docs", 'd', Some(0), true, None, Unknown),
            ("v1.2.tar.gz", 'f', None, false, None, Unknown),
        ])
    );
    assert!(p.problems.is_empty());
}

#[test]
fn rows_missing_their_details_are_reported() {
    let page = "<title>Index of /</title><pre><a href=\"?C=N;O=D\">Name</a>\n\
        <a href=\"a\">a</a>  2024-01-02 03:04  ??\n<a href=\"b\">b</a>  sometime  1\n\
        <a href=\"c/\">c/</a>  2024-01-02 03:04  -\n</pre>";
    let p = parse_with(page, "http://h/", None, &IndexOptions::default());
    assert_eq!(p.format, IndexFormat::ApachePre);
    assert_eq!(
        table(&p),
        owned(&[
            ("a", 'f', None, false, Some(T1M), Minute),
            ("b", 'f', None, false, None, Unknown),
            ("c", 'd', Some(0), true, Some(T1M), Minute),
        ])
    );
    assert_eq!(
        p.problems,
        vec![
            "1 apache-pre row(s) have no readable date (first: `b`)",
            "2 apache-pre row(s) have no readable size (first: `a`)",
        ]
    );
}

#[test]
fn a_hint_for_another_body_reports_instead_of_guessing() {
    let opts = IndexOptions {
        format: Some(IndexFormat::NginxJson),
        ..IndexOptions::default()
    };
    let p = parse_with(
        &saved("nginx-html.html"),
        &format!("{H}/html/"),
        None,
        &opts,
    );
    assert_eq!(p.format, IndexFormat::NginxJson);
    assert!(p.entries.is_empty());
    assert_eq!(p.problems.len(), 1);
    // An HTML hint on an HTML page of another server reads rows its way: Python's page has
    // no dates, so "Apache" rows come out bare and are reported.
    let opts = IndexOptions {
        format: Some(IndexFormat::ApachePre),
        ..IndexOptions::default()
    };
    let p = parse_with(
        &saved("python-http-server-sub.html"),
        &format!("{H}/dir%20with%20space/"),
        None,
        &opts,
    );
    assert_eq!(p.format, IndexFormat::ApachePre);
    assert_eq!(p.entries.len(), 1);
    assert_eq!(
        p.problems,
        vec![
            "1 apache-pre row(s) have no readable date (first: `inner.txt`)",
            "1 apache-pre row(s) have no readable size (first: `inner.txt`)",
        ]
    );
}

#[test]
fn content_type_decides_the_body() {
    let at = "http://h/d/";
    let o = IndexOptions::default();
    // An HTML Content-Type wins over a body that looks like JSON.
    let p = parse_with(
        "[<a href=x>x</a>]",
        at,
        Some("text/html; charset=utf-8"),
        &o,
    );
    assert_eq!((p.format, p.entries.len()), (IndexFormat::Generic, 1));
    let p = parse_with("[<a href=x>x</a>]", at, None, &o);
    assert_eq!(p.format, IndexFormat::NginxJson);
    // XHTML is HTML, even with an XML prolog.
    let xhtml = "<?xml version=\"1.0\"?><html><body><a href=\"x\">x</a></body></html>";
    let p = parse_with(xhtml, at, Some("application/xhtml+xml"), &o);
    assert_eq!((p.format, p.entries.len()), (IndexFormat::Generic, 1));
    let p = parse_with(xhtml, at, None, &o);
    assert_eq!((p.format, p.entries.len()), (IndexFormat::Generic, 1));
}

#[test]
fn format_names_round_trip() {
    for f in IndexFormat::ALL {
        assert_eq!(f.as_str().parse::<IndexFormat>(), Ok(f));
        assert_eq!(f.to_string(), f.as_str());
    }
    assert!("Apache".parse::<IndexFormat>().is_err());
}

#[test]
fn exact_size_only_when_exact() {
    let p = parse_with(
        &saved("apache-fancy.html"),
        &format!("{H}/fancy/"),
        None,
        &IndexOptions::default(),
    );
    let get = |n: &str| p.entries.iter().find(|e| e.name == n).unwrap().exact_size();
    assert_eq!(get("plain.txt"), Some(12));
    assert_eq!(get("big.bin"), None);
    assert_eq!(get("deep"), Some(0));
}

#[test]
fn entries_become_listing_entries_under_their_directory() {
    let p = parse_with(
        &saved("apache-fancy-sub.html"),
        &format!("{H}/fancy/dir%20with%20space/"),
        None,
        &IndexOptions::default(),
    );
    let dir = crate::RelPath::new("dir with space").unwrap();
    let e = p.entries[0].clone().into_entry(&dir).unwrap();
    assert_eq!(e.path.as_str(), "dir with space/inner.txt");
    assert_eq!(
        (e.kind, e.size, e.mtime, e.precision, e.mode),
        (Kind::File, Some(2), Some(T1M), Minute, None)
    );
    // Estimated sizes do not survive: an entry's size is a byte count.
    let p = parse_with(
        &saved("lighttpd.html"),
        &format!("{H}/"),
        None,
        &IndexOptions::default(),
    );
    let big = p.entries.iter().find(|e| e.name == "big.bin").unwrap();
    let e = big.clone().into_entry(&crate::RelPath::root()).unwrap();
    assert_eq!((e.path.as_str(), e.size), ("big.bin", None));
}

/// An nginx-like page with `n` files.
fn big_page(n: usize) -> String {
    let mut page = String::from(
        "<html><head><title>Index of /big/</title></head><body><pre><a href=\"../\">../</a>\n",
    );
    for i in 0..n {
        page.push_str(&format!(
            "<a href=\"file-{i:06}%20x.txt\">file-{i:06} x.txt</a>   02-Jan-2024 03:04   {i}\n"
        ));
    }
    page.push_str("</pre></body></html>");
    page
}

#[test]
fn a_100k_link_page_parses_in_bounded_time() {
    let page = big_page(100_000);
    let start = Instant::now();
    let p = parse_with(&page, "http://h/big/", None, &IndexOptions::default());
    let took = start.elapsed();
    assert_eq!(p.format, IndexFormat::NginxHtml);
    assert_eq!(p.entries.len(), 100_000);
    assert_eq!(p.entries[99_999].name, "file-099999 x.txt");
    assert_eq!(p.entries[99_999].size, Some(99_999));
    // Linear work: about a second unoptimized on a busy 2-core machine. The bound only
    // catches a quadratic slip (which would take minutes).
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn pathological_markup_is_linear_and_harmless() {
    let o = IndexOptions::default();
    for page in [
        "<".repeat(200_000),
        "<a href=".repeat(50_000),
        "<a href=\"x\">".repeat(50_000),
        "<!--".repeat(50_000),
        "</".repeat(100_000),
        "<script>".to_owned() + &"</scrip".repeat(30_000),
        "<table><tr><td>".repeat(30_000),
        format!("<a href=\"{}\">x</a>", "%".repeat(100_000)),
        format!("<a href=\"{}\">x</a>", "a".repeat(100_000)),
        "\u{feff}   [".to_owned() + &"[".repeat(10_000),
    ] {
        let start = Instant::now();
        let p = parse_with(&page, "http://h/", None, &o);
        assert!(p.entries.len() <= 1);
        assert!(p.problems.iter().all(|m| m.len() < 1000));
        assert!(start.elapsed() < Duration::from_secs(30));
    }
}

/// HTML-ish fragments that exercise the tokenizer, the link rule and the row readers.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<a href=\"".to_owned()),
        Just("\">".to_owned()),
        Just("</a>".to_owned()),
        Just("<pre>".to_owned()),
        Just("</pre>".to_owned()),
        Just("<tr><td>".to_owned()),
        Just("</td></tr>".to_owned()),
        Just("<time datetime=\"2024-01-02T03:04:05Z\">".to_owned()),
        Just("<td data-order=\"12\">".to_owned()),
        Just("<title>Index of /</title>".to_owned()),
        Just("<size>".to_owned()),
        Just("<!--".to_owned()),
        Just("<script>".to_owned()),
        Just(" 02-Jan-2024 03:04 ".to_owned()),
        Just(" 2024-Jan-02 03:04:05 ".to_owned()),
        Just(" 1.5K ".to_owned()),
        Just("\n".to_owned()),
        Just("../".to_owned()),
        Just("%2e%2e/".to_owned()),
        Just("%2F".to_owned()),
        Just("&amp;".to_owned()),
        Just("?C=N;O=D".to_owned()),
        Just("http://evil.example/".to_owned()),
        "[a-z0-9/.%#?& -]{0,12}",
        any::<String>(),
    ]
}

proptest! {
    // No regression files: they would land outside this module's folder.
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn never_panics_and_never_escapes(parts in prop::collection::vec(fragment(), 0..40)) {
        let page: String = parts.concat();
        let at = url("http://h/d/");
        for ct in [None, Some("application/json"), Some("text/xml")] {
            check_invariants(&parse_index(&page, &at, ct, &IndexOptions::default()), &at);
        }
        for f in IndexFormat::ALL {
            let o = IndexOptions { format: Some(f), ..IndexOptions::default() };
            check_invariants(&parse_index(&page, &at, None, &o), &at);
        }
    }

    #[test]
    fn any_bytes_never_panic(page in any::<String>()) {
        let at = url("http://h/");
        check_invariants(&parse_index(&page, &at, None, &IndexOptions::default()), &at);
    }
}
