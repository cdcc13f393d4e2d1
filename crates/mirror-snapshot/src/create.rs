//! Stage 1, create: fill the build from the `[[copy]]` sources. Each source is mirrored by
//! the sync engine into its own staging folder in the build's state folder; the staging
//! folder is first seeded with hard links of the previous snapshot's staging copy, so the
//! sync run transfers only what changed at the source (deletions included). The staged
//! files are then hard-linked into the snapshot tree under the source's `to` folder (a
//! later `[[copy]]` wins where two place the same file).
//!
//! The staging copies stay pristine — the rewrite stage replaces files of the tree with new
//! ones and never writes into a linked file — so they are what the next build starts from.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use mirror_config::{DeleteLimit, Env, Package, Scheme, Site};
use mirror_sync::{Events, PackageStatus, Progress, RunOptions, run_package};
use serde::Serialize;

use crate::build::{Build, Entry, STATE_DIR, link_or_copy, same_file};
use crate::paths::is_temp_name;
use crate::recipe::{CopySource, Recipe, Source};

/// What one `[[copy]]` did.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// The source, as written.
    pub from: String,
    /// The folder in the snapshot.
    pub to: String,
    /// Files hard-linked from the previous snapshot's staging copy before the sync run.
    pub seeded: u64,
    /// Files the sync run transferred.
    pub copied: u64,
    /// Bytes it transferred.
    pub bytes: u64,
    /// Files it deleted from the staging copy (gone at the source).
    pub deleted: u64,
    /// Files placed in the snapshot tree.
    pub placed: u64,
    /// How the sync run ended (`ok`, `failed`...).
    pub status: String,
    /// Its failures, and why it stopped if it did.
    pub failures: Vec<String>,
}

/// Messages of inner sync runs, one debug level down: a snapshot run shows its own
/// summary, and the per-file lines of its sync runs with `-d`.
pub(crate) struct Nested<'a>(pub &'a dyn Events);

impl Events for Nested<'_> {
    fn message(&self, level: u8, text: &str) {
        self.0.message(level.saturating_add(1), text);
    }
    fn progress(&self, event: Progress) {
        self.0.progress(event);
    }
}

/// The package a `[[copy]]` (or publish) sync run uses: mirror.pl's defaults, with the
/// source site, the destination folder, and deletions on.
pub(crate) fn sync_package(name: &str, from: &Source, local_dir: &Path) -> Result<Package, String> {
    let env = Env::current();
    let mut p = Package::builtin(name, &env.hostname, &env.default_password());
    match from {
        Source::Folder(path) => {
            let text = path
                .to_str()
                .ok_or_else(|| format!("{}: the path is not UTF-8", path.display()))?;
            p.site = Some(Site {
                scheme: Scheme::File,
                host: String::new(),
                port: None,
                user: None,
                password: None,
                path: text.to_owned(),
            });
            p.site_text = format!("file://{text}");
        }
        Source::Url(u) => {
            let s = Site::parse(u)?;
            p.site_text = s.redacted();
            p.site = Some(s);
        }
    }
    p.local_dir = local_dir
        .to_str()
        .ok_or_else(|| format!("{}: the path is not UTF-8", local_dir.display()))?
        .to_owned();
    p.do_deletes = true;
    p.file_mode = 0o644;
    p.dir_mode = 0o755;
    Ok(p)
}

/// Hard-links every file of `src` into `dst` (folders created, symlinks copied as links),
/// skipping what `dst` already has. Returns the number of files linked.
fn seed(src: &Path, dst: &Path) -> io::Result<u64> {
    let mut n = 0;
    fs::create_dir_all(dst)?;
    for de in fs::read_dir(src)? {
        let de = de?;
        let name = de.file_name();
        if name.to_str().is_some_and(is_temp_name) {
            continue;
        }
        let (s, d) = (de.path(), dst.join(&name));
        let ft = de.file_type()?;
        if ft.is_dir() {
            n += seed(&s, &d)?;
        } else if fs::symlink_metadata(&d).is_ok() {
            continue;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&s)?, &d)?;
        } else if ft.is_file() {
            if fs::hard_link(&s, &d).is_err() {
                link_or_copy(&s, &d)?;
            }
            n += 1;
        }
    }
    Ok(n)
}

/// Places every file of the staging folder `src` into the tree at `dst`. Returns the
/// number of files placed.
fn place(src: &Path, dst: &Path, top: bool) -> io::Result<u64> {
    let mut n = 0;
    fs::create_dir_all(dst)?;
    for de in fs::read_dir(src)? {
        let de = de?;
        let name = de.file_name();
        if name.to_str().is_some_and(is_temp_name) || (top && name == STATE_DIR) {
            continue;
        }
        let (s, d) = (de.path(), dst.join(&name));
        let ft = de.file_type()?;
        if ft.is_dir() {
            if fs::symlink_metadata(&d).is_ok_and(|m| !m.is_dir()) {
                fs::remove_file(&d)?;
            }
            n += place(&s, &d, false)?;
        } else if ft.is_symlink() {
            if fs::symlink_metadata(&d).is_ok() {
                remove_any(&d)?;
            }
            std::os::unix::fs::symlink(fs::read_link(&s)?, &d)?;
            n += 1;
        } else if ft.is_file() {
            match fs::symlink_metadata(&d) {
                Ok(m) if m.is_file() && same_file(&m, &de.metadata()?) => {}
                Ok(m) if m.is_dir() => {
                    fs::remove_dir_all(&d)?;
                    link_or_copy(&s, &d)?;
                }
                _ => link_or_copy(&s, &d)?,
            }
            n += 1;
        }
    }
    Ok(n)
}

fn remove_any(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(_) => Ok(()),
    }
}

fn staging(build: &Build, i: usize) -> PathBuf {
    build.state().join("copy").join(i.to_string())
}

fn source_text(c: &CopySource) -> String {
    match &c.from {
        Source::Folder(p) => p.display().to_string(),
        Source::Url(u) => u.clone(),
    }
}

/// Runs create on `build`. Returns one report per `[[copy]]`; the stage failed when one of
/// them did not end `ok`.
pub async fn create(
    recipe: &Recipe,
    build: &Build,
    previous: Option<&Build>,
    events: &dyn Events,
    opts: &RunOptions,
) -> Result<Vec<CopyReport>, String> {
    let mut reports = Vec::new();
    let mut failed = false;
    for (i, c) in recipe.copy.iter().enumerate() {
        let from = source_text(c);
        let dir = staging(build, i);
        let marker = build.state().join("copy").join(format!("{i}.source"));
        let mut report = CopyReport {
            from: from.clone(),
            to: c.to.clone(),
            seeded: 0,
            copied: 0,
            bytes: 0,
            deleted: 0,
            placed: 0,
            status: "ok".into(),
            failures: Vec::new(),
        };
        let io = |e: io::Error, p: &Path| format!("{}: {e}", p.display());
        fs::create_dir_all(&dir).map_err(|e| io(e, &dir))?;
        // The previous staging copy is reused only when it mirrored the same source.
        if let Some(prev) = previous {
            let pm = prev.state().join("copy").join(format!("{i}.source"));
            let pd = staging(prev, i);
            if fs::read_to_string(&pm).is_ok_and(|s| s == from) && pd.is_dir() {
                report.seeded = seed(&pd, &dir).map_err(|e| io(e, &pd))?;
            }
        }
        fs::write(&marker, &from).map_err(|e| io(e, &marker))?;
        events.message(
            1,
            &format!(
                "Copying {from} -> /{} ({} files from the previous snapshot)",
                c.to, report.seeded
            ),
        );
        let mut pkg = sync_package(&format!("snapshot-copy-{i}"), &c.from, &dir)?;
        if let Some(p) = &c.get_patt {
            pkg.get_patt = Some(p.clone());
        }
        pkg.exclude_patt = c.exclude_patt.clone();
        // The staging copy is this build's own: removing what vanished at the source cannot
        // hurt a published snapshot, so no percentage limit applies (publish has its own).
        pkg.max_delete_files = DeleteLimit::Percent(100);
        pkg.max_delete_dirs = DeleteLimit::Percent(100);
        pkg.parallel = recipe.fetch.parallel;
        let r = run_package(&pkg, opts, &Nested(events)).await;
        report.copied = r.counts.files_fetched;
        report.bytes = r.counts.bytes_fetched;
        report.deleted = r.counts.files_deleted;
        report.failures = r
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
            report.failures.push(why.clone());
        }
        if r.status != PackageStatus::Ok {
            report.status = format!("{:?}", r.status).to_lowercase();
            failed = true;
            events.message(
                0,
                &format!("Copy from {from} failed: {}", report.failures.join("; ")),
            );
        } else {
            let dst = build.dir.join(c.to.trim_end_matches('/'));
            report.placed = place(&dir, &dst, c.to.is_empty()).map_err(|e| io(e, &dst))?;
        }
        reports.push(report);
    }
    if failed {
        return Ok(reports);
    }
    let mut j = build.journal().map_err(|e| e.to_string())?;
    j.append(&Entry::Stage {
        stage: "create".into(),
    })
    .and_then(|()| j.sync())
    .map_err(|e| e.to_string())?;
    Ok(reports)
}
