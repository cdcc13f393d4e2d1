//! The executor: carries out a [`Plan`] against the destination, phase by phase in the
//! order the plan stores them (directories, transfers, deletions, transfers that replace a
//! directory, symlinks, times), writing mirror.pl's report lines as it goes. Under `-n`
//! the same walk prints the `Should ...` forms instead and touches nothing.
//!
//! Transfers run with bounded concurrency (`parallel`, capped by both remotes'
//! `max_parallel`). Each file is received into `.in.NAME.` in its folder, checked against
//! the listed size, given its mode, owner and time, and only then renamed into place, so
//! no partial file ever has the final name (invariant 1). A failed transfer leaves its
//! temp file, stamped with the source time, for the next run to resume.

use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use futures::StreamExt;
use mirror_remote::{ErrorKind, Features, RelPath, Remote, RemoteError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::decide::SkipReason;
use crate::events::{Events, Progress, RunOptions, Say};
use crate::plan::{Action, DeletionBlock, Fetch, Occupant, Plan, Transform};
use crate::report::{self, PackageReport, t2str};
use crate::rules::{Rules, hits};
use crate::transform::{self, Compressor};

/// A failed transfer, as the report shows it.
enum FetchError {
    /// Receiving failed: reported as `Failed to get SRC: CAUSE`.
    Get(String),
    /// A later step failed; the whole report line.
    Line(String),
}

/// Sizes of a file that arrived.
struct Stored {
    /// Bytes received (with a resumed part).
    received: u64,
    /// Bytes stored (after compression).
    stored: u64,
}

/// Carries out one plan. Shared by the concurrent transfers (`&self`), so the report sits
/// behind a mutex (uncontended: all transfers are polled on one task).
pub(crate) struct Executor<'a> {
    src: &'a dyn Remote,
    dst: &'a dyn Remote,
    src_f: Features,
    dst_f: Features,
    rules: &'a Rules<'a>,
    opts: &'a RunOptions,
    events: &'a dyn Events,
    say: Say<'a>,
    /// `user` + `group` resolved to ids, when both are set.
    owner: Option<(u32, u32)>,
    /// How the destination root is shown in deletion lines (mirror.pl's `CWD`).
    dest_root: String,
    report: Mutex<&'a mut PackageReport>,
}

impl<'a> Executor<'a> {
    /// An executor for one run.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        src: &'a dyn Remote,
        dst: &'a dyn Remote,
        rules: &'a Rules<'a>,
        opts: &'a RunOptions,
        events: &'a dyn Events,
        owner: Option<(u32, u32)>,
        dest_root: String,
        report: &'a mut PackageReport,
    ) -> Self {
        Executor {
            src,
            dst,
            src_f: src.features(),
            dst_f: dst.features(),
            rules,
            opts,
            events,
            say: Say {
                events,
                debug: opts.debug,
            },
            owner,
            dest_root,
            report: Mutex::new(report),
        }
    }

    fn with_report<T>(&self, f: impl FnOnce(&mut PackageReport) -> T) -> T {
        let mut guard = self.report.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// A report line: printed at level 0 and kept for update_log and mail.
    fn line(&self, text: String) {
        self.events.message(0, &text);
        self.with_report(|r| r.lines.push(text));
    }

    /// A report line that is also a failure of `path`.
    fn fail_line(&self, path: &RelPath, text: String) {
        self.events.message(0, &text);
        self.with_report(|r| {
            r.fail(path.as_str(), text.clone());
            r.lines.push(text);
        });
    }

    fn cancelled(&self) -> bool {
        self.opts.cancel.is_cancelled()
    }

    fn local_times(&self) -> bool {
        self.rules.pkg.use_timelocal
    }

    /// Runs the plan.
    pub async fn run(&self, plan: &Plan) {
        let actions = &plan.actions;
        let mut i = 0;
        while i < actions.len() {
            if self.cancelled() {
                self.with_report(|r| {
                    if r.deletions_skipped.is_none() && plan.stats.deletes > 0 {
                        r.deletions_skipped = Some("the run was cancelled".into());
                    }
                });
                return;
            }
            let run_end = |pred: fn(&Action) -> bool| {
                i + actions[i..]
                    .iter()
                    .position(|a| !pred(a))
                    .unwrap_or(actions.len() - i)
            };
            match &actions[i] {
                Action::Fetch(_) => {
                    let j = run_end(|a| matches!(a, Action::Fetch(_)));
                    self.fetch_all(&actions[i..j]).await;
                    i = j;
                }
                Action::Delete { .. } => {
                    let j = run_end(|a| matches!(a, Action::Delete { .. }));
                    self.delete_all(&actions[i..j], plan.deletions_blocked.as_ref())
                        .await;
                    i = j;
                }
                Action::Mkdir {
                    path,
                    mode,
                    replace,
                } => {
                    self.mkdir(path, *mode, *replace).await;
                    i += 1;
                }
                Action::Symlink {
                    path,
                    target,
                    replace,
                } => {
                    self.symlink(path, target, *replace).await;
                    i += 1;
                }
                Action::SetTime { path, mtime } => {
                    self.set_time(path, *mtime).await;
                    i += 1;
                }
                Action::Skip { path, reason } => {
                    self.skipped(path, reason);
                    i += 1;
                }
            }
        }
    }

    // ----- directories -------------------------------------------------------------------

    async fn mkdir(&self, path: &RelPath, mode: Option<u32>, replace: bool) {
        if self.opts.dry_run {
            return self.say.at(0, || format!("Should mkdir {path}"));
        }
        if replace && let Err(e) = self.dst.remove_file(path).await {
            return self.fail_line(
                path,
                format!("Cannot remove {path} to make a directory: {}", e.cause),
            );
        }
        match self.dst.mkdir(path).await {
            Ok(()) => {
                self.say.at(2, || format!("Created dir {path}"));
                self.with_report(|r| r.counts.dirs_created += 1);
                self.attributes(path, mode, None, true).await;
            }
            Err(e) => self.fail_line(path, format!("Cannot create dir {path}: {}", e.cause)),
        }
    }

    /// The mode a new file or directory gets: `file_mode` / `dir_mode`, or with `mode_copy`
    /// the source's mode restricted by `umask` and never setuid/setgid (fix of §6.14).
    fn mode_for(&self, src_mode: Option<u32>, dir: bool) -> u32 {
        let pkg = self.rules.pkg;
        match src_mode.filter(|&m| pkg.mode_copy && m & 0o777 != 0) {
            Some(m) => m & if dir { 0o1777 } else { 0o777 } & !pkg.umask & !0o6000,
            None if dir => pkg.dir_mode,
            None => pkg.file_mode,
        }
    }

    /// The attributes a fetched file gets, for setting them on the open file.
    fn fd_attrs(&self, f: &Fetch) -> FdAttrs {
        let pkg = self.rules.pkg;
        FdAttrs {
            mode: (pkg.chmod && self.dst_f.set_mode).then(|| self.mode_for(f.mode, false)),
            owner: self.owner.filter(|_| pkg.chmod && self.dst_f.chown),
            mtime: f.mtime.filter(|_| pkg.force_times && self.dst_f.set_mtime),
        }
    }

    /// Mode, owner and (for files) time of something just created; what the destination
    /// cannot do is skipped.
    async fn attributes(&self, path: &RelPath, mode: Option<u32>, mtime: Option<i64>, dir: bool) {
        let pkg = self.rules.pkg;
        if pkg.chmod && self.dst_f.set_mode {
            let m = self.mode_for(mode, dir);
            if let Err(e) = self.dst.set_mode(path, m).await {
                self.fail_line(path, format!("Cannot chmod {path} to 0{m:o}: {}", e.cause));
            }
        }
        if pkg.chmod
            && let Some((uid, gid)) = self.owner
            && self.dst_f.chown
            && let Err(e) = self.dst.chown(path, Some(uid), Some(gid)).await
        {
            self.fail_line(
                path,
                format!("Cannot chown {path} to {uid}:{gid}: {}", e.cause),
            );
        }
        if !dir
            && pkg.force_times
            && self.dst_f.set_mtime
            && let Some(t) = mtime
            && let Err(e) = self.dst.set_mtime(path, t).await
        {
            let when = t2str(t, self.local_times());
            self.fail_line(
                path,
                format!(
                    "Cannot set file times for {path} to {when} because: {}",
                    e.cause
                ),
            );
        }
    }

    // ----- transfers ---------------------------------------------------------------------

    fn parallel(&self) -> usize {
        self.rules
            .pkg
            .parallel
            .max(1)
            .min(self.src_f.max_parallel.max(1))
            .min(self.dst_f.max_parallel.max(1))
    }

    async fn fetch_all(&self, actions: &[Action]) {
        let fetches = actions.iter().filter_map(|a| match a {
            Action::Fetch(f) => Some(f),
            _ => None,
        });
        if self.opts.dry_run {
            for f in fetches {
                self.say
                    .at(2, || format!("Should {}", self.get_file_line(f)));
            }
            return;
        }
        futures::stream::iter(fetches)
            .map(|f| self.fetch_one(f))
            .buffer_unordered(self.parallel())
            .for_each(|()| async {})
            .await;
    }

    /// mirror.pl's `get file SRC as DEST (SIZE)[ (->gz)][ (split)]`.
    fn get_file_line(&self, f: &Fetch) -> String {
        let verb = if self.rules.put { "put" } else { "get" };
        let suffix = match f.transform {
            Transform::Compress | Transform::Convert => format!(" (->{})", self.rules.suffix()),
            Transform::Split => " (split)".into(),
            Transform::None => String::new(),
        };
        format!(
            "{verb} file {} as {} ({}){suffix}",
            f.src,
            f.dest(),
            f.size.unwrap_or(0)
        )
    }

    async fn fetch_one(&self, f: &Fetch) {
        if self.cancelled() {
            return;
        }
        let dest = f.dest();
        self.say.at(2, || self.get_file_line(f));
        if self.say.enabled(3) {
            self.say.at(3, || format!("   {}", f.reason.describe()));
        }
        self.events.progress(Progress::FileStarted {
            path: dest.clone(),
            size: f.size,
        });
        let started = Instant::now();
        let result = self.transfer(f).await;
        let ok = result.is_ok();
        match result {
            Ok(stored) => self.fetched(f, &stored, started.elapsed().as_secs()).await,
            Err(FetchError::Get(cause)) => {
                let verb = if self.rules.put { "put" } else { "get" };
                let text = format!("Failed to {verb} {}: {cause}", f.src);
                if hits(self.rules.pkg.failed_gets_excl.as_ref(), &cause) {
                    // failed_gets_excl silences the report line, not the failure.
                    self.with_report(|r| r.fail(f.src.as_str(), text));
                } else {
                    self.fail_line(&f.src, text);
                }
            }
            Err(FetchError::Line(text)) => self.fail_line(&f.src, text),
        }
        self.events.progress(Progress::FileDone {
            path: dest.clone(),
            ok,
        });
    }

    async fn transfer(&self, f: &Fetch) -> Result<Stored, FetchError> {
        let dest = f.dest();
        // Without rename (some remote stores) the file can only be written in place.
        let direct = !self.dst_f.rename && f.transform == Transform::None;
        let raw = if direct {
            dest.clone()
        } else {
            dest.temp_sibling()
        };
        let (received, finish) = match self.receive(f, &raw, direct).await {
            Ok(done) => done,
            Err(cause) => {
                self.keep_partial(f, &raw, direct).await;
                return Err(FetchError::Get(cause));
            }
        };
        if let Some(n) = f.size
            && received != n
        {
            if received > n || direct {
                let _ = self.dst.remove_file(&raw).await;
            } else {
                self.keep_partial(f, &raw, direct).await;
            }
            return Err(FetchError::Get(format!(
                "size mismatch: listed {n} bytes, received {received}"
            )));
        }
        match f.transform {
            Transform::None => {
                if finish == Finish::Bytes {
                    self.attributes(&raw, f.mode, f.mtime, false).await;
                }
                if finish != Finish::Installed {
                    self.install(&raw, dest).await?;
                }
                Ok(Stored {
                    received,
                    stored: received,
                })
            }
            Transform::Compress | Transform::Convert => self.compressed(f, &raw, received).await,
            Transform::Split => self.split(f, &raw, received).await,
        }
    }

    /// Receives the source file into `raw`, resuming from `f.resume_from`. Returns the
    /// size and how far the file got on the way: its attributes set on the open file
    /// (into a folder: three fewer trips to the blocking pool per file), or even renamed
    /// into place.
    async fn receive(
        &self,
        f: &Fetch,
        raw: &RelPath,
        direct: bool,
    ) -> Result<(u64, Finish), String> {
        let offset = f.resume_from;
        if offset == 0 && (f.temp_exists || (direct && f.old_size.is_some())) {
            // A stale temp file may be read-only (it got file_mode before a failed rename).
            let _ = self.dst.remove_file(raw).await;
        }
        if offset > 0 {
            self.say
                .at(2, || format!("Resuming {} from byte {offset}", f.src));
        }
        if offset == 0
            && let (Some(from_root), Some(to_root)) = (self.src.local_root(), self.dst.local_root())
        {
            // Folder to folder: create the file through the destination (whose guard checks
            // every directory on the way and never follows a symlink in the last step),
            // then let the kernel copy the bytes (copy_file_range, as std::fs::copy does).
            drop(
                self.dst
                    .create(raw, false)
                    .await
                    .map_err(|e| e.to_string())?,
            );
            let (from, to) = (from_root.join(f.src.as_str()), to_root.join(raw.as_str()));
            let attrs = (f.transform == Transform::None).then(|| self.fd_attrs(f));
            let expect = f.size;
            let (n, applied) =
                tokio::task::spawn_blocking(move || kernel_copy(&from, &to, expect, attrs))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
            self.events.progress(Progress::Bytes {
                path: f.dest().clone(),
                n,
            });
            return Ok((
                n,
                if applied {
                    Finish::Attrs
                } else {
                    Finish::Bytes
                },
            ));
        }
        if offset == 0
            && let Some(to_root) = self.dst.local_root()
        {
            return self.receive_into_folder(f, raw, to_root).await;
        }
        let mut r = self
            .src
            .open(&f.src, offset)
            .await
            .map_err(|e| e.to_string())?;
        let mut w = self
            .dst
            .create(raw, offset > 0)
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = offset;
        loop {
            let n = r
                .read(&mut buf)
                .await
                .map_err(|e| format!("read error: {e}"))?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n])
                .await
                .map_err(|e| format!("write error: {e}"))?;
            total += n as u64;
            self.events.progress(Progress::Bytes {
                path: f.dest().clone(),
                n: n as u64,
            });
        }
        w.shutdown()
            .await
            .map_err(|e| format!("write error: {e}"))?;
        Ok((total, Finish::Bytes))
    }

    /// A network source into a folder. The file is created through the destination (whose
    /// guard checks every directory on the way), then written from the open file by blocking
    /// tasks of up to [`WRITE_BUF`] bytes each, the next buffer being received while the
    /// previous one is written. The last task also sets mode, owner and time on the open
    /// file and, when the size is the listed one, renames it into place (beside it, in the
    /// folder the guard checked; `rename` never follows a final symlink). A small file (most
    /// of a tree) is two trips to the blocking pool where writing through the destination's
    /// stream took seven: on a tree of small files those trips were most of the CPU time.
    async fn receive_into_folder(
        &self,
        f: &Fetch,
        raw: &RelPath,
        to_root: &Path,
    ) -> Result<(u64, Finish), String> {
        drop(
            self.dst
                .create(raw, false)
                .await
                .map_err(|e| e.to_string())?,
        );
        let mut r = self.src.open(&f.src, 0).await.map_err(|e| e.to_string())?;
        let path = to_root.join(raw.as_str());
        let plain = f.transform == Transform::None;
        let attrs = plain.then(|| self.fd_attrs(f));
        let install = (plain && raw != f.dest()).then(|| to_root.join(f.dest().as_str()));
        let expect = f.size;
        // Room for the whole file when it is small, and one byte more to see it grow.
        let cap = f
            .size
            .map_or(WRITE_BUF, |n| {
                usize::try_from(n).unwrap_or(WRITE_BUF).saturating_add(1)
            })
            .min(WRITE_BUF);
        let mut file: Option<std::fs::File> = None;
        let mut writing: Option<tokio::task::JoinHandle<io::Result<std::fs::File>>> = None;
        let mut total = 0u64;
        loop {
            let mut buf = Vec::with_capacity(cap);
            let read = fill(&mut r, &mut buf).await;
            if let Some(w) = writing.take() {
                file = Some(
                    join_write(w)
                        .await
                        .map_err(|e| format!("write error: {e}"))?,
                );
            }
            let eof = match read {
                Ok(eof) => eof,
                Err(e) => {
                    // What did arrive stays in the temp file, for the next run to resume.
                    if !buf.is_empty() {
                        let (path, open) = (path.clone(), file.take());
                        let _ = tokio::task::spawn_blocking(move || write_chunk(open, &path, &buf))
                            .await;
                    }
                    return Err(format!("read error: {e}"));
                }
            };
            total += buf.len() as u64;
            if !buf.is_empty() {
                self.events.progress(Progress::Bytes {
                    path: f.dest().clone(),
                    n: buf.len() as u64,
                });
            }
            let (path, open) = (path.clone(), file.take());
            if eof {
                let done = tokio::task::spawn_blocking(move || {
                    let mut out = write_chunk(open, &path, &buf)?;
                    let whole = expect.is_none_or(|n| n == total);
                    let finish = match attrs {
                        Some(a) if whole && set_fd_attrs(&mut out, a) => match install {
                            // A failed rename is tried again (and reported) by `install`.
                            Some(to) if std::fs::rename(&path, &to).is_ok() => Finish::Installed,
                            _ => Finish::Attrs,
                        },
                        _ => Finish::Bytes,
                    };
                    Ok::<_, io::Error>(finish)
                })
                .await
                .map_err(io::Error::other)
                .and_then(|r| r)
                .map_err(|e| format!("write error: {e}"))?;
                return Ok((total, done));
            }
            writing = Some(tokio::task::spawn_blocking(move || {
                write_chunk(open, &path, &buf)
            }));
        }
    }

    /// After a failure: a partial temp file is stamped with the source time so the next
    /// run can resume it (mirror.pl's restart rule); a partial file written in place is
    /// removed, since it would carry the final name.
    async fn keep_partial(&self, f: &Fetch, raw: &RelPath, direct: bool) {
        if direct {
            let _ = self.dst.remove_file(raw).await;
        } else if let Some(t) = f.mtime
            && self.dst_f.set_mtime
        {
            let _ = self.dst.set_mtime(raw, t).await;
        }
    }

    /// Renames a finished `temp` (attributes already set) to `dest`.
    async fn install(&self, temp: &RelPath, dest: &RelPath) -> Result<(), FetchError> {
        if temp != dest {
            self.dst.rename(temp, dest).await.map_err(|e| {
                FetchError::Line(format!("Cannot rename {temp} to {dest}: {}", e.cause))
            })?;
        }
        Ok(())
    }

    /// The local path of a destination path (transforms only run on local destinations:
    /// `run` turns them off otherwise).
    fn local(&self, p: &RelPath) -> Result<PathBuf, FetchError> {
        self.dst
            .local_root()
            .map(|root| root.join(p.as_str()))
            .ok_or_else(|| {
                FetchError::Line(format!(
                    "Cannot transform {p}: the destination is not a local folder"
                ))
            })
    }

    async fn compressed(
        &self,
        f: &Fetch,
        raw: &RelPath,
        received: u64,
    ) -> Result<Stored, FetchError> {
        let dest = f.dest();
        let out = sibling(dest, &format!(".in.{}.out.", dest.name()));
        let (raw_abs, out_abs) = (self.local(raw)?, self.local(&out)?);
        let convert = f.transform == Transform::Convert;
        let prog = self
            .rules
            .compress
            .as_ref()
            .map_or(Compressor::Gzip, |c| c.prog.clone());
        let stored = tokio::task::spawn_blocking(move || -> io::Result<u64> {
            let _ = std::fs::remove_file(&out_abs);
            let done = if convert {
                transform::convert_file(&raw_abs, &out_abs)
            } else {
                transform::compress_file(&prog, &raw_abs, &out_abs)
            };
            if let Err(e) = done {
                let _ = std::fs::remove_file(&out_abs);
                return Err(e);
            }
            std::fs::remove_file(&raw_abs)?;
            Ok(std::fs::metadata(&out_abs)?.len())
        })
        .await
        .map_err(|e| FetchError::Line(format!("Cannot compress {}: {e}", f.src)))?
        .map_err(|e| FetchError::Line(format!("Cannot compress {}: {e}", f.src)))?;
        self.attributes(&out, f.mode, f.mtime, false).await;
        self.install(&out, dest).await?;
        Ok(Stored { received, stored })
    }

    async fn split(&self, f: &Fetch, raw: &RelPath, received: u64) -> Result<Stored, FetchError> {
        let dest = f.dest();
        let split_rel = sibling(dest, &format!("{}-split", dest.name()));
        let temp_rel = sibling(dest, &format!(".in.{}-split.", dest.name()));
        let (raw_abs, split_abs, temp_abs) = (
            self.local(raw)?,
            self.local(&split_rel)?,
            self.local(&temp_rel)?,
        );
        let chunk = self.rules.split.as_ref().map_or(102_400, |s| s.chunk);
        let mtime = f.mtime.filter(|_| self.rules.pkg.force_times);
        let name = dest.name().to_owned();
        // The parts are written into a temp folder and swapped in whole, so a reader never
        // sees a half-written split (mirror.pl removed the old one and wrote in place).
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            remove_any(&temp_abs)?;
            std::fs::create_dir(&temp_abs)?;
            transform::split_file(&raw_abs, &temp_abs, chunk, mtime, &name)?;
            remove_any(&split_abs)?;
            std::fs::rename(&temp_abs, &split_abs)?;
            std::fs::remove_file(&raw_abs)
        })
        .await
        .map_err(|e| FetchError::Line(format!("Cannot split {}: {e}", f.src)))?
        .map_err(|e| FetchError::Line(format!("Cannot split {}: {e}", f.src)))?;
        self.attributes(&split_rel, None, None, true).await;
        Ok(Stored {
            received,
            stored: received,
        })
    }

    /// Reports a file that arrived, logs it to `-U`, and applies `delete_source`.
    async fn fetched(&self, f: &Fetch, s: &Stored, secs: u64) {
        let dest = f.dest();
        let text = if self.rules.put {
            format!("Put {} {} bytes", f.src, s.stored)
        } else {
            let as_dest = if dest != &f.src {
                format!(" as {dest}")
            } else {
                String::new()
            };
            let split = if f.transform == Transform::Split {
                " and split"
            } else {
                ""
            };
            let grew = match f.size {
                Some(n) if s.stored > n => format!(" (file grew from {n}!)"),
                _ => String::new(),
            };
            format!("Got {}{as_dest}{split} {}{grew} {secs}", f.src, s.stored)
        };
        self.line(text);
        self.with_report(|r| {
            r.counts.files_fetched += 1;
            r.counts.bytes_fetched += s.received - f.resume_from;
        });
        if let Some(log) = &self.opts.upload_log {
            let (line, path) = (self.upload_line(f, s.stored), log.clone());
            let res = tokio::task::spawn_blocking(move || report::append_upload_log(&path, &line))
                .await
                .unwrap_or_else(|e| Err(io::Error::other(e)));
            if let Err(e) = res {
                self.say
                    .at(0, || format!("Cannot write to {}: {e}", log.display()));
            }
        }
        if self.rules.pkg.delete_source {
            let side = if self.rules.put { "local" } else { "remote" };
            match self.src.remove_file(&f.src).await {
                Ok(()) => self.line(format!("Deleted {side} {}", f.src)),
                Err(e) => self.fail_line(
                    &f.src,
                    format!("Failed to delete {side} {}: {}", f.src, e.cause),
                ),
            }
        }
    }

    /// The `-U` line: `SITE:RDIR/SRC -> LDIR/DEST SIZE` in get mode (the format mirror.pl
    /// meant, §6.18), `LDIR/SRC -> SITE:RDIR/DEST SIZE` in put mode.
    fn upload_line(&self, f: &Fetch, size: u64) -> String {
        let pkg = self.rules.pkg;
        let site = format!("{}:{}", pkg.site_text, pkg.remote_dir.trim_end_matches('/'));
        let local = self.with_report(|r| r.local_dir.trim_end_matches('/').to_owned());
        let split = if f.transform == Transform::Split {
            " (and split)"
        } else {
            ""
        };
        if self.rules.put {
            format!("{local}/{} -> {site}/{} {size}{split}", f.src, f.dest())
        } else {
            format!("{site}/{} -> {local}/{} {size}{split}", f.src, f.dest())
        }
    }

    // ----- deletions ---------------------------------------------------------------------

    async fn delete_all(&self, actions: &[Action], block: Option<&DeletionBlock>) {
        let candidates = actions.iter().filter_map(|a| match a {
            Action::Delete { path, dir } => Some((path, *dir)),
            _ => None,
        });
        let pkg = self.rules.pkg;
        let refusal = match block {
            Some(DeletionBlock::Threshold(m) | DeletionBlock::Listing(m)) => Some(m.clone()),
            None => None,
        };
        self.with_report(|r| r.deletions_skipped = refusal.clone());
        if self.opts.dry_run {
            for (path, _) in candidates {
                if pkg.save_deletes {
                    let to = self.rules.save_abs.join(path.as_str());
                    self.say.at(0, || {
                        format!("Should save_delete {path} to {}", to.display())
                    });
                } else {
                    self.say.at(0, || format!("Should delete {path}"));
                }
            }
            return;
        }
        let failed = self.with_report(|r| r.counts.failed);
        if failed > 0 && !matches!(block, Some(DeletionBlock::Listing(_))) {
            let why = format!("{failed} failure(s) earlier in this run");
            self.line(format!("Not deleting anything: {why}"));
            self.with_report(|r| r.deletions_skipped = Some(why));
            return;
        }
        match block {
            Some(DeletionBlock::Listing(why)) => {
                return self.line(format!("Not deleting anything: {why}"));
            }
            Some(DeletionBlock::Threshold(_)) => {
                for (path, dir) in candidates {
                    self.line(match (self.rules.put, dir) {
                        (false, false) => format!("NEED TO unlink {}/{path}", self.dest_root),
                        (false, true) => format!("NEED TO rmdir {}/{path}", self.dest_root),
                        (true, false) => format!("NEED TO delete FILE {path}"),
                        (true, true) => format!("NEED TO delete DIR {path}"),
                    });
                }
                return;
            }
            None => {}
        }
        if pkg.save_deletes {
            let Some(root) = self.dst.local_root() else {
                self.say
                    .at(0, || "NEED TO implement remote save_deletes".into());
                self.with_report(|r| {
                    r.deletions_skipped = Some("save_deletes needs a local destination".into())
                });
                return;
            };
            for (path, dir) in candidates {
                if self.cancelled() || !self.save_one(root, path, dir).await {
                    return;
                }
            }
            return;
        }
        for (path, dir) in candidates {
            if self.cancelled() {
                return;
            }
            self.delete_one(path, dir).await;
        }
    }

    async fn delete_one(&self, path: &RelPath, dir: bool) {
        let label = match (self.rules.put, dir) {
            (false, false) => format!("unlink {}/{path}", self.dest_root),
            (false, true) => format!("rmdir {}/{path}", self.dest_root),
            (true, false) => format!("delete FILE {path}"),
            (true, true) => format!("delete DIR {path}"),
        };
        self.line(label.clone());
        let res = if dir {
            self.dst.remove_dir(path).await
        } else {
            self.dst.remove_file(path).await
        };
        match res {
            Ok(()) => self.with_report(|r| {
                if dir {
                    r.counts.dirs_deleted += 1;
                } else {
                    r.counts.files_deleted += 1;
                }
            }),
            // Something the scan could not see (local_ignore) keeps a directory: expected.
            Err(e) if dir && is_not_empty(&e) => self.line(format!("{label} failed: {}", e.cause)),
            Err(e) => self.fail_line(path, format!("{label} failed: {}", e.cause)),
        }
    }

    /// Moves one deletion candidate into `save_dir`. Returns false when saving must stop
    /// (the save directory cannot be made: deleting instead would lose data).
    async fn save_one(&self, root: &Path, path: &RelPath, dir: bool) -> bool {
        let from = root.join(path.as_str());
        let to = self.rules.save_abs.join(path.as_str());
        let need = if dir {
            to.clone()
        } else {
            to.parent().map_or_else(|| to.clone(), Path::to_path_buf)
        };
        let (from2, to2, need2) = (from.clone(), to.clone(), need.clone());
        let outcome = tokio::task::spawn_blocking(move || {
            let created = if need2.is_dir() {
                false
            } else {
                std::fs::create_dir_all(&need2).map_err(|e| (true, e))?;
                true
            };
            let moved = if dir {
                std::fs::remove_dir(&from2)
            } else {
                move_file(&from2, &to2)
            };
            moved.map(|()| created).map_err(|e| (false, e))
        })
        .await
        .unwrap_or_else(|e| Err((false, io::Error::other(e))));
        match outcome {
            Ok(created) => {
                if created {
                    self.line(format!("Created save directory {}", need.display()));
                }
                if dir {
                    self.line(format!("Removed directory {path}"));
                } else {
                    self.line(format!("Moved {path} to {}", to.display()));
                }
                self.with_report(|r| {
                    if dir {
                        r.counts.dirs_deleted += 1;
                    } else {
                        r.counts.files_deleted += 1;
                    }
                });
                true
            }
            Err((true, e)) => {
                self.fail_line(
                    path,
                    format!("UNABLE TO CREATE {}, aborting saves: {e}", need.display()),
                );
                false
            }
            Err((false, _)) if dir => {
                self.fail_line(path, format!("UNABLE TO REMOVE DIRECTORY {path}"));
                true
            }
            Err((false, e)) => {
                self.fail_line(
                    path,
                    format!("UNABLE TO MOVE {path} TO {}: {e}", to.display()),
                );
                true
            }
        }
    }

    // ----- symlinks, times, skips ------------------------------------------------------

    async fn symlink(&self, path: &RelPath, target: &str, replace: Occupant) {
        if self.opts.dry_run {
            return self
                .say
                .at(0, || format!("Should symlink {path} to {target}"));
        }
        if !self.dst_f.symlinks {
            return self.say.at(0, || {
                format!("Cannot create symlinks on remote systems ({path} -> {target})")
            });
        }
        let cleared = match replace {
            Occupant::Nothing => Ok(()),
            Occupant::File => match self.dst.remove_file(path).await {
                Err(e) if e.kind != ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Occupant::Dir => self.dst.remove_dir(path).await,
        };
        match cleared.and(self.dst.symlink(path, target).await) {
            Ok(()) => {
                self.line(format!("symlink {target} to {path}"));
                self.with_report(|r| r.counts.symlinks_created += 1);
            }
            Err(e) => self.fail_line(
                path,
                format!("Failed to symlink {target} to {path}: {}", e.cause),
            ),
        }
    }

    async fn set_time(&self, path: &RelPath, mtime: i64) {
        let when = t2str(mtime, self.local_times());
        if self.opts.dry_run {
            return self
                .say
                .at(0, || format!("Should set time of {path} to {when}"));
        }
        self.say.at(if self.rules.times_only { 0 } else { 3 }, || {
            format!("Setting time of {path} to {when}")
        });
        if !self.dst_f.set_mtime {
            return;
        }
        match self.dst.set_mtime(path, mtime).await {
            Ok(()) => self.with_report(|r| r.counts.times_set += 1),
            Err(e) => self.fail_line(
                path,
                format!(
                    "Cannot set file times for {path} to {when} because: {}",
                    e.cause
                ),
            ),
        }
    }

    fn skipped(&self, path: &RelPath, reason: &SkipReason) {
        match reason {
            SkipReason::EscapingLink(target) => {
                self.line(format!(
                    "Refused symlink {path} -> {target}: the target leaves the tree"
                ));
                self.with_report(|r| r.refused_names.push(path.to_string()));
            }
            SkipReason::BadMapping(mapped) => {
                self.line(format!(
                    "Refused name {path}: name_mappings gives `{mapped}`"
                ));
                self.with_report(|r| r.refused_names.push(path.to_string()));
            }
            SkipReason::MissingLinkTarget(target) => {
                self.say
                    .at(0, || format!("Not symlinking {path} -> {target}"));
            }
            _ => {}
        }
    }
}

/// `dir/name` next to `p`.
fn sibling(p: &RelPath, name: &str) -> RelPath {
    let parent = p.parent().unwrap_or_default();
    parent.join(name).unwrap_or_else(|_| p.clone())
}

/// How far a received file got besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finish {
    /// Only the bytes: mode, owner and time are still to be set.
    Bytes,
    /// Mode, owner and time were set on the open file.
    Attrs,
    /// All that, and it was renamed into place.
    Installed,
}

/// The attributes of a fetched file, set on the open file (no path is resolved again).
#[derive(Debug, Clone, Copy)]
struct FdAttrs {
    mode: Option<u32>,
    owner: Option<(u32, u32)>,
    mtime: Option<i64>,
}

/// Copies a file into an already created destination file with the kernel's help: std's
/// `io::copy` between two files uses `copy_file_range` / `sendfile` on Linux, exactly as
/// `std::fs::copy` does, but opening the destination with `O_NOFOLLOW` and without
/// creating it keeps the destination's symlink guard in force. When the size is as
/// expected, `attrs` are set on the open file; the answer says whether they all were (if
/// not, the caller sets them through the destination and reports what fails).
fn kernel_copy(
    from: &Path,
    to: &Path,
    expect: Option<u64>,
    attrs: Option<FdAttrs>,
) -> io::Result<(u64, bool)> {
    let mut src = std::fs::File::open(from)?;
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(to)?;
    let n = io::copy(&mut src, &mut dst)?;
    let applied = match attrs {
        Some(a) if expect.is_none_or(|e| e == n) => set_fd_attrs(&mut dst, a),
        _ => false,
    };
    Ok((n, applied))
}

/// Size of one write of a network source into a folder ([`Executor::receive_into_folder`]):
/// a whole small file, or a slice of a large one (two of these per transfer in memory).
const WRITE_BUF: usize = 1 << 20;

/// Reads from `r` until `buf` is full (its capacity) or the stream ends; true at the end.
async fn fill(r: &mut mirror_remote::ReadStream, buf: &mut Vec<u8>) -> io::Result<bool> {
    while buf.len() < buf.capacity() {
        if r.read_buf(buf).await? == 0 {
            return Ok(true);
        }
    }
    // Full: the end is only known from a read of nothing (a file exactly the size of the
    // buffer ends here, and the next round reads nothing).
    Ok(false)
}

/// Writes one buffer to the file being received, opening it first (created by the
/// destination already: opened without following a symlink, and without creating).
fn write_chunk(open: Option<std::fs::File>, path: &Path, buf: &[u8]) -> io::Result<std::fs::File> {
    use std::io::Write;
    let mut file = match open {
        Some(f) => f,
        None => std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(path)?,
    };
    file.write_all(buf)?;
    Ok(file)
}

async fn join_write(
    w: tokio::task::JoinHandle<io::Result<std::fs::File>>,
) -> io::Result<std::fs::File> {
    w.await.map_err(io::Error::other)?
}

/// Sets mode, owner and time on an open file; true if all of them were set.
fn set_fd_attrs(file: &mut std::fs::File, a: FdAttrs) -> bool {
    let set = || -> io::Result<()> {
        if let Some((uid, gid)) = a.owner {
            std::os::unix::fs::fchown(&*file, Some(uid), Some(gid))?;
        }
        if let Some(m) = a.mode {
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(m))?;
        }
        if let Some(t) = a.mtime {
            transform::set_time(file, t)?;
        }
        Ok(())
    };
    set().is_ok()
}

/// Moves a file (or symlink) to `to`, copying across file systems when rename cannot.
fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.raw_os_error() == Some(nix::libc::EXDEV) => {
            let md = std::fs::symlink_metadata(from)?;
            if md.file_type().is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(from)?, to)?;
            } else {
                std::fs::copy(from, to)?;
            }
            std::fs::remove_file(from)
        }
        other => other,
    }
}

/// Removes a file, symlink or whole directory tree if present (our own split output).
fn remove_any(p: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(md) if md.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn is_not_empty(e: &RemoteError) -> bool {
    e.cause.contains("not empty") || e.cause.contains("os error 39")
}
