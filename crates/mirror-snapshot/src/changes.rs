//! The change report: the files of a build against the previous complete snapshot, as new,
//! changed, unchanged and removed. Hard links of one file are unchanged without reading
//! them (most files of a build are links to the previous one); files of equal size are
//! compared byte for byte.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read};
use std::path::Path;

use serde::Serialize;

use crate::build::same_file;
use crate::paths::TreeIndex;

/// Files by what happened to them since the previous snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChangeReport {
    /// The previous snapshot's name (none: every file is new).
    pub previous: Option<String>,
    /// Files that are new.
    pub new: Vec<String>,
    /// Files whose content changed.
    pub changed: Vec<String>,
    /// Files unchanged.
    pub unchanged: Vec<String>,
    /// Files no longer there.
    pub removed: Vec<String>,
}

impl ChangeReport {
    /// True when nothing is new, changed or removed.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }

    /// The report as text: counts, then each new, changed and removed file.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "changes since {}: {} new, {} changed, {} unchanged, {} removed",
            self.previous.as_deref().unwrap_or("nothing"),
            self.new.len(),
            self.changed.len(),
            self.unchanged.len(),
            self.removed.len()
        );
        for (mark, list) in [("+", &self.new), ("~", &self.changed), ("-", &self.removed)] {
            for p in list {
                let _ = writeln!(s, "{mark} {p}");
            }
        }
        s
    }
}

fn same_content(a: &Path, b: &Path) -> io::Result<bool> {
    let (ma, mb) = (fs::symlink_metadata(a)?, fs::symlink_metadata(b)?);
    if same_file(&ma, &mb) {
        return Ok(true);
    }
    if ma.file_type().is_symlink() || mb.file_type().is_symlink() {
        return Ok(ma.file_type().is_symlink()
            && mb.file_type().is_symlink()
            && fs::read_link(a)? == fs::read_link(b)?);
    }
    if ma.len() != mb.len() {
        return Ok(false);
    }
    let (mut fa, mut fb) = (fs::File::open(a)?, fs::File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

/// Compares the tree at `root` (indexed as `tree`) with the previous snapshot's `previous`
/// (its name and root).
pub fn compare(
    root: &Path,
    tree: &TreeIndex,
    previous: Option<(&str, &Path)>,
) -> io::Result<ChangeReport> {
    let mut r = ChangeReport {
        previous: previous.map(|(n, _)| n.to_owned()),
        ..ChangeReport::default()
    };
    let mut files: Vec<&String> = tree.files.iter().collect();
    files.sort();
    let Some((_, prev_root)) = previous else {
        r.new = files.into_iter().cloned().collect();
        return Ok(r);
    };
    let prev = TreeIndex::scan(prev_root)?;
    for p in files {
        if !prev.is_file(p) {
            r.new.push(p.clone());
        } else if same_content(&root.join(p), &prev_root.join(p))? {
            r.unchanged.push(p.clone());
        } else {
            r.changed.push(p.clone());
        }
    }
    r.removed = prev
        .files
        .iter()
        .filter(|p| !tree.is_file(p))
        .cloned()
        .collect();
    r.removed.sort();
    Ok(r)
}
