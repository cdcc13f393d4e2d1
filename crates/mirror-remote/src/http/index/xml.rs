//! nginx's `autoindex_format xml`: `<list><directory mtime="<RFC 3339>">name</directory>
//! <file mtime="..." size="12">name</file></list>`, exact sizes, second-exact times.
//! Read with the same tokenizer as HTML; the name is the element's decoded text.

use super::Draft;
use super::fields::{self, Size};
use super::html::{Token, decode_text, tokens};
use super::link::{Dir, clip};

/// Names longer than this are not file names; stop collecting (bounds memory).
const MAX_NAME: usize = 4096;

/// Reads an nginx XML listing: the entries and the problems.
pub(crate) fn parse(page: &str, dir: &Dir) -> (Vec<Draft>, Vec<String>) {
    let mut drafts = Vec::new();
    let mut problems = Vec::new();
    // The element being read: is it a directory, its attributes, its text so far.
    let mut open: Option<(bool, Option<String>, Option<String>, String)> = None;
    for tok in tokens(page) {
        match tok {
            Token::Start(tag) => {
                let is_dir = if tag.is("directory") {
                    true
                } else if tag.is("file") {
                    false
                } else {
                    if tag.is("other") {
                        problems.push("an entry of type `other` was skipped".to_owned());
                    }
                    open = None;
                    continue;
                };
                let mtime = tag.attr("mtime").map(|v| v.into_owned());
                let size = tag.attr("size").map(|v| v.into_owned());
                open = Some((is_dir, mtime, size, String::new()));
            }
            Token::Text(raw) => {
                if let Some((_, _, _, name)) = open.as_mut()
                    && name.len() < MAX_NAME
                {
                    name.push_str(&decode_text(raw));
                }
            }
            Token::End(end) => {
                let Some((is_dir, mtime, size, name)) = open.take() else {
                    continue;
                };
                let expected = if is_dir { "directory" } else { "file" };
                if !end.eq_ignore_ascii_case(expected) {
                    continue;
                }
                match dir.child_named(&name, is_dir) {
                    Ok(child) => drafts.push(Draft {
                        child,
                        size: size
                            .and_then(|s| s.trim().parse().ok())
                            .map(|bytes| Size { bytes, exact: true }),
                        stamp: mtime.as_deref().and_then(fields::rfc3339),
                    }),
                    Err(why) => problems.push(why),
                }
            }
        }
    }
    if let Some((_, _, _, name)) = open {
        problems.push(format!(
            "XML listing ends inside the entry `{}`",
            clip(&name)
        ));
    }
    (drafts, problems)
}
