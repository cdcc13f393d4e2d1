//! `site=http://...` and `https://...`: a package's keywords resolved into an
//! [`HttpConfig`], and the [`HttpRemote`] that reads the site's index pages.
//!
//! - The tree is the URL's path joined with `remote_dir` (both plain text here; each
//!   segment is percent-encoded into the URL).
//! - Credentials: a user in the URL wins, else `remote_user`; the password comes from the
//!   URL, else `remote_password`. The default user `anonymous` (FTP's convention) sends no
//!   credentials at all: a public web server has no use for them.
//! - `timeout` bounds connecting and each read; `parallel` caps the requests in flight
//!   against the site (listing, `HEAD` and transfers alike).
//! - Wall-clock dates on index pages (Apache, lighttpd, nginx with `autoindex_localtime`)
//!   are read in `remote_timezone`, else UTC: the pages do not say, and nginx's default is
//!   GMT. `use_timelocal` does not apply (the mirror host's zone says nothing about the
//!   server's).
//! - A `HEAD` for an uncertain size or time is spent only on files the run may compare:
//!   not excluded (`exclude_patt`, `local_ignore`) and selected by `get_patt`.

use std::sync::Arc;

use mirror_config::{Package, Scheme, Site};
use mirror_remote::ftp::listing::ListTz;
use mirror_remote::http::index::IndexOptions;
use mirror_remote::http::{HttpConfig, HttpRemote, HttpSecret};
use mirror_remote::{PathPredicate, RelPath, Remote};

use crate::connect::ConnectError;
use crate::report::PackageStatus;
use crate::rules::{hits, selects};

/// The default `remote_user`, which means "no credentials" over HTTP.
const ANONYMOUS: &str = "anonymous";

/// Opens the package's HTTP(S) site. Connects lazily, on the first listing.
pub(crate) fn connect_http(pkg: &Package, site: &Site) -> Result<Arc<dyn Remote>, ConnectError> {
    let cfg = http_config(pkg, site)?;
    let remote = HttpRemote::new(cfg).map_err(|e| ConnectError {
        status: PackageStatus::ConnectError,
        message: e.to_string(),
    })?;
    Ok(Arc::new(remote))
}

/// Every keyword of `pkg` that concerns an HTTP(S) site, resolved (see the module doc).
pub fn http_config(pkg: &Package, site: &Site) -> Result<HttpConfig, ConnectError> {
    let config_error = |message: String| ConnectError {
        status: PackageStatus::ConfigError,
        message,
    };
    let scheme = match site.scheme {
        Scheme::Https => "https",
        _ => "http",
    };
    let host = site.host.trim();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let port = site.port.map(|p| format!(":{p}")).unwrap_or_default();
    let mut url: url::Url = format!("{scheme}://{host}{port}/")
        .parse()
        .map_err(|e| config_error(format!("site `{}`: {e}", pkg.site_text)))?;
    let mut path = String::from("/");
    for seg in pkg.remote_root().split('/').filter(|s| !s.is_empty()) {
        path.extend(percent_encoding::utf8_percent_encode(seg, SEGMENT));
        path.push('/');
    }
    url.set_path(&path);

    let mut cfg = HttpConfig::new(url);
    let user = site.user.clone().unwrap_or_else(|| pkg.remote_user.clone());
    if !user.is_empty() && user != ANONYMOUS {
        cfg.user = Some(user);
        cfg.password = HttpSecret(
            site.password
                .as_ref()
                .unwrap_or(&pkg.remote_password)
                .expose()
                .to_owned(),
        );
    }
    // mirror.pl's `timeout=0` would mean no deadline at all; a hung server then hangs the run.
    cfg.timeout = std::time::Duration::from_secs(pkg.timeout.max(1));
    cfg.max_parallel = pkg.parallel.max(1);
    let tz = pkg.remote_timezone.trim();
    cfg.index = IndexOptions {
        format: None,
        tz: if tz.is_empty() {
            jiff::tz::TimeZone::UTC
        } else {
            match ListTz::parse_zone(tz).map_err(|e| config_error(e.to_string()))? {
                ListTz::Zone(z) => z,
                ListTz::Utc | ListTz::Local => jiff::tz::TimeZone::UTC,
            }
        },
    };
    let exclude = pkg.exclude_patt.clone();
    let get = pkg.get_patt.clone();
    let refine: Arc<PathPredicate> = Arc::new(move |p: &RelPath| {
        !hits(exclude.as_ref(), p.as_str()) && selects(get.as_ref(), p.as_str())
    });
    cfg.refine = Some(refine);
    Ok(cfg)
}

/// Bytes percent-encoded in a path segment of the site URL: all but unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    fn site(scheme: Scheme, host: &str, port: Option<u16>, path: &str) -> Site {
        Site {
            scheme,
            host: host.into(),
            port,
            user: None,
            password: None,
            path: path.into(),
        }
    }

    #[test]
    fn http_sites_map_every_keyword() {
        let mut pkg = Package::builtin("p", "h", "user@host");
        let s = site(Scheme::Https, "www.example.org", Some(8443), "/pub dir/");
        pkg.remote_dir = "x/y".into();
        pkg.parallel = 3;
        pkg.timeout = 0;
        pkg.remote_timezone = "+05:30".into();
        pkg.site = Some(s.clone());
        let cfg = http_config(&pkg, &s).unwrap();
        assert_eq!(
            cfg.url.as_str(),
            "https://www.example.org:8443/pub%20dir/x/y/"
        );
        // The default user sends no credentials.
        assert_eq!(cfg.user, None);
        assert_eq!(cfg.max_parallel, 3);
        assert_eq!(cfg.timeout, std::time::Duration::from_secs(1));
        assert_eq!(
            cfg.index.tz,
            jiff::tz::TimeZone::fixed(jiff::tz::offset(5) + jiff::SignedDuration::from_mins(30))
        );
        pkg.remote_timezone = "Mars/Olympus".into();
        assert!(http_config(&pkg, &s).is_err());
    }

    #[test]
    fn credentials_come_from_the_url_first() {
        let mut pkg = Package::builtin("p", "h", "pw");
        let mut s = site(Scheme::Http, "127.0.0.1", None, "");
        pkg.remote_user = "alice".into();
        pkg.remote_password = mirror_config::Secret::new("from-keyword");
        let cfg = http_config(&pkg, &s).unwrap();
        assert_eq!(cfg.url.as_str(), "http://127.0.0.1/");
        assert_eq!(cfg.user.as_deref(), Some("alice"));
        assert_eq!(cfg.password, HttpSecret("from-keyword".into()));
        s.user = Some("bob".into());
        s.password = Some(mirror_config::Secret::new("from-url"));
        let cfg = http_config(&pkg, &s).unwrap();
        assert_eq!(cfg.user.as_deref(), Some("bob"));
        assert_eq!(cfg.password, HttpSecret("from-url".into()));
        assert!(!format!("{cfg:?}").contains("from-url"));
    }

    #[test]
    fn only_compared_files_get_a_head() {
        let mut pkg = Package::builtin("p", "h", "pw");
        let pat = |s: &str| mirror_config::Pattern {
            source: s.into(),
            regex: fancy_regex::Regex::new(s).unwrap(),
        };
        pkg.exclude_patt = Some(pat(r"^tmp/"));
        pkg.get_patt = Some(pat(r"\.tar\.gz$"));
        let s = site(Scheme::Http, "h", None, "/");
        let cfg = http_config(&pkg, &s).unwrap();
        let refine = cfg.refine.unwrap();
        let p = |s: &str| RelPath::new(s).unwrap();
        assert!(refine(&p("pub/a.tar.gz")));
        assert!(!refine(&p("tmp/a.tar.gz")));
        assert!(!refine(&p("pub/a.zip")));
    }

    #[test]
    fn ipv6_hosts_get_brackets() {
        let pkg = Package::builtin("p", "h", "pw");
        let s = site(Scheme::Http, "::1", Some(8080), "/");
        assert_eq!(
            http_config(&pkg, &s).unwrap().url.as_str(),
            "http://[::1]:8080/"
        );
    }
}
