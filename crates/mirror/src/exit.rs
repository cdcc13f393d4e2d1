//! Exit statuses. mirror.pl returned only the last package's status (and 0 for a package whose
//! transfers failed); we return the worst outcome of the whole run.

/// Every package succeeded, or there was nothing to do.
pub const OK: u8 = 0;
/// At least one package failed: a transfer, a listing, a lock, the local folder.
pub const FAILED: u8 = 1;
/// Bad command line or configuration.
pub const USAGE: u8 = 2;
