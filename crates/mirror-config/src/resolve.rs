//! [`Record::to_package`]: the raw values of one record interpreted into a typed [`Package`]
//! (spec §1.5 and §4.1 step 1): `<file` indirection, Perl single-quote unescaping, booleans,
//! modes, sizes, regexes, substitutions, templates, the site, the `compress_prog` /
//! `compress_suffix` rule, and the required-keyword check. Every problem of the record is
//! reported at once; any error skips the package, as a bad regex did in mirror.pl.

use std::collections::HashMap;

use crate::diag::{Diagnostic, Span};
use crate::env::Env;
use crate::keywords::{KEYWORDS, KeywordClass, KeywordInfo};
use crate::package::{Package, Pattern, Secret, Substitutions};
use crate::perlre;
use crate::record::{RawValue, Record};
use crate::site::{Scheme, Site};
use crate::subst;
use crate::value::{self, Note};

/// The listing parsers mirror.pl knew (spec §5.4).
const REMOTE_FS: [&str; 15] = [
    "unix",
    "dls",
    "netware",
    "vms",
    "dosftp",
    "dosish",
    "macos",
    "lsparse",
    "infomac",
    "supertcp",
    "os2",
    "chameleon",
    "eplf",
    "ctan",
    "cms",
];

/// The warning-worthy reading of a boolean or mode value (the value as written, after
/// unescaping), or `None`.
pub(crate) fn value_note(info: &KeywordInfo, text: &str) -> Option<Note> {
    match info.class {
        KeywordClass::Bool => value::parse_bool(info.name, text).ok()?.1,
        KeywordClass::Mode => {
            value::parse_mode(&value::unescape_single_quoted(text))
                .ok()?
                .1
        }
        _ => None,
    }
}

/// The default of a keyword computed from the machine (see `KeywordInfo::builtin_text`).
fn computed_default(name: &str, env: &Env) -> String {
    match name {
        "hostname" => env.hostname.clone(),
        "remote_password" => env.default_password(),
        "proxy_gateway" => env.internet_host.clone().unwrap_or_default(),
        "mail_prog" => env.default_mail_prog(),
        _ => String::new(),
    }
}

impl Record {
    /// Interprets the record into a [`Package`], with the warnings about it (values mirror.pl
    /// read differently, for those loading did not already report). On error, every error of
    /// the record; the package must then be skipped.
    pub fn to_package(&self, env: &Env) -> Result<(Package, Vec<Diagnostic>), Vec<Diagnostic>> {
        let mut r = Resolver {
            rec: self,
            texts: HashMap::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        r.load_texts(env);
        let pkg = r.build(env);
        if r.errors.is_empty() {
            Ok((pkg, r.warnings))
        } else {
            Err(r.errors)
        }
    }
}

struct Resolver<'a> {
    rec: &'a Record,
    /// Each set keyword's text after `<file` indirection and unescaping.
    texts: HashMap<&'static str, String>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn raw(&self, key: &str) -> Option<&RawValue> {
        self.rec.values.get(key)
    }

    fn span(&self, key: &str) -> Option<Span> {
        self.raw(key).and_then(|r| r.span.clone())
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.texts.get(key).map(String::as_str)
    }

    fn error(&mut self, key: &str, msg: String) {
        let d = Diagnostic::error(
            format!(
                "invalid value for `{key}` in package `{}`: {msg}",
                self.rec.name
            ),
            self.span(key),
        );
        self.errors.push(d);
    }

    fn load_texts(&mut self, env: &Env) {
        for info in KEYWORDS {
            let Some(raw) = self.raw(info.name) else {
                continue;
            };
            let mut text = if raw.onto_builtin {
                format!("{}{}", computed_default(info.name, env), raw.text)
            } else {
                raw.text.clone()
            };
            let indirect = text.starts_with('<');
            if indirect {
                match value::read_indirect(&text[1..]) {
                    Ok(t) => text = t,
                    Err(e) => {
                        let d = Diagnostic::error(
                            format!("{e} (for `{}` in package `{}`)", info.name, self.rec.name),
                            self.span(info.name),
                        )
                        .with_help(
                            "a value starting with `<` names a file whose first line is the value",
                        );
                        self.errors.push(d);
                        continue;
                    }
                }
            }
            if (!raw.checked || indirect)
                && let Some(note) = value_note(info, &text)
            {
                let d = Diagnostic::warning(note.message, raw.span.clone()).with_help(note.help);
                self.warnings.push(d);
            }
            if info.class != KeywordClass::Bool {
                text = value::unescape_single_quoted(&text);
            }
            self.texts.insert(info.name, text);
        }
    }

    fn string(&self, key: &str, field: &mut String) {
        if let Some(t) = self.text(key) {
            t.clone_into(field);
        }
    }

    fn secret(&self, key: &str, field: &mut Secret) {
        if let Some(t) = self.text(key) {
            *field = Secret::new(t);
        }
    }

    fn boolean(&mut self, key: &str, field: &mut bool) {
        let Some(t) = self.text(key) else { return };
        match value::parse_bool(key, t) {
            Ok((b, _)) => *field = b,
            Err(e) => self.error(key, e),
        }
    }

    fn number(&mut self, key: &str) -> Option<u64> {
        let t = self.text(key)?;
        match value::parse_number(t) {
            Ok(n) => Some(n),
            Err(e) => {
                self.error(key, e);
                None
            }
        }
    }

    fn port(&mut self, key: &str, field: &mut u16) {
        let Some(t) = self.text(key) else { return };
        match value::parse_port(t) {
            Ok(p) => *field = p,
            Err(e) => self.error(key, e),
        }
    }

    fn mode(&mut self, key: &str, field: &mut u32) {
        let Some(t) = self.text(key) else { return };
        match value::parse_mode(t) {
            Ok((m, _)) => *field = m,
            Err(e) => self.error(key, e),
        }
    }

    fn size(&mut self, key: &str, field: &mut u64) {
        let Some(t) = self.text(key) else { return };
        match value::parse_size(t) {
            Ok(s) => *field = s,
            Err(e) => self.error(key, e),
        }
    }

    fn limit(&mut self, key: &str, field: &mut crate::package::DeleteLimit) {
        let Some(t) = self.text(key) else { return };
        match value::parse_delete_limit(t) {
            Ok(l) => *field = l,
            Err(e) => self.error(key, e),
        }
    }

    /// The sanitised source of a regex keyword, if set (an empty one is `Some("")`).
    fn regex_source(&self, key: &str) -> Option<String> {
        self.text(key).map(value::sanitize_alternation)
    }

    fn regex(&mut self, info: &KeywordInfo, field: &mut Option<Pattern>) {
        let Some(src) = self.regex_source(info.name) else {
            return;
        };
        *field = self.compile(info.name, &src, info.class == KeywordClass::RegexCaseless);
    }

    fn compile(&mut self, key: &str, src: &str, caseless: bool) -> Option<Pattern> {
        if src.is_empty() {
            return None;
        }
        match perlre::compile(src, caseless) {
            Ok(p) => Some(p),
            Err(e) => {
                let d = Diagnostic::error(
                    format!(
                        "invalid regex in `{key}` of package `{}`: {e}",
                        self.rec.name
                    ),
                    self.span(key),
                )
                .with_help(format!(
                    "the pattern (after mirror.pl's `|` clean-up) is `{src}`; Perl features \
                     that are not supported are listed in REGEX.md"
                ));
                self.errors.push(d);
                None
            }
        }
    }

    fn substitutions(&mut self, key: &str, field: &mut Substitutions) {
        let Some(t) = self.text(key) else { return };
        match subst::parse(t) {
            Ok(s) => *field = s,
            Err(e) => self.error(key, e),
        }
    }

    fn template(&mut self, key: &str, pkg: &Package, field: &mut String) {
        let Some(t) = self.text(key) else { return };
        let lookup = |name: &str| -> Option<String> {
            Some(match name {
                "package" => pkg.package.clone(),
                "site" => pkg.site_text.clone(),
                "remote_dir" => pkg.remote_dir.clone(),
                "local_dir" => pkg.local_dir.clone(),
                "comment" => pkg.comment.clone(),
                "hostname" => pkg.hostname.clone(),
                _ => return None,
            })
        };
        match value::expand_template(t, lookup) {
            Ok(s) => *field = s,
            Err(e) => self.error(key, e),
        }
    }

    fn build(&mut self, env: &Env) -> Package {
        let name = self
            .text("package")
            .map_or_else(|| self.rec.name.clone(), str::to_owned);
        let mut p = Package::builtin(&name, &env.hostname, &env.default_password());
        p.proxy_gateway = computed_default("proxy_gateway", env);
        p.mail_prog = computed_default("mail_prog", env);

        // Plain values first: templates and the site rules below read them.
        for info in KEYWORDS {
            let key = info.name;
            match key {
                "hostname" => self.string(key, &mut p.hostname),
                "remote_dir" => self.string(key, &mut p.remote_dir),
                "local_dir" => self.string(key, &mut p.local_dir),
                "remote_user" => self.string(key, &mut p.remote_user),
                "remote_password" => self.secret(key, &mut p.remote_password),
                "remote_account" => self.secret(key, &mut p.remote_account),
                "remote_group" => self.string(key, &mut p.remote_group),
                "remote_gpass" => self.secret(key, &mut p.remote_gpass),
                "timeout" => {
                    if let Some(n) = self.number(key) {
                        p.timeout = n;
                    }
                }
                "failed_gets_excl" => self.regex(info, &mut p.failed_gets_excl),
                "ftp_port" => self.port(key, &mut p.ftp_port),
                "proxy" => self.boolean(key, &mut p.proxy),
                "proxy_ftp_port" => self.port(key, &mut p.proxy_ftp_port),
                "proxy_gateway" => self.string(key, &mut p.proxy_gateway),
                "using_socks" => self.boolean(key, &mut p.using_socks),
                "passive_ftp" => self.boolean(key, &mut p.passive_ftp),
                "retry_call" => self.boolean(key, &mut p.retry_call),
                "disconnect" => self.boolean(key, &mut p.disconnect),
                "remote_idle" => self.string(key, &mut p.remote_idle),
                "get_patt" => self.regex(info, &mut p.get_patt),
                "local_ignore" => self.regex(info, &mut p.local_ignore),
                "get_newer" => self.boolean(key, &mut p.get_newer),
                "get_size_change" => self.boolean(key, &mut p.get_size_change),
                "make_bad_symlinks" => self.boolean(key, &mut p.make_bad_symlinks),
                "follow_local_symlinks" => self.regex(info, &mut p.follow_local_symlinks),
                "get_missing" => self.boolean(key, &mut p.get_missing),
                "get_file" => self.boolean(key, &mut p.get_file),
                "text_mode" => self.boolean(key, &mut p.text_mode),
                "strip_cr" => self.boolean(key, &mut p.strip_cr),
                "vms_keep_versions" => self.boolean(key, &mut p.vms_keep_versions),
                "vms_xfer_text" => self.regex(info, &mut p.vms_xfer_text),
                "name_mappings" => self.substitutions(key, &mut p.name_mappings),
                "external_mapping" => {
                    if self.text(key).is_some_and(|t| !t.trim().is_empty()) {
                        let d = Diagnostic::error(
                            format!(
                                "`external_mapping` is not supported (package `{}`): mirror.pl \
                                 loaded Perl code from that file",
                                self.rec.name
                            ),
                            self.span(key),
                        )
                        .with_help(
                            "express the mapping as name_mappings=s/regex/replacement/flags \
                             substitutions",
                        );
                        self.errors.push(d);
                    }
                }
                "update_local" => self.boolean(key, &mut p.update_local),
                "max_days" => {
                    if let Some(n) = self.number(key) {
                        p.max_days = n;
                    }
                }
                "max_size" => {
                    if let Some(n) = self.number(key) {
                        p.max_size = n;
                    }
                }
                "chmod" => self.boolean(key, &mut p.chmod),
                "user" => self.string(key, &mut p.user),
                "group" => self.string(key, &mut p.group),
                "mode_copy" => self.boolean(key, &mut p.mode_copy),
                "file_mode" => self.mode(key, &mut p.file_mode),
                "dir_mode" => self.mode(key, &mut p.dir_mode),
                "force" => self.boolean(key, &mut p.force),
                "umask" => self.mode(key, &mut p.umask),
                "use_timelocal" => self.boolean(key, &mut p.use_timelocal),
                "force_times" => self.boolean(key, &mut p.force_times),
                "do_deletes" => self.boolean(key, &mut p.do_deletes),
                "delete_patt" => self.regex(info, &mut p.delete_patt),
                "delete_get_patt" => self.boolean(key, &mut p.delete_get_patt),
                "delete_excl" => self.regex(info, &mut p.delete_excl),
                "max_delete_files" => self.limit(key, &mut p.max_delete_files),
                "max_delete_dirs" => self.limit(key, &mut p.max_delete_dirs),
                "save_deletes" => self.boolean(key, &mut p.save_deletes),
                "delete_source" => self.boolean(key, &mut p.delete_source),
                "compress_patt" => self.regex(info, &mut p.compress_patt),
                "compress_excl" => self.regex(info, &mut p.compress_excl),
                "compress_prog" => self.string(key, &mut p.compress_prog),
                "compress_suffix" => self.string(key, &mut p.compress_suffix),
                "compress_conv_patt" => self.regex(info, &mut p.compress_conv_patt),
                "compress_conv_expr" => self.substitutions(key, &mut p.compress_conv_expr),
                "compress_size_floor" => {
                    if let Some(n) = self.number(key) {
                        p.compress_size_floor = n;
                    }
                }
                "split_max" => self.size(key, &mut p.split_max),
                "split_patt" => self.regex(info, &mut p.split_patt),
                "split_chunk" => self.size(key, &mut p.split_chunk),
                "remote_fs" => self.string(key, &mut p.remote_fs),
                "ls_lR_file" => self.string(key, &mut p.ls_lr_file),
                "local_ls_lR_file" => self.string(key, &mut p.local_ls_lr_file),
                "recursive" => self.boolean(key, &mut p.recursive),
                "recurse_hard" => self.boolean(key, &mut p.recurse_hard),
                "flags_recursive" => self.string(key, &mut p.flags_recursive),
                "flags_nonrecursive" => self.string(key, &mut p.flags_nonrecursive),
                "ls_fix_mappings" => self.substitutions(key, &mut p.ls_fix_mappings),
                "update_log" => self.string(key, &mut p.update_log),
                "mail_to" => self.string(key, &mut p.mail_to),
                "mail_prog" => self.string(key, &mut p.mail_prog),
                "comment" => self.string(key, &mut p.comment),
                "use_files" => self.boolean(key, &mut p.use_files),
                "interactive" => self.boolean(key, &mut p.interactive),
                "skip" => self.string(key, &mut p.skip),
                "verbose" => self.boolean(key, &mut p.verbose),
                "algorithm" => {
                    if let Some(n) = self.number(key) {
                        if n > 1 {
                            self.error(key, format!("`{n}` is not an algorithm (0 or 1)"));
                        } else {
                            p.algorithm = n as u32;
                        }
                    }
                }
                "local_dir_check" => self.boolean(key, &mut p.local_dir_check),
                "get_symlink_files" => self.boolean(key, &mut p.get_symlink_files),
                "bind_addr" => self.string(key, &mut p.bind_addr),
                "compare_offline" => self.boolean(key, &mut p.compare_offline),
                "pool_listings" => self.regex(info, &mut p.pool_listings),
                "pool_mappings" => self.substitutions(key, &mut p.pool_mappings),
                "remote_timezone" => self.string(key, &mut p.remote_timezone),
                "ssh_key" => self.string(key, &mut p.ssh_key),
                "ssh_known_hosts" => self.string(key, &mut p.ssh_known_hosts),
                "ssh_host_key" => self.string(key, &mut p.ssh_host_key),
                "s3_endpoint" => self.string(key, &mut p.s3_endpoint),
                "s3_region" => self.string(key, &mut p.s3_region),
                "s3_access_key" => self.secret(key, &mut p.s3_access_key),
                "s3_secret_key" => self.secret(key, &mut p.s3_secret_key),
                "parallel" => {
                    if let Some(n) = self.number(key) {
                        match usize::try_from(n) {
                            Ok(n) if n >= 1 => p.parallel = n,
                            _ => self.error(key, format!("`{n}`: at least 1 transfer must run")),
                        }
                    }
                }
                // Handled below, in dependency order.
                "package"
                | "site"
                | "exclude_patt"
                | "save_dir"
                | "store_remote_listing"
                | "mail_subject" => {}
                other => unreachable!("keyword `{other}` has no interpretation"),
            }
        }

        self.site(&mut p);
        self.exclude(&mut p);
        self.compression(&mut p);
        self.checks(&p);
        let mut save_dir = std::mem::take(&mut p.save_dir);
        self.template("save_dir", &p, &mut save_dir);
        p.save_dir = save_dir;
        let mut listing = std::mem::take(&mut p.store_remote_listing);
        self.template("store_remote_listing", &p, &mut listing);
        p.store_remote_listing = listing;
        let mut subject = std::mem::take(&mut p.mail_subject);
        self.template("mail_subject", &p, &mut subject);
        p.mail_subject = subject;
        p
    }

    /// `site`: parsed; a user, password or FTP port in the URL wins over the keywords.
    fn site(&mut self, p: &mut Package) {
        let Some(text) = self.text("site").map(str::trim).map(str::to_owned) else {
            return;
        };
        if text.is_empty() {
            return;
        }
        match Site::parse(&text) {
            Ok(site) => {
                p.site_text = if text.contains("://") {
                    site.redacted()
                } else {
                    text
                };
                if let Some(user) = &site.user {
                    p.remote_user.clone_from(user);
                }
                if let Some(pass) = &site.password {
                    p.remote_password = pass.clone();
                }
                if matches!(site.scheme, Scheme::Ftp | Scheme::Ftps)
                    && let Some(port) = site.port
                {
                    p.ftp_port = port;
                }
                p.site = Some(site);
            }
            Err(e) => {
                let d = Diagnostic::error(
                    format!("invalid site in package `{}`: {e}", self.rec.name),
                    self.span("site"),
                );
                self.errors.push(d);
            }
        }
    }

    /// `exclude_patt` with `local_ignore` OR-ed in (spec §1.5).
    fn exclude(&mut self, p: &mut Package) {
        let excl = self.regex_source("exclude_patt").unwrap_or_default();
        let ignore = self.regex_source("local_ignore").unwrap_or_default();
        let own = self.compile("exclude_patt", &excl, false);
        if ignore.is_empty() || p.local_ignore.is_none() {
            p.exclude_patt = own;
            return;
        }
        if excl.is_empty() {
            p.exclude_patt.clone_from(&p.local_ignore);
            return;
        }
        if own.is_none() {
            return; // already reported
        }
        // Each side in its own group, so inline flags of one (`(?i)`) do not leak into the
        // other; the source shown is mirror.pl's `exclude_patt|local_ignore`.
        let combined = (|| {
            let a = perlre::translate(&excl, false)?;
            let b = perlre::translate(&ignore, false)?;
            let regex =
                fancy_regex::Regex::new(&format!("(?:{a})|(?:{b})")).map_err(|e| e.to_string())?;
            Ok::<_, String>(Pattern {
                source: format!("{excl}|{ignore}"),
                regex,
            })
        })();
        match combined {
            Ok(pat) => p.exclude_patt = Some(pat),
            Err(e) => self.error(
                "exclude_patt",
                format!("cannot be combined with `local_ignore`: {e}"),
            ),
        }
    }

    /// The `compress_prog` / `compress_suffix` rule (spec §1.4, recommended semantics): the
    /// words `compress` and `gzip` set the suffix (`Z`, `gz`) unless `compress_suffix` was set
    /// in the same record as `compress_prog` or a later one.
    fn compression(&mut self, p: &mut Package) {
        let prog_record = self.raw("compress_prog").map_or(0, |r| r.record);
        let suffix_set = self.raw("compress_suffix").map(|r| r.record);
        let derived = match p.compress_prog.trim() {
            "compress" => Some("Z"),
            "gzip" => Some("gz"),
            _ => None,
        };
        match derived {
            Some(d) => {
                p.compress_prog = p.compress_prog.trim().to_owned();
                if suffix_set.is_none_or(|s| s < prog_record) {
                    p.compress_suffix = d.to_owned();
                }
            }
            None if p.compress_prog.trim().is_empty() => {
                if p.compress_patt.is_some() {
                    p.compress_patt = None;
                    self.warnings.push(
                        Diagnostic::warning(
                            format!(
                                "package `{}`: compress_patt is set but compress_prog is empty, \
                                 so nothing is compressed",
                                self.rec.name
                            ),
                            self.span("compress_prog"),
                        )
                        .with_help("mirror.pl reset compress_patt the same way"),
                    );
                }
            }
            None => {
                if p.compress_patt.is_some() && suffix_set.is_none() {
                    self.warnings.push(
                        Diagnostic::warning(
                            format!(
                                "package `{}`: compress_prog `{}` is not `compress` or `gzip`, \
                                 and compress_suffix is not set (using `{}`)",
                                self.rec.name, p.compress_prog, p.compress_suffix
                            ),
                            self.span("compress_prog"),
                        )
                        .with_help("set compress_suffix after compress_prog"),
                    );
                }
            }
        }
    }

    /// What mirror.pl checked before starting a package.
    fn checks(&mut self, p: &Package) {
        let mut missing = Vec::new();
        if self.text("site").is_none_or(|s| s.trim().is_empty()) {
            missing.push("site");
        }
        let url_has_path = p.site.as_ref().is_some_and(|s| {
            self.text("site").is_some_and(|t| t.contains("://")) && !s.path.is_empty()
        });
        if p.remote_dir.is_empty() && !url_has_path {
            missing.push("remote_dir");
        }
        if p.local_dir.is_empty() {
            missing.push("local_dir");
        }
        if !missing.is_empty() {
            let list = match missing.as_slice() {
                [one] => format!("`{one}`"),
                [init @ .., last] => format!(
                    "{} and `{last}`",
                    init.iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                [] => unreachable!(),
            };
            self.errors.push(
                Diagnostic::error(
                    format!("package `{}` has no {list}", self.rec.name),
                    self.rec.span.clone(),
                )
                .with_help(
                    "a package needs site, remote_dir and local_dir (remote_dir may be left out \
                     when site is a URL with a path)",
                ),
            );
        }
        if p.split_max != 0 {
            if p.split_chunk == 0 || !p.split_chunk.is_multiple_of(512) {
                self.error(
                    "split_chunk",
                    format!("{} is not a multiple of 512", p.split_chunk),
                );
            } else if p.split_max <= p.split_chunk {
                self.error(
                    "split_max",
                    format!(
                        "{} must be larger than split_chunk ({})",
                        p.split_max, p.split_chunk
                    ),
                );
            }
        }
        if !REMOTE_FS.contains(&p.remote_fs.as_str()) {
            self.error(
                "remote_fs",
                format!(
                    "unknown listing format `{}` (known: {})",
                    p.remote_fs,
                    REMOTE_FS.join(" ")
                ),
            );
        }
    }
}
