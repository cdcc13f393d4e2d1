//! What the caller hands a run ([`RunOptions`]) and how the run talks back while it works
//! ([`Events`]: mirror.pl's stdout lines with their debug level, and [`Progress`]).

use std::path::PathBuf;

use mirror_remote::RelPath;
use tokio_util::sync::CancellationToken;

/// What to do when another run holds the package's lock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LockMode {
    /// Wait until the other run finishes (or the run is cancelled).
    #[default]
    Wait,
    /// Give up at once: the package is reported as skipped.
    Skip,
}

/// Per-invocation options (command-line flags), the same for every package of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `-n`: compare and print the plan in mirror.pl's `Should ...` forms; change nothing.
    pub dry_run: bool,
    /// `-T`: set local mtimes to the remote times instead of transferring.
    pub times_only: bool,
    /// mirror.pl's `-d` level. The CLI already adds 2 for `-n`. Messages above it are not
    /// even formatted.
    pub debug: u8,
    /// `-U`: append one line per transferred file to this file.
    pub upload_log: Option<PathBuf>,
    /// The directory mirror was started in: relative `local_dir` and `update_log` resolve
    /// against it.
    pub start_dir: PathBuf,
    /// What to do when the package is locked by another run.
    pub lock: LockMode,
    /// Cancelled: start no new work (transfers already running finish or fail).
    pub cancel: CancellationToken,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            dry_run: false,
            times_only: false,
            debug: 0,
            upload_log: None,
            start_dir: PathBuf::from("."),
            lock: LockMode::Wait,
            cancel: CancellationToken::new(),
        }
    }
}

/// Progress of a run, for bars and counters. Paths are destination-relative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The plan is built: this many files (and bytes, as listed) will be transferred.
    PlanReady {
        /// Files to transfer.
        files: u64,
        /// Bytes to transfer, as listed (unknown sizes count 0).
        bytes: u64,
    },
    /// A transfer started.
    FileStarted {
        /// The file.
        path: RelPath,
        /// Its listed size, if known.
        size: Option<u64>,
    },
    /// `n` more bytes of `path` arrived.
    Bytes {
        /// The file.
        path: RelPath,
        /// Bytes since the previous event for this file.
        n: u64,
    },
    /// A transfer ended.
    FileDone {
        /// The file.
        path: RelPath,
        /// True if the file is in place.
        ok: bool,
    },
}

/// Receives what a run has to say. Implementations must be cheap: `message` is called for
/// every line whose level is at most [`RunOptions::debug`].
pub trait Events: Send + Sync {
    /// One of mirror.pl's stdout lines (spec §5.6). `level` 0 is always shown; the binary
    /// shows a message when `level <= debug`.
    fn message(&self, level: u8, text: &str);
    /// A progress event.
    fn progress(&self, event: Progress);
}

/// An [`Events`] that drops everything (for callers that only want the report).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl Events for NoEvents {
    fn message(&self, _level: u8, _text: &str) {}
    fn progress(&self, _event: Progress) {}
}

/// Sends messages to [`Events`] only when the debug level shows them, so a 100,000-entry
/// run does not format 100,000 lines nobody sees.
#[derive(Clone, Copy)]
pub(crate) struct Say<'a> {
    /// Where messages go.
    pub events: &'a dyn Events,
    /// The run's debug level.
    pub debug: u8,
}

impl Say<'_> {
    /// True if a message at `level` is shown.
    pub fn enabled(&self, level: u8) -> bool {
        level <= self.debug
    }

    /// Sends the message `text()` at `level` if it is shown.
    pub fn at(&self, level: u8, text: impl FnOnce() -> String) {
        if self.enabled(level) {
            self.events.message(level, &text());
        }
    }
}
