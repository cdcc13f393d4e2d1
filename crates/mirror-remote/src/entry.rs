//! What a listing says about one path ([`Entry`]), how exact its time is ([`Precision`]),
//! and a whole tree's listing with per-directory completeness ([`Listing`]).

use crate::RelPath;

/// How exact an entry's modification time is. Ordered from finest to coarsest, so the
/// precision to compare two times at is `max(a, b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Exact to the second (local stat, MLSD, MDTM, SFTP, S3).
    Second,
    /// Exact to the minute (`ls -l` for recent files, nginx autoindex).
    Minute,
    /// Only the day is known (`ls -l` for old files: `Mon DD YYYY`), time is midnight.
    Day,
    /// The time is a guess or absent.
    Unknown,
}

impl Precision {
    /// The width of the uncertainty window in seconds (0 for exact seconds).
    pub fn window(self) -> i64 {
        match self {
            Precision::Second => 1,
            Precision::Minute => 60,
            Precision::Day => 86_400,
            Precision::Unknown => i64::MAX,
        }
    }

    /// Truncates `t` (Unix seconds) down to this precision, so two times can be compared at
    /// the coarser of their precisions. `Unknown` leaves the time as it is.
    pub fn truncate(self, t: i64) -> i64 {
        match self {
            Precision::Second | Precision::Unknown => t,
            Precision::Minute => t.div_euclid(60) * 60,
            Precision::Day => t.div_euclid(86_400) * 86_400,
        }
    }
}

/// The type of a listed path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link with its target text exactly as listed (not yet validated).
    Symlink(Box<str>),
    /// Anything else (device, fifo, socket, unparsable type): never transferred.
    Other,
}

impl Kind {
    /// True for [`Kind::Dir`].
    pub fn is_dir(&self) -> bool {
        matches!(self, Kind::Dir)
    }

    /// mirror.pl's one-letter type: `f`, `d`, `l`, `?`.
    pub fn letter(&self) -> char {
        match self {
            Kind::File => 'f',
            Kind::Dir => 'd',
            Kind::Symlink(_) => 'l',
            Kind::Other => '?',
        }
    }
}

/// One path in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where the entry is, relative to the listed tree's root.
    pub path: RelPath,
    /// What it is.
    pub kind: Kind,
    /// Size in bytes; `None` when the listing does not say (some index pages). Directories 0.
    pub size: Option<u64>,
    /// Modification time in Unix seconds (UTC); `None` when unknown.
    pub mtime: Option<i64>,
    /// How exact `mtime` is.
    pub precision: Precision,
    /// Permission bits (`0o7777` mask) when the listing gives them. `u16` because twelve bits
    /// are all there is, and listings are most of a run's memory: every byte of `Entry` is
    /// paid twice per file.
    pub mode: Option<u16>,
}

impl Entry {
    /// A regular file with an exact time.
    pub fn file(path: RelPath, size: u64, mtime: i64) -> Self {
        Entry {
            path,
            kind: Kind::File,
            size: Some(size),
            mtime: Some(mtime),
            precision: Precision::Second,
            mode: None,
        }
    }

    /// A directory.
    pub fn dir(path: RelPath, mtime: Option<i64>) -> Self {
        Entry {
            path,
            kind: Kind::Dir,
            size: Some(0),
            mtime,
            precision: Precision::Second,
            mode: None,
        }
    }

    /// A symbolic link.
    pub fn symlink(path: RelPath, target: &str, mtime: Option<i64>) -> Self {
        Entry {
            path,
            kind: Kind::Symlink(Box::from(target)),
            size: Some(target.len() as u64),
            mtime,
            precision: Precision::Second,
            mode: None,
        }
    }
}

/// A problem met while listing, kept so the report can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingProblem {
    /// The directory (or entry) concerned.
    pub path: RelPath,
    /// What happened, for the report.
    pub message: String,
}

/// The listing of a whole tree: entries sorted by path, plus the directories whose own
/// listing failed or was cut short. Nothing under an incomplete directory may be deleted,
/// because its absence from `entries` proves nothing.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Every entry found, sorted by `path` (byte order), without duplicates.
    pub entries: Vec<Entry>,
    /// Directories whose contents are not fully known. The root here means the whole tree.
    pub incomplete: Vec<ListingProblem>,
    /// Names the remote offered that were refused (`..`, absolute, NUL, escaping links).
    pub refused: Vec<ListingProblem>,
}

impl Listing {
    /// Sorts entries by path and drops later duplicates of a path. Backends call this once
    /// after collecting, so the engine can walk two listings in lockstep.
    pub fn normalize(&mut self) {
        // Unstable sort: no n/2 scratch buffer (paths are unique in practice, and when a
        // server repeats one, which copy survives does not matter). Listings are the bulk
        // of a run's memory, so the growth slack of the vector is given back too.
        self.entries.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        self.entries.dedup_by(|b, a| a.path == b.path);
        self.entries.shrink_to_fit();
    }

    /// True if every directory was listed completely.
    pub fn is_complete(&self) -> bool {
        self.incomplete.is_empty()
    }

    /// True if `path`'s absence from the listing can be trusted: neither it nor any of its
    /// ancestors is an incomplete directory.
    pub fn is_known(&self, path: &RelPath) -> bool {
        !self.incomplete.iter().any(|p| path.starts_with(&p.path))
    }

    /// Looks an entry up by path (binary search; `entries` must be normalized).
    pub fn get(&self, path: &RelPath) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.path.cmp(path))
            .ok()
            .map(|i| &self.entries[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> RelPath {
        RelPath::new(s).unwrap()
    }

    #[test]
    fn entry_stays_small() {
        // 100,000 files cost two listings of this; see the memory goal in the README.
        assert!(
            std::mem::size_of::<Entry>() <= 80,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }

    #[test]
    fn precision_orders_fine_to_coarse() {
        assert!(Precision::Second < Precision::Minute);
        assert!(Precision::Minute < Precision::Day);
        assert_eq!(Precision::Minute.truncate(3599), 3540);
        assert_eq!(Precision::Day.truncate(86_401), 86_400);
        assert_eq!(Precision::Minute.truncate(-1), -60);
    }

    #[test]
    fn incomplete_dirs_protect_their_subtrees() {
        let mut l = Listing::default();
        l.incomplete.push(ListingProblem {
            path: p("a/b"),
            message: "timeout".into(),
        });
        assert!(!l.is_known(&p("a/b/c")));
        assert!(!l.is_known(&p("a/b")));
        assert!(l.is_known(&p("a/bc")));
        assert!(l.is_known(&p("a")));
    }

    #[test]
    fn normalize_sorts_and_dedups() {
        let mut l = Listing::default();
        l.entries.push(Entry::file(p("b"), 1, 0));
        l.entries.push(Entry::file(p("a"), 2, 0));
        l.entries.push(Entry::file(p("b"), 3, 0));
        l.normalize();
        assert_eq!(l.entries.len(), 2);
        assert_eq!(l.get(&p("b")).unwrap().size, Some(1));
    }
}
