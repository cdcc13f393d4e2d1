//! `site` values: a bare host (FTP, as in mirror.pl) or a URL that selects the protocol.

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
    /// Path from the URL (percent-decoded), `""` when absent. For `file://` the absolute
    /// local path; for S3 the key prefix.
    pub path: String,
}
