//! The stages in order, for each subcommand: which build a command works on, what it runs,
//! what stops it, and the [`RunReport`] it hands back (the binary prints it).
//!
//! - `run`: continues the build an interrupted run left (one that never reached verify),
//!   or starts one; then create (unless the journal says it finished), localize, rewrite,
//!   prune, the change report, verify, and publish when verify passed (or `force`).
//! - `create`: starts a new build from the `[[copy]]` sources.
//! - `update`: localize, rewrite, prune and the change report on the build in progress.
//! - `verify`: verify on the build in progress, else on `current`.
//! - `publish`: verify, then publish the build in progress; with none, syncs `current` to
//!   the destination again.
//!
//! Every stage is safe to run again: create's sync run and localize skip what the build
//! has, rewrite is idempotent, prune and verify only look.

use std::path::PathBuf;
use std::time::SystemTime;

use mirror_sync::{Events, RunOptions};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::build::{Build, Entry, WorkDir, WorkDirError};
use crate::changes::{ChangeReport, compare};
use crate::create::{CopyReport, create};
use crate::localize::{LocalizeReport, load_media, localize};
use crate::paths::TreeIndex;
use crate::prune::{PruneReport, prune};
use crate::publish::{PublishReport, sync_out};
use crate::recipe::Recipe;
use crate::rewrite::{RewriteReport, rewrite};
use crate::urlmap::UrlMap;
use crate::verify::{Strictness, VerifyReport, verify};

/// A subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// All stages.
    Run,
    /// Stage 1.
    Create,
    /// Stages 2-4 and the change report.
    Update,
    /// Stage 5.
    Verify,
    /// Stages 5 and 6.
    Publish,
}

/// Per-invocation options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Publish even when verify fails.
    pub force: bool,
    /// Debug level for messages (sync runs' per-file lines appear from 1).
    pub debug: u8,
    /// Stop starting new work when cancelled.
    pub cancel: CancellationToken,
}

/// Why a command could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The work folder is locked or unusable.
    #[error(transparent)]
    WorkDir(#[from] WorkDirError),
    /// There is no build to work on.
    #[error("{0}")]
    NoBuild(String),
    /// An input the recipe names is bad (a `[[media]]` list).
    #[error("{0}")]
    Input(String),
}

/// The end-of-run summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// HTML pages in the snapshot.
    pub pages: usize,
    /// Files in the snapshot.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Files the `[[copy]]` sync runs transferred.
    pub copied: u64,
    /// Localized files hard-linked from the previous snapshot.
    pub linked: usize,
    /// Files fetched by localize.
    pub fetched: usize,
    /// Files that could not be copied or fetched.
    pub failed: usize,
    /// References to files missing from the snapshot.
    pub dangling: usize,
    /// Documents the rewriter could not read (left unchanged).
    pub unparsed: usize,
}

/// Everything a command did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The command.
    pub command: Command,
    /// The build worked on.
    pub build: Option<String>,
    /// Its folder.
    pub build_dir: Option<PathBuf>,
    /// The previous complete snapshot it was compared with.
    pub previous: Option<String>,
    /// Stage 1, per `[[copy]]`.
    pub copy: Vec<CopyReport>,
    /// Stage 2.
    pub localize: Option<LocalizeReport>,
    /// Stage 3.
    pub rewrite: Option<RewriteReport>,
    /// Stage 4.
    pub prune: Option<PruneReport>,
    /// New, changed, unchanged and removed files against the previous snapshot.
    pub changes: Option<ChangeReport>,
    /// Stage 5.
    pub verify: Option<VerifyReport>,
    /// Stage 6.
    pub publish: Option<PublishReport>,
    /// The summary.
    pub summary: Summary,
    /// What went wrong, one line each.
    pub problems: Vec<String>,
    /// The command succeeded (exit status 0).
    pub ok: bool,
}

impl RunReport {
    fn new(command: Command) -> Self {
        RunReport {
            command,
            build: None,
            build_dir: None,
            previous: None,
            copy: Vec::new(),
            localize: None,
            rewrite: None,
            prune: None,
            changes: None,
            verify: None,
            publish: None,
            summary: Summary::default(),
            problems: Vec::new(),
            ok: true,
        }
    }

    fn fail(&mut self, why: impl Into<String>) {
        self.problems.push(why.into());
        self.ok = false;
    }

    /// The one-line summary every run ends with.
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        format!(
            "snapshot {}: {} pages, {} files, {} bytes; copied {}, fetched {}, linked {}, \
             failed {}, dangling references {}{}",
            self.build.as_deref().unwrap_or("-"),
            s.pages,
            s.files,
            s.bytes,
            s.copied,
            s.fetched,
            s.linked,
            s.failed,
            s.dangling,
            if self.ok { "" } else { " -- FAILED" }
        )
    }
}

/// The state a command works with.
struct Ctx<'a> {
    recipe: &'a Recipe,
    work: WorkDir,
    opts: &'a Options,
    events: &'a dyn Events,
    sync_opts: RunOptions,
    report: RunReport,
}

impl Ctx<'_> {
    fn previous_of(&self, b: &Build) -> Option<Build> {
        let name = b.previous_name()?;
        let p = Build {
            dir: self.work.root.join(&name),
            name,
        };
        p.dir.is_dir().then_some(p)
    }

    fn mark(&mut self, b: &Build, stage: &str) {
        let r = b.journal().and_then(|mut j| {
            j.append(&Entry::Stage {
                stage: stage.into(),
            })?;
            j.sync()
        });
        if let Err(e) = r {
            self.report
                .fail(format!("{}: {e}", b.journal_path().display()));
        }
    }

    fn tree(&mut self, b: &Build) -> Option<TreeIndex> {
        match TreeIndex::scan(&b.dir) {
            Ok(t) => Some(t),
            Err(e) => {
                self.report.fail(format!("{}: {e}", b.dir.display()));
                None
            }
        }
    }

    /// A stage starts (shown with `-d`).
    fn stage(&self, name: &str) {
        self.events.message(1, &format!("== {name}"));
    }

    /// Stages 2-4 and the change report. False when the run must stop.
    async fn update(&mut self, b: &Build, map: &UrlMap, media: &[(String, String)]) -> bool {
        let prev = self.previous_of(b);
        let Some(mut tree) = self.tree(b) else {
            return false;
        };
        self.stage("localize");
        match localize(
            self.recipe,
            b,
            prev.as_ref(),
            map,
            media,
            &mut tree,
            self.events,
            &self.opts.cancel,
        )
        .await
        {
            Ok(r) => {
                if !r.failed.is_empty() {
                    self.report
                        .fail(format!("{} file(s) could not be fetched", r.failed.len()));
                }
                self.report.localize = Some(r);
            }
            Err(e) => {
                self.report.fail(format!("localize: {e}"));
                return false;
            }
        }

        self.stage("rewrite");
        let now = SystemTime::now();
        let r = {
            let (recipe, dir, prev_dir) = (
                self.recipe,
                b.dir.clone(),
                prev.as_ref().map(|p| p.dir.clone()),
            );
            let t = &tree;
            rewrite(recipe, &dir, prev_dir.as_deref(), map, t, now)
        };
        for (page, why) in &r.unparsed {
            self.events.message(
                0,
                &format!("Copied unchanged (cannot rewrite) {page}: {why}"),
            );
        }
        for k in &r.embeds_kept {
            self.events.message(
                1,
                &format!(
                    "Kept the player {} in {}: {} is missing",
                    k.url, k.page, k.local
                ),
            );
        }
        self.report.rewrite = Some(r);
        self.mark(b, "rewrite");

        self.stage("prune");
        let Some(mut tree) = self.tree(b) else {
            return false;
        };
        match prune(&b.dir, &self.recipe.prune, map, &mut tree) {
            Ok(r) => {
                for p in &r.removed {
                    self.events.message(1, &format!("Pruned {p}"));
                }
                self.report.prune = Some(r);
            }
            Err(e) => {
                self.report.fail(format!("prune: {e}"));
                return false;
            }
        }
        self.mark(b, "prune");

        let Some(tree) = self.tree(b) else {
            return false;
        };
        match compare(
            &b.dir,
            &tree,
            prev.as_ref().map(|p| (p.name.as_str(), p.dir.as_path())),
        ) {
            Ok(c) => {
                let state = b.state();
                let json = serde_json::to_string_pretty(&c).unwrap_or_default();
                if let Err(e) = std::fs::write(state.join("changes.json"), json)
                    .and_then(|()| std::fs::write(state.join("changes.txt"), c.to_text()))
                {
                    self.report.fail(format!("{}: {e}", state.display()));
                }
                self.report.changes = Some(c);
            }
            Err(e) => self.report.fail(format!("change report: {e}")),
        }
        true
    }

    /// Stage 5 on `b`; returns whether it passed.
    fn verify(&mut self, b: &Build, map: &UrlMap, record: bool) -> bool {
        self.stage("verify");
        let Some(tree) = self.tree(b) else {
            return false;
        };
        let strict = Strictness {
            max_missing: self.recipe.verify.max_missing,
            relative: self.recipe.links.relative,
            rewritten: true,
        };
        let r = verify(&b.dir, map, &tree, strict);
        let ok = r.ok;
        if record {
            let entry = Entry::Verified {
                ok,
                missing: r.dangling(),
            };
            if let Err(e) = b.journal().and_then(|mut j| j.append(&entry)) {
                self.report.fail(e.to_string());
            }
            let _ = std::fs::write(
                b.state().join("verify.json"),
                serde_json::to_string_pretty(&r).unwrap_or_default(),
            );
        }
        self.report.verify = Some(r);
        ok
    }

    /// Stage 6: switch, remove old builds, sync out.
    async fn publish(&mut self, b: &Build, switch: bool) {
        self.stage("publish");
        let mut p = PublishReport {
            current: b.name.clone(),
            destination: self
                .recipe
                .publish
                .as_ref()
                .map(|d| d.display().to_string()),
            ok: true,
            ..PublishReport::default()
        };
        if switch {
            if let Err(e) = self.work.switch_current(b) {
                self.report
                    .fail(format!("cannot make {} current: {e}", b.name));
                p.ok = false;
                self.report.publish = Some(p);
                return;
            }
            match self.work.prune_builds(self.recipe.keep) {
                Ok(r) => p.removed_builds = r,
                Err(e) => self.report.fail(format!("removing old builds: {e}")),
            }
        }
        match sync_out(self.recipe, &b.dir, self.events, &self.sync_opts).await {
            Ok((passes, ok)) => {
                p.passes = passes;
                if !ok {
                    p.ok = false;
                    self.report.fail("publishing to the destination failed");
                }
            }
            Err(e) => {
                p.ok = false;
                self.report.fail(format!("publish: {e}"));
            }
        }
        self.report.publish = Some(p);
    }

    fn summarize(&mut self, b: &Build) {
        let s = &mut self.report.summary;
        s.copied = self.report.copy.iter().map(|c| c.copied).sum();
        s.failed = self.report.copy.iter().filter(|c| c.status != "ok").count();
        if let Some(l) = &self.report.localize {
            s.fetched = l.fetched;
            s.linked = l.linked;
            s.failed += l.failed.len();
        }
        if let Some(r) = &self.report.rewrite {
            s.unparsed = r.unparsed.len();
        }
        if let Some(v) = &self.report.verify {
            s.dangling = v.dangling();
        }
        if let Ok(t) = TreeIndex::scan(&b.dir) {
            s.pages = t.pages();
            s.files = t.files.len();
            s.bytes = t.bytes;
        }
        let _ = std::fs::write(
            b.state().join("report.json"),
            serde_json::to_string_pretty(&self.report).unwrap_or_default(),
        );
    }
}

/// Runs `command` with `recipe`. Messages go to `events`; the result says what happened.
pub async fn execute(
    recipe: &Recipe,
    command: Command,
    opts: &Options,
    events: &dyn Events,
) -> Result<RunReport, Error> {
    let work = WorkDir::open(&recipe.work_dir)?;
    let media = load_media(&recipe.media).map_err(Error::Input)?;
    let map = UrlMap::new(recipe, &media);
    let sync_opts = RunOptions {
        debug: opts.debug,
        start_dir: recipe
            .file
            .parent()
            .map_or_else(|| PathBuf::from("."), PathBuf::from),
        cancel: opts.cancel.clone(),
        ..RunOptions::default()
    };
    let mut cx = Ctx {
        recipe,
        work,
        opts,
        events,
        sync_opts,
        report: RunReport::new(command),
    };
    let pending = cx.work.pending();
    let build = match command {
        // A build that was interrupted is continued; one that ran to verify (and was not
        // published) is left behind for a new one, so source changes are picked up. Left
        // builds are removed by the next publish.
        Command::Run => match pending.filter(|b| b.verified().is_none()) {
            Some(b) => {
                cx.events.message(
                    0,
                    &format!("Continuing build {} (interrupted earlier)", b.name),
                );
                b
            }
            None => cx.work.new_build()?,
        },
        Command::Create => cx.work.new_build()?,
        Command::Update => pending.filter(|b| b.stage_done("create")).ok_or_else(|| {
            Error::NoBuild("no build in progress: run `mirror snapshot create` first".into())
        })?,
        Command::Verify => match pending.filter(|b| b.stage_done("create")) {
            Some(b) => b,
            None => cx
                .work
                .current()
                .ok_or_else(|| Error::NoBuild("no snapshot to verify yet".into()))?,
        },
        Command::Publish => match pending {
            Some(b) if b.stage_done("rewrite") => b,
            Some(b) => {
                return Err(Error::NoBuild(format!(
                    "build {} is not updated yet: run `mirror snapshot update` first",
                    b.name
                )));
            }
            None => cx
                .work
                .current()
                .ok_or_else(|| Error::NoBuild("no snapshot to publish yet".into()))?,
        },
    };
    cx.report.build = Some(build.name.clone());
    cx.report.build_dir = Some(build.dir.clone());
    cx.report.previous = cx.previous_of(&build).map(|p| p.name);

    let complete = build.is_complete();
    match command {
        Command::Run | Command::Create => {
            if !build.stage_done("create") {
                cx.stage("create");
                let prev = cx.previous_of(&build);
                match create(recipe, &build, prev.as_ref(), events, &cx.sync_opts).await {
                    Ok(r) => {
                        for c in r.iter().filter(|c| c.status != "ok") {
                            cx.report.fail(format!("copy from {} failed", c.from));
                        }
                        cx.report.copy = r;
                    }
                    Err(e) => cx.report.fail(format!("create: {e}")),
                }
            }
            if command == Command::Run && cx.report.ok && cx.update(&build, &map, &media).await {
                let passed = cx.verify(&build, &map, true);
                if !passed && !opts.force {
                    cx.report
                        .fail("verify failed: not published (use --force to publish anyway)");
                } else if !cx.opts.cancel.is_cancelled() {
                    cx.publish(&build, true).await;
                }
            }
        }
        Command::Update => {
            cx.update(&build, &map, &media).await;
        }
        Command::Verify => {
            if !cx.verify(&build, &map, !complete) {
                cx.report.fail("verify failed");
            }
        }
        Command::Publish => {
            let passed = cx.verify(&build, &map, !complete);
            if !passed && !opts.force {
                cx.report
                    .fail("verify failed: not published (use --force to publish anyway)");
            } else {
                cx.publish(&build, !complete).await;
            }
        }
    }
    cx.summarize(&build);
    Ok(cx.report)
}
