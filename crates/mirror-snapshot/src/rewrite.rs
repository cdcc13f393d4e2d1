//! Stage 3, rewrite: every page and stylesheet of the build goes through the text rules and
//! the [`Rewriter`], in parallel. A document that comes out different is written as a new
//! file (temporary name, then rename), never into the file it was read from: that file may
//! be a hard link shared with the staging copy and the previous snapshot. When the result is
//! byte for byte the previous snapshot's file, that file is hard-linked instead, so
//! unchanged pages keep their inode and time from build to build.
//!
//! A document the HTML rewriter cannot read is left as it is and reported. Rewriting is
//! idempotent: a second pass finds nothing to change.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use crate::build::link_or_copy;
use crate::docs::{EmbedKept, Rewriter, TextRules, prepare, visit};
use crate::paths::{TreeIndex, temp_name};
use crate::recipe::Recipe;
use crate::scan::par_map;
use crate::urlmap::UrlMap;

/// What rewrite did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RewriteReport {
    /// Pages and stylesheets looked at.
    pub documents: usize,
    /// Documents changed.
    pub rewritten: usize,
    /// Of those, identical to the previous snapshot's file and linked to it.
    pub linked_from_previous: usize,
    /// References given a new value.
    pub references: usize,
    /// Players replaced by a local `<video>`.
    pub embeds_replaced: usize,
    /// Players left in place, with the local file that was missing.
    pub embeds_kept: Vec<EmbedKept>,
    /// References to localized URLs left pointing at the URL (the file is missing).
    pub not_localized: usize,
    /// Documents copied unchanged because they could not be read, and why.
    pub unparsed: Vec<(String, String)>,
}

enum Outcome {
    Unchanged,
    Written { linked: bool },
    Unparsed(String),
}

/// Writes `bytes` as the file at `dst` (a new inode), with `mtime`.
fn write_new(dst: &Path, bytes: &[u8], mtime: SystemTime) -> std::io::Result<()> {
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dst.with_file_name(temp_name(&name));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.set_modified(mtime)?;
    drop(f);
    fs::rename(&tmp, dst)
}

/// Runs rewrite over the documents of the tree at `root`. `previous` is the previous
/// snapshot's root; `now` the time given to documents whose content is new.
pub fn rewrite(
    recipe: &Recipe,
    root: &Path,
    previous: Option<&Path>,
    map: &UrlMap,
    tree: &TreeIndex,
    now: SystemTime,
) -> RewriteReport {
    let rules = TextRules::of(recipe);
    let docs = tree.documents();
    let results = par_map(&docs, |page| {
        let path = root.join(page);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) => return (Outcome::Unparsed(e.to_string()), Default::default()),
        };
        let doc = prepare(page, &bytes, &rules);
        let mut v = Rewriter::new(map, tree, page, recipe.links.relative, &recipe.embed);
        let out = match visit(&doc, &mut v) {
            Ok(Some(out)) => out,
            Ok(None) if doc.bytes.as_ref() != bytes.as_slice() => doc.bytes.to_vec(),
            Ok(None) => return (Outcome::Unchanged, v.stats),
            Err(e) => return (Outcome::Unparsed(e.to_string()), v.stats),
        };
        if out == bytes {
            return (Outcome::Unchanged, v.stats);
        }
        if let Some(prev) = previous {
            let p = prev.join(page);
            if fs::read(&p).is_ok_and(|b| b == out) && link_or_copy(&p, &path).is_ok() {
                return (Outcome::Written { linked: true }, v.stats);
            }
        }
        match write_new(&path, &out, now) {
            Ok(()) => (Outcome::Written { linked: false }, v.stats),
            Err(e) => (Outcome::Unparsed(format!("cannot write: {e}")), v.stats),
        }
    });
    let mut report = RewriteReport {
        documents: docs.len(),
        ..RewriteReport::default()
    };
    for (page, (outcome, stats)) in docs.iter().zip(results) {
        match outcome {
            Outcome::Unchanged => {}
            Outcome::Written { linked } => {
                report.rewritten += 1;
                report.linked_from_previous += usize::from(linked);
            }
            Outcome::Unparsed(why) => report.unparsed.push((page.clone(), why)),
        }
        report.references += stats.rewritten;
        report.embeds_replaced += stats.embeds_replaced;
        report.embeds_kept.extend(stats.embeds_kept);
        report.not_localized += stats.not_localized.len();
    }
    report
}
