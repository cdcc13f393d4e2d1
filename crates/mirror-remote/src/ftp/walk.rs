//! The listing strategy: which source of truth to use, and how to cover the whole tree
//! without trusting what cannot be trusted.
//!
//! In order (spec §5.1, with §6.2 fixed):
//! 1. `local_ls_lR_file`: a local file parsed as the listing (no connection needed).
//! 2. `ls_lR_file`: a remote `ls -lR` file, fetched and parsed.
//! 3. `MLSD` per directory when the server offers it: exact UTC seconds.
//! 4. `LIST flags_recursive` at the root (unless `recurse_hard`), then a completeness
//!    check: every directory named by a `d` line without a `dir:` header of its own (the
//!    server ignored `-R`, or `ls` could not enter it) is listed on its own.
//! 5. `LIST flags_nonrecursive` per directory (`recurse_hard`, or step 4's leftovers).
//!
//! Per-directory listings run concurrently, as many as the pool has sessions: on a
//! no-change run this is most of the time spent. A directory whose listing fails, times
//! out or reports an error is marked incomplete; the root failing fails the walk.
//!
//! Every name is validated into a [`RelPath`]; what fails (`..`, absolute, `/` or NUL
//! inside a name, a non-UTF-8 name, a symlink target leaving the tree) is left out and
//! recorded in [`Listing::refused`].

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::conn::Fail;
use super::listing::{ListParser, ParseOptions, Parsed, RawEntry, RemoteFs, parse_mlsd_line};
use super::session::{ServerFeat, Session};
use super::{Shared, join_abs};
use crate::{Entry, ErrorKind, Kind, Listing, ListingProblem, RelPath, RemoteError, WalkOptions};

/// Largest `ls_lR_file` accepted (compressed or not).
const MAX_LSLR: u64 = 2 << 30;

/// How one directory is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// `MLSD path`.
    Mlsd,
    /// `CWD path` + `LIST flags_nonrecursive`.
    List,
}

/// One directory's listing, validated.
#[derive(Default)]
struct DirListing {
    entries: Vec<Entry>,
    refused: Vec<ListingProblem>,
    /// Directories the listing itself says are not fully listed (`ls: x: Permission
    /// denied`).
    problems: Vec<ListingProblem>,
    /// Directories known from `dir:` headers (listed in a recursive listing).
    headers: HashSet<RelPath>,
}

/// Where `store_remote_listing` writes.
type Store = Mutex<Option<std::io::BufWriter<std::fs::File>>>;

/// Lists the whole tree (see the module doc for the order of sources).
pub(crate) async fn walk(sh: &Arc<Shared>, opts: &WalkOptions) -> Result<Listing, RemoteError> {
    let lc = &sh.cfg.listing;
    let store: Store = Mutex::new(match &lc.store_remote_listing {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p).map_err(
            |e| RemoteError::io(format!("cannot write {}", p.display()), &e),
        )?)),
        None => None,
    });
    let mut listing = Listing::default();
    if let Some(file) = &lc.local_ls_lr_file {
        let bytes = tokio::fs::read(file)
            .await
            .map_err(|e| RemoteError::io(format!("cannot read {}", file.display()), &e))?;
        let text = decompress(file.to_string_lossy().as_ref(), bytes)
            .await
            .map_err(|e| {
                RemoteError::new(
                    ErrorKind::Other,
                    format!("cannot read {}", file.display()),
                    e,
                )
            })?;
        whole_tree_file(sh, &text, opts, &store, &mut listing);
        return finish(listing, &store);
    }
    let feat = connect(sh).await?;
    let root = RelPath::root();
    if !lc.ls_lr_file.is_empty() {
        let path = if lc.ls_lr_file.starts_with('/') {
            lc.ls_lr_file.clone()
        } else {
            join_abs(
                sh.root().await?,
                &RelPath::new(&lc.ls_lr_file)
                    .map_err(|e| RemoteError::new(ErrorKind::Other, "bad ls_lR_file", e))?,
            )
        };
        let bytes = with_session!(**sh, "get the ls-lR file of", &root, |s| {
            s.read_all(&path, MAX_LSLR).await
        })?;
        let text = decompress(&path, bytes)
            .await
            .map_err(|e| RemoteError::new(ErrorKind::Other, format!("cannot read {path}"), e))?;
        whole_tree_file(sh, &text, opts, &store, &mut listing);
        return finish(listing, &store);
    }
    let use_mlsd =
        lc.use_mlsd && feat.mlsd && !matches!(lc.remote_fs, RemoteFs::Vms | RemoteFs::Cms);
    if use_mlsd {
        bfs(
            sh,
            Method::Mlsd,
            vec![root],
            HashSet::new(),
            opts,
            &store,
            &mut listing,
        )
        .await?;
    } else if opts.recursive && !lc.recurse_hard {
        let (start, known) = recursive_list(sh, opts, &store, &mut listing).await?;
        bfs(sh, Method::List, start, known, opts, &store, &mut listing).await?;
    } else {
        bfs(
            sh,
            Method::List,
            vec![root],
            HashSet::new(),
            opts,
            &store,
            &mut listing,
        )
        .await?;
    }
    finish(listing, &store)
}

fn finish(mut listing: Listing, store: &Store) -> Result<Listing, RemoteError> {
    if let Some(mut w) = store.lock().unwrap_or_else(|e| e.into_inner()).take() {
        w.flush()
            .map_err(|e| RemoteError::io("cannot write store_remote_listing", &e))?;
    }
    listing.normalize();
    Ok(listing)
}

/// Logs in (or takes a pooled session) and returns what the server can do.
async fn connect(sh: &Arc<Shared>) -> Result<ServerFeat, RemoteError> {
    sh.root().await?;
    if let Some(f) = sh.pool.feat() {
        return Ok(f.clone());
    }
    with_session!(**sh, "connect to", &RelPath::root(), |s| {
        Ok(s.feat.clone())
    })
}

/// Lists one directory on its own (for [`crate::Remote::list`] and `stat`): entries and
/// refused names.
pub(crate) async fn list_one(
    sh: &Arc<Shared>,
    dir: &RelPath,
) -> Result<(Vec<Entry>, Vec<ListingProblem>), RemoteError> {
    let feat = connect(sh).await?;
    let lc = &sh.cfg.listing;
    let method =
        if lc.use_mlsd && feat.mlsd && !matches!(lc.remote_fs, RemoteFs::Vms | RemoteFs::Cms) {
            Method::Mlsd
        } else {
            Method::List
        };
    let store: Store = Mutex::new(None);
    let d = list_dir(sh, dir, method, &store).await?;
    Ok((d.entries, d.refused))
}

/// Breadth-first over directories, listing up to the pool's size at once. `known`
/// directories are already listed and not queued again.
async fn bfs(
    sh: &Arc<Shared>,
    method: Method,
    start: Vec<RelPath>,
    mut known: HashSet<RelPath>,
    opts: &WalkOptions,
    store: &Store,
    listing: &mut Listing,
) -> Result<(), RemoteError> {
    let mut queue: VecDeque<RelPath> = start.into_iter().collect();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < sh.pool.cap()
            && let Some(dir) = queue.pop_front()
        {
            known.insert(dir.clone());
            running.push(async move {
                let r = list_dir(sh, &dir, method, store).await;
                (dir, r)
            });
        }
        let Some((dir, result)) = running.next().await else {
            break;
        };
        match result {
            Ok(d) => {
                for e in d.entries {
                    if opts.ignore.as_ref().is_some_and(|ign| ign(&e.path)) {
                        continue;
                    }
                    if e.kind.is_dir() && opts.recursive && !known.contains(&e.path) {
                        queue.push_back(e.path.clone());
                    }
                    listing.entries.push(e);
                }
                listing.refused.extend(d.refused);
                listing.incomplete.extend(d.problems);
            }
            Err(e) if dir.is_root() => return Err(e),
            Err(e) => listing.incomplete.push(ListingProblem {
                path: dir,
                message: e.to_string(),
            }),
        }
    }
    Ok(())
}

/// `LIST flags_recursive` at the root. Returns the directories still to list on their
/// own (named by `d` lines but not listed under a header of their own, or reported
/// unreadable) and the ones already listed.
async fn recursive_list(
    sh: &Arc<Shared>,
    opts: &WalkOptions,
    store: &Store,
    listing: &mut Listing,
) -> Result<(Vec<RelPath>, HashSet<RelPath>), RemoteError> {
    let lc = &sh.cfg.listing;
    let root = RelPath::root();
    let abs = sh.abs(&root).await?;
    let cmd = list_cmd(&lc.flags_recursive);
    let lines = with_session!(**sh, "list", &root, |s| {
        s.cwd(&abs).await?;
        collect_lines(s, &cmd).await
    })?;
    save(store, &root, &lines);
    let unix = lc.remote_fs == RemoteFs::Unix;
    let mut d = DirListing::default();
    // Other dialects keep mirror.pl's rule (directories from headers only); the unix one
    // reads `d` lines too, for the completeness check below.
    parse_into(sh, &root, &lines, !unix, false, &mut d);
    let mut listed: HashSet<RelPath> = d.headers.clone();
    listed.insert(root.clone());
    let mut relist: Vec<RelPath> = Vec::new();
    for p in d.problems.drain(..) {
        // `ls` could not read it: try it on its own before calling it incomplete.
        if !relist.contains(&p.path) {
            listed.remove(&p.path);
            relist.push(p.path);
        }
    }
    for e in d.entries {
        if ignored(opts, &e.path) {
            continue;
        }
        if unix && e.kind.is_dir() && opts.recursive && !listed.contains(&e.path) {
            // Not listed under its own header: the server ignored -R, or ls failed there.
            if !relist.contains(&e.path) {
                relist.push(e.path.clone());
            }
        }
        listing.entries.push(e);
    }
    listing.refused.extend(d.refused);
    relist.retain(|r| !ignored(opts, r));
    Ok((relist, listed))
}

/// Lists one directory.
async fn list_dir(
    sh: &Arc<Shared>,
    dir: &RelPath,
    method: Method,
    store: &Store,
) -> Result<DirListing, RemoteError> {
    let abs = sh.abs(dir).await?;
    let lc = &sh.cfg.listing;
    let lines = match method {
        Method::Mlsd => with_session!(**sh, "list", dir, |s| {
            collect_lines(s, &format!("MLSD {abs}")).await
        })?,
        Method::List => {
            let cmd = list_cmd(&lc.flags_nonrecursive);
            with_session!(**sh, "list", dir, |s| {
                s.cwd(&abs).await?;
                collect_lines(s, &cmd).await
            })?
        }
    };
    save(store, dir, &lines);
    let mut d = DirListing::default();
    match method {
        Method::Mlsd => {
            parse_mlsd(sh, dir, &lines, &mut d);
            if d.entries.iter().any(blind_link) {
                link_targets(sh, dir, &abs, &mut d).await?;
            }
        }
        Method::List => parse_into(sh, dir, &lines, false, true, &mut d),
    }
    Ok(d)
}

/// A symlink from `MLSD` whose target the server did not say.
fn blind_link(e: &Entry) -> bool {
    matches!(&e.kind, Kind::Symlink(t) if t.is_empty())
}

/// Fills in the targets `MLSD` left out (pure-ftpd) from a `LIST` of the same directory;
/// a link whose target stays unknown becomes [`Kind::Other`] (nothing to recreate), and
/// one whose target leaves the tree is refused.
async fn link_targets(
    sh: &Arc<Shared>,
    dir: &RelPath,
    abs: &str,
    d: &mut DirListing,
) -> Result<(), RemoteError> {
    let cmd = list_cmd(&sh.cfg.listing.flags_nonrecursive);
    let lines = with_session!(**sh, "list", dir, |s| {
        s.cwd(abs).await?;
        collect_lines(s, &cmd).await
    })?;
    let mut from_list = DirListing::default();
    parse_into(sh, dir, &lines, false, true, &mut from_list);
    let targets: std::collections::HashMap<RelPath, Box<str>> = from_list
        .entries
        .into_iter()
        .filter_map(|e| match e.kind {
            Kind::Symlink(t) => Some((e.path, t)),
            _ => None,
        })
        .collect();
    let mut kept = Vec::with_capacity(d.entries.len());
    for mut e in std::mem::take(&mut d.entries) {
        if blind_link(&e) {
            match targets.get(&e.path) {
                Some(t) if e.path.resolve_link_target(t).is_none() => {
                    d.refused.push(ListingProblem {
                        path: dir.clone(),
                        message: format!(
                            "symlink `{}` -> `{t}`: the target leaves the tree",
                            e.path
                        ),
                    });
                    continue;
                }
                Some(t) => e.kind = Kind::Symlink(t.clone()),
                None => e.kind = Kind::Other,
            }
        }
        kept.push(e);
    }
    d.entries = kept;
    Ok(())
}

/// `LIST` with the flags, or bare `LIST` when they are empty.
fn list_cmd(flags: &str) -> String {
    let flags = flags.trim();
    if flags.is_empty() {
        "LIST".into()
    } else {
        format!("LIST {flags}")
    }
}

/// Reads a listing's lines; a line that is not UTF-8 is kept as `Err(lossy text)`.
async fn collect_lines(s: &mut Session, cmd: &str) -> Result<Vec<Result<String, String>>, Fail> {
    let mut lines = Vec::new();
    s.read_lines(cmd, |l| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        lines.push(match std::str::from_utf8(l) {
            Ok(t) => Ok(t.to_owned()),
            Err(_) => Err(String::from_utf8_lossy(l).into_owned()),
        });
    })
    .await?;
    Ok(lines)
}

/// Appends a listing to the `store_remote_listing` file (a `dir:` header before each
/// directory but the root, so the file reads as an `ls -lR`).
fn save(store: &Store, dir: &RelPath, lines: &[Result<String, String>]) {
    let mut guard = store.lock().unwrap_or_else(|e| e.into_inner());
    let Some(w) = guard.as_mut() else { return };
    let mut write = || -> std::io::Result<()> {
        if !dir.is_root() {
            writeln!(w, "\n./{dir}:")?;
        }
        for l in lines {
            match l {
                Ok(t) | Err(t) => writeln!(w, "{t}")?,
            }
        }
        Ok(())
    };
    if write().is_err() {
        // A full disk must not fail the mirror: stop writing the copy.
        *guard = None;
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Parses `LIST` lines of `dir` into `d`. `report_subdirs`: directories from headers only
/// (mirror.pl's rule for recursive listings). `single`: a one-directory listing, where
/// every entry must lie directly in `dir`.
fn parse_into(
    sh: &Shared,
    dir: &RelPath,
    lines: &[Result<String, String>],
    report_subdirs: bool,
    single: bool,
    d: &mut DirListing,
) {
    let lc = &sh.cfg.listing;
    let mut opts = ParseOptions::new(lc.remote_fs, lc.tz.clone(), now());
    opts.report_subdirs = report_subdirs;
    opts.vms_keep_versions = lc.vms_keep_versions;
    let base = if lc.remote_fs == RemoteFs::Vms && dir.is_root() {
        String::new()
    } else {
        dir.to_string()
    };
    let mut parser = ListParser::new(opts, &base);
    let mut out = Vec::new();
    for line in lines {
        match line {
            Ok(t) => out.extend(parser.line(t)),
            Err(lossy) => d.refused.push(ListingProblem {
                path: dir.clone(),
                message: format!(
                    "listing of `{}`: a name that is not UTF-8: {lossy}",
                    show_dir(dir)
                ),
            }),
        }
    }
    out.extend(parser.finish());
    for p in out {
        match p {
            Parsed::Entry(raw) => take(sh, dir, raw, single, d),
            Parsed::Problem { dir: pd, message } => {
                let path = RelPath::new(&pd).unwrap_or_else(|_| dir.clone());
                d.problems.push(ListingProblem { path, message });
            }
            // mirror.pl printed these and moved on; so do we (they are not entries).
            Parsed::Unmatched(_) => {}
        }
    }
}

/// Parses `MLSD` lines of `dir` into `d`.
fn parse_mlsd(sh: &Shared, dir: &RelPath, lines: &[Result<String, String>], d: &mut DirListing) {
    for line in lines {
        let t = match line {
            Ok(t) => t,
            Err(lossy) => {
                d.refused.push(ListingProblem {
                    path: dir.clone(),
                    message: format!(
                        "listing of `{}`: a name that is not UTF-8: {lossy}",
                        show_dir(dir)
                    ),
                });
                continue;
            }
        };
        let Some(mut raw) = parse_mlsd_line(t) else {
            continue;
        };
        // An MLSD name is one segment: `a/b`, `..`, `/x` are refused, not joined.
        match dir.join(&raw.path) {
            Ok(p) => raw.path = p.to_string(),
            Err(e) => {
                d.refused.push(ListingProblem {
                    path: dir.clone(),
                    message: format!("`{}` in `{}`: {e}", raw.path, show_dir(dir)),
                });
                continue;
            }
        }
        take(sh, dir, raw, true, d);
    }
}

/// Validates one parsed entry and adds it to `d`, or records why it was refused.
fn take(sh: &Shared, dir: &RelPath, mut raw: RawEntry, single: bool, d: &mut DirListing) {
    if let Some(fix) = &sh.cfg.listing.ls_fix {
        raw.path = fix(&raw.path);
    }
    let shown = raw.path.clone();
    let header = raw.is_header();
    let entry = match raw.into_entry() {
        Ok(e) => e,
        Err(e) => {
            d.refused.push(ListingProblem {
                path: dir.clone(),
                message: format!("`{shown}` in `{}`: {e}", show_dir(dir)),
            });
            return;
        }
    };
    if entry.path.is_root() {
        return;
    }
    if single && entry.path.parent().as_ref() != Some(dir) {
        d.refused.push(ListingProblem {
            path: dir.clone(),
            message: format!(
                "the listing of `{}` names `{}`, outside it",
                show_dir(dir),
                entry.path
            ),
        });
        return;
    }
    if let Kind::Symlink(target) = &entry.kind
        && entry.path.resolve_link_target(target).is_none()
    {
        d.refused.push(ListingProblem {
            path: dir.clone(),
            message: format!(
                "symlink `{}` -> `{target}`: the target leaves the tree",
                entry.path
            ),
        });
        return;
    }
    if header {
        d.headers.insert(entry.path.clone());
    }
    d.entries.push(entry);
}

/// True if `path` or a directory above it is ignored (`local_ignore`): a recursive
/// listing brings entries below an ignored directory that must not be shown either.
fn ignored(opts: &WalkOptions, path: &RelPath) -> bool {
    opts.ignore
        .as_ref()
        .is_some_and(|ign| ign(path) || path.ancestors().any(|a| !a.is_root() && ign(&a)))
}

fn show_dir(dir: &RelPath) -> &str {
    if dir.is_root() { "." } else { dir.as_str() }
}

/// A whole-tree listing file (`ls_lR_file`, `local_ls_lR_file`): nothing can be listed
/// again, so a directory named by a `d` line but without a header of its own is marked
/// incomplete (its contents are unknown; nothing under it is deleted).
fn whole_tree_file(
    sh: &Shared,
    text: &str,
    opts: &WalkOptions,
    store: &Store,
    listing: &mut Listing,
) {
    let root = RelPath::root();
    let lines: Vec<Result<String, String>> = text.lines().map(|l| Ok(l.to_owned())).collect();
    save(store, &root, &lines);
    let unix = sh.cfg.listing.remote_fs == RemoteFs::Unix;
    let mut d = DirListing::default();
    parse_into(sh, &root, &lines, !unix, false, &mut d);
    let mut listed = d.headers.clone();
    listed.insert(root);
    let mut seen_dirs = Vec::new();
    for e in d.entries {
        if ignored(opts, &e.path) {
            continue;
        }
        if !opts.recursive && e.path.parent().is_some_and(|p| !p.is_root()) {
            continue;
        }
        if unix && e.kind.is_dir() {
            seen_dirs.push(e.path.clone());
        }
        listing.entries.push(e);
    }
    if opts.recursive {
        for dir in seen_dirs {
            if !listed.contains(&dir) {
                listing.incomplete.push(ListingProblem {
                    message: format!("the listing file has no `{dir}:` section"),
                    path: dir,
                });
            }
        }
    }
    listing.refused.extend(d.refused);
    listing.incomplete.extend(d.problems);
}

/// Uncompresses a listing file by its name: `.gz` in process, `.Z`/`.z` with `gzip -dc`
/// (run directly, never through a shell).
async fn decompress(name: &str, bytes: Vec<u8>) -> Result<String, String> {
    let name = name.to_owned();
    let raw = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        use std::io::Read;
        if name.ends_with(".gz") {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut out)
                .map_err(|e| format!("not a gzip file: {e}"))?;
            Ok(out)
        } else if name.ends_with(".Z") || name.ends_with(".z") {
            let mut child = std::process::Command::new("gzip")
                .arg("-dc")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run gzip -dc: {e}"))?;
            let mut stdin = child.stdin.take().ok_or("no stdin for gzip")?;
            let writer = std::thread::spawn(move || stdin.write_all(&bytes));
            let out = child
                .wait_with_output()
                .map_err(|e| format!("gzip -dc failed: {e}"))?;
            let _ = writer.join();
            if !out.status.success() {
                return Err(format!(
                    "gzip -dc failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            Ok(out.stdout)
        } else {
            Ok(bytes)
        }
    })
    .await
    .map_err(|e| e.to_string())??;
    Ok(String::from_utf8_lossy(&raw).into_owned())
}
