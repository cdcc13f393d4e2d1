//! S3 sites and destinations (`s3://bucket/prefix`): a package's keywords resolved into an
//! [`S3Config`].
//!
//! - Bucket: the URL's host; prefix: the URL's path joined with `remote_dir` (for a site)
//!   or the URL's path alone (for a `local_dir` destination).
//! - `s3_endpoint`, `s3_region`: the service and signing region; unset, OpenDAL reads
//!   `$AWS_ENDPOINT_URL` and the region falls back to `$AWS_REGION`, then `us-east-1`.
//! - `s3_access_key` + `s3_secret_key` (both or neither); unset, the usual AWS sources
//!   (environment, `~/.aws`, instance metadata).
//! - `timeout` bounds each request; `parallel` the transfers at once; `retry_call=false`
//!   turns off retrying failed requests.

use std::sync::Arc;

use mirror_config::{Package, Site};
use mirror_remote::Remote;
use mirror_remote::s3::{S3Config, S3Remote, S3Secret};

use super::ConnectError;
use crate::report::PackageStatus;

/// Every S3 keyword of `pkg` for the bucket named by `site`, rooted at `prefix`. `write`:
/// the remote is written to.
pub fn s3_config(
    pkg: &Package,
    site: &Site,
    prefix: &str,
    write: bool,
) -> Result<S3Config, ConnectError> {
    let bucket = site.host.trim();
    if bucket.is_empty() {
        return Err(ConnectError::config(format!(
            "{site} names no bucket (s3://BUCKET/prefix)"
        )));
    }
    let mut cfg = S3Config::new(bucket);
    cfg.prefix = prefix.trim_matches('/').to_owned();
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    cfg.endpoint = non_empty(&pkg.s3_endpoint);
    cfg.region = non_empty(&pkg.s3_region);
    match (pkg.s3_access_key.is_empty(), pkg.s3_secret_key.is_empty()) {
        (true, true) => {}
        (false, false) => {
            cfg.access_key = Some(S3Secret(pkg.s3_access_key.expose().to_owned()));
            cfg.secret_key = Some(S3Secret(pkg.s3_secret_key.expose().to_owned()));
        }
        _ => {
            return Err(ConnectError::config(
                "s3_access_key and s3_secret_key go together: set both or neither",
            ));
        }
    }
    // mirror.pl's `timeout=0` would mean no deadline at all; a hung server then hangs the run.
    cfg.timeout = std::time::Duration::from_secs(pkg.timeout.max(1));
    cfg.max_parallel = pkg.parallel.max(1);
    cfg.write = write;
    // retry_call=false: a failed request fails at once.
    if !pkg.retry_call {
        cfg.retries = 0;
    }
    Ok(cfg)
}

/// The S3 remote for `site` rooted at `prefix`; it makes no request until used.
pub fn s3_remote(
    pkg: &Package,
    site: &Site,
    prefix: &str,
    write: bool,
) -> Result<Arc<dyn Remote>, ConnectError> {
    let remote = S3Remote::new(s3_config(pkg, site, prefix, write)?).map_err(|e| ConnectError {
        status: PackageStatus::ConnectError,
        message: e.to_string(),
    })?;
    Ok(Arc::new(remote))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirror_config::Secret;

    #[test]
    fn s3_sites_map_every_keyword() {
        let mut pkg = Package::builtin("p", "h", "user@host");
        pkg.s3_endpoint = "http://127.0.0.1:9000".into();
        pkg.s3_region = "eu-west-3".into();
        pkg.s3_access_key = Secret::new("AKID");
        pkg.s3_secret_key = Secret::new("wJalr");
        pkg.parallel = 8;
        pkg.remote_dir = "gnu".into();
        let site = Site::parse("s3://archive/pub/").unwrap();
        pkg.site = Some(site.clone());
        let cfg = s3_config(&pkg, &site, &pkg.remote_root(), false).unwrap();
        assert_eq!(
            (cfg.bucket.as_str(), cfg.prefix.as_str()),
            ("archive", "pub/gnu")
        );
        assert_eq!(cfg.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(cfg.region.as_deref(), Some("eu-west-3"));
        assert_eq!(cfg.access_key, Some(S3Secret("AKID".into())));
        assert_eq!(cfg.max_parallel, 8);
        assert!(!cfg.write);
        assert!(!format!("{cfg:?}").contains("wJalr"));
        let r = s3_remote(&pkg, &site, "pub/gnu", false).unwrap();
        assert_eq!(r.describe(), "s3://archive/pub/gnu");

        pkg.s3_secret_key = Secret::default();
        assert!(s3_config(&pkg, &site, "", false).is_err());
        pkg.s3_access_key = Secret::default();
        let cfg = s3_config(&pkg, &site, "/", true).unwrap();
        assert_eq!((cfg.access_key, cfg.prefix.as_str()), (None, ""));
        let mut no_bucket = site.clone();
        no_bucket.host.clear();
        assert!(s3_config(&pkg, &no_bucket, "", false).is_err());
    }
}
