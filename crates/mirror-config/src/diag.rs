//! Diagnostics: errors and warnings about packages files, each pointing at the file, line and
//! column it is about and rendered like rustc's messages, so an operator sees the offending line
//! without opening the file.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// The file name used in spans of values given on the command line (`-k key=value`, `-s`...).
pub const COMMAND_LINE: &str = "<command line>";

/// A place in a packages file: the whole source line plus the 1-based line and column of the
/// text a diagnostic is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file (or `<command line>`, `<stdin>`, or the name given to [`crate::parse_str`]).
    pub file: Arc<Path>,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters (a tab is one column, as in rustc).
    pub column: usize,
    /// How many characters from `column` on the diagnostic underlines (at least 1 is shown).
    pub len: usize,
    /// The whole source line, without its line ending.
    pub text: String,
}

impl Span {
    /// A span over `len` characters starting at 1-based `column` of line `line` of `file`.
    pub fn new(file: Arc<Path>, line: usize, column: usize, len: usize, text: String) -> Span {
        Span {
            file,
            line,
            column,
            len,
            text,
        }
    }

    /// A span for a value given on the command line; `text` is shown as the source line
    /// (e.g. `do_deletes=true`) and the whole of it is underlined.
    pub fn command_line(text: &str) -> Span {
        Span {
            file: Arc::from(Path::new(COMMAND_LINE)),
            line: 1,
            column: 1,
            len: text.chars().count(),
            text: text.to_owned(),
        }
    }

    /// The same line, underlining `len` characters from 1-based `column` instead.
    pub fn with_range(&self, column: usize, len: usize) -> Span {
        Span {
            column,
            len,
            ..self.clone()
        }
    }

    /// True if this span is about a command-line value rather than a file.
    pub fn is_command_line(&self) -> bool {
        self.file.as_os_str() == COMMAND_LINE
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The run (or the package) cannot go on.
    Error,
    /// Something is probably not what the author meant, but it is accepted.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// An error or warning about a packages file, a value, or a command-line override.
///
/// `Display` renders it like rustc:
///
/// ```text
/// error: unknown keyword `get_pat`
///  --> pkgs/gnu:12:5
///    |
/// 12 |     get_pat=\.tar\.gz$
///    |     ^^^^^^^
///    = help: did you mean `get_patt`?
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub message: String,
    /// Where, when it comes from a file or the command line.
    pub span: Option<Span>,
    /// A hint on how to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error about `span`.
    pub fn error(message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            help: None,
        }
    }

    /// A warning about `span`.
    pub fn warning(message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            message: message.into(),
            span,
            help: None,
        }
    }

    /// The same diagnostic with a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Tabs are shown as this many spaces so the carets line up whatever the terminal's tab stops.
const TAB_WIDTH: usize = 4;

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.message)?;
        let width = self.span.as_ref().map_or(1, |s| s.line.to_string().len());
        let pad = " ".repeat(width);
        if let Some(span) = &self.span {
            // rustc indents the arrow by the gutter width; we keep one column less (at least
            // one), which is the layout the project's documentation shows.
            let arrow_pad = " ".repeat(width.saturating_sub(1).max(1));
            write!(
                f,
                "\n{arrow_pad}--> {}:{}:{}",
                span.file.display(),
                span.line,
                span.column
            )?;
            let (shown, caret_at, caret_len) = layout(span);
            write!(f, "\n{pad} |")?;
            if shown.is_empty() {
                write!(f, "\n{} |", span.line)?;
            } else {
                write!(f, "\n{} | {shown}", span.line)?;
            }
            write!(
                f,
                "\n{pad} | {}{}",
                " ".repeat(caret_at),
                "^".repeat(caret_len)
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

/// The source line as shown (tabs expanded), and where the carets go in it.
fn layout(span: &Span) -> (String, usize, usize) {
    let mut shown = String::new();
    let mut caret_at = None;
    let mut caret_end = None;
    let first = span.column.max(1) - 1;
    let last = first + span.len.max(1);
    let mut n = 0;
    for (i, c) in span.text.chars().enumerate() {
        if i == first {
            caret_at = Some(n);
        }
        if i == last {
            caret_end = Some(n);
        }
        if c == '\t' {
            shown.push_str(&" ".repeat(TAB_WIDTH));
            n += TAB_WIDTH;
        } else {
            shown.push(c);
            n += 1;
        }
    }
    // A span may point just past the end of the line (an empty value).
    let caret_at = caret_at.unwrap_or(n + first.saturating_sub(span.text.chars().count()));
    let caret_end = caret_end.unwrap_or(n.max(caret_at + 1));
    (
        shown.trim_end().to_owned(),
        caret_at,
        caret_end.saturating_sub(caret_at).max(1),
    )
}

/// The keyword (from `candidates`) closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        // Keywords are case-sensitive, so `Site` is an error; a case slip is the best guess.
        let d = if cand.to_ascii_lowercase() == lower {
            0
        } else {
            distance(word, cand)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(line: usize, col: usize, len: usize, text: &str) -> Span {
        Span::new(
            Arc::from(Path::new("pkgs/gnu")),
            line,
            col,
            len,
            text.into(),
        )
    }

    #[test]
    fn renders_like_rustc() {
        let d = Diagnostic::error(
            "unknown keyword `get_pat`",
            Some(span(12, 5, 7, "    get_pat=\\.tar\\.gz$")),
        )
        .with_help("did you mean `get_patt`?");
        assert_eq!(
            d.to_string(),
            "error: unknown keyword `get_pat`\n --> pkgs/gnu:12:5\n   |\n12 |     get_pat=\\.tar\\.gz$\n   |     ^^^^^^^\n   = help: did you mean `get_patt`?"
        );
    }

    #[test]
    fn tabs_are_expanded_and_carets_follow() {
        let d = Diagnostic::warning("w", Some(span(3, 2, 3, "\tabc=1")));
        assert_eq!(
            d.to_string(),
            "warning: w\n --> pkgs/gnu:3:2\n  |\n3 |     abc=1\n  |     ^^^"
        );
    }

    #[test]
    fn without_span_only_message_and_help() {
        let d = Diagnostic::error("cannot read `x`", None).with_help("check it");
        assert_eq!(d.to_string(), "error: cannot read `x`\n  = help: check it");
    }

    #[test]
    fn caret_past_end_of_line_for_empty_value() {
        let d = Diagnostic::error("e", Some(span(1, 6, 0, "site=")));
        assert_eq!(
            d.to_string(),
            "error: e\n --> pkgs/gnu:1:6\n  |\n1 | site=\n  |      ^"
        );
    }

    #[test]
    fn did_you_mean_finds_typos_and_case_slips() {
        let kws = ["get_patt", "site", "local_dir", "ls_lR_file"];
        assert_eq!(did_you_mean("get_pat", kws), Some("get_patt"));
        assert_eq!(did_you_mean("Site", kws), Some("site"));
        assert_eq!(did_you_mean("locla_dir", kws), Some("local_dir"));
        assert_eq!(did_you_mean("ls_lr_file", kws), Some("ls_lR_file"));
        assert_eq!(did_you_mean("frobnicate", kws), None);
    }
}
