//! The work folder and its builds: `work_dir/<UTC timestamp>/` per build, the
//! `work_dir/current` symlink naming the last complete one (switched atomically by renaming
//! a new symlink over it), a lock so one run at a time works in a work folder, and each
//! build's state folder (`.mirror-snapshot/`) holding its [`Journal`], staging copies and
//! reports. The state folder is never published, verified or compared.
//!
//! The journal is an append-only file of JSON lines. A line is written whole in one
//! `write` call, so after a kill -9 at most the last line is cut short; reading skips it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The state folder inside each build.
pub const STATE_DIR: &str = ".mirror-snapshot";
/// The symlink naming the last complete build.
pub const CURRENT: &str = "current";
const LOCK: &str = ".lock";
/// Marker file in a build's state folder once it became `current`.
const COMPLETE: &str = "complete";

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    /// The build was created; `previous` is the complete build it starts from.
    Begin {
        /// Name of the previous complete build, if any.
        previous: Option<String>,
    },
    /// A stage finished.
    Stage {
        /// `create`, `localize`, `rewrite`, `prune`.
        stage: String,
    },
    /// A file was fetched from `url` into `path`.
    Fetched {
        /// The URL.
        url: String,
        /// The tree path.
        path: String,
        /// Bytes stored.
        size: u64,
    },
    /// A file for `url` was hard-linked from the previous build.
    Linked {
        /// The URL.
        url: String,
        /// The tree path.
        path: String,
    },
    /// Verify ran.
    Verified {
        /// It passed.
        ok: bool,
        /// References to missing files.
        missing: usize,
    },
    /// The build became `current`.
    Complete,
}

/// A build's journal, open for appending.
#[derive(Debug)]
pub struct Journal {
    file: File,
}

impl Journal {
    /// Opens (creating) the journal at `path`.
    pub fn open(path: &Path) -> io::Result<Journal> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)?;
        // A line cut short by a crash is ended first, so the next entry is not glued to it.
        let len = file.metadata()?.len();
        if len > 0 {
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8; 1];
            file.seek(SeekFrom::End(-1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
        }
        Ok(Journal { file })
    }

    /// Appends one entry.
    pub fn append(&mut self, e: &Entry) -> io::Result<()> {
        let mut line = serde_json::to_string(e).map_err(io::Error::other)?;
        line.push('\n');
        // One write per line: a crash leaves at most one partial line, at the end.
        self.file.write_all(line.as_bytes())
    }

    /// Makes the entries so far durable (at the end of a stage).
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Every readable entry of the journal at `path` (none if it does not exist).
    pub fn read(path: &Path) -> Vec<Entry> {
        let Ok(f) = File::open(path) else {
            return Vec::new();
        };
        io::BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str(&l).ok())
            .collect()
    }
}

/// One build folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// Its name (the UTC timestamp it was started at).
    pub name: String,
    /// The folder: the snapshot's root.
    pub dir: PathBuf,
}

impl Build {
    /// The state folder.
    pub fn state(&self) -> PathBuf {
        self.dir.join(STATE_DIR)
    }

    /// The journal's path.
    pub fn journal_path(&self) -> PathBuf {
        self.state().join("journal")
    }

    /// The journal's entries.
    pub fn entries(&self) -> Vec<Entry> {
        Journal::read(&self.journal_path())
    }

    /// Opens the journal for appending.
    pub fn journal(&self) -> io::Result<Journal> {
        Journal::open(&self.journal_path())
    }

    /// True once the build became `current`. A marker file answers without reading the
    /// journal, which holds a line per fetched file.
    pub fn is_complete(&self) -> bool {
        self.state().join(COMPLETE).exists() || self.entries().contains(&Entry::Complete)
    }

    /// True if stage `stage` finished.
    pub fn stage_done(&self, stage: &str) -> bool {
        self.entries()
            .iter()
            .any(|e| matches!(e, Entry::Stage { stage: s } if s == stage))
    }

    /// The previous complete build named when this one began.
    pub fn previous_name(&self) -> Option<String> {
        self.entries().into_iter().find_map(|e| match e {
            Entry::Begin { previous } => previous,
            _ => None,
        })
    }

    /// The last verify result, if verify ran.
    pub fn verified(&self) -> Option<(bool, usize)> {
        self.entries().into_iter().rev().find_map(|e| match e {
            Entry::Verified { ok, missing } => Some((ok, missing)),
            _ => None,
        })
    }
}

/// Why the work folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkDirError {
    /// Another run holds the lock.
    #[error("another snapshot run is working in {0}")]
    Busy(PathBuf),
    /// The file system said no.
    #[error("{0}: {1}")]
    Io(PathBuf, io::Error),
}

/// The work folder, locked for this run.
#[derive(Debug)]
pub struct WorkDir {
    /// Its path.
    pub root: PathBuf,
    _lock: File,
}

/// True for names of build folders: `YYYYMMDDTHHMMSSZ`, maybe with `-N`.
fn is_build_name(n: &str) -> bool {
    let (base, suffix) = match n.split_once('-') {
        Some((b, s)) => (b, Some(s)),
        None => (n, None),
    };
    let b = base.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
        && suffix.is_none_or(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
}

/// Sort key: timestamp, then the `-N` suffix as a number.
fn build_key(n: &str) -> (String, u64) {
    match n.split_once('-') {
        Some((b, s)) => (b.to_owned(), s.parse().unwrap_or(0)),
        None => (n.to_owned(), 0),
    }
}

impl WorkDir {
    /// Opens (creating) the work folder and takes its lock; fails at once when another run
    /// holds it. The lock dies with the process.
    pub fn open(root: &Path) -> Result<WorkDir, WorkDirError> {
        let io = |e| WorkDirError::Io(root.to_path_buf(), e);
        fs::create_dir_all(root).map_err(io)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join(LOCK))
            .map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(WorkDirError::Busy(root.into())),
            Err(fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        Ok(WorkDir {
            root: root.to_path_buf(),
            _lock: lock,
        })
    }

    fn build(&self, name: &str) -> Build {
        Build {
            name: name.to_owned(),
            dir: self.root.join(name),
        }
    }

    /// Every build folder, oldest first.
    pub fn builds(&self) -> Vec<Build> {
        let mut names: Vec<String> = fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|d| d.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|d| d.file_name().into_string().ok())
            .filter(|n| is_build_name(n))
            .collect();
        names.sort_by_key(|n| build_key(n));
        names.iter().map(|n| self.build(n)).collect()
    }

    /// The build `current` names.
    pub fn current(&self) -> Option<Build> {
        let target = fs::read_link(self.root.join(CURRENT)).ok()?;
        let name = target.file_name()?.to_str()?.to_owned();
        let b = self.build(&name);
        b.dir.is_dir().then_some(b)
    }

    /// The newest build that is not complete and is newer than `current`: the one an
    /// interrupted run left, to be continued.
    pub fn pending(&self) -> Option<Build> {
        let current = self.current().map(|c| build_key(&c.name));
        self.builds()
            .into_iter()
            .rev()
            .take_while(|b| current.as_ref().is_none_or(|c| build_key(&b.name) > *c))
            .find(|b| !b.is_complete())
    }

    /// Starts a new build named after the current UTC time.
    pub fn new_build(&self) -> Result<Build, WorkDirError> {
        let stamp = jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        let mut name = stamp.clone();
        let mut n = 1;
        while self.root.join(&name).exists() {
            n += 1;
            name = format!("{stamp}-{n}");
        }
        let b = self.build(&name);
        let io = |e| WorkDirError::Io(b.dir.clone(), e);
        fs::create_dir_all(b.state()).map_err(io)?;
        let previous = self.current().map(|c| c.name);
        let mut j = b.journal().map_err(io)?;
        j.append(&Entry::Begin { previous }).map_err(io)?;
        j.sync().map_err(io)?;
        Ok(b)
    }

    /// Makes `b` the current build: a new symlink renamed over `current`, so readers see the
    /// old build or the new one, never neither.
    pub fn switch_current(&self, b: &Build) -> io::Result<()> {
        let tmp = self.root.join(format!(".{CURRENT}.new"));
        let _ = fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&b.name, &tmp)?;
        fs::rename(&tmp, self.root.join(CURRENT))?;
        File::open(&self.root)?.sync_all()?;
        let mut j = b.journal()?;
        j.append(&Entry::Complete)?;
        j.sync()?;
        File::create(b.state().join(COMPLETE)).map(drop)
    }

    /// Removes complete builds beyond the newest `keep`, and incomplete builds older than
    /// the current one (abandoned runs). Returns the names removed.
    pub fn prune_builds(&self, keep: usize) -> io::Result<Vec<String>> {
        let current = self.current();
        let cur_key = current.as_ref().map(|c| build_key(&c.name));
        let builds = self.builds();
        let mut complete_seen = 0;
        let mut removed = Vec::new();
        for b in builds.iter().rev() {
            if current.as_ref().is_some_and(|c| c.name == b.name) {
                complete_seen += 1;
                continue;
            }
            let older = cur_key.as_ref().is_some_and(|c| build_key(&b.name) < *c);
            let remove = if b.is_complete() {
                complete_seen += 1;
                complete_seen > keep
            } else {
                older
            };
            if remove {
                fs::remove_dir_all(&b.dir)?;
                removed.push(b.name.clone());
            }
        }
        removed.reverse();
        Ok(removed)
    }
}

/// Hard-links `src` to `dst` (replacing `dst`), falling back to a copy that keeps the
/// modification time when the file system cannot link.
pub fn link_or_copy(src: &Path, dst: &Path) -> io::Result<()> {
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dst.with_file_name(crate::paths::temp_name(&name));
    let _ = fs::remove_file(&tmp);
    if fs::hard_link(src, &tmp).is_err() {
        fs::copy(src, &tmp)?;
        let md = fs::metadata(src)?;
        filetime::set_file_mtime(&tmp, filetime::FileTime::from_last_modification_time(&md))?;
    }
    fs::rename(&tmp, dst)
}

/// True if `a` and `b` are the same file (hard links of one inode).
pub fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_names() {
        assert!(is_build_name("20261121T120000Z"));
        assert!(is_build_name("20261121T120000Z-2"));
        assert!(!is_build_name("current"));
        assert!(!is_build_name("20261121T120000Z-"));
        let mut v = vec![
            "20261121T120000Z-10",
            "20261121T120000Z-2",
            "20261121T120000Z",
        ];
        v.sort_by_key(|n| build_key(n));
        assert_eq!(
            v,
            [
                "20261121T120000Z",
                "20261121T120000Z-2",
                "20261121T120000Z-10"
            ]
        );
    }

    #[test]
    fn builds_switch_and_prune() {
        let tmp = tempfile::tempdir().unwrap();
        let w = WorkDir::open(tmp.path()).unwrap();
        assert!(matches!(
            WorkDir::open(tmp.path()),
            Err(WorkDirError::Busy(_))
        ));
        let a = w.new_build().unwrap();
        assert_eq!(w.pending(), Some(a.clone()));
        w.switch_current(&a).unwrap();
        assert_eq!(w.current(), Some(a.clone()));
        assert_eq!(w.pending(), None);
        let b = w.new_build().unwrap();
        assert_eq!(b.previous_name(), Some(a.name.clone()));
        w.switch_current(&b).unwrap();
        let c = w.new_build().unwrap();
        w.switch_current(&c).unwrap();
        let removed = w.prune_builds(2).unwrap();
        assert_eq!(removed, vec![a.name.clone()]);
        assert_eq!(w.builds().len(), 2);
    }

    #[test]
    fn journal_survives_a_torn_last_line() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("j");
        let mut j = Journal::open(&p).unwrap();
        j.append(&Entry::Complete).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"{\"event\":\"fetch")
            .unwrap();
        assert_eq!(Journal::read(&p), vec![Entry::Complete]);
        let mut j = Journal::open(&p).unwrap();
        j.append(&Entry::Complete).unwrap();
        assert_eq!(Journal::read(&p), vec![Entry::Complete, Entry::Complete]);
    }
}
