//! Whether to trust an SSH server's host key: pinned keys (`ssh_host_key`) or known_hosts
//! files (`ssh_known_hosts`, else the user's and the system's). An unknown or changed key
//! refuses the connection; the message names the key's fingerprint and how to pin it, so an
//! operator can check it out of band and trust it deliberately. There is no "accept any key"
//! mode: a mirror that silently trusts whoever answers would copy whatever they serve.

use std::path::PathBuf;

use russh::keys::{HashAlg, PublicKey};

/// One pinned host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyPin {
    /// `SHA256:...` as `ssh-keygen -lf` prints it (base64 without padding).
    Fingerprint(String),
    /// A whole public key (`ssh-ed25519 AAAA...`, as in a `.pub` file or known_hosts).
    Key(Box<PublicKey>),
}

impl HostKeyPin {
    /// Parses one pin: a `SHA256:` fingerprint, or a public key line (`ALGO BASE64 [comment]`,
    /// or the base64 alone).
    pub fn parse(text: &str) -> Result<HostKeyPin, String> {
        let text = text.trim();
        if let Some(fp) = text.strip_prefix("SHA256:") {
            let fp = fp.trim_end_matches('=');
            if fp.is_empty()
                || !fp
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
            {
                return Err(format!("`{text}` is not a SHA256 fingerprint"));
            }
            return Ok(HostKeyPin::Fingerprint(format!("SHA256:{fp}")));
        }
        let mut words = text.split_whitespace();
        let first = words.next().unwrap_or_default();
        // "ssh-ed25519 AAAA... comment": the key is the second word; a bare key is the first.
        let b64 = match words.next() {
            Some(second) if !first.starts_with("AAAA") => second,
            _ => first,
        };
        russh::keys::parse_public_key_base64(b64)
            .map(|k| HostKeyPin::Key(Box::new(k)))
            .map_err(|e| {
                format!("`{text}` is neither a SHA256:... fingerprint nor a public key ({e})")
            })
    }

    /// Parses a comma-separated list of pins (the `ssh_host_key` keyword).
    pub fn parse_list(text: &str) -> Result<Vec<HostKeyPin>, String> {
        text.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(HostKeyPin::parse)
            .collect()
    }

    fn matches(&self, key: &PublicKey) -> bool {
        match self {
            HostKeyPin::Fingerprint(fp) => *fp == fingerprint(key),
            HostKeyPin::Key(k) => k.key_data() == key.key_data(),
        }
    }
}

/// `SHA256:...`, the form `ssh-keygen -lf` and OpenSSH's own prompts show.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// How host keys are checked.
#[derive(Debug, Clone, Default)]
pub struct HostKeyPolicy {
    /// Pinned keys: when any are given, the server's key must be one of them and known_hosts
    /// files are not read.
    pub pins: Vec<HostKeyPin>,
    /// known_hosts files, in order (missing files are skipped).
    pub known_hosts: Vec<PathBuf>,
}

impl HostKeyPolicy {
    /// The usual files: `~/.ssh/known_hosts`, then `/etc/ssh/ssh_known_hosts`.
    pub fn default_files() -> Vec<PathBuf> {
        let mut files = Vec::new();
        if let Some(home) = std::env::home_dir() {
            files.push(home.join(".ssh/known_hosts"));
        }
        files.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
        files
    }

    /// `Ok` if `key` is trusted for `host:port`, else the reason, for the operator.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> Result<(), String> {
        let fp = fingerprint(key);
        let algo = key.algorithm();
        let shown = if port == 22 {
            host.to_owned()
        } else {
            format!("[{host}]:{port}")
        };
        if !self.pins.is_empty() {
            if self.pins.iter().any(|p| p.matches(key)) {
                return Ok(());
            }
            return Err(format!(
                "the host key of {shown} ({algo} {fp}) is not the one pinned by ssh_host_key"
            ));
        }
        for file in &self.known_hosts {
            match russh::keys::check_known_hosts_path(host, port, key, file) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(russh::keys::Error::KeyChanged { line }) => {
                    return Err(format!(
                        "HOST KEY CHANGED for {shown}: it is now {algo} {fp}, but line {line} of \
                         {} records another key; check with the server's administrator",
                        file.display()
                    ));
                }
                Err(e) => {
                    return Err(format!("cannot read {}: {e}", file.display()));
                }
            }
        }
        let files: Vec<String> = self
            .known_hosts
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        Err(format!(
            "the host key of {shown} ({algo} {fp}) is not in {}; after checking it, pin it \
             with ssh_host_key={fp} or add it to known_hosts (ssh-keyscan{} {host})",
            if files.is_empty() {
                "any known_hosts file".to_owned()
            } else {
                files.join(" or ")
            },
            if port == 22 {
                String::new()
            } else {
                format!(" -p {port}")
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with `ssh-keygen -t ed25519`; the fingerprints are what `ssh-keygen -lf` printed.
    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIPrV3XurYKa/qBEg9rkJp86XeN1nXf3DRSyw0RMYgyFa";
    const KEY_FP: &str = "SHA256:iKMsN0EX05eNCLUW9YzkQAntw/LMngvKKnzWZ/MspIg";
    const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAICNTjxODQA6yXTVGJ6HzW9An7NQnr3uKPuRQDLzTW+zp";
    const OTHER_FP: &str = "SHA256:fH776SvjFH40oX2yAGodMwwmCEAtRRPA1hq1DRjMnm0";

    fn key(b64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b64).unwrap()
    }

    #[test]
    fn fingerprints_are_what_ssh_keygen_prints() {
        assert_eq!(fingerprint(&key(KEY)), KEY_FP);
        assert_eq!(fingerprint(&key(OTHER)), OTHER_FP);
    }

    #[test]
    fn pins_parse_in_every_usual_form() {
        for text in [
            KEY_FP.to_owned(),
            format!("{KEY_FP}="),
            format!("ssh-ed25519 {KEY}"),
            format!("ssh-ed25519 {KEY} root@vm"),
            KEY.to_owned(),
        ] {
            let pin = HostKeyPin::parse(&text).unwrap();
            assert!(pin.matches(&key(KEY)), "{text}");
            assert!(!pin.matches(&key(OTHER)), "{text}");
        }
        assert!(HostKeyPin::parse("SHA256:").is_err());
        assert!(HostKeyPin::parse("md5:aa:bb").is_err());
        let list = HostKeyPin::parse_list(&format!("{OTHER_FP}, ssh-ed25519 {KEY}")).unwrap();
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn unknown_and_changed_keys_are_refused_with_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let kh = dir.path().join("known_hosts");
        let policy = HostKeyPolicy {
            pins: vec![],
            known_hosts: vec![dir.path().join("absent"), kh.clone()],
        };
        let e = policy.check("127.0.0.1", 2222, &key(KEY)).unwrap_err();
        assert!(e.contains(KEY_FP), "{e}");
        assert!(e.contains(&format!("ssh_host_key={KEY_FP}")), "{e}");
        assert!(e.contains("ssh-keyscan -p 2222 127.0.0.1"), "{e}");
        std::fs::write(&kh, format!("[127.0.0.1]:2222 ssh-ed25519 {KEY}\n")).unwrap();
        policy.check("127.0.0.1", 2222, &key(KEY)).unwrap();
        // Same host and port, same key type, another key: changed.
        let e = policy.check("127.0.0.1", 2222, &key(OTHER)).unwrap_err();
        assert!(
            e.contains("HOST KEY CHANGED") && e.contains(OTHER_FP),
            "{e}"
        );
        // Another port is another host for known_hosts.
        assert!(policy.check("127.0.0.1", 2223, &key(KEY)).is_err());
        // Pins win over known_hosts.
        let pinned = HostKeyPolicy {
            pins: vec![HostKeyPin::parse(OTHER_FP).unwrap()],
            known_hosts: vec![kh],
        };
        pinned.check("127.0.0.1", 2222, &key(OTHER)).unwrap();
        let e = pinned.check("127.0.0.1", 2222, &key(KEY)).unwrap_err();
        assert!(e.contains("pinned") && e.contains(KEY_FP), "{e}");
    }
}
