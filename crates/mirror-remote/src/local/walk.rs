//! The local scan (mirror.pl §4.2): one blocking breadth-first walk with `read_dir`, turning
//! each directory entry into an [`Entry`].
//!
//! Speed matters here: a no-change run of a 100,000-file tree is this walk plus a compare.
//! `DirEntry::file_type` comes free with `readdir`, and `DirEntry::metadata` is an `lstat`
//! relative to the open directory (no path resolution), so each entry costs one `statx`
//! call and one allocation (its `RelPath`). Paths are only built for the rare symlinks.

use std::collections::VecDeque;
use std::fs::{self, Metadata, ReadDir};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use crate::{
    Entry, Kind, Listing, ListingProblem, PathPredicate, Precision, RelPath, RemoteError,
    WalkOptions,
};

use super::guard::abs_path;

/// A directory waiting to be read.
struct Pending {
    dir: RelPath,
    /// The (device, inode) chain from the root down to `dir`, kept only when symlinks may
    /// be followed: a followed link to one of its own ancestors would loop forever.
    chain: Option<Arc<Chain>>,
}

struct Chain {
    dev: u64,
    ino: u64,
    up: Option<Arc<Chain>>,
}

impl Chain {
    fn contains(self: &Arc<Self>, dev: u64, ino: u64) -> bool {
        let mut at = Some(self);
        while let Some(c) = at {
            if c.dev == dev && c.ino == ino {
                return true;
            }
            at = c.up.as_ref();
        }
        false
    }
}

/// Where one directory's results go. `walk` fills a [`Listing`]; `list` wants entries only
/// and turns the first problem into an error.
struct Sink<'a> {
    entries: &'a mut Vec<Entry>,
    incomplete: &'a mut Vec<ListingProblem>,
    refused: &'a mut Vec<ListingProblem>,
    /// A sorted listing whose paths are reused for equal paths (see `Remote::walk_reusing`).
    known: &'a [Entry],
}

/// Walks the tree under `root` breadth-first. A missing or unreadable root is an error; an
/// unreadable subdirectory is recorded as incomplete and the walk goes on.
pub(super) fn walk(
    root: &Path,
    follow: Option<&PathPredicate>,
    opts: &WalkOptions,
    known: &[Entry],
) -> Result<Listing, RemoteError> {
    let mut listing = Listing::default();
    let root_chain = match follow {
        Some(_) => {
            let md = fs::metadata(root).map_err(|e| scan_error(root, &e))?;
            Some(Arc::new(Chain {
                dev: md.dev(),
                ino: md.ino(),
                up: None,
            }))
        }
        None => None,
    };
    let mut queue = VecDeque::from([Pending {
        dir: RelPath::root(),
        chain: root_chain,
    }]);
    while let Some(pending) = queue.pop_front() {
        let path = abs_path(root, &pending.dir);
        let rd = match fs::read_dir(&path) {
            Ok(rd) => rd,
            Err(e) if pending.dir.is_root() => return Err(scan_error(&path, &e)),
            Err(e) => {
                listing.incomplete.push(problem(&pending.dir, &path, &e));
                continue;
            }
        };
        let mut sink = Sink {
            entries: &mut listing.entries,
            incomplete: &mut listing.incomplete,
            refused: &mut listing.refused,
            known,
        };
        scan_dir(
            &path,
            &pending,
            rd,
            follow,
            opts.ignore.as_deref(),
            &mut sink,
            |p| {
                if opts.recursive {
                    queue.push_back(p);
                }
            },
        );
    }
    listing.normalize();
    Ok(listing)
}

/// Lists one directory: its entries, with the same rules as the walk. Refused names are
/// left out (a `Vec<Entry>` has no place to record them; the walk records them).
pub(super) fn list(
    root: &Path,
    follow: Option<&PathPredicate>,
    dir: &RelPath,
) -> Result<Vec<Entry>, RemoteError> {
    let path = abs_path(root, dir);
    let rd = fs::read_dir(&path).map_err(|e| scan_error(&path, &e))?;
    let (mut entries, mut incomplete, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    let mut sink = Sink {
        entries: &mut entries,
        incomplete: &mut incomplete,
        refused: &mut refused,
        known: &[],
    };
    let pending = Pending {
        dir: dir.clone(),
        chain: None,
    };
    scan_dir(&path, &pending, rd, follow, None, &mut sink, |_| {});
    // `list` has no place for partial results: a directory it could not read fully is an
    // error, so no caller mistakes a short answer for the whole truth.
    if let Some(p) = incomplete.into_iter().next() {
        return Err(RemoteError::new(
            crate::ErrorKind::Other,
            format!("cannot list {}", path.display()),
            p.message,
        ));
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// Reads one directory into `sink`, handing each subdirectory to `queue`.
fn scan_dir(
    path: &Path,
    pending: &Pending,
    rd: ReadDir,
    follow: Option<&PathPredicate>,
    ignore: Option<&PathPredicate>,
    sink: &mut Sink<'_>,
    mut queue: impl FnMut(Pending),
) {
    let dir = &pending.dir;
    for item in rd {
        let de = match item {
            Ok(de) => de,
            Err(e) => {
                // readdir failing mid-way leaves the rest unknown; it does not recover.
                sink.incomplete.push(problem(dir, path, &e));
                break;
            }
        };
        let name = de.file_name();
        let Some(name_str) = name.to_str() else {
            sink.refused.push(ListingProblem {
                path: dir.clone(),
                message: format!(
                    "name {name:?} in {} is not valid UTF-8: skipped",
                    path.display()
                ),
            });
            continue;
        };
        let rel =
            match shared_path(sink.known, dir, name_str).map_or_else(|| dir.join(name_str), Ok) {
                Ok(rel) => rel,
                Err(e) => {
                    sink.refused.push(ListingProblem {
                        path: dir.clone(),
                        message: e.to_string(),
                    });
                    continue;
                }
            };
        if ignore.is_some_and(|ign| ign(&rel)) {
            continue;
        }
        let md = match de.metadata() {
            Ok(md) => md,
            // Deleted between readdir and stat: it is simply not there any more.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                sink.incomplete.push(problem(dir, &de.path(), &e));
                continue;
            }
        };
        let ft = md.file_type();
        if ft.is_symlink() {
            let followed = follow.is_some_and(|f| f(&rel));
            if followed {
                // A dangling followed link falls back to being reported as the link.
                if let Ok(target_md) = fs::metadata(de.path()) {
                    if target_md.is_dir() {
                        let looped = pending
                            .chain
                            .as_ref()
                            .is_some_and(|c| c.contains(target_md.dev(), target_md.ino()));
                        if looped {
                            sink.incomplete.push(ListingProblem {
                                path: rel.clone(),
                                message: format!(
                                    "followed symlink {} leads back to one of its parents: not descended",
                                    de.path().display()
                                ),
                            });
                        } else {
                            queue(Pending {
                                dir: rel.clone(),
                                chain: chain_below(pending, &target_md),
                            });
                        }
                    }
                    sink.entries.push(entry_for(rel, &target_md));
                    continue;
                }
            }
            match fs::read_link(de.path()) {
                Ok(target) => match target.to_str() {
                    Some(t) => {
                        let mut e = entry_for(rel, &md);
                        e.kind = Kind::Symlink(Box::from(t));
                        sink.entries.push(e);
                    }
                    None => sink.refused.push(ListingProblem {
                        path: rel,
                        message: format!("symlink target {target:?} is not valid UTF-8: skipped"),
                    }),
                },
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => sink.incomplete.push(problem(dir, &de.path(), &e)),
            }
            continue;
        }
        if ft.is_dir() {
            queue(Pending {
                dir: rel.clone(),
                chain: chain_below(pending, &md),
            });
        }
        sink.entries.push(entry_for(rel, &md));
    }
}

/// The chain for a subdirectory of `pending` with metadata `md` (only when following).
fn chain_below(pending: &Pending, md: &Metadata) -> Option<Arc<Chain>> {
    let up = pending.chain.as_ref()?;
    Some(Arc::new(Chain {
        dev: md.dev(),
        ino: md.ino(),
        up: Some(up.clone()),
    }))
}

/// An entry from `lstat` (or `stat` for followed links) values.
/// The path `dir/name` taken from `known` (sorted by path) when it is there, sharing its
/// allocation; found without building the string first. A path in `known` is already valid,
/// and `name` came from `readdir`, so it needs no further check.
fn shared_path(known: &[Entry], dir: &RelPath, name: &str) -> Option<RelPath> {
    if known.is_empty() {
        return None;
    }
    let joined = |path: &str| -> std::cmp::Ordering {
        if dir.is_root() {
            return path.cmp(name);
        }
        let d = dir.as_str();
        let n = d.len().min(path.len());
        path.as_bytes()[..n].cmp(&d.as_bytes()[..n]).then_with(|| {
            if path.len() < d.len() {
                return std::cmp::Ordering::Less;
            }
            let rest = &path.as_bytes()[d.len()..];
            match rest.split_first() {
                None => std::cmp::Ordering::Less,
                Some((&b, tail)) => b.cmp(&b'/').then_with(|| tail.cmp(name.as_bytes())),
            }
        })
    };
    known
        .binary_search_by(|e| joined(e.path.as_str()))
        .ok()
        .map(|i| known[i].path.clone())
}

pub(super) fn entry_for(path: RelPath, md: &Metadata) -> Entry {
    let ft = md.file_type();
    let (kind, size) = if ft.is_file() {
        (Kind::File, md.len())
    } else if ft.is_dir() {
        // Listings give directories size 0 (spec §4.3); the engine never compares them.
        (Kind::Dir, 0)
    } else if ft.is_symlink() {
        // The caller fills in the target; lstat's size of a link is its target's length.
        (Kind::Symlink(Box::from("")), md.len())
    } else {
        (Kind::Other, md.len())
    };
    Entry {
        path,
        kind,
        size: Some(size),
        mtime: Some(md.mtime()),
        precision: Precision::Second,
        mode: Some((md.mode() & 0o7777) as u16),
    }
}

fn problem(dir: &RelPath, path: &Path, e: &io::Error) -> ListingProblem {
    ListingProblem {
        path: dir.clone(),
        message: format!("cannot read {}: {e}", path.display()),
    }
}

fn scan_error(path: &Path, e: &io::Error) -> RemoteError {
    RemoteError::io(format!("cannot list {}", path.display()), e)
}
