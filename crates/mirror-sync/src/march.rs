//! The march: a lockstep walk of two listings sorted by path (rclone's `fs/march`), pairing
//! each path with its counterpart on the other side in one linear pass, without building
//! a map of either tree.

use std::cmp::Ordering;

use mirror_remote::Entry;

/// One step of the march: indices into the source and destination listings. At least one
/// side is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// The source entry at this path, if any.
    pub src: Option<usize>,
    /// The destination entry at this path, if any.
    pub dst: Option<usize>,
}

/// Walks two listings, each sorted by path without duplicates (as
/// [`mirror_remote::Listing::normalize`] leaves them), in lockstep.
pub fn march<'a>(src: &'a [Entry], dst: &'a [Entry]) -> impl Iterator<Item = Pair> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let pair = match (src.get(i), dst.get(j)) {
            (None, None) => return None,
            (Some(_), None) => Pair {
                src: Some(i),
                dst: None,
            },
            (None, Some(_)) => Pair {
                src: None,
                dst: Some(j),
            },
            (Some(s), Some(d)) => match s.path.cmp(&d.path) {
                Ordering::Less => Pair {
                    src: Some(i),
                    dst: None,
                },
                Ordering::Greater => Pair {
                    src: None,
                    dst: Some(j),
                },
                Ordering::Equal => Pair {
                    src: Some(i),
                    dst: Some(j),
                },
            },
        };
        i += usize::from(pair.src.is_some());
        j += usize::from(pair.dst.is_some());
        Some(pair)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirror_remote::RelPath;

    fn entries(paths: &[&str]) -> Vec<Entry> {
        paths
            .iter()
            .map(|p| Entry::file(RelPath::new(p).unwrap(), 0, 0))
            .collect()
    }

    #[test]
    fn pairs_equal_paths_and_keeps_order() {
        let src = entries(&["a", "a-b", "a/x", "c"]);
        let dst = entries(&["a", "a/x", "b", "c", "d"]);
        let got: Vec<(Option<usize>, Option<usize>)> =
            march(&src, &dst).map(|p| (p.src, p.dst)).collect();
        assert_eq!(
            got,
            [
                (Some(0), Some(0)),
                (Some(1), None),
                (Some(2), Some(1)),
                (None, Some(2)),
                (Some(3), Some(3)),
                (None, Some(4)),
            ]
        );
    }

    #[test]
    fn empty_sides() {
        let one = entries(&["x"]);
        assert_eq!(march(&[], &[]).count(), 0);
        assert_eq!(
            march(&one, &[]).next(),
            Some(Pair {
                src: Some(0),
                dst: None
            })
        );
        assert_eq!(
            march(&[], &one).next(),
            Some(Pair {
                src: None,
                dst: Some(0)
            })
        );
    }
}
