//! The keyword table: every keyword a packages file may use (spec §2, in the spec's order, plus
//! our extensions), with its class, its built-in default as the README shows it, a one-line
//! description and whether this implementation acts on it yet.
//!
//! The table is the single list of names: the lexer's "unknown keyword" check, the did-you-mean
//! hints, `-k` validation and the README's keyword reference all come from here.

/// How a keyword's value is read (spec §1.5, §2.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeywordClass {
    /// Free text, taken verbatim.
    Text,
    /// A local or remote path, taken verbatim (whitespace around it is kept, and warned about).
    Path,
    /// A password or similar; taken verbatim and never shown.
    Secret,
    /// The site: a bare host (FTP) or a URL; whitespace around it is stripped.
    Site,
    /// `1 yes ok true` (any case) are true; `0 no false off` and empty are false.
    Bool,
    /// An unsigned decimal integer.
    Number,
    /// A TCP port, 1 to 65535.
    Port,
    /// Permission bits, octal (`0644`).
    Mode,
    /// A byte count with an optional `k`, `m` or `b` (512-byte blocks) suffix.
    Size,
    /// A deletion limit: a count `N` or a percentage `N%`.
    DeleteLimit,
    /// A Perl regular expression, unanchored, case-sensitive.
    Regex,
    /// A Perl regular expression, unanchored, case-insensitive.
    RegexCaseless,
    /// Text in which `$package`, `$site`, `$remote_dir`, `$local_dir`, `$comment` and
    /// `$hostname` are expanded.
    Template,
    /// A sequence of `s/regex/replacement/flags` substitutions.
    Substitutions,
}

/// Whether this implementation acts on a keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Read and used.
    Implemented,
    /// Read and validated, but has no effect; the reason says why.
    Ignored(&'static str),
    /// Read and validated; takes effect once the named part exists.
    Planned(&'static str),
    /// Accepted only with its default (empty) value; any other value skips the package.
    Refused(&'static str),
}

/// One keyword of the packages-file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeywordInfo {
    /// The keyword, exactly as written in a packages file (case-sensitive).
    pub name: &'static str,
    /// How its value is read.
    pub class: KeywordClass,
    /// The built-in default, as the README shows it (computed ones are described).
    pub default: &'static str,
    /// One line saying what it does.
    pub doc: &'static str,
    /// Whether it takes effect.
    pub status: Status,
}

impl KeywordInfo {
    /// The built-in default as raw packages-file text, the value `key+text` appends to; `None`
    /// for the defaults computed from the machine (`hostname`, `remote_password`,
    /// `proxy_gateway`, `mail_prog`), which only [`crate::Env`] knows.
    pub fn builtin_text(&self) -> Option<&'static str> {
        match self.name {
            "hostname" | "remote_password" | "proxy_gateway" | "mail_prog" => None,
            _ => Some(self.default),
        }
    }

    /// True for booleans.
    pub fn is_bool(&self) -> bool {
        self.class == KeywordClass::Bool
    }
}

const FTP: Status = Status::Planned("FTP backend");
const REMOTE: Status = Status::Planned("remote backends");
const IMPL: Status = Status::Implemented;

const fn kw(
    name: &'static str,
    class: KeywordClass,
    default: &'static str,
    doc: &'static str,
    status: Status,
) -> KeywordInfo {
    KeywordInfo {
        name,
        class,
        default,
        doc,
        status,
    }
}

use KeywordClass as C;

/// Every keyword, in the order of the spec's keyword reference (§2.1 to §2.12), then the
/// extensions.
pub static KEYWORDS: &[KeywordInfo] = &[
    // §2.1 identity / required
    kw(
        "hostname",
        C::Text,
        "the local host name",
        "Name of this host; a package whose site is this host is skipped (unless force).",
        IMPL,
    ),
    kw(
        "package",
        C::Text,
        "",
        "Record name; starts a record. `package=defaults` changes the defaults.",
        IMPL,
    ),
    kw(
        "site",
        C::Site,
        "",
        "Remote host (FTP) or URL: ftp:// ftps:// http:// https:// sftp:// s3:// file://.",
        IMPL,
    ),
    kw(
        "remote_dir",
        C::Path,
        "",
        "Remote directory to mirror (joined to the URL path for URL sites).",
        IMPL,
    ),
    kw(
        "local_dir",
        C::Path,
        "",
        "Local directory the copy lives in; created if missing.",
        IMPL,
    ),
    // §2.2 connection
    kw(
        "remote_user",
        C::Text,
        "anonymous",
        "User name to log in with (a user in the site URL wins).",
        REMOTE,
    ),
    kw(
        "remote_password",
        C::Secret,
        "$USER@hostname",
        "Password to log in with; `<file` reads it from a file.",
        REMOTE,
    ),
    kw(
        "remote_account",
        C::Secret,
        "",
        "Sent with ACCT if the FTP server asks for an account.",
        IMPL,
    ),
    kw(
        "remote_group",
        C::Text,
        "",
        "If set, sent as SITE GROUP after login.",
        IMPL,
    ),
    kw(
        "remote_gpass",
        C::Secret,
        "",
        "If set, sent as SITE GPASS after login.",
        IMPL,
    ),
    kw(
        "timeout",
        C::Number,
        "120",
        "Seconds to wait for a connection or a reply.",
        REMOTE,
    ),
    kw(
        "failed_gets_excl",
        C::Regex,
        "",
        "Failed transfers whose server reply matches are left out of the report.",
        IMPL,
    ),
    kw("ftp_port", C::Port, "21", "FTP control port.", FTP),
    kw(
        "proxy",
        C::Bool,
        "0",
        "Log in through an FTP proxy gateway as user@site.",
        FTP,
    ),
    kw(
        "proxy_ftp_port",
        C::Port,
        "4514",
        "Port of the FTP proxy gateway.",
        FTP,
    ),
    kw(
        "proxy_gateway",
        C::Text,
        "$INTERNET_HOST",
        "FTP proxy gateway host.",
        FTP,
    ),
    kw(
        "using_socks",
        C::Bool,
        "0",
        "mirror.pl ran under a SOCKS-enabled Perl.",
        Status::Ignored("SOCKS is configured outside mirror"),
    ),
    kw(
        "passive_ftp",
        C::Bool,
        "1",
        "Use passive FTP data connections (mirror.pl's default was active).",
        IMPL,
    ),
    kw(
        "retry_call",
        C::Bool,
        "1",
        "Retry a failed connection once after a pause.",
        REMOTE,
    ),
    kw(
        "disconnect",
        C::Bool,
        "0",
        "Close the connection after this package even if the next uses the same site.",
        IMPL,
    ),
    kw(
        "remote_idle",
        C::Text,
        "",
        "If set and supported, sent as SITE IDLE.",
        FTP,
    ),
    // §2.3 selection
    kw(
        "get_patt",
        C::Regex,
        ".",
        "Only remote paths matching this are mirrored.",
        IMPL,
    ),
    kw(
        "exclude_patt",
        C::Regex,
        "",
        "Remote paths matching this are ignored (their local copies may be deleted).",
        IMPL,
    ),
    kw(
        "local_ignore",
        C::Regex,
        "",
        "Local paths matching this are invisible: never scanned, fetched or deleted.",
        IMPL,
    ),
    kw(
        "get_newer",
        C::Bool,
        "1",
        "Fetch a file when the remote copy is newer.",
        IMPL,
    ),
    kw(
        "get_size_change",
        C::Bool,
        "1",
        "Fetch a file when its size differs.",
        IMPL,
    ),
    kw(
        "make_bad_symlinks",
        C::Bool,
        "0",
        "Create symlinks even when their target does not exist locally.",
        IMPL,
    ),
    kw(
        "follow_local_symlinks",
        C::Regex,
        "",
        "Local symlinks matching this are followed instead of mirrored as links.",
        IMPL,
    ),
    kw(
        "get_missing",
        C::Bool,
        "1",
        "Fetch files at all; false only deletes and expires.",
        IMPL,
    ),
    kw(
        "get_file",
        C::Bool,
        "1",
        "True: get (remote to local); false: put (local to remote).",
        Status::Planned("put mode"),
    ),
    kw(
        "text_mode",
        C::Bool,
        "0",
        "Transfer in FTP ASCII mode.",
        IMPL,
    ),
    kw(
        "strip_cr",
        C::Bool,
        "0",
        "Remove carriage returns from received data.",
        IMPL,
    ),
    kw(
        "vms_keep_versions",
        C::Bool,
        "1",
        "VMS listings: keep every version of a file.",
        IMPL,
    ),
    kw(
        "vms_xfer_text",
        C::RegexCaseless,
        r"readme$|info$|listing$|\.c$",
        "VMS: files matching this (any case) are transferred in ASCII mode.",
        FTP,
    ),
    kw(
        "name_mappings",
        C::Substitutions,
        "",
        "s/regex/replacement/flags substitutions applied to every local path.",
        IMPL,
    ),
    kw(
        "external_mapping",
        C::Text,
        "",
        "mirror.pl loaded Perl code from this file to map names.",
        Status::Refused("it runs Perl code; use name_mappings"),
    ),
    kw(
        "update_local",
        C::Bool,
        "0",
        "Only update the entries already present at the top of local_dir.",
        IMPL,
    ),
    kw(
        "max_days",
        C::Number,
        "0",
        "Ignore entries older than this many days (0: no limit).",
        IMPL,
    ),
    kw(
        "max_size",
        C::Number,
        "0",
        "Do not fetch files larger than this many bytes (0: no limit).",
        IMPL,
    ),
    kw(
        "chmod",
        C::Bool,
        "1",
        "Set modes (and owners) of fetched files and created directories.",
        IMPL,
    ),
    // §2.4 local attributes
    kw(
        "user",
        C::Text,
        "",
        "Owner for local files (with group; name or uid).",
        IMPL,
    ),
    kw(
        "group",
        C::Text,
        "",
        "Group for local files (with user; name or gid).",
        IMPL,
    ),
    kw(
        "mode_copy",
        C::Bool,
        "0",
        "Copy modes from the remote listing instead of file_mode/dir_mode.",
        IMPL,
    ),
    kw("file_mode", C::Mode, "0444", "Mode of fetched files.", IMPL),
    kw(
        "dir_mode",
        C::Mode,
        "0755",
        "Mode of created directories.",
        IMPL,
    ),
    kw(
        "force",
        C::Bool,
        "0",
        "Fetch every selected file whatever its time and size.",
        IMPL,
    ),
    kw(
        "umask",
        C::Mode,
        "07000",
        "Umask while creating local files.",
        IMPL,
    ),
    kw(
        "use_timelocal",
        C::Bool,
        "1",
        "Read listing times as local time (false: as UTC).",
        IMPL,
    ),
    kw(
        "force_times",
        C::Bool,
        "1",
        "Give fetched files the remote modification time.",
        IMPL,
    ),
    // §2.5 deletion
    kw(
        "do_deletes",
        C::Bool,
        "0",
        "Delete local entries that no longer exist remotely.",
        IMPL,
    ),
    kw(
        "delete_patt",
        C::Regex,
        ".",
        "Only local paths matching this may be deleted.",
        IMPL,
    ),
    kw(
        "delete_get_patt",
        C::Bool,
        "0",
        "Use get_patt instead of delete_patt.",
        IMPL,
    ),
    kw(
        "delete_excl",
        C::Regex,
        "",
        "Local paths matching this are never deleted.",
        IMPL,
    ),
    kw(
        "max_delete_files",
        C::DeleteLimit,
        "10%",
        "Refuse all deletions when more files than this (N or N%) would go.",
        IMPL,
    ),
    kw(
        "max_delete_dirs",
        C::DeleteLimit,
        "10%",
        "Refuse all deletions when more directories than this (N or N%) would go.",
        IMPL,
    ),
    kw(
        "save_deletes",
        C::Bool,
        "0",
        "Move entries to save_dir instead of deleting them.",
        IMPL,
    ),
    kw(
        "save_dir",
        C::Template,
        "Old",
        "Where save_deletes moves entries (relative to local_dir).",
        IMPL,
    ),
    kw(
        "store_remote_listing",
        C::Template,
        "",
        "Local file that receives a copy of the raw remote listing.",
        REMOTE,
    ),
    kw(
        "delete_source",
        C::Bool,
        "0",
        "Delete the source file after a successful transfer.",
        IMPL,
    ),
    // §2.6 compression
    kw(
        "compress_patt",
        C::Regex,
        "",
        "Fetched files matching this are stored compressed.",
        IMPL,
    ),
    kw(
        "compress_excl",
        C::RegexCaseless,
        r"\.(Z|z|gz)$",
        "Files matching this (any case) are never compressed.",
        IMPL,
    ),
    kw(
        "compress_prog",
        C::Text,
        "compress",
        "`compress` or `gzip` (done in-process, and set compress_suffix), or a command.",
        IMPL,
    ),
    kw(
        "compress_suffix",
        C::Text,
        "Z",
        "Suffix of compressed files, without the dot.",
        IMPL,
    ),
    kw(
        "compress_conv_patt",
        C::Regex,
        r"(\.Z|\.taz)$",
        "With gzip: compress'ed files matching this are re-compressed with gzip.",
        IMPL,
    ),
    kw(
        "compress_conv_expr",
        C::Substitutions,
        r"s/\.Z$/.gz/;s/\.taz$/.tgz/",
        "Substitutions naming the re-compressed files.",
        IMPL,
    ),
    kw(
        "compress_size_floor",
        C::Number,
        "0",
        "Do not compress files of this many bytes or fewer.",
        IMPL,
    ),
    // §2.7 splitting
    kw(
        "split_max",
        C::Size,
        "0",
        "Files larger than this that match split_patt are stored split (0: never).",
        IMPL,
    ),
    kw(
        "split_patt",
        C::Regex,
        "",
        "Only files matching this are split.",
        IMPL,
    ),
    kw(
        "split_chunk",
        C::Size,
        "102400",
        "Size of each part of a split file (a multiple of 512).",
        IMPL,
    ),
    // §2.8 listings
    kw(
        "remote_fs",
        C::Text,
        "unix",
        "Listing format of the FTP server (unix, dls, netware, vms, dosftp, ...).",
        IMPL,
    ),
    kw(
        "ls_lR_file",
        C::Path,
        "",
        "Remote ls-lR file to read instead of listing the server.",
        IMPL,
    ),
    kw(
        "local_ls_lR_file",
        C::Path,
        "",
        "Local ls-lR file to read as the remote listing.",
        IMPL,
    ),
    kw("recursive", C::Bool, "1", "Mirror subdirectories.", IMPL),
    kw(
        "recurse_hard",
        C::Bool,
        "0",
        "List every FTP directory separately instead of one LIST -R.",
        IMPL,
    ),
    kw(
        "flags_recursive",
        C::Text,
        "-lRat",
        "Argument of FTP LIST for recursive listings.",
        IMPL,
    ),
    kw(
        "flags_nonrecursive",
        C::Text,
        "-lat",
        "Argument of FTP LIST for one directory.",
        IMPL,
    ),
    kw(
        "ls_fix_mappings",
        C::Substitutions,
        "",
        "Substitutions applied to every path of the remote listing.",
        IMPL,
    ),
    // §2.9 reporting
    kw(
        "update_log",
        C::Path,
        "",
        "File the report is appended to (relative to local_dir).",
        IMPL,
    ),
    kw(
        "mail_to",
        C::Text,
        "",
        "Addresses the report is mailed to.",
        IMPL,
    ),
    kw(
        "mail_prog",
        C::Text,
        "first of mailx, Mail, mail on PATH",
        "Mail program, run as `mail_prog mail_subject mail_to`.",
        IMPL,
    ),
    kw(
        "mail_subject",
        C::Template,
        "-s 'mirror update'",
        "Arguments for mail_prog before the addresses ($package etc. expanded).",
        IMPL,
    ),
    kw(
        "comment",
        C::Text,
        "",
        "Free text for the report and -L.",
        IMPL,
    ),
    // §2.10 special
    kw(
        "use_files",
        C::Bool,
        "0",
        "mirror.pl kept its tables in DBM files.",
        Status::Ignored("listings are held in memory"),
    ),
    kw(
        "interactive",
        C::Bool,
        "0",
        "mirror.pl's -G/-P mode.",
        Status::Ignored("set by the -G/-P command-line modes, not by packages files"),
    ),
    kw(
        "skip",
        C::Text,
        "",
        "If not empty, the package is skipped with this reason.",
        IMPL,
    ),
    kw(
        "verbose",
        C::Bool,
        "0",
        "mirror.pl's FTP protocol trace.",
        Status::Ignored("use -d"),
    ),
    kw(
        "algorithm",
        C::Number,
        "0",
        "0: list the whole tree; 1: directory by directory.",
        Status::Ignored("backends choose how they list; both values mirror the same tree"),
    ),
    kw(
        "local_dir_check",
        C::Bool,
        "0",
        "Skip the package if local_dir does not exist instead of creating it.",
        IMPL,
    ),
    // §2.12 Debian
    kw(
        "get_symlink_files",
        C::Bool,
        "0",
        "Fetch the target of a symlink whose target is missing, then link.",
        IMPL,
    ),
    kw(
        "bind_addr",
        C::Text,
        "0.0.0.0",
        "Local address to connect from.",
        IMPL,
    ),
    kw(
        "compare_offline",
        C::Bool,
        "0",
        "Disconnect during the compare and reconnect for transfers.",
        Status::Ignored("backends manage their own connections"),
    ),
    kw(
        "pool_listings",
        C::Regex,
        "",
        "Local files (Debian Packages) whose lines name pool files to fetch.",
        Status::Planned("pool listings"),
    ),
    kw(
        "pool_mappings",
        C::Substitutions,
        r"s:^Filename\: ::",
        "Substitutions turning a pool listing line into a path.",
        Status::Planned("pool listings"),
    ),
    // extensions
    kw(
        "remote_timezone",
        C::Text,
        "",
        "Time zone of the FTP server's LIST times: an IANA name (Europe/Berlin) or an offset \
         (+05:30); set, it overrides use_timelocal (new keyword).",
        IMPL,
    ),
    kw(
        "parallel",
        C::Number,
        "4",
        "Transfers run at once (new keyword; -j on the command line).",
        IMPL,
    ),
    kw(
        "ssh_key",
        C::Path,
        "",
        "SFTP: private key file (OpenSSH format) to log in with instead of a password; an \
         encrypted key is unlocked with remote_password (new keyword).",
        IMPL,
    ),
    kw(
        "ssh_known_hosts",
        C::Path,
        "",
        "SFTP: the known_hosts file the server's host key must be listed in; unset: \
         ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts (new keyword).",
        IMPL,
    ),
    kw(
        "ssh_host_key",
        C::Text,
        "",
        "SFTP: pins the server's host key (SHA256:... fingerprint or `ssh-ed25519 AAAA...`; \
         several separated by commas); set, known_hosts is not read (new keyword).",
        IMPL,
    ),
    kw(
        "s3_endpoint",
        C::Text,
        "",
        "S3: the service's URL, e.g. http://127.0.0.1:9000; unset: $AWS_ENDPOINT_URL, else \
         AWS (new keyword).",
        IMPL,
    ),
    kw(
        "s3_region",
        C::Text,
        "",
        "S3: the region requests are signed for; unset: $AWS_REGION, else us-east-1 (new \
         keyword).",
        IMPL,
    ),
    kw(
        "s3_access_key",
        C::Secret,
        "",
        "S3: access key id; unset: $AWS_ACCESS_KEY_ID and the usual AWS credential files \
         (new keyword).",
        IMPL,
    ),
    kw(
        "s3_secret_key",
        C::Secret,
        "",
        "S3: secret access key, with s3_access_key; `<file` reads it from a file (new \
         keyword).",
        IMPL,
    ),
];

/// The keyword named `name` (case-sensitive), if there is one.
pub fn keyword(name: &str) -> Option<&'static KeywordInfo> {
    KEYWORDS.iter().find(|k| k.name == name)
}

/// The keyword `name` was probably meant to be, for "did you mean" hints.
pub(crate) fn suggest(name: &str) -> Option<&'static str> {
    crate::diag::did_you_mean(name, KEYWORDS.iter().map(|k| k.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = KEYWORDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn booleans_and_regexes_match_the_spec_lists() {
        // spec §2.11, plus chmod and vms_keep_versions, which mirror.pl tests for Perl truth
        // (save_deletes and store_remote_listing are in mirror.pl's regex list by mistake and
        // are left out here).
        let bools = "get_newer get_size_change do_deletes update_local force_times retry_call \
            recursive mode_copy disconnect interactive text_mode force get_file verbose proxy \
            delete_get_patt delete_source save_deletes use_files use_timelocal make_bad_symlinks \
            get_symlink_files recurse_hard get_missing strip_cr passive_ftp using_socks \
            local_dir_check compare_offline chmod vms_keep_versions";
        for b in bools.split_whitespace() {
            assert_eq!(keyword(b).unwrap().class, KeywordClass::Bool, "{b}");
        }
        let regexes = "get_patt exclude_patt local_ignore delete_patt delete_excl split_patt \
            compress_patt compress_excl compress_conv_patt failed_gets_excl pool_listings \
            follow_local_symlinks vms_xfer_text";
        for r in regexes.split_whitespace() {
            assert!(
                matches!(
                    keyword(r).unwrap().class,
                    KeywordClass::Regex | KeywordClass::RegexCaseless
                ),
                "{r}"
            );
        }
        assert_eq!(
            keyword("compress_excl").unwrap().class,
            KeywordClass::RegexCaseless
        );
        assert_eq!(
            keyword("vms_xfer_text").unwrap().class,
            KeywordClass::RegexCaseless
        );
    }

    #[test]
    fn every_mirror_pl_keyword_is_known() {
        // The keys of mirror.pl 2.9-52's %default table.
        let all = "hostname bind_addr package site remote_dir local_dir remote_user \
            remote_password remote_account remote_group remote_gpass timeout failed_gets_excl \
            ftp_port proxy proxy_ftp_port proxy_gateway using_socks passive_ftp retry_call \
            disconnect remote_idle get_patt exclude_patt local_ignore get_newer get_size_change \
            make_bad_symlinks follow_local_symlinks get_symlink_files get_missing get_file \
            text_mode strip_cr vms_keep_versions vms_xfer_text name_mappings external_mapping \
            update_local max_days max_size chmod user group mode_copy file_mode dir_mode force \
            umask use_timelocal force_times do_deletes delete_patt delete_get_patt delete_excl \
            max_delete_files max_delete_dirs save_deletes save_dir store_remote_listing \
            compress_patt compress_excl compress_prog compress_suffix compress_conv_patt \
            compress_conv_expr compress_size_floor split_max split_patt split_chunk remote_fs \
            ls_lR_file local_ls_lR_file recursive recurse_hard flags_recursive \
            flags_nonrecursive ls_fix_mappings update_log mail_to mail_prog mail_subject comment \
            use_files interactive skip verbose algorithm local_dir_check compare_offline \
            pool_listings pool_mappings delete_source";
        let n = all.split_whitespace().count();
        for k in all.split_whitespace() {
            assert!(keyword(k).is_some(), "{k}");
        }
        // ... and nothing else but our extensions.
        let ours = "parallel remote_timezone ssh_key ssh_known_hosts ssh_host_key s3_endpoint \
            s3_region s3_access_key s3_secret_key";
        assert_eq!(KEYWORDS.len(), n + ours.split_whitespace().count());
        for k in ours.split_whitespace() {
            assert!(keyword(k).is_some(), "{k}");
        }
    }

    #[test]
    fn keywords_are_case_sensitive() {
        assert!(keyword("ls_lR_file").is_some());
        assert!(keyword("ls_lr_file").is_none());
        assert_eq!(suggest("ls_lr_file"), Some("ls_lR_file"));
    }
}
