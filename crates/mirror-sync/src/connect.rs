//! From a package to the two trees of a run: [`connect`] turns `site` + `remote_dir` into
//! a [`Remote`], [`resolve_local_dir`] finds the local folder, and `local_tree` opens it
//! with `follow_local_symlinks`. Which one is the source depends on `get_file` (see
//! `run`). Protocols that have no backend yet fail here with a clear message.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mirror_config::{Package, Scheme};
use mirror_remote::Remote;
use mirror_remote::local::{LocalOptions, LocalRemote};

use crate::report::PackageStatus;

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
/// `path` joined with `remote_dir`. Other protocols are not wired in yet and answer a
/// [`PackageStatus::ConnectError`].
pub fn connect(pkg: &Package) -> Result<Arc<dyn Remote>, ConnectError> {
    let site = pkg.site.as_ref().ok_or_else(|| {
        ConnectError::config("Insufficient details for package to be fetched: no site")
    })?;
    match site.scheme {
        Scheme::File => {
            let root = PathBuf::from(pkg.remote_root());
            Ok(Arc::new(LocalRemote::new(root, LocalOptions::default())))
        }
        other => Err(ConnectError::unsupported(&format!("{}://", other.as_str()))),
    }
}

/// The package's local folder as an absolute path: `local_dir`, relative ones resolved
/// against `start_dir` (mirror.pl went back to its start directory before every package).
/// A URL there (a remote destination) is not supported yet.
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
        return Err(ConnectError::unsupported(&format!(
            "{scheme}:// as local_dir"
        )));
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
    fn other_schemes_are_not_supported_yet() {
        let mut pkg = Package::builtin("p", "h", "pw");
        pkg.site = Some(site(Scheme::Ftp, ""));
        let e = connect(&pkg).err().unwrap();
        assert_eq!(e.status, PackageStatus::ConnectError);
        assert_eq!(e.message, "not supported yet: ftp:// (planned)");
        pkg.local_dir = "s3://bucket/x".into();
        let e = resolve_local_dir(&pkg, Path::new("/")).unwrap_err();
        assert!(e.message.contains("s3://"), "{}", e.message);
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
