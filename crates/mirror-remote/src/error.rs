//! Errors from a [`crate::Remote`]: what went wrong, where, and whether trying again may help.

use std::fmt;

/// The class of a remote error; callers branch on this, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The path does not exist.
    NotFound,
    /// The server or filesystem refused access.
    PermissionDenied,
    /// A transient fault: timeout, reset, 421, 5xx that may pass. Worth retrying.
    Transient,
    /// The session is unusable (login refused, server gone): stop using this remote.
    Fatal,
    /// The remote cannot do this at all (see [`crate::Features`]).
    Unsupported,
    /// The server sent a name or target that would leave the tree; refused.
    UnsafeName,
    /// The local side is out of space or read-only: stop the package.
    NoSpace,
    /// Anything else.
    Other,
}

/// An error from a remote operation, carrying the path or URL it concerns (never a
/// password: backends redact credentials before building one).
#[derive(Debug, Clone)]
pub struct RemoteError {
    /// The class of the error.
    pub kind: ErrorKind,
    /// What was being done and to what, e.g. "cannot list `pub/x`".
    pub context: String,
    /// The underlying cause as text (server reply, OS error).
    pub cause: String,
}

impl RemoteError {
    /// Builds an error of `kind` with a context and a cause.
    pub fn new(kind: ErrorKind, context: impl Into<String>, cause: impl fmt::Display) -> Self {
        RemoteError {
            kind,
            context: context.into(),
            cause: cause.to_string(),
        }
    }

    /// Maps an I/O error, keeping its class (not found, permission, no space, transient).
    pub fn io(context: impl Into<String>, err: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match err.kind() {
            K::NotFound => ErrorKind::NotFound,
            K::PermissionDenied => ErrorKind::PermissionDenied,
            K::StorageFull | K::ReadOnlyFilesystem | K::QuotaExceeded => ErrorKind::NoSpace,
            K::TimedOut
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::Interrupted => ErrorKind::Transient,
            _ => ErrorKind::Other,
        };
        RemoteError::new(kind, context, err)
    }

    /// True if trying the same operation again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Transient
    }

    /// True if the remote session should not be used any more.
    pub fn is_fatal(&self) -> bool {
        matches!(self.kind, ErrorKind::Fatal | ErrorKind::NoSpace)
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.cause)
    }
}

impl std::error::Error for RemoteError {}
