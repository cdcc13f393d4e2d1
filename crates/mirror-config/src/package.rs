//! The typed [`Package`]: every keyword of a packages-file record, interpreted and validated,
//! with mirror.pl's built-in defaults (spec §2). Built by [`crate::Record::to_package`].
//!
//! Field names are the keyword names. Values that mirror.pl treated as Perl code are held as
//! data here ([`Substitutions`], expanded templates), so configuration never runs code.

use std::fmt;

use crate::site::Site;

/// A compiled user regex with Perl-compatible semantics (fancy-regex), kept with its source
/// text for messages and `-L`/debug dumps.
#[derive(Clone)]
pub struct Pattern {
    /// The pattern as written (after mirror.pl's `|` sanitising).
    pub source: String,
    /// The compiled regex.
    pub regex: fancy_regex::Regex,
}

impl Pattern {
    /// True if the pattern matches anywhere in `text` (patterns are unanchored, as in Perl).
    /// A match that exceeds the backtracking limit counts as no match.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text).unwrap_or(false)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.source)
    }
}

/// One `s/regex/replacement/flags` substitution (flags: `g`, `i`, `x`, `s`, `m`).
#[derive(Clone, Debug)]
pub struct Subst {
    /// The pattern to replace.
    pub pattern: Pattern,
    /// The replacement, with `$1`/`${1}`/`\1` group references already converted to the
    /// regex crate's `${1}` form.
    pub replacement: String,
    /// Replace every match (`g`) rather than the first.
    pub global: bool,
}

/// A sequence of substitutions applied in order (`name_mappings`, `ls_fix_mappings`,
/// `compress_conv_expr`, `pool_mappings`). Empty means "no change".
#[derive(Clone, Debug, Default)]
pub struct Substitutions(pub Vec<Subst>);

impl Substitutions {
    /// Applies every substitution in turn to `text`. Returns the result and whether any
    /// substitution matched (Perl's `s///` truth value, which `pool_mappings` relies on).
    pub fn apply(&self, text: &str) -> (String, bool) {
        let mut out = text.to_owned();
        let mut any = false;
        for s in &self.0 {
            let replaced = if s.global {
                s.pattern.regex.replace_all(&out, s.replacement.as_str())
            } else {
                s.pattern.regex.replace(&out, s.replacement.as_str())
            };
            if let std::borrow::Cow::Owned(new) = replaced {
                any = true;
                out = new;
            } else if s.pattern.is_match(&out) {
                any = true;
            }
        }
        (out, any)
    }

    /// True if there are no substitutions.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A `max_delete_files` / `max_delete_dirs` limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteLimit {
    /// At most this many entries.
    Count(u64),
    /// At most this percentage (1..=100) of the local entries of that type.
    Percent(u32),
}

/// A secret (password) whose `Debug` and `Display` never show the value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value itself, for sending to a server. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// One package, every keyword resolved (spec §2, in the spec's order). Empty-string
/// defaults of regex keywords are `None`; "unset" strings are empty.
#[derive(Clone, Debug)]
#[allow(missing_docs)] // each field is the keyword of the same name; see the README table
pub struct Package {
    // §2.1 identity
    pub hostname: String,
    pub package: String,
    /// `site`, parsed: a bare host means FTP.
    pub site: Option<Site>,
    /// The `site` text for messages and `-L`: whitespace stripped, and for a URL its
    /// [`Site::redacted`] form, so a password in the URL never shows.
    pub site_text: String,
    pub remote_dir: String,
    pub local_dir: String,

    // §2.2 connection
    pub remote_user: String,
    pub remote_password: Secret,
    pub remote_account: Secret,
    pub remote_group: String,
    pub remote_gpass: Secret,
    /// Seconds.
    pub timeout: u64,
    pub failed_gets_excl: Option<Pattern>,
    pub ftp_port: u16,
    pub proxy: bool,
    pub proxy_ftp_port: u16,
    pub proxy_gateway: String,
    pub using_socks: bool,
    pub passive_ftp: bool,
    pub retry_call: bool,
    pub disconnect: bool,
    pub remote_idle: String,

    // §2.3 selection
    pub get_patt: Option<Pattern>,
    /// `exclude_patt` with `local_ignore` OR-ed in (§1.5).
    pub exclude_patt: Option<Pattern>,
    pub local_ignore: Option<Pattern>,
    pub get_newer: bool,
    pub get_size_change: bool,
    pub make_bad_symlinks: bool,
    pub follow_local_symlinks: Option<Pattern>,
    pub get_missing: bool,
    pub get_file: bool,
    pub text_mode: bool,
    pub strip_cr: bool,
    pub vms_keep_versions: bool,
    pub vms_xfer_text: Option<Pattern>,
    pub name_mappings: Substitutions,
    pub update_local: bool,
    /// Days; 0 = no age limit.
    pub max_days: u64,
    /// Bytes; 0 = no size limit.
    pub max_size: u64,
    pub chmod: bool,

    // §2.4 local attributes
    pub user: String,
    pub group: String,
    pub mode_copy: bool,
    pub file_mode: u32,
    pub dir_mode: u32,
    pub force: bool,
    pub umask: u32,
    pub use_timelocal: bool,
    pub force_times: bool,

    // §2.5 deletion
    pub do_deletes: bool,
    pub delete_patt: Option<Pattern>,
    pub delete_get_patt: bool,
    pub delete_excl: Option<Pattern>,
    pub max_delete_files: DeleteLimit,
    pub max_delete_dirs: DeleteLimit,
    pub save_deletes: bool,
    /// Expanded (`$package` etc.).
    pub save_dir: String,
    /// Expanded; empty = off.
    pub store_remote_listing: String,
    pub delete_source: bool,

    // §2.6 compression
    pub compress_patt: Option<Pattern>,
    pub compress_excl: Option<Pattern>,
    pub compress_prog: String,
    pub compress_suffix: String,
    pub compress_conv_patt: Option<Pattern>,
    pub compress_conv_expr: Substitutions,
    pub compress_size_floor: u64,

    // §2.7 splitting
    pub split_max: u64,
    pub split_patt: Option<Pattern>,
    pub split_chunk: u64,

    // §2.8 listings
    pub remote_fs: String,
    pub ls_lr_file: String,
    pub local_ls_lr_file: String,
    pub recursive: bool,
    pub recurse_hard: bool,
    pub flags_recursive: String,
    pub flags_nonrecursive: String,
    pub ls_fix_mappings: Substitutions,

    // §2.9 reporting
    pub update_log: String,
    pub mail_to: String,
    pub mail_prog: String,
    /// Expanded; split into arguments shell-style (quotes respected) when mailing.
    pub mail_subject: String,
    pub comment: String,

    // §2.10 special
    pub use_files: bool,
    pub interactive: bool,
    pub skip: String,
    pub verbose: bool,
    pub algorithm: u32,
    pub local_dir_check: bool,

    // §2.12 Debian
    pub get_symlink_files: bool,
    pub bind_addr: String,
    pub compare_offline: bool,
    pub pool_listings: Option<Pattern>,
    pub pool_mappings: Substitutions,

    // extensions (new keywords, documented in the README)
    /// Transfers at once (`-j`). Default 4.
    pub parallel: usize,
    /// The FTP server's time zone for `LIST` times (an IANA name or `±HH:MM`); empty:
    /// `use_timelocal` decides. Validated when the package connects.
    pub remote_timezone: String,
    /// SFTP: private key file for public-key login; empty: password login.
    pub ssh_key: String,
    /// SFTP: the known_hosts file to check the host key against; empty: the usual files.
    pub ssh_known_hosts: String,
    /// SFTP: host key pins (fingerprints or public keys, comma-separated); empty: none.
    pub ssh_host_key: String,
    /// S3: the service URL; empty: `$AWS_ENDPOINT_URL`, else AWS itself.
    pub s3_endpoint: String,
    /// S3: the signing region; empty: `$AWS_REGION`, else `us-east-1`.
    pub s3_region: String,
    /// S3: access key id; empty: the usual AWS credential sources.
    pub s3_access_key: Secret,
    /// S3: secret access key (with `s3_access_key`).
    pub s3_secret_key: Secret,
}

impl Package {
    /// mirror.pl's built-in defaults (spec §2) for a package named `name`, with `hostname`
    /// and `remote_password` taken from the arguments instead of the machine, so results
    /// are reproducible. Regex defaults are compiled here.
    pub fn builtin(name: &str, hostname: &str, default_password: &str) -> Package {
        let pat =
            |s: &str, ci: bool| Some(crate::perlre::compile(s, ci).expect("built-in pattern"));
        Package {
            hostname: hostname.to_owned(),
            package: name.to_owned(),
            site: None,
            site_text: String::new(),
            remote_dir: String::new(),
            local_dir: String::new(),
            remote_user: "anonymous".into(),
            remote_password: Secret::new(default_password),
            remote_account: Secret::default(),
            remote_group: String::new(),
            remote_gpass: Secret::default(),
            timeout: 120,
            failed_gets_excl: None,
            ftp_port: 21,
            proxy: false,
            proxy_ftp_port: 4514,
            proxy_gateway: String::new(),
            using_socks: false,
            // Difference from mirror.pl: passive is the default (active mode breaks behind NAT).
            passive_ftp: true,
            retry_call: true,
            disconnect: false,
            remote_idle: String::new(),
            get_patt: pat(".", false),
            exclude_patt: None,
            local_ignore: None,
            get_newer: true,
            get_size_change: true,
            make_bad_symlinks: false,
            follow_local_symlinks: None,
            get_missing: true,
            get_file: true,
            text_mode: false,
            strip_cr: false,
            vms_keep_versions: true,
            vms_xfer_text: pat(r"readme$|info$|listing$|\.c$", true),
            name_mappings: Substitutions::default(),
            update_local: false,
            max_days: 0,
            max_size: 0,
            chmod: true,
            user: String::new(),
            group: String::new(),
            mode_copy: false,
            file_mode: 0o444,
            dir_mode: 0o755,
            force: false,
            umask: 0o7000,
            use_timelocal: true,
            force_times: true,
            do_deletes: false,
            delete_patt: pat(".", false),
            delete_get_patt: false,
            delete_excl: None,
            max_delete_files: DeleteLimit::Percent(10),
            max_delete_dirs: DeleteLimit::Percent(10),
            save_deletes: false,
            save_dir: "Old".into(),
            store_remote_listing: String::new(),
            delete_source: false,
            compress_patt: None,
            compress_excl: pat(r"\.(Z|z|gz)$", true),
            compress_prog: "compress".into(),
            compress_suffix: "Z".into(),
            compress_conv_patt: pat(r"(\.Z|\.taz)$", false),
            compress_conv_expr: builtin_subst(r"s/\.Z$/.gz/;s/\.taz$/.tgz/"),
            compress_size_floor: 0,
            split_max: 0,
            split_patt: None,
            split_chunk: 102_400,
            remote_fs: "unix".into(),
            ls_lr_file: String::new(),
            local_ls_lr_file: String::new(),
            recursive: true,
            recurse_hard: false,
            flags_recursive: "-lRat".into(),
            flags_nonrecursive: "-lat".into(),
            ls_fix_mappings: Substitutions::default(),
            update_log: String::new(),
            mail_to: String::new(),
            mail_prog: String::new(),
            mail_subject: "-s 'mirror update'".into(),
            comment: String::new(),
            use_files: false,
            interactive: false,
            skip: String::new(),
            verbose: false,
            algorithm: 0,
            local_dir_check: false,
            get_symlink_files: false,
            bind_addr: "0.0.0.0".into(),
            compare_offline: false,
            pool_listings: None,
            pool_mappings: builtin_subst(r"s:^Filename\: ::"),
            parallel: 4,
            remote_timezone: String::new(),
            ssh_key: String::new(),
            ssh_known_hosts: String::new(),
            ssh_host_key: String::new(),
            s3_endpoint: String::new(),
            s3_region: String::new(),
            s3_access_key: Secret::default(),
            s3_secret_key: Secret::default(),
        }
    }

    /// The root of the remote tree: for a URL site with a path, that path joined with
    /// `remote_dir` (`ftp://h/pub` + `gnu` = `/pub/gnu`); otherwise `remote_dir` itself.
    pub fn remote_root(&self) -> String {
        let base = self.site.as_ref().map_or("", |s| s.path.as_str());
        join_remote(base, &self.remote_dir)
    }
}

/// Joins a URL path and a `remote_dir`: either may be empty; one `/` between them.
fn join_remote(base: &str, dir: &str) -> String {
    match (base.is_empty(), dir.is_empty()) {
        (true, _) => dir.to_owned(),
        (false, true) => base.to_owned(),
        (false, false) => format!(
            "{}/{}",
            base.trim_end_matches('/'),
            dir.trim_start_matches('/')
        ),
    }
}

fn builtin_subst(code: &str) -> Substitutions {
    crate::subst::parse(code).expect("built-in substitution")
}
