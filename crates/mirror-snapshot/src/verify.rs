//! Stage 5, verify: every reference in every page and stylesheet either resolves to a file
//! inside the snapshot or is listed, with its page, as leaving it. Works on a build (with the
//! recipe's URL rules, so leftover absolute links to the site are caught) and on any tree
//! (`mirror snapshot verify DIR`, where relative and root-relative links are checked
//! against the tree and absolute ones are external).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::docs::TextRules;
use crate::paths::{FileKind, TreeIndex, file_kind};
use crate::scan::{par_map, scan_document};
use crate::urlmap::{Form, Origin, Target, UrlMap};

/// A reference with its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The page (tree path).
    pub page: String,
    /// The reference as written.
    pub reference: String,
    /// The tree path it leads to, when it leads into the tree.
    pub target: Option<String>,
}

/// An external URL and the pages referencing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct External {
    /// The URL.
    pub url: String,
    /// The pages.
    pub pages: Vec<String>,
}

/// What verify found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Pages (HTML).
    pub pages: usize,
    /// Stylesheets.
    pub stylesheets: usize,
    /// All files.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// References checked (fragments, `mailto:` and the like are not counted).
    pub references: u64,
    /// References to files missing from the snapshot (dangling).
    pub missing: Vec<Problem>,
    /// Relative references climbing above the snapshot's root.
    pub escaping: Vec<Problem>,
    /// Root-relative references (`/a/b.html`): they only work when the copy is served at
    /// the root of a host.
    pub root_relative: Vec<Problem>,
    /// Absolute references to the site or to localized files that rewrite left (only in
    /// documents it could not read).
    pub not_rewritten: Vec<Problem>,
    /// References leaving the snapshot, by URL.
    pub external: Vec<External>,
    /// References to localized URLs whose file could not be fetched (also in `external`).
    pub not_localized: Vec<Problem>,
    /// Documents that could not be read, and why.
    pub unreadable: Vec<(String, String)>,
    /// Verify passed.
    pub ok: bool,
}

/// How strict verify is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Strictness {
    /// Dangling references tolerated.
    pub max_missing: usize,
    /// Root-relative references fail verify (the recipe asked for relative links).
    pub relative: bool,
    /// Absolute references to the site's origins or to localized files fail verify.
    pub rewritten: bool,
}

impl VerifyReport {
    /// Dangling references: missing files and links leaving the root.
    pub fn dangling(&self) -> usize {
        self.missing.len() + self.escaping.len()
    }

    /// The report as text: counts, then each problem with its page.
    pub fn to_text(&self, limit: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "verify: {} pages, {} stylesheets, {} files, {} bytes, {} references: {} missing, \
             {} leaving the root, {} root-relative, {} not rewritten, {} external URLs{}",
            self.pages,
            self.stylesheets,
            self.files,
            self.bytes,
            self.references,
            self.missing.len(),
            self.escaping.len(),
            self.root_relative.len(),
            self.not_rewritten.len(),
            self.external.len(),
            if self.ok { "" } else { " -- FAILED" },
        );
        let mut list = |title: &str, items: &[Problem]| {
            if items.is_empty() {
                return;
            }
            let _ = writeln!(s, "{title}:");
            for p in items.iter().take(limit) {
                match &p.target {
                    Some(t) if t != &p.reference => {
                        let _ = writeln!(s, "  {}: {} ({t})", p.page, p.reference);
                    }
                    _ => {
                        let _ = writeln!(s, "  {}: {}", p.page, p.reference);
                    }
                }
            }
            if items.len() > limit {
                let _ = writeln!(s, "  ... and {} more", items.len() - limit);
            }
        };
        list("missing files", &self.missing);
        list("leaving the root", &self.escaping);
        list("root-relative", &self.root_relative);
        list("not rewritten", &self.not_rewritten);
        list(
            "not localized (left pointing at the URL)",
            &self.not_localized,
        );
        if !self.external.is_empty() {
            let _ = writeln!(s, "external:");
            for e in self.external.iter().take(limit) {
                let more = if e.pages.len() > 1 {
                    format!(" and {} more", e.pages.len() - 1)
                } else {
                    String::new()
                };
                let _ = writeln!(s, "  {} (from {}{more})", e.url, e.pages[0]);
            }
            if self.external.len() > limit {
                let _ = writeln!(s, "  ... and {} more", self.external.len() - limit);
            }
        }
        for (p, why) in self.unreadable.iter().take(limit) {
            let _ = writeln!(s, "unreadable: {p}: {why}");
        }
        s
    }
}

/// Verifies the tree at `root` (already indexed as `tree`).
pub fn verify(root: &Path, map: &UrlMap, tree: &TreeIndex, strict: Strictness) -> VerifyReport {
    let docs = tree.documents();
    let scanned = par_map(&docs, |d| {
        scan_document(root, d, map, tree, &TextRules::default(), &[])
    });
    let mut r = VerifyReport {
        pages: tree.pages(),
        stylesheets: docs
            .iter()
            .filter(|d| file_kind(d) == FileKind::Css)
            .count(),
        files: tree.files.len(),
        bytes: tree.bytes,
        ..VerifyReport::default()
    };
    let mut external: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in scanned {
        if let Some(e) = s.error {
            r.unreadable.push((s.page.clone(), e));
        }
        for f in s.found {
            let problem = |target: Option<String>| Problem {
                page: s.page.clone(),
                reference: f.value.trim().to_owned(),
                target,
            };
            match f.resolved.target {
                Target::Ignore => continue,
                Target::Invalid => {
                    external
                        .entry(f.value.trim().to_owned())
                        .or_default()
                        .push(s.page.clone());
                }
                Target::Escapes => r.escaping.push(problem(None)),
                Target::External { url } => external.entry(url).or_default().push(s.page.clone()),
                Target::Local {
                    path, origin, url, ..
                } => {
                    let exists = tree.is_file(&path);
                    let absolute = f.resolved.form == Form::Absolute;
                    if !exists && absolute && matches!(origin, Origin::Localize | Origin::Media) {
                        // Not fetched: the page still points at the live URL.
                        r.not_localized.push(problem(Some(path)));
                        external.entry(url).or_default().push(s.page.clone());
                    } else if !exists {
                        r.missing.push(problem(Some(path)));
                    } else if absolute && strict.rewritten {
                        r.not_rewritten.push(problem(Some(path)));
                    } else if f.resolved.form == Form::RootRelative {
                        r.root_relative.push(problem(Some(path)));
                    }
                }
            }
            r.references += 1;
        }
    }
    r.external = external
        .into_iter()
        .map(|(url, mut pages)| {
            pages.dedup();
            External { url, pages }
        })
        .collect();
    r.ok = r.dangling() <= strict.max_missing
        && (!strict.relative || r.root_relative.is_empty())
        && (!strict.rewritten || r.not_rewritten.is_empty());
    r
}

/// Verifies any folder: relative and root-relative links must lead to files of the tree.
pub fn verify_dir(root: &Path) -> std::io::Result<VerifyReport> {
    let tree = TreeIndex::scan(root)?;
    Ok(verify(
        root,
        &UrlMap::standalone(),
        &tree,
        Strictness::default(),
    ))
}
