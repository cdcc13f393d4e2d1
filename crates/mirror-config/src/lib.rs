//! Reads mirror.pl packages and defaults files (spec §1) into typed [`Package`]s (spec §2).

mod package;
mod site;

pub use package::{DeleteLimit, Package, Pattern, Secret, Subst, Substitutions};
pub use site::{Scheme, Site};
