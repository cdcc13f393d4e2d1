//! The [`Plan`]: everything a run will do, as a value. Built by marching the two listings
//! and asking [`crate::decide`] about every source entry; the safety gate then adds the
//! deletions. `-n` prints it in mirror.pl's `Should ...` forms and stops; otherwise the
//! executor carries it out phase by phase, in the order the actions are stored.

use std::collections::HashSet;

use futures::StreamExt;
use mirror_remote::{Entry, Kind, Precision, RelPath, Remote};

use crate::decide::{self, Decision, FetchReason, Keep, SkipReason, Verdict, View, find};
use crate::events::Say;
use crate::march::march;
use crate::report::t2str;
use crate::rules::Rules;

/// What happens to a fetched file before it takes its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// Stored as fetched.
    #[default]
    None,
    /// Compressed with `compress_prog` and stored as `NAME.SUFFIX`.
    Compress,
    /// A `compress`ed file converted to gzip (`compress_conv_patt`).
    Convert,
    /// Stored as `NAME-split/partNN` with a `README`.
    Split,
}

/// What occupies a path a symlink is to be created at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occupant {
    /// Nothing.
    Nothing,
    /// A file, symlink or other non-directory: removed first.
    File,
    /// A directory: removed first if empty (the deletion pass empties it).
    Dir,
}

/// One file transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// Path at the source.
    pub src: RelPath,
    /// Path at the destination when it differs (compression suffix, name mappings).
    pub dest: Option<RelPath>,
    /// Listed size, checked after the transfer.
    pub size: Option<u64>,
    /// Source time, given to the file when `force_times`.
    pub mtime: Option<i64>,
    /// Source mode, for `mode_copy`.
    pub mode: Option<u32>,
    /// Why.
    pub reason: FetchReason,
    /// Compression, conversion or split.
    pub transform: Transform,
    /// Resume a kept `.in.NAME.` from this offset (0: start afresh).
    pub resume_from: u64,
    /// A `.in.NAME.` exists at the destination (removed first unless resumed).
    pub temp_exists: bool,
    /// The size of the destination file it replaces, if any.
    pub old_size: Option<u64>,
}

impl Fetch {
    /// The destination path.
    pub fn dest(&self) -> &RelPath {
        self.dest.as_ref().unwrap_or(&self.src)
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create a directory (after removing a non-directory in the way, if `replace`).
    Mkdir {
        /// The directory.
        path: RelPath,
        /// The source's mode, for `mode_copy`.
        mode: Option<u32>,
        /// A file or symlink at the path is removed first.
        replace: bool,
    },
    /// Transfer a file.
    Fetch(Fetch),
    /// Delete (or, with `save_deletes`, move aside) a destination entry.
    Delete {
        /// The entry.
        path: RelPath,
        /// It is a directory (removed only when empty).
        dir: bool,
    },
    /// Create a symlink.
    Symlink {
        /// Where.
        path: RelPath,
        /// The target text.
        target: Box<str>,
        /// What is at `path` now.
        replace: Occupant,
    },
    /// Set a destination file's time (`-T`).
    SetTime {
        /// The file.
        path: RelPath,
        /// The time.
        mtime: i64,
    },
    /// A source entry that is not mirrored for a reason the report must show.
    Skip {
        /// The destination path concerned.
        path: RelPath,
        /// Why.
        reason: SkipReason,
    },
}

/// Totals of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PlanStats {
    /// Entries in the source listing.
    pub src_entries: u64,
    /// Entries in the destination listing.
    pub dst_entries: u64,
    /// Files to transfer.
    pub files: u64,
    /// Bytes to transfer, as listed.
    pub bytes: u64,
    /// Directories to create.
    pub mkdirs: u64,
    /// Symlinks to create.
    pub symlinks: u64,
    /// Deletion candidates.
    pub deletes: u64,
    /// Times to set (`-T`).
    pub set_times: u64,
    /// Source entries already up to date.
    pub up_to_date: u64,
}

/// Why the deletion pass will not run, decided before any transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeletionBlock {
    /// Too many candidates (`max_delete_files` / `max_delete_dirs`): every candidate is
    /// reported as `NEED TO ...`.
    Threshold(String),
    /// A listing was incomplete or had errors: nothing is said about candidates, whose
    /// absence proves nothing.
    Listing(String),
}

/// Everything a run will do, in execution order: directories, transfers, deletions,
/// transfers that replace a directory (they wait for its removal), symlinks, times, then
/// the skips worth reporting.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The actions, in execution order.
    pub actions: Vec<Action>,
    /// Totals.
    pub stats: PlanStats,
    /// Set when the deletions in `actions` will not be carried out.
    pub deletions_blocked: Option<DeletionBlock>,
}

/// A plan under construction, with the destination entries it accounts for.
pub(crate) struct Draft {
    /// The plan without deletions.
    pub plan: Plan,
    /// `kept[j]`: destination entry `j` is accounted for (mirror.pl's keep marks), with
    /// every ancestor of a kept entry kept too.
    pub kept: Vec<bool>,
    /// Where the deletions go in `plan.actions`: after the transfers, before the transfers
    /// that replace a directory (they wait for its removal) and the symlinks.
    pub deletion_slot: usize,
}

/// Builds the plan (without deletions) from two sorted listings.
pub(crate) fn build(src: &[Entry], dst: &[Entry], rules: &Rules, say: &Say) -> Draft {
    let view = View { src, dst };
    let mut b = Builder {
        rules,
        view,
        kept: vec![false; dst.len()],
        new_dirs: HashSet::new(),
        last_parent: None,
        mkdirs: Vec::new(),
        fetches: Vec::new(),
        deferred: Vec::new(),
        links: Vec::new(),
        times: Vec::new(),
        skips: Vec::new(),
        stats: PlanStats {
            src_entries: src.len() as u64,
            dst_entries: dst.len() as u64,
            ..PlanStats::default()
        },
    };
    for pair in march(src, dst) {
        if let Some(i) = pair.src {
            let e = &src[i];
            let d = decide::decide(e, pair.dst, rules, &view);
            if say.enabled(3) {
                trace_compare(e, &d, dst, rules, say);
            }
            b.add(e, d, say);
        }
    }
    b.finish()
}

/// How long after a listing's window (its minute or day) ends a copy counts as taken after
/// it. Covers a server clock running up to this much behind ours, and a transfer that
/// started just before the end and finished just after.
const SETTLE: i64 = 60;

/// Gives exact times to the source files whose listed time is too coarse for a sound
/// decision, before the plan is built (which then decides them again, exactly). A source
/// `LIST` gives minutes (days for old files); when such a file has the local copy's size
/// and minute, it may have changed after the copy was taken within that minute
/// ([`Verdict::NeedsExactTime`]). Only the source can say, one question per file (FTP
/// `MDTM`), so the questions are kept to the files that can be wrong:
///
/// - a same-minute file whose local copy was made (its ctime) after that minute ended is
///   the minute's final content: no question. On a no-change run of a tree that is not
///   being written to right now this is every file, and nothing is asked;
/// - a file about to be fetched while its minute is still running is asked too, so the
///   copy is stamped with the exact time and the next run compares seconds with seconds
///   instead of fetching it again.
///
/// An exact time is taken only when it falls in the listed window (otherwise the listing
/// was read in another time zone, or the file changed in between: the listing's answer
/// stands, as it does when the question fails). The questions run `parallel` at once.
/// Does nothing when the source cannot do better than its listings
/// ([`mirror_remote::Features::precision`]), in `-T` mode, or without `get_newer`.
pub(crate) async fn refine_times(
    src: &mut [Entry],
    dst: &[Entry],
    rules: &Rules<'_>,
    source: &dyn Remote,
    dest: &dyn Remote,
    say: &Say<'_>,
) {
    let pkg = rules.pkg;
    let features = source.features();
    let coarse = |e: &Entry| {
        e.kind == Kind::File
            && e.mtime.is_some()
            && matches!(e.precision, Precision::Minute | Precision::Day)
            && features.precision < e.precision
    };
    if rules.times_only || !pkg.get_newer || !src.iter().any(coarse) {
        return;
    }
    let now = crate::report::now();
    // Without renaming, the destination entry is the one at the source's path, and most
    // files can be passed over without a full decision.
    let renames = rules.compress.is_some()
        || rules.convert
        || rules.split.is_some()
        || !pkg.name_mappings.is_empty();
    // The files to ask about: index in `src`, and the same-window copy's path if any.
    let mut unsure: Vec<(usize, Option<&RelPath>)> = Vec::new();
    let view = View { src, dst };
    for pair in march(src, dst) {
        let Some(i) = pair.src else { continue };
        let e = &src[i];
        if !coarse(e) {
            continue;
        }
        let open = now < window_end(e) + SETTLE;
        if !open && !renames && !pair.dst.is_some_and(|j| decide::same_window(e, &dst[j])) {
            continue;
        }
        let d = decide::decide(e, pair.dst, rules, &view);
        match d.verdict {
            Verdict::NeedsExactTime => unsure.push((i, d.found.map(|j| &dst[j].path))),
            Verdict::Fetch { .. } if open && pkg.force_times => unsure.push((i, None)),
            _ => {}
        }
    }
    if unsure.is_empty() {
        return;
    }
    // A copy made after its window ended cannot be older than anything in that window.
    let settled: Vec<bool> = match dest.local_root() {
        Some(root) if unsure.iter().any(|(_, at)| at.is_some()) => {
            let probe: Vec<Option<(std::path::PathBuf, i64)>> = unsure
                .iter()
                .map(|(i, at)| at.map(|p| (root.join(p.as_str()), window_end(&src[*i]) + SETTLE)))
                .collect();
            tokio::task::spawn_blocking(move || copied_after(&probe))
                .await
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let asks: Vec<usize> = unsure
        .iter()
        .enumerate()
        .filter(|(k, _)| !settled.get(*k).copied().unwrap_or(false))
        .map(|(_, (i, _))| *i)
        .collect();
    say.at(2, || {
        format!(
            "{} file(s) listed with a coarse time need care: {} were copied after their \
             minute ended, {} are asked for their exact time",
            unsure.len(),
            unsure.len() - asks.len(),
            asks.len()
        )
    });
    if asks.is_empty() {
        return;
    }
    let parallel = pkg.parallel.max(1).min(features.max_parallel.max(1));
    let listed: &[Entry] = src;
    let answers: Vec<(usize, Result<Option<i64>, mirror_remote::RemoteError>)> =
        futures::stream::iter(asks)
            .map(|i| async move { (i, source.exact_mtime(&listed[i].path).await) })
            .buffer_unordered(parallel)
            .collect()
            .await;
    for (i, answer) in answers {
        let e = &mut src[i];
        let (p, was) = (e.precision, e.mtime.unwrap_or(0));
        match answer {
            Ok(Some(t)) if p.truncate(t) == p.truncate(was) => {
                say.at(3, || {
                    format!("Exact time of {}: {}", e.path, t2str(t, pkg.use_timelocal))
                });
                e.mtime = Some(t);
                e.precision = Precision::Second;
            }
            Ok(Some(t)) => say.at(2, || {
                format!(
                    "Exact time of {} ({}) lies outside its listed time: the listing's is kept",
                    e.path,
                    t2str(t, pkg.use_timelocal)
                )
            }),
            Ok(None) => {}
            Err(err) => say.at(1, || {
                format!("Cannot get the exact time of {}: {err}", e.path)
            }),
        }
    }
}

/// The end of the window (minute, day) an entry's listed time stands for.
fn window_end(e: &Entry) -> i64 {
    e.precision.truncate(e.mtime.unwrap_or(0)) + e.precision.window()
}

/// For each `(local file, time)`: true if the file's inode last changed (ctime: the rename
/// or time-stamping of our own copy) at or after that time. Unknown answers are false.
fn copied_after(probe: &[Option<(std::path::PathBuf, i64)>]) -> Vec<bool> {
    use std::os::unix::fs::MetadataExt;
    probe
        .iter()
        .map(|p| {
            p.as_ref().is_some_and(|(path, after)| {
                std::fs::metadata(path).is_ok_and(|m| m.ctime() >= *after)
            })
        })
        .collect()
}

struct Builder<'a, 'r> {
    rules: &'a Rules<'r>,
    view: View<'a>,
    kept: Vec<bool>,
    /// Directories the plan creates.
    new_dirs: HashSet<RelPath>,
    /// The last parent directory known to exist or be planned (most files share it).
    last_parent: Option<RelPath>,
    mkdirs: Vec<Action>,
    fetches: Vec<Action>,
    deferred: Vec<Action>,
    links: Vec<Action>,
    times: Vec<Action>,
    skips: Vec<Action>,
    stats: PlanStats,
}

impl Builder<'_, '_> {
    fn add(&mut self, e: &Entry, d: Decision, say: &Say) {
        let Decision {
            dest,
            found,
            keep,
            verdict,
        } = d;
        match keep {
            Keep::No => {}
            Keep::Dest => self.keep(found),
            Keep::Split => {
                let dir = format!("{}-split", dest.as_ref().unwrap_or(&e.path));
                self.keep_tree(&dir);
            }
        }
        if matches!(verdict, Verdict::UpToDate | Verdict::NeedsExactTime) {
            // The common case of a re-run: no allocation at all. An exact time that was
            // not needed or could not be had leaves the listing's answer: up to date.
            self.stats.up_to_date += 1;
            return;
        }
        let dest = dest.unwrap_or_else(|| e.path.clone());
        let found = found.map(|j| &self.view.dst[j]);
        match verdict {
            Verdict::UpToDate | Verdict::NeedsExactTime => {}
            Verdict::Skip(reason) => self.skip(dest, reason, say),
            Verdict::Mkdir { replace } => {
                say.at(2, || format!("   need to mkdir {dest}"));
                self.ensure_parents(&dest);
                if self.new_dirs.insert(dest.clone()) {
                    self.stats.mkdirs += 1;
                    self.mkdirs.push(Action::Mkdir {
                        path: dest,
                        mode: e.mode.map(u32::from),
                        replace,
                    });
                }
            }
            Verdict::Fetch { reason, transform } => {
                self.ensure_parents(&dest);
                let over_dir = found.is_some_and(|f| f.kind.is_dir());
                let old_size = found.filter(|f| f.kind == Kind::File).and_then(|f| f.size);
                let fetch = self.fetch(e, dest, reason, transform, old_size);
                if over_dir {
                    self.deferred.push(fetch)
                } else {
                    self.fetches.push(fetch)
                }
            }
            Verdict::Symlink {
                target,
                fetch_target,
            } => {
                self.ensure_parents(&dest);
                if let Some(t) = fetch_target
                    && let Some(i) = find(self.view.src, t.as_str())
                {
                    let te = &self.view.src[i];
                    self.keep(find(self.view.dst, t.as_str()));
                    self.ensure_parents(&t);
                    let fetch = self.fetch(te, t, FetchReason::LinkTarget, Transform::None, None);
                    self.fetches.push(fetch);
                }
                let replace = match found {
                    None => Occupant::Nothing,
                    Some(f) if f.kind.is_dir() => Occupant::Dir,
                    Some(_) => Occupant::File,
                };
                self.stats.symlinks += 1;
                self.links.push(Action::Symlink {
                    path: dest,
                    target,
                    replace,
                });
            }
            Verdict::SetTime { mtime } => {
                self.stats.set_times += 1;
                self.times.push(Action::SetTime { path: dest, mtime });
            }
        }
    }

    fn skip(&mut self, path: RelPath, reason: SkipReason, say: &Say) {
        match &reason {
            SkipReason::TempFile | SkipReason::OtherKind | SkipReason::GetMissingOff => return,
            SkipReason::Excluded => return say.at(2, || format!("   exclude: {path}")),
            SkipReason::TooOld => return say.at(2, || format!("   too old: {path}")),
            SkipReason::NotSelected => return say.at(2, || format!("   do not xfer: {path}")),
            SkipReason::CompressedTwin => {
                return say.at(2, || {
                    format!("   do not xfer, compressed version exists: {path}")
                });
            }
            SkipReason::TooBig => {
                return say.at(3, || "   src is too big, no need to xfer it".into());
            }
            SkipReason::BadMapping(_)
            | SkipReason::EscapingLink(_)
            | SkipReason::MissingLinkTarget(_) => {}
        }
        self.skips.push(Action::Skip { path, reason });
    }

    fn fetch(
        &mut self,
        e: &Entry,
        dest: RelPath,
        reason: FetchReason,
        transform: Transform,
        old_size: Option<u64>,
    ) -> Action {
        // A kept `.in.NAME.` is resumed when it is the same file (same time) and the source
        // can seek; it is never a deletion candidate while a transfer may use it.
        let temp = dest.temp_sibling();
        let mut resume_from = 0;
        let temp_at = find(self.view.dst, temp.as_str());
        if let Some(j) = temp_at {
            self.kept[j] = true;
            let t = &self.view.dst[j];
            let size = t.size.unwrap_or(0);
            if self.rules.resume
                && t.kind == Kind::File
                && size > 0
                && t.mtime.is_some()
                && t.mtime == e.mtime
                && e.size.is_none_or(|n| size < n)
            {
                resume_from = size;
            }
        }
        self.stats.files += 1;
        self.stats.bytes += e.size.unwrap_or(0);
        let dest = (dest != e.path).then_some(dest);
        Action::Fetch(Fetch {
            src: e.path.clone(),
            dest,
            size: e.size,
            mtime: e.mtime,
            mode: e.mode.map(u32::from),
            reason,
            transform,
            resume_from,
            temp_exists: temp_at.is_some(),
            old_size,
        })
    }

    /// Plans the creation of every missing ancestor of `path` (get_patt or name_mappings
    /// may select a file whose directories are not selected themselves) and keeps the
    /// existing ones from deletion.
    fn ensure_parents(&mut self, path: &RelPath) {
        let Some(parent) = path.parent() else { return };
        if parent.is_root() || self.last_parent.as_ref() == Some(&parent) {
            return;
        }
        let mut missing = Vec::new();
        for dir in std::iter::once(parent.clone()).chain(parent.ancestors()) {
            if dir.is_root() || self.new_dirs.contains(&dir) {
                break;
            }
            // What is there stays: a directory holds the new entry, and a file in the way
            // is replaced by the mkdir, not left to the deletion pass.
            let at = find(self.view.dst, dir.as_str());
            self.keep(at);
            match at.map(|j| &self.view.dst[j]) {
                Some(d) if d.kind.is_dir() => break,
                other => missing.push((dir, other.is_some())),
            }
        }
        for (dir, replace) in missing.into_iter().rev() {
            self.new_dirs.insert(dir.clone());
            self.stats.mkdirs += 1;
            self.mkdirs.push(Action::Mkdir {
                path: dir,
                mode: None,
                replace,
            });
        }
        self.last_parent = Some(parent);
    }

    fn keep(&mut self, j: Option<usize>) {
        if let Some(j) = j {
            self.kept[j] = true;
        }
    }

    /// Keeps `dir` and everything below it (a split file's parts).
    fn keep_tree(&mut self, dir: &str) {
        let dst = self.view.dst;
        let start = dst.partition_point(|e| e.path.as_str() < dir);
        for (j, e) in dst.iter().enumerate().skip(start) {
            let s = e.path.as_str();
            let inside =
                s == dir || (s.starts_with(dir) && s.as_bytes().get(dir.len()) == Some(&b'/'));
            if inside {
                self.kept[j] = true;
            } else if !s.starts_with(dir) {
                break;
            }
        }
    }

    fn finish(mut self) -> Draft {
        // Every ancestor of a kept entry is kept. Parents sort before their children, so
        // one backward pass carries the marks up the tree.
        let dst = self.view.dst;
        for j in (0..dst.len()).rev() {
            if self.kept[j]
                && let Some(parent) = dst[j].path.parent()
                && !parent.is_root()
                && let Some(pj) = find(dst, parent.as_str())
            {
                self.kept[pj] = true;
            }
        }
        // Built around the fetches, the one part that can be huge (an initial mirror of a
        // whole tree): growing that vector in place never holds two copies of it, where
        // appending it to `mkdirs` briefly did.
        let mut actions = std::mem::take(&mut self.fetches);
        actions.reserve_exact(
            self.mkdirs.len()
                + self.deferred.len()
                + self.links.len()
                + self.times.len()
                + self.skips.len(),
        );
        actions.splice(0..0, self.mkdirs);
        let deletion_slot = actions.len();
        actions.append(&mut self.deferred);
        actions.append(&mut self.links);
        actions.append(&mut self.times);
        actions.append(&mut self.skips);
        Draft {
            plan: Plan {
                actions,
                stats: self.stats,
                deletions_blocked: None,
            },
            kept: self.kept,
            deletion_slot,
        }
    }
}

/// mirror.pl's debug-3 comparison trace.
fn trace_compare(e: &Entry, d: &Decision, dst: &[Entry], rules: &Rules, say: &Say) {
    let local = rules.pkg.use_timelocal;
    let line = |x: &Entry| {
        format!(
            "{} {} {}",
            x.mtime.map_or_else(|| "?".into(), |t| t2str(t, local)),
            x.size.unwrap_or(0),
            x.kind.letter()
        )
    };
    say.at(3, || format!("Compare src {}: {}", e.path, line(e)));
    if let Some(j) = d.found {
        say.at(3, || {
            format!("       dest {}: {}", dst[j].path, line(&dst[j]))
        });
    }
    match d.verdict {
        Verdict::Fetch { reason, .. } => say.at(3, || format!("   {}", reason.describe())),
        Verdict::NeedsExactTime => say.at(3, || {
            "   same time at the listing's precision, exact time unknown: no need to xfer it".into()
        }),
        _ => {}
    }
}

impl Plan {
    /// Files to transfer and their listed bytes.
    pub fn transfer_totals(&self) -> (u64, u64) {
        (self.stats.files, self.stats.bytes)
    }
}
