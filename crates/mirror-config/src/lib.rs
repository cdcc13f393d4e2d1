//! Reads mirror.pl packages and defaults files (spec §1) into typed [`Package`]s (spec §2).
//!
//! The pipeline: [`load`] reads the defaults file and the packages files as one stream of
//! `keyword=value` lines cut into [`Record`]s, reporting every syntax error before anything
//! runs; the caller applies command-line overrides ([`Loaded::apply_overrides`] or
//! [`Record::apply_override`]); then [`Record::to_package`] interprets each record into a
//! [`Package`], or into the errors that skip that package. The keyword table [`KEYWORDS`] is
//! the one list of names everything uses. Problems are [`Diagnostic`]s that point at the file,
//! line and column and render like rustc's.
//!
//! Modules: `lexer` (physical lines → `key`/op/value with spans), `record` (stream → records,
//! defaults), `keywords` (the table), `value` (booleans, modes, sizes, templates...), `perlre`
//! (Perl regexes on fancy-regex), `subst` (the `s///` mini-language), `resolve` (record →
//! package), `site`, `env`, `load` (files and the defaults search), `diag`.

mod diag;
mod env;
mod keywords;
mod lexer;
mod load;
mod package;
mod perlre;
mod record;
mod resolve;
mod site;
mod subst;
mod value;

pub use diag::{COMMAND_LINE, Diagnostic, Severity, Span};
pub use env::Env;
pub use keywords::{KEYWORDS, KeywordClass, KeywordInfo, Status, keyword};
pub use load::{
    DEFAULTS_FILE_NAME, DefaultsSource, LoadOptions, Loaded, SYSTEM_DEFAULTS_DIR, load, parse_str,
};
pub use package::{DeleteLimit, Package, Pattern, Secret, Subst, Substitutions};
pub use record::Record;
pub use site::{Scheme, Site};

#[cfg(test)]
mod tests;
