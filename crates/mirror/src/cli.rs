//! The command line: mirror.pl's own option forms (`-d`, `-n`, `-pPKG`, `-p PKG`, `-kKEY=VALUE`,
//! `-gSITE:PATH`, `-U[FILE]`, ...) and the long options added beside them, parsed into raw
//! [`Args`]. Nothing here reads files or touches the network; `settings` resolves what this
//! produces into one value per package.
//!
//! mirror.pl's forms are parsed by hand because several of them (`-U[FILE]` with an optional
//! attached value, `-s` that only takes an attached value, `-kKEY=VALUE` or `-k KEY=VALUE`) have
//! no clean equivalent in an argument-parsing crate, and every old cron line must keep working.

use std::ffi::OsString;
use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// `--help` / `-h`.
    Help,
    /// `-v` / `--version`.
    Version,
    /// Mirror packages (the default).
    Run(Box<Args>),
    /// `mirror snapshot ...`: the site-snapshot engine; the words after `snapshot`.
    Snapshot(Vec<OsString>),
}

/// `-P` / `-G`: interactive put or get of `local_dir remote_dir [pattern]` triples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interactive {
    /// `-P`: put local trees to the site.
    Put,
    /// `-G`: get remote trees from the site.
    Get,
}

/// The raw arguments of a packages run, in the order given where order matters.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    /// `-d` count (mirror.pl's debug level, before `-n` adds 2).
    pub debug: u8,
    /// `-n` / `--dry-run`.
    pub dry_run: bool,
    /// `-pPKG` (repeatable): exact names or globs.
    pub packages: Vec<String>,
    /// `-RPKG`: skip packages until this one, then run it and all after it.
    pub restart_from: Option<String>,
    /// `-L` / `--list`.
    pub list: bool,
    /// `-N` / `--no-defaults`.
    pub no_defaults: bool,
    /// `--defaults FILE`.
    pub defaults_file: Option<PathBuf>,
    /// Keyword overrides applied to every package, in command-line order
    /// (`-k`, `-r`, `-t`, `-f`, `-m`, `-s`, `-u`, `-T`, `-F`, `-P`, `-G`, `-j`).
    pub overrides: Vec<(String, String)>,
    /// `-uUSER`: prompt for this user's password on the terminal.
    pub ask_password_for: Option<String>,
    /// `-T` / `--times-only`.
    pub times_only: bool,
    /// `-U[FILE]`: `Some(None)` means the default file name.
    pub upload_log: Option<Option<PathBuf>>,
    /// `-gSITE:PATH` (repeatable): ad-hoc gets.
    pub gets: Vec<String>,
    /// `-P` / `-G`.
    pub interactive: Option<Interactive>,
    /// Package files (and `-Cfile`), or triples under `-P`/`-G`.
    pub files: Vec<PathBuf>,
    /// `--report-json FILE`.
    pub report_json: Option<PathBuf>,
    /// `--wait-lock`: wait for another run of a package instead of skipping it.
    pub wait_lock: bool,
    /// `--no-progress`: never draw progress bars.
    pub no_progress: bool,
    /// Warnings met while parsing (mirror.pl's quirks we accept but flag).
    pub warnings: Vec<String>,
}

/// A usage error: the message to print before pointing at `--help`.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<OsString>) -> Result<Command, UsageError> {
    if args.first().is_some_and(|a| a == "snapshot") {
        return Ok(Command::Snapshot(args[1..].to_vec()));
    }
    let mut out = Args::default();
    let mut it = args.into_iter().peekable();
    let mut only_files = false;
    while let Some(raw) = it.next() {
        let Some(arg) = raw.to_str().map(str::to_owned) else {
            // Non-UTF-8 arguments can only be file names.
            out.files.push(PathBuf::from(raw));
            continue;
        };
        if only_files || !arg.starts_with('-') || arg == "-" {
            out.files.push(PathBuf::from(raw));
            continue;
        }
        // A value for an option that takes one: attached, or the next argument.
        let mut value = |attached: &str, opt: &str| -> Result<String, UsageError> {
            if !attached.is_empty() {
                return Ok(attached.to_owned());
            }
            match it.next() {
                Some(v) => v
                    .into_string()
                    .map_err(|_| UsageError(format!("{opt}: value is not valid UTF-8"))),
                None => Err(UsageError(format!("{opt} needs a value"))),
            }
        };
        if let Some(long) = arg.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let attached_or_next = |v: &mut dyn FnMut(&str, &str) -> Result<String, UsageError>| {
                v(attached.unwrap_or(""), &format!("--{name}"))
            };
            match name {
                "" => only_files = true,
                "help" => return Ok(Command::Help),
                "version" => return Ok(Command::Version),
                "dry-run" => set_dry_run(&mut out),
                "debug" => out.debug = out.debug.saturating_add(1),
                "list" => out.list = true,
                "no-defaults" => out.no_defaults = true,
                "defaults" => out.defaults_file = Some(attached_or_next(&mut value)?.into()),
                "package" => out
                    .packages
                    .push(package_name(attached_or_next(&mut value)?)?),
                "restart-from" => {
                    out.restart_from = Some(package_name(attached_or_next(&mut value)?)?)
                }
                "set" => {
                    let kv = attached_or_next(&mut value)?;
                    out.overrides.push(split_override(&kv)?);
                }
                "force" => push(&mut out, "force", "true"),
                "times-only" => set_times_only(&mut out),
                "upload-log" => out.upload_log = Some(attached.map(PathBuf::from)),
                "report-json" => out.report_json = Some(attached_or_next(&mut value)?.into()),
                "parallel" => {
                    let n = attached_or_next(&mut value)?;
                    push_parallel(&mut out, &n)?;
                }
                "wait-lock" => out.wait_lock = true,
                "no-progress" => out.no_progress = true,
                _ => return Err(UsageError(format!("unknown option `--{name}`"))),
            }
            continue;
        }
        // mirror.pl's single-dash forms. Exact flags first, then prefix forms.
        match arg.as_str() {
            "-h" => return Ok(Command::Help),
            "-v" | "-V" => return Ok(Command::Version),
            "-d" => out.debug = out.debug.saturating_add(1),
            "-n" => set_dry_run(&mut out),
            "-F" => push(&mut out, "use_files", "true"),
            "-T" => set_times_only(&mut out),
            "-r" => push(&mut out, "recursive", "false"),
            "-N" => out.no_defaults = true,
            "-L" => out.list = true,
            "-m" => push(&mut out, "mode_copy", "true"),
            "-t" => push(&mut out, "text_mode", "true"),
            "-f" => push(&mut out, "force", "true"),
            "-P" => set_interactive(&mut out, Interactive::Put),
            "-G" => set_interactive(&mut out, Interactive::Get),
            _ => {
                let (flag, rest) =
                    arg[1..].split_at(arg[1..].chars().next().map_or(0, char::len_utf8));
                match flag {
                    "p" => out.packages.push(package_name(value(rest, "-p")?)?),
                    "R" => out.restart_from = Some(package_name(value(rest, "-R")?)?),
                    "g" => out.gets.push(value(rest, "-g")?),
                    "k" => {
                        let kv = value(rest, "-k")?;
                        out.overrides.push(split_override(&kv)?);
                    }
                    "u" => {
                        let user = value(rest, "-u")?;
                        push(&mut out, "remote_user", &user);
                        out.ask_password_for = Some(user);
                    }
                    // mirror.pl takes -s's value only attached; an empty one clears `site`.
                    "s" => push(&mut out, "site", rest),
                    "C" if !rest.is_empty() => out.files.push(PathBuf::from(rest)),
                    "C" => return Err(UsageError("must give config file name -Cname".into())),
                    "U" => out.upload_log = Some((!rest.is_empty()).then(|| PathBuf::from(rest))),
                    "j" => {
                        let n = value(rest, "-j")?;
                        push_parallel(&mut out, &n)?;
                    }
                    _ => return Err(UsageError(format!("unknown option `{arg}`"))),
                }
            }
        }
    }
    if out.interactive.is_some() && !out.packages.is_empty() {
        return Err(UsageError("-p cannot be mixed with -P or -G".into()));
    }
    Ok(Command::Run(Box::new(out)))
}

fn push(out: &mut Args, key: &str, value: &str) {
    out.overrides.push((key.to_owned(), value.to_owned()));
}

fn set_dry_run(out: &mut Args) {
    out.dry_run = true;
}

fn set_times_only(out: &mut Args) {
    out.times_only = true;
    push(out, "force_times", "true");
}

fn set_interactive(out: &mut Args, mode: Interactive) {
    out.interactive = Some(mode);
    let get = if mode == Interactive::Get {
        "true"
    } else {
        "false"
    };
    push(out, "get_file", get);
    push(out, "interactive", "true");
}

fn push_parallel(out: &mut Args, n: &str) -> Result<(), UsageError> {
    match n.parse::<usize>() {
        Ok(v) if v >= 1 => {
            push(out, "parallel", n);
            Ok(())
        }
        _ => Err(UsageError(format!(
            "-j needs a whole number of at least 1, not `{n}`"
        ))),
    }
}

/// mirror.pl refuses package names without a letter or digit (they are surely a mistake).
fn package_name(p: String) -> Result<String, UsageError> {
    if p.chars().any(|c| c.is_ascii_alphanumeric()) {
        Ok(p)
    } else {
        Err(UsageError(format!("invalid package name to -p of: {p}")))
    }
}

/// Splits `KEY=VALUE` at the first `=`, so values may contain `=` (mirror.pl split at the
/// last one, which made such values impossible to pass).
fn split_override(kv: &str) -> Result<(String, String), UsageError> {
    match kv.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(UsageError(format!("-k expects KEY=VALUE, got `{kv}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Args {
        match parse(args.iter().map(OsString::from).collect()).unwrap() {
            Command::Run(a) => *a,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    fn err(args: &[&str]) -> String {
        parse(args.iter().map(OsString::from).collect())
            .unwrap_err()
            .0
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn classic_cron_lines() {
        let a = run(&["-d", "pkgs"]);
        assert_eq!((a.debug, a.files.clone()), (1, vec![PathBuf::from("pkgs")]));
        let a = run(&["-n", "-d", "pkgs"]);
        assert!(a.dry_run);
        assert_eq!(a.debug, 1);
        let a = run(&["-d", "-pgnu", "pkgs"]);
        assert_eq!(a.packages, ["gnu"]);
        let a = run(&["-d", "-d", "-p", "gnu", "-p", "x11", "a", "b"]);
        assert_eq!(
            (a.debug, a.packages.clone()),
            (2, vec!["gnu".into(), "x11".into()])
        );
        assert_eq!(a.files, [PathBuf::from("a"), PathBuf::from("b")]);
    }

    #[test]
    fn value_options_attached_and_separate() {
        let a = run(&["-Rgnu", "-kdo_deletes=true", "-k", "max_days=3", "f"]);
        assert_eq!(a.restart_from.as_deref(), Some("gnu"));
        assert_eq!(a.overrides, [kv("do_deletes", "true"), kv("max_days", "3")]);
        let a = run(&["-R", "x11", "f"]);
        assert_eq!(a.restart_from.as_deref(), Some("x11"));
    }

    #[test]
    fn k_splits_at_first_equals() {
        let a = run(&["-kmail_subject=-s a=b", "f"]);
        assert_eq!(a.overrides, [kv("mail_subject", "-s a=b")]);
        assert!(err(&["-kfoo", "f"]).contains("KEY=VALUE"));
    }

    #[test]
    fn shorthand_flags_become_overrides_in_order() {
        let a = run(&["-r", "-t", "-f", "-m", "-sftp.x.org", "-F", "f"]);
        assert_eq!(
            a.overrides,
            [
                kv("recursive", "false"),
                kv("text_mode", "true"),
                kv("force", "true"),
                kv("mode_copy", "true"),
                kv("site", "ftp.x.org"),
                kv("use_files", "true"),
            ]
        );
        let a = run(&["-T", "f"]);
        assert!(a.times_only);
        assert_eq!(a.overrides, [kv("force_times", "true")]);
    }

    #[test]
    fn user_sets_remote_user_and_asks_password() {
        let a = run(&["-ufred", "f"]);
        assert_eq!(a.overrides, [kv("remote_user", "fred")]);
        assert_eq!(a.ask_password_for.as_deref(), Some("fred"));
    }

    #[test]
    fn upload_log_with_and_without_file() {
        assert_eq!(run(&["-U", "f"]).upload_log, Some(None));
        assert_eq!(
            run(&["-U/tmp/up", "f"]).upload_log,
            Some(Some("/tmp/up".into()))
        );
        assert_eq!(
            run(&["--upload-log=/x", "f"]).upload_log,
            Some(Some("/x".into()))
        );
    }

    #[test]
    fn get_and_config_file_forms() {
        let a = run(&["-gftp.x.org:/pub/README", "-g", "h:/d/"]);
        assert_eq!(a.gets, ["ftp.x.org:/pub/README", "h:/d/"]);
        let a = run(&["-Cold.packages", "new.packages"]);
        assert_eq!(
            a.files,
            [PathBuf::from("old.packages"), PathBuf::from("new.packages")]
        );
        assert!(err(&["-C"]).contains("config file"));
    }

    #[test]
    fn interactive_modes() {
        let a = run(&["-P", "-sftp.x.org", "/l", "/r"]);
        assert_eq!(a.interactive, Some(Interactive::Put));
        assert!(a.overrides.contains(&kv("get_file", "false")));
        assert!(err(&["-G", "-pgnu", "a", "b"]).contains("cannot be mixed"));
    }

    #[test]
    fn long_options() {
        let a = run(&[
            "--dry-run",
            "--debug",
            "--package",
            "gnu",
            "--package=x*",
            "--set",
            "do_deletes=yes",
            "--report-json",
            "r.json",
            "-j8",
            "--parallel=2",
            "--list",
            "--no-defaults",
            "--defaults=/etc/d",
            "f",
        ]);
        assert!(a.dry_run && a.list && a.no_defaults);
        assert_eq!(a.packages, ["gnu", "x*"]);
        assert_eq!(a.report_json, Some("r.json".into()));
        assert_eq!(a.defaults_file, Some("/etc/d".into()));
        assert_eq!(
            a.overrides,
            [
                kv("do_deletes", "yes"),
                kv("parallel", "8"),
                kv("parallel", "2")
            ]
        );
    }

    #[test]
    fn options_after_files_and_double_dash() {
        let a = run(&["pkgs", "-n", "--", "-weird-name"]);
        assert!(a.dry_run);
        assert_eq!(
            a.files,
            [PathBuf::from("pkgs"), PathBuf::from("-weird-name")]
        );
        assert_eq!(run(&["-"]).files, [PathBuf::from("-")]);
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        assert!(err(&["-x"]).contains("unknown option `-x`"));
        assert!(err(&["--nope"]).contains("unknown option `--nope`"));
        assert!(err(&["-p"]).contains("needs a value"));
        assert!(err(&["-p", "--"]).contains("invalid package name"));
        assert!(err(&["-j0"]).contains("at least 1"));
    }

    #[test]
    fn help_version_and_subcommands() {
        let p = |v: &[&str]| parse(v.iter().map(OsString::from).collect()).unwrap();
        assert_eq!(p(&["--help"]), Command::Help);
        assert_eq!(p(&["-v"]), Command::Version);
        assert_eq!(
            p(&["snapshot", "run", "r.toml"]),
            Command::Snapshot(vec!["run".into(), "r.toml".into()])
        );
    }
}
