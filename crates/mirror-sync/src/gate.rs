//! The safety gate on deletions (spec §4.8): which destination entries are deletion
//! candidates, and whether the deletion pass may run at all.
//!
//! Differences from mirror.pl, all in the direction of deleting less by surprise:
//! - a percentage limit is rounded **up** (`ceil(total × N / 100)`), so a folder of 9 files
//!   may lose one with `10%` (mirror.pl's `int()` made small folders undeletable, §6.3);
//! - `files_to_go` / `dirs_to_go` count the candidates themselves: mirror.pl subtracted
//!   kept `delete_excl` entries twice and counted any type string containing `d` (a
//!   symlink to `../dir`) as a directory;
//! - a directory with a protected (not deletable, not kept) entry below it is not a
//!   candidate: `rmdir` could only fail on it;
//! - `save_dir` protects only entries really under it (§2.5's substring bug);
//! - nothing at all is deleted when a listing was incomplete or had errors (invariant 2);
//!   the executor also refuses after any transfer failure.

use mirror_config::DeleteLimit;
use mirror_remote::Entry;

use crate::decide::find;
use crate::events::Say;
use crate::plan::{Action, DeletionBlock, Draft};
use crate::rules::{Rules, hits, selects};

/// The entries the deletion pass would remove, children before parents, and the counts
/// the limits are checked against.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Candidates {
    /// Indices into the destination listing, in deletion order.
    pub order: Vec<usize>,
    /// Non-directory candidates.
    pub files: u64,
    /// Directory candidates.
    pub dirs: u64,
}

/// Finds the deletion candidates among the destination entries.
pub(crate) fn candidates(dst: &[Entry], kept: &[bool], rules: &Rules, say: &Say) -> Candidates {
    let mut out = Candidates::default();
    // `blocked[j]`: directory j holds something that stays, so it cannot be removed.
    let mut blocked = vec![false; dst.len()];
    let save = rules
        .pkg
        .save_deletes
        .then_some(rules.save_rel.as_ref())
        .flatten();
    for j in (0..dst.len()).rev() {
        if kept[j] {
            continue;
        }
        let e = &dst[j];
        let path = e.path.as_str();
        let protected = if blocked[j] {
            true
        } else if !selects(rules.del_patt(), path) {
            say.at(2, || format!("   not in del_patt: {path}"));
            true
        } else if hits(rules.pkg.delete_excl.as_ref(), path) {
            say.at(2, || format!("   do not delete: {path}"));
            true
        } else {
            save.is_some_and(|s| e.path.starts_with(s))
        };
        if protected {
            if let Some(parent) = e.path.parent()
                && let Some(pj) = find(dst, parent.as_str())
            {
                blocked[pj] = true;
            }
            continue;
        }
        out.order.push(j);
        if e.kind.is_dir() {
            out.dirs += 1;
        } else {
            out.files += 1;
        }
    }
    out
}

/// The largest number of deletions a limit allows out of `total` entries, or `None` for a
/// percentage outside 1..=100 (mirror.pl's "silly percentage").
pub(crate) fn allowed(limit: DeleteLimit, total: u64) -> Option<u64> {
    match limit {
        DeleteLimit::Count(n) => Some(n),
        DeleteLimit::Percent(p) if p == 0 || p > 100 => None,
        DeleteLimit::Percent(p) => Some((total * u64::from(p)).div_ceil(100)),
    }
}

/// Adds the deletion candidates to the plan and decides whether they may be deleted.
/// `listing_problem` says why a listing cannot be trusted, if it cannot.
pub(crate) fn apply(
    draft: &mut Draft,
    dst: &[Entry],
    rules: &Rules,
    listing_problem: Option<String>,
    say: &Say,
) {
    let pkg = rules.pkg;
    if !(pkg.do_deletes || pkg.save_deletes) {
        return;
    }
    let found = candidates(dst, &draft.kept, rules, say);
    let total_dirs = dst.iter().filter(|e| e.kind.is_dir()).count() as u64;
    let total_files = dst.len() as u64 - total_dirs;

    let block = if let Some(problem) = listing_problem {
        Some(DeletionBlock::Listing(problem))
    } else {
        threshold(pkg.max_delete_files, total_files, found.files, "files", say)
            .or_else(|| {
                threshold(
                    pkg.max_delete_dirs,
                    total_dirs,
                    found.dirs,
                    "directories",
                    say,
                )
            })
            .map(DeletionBlock::Threshold)
    };
    draft.plan.deletions_blocked = block;
    draft.plan.stats.deletes = found.order.len() as u64;
    let deletes = found.order.iter().map(|&j| Action::Delete {
        path: dst[j].path.clone(),
        dir: dst[j].kind.is_dir(),
    });
    draft
        .plan
        .actions
        .splice(draft.deletion_slot..draft.deletion_slot, deletes);
}

/// Checks one limit; returns the refusal message if it is exceeded (printed at once, as
/// mirror.pl does; it is not a report line).
fn threshold(limit: DeleteLimit, total: u64, to_go: u64, what: &str, say: &Say) -> Option<String> {
    let msg = match allowed(limit, total) {
        None => {
            let DeleteLimit::Percent(p) = limit else {
                unreachable!("counts are never silly")
            };
            format!("silly percentage {p}%, not deleting")
        }
        Some(max) if to_go > max => {
            format!("Too many {what} to delete, not actually deleting ({to_go} > {max})")
        }
        Some(_) => return None,
    };
    say.at(0, || msg.clone());
    Some(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::NoEvents;
    use mirror_config::Package;
    use mirror_remote::RelPath;

    fn p(s: &str) -> RelPath {
        RelPath::new(s).unwrap()
    }

    #[test]
    fn percent_rounds_up() {
        assert_eq!(allowed(DeleteLimit::Percent(10), 200), Some(20));
        assert_eq!(allowed(DeleteLimit::Percent(10), 9), Some(1));
        assert_eq!(allowed(DeleteLimit::Percent(10), 0), Some(0));
        assert_eq!(allowed(DeleteLimit::Percent(100), 7), Some(7));
        assert_eq!(allowed(DeleteLimit::Percent(0), 7), None);
        assert_eq!(allowed(DeleteLimit::Percent(101), 7), None);
        assert_eq!(allowed(DeleteLimit::Count(50), 7), Some(50));
    }

    #[test]
    fn protected_entries_block_their_directories() {
        let mut pkg = Package::builtin("p", "h", "pw");
        pkg.do_deletes = true;
        pkg.delete_excl = Some(mirror_config::Pattern {
            source: "keep$".into(),
            regex: fancy_regex::Regex::new("keep$").unwrap(),
        });
        let rules = Rules::new(&pkg, false, false, 0);
        let dst = vec![
            Entry::dir(p("a"), None),
            Entry::file(p("a/keep"), 1, 0),
            Entry::dir(p("b"), None),
            Entry::file(p("b/x"), 1, 0),
            Entry::file(p("c"), 1, 0),
        ];
        let kept = vec![false, false, false, false, true];
        let say = Say {
            events: &NoEvents,
            debug: 0,
        };
        let c = candidates(&dst, &kept, &rules, &say);
        // b/x then b (children first); a holds a protected file, c is kept.
        assert_eq!(c.order, vec![3, 2]);
        assert_eq!((c.files, c.dirs), (1, 1));
    }
}
