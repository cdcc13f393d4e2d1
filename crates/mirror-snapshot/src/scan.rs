//! Reading documents in parallel: [`par_map`] spreads work over the machine's cores (pages
//! are parsed and rewritten on plain threads; the async runtime is kept for the network),
//! and [`scan_document`] runs a [`Collector`] over one file of a tree.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::docs::{Collector, Found, TextRules, prepare, visit};
use crate::paths::TreeIndex;
use crate::recipe::EmbedRule;
use crate::urlmap::UrlMap;

/// `f` over every item, on up to as many threads as there are cores; results in input
/// order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len().max(1));
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    mine.push((i, f(item)));
                }
                out.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
            });
        }
    });
    let mut v = out.into_inner().unwrap_or_else(|e| e.into_inner());
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, r)| r).collect()
}

/// The references of one document.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// The document's tree path.
    pub page: String,
    /// What it references.
    pub found: Vec<Found>,
    /// Local files `[[embed]]` rules would put in place of its players.
    pub embed_files: Vec<String>,
    /// Why it could not be read, if it could not.
    pub error: Option<String>,
}

/// Reads the document at tree path `page` under `root` and collects its references, after
/// the text rules (empty rules: the file as it is), crediting it with the files `embeds`
/// would put in place of its players.
pub fn scan_document(
    root: &Path,
    page: &str,
    map: &UrlMap,
    tree: &TreeIndex,
    rules: &TextRules,
    embeds: &[EmbedRule],
) -> Scanned {
    let mut out = Scanned {
        page: page.to_owned(),
        found: Vec::new(),
        embed_files: Vec::new(),
        error: None,
    };
    let bytes = match std::fs::read(root.join(page)) {
        Ok(b) => b,
        Err(e) => {
            out.error = Some(e.to_string());
            return out;
        }
    };
    let doc = prepare(page, &bytes, rules);
    let mut c = Collector::new(map, tree, page, embeds);
    if let Err(e) = visit(&doc, &mut c) {
        out.error = Some(e.to_string());
    }
    out.found = c.found;
    out.embed_files = c.embed_files;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_order() {
        let v: Vec<u32> = (0..1000).collect();
        let r = par_map(&v, |x| x * 2);
        assert_eq!(r, v.iter().map(|x| x * 2).collect::<Vec<_>>());
        assert!(par_map(&Vec::<u32>::new(), |x| *x).is_empty());
    }
}
