//! Site snapshots: self-contained offline copies of a website, built from a [`Recipe`]
//! into `work_dir/<UTC timestamp>/`, verified, and published atomically.
//!
//! The stages, each its own module and each safe to run again after an interruption:
//!
//! ```text
//! create    [[copy]] sources -> staging copies (sync runs, seeded with hard links of the
//!           previous snapshot) -> hard links in the build's tree
//! localize  references under [[localize]] prefixes + [[media]] lists -> fetched files
//!           (journal; files of the previous snapshot hard-linked instead of fetched)
//! rewrite   every page and stylesheet: text rules, then references pointed at local copies
//! prune     temporary files, unreferenced files under [prune] globs
//! verify    every reference resolves inside the snapshot or is listed as leaving it
//! publish   work_dir/current switched by rename; old builds removed; sync to `publish`
//! ```
//!
//! The link engine under them: `urlmap` (URL ⇄ snapshot path, where a reference leads),
//! `html` (lol_html walk over every kind of reference), `css` (cssparser, byte-exact
//! `url()`/`@import` splicing), `srcset` (a splitter keeping spans), `charset` (which
//! character set a document is in), `docs` (one document through text rules and a
//! visitor), `paths` (tree index, relative links). `build` owns the work folder, the
//! builds, the lock and the journal; `pipeline` runs the stages for each subcommand;
//! `changes` compares a build with the previous snapshot.
//!
//! Nothing here prints: messages go to a [`mirror_sync::Events`], results come back as a
//! [`RunReport`].

pub mod build;
pub mod changes;
pub mod charset;
pub mod create;
pub mod css;
pub mod docs;
pub mod fetch;
pub mod html;
pub mod localize;
pub mod paths;
pub mod pipeline;
pub mod prune;
pub mod publish;
pub mod recipe;
pub mod rewrite;
pub mod scan;
pub mod srcset;
pub mod urlmap;
pub mod verify;

pub use pipeline::{Command, Error, Options, RunReport, Summary, execute};
pub use recipe::{Recipe, RecipeError};
pub use verify::{VerifyReport, verify_dir};
