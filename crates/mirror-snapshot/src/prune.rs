//! Stage 4, prune: temporary files left by interrupted transfers are removed everywhere,
//! and files under the `[prune] unreferenced` globs that no page references are removed.
//! "Referenced" is reachability: the documents outside the globs are the roots, and a page
//! or stylesheet inside them counts only once something reachable references it, so a
//! stylesheet nobody uses does not keep its images alive.

use std::collections::{HashSet, VecDeque};
use std::fs;
use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::docs::TextRules;
use crate::paths::{FileKind, TreeIndex, file_kind};
use crate::scan::{par_map, scan_document};
use crate::urlmap::{Target, UrlMap};

/// What prune removed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PruneReport {
    /// Unreferenced files removed.
    pub removed: Vec<String>,
    /// Temporary files removed.
    pub temporary: usize,
}

/// The `[prune] unreferenced` globs as one matcher (`*` stays within a folder, `**`
/// crosses folders).
pub fn globset(globs: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(
            GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    b.build().map_err(|e| e.to_string())
}

/// Runs prune on the tree at `root`, updating `tree`.
pub fn prune(
    root: &Path,
    globs: &[String],
    map: &UrlMap,
    tree: &mut TreeIndex,
) -> Result<PruneReport, String> {
    let mut report = PruneReport::default();
    for t in std::mem::take(&mut tree.temps) {
        if fs::remove_file(root.join(&t)).is_ok() {
            report.temporary += 1;
        }
    }
    if globs.is_empty() {
        return Ok(report);
    }
    let set = globset(globs)?;
    let candidates: HashSet<&String> = tree.files.iter().filter(|p| set.is_match(p)).collect();
    if candidates.is_empty() {
        return Ok(report);
    }

    let rules = TextRules::default();
    let mut reached: HashSet<String> = HashSet::new();
    let mut scanned: HashSet<String> = HashSet::new();
    let mut queue: VecDeque<String> = tree
        .documents()
        .into_iter()
        .filter(|d| !candidates.contains(d))
        .collect();
    while !queue.is_empty() {
        let batch: Vec<String> = queue
            .drain(..)
            .filter(|d| scanned.insert(d.clone()))
            .collect();
        let t: &TreeIndex = tree;
        let results = par_map(&batch, |d| scan_document(root, d, map, t, &rules, &[]));
        for s in results {
            for f in s.found {
                if let Target::Local { path, .. } = f.resolved.target
                    && candidates.contains(&path)
                    && reached.insert(path.clone())
                    && file_kind(&path) != FileKind::Other
                {
                    queue.push_back(path);
                }
            }
        }
    }
    let mut removed: Vec<String> = candidates
        .into_iter()
        .filter(|p| !reached.contains(*p))
        .cloned()
        .collect();
    removed.sort();
    for p in &removed {
        let full = root.join(p);
        fs::remove_file(&full).map_err(|e| format!("{}: {e}", full.display()))?;
        tree.files.remove(p);
        // Folders emptied by the removal go too.
        let mut dir = p.as_str();
        while let Some((d, _)) = dir.rsplit_once('/') {
            if fs::remove_dir(root.join(d)).is_err() {
                break;
            }
            tree.dirs.remove(d);
            dir = d;
        }
    }
    report.removed = removed;
    Ok(report)
}
