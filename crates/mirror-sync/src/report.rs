//! What a package run leaves behind: the [`PackageReport`] (serialisable to JSON), and the
//! three places mirror.pl wrote its report to: the `update_log` file, mail through
//! `mail_prog`, and the `-U` upload log (spec §5.6).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::Serialize;

/// How a package run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageStatus {
    /// Ran to the end without a failure.
    Ok,
    /// Ran, but something failed (listing, a transfer, a deletion...): see `failures`.
    Failed,
    /// Not run: `skip`, `local_dir_check`, the site is this host, or the lock was held.
    Skipped,
    /// Not run: the package's settings are incomplete or contradictory.
    ConfigError,
    /// Not run: the site cannot be reached (or its protocol is not supported yet).
    ConnectError,
    /// Stopped early because the run was cancelled.
    Cancelled,
}

impl PackageStatus {
    /// mirror.pl's per-package exit status: 0 ok, 1 failed after connecting, 2 could not
    /// connect or bad settings.
    pub fn exit_code(self) -> i32 {
        match self {
            PackageStatus::Ok | PackageStatus::Skipped => 0,
            PackageStatus::Failed | PackageStatus::Cancelled => 1,
            PackageStatus::ConfigError | PackageStatus::ConnectError => 2,
        }
    }
}

/// What was done.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Files transferred and in place.
    pub files_fetched: u64,
    /// Bytes transferred (as received, before compression).
    pub bytes_fetched: u64,
    /// Directories created.
    pub dirs_created: u64,
    /// Symlinks created.
    pub symlinks_created: u64,
    /// Files and symlinks deleted (or moved to `save_dir`).
    pub files_deleted: u64,
    /// Directories deleted.
    pub dirs_deleted: u64,
    /// Times set (`-T`).
    pub times_set: u64,
    /// Failed operations (each is in `failures`).
    pub failed: u64,
}

/// One failure, with its cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The path concerned (relative to the tree it is in), or empty for the package.
    pub path: String,
    /// What went wrong.
    pub cause: String,
}

/// Everything about one package run.
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    /// The package name.
    pub package: String,
    /// The site, as written (never with a password).
    pub site: String,
    /// `remote_dir`.
    pub remote_dir: String,
    /// `local_dir`, resolved.
    pub local_dir: String,
    /// Put mode (local tree → site).
    pub put: bool,
    /// `-n`: nothing was changed.
    pub dry_run: bool,
    /// How it ended.
    pub status: PackageStatus,
    /// Why it was skipped or failed as a whole, if it was.
    pub reason: Option<String>,
    /// mirror.pl's report lines (what goes to `update_log` and mail).
    pub lines: Vec<String>,
    /// What was done.
    pub counts: Counts,
    /// Every failure with its cause.
    pub failures: Vec<Failure>,
    /// Both listings were complete.
    pub listing_complete: bool,
    /// Directories whose listing failed or was cut short (`source:` or `dest:` prefixed).
    pub incomplete_dirs: Vec<String>,
    /// Names refused: unsafe names in a listing, symlinks leaving the tree, bad mappings.
    pub refused_names: Vec<String>,
    /// Why the deletion pass did not run, when there were candidates or it was asked for.
    pub deletions_skipped: Option<String>,
    /// Files the plan would transfer.
    pub planned_files: u64,
    /// Bytes the plan would transfer, as listed.
    pub planned_bytes: u64,
    /// Wall time of the run.
    pub duration_ms: u64,
}

impl PackageReport {
    /// An empty report for a package about to run.
    pub fn new(package: &str, site: &str, remote_dir: &str, local_dir: &str) -> Self {
        PackageReport {
            package: package.to_owned(),
            site: site.to_owned(),
            remote_dir: remote_dir.to_owned(),
            local_dir: local_dir.to_owned(),
            put: false,
            dry_run: false,
            status: PackageStatus::Ok,
            reason: None,
            lines: Vec::new(),
            counts: Counts::default(),
            failures: Vec::new(),
            listing_complete: true,
            incomplete_dirs: Vec::new(),
            refused_names: Vec::new(),
            deletions_skipped: None,
            planned_files: 0,
            planned_bytes: 0,
            duration_ms: 0,
        }
    }

    /// Records a failure (the status becomes `Failed` when the run ends).
    pub(crate) fn fail(&mut self, path: impl Into<String>, cause: impl Into<String>) {
        self.counts.failed += 1;
        self.failures.push(Failure {
            path: path.into(),
            cause: cause.into(),
        });
    }
}

/// mirror.pl's `t2str`: `YYYY/MM/DD-HH:MM:SS`, in the local zone with `use_timelocal`,
/// else UTC.
pub(crate) fn t2str(t: i64, local: bool) -> String {
    format_time(t, local, "%Y/%m/%d-%H:%M:%S")
}

/// mirror.pl's report time: `DD Mon YYYY HH:MM` in UTC, the day right-aligned in two
/// columns.
pub(crate) fn standard_time(t: i64) -> String {
    format_time(t, false, "%e %b %Y %H:%M")
}

fn format_time(t: i64, local: bool, fmt: &str) -> String {
    let Ok(ts) = jiff::Timestamp::from_second(t) else {
        return t.to_string();
    };
    let tz = if local {
        jiff::tz::TimeZone::system()
    } else {
        jiff::tz::TimeZone::UTC
    };
    ts.to_zoned(tz).strftime(fmt).to_string()
}

/// The current Unix time in seconds.
pub(crate) fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Appends the report to `update_log` (spec §5.6). The header says "completed
/// successfully" only when nothing failed (mirror.pl said so even after failures, §6.8).
pub(crate) fn write_update_log(
    path: &Path,
    report: &PackageReport,
    at: i64,
) -> std::io::Result<()> {
    let outcome = if report.counts.failed == 0 && report.status == PackageStatus::Ok {
        "completed successfully".to_owned()
    } else {
        format!("completed with {} failure(s)", report.counts.failed.max(1))
    };
    let mut text = format!(
        "mirroring {} ({}:{}) {} @ {}\n",
        report.package,
        report.site,
        report.remote_dir,
        outcome,
        standard_time(at)
    );
    for line in &report.lines {
        text.push_str(line);
        text.push('\n');
    }
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    // One write under an exclusive lock, so concurrent packages do not interleave.
    f.lock()?;
    f.write_all(text.as_bytes())
}

/// Appends one line to the `-U` upload log under an exclusive lock. Get mode writes
/// `SITE:RDIR/SRC -> LDIR/DEST SIZE` (mirror.pl wrote the put format in both modes, §6.18).
pub(crate) fn append_upload_log(path: &Path, line: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.lock()?;
    f.write_all(format!("{line}\n").as_bytes())
}

/// The body of the report mail.
pub(crate) fn mail_body(report: &PackageReport, comment: &str, at: i64) -> String {
    let route = if report.put {
        format!(
            "{} -> {}:{}",
            report.local_dir, report.site, report.remote_dir
        )
    } else {
        format!(
            "{}:{} -> {}",
            report.site, report.remote_dir, report.local_dir
        )
    };
    let mut body = format!(
        "Mirrored {} ({route}) {comment} @ {}\n",
        report.package,
        standard_time(at)
    );
    for line in &report.lines {
        body.push_str(line);
        body.push('\n');
    }
    body
}

/// Mails the report: `mail_prog MAIL_SUBJECT... MAIL_TO...` spawned directly (no shell),
/// `mail_subject` split shell-style, the body on stdin.
pub(crate) fn send_mail(prog: &str, subject: &str, to: &str, body: &str) -> Result<(), String> {
    let mut argv = shell_words(prog)?;
    if argv.is_empty() {
        return Err("mail_prog is empty".into());
    }
    argv.extend(shell_words(subject)?);
    argv.extend(
        to.split([' ', ',', '\t'])
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", argv[0]))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(body.as_bytes())
            .map_err(|e| format!("cannot write to {}: {e}", argv[0]))?;
    }
    let status = child.wait().map_err(|e| format!("{}: {e}", argv[0]))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} exited with {status}", argv[0]))
    }
}

/// Finds the first of `mailx`, `Mail`, `mail` on `PATH` (mirror.pl's default `mail_prog`).
pub(crate) fn default_mail_prog() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    ["mailx", "Mail", "mail"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .map(|p| p.to_string_lossy().into_owned())
    })
}

/// Splits a command line into words the way a POSIX shell would, without running one:
/// whitespace separates words, `'...'` is literal, `"..."` allows `\"`, `\\`, `\$` and
/// `` \` `` escapes, and a backslash outside quotes escapes the next character.
pub(crate) fn shell_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated ' in `{s}`")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => cur.push(c),
                            Some(c) => {
                                cur.push('\\');
                                cur.push(c);
                            }
                            None => return Err(format!("unterminated \" in `{s}`")),
                        },
                        Some(c) => cur.push(c),
                        None => return Err(format!("unterminated \" in `{s}`")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    cur.push(c);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_respect_quotes() {
        assert_eq!(
            shell_words("-s 'mirror update'").unwrap(),
            ["-s", "mirror update"]
        );
        assert_eq!(
            shell_words(r#"-s "a \"b\" c" x\ y"#).unwrap(),
            ["-s", r#"a "b" c"#, "x y"]
        );
        assert_eq!(shell_words("  a  b ").unwrap(), ["a", "b"]);
        assert_eq!(shell_words("''").unwrap(), [""]);
        assert!(shell_words("'open").is_err());
        // Shell metacharacters are plain text: nothing is ever run through a shell.
        assert_eq!(shell_words("a;rm -rf /").unwrap(), ["a;rm", "-rf", "/"]);
    }

    #[test]
    fn time_formats() {
        assert_eq!(standard_time(884_000_000), " 5 Jan 1998 11:33");
        assert_eq!(t2str(884_000_000, false), "1998/01/05-11:33:20");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(PackageStatus::Ok.exit_code(), 0);
        assert_eq!(PackageStatus::Failed.exit_code(), 1);
        assert_eq!(PackageStatus::ConnectError.exit_code(), 2);
    }
}
