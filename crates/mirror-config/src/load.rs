//! Loading: finding the defaults file, reading the packages files (or standard input) as one
//! stream, and reporting every syntax error before anything runs (spec §1.1).
//!
//! An unknown keyword or a line that is not `keyword=value` stops the whole run, as an unknown
//! keyword did in mirror.pl, but every such error of every file is reported, not just the
//! first. Problems with one package's values are found later, by [`crate::Record::to_package`],
//! and skip only that package.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::Diagnostic;
use crate::keywords;
use crate::lexer;
use crate::record::{Builder, Record};
use crate::resolve::value_note;

/// The name of the defaults file.
pub const DEFAULTS_FILE_NAME: &str = "mirror.defaults";

/// The folder searched first for the defaults file (Debian's `/etc/mirror`).
pub const SYSTEM_DEFAULTS_DIR: &str = "/etc/mirror";

/// Where the defaults file comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefaultsSource {
    /// Look for `mirror.defaults` in `/etc/mirror/`, then in `exe_dir` (the folder of the
    /// running executable, symlinks resolved); none found is a warning, not an error.
    Search {
        /// The executable's folder, if known.
        exe_dir: Option<PathBuf>,
    },
    /// Use this file (`--defaults FILE`); it must be readable.
    File(PathBuf),
    /// No defaults file (`-N`, `-g`): built-in defaults only.
    None,
}

/// How to load packages files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// Where the defaults file comes from.
    pub defaults: DefaultsSource,
}

/// What loading produced.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The normal package records, in stream order, each starting from the defaults in force
    /// where it begins (the `defaults` records themselves are not included).
    pub records: Vec<Record>,
    /// The defaults file read, if any.
    pub defaults_file: Option<PathBuf>,
    /// Warnings about the files (each reported once, however many packages it concerns).
    pub warnings: Vec<Diagnostic>,
}

impl Loaded {
    /// Applies command-line overrides (`-k key=value` and the flags standing for one) to every
    /// record, in order. Unknown keywords are errors (all of them are reported); warnings
    /// about the values (read differently by mirror.pl) are added to
    /// [`Loaded::warnings`] once, not once per package.
    pub fn apply_overrides(
        &mut self,
        overrides: &[(String, String)],
    ) -> Result<(), Vec<Diagnostic>> {
        let mut probe = Record::new("<command line>");
        let errors: Vec<Diagnostic> = overrides
            .iter()
            .filter_map(|(k, v)| probe.apply_override(k, v).err())
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut seen: HashSet<String> = HashSet::new();
        for (k, v) in overrides {
            if let Some(info) = keywords::keyword(k)
                && !v.starts_with('<')
                && let Some(note) = value_note(info, v)
                && seen.insert(note.message.clone())
            {
                self.warnings.push(
                    Diagnostic::warning(note.message, probe.span_of(k).cloned())
                        .with_help(note.help),
                );
            }
        }
        for record in &mut self.records {
            for (k, v) in overrides {
                record.apply_override(k, v).map_err(|e| vec![e])?;
                if let Some(raw) = record.values.get_mut(k.as_str()) {
                    raw.checked = !v.starts_with('<');
                }
            }
        }
        Ok(())
    }
}

/// One file's name (as shown in messages) and text.
pub(crate) struct Source {
    pub name: Arc<Path>,
    pub text: String,
}

/// Reads the packages files `inputs` (`-` is standard input) after the defaults file chosen by
/// `opts`, as one stream. Any unreadable file, unknown keyword or malformed line is an error;
/// all of them are returned.
pub fn load(inputs: &[PathBuf], opts: &LoadOptions) -> Result<Loaded, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut sources = Vec::new();
    let defaults_file = match &opts.defaults {
        DefaultsSource::None => None,
        DefaultsSource::File(p) => Some(p.clone()),
        DefaultsSource::Search { exe_dir } => {
            let dirs: Vec<PathBuf> = std::iter::once(PathBuf::from(SYSTEM_DEFAULTS_DIR))
                .chain(exe_dir.clone())
                .collect();
            let found = search_defaults(&dirs);
            if found.is_none() {
                warnings.push(
                    Diagnostic::warning(
                        format!(
                            "no {DEFAULTS_FILE_NAME} found in {}; using the built-in defaults",
                            dirs.iter()
                                .map(|d| d.display().to_string())
                                .collect::<Vec<_>>()
                                .join(" or ")
                        ),
                        None,
                    )
                    .with_help("use -N to read no defaults file, or --defaults FILE to name one"),
                );
            }
            found
        }
    };
    if let Some(p) = &defaults_file {
        match read_file(p, "defaults file") {
            Ok(s) => sources.push(s),
            Err(e) => errors.push(e),
        }
    }
    for input in inputs {
        let read = if input.as_os_str() == "-" {
            read_stdin()
        } else {
            read_file(input, "packages file")
        };
        match read {
            Ok(s) => sources.push(s),
            Err(e) => errors.push(e),
        }
    }
    let mut loaded = parse_sources(sources).map_err(|mut e| {
        errors.append(&mut e);
        std::mem::take(&mut errors)
    })?;
    if !errors.is_empty() {
        return Err(errors);
    }
    loaded.defaults_file = defaults_file;
    warnings.append(&mut loaded.warnings);
    loaded.warnings = warnings;
    Ok(loaded)
}

/// Parses `text` as a packages file named `file_name` (no defaults file): for tests, and for
/// callers that build packages files in memory.
pub fn parse_str(text: &str, file_name: &str) -> Result<Loaded, Vec<Diagnostic>> {
    parse_sources(vec![Source {
        name: Arc::from(Path::new(file_name)),
        text: text.to_owned(),
    }])
}

/// The first `mirror.defaults` in `dirs`.
fn search_defaults(dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join(DEFAULTS_FILE_NAME))
        .find(|p| p.is_file())
}

fn read_file(path: &Path, what: &str) -> Result<Source, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::error(
            format!("cannot read {what} `{}`: {e}", path.display()),
            None,
        )
    })?;
    let name: Arc<Path> = Arc::from(path);
    to_source(name, bytes)
}

fn read_stdin() -> Result<Source, Diagnostic> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Diagnostic::error(format!("cannot read standard input: {e}"), None))?;
    to_source(Arc::from(Path::new("<stdin>")), bytes)
}

/// Packages files must be UTF-8: a value in another encoding would silently become another
/// path or pattern.
fn to_source(name: Arc<Path>, bytes: Vec<u8>) -> Result<Source, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source { name, text }),
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..good].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(Diagnostic::error(
                format!("`{}` line {line} is not valid UTF-8", name.display()),
                None,
            )
            .with_help("convert the file to UTF-8 (for example with iconv)"))
        }
    }
}

/// Lexes every source and builds the records of the whole stream.
pub(crate) fn parse_sources(sources: Vec<Source>) -> Result<Loaded, Vec<Diagnostic>> {
    let mut builder = Builder::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for source in &sources {
        let lexed = lexer::lex(&source.name, &source.text);
        errors.extend(lexed.errors);
        warnings.extend(lexed.warnings);
        for entry in lexed.entries {
            builder.entry(entry);
        }
    }
    let mut builder = builder.end();
    errors.append(&mut builder.errors);
    if !errors.is_empty() {
        sort_by_position(&mut errors, &sources);
        return Err(errors);
    }
    warnings.append(&mut builder.warnings);
    let mut records = builder.records;
    // Value warnings, once per distinct reading however many packages inherit the line.
    let mut seen: HashSet<String> = HashSet::new();
    for record in &mut records {
        for (key, raw) in &mut record.values {
            let Some(info) = keywords::keyword(key) else {
                continue;
            };
            if raw.text.starts_with('<') {
                continue; // read at resolve time
            }
            if let Some(note) = value_note(info, &raw.text)
                && seen.insert(note.message.clone())
            {
                warnings
                    .push(Diagnostic::warning(note.message, raw.span.clone()).with_help(note.help));
            }
            raw.checked = true;
        }
    }
    sort_by_position(&mut warnings, &sources);
    Ok(Loaded {
        records,
        defaults_file: None,
        warnings,
    })
}

/// Orders diagnostics as the stream runs: by file (in reading order), line, column.
fn sort_by_position(diags: &mut [Diagnostic], sources: &[Source]) {
    let file_index = |d: &Diagnostic| {
        d.span
            .as_ref()
            .and_then(|s| {
                sources
                    .iter()
                    .position(|src| Arc::ptr_eq(&src.name, &s.file))
            })
            .unwrap_or(usize::MAX)
    };
    diags.sort_by_key(|d| {
        (
            file_index(d),
            d.span.as_ref().map_or(0, |s| s.line),
            d.span.as_ref().map_or(0, |s| s.column),
        )
    });
}
