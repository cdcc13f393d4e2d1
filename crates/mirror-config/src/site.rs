//! `site` values: a bare host (FTP, as in mirror.pl) or a URL that selects the protocol; parsing,
//! validation, and a display form that never shows the password.

use std::fmt;

use crate::package::Secret;

/// The protocol a site is reached with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `ftp://` or a bare host.
    Ftp,
    /// `ftps://`: FTP with explicit TLS (AUTH TLS).
    Ftps,
    /// `http://`
    Http,
    /// `https://`
    Https,
    /// `sftp://`
    Sftp,
    /// `s3://bucket/prefix`
    S3,
    /// `file:///abs/path`
    File,
}

/// A parsed `site`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The protocol.
    pub scheme: Scheme,
    /// Host name or address (the bucket for S3, empty for `file://`).
    pub host: String,
    /// Port from the URL; `None` means the protocol's default (or `ftp_port` for FTP).
    pub port: Option<u16>,
    /// User from the URL, if any (percent-decoded).
    pub user: Option<String>,
    /// Password from the URL, if any (percent-decoded). Never displayed.
    pub password: Option<Secret>,
    /// Path from the URL (percent-decoded, with its leading `/`), `""` when absent. For
    /// `file://` the absolute local path; for S3 the key prefix (`s3://b/pre/` gives `/pre/`).
    /// [`crate::Package::remote_root`] joins it with `remote_dir`.
    pub path: String,
}

impl Scheme {
    /// The URL scheme name (`ftp`, `https`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Ftp => "ftp",
            Scheme::Ftps => "ftps",
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Sftp => "sftp",
            Scheme::S3 => "s3",
            Scheme::File => "file",
        }
    }

    /// The protocol's usual port (`None` for S3 and local files).
    pub fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Ftp | Scheme::Ftps => Some(21),
            Scheme::Http => Some(80),
            Scheme::Https => Some(443),
            Scheme::Sftp => Some(22),
            Scheme::S3 | Scheme::File => None,
        }
    }

    fn from_name(name: &str) -> Option<Scheme> {
        Some(match name.to_ascii_lowercase().as_str() {
            "ftp" => Scheme::Ftp,
            "ftps" => Scheme::Ftps,
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            "sftp" => Scheme::Sftp,
            "s3" => Scheme::S3,
            "file" => Scheme::File,
            _ => return None,
        })
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Site {
    /// Parses a `site` value: a bare host (FTP, as in mirror.pl; `host:port` and `[v6]:port`
    /// are accepted too) or a URL whose scheme selects the protocol. Whitespace around the
    /// value is ignored. User and password are percent-decoded, and so is the path.
    pub fn parse(text: &str) -> Result<Site, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the site is empty".into());
        }
        if text.chars().any(char::is_whitespace) {
            return Err(format!("site `{}` contains whitespace", redact_text(text)));
        }
        match text.split_once("://") {
            Some((scheme, rest)) => parse_url(scheme, rest, text),
            None => parse_bare(text),
        }
    }

    /// The site as a URL with any password replaced by `***`, for messages and logs.
    pub fn redacted(&self) -> String {
        self.to_string()
    }

    /// The port to connect to: the URL's, else the protocol's default (`ftp_port` is the
    /// caller's business for FTP).
    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or_else(|| self.scheme.default_port())
    }
}

/// `Display` never shows the password: it prints `***` in its place.
impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(user) = &self.user {
            write!(f, "{}", encode(user, USERINFO_KEEP))?;
            if self.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        } else if self.password.is_some() {
            f.write_str(":***@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", encode(&self.path, PATH_KEEP))
    }
}

/// Characters kept as they are when printing a user name or a path; others are escaped.
const USERINFO_KEEP: &str = "-._~!$&'()*+,;=";
const PATH_KEEP: &str = "-._~!$&'()*+,;=:@/";

fn encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_alphanumeric() || keep.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Percent-decodes `s` (which must decode to UTF-8).
fn decode(s: &str, what: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape in the {what}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("the {what} is not UTF-8 once decoded"))
}

/// The text with the password part of a URL's user info hidden, for error messages.
pub(crate) fn redact_text(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_owned();
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (auth, tail) = rest.split_at(auth_end);
    match auth.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => text.to_owned(),
        },
        None => text.to_owned(),
    }
}

fn parse_port(s: &str) -> Result<u16, String> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("port `{s}` is not a number"));
    }
    match s.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(p as u16),
        _ => Err(format!("port `{s}` is not between 1 and 65535")),
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or `v6` → (host, port).
fn parse_host_port(s: &str) -> Result<(String, Option<u16>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{s}`: missing `]` after an IPv6 address"))?;
        addr.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("`{addr}` is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(parse_port(p.strip_prefix(':').ok_or_else(|| {
                format!("`{s}`: expected `:port` after the IPv6 address")
            })?)?),
        };
        return Ok((addr.to_owned(), port));
    }
    if s.matches(':').count() > 1 {
        // A bare IPv6 address (without brackets there can be no port).
        s.parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("`{s}` is not a host name or an IPv6 address"))?;
        return Ok((s.to_owned(), None));
    }
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, Some(parse_port(p)?)),
        None => (s, None),
    };
    check_host(host)?;
    Ok((host.to_owned(), port))
}

fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("the host name is empty".into());
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!("host name `{host}` contains `{bad}`"));
    }
    Ok(())
}

fn parse_bare(text: &str) -> Result<Site, String> {
    if text.contains('/') || text.contains('@') {
        return Err(format!(
            "site `{text}` is neither a host name nor a URL (put the directory in remote_dir, \
             or write a URL such as ftp://user@host/dir)"
        ));
    }
    let (host, port) = parse_host_port(text)?;
    Ok(Site {
        scheme: Scheme::Ftp,
        host,
        port,
        user: None,
        password: None,
        path: String::new(),
    })
}

fn parse_url(scheme_name: &str, rest: &str, text: &str) -> Result<Site, String> {
    let shown = redact_text(text);
    let scheme = Scheme::from_name(scheme_name).ok_or_else(|| {
        format!(
            "site `{shown}`: unsupported scheme `{scheme_name}` (use ftp, ftps, http, https, \
             sftp, s3 or file)"
        )
    })?;
    if rest.contains(['?', '#']) {
        return Err(format!(
            "site `{shown}`: a query or fragment (`?`, `#`) is not supported"
        ));
    }
    let auth_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(auth_end);
    let path = decode(path, "path").map_err(|e| format!("site `{shown}`: {e}"))?;
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(u) => {
            let (user, pass) = match u.split_once(':') {
                Some((user, pass)) => (user, Some(pass)),
                None => (u, None),
            };
            let user = decode(user, "user name").map_err(|e| format!("site `{shown}`: {e}"))?;
            let pass = pass
                .map(|p| decode(p, "password"))
                .transpose()
                .map_err(|e| format!("site `{shown}`: {e}"))?;
            (
                (!user.is_empty()).then_some(user),
                pass.map(crate::package::Secret::new),
            )
        }
    };
    match scheme {
        Scheme::File => {
            if userinfo.is_some() || !(hostport.is_empty() || hostport == "localhost") {
                return Err(format!(
                    "site `{shown}`: a file:// URL must be absolute, as in file:///srv/tree"
                ));
            }
            if !path.starts_with('/') {
                return Err(format!(
                    "site `{shown}`: a file:// URL must be absolute, as in file:///srv/tree"
                ));
            }
            Ok(Site {
                scheme,
                host: String::new(),
                port: None,
                user: None,
                password: None,
                path,
            })
        }
        Scheme::S3 => {
            if userinfo.is_some() {
                return Err(format!(
                    "site `{shown}`: credentials in an s3:// URL are not supported (use the \
                     usual AWS variables)"
                ));
            }
            if hostport.is_empty() {
                return Err(format!("site `{shown}`: the bucket name is missing"));
            }
            if let Some(bad) = hostport
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
            {
                return Err(format!(
                    "site `{shown}`: bucket name `{hostport}` contains `{bad}`"
                ));
            }
            Ok(Site {
                scheme,
                host: hostport.to_owned(),
                port: None,
                user: None,
                password: None,
                path,
            })
        }
        _ => {
            let (host, port) =
                parse_host_port(hostport).map_err(|e| format!("site `{shown}`: {e}"))?;
            Ok(Site {
                scheme,
                host,
                port,
                user,
                password,
                path,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Secret;

    fn ok(s: &str) -> Site {
        Site::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn bare_host_is_ftp() {
        let s = ok("  ftp.eff.org ");
        assert_eq!(s.scheme, Scheme::Ftp);
        assert_eq!(s.host, "ftp.eff.org");
        assert_eq!(s.port, None);
        assert_eq!(s.path, "");
        assert_eq!(ok("ftp.x.org:2121").port, Some(2121));
        assert_eq!(ok("10.0.0.1").host, "10.0.0.1");
        assert_eq!(ok("::1").host, "::1");
        let v6 = ok("[::1]:2121");
        assert_eq!((v6.host.as_str(), v6.port), ("::1", Some(2121)));
    }

    #[test]
    fn urls() {
        let s = ok("ftp://anon:p%40ss@ftp.gnu.org:2121/gnu/emacs");
        assert_eq!(s.scheme, Scheme::Ftp);
        assert_eq!(s.user.as_deref(), Some("anon"));
        assert_eq!(s.password, Some(Secret::new("p@ss")));
        assert_eq!(s.port, Some(2121));
        assert_eq!(s.path, "/gnu/emacs");
        let s = ok("https://mirror.example.org/pub/a%20b/");
        assert_eq!((s.scheme, s.path.as_str()), (Scheme::Https, "/pub/a b/"));
        let s = ok("sftp://user@[::1]:2222/srv");
        assert_eq!(
            (s.host.as_str(), s.port, s.user.as_deref()),
            ("::1", Some(2222), Some("user"))
        );
        let s = ok("s3://my-bucket/prefix/");
        assert_eq!(
            (s.host.as_str(), s.path.as_str()),
            ("my-bucket", "/prefix/")
        );
        let s = ok("file:///srv/tree");
        assert_eq!(
            (s.scheme, s.host.as_str(), s.path.as_str()),
            (Scheme::File, "", "/srv/tree")
        );
        assert_eq!(ok("FTPS://h").scheme, Scheme::Ftps);
        assert_eq!(ok("http://h").path, "");
    }

    #[test]
    fn display_never_shows_the_password() {
        let s = ok("ftp://anon:secret@ftp.gnu.org/gnu");
        assert_eq!(s.to_string(), "ftp://anon:***@ftp.gnu.org/gnu");
        assert_eq!(s.redacted(), "ftp://anon:***@ftp.gnu.org/gnu");
        assert!(!format!("{s:?}").contains("secret"));
        assert_eq!(
            ok("sftp://[::1]:2222/a%20b").to_string(),
            "sftp://[::1]:2222/a%20b"
        );
        let e = Site::parse("gopher://u:secret@h/").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
        assert!(e.contains("unsupported scheme `gopher`"), "{e}");
    }

    #[test]
    fn invalid_sites() {
        for (s, what) in [
            ("", "empty"),
            ("ftp.x.org/pub", "neither a host name nor a URL"),
            ("ftp://h:0/", "between 1 and 65535"),
            ("ftp://h:70000/", "between 1 and 65535"),
            ("ftp://h:x/", "not a number"),
            ("ftp:///pub", "host name is empty"),
            ("file://relative/path", "must be absolute"),
            ("file://", "must be absolute"),
            ("http://h/a?b", "query"),
            ("ftp://[::1/", "missing `]`"),
            ("ftp://h%zz/", "contains `%`"),
            ("ftp://u:%zz@h/", "bad percent escape"),
            ("s3://", "bucket name is missing"),
            ("s3://k:s@b/", "credentials"),
            ("ftp.x .org", "whitespace"),
        ] {
            let e = Site::parse(s).unwrap_err();
            assert!(e.contains(what), "{s}: {e}");
        }
    }
}
