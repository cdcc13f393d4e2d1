//! From a package to the two trees of a run: [`connect`] turns `site` + `remote_dir` into
//! a [`Remote`], [`resolve_local_dir`] finds the local folder, and `local_tree` opens it
//! with `follow_local_symlinks`. Which one is the source depends on `get_file` (see
//! `run`). A store URL as `local_dir` (`s3://`, `sftp://`) is opened by `local_store`
//! instead of a folder, and the package writes into that store.
//!
//! SFTP and S3 keywords are mapped in `connect_sftp.rs` and `connect_s3.rs`.
//!
//! FTP (`site=host`, `ftp://`, `ftps://`) maps every FTP keyword onto an
//! [`FtpConfig`]; the remote connects lazily, on its first listing. `ftps://` is explicit
//! TLS (`AUTH TLS`), except on port 990, the implicit-TLS port, where TLS starts at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mirror_config::{Package, Scheme, Site};
use mirror_remote::Remote;
use mirror_remote::ftp::listing::{ListTz, RemoteFs};
use mirror_remote::ftp::{FtpConfig, FtpRemote, FtpSecret, FtpTls, ListingConfig};
use mirror_remote::local::{LocalOptions, LocalRemote};

use crate::report::PackageStatus;

#[path = "connect_s3.rs"]
mod s3;
#[path = "connect_sftp.rs"]
mod sftp;

/// Why a package cannot be run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    /// [`PackageStatus::ConfigError`] or [`PackageStatus::ConnectError`].
    pub status: PackageStatus,
    /// What to tell the operator.
    pub message: String,
}

impl ConnectError {
    fn config(message: impl Into<String>) -> Self {
        ConnectError {
            status: PackageStatus::ConfigError,
            message: message.into(),
        }
    }

    fn unsupported(what: &str) -> Self {
        ConnectError {
            status: PackageStatus::ConnectError,
            message: format!("not supported yet: {what} (planned)"),
        }
    }
}

/// Opens the package's site rooted at `remote_dir`: for `file:///path` a local folder at
/// `path` joined with `remote_dir`; for the network protocols a remote that connects on
/// first use.
pub fn connect(pkg: &Package) -> Result<Arc<dyn Remote>, ConnectError> {
    let site = pkg.site.as_ref().ok_or_else(|| {
        ConnectError::config("Insufficient details for package to be fetched: no site")
    })?;
    match site.scheme {
        Scheme::File => {
            let root = PathBuf::from(pkg.remote_root());
            Ok(Arc::new(LocalRemote::new(root, LocalOptions::default())))
        }
        Scheme::Ftp | Scheme::Ftps => {
            let cfg = ftp_config(pkg, site)?;
            let remote = FtpRemote::new(cfg).map_err(|e| ConnectError {
                status: PackageStatus::ConnectError,
                message: e.to_string(),
            })?;
            Ok(Arc::new(remote))
        }
        Scheme::Sftp => sftp::sftp_remote(pkg, site, pkg.remote_root(), !pkg.get_file, false),
        Scheme::S3 => s3::s3_remote(pkg, site, &pkg.remote_root(), !pkg.get_file),
        Scheme::Http | Scheme::Https => crate::connect_http::connect_http(pkg, site),
    }
}

/// The implicit-TLS FTP port (RFC 4217 calls it historic; servers still offer it).
const FTPS_IMPLICIT_PORT: u16 = 990;

/// Every FTP keyword of `pkg`, resolved for the FTP backend. Credentials in the URL win
/// over `remote_user`/`remote_password`, and a port in the URL over `ftp_port`.
pub fn ftp_config(pkg: &Package, site: &Site) -> Result<FtpConfig, ConnectError> {
    let mut cfg = FtpConfig::new(site.host.trim());
    cfg.port = site.port.unwrap_or(pkg.ftp_port);
    cfg.tls = match site.scheme {
        Scheme::Ftps if cfg.port == FTPS_IMPLICIT_PORT => FtpTls::Implicit,
        Scheme::Ftps => FtpTls::Explicit,
        _ => FtpTls::None,
    };
    cfg.user = site.user.clone().unwrap_or_else(|| pkg.remote_user.clone());
    cfg.password = FtpSecret(
        site.password
            .as_ref()
            .unwrap_or(&pkg.remote_password)
            .expose()
            .to_owned(),
    );
    cfg.account = FtpSecret(pkg.remote_account.expose().to_owned());
    cfg.group = pkg.remote_group.clone();
    cfg.group_password = FtpSecret(pkg.remote_gpass.expose().to_owned());
    cfg.root = pkg.remote_root();
    cfg.passive = pkg.passive_ftp;
    let bind = pkg.bind_addr.trim();
    cfg.bind_addr = if bind.is_empty() {
        None
    } else {
        Some(bind.parse().map_err(|_| {
            ConnectError::config(format!(
                "bind_addr `{bind}` is not an IP address (a host name is not accepted)"
            ))
        })?)
    };
    // mirror.pl's `timeout=0` would mean no deadline at all; a hung server then hangs the run.
    cfg.timeout = std::time::Duration::from_secs(pkg.timeout.max(1));
    cfg.max_sessions = pkg.parallel.max(1);
    cfg.text_mode = pkg.text_mode;
    cfg.strip_cr = pkg.strip_cr;
    cfg.write = !pkg.get_file;
    cfg.reuse = !pkg.disconnect;
    let remote_fs: RemoteFs =
        pkg.remote_fs
            .parse()
            .map_err(|e: mirror_remote::ftp::listing::UnknownRemoteFs| {
                ConnectError::config(e.to_string())
            })?;
    let tz = if pkg.remote_timezone.trim().is_empty() {
        ListTz::from_use_timelocal(pkg.use_timelocal)
    } else {
        ListTz::parse_zone(&pkg.remote_timezone).map_err(|e| ConnectError::config(e.to_string()))?
    };
    let fix = (!pkg.ls_fix_mappings.is_empty()).then(|| {
        let subs = pkg.ls_fix_mappings.clone();
        let f: Arc<mirror_remote::ftp::PathFix> = Arc::new(move |p: &str| subs.apply(p).0);
        f
    });
    let non_empty = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
    cfg.listing = ListingConfig {
        use_mlsd: !matches!(remote_fs, RemoteFs::Vms | RemoteFs::Cms),
        remote_fs,
        tz,
        flags_recursive: pkg.flags_recursive.clone(),
        flags_nonrecursive: pkg.flags_nonrecursive.clone(),
        recurse_hard: pkg.recurse_hard,
        ls_lr_file: pkg.ls_lr_file.clone(),
        local_ls_lr_file: non_empty(&pkg.local_ls_lr_file),
        store_remote_listing: non_empty(&pkg.store_remote_listing),
        ls_fix: fix,
        vms_keep_versions: pkg.vms_keep_versions,
    };
    Ok(cfg)
}

/// The package's local folder as an absolute path: `local_dir`, relative ones resolved
/// against `start_dir` (mirror.pl went back to its start directory before every package).
/// For a store URL there (`s3://`, `sftp://`: see [`local_store`]) the URL itself, without
/// any password: it names the package's lock and is what reports show.
pub fn resolve_local_dir(pkg: &Package, start_dir: &Path) -> Result<PathBuf, ConnectError> {
    let dir = pkg.local_dir.as_str();
    if dir.is_empty() {
        return Err(ConnectError::config(
            "Insufficient details for package to be fetched: no local_dir",
        ));
    }
    if let Some((scheme, _)) = dir.split_once("://")
        && !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return match store_url(pkg)? {
            Some(site) => Ok(PathBuf::from(site.redacted())),
            None => Err(ConnectError::unsupported(&format!(
                "{scheme}:// as local_dir"
            ))),
        };
    }
    let path = Path::new(dir);
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        start_dir.join(path)
    };
    let abs = if abs.is_absolute() {
        abs
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(&abs))
            .unwrap_or(abs)
    };
    // "a/./b/" and "a/b" must name the same lock and print the same: normalise the text
    // without touching the disk (the folder may not exist yet).
    Ok(abs.components().collect())
}

/// `local_dir` as a store URL (`s3://bucket/prefix`, `sftp://user@host/path`), if it is one.
fn store_url(pkg: &Package) -> Result<Option<Site>, ConnectError> {
    let dir = pkg.local_dir.trim();
    let scheme = dir.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if !matches!(scheme.as_deref(), Some("s3" | "sftp")) {
        return Ok(None);
    }
    Site::parse(dir)
        .map(Some)
        .map_err(|e| ConnectError::config(format!("invalid local_dir: {e}")))
}

/// The store a `local_dir` URL names, as the package's local side: the destination in get
/// mode, the source in put mode. `None` for a local folder. The store's own keywords apply
/// (`s3_*`, `ssh_*`); an `sftp://` destination logs in as the URL's user (else `$USER`) with
/// the URL's password or `ssh_key`, never with the site's `remote_user`/`remote_password`.
pub(crate) fn local_store(pkg: &Package) -> Result<Option<Arc<dyn Remote>>, ConnectError> {
    let Some(site) = store_url(pkg)? else {
        return Ok(None);
    };
    let root = site.path.clone();
    match site.scheme {
        Scheme::S3 => s3::s3_remote(pkg, &site, &root, pkg.get_file).map(Some),
        Scheme::Sftp => sftp::sftp_remote(pkg, &site, root, pkg.get_file, true).map(Some),
        _ => Ok(None),
    }
}

/// Whether the store's root folder exists (the `local_dir` of a store URL).
pub(crate) async fn store_exists(store: &dyn Remote) -> Result<bool, ConnectError> {
    match store.stat(&mirror_remote::RelPath::root()).await {
        Ok(found) => Ok(found.is_some_and(|e| e.kind.is_dir())),
        Err(e) => Err(ConnectError {
            status: PackageStatus::ConnectError,
            message: e.to_string(),
        }),
    }
}

/// The local folder as a tree, following the local symlinks `follow_local_symlinks` names.
pub(crate) fn local_tree(pkg: &Package, root: PathBuf) -> Arc<LocalRemote> {
    let follow = pkg.follow_local_symlinks.clone().map(|pat| {
        let f: Arc<mirror_remote::local::FollowFn> =
            Arc::new(move |p: &mirror_remote::RelPath| crate::rules::matches(&pat, p.as_str()));
        f
    });
    Arc::new(LocalRemote::new(
        root,
        LocalOptions {
            follow_symlinks: follow,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirror_config::Site;

    fn site(scheme: Scheme, path: &str) -> Site {
        Site {
            scheme,
            host: String::new(),
            port: None,
            user: None,
            password: None,
            path: path.into(),
        }
    }

    #[test]
    fn file_sites_are_local_folders() {
        let mut pkg = Package::builtin("p", "h", "pw");
        pkg.site = Some(site(Scheme::File, "/srv/src"));
        pkg.remote_dir = "/pub/x".into();
        let r = connect(&pkg).unwrap();
        assert_eq!(r.local_root(), Some(Path::new("/srv/src/pub/x")));
    }

    #[test]
    fn store_urls_as_local_dir() {
        let mut pkg = Package::builtin("p", "h", "pw");
        pkg.local_dir = "s3://bucket/x/".into();
        assert_eq!(
            resolve_local_dir(&pkg, Path::new("/")).unwrap(),
            Path::new("s3://bucket/x/")
        );
        assert_eq!(
            local_store(&pkg).unwrap().unwrap().describe(),
            "s3://bucket/x"
        );
        pkg.local_dir = "sftp://me:secret@host:2222/srv/x".into();
        let shown = resolve_local_dir(&pkg, Path::new("/")).unwrap();
        assert_eq!(shown, Path::new("sftp://me:***@host:2222/srv/x"));
        let store = local_store(&pkg).unwrap().unwrap();
        assert_eq!(store.describe(), "sftp://me@host:2222/srv/x");
        // Written to in get mode, read in put mode.
        assert!(store.features().write);
        pkg.get_file = false;
        assert!(!local_store(&pkg).unwrap().unwrap().features().write);
        pkg.local_dir = "http://example.org/x".into();
        let e = resolve_local_dir(&pkg, Path::new("/")).unwrap_err();
        assert_eq!(
            e.message,
            "not supported yet: http:// as local_dir (planned)"
        );
        pkg.local_dir = "/plain/folder".into();
        assert!(local_store(&pkg).unwrap().is_none());
    }

    #[test]
    fn ftp_sites_map_every_keyword() {
        let mut pkg = Package::builtin("p", "h", "user@host");
        let mut s = site(Scheme::Ftps, "/pub");
        s.host = "ftp.example.org".into();
        s.port = Some(990);
        pkg.remote_dir = "gnu".into();
        pkg.remote_timezone = "+05:30".into();
        pkg.bind_addr = "127.0.0.1".into();
        pkg.parallel = 2;
        pkg.disconnect = true;
        pkg.get_file = false;
        pkg.site = Some(s.clone());
        let cfg = ftp_config(&pkg, &s).unwrap();
        assert_eq!(cfg.tls, FtpTls::Implicit);
        assert_eq!(cfg.port, 990);
        assert_eq!(cfg.root, "/pub/gnu");
        assert_eq!(cfg.user, "anonymous");
        assert_eq!(cfg.password, FtpSecret("user@host".into()));
        assert_eq!(cfg.max_sessions, 2);
        assert!(cfg.write && !cfg.reuse && cfg.passive);
        assert_eq!(cfg.bind_addr, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(cfg.listing.tz, ListTz::parse_zone("+05:30").unwrap());
        s.port = None;
        pkg.ftp_port = 2121;
        assert_eq!(ftp_config(&pkg, &s).unwrap().tls, FtpTls::Explicit);
        assert_eq!(ftp_config(&pkg, &s).unwrap().port, 2121);
        pkg.remote_timezone = "Mars/Olympus".into();
        assert!(ftp_config(&pkg, &s).is_err());
        pkg.remote_timezone.clear();
        pkg.bind_addr = "not-an-ip".into();
        assert!(ftp_config(&pkg, &s).is_err());
        // The remote itself connects lazily: building it needs no server.
        pkg.bind_addr.clear();
        pkg.site = Some(site(Scheme::Ftp, ""));
        let r = connect(&pkg).unwrap();
        assert!(
            r.describe().starts_with("ftp://anonymous@:2121"),
            "{}",
            r.describe()
        );
    }

    /// End to end over FTP: a packages file naming `ftp://127.0.0.1:PORT/` mirrors the
    /// tree through `run_package`; a re-run transfers nothing; a file changed remotely
    /// (same size, new time) is fetched again; a file gone remotely is deleted.
    #[tokio::test]
    async fn a_packages_file_mirrors_an_ftp_site_and_a_rerun_transfers_nothing() {
        use mirror_testkit::{Compare, TreeBuilder, assert_dirs_equal, ftp_unftp::UnftpServer};
        let tmp = tempfile::tempdir().unwrap();
        let remote = tmp.path().join("remote");
        let local = tmp.path().join("local");
        let t0 = 1_600_000_000;
        let tb = TreeBuilder::new(&remote);
        tb.file("README", b"read me\n", t0)
            .file("pub/a b/ünï.txt", "utf-8 ✓\n".as_bytes(), t0 + 1)
            .file("pub/deep/er/still/leaf.bin", [7u8; 70_000], t0 + 2)
            .file("gone.txt", b"soon gone\n", t0 + 3)
            .dir("empty/inner");
        let server = UnftpServer::start(&remote).await;
        let text = format!(
            "package=ftp-e2e\n\
             \tsite=ftp://127.0.0.1:{}/\n\
             \tremote_dir=/\n\
             \tlocal_dir={}\n\
             \tdo_deletes=true\n\
             \tmax_delete_files=100%\n\
             \tuse_timelocal=false\n\
             \tdisconnect=true\n",
            server.port,
            local.display()
        );
        let loaded = mirror_config::parse_str(&text, "e2e.packages").unwrap();
        let env = mirror_config::Env::current();
        let (pkg, _) = loaded.records[0].to_package(&env).unwrap();
        let opts = crate::RunOptions::default();
        let run = || crate::run_package(&pkg, &opts, &crate::NoEvents);

        let first = run().await;
        assert_eq!(first.status, PackageStatus::Ok, "{first:?}");
        assert_eq!(first.counts.files_fetched, 4, "{first:?}");
        assert_dirs_equal(&remote, &local, Compare::MIRRORED);

        let second = run().await;
        assert_eq!(second.status, PackageStatus::Ok, "{second:?}");
        assert_eq!(second.counts.files_fetched, 0, "{second:?}");
        assert_eq!(second.counts.files_deleted, 0, "{second:?}");

        // Same size, another time (MLSD gives seconds): fetched again. And a deletion.
        tb.file("README", b"READ ME\n", t0 + 60);
        std::fs::remove_file(remote.join("gone.txt")).unwrap();
        let third = run().await;
        assert_eq!(third.status, PackageStatus::Ok, "{third:?}");
        assert_eq!(third.counts.files_fetched, 1, "{third:?}");
        assert_eq!(third.counts.files_deleted, 1, "{third:?}");
        assert_dirs_equal(&remote, &local, Compare::MIRRORED);
    }

    #[test]
    fn relative_local_dirs_resolve_against_start_dir() {
        let mut pkg = Package::builtin("p", "h", "pw");
        pkg.local_dir = "mirrors/./x/".into();
        assert_eq!(
            resolve_local_dir(&pkg, Path::new("/home/ftp")).unwrap(),
            Path::new("/home/ftp/mirrors/x")
        );
    }
}
