//! SFTP sites and destinations (`sftp://user@host[:port]/path`): a package's keywords
//! resolved into an [`SftpConfig`].
//!
//! - User: the URL's, else `remote_user`. Password: the URL's, else `remote_password`.
//! - `ssh_key` logs in with that key instead of the password (an encrypted key is unlocked
//!   with the password); `~/` at its start is the home directory.
//! - Host key: `ssh_host_key` pins it (fingerprints or keys, comma-separated); otherwise it
//!   must be in `ssh_known_hosts`, else in `~/.ssh/known_hosts` or
//!   `/etc/ssh/ssh_known_hosts`.
//! - `timeout` bounds connecting and each request; `parallel` the transfers at once;
//!   `retry_call=false` turns off retrying after a broken connection.

use std::path::PathBuf;
use std::sync::Arc;

use mirror_config::{Package, Site};
use mirror_remote::Remote;
use mirror_remote::sftp::{HostKeyPin, HostKeyPolicy, SftpConfig, SftpRemote, SftpSecret};

use super::ConnectError;

/// Every SFTP keyword of `pkg` for a server named by `site`, rooted at `root` (a server
/// path: absolute, or relative to the login directory). `write`: the remote is written to.
/// `store`: the server is the package's `local_dir` (a destination), whose user and password
/// come from its URL only (else `$USER`, and no password), since `remote_user` and
/// `remote_password` belong to the site.
pub fn sftp_config(
    pkg: &Package,
    site: &Site,
    root: String,
    write: bool,
    store: bool,
) -> Result<SftpConfig, ConnectError> {
    let user = match (&site.user, store) {
        (Some(u), _) => u.clone(),
        (None, false) => pkg.remote_user.clone(),
        (None, true) => std::env::var("USER").unwrap_or_else(|_| "root".into()),
    };
    let mut cfg = SftpConfig::new(site.host.trim(), user);
    cfg.port = site.port.unwrap_or(22);
    let password = match (&site.password, store) {
        (Some(p), _) => p.expose().to_owned(),
        (None, false) => pkg.remote_password.expose().to_owned(),
        (None, true) => String::new(),
    };
    cfg.password = SftpSecret(password);
    let key = pkg.ssh_key.trim();
    if !key.is_empty() {
        cfg.key_file = Some(expand_home(key));
    }
    let pins = HostKeyPin::parse_list(&pkg.ssh_host_key)
        .map_err(|e| ConnectError::config(format!("ssh_host_key: {e}")))?;
    let known = pkg.ssh_known_hosts.trim();
    cfg.host_keys = HostKeyPolicy {
        pins,
        known_hosts: if known.is_empty() {
            HostKeyPolicy::default_files()
        } else {
            vec![expand_home(known)]
        },
    };
    cfg.root = root;
    // mirror.pl's `timeout=0` would mean no deadline at all; a hung server then hangs the run.
    cfg.timeout = std::time::Duration::from_secs(pkg.timeout.max(1));
    cfg.max_parallel = pkg.parallel.max(1);
    cfg.write = write;
    // retry_call=false: a broken connection fails the operation at once.
    if !pkg.retry_call {
        cfg.retries = 0;
    }
    Ok(cfg)
}

/// The SFTP remote for `site` rooted at `root`; it connects on first use. See
/// [`sftp_config`] for `write` and `store`.
pub fn sftp_remote(
    pkg: &Package,
    site: &Site,
    root: String,
    write: bool,
    store: bool,
) -> Result<Arc<dyn Remote>, ConnectError> {
    let cfg = sftp_config(pkg, site, root, write, store)?;
    Ok(Arc::new(SftpRemote::new(cfg)))
}

/// `~/x` as `$HOME/x`; other paths as they are.
fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirror_config::Scheme;

    #[test]
    fn sftp_sites_map_every_keyword() {
        let mut pkg = Package::builtin("p", "h", "user@host");
        pkg.remote_user = "mirror".into();
        pkg.ssh_key = "~/.ssh/id_ed25519".into();
        pkg.ssh_known_hosts = "/etc/mirror/known_hosts".into();
        pkg.timeout = 0;
        pkg.parallel = 3;
        let site = Site::parse("sftp://archive.example.org:2222/srv/pub").unwrap();
        assert_eq!(site.scheme, Scheme::Sftp);
        let cfg = sftp_config(&pkg, &site, "/srv/pub/gnu".into(), true, false).unwrap();
        assert_eq!(
            (cfg.host.as_str(), cfg.port, cfg.user.as_str()),
            ("archive.example.org", 2222, "mirror")
        );
        assert_eq!(cfg.root, "/srv/pub/gnu");
        assert_eq!(cfg.password, SftpSecret("user@host".into()));
        assert!(cfg.key_file.unwrap().ends_with(".ssh/id_ed25519"));
        assert_eq!(
            cfg.host_keys.known_hosts,
            [PathBuf::from("/etc/mirror/known_hosts")]
        );
        assert!(cfg.host_keys.pins.is_empty());
        assert_eq!(cfg.timeout.as_secs(), 1);
        assert_eq!(cfg.max_parallel, 3);
        assert!(cfg.write);

        // The URL's user and password win; a pin replaces known_hosts checking.
        let site = Site::parse("sftp://me:s3cret@h/").unwrap();
        pkg.ssh_host_key = "SHA256:fH776SvjFH40oX2yAGodMwwmCEAtRRPA1hq1DRjMnm0".into();
        let cfg = sftp_config(&pkg, &site, "/".into(), false, false).unwrap();
        assert_eq!((cfg.user.as_str(), cfg.port), ("me", 22));
        assert_eq!(cfg.password, SftpSecret("s3cret".into()));
        assert_eq!(cfg.host_keys.pins.len(), 1);
        assert!(!format!("{cfg:?}").contains("s3cret"));

        pkg.ssh_host_key = "md5:00:11".into();
        let e = sftp_config(&pkg, &site, "/".into(), false, false).unwrap_err();
        assert!(e.message.contains("ssh_host_key"), "{}", e.message);
        pkg.ssh_host_key.clear();

        // A destination never borrows the site's user or password.
        let dest = Site::parse("sftp://h/srv").unwrap();
        let cfg = sftp_config(&pkg, &dest, "/srv".into(), true, true).unwrap();
        assert_ne!(cfg.user, "mirror");
        assert_eq!(cfg.password, SftpSecret::default());
    }
}
