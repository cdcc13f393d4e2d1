//! [`Rules`]: a package's selection, naming and deletion settings resolved once per run
//! (update_local's pattern, the `max_days` cut-off, the compressor, the split sizes, where
//! `save_dir` lies), so the per-entry code in `decide`, `plan` and `gate` only reads them.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use mirror_config::{Package, Pattern};
use mirror_remote::{Entry, RelPath};

use crate::transform::Compressor;

/// How fetched files are compressed (`compress_patt` and friends, spec §2.6).
#[derive(Debug)]
pub(crate) struct Compress {
    /// Files matching are compressed.
    pub patt: Pattern,
    /// The program (or in-process gzip).
    pub prog: Compressor,
    /// Suffix without the dot.
    pub suffix: String,
}

/// How large fetched files are split (`split_max`, spec §2.7).
#[derive(Debug, Clone)]
pub(crate) struct Split {
    /// Files larger than this are split.
    pub max: u64,
    /// Part size.
    pub chunk: u64,
    /// Files must match this.
    pub patt: Pattern,
}

/// Everything the per-entry decisions need, resolved from a [`Package`] for one run.
#[derive(Debug)]
pub(crate) struct Rules<'p> {
    /// The package itself (flags are read from it directly).
    pub pkg: &'p Package,
    /// Put mode: the local tree is the source.
    pub put: bool,
    /// `-T`: only set times.
    pub times_only: bool,
    /// The effective `get_patt` (replaced by `update_local`).
    pub get_patt: Option<Cow<'p, Pattern>>,
    /// Entries with a non-zero time older than this (Unix seconds) are ignored (`max_days`).
    pub max_age: Option<i64>,
    /// Compression of fetched files, if configured and possible for this destination.
    pub compress: Option<Compress>,
    /// `compress_conv_patt` conversion is active (suffix `gz`).
    pub convert: bool,
    /// Splitting, if configured and possible for this destination.
    pub split: Option<Split>,
    /// `save_dir` as a path inside the destination tree, when it is inside it: entries
    /// there are never deletion candidates while `save_deletes` is on.
    pub save_rel: Option<RelPath>,
    /// `save_dir` as an absolute local path.
    pub save_abs: PathBuf,
    /// The source can resume a read at an offset (`Features::resume`).
    pub resume: bool,
}

/// True if `pat` matches `text`. mirror.pl's default `.` is answered without the regex
/// engine: it is tested against every entry of every run, and any non-empty path without a
/// newline matches it.
pub(crate) fn matches(pat: &Pattern, text: &str) -> bool {
    if pat.source == "." {
        return text.bytes().any(|b| b != b'\n');
    }
    pat.is_match(text)
}

/// An optional pattern that filters in: `None` (empty) lets everything through.
pub(crate) fn selects(pat: Option<&Pattern>, text: &str) -> bool {
    pat.is_none_or(|p| matches(p, text))
}

/// An optional pattern that filters out: `None` (empty) matches nothing.
pub(crate) fn hits(pat: Option<&Pattern>, text: &str) -> bool {
    pat.is_some_and(|p| matches(p, text))
}

/// True for mirror.pl's temporary download names `.in.NAME.`.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.len() > 5 && name.starts_with(".in.") && name.ends_with('.')
}

impl<'p> Rules<'p> {
    /// The base rules of a package: no compression/split resolution yet (see
    /// `run::resolve_rules`), `get_patt` as configured.
    pub fn new(pkg: &'p Package, put: bool, times_only: bool, now: i64) -> Self {
        let max_age = (pkg.max_days != 0).then(|| {
            now.saturating_sub(i64::try_from(pkg.max_days).unwrap_or(i64::MAX / 86_400) * 86_400)
        });
        Rules {
            pkg,
            put,
            times_only,
            get_patt: pkg.get_patt.as_ref().map(Cow::Borrowed),
            max_age,
            compress: None,
            convert: false,
            split: None,
            save_rel: None,
            save_abs: PathBuf::new(),
            resume: false,
        }
    }

    /// Sets where `save_dir` is: absolute, or relative to the destination root; empty means
    /// `Old`. Only a `save_dir` really inside the tree protects anything (the fix of the
    /// substring bug of spec §2.5).
    pub fn set_save_dir(&mut self, dest_root: &Path) {
        let sd = if self.pkg.save_dir.is_empty() {
            "Old"
        } else {
            self.pkg.save_dir.as_str()
        };
        let abs = if Path::new(sd).is_absolute() {
            PathBuf::from(sd)
        } else {
            dest_root.join(sd)
        };
        self.save_rel = abs
            .strip_prefix(dest_root)
            .ok()
            .and_then(|rel| rel.to_str())
            .and_then(|rel| RelPath::new(rel.trim_end_matches('/')).ok())
            .filter(|rel| !rel.is_root());
        self.save_abs = abs;
    }

    /// The effective `get_patt`.
    pub fn get_patt(&self) -> Option<&Pattern> {
        self.get_patt.as_deref()
    }

    /// True if the entry is older than `max_days` allows (zero times are never too old).
    /// Directories never are: their time says nothing about their contents' age, and
    /// mirror.pl, which dropped old directories, recreated them on demand for the newer
    /// files inside (and could then delete them as unkept).
    pub fn too_old(&self, e: &Entry) -> bool {
        match (self.max_age, e.mtime) {
            (Some(cut), Some(t)) => t != 0 && t < cut && !e.kind.is_dir(),
            _ => false,
        }
    }

    /// The pattern deletion candidates must match (`delete_patt`, or `get_patt` with
    /// `delete_get_patt`).
    pub fn del_patt(&self) -> Option<&Pattern> {
        if self.pkg.delete_get_patt {
            self.get_patt()
        } else {
            self.pkg.delete_patt.as_ref()
        }
    }

    /// Will this source entry be compressed (`will_compress` of mirror.pl)? Conversion
    /// candidates are not: they are handled by `compress_conv_patt`.
    pub fn will_compress(&self, e: &Entry) -> bool {
        let Some(c) = &self.compress else {
            return false;
        };
        let path = e.path.as_str();
        e.kind == mirror_remote::Kind::File
            && matches(&c.patt, path)
            && !(self.pkg.compress_size_floor != 0
                && e.size.unwrap_or(0) <= self.pkg.compress_size_floor)
            && !hits(self.pkg.compress_excl.as_ref(), path)
            && !self.is_conversion(path)
    }

    /// Is this path a compress→gzip conversion candidate?
    pub fn is_conversion(&self, path: &str) -> bool {
        self.convert && hits(self.pkg.compress_conv_patt.as_ref(), path)
    }

    /// The converted name of a conversion candidate (`compress_conv_expr`, by default
    /// `.Z` → `.gz` and `.taz` → `.tgz`).
    pub fn convert_name(&self, path: &str) -> String {
        self.pkg.compress_conv_expr.apply(path).0
    }

    /// Will this source entry be split?
    pub fn will_split(&self, e: &Entry) -> bool {
        let Some(s) = &self.split else { return false };
        e.kind == mirror_remote::Kind::File
            && e.size.is_some_and(|n| n > s.max)
            && matches(&s.patt, e.path.as_str())
    }

    /// The compression suffix in force (without the dot).
    pub fn suffix(&self) -> &str {
        self.compress
            .as_ref()
            .map_or(self.pkg.compress_suffix.as_str(), |c| c.suffix.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names() {
        assert!(is_temp_name(".in.x."));
        assert!(is_temp_name(".in.x.tar.gz."));
        assert!(!is_temp_name(".in.."));
        assert!(!is_temp_name(".in.x"));
        assert!(!is_temp_name("in.x."));
    }

    #[test]
    fn save_dir_inside_and_outside() {
        let pkg = Package::builtin("p", "h", "pw");
        let mut r = Rules::new(&pkg, false, false, 0);
        r.set_save_dir(Path::new("/m/l"));
        assert_eq!(r.save_rel.as_ref().unwrap().as_str(), "Old");
        let mut pkg2 = pkg.clone();
        pkg2.save_dir = "/elsewhere/Old".into();
        let mut r = Rules::new(&pkg2, false, false, 0);
        r.set_save_dir(Path::new("/m/l"));
        assert!(r.save_rel.is_none());
        assert_eq!(r.save_abs, PathBuf::from("/elsewhere/Old"));
    }

    #[test]
    fn max_days_cutoff() {
        let mut pkg = Package::builtin("p", "h", "pw");
        pkg.max_days = 2;
        let r = Rules::new(&pkg, false, false, 10 * 86_400);
        let p = RelPath::new("f").unwrap();
        assert!(r.too_old(&Entry::file(p.clone(), 1, 7 * 86_400)));
        assert!(!r.too_old(&Entry::file(p.clone(), 1, 8 * 86_400)));
        assert!(!r.too_old(&Entry::file(p.clone(), 1, 0)));
        assert!(!r.too_old(&Entry::dir(p, Some(1))));
    }
}
