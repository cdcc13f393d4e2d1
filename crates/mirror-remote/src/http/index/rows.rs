//! One pass over an HTML index page: the child links, each with the row it sits in, and the
//! signals that tell which server wrote the page.
//!
//! Every layout here puts an entry's facts *after* its link and before the next entry: the
//! rest of the `<pre>` line (Apache, nginx), the rest of the `<tr>` (Apache's table,
//! lighttpd, Caddy, rclone) or `<li>`. So a row is a child link plus what follows it up to
//! the end of that line or row, or the next child link: its text (for the date and size
//! words) and the few attributes that carry exact values (`data-order`/`data-size` on
//! Caddy's and rclone's size cells, `datetime` on their `<time>`). A second link to the
//! same child right after the first (an icon link, Apache's `IconsAreLinks`) stays in the
//! same row. Interpreting a row is left to the format.

use super::html::{Token, decode_text, tokens};
use super::link::{Child, Dir, Link};

/// At most this much text is kept per row: dates and sizes come first, and a hostile page
/// must not make one row hold the whole page.
const MAX_ROW_TEXT: usize = 512;

/// A child link and what its row says.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) child: Child,
    /// Text after the link, entity-decoded, whitespace runs kept as they were.
    pub(crate) text: String,
    /// The first `data-size` or `data-order` attribute after the link (exact bytes).
    pub(crate) data_size: Option<String>,
    /// The first `<time datetime>` after the link.
    pub(crate) datetime: Option<String>,
}

impl Row {
    /// The row's text split into words (`&nbsp;` counts as a space).
    pub(crate) fn words(&self) -> Vec<&str> {
        self.text
            .split(|c: char| c.is_whitespace())
            .filter(|w| !w.is_empty())
            .collect()
    }
}

/// What the page looks like, for format detection.
#[derive(Debug, Clone, Default)]
pub(crate) struct Signals {
    /// The `<title>` text, trimmed.
    pub(crate) title: String,
    /// Apache's column-sort links (`?C=N;O=D`).
    pub(crate) apache_sort: bool,
    /// A link whose text is Apache's "Parent Directory".
    pub(crate) apache_parent: bool,
    /// A `<pre>`, `<table>`, `<ul>` element anywhere.
    pub(crate) pre: bool,
    pub(crate) table: bool,
    pub(crate) ul: bool,
    /// lighttpd: `<table summary="Directory Listing">` or a `foot` naming lighttpd.
    pub(crate) lighttpd: bool,
    /// Caddy: a link to caddyserver.com.
    pub(crate) caddy: bool,
    /// rclone: its `<size>` element or `?download=zip` links.
    pub(crate) rclone: bool,
}

/// Everything one pass finds.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub(crate) rows: Vec<Row>,
    pub(crate) signals: Signals,
    /// Links refused by the child rule, with the reason.
    pub(crate) refused: Vec<String>,
}

/// Scans a page listing `dir`.
pub(crate) fn scan(page: &str, dir: &Dir) -> Scan {
    let mut out = Scan::default();
    let mut cur: Option<Row> = None;
    // Where text goes: nowhere, the title, the current child link's own text, the row.
    let mut in_title = false;
    let mut in_foot = false;
    // Inside an `<a>`: 1 = the current row's child link, 2 = any other link.
    let mut anchor = 0u8;
    let mut anchor_text = String::new();
    let mut pre_depth = 0usize;
    for tok in tokens(page) {
        match tok {
            Token::Start(tag) => {
                if tag.is("a") {
                    // An `<a>` inside an `<a>` is not allowed: the first one ends here.
                    anchor = 2;
                    anchor_text.clear();
                    let Some(href) = tag.attr("href") else {
                        continue;
                    };
                    if href.starts_with("?C=") {
                        out.signals.apache_sort = true;
                    }
                    if href.contains("caddyserver.com") {
                        out.signals.caddy = true;
                    }
                    if href.ends_with("?download=zip") {
                        out.signals.rclone = true;
                    }
                    match dir.classify(&href) {
                        Link::Child(child) => {
                            let same = cur.as_ref().is_some_and(|r| {
                                r.child.name == child.name && r.child.is_dir == child.is_dir
                            });
                            if !same {
                                out.rows.extend(cur.take());
                                cur = Some(Row {
                                    child,
                                    text: String::new(),
                                    data_size: None,
                                    datetime: None,
                                });
                            }
                            anchor = 1;
                        }
                        Link::Ignored => {}
                        Link::Refused(why) => out.refused.push(why),
                    }
                } else if tag.is("tr") || tag.is("li") {
                    out.rows.extend(cur.take());
                } else if tag.is("pre") {
                    pre_depth += 1;
                    out.signals.pre = true;
                } else if tag.is("table") {
                    out.signals.table = true;
                    if tag
                        .attr("summary")
                        .is_some_and(|s| s.eq_ignore_ascii_case("Directory Listing"))
                    {
                        out.signals.lighttpd = true;
                    }
                } else if tag.is("ul") {
                    out.signals.ul = true;
                } else if tag.is("title") {
                    in_title = true;
                } else if tag.is("div") {
                    in_foot = tag.attr("class").is_some_and(|c| c == "foot");
                } else if tag.is("size") {
                    out.signals.rclone = true;
                } else if let Some(row) = cur.as_mut().filter(|_| anchor == 0) {
                    if row.data_size.is_none() {
                        row.data_size = tag
                            .attr("data-size")
                            .or_else(|| tag.attr("data-order"))
                            .map(|v| v.into_owned());
                    }
                    if row.datetime.is_none() && tag.is("time") {
                        row.datetime = tag.attr("datetime").map(|v| v.into_owned());
                    }
                }
            }
            Token::End(name) => {
                if name.eq_ignore_ascii_case("a") {
                    if anchor_text.trim() == "Parent Directory" {
                        out.signals.apache_parent = true;
                    }
                    anchor = 0;
                } else if name.eq_ignore_ascii_case("tr") || name.eq_ignore_ascii_case("li") {
                    out.rows.extend(cur.take());
                } else if name.eq_ignore_ascii_case("pre") {
                    pre_depth = pre_depth.saturating_sub(1);
                    out.rows.extend(cur.take());
                } else if name.eq_ignore_ascii_case("title") {
                    in_title = false;
                } else if name.eq_ignore_ascii_case("div") {
                    in_foot = false;
                }
            }
            Token::Text(raw) => {
                let text = decode_text(raw);
                if in_title && out.signals.title.len() < MAX_ROW_TEXT {
                    out.signals.title.push_str(&text);
                }
                if in_foot && text.contains("lighttpd") {
                    out.signals.lighttpd = true;
                }
                if anchor != 0 {
                    if anchor_text.len() < 64 {
                        anchor_text.push_str(&text);
                    }
                    continue;
                }
                let Some(row) = cur.as_mut() else {
                    continue;
                };
                // In a `<pre>` a row is one line.
                let (line, ends) = match text.find('\n') {
                    Some(k) if pre_depth > 0 => (&text[..k], true),
                    _ => (&text[..], false),
                };
                if row.text.len() < MAX_ROW_TEXT {
                    let room = MAX_ROW_TEXT - row.text.len();
                    let mut take = line.len().min(room);
                    while !line.is_char_boundary(take) {
                        take -= 1;
                    }
                    row.text.push_str(&line[..take]);
                    // Cells are separated by tags, not always by spaces: keep words apart.
                    row.text.push(' ');
                }
                if ends {
                    out.rows.extend(cur.take());
                }
            }
        }
    }
    out.rows.extend(cur);
    out.signals.title = out.signals.title.trim().to_owned();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use url::Url;

    fn scan_at(page: &str) -> Scan {
        scan(page, &Dir::new(&Url::parse("http://h/d/").unwrap()))
    }

    #[test]
    fn pre_rows_end_at_the_line() {
        let s = scan_at(
            "<pre><a href=\"../\">../</a>\n<a href=\"a\">a</a>  02-Jan-2024 03:04   4\n<a href=\"b/\">b/</a> x\n</pre>",
        );
        let rows: Vec<_> = s
            .rows
            .iter()
            .map(|r| (r.child.name.as_str(), r.words()))
            .collect();
        assert_eq!(
            rows,
            vec![("a", vec!["02-Jan-2024", "03:04", "4"]), ("b", vec!["x"])]
        );
        assert!(s.signals.pre);
    }

    #[test]
    fn table_rows_keep_cells_apart_and_collect_attributes() {
        let s = scan_at(
            "<table><tr><td><a href=\"./f\"><span>f</span></a></td><td data-order=\"12\">12&nbsp;B</td>\
             <td><time datetime=\"2024-01-02T03:04:05Z\">x</time></td></tr>\
             <tr><td><a href=\"..\">up</a></td><td data-order=\"-1\"></td></tr></table>",
        );
        assert_eq!(s.rows.len(), 1);
        let r = &s.rows[0];
        assert_eq!(r.child.name, "f");
        assert_eq!(r.data_size.as_deref(), Some("12"));
        assert_eq!(r.datetime.as_deref(), Some("2024-01-02T03:04:05Z"));
        assert_eq!(r.words(), vec!["12", "B", "x"]);
    }

    #[test]
    fn a_repeated_link_stays_in_its_row() {
        let s = scan_at("<pre><a href=\"f\"><img alt=x></a> <a href=\"f\">f</a> 1\n</pre>");
        assert_eq!(s.rows.len(), 1);
        assert_eq!(s.rows[0].words(), vec!["1"]);
    }

    #[test]
    fn row_text_is_bounded() {
        let page = format!("<a href=f>f</a>{}", "x ".repeat(10_000));
        let s = scan_at(&page);
        assert!(s.rows[0].text.len() <= MAX_ROW_TEXT + 1);
    }
}
