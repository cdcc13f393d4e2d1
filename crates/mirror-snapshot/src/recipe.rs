//! The recipe: a TOML file saying where builds go, what they start from, which external files
//! to bring in and how to rewrite pages. [`Recipe::load`] reads and validates it completely
//! before anything runs; every problem is a [`RecipeError`] naming the file, line, column and
//! key (toml spans). Paths in the recipe are relative to the recipe's folder.
//!
//! The key names of DESIGN.md ("Site snapshot recipe") are a contract; the keys added here
//! (`[[media]] to`/`delimiter`, `[[rewrite]] scope`, `[links] index`, `[fetch]`, `[verify]`,
//! `[publish_options]`) are documented in the README's table.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use mirror_config::{DeleteLimit, Pattern};
use regex::Regex;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

/// A recipe problem, located in the recipe file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RecipeError {
    /// The recipe file.
    pub file: PathBuf,
    /// 1-based line (0 when the problem is not in the text, e.g. an unreadable file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The key concerned, as written in the recipe (`[[embed]] match`, `keep`...).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RecipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else if self.key.is_empty() {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.key,
                self.message
            )
        }
    }
}

/// Where a `[[copy]]` source is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local folder (absolute).
    Folder(PathBuf),
    /// A site URL the mirror engine reads (`ftp://`, `http://`, `sftp://`...).
    Url(String),
}

/// One `[[copy]]`: a published tree copied into the snapshot.
#[derive(Debug, Clone)]
pub struct CopySource {
    /// Where the files come from.
    pub from: Source,
    /// Folder inside the snapshot (`""` or `a/b/`).
    pub to: String,
    /// Only paths matching this are copied (mirror.pl semantics).
    pub get_patt: Option<Pattern>,
    /// Paths matching this are not copied.
    pub exclude_patt: Option<Pattern>,
}

/// One `[[localize]]`: external files under `prefix` are fetched into `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalizeRule {
    /// An absolute URL; every reference starting with it is localized.
    pub prefix: String,
    /// Folder inside the snapshot (`""` or `a/b/`); the rest of the URL path is kept under it.
    pub to: String,
}

/// One `[[media]]`: a CSV (or tab-separated) list of files to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaList {
    /// The list (absolute path).
    pub csv: PathBuf,
    /// Header of the column holding each file's URL.
    pub url_column: String,
    /// Header of the column holding each file's path in the snapshot (under `to`).
    pub path_column: String,
    /// Folder the paths are relative to (`""` or `a/b/`).
    pub to: String,
    /// Field separator.
    pub delimiter: u8,
}

/// Where a `[[rewrite]]` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Each reference (attribute value, CSS url), before it is resolved.
    Urls,
    /// The whole text of every page and stylesheet.
    Text,
}

/// A text replacement: literal, or a regex with `$1` references.
#[derive(Debug, Clone)]
pub struct Replace {
    /// What to look for (the literal text, or the regex source).
    pub from: String,
    /// What to put instead.
    pub to: String,
    /// The compiled regex when `regex = true`.
    pub regex: Option<Regex>,
}

impl Replace {
    /// Replaces every occurrence in `text`; `None` when nothing matched.
    pub fn apply(&self, text: &str) -> Option<String> {
        match &self.regex {
            Some(re) => match re.replace_all(text, self.to.as_str()) {
                std::borrow::Cow::Owned(s) => Some(s),
                std::borrow::Cow::Borrowed(_) => None,
            },
            None => (!self.from.is_empty() && text.contains(&self.from))
                .then(|| text.replace(&self.from, &self.to)),
        }
    }
}

/// One `[[rewrite]]`.
#[derive(Debug, Clone)]
pub struct RewriteRule {
    /// The replacement.
    pub replace: Replace,
    /// Where it applies.
    pub scope: Scope,
}

/// One `[[embed]]`: players whose URL matches are replaced by a local `<video>`.
#[derive(Debug, Clone)]
pub struct EmbedRule {
    /// Matched against the player's URL (`src` of iframe/embed, `data` of object).
    pub pattern: Regex,
    /// The local file, with `$1`... from the match.
    pub local: String,
}

/// One `[[edit]]`: a replacement in some pages only.
#[derive(Debug, Clone)]
pub struct EditRule {
    /// Pages (paths in the snapshot) the edit applies to.
    pub pages: Regex,
    /// The replacement.
    pub replace: Replace,
}

/// `[links]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// Make every local link relative (the copy opens from disk at any path); otherwise
    /// root-relative (`/path`).
    pub relative: bool,
    /// File names that stand for a folder URL (`dir/` becomes `dir/index.html`).
    pub index: Vec<String>,
}

/// `[fetch]`: how localize talks to servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    /// Transfers at once (also the `parallel` of `[[copy]]` sync runs).
    pub parallel: usize,
    /// Transfers at once to one host.
    pub per_host: usize,
    /// Retries of a failed transfer (timeouts, resets, 5xx, 429).
    pub retries: u32,
    /// Seconds to wait for a connection or for data.
    pub timeout: u64,
    /// The User-Agent header.
    pub user_agent: String,
}

/// `[verify]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySettings {
    /// References to missing local files tolerated before verify fails.
    pub max_missing: usize,
}

/// `[publish_options]`.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Files transferred last (after every other file, before deletions), so the entry
    /// pages never link to files not there yet: mirror.pl patterns on snapshot paths.
    pub last: Vec<String>,
    /// Safety limit on deletions at the destination (mirror.pl's `max_delete_files`).
    pub max_delete_files: DeleteLimit,
    /// Safety limit on deleted folders (mirror.pl's `max_delete_dirs`).
    pub max_delete_dirs: DeleteLimit,
}

/// A validated recipe: every path absolute, every regex compiled.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// The recipe file.
    pub file: PathBuf,
    /// Builds go to `work_dir/<UTC timestamp>/`; `work_dir/current` is the last complete one.
    pub work_dir: PathBuf,
    /// Folder the finished snapshot is synced to.
    pub publish: Option<PathBuf>,
    /// Complete snapshots kept in `work_dir`.
    pub keep: usize,
    /// The site's own origins (absolute links to them become local). The first one is the
    /// address pages are taken to have; without `site`, `http://snapshot.invalid/`.
    pub site: Vec<Url>,
    /// `[[copy]]`.
    pub copy: Vec<CopySource>,
    /// `[[localize]]`.
    pub localize: Vec<LocalizeRule>,
    /// `[[media]]`.
    pub media: Vec<MediaList>,
    /// `[[rewrite]]`.
    pub rewrite: Vec<RewriteRule>,
    /// `[[embed]]`.
    pub embed: Vec<EmbedRule>,
    /// `[[edit]]`.
    pub edit: Vec<EditRule>,
    /// `[prune] unreferenced`: globs of files removed when no page references them.
    pub prune: Vec<String>,
    /// `[links]`.
    pub links: Links,
    /// `[fetch]`.
    pub fetch: FetchSettings,
    /// `[verify]`.
    pub verify: VerifySettings,
    /// `[publish_options]`.
    pub publish_options: PublishOptions,
}

/// The origin pages are taken to come from when the recipe names no `site`.
pub const VIRTUAL_ORIGIN: &str = "http://snapshot.invalid/";

// ---- raw TOML shape -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipe {
    work_dir: Spanned<String>,
    publish: Option<Spanned<String>>,
    keep: Option<Spanned<i64>>,
    site: Option<Spanned<toml::Value>>,
    #[serde(default)]
    copy: Vec<RawCopy>,
    #[serde(default)]
    crawl: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    localize: Vec<RawLocalize>,
    #[serde(default)]
    media: Vec<RawMedia>,
    #[serde(default)]
    rewrite: Vec<RawRewrite>,
    #[serde(default)]
    embed: Vec<RawEmbed>,
    #[serde(default)]
    edit: Vec<RawEdit>,
    prune: Option<RawPrune>,
    links: Option<RawLinks>,
    fetch: Option<RawFetch>,
    verify: Option<RawVerify>,
    publish_options: Option<RawPublishOptions>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCopy {
    from: Spanned<String>,
    to: Option<Spanned<String>>,
    get_patt: Option<Spanned<String>>,
    exclude_patt: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocalize {
    prefix: Spanned<String>,
    to: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMedia {
    csv: Spanned<String>,
    url_column: Option<Spanned<String>>,
    path_column: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    delimiter: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRewrite {
    from: Spanned<String>,
    to: Spanned<String>,
    regex: Option<bool>,
    scope: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmbed {
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    local: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdit {
    pages: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
    regex: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrune {
    #[serde(default)]
    unreferenced: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinks {
    relative: Option<bool>,
    index: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    parallel: Option<Spanned<i64>>,
    per_host: Option<Spanned<i64>>,
    retries: Option<Spanned<i64>>,
    timeout: Option<Spanned<i64>>,
    user_agent: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerify {
    max_missing: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPublishOptions {
    last: Option<Vec<Spanned<String>>>,
    max_delete_files: Option<Spanned<toml::Value>>,
    max_delete_dirs: Option<Spanned<toml::Value>>,
}

// ---- loading --------------------------------------------------------------------------

/// Turns spans into located errors.
struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
    dir: PathBuf,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> RecipeError {
        let (line, column) = line_col(self.text, span.start);
        RecipeError {
            file: self.file.to_path_buf(),
            line,
            column,
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            normalize(p)
        } else {
            normalize(&self.dir.join(p))
        }
    }

    fn folder(&self, v: &Spanned<String>, key: &str) -> Result<String, RecipeError> {
        folder(v.get_ref()).map_err(|m| self.err(v.span(), key, m))
    }

    fn regex(&self, v: &Spanned<String>, key: &str) -> Result<Regex, RecipeError> {
        Regex::new(v.get_ref()).map_err(|e| self.err(v.span(), key, format!("bad regex: {e}")))
    }

    fn count(&self, v: &Spanned<i64>, key: &str, min: i64) -> Result<usize, RecipeError> {
        let n = *v.get_ref();
        if n < min {
            return Err(self.err(v.span(), key, format!("must be at least {min}")));
        }
        usize::try_from(n).map_err(|_| self.err(v.span(), key, "too large"))
    }
}

/// `p` without `.` and `..` components (lexically: recipe paths are read as written, so
/// messages show `/srv/snapshots`, not `/srv/recipes/../snapshots`).
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, l)| l)
        .chars()
        .count()
        + 1;
    (line, col)
}

/// The key at byte `offset`, for toml's own errors: the key on that line (if the line is
/// `key = ...`), under the last table header above it.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[line_start..line_end].trim();
    let header = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|h| h.split('#').next().unwrap_or(h).trim().to_owned());
    if line.starts_with('[') {
        return line.split('#').next().unwrap_or(line).trim().to_owned();
    }
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_owned());
    match (header, key) {
        (Some(h), Some(k)) => format!("{h} {k}"),
        (None, Some(k)) => k,
        (Some(h), None) => h,
        (None, None) => String::new(),
    }
}

/// Validates a folder inside the snapshot: relative, no `..`, returned as `""` or `a/b/`.
pub(crate) fn folder(s: &str) -> Result<String, String> {
    let t = s.trim_matches('/');
    if s.starts_with('/') {
        return Err(format!(
            "`{s}` must be a folder inside the snapshot (relative)"
        ));
    }
    if t.is_empty() {
        return Ok(String::new());
    }
    for seg in t.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." || seg.contains('\0') {
            return Err(format!("`{s}`: folder names may not be empty, `.` or `..`"));
        }
        if seg == crate::build::STATE_DIR {
            return Err(format!("`{s}`: {} is reserved", crate::build::STATE_DIR));
        }
    }
    Ok(format!("{t}/"))
}

/// Compiles a mirror.pl pattern exactly as a packages file would (through mirror-config), so
/// `get_patt` means in a recipe what it means in a packages file. `keyword` is
/// `get_patt` or `exclude_patt`.
pub(crate) fn compile_perl(keyword: &str, text: &str) -> Result<Pattern, String> {
    if text.contains(['\n', '\r']) {
        return Err("a pattern cannot span lines".into());
    }
    // A complete record, so only the pattern can be wrong.
    let packages =
        format!("package=recipe\nsite=file:///recipe\nlocal_dir=/recipe\n{keyword}={text}\n");
    let errors = match mirror_config::parse_str(&packages, "recipe") {
        Ok(loaded) => match loaded
            .records
            .first()
            .map(|r| r.to_package(&Default::default()))
        {
            Some(Ok((pkg, _))) => {
                let p = if keyword == "get_patt" {
                    pkg.get_patt
                } else {
                    pkg.exclude_patt
                };
                return p.ok_or_else(|| "empty pattern".to_owned());
            }
            Some(Err(e)) => e,
            None => Vec::new(),
        },
        Err(e) => e,
    };
    Err(errors
        .first()
        .map_or_else(|| "bad pattern".to_owned(), |d| d.message.clone()))
}

fn perl_pattern(ctx: &Ctx, v: &Spanned<String>, key: &str) -> Result<Pattern, RecipeError> {
    let keyword = key.rsplit(' ').next().unwrap_or(key);
    compile_perl(keyword, v.get_ref()).map_err(|m| ctx.err(v.span(), key, m))
}

fn delete_limit(
    ctx: &Ctx,
    v: &Spanned<toml::Value>,
    key: &str,
) -> Result<DeleteLimit, RecipeError> {
    let bad = || {
        ctx.err(
            v.span(),
            key,
            "expected a number of files or a percentage (\"10%\")",
        )
    };
    match v.get_ref() {
        toml::Value::Integer(n) => u64::try_from(*n).map(DeleteLimit::Count).map_err(|_| bad()),
        toml::Value::String(s) => {
            let s = s.trim();
            match s.strip_suffix('%') {
                Some(p) => match p.trim().parse::<u32>() {
                    Ok(p) if (1..=100).contains(&p) => Ok(DeleteLimit::Percent(p)),
                    _ => Err(bad()),
                },
                None => s.parse::<u64>().map(DeleteLimit::Count).map_err(|_| bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// Parses an absolute http(s)/ftp URL used as a prefix or origin.
fn absolute_url(ctx: &Ctx, v: &Spanned<String>, key: &str) -> Result<Url, RecipeError> {
    let u = Url::parse(v.get_ref().trim())
        .map_err(|e| ctx.err(v.span(), key, format!("not an absolute URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https" | "ftp") || u.host_str().is_none() {
        return Err(ctx.err(v.span(), key, "expected an http://, https:// or ftp:// URL"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(ctx.err(v.span(), key, "a prefix cannot have a query or fragment"));
    }
    Ok(u)
}

impl Recipe {
    /// Reads and validates the recipe at `file`.
    pub fn load(file: &Path) -> Result<Recipe, RecipeError> {
        let text = std::fs::read_to_string(file).map_err(|e| RecipeError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read the recipe: {e}"),
        })?;
        Recipe::parse(&text, file)
    }

    /// Validates recipe `text`, read from `file` (paths resolve against its folder).
    pub fn parse(text: &str, file: &Path) -> Result<Recipe, RecipeError> {
        let file_abs = normalize(&std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf()));
        let dir = file_abs
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let ctx = Ctx { file, text, dir };
        let raw: RawRecipe = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let mut err = ctx.err(span.clone(), &key_at(text, span.start), e.message().trim());
            if err.key.is_empty() {
                err.key = String::new();
            }
            err
        })?;
        if let Some(c) = raw.crawl.first() {
            return Err(ctx.err(
                c.span(),
                "[[crawl]]",
                "crawling a live site is not part of this version yet; start from [[copy]]",
            ));
        }

        let work_dir = ctx.path(raw.work_dir.get_ref());
        if raw.work_dir.get_ref().trim().is_empty() {
            return Err(ctx.err(raw.work_dir.span(), "work_dir", "must not be empty"));
        }
        let publish = match &raw.publish {
            None => None,
            Some(p) if p.get_ref().contains("://") => {
                let s = p.get_ref();
                match s.strip_prefix("file://") {
                    Some(path) if path.starts_with('/') => Some(PathBuf::from(path)),
                    _ => {
                        return Err(ctx.err(
                            p.span(),
                            "publish",
                            "only a local folder (or file:///path) is supported in this version; \
                             SFTP and S3 come with those backends",
                        ));
                    }
                }
            }
            Some(p) if p.get_ref().trim().is_empty() => {
                return Err(ctx.err(p.span(), "publish", "must not be empty"));
            }
            Some(p) => Some(ctx.path(p.get_ref())),
        };
        if let Some(p) = &publish {
            let w = std::path::absolute(&work_dir).unwrap_or_else(|_| work_dir.clone());
            let pa = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            if pa.starts_with(&w) || w.starts_with(&pa) {
                let span = raw.publish.as_ref().map_or(0..0, Spanned::span);
                return Err(ctx.err(
                    span,
                    "publish",
                    "must not be inside work_dir, nor contain it",
                ));
            }
        }
        let keep = match &raw.keep {
            Some(k) => ctx.count(k, "keep", 1)?,
            None => 2,
        };

        let mut site = Vec::new();
        if let Some(s) = &raw.site {
            let items: Vec<Spanned<String>> = match s.get_ref() {
                toml::Value::String(v) => vec![Spanned::new(s.span(), v.clone())],
                toml::Value::Array(a) => a
                    .iter()
                    .map(|v| match v {
                        toml::Value::String(v) => Ok(Spanned::new(s.span(), v.clone())),
                        _ => Err(ctx.err(s.span(), "site", "expected URLs (strings)")),
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(ctx.err(s.span(), "site", "expected a URL or a list of URLs")),
            };
            for item in &items {
                let mut u = absolute_url(&ctx, item, "site")?;
                if !u.path().ends_with('/') {
                    let p = format!("{}/", u.path());
                    u.set_path(&p);
                }
                site.push(u);
            }
        }

        let mut copy = Vec::new();
        for c in &raw.copy {
            let from_text = c.from.get_ref().trim();
            if from_text.is_empty() {
                return Err(ctx.err(c.from.span(), "[[copy]] from", "must not be empty"));
            }
            let from = if from_text.contains("://") {
                if let Err(e) = mirror_config::Site::parse(from_text) {
                    return Err(ctx.err(c.from.span(), "[[copy]] from", e));
                }
                match from_text.strip_prefix("file://") {
                    Some(p) => Source::Folder(PathBuf::from(p)),
                    None => Source::Url(from_text.to_owned()),
                }
            } else {
                let p = ctx.path(from_text);
                if !p.is_dir() {
                    return Err(ctx.err(
                        c.from.span(),
                        "[[copy]] from",
                        format!("{} is not a folder", p.display()),
                    ));
                }
                Source::Folder(p)
            };
            copy.push(CopySource {
                from,
                to: match &c.to {
                    Some(t) => ctx.folder(t, "[[copy]] to")?,
                    None => String::new(),
                },
                get_patt: c
                    .get_patt
                    .as_ref()
                    .map(|p| perl_pattern(&ctx, p, "[[copy]] get_patt"))
                    .transpose()?,
                exclude_patt: c
                    .exclude_patt
                    .as_ref()
                    .map(|p| perl_pattern(&ctx, p, "[[copy]] exclude_patt"))
                    .transpose()?,
            });
        }

        let mut localize = Vec::new();
        for l in &raw.localize {
            let u = absolute_url(&ctx, &l.prefix, "[[localize]] prefix")?;
            let mut prefix = u.to_string();
            if !prefix.ends_with('/') {
                // A prefix names a folder: `http://h/a` must not take in `http://h/ab`.
                prefix.push('/');
            }
            localize.push(LocalizeRule {
                prefix,
                to: ctx.folder(&l.to, "[[localize]] to")?,
            });
        }

        let mut media = Vec::new();
        for m in &raw.media {
            let csv = ctx.path(m.csv.get_ref());
            if !csv.is_file() {
                return Err(ctx.err(
                    m.csv.span(),
                    "[[media]] csv",
                    format!("{} is not a file", csv.display()),
                ));
            }
            let tabbed = matches!(
                csv.extension().and_then(|e| e.to_str()),
                Some("tab" | "tsv")
            );
            let delimiter = match &m.delimiter {
                Some(d) => match d.get_ref().as_str() {
                    "\t" | "\\t" | "tab" => b'\t',
                    s if s.len() == 1 && s.is_ascii() => s.as_bytes()[0],
                    _ => {
                        return Err(ctx.err(
                            d.span(),
                            "[[media]] delimiter",
                            "expected one ASCII character (or \"tab\")",
                        ));
                    }
                },
                None if tabbed => b'\t',
                None => b',',
            };
            media.push(MediaList {
                csv,
                url_column: m
                    .url_column
                    .as_ref()
                    .map_or_else(|| "url".to_owned(), |s| s.get_ref().clone()),
                path_column: m
                    .path_column
                    .as_ref()
                    .map_or_else(|| "path".to_owned(), |s| s.get_ref().clone()),
                to: match &m.to {
                    Some(t) => ctx.folder(t, "[[media]] to")?,
                    None => String::new(),
                },
                delimiter,
            });
        }

        let replace = |from: &Spanned<String>,
                       to: &Spanned<String>,
                       regex: Option<bool>,
                       key: &str|
         -> Result<Replace, RecipeError> {
            if from.get_ref().is_empty() {
                return Err(ctx.err(from.span(), &format!("{key} from"), "must not be empty"));
            }
            Ok(Replace {
                from: from.get_ref().clone(),
                to: to.get_ref().clone(),
                regex: if regex.unwrap_or(false) {
                    Some(ctx.regex(from, &format!("{key} from"))?)
                } else {
                    None
                },
            })
        };

        let mut rewrite = Vec::new();
        for r in &raw.rewrite {
            let scope = match r.scope.as_ref().map(|s| s.get_ref().as_str()) {
                None | Some("urls") => Scope::Urls,
                Some("text") => Scope::Text,
                Some(_) => {
                    let s = r.scope.as_ref().map_or(0..0, Spanned::span);
                    return Err(ctx.err(s, "[[rewrite]] scope", "expected \"urls\" or \"text\""));
                }
            };
            rewrite.push(RewriteRule {
                replace: replace(&r.from, &r.to, r.regex, "[[rewrite]]")?,
                scope,
            });
        }

        let mut embed = Vec::new();
        for e in &raw.embed {
            let pattern = ctx.regex(&e.pattern, "[[embed]] match")?;
            let local = e.local.get_ref().trim_start_matches('/').to_owned();
            if local.is_empty() || local.split('/').any(|s| s == "..") {
                return Err(ctx.err(
                    e.local.span(),
                    "[[embed]] local",
                    "expected a file path inside the snapshot",
                ));
            }
            embed.push(EmbedRule { pattern, local });
        }

        let mut edit = Vec::new();
        for e in &raw.edit {
            edit.push(EditRule {
                pages: ctx.regex(&e.pages, "[[edit]] pages")?,
                replace: replace(&e.from, &e.to, e.regex, "[[edit]]")?,
            });
        }

        let mut prune = Vec::new();
        if let Some(p) = &raw.prune {
            for g in &p.unreferenced {
                let text = g.get_ref().trim_start_matches('/');
                globset::GlobBuilder::new(text)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| ctx.err(g.span(), "[prune] unreferenced", e.to_string()))?;
                prune.push(text.to_owned());
            }
        }

        let links = match &raw.links {
            None => Links {
                relative: true,
                index: vec!["index.html".into(), "index.htm".into()],
            },
            Some(l) => Links {
                relative: l.relative.unwrap_or(true),
                index: match &l.index {
                    None => vec!["index.html".into(), "index.htm".into()],
                    Some(v) => {
                        let mut out = Vec::new();
                        for s in v {
                            let n = s.get_ref();
                            if n.is_empty() || n.contains('/') {
                                return Err(ctx.err(
                                    s.span(),
                                    "[links] index",
                                    "expected file names",
                                ));
                            }
                            out.push(n.clone());
                        }
                        if out.is_empty() {
                            return Err(ctx.err(0..0, "[links] index", "must not be empty"));
                        }
                        out
                    }
                },
            },
        };

        let fetch = {
            let f = raw.fetch.as_ref();
            let get = |v: Option<&Spanned<i64>>, key: &str, min: i64, default: usize| {
                v.map_or(Ok(default), |v| ctx.count(v, key, min))
            };
            FetchSettings {
                parallel: get(
                    f.and_then(|f| f.parallel.as_ref()),
                    "[fetch] parallel",
                    1,
                    8,
                )?,
                per_host: get(
                    f.and_then(|f| f.per_host.as_ref()),
                    "[fetch] per_host",
                    1,
                    4,
                )?,
                retries: get(f.and_then(|f| f.retries.as_ref()), "[fetch] retries", 0, 3)?.min(100)
                    as u32,
                timeout: get(f.and_then(|f| f.timeout.as_ref()), "[fetch] timeout", 1, 60)? as u64,
                user_agent: f
                    .and_then(|f| f.user_agent.clone())
                    .unwrap_or_else(|| format!("mirror-snapshot/{}", env!("CARGO_PKG_VERSION"))),
            }
        };

        let verify = VerifySettings {
            max_missing: match raw.verify.as_ref().and_then(|v| v.max_missing.as_ref()) {
                Some(n) => ctx.count(n, "[verify] max_missing", 0)?,
                None => 0,
            },
        };

        let po = raw.publish_options.as_ref();
        let publish_options = PublishOptions {
            last: match po.and_then(|p| p.last.as_ref()) {
                None => vec![r"^index\.html?$".to_owned()],
                Some(v) => {
                    let mut out = Vec::new();
                    for s in v {
                        perl_pattern(&ctx, s, "[publish_options] exclude_patt").map_err(
                            |mut e| {
                                e.key = "[publish_options] last".into();
                                e
                            },
                        )?;
                        out.push(s.get_ref().clone());
                    }
                    out
                }
            },
            max_delete_files: match po.and_then(|p| p.max_delete_files.as_ref()) {
                Some(v) => delete_limit(&ctx, v, "[publish_options] max_delete_files")?,
                None => DeleteLimit::Percent(10),
            },
            max_delete_dirs: match po.and_then(|p| p.max_delete_dirs.as_ref()) {
                Some(v) => delete_limit(&ctx, v, "[publish_options] max_delete_dirs")?,
                None => DeleteLimit::Percent(10),
            },
        };

        Ok(Recipe {
            file: file_abs,
            work_dir,
            publish,
            keep,
            site,
            copy,
            localize,
            media,
            rewrite,
            embed,
            edit,
            prune,
            links,
            fetch,
            verify,
            publish_options,
        })
    }

    /// The origin pages are taken to come from: the first `site`, else [`VIRTUAL_ORIGIN`].
    pub fn primary_origin(&self) -> Url {
        self.site
            .first()
            .cloned()
            .unwrap_or_else(|| Url::parse(VIRTUAL_ORIGIN).expect("valid URL"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Recipe, RecipeError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.toml");
        std::fs::create_dir(dir.path().join("prod")).unwrap();
        Recipe::parse(text, &file)
    }

    #[test]
    fn the_design_example_parses() {
        let r = parse(
            r#"
work_dir = "snapshots"
publish  = "dist"
keep     = 2
site     = ["http://ocw.example.edu/"]

[[copy]]
from = "prod"
to = ""
get_patt = '\.(html?|css|js|png|jpe?g|gif|svg|pdf|zip)$'
exclude_patt = '^tmp/'

[[localize]]
prefix = "http://media.example.org/download/"
to = "OcwExport/media/"

[[rewrite]]
from = "http://www.archive.org/download/"
to = "/OcwExport/InternetArchive/"
regex = false

[[embed]]
match = 'https?://www\.youtube\.com/embed/([A-Za-z0-9_-]+)'
local = "OcwExport/youtube/$1.mp4"

[[edit]]
pages = '^index\.html?$'
from = "https://giving.example.edu/"
to = "donate.html"

[prune]
unreferenced = ["OcwExport/**"]

[links]
relative = true
"#,
        )
        .unwrap();
        assert_eq!(r.keep, 2);
        assert_eq!(r.site[0].as_str(), "http://ocw.example.edu/");
        assert_eq!(r.localize[0].to, "OcwExport/media/");
        assert!(r.copy[0].get_patt.as_ref().unwrap().is_match("a/b.html"));
        assert!(r.copy[0].exclude_patt.as_ref().unwrap().is_match("tmp/x"));
        assert!(r.links.relative);
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = parse("work_dir = \"w\"\n\n[[embed]]\nmatch = '(unclosed'\nlocal = \"x.mp4\"\n")
            .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (4, "[[embed]] match"), "{e}");
        let e = parse("work_dir = \"w\"\nkeep = \"two\"\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert_eq!(e.key, "keep", "{e}");
        let e = parse("work_dir = \"w\"\n[links]\nrelativ = true\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.to_string().contains("relativ"), "{e}");
        let e =
            parse("work_dir = \"w\"\n[[copy]]\nfrom = \"prod\"\nget_patt = '(x'\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (4, "[[copy]] get_patt"), "{e}");
        let e = parse("work_dir = \"w\"\n[[localize]]\nprefix = \"x\"\nto = \"a\"\n").unwrap_err();
        assert_eq!(e.key, "[[localize]] prefix", "{e}");
        let e = parse("work_dir = \"w\"\n[[localize]]\nprefix = \"http://h/\"\nto = \"../a\"\n")
            .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (4, "[[localize]] to"), "{e}");
        let e = parse("work_dir = \"w\"\n[[crawl]]\nstart = [\"http://h/\"]\n").unwrap_err();
        assert!(e.message.contains("not part of this version"), "{e}");
        let e = parse("work_dir = \"w\"\npublish = \"s3://bucket/x\"\n").unwrap_err();
        assert_eq!(e.key, "publish");
        assert!(e.to_string().starts_with(&format!("{}", e.file.display())));
    }

    #[test]
    fn folders_are_normalised() {
        assert_eq!(folder("").unwrap(), "");
        assert_eq!(folder("a/b").unwrap(), "a/b/");
        assert_eq!(folder("a/b/").unwrap(), "a/b/");
        assert!(folder("/abs").is_err());
        assert!(folder("a/../b").is_err());
        assert!(folder(".mirror-snapshot/x").is_err());
    }

    #[test]
    fn replace_literal_and_regex() {
        let lit = Replace {
            from: "http://a/".into(),
            to: "/A/".into(),
            regex: None,
        };
        assert_eq!(lit.apply("x http://a/b").as_deref(), Some("x /A/b"));
        assert_eq!(lit.apply("nothing"), None);
        let re = Replace {
            from: r"v=(\d+)".into(),
            to: "n$1".into(),
            regex: Some(Regex::new(r"v=(\d+)").unwrap()),
        };
        assert_eq!(re.apply("a v=12 b").as_deref(), Some("a n12 b"));
    }
}
