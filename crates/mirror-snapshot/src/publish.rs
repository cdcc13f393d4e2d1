//! Stage 6, publish: the verified build becomes `work_dir/current` (an atomic symlink
//! switch), builds beyond `keep` are removed, and the snapshot is synced to the `publish`
//! folder by the sync engine, deletions included and within its safety limits.
//!
//! The sync runs twice so the destination is never half-updated in a way a reader could
//! follow: first every new or changed file except the entry pages (`[publish_options]
//! last`, by default the top-level `index.html`/`index.htm`) with no deletions, then a full
//! run that transfers the entry pages and only then deletes what is gone (the executor
//! always transfers before it deletes). At every moment each page a reader can reach links
//! to files that are there: new pages arrive before the entry pages that lead to them, and
//! old files go only after the pages that linked to them were replaced.

use std::path::Path;

use mirror_sync::{Events, PackageReport, PackageStatus, RunOptions, run_package};
use serde::Serialize;

use crate::build::STATE_DIR;
use crate::create::{Nested, sync_package};
use crate::recipe::{Recipe, Source, compile_perl};

/// One sync run of publish.
#[derive(Debug, Clone, Serialize)]
pub struct SyncPass {
    /// `files` (everything but the entry pages) or `final` (entry pages, then deletions).
    pub pass: String,
    /// How it ended.
    pub status: String,
    /// Files transferred.
    pub copied: u64,
    /// Bytes transferred.
    pub bytes: u64,
    /// Files deleted.
    pub deleted: u64,
    /// Failures, and why deletions were refused if they were.
    pub failures: Vec<String>,
}

/// What publish did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PublishReport {
    /// The build now `current`.
    pub current: String,
    /// Builds removed (beyond `keep`, or abandoned).
    pub removed_builds: Vec<String>,
    /// The destination folder, when the recipe has one.
    pub destination: Option<String>,
    /// The sync runs.
    pub passes: Vec<SyncPass>,
    /// Everything succeeded.
    pub ok: bool,
}

fn pass_report(name: &str, r: &PackageReport, deletions_matter: bool) -> (SyncPass, bool) {
    let mut failures: Vec<String> = r
        .failures
        .iter()
        .map(|f| {
            if f.path.is_empty() {
                f.cause.clone()
            } else {
                format!("{}: {}", f.path, f.cause)
            }
        })
        .collect();
    if let Some(why) = &r.reason {
        failures.push(why.clone());
    }
    let mut ok = r.status == PackageStatus::Ok;
    if deletions_matter && let Some(why) = &r.deletions_skipped {
        failures.push(format!("deletions refused: {why}"));
        ok = false;
    }
    (
        SyncPass {
            pass: name.into(),
            status: format!("{:?}", r.status).to_lowercase(),
            copied: r.counts.files_fetched,
            bytes: r.counts.bytes_fetched,
            deleted: r.counts.files_deleted + r.counts.dirs_deleted,
            failures,
        },
        ok,
    )
}

/// Syncs the snapshot at `root` to the recipe's `publish` folder.
pub async fn sync_out(
    recipe: &Recipe,
    root: &Path,
    events: &dyn Events,
    opts: &RunOptions,
) -> Result<(Vec<SyncPass>, bool), String> {
    let Some(dest) = &recipe.publish else {
        return Ok((Vec::new(), true));
    };
    let state = format!(r"^{}(/|$)", regex::escape(STATE_DIR));
    let mut last = vec![state.clone()];
    last.extend(
        recipe
            .publish_options
            .last
            .iter()
            .map(|l| format!("(?:{l})")),
    );
    let first_excl = compile_perl("exclude_patt", &last.join("|"))?;
    let state_excl = compile_perl("exclude_patt", &state)?;

    let mut passes = Vec::new();
    let mut ok = true;
    let source = Source::Folder(root.to_path_buf());
    for (name, exclude, deletes) in [("files", first_excl, false), ("final", state_excl, true)] {
        let mut pkg = sync_package("snapshot-publish", &source, dest)?;
        pkg.exclude_patt = Some(exclude);
        pkg.do_deletes = deletes;
        pkg.max_delete_files = recipe.publish_options.max_delete_files;
        pkg.max_delete_dirs = recipe.publish_options.max_delete_dirs;
        pkg.parallel = recipe.fetch.parallel;
        let r = run_package(&pkg, opts, &Nested(events)).await;
        let (p, good) = pass_report(name, &r, deletes);
        if !good {
            events.message(
                0,
                &format!(
                    "Publishing to {} failed: {}",
                    dest.display(),
                    p.failures.join("; ")
                ),
            );
        }
        passes.push(p);
        if !good {
            ok = false;
            break;
        }
    }
    Ok((passes, ok))
}
