//! Test-only helpers shared by every crate's tests: fixture trees on disk ([`TreeBuilder`],
//! [`generate`]), tree snapshots with readable diffs ([`snapshot`], [`assert_trees_equal`]),
//! and the [`conformance`] suite every `Remote` backend runs.

pub mod conformance;
pub mod ftp_daemon;
pub mod ftp_script;
pub mod ftp_unftp;
pub mod http_index;
pub mod http_nginx;
pub mod s3_server;
pub mod sftp_sshd;
mod snapshot;
mod tree;

pub use conformance::{
    ConformanceReport, ConformanceTarget, Gaps, check_conformance, run_conformance,
};
pub use snapshot::{
    Compare, Difference, Node, NodeKind, Snapshot, assert_dirs_equal, assert_trees_equal,
    assert_trees_equal_with, diff_trees, snapshot,
};
pub use tree::{Generated, TreeBuilder, generate};
