//! Debian's nginx, started by a test on 127.0.0.1 on a free high port, serving one folder
//! with `autoindex on` under four locations, one per index format: `/html/` (the default:
//! minutes, exact sizes), `/html-approx/` (`autoindex_exact_size off`), `/json/` and
//! `/xml/` (seconds). Optionally over HTTPS with HTTP/2, and behind basic auth.
//!
//! nginx runs in the foreground (`nginx -p PREFIX -c CONF -e LOG -g 'daemon off;'`) with
//! everything it writes in its own temporary prefix, so no system service is involved;
//! `scripts/install-test-deps` installs the package without starting one. A test calls
//! [`Nginx::find`] first and, when nginx is absent, skips with a loud message.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::ftp_unftp::{free_port, wait_listening};
use crate::http_index::TestCert;

/// Which location of the server, i.e. which index format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NginxFormat {
    /// `autoindex_format html` (default): `DD-Mon-YYYY HH:MM` in GMT, exact sizes.
    Html,
    /// HTML with `autoindex_exact_size off`: sizes from 10000 bytes up rounded (`293K`).
    HtmlApprox,
    /// `autoindex_format json`: exact sizes, times to the second.
    Json,
    /// `autoindex_format xml`: exact sizes, times to the second.
    Xml,
}

impl NginxFormat {
    /// The location's path prefix, with slashes.
    pub fn location(self) -> &'static str {
        match self {
            NginxFormat::Html => "/html/",
            NginxFormat::HtmlApprox => "/html-approx/",
            NginxFormat::Json => "/json/",
            NginxFormat::Xml => "/xml/",
        }
    }
}

/// How to run nginx.
#[derive(Debug, Clone, Default)]
pub struct NginxOptions {
    /// Serve HTTPS with HTTP/2 (`listen ... ssl http2`) with this certificate.
    pub tls: Option<TestCert>,
    /// Require basic auth with this user and password.
    pub auth: Option<(String, String)>,
}

/// A running nginx; killed when dropped.
pub struct Nginx {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The folder it serves.
    pub root: PathBuf,
    tls: bool,
    child: Child,
    work: tempfile::TempDir,
}

impl Nginx {
    /// The nginx binary, if installed.
    pub fn find() -> Option<PathBuf> {
        ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    }

    /// The message a test prints when it skips for want of nginx.
    pub fn skip_message() -> String {
        "SKIPPED: nginx is not installed; run scripts/install-test-deps (CI does)".into()
    }

    /// Starts nginx serving `root` (made readable by nginx's worker).
    pub async fn start(root: &Path, opts: &NginxOptions) -> Result<Nginx, String> {
        let bin = Self::find().ok_or_else(Self::skip_message)?;
        let work = tempfile::tempdir().map_err(|e| e.to_string())?;
        let w = work.path();
        std::fs::create_dir_all(w.join("tmp")).map_err(|e| e.to_string())?;
        open_up(root);
        let port = free_port();
        let root_s = root.display();
        let wd = w.display();
        let mut server = String::new();
        if let Some(cert) = &opts.tls {
            std::fs::write(w.join("cert.pem"), &cert.cert_pem).map_err(|e| e.to_string())?;
            std::fs::write(w.join("key.pem"), &cert.key_pem).map_err(|e| e.to_string())?;
            server.push_str(&format!(
                "listen 127.0.0.1:{port} ssl http2;\n\
                 ssl_certificate {wd}/cert.pem;\n\
                 ssl_certificate_key {wd}/key.pem;\n"
            ));
        } else {
            server.push_str(&format!("listen 127.0.0.1:{port};\n"));
        }
        if let Some((user, password)) = &opts.auth {
            // nginx reads `{PLAIN}` passwords as they are: no crypt(3) needed for a test.
            std::fs::write(w.join("htpasswd"), format!("{user}:{{PLAIN}}{password}\n"))
                .map_err(|e| e.to_string())?;
            server.push_str(&format!(
                "auth_basic \"mirror test\";\nauth_basic_user_file {wd}/htpasswd;\n"
            ));
        }
        for (format, extra) in [
            (NginxFormat::Html, ""),
            (NginxFormat::HtmlApprox, "autoindex_exact_size off;"),
            (NginxFormat::Json, "autoindex_format json;"),
            (NginxFormat::Xml, "autoindex_format xml;"),
        ] {
            server.push_str(&format!(
                "location {} {{ alias {root_s}/; autoindex on; {extra} }}\n",
                format.location()
            ));
        }
        // As root, the workers would run as `nobody`; keep them as the test's user, who
        // owns the temporary folders.
        let user = if nix::unistd::geteuid().is_root() {
            "user root root;"
        } else {
            ""
        };
        let conf = format!(
            "{user}\nworker_processes 1;\npid {wd}/nginx.pid;\nerror_log {wd}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
             access_log off;\n\
             default_type application/octet-stream;\n\
             client_body_temp_path {wd}/tmp;\nproxy_temp_path {wd}/tmp;\n\
             fastcgi_temp_path {wd}/tmp;\nuwsgi_temp_path {wd}/tmp;\nscgi_temp_path {wd}/tmp;\n\
             server {{\n{server}}}\n}}\n"
        );
        std::fs::write(w.join("nginx.conf"), conf).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(w.join("stderr.log")).map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .arg("-p")
            .arg(w)
            .arg("-c")
            .arg(w.join("nginx.conf"))
            .arg("-e")
            .arg(w.join("error.log"))
            .args(["-g", "daemon off;"])
            // GMT pages whatever the test machine's zone.
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run nginx: {e}"))?;
        let mut n = Nginx {
            port,
            root: root.to_path_buf(),
            tls: opts.tls.is_some(),
            child,
            work,
        };
        let ready = tokio::time::timeout(Duration::from_secs(10), wait_listening(port)).await;
        if ready.is_err() || n.child.try_wait().map(|s| s.is_some()).unwrap_or(true) {
            let read = |f: &str| std::fs::read_to_string(n.work.path().join(f)).unwrap_or_default();
            return Err(format!(
                "nginx did not start on port {port}: {}{}",
                read("stderr.log"),
                read("error.log")
            ));
        }
        Ok(n)
    }

    /// The URL of a location: `http://127.0.0.1:PORT/json/` and the like.
    pub fn url(&self, format: NginxFormat) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{}", self.port, format.location())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes `root`, its ancestors and everything below readable by everyone (temporary folders
/// are created 0700), in case the workers run as another user.
fn open_up(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for dir in root.ancestors() {
        if dir == Path::new("/") {
            break;
        }
        if let Ok(md) = std::fs::metadata(dir) {
            let mode = md.permissions().mode();
            if mode & 0o005 != 0o005 {
                let _ =
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o055));
            }
        }
    }
}
