//! The protocol side of `mirror`: validated relative paths, listing entries, the [`Remote`]
//! trait every backend implements, and the backends themselves (one module each).
//!
//! The sync engine only ever talks to a `dyn Remote`; what a backend can and cannot do is
//! stated as data in [`Features`], never as `if protocol == ...` in the engine.

mod entry;
mod error;
pub mod ftp;
pub mod http;
pub mod local;
mod relpath;
mod remote;
pub mod s3;
pub mod sftp;

pub use entry::{Entry, Kind, Listing, ListingProblem, Precision};
pub use error::{ErrorKind, RemoteError};
pub use relpath::{RelPath, RelPathError};
pub use remote::{Features, PathPredicate, ReadStream, Remote, WalkOptions, WriteStream};
