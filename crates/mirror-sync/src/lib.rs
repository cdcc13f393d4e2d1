//! The sync engine of `mirror`: one package run from listing to report.
//!
//! The data flows through the modules in this order, and each module owns one step:
//!
//! ```text
//! connect   Site -> source Remote, local_dir -> destination Remote (roles swap in put mode)
//! run       header, skip checks, lock, the two listings (local scan of spec §4.2)
//! march     lockstep walk of the two sorted listings
//! decide    the one "up to date?" function (spec §4.4, §4.7, §4.9)
//! plan      the Plan value: mkdirs, fetches, deletes, symlinks, set-times, skips
//! gate      the safety gate on deletions (spec §4.8, with the §6.3 arithmetic fixed)
//! execute   bounded-concurrency executor: temp file + size check + mode/mtime + rename
//! transform compress / convert / split of fetched files (spec §2.6, §2.7)
//! report    mirror.pl report lines, update_log, mail, -U upload log, the JSON report
//! lock      one run per package at a time
//! ```
//!
//! The binary calls [`run_package`] once per package and renders what comes back through
//! [`Events`]; this crate never prints.

mod connect;
mod connect_http;
mod decide;
mod events;
mod execute;
mod gate;
mod lock;
mod march;
mod plan;
mod report;
mod rules;
mod run;
mod transform;

pub use connect::{ConnectError, connect, resolve_local_dir};
pub use connect_http::http_config;
pub use decide::{FetchReason, SkipReason, is_newer};
pub use events::{Events, LockMode, NoEvents, Progress, RunOptions};
pub use march::{Pair, march};
pub use plan::{Action, DeletionBlock, Fetch, Occupant, Plan, PlanStats, Transform};
pub use report::{Counts, Failure, PackageReport, PackageStatus};
pub use run::{run_package, run_package_on};
