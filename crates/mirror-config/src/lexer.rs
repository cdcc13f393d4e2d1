//! The lexer: one packages file's text to `keyword`/operator/value entries with their spans
//! (spec §1.2). It knows nothing about which keywords exist; [`crate::record`] checks that.
//!
//! Differences from mirror.pl, both deliberate (spec §6 item 12): the CR of a CRLF line ending
//! is removed, and a last line without a newline keeps its last character.

use std::path::Path;
use std::sync::Arc;

use crate::diag::{Diagnostic, Span};
use crate::record::redact_span;

/// `=` sets a keyword, `+` appends to its current value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Set,
    Append,
}

/// One logical `keyword=value` line (continuation lines already joined).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: String,
    pub op: Op,
    /// Everything after the operator, verbatim.
    pub value: String,
    /// The keyword's span (the whole first physical line is in `span.text`).
    pub key_span: Span,
    /// Where the value starts on the first physical line, to its end.
    pub value_span: Span,
}

/// What the lexer found in one file.
#[derive(Debug, Default)]
pub(crate) struct Lexed {
    pub entries: Vec<Entry>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Splits `text` into physical lines: no line ending, CR of CRLF removed, and no phantom
/// empty line after a final newline.
fn physical_lines(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

/// Perl's `\s` for our purposes.
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Lexes one file. `file` names it in spans.
pub(crate) fn lex(file: &Arc<Path>, text: &str) -> Lexed {
    let lines = physical_lines(text);
    let mut out = Lexed::default();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let lineno = i + 1;
        i += 1;
        let trimmed = line.trim_start_matches(is_space);
        // Rule 2: whole-line comments and blank lines only; `#` elsewhere is data.
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let span_of =
            |col: usize, len: usize| Span::new(file.clone(), lineno, col, len, line.to_owned());
        let chars: Vec<char> = line.chars().collect();
        let lead = chars.len() - trimmed.chars().count();
        let key_len = chars[lead..]
            .iter()
            .take_while(|&&c| !is_space(c) && c != '=' && c != '+')
            .count();
        let mut j = lead + key_len;
        while j < chars.len() && is_space(chars[j]) {
            j += 1;
        }
        let op = match chars.get(j) {
            Some('=') if key_len > 0 => Op::Set,
            Some('+') if key_len > 0 => Op::Append,
            _ => {
                let text_len = chars.len() - lead;
                // `remote_password secret` must not be printed back.
                let key: String = chars[lead..lead + key_len].iter().collect();
                let span = redact_span(&key, span_of(lead + 1, text_len), j);
                out.errors.push(
                    Diagnostic::error("expected `keyword=value` or `keyword+value`", Some(span))
                        .with_help(
                            "comments must start the line with `#`; mirror.pl skipped this line \
                         with an \"unknown input\" warning",
                        ),
                );
                continue;
            }
        };
        let key: String = chars[lead..lead + key_len].iter().collect();
        let mut value: String = chars[j + 1..].iter().collect();
        let value_col = j + 2;
        let value_len = chars.len() - (j + 1);
        // Rule 6: a value ending in `&` continues on the next line of the same file, whose
        // leading whitespace is dropped. The next line is taken as it is, even if it looks
        // like a comment.
        while value.ends_with('&') {
            if i >= lines.len() {
                let span = redact_span(&key, span_of(chars.len(), 1), j + 1);
                out.warnings.push(
                    Diagnostic::warning(
                        "`&` at the end of the last line of the file is kept as part of the value",
                        Some(span),
                    )
                    .with_help("a value continues only on a following line of the same file"),
                );
                break;
            }
            value.pop();
            value.push_str(lines[i].trim_start_matches(is_space));
            i += 1;
        }
        out.entries.push(Entry {
            key,
            op,
            value,
            key_span: span_of(lead + 1, key_len),
            value_span: span_of(value_col, value_len),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex_str(text: &str) -> Lexed {
        lex(&Arc::from(Path::new("t")), text)
    }

    fn kv(l: &Lexed) -> Vec<(String, Op, String)> {
        l.entries
            .iter()
            .map(|e| (e.key.clone(), e.op, e.value.clone()))
            .collect()
    }

    #[test]
    fn splits_key_operator_value() {
        let l = lex_str("  site = ftp.x.org \n\tlocal_dir+gnu/\n");
        assert_eq!(
            kv(&l),
            vec![
                ("site".into(), Op::Set, " ftp.x.org ".into()),
                ("local_dir".into(), Op::Append, "gnu/".into()),
            ]
        );
        assert_eq!(l.entries[0].key_span.column, 3);
        assert_eq!(l.entries[0].key_span.len, 4);
        assert_eq!(l.entries[0].value_span.column, 9);
        assert_eq!(l.entries[1].key_span.line, 2);
    }

    #[test]
    fn malformed_lines_are_errors_with_the_whole_line() {
        let l = lex_str("package=x\n  site ftp.x.org\n=value\n");
        assert_eq!(l.entries.len(), 1);
        assert_eq!(l.errors.len(), 2);
        let s = l.errors[0].span.as_ref().unwrap();
        assert_eq!((s.line, s.column, s.len), (2, 3, 14));
    }

    #[test]
    fn continuation_at_end_of_file_keeps_the_ampersand() {
        let l = lex_str("comment=a&");
        assert_eq!(kv(&l)[0].2, "a&");
        assert_eq!(l.warnings.len(), 1);
    }

    #[test]
    fn bom_is_ignored() {
        let l = lex_str("\u{feff}package=x\n");
        assert_eq!(kv(&l)[0].0, "package");
    }
}
