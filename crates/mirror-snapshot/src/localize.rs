//! Stage 2, localize: every absolute reference under a `[[localize]] prefix`, and every file
//! of the `[[media]]` lists, is brought into the build. A file the build already has is left
//! alone (so an interrupted run continues without fetching again); a file the previous
//! snapshot fetched from the same URL is hard-linked from it; the rest is fetched with
//! bounded concurrency, and each success is written to the journal. Fetched stylesheets and
//! pages are read in turn, so their own references (fonts, background images) come too.
//! Failures are retried by the fetcher, then reported with the pages that reference them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use mirror_sync::Events;
use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::build::{Build, Entry, Journal, link_or_copy};
use crate::docs::TextRules;
use crate::fetch::Fetcher;
use crate::paths::{FileKind, TreeIndex, bad_segment, file_kind};
use crate::recipe::{MediaList, Recipe};
use crate::scan::{par_map, scan_document};
use crate::urlmap::{Origin, Target, UrlMap};

/// A file that could not be brought in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchFailure {
    /// The URL.
    pub url: String,
    /// Where it was to go.
    pub path: String,
    /// Why it failed.
    pub error: String,
    /// Pages referencing it (empty for `[[media]]` entries no page references).
    pub pages: Vec<String>,
}

/// What localize did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LocalizeReport {
    /// Files wanted (referenced under a prefix, or listed).
    pub wanted: usize,
    /// Already in the build.
    pub present: usize,
    /// Hard-linked from the previous snapshot.
    pub linked: usize,
    /// Fetched now.
    pub fetched: usize,
    /// Bytes fetched now.
    pub bytes: u64,
    /// Fetch attempts beyond the first (retries that were needed).
    pub retries: u64,
    /// `[[media]]` files not fetched because no page uses them and prune would remove
    /// them.
    pub unused_media: usize,
    /// What could not be fetched.
    pub failed: Vec<FetchFailure>,
    /// Documents that could not be read while looking for references.
    pub unreadable: Vec<(String, String)>,
}

/// Reads the `[[media]]` lists: `(url, tree path)` pairs, or a message naming the list and
/// line of the first problem.
pub fn load_media(lists: &[MediaList]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for m in lists {
        let name = m.csv.display();
        let mut rd = csv::ReaderBuilder::new()
            .delimiter(m.delimiter)
            .flexible(true)
            .from_path(&m.csv)
            .map_err(|e| format!("{name}: {e}"))?;
        let headers = rd.headers().map_err(|e| format!("{name}: {e}"))?.clone();
        let col = |want: &str| {
            headers
                .iter()
                .position(|h| h.trim() == want)
                .ok_or_else(|| format!("{name}: no column named `{want}`"))
        };
        let (uc, pc) = (col(&m.url_column)?, col(&m.path_column)?);
        for (i, rec) in rd.records().enumerate() {
            let rec = rec.map_err(|e| format!("{name}: {e}"))?;
            let line = i + 2;
            let url = rec.get(uc).unwrap_or("").trim();
            let path = rec.get(pc).unwrap_or("").trim().trim_start_matches('/');
            if url.is_empty() && path.is_empty() {
                continue;
            }
            if url::Url::parse(url).is_err() {
                return Err(format!("{name}:{line}: `{url}` is not an absolute URL"));
            }
            if path.is_empty() || path.split('/').any(bad_segment) {
                return Err(format!(
                    "{name}:{line}: `{path}` is not a file path inside the snapshot"
                ));
            }
            out.push((url.to_owned(), format!("{}{path}", m.to)));
        }
    }
    Ok(out)
}

/// One file to bring in.
struct Want {
    path: String,
    pages: Vec<String>,
}

/// Runs localize on `build`.
#[allow(clippy::too_many_arguments)]
pub async fn localize(
    recipe: &Recipe,
    build: &Build,
    previous: Option<&Build>,
    map: &UrlMap,
    media: &[(String, String)],
    tree: &mut TreeIndex,
    events: &dyn Events,
    cancel: &CancellationToken,
) -> Result<LocalizeReport, String> {
    let mut report = LocalizeReport::default();
    let mut journal = build
        .journal()
        .map_err(|e| format!("{}: {e}", build.journal_path().display()))?;
    let rules = TextRules::of(recipe);

    // Every URL wanted, with the pages wanting it, in a stable order.
    let mut wanted: BTreeMap<String, Want> = BTreeMap::new();
    let docs = tree.documents();
    let root = build.dir.clone();
    let scanned = {
        let t: &TreeIndex = tree;
        par_map(&docs, |d| {
            scan_document(&root, d, map, t, &rules, &recipe.embed)
        })
    };
    // Files of the tree some page uses (directly, or in place of a player).
    let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
    for s in scanned {
        if let Some(e) = s.error {
            report.unreadable.push((s.page.clone(), e));
        }
        add_wanted(&mut wanted, &s.page, &s.found);
        for f in &s.found {
            if let Target::Local { path, .. } = &f.resolved.target {
                used.insert(path.clone());
            }
        }
        used.extend(s.embed_files);
    }
    // Listed files prune would remove at once are not fetched: a list of every video
    // ever made should not cost a download of each on every run.
    let prunable = crate::prune::globset(&recipe.prune)?;
    for (url, path) in media {
        if prunable.is_match(path) && !used.contains(path) && !wanted.contains_key(url) {
            report.unused_media += 1;
            continue;
        }
        wanted.entry(url.clone()).or_insert_with(|| Want {
            path: path.clone(),
            pages: Vec::new(),
        });
    }

    // What the previous snapshot fetched, by path: a file there is reused only when it came
    // from the same URL.
    let prev_urls: HashMap<String, String> = previous
        .map(|p| {
            p.entries()
                .into_iter()
                .filter_map(|e| match e {
                    Entry::Fetched { url, path, .. } | Entry::Linked { url, path } => {
                        Some((path, url))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();

    let fetcher = Arc::new(Fetcher::new(&recipe.fetch)?);
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    // Decides what to do about one wanted URL; true when its file arrived by a hard link
    // (the caller then reads it if it is a document).
    let mut consider = |url: &str,
                        want: &Want,
                        tree: &mut TreeIndex,
                        report: &mut LocalizeReport,
                        journal: &mut Journal,
                        queue: &mut VecDeque<String>|
     -> bool {
        if !seen.insert(url.to_owned()) {
            return false;
        }
        report.wanted += 1;
        if tree.is_file(&want.path) {
            report.present += 1;
            return false;
        }
        if let Some(prev) = previous
            && prev_urls.get(&want.path).is_some_and(|u| u == url)
        {
            let src = prev.dir.join(&want.path);
            let dst = build.dir.join(&want.path);
            if src.is_file()
                && dst
                    .parent()
                    .is_some_and(|d| std::fs::create_dir_all(d).is_ok())
                && link_or_copy(&src, &dst).is_ok()
            {
                let _ = journal.append(&Entry::Linked {
                    url: url.to_owned(),
                    path: want.path.clone(),
                });
                tree.add_file(&want.path);
                report.linked += 1;
                return true;
            }
        }
        queue.push_back(url.to_owned());
        false
    };
    // Documents that arrived (linked or fetched): a stylesheet or page from elsewhere
    // brings in what it needs too.
    let mut arrived: VecDeque<String> = VecDeque::new();
    for (url, want) in &wanted {
        if consider(url, want, tree, &mut report, &mut journal, &mut queue)
            && file_kind(&want.path) != FileKind::Other
        {
            arrived.push_back(want.path.clone());
        }
    }

    let parallel = recipe.fetch.parallel.max(1);
    let mut running: JoinSet<(String, PathBuf, Result<crate::fetch::Fetched, String>)> =
        JoinSet::new();
    loop {
        while let Some(doc) = arrived.pop_front() {
            let s = scan_document(&build.dir, &doc, map, tree, &TextRules::default(), &[]);
            for u in add_wanted(&mut wanted, &doc, &s.found) {
                let w = &wanted[&u];
                if consider(&u, w, tree, &mut report, &mut journal, &mut queue)
                    && file_kind(&w.path) != FileKind::Other
                {
                    arrived.push_back(w.path.clone());
                }
            }
        }
        while running.len() < parallel && !cancel.is_cancelled() {
            let Some(url) = queue.pop_front() else { break };
            let path = wanted[&url].path.clone();
            let dest = build.dir.join(&path);
            let f = fetcher.clone();
            events.message(2, &format!("Fetching {url}"));
            running.spawn(async move {
                let r = f.fetch(&url, &dest).await;
                (url, dest, r)
            });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (url, _dest, result) = done.map_err(|e| format!("fetch task failed: {e}"))?;
        let path = wanted[&url].path.clone();
        match result {
            Ok(f) => {
                report.fetched += 1;
                report.bytes += f.size;
                report.retries += u64::from(f.attempts - 1);
                journal
                    .append(&Entry::Fetched {
                        url: url.clone(),
                        path: path.clone(),
                        size: f.size,
                    })
                    .map_err(|e| format!("{}: {e}", build.journal_path().display()))?;
                tree.add_file(&path);
                events.message(1, &format!("Fetched {url} -> {path} ({} bytes)", f.size));
                if file_kind(&path) != FileKind::Other {
                    arrived.push_back(path);
                }
            }
            Err(error) => {
                events.message(0, &format!("Failed to fetch {url}: {error}"));
                report.failed.push(FetchFailure {
                    url: url.clone(),
                    path,
                    error,
                    pages: wanted[&url].pages.clone(),
                });
            }
        }
    }
    if cancel.is_cancelled() {
        return Err("cancelled".into());
    }
    report.failed.sort_by(|a, b| a.url.cmp(&b.url));
    journal
        .append(&Entry::Stage {
            stage: "localize".into(),
        })
        .and_then(|()| journal.sync())
        .map_err(|e| format!("{}: {e}", build.journal_path().display()))?;
    Ok(report)
}

/// Pages kept per wanted file for the report (a logo may be on every page).
const PAGES_SHOWN: usize = 100;

/// Adds the localizable references of `page` to `wanted`; returns the URLs new to it.
fn add_wanted(
    wanted: &mut BTreeMap<String, Want>,
    page: &str,
    found: &[crate::docs::Found],
) -> Vec<String> {
    let mut new = Vec::new();
    for f in found {
        if let Target::Local {
            path,
            origin: Origin::Localize | Origin::Media,
            url,
            ..
        } = &f.resolved.target
        {
            let w = wanted.entry(url.clone()).or_insert_with(|| {
                new.push(url.clone());
                Want {
                    path: path.clone(),
                    pages: Vec::new(),
                }
            });
            // A page's references are added together, so a repeat is the last one.
            if w.pages.len() < PAGES_SHOWN && w.pages.last().is_none_or(|p| p != page) {
                w.pages.push(page.to_owned());
            }
        }
    }
    new
}
