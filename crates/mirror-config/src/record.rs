//! Records: the stream of `keyword=value` entries from every file, cut into packages (spec
//! §1.1, §1.3, §1.4). A [`Record`] holds the raw text of each keyword with the span it came
//! from; [`Record::to_package`] interprets it.
//!
//! The stream rules: a `package` line starts a record; keyword lines before the very first
//! `package` line belong to the first record; a record runs on across file boundaries until the
//! next `package` line; a record named exactly `defaults` replaces the defaults every later
//! record starts from (command-line overrides never touch it).

use std::collections::BTreeMap;
use std::fmt;

use crate::diag::{Diagnostic, Span};
use crate::keywords::{self, KeywordClass, KeywordInfo};
use crate::lexer::{Entry, Op};

/// The record number used for values given on the command line: later than any record.
pub(crate) const COMMAND_LINE_RECORD: u64 = u64::MAX;

/// The raw text of one keyword and where it came from.
#[derive(Clone, Debug)]
pub(crate) struct RawValue {
    /// The text, verbatim (after `+` appends).
    pub text: String,
    /// Where the value (its last `=` or `+` line) was written.
    pub span: Option<Span>,
    /// Number of the record (in stream order, from 1) whose line set it last; used for the
    /// `compress_prog`/`compress_suffix` rule. [`COMMAND_LINE_RECORD`] for overrides.
    pub record: u64,
    /// `text` was appended onto a default computed from the machine (see
    /// [`KeywordInfo::builtin_text`]), which [`Record::to_package`] puts in front of it.
    pub onto_builtin: bool,
    /// Loading already reported the warnings about this value (so that a defaults line
    /// inherited by a hundred packages warns once).
    pub checked: bool,
}

/// One package record: its name and the raw value of every keyword set for it, in its own
/// lines or in the `defaults` records before it. Keywords never set have their built-in
/// default. `Debug` hides passwords.
#[derive(Clone)]
pub struct Record {
    /// The package name (the `package` value, verbatim).
    pub name: String,
    /// The `package=` line that started the record.
    pub span: Option<Span>,
    pub(crate) values: BTreeMap<&'static str, RawValue>,
}

impl Record {
    /// A record named `name` with nothing set: every keyword has its built-in default.
    pub fn new(name: &str) -> Record {
        let mut r = Record {
            name: String::new(),
            span: None,
            values: BTreeMap::new(),
        };
        r.set("package", name.to_owned(), None);
        r
    }

    /// The raw text of `key` if it was set (in this record or an earlier `defaults` record, or
    /// by an override); `None` means the built-in default applies. For a `+` onto a default
    /// computed from the machine (`hostname`, `remote_password`, `proxy_gateway`,
    /// `mail_prog`) this is only the appended text.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(|v| v.text.as_str())
    }

    /// Where `key` was last set, if it was set in a file or on the command line.
    pub fn span_of(&self, key: &str) -> Option<&Span> {
        self.values.get(key).and_then(|v| v.span.as_ref())
    }

    /// Every keyword set, with its raw text, in alphabetical order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.text.as_str()))
    }

    /// True if this is a `package=defaults` record.
    pub fn is_defaults(&self) -> bool {
        self.name == "defaults"
    }

    /// Sets `key` to `value` (replacing it, as a later `=` line or an override would).
    ///
    /// # Panics
    ///
    /// If `key` is not a keyword; check user input with [`crate::keyword`] or use
    /// [`Record::apply_override`].
    pub fn set(&mut self, key: &str, value: String, span: Option<Span>) {
        let info = keywords::keyword(key).unwrap_or_else(|| panic!("`{key}` is not a keyword"));
        if info.name == "package" {
            self.name.clone_from(&value);
        }
        self.values.insert(
            info.name,
            RawValue {
                text: value,
                span,
                record: COMMAND_LINE_RECORD,
                onto_builtin: false,
                checked: false,
            },
        );
    }

    /// Applies a command-line override (`-k key=value`, and the flags that stand for one, such
    /// as `-r` for `recursive=false`), replacing the record's value. An unknown keyword is an
    /// error with a did-you-mean hint. `package` cannot be overridden.
    pub fn apply_override(&mut self, key: &str, value: &str) -> Result<(), Diagnostic> {
        let text = format!("{key}={value}");
        let span = redact_span(key, Span::command_line(&text), key.chars().count() + 1);
        let Some(info) = keywords::keyword(key) else {
            return Err(unknown_keyword(
                key,
                span.with_range(1, key.chars().count()),
            ));
        };
        if info.name == "package" {
            return Err(Diagnostic::error(
                "`package` cannot be overridden",
                Some(span.with_range(1, key.len())),
            )
            .with_help("use -p NAME to select packages"));
        }
        let value_col = key.chars().count() + 2;
        self.set(
            info.name,
            value.to_owned(),
            Some(span.with_range(value_col, value.chars().count())),
        );
        Ok(())
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: BTreeMap<&str, String> = self
            .values
            .iter()
            .map(|(k, v)| {
                (
                    *k,
                    redact_value(k, &v.text).unwrap_or_else(|| v.text.clone()),
                )
            })
            .collect();
        f.debug_struct("Record")
            .field("name", &self.name)
            .field("span", &self.span)
            .field("values", &values)
            .finish()
    }
}

/// True if `key` is a password-like keyword, or a misspelling of one.
fn is_secret(key: &str) -> bool {
    let secret = |k: &str| keywords::keyword(k).is_some_and(|i| i.class == KeywordClass::Secret);
    secret(key) || keywords::suggest(key).is_some_and(secret)
}

/// `value` as it may be shown for `key`: passwords replaced by `***`, and the password of a
/// site URL masked. `None` when it can be shown as it is.
pub(crate) fn redact_value(key: &str, value: &str) -> Option<String> {
    if is_secret(key) && !value.is_empty() {
        return Some("***".to_owned());
    }
    let masked = crate::site::redact_text(value);
    (masked != value).then_some(masked)
}

/// The source line with the value of a password-like keyword hidden, so that diagnostics never
/// print a password. `value_start` is the 0-based character index where the value begins.
pub(crate) fn redact_line(key: &str, line: &str, value_start: usize) -> Option<String> {
    let prefix: String = line.chars().take(value_start).collect();
    let value: String = line.chars().skip(value_start).collect();
    redact_value(key, &value).map(|v| format!("{prefix}{v}"))
}

/// `span` (on a line where `key`'s value starts at 0-based `value_start`) with the line's
/// password hidden; the underline is shortened if it ran into the hidden part.
pub(crate) fn redact_span(key: &str, span: Span, value_start: usize) -> Span {
    match redact_line(key, &span.text, value_start) {
        None => span,
        Some(text) => {
            let max = text.chars().count() + 1 - span.column.min(text.chars().count() + 1);
            Span {
                len: span.len.min(max.max(1)),
                text,
                ..span
            }
        }
    }
}

/// The "unknown keyword" error, with a suggestion when one is close.
pub(crate) fn unknown_keyword(key: &str, span: Span) -> Diagnostic {
    let d = Diagnostic::error(format!("unknown keyword `{key}`"), Some(span));
    match keywords::suggest(key) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("see the keyword list in the README (`mirror --help` names it)"),
    }
}

/// Classes whose whitespace is not trimmed when read, so leading or trailing whitespace in
/// the file ends up in the value: worth a warning, except in free text.
fn whitespace_matters(info: &KeywordInfo) -> bool {
    // `package` has its own warning.
    let free_text = matches!(
        info.name,
        "package" | "comment" | "skip" | "mail_subject" | "mail_to"
    );
    !free_text
        && matches!(
            info.class,
            KeywordClass::Text
                | KeywordClass::Path
                | KeywordClass::Secret
                | KeywordClass::Regex
                | KeywordClass::RegexCaseless
                | KeywordClass::Template
        )
}

/// Builds records from the entries of every file, in stream order.
#[derive(Default)]
pub(crate) struct Builder {
    defaults: BTreeMap<&'static str, RawValue>,
    current: BTreeMap<&'static str, RawValue>,
    name: Option<String>,
    span: Option<Span>,
    record_no: u64,
    entries_before_package: Option<Span>,
    pub records: Vec<Record>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            record_no: 1,
            ..Builder::default()
        }
    }

    pub fn entry(&mut self, mut e: Entry) {
        let value_start = e.value_span.column - 1;
        e.key_span = redact_span(&e.key, e.key_span, value_start);
        e.value_span = redact_span(&e.key, e.value_span, value_start);
        let Some(info) = keywords::keyword(&e.key) else {
            self.errors.push(unknown_keyword(&e.key, e.key_span));
            return;
        };
        if whitespace_matters(info) && e.value != e.value.trim() {
            let which = if e.value.trim().is_empty() {
                "is only whitespace"
            } else if e.value.starts_with(char::is_whitespace) {
                "starts with whitespace"
            } else {
                "ends with whitespace"
            };
            self.warnings.push(
                Diagnostic::warning(
                    format!(
                        "the value of `{}` {which}, which is part of the value",
                        info.name
                    ),
                    Some(e.value_span.clone()),
                )
                .with_help(if info.class == KeywordClass::Secret {
                    "everything after `=` is the value (as in mirror.pl): remove the whitespace \
                     unless it is meant"
                        .to_owned()
                } else {
                    format!(
                        "everything after `=` is the value (as in mirror.pl): write `{}={}` \
                         unless the whitespace is meant",
                        info.name,
                        e.value.trim()
                    )
                }),
            );
        }
        let (text, onto_builtin) = match e.op {
            Op::Set => (e.value, false),
            Op::Append => match self.current.get(info.name) {
                Some(v) => (format!("{}{}", v.text, e.value), v.onto_builtin),
                None => match info.builtin_text() {
                    Some(b) => (format!("{b}{}", e.value), false),
                    None => (e.value, true),
                },
            },
        };
        let raw = RawValue {
            text,
            span: Some(e.value_span),
            record: self.record_no,
            onto_builtin,
            checked: false,
        };
        if info.name != "package" {
            if self.name.is_none() && self.entries_before_package.is_none() {
                self.entries_before_package.clone_from(&raw.span);
            }
            self.current.insert(info.name, raw);
            return;
        }
        if self.name.as_deref().is_some_and(|n| !n.is_empty()) {
            self.finish();
            self.current = self.defaults.clone();
            self.record_no += 1;
        }
        if raw.text.is_empty() {
            self.errors.push(
                Diagnostic::error("empty package name", Some(e.key_span.clone()))
                    .with_help("every record starts with `package=NAME`"),
            );
        } else if raw.text != raw.text.trim() {
            self.warnings.push(
                Diagnostic::warning(
                    format!(
                        "package name `{}` has whitespace around it, which is part of the name",
                        raw.text
                    ),
                    raw.span.clone(),
                )
                .with_help(if raw.text.trim() == "defaults" {
                    "this is not the `defaults` record: write `package=defaults`".to_owned()
                } else {
                    format!(
                        "-p must repeat it exactly; write `package={}`",
                        raw.text.trim()
                    )
                }),
            );
        }
        self.name = Some(raw.text.clone());
        self.span = Some(e.key_span);
        self.current.insert(
            "package",
            RawValue {
                record: self.record_no,
                ..raw
            },
        );
    }

    /// Ends the current record: a `defaults` record becomes the new defaults, any other is
    /// kept.
    fn finish(&mut self) {
        let Some(name) = self.name.take() else {
            return;
        };
        if name == "defaults" {
            self.defaults = std::mem::take(&mut self.current);
        } else {
            self.records.push(Record {
                name,
                span: self.span.take(),
                values: std::mem::take(&mut self.current),
            });
        }
    }

    /// Ends the stream.
    pub fn end(mut self) -> Builder {
        if self.name.is_some() {
            self.finish();
        } else if let Some(span) = self.entries_before_package.take() {
            self.warnings.push(
                Diagnostic::warning(
                    "keyword lines but no `package=` line: these settings are not used",
                    Some(span),
                )
                .with_help("start each package with `package=NAME`"),
            );
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_and_check_keywords() {
        let mut r = Record::new("x");
        r.apply_override("recursive", "false").unwrap();
        assert_eq!(r.get("recursive"), Some("false"));
        let e = r.apply_override("recursve", "false").unwrap_err();
        assert_eq!(
            e.to_string(),
            "error: unknown keyword `recursve`\n --> <command line>:1:1\n  |\n1 | recursve=false\n  | ^^^^^^^^\n  = help: did you mean `recursive`?"
        );
        assert!(r.apply_override("package", "y").is_err());
        assert_eq!(r.name, "x");
    }

    #[test]
    #[should_panic(expected = "not a keyword")]
    fn set_panics_on_unknown_keywords() {
        Record::new("x").set("nope", String::new(), None);
    }
}
