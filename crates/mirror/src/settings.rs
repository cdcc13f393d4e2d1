//! Resolves the raw command line into one [`Settings`] value per selected package before any
//! work starts: reads the packages and defaults files, builds records for `-g` and `-P`/`-G`,
//! selects packages by `-p`/`-R`, applies the keyword overrides and types every value.
//! Configuration errors therefore all surface before the first package is touched.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use mirror_config::{DefaultsSource, Diagnostic, Env, LoadOptions, Package, Record, Secret};

use crate::cli::{Args, Interactive};

/// Everything one package run needs, resolved.
pub struct Settings {
    /// The typed package, with command-line overrides applied.
    pub package: Package,
}

/// A selected package: resolved settings, or the errors that stop it (it is skipped and the
/// run ends with status 2, as mirror.pl skipped a package with a bad regex).
pub struct Selected {
    /// The package name.
    pub name: String,
    /// The settings, or why the package cannot run.
    pub settings: Result<Settings, Vec<Diagnostic>>,
    /// Warnings to show (booleans mirror.pl would misread, octal modes, ...).
    pub warnings: Vec<Diagnostic>,
}

/// The outcome of resolving the command line.
pub struct Resolved {
    /// The selected packages in run order.
    pub packages: Vec<Selected>,
    /// Warnings not tied to one package (from reading the files).
    pub warnings: Vec<Diagnostic>,
    /// The defaults file read, if any (shown at debug level 3).
    pub defaults_file: Option<PathBuf>,
}

/// A failure that stops the whole run before any package (exit status 2).
#[derive(Debug)]
pub enum Fatal {
    /// Bad configuration: every error found, each with file:line.
    Config(Vec<Diagnostic>),
    /// A usage problem.
    Usage(String),
}

/// Reads the configuration the command line names and resolves the selected packages.
pub fn resolve(args: &Args, env: &Env, password: Option<&str>) -> Result<Resolved, Fatal> {
    let loaded = if !args.gets.is_empty() {
        // -g: mirror.pl does not read mirror.defaults for ad-hoc gets.
        let text = get_records(&args.gets)?;
        mirror_config::parse_str(&text, "<-g>").map_err(Fatal::Config)?
    } else if let Some(mode) = args.interactive {
        // The triples become a packages file read after the defaults, like any other.
        let text = triple_records(&args.files, mode)?;
        let file = write_temp(&text)?;
        let opts = LoadOptions {
            defaults: defaults_source(args),
        };
        mirror_config::load(&[file.path().to_path_buf()], &opts).map_err(Fatal::Config)?
    } else {
        if args.files.is_empty() {
            return Err(Fatal::Usage("no packages file given".into()));
        }
        let opts = LoadOptions {
            defaults: defaults_source(args),
        };
        mirror_config::load(&args.files, &opts).map_err(Fatal::Config)?
    };

    let mut loaded = loaded;
    // -k and the flag shorthands apply to every normal package (spec §1.4); an unknown
    // keyword there is reported once, not once per package.
    loaded
        .apply_overrides(&args.overrides)
        .map_err(Fatal::Config)?;
    let records = select(loaded.records, args)?;
    let mut packages = Vec::with_capacity(records.len());
    for record in records {
        let name = record.name.clone();
        let (settings, warnings) = match record.to_package(env) {
            Ok((mut package, warnings)) => {
                if let Some(pw) = password {
                    // Set after typing so a password starting with `<` is not read as a file.
                    package.remote_password = Secret::new(pw);
                }
                (Ok(Settings { package }), warnings)
            }
            Err(errs) => (Err(errs), Vec::new()),
        };
        packages.push(Selected {
            name,
            settings,
            warnings,
        });
    }
    Ok(Resolved {
        packages,
        warnings: loaded.warnings,
        defaults_file: loaded.defaults_file,
    })
}

fn defaults_source(args: &Args) -> DefaultsSource {
    if args.no_defaults {
        DefaultsSource::None
    } else if let Some(f) = &args.defaults_file {
        DefaultsSource::File(f.clone())
    } else {
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|p| p.canonicalize().ok())
            .and_then(|p| p.parent().map(Path::to_path_buf));
        DefaultsSource::Search { exe_dir }
    }
}

/// Keeps the records `-p` and `-R` select, in file order. A `-p` or `-R` that matches no
/// package is an error: a cron job that silently mirrors nothing is worse than one that fails.
fn select(records: Vec<Record>, args: &Args) -> Result<Vec<Record>, Fatal> {
    if args.packages.is_empty() && args.restart_from.is_none() {
        return Ok(records);
    }
    let matchers: Vec<(String, NameMatch)> = args
        .packages
        .iter()
        .map(|p| NameMatch::new(p).map(|m| (p.clone(), m)))
        .collect::<Result<_, _>>()?;
    for (p, m) in &matchers {
        if !records.iter().any(|r| m.matches(&r.name)) {
            return Err(Fatal::Usage(format!("no package matches -p {p}")));
        }
    }
    let restart_at = match &args.restart_from {
        Some(r) => Some(
            records
                .iter()
                .position(|rec| rec.name == *r)
                .ok_or_else(|| Fatal::Usage(format!("no package named {r} (for -R)")))?,
        ),
        None => None,
    };
    Ok(records
        .into_iter()
        .enumerate()
        .filter(|(i, r)| {
            restart_at.is_some_and(|at| *i >= at)
                || matchers.iter().any(|(_, m)| m.matches(&r.name))
        })
        .map(|(_, r)| r)
        .collect())
}

/// `-p` matches the exact name, as mirror.pl does; a name with glob characters is a glob.
enum NameMatch {
    Exact(String),
    Glob(GlobMatcher),
}

impl NameMatch {
    fn new(p: &str) -> Result<Self, Fatal> {
        if p.contains(['*', '?', '[']) {
            Glob::new(p)
                .map(|g| NameMatch::Glob(g.compile_matcher()))
                .map_err(|e| Fatal::Usage(format!("bad package glob `{p}`: {e}")))
        } else {
            Ok(NameMatch::Exact(p.to_owned()))
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            NameMatch::Exact(n) => n == name,
            NameMatch::Glob(g) => g.is_match(name),
        }
    }
}

/// Packages text for `-gSITE:PATH` (spec §3): the site is everything before the last `:`;
/// `dir/name` gets `^name$` from `dir`, `dir/` gets everything, a bare name is looked up in `.`.
fn get_records(gets: &[String]) -> Result<String, Fatal> {
    let mut text = String::new();
    for (i, g) in gets.iter().enumerate() {
        let Some((site, path)) = g.rsplit_once(':') else {
            return Err(Fatal::Usage(format!("expected -gsite:path, got -g{g}")));
        };
        let (dir, patt) = match path.rsplit_once('/') {
            Some((d, n)) => {
                let dir = if d.is_empty() { "/" } else { d };
                let patt = if n.is_empty() {
                    ".".to_owned()
                } else {
                    format!("^{}$", regex_quote(n))
                };
                (dir.to_owned(), patt)
            }
            None => (".".to_owned(), format!("^{}$", regex_quote(path))),
        };
        check_single_line(g)?;
        text.push_str(&format!(
            "package=get{n}\n site={site}\n remote_dir={dir}\n local_dir=.\n get_patt={patt}\n remote_user=anonymous\n",
            n = i + 1
        ));
    }
    Ok(text)
}

/// Packages text for `-P`/`-G` triples `LOCAL REMOTE [PATTERN]`. The pattern is optional, so
/// an argument is taken as a pattern only when a third one remains in its group: we read
/// groups of three, and a last group of two has no pattern.
fn triple_records(words: &[PathBuf], mode: Interactive) -> Result<String, Fatal> {
    if words.len() < 2 {
        return Err(Fatal::Usage(
            "-P and -G need LOCAL_DIR REMOTE_DIR [PATTERN] triples".into(),
        ));
    }
    let words: Vec<String> = words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let mut text = String::new();
    for (i, chunk) in words.chunks(3).enumerate() {
        let [local, remote, rest @ ..] = chunk else {
            return Err(Fatal::Usage(format!(
                "incomplete triple `{}`",
                chunk.join(" ")
            )));
        };
        for w in chunk {
            check_single_line(w)?;
        }
        let verb = if mode == Interactive::Put {
            "put"
        } else {
            "get"
        };
        text.push_str(&format!(
            "package={verb}{}\n local_dir={local}\n remote_dir={remote}\n",
            i + 1
        ));
        if let Some(p) = rest.first() {
            text.push_str(&format!(" get_patt={p}\n"));
        }
    }
    Ok(text)
}

fn write_temp(text: &str) -> Result<tempfile::NamedTempFile, Fatal> {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new()
        .map_err(|e| Fatal::Usage(format!("cannot create a temporary file: {e}")))?;
    f.write_all(text.as_bytes())
        .map_err(|e| Fatal::Usage(format!("cannot write a temporary file: {e}")))?;
    Ok(f)
}

fn check_single_line(s: &str) -> Result<(), Fatal> {
    if s.contains(['\n', '\r']) {
        Err(Fatal::Usage(format!(
            "argument contains a line break: {s:?}"
        )))
    } else {
        Ok(())
    }
}

/// Escapes regex metacharacters so a literal file name matches only itself.
fn regex_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_forms_follow_spec_section_3() {
        let t = get_records(&["ftp.x.org:/pub/README".into()]).unwrap();
        assert!(t.contains("site=ftp.x.org\n") && t.contains("remote_dir=/pub\n"));
        assert!(t.contains("get_patt=^README$\n"));
        let t = get_records(&["h:/d/".into()]).unwrap();
        assert!(t.contains("remote_dir=/d\n") && t.contains("get_patt=.\n"));
        let t = get_records(&["h:/".into()]).unwrap();
        assert!(t.contains("remote_dir=/\n") && t.contains("get_patt=.\n"));
        let t = get_records(&["h:/fred".into()]).unwrap();
        assert!(t.contains("remote_dir=/\n") && t.contains("get_patt=^fred$\n"));
        let t = get_records(&["h:a.txt".into()]).unwrap();
        assert!(t.contains("remote_dir=.\n") && t.contains("get_patt=^a\\.txt$\n"));
        let t = get_records(&["file:///srv/tree:/pub/".into()]).unwrap();
        assert!(t.contains("site=file:///srv/tree\n"));
        assert!(get_records(&["nocolon".into()]).is_err());
    }

    #[test]
    fn triples() {
        let w: Vec<PathBuf> = ["/l", "/r", "x", "/l2", "/r2"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let t = triple_records(&w, Interactive::Put).unwrap();
        assert!(t.contains("package=put1\n local_dir=/l\n remote_dir=/r\n get_patt=x\n"));
        assert!(t.contains("package=put2\n local_dir=/l2\n remote_dir=/r2\n"));
        assert!(triple_records(&w[..1], Interactive::Get).is_err());
    }

    #[test]
    fn package_globs_and_exact_names() {
        assert!(NameMatch::new("gnu-*").unwrap().matches("gnu-emacs"));
        assert!(!NameMatch::new("gnu").unwrap().matches("gnu-emacs"));
        assert!(NameMatch::new("gnu").unwrap().matches("gnu"));
    }
}
