//! [`Env`]: the facts about this machine that some built-in defaults are computed from (spec
//! §1.6): host name, login name, `$INTERNET_HOST` and `$PATH`. Kept in a value so tests and
//! the engine can resolve packages reproducibly.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The machine facts built-in defaults depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Env {
    /// This host's name: the default of `hostname` and the host part of the default password.
    pub hostname: String,
    /// The login name (`$USER`, else `$LOGNAME`): the user part of the default password.
    pub login: String,
    /// `$INTERNET_HOST`: the default of `proxy_gateway`.
    pub internet_host: Option<String>,
    /// `$PATH`: where `mail_prog`'s default is looked for.
    pub path: Option<OsString>,
}

impl Env {
    /// The facts of the running process. The host name is the system's (mirror.pl also asked
    /// DNS for the canonical name; we do not, so reading packages never touches the network).
    pub fn current() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            hostname: gethostname::gethostname().to_string_lossy().into_owned(),
            login: var("USER").or_else(|| var("LOGNAME")).unwrap_or_default(),
            internet_host: var("INTERNET_HOST"),
            path: std::env::var_os("PATH"),
        }
    }

    /// The default `remote_password`: `login@hostname`, as mirror.pl (anonymous FTP etiquette).
    pub fn default_password(&self) -> String {
        format!("{}@{}", self.login, self.hostname)
    }

    /// The first executable called `name` in [`Env::path`].
    pub fn find_program(&self, name: &str) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        std::env::split_paths(path)
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    }

    /// The default `mail_prog`: the first of `mailx`, `Mail`, `mail` on the path, else empty
    /// (no mail is sent).
    pub fn default_mail_prog(&self) -> String {
        ["mailx", "Mail", "mail"]
            .iter()
            .find_map(|p| self.find_program(p))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_the_path_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for p in [a.join("mail"), b.join("Mail"), a.join("mailx")] {
                std::fs::write(&p, "").unwrap();
                let mode = if p.ends_with("mailx") { 0o644 } else { 0o755 };
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            }
            let env = Env {
                path: Some(std::env::join_paths([&a, &b]).unwrap()),
                ..Env::default()
            };
            // mailx is not executable, so Mail (earlier in the list) wins over mail.
            assert_eq!(env.default_mail_prog(), b.join("Mail").to_string_lossy());
        }
        let none = Env::default();
        assert_eq!(none.default_mail_prog(), "");
    }

    #[test]
    fn default_password_is_login_at_host() {
        let env = Env {
            hostname: "vm".into(),
            login: "ftp".into(),
            ..Env::default()
        };
        assert_eq!(env.default_password(), "ftp@vm");
    }
}
