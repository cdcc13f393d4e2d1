//! The one "up to date?" function: [`decide`] answers, for one source entry, what the
//! destination needs (spec §4.4, with symlinks as in §4.7 and times as in §4.9).
//!
//! Everything mirror.pl decides per remote entry is here, in mirror.pl's order: listing
//! filters (`.in.` temp names, `exclude_patt`, `max_days`), the destination name
//! (compression suffix, compress→gzip conversion, `name_mappings`, split), `get_patt`,
//! then the comparison proper (`get_missing`, `max_size`, `force`, `get_newer`,
//! `get_size_change`, type changes) and, for symlinks, confinement to the tree and
//! `make_bad_symlinks`. The function only reads; `plan` turns its answers into actions.

use std::borrow::Cow;

use mirror_remote::{Entry, Kind, Precision, RelPath};
use serde::Serialize;

use crate::plan::Transform;
use crate::rules::{Rules, hits, is_temp_name, selects};

/// Why a file is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchReason {
    /// Not present at the destination.
    Missing,
    /// The source is newer (§4.9).
    Newer,
    /// The sizes differ.
    SizeChanged,
    /// The destination holds another kind of entry (or a symlink with another target).
    TypeChanged,
    /// `force` is set.
    Forced,
    /// `get_symlink_files`: the target of a symlink that is otherwise not selected.
    LinkTarget,
}

impl FetchReason {
    /// mirror.pl's debug-3 wording.
    pub fn describe(self) -> &'static str {
        match self {
            FetchReason::Missing => "src is missing, xfer it",
            FetchReason::Newer => "src is newer, xfer it",
            FetchReason::SizeChanged => "src is different size, xfer it",
            FetchReason::TypeChanged => "src has different type, xfer it",
            FetchReason::Forced => "force, xfer it",
            FetchReason::LinkTarget => "target of a symlink, xfer it",
        }
    }
}

/// Why a source entry leads to no action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A `.in.NAME.` temporary file of some other mirror: never fetched.
    TempFile,
    /// Matches `exclude_patt` (or `local_ignore`).
    Excluded,
    /// Older than `max_days`.
    TooOld,
    /// Neither file, directory nor symlink.
    OtherKind,
    /// A compressed twin (`NAME.Z`, `NAME.gz`, or the converted name) exists at the source.
    CompressedTwin,
    /// Does not match `get_patt` ("do not xfer").
    NotSelected,
    /// `get_missing` is off.
    GetMissingOff,
    /// Larger than `max_size`.
    TooBig,
    /// `name_mappings` produced a name that is not a clean relative path.
    BadMapping(String),
    /// A symlink whose target resolves outside the tree: never created.
    EscapingLink(String),
    /// A symlink whose target does not exist (and `make_bad_symlinks` is off).
    MissingLinkTarget(String),
}

/// What the destination needs for one source entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing: the entry is filtered out or cannot be mirrored.
    Skip(SkipReason),
    /// Present and up to date.
    UpToDate,
    /// Up to date as far as the listing can tell, but the listing cannot tell enough: the
    /// source's time is coarser than the destination's, both fall in the same minute (or
    /// day) and the sizes agree, so the source may have changed after the copy was taken
    /// within that window ([`same_window`]). An exact source time settles it:
    /// `plan::refine_times` asks for one and the entry is decided again. Left unresolved,
    /// it counts as up to date (the listing's answer).
    NeedsExactTime,
    /// A directory to create; `replace` when a non-directory is in the way.
    Mkdir {
        /// A file or symlink at the path must be removed first.
        replace: bool,
    },
    /// A file to transfer.
    Fetch {
        /// Why.
        reason: FetchReason,
        /// What happens to it after the transfer.
        transform: Transform,
    },
    /// A symlink to create or re-point.
    Symlink {
        /// The target text to write.
        target: Box<str>,
        /// `get_symlink_files`: fetch this (unselected) target file first.
        fetch_target: Option<RelPath>,
    },
    /// `-T`: set the destination's time.
    SetTime {
        /// The time to set.
        mtime: i64,
    },
}

/// Which destination entries the source entry accounts for (mirror.pl's keep marks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Nothing at the destination is claimed.
    No,
    /// The destination entry at the decided path.
    Dest,
    /// The `DEST-split/` directory and everything in it.
    Split,
}

/// The answer of [`decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decision {
    /// The destination path when it differs from the source path (compression suffix,
    /// conversion, `name_mappings`).
    pub dest: Option<RelPath>,
    /// The index of the destination entry found at the decided path (for a split file:
    /// `DEST-split/part01`).
    pub found: Option<usize>,
    /// What that finding keeps from deletion.
    pub keep: Keep,
    /// What to do.
    pub verdict: Verdict,
}

impl Decision {
    fn skip(reason: SkipReason) -> Self {
        Decision {
            dest: None,
            found: None,
            keep: Keep::No,
            verdict: Verdict::Skip(reason),
        }
    }
}

/// The two sorted listings a decision may look things up in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    /// The source listing.
    pub src: &'a [Entry],
    /// The destination listing.
    pub dst: &'a [Entry],
}

/// Binary search of a sorted listing by path text (RelPath order is byte order).
pub(crate) fn find(entries: &[Entry], path: &str) -> Option<usize> {
    entries.binary_search_by(|e| e.path.as_str().cmp(path)).ok()
}

/// True if a source time is newer than a destination time, as mirror.pl's `get_newer`
/// means it (spec §4.9), compared at the coarser of the two precisions:
///
/// - both times are truncated to the coarser precision first, so a minute-precision
///   listing never looks newer than a local copy stamped within the same minute, and a
///   day-precision (old `ls`) time never looks newer than a copy from the same day;
/// - the source must be strictly newer;
/// - a difference of exactly 3600 s is not "newer" (a DST switch on either side);
/// - an unknown time (absent, or [`Precision::Unknown`]) is never newer: mirror.pl took
///   unparsable dates as "now" and refetched every run (§6.5); the size check still applies.
pub fn is_newer(src: Option<i64>, src_p: Precision, dst: Option<i64>, dst_p: Precision) -> bool {
    let (Some(s), Some(d)) = (src, dst) else {
        return false;
    };
    let p = src_p.max(dst_p);
    if p == Precision::Unknown {
        return false;
    }
    let (s, d) = (p.truncate(s), p.truncate(d));
    s > d && s - d != 3600
}

/// True when "is the source newer?" cannot be answered from the listing: both are plain
/// files with times, the source's time is only known to the minute or the day (a `LIST`
/// line, an index page), the destination's more exactly, and the two fall in the same
/// window of the source's precision. The sizes are compared separately.
pub(crate) fn same_window(src: &Entry, dst: &Entry) -> bool {
    let p = src.precision;
    src.kind == Kind::File
        && dst.kind == Kind::File
        && matches!(p, Precision::Minute | Precision::Day)
        && dst.precision < p
        && match (src.mtime, dst.mtime) {
            (Some(s), Some(d)) => p.truncate(s) == p.truncate(d),
            _ => false,
        }
}

/// Decides what the destination needs for the source entry `src` (spec §4.4).
///
/// `natural` is the index of the destination entry at the same path, as the march found
/// it; it is used when the destination name equals the source name, and a binary search
/// finds the entry otherwise. The steps, in mirror.pl's order:
///
/// 1. listing filters: `.in.NAME.` temp files, `exclude_patt`, `max_days`, odd kinds;
/// 2. destination name: `.SUFFIX` when compressed (skipped if the source also has a
///    compressed twin), the compress→gzip conversion, symlink targets adjusted to
///    compressed or split targets, then `name_mappings` on both name and link target;
/// 3. `get_patt` on the source path (after step 2, as mirror.pl does);
/// 4. directories: create if missing or if a non-directory is in the way;
/// 5. files and symlinks: an existing destination entry is kept (unless it is a
///    directory that a file or symlink replaces: then it is left to the deletion pass);
///    nothing more without `get_missing`, nor above `max_size`; with `-T` only the time is
///    set; otherwise fetch when `force`, missing, [`is_newer`], sizes differ (plain files
///    that are neither compressed nor split) or the kind/link target changed; a file
///    whose listed time cannot say whether it is newer ([`same_window`]) needs its exact
///    time ([`Verdict::NeedsExactTime`]);
/// 6. symlinks are created only when their target stays inside the tree (followed through
///    other symlinks of the tree, at most 10 hops) and exists, unless `make_bad_symlinks`.
pub(crate) fn decide(src: &Entry, natural: Option<usize>, rules: &Rules, view: &View) -> Decision {
    let pkg = rules.pkg;
    let path = src.path.as_str();

    // 1. What mirror.pl drops while parsing the listing.
    if is_temp_name(src.path.name()) {
        return Decision::skip(SkipReason::TempFile);
    }
    if hits(pkg.exclude_patt.as_ref(), path) {
        return Decision::skip(SkipReason::Excluded);
    }
    if rules.too_old(src) {
        return Decision::skip(SkipReason::TooOld);
    }
    if src.kind == Kind::Other {
        return Decision::skip(SkipReason::OtherKind);
    }

    // 2. The destination name.
    let mut dest: Cow<str> = Cow::Borrowed(path);
    let mut transform = Transform::None;
    let mut link: Option<Cow<str>> = match &src.kind {
        Kind::Symlink(t) => Some(Cow::Borrowed(&**t)),
        _ => None,
    };
    if rules.will_compress(src) {
        if !is_squished(path) {
            if ["Z", "gz"]
                .iter()
                .any(|s| find(view.src, &format!("{path}.{s}")).is_some())
            {
                return Decision::skip(SkipReason::CompressedTwin);
            }
            dest = Cow::Owned(format!("{path}.{}", rules.suffix()));
            transform = Transform::Compress;
        }
    } else if let Some(target) = link.as_mut() {
        // A link to a file that will be stored compressed or split must point at what
        // will really be there.
        if let Some(real) = final_source_target(&src.path, target, view.src) {
            if rules.will_compress(real) && !is_squished(real.path.as_str()) {
                let suffix = rules.suffix();
                dest = Cow::Owned(format!("{path}.{suffix}"));
                *target = Cow::Owned(format!("{target}.{suffix}"));
            } else if rules.will_split(real) {
                *target = Cow::Owned(format!("{target}-split/README"));
            }
        }
    }
    if transform == Transform::None && src.kind == Kind::File && rules.is_conversion(path) {
        let converted = rules.convert_name(&dest);
        if converted != dest && find(view.src, &converted).is_some() {
            return Decision::skip(SkipReason::CompressedTwin);
        }
        dest = Cow::Owned(converted);
        transform = Transform::Convert;
    }
    if let Some(target) = link.as_mut()
        && rules.is_conversion(target)
    {
        *target = Cow::Owned(rules.convert_name(target));
    }
    if !pkg.name_mappings.is_empty() {
        dest = Cow::Owned(pkg.name_mappings.apply(&dest).0);
        if let Some(target) = link.as_mut() {
            *target = Cow::Owned(pkg.name_mappings.apply(target).0);
        }
    }
    if transform == Transform::None && rules.will_split(src) {
        transform = Transform::Split;
    }

    // 3. get_patt is tested on the source path, after the renaming (as mirror.pl does).
    if !selects(rules.get_patt(), path) {
        return Decision::skip(SkipReason::NotSelected);
    }

    let dest_rel = if dest == path {
        None
    } else {
        match RelPath::new(&dest) {
            Ok(p) if !p.is_root() => Some(p),
            _ => return Decision::skip(SkipReason::BadMapping(dest.into_owned())),
        }
    };
    let split = transform == Transform::Split;
    let found = match (&dest_rel, split) {
        (None, false) => natural,
        _ => find(
            view.dst,
            &if split {
                format!("{dest}-split/part01")
            } else {
                dest.to_string()
            },
        ),
    };
    let dst = found.map(|j| &view.dst[j]);
    let decided = |keep, verdict| Decision {
        dest: dest_rel.clone(),
        found,
        keep,
        verdict,
    };

    // 4. Directories are only created, never compared.
    if src.kind.is_dir() {
        return match dst {
            Some(d) if d.kind.is_dir() => decided(Keep::Dest, Verdict::UpToDate),
            _ if rules.times_only => decided(Keep::Dest, Verdict::UpToDate),
            Some(_) => decided(Keep::Dest, Verdict::Mkdir { replace: true }),
            None => decided(Keep::No, Verdict::Mkdir { replace: false }),
        };
    }

    // 5. Files and symlinks. A directory that a file or symlink replaces is not kept: its
    // contents go through the deletion pass (and its safety gate) first.
    let keep = match dst {
        None => Keep::No,
        Some(_) if split => Keep::Split,
        Some(d) if d.kind.is_dir() => Keep::No,
        Some(_) => Keep::Dest,
    };
    if !pkg.get_missing {
        return decided(keep, Verdict::Skip(SkipReason::GetMissingOff));
    }
    if pkg.max_size > 0 && src.kind == Kind::File && src.size.is_some_and(|n| n > pkg.max_size) {
        return decided(keep, Verdict::Skip(SkipReason::TooBig));
    }
    if rules.times_only {
        let verdict = match (dst, src.mtime) {
            (Some(d), Some(t))
                if src.kind == Kind::File && d.kind == Kind::File && d.mtime != Some(t) =>
            {
                Verdict::SetTime { mtime: t }
            }
            _ => Verdict::UpToDate,
        };
        return decided(keep, verdict);
    }
    let reason = match dst {
        _ if pkg.force => Some(FetchReason::Forced),
        None => Some(FetchReason::Missing),
        Some(d) => {
            if pkg.get_newer && is_newer(src.mtime, src.precision, d.mtime, d.precision) {
                Some(FetchReason::Newer)
            } else if transform == Transform::None
                && pkg.get_size_change
                && src.kind == Kind::File
                && d.kind == Kind::File
                && src.size.is_some()
                && d.size.is_some()
                && src.size != d.size
            {
                Some(FetchReason::SizeChanged)
            } else if d.kind.letter() != src.kind.letter()
                || matches!((&d.kind, &link), (Kind::Symlink(old), Some(new)) if **old != **new)
            {
                Some(FetchReason::TypeChanged)
            } else {
                None
            }
        }
    };
    let Some(reason) = reason else {
        let unsure = pkg.get_newer && dst.is_some_and(|d| same_window(src, d));
        let verdict = if unsure {
            Verdict::NeedsExactTime
        } else {
            Verdict::UpToDate
        };
        return decided(keep, verdict);
    };

    // 6. Symlinks: same target text is up to date; otherwise confine and check the target.
    if let Some(target) = link {
        if let Some(Kind::Symlink(old)) = dst.map(|d| &d.kind)
            && **old == *target
        {
            return decided(keep, Verdict::UpToDate);
        }
        let at = dest_rel.as_ref().unwrap_or(&src.path);
        let verdict = match confine(at, &target, view) {
            Confined::Escapes => Verdict::Skip(SkipReason::EscapingLink(target.into_owned())),
            Confined::Inside(real)
                if !target_exists(&real, rules, view) && !pkg.make_bad_symlinks =>
            {
                match find(view.src, real.as_str()).map(|i| &view.src[i]) {
                    Some(e) if pkg.get_symlink_files && e.kind == Kind::File => Verdict::Symlink {
                        target: target.into_owned().into_boxed_str(),
                        fetch_target: Some(real),
                    },
                    _ => Verdict::Skip(SkipReason::MissingLinkTarget(target.into_owned())),
                }
            }
            Confined::Loops if !pkg.make_bad_symlinks => {
                Verdict::Skip(SkipReason::MissingLinkTarget(target.into_owned()))
            }
            Confined::Inside(_) | Confined::Loops => Verdict::Symlink {
                target: target.into_owned().into_boxed_str(),
                fetch_target: None,
            },
        };
        return decided(keep, verdict);
    }
    decided(keep, Verdict::Fetch { reason, transform })
}

/// Names mirror.pl considers already compressed (`$squished`).
fn is_squished(path: &str) -> bool {
    path.ends_with(".Z") || path.ends_with(".z") || path.ends_with(".gz")
}

/// Follows a source symlink through the source listing (at most 10 hops) to the entry it
/// finally names, if that is in the listing.
fn final_source_target<'e>(link: &RelPath, target: &str, src: &'e [Entry]) -> Option<&'e Entry> {
    let mut at = link.resolve_link_target(target)?;
    for _ in 0..10 {
        let e = &src[find(src, at.as_str())?];
        match &e.kind {
            Kind::Symlink(t) => at = e.path.resolve_link_target(t)?,
            _ => return Some(e),
        }
    }
    None
}

/// Where a symlink target leads in the finished tree.
#[derive(Debug, PartialEq, Eq)]
enum Confined {
    /// To this path inside the tree.
    Inside(RelPath),
    /// Out of the tree (absolute, too many `..`, or through a link that leaves it).
    Escapes,
    /// Round in circles (more than 10 hops).
    Loops,
}

/// Resolves the target of a link at `link` through the tree as it will be after the run
/// (the source listing, then the destination listing): every prefix of the path that is
/// itself a symlink is replaced by where it points, so `b -> a/x` with `a -> /etc` is
/// seen to leave the tree.
fn confine(link: &RelPath, target: &str, view: &View) -> Confined {
    let Some(mut at) = link.resolve_link_target(target) else {
        return Confined::Escapes;
    };
    for _ in 0..10 {
        let s = at.as_str();
        let prefix_ends = s
            .match_indices('/')
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()));
        let mut hop = None;
        for end in prefix_ends {
            if let Some(Kind::Symlink(t)) = kind_at(&s[..end], view) {
                hop = Some((end, t));
                break;
            }
        }
        let Some((end, t)) = hop else {
            return Confined::Inside(at);
        };
        let Ok(prefix) = RelPath::new(&s[..end]) else {
            return Confined::Escapes;
        };
        let Some(base) = prefix.resolve_link_target(t) else {
            return Confined::Escapes;
        };
        let rest = s[end..].trim_start_matches('/');
        at = if rest.is_empty() {
            base
        } else {
            match RelPath::new(rest) {
                Ok(r) => base.join_path(&r),
                Err(_) => return Confined::Escapes,
            }
        };
    }
    Confined::Loops
}

/// What the finished tree holds at `path`: the source's entry if it has one, else the
/// destination's.
fn kind_at<'a>(path: &str, view: &View<'a>) -> Option<&'a Kind> {
    find(view.src, path)
        .map(|i| &view.src[i].kind)
        .or_else(|| find(view.dst, path).map(|j| &view.dst[j].kind))
}

/// True if a link target will exist after the run: selected at the source, or present at
/// the destination.
fn target_exists(real: &RelPath, rules: &Rules, view: &View) -> bool {
    if real.is_root() {
        return true;
    }
    let at_source = find(view.src, real.as_str()).is_some_and(|i| {
        let e = &view.src[i];
        !hits(rules.pkg.exclude_patt.as_ref(), e.path.as_str())
            && !rules.too_old(e)
            && selects(rules.get_patt(), e.path.as_str())
    });
    at_source || find(view.dst, real.as_str()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirror_config::Package;

    fn p(s: &str) -> RelPath {
        RelPath::new(s).unwrap()
    }
    fn file(path: &str, size: u64, t: i64) -> Entry {
        Entry::file(p(path), size, t)
    }
    fn at(mut e: Entry, prec: Precision) -> Entry {
        e.precision = prec;
        e
    }

    const T: i64 = 1_700_000_000;

    /// Runs `decide` for `src` against an optional destination entry at the same path.
    fn run(pkg: &Package, src: Entry, dst: Option<Entry>, times_only: bool) -> Verdict {
        let rules = Rules::new(pkg, false, times_only, T + 1000);
        let srcs = [src];
        let dsts: Vec<Entry> = dst.into_iter().collect();
        let view = View {
            src: &srcs,
            dst: &dsts,
        };
        decide(&srcs[0], (!dsts.is_empty()).then_some(0), &rules, &view).verdict
    }

    fn fetch(reason: FetchReason) -> Verdict {
        Verdict::Fetch {
            reason,
            transform: Transform::None,
        }
    }

    #[test]
    fn newer_rule_table() {
        use Precision::*;
        // (src, src precision, dst, dst precision, newer?)
        let rows: &[(i64, Precision, i64, Precision, bool)] = &[
            (T + 1, Second, T, Second, true),
            (T, Second, T, Second, false),
            (T - 1, Second, T, Second, false), // older source: never fetched for time
            (T + 3600, Second, T, Second, false), // exactly one hour: DST, ignored
            (T + 3601, Second, T, Second, true),
            (T + 3599, Second, T, Second, true),
            // minute precision: same minute is not newer, the next minute is
            (1_700_000_040, Minute, 1_700_000_059, Second, false),
            (1_700_000_100, Minute, 1_700_000_059, Second, true),
            // day precision: an old `ls` date at midnight is not newer than the same day
            (86_400 * 19_000, Day, 86_400 * 19_000 + 5000, Second, false),
            (86_400 * 19_001, Day, 86_400 * 19_000 + 5000, Second, true),
            (T + 99, Unknown, T, Second, false),
        ];
        for &(s, sp, d, dp, want) in rows {
            assert_eq!(
                is_newer(Some(s), sp, Some(d), dp),
                want,
                "{s} {sp:?} vs {d} {dp:?}"
            );
        }
        assert!(!is_newer(None, Second, Some(T), Second));
    }

    #[test]
    fn decision_table() {
        let base = Package::builtin("p", "h", "pw");
        let mut force = base.clone();
        force.force = true;
        let mut no_newer = base.clone();
        no_newer.get_newer = false;
        let mut no_size = base.clone();
        no_size.get_size_change = false;
        let mut no_missing = base.clone();
        no_missing.get_missing = false;
        let mut small = base.clone();
        small.max_size = 10;
        let mut only_c = base.clone();
        only_c.get_patt = Some(pat(r"\.c$"));
        let mut excl = base.clone();
        excl.exclude_patt = Some(pat(r"^f"));
        let mut old = base.clone();
        old.max_days = 1;

        let f = |size, t| file("f", size, t);
        let rows: Vec<(&str, &Package, Entry, Option<Entry>, Verdict)> = vec![
            ("missing", &base, f(5, T), None, fetch(FetchReason::Missing)),
            ("same", &base, f(5, T), Some(f(5, T)), Verdict::UpToDate),
            (
                "newer",
                &base,
                f(5, T + 60),
                Some(f(5, T)),
                fetch(FetchReason::Newer),
            ),
            (
                "older same size",
                &base,
                f(5, T - 60),
                Some(f(5, T)),
                Verdict::UpToDate,
            ),
            (
                "resized",
                &base,
                f(6, T),
                Some(f(5, T)),
                fetch(FetchReason::SizeChanged),
            ),
            (
                "resized older",
                &base,
                f(6, T - 9),
                Some(f(5, T)),
                fetch(FetchReason::SizeChanged),
            ),
            (
                "3600",
                &base,
                f(5, T + 3600),
                Some(f(5, T)),
                Verdict::UpToDate,
            ),
            (
                "3601",
                &base,
                f(5, T + 3601),
                Some(f(5, T)),
                fetch(FetchReason::Newer),
            ),
            (
                "get_newer off",
                &no_newer,
                f(5, T + 60),
                Some(f(5, T)),
                Verdict::UpToDate,
            ),
            (
                "size change off",
                &no_size,
                f(6, T),
                Some(f(5, T)),
                Verdict::UpToDate,
            ),
            (
                "force",
                &force,
                f(5, T),
                Some(f(5, T)),
                fetch(FetchReason::Forced),
            ),
            (
                "get_missing off",
                &no_missing,
                f(5, T),
                None,
                Verdict::Skip(SkipReason::GetMissingOff),
            ),
            (
                "too big",
                &small,
                f(11, T),
                None,
                Verdict::Skip(SkipReason::TooBig),
            ),
            (
                "not too big",
                &small,
                f(10, T),
                None,
                fetch(FetchReason::Missing),
            ),
            (
                "get_patt",
                &only_c,
                f(5, T),
                None,
                Verdict::Skip(SkipReason::NotSelected),
            ),
            (
                "exclude",
                &excl,
                f(5, T),
                None,
                Verdict::Skip(SkipReason::Excluded),
            ),
            (
                "max_days",
                &old,
                f(5, T - 2 * 86_400),
                None,
                Verdict::Skip(SkipReason::TooOld),
            ),
            (
                "zero time never too old",
                &old,
                f(5, 0),
                None,
                fetch(FetchReason::Missing),
            ),
            (
                "dir over file",
                &base,
                f(5, T),
                Some(Entry::dir(p("f"), Some(T))),
                fetch(FetchReason::TypeChanged),
            ),
            (
                "file over dir",
                &base,
                Entry::dir(p("f"), Some(T)),
                Some(f(5, T)),
                Verdict::Mkdir { replace: true },
            ),
            (
                "new dir",
                &base,
                Entry::dir(p("f"), Some(T)),
                None,
                Verdict::Mkdir { replace: false },
            ),
            (
                "dir exists",
                &base,
                Entry::dir(p("f"), Some(T + 99)),
                Some(Entry::dir(p("f"), Some(T))),
                Verdict::UpToDate,
            ),
            (
                "temp name",
                &base,
                file(".in.x.", 5, T),
                None,
                Verdict::Skip(SkipReason::TempFile),
            ),
            (
                "minute precision same minute",
                &base,
                at(file("f", 5, 1_700_000_040), Precision::Minute),
                Some(file("f", 5, 1_700_000_059)),
                Verdict::NeedsExactTime,
            ),
            (
                "minute precision same minute, get_newer off",
                &no_newer,
                at(file("f", 5, 1_700_000_040), Precision::Minute),
                Some(file("f", 5, 1_700_000_059)),
                Verdict::UpToDate,
            ),
            (
                "minute precision same minute, other size",
                &base,
                at(file("f", 6, 1_700_000_040), Precision::Minute),
                Some(file("f", 5, 1_700_000_059)),
                fetch(FetchReason::SizeChanged),
            ),
            (
                "minute precision, local copy from a later minute",
                &base,
                at(file("f", 5, 1_700_000_040), Precision::Minute),
                Some(file("f", 5, 1_700_000_100)),
                Verdict::UpToDate,
            ),
            (
                "day precision same day",
                &base,
                at(file("f", 5, 86_400 * 19_000), Precision::Day),
                Some(file("f", 5, 86_400 * 19_000 + 5000)),
                Verdict::NeedsExactTime,
            ),
            (
                "unknown precision is never asked about",
                &base,
                at(file("f", 5, T), Precision::Unknown),
                Some(file("f", 5, T)),
                Verdict::UpToDate,
            ),
            (
                "exact on both sides",
                &base,
                file("f", 5, T - 1),
                Some(file("f", 5, T)),
                Verdict::UpToDate,
            ),
            (
                "minute precision next minute",
                &base,
                at(file("f", 5, 1_700_000_100), Precision::Minute),
                Some(file("f", 5, 1_700_000_059)),
                fetch(FetchReason::Newer),
            ),
        ];
        for (name, pkg, src, dst, want) in rows {
            assert_eq!(run(pkg, src, dst, false), want, "row {name}");
        }
    }

    #[test]
    fn times_only_sets_times_of_existing_files() {
        let pkg = Package::builtin("p", "h", "pw");
        assert_eq!(
            run(&pkg, file("f", 5, T + 7), Some(file("f", 9, T)), true),
            Verdict::SetTime { mtime: T + 7 }
        );
        assert_eq!(
            run(&pkg, file("f", 5, T), Some(file("f", 9, T)), true),
            Verdict::UpToDate
        );
        assert_eq!(run(&pkg, file("f", 5, T), None, true), Verdict::UpToDate);
        assert_eq!(
            run(&pkg, Entry::dir(p("d"), None), None, true),
            Verdict::UpToDate
        );
    }

    fn pat(s: &str) -> mirror_config::Pattern {
        mirror_config::Pattern {
            source: s.into(),
            regex: fancy_regex::Regex::new(s).unwrap(),
        }
    }

    fn link_verdict(pkg: &Package, src: Vec<Entry>, dst: Vec<Entry>, link: &str) -> Verdict {
        let rules = Rules::new(pkg, false, false, T);
        let view = View {
            src: &src,
            dst: &dst,
        };
        let i = find(&src, link).unwrap();
        decide(&src[i], find(&dst, link), &rules, &view).verdict
    }

    #[test]
    fn symlinks_are_confined() {
        let pkg = Package::builtin("p", "h", "pw");
        let sym = |path: &str, t: &str| Entry::symlink(p(path), t, Some(T));
        let mk = |t: &str| Verdict::Symlink {
            target: t.into(),
            fetch_target: None,
        };
        let esc = |t: &str| Verdict::Skip(SkipReason::EscapingLink(t.into()));

        let src = vec![file("a/f", 1, T), sym("a/l", "f")];
        assert_eq!(link_verdict(&pkg, src, vec![], "a/l"), mk("f"));
        let src = vec![sym("l", "../outside")];
        assert_eq!(link_verdict(&pkg, src, vec![], "l"), esc("../outside"));
        let src = vec![sym("l", "/etc/passwd")];
        assert_eq!(link_verdict(&pkg, src, vec![], "l"), esc("/etc/passwd"));
        // b -> a/passwd stays inside lexically, but a leaves the tree.
        let src = vec![sym("a", "/etc"), sym("b", "a/passwd")];
        assert_eq!(link_verdict(&pkg, src, vec![], "b"), esc("a/passwd"));
        // ... and a local symlink that leaves the tree counts too.
        let src = vec![sym("b", "a/passwd")];
        assert_eq!(
            link_verdict(&pkg, src, vec![sym("a", "/etc")], "b"),
            esc("a/passwd")
        );
        // Dangling: not made unless make_bad_symlinks.
        let src = vec![sym("l", "nothing")];
        assert_eq!(
            link_verdict(&pkg, src.clone(), vec![], "l"),
            Verdict::Skip(SkipReason::MissingLinkTarget("nothing".into()))
        );
        let mut bad = pkg.clone();
        bad.make_bad_symlinks = true;
        assert_eq!(link_verdict(&bad, src, vec![], "l"), mk("nothing"));
        // Unchanged link: nothing to do; re-pointed link: made again.
        let src = vec![file("f", 1, T), file("g", 1, T), sym("l", "f")];
        assert_eq!(
            link_verdict(&pkg, src.clone(), vec![sym("l", "f")], "l"),
            Verdict::UpToDate
        );
        assert_eq!(link_verdict(&pkg, src, vec![sym("l", "g")], "l"), mk("f"));
        // Loops are never followed for ever.
        let src = vec![sym("x", "y"), sym("y", "x")];
        assert_eq!(
            link_verdict(&pkg, src, vec![], "x"),
            Verdict::Skip(SkipReason::MissingLinkTarget("y".into()))
        );
    }

    #[test]
    fn name_mappings_change_the_destination() {
        let mut pkg = Package::builtin("p", "h", "pw");
        pkg.name_mappings = mirror_config::Substitutions(vec![mirror_config::Subst {
            pattern: pat("^old/"),
            replacement: "new/".into(),
            global: false,
        }]);
        let rules = Rules::new(&pkg, false, false, T);
        let src = [file("old/f", 3, T)];
        let dst = [file("new/f", 3, T)];
        let view = View {
            src: &src,
            dst: &dst,
        };
        let d = decide(&src[0], None, &rules, &view);
        assert_eq!(d.dest.unwrap().as_str(), "new/f");
        assert_eq!(d.found, Some(0));
        assert_eq!(d.keep, Keep::Dest);
        assert_eq!(d.verdict, Verdict::UpToDate);
        // A mapping that climbs out is refused.
        pkg.name_mappings.0[0].replacement = "../".into();
        let rules = Rules::new(&pkg, false, false, T);
        let d = decide(&src[0], None, &rules, &view);
        assert_eq!(
            d.verdict,
            Verdict::Skip(SkipReason::BadMapping("../f".into()))
        );
    }
}
